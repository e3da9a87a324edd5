//! Broadcast benchmark (issue #5): `cargo bench --bench broadcast [-- SUBSCRIBERS]`.
//!
//! Stores SUBSCRIBERS (default 100,000) WhatsApp subscribers of Brusson's `info` category in
//! sled (a temporary directory), then, each in a child process of this binary (so each
//! memory high-water mark is its own): the real server with its broadcast worker and a fake
//! Graph API on loopback that counts what it receives; one broadcast to every subscriber,
//! (a) paced at 1,000 msg/s and (b) unpaced (the pace set out of reach: the worker's
//! concurrency, the durable in-flight marks and the loopback HTTP are the limit). Reported:
//! the checks and fan-out time, the sending time from the first to the last message the
//! fake received, its distance from SUBSCRIBERS / pace, sends per second, and VmHWM.
//!
//! This file measures; it must not assert on figures nor write into the repository, and it
//! talks only to 127.0.0.1. Every wait is bounded in time.

use sportello::storage::CitizenStore;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use sportello::broadcast::plan::{self, Request};
use sportello::broadcast::BroadcastState;
use sportello::config::{ComuneChannels, Config, Secrets};
use sportello::dialogue::{Citizen, State as Dialogue};
use sportello::flow;
use sportello::i18n::Locales;
use sportello::server::Server;
use sportello::service::runner::Engine;
use sportello::storage::{CitizenKey, SledStore, Store};

const DEFAULT_SUBSCRIBERS: usize = 100_000;
const PACE: u32 = 1_000;

/// What the fake Graph API saw: a count and the first and last arrival.
#[derive(Default)]
struct Seen {
    count: AtomicUsize,
    span: Mutex<Option<(Instant, Instant)>>,
}

async fn graph(State(seen): State<Arc<Seen>>, Json(_body): Json<Value>) -> Json<Value> {
    let now = Instant::now();
    let n = seen.count.fetch_add(1, Ordering::SeqCst) + 1;
    {
        let mut span = seen.span.lock().unwrap();
        *span = Some(span.map_or((now, now), |(first, _)| (first, now)));
    }
    Json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.bench.{n}")}]}))
}

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn populate(dir: &std::path::Path, n: usize) -> Duration {
    let t = Instant::now();
    let store = SledStore::open(dir).expect("open");
    let now = jiff::Timestamp::now();
    for i in 0..n {
        let mut c = Citizen::new(now);
        c.state = Dialogue::Subscribed;
        c.language = Some(if i % 2 == 0 { "it" } else { "fr" }.into());
        c.categories = ["info".to_string()].into();
        c.subscribed_at = Some(now);
        store
            .put_citizen(&CitizenKey::new("brusson", "whatsapp", &format!("39333{i:07}")), &c)
            .expect("put");
    }
    store.flush().expect("flush");
    t.elapsed()
}

/// Child process: one broadcast to every subscriber at `per_second`.
fn child(dir: &std::path::Path, per_second: u32, n: usize, label: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let seen = Arc::new(Seen::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake: SocketAddr = listener.local_addr().unwrap();
        let router = Router::new()
            .route("/v23.0/{pnid}/messages", post(graph))
            .with_state(seen.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir).expect("open"));
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let locales = Locales::load_dir(&root.join("locales")).expect("locales");
        let flows = flow::load_dir(&root.join("flows"), &locales).expect("flows");
        let engine = Engine::new(flows, locales, store.clone());
        let mut config = Config {
            graph_url: format!("http://{fake}/v23.0"),
            ..Config::default()
        };
        config.broadcast.whatsapp_per_second = per_second;
        config.comuni.insert(
            "brusson".into(),
            ComuneChannels {
                whatsapp_phone_number_id: Some("pn-brusson".into()),
                ..Default::default()
            },
        );
        let secrets = Secrets::from_vars([("SPORTELLO_WHATSAPP_TOKEN".to_string(), "t".to_string())]);
        let server = Server::new(engine, config.clone(), secrets);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(sportello::app::run(server.clone(), listener, async move {
            let _ = stopped.await;
        }));

        let texts: BTreeMap<String, String> = [
            ("it".to_string(), "Prova di carico".to_string()),
            ("fr".to_string(), "Essai de charge".to_string()),
        ]
        .into();
        let req = Request {
            comune: "brusson".into(),
            category: Some("info".into()),
            texts,
            media: None,
            send_at: None,
            created_by: "bench".into(),
        };
        let t0 = Instant::now();
        let (id, _, audience) = {
            let (s, config) = (server.clone(), config.clone());
            tokio::task::spawn_blocking(move || {
                let e = &s.engine;
                plan::create(
                    &e.flows,
                    &e.locales,
                    &config,
                    e.store.as_ref(),
                    &req,
                    jiff::Timestamp::now(),
                )
            })
            .await
            .unwrap()
            .expect("create")
        };
        let checked = t0.elapsed();
        server.broadcast_wake.notify_one();
        // Fanned out: the state moves to sending once every entry is written and flushed.
        let mut fanned = None;
        let limit = Duration::from_secs(120 + 3 * n as u64 / per_second.min(500) as u64);
        while t0.elapsed() < limit {
            let st = store.broadcast(id).unwrap().unwrap().state;
            if fanned.is_none() && matches!(st, BroadcastState::Sending | BroadcastState::Done) {
                fanned = Some(t0.elapsed());
            }
            if seen.count.load(Ordering::SeqCst) >= n && st == BroadcastState::Done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let total = t0.elapsed();
        let got = seen.count.load(Ordering::SeqCst);
        let (first, last) = seen.span.lock().unwrap().unwrap_or((t0, t0));
        let sending = (last - first).as_secs_f64();
        let ideal = (n.saturating_sub(1)) as f64 / f64::from(per_second);
        let f = sportello::broadcast::figures(store.as_ref(), id, "brusson").unwrap();
        println!(
            "| {label} | {} | {got} | {:.2} | {:.2} | {sending:.2} | {} | {:.0} | {} | {} | {:.1} s |",
            audience.total,
            checked.as_secs_f64(),
            fanned.unwrap_or_default().as_secs_f64(),
            if per_second >= 100_000 {
                "—".to_string()
            } else {
                format!("{:+.2} % of {ideal:.1} s", (sending - ideal) / ideal * 100.0)
            },
            got as f64 / sending.max(1e-9),
            f.sent,
            status_kb("VmHWM:") / 1024,
            total.as_secs_f64(),
        );
        let _ = stop.send(());
        let _ = running.await;
    });
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let dir = std::path::Path::new(&args[2]);
        let per_second: u32 = args[3].parse().unwrap();
        let n: usize = args[4].parse().unwrap();
        return child(dir, per_second, n, &args[5]);
    }
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(DEFAULT_SUBSCRIBERS);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let took = populate(&data, n);
    println!("populated {n} subscribers in {:.1} s\n", took.as_secs_f64());
    println!("| mode | recipients | received | checks s | fan-out done s | sending s (first→last) | vs pace | msg/s | sent (figures) | VmHWM MiB | total |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (per_second, label) in [(PACE, "paced 1,000/s"), (10_000_000, "unpaced")] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--child",
                &data.display().to_string(),
                &per_second.to_string(),
                &n.to_string(),
                label,
            ])
            .env("SPORTELLO_LOG", "warn")
            .output()
            .expect("child");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
