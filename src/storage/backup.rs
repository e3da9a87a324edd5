//! Backups of the sled store: the file format, export (writes pause meanwhile, see
//! `SledStore::export_to`), verification and restore.
//!
//! Format (`sportello_backup` 1): UTF-8 JSON lines.
//!
//! ```text
//! {"sportello_backup":1,"schema":1,"created":"2026-01-01T10:00:00Z","next_id":1000007}
//! {"tree":"citizenkey_citizen","key":"<hex>","value":"<hex>"}      one line per record,
//! ...                                                              trees by name, keys in order
//! {"end":{"records":42,"counts":{"citizenkey_citizen":3,...},"sha256":"<hex>"}}
//! ```
//!
//! Keys and values are hex: they are bytes (NUL-separated keys, big-endian ids), and a
//! restore must write back exactly what was read. `next_id` is above every id sled handed
//! out (outbox and case keys), so a restored store never reuses one. `sha256` covers every
//! byte before the trailer line; a restore checks it and the counts before writing anything.
//!
//! A backup holds personal data: files are written owner-only. This module never logs.
//! It must not interpret records: it copies trees, whatever they hold.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys::{META_TREE, SCHEMA_VERSION_KEY};
use super::{SledStore, StoreError, SCHEMA_VERSION};

/// The version of the file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Every record of a store: tree name → key → value, all in byte order.
pub type Records = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Errors of backup and restore. Messages carry no record content.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a sportello backup (line {line}): {reason}")]
    Format { line: usize, reason: String },
    #[error("checksum mismatch: the backup is damaged or was modified")]
    Checksum,
    #[error("record counts differ from the trailer: {0}")]
    Counts(String),
    #[error("the backup ends before its trailer: it is truncated")]
    Truncated,
    #[error("backup format {0} is newer than this build understands ({FORMAT_VERSION})")]
    NewerFormat(u32),
    #[error("the backup holds schema {found}, this build knows {SCHEMA_VERSION}: use a newer sportello")]
    NewerSchema { found: u32 },
    #[error("{0} is not empty (use --force to replace what it holds)")]
    NotEmpty(String),
}

#[derive(Serialize, Deserialize)]
struct Header {
    sportello_backup: u32,
    schema: u32,
    created: jiff::Timestamp,
    next_id: u64,
}

#[derive(Serialize, Deserialize)]
struct Line {
    tree: String,
    key: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
struct Trailer {
    end: Summary,
}

/// What a backup holds: record counts per tree and the checksum of its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub records: u64,
    pub counts: BTreeMap<String, u64>,
    pub sha256: String,
}

/// A verified backup, read whole before anything is written.
pub struct Backup {
    pub schema: u32,
    pub next_id: u64,
    pub records: Records,
    pub summary: Summary,
}

fn engine(e: sled::Error) -> StoreError {
    StoreError::Sled(e.to_string())
}

impl SledStore {
    /// Every record of every tree (sled's own default tree included), for backups and tests.
    pub fn records(&self) -> Result<Records, StoreError> {
        let mut out = Records::new();
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name).map_err(engine)?;
            let name = String::from_utf8(name.to_vec()).map_err(|_| StoreError::Corrupt {
                tree: "tree names",
                reason: "a tree name is not UTF-8".into(),
            })?;
            let records = out.entry(name).or_default();
            for item in tree.iter() {
                let (k, v) = item.map_err(engine)?;
                records.insert(k.to_vec(), v.to_vec());
            }
        }
        Ok(out)
    }

    /// Writes a backup of every tree to `out`, consistent while the store is in use: writes
    /// wait meanwhile, so the backup sees each step's commit whole or not at all, exactly
    /// what a crash after a flush would leave, a state the server recovers from by design.
    pub fn export_to(&self, out: &mut impl Write) -> Result<Summary, BackupError> {
        let _paused = self.paused();
        let schema = match self
            .db
            .open_tree(META_TREE)
            .map_err(engine)?
            .get(SCHEMA_VERSION_KEY)
            .map_err(engine)?
        {
            Some(v) => <[u8; 4]>::try_from(v.as_ref())
                .map(u32::from_be_bytes)
                .unwrap_or(SCHEMA_VERSION),
            None => SCHEMA_VERSION,
        };
        // Taking an id spends one, which is harmless: ids only need to be unique.
        let next_id = self.db.generate_id().map_err(engine)?;
        write_records(&self.records()?, schema, next_id, out)
    }
}

/// Writes `records` to `out` in the backup format (a header, a line per record, a trailer
/// with the counts and the checksum).
pub fn write_records(
    records: &Records,
    schema: u32,
    next_id: u64,
    out: &mut impl Write,
) -> Result<Summary, BackupError> {
    let header = Header {
        sportello_backup: FORMAT_VERSION,
        schema,
        created: jiff::Timestamp::now(),
        next_id,
    };
    let mut hasher = Sha256::new();
    let mut emit = |line: Vec<u8>, out: &mut dyn Write| -> std::io::Result<()> {
        hasher.update(&line);
        hasher.update(b"\n");
        out.write_all(&line)?;
        out.write_all(b"\n")
    };
    emit(serde_json::to_vec(&header).unwrap_or_default(), out)?;
    let mut counts = BTreeMap::new();
    let mut total = 0;
    for (tree, records) in records {
        for (k, v) in records {
            let line = Line {
                tree: tree.clone(),
                key: hex(k),
                value: hex(v),
            };
            emit(serde_json::to_vec(&line).unwrap_or_default(), out)?;
        }
        total += records.len() as u64;
        counts.insert(tree.clone(), records.len() as u64);
    }
    let summary = Summary {
        records: total,
        counts,
        sha256: hex(&hasher.finalize()),
    };
    out.write_all(&serde_json::to_vec(&Trailer { end: summary.clone() }).unwrap_or_default())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(summary)
}

/// Writes a backup that is good or absent: `write` fills `<to>.partial` (owner-only,
/// replaced if left over), which is synced and read back whole, and only then takes the
/// name `to`. A write or a check that fails removes the partial file. Returns what the
/// backup holds.
pub fn write_checked(
    to: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), BackupError>,
) -> Result<Summary, BackupError> {
    let mut name = to.as_os_str().to_owned();
    name.push(".partial");
    let partial = std::path::PathBuf::from(name);
    let written = (|| {
        let mut file = super::create_private(&partial)?;
        write(&mut file)?;
        file.sync_all()?;
        let check = std::fs::File::open(&partial)?;
        let summary = read_backup(std::io::BufReader::new(check))?.summary;
        std::fs::rename(&partial, to)?;
        Ok(summary)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Reads a whole backup and checks its format, checksum and counts.
pub fn read_backup(input: impl BufRead) -> Result<Backup, BackupError> {
    let bad = |line: usize, reason: &str| BackupError::Format {
        line,
        reason: reason.into(),
    };
    let mut hasher = Sha256::new();
    let mut lines = input.split(b'\n').enumerate();
    let (_, first) = lines.next().ok_or(BackupError::Truncated)?;
    let first = first?;
    let header: Header = serde_json::from_slice(&first).map_err(|_| bad(1, "no header"))?;
    if header.sportello_backup > FORMAT_VERSION {
        return Err(BackupError::NewerFormat(header.sportello_backup));
    }
    if header.schema > SCHEMA_VERSION {
        return Err(BackupError::NewerSchema { found: header.schema });
    }
    hasher.update(&first);
    hasher.update(b"\n");
    let mut records = Records::new();
    let mut trailer = None;
    for (i, raw) in lines {
        let raw = raw?;
        if raw.is_empty() {
            continue;
        }
        if trailer.is_some() {
            return Err(bad(i + 1, "content after the trailer"));
        }
        if let Ok(t) = serde_json::from_slice::<Trailer>(&raw) {
            trailer = Some(t.end);
            continue;
        }
        // A damaged line is most likely a damaged file: say so rather than "bad JSON".
        let Ok(line) = serde_json::from_slice::<Line>(&raw) else {
            return Err(BackupError::Checksum);
        };
        let (Some(k), Some(v)) = (unhex(&line.key), unhex(&line.value)) else {
            return Err(BackupError::Checksum);
        };
        hasher.update(&raw);
        hasher.update(b"\n");
        records.entry(line.tree).or_default().insert(k, v);
    }
    let summary = trailer.ok_or(BackupError::Truncated)?;
    if hex(&hasher.finalize()) != summary.sha256 {
        return Err(BackupError::Checksum);
    }
    // Empty trees have no lines but are listed in the trailer: restore recreates them.
    for (tree, _) in summary.counts.iter().filter(|(_, n)| **n == 0) {
        records.entry(tree.clone()).or_default();
    }
    let counts: BTreeMap<String, u64> = records.iter().map(|(t, r)| (t.clone(), r.len() as u64)).collect();
    let total: u64 = counts.values().sum();
    if counts != summary.counts || total != summary.records {
        return Err(BackupError::Counts(format!(
            "read {total} records, the trailer says {}",
            summary.records
        )));
    }
    Ok(Backup {
        schema: header.schema,
        next_id: header.next_id,
        records,
        summary,
    })
}

/// Restores a verified backup into `dir`. Refuses a non-empty directory unless `force`
/// (then every tree there is replaced); refuses a directory a server holds (sled's lock).
pub fn restore(dir: &Path, backup: &Backup, force: bool) -> Result<(), BackupError> {
    // The keyring and the master key a sealed backup needs do not make a directory full.
    let non_empty = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name() != "keyring" && e.file_name() != super::sealed::MASTER_KEY_FILE)
        })
        .unwrap_or(false);
    if non_empty && !force {
        return Err(BackupError::NotEmpty(dir.display().to_string()));
    }
    // Opening takes sled's exclusive lock: from here nobody else writes to `dir`.
    let store = SledStore::open(dir)?;
    replace_all(&store, &backup.records, backup.next_id)
}

/// Replaces every tree of `store` with `records`, moves the id generator past `next_id`,
/// and flushes: a restore, and the migration to sealed storage.
pub(crate) fn replace_all(store: &SledStore, records: &Records, next_id: u64) -> Result<(), BackupError> {
    let db = &store.db;
    for name in db.tree_names() {
        // sled's default tree cannot be dropped, only emptied.
        if name == db.name() {
            db.clear().map_err(engine)?;
        } else {
            db.drop_tree(&name).map_err(engine)?;
        }
    }
    for (tree, records) in records {
        let tree = db.open_tree(tree).map_err(engine)?;
        let mut batch = sled::Batch::default();
        for (k, v) in records {
            batch.insert(k.as_slice(), v.as_slice());
        }
        tree.apply_batch(batch).map_err(engine)?;
    }
    // Outbox and case keys are sled ids: move the generator past every restored one. sled
    // has no setter; each id is an atomic increment, persisted once per million.
    while db.generate_id().map_err(engine)? < next_id {}
    db.flush().map_err(engine)?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::records::Citizen;
    use crate::storage::{CitizenKey, CitizenStore};

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xff];
        assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
        assert!(unhex("abc").is_none() && unhex("zz").is_none());
    }

    #[test]
    fn a_backup_restores_and_a_flipped_byte_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("a")).unwrap();
        let key = CitizenKey::new("isili", "whatsapp", "1");
        store.put_citizen(&key, &Citizen::new(jiff::Timestamp::now())).unwrap();
        let mut file = Vec::new();
        let summary = store.export_to(&mut file).unwrap();
        let backup = read_backup(&file[..]).unwrap();
        assert_eq!(backup.summary, summary);
        restore(&dir.path().join("b"), &backup, false).unwrap();
        let restored = SledStore::open(&dir.path().join("b")).unwrap();
        assert_eq!(restored.records().unwrap(), store.records().unwrap());
        assert!(matches!(
            restore(&dir.path().join("b"), &backup, false),
            Err(BackupError::NotEmpty(_))
        ));
        let at = file.len() / 2;
        file[at] ^= 0x01;
        assert!(matches!(
            read_backup(&file[..]),
            Err(BackupError::Checksum | BackupError::Format { .. })
        ));
    }
}
