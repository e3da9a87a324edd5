//! The desk's inbox: conversations handed to people, and what staff do with them (claim,
//! reply, note, release to the bot, close), each written to the audit log.
//!
//! A conversation opens when a citizen's question cannot be answered by the bot or when they
//! ask for a person; it carries its deadline in working days. While an operator holds it,
//! the citizen's record says so (`held_by`) and the bot stays silent but for unsubscribe and
//! moderation; a hold left untouched for too long returns to the queue.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::channel::Channel;
use crate::i18n::Rendered;
use crate::service::bell::Ring;
use crate::service::runner::Engine;
use crate::storage::{
    AuditEntry, Author, CitizenKey, Conversation, ConversationStatus, Happened, Line, OutboundEntry, StepEffects,
    Store, StoreError, Wrote,
};

/// Who releases a conversation left idle (`release_if_idle`), in the audit log.
pub const SYSTEM: &str = "system";

/// Errors of the inbox boundary.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("no conversation with this citizen")]
    NoConversation,
    #[error("the conversation is held by {0}")]
    HeldByOther(String),
    #[error("the conversation is closed")]
    Closed,
    #[error("a reply cannot be empty")]
    EmptyReply,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Appends what a citizen wrote to their conversation, opening (or reopening) it with its
/// deadline. The engine writes the same inside a step's commit (`StepEffects::wrote`); this
/// is for writers outside a step.
pub fn citizen_wrote(
    store: &dyn Store,
    key: &CitizenKey,
    route: &str,
    text: &str,
    deadline: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let wrote = Wrote {
        route: route.to_string(),
        text: text.to_string(),
        deadline,
        at: now,
        replies: Vec::new(),
        handoff: false,
    };
    store.put_conversation(&Conversation::after_citizen_wrote(
        store.conversation(key)?,
        key,
        &wrote,
    ))
}

/// One row of the inbox.
#[derive(Debug, Serialize)]
pub struct Item {
    pub key: CitizenKey,
    /// The registered name, when there is one.
    pub name: Option<String>,
    /// The number with all but its last three digits hidden.
    pub masked: String,
    #[serde(flatten)]
    pub status: ConversationStatus,
    pub waiting_since: Timestamp,
    pub deadline: Option<Timestamp>,
    pub overdue: bool,
    pub last_line: Option<String>,
}

/// What the citizen last asked: their last message that is more than a request for a
/// person ("OPERATORE", "vorrei parlare con qualcuno") or a greeting; else their last
/// message. Never a staff reply or note.
fn last_question(engine: &Engine, conv: &Conversation) -> Option<String> {
    let flow = engine.flows.get(&conv.key.comune);
    let citizen: Vec<&str> = conv
        .lines
        .iter()
        .filter(|l| l.author == Author::Citizen)
        .map(|l| l.text.as_str())
        .collect();
    let only_asks_for_someone = |text: &str| {
        flow.is_some_and(|f| {
            let u = f.understand(text);
            u.social.is_some()
                || u.sense
                    .is_some_and(|s| s.intent == crate::text::Intent::Operator && text.split_whitespace().count() <= 6)
        })
    };
    citizen
        .iter()
        .rev()
        .find(|t| !only_asks_for_someone(t))
        .or(citizen.last())
        .map(|t| t.to_string())
}

pub use crate::storage::keys::mask;

/// One inbox row for a conversation.
fn item(engine: &Engine, conv: Conversation, now: Timestamp) -> Result<Item, StoreError> {
    let fields = engine.store.citizen(&conv.key)?.map(|c| c.fields).unwrap_or_default();
    let name = fields.get("full_name").cloned().or_else(|| {
        let parts: Vec<&str> = ["first_name", "last_name"]
            .iter()
            .filter_map(|k| fields.get(*k).map(String::as_str))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    Ok(Item {
        masked: mask(&conv.key.citizen),
        name,
        overdue: conv.deadline.is_some_and(|d| d < now) && !matches!(conv.status, ConversationStatus::Closed { .. }),
        waiting_since: conv.opened_at,
        deadline: conv.deadline,
        last_line: last_question(engine, &conv),
        status: conv.status,
        key: conv.key,
    })
}

/// Open conversations of a comune, overdue first, then by deadline, then oldest first.
pub fn inbox(engine: &Engine, comune: &str, now: Timestamp) -> Result<Vec<Item>, StoreError> {
    let mut items: Vec<Item> = Vec::new();
    for conv in engine.store.conversations(comune)? {
        if matches!(conv.status, ConversationStatus::Closed { .. }) {
            continue;
        }
        items.push(item(engine, conv, now)?);
    }
    items.sort_by_key(|i| (!i.overdue, i.deadline.unwrap_or(Timestamp::MAX), i.waiting_since));
    Ok(items)
}

/// Closed conversations of a comune, most recently closed first.
pub fn closed(engine: &Engine, comune: &str, now: Timestamp) -> Result<Vec<Item>, StoreError> {
    let mut items: Vec<Item> = Vec::new();
    for conv in engine.store.conversations(comune)? {
        if matches!(conv.status, ConversationStatus::Closed { .. }) {
            items.push(item(engine, conv, now)?);
        }
    }
    items.sort_by_key(|i| match i.status {
        ConversationStatus::Closed { at, .. } => std::cmp::Reverse(at),
        _ => std::cmp::Reverse(Timestamp::MIN),
    });
    Ok(items)
}

fn open(engine: &Engine, key: &CitizenKey) -> Result<Conversation, InboxError> {
    match engine.store.conversation(key)? {
        Some(c) if matches!(c.status, ConversationStatus::Closed { .. }) => Err(InboxError::Closed),
        Some(c) => Ok(c),
        None => Err(InboxError::NoConversation),
    }
}

fn audit(engine: &Engine, by: &str, key: &CitizenKey, action: &str, now: Timestamp) -> Result<(), StoreError> {
    // The audit names the conversation by its masked number only.
    let detail = format!("conversation {} on {}", mask(&key.citizen), key.channel);
    engine.store.append_audit(&AuditEntry {
        at: now,
        actor: by.to_string(),
        comune: key.comune.clone(),
        action: action.to_string(),
        detail,
    })?;
    Ok(())
}

/// Sets the citizen's hold marker (the record may be gone: an erased or anonymized leaver).
fn set_hold(engine: &Engine, key: &CitizenKey, by: Option<&str>) -> Result<(), StoreError> {
    if let Some(mut c) = engine.store.citizen(key)? {
        c.held_by = by.map(String::from);
        engine.store.put_citizen(key, &c)?;
    }
    Ok(())
}

/// An operator takes the conversation: others see who holds it; the bot goes silent.
pub fn claim(engine: &Engine, key: &CitizenKey, by: &str, now: Timestamp) -> Result<Conversation, InboxError> {
    let mut conv = open(engine, key)?;
    if let ConversationStatus::Held { by: holder, .. } = &conv.status {
        if holder != by {
            return Err(InboxError::HeldByOther(holder.clone()));
        }
    }
    if !matches!(&conv.status, ConversationStatus::Held { by: holder, .. } if holder == by) {
        conv.lines
            .push(Line::event(now, Happened::Claimed { by: by.to_string() }));
    }
    conv.status = ConversationStatus::Held {
        by: by.to_string(),
        since: now,
    };
    conv.last_activity = now;
    engine.store.put_conversation(&conv)?;
    set_hold(engine, key, Some(by))?;
    audit(engine, by, key, "claim", now)?;
    engine.store.flush()?;
    engine.bell.ring(Ring::Desk(key.clone()));
    Ok(conv)
}

/// A reply from the operator holding the conversation (claimed on the way if waiting, and
/// only then audited as a claim): it is queued in the outbox; the returned ids go to the
/// sender.
pub fn reply(engine: &Engine, key: &CitizenKey, by: &str, text: &str, now: Timestamp) -> Result<Vec<u64>, InboxError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(InboxError::EmptyReply);
    }
    let mut conv = match open(engine, key)? {
        c if matches!(&c.status, ConversationStatus::Held { by: holder, .. } if holder == by) => c,
        _ => claim(engine, key, by, now)?,
    };
    conv.last_activity = now;
    let channel = match key.channel.as_str() {
        "telegram" => Channel::Telegram,
        "web" => Channel::Web,
        _ => Channel::Whatsapp,
    };
    let citizen = engine.store.citizen(key)?;
    let language = citizen
        .as_ref()
        .and_then(|c| c.language.clone())
        .unwrap_or_else(|| "it".into());
    let entry = OutboundEntry {
        key: key.clone(),
        channel,
        route: conv.route.clone(),
        to: crate::service::identity::reply_to(key, citizen.as_ref()),
        // The operator's own words: not a Fluent message.
        rendered: Rendered {
            key: "staff-reply".into(),
            text: text.to_string(),
            buttons: Vec::new(),
        },
        language,
        created_at: now,
        callback_id: None,
        in_flight: false,
        owner: None,
    };
    let ids = engine
        .store
        .commit_step(None, key, citizen.as_ref(), &[entry], &StepEffects::default())?;
    // The line knows its outbox entry, to show its ticks (`Line::sent` once accepted).
    conv.lines.push(Line {
        outbound: ids.first().copied(),
        ..Line::new(now, Author::Staff(by.to_string()), text)
    });
    engine.store.put_conversation(&conv)?;
    audit(engine, by, key, "reply", now)?;
    engine.store.flush()?;
    engine.bell.ring(Ring::Desk(key.clone()));
    Ok(ids)
}

/// An internal note: kept with the conversation, never sent.
pub fn note(engine: &Engine, key: &CitizenKey, by: &str, text: &str, now: Timestamp) -> Result<(), InboxError> {
    let mut conv = open(engine, key)?;
    conv.lines
        .push(Line::new(now, Author::Note(by.to_string()), text.trim()));
    engine.store.put_conversation(&conv)?;
    audit(engine, by, key, "note", now)?;
    engine.store.flush()?;
    engine.bell.ring(Ring::Desk(key.clone()));
    Ok(())
}

/// Back to the queue and to the bot.
pub fn release(engine: &Engine, key: &CitizenKey, by: &str, now: Timestamp) -> Result<(), InboxError> {
    let mut conv = open(engine, key)?;
    conv.status = ConversationStatus::Waiting;
    conv.lines.push(Line::event(
        now,
        match by {
            SYSTEM => Happened::ReleasedIdle,
            _ => Happened::Released { by: by.to_string() },
        },
    ));
    engine.store.put_conversation(&conv)?;
    set_hold(engine, key, None)?;
    audit(engine, by, key, "release", now)?;
    engine.store.flush()?;
    engine.bell.ring(Ring::Desk(key.clone()));
    Ok(())
}

/// Done: the conversation leaves the inbox; the bot answers the citizen again.
pub fn close(engine: &Engine, key: &CitizenKey, by: &str, now: Timestamp) -> Result<(), InboxError> {
    let mut conv = open(engine, key)?;
    conv.status = ConversationStatus::Closed {
        by: by.to_string(),
        at: now,
    };
    conv.lines
        .push(Line::event(now, Happened::Closed { by: by.to_string() }));
    engine.store.put_conversation(&conv)?;
    set_hold(engine, key, None)?;
    audit(engine, by, key, "close", now)?;
    engine.store.flush()?;
    engine.bell.ring(Ring::Desk(key.clone()));
    Ok(())
}

/// Returns to the queue every conversation held without activity for `idle`.
pub fn release_idle(engine: &Engine, idle: SignedDuration, now: Timestamp) -> Result<usize, InboxError> {
    let mut released = 0;
    for key in idle_holds(engine, idle, now)? {
        if release_if_idle(engine, &key, idle, now)? {
            released += 1;
        }
    }
    Ok(released)
}

/// The citizens whose conversation has been held without activity for `idle`.
pub fn idle_holds(engine: &Engine, idle: SignedDuration, now: Timestamp) -> Result<Vec<CitizenKey>, StoreError> {
    let mut keys = Vec::new();
    for flow in engine.flows.iter() {
        for conv in engine.store.conversations(&flow.id)? {
            if matches!(conv.status, ConversationStatus::Held { .. }) && conv.last_activity + idle < now {
                keys.push(conv.key);
            }
        }
    }
    Ok(keys)
}

/// Releases one conversation if it is still held and idle (checked again: the server calls
/// this in the citizen's lane, after [`idle_holds`] listed it, and the operator may have
/// acted in between). Returns whether it was released.
pub fn release_if_idle(
    engine: &Engine,
    key: &CitizenKey,
    idle: SignedDuration,
    now: Timestamp,
) -> Result<bool, InboxError> {
    match engine.store.conversation(key)? {
        Some(conv) if matches!(conv.status, ConversationStatus::Held { .. }) && conv.last_activity + idle < now => {
            release(engine, key, SYSTEM, now)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_masked_to_their_last_three_digits() {
        assert_eq!(super::mask("393331234567"), "•••••••••567");
        assert_eq!(super::mask("42"), "42");
    }
}
