//! The sled backend (0.34, the stable on-disk format), the embedded default under `./data`.
//!
//! sled buffers writes and makes them durable on `flush` (and every 500 ms on its own), so a
//! crash loses at most what was written since the last flush: callers flush before they
//! acknowledge anything (see `service::runner`). sled has open reports of a database that
//! no longer opens after a kill (spacejam/sled#1533): `tests/crash.rs` kills a writer with
//! SIGKILL again and again and checks that the store opens with every flushed write.
//!
//! Files: this module opens the store and holds the tree handles and small helpers; `store`
//! the [`Store`](crate::storage::Store) calls; `index` the per-citizen index of the journal,
//! outbox, sent and cases trees that an erasure reads instead of those trees whole.

use std::path::Path;

use sled::transaction::TransactionError;

use crate::storage::keys::{
    index_built_key, ledger_index_key, ACCOUNTS_TREE, ALIASES_TREE, AUDIT_TREE, BROADCASTS_TREE, CASES_TREE,
    CITIZENS_TREE, CLOSURES_TREE, CONVERSATIONS_TREE, DELIVERIES_TREE, ENTRY_INDEX_TREE, ERASING_TREE, FAQ_EDITS_TREE,
    INBOUND_TREE, LEDGER_INDEX_TREE, LEDGER_TREE, META_TREE, OUTBOX_TREE, SCHEMA_VERSION_KEY, SENT_TREE, SESSIONS_TREE,
    STATS_TREE,
};
use crate::storage::{decode_as, encode, LedgerEntry, StoreError, SCHEMA_VERSION};

mod broadcasts;
mod cases;
mod citizens;
mod index;
mod journal;
mod sealing;
pub use sealing::SEALED_KEY;
mod staff;
mod store;

fn engine(e: sled::Error) -> StoreError {
    StoreError::Sled(e.to_string())
}

/// A failed transaction's error: ours as it was, sled's as an engine error.
fn tx_error(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => engine(e),
    }
}

/// A sled database holding sportello's trees. Cheap to clone (sled handles are `Arc`s).
#[derive(Clone)]
pub struct SledStore {
    // The handles are visible to sibling modules (backup) but not outside storage.
    pub(super) db: sled::Db,
    citizens: sled::Tree,
    inbound: sled::Tree,
    outbox: sled::Tree,
    sent: sled::Tree,
    cases: sled::Tree,
    ledger: sled::Tree,
    audit: sled::Tree,
    stats: sled::Tree,
    accounts: sled::Tree,
    sessions: sled::Tree,
    conversations: sled::Tree,
    erasing: sled::Tree,
    aliases: sled::Tree,
    ledger_index: sled::Tree,
    entry_index: sled::Tree,
    faq_edits: sled::Tree,
    closures: sled::Tree,
    broadcasts: sled::Tree,
    deliveries: sled::Tree,
    /// Every write takes it shared; a backup of a store in use
    /// ([`SledStore::export_to`]) takes it exclusively for the length of its scan, so that
    /// it sees the store between two whole calls (sled has no snapshot across trees).
    /// std's lock: the calls are synchronous and the scan runs on a blocking thread.
    gate: std::sync::Arc<std::sync::RwLock<()>>,
    /// Flushes so far (the engine benchmark reports how many steps one covered).
    flushes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SledStore {
    /// Held by every write: see `gate`.
    fn writing(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Held by a backup's scan: no write runs meanwhile.
    pub(crate) fn paused(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.gate.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Flushes so far.
    pub fn flushes(&self) -> u64 {
        self.flushes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Opens (or creates) the database in `dir`, owner-only, and checks the schema version.
    /// Waits up to [`LOCK_WAIT`] for a database just closed in this process (see
    /// [`open_db`]).
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        SledStore::open_waiting(dir, LOCK_WAIT, CACHE_CAPACITY)
    }

    /// As [`SledStore::open`], with a page cache of `cache` bytes as sled counts them (the
    /// `memory` setting's share: `config::Memory::sled_cache`).
    pub fn open_sized(dir: &Path, cache: u64) -> Result<SledStore, StoreError> {
        SledStore::open_waiting(dir, LOCK_WAIT, cache)
    }

    /// As [`SledStore::open`], but fails at once when the database is in use: for the
    /// commands that then turn to the running server instead.
    pub fn try_open(dir: &Path) -> Result<SledStore, StoreError> {
        SledStore::open_waiting(dir, std::time::Duration::ZERO, CACHE_CAPACITY)
    }

    /// sled's database in `dir` itself, waiting for its lock as [`SledStore::open`] does:
    /// for tests that write what sportello never would (undecodable entries, an older
    /// layout).
    pub fn open_raw(dir: &Path) -> Result<sled::Db, StoreError> {
        open_db(dir, LOCK_WAIT, CACHE_CAPACITY).map_err(engine)
    }

    fn open_waiting(dir: &Path, wait: std::time::Duration, cache: u64) -> Result<SledStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            what: format!("cannot create {}", dir.display()),
            source,
        })?;
        restrict_permissions(dir);
        let db = open_db(dir, wait, cache).map_err(engine)?;
        let meta = db.open_tree(META_TREE).map_err(engine)?;
        match meta.get(SCHEMA_VERSION_KEY).map_err(engine)? {
            None => {
                meta.insert(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_be_bytes())
                    .map_err(engine)?;
            }
            Some(v) => {
                let found =
                    <[u8; 4]>::try_from(v.as_ref())
                        .map(u32::from_be_bytes)
                        .map_err(|_| StoreError::Corrupt {
                            tree: META_TREE,
                            reason: "schema version".into(),
                        })?;
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema { found });
                }
                // Migrations from older schemas run here, in order, when there are any.
            }
        }
        let citizens = db.open_tree(CITIZENS_TREE).map_err(engine)?;
        let inbound = db.open_tree(INBOUND_TREE).map_err(engine)?;
        let outbox = db.open_tree(OUTBOX_TREE).map_err(engine)?;
        let sent = db.open_tree(SENT_TREE).map_err(engine)?;
        let cases = db.open_tree(CASES_TREE).map_err(engine)?;
        let ledger = db.open_tree(LEDGER_TREE).map_err(engine)?;
        let audit = db.open_tree(AUDIT_TREE).map_err(engine)?;
        let stats = db.open_tree(STATS_TREE).map_err(engine)?;
        let accounts = db.open_tree(ACCOUNTS_TREE).map_err(engine)?;
        let sessions = db.open_tree(SESSIONS_TREE).map_err(engine)?;
        let conversations = db.open_tree(CONVERSATIONS_TREE).map_err(engine)?;
        let erasing = db.open_tree(ERASING_TREE).map_err(engine)?;
        let aliases = db.open_tree(ALIASES_TREE).map_err(engine)?;
        // Derived indexes missing (a store written before them) or half built are built below.
        let names = db.tree_names();
        let exists = |tree: &str| names.iter().any(|n| n.as_ref() == tree.as_bytes());
        let (ledger_indexed, entries_indexed) = (exists(LEDGER_INDEX_TREE), exists(ENTRY_INDEX_TREE));
        let ledger_index = db.open_tree(LEDGER_INDEX_TREE).map_err(engine)?;
        let entry_index = db.open_tree(ENTRY_INDEX_TREE).map_err(engine)?;
        let faq_edits = db.open_tree(FAQ_EDITS_TREE).map_err(engine)?;
        let closures = db.open_tree(CLOSURES_TREE).map_err(engine)?;
        let broadcasts = db.open_tree(BROADCASTS_TREE).map_err(engine)?;
        let deliveries = db.open_tree(DELIVERIES_TREE).map_err(engine)?;
        let store = SledStore {
            broadcasts,
            deliveries,
            gate: Default::default(),
            flushes: Default::default(),
            db,
            citizens,
            inbound,
            outbox,
            sent,
            cases,
            ledger,
            audit,
            stats,
            accounts,
            sessions,
            conversations,
            erasing,
            aliases,
            ledger_index,
            entry_index,
            faq_edits,
            closures,
        };
        store.ensure_index(&meta, LEDGER_INDEX_TREE, ledger_indexed, SledStore::build_ledger_index)?;
        store.ensure_index(&meta, ENTRY_INDEX_TREE, entries_indexed, SledStore::build_entry_index)?;
        Ok(store)
    }

    /// Builds a derived index unless its tree exists and `meta` records that it was built
    /// whole. The tree existing is not enough: sled may have made the new tree and part of
    /// its entries durable before a crash in the middle of a build, and an erasure would
    /// then miss what was not indexed yet. So the record is written only once the build is
    /// durable, and a build interrupted runs again whole at the next open (writing an
    /// entry twice is harmless). `build` returns how many entries it wrote.
    fn ensure_index(
        &self,
        meta: &sled::Tree,
        tree: &str,
        exists: bool,
        build: fn(&SledStore) -> Result<usize, StoreError>,
    ) -> Result<(), StoreError> {
        let built = index_built_key(tree);
        if exists && meta.get(&built).map_err(engine)?.is_some() {
            return Ok(());
        }
        if build(self)? > 0 {
            self.db.flush().map_err(engine)?;
        }
        meta.insert(built, &[]).map_err(engine)?;
        Ok(())
    }
}

/// Adds `tree` to a transaction's trees when `used`; returns its index there (meaningless,
/// and never read, when not used).
fn join<'a>(trees: &mut Vec<&'a sled::Tree>, used: bool, tree: &'a sled::Tree) -> usize {
    if used {
        trees.push(tree);
    }
    trees.len() - 1
}

fn u64_key(tree: &'static str, k: &[u8]) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(k)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt {
            tree,
            reason: "key".into(),
        })
}

impl SledStore {
    /// Indexes every ledger entry that names a citizen (a store written before the index, or
    /// whose index build was interrupted); returns how many index entries it wrote.
    fn build_ledger_index(&self) -> Result<usize, StoreError> {
        let mut written = 0;
        for (id, entry) in self.scan(&self.ledger, LEDGER_TREE, |_: &LedgerEntry| true)? {
            if let Some(k) = entry.citizen_key() {
                self.ledger_index
                    .insert(ledger_index_key(&k, id), &[])
                    .map_err(engine)?;
                written += 1;
            }
        }
        Ok(written)
    }

    /// Appends `value` under the next id of an increasing-id tree.
    fn append<T: serde::Serialize>(&self, tree: &sled::Tree, value: &T) -> Result<u64, StoreError> {
        let id = self.db.generate_id().map_err(engine)?;
        tree.insert(id.to_be_bytes(), encode(value)).map_err(engine)?;
        Ok(id)
    }

    /// Every (id, value) of an increasing-id tree that `keep` accepts, oldest first.
    fn scan<T: serde::de::DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        name: &'static str,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Vec<(u64, T)>, StoreError> {
        let mut out = Vec::new();
        for item in tree.iter() {
            let (k, v) = item.map_err(engine)?;
            let value: T = decode_as(name, &v)?;
            if keep(&value) {
                out.push((u64_key(name, &k)?, value));
            }
        }
        Ok(out)
    }
}

/// How long [`SledStore::open`] waits for a database that was just closed to let go of
/// its lock.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// sled's page cache by default (the `memory` setting's default share), in bytes of pages
/// as sled counts them. sled's default is 1 GiB, and
/// the cache keeps every page read or written until it is full, so a flood of distinct
/// numbers (each a citizen record and journal, outbox, sent and index entries) grew the
/// server by about 2.6 KB a number without end: 445 MB at 150,000 (issue #17); with 32 MiB
/// the same flood peaks at 147 MB. A page no longer cached is read again from the file, in
/// practice from the operating system's page cache: reading and writing back a citizen
/// among 150,000, in a random order, took 23-27 us instead of 9-11 us, some 3 % of a step's
/// CPU, within the noise of the flood's own figures (BENCHMARKS.md, "A flood of distinct
/// numbers"). Only this cache is bounded: the store keeps everything. With a hundred comuni
/// alerted at once, sled's nodes took about four times their count: 16 MiB is now the
/// default (`config::Memory::sled_cache`; BENCHMARKS.md, "A region on one machine").
pub const CACHE_CAPACITY: u64 = 16 * 1024 * 1024;

/// Opens sled's database, waiting up to `wait` for its file lock: sled's flusher thread
/// lets go of a dropped database's lock only at its next wake-up, so reopening at once in
/// the same process (a restart in a test, a restore) can find it still taken. A database
/// another process keeps open fails after the wait.
fn open_db(dir: &Path, wait: std::time::Duration, cache: u64) -> Result<sled::Db, sled::Error> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match sled::Config::new().path(dir).cache_capacity(cache).open() {
            // sled reports it as `ErrorKind::Other` with this text (config.rs, `try_lock`).
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock") && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            opened => return opened,
        }
    }
}

#[cfg(unix)]
fn restrict_permissions(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // Personal data: nobody but the service's own user reads the folder.
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
}

#[cfg(not(unix))]
fn restrict_permissions(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_store_closed_meanwhile_opens_after_a_wait_one_kept_open_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let first = SledStore::open(dir.path()).unwrap();
        let path = dir.path().to_path_buf();
        let opener = std::thread::spawn(move || SledStore::open(&path).map(drop));
        std::thread::sleep(Duration::from_millis(300));
        drop(first);
        opener.join().unwrap().expect("opened once the first was closed");

        let kept = SledStore::open(dir.path()).unwrap();
        let started = Instant::now();
        let err = SledStore::open(dir.path()).err().expect("kept open elsewhere");
        assert!(started.elapsed() >= LOCK_WAIT, "{:?}", started.elapsed());
        assert!(err.to_string().contains("could not acquire lock"), "{err}");
        // Without the wait, for a command that then asks the running server.
        let started = Instant::now();
        assert!(SledStore::try_open(dir.path()).is_err());
        assert!(started.elapsed() < LOCK_WAIT, "{:?}", started.elapsed());
        drop(kept);
    }
}
