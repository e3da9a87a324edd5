//! The per-citizen index of the journal, outbox, sent and cases trees (`citizenkey_entrykey`,
//! see `keys.rs`), so that erasing one citizen reads that citizen's entries only, not
//! every tree whole (an erasure took time in proportion to the store's whole history).
//!
//! The index is derived data: every write that adds, removes or replaces an entry of those
//! trees goes through here, so that a crash never leaves an entry that names a citizen
//! without its index entry (an erasure would miss it). Most change the index in the same
//! sled transaction. The three on every message's path, journalling it, recording a reply
//! as sent and removing it from the outbox, do not: sled runs transactions one at a time
//! under a global lock, and with them the server's throughput fell by a third
//! (`cargo bench --bench load -- processes`, BENCHMARKS.md). They write the index entry
//! before the entry and remove it after, so that order gives the same guarantee, and leave
//! at worst an index entry whose entry is missing (a crash between the two writes). Such
//! an entry is harmless: the erasure skips it (and keeps it, since a write may be between
//! its two steps). `mark_outbound` writes directly: it flips a flag and never changes whom
//! an entry names. Stores written before the index get it built at open.
//!
//! This module must not decide *what* an erasure removes (that is `CitizenStore::scrub_citizen`'s
//! contract, in `store.rs`): it finds the entries and applies the change it is given.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::transaction::{ConflictableTransactionError, TransactionalTree, UnabortableTransactionError};
use sled::Transactional;

use super::{engine, tx_error, SledStore};
use crate::storage::keys::{
    entry_index_key, entry_index_prefix, CitizenKey, Indexed, CASES_TREE, INBOUND_TREE, OUTBOX_TREE, SENT_TREE,
};
use crate::storage::{decode_as, encode, InboundEntry, ModerationCase, OutboundEntry, SentEntry, StoreError};

/// A value of an indexed tree: which tree it lives in, and whom it names.
pub(super) trait Indexable: Serialize + DeserializeOwned {
    const TREE: Indexed;
    const NAME: &'static str;
    fn citizen(&self) -> &CitizenKey;

    /// The index key of this value stored under `entry`; `None` when it names nobody (a
    /// processed journal entry, an anonymized case: their citizen id is empty).
    fn index_key(&self, entry: &[u8]) -> Option<Vec<u8>> {
        let citizen = self.citizen().encode().ok()?;
        Some(entry_index_key(&citizen, Self::TREE, entry))
    }
}

impl Indexable for InboundEntry {
    const TREE: Indexed = Indexed::Inbound;
    const NAME: &'static str = INBOUND_TREE;
    fn citizen(&self) -> &CitizenKey {
        &self.key
    }
}

impl Indexable for OutboundEntry {
    const TREE: Indexed = Indexed::Outbox;
    const NAME: &'static str = OUTBOX_TREE;
    fn citizen(&self) -> &CitizenKey {
        &self.key
    }
}

impl Indexable for SentEntry {
    const TREE: Indexed = Indexed::Sent;
    const NAME: &'static str = SENT_TREE;
    fn citizen(&self) -> &CitizenKey {
        &self.key
    }
}

impl Indexable for ModerationCase {
    const TREE: Indexed = Indexed::Case;
    const NAME: &'static str = CASES_TREE;
    fn citizen(&self) -> &CitizenKey {
        &self.key
    }
}

/// The index key of the stored bytes `old` under `entry`, if they name a citizen. Bytes
/// that do not decode give `None`: at worst an index entry is left behind, which is harmless.
fn old_index_key<T: Indexable>(old: Option<&[u8]>, entry: &[u8]) -> Option<Vec<u8>> {
    decode_as::<T>(T::NAME, old?).ok()?.index_key(entry)
}

/// Inside a transaction: moves an entry's index entry from `old` to `new` (index keys, as
/// [`Indexable::index_key`] gives them).
pub(super) fn reindex(
    index: &TransactionalTree,
    old: Option<Vec<u8>>,
    new: Option<Vec<u8>>,
) -> Result<(), UnabortableTransactionError> {
    if let Some(old) = old.filter(|o| new.as_ref() != Some(o)) {
        index.remove(old)?;
    }
    if let Some(new) = new {
        index.insert(new, &[])?;
    }
    Ok(())
}

/// Inside a transaction: writes `value` under `entry` in its tree and indexes it (and
/// unindexes the value it replaces, if that named someone else).
pub(super) fn put_in<T: Indexable>(
    tree: &TransactionalTree,
    index: &TransactionalTree,
    entry: &[u8],
    value: &T,
) -> Result<(), UnabortableTransactionError> {
    let old = tree.insert(entry, encode(value))?;
    reindex(index, old_index_key::<T>(old.as_deref(), entry), value.index_key(entry))
}

impl SledStore {
    /// The tree an index tag points into.
    fn indexed_tree(&self, tree: Indexed) -> &sled::Tree {
        match tree {
            Indexed::Inbound => &self.inbound,
            Indexed::Outbox => &self.outbox,
            Indexed::Sent => &self.sent,
            Indexed::Case => &self.cases,
        }
    }

    /// Writes `value` under `entry` in its tree, indexed, in one transaction.
    pub(super) fn put_indexed<T: Indexable>(&self, entry: &[u8], value: &T) -> Result<(), StoreError> {
        (self.indexed_tree(T::TREE), &self.entry_index)
            .transaction(|(t, x)| Ok(put_in(t, x, entry, value)?))
            .map_err(tx_error)
    }

    /// Removes `entry` from `T`'s tree and its index entry, in one transaction; returns
    /// whether there was one.
    pub(super) fn remove_indexed<T: Indexable>(&self, entry: &[u8]) -> Result<bool, StoreError> {
        (self.indexed_tree(T::TREE), &self.entry_index)
            .transaction(|(t, x)| {
                let old = t.remove(entry)?;
                reindex(x, old_index_key::<T>(old.as_deref(), entry), None)?;
                Ok(old.is_some())
            })
            .map_err(tx_error)
    }

    /// Journals an inbound message and indexes it, unless its key was already seen.
    /// On the hot path, so no transaction (see the module doc): the index entry first,
    /// then the entry by compare-and-swap. A redelivery names the same citizen under the
    /// same key, so its index entry is the one already there.
    pub(super) fn record_inbound_indexed(&self, dedupe: &[u8], value: &InboundEntry) -> Result<bool, StoreError> {
        if let Some(index_key) = value.index_key(dedupe) {
            self.entry_index.insert(index_key, &[]).map_err(engine)?;
        }
        let swapped = self
            .inbound
            .compare_and_swap(dedupe, None as Option<&[u8]>, Some(encode(value)))
            .map_err(engine)?;
        Ok(swapped.is_ok())
    }

    /// Writes a sent entry (a reply accepted, or a delivery status), indexed. On the hot
    /// path: the index entry first, then the entry (a sent entry's key names its citizen for
    /// good, so a replaced one had the same index entry).
    pub(super) fn put_sent_indexed(&self, entry: &[u8], value: &SentEntry) -> Result<(), StoreError> {
        if let Some(index_key) = value.index_key(entry) {
            self.entry_index.insert(index_key, &[]).map_err(engine)?;
        }
        self.sent.insert(entry, encode(value)).map_err(engine)?;
        Ok(())
    }

    /// Removes a reply from the outbox, then its index entry (the hot path's order).
    pub(super) fn outbound_done_indexed(&self, entry: &[u8]) -> Result<(), StoreError> {
        let old = self.outbox.remove(entry).map_err(engine)?;
        if let Some(index_key) = old_index_key::<OutboundEntry>(old.as_deref(), entry) {
            self.entry_index.remove(index_key).map_err(engine)?;
        }
        Ok(())
    }

    /// Applies `change` to every entry of `T`'s tree that names `key` (`None`: remove it),
    /// found through the index; returns how many it changed. Each entry and its index
    /// entry change in one transaction, so a write racing with the erasure cannot leave
    /// an entry unindexed. Index entries whose entry names someone else or nobody are
    /// deleted; one whose entry is missing is kept, since a hot-path write may be between
    /// its index entry and its entry (see the module doc).
    pub(super) fn scrub_indexed<T: Indexable>(
        &self,
        key: &CitizenKey,
        change: impl Fn(T) -> Option<T>,
    ) -> Result<usize, StoreError> {
        let prefix = entry_index_prefix(&key.encode()?, T::TREE);
        let tree = self.indexed_tree(T::TREE);
        let mut changed = 0;
        for item in self.entry_index.scan_prefix(&prefix) {
            let (index_key, _) = item.map_err(engine)?;
            let entry = &index_key[prefix.len()..];
            let hit = (tree, &self.entry_index)
                .transaction(|(t, x)| {
                    let stored = match t.get(entry)? {
                        Some(v) => Some(decode_as::<T>(T::NAME, &v).map_err(ConflictableTransactionError::Abort)?),
                        None => None,
                    };
                    match stored.filter(|v| v.citizen() == key) {
                        Some(value) => {
                            let new = change(value);
                            let new_index = match &new {
                                Some(v) => {
                                    t.insert(entry, encode(v))?;
                                    v.index_key(entry)
                                }
                                None => {
                                    t.remove(entry)?;
                                    None
                                }
                            };
                            reindex(x, Some(index_key.to_vec()), new_index)?;
                            Ok(true)
                        }
                        None => {
                            if t.get(entry)?.is_some() {
                                x.remove(&index_key)?;
                            }
                            Ok(false)
                        }
                    }
                })
                .map_err(tx_error)?;
            changed += usize::from(hit);
        }
        Ok(changed)
    }

    /// Indexes every entry of the four trees that names a citizen (a store written before
    /// the index, or whose index build was interrupted). Safe to repeat. Returns how many
    /// index entries it wrote.
    pub(super) fn build_entry_index(&self) -> Result<usize, StoreError> {
        Ok(self.index_tree::<InboundEntry>()?
            + self.index_tree::<OutboundEntry>()?
            + self.index_tree::<SentEntry>()?
            + self.index_tree::<ModerationCase>()?)
    }

    fn index_tree<T: Indexable>(&self) -> Result<usize, StoreError> {
        let mut written = 0;
        for item in self.indexed_tree(T::TREE).iter() {
            let (k, v) = item.map_err(engine)?;
            if let Some(index_key) = decode_as::<T>(T::NAME, &v)?.index_key(&k) {
                self.entry_index.insert(index_key, &[]).map_err(engine)?;
                written += 1;
            }
        }
        Ok(written)
    }
}
