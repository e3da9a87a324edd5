//! `/staff/{comune}/faq`: the comune's FAQ as the bot answers it now, edited in the console
//! (issue 7). Operators of the comune (and administrators) change an answer, its question
//! variants and its link, add an entry in any language the flow offers (Italian and French
//! for Brusson), or delete one. Every change is stored (`StaffStore::put_faq_edit`), overlaid on
//! `faq/<comune>.toml`, swapped into the engine at once (no restart) and audited with the
//! entry's id and language.
//!
//! The page lists exactly what the bot answers with (`staff::faq::entries`), each entry
//! marked as coming from the file, edited or added in the console, with this month's use;
//! it also lists the month's questions handed to staff, masked (issue 19, `faq_review`).
//!
//! Owns the edit rules; the overlay itself is `service::live`. Must not rewrite the data
//! files, and never puts an answer's text in a log or the audit detail.

use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use jiff::Timestamp;
use serde::Deserialize;

use super::faq_review::{origin_note, rules_list, unanswered_list, usage_note, usage_table};
use super::pages::{comune_name, console_page, error_page, raw, t, ta, who};
use super::state::Console;
use super::{audit, ConsoleError, Staff};
use crate::faq::Entry;
use crate::flow::Flow;
use crate::service::live::overlay_faq;
use crate::service::runner::Engine;
use crate::staff::faq::{self as review, UNANSWERED_SHOWN};
use crate::storage::keys::month_of;
use crate::storage::FaqEdit;
use crate::web::esc;

/// Why an FAQ change was refused.
#[derive(Debug, thiserror::Error)]
pub enum FaqPageError {
    /// The entry would break the FAQ's rules (id shape, empty answer or questions).
    #[error("invalid entry: {0}")]
    Invalid(String),
    #[error("language not offered by this comune")]
    Language,
    #[error("no such entry")]
    NoEntry,
    #[error(transparent)]
    Console(#[from] ConsoleError),
}

impl From<crate::storage::StoreError> for FaqPageError {
    fn from(e: crate::storage::StoreError) -> Self {
        FaqPageError::Console(e.into())
    }
}

/// The comune's flow, if `staff` may edit it: operators their own comuni, administrators all.
pub(super) fn editable<'a>(s: &'a Console, staff: &Staff, comune: &str) -> Result<&'a Flow, ConsoleError> {
    if !staff.account.may(comune) {
        return Err(ConsoleError::Forbidden);
    }
    s.engine.flows.get(comune).ok_or(ConsoleError::NotFound)
}

/// What an operator typed: questions one a line; an empty link is none.
#[derive(Debug, Default, Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub lang: String,
    #[serde(default)]
    pub questions: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub link: String,
}

impl EntryForm {
    /// The entry the form describes. A saved entry is no longer a placeholder: the operator
    /// wrote its text.
    pub fn entry(&self) -> Entry {
        Entry {
            id: self.id.trim().to_string(),
            lang: self.lang.trim().to_string(),
            questions: self
                .questions
                .lines()
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .map(String::from)
                .collect(),
            answer: self.answer.trim().replace("\r\n", "\n"),
            link: Some(self.link.trim().to_string()).filter(|l| !l.is_empty()),
            placeholder: false,
        }
    }
}

/// Whether the current FAQ has this entry.
fn exists(engine: &Engine, comune: &str, id: &str, lang: &str) -> Result<bool, FaqPageError> {
    let live = engine.live()?;
    Ok(live
        .faq(comune)
        .is_some_and(|f| f.entries().iter().any(|e| e.id == id && e.lang == lang)))
}

/// Stores one change after checking the FAQ stays valid with it, swaps it in and audits it.
fn apply(engine: &Engine, comune: &str, edit: FaqEdit, actor: &str, action: &str) -> Result<(), FaqPageError> {
    let mut edits = engine.store.faq_edits(comune)?;
    edits.retain(|e| !(e.id == edit.id && e.lang == edit.lang));
    edits.push(edit.clone());
    overlay_faq(engine.faqs.get(comune), &edits).map_err(|e| FaqPageError::Invalid(e.to_string()))?;
    engine.store.put_faq_edit(comune, &edit)?;
    engine.refresh(comune)?;
    audit(
        engine.store.as_ref(),
        actor,
        comune,
        action,
        &format!("entry {} ({})", edit.id, edit.lang),
    )?;
    Ok(())
}

/// Saves an entry (edited or new); returns the audited action (`faq-edit`, `faq-add`).
pub fn save(engine: &Engine, flow: &Flow, entry: Entry, actor: &str) -> Result<&'static str, FaqPageError> {
    if !flow.languages.contains(&entry.lang) {
        return Err(FaqPageError::Language);
    }
    let action = if exists(engine, &flow.id, &entry.id, &entry.lang)? {
        "faq-edit"
    } else {
        "faq-add"
    };
    let edit = FaqEdit {
        id: entry.id.clone(),
        lang: entry.lang.clone(),
        entry: Some(entry),
        at: Timestamp::now(),
    };
    apply(engine, &flow.id, edit, actor, action)?;
    Ok(action)
}

/// Deletes an entry (from the file's data too: the deletion is what is stored).
pub fn delete(engine: &Engine, comune: &str, id: &str, lang: &str, actor: &str) -> Result<(), FaqPageError> {
    if !exists(engine, comune, id, lang)? {
        return Err(FaqPageError::NoEntry);
    }
    let edit = FaqEdit {
        id: id.to_string(),
        lang: lang.to_string(),
        entry: None,
        at: Timestamp::now(),
    };
    apply(engine, comune, edit, actor, "faq-delete")
}

/// The fields of one entry's form; `key` makes the element ids unique on the page. A new
/// entry's questions box starts with `prefill` (a question copied from the unanswered list).
fn fields(s: &Console, lang: &str, key: &str, e: Option<&Entry>, languages: &[String], prefill: &str) -> String {
    let (id, elang, questions, answer, link) = match e {
        Some(e) => (
            e.id.clone(),
            e.lang.clone(),
            e.questions.join("\n"),
            e.answer.clone(),
            e.link.clone().unwrap_or_default(),
        ),
        None => (
            String::new(),
            String::new(),
            prefill.to_string(),
            String::new(),
            String::new(),
        ),
    };
    let head = match e {
        Some(_) => format!(
            "<input type=\"hidden\" name=\"id\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">",
            esc(&id),
            esc(&elang)
        ),
        None => {
            let options: String = languages
                .iter()
                .map(|l| format!("<option value=\"{l}\">{l}</option>", l = esc(l)))
                .collect();
            format!(
                "<label for=\"{key}-id\">{}</label><input id=\"{key}-id\" name=\"id\" required pattern=\"[a-z0-9]+(-[a-z0-9]+)*\" aria-describedby=\"{key}-id-hint\"><p id=\"{key}-id-hint\">{}</p>\
<label for=\"{key}-lang\">{}</label><select id=\"{key}-lang\" name=\"lang\">{options}</select>",
                t(s, lang, "console-faq-id"),
                t(s, lang, "console-faq-id-hint"),
                t(s, lang, "console-faq-lang"),
            )
        }
    };
    format!(
        "{head}<label for=\"{key}-q\">{}</label><textarea id=\"{key}-q\" name=\"questions\" rows=\"4\" required aria-describedby=\"{key}-q-hint\">{}</textarea><p id=\"{key}-q-hint\">{}</p>\
<label for=\"{key}-a\">{}</label><textarea id=\"{key}-a\" name=\"answer\" rows=\"4\" required>{}</textarea>\
<label for=\"{key}-l\">{}</label><input id=\"{key}-l\" name=\"link\" type=\"url\" value=\"{}\">",
        t(s, lang, "console-faq-questions"),
        esc(&questions),
        t(s, lang, "console-faq-questions-hint"),
        t(s, lang, "console-faq-answer"),
        esc(&answer),
        t(s, lang, "console-faq-link"),
        esc(&link),
    )
}

/// The page; `ask` is the time (ns) of an unanswered question to start the new entry from.
fn body(
    s: &Console,
    staff: &Staff,
    comune: &str,
    problem: Option<&str>,
    ask: Option<i128>,
) -> Result<(String, String), FaqPageError> {
    let flow = editable(s, staff, comune)?;
    let lang = staff.lang();
    let name = comune_name(s, lang, comune);
    let title = raw(s, lang, "console-faq-title", &[("comune", name)]);
    let title_html = esc(&title);
    let csrf = esc(&staff.session.csrf);
    let c = esc(comune);
    let problem = problem
        .map(|p| format!("<p role=\"alert\"><strong>{p}</strong></p>"))
        .unwrap_or_default();
    let mut html = format!(
        "{who}{nav}<h1>{title_html}</h1>{problem}<p>{intro}</p>",
        who = who(s, staff),
        nav = super::nav::nav(s, staff),
        intro = t(s, lang, "console-faq-intro"),
    );
    // Exactly what the bot answers with: the file's entries with the console's edits.
    let listed = review::entries(&s.engine, comune)?;
    let month = month_of(Timestamp::now());
    let usage = review::usage(s.engine.store.as_ref(), comune, &month)?;
    let unanswered = review::unanswered(s.engine.store.as_ref(), comune, &month, UNANSWERED_SHOWN)?;
    if listed.is_empty() {
        html.push_str(&format!("<p>{}</p>", t(s, lang, "console-faq-none")));
    }
    html.push_str(&usage_table(s, lang, &listed, &usage, &month));
    html.push_str(&unanswered_list(s, lang, comune, &unanswered, &month));
    for (i, l) in listed.iter().enumerate() {
        let e = &l.entry;
        let key = format!("e{i}");
        let origin = origin_note(s, lang, l);
        let used = usage_note(s, lang, usage.get(&e.id).copied().unwrap_or_default());
        let placeholder = if e.placeholder {
            format!("<p><strong>{}</strong></p>", t(s, lang, "console-faq-placeholder"))
        } else {
            String::new()
        };
        html.push_str(&format!(
            "<section aria-labelledby=\"{key}-h\"><h2 id=\"{key}-h\">{id} ({elang})</h2>{origin}{used}{placeholder}\
<form method=\"post\" action=\"/staff/{c}/faq/save\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{fields}<p><button type=\"submit\">{save}</button></p></form>\
<form method=\"post\" action=\"/staff/{c}/faq/delete\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"id\" value=\"{id}\"><input type=\"hidden\" name=\"lang\" value=\"{elang}\">\
<p><button type=\"submit\">{delete}</button></p></form></section>",
            id = esc(&e.id),
            elang = esc(&e.lang),
            fields = fields(s, lang, &key, Some(e), &flow.languages, ""),
            save = t(s, lang, "console-faq-save"),
            delete = ta(s, lang, "console-faq-delete", &[("id", e.id.clone())]),
        ));
    }
    html.push_str(&rules_list(s, lang, &review::out_of_scope(&s.engine, comune)?));
    let asked = ask.and_then(|n| unanswered.iter().find(|u| u.at.as_nanosecond() == n));
    let prefilled = asked
        .map(|_| {
            format!(
                "<p role=\"status\">{}</p>",
                t(s, lang, "console-faq-unanswered-prefilled")
            )
        })
        .unwrap_or_default();
    html.push_str(&format!(
        "<section aria-labelledby=\"new-h\"><h2 id=\"new-h\">{add}</h2>{prefilled}\
<form method=\"post\" action=\"/staff/{c}/faq/save\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{fields}<p><button type=\"submit\">{add}</button></p></form></section>",
        add = t(s, lang, "console-faq-add"),
        fields = fields(s, lang, "new", None, &flow.languages, asked.map_or("", |u| u.text.as_str())),
    ));
    Ok((title, html))
}

fn render(
    s: &Console,
    staff: &Staff,
    comune: &str,
    status: StatusCode,
    problem: Option<&str>,
    ask: Option<i128>,
) -> Response {
    let lang = staff.lang();
    match body(s, staff, comune, problem, ask) {
        Ok((title, html)) => (status, Html(console_page(s, lang, &title, &[], &html))).into_response(),
        Err(FaqPageError::Console(e)) => error_page(s, lang, e),
        Err(e) => error_page(
            s,
            lang,
            ConsoleError::Store(crate::storage::StoreError::Task(e.to_string())),
        ),
    }
}

/// The page's query: `ask`, an unanswered question's time to start the new entry from.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    ask: Option<String>,
}

/// `GET /staff/{comune}/faq`: the month's figures and unanswered questions, every entry
/// with its origin and its edit and delete forms, and the add form.
pub async fn page(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let ask = q.ask.and_then(|a| a.parse().ok());
    render(&s, &staff, &comune, StatusCode::OK, None, ask)
}

/// After a change: back to the list (303), or the list with the reason (400).
fn answer(s: &Console, staff: &Staff, comune: &str, done: Result<(), FaqPageError>) -> Response {
    let lang = staff.lang();
    match done {
        Ok(()) => (StatusCode::SEE_OTHER, [(LOCATION, format!("/staff/{comune}/faq"))]).into_response(),
        Err(FaqPageError::Console(e)) => error_page(s, lang, e),
        Err(e) => {
            let id = match e {
                FaqPageError::Language => "console-faq-bad-language",
                FaqPageError::NoEntry => "console-faq-no-entry",
                _ => "console-faq-invalid",
            };
            let problem = t(s, lang, id);
            render(s, staff, comune, StatusCode::BAD_REQUEST, Some(&problem), None)
        }
    }
}

/// `POST /staff/{comune}/faq/save`: edits or adds an entry (CSRF checked).
pub async fn save_post(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Form(f): Form<EntryForm>,
) -> Response {
    let done = staff
        .check_csrf(&f.csrf)
        .and_then(|()| editable(&s, &staff, &comune))
        .map_err(FaqPageError::from)
        .and_then(|flow| save(&s.engine, flow, f.entry(), &staff.account.email).map(|_| ()));
    answer(&s, &staff, &comune, done)
}

/// `POST /staff/{comune}/faq/delete`: deletes an entry (CSRF checked).
pub async fn delete_post(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Form(f): Form<EntryForm>,
) -> Response {
    let done = staff
        .check_csrf(&f.csrf)
        .and_then(|()| editable(&s, &staff, &comune))
        .map_err(FaqPageError::from)
        .and_then(|_| delete(&s.engine, &comune, f.id.trim(), f.lang.trim(), &staff.account.email));
    answer(&s, &staff, &comune, done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_a_trimmed_entry() {
        let f = EntryForm {
            id: " orari ".into(),
            lang: "it".into(),
            questions: "quando siete aperti\r\n\r\n  orario \n".into(),
            answer: " Lun-ven\r\n9-13 ".into(),
            link: "  ".into(),
            ..Default::default()
        };
        let e = f.entry();
        assert_eq!(e.id, "orari");
        assert_eq!(e.questions, ["quando siete aperti", "orario"]);
        assert_eq!(e.answer, "Lun-ven\n9-13");
        assert_eq!((e.link, e.placeholder), (None, false));
    }
}
