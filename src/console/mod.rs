//! The staff console (`/staff`): accounts, login, sessions and CSRF, and the pages staff
//! work in. A nested router whose every page but the login takes the [`Staff`] extractor.
//!
//! Owns the console's HTTP boundary: the HTTP status of staff errors, sessions, forms and
//! rendering. Must not hold dialogue, inbox or account logic (`crate::staff`), and never
//! logs passwords, tokens or citizens' numbers.
//!
//! Why over 4,000 lines: one file per page family (inbox, citizen, cases, broadcasts, FAQ,
//! closures, privacy, audit, password) plus the JSON API, each a few hundred lines of forms
//! and HTML; what the pages do is in `staff`, so the size is presentation, not logic.

mod api;
mod audit_pages;
mod broadcast_list;
mod broadcast_pages;
mod case_pages;
mod citizen_pages;
mod closure_pages;
pub mod desk;
mod faq_pages;
mod faq_review;
mod inbox_pages;
mod live;
pub mod media_upload;
mod nav;
mod pages;
mod password;
mod privacy_pages;
mod render;
pub mod session;
mod staff_pages;
mod state;
mod subscriber_pages;
mod thread;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

/// The console's errors are the staff operations' own; this module gives them their HTTP
/// status and response.
pub use crate::staff::StaffError as ConsoleError;
pub use crate::staff::{accounts, audit, lockout};
pub use session::Staff;
pub use state::{off_workers, Console};

/// The console's event streams open at once, in all and from one address (an office
/// behind one address: a few tabs per operator).
pub const STREAMS: (usize, usize) = (256, 64);

impl ConsoleError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::BadCredentials
            | ConsoleError::Locked { .. }
            | ConsoleError::Disabled
            | ConsoleError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
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
pub fn routes() -> Router<Console> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login_post))
        .route("/logout", post(pages::logout))
        .route("/api/me", get(pages::api_me))
        .route("/{comune}", get(pages::comune))
        // The desk (issue 4): inbox, conversations, citizens, their JSON API and the
        // inbox's live-update script.
        .route("/console.js", get(live::script))
        .route("/{comune}/events", get(live::events))
        .route("/{comune}/inbox", get(inbox_pages::inbox_page))
        .route("/{comune}/inbox/rows", get(inbox_pages::inbox_rows))
        .route("/{comune}/inbox/{ref}", get(inbox_pages::conversation_page))
        .route("/{comune}/inbox/{ref}/thread", get(thread::thread))
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
        // Staff accounts and subscribers (issue 21).
        .route("/accounts", get(staff_pages::list))
        .route("/accounts/manage", get(staff_pages::manage))
        .route("/accounts/{action}", post(staff_pages::action_post))
        .route("/{comune}/subscribers", get(subscriber_pages::page))
        .route("/{comune}/subscribers.csv", post(subscriber_pages::csv_post))
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
        .route("/{comune}/broadcasts", get(broadcast_list::list))
        .route("/{comune}/broadcasts/rows", get(broadcast_list::rows_get))
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
