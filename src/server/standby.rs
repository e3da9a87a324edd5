//! Standing by: the listener answers before the server is active, and answers 503.
//!
//! With PostgreSQL one `sportello serve` is active and others wait for its serve lock
//! (`storage::postgres::lock`). A standby listens already, so a load balancer sees it and a
//! failover needs no new socket, but it answers every request with 503: `/healthz` says
//! standby (the balancer sends traffic to the active one) and a webhook is refused (Meta and
//! Telegram deliver it again later). A standby must never journal, process or send: the
//! active router does not exist until the lock is taken, so nothing here can reach the store.
//!
//! The [`Gate`] is the one service on the listener: 503 until [`Gate::open`] gives it the
//! active router, then every request (on new and kept-alive connections) goes there.

use std::sync::{Arc, OnceLock};

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;

/// What a standby answers to everything but `/healthz`.
pub const STANDBY_BODY: &str = "standby: another sportello is active on this database\n";

/// The service on the listener: the standby answer until the active router is set.
#[derive(Clone, Default)]
pub struct Gate {
    active: Arc<OnceLock<Router>>,
}

impl Gate {
    /// From now on every request goes to `router`. Set once; a second call is ignored.
    pub fn open(&self, router: Router) {
        let _ = self.active.set(router);
    }

    /// The router to serve: forwards to the active router, or answers as a standby.
    pub fn router(&self) -> Router {
        let gate = self.clone();
        Router::new().fallback(move |request: Request| {
            let gate = gate.clone();
            async move {
                match gate.active.get() {
                    // The connection's extensions (its peer address) travel with the request.
                    Some(router) => match router.clone().oneshot(request).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    },
                    None => standby(&request),
                }
            }
        })
    }
}

/// 503 for everything; `/healthz` names the state so an operator reading it knows why.
fn standby(request: &Request) -> Response {
    let body = if request.uri().path() == "/healthz" {
        "standby\n"
    } else {
        STANDBY_BODY
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, "5"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;

    async fn call(router: Router, path: &str) -> (StatusCode, String) {
        let response = router
            .oneshot(Request::builder().uri(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn answers_503_until_opened_then_forwards() {
        let gate = Gate::default();
        let (status, body) = call(gate.router(), "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, "standby\n");
        let (status, body) = call(gate.router(), "/webhook/whatsapp").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, STANDBY_BODY);
        gate.open(Router::new().route("/healthz", get(|| async { "ok" })));
        assert_eq!(call(gate.router(), "/healthz").await, (StatusCode::OK, "ok".into()));
    }
}
