//! The citizen page: the record (fields, language, dates), consents, subscriptions, the
//! conversation with the desk, and the block / unblock forms (a reason is required; both
//! audited by `staff::blocking`).
//!
//! Thin handlers over `desk`; the number is masked unless the operator asks (audited).

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::desk::{self, DeskError};
use super::pages::{error_page, local_time, t, ta, who};
use super::render::{danger_form, desk_error_page, display_name, form, line_html, notice_html, scripted_page, Notice};
use super::session::Staff;
use super::state::Console;
use crate::dialogue::{Citizen, State as CitizenState};
use crate::staff::inbox::mask;
use crate::storage::CitizenKey;
use crate::web::esc;

/// A localized text or, when the id is unknown, the fallback as is (escaped).
fn t_or(s: &Console, lang: &str, id: &str, fallback: &str) -> String {
    esc(&s
        .engine
        .locales
        .format(lang, id, None)
        .unwrap_or_else(|| fallback.to_string()))
}

/// The reason of a block: a moderation rule's description, or the staff's own words.
fn block_reason(s: &Console, lang: &str, reason: &str) -> String {
    t_or(s, lang, &format!("rule-{reason}"), reason)
}

fn record_html(s: &Console, staff: &Staff, key: &CitizenKey, c: &Citizen, number: &str) -> String {
    let lang = staff.lang();
    let date = |at: Option<jiff::Timestamp>| at.map(local_time).unwrap_or_else(|| "—".into());
    let mut out = format!(
        "<dl class=\"facts\"><dt>{}</dt><dd>{number}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>",
        t(s, lang, "console-number"),
        t(s, lang, "console-channel"),
        esc(&key.channel),
        t(s, lang, "console-citizen-status"),
        t(s, lang, &format!("status-{}", c.status())),
    );
    // A WhatsApp username is shown (it is not an identity: it can change); the other
    // identity is masked like the number.
    if let Some(u) = &c.whatsapp.username {
        out.push_str(&format!(
            "<dt>{}</dt><dd>@{}</dd>",
            t(s, lang, "console-username"),
            esc(u)
        ));
    }
    if let CitizenState::Blocked { reason } = &c.state {
        out.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>",
            t(s, lang, "console-block-reason-shown"),
            block_reason(s, lang, reason)
        ));
    }
    for (k, v) in &c.fields {
        let id = format!("console-field-{}", k.replace('_', "-"));
        out.push_str(&format!("<dt>{}</dt><dd>{}</dd>", t_or(s, lang, &id, k), esc(v)));
    }
    let rows = [
        ("console-language", c.language.clone().unwrap_or_else(|| "—".into())),
        ("console-first-seen", local_time(c.first_seen)),
        ("console-last-inbound", local_time(c.last_inbound)),
        ("console-subscribed-at", date(c.subscribed_at)),
        ("console-unsubscribed-at", date(c.unsubscribed_at)),
    ];
    for (id, v) in rows {
        out.push_str(&format!("<dt>{}</dt><dd>{}</dd>", t(s, lang, id), esc(&v)));
    }
    out.push_str("</dl>");
    out
}

fn consents_html(s: &Console, lang: &str, c: &Citizen) -> String {
    if c.consents.is_empty() {
        return format!("<p>{}</p>", t(s, lang, "console-consents-none"));
    }
    let items: String = c
        .consents
        .iter()
        .map(|k| {
            format!(
                "<li>{}</li>",
                ta(
                    s,
                    lang,
                    "console-consent",
                    &[
                        ("kind", k.kind.clone()),
                        ("version", k.notice_version.clone()),
                        ("at", local_time(k.at)),
                        ("how", k.how.clone()),
                    ]
                )
            )
        })
        .collect();
    format!("<ul>{items}</ul>")
}

fn subscriptions_html(s: &Console, lang: &str, comune: &str, c: &Citizen) -> String {
    if !matches!(c.state, CitizenState::Subscribed) {
        return format!("<p>{}</p>", t(s, lang, "console-subscription-none"));
    }
    let flow = s.engine.flows.get(comune);
    if c.categories.is_empty() {
        return format!("<p>{}</p>", t(s, lang, "console-subscription-single"));
    }
    let items: String = c
        .categories
        .iter()
        .map(|id| {
            let label =
                flow.and_then(|f| f.categories.iter().find(|k| &k.id == id))
                    .and_then(|k| {
                        s.engine.locales.format(lang, &k.label, None).or_else(|| {
                            flow.and_then(|f| s.engine.locales.format(f.default_language(), &k.label, None))
                        })
                    })
                    .unwrap_or_else(|| id.clone());
            format!("<li>{}</li>", esc(&label))
        })
        .collect();
    format!("<ul>{items}</ul>")
}

fn citizen_body(
    s: &Console,
    staff: &Staff,
    comune: &str,
    r: &str,
    show_number: bool,
    notice: Option<&Notice>,
) -> Result<(String, String), DeskError> {
    desk::allowed(s, staff, comune)?;
    let (key, c) = desk::citizen(s, comune, r)?;
    let lang = staff.lang();
    let masked = mask(&key.citizen);
    let name = display_name(&c.fields);
    let title = {
        let mut a = fluent_bundle::FluentArgs::new();
        a.set("who", name.unwrap_or_else(|| masked.clone()));
        s.engine
            .locales
            .format(lang, "console-citizen-title", Some(&a))
            .unwrap_or_default()
    };
    let number = if show_number {
        esc(&desk::reveal(s, staff, &key)?)
    } else {
        format!(
            "{} <a href=\"?number=show\">{}</a>",
            esc(&masked),
            t(s, lang, "console-show-number")
        )
    };
    let conversation = match s.engine.store.conversation(&key)? {
        Some(conv) => {
            let lines: String = conv.lines.iter().map(|l| line_html(s, lang, l, None)).collect();
            format!(
                "<p><a href=\"/staff/{}/inbox/{}\">{}</a></p><ol class=\"log\">{lines}</ol>",
                esc(comune),
                esc(r),
                t(s, lang, "console-conversation-link")
            )
        }
        None => format!("<p>{}</p>", t(s, lang, "console-conversation-none")),
    };
    let base = format!("/staff/{comune}/citizens/{r}");
    let blocking = if matches!(c.state, CitizenState::Blocked { .. }) {
        form(
            staff,
            &format!("{base}/unblock"),
            &format!(
                "<label for=\"reason\">{}</label><input id=\"reason\" name=\"reason\" type=\"text\" maxlength=\"500\" required>",
                t(s, lang, "console-unblock-reason")
            ),
            &t(s, lang, "console-unblock"),
        )
    } else {
        format!(
            "<p>{}</p>{}",
            t(s, lang, "console-block-explained"),
            danger_form(
                staff,
                &format!("{base}/block"),
                &format!(
                    "<label for=\"reason\">{}</label><input id=\"reason\" name=\"reason\" type=\"text\" maxlength=\"500\" required>",
                    t(s, lang, "console-block-reason")
                ),
                &t(s, lang, "console-block"),
            )
        )
    };
    let body = format!(
        "{who}<p><a href=\"/staff/{c}/inbox\">{back}</a></p><h1>{h1}</h1>{notice}\
<h2>{l_record}</h2>{record}<h2>{l_consents}</h2>{consents}<h2>{l_subs}</h2>{subs}\
<h2>{l_conv}</h2>{conversation}<h2>{l_block}</h2>{blocking}",
        who = who(s, staff),
        c = esc(comune),
        back = t(s, lang, "console-back-to-inbox"),
        h1 = esc(&title),
        notice = notice_html(s, lang, notice),
        l_record = t(s, lang, "console-record"),
        record = record_html(s, staff, &key, &c, &number),
        l_consents = t(s, lang, "console-consents"),
        consents = consents_html(s, lang, &c),
        l_subs = t(s, lang, "console-subscriptions"),
        subs = subscriptions_html(s, lang, comune, &c),
        l_conv = t(s, lang, "console-conversation"),
        l_block = t(s, lang, "console-blocking"),
    );
    Ok((title, body))
}

#[derive(Debug, Deserialize)]
pub struct CitizenQuery {
    number: Option<String>,
    done: Option<String>,
}

/// `GET /staff/{comune}/citizens/{ref}`: the citizen's record; `?number=show` shows the
/// full number (audited).
pub async fn citizen_page(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, r)): Path<(String, String)>,
    Query(q): Query<CitizenQuery>,
) -> Response {
    let lang = staff.lang();
    let done = q.done.filter(|d| d == "block" || d == "unblock").map(Notice::Done);
    let show = q.number.as_deref() == Some("show");
    match citizen_body(&s, &staff, &comune, &r, show, done.as_ref()) {
        Ok((title, body)) => Html(scripted_page(&s, lang, &title, &body)).into_response(),
        Err(e) => desk_error_page(&s, lang, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct BlockForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /staff/{comune}/citizens/{ref}/{block|unblock}`: with a reason, then back to the
/// citizen page; a refusal (no reason, already blocked) shows the page with the reason.
pub async fn block_post(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, r, action)): Path<(String, String, String)>,
    Form(f): Form<BlockForm>,
) -> Response {
    let lang = staff.lang();
    if let Err(e) = staff.check_csrf(&f.csrf) {
        return error_page(&s, lang, e);
    }
    let block = match action.as_str() {
        "block" => true,
        "unblock" => false,
        _ => return error_page(&s, lang, super::ConsoleError::NotFound),
    };
    match desk::set_blocked(&s, &staff, &comune, &r, block, f.reason).await {
        Ok(()) => Redirect::to(&format!("/staff/{comune}/citizens/{r}?done={action}")).into_response(),
        Err(e @ DeskError::Block(_)) if e.status().is_client_error() && e.status().as_u16() != 404 => {
            let status = e.status();
            let notice = Notice::Problem(e.message_id());
            match citizen_body(&s, &staff, &comune, &r, false, Some(&notice)) {
                Ok((title, body)) => (status, Html(scripted_page(&s, lang, &title, &body))).into_response(),
                Err(e) => desk_error_page(&s, lang, e),
            }
        }
        Err(e) => desk_error_page(&s, lang, e),
    }
}

/// The form that finds a citizen by number (on the inbox page).
pub(crate) fn find_form(s: &Console, staff: &Staff, comune: &str) -> String {
    let lang = staff.lang();
    format!(
        "<section aria-labelledby=\"find\"><h2 id=\"find\">{}</h2>{}</section>",
        t(s, lang, "console-find-title"),
        form(
            staff,
            &format!("/staff/{comune}/citizens"),
            &format!(
                "<label for=\"number\">{}</label><input id=\"number\" name=\"number\" type=\"text\" autocomplete=\"off\" spellcheck=\"false\" required>",
                t(s, lang, "console-find-number")
            ),
            &t(s, lang, "console-find-submit"),
        )
    )
}

#[derive(Debug, Deserialize)]
pub struct FindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    number: String,
}

/// `POST /staff/{comune}/citizens`: finds a citizen by number (posted, so that the number
/// stays out of addresses) and goes to their page; none found: 404 with the form again.
pub async fn find_post(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Form(f): Form<FindForm>,
) -> Response {
    let lang = staff.lang();
    if let Err(e) = staff.check_csrf(&f.csrf) {
        return error_page(&s, lang, e);
    }
    match desk::find(&s, &staff, &comune, &f.number) {
        Ok(Some(r)) => Redirect::to(&format!("/staff/{comune}/citizens/{r}")).into_response(),
        Ok(None) => {
            let title = s
                .engine
                .locales
                .format(lang, "console-find-title", None)
                .unwrap_or_default();
            let body = format!(
                "{}<p><a href=\"/staff/{c}/inbox\">{back}</a></p><h1>{h1}</h1><p role=\"alert\"><strong>{none}</strong></p>{form}",
                who(&s, &staff),
                c = esc(&comune),
                back = t(&s, lang, "console-back-to-inbox"),
                h1 = esc(&title),
                none = t(&s, lang, "console-find-none"),
                form = form(
                    &staff,
                    &format!("/staff/{comune}/citizens"),
                    &format!(
                        "<label for=\"number\">{}</label><input id=\"number\" name=\"number\" type=\"text\" autocomplete=\"off\" spellcheck=\"false\" required>",
                        t(&s, lang, "console-find-number")
                    ),
                    &t(&s, lang, "console-find-submit"),
                ),
            );
            (
                axum::http::StatusCode::NOT_FOUND,
                Html(scripted_page(&s, lang, &title, &body)),
            )
                .into_response()
        }
        Err(e) => desk_error_page(&s, lang, e),
    }
}

/// A link to a citizen's page when their record exists (the moderation list uses it).
pub(crate) fn citizen_link(s: &Console, lang: &str, key: &CitizenKey) -> String {
    match s.engine.store.citizen(key) {
        Ok(Some(_)) => format!(
            " <a href=\"/staff/{}/citizens/{}\">{}</a>",
            esc(&key.comune),
            desk::reference(key),
            t(s, lang, "console-citizen-link")
        ),
        _ => String::new(),
    }
}
