//! The staff console (`/staff`): accounts, login, sessions and CSRF, and the pages staff
//! work in. A nested router whose every page but the login takes the [`Staff`] extractor.
//!
//! Owns the console's HTTP boundary and its error type. Must not hold dialogue or inbox
//! logic (the lead's `inbox` module) and never logs passwords, tokens or citizens' numbers.

pub mod accounts;
mod api;
mod audit_pages;
mod broadcast_pages;
mod case_pages;
mod citizen_pages;
mod closure_pages;
pub mod desk;
mod faq_pages;
mod faq_review;
mod inbox_pages;
mod live;
pub mod lockout;
pub mod media_upload;
mod nav;
mod pages;
mod password;
mod privacy_pages;
mod render;
pub mod session;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;

pub use session::Staff;

use crate::server::Server;
use crate::storage::{AuditEntry, Role, Store, StoreError};

/// Errors at the console boundary. Their text is for logs and the CLI; a browser only sees
/// a status and a localized page, never an internal message.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("account locked until {until}")]
    Locked { until: Timestamp },
    #[error("not logged in")]
    Unauthenticated { api: bool },
    #[error("a new password must be chosen first")]
    MustChangePassword { api: bool },
    #[error("the form's security token is missing or wrong")]
    Csrf,
    #[error("not allowed for this account")]
    Forbidden,
    #[error("no such page")]
    NotFound,
    #[error("not a valid e-mail address")]
    InvalidEmail,
    #[error("the password must have at least {} characters", accounts::MIN_PASSWORD)]
    PasswordTooShort,
    #[error("the password is too easy to guess (repeated or consecutive characters, or a common password)")]
    PasswordWeak,
    #[error("an operator needs at least one --comune")]
    NoComune,
    #[error("an account with this e-mail already exists")]
    Exists,
    #[error("no account with this e-mail")]
    NoAccount,
    #[error("cannot read random bytes from /dev/urandom")]
    Random,
    #[error("password hashing failed")]
    Hash,
    #[error("too many logins at once; try again in a moment")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ConsoleError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::BadCredentials | ConsoleError::Locked { .. } | ConsoleError::Unauthenticated { .. } => {
                StatusCode::UNAUTHORIZED
            }
            ConsoleError::Csrf | ConsoleError::Forbidden | ConsoleError::MustChangePassword { .. } => {
                StatusCode::FORBIDDEN
            }
            ConsoleError::NotFound | ConsoleError::NoAccount => StatusCode::NOT_FOUND,
            ConsoleError::InvalidEmail
            | ConsoleError::PasswordTooShort
            | ConsoleError::PasswordWeak
            | ConsoleError::NoComune
            | ConsoleError::Exists => StatusCode::BAD_REQUEST,
            ConsoleError::Random | ConsoleError::Hash | ConsoleError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ConsoleError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Without the server's locales at hand (an extractor's rejection): a redirect to the
/// login page, a JSON 401 for the API, else the bare status. Pages render their own errors
/// localized (`pages::error_page`).
impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            ConsoleError::Unauthenticated { api: false } => Redirect::to("/staff/login").into_response(),
            ConsoleError::MustChangePassword { api: false } => Redirect::to("/staff/password").into_response(),
            ConsoleError::MustChangePassword { api: true } => (
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({"error": "password-change-required"})),
            )
                .into_response(),
            ConsoleError::Unauthenticated { api: true } => (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({"error": "unauthenticated"})),
            )
                .into_response(),
            e => {
                if e.status().is_server_error() {
                    // Store errors carry no personal data (see storage::StoreError).
                    tracing::error!(error = %e, "console request failed");
                }
                let status = e.status();
                (status, status.canonical_reason().unwrap_or("error")).into_response()
            }
        }
    }
}

/// The console's routes, to nest under `/staff`.
pub fn routes() -> Router<Server> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login_post))
        .route("/logout", post(pages::logout))
        .route("/api/me", get(pages::api_me))
        .route("/{comune}", get(pages::comune))
        // The desk (issue 4): inbox, conversations, citizens, their JSON API and the
        // inbox's live-update script.
        .route("/console.js", get(live::script))
        .route("/{comune}/inbox", get(inbox_pages::inbox_page))
        .route("/{comune}/inbox/rows", get(inbox_pages::inbox_rows))
        .route("/{comune}/inbox/{ref}", get(inbox_pages::conversation_page))
        .route("/{comune}/inbox/{ref}/{action}", post(inbox_pages::action_post))
        .route(
            "/{comune}/cases/{id}",
            get(case_pages::case_page).post(case_pages::decide_post),
        )
        .route("/{comune}/citizens", post(citizen_pages::find_post))
        .route("/{comune}/citizens/{ref}", get(citizen_pages::citizen_page))
        .route("/{comune}/citizens/{ref}/{action}", post(citizen_pages::block_post))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/{comune}/inbox", get(api::inbox))
        .route("/api/{comune}/conversations/{ref}", get(api::conversation))
        .route("/api/{comune}/conversations/{ref}/{action}", post(api::act))
        .route("/api/{comune}/citizens/{ref}", get(api::citizen))
        .route("/api/{comune}/citizens/{ref}/{action}", post(api::block))
        // Administrative pages (issues 4, 7, 8): audit log, password, FAQ and closures,
        // privacy export and the annual report.
        .route("/audit", get(audit_pages::page))
        .route("/audit.csv", get(audit_pages::csv))
        .route("/api/audit", get(audit_pages::api))
        .route("/password", get(password::form).post(password::post))
        .route("/{comune}/faq", get(faq_pages::page))
        .route("/{comune}/faq/save", post(faq_pages::save_post))
        .route("/{comune}/faq/delete", post(faq_pages::delete_post))
        .route("/{comune}/closures", get(closure_pages::page))
        .route("/{comune}/closures/add", post(closure_pages::add_post))
        .route("/{comune}/closures/remove", post(closure_pages::remove_post))
        .route("/{comune}/privacy", get(privacy_pages::page))
        .route("/{comune}/privacy/export", post(privacy_pages::export_post))
        .route(
            "/{comune}/citizens/{channel}/{number}/export",
            get(privacy_pages::export_get),
        )
        .route("/{comune}/report", get(privacy_pages::report_page))
        // Broadcasts (issue #5): composer, list with figures, resend to failed.
        .route("/{comune}/broadcasts", get(broadcast_pages::list))
        .route(
            "/{comune}/broadcasts/new",
            get(broadcast_pages::new_form).post(broadcast_pages::new_post),
        )
        .route("/{comune}/broadcasts/{id}/resend", post(broadcast_pages::resend))
}

/// The console languages; anything else falls back to Italian.
pub fn lang(asked: &str) -> &'static str {
    match asked {
        "fr" => "fr",
        _ => "it",
    }
}

/// Writes one line of the audit log. Details name no citizen and no secret.
pub fn audit(store: &dyn Store, actor: &str, comune: &str, action: &str, detail: &str) -> Result<(), StoreError> {
    store
        .append_audit(&AuditEntry {
            at: Timestamp::now(),
            actor: actor.to_string(),
            comune: comune.to_string(),
            action: action.to_string(),
            detail: detail.to_string(),
        })
        .map(|_| ())
}

/// Gives `email` a one-time code (`accounts::issue_code`) and audits it, never the code:
/// `sportello staff code`, on the store or through the running server. The answer as JSON
/// (`email`, `code`, `until`), the same either way.
pub fn grant_code(store: &dyn Store, email: &str, now: Timestamp) -> Result<serde_json::Value, ConsoleError> {
    let email = accounts::normalize_email(email)?;
    let (code, until) = accounts::issue_code(store, &email, now)?;
    audit(
        store,
        "cli",
        "",
        "staff-code",
        &format!("one-time code issued for {email}, valid until {until}"),
    )?;
    Ok(serde_json::json!({ "email": email, "code": code, "until": until.to_string() }))
}

/// The account used when none was named: `sportello serve` prints its one-time password.
pub const BOOTSTRAP_EMAIL: &str = "admin@localhost";

/// Makes a console with no account usable: creates the first administrator from
/// `SPORTELLO_ADMIN_EMAIL` (default `admin@localhost`). With `SPORTELLO_ADMIN_PASSWORD` set,
/// that is its password; else it gets a one-time password, returned in the message to print
/// once, which works for one login and then asks for a password of its own. Does nothing,
/// and returns `None`, when any account exists. `env` reads a variable (`std::env::var` in
/// `serve`, a map in tests).
pub fn bootstrap(store: &dyn Store, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, ConsoleError> {
    if !store.accounts()?.is_empty() {
        return Ok(None);
    }
    let email = env("SPORTELLO_ADMIN_EMAIL")
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| BOOTSTRAP_EMAIL.into());
    let now = Timestamp::now();
    let message = match env("SPORTELLO_ADMIN_PASSWORD").filter(|p| !p.is_empty()) {
        Some(password) => {
            let account = accounts::create(store, &email, Role::Admin, Vec::new(), &password, now)?;
            format!(
                "  staff console: first administrator {} created from SPORTELLO_ADMIN_EMAIL/SPORTELLO_ADMIN_PASSWORD",
                account.email
            )
        }
        None => {
            let (account, code) = accounts::create_one_time(store, &email, Role::Admin, Vec::new(), now, None)?;
            format!(
                "  staff console: first administrator {} created; one-time password (shown only now, works for one login, then asks for a new password): {code}",
                account.email
            )
        }
    };
    audit(
        store,
        "system",
        "",
        "staff-bootstrap",
        "first administrator created at start",
    )?;
    Ok(Some(message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStore;

    #[test]
    fn bootstrap_creates_one_admin_once() {
        let store = MemoryStore::new();
        let msg = bootstrap(&store, &|_| None).unwrap().unwrap();
        let password = msg.rsplit(' ').next().unwrap();
        let here = std::net::IpAddr::from([127, 0, 0, 1]);
        let first = accounts::login(
            &store,
            &Default::default(),
            BOOTSTRAP_EMAIL,
            password,
            here,
            Timestamp::now(),
        )
        .unwrap();
        assert!(first.must_change_password, "a one-time password asks for a new one");
        assert!(
            accounts::login(
                &store,
                &Default::default(),
                BOOTSTRAP_EMAIL,
                password,
                here,
                Timestamp::now()
            )
            .is_err(),
            "the one-time password worked twice"
        );
        assert_eq!(bootstrap(&store, &|_| None).unwrap(), None);

        let store = MemoryStore::new();
        let env = |k: &str| match k {
            "SPORTELLO_ADMIN_EMAIL" => Some("IT@Comune.it".to_string()),
            "SPORTELLO_ADMIN_PASSWORD" => Some("una-password-lunga".to_string()),
            _ => None,
        };
        let msg = bootstrap(&store, &env).unwrap().unwrap();
        assert!(!msg.contains("una-password-lunga"), "{msg}");
        let here = std::net::IpAddr::from([127, 0, 0, 1]);
        let a = accounts::login(
            &store,
            &Default::default(),
            "it@comune.it",
            "una-password-lunga",
            here,
            Timestamp::now(),
        )
        .unwrap();
        assert_eq!(a.role, Role::Admin);
        assert!(!a.must_change_password, "a password the operator chose stays");
    }
}
