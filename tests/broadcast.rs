//! Broadcasts end to end (issue #5): the real server and worker against a fake Graph API
//! and a fake Telegram Bot API on loopback that record what they receive, when, and for
//! whom; and the real binary killed with SIGKILL in the middle of a broadcast.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use sportello::broadcast::plan::{self, Request};
use sportello::broadcast::{BroadcastError, BroadcastState, DeliveryState};
use sportello::config::{ComuneChannels, Config, Secrets};
use sportello::dialogue::{Citizen, State as CitizenState};
use sportello::server::{self, Server};
use sportello::storage::{CitizenKey, SledStore, Store};

use crate::util;

/// What the fake providers received.
#[derive(Default)]
pub struct Fake {
    /// (when, recipient, body), in arrival order.
    pub got: Vec<(Instant, String, Value)>,
    /// While set, a request is recorded and then never answered.
    pub hold: bool,
    pub held: usize,
    /// Per recipient: Graph error codes to answer, one per request, before succeeding.
    pub errors: HashMap<String, VecDeque<i64>>,
    /// Requests answered with an error.
    pub refused: Vec<(String, i64)>,
}

type Shared = Arc<Mutex<Fake>>;

async fn graph(State(f): State<Shared>, UrlPath(_pnid): UrlPath<String>, Json(body): Json<Value>) -> Response {
    let to = body["to"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('+')
        .to_string();
    answer(
        f,
        to,
        body,
        |n| json!({"messaging_product": "whatsapp", "contacts": [], "messages": [{"id": format!("wamid.b.{n}")}]}),
    )
    .await
}

async fn telegram(
    State(f): State<Shared>,
    UrlPath((_bot, _method)): UrlPath<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let to = body["chat_id"].to_string();
    answer(
        f,
        to,
        body,
        |n| json!({"ok": true, "result": {"message_id": n, "date": 0, "chat": {"id": 1, "type": "private"}}}),
    )
    .await
}

async fn answer(f: Shared, to: String, body: Value, ok: impl Fn(usize) -> Value) -> Response {
    let (hold, n) = {
        let mut p = f.lock().unwrap();
        if let Some(code) = p.errors.get_mut(&to).and_then(VecDeque::pop_front) {
            p.refused.push((to, code));
            let err = json!({"error": {"message": "x", "type": "OAuthException", "code": code, "fbtrace_id": "x"}});
            return (axum::http::StatusCode::BAD_REQUEST, Json(err)).into_response();
        }
        p.got.push((Instant::now(), to, body));
        if p.hold {
            p.held += 1;
        }
        (p.hold, p.got.len())
    };
    if hold {
        std::future::pending::<()>().await;
    }
    Json(ok(n)).into_response()
}

/// Starts the fake providers; returns their address.
pub async fn fake_providers() -> (SocketAddr, Shared) {
    let fake: Shared = Arc::default();
    let router = Router::new()
        .route("/v23.0/{pnid}/messages", post(graph))
        .route("/{bot}/{method}", post(telegram))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, fake)
}

/// A subscriber of Brusson (or any comune) as the dialogue would store it.
pub fn subscriber(lang: &str, categories: &[&str], last_inbound: Timestamp) -> Citizen {
    let mut c = Citizen::new(last_inbound);
    c.state = CitizenState::Subscribed;
    c.language = Some(lang.into());
    c.categories = categories.iter().map(|s| s.to_string()).collect();
    c
}

/// `n` WhatsApp subscribers of Brusson's `info`, numbered from `first`, alternating Italian
/// and French; all wrote within the last hour.
pub fn seed(store: &dyn Store, first: u64, n: u64, categories: &[&str]) -> Vec<String> {
    let now = Timestamp::now() - SignedDuration::from_mins(30);
    (first..first + n)
        .map(|i| {
            let number = format!("39333{i:07}");
            let lang = if i % 2 == 0 { "it" } else { "fr" };
            store
                .put_citizen(
                    &CitizenKey::new("brusson", "whatsapp", &number),
                    &subscriber(lang, categories, now),
                )
                .unwrap();
            number
        })
        .collect()
}

fn texts() -> BTreeMap<String, String> {
    [
        ("it".to_string(), "Strada chiusa per neve".to_string()),
        ("fr".to_string(), "Route fermée pour neige".to_string()),
    ]
    .into()
}

fn request(category: &str, texts: BTreeMap<String, String>) -> Request {
    Request {
        comune: "brusson".into(),
        category: Some(category.into()),
        texts,
        media: None,
        send_at: None,
        created_by: "test".into(),
    }
}

/// A server in this process over sled, with the fakes, Brusson configured.
struct Running {
    server: Server,
    base: String,
    store: Arc<dyn Store>,
    config: Config,
    fake: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Running {
    async fn start(per_second: u32, seed_with: impl FnOnce(&dyn Store)) -> Running {
        let (addr, fake) = fake_providers().await;
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("data")).unwrap());
        seed_with(store.as_ref());
        let mut config = Config {
            graph_url: format!("http://{addr}/v23.0"),
            telegram_url: format!("http://{addr}"),
            ..Config::default()
        };
        config.broadcast.whatsapp_per_second = per_second;
        config.broadcast.telegram_per_second = per_second;
        config.comuni.insert(
            "brusson".into(),
            ComuneChannels {
                whatsapp_phone_number_id: Some("pn-brusson".into()),
                broadcast_templates: [
                    ("it".to_string(), "avviso_brusson".to_string()),
                    ("fr".to_string(), "avis_brusson".to_string()),
                ]
                .into(),
                ..Default::default()
            },
        );
        let secrets = Secrets::from_vars([
            ("SPORTELLO_WHATSAPP_APP_SECRET".to_string(), "app-secret".to_string()),
            ("SPORTELLO_WHATSAPP_TOKEN".to_string(), "t".to_string()),
            ("SPORTELLO_TELEGRAM_TOKEN_BRUSSON".to_string(), "tok".to_string()),
        ]);
        let server = Server::new(util::engine(store.clone()), config.clone(), secrets);
        server.set_backoff(Duration::from_millis(20));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(server::run(server.clone(), listener, async move {
            let _ = rx.await;
        }));
        Running {
            server,
            base,
            store,
            config,
            fake,
            stop: Some(tx),
            done: Some(done),
            _dir: dir,
        }
    }

    fn create(&self, req: &Request) -> Result<u64, BroadcastError> {
        let (flows, locales) = util::world();
        let (id, _, _) = plan::create(flows, locales, &self.config, self.store.as_ref(), req, Timestamp::now())?;
        self.server.broadcast_wake.notify_one();
        Ok(id)
    }

    /// Waits until broadcast `id` is done (fails after `limit`).
    async fn done(&self, id: u64, limit: Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.store.broadcast(id).unwrap().unwrap().state == BroadcastState::Done {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("broadcast {id} not done after {limit:?}");
    }

    fn figures(&self, id: u64) -> sportello::broadcast::Figures {
        sportello::broadcast::figures(self.store.as_ref(), id, "brusson").unwrap()
    }

    fn got(&self) -> Vec<(Instant, String, Value)> {
        self.fake.lock().unwrap().got.clone()
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.done.take().unwrap().await.unwrap().unwrap();
    }
}

fn text_of(body: &Value) -> String {
    body["text"]["body"]
        .as_str()
        .or_else(|| body["text"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_subscribers_of_the_category_get_it_in_their_language() {
    let now = Timestamp::now();
    let running = Running::start(500, |s| {
        let put =
            |channel: &str, id: &str, c: Citizen| s.put_citizen(&CitizenKey::new("brusson", channel, id), &c).unwrap();
        put("whatsapp", "391", subscriber("it", &["eventi"], now));
        put("whatsapp", "392", subscriber("fr", &["eventi", "info"], now));
        put("telegram", "93", subscriber("fr", &["eventi"], now));
        // Not subscribed to eventi; unsubscribed; blocked; the web simulator; another comune.
        put("whatsapp", "394", subscriber("it", &["info"], now));
        let mut gone = subscriber("it", &["eventi"], now);
        gone.state = CitizenState::Unsubscribed;
        put("whatsapp", "395", gone);
        let mut blocked = subscriber("it", &["eventi"], now);
        blocked.state = CitizenState::Blocked { reason: "x".into() };
        put("whatsapp", "396", blocked);
        put("web", "web-7", subscriber("it", &["eventi"], now));
        s.put_citizen(
            &CitizenKey::new("madone", "whatsapp", "398"),
            &subscriber("it", &[], now),
        )
        .unwrap();
    })
    .await;
    let id = running.create(&request("eventi", texts())).unwrap();
    running.done(id, Duration::from_secs(20)).await;
    let mut got: Vec<(String, String)> = running
        .got()
        .iter()
        .map(|(_, to, b)| (to.clone(), text_of(b)))
        .collect();
    got.sort();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].0, "391");
    assert!(
        got[0].1.contains("Strada chiusa per neve") && got[0].1.contains("Eventi e attività"),
        "{}",
        got[0].1
    );
    assert_eq!(got[1].0, "392");
    assert!(
        got[1].1.contains("Route fermée pour neige") && got[1].1.contains("Événements"),
        "{}",
        got[1].1
    );
    assert_eq!(got[2].0, "93", "the Telegram subscriber, by chat id");
    assert!(got[2].1.contains("Route fermée"));
    let f = running.figures(id);
    assert_eq!((f.recipients, f.sent, f.failed, f.queued), (3, 3, 0, 0), "{f:?}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn french_subscribers_without_a_french_text_are_refused_and_nothing_is_queued() {
    let running = Running::start(500, |s| {
        seed(s, 0, 4, &["info"]);
    })
    .await;
    let only_italian: BTreeMap<String, String> = [("it".to_string(), "Solo italiano".to_string())].into();
    let e = running.create(&request("info", only_italian)).unwrap_err();
    assert!(
        matches!(&e, BroadcastError::MissingText { language, count: 2 } if language == "fr"),
        "{e}"
    );
    assert!(e.to_string().contains("--text-fr"), "{e}");
    assert!(running.store.broadcasts(None).unwrap().is_empty());
    let e = running.create(&request("cronaca", texts())).unwrap_err();
    assert!(matches!(e, BroadcastError::UnknownCategory { .. }), "{e}");
    let mut no_category = request("info", texts());
    no_category.category = None;
    assert!(matches!(
        running.create(&no_category).unwrap_err(),
        BroadcastError::CategoryNeeded { .. }
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(running.got().is_empty());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_24_hour_window_chooses_free_form_or_the_template() {
    let now = Timestamp::now();
    let running = Running::start(500, |s| {
        let put = |id: &str, c: Citizen| s.put_citizen(&CitizenKey::new("brusson", "whatsapp", id), &c).unwrap();
        put("391", subscriber("it", &["info"], now - SignedDuration::from_hours(23)));
        put("392", subscriber("it", &["info"], now - SignedDuration::from_hours(25)));
        put("393", subscriber("fr", &["info"], now - SignedDuration::from_hours(72)));
    })
    .await;
    let id = running.create(&request("info", texts())).unwrap();
    running.done(id, Duration::from_secs(20)).await;
    let by: BTreeMap<String, Value> = running.got().into_iter().map(|(_, to, b)| (to, b)).collect();
    assert_eq!(by["391"]["type"], "text");
    assert_eq!(by["392"]["type"], "template");
    assert_eq!(by["392"]["template"]["name"], "avviso_brusson");
    assert_eq!(by["392"]["template"]["language"]["code"], "it");
    assert_eq!(
        by["392"]["template"]["components"][0]["parameters"][0]["text"],
        "Strada chiusa per neve"
    );
    assert_eq!(by["393"]["template"]["name"], "avis_brusson");
    assert_eq!(running.figures(id).templates, 2);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_errors_are_not_retried_transient_ones_are() {
    let running = Running::start(500, |s| {
        seed(s, 0, 6, &["info"]);
    })
    .await;
    {
        let mut f = running.fake.lock().unwrap();
        f.errors.insert("393330000000".into(), [131026].into()); // not on WhatsApp
        f.errors.insert("393330000001".into(), [130429, 131000].into()); // throttle, then transient
        f.errors.insert("393330000002".into(), [132001].into()); // template missing: never retried
    }
    let id = running.create(&request("info", texts())).unwrap();
    running.done(id, Duration::from_secs(30)).await;
    let got = running.got();
    let refused = running.fake.lock().unwrap().refused.clone();
    let count = |to: &str| got.iter().filter(|(_, t, _)| t == to).count();
    assert_eq!(count("393330000000"), 0);
    assert_eq!(
        refused.iter().filter(|(t, _)| t == "393330000000").count(),
        1,
        "131026 tried once"
    );
    assert_eq!(count("393330000001"), 1, "delivered after two transient errors");
    assert_eq!(refused.iter().filter(|(t, _)| t == "393330000001").count(), 2);
    assert_eq!(refused.iter().filter(|(t, _)| t == "393330000002").count(), 1);
    let f = running.figures(id);
    assert_eq!((f.sent, f.failed), (4, 2), "{f:?}");
    let key = CitizenKey::new("brusson", "whatsapp", "393330000000");
    assert!(matches!(
        running.store.delivery(id, &key).unwrap().unwrap().state,
        DeliveryState::Failed { code: 131026, .. }
    ));
    // Resend to failed: queued again, sent again to whoever the provider now accepts.
    assert_eq!(
        plan::resend_failed(running.store.as_ref(), id, "test", Timestamp::now()).unwrap(),
        2
    );
    running.server.broadcast_wake.notify_one();
    running.done(id, Duration::from_secs(30)).await;
    assert_eq!(running.figures(id).sent, 6);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_statuses_reach_the_figures() {
    let running = Running::start(500, |s| {
        seed(s, 0, 3, &["info"]);
    })
    .await;
    let id = running.create(&request("info", texts())).unwrap();
    running.done(id, Duration::from_secs(20)).await;
    // The fake numbered its wamids 1..=3 in arrival order; statuses come as signed webhooks.
    let status = |n: usize, status: &str, errors: Value| {
        json!({"id": format!("wamid.b.{n}"), "status": status, "timestamp": Timestamp::now().as_second().to_string(),
               "recipient_id": "39333", "errors": errors})
    };
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{"field": "messages", "value": {
    "messaging_product": "whatsapp",
    "metadata": {"display_phone_number": "39", "phone_number_id": "pn-brusson"},
    "statuses": [
        status(1, "delivered", json!([])),
        status(2, "read", json!([])),
        status(1, "read", json!([])),
        status(1, "delivered", json!([])),
        status(3, "failed", json!([{"code": 131049, "title": "ecosystem"}])),
    ]}}]}]});
    let raw = serde_json::to_vec(&body).unwrap();
    let code = reqwest::Client::new()
        .post(format!("{}/webhook/whatsapp", running.base))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            sportello::channel::whatsapp::sign(b"app-secret", &raw),
        )
        .body(raw)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(code, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let f = running.figures(id);
    assert_eq!((f.sent, f.delivered, f.read, f.failed), (2, 2, 2, 1), "{f:?}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_overtakes_a_running_broadcast() {
    let running = Running::start(100, |s| {
        seed(s, 0, 400, &["info"]);
        seed(s, 1000, 50, &["emergenze"]);
    })
    .await;
    let info = running.create(&request("info", texts())).unwrap();
    let started = Instant::now();
    while running.got().len() < 20 {
        assert!(started.elapsed() < Duration::from_secs(30), "info never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let alert = running.create(&request("emergenze", texts())).unwrap();
    running.done(alert, Duration::from_secs(60)).await;
    running.done(info, Duration::from_secs(60)).await;
    let order: Vec<bool> = running
        .got()
        .iter()
        .map(|(_, _, b)| text_of(b).contains("Emergenze") || text_of(b).contains("Urgences"))
        .collect();
    assert_eq!(order.iter().filter(|e| **e).count(), 50);
    let last_alert = order.iter().rposition(|e| *e).unwrap();
    // 20 before the alert was created, at most a batch (64) and the sends in flight (16)
    // while it was: the alert is through long before the 400 are.
    assert!(
        last_alert < 300,
        "the last alert message was number {last_alert} of 450"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_is_not_faster_than_the_configured_pace() {
    let running = Running::start(100, |s| {
        seed(s, 0, 250, &["info"]);
    })
    .await;
    let id = running.create(&request("info", texts())).unwrap();
    running.done(id, Duration::from_secs(60)).await;
    let times: Vec<Instant> = running.got().iter().map(|(t, _, _)| *t).collect();
    assert_eq!(times.len(), 250);
    // 250 messages at 100/s take at least 2.49 s, less the pacer's slack (20 ms).
    let span = *times.last().unwrap() - times[0];
    assert!(span >= Duration::from_millis(2400), "250 messages in {span:?}");
    // In any one-second window: 100, plus the slack and loopback jitter.
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|u| **u - *t < Duration::from_secs(1))
            .count();
        assert!(in_window <= 110, "{in_window} messages within one second");
    }
    running.stop().await;
}

/// Starts `sportello serve` on a free port over `data`; returns it once the admin address is written.
fn serve(dir: &Path, data: &Path) -> std::process::Child {
    let _ = std::fs::remove_file(data.join("admin.addr"));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["serve", "--bind", "127.0.0.1:0", "--config"])
        .arg(dir.join("config.toml"))
        .arg("--data")
        .arg(data)
        .current_dir(util::root())
        .env("SPORTELLO_WHATSAPP_TOKEN", "t")
        .env("SPORTELLO_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !data.join("admin.addr").is_file() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "sportello serve did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn cli(data: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend([
        "--data".to_string(),
        data.display().to_string(),
        "--config".to_string(),
        dir.join("config.toml").display().to_string(),
    ]);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    util::sportello(&util::root(), &refs, "")
}

async fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Issue #5: a SIGKILL in the middle of a broadcast, then a restart: nobody gets it twice.
/// The first kill comes while requests are held unanswered at the provider (every entry in
/// doubt did reach it), so every citizen gets it exactly once; the second comes at an
/// arbitrary moment, where the guarantee is at most once and every citizen is accounted for
/// (received, or marked interrupted for the operator).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_broadcast_then_restart_sends_each_citizen_at_most_once() {
    const CITIZENS: u64 = 2000;
    let (addr, fake) = fake_providers().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[whatsapp]\ngraph_url = \"http://{addr}/v23.0\"\n[broadcast]\nwhatsapp_per_second = 400\n\
             [comuni.brusson]\nwhatsapp_phone_number_id = \"pn-brusson\"\n\
             broadcast_templates = {{ it = \"avviso\", fr = \"avis\" }}\n"
        ),
    )
    .unwrap();
    let numbers = {
        let store = SledStore::open(&data).unwrap();
        let numbers = seed(&store, 0, CITIZENS, &["info"]);
        store.flush().unwrap();
        numbers
    };
    std::fs::write(dir.path().join("it.txt"), "Avviso di prova").unwrap();
    std::fs::write(dir.path().join("fr.txt"), "Avis d'essai").unwrap();

    let mut child = serve(dir.path(), &data);
    // Through the running server's admin endpoint (sled's lock keeps the CLI out).
    let out = cli(
        &data,
        dir.path(),
        &[
            "broadcast",
            "send",
            "--comune",
            "brusson",
            "--category",
            "info",
            "--text-it",
        ],
    );
    assert!(!out.status.success(), "a missing --text-it value must fail");
    let it = dir.path().join("it.txt").display().to_string();
    let fr = dir.path().join("fr.txt").display().to_string();
    let out = cli(
        &data,
        dir.path(),
        &[
            "broadcast",
            "send",
            "--comune",
            "brusson",
            "--category",
            "info",
            "--text-it",
            &it,
            "--text-fr",
            &fr,
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["audience"]["total"], CITIZENS);
    let id = answer["id"].as_u64().unwrap();

    // Kill 1: requests held unanswered at the provider, none else in flight.
    wait_for("600 sends", Duration::from_secs(60), || {
        fake.lock().unwrap().got.len() >= 600
    })
    .await;
    fake.lock().unwrap().hold = true;
    let mut last = (0, Instant::now());
    wait_for("the held requests to settle", Duration::from_secs(30), || {
        let held = fake.lock().unwrap().held;
        if held != last.0 {
            last = (held, Instant::now());
        }
        held > 0 && last.1.elapsed() > Duration::from_secs(1)
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let held = fake.lock().unwrap().held;
    fake.lock().unwrap().hold = false;

    // Kill 2: at an arbitrary moment.
    let mut child = serve(dir.path(), &data);
    let before = fake.lock().unwrap().got.len();
    wait_for("more sends", Duration::from_secs(60), || {
        fake.lock().unwrap().got.len() >= before + 500
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();

    let mut child = serve(dir.path(), &data);
    let mut state = String::new();
    let mut last_answer = String::new();
    for _ in 0..300 {
        let out = cli(&data, dir.path(), &["broadcast", "status", &id.to_string()]);
        last_answer = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            state = v["state"].as_str().unwrap_or_default().to_string();
            if state == "done" {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(state, "done", "{last_answer}");
    child.kill().unwrap();
    child.wait().unwrap();

    let got = fake.lock().unwrap().got.clone();
    let mut per_citizen: BTreeMap<String, usize> = BTreeMap::new();
    for (_, to, _) in &got {
        *per_citizen.entry(to.clone()).or_default() += 1;
    }
    let twice: Vec<_> = per_citizen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{} citizens got it more than once", twice.len());
    let store = SledStore::open(&data).unwrap();
    let mut interrupted_not_received = 0;
    let mut interrupted = 0;
    for number in &numbers {
        let d = store
            .delivery(id, &CitizenKey::new("brusson", "whatsapp", number))
            .unwrap()
            .expect("an outbox entry for every subscriber");
        let received = per_citizen.contains_key(number);
        match d.state {
            DeliveryState::Interrupted => {
                interrupted += 1;
                if !received {
                    interrupted_not_received += 1;
                }
            }
            DeliveryState::Sent => assert!(received, "marked sent but never received"),
            other => panic!("unexpected final state {other:?}"),
        }
    }
    // Every citizen is accounted for: received once, or reported interrupted (in doubt).
    assert_eq!(per_citizen.len() + interrupted_not_received, CITIZENS as usize);
    assert!(interrupted >= held, "the {held} held requests are reported in doubt");
    eprintln!(
        "crash test: {held} held at kill 1; {interrupted} interrupted, of which {interrupted_not_received} never reached the provider (kill 2)"
    );
    // Kill 1's entries in doubt all reached the provider: with only that kill, each
    // citizen would have got it exactly once. Kill 2 may leave a few in doubt, never more
    // than the requests in flight at once.
    assert!(
        interrupted_not_received <= sportello::broadcast::worker::CONCURRENCY,
        "{interrupted_not_received}"
    );
}

mod console {
    //! The console's broadcast pages through the real server (`server::Harness`).

    use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
    use sportello::console::{accounts, session};
    use sportello::storage::Role;

    use super::*;
    use crate::server::Harness;

    const PASSWORD: &str = "Quercia-Nuragica-1987";
    const BRUSSON_OP: &str = "segreteria@comune.brusson.ao.it";
    const ISILI_OP: &str = "operatore@comune.isili.ca.it";

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
        r.headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| {
                v.to_str()
                    .ok()?
                    .split(';')
                    .next()?
                    .split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    fn csrf_field(html: &str) -> String {
        let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        html[at..].split('"').next().unwrap().to_string()
    }

    async fn login(h: &Harness, email: &str) -> String {
        let http = client();
        let form = http.get(format!("{}/staff/login", h.base)).send().await.unwrap();
        let token = cookie_of(&form, session::LOGIN_COOKIE).unwrap();
        let r = http
            .post(format!("{}/staff/login", h.base))
            .header(COOKIE, format!("{}={token}", session::LOGIN_COOKIE))
            .form(&[("email", email), ("password", PASSWORD), ("csrf", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        format!("{}={}", session::COOKIE, cookie_of(&r, session::COOKIE).unwrap())
    }

    async fn get(h: &Harness, path: &str, cookie: &str) -> (u16, String) {
        let r = client()
            .get(format!("{}{path}", h.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn post(h: &Harness, path: &str, cookie: &str, form: &[(&str, &str)]) -> (u16, Option<String>, String) {
        let r = client()
            .post(format!("{}{path}", h.base))
            .header(COOKIE, cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let location = r.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_string());
        (r.status().as_u16(), location, r.text().await.unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn compose_preview_send_and_follow_a_broadcast_in_the_console() {
        let h = Harness::start().await;
        let now = Timestamp::now();
        accounts::create(
            h.store.as_ref(),
            BRUSSON_OP,
            Role::Operator,
            vec!["brusson".into()],
            PASSWORD,
            now,
        )
        .unwrap();
        accounts::create(
            h.store.as_ref(),
            ISILI_OP,
            Role::Operator,
            vec!["isili".into()],
            PASSWORD,
            now,
        )
        .unwrap();
        for (n, lang) in [("393330000101", "it"), ("393330000102", "fr")] {
            h.store
                .put_citizen(
                    &CitizenKey::new("brusson", "whatsapp", n),
                    &subscriber(lang, &["eventi"], now),
                )
                .unwrap();
        }
        let cookie = login(&h, BRUSSON_OP).await;
        let (status, html) = get(&h, "/staff/brusson/broadcasts/new", &cookie).await;
        assert_eq!(status, 200);
        let csrf = csrf_field(&html);
        let fields = |action: &'static str, csrf: String| {
            vec![
                ("csrf", csrf),
                ("category", "eventi".to_string()),
                ("text_it", "Festa patronale domenica".to_string()),
                ("text_fr", "Fête patronale dimanche".to_string()),
                ("media", String::new()),
                ("at", String::new()),
                ("action", action.to_string()),
            ]
        };
        let as_refs = |v: &Vec<(&'static str, String)>| v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
        let preview = fields("preview", csrf.clone());
        let preview: Vec<(&str, &str)> = preview.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, html) = post(&h, "/staff/brusson/broadcasts/new", &cookie, &preview).await;
        assert_eq!(status, 200);
        assert!(html.contains("📢 Comune di Brusson · Eventi e attività"), "{html}");
        assert!(html.contains("Fête patronale dimanche") && html.contains("MI CANCELLO"));
        assert!(h.store.broadcasts(None).unwrap().is_empty(), "a preview sends nothing");

        let forged = as_refs(&fields("send", "0".repeat(64)));
        let forged: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(post(&h, "/staff/brusson/broadcasts/new", &cookie, &forged).await.0, 403);
        let other = login(&h, ISILI_OP).await;
        assert_eq!(get(&h, "/staff/brusson/broadcasts", &other).await.0, 403);

        let send = fields("send", csrf.clone());
        let send: Vec<(&str, &str)> = send.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, location, _) = post(&h, "/staff/brusson/broadcasts/new", &cookie, &send).await;
        assert_eq!((status, location.as_deref()), (303, Some("/staff/brusson/broadcasts")));
        let sent = h.wait_sent(2).await;
        assert!(sent.iter().any(|(_, b)| b["text"]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("Fête patronale")));
        let audit = h.store.audit(Some("brusson")).unwrap();
        assert!(audit
            .iter()
            .any(|(_, e)| e.action == "broadcast-console" && e.actor == BRUSSON_OP));
        let started = Instant::now();
        loop {
            let (status, html) = get(&h, "/staff/brusson/broadcasts", &cookie).await;
            assert_eq!(status, 200);
            assert!(!html.contains("393330000101"), "no citizen number on the page");
            if html.contains("2 destinatari: 0 in coda, 2 inviati") {
                assert!(html.contains("<progress max=\"2\" value=\"2\">"), "{html}");
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "{html}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        h.stop().await;
    }
}
