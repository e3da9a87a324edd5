//! The seam between one process and several: what the hot path (the citizen's lane, the
//! reply sender, the broadcast lanes) asks of the other processes serving the same store.
//!
//! Alone ([`Alone`]) every answer is immediate and local: no lock is taken, a lane runs the
//! message it was handed, a reply is marked in flight and sent. With several active
//! processes on one PostgreSQL database (`server::shared`), the same questions are answered
//! with advisory locks, the journal of every process and claims on the outbox. The callers
//! never ask which: they have no mode branches.

use std::future::Future;
use std::pin::Pin;

use crate::channel::InboundMessage;
use crate::storage::postgres::{Claim, Held};
use crate::storage::{CitizenKey, Store, StoreError};

/// A boxed future, for the object-safe [`Coordination`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A lock held across processes until released; alone, nothing is held.
pub struct Guard(pub Option<Held>);

impl Guard {
    pub async fn release(self) {
        if let Some(held) = self.0 {
            held.release().await;
        }
    }
}

/// What one process asks of the others.
pub trait Coordination: Send + Sync + 'static {
    /// This process among the others, written as the owner of the messages it journals
    /// and the replies it creates; `None` alone.
    fn owner(&self) -> Option<&str>;

    /// The lock `name` shared with the other processes: waited for when `wait`, else only
    /// tried (`None`: another process holds it). Alone, granted at once.
    fn lock<'a>(&'a self, name: &'a str, wait: bool) -> BoxFuture<'a, Result<Option<Guard>, StoreError>>;

    /// The journalled messages a citizen's lane runs for one job, in order (a store call:
    /// run it off the async workers when the store waits on the network). Alone, the
    /// job's `own` message; with others, every message of the citizen still waiting,
    /// whoever received it.
    fn to_run(
        &self,
        key: &CitizenKey,
        own: Option<(Vec<u8>, InboundMessage)>,
    ) -> Result<Vec<(Vec<u8>, InboundMessage)>, StoreError>;

    /// Marks reply `id` in flight if it is this process's to send now (a store call).
    fn claim(&self, store: &dyn Store, id: u64) -> Result<Claim, StoreError>;

    /// Whether other processes work on the same store: then what a previous process left
    /// is taken over by a sweep, not replayed at start.
    fn shared(&self) -> bool;
}

/// The name of a citizen's lock (hashed into the lock's key, `postgres::lock_key`; never
/// logged).
pub fn citizen_lock(key: &CitizenKey) -> String {
    format!("citizen {}\u{1f}{}\u{1f}{}", key.comune, key.channel, key.citizen)
}

/// One process alone: nothing to coordinate.
pub struct Alone;

impl Coordination for Alone {
    fn owner(&self) -> Option<&str> {
        None
    }

    fn lock<'a>(&'a self, _name: &'a str, _wait: bool) -> BoxFuture<'a, Result<Option<Guard>, StoreError>> {
        Box::pin(async { Ok(Some(Guard(None))) })
    }

    fn to_run(
        &self,
        _key: &CitizenKey,
        own: Option<(Vec<u8>, InboundMessage)>,
    ) -> Result<Vec<(Vec<u8>, InboundMessage)>, StoreError> {
        Ok(own.into_iter().collect())
    }

    fn claim(&self, store: &dyn Store, id: u64) -> Result<Claim, StoreError> {
        Ok(match store.mark_outbound(id, true)? {
            Some(entry) => Claim::Claimed(id, Box::new(entry)),
            None => Claim::Gone,
        })
    }

    fn shared(&self) -> bool {
        false
    }
}
