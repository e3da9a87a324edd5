//! The engine on each durable backend: sled and PostgreSQL, steps per second and per-step
//! latency. Run with `SPORTELLO_TEST_DATABASE_URL=postgres://… cargo bench --bench store`
//! (without the variable only sled runs). A number after `--` scales the step counts.
//!
//! A step is `Engine::handle` (as in `benches/engine.rs`: read the record, step, write it,
//! ledger and counters, render) and then what makes it durable: `Store::flush`, after every
//! step, or shared by the group commit as the server does (64 tasks on 2 worker threads).
//! The threads mode runs OS threads that each flush after every step.
//!
//! Both stores are sealed as `serve` opens them (issue 24: `storage::sealed`, the keyring
//! in the data directory or in the database); `-- plain` runs them bare, as before.
//! `-- pg` runs PostgreSQL only, `-- connections=2` one connection count only.
//!
//! PostgreSQL runs in a fresh schema, dropped at the end; with `STORE_GROWN=NAME`, in a copy
//! of the grown database NAME on the same server instead (`cargo bench --bench load -- grow`;
//! set `SPORTELLO_MASTER_KEY_FILE` as it says), one copy per connection count, dropped
//! afterwards. This file measures; it must not assert on figures nor write into the
//! repository.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use sportello::dialogue::{Body, Inbound};
use sportello::flow;
use sportello::i18n::Locales;
use sportello::service::runner::Engine;
use sportello::storage::commit::GroupCommit;
use sportello::storage::{CitizenKey, PgOptions, PgStore, SledStore, Store};

#[path = "load/template.rs"]
mod template;

/// Each comune's conversation, walked again and again by every citizen of that comune.
const SCRIPTS: [(&str, &[&str]); 3] = [
    ("brusson", &["MI ISCRIVO", "ciao", "FRANÇAIS", "MI CANCELO", "VOGLIO ISCRIVERMI", "ITALIANO", "MI CANCELLO"]),
    (
        "isili",
        &[
            "REGISTRAZIONE Mario Rossi - Isili 12/03/1980 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy",
            "ciao",
            "CANCELLAZIONE",
        ],
    ),
    ("assemini", &["buongiorno", "Maria", "Rossi", "12/03/1980", "ISCRIVIMI", "sì", "A che ora apre l'anagrafe?", "CANCELLAMI"]),
];

const MANY: usize = 10_000;

fn engine(store: Arc<dyn Store>) -> Arc<Engine> {
    let locales = Locales::embedded().unwrap_or_else(|e| panic!("locales: {e:?}"));
    let flows = flow::load_embedded(&locales).unwrap_or_else(|e| panic!("flows: {e:?}"));
    Arc::new(Engine::new(flows, locales, store))
}

/// Citizen `i`'s key and its message number `n` (its comune is `i mod 3`).
fn message(citizen: usize, n: usize) -> (CitizenKey, Inbound) {
    let (comune, script) = SCRIPTS[citizen % 3];
    let key = CitizenKey::new(comune, "whatsapp", &format!("39333{citizen:07}"));
    let inbound = Inbound {
        id: format!("wamid.{citizen}.{n}"),
        body: Body::Text {
            text: script[n % script.len()].to_string(),
        },
    };
    (key, inbound)
}

fn now() -> Timestamp {
    "2026-11-23T09:30:00Z".parse().unwrap()
}

fn row(mode: &str, mut latencies: Vec<u64>, elapsed: Duration) -> String {
    latencies.sort_unstable();
    let q = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i] as f64 / 1000.0
    };
    format!(
        "| {mode} | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        q(0.50),
        q(0.99),
        q(0.999),
    )
}

/// `steps` steps one after another, `durable` after each.
fn sequential(mode: &str, engine: &Engine, steps: usize, durable: &dyn Fn()) -> String {
    let mut latencies = Vec::with_capacity(steps);
    let started = Instant::now();
    for j in 0..steps {
        let (key, inbound) = message(j % MANY, j / MANY);
        let t = Instant::now();
        engine.handle(&key, &inbound, now()).expect("step");
        durable();
        latencies.push(t.elapsed().as_nanos() as u64);
    }
    row(mode, latencies, started.elapsed())
}

/// `threads` OS threads, each with its own citizens, `steps` in all, each step flushed.
fn threaded(mode: &str, engine: &Arc<Engine>, threads: usize, steps: usize) -> String {
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                let mine: Vec<usize> = (t..MANY).step_by(threads).collect();
                (0..steps / threads)
                    .map(|j| {
                        let (key, inbound) = message(mine[j % mine.len()], j / mine.len());
                        let t = Instant::now();
                        engine.handle(&key, &inbound, now()).expect("step");
                        engine.store.flush().expect("flush");
                        t.elapsed().as_nanos() as u64
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let latencies = handles.into_iter().flat_map(|h| h.join().expect("thread")).collect();
    row(mode, latencies, started.elapsed())
}

/// The server's mode: 64 tasks on a runtime of 2 worker threads (as `serve` on this
/// machine), each step's store work on the blocking pool when the store waits on the
/// network (as the server's pipeline runs it) and acknowledged after the shared group flush.
fn grouped(mode: &str, engine: &Arc<Engine>, steps: usize) -> String {
    const TASKS: usize = 64;
    let gc = GroupCommit::new(engine.store.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let started = Instant::now();
    let latencies = rt.block_on(async {
        let handles: Vec<_> = (0..TASKS)
            .map(|task| {
                let (engine, gc) = (engine.clone(), gc.clone());
                tokio::spawn(async move {
                    let mine: Vec<usize> = (task..MANY).step_by(TASKS).collect();
                    let mut lat = Vec::new();
                    for j in 0..steps / TASKS {
                        let (key, inbound) = message(mine[j % mine.len()], j / mine.len());
                        let t = Instant::now();
                        // Off the async workers when the store waits on the network, as
                        // the server runs a step's store work (`Server::off_workers`).
                        if engine.store.waits_on_network() {
                            let e = engine.clone();
                            tokio::task::spawn_blocking(move || e.handle(&key, &inbound, now()).expect("step"))
                                .await
                                .expect("step task");
                        } else {
                            engine.handle(&key, &inbound, now()).expect("step");
                        }
                        gc.durable().await.expect("durable");
                        lat.push(t.elapsed().as_nanos() as u64);
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.await.expect("task"));
        }
        all
    });
    let elapsed = started.elapsed();
    gc.shutdown().expect("final flush");
    row(mode, latencies, elapsed)
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let steps: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(4_000);
    let plain = args.iter().any(|a| a == "plain");
    let pg_only = args.iter().any(|a| a == "pg");
    let only_connections: Option<usize> = args.iter().find_map(|a| a.strip_prefix("connections=")?.parse().ok());
    let seal = if plain { "bare" } else { "sealed" };
    println!("sportello store benchmark: {cores} cores, {steps} steps per mode, stores {seal}");
    println!();
    println!("| backend, mode | steps | steps/s | p50 µs | p99 µs | p99.9 µs |");
    println!("|---|---|---|---|---|---|");

    let dir = tempfile::tempdir().expect("temp dir");
    if !pg_only {
        let sled: Arc<dyn Store> = if plain {
            Arc::new(SledStore::open(dir.path()).expect("sled"))
        } else {
            Arc::new(
                sportello::storage::sealed::migrate::open_sled(dir.path())
                    .expect("sealed sled")
                    .0,
            )
        };
        let e = engine(sled.clone());
        println!(
            "{}",
            sequential("sled, 1 thread, flush after every step", &e, steps, &|| sled
                .flush()
                .expect("flush"))
        );
        println!("{}", grouped("sled, 64 tasks, group commit", &e, steps * 4));
        drop(e);
    }

    let Some(url) = std::env::var("SPORTELLO_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!();
        println!("(PostgreSQL skipped: set SPORTELLO_TEST_DATABASE_URL)");
        return;
    };
    let schema = format!("bench_{}", std::process::id());
    let grown = std::env::var("STORE_GROWN").ok().filter(|g| !g.is_empty());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    if let Some(g) = &grown {
        println!("(PostgreSQL: copies of the grown database {g})");
    }
    for connections in [1, 2, 4, 8] {
        if only_connections.is_some_and(|n| n != connections) {
            continue;
        }
        let mut options = match &grown {
            Some(template) => PgOptions::new(&rt.block_on(template::copy_of(&url, template, &schema))),
            None => {
                let _ = PgStore::drop_schema(&url, &schema);
                let mut options = PgOptions::new(&url);
                options.schema = Some(schema.clone());
                options
            }
        };
        options.connections = connections;
        let bare = PgStore::open(&options).expect("postgres");
        let pg: Arc<dyn Store> = if plain {
            Arc::new(bare)
        } else {
            let keys = tempfile::tempdir().expect("temp dir");
            Arc::new(
                sportello::storage::sealed::postgres::open_postgres(bare, keys.path())
                    .expect("sealed postgres")
                    .0,
            )
        };
        let e = engine(pg.clone());
        if connections == 1 {
            println!(
                "{}",
                sequential("postgres, 1 thread, flush after every step", &e, steps, &|| pg
                    .flush()
                    .expect("flush"))
            );
        }
        println!(
            "{}",
            grouped(
                &format!("postgres, {connections} connections, 64 tasks, group commit"),
                &e,
                steps * 4
            )
        );
        let threads = connections * 4;
        println!(
            "{}",
            threaded(
                &format!("postgres, {connections} connections, {threads} threads, flush after every step"),
                &e,
                threads,
                steps,
            )
        );
        drop(e);
        drop(pg);
        if grown.is_some() {
            rt.block_on(template::drop_copy(&url, &schema));
        }
    }
    if grown.is_none() {
        let _ = PgStore::drop_schema(&url, &schema);
    }
}
