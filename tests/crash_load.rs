//! Kill -9 during a load (issue #9): the real binary serves signed WhatsApp webhooks from
//! many citizens against a fake Graph API, is SIGKILLed after a varying number of
//! acknowledgements, restarts on the same data, and receives the unacknowledged webhooks
//! again (with some acknowledged ones: Meta redelivers those too, now and then).
//!
//! Proven from the store and the fake provider's log:
//! - no acknowledged message was lost: at the kill, each one is processed (the citizen is
//!   subscribed) or still in the journal, and after the restart every citizen is subscribed;
//! - none was processed twice: one ledger entry per citizen and consent, all carrying the
//!   citizen's only message id, and the step's counters equal the number of citizens;
//! - no citizen got a duplicate: at most one reply each at the fake, and none missing
//!   except for replies that were in flight at the kill (at most once: they are dropped at
//!   start, counted by `sportello_replies_interrupted_total`), at most
//!   `MAX_SENDS_IN_FLIGHT` of them.
//!
//! No assertion depends on timing; the kill point is random (printed, and replayable with
//! `SPORTELLO_CRASH_LOAD_SEED`).

use sportello::storage::CitizenStore;
use sportello::storage::JournalStore;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use sportello::channel::whatsapp::sign;
use sportello::server::MAX_SENDS_IN_FLIGHT;
use sportello::storage::keys::inbound_key;
use sportello::storage::{CitizenKey, LedgerKind, Store};

use crate::harness::server::{wa_text, APP_SECRET};

/// Distinct citizens, one message each.
const CITIZENS: usize = 1500;
/// Webhooks in flight at once.
const CONCURRENCY: usize = 32;
/// Both answer `ATTIVA ISCRIZIONE` with a subscription and one reply.
const COMUNI: [&str; 2] = ["madone", "isola-delle-femmine"];
/// Counters bumped by the sender or by delivery statuses, not by the step.
const DELIVERY_COUNTERS: [&str; 4] = ["sent", "delivered", "read", "failed"];

/// What the fake Graph API received: replies (phone_number_id, body) and read receipts.
#[derive(Default)]
struct Graph {
    replies: Vec<(String, Value)>,
    reads: Vec<String>,
}

type Shared = Arc<Mutex<Graph>>;

async fn graph_messages(
    State(g): State<Shared>,
    UrlPath(pnid): UrlPath<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut g = g.lock().unwrap();
    if body["status"] == "read" {
        g.reads
            .push(body["message_id"].as_str().unwrap_or_default().to_string());
        return Json(json!({"success": true}));
    }
    g.replies.push((pnid, body));
    let n = g.replies.len();
    Json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.{n}")}]}))
}

/// One citizen's message.
struct Webhook {
    comune: &'static str,
    from: String,
    id: String,
    raw: Vec<u8>,
    signature: String,
}

fn webhooks() -> Vec<Webhook> {
    (0..CITIZENS)
        .map(|i| {
            let comune = COMUNI[i % COMUNI.len()];
            let from = format!("39333{i:07}");
            let id = format!("wamid.load.{i}");
            let raw = serde_json::to_vec(&wa_text(
                comune,
                &from,
                &id,
                1_800_000_000 + i as i64,
                "ATTIVA ISCRIZIONE",
            ))
            .unwrap();
            let signature = sign(APP_SECRET.as_bytes(), &raw);
            Webhook {
                comune,
                from,
                id,
                raw,
                signature,
            }
        })
        .collect()
}

/// xorshift64 for the kill point (as in `crash.rs`).
fn kill_after(seed: u64) -> usize {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    150 + (x % 1000) as usize
}

/// `sportello serve` on a free loopback port; returns the child and its base URL.
fn start(dir: &Path, run: usize) -> (Child, String) {
    let log = std::fs::File::create(dir.join(format!("serve-{run}.log"))).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .arg("serve")
        .arg("--config")
        .arg(dir.join("sportello.toml"))
        .arg("--data")
        .arg(dir.join("data"))
        .arg("--flows")
        .arg(crate::util::root().join("flows"))
        .arg("--locales")
        .arg(crate::util::root().join("locales"))
        .args(["--bind", "127.0.0.1:0"])
        .env("SPORTELLO_LOG", "warn")
        .env("SPORTELLO_WHATSAPP_APP_SECRET", APP_SECRET)
        .env("SPORTELLO_WHATSAPP_VERIFY_TOKEN", "verify-me")
        .env("SPORTELLO_WHATSAPP_TOKEN", "graph-token")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawning sportello serve");
    // The first line names the address it listens on.
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    lines.read_line(&mut line).unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("serve did not say where it listens: {line:?} (see serve-{run}.log)"))
        .to_string();
    // Keep reading stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.lines() {});
    (child, base)
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base}/healthz never answered");
}

/// Posts the webhooks `todo` (indexes), `CONCURRENCY` at a time, until `stop` is set;
/// returns the indexes answered 200, and counts them in `acked`.
async fn post_all(
    http: &reqwest::Client,
    base: &str,
    hooks: &Arc<Vec<Webhook>>,
    todo: Vec<usize>,
    acked: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> BTreeSet<usize> {
    let queue = Arc::new(Mutex::new(todo.into_iter()));
    let ok = Arc::new(Mutex::new(BTreeSet::new()));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (http, url, hooks, queue, ok, acked, stop) = (
                http.clone(),
                format!("{base}/webhook/whatsapp"),
                hooks.clone(),
                queue.clone(),
                ok.clone(),
                acked.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let Some(i) = queue.lock().unwrap().next() else { return };
                    let h = &hooks[i];
                    let sent = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", &h.signature)
                        .body(h.raw.clone())
                        .send()
                        .await;
                    if sent.is_ok_and(|r| r.status().as_u16() == 200) {
                        ok.lock().unwrap().insert(i);
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let ok = ok.lock().unwrap().clone();
    ok
}

/// Replies the fake received, per recipient (without the leading +).
fn replies_per_citizen(graph: &Shared) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for (_, body) in &graph.lock().unwrap().replies {
        let to = body["to"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('+')
            .to_string();
        *n.entry(to).or_default() += 1;
    }
    n
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn terminate(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "serve did not stop cleanly: {exit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_load_loses_no_acknowledged_message_and_duplicates_nothing() {
    let started = Instant::now();
    let seed = std::env::var("SPORTELLO_CRASH_LOAD_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.map_or(0, |d| d.as_nanos() as u64) ^ u64::from(std::process::id())
        });
    let kill_at = kill_after(seed);
    eprintln!("crash_load: seed {seed} (SPORTELLO_CRASH_LOAD_SEED), kill after {kill_at} acknowledgements");

    // The fake Graph API.
    let graph: Shared = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/v23.0/{pnid}/messages", post(graph_messages))
        .with_state(graph.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let mut config = format!("[whatsapp]\ngraph_url = \"http://{fake}/v23.0\"\n");
    for c in COMUNI {
        config.push_str(&format!("[comuni.{c}]\nwhatsapp_phone_number_id = \"pn-{c}\"\n"));
    }
    std::fs::write(dir.path().join("sportello.toml"), config).unwrap();
    let hooks = Arc::new(webhooks());
    // reqwest on rustls needs a process-wide crypto provider (the server installs it too).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    // 1. Load, and SIGKILL after `kill_at` acknowledgements.
    let (mut child, base) = start(dir.path(), 1);
    wait_healthy(&http, &base).await;
    let acked_n = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (http, base, hooks, acked_n, stop) =
            (http.clone(), base.clone(), hooks.clone(), acked_n.clone(), stop.clone());
        tokio::spawn(async move { post_all(&http, &base, &hooks, (0..CITIZENS).collect(), acked_n, stop).await })
    };
    while acked_n.load(Ordering::SeqCst) < kill_at {
        assert!(!load.is_finished(), "the load ended before the kill");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    let acked = load.await.unwrap();
    let replies_at_kill = graph.lock().unwrap().replies.len();

    // 2. The store as the kill left it: every acknowledged message is processed or journalled.
    let (in_doubt, processed_at_kill) = {
        let store = sportello::storage::sealed::migrate::open_sled(&dir.path().join("data"))
            .map(|s| s.0)
            .expect("the store opens after SIGKILL");
        let pending: BTreeSet<Vec<u8>> = store.pending_inbound().unwrap().into_iter().map(|(k, _)| k).collect();
        let mut processed = 0;
        for &i in &acked {
            let h = &hooks[i];
            let key = CitizenKey::new(h.comune, "whatsapp", &h.from);
            let subscribed = store.citizen(&key).unwrap().is_some_and(|c| c.status() == "subscribed");
            processed += usize::from(subscribed);
            let journalled = pending.contains(&inbound_key("whatsapp", &format!("pn-{}", h.comune), &h.id));
            assert!(
                subscribed || journalled,
                "message {i} was acknowledged before the kill and is neither processed nor in the journal"
            );
        }
        let in_doubt: BTreeSet<String> = store
            .pending_outbound()
            .unwrap()
            .into_iter()
            .filter(|(_, e)| e.in_flight)
            .map(|(_, e)| e.to)
            .collect();
        (in_doubt, processed)
    };
    assert!(
        in_doubt.len() <= MAX_SENDS_IN_FLIGHT,
        "{} replies in flight at the kill, more than the sender's {MAX_SENDS_IN_FLIGHT}",
        in_doubt.len()
    );

    // 3. Restart; Meta redelivers what was not acknowledged, and every third acknowledged one.
    let (mut child, base) = start(dir.path(), 2);
    wait_healthy(&http, &base).await;
    let again: Vec<usize> = (0..CITIZENS).filter(|i| !acked.contains(i) || i % 3 == 0).collect();
    let redelivered = again.len();
    let ok = post_all(
        &http,
        &base,
        &hooks,
        again.clone(),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    )
    .await;
    assert_eq!(
        ok.len(),
        redelivered,
        "after the restart every redelivery is acknowledged"
    );

    // Wait until every citizen not in doubt has had a reply (at most 40 s), then read the
    // metrics before the graceful stop, which finishes whatever is still being sent.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let per = replies_per_citizen(&graph);
        let missing = hooks
            .iter()
            .filter(|h| !in_doubt.contains(&h.from) && !per.contains_key(&h.from))
            .count();
        if missing == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} citizens not in doubt still have no reply after 40 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    terminate(&mut child);
    let interrupted = metric(&metrics, "sportello_replies_interrupted_total");
    let duplicates_dropped = metric(&metrics, "sportello_inbound_duplicates_total");

    // 4. The fake's log: at most one reply each, none missing except in doubt.
    let per = replies_per_citizen(&graph);
    let duplicated: Vec<_> = per.iter().filter(|(_, &n)| n > 1).collect();
    assert!(
        duplicated.is_empty(),
        "citizens with more than one reply: {duplicated:?}"
    );
    let unknown: Vec<_> = per.keys().filter(|to| !hooks.iter().any(|h| &h.from == *to)).collect();
    assert!(unknown.is_empty(), "replies to numbers that never wrote: {unknown:?}");
    let without: BTreeSet<&String> = hooks
        .iter()
        .map(|h| &h.from)
        .filter(|f| !per.contains_key(*f))
        .collect();
    for f in &without {
        assert!(in_doubt.contains(*f), "a citizen whose reply was not in doubt got none");
    }
    let reads = graph.lock().unwrap().reads.len();
    // Checked after the fake's log, which is the proof; this is what operators are shown.
    assert_eq!(
        interrupted as usize,
        in_doubt.len(),
        "the restart counts exactly the replies left in flight"
    );

    // 5. The store after the graceful stop: everyone subscribed, every step's effects once.
    let store = sportello::storage::sealed::migrate::open_sled(&dir.path().join("data"))
        .map(|s| s.0)
        .unwrap();
    assert!(store.pending_inbound().unwrap().is_empty(), "journal not drained");
    assert!(store.pending_outbound().unwrap().is_empty(), "outbox not drained");
    for comune in COMUNI {
        let mine: BTreeMap<&str, &str> = hooks
            .iter()
            .filter(|h| h.comune == comune)
            .map(|h| (h.from.as_str(), h.id.as_str()))
            .collect();
        let citizens = store.citizens(comune).unwrap();
        assert_eq!(citizens.len(), mine.len(), "{comune}: one record per citizen");
        for (key, c) in &citizens {
            assert!(
                mine.contains_key(key.citizen.as_str()),
                "{comune}: a record nobody wrote for"
            );
            assert_eq!(c.status(), "subscribed", "{comune}: a citizen is not subscribed");
        }
        // One ledger entry per citizen and consent, from the citizen's only message.
        let mut entries: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        for (_, e) in store.ledger(comune).unwrap() {
            let who = e.citizen.clone().expect("no erasure in this test");
            assert_eq!(
                mine.get(who.as_str()).copied(),
                Some(e.message_id.as_str()),
                "{comune}: a ledger entry from another message"
            );
            *entries
                .entry((who, format!("{:?}", e.kind), e.consent.clone()))
                .or_default() += 1;
        }
        let twice: Vec<_> = entries.iter().filter(|(_, &n)| n != 1).collect();
        assert!(twice.is_empty(), "{comune}: ledger entries written twice: {twice:?}");
        let consented: BTreeSet<&str> = entries
            .keys()
            .filter(|(_, kind, _)| kind == &format!("{:?}", LedgerKind::Consent))
            .map(|(who, _, _)| who.as_str())
            .collect();
        assert_eq!(
            consented.len(),
            mine.len(),
            "{comune}: every citizen's consent is in the ledger"
        );
        // The step's counters (subscriptions, …) count each citizen once.
        let mut totals: BTreeMap<String, u64> = BTreeMap::new();
        for (_, name, value) in store.counters(comune).unwrap() {
            *totals.entry(name).or_default() += value;
        }
        assert!(!totals.is_empty(), "{comune}: no counters");
        for (name, value) in &totals {
            if DELIVERY_COUNTERS.contains(&name.as_str()) {
                assert!(*value <= mine.len() as u64, "{comune}: counter {name} = {value}");
            } else {
                assert_eq!(
                    *value,
                    mine.len() as u64,
                    "{comune}: counter {name} counts a step twice"
                );
            }
        }
    }

    let in_doubt_delivered = in_doubt.iter().filter(|f| per.contains_key(*f)).count();
    eprintln!(
        "crash_load: {CITIZENS} citizens; {} acknowledged before the kill ({processed_at_kill} already processed), \
         {replies_at_kill} replies sent before it; {redelivered} redelivered ({duplicates_dropped} dropped as duplicates); \
         {} replies received in all, {} citizens with none; {} in doubt at the kill ({in_doubt_delivered} had \
         reached the fake, {} lost), duplicates 0; {reads} read receipts; {:.1} s",
        acked.len(),
        per.values().sum::<usize>(),
        without.len(),
        in_doubt.len(),
        in_doubt.len() - in_doubt_delivered,
        started.elapsed().as_secs_f64()
    );
}

/// The recovery half alone, without a kill's timing: of two replies left in the outbox, the
/// one marked in flight is dropped and counted, the other is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_in_flight_at_the_last_stop_is_not_sent_again() {
    use sportello::channel::Channel;
    use sportello::config::{ComuneChannels, Config, Secrets};
    use sportello::i18n::Rendered;
    use sportello::server::Server;
    use sportello::storage::{MemoryStore, OutboundEntry, StepEffects};

    let graph: Shared = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/v23.0/{pnid}/messages", post(graph_messages))
        .with_state(graph.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // What a killed process left: two replies, the first with its request out.
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let reply = |to: &str, text: &str| OutboundEntry {
        key: CitizenKey::new("madone", "whatsapp", to),
        channel: Channel::Whatsapp,
        route: "pn-madone".into(),
        to: to.into(),
        rendered: Rendered {
            key: "subscribed".into(),
            text: text.into(),
            buttons: vec![],
        },
        language: "it".into(),
        created_at: jiff::Timestamp::now(),
        callback_id: None,
        in_flight: false,
        owner: None,
    };
    let (a, b) = (reply("393330000001", "in doubt"), reply("393330000002", "waiting"));
    let ia = store
        .commit_step(None, &a.key, None, std::slice::from_ref(&a), &StepEffects::default())
        .unwrap();
    store
        .commit_step(None, &b.key, None, std::slice::from_ref(&b), &StepEffects::default())
        .unwrap();
    store.mark_outbound(ia[0], true).unwrap();

    let mut config = Config {
        graph_url: format!("http://{fake}/v23.0"),
        ..Config::default()
    };
    config.comuni.insert(
        "madone".into(),
        ComuneChannels {
            whatsapp_phone_number_id: Some("pn-madone".into()),
            ..Default::default()
        },
    );
    let secrets = Secrets::from_vars([("SPORTELLO_WHATSAPP_TOKEN".to_string(), "graph-token".to_string())]);
    let server = Server::new(crate::util::engine(store.clone()), config, secrets);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(sportello::app::run(server, listener, async move {
        let _ = stopped.await;
    }));
    for _ in 0..500 {
        if store.pending_outbound().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let _ = stop.send(());
    running.await.unwrap().unwrap();

    assert!(store.pending_outbound().unwrap().is_empty(), "the outbox is empty");
    let sent: Vec<String> = graph
        .lock()
        .unwrap()
        .replies
        .iter()
        .map(|(_, body)| {
            body["to"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('+')
                .to_string()
        })
        .collect();
    assert_eq!(sent, ["393330000002"], "only the reply not in flight is sent");
    assert_eq!(metric(&metrics, "sportello_replies_interrupted_total"), 1);
}
