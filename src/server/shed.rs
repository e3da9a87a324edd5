//! Load shedding for webhooks: past [`MAX_WEBHOOKS_IN_FLIGHT`] webhook requests being
//! handled at once, the next is answered 503 with `Retry-After` at once, before its body is
//! read. Nothing of it is kept, and the provider redelivers it (Meta retries a failed
//! delivery for up to 7 days, Telegram keeps the update).
//!
//! Without it an overload piled up waiting requests, each with its body and connection,
//! until the process ran out of memory or the requests out of time (BENCHMARKS.md, "A
//! bounded backlog, and load shedding"). It owns only the count; the backlog
//! (`pipeline::MAX_BACKLOG`) and the per-citizen limit (`limits`) are elsewhere.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Server;

/// Webhook requests handled at once, at most: well above what 2,000 messages a second keep
/// in flight (about 50 at this machine's latencies), so that only an overload is shed.
pub const MAX_WEBHOOKS_IN_FLIGHT: usize = 1_024;

/// The webhook slots: `slots`, between one and [`MAX_WEBHOOKS_IN_FLIGHT`].
pub fn slots(slots: usize) -> std::sync::Arc<tokio::sync::Semaphore> {
    std::sync::Arc::new(tokio::sync::Semaphore::new(slots.clamp(1, MAX_WEBHOOKS_IN_FLIGHT)))
}

/// Runs the webhook handler with a slot, or answers 503 when none is free.
pub async fn shed(State(s): State<Server>, request: Request, next: Next) -> Response {
    let Ok(_slot) = s.webhook_slots.try_acquire() else {
        s.metrics.shed.inc();
        return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")]).into_response();
    };
    next.run(request).await
}

/// Counts a webhook refused with 413 (its body over [`super::MAX_WEBHOOK_BYTES`]) and logs
/// it at most once a minute, with no personal data: a provider sending more than its
/// documented maximum is worth an operator's look.
pub async fn count_too_large(State(s): State<Server>, response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        s.metrics.too_large.inc();
        static LOGGED: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(i64::MIN);
        let now = jiff::Timestamp::now().as_second();
        let last = LOGGED.load(std::sync::atomic::Ordering::Relaxed);
        if now.saturating_sub(last) >= 60
            && LOGGED
                .compare_exchange(
                    last,
                    now,
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                )
                .is_ok()
        {
            tracing::warn!(
                total = s.metrics.too_large.get(),
                limit_bytes = super::MAX_WEBHOOK_BYTES,
                "webhook bodies refused as too large"
            );
        }
    }
    response
}
