//! `cargo bench --bench load -- processes`: the same load against real `sportello serve`
//! child processes (the release binary), on each backend and with two processes:
//!
//! - sled, one process;
//! - PostgreSQL, one process, `processes = "one-active"` (the default: no lock per step);
//! - PostgreSQL, one process, `processes = "all-active"` (a citizen lock per step, claims);
//! - PostgreSQL, two processes, `"all-active"`, requests alternating between them.
//!
//! `LOAD_SETUPS=all-active` runs only the setups whose label contains it; `LOAD_CONNECTIONS`
//! sets `postgres.connections`, `LOAD_RATE` the open loop's rate (default 1,000/s). PostgreSQL comes from `LOAD_DATABASE_URL` (else `SPORTELLO_TEST_DATABASE_URL`); each
//! configuration works in a fresh schema, dropped afterwards. Without either, only sled runs.
//! The fake Graph API and the client are this process; the servers, PostgreSQL and they share
//! the machine's cores.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::Router;
use sportello::storage::{PgOptions, PgStore};

use super::{full_speed, graph, report, requests, serve, Arrivals, CONNECTIONS, FULL_MESSAGES, SECRET};

/// Rate of the open-loop mode (`LOAD_RATE` overrides it), and how long it runs.
const RATE: u64 = 1_000;
const SECONDS: u64 = 10;

struct Setup {
    label: &'static str,
    postgres: Option<&'static str>,
    processes: usize,
}

const SETUPS: [Setup; 4] = [
    Setup {
        label: "sled, 1 process",
        postgres: None,
        processes: 1,
    },
    Setup {
        label: "postgres one-active, 1 process",
        postgres: Some("one-active"),
        processes: 1,
    },
    Setup {
        label: "postgres all-active, 1 process",
        postgres: Some("all-active"),
        processes: 1,
    },
    Setup {
        label: "postgres all-active, 2 processes",
        postgres: Some("all-active"),
        processes: 2,
    },
];

/// A `sportello serve` child, killed when dropped (also by `binary_phase` in load.rs).
pub(super) struct Serving {
    pub(super) child: Child,
    pub(super) base: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) fn spawn(config: &std::path::Path, data: &std::path::Path, url: Option<&str>) -> Serving {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sportello"));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--config"])
        .arg(config)
        .arg("--data")
        .arg(data)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SPORTELLO_WHATSAPP_APP_SECRET", SECRET)
        .env("SPORTELLO_WHATSAPP_TOKEN", "graph-token")
        .env("SPORTELLO_ADMIN_PASSWORD", "load-admin-password")
        .env("SPORTELLO_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(url) = url {
        cmd.env("SPORTELLO_DATABASE_URL", url);
    }
    let mut child = cmd.spawn().expect("spawn sportello serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find(" on http://") {
                let base = line[at + 4..].split_whitespace().next().unwrap_or_default().to_string();
                let _ = tx.send(base);
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the child printed its address");
    Serving { child, base }
}

/// Waits until `/healthz` answers 200, asking every 5 ms (start-up is timed with it).
pub(super) async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{base} not healthy within 60 s");
}

pub async fn run() {
    let database = std::env::var("LOAD_DATABASE_URL")
        .or_else(|_| std::env::var("SPORTELLO_TEST_DATABASE_URL"))
        .ok();
    if database.is_none() {
        println!("no LOAD_DATABASE_URL or SPORTELLO_TEST_DATABASE_URL: sled only");
    }
    // reqwest's rustls needs a process-wide crypto provider (`Server::new` installs it in the
    // in-process modes).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let arrivals: Arrivals = Arc::default();
    let fake = serve(
        Router::new()
            .route("/v23.0/{pnid}/messages", post(graph))
            .with_state(arrivals.clone()),
    )
    .await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(1024).build().unwrap();
    println!(
        "| setup, mode | sent | 200s | req/s | →200 p50 ms | p99 | p99.9 | →reply p50 ms | p99 | p99.9 | replies |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let rate: u64 = std::env::var("LOAD_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(RATE);
    for (n, setup) in SETUPS.iter().enumerate() {
        let url = match (setup.postgres, &database) {
            (None, _) => None,
            (Some(_), Some(url)) => Some(url.clone()),
            (Some(_), None) => continue,
        };
        let dir = tempfile::tempdir().unwrap();
        let schema = format!("load_{}_{n}", std::process::id());
        let mut text = format!(
            "[whatsapp]\ngraph_url = \"http://{fake}/v23.0\"\n\
             [comuni.madone]\nwhatsapp_phone_number_id = \"pn-madone\"\n\
             [comuni.brusson]\nwhatsapp_phone_number_id = \"pn-brusson\"\n"
        );
        let child_url = url.as_ref().map(|url| {
            // The schema and its tables, created here (as the tests do).
            let mut options = PgOptions::new(url);
            options.schema = Some(schema.clone());
            drop(PgStore::open(&options).expect("open PostgreSQL"));
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options=-csearch_path%3D{schema}")
        });
        if let Some(mode) = setup.postgres {
            // `LOAD_CONNECTIONS=N`: postgres.connections (default: sportello's, 2).
            let connections = std::env::var("LOAD_CONNECTIONS")
                .map(|n| format!("connections = {n}\n"))
                .unwrap_or_default();
            text = format!("storage = \"postgres\"\n[postgres]\nprocesses = \"{mode}\"\n{connections}{text}");
        }
        if std::env::var("LOAD_SETUPS").is_ok_and(|only| !setup.label.contains(only.as_str())) {
            continue;
        }
        let config = dir.path().join("config.toml");
        std::fs::write(&config, text).unwrap();
        let children: Vec<Serving> = (0..setup.processes)
            .map(|i| spawn(&config, &dir.path().join(format!("data{i}")), child_url.as_deref()))
            .collect();
        let urls: Vec<String> = children
            .iter()
            .map(|c| format!("{}/webhook/whatsapp", c.base))
            .collect();
        for c in &children {
            wait_healthy(&http, &c.base).await;
        }
        let base = 3_700_000_000 + n as u64 * 100_000_000;
        // Warm-up (connections, first pages), not reported.
        let _ = full_speed(&http, &urls, Arc::new(requests(500, base)), 16).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        arrivals.lock().unwrap().clear();
        let run = super::fixed_rate(
            &http,
            &urls,
            Arc::new(requests((rate * SECONDS) as usize, base + 1_000_000)),
            rate,
        )
        .await;
        report(
            &format!("{}, {rate}/s for {SECONDS} s", setup.label),
            &run,
            Some(&arrivals),
        )
        .await;
        let run = full_speed(
            &http,
            &urls,
            Arc::new(requests(FULL_MESSAGES, base + 2_000_000)),
            CONNECTIONS,
        )
        .await;
        report(
            &format!("{}, full speed, {CONNECTIONS} connections", setup.label),
            &run,
            Some(&arrivals),
        )
        .await;
        drop(children);
        if let Some(url) = &url {
            let _ = PgStore::drop_schema(url, &schema);
        }
    }
}
