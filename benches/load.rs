//! Load test of the whole server over loopback HTTP: `cargo bench --bench load`.
//!
//! Starts a fake Graph API (answers every send, records when each recipient's first reply
//! arrives) and the real sportello server in-process (sled in a temporary directory), then
//! sends signed WhatsApp webhooks, each from a new citizen (so the per-citizen limit never
//! applies and every reply maps to one request): (a) open loop at a fixed rate, scheduled by
//! the clock, latency counted from the scheduled time; (b) full speed from N concurrent
//! connections. The same load then goes to a bare axum handler that reads the body and
//! answers 200. Last, in a child process (a clean high-water mark): memory and start-up time
//! with 100,000 subscribers stored. `cargo bench --bench load -- processes` runs the load
//! against `sportello serve` child processes instead, on sled and PostgreSQL, one and two
//! processes (`load/processes.rs`). `-- grow N DIR` makes a database that has served N
//! citizens for them to run on instead of a fresh one (`load/grown.rs`, `LOAD_GROWN`).
//!
//! This file measures; it must not assert on figures nor write into the repository, and it
//! talks only to 127.0.0.1. Every loop is bounded in count, every wait in time.

use sportello::storage::CitizenStore;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use sportello::channel::whatsapp::sign;
use sportello::config::{ComuneChannels, Config, Secrets};
use sportello::dialogue::{Citizen, Consent, State as Dialogue};
use sportello::flow;
use sportello::i18n::Locales;
use sportello::server::Server;
use sportello::service::runner::Engine;
use sportello::storage::{CitizenKey, SledStore, Store};

#[path = "load/grown.rs"]
mod grown;
#[path = "load/processes.rs"]
mod processes;
#[path = "load/template.rs"]
mod template;

const SECRET: &str = "load-app-secret";
const RATE: u64 = 2_000;
const RATE_SECONDS: u64 = 10;
const FULL_MESSAGES: usize = 20_000;
const CONNECTIONS: usize = 64;
const SUBSCRIBERS: usize = 100_000;
/// (comune, text): first messages of new citizens, the two comuni of the brief.
const TEXTS: [(&str, &str); 4] = [
    ("madone", "ATTIVA ISCRIZIONE"),
    ("brusson", "MI ISCRIVO"),
    ("madone", "DISATTIVA ISCRIZIONE"),
    ("brusson", "MI CANCELLO"),
];

/// When each recipient's first reply reached the fake Graph API.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

async fn graph(State(a): State<Arrivals>, Json(body): Json<Value>) -> Json<Value> {
    let now = Instant::now();
    if body["status"] != "read" {
        if let Some(to) = body["to"].as_str() {
            a.lock()
                .unwrap()
                .entry(to.trim_start_matches('+').to_string())
                .or_insert(now);
        }
    }
    Json(json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}]}))
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn engine(store: Arc<dyn Store>) -> Engine {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let locales = Locales::load_dir(&root.join("locales")).expect("locales");
    let flows = flow::load_dir(&root.join("flows"), &locales).expect("flows");
    Engine::new(flows, locales, store)
}

fn config(graph: SocketAddr) -> (Config, Secrets) {
    let mut config = Config {
        graph_url: format!("http://{graph}/v23.0"),
        telegram_url: format!("http://{graph}"),
        ..Config::default()
    };
    for c in ["madone", "brusson"] {
        config.comuni.insert(
            c.into(),
            ComuneChannels {
                whatsapp_phone_number_id: Some(format!("pn-{c}")),
                ..Default::default()
            },
        );
    }
    // `LOAD_NO_SEND=1`: no Graph token, so replies fail at once without HTTP (isolates the
    // inbound path: webhook, journal, step, commit).
    let token = if std::env::var("LOAD_NO_SEND").is_ok() {
        ""
    } else {
        "graph-token"
    };
    let vars = [
        ("SPORTELLO_WHATSAPP_APP_SECRET", SECRET),
        ("SPORTELLO_WHATSAPP_TOKEN", token),
    ];
    (
        config,
        Secrets::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string()))),
    )
}

/// One prepared request: citizen number, body, signature.
struct Req {
    from: String,
    body: Bytes,
    sig: String,
}

fn requests(n: usize, base: u64) -> Vec<Req> {
    (0..n)
        .map(|i| {
            let (comune, text) = TEXTS[i % TEXTS.len()];
            let from = format!("39{}", base + i as u64);
            let v = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "390000000000", "phone_number_id": format!("pn-{comune}")},
                "contacts": [{"profile": {"name": "Load"}, "wa_id": from}],
                "messages": [{"from": from, "id": format!("wamid.load.{base}.{i}"), "timestamp": "1800000000", "type": "text", "text": {"body": text}}]}}]}]});
            let body = Bytes::from(serde_json::to_vec(&v).unwrap());
            let sig = sign(SECRET.as_bytes(), &body);
            Req { from, body, sig }
        })
        .collect()
}

/// What one run measured.
struct Run {
    sent: usize,
    ok: usize,
    seconds: f64,
    /// (citizen, when the request was due, when its 200 came).
    acks: Vec<(String, Instant, Instant)>,
}

async fn send(http: &reqwest::Client, url: &str, r: &Req) -> bool {
    let res = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", &r.sig)
        .body(r.body.clone())
        .send()
        .await;
    matches!(res, Ok(res) if res.status() == StatusCode::OK)
}

/// Open loop: request i is due at start + i / rate, whatever happened to the others; it
/// goes to `urls[i % urls.len()]`.
async fn fixed_rate(http: &reqwest::Client, urls: &[String], reqs: Arc<Vec<Req>>, rate: u64) -> Run {
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(reqs.len());
    for i in 0..reqs.len() {
        let due = start + Duration::from_nanos(i as u64 * 1_000_000_000 / rate);
        tokio::time::sleep_until(due).await;
        let (http, url, reqs) = (http.clone(), urls[i % urls.len()].clone(), reqs.clone());
        tasks.push(tokio::spawn(async move {
            let ok = send(&http, &url, &reqs[i]).await;
            (i, due.into_std(), Instant::now(), ok)
        }));
    }
    let mut results = Vec::with_capacity(tasks.len());
    for t in tasks {
        results.push(t.await.unwrap());
    }
    collect(results, &reqs, start.into_std())
}

/// Closed loop: `connections` workers, each sending the next request as soon as it has an
/// answer; request i goes to `urls[i % urls.len()]`.
async fn full_speed(http: &reqwest::Client, urls: &[String], reqs: Arc<Vec<Req>>, connections: usize) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (http, urls, reqs, next) = (http.clone(), urls.to_vec(), reqs.clone(), next.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= reqs.len() {
                        return out;
                    }
                    let t0 = Instant::now();
                    let ok = send(&http, &urls[i % urls.len()], &reqs[i]).await;
                    out.push((i, t0, Instant::now(), ok));
                }
            })
        })
        .collect();
    let mut results = Vec::with_capacity(reqs.len());
    for t in tasks {
        results.extend(t.await.unwrap());
    }
    collect(results, &reqs, start)
}

/// (request index, when it was due, when its answer came, whether that was a 200).
fn collect(results: Vec<(usize, Instant, Instant, bool)>, reqs: &[Req], start: Instant) -> Run {
    let sent = results.len();
    let mut acks = Vec::with_capacity(sent);
    let mut last = start;
    for (i, due, done, ok) in results {
        last = last.max(done);
        if ok {
            acks.push((reqs[i].from.clone(), due, done));
        }
    }
    Run {
        sent,
        ok: acks.len(),
        seconds: (last - start).as_secs_f64(),
        acks,
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn summary(ms: &mut [f64]) -> String {
    ms.sort_by(|a, b| a.total_cmp(b));
    format!("{:.2} | {:.2} | {:.2}", pct(ms, 0.50), pct(ms, 0.99), pct(ms, 0.999))
}

/// Prints a table row; with `arrivals`, also request→reply (waits up to 30 s for replies).
async fn report(mode: &str, run: &Run, arrivals: Option<&Arrivals>) -> f64 {
    let mut acked: Vec<f64> = run
        .acks
        .iter()
        .map(|(_, due, done)| (*done - *due).as_secs_f64() * 1e3)
        .collect();
    let throughput = run.ok as f64 / run.seconds;
    let mut reply_cols = "– | – | – | –".to_string();
    if let Some(a) = arrivals {
        let deadline = Instant::now() + Duration::from_secs(30);
        while a.lock().unwrap().len() < run.ok && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let seen = a.lock().unwrap().clone();
        let mut replied: Vec<f64> = run
            .acks
            .iter()
            .filter_map(|(from, due, _)| {
                seen.get(from)
                    .map(|t| (t.saturating_duration_since(*due)).as_secs_f64() * 1e3)
            })
            .collect();
        let n = replied.len();
        reply_cols = format!("{} | {n}", summary(&mut replied));
        a.lock().unwrap().clear();
    }
    println!(
        "| {mode} | {} | {} | {:.0} | {} | {reply_cols} |",
        run.sent,
        run.ok,
        throughput,
        summary(&mut acked)
    );
    throughput
}

fn status_kb(field: &str) -> u64 {
    status_kb_of("self", field)
}

/// A `/proc/<pid>/status` field in kB (0 when unreadable).
fn status_kb_of(pid: &str, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Child process: open the populated store, build and start the server, measure.
fn store_phase(dir: &std::path::Path) {
    let rss0 = status_kb("VmRSS:");
    let t0 = Instant::now();
    let store = SledStore::open(dir).expect("open");
    let open = t0.elapsed();
    drop(store);
    let t1 = Instant::now();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir).expect("open"));
    let opened = t1.elapsed();
    let engine = engine(store.clone());
    let built = t1.elapsed();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let (config, secrets) = config("127.0.0.1:9".parse().unwrap());
    let server = Server::new(engine, config, secrets);
    server.start().expect("start");
    let startup = t1.elapsed();
    println!(
        "store-phase parts: open {:.1} ms, flows+locales+engine {:.1} ms, server+start {:.1} ms",
        opened.as_secs_f64() * 1e3,
        (built - opened).as_secs_f64() * 1e3,
        (startup - built).as_secs_f64() * 1e3
    );
    let (rss_started, hwm_started) = (status_kb("VmRSS:"), status_kb("VmHWM:"));
    // What a broadcast's fan-out does: read every subscriber of a comune, a page at a time
    // (`broadcast::plan`).
    let t2 = Instant::now();
    let mut n = 0;
    for comune in ["madone", "brusson"] {
        let mut after: Option<CitizenKey> = None;
        loop {
            let page = store.citizens_page(comune, after.as_ref(), 1000).unwrap();
            n += page.len();
            match page.last() {
                Some((k, _)) if page.len() == 1000 => after = Some(k.clone()),
                _ => break,
            }
        }
    }
    let scan = t2.elapsed();
    println!("store-phase rss0_kb={rss0} open_ms={:.1} startup_ms={:.1} rss_started_kb={rss_started} hwm_started_kb={hwm_started} scan_ms={:.1} scanned={n} rss_scan_kb={} hwm_scan_kb={}",
        open.as_secs_f64() * 1e3, startup.as_secs_f64() * 1e3, scan.as_secs_f64() * 1e3, status_kb("VmRSS:"), status_kb("VmHWM:"));
}

fn populate(dir: &std::path::Path) -> Duration {
    let t = Instant::now();
    let store = SledStore::open(dir).expect("open");
    let now = jiff::Timestamp::now();
    for i in 0..SUBSCRIBERS {
        let comune = if i % 2 == 0 { "madone" } else { "brusson" };
        let mut c = Citizen::new(now);
        c.state = Dialogue::Subscribed;
        c.language = Some("it".into());
        c.subscribed_at = Some(now);
        c.consents.push(Consent {
            kind: "privacy".into(),
            notice_version: "2026-01".into(),
            at: now,
            message_id: format!("wamid.{i}"),
            how: "keyword".into(),
        });
        store
            .put_citizen(&CitizenKey::new(comune, "whatsapp", &format!("39333{i:07}")), &c)
            .expect("put");
    }
    store.flush().expect("flush");
    t.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--store-phase") {
        return store_phase(std::path::Path::new(&args[i + 1]));
    }
    if args.iter().any(|a| a == processes::BARE_CHILD) {
        return processes::bare_child();
    }
    if let Some(i) = args.iter().position(|a| a == "grow") {
        let n = args.get(i + 1).and_then(|n| n.parse().ok()).expect("grow N DIR");
        return grown::run(n, std::path::Path::new(args.get(i + 2).expect("grow N DIR")));
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    if args.iter().any(|a| a == "processes") {
        return rt.block_on(processes::run());
    }
    // `LOAD_ONLY=store`: only the 100,000-subscriber phase; any other value: only the load.
    let only = std::env::var("LOAD_ONLY").ok();
    if only.as_deref() != Some("store") {
        rt.block_on(load());
    }
    if only.is_some_and(|o| o != "store") {
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let took = populate(&data);
    let du = dir_size(&data);
    println!(
        "\npopulated {SUBSCRIBERS} subscribers in {:.1} s, {:.1} MB on disk",
        took.as_secs_f64(),
        du as f64 / 1e6
    );
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--store-phase")
        .arg(&data)
        .output()
        .expect("child");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    rt.block_on(binary_phase(&data));
}

/// The same store under the real binary (`sportello serve` with its own allocator, see
/// src/main.rs): start-up until `/healthz` answers, memory once started, and once a
/// broadcast to Madone's 50,000 subscribers has fanned out (each subscriber read a page at
/// a time, as a broadcast does). No provider is configured: the sends wait and retry.
async fn binary_phase(data: &std::path::Path) {
    let exe = env!("CARGO_BIN_EXE_sportello");
    // No configuration: no comune has a WhatsApp number, so nothing is sent.
    let config = data.with_file_name("binary-phase.toml");
    std::fs::write(&config, "").unwrap();
    let started = Instant::now();
    let child = processes::spawn(&config, data, None);
    let pid = child.child.id().to_string();
    // reqwest's rustls needs a process-wide crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    processes::wait_healthy(&http, &child.base).await;
    let up = started.elapsed();
    let (rss_up, hwm_up) = (status_kb_of(&pid, "VmRSS:"), status_kb_of(&pid, "VmHWM:"));
    let text = data.join("avviso.txt");
    std::fs::write(&text, "Prova di memoria").unwrap();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(exe)
            .args(args)
            .arg("--data")
            .arg(data)
            .output()
            .expect("sportello broadcast");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let fan_out = Instant::now();
    cli(&[
        "broadcast",
        "send",
        "--comune",
        "madone",
        "--text-it",
        text.to_str().unwrap(),
    ]);
    while !cli(&["broadcast", "list", "--comune", "madone"]).contains("\"sending\"") {
        assert!(
            fan_out.elapsed() < Duration::from_secs(120),
            "the broadcast never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fanned = fan_out.elapsed();
    let (rss_b, hwm_b) = (status_kb_of(&pid, "VmRSS:"), status_kb_of(&pid, "VmHWM:"));
    drop(child);
    println!(
        "binary-phase startup_ms={:.1} rss_started_kb={rss_up} hwm_started_kb={hwm_up} fanout_ms={:.1} rss_broadcast_kb={rss_b} hwm_broadcast_kb={hwm_b}",
        up.as_secs_f64() * 1e3,
        fanned.as_secs_f64() * 1e3
    );
}

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        dir_size(&e.path())
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

async fn load() {
    let arrivals: Arrivals = Arc::default();
    let fake = serve(
        Router::new()
            .route("/v23.0/{pnid}/messages", post(graph))
            .with_state(arrivals.clone()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("data")).unwrap());
    let (config, secrets) = config(fake);
    let server = Server::new(engine(store), config, secrets);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = [format!("http://{}/webhook/whatsapp", listener.local_addr().unwrap())];
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(sportello::app::run(server, listener, async move {
        let _ = stopped.await;
    }));
    let bare = serve(Router::new().route("/webhook/whatsapp", post(|_b: Bytes| async { StatusCode::OK }))).await;
    let bare_url = [format!("http://{bare}/webhook/whatsapp")];
    let http = reqwest::Client::builder().pool_max_idle_per_host(1024).build().unwrap();

    let n_rate = (RATE * RATE_SECONDS) as usize;
    println!("| mode | sent | 200s | req/s | →200 p50 ms | p99 | p99.9 | →reply p50 ms | p99 | p99.9 | replies |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    // A short warm-up (connections, sled's first pages), not reported.
    let _ = full_speed(&http, &url, Arc::new(requests(500, 3_200_000_000)), 16).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    arrivals.lock().unwrap().clear();

    // `LOAD_ONLY=full` runs only sportello at full speed (for profiling with perf).
    let only_full = std::env::var("LOAD_ONLY").is_ok_and(|v| v == "full");
    if !only_full {
        for rate in [RATE / 2, RATE] {
            let run = fixed_rate(
                &http,
                &url,
                Arc::new(requests((rate * RATE_SECONDS) as usize, 3_300_000_000 + rate * 10_000)),
                rate,
            )
            .await;
            report(
                &format!("(a) sportello, {rate}/s for {RATE_SECONDS} s"),
                &run,
                Some(&arrivals),
            )
            .await;
        }
    }
    let run = full_speed(
        &http,
        &url,
        Arc::new(requests(FULL_MESSAGES, 3_400_000_000)),
        CONNECTIONS,
    )
    .await;
    let replies = if std::env::var("LOAD_NO_SEND").is_ok() {
        None
    } else {
        Some(&arrivals)
    };
    let ours = report(
        &format!("(b) sportello, full speed, {CONNECTIONS} connections"),
        &run,
        replies,
    )
    .await;
    if only_full {
        return;
    }
    let run = fixed_rate(&http, &bare_url, Arc::new(requests(n_rate, 3_500_000_000)), RATE).await;
    report(&format!("(a) bare handler, {RATE}/s for {RATE_SECONDS} s"), &run, None).await;
    let run = full_speed(
        &http,
        &bare_url,
        Arc::new(requests(FULL_MESSAGES, 3_600_000_000)),
        CONNECTIONS,
    )
    .await;
    let theirs = report(
        &format!("(b) bare handler, full speed, {CONNECTIONS} connections"),
        &run,
        None,
    )
    .await;
    println!(
        "\nthroughput ratio sportello / bare handler (full speed): {:.3}",
        ours / theirs
    );
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), running).await;
}
