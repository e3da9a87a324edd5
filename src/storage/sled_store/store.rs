//! [`Store`] on sled: durability. Each area's calls, reads and writes of the trees `keys.rs`
//! documents, are in a file per area (`citizens.rs`, `journal.rs`, `cases.rs`, `staff.rs`,
//! `broadcasts.rs`); what the trees hold and how the store opens is in the parent module.

use super::{engine, SledStore};
use crate::storage::{Store, StoreError};

impl Store for SledStore {
    fn flush(&self) -> Result<(), StoreError> {
        self.flushes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.db.flush().map_err(engine)?;
        Ok(())
    }
}
