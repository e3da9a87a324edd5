//! `CaseStore` in memory: moderation cases.

use super::MemoryStore;
use crate::storage::CaseStore;
use crate::storage::{ModerationCase, StoreError};

impl CaseStore for MemoryStore {
    fn add_case(&self, case: &ModerationCase) -> Result<u64, StoreError> {
        let mut q = self.queues();
        q.next_id += 1;
        let id = q.next_id;
        q.cases.insert(id, case.clone());
        Ok(id)
    }

    fn case(&self, id: u64) -> Result<Option<ModerationCase>, StoreError> {
        Ok(self.queues().cases.get(&id).cloned())
    }

    fn put_case(&self, id: u64, case: &ModerationCase) -> Result<(), StoreError> {
        self.queues().cases.insert(id, case.clone());
        Ok(())
    }

    fn cases(&self, comune: &str) -> Result<Vec<(u64, ModerationCase)>, StoreError> {
        Ok(self
            .queues()
            .cases
            .iter()
            .filter(|(_, c)| c.key.comune == comune)
            .map(|(k, v)| (*k, v.clone()))
            .collect())
    }
}
