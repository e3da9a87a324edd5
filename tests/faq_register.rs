//! The FAQ answers speak as the rest of the bot does (issue 19): they go to citizens
//! verbatim, so every answer and out-of-scope redirect of every `faq/*.toml` addresses one
//! citizen with the formal "Lei" in Italian and "vous" in French.

use std::collections::HashSet;
use std::path::Path;

use sportello::faq::Faq;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

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
