//! What the sealed layer (`storage::sealed`) needs of sled besides the store's traits:
//! a mark in `meta` saying the store is sealed, whether a store holds any citizen's data,
//! and every citizen key a store names (to re-apply erasures after a restore).

use std::collections::BTreeSet;

use super::{engine, SledStore};
use crate::storage::keys::META_TREE;
use crate::storage::{CitizenKey, StoreError};

/// The `meta` key marking a store whose personal data is sealed (issue 24).
pub const SEALED_KEY: &[u8] = b"sealed";

impl SledStore {
    fn meta(&self) -> Result<sled::Tree, StoreError> {
        self.db.open_tree(META_TREE).map_err(engine)
    }

    /// Whether the store is marked sealed.
    pub fn is_sealed(&self) -> Result<bool, StoreError> {
        Ok(self.meta()?.get(SEALED_KEY).map_err(engine)?.is_some())
    }

    /// Marks the store sealed (durable at the next flush).
    pub fn mark_sealed(&self) -> Result<(), StoreError> {
        self.meta()?.insert(SEALED_KEY, &[1u8]).map_err(engine)?;
        Ok(())
    }

    /// Whether no tree holds anything of a citizen (a new store, or one with staff accounts
    /// only): such a store is sealed without a migration.
    pub fn holds_no_citizen(&self) -> Result<bool, StoreError> {
        Ok([
            &self.citizens,
            &self.inbound,
            &self.outbox,
            &self.sent,
            &self.cases,
            &self.ledger,
            &self.conversations,
            &self.erasing,
            &self.aliases,
            &self.deliveries,
        ]
        .iter()
        .all(|t| t.is_empty()))
    }

    /// Every citizen key named by a record, a conversation, an erasure mark, an alias or the
    /// entry and ledger indexes (whose keys begin with one).
    pub fn named_citizens(&self) -> Result<BTreeSet<CitizenKey>, StoreError> {
        let mut out = BTreeSet::new();
        for tree in [&self.citizens, &self.conversations, &self.erasing] {
            for item in tree.iter().keys() {
                out.extend(CitizenKey::decode(&item.map_err(engine)?));
            }
        }
        for item in self.aliases.iter().values() {
            out.extend(CitizenKey::decode(&item.map_err(engine)?));
        }
        for tree in [&self.entry_index, &self.ledger_index] {
            for item in tree.iter().keys() {
                let k = item.map_err(engine)?;
                // comune 0x00 channel 0x00 citizen 0x00 …
                let mut zeros = k.iter().enumerate().filter(|(_, b)| **b == 0).map(|(i, _)| i);
                if let (Some(_), Some(_), Some(end)) = (zeros.next(), zeros.next(), zeros.next()) {
                    out.extend(CitizenKey::decode(&k[..end]));
                }
            }
        }
        Ok(out)
    }
}
