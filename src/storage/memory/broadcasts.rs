//! `BroadcastStore` in memory: broadcasts and their outbox entries.

use super::MemoryStore;
use crate::storage::keys::CitizenKey;
use crate::storage::records::{Broadcast, Delivery};
use crate::storage::BroadcastStore;
use crate::storage::StoreError;

impl BroadcastStore for MemoryStore {
    fn add_broadcast(&self, broadcast: &Broadcast) -> Result<u64, StoreError> {
        let mut q = self.queues();
        q.next_id += 1;
        let id = q.next_id;
        q.broadcasts.insert(id, broadcast.clone());
        Ok(id)
    }

    fn put_broadcast(&self, id: u64, broadcast: &Broadcast) -> Result<(), StoreError> {
        self.queues().broadcasts.insert(id, broadcast.clone());
        Ok(())
    }

    fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError> {
        Ok(self.queues().broadcasts.get(&id).cloned())
    }

    fn broadcasts(&self, comune: Option<&str>) -> Result<Vec<(u64, Broadcast)>, StoreError> {
        Ok(self
            .queues()
            .broadcasts
            .iter()
            .filter(|(_, b)| comune.is_none_or(|c| b.comune == c))
            .map(|(id, b)| (*id, b.clone()))
            .collect())
    }

    fn put_deliveries(&self, id: u64, entries: &[(CitizenKey, Delivery)]) -> Result<(), StoreError> {
        for (key, _) in entries {
            key.encode()?;
        }
        let mut q = self.queues();
        for (key, d) in entries {
            q.deliveries
                .insert((id, key.channel.clone(), key.citizen.clone()), d.clone());
        }
        Ok(())
    }

    fn delivery(&self, id: u64, key: &CitizenKey) -> Result<Option<Delivery>, StoreError> {
        Ok(self
            .queues()
            .deliveries
            .get(&(id, key.channel.clone(), key.citizen.clone()))
            .cloned())
    }

    fn deliveries(
        &self,
        id: u64,
        comune: &str,
        channel: Option<&str>,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Delivery)>, StoreError> {
        use std::ops::Bound;
        let start = match after {
            Some(k) => Bound::Excluded((id, k.channel.clone(), k.citizen.clone())),
            None => Bound::Included((id, channel.unwrap_or_default().to_string(), String::new())),
        };
        Ok(self
            .queues()
            .deliveries
            .range((start, Bound::Unbounded))
            .take_while(|((i, ch, _), _)| *i == id && channel.is_none_or(|c| c == ch))
            .take(limit)
            .map(|((_, ch, cz), d)| (CitizenKey::new(comune, ch, cz), d.clone()))
            .collect())
    }
}
