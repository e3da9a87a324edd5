//! The audit log for administrators (issue 4): `/staff/audit` (filter by comune, action and
//! actor; newest first; paginated), its CSV download `/staff/audit.csv` and its JSON twin
//! `/staff/api/audit`. Operators get 403.
//!
//! Owns filtering, paging and the CSV form (quoted, and guarded against formula injection:
//! a spreadsheet must never run a cell). Must not write to the log: reading it is not an
//! audited action, and entries never hold personal data to begin with.

use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::pages::{console_page, error_page, local_time, t, ta, who};
use super::state::Console;
use super::{ConsoleError, Staff};
use crate::storage::{AuditEntry, Role, Store};
use crate::web::esc;

/// Entries on one page.
pub const PAGE_SIZE: usize = 50;

/// The filters of the audit pages, from the query string. Empty means "any".
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub comune: String,
    #[serde(default)]
    pub action: String,
    /// Part of the actor's e-mail, any case.
    #[serde(default)]
    pub actor: String,
    /// 1-based.
    #[serde(default)]
    pub page: Option<usize>,
}

/// One entry as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    pub id: u64,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// One page of matching entries, newest first.
#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub entries: Vec<Listed>,
    pub page: usize,
    pub pages: usize,
    pub total: usize,
}

/// Only administrators read the log.
fn admin_only(staff: &Staff) -> Result<(), ConsoleError> {
    if staff.account.role == Role::Admin {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden)
    }
}

/// Every entry matching the filters, newest first (ids increase with time).
pub fn matching(store: &dyn Store, q: &AuditQuery) -> Result<Vec<Listed>, ConsoleError> {
    let comune = q.comune.trim();
    let action = q.action.trim();
    let actor = q.actor.trim().to_lowercase();
    let mut out: Vec<Listed> = store
        .audit((!comune.is_empty()).then_some(comune))?
        .into_iter()
        .filter(|(_, e)| action.is_empty() || e.action == action)
        .filter(|(_, e)| actor.is_empty() || e.actor.to_lowercase().contains(&actor))
        .map(|(id, entry)| Listed { id, entry })
        .collect();
    out.sort_by_key(|l| std::cmp::Reverse(l.id));
    Ok(out)
}

/// One page of `all` (pages past the end give the last one).
pub fn paginate(all: Vec<Listed>, page: Option<usize>) -> AuditPage {
    let total = all.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = page.unwrap_or(1).clamp(1, pages);
    let entries = all.into_iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
    AuditPage {
        entries,
        page,
        pages,
        total,
    }
}

/// The CSV of `entries` under a header (already in the reader's language).
pub fn to_csv(entries: &[Listed], header: &[String; 6]) -> String {
    let line = |cells: &[&str]| crate::staff::csv::line(cells);
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut out = line(&h);
    for l in entries {
        let e = &l.entry;
        out.push_str(&line(&[
            &l.id.to_string(),
            &e.at.to_string(),
            &e.actor,
            &e.comune,
            &e.action,
            &e.detail,
        ]));
    }
    out
}

/// The query string of a filter set at `page` (for links).
fn query_string(q: &AuditQuery, page: Option<usize>) -> String {
    let mut out = format!(
        "comune={}&action={}&actor={}",
        crate::web::url_encode(&q.comune),
        crate::web::url_encode(&q.action),
        crate::web::url_encode(&q.actor)
    );
    if let Some(p) = page {
        out.push_str(&format!("&page={p}"));
    }
    out
}

fn body(s: &Console, staff: &Staff, q: &AuditQuery) -> Result<(String, String), ConsoleError> {
    admin_only(staff)?;
    let lang = staff.lang();
    let page = paginate(matching(s.engine.store.as_ref(), q)?, q.page);
    let title = s
        .engine
        .locales
        .format(lang, "console-audit-title", None)
        .unwrap_or_default();
    let mut comuni = format!("<option value=\"\">{}</option>", t(s, lang, "console-audit-any"));
    for c in s.engine.flows.ids() {
        let selected = if c == q.comune { " selected" } else { "" };
        comuni.push_str(&format!("<option value=\"{c}\"{selected}>{c}</option>", c = esc(c)));
    }
    let mut html = format!(
        "{who}{nav}<h1>{title}</h1>\
<form method=\"get\" action=\"/staff/audit\"><fieldset><legend>{filters}</legend>\
<label for=\"f-comune\">{comune}</label><select id=\"f-comune\" name=\"comune\">{comuni}</select>\
<label for=\"f-action\">{action}</label><input id=\"f-action\" name=\"action\" value=\"{action_v}\">\
<label for=\"f-actor\">{actor}</label><input id=\"f-actor\" name=\"actor\" value=\"{actor_v}\">\
<p><button type=\"submit\">{apply}</button></p></fieldset></form>\
<p>{count} <a href=\"/staff/audit.csv?{qs}\" download>{csv}</a></p>",
        who = who(s, staff),
        nav = super::nav::nav(s, staff),
        title = esc(&title),
        filters = t(s, lang, "console-audit-filters"),
        comune = t(s, lang, "console-audit-comune"),
        action = t(s, lang, "console-audit-action"),
        action_v = esc(&q.action),
        actor = t(s, lang, "console-audit-actor"),
        actor_v = esc(&q.actor),
        apply = t(s, lang, "console-audit-apply"),
        count = ta(
            s,
            lang,
            "console-audit-count",
            &[
                ("count", page.total.to_string()),
                ("page", page.page.to_string()),
                ("pages", page.pages.to_string())
            ]
        ),
        qs = esc(&query_string(q, None)),
        csv = t(s, lang, "console-audit-csv"),
    );
    if page.entries.is_empty() {
        html.push_str(&format!("<p>{}</p>", t(s, lang, "console-audit-none")));
    } else {
        html.push_str(&format!(
            "<table><caption>{title}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            t(s, lang, "console-audit-at"),
            t(s, lang, "console-audit-actor"),
            t(s, lang, "console-audit-comune"),
            t(s, lang, "console-audit-action"),
            t(s, lang, "console-audit-detail"),
            title = esc(&title),
        ));
        for l in &page.entries {
            let e = &l.entry;
            html.push_str(&format!(
                "<tr><th scope=\"row\"><time datetime=\"{}\">{}</time></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.at,
                local_time(e.at),
                esc(&e.actor),
                esc(&e.comune),
                esc(&e.action),
                esc(&e.detail)
            ));
        }
        html.push_str("</tbody></table>");
    }
    if page.pages > 1 {
        html.push_str(&format!(
            "<nav aria-label=\"{}\"><ul class=\"inline\">",
            t(s, lang, "console-audit-pages")
        ));
        if page.page > 1 {
            html.push_str(&format!(
                "<li><a href=\"/staff/audit?{}\" rel=\"prev\">{}</a></li>",
                esc(&query_string(q, Some(page.page - 1))),
                t(s, lang, "console-audit-newer")
            ));
        }
        if page.page < page.pages {
            html.push_str(&format!(
                "<li><a href=\"/staff/audit?{}\" rel=\"next\">{}</a></li>",
                esc(&query_string(q, Some(page.page + 1))),
                t(s, lang, "console-audit-older")
            ));
        }
        html.push_str("</ul></nav>");
    }
    Ok((title, html))
}

/// `GET /staff/audit`: the filtered log, newest first, [`PAGE_SIZE`] a page.
pub async fn page(State(s): State<Console>, staff: Staff, Query(q): Query<AuditQuery>) -> Response {
    let lang = staff.lang();
    match body(&s, &staff, &q) {
        Ok((title, body)) => Html(console_page(&s, lang, &title, &[], &body)).into_response(),
        Err(e) => error_page(&s, lang, e),
    }
}

/// `GET /staff/audit.csv`: every entry matching the filters (no paging), newest first.
pub async fn csv(State(s): State<Console>, staff: Staff, Query(q): Query<AuditQuery>) -> Response {
    let lang = staff.lang();
    let done = admin_only(&staff).and_then(|()| matching(s.engine.store.as_ref(), &q));
    match done {
        Ok(entries) => {
            let h = |id: &str| s.engine.locales.format(lang, id, None).unwrap_or_default();
            let header = [
                h("console-audit-id"),
                h("console-audit-at"),
                h("console-audit-actor"),
                h("console-audit-comune"),
                h("console-audit-action"),
                h("console-audit-detail"),
            ];
            (
                [
                    (CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (CONTENT_DISPOSITION, "attachment; filename=\"sportello-audit.csv\""),
                ],
                to_csv(&entries, &header),
            )
                .into_response()
        }
        Err(e) => error_page(&s, lang, e),
    }
}

/// `GET /staff/api/audit`: one page of the filtered log as JSON
/// (`{entries: [{id, at, actor, comune, action, detail}], page, pages, total}`).
pub async fn api(State(s): State<Console>, staff: Staff, Query(q): Query<AuditQuery>) -> Response {
    let done = admin_only(&staff).and_then(|()| matching(s.engine.store.as_ref(), &q));
    match done {
        Ok(all) => axum::Json(paginate(all, q.page)).into_response(),
        Err(e) => (
            e.status(),
            axum::Json(serde_json::json!({"error": match e {
                ConsoleError::Forbidden => "forbidden",
                _ => "internal",
            }})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::audit;
    use crate::storage::MemoryStore;

    #[test]
    fn filters_newest_first_and_pages() {
        let store = MemoryStore::new();
        for i in 0..(PAGE_SIZE + 3) {
            let (actor, comune) = if i % 2 == 0 {
                ("a@isili.it", "isili")
            } else {
                ("B@assemini.it", "assemini")
            };
            audit(
                &store,
                actor,
                comune,
                if i == 7 { "export" } else { "login" },
                &i.to_string(),
            )
            .unwrap();
        }
        let all = matching(&store, &AuditQuery::default()).unwrap();
        assert_eq!(all.len(), PAGE_SIZE + 3);
        assert_eq!(all[0].entry.detail, (PAGE_SIZE + 2).to_string(), "newest first");
        let q = |comune: &str, action: &str, actor: &str| AuditQuery {
            comune: comune.into(),
            action: action.into(),
            actor: actor.into(),
            page: None,
        };
        assert_eq!(matching(&store, &q("assemini", "", "")).unwrap().len(), 26);
        assert_eq!(matching(&store, &q("", "export", "")).unwrap().len(), 1);
        assert_eq!(matching(&store, &q("", "", "b@ASSEMINI")).unwrap().len(), 26);
        let p2 = paginate(all, Some(2));
        assert_eq!(
            (p2.page, p2.pages, p2.total, p2.entries.len()),
            (2, 2, PAGE_SIZE + 3, 3)
        );
        assert_eq!(paginate(Vec::new(), Some(9)).page, 1);
    }

    #[test]
    fn the_csv_has_a_header_and_one_line_an_entry() {
        let store = MemoryStore::new();
        audit(&store, "x@y.it", "isili", "faq-edit", "=cmd|' /C calc'!A0").unwrap();
        let all = matching(&store, &AuditQuery::default()).unwrap();
        let header = ["id", "at", "actor", "comune", "action", "detail"].map(String::from);
        let csv = to_csv(&all, &header);
        let lines: Vec<_> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with(",\"'=cmd|' /C calc'!A0\""), "{csv}");
    }
}
