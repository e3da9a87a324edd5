//! Issue #27: several `sportello serve` processes on one PostgreSQL database (all-active).
//!
//! 1. **Starting together.** Four processes started at once on an empty database, or on one
//!    a few migrations behind, all come up, twenty times over, and the migrations are applied
//!    once each. A migration that fails names its cause.
//! 2. **A citizen's replies in order across a crash.** A process is killed while one of a
//!    citizen's replies is in flight and the next one waits in its outbox; the citizen's next
//!    message goes to the survivor. The survivor takes the waiting reply over and must send it
//!    before its own reply to the later message: the order is checked at the fake provider.
//!
//! Needs PostgreSQL as `tests/storage.rs` does (`SPORTELLO_TEST_DATABASE_URL`).

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use sportello::storage::postgres::MIGRATIONS;

use crate::harness::postgres::test_database_url;
use crate::harness::server::wa_text;
use crate::harness::standby::{command, post_signed, texts, until, url_with_schema, wait_active, Serve, Setup};

/// The migrations a database three behind has: those of an older sportello.
const BEHIND: usize = 3;

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// An empty schema named `schema`; with `behind`, at migration 3 as an older sportello left
/// it; with `broken`, a table in the way of migration 4 as well.
async fn schema_at(client: &tokio_postgres::Client, schema: &str, behind: bool, broken: bool) {
    client
        .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .unwrap();
    if !behind {
        return;
    }
    let mut sql = format!(
        "SET search_path TO \"{schema}\";
         CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now());"
    );
    for (version, name, text) in &MIGRATIONS[..BEHIND] {
        sql.push_str(text);
        sql.push_str(&format!(
            ";INSERT INTO schema_migrations (version, name) VALUES ({version}, '{name}');"
        ));
    }
    if broken {
        sql.push_str("CREATE TABLE replicas (whatever INTEGER);");
    }
    sql.push_str("RESET search_path;");
    client.batch_execute(&sql).await.unwrap();
}

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "storage = \"postgres\"\n[postgres]\nprocesses = \"all-active\"\n\
         [comuni.assemini]\nwhatsapp_phone_number_id = \"pn-assemini\"\n",
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_start_together_on_an_empty_or_old_database_twenty_times() {
    let Some(url) = test_database_url() else { return };
    let client = connect(&url).await;
    let http = reqwest::Client::new();
    let nanos = jiff::Timestamp::now().as_nanosecond();
    for round in 0..20 {
        let schema = format!("test_start_{nanos}_{round}");
        // Every third round finds a database three migrations behind.
        let behind = round % 3 == 2;
        schema_at(&client, &schema, behind, false).await;
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let proc_url = url_with_schema(&url, &schema);
        // One data directory: they share the master key the first one writes.
        let procs: Vec<Serve> = (0..4)
            .map(|_| Serve::start_with(&config, &dir.path().join("data"), &proc_url))
            .collect();
        for (i, p) in procs.iter().enumerate() {
            let base = p.base().await;
            wait_active(&http, &base, Duration::from_secs(60)).await;
            assert!(p.said("all-active"), "round {round}, process {i}");
        }
        let versions = client
            .query(
                &format!("SELECT version FROM \"{schema}\".schema_migrations ORDER BY version"),
                &[],
            )
            .await
            .unwrap();
        let versions: Vec<i64> = versions.iter().map(|r| i64::from(r.get::<_, i32>(0))).collect();
        assert_eq!(
            versions,
            MIGRATIONS.iter().map(|m| i64::from(m.0)).collect::<Vec<_>>(),
            "round {round} (behind: {behind})"
        );
        drop(procs);
        client
            .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_that_fails_names_its_cause_and_the_process_does_not_serve() {
    let Some(url) = test_database_url() else { return };
    let client = connect(&url).await;
    let schema = format!(
        "test_broken_{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond()
    );
    schema_at(&client, &schema, true, true).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut child = command(&config, &dir.path().join("data"), &url_with_schema(&url, &schema))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "still running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
    assert!(!status.success());
    assert!(
        err.contains("migration 4 (replicas) failed") && err.contains("\"replicas\" already exists"),
        "{err}"
    );
    assert!(!err.contains("db error\n"), "{err}");
}

const COMUNE: &str = "assemini";
/// Citizens caught at each kill; kills.
const AT_ONCE: usize = 8;
const KILLS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizens_replies_keep_their_order_when_the_process_sending_them_is_killed() {
    let Some(url) = test_database_url() else { return };
    let extra = "[postgres]\nprocesses = \"all-active\"\n";
    let Setup {
        store: _store,
        proc_url,
        fake,
        dir,
        http,
        guard: _guard,
        ..
    } = Setup::new(&url, "replyorder", COMUNE, extra).await;
    let mut procs = [Serve::start(dir.path(), &proc_url), Serve::start(dir.path(), &proc_url)];
    let mut bases = [procs[0].base().await, procs[1].base().await];
    for base in &bases {
        wait_active(&http, base, Duration::from_secs(60)).await;
    }
    let mut checked = 0;
    for kill in 0..KILLS {
        let (doomed, survivor) = (kill % 2, (kill + 1) % 2);
        let citizens: Vec<String> = (0..AT_ONCE).map(|c| format!("39336{kill:02}{c:05}")).collect();
        // The provider holds every request: the greeting's first reply stays in flight, its
        // second waits behind it in the doomed process's outbox.
        fake.lock().unwrap().hold = true;
        for (c, from) in citizens.iter().enumerate() {
            let body = wa_text(
                COMUNE,
                from,
                &format!("wamid.r.{kill}.{c}.0"),
                1_800_000_000,
                "Buongiorno",
            );
            assert_eq!(post_signed(&http, &bases[doomed], &body).await, 200);
        }
        until(
            Duration::from_secs(30),
            "each greeting's first reply at the provider",
            || citizens.iter().all(|from| texts(&fake, from).len() == 1),
        )
        .await;
        procs[doomed].child.kill().unwrap();
        procs[doomed].child.wait().unwrap();
        fake.lock().unwrap().hold = false;
        // The next message reaches the survivor, which runs it at once: its reply waits for
        // the one taken over from the killed process (after `shared::DEAD_AFTER`).
        for (c, from) in citizens.iter().enumerate() {
            let body = wa_text(COMUNE, from, &format!("wamid.r.{kill}.{c}.1"), 1_800_000_001, "Mario");
            assert_eq!(post_signed(&http, &bases[survivor], &body).await, 200);
        }
        until(Duration::from_secs(60), "the waiting reply and the next one", || {
            citizens.iter().all(|from| texts(&fake, from).len() >= 3)
        })
        .await;
        for from in &citizens {
            let got = texts(&fake, from);
            assert!(got[0].starts_with("Benvenuto/a"), "kill {kill}: {got:#?}");
            assert_eq!(
                got[1..],
                ["Per iniziare, scriva il suo nome.", "Ora scriva il suo cognome."],
                "kill {kill}: replies out of order"
            );
            checked += 1;
        }
        procs[doomed] = Serve::start(dir.path(), &proc_url);
        bases[doomed] = procs[doomed].base().await;
        wait_active(&http, &bases[doomed], Duration::from_secs(60)).await;
    }
    assert_eq!(checked, AT_ONCE * KILLS);
}
