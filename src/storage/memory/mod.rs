//! An in-memory backend: for tests and for benchmarking the engine without disk. Nothing
//! survives the process. `flush` only counts, and can be made slow (like an fsync) or to
//! fail (a full disk) for the group-commit tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::storage::keys::CitizenKey;
use crate::storage::records::Citizen;
use crate::storage::records::{Broadcast, Delivery};
use crate::storage::{
    Account, AuditEntry, ClosureEdit, Conversation, FaqEdit, InboundEntry, LedgerEntry, ModerationCase, OutboundEntry,
    SentEntry, Session, Store, StoreError,
};

mod broadcasts;
mod cases;
mod citizens;
mod journal;
mod staff;

/// Citizens in a `BTreeMap` behind one mutex: contention is not a concern for its uses.
#[derive(Default)]
pub struct MemoryStore {
    citizens: Mutex<BTreeMap<CitizenKey, Citizen>>,
    // One lock for the journal and the outbox so `commit_step` is atomic with `citizens`
    // taken first (always in that order: no deadlock).
    queues: Mutex<Queues>,
    flush: FlushKnobs,
}

/// What `flush` does here: counts, sleeps `delay`, fails while `failing`.
#[derive(Default)]
struct FlushKnobs {
    count: std::sync::atomic::AtomicU64,
    delay: std::time::Duration,
    failing: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Queues {
    inbound: BTreeMap<Vec<u8>, InboundEntry>,
    outbox: BTreeMap<u64, OutboundEntry>,
    sent: BTreeMap<Vec<u8>, SentEntry>,
    cases: BTreeMap<u64, ModerationCase>,
    ledger: BTreeMap<u64, LedgerEntry>,
    audit: BTreeMap<u64, AuditEntry>,
    stats: BTreeMap<(String, String, String), u64>,
    accounts: BTreeMap<String, Account>,
    sessions: BTreeMap<String, Session>,
    conversations: BTreeMap<CitizenKey, Conversation>,
    erasing: std::collections::BTreeSet<CitizenKey>,
    /// Another identity -> the record's key.
    aliases: BTreeMap<CitizenKey, CitizenKey>,
    /// By (comune, entry id, language), as `keys::faq_edit_key` orders them.
    faq_edits: BTreeMap<(String, String, String), FaqEdit>,
    /// By (comune, day).
    closures: BTreeMap<(String, String), ClosureEdit>,
    broadcasts: BTreeMap<u64, Broadcast>,
    /// (broadcast id, channel, citizen): the order of sled's keys.
    deliveries: BTreeMap<(u64, String, String), Delivery>,
    next_id: u64,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// A store whose every flush takes `delay`, as an fsync would.
    pub fn with_flush_delay(delay: std::time::Duration) -> MemoryStore {
        let mut store = MemoryStore::default();
        store.flush.delay = delay;
        store
    }

    /// Flushes so far.
    pub fn flushes(&self) -> u64 {
        self.flush.count.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Makes the following flushes fail (a full disk), or succeed again.
    pub fn set_failing(&self, fail: bool) {
        self.flush.failing.store(fail, std::sync::atomic::Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<CitizenKey, Citizen>> {
        // A panic while holding the lock cannot leave a half-written record: take the data.
        self.citizens.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn queues(&self) -> std::sync::MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemoryStore {
    fn flush(&self) -> Result<(), StoreError> {
        if !self.flush.delay.is_zero() {
            std::thread::sleep(self.flush.delay);
        }
        self.flush.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if self.flush.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Flush("disk full".into()));
        }
        Ok(())
    }
}
