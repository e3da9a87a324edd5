//! `/staff/{comune}/broadcasts`: every broadcast of a comune, newest first, with its
//! category's name, the start of its text, when it was sent, its progress and figures, and
//! "resend to failed". While one is being prepared or sent, the list keeps itself fresh
//! through `/staff/{comune}/broadcasts/rows`: the console's script fetches it when the
//! comune's event stream says a broadcast moved (`live.rs`; every 3 s without a stream; no
//! reload, no inline script), and stops when all are done. Never shows a citizen's number.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use jiff::Timestamp;

use super::broadcast_pages::allowed;
use super::pages::{error_page, local_time, raw, t, ta, who};
use super::render::scripted_page;
use super::session::Staff;
use super::state::Console;
use super::ConsoleError;
use crate::broadcast::{figures, Broadcast, BroadcastState, Figures};
use crate::web::esc;

/// How often a sending list refreshes itself without an event stream, in milliseconds.
pub const EVERY_MS: u32 = 3000;
/// How much of a broadcast's text the list shows.
const TEXT_START: usize = 80;

/// When the queued entries should be through, at the configured pace (WhatsApp's).
pub fn expected_finish(f: &Figures, per_second: u32, now: Timestamp) -> Timestamp {
    let secs = f.queued.div_ceil(u64::from(per_second.max(1)));
    now + jiff::SignedDuration::from_secs(i64::try_from(secs).unwrap_or(i64::MAX / 2))
}

/// The category's name in `lang` (its id when the flow does not name it).
fn category_name(s: &Console, lang: &str, flow: &crate::flow::Flow, id: Option<&str>) -> String {
    let Some(id) = id else {
        return raw(s, lang, "console-broadcast-all", &[]);
    };
    super::pages::categories(s, lang, flow)
        .into_iter()
        .find(|(c, _)| c == id)
        .map_or_else(|| id.to_string(), |(_, label)| label)
}

/// The start of the broadcast's text in the staff's language, else the comune's first.
fn text_start(b: &Broadcast, lang: &str, flow: &crate::flow::Flow) -> String {
    let text = b
        .texts
        .get(lang)
        .or_else(|| b.texts.get(flow.default_language()))
        .or_else(|| b.texts.values().next())
        .map(String::as_str)
        .unwrap_or_default();
    let mut start: String = text.chars().take(TEXT_START).collect();
    if text.chars().count() > TEXT_START {
        start.push('…');
    }
    start
}

/// The table of broadcasts (the live region's content): `data-final` once none is being
/// prepared or sent.
fn rows(s: &Console, staff: &Staff, comune: &str) -> Result<String, ConsoleError> {
    let lang = staff.lang();
    let flow = allowed(s, staff, comune)?;
    let store = s.engine.store.as_ref();
    let now = Timestamp::now();
    let mut rows = String::new();
    let mut active = false;
    for (id, b) in store.broadcasts(Some(comune))?.into_iter().rev() {
        let f = figures(store, id, comune)?;
        active |= matches!(b.state, BroadcastState::Sending | BroadcastState::FanningOut);
        let progress = format!(
            "<progress max=\"{}\" value=\"{}\" aria-label=\"{}\">{}/{}</progress>",
            f.recipients.max(1),
            f.done(),
            ta(s, lang, "console-broadcast-progress-of", &[("id", id.to_string())]),
            f.done(),
            f.recipients
        );
        let when = match b.state {
            BroadcastState::Sending => ta(
                s,
                lang,
                "console-broadcast-finish",
                &[(
                    "at",
                    local_time(expected_finish(&f, s.config.broadcast.whatsapp_per_second, now)),
                )],
            ),
            BroadcastState::Scheduled => ta(s, lang, "console-broadcast-scheduled", &[("at", local_time(b.send_at))]),
            BroadcastState::Done => ta(
                s,
                lang,
                "console-broadcast-done",
                &[("at", b.finished_at.map(local_time).unwrap_or_default())],
            ),
            BroadcastState::FanningOut => t(s, lang, "console-broadcast-preparing"),
        };
        let sent_at = b
            .started_at
            .map(|at| ta(s, lang, "console-broadcast-sent-at", &[("at", local_time(at))]))
            .unwrap_or_default();
        let resend = if f.failed > 0 && b.state != BroadcastState::Scheduled && b.state != BroadcastState::Sending {
            format!(
                "<form method=\"post\" action=\"/staff/{c}/broadcasts/{id}/resend\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">{label}</button></form>",
                c = esc(comune),
                csrf = esc(&staff.session.csrf),
                label = t(s, lang, "console-broadcast-resend"),
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{id}</th><td>{cat}</td><td>{text}</td><td>{sent_at}{progress}<br>{when}</td><td>{figs}</td><td>{resend}</td></tr>",
            cat = esc(&category_name(s, lang, flow, b.category.as_deref())),
            text = esc(&text_start(&b, lang, flow)),
            figs = ta(
                s,
                lang,
                "console-broadcast-figures",
                &[
                    ("recipients", f.recipients.to_string()),
                    ("queued", f.queued.to_string()),
                    ("sent", f.sent.to_string()),
                    ("delivered", f.delivered.to_string()),
                    ("read", f.read.to_string()),
                    ("failed", f.failed.to_string()),
                ]
            ),
        ));
    }
    if rows.is_empty() {
        return Ok(format!("<p data-final>{}</p>", t(s, lang, "console-broadcast-none")));
    }
    let fin = if active { "" } else { " data-final" };
    Ok(format!(
        "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=\"list-h\"{fin}><table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\"><span class=\"visually-hidden\">{}</span></th></tr></thead><tbody>{rows}</tbody></table></div>",
        t(s, lang, "console-broadcast-category"),
        t(s, lang, "console-broadcast-text-start"),
        t(s, lang, "console-broadcast-progress"),
        t(s, lang, "console-broadcast-figures-title"),
        t(s, lang, "console-broadcast-actions"),
    ))
}

/// `GET /staff/{comune}/broadcasts`.
pub async fn list(State(s): State<Console>, staff: Staff, Path(comune): Path<String>) -> Response {
    let lang = staff.lang();
    let (s2, st, c) = (s.clone(), staff.clone(), comune.clone());
    let built = tokio::task::spawn_blocking(move || rows(&s2, &st, &c)).await;
    let table = match built {
        Ok(Ok(table)) => table,
        Ok(Err(e)) => return error_page(&s, lang, e),
        Err(_) => return error_page(&s, lang, ConsoleError::NotFound),
    };
    let title = raw(&s, lang, "console-broadcast-list-title", &[]);
    let c = esc(&comune);
    let body = format!(
        "{who}{nav}{links}<h1 id=\"list-h\">{title_h}</h1><p><a class=\"button\" href=\"/staff/{c}/broadcasts/new\">{new}</a></p>\
<div data-live data-on=\"broadcasts\" data-every=\"{EVERY_MS}\" data-src=\"/staff/{c}/broadcasts/rows\" data-events=\"/staff/{c}/events\">{table}</div>",
        who = who(&s, &staff),
        nav = super::nav::nav(&s, &staff),
        links = super::nav::comune_links(&s, lang, &comune),
        title_h = esc(&title),
        new = t(&s, lang, "console-broadcast-new"),
    );
    Html(scripted_page(&s, lang, &title, &body)).into_response()
}

/// `GET /staff/{comune}/broadcasts/rows`: the table alone, for the page's script.
pub async fn rows_get(State(s): State<Console>, staff: Staff, Path(comune): Path<String>) -> Response {
    let lang = staff.lang();
    let (s2, st, c) = (s.clone(), staff.clone(), comune.clone());
    match tokio::task::spawn_blocking(move || rows(&s2, &st, &c)).await {
        Ok(Ok(table)) => Html(table).into_response(),
        Ok(Err(e)) => error_page(&s, lang, e),
        Err(_) => error_page(&s, lang, ConsoleError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expected_finish_follows_the_pace() {
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let f = Figures {
            recipients: 1000,
            queued: 800,
            ..Figures::default()
        };
        assert_eq!(expected_finish(&f, 80, now), now + jiff::SignedDuration::from_secs(10));
        assert_eq!(expected_finish(&Figures::default(), 80, now), now);
    }
}
