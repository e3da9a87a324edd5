//! `/staff/{comune}/subscribers`: a comune's citizens for its operators and administrators
//! (issue 21): the list with filters (status, category, language, channel), paged; the
//! subscriptions and withdrawals per month; and a CSV download of the filtered list,
//! audited. Numbers are masked but for their last three digits; an administrator may ask
//! the CSV with numbers in full, an operator may not (403).
//!
//! What is listed, counted and exported is `staff::subscribers`, shared with `sportello
//! subscribers`; this file is the filter form and the page.

use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use jiff::Timestamp;
use serde::Deserialize;

use super::faq_pages::editable;
use super::pages::{categories, comune_name, console_page, error_page, local_time, raw, t, ta, who};
use super::state::Console;
use super::{ConsoleError, Staff};
use crate::staff::subscribers::{self, Answer, Call, Filter, Month, Row};
use crate::storage::Role;
use crate::web::{esc, url_encode};

/// Citizens on one page.
pub const PAGE_SIZE: usize = 50;

/// The statuses a citizen can be in, as the filter offers them.
const STATUSES: [&str; 5] = ["subscribed", "registering", "new", "unsubscribed", "blocked"];
/// The channels citizens come from.
const CHANNELS: [&str; 3] = ["whatsapp", "telegram", "web"];

/// The filters, from the query string (or the CSV form). Empty means "any".
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filters {
    #[serde(default)]
    status: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    channel: String,
    /// 1-based.
    #[serde(default)]
    page: Option<usize>,
}

impl Filters {
    fn filter(&self) -> Filter {
        let set = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
        Filter {
            category: set(&self.category),
            language: set(&self.language),
            channel: set(&self.channel),
            status: set(&self.status),
        }
    }

    /// The query string of these filters (for the pages' links).
    fn query(&self, page: usize) -> String {
        format!(
            "status={}&category={}&language={}&channel={}&page={page}",
            url_encode(&self.status),
            url_encode(&self.category),
            url_encode(&self.language),
            url_encode(&self.channel),
        )
    }
}

/// A select of `options` (value, label), `current` selected, "any" first.
fn select(s: &Console, lang: &str, name: &str, label_id: &str, options: &[(String, String)], current: &str) -> String {
    let mut html = format!(
        "<p><label for=\"f-{name}\">{}</label><select id=\"f-{name}\" name=\"{name}\"><option value=\"\">{}</option>",
        t(s, lang, label_id),
        t(s, lang, "console-subscribers-any"),
    );
    for (value, label) in options {
        let selected = if value == current { " selected" } else { "" };
        html.push_str(&format!(
            "<option value=\"{}\"{selected}>{}</option>",
            esc(value),
            esc(label)
        ));
    }
    html.push_str("</select></p>");
    html
}

fn filter_form(s: &Console, lang: &str, comune: &str, flow: &crate::flow::Flow, f: &Filters) -> String {
    let statuses: Vec<(String, String)> = STATUSES
        .iter()
        .map(|st| {
            (
                st.to_string(),
                raw(s, lang, &format!("console-subscribers-status-{st}"), &[]),
            )
        })
        .collect();
    let languages: Vec<(String, String)> = flow
        .languages
        .iter()
        .map(|l| (l.clone(), raw(s, lang, &format!("console-language-{l}"), &[])))
        .collect();
    let channels: Vec<(String, String)> = CHANNELS
        .iter()
        .map(|c| (c.to_string(), raw(s, lang, &format!("console-channel-{c}"), &[])))
        .collect();
    let mut fields = select(s, lang, "status", "console-subscribers-status", &statuses, &f.status);
    if !flow.categories.is_empty() {
        let cats = categories(s, lang, flow);
        fields.push_str(&select(
            s,
            lang,
            "category",
            "console-subscribers-category",
            &cats,
            &f.category,
        ));
    }
    if flow.languages.len() > 1 {
        fields.push_str(&select(
            s,
            lang,
            "language",
            "console-subscribers-language",
            &languages,
            &f.language,
        ));
    }
    fields.push_str(&select(
        s,
        lang,
        "channel",
        "console-subscribers-channel",
        &channels,
        &f.channel,
    ));
    format!(
        "<form method=\"get\" action=\"/staff/{c}/subscribers\" aria-labelledby=\"filters-h\"><h2 id=\"filters-h\">{filters}</h2>{fields}<p><button type=\"submit\">{apply}</button></p></form>",
        c = esc(comune),
        filters = t(s, lang, "console-subscribers-filters"),
        apply = t(s, lang, "console-subscribers-apply"),
    )
}

fn months_table(s: &Console, lang: &str, months: &[Month], subscribed_now: usize) -> String {
    let mut html = format!(
        "<h2 id=\"months-h\">{}</h2><p>{}</p>",
        t(s, lang, "console-subscribers-months"),
        ta(
            s,
            lang,
            "console-subscribers-now",
            &[("count", subscribed_now.to_string())]
        ),
    );
    if months.is_empty() {
        html.push_str(&format!("<p>{}</p>", t(s, lang, "console-subscribers-months-none")));
        return html;
    }
    html.push_str(&format!(
        "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=\"months-h\"><table aria-labelledby=\"months-h\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t(s, lang, "console-subscribers-month"),
        t(s, lang, "console-subscribers-joined"),
        t(s, lang, "console-subscribers-left"),
    ));
    for m in months.iter().rev() {
        html.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>",
            esc(&month_name(s, lang, &m.month)),
            m.subscribed,
            m.withdrawn
        ));
    }
    html.push_str("</tbody></table></div>");
    html
}

/// `2026-11` as `novembre 2026`.
fn month_name(s: &Console, lang: &str, month: &str) -> String {
    match month.split_once('-') {
        Some((year, m)) => ta(
            s,
            lang,
            "console-subscribers-month-name",
            &[("month", format!("m{m}")), ("year", year.to_string())],
        ),
        None => month.to_string(),
    }
}

fn rows_table(s: &Console, lang: &str, flow: &crate::flow::Flow, rows: &[Row]) -> String {
    let cats = categories(s, lang, flow);
    let category = |id: &String| {
        cats.iter()
            .find(|(c, _)| c == id)
            .map_or(id.clone(), |(_, l)| l.clone())
    };
    let headers: String = [
        "console-subscribers-number",
        "console-subscribers-channel",
        "console-subscribers-status",
        "console-subscribers-language",
        "console-subscribers-category",
        "console-subscribers-since",
    ]
    .iter()
    .map(|id| format!("<th scope=\"col\">{}</th>", t(s, lang, id)))
    .collect();
    let mut html =
        format!("<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=\"list-h\"><table aria-labelledby=\"list-h\"><thead><tr>{headers}</tr></thead><tbody>");
    for r in rows {
        let language = r
            .language
            .as_ref()
            .map(|l| raw(s, lang, &format!("console-language-{l}"), &[]))
            .unwrap_or_default();
        html.push_str(&format!(
            "<tr><th scope=\"row\">{number}</th><td>{channel}</td><td>{status}</td><td>{language}</td><td>{cats}</td><td>{since}</td></tr>",
            number = esc(&r.citizen),
            channel = t(s, lang, &format!("console-channel-{}", r.channel)),
            status = t(s, lang, &format!("console-subscribers-status-{}", r.status)),
            language = esc(&language),
            cats = esc(&r.categories.iter().map(category).collect::<Vec<_>>().join(", ")),
            since = r.subscribed_at.map(local_time).unwrap_or_default(),
        ));
    }
    html.push_str("</tbody></table></div>");
    html
}

fn body(s: &Console, staff: &Staff, comune: &str, f: &Filters) -> Result<(String, String), ConsoleError> {
    let flow = editable(s, staff, comune)?;
    let lang = staff.lang();
    let now = Timestamp::now();
    let title = raw(
        s,
        lang,
        "console-subscribers-title",
        &[("comune", comune_name(s, lang, comune))],
    );
    // Only the page shown is read into rows: the walk through the comune counts the rest.
    let window = |page: usize| -> Result<(Vec<Row>, usize), ConsoleError> {
        let list = Call::List {
            comune: comune.to_string(),
            filter: f.filter(),
            unmasked: false,
            // A page number from the query may be anything: past the end, one page fewer.
            offset: (page - 1).saturating_mul(PAGE_SIZE),
            limit: Some(PAGE_SIZE),
        };
        match subscribers::run(&s.engine, list, now)? {
            Answer::Rows { rows, total } => Ok((rows, total)),
            _ => Err(ConsoleError::NotFound),
        }
    };
    let asked = f.page.unwrap_or(1).max(1);
    let (mut shown, total) = window(asked)?;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = asked.min(pages);
    if page != asked {
        shown = window(page)?.0;
    }
    let Answer::Months { months, subscribed_now } = subscribers::run(
        &s.engine,
        Call::Counts {
            comune: comune.to_string(),
        },
        now,
    )?
    else {
        return Err(ConsoleError::NotFound);
    };
    let shown = &shown[..];
    let c = esc(comune);
    let mut html = format!(
        "{who}{nav}{links}<h1>{title}</h1>{months}{form}<h2 id=\"list-h\">{list_h}</h2><p>{count}</p>",
        who = who(s, staff),
        nav = super::nav::nav(s, staff),
        links = super::nav::comune_links(s, lang, comune),
        title = esc(&title),
        months = months_table(s, lang, &months, subscribed_now),
        form = filter_form(s, lang, comune, flow, f),
        list_h = t(s, lang, "console-subscribers-list"),
        count = ta(
            s,
            lang,
            "console-subscribers-count",
            &[
                ("count", total.to_string()),
                ("page", page.to_string()),
                ("pages", pages.to_string())
            ]
        ),
    );
    if !shown.is_empty() {
        html.push_str(&rows_table(s, lang, flow, shown));
    }
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!(
            "<li><a href=\"/staff/{c}/subscribers?{}\">{}</a></li>",
            esc(&f.query(page - 1)),
            t(s, lang, "console-subscribers-previous")
        ));
    }
    if page < pages {
        links.push(format!(
            "<li><a href=\"/staff/{c}/subscribers?{}\">{}</a></li>",
            esc(&f.query(page + 1)),
            t(s, lang, "console-subscribers-next")
        ));
    }
    if !links.is_empty() {
        html.push_str(&format!(
            "<nav aria-label=\"{}\"><ul class=\"inline\">{}</ul></nav>",
            t(s, lang, "console-subscribers-pages"),
            links.concat()
        ));
    }
    let hidden: String = [
        ("status", &f.status),
        ("category", &f.category),
        ("language", &f.language),
        ("channel", &f.channel),
    ]
    .iter()
    .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(v)))
    .collect();
    let unmasked = if staff.account.role == Role::Admin {
        format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"unmasked\" value=\"yes\"> {}</label>",
            t(s, lang, "console-subscribers-unmasked")
        )
    } else {
        String::new()
    };
    html.push_str(&format!(
        "<h2 id=\"csv-h\">{csv_h}</h2><form method=\"post\" action=\"/staff/{c}/subscribers.csv\" aria-labelledby=\"csv-h\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{hidden}<p class=\"hint\">{hint}</p>{unmasked}<p><button type=\"submit\">{button}</button></p></form>",
        csv_h = t(s, lang, "console-subscribers-csv"),
        csrf = esc(&staff.session.csrf),
        hint = t(s, lang, "console-subscribers-csv-hint"),
        button = t(s, lang, "console-subscribers-csv-button"),
    ));
    Ok((title, html))
}

/// `GET /staff/{comune}/subscribers`.
pub async fn page(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Query(f): Query<Filters>,
) -> Response {
    let lang = staff.lang();
    match body(&s, &staff, &comune, &f) {
        Ok((title, html)) => Html(console_page(&s, lang, &title, &[], &html)).into_response(),
        Err(e) => error_page(&s, lang, e),
    }
}

/// The CSV form: the filters, the token, and whether numbers go in full.
#[derive(Debug, Default, Deserialize)]
pub struct CsvForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    filters: Filters,
    #[serde(default)]
    unmasked: String,
}

/// `POST /staff/{comune}/subscribers.csv`: the filtered list as a CSV download, audited
/// with the staff member as its author.
pub async fn csv_post(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    Form(f): Form<CsvForm>,
) -> Response {
    let lang = staff.lang();
    let unmasked = f.unmasked == "yes";
    let allowed = staff
        .check_csrf(&f.csrf)
        .and_then(|()| editable(&s, &staff, &comune).map(|_| ()))
        .and_then(|()| {
            // Numbers in full only for a role that may read them.
            let masked_only = staff.account.role == Role::Operator;
            if unmasked && masked_only {
                Err(ConsoleError::Forbidden)
            } else {
                Ok(())
            }
        });
    if let Err(e) = allowed {
        return error_page(&s, lang, e);
    }
    let call = Call::Export {
        comune: comune.clone(),
        filter: f.filters.filter(),
        unmasked,
        actor: staff.account.email.clone(),
    };
    match subscribers::run(&s.engine, call, Timestamp::now()) {
        Ok(Answer::Csv { csv, .. }) => (
            StatusCode::OK,
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"iscritti-{}.csv\"", url_encode(&comune)),
                ),
                (CACHE_CONTROL, "no-store".to_string()),
            ],
            csv,
        )
            .into_response(),
        Ok(_) => error_page(&s, lang, ConsoleError::NotFound),
        Err(e) => error_page(&s, lang, e.into()),
    }
}
