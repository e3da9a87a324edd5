//! Benchmark of the dialogue engine with sled persistence: steps per second and per-step
//! latency (p50, p99, p99.9) in four durability modes. Run with `cargo bench --bench engine`.
//!
//! A step is `Engine::handle` (load the record, step, write it, render the replies) on the
//! embedded flows and locales, a sled store in a temporary directory and a fixed clock
//! (Monday 23 November 2026, 10:30 in Rome: offices open). Messages are the real ones:
//! Brusson subscribe / language / misspelled cancel / re-subscribe, Isili's one-shot
//! registration line, Assemini's step-by-step first contact, a question and the cancel.
//!
//! `-- plain` runs it on bare sled (as before issue 24); by default the store is sealed, as
//! `serve` opens it. `-- only=a` (or `only=cd`, …) runs only those modes.
//!
//! This file measures; it must not assert on figures (machines differ) nor write into the
//! repository: it prints a Markdown table that goes into `BENCHMARKS.md` by hand.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// The binary's allocator (src/main.rs), so that the figures are the shipped engine's. Run
/// with `MIMALLOC_PURGE_DELAY=0 MIMALLOC_ARENA_EAGER_COMMIT=0` for the settings `serve` uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use jiff::Timestamp;
use sportello::dialogue::{Body, Inbound};
use sportello::flow;
use sportello::i18n::Locales;
use sportello::service::runner::Engine;
use sportello::storage::commit::GroupCommit;
use sportello::storage::{CitizenKey, SledStore, Store};

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
const TASKS: usize = 64;

/// Whether the store is sealed (`storage::sealed`, what `serve` runs since issue 24) or
/// bare sled (`plain` on the command line: the figures before sealing).
static SEALED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// A fresh engine on a fresh sled directory (kept alive by the returned guard).
fn engine() -> (Arc<Engine>, SledStore, tempfile::TempDir) {
    let locales = Locales::embedded().unwrap_or_else(|e| panic!("locales: {e:?}"));
    let flows = flow::load_embedded(&locales).unwrap_or_else(|e| panic!("flows: {e:?}"));
    let dir = tempfile::tempdir().expect("temp dir");
    // The sled store's flushes are counted, to report how many steps one group flush covered.
    let (store, counted): (Arc<dyn Store>, SledStore) = if *SEALED.get().unwrap_or(&true) {
        let (sealed, _) = sportello::storage::sealed::migrate::open_sled(dir.path()).expect("sealed sled");
        let counted = sealed.inner().clone();
        (Arc::new(sealed), counted)
    } else {
        let sled = SledStore::open(dir.path()).expect("sled");
        (Arc::new(sled.clone()), sled)
    };
    (Arc::new(Engine::new(flows, locales, store)), counted, dir)
}

/// Citizen `i`'s key and its message number `n` (its comune is `i mod 3`).
fn message(citizen: usize, n: usize, one_number: bool) -> (CitizenKey, Inbound) {
    // One citizen writes the three conversations in turn under one number; many citizens
    // each stay with one comune.
    let (comune, text) = if one_number {
        let all: usize = SCRIPTS.iter().map(|(_, s)| s.len()).sum();
        SCRIPTS
            .iter()
            .flat_map(|(c, s)| s.iter().map(move |t| (*c, *t)))
            .nth(n % all)
            .unwrap_or(("brusson", "ciao"))
    } else {
        let (c, s) = SCRIPTS[citizen % 3];
        (c, s[n % s.len()])
    };
    let key = CitizenKey::new(comune, "whatsapp", &format!("39333{citizen:07}"));
    let inbound = Inbound {
        id: format!("wamid.{citizen}.{n}"),
        body: Body::Text { text: text.to_string() },
    };
    (key, inbound)
}

struct Figures {
    mode: &'static str,
    steps: usize,
    elapsed: Duration,
    latencies: Vec<u64>,
    note: String,
}

impl Figures {
    fn row(mut self) -> String {
        self.latencies.sort_unstable();
        let q = |p: f64| {
            let i = ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len()) - 1;
            self.latencies[i] as f64 / 1000.0
        };
        format!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
            self.mode,
            self.steps,
            self.steps as f64 / self.elapsed.as_secs_f64(),
            q(0.50),
            q(0.99),
            q(0.999),
            self.note
        )
    }
}

/// Runs `steps` steps one after another on this thread, `flush` after each when asked.
fn sequential(mode: &'static str, citizens: usize, steps: usize, flush_each: bool) -> Figures {
    let (engine, _, _dir) = engine();
    let now: Timestamp = "2026-11-23T09:30:00Z".parse().unwrap();
    let mut latencies = Vec::with_capacity(steps);
    let started = Instant::now();
    for j in 0..steps {
        // Round robin: every citizen advances one message before any advances two.
        let (key, inbound) = message(j % citizens, j / citizens, citizens == 1);
        let t = Instant::now();
        engine.handle(&key, &inbound, now).expect("step");
        if flush_each {
            engine.store.flush().expect("flush");
        }
        latencies.push(t.elapsed().as_nanos() as u64);
    }
    Figures {
        mode,
        steps,
        elapsed: started.elapsed(),
        latencies,
        note: String::new(),
    }
}

/// Many citizens from `TASKS` tasks on a current-thread runtime, each step acknowledged only
/// after `GroupCommit::durable` (the server's mode). Latency includes the wait for the flush.
fn grouped(mode: &'static str, steps: usize) -> Figures {
    let (engine, counted, _dir) = engine();
    let gc = GroupCommit::new(engine.store.clone());
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let per_task = steps / TASKS;
    let started = Instant::now();
    let latencies = rt.block_on(async {
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let (engine, gc) = (engine.clone(), gc.clone());
            handles.push(tokio::spawn(async move {
                let now: Timestamp = "2026-11-23T09:30:00Z".parse().unwrap();
                let mine: Vec<usize> = (task..MANY).step_by(TASKS).collect();
                let mut lat = Vec::with_capacity(per_task);
                for j in 0..per_task {
                    let (key, inbound) = message(mine[j % mine.len()], j / mine.len(), false);
                    let t = Instant::now();
                    engine.handle(&key, &inbound, now).expect("step");
                    gc.durable().await.expect("durable");
                    lat.push(t.elapsed().as_nanos() as u64);
                }
                lat
            }));
        }
        let mut all = Vec::with_capacity(steps);
        for h in handles {
            all.extend(h.await.expect("task"));
        }
        all
    });
    let elapsed = started.elapsed();
    gc.shutdown().expect("final flush");
    let flushes = counted.flushes().max(1);
    let done = latencies.len();
    let note = format!("{flushes} flushes, {:.1} steps per flush", done as f64 / flushes as f64);
    Figures {
        mode,
        steps: done,
        elapsed,
        latencies,
        note,
    }
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    // `cargo bench` passes `--bench`; a number (e.g. `-- 20000`) scales the step counts.
    let steps: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200_000);
    let sealed = !std::env::args().any(|a| a == "plain");
    SEALED.set(sealed).expect("set once");
    let store = if sealed {
        "sealed (per-citizen keys)"
    } else {
        "plain (not sealed)"
    };
    // `only=ac` runs only those modes (for profiling one of them).
    let only = std::env::args()
        .find_map(|a| a.strip_prefix("only=").map(str::to_string))
        .unwrap_or_else(|| "abcd".into());
    let runs = |mode: char| only.contains(mode);
    println!("sportello engine benchmark: {cores} cores, sled 0.34.7, {store}, {steps} steps per non-flushing mode");
    println!();
    println!("| mode | steps | steps/s | p50 µs | p99 µs | p99.9 µs | notes |");
    println!("|---|---|---|---|---|---|---|");
    // Printed as each mode ends, so a slow disk shows progress.
    if runs('a') {
        println!(
            "{}",
            sequential("(a) 1 citizen, no flush per step", 1, steps, false).row()
        );
    }
    if runs('b') {
        println!(
            "{}",
            sequential("(b) 10,000 citizens, no flush per step", MANY, steps, false).row()
        );
    }
    if runs('c') {
        println!(
            "{}",
            sequential("(c) 1 citizen, flush after every step", 1, steps / 100, true).row()
        );
    }
    if runs('d') {
        println!(
            "{}",
            grouped("(d) 10,000 citizens, 64 tasks, group commit", steps / 2).row()
        );
    }
}
