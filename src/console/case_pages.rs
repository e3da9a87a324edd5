//! One moderation case in the console: the withheld message with the parts that broke
//! the rule marked, and the staff's decision (confirm, dismiss, report). The decision runs
//! in the citizen's lane (`Lanes::in_lane`), after any step of theirs already queued, so it
//! never writes back a record or a case that a step or an erasure changed meanwhile. Every
//! word from `locales/<lang>/console.ftl`.
//!
//! Handlers are thin: `staff::moderation::decide` decides and audits.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use clap::ValueEnum;
use jiff::Timestamp;
use serde::Deserialize;

use super::pages::{error_page, local_time, mask, t, ta, who};
use super::render::{notice_html, scripted_page, Notice};
use super::session::Staff;
use super::state::Console;
use super::ConsoleError;
use crate::staff::moderation::{decide, Decision, ReviewError};
use crate::storage::{CaseStatus, ModerationCase};
use crate::web::esc;

/// The longest note kept with a decision, in characters.
const MAX_NOTE: usize = 2000;

/// The address of case `id`'s page.
pub(crate) fn case_path(comune: &str, id: u64) -> String {
    format!("/staff/{comune}/cases/{id}")
}

/// Case `id` of `comune`, for an account that may see the comune.
fn load(s: &Console, staff: &Staff, comune: &str, id: &str) -> Result<(u64, ModerationCase), ConsoleError> {
    if !staff.account.may(comune) {
        return Err(ConsoleError::Forbidden);
    }
    let id: u64 = id.parse().map_err(|_| ConsoleError::NotFound)?;
    match s.engine.store.case(id)? {
        Some(case) if case.key.comune == comune => Ok((id, case)),
        _ => Err(ConsoleError::NotFound),
    }
}

/// The message escaped, each part that broke the rule in `<mark>`.
fn marked(case: &ModerationCase) -> String {
    let text = &case.text;
    let mut spans: Vec<(usize, usize)> = case
        .spans
        .iter()
        .filter(|sp| sp.start < sp.end && sp.end <= text.len())
        .filter(|sp| text.is_char_boundary(sp.start) && text.is_char_boundary(sp.end))
        .map(|sp| (sp.start, sp.end))
        .collect();
    spans.sort_unstable();
    let mut out = String::new();
    let mut at = 0;
    for (start, end) in spans {
        // Overlapping spans: the part already marked is not marked again.
        let start = start.max(at);
        if start >= end {
            continue;
        }
        out.push_str(&esc(&text[at..start]));
        out.push_str(&format!("<mark>{}</mark>", esc(&text[start..end])));
        at = end;
    }
    out.push_str(&esc(&text[at..]));
    out
}

fn status_id(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Pending => "console-case-status-pending",
        CaseStatus::Confirmed => "console-case-status-confirmed",
        CaseStatus::Dismissed => "console-case-status-dismissed",
        CaseStatus::Reported => "console-case-status-reported",
    }
}

/// The decision form: all three while pending, only the report once confirmed.
fn decision_form(s: &Console, staff: &Staff, comune: &str, id: u64, status: CaseStatus) -> String {
    let lang = staff.lang();
    let choices: &[(&str, &str)] = match status {
        CaseStatus::Pending => &[
            ("confirm", "console-case-confirm"),
            ("dismiss", "console-case-dismiss"),
            ("report", "console-case-report"),
        ],
        CaseStatus::Confirmed => &[("report", "console-case-report")],
        CaseStatus::Dismissed | CaseStatus::Reported => return String::new(),
    };
    let buttons: String = choices
        .iter()
        .map(|(value, label)| {
            // Reporting to the authorities cannot be undone: it looks it.
            let class = if *value == "report" { " class=\"danger\"" } else { "" };
            format!(
                "<button type=\"submit\" name=\"decision\" value=\"{value}\"{class}>{}</button> ",
                t(s, lang, label)
            )
        })
        .collect();
    format!(
        "<section aria-labelledby=\"decide\"><h2 id=\"decide\">{title}</h2>\
         <form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <p><label for=\"note\">{l_note}</label><br><textarea id=\"note\" name=\"note\" rows=\"3\" cols=\"60\" maxlength=\"{MAX_NOTE}\"></textarea></p>\
         <p>{help}</p><p>{buttons}</p></form></section>",
        title = t(s, lang, "console-case-decide"),
        action = esc(&case_path(comune, id)),
        csrf = esc(&staff.session.csrf),
        l_note = t(s, lang, "console-case-note-label"),
        help = t(s, lang, "console-case-dismiss-help"),
    )
}

fn case_body(
    s: &Console,
    staff: &Staff,
    comune: &str,
    id: &str,
    notice: Option<&Notice>,
) -> Result<(String, String), ConsoleError> {
    let (id, case) = load(s, staff, comune, id)?;
    let lang = staff.lang();
    let title = ta(s, lang, "console-case-title", &[("id", id.to_string())]);
    let rule = super::render::rule_name(s, lang, case.rule);
    let erased = case.key.citizen.is_empty();
    let from = if erased {
        t(s, lang, "console-case-erased-sender")
    } else {
        format!(
            "{} ({}){}",
            esc(&mask(&case.key.citizen)),
            esc(&case.key.channel),
            super::citizen_pages::citizen_link(s, lang, &case.key)
        )
    };
    let mut facts = format!(
        "<dl><dt>{l_rule}</dt><dd>{rule}</dd><dt>{l_at}</dt><dd>{at}</dd><dt>{l_from}</dt><dd>{from}</dd>\
         <dt>{l_status}</dt><dd>{status}</dd>",
        l_rule = t(s, lang, "console-case-rule"),
        rule = esc(&rule),
        l_at = t(s, lang, "console-case-received"),
        at = esc(&local_time(case.at)),
        l_from = t(s, lang, "console-case-from"),
        l_status = t(s, lang, "console-case-status"),
        status = t(s, lang, status_id(case.status)),
    );
    if let (Some(by), Some(at)) = (&case.decided_by, case.decided_at) {
        facts.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>",
            t(s, lang, "console-case-decided"),
            ta(
                s,
                lang,
                "console-case-decided-by",
                &[("by", by.clone()), ("at", local_time(at))]
            )
        ));
    }
    if let Some(note) = &case.note {
        facts.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>",
            t(s, lang, "console-case-note"),
            esc(note)
        ));
    }
    // Why: whom the message attacks and how, when the policy composed it (issue 18).
    let mut why: Vec<(String, String, String)> = Vec::new();
    for span in &case.spans {
        let Some(w) = span.why else { continue };
        let label = |kind: &str, name: &str| {
            s.engine
                .locales
                .format(lang, &format!("offence-{kind}-{name}"), None)
                .unwrap_or_else(|| name.to_string())
        };
        let entry = (
            label("target", w.target.name()),
            label("predicate", w.predicate.name()),
            span.text.clone(),
        );
        if !why.contains(&entry) {
            why.push(entry);
        }
    }
    if !why.is_empty() {
        let items: String = why
            .iter()
            .map(|(target, predicate, text)| {
                format!(
                    "<li>{}</li>",
                    ta(
                        s,
                        lang,
                        "console-case-why-item",
                        &[
                            ("target", target.clone()),
                            ("predicate", predicate.clone()),
                            ("text", text.clone())
                        ]
                    )
                )
            })
            .collect();
        facts.push_str(&format!(
            "<dt>{}</dt><dd><ul>{items}</ul></dd>",
            t(s, lang, "console-case-why")
        ));
    }
    facts.push_str("</dl>");
    if case.blocked {
        facts.push_str(&format!("<p>{}</p>", t(s, lang, "console-case-blocked")));
    }
    let message = if case.text.is_empty() {
        format!("<p>{}</p>", t(s, lang, "console-case-erased"))
    } else {
        format!("<blockquote><p>{}</p></blockquote>", marked(&case))
    };
    let body = format!(
        "{who}<p><a href=\"/staff/{c}\">{back}</a></p><h1>{h1}</h1>{notice}{facts}\
         <section aria-labelledby=\"message\"><h2 id=\"message\">{l_message}</h2>{message}</section>{form}",
        who = who(s, staff),
        c = esc(comune),
        back = t(s, lang, "console-case-back"),
        h1 = esc(&title),
        notice = notice_html(s, lang, notice),
        l_message = t(s, lang, "console-case-message"),
        form = decision_form(s, staff, comune, id, case.status),
    );
    Ok((title, body))
}

#[derive(Debug, Deserialize)]
pub struct CaseQuery {
    done: Option<String>,
}

/// `GET /staff/{comune}/cases/{id}`: one case, its message and the decision form.
pub async fn case_page(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, id)): Path<(String, String)>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let lang = staff.lang();
    let done = q
        .done
        .filter(|d| ["confirm", "dismiss", "report"].contains(&d.as_str()))
        .map(|d| Notice::Done(format!("case-{d}")));
    match case_body(&s, &staff, &comune, &id, done.as_ref()) {
        Ok((title, body)) => Html(scripted_page(&s, lang, &title, &body)).into_response(),
        Err(e) => error_page(&s, lang, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /staff/{comune}/cases/{id}`: applies the decision in the citizen's lane, then back
/// to the case; one already decided shows the case again with the reason (409).
pub async fn decide_post(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, id)): Path<(String, String)>,
    Form(f): Form<DecideForm>,
) -> Response {
    let lang = staff.lang();
    if let Err(e) = staff.check_csrf(&f.csrf) {
        return error_page(&s, lang, e);
    }
    let (number, case) = match load(&s, &staff, &comune, &id) {
        Ok(found) => found,
        Err(e) => return error_page(&s, lang, e),
    };
    // The form's values are the command line's names (clap's `ValueEnum`).
    let Ok(decision) = Decision::from_str(&f.decision, false) else {
        return error_page(&s, lang, ConsoleError::NotFound);
    };
    let note = Some(f.note.trim().chars().take(MAX_NOTE).collect::<String>()).filter(|n| !n.is_empty());
    let (server, by, c) = (s.clone(), staff.account.email.clone(), comune.clone());
    let decided = s
        .lanes
        .in_lane(case.key.clone(), move || {
            decide(&server.engine, &c, number, decision, &by, note, Timestamp::now())
        })
        .await;
    match decided {
        Some(Ok(_)) => Redirect::to(&format!("{}?done={}", case_path(&comune, number), f.decision)).into_response(),
        Some(Err(ReviewError::AlreadyDecided(..))) => {
            let notice = Notice::Problem("console-case-already-decided");
            match case_body(&s, &staff, &comune, &id, Some(&notice)) {
                Ok((title, body)) => {
                    (StatusCode::CONFLICT, Html(scripted_page(&s, lang, &title, &body))).into_response()
                }
                Err(e) => error_page(&s, lang, e),
            }
        }
        Some(Err(ReviewError::NoSuchCase(..))) => error_page(&s, lang, ConsoleError::NotFound),
        Some(Err(ReviewError::Store(e))) => error_page(&s, lang, ConsoleError::Store(e)),
        // The lane was dropped: the server is stopping.
        None => error_page(
            &s,
            lang,
            ConsoleError::Store(crate::storage::StoreError::Unavailable("the server is stopping")),
        ),
    }
}
