//! Fake providers that record what they receive, when and for whom (and can refuse, hold or
//! garble answers), and subscribers to broadcast to.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Path as UrlPath, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use sportello::dialogue::{Citizen, State as CitizenState};
use sportello::storage::{CitizenKey, Store};

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
    /// Recipients whose requests are recorded, then answered 200 with a body that is not
    /// JSON: accepted, perhaps, but the sender cannot know.
    pub garble: std::collections::HashSet<String>,
}

pub type Shared = Arc<Mutex<Fake>>;

async fn graph(State(f): State<Shared>, UrlPath(_pnid): UrlPath<String>, Json(body): Json<Value>) -> Response {
    // A number in `to`, or a business-scoped user id in `recipient` (WhatsApp usernames).
    let to = body["to"]
        .as_str()
        .or(body["recipient"].as_str())
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
        let garbled = p.garble.contains(&to);
        p.got.push((Instant::now(), to, body));
        if garbled {
            return "<html>gateway</html>".into_response();
        }
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
