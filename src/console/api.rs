//! The console's JSON API (`/staff/api/…`): the desk's operations for scripts and other
//! tools, behind the same session and roles as the pages, described by the OpenAPI 3 file
//! served at `/staff/api/openapi.json` (`openapi.json` next to this file).
//!
//! Without a session every route answers 401 JSON; an account of another comune gets 403.
//! Writes take a JSON body (`{}` when there is nothing to say): a cross-site form cannot
//! send `application/json` without a CORS preflight, which is never granted, and the
//! session cookie is `SameSite=Strict` besides. Numbers appear masked; `?number=show`
//! returns the full one and is audited.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::desk::{self, DeskError, Filter, Op};
use super::session::Staff;
use super::state::Console;
use crate::dialogue::{Citizen, Consent};
use crate::staff::inbox::mask;
use crate::storage::{Conversation, ConversationStatus, Line};

/// The OpenAPI description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

fn error(e: DeskError) -> Response {
    e.log();
    let mut body = json!({"error": e.code()});
    if let DeskError::Inbox(crate::staff::inbox::InboxError::HeldByOther(by)) = &e {
        body["held_by"] = json!(by);
    }
    (e.status(), Json(body)).into_response()
}

fn ok<T: Serialize>(value: T) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Json(value)).into_response()
}

/// `GET /staff/api/openapi.json`.
pub async fn openapi(_staff: Staff) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    state: Option<String>,
}

/// `GET /staff/api/{comune}/inbox?state=`.
pub async fn inbox(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Query(q): Query<InboxQuery>,
) -> Response {
    let filter = Filter::parse(q.state.as_deref());
    match desk::rows(&s, &staff, &comune, filter, Timestamp::now()) {
        Ok(rows) => ok(json!({"comune": comune, "state": filter.as_str(), "conversations": rows})),
        Err(e) => error(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct NumberQuery {
    number: Option<String>,
}

/// A conversation as the API shows it.
#[derive(Debug, Serialize)]
struct ConversationView {
    #[serde(rename = "ref")]
    reference: String,
    comune: String,
    channel: String,
    masked: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<String>,
    #[serde(flatten)]
    status: ConversationStatus,
    opened_at: Timestamp,
    deadline: Option<Timestamp>,
    overdue: bool,
    last_activity: Timestamp,
    lines: Vec<Line>,
}

fn conversation_view(conv: Conversation, number: Option<String>) -> ConversationView {
    let now = Timestamp::now();
    ConversationView {
        reference: desk::reference(&conv.key),
        overdue: conv.deadline.is_some_and(|d| d < now) && !matches!(conv.status, ConversationStatus::Closed { .. }),
        comune: conv.key.comune.clone(),
        channel: conv.key.channel.clone(),
        masked: mask(&conv.key.citizen),
        number,
        status: conv.status,
        opened_at: conv.opened_at,
        deadline: conv.deadline,
        last_activity: conv.last_activity,
        lines: conv.lines,
    }
}

fn load_conversation(
    s: &Console,
    staff: &Staff,
    comune: &str,
    r: &str,
    show: bool,
) -> Result<ConversationView, DeskError> {
    desk::allowed(s, staff, comune)?;
    let conv = desk::conversation(s, comune, r)?;
    let number = if show {
        Some(desk::reveal(s, staff, &conv.key)?)
    } else {
        None
    };
    Ok(conversation_view(conv, number))
}

/// `GET /staff/api/{comune}/conversations/{ref}`.
pub async fn conversation(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, r)): Path<(String, String)>,
    Query(q): Query<NumberQuery>,
) -> Response {
    match load_conversation(&s, &staff, &comune, &r, q.number.as_deref() == Some("show")) {
        Ok(v) => ok(v),
        Err(e) => error(e),
    }
}

/// The body of a write: `text` for a reply or a note, `reason` for a block or unblock.
#[derive(Debug, Default, Deserialize)]
pub struct Body {
    #[serde(default)]
    text: String,
    #[serde(default)]
    reason: String,
}

/// `POST /staff/api/{comune}/conversations/{ref}/{claim|reply|note|release|close}`:
/// answers with the conversation as it is after the action.
pub async fn act(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, r, action)): Path<(String, String, String)>,
    Json(body): Json<Body>,
) -> Response {
    let op = match action.as_str() {
        "claim" => Op::Claim,
        "reply" => Op::Reply(body.text),
        "note" => Op::Note(body.text),
        "release" => Op::Release,
        "close" => Op::Close,
        _ => return error(super::ConsoleError::NotFound.into()),
    };
    let done = desk::act(&s, &staff, &comune, &r, op).await;
    match done.and_then(|()| load_conversation(&s, &staff, &comune, &r, false)) {
        Ok(v) => ok(v),
        Err(e) => error(e),
    }
}

/// A citizen as the API shows it.
#[derive(Debug, Serialize)]
struct CitizenView {
    #[serde(rename = "ref")]
    reference: String,
    comune: String,
    channel: String,
    masked: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<String>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked_reason: Option<String>,
    language: Option<String>,
    fields: std::collections::BTreeMap<String, String>,
    categories: std::collections::BTreeSet<String>,
    consents: Vec<Consent>,
    first_seen: Timestamp,
    last_inbound: Timestamp,
    subscribed_at: Option<Timestamp>,
    unsubscribed_at: Option<Timestamp>,
    held_by: Option<String>,
    conversation: Option<ConversationView>,
}

fn load_citizen(s: &Console, staff: &Staff, comune: &str, r: &str, show: bool) -> Result<CitizenView, DeskError> {
    desk::allowed(s, staff, comune)?;
    let (key, c): (_, Citizen) = desk::citizen(s, comune, r)?;
    let number = if show {
        Some(desk::reveal(s, staff, &key)?)
    } else {
        None
    };
    let conversation = s.engine.store.conversation(&key)?.map(|c| conversation_view(c, None));
    Ok(CitizenView {
        reference: desk::reference(&key),
        comune: key.comune.clone(),
        channel: key.channel.clone(),
        masked: mask(&key.citizen),
        number,
        status: c.status(),
        blocked_reason: match &c.state {
            crate::dialogue::State::Blocked { reason } => Some(reason.clone()),
            _ => None,
        },
        language: c.language,
        fields: c.fields,
        categories: c.categories,
        consents: c.consents,
        first_seen: c.first_seen,
        last_inbound: c.last_inbound,
        subscribed_at: c.subscribed_at,
        unsubscribed_at: c.unsubscribed_at,
        held_by: c.held_by,
        conversation,
    })
}

/// `GET /staff/api/{comune}/citizens/{ref}`.
pub async fn citizen(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, r)): Path<(String, String)>,
    Query(q): Query<NumberQuery>,
) -> Response {
    match load_citizen(&s, &staff, &comune, &r, q.number.as_deref() == Some("show")) {
        Ok(v) => ok(v),
        Err(e) => error(e),
    }
}

/// `POST /staff/api/{comune}/citizens/{ref}/{block|unblock}` with `{"reason": "…"}`:
/// answers with the citizen as they are after it.
pub async fn block(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, r, action)): Path<(String, String, String)>,
    Json(body): Json<Body>,
) -> Response {
    let block = match action.as_str() {
        "block" => true,
        "unblock" => false,
        _ => return error(super::ConsoleError::NotFound.into()),
    };
    let done = desk::set_blocked(&s, &staff, &comune, &r, block, body.reason).await;
    match done.and_then(|()| load_citizen(&s, &staff, &comune, &r, false)) {
        Ok(v) => ok(v),
        Err(e) => error(e),
    }
}
