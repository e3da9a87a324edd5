//! The console's pages: login, logout, home (the comuni an account may see, with their
//! figures) and one comune's pending moderation cases. Server-rendered with the public
//! pages' accessible layout (`crate::web::html`); every word from `locales/<lang>/console.ftl`.
//!
//! Handlers are thin: extract, call a plain function, render. Must not decide on accounts
//! or sessions (`accounts`, `session` do) and never shows a citizen's full number.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Response};
use axum::{Extension, Form};
use fluent_bundle::FluentArgs;
use jiff::Timestamp;
use serde::Deserialize;

use super::lockout::Lockouts;
use super::session::{self, Staff};
use super::state::Console;
use super::{accounts, audit, lang, ConsoleError};
use crate::server::pace::{self, Paces};
use crate::storage::{Account, CaseStatus, Role};
use crate::web::esc;
use crate::web::html::page;

/// A console text, escaped.
pub(crate) fn t(s: &Console, lang: &str, id: &str) -> String {
    esc(&s.engine.locales.format(lang, id, None).unwrap_or_default())
}

/// A console text with arguments, unescaped (for a page's `<title>`, which the layout
/// escapes itself).
pub(crate) fn raw(s: &Console, lang: &str, id: &str, args: &[(&str, String)]) -> String {
    let mut a = FluentArgs::new();
    for (k, v) in args {
        a.set(*k, v.clone());
    }
    s.engine.locales.format(lang, id, Some(&a)).unwrap_or_default()
}

/// A console text with arguments, escaped.
pub(crate) fn ta(s: &Console, lang: &str, id: &str, args: &[(&str, String)]) -> String {
    let mut a = FluentArgs::new();
    for (k, v) in args {
        a.set(*k, v.clone());
    }
    esc(&s.engine.locales.format(lang, id, Some(&a)).unwrap_or_default())
}

/// A moment as staff read it: Europe/Rome, day first.
pub(crate) fn local_time(at: Timestamp) -> String {
    crate::hours::shown(at)
}

/// A citizen's number with all but its last three characters hidden (`•••••••567`).
pub fn mask(number: &str) -> String {
    let n = number.chars().count();
    let keep = if n > 3 { 3 } else { 0 };
    let tail: String = number.chars().skip(n - keep).collect();
    format!("{}{tail}", "•".repeat(n - keep))
}

/// A comune's display name in `lang` (its own language if it has none in `lang`).
pub(crate) fn comune_name(s: &Console, lang: &str, id: &str) -> String {
    s.engine
        .flows
        .get(id)
        .and_then(|f| {
            s.engine
                .locales
                .format(lang, &f.name, None)
                .or_else(|| s.engine.locales.format(f.default_language(), &f.name, None))
        })
        .unwrap_or_else(|| id.to_string())
}

/// The comune's categories as (id, name in `lang`; in the comune's first language when
/// `lang` has none; the id when neither names it).
pub(crate) fn categories(s: &Console, lang: &str, flow: &crate::flow::Flow) -> Vec<(String, String)> {
    flow.categories
        .iter()
        .map(|c| {
            let label = s
                .engine
                .locales
                .format(lang, &c.label, None)
                .or_else(|| s.engine.locales.format(flow.default_language(), &c.label, None))
                .unwrap_or_else(|| c.id.clone());
            (c.id.clone(), label)
        })
        .collect()
}

/// A whole console page: the shared layout with the console's brand.
pub(crate) fn console_page(
    s: &Console,
    lang: &str,
    title: &str,
    langs: &[(String, String, String)],
    body: &str,
) -> String {
    let brand = s.engine.locales.format(lang, "console-brand", None).unwrap_or_default();
    page(&s.engine.locales, lang, title, &brand, langs, body, "")
}

/// An error as a localized page; a missing session still redirects to the login page.
pub fn error_page(s: &Console, lang: &str, e: ConsoleError) -> Response {
    let id = match &e {
        ConsoleError::Unauthenticated { .. } => return e.into_response(),
        ConsoleError::Csrf => "console-error-csrf",
        ConsoleError::Forbidden => "console-error-forbidden",
        ConsoleError::NotFound => "console-error-not-found",
        ConsoleError::Busy => "console-error-busy",
        _ => {
            tracing::error!(error = %e, "console request failed");
            "console-error-internal"
        }
    };
    let title = s
        .engine
        .locales
        .format(lang, "console-error-title", None)
        .unwrap_or_default();
    let body = format!("<h1>{}</h1><p>{}</p>", esc(&title), t(s, lang, id));
    (e.status(), Html(console_page(s, lang, &title, &[], &body))).into_response()
}

/// The signed-in line and the logout button, at the top of every page behind login.
pub(crate) fn who(s: &Console, staff: &Staff) -> String {
    let lang = staff.lang();
    let role = match staff.account.role {
        Role::Operator => "console-role-operator",
        Role::Admin => "console-role-admin",
    };
    let role = s.engine.locales.format(lang, role, None).unwrap_or_default();
    format!(
        "<form method=\"post\" action=\"/staff/logout\" class=\"inline\"><p>{}</p><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">{}</button></form>",
        ta(s, lang, "console-signed-in", &[("email", staff.account.email.clone()), ("role", role)]),
        esc(&staff.session.csrf),
        t(s, lang, "console-logout"),
    )
}

// ---- login and logout ----------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// The login form: `token` is the pre-session CSRF token, `problem` an already escaped message.
fn login_page(s: &Console, lang: &str, token: &str, problem: Option<&str>) -> String {
    let offered = ["it".to_string(), "fr".to_string()];
    let langs = crate::web::lang_links(&s.engine.locales, &offered, |l| format!("/staff/login?lang={l}"));
    let problem = problem
        .map(|p| format!("<p role=\"alert\"><strong>{p}</strong></p>"))
        .unwrap_or_default();
    let body = format!(
        "<h1>{title}</h1>{problem}<p>{intro}</p>\
<form method=\"post\" action=\"/staff/login\">\
<input type=\"hidden\" name=\"csrf\" value=\"{token}\"><input type=\"hidden\" name=\"lang\" value=\"{lang}\">\
<label for=\"email\">{email}</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>\
<label for=\"password\">{password}</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<p><button type=\"submit\">{submit}</button></p></form>",
        title = t(s, lang, "console-login-title"),
        intro = t(s, lang, "console-login-intro"),
        token = esc(token),
        email = t(s, lang, "console-email"),
        password = t(s, lang, "console-password"),
        submit = t(s, lang, "console-login-submit"),
    );
    let title = s
        .engine
        .locales
        .format(lang, "console-login-title", None)
        .unwrap_or_default();
    console_page(s, lang, &title, &langs, &body)
}

/// `GET /staff/login`: the form, with its pre-session token in a cookie and a hidden field.
/// Paced per address as the other public pages are.
pub async fn login_form(
    State(s): State<Console>,
    Extension(paces): Extension<Arc<Paces>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(q.lang.as_deref().unwrap_or("it"));
    let from = pace::client_ip(peer, &headers, &s.config.pace.trusted_proxies);
    if let Err(wait) = paces.pages.take(from, s.config.pace.pages, Instant::now()) {
        return pace::too_many(wait, t(&s, lang, "too-many-requests"));
    }
    match session::login_token(&headers, session::secure(&s)) {
        Ok((token, cookie)) => ([(SET_COOKIE, cookie)], Html(login_page(&s, lang, &token, None))).into_response(),
        Err(e) => error_page(&s, lang, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
}

/// Checks the credentials, audits the attempt and opens a session; returns the cookie token.
fn try_login(
    store: &dyn crate::storage::Store,
    lockouts: &Lockouts,
    email: &str,
    password: &str,
    from: IpAddr,
) -> Result<String, ConsoleError> {
    let now = Timestamp::now();
    // Whether the account, or this address for it, was locked before this attempt: a lock
    // set by the attempt itself is a lockout, audited once.
    let normalized = accounts::normalize_email(email).ok();
    let account_locked_before = account_locked(store, normalized.as_deref(), now);
    let address_locked_before = normalized
        .as_deref()
        .is_some_and(|e| lockouts.locked(e, from, now).is_some());
    match accounts::login(store, lockouts, email, password, from, now) {
        Ok(account) => {
            let (token, _) = session::open(store, &account.email, now)?;
            let detail = if account.must_change_password {
                "logged in with a one-time password"
            } else {
                "logged in"
            };
            audit(store, &account.email, "", "login", detail)?;
            Ok(token)
        }
        Err(e @ (ConsoleError::BadCredentials | ConsoleError::Locked { .. })) => {
            // The actor is the account when it exists; what was typed is never recorded
            // (it may be a password typed in the wrong field).
            let known = normalized.as_deref().map(|e| store.account(e)).transpose()?.flatten();
            let actor = known.as_ref().map(|a: &Account| a.email.as_str()).unwrap_or("unknown");
            let account_locked_now = account_locked(store, normalized.as_deref(), now);
            let detail = match (&e, known.is_some()) {
                (ConsoleError::Locked { .. }, _) if account_locked_now => "refused: account locked",
                (ConsoleError::Locked { .. }, _) => "refused: too many failures from this address",
                (_, true) => "refused: wrong password",
                (_, false) => "refused: unknown e-mail",
            };
            audit(store, actor, "", "login-failed", detail)?;
            let new_lock = match (&e, &known) {
                (ConsoleError::Locked { until }, Some(account)) if account_locked_now && !account_locked_before => {
                    Some((
                        account,
                        format!(
                            "account locked after {} failed logins until {until}",
                            accounts::MAX_FAILURES
                        ),
                    ))
                }
                (ConsoleError::Locked { until }, Some(account)) if !account_locked_now && !address_locked_before => {
                    Some((account, format!("one address locked out of the account until {until}")))
                }
                _ => None,
            };
            if let Some((account, detail)) = new_lock {
                audit(store, &account.email, "", "lockout", &detail)?;
            }
            Err(e)
        }
        Err(ConsoleError::Disabled) => {
            if let Some(email) = normalized.as_deref() {
                audit(store, email, "", "login-failed", "refused: account disabled")?;
            }
            Err(ConsoleError::Disabled)
        }
        Err(e) => Err(e),
    }
}

/// Whether the account itself (not one address) is locked now.
fn account_locked(store: &dyn crate::storage::Store, email: Option<&str>, now: Timestamp) -> bool {
    email
        .and_then(|e| store.account(e).ok().flatten())
        .is_some_and(|a| a.locked_until.is_some_and(|u| u > now))
}

/// `POST /staff/login`: the form's token must match its cookie (403 otherwise); a wrong
/// password or a locked account shows the form again with the reason (401).
pub async fn login_post(
    State(s): State<Console>,
    Extension(paces): Extension<Arc<Paces>>,
    Extension(lockouts): Extension<Arc<Lockouts>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = lang(&f.lang);
    // Before anything costly: a few tries a minute from one address, whatever the account.
    let from = pace::client_ip(peer, &headers, &s.config.pace.trusted_proxies);
    if let Err(wait) = paces.login.take(from, s.config.pace.login, Instant::now()) {
        return pace::too_many(wait, t(&s, lang, "too-many-requests"));
    }
    if !session::login_token_ok(&headers, &f.csrf) {
        return error_page(&s, lang, ConsoleError::Csrf);
    }
    let secure = session::secure(&s);
    let store = s.engine.store.clone();
    // Argon2 is deliberately slow: off the async workers, a few at a time.
    let (email, password) = (f.email, f.password);
    let result = accounts::with_hashing(move || try_login(store.as_ref(), &lockouts, &email, &password, from))
        .await
        .and_then(|r| r);
    match result {
        Ok(token) => (
            StatusCode::SEE_OTHER,
            AppendHeaders([
                // A one-time password leads straight to choosing a new one (`Staff` insists).
                (LOCATION, "/staff".to_string()),
                (SET_COOKIE, session::session_cookie(&token, secure)),
                (SET_COOKIE, session::set_cookie(session::LOGIN_COOKIE, "", 0, secure)),
            ]),
        )
            .into_response(),
        Err(e @ (ConsoleError::BadCredentials | ConsoleError::Locked { .. } | ConsoleError::Disabled)) => {
            let problem = match &e {
                ConsoleError::Locked { until } => {
                    ta(&s, lang, "console-login-locked", &[("until", local_time(*until))])
                }
                ConsoleError::Disabled => t(&s, lang, "console-login-disabled"),
                _ => t(&s, lang, "console-login-failed"),
            };
            match session::login_token(&headers, secure) {
                Ok((token, cookie)) => (
                    e.status(),
                    [(SET_COOKIE, cookie)],
                    Html(login_page(&s, lang, &token, Some(&problem))),
                )
                    .into_response(),
                Err(e) => error_page(&s, lang, e),
            }
        }
        Err(e) => error_page(&s, lang, e),
    }
}

/// A form that carries only the session's CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub(super) csrf: String,
}

/// `POST /staff/logout`: ends the session (token checked) and returns to the login page.
pub async fn logout(State(s): State<Console>, staff: Staff, Form(f): Form<CsrfForm>) -> Response {
    let lang = staff.lang();
    let done = staff.check_csrf(&f.csrf).and_then(|()| {
        let store = s.engine.store.as_ref();
        store.remove_session(&staff.session_key)?;
        audit(store, &staff.account.email, "", "logout", "logged out")?;
        Ok(())
    });
    match done {
        Ok(()) => (
            StatusCode::SEE_OTHER,
            AppendHeaders([
                (LOCATION, "/staff/login".to_string()),
                (
                    SET_COOKIE,
                    session::set_cookie(session::COOKIE, "", 0, session::secure(&s)),
                ),
            ]),
        )
            .into_response(),
        Err(e) => error_page(&s, lang, e),
    }
}

// ---- home and comune pages -----------------------------------------------------------

/// The comuni an account may see, in the flows' order.
pub fn visible_comuni(s: &Console, account: &Account) -> Vec<String> {
    s.engine
        .flows
        .ids()
        .filter(|c| account.may(c))
        .map(String::from)
        .collect()
}

/// One comune's figures on the home page: (subscribers, pending moderation cases).
fn figures(s: &Console, comune: &str) -> Result<(usize, usize), ConsoleError> {
    let store = s.engine.store.as_ref();
    let mut subscribers = 0;
    crate::storage::each_citizen(store, comune, |_, c| {
        subscribers += usize::from(c.status() == "subscribed");
        Ok(true)
    })?;
    let pending = store
        .cases(comune)?
        .iter()
        .filter(|(_, c)| c.status == CaseStatus::Pending)
        .count();
    Ok((subscribers, pending))
}

fn home_body(s: &Console, staff: &Staff) -> Result<String, ConsoleError> {
    let lang = staff.lang();
    let mut body = format!(
        "{}{}<h1>{}</h1>",
        who(s, staff),
        super::nav::nav(s, staff),
        t(s, lang, "console-home-title")
    );
    let comuni = visible_comuni(s, &staff.account);
    if comuni.is_empty() {
        body.push_str(&format!("<p>{}</p>", t(s, lang, "console-home-none")));
    }
    for comune in comuni {
        let (subscribers, pending) = figures(s, &comune)?;
        body.push_str(&format!(
            "<section aria-labelledby=\"c-{id}\"><h2 id=\"c-{id}\"><a href=\"/staff/{id}\">{name}</a></h2><ul><li>{subs}</li><li>{pend}</li><li>{inbox}</li></ul>{links}</section>",
            id = esc(&comune),
            name = esc(&comune_name(s, lang, &comune)),
            subs = ta(s, lang, "console-subscribers", &[("count", subscribers.to_string())]),
            pend = ta(s, lang, "console-pending", &[("count", pending.to_string())]),
            inbox = super::inbox_pages::inbox_link(s, lang, &comune),
            links = super::nav::comune_links(s, lang, &comune),
        ));
    }
    Ok(body)
}

/// `GET /staff`: the comuni this account may see, each with its subscribers and pending
/// moderation cases.
pub async fn home(State(s): State<Console>, staff: Staff) -> Response {
    let lang = staff.lang();
    match home_body(&s, &staff) {
        Ok(body) => {
            let title = s
                .engine
                .locales
                .format(lang, "console-home-title", None)
                .unwrap_or_default();
            Html(console_page(&s, lang, &title, &[], &body)).into_response()
        }
        Err(e) => error_page(&s, lang, e),
    }
}

fn comune_body(s: &Console, staff: &Staff, comune: &str) -> Result<(String, String), ConsoleError> {
    if !staff.account.may(comune) {
        return Err(ConsoleError::Forbidden);
    }
    if s.engine.flows.get(comune).is_none() {
        return Err(ConsoleError::NotFound);
    }
    let lang = staff.lang();
    let title = s
        .engine
        .locales
        .format(
            lang,
            "console-comune-title",
            Some(&{
                let mut a = FluentArgs::new();
                a.set("comune", comune_name(s, lang, comune));
                a
            }),
        )
        .unwrap_or_default();
    let mut body = format!(
        "{}<p><a href=\"/staff\">{}</a></p><h1>{}</h1>",
        who(s, staff),
        t(s, lang, "console-back"),
        esc(&title)
    );
    body.push_str(&format!("<p>{}</p>", super::inbox_pages::inbox_link(s, lang, comune)));
    let pending: Vec<_> = s
        .engine
        .store
        .cases(comune)?
        .into_iter()
        .filter(|(_, c)| c.status == CaseStatus::Pending)
        .collect();
    if pending.is_empty() {
        body.push_str(&format!("<p>{}</p>", t(s, lang, "console-cases-none")));
    } else {
        body.push_str("<ul>");
        for (id, case) in pending {
            let rule = super::render::rule_name(s, lang, case.rule);
            body.push_str(&format!(
                "<li id=\"case-{id}\"><strong><a href=\"{}\">{}</a></strong><br>{}{}</li>",
                esc(&super::case_pages::case_path(comune, id)),
                esc(&rule),
                ta(
                    s,
                    lang,
                    "console-case-detail",
                    &[
                        ("at", local_time(case.at)),
                        ("number", mask(&case.key.citizen)),
                        ("channel", case.key.channel.clone()),
                    ]
                ),
                super::citizen_pages::citizen_link(s, lang, &case.key),
            ));
        }
        body.push_str("</ul>");
    }
    Ok((title, body))
}

/// `GET /staff/{comune}`: the comune's pending moderation cases (403 for an operator of
/// another comune).
pub async fn comune(State(s): State<Console>, staff: Staff, Path(comune): Path<String>) -> Response {
    let lang = staff.lang();
    match comune_body(&s, &staff, &comune) {
        Ok((title, body)) => Html(console_page(&s, lang, &title, &[], &body)).into_response(),
        Err(e) => error_page(&s, lang, e),
    }
}

/// `GET /staff/api/me`: who is logged in and the comuni they may see, for the console's
/// scripts (401 JSON without a session, like every `/staff/api/*` route).
pub async fn api_me(State(s): State<Console>, staff: Staff) -> Response {
    axum::Json(serde_json::json!({
        "email": staff.account.email,
        "role": staff.account.role,
        "language": staff.lang(),
        "comuni": visible_comuni(&s, &staff.account),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn numbers_keep_their_last_three_digits() {
        assert_eq!(mask("3933312345567"), "••••••••••567");
        assert_eq!(mask("12"), "••");
        assert_eq!(mask(""), "");
    }
}
