//! The desk pages' shared pieces: the page frame with the console's script, texts, times
//! and ages, a conversation's state and lines, notices after a form, one-button forms, and
//! desk errors as pages. Only rendering: no store writes, no decisions.

use axum::response::{Html, IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};

use super::desk::DeskError;
use super::pages::{error_page, local_time, t, ta};
use super::session::Staff;
use super::state::Console;
use crate::storage::{Author, ConversationStatus, Happened, Line};
use crate::web::esc;
use crate::web::html::page;

/// A console page with the console's script (the pages work without it).
pub(crate) fn scripted_page(s: &Console, lang: &str, title: &str, body: &str) -> String {
    let brand = s.engine.locales.format(lang, "console-brand", None).unwrap_or_default();
    let script = "<script src=\"/staff/console.js\" defer></script>\n";
    page(&s.engine.locales, lang, title, &brand, &[], body, script)
}

/// A console text, unescaped (for titles, which `page` escapes).
pub(crate) use super::pages::raw;

/// How long ago, as staff read it: `45 min`, `3 h 5 min`, `2 g 4 h`.
pub(crate) fn age(s: &Console, lang: &str, since: Timestamp, now: Timestamp) -> String {
    let d: SignedDuration = now.duration_since(since);
    let mins = d.as_secs().max(0) / 60;
    let (days, hours, minutes) = (mins / 1440, (mins / 60) % 24, mins % 60);
    if days > 0 {
        ta(
            s,
            lang,
            "console-age-days",
            &[("days", days.to_string()), ("hours", hours.to_string())],
        )
    } else if hours > 0 {
        ta(
            s,
            lang,
            "console-age-hours",
            &[("hours", hours.to_string()), ("minutes", minutes.to_string())],
        )
    } else {
        ta(s, lang, "console-age-minutes", &[("minutes", minutes.to_string())])
    }
}

/// A conversation's state in words (escaped).
pub(crate) fn status_text(s: &Console, lang: &str, status: &ConversationStatus, me: &str) -> String {
    match status {
        ConversationStatus::Waiting => t(s, lang, "console-state-waiting"),
        ConversationStatus::Held { by, since } if by == me => {
            ta(s, lang, "console-state-held-by-you", &[("since", local_time(*since))])
        }
        ConversationStatus::Held { by, since } => ta(
            s,
            lang,
            "console-state-held",
            &[("by", by.clone()), ("since", local_time(*since))],
        ),
        ConversationStatus::Closed { by, at } => ta(
            s,
            lang,
            "console-state-closed",
            &[("by", by.clone()), ("at", local_time(*at))],
        ),
    }
}

/// A desk error as a page: the console's error page with the desk's message.
pub(crate) fn desk_error_page(s: &Console, lang: &str, e: DeskError) -> Response {
    match e {
        DeskError::Console(e) => error_page(s, lang, e),
        e => {
            e.log();
            let title = raw(s, lang, "console-error-title", &[]);
            let body = format!("<h1>{}</h1><p>{}</p>", esc(&title), t(s, lang, e.message_id()));
            (e.status(), Html(scripted_page(s, lang, &title, &body))).into_response()
        }
    }
}

/// How far an operator's reply has gone, as its ticks show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tick {
    /// Still in the outbox.
    Queued,
    /// Accepted by the provider.
    Sent,
    Delivered,
    Read,
    /// Refused for good.
    Failed,
}

impl Tick {
    fn name(self) -> &'static str {
        match self {
            Tick::Queued => "queued",
            Tick::Sent => "sent",
            Tick::Delivered => "delivered",
            Tick::Read => "read",
            Tick::Failed => "failed",
        }
    }

    /// The marks, as chat applications draw them (hidden from screen readers, which read
    /// the word beside them).
    fn marks(self) -> &'static str {
        match self {
            Tick::Queued => "🕓",
            Tick::Sent => "✓",
            Tick::Delivered | Tick::Read => "✓✓",
            Tick::Failed => "✗",
        }
    }
}

/// A line of a conversation as a list item: who and when, then the text; an operator's
/// reply with its ticks; what happened (a handover, a claim) as a line of its own.
pub(crate) fn line_html(s: &Console, lang: &str, line: &Line, tick: Option<Tick>) -> String {
    let at = local_time(line.at);
    let (class, author) = match &line.author {
        Author::Citizen => ("bot", t(s, lang, "console-author-citizen")),
        Author::Staff(by) => ("me", ta(s, lang, "console-author-staff", &[("by", by.clone())])),
        Author::Note(by) => ("note", ta(s, lang, "console-author-note", &[("by", by.clone())])),
        Author::Bot => ("auto", t(s, lang, "console-author-bot")),
        Author::Event(what) => {
            let text = match what {
                Happened::AskedForPerson => t(s, lang, "console-event-asked-person"),
                Happened::Claimed { by } => ta(s, lang, "console-event-claimed", &[("by", by.clone())]),
                Happened::Released { by } => ta(s, lang, "console-event-released", &[("by", by.clone())]),
                Happened::ReleasedIdle => t(s, lang, "console-event-released-idle"),
                Happened::Closed { by } => ta(s, lang, "console-event-closed", &[("by", by.clone())]),
            };
            return format!("<li class=\"event\"><span class=\"who\">{at}</span>{text}</li>");
        }
    };
    let ticks = tick
        .map(|k| {
            format!(
                "<span class=\"tick tick-{name}\"><span aria-hidden=\"true\">{marks}</span> {word}</span>",
                name = k.name(),
                marks = k.marks(),
                word = t(s, lang, &format!("console-tick-{}", k.name())),
            )
        })
        .unwrap_or_default();
    format!(
        "<li class=\"{class}\"><span class=\"who\">{author} · {at}</span>{text}{ticks}</li>",
        text = esc(&line.text),
    )
}

/// A moderation rule's name in `lang` (unescaped); its code when it has none.
pub(crate) fn rule_name(s: &Console, lang: &str, rule: crate::moderation::Rule) -> String {
    s.engine
        .locales
        .format(lang, &format!("rule-{}", rule.name()), None)
        .unwrap_or_else(|| rule.name().to_string())
}

/// A message withheld by moderation, in the thread where it came (its text stays in the
/// case, for those who review it).
pub(crate) fn withheld_html(
    s: &Console,
    lang: &str,
    comune: &str,
    id: u64,
    case: &crate::storage::ModerationCase,
) -> String {
    format!(
        "<li class=\"event\"><span class=\"who\">{at}</span>{text} <a href=\"/staff/{c}/cases/{id}\">{link}</a></li>",
        at = local_time(case.at),
        text = ta(
            s,
            lang,
            "console-event-withheld",
            &[("rule", rule_name(s, lang, case.rule))]
        ),
        c = esc(comune),
        link = ta(s, lang, "console-event-case", &[("id", id.to_string())]),
    )
}

/// What happened or went wrong, at the top of a page after a form.
pub(crate) enum Notice {
    /// Done, announced politely (`role=status`).
    Done(String),
    /// Refused, announced at once (`role=alert`).
    Problem(&'static str),
}

pub(crate) fn notice_html(s: &Console, lang: &str, notice: Option<&Notice>) -> String {
    match notice {
        Some(Notice::Done(op)) => {
            let id = format!("console-done-{op}");
            match s.engine.locales.format(lang, &id, None) {
                Some(text) => format!("<p role=\"status\"><strong>{}</strong></p>", esc(&text)),
                None => String::new(),
            }
        }
        Some(Notice::Problem(id)) => format!("<p role=\"alert\"><strong>{}</strong></p>", t(s, lang, id)),
        None => String::new(),
    }
}

/// A form posting to `action` with the session token and one button (plus `extra` fields).
pub(crate) fn form(staff: &Staff, action: &str, extra: &str, button: &str) -> String {
    form_styled(staff, action, extra, button, "")
}

/// [`form`] for an action that is hard to undo (blocking a citizen): its button looks it.
pub(crate) fn danger_form(staff: &Staff, action: &str, extra: &str, button: &str) -> String {
    form_styled(staff, action, extra, button, " class=\"danger\"")
}

fn form_styled(staff: &Staff, action: &str, extra: &str, button: &str, class: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{extra}<p><button type=\"submit\"{class}>{button}</button></p></form>",
        action = esc(action),
        csrf = esc(&staff.session.csrf),
    )
}

/// A citizen's name from their registration fields (`full_name`, or first and last name).
pub(crate) fn display_name(fields: &std::collections::BTreeMap<String, String>) -> Option<String> {
    fields.get("full_name").cloned().or_else(|| {
        let parts: Vec<&str> = ["first_name", "last_name"]
            .iter()
            .filter_map(|k| fields.get(*k).map(String::as_str))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    })
}
