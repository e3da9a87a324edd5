//! The calls beyond the `Store` trait that several active processes on PostgreSQL make
//! (`postgres::replicas`, `server::shared`), through the seal: keys go down hidden and come
//! back with their citizen's id, entries come back opened.

use jiff::Timestamp;

use super::Sealed;
use crate::storage::postgres::{Adoption, Claim, Locks};
use crate::storage::{CitizenKey, InboundEntry, PgStore, StoreError};

impl Sealed<PgStore> {
    /// The locks shared with the other processes on the database.
    pub fn locks(&self) -> &Locks {
        self.inner.locks()
    }

    /// `PgStore::heartbeat`.
    pub fn heartbeat(&self, replica: &str) -> Result<(), StoreError> {
        self.inner.heartbeat(replica)
    }

    /// `PgStore::leave`.
    pub fn leave(&self, replica: &str) -> Result<(), StoreError> {
        self.inner.leave(replica)
    }

    /// `PgStore::live_replicas`.
    pub fn live_replicas(&self, within: std::time::Duration) -> Result<Vec<String>, StoreError> {
        self.inner.live_replicas(within)
    }

    /// `PgStore::pending_inbound_for`, opened.
    pub fn pending_inbound_for(&self, key: &CitizenKey) -> Result<Vec<(Vec<u8>, InboundEntry)>, StoreError> {
        Ok(self
            .inner
            .pending_inbound_for(&self.hide(key))?
            .into_iter()
            .map(|(k, e)| self.journal_up(k, e))
            .collect())
    }

    /// `PgStore::stale_inbound`, each citizen named by their id again.
    pub fn stale_inbound(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> Result<Vec<(CitizenKey, Option<String>, Timestamp)>, StoreError> {
        Ok(self
            .inner
            .stale_inbound(before, limit)?
            .into_iter()
            .map(|(key, owner, at)| (self.show(key), owner, at))
            .collect())
    }

    /// `PgStore::claim_outbound`, the reply opened.
    pub fn claim_outbound(&self, id: u64, replica: &str) -> Result<Claim, StoreError> {
        Ok(match self.inner.claim_outbound(id, replica)? {
            Claim::Claimed(id, entry) => Claim::Claimed(id, Box::new(self.outbound_up(*entry))),
            other => other,
        })
    }

    /// `PgStore::adopt_outbound`, the reply opened.
    pub fn adopt_outbound(
        &self,
        id: u64,
        replica: &str,
        live: &[String],
        unowned_before: Timestamp,
    ) -> Result<Adoption, StoreError> {
        Ok(match self.inner.adopt_outbound(id, replica, live, unowned_before)? {
            Adoption::Adopted(entry) => Adoption::Adopted(Box::new(self.outbound_up(*entry))),
            other => other,
        })
    }
}
