//! The sender: takes replies from the outbox, one citizen at a time and in order, and hands
//! them to `crate::delivery` (the way out broadcasts take too), retrying with back-off on
//! rate limits and transient errors as `delivery::decide` says.
//! A reply leaves the outbox when the provider accepted it, or refused it for good (then
//! the citizen's record says why).
//!
//! Delivery guarantee: at most once per reply, as broadcasts. WhatsApp has no idempotency
//! key, so a reply whose request was out when the process died may or may not have reached
//! the citizen. Each reply is therefore marked in flight, durably, before its request
//! leaves (the outlet's turn), and the mark is cleared when the provider refused it (it will be retried); at
//! start a reply still in flight is dropped and counted, not sent again (`pipeline::recover`).
//! At most [`MAX_SENDS_IN_FLIGHT`] replies can be in that doubt: a send holds one permit
//! from before its mark until its removal or cleared mark is durable.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Server;
use crate::channel::{whatsapp, Channel, DeliveryStatus, StatusUpdate};
use crate::delivery::{self, decide, Decision, Marked, Outgoing, Retries, Turn};
use crate::service::bell::Ring;
use crate::storage::keys::sent_key;
use crate::storage::postgres::Claim;
use crate::storage::{CitizenKey, OutboundEntry};

/// The outbox key of an operator's reply (`staff::inbox::reply`): its text is the
/// operator's own, not a Fluent message.
const STAFF_REPLY: &str = "staff-reply";

/// Attempts of one reply (a second, doubling, to five minutes between them); after the
/// last, the reply is left in the outbox for the next start instead of holding the
/// citizen's lane.
const MAX_ATTEMPTS: u32 = 12;
/// Replies being sent at once, across every citizen and channel: also the most replies a
/// crash can leave in doubt. A permit lasts a request plus two group flushes (the mark, then
/// the outcome): 256 of ~250 ms is ~1,000 replies a second at Graph API latencies, a dozen
/// numbers at Meta's starting 80 a second. 64 capped replies near 1,000/s even against a
/// loopback fake (`cargo bench --bench load`, BENCHMARKS.md).
pub const MAX_SENDS_IN_FLIGHT: usize = 256;

/// Several active processes: the first and the longest wait for an earlier reply to the
/// same citizen that another process is sending.
const TURN_FIRST_WAIT: Duration = Duration::from_millis(10);
const TURN_MAX_WAIT: Duration = Duration::from_secs(1);

/// The permits of [`MAX_SENDS_IN_FLIGHT`].
pub(crate) fn send_permits() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(MAX_SENDS_IN_FLIGHT))
}

/// Read receipts in flight at once. Each request in flight holds a connection of its own
/// (HTTP/1.1): unbounded, a burst of steps faster than the provider answers opened one per
/// message. Past this many a receipt is skipped, not queued: it is a courtesy, and marking
/// a citizen's later message read marks the earlier ones too.
pub const MAX_READ_RECEIPTS_IN_FLIGHT: usize = 256;

/// The permits of [`MAX_READ_RECEIPTS_IN_FLIGHT`].
pub(crate) fn read_receipt_permits() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(MAX_READ_RECEIPTS_IN_FLIGHT))
}

impl Server {
    /// Sends outbox entry `id` to `key` through the outlet's turn (marked in flight durably
    /// first), retrying in the citizen's lane as [`decide`] says. With several active
    /// processes the claim can hand an earlier reply to the citizen instead (one taken over
    /// from a stopped process): that one is sent first, as if it were this job's, and then
    /// `id` is asked for again.
    pub(crate) async fn send(&self, key: CitizenKey, id: u64) {
        let retries = Retries {
            first: self.options.first_backoff,
            attempts: MAX_ATTEMPTS,
        };
        let mut turn_wait = TURN_FIRST_WAIT;
        // The reply the attempts count for (`id`, or the earlier one claimed in its place).
        let mut attempt = (id, 0);
        loop {
            // The semaphore is never closed.
            let Ok(permit) = self.sends.clone().acquire_owned().await else {
                return;
            };
            let s = self.clone();
            let turn = self.outlet.turn(&key, None, move |_| s.take_off(id)).await;
            let (e, sent) = match turn {
                Turn::Sent((desk, sent), accepted) => {
                    self.finish(sent).await;
                    self.release_when_durable(permit);
                    if desk {
                        self.desk_reply_sent(&key, sent, accepted).await;
                    }
                    if sent == id {
                        return;
                    }
                    continue;
                }
                Turn::Failed(e, (_, sent)) => (e, sent),
                Turn::Later => {
                    // An earlier reply to this citizen is another process's (`shared`):
                    // wait for it, without a permit, and without spending an attempt.
                    drop(permit);
                    tokio::time::sleep(turn_wait).await;
                    turn_wait = (turn_wait * 2).min(TURN_MAX_WAIT);
                    continue;
                }
                Turn::NotDurable((_, sent)) => {
                    // Not sent now; it stays in the outbox for the next start (and `id`,
                    // when it was an earlier reply, behind it).
                    self.unmark(sent).await;
                    return;
                }
                Turn::Gone => return,
            };
            if attempt.0 != sent {
                attempt = (sent, 0);
            }
            attempt.1 += 1;
            match decide(&e, attempt.1, retries) {
                Decision::Fail { code, title } | Decision::PauseNumber { code, title } => {
                    tracing::warn!(comune = %key.comune, channel = %key.channel, code, %title, "reply refused for good");
                    self.outlet.counters.failed.inc();
                    self.record_refusal(&key, code, &title).await;
                    self.finish(sent).await;
                    self.release_when_durable(permit);
                    if sent == id {
                        return;
                    }
                }
                Decision::InDoubt => {
                    // It may have arrived: not sent again (at most once), as after a crash.
                    tracing::warn!(comune = %key.comune, channel = %key.channel, reason = %e, "reply in doubt (it may have reached the citizen): not sent again");
                    self.outlet.counters.interrupted.inc();
                    self.finish(sent).await;
                    self.release_when_durable(permit);
                    if sent == id {
                        return;
                    }
                }
                Decision::Exhausted { .. } => {
                    self.unmark(sent).await;
                    self.release_when_durable(permit);
                    tracing::warn!(comune = %key.comune, "reply still not accepted; kept in the outbox for the next start");
                    return;
                }
                Decision::Retry { after } | Decision::SlowDown { after } => {
                    // It will be sent again anyway (here, or at the next start if the
                    // process stops during the wait): no longer in flight.
                    self.unmark(sent).await;
                    self.release_when_durable(permit);
                    tracing::info!(comune = %key.comune, channel = %key.channel, attempt = attempt.1, error = %e, wait_s = after.as_secs(), "retrying a reply");
                    self.outlet.counters.retries.inc();
                    tokio::time::sleep(after).await;
                }
            }
        }
    }

    /// The turn's mark (a blocking call): marks reply `id` in flight, as the shared mode's
    /// claim answers: ready with what to send, gone when it left the outbox (an erasure),
    /// or later when another process's reply to the citizen comes first.
    /// Ready carries whether it is an operator's reply and which reply was claimed.
    fn take_off(&self, id: u64) -> Result<Marked<(bool, u64)>, crate::storage::StoreError> {
        // With several active processes, only a reply this process may send, in its turn.
        Ok(match self.coord.claim(self.engine.store.as_ref(), id)? {
            // An operator's reply is followed in the conversation's thread.
            Claim::Claimed(claimed, entry) => {
                Marked::Ready(self.outgoing(&entry), (entry.rendered.key == STAFF_REPLY, claimed))
            }
            Claim::Later => Marked::Later,
            Claim::Gone => Marked::Gone,
        })
    }

    /// What a reply sends on its channel.
    fn outgoing(&self, entry: &OutboundEntry) -> Outgoing {
        match entry.channel {
            Channel::Whatsapp => {
                let label = self
                    .engine
                    .locales
                    .format(&entry.language, "list-label", None)
                    .unwrap_or_default();
                Outgoing::Whatsapp {
                    route: Some(entry.route.clone()),
                    messages: whatsapp::from_rendered(&entry.to, &entry.rendered, &label),
                }
            }
            Channel::Telegram => Outgoing::Telegram {
                callback: entry.callback_id.clone(),
                requests: crate::channel::telegram::send_message_bodies(&entry.to, &entry.rendered)
                    .into_iter()
                    .map(|body| ("sendMessage", body))
                    .collect(),
            },
            Channel::Web => Outgoing::Web,
        }
    }

    async fn unmark(&self, id: u64) {
        self.outlet
            .blocking(move |s| {
                if let Err(e) = s.mark_outbound(id, false) {
                    tracing::error!(error = %e, "outbox update failed");
                }
            })
            .await;
    }

    /// Gives the permit back once the send's last write (removal or cleared mark) is
    /// durable, so that no more than [`MAX_SENDS_IN_FLIGHT`] replies are ever in flight on
    /// disk. In a task of its own: the citizen's next reply need not wait for the flush.
    fn release_when_durable(&self, permit: OwnedSemaphorePermit) {
        let s = self.clone();
        tokio::spawn(async move {
            if let Err(e) = s.durable().await {
                tracing::error!(error = %e, "flush after a send failed");
            }
            drop(permit);
        });
    }

    async fn finish(&self, id: u64) {
        self.outlet
            .blocking(move |s| {
                if let Err(e) = s.outbound_done(id) {
                    tracing::error!(error = %e, "outbox update failed");
                }
            })
            .await;
    }

    /// Applies a delivery status from the provider; a failure is written to the citizen's
    /// record with the provider's code. In the citizen's lane, as a step: an erasure (which
    /// runs in the lane) must not see the entry written back after it, nor a step (say, an
    /// unsubscription) have its record overwritten by the one read here before it.
    pub(crate) async fn delivery_status(&self, update: &StatusUpdate) {
        let key = sent_key(update.channel.as_str(), &update.message_id);
        let Ok(Some(sent)) = self.engine.store.sent(&key) else {
            return;
        };
        let (s, update) = (self.clone(), update.clone());
        self.lanes().in_lane(sent.key, move || s.apply_status(&update)).await;
    }

    /// [`Server::delivery_status`] inside the lane: the entry read again.
    fn apply_status(&self, update: &StatusUpdate) {
        let store = &self.engine.store;
        let key = sent_key(update.channel.as_str(), &update.message_id);
        let Ok(Some(mut sent)) = store.sent(&key) else { return };
        let at = Timestamp::from_second(update.timestamp).unwrap_or_else(|_| Timestamp::now());
        let before = sent.status;
        if !sent.apply(update.status, &update.errors, at) {
            return;
        }
        if let Err(e) = store.put_sent(&key, &sent) {
            tracing::error!(error = %e, "could not record a delivery status");
        }
        // An operator's reply: its ticks in the thread moved.
        if sent.desk {
            self.engine.bell.ring(Ring::Desk(sent.key.clone()));
        }
        if let Some(id) = sent.broadcast {
            if let Err(e) =
                crate::broadcast::plan::apply_status(store.as_ref(), id, &sent.key, update.status, &update.errors, at)
            {
                tracing::error!(error = %e, "could not record a broadcast delivery status");
            }
        }
        // Meta sends no `delivered` when `read` comes at once: reading implies delivery.
        let reached = |s: DeliveryStatus| before < s && update.status >= s && update.status != DeliveryStatus::Failed;
        if reached(DeliveryStatus::Delivered) {
            delivery::count(store.as_ref(), &sent.key.comune, at, "delivered");
        }
        if reached(DeliveryStatus::Read) {
            delivery::count(store.as_ref(), &sent.key.comune, at, "read");
        }
        if update.status == DeliveryStatus::Failed {
            delivery::count(store.as_ref(), &sent.key.comune, at, "failed");
        }
        if update.status == DeliveryStatus::Failed {
            let (code, title) = update
                .errors
                .first()
                .map(|e| (e.code, e.title.as_str()))
                .unwrap_or((0, "failed"));
            delivery::record_refusal(store.as_ref(), &sent.key, code, title);
        }
    }

    /// An operator's reply was accepted: its line in the thread takes the provider's id
    /// (its ticks follow the delivery statuses from now on), and the desk's pages refresh.
    /// In the citizen's lane, as the thread's other writers.
    async fn desk_reply_sent(&self, key: &CitizenKey, id: u64, accepted: Vec<String>) {
        let (engine, k) = (self.engine.clone(), key.clone());
        self.lanes()
            .in_lane(key.clone(), move || {
                let store = &engine.store;
                let Ok(Some(mut conv)) = store.conversation(&k) else {
                    return;
                };
                let Some(line) = conv.lines.iter_mut().rev().find(|l| l.outbound == Some(id)) else {
                    return;
                };
                line.sent = accepted.first().cloned();
                for m in &accepted {
                    let sk = sent_key(k.channel.as_str(), m);
                    if let Ok(Some(mut sent)) = store.sent(&sk) {
                        sent.desk = true;
                        let _ = store.put_sent(&sk, &sent);
                    }
                }
                if let Err(e) = store.put_conversation(&conv) {
                    tracing::error!(error = %e, "could not record a reply's delivery in its thread");
                }
                engine.bell.ring(Ring::Desk(k));
            })
            .await;
    }

    /// [`delivery::record_refusal`] in the citizen's lane, as a step (see
    /// [`Server::delivery_status`]).
    pub(crate) async fn record_refusal(&self, key: &CitizenKey, code: i64, title: &str) {
        let (store, k, t) = (self.engine.store.clone(), key.clone(), title.to_string());
        self.lanes()
            .in_lane(key.clone(), move || {
                delivery::record_refusal(store.as_ref(), &k, code, &t)
            })
            .await;
    }

    /// Tells WhatsApp the message was read (blue ticks); best effort, never retried.
    pub(crate) fn mark_read(&self, comune: &str, route: &str, message_id: &str) {
        if let Some(client) = self.outlet.providers.whatsapp(comune).cloned() {
            let (route, id) = (route.to_string(), message_id.to_string());
            let Ok(permit) = self.read_receipts.clone().try_acquire_owned() else {
                self.metrics.read_receipts_skipped.inc();
                return;
            };
            tokio::spawn(async move {
                let _permit = permit;
                if let Err(e) = client.mark_read(&route, &id).await {
                    tracing::debug!(error = %e, "mark as read failed");
                }
            });
        }
    }
}
