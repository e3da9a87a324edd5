//! `CaseStore` on PostgreSQL: moderation cases.

use super::*;
use crate::storage::CaseStore;

impl CaseStore for PgStore {
    fn add_case(&self, case: &ModerationCase) -> Result<u64, StoreError> {
        let case = case.clone();
        self.run(move |c| {
            let id = next_id(c)?;
            put_case_row(c, id, &encode(&case), &case)?;
            Ok(id)
        })
    }

    fn case(&self, id: u64) -> Result<Option<ModerationCase>, StoreError> {
        let row = self.run(move |c| c.query_opt("SELECT v FROM caseid_case WHERE id = $1", &[&sql_id(id)]))?;
        row.map(|r| decode_as(CASES_TREE, &r.get::<_, Vec<u8>>(0))).transpose()
    }

    fn put_case(&self, id: u64, case: &ModerationCase) -> Result<(), StoreError> {
        let case = case.clone();
        self.run(move |c| put_case_row(c, id, &encode(&case), &case))
    }

    fn cases(&self, comune: &str) -> Result<Vec<(u64, ModerationCase)>, StoreError> {
        let comune = comune.to_string();
        let rows = self.run(move |c| {
            c.query(
                "SELECT id, v FROM caseid_case WHERE comune = $1 ORDER BY id",
                &[&comune],
            )
        })?;
        id_rows(CASES_TREE, rows)
    }
}
