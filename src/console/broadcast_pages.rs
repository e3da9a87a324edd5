//! The console's broadcast composer (issue #5) at `/staff/{comune}/broadcasts/new`:
//! category, a text per language, an image or video by URL, a preview of exactly what a
//! citizen receives and of how many will receive it (per language and channel), schedule or
//! send now; a send to nobody is refused and a large one asks for confirmation. "Resend to
//! failed". Every form carries the session's CSRF token; every action is audited. The list
//! is `broadcast_list`.
//!
//! Handlers are thin: the work is `broadcast::ops` and `broadcast::compose`. Never shows a
//! citizen's number: figures only.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use jiff::Timestamp;
use serde::Deserialize;

use super::pages::{error_page, t, ta};
use super::session::Staff;
use super::state::Console;
use super::{audit, ConsoleError};
use crate::broadcast::ops::{execute, Call};
use crate::broadcast::plan::{audience, Audience};
use crate::broadcast::{compose, Broadcast, BroadcastState};
use crate::web::esc;
use crate::web::html::page;

fn layout(s: &Console, lang: &str, title: &str, body: &str, script: &str) -> Response {
    let brand = s.engine.locales.format(lang, "console-brand", None).unwrap_or_default();
    Html(page(&s.engine.locales, lang, title, &brand, &[], body, script)).into_response()
}

/// The comune's flow, when the account may work on it.
pub(super) fn allowed<'a>(s: &'a Console, staff: &Staff, comune: &str) -> Result<&'a crate::flow::Flow, ConsoleError> {
    let flow = s.engine.flows.get(comune).ok_or(ConsoleError::NotFound)?;
    if staff.account.may(comune) {
        Ok(flow)
    } else {
        Err(ConsoleError::Forbidden)
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
    /// The number of recipients the operator confirmed (a large send asks for it).
    #[serde(default)]
    confirm: String,
}

/// Above this many recipients a send needs the operator to confirm the number.
pub const CONFIRM_ABOVE: u64 = 100;

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
    form_with(s, staff, flow, f, extra, "")
}

/// The composer with `inside` just before its buttons (the confirmation of a large send).
fn form_with(s: &Console, staff: &Staff, flow: &crate::flow::Flow, f: &Compose, extra: &str, inside: &str) -> String {
    let lang = staff.lang();
    let mut fields = String::new();
    if !flow.categories.is_empty() {
        let options: String = super::pages::categories(s, lang, flow)
            .into_iter()
            .map(|(id, label)| {
                let selected = if f.category == id { " selected" } else { "" };
                format!("<option value=\"{}\"{selected}>{}</option>", esc(&id), esc(&label))
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
        "<h1>{title}</h1>{extra}<form method=\"post\" action=\"/staff/{c}/broadcasts/new\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{fields}{inside}<p><button type=\"submit\" name=\"action\" value=\"preview\">{preview}</button> <button type=\"submit\" name=\"action\" value=\"send\">{send}</button></p></form><p><a href=\"/staff/{c}/broadcasts\">{back}</a></p>",
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
fn preview(s: &Console, lang: &str, flow: &crate::flow::Flow, call: &Call, audience: &Audience) -> String {
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
        "<section aria-labelledby=\"pv\"><h2 id=\"pv\">{}</h2>{}",
        t(s, lang, "console-broadcast-preview"),
        audience_html(s, lang, audience)
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
        // As each app will show it: WhatsApp formats *bold*, _italic_ and ~struck~ text;
        // the Telegram bot sends plain text, so the marks stay as typed.
        let bubbles: String = audience
            .by_channel
            .keys()
            .filter_map(|channel| {
                let body = match channel.as_str() {
                    "whatsapp" => whatsapp_html(&shown),
                    "telegram" => esc(&shown),
                    _ => return None,
                };
                Some(format!(
                    "<figure class=\"bubble {channel}\"><figcaption>{}</figcaption><div class=\"pre\">{body}</div></figure>",
                    t(s, lang, &format!("console-channel-{channel}")),
                    channel = esc(channel),
                ))
            })
            .collect();
        let bubbles = if bubbles.is_empty() {
            format!("<div class=\"pre\">{}</div>", esc(&shown))
        } else {
            format!("<div class=\"bubbles\">{bubbles}</div>")
        };
        out.push_str(&format!(
            "<h3>{language}</h3>{media_line}{bubbles}<p>{template}</p>",
            language = t(s, lang, &format!("console-language-{code}")),
        ));
    }
    out.push_str("</section>");
    out
}

/// Text as WhatsApp shows it, escaped: `*bold*`, `_italic_`, `~struck~` and
/// ```` ```monospace``` ````, each only when the marks hug a word as WhatsApp requires.
pub fn whatsapp_html(text: &str) -> String {
    use std::sync::OnceLock;
    static MARKS: OnceLock<[(regex::Regex, &str); 4]> = OnceLock::new();
    let marks = MARKS.get_or_init(|| {
        let around = |m: &str| {
            regex::Regex::new(&format!(
                r"(^|[^\w{m}])\{m}([^\s{m}](?:[^{m}\n]*[^\s{m}])?)\{m}($|[^\w{m}])"
            ))
            .expect("a valid pattern")
        };
        [
            (regex::Regex::new(r"```([^`]+)```").expect("a valid pattern"), "code"),
            (around("*"), "strong"),
            (around("_"), "em"),
            (around("~"), "s"),
        ]
    });
    let mut html = esc(text);
    for (pattern, tag) in marks {
        html = if *tag == "code" {
            pattern.replace_all(&html, "<code>$1</code>").into_owned()
        } else {
            pattern
                .replace_all(&html, format!("${{1}}<{tag}>${{2}}</{tag}>${{3}}").as_str())
                .into_owned()
        };
    }
    html
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
    let audience = match counted(&s, flow, &call).await {
        Ok(a) => a,
        Err(e) => return error_page(&s, lang, e),
    };
    let shown = preview(&s, lang, flow, &call, &audience);
    let confirm = confirmation(&s, lang, &audience);
    // Scheduled for later, nobody now is a warning: the audience is counted again then.
    let scheduled = matches!(&call, Call::Send { send_at: Some(at), .. } if *at > Timestamp::now());
    let warning = if audience.total == 0 && scheduled {
        format!("<p role=\"status\">{}</p>", t(&s, lang, "console-broadcast-nobody-yet"))
    } else {
        String::new()
    };
    let refusal = if audience.total == 0 && !scheduled {
        Some(t(&s, lang, "console-broadcast-nobody"))
    } else if f.action == "send" && !confirm.is_empty() && f.confirm != audience.total.to_string() {
        Some(ta(
            &s,
            lang,
            "console-broadcast-confirm-needed",
            &[("count", audience.total.to_string())],
        ))
    } else {
        None
    };
    if f.action != "send" || refusal.is_some() {
        let alert = refusal
            .map(|r| format!("<p role=\"alert\"><strong>{r}</strong></p>"))
            .unwrap_or_default();
        let page = form_with(&s, &staff, flow, &f, &format!("{alert}{warning}{shown}"), &confirm);
        return layout(&s, lang, &title, &page, "");
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

/// Who the broadcast would reach now, counted off the async workers.
async fn counted(s: &Console, flow: &crate::flow::Flow, call: &Call) -> Result<Audience, ConsoleError> {
    let Call::Send { category, send_at, .. } = call else {
        return Ok(Audience::default());
    };
    let (engine, flow, category) = (s.engine.clone(), flow.clone(), category.clone());
    let at = send_at.unwrap_or_else(Timestamp::now);
    tokio::task::spawn_blocking(move || audience(engine.store.as_ref(), &flow, category.as_deref(), at))
        .await
        .map_err(|_| ConsoleError::NotFound)?
        .map_err(ConsoleError::from)
}

/// How many will receive it, in all and per language and channel.
fn audience_html(s: &Console, lang: &str, a: &Audience) -> String {
    let mut out = format!(
        "<p><strong>{}</strong></p>",
        ta(s, lang, "console-broadcast-audience", &[("count", a.total.to_string())])
    );
    if a.total == 0 {
        return out;
    }
    let item = |label: String, n: u64| format!("<li>{}: {n}</li>", esc(&label));
    let languages: String = a
        .by_language
        .iter()
        .map(|(l, n)| item(super::pages::raw(s, lang, &format!("console-language-{l}"), &[]), *n))
        .collect();
    let channels: String = a
        .by_channel
        .iter()
        .map(|(c, n)| item(super::pages::raw(s, lang, &format!("console-channel-{c}"), &[]), *n))
        .collect();
    out.push_str(&format!(
        "<div class=\"columns\"><div><h3 class=\"h6\">{}</h3><ul>{languages}</ul></div><div><h3 class=\"h6\">{}</h3><ul>{channels}</ul></div></div>",
        t(s, lang, "console-broadcast-by-language"),
        t(s, lang, "console-broadcast-by-channel"),
    ));
    out
}

/// The confirmation a large send asks for (empty for a small one).
fn confirmation(s: &Console, lang: &str, a: &Audience) -> String {
    if a.total <= CONFIRM_ABOVE {
        return String::new();
    }
    format!(
        "<label class=\"check\"><input type=\"checkbox\" name=\"confirm\" value=\"{n}\"> {}</label>",
        ta(s, lang, "console-broadcast-confirm", &[("count", a.total.to_string())]),
        n = a.total
    )
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
    use super::whatsapp_html;

    #[test]
    fn whatsapp_marks_format_only_when_they_hug_a_word() {
        assert_eq!(whatsapp_html("*Chiusa* la strada"), "<strong>Chiusa</strong> la strada");
        assert_eq!(
            whatsapp_html("dalle _8_ alle ~10~."),
            "dalle <em>8</em> alle <s>10</s>."
        );
        assert_eq!(whatsapp_html("codice ```A-12```"), "codice <code>A-12</code>");
        assert_eq!(whatsapp_html("2 * 3 * 4"), "2 * 3 * 4");
        assert_eq!(whatsapp_html("nome_file_lungo"), "nome_file_lungo");
        assert_eq!(whatsapp_html("*<b>*"), "<strong>&lt;b&gt;</strong>");
    }
}
