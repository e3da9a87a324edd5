//! Issue #17: a flood of validly signed webhooks from many distinct numbers (a spam wave on
//! the provider's side) grew the server's memory without end, about 2.6 KB a number: sled
//! kept every page it wrote in its cache (1 GiB by default), and the per-citizen rate
//! limiter kept each number's three strings and never gave its maps' room back.
//!
//! - `issue_17_a_flood_of_distinct_numbers_stays_bounded_and_answered`: the real server on a
//!   loopback port, a fake Graph API that accepts every reply (as Meta does), and 12,000
//!   numbers each writing "ciao" or "MI ISCRIVO" once, every third one twice, in batched
//!   webhooks: the process's peak resident memory stays under 250 MB, a webhook from another
//!   number is answered 200 within a second all along, and every message is stepped and
//!   every subscriber kept. A debug build steps about 450 messages a second here, so this
//!   size fits in a minute; it is too small for the old cache to reach 250 MB (1.4 KB a
//!   number in this test's store alone, 2.6 KB in the whole server), which is what the next
//!   test is for.
//! - `issue_17_the_store_keeps_150000_citizens_in_bounded_memory`: the issue's 150,000
//!   numbers written straight into a sled store (a citizen and a journal entry each, as a
//!   step writes them): the last 100,000 must add under 40 MB of resident memory. With
//!   sled's default cache they added 128 MB (measured), and every citizen is read
//!   back.
//!
//! Memory is read from `/proc/self/status`, and the other tests of this binary run beside
//! these in the same process (in a whole `cargo test` run it held 450 MB before the flood
//! began): so each test runs its measured part alone, in a new process of this test
//! binary (`alone`), where it is the only thing running; the server runs in that
//! process, as in `tests/hostile.rs`. Only 127.0.0.1 is contacted; every loop is bounded.

use sportello::storage::CitizenStore;
use sportello::storage::JournalStore;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use sportello::channel::whatsapp::sign;
use sportello::channel::{Channel, InboundMessage};
use sportello::config::{ComuneChannels, Config, Secrets};
use sportello::dialogue::{Body, Citizen};
use sportello::server::Server;
use sportello::storage::{CitizenKey, InboundEntry, SledStore, Store};

use crate::util;

const SECRET: &str = "flood-app-secret";
/// Distinct numbers in the server's flood: each costs a step and two replies or so, and a
/// debug build does about 450 messages a second, so that this fits in under a minute.
const NUMBERS: u64 = 12_000;
/// Numbers in one webhook (Meta batches; about 20 messages), and webhooks in flight at
/// once. A webhook's messages are stepped at once, each a few milliseconds in a debug
/// build: batches of 100 kept the two workers busy for long enough to delay the probe's
/// answer by up to a second, batches of 20 by 0.25-0.42 s at worst.
const NUMBERS_A_WEBHOOK: u64 = 15;
const SENDERS: usize = 4;
/// The flood keeps at most this many messages ahead of the server's steps, and this many
/// citizens' replies ahead of its sends. A debug build steps and sends several times slower
/// than release: unpaced, the backlog fills (a webhook then waits for a place, by design, and
/// the probe with it), and replies wait for the provider in memory, a task each, which is
/// not bounded yet and not what this test measures (BENCHMARKS.md, "A flood of distinct
/// numbers").
const AHEAD_STEPS: usize = 50;
const AHEAD_REPLIES: usize = 100;
const PEAK_LIMIT_MB: f64 = 250.0;
/// The store test: numbers written, those after which the cache is full, and what the rest
/// may add.
const STORE_NUMBERS: u64 = 150_000;
const STORE_WARM: u64 = 50_000;
const STORE_GROWTH_LIMIT_MB: f64 = 40.0;

/// Set in the environment of the process `alone` starts.
const ALONE: &str = "SPORTELLO_FLOOD_ALONE";

/// Runs `test`, a test of this module, in a new process of this test binary with [`ALONE`]
/// set, and fails with its output if it fails. Without [`ALONE`] the measured tests return
/// at once, so that a whole run, which also runs them here, measures them only there.
fn alone(test: &str) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([&format!("flood::{test}"), "--exact", "--nocapture", "--test-threads=1"])
        .env(ALONE, "1")
        .output()
        .expect("run the test binary");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    eprint!("{stderr}");
    assert!(out.status.success(), "{test}, alone:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{test} did not run alone:\n{stdout}");
}

fn measured_here() -> bool {
    std::env::var_os(ALONE).is_some()
}

fn number(i: u64) -> String {
    format!("39{}", 3_000_000_000 + i)
}

/// The flood's number `i`: "ciao" or "MI ISCRIVO", every third number both.
fn messages_of(i: u64, ts: i64) -> Vec<Value> {
    let from = number(i);
    let texts: &[&str] = match i % 3 {
        0 => &["ciao", "MI ISCRIVO"],
        1 => &["MI ISCRIVO"],
        _ => &["ciao"],
    };
    texts
        .iter()
        .enumerate()
        .map(|(j, t)| {
            json!({"from": from, "id": format!("wamid.flood.{i}.{j}"), "timestamp": ts.to_string(),
                   "type": "text", "text": {"body": t}})
        })
        .collect()
}

fn webhook(messages: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "390000000000", "phone_number_id": "pn-brusson"},
            "messages": messages}}]}]}),
    )
    .unwrap()
}

async fn send_webhook(http: &reqwest::Client, base: &str, body: Vec<u8>) -> u16 {
    let sig = sign(SECRET.as_bytes(), &body);
    match http
        .post(format!("{base}/webhook/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// A Graph API that accepts every message with a fresh id and keeps nothing but a count
/// (a fake that recorded the bodies would itself grow with the flood).
async fn fake_graph(sent: Arc<AtomicU64>) -> SocketAddr {
    async fn messages(State(sent): State<Arc<AtomicU64>>) -> Json<Value> {
        let n = sent.fetch_add(1, Ordering::Relaxed);
        Json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.sent.{n}")}], "success": true}))
    }
    let router = Router::new()
        .route("/v23.0/{pnid}/messages", post(messages))
        .with_state(sent);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A figure of this process's `/proc/self/status`, in MB.
fn status_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    kb / 1024.0
}

#[test]
fn issue_17_a_flood_of_distinct_numbers_stays_bounded_and_answered() {
    alone("flood_of_distinct_numbers");
}

#[test]
fn issue_17_the_store_keeps_150000_citizens_in_bounded_memory() {
    alone("store_of_150000_citizens");
}

/// See [`issue_17_a_flood_of_distinct_numbers_stays_bounded_and_answered`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_of_distinct_numbers() {
    if !measured_here() {
        return;
    }
    // The flood, the probe and the fake provider on a runtime of their own: the server's two
    // workers serve only the server, as `sportello serve` has one a core.
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let graph = client.spawn(fake_graph(sent.clone())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("data")).unwrap());
    let mut config = Config {
        graph_url: format!("http://{graph}/v23.0"),
        telegram_url: "http://127.0.0.1:9".into(),
        ..Config::default()
    };
    config.comuni.insert(
        "brusson".into(),
        ComuneChannels {
            whatsapp_phone_number_id: Some("pn-brusson".into()),
            ..Default::default()
        },
    );
    let vars = vec![
        ("SPORTELLO_WHATSAPP_APP_SECRET".to_string(), SECRET.to_string()),
        ("SPORTELLO_WHATSAPP_TOKEN".to_string(), "flood-token".to_string()),
    ];
    let server = Server::new(util::engine(store.clone()), config, Secrets::from_vars(vars));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(sportello::app::run(server.clone(), listener, async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();

    // The peak counts from the flood ("5" resets VmHWM to the current VmRSS, Linux 4.0).
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let at_start = status_mb("VmRSS:");
    let ts = jiff::Timestamp::now().as_second();

    // One webhook from a number outside the flood every 250 ms, each timed.
    let flooding = Arc::new(AtomicBool::new(true));
    let probe = {
        let (http, base, flooding) = (http.clone(), base.clone(), flooding.clone());
        client.spawn(async move {
            let mut probes = Vec::new();
            let mut n = 0u64;
            while flooding.load(Ordering::Relaxed) && n < 10_000 {
                n += 1;
                let m = json!({"from": format!("39{}", 4_000_000_000 + n), "id": format!("wamid.probe.{n}"),
                               "timestamp": ts.to_string(), "type": "text", "text": {"body": "ciao"}});
                let started = Instant::now();
                let code = send_webhook(&http, &base, webhook(vec![m])).await;
                probes.push((code, started.elapsed()));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            probes
        })
    };

    // Each sender takes the next numbers, a webhook's worth, until every number has written.
    let (next, messages, webhooks) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let started = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (http, base, server) = (http.clone(), base.clone(), server.clone());
            let (next, messages, webhooks) = (next.clone(), messages.clone(), webhooks.clone());
            client.spawn(async move {
                loop {
                    while server.backlog_len() > AHEAD_STEPS || server.outbound.active() > AHEAD_REPLIES {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    let first = next.fetch_add(NUMBERS_A_WEBHOOK, Ordering::Relaxed);
                    if first >= NUMBERS {
                        return;
                    }
                    let batch: Vec<Value> = (first..NUMBERS.min(first + NUMBERS_A_WEBHOOK))
                        .flat_map(|i| messages_of(i, ts))
                        .collect();
                    let n = batch.len() as u64;
                    let body = webhook(batch);
                    // A 503 (shed) is delivered again, as Meta does; never more than a minute.
                    let mut code = 0;
                    for _ in 0..60 {
                        code = send_webhook(&http, &base, body.clone()).await;
                        if code != 503 && code != 0 {
                            break;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    assert_eq!(code, 200, "a flood webhook was refused");
                    messages.fetch_add(n, Ordering::Relaxed);
                    webhooks.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for s in senders {
        s.await.unwrap();
    }
    let answered = started.elapsed();
    flooding.store(false, Ordering::Relaxed);
    let mut probes = probe.await.unwrap();
    // Every message stepped and every reply sent before the peak is read.
    server.drain(Duration::from_secs(120)).await;
    let stepped = started.elapsed();
    let (rss, peak) = (status_mb("VmRSS:"), status_mb("VmHWM:"));
    let (messages, webhooks) = (messages.load(Ordering::Relaxed), webhooks.load(Ordering::Relaxed));
    probes.sort_by_key(|p| p.1);
    eprintln!(
        "flood: {NUMBERS} numbers, {messages} messages in {webhooks} webhooks answered in {:.1} s ({:.0} \
         messages/s), all stepped and replied to in {:.1} s; {} replies sent; {} probes, median {:?}, slowest \
         {:?}; VmRSS {at_start:.1} MB before, {rss:.1} MB after, VmHWM {peak:.1} MB",
        answered.as_secs_f64(),
        messages as f64 / answered.as_secs_f64(),
        stepped.as_secs_f64(),
        sent.load(Ordering::Relaxed),
        probes.len(),
        probes.get(probes.len() / 2).map(|p| p.1).unwrap_or_default(),
        probes.last().map(|p| p.1).unwrap_or_default(),
    );

    assert!(
        probes.len() >= 3,
        "the flood ended before the probes could run: {probes:?}"
    );
    for (code, took) in &probes {
        assert_eq!(*code, 200, "a webhook from another number during the flood: {probes:?}");
        assert!(
            *took < Duration::from_secs(1),
            "a webhook answered in {took:?} during the flood"
        );
    }
    assert!(
        peak < PEAK_LIMIT_MB,
        "peak resident memory {peak:.1} MB during a flood of {NUMBERS} numbers (limit {PEAK_LIMIT_MB} MB)"
    );
    // Only caches were bounded: every message was stepped and every subscriber kept.
    assert_eq!(
        server.metrics.steps.get(),
        messages + probes.len() as u64,
        "every message stepped"
    );
    let subscribers: Vec<u64> = (0..NUMBERS).filter(|i| i % 3 != 2).collect();
    let kept = subscribers
        .iter()
        .filter(|i| {
            let key = CitizenKey::new("brusson", "whatsapp", &number(**i));
            store.citizen(&key).unwrap().is_some()
        })
        .count();
    assert_eq!(kept, subscribers.len(), "every subscriber in the store");

    let _ = stop.send(());
    running.await.unwrap().unwrap();
    client.shutdown_background();
}

/// See [`issue_17_the_store_keeps_150000_citizens_in_bounded_memory`].
#[test]
fn store_of_150000_citizens() {
    if !measured_here() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(&dir.path().join("data")).unwrap();
    let now = jiff::Timestamp::now();
    let key = |i: u64| CitizenKey::new("brusson", "whatsapp", &number(i));
    let mut warm = 0.0;
    for i in 0..STORE_NUMBERS {
        if i == STORE_WARM {
            warm = status_mb("VmRSS:");
        }
        let mut citizen = Citizen::new(now);
        citizen.subscribed_at = Some(now);
        store.put_citizen(&key(i), &citizen).unwrap();
        let message = InboundMessage {
            channel: Channel::Whatsapp,
            route: "pn-brusson".into(),
            from: number(i),
            id: format!("wamid.flood.{i}"),
            timestamp: now.as_second(),
            body: Body::Text {
                text: "MI ISCRIVO".into(),
            },
            callback_id: None,
            phone: None,
            user_id: None,
            username: None,
        };
        let entry = InboundEntry {
            key: key(i),
            message: Some(message),
            received_at: now,
            done: false,
            owner: None,
        };
        assert!(store
            .record_inbound(format!("whatsapp/pn-brusson/wamid.flood.{i}").as_bytes(), &entry)
            .unwrap());
    }
    let grown = status_mb("VmRSS:") - warm;
    eprintln!(
        "store: {} numbers; the last {} added {grown:.1} MB of resident memory",
        STORE_NUMBERS,
        STORE_NUMBERS - STORE_WARM
    );
    assert!(
        grown < STORE_GROWTH_LIMIT_MB,
        "the last {} numbers added {grown:.1} MB (limit {STORE_GROWTH_LIMIT_MB} MB): the store's cache is not bounded",
        STORE_NUMBERS - STORE_WARM
    );
    // Only the cache is bounded: every citizen is still there.
    let missing = (0..STORE_NUMBERS)
        .filter(|i| store.citizen(&key(*i)).unwrap().is_none())
        .count();
    assert_eq!(missing, 0, "citizens missing from the store");
}
