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
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sportello::storage::postgres::serve_lock_key;
use sportello::storage::{PgStore, Store};

use crate::server::wa_text;
use crate::storage::{test_database_url, TestSchema};
use crate::util;

pub(crate) const APP_SECRET: &str = "standby-app-secret";
const COMUNE: &str = "madone";

/// A `sportello serve` child, killed when dropped; its standard output collected by a thread.
pub(crate) struct Serve {
    pub(crate) child: Child,
    pub(crate) out: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    pub(crate) fn start(dir: &Path, url: &str) -> Serve {
        Serve::start_with(&dir.join("config.toml"), &dir.join("data"), url)
    }

    pub(crate) fn start_with(config: &Path, data: &Path, url: &str) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
            .args(["serve", "--bind", "127.0.0.1:0", "--config"])
            .arg(config)
            .arg("--data")
            .arg(data)
            .current_dir(util::root())
            .env("SPORTELLO_DATABASE_URL", url)
            .env("SPORTELLO_WHATSAPP_APP_SECRET", APP_SECRET)
            .env("SPORTELLO_WHATSAPP_VERIFY_TOKEN", "verify")
            .env("SPORTELLO_WHATSAPP_TOKEN", "t")
            // A given password: no random one to generate and print.
            .env("SPORTELLO_ADMIN_PASSWORD", "standby-admin-password")
            .env("SPORTELLO_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn sportello serve");
        let out = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let lines = out.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Serve { child, out }
    }

    pub(crate) fn said(&self, text: &str) -> bool {
        self.out.lock().unwrap().iter().any(|l| l.contains(text))
    }

    /// The address it listens on, from the first line naming it (standby or active).
    pub(crate) async fn base(&self) -> String {
        let started = Instant::now();
        loop {
            let found = self.out.lock().unwrap().iter().find_map(|l| {
                let at = l.find(" on http://")?;
                Some(l[at + 4..].split_whitespace().next()?.to_string())
            });
            if let Some(base) = found {
                return base;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "no address printed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test URL with the schema as search path of every session the binary opens.
pub(crate) fn url_with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, String) {
    let r = http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

pub(crate) async fn post_signed(http: &reqwest::Client, base: &str, body: &Value) -> u16 {
    crate::server::signed_request(http, base, APP_SECRET, body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Polls until `/healthz` answers 200; returns how long it took.
pub(crate) async fn wait_active(http: &reqwest::Client, base: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < limit,
            "{base} did not become active within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The replies the fake Graph API received (read receipts left out): (to, text).
pub(crate) fn replies(fake: &Arc<Mutex<crate::broadcast::Fake>>) -> Vec<(String, String)> {
    fake.lock()
        .unwrap()
        .got
        .iter()
        .filter(|(_, to, _)| !to.is_empty())
        .map(|(_, to, body)| {
            (
                to.clone(),
                body["text"]["body"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn wait_replies(fake: &Arc<Mutex<crate::broadcast::Fake>>, n: usize) -> Vec<(String, String)> {
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

/// Rows in the inbound journal, done or not (`pending_inbound` lists only the pending).
pub(crate) async fn count_journal(url: &str, schema: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let sql = format!("SELECT count(*) FROM \"{schema}\".inboundid_inbound");
    client.query_one(&sql, &[]).await.unwrap().get(0)
}

/// What a test of several `sportello serve` children on one database starts from: a fresh
/// PostgreSQL schema (dropped at the end), a fake Graph API, and a directory holding
/// `config.toml` (PostgreSQL, the fake's URL, `comune` on WhatsApp, then `extra`).
pub(crate) struct Setup {
    pub(crate) store: PgStore,
    pub(crate) schema: String,
    /// The test URL with the schema as every session's search path.
    pub(crate) proc_url: String,
    pub(crate) fake: Arc<Mutex<crate::broadcast::Fake>>,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) http: reqwest::Client,
    /// Drops the schema when dropped: keep it bound to the end of the test.
    pub(crate) guard: TestSchema,
}

impl Setup {
    pub(crate) async fn new(url: &str, label: &str, comune: &str, extra: &str) -> Setup {
        let test_schema = TestSchema::new(url, label);
        let store = test_schema.open(); // creates the schema and its tables
        let schema = test_schema.options.schema.clone().unwrap();
        let (addr, fake) = crate::broadcast::fake_providers().await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            format!(
                "storage = \"postgres\"\n[whatsapp]\ngraph_url = \"http://{addr}/v23.0\"\n\
                 [comuni.{comune}]\nwhatsapp_phone_number_id = \"pn-{comune}\"\n{extra}"
            ),
        )
        .unwrap();
        // reqwest's rustls needs a process-wide crypto provider (as `Server::new` installs).
        let _ = rustls::crypto::ring::default_provider().install_default();
        Setup {
            store,
            proc_url: url_with_schema(url, &schema),
            schema,
            fake,
            dir,
            http: reqwest::Client::new(),
            guard: test_schema,
        }
    }
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
    let status = crate::active_active::exits_within(&mut mixed, Duration::from_secs(30)).await;
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
