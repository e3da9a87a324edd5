//! `CaseStore` on sled: moderation cases.

use super::{engine, SledStore};
use crate::storage::keys::CASES_TREE;
use crate::storage::CaseStore;
use crate::storage::{decode_as, ModerationCase, StoreError};

impl CaseStore for SledStore {
    fn add_case(&self, case: &ModerationCase) -> Result<u64, StoreError> {
        let _writing = self.writing();
        let id = self.db.generate_id().map_err(engine)?;
        self.put_indexed(&id.to_be_bytes(), case)?;
        Ok(id)
    }

    fn case(&self, id: u64) -> Result<Option<ModerationCase>, StoreError> {
        match self.cases.get(id.to_be_bytes()).map_err(engine)? {
            Some(v) => decode_as(CASES_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn put_case(&self, id: u64, case: &ModerationCase) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.put_indexed(&id.to_be_bytes(), case)
    }

    fn cases(&self, comune: &str) -> Result<Vec<(u64, ModerationCase)>, StoreError> {
        self.scan(&self.cases, CASES_TREE, |c: &ModerationCase| c.key.comune == comune)
    }
}
