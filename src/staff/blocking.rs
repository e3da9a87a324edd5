//! Staff blocking and unblocking a citizen, with a reason, each written to the audit log.
//!
//! A blocked citizen gets no broadcast (only `subscribed` records are recipients) and no
//! bot answer: the engine sends them one notice that they are blocked and how to
//! unsubscribe, then stays silent (`dialogue::step`); unsubscribing still works. No HTTP
//! here, and the audit never holds a full number.

use jiff::Timestamp;

use crate::dialogue::{Citizen, State};
use crate::flow::OnUnsubscribe;
use crate::service::runner::Engine;
use crate::staff::inbox::mask;
use crate::storage::{AuditEntry, CitizenKey, ConversationStatus, StoreError};

/// Errors of the blocking boundary.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("no such citizen")]
    NoCitizen,
    #[error("a reason is required")]
    NoReason,
    #[error("the citizen is already blocked")]
    AlreadyBlocked,
    #[error("the citizen is not blocked")]
    NotBlocked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Longest reason kept (a sentence, not a dossier).
pub const MAX_REASON: usize = 500;

/// The reason as written to the audit log: runs of six or more digits (a phone number, a
/// codice fiscale's digits) are masked but for their last three, so that a reason naming a
/// number does not put it in the log.
pub fn audit_reason(reason: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.chars().count() >= 6 {
            out.push_str(&mask(digits));
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in reason.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

fn clean(reason: &str) -> Result<String, BlockError> {
    let reason: String = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if reason.is_empty() {
        return Err(BlockError::NoReason);
    }
    Ok(reason.chars().take(MAX_REASON).collect())
}

fn audit(
    engine: &Engine,
    by: &str,
    key: &CitizenKey,
    action: &str,
    reason: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    engine.store.append_audit(&AuditEntry {
        at: now,
        actor: by.to_string(),
        comune: key.comune.clone(),
        action: action.to_string(),
        detail: format!(
            "citizen {} on {}: {}",
            mask(&key.citizen),
            key.channel,
            audit_reason(reason)
        ),
    })?;
    Ok(())
}

/// Blocks a citizen. An operator's hold ends (the conversation goes back to waiting, in
/// the inbox until someone closes it: the bot's silence for a blocked citizen is stronger
/// than a hold) and the blocked notice is armed, so the citizen is told once, the next
/// time they write.
pub fn block(engine: &Engine, key: &CitizenKey, by: &str, reason: &str, now: Timestamp) -> Result<Citizen, BlockError> {
    let reason = clean(reason)?;
    let mut c = engine.store.citizen(key)?.ok_or(BlockError::NoCitizen)?;
    if matches!(c.state, State::Blocked { .. }) {
        return Err(BlockError::AlreadyBlocked);
    }
    c.state = State::Blocked { reason: reason.clone() };
    c.blocked_notice_sent = false;
    c.held_by = None;
    engine.store.put_citizen(key, &c)?;
    if let Some(mut conv) = engine.store.conversation(key)? {
        if matches!(conv.status, ConversationStatus::Held { .. }) {
            conv.status = ConversationStatus::Waiting;
            engine.store.put_conversation(&conv)?;
        }
    }
    audit(engine, by, key, "block", &reason, now)?;
    engine.store.flush()?;
    Ok(c)
}

/// The state an unblocked citizen returns to. The block replaced whatever state they were
/// in, so it is rebuilt from what the record says:
/// - still subscribed (subscribed and not unsubscribed since): `Subscribed`, with their
///   categories, which the block left untouched;
/// - unsubscribed while blocked (or before) in a comune that retains leavers: `Unsubscribed`,
///   as if the block had never been;
/// - otherwise `New`: a registration that was in progress is not resumed (its draft is gone),
///   the citizen starts again by writing the keyword.
pub fn state_after_unblock(c: &Citizen, on_unsubscribe: Option<OnUnsubscribe>) -> State {
    let subscribed = c.subscribed_at.is_some() && c.unsubscribed_at.is_none();
    if subscribed {
        State::Subscribed
    } else if c.unsubscribed_at.is_some() && on_unsubscribe == Some(OnUnsubscribe::Retain) {
        State::Unsubscribed
    } else {
        State::New
    }
}

/// Lifts a block (a staff block or a moderation one): the state per
/// [`state_after_unblock`], the strikes reset, the notice re-armed for a later block.
pub fn unblock(
    engine: &Engine,
    key: &CitizenKey,
    by: &str,
    reason: &str,
    now: Timestamp,
) -> Result<Citizen, BlockError> {
    let reason = clean(reason)?;
    let mut c = engine.store.citizen(key)?.ok_or(BlockError::NoCitizen)?;
    if !matches!(c.state, State::Blocked { .. }) {
        return Err(BlockError::NotBlocked);
    }
    let policy = engine.flows.get(&key.comune).map(|f| f.privacy.on_unsubscribe);
    c.state = state_after_unblock(&c, policy);
    c.strikes = 0;
    c.blocked_notice_sent = false;
    engine.store.put_citizen(key, &c)?;
    audit(engine, by, key, "unblock", &reason, now)?;
    engine.store.flush()?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_lose_their_numbers_in_the_audit() {
        assert_eq!(
            audit_reason("insulti ripetuti, vedi 393331234567 e 12 volte"),
            "insulti ripetuti, vedi •••••••••567 e 12 volte"
        );
    }

    #[test]
    fn unblocking_restores_what_the_record_says() {
        let now = Timestamp::now();
        let mut c = Citizen::new(now);
        assert_eq!(state_after_unblock(&c, Some(OnUnsubscribe::Retain)), State::New);
        c.subscribed_at = Some(now);
        assert_eq!(state_after_unblock(&c, Some(OnUnsubscribe::Delete)), State::Subscribed);
        c.unsubscribed_at = Some(now);
        assert_eq!(
            state_after_unblock(&c, Some(OnUnsubscribe::Retain)),
            State::Unsubscribed
        );
        assert_eq!(state_after_unblock(&c, Some(OnUnsubscribe::Delete)), State::New);
    }
}
