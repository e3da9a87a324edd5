//! Opening a PostgreSQL store sealed (issue 24), and the one-time sealing of a database
//! written before.
//!
//! The keyring lives in the database (`postgres::keyring`), shared by every process on it;
//! the master key comes from the environment, as for sled, or from `master.key` in the
//! data directory (generated while the database has no keyring): several replicas need the
//! same key, so give it to them through `SPORTELLO_MASTER_KEY` or
//! `SPORTELLO_MASTER_KEY_FILE`.
//!
//! The sealing, once, at the first start of a build that seals on a database that holds
//! data: a backup of every tree into the data directory (`pre-sealing-postgres.backup`,
//! 0600, verified; the format of `sportello backup`), then every record sealed and written
//! back in one transaction that also marks the database sealed. Two processes starting
//! together seal once (the transaction takes a lock and checks the mark). The rows in clear
//! are gone from the tables once that transaction commits; their old versions stay in the
//! table files until VACUUM and in the WAL until it is recycled (README).

use std::path::{Path, PathBuf};

use super::{keyring_error, master_key_for, migrate::seal_records, MasterSource, Sealed};
use crate::storage::backup::{write_checked, write_records};
use crate::storage::keyring::Keyring;
use crate::storage::{PgStore, StoreError, SCHEMA_VERSION};

/// Where the sealing of a PostgreSQL database leaves its backup of the tables as they were.
pub fn pre_sealing_backup(data: &Path) -> PathBuf {
    data.join("pre-sealing-postgres.backup")
}

/// The keyring of a PostgreSQL database, with the master key [`master_key_for`] finds, and
/// where that key came from.
pub fn keyring_on(pg: &PgStore, data: &Path) -> Result<(Keyring, MasterSource), StoreError> {
    let (master, source) = master_key_for(data, pg.has_keyring()?, "the PostgreSQL database")?;
    let ring = Keyring::over(Box::new(pg.keyring_slots()), master).map_err(keyring_error)?;
    Ok((ring, source))
}

/// Opens `pg` sealed, with its keyring; seals a database written before sealing first.
/// Returns the store and, after a sealing, where the backup of the old tables is.
pub fn open_postgres(pg: PgStore, data: &Path) -> Result<(Sealed<PgStore>, Option<PathBuf>), StoreError> {
    let (ring, _) = keyring_on(&pg, data)?;
    if pg.is_sealed()? {
        return Ok((Sealed::new(pg, ring)?, None));
    }
    if pg.is_empty()? {
        pg.mark_sealed()?;
        return Ok((Sealed::new(pg, ring)?, None));
    }
    std::fs::create_dir_all(data).map_err(|source| StoreError::Io {
        what: format!("cannot create {}", data.display()),
        source,
    })?;
    // Processes starting together on one data directory write the backup one at a time
    // (on other machines, each writes its own; the database is sealed once either way).
    let lock_path = data.join(".sealing.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .and_then(|f| f.lock().map(|()| f))
        .map_err(|source| StoreError::Io {
            what: format!("cannot lock {}", lock_path.display()),
            source,
        })?;
    if pg.is_sealed()? {
        // Sealed by the process that held the lock before.
        let _ = std::fs::remove_file(&lock_path);
        return Ok((Sealed::new(pg, ring)?, None));
    }
    let records = pg.records()?;
    let backup = pre_sealing_backup(data);
    let next_id = pg.next_id()?;
    write_checked(&backup, |file| {
        let mut out = std::io::BufWriter::new(file);
        write_records(&records, SCHEMA_VERSION, next_id, &mut out)?;
        Ok(())
    })
    .map_err(|e| StoreError::Config(format!("the backup before sealing: {e}")))?;
    let sealed = Sealed::new(pg, ring)?;
    let records = seal_records(&sealed, records)?;
    let replaced = sealed.inner().replace_sealed(records)?;
    drop(lock);
    let _ = std::fs::remove_file(&lock_path);
    if replaced {
        Ok((sealed, Some(backup)))
    } else {
        // Another process sealed the database meanwhile, with its own backup.
        let _ = std::fs::remove_file(&backup);
        Ok((sealed, None))
    }
}
