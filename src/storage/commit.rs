//! Group commit: many callers wait for one shared `Store::flush`, and many steps go into
//! one commit before it.
//!
//! The server must not send a reply before the state that produced it is durable, but one
//! flush (an fsync, about a millisecond or more) per message would cap throughput at one
//! message per fsync. [`GroupCommit`] runs one flusher thread: callers register, and each
//! flush covers every caller registered before it started. Under load one flush serves
//! dozens of citizens.
//!
//! A step can also hand its writes to the flusher ([`GroupCommit::commit_step`]): every
//! step waiting when a flush is due goes in with one
//! [`JournalStore::commit_steps`](super::JournalStore::commit_steps) just
//! before it, and each step's caller hears once its writes are durable. On sled each
//! transaction writes the I/O buffer out twice (a write and a `sync_file_range` each, on a
//! thread of sled's pool) whatever it holds: one transaction per message was most of a
//! message's cost on the server's path (BENCHMARKS.md, "One commit per flush").
//!
//! This module owns only the batching of commits and flushes. It must not decide what a
//! step writes or what is acknowledged, nor hide a commit or flush error from a caller that
//! waited on it.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use tokio::sync::{oneshot, watch};

use super::{StepWrite, Store, StoreError};

/// The most steps one commit takes: a transaction holds all of its writes in memory, and a
/// step waits for the whole of it. More wait for the next flush.
pub const MAX_STEPS_PER_COMMIT: usize = 256;

/// A cheap-to-clone handle sharing one flusher thread over a store.
///
/// The flusher stops after a final flush on [`GroupCommit::shutdown`] or when the last
/// handle is dropped (which then blocks for that one flush).
#[derive(Clone)]
pub struct GroupCommit {
    inner: Arc<Inner>,
}

// The invariant, with tickets numbered 1, 2, … in call order:
//
// - `durable()` takes ticket `t = requested + 1` under the `requests` lock *after* its caller's
//   writes were made (they happen before the call).
// - The flusher reads `requested` (call it `r`) under the same lock and only then starts a
//   flush; when it returns it publishes `ok_through = r` (or an error through `r`).
// - So a caller holding ticket `t <= r` registered before that read, and the flush began after
//   its call: once `ok_through >= t`, its writes are durable. `ok_through` only grows, and a
//   later successful flush satisfies an earlier ticket too (it also started after the call).
//
// Callers wait on a `watch` channel (async, no lock held across an await); the flusher waits
// on a `Condvar` (it is a plain thread, since `flush` blocks).
struct Shared {
    store: Arc<dyn Store>,
    requests: Mutex<Requests>,
    wake: Condvar,
    progress: watch::Sender<Progress>,
}

#[derive(Default)]
struct Requests {
    /// The highest ticket handed out.
    requested: u64,
    /// Set once by shutdown: no new tickets, the flusher ends after a final flush.
    closing: bool,
    /// Steps waiting to be committed before the next flush, in the order they came.
    steps: Vec<Waiting>,
}

/// A step handed to the flusher and the caller waiting for its outbox ids.
struct Waiting {
    write: Arc<StepWrite>,
    done: oneshot::Sender<Result<Vec<u64>, StoreError>>,
}

/// What the flusher has completed, published to the waiting callers.
#[derive(Clone, Default)]
struct Progress {
    /// Every ticket up to this one is durable.
    ok_through: u64,
    /// The latest failed flush: the tickets it covered (up to `.0`) and its message. A
    /// `String` in an `Arc` because `StoreError` is not `Clone`.
    failed: Option<(u64, Arc<str>)>,
}

struct Inner {
    shared: Arc<Shared>,
    flusher: Mutex<Option<JoinHandle<Result<(), StoreError>>>>,
}

impl GroupCommit {
    /// Starts the flusher thread over `store`.
    ///
    /// # Panics
    /// When the operating system refuses a new thread (as `std::thread::spawn` does).
    pub fn new(store: Arc<dyn Store>) -> GroupCommit {
        let (progress, _) = watch::channel(Progress::default());
        let shared = Arc::new(Shared {
            store,
            requests: Mutex::default(),
            wake: Condvar::new(),
            progress,
        });
        let worker = shared.clone();
        let handle = std::thread::Builder::new()
            .name("sportello-group-commit".into())
            .spawn(move || worker.run())
            .expect("spawning the group-commit thread");
        GroupCommit {
            inner: Arc::new(Inner {
                shared,
                flusher: Mutex::new(Some(handle)),
            }),
        }
    }

    /// Returns once a flush that started after this call has completed, so every write made
    /// before the call is durable. Concurrent callers share one flush.
    ///
    /// Errors: the flush that covered this call failed, or the handle was shut down.
    pub async fn durable(&self) -> Result<(), StoreError> {
        let shared = &self.inner.shared;
        let mut rx = shared.progress.subscribe();
        let ticket = {
            let mut req = shared.lock();
            if req.closing {
                return Err(StoreError::Unavailable("the group commit is shut down"));
            }
            req.requested += 1;
            req.requested
        };
        shared.wake.notify_one();
        let seen = rx
            .wait_for(|p| p.ok_through >= ticket || p.failed.as_ref().is_some_and(|(through, _)| *through >= ticket))
            .await
            // The sender lives in `Shared`, which this handle keeps alive: it cannot close.
            .map_err(|_| StoreError::Unavailable("the group commit flusher is gone"))?;
        if seen.ok_through >= ticket {
            return Ok(());
        }
        let msg = seen
            .failed
            .as_ref()
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| "unknown".into());
        Err(StoreError::Flush(msg.to_string()))
    }

    /// Commits a step's writes together with the other steps waiting, then flushes; returns
    /// its replies' outbox ids once the step is durable. An error when its commit failed (then
    /// nothing of it was written), or when the flush after it did (then it may be written and
    /// not durable, as when [`GroupCommit::durable`] fails).
    pub async fn commit_step(&self, write: Arc<StepWrite>) -> Result<Vec<u64>, StoreError> {
        let shared = &self.inner.shared;
        let (done, answer) = oneshot::channel();
        {
            let mut req = shared.lock();
            if req.closing {
                return Err(StoreError::Unavailable("the group commit is shut down"));
            }
            req.steps.push(Waiting { write, done });
        }
        shared.wake.notify_one();
        answer
            .await
            .unwrap_or(Err(StoreError::Unavailable("the group commit flusher is gone")))
    }

    /// Stops the flusher after a final flush that covers every earlier call, and returns that
    /// flush's result. Later [`GroupCommit::durable`] calls fail; calling it again is `Ok`.
    pub fn shutdown(&self) -> Result<(), StoreError> {
        self.inner.stop()
    }
}

impl Inner {
    fn stop(&self) -> Result<(), StoreError> {
        self.shared.lock().closing = true;
        self.shared.wake.notify_one();
        let handle = self.flusher.lock().unwrap_or_else(|p| p.into_inner()).take();
        match handle {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(StoreError::Task("the group commit thread panicked".into()))),
            None => Ok(()),
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::error!(error = %e, "final group flush failed");
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Requests> {
        // The lock guards two plain numbers: a panic elsewhere cannot leave them half-written.
        self.requests.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The flusher loop: wait for a ticket beyond the last flushed one or a step, commit the
    /// steps waiting, flush, publish.
    fn run(&self) -> Result<(), StoreError> {
        let mut flushed_through = 0u64;
        loop {
            let (target, closing, steps) = {
                let mut req = self.lock();
                while req.requested == flushed_through && req.steps.is_empty() && !req.closing {
                    req = self.wake.wait(req).unwrap_or_else(|p| p.into_inner());
                }
                let n = req.steps.len().min(MAX_STEPS_PER_COMMIT);
                let steps: Vec<Waiting> = req.steps.drain(..n).collect();
                // Steps left for the next round keep `closing` from ending the loop now.
                (req.requested, req.closing && req.steps.is_empty(), steps)
            };
            let committed = if steps.is_empty() {
                Vec::new()
            } else {
                let writes: Vec<&StepWrite> = steps.iter().map(|w| w.write.as_ref()).collect();
                self.store.commit_steps(&writes)
            };
            // The flush starts only now, after `target` was read: see the invariant above.
            let result = self.store.flush();
            flushed_through = target;
            match &result {
                Ok(()) => self.progress.send_modify(|p| p.ok_through = target),
                Err(e) => {
                    let msg: Arc<str> = e.to_string().into();
                    self.progress.send_modify(|p| p.failed = Some((target, msg)));
                }
            }
            let mut committed = committed.into_iter();
            for w in steps {
                let outcome = match (committed.next(), &result) {
                    (Some(Ok(ids)), Ok(())) => Ok(ids),
                    (Some(Ok(_)), Err(e)) => Err(StoreError::Flush(e.to_string())),
                    (Some(Err(e)), _) => Err(e),
                    (None, _) => Err(StoreError::Task("a step's commit went missing".into())),
                };
                // The caller may have gone (shutdown): its outcome with it.
                let _ = w.done.send(outcome);
            }
            if closing {
                // `closing` was read with `target`: no ticket after it can exist.
                return result;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStore;
    use std::time::Duration;

    /// A store whose flush takes 2 ms (like an fsync), counts calls, and can be made to fail.
    fn slow() -> Arc<MemoryStore> {
        Arc::new(MemoryStore::with_flush_delay(Duration::from_millis(2)))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_all_return_and_share_flushes() {
        let store = slow();
        let gc = GroupCommit::new(store.clone());
        let callers = 64;
        let rounds = 20;
        let mut tasks = Vec::new();
        for _ in 0..callers {
            let gc = gc.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..rounds {
                    gc.durable().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let flushes = store.flushes();
        let calls = callers * rounds;
        // Each round of 64 callers should need a handful of flushes, not 64.
        assert!(flushes * 10 < calls, "{flushes} flushes for {calls} durable() calls");
        eprintln!("{flushes} flushes for {calls} durable() calls");
        gc.shutdown().unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_flush_started_before_the_call_does_not_count() {
        let store = slow();
        let gc = GroupCommit::new(store.clone());
        gc.durable().await.unwrap();
        let before = store.flushes();
        gc.durable().await.unwrap();
        // Nothing else was pending, so the second call needed a flush of its own.
        assert_eq!(store.flushes(), before + 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flush_errors_reach_every_waiter_then_recovery() {
        let store = slow();
        store.set_failing(true);
        let gc = GroupCommit::new(store.clone());
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let gc = gc.clone();
                tokio::spawn(async move { gc.durable().await })
            })
            .collect();
        for t in tasks {
            let err = t.await.unwrap().unwrap_err();
            assert!(err.to_string().contains("disk full"), "{err}");
        }
        store.set_failing(false);
        gc.durable().await.unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn shutdown_flushes_once_more_and_refuses_later_calls() {
        let store = slow();
        let gc = GroupCommit::new(store.clone());
        gc.durable().await.unwrap();
        let before = store.flushes();
        gc.shutdown().unwrap();
        assert_eq!(store.flushes(), before + 1, "no final flush");
        assert!(gc.durable().await.is_err());
        gc.shutdown().unwrap();
        drop(gc);
    }

    /// A step of a new citizen `n` at Brusson (no reply, no effects).
    fn step(n: u32) -> Arc<StepWrite> {
        Arc::new(StepWrite {
            dedupe: None,
            key: crate::storage::CitizenKey::new("brusson", "whatsapp", &format!("3934700{n:05}")),
            citizen: Some(crate::storage::records::Citizen::new(jiff::Timestamp::UNIX_EPOCH)),
            outbound: Vec::new(),
            effects: Default::default(),
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn steps_waiting_together_share_commits_and_flushes_and_each_is_written() {
        let store = slow();
        let gc = GroupCommit::new(store.clone());
        let tasks: Vec<_> = (0..64)
            .map(|n| {
                let gc = gc.clone();
                tokio::spawn(async move { gc.commit_step(step(n)).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let flushes = store.flushes();
        assert!(flushes * 4 < 64, "{flushes} flushes for 64 steps");
        for n in 0..64 {
            let key = step(n).key.clone();
            assert!(crate::storage::CitizenStore::citizen(store.as_ref(), &key)
                .unwrap()
                .is_some());
        }
        gc.shutdown().unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_step_hears_of_its_own_commit_error_and_of_a_failed_flush() {
        let store = slow();
        let gc = GroupCommit::new(store.clone());
        let mut bad = (*step(1)).clone();
        bad.key = crate::storage::CitizenKey::new("", "whatsapp", "393470000001");
        let err = gc.commit_step(Arc::new(bad)).await.unwrap_err();
        assert!(matches!(err, StoreError::BadKey(_)), "{err}");
        store.set_failing(true);
        let err = gc.commit_step(step(2)).await.unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        store.set_failing(false);
        gc.commit_step(step(3)).await.unwrap();
        gc.shutdown().unwrap();
        assert!(gc.commit_step(step(4)).await.is_err(), "a step after shutdown");
    }
}
