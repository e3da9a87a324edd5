//! A conversation's thread as the desk shows it, kept live: its state and deadline, then
//! every line in order (the citizen's messages, the bot's answers, staff replies with their
//! ticks, notes, what happened: a request for a person, a claim, a release, a close) with
//! the messages moderation withheld where they came. Served whole in the conversation page
//! and alone at `/staff/{comune}/inbox/{ref}/thread` for the page's script.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use jiff::Timestamp;

use super::desk::{self, DeskError};
use super::pages::{local_time, t, ta};
use super::render::{age, line_html, status_text, withheld_html, Tick};
use super::session::Staff;
use super::state::Console;
use crate::channel::DeliveryStatus;
use crate::service::runner::Engine;
use crate::storage::keys::sent_key;
use crate::storage::records::Citizen;
use crate::storage::{Author, Conversation, ConversationStatus, Line};
use crate::web::esc;

/// How far an operator's reply has gone: in the outbox, then as the provider's statuses
/// say (a trial's reply is delivered once its simulator page took it). `None` for other
/// lines and for replies written before ticks were kept.
fn tick(e: &Engine, trial: bool, conv: &Conversation, citizen: Option<&Citizen>, line: &Line) -> Option<Tick> {
    if !matches!(line.author, Author::Staff(_)) {
        return None;
    }
    let id = line.outbound?;
    if matches!(e.store.outbound_entry(id), Ok(Some(o)) if o.key == conv.key) {
        return Some(Tick::Queued);
    }
    if trial {
        return Some(Tick::Delivered);
    }
    match &line.sent {
        Some(m) => Some(match e.store.sent(&sent_key(&conv.key.channel, m)) {
            Ok(Some(sent)) => match sent.status {
                DeliveryStatus::Sent => Tick::Sent,
                DeliveryStatus::Delivered => Tick::Delivered,
                DeliveryStatus::Read | DeliveryStatus::Played => Tick::Read,
                DeliveryStatus::Failed => Tick::Failed,
            },
            // Statuses are kept for a while only (retention): it was accepted.
            _ => Tick::Sent,
        }),
        // Out of the outbox without being accepted: refused for good (the record says
        // when), or in doubt after a crash (nothing to show).
        None => citizen
            .and_then(|c| c.delivery_error.as_ref())
            .filter(|err| err.at >= line.at)
            .map(|_| Tick::Failed),
    }
}

/// The live part of the conversation page: `conv`, a trial's or not, and its citizen's
/// record, as the caller read them.
pub(crate) fn thread_html(
    s: &Console,
    staff: &Staff,
    comune: &str,
    conv: &Conversation,
    trial: bool,
    citizen: Option<&Citizen>,
) -> Result<String, DeskError> {
    let lang = staff.lang();
    let now = Timestamp::now();
    let e = if trial { &s.trials.engine } else { &s.engine };
    let deadline = conv
        .deadline
        .map(|d| {
            let overdue = d < now && !matches!(conv.status, ConversationStatus::Closed { .. });
            let flag = if overdue {
                format!(" <strong class=\"overdue\">{}</strong>", t(s, lang, "console-overdue"))
            } else {
                String::new()
            };
            format!(
                "<dt>{}</dt><dd>{}{flag}</dd>",
                t(s, lang, "console-deadline-label"),
                local_time(d)
            )
        })
        .unwrap_or_default();
    // The lines, with the withheld messages (moderation cases) of the same time span.
    let mut items: Vec<(Timestamp, String)> = conv
        .lines
        .iter()
        .map(|l| {
            let k = tick(e, trial, conv, citizen, l);
            (l.at, line_html(s, lang, l, k))
        })
        .collect();
    if !trial {
        for (id, case) in e.store.cases(comune)? {
            if case.key == conv.key && case.at >= conv.opened_at {
                items.push((case.at, withheld_html(s, lang, comune, id, &case)));
            }
        }
    }
    // Stable: lines of the same instant keep their order.
    items.sort_by_key(|(at, _)| *at);
    let lines: String = items.into_iter().map(|(_, html)| html).collect();
    Ok(format!(
        "<dl class=\"facts\"><dt>{l_state}</dt><dd>{state}</dd><dt>{l_opened}</dt><dd>{opened} ({waiting})</dd>{deadline}</dl>\
<h2>{l_messages}</h2><ol class=\"log\">{lines}</ol>",
        l_state = t(s, lang, "console-state"),
        state = status_text(s, lang, &conv.status, &staff.account.email),
        l_opened = t(s, lang, "console-opened"),
        opened = local_time(conv.opened_at),
        waiting = ta(s, lang, "console-waiting-for", &[("age", age(s, lang, conv.opened_at, now))]),
        l_messages = t(s, lang, "console-messages"),
    ))
}

/// The region of the conversation page that holds the thread, with what the script needs
/// to keep it fresh.
pub(crate) fn live_thread(comune: &str, r: &str, inner: &str) -> String {
    format!(
        "<div id=\"thread\" data-live data-on=\"desk:{r}\" data-every=\"10000\" data-src=\"/staff/{c}/inbox/{r}/thread\" data-events=\"/staff/{c}/events\">{inner}</div>",
        c = esc(comune),
        r = esc(r),
    )
}

/// `GET /staff/{comune}/inbox/{ref}/thread`: the thread alone, for the page's script
/// (never cached).
pub async fn thread(State(s): State<Console>, staff: Staff, Path((comune, r)): Path<(String, String)>) -> Response {
    let html = desk::allowed(&s, &staff, &comune)
        .map_err(DeskError::from)
        .and_then(|()| desk::conversation(&s, &comune, &r))
        .and_then(|conv| {
            let (e, trial) = s.desk_of(&conv.key);
            let citizen = e.store.citizen(&conv.key)?;
            thread_html(&s, &staff, &comune, &conv, trial, citizen.as_ref())
        });
    match html {
        Ok(html) => ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            e.log();
            e.status().into_response()
        }
    }
}
