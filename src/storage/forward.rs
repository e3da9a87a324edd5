//! `forward_store!`: the area traits (`CitizenStore`, `JournalStore`, …) of a wrapper that
//! passes every call to a store it holds, reads directly and writes through one of its own
//! methods (a gate, or nothing). `Store::flush` is left to the wrapper: it is what the
//! wrappers exist to change.
//!
//! Use beside `impl Store for Wrapper { fn flush … }` as
//! `forward_store!([generics] Wrapper, inner_field, write_method);` where
//! `fn write_method<T>(&self, f: impl FnOnce(&Inner) -> T) -> T` runs a write.

macro_rules! forward_store {
    ([$($g:tt)*] $ty:ty, $inner:ident, $write:ident) => {
        impl<$($g)*> $crate::storage::CitizenStore for $ty {
        fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError> {
            self.$inner.citizen(key)
        }
        fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError> {
            self.$write(|s| s.put_citizen(key, citizen))
        }
        fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError> {
            self.$write(|s| s.remove_citizen(key))
        }
        fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
            self.$inner.citizens(comune)
        }
        fn unfinished_erasures(&self) -> Result<Vec<CitizenKey>, StoreError> {
            self.$inner.unfinished_erasures()
        }
        fn append_ledger(&self, entry: &LedgerEntry) -> Result<u64, StoreError> {
            self.$write(|s| s.append_ledger(entry))
        }
        fn ledger(&self, comune: &str) -> Result<Vec<(u64, LedgerEntry)>, StoreError> {
            self.$inner.ledger(comune)
        }
        fn scrub_citizen(&self, key: &CitizenKey, keep_outbox: bool) -> Result<Scrubbed, StoreError> {
            self.$write(|s| s.scrub_citizen(key, keep_outbox))
        }
        fn mentions(&self, needle: &str) -> Result<Vec<String>, StoreError> {
            self.$inner.mentions(needle)
        }
        fn bump(&self, comune: &str, month: &str, metric: &str, by: u64) -> Result<(), StoreError> {
            self.$write(|s| s.bump(comune, month, metric, by))
        }
        fn counters(&self, comune: &str) -> Result<Vec<(String, String, u64)>, StoreError> {
            self.$inner.counters(comune)
        }
        fn citizens_page(
            &self,
            comune: &str,
            after: Option<&CitizenKey>,
            limit: usize,
        ) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
            self.$inner.citizens_page(comune, after, limit)
        }
        }

        impl<$($g)*> $crate::storage::JournalStore for $ty {
        fn record_inbound(&self, dedupe: &[u8], entry: &InboundEntry) -> Result<bool, StoreError> {
            self.$write(|s| s.record_inbound(dedupe, entry))
        }
        fn pending_inbound(&self) -> Result<Vec<(Vec<u8>, InboundEntry)>, StoreError> {
            self.$inner.pending_inbound()
        }
        fn commit_step(
            &self,
            dedupe: Option<&[u8]>,
            key: &CitizenKey,
            citizen: Option<&Citizen>,
            outbound: &[OutboundEntry],
            effects: &StepEffects,
        ) -> Result<Vec<u64>, StoreError> {
            self.$write(|s| s.commit_step(dedupe, key, citizen, outbound, effects))
        }
        fn pending_outbound(&self) -> Result<Vec<(u64, OutboundEntry)>, StoreError> {
            self.$inner.pending_outbound()
        }
        fn outbound_entry(&self, id: u64) -> Result<Option<OutboundEntry>, StoreError> {
            self.$inner.outbound_entry(id)
        }
        fn outbound_done(&self, id: u64) -> Result<(), StoreError> {
            self.$write(|s| s.outbound_done(id))
        }
        fn mark_outbound(&self, id: u64, in_flight: bool) -> Result<Option<OutboundEntry>, StoreError> {
            self.$write(|s| s.mark_outbound(id, in_flight))
        }
        fn prune_inbound(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
            self.$write(|s| s.prune_inbound(before))
        }
        fn put_sent(&self, key: &[u8], entry: &SentEntry) -> Result<(), StoreError> {
            self.$write(|s| s.put_sent(key, entry))
        }
        fn sent(&self, key: &[u8]) -> Result<Option<SentEntry>, StoreError> {
            self.$inner.sent(key)
        }
        fn prune_sent(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
            self.$write(|s| s.prune_sent(before))
        }
        }

        impl<$($g)*> $crate::storage::CaseStore for $ty {
        fn add_case(&self, case: &ModerationCase) -> Result<u64, StoreError> {
            self.$write(|s| s.add_case(case))
        }
        fn case(&self, id: u64) -> Result<Option<ModerationCase>, StoreError> {
            self.$inner.case(id)
        }
        fn put_case(&self, id: u64, case: &ModerationCase) -> Result<(), StoreError> {
            self.$write(|s| s.put_case(id, case))
        }
        fn cases(&self, comune: &str) -> Result<Vec<(u64, ModerationCase)>, StoreError> {
            self.$inner.cases(comune)
        }
        }

        impl<$($g)*> $crate::storage::StaffStore for $ty {
        fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
            self.$write(|s| s.append_audit(entry))
        }
        fn audit(&self, comune: Option<&str>) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
            self.$inner.audit(comune)
        }
        fn put_account(&self, account: &Account) -> Result<(), StoreError> {
            self.$write(|s| s.put_account(account))
        }
        fn account(&self, email: &str) -> Result<Option<Account>, StoreError> {
            self.$inner.account(email)
        }
        fn accounts(&self) -> Result<Vec<Account>, StoreError> {
            self.$inner.accounts()
        }
        fn remove_account(&self, email: &str) -> Result<(), StoreError> {
            self.$write(|s| s.remove_account(email))
        }
        fn put_session(&self, token_sha256: &str, session: &Session) -> Result<(), StoreError> {
            self.$write(|s| s.put_session(token_sha256, session))
        }
        fn session(&self, token_sha256: &str) -> Result<Option<Session>, StoreError> {
            self.$inner.session(token_sha256)
        }
        fn remove_session(&self, token_sha256: &str) -> Result<(), StoreError> {
            self.$write(|s| s.remove_session(token_sha256))
        }
        fn put_conversation(&self, conversation: &Conversation) -> Result<(), StoreError> {
            self.$write(|s| s.put_conversation(conversation))
        }
        fn conversation(&self, key: &CitizenKey) -> Result<Option<Conversation>, StoreError> {
            self.$inner.conversation(key)
        }
        fn conversations(&self, comune: &str) -> Result<Vec<Conversation>, StoreError> {
            self.$inner.conversations(comune)
        }
        fn sessions(&self) -> Result<Vec<(String, Session)>, StoreError> {
            self.$inner.sessions()
        }
        fn put_faq_edit(&self, comune: &str, edit: &FaqEdit) -> Result<(), StoreError> {
            self.$write(|s| s.put_faq_edit(comune, edit))
        }
        fn faq_edits(&self, comune: &str) -> Result<Vec<FaqEdit>, StoreError> {
            self.$inner.faq_edits(comune)
        }
        fn put_closure(&self, comune: &str, closure: &ClosureEdit) -> Result<(), StoreError> {
            self.$write(|s| s.put_closure(comune, closure))
        }
        fn closures(&self, comune: &str) -> Result<Vec<ClosureEdit>, StoreError> {
            self.$inner.closures(comune)
        }
        }

        impl<$($g)*> $crate::storage::BroadcastStore for $ty {
        fn add_broadcast(&self, broadcast: &crate::storage::records::Broadcast) -> Result<u64, StoreError> {
            self.$write(|s| s.add_broadcast(broadcast))
        }
        fn put_broadcast(&self, id: u64, broadcast: &crate::storage::records::Broadcast) -> Result<(), StoreError> {
            self.$write(|s| s.put_broadcast(id, broadcast))
        }
        fn broadcast(&self, id: u64) -> Result<Option<crate::storage::records::Broadcast>, StoreError> {
            self.$inner.broadcast(id)
        }
        fn broadcasts(
            &self,
            comune: Option<&str>,
        ) -> Result<Vec<(u64, crate::storage::records::Broadcast)>, StoreError> {
            self.$inner.broadcasts(comune)
        }
        fn put_deliveries(
            &self,
            id: u64,
            entries: &[(CitizenKey, crate::storage::records::Delivery)],
        ) -> Result<(), StoreError> {
            self.$write(|s| s.put_deliveries(id, entries))
        }
        fn delivery(&self, id: u64, key: &CitizenKey) -> Result<Option<crate::storage::records::Delivery>, StoreError> {
            self.$inner.delivery(id, key)
        }
        fn deliveries(
            &self,
            id: u64,
            comune: &str,
            channel: Option<&str>,
            after: Option<&CitizenKey>,
            limit: usize,
        ) -> Result<Vec<(CitizenKey, crate::storage::records::Delivery)>, StoreError> {
            self.$inner.deliveries(id, comune, channel, after, limit)
        }
        }
    };
}

pub(crate) use forward_store;
