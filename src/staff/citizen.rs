//! One citizen for the operator commands (`sportello citizen show|export|erase`): run on the
//! store by the CLI, or, while `serve` holds the data directory, by its admin endpoint in
//! the citizen's lane. One function, so the answer and the exit code are the same either
//! way.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::privacy;
use crate::service::runner::Engine;
use crate::storage::keys::normalize_number;
use crate::storage::{CitizenKey, Store, StoreError};

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
    /// The key as typed: a number normalized, a WhatsApp business-scoped id (BSUID) as is.
    pub fn key(&self) -> CitizenKey {
        CitizenKey::new(&self.comune, &self.channel, &normalize_number(&self.from))
    }

    /// The record the operator means (see [`find`]).
    pub fn resolve(&self, store: &dyn Store) -> Result<CitizenKey, StoreError> {
        Ok(find(store, &self.key())?.unwrap_or_else(|| self.key()))
    }
}

/// The record named by `key` as an operator typed it: the record under it, else the record
/// it is an alias of (a BSUID of a citizen keyed by number), else, on WhatsApp, the record
/// that holds it as its other identity (the number of a citizen keyed by BSUID).
pub fn find(store: &dyn Store, key: &CitizenKey) -> Result<Option<CitizenKey>, StoreError> {
    find_from(store, key, false)
}

/// [`find`] for an id typed without a channel (the console's search): as a WhatsApp number
/// or BSUID first, else any channel's record under that id (a Telegram chat id).
pub fn find_any_channel(store: &dyn Store, comune: &str, id: &str) -> Result<Option<CitizenKey>, StoreError> {
    find_from(store, &CitizenKey::new(comune, "whatsapp", id), true)
}

fn find_from(store: &dyn Store, key: &CitizenKey, any_channel: bool) -> Result<Option<CitizenKey>, StoreError> {
    if store.citizen(key)?.is_some() {
        return Ok(Some(key.clone()));
    }
    if let Some(target) = store.alias(key)? {
        return Ok(Some(target));
    }
    if key.channel != "whatsapp" && !any_channel {
        return Ok(None);
    }
    // One scan of the comune (operators' look-ups, not a hot path): a WhatsApp record that
    // holds the id as its other identity comes before another channel's record under it.
    let (mut other_identity, mut other_channel) = (None, None);
    crate::storage::each_citizen(store, &key.comune, |k, c| {
        let holds = k.channel == key.channel
            && (c.whatsapp.phone.as_deref() == Some(&key.citizen) || c.whatsapp.bsuid.as_deref() == Some(&key.citizen));
        if holds {
            other_identity = Some(k.clone());
            return Ok(false);
        }
        if any_channel && other_channel.is_none() && k.citizen == key.citizen {
            other_channel = Some(k.clone());
        }
        Ok(true)
    })?;
    Ok(other_identity.or(other_channel))
}

/// Runs `request` on the engine's store. An erasure of someone of whom nothing is held
/// erases and audits nothing.
pub fn run(engine: &Engine, request: &Request, now: jiff::Timestamp) -> Result<Answer, StoreError> {
    if engine.flows.get(&request.comune).is_none() {
        return Ok(Answer::UnknownComune);
    }
    let key = request.resolve(engine.store.as_ref())?;
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
                "whatsapp": c.whatsapp,
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
