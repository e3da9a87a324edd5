//! `cargo bench --bench load -- grow N DIR`: a database that has served a region for a while
//! (issue 27), for the load and store benches to run on instead of a fresh schema.
//!
//! N citizens of Madone and Brusson (the load's comuni) who subscribed by writing the load's
//! own first messages, each through a real step (`Engine::handle`: the record, the consent in
//! the ledger, the counters), each with their message in the inbound journal, done (as the
//! server leaves it until the journal is pruned), and a reply the provider took, delivered
//! (`sentid_sent`). Written sealed into a sled store at `DIR/data`, two threads, then copied
//! into the PostgreSQL database named by `LOAD_GROWN_URL` (empty) by `sportello migrate`:
//! a bulk copy in one transaction, far faster than a million steps over the network.
//!
//! The benches then copy that database for each configuration (`CREATE DATABASE … TEMPLATE`,
//! `LOAD_GROWN`, `STORE_GROWN`), so each starts from the same grown state; they open it with
//! its master key (`SPORTELLO_MASTER_KEY_FILE=DIR/data/master.key`).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use sportello::channel::{DeliveryStatus, InboundMessage};
use sportello::dialogue::{Body, Inbound};
use sportello::storage::keys::{inbound_key, sent_key};
use sportello::storage::{CitizenKey, InboundEntry, SentEntry, StepEffects, Store};

use super::TEXTS;

/// Grown citizen `i`'s number: apart from every number the load sends from (`39…`).
fn number(i: usize) -> String {
    format!("4915{i:08}")
}

pub fn run(n: usize, dir: &Path) {
    let url = std::env::var("LOAD_GROWN_URL").expect("LOAD_GROWN_URL: the empty database to grow");
    let data = dir.join("data");
    let started = Instant::now();
    let (sealed, _) = sportello::storage::sealed::migrate::open_sled(&data).expect("open the sled store");
    let store: Arc<dyn Store> = Arc::new(sealed);
    let engine = Arc::new(super::engine(store.clone()));
    const THREADS: usize = 2;
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (engine, store) = (engine.clone(), store.clone());
            scope.spawn(move || {
                let now = Timestamp::now();
                for i in (t..n).step_by(THREADS) {
                    // Joined within the last year and a half.
                    let at = now - SignedDuration::from_mins((i % 800_000) as i64);
                    let (comune, text) = TEXTS[i % 2];
                    let key = CitizenKey::new(comune, "whatsapp", &number(i));
                    let id = format!("wamid.grown.{i}");
                    let dedupe = inbound_key("whatsapp", &format!("pn-{comune}"), &id);
                    let message = InboundMessage {
                        channel: sportello::channel::Channel::Whatsapp,
                        route: format!("pn-{comune}"),
                        from: number(i),
                        id: id.clone(),
                        timestamp: at.as_second(),
                        body: Body::Text { text: text.into() },
                        callback_id: None,
                        phone: None,
                        user_id: None,
                        username: None,
                    };
                    let entry = InboundEntry {
                        key: key.clone(),
                        message: Some(message),
                        received_at: at,
                        done: false,
                        owner: None,
                    };
                    store.record_inbound(&dedupe, &entry).expect("journal");
                    let inbound = Inbound {
                        id,
                        body: Body::Text { text: text.into() },
                    };
                    engine.handle(&key, &inbound, at).expect("step");
                    let citizen = store.citizen(&key).expect("read").expect("the step wrote the record");
                    store
                        .commit_step(Some(&dedupe), &key, Some(&citizen), &[], &StepEffects::default())
                        .expect("mark the message done");
                    let sent = SentEntry {
                        key,
                        sent_at: at,
                        status: DeliveryStatus::Delivered,
                        updated_at: at,
                        errors: Vec::new(),
                        broadcast: None,
                        desk: false,
                    };
                    store
                        .put_sent(&sent_key("whatsapp", &format!("wamid.grown.reply.{i}")), &sent)
                        .expect("sent");
                    if t == 0 && i % 100_000 == 0 {
                        eprintln!("grown {i} of {n} ({:.0} s)", started.elapsed().as_secs_f64());
                    }
                }
            });
        }
    });
    store.flush().expect("flush");
    drop(engine);
    drop(store);
    println!("{n} citizens in sled in {:.0} s", started.elapsed().as_secs_f64());
    let copy = Instant::now();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["migrate", "--to", "postgres", "--from"])
        .arg(format!("sled:{}", data.display()))
        .env("SPORTELLO_DATABASE_URL", &url)
        .status()
        .expect("sportello migrate");
    assert!(status.success(), "sportello migrate failed");
    println!(
        "copied into PostgreSQL in {:.0} s; the benches open it with SPORTELLO_MASTER_KEY_FILE={}",
        copy.elapsed().as_secs_f64(),
        data.join("master.key").display()
    );
}
