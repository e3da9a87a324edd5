//! One citizen for the operator commands (`sportello citizen show|export|erase`): run on the
//! store by the CLI, or, while `serve` holds the data directory, by its admin endpoint in
//! the citizen's lane. One function, so the answer and the exit code are the same either
//! way.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::privacy;
use crate::service::runner::Engine;
use crate::storage::keys::normalize_number;
use crate::storage::{CitizenKey, StoreError};

/// What to do with whom.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub op: Op,
    pub comune: String,
    pub channel: String,
    /// The number (or channel id) as the operator typed it.
    pub from: String,
    /// Erase only: who erases and why (recorded in the audit log).
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// The stored record.
    Show,
    /// Everything held (right of access).
    Export,
    /// Erasure on request (audited).
    Erase,
}

/// The answer, or why there is none.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", tag = "answer", content = "value")]
pub enum Answer {
    Done(Value),
    UnknownComune,
    /// Nothing is held about them (never stored, or erased already).
    UnknownCitizen,
}

impl Request {
    pub fn key(&self) -> CitizenKey {
        CitizenKey::new(&self.comune, &self.channel, &normalize_number(&self.from))
    }
}

/// Runs `request` on the engine's store. An erasure of someone of whom nothing is held
/// erases and audits nothing.
pub fn run(engine: &Engine, request: &Request, now: jiff::Timestamp) -> Result<Answer, StoreError> {
    if engine.flows.get(&request.comune).is_none() {
        return Ok(Answer::UnknownComune);
    }
    let key = request.key();
    Ok(match request.op {
        Op::Show => match engine.store.citizen(&key)? {
            None => Answer::UnknownCitizen,
            Some(c) => Answer::Done(json!({
                "comune": key.comune,
                "channel": key.channel,
                "citizen": key.citizen,
                "status": c.status(),
                "language": c.language,
                "fields": c.fields,
                "categories": c.categories,
                "consents": c.consents,
                "first_seen": c.first_seen,
                "subscribed_at": c.subscribed_at,
                "unsubscribed_at": c.unsubscribed_at,
                "state": c.state,
            })),
        },
        Op::Export | Op::Erase => {
            let held = privacy::export(engine, &key)?;
            let nothing = held.record.is_none()
                && held.ledger.is_empty()
                && held.moderation_cases.is_empty()
                && held.conversation.is_none();
            match (nothing, request.op) {
                (true, _) => Answer::UnknownCitizen,
                (false, Op::Export) => {
                    Answer::Done(serde_json::to_value(&held).map_err(|e| StoreError::Task(e.to_string()))?)
                }
                (false, _) => {
                    let done = privacy::erase(engine, &key, &request.by, &request.reason, now)?;
                    Answer::Done(serde_json::to_value(done).map_err(|e| StoreError::Task(e.to_string()))?)
                }
            }
        }
    })
}
