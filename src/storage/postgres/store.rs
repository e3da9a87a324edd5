//! `impl Store for PgStore`: durability. Each area's calls are SQL on a pooled connection,
//! one file per area (`citizens.rs`, `journal.rs`, `cases.rs`, `staff.rs`, `broadcasts.rs`);
//! the tables, their SQL and the row writers are in the parent module.

use super::*;

impl Store for PgStore {
    fn flush(&self) -> Result<(), StoreError> {
        // A transaction with an id, committed synchronously, returns once the WAL is on disk
        // up to its commit record, and so every commit before it, from any connection.
        self.run(|c| c.batch(FLUSH))
    }

    fn waits_on_network(&self) -> bool {
        true
    }
}
