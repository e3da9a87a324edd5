//! The FAQ through the real binary (`sportello faq ask`, both `--comune` and `--faq`
//! forms) and the evaluation on `eval/faq/`: accuracy (right id, right rule, or
//! right abstention) and abstention rate, printed with `--nocapture`.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use sportello::faq::{Answer, Faq, Thresholds};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs `sportello faq ask ARGS` with `input` on stdin; returns stdout lines as JSON.
fn ask(args: &[&str], input: &str) -> Vec<serde_json::Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["faq", "ask"])
        .args(args)
        .current_dir(ROOT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn binary_answers_by_comune() {
    let out = ask(
        &["--comune", "assemini"],
        "Iscrivimi alla lista broadcast per favore\nquanto costa una pizza margherita\nvoglio segnalare una buca in via Roma\n\ncome mi iscrivo alla lista?\n",
    );
    assert_eq!(out.len(), 5, "one line out per line in: {out:?}");
    assert_eq!(out[0]["id"], "come-iscriversi");
    assert!(out[0]["score"].as_f64().unwrap() > 0.0);
    assert_eq!(out[0]["choices"], serde_json::json!([]));
    assert!(out[1]["id"].is_null());
    assert_eq!(out[2]["out_of_scope"], true);
    assert_eq!(out[2]["redirect"], "segnalazioni");
    assert!(out[3]["id"].is_null());
    // A near tie: no id, the candidates as choices for buttons.
    assert!(out[4]["id"].is_null());
    let choices = out[4]["choices"].as_array().unwrap();
    assert!(
        choices.len() >= 2 && choices.iter().any(|c| c["id"] == "come-iscriversi"),
        "{choices:?}"
    );
}

#[test]
fn binary_french_and_dir() {
    let out = ask(
        &["--comune", "brusson", "--dir", &format!("{ROOT}/faq"), "--lang", "fr"],
        "je veux me désinscrire\n",
    );
    assert_eq!(out[0]["id"], "come-cancellarsi");
    assert_eq!(out[0]["lang"], "fr");
}

#[test]
fn binary_answers_from_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("faq.csv");
    std::fs::write(&path, "note;id;question;answer\nx;orari;\"orari di apertura; quando siete aperti\";\"Lun-ven 9-13\"\n;costo;il servizio è gratuito?;Sì\n").unwrap();
    let out = ask(
        &["--faq", path.to_str().unwrap()],
        "quando siete aperti?\nservizio gratuito?\n",
    );
    assert_eq!(out[0]["id"], "orari");
    assert_eq!(out[1]["id"], "costo");
}

#[test]
fn binary_reports_a_missing_comune() {
    let out = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["faq", "ask", "--comune", "atlantide"])
        .current_dir(ROOT)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("atlantide"));
}

/// Accuracy and abstention rate on one labelled file, with the misses listed.
struct Score {
    total: usize,
    correct: usize,
    /// Correct counting a near tie that offers the expected id among its buttons.
    correct_with_choices: usize,
    abstained: usize,
    /// Questions that should have been answered but were not.
    wrongly_abstained: usize,
    /// Answered (or pointed elsewhere) with the wrong id and without it among choices.
    wrong_answers: usize,
    misses: Vec<String>,
}

fn evaluate(file: &str, thresholds: Thresholds) -> Score {
    let text = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
    let mut s = Score {
        total: 0,
        correct: 0,
        correct_with_choices: 0,
        abstained: 0,
        wrongly_abstained: 0,
        wrong_answers: 0,
        misses: Vec::new(),
    };
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let fields = split_csv_line(line);
        let [comune, lang, question, expected] = [&fields[0], &fields[1], &fields[2], &fields[3]];
        let faq = Faq::load(&Path::new(ROOT).join("faq").join(format!("{comune}.toml")))
            .unwrap()
            .with_thresholds(thresholds);
        let (got, in_choices) = match faq.ask(question, lang) {
            Answer::Entry { entry, .. } => (entry.id.clone(), false),
            Answer::Choices(c) => (
                c.iter().map(|(e, _)| e.id.as_str()).collect::<Vec<_>>().join("|"),
                c.iter().any(|(e, _)| &e.id == expected),
            ),
            Answer::OutOfScope { redirect, .. } => {
                (faq.rule_for(redirect).map(|r| r.id.clone()).unwrap_or_default(), false)
            }
            Answer::Abstain { .. } => (String::new(), false),
        };
        s.total += 1;
        s.abstained += usize::from(got.is_empty());
        if &got == expected {
            s.correct += 1;
            s.correct_with_choices += 1;
        } else {
            s.correct_with_choices += usize::from(in_choices);
            s.wrongly_abstained += usize::from(got.is_empty());
            s.wrong_answers += usize::from(!got.is_empty() && !in_choices);
            s.misses.push(format!(
                "{comune} [{lang}] {question:?}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    s
}

/// The eval files are simple: four columns, quotes only around a whole field.
fn split_csv_line(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn report(file: &str) -> Score {
    let s = evaluate(file, Thresholds::default());
    let pct = |n: usize| 100.0 * n as f64 / s.total as f64;
    println!(
        "{file}: {} questions, accuracy {}/{} = {:.1}% (with choices {:.1}%), abstained {} = {:.1}% \
         ({} of them wrongly), wrong answers {} = {:.1}%",
        s.total,
        s.correct,
        s.total,
        pct(s.correct),
        pct(s.correct_with_choices),
        s.abstained,
        pct(s.abstained),
        s.wrongly_abstained,
        s.wrong_answers,
        pct(s.wrong_answers)
    );
    for m in &s.misses {
        println!("  miss: {m}");
    }
    s
}

#[test]
fn eval_dev_set() {
    let s = report("eval/faq/dev.csv");
    assert!(s.total >= 40);
}

/// The held-out set: the bar is set below the measured figure (see RESULTS.md) so
/// that a regression fails the build.
#[test]
fn eval_held_out_set() {
    let s = report("eval/faq/questions.csv");
    assert!(s.total >= 80);
    assert!(s.correct * 100 >= s.total * 70, "accuracy fell below 70%");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// No input makes the matcher panic, and every score it reports is finite.
    #[test]
    fn any_text_gets_a_decision(q in "\\PC{0,200}", lang in "(it|fr|de|)") {
        let faq = Faq::load(&Path::new(ROOT).join("faq/brusson.toml")).unwrap();
        match faq.ask(&q, &lang) {
            Answer::Entry { score, .. } | Answer::OutOfScope { score, .. } => proptest::prop_assert!(score.is_finite()),
            Answer::Choices(c) => proptest::prop_assert!(c.len() >= 2 && c.iter().all(|(_, s)| s.is_finite())),
            Answer::Abstain { best, .. } => proptest::prop_assert!(best.is_none_or(f32::is_finite)),
        }
        let _ = Faq::from_csv_str(&q);
        let _ = Faq::from_toml_str(&q);
    }
}

// ---------------------------------------------------------------------------------------
// Register: the answers go to citizens verbatim, so they must speak as the rest of the bot
// does, to one citizen with the formal "Lei" in Italian and "vous" in French.

/// Italian pronouns and possessives that address the reader as "tu" or "voi".
const IT_PRONOUNS: &[&str] = &[
    "tu", "ti", "te", "tuo", "tua", "tuoi", "tue", "voi", "vi", "ve", "vostro", "vostra", "vostri", "vostre",
];

/// Verbs the answers use to tell the citizen what to do: their "tu" and "voi" forms are
/// built by `ItalianForms::new` (`inviate`, `riceverete`, `iscrivetevi`, `iscrivervi`…).
const IT_VERBS: &[&str] = &[
    "accettare",
    "attendere",
    "attivare",
    "cancellare",
    "chiedere",
    "cliccare",
    "compilare",
    "consultare",
    "contattare",
    "dichiarare",
    "disattivare",
    "inserire",
    "inviare",
    "iscrivere",
    "preferire",
    "prenotare",
    "revocare",
    "riattivare",
    "ricevere",
    "ricordare",
    "rimuovere",
    "rispondere",
    "rivolgere",
    "salvare",
    "scrivere",
    "trasmettere",
    "usare",
    "utilizzare",
];

/// Verbs whose bare "voi" form is also an ordinary word (`chiamate`, `telefonate` and
/// `mandate` are nouns, `registrate` and `indicate` participles): only their other
/// second-person forms count (`chiamateci`, `telefonerete`, `registratevi`).
const IT_VERBS_BARE_FORM_IS_A_WORD: &[&str] = &[
    "allegare",
    "chiamare",
    "controllare",
    "indicare",
    "mandare",
    "presentare",
    "registrare",
    "telefonare",
    "verificare",
];

/// Irregular "tu" and "voi" forms. Left out on purpose: `sei` (six), `dai` (from the),
/// `date` (dates), `state` and `andate` (participles).
const IT_IRREGULAR: &[&str] = &[
    "puoi",
    "potete",
    "potrai",
    "potrete",
    "potresti",
    "potreste",
    "potevi",
    "potevate",
    "devi",
    "dovete",
    "dovrai",
    "dovrete",
    "dovresti",
    "dovreste",
    "dovevi",
    "dovevate",
    "vuoi",
    "volete",
    "vorrai",
    "vorrete",
    "vorresti",
    "vorreste",
    "siete",
    "sarai",
    "sarete",
    "saresti",
    "sareste",
    "eri",
    "eravate",
    "hai",
    "avete",
    "avrai",
    "avrete",
    "avresti",
    "avreste",
    "avevi",
    "avevate",
    "fai",
    "fate",
    "farai",
    "farete",
    "faresti",
    "fareste",
    "darai",
    "darete",
    "sai",
    "sapete",
    "saprai",
    "saprete",
    "proponete",
    "proporrete",
    "opponete",
    "opporrete",
    "fammi",
    "dammi",
    "dimmi",
];

/// Irregular infinitives (final `e` dropped) that take `vi`/`ti` (`opporvi`, `farvi`).
/// `esservi` is left out: "può esservi un ritardo" is impersonal.
const IT_IRREGULAR_INFINITIVES: &[&str] = &["poter", "dover", "aver", "far", "dar", "oppor", "propor", "saper"];

/// Irregular "voi" imperatives that count with a pronoun attached (`dateci`, `fatevi`).
const IT_IRREGULAR_IMPERATIVES: &[&str] = &["date", "fate", "dite", "state", "andate"];

/// Pronouns attached to an imperative (`iscrivetevi`, `scriveteci`, `inviatelo`).
const CLITICS: &[&str] = &[
    "vi", "ti", "ci", "mi", "lo", "la", "le", "li", "ne", "gli", "velo", "vela", "veli", "vele", "vene", "telo",
    "tela", "teli", "tele", "tene", "celo", "cela", "cene", "melo", "mela", "mene", "glielo", "gliela", "gliene",
];

/// Pronouns attached to an infinitive or gerund that name the reader as "tu" or "voi"
/// (`iscrivervi`, `cancellarti`); `iscriversi`, `inviarLe`, `chiederle` are fine.
const YOU_CLITICS: &[&str] = &[
    "vi", "ti", "velo", "vela", "veli", "vele", "vene", "telo", "tela", "teli", "tele", "tene",
];

/// French informal address: "tu" and its pronouns and possessives.
const FR_PRONOUNS: &[&str] = &["tu", "te", "toi", "ton", "ta", "tes"];

/// Second-person forms of `IT_VERBS` and the irregular ones.
struct ItalianForms {
    /// Whole words that address the reader informally.
    bare: HashSet<String>,
    /// Imperatives that count with any pronoun attached: (form, `ti`/`te` allowed too).
    imperatives: Vec<(String, bool)>,
    /// Infinitive and gerund stems that count with `vi`/`ti` attached.
    stems: Vec<String>,
}

impl ItalianForms {
    fn new() -> ItalianForms {
        let mut f = ItalianForms {
            bare: IT_PRONOUNS.iter().chain(IT_IRREGULAR).map(|w| w.to_string()).collect(),
            imperatives: IT_IRREGULAR_IMPERATIVES.iter().map(|w| (w.to_string(), true)).collect(),
            stems: IT_IRREGULAR_INFINITIVES.iter().map(|w| w.to_string()).collect(),
        };
        for (verb, bare_is_a_word) in IT_VERBS
            .iter()
            .map(|v| (v, false))
            .chain(IT_VERBS_BARE_FORM_IS_A_WORD.iter().map(|v| (v, true)))
        {
            let (stem, class) = verb.split_at(verb.len() - 3);
            f.stems.push(verb[..verb.len() - 1].to_string()); // inviar(vi), iscriver(ti)
            let mut bare: Vec<String> = Vec::new();
            match class {
                "are" => {
                    // cliccare -> cliccherete, cominciare -> comincerete
                    let fut = if stem.ends_with('c') || stem.ends_with('g') {
                        format!("{stem}h")
                    } else if stem.ends_with("ci") || stem.ends_with("gi") {
                        stem[..stem.len() - 1].to_string()
                    } else {
                        stem.to_string()
                    };
                    if !bare_is_a_word {
                        bare.push(format!("{stem}ate"));
                    }
                    for end in ["erete", "ereste", "erai", "eresti"] {
                        bare.push(format!("{fut}{end}"));
                    }
                    bare.extend([format!("{stem}avate"), format!("{stem}avi")]);
                    f.imperatives.push((format!("{stem}ate"), true));
                    // `cancellati` is a participle: the singular imperative counts with
                    // other pronouns only (`contattaci`, `invialo`).
                    f.imperatives.push((format!("{stem}a"), false));
                    f.stems.push(format!("{stem}ando"));
                }
                "ere" | "ire" => {
                    let v = &class[..1]; // e, i
                    if !bare_is_a_word {
                        bare.push(format!("{stem}{v}te"));
                    }
                    for end in ["rete", "reste", "rai", "resti", "vate", "vi"] {
                        bare.push(format!("{stem}{v}{end}"));
                    }
                    bare.push(format!("{stem}i")); // ricevi, scrivi
                    f.imperatives.push((format!("{stem}{v}te"), true));
                    f.imperatives.push((format!("{stem}i"), true)); // iscriviti
                    if class == "ire" {
                        bare.push(format!("{stem}isci")); // inserisci
                        f.imperatives.push((format!("{stem}isci"), true));
                    }
                    f.stems.push(format!("{stem}endo"));
                }
                _ => panic!("{verb}: not an infinitive"),
            }
            f.bare.extend(bare);
        }
        f
    }

    /// Whether this (lowercase) word addresses the reader as "tu" or "voi".
    fn is_informal(&self, word: &str) -> bool {
        self.bare.contains(word)
            || self.imperatives.iter().any(|(form, ti)| {
                word.strip_prefix(form.as_str())
                    .is_some_and(|rest| CLITICS.contains(&rest) && (*ti || !rest.starts_with('t')))
            })
            || self.stems.iter().any(|stem| {
                word.strip_prefix(stem.as_str())
                    .is_some_and(|rest| YOU_CLITICS.contains(&rest))
            })
    }
}

/// `text` without the spans in quotes ("Iscrivimi", «ISCRIVITI», “…”): keywords and
/// button labels are quoted as the citizen types or sees them, not addressed to anyone.
fn unquoted(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find(['"', '«', '“']) {
        let q = rest[open..].chars().next().unwrap();
        let close = match q {
            '«' => '»',
            '“' => '”',
            _ => '"',
        };
        let after = &rest[open + q.len_utf8()..];
        match after.find(close) {
            Some(end) => {
                out.push_str(&rest[..open]);
                out.push(' ');
                rest = &after[end + close.len_utf8()..];
            }
            // An unmatched quote hides nothing.
            None => {
                out.push_str(&rest[..open + q.len_utf8()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The informal words of `text` written in `lang` (`it`, `fr`), in order, as written.
fn informal_words(forms: &ItalianForms, lang: &str, text: &str) -> Vec<String> {
    let text = unquoted(text);
    let mut found = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !c.is_alphabetic() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphabetic() {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        let word = &text[start..end];
        let lower = word.to_lowercase();
        // Elided "ti"/"te": t'iscrivi, t'inscrire.
        let elided = lower == "t" && chars.peek().is_some_and(|&(_, c)| c == '\'' || c == '’');
        let informal = elided
            || match lang {
                "it" => forms.is_informal(&lower),
                "fr" => FR_PRONOUNS.contains(&lower.as_str()),
                _ => false,
            };
        if informal {
            found.push(if elided { format!("{word}'") } else { word.to_string() });
        }
    }
    found
}

/// Every answer and out-of-scope redirect of every `faq/*.toml` in `dir` that addresses
/// the citizen informally: "faq/<comune>.toml <kind> <id> [<lang>]: words in text".
fn informal_answers(dir: &Path) -> Vec<String> {
    let forms = ItalianForms::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no FAQ files in {}", dir.display());
    let mut offences = Vec::new();
    for path in files {
        let comune = path.file_stem().unwrap().to_string_lossy().into_owned();
        let faq = Faq::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let texts = faq
            .entries()
            .iter()
            .map(|e| ("entry", &e.id, &e.lang, &e.answer))
            .chain(
                faq.out_of_scope()
                    .iter()
                    .map(|r| ("out_of_scope", &r.id, &r.lang, &r.redirect)),
            );
        for (kind, id, lang, text) in texts {
            assert!(
                lang == "it" || lang == "fr",
                "{comune} {kind} {id}: language {lang:?} is not checked"
            );
            let words = informal_words(&forms, lang, text);
            if !words.is_empty() {
                offences.push(format!(
                    "faq/{comune}.toml {kind} {id:?} [{lang}]: informal {words:?} in {text:?}"
                ));
            }
        }
    }
    offences
}

/// Italian answers speak to one citizen with "Lei" (invii, può, La, Suo), never "voi" or
/// "tu" (inviate, potete, vi, vostro, tu, ti); French answers use "vous", never "tu".
#[test]
fn faq_answers_use_the_formal_register() {
    // The detector itself: the informal forms the answers used to have, and ordinary
    // words that merely look like them.
    let forms = ItalianForms::new();
    let it = |t: &str| informal_words(&forms, "it", t);
    for bad in [
        "inviate",
        "Potete",
        "scrivete",
        "riceverete",
        "Riceverete",
        "iscrivetevi",
        "cancellatevi",
        "iscrivervi",
        "cancellarvi",
        "opporvi",
        "trasmettervi",
        "cliccherete",
        "preferite",
        "inserite",
        "vi",
        "ve",
        "voi",
        "vostro",
        "vostra",
        "tu",
        "ti",
        "te",
        "tuo",
        "tuoi",
        "puoi",
        "iscriviti",
        "contattaci",
        "scriveteci",
        "chiamateci",
        "dovete",
        "avete",
        "t'aspettiamo",
        "inserisci",
    ] {
        assert_eq!(
            it(&format!("Per favore {bad} subito.")).len(),
            1,
            "{bad:?} should count as informal"
        );
    }
    for ok in [
        "date",
        "parte",
        "sete",
        "lite",
        "mite",
        "gite",
        "abitate",
        "private",
        "rete",
        "parete",
        "foreste",
        "brevi",
        "certi",
        "leggi",
        "sei",
        "dai",
        "chiamate",
        "telefonate",
        "mandate",
        "cancellati",
        "Le",
        "La",
        "Suo",
        "Sua",
        "Lei",
        "iscriversi",
        "cancellarsi",
        "opporsi",
        "inviarLe",
        "trasmetterLe",
        "chiederle",
        "invii",
        "può",
        "Riceverà",
        "contatti",
        "scriva",
        "usi",
        "accetti",
        "clicchi",
        "inserisca",
        "preferisce",
        "deve",
        "esservi",
        "contattato/a",
        "ricevute",
        "approvate",
    ] {
        assert_eq!(
            it(&format!("Per favore {ok} subito.")),
            Vec::<String>::new(),
            "{ok:?} is not informal"
        );
    }
    assert_eq!(
        it(r#"Scriva "ISCRIVITI" o «cancellatevi»."#),
        Vec::<String>::new(),
        "quoted keywords"
    );
    assert_eq!(
        it(r#"Cliccate il tasto "ISCRIVITI": riceverete"#),
        ["Cliccate", "riceverete"]
    );
    let fr = |t: &str| informal_words(&forms, "fr", t);
    assert_eq!(
        fr("Envoyez ton message et tu recevras, à toi, ta, tes, te, t'inscrire"),
        ["ton", "tu", "toi", "ta", "tes", "te", "t'"]
    );
    assert_eq!(
        fr("Vous recevrez tout « TU » à temps ; a-t-il tard, toute"),
        Vec::<String>::new()
    );

    let offences = informal_answers(&Path::new(ROOT).join("faq"));
    assert!(
        offences.is_empty(),
        "{} FAQ answer(s) address the citizen informally (write to one citizen with \"Lei\" in \
         Italian, \"vous\" in French; words in quotes are not checked):\n{}",
        offences.len(),
        offences.join("\n")
    );
}

/// Issue 19: while a question waits for staff, the citizen is offered the entries that come
/// closest as buttons, or, when none does, the office's contacts; a tapped entry is counted
/// anonymously, as is an entry answered with.
#[test]
fn a_handed_over_question_gets_close_entries_or_the_office_contacts() {
    use sportello::dialogue::{step_with, Aids, Body, Citizen, Event, Inbound};
    let locales = sportello::i18n::Locales::embedded().expect("locales");
    let flows = sportello::flow::load_embedded(&locales).expect("flows");
    let flow = flows.get("assemini").expect("assemini");
    // A small FAQ, so that what is close and what is not does not move with the data.
    let faq = Faq::from_toml_str(
        r#"
[[entry]]
id = "orari"
lang = "it"
questions = ["quali sono gli orari del servizio whatsapp", "quando rispondete ai messaggi"]
answer = "Dal lunedì al venerdì, 8:30-13:00."

[[entry]]
id = "come-cancellarsi"
lang = "it"
questions = ["come mi cancello dalla lista broadcast"]
answer = "Scriva CANCELLAMI."

[[entry]]
id = "tempi-risposta"
lang = "it"
questions = ["in quanto tempo rispondete ai messaggi whatsapp"]
answer = "Entro due giorni lavorativi."
"#,
    )
    .expect("faq");
    let aids = Aids {
        policy: None,
        faq: Some(&faq),
    };
    let now: jiff::Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
    let step = |c: Option<&Citizen>, text: &str| {
        let inbound = Inbound {
            id: format!("wamid.faq.{text}"),
            body: Body::Text { text: text.to_string() },
        };
        step_with(flow, aids, c, &inbound, now)
    };
    let mut c: Option<Citizen> = None;
    for t in ["buongiorno", "Mario", "Rossi", "12/03/1980"] {
        c = step(c.as_ref(), t).citizen;
    }
    let keys = |o: &sportello::dialogue::Outcome| o.replies.iter().map(|r| r.key.clone()).collect::<Vec<_>>();

    // Close to two entries, sure of neither: buttons, and the question still goes to staff.
    let out = step(
        c.as_ref(),
        "rispondete ai messaggi anche di sabato pomeriggio in piazza?",
    );
    let offered = out
        .replies
        .iter()
        .find(|r| r.key == "faq-suggestions")
        .expect("suggestions");
    assert!(!offered.buttons.is_empty() && offered.buttons.len() <= 3, "{offered:?}");
    assert!(offered.buttons.iter().all(|b| b.id.starts_with("faq:")));
    assert!(
        out.events.iter().any(|e| matches!(e, Event::Question { .. })),
        "{:?}",
        keys(&out)
    );

    // Nothing close: the office's contacts from the flow, and the question goes to staff.
    let out = step(c.as_ref(), "il mio gatto nero è scappato ieri sera dal giardino");
    let contacts = out
        .replies
        .iter()
        .find(|r| r.key == "faq-contacts")
        .unwrap_or_else(|| panic!("contacts: {:?}", keys(&out)));
    let args = format!("{:?}", contacts.args);
    assert!(
        args.contains("800 195678") && args.contains("urp@comune.assemini.ca.it"),
        "{args}"
    );
    assert!(out.events.iter().any(|e| matches!(e, Event::Question { .. })));

    // A sure answer and a tapped button are counted per entry, with nothing else.
    let out = step(c.as_ref(), "come mi cancello dalla lista broadcast");
    assert!(out.events.contains(&Event::FaqServed {
        entry: "come-cancellarsi".into(),
        picked: false
    }));
    let inbound = Inbound {
        id: "wamid.faq.tap".into(),
        body: Body::Button { id: "faq:orari".into() },
    };
    let out = step_with(flow, aids, c.as_ref(), &inbound, now);
    assert_eq!(keys(&out), ["faq-answer"]);
    assert!(out.events.contains(&Event::FaqServed {
        entry: "orari".into(),
        picked: true
    }));
}
