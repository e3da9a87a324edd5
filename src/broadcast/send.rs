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
use super::env::Env;
use super::plan;
use super::{Broadcast, Delivery, DeliveryState};
use crate::channel::Channel;
use crate::delivery::{decide, Decision, Marked, Outgoing, Outlet, Retries, Turn};
use crate::storage::{AuditEntry, CitizenKey, StoreError};

/// One entry: re-check the citizen, compose, mark in flight durably, send, record (the
/// turn is `crate::delivery`'s, shared with replies); then decide on an error.
#[allow(clippy::too_many_arguments)]
pub(super) async fn deliver(
    env: Arc<dyn Env>,
    id: u64,
    b: &Broadcast,
    key: CitizenKey,
    d: Delivery,
    retries: Retries,
    pause: Duration,
    hold: Arc<Mutex<Hold>>,
) {
    let now = Timestamp::now();
    let outlet = env.outlet().clone();
    let (e2, b2, k2) = (env.clone(), b.clone(), key.clone());
    let turn = outlet
        .turn(&key, Some(id), move |_| prepare(e2.as_ref(), id, &b2, &k2, d, now))
        .await;
    let now = Timestamp::now();
    let (e, mut d) = match turn {
        Turn::Sent(mut d, _) => {
            d.updated_at = Some(now);
            d.state = DeliveryState::Sent;
            d.not_before = None;
            put(&outlet, id, key, d).await;
            return;
        }
        Turn::NotDurable(mut d) => {
            d.state = DeliveryState::Queued;
            d.not_before = Some(now + jiff::SignedDuration::from_secs(5));
            put(&outlet, id, key, d).await;
            return;
        }
        Turn::Later | Turn::Gone => return,
        Turn::Failed(e, d) => (e, d),
    };
    tracing::info!(broadcast = id, comune = %key.comune, channel = %key.channel, attempt = d.attempts, error = %e, "broadcast send failed");
    let decision = decide(&e, d.attempts, retries);
    d.updated_at = Some(now);
    let requeue = |d: &mut Delivery, after: Duration| {
        d.state = DeliveryState::Queued;
        d.not_before = Some(now + jiff::SignedDuration::try_from(after).unwrap_or_default());
    };
    let fail = |d: &mut Delivery, code: i64, title: String| {
        outlet.counters.failed.inc();
        env.record_refused(&key, code, &title);
        d.state = DeliveryState::Failed { code, title };
    };
    match decision {
        Decision::Retry { after } => requeue(&mut d, after),
        Decision::SlowDown { after } => {
            requeue(&mut d, after);
            set_hold(&hold, after);
        }
        Decision::PauseNumber { .. } => {
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
            outlet.blocking(move |s| s.append_audit(&entry)).await;
        }
        Decision::InDoubt => {
            tracing::warn!(broadcast = id, comune = %key.comune, channel = %key.channel, "broadcast entry in doubt (it may have reached the citizen): not sent again, counted interrupted");
            d.state = DeliveryState::Interrupted;
        }
        Decision::Fail { code, title } => fail(&mut d, code, title),
        Decision::Exhausted { code } => {
            let title = format!("still failing after {} attempts", d.attempts);
            fail(&mut d, code, title)
        }
    }
    put(&outlet, id, key, d).await;
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
) -> Result<Marked<Delivery>, StoreError> {
    let Some(flow) = env.flows().get(&key.comune) else {
        return Ok(Marked::Gone);
    };
    let citizen = env.store().citizen(key)?;
    // The number when known, else the business-scoped id (WhatsApp's `recipient`).
    let to = crate::service::identity::reply_to(key, citizen.as_ref());
    let composed = match citizen {
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
            Ok(Marked::Ready(outgoing(&key.channel, &to, &payload), d))
        }
        Err(reason) => {
            d.state = DeliveryState::Skipped { reason };
            env.store().put_deliveries(id, &[(key.clone(), d)])?;
            Ok(Marked::Gone)
        }
    }
}

/// Shared between a lane and its in-flight sends.
pub(super) struct Hold {
    /// Nothing starts on this number before this instant (throttle or account pause).
    pub(super) until: Option<Instant>,
}

fn set_hold(hold: &Mutex<Hold>, after: Duration) {
    let until = Instant::now() + after;
    let mut h = hold.lock().unwrap_or_else(|p| p.into_inner());
    h.until = Some(h.until.map_or(until, |u| u.max(until)));
}

/// The requests of one payload to `to` on `channel` (never the simulator's: its citizens
/// receive no broadcasts, `plan::receives`).
fn outgoing(channel: &str, to: &str, payload: &Payload) -> Outgoing {
    match channel_of(channel) {
        Channel::Telegram => Outgoing::Telegram {
            callback: None,
            requests: vec![compose::telegram(to, payload)],
        },
        _ => Outgoing::Whatsapp {
            route: None,
            messages: vec![compose::whatsapp(to, payload)],
        },
    }
}

fn channel_of(name: &str) -> Channel {
    match name {
        "telegram" => Channel::Telegram,
        "web" => Channel::Web,
        _ => Channel::Whatsapp,
    }
}

/// Writes one entry back (off the async workers when the store waits on the network).
pub(super) async fn put(outlet: &Outlet, id: u64, key: CitizenKey, d: Delivery) {
    let done = outlet.blocking(move |s| s.put_deliveries(id, &[(key, d)])).await;
    if !matches!(done, Some(Ok(()))) {
        tracing::error!(broadcast = id, "could not update a broadcast entry");
    }
}
