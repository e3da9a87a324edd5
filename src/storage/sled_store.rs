//! The sled backend (0.34, the stable on-disk format), the embedded default under `./data`.
//!
//! sled buffers writes and makes them durable on `flush` (and every 500 ms on its own), so a
//! crash loses at most what was written since the last flush: callers flush before they
//! acknowledge anything (see `dialogue::runner`). sled has open reports of a database that
//! no longer opens after a kill (spacejam/sled#1533): `tests/crash.rs` kills a writer with
//! SIGKILL again and again and checks that the store opens with every flushed write.

use std::path::Path;

use super::keys::{comune_prefix, CitizenKey, CITIZENS_TREE, META_TREE, SCHEMA_VERSION_KEY};
use super::{decode, encode, Store, StoreError, SCHEMA_VERSION};
use crate::dialogue::Citizen;

fn engine(e: sled::Error) -> StoreError {
    StoreError::Engine(e.to_string())
}

/// A sled database holding sportello's trees. Cheap to clone (sled handles are `Arc`s).
#[derive(Clone)]
pub struct SledStore {
    db: sled::Db,
    citizens: sled::Tree,
}

impl SledStore {
    /// Opens (or creates) the database in `dir`, owner-only, and checks the schema version.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Engine(format!("cannot create {}: {e}", dir.display())))?;
        restrict_permissions(dir);
        let db = sled::Config::new().path(dir).open().map_err(engine)?;
        let meta = db.open_tree(META_TREE).map_err(engine)?;
        match meta.get(SCHEMA_VERSION_KEY).map_err(engine)? {
            None => {
                meta.insert(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_be_bytes()).map_err(engine)?;
            }
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| StoreError::Corrupt { tree: META_TREE, reason: "schema version".into() })?;
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema { found });
                }
                // Migrations from older schemas run here, in order, when there are any.
            }
        }
        let citizens = db.open_tree(CITIZENS_TREE).map_err(engine)?;
        Ok(SledStore { db, citizens })
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

impl Store for SledStore {
    fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError> {
        match self.citizens.get(key.encode()?).map_err(engine)? {
            Some(v) => decode(CITIZENS_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError> {
        self.citizens.insert(key.encode()?, encode(citizen)).map_err(engine)?;
        Ok(())
    }

    fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError> {
        self.citizens.remove(key.encode()?).map_err(engine)?;
        Ok(())
    }

    fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        let mut out = Vec::new();
        for item in self.citizens.scan_prefix(comune_prefix(comune)) {
            let (k, v) = item.map_err(engine)?;
            let key = CitizenKey::decode(&k).ok_or(StoreError::Corrupt { tree: CITIZENS_TREE, reason: "key".into() })?;
            out.push((key, decode(CITIZENS_TREE, &v)?));
        }
        Ok(out)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(engine)?;
        Ok(())
    }
}
