//! The operations an operator asks for (send, list, status, resend to failed), one entry
//! point shared by the command line (directly on the store, or through a running server's
//! admin endpoint) and the console. Answers are JSON with counts and ids only.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::plan::{self, Request};
use super::{figures, BroadcastError, Media};
use crate::config::Config;
use crate::dialogue::runner::Engine;

/// One operation.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Call {
    Send {
        comune: String,
        category: Option<String>,
        texts: std::collections::BTreeMap<String, String>,
        media: Option<Media>,
        send_at: Option<Timestamp>,
    },
    List {
        comune: Option<String>,
    },
    Status {
        id: u64,
    },
    ResendFailed {
        id: u64,
    },
}

/// Runs `call` (blocking store calls) as `actor`.
pub fn execute(
    engine: &Engine,
    config: &Config,
    call: Call,
    actor: &str,
    now: Timestamp,
) -> Result<Value, BroadcastError> {
    let store = engine.store.as_ref();
    match call {
        Call::Send {
            comune,
            category,
            texts,
            media,
            send_at,
        } => {
            let req = Request {
                comune,
                category,
                texts,
                media,
                send_at,
                created_by: actor.to_string(),
            };
            let (id, b, audience) = plan::create(&engine.flows, &engine.locales, config, store, &req, now)?;
            Ok(json!({ "id": id, "send_at": b.send_at, "audience": audience }))
        }
        Call::List { comune } => {
            let mut out = Vec::new();
            for (id, b) in store.broadcasts(comune.as_deref())? {
                let f = figures(store, id, &b.comune)?;
                out.push(summary(id, &b, &f));
            }
            Ok(Value::Array(out))
        }
        Call::Status { id } => {
            let b = store.broadcast(id)?.ok_or(BroadcastError::UnknownBroadcast(id))?;
            let f = figures(store, id, &b.comune)?;
            Ok(summary(id, &b, &f))
        }
        Call::ResendFailed { id } => {
            let n = plan::resend_failed(store, id, actor, now)?;
            Ok(json!({ "id": id, "queued": n }))
        }
    }
}

/// A broadcast's line in `list` and `status`.
pub fn summary(id: u64, b: &super::Broadcast, f: &super::Figures) -> Value {
    json!({
        "id": id,
        "comune": b.comune,
        "category": b.category,
        "urgent": b.urgent,
        "state": b.state.as_str(),
        "languages": b.texts.keys().collect::<Vec<_>>(),
        "media": b.media.as_ref().map(|m| m.kind.clone()),
        "send_at": b.send_at,
        "started_at": b.started_at,
        "finished_at": b.finished_at,
        "figures": f,
    })
}
