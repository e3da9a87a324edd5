//! What the console's pages and its JSON API do on a comune's desk, shared by both: name a
//! conversation or a citizen by an opaque reference, check that the account may act on the
//! comune, run the staff functions (`staff::inbox`, `staff::blocking`) in the citizen's
//! lane, and hand an operator's reply to the sender.
//!
//! Owns references and the desk's error type. Must not render anything; the logic of each
//! action stays in `staff`. Never logs a number, a name or a message.

use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::accounts::hex;
use super::session::Staff;
use super::state::Console;
use super::{audit, ConsoleError};
use crate::dialogue::Citizen;
use crate::staff::blocking::{self, BlockError};
use crate::staff::inbox::{self, mask, InboxError, Item};
use crate::storage::{CitizenKey, Conversation, ConversationStatus, Role};

/// Errors of the desk's actions, for pages and API alike.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Console(#[from] ConsoleError),
    #[error(transparent)]
    Inbox(#[from] InboxError),
    #[error(transparent)]
    Block(#[from] BlockError),
    /// The citizen's lane dropped the action (the server is shutting down).
    #[error("the server is shutting down")]
    Unavailable,
}

impl From<crate::storage::StoreError> for DeskError {
    fn from(e: crate::storage::StoreError) -> DeskError {
        DeskError::Console(ConsoleError::Store(e))
    }
}

impl DeskError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            DeskError::Console(e) => e.status(),
            DeskError::Inbox(InboxError::NoConversation) | DeskError::Block(BlockError::NoCitizen) => {
                StatusCode::NOT_FOUND
            }
            DeskError::Inbox(InboxError::HeldByOther(_) | InboxError::Closed)
            | DeskError::Block(BlockError::AlreadyBlocked | BlockError::NotBlocked) => StatusCode::CONFLICT,
            DeskError::Inbox(InboxError::EmptyReply) | DeskError::Block(BlockError::NoReason) => {
                StatusCode::BAD_REQUEST
            }
            DeskError::Inbox(InboxError::Store(_)) | DeskError::Block(BlockError::Store(_)) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            DeskError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A stable code for the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            DeskError::Console(ConsoleError::Unauthenticated { .. }) => "unauthenticated",
            DeskError::Console(ConsoleError::Forbidden) => "forbidden",
            DeskError::Console(ConsoleError::NotFound) => "not-found",
            DeskError::Console(ConsoleError::Csrf) => "csrf",
            DeskError::Console(_) => "internal",
            DeskError::Inbox(InboxError::NoConversation) => "no-conversation",
            DeskError::Inbox(InboxError::HeldByOther(_)) => "held-by-other",
            DeskError::Inbox(InboxError::Closed) => "closed",
            DeskError::Inbox(InboxError::EmptyReply) => "empty-text",
            DeskError::Block(BlockError::NoCitizen) => "no-citizen",
            DeskError::Block(BlockError::NoReason) => "no-reason",
            DeskError::Block(BlockError::AlreadyBlocked) => "already-blocked",
            DeskError::Block(BlockError::NotBlocked) => "not-blocked",
            DeskError::Inbox(InboxError::Store(_)) | DeskError::Block(BlockError::Store(_)) => "internal",
            DeskError::Unavailable => "unavailable",
        }
    }

    /// The console text explaining it (`console.ftl`).
    pub fn message_id(&self) -> &'static str {
        match self {
            DeskError::Console(ConsoleError::Forbidden) => "console-error-forbidden",
            DeskError::Console(ConsoleError::NotFound)
            | DeskError::Inbox(InboxError::NoConversation)
            | DeskError::Block(BlockError::NoCitizen) => "console-error-not-found",
            DeskError::Console(ConsoleError::Csrf) => "console-error-csrf",
            DeskError::Inbox(InboxError::HeldByOther(_)) => "console-error-held",
            DeskError::Inbox(InboxError::Closed) => "console-error-closed",
            DeskError::Inbox(InboxError::EmptyReply) => "console-error-empty",
            DeskError::Block(BlockError::NoReason) => "console-error-no-reason",
            DeskError::Block(BlockError::AlreadyBlocked) => "console-error-already-blocked",
            DeskError::Block(BlockError::NotBlocked) => "console-error-not-blocked",
            _ => "console-error-internal",
        }
    }

    /// Logs server-side failures (they carry no personal data: see `StoreError`).
    pub fn log(&self) {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "desk action failed");
        }
    }
}

/// A citizen's reference in URLs and in the API: the first 12 bytes of a SHA-256 of their
/// key, hex. It keeps numbers out of addresses, browser history and proxies' logs. It is a
/// pseudonym, not a secret: whoever knows a number can compute it, and only an account of
/// the comune can open it.
pub fn reference(key: &CitizenKey) -> String {
    let mut h = Sha256::new();
    for part in ["sportello-ref", &key.comune, &key.channel, &key.citizen] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize()[..12])
}

/// How a conversation's citizen is named where no name is known: the masked number, or
/// for a simulator's trial (whose "number" is a long session id) its last four characters.
pub fn shown(key: &CitizenKey, trial: bool) -> String {
    if trial {
        let n = key.citizen.chars().count();
        let tail: String = key.citizen.chars().skip(n.saturating_sub(4)).collect();
        format!("#{tail}")
    } else {
        mask(&key.citizen)
    }
}

/// Whether `r` looks like a reference (so junk is refused before any scan).
fn well_formed(r: &str) -> bool {
    r.len() == 24 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The account may work on `comune`, which exists: else 403 (another comune's operator)
/// or 404.
pub fn allowed(s: &Console, staff: &Staff, comune: &str) -> Result<(), ConsoleError> {
    if !staff.account.may(comune) {
        return Err(ConsoleError::Forbidden);
    }
    if s.engine.flows.get(comune).is_none() {
        return Err(ConsoleError::NotFound);
    }
    Ok(())
}

/// The conversation of `comune` named by `r`.
pub fn conversation(s: &Console, comune: &str, r: &str) -> Result<Conversation, DeskError> {
    if !well_formed(r) {
        return Err(InboxError::NoConversation.into());
    }
    // A scan of one comune's conversations: the desk holds hundreds, not millions. Then
    // the simulator's trials.
    let found = |e: &crate::service::runner::Engine| -> Result<Option<Conversation>, DeskError> {
        Ok(e.store
            .conversations(comune)?
            .into_iter()
            .find(|c| reference(&c.key) == r))
    };
    match found(&s.engine)? {
        Some(c) => Ok(c),
        None => found(&s.trials.engine)?.ok_or(DeskError::Inbox(InboxError::NoConversation)),
    }
}

/// The citizen of `comune` named by `r`.
pub fn citizen(s: &Console, comune: &str, r: &str) -> Result<(CitizenKey, Citizen), DeskError> {
    if !well_formed(r) {
        return Err(BlockError::NoCitizen.into());
    }
    let mut found = None;
    crate::storage::each_citizen(s.engine.store.as_ref(), comune, |k, c| {
        if reference(k) == r {
            found = Some((k.clone(), c.clone()));
        }
        Ok(found.is_none())
    })?;
    found.ok_or(DeskError::Block(BlockError::NoCitizen))
}

/// The reference of the citizen of `comune` with this number (spaces, dashes, a leading
/// `+` or `00` ignored) on any channel, if there is one. The look-up is audited, with the
/// masked number only.
pub fn find(s: &Console, staff: &Staff, comune: &str, number: &str) -> Result<Option<String>, DeskError> {
    allowed(s, staff, comune)?;
    // As the CLI reads it: a number without its spaces, dashes, `+` or `00` (and with 39
    // before an Italian mobile's ten digits); a WhatsApp business-scoped id as typed.
    let digits = crate::storage::keys::normalize_number(number);
    let digits = digits.as_str();
    if digits.is_empty() {
        return Ok(None);
    }
    let store = s.engine.store.as_ref();
    let found = crate::staff::citizen::find_any_channel(store, comune, digits)?.map(|k| reference(&k));
    audit(
        s.engine.store.as_ref(),
        &staff.account.email,
        comune,
        "find-citizen",
        &format!(
            "number {} {}",
            mask(digits),
            if found.is_some() { "found" } else { "not found" }
        ),
    )?;
    Ok(found)
}

/// Which conversations an inbox shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    /// Waiting and held.
    #[default]
    Open,
    Waiting,
    Held,
    /// Held by the account looking.
    Mine,
    Overdue,
    Closed,
}

impl Filter {
    pub const ALL: [Filter; 6] = [
        Filter::Open,
        Filter::Waiting,
        Filter::Held,
        Filter::Mine,
        Filter::Overdue,
        Filter::Closed,
    ];

    /// The query value (`?state=`); unknown values mean [`Filter::Open`].
    pub fn parse(s: Option<&str>) -> Filter {
        Filter::ALL
            .into_iter()
            .find(|f| Some(f.as_str()) == s)
            .unwrap_or_default()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Filter::Open => "open",
            Filter::Waiting => "waiting",
            Filter::Held => "held",
            Filter::Mine => "mine",
            Filter::Overdue => "overdue",
            Filter::Closed => "closed",
        }
    }
}

/// One inbox row as pages and the API show it: no full number.
#[derive(Debug, Serialize)]
pub struct Row {
    #[serde(rename = "ref")]
    pub reference: String,
    pub channel: String,
    pub name: Option<String>,
    pub masked: String,
    #[serde(flatten)]
    pub status: ConversationStatus,
    pub waiting_since: Timestamp,
    pub deadline: Option<Timestamp>,
    pub overdue: bool,
    pub last_line: Option<String>,
    /// A simulator's trial, not a citizen (`service::trial`).
    pub trial: bool,
}

impl From<Item> for Row {
    fn from(i: Item) -> Row {
        Row {
            reference: reference(&i.key),
            channel: i.key.channel.clone(),
            name: i.name,
            masked: i.masked,
            status: i.status,
            waiting_since: i.waiting_since,
            deadline: i.deadline,
            overdue: i.overdue,
            last_line: i.last_line,
            trial: false,
        }
    }
}

/// The comune's inbox through `filter`, overdue first (closed ones: last closed first).
pub fn rows(s: &Console, staff: &Staff, comune: &str, filter: Filter, now: Timestamp) -> Result<Vec<Row>, DeskError> {
    allowed(s, staff, comune)?;
    let list = |e| match filter {
        Filter::Closed => inbox::closed(e, comune, now),
        _ => inbox::inbox(e, comune, now),
    };
    // The real conversations, then the simulator's trials (marked as such).
    let items = list(&s.engine)?;
    let trials = list(&s.trials.engine)?;
    let me = staff.account.email.as_str();
    let marked = items
        .into_iter()
        .map(|i| (i, false))
        .chain(trials.into_iter().map(|i| (i, true)));
    Ok(marked
        .filter(|(i, _)| match (filter, &i.status) {
            (Filter::Open | Filter::Closed, _) => true,
            (Filter::Waiting, ConversationStatus::Waiting) => true,
            (Filter::Held, ConversationStatus::Held { .. }) => true,
            (Filter::Mine, ConversationStatus::Held { by, .. }) => by == me,
            (Filter::Overdue, _) => i.overdue,
            _ => false,
        })
        .map(|(i, trial)| Row {
            trial,
            masked: shown(&i.key, trial),
            ..Row::from(i)
        })
        .collect())
}

/// An action on a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Claim,
    Reply(String),
    Note(String),
    Release,
    Close,
}

impl Op {
    /// The word used in routes, forms and the confirmation message.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Claim => "claim",
            Op::Reply(_) => "reply",
            Op::Note(_) => "note",
            Op::Release => "release",
            Op::Close => "close",
        }
    }
}

/// Runs `op` on the conversation `r` of `comune` as `staff`, in the citizen's lane, and
/// queues a reply for sending. Another operator's hold is respected: only its holder
/// claims, replies, releases or closes (anyone may add a note); an administrator may release or close it (someone went
/// home holding it), never write in their name.
pub async fn act(s: &Console, staff: &Staff, comune: &str, r: &str, op: Op) -> Result<(), DeskError> {
    allowed(s, staff, comune)?;
    let conv = conversation(s, comune, r)?;
    let me = staff.account.email.clone();
    if let Op::Note(text) | Op::Reply(text) = &op {
        if text.trim().is_empty() {
            return Err(InboxError::EmptyReply.into());
        }
    }
    let admin = staff.account.role == Role::Admin;
    let key = conv.key.clone();
    let server = s.clone();
    let done = s
        .lanes
        .in_lane(key.clone(), move || -> Result<Vec<u64>, InboxError> {
            let e = server.engine_for(&key);
            let now = Timestamp::now();
            // Checked in the lane, against the conversation as it is now: two operators
            // acting at once are ordered here.
            if let Some(ConversationStatus::Held { by, .. }) = e.store.conversation(&key)?.map(|c| c.status) {
                let admin_may = admin && matches!(op, Op::Release | Op::Close);
                // Notes are internal: a colleague may add one to a conversation someone else holds.
                if by != me && !admin_may && !matches!(op, Op::Note(_)) {
                    return Err(InboxError::HeldByOther(by));
                }
            }
            match op {
                Op::Claim => inbox::claim(e, &key, &me, now).map(|_| Vec::new()),
                Op::Reply(text) => inbox::reply(e, &key, &me, &text, now),
                Op::Note(text) => inbox::note(e, &key, &me, &text, now).map(|_| Vec::new()),
                Op::Release => inbox::release(e, &key, &me, now).map(|_| Vec::new()),
                Op::Close => inbox::close(e, &key, &me, now).map(|_| Vec::new()),
            }
        })
        .await
        .ok_or(DeskError::Unavailable)??;
    // A trial's reply stays in the simulator's desk, for its page to take.
    if s.trials.holds(&conv.key) {
        return Ok(());
    }
    // The reply is durable in the outbox (reply flushed): now the sender may take it, in
    // this citizen's order. Without this push it would wait for the next start.
    for id in done {
        s.lanes.send(conv.key.clone(), id);
    }
    Ok(())
}

/// Blocks (`block` true) or unblocks the citizen `r` of `comune`, in their lane.
pub async fn set_blocked(
    s: &Console,
    staff: &Staff,
    comune: &str,
    r: &str,
    block: bool,
    reason: String,
) -> Result<(), DeskError> {
    allowed(s, staff, comune)?;
    let (key, _) = citizen(s, comune, r)?;
    let server = s.clone();
    let me = staff.account.email.clone();
    s.lanes
        .in_lane(key.clone(), move || {
            let now = Timestamp::now();
            if block {
                blocking::block(&server.engine, &key, &me, &reason, now)
            } else {
                blocking::unblock(&server.engine, &key, &me, &reason, now)
            }
        })
        .await
        .ok_or(DeskError::Unavailable)??;
    Ok(())
}

/// The full number, for an operator who chose to see it: the reveal is audited (the
/// detail names the masked number only).
pub fn reveal(s: &Console, staff: &Staff, key: &CitizenKey) -> Result<String, DeskError> {
    audit(
        s.engine.store.as_ref(),
        &staff.account.email,
        &key.comune,
        "show-number",
        &format!("citizen {} on {}", mask(&key.citizen), key.channel),
    )?;
    Ok(key.citizen.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_stable_opaque_and_per_key() {
        let a = CitizenKey::new("assemini", "whatsapp", "393331234567");
        let r = reference(&a);
        assert_eq!(r, reference(&a.clone()));
        assert!(well_formed(&r), "{r}");
        assert!(!r.contains("4567"));
        assert_ne!(r, reference(&CitizenKey::new("assemini", "telegram", "393331234567")));
        assert_eq!(Filter::parse(Some("mine")), Filter::Mine);
        assert_eq!(Filter::parse(Some("<script>")), Filter::Open);
    }
}
