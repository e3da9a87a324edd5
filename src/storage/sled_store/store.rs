//! The [`Store`] calls on sled: each a read or write of the trees `keys.rs` documents. What
//! the trees hold and how the store opens is in the parent module.

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use super::index::{put_in, reindex, Indexable};
use super::{engine, join, tx_error, u64_key, SledStore};
use crate::storage::keys::{
    closure_key, comune_prefix, decode_delivery_key, delivery_key, faq_edit_key, ledger_index_key, stat_key,
    CitizenKey, ACCOUNTS_TREE, AUDIT_TREE, BROADCASTS_TREE, CASES_TREE, CITIZENS_TREE, CLOSURES_TREE,
    CONVERSATIONS_TREE, DELIVERIES_TREE, ERASING_TREE, FAQ_EDITS_TREE, INBOUND_TREE, LEDGER_INDEX_TREE, LEDGER_TREE,
    OUTBOX_TREE, SENT_TREE, SESSIONS_TREE,
};
use crate::storage::records::Citizen;
use crate::storage::records::{Broadcast, Delivery};
use crate::storage::{
    anonymized, decode, decode_as, done_entry, encode, Account, AuditEntry, ClosureEdit, Conversation, FaqEdit,
    InboundEntry, LedgerEntry, ModerationCase, OutboundEntry, Scrubbed, SentEntry, Session, StepEffects, Store,
    StoreError,
};

impl Store for SledStore {
    fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError> {
        match self.citizens.get(key.encode()?).map_err(engine)? {
            Some(v) => decode(CITIZENS_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError> {
        self.citizens.insert(key.encode()?, encode(citizen)).map_err(engine)?;
        Ok(())
    }

    fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError> {
        self.citizens.remove(key.encode()?).map_err(engine)?;
        Ok(())
    }

    fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        let mut out = Vec::new();
        for item in self.citizens.scan_prefix(comune_prefix(comune)) {
            let (k, v) = item.map_err(engine)?;
            let key = CitizenKey::decode(&k).ok_or(StoreError::Corrupt {
                tree: CITIZENS_TREE,
                reason: "key".into(),
            })?;
            out.push((key, decode(CITIZENS_TREE, &v)?));
        }
        Ok(out)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(engine)?;
        Ok(())
    }

    fn record_inbound(&self, dedupe: &[u8], entry: &InboundEntry) -> Result<bool, StoreError> {
        self.record_inbound_indexed(dedupe, entry)
    }

    fn pending_inbound(&self) -> Result<Vec<(Vec<u8>, InboundEntry)>, StoreError> {
        let mut out = Vec::new();
        for item in self.inbound.iter() {
            let (k, v) = item.map_err(engine)?;
            let entry: InboundEntry = decode_as(INBOUND_TREE, &v)?;
            if !entry.done {
                out.push((k.to_vec(), entry));
            }
        }
        out.sort_by_key(|(_, e)| e.received_at);
        Ok(out)
    }

    fn commit_step(
        &self,
        dedupe: Option<&[u8]>,
        key: &CitizenKey,
        citizen: Option<&Citizen>,
        outbound: &[OutboundEntry],
        effects: &StepEffects,
    ) -> Result<Vec<u64>, StoreError> {
        let citizen_key = key.encode()?;
        let new_id = || self.db.generate_id().map_err(engine);
        let ids: Vec<u64> = outbound.iter().map(|_| new_id()).collect::<Result<_, _>>()?;
        let ledger_ids: Vec<u64> = effects.ledger.iter().map(|_| new_id()).collect::<Result<_, _>>()?;
        let case_ids: Vec<u64> = effects.cases.iter().map(|_| new_id()).collect::<Result<_, _>>()?;
        let counter_keys: Vec<Vec<u8>> = effects
            .counters
            .iter()
            .map(|(month, metric)| stat_key(&key.comune, month, metric))
            .collect();
        // Only the trees this step writes take part: a transaction's cost grows with them.
        let mut trees: Vec<&sled::Tree> = vec![&self.citizens, &self.inbound, &self.outbox];
        let l = join(&mut trees, !effects.ledger.is_empty(), &self.ledger);
        let li = join(&mut trees, !effects.ledger.is_empty(), &self.ledger_index);
        let cs = join(&mut trees, !effects.cases.is_empty(), &self.cases);
        let st = join(&mut trees, !effects.counters.is_empty(), &self.stats);
        let cv = join(&mut trees, effects.wrote.is_some(), &self.conversations);
        let er = join(&mut trees, effects.erase, &self.erasing);
        // The journal entry leaves the index (done, it names nobody); replies and cases enter it.
        let indexed = dedupe.is_some() || !outbound.is_empty() || !effects.cases.is_empty();
        let x = join(&mut trees, indexed, &self.entry_index);
        let result = trees.as_slice().transaction(|t| {
            let abort = ConflictableTransactionError::Abort;
            let (c, i, o) = (&t[0], &t[1], &t[2]);
            if let Some(d) = dedupe {
                if let Some(v) = i.get(d)? {
                    let entry: InboundEntry = decode_as(INBOUND_TREE, &v).map_err(abort)?;
                    let was = entry.index_key(d);
                    let done = done_entry(entry);
                    i.insert(d, encode(&done))?;
                    reindex(&t[x], was, done.index_key(d))?;
                }
            }
            match citizen {
                Some(cz) => {
                    c.insert(citizen_key.as_slice(), encode(cz))?;
                }
                None => {
                    c.remove(citizen_key.as_slice())?;
                }
            }
            for (id, entry) in ids.iter().zip(outbound) {
                put_in(o, &t[x], &id.to_be_bytes(), entry)?;
            }
            for (id, entry) in ledger_ids.iter().zip(&effects.ledger) {
                t[l].insert(&id.to_be_bytes(), encode(entry))?;
                if let Some(k) = entry.citizen_key() {
                    t[li].insert(ledger_index_key(&k, *id), &[])?;
                }
            }
            for (id, case) in case_ids.iter().zip(&effects.cases) {
                put_in(&t[cs], &t[x], &id.to_be_bytes(), case)?;
            }
            for k in &counter_keys {
                let n = t[st]
                    .get(k)?
                    .and_then(|o| <[u8; 8]>::try_from(o.as_ref()).ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                t[st].insert(k.as_slice(), &(n + 1).to_be_bytes())?;
            }
            if let Some(wrote) = &effects.wrote {
                let existing = match t[cv].get(citizen_key.as_slice())? {
                    Some(v) => Some(decode_as(CONVERSATIONS_TREE, &v).map_err(abort)?),
                    None => None,
                };
                let conv = Conversation::after_citizen_wrote(existing, key, wrote);
                t[cv].insert(citizen_key.as_slice(), encode(&conv))?;
            }
            if effects.erase {
                t[er].insert(citizen_key.as_slice(), &[])?;
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(ids),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(engine(e)),
        }
    }

    fn unfinished_erasures(&self) -> Result<Vec<CitizenKey>, StoreError> {
        self.erasing
            .iter()
            .keys()
            .map(|k| {
                CitizenKey::decode(&k.map_err(engine)?).ok_or(StoreError::Corrupt {
                    tree: ERASING_TREE,
                    reason: "key".into(),
                })
            })
            .collect()
    }

    fn pending_outbound(&self) -> Result<Vec<(u64, OutboundEntry)>, StoreError> {
        self.scan(&self.outbox, OUTBOX_TREE, |_: &OutboundEntry| true)
    }

    fn outbound_entry(&self, id: u64) -> Result<Option<OutboundEntry>, StoreError> {
        match self.outbox.get(id.to_be_bytes()).map_err(engine)? {
            Some(v) => decode_as(OUTBOX_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn outbound_done(&self, id: u64) -> Result<(), StoreError> {
        self.outbound_done_indexed(&id.to_be_bytes())
    }

    fn mark_outbound(&self, id: u64, in_flight: bool) -> Result<Option<OutboundEntry>, StoreError> {
        let key = id.to_be_bytes();
        // Compare-and-swap: an erasure removing the entry meanwhile must not see it written
        // back, and nothing else rewrites an outbox entry, so this loops at most rarely. The
        // entry's citizen does not change, so neither does its index entry.
        loop {
            let Some(old) = self.outbox.get(key).map_err(engine)? else {
                return Ok(None);
            };
            let mut entry: OutboundEntry = decode_as(OUTBOX_TREE, &old)?;
            entry.in_flight = in_flight;
            let swapped = self
                .outbox
                .compare_and_swap(key, Some(old), Some(encode(&entry)))
                .map_err(engine)?;
            if swapped.is_ok() {
                return Ok(Some(entry));
            }
        }
    }

    fn prune_inbound(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        let mut removed = 0;
        for item in self.inbound.iter() {
            let (k, v) = item.map_err(engine)?;
            let entry: InboundEntry = decode_as(INBOUND_TREE, &v)?;
            // A processed entry names nobody, but one journalled as done (over the
            // citizen's rate limit) still does: removed with its index entry either way.
            if entry.done && entry.received_at < before && self.remove_indexed::<InboundEntry>(&k)? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn put_sent(&self, key: &[u8], entry: &SentEntry) -> Result<(), StoreError> {
        self.put_sent_indexed(key, entry)
    }

    fn sent(&self, key: &[u8]) -> Result<Option<SentEntry>, StoreError> {
        match self.sent.get(key).map_err(engine)? {
            Some(v) => decode_as(SENT_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn add_case(&self, case: &ModerationCase) -> Result<u64, StoreError> {
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
        self.put_indexed(&id.to_be_bytes(), case)
    }

    fn cases(&self, comune: &str) -> Result<Vec<(u64, ModerationCase)>, StoreError> {
        self.scan(&self.cases, CASES_TREE, |c: &ModerationCase| c.key.comune == comune)
    }

    fn append_ledger(&self, entry: &LedgerEntry) -> Result<u64, StoreError> {
        let id = self.db.generate_id().map_err(engine)?;
        let index = entry.citizen_key().map(|k| ledger_index_key(&k, id));
        (&self.ledger, &self.ledger_index)
            .transaction(|(l, x)| {
                l.insert(&id.to_be_bytes(), encode(entry))?;
                if let Some(k) = &index {
                    x.insert(k.as_slice(), &[])?;
                }
                Ok(())
            })
            .map_err(tx_error)?;
        Ok(id)
    }

    fn ledger(&self, comune: &str) -> Result<Vec<(u64, LedgerEntry)>, StoreError> {
        self.scan(&self.ledger, LEDGER_TREE, |e: &LedgerEntry| e.comune == comune)
    }

    fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        self.append(&self.audit, entry)
    }

    fn audit(&self, comune: Option<&str>) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
        self.scan(&self.audit, AUDIT_TREE, |e: &AuditEntry| {
            comune.is_none_or(|c| e.comune == c)
        })
    }

    fn scrub_citizen(&self, key: &CitizenKey, keep_outbox: bool) -> Result<Scrubbed, StoreError> {
        let mut n = Scrubbed::default();
        if self.citizens.remove(key.encode()?).map_err(engine)?.is_some() {
            n.citizen = 1;
        }
        self.conversations.remove(key.encode()?).map_err(engine)?;
        // The journal, outbox, sent and cases through their index: only this citizen's
        // entries are read.
        n.journal = self.scrub_indexed(key, |e: InboundEntry| Some(done_entry(e)))?;
        if !keep_outbox {
            n.outbox = self.scrub_indexed(key, |_: OutboundEntry| None)?;
        }
        n.sent = self.scrub_indexed(key, |_: SentEntry| None)?;
        for (id, _) in self.broadcasts(Some(&key.comune))? {
            if self
                .deliveries
                .remove(delivery_key(id, Some(&key.channel), &key.citizen))
                .map_err(engine)?
                .is_some()
            {
                n.outbox += 1;
            }
        }
        n.cases = self.scrub_indexed(key, |c: ModerationCase| Some(anonymized(c)))?;
        // The ledger through its index: only this citizen's entries are read.
        let mut prefix = key.encode()?;
        prefix.push(0);
        for item in self.ledger_index.scan_prefix(&prefix) {
            let (k, _) = item.map_err(engine)?;
            let id = u64_key(LEDGER_INDEX_TREE, &k[prefix.len()..])?;
            if let Some(v) = self.ledger.get(id.to_be_bytes()).map_err(engine)? {
                let mut entry: LedgerEntry = decode_as(LEDGER_TREE, &v)?;
                if entry.citizen.is_some() {
                    entry.citizen = None;
                    self.ledger.insert(id.to_be_bytes(), encode(&entry)).map_err(engine)?;
                    n.ledger += 1;
                }
            }
            self.ledger_index.remove(k).map_err(engine)?;
        }
        // Last: a crash before this point leaves the mark, and the scrub runs again.
        self.erasing.remove(key.encode()?).map_err(engine)?;
        Ok(n)
    }

    fn prune_sent(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        let mut removed = 0;
        for item in self.sent.iter() {
            let (k, v) = item.map_err(engine)?;
            let entry: SentEntry = decode_as(SENT_TREE, &v)?;
            if entry.sent_at < before && self.remove_indexed::<SentEntry>(&k)? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn mentions(&self, needle: &str) -> Result<Vec<String>, StoreError> {
        let needle = needle.as_bytes();
        let has = |hay: &[u8]| !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle);
        let mut found = Vec::new();
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name).map_err(engine)?;
            for item in tree.iter() {
                let (k, v) = item.map_err(engine)?;
                if has(&k) || has(&v) {
                    found.push(String::from_utf8_lossy(&name).into_owned());
                    break;
                }
            }
        }
        Ok(found)
    }

    fn bump(&self, comune: &str, month: &str, metric: &str, by: u64) -> Result<(), StoreError> {
        self.stats
            .update_and_fetch(stat_key(comune, month, metric), |old| {
                let n = old
                    .and_then(|o| <[u8; 8]>::try_from(o).ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                Some((n + by).to_be_bytes().to_vec())
            })
            .map_err(engine)?;
        Ok(())
    }

    fn counters(&self, comune: &str) -> Result<Vec<(String, String, u64)>, StoreError> {
        let mut out = Vec::new();
        for item in self.stats.scan_prefix(comune_prefix(comune)) {
            let (k, v) = item.map_err(engine)?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let mut parts = key.splitn(3, '\0').skip(1);
            let (Some(month), Some(metric)) = (parts.next(), parts.next()) else {
                continue;
            };
            let n = <[u8; 8]>::try_from(v.as_ref()).map(u64::from_be_bytes).unwrap_or(0);
            out.push((month.to_string(), metric.to_string(), n));
        }
        Ok(out)
    }

    fn put_account(&self, account: &Account) -> Result<(), StoreError> {
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
        self.accounts.remove(email.to_lowercase()).map_err(engine)?;
        Ok(())
    }

    fn put_session(&self, token_sha256: &str, session: &Session) -> Result<(), StoreError> {
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
        self.sessions.remove(token_sha256).map_err(engine)?;
        Ok(())
    }

    fn put_conversation(&self, conversation: &Conversation) -> Result<(), StoreError> {
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
        self.faq_edits
            .insert(faq_edit_key(comune, &edit.id, &edit.lang)?, encode(edit))
            .map_err(engine)?;
        Ok(())
    }

    fn citizens_page(
        &self,
        comune: &str,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        let prefix = comune_prefix(comune);
        let start = match after {
            Some(k) => std::ops::Bound::Excluded(k.encode()?),
            None => std::ops::Bound::Included(prefix.clone()),
        };
        let mut out = Vec::new();
        for item in self.citizens.range((start, std::ops::Bound::Unbounded)) {
            let (k, v) = item.map_err(engine)?;
            if !k.starts_with(&prefix) || out.len() >= limit {
                break;
            }
            let key = CitizenKey::decode(&k).ok_or(StoreError::Corrupt {
                tree: CITIZENS_TREE,
                reason: "key".into(),
            })?;
            out.push((key, decode(CITIZENS_TREE, &v)?));
        }
        Ok(out)
    }

    fn add_broadcast(&self, broadcast: &Broadcast) -> Result<u64, StoreError> {
        self.append(&self.broadcasts, broadcast)
    }

    fn put_broadcast(&self, id: u64, broadcast: &Broadcast) -> Result<(), StoreError> {
        self.broadcasts
            .insert(id.to_be_bytes(), encode(broadcast))
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

    fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError> {
        match self.broadcasts.get(id.to_be_bytes()).map_err(engine)? {
            Some(v) => decode_as(BROADCASTS_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn broadcasts(&self, comune: Option<&str>) -> Result<Vec<(u64, Broadcast)>, StoreError> {
        self.scan(&self.broadcasts, BROADCASTS_TREE, |b: &Broadcast| {
            comune.is_none_or(|c| b.comune == c)
        })
    }

    fn put_deliveries(&self, id: u64, entries: &[(CitizenKey, Delivery)]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, d) in entries {
            key.encode()?;
            batch.insert(delivery_key(id, Some(&key.channel), &key.citizen), encode(d));
        }
        self.deliveries.apply_batch(batch).map_err(engine)
    }

    fn delivery(&self, id: u64, key: &CitizenKey) -> Result<Option<Delivery>, StoreError> {
        match self
            .deliveries
            .get(delivery_key(id, Some(&key.channel), &key.citizen))
            .map_err(engine)?
        {
            Some(v) => decode_as(DELIVERIES_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn deliveries(
        &self,
        id: u64,
        comune: &str,
        channel: Option<&str>,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Delivery)>, StoreError> {
        let prefix = delivery_key(id, channel, "");
        let start = match after {
            Some(k) => std::ops::Bound::Excluded(delivery_key(id, Some(&k.channel), &k.citizen)),
            None => std::ops::Bound::Included(prefix.clone()),
        };
        let mut out = Vec::new();
        for item in self.deliveries.range((start, std::ops::Bound::Unbounded)) {
            let (k, v) = item.map_err(engine)?;
            if !k.starts_with(&prefix) || out.len() >= limit {
                break;
            }
            let (_, channel, citizen) = decode_delivery_key(&k).ok_or(StoreError::Corrupt {
                tree: DELIVERIES_TREE,
                reason: "key".into(),
            })?;
            out.push((
                CitizenKey::new(comune, &channel, &citizen),
                decode_as(DELIVERIES_TREE, &v)?,
            ));
        }
        Ok(out)
    }
}
