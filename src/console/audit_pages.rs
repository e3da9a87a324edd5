//! The audit log for administrators (issue 4): `/staff/audit` (filter by comune, action and
//! actor; newest first; paginated), its CSV download `/staff/audit.csv` and its JSON twin
//! `/staff/api/audit`. Operators get 403.
//!
//! Entries are stored as written (an action code, an English detail) and put into the
//! reader's language only when shown (issue 22): a name per action code from Fluent
//! (`console-audit-action-<code>`, the code itself when unknown), the details it recognizes
//! in words, and the stored detail kept under them. The filter is a list of the actions by
//! name.
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
use crate::i18n::Locales;
use crate::storage::{AuditEntry, Store};
use crate::web::esc;

/// Every action code the service writes into the log (`staff::audit` and `append_audit`
/// across `src/`), each named by `console-audit-action-<code>`.
#[rustfmt::skip]
pub const ACTIONS: &[&str] = &[
    // Signing in and accounts (console, `sportello staff`).
    "login", "login-failed", "lockout", "logout", "password-change", "password-change-failed",
    "staff-bootstrap", "staff-add", "staff-change", "staff-disable", "staff-enable", "staff-reset",
    "staff-remove", "staff-code",
    // The desk: conversations and citizens.
    "claim", "reply", "note", "release", "close", "block", "unblock", "find-citizen", "show-number",
    // WhatsApp identities (business-scoped ids).
    "identity-link", "identity-change",
    // Privacy.
    "export", "erase", "retention", "subscribers-export",
    // Broadcasts, answers, closures, files, moderation.
    "broadcast-create", "broadcast-console", "broadcast-resend-failed", "broadcast-paused",
    "faq-add", "faq-edit", "faq-delete", "closure-add", "closure-remove", "media-upload",
    "moderation-confirm", "moderation-dismiss", "moderation-report",
];

/// The name of an action code in `lang`; the code itself when it has none.
pub fn action_label(locales: &Locales, lang: &str, code: &str) -> String {
    locales
        .format(lang, &format!("console-audit-action-{code}"), None)
        .unwrap_or_else(|| code.to_string())
}

/// A stored detail the log recognizes: the Fluent id saying it in words and its arguments.
/// `None` for the rest, which is shown as stored.
pub fn describe(action: &str, detail: &str) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    let fixed = match detail {
        "logged in" => Some("console-audit-detail-logged-in"),
        "logged in with a one-time password" => Some("console-audit-detail-one-time-login"),
        "refused: wrong password" => Some("console-audit-detail-wrong-password"),
        "refused: unknown e-mail" => Some("console-audit-detail-unknown-email"),
        "refused: account locked" => Some("console-audit-detail-account-locked"),
        "refused: too many failures from this address" => Some("console-audit-detail-address-locked"),
        "refused: account disabled" => Some("console-audit-detail-account-disabled"),
        "refused: wrong current password" => Some("console-audit-detail-wrong-current"),
        _ => None,
    };
    if let Some(id) = fixed {
        return Some((id, Vec::new()));
    }
    // A whole number at the start of `s`, and the rest.
    let number = |s: &str| {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        (!digits.is_empty()).then(|| (s[digits.len()..].to_string(), digits))
    };
    match action {
        "broadcast-create" | "broadcast-console" | "broadcast-paused" | "broadcast-resend-failed" => {
            let (rest, id) = number(detail.strip_prefix("broadcast ")?)?;
            match rest.strip_prefix(", ").and_then(|r| r.strip_suffix(" queued again")) {
                Some(count) if number(count).is_some_and(|(r, _)| r.is_empty()) => Some((
                    "console-audit-detail-requeued",
                    vec![("id", id), ("count", count.to_string())],
                )),
                _ => Some(("console-audit-detail-broadcast", vec![("id", id)])),
            }
        }
        "moderation-confirm" | "moderation-dismiss" | "moderation-report" => {
            let (rest, id) = number(detail.strip_prefix("case ")?)?;
            rest.is_empty()
                .then_some(("console-audit-detail-case", vec![("id", id)]))
        }
        "password-change" => {
            let (rest, n) = number(detail.strip_prefix("password changed; ")?)?;
            (rest == " other sessions ended").then_some(("console-audit-detail-sessions-ended", vec![("count", n)]))
        }
        "subscribers-export" => {
            let (rest, n) = number(detail)?;
            let numbers = match rest.as_str() {
                " rows exported, numbers in full" => "full",
                " rows exported, numbers masked" => "masked",
                _ => return None,
            };
            Some((
                "console-audit-detail-rows-exported",
                vec![("count", n), ("numbers", numbers.to_string())],
            ))
        }
        "closure-add" | "closure-remove" => {
            let day: jiff::civil::Date = detail.parse().ok()?;
            Some((
                "console-audit-detail-day",
                vec![("date", day.strftime("%d/%m/%Y").to_string())],
            ))
        }
        "faq-add" | "faq-edit" | "faq-delete" => {
            let (id, lang) = detail.strip_prefix("entry ")?.strip_suffix(')')?.rsplit_once(" (")?;
            Some((
                "console-audit-detail-faq-entry",
                vec![("id", id.to_string()), ("lang", lang.to_string())],
            ))
        }
        "staff-add" => {
            let (email, role) = detail.split_once(" added as ")?;
            if role == "admin" {
                return Some(("console-audit-detail-added-admin", vec![("email", email.to_string())]));
            }
            let comuni = role.strip_prefix("operator (")?.strip_suffix(')')?;
            Some((
                "console-audit-detail-added-operator",
                vec![("email", email.to_string()), ("comuni", comuni.to_string())],
            ))
        }
        "staff-disable" | "staff-enable" | "staff-remove" => {
            let email = [" disabled", " enabled", " removed"]
                .iter()
                .find_map(|end| detail.strip_suffix(end))?;
            (!email.contains(' ')).then(|| ("console-audit-detail-account", vec![("email", email.to_string())]))
        }
        _ => None,
    }
}

/// An entry's detail in `lang`, as HTML: the recognized detail in words, then the stored one
/// (English, as written).
fn detail_html(s: &Console, lang: &str, e: &AuditEntry) -> String {
    let stored = format!("<span lang=\"en\">{}</span>", esc(&e.detail));
    match describe(&e.action, &e.detail) {
        Some((id, args)) => format!(
            "{}<br><small>{}: {stored}</small>",
            ta(s, lang, id, &args),
            t(s, lang, "console-audit-stored")
        ),
        None => stored,
    }
}

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
    /// The action's name in the reader's language (set by [`labelled`]; empty before).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub action_label: String,
}

/// The entries with their actions named in `lang`.
pub fn labelled(locales: &Locales, lang: &str, mut entries: Vec<Listed>) -> Vec<Listed> {
    for l in &mut entries {
        l.action_label = action_label(locales, lang, &l.entry.action);
    }
    entries
}

/// One page of matching entries, newest first.
#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub entries: Vec<Listed>,
    pub page: usize,
    pub pages: usize,
    pub total: usize,
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
        .map(|(id, entry)| Listed {
            id,
            entry,
            action_label: String::new(),
        })
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

/// The CSV of `entries` under a header (already in the reader's language), the action's
/// name after its code.
pub fn to_csv(entries: &[Listed], header: &[String; 7]) -> String {
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
            &l.action_label,
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
    staff.admin_only()?;
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
    // The actions by name, in the reader's language; a code asked for that the list lacks
    // (an older or a test entry) stays selectable as itself.
    let mut actions: Vec<(String, &str)> = ACTIONS
        .iter()
        .map(|code| (action_label(&s.engine.locales, lang, code), *code))
        .collect();
    let asked = q.action.trim();
    if !asked.is_empty() && !ACTIONS.contains(&asked) {
        actions.push((asked.to_string(), asked));
    }
    actions.sort();
    let mut action_options = format!("<option value=\"\">{}</option>", t(s, lang, "console-audit-any-action"));
    for (label, code) in &actions {
        let selected = if *code == asked { " selected" } else { "" };
        action_options.push_str(&format!(
            "<option value=\"{}\"{selected}>{}</option>",
            esc(code),
            esc(label)
        ));
    }
    let mut html = format!(
        "{who}{nav}<h1>{title}</h1>\
<form method=\"get\" action=\"/staff/audit\"><fieldset><legend>{filters}</legend>\
<label for=\"f-comune\">{comune}</label><select id=\"f-comune\" name=\"comune\">{comuni}</select>\
<label for=\"f-action\">{action}</label><select id=\"f-action\" name=\"action\">{action_options}</select>\
<label for=\"f-actor\">{actor}</label><input id=\"f-actor\" name=\"actor\" value=\"{actor_v}\">\
<p><button type=\"submit\">{apply}</button></p></fieldset></form>\
<p>{count} <a href=\"/staff/audit.csv?{qs}\" download>{csv}</a></p>",
        who = who(s, staff),
        nav = super::nav::nav(s, staff),
        title = esc(&title),
        filters = t(s, lang, "console-audit-filters"),
        comune = t(s, lang, "console-audit-comune"),
        action = t(s, lang, "console-audit-action"),
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
            "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=\"audit-caption\"><table><caption id=\"audit-caption\">{title}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
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
                esc(&action_label(&s.engine.locales, lang, &e.action)),
                detail_html(s, lang, e)
            ));
        }
        html.push_str("</tbody></table></div>");
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
    let done = staff.admin_only().and_then(|()| matching(s.engine.store.as_ref(), &q));
    match done {
        Ok(entries) => {
            let h = |id: &str| s.engine.locales.format(lang, id, None).unwrap_or_default();
            let header = [
                h("console-audit-id"),
                h("console-audit-at"),
                h("console-audit-actor"),
                h("console-audit-comune"),
                h("console-audit-action"),
                h("console-audit-action-label"),
                h("console-audit-detail"),
            ];
            (
                [
                    (CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (CONTENT_DISPOSITION, "attachment; filename=\"sportello-audit.csv\""),
                ],
                to_csv(&labelled(&s.engine.locales, lang, entries), &header),
            )
                .into_response()
        }
        Err(e) => error_page(&s, lang, e),
    }
}

/// `GET /staff/api/audit`: one page of the filtered log as JSON
/// (`{entries: [{id, at, actor, comune, action, detail, action_label}], page, pages,
/// total}`, the label in the account's language).
pub async fn api(State(s): State<Console>, staff: Staff, Query(q): Query<AuditQuery>) -> Response {
    let done = staff.admin_only().and_then(|()| matching(s.engine.store.as_ref(), &q));
    match done {
        Ok(all) => {
            let mut page = paginate(all, q.page);
            page.entries = labelled(&s.engine.locales, staff.lang(), page.entries);
            axum::Json(page).into_response()
        }
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
        let locales = Locales::embedded().unwrap();
        let header = ["id", "at", "actor", "comune", "action", "label", "detail"].map(String::from);
        let csv = to_csv(&labelled(&locales, "fr", all), &header);
        let lines: Vec<_> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with(",\"'=cmd|' /C calc'!A0\""), "{csv}");
        assert!(
            lines[0].starts_with("\"id\",\"at\",\"actor\",\"comune\",\"action\",\"label\""),
            "{csv}"
        );
        assert!(
            lines[1].contains(",\"faq-edit\",\"Réponse fréquente modifiée\","),
            "{csv}"
        );
    }

    #[test]
    fn every_action_is_named_in_both_languages_and_unknown_ones_show_their_code() {
        let locales = Locales::embedded().unwrap();
        for code in ACTIONS {
            for lang in ["it", "fr"] {
                let label = action_label(&locales, lang, code);
                assert!(label != *code && !label.is_empty(), "{code} in {lang}");
            }
        }
        assert_eq!(action_label(&locales, "it", "login"), "Accesso");
        assert_eq!(action_label(&locales, "fr", "staff-add"), "Compte créé");
        assert_eq!(action_label(&locales, "it", "made-up"), "made-up");
    }

    #[test]
    fn stored_details_it_knows_are_put_in_words() {
        assert_eq!(
            describe("broadcast-console", "broadcast 18 created from the console"),
            Some(("console-audit-detail-broadcast", vec![("id", "18".into())]))
        );
        assert_eq!(
            describe("broadcast-resend-failed", "broadcast 7, 3 queued again").map(|d| d.1),
            Some(vec![("id", "7".into()), ("count", "3".into())])
        );
        assert_eq!(
            describe("staff-add", "x@isili.it added as operator (isili, assemini)").map(|d| d.1),
            Some(vec![
                ("email", "x@isili.it".into()),
                ("comuni", "isili, assemini".into())
            ])
        );
        assert_eq!(
            describe("closure-add", "2031-12-23").map(|d| d.1),
            Some(vec![("date", "23/12/2031".into())])
        );
        assert_eq!(
            describe("subscribers-export", "12 rows exported, numbers masked").map(|d| d.1),
            Some(vec![("count", "12".into()), ("numbers", "masked".into())])
        );
        assert_eq!(
            describe("login-failed", "refused: wrong password").unwrap().0,
            "console-audit-detail-wrong-password"
        );
        assert_eq!(describe("faq-edit", "entry orari (it)").unwrap().1[0].1, "orari");
        assert!(describe("broadcast-create", "something else").is_none());
        assert!(describe("media-upload", "avviso.pdf").is_none());
        // Every id it answers with exists in both languages.
        let locales = Locales::embedded().unwrap();
        for (action, detail) in [
            ("login", "logged in"),
            (
                "broadcast-create",
                "broadcast 1, category -, 9 recipients, languages it",
            ),
            ("moderation-confirm", "case 4"),
            ("password-change", "password changed; 2 other sessions ended"),
            ("staff-remove", "x@y.it removed"),
        ] {
            let (id, _) = describe(action, detail).unwrap();
            assert!(locales.has_message("it", id) && locales.has_message("fr", id), "{id}");
        }
    }
}
