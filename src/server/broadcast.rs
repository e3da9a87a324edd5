//! The server's side of broadcasts: the worker's [`Env`] (the outlet it shares with
//! replies, the citizens' lanes, the locks of several processes) and its start. The worker itself is `crate::broadcast`.

use std::sync::Arc;

use super::Server;
use crate::broadcast::env::Env;
use crate::broadcast::worker::Worker;
use crate::config::Config;
use crate::delivery::Outlet;
use crate::flow::Flows;
use crate::i18n::Locales;
use crate::service::coordination::Coordination;
use crate::storage::CitizenKey;

impl Server {
    /// The broadcast worker over this server (started by `run`).
    pub fn broadcast_worker(&self) -> Arc<Worker> {
        Worker::new(
            Arc::new(self.clone()),
            self.broadcast_wake.clone(),
            self.options.first_backoff,
        )
    }
}

/// `GET /media/{name}`: a broadcast's image or video, for the providers to fetch. Only
/// names `broadcast::media` writes are served, from `<data>/media`.
pub async fn media(
    axum::extract::State(s): axum::extract::State<Server>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    let (Some(dir), true) = (s.options.media_dir.as_ref(), crate::broadcast::media::valid_name(&name)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let kind = crate::broadcast::media::kind_of(&name).map_or("application/octet-stream", |(_, t)| t);
    let path = dir.join(&name);
    match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
        Ok(Ok(bytes)) => ([(header::CONTENT_TYPE, kind)], bytes).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Env for Server {
    fn outlet(&self) -> &Arc<Outlet> {
        &self.outlet
    }

    fn flows(&self) -> &Flows {
        &self.engine.flows
    }

    fn locales(&self) -> &Locales {
        &self.engine.locales
    }

    fn config(&self) -> &Config {
        &self.config
    }

    fn record_refused(&self, key: &CitizenKey, code: i64, title: &str) {
        // In the citizen's lane (`record_refusal`), not waited for: this call is synchronous.
        let (s, k, t) = (self.clone(), key.clone(), title.to_string());
        tokio::spawn(async move { s.record_refusal(&k, code, &t).await });
    }

    fn coordination(&self) -> &dyn Coordination {
        self.coord.as_ref()
    }

    fn progressed(&self, comune: &str) {
        self.engine
            .bell
            .ring(crate::service::bell::Ring::Broadcasts(comune.to_string()));
    }
}
