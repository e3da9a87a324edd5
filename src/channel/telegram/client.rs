//! The Bot API HTTP client and the classification of its errors.
//!
//! Owns the request URL (`{base}/bot{token}/{method}`), reading Telegram's
//! `{"ok":…,"result":…}` envelope and mapping failures onto [`SendError`]. It must never
//! log or return a URL or the token (reqwest errors are stripped of theirs), nor log
//! request bodies: they hold chat ids and message text. Pacing and retries belong to the
//! sender worker, which reads [`SendError::is_retryable`] and `retry_after`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::channel::SendError;

/// A cheap-to-clone handle for one bot: the shared reqwest client plus where to send.
#[derive(Clone)]
pub struct BotClient {
    http: reqwest::Client,
    // Arc: cloned into every sender task; never printed (see the Debug impl).
    base_url: Arc<str>,
    token: Arc<str>,
}

impl std::fmt::Debug for BotClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotClient")
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl BotClient {
    /// `base_url` e.g. "https://api.telegram.org" (configurable so tests use a fake server
    /// on 127.0.0.1); requests go to {base}/bot{token}/{method}. Timeouts are the given
    /// reqwest client's. Building a reqwest client in this crate panics unless a rustls
    /// crypto provider was installed first (`rustls::crypto::ring::default_provider()
    /// .install_default()`, once, in `main`): reqwest is built without a default one.
    pub fn new(http: reqwest::Client, base_url: &str, token: &str) -> BotClient {
        BotClient {
            http,
            base_url: Arc::from(base_url.trim_end_matches('/')),
            token: Arc::from(token),
        }
    }

    /// Sends one body built by [`super::send_message_bodies`]. Returns the sent message_id.
    pub async fn send_message(&self, body: &Value) -> Result<i64, SendError> {
        let result = self.call("sendMessage", body).await?;
        result
            .get("message_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| SendError::InDoubt("sendMessage: no message_id in the answer".into()))
    }

    /// Sends with another method that answers a Message (`sendPhoto`, `sendVideo`, …).
    /// Returns the sent message_id.
    pub async fn send_with(&self, method: &'static str, body: &Value) -> Result<i64, SendError> {
        let result = self.call(method, body).await?;
        result
            .get("message_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| SendError::InDoubt(format!("{method}: no message_id in the answer")))
    }

    /// Stops the progress indicator on the citizen's button; shows no notification.
    pub async fn answer_callback_query(&self, callback_query_id: &str) -> Result<(), SendError> {
        self.call(
            "answerCallbackQuery",
            &json!({ "callback_query_id": callback_query_id }),
        )
        .await
        .map(drop)
    }

    /// POSTs `body` as JSON to `method` and returns the envelope's `result`.
    async fn call(&self, method: &'static str, body: &Value) -> Result<Value, SendError> {
        let url = format!("{}/bot{}/{}", self.base_url, self.token, method);
        let response = self
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(SendError::from_request)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(SendError::from_request)?;
        if (200..300).contains(&status) {
            match serde_json::from_slice(&bytes) {
                Ok(Envelope {
                    ok: true,
                    result: Some(result),
                }) => return Ok(result),
                // A refusal the Bot API states (`ok: false`): classified below.
                Ok(_) => {}
                // A success that cannot be read: it may have been sent.
                Err(_) => {
                    return Err(SendError::InDoubt(format!(
                        "{method}: HTTP {status} with an unreadable body"
                    )))
                }
            }
        }
        let err = classify(status, &bytes);
        tracing::debug!(method, status, retryable = err.is_retryable(), "telegram: call failed");
        Err(err)
    }
}

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    result: Option<Value>,
}

#[derive(Deserialize)]
struct ApiError {
    error_code: Option<i64>,
    description: Option<String>,
    parameters: Option<ResponseParameters>,
}

#[derive(Deserialize)]
struct ResponseParameters {
    retry_after: Option<u64>,
}

/// Maps a failed Bot API answer onto [`SendError`]. `code` is the body's `error_code`
/// (which Telegram keeps equal to the HTTP status), else the status; `title` the body's
/// `description` (fixed English strings such as "Forbidden: bot was blocked by the user",
/// never message content), cut to 200 characters.
///
/// * 429 "Too Many Requests" → `Retryable` with `retry_after: Some(N)` from
///   `parameters.retry_after` (seconds to wait); any answer carrying `retry_after` too.
/// * 5xx (Telegram's side, e.g. 502 while it restarts) → `Retryable`.
/// * 400 Bad Request (chat not found, empty or too long text, bad callback_data, group
///   migrated to a supergroup…) → `Permanent`: the same request will fail again.
/// * 401 Unauthorized (token revoked or wrong) → `Permanent`; needs an operator.
/// * 403 Forbidden (the user blocked the bot, deleted their account, or the bot was kicked
///   from the chat) → `Permanent`: stop writing to this chat.
/// * 404 Not Found (bad token format or unknown method) → `Permanent`.
/// * Any other 4xx (409 Conflict with getUpdates, 413…) → `Permanent`.
/// * Anything else (an answer with no usable code, 2xx with `ok: false` and no code) →
///   `Retryable`: the worker's retry limit bounds it.
///
/// Transport failures and unreadable successes never get here: [`BotClient`] turns them
/// into [`SendError::Transport`] (never sent) or [`SendError::InDoubt`] (may have been).
pub fn classify(http_status: u16, body: &[u8]) -> SendError {
    let parsed: Option<ApiError> = serde_json::from_slice(body).ok();
    let (code, description, retry_after) = match parsed {
        Some(e) => (
            e.error_code.unwrap_or(i64::from(http_status)),
            e.description,
            e.parameters.and_then(|p| p.retry_after),
        ),
        None => (i64::from(http_status), None, None),
    };
    let title = match description {
        Some(d) => d.chars().take(200).collect(),
        None => format!("HTTP {http_status}"),
    };
    match code {
        _ if retry_after.is_some() || code == 429 => SendError::Retryable {
            code,
            title,
            retry_after,
        },
        500..=599 => SendError::Retryable {
            code,
            title,
            retry_after: None,
        },
        400..=499 => SendError::Permanent { code, title },
        _ => SendError::Retryable {
            code,
            title,
            retry_after: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Mutex;

    use axum::body::Bytes;
    use axum::http::{StatusCode, Uri};
    use axum::response::IntoResponse;

    const TOKEN: &str = "123456789:AAFake-token_for_tests";

    /// reqwest is built with rustls and no default crypto provider: the process installs
    /// one (`main` must too). Installing twice is an error we ignore, tests share a process.
    fn http() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    fn retryable(code: i64, retry_after: Option<u64>) -> impl Fn(&SendError) -> bool {
        move |e| matches!(e, SendError::Retryable { code: c, retry_after: r, .. } if *c == code && *r == retry_after)
    }

    #[test]
    fn classify_429_reads_retry_after() {
        let body = include_bytes!("../../../tests/fixtures/telegram/response_error_429.json");
        let err = classify(429, body);
        assert!(retryable(429, Some(8))(&err), "{err:?}");
        assert_eq!(
            err.to_string(),
            "retryable provider error 429: Too Many Requests: retry after 8"
        );
    }

    #[test]
    fn classify_5xx_and_unreadable_bodies_are_retryable() {
        assert!(retryable(502, None)(&classify(502, b"<html>Bad Gateway</html>")));
        let body = br#"{"ok":false,"error_code":500,"description":"Internal Server Error"}"#;
        assert!(retryable(500, None)(&classify(500, body)));
        assert!(retryable(200, None)(&classify(200, b"")));
        assert!(retryable(200, None)(&classify(200, br#"{"ok":false}"#)));
    }

    #[test]
    fn classify_client_errors_are_permanent() {
        let blocked = include_bytes!("../../../tests/fixtures/telegram/response_error_403.json");
        assert_eq!(
            classify(403, blocked),
            SendError::Permanent {
                code: 403,
                title: "Forbidden: bot was blocked by the user".into()
            }
        );
        let not_found = include_bytes!("../../../tests/fixtures/telegram/response_error_400.json");
        assert!(matches!(
            classify(400, not_found),
            SendError::Permanent { code: 400, .. }
        ));
        // Some answers carry no error_code: the HTTP status stands in.
        let no_code = br#"{"ok":false,"description":"Bad Request: chat not found"}"#;
        assert!(matches!(classify(400, no_code), SendError::Permanent { code: 400, .. }));
        let unauthorized = br#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#;
        assert!(matches!(
            classify(401, unauthorized),
            SendError::Permanent { code: 401, .. }
        ));
        assert_eq!(
            classify(404, b"not json"),
            SendError::Permanent {
                code: 404,
                title: "HTTP 404".into()
            }
        );
    }

    #[test]
    fn classify_cuts_long_descriptions() {
        let body = json!({"ok": false, "error_code": 400, "description": "x".repeat(5000)});
        let SendError::Permanent { title, .. } = classify(400, body.to_string().as_bytes()) else {
            panic!("not permanent")
        };
        assert_eq!(title.chars().count(), 200);
    }

    /// What the fake Bot API saw: (path, JSON body) per request.
    type Seen = Arc<Mutex<Vec<(String, Value)>>>;

    /// A fake Bot API on 127.0.0.1:0. sendMessage to chat 429 is rate limited.
    async fn fake_api() -> (String, Seen) {
        let seen: Seen = Arc::default();
        let log = seen.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, body: Bytes| {
            let log = log.clone();
            async move {
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let path = uri.path().to_string();
                log.lock().unwrap().push((path.clone(), body.clone()));
                if path.ends_with("/sendMessage") && body["chat_id"] == json!(429) {
                    let answer = include_str!("../../../tests/fixtures/telegram/response_error_429.json");
                    return (StatusCode::TOO_MANY_REQUESTS, answer).into_response();
                }
                if path.ends_with("/sendMessage") {
                    let answer = include_str!("../../../tests/fixtures/telegram/response_send_message_ok.json");
                    return (StatusCode::OK, answer).into_response();
                }
                if path.ends_with("/answerCallbackQuery") {
                    return (StatusCode::OK, r#"{"ok":true,"result":true}"#).into_response();
                }
                (
                    StatusCode::NOT_FOUND,
                    r#"{"ok":false,"error_code":404,"description":"Not Found"}"#,
                )
                    .into_response()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}/"), seen)
    }

    #[tokio::test]
    async fn send_message_posts_to_the_bot_path_and_returns_the_id() {
        let (base, seen) = fake_api().await;
        let bot = BotClient::new(http(), &base, TOKEN);
        let body = json!({"chat_id": 100000001, "text": "L'anagrafe apre alle 9:00."});
        assert_eq!(bot.send_message(&body).await, Ok(50));
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0], (format!("/bot{TOKEN}/sendMessage"), body));
    }

    #[tokio::test]
    async fn rate_limit_is_retryable_with_retry_after() {
        let (base, _) = fake_api().await;
        let bot = BotClient::new(http(), &base, TOKEN);
        let err = bot
            .send_message(&json!({"chat_id": 429, "text": "x"}))
            .await
            .unwrap_err();
        assert!(retryable(429, Some(8))(&err), "{err:?}");
    }

    #[tokio::test]
    async fn answer_callback_query_sends_the_id() {
        let (base, seen) = fake_api().await;
        let bot = BotClient::new(http(), &base, TOKEN);
        bot.answer_callback_query("4382000000000000001").await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].0, format!("/bot{TOKEN}/answerCallbackQuery"));
        assert_eq!(seen[0].1, json!({"callback_query_id": "4382000000000000001"}));
    }

    #[tokio::test]
    async fn transport_errors_never_show_the_token() {
        // A port that was just free: the connection is refused.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let bot = BotClient::new(http(), &format!("http://{addr}"), TOKEN);
        let err = bot.send_message(&json!({"chat_id": 1, "text": "x"})).await.unwrap_err();
        assert!(matches!(err, SendError::Transport(_)), "{err:?}");
        assert!(err.is_retryable());
        assert!(!err.to_string().contains("AAFake"), "{err}");
        assert!(!format!("{err:?}").contains("AAFake"));
        assert!(!format!("{bot:?}").contains("AAFake"));
    }
}
