//! `CitizenStore` on sled: citizens and what is kept about them (records, ledger, counters, erasure).

use sled::Transactional;

use super::{engine, tx_error, u64_key, SledStore};
use crate::storage::keys::{
    comune_prefix, delivery_key, ledger_index_key, stat_key, CitizenKey, CITIZENS_TREE, ERASING_TREE,
    LEDGER_INDEX_TREE, LEDGER_TREE,
};
use crate::storage::records::Citizen;
use crate::storage::{
    anonymized, decode, decode_as, done_entry, encode, InboundEntry, LedgerEntry, ModerationCase, OutboundEntry,
    Scrubbed, SentEntry, StoreError,
};
use crate::storage::{BroadcastStore, CitizenStore};

impl CitizenStore for SledStore {
    fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError> {
        match self.citizens.get(key.encode()?).map_err(engine)? {
            Some(v) => decode(CITIZENS_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn put_alias(&self, other: &CitizenKey, key: &CitizenKey) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.aliases.insert(other.encode()?, key.encode()?).map_err(engine)?;
        Ok(())
    }

    fn alias(&self, other: &CitizenKey) -> Result<Option<CitizenKey>, StoreError> {
        Ok(self
            .aliases
            .get(other.encode()?)
            .map_err(engine)?
            .and_then(|v| CitizenKey::decode(&v)))
    }

    fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.citizens.insert(key.encode()?, encode(citizen)).map_err(engine)?;
        Ok(())
    }

    fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.citizens.remove(key.encode()?).map_err(engine)?;
        Ok(())
    }

    fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        let mut out = Vec::new();
        for item in self.citizens.scan_prefix(comune_prefix(comune)) {
            let (k, v) = item.map_err(engine)?;
            let key = CitizenKey::decode(&k).ok_or(StoreError::Corrupt {
                tree: CITIZENS_TREE,
                reason: "key".into(),
            })?;
            out.push((key, decode(CITIZENS_TREE, &v)?));
        }
        Ok(out)
    }

    fn erasure_marked(&self, key: &CitizenKey) -> Result<bool, StoreError> {
        self.erasing.contains_key(key.encode()?).map_err(engine)
    }

    fn unfinished_erasures(&self) -> Result<Vec<CitizenKey>, StoreError> {
        self.erasing
            .iter()
            .keys()
            .map(|k| {
                CitizenKey::decode(&k.map_err(engine)?).ok_or(StoreError::Corrupt {
                    tree: ERASING_TREE,
                    reason: "key".into(),
                })
            })
            .collect()
    }

    fn append_ledger(&self, entry: &LedgerEntry) -> Result<u64, StoreError> {
        let _writing = self.writing();
        let id = self.db.generate_id().map_err(engine)?;
        let index = entry.citizen_key().map(|k| ledger_index_key(&k, id));
        (&self.ledger, &self.ledger_index)
            .transaction(|(l, x)| {
                l.insert(&id.to_be_bytes(), encode(entry))?;
                if let Some(k) = &index {
                    x.insert(k.as_slice(), &[])?;
                }
                Ok(())
            })
            .map_err(tx_error)?;
        Ok(id)
    }

    fn ledger(&self, comune: &str) -> Result<Vec<(u64, LedgerEntry)>, StoreError> {
        self.scan(&self.ledger, LEDGER_TREE, |e: &LedgerEntry| e.comune == comune)
    }

    fn scrub_citizen(&self, key: &CitizenKey, keep_outbox: bool) -> Result<Scrubbed, StoreError> {
        let _writing = self.writing();
        let mut n = Scrubbed::default();
        if self.citizens.remove(key.encode()?).map_err(engine)?.is_some() {
            n.citizen = 1;
        }
        self.conversations.remove(key.encode()?).map_err(engine)?;
        // The aliases naming the record: few, under the comune's prefix.
        let target = key.encode()?;
        for item in self.aliases.scan_prefix(comune_prefix(&key.comune)) {
            let (k, v) = item.map_err(engine)?;
            if *v == *target {
                self.aliases.remove(k).map_err(engine)?;
            }
        }
        // The journal, outbox, sent and cases through their index: only this citizen's
        // entries are read.
        n.journal = self.scrub_indexed(key, |e: InboundEntry| Some(done_entry(e)))?;
        if !keep_outbox {
            n.outbox = self.scrub_indexed(key, |_: OutboundEntry| None)?;
        }
        n.sent = self.scrub_indexed(key, |_: SentEntry| None)?;
        for (id, _) in self.broadcasts(Some(&key.comune))? {
            if self
                .deliveries
                .remove(delivery_key(id, Some(&key.channel), &key.citizen))
                .map_err(engine)?
                .is_some()
            {
                n.outbox += 1;
            }
        }
        n.cases = self.scrub_indexed(key, |c: ModerationCase| Some(anonymized(c)))?;
        // The ledger through its index: only this citizen's entries are read.
        let mut prefix = key.encode()?;
        prefix.push(0);
        for item in self.ledger_index.scan_prefix(&prefix) {
            let (k, _) = item.map_err(engine)?;
            let id = u64_key(LEDGER_INDEX_TREE, &k[prefix.len()..])?;
            if let Some(v) = self.ledger.get(id.to_be_bytes()).map_err(engine)? {
                let mut entry: LedgerEntry = decode_as(LEDGER_TREE, &v)?;
                if entry.citizen.is_some() {
                    entry.citizen = None;
                    self.ledger.insert(id.to_be_bytes(), encode(&entry)).map_err(engine)?;
                    n.ledger += 1;
                }
            }
            self.ledger_index.remove(k).map_err(engine)?;
        }
        // Last: a crash before this point leaves the mark, and the scrub runs again.
        self.erasing.remove(key.encode()?).map_err(engine)?;
        Ok(n)
    }

    fn mentions(&self, needle: &str) -> Result<Vec<String>, StoreError> {
        let needle = needle.as_bytes();
        let has = |hay: &[u8]| !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle);
        let mut found = Vec::new();
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name).map_err(engine)?;
            for item in tree.iter() {
                let (k, v) = item.map_err(engine)?;
                if has(&k) || has(&v) {
                    found.push(String::from_utf8_lossy(&name).into_owned());
                    break;
                }
            }
        }
        Ok(found)
    }

    fn bump(&self, comune: &str, month: &str, metric: &str, by: u64) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.stats
            .update_and_fetch(stat_key(comune, month, metric), |old| {
                let n = old
                    .and_then(|o| <[u8; 8]>::try_from(o).ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                Some((n + by).to_be_bytes().to_vec())
            })
            .map_err(engine)?;
        Ok(())
    }

    fn counters(&self, comune: &str) -> Result<Vec<(String, String, u64)>, StoreError> {
        let mut out = Vec::new();
        for item in self.stats.scan_prefix(comune_prefix(comune)) {
            let (k, v) = item.map_err(engine)?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let mut parts = key.splitn(3, '\0').skip(1);
            let (Some(month), Some(metric)) = (parts.next(), parts.next()) else {
                continue;
            };
            let n = <[u8; 8]>::try_from(v.as_ref()).map(u64::from_be_bytes).unwrap_or(0);
            out.push((month.to_string(), metric.to_string(), n));
        }
        Ok(out)
    }

    fn citizens_page(
        &self,
        comune: &str,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        let prefix = comune_prefix(comune);
        let start = match after {
            Some(k) => std::ops::Bound::Excluded(k.encode()?),
            None => std::ops::Bound::Included(prefix.clone()),
        };
        let mut out = Vec::new();
        for item in self.citizens.range((start, std::ops::Bound::Unbounded)) {
            let (k, v) = item.map_err(engine)?;
            if !k.starts_with(&prefix) || out.len() >= limit {
                break;
            }
            let key = CitizenKey::decode(&k).ok_or(StoreError::Corrupt {
                tree: CITIZENS_TREE,
                reason: "key".into(),
            })?;
            out.push((key, decode(CITIZENS_TREE, &v)?));
        }
        Ok(out)
    }
}
