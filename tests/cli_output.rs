//! Issue 21, the output of the commands that print records (`citizen show`, `broadcast
//! send|status|list`, `report`), through the real binary: piped, they print the JSON (CSV
//! for `report`) they always printed, and `--json` prints the same at a terminal too;
//! `broadcast status --follow` waits until a running server has sent everything, without a
//! progress bar when standard error is not a terminal, and ends with an error for an
//! unknown broadcast. At a terminal (`script` gives the binary one) the text is labelled,
//! and a `send` followed while the server sends draws its bar.

use std::process::{Command, Stdio};

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use sportello::storage::{CitizenKey, CitizenStore, SledStore, Store};

use crate::harness::broadcast::subscriber;
use crate::harness::server::Harness;
use crate::util::{root, sportello};

/// Runs the binary with stdout and stderr piped: (exit code, stdout, stderr).
fn piped(args: &[&str]) -> (i32, String, String) {
    let out = sportello(&root(), args, "");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary in a pseudo-terminal (util-linux `script`): (exit code, what the
/// terminal showed, stdout and stderr mixed, with plain newlines).
fn at_terminal(args: &[&str]) -> (i32, String) {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_sportello"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let out = Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .current_dir(root())
        .env("SPORTELLO_LOG", "warn")
        // indicatif draws nothing on a terminal whose TERM is unset or dumb.
        .env("TERM", "xterm")
        .env("LANG", "it_IT.UTF-8")
        .env_remove("LC_ALL")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs the binary in a pseudo-terminal");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
    )
}

/// Madone subscribers who wrote half an hour ago (no template needed), numbered from 1.
fn madone_subscribers(store: &dyn CitizenStore, n: u64) {
    let wrote = Timestamp::now() - SignedDuration::from_mins(30);
    for i in 1..=n {
        let key = CitizenKey::new("madone", "whatsapp", &format!("39333{i:07}"));
        store.put_citizen(&key, &subscriber("it", &[], wrote)).unwrap();
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn json_flag_prints_what_a_pipe_gets_and_a_terminal_gets_labelled_text() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = SledStore::open(&data).unwrap();
        madone_subscribers(&store, 2);
        store.flush().unwrap();
    }
    let d = data.to_str().unwrap();
    let text = dir.path().join("it.txt");
    std::fs::write(&text, "Avviso").unwrap();
    let (code, out, err) = piped(&[
        "broadcast",
        "send",
        "--comune",
        "madone",
        "--text-it",
        text.to_str().unwrap(),
        "--data",
        d,
    ]);
    assert_eq!(code, 0, "{err}");
    // Piped: the JSON of old, not a word of text.
    let sent = json(&out);
    assert_eq!(sent["audience"]["total"], 2);
    assert!(!out.contains("sportello serve"), "{out}");
    let id = sent["id"].as_u64().unwrap().to_string();

    let show = [
        "citizen",
        "show",
        "--comune",
        "madone",
        "--from",
        "393330000001",
        "--data",
        d,
    ];
    let status = ["broadcast", "status", &id, "--data", d];
    let list = ["broadcast", "list", "--data", d];
    let report = ["report", "--comune", "madone", "--year", "2026", "--data", d];
    let mut piped_json = Vec::new();
    for args in [&show[..], &status, &list] {
        let (code, out, err) = piped(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        // `list` prints one JSON object a line, the others one pretty object.
        let parsed: Vec<Value> = if args[1] == "list" {
            out.lines().map(json).collect()
        } else {
            vec![json(&out)]
        };
        let with_flag = [args, &["--json"]].concat();
        assert_eq!(
            piped(&with_flag).1,
            out,
            "{args:?} --json differs from the piped output"
        );
        // At a terminal, --json still prints the JSON (the pty ends lines with \r\n).
        let (code, shown) = at_terminal(&with_flag);
        assert_eq!((code, shown.trim()), (0, out.trim()), "{args:?} --json at a terminal");
        piped_json.push(parsed);
    }
    assert_eq!(piped_json[0][0]["status"], "subscribed");
    assert_eq!(piped_json[1][0]["state"], "scheduled");
    assert_eq!(piped_json[2].len(), 1);

    // The report: CSV when piped, as before; --json is --format json.
    let (code, csv, _) = piped(&report);
    assert_eq!(code, 0);
    assert!(csv.starts_with("\"Sezione\",\"Voce\",\"Valore\""), "{csv}");
    let as_json = piped(&[&report[..], &["--format", "json"]].concat()).1;
    assert_eq!(json(&as_json)["comune"], "madone");
    assert_eq!(piped(&[&report[..], &["--json"]].concat()).1, as_json);
    assert_eq!(
        at_terminal(&[&report[..], &["--json"]].concat()).1.trim(),
        as_json.trim()
    );
    let (code, _, err) = piped(&[&report[..], &["--json", "--format", "csv"]].concat());
    assert_eq!(code, 2, "--json and --format together are refused: {err}");

    // At a terminal: labelled text in the comune's language, no JSON.
    let (code, shown) = at_terminal(&show);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Cittadino 393330000001 (madone, whatsapp)"), "{shown}");
    assert!(shown.contains("iscritto") && !shown.contains('{'), "{shown}");
    let (code, shown) = at_terminal(&status);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains(&format!("Diffusione n. {id} (madone)")), "{shown}");
    assert!(
        shown.contains("programmata") && shown.contains("Destinatari"),
        "{shown}"
    );
    let (_, shown) = at_terminal(&list);
    assert!(shown.contains(&format!("n. {id} · madone · programmata")), "{shown}");
    let (_, shown) = at_terminal(&report);
    assert!(
        shown.contains("statistiche dell'anno 2026") && shown.contains("Dati anonimi"),
        "{shown}"
    );
    assert!(!shown.contains("\"Sezione\""), "{shown}");
    let (_, shown) = at_terminal(&[
        "citizen",
        "show",
        "--comune",
        "madone",
        "--from",
        "393330000001",
        "--data",
        d,
        "--lang",
        "xx",
    ]);
    assert!(
        shown.contains("Cittadino"),
        "an unknown --lang falls back to the comune's: {shown}"
    );
}

/// Runs the binary off the async threads.
async fn piped_async(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || piped(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap()
}

async fn at_terminal_async(args: Vec<String>) -> (i32, String) {
    tokio::task::spawn_blocking(move || at_terminal(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap()
}

fn strings(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// 200 recipients at the default 80 a second: the sending takes over two seconds.
const RECIPIENTS: u64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_waits_until_the_running_server_has_sent_everything() {
    let h = Harness::start().await;
    madone_subscribers(h.store.as_ref(), RECIPIENTS);
    let d = h.data.to_str().unwrap().to_string();
    let text = h.data.parent().unwrap().join("it.txt");
    std::fs::write(&text, "Avviso").unwrap();
    let send = strings(&[
        "broadcast",
        "send",
        "--comune",
        "madone",
        "--text-it",
        text.to_str().unwrap(),
        "--data",
        &d,
    ]);
    // Piped (stderr too): queued and returned at once, the JSON of old.
    let (code, out, err) = piped_async(send.clone()).await;
    assert_eq!(code, 0, "{err}");
    let id = json(&out)["id"].as_u64().unwrap().to_string();

    let (code, out, err) = piped_async(strings(&["broadcast", "status", &id, "--follow", "--data", &d])).await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["figures"]["queued"], 0, "{v}");
    assert_eq!(v["figures"]["sent"], RECIPIENTS, "{v}");
    assert!(matches!(v["state"].as_str(), Some("sending" | "done")), "{v}");
    // No bar, no escape sequence when stderr is not a terminal.
    assert!(
        !err.contains('\x1b') && !err.contains(&format!("/{RECIPIENTS}")),
        "{err:?}"
    );

    // An unknown broadcast ends at once with the reason, through the server too.
    let (code, out, err) = piped_async(strings(&["broadcast", "status", "999", "--follow", "--data", &d])).await;
    assert_ne!(code, 0);
    assert!(out.is_empty() && err.contains("no broadcast 999"), "{out}{err}");

    // At a terminal `send` follows the sending with its bar, then shows the figures.
    let (code, shown) = at_terminal_async(send).await;
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains(&format!("registrata: {RECIPIENTS} destinatari.")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("/{RECIPIENTS}")) && shown.contains('\x1b'),
        "no bar drawn: {shown:?}"
    );
    let row = |label: &str| {
        let line = shown.lines().find(|l| l.starts_with(&format!("  {label} ")));
        line.and_then(|l| l.split_whitespace().last()).map(str::to_string)
    };
    assert_eq!(row("Inviati"), Some(RECIPIENTS.to_string()), "{shown}");
    assert_eq!(row("In attesa"), Some("0".to_string()), "{shown}");
    assert!(!shown.contains("sportello serve"), "a server runs: {shown}");
    h.stop().await;
}

#[test]
fn follow_without_a_server_says_nothing_sends_and_an_unknown_id_fails() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = SledStore::open(&data).unwrap();
        madone_subscribers(&store, 1);
        store.flush().unwrap();
    }
    let d = data.to_str().unwrap();
    let (code, _, err) = piped(&["broadcast", "status", "7", "--follow", "--data", d]);
    assert_ne!(code, 0);
    assert!(err.contains("no broadcast 7"), "{err}");
    let text = dir.path().join("it.txt");
    std::fs::write(&text, "Avviso").unwrap();
    let send = [
        "broadcast",
        "send",
        "--comune",
        "madone",
        "--text-it",
        text.to_str().unwrap(),
        "--data",
        d,
    ];
    let (code, shown) = at_terminal(&send);
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("registrata: un destinatario.") && shown.contains("sportello serve"),
        "{shown}"
    );
    let listed = piped(&["broadcast", "list", "--data", d]).1;
    let id = json(listed.lines().next().unwrap_or_default())["id"].to_string();
    // Nothing will send it: --follow prints the status and says so, exit 0, no waiting.
    let started = std::time::Instant::now();
    let (code, out, err) = piped(&["broadcast", "status", &id, "--follow", "--data", d]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["state"], "scheduled");
    assert!(err.contains("sportello serve"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
