//! A store wrapper that counts flushes, can slow them down (like an fsync) and can make them
//! fail: for the group-commit tests and the engine benchmark. Everything else is delegated.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::{
    AuditEntry, CitizenKey, InboundEntry, LedgerEntry, ModerationCase, OutboundEntry, Scrubbed, SentEntry, Store,
    StoreError,
};
use crate::dialogue::Citizen;

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

impl<S: Store> Store for FlushCounter<S> {
    fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError> {
        self.inner.citizen(key)
    }
    fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError> {
        self.inner.put_citizen(key, citizen)
    }
    fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError> {
        self.inner.remove_citizen(key)
    }
    fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        self.inner.citizens(comune)
    }
    fn flush(&self) -> Result<(), StoreError> {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        self.flushes.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Engine("disk full".into()));
        }
        self.inner.flush()
    }
    fn record_inbound(&self, dedupe: &[u8], entry: &InboundEntry) -> Result<bool, StoreError> {
        self.inner.record_inbound(dedupe, entry)
    }
    fn pending_inbound(&self) -> Result<Vec<(Vec<u8>, InboundEntry)>, StoreError> {
        self.inner.pending_inbound()
    }
    fn commit_step(
        &self,
        dedupe: Option<&[u8]>,
        key: &CitizenKey,
        citizen: Option<&Citizen>,
        outbound: &[OutboundEntry],
    ) -> Result<Vec<u64>, StoreError> {
        self.inner.commit_step(dedupe, key, citizen, outbound)
    }
    fn pending_outbound(&self) -> Result<Vec<(u64, OutboundEntry)>, StoreError> {
        self.inner.pending_outbound()
    }
    fn outbound_entry(&self, id: u64) -> Result<Option<OutboundEntry>, StoreError> {
        self.inner.outbound_entry(id)
    }
    fn outbound_done(&self, id: u64) -> Result<(), StoreError> {
        self.inner.outbound_done(id)
    }
    fn prune_inbound(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        self.inner.prune_inbound(before)
    }
    fn put_sent(&self, key: &[u8], entry: &SentEntry) -> Result<(), StoreError> {
        self.inner.put_sent(key, entry)
    }
    fn sent(&self, key: &[u8]) -> Result<Option<SentEntry>, StoreError> {
        self.inner.sent(key)
    }
    fn add_case(&self, case: &ModerationCase) -> Result<u64, StoreError> {
        self.inner.add_case(case)
    }
    fn case(&self, id: u64) -> Result<Option<ModerationCase>, StoreError> {
        self.inner.case(id)
    }
    fn put_case(&self, id: u64, case: &ModerationCase) -> Result<(), StoreError> {
        self.inner.put_case(id, case)
    }
    fn cases(&self, comune: &str) -> Result<Vec<(u64, ModerationCase)>, StoreError> {
        self.inner.cases(comune)
    }
    fn append_ledger(&self, entry: &LedgerEntry) -> Result<u64, StoreError> {
        self.inner.append_ledger(entry)
    }
    fn ledger(&self, comune: &str) -> Result<Vec<(u64, LedgerEntry)>, StoreError> {
        self.inner.ledger(comune)
    }
    fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        self.inner.append_audit(entry)
    }
    fn audit(&self, comune: Option<&str>) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
        self.inner.audit(comune)
    }
    fn scrub_citizen(&self, key: &CitizenKey, keep_outbox: bool) -> Result<Scrubbed, StoreError> {
        self.inner.scrub_citizen(key, keep_outbox)
    }
    fn prune_sent(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        self.inner.prune_sent(before)
    }
    fn mentions(&self, needle: &str) -> Result<Vec<String>, StoreError> {
        self.inner.mentions(needle)
    }
    fn bump(&self, comune: &str, month: &str, metric: &str, by: u64) -> Result<(), StoreError> {
        self.inner.bump(comune, month, metric, by)
    }
    fn counters(&self, comune: &str) -> Result<Vec<(String, String, u64)>, StoreError> {
        self.inner.counters(comune)
    }
}
