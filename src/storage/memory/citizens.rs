//! `CitizenStore` in memory: citizens and what is kept about them (records, ledger, counters, erasure).

use super::MemoryStore;
use crate::storage::keys::CitizenKey;
use crate::storage::records::Citizen;
use crate::storage::CitizenStore;
use crate::storage::{anonymized, done_entry, LedgerEntry, Scrubbed, StoreError};

impl CitizenStore for MemoryStore {
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

    fn put_alias(&self, other: &CitizenKey, key: &CitizenKey) -> Result<(), StoreError> {
        self.queues().aliases.insert(other.clone(), key.clone());
        Ok(())
    }

    fn alias(&self, other: &CitizenKey) -> Result<Option<CitizenKey>, StoreError> {
        Ok(self.queues().aliases.get(other).cloned())
    }

    fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        Ok(self
            .lock()
            .iter()
            .filter(|(k, _)| k.comune == comune)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn unfinished_erasures(&self) -> Result<Vec<CitizenKey>, StoreError> {
        Ok(self.queues().erasing.iter().cloned().collect())
    }

    fn append_ledger(&self, entry: &LedgerEntry) -> Result<u64, StoreError> {
        let mut q = self.queues();
        q.next_id += 1;
        let id = q.next_id;
        q.ledger.insert(id, entry.clone());
        Ok(id)
    }

    fn ledger(&self, comune: &str) -> Result<Vec<(u64, LedgerEntry)>, StoreError> {
        Ok(self
            .queues()
            .ledger
            .iter()
            .filter(|(_, e)| e.comune == comune)
            .map(|(k, v)| (*k, v.clone()))
            .collect())
    }

    fn scrub_citizen(&self, key: &CitizenKey, keep_outbox: bool) -> Result<Scrubbed, StoreError> {
        let mut n = Scrubbed::default();
        if self.lock().remove(key).is_some() {
            n.citizen = 1;
        }
        let mut q = self.queues();
        q.conversations.remove(key);
        q.aliases.retain(|_, to| to != key);
        q.erasing.remove(key);
        for e in q.inbound.values_mut().filter(|e| &e.key == key) {
            *e = done_entry(e.clone());
            n.journal += 1;
        }
        if !keep_outbox {
            let before = q.outbox.len();
            q.outbox.retain(|_, e| &e.key != key);
            n.outbox = before - q.outbox.len();
        }
        let ids: Vec<u64> = q
            .broadcasts
            .iter()
            .filter(|(_, b)| b.comune == key.comune)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if q.deliveries
                .remove(&(id, key.channel.clone(), key.citizen.clone()))
                .is_some()
            {
                n.outbox += 1;
            }
        }
        let before = q.sent.len();
        q.sent.retain(|_, e| &e.key != key);
        n.sent = before - q.sent.len();
        for c in q.cases.values_mut().filter(|c| &c.key == key) {
            *c = anonymized(c.clone());
            n.cases += 1;
        }
        for e in q.ledger.values_mut() {
            if e.comune == key.comune && e.channel == key.channel && e.citizen.as_deref() == Some(&key.citizen) {
                e.citizen = None;
                n.ledger += 1;
            }
        }
        Ok(n)
    }

    fn mentions(&self, needle: &str) -> Result<Vec<String>, StoreError> {
        // The same check as sled's, over the values' stored (JSON) form.
        fn any<T: serde::Serialize>(values: impl IntoIterator<Item = T>, needle: &str) -> bool {
            values
                .into_iter()
                .any(|v| serde_json::to_string(&v).unwrap_or_default().contains(needle))
        }
        let mut found = Vec::new();
        if any(self.lock().iter().map(|(k, v)| (k.citizen.clone(), v.clone())), needle) {
            found.push("citizens".to_string());
        }
        let q = self.queues();
        let trees = [
            ("inbound", any(q.inbound.values(), needle)),
            ("outbox", any(q.outbox.values(), needle)),
            ("sent", any(q.sent.values(), needle)),
            ("cases", any(q.cases.values(), needle)),
            ("ledger", any(q.ledger.values(), needle)),
            ("audit", any(q.audit.values(), needle)),
            ("broadcasts", any(q.broadcasts.values(), needle)),
            ("deliveries", any(q.deliveries.keys(), needle)),
        ];
        found.extend(
            trees
                .into_iter()
                .filter(|(_, hit)| *hit)
                .map(|(name, _)| name.to_string()),
        );
        Ok(found)
    }

    fn bump(&self, comune: &str, month: &str, metric: &str, by: u64) -> Result<(), StoreError> {
        *self
            .queues()
            .stats
            .entry((comune.into(), month.into(), metric.into()))
            .or_default() += by;
        Ok(())
    }

    fn counters(&self, comune: &str) -> Result<Vec<(String, String, u64)>, StoreError> {
        Ok(self
            .queues()
            .stats
            .iter()
            .filter(|((c, _, _), _)| c == comune)
            .map(|((_, m, k), v)| (m.clone(), k.clone(), *v))
            .collect())
    }

    fn citizens_page(
        &self,
        comune: &str,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        use std::ops::Bound;
        let start = match after {
            Some(k) => Bound::Excluded(k.clone()),
            None => Bound::Included(CitizenKey::new(comune, "", "")),
        };
        Ok(self
            .lock()
            .range((start, Bound::Unbounded))
            .take_while(|(k, _)| k.comune == comune)
            .take(limit)
            .map(|(k, c)| (k.clone(), c.clone()))
            .collect())
    }
}
