//! The service assembled: the server's routes with the public pages (`web`) and the staff
//! console (`console`) mounted, and the way `sportello serve` runs it. The one place that
//! knows all three, so that the server below knows neither.

use std::future::Future;

use axum::routing::post;
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;

use crate::console::Console;
use crate::server::{self, listen, pace, Server, MAX_WEB_BYTES};
use crate::web::Site;

/// Every route of `sportello serve`.
pub fn router(server: Server) -> Router {
    let state = server.clone();
    // Each mounted part gets the narrow state it reaches, not the server.
    // The simulator's desk: its trials reach the console's inbox, never the store.
    let trials = std::sync::Arc::new(crate::service::trial::Trials::new(&server.engine));
    let (max, per_address) = crate::web::SIMULATOR_STREAMS;
    let site = Site {
        engine: server.engine.clone(),
        config: server.config.clone(),
        trials: trials.clone(),
        streams: crate::web::events::Streams::new(max, per_address),
    };
    let (max, per_address) = crate::console::STREAMS;
    let console = Console {
        engine: server.engine.clone(),
        config: server.config.clone(),
        lanes: server.lanes(),
        broadcast_wake: server.broadcast_wake.clone(),
        media_dir: server.options.media_dir.clone(),
        trials,
        streams: crate::web::events::Streams::new(max, per_address),
    };
    server::routes(server, move |paces| {
        let public = crate::web::routes()
            .with_state(site)
            .layer(RequestBodyLimitLayer::new(MAX_WEB_BYTES))
            .layer(axum::middleware::from_fn_with_state(
                (state, paces.clone()),
                pace::pages,
            ));
        Router::new()
            .merge(public)
            .nest(
                "/staff",
                crate::console::routes()
                    .with_state(console.clone())
                    .layer(axum::middleware::from_fn_with_state(
                        console.clone(),
                        crate::console::off_workers,
                    ))
                    .layer(RequestBodyLimitLayer::new(MAX_WEB_BYTES))
                    .layer(axum::Extension(paces))
                    .layer(axum::Extension(std::sync::Arc::new(
                        crate::staff::lockout::Lockouts::default(),
                    ))),
            )
            // The composer's upload, outside the console's 16 KiB limit, with its own.
            .merge(
                Router::new()
                    .route(
                        "/staff/{comune}/broadcasts/media",
                        post(crate::console::media_upload::upload)
                            .layer(RequestBodyLimitLayer::new(crate::console::media_upload::MAX_UPLOAD)),
                    )
                    .with_state(console.clone())
                    .layer(axum::middleware::from_fn_with_state(
                        console,
                        crate::console::off_workers,
                    )),
            )
    })
}

/// Serves until `shutdown` resolves, then finishes in-flight work and flushes the store
/// ([`server::run`] with this router).
pub async fn run(
    server: Server,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::run(server, router, listener, shutdown).await
}

/// Stands by, then serves ([`server::run_standby_first`] with this router).
pub async fn run_standby_first(
    listener: tokio::net::TcpListener,
    limits: listen::Listen,
    activate: impl Future<Output = std::io::Result<Server>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<bool> {
    server::run_standby_first(listener, limits, router, activate, shutdown).await
}
