//! `StaffStore` on sled: staff accounts and sessions, conversations, the audit log, FAQ and closure edits.

use super::{engine, SledStore};
use crate::storage::keys::{
    closure_key, comune_prefix, faq_edit_key, CitizenKey, ACCOUNTS_TREE, AUDIT_TREE, CLOSURES_TREE, CONVERSATIONS_TREE,
    FAQ_EDITS_TREE, SESSIONS_TREE,
};
use crate::storage::StaffStore;
use crate::storage::{decode_as, encode, Account, AuditEntry, ClosureEdit, Conversation, FaqEdit, Session, StoreError};

impl StaffStore for SledStore {
    fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        let _writing = self.writing();
        self.append(&self.audit, entry)
    }

    fn audit(&self, comune: Option<&str>) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
        self.scan(&self.audit, AUDIT_TREE, |e: &AuditEntry| {
            comune.is_none_or(|c| e.comune == c)
        })
    }

    fn put_account(&self, account: &Account) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.accounts
            .insert(account.email.to_lowercase(), encode(account))
            .map_err(engine)?;
        Ok(())
    }

    fn account(&self, email: &str) -> Result<Option<Account>, StoreError> {
        match self.accounts.get(email.to_lowercase()).map_err(engine)? {
            Some(v) => decode_as(ACCOUNTS_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.accounts
            .iter()
            .map(|item| decode_as(ACCOUNTS_TREE, &item.map_err(engine)?.1))
            .collect()
    }

    fn remove_account(&self, email: &str) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.accounts.remove(email.to_lowercase()).map_err(engine)?;
        Ok(())
    }

    fn put_session(&self, token_sha256: &str, session: &Session) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.sessions.insert(token_sha256, encode(session)).map_err(engine)?;
        Ok(())
    }

    fn session(&self, token_sha256: &str) -> Result<Option<Session>, StoreError> {
        match self.sessions.get(token_sha256).map_err(engine)? {
            Some(v) => decode_as(SESSIONS_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn remove_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.sessions.remove(token_sha256).map_err(engine)?;
        Ok(())
    }

    fn put_conversation(&self, conversation: &Conversation) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.conversations
            .insert(conversation.key.encode()?, encode(conversation))
            .map_err(engine)?;
        Ok(())
    }

    fn conversation(&self, key: &CitizenKey) -> Result<Option<Conversation>, StoreError> {
        match self.conversations.get(key.encode()?).map_err(engine)? {
            Some(v) => decode_as(CONVERSATIONS_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn conversations(&self, comune: &str) -> Result<Vec<Conversation>, StoreError> {
        self.conversations
            .scan_prefix(comune_prefix(comune))
            .map(|item| decode_as(CONVERSATIONS_TREE, &item.map_err(engine)?.1))
            .collect()
    }

    fn sessions(&self) -> Result<Vec<(String, Session)>, StoreError> {
        self.sessions
            .iter()
            .map(|item| {
                let (k, v) = item.map_err(engine)?;
                Ok((String::from_utf8_lossy(&k).into_owned(), decode_as(SESSIONS_TREE, &v)?))
            })
            .collect()
    }

    fn put_faq_edit(&self, comune: &str, edit: &FaqEdit) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.faq_edits
            .insert(faq_edit_key(comune, &edit.id, &edit.lang)?, encode(edit))
            .map_err(engine)?;
        Ok(())
    }

    fn faq_edits(&self, comune: &str) -> Result<Vec<FaqEdit>, StoreError> {
        self.faq_edits
            .scan_prefix(comune_prefix(comune))
            .map(|item| decode_as(FAQ_EDITS_TREE, &item.map_err(engine)?.1))
            .collect()
    }

    fn put_closure(&self, comune: &str, closure: &ClosureEdit) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.closures
            .insert(closure_key(comune, &closure.date)?, encode(closure))
            .map_err(engine)?;
        Ok(())
    }

    fn closures(&self, comune: &str) -> Result<Vec<ClosureEdit>, StoreError> {
        self.closures
            .scan_prefix(comune_prefix(comune))
            .map(|item| decode_as(CLOSURES_TREE, &item.map_err(engine)?.1))
            .collect()
    }
}
