//! The Graph API client: one HTTP request per call, no retries.
//!
//! Owns the request (URL, bearer token, JSON body) and reading the answer into a wamid or a
//! classified [`SendError`]. Retrying, pacing and backoff belong to the sender worker, which
//! knows about other messages. The token is sent only in the `Authorization` header and is
//! redacted from `Debug`; logs carry HTTP statuses, Graph codes and the phone number id
//! (the comune's business number), never a body or a citizen's number.

use std::sync::Arc;

use serde_json::Value;

use super::errors::classify;
use super::outbound::{mark_read_json, Outbound};
use crate::channel::SendError;

/// A cheap-to-clone Cloud API client for one access token.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    /// Without a trailing slash, e.g. "https://graph.facebook.com/v23.0".
    base_url: Arc<str>,
    token: Arc<str>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl GraphClient {
    /// `base_url` e.g. "https://graph.facebook.com/v23.0" (configurable so tests use a fake
    /// server on 127.0.0.1). Timeouts are the `http` client's. reqwest is built without a
    /// default TLS provider: install one (`rustls::crypto::ring::default_provider()
    /// .install_default()`) before building `http`, as the tests below do.
    pub fn new(http: reqwest::Client, base_url: &str, token: &str) -> GraphClient {
        GraphClient {
            http,
            base_url: base_url.trim_end_matches('/').into(),
            token: token.into(),
        }
    }

    /// One request; returns the wamid from `messages[0].id`. A 200 only means Meta accepted
    /// the message: delivery comes later as status webhooks.
    pub async fn send(&self, phone_number_id: &str, msg: &Outbound) -> Result<String, SendError> {
        let answer = self.post(phone_number_id, &msg.to_json()).await?;
        match answer.pointer("/messages/0/id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Ok(id.to_string()),
            // Accepted, perhaps, but unreadable: it may have been sent.
            _ => Err(SendError::InDoubt("success response without messages[0].id".into())),
        }
    }

    /// Marks an inbound message (and the earlier ones in that chat) as read.
    pub async fn mark_read(&self, phone_number_id: &str, message_id: &str) -> Result<(), SendError> {
        self.post(phone_number_id, &mark_read_json(message_id)).await.map(drop)
    }

    /// POST `{base}/{phone_number_id}/messages`; a 2xx JSON answer or a classified error.
    async fn post(&self, phone_number_id: &str, body: &Value) -> Result<Value, SendError> {
        let url = format!("{}/{}/messages", self.base_url, phone_number_id);
        let response = self
            .http
            .post(url)
            .bearer_auth(&*self.token)
            .json(body)
            .send()
            .await
            .map_err(SendError::from_request)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response.bytes().await.map_err(SendError::from_request)?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|_| SendError::InDoubt(format!("HTTP {} with a body that is not JSON", status.as_u16())));
        }
        let err = classify(status.as_u16(), &bytes, retry_after.as_deref());
        let (code, retryable) = match &err {
            SendError::Retryable { code, .. } => (*code, true),
            SendError::Permanent { code, .. } => (*code, false),
            SendError::Transport(_) | SendError::InDoubt(_) => (0, true),
        };
        tracing::warn!(
            phone_number_id,
            http_status = status.as_u16(),
            code,
            retryable,
            "graph request failed"
        );
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio::task::JoinHandle;

    /// A one-shot HTTP/1.1 server on 127.0.0.1 that answers `response` and hands back the
    /// raw request it received.
    async fn serve_once(response: String) -> (String, JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v23.0", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = sock.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf);
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            sock.write_all(response.as_bytes()).await.unwrap();
            sock.shutdown().await.ok();
            String::from_utf8(buf).unwrap()
        });
        (base, task)
    }

    fn http(status: &str, extra: &str, body: &str) -> String {
        format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
    }

    /// reqwest has no built-in rustls provider in this build (see Cargo.toml).
    fn http_client() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    fn text() -> Outbound {
        Outbound::Text {
            to: "393330000001".into(),
            body: "Sì".into(),
        }
    }

    #[tokio::test]
    async fn send_posts_to_the_number_with_the_token_and_returns_the_wamid() {
        let ok = include_str!("../../../tests/fixtures/whatsapp/wa_send_response.json");
        let (base, server) = serve_once(http("200 OK", "", ok)).await;
        let client = GraphClient::new(http_client(), &format!("{base}/"), "EAAG-test-token");
        let wamid = client.send("100000000000001", &text()).await.unwrap();
        assert_eq!(wamid, "wamid.HBgMMzkzMzMwMDAwMDAxFQIAERgSOUT6");
        let request = server.await.unwrap();
        assert!(
            request.starts_with("POST /v23.0/100000000000001/messages HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(request
            .to_ascii_lowercase()
            .contains("authorization: bearer eaag-test-token\r\n"));
        assert!(request
            .to_ascii_lowercase()
            .contains("content-type: application/json\r\n"));
        let body: Value = serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body, text().to_json());
        assert!(!format!("{client:?}").contains("EAAG"));
    }

    #[tokio::test]
    async fn a_send_to_a_business_scoped_id_goes_as_recipient_and_its_answer_is_read() {
        // Meta's answer to a send addressed with `recipient`: `contacts[].user_id`, no wa_id.
        let ok = include_str!("../../../tests/fixtures/whatsapp/bsuid/send_response_bsuid.json");
        let (base, server) = serve_once(http("200 OK", "", ok)).await;
        let client = GraphClient::new(http_client(), &format!("{base}/"), "EAAG-test-token");
        let to_bsuid = Outbound::Text {
            to: "US.13491208655302741918".into(),
            body: "Sì".into(),
        };
        let wamid = client.send("100000000000001", &to_bsuid).await.unwrap();
        assert_eq!(wamid, "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA");
        let request = server.await.unwrap();
        let body: Value = serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["recipient"], "US.13491208655302741918");
        assert!(body.get("to").is_none());
    }

    #[tokio::test]
    async fn throttle_is_retryable_with_retry_after() {
        let err = include_str!("../../../tests/fixtures/whatsapp/wa_error_response_130429.json");
        let (base, server) = serve_once(http("429 Too Many Requests", "Retry-After: 12\r\n", err)).await;
        let client = GraphClient::new(http_client(), &base, "t");
        let e = client.send("100000000000001", &text()).await.unwrap_err();
        assert_eq!(
            e,
            SendError::Retryable {
                code: 130429,
                title: "Cloud API throughput reached".into(),
                retry_after: Some(12)
            }
        );
        server.await.unwrap();
    }

    #[tokio::test]
    async fn closed_window_is_permanent() {
        let body = r#"{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"fbtrace_id":"A"}}"#;
        let (base, server) = serve_once(http("400 Bad Request", "", body)).await;
        let client = GraphClient::new(http_client(), &base, "t");
        let e = client.send("1", &text()).await.unwrap_err();
        assert!(matches!(e, SendError::Permanent { code: 131047, .. }));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn mark_read_and_odd_success_bodies() {
        let (base, server) = serve_once(http("200 OK", "", r#"{"success":true}"#)).await;
        let client = GraphClient::new(http_client(), &base, "t");
        client.mark_read("100000000000001", "wamid.IN").await.unwrap();
        let request = server.await.unwrap();
        let body: Value = serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body, mark_read_json("wamid.IN"));

        let (base, server) = serve_once(http("200 OK", "", r#"{"messages":[]}"#)).await;
        let client = GraphClient::new(http_client(), &base, "t");
        assert!(matches!(client.send("1", &text()).await, Err(SendError::InDoubt(_))));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_request_read_and_never_answered_is_in_doubt() {
        // The server reads the whole request, then closes without an answer: the message
        // may have been sent, unlike a refused connection (below).
        let (base, server) = serve_once(String::new()).await;
        let client = GraphClient::new(http_client(), &base, "secret-token");
        let e = client.send("1", &text()).await.unwrap_err();
        assert!(
            matches!(&e, SendError::InDoubt(m) if !m.contains("secret-token") && !m.contains("127.0.0.1")),
            "{e:?}"
        );
        assert!(
            server.await.unwrap().contains("393330000001"),
            "the whole request was read"
        );
    }

    #[tokio::test]
    async fn unreachable_server_is_a_transport_error() {
        // Bind then drop to get a port nobody listens on.
        let port = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = GraphClient::new(http_client(), &format!("http://127.0.0.1:{port}/v23.0"), "secret-token");
        let e = client.send("1", &text()).await.unwrap_err();
        assert!(
            matches!(&e, SendError::Transport(m) if !m.contains("secret-token") && !m.contains("127.0.0.1")),
            "{e:?}"
        );
        assert!(e.is_retryable());
    }
}
