//! `JournalStore` on sled: the inbound journal, the reply outbox, sent records and the step commit.

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use super::index::{put_in, reindex, Indexable};
use super::{engine, join, SledStore};
use crate::storage::keys::{
    ledger_index_key, stat_key, CitizenKey, CONVERSATIONS_TREE, INBOUND_TREE, OUTBOX_TREE, SENT_TREE,
};
use crate::storage::records::Citizen;
use crate::storage::JournalStore;
use crate::storage::{
    decode_as, done_entry, encode, Conversation, InboundEntry, OutboundEntry, SentEntry, StepEffects, StoreError,
};

impl JournalStore for SledStore {
    fn record_inbound(&self, dedupe: &[u8], entry: &InboundEntry) -> Result<bool, StoreError> {
        let _writing = self.writing();
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
        let _writing = self.writing();
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

    fn pending_outbound(&self) -> Result<Vec<(u64, OutboundEntry)>, StoreError> {
        self.scan(&self.outbox, OUTBOX_TREE, |_: &OutboundEntry| true)
    }

    fn outbound_entry(&self, id: u64) -> Result<Option<OutboundEntry>, StoreError> {
        match self.outbox.get(id.to_be_bytes()).map_err(engine)? {
            Some(v) => decode_as(OUTBOX_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn has_pending_outbound(&self, key: &CitizenKey) -> Result<bool, StoreError> {
        let prefix = crate::storage::keys::entry_index_prefix(&key.encode()?, crate::storage::keys::Indexed::Outbox);
        Ok(self
            .entry_index
            .scan_prefix(prefix)
            .next()
            .transpose()
            .map_err(engine)?
            .is_some())
    }

    fn outbound_done(&self, id: u64) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.outbound_done_indexed(&id.to_be_bytes())
    }

    fn mark_outbound(&self, id: u64, in_flight: bool) -> Result<Option<OutboundEntry>, StoreError> {
        let _writing = self.writing();
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
        let _writing = self.writing();
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
        let _writing = self.writing();
        self.put_sent_indexed(key, entry)
    }

    fn sent(&self, key: &[u8]) -> Result<Option<SentEntry>, StoreError> {
        match self.sent.get(key).map_err(engine)? {
            Some(v) => decode_as(SENT_TREE, &v).map(Some),
            None => Ok(None),
        }
    }

    fn prune_sent(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        let _writing = self.writing();
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
}
