//! The inbox pages: a comune's conversations waiting for a person (filtered by state,
//! overdue first, refreshed in place by `live.rs`'s script), one conversation with its
//! history, and the forms that claim, reply, note, release and close it.
//!
//! Handlers are thin: check, call `desk`, render or redirect (post/redirect/get, so the
//! pages work without scripts). Numbers are masked unless the operator asks to see one
//! (audited); every word comes from `console.ftl`.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use jiff::Timestamp;
use serde::Deserialize;

use super::desk::{self, DeskError, Filter, Op, Row};
use super::pages::{comune_name, error_page, local_time, t, ta, who};
use super::render::{age, desk_error_page, display_name, form, notice_html, raw, scripted_page, status_text, Notice};
use super::session::Staff;
use super::state::Console;
use crate::storage::{Conversation, ConversationStatus};
use crate::web::esc;

/// At most `n` characters of a message, for a list.
fn snippet(text: &str, n: usize) -> String {
    let mut out: String = text.chars().take(n).collect();
    if text.chars().count() > n {
        out.push('…');
    }
    out
}

#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    state: Option<String>,
    done: Option<String>,
    /// The conversation open beside the list (marked in it).
    current: Option<String>,
}

/// The rows of an inbox, as the page shows them and the script swaps them in. The first
/// element carries the summary the status line announces.
fn rows_html(s: &Console, staff: &Staff, comune: &str, rows: &[Row], now: Timestamp, current: Option<&str>) -> String {
    let lang = staff.lang();
    let overdue = rows.iter().filter(|r| r.overdue).count();
    let summary = ta(
        s,
        lang,
        "console-inbox-count",
        &[("count", rows.len().to_string()), ("overdue", overdue.to_string())],
    );
    if rows.is_empty() {
        return format!(
            "<p data-summary=\"{summary}\">{}</p>",
            t(s, lang, "console-inbox-empty")
        );
    }
    let mut out = format!("<ul class=\"cards\" data-summary=\"{summary}\">");
    for r in rows {
        let who = r.name.clone().unwrap_or_else(|| r.masked.clone());
        let deadline = match r.deadline {
            Some(d) => {
                let flag = if r.overdue {
                    format!(" <strong class=\"overdue\">{}</strong>", t(s, lang, "console-overdue"))
                } else {
                    String::new()
                };
                format!(" · {}{flag}", ta(s, lang, "console-deadline", &[("at", local_time(d))]))
            }
            None => String::new(),
        };
        let last = r
            .last_line
            .as_deref()
            .map(|l| {
                format!(
                    "<p>{} <q>{}</q></p>",
                    t(s, lang, "console-last-message"),
                    esc(&snippet(l, 160))
                )
            })
            .unwrap_or_default();
        let here = if current == Some(r.reference.as_str()) {
            " aria-current=\"page\""
        } else {
            ""
        };
        let trial = if r.trial {
            format!(" <span class=\"badge-trial\">{}</span>", t(s, lang, "console-trial"))
        } else {
            String::new()
        };
        out.push_str(&format!(
            "<li><h2><a href=\"/staff/{c}/inbox/{r}\"{here}>{who}</a>{trial}</h2><p>{masked} · {channel} · {state}</p>{last}<p>{waiting}{deadline}</p></li>",
            c = esc(comune),
            r = esc(&r.reference),
            who = esc(&who),
            masked = esc(&r.masked),
            channel = t(s, lang, &format!("console-channel-{}", r.channel)),
            state = status_text(s, lang, &r.status, &staff.account.email),
            waiting = ta(s, lang, "console-waiting-for", &[("age", age(s, lang, r.waiting_since, now))]),
        ));
    }
    out.push_str("</ul>");
    out
}

fn inbox_body(
    s: &Console,
    staff: &Staff,
    comune: &str,
    filter: Filter,
    notice: Option<&Notice>,
) -> Result<(String, String), DeskError> {
    let now = Timestamp::now();
    let rows = desk::rows(s, staff, comune, filter, now)?;
    let lang = staff.lang();
    let name = comune_name(s, lang, comune);
    let title = raw(s, lang, "console-inbox-title", &[("comune", name.clone())]);
    let mut body = format!(
        "{}<p><a href=\"/staff/{c}\">{back}</a></p><h1>{title}</h1>{notice}",
        who(s, staff),
        notice = notice_html(s, staff.lang(), notice),
        c = esc(comune),
        back = ta(s, lang, "console-back-to", &[("comune", name)]),
        title = esc(&title),
    );
    if let Some(days) = s.engine.flows.get(comune).and_then(|f| f.answer_within_working_days) {
        body.push_str(&format!(
            "<p>{}</p>",
            ta(s, lang, "console-sla", &[("days", days.to_string())])
        ));
    }
    let options: String = Filter::ALL
        .iter()
        .map(|f| {
            format!(
                "<option value=\"{v}\"{sel}>{label}</option>",
                v = f.as_str(),
                sel = if *f == filter { " selected" } else { "" },
                label = t(s, lang, &format!("console-filter-{}", f.as_str())),
            )
        })
        .collect();
    body.push_str(&format!(
        "<form method=\"get\" action=\"/staff/{c}/inbox\" class=\"inline\"><div><label for=\"state\">{label}</label><select id=\"state\" name=\"state\">{options}</select></div><button type=\"submit\">{apply}</button></form>",
        c = esc(comune),
        label = t(s, lang, "console-filter"),
        apply = t(s, lang, "console-filter-apply"),
    ));
    let rows_html = rows_html(s, staff, comune, &rows, now, None);
    let overdue = rows.iter().filter(|r| r.overdue).count();
    body.push_str(&format!(
        "<p id=\"inbox-status\" role=\"status\">{}</p><div id=\"inbox-rows\" data-live data-on=\"inbox\" data-every=\"10000\" data-status=\"inbox-status\" data-src=\"/staff/{c}/inbox/rows?state={}\" data-events=\"/staff/{c}/events\">{rows_html}</div>{find}",
        ta(
            s,
            lang,
            "console-inbox-count",
            &[("count", rows.len().to_string()), ("overdue", overdue.to_string())]
        ),
        filter.as_str(),
        c = esc(comune),
        find = super::citizen_pages::find_form(s, staff, comune),
    ));
    Ok((title, body))
}

/// `GET /staff/{comune}/inbox?state=`: the comune's conversations, overdue first.
pub async fn inbox_page(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Query(q): Query<InboxQuery>,
) -> Response {
    let lang = staff.lang();
    let done = q
        .done
        .filter(|d| ["release", "close"].contains(&d.as_str()))
        .map(Notice::Done);
    match inbox_body(&s, &staff, &comune, Filter::parse(q.state.as_deref()), done.as_ref()) {
        Ok((title, body)) => Html(scripted_page(&s, lang, &title, &body)).into_response(),
        Err(e) => desk_error_page(&s, lang, e),
    }
}

/// `GET /staff/{comune}/inbox/rows?state=`: the rows alone, for the page's script (never
/// cached: they change as citizens write).
pub async fn inbox_rows(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Query(q): Query<InboxQuery>,
) -> Response {
    let now = Timestamp::now();
    match desk::rows(&s, &staff, &comune, Filter::parse(q.state.as_deref()), now) {
        Ok(rows) => (
            [(header::CACHE_CONTROL, "no-store")],
            Html(rows_html(&s, &staff, &comune, &rows, now, q.current.as_deref())),
        )
            .into_response(),
        Err(e) => {
            e.log();
            e.status().into_response()
        }
    }
}

fn actions_html(s: &Console, staff: &Staff, comune: &str, conv: &Conversation) -> String {
    let lang = staff.lang();
    let me = staff.account.email.as_str();
    let base = format!("/staff/{comune}/inbox/{}", desk::reference(&conv.key));
    let admin = staff.account.role == crate::storage::Role::Admin;
    let (mine, waiting, other) = match &conv.status {
        ConversationStatus::Waiting => (false, true, None),
        ConversationStatus::Held { by, .. } if by == me => (true, false, None),
        ConversationStatus::Held { by, .. } => (false, false, Some(by.clone())),
        ConversationStatus::Closed { .. } => return String::new(),
    };
    let mut out = format!("<h2>{}</h2>", t(s, lang, "console-actions"));
    if let Some(by) = &other {
        out.push_str(&format!(
            "<p>{}</p>",
            ta(s, lang, "console-held-by-other", &[("by", by.clone())])
        ));
    }
    if waiting {
        out.push_str(&form(staff, &format!("{base}/claim"), "", &t(s, lang, "console-claim")));
    }
    if waiting || mine {
        let channel = super::pages::raw(s, lang, &format!("console-channel-{}", conv.key.channel), &[]);
        out.push_str(&form(
            staff,
            &format!("{base}/reply"),
            &format!(
                "<label for=\"reply\">{}</label><textarea id=\"reply\" name=\"text\" rows=\"4\" maxlength=\"4000\" required></textarea>",
                ta(s, lang, "console-reply-label", &[("channel", channel)])
            ),
            &t(s, lang, "console-reply-send"),
        ));
    }
    out.push_str(&form(
        staff,
        &format!("{base}/note"),
        &format!(
            "<label for=\"note\">{}</label><textarea id=\"note\" name=\"text\" rows=\"3\" maxlength=\"4000\" required></textarea>",
            t(s, lang, "console-note-label")
        ),
        &t(s, lang, "console-note-add"),
    ));
    if mine || (admin && other.is_some()) {
        out.push_str(&form(
            staff,
            &format!("{base}/release"),
            "",
            &t(s, lang, "console-release"),
        ));
    }
    if waiting || mine || (admin && other.is_some()) {
        out.push_str(&form(staff, &format!("{base}/close"), "", &t(s, lang, "console-close")));
    }
    out
}

fn conversation_body(
    s: &Console,
    staff: &Staff,
    comune: &str,
    r: &str,
    show_number: bool,
    notice: Option<&Notice>,
) -> Result<(String, String), DeskError> {
    desk::allowed(s, staff, comune)?;
    let conv = desk::conversation(s, comune, r)?;
    let lang = staff.lang();
    let now = Timestamp::now();
    let (e, trial) = s.desk_of(&conv.key);
    let citizen = e.store.citizen(&conv.key)?;
    let name = citizen.as_ref().and_then(|c| display_name(&c.fields));
    let masked = desk::shown(&conv.key, trial);
    let title = raw(
        s,
        lang,
        "console-conversation-title",
        &[("who", name.clone().unwrap_or_else(|| masked.clone()))],
    );
    let number = if trial {
        // A simulator session has no number: it says what it is instead.
        format!("<span class=\"badge-trial\">{}</span>", t(s, lang, "console-trial"))
    } else if show_number {
        esc(&desk::reveal(s, staff, &conv.key)?)
    } else {
        format!(
            "{} <a href=\"?number=show\">{}</a>",
            esc(&masked),
            t(s, lang, "console-show-number")
        )
    };
    let citizen_link = if citizen.is_some() && !trial {
        format!(
            "<p><a href=\"/staff/{}/citizens/{}\">{}</a></p>",
            esc(comune),
            esc(r),
            t(s, lang, "console-citizen-link")
        )
    } else {
        String::new()
    };
    let thread = super::thread::live_thread(
        comune,
        r,
        &super::thread::thread_html(s, staff, comune, &conv, trial, citizen.as_ref())?,
    );
    // Beside the thread (on a wide screen), the open conversations, kept fresh.
    let open = desk::rows(s, staff, comune, Filter::Open, now)?;
    let list = format!(
        "<aside class=\"desk-list\" aria-labelledby=\"desk-list-h\"><h2 id=\"desk-list-h\" class=\"h5\">{}</h2><p id=\"inbox-status\" class=\"visually-hidden\" role=\"status\"></p><div data-live data-on=\"inbox\" data-every=\"10000\" data-status=\"inbox-status\" data-src=\"/staff/{c}/inbox/rows?state=open&amp;current={r}\">{}</div></aside>",
        t(s, lang, "console-desk-open"),
        rows_html(s, staff, comune, &open, now, Some(r)),
        c = esc(comune),
        r = esc(r),
    );
    let body = format!(
        "{who}<div class=\"desk\"><section class=\"desk-thread\" aria-labelledby=\"conv-h\"><p><a href=\"/staff/{c}/inbox\">{back}</a></p><h1 id=\"conv-h\">{h1}</h1>{notice}\
<dl class=\"facts\"><dt>{l_name}</dt><dd>{name}</dd><dt>{l_number}</dt><dd>{number}</dd>{username}<dt>{l_channel}</dt><dd>{channel}</dd></dl>{citizen_link}\
{thread}{actions}</section>{list}</div>",
        who = who(s, staff),
        c = esc(comune),
        back = t(s, lang, "console-back-to-inbox"),
        h1 = esc(&title),
        notice = notice_html(s, lang, notice),
        l_name = t(s, lang, "console-citizen-name"),
        name = esc(&name.unwrap_or_else(|| "—".into())),
        l_number = t(s, lang, "console-number"),
        username = citizen
            .as_ref()
            .and_then(|c| c.whatsapp.username.as_deref())
            .map(|u| format!("<dt>{}</dt><dd>@{}</dd>", t(s, lang, "console-username"), esc(u)))
            .unwrap_or_default(),
        l_channel = t(s, lang, "console-channel"),
        channel = t(s, lang, &format!("console-channel-{}", conv.key.channel)),
        actions = actions_html(s, staff, comune, &conv),
    );
    Ok((title, body))
}

#[derive(Debug, Deserialize)]
pub struct ConversationQuery {
    number: Option<String>,
    done: Option<String>,
}

/// `GET /staff/{comune}/inbox/{ref}`: one conversation, its history and its actions;
/// `?number=show` shows the full number (audited).
pub async fn conversation_page(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, r)): Path<(String, String)>,
    Query(q): Query<ConversationQuery>,
) -> Response {
    let lang = staff.lang();
    let done = q
        .done
        .filter(|d| ["claim", "reply", "note", "release", "close"].contains(&d.as_str()))
        .map(Notice::Done);
    let show = q.number.as_deref() == Some("show");
    match conversation_body(&s, &staff, &comune, &r, show, done.as_ref()) {
        Ok((title, body)) => Html(scripted_page(&s, lang, &title, &body)).into_response(),
        Err(e) => desk_error_page(&s, lang, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// `POST /staff/{comune}/inbox/{ref}/{claim|reply|note|release|close}`: the action, then
/// back to the conversation (or to the inbox once released or closed). A refused action
/// shows the conversation again with the reason.
pub async fn action_post(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, r, action)): Path<(String, String, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    let lang = staff.lang();
    if let Err(e) = staff.check_csrf(&f.csrf) {
        return error_page(&s, lang, e);
    }
    let op = match action.as_str() {
        "claim" => Op::Claim,
        "reply" => Op::Reply(f.text),
        "note" => Op::Note(f.text),
        "release" => Op::Release,
        "close" => Op::Close,
        _ => return error_page(&s, lang, super::ConsoleError::NotFound),
    };
    let name = op.name();
    match desk::act(&s, &staff, &comune, &r, op).await {
        Ok(()) => {
            let to = match name {
                "release" | "close" => format!("/staff/{comune}/inbox?done={name}"),
                _ => format!("/staff/{comune}/inbox/{r}?done={name}"),
            };
            Redirect::to(&to).into_response()
        }
        Err(e @ (DeskError::Inbox(_) | DeskError::Block(_)))
            if !matches!(e, DeskError::Inbox(crate::staff::inbox::InboxError::NoConversation)) =>
        {
            let status = e.status();
            let notice = Notice::Problem(e.message_id());
            match conversation_body(&s, &staff, &comune, &r, false, Some(&notice)) {
                Ok((title, body)) => (status, Html(scripted_page(&s, lang, &title, &body))).into_response(),
                Err(e) => desk_error_page(&s, lang, e),
            }
        }
        Err(e) => desk_error_page(&s, lang, e),
    }
}

/// A link to the inbox with its count, for the home and comune pages.
pub(crate) fn inbox_link(s: &Console, lang: &str, comune: &str) -> String {
    let open = crate::staff::inbox::inbox(&s.engine, comune, Timestamp::now())
        .map(|items| (items.len(), items.iter().filter(|i| i.overdue).count()))
        .unwrap_or((0, 0));
    format!(
        "<a href=\"/staff/{}/inbox\">{}</a>",
        esc(comune),
        ta(
            s,
            lang,
            "console-inbox-link",
            &[("count", open.0.to_string()), ("overdue", open.1.to_string())]
        )
    )
}
