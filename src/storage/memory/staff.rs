//! `StaffStore` in memory: staff accounts and sessions, conversations, the audit log, FAQ and closure edits.

use super::MemoryStore;
use crate::storage::keys::CitizenKey;
use crate::storage::StaffStore;
use crate::storage::{Account, AuditEntry, ClosureEdit, Conversation, FaqEdit, Session, StoreError};

impl StaffStore for MemoryStore {
    fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        let mut q = self.queues();
        q.next_id += 1;
        let id = q.next_id;
        q.audit.insert(id, entry.clone());
        Ok(id)
    }

    fn audit(&self, comune: Option<&str>) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
        Ok(self
            .queues()
            .audit
            .iter()
            .filter(|(_, e)| comune.is_none_or(|c| e.comune == c))
            .map(|(k, v)| (*k, v.clone()))
            .collect())
    }

    fn put_account(&self, account: &Account) -> Result<(), StoreError> {
        self.queues()
            .accounts
            .insert(account.email.to_lowercase(), account.clone());
        Ok(())
    }

    fn account(&self, email: &str) -> Result<Option<Account>, StoreError> {
        Ok(self.queues().accounts.get(&email.to_lowercase()).cloned())
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        Ok(self.queues().accounts.values().cloned().collect())
    }

    fn remove_account(&self, email: &str) -> Result<(), StoreError> {
        self.queues().accounts.remove(&email.to_lowercase());
        Ok(())
    }

    fn put_session(&self, token_sha256: &str, session: &Session) -> Result<(), StoreError> {
        self.queues().sessions.insert(token_sha256.to_string(), session.clone());
        Ok(())
    }

    fn session(&self, token_sha256: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.queues().sessions.get(token_sha256).cloned())
    }

    fn remove_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        self.queues().sessions.remove(token_sha256);
        Ok(())
    }

    fn put_conversation(&self, conversation: &Conversation) -> Result<(), StoreError> {
        self.queues()
            .conversations
            .insert(conversation.key.clone(), conversation.clone());
        Ok(())
    }

    fn conversation(&self, key: &CitizenKey) -> Result<Option<Conversation>, StoreError> {
        Ok(self.queues().conversations.get(key).cloned())
    }

    fn conversations(&self, comune: &str) -> Result<Vec<Conversation>, StoreError> {
        Ok(self
            .queues()
            .conversations
            .values()
            .filter(|c| c.key.comune == comune)
            .cloned()
            .collect())
    }

    fn sessions(&self) -> Result<Vec<(String, Session)>, StoreError> {
        Ok(self
            .queues()
            .sessions
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn put_faq_edit(&self, comune: &str, edit: &FaqEdit) -> Result<(), StoreError> {
        crate::storage::keys::faq_edit_key(comune, &edit.id, &edit.lang)?;
        self.queues()
            .faq_edits
            .insert((comune.into(), edit.id.clone(), edit.lang.clone()), edit.clone());
        Ok(())
    }

    fn faq_edits(&self, comune: &str) -> Result<Vec<FaqEdit>, StoreError> {
        Ok(self
            .queues()
            .faq_edits
            .iter()
            .filter(|((c, _, _), _)| c == comune)
            .map(|(_, e)| e.clone())
            .collect())
    }

    fn put_closure(&self, comune: &str, closure: &ClosureEdit) -> Result<(), StoreError> {
        crate::storage::keys::closure_key(comune, &closure.date)?;
        self.queues()
            .closures
            .insert((comune.into(), closure.date.clone()), closure.clone());
        Ok(())
    }

    fn closures(&self, comune: &str) -> Result<Vec<ClosureEdit>, StoreError> {
        Ok(self
            .queues()
            .closures
            .iter()
            .filter(|((c, _), _)| c == comune)
            .map(|(_, e)| e.clone())
            .collect())
    }
}
