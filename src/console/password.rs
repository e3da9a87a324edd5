//! `/staff/password`: a staff member changes their own password (issue 4). The current
//! password is checked, the new one must be long enough and typed twice; on success every
//! other session of the account ends (a stolen cookie stops working) and the change is
//! audited, without either password.
//!
//! Owns the change's rules and its error type. Must not create accounts or touch another
//! account's password (`sportello staff` does), and never logs a password.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use jiff::Timestamp;
use serde::Deserialize;

use super::lockout::Lockouts;
use super::pages::{console_page, error_page, t, ta, who};
use super::state::Console;
use super::{accounts, audit, ConsoleError, Staff};
use crate::storage::Store;
use crate::web::esc;

/// Why a password change was refused.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the current password is wrong")]
    WrongCurrent,
    #[error("the account is locked")]
    Locked,
    #[error("the new password is too short")]
    TooShort,
    #[error("the new password is too easy to guess")]
    Weak,
    #[error("the two new passwords differ")]
    Mismatch,
    #[error("the new password equals the current one")]
    Unchanged,
    #[error(transparent)]
    Console(#[from] ConsoleError),
}

impl PasswordError {
    /// The Fluent id shown above the form.
    fn message_id(&self) -> &'static str {
        match self {
            PasswordError::WrongCurrent => "console-password-wrong",
            PasswordError::Locked => "console-password-locked",
            PasswordError::TooShort => "console-password-short",
            PasswordError::Weak => "console-password-weak",
            PasswordError::Mismatch => "console-password-mismatch",
            PasswordError::Unchanged => "console-password-unchanged",
            PasswordError::Console(_) => "console-error-internal",
        }
    }
}

/// Changes `email`'s password and ends its sessions but `keep` (the caller's). Returns how
/// many other sessions ended. An account that logged in with a one-time password
/// (`must_change_password`) has no current password to give: its session is the proof.
pub fn change(
    store: &dyn Store,
    email: &str,
    current: &str,
    new: &str,
    repeat: &str,
    keep: &str,
    (lockouts, from): (&Lockouts, IpAddr),
) -> Result<usize, PasswordError> {
    let forced = store
        .account(email)
        .map_err(ConsoleError::from)?
        .filter(|a| a.must_change_password);
    // The current password is checked as a login is: a wrong one counts towards the lockout,
    // so a stolen session cannot be used to guess it.
    let checked = match forced {
        Some(account) => Ok(account),
        None => accounts::login(store, lockouts, email, current, from, Timestamp::now()),
    };
    let mut account = match checked {
        Ok(account) => account,
        Err(e @ (ConsoleError::BadCredentials | ConsoleError::Locked { .. })) => {
            let locked = matches!(e, ConsoleError::Locked { .. });
            let detail = if locked {
                "refused: account locked"
            } else {
                "refused: wrong current password"
            };
            audit(store, email, "", "password-change-failed", detail).map_err(ConsoleError::from)?;
            return Err(if locked {
                PasswordError::Locked
            } else {
                PasswordError::WrongCurrent
            });
        }
        Err(e) => return Err(e.into()),
    };
    if new.chars().count() < accounts::MIN_PASSWORD {
        return Err(PasswordError::TooShort);
    }
    if accounts::weak_password(new) {
        return Err(PasswordError::Weak);
    }
    if new != repeat {
        return Err(PasswordError::Mismatch);
    }
    if new == current || (account.must_change_password && accounts::verify_password(new, &account.password_hash)) {
        return Err(PasswordError::Unchanged);
    }
    account.password_hash = accounts::hash_password(new)?;
    account.must_change_password = false;
    store.put_account(&account).map_err(ConsoleError::from)?;
    let mut ended = 0;
    for (key, session) in store.sessions().map_err(ConsoleError::from)? {
        if session.email == account.email && key != keep {
            store.remove_session(&key).map_err(ConsoleError::from)?;
            ended += 1;
        }
    }
    audit(
        store,
        &account.email,
        "",
        "password-change",
        &format!("password changed; {ended} other sessions ended"),
    )
    .map_err(ConsoleError::from)?;
    Ok(ended)
}

/// The form, with an already escaped message (`role="alert"` for a problem, `status` for
/// success).
fn form_page(s: &Console, staff: &Staff, message: Option<(&str, bool)>) -> String {
    let lang = staff.lang();
    let message = match message {
        Some((m, true)) => format!("<p role=\"alert\"><strong>{m}</strong></p>"),
        Some((m, false)) => format!("<p role=\"status\">{m}</p>"),
        None => String::new(),
    };
    // After a one-time password: no current password to give, and a word on why.
    let forced = staff.account.must_change_password;
    let intro = t(
        s,
        lang,
        if forced {
            "console-password-forced"
        } else {
            "console-password-intro"
        },
    );
    let current = if forced {
        String::new()
    } else {
        format!(
            "<label for=\"current\">{}</label><input id=\"current\" name=\"current\" type=\"password\" autocomplete=\"current-password\" required>",
            t(s, lang, "console-password-current")
        )
    };
    format!(
        "{who}{nav}<h1>{title}</h1>{message}<p>{intro}</p>\
<form method=\"post\" action=\"/staff/password\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
{current}\
<label for=\"new\">{new}</label><input id=\"new\" name=\"new\" type=\"password\" autocomplete=\"new-password\" minlength=\"{min}\" required aria-describedby=\"new-hint\">\
<p id=\"new-hint\">{hint}</p>\
<label for=\"repeat\">{repeat}</label><input id=\"repeat\" name=\"repeat\" type=\"password\" autocomplete=\"new-password\" minlength=\"{min}\" required>\
<p><button type=\"submit\">{submit}</button></p></form>",
        who = who(s, staff),
        nav = super::nav::nav(s, staff),
        title = t(s, lang, "console-password-title"),
        csrf = esc(&staff.session.csrf),
        new = t(s, lang, "console-password-new"),
        hint = ta(s, lang, "console-password-hint", &[("min", accounts::MIN_PASSWORD.to_string())]),
        min = accounts::MIN_PASSWORD,
        repeat = t(s, lang, "console-password-repeat"),
        submit = t(s, lang, "console-password-submit"),
    )
}

fn whole(s: &Console, staff: &Staff, body: &str) -> String {
    let lang = staff.lang();
    let title = s
        .engine
        .locales
        .format(lang, "console-password-title", None)
        .unwrap_or_default();
    console_page(s, lang, &title, &[], body)
}

/// `GET /staff/password`: the form.
pub async fn form(State(s): State<Console>, staff: Staff) -> Response {
    Html(whole(&s, &staff, &form_page(&s, &staff, None))).into_response()
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// `POST /staff/password`: changes the password (CSRF checked); the form again with the
/// reason when refused (400), or with a confirmation.
pub async fn post(
    State(s): State<Console>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(lockouts): Extension<Arc<Lockouts>>,
    headers: HeaderMap,
    staff: Staff,
    Form(f): Form<PasswordForm>,
) -> Response {
    let lang = staff.lang();
    if let Err(e) = staff.check_csrf(&f.csrf) {
        return error_page(&s, lang, e);
    }
    let store = s.engine.store.clone();
    let (email, keep) = (staff.account.email.clone(), staff.session_key.clone());
    let from = crate::server::pace::client_ip(peer, &headers, &s.config.pace.trusted_proxies);
    // Argon2 twice (verify, hash): off the async workers, a few at a time.
    let done = accounts::with_hashing(move || {
        change(
            store.as_ref(),
            &email,
            &f.current,
            &f.new,
            &f.repeat,
            &keep,
            (&lockouts, from),
        )
    })
    .await;
    match done.unwrap_or_else(|e| Err(PasswordError::Console(e))) {
        Ok(ended) => {
            let m = ta(&s, lang, "console-password-changed", &[("ended", ended.to_string())]);
            let mut staff = staff;
            staff.account.must_change_password = false;
            Html(whole(&s, &staff, &form_page(&s, &staff, Some((&m, false))))).into_response()
        }
        Err(PasswordError::Console(e)) => error_page(&s, lang, e),
        Err(e) => {
            let m = ta(&s, lang, e.message_id(), &[("min", accounts::MIN_PASSWORD.to_string())]);
            (
                StatusCode::BAD_REQUEST,
                Html(whole(&s, &staff, &form_page(&s, &staff, Some((&m, true))))),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::session;
    use crate::storage::StaffStore;
    use crate::storage::{MemoryStore, Role};

    #[test]
    fn a_change_checks_the_rules_and_ends_the_other_sessions() {
        let store = MemoryStore::new();
        let now = Timestamp::now();
        let old = "vecchia-password-1";
        accounts::create(&store, "op@isili.it", Role::Operator, vec!["isili".into()], old, now).unwrap();
        accounts::create(&store, "other@isili.it", Role::Operator, vec!["isili".into()], old, now).unwrap();
        let (mine, _) = session::open(&store, "op@isili.it", now).unwrap();
        let (theirs, _) = session::open(&store, "op@isili.it", now).unwrap();
        let (colleague, _) = session::open(&store, "other@isili.it", now).unwrap();
        let keep = session::sha256_hex(&mine);
        let new = "nuova-password-2";
        let here = IpAddr::from([127, 0, 0, 1]);
        let l = Lockouts::default();
        let try_ = |cur: &str, n: &str, r: &str| change(&store, "op@isili.it", cur, n, r, &keep, (&l, here));
        assert!(matches!(try_("sbagliata", new, new), Err(PasswordError::WrongCurrent)));
        assert_eq!(
            store.account("op@isili.it").unwrap().unwrap().failed_logins,
            1,
            "counts as a failed login"
        );
        assert!(matches!(try_(old, "corta", "corta"), Err(PasswordError::TooShort)));
        assert!(matches!(
            try_(old, new, "nuova-password-3"),
            Err(PasswordError::Mismatch)
        ));
        assert!(matches!(try_(old, old, old), Err(PasswordError::Unchanged)));
        assert_eq!(try_(old, new, new).unwrap(), 1);
        assert!(store.session(&keep).unwrap().is_some());
        assert!(store.session(&session::sha256_hex(&theirs)).unwrap().is_none());
        assert!(store.session(&session::sha256_hex(&colleague)).unwrap().is_some());
        assert!(accounts::login(&store, &l, "op@isili.it", new, here, now).is_ok());
        let log = store.audit(None).unwrap();
        let (_, last) = log.last().unwrap();
        assert_eq!(last.action, "password-change");
        assert!(!last.detail.contains(new) && !last.detail.contains(old));
    }

    #[test]
    fn after_a_one_time_password_the_change_needs_no_current_one_and_ends_the_obligation() {
        let store = MemoryStore::new();
        let now = Timestamp::now();
        let here = IpAddr::from([127, 0, 0, 1]);
        let l = Lockouts::default();
        let (_, code) =
            accounts::create_one_time(&store, "op@isili.it", Role::Operator, vec!["isili".into()], now, None).unwrap();
        assert!(
            accounts::login(&store, &l, "op@isili.it", &code, here, now)
                .unwrap()
                .must_change_password
        );
        let new = "nuova-password-2";
        assert!(matches!(
            change(
                &store,
                "op@isili.it",
                "",
                "aaaaaaaaaaaa",
                "aaaaaaaaaaaa",
                "k",
                (&l, here)
            ),
            Err(PasswordError::Weak)
        ));
        change(&store, "op@isili.it", "", new, new, "k", (&l, here)).unwrap();
        let account = store.account("op@isili.it").unwrap().unwrap();
        assert!(!account.must_change_password);
        // Now the current password is asked again.
        assert!(matches!(
            change(
                &store,
                "op@isili.it",
                "",
                "altra-password-3",
                "altra-password-3",
                "k",
                (&l, here)
            ),
            Err(PasswordError::WrongCurrent)
        ));
        assert!(accounts::login(&store, &l, "op@isili.it", new, here, now).is_ok());
    }
}
