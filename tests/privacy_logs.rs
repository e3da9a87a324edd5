//! Issue 8: logs carry no phone number, name, message body or secret. The real binary runs
//! a full scenario at `SPORTELLO_LOG=trace` (every target, dependencies included) against
//! a fake Graph API on loopback; every line it logs is scanned for the personal data used.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use sportello::channel::whatsapp::sign;

use crate::harness::server::{wa_batch, wa_message, wa_text};
use crate::util::root;

const APP_SECRET: &str = "app-secret-Xq7vRt2";
const VERIFY_TOKEN: &str = "verify-token-Lm4Pz9";
const GRAPH_TOKEN: &str = "graph-token-Hw8Kc3";

// Numbers whose digits occur nowhere else in a log (ids, timestamps).
const ISILI: &str = "393478265913";
const ASSEMINI: &str = "393405518270";
const BRUSSON: &str = "393496071384";
const NOWHERE: &str = "393457731946";
const FORGED: &str = "393419927465";
const BSUID: &str = "IT.7318059264813527";
const NEW_BSUID: &str = "IT.6402918375591624";
const USERNAME: &str = "pellegrinaggio";

/// What the logs must never contain, each with why it is sensitive.
fn needles(admin_token: &str) -> Vec<(String, &'static str)> {
    let mut n: Vec<(String, &str)> = Vec::new();
    for number in [ISILI, ASSEMINI, BRUSSON, NOWHERE, FORGED] {
        let national = &number[2..];
        n.push((number.to_string(), "phone number"));
        n.push((
            format!("+39 {} {} {}", &national[..3], &national[3..6], &national[6..]),
            "phone number",
        ));
        n.push((national.to_string(), "phone number"));
        n.push((number[number.len() - 7..].to_string(), "phone number (last 7 digits)"));
    }
    for word in ["Filiberto", "Zanzottera", "Gonnosfanadiga", "Ermenegilda", "Vuillermoz"] {
        n.push((word.to_string(), "name or birthplace"));
    }
    for date in ["07/08/1961", "1961-08-07", "23/11/1957", "1957-11-23"] {
        n.push((date.to_string(), "birth date"));
    }
    for word in [
        "Quisquilioso",
        "Pizzighettone",
        "Frastuonoso",
        "Ornitorinco",
        "scarafaggione",
        "merda di servizio",
        "Giboulée",
    ] {
        n.push((word.to_string(), "message text"));
    }
    // WhatsApp usernames (issue 23): a business-scoped id and a username are personal data.
    for id in [BSUID, NEW_BSUID] {
        n.push((id.to_string(), "business-scoped user id"));
        n.push((id[3..].to_string(), "business-scoped user id (without its country)"));
    }
    n.push((USERNAME.to_string(), "username"));
    for secret in [APP_SECRET, VERIFY_TOKEN, GRAPH_TOKEN, admin_token] {
        n.push((secret.to_string(), "secret"));
    }
    n
}

async fn fake_graph(State(sent): State<Arc<Mutex<usize>>>, Json(body): Json<Value>) -> Json<Value> {
    if body["status"] != "read" {
        *sent.lock().unwrap() += 1;
    }
    Json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.out.{}", sent.lock().unwrap())}]}))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a one-shot command at trace level; returns its standard error.
fn trace_stderr(args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(args)
        .current_dir(root())
        .env("SPORTELLO_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_scenario_logs_no_personal_data() {
    let sent = Arc::new(Mutex::new(0usize));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let graph = listener.local_addr().unwrap();
    let fake = Router::new()
        .route("/v23.0/{pnid}/messages", post(fake_graph))
        .with_state(sent.clone());
    tokio::spawn(async move { axum::serve(listener, fake).await.unwrap() });

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = tmp.path().join("sportello.toml");
    let mut toml = format!("[whatsapp]\ngraph_url = \"http://{graph}/v23.0\"\n");
    for c in ["isili", "assemini", "brusson", "madone", "isola-delle-femmine"] {
        toml.push_str(&format!("[comuni.{c}]\nwhatsapp_phone_number_id = \"pn-{c}\"\n"));
    }
    std::fs::write(&config, toml).unwrap();
    let bind = format!("127.0.0.1:{}", free_port());
    let mut server = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args([
            "serve",
            "--bind",
            &bind,
            "--data",
            data.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .current_dir(root())
        .env("SPORTELLO_LOG", "trace")
        .env("SPORTELLO_WHATSAPP_APP_SECRET", APP_SECRET)
        .env("SPORTELLO_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
        .env("SPORTELLO_WHATSAPP_TOKEN", GRAPH_TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both streams are drained all along, so that a full pipe never stalls the server.
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("sportello is serving"), "{first}");
    let stdout = std::thread::spawn(move || {
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        first + &rest
    });
    let mut stderr = server.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut all = String::new();
        stderr.read_to_string(&mut all).unwrap();
        all
    });
    // The token is written just after the banner, before the first request is served.
    let mut admin_token = String::new();
    for _ in 0..500 {
        if let Ok(t) = std::fs::read_to_string(data.join("admin.token")) {
            admin_token = t;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(admin_token.trim().len(), 64, "the server writes its admin token");

    // reqwest on rustls needs a process-wide provider (Server::new installs it elsewhere).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let url = format!("http://{bind}/webhook/whatsapp");
    let post = |raw: Vec<u8>, signature: String| {
        let req = http.post(&url).header("x-hub-signature-256", signature).body(raw);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let mut n = 0;
    let mut expected = 0;
    // Sends one signed text and waits for `replies` more messages at the fake Graph API.
    let mut say = async |comune: &str, from: &str, text: &str, replies: usize| {
        n += 1;
        let raw = serde_json::to_vec(&wa_text(comune, from, &format!("wamid.p.{n}"), 1_800_000_000 + n, text)).unwrap();
        assert_eq!(
            post(raw.clone(), sign(APP_SECRET.as_bytes(), &raw)).await,
            200,
            "{comune}"
        );
        expected += replies;
        for _ in 0..500 {
            if *sent.lock().unwrap() >= expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            *sent.lock().unwrap() >= expected,
            "{comune}: waiting for {expected} replies"
        );
    };

    say("isili", ISILI, "REGISTRAZIONE Filiberto Zanzottera - Gonnosfanadiga 07/08/1961 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy", 1).await;
    say("assemini", ASSEMINI, "Buongiorno", 2).await;
    say("assemini", ASSEMINI, "Ermenegilda", 1).await;
    say("assemini", ASSEMINI, "Vuillermoz", 1).await;
    say("assemini", ASSEMINI, "23/11/1957", 2).await;
    say(
        "assemini",
        ASSEMINI,
        "Quisquilioso: quando apre l'ufficio anagrafe di Pizzighettone?",
        1,
    )
    .await;
    say("assemini", ASSEMINI, "che merda di servizio, scarafaggione", 1).await;
    say("brusson", BRUSSON, "JE M'INSCRIS", 1).await;
    say("brusson", BRUSSON, "Giboulée", 0).await;
    say("brusson", BRUSSON, "JE ME DÉSINSCRIS", 1).await;
    say("isili", ISILI, "CANCELLAZIONE", 1).await;
    // A citizen with a username and no number: subscribes, changes number, writes again.
    let mut with_username = wa_text("brusson", "0", "wamid.p.u1", 1_800_000_050, "JE M'INSCRIS");
    let value = &mut with_username["entry"][0]["changes"][0]["value"];
    value["contacts"] = json!([{"profile": {"name": "x", "username": format!("@{USERNAME}")}, "user_id": BSUID}]);
    value["messages"][0].as_object_mut().unwrap().remove("from");
    value["messages"][0]["from_user_id"] = json!(BSUID);
    let raw = serde_json::to_vec(&with_username).unwrap();
    assert_eq!(post(raw.clone(), sign(APP_SECRET.as_bytes(), &raw)).await, 200);
    expected += 1;
    let mut change = with_username.clone();
    let value = &mut change["entry"][0]["changes"][0]["value"];
    value["messages"][0] = json!({"from_user_id": BSUID, "id": "wamid.p.u2", "timestamp": "1800000051", "type": "system",
        "system": {"type": "user_changed_user_id", "user_id": NEW_BSUID, "previous_user_id": BSUID, "body": "changed"}});
    let raw = serde_json::to_vec(&change).unwrap();
    assert_eq!(post(raw.clone(), sign(APP_SECRET.as_bytes(), &raw)).await, 200);
    let mut again = with_username.clone();
    let value = &mut again["entry"][0]["changes"][0]["value"];
    value["messages"][0]["from_user_id"] = json!(NEW_BSUID);
    value["messages"][0]["id"] = json!("wamid.p.u3");
    value["messages"][0]["text"]["body"] = json!("JE ME DÉSINSCRIS");
    let raw = serde_json::to_vec(&again).unwrap();
    assert_eq!(post(raw.clone(), sign(APP_SECRET.as_bytes(), &raw)).await, 200);
    expected += 1;
    for _ in 0..500 {
        if *sent.lock().unwrap() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        *sent.lock().unwrap() >= expected,
        "the citizen with a username was answered"
    );

    // A number no comune has: acknowledged, dropped.
    let mut unknown = wa_text(
        "madone",
        NOWHERE,
        "wamid.p.unknown",
        1_800_000_100,
        "Pizzighettone ATTIVA ISCRIZIONE",
    );
    unknown["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("pn-nobody");
    let raw = serde_json::to_vec(&unknown).unwrap();
    assert_eq!(post(raw.clone(), sign(APP_SECRET.as_bytes(), &raw)).await, 200);
    // A forged signature, and a signed body that is not a notification.
    let raw = serde_json::to_vec(&wa_text(
        "madone",
        FORGED,
        "wamid.p.forged",
        1_800_000_101,
        "Frastuonoso",
    ))
    .unwrap();
    assert_eq!(post(raw.clone(), sign(b"not the secret", &raw)).await, 401);
    let mut raw = serde_json::to_vec(&wa_batch(
        "madone",
        vec![wa_message(
            FORGED,
            "wamid.p.bad",
            1,
            json!({"type": "text", "text": {"body": "Ornitorinco"}}),
        )],
    ))
    .unwrap();
    raw.truncate(raw.len() - 5);
    assert_eq!(post(raw.clone(), sign(APP_SECRET.as_bytes(), &raw)).await, 400);
    let verify =
        format!("http://{bind}/webhook/whatsapp?hub.mode=subscribe&hub.challenge=42&hub.verify_token={VERIFY_TOKEN}");
    assert_eq!(http.get(verify).send().await.unwrap().status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let pid = server.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(server.wait().unwrap().success());
    let mut logs = vec![
        ("serve stderr", stderr.join().unwrap()),
        ("serve stdout", stdout.join().unwrap()),
    ];

    // One-shot commands: their standard output carries replies and records by design.
    let d = data.to_str().unwrap();
    let line = "REGISTRAZIONE Filiberto Zanzottera - Gonnosfanadiga 07/08/1961 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy\n";
    logs.push((
        "chat stderr",
        trace_stderr(
            &["chat", "--comune", "isili", "--from", &format!("+{ISILI}"), "--data", d],
            line,
        ),
    ));
    logs.push((
        "citizen show stderr",
        trace_stderr(
            &[
                "citizen",
                "show",
                "--comune",
                "isili",
                "--from",
                &format!("+{ISILI}"),
                "--data",
                d,
            ],
            "",
        ),
    ));

    let needles = needles(admin_token.trim());
    let mut leaks = Vec::new();
    let mut lines = 0;
    for (source, text) in &logs {
        for line in text.lines() {
            lines += 1;
            // Colours (the fmt layer's ANSI codes) could split a needle: scan the bare text.
            let lower = strip_ansi(line).to_lowercase();
            for (needle, what) in &needles {
                if lower.contains(&needle.to_lowercase()) {
                    leaks.push(format!("{source}: {what} {needle:?} in: {line}"));
                }
            }
        }
    }
    eprintln!("scanned {lines} log lines");
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{logs:#?}");
    }
    assert!(lines > 20, "trace logging produced almost nothing: {logs:?}");
    assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));
}

/// The text of a log line without its ANSI colour sequences (`ESC [ ... m`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
