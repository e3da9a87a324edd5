//! An in-memory backend: for tests and for benchmarking the engine without disk. Nothing
//! survives the process; `flush` does nothing.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::keys::CitizenKey;
use super::{done_entry, InboundEntry, ModerationCase, OutboundEntry, SentEntry, Store, StoreError};
use crate::dialogue::Citizen;

/// Citizens in a `BTreeMap` behind one mutex: contention is not a concern for its uses.
#[derive(Default)]
pub struct MemoryStore {
    citizens: Mutex<BTreeMap<CitizenKey, Citizen>>,
    // One lock for the journal and the outbox so `commit_step` is atomic with `citizens`
    // taken first (always in that order: no deadlock).
    queues: Mutex<Queues>,
}

#[derive(Default)]
struct Queues {
    inbound: BTreeMap<Vec<u8>, InboundEntry>,
    outbox: BTreeMap<u64, OutboundEntry>,
    sent: BTreeMap<Vec<u8>, SentEntry>,
    cases: BTreeMap<u64, ModerationCase>,
    next_id: u64,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
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
    fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError> {
        key.encode()?;
        Ok(self.lock().get(key).cloned())
    }
    fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError> {
        key.encode()?;
        self.lock().insert(key.clone(), citizen.clone());
        Ok(())
    }
    fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }
    fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        Ok(self.lock().iter().filter(|(k, _)| k.comune == comune).map(|(k, v)| (k.clone(), v.clone())).collect())
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
    fn record_inbound(&self, dedupe: &[u8], entry: &InboundEntry) -> Result<bool, StoreError> {
        let mut q = self.queues();
        if q.inbound.contains_key(dedupe) {
            return Ok(false);
        }
        q.inbound.insert(dedupe.to_vec(), entry.clone());
        Ok(true)
    }
    fn pending_inbound(&self) -> Result<Vec<(Vec<u8>, InboundEntry)>, StoreError> {
        let mut v: Vec<_> = self.queues().inbound.iter().filter(|(_, e)| !e.done).map(|(k, e)| (k.clone(), e.clone())).collect();
        v.sort_by_key(|(_, e)| e.received_at);
        Ok(v)
    }
    fn commit_step(
        &self,
        dedupe: Option<&[u8]>,
        key: &CitizenKey,
        citizen: Option<&Citizen>,
        outbound: &[OutboundEntry],
    ) -> Result<Vec<u64>, StoreError> {
        key.encode()?;
        let mut citizens = self.lock();
        let mut q = self.queues();
        if let Some(d) = dedupe {
            if let Some(e) = q.inbound.remove(d) {
                q.inbound.insert(d.to_vec(), done_entry(e));
            }
        }
        match citizen {
            Some(c) => citizens.insert(key.clone(), c.clone()),
            None => citizens.remove(key),
        };
        let mut ids = Vec::new();
        for entry in outbound {
            q.next_id += 1;
            let id = q.next_id;
            q.outbox.insert(id, entry.clone());
            ids.push(id);
        }
        Ok(ids)
    }
    fn pending_outbound(&self) -> Result<Vec<(u64, OutboundEntry)>, StoreError> {
        Ok(self.queues().outbox.iter().map(|(k, v)| (*k, v.clone())).collect())
    }
    fn outbound_entry(&self, id: u64) -> Result<Option<OutboundEntry>, StoreError> {
        Ok(self.queues().outbox.get(&id).cloned())
    }
    fn outbound_done(&self, id: u64) -> Result<(), StoreError> {
        self.queues().outbox.remove(&id);
        Ok(())
    }
    fn prune_inbound(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        let mut q = self.queues();
        let n = q.inbound.len();
        q.inbound.retain(|_, e| !(e.done && e.received_at < before));
        Ok(n - q.inbound.len())
    }
    fn put_sent(&self, key: &[u8], entry: &SentEntry) -> Result<(), StoreError> {
        self.queues().sent.insert(key.to_vec(), entry.clone());
        Ok(())
    }
    fn sent(&self, key: &[u8]) -> Result<Option<SentEntry>, StoreError> {
        Ok(self.queues().sent.get(key).cloned())
    }
    fn add_case(&self, case: &ModerationCase) -> Result<u64, StoreError> {
        let mut q = self.queues();
        q.next_id += 1;
        let id = q.next_id;
        q.cases.insert(id, case.clone());
        Ok(id)
    }
    fn case(&self, id: u64) -> Result<Option<ModerationCase>, StoreError> {
        Ok(self.queues().cases.get(&id).cloned())
    }
    fn put_case(&self, id: u64, case: &ModerationCase) -> Result<(), StoreError> {
        self.queues().cases.insert(id, case.clone());
        Ok(())
    }
    fn cases(&self, comune: &str) -> Result<Vec<(u64, ModerationCase)>, StoreError> {
        Ok(self.queues().cases.iter().filter(|(_, c)| c.key.comune == comune).map(|(k, v)| (*k, v.clone())).collect())
    }
}
