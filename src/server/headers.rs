//! Security headers on every page and API answer: a Content-Security-Policy that allows only
//! the server's own scripts (no inline script anywhere: `/try.js`, `/staff/console.js`),
//! no framing, no sniffing, no referrer (console addresses carry citizen references), and
//! no caching of the console's pages, which hold personal data.

use axum::extract::Request;
use axum::http::header::{self, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Only the server's own stylesheets and fonts (`/assets/`); no inline style or script.
pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self' data:; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the headers to whatever the handler answered (a handler's own Cache-Control stays).
pub async fn secure(request: Request, next: Next) -> Response {
    let staff = request.uri().path().starts_with("/staff");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if staff && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
