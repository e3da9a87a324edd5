//! Scale benchmark (issue 26): `cargo bench --bench scale [-- N ...]`, by default
//! N = 100,000, 300,000 and 1,000,000 in one run.
//!
//! A region of 100 comuni (`scale/site.rs`) in a sealed sled store grown to each N in turn,
//! served by the real binary (`sportello serve`, a child process: its VmHWM is the
//! service's alone), a fresh process per phase so that each high-water mark is its own:
//!
//! 1. start-up: spawn to `/healthz` answering;
//! 2. the largest comune's broadcast (a tenth of N) paced at 1,000/s while ordinary traffic
//!    (new citizens' first messages to every comune) arrives open loop at 1,000 webhooks/s:
//!    the pace's error and the webhook→200 latency;
//! 3. an emergency broadcast to every comune at once (each number at 1,000/s; the core is
//!    the limit), on a copy of the store, sent for at most `SCALE_EMERGENCY_SECONDS`
//!    (default 90): fan-out time, sending rate;
//! 4. the annual report of every comune; 5. the largest comune's subscriber export;
//! 6. a retention sweep (Madone's clones keep leavers a year; one in twenty left 400 days ago).
//!
//! Operations go through the admin endpoint, as `sportello broadcast/report/subscribers/
//! retention` do against a running server. A fake Graph API on loopback answers every send.
//! `SCALE_DIR` keeps the region between runs (grown, never shrunk); `SCALE_MEMORY` sets the
//! `memory` setting; `SCALE_SVG` is where the chart goes (default: `<dir>/scale.svg`);
//! `SCALE_PHASES` runs only some phases (start, broadcast, emergency, report, export,
//! retention); `SCALE_BIN` serves with another build; `SCALE_WRAP=heaptrack` profiles it.
//! `cargo bench --bench scale -- chart OUT.svg RUN.txt...` draws the chart of runs made one
//! N at a time. `SCALE_DATABASE_URL`: the same on PostgreSQL (one process, one-active; the
//! alert to every comune is left out, as the database is not copied).
//!
//! This file measures; it must not assert on figures nor write into the repository, and it
//! talks only to 127.0.0.1. Every wait is bounded in time.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use sportello::channel::whatsapp::sign;

#[path = "scale/chart.rs"]
mod chart;
#[path = "scale/site.rs"]
mod site;

use site::{Site, BIG, COMUNI};

const SECRET: &str = "scale-app-secret";
/// Each number's pace (messages a second).
const PACE: u32 = 1_000;
/// Ordinary traffic during the largest comune's broadcast (webhooks a second).
const TRAFFIC: u64 = 1_000;
const DEFAULT_N: [usize; 3] = [100_000, 300_000, 1_000_000];

/// What the fake Graph API saw: broadcast messages (templates, or texts to open windows)
/// and replies, and when the broadcast messages came.
#[derive(Default)]
struct Fake {
    templates: AtomicUsize,
    replies: AtomicUsize,
    ids: AtomicUsize,
    span: Mutex<Option<(Instant, Instant)>>,
}

impl Fake {
    fn reset(&self) {
        self.templates.store(0, Ordering::SeqCst);
        self.replies.store(0, Ordering::SeqCst);
        *self.span.lock().unwrap() = None;
    }
}

async fn graph(State(f): State<Arc<Fake>>, Json(body): Json<Value>) -> Json<Value> {
    let now = Instant::now();
    if body["status"] != "read" {
        // The broadcast's text, as a template's parameter or (open window) as a text.
        let text = body.to_string();
        if text.contains("Prova di scala") || text.contains("Essai d") {
            f.templates.fetch_add(1, Ordering::SeqCst);
            let mut span = f.span.lock().unwrap();
            *span = Some(span.map_or((now, now), |(first, _)| (first, now)));
        } else {
            f.replies.fetch_add(1, Ordering::SeqCst);
        }
    }
    let n = f.ids.fetch_add(1, Ordering::Relaxed);
    Json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.scale.{n}")}]}))
}

/// A `/proc/<pid>/status` field in MiB.
fn status_mib(pid: u32, field: &str) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// A running `sportello serve`.
struct Serving {
    child: Child,
    base: String,
    startup: Duration,
    admin: String,
    token: String,
}

impl Serving {
    fn hwm(&self) -> f64 {
        status_mib(self.child.id(), "VmHWM:")
    }

    /// Stops it as an operator would (SIGTERM, a clean shutdown), killed after 60 s.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("the server did not stop within 60 s: killed");
    }

    async fn call(&self, http: &reqwest::Client, path: &str, body: Value) -> Value {
        let res = http
            .post(format!("http://{}{path}", self.admin))
            .bearer_auth(&self.token)
            .json(&body)
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .expect("admin call");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// A server left running by a panic is killed (after [`Serving::stop`], a no-op).
impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// On PostgreSQL there is no admin endpoint: every process opens the database itself, and
/// an operator runs `sportello <args>` beside the server. Returns its output (JSON when it
/// prints JSON) and its own high-water mark (MiB, from `/usr/bin/time`).
fn cli(site: &Site, args: &[&str]) -> (Value, f64) {
    let rss = site.root.join("cli-maxrss");
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&rss)
        .arg(env!("CARGO_BIN_EXE_sportello"))
        .args(args)
        .arg("--config")
        .arg(&site.config)
        .arg("--flows")
        .arg(&site.flows)
        .arg("--locales")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("locales"))
        .arg("--data")
        .arg(&site.data)
        .current_dir(&site.root)
        .env("SPORTELLO_DATABASE_URL", site.database.as_deref().unwrap_or_default())
        .env("SPORTELLO_LOG", "error")
        .output()
        .expect("sportello");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "sportello {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kb: f64 = std::fs::read_to_string(&rss)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0.0);
    (serde_json::from_str(&text).unwrap_or(Value::String(text)), kb / 1024.0)
}

/// Starts the server on `data` and waits for `/healthz`.
async fn start(http: &reqwest::Client, site: &Site, data: &Path) -> Serving {
    let t0 = Instant::now();
    // `SCALE_WRAP=heaptrack` (or another profiler taking the command after it): the server
    // under it. Its VmHWM is then the wrapper's.
    // `SCALE_BIN=<path>`: another build of sportello (to compare two builds).
    let bin = std::env::var("SCALE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sportello").to_string());
    let mut cmd = match std::env::var("SCALE_WRAP") {
        Ok(wrap) if !wrap.is_empty() => {
            let mut c = Command::new(wrap);
            // The allocator's settings given, so the server does not start itself again
            // (src/main.rs), which would leave the profiler behind.
            c.arg(&bin)
                .env("MIMALLOC_PURGE_DELAY", "0")
                .env("MIMALLOC_ARENA_EAGER_COMMIT", "0");
            c
        }
        _ => Command::new(&bin),
    };
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--config"])
        .arg(&site.config)
        .arg("--data")
        .arg(data)
        .arg("--flows")
        .arg(&site.flows)
        .arg("--locales")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("locales"))
        .current_dir(&site.root)
        .env("SPORTELLO_WHATSAPP_APP_SECRET", SECRET)
        .env("SPORTELLO_WHATSAPP_TOKEN", "graph-token")
        .env("SPORTELLO_ADMIN_PASSWORD", "scale-admin-password")
        .env("SPORTELLO_LOG", "error")
        .env("SPORTELLO_DATABASE_URL", site.database.as_deref().unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().expect("spawn sportello serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find(" on http://") {
                let _ = tx.send(line[at + 4..].split_whitespace().next().unwrap_or_default().to_string());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the server printed its address");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "{base} not healthy within 120 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let startup = t0.elapsed();
    let read = |f: &str| {
        std::fs::read_to_string(data.join(f))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    Serving {
        child,
        base,
        startup,
        admin: read("admin.addr"),
        token: read("admin.token"),
    }
}

/// One phase's figures at one N.
#[derive(Clone)]
pub struct Row {
    pub n: usize,
    pub phase: &'static str,
    pub seconds: f64,
    pub hwm_mib: f64,
    pub detail: String,
}

fn print(row: &Row) {
    println!(
        "| {} | {} | {:.2} | {:.0} | {} |",
        row.n, row.phase, row.seconds, row.hwm_mib, row.detail
    );
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Open loop: `rate` new citizens a second write their comune's keyword, for `seconds`.
/// Returns the webhook→200 latencies (ms, from when each was due) and how many failed.
async fn traffic(http: reqwest::Client, url: String, rate: u64, seconds: f64, base: u64) -> (Vec<f64>, usize) {
    let total = (rate as f64 * seconds) as usize;
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + Duration::from_nanos(i as u64 * 1_000_000_000 / rate);
        tokio::time::sleep_until(due).await;
        let c = i % COMUNI;
        let comune = site::comune(c);
        let text = site::TEMPLATES[c % site::TEMPLATES.len()].1;
        let from = format!("38{}", base + i as u64);
        let v = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "390000000000", "phone_number_id": format!("pn-{comune}")},
            "contacts": [{"profile": {"name": "Scale"}, "wa_id": from}],
            "messages": [{"from": from, "id": format!("wamid.scale.in.{base}.{i}"), "timestamp": "1800000000", "type": "text", "text": {"body": text}}]}}]}]});
        let body = Bytes::from(serde_json::to_vec(&v).unwrap());
        let sig = sign(SECRET.as_bytes(), &body);
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let res = http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", sig)
                .body(body)
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            let ok = matches!(res, Ok(r) if r.status() == 200);
            (ok, due.elapsed().as_secs_f64() * 1e3)
        }));
    }
    let (mut ms, mut failed) = (Vec::with_capacity(total), 0);
    for t in tasks {
        match t.await {
            Ok((true, m)) => ms.push(m),
            _ => failed += 1,
        }
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    (ms, failed)
}

/// The broadcast's texts in the languages comune `i` offers.
fn texts(i: usize) -> Value {
    if site::template(i) == "brusson" {
        json!({"it": "Prova di scala: avviso alla cittadinanza", "fr": "Essai d'échelle : avis à la population"})
    } else {
        json!({"it": "Prova di scala: avviso alla cittadinanza"})
    }
}

/// Waits until the fake has `want` templates, or `limit` passed; returns when it stopped.
async fn until_sent(fake: &Fake, want: usize, limit: Duration) -> Duration {
    let t0 = Instant::now();
    while fake.templates.load(Ordering::SeqCst) < want && t0.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    t0.elapsed()
}

fn sending_seconds(fake: &Fake) -> f64 {
    fake.span.lock().unwrap().map_or(0.0, |(a, b)| (b - a).as_secs_f64())
}

/// Whether `SCALE_PHASES` (a list of start, broadcast, emergency, report, export,
/// retention) asks for this phase; all of them when it is not set.
fn wanted(phase: &str) -> bool {
    std::env::var("SCALE_PHASES").map_or(true, |v| v.split([',', ' ']).any(|p| p == phase))
}

async fn phases(http: &reqwest::Client, site: &Site, fake: &Arc<Fake>, n: usize, rows: &mut Vec<Row>) {
    let mut push = |phase: &'static str, seconds: f64, hwm_mib: f64, detail: String| {
        let row = Row {
            n,
            phase,
            seconds,
            hwm_mib,
            detail,
        };
        print(&row);
        rows.push(row);
    };

    if wanted("start") {
        // 1. Start-up, idle.
        let s = start(http, site, &site.data).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss = status_mib(s.child.id(), "VmRSS:");
        push(
            "start-up",
            s.startup.as_secs_f64(),
            s.hwm(),
            format!("VmRSS {rss:.0} MiB idle after 2 s"),
        );
        s.stop();
    }

    if wanted("broadcast") {
        // 2. The largest comune's broadcast at pace, with ordinary traffic.
        let s = start(http, site, &site.data).await;
        fake.reset();
        let t0 = Instant::now();
        let answer = if site.database.is_some() {
            let (it, fr) = (site.root.join("testo-it.txt"), site.root.join("texte-fr.txt"));
            std::fs::write(&it, texts(0)["it"].as_str().unwrap()).unwrap();
            std::fs::write(&fr, texts(0)["fr"].as_str().unwrap()).unwrap();
            let (it, fr) = (it.display().to_string(), fr.display().to_string());
            let args = [
                "broadcast",
                "send",
                "--comune",
                BIG,
                "--category",
                "info",
                "--text-it",
                &it,
                "--text-fr",
                &fr,
                "--no-follow",
                "--json",
            ];
            cli(site, &args).0
        } else {
            s.call(http, "/admin/broadcast", json!({"action": "send", "comune": BIG, "category": "info", "texts": texts(0), "media": null, "send_at": null}))
                .await
        };
        let recipients = answer["audience"]["total"].as_u64().unwrap_or(0) as usize;
        let ideal = recipients.saturating_sub(1) as f64 / f64::from(PACE);
        let base = jiff::Timestamp::now().as_second() as u64 % 100_000 * 10_000_000;
        let load = tokio::spawn(traffic(
            http.clone(),
            format!("{}/webhook/whatsapp", s.base),
            TRAFFIC,
            ideal.max(10.0),
            base,
        ));
        let waited = until_sent(fake, recipients, Duration::from_secs_f64(ideal * 1.5 + 120.0)).await;
        let (ms, failed) = load.await.unwrap();
        let got = fake.templates.load(Ordering::SeqCst);
        let sending = sending_seconds(fake);
        push(
            "broadcast, one comune",
            t0.elapsed().as_secs_f64().min(waited.as_secs_f64() + 1.0),
            s.hwm(),
            format!(
                "{got}/{recipients} sent in {sending:.1} s ({:+.2} % of pace); traffic {} webhooks at {TRAFFIC}/s: p50 {:.1} ms, p99 {:.1} ms, max {:.0} ms, {failed} failed; {} replies",
                (sending - ideal) / ideal.max(1e-9) * 100.0,
                ms.len(),
                pct(&ms, 0.5),
                pct(&ms, 0.99),
                pct(&ms, 1.0),
                fake.replies.load(Ordering::SeqCst),
            ),
        );
        s.stop();
    }

    // On PostgreSQL the store is not a folder to copy: the alert is left out.
    if wanted("emergency") && site.database.is_none() {
        // 3. Every comune at once, on a copy of the store (left unfinished when time is up).
        let copy = site.root.join("emergency-data");
        let _ = std::fs::remove_dir_all(&copy);
        let copied = Command::new("cp")
            .arg("-a")
            .arg(&site.data)
            .arg(&copy)
            .status()
            .unwrap();
        assert!(copied.success(), "copy the store");
        let s = start(http, site, &copy).await;
        fake.reset();
        let t0 = Instant::now();
        let calls = (0..COMUNI).map(|i| {
            let category = (site::template(i) == "brusson").then_some("emergenze");
            let body = json!({"action": "send", "comune": site::comune(i), "category": category, "texts": texts(i), "media": null, "send_at": null});
            s.call(http, "/admin/broadcast", body)
        });
        let answers = futures_util::future::join_all(calls).await;
        let created = t0.elapsed().as_secs_f64();
        let total: usize = answers
            .iter()
            .map(|a| a["audience"]["total"].as_u64().unwrap_or(0) as usize)
            .sum();
        let limit: u64 = std::env::var("SCALE_EMERGENCY_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(90);
        until_sent(fake, total, Duration::from_secs(limit)).await;
        let got = fake.templates.load(Ordering::SeqCst);
        let sending = sending_seconds(fake);
        push(
            "emergency, every comune",
            t0.elapsed().as_secs_f64(),
            s.hwm(),
            format!(
                "{got}/{total} sent ({}), {:.0}/s; checks and fan-out requests answered in {created:.1} s",
                if got >= total {
                    "all"
                } else {
                    "stopped at the time limit"
                },
                got as f64 / sending.max(1e-9),
            ),
        );
        s.stop();
        let _ = std::fs::remove_dir_all(&copy);
    }

    // On PostgreSQL the operations run as commands beside the server (their own process's
    // high-water mark).
    if site.database.is_some() {
        let year = jiff::Zoned::now().year().to_string();
        if wanted("report") {
            let t0 = Instant::now();
            let (mut rows_n, mut hwm) = (0, 0f64);
            for i in 0..COMUNI {
                let c = site::comune(i);
                let (r, mib) = cli(site, &["report", "--comune", &c, "--year", &year, "--json"]);
                rows_n += r["rows"].as_array().map_or(0, Vec::len);
                hwm = hwm.max(mib);
            }
            let detail = format!("{COMUNI} `sportello report` commands, {rows_n} rows; VmHWM: the command's");
            push("annual report, every comune", t0.elapsed().as_secs_f64(), hwm, detail);
        }
        if wanted("export") {
            let to = site.root.join("export.csv");
            let t0 = Instant::now();
            let (r, hwm) = cli(
                site,
                &[
                    "subscribers",
                    "export",
                    "--comune",
                    BIG,
                    "--to",
                    &to.display().to_string(),
                ],
            );
            let bytes = std::fs::metadata(&to).map_or(0, |m| m.len());
            let detail = format!(
                "{} ({bytes} bytes); VmHWM: the command's",
                r.as_str().unwrap_or_default().trim()
            );
            push(
                "subscriber export, largest comune",
                t0.elapsed().as_secs_f64(),
                hwm,
                detail,
            );
        }
        if wanted("retention") {
            let t0 = Instant::now();
            let (r, hwm) = cli(site, &["retention", "run"]);
            let detail = format!("{}; VmHWM: the command's", r.as_str().unwrap_or_default().trim());
            push("retention sweep", t0.elapsed().as_secs_f64(), hwm, detail);
        }
        return;
    }

    if wanted("report") {
        // 4. Every comune's annual report.
        let s = start(http, site, &site.data).await;
        let year = jiff::Zoned::now().year();
        let t0 = Instant::now();
        let mut rows_n = 0;
        for i in 0..COMUNI {
            let r = s
                .call(
                    http,
                    "/admin/report",
                    json!({"comune": site::comune(i), "year": year, "lang": "it"}),
                )
                .await;
            rows_n += r["rows"].as_array().map_or(0, Vec::len);
        }
        push(
            "annual report, every comune",
            t0.elapsed().as_secs_f64(),
            s.hwm(),
            format!("{COMUNI} reports, {rows_n} rows"),
        );
        s.stop();
    }

    if wanted("export") {
        // 5. The largest comune's subscriber export.
        let s = start(http, site, &site.data).await;
        let t0 = Instant::now();
        let r = s
            .call(
                http,
                "/admin/subscribers",
                json!({"op": "export", "comune": BIG, "filter": {}, "unmasked": false, "actor": "bench"}),
            )
            .await;
        push(
            "subscriber export, largest comune",
            t0.elapsed().as_secs_f64(),
            s.hwm(),
            format!(
                "{} rows, {} bytes of CSV",
                r["rows"],
                r["csv"].as_str().map_or(0, str::len)
            ),
        );
        s.stop();
    }

    if wanted("retention") {
        // 6. A retention sweep.
        let s = start(http, site, &site.data).await;
        let t0 = Instant::now();
        let r = s.call(http, "/admin/retention", json!({"dry_run": false})).await;
        push(
            "retention sweep",
            t0.elapsed().as_secs_f64(),
            s.hwm(),
            format!(
                "{} leavers obscured, {} journal and {} sent records pruned",
                r["obscured"].as_array().map_or(0, Vec::len),
                r["journal_pruned"],
                r["sent_pruned"]
            ),
        );
        s.stop();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if args.first().map(String::as_str) == Some("chart") {
        return chart::from_runs(&args[1..]);
    }
    let ns: Vec<usize> = if args.is_empty() {
        DEFAULT_N.to_vec()
    } else {
        args.iter()
            .map(|a| a.replace(['_', ','], "").parse().expect("N: a number of citizens"))
            .collect()
    };
    let kept = std::env::var("SCALE_DIR").ok();
    let temp = tempfile::tempdir().unwrap();
    let root = kept.as_deref().map_or(temp.path().to_path_buf(), Into::into);
    std::fs::create_dir_all(&root).unwrap();
    let memory = std::env::var("SCALE_MEMORY").ok();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fake = Arc::new(Fake::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let router = Router::new()
            .route("/v23.0/{pnid}/messages", post(graph))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let database = std::env::var("SCALE_DATABASE_URL").ok().filter(|u| !u.is_empty());
        let site = Site::prepare(&root, &format!("http://{addr}"), PACE, memory.as_deref(), database);
        let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        println!(
            "scale bench: {COMUNI} comuni, {cores} cores, {}, memory setting {}, {}",
            if site.database.is_some() { "PostgreSQL" } else { "sled" },
            memory.as_deref().unwrap_or("default"),
            jiff::Zoned::now().strftime("%Y-%m-%d %H:%M %Z")
        );
        let mut rows = Vec::new();
        for &n in &ns {
            let t = Instant::now();
            let added = tokio::task::block_in_place(|| site.grow(n));
            let store_mib = chart::dir_mib(&site.data);
            println!(
                "\nN = {n}: {added} citizens added in {:.1} s; the data directory holds {store_mib:.0} MiB\n",
                t.elapsed().as_secs_f64()
            );
            println!("| N | phase | seconds | VmHWM MiB | detail |");
            println!("|---|---|---|---|---|");
            phases(&http, &site, &fake, n, &mut rows).await;
        }
        let svg = std::env::var("SCALE_SVG").map_or(root.join("scale.svg"), Into::into);
        std::fs::write(&svg, chart::svg(&rows)).unwrap();
        println!("\nchart: {}", svg.display());
    });
}
