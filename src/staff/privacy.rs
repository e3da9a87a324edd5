//! Privacy operations on behalf of the controller: what is held about a citizen (right of
//! access), erasure on request (audited), and retention (Madone keeps leavers a year, then
//! obscures them; processed message ids and delivery records are forgotten after a while).

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::dialogue::Citizen;
use crate::flow::OnUnsubscribe;
use crate::service::runner::Engine;
use crate::storage::{AuditEntry, CitizenKey, LedgerEntry, Scrubbed, StoreError};

/// Processed message ids are kept this long to drop redeliveries (Meta retries for 7 days).
pub const JOURNAL_DAYS: i64 = 8;
/// Delivery records of sent messages are kept this long.
pub const SENT_DAYS: i64 = 35;

/// Everything held about one citizen.
#[derive(Debug, Serialize)]
pub struct Export {
    pub comune: String,
    pub channel: String,
    pub citizen: String,
    pub record: Option<Citizen>,
    pub ledger: Vec<LedgerEntry>,
    /// Moderation cases about their messages (text included: it is theirs).
    pub moderation_cases: Vec<serde_json::Value>,
    /// Their conversation with the desk (questions, staff replies; internal notes too: the
    /// right of access covers them).
    pub conversation: Option<crate::storage::Conversation>,
}

/// The right of access: the record, the citizen's ledger entries and moderation cases.
pub fn export(engine: &Engine, key: &CitizenKey) -> Result<Export, StoreError> {
    let ledger = engine
        .store
        .ledger(&key.comune)?
        .into_iter()
        .map(|(_, e)| e)
        .filter(|e| e.channel == key.channel && e.citizen.as_deref() == Some(&key.citizen))
        .collect();
    let moderation_cases = engine
        .store
        .cases(&key.comune)?
        .into_iter()
        .filter(|(_, c)| &c.key == key)
        .map(|(id, c)| serde_json::json!({"id": id, "rule": c.rule, "text": c.text, "at": c.at, "status": c.status}))
        .collect();
    Ok(Export {
        comune: key.comune.clone(),
        channel: key.channel.clone(),
        citizen: key.citizen.clone(),
        record: engine.store.citizen(key)?,
        ledger,
        moderation_cases,
        conversation: engine.store.conversation(key)?,
    })
}

/// Erases a citizen on request (received by another channel): every trace but the
/// anonymized proof of consent and withdrawal; pending replies to them are dropped. The
/// audit entry names who did it and why, never whom.
pub fn erase(
    engine: &Engine,
    key: &CitizenKey,
    actor: &str,
    reason: &str,
    now: Timestamp,
) -> Result<Scrubbed, StoreError> {
    let scrubbed = engine.store.scrub_citizen(key, false)?;
    engine.store.append_audit(&AuditEntry {
        at: now,
        actor: actor.to_string(),
        comune: key.comune.clone(),
        action: "erase".into(),
        detail: format!(
            "citizen erased on request ({reason}); {} ledger entries anonymized",
            scrubbed.ledger
        ),
    })?;
    engine.store.flush()?;
    Ok(scrubbed)
}

/// What a retention run removes (or would remove).
#[derive(Debug, Default, Serialize, serde::Deserialize)]
pub struct Retention {
    /// Leavers whose retention period is over (their ids are shown only in dry runs).
    pub obscured: Vec<CitizenKey>,
    pub journal_pruned: usize,
    pub sent_pruned: usize,
}

/// Runs retention at `now`: leavers past their comune's retention are obscured (erased,
/// keeping the anonymized ledger), old processed ids and delivery records forgotten.
pub fn retention(engine: &Engine, now: Timestamp, dry_run: bool) -> Result<Retention, StoreError> {
    let mut report = Retention::default();
    for flow in engine.flows.iter() {
        let (OnUnsubscribe::Retain, Some(days)) = (flow.privacy.on_unsubscribe, flow.privacy.retain_days) else {
            continue;
        };
        let limit = now - SignedDuration::from_hours(24 * i64::from(days));
        crate::storage::each_citizen(engine.store.as_ref(), &flow.id, |key, c| {
            let expired = c.status() == "unsubscribed" && c.unsubscribed_at.is_some_and(|t| t < limit);
            if expired {
                report.obscured.push(key.clone());
            }
            Ok(true)
        })?;
    }
    if dry_run {
        return Ok(report);
    }
    for key in &report.obscured {
        engine.store.scrub_citizen(key, false)?;
        engine.store.append_audit(&AuditEntry {
            at: now,
            actor: "system".into(),
            comune: key.comune.clone(),
            action: "retention".into(),
            detail: "a leaver's data obscured at the end of the retention period".into(),
        })?;
    }
    report.journal_pruned = engine
        .store
        .prune_inbound(now - SignedDuration::from_hours(24 * JOURNAL_DAYS))?;
    report.sent_pruned = engine
        .store
        .prune_sent(now - SignedDuration::from_hours(24 * SENT_DAYS))?;
    engine.store.flush()?;
    Ok(report)
}
