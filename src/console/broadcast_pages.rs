//! The console's broadcast pages (issue #5): the composer at `/staff/{comune}/broadcasts/new`
//! (category, a text per language, an image or video by URL, preview of exactly what a
//! citizen receives, schedule or send now), the list with progress, expected finish and
//! figures (refreshed while sending), and "resend to failed". Every form carries the
//! session's CSRF token; every action is audited.
//!
//! Handlers are thin: the work is `broadcast::ops` and `broadcast::compose`. Never shows a
//! citizen's number: figures only.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use fluent_bundle::FluentArgs;
use jiff::Timestamp;
use serde::Deserialize;

use super::pages::error_page;
use super::session::Staff;
use super::state::Console;
use super::{audit, ConsoleError};
use crate::broadcast::ops::{execute, Call};
use crate::broadcast::{compose, figures, Broadcast, BroadcastState, Figures};
use crate::web::esc;
use crate::web::html::page;

fn t(s: &Console, lang: &str, id: &str) -> String {
    esc(&s.engine.locales.format(lang, id, None).unwrap_or_default())
}

fn ta(s: &Console, lang: &str, id: &str, args: &[(&str, String)]) -> String {
    let mut a = FluentArgs::new();
    for (k, v) in args {
        a.set(*k, v.clone());
    }
    esc(&s.engine.locales.format(lang, id, Some(&a)).unwrap_or_default())
}

fn layout(s: &Console, lang: &str, title: &str, body: &str, script: &str) -> Response {
    let brand = s.engine.locales.format(lang, "console-brand", None).unwrap_or_default();
    Html(page(&s.engine.locales, lang, title, &brand, &[], body, script)).into_response()
}

/// The comune's flow, when the account may work on it.
fn allowed<'a>(s: &'a Console, staff: &Staff, comune: &str) -> Result<&'a crate::flow::Flow, ConsoleError> {
    let flow = s.engine.flows.get(comune).ok_or(ConsoleError::NotFound)?;
    if staff.account.may(comune) {
        Ok(flow)
    } else {
        Err(ConsoleError::Forbidden)
    }
}

fn local_time(at: Timestamp) -> String {
    let tz = jiff::tz::TimeZone::get("Europe/Rome").unwrap_or(jiff::tz::TimeZone::UTC);
    at.to_zoned(tz).strftime("%d/%m/%Y %H:%M").to_string()
}

/// When the queued entries should be through, at the configured pace (WhatsApp's).
pub fn expected_finish(f: &Figures, per_second: u32, now: Timestamp) -> Timestamp {
    let secs = f.queued.div_ceil(u64::from(per_second.max(1)));
    now + jiff::SignedDuration::from_secs(i64::try_from(secs).unwrap_or(i64::MAX / 2))
}

// ---- list ------------------------------------------------------------------------------

fn list_body(s: &Console, staff: &Staff, comune: &str) -> Result<(String, bool), ConsoleError> {
    let lang = staff.lang();
    allowed(s, staff, comune)?;
    let store = s.engine.store.as_ref();
    let mut rows = String::new();
    let mut active = false;
    let now = Timestamp::now();
    for (id, b) in store.broadcasts(Some(comune))?.into_iter().rev() {
        let f = figures(store, id, comune)?;
        active |= matches!(b.state, BroadcastState::Sending | BroadcastState::FanningOut);
        let progress = format!(
            "<progress max=\"{}\" value=\"{}\">{}/{}</progress>",
            f.recipients.max(1),
            f.done(),
            f.done(),
            f.recipients
        );
        let finish = match b.state {
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
        let resend = if f.failed > 0 && b.state != BroadcastState::Scheduled {
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
            "<tr><td>{id}</td><td>{cat}</td><td>{progress}<br>{finish}</td><td>{figs}</td><td>{resend}</td></tr>",
            cat = esc(b.category.as_deref().unwrap_or("—")),
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
    let table = if rows.is_empty() {
        format!("<p>{}</p>", t(s, lang, "console-broadcast-none"))
    } else {
        format!(
            "<table><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>{rows}</tbody></table>",
            t(s, lang, "console-broadcast-category"),
            t(s, lang, "console-broadcast-progress"),
            t(s, lang, "console-broadcast-figures-title"),
        )
    };
    Ok((
        format!(
            "<h1>{}</h1><p><a href=\"/staff/{c}/broadcasts/new\">{}</a> · <a href=\"/staff/{c}\">{}</a></p>{table}",
            t(s, lang, "console-broadcast-list-title"),
            t(s, lang, "console-broadcast-new"),
            t(s, lang, "console-back"),
            c = esc(comune),
        ),
        active,
    ))
}

/// `GET /staff/{comune}/broadcasts`: every broadcast with progress and figures; the page
/// reloads itself every 5 s while one is sending.
pub async fn list(State(s): State<Console>, staff: Staff, Path(comune): Path<String>) -> Response {
    let lang = staff.lang();
    let (s2, st, c) = (s.clone(), staff.clone(), comune.clone());
    let built = tokio::task::spawn_blocking(move || list_body(&s2, &st, &c)).await;
    match built {
        Ok(Ok((body, active))) => {
            let script = if active {
                "<script>setTimeout(function(){location.reload()},5000)</script>"
            } else {
                ""
            };
            let title = s
                .engine
                .locales
                .format(lang, "console-broadcast-list-title", None)
                .unwrap_or_default();
            layout(&s, lang, &title, &body, script)
        }
        Ok(Err(e)) => error_page(&s, lang, e),
        Err(_) => error_page(&s, lang, ConsoleError::NotFound),
    }
}

// ---- composer --------------------------------------------------------------------------

/// The composer's fields.
#[derive(Debug, Default, Deserialize)]
pub struct Compose {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    text_it: String,
    #[serde(default)]
    text_fr: String,
    #[serde(default)]
    media: String,
    /// `datetime-local` in Europe/Rome; empty: now.
    #[serde(default)]
    at: String,
    /// `preview` or `send`.
    #[serde(default)]
    action: String,
}

impl Compose {
    fn texts(&self, flow: &crate::flow::Flow) -> BTreeMap<String, String> {
        [("it", &self.text_it), ("fr", &self.text_fr)]
            .into_iter()
            .filter(|(l, t)| flow.offers(l) && !t.trim().is_empty())
            .map(|(l, t)| (l.to_string(), t.trim().to_string()))
            .collect()
    }
}

fn form(s: &Console, staff: &Staff, flow: &crate::flow::Flow, f: &Compose, extra: &str) -> String {
    let lang = staff.lang();
    let mut fields = String::new();
    if !flow.categories.is_empty() {
        let options: String = flow
            .categories
            .iter()
            .map(|c| {
                let label = s
                    .engine
                    .locales
                    .format(lang, &c.label, None)
                    .or_else(|| s.engine.locales.format(flow.default_language(), &c.label, None))
                    .unwrap_or_else(|| c.id.clone());
                let selected = if f.category == c.id { " selected" } else { "" };
                format!("<option value=\"{}\"{selected}>{}</option>", esc(&c.id), esc(&label))
            })
            .collect();
        fields.push_str(&format!(
            "<p><label for=\"category\">{}</label><select id=\"category\" name=\"category\">{options}</select></p>",
            t(s, lang, "console-broadcast-category")
        ));
    }
    for (code, value) in [("it", &f.text_it), ("fr", &f.text_fr)] {
        if flow.offers(code) {
            fields.push_str(&format!(
                "<p><label for=\"text_{code}\">{}</label><textarea id=\"text_{code}\" name=\"text_{code}\" rows=\"6\" maxlength=\"4000\">{}</textarea></p>",
                ta(s, lang, "console-broadcast-text", &[("language", code.to_string())]),
                esc(value)
            ));
        }
    }
    fields.push_str(&format!(
        "<p><label for=\"media\">{}</label><input id=\"media\" name=\"media\" type=\"url\" value=\"{}\"></p><p><label for=\"at\">{}</label><input id=\"at\" name=\"at\" type=\"datetime-local\" value=\"{}\"></p>",
        t(s, lang, "console-broadcast-media"),
        esc(&f.media),
        t(s, lang, "console-broadcast-at"),
        esc(&f.at),
    ));
    format!(
        "<h1>{title}</h1>{extra}<form method=\"post\" action=\"/staff/{c}/broadcasts/new\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{fields}<p><button type=\"submit\" name=\"action\" value=\"preview\">{preview}</button> <button type=\"submit\" name=\"action\" value=\"send\">{send}</button></p></form><p><a href=\"/staff/{c}/broadcasts\">{back}</a></p>",
        title = t(s, lang, "console-broadcast-new"),
        c = esc(&flow.id),
        csrf = esc(&staff.session.csrf),
        preview = t(s, lang, "console-broadcast-preview"),
        send = t(s, lang, "console-broadcast-send"),
        back = t(s, lang, "console-broadcast-list-title"),
    )
}

/// What the upload form hands back to the composer.
#[derive(Debug, Default, Deserialize)]
pub struct AfterUpload {
    /// The uploaded file's link, to prefill the media field.
    #[serde(default)]
    media: String,
    /// `missing`, `refused` or `unavailable` when the upload failed.
    #[serde(default)]
    upload: String,
}

/// `GET /staff/{comune}/broadcasts/new`: the empty composer (with the link of a file just
/// uploaded, or why the upload failed).
pub async fn new_form(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Query(q): Query<AfterUpload>,
) -> Response {
    let lang = staff.lang();
    match allowed(&s, &staff, &comune) {
        Ok(flow) => {
            let title = s
                .engine
                .locales
                .format(lang, "console-broadcast-new", None)
                .unwrap_or_default();
            let note = match (q.media.is_empty(), q.upload.as_str()) {
                (false, _) => format!(
                    "<p role=\"status\">{}</p>",
                    t(&s, lang, "console-broadcast-upload-done")
                ),
                (true, "missing" | "refused" | "unavailable") => format!(
                    "<p role=\"alert\">{}</p>",
                    t(&s, lang, &format!("console-broadcast-upload-{}", q.upload))
                ),
                _ => String::new(),
            };
            let f = Compose {
                media: q.media,
                ..Compose::default()
            };
            let body = format!("{}{}", form(&s, &staff, flow, &f, &note), upload_form(&s, &staff, flow));
            layout(&s, lang, &title, &body, "")
        }
        Err(e) => error_page(&s, lang, e),
    }
}

/// The composer's second form: a file from the operator's computer, kept by the server
/// and linked in the media field (`media_upload`).
fn upload_form(s: &Console, staff: &Staff, flow: &crate::flow::Flow) -> String {
    let lang = staff.lang();
    format!(
        "<h2 id=\"upload\">{title}</h2><form method=\"post\" enctype=\"multipart/form-data\" action=\"/staff/{c}/broadcasts/media\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><p><label for=\"file\">{label}</label><input id=\"file\" name=\"file\" type=\"file\" accept=\".jpg,.jpeg,.png,.mp4,.3gp\"></p><p><button type=\"submit\">{button}</button></p></form>",
        title = t(s, lang, "console-broadcast-upload"),
        c = esc(&flow.id),
        csrf = esc(&staff.session.csrf),
        label = t(s, lang, "console-broadcast-upload-file"),
        button = t(s, lang, "console-broadcast-upload-button"),
    )
}

/// The request the composer's fields make.
fn call_of(flow: &crate::flow::Flow, f: &Compose) -> Result<Call, String> {
    let media = if f.media.trim().is_empty() {
        None
    } else {
        Some(crate::broadcast::ops::media_of(f.media.trim()).map_err(|e| e.to_string())?)
    };
    let send_at = if f.at.trim().is_empty() {
        None
    } else {
        Some(crate::broadcast::ops::parse_time(f.at.trim()).map_err(|e| e.to_string())?)
    };
    Ok(Call::Send {
        comune: flow.id.clone(),
        category: (!f.category.is_empty()).then(|| f.category.clone()),
        texts: f.texts(flow),
        media,
        send_at,
    })
}

/// What each language's citizens will see, as a preview block.
fn preview(s: &Console, lang: &str, flow: &crate::flow::Flow, call: &Call) -> String {
    let Call::Send {
        category, texts, media, ..
    } = call
    else {
        return String::new();
    };
    let b = Broadcast {
        comune: flow.id.clone(),
        category: category.clone(),
        urgent: false,
        texts: texts.clone(),
        media: media.clone(),
        send_at: Timestamp::now(),
        created_at: Timestamp::now(),
        created_by: String::new(),
        state: BroadcastState::Scheduled,
        recipients: 0,
        started_at: None,
        finished_at: None,
    };
    let templates = s
        .config
        .comuni
        .get(&flow.id)
        .map(|c| c.broadcast_templates.clone())
        .unwrap_or_default();
    let mut out = format!(
        "<section aria-labelledby=\"pv\"><h2 id=\"pv\">{}</h2>",
        t(s, lang, "console-broadcast-preview")
    );
    for code in texts.keys() {
        let shown = compose::framed(flow, &s.engine.locales, &b, code).unwrap_or_default();
        let media_line = media
            .as_ref()
            .map(|m| format!("<p>{} {}</p>", esc(&m.kind), esc(&m.link)))
            .unwrap_or_default();
        let template = match templates.get(code) {
            Some(name) => ta(s, lang, "console-broadcast-template", &[("name", name.clone())]),
            None => t(s, lang, "console-broadcast-no-template"),
        };
        out.push_str(&format!(
            "<h3>{code}</h3>{media_line}<pre>{}</pre><p>{template}</p>",
            esc(&shown),
            code = esc(code)
        ));
    }
    out.push_str("</section>");
    out
}

/// `POST /staff/{comune}/broadcasts/new`: preview, or create (audited) and go to the list.
pub async fn new_post(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Form(f): Form<Compose>,
) -> Response {
    let lang = staff.lang();
    let flow = match allowed(&s, &staff, &comune).and_then(|fl| staff.check_csrf(&f.csrf).map(|()| fl)) {
        Ok(fl) => fl,
        Err(e) => return error_page(&s, lang, e),
    };
    let title = s
        .engine
        .locales
        .format(lang, "console-broadcast-new", None)
        .unwrap_or_default();
    let problem = |msg: String| format!("<p role=\"alert\">{}</p>", esc(&msg));
    let call = match call_of(flow, &f) {
        Ok(c) => c,
        Err(msg) => return layout(&s, lang, &title, &form(&s, &staff, flow, &f, &problem(msg)), ""),
    };
    if f.action != "send" {
        let shown = preview(&s, lang, flow, &call);
        return layout(&s, lang, &title, &form(&s, &staff, flow, &f, &shown), "");
    }
    let (s2, actor, c2) = (s.clone(), staff.account.email.clone(), call.clone());
    let done = tokio::task::spawn_blocking(move || execute(&s2.engine, &s2.config, c2, &actor, Timestamp::now())).await;
    match done {
        Ok(Ok(answer)) => {
            s.broadcast_wake.notify_one();
            let detail = format!("broadcast {} created from the console", answer["id"]);
            if let Err(e) = audit(
                s.engine.store.as_ref(),
                &staff.account.email,
                &comune,
                "broadcast-console",
                &detail,
            ) {
                return error_page(&s, lang, e.into());
            }
            (
                StatusCode::SEE_OTHER,
                [(LOCATION, format!("/staff/{comune}/broadcasts"))],
            )
                .into_response()
        }
        // The reason names languages, counts and configuration keys, never a citizen.
        Ok(Err(e)) => layout(
            &s,
            lang,
            &title,
            &form(&s, &staff, flow, &f, &problem(e.to_string())),
            "",
        ),
        Err(_) => error_page(&s, lang, ConsoleError::NotFound),
    }
}

/// A form carrying only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /staff/{comune}/broadcasts/{id}/resend`: queues the failed entries again.
pub async fn resend(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, id)): Path<(String, u64)>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let lang = staff.lang();
    if let Err(e) = allowed(&s, &staff, &comune).and_then(|_| staff.check_csrf(&f.csrf)) {
        return error_page(&s, lang, e);
    }
    let owned = s
        .engine
        .store
        .broadcast(id)
        .ok()
        .flatten()
        .is_some_and(|b| b.comune == comune);
    if !owned {
        return error_page(&s, lang, ConsoleError::NotFound);
    }
    let (s2, actor) = (s.clone(), staff.account.email.clone());
    let done = tokio::task::spawn_blocking(move || {
        execute(
            &s2.engine,
            &s2.config,
            Call::ResendFailed { id },
            &actor,
            Timestamp::now(),
        )
    })
    .await;
    match done {
        Ok(Ok(_)) => {
            s.broadcast_wake.notify_one();
            (
                StatusCode::SEE_OTHER,
                [(LOCATION, format!("/staff/{comune}/broadcasts"))],
            )
                .into_response()
        }
        _ => error_page(&s, lang, ConsoleError::NotFound),
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
