//! `cargo bench --bench load -- processes`: the same load against real `sportello serve`
//! child processes (the release binary), on each backend and with two processes:
//!
//! - sled, one process;
//! - PostgreSQL, one process, `processes = "one-active"` (the default: no lock per step);
//! - PostgreSQL, one process, `processes = "all-active"` (a citizen lock per step, claims);
//! - PostgreSQL, two processes, `"all-active"`, requests alternating between them.
//!
//! - sled, the **durable ceiling**: the same server with `--bench-durable-ceiling`, which
//!   verifies, journals, syncs and answers each webhook and runs no step (issue 25: what the
//!   whole path is measured against).
//!
//! `LOAD_SETUPS=all-active` runs only the setups whose label contains it; `LOAD_CONNECTIONS`
//! sets `postgres.connections`, `LOAD_RATE` the open loop's rate (default 1,000/s). PostgreSQL comes from `LOAD_DATABASE_URL` (else `SPORTELLO_TEST_DATABASE_URL`); each
//! configuration works in a fresh schema, dropped afterwards. Without either, only sled runs.
//! `LOAD_GROWN=NAME`: instead of a fresh schema, each PostgreSQL configuration works in a
//! copy of the grown database NAME on the same server (`-- grow`, `load/grown.rs`; set
//! `SPORTELLO_MASTER_KEY_FILE` as it says), dropped afterwards.
//!
//! Two layouts of the processes, each setup measured in both, side by side (`LOAD_LAYOUT=
//! shared` or `pinned` runs one): **shared**, where the servers, this process (the fake
//! Graph API and the client) and PostgreSQL share every core; and **pinned**, where the
//! servers run on core 0 (`taskset -c 0`) and this process on the others, so that the load
//! generator's bursts do not land on the server's core. PostgreSQL is not pinned.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
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
    /// `--bench-durable-ceiling`: no step runs, so no reply is awaited.
    ceiling: bool,
}

const SETUPS: [Setup; 5] = [
    Setup {
        label: "sled, durable ceiling",
        postgres: None,
        processes: 1,
        ceiling: true,
    },
    Setup {
        label: "sled, 1 process",
        postgres: None,
        processes: 1,
        ceiling: false,
    },
    Setup {
        label: "postgres one-active, 1 process",
        postgres: Some("one-active"),
        processes: 1,
        ceiling: false,
    },
    Setup {
        label: "postgres all-active, 1 process",
        postgres: Some("all-active"),
        processes: 1,
        ceiling: false,
    },
    Setup {
        label: "postgres all-active, 2 processes",
        postgres: Some("all-active"),
        processes: 2,
        ceiling: false,
    },
];

/// Where the processes run (see the module).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    Shared,
    Pinned,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::Shared => "shared cores",
            Layout::Pinned => "pinned",
        }
    }

    /// The layouts `LOAD_LAYOUT` asks for (both by default).
    fn wanted() -> Vec<Layout> {
        match std::env::var("LOAD_LAYOUT").as_deref() {
            Ok("shared") => vec![Layout::Shared],
            Ok("pinned") => vec![Layout::Pinned],
            _ => vec![Layout::Shared, Layout::Pinned],
        }
    }

    /// Moves every thread of this process to its cores: all of them when shared, all but
    /// core 0 when pinned (`taskset -a -p`; threads made later inherit it).
    fn place_this_process(self) {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let list = match self {
            Layout::Shared => format!("0-{}", cores - 1),
            Layout::Pinned => format!("1-{}", cores.max(2) - 1),
        };
        // A thread that ends while taskset walks the list fails the call: tried again.
        let moved = (0..10).any(|_| {
            Command::new("taskset")
                .args(["-a", "-c", "-p", &list, &std::process::id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        assert!(
            moved,
            "taskset (util-linux) could not move this process to cores {list}"
        );
    }

    /// `cmd` for a server: under `taskset -c 0` when pinned.
    fn command(self, program: &str) -> Command {
        match self {
            Layout::Shared => Command::new(program),
            Layout::Pinned => {
                let mut cmd = Command::new("taskset");
                cmd.args(["-c", "0", program]);
                cmd
            }
        }
    }
}

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

/// The argument that makes this bench binary the bare handler's process.
pub(super) const BARE_CHILD: &str = "--bare-child";

/// The bare handler in a process of its own, on a runtime built as `serve` builds its own
/// (one worker per core): it reads the body and answers 200. Prints its address the way
/// `serve` does, and serves until killed.
pub(super) fn bare_child() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("bare handler on http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/webhook/whatsapp", post(|_b: Bytes| async { StatusCode::OK }))
            .route("/healthz", axum::routing::get(|| async { StatusCode::OK }));
        axum::serve(listener, app).await.unwrap();
    });
}

/// Starts the bare handler's process (this binary with [`BARE_CHILD`]).
fn spawn_bare(layout: Layout) -> Serving {
    let exe = std::env::current_exe().expect("the bench binary's path");
    let mut cmd = layout.command(&exe.to_string_lossy());
    cmd.arg(BARE_CHILD);
    started(cmd)
}

pub(super) fn spawn(config: &std::path::Path, data: &std::path::Path, url: Option<&str>) -> Serving {
    spawn_in(Layout::Shared, config, data, url, false)
}

fn spawn_in(
    layout: Layout,
    config: &std::path::Path,
    data: &std::path::Path,
    url: Option<&str>,
    ceiling: bool,
) -> Serving {
    // `LOAD_BIN=<path>`: another build of sportello (to compare two builds on one machine).
    let bin = std::env::var("LOAD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sportello").to_string());
    let mut cmd = layout.command(&bin);
    if ceiling {
        cmd.arg("serve").arg("--bench-durable-ceiling");
    } else {
        cmd.arg("serve");
    }
    cmd.args(["--bind", "127.0.0.1:0", "--config"])
        .arg(config)
        .arg("--data")
        .arg(data)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SPORTELLO_WHATSAPP_APP_SECRET", SECRET)
        .env("SPORTELLO_WHATSAPP_TOKEN", "graph-token")
        .env("SPORTELLO_ADMIN_PASSWORD", "load-admin-password")
        .env("SPORTELLO_LOG", "error");
    if let Some(url) = url {
        cmd.env("SPORTELLO_DATABASE_URL", url);
        // Processes on one database share its keyring's master key: each has a data
        // directory of its own here, so the key comes from the environment (a grown
        // database's own, when given).
        if std::env::var_os("SPORTELLO_MASTER_KEY").is_none() && std::env::var_os("SPORTELLO_MASTER_KEY_FILE").is_none()
        {
            cmd.env("SPORTELLO_MASTER_KEY", "5e".repeat(32));
        }
    }
    started(cmd)
}

/// Spawns `cmd` and reads the address it prints (`… on http://<addr>`).
fn started(mut cmd: Command) -> Serving {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().expect("spawn the server's process");
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
    let layouts = Layout::wanted();
    // The bare handler first, in its own process, under the same two modes, in each layout.
    let mut bare = Vec::new();
    for layout in &layouts {
        layout.place_this_process();
        let child = spawn_bare(*layout);
        wait_healthy(&http, &child.base).await;
        let urls = [format!("{}/webhook/whatsapp", child.base)];
        let label = format!("bare handler, 1 process, {}", layout.name());
        let pids = [child.child.id()];
        bare.push(measure(&label, &http, &urls, &pids, None, 3_600_000_000, rate).await);
    }
    // (setup, layout, full-speed requests answered 200 a second)
    let mut full: Vec<(&str, Layout, f64)> = Vec::new();
    for (n, setup) in SETUPS.iter().enumerate() {
        let url = match (setup.postgres, &database) {
            (None, _) => None,
            (Some(_), Some(url)) => Some(url.clone()),
            (Some(_), None) => continue,
        };
        if std::env::var("LOAD_SETUPS").is_ok_and(|only| !setup.label.contains(only.as_str())) {
            continue;
        }
        for (l, layout) in layouts.iter().enumerate() {
            layout.place_this_process();
            let dir = tempfile::tempdir().unwrap();
            let schema = format!("load_{}_{n}_{l}", std::process::id());
            let mut text = format!(
                "[whatsapp]\ngraph_url = \"http://{fake}/v23.0\"\n\
                 [comuni.madone]\nwhatsapp_phone_number_id = \"pn-madone\"\n\
                 [comuni.brusson]\nwhatsapp_phone_number_id = \"pn-brusson\"\n"
            );
            let grown = std::env::var("LOAD_GROWN").ok().filter(|g| !g.is_empty());
            let child_url = match (&url, &grown) {
                (None, _) => None,
                (Some(url), Some(template)) => Some(super::template::copy_of(url, template, &schema).await),
                (Some(url), None) => {
                    // The schema and its tables, created here (as the tests do).
                    let mut options = PgOptions::new(url);
                    options.schema = Some(schema.clone());
                    drop(PgStore::open(&options).expect("open PostgreSQL"));
                    let sep = if url.contains('?') { '&' } else { '?' };
                    Some(format!("{url}{sep}options=-csearch_path%3D{schema}"))
                }
            };
            if let Some(mode) = setup.postgres {
                // `LOAD_CONNECTIONS=N`: postgres.connections (default: sportello's, 2).
                let connections = std::env::var("LOAD_CONNECTIONS")
                    .map(|n| format!("connections = {n}\n"))
                    .unwrap_or_default();
                text = format!("storage = \"postgres\"\n[postgres]\nprocesses = \"{mode}\"\n{connections}{text}");
            }
            let config = dir.path().join("config.toml");
            std::fs::write(&config, text).unwrap();
            let children: Vec<Serving> = (0..setup.processes)
                .map(|i| {
                    let data = dir.path().join(format!("data{i}"));
                    spawn_in(*layout, &config, &data, child_url.as_deref(), setup.ceiling)
                })
                .collect();
            let urls: Vec<String> = children
                .iter()
                .map(|c| format!("{}/webhook/whatsapp", c.base))
                .collect();
            for c in &children {
                wait_healthy(&http, &c.base).await;
            }
            let base = 3_700_000_000 + (n * layouts.len() + l) as u64 * 100_000_000;
            let label = format!("{}, {}", setup.label, layout.name());
            let replies = (!setup.ceiling).then_some(&arrivals);
            let pids: Vec<u32> = children.iter().map(|c| c.child.id()).collect();
            full.push((
                setup.label,
                *layout,
                measure(&label, &http, &urls, &pids, replies, base, rate).await,
            ));
            for c in &children {
                let pid = c.child.id().to_string();
                println!(
                    "{label}: process {pid} VmHWM {:.1} MB",
                    super::status_kb_of(&pid, "VmHWM:") as f64 / 1024.0
                );
            }
            drop(children);
            match (&url, &grown) {
                (Some(url), Some(_)) => super::template::drop_copy(url, &schema).await,
                (Some(url), None) => {
                    let _ = PgStore::drop_schema(url, &schema);
                }
                (None, _) => {}
            }
        }
    }
    Layout::Shared.place_this_process();
    for (layout, bare) in layouts.iter().zip(&bare) {
        let ceiling = full
            .iter()
            .find(|(label, l, _)| l == layout && label.contains("ceiling"))
            .map(|(_, _, r)| *r);
        println!(
            "\n{}: full speed, requests answered 200 a second, against the bare handler's {bare:.0}{}:",
            layout.name(),
            ceiling.map_or(String::new(), |c| format!(" and the durable ceiling's {c:.0}"))
        );
        for (label, _, r) in full.iter().filter(|(_, l, _)| l == layout) {
            let of_ceiling = ceiling.map_or(String::new(), |c| format!(", {:.3} of the durable ceiling", r / c));
            println!("- {label}: {:.3} of the bare handler's{of_ceiling}", r / bare);
        }
    }
}

/// CPU time (user and system) the processes `pids` have used so far, in seconds.
fn cpu_seconds(pids: &[u32]) -> f64 {
    // `/proc/PID/stat`: utime and stime are fields 14 and 15, in clock ticks (100 a second
    // on Linux), counted after the command name's closing parenthesis.
    pids.iter()
        .map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let fields: Vec<&str> = after.split_whitespace().collect();
            let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
            (ticks(11) + ticks(12)) as f64 / 100.0
        })
        .sum()
}

/// Warm-up, then the open loop at `rate` for [`SECONDS`] and the closed loop at full speed
/// against `urls`, each printed as a table row (with request→reply when `arrivals` is
/// given), with the CPU time the server processes `pids` spent per message answered 200
/// (from the phase's start until its replies arrived). Returns the full-speed throughput
/// (requests answered 200 a second).
async fn measure(
    label: &str,
    http: &reqwest::Client,
    urls: &[String],
    pids: &[u32],
    arrivals: Option<&Arrivals>,
    base: u64,
    rate: u64,
) -> f64 {
    // Warm-up (connections, first pages), not reported.
    let _ = full_speed(http, urls, Arc::new(requests(500, base)), 16).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    if let Some(a) = arrivals {
        a.lock().unwrap().clear();
    }
    let cpu = cpu_seconds(pids);
    let run = super::fixed_rate(
        http,
        urls,
        Arc::new(requests((rate * SECONDS) as usize, base + 1_000_000)),
        rate,
    )
    .await;
    report(&format!("{label}, {rate}/s for {SECONDS} s"), &run, arrivals).await;
    cpu_per_message(label, "open loop", cpu_seconds(pids) - cpu, run.ok);
    let cpu = cpu_seconds(pids);
    let run = full_speed(
        http,
        urls,
        Arc::new(requests(FULL_MESSAGES, base + 2_000_000)),
        CONNECTIONS,
    )
    .await;
    let answered = report(
        &format!("{label}, full speed, {CONNECTIONS} connections"),
        &run,
        arrivals,
    )
    .await;
    cpu_per_message(label, "full speed", cpu_seconds(pids) - cpu, run.ok);
    answered
}

/// Prints the server's CPU time per message answered 200 in one phase.
fn cpu_per_message(label: &str, phase: &str, seconds: f64, messages: usize) {
    if messages > 0 {
        println!(
            "{label}, {phase}: server CPU {:.0} µs per message ({seconds:.2} s for {messages})",
            seconds * 1e6 / messages as f64
        );
    }
}
