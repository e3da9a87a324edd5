//! Opening a sled data directory sealed, and the one-time migration of a directory written
//! before sealing (issue 24).
//!
//! The migration, once, at the first start of a build that seals:
//! 1. a backup of the whole store beside the directory (`<data>.pre-sealing.backup`, 0600,
//!    verified), the way back if anything goes wrong;
//! 2. every record read, its keys hidden and its personal strings sealed, written into a
//!    new directory (`<data>.sealing`) with its keyring;
//! 3. the old directory moved aside, the new one moved in, the old one deleted: its sled
//!    file, which still holds every old value in clear in its log, goes whole (an in-place
//!    rewrite would leave the clear values in sled's old segments).
//!
//! A start interrupted at any point finishes or restarts the migration: the new directory
//! is moved in only once complete and flushed.

use std::path::{Path, PathBuf};

use super::{keyring_error, master_key, Sealed};
use crate::storage::backup::{replace_all, Records};
use crate::storage::keyring::{self, Keyring};
use crate::storage::keys::{
    decode_delivery_key, delivery_key, index_built_key, ALIASES_TREE, BROADCASTS_TREE, CASES_TREE, CITIZENS_TREE,
    CONVERSATIONS_TREE, DELIVERIES_TREE, ENTRY_INDEX_TREE, ERASING_TREE, INBOUND_TREE, LEDGER_INDEX_TREE, LEDGER_TREE,
    META_TREE, OUTBOX_TREE, SENT_TREE,
};
use crate::storage::records::{Broadcast, Citizen};
use crate::storage::{
    decode_as, encode, CitizenKey, Conversation, InboundEntry, LedgerEntry, ModerationCase, OutboundEntry, SentEntry,
    SledStore, StoreError,
};

use super::fields;

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    dir.with_file_name(name)
}

/// Where the migration leaves its backup of the store as it was.
pub fn pre_sealing_backup(dir: &Path) -> PathBuf {
    sibling(dir, ".pre-sealing.backup")
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { what, source }
}

/// Opens the sled store in `dir` sealed, with the keyring in `dir` and the master key from
/// the environment (or `dir/master.key`); migrates a store written before sealing first.
/// Returns the store and, after a migration, where the backup of the old store is.
pub fn open_sled(dir: &Path) -> Result<(Sealed<SledStore>, Option<PathBuf>), StoreError> {
    open_sled_sized(dir, crate::storage::sled_store::CACHE_CAPACITY)
}

/// As [`open_sled`], with sled's page cache of `cache` bytes (as sled counts them).
pub fn open_sled_sized(dir: &Path, cache: u64) -> Result<(Sealed<SledStore>, Option<PathBuf>), StoreError> {
    finish_interrupted(dir)?;
    let store = SledStore::open_sized(dir, cache)?;
    if store.is_sealed()? || store.holds_no_citizen()? {
        store.mark_sealed()?;
        let ring = super::keyring_in(dir)?;
        return Ok((Sealed::new(store, ring)?, None));
    }
    let backup = migrate(store, dir)?;
    let store = SledStore::open_sized(dir, cache)?;
    let ring = super::keyring_in(dir)?;
    Ok((Sealed::new(store, ring)?, Some(backup)))
}

/// A migration stopped half way: a complete new directory is moved in, an incomplete one
/// deleted, the old one deleted once the new one is in place.
fn finish_interrupted(dir: &Path) -> Result<(), StoreError> {
    let (new, old) = (sibling(dir, ".sealing"), sibling(dir, ".unsealed"));
    if new.exists() {
        if dir.exists() {
            std::fs::remove_dir_all(&new).map_err(io(format!("cannot remove {}", new.display())))?;
        } else {
            std::fs::rename(&new, dir).map_err(io(format!("cannot move {} in", new.display())))?;
        }
    }
    if old.exists() && dir.exists() {
        std::fs::remove_dir_all(&old).map_err(io(format!("cannot remove {}", old.display())))?;
    }
    Ok(())
}

fn migrate(old: SledStore, dir: &Path) -> Result<PathBuf, StoreError> {
    let backup = pre_sealing_backup(dir);
    crate::storage::backup::write_checked(&backup, |file| {
        let mut out = std::io::BufWriter::new(file);
        old.export_to(&mut out)?;
        std::io::Write::flush(&mut out)?;
        Ok(())
    })
    .map_err(|e| StoreError::Config(format!("the backup before sealing: {e}")))?;
    let records = old.records()?;
    let next_id = old.db.generate_id().map_err(|e| StoreError::Sled(e.to_string()))?;
    drop(old);

    let new_dir = sibling(dir, ".sealing");
    if new_dir.exists() {
        std::fs::remove_dir_all(&new_dir).map_err(io(format!("cannot remove {}", new_dir.display())))?;
    }
    let (master, _) = master_key(dir)?;
    let generated = dir.join(super::MASTER_KEY_FILE);
    {
        let store = SledStore::open(&new_dir)?;
        let ring = Keyring::open(&keyring::path_in(&new_dir), master).map_err(keyring_error)?;
        let sealed = Sealed::new(store, ring)?;
        let records = seal_records(&sealed, records)?;
        replace_all(sealed.inner(), &records, next_id).map_err(|e| StoreError::Config(e.to_string()))?;
        sealed.inner().mark_sealed()?;
        crate::storage::Store::flush(sealed.inner())?;
    }
    if generated.exists() {
        std::fs::copy(&generated, new_dir.join(super::MASTER_KEY_FILE))
            .map_err(io(format!("cannot copy {}", generated.display())))?;
    }
    let aside = sibling(dir, ".unsealed");
    std::fs::rename(dir, &aside).map_err(io(format!("cannot move {} aside", dir.display())))?;
    std::fs::rename(&new_dir, dir).map_err(io(format!("cannot move {} in", new_dir.display())))?;
    if let Some(parent) = dir.parent() {
        if let Ok(d) = std::fs::File::open(if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        }) {
            let _ = d.sync_all();
        }
    }
    std::fs::remove_dir_all(&aside).map_err(io(format!("cannot remove {}", aside.display())))?;
    Ok(backup)
}

fn corrupt(tree: &'static str) -> StoreError {
    StoreError::Corrupt {
        tree,
        reason: "key".into(),
    }
}

/// Every record of a store written before sealing, as the sealed store keeps it. The
/// derived indexes are left out (rebuilt at the next open) and so is their mark in `meta`.
pub fn seal_records<S: crate::storage::Store>(sealed: &Sealed<S>, mut records: Records) -> Result<Records, StoreError> {
    let comune_of = broadcast_comuni(&records);
    records.remove(LEDGER_INDEX_TREE);
    records.remove(ENTRY_INDEX_TREE);
    let mut out = Records::new();
    for (tree, entries) in records {
        let mut sealed_tree = std::collections::BTreeMap::new();
        for (k, v) in entries {
            let (k, v) = match tree.as_str() {
                CITIZENS_TREE => {
                    let key = CitizenKey::decode(&k).ok_or(corrupt(CITIZENS_TREE))?;
                    let c: Citizen = decode_as(CITIZENS_TREE, &v)?;
                    let c = sealed.sealed(&key, &c, fields::citizen)?;
                    (sealed.hide(&key).encode()?, encode(&c))
                }
                INBOUND_TREE => {
                    let e: InboundEntry = decode_as(INBOUND_TREE, &v)?;
                    (sealed.hash_key(&k), encode(&sealed.inbound_down(&e)?))
                }
                OUTBOX_TREE => {
                    let e: OutboundEntry = decode_as(OUTBOX_TREE, &v)?;
                    (k, encode(&sealed.outbound_down(&e)?))
                }
                SENT_TREE => {
                    let mut e: SentEntry = decode_as(SENT_TREE, &v)?;
                    e.key = sealed.hide(&e.key);
                    (sealed.hash_key(&k), encode(&e))
                }
                CASES_TREE => {
                    let c: ModerationCase = decode_as(CASES_TREE, &v)?;
                    (k, encode(&sealed.case_down(&c)?))
                }
                LEDGER_TREE => {
                    let e: LedgerEntry = decode_as(LEDGER_TREE, &v)?;
                    (k, encode(&sealed.ledger_down(&e)?))
                }
                CONVERSATIONS_TREE => {
                    let key = CitizenKey::decode(&k).ok_or(corrupt(CONVERSATIONS_TREE))?;
                    let c: Conversation = decode_as(CONVERSATIONS_TREE, &v)?;
                    let mut c = sealed.sealed(&key, &c, fields::conversation)?;
                    c.key = sealed.hide(&key);
                    (c.key.encode()?, encode(&c))
                }
                ERASING_TREE => {
                    let key = CitizenKey::decode(&k).ok_or(corrupt(ERASING_TREE))?;
                    (sealed.hide(&key).encode()?, v)
                }
                ALIASES_TREE => {
                    let other = CitizenKey::decode(&k).ok_or(corrupt(ALIASES_TREE))?;
                    let key = CitizenKey::decode(&v).ok_or(corrupt(ALIASES_TREE))?;
                    (sealed.hide(&other).encode()?, sealed.hide(&key).encode()?)
                }
                DELIVERIES_TREE => {
                    let (id, channel, citizen) = decode_delivery_key(&k).ok_or(corrupt(DELIVERIES_TREE))?;
                    let comune = comune_of.get(&id).ok_or(corrupt(DELIVERIES_TREE))?;
                    let hidden = sealed.hide(&CitizenKey::new(comune, &channel, &citizen));
                    (delivery_key(id, Some(&channel), &hidden.citizen), v)
                }
                META_TREE if k == index_built_key(LEDGER_INDEX_TREE) || k == index_built_key(ENTRY_INDEX_TREE) => {
                    continue
                }
                _ => (k, v),
            };
            sealed_tree.insert(k, v);
        }
        out.insert(tree, sealed_tree);
    }
    Ok(out)
}

fn broadcast_comuni(records: &Records) -> std::collections::BTreeMap<u64, String> {
    records
        .get(BROADCASTS_TREE)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            let id = u64::from_be_bytes(k.as_slice().try_into().ok()?);
            let b: Broadcast = decode_as(BROADCASTS_TREE, v).ok()?;
            Some((id, b.comune))
        })
        .collect()
}

#[cfg(test)]
mod tests;
