//! The citizens' lanes as a narrow handle, for the edges that act on one citizen (the
//! console's desk and moderation pages): a staff action runs in the citizen's lane,
//! ordered with their messages, and the replies it queued go to the sender. The console
//! holds this, not the server.

use tokio::sync::oneshot;

use super::pipeline::Job;
use crate::service::queue::KeyedQueue;
use crate::storage::CitizenKey;

/// The inbound lanes (steps and staff actions) and the outbound ones (replies to send).
#[derive(Clone)]
pub struct Lanes {
    pub(super) inbound: KeyedQueue<CitizenKey, Job>,
    pub(super) outbound: KeyedQueue<CitizenKey, u64>,
}

impl Lanes {
    /// Runs `f` in `key`'s lane, after the steps queued before it and before those queued
    /// after; returns its result (`None` only if the lane dropped it at shutdown).
    pub async fn in_lane<T: Send + 'static>(
        &self,
        key: CitizenKey,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.inbound.push(
            key,
            Job::Staff(Box::new(move || {
                let _ = tx.send(f());
            })),
        );
        rx.await.ok()
    }

    /// Hands outbox entry `id` to the sender, in `key`'s order.
    pub fn send(&self, key: CitizenKey, id: u64) {
        self.outbound.push(key, id);
    }
}
