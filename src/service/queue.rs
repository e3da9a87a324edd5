//! A per-key ordered queue: jobs for one key run one at a time, in the order they were
//! pushed; jobs for different keys run in parallel (teloxide's per-chat ordering).
//!
//! Each key with pending work has a lane (a channel and a task). A lane ends when it finds
//! its channel empty *while holding the map's lock*, and `push` sends while holding the same
//! lock, so a job can never be pushed into a lane that is about to end.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, Notify};

type Handler<K, J> = dyn Fn(K, J) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync;

/// Runs `handler(key, job)` for each pushed job, ordered per key.
pub struct KeyedQueue<K, J> {
    // std Mutex: held only for map operations, never across an await.
    lanes: Arc<Mutex<HashMap<K, mpsc::UnboundedSender<J>>>>,
    handler: Arc<Handler<K, J>>,
    idle: Arc<Notify>,
}

impl<K, J> Clone for KeyedQueue<K, J> {
    fn clone(&self) -> Self {
        KeyedQueue {
            lanes: self.lanes.clone(),
            handler: self.handler.clone(),
            idle: self.idle.clone(),
        }
    }
}

impl<K, J> KeyedQueue<K, J>
where
    K: Eq + Hash + Clone + Send + 'static,
    J: Send + 'static,
{
    pub fn new<F, Fut>(handler: F) -> Self
    where
        F: Fn(K, J) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        KeyedQueue {
            lanes: Arc::new(Mutex::new(HashMap::new())),
            handler: Arc::new(move |k, j| Box::pin(handler(k, j))),
            idle: Arc::new(Notify::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, mpsc::UnboundedSender<J>>> {
        self.lanes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a job behind the key's earlier jobs. Must be called within a tokio runtime.
    /// Returns whether the job starts a lane of its own (the key had no work waiting), and
    /// so runs as soon as the runtime gets to it.
    pub fn push(&self, key: K, job: J) -> bool {
        let mut lanes = self.lock();
        let job = match lanes.get(&key) {
            Some(tx) => match tx.send(job) {
                Ok(()) => return false,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(job);
        lanes.insert(key.clone(), tx);
        drop(lanes);
        let this = self.clone();
        tokio::spawn(async move { this.lane(key, rx).await });
        true
    }

    async fn lane(self, key: K, mut rx: mpsc::UnboundedReceiver<J>) {
        loop {
            let job = match rx.try_recv() {
                Ok(job) => job,
                Err(_) => {
                    let mut lanes = self.lock();
                    match rx.try_recv() {
                        Ok(job) => job,
                        Err(_) => {
                            lanes.remove(&key);
                            let empty = lanes.is_empty();
                            drop(lanes);
                            if empty {
                                self.idle.notify_waiters();
                            }
                            return;
                        }
                    }
                }
            };
            (self.handler)(key.clone(), job).await;
        }
    }

    /// Number of keys with pending or running work.
    pub fn active(&self) -> usize {
        self.lock().len()
    }

    /// Waits until no key has work (for graceful shutdown and tests).
    pub async fn drained(&self) {
        loop {
            let notified = self.idle.notified();
            if self.active() == 0 {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    // Paused time: each job's millisecond passes at once when every task waits on it.
    #[tokio::test(start_paused = true)]
    async fn one_key_in_order_never_two_at_once_keys_in_parallel() {
        let log: Arc<Mutex<Vec<(u32, u32)>>> = Arc::default();
        let running: Arc<HashMap<u32, AtomicUsize>> = Arc::new((0..20).map(|k| (k, AtomicUsize::new(0))).collect());
        let peak = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let (l, r, p, f) = (log.clone(), running.clone(), peak.clone(), in_flight.clone());
        let q = KeyedQueue::new(move |k: u32, j: u32| {
            let (l, r, p, f) = (l.clone(), r.clone(), p.clone(), f.clone());
            async move {
                assert_eq!(r[&k].fetch_add(1, Ordering::SeqCst), 0, "two jobs of one key at once");
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
                l.lock().unwrap().push((k, j));
                f.fetch_sub(1, Ordering::SeqCst);
                r[&k].fetch_sub(1, Ordering::SeqCst);
            }
        });
        for j in 0..30 {
            for k in 0..20 {
                q.push(k, j);
            }
        }
        q.drained().await;
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 600);
        for k in 0..20 {
            let seq: Vec<u32> = log.iter().filter(|(key, _)| *key == k).map(|(_, j)| *j).collect();
            assert_eq!(seq, (0..30).collect::<Vec<_>>(), "key {k} out of order");
        }
        assert!(peak.load(Ordering::SeqCst) > 1, "different keys never ran in parallel");
        assert_eq!(q.active(), 0);
    }
}
