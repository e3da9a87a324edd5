//! One way out: everything that leaves for a citizen, a reply from the outbox or a
//! broadcast entry, goes through an [`Outlet`]:
//!
//! - the providers' clients ([`Providers`]) and what one send hands them ([`Outgoing`]);
//! - the at-most-once turn ([`Outlet::turn`]): the entry is marked in flight and the mark
//!   made durable before its request leaves, and every message the provider accepts is
//!   recorded to follow its delivery statuses;
//! - what to do after an error ([`decide`]): retry, slow the number down, pause it, give up,
//!   or count it in doubt;
//! - the counters of what left and what failed, and the refusal written into the
//!   citizen's record.
//!
//! Two callers: `server::sender` (replies, one citizen at a time, in order, retried in the
//! citizen's lane) and `broadcast::send` (entries of paced lanes, retried by queueing them
//! again). What each does with an outcome (finish, unmark, queue again, hold the lane) is
//! theirs; how the outcome is reached is here, once.

mod decide;
mod providers;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use jiff::Timestamp;

pub use decide::{backoff, decide, Decision, Retries, MAX_BACKOFF};
pub use providers::{Outgoing, Providers};

use crate::channel::{Channel, DeliveryStatus, SendError};
use crate::storage::commit::GroupCommit;
use crate::storage::keys::{month_of, sent_key};
use crate::storage::records::DeliveryError;
use crate::storage::{CitizenKey, SentEntry, Store, StoreError};

/// A monotonically increasing counter.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What left and what did not, replies and broadcasts together.
#[derive(Default)]
pub struct Counters {
    /// Turns the provider accepted.
    pub sent: Counter,
    /// Replies tried again after an error.
    pub retries: Counter,
    /// Refused for good.
    pub failed: Counter,
    /// In flight when a process stopped, or in doubt after an error: not sent again.
    pub interrupted: Counter,
}

/// What a turn's `mark` found.
pub enum Marked<T> {
    /// Marked in flight (written, not yet durable): send this; `T` is the caller's.
    Ready(Outgoing, T),
    /// Not yet: an earlier message to the citizen comes first (another process's).
    Later,
    /// Nothing to send (the entry is gone, or the citizen no longer receives it).
    Gone,
}

/// How a turn ended.
pub enum Turn<T> {
    /// The provider accepted every message (their ids, in order).
    Sent(T, Vec<String>),
    /// The provider refused (messages before the error were accepted and recorded).
    Failed(SendError, T),
    /// The in-flight mark could not be made durable: nothing was sent.
    NotDurable(T),
    /// See [`Marked::Later`].
    Later,
    /// See [`Marked::Gone`] (or the mark could not be written).
    Gone,
}

/// The way out: providers, the store, its group commit, the counters.
pub struct Outlet {
    pub providers: Providers,
    pub store: Arc<dyn Store>,
    commit: GroupCommit,
    pub counters: Counters,
}

impl Outlet {
    pub fn new(providers: Providers, store: Arc<dyn Store>, commit: GroupCommit) -> Outlet {
        Outlet {
            providers,
            store,
            commit,
            counters: Counters::default(),
        }
    }

    /// Resolves once every write made before the call is durable (one fsync shared).
    pub async fn durable(&self) -> Result<(), StoreError> {
        self.commit.durable().await
    }

    /// Runs a store call: in place when the store answers from memory and disk (sled),
    /// on the blocking pool when it waits on the network (PostgreSQL), so that a slow
    /// database never holds an async worker. `None` only if the task panicked.
    pub async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(&dyn Store) -> T + Send + 'static) -> Option<T> {
        if !self.store.waits_on_network() {
            return Some(f(self.store.as_ref()));
        }
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref())).await.ok()
    }

    /// One at-most-once turn of an entry to `key`: `mark` (a store call) writes it in flight
    /// and says what to send; the mark is made durable before anything leaves; every
    /// message the provider accepts is recorded ([`record_sent`]; `broadcast` says which
    /// one it belongs to) and a turn accepted whole is counted sent.
    pub async fn turn<T: Send + 'static>(
        &self,
        key: &CitizenKey,
        broadcast: Option<u64>,
        mark: impl FnOnce(&dyn Store) -> Result<Marked<T>, StoreError> + Send + 'static,
    ) -> Turn<T> {
        let (out, mine) = match self.blocking(mark).await {
            Some(Ok(Marked::Ready(out, mine))) => (out, mine),
            Some(Ok(Marked::Later)) => return Turn::Later,
            Some(Ok(Marked::Gone)) | None => return Turn::Gone,
            Some(Err(e)) => {
                tracing::error!(error = %e, "outbox read failed");
                return Turn::Gone;
            }
        };
        if let Err(e) = self.durable().await {
            tracing::error!(error = %e, "in-flight mark not durable; not sent");
            return Turn::NotDurable(mine);
        }
        let mut accepted = Vec::new();
        let result = self.providers.send(&key.comune, &out, &mut accepted).await;
        // Statuses come only from WhatsApp; a broadcast's Telegram messages are recorded too,
        // since its figures count what each channel accepted.
        let channel = out.channel();
        if !accepted.is_empty() && (channel == Channel::Whatsapp || broadcast.is_some()) {
            let (key, ids) = (key.clone(), accepted.clone());
            self.blocking(move |store| {
                for id in ids {
                    record_sent(store, channel, &id, &key, broadcast);
                }
            })
            .await;
        }
        match result {
            Ok(()) => {
                self.counters.sent.inc();
                Turn::Sent(mine, accepted)
            }
            Err(e) => Turn::Failed(e, mine),
        }
    }
}

/// Remembers a message the provider accepted, to follow its delivery statuses, and counts
/// it in the comune's month.
pub fn record_sent(store: &dyn Store, channel: Channel, provider_id: &str, key: &CitizenKey, broadcast: Option<u64>) {
    let now = Timestamp::now();
    let entry = SentEntry {
        key: key.clone(),
        sent_at: now,
        status: DeliveryStatus::Sent,
        updated_at: now,
        errors: Vec::new(),
        broadcast,
        desk: false,
    };
    if let Err(e) = store.put_sent(&sent_key(channel.as_str(), provider_id), &entry) {
        tracing::error!(error = %e, "could not record a sent message");
    }
    count(store, &key.comune, now, "sent");
}

/// Adds one to a comune's monthly delivery figure (`sent`, `delivered`, `read`, `failed`).
pub fn count(store: &dyn Store, comune: &str, at: Timestamp, metric: &str) {
    if let Err(e) = store.bump(comune, &month_of(at), metric, 1) {
        tracing::error!(error = %e, "could not count a delivery");
    }
}

/// Writes a refusal into the citizen's record. Call it where the citizen's steps are
/// ordered (the server's lane): it reads and writes the record as a step does.
pub fn record_refusal(store: &dyn Store, key: &CitizenKey, code: i64, title: &str) {
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
