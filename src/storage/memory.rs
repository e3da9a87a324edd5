//! An in-memory backend: for tests and for benchmarking the engine without disk. Nothing
//! survives the process; `flush` does nothing.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::keys::CitizenKey;
use super::{Store, StoreError};
use crate::dialogue::Citizen;

/// Citizens in a `BTreeMap` behind one mutex: contention is not a concern for its uses.
#[derive(Default)]
pub struct MemoryStore {
    citizens: Mutex<BTreeMap<CitizenKey, Citizen>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<CitizenKey, Citizen>> {
        // A panic while holding the lock cannot leave a half-written record: take the data.
        self.citizens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemoryStore {
    fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError> {
        key.encode()?;
        Ok(self.lock().get(key).cloned())
    }
    fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError> {
        key.encode()?;
        self.lock().insert(key.clone(), citizen.clone());
        Ok(())
    }
    fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }
    fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        Ok(self.lock().iter().filter(|(k, _)| k.comune == comune).map(|(k, v)| (k.clone(), v.clone())).collect())
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
