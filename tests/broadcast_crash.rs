//! Issue #5: the real `sportello serve` killed with SIGKILL in the middle of a broadcast and
//! restarted, with a fake Graph API in this process that counts what each citizen received.

use sportello::storage::BroadcastStore;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use sportello::broadcast::DeliveryState;
use sportello::storage::{CitizenKey, Store};

use crate::harness::broadcast::{fake_providers, seed};
use crate::util;

/// Starts `sportello serve` on a free port over `data`; returns it once the admin address is written.
fn serve(dir: &Path, data: &Path) -> std::process::Child {
    let _ = std::fs::remove_file(data.join("admin.addr"));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["serve", "--bind", "127.0.0.1:0", "--config"])
        .arg(dir.join("config.toml"))
        .arg("--data")
        .arg(data)
        .current_dir(util::root())
        .env("SPORTELLO_WHATSAPP_TOKEN", "t")
        // A configured number needs both to start (issue 21).
        .env("SPORTELLO_WHATSAPP_APP_SECRET", "s")
        .env("SPORTELLO_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !data.join("admin.addr").is_file() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "sportello serve did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn cli(data: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend([
        "--data".to_string(),
        data.display().to_string(),
        "--config".to_string(),
        dir.join("config.toml").display().to_string(),
    ]);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    util::sportello(&util::root(), &refs, "")
}

async fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Issue #5: a SIGKILL in the middle of a broadcast, then a restart: nobody gets it twice.
/// The first kill comes while requests are held unanswered at the provider (every entry in
/// doubt did reach it), so every citizen gets it exactly once; the second comes at an
/// arbitrary moment, where the guarantee is at most once and every citizen is accounted for
/// (received, or marked interrupted for the operator).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_broadcast_then_restart_sends_each_citizen_at_most_once() {
    const CITIZENS: u64 = 2000;
    let (addr, fake) = fake_providers().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[whatsapp]\ngraph_url = \"http://{addr}/v23.0\"\n[broadcast]\nwhatsapp_per_second = 400\n\
             [comuni.brusson]\nwhatsapp_phone_number_id = \"pn-brusson\"\n\
             broadcast_templates = {{ it = \"avviso\", fr = \"avis\" }}\n"
        ),
    )
    .unwrap();
    let numbers = {
        let store = sportello::storage::sealed::migrate::open_sled(&data)
            .map(|s| s.0)
            .unwrap();
        let numbers = seed(&store, 0, CITIZENS, &["info"]);
        store.flush().unwrap();
        numbers
    };
    std::fs::write(dir.path().join("it.txt"), "Avviso di prova").unwrap();
    std::fs::write(dir.path().join("fr.txt"), "Avis d'essai").unwrap();

    let mut child = serve(dir.path(), &data);
    // Through the running server's admin endpoint (sled's lock keeps the CLI out).
    let out = cli(
        &data,
        dir.path(),
        &[
            "broadcast",
            "send",
            "--comune",
            "brusson",
            "--category",
            "info",
            "--text-it",
        ],
    );
    assert!(!out.status.success(), "a missing --text-it value must fail");
    let it = dir.path().join("it.txt").display().to_string();
    let fr = dir.path().join("fr.txt").display().to_string();
    let out = cli(
        &data,
        dir.path(),
        &[
            "broadcast",
            "send",
            "--comune",
            "brusson",
            "--category",
            "info",
            "--text-it",
            &it,
            "--text-fr",
            &fr,
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["audience"]["total"], CITIZENS);
    let id = answer["id"].as_u64().unwrap();

    // Kill 1: requests held unanswered at the provider, none else in flight.
    wait_for("600 sends", Duration::from_secs(60), || {
        fake.lock().unwrap().got.len() >= 600
    })
    .await;
    fake.lock().unwrap().hold = true;
    let mut last = (0, Instant::now());
    wait_for("the held requests to settle", Duration::from_secs(30), || {
        let held = fake.lock().unwrap().held;
        if held != last.0 {
            last = (held, Instant::now());
        }
        held > 0 && last.1.elapsed() > Duration::from_secs(1)
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let held = fake.lock().unwrap().held;
    fake.lock().unwrap().hold = false;

    // Kill 2: at an arbitrary moment.
    let mut child = serve(dir.path(), &data);
    let before = fake.lock().unwrap().got.len();
    wait_for("more sends", Duration::from_secs(60), || {
        fake.lock().unwrap().got.len() >= before + 500
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();

    let mut child = serve(dir.path(), &data);
    let mut state = String::new();
    let mut last_answer = String::new();
    for _ in 0..300 {
        let out = cli(&data, dir.path(), &["broadcast", "status", &id.to_string()]);
        last_answer = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            state = v["state"].as_str().unwrap_or_default().to_string();
            if state == "done" {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(state, "done", "{last_answer}");
    child.kill().unwrap();
    child.wait().unwrap();

    let got = fake.lock().unwrap().got.clone();
    let mut per_citizen: BTreeMap<String, usize> = BTreeMap::new();
    for (_, to, _) in &got {
        *per_citizen.entry(to.clone()).or_default() += 1;
    }
    let twice: Vec<_> = per_citizen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{} citizens got it more than once", twice.len());
    let store = sportello::storage::sealed::migrate::open_sled(&data)
        .map(|s| s.0)
        .unwrap();
    let mut interrupted_not_received = 0;
    let mut interrupted = 0;
    for number in &numbers {
        let d = store
            .delivery(id, &CitizenKey::new("brusson", "whatsapp", number))
            .unwrap()
            .expect("an outbox entry for every subscriber");
        let received = per_citizen.contains_key(number);
        match d.state {
            DeliveryState::Interrupted => {
                interrupted += 1;
                if !received {
                    interrupted_not_received += 1;
                }
            }
            DeliveryState::Sent => assert!(received, "marked sent but never received"),
            other => panic!("unexpected final state {other:?}"),
        }
    }
    // Every citizen is accounted for: received once, or reported interrupted (in doubt).
    assert_eq!(per_citizen.len() + interrupted_not_received, CITIZENS as usize);
    assert!(interrupted >= held, "the {held} held requests are reported in doubt");
    eprintln!(
        "crash test: {held} held at kill 1; {interrupted} interrupted, of which {interrupted_not_received} never reached the provider (kill 2)"
    );
    // Kill 1's entries in doubt all reached the provider: with only that kill, each
    // citizen would have got it exactly once. Kill 2 may leave a few in doubt, never more
    // than the requests in flight at once.
    assert!(
        interrupted_not_received <= sportello::broadcast::worker::CONCURRENCY,
        "{interrupted_not_received}"
    );
}
