//! Issue #10, one active process and standbys (`active_active.rs` has all active): two real `sportello serve` processes on one PostgreSQL
//! database, one active and one hot standby, with a fake Graph API in this process that
//! records every reply. The standby answers 503 and journals nothing; killed with SIGKILL,
//! the active one is replaced by the standby within seconds, which replays nothing twice and
//! deduplicates a redelivery the dead one had answered. Losing the lock's session stops a
//! process at once, non-zero.
//!
//! Needs PostgreSQL as `tests/storage.rs` does (`SPORTELLO_TEST_DATABASE_URL`); each run works
//! in a fresh schema, which reaches the spawned binaries through the URL's
//! `options=-csearch_path=…`.

use sportello::storage::JournalStore;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sportello::storage::postgres::serve_lock_key;
use sportello::storage::Store;

use crate::harness::postgres::{test_database_url, TestSchema};
use crate::harness::server::wa_text;
use crate::harness::standby::{count_journal, post_signed, replies, wait_active, Serve, Setup};

const COMUNE: &str = "madone";

async fn get(http: &reqwest::Client, url: &str) -> (u16, String) {
    let r = http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn wait_replies(fake: &Arc<Mutex<crate::harness::broadcast::Fake>>, n: usize) -> Vec<(String, String)> {
    let started = Instant::now();
    loop {
        let got = replies(fake);
        if got.len() >= n {
            return got;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "expected {n} replies, got {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Inbound messages journalled and not yet done.
fn pending(store: &dyn Store) -> usize {
    store.pending_inbound().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_standby_takes_over_when_the_active_process_is_killed() {
    let Some(url) = test_database_url() else { return };
    let Setup {
        store,
        schema,
        proc_url,
        fake,
        dir,
        http,
        guard: _guard,
    } = Setup::new(&url, "standby", COMUNE, "").await;

    // The first process takes the lock and serves.
    let mut first = Serve::start(dir.path(), &proc_url);
    let a = first.base().await;
    wait_active(&http, &a, Duration::from_secs(60)).await;

    // The second finds it held: it says so, listens, and answers 503 to everything.
    let second = Serve::start(dir.path(), &proc_url);
    let b = second.base().await;
    assert!(
        second.said("another sportello is active on this database; waiting as standby"),
        "{:?}",
        second.out.lock().unwrap()
    );
    let (status, body) = get(&http, &format!("{b}/healthz")).await;
    assert_eq!((status, body.as_str()), (503, "standby\n"));
    let early = wa_text(
        COMUNE,
        "393330000003",
        "wamid.early",
        1_800_000_000,
        "ATTIVA ISCRIZIONE",
    );
    let before = count_journal(&url, &schema).await;
    assert_eq!(post_signed(&http, &b, &early).await, 503, "a standby refuses webhooks");
    assert_eq!(count_journal(&url, &schema).await, before, "a standby journals nothing");
    assert_eq!(pending(&store), 0);

    // The active one answers each message once.
    let one = wa_text(COMUNE, "393330000001", "wamid.1", 1_800_000_001, "ATTIVA ISCRIZIONE");
    let two = wa_text(COMUNE, "393330000001", "wamid.2", 1_800_000_002, "DISATTIVA ISCRIZIONE");
    assert_eq!(post_signed(&http, &a, &one).await, 200);
    wait_replies(&fake, 1).await;
    assert_eq!(post_signed(&http, &a, &two).await, 200);
    wait_replies(&fake, 2).await;
    // Still a standby, and still nothing sent by it.
    assert_eq!(get(&http, &format!("{b}/healthz")).await.0, 503);
    // Done means recorded: the journal entries marked done and the replies marked sent. A
    // reply the provider received but not yet recorded as sent when the process dies is in
    // doubt, and is sent again by whoever recovers (at least once, as after any crash).
    let started = Instant::now();
    while pending(&store) > 0 || !store.pending_outbound().unwrap().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "work left pending");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // SIGKILL: no drain, no goodbye. The standby takes over within seconds.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let took = wait_active(&http, &b, Duration::from_secs(15)).await;
    assert!(second.said("taking over"), "{:?}", second.out.lock().unwrap());
    eprintln!("standby took over in {took:?}");

    // Meta redelivers what the dead one had answered: deduplicated, not answered again.
    assert_eq!(post_signed(&http, &b, &two).await, 200);
    // And what the standby had refused: journalled only now, answered once.
    assert_eq!(post_signed(&http, &b, &early).await, 200);
    wait_replies(&fake, 3).await;
    // A new message, to the new active one.
    let three = wa_text(COMUNE, "393330000002", "wamid.3", 1_800_000_003, "ATTIVA ISCRIZIONE");
    assert_eq!(post_signed(&http, &b, &three).await, 200);
    wait_replies(&fake, 4).await;
    // Time for a replayed duplicate, if any, to arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = replies(&fake);
    assert_eq!(got.len(), 4, "each reply exactly once: {got:#?}");
    // Citizens 2 and 3 write concurrently: order only matters per citizen.
    let mut to: Vec<&str> = got.iter().map(|(to, _)| to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        ["393330000001", "393330000001", "393330000002", "393330000003"],
        "{got:#?}"
    );
    let mut distinct = got.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "no reply twice: {got:#?}");
    for (i, (to, text)) in got.iter().enumerate() {
        assert!(!text.is_empty(), "reply {i} to {to} has no text: {got:#?}");
    }
    assert_eq!(pending(&store), 0, "nothing left pending");
    assert_eq!(
        count_journal(&url, &schema).await,
        4,
        "four distinct messages journalled"
    );

    // A process configured all-active refuses to serve beside a one-active one.
    let all = dir.path().join("all-active.toml");
    let text = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    std::fs::write(&all, format!("{text}[postgres]\nprocesses = \"all-active\"\n")).unwrap();
    let mut mixed = Serve::start_with(&all, &dir.path().join("data-mixed"), &proc_url);
    let status = crate::harness::standby::exits_within(&mut mixed, Duration::from_secs(30)).await;
    assert!(
        !status.success(),
        "an all-active process served beside a one-active one"
    );

    // The lock's session terminated under it (a DBA, a failover of PostgreSQL): the process
    // stops at once, non-zero, rather than serve without the lock.
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let terminated: i64 = client
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_locks
             WHERE locktype = 'advisory' AND granted AND objsubid = 1
             AND ((classid::bigint << 32) | objid::bigint) = $1) t",
            &[&serve_lock_key(&schema)],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(terminated, 1, "one session holds the serve lock");
    let mut second = second;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = second.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still running without the lock"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(3), "exits non-zero when the lock is lost");
}

/// The serve lock's two modes: every all-active process holds it shared at once (two
/// starting together never mistake each other for a one-active process), a one-active
/// process holds it alone, and each side is told which mode keeps it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serve_lock_is_shared_by_all_active_processes_and_exclusive_otherwise() {
    use sportello::storage::postgres::{Busy, LockMode};
    let Some(url) = test_database_url() else { return };
    let schema = TestSchema::new(&url, "lockmodes");
    let store = schema.open();
    let first = store
        .try_serve_lock(LockMode::Shared)
        .await
        .unwrap()
        .expect("first all-active");
    let second = store
        .try_serve_lock(LockMode::Shared)
        .await
        .unwrap()
        .expect("second all-active");
    assert!(matches!(
        store.try_serve_lock(LockMode::Exclusive).await.unwrap(),
        Err(Busy::Shared)
    ));
    drop(first);
    // Still held shared by the second.
    assert!(matches!(
        store.try_serve_lock(LockMode::Exclusive).await.unwrap(),
        Err(Busy::Shared)
    ));
    drop(second);
    // A dropped lock's session closes; PostgreSQL frees the lock once it notices.
    let started = Instant::now();
    let one = loop {
        match store.try_serve_lock(LockMode::Exclusive).await.unwrap() {
            Ok(lock) => break lock,
            Err(busy) => {
                assert!(started.elapsed() < Duration::from_secs(10), "still {busy:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert!(matches!(
        store.try_serve_lock(LockMode::Shared).await.unwrap(),
        Err(Busy::Exclusive)
    ));
    assert!(matches!(
        store.try_serve_lock(LockMode::Exclusive).await.unwrap(),
        Err(Busy::Exclusive)
    ));
    drop(one);
}
