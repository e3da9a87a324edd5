//! A comune's privacy and transparency pages (issue 8): the right of access from the
//! console (a citizen's data as JSON, the same export as `sportello citizen export`,
//! audited as `export` without naming the citizen) and the annual report
//! (`staff::report`) as a page with CSV and JSON downloads.
//!
//! Operators of the comune and administrators only. Must not log or audit a citizen's
//! number: it travels in a form's body (or the path of a link from a citizen page) and
//! into the download only.

use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::faq_pages::editable;
use super::pages::{comune_name, console_page, error_page, raw, t, who};
use super::state::Console;
use super::{audit, ConsoleError, Staff};
use crate::service::runner::Engine;
use crate::staff::{privacy, report};
use crate::storage::keys::normalize_number;
use crate::storage::CitizenKey;
use crate::web::esc;

/// The channels a citizen can be reached on.
const CHANNELS: &[&str] = &["whatsapp", "telegram", "web"];

/// Everything held about one citizen, audited; `None` when nothing is held.
pub fn export(engine: &Engine, key: &CitizenKey, actor: &str) -> Result<Option<privacy::Export>, ConsoleError> {
    if !CHANNELS.contains(&key.channel.as_str()) || key.citizen.is_empty() {
        return Ok(None);
    }
    let export = privacy::export(engine, key)?;
    if export.record.is_none() && export.ledger.is_empty() && export.conversation.is_none() {
        return Ok(None);
    }
    audit(
        engine.store.as_ref(),
        actor,
        &key.comune,
        "export",
        &format!("citizen data exported from the console ({})", key.channel),
    )?;
    Ok(Some(export))
}

/// The export as a JSON download, or the privacy page saying nothing is held (404).
fn download(s: &Console, staff: &Staff, comune: &str, channel: &str, number: &str) -> Response {
    let lang = staff.lang();
    let key = CitizenKey::new(comune, channel.trim(), &normalize_number(number));
    let done = editable(s, staff, comune).and_then(|_| export(&s.engine, &key, &staff.account.email));
    match done {
        Ok(Some(export)) => (
            [
                (CONTENT_TYPE, "application/json"),
                (CONTENT_DISPOSITION, "attachment; filename=\"sportello-export.json\""),
            ],
            serde_json::to_string_pretty(&export).unwrap_or_default(),
        )
            .into_response(),
        Ok(None) => {
            let problem = t(s, lang, "console-privacy-unknown");
            page_response(s, staff, comune, StatusCode::NOT_FOUND, Some(&problem))
        }
        Err(e) => error_page(s, lang, e),
    }
}

fn privacy_body(
    s: &Console,
    staff: &Staff,
    comune: &str,
    problem: Option<&str>,
) -> Result<(String, String), ConsoleError> {
    editable(s, staff, comune)?;
    let lang = staff.lang();
    let title = raw(
        s,
        lang,
        "console-privacy-title",
        &[("comune", comune_name(s, lang, comune))],
    );
    let title_html = esc(&title);
    let problem = problem
        .map(|p| format!("<p role=\"alert\"><strong>{p}</strong></p>"))
        .unwrap_or_default();
    let channels: String = CHANNELS
        .iter()
        .map(|c| format!("<option value=\"{c}\">{c}</option>"))
        .collect();
    let html = format!(
        "{who}{nav}<h1>{title_html}</h1>{problem}<p>{intro}</p>\
<form method=\"post\" action=\"/staff/{c}/privacy/export\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"channel\">{channel}</label><select id=\"channel\" name=\"channel\">{channels}</select>\
<label for=\"number\">{number}</label><input id=\"number\" name=\"number\" required autocomplete=\"off\" aria-describedby=\"number-hint\"><p id=\"number-hint\">{hint}</p>\
<p><button type=\"submit\">{submit}</button></p></form>\
<h2>{report}</h2><p><a href=\"/staff/{c}/report\">{report_link}</a></p>",
        who = who(s, staff),
        nav = super::nav::nav(s, staff),
        intro = t(s, lang, "console-privacy-intro"),
        c = esc(comune),
        csrf = esc(&staff.session.csrf),
        channel = t(s, lang, "console-privacy-channel"),
        number = t(s, lang, "console-privacy-number"),
        hint = t(s, lang, "console-privacy-number-hint"),
        submit = t(s, lang, "console-privacy-export"),
        report = t(s, lang, "console-nav-report"),
        report_link = t(s, lang, "console-report-open"),
    );
    Ok((title, html))
}

fn page_response(s: &Console, staff: &Staff, comune: &str, status: StatusCode, problem: Option<&str>) -> Response {
    let lang = staff.lang();
    match privacy_body(s, staff, comune, problem) {
        Ok((title, html)) => (status, Html(console_page(s, lang, &title, &[], &html))).into_response(),
        Err(e) => error_page(s, lang, e),
    }
}

/// `GET /staff/{comune}/privacy`: the export form and a link to the report.
pub async fn page(State(s): State<Console>, staff: Staff, Path(comune): Path<String>) -> Response {
    page_response(&s, &staff, &comune, StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
pub struct ExportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    number: String,
}

/// `POST /staff/{comune}/privacy/export`: the citizen's data as a JSON download (CSRF
/// checked; the number stays out of URLs and logs).
pub async fn export_post(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Form(f): Form<ExportForm>,
) -> Response {
    if let Err(e) = staff.check_csrf(&f.csrf) {
        return error_page(&s, staff.lang(), e);
    }
    download(&s, &staff, &comune, &f.channel, &f.number)
}

/// `GET /staff/{comune}/citizens/{channel}/{number}/export`: the same download, for a link
/// from a citizen's page.
pub async fn export_get(
    State(s): State<Console>,
    staff: Staff,
    Path((comune, channel, number)): Path<(String, String, String)>,
) -> Response {
    download(&s, &staff, &comune, &channel, &number)
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    year: Option<i32>,
    /// `csv` or `json` for a download; anything else, the page.
    #[serde(default)]
    format: String,
}

/// `GET /staff/{comune}/report?year=YYYY[&format=csv|json]`: the annual report (default:
/// the current year), as a page or a download.
pub async fn report_page(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Response {
    let lang = staff.lang();
    let flow = match editable(&s, &staff, &comune) {
        Ok(f) => f,
        Err(e) => return error_page(&s, lang, e),
    };
    let this_year = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get(crate::hours::TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC))
        .year() as i32;
    let year = q.year.filter(|y| (2000..=2100).contains(y)).unwrap_or(this_year);
    let rlang = if flow.offers(lang) {
        lang
    } else {
        flow.default_language()
    };
    let r = match report::build(&s.engine, &comune, year, rlang) {
        Ok(Some(r)) => r,
        Ok(None) => return error_page(&s, lang, ConsoleError::NotFound),
        Err(e) => return error_page(&s, lang, e.into()),
    };
    let f = |id: &str| s.engine.locales.format(rlang, id, None).unwrap_or_default();
    let file = |ext: &str| format!("attachment; filename=\"report-{comune}-{year}.{ext}\"");
    match q.format.as_str() {
        "csv" => {
            let header = [f("report-col-section"), f("report-col-label"), f("report-col-value")];
            let csv = report::to_csv(&r, [&header[0], &header[1], &header[2]]);
            return (
                [
                    (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (CONTENT_DISPOSITION, file("csv")),
                ],
                csv,
            )
                .into_response();
        }
        "json" => {
            return (
                [
                    (CONTENT_TYPE, "application/json".to_string()),
                    (CONTENT_DISPOSITION, file("json")),
                ],
                serde_json::to_string_pretty(&r).unwrap_or_default(),
            )
                .into_response()
        }
        _ => {}
    }
    let title = format!(
        "{} {year}",
        raw(&s, rlang, "report-title", &[("comune", r.comune_name.clone())])
    );
    let title_html = esc(&title);
    let c = esc(&comune);
    let body = format!(
        "{who}{nav}<h1>{title_html}</h1>\
<form method=\"get\" action=\"/staff/{c}/report\"><label for=\"year\">{year_label}</label><input id=\"year\" name=\"year\" type=\"number\" min=\"2000\" max=\"2100\" value=\"{year}\"> <button type=\"submit\">{show}</button></form>\
<p>{note}</p><p><a href=\"/staff/{c}/report?year={year}&amp;format=csv\" download>{csv}</a> · <a href=\"/staff/{c}/report?year={year}&amp;format=json\" download>{json}</a></p>\
{sections}",
        who = who(&s, &staff),
        nav = super::nav::nav(&s, &staff),
        year_label = t(&s, lang, "console-report-year"),
        show = t(&s, lang, "console-report-show"),
        note = t(&s, rlang, "report-note"),
        csv = t(&s, lang, "console-report-csv"),
        json = t(&s, lang, "console-report-json"),
        sections = report::to_html(&r, &|id, args| raw(&s, rlang, id, args)),
    );
    Html(console_page(&s, lang, &title, &[], &body)).into_response()
}
