//! An in-memory backend: for tests and for benchmarking the engine without disk. Nothing
//! survives the process; `flush` does nothing.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::keys::CitizenKey;
use super::{
    anonymized, done_entry, Account, AuditEntry, ClosureEdit, Conversation, FaqEdit, InboundEntry, LedgerEntry,
    ModerationCase, OutboundEntry, Scrubbed, SentEntry, Session, StepEffects, Store, StoreError,
};
use crate::storage::records::Citizen;
use crate::storage::records::{Broadcast, Delivery};

/// Citizens in a `BTreeMap` behind one mutex: contention is not a concern for its uses.
#[derive(Default)]
pub struct MemoryStore {
    citizens: Mutex<BTreeMap<CitizenKey, Citizen>>,
    // One lock for the journal and the outbox so `commit_step` is atomic with `citizens`
    // taken first (always in that order: no deadlock).
    queues: Mutex<Queues>,
}

#[derive(Default)]
struct Queues {
    inbound: BTreeMap<Vec<u8>, InboundEntry>,
    outbox: BTreeMap<u64, OutboundEntry>,
    sent: BTreeMap<Vec<u8>, SentEntry>,
    cases: BTreeMap<u64, ModerationCase>,
    ledger: BTreeMap<u64, LedgerEntry>,
    audit: BTreeMap<u64, AuditEntry>,
    stats: BTreeMap<(String, String, String), u64>,
    accounts: BTreeMap<String, Account>,
    sessions: BTreeMap<String, Session>,
    conversations: BTreeMap<CitizenKey, Conversation>,
    erasing: std::collections::BTreeSet<CitizenKey>,
    /// By (comune, entry id, language), as `keys::faq_edit_key` orders them.
    faq_edits: BTreeMap<(String, String, String), FaqEdit>,
    /// By (comune, day).
    closures: BTreeMap<(String, String), ClosureEdit>,
    broadcasts: BTreeMap<u64, Broadcast>,
    /// (broadcast id, channel, citizen): the order of sled's keys.
    deliveries: BTreeMap<(u64, String, String), Delivery>,
    next_id: u64,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<CitizenKey, Citizen>> {
        // A panic while holding the lock cannot leave a half-written record: take the data.
        self.citizens.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn queues(&self) -> std::sync::MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
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
        Ok(self
            .lock()
            .iter()
            .filter(|(k, _)| k.comune == comune)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
    fn record_inbound(&self, dedupe: &[u8], entry: &InboundEntry) -> Result<bool, StoreError> {
        let mut q = self.queues();
        if q.inbound.contains_key(dedupe) {
            return Ok(false);
        }
        q.inbound.insert(dedupe.to_vec(), entry.clone());
        Ok(true)
    }
    fn pending_inbound(&self) -> Result<Vec<(Vec<u8>, InboundEntry)>, StoreError> {
        let mut v: Vec<_> = self
            .queues()
            .inbound
            .iter()
            .filter(|(_, e)| !e.done)
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        v.sort_by_key(|(_, e)| e.received_at);
        Ok(v)
    }
    fn commit_step(
        &self,
        dedupe: Option<&[u8]>,
        key: &CitizenKey,
        citizen: Option<&Citizen>,
        outbound: &[OutboundEntry],
        effects: &StepEffects,
    ) -> Result<Vec<u64>, StoreError> {
        key.encode()?;
        let mut citizens = self.lock();
        let mut q = self.queues();
        for entry in &effects.ledger {
            q.next_id += 1;
            let id = q.next_id;
            q.ledger.insert(id, entry.clone());
        }
        for case in &effects.cases {
            q.next_id += 1;
            let id = q.next_id;
            q.cases.insert(id, case.clone());
        }
        for (month, metric) in &effects.counters {
            *q.stats
                .entry((key.comune.clone(), month.clone(), metric.clone()))
                .or_default() += 1;
        }
        if let Some(wrote) = &effects.wrote {
            let conv = Conversation::after_citizen_wrote(q.conversations.remove(key), key, wrote);
            q.conversations.insert(key.clone(), conv);
        }
        if effects.erase {
            q.erasing.insert(key.clone());
        }
        if let Some(d) = dedupe {
            if let Some(e) = q.inbound.remove(d) {
                q.inbound.insert(d.to_vec(), done_entry(e));
            }
        }
        match citizen {
            Some(c) => citizens.insert(key.clone(), c.clone()),
            None => citizens.remove(key),
        };
        let mut ids = Vec::new();
        for entry in outbound {
            q.next_id += 1;
            let id = q.next_id;
            q.outbox.insert(id, entry.clone());
            ids.push(id);
        }
        Ok(ids)
    }
    fn unfinished_erasures(&self) -> Result<Vec<CitizenKey>, StoreError> {
        Ok(self.queues().erasing.iter().cloned().collect())
    }
    fn pending_outbound(&self) -> Result<Vec<(u64, OutboundEntry)>, StoreError> {
        Ok(self.queues().outbox.iter().map(|(k, v)| (*k, v.clone())).collect())
    }
    fn outbound_entry(&self, id: u64) -> Result<Option<OutboundEntry>, StoreError> {
        Ok(self.queues().outbox.get(&id).cloned())
    }
    fn outbound_done(&self, id: u64) -> Result<(), StoreError> {
        self.queues().outbox.remove(&id);
        Ok(())
    }
    fn mark_outbound(&self, id: u64, in_flight: bool) -> Result<Option<OutboundEntry>, StoreError> {
        Ok(self.queues().outbox.get_mut(&id).map(|e| {
            e.in_flight = in_flight;
            e.clone()
        }))
    }
    fn prune_inbound(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        let mut q = self.queues();
        let n = q.inbound.len();
        q.inbound.retain(|_, e| !(e.done && e.received_at < before));
        Ok(n - q.inbound.len())
    }
    fn put_sent(&self, key: &[u8], entry: &SentEntry) -> Result<(), StoreError> {
        self.queues().sent.insert(key.to_vec(), entry.clone());
        Ok(())
    }
    fn sent(&self, key: &[u8]) -> Result<Option<SentEntry>, StoreError> {
        Ok(self.queues().sent.get(key).cloned())
    }
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
    fn append_ledger(&self, entry: &LedgerEntry) -> Result<u64, StoreError> {
        let mut q = self.queues();
        q.next_id += 1;
        let id = q.next_id;
        q.ledger.insert(id, entry.clone());
        Ok(id)
    }
    fn ledger(&self, comune: &str) -> Result<Vec<(u64, LedgerEntry)>, StoreError> {
        Ok(self
            .queues()
            .ledger
            .iter()
            .filter(|(_, e)| e.comune == comune)
            .map(|(k, v)| (*k, v.clone()))
            .collect())
    }
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
    fn scrub_citizen(&self, key: &CitizenKey, keep_outbox: bool) -> Result<Scrubbed, StoreError> {
        let mut n = Scrubbed::default();
        if self.lock().remove(key).is_some() {
            n.citizen = 1;
        }
        let mut q = self.queues();
        q.conversations.remove(key);
        q.erasing.remove(key);
        for e in q.inbound.values_mut().filter(|e| &e.key == key) {
            *e = done_entry(e.clone());
            n.journal += 1;
        }
        if !keep_outbox {
            let before = q.outbox.len();
            q.outbox.retain(|_, e| &e.key != key);
            n.outbox = before - q.outbox.len();
        }
        let ids: Vec<u64> = q
            .broadcasts
            .iter()
            .filter(|(_, b)| b.comune == key.comune)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if q.deliveries
                .remove(&(id, key.channel.clone(), key.citizen.clone()))
                .is_some()
            {
                n.outbox += 1;
            }
        }
        let before = q.sent.len();
        q.sent.retain(|_, e| &e.key != key);
        n.sent = before - q.sent.len();
        for c in q.cases.values_mut().filter(|c| &c.key == key) {
            *c = anonymized(c.clone());
            n.cases += 1;
        }
        for e in q.ledger.values_mut() {
            if e.comune == key.comune && e.channel == key.channel && e.citizen.as_deref() == Some(&key.citizen) {
                e.citizen = None;
                n.ledger += 1;
            }
        }
        Ok(n)
    }
    fn prune_sent(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        let mut q = self.queues();
        let n = q.sent.len();
        q.sent.retain(|_, e| e.sent_at >= before);
        Ok(n - q.sent.len())
    }
    fn mentions(&self, needle: &str) -> Result<Vec<String>, StoreError> {
        // The same check as sled's, over the values' stored (JSON) form.
        fn any<T: serde::Serialize>(values: impl IntoIterator<Item = T>, needle: &str) -> bool {
            values
                .into_iter()
                .any(|v| serde_json::to_string(&v).unwrap_or_default().contains(needle))
        }
        let mut found = Vec::new();
        if any(self.lock().iter().map(|(k, v)| (k.citizen.clone(), v.clone())), needle) {
            found.push("citizens".to_string());
        }
        let q = self.queues();
        let trees = [
            ("inbound", any(q.inbound.values(), needle)),
            ("outbox", any(q.outbox.values(), needle)),
            ("sent", any(q.sent.values(), needle)),
            ("cases", any(q.cases.values(), needle)),
            ("ledger", any(q.ledger.values(), needle)),
            ("audit", any(q.audit.values(), needle)),
            ("broadcasts", any(q.broadcasts.values(), needle)),
            ("deliveries", any(q.deliveries.keys(), needle)),
        ];
        found.extend(
            trees
                .into_iter()
                .filter(|(_, hit)| *hit)
                .map(|(name, _)| name.to_string()),
        );
        Ok(found)
    }
    fn bump(&self, comune: &str, month: &str, metric: &str, by: u64) -> Result<(), StoreError> {
        *self
            .queues()
            .stats
            .entry((comune.into(), month.into(), metric.into()))
            .or_default() += by;
        Ok(())
    }
    fn counters(&self, comune: &str) -> Result<Vec<(String, String, u64)>, StoreError> {
        Ok(self
            .queues()
            .stats
            .iter()
            .filter(|((c, _, _), _)| c == comune)
            .map(|((_, m, k), v)| (m.clone(), k.clone(), *v))
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
        super::keys::faq_edit_key(comune, &edit.id, &edit.lang)?;
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
        super::keys::closure_key(comune, &closure.date)?;
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

    fn citizens_page(
        &self,
        comune: &str,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        use std::ops::Bound;
        let start = match after {
            Some(k) => Bound::Excluded(k.clone()),
            None => Bound::Included(CitizenKey::new(comune, "", "")),
        };
        Ok(self
            .lock()
            .range((start, Bound::Unbounded))
            .take_while(|(k, _)| k.comune == comune)
            .take(limit)
            .map(|(k, c)| (k.clone(), c.clone()))
            .collect())
    }
    fn add_broadcast(&self, broadcast: &Broadcast) -> Result<u64, StoreError> {
        let mut q = self.queues();
        q.next_id += 1;
        let id = q.next_id;
        q.broadcasts.insert(id, broadcast.clone());
        Ok(id)
    }
    fn put_broadcast(&self, id: u64, broadcast: &Broadcast) -> Result<(), StoreError> {
        self.queues().broadcasts.insert(id, broadcast.clone());
        Ok(())
    }
    fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError> {
        Ok(self.queues().broadcasts.get(&id).cloned())
    }
    fn broadcasts(&self, comune: Option<&str>) -> Result<Vec<(u64, Broadcast)>, StoreError> {
        Ok(self
            .queues()
            .broadcasts
            .iter()
            .filter(|(_, b)| comune.is_none_or(|c| b.comune == c))
            .map(|(id, b)| (*id, b.clone()))
            .collect())
    }
    fn put_deliveries(&self, id: u64, entries: &[(CitizenKey, Delivery)]) -> Result<(), StoreError> {
        for (key, _) in entries {
            key.encode()?;
        }
        let mut q = self.queues();
        for (key, d) in entries {
            q.deliveries
                .insert((id, key.channel.clone(), key.citizen.clone()), d.clone());
        }
        Ok(())
    }
    fn delivery(&self, id: u64, key: &CitizenKey) -> Result<Option<Delivery>, StoreError> {
        Ok(self
            .queues()
            .deliveries
            .get(&(id, key.channel.clone(), key.citizen.clone()))
            .cloned())
    }
    fn deliveries(
        &self,
        id: u64,
        comune: &str,
        channel: Option<&str>,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Delivery)>, StoreError> {
        use std::ops::Bound;
        let start = match after {
            Some(k) => Bound::Excluded((id, k.channel.clone(), k.citizen.clone())),
            None => Bound::Included((id, channel.unwrap_or_default().to_string(), String::new())),
        };
        Ok(self
            .queues()
            .deliveries
            .range((start, Bound::Unbounded))
            .take_while(|((i, ch, _), _)| *i == id && channel.is_none_or(|c| c == ch))
            .take(limit)
            .map(|((_, ch, cz), d)| (CitizenKey::new(comune, ch, cz), d.clone()))
            .collect())
    }
}
