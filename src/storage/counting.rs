//! A store wrapper that counts flushes, can slow them down (like an fsync) and can make them
//! fail: for the group-commit tests and the engine benchmark. Everything else is delegated.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::{
    Account, AuditEntry, CitizenKey, ClosureEdit, Conversation, FaqEdit, InboundEntry, LedgerEntry, ModerationCase,
    OutboundEntry, Scrubbed, SentEntry, Session, StepEffects, Store, StoreError,
};
use crate::storage::records::Citizen;

/// Wraps `S`, counting `flush` calls.
pub struct FlushCounter<S> {
    inner: S,
    flushes: AtomicU64,
    delay: Duration,
    fail: AtomicBool,
}

impl<S: Store> FlushCounter<S> {
    /// `delay` is slept in every flush (zero for none).
    pub fn new(inner: S, delay: Duration) -> FlushCounter<S> {
        FlushCounter {
            inner,
            flushes: AtomicU64::new(0),
            delay,
            fail: AtomicBool::new(false),
        }
    }
    /// Flushes so far.
    pub fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::SeqCst)
    }
    /// Makes the following flushes fail (a full disk), or succeed again.
    pub fn set_failing(&self, fail: bool) {
        self.fail.store(fail, Ordering::SeqCst);
    }
}

impl<S: Store> FlushCounter<S> {
    /// Writes go straight to the wrapped store.
    fn direct<T>(&self, f: impl FnOnce(&S) -> T) -> T {
        f(&self.inner)
    }
}

super::forward::forward_store!([S: Store] FlushCounter<S>, inner, direct);

impl<S: Store> Store for FlushCounter<S> {
    fn flush(&self) -> Result<(), StoreError> {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        self.flushes.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Flush("disk full".into()));
        }
        self.inner.flush()
    }

    fn waits_on_network(&self) -> bool {
        self.inner.waits_on_network()
    }
}
