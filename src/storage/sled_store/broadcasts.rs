//! `BroadcastStore` on sled: broadcasts and their outbox entries.

use super::{engine, SledStore};
use crate::storage::keys::{decode_delivery_key, delivery_key, CitizenKey, BROADCASTS_TREE, DELIVERIES_TREE};
use crate::storage::records::{Broadcast, Delivery};
use crate::storage::BroadcastStore;
use crate::storage::{decode_as, encode, StoreError};

impl BroadcastStore for SledStore {
    fn add_broadcast(&self, broadcast: &Broadcast) -> Result<u64, StoreError> {
        let _writing = self.writing();
        self.append(&self.broadcasts, broadcast)
    }

    fn put_broadcast(&self, id: u64, broadcast: &Broadcast) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.broadcasts
            .insert(id.to_be_bytes(), encode(broadcast))
            .map_err(engine)?;
        Ok(())
    }

    fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError> {
        match self.broadcasts.get(id.to_be_bytes()).map_err(engine)? {
            Some(v) => decode_as(BROADCASTS_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn broadcasts(&self, comune: Option<&str>) -> Result<Vec<(u64, Broadcast)>, StoreError> {
        self.scan(&self.broadcasts, BROADCASTS_TREE, |b: &Broadcast| {
            comune.is_none_or(|c| b.comune == c)
        })
    }

    fn put_deliveries(&self, id: u64, entries: &[(CitizenKey, Delivery)]) -> Result<(), StoreError> {
        let _writing = self.writing();
        let mut batch = sled::Batch::default();
        for (key, d) in entries {
            key.encode()?;
            batch.insert(delivery_key(id, Some(&key.channel), &key.citizen), encode(d));
        }
        self.deliveries.apply_batch(batch).map_err(engine)
    }

    fn delivery(&self, id: u64, key: &CitizenKey) -> Result<Option<Delivery>, StoreError> {
        match self
            .deliveries
            .get(delivery_key(id, Some(&key.channel), &key.citizen))
            .map_err(engine)?
        {
            Some(v) => decode_as(DELIVERIES_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn deliveries(
        &self,
        id: u64,
        comune: &str,
        channel: Option<&str>,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Delivery)>, StoreError> {
        let prefix = delivery_key(id, channel, "");
        let start = match after {
            Some(k) => std::ops::Bound::Excluded(delivery_key(id, Some(&k.channel), &k.citizen)),
            None => std::ops::Bound::Included(prefix.clone()),
        };
        let mut out = Vec::new();
        for item in self.deliveries.range((start, std::ops::Bound::Unbounded)) {
            let (k, v) = item.map_err(engine)?;
            if !k.starts_with(&prefix) || out.len() >= limit {
                break;
            }
            let (_, channel, citizen) = decode_delivery_key(&k).ok_or(StoreError::Corrupt {
                tree: DELIVERIES_TREE,
                reason: "key".into(),
            })?;
            out.push((
                CitizenKey::new(comune, &channel, &citizen),
                decode_as(DELIVERIES_TREE, &v)?,
            ));
        }
        Ok(out)
    }
}
