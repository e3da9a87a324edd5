//! `StaffStore` on PostgreSQL: staff accounts and sessions, conversations, the audit log, FAQ and closure edits.

use super::*;
use crate::storage::StaffStore;

impl StaffStore for PgStore {
    fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        let entry = entry.clone();
        self.run(move |c| {
            let id = next_id(c)?;
            put_audit_row(c, id, &encode(&entry), &entry)?;
            Ok(id)
        })
    }

    fn audit(&self, comune: Option<&str>) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
        let comune = comune.map(str::to_string);
        let rows = self.run(move |c| match &comune {
            Some(comune) => c.query(
                "SELECT id, v FROM auditid_entry WHERE comune = $1 ORDER BY id",
                &[comune],
            ),
            None => c.query("SELECT id, v FROM auditid_entry ORDER BY id", &[]),
        })?;
        id_rows(AUDIT_TREE, rows)
    }

    fn put_account(&self, account: &Account) -> Result<(), StoreError> {
        ACCOUNTS.write(self, account.email.to_lowercase().into_bytes(), encode(account))
    }

    fn account(&self, email: &str) -> Result<Option<Account>, StoreError> {
        ACCOUNTS.read(self, email.to_lowercase().into_bytes())
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = self.run(|c| ACCOUNTS.all(c))?;
        rows.iter().map(|(_, v)| decode_as(ACCOUNTS_TREE, v)).collect()
    }

    fn remove_account(&self, email: &str) -> Result<(), StoreError> {
        ACCOUNTS.remove(self, email.to_lowercase().into_bytes())
    }

    fn put_session(&self, token_sha256: &str, session: &Session) -> Result<(), StoreError> {
        SESSIONS.write(self, token_sha256.as_bytes().to_vec(), encode(session))
    }

    fn session(&self, token_sha256: &str) -> Result<Option<Session>, StoreError> {
        SESSIONS.read(self, token_sha256.as_bytes().to_vec())
    }

    fn remove_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        SESSIONS.remove(self, token_sha256.as_bytes().to_vec())
    }

    fn put_conversation(&self, conversation: &Conversation) -> Result<(), StoreError> {
        CONVERSATIONS.write(self, conversation.key.encode()?, encode(conversation))
    }

    fn conversation(&self, key: &CitizenKey) -> Result<Option<Conversation>, StoreError> {
        CONVERSATIONS.read(self, key.encode()?)
    }

    fn conversations(&self, comune: &str) -> Result<Vec<Conversation>, StoreError> {
        let prefix = comune_prefix(comune);
        let rows = self.run(move |c| CONVERSATIONS.prefix(c, &prefix))?;
        rows.iter().map(|(_, v)| decode_as(CONVERSATIONS_TREE, v)).collect()
    }

    fn sessions(&self) -> Result<Vec<(String, Session)>, StoreError> {
        let rows = self.run(|c| SESSIONS.all(c))?;
        rows.iter()
            .map(|(k, v)| Ok((String::from_utf8_lossy(k).into_owned(), decode_as(SESSIONS_TREE, v)?)))
            .collect()
    }

    fn put_faq_edit(&self, comune: &str, edit: &FaqEdit) -> Result<(), StoreError> {
        FAQ_EDITS.write(self, faq_edit_key(comune, &edit.id, &edit.lang)?, encode(edit))
    }

    fn faq_edits(&self, comune: &str) -> Result<Vec<FaqEdit>, StoreError> {
        let prefix = comune_prefix(comune);
        let rows = self.run(move |c| FAQ_EDITS.prefix(c, &prefix))?;
        rows.iter().map(|(_, v)| decode_as(FAQ_EDITS_TREE, v)).collect()
    }

    fn put_closure(&self, comune: &str, closure: &ClosureEdit) -> Result<(), StoreError> {
        CLOSURES.write(self, closure_key(comune, &closure.date)?, encode(closure))
    }

    fn closures(&self, comune: &str) -> Result<Vec<ClosureEdit>, StoreError> {
        let prefix = comune_prefix(comune);
        let rows = self.run(move |c| CLOSURES.prefix(c, &prefix))?;
        rows.iter().map(|(_, v)| decode_as(CLOSURES_TREE, v)).collect()
    }
}
