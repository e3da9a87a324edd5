//! `JournalStore` in memory: the inbound journal, the reply outbox, sent records and the step commit.

use super::MemoryStore;
use crate::storage::keys::CitizenKey;
use crate::storage::records::Citizen;
use crate::storage::JournalStore;
use crate::storage::{done_entry, Conversation, InboundEntry, OutboundEntry, SentEntry, StepEffects, StoreError};

impl JournalStore for MemoryStore {
    fn record_inbound(&self, dedupe: &[u8], entry: &InboundEntry) -> Result<bool, StoreError> {
        let mut q = self.queues();
        if q.inbound.contains_key(dedupe) {
            return Ok(false);
        }
        q.inbound.insert(dedupe.to_vec(), entry.clone());
        Ok(true)
    }

    fn pending_inbound(&self) -> Result<Vec<(Vec<u8>, InboundEntry)>, StoreError> {
        let mut v: Vec<_> = self
            .queues()
            .inbound
            .iter()
            .filter(|(_, e)| !e.done)
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        v.sort_by_key(|(_, e)| e.received_at);
        Ok(v)
    }

    fn commit_step(
        &self,
        dedupe: Option<&[u8]>,
        key: &CitizenKey,
        citizen: Option<&Citizen>,
        outbound: &[OutboundEntry],
        effects: &StepEffects,
    ) -> Result<Vec<u64>, StoreError> {
        key.encode()?;
        let mut citizens = self.lock();
        let mut q = self.queues();
        for entry in &effects.ledger {
            q.next_id += 1;
            let id = q.next_id;
            q.ledger.insert(id, entry.clone());
        }
        for case in &effects.cases {
            q.next_id += 1;
            let id = q.next_id;
            q.cases.insert(id, case.clone());
        }
        for (month, metric) in &effects.counters {
            *q.stats
                .entry((key.comune.clone(), month.clone(), metric.clone()))
                .or_default() += 1;
        }
        if let Some(wrote) = &effects.wrote {
            let conv = Conversation::after_citizen_wrote(q.conversations.remove(key), key, wrote);
            q.conversations.insert(key.clone(), conv);
        }
        if effects.erase {
            q.erasing.insert(key.clone());
        }
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

    fn mark_outbound(&self, id: u64, in_flight: bool) -> Result<Option<OutboundEntry>, StoreError> {
        Ok(self.queues().outbox.get_mut(&id).map(|e| {
            e.in_flight = in_flight;
            e.clone()
        }))
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

    fn prune_sent(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        let mut q = self.queues();
        let n = q.sent.len();
        q.sent.retain(|_, e| e.sent_at >= before);
        Ok(n - q.sent.len())
    }
}
