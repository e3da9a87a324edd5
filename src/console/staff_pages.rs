//! `/staff/accounts`: the staff accounts, for administrators only (issue 21). The list
//! (role, comuni, state, last login), a form for a new account, and one page per account to
//! change its role and comuni, disable or enable it, reset its password or remove it.
//!
//! What each action does, and what it refuses (the last active administrator, one's own
//! account), is `staff::roster`, shared with `sportello staff`; this file is forms and
//! pages. A new account or a reset gets a one-time password, shown once on the page that
//! answers the form (never stored, never cached): its first login asks for a password of
//! the account's own.

use axum::extract::{Path, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use jiff::Timestamp;
use serde::Deserialize;

use super::pages::{comune_name, console_page, error_page, local_time, raw, t, ta, who};
use super::render::{notice_html, Notice};
use super::state::Console;
use super::{accounts, ConsoleError, Staff};
use crate::staff::roster::{self, Answer, Call, Listed};
use crate::storage::Role;
use crate::web::{esc, url_encode};

/// The list page's query: which action just succeeded.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    done: Option<String>,
}

/// The manage page's query.
#[derive(Debug, Default, Deserialize)]
pub struct ManageQuery {
    #[serde(default)]
    email: String,
    #[serde(default)]
    done: Option<String>,
}

/// The actions a form may post, as `roster` answers them.
const ACTIONS: [&str; 6] = ["add", "change", "disable", "enable", "reset", "remove"];

fn role_label(s: &Console, lang: &str, role: Role) -> String {
    match role {
        Role::Operator => t(s, lang, "console-role-operator"),
        Role::Admin => t(s, lang, "console-role-admin"),
    }
}

fn comuni_label(s: &Console, lang: &str, a: &Listed) -> String {
    if a.role == Role::Admin {
        return t(s, lang, "console-accounts-all-comuni");
    }
    a.comuni
        .iter()
        .map(|c| esc(&comune_name(s, lang, c)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn state_label(s: &Console, lang: &str, a: &Listed, now: Timestamp) -> String {
    match a.locked_until {
        Some(until) if until > now && !a.disabled => ta(
            s,
            lang,
            "console-accounts-state-locked",
            &[("until", local_time(until))],
        ),
        _ => t(s, lang, &format!("console-accounts-state-{}", a.status())),
    }
}

/// An account's facts as a definition list.
fn facts(s: &Console, lang: &str, a: &Listed) -> String {
    let now = Timestamp::now();
    let last = a
        .last_login
        .map(local_time)
        .unwrap_or_else(|| raw(s, lang, "console-accounts-never", &[]));
    let rows = [
        ("console-accounts-role", role_label(s, lang, a.role)),
        ("console-accounts-comuni", comuni_label(s, lang, a)),
        ("console-accounts-state", state_label(s, lang, a, now)),
        ("console-accounts-last-login", esc(&last)),
        ("console-accounts-created", esc(&local_time(a.created_at))),
    ];
    let items: String = rows
        .iter()
        .map(|(id, value)| format!("<dt>{}</dt><dd>{value}</dd>", t(s, lang, id)))
        .collect();
    format!("<dl class=\"facts\">{items}</dl>")
}

/// The role select and the comuni checkboxes, `a`'s own checked (none for a new account).
fn role_and_comuni(s: &Console, lang: &str, a: Option<&Listed>) -> String {
    let role = a.map_or(Role::Operator, |a| a.role);
    let options: String = [Role::Operator, Role::Admin]
        .into_iter()
        .map(|r| {
            let selected = if r == role { " selected" } else { "" };
            format!(
                "<option value=\"{}\"{selected}>{}</option>",
                roster::role_name(r),
                role_label(s, lang, r)
            )
        })
        .collect();
    let boxes: String = s
        .engine
        .flows
        .ids()
        .map(|c| {
            let checked = if a.is_some_and(|a| a.comuni.iter().any(|x| x == c)) {
                " checked"
            } else {
                ""
            };
            format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"comune\" value=\"{id}\"{checked}> {name}</label>",
                id = esc(c),
                name = esc(&comune_name(s, lang, c)),
            )
        })
        .collect();
    format!(
        "<label for=\"role\">{role_l}</label><select id=\"role\" name=\"role\">{options}</select>\
<fieldset><legend>{comuni_l}</legend><p class=\"hint\">{hint}</p>{boxes}</fieldset>",
        role_l = t(s, lang, "console-accounts-role"),
        comuni_l = t(s, lang, "console-accounts-comuni"),
        hint = t(s, lang, "console-accounts-comuni-hint"),
    )
}

fn hidden(staff: &Staff, email: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"email\" value=\"{}\">",
        esc(&staff.session.csrf),
        esc(email)
    )
}

fn list_body(s: &Console, staff: &Staff, notice: Option<&Notice>) -> Result<(String, String), ConsoleError> {
    staff.admin_only()?;
    let lang = staff.lang();
    let title = raw(s, lang, "console-accounts-title", &[]);
    let Answer::Listed { accounts } = roster::run(&s.engine, Call::List, &staff.account.email, Timestamp::now())?
    else {
        return Err(ConsoleError::NotFound);
    };
    let mut html = format!(
        "{who}{nav}<h1>{title}</h1>{notice}<p>{intro}</p><ul class=\"cards\">",
        who = who(s, staff),
        nav = super::nav::nav(s, staff),
        title = esc(&title),
        notice = notice_html(s, lang, notice),
        intro = t(s, lang, "console-accounts-intro"),
    );
    for a in &accounts {
        html.push_str(&format!(
            "<li><h2>{email}</h2>{facts}<p><a href=\"/staff/accounts/manage?email={q}\">{manage}</a></p></li>",
            email = esc(&a.email),
            facts = facts(s, lang, a),
            q = url_encode(&a.email),
            manage = ta(s, lang, "console-accounts-manage", &[("email", a.email.clone())]),
        ));
    }
    html.push_str("</ul>");
    let languages: String = ["it", "fr"]
        .iter()
        .map(|l| {
            format!(
                "<option value=\"{l}\">{}</option>",
                t(s, lang, &format!("console-language-{l}"))
            )
        })
        .collect();
    html.push_str(&format!(
        "<h2 id=\"add-h\">{add}</h2><form method=\"post\" action=\"/staff/accounts/add\" aria-labelledby=\"add-h\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"email\">{email_l}</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"off\" required>\
{role_and_comuni}\
<label for=\"language\">{language_l}</label><select id=\"language\" name=\"language\">{languages}</select>\
<p class=\"hint\">{add_hint}</p><p><button type=\"submit\">{add_button}</button></p></form>",
        add = t(s, lang, "console-accounts-add"),
        csrf = esc(&staff.session.csrf),
        email_l = t(s, lang, "console-accounts-email"),
        role_and_comuni = role_and_comuni(s, lang, None),
        language_l = t(s, lang, "console-accounts-language"),
        add_hint = t(s, lang, "console-accounts-add-hint"),
        add_button = t(s, lang, "console-accounts-add-button"),
    ));
    Ok((title, html))
}

/// `GET /staff/accounts`.
pub async fn list(State(s): State<Console>, staff: Staff, Query(q): Query<ListQuery>) -> Response {
    let notice = q
        .done
        .filter(|d| ACTIONS.contains(&d.as_str()))
        .map(|d| Notice::Done(format!("staff-{d}")));
    page(&s, &staff, StatusCode::OK, list_body(&s, &staff, notice.as_ref()))
}

fn manage_body(
    s: &Console,
    staff: &Staff,
    email: &str,
    notice: Option<&Notice>,
) -> Result<(String, String), ConsoleError> {
    staff.admin_only()?;
    let lang = staff.lang();
    let Answer::Listed { accounts } = roster::run(&s.engine, Call::List, &staff.account.email, Timestamp::now())?
    else {
        return Err(ConsoleError::NotFound);
    };
    let wanted = accounts::normalize_email(email).map_err(|_| ConsoleError::NotFound)?;
    let a = accounts
        .into_iter()
        .find(|a| a.email == wanted)
        .ok_or(ConsoleError::NotFound)?;
    let title = raw(s, lang, "console-accounts-manage", &[("email", a.email.clone())]);
    let own = a.email == staff.account.email;
    let mut html = format!(
        "{who}{nav}<p><a href=\"/staff/accounts\">{back}</a></p><h1>{title}</h1>{notice}{facts}",
        who = who(s, staff),
        nav = super::nav::nav(s, staff),
        back = t(s, lang, "console-accounts-back"),
        title = esc(&title),
        notice = notice_html(s, lang, notice),
        facts = facts(s, lang, &a),
    );
    let hidden = hidden(staff, &a.email);
    html.push_str(&format!(
        "<h2 id=\"change-h\">{change}</h2><form method=\"post\" action=\"/staff/accounts/change\" aria-labelledby=\"change-h\">{hidden}{fields}<p><button type=\"submit\">{save}</button></p></form>",
        change = t(s, lang, "console-accounts-change"),
        fields = role_and_comuni(s, lang, Some(&a)),
        save = t(s, lang, "console-accounts-save"),
    ));
    html.push_str(&format!(
        "<h2 id=\"reset-h\">{reset}</h2><p>{reset_hint}</p><form method=\"post\" action=\"/staff/accounts/reset\" aria-labelledby=\"reset-h\">{hidden}<button type=\"submit\">{reset_button}</button></form>",
        reset = t(s, lang, "console-accounts-reset"),
        reset_hint = t(s, lang, "console-accounts-reset-hint"),
        reset_button = t(s, lang, "console-accounts-reset-button"),
    ));
    if own {
        html.push_str(&format!("<p>{}</p>", t(s, lang, "console-accounts-own")));
        return Ok((title, html));
    }
    let (toggle, toggle_hint, toggle_button) = if a.disabled {
        (
            "enable",
            "console-accounts-enable-hint",
            "console-accounts-enable-button",
        )
    } else {
        (
            "disable",
            "console-accounts-disable-hint",
            "console-accounts-disable-button",
        )
    };
    html.push_str(&format!(
        "<h2 id=\"access-h\">{access}</h2><p>{hint}</p><form method=\"post\" action=\"/staff/accounts/{toggle}\" aria-labelledby=\"access-h\">{hidden}<button type=\"submit\"{class}>{button}</button></form>",
        access = t(s, lang, "console-accounts-access"),
        class = if a.disabled { "" } else { " class=\"danger\"" },
        hint = t(s, lang, toggle_hint),
        button = t(s, lang, toggle_button),
    ));
    html.push_str(&format!(
        "<h2 id=\"remove-h\">{remove}</h2><p>{hint}</p><form method=\"post\" action=\"/staff/accounts/remove\" aria-labelledby=\"remove-h\">{hidden}\
<label class=\"check\"><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> {confirm}</label><p><button type=\"submit\" class=\"danger\">{button}</button></p></form>",
        remove = t(s, lang, "console-accounts-remove"),
        hint = t(s, lang, "console-accounts-remove-hint"),
        confirm = ta(s, lang, "console-accounts-remove-confirm", &[("email", a.email.clone())]),
        button = t(s, lang, "console-accounts-remove-button"),
    ));
    Ok((title, html))
}

/// `GET /staff/accounts/manage?email=…`.
pub async fn manage(State(s): State<Console>, staff: Staff, Query(q): Query<ManageQuery>) -> Response {
    let notice = q
        .done
        .filter(|d| ACTIONS.contains(&d.as_str()))
        .map(|d| Notice::Done(format!("staff-{d}")));
    page(
        &s,
        &staff,
        StatusCode::OK,
        manage_body(&s, &staff, &q.email, notice.as_ref()),
    )
}

fn page(s: &Console, staff: &Staff, status: StatusCode, body: Result<(String, String), ConsoleError>) -> Response {
    let lang = staff.lang();
    match body {
        Ok((title, html)) => (status, Html(console_page(s, lang, &title, &[], &html))).into_response(),
        Err(e) => error_page(s, lang, e),
    }
}

/// A posted account form: the fields by name, `comune` repeated.
fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

fn call_of(action: &str, form: &[(String, String)]) -> Option<Call> {
    let email = field(form, "email").to_string();
    let role = || match field(form, "role") {
        "admin" => Some(Role::Admin),
        "operator" => Some(Role::Operator),
        _ => None,
    };
    let comuni = || -> Vec<String> {
        form.iter()
            .filter(|(k, _)| k == "comune")
            .map(|(_, v)| v.clone())
            .collect()
    };
    Some(match action {
        "add" => Call::Add {
            email,
            role: role()?,
            comuni: comuni(),
            language: super::lang(field(form, "language")).to_string(),
            password: None,
        },
        "change" => Call::Change {
            email,
            role: role()?,
            comuni: comuni(),
        },
        "disable" => Call::Disable { email },
        "enable" => Call::Enable { email },
        "reset" => Call::Reset { email },
        "remove" if field(form, "confirm") == "yes" => Call::Remove { email },
        _ => return None,
    })
}

/// `POST /staff/accounts/{action}`: runs the action, audited with the administrator as its
/// author. A one-time password (new account, reset) is shown on the answer page, once;
/// other actions return to the list or the account's page; a refusal shows the page again
/// with the reason.
pub async fn action_post(
    State(s): State<Console>,
    staff: Staff,
    Path(action): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let lang = staff.lang();
    if let Err(e) = staff.admin_only().and_then(|()| staff.check_csrf(field(&form, "csrf"))) {
        return error_page(&s, lang, e);
    }
    if !ACTIONS.contains(&action.as_str()) {
        return error_page(&s, lang, ConsoleError::NotFound);
    }
    let email = field(&form, "email").to_string();
    let problem = |id: &'static str, status: StatusCode| {
        let notice = Notice::Problem(id);
        let body = if action == "add" {
            list_body(&s, &staff, Some(&notice))
        } else {
            manage_body(&s, &staff, &email, Some(&notice))
        };
        page(&s, &staff, status, body)
    };
    let Some(call) = call_of(&action, &form) else {
        return problem("console-accounts-incomplete", StatusCode::BAD_REQUEST);
    };
    // A new account hashes a password: off the async workers, a few at a time.
    let (engine, actor) = (s.engine.clone(), staff.account.email.clone());
    let answer = accounts::with_hashing(move || roster::run(&engine, call, &actor, Timestamp::now()))
        .await
        .and_then(|r| r);
    match answer {
        Ok(Answer::Added {
            email,
            one_time: Some((code, until)),
            ..
        })
        | Ok(Answer::Reset {
            email,
            one_time: (code, until),
        }) => shown_once(&s, &staff, &action, &email, &code, until),
        Ok(Answer::Added { email, .. } | Answer::Changed { email } | Answer::Disabled { email })
        | Ok(Answer::Enabled { email }) => Redirect::to(&format!(
            "/staff/accounts/manage?email={}&done={action}",
            url_encode(&email)
        ))
        .into_response(),
        Ok(Answer::Removed { .. }) => Redirect::to("/staff/accounts?done=remove").into_response(),
        Ok(Answer::Listed { .. }) => error_page(&s, lang, ConsoleError::NotFound),
        Ok(Answer::NoAccount { .. }) => error_page(&s, lang, ConsoleError::NotFound),
        Ok(Answer::UnknownComune { .. }) => problem("console-accounts-unknown-comune", StatusCode::BAD_REQUEST),
        Ok(Answer::LastAdmin { .. }) => problem("console-accounts-last-admin", StatusCode::CONFLICT),
        Ok(Answer::OwnAccount { .. }) => problem("console-accounts-own", StatusCode::CONFLICT),
        Err(ConsoleError::InvalidEmail) => problem("console-accounts-invalid-email", StatusCode::BAD_REQUEST),
        Err(ConsoleError::Exists) => problem("console-accounts-exists", StatusCode::CONFLICT),
        Err(ConsoleError::NoComune) => problem("console-accounts-no-comune", StatusCode::BAD_REQUEST),
        Err(e) => error_page(&s, lang, e),
    }
}

/// The page that shows a one-time password, once: not cached, not stored.
fn shown_once(s: &Console, staff: &Staff, action: &str, email: &str, code: &str, until: Timestamp) -> Response {
    let lang = staff.lang();
    let title = raw(
        s,
        lang,
        "console-accounts-one-time-title",
        &[("email", email.to_string())],
    );
    let intro = if action == "add" {
        "console-accounts-one-time-added"
    } else {
        "console-accounts-one-time-reset"
    };
    let html = format!(
        "{who}{nav}<h1>{title}</h1><p role=\"status\">{intro}</p><p class=\"secret\"><code>{code}</code></p><p>{hint}</p><p><a href=\"/staff/accounts/manage?email={q}\">{back}</a></p>",
        who = who(s, staff),
        nav = super::nav::nav(s, staff),
        title = esc(&title),
        intro = ta(s, lang, intro, &[("email", email.to_string())]),
        code = esc(code),
        hint = ta(s, lang, "console-accounts-one-time-hint", &[("until", local_time(until))]),
        q = url_encode(email),
        back = t(s, lang, "console-accounts-back-account"),
    );
    (
        StatusCode::OK,
        [(CACHE_CONTROL, "no-store")],
        Html(console_page(s, lang, &title, &[], &html)),
    )
        .into_response()
}
