//! Public web pages: the list of comuni (`/`), the simulator (`/try`), the subscribe pages
//! (`/c/{comune}`) and accessibility statements, in the look of Italian public services
//! (Bootstrap Italia, served from `/assets/`). Server-rendered HTML, no build step; every
//! word from `locales/<lang>/web.ftl` and the comune's own messages.

pub mod assets;
pub mod events;
pub(crate) mod html;
pub mod owner;
pub mod sandbox;
mod statement;
mod subscribe;
mod try_page;

use axum::routing::{get, post};
use axum::Router;

pub use html::{esc, url_encode};

use crate::config::Config;
use crate::service::runner::Engine;

/// What the public pages reach: the engine and the configuration, given by `app.rs` when
/// it mounts them, never the whole server.
#[derive(Clone)]
pub struct Site {
    pub engine: std::sync::Arc<Engine>,
    pub config: std::sync::Arc<Config>,
    /// The simulator's desk, shared with the console.
    pub trials: std::sync::Arc<crate::service::trial::Trials>,
    /// The simulator's open event streams.
    pub streams: std::sync::Arc<events::Streams>,
}

/// The simulator's event streams open at once, in all and from one address.
pub const SIMULATOR_STREAMS: (usize, usize) = (500, 4);

/// The routes of the public pages; the simulator's sandbox is made here, one per router.
pub fn routes() -> Router<Site> {
    let sandbox = std::sync::Arc::new(sandbox::Sandbox::default());
    Router::new()
        .route("/", get(statement::home))
        .route("/accessibilita", get(statement::service_statement))
        .route("/assets/{*path}", get(assets::file))
        .route("/try", get(try_page::page_try))
        .route("/try.js", get(try_page::script))
        .route("/try/api/events", get(try_page::api_events))
        .route(
            "/try/api/message",
            post(try_page::api_message).layer(axum::Extension(sandbox)),
        )
        .route("/c/{comune}", get(subscribe::page_subscribe))
        .route("/c/{comune}/stemma", get(assets::arms))
        .route("/c/{comune}/accessibilita", get(statement::comune_statement))
}

/// The page language: the one asked for if the comune offers it, else the comune's first.
fn page_lang(asked: Option<&str>, offered: &[String]) -> String {
    match asked {
        Some(l) if offered.iter().any(|o| o == l) => l.to_string(),
        _ => offered.first().cloned().unwrap_or_else(|| "it".into()),
    }
}

/// Links to the page in each offered language, labelled in that language.
pub(crate) fn lang_links(
    locales: &crate::i18n::Locales,
    offered: &[String],
    href: impl Fn(&str) -> String,
) -> Vec<(String, String, String)> {
    offered
        .iter()
        .map(|l| {
            // Each language is named in itself.
            let label = locales.format(l, "language-name", None).unwrap_or_else(|| l.clone());
            (l.clone(), href(l), label)
        })
        .collect()
}

fn not_found(s: &Site) -> String {
    let l = &s.engine.locales;
    html::page_of(
        &owner::service(l, "it"),
        l,
        "it",
        "404",
        &[],
        &format!(
            "<h1>404</h1><p>{}</p><p><a href=\"/\">{}</a></p>",
            esc(&l.format("it", "page-not-found", None).unwrap_or_default()),
            esc(&l.format("it", "page-home-title", None).unwrap_or_default()),
        ),
        "",
    )
}
