//! Public web pages (being built): the simulator and the subscribe page.
use axum::Router;
pub fn routes() -> Router<crate::server::Server> { Router::new() }
