//! Moderation through the real binary (issue 6): `sportello moderation check` in Italian
//! and French, and `sportello moderation eval` on the held-out set against the targets.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `sportello moderation ARGS` with `stdin`, returns (exit success, stdout).
fn sportello(args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .arg("moderation")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sportello");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait sportello");
    (
        out.status.success(),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
    )
}

fn verdicts(lang: &str, lines: &[&str]) -> Vec<serde_json::Value> {
    let (ok, out) = sportello(&["check", "--lang", lang], &(lines.join("\n") + "\n"));
    assert!(ok);
    let got: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(got.len(), lines.len());
    got
}

#[test]
fn check_italian() {
    let got = verdicts(
        "it",
        &[
            "È una vergogna, sono tre settimane che non passano a ritirare l'umido!",
            "ti ammazzo",
            "che m.e.r.d.a",
            "mi hanno chiamato 'terrone' per strada, è inaccettabile",
            "il numero di Mario è 347 1234567",
        ],
    );
    assert_eq!(
        got[0],
        serde_json::json!({"verdict": "allow", "rule": null, "spans": []})
    );
    assert_eq!(
        got[1],
        serde_json::json!({"verdict": "block", "rule": "threat", "spans": [{"start": 0, "end": 10, "rule": "threat", "text": "ti ammazzo", "why": {"target": "you", "predicate": "violence"}}]})
    );
    assert_eq!(got[2]["verdict"], "withhold");
    assert_eq!(got[2]["rule"], "vulgar");
    assert_eq!(got[2]["spans"][0]["text"], "m.e.r.d.a");
    assert_eq!(got[3]["verdict"], "allow");
    assert_eq!(got[4]["rule"], "personal-data");
    assert_eq!(got[4]["spans"][0]["text"], "347 1234567");
}

#[test]
fn check_french() {
    let got = verdicts(
        "fr",
        &[
            "Quels sont les horaires de la mairie ?",
            "je vais te tuer",
            "t'es un connard",
            "J'habite 12 rue de la Paix",
        ],
    );
    let rules: Vec<&serde_json::Value> = got.iter().map(|v| &v["rule"]).collect();
    assert_eq!(
        rules,
        [
            &serde_json::Value::Null,
            &"threat".into(),
            &"personal-attack".into(),
            &serde_json::Value::Null
        ]
    );
    assert_eq!(got[1]["verdict"], "block");
    assert_eq!(got[2]["verdict"], "withhold");
}

#[test]
fn check_survives_odd_input() {
    let long = "a".repeat(100_000);
    let (ok, out) = sportello(&["check", "--lang", "it"], &format!("{long}\n\u{0}\u{FEFF}🤬\n\n"));
    assert!(ok);
    assert_eq!(out.lines().count(), 3);
}

#[test]
fn eval_heldout_meets_the_targets() {
    let (ok, out) = sportello(&["eval", "eval/moderation/heldout.csv", "--json"], "");
    assert!(ok, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    let macro_f1 = report["macro_f1"].as_f64().expect("macro_f1");
    let fp = report["false_positive_rate"].as_f64().expect("false_positive_rate");
    assert!(report["rows"].as_u64().expect("rows") >= 100);
    assert!(macro_f1 >= 0.80, "macro-F1 {macro_f1}");
    assert!(fp <= 0.01, "false-positive rate {fp}");
    assert_eq!(report["rules"].as_array().expect("rules").len(), 7);
}

/// Issue 18's targets on the functional suite's never-tuned parts: withheld/allowed
/// macro-F1 at least 0.85 and at most 1% of allowed messages withheld, per language.
#[test]
fn functional_heldout_parts_meet_the_targets() {
    for lang in ["it", "fr"] {
        let path = format!("eval/moderation/functional/{lang}/heldout.csv");
        let (ok, out) = sportello(&["eval", &path, "--json"], "");
        assert!(ok, "{out}");
        let report: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
        let f1 = report["binary_macro_f1"].as_f64().expect("binary_macro_f1");
        let fp = report["false_positive_rate"].as_f64().expect("false_positive_rate");
        assert!(report["rows"].as_u64().expect("rows") >= 1000, "{lang}");
        assert!(
            report["functionalities"].as_array().expect("functionalities").len() >= 25,
            "{lang}"
        );
        assert!(f1 >= 0.85, "{lang}: withheld/allowed macro-F1 {f1}");
        assert!(fp <= 0.01, "{lang}: false-positive rate {fp}");
    }
}

#[test]
fn eval_prints_a_table() {
    let (ok, out) = sportello(&["eval", "eval/moderation/dev.csv"], "");
    assert!(ok);
    assert!(out.contains("macro-F1"));
    assert!(out.contains("personal-data"));
    assert!(out.contains("false-positive rate"));
}

#[test]
fn eval_rejects_a_bad_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "text,label\nciao,allow\n").expect("write");
    let (ok, _) = sportello(&["eval", path.to_str().expect("utf-8 path")], "");
    assert!(!ok);
}

/// The review loop through the real binary: a withheld message becomes a case; dismissing
/// the case that blocked a citizen lifts the block; a report exports a complete record.
#[test]
fn withheld_messages_are_queued_decided_and_exported() {
    use crate::util::{root, sportello};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let chat = |from: &str, input: &str| {
        let out = sportello(
            &root(),
            &["chat", "--comune", "assemini", "--from", from, "--json", "--data", data],
            input,
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let registered = "Buongiorno\nMario\nRossi\n12/03/1980\n";
    let out = chat("3330000101", &format!("{registered}che merda di servizio\n"));
    assert!(out.contains("\"key\":\"moderation-withheld\""), "{out}");
    let out = chat("3330000102", &format!("{registered}ti ammazzo\nuna domanda\n"));
    assert!(out.contains("\"key\":\"moderation-blocked\""), "{out}");
    assert!(
        !out.contains("assemini-question-received"),
        "a blocked citizen gets nothing more: {out}"
    );

    let queue = sportello(
        &root(),
        &["moderation", "queue", "--comune", "assemini", "--data", data],
        "",
    );
    let cases: Vec<serde_json::Value> = String::from_utf8_lossy(&queue.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(cases.len(), 2, "{cases:?}");
    assert_eq!(cases[0]["rule"], "vulgar");
    assert_eq!(cases[1]["rule"], "threat");
    assert_eq!(cases[1]["blocked"], true);
    let threat_id = cases[1]["id"].to_string();
    let vulgar_id = cases[0]["id"].to_string();

    // Dismissing the threat case lifts the block it caused.
    let out = sportello(
        &root(),
        &[
            "moderation",
            "decide",
            "--comune",
            "assemini",
            &threat_id,
            "dismiss",
            "--by",
            "urp@comune",
            "--data",
            data,
        ],
        "",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let show = sportello(
        &root(),
        &[
            "citizen",
            "show",
            "--comune",
            "assemini",
            "--from",
            "3330000102",
            "--data",
            data,
        ],
        "",
    );
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["status"], "new");
    // Deciding twice is refused.
    let again = sportello(
        &root(),
        &[
            "moderation",
            "decide",
            "--comune",
            "assemini",
            &threat_id,
            "confirm",
            "--by",
            "x",
            "--data",
            data,
        ],
        "",
    );
    assert!(!again.status.success());

    // Confirm, then report, then export the record for the authorities.
    for d in ["confirm", "report"] {
        let out = sportello(
            &root(),
            &[
                "moderation",
                "decide",
                "--comune",
                "assemini",
                &vulgar_id,
                d,
                "--by",
                "urp@comune",
                "--note",
                "segnalato",
                "--data",
                data,
            ],
            "",
        );
        assert!(out.status.success(), "{d}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let export = sportello(
        &root(),
        &[
            "moderation",
            "export",
            "--comune",
            "assemini",
            &vulgar_id,
            "--data",
            data,
        ],
        "",
    );
    let r: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(r["status"], "reported");
    assert_eq!(r["sender"], "393330000101");
    assert_eq!(r["sender_name"], "Mario Rossi");
    assert_eq!(r["message"], "che merda di servizio");
    assert_eq!(r["rule_description"], "linguaggio offensivo o scurrile");
    assert_eq!(r["comune_name"], "Comune di Assemini");
    assert!(
        r["received_at"].as_str().unwrap().contains("CE"),
        "Italian time: {}",
        r["received_at"]
    );
    let queue = sportello(
        &root(),
        &["moderation", "queue", "--comune", "assemini", "--data", data],
        "",
    );
    assert!(queue.stdout.is_empty(), "nothing pending");
}
