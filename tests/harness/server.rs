//! A running sportello on a loopback port with fake WhatsApp and Telegram providers
//! ([`Harness`]), and the WhatsApp webhooks tests send it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use sportello::channel::whatsapp::sign;
use sportello::config::{ComuneChannels, Config, Secrets};
use sportello::server::{Options, Server};
use sportello::storage::{CitizenKey, SledStore, Store};

use crate::util;

pub(crate) const APP_SECRET: &str = "test-app-secret";
pub(crate) const COMUNI: [&str; 5] = ["isola-delle-femmine", "isili", "madone", "assemini", "brusson"];

/// What the fake providers received, and how many of the next sends they refuse.
#[derive(Default)]
pub struct Provider {
    /// (phone_number_id or bot token, request body), in arrival order.
    pub sent: Vec<(String, Value)>,
    pub read_receipts: Vec<String>,
    pub callbacks_answered: Vec<String>,
    /// Refuse this many sends with WhatsApp's 130429 (or Telegram's 429).
    pub refuse: usize,
    pub refused: usize,
    /// Refuse every send to this recipient with 131026 (not a WhatsApp number).
    pub undeliverable: Option<String>,
    /// Answer every send to this recipient 200 with a body that is not JSON, after
    /// recording it in `garbled`: it may have been delivered, the sender cannot know.
    pub garble: Option<String>,
    pub garbled: Vec<Value>,
}

type Shared = Arc<Mutex<Provider>>;

async fn graph_messages(
    State(p): State<Shared>,
    Path(pnid): Path<String>,
    Json(body): Json<Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut p = p.lock().unwrap();
    if body["status"] == "read" {
        p.read_receipts
            .push(body["message_id"].as_str().unwrap_or_default().to_string());
        return Json(json!({"success": true})).into_response();
    }
    let to = body["to"].as_str().map(|t| t.trim_start_matches('+').to_string());
    if p.undeliverable.is_some() && p.undeliverable == to {
        p.refused += 1;
        let err = json!({"error": {"message": "(#131026) Message undeliverable", "type": "OAuthException", "code": 131026, "fbtrace_id": "x"}});
        return (axum::http::StatusCode::BAD_REQUEST, Json(err)).into_response();
    }
    if p.garble.is_some() && p.garble == to {
        p.garbled.push(body);
        return "<html>502 gateway</html>".into_response();
    }
    if p.refuse > 0 {
        p.refuse -= 1;
        p.refused += 1;
        let err = json!({"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429, "fbtrace_id": "x"}});
        return (axum::http::StatusCode::BAD_REQUEST, Json(err)).into_response();
    }
    p.sent.push((pnid, body));
    let n = p.sent.len();
    Json(json!({"messaging_product": "whatsapp", "contacts": [{"input": "x", "wa_id": "x"}], "messages": [{"id": format!("wamid.out.{n}")}]})).into_response()
}

async fn telegram_method(
    State(p): State<Shared>,
    Path((bot, method)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut p = p.lock().unwrap();
    if method == "answerCallbackQuery" {
        p.callbacks_answered
            .push(body["callback_query_id"].as_str().unwrap_or_default().to_string());
        return Json(json!({"ok": true, "result": true})).into_response();
    }
    if p.refuse > 0 {
        p.refuse -= 1;
        p.refused += 1;
        let err = json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 0", "parameters": {"retry_after": 0}});
        return (axum::http::StatusCode::TOO_MANY_REQUESTS, Json(err)).into_response();
    }
    p.sent.push((bot, body));
    let n = p.sent.len() as i64;
    Json(json!({"ok": true, "result": {"message_id": n, "date": 0, "chat": {"id": 1, "type": "private"}}}))
        .into_response()
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A running sportello with fake providers.
pub struct Harness {
    pub base: String,
    pub provider: Shared,
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    /// The data directory and its sled store (backups read them; see tests/backup.rs).
    pub data: std::path::PathBuf,
    pub sled: SledStore,
    /// The running server (for lane jobs and settings).
    pub server: Server,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::start_on(None).await
    }

    /// A server whose engine uses `store` (PostgreSQL) instead of the sled store in its
    /// data directory; the admin (backup) endpoint stays off, as `serve` does then.
    pub async fn start_on(store: Option<Arc<dyn Store>>) -> Harness {
        Harness::start_with(store, |_| {}).await
    }

    /// A server built with its [`Options`] changed by `tune` (a smaller backlog, fewer
    /// webhook slots) from the harness's own: retries after 5 ms, media in the data directory.
    pub async fn start_with(store: Option<Arc<dyn Store>>, tune: impl FnOnce(&mut Options)) -> Harness {
        let provider: Shared = Arc::default();
        let fake = Router::new()
            .route("/v23.0/{pnid}/messages", post(graph_messages))
            .route("/{bot}/{method}", post(telegram_method))
            .with_state(provider.clone());
        let fake_addr = serve(fake).await;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // The admin endpoint takes its backups from the handle the engine writes through.
        // Sealed, as `serve` opens it; `sled` is the store underneath (sealed values).
        let (sealed, _) = sportello::storage::sealed::migrate::open_sled(&data).unwrap();
        let sled = sealed.inner().clone();
        let admin = store.is_none();
        let store: Arc<dyn Store> = store.unwrap_or_else(|| Arc::new(sealed));
        // Tests log in and load pages far faster than people: the per-address pace of the
        // public routes is exercised by tests/hostile.rs and tests/logins.rs, not here.
        let quick = sportello::config::Pace {
            burst: 10_000,
            per_minute: 600_000,
        };
        let mut config = Config {
            graph_url: format!("http://{fake_addr}/v23.0"),
            telegram_url: format!("http://{fake_addr}"),
            pace: sportello::config::PublicPace {
                pages: quick,
                login: quick,
                ..Default::default()
            },
            ..Config::default()
        };
        let mut vars = vec![
            ("SPORTELLO_WHATSAPP_APP_SECRET".to_string(), APP_SECRET.to_string()),
            ("SPORTELLO_WHATSAPP_VERIFY_TOKEN".to_string(), "verify-me".to_string()),
            ("SPORTELLO_WHATSAPP_TOKEN".to_string(), "graph-token".to_string()),
        ];
        // Brusson has a coat of arms (the header band shows it; `look` checks it).
        std::fs::create_dir_all(&data).unwrap();
        let arms = data.join("stemma-brusson.svg");
        std::fs::write(&arms, ARMS_SVG).unwrap();
        for c in COMUNI {
            config.comuni.insert(
                c.into(),
                ComuneChannels {
                    whatsapp_phone_number_id: Some(format!("pn-{c}")),
                    arms: (c == "brusson").then(|| arms.clone()),
                    ..Default::default()
                },
            );
            let env = c.to_ascii_uppercase().replace('-', "_");
            vars.push((format!("SPORTELLO_TELEGRAM_TOKEN_{env}"), format!("tok-{c}")));
            vars.push((format!("SPORTELLO_TELEGRAM_SECRET_{env}"), format!("secret-{c}")));
        }
        let mut options = Options {
            first_backoff: Duration::from_millis(5),
            media_dir: Some(data.join("media")),
            ..Default::default()
        };
        tune(&mut options);
        let server = Server::with_options(util::engine(store.clone()), config, Secrets::from_vars(vars), options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        if admin {
            server
                .enable_admin(sled.clone(), &data, listener.local_addr().unwrap())
                .unwrap();
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let running = server.clone();
        let done = tokio::spawn(sportello::app::run(server, listener, async move {
            let _ = rx.await;
        }));
        Harness {
            base,
            provider,
            store,
            http: reqwest::Client::new(),
            data,
            sled: sled.clone(),
            server: running,
            shutdown: Some(tx),
            done: Some(done),
            _dir: dir,
        }
    }

    /// Posts a signed WhatsApp webhook; returns the status code.
    pub async fn post_signed(&self, body: &Value) -> u16 {
        let raw = serde_json::to_vec(body).unwrap();
        self.post_raw(&raw, Some(&sign(APP_SECRET.as_bytes(), &raw))).await
    }

    pub async fn post_raw(&self, raw: &[u8], signature: Option<&str>) -> u16 {
        let mut req = self
            .http
            .post(format!("{}/webhook/whatsapp", self.base))
            .header("content-type", "application/json")
            .body(raw.to_vec());
        if let Some(sig) = signature {
            req = req.header("x-hub-signature-256", sig);
        }
        req.send().await.unwrap().status().as_u16()
    }

    /// Waits until the providers hold `n` sent messages (or fails after 10 s).
    pub async fn wait_sent(&self, n: usize) -> Vec<(String, Value)> {
        for _ in 0..1000 {
            {
                let p = self.provider.lock().unwrap();
                if p.sent.len() >= n {
                    return p.sent.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let p = self.provider.lock().unwrap();
        panic!("expected {n} sent messages, got {}: {:?}", p.sent.len(), p.sent);
    }

    /// GETs a path of the server and returns the body.
    pub async fn get_text(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub fn sent(&self) -> Vec<(String, Value)> {
        self.provider.lock().unwrap().sent.clone()
    }

    pub fn status(&self, comune: &str, channel: &str, citizen: &str) -> String {
        self.store
            .citizen(&CitizenKey::new(comune, channel, citizen))
            .unwrap()
            .map(|c| c.status().to_string())
            .unwrap_or_else(|| "none".into())
    }

    pub async fn stop(mut self) {
        let _ = self.shutdown.take().unwrap().send(());
        self.done.take().unwrap().await.unwrap().unwrap();
    }

    /// Stops the server as `serve` stops (its admin files removed) and lets go of the store,
    /// keeping the data directory for commands run on it afterwards: its guard is returned.
    pub async fn stop_keeping_data(mut self) -> tempfile::TempDir {
        let _ = self.shutdown.take().unwrap().send(());
        self.done.take().unwrap().await.unwrap().unwrap();
        sportello::server::remove_admin_files(&self.data);
        let Harness {
            server,
            store,
            sled,
            _dir,
            ..
        } = self;
        drop((server, store, sled));
        _dir
    }
}

/// A WhatsApp notification with one text message.
/// The test coat of arms given to Brusson.
pub const ARMS_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 12\"><path d=\"M0 0h10v7l-5 5-5-5z\" fill=\"#0066cc\"/></svg>";

pub fn wa_text(comune: &str, from: &str, id: &str, ts: i64, text: &str) -> Value {
    wa_batch(
        comune,
        vec![wa_message(
            from,
            id,
            ts,
            json!({"type": "text", "text": {"body": text}}),
        )],
    )
}

pub fn wa_message(from: &str, id: &str, ts: i64, content: Value) -> Value {
    let mut m = json!({"from": from, "id": id, "timestamp": ts.to_string()});
    for (k, v) in content.as_object().unwrap() {
        m[k] = v.clone();
    }
    m
}

pub fn wa_batch(comune: &str, messages: Vec<Value>) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390000000000", "phone_number_id": format!("pn-{comune}")},
        "contacts": [{"profile": {"name": "Test"}, "wa_id": "393330000001"}],
        "messages": messages}}]}]})
}

/// A WhatsApp webhook request for `body` to the server at `base`, signed with `secret`, not
/// yet sent.
pub(crate) fn signed_request(
    http: &reqwest::Client,
    base: &str,
    secret: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    let raw = serde_json::to_vec(body).unwrap();
    http.post(format!("{base}/webhook/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(secret.as_bytes(), &raw))
        .body(raw)
}

/// The text bodies the fake Graph API received for `to`, in order.
pub(crate) fn texts_to(sent: &[(String, Value)], to: &str) -> Vec<String> {
    sent.iter()
        // The adapter writes recipients with a leading + (Meta's advice for full numbers).
        .filter(|(_, b)| b["to"].as_str().map(|t| t.trim_start_matches('+')) == Some(to))
        .map(|(_, b)| {
            b["text"]["body"]
                .as_str()
                .or(b["interactive"]["body"]["text"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Sends one text and waits for `replies` more messages to reach the fake.
pub(crate) async fn say(
    h: &Harness,
    comune: &str,
    from: &str,
    seq: &mut i64,
    text: &str,
    replies: usize,
) -> Vec<String> {
    let before = h.sent().len();
    *seq += 1;
    let code = h
        .post_signed(&wa_text(
            comune,
            from,
            &format!("wamid.{comune}.{from}.{seq}"),
            1_800_000_000 + *seq,
            text,
        ))
        .await;
    assert_eq!(code, 200, "{comune}: {text}");
    let sent = h.wait_sent(before + replies).await;
    texts_to(&sent[before..], from)
}
