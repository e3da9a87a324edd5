//! `/healthz` and `/metrics` (Prometheus text format). Counters only count: no label ever
//! carries a number, a name or a message.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use super::Server;
use crate::channel::{DeliveryStatus, ProviderError};
pub use crate::delivery::Counter;

/// The server's counters (what left and what failed are the outlet's,
/// `crate::delivery::Counters`).
#[derive(Default)]
pub struct Metrics {
    pub inbound: Counter,
    pub duplicates: Counter,
    pub unrouted: Counter,
    pub refused: Counter,
    pub malformed: Counter,
    pub steps: Counter,
    pub errors: Counter,
    /// Several active processes: messages and replies taken over from a process that
    /// stopped (`shared`).
    pub adopted: Counter,
    /// Webhooks answered 503 because [`super::MAX_WEBHOOKS_IN_FLIGHT`] were being handled.
    pub shed: Counter,
    /// Webhook bodies refused with 413 (over `MAX_WEBHOOK_BYTES`).
    pub too_large: Counter,
    /// Read receipts not sent because [`super::sender::MAX_READ_RECEIPTS_IN_FLIGHT`] were.
    pub read_receipts_skipped: Counter,
    pub status_sent: Counter,
    pub status_delivered: Counter,
    pub status_read: Counter,
    pub status_failed: Counter,
}

impl Metrics {
    /// Counts a delivery status from a provider's webhook.
    pub fn status(&self, status: DeliveryStatus, errors: &[ProviderError]) {
        match status {
            DeliveryStatus::Sent => self.status_sent.inc(),
            DeliveryStatus::Delivered => self.status_delivered.inc(),
            DeliveryStatus::Read | DeliveryStatus::Played => self.status_read.inc(),
            DeliveryStatus::Failed => {
                self.status_failed.inc();
                for e in errors {
                    tracing::info!(code = e.code, title = %e.title, "delivery failed");
                }
            }
        }
    }
}

pub async fn healthz(State(s): State<Server>) -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok", "comuni": s.engine.flows.len() }))
}

pub async fn prometheus(State(s): State<Server>) -> impl IntoResponse {
    let m = &s.metrics;
    let outlet = &s.outlet.counters;
    let rows: [(&str, &str, u64); 25] = [
        (
            "sportello_inbound_messages_total",
            "messages journalled",
            m.inbound.get(),
        ),
        (
            "sportello_inbound_duplicates_total",
            "redeliveries dropped",
            m.duplicates.get(),
        ),
        (
            "sportello_inbound_unrouted_total",
            "messages for a number no comune has",
            m.unrouted.get(),
        ),
        (
            "sportello_webhooks_refused_total",
            "webhooks refused for signature or secret",
            m.refused.get(),
        ),
        (
            "sportello_webhooks_malformed_total",
            "webhooks refused as malformed",
            m.malformed.get(),
        ),
        (
            "sportello_inbound_rate_limited_total",
            "messages acknowledged and dropped by the per-citizen limit",
            s.limits.dropped.load(Ordering::Relaxed),
        ),
        ("sportello_steps_total", "dialogue steps run", m.steps.get()),
        ("sportello_errors_total", "steps or commits that failed", m.errors.get()),
        (
            "sportello_replies_sent_total",
            "replies accepted by a provider",
            outlet.sent.get(),
        ),
        (
            "sportello_reply_retries_total",
            "send attempts retried",
            outlet.retries.get(),
        ),
        (
            "sportello_replies_failed_total",
            "replies refused for good",
            outlet.failed.get(),
        ),
        (
            "sportello_replies_interrupted_total",
            "replies in doubt (in flight at a stop, or without a usable answer), not sent again: they may not have arrived",
            outlet.interrupted.get(),
        ),
        (
            "sportello_work_adopted_total",
            "waiting messages and replies taken over from a stopped process (all-active)",
            m.adopted.get(),
        ),
        (
            "sportello_webhooks_shed_total",
            "webhooks answered 503 because too many were being handled (the provider redelivers them)",
            m.shed.get(),
        ),
        (
            "sportello_webhooks_too_large_total",
            "webhooks refused with 413, their body over the 3 MiB limit",
            m.too_large.get(),
        ),
        (
            "sportello_connections_refused_total",
            "connections closed before a byte was read: past max_connections_per_address, or past max_connections with every connection busy",
            super::listen::REFUSED.load(Ordering::Relaxed),
        ),
        (
            "sportello_connections_timed_out_total",
            "connections closed because a request head did not arrive within header_timeout_seconds (or idle that long)",
            super::listen::TIMED_OUT.load(Ordering::Relaxed),
        ),
        (
            "sportello_connections_evicted_total",
            "connections closed to make room at max_connections: the one waiting longest for a request head",
            super::listen::EVICTED.load(Ordering::Relaxed),
        ),
        (
            "sportello_public_limited_total",
            "requests to the public pages and the login answered 429, past their per-address pace ([server.pace])",
            super::pace::LIMITED.load(Ordering::Relaxed),
        ),
        (
            "sportello_logins_shed_total",
            "logins and password changes answered 503 because too many were waiting to be checked",
            crate::staff::accounts::SHED.load(Ordering::Relaxed) as u64,
        ),
        (
            "sportello_read_receipts_skipped_total",
            "read receipts not sent because too many were in flight",
            m.read_receipts_skipped.get(),
        ),
        (
            "sportello_status_sent_total",
            "sent statuses received",
            m.status_sent.get(),
        ),
        (
            "sportello_status_delivered_total",
            "delivered statuses received",
            m.status_delivered.get(),
        ),
        (
            "sportello_status_read_total",
            "read statuses received",
            m.status_read.get(),
        ),
        (
            "sportello_status_failed_total",
            "failed statuses received",
            m.status_failed.get(),
        ),
    ];
    let mut out = String::new();
    for (name, help, value) in rows {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
        ));
    }
    out.push_str(&format!(
        "# HELP sportello_citizens_busy citizens with work in progress\n# TYPE sportello_citizens_busy gauge\nsportello_citizens_busy {}\n",
        s.inbound.active()
    ));
    out.push_str(&format!(
        "# HELP sportello_backlog webhook messages acknowledged and not yet stepped (at most {max})\n# TYPE sportello_backlog gauge\nsportello_backlog {}\n",
        s.backlog_len(),
        max = s.options.backlog,
    ));
    out.push_str(&format!(
        "# HELP sportello_connections_open connections open now\n# TYPE sportello_connections_open gauge\nsportello_connections_open {}\n",
        super::listen::OPEN.load(Ordering::Relaxed),
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
