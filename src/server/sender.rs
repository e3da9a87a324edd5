//! The sender: takes replies from the outbox, one citizen at a time and in order, and hands
//! them to their provider, retrying with back-off on rate limits and transient errors.
//! A reply leaves the outbox when the provider accepted it, or refused it for good (then
//! the citizen's record says why).
//!
//! Delivery guarantee: at most once per reply, as broadcasts. WhatsApp has no idempotency
//! key, so a reply whose request was out when the process died may or may not have reached
//! the citizen. Each reply is therefore marked in flight, durably, before its request
//! leaves, and the mark is cleared when the provider refused it (it will be retried); at
//! start a reply still in flight is dropped and counted, not sent again (`pipeline::recover`).
//! At most [`MAX_SENDS_IN_FLIGHT`] replies can be in that doubt: a send holds one permit
//! from before its mark until its removal or cleared mark is durable.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Server;
use crate::channel::{whatsapp, Channel, DeliveryStatus, SendError, StatusUpdate};
use crate::dialogue::DeliveryError;
use crate::storage::keys::sent_key;
use crate::storage::postgres::Claim;
use crate::storage::{CitizenKey, OutboundEntry, SentEntry};

/// Back-off between attempts: 1 s (configurable) doubling to 5 minutes; after this many attempts a reply
/// is left in the outbox for the next start instead of holding the citizen's lane.
const MAX_ATTEMPTS: u32 = 12;
const MAX_BACKOFF: Duration = Duration::from_secs(300);
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

/// What [`Server::take_off`] found.
enum TakeOff {
    /// Marked in flight, durably: send it.
    Entry(Box<OutboundEntry>),
    /// Not to be sent by this call.
    Gone,
    /// Not yet: an earlier reply to the citizen is another process's.
    Later,
}

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
    pub(crate) async fn send(&self, key: CitizenKey, id: u64) {
        let mut backoff = self.options.first_backoff;
        let mut turn = TURN_FIRST_WAIT;
        let mut attempt = 0;
        while attempt < MAX_ATTEMPTS {
            // The semaphore is never closed.
            let Ok(permit) = self.sends.clone().acquire_owned().await else {
                return;
            };
            let entry = match self.take_off(id).await {
                TakeOff::Entry(entry) => entry,
                TakeOff::Gone => return,
                TakeOff::Later => {
                    // An earlier reply to this citizen is another process's (`shared`):
                    // wait for it, without a permit, and without spending an attempt.
                    drop(permit);
                    tokio::time::sleep(turn).await;
                    turn = (turn * 2).min(TURN_MAX_WAIT);
                    continue;
                }
            };
            attempt += 1;
            match self.deliver(&entry).await {
                Ok(()) => {
                    self.metrics.sent.inc();
                    self.finish(id).await;
                    self.release_when_durable(permit);
                    return;
                }
                Err(SendError::Permanent { code, title }) => {
                    tracing::warn!(comune = %key.comune, channel = %key.channel, code, %title, "reply refused for good");
                    self.metrics.failed.inc();
                    self.record_refusal(&key, code, &title).await;
                    self.finish(id).await;
                    self.release_when_durable(permit);
                    return;
                }
                Err(SendError::InDoubt(why)) => {
                    // It may have arrived: not sent again (at most once), as after a crash.
                    tracing::warn!(comune = %key.comune, channel = %key.channel, reason = %why, "reply in doubt (it may have reached the citizen): not sent again");
                    self.metrics.interrupted.inc();
                    self.finish(id).await;
                    self.release_when_durable(permit);
                    return;
                }
                Err(e) => {
                    // It will be sent again anyway (here, or at the next start if the
                    // process stops during the wait): no longer in flight.
                    self.unmark(id).await;
                    self.release_when_durable(permit);
                    let wait = match &e {
                        SendError::Retryable {
                            retry_after: Some(s), ..
                        } => Duration::from_secs(*s).min(MAX_BACKOFF),
                        _ => backoff,
                    };
                    tracing::info!(comune = %key.comune, channel = %key.channel, attempt, error = %e, wait_s = wait.as_secs(), "retrying a reply");
                    self.metrics.retries.inc();
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        tracing::warn!(comune = %key.comune, "reply still not accepted; kept in the outbox for the next start");
    }

    /// Marks a reply in flight and waits until the mark is durable; `Gone` when it left the
    /// outbox meanwhile (an erasure), is another process's, or the mark could not be made
    /// durable (then it is not sent now, and stays for the next start).
    async fn take_off(&self, id: u64) -> TakeOff {
        let entry = match self.off_workers(move |s| s.mark_in_flight(id)).await {
            Some(Ok(Claim::Claimed(e))) => e,
            Some(Ok(Claim::Later)) => return TakeOff::Later,
            Some(Ok(Claim::Gone)) | None => return TakeOff::Gone,
            Some(Err(e)) => {
                tracing::error!(error = %e, "outbox read failed");
                return TakeOff::Gone;
            }
        };
        if let Err(e) = self.durable().await {
            tracing::error!(error = %e, "in-flight mark not durable; reply not sent");
            self.unmark(id).await;
            return TakeOff::Gone;
        }
        TakeOff::Entry(entry)
    }

    /// Marks reply `id` in flight (a blocking call, see [`Server::off_workers`]), as the
    /// shared mode's claim answers: claimed with the entry as now stored, gone when it left
    /// the outbox, or later when another process's reply to the citizen comes first.
    fn mark_in_flight(&self, id: u64) -> Result<Claim, crate::storage::StoreError> {
        match self.shared.get() {
            // Several active processes: only a reply this process may send, in its turn.
            Some(shared) => self.claim(shared, id),
            None => Ok(match self.engine.store.mark_outbound(id, true)? {
                Some(e) => Claim::Claimed(Box::new(e)),
                None => Claim::Gone,
            }),
        }
    }

    async fn unmark(&self, id: u64) {
        self.off_workers(move |s| {
            if let Err(e) = s.engine.store.mark_outbound(id, false) {
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
        self.off_workers(move |s| {
            if let Err(e) = s.engine.store.outbound_done(id) {
                tracing::error!(error = %e, "outbox update failed");
            }
        })
        .await;
    }

    async fn deliver(&self, entry: &OutboundEntry) -> Result<(), SendError> {
        let comune = &entry.key.comune;
        match entry.channel {
            Channel::Whatsapp => {
                let client = self
                    .whatsapp
                    .get(comune)
                    .ok_or_else(|| missing("SPORTELLO_WHATSAPP_TOKEN"))?;
                let label = self
                    .engine
                    .locales
                    .format(&entry.language, "list-label", None)
                    .unwrap_or_default();
                for msg in whatsapp::from_rendered(&entry.to, &entry.rendered, &label) {
                    let wamid = client.send(&entry.route, &msg).await?;
                    self.record_sent(Channel::Whatsapp, &wamid, &entry.key);
                }
                Ok(())
            }
            Channel::Telegram => {
                let client = self
                    .telegram
                    .get(comune)
                    .ok_or_else(|| missing("SPORTELLO_TELEGRAM_TOKEN_<COMUNE>"))?;
                if let Some(cb) = &entry.callback_id {
                    // An unanswered callback leaves a spinner on the citizen's button; its
                    // failure must not block the reply itself.
                    let _ = client.answer_callback_query(cb).await;
                }
                for body in crate::channel::telegram::send_message_bodies(&entry.to, &entry.rendered) {
                    client.send_message(&body).await?;
                }
                Ok(())
            }
            Channel::Web => Ok(()),
        }
    }

    /// Remembers a message the provider accepted, to follow its delivery statuses.
    fn record_sent(&self, channel: Channel, provider_id: &str, key: &CitizenKey) {
        let now = Timestamp::now();
        let entry = SentEntry {
            key: key.clone(),
            sent_at: now,
            status: DeliveryStatus::Sent,
            updated_at: now,
            errors: Vec::new(),
            broadcast: None,
        };
        if let Err(e) = self
            .engine
            .store
            .put_sent(&sent_key(channel.as_str(), provider_id), &entry)
        {
            tracing::error!(error = %e, "could not record a sent message");
        }
        self.count(&key.comune, now, "sent");
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
        self.in_lane(sent.key, move || s.apply_status(&update)).await;
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
            self.count(&sent.key.comune, at, "delivered");
        }
        if reached(DeliveryStatus::Read) {
            self.count(&sent.key.comune, at, "read");
        }
        if update.status == DeliveryStatus::Failed {
            self.count(&sent.key.comune, at, "failed");
        }
        if update.status == DeliveryStatus::Failed {
            let (code, title) = update
                .errors
                .first()
                .map(|e| (e.code, e.title.as_str()))
                .unwrap_or((0, "failed"));
            self.record_delivery_error(&sent.key, code, title);
        }
    }

    pub(crate) fn count(&self, comune: &str, at: Timestamp, metric: &str) {
        if let Err(e) = self
            .engine
            .store
            .bump(comune, &crate::service::runner::month_of(at), metric, 1)
        {
            tracing::error!(error = %e, "could not count a delivery");
        }
    }

    /// [`Server::record_delivery_error`] in the citizen's lane, as a step (see
    /// [`Server::delivery_status`]).
    pub(crate) async fn record_refusal(&self, key: &CitizenKey, code: i64, title: &str) {
        let (s, k, t) = (self.clone(), key.clone(), title.to_string());
        self.in_lane(key.clone(), move || s.record_delivery_error(&k, code, &t))
            .await;
    }

    /// Writes a refusal into the citizen's record. Call it in the citizen's lane (`in_lane`):
    /// it reads and writes the record as a step does.
    pub(crate) fn record_delivery_error(&self, key: &CitizenKey, code: i64, title: &str) {
        let store = &self.engine.store;
        if let Ok(Some(mut c)) = store.citizen(key) {
            c.delivery_error = Some(DeliveryError {
                code,
                title: title.to_string(),
                at: Timestamp::now(),
            });
            if let Err(e) = store.put_citizen(key, &c) {
                tracing::error!(error = %e, "could not record a delivery error");
            }
        }
    }

    /// Tells WhatsApp the message was read (blue ticks); best effort, never retried.
    pub(crate) fn mark_read(&self, comune: &str, route: &str, message_id: &str) {
        if let Some(client) = self.whatsapp.get(comune).cloned() {
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

fn missing(var: &str) -> SendError {
    // Without credentials nothing can be sent; keep retrying slowly so that setting the
    // variable and restarting delivers what is waiting.
    SendError::Retryable {
        code: 0,
        title: format!("no credentials: set {var}"),
        retry_after: Some(60),
    }
}
