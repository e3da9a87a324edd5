//! One outbox entry's send, for the worker's lanes: read the citizen again (one who left
//! or was blocked since the fan-out is skipped), compose for their window and language,
//! mark the entry in flight and wait until that is durable, send, then record the outcome
//! or decide on the error (retry, slow the number down, pause it, give up).
//!
//! Must not pace or choose entries: that is the lane's (`worker`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::compose::{self, Payload};
use super::pace::{decide, Decision};
use super::plan;
use super::worker::{Env, Hold};
use super::{Broadcast, Delivery, DeliveryState};
use crate::channel::Channel;
use crate::storage::{AuditEntry, CitizenKey, Store, StoreError};

/// One entry: re-check the citizen, compose, mark in flight durably, send, record.
#[allow(clippy::too_many_arguments)]
pub(super) async fn deliver(
    env: Arc<dyn Env>,
    id: u64,
    b: &Broadcast,
    key: CitizenKey,
    d: Delivery,
    first_backoff: Duration,
    pause: Duration,
    hold: Arc<Mutex<Hold>>,
) {
    let now = Timestamp::now();
    let store = env.store().clone();
    // One blocking hop: read the citizen, compose, and write the entry in flight (or skipped).
    let (e2, b2, k2) = (env.clone(), b.clone(), key.clone());
    let prepared = tokio::task::spawn_blocking(move || prepare(e2.as_ref(), id, &b2, &k2, d, now)).await;
    let (payload, mut d) = match prepared {
        Ok(Ok(Some(ready))) => ready,
        Ok(Ok(None)) => return,
        _ => {
            tracing::error!(broadcast = id, "broadcast: could not prepare an entry");
            return;
        }
    };
    if let Err(e) = env.durable().await {
        tracing::error!(error = %e, "broadcast: in-flight mark not durable; not sending");
        d.state = DeliveryState::Queued;
        d.not_before = Some(now + jiff::SignedDuration::from_secs(5));
        put(&store, id, key, d).await;
        return;
    }
    let channel = channel_of(&key.channel);
    let result = env.send(&key.comune, channel, &key.citizen, &payload).await;
    let now = Timestamp::now();
    d.updated_at = Some(now);
    match result {
        Ok(provider_id) => {
            d.state = DeliveryState::Sent;
            d.not_before = None;
            let e2 = env.clone();
            let done = tokio::task::spawn_blocking(move || {
                let written = e2.store().put_deliveries(id, &[(key.clone(), d)]);
                e2.record_sent(channel, &provider_id, &key, id);
                written
            })
            .await;
            if !matches!(done, Ok(Ok(()))) {
                tracing::error!(broadcast = id, "could not update a broadcast entry");
            }
        }
        Err(e) => {
            let decision = decide(&e, d.attempts, first_backoff);
            tracing::info!(broadcast = id, comune = %key.comune, channel = %key.channel, attempt = d.attempts, error = %e, "broadcast send failed");
            let requeue = |d: &mut Delivery, after: Duration| {
                d.state = DeliveryState::Queued;
                d.not_before = Some(now + jiff::SignedDuration::try_from(after).unwrap_or_default());
            };
            match decision {
                Decision::Retry { after } => requeue(&mut d, after),
                Decision::SlowDown { after } => {
                    requeue(&mut d, after);
                    set_hold(&hold, after);
                }
                Decision::PauseNumber => {
                    // The account is restricted: this message did not go; nothing else goes
                    // from this number for a while. Not counted as an attempt.
                    d.attempts -= 1;
                    requeue(&mut d, pause);
                    set_hold(&hold, pause);
                    tracing::error!(comune = %key.comune, channel = %key.channel, pause_minutes = pause.as_secs() / 60, "WhatsApp restricted this number: broadcasts paused");
                    let entry = AuditEntry {
                        at: now,
                        actor: "system".into(),
                        comune: key.comune.clone(),
                        action: "broadcast-paused".into(),
                        detail: format!(
                            "broadcast {id}: provider error {e}; paused {} minutes",
                            pause.as_secs() / 60
                        ),
                    };
                    let s = store.clone();
                    let _ = tokio::task::spawn_blocking(move || s.append_audit(&entry)).await;
                }
                Decision::InDoubt => {
                    tracing::warn!(broadcast = id, comune = %key.comune, channel = %key.channel, "broadcast entry in doubt (it may have reached the citizen): not sent again, counted interrupted");
                    d.state = DeliveryState::Interrupted;
                }
                Decision::Fail { code, title } => {
                    let (e2, k2, t2) = (env.clone(), key.clone(), title.clone());
                    let _ = tokio::task::spawn_blocking(move || e2.record_refused(&k2, code, &t2)).await;
                    d.state = DeliveryState::Failed { code, title };
                }
            }
            put(&store, id, key, d).await;
        }
    }
}

/// The payload and the entry marked in flight (written, not yet durable), or `None` when
/// the citizen is skipped (written so).
fn prepare(
    env: &dyn Env,
    id: u64,
    b: &Broadcast,
    key: &CitizenKey,
    mut d: Delivery,
    now: Timestamp,
) -> Result<Option<(Payload, Delivery)>, StoreError> {
    let Some(flow) = env.flows().get(&key.comune) else {
        return Ok(None);
    };
    let composed = match env.store().citizen(key)? {
        Some(c) if plan::receives(flow, b.category.as_deref(), key, &c) => {
            let templates = env
                .config()
                .comuni
                .get(&key.comune)
                .map(|c| c.broadcast_templates.clone())
                .unwrap_or_default();
            let channel = channel_of(&key.channel);
            compose::compose(
                flow,
                env.locales(),
                &templates,
                b,
                &d.language,
                channel,
                c.last_inbound,
                now,
            )
        }
        _ => Err("no longer a subscriber".to_string()),
    };
    d.updated_at = Some(now);
    match composed {
        Ok((payload, template)) => {
            // In flight before the request leaves: a crash from here on never resends it.
            d.state = DeliveryState::InFlight;
            d.attempts += 1;
            d.template = template;
            env.store().put_deliveries(id, &[(key.clone(), d.clone())])?;
            Ok(Some((payload, d)))
        }
        Err(reason) => {
            d.state = DeliveryState::Skipped { reason };
            env.store().put_deliveries(id, &[(key.clone(), d)])?;
            Ok(None)
        }
    }
}

fn set_hold(hold: &Mutex<Hold>, after: Duration) {
    let until = Instant::now() + after;
    let mut h = hold.lock().unwrap_or_else(|p| p.into_inner());
    h.until = Some(h.until.map_or(until, |u| u.max(until)));
}

fn channel_of(name: &str) -> Channel {
    match name {
        "telegram" => Channel::Telegram,
        "web" => Channel::Web,
        _ => Channel::Whatsapp,
    }
}

async fn put(store: &Arc<dyn Store>, id: u64, key: CitizenKey, d: Delivery) {
    let s = store.clone();
    let done = tokio::task::spawn_blocking(move || s.put_deliveries(id, &[(key, d)])).await;
    if !matches!(done, Ok(Ok(()))) {
        tracing::error!(broadcast = id, "could not update a broadcast entry");
    }
}
