//! `/staff/{comune}/closures`: the one-off days the office is shut (issue 7). Operators of
//! the comune (and administrators) add a day with a note, or remove one (a closure of the
//! flow file too). Stored (`StaffStore::put_closure`), overlaid on the flow's hours and swapped
//! into the engine at once: deadlines and "the office reopens on…" follow without a
//! restart. Audited with the date only.
//!
//! Owns the closure rules; the overlay is `service::live`. Must not rewrite flow files.

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use jiff::civil::Date;
use jiff::Timestamp;
use serde::Deserialize;

use super::faq_pages::editable;
use super::pages::{comune_name, console_page, error_page, raw, t, ta, who};
use super::state::Console;
use super::{audit, ConsoleError, Staff};
use crate::service::runner::Engine;
use crate::storage::ClosureEdit;
use crate::web::esc;

/// The longest note kept.
pub const MAX_NOTE: usize = 200;

/// Why a closure change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClosureError {
    #[error("not a date (YYYY-MM-DD)")]
    BadDate,
    #[error("this comune has no office hours")]
    NoHours,
    #[error("the day is not a closure")]
    NotClosed,
    #[error(transparent)]
    Console(#[from] ConsoleError),
}

impl From<crate::storage::StoreError> for ClosureError {
    fn from(e: crate::storage::StoreError) -> Self {
        ClosureError::Console(e.into())
    }
}

/// A closure as listed: the day, the operator's note, whether it comes from the flow file.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub date: Date,
    pub note: String,
    pub from_file: bool,
}

/// The comune's closures now in force, by date.
pub fn list(engine: &Engine, comune: &str) -> Result<Option<Vec<Listed>>, ClosureError> {
    let live = engine.live()?;
    let Some(hours) = live.flow(comune).and_then(|f| f.hours.as_ref()) else {
        return Ok(None);
    };
    let edits = engine.store.closures(comune)?;
    let file: Vec<Date> = engine
        .flows
        .get(comune)
        .and_then(|f| f.hours.as_ref())
        .map(|h| h.closures().collect())
        .unwrap_or_default();
    Ok(Some(
        hours
            .closures()
            .map(|date| Listed {
                date,
                note: edits
                    .iter()
                    .find(|e| e.date == date.to_string() && !e.removed)
                    .map(|e| e.note.clone())
                    .unwrap_or_default(),
                from_file: file.contains(&date),
            })
            .collect(),
    ))
}

fn parse_date(raw: &str) -> Result<Date, ClosureError> {
    raw.trim().parse::<Date>().map_err(|_| ClosureError::BadDate)
}

fn decide(engine: &Engine, comune: &str, edit: ClosureEdit, actor: &str, action: &str) -> Result<(), ClosureError> {
    engine.store.put_closure(comune, &edit)?;
    engine.refresh(comune)?;
    audit(engine.store.as_ref(), actor, comune, action, &edit.date)?;
    Ok(())
}

/// Shuts the office on `date` (`YYYY-MM-DD`), with a note for colleagues.
pub fn add(engine: &Engine, comune: &str, date: &str, note: &str, actor: &str) -> Result<Date, ClosureError> {
    let day = parse_date(date)?;
    if list(engine, comune)?.is_none() {
        return Err(ClosureError::NoHours);
    }
    let note: String = note.trim().chars().take(MAX_NOTE).collect();
    let edit = ClosureEdit {
        date: day.to_string(),
        note,
        removed: false,
        at: Timestamp::now(),
    };
    decide(engine, comune, edit, actor, "closure-add")?;
    Ok(day)
}

/// Opens the office on `date` after all.
pub fn remove(engine: &Engine, comune: &str, date: &str, actor: &str) -> Result<(), ClosureError> {
    let day = parse_date(date)?;
    let listed = list(engine, comune)?.ok_or(ClosureError::NoHours)?;
    if !listed.iter().any(|l| l.date == day) {
        return Err(ClosureError::NotClosed);
    }
    let edit = ClosureEdit {
        date: day.to_string(),
        note: String::new(),
        removed: true,
        at: Timestamp::now(),
    };
    decide(engine, comune, edit, actor, "closure-remove")
}

fn body(s: &Console, staff: &Staff, comune: &str, problem: Option<&str>) -> Result<(String, String), ClosureError> {
    editable(s, staff, comune)?;
    let lang = staff.lang();
    let title = raw(
        s,
        lang,
        "console-closures-title",
        &[("comune", comune_name(s, lang, comune))],
    );
    let title_html = esc(&title);
    let csrf = esc(&staff.session.csrf);
    let c = esc(comune);
    let problem = problem
        .map(|p| format!("<p role=\"alert\"><strong>{p}</strong></p>"))
        .unwrap_or_default();
    let mut html = format!(
        "{who}{nav}<h1>{title_html}</h1>{problem}",
        who = who(s, staff),
        nav = super::nav::nav(s, staff),
    );
    let Some(listed) = list(&s.engine, comune)? else {
        html.push_str(&format!("<p>{}</p>", t(s, lang, "console-closures-no-hours")));
        return Ok((title, html));
    };
    html.push_str(&format!("<p>{}</p>", t(s, lang, "console-closures-intro")));
    if listed.is_empty() {
        html.push_str(&format!("<p>{}</p>", t(s, lang, "console-closures-none")));
    } else {
        html.push_str(&format!(
            "<table><caption>{title_html}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            t(s, lang, "console-closures-date"),
            t(s, lang, "console-closures-note"),
            t(s, lang, "console-closures-action"),
        ));
        for l in &listed {
            let note = if l.from_file && l.note.is_empty() {
                t(s, lang, "console-closures-from-file")
            } else {
                esc(&l.note)
            };
            html.push_str(&format!(
                "<tr><th scope=\"row\"><time datetime=\"{d}\">{shown}</time></th><td>{note}</td><td>\
<form method=\"post\" action=\"/staff/{c}/closures/remove\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"date\" value=\"{d}\">\
<button type=\"submit\">{remove}</button></form></td></tr>",
                d = l.date,
                shown = l.date.strftime("%d/%m/%Y"),
                remove = ta(s, lang, "console-closures-remove", &[("date", l.date.strftime("%d/%m/%Y").to_string())]),
            ));
        }
        html.push_str("</tbody></table>");
    }
    html.push_str(&format!(
        "<h2 id=\"add-h\">{add}</h2><form method=\"post\" action=\"/staff/{c}/closures/add\" aria-labelledby=\"add-h\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"date\">{date}</label><input id=\"date\" name=\"date\" type=\"date\" required>\
<label for=\"note\">{note}</label><input id=\"note\" name=\"note\" maxlength=\"{MAX_NOTE}\" aria-describedby=\"note-hint\"><p id=\"note-hint\">{hint}</p>\
<p><button type=\"submit\">{add}</button></p></form>",
        add = t(s, lang, "console-closures-add"),
        date = t(s, lang, "console-closures-date"),
        note = t(s, lang, "console-closures-note"),
        hint = t(s, lang, "console-closures-note-hint"),
    ));
    Ok((title, html))
}

fn render(s: &Console, staff: &Staff, comune: &str, status: StatusCode, problem: Option<&str>) -> Response {
    let lang = staff.lang();
    match body(s, staff, comune, problem) {
        Ok((title, html)) => (status, Html(console_page(s, lang, &title, &[], &html))).into_response(),
        Err(ClosureError::Console(e)) => error_page(s, lang, e),
        Err(e) => error_page(
            s,
            lang,
            ConsoleError::Store(crate::storage::StoreError::Task(e.to_string())),
        ),
    }
}

/// `GET /staff/{comune}/closures`: the closures in force, each with a remove button, and
/// the add form.
pub async fn page(State(s): State<Console>, staff: Staff, Path(comune): Path<String>) -> Response {
    render(&s, &staff, &comune, StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
pub struct ClosureForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
}

fn answer(s: &Console, staff: &Staff, comune: &str, done: Result<(), ClosureError>) -> Response {
    let lang = staff.lang();
    match done {
        Ok(()) => (StatusCode::SEE_OTHER, [(LOCATION, format!("/staff/{comune}/closures"))]).into_response(),
        Err(ClosureError::Console(e)) => error_page(s, lang, e),
        Err(e) => {
            let id = match e {
                ClosureError::BadDate => "console-closures-bad-date",
                ClosureError::NoHours => "console-closures-no-hours",
                _ => "console-closures-not-closed",
            };
            let problem = t(s, lang, id);
            render(s, staff, comune, StatusCode::BAD_REQUEST, Some(&problem))
        }
    }
}

/// `POST /staff/{comune}/closures/add` (CSRF checked).
pub async fn add_post(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Form(f): Form<ClosureForm>,
) -> Response {
    let done = staff
        .check_csrf(&f.csrf)
        .and_then(|()| editable(&s, &staff, &comune).map(|_| ()))
        .map_err(ClosureError::from)
        .and_then(|()| add(&s.engine, &comune, &f.date, &f.note, &staff.account.email).map(|_| ()));
    answer(&s, &staff, &comune, done)
}

/// `POST /staff/{comune}/closures/remove` (CSRF checked).
pub async fn remove_post(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Form(f): Form<ClosureForm>,
) -> Response {
    let done = staff
        .check_csrf(&f.csrf)
        .and_then(|()| editable(&s, &staff, &comune).map(|_| ()))
        .map_err(ClosureError::from)
        .and_then(|()| remove(&s.engine, &comune, &f.date, &staff.account.email));
    answer(&s, &staff, &comune, done)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::i18n::Locales;
    use crate::storage::{MemoryStore, Store};

    fn engine() -> Engine {
        let locales = Locales::embedded().unwrap();
        let flows = crate::flow::load_embedded(&locales).unwrap();
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        Engine::new(flows, locales, store)
    }

    #[test]
    fn closures_are_added_removed_and_audited_by_date() {
        let e = engine();
        let before = list(&e, "assemini").unwrap().unwrap().len();
        assert!(matches!(
            add(&e, "assemini", "24/12/2026", "", "op"),
            Err(ClosureError::BadDate)
        ));
        add(&e, "assemini", "2031-12-23", "Delibera n. 1", "op").unwrap();
        let now = list(&e, "assemini").unwrap().unwrap();
        assert_eq!(now.len(), before + 1);
        let added = now.iter().find(|l| l.date.to_string() == "2031-12-23").unwrap();
        assert_eq!((added.note.as_str(), added.from_file), ("Delibera n. 1", false));
        assert!(!e
            .live()
            .unwrap()
            .flow("assemini")
            .unwrap()
            .hours
            .as_ref()
            .unwrap()
            .is_working_day(added.date));
        assert!(matches!(
            remove(&e, "assemini", "2031-12-22", "op"),
            Err(ClosureError::NotClosed)
        ));
        remove(&e, "assemini", "2031-12-23", "op").unwrap();
        assert_eq!(list(&e, "assemini").unwrap().unwrap().len(), before);
        let log: Vec<_> = e
            .store
            .audit(Some("assemini"))
            .unwrap()
            .into_iter()
            .map(|(_, a)| (a.action, a.detail))
            .collect();
        assert_eq!(
            log,
            [
                ("closure-add".to_string(), "2031-12-23".to_string()),
                ("closure-remove".into(), "2031-12-23".into())
            ]
        );
    }
}
