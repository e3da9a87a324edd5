//! The FAQ through the real binary (`sportello faq ask`, both `--comune` and `--faq`
//! forms) and the evaluation on `eval/faq/`: accuracy (right id, right rule, or
//! right abstention) and abstention rate, printed with `--nocapture`.

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

/// Issue 19's never-tuned set: only the aggregate is printed (its rows must not be read
/// while tuning), and the floors sit below the measured figures (eval/faq/RESULTS.md) so
/// that a regression fails the build.
#[test]
fn eval_never_tuned_set_holds_its_floor() {
    let s = evaluate("eval/faq/heldout3.csv", Thresholds::default());
    let pct = |n: usize| 100.0 * n as f64 / s.total as f64;
    println!(
        "heldout3: {} questions, right {:.1}%, with choices {:.1}%, wrong {:.1}%",
        s.total,
        pct(s.correct),
        pct(s.correct_with_choices),
        pct(s.wrong_answers)
    );
    assert!(s.total >= 240);
    assert!(pct(s.correct) >= 64.0, "right fell below 64%");
    assert!(pct(s.wrong_answers) <= 7.0, "wrong answers above 7%");
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
