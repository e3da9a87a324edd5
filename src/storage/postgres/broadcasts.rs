//! `BroadcastStore` on PostgreSQL: broadcasts and their outbox entries.

use super::*;
use crate::storage::BroadcastStore;

impl BroadcastStore for PgStore {
    fn add_broadcast(&self, broadcast: &Broadcast) -> Result<u64, StoreError> {
        let v = encode(broadcast);
        self.run(move |c| {
            let id = next_id(c)?;
            BROADCASTS.put(c, &id.to_be_bytes(), &v)?;
            Ok(id)
        })
    }

    fn put_broadcast(&self, id: u64, broadcast: &Broadcast) -> Result<(), StoreError> {
        BROADCASTS.write(self, id.to_be_bytes().to_vec(), encode(broadcast))
    }

    fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError> {
        BROADCASTS.read(self, id.to_be_bytes().to_vec())
    }

    fn broadcasts(&self, comune: Option<&str>) -> Result<Vec<(u64, Broadcast)>, StoreError> {
        let rows = self.run(|c| BROADCASTS.all(c))?;
        let mut out = Vec::new();
        for (k, v) in rows {
            let id = u64::from_be_bytes(k.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                tree: BROADCASTS_TREE,
                reason: "key".into(),
            })?);
            let b: Broadcast = decode_as(BROADCASTS_TREE, &v)?;
            if comune.is_none_or(|c| b.comune == c) {
                out.push((id, b));
            }
        }
        Ok(out)
    }

    fn put_deliveries(&self, id: u64, entries: &[(CitizenKey, Delivery)]) -> Result<(), StoreError> {
        let rows: Vec<(Vec<u8>, Vec<u8>)> = entries
            .iter()
            .map(|(key, d)| {
                key.encode()?;
                Ok((delivery_key(id, Some(&key.channel), &key.citizen), encode(d)))
            })
            .collect::<Result<_, StoreError>>()?;
        // One transaction: a batch is written whole or not at all, as sled's.
        self.run(move |c| {
            c.transaction(|c| {
                for (k, v) in &rows {
                    DELIVERIES.put(c, k, v)?;
                }
                Ok(())
            })
        })
    }

    fn delivery(&self, id: u64, key: &CitizenKey) -> Result<Option<Delivery>, StoreError> {
        DELIVERIES.read(self, delivery_key(id, Some(&key.channel), &key.citizen))
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
        // The end of the prefix: with a channel the prefix ends in 0x00 (raise it); without,
        // it is the 8-byte id (the next id's first key).
        let end = match channel {
            Some(_) => prefix_end(&prefix),
            None => delivery_key(id.saturating_add(1), None, ""),
        };
        let (start, strict) = match after {
            Some(k) => (delivery_key(id, Some(&k.channel), &k.citizen), true),
            None => (prefix, false),
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.run(move |c| {
            let sql = if strict {
                "SELECT k, v FROM broadcastrecipient_delivery WHERE k > $1 AND k < $2 ORDER BY k LIMIT $3"
            } else {
                "SELECT k, v FROM broadcastrecipient_delivery WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3"
            };
            c.query(sql, &[&start, &end, &limit])
        })?;
        rows.into_iter()
            .map(|r| {
                let k: Vec<u8> = r.get(0);
                let (_, channel, citizen) = decode_delivery_key(&k).ok_or(StoreError::Corrupt {
                    tree: DELIVERIES_TREE,
                    reason: "key".into(),
                })?;
                Ok((
                    CitizenKey::new(comune, &channel, &citizen),
                    decode_as(DELIVERIES_TREE, &r.get::<_, Vec<u8>>(1))?,
                ))
            })
            .collect()
    }
}
