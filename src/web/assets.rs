//! The files every page links, compiled into the binary and served at `/assets/`: Bootstrap
//! Italia's stylesheet and the Titillium Web fonts (vendored from npm with their licences,
//! `assets/bootstrap-italia/`), the service's own stylesheet, and those licences; and each
//! comune's coat of arms at `/c/{comune}/stemma`, read from the file its configuration
//! names. Nothing is fetched from elsewhere.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Site;

/// (path under `/assets/`, content type, bytes).
const FILES: [(&str, &str, &[u8]); 8] = [
    (
        "bootstrap-italia.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/bootstrap-italia/bootstrap-italia.min.css"),
    ),
    (
        "sportello.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/sportello.css"),
    ),
    (
        "fonts/titillium-web-300.woff2",
        "font/woff2",
        include_bytes!("../../assets/bootstrap-italia/fonts/titillium-web-300.woff2"),
    ),
    (
        "fonts/titillium-web-regular.woff2",
        "font/woff2",
        include_bytes!("../../assets/bootstrap-italia/fonts/titillium-web-regular.woff2"),
    ),
    (
        "fonts/titillium-web-600.woff2",
        "font/woff2",
        include_bytes!("../../assets/bootstrap-italia/fonts/titillium-web-600.woff2"),
    ),
    (
        "fonts/titillium-web-700.woff2",
        "font/woff2",
        include_bytes!("../../assets/bootstrap-italia/fonts/titillium-web-700.woff2"),
    ),
    (
        "licences/bootstrap-italia.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/bootstrap-italia/LICENSE"),
    ),
    (
        "licences/titillium-web.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/bootstrap-italia/fonts/OFL.txt"),
    ),
];

/// How long browsers keep a file: a day (the paths carry no version).
const CACHE: &str = "public, max-age=86400";

/// `GET /assets/{*path}`.
pub async fn file(Path(path): Path<String>) -> Response {
    match FILES.iter().find(|(p, _, _)| *p == path) {
        Some((_, kind, bytes)) => (
            [
                (CONTENT_TYPE, *kind),
                (CACHE_CONTROL, CACHE),
                (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /c/{comune}/stemma`: the coat of arms the configuration names for the comune (404
/// when none). An SVG is served as an image only: the page shows it in `<img>`, where its
/// scripts never run, and the Content-Security-Policy forbids them anyway.
pub async fn arms(State(s): State<Site>, Path(comune): Path<String>) -> Response {
    let Some(path) = s.config.comuni.get(&comune).and_then(|c| c.arms.clone()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(kind) = crate::config::arms_kind(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let read = tokio::task::spawn_blocking(move || std::fs::read(path)).await;
    match read {
        Ok(Ok(bytes)) if bytes.len() as u64 <= crate::config::MAX_ARMS => (
            [
                (CONTENT_TYPE, kind),
                (CACHE_CONTROL, CACHE),
                (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Whether `path` (under `/assets/`) is served: for the tests and the page layout.
pub fn served(path: &str) -> bool {
    FILES.iter().any(|(p, _, _)| *p == path)
}
