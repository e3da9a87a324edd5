//! The server's side of broadcasts: the worker's [`Env`] (the providers' clients, the
//! group commit, delivery records) and its start. The worker itself is `crate::broadcast`.

use std::sync::Arc;

use jiff::Timestamp;

use super::Server;
use crate::broadcast::compose::{self, Payload};
use crate::broadcast::worker::{BoxFuture, Env, Exclusive, Worker};
use crate::channel::{Channel, DeliveryStatus, SendError};
use crate::config::Config;
use crate::flow::Flows;
use crate::i18n::Locales;
use crate::storage::keys::sent_key;
use crate::storage::{CitizenKey, SentEntry, Store, StoreError};

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
    fn store(&self) -> &Arc<dyn Store> {
        &self.engine.store
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

    fn send<'a>(
        &'a self,
        comune: &'a str,
        channel: Channel,
        to: &'a str,
        payload: &'a Payload,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            match channel {
                Channel::Whatsapp => {
                    let client = self
                        .whatsapp
                        .get(comune)
                        .ok_or_else(|| missing("SPORTELLO_WHATSAPP_TOKEN"))?;
                    let number = self
                        .config
                        .comuni
                        .get(comune)
                        .and_then(|c| c.whatsapp_phone_number_id.as_deref())
                        .ok_or_else(|| missing("comuni.<comune>.whatsapp_phone_number_id"))?;
                    client.send(number, &compose::whatsapp(to, payload)).await
                }
                Channel::Telegram => {
                    let client = self
                        .telegram
                        .get(comune)
                        .ok_or_else(|| missing("SPORTELLO_TELEGRAM_TOKEN_<COMUNE>"))?;
                    let (method, body) = compose::telegram(to, payload);
                    client.send_with(method, &body).await.map(|id| id.to_string())
                }
                Channel::Web => Err(SendError::Permanent {
                    code: 0,
                    title: "the web simulator cannot receive broadcasts".into(),
                }),
            }
        })
    }

    fn durable(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.commit.durable())
    }

    fn record_sent(&self, channel: Channel, provider_id: &str, key: &CitizenKey, broadcast: u64) {
        let now = Timestamp::now();
        let entry = SentEntry {
            key: key.clone(),
            sent_at: now,
            status: DeliveryStatus::Sent,
            updated_at: now,
            errors: Vec::new(),
            broadcast: Some(broadcast),
        };
        if let Err(e) = self
            .engine
            .store
            .put_sent(&sent_key(channel.as_str(), provider_id), &entry)
        {
            tracing::error!(error = %e, "could not record a sent broadcast");
        }
        self.metrics.sent.inc();
        self.count(&key.comune, now, "sent");
    }

    fn record_refused(&self, key: &CitizenKey, code: i64, title: &str) {
        self.metrics.failed.inc();
        // In the citizen's lane (`record_refusal`), not waited for: this call is synchronous.
        let (s, k, t) = (self.clone(), key.clone(), title.to_string());
        tokio::spawn(async move { s.record_refusal(&k, code, &t).await });
    }

    fn shared(&self) -> bool {
        self.shared.get().is_some()
    }

    fn exclusive<'a>(&'a self, name: &'a str, wait: bool) -> BoxFuture<'a, Result<Option<Exclusive>, StoreError>> {
        Box::pin(async move {
            let Some(shared) = self.shared.get() else {
                return Ok(Some(Exclusive(None)));
            };
            let locks = shared.pg.locks();
            Ok(if wait {
                Some(Exclusive(Some(locks.lock(name).await?)))
            } else {
                locks.try_lock(name).await?.map(|held| Exclusive(Some(held)))
            })
        })
    }
}

fn missing(what: &str) -> SendError {
    // As for replies: without credentials nothing can be sent; retry slowly.
    SendError::Retryable {
        code: 0,
        title: format!("not configured: {what}"),
        retry_after: Some(60),
    }
}
