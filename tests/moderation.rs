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
        serde_json::json!({"verdict": "block", "rule": "threat", "spans": [{"start": 0, "end": 10, "rule": "threat", "text": "ti ammazzo"}]})
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
    let (ok, out) = sportello(
        &["check", "--lang", "it"],
        &format!("{long}\n\u{0}\u{FEFF}🤬\n\n"),
    );
    assert!(ok);
    assert_eq!(out.lines().count(), 3);
}

#[test]
fn eval_heldout_meets_the_targets() {
    let (ok, out) = sportello(&["eval", "eval/moderation/heldout.csv", "--json"], "");
    assert!(ok, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    let macro_f1 = report["macro_f1"].as_f64().expect("macro_f1");
    let fp = report["false_positive_rate"]
        .as_f64()
        .expect("false_positive_rate");
    assert!(report["rows"].as_u64().expect("rows") >= 100);
    assert!(macro_f1 >= 0.80, "macro-F1 {macro_f1}");
    assert!(fp <= 0.01, "false-positive rate {fp}");
    assert_eq!(report["rules"].as_array().expect("rules").len(), 7);
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
