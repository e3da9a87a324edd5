//! Several real `sportello serve` processes on one PostgreSQL database: the children, the
//! fake Graph API they reply through, and what the tests poll.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sportello::storage::sealed::Sealed;
use sportello::storage::PgStore;

use crate::harness::postgres::TestSchema;
use crate::util;

pub(crate) const APP_SECRET: &str = "standby-app-secret";

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
        let mut child = command(config, data, url)
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

/// `sportello serve` on `config`, `data` and the database `url`, with the secrets these
/// tests give it; standard output and error left to the caller.
pub(crate) fn command(config: &Path, data: &Path, url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sportello"));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--config"])
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
        .env("SPORTELLO_LOG", "warn");
    cmd
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

pub(crate) async fn post_signed(http: &reqwest::Client, base: &str, body: &Value) -> u16 {
    crate::harness::server::signed_request(http, base, APP_SECRET, body)
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
pub(crate) fn replies(fake: &Arc<Mutex<crate::harness::broadcast::Fake>>) -> Vec<(String, String)> {
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
    /// The database as the children see it: sealed, with the master key their data
    /// directory holds (generated here, before they start).
    pub(crate) store: Sealed<PgStore>,
    pub(crate) schema: String,
    /// The test URL with the schema as every session's search path.
    pub(crate) proc_url: String,
    pub(crate) fake: Arc<Mutex<crate::harness::broadcast::Fake>>,
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
        let (addr, fake) = crate::harness::broadcast::fake_providers().await;
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = sportello::storage::sealed::postgres::open_postgres(store, &dir.path().join("data")).unwrap();
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

/// Waits for a child to exit; fails after `limit`.
pub(crate) async fn exits_within(serve: &mut Serve, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            return status;
        }
        assert!(started.elapsed() < limit, "still running after {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The texts `to` received, in arrival order.
pub(crate) fn texts(fake: &Arc<Mutex<crate::harness::broadcast::Fake>>, to: &str) -> Vec<String> {
    replies(fake)
        .into_iter()
        .filter(|(t, _)| t == to)
        .map(|(_, text)| text)
        .collect()
}

/// Waits until `done` holds, failing with `what` after `limit`.
pub(crate) async fn until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what} (after {limit:?})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
