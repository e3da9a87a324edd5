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
    decode_as, done_entry, encode, Conversation, InboundEntry, OutboundEntry, SentEntry, StepEffects, StepWrite,
    StoreError,
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
        let step = Parts {
            dedupe,
            key,
            citizen,
            outbound,
            effects,
        };
        Ok(self.commit_together(&[step])?.pop().unwrap_or_default())
    }

    /// One transaction for every step (each transaction writes sled's I/O buffer out twice,
    /// which was most of a message's cost on the server's path). If it fails, each step is
    /// tried alone, so that one step's error is its own.
    fn commit_steps(&self, steps: &[&StepWrite]) -> Vec<Result<Vec<u64>, StoreError>> {
        let _writing = self.writing();
        let parts: Vec<Parts> = steps.iter().map(|s| Parts::of(s)).collect();
        if parts.len() > 1 {
            if let Ok(ids) = self.commit_together(&parts) {
                return ids.into_iter().map(Ok).collect();
            }
        }
        parts
            .iter()
            .map(|p| Ok(self.commit_together(std::slice::from_ref(p))?.pop().unwrap_or_default()))
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

/// One step's writes, borrowed.
struct Parts<'a> {
    dedupe: Option<&'a [u8]>,
    key: &'a CitizenKey,
    citizen: Option<&'a Citizen>,
    outbound: &'a [OutboundEntry],
    effects: &'a StepEffects,
}

impl<'a> Parts<'a> {
    fn of(w: &'a StepWrite) -> Parts<'a> {
        Parts {
            dedupe: w.dedupe.as_deref(),
            key: &w.key,
            citizen: w.citizen.as_ref(),
            outbound: &w.outbound,
            effects: &w.effects,
        }
    }
}

/// A step's writes with what is drawn before the transaction: its key and its ids.
struct Drawn<'a> {
    step: &'a Parts<'a>,
    citizen_key: Vec<u8>,
    ids: Vec<u64>,
    ledger_ids: Vec<u64>,
    case_ids: Vec<u64>,
    counter_keys: Vec<Vec<u8>>,
}

/// Where each optional tree sits in the transaction's list (the first three always take
/// part: citizens, inbound, outbox).
struct Places {
    l: usize,
    li: usize,
    cs: usize,
    st: usize,
    cv: usize,
    er: usize,
    x: usize,
}

impl SledStore {
    /// The steps in one sled transaction, one after another (a later step reads what an
    /// earlier one wrote, as if committed in turn); the outbox ids of each.
    fn commit_together(&self, steps: &[Parts]) -> Result<Vec<Vec<u64>>, StoreError> {
        let new_id = || self.db.generate_id().map_err(engine);
        let ids = |n: usize| (0..n).map(|_| new_id()).collect::<Result<Vec<_>, _>>();
        let drawn: Vec<Drawn> = steps
            .iter()
            .map(|step| {
                Ok(Drawn {
                    step,
                    citizen_key: step.key.encode()?,
                    ids: ids(step.outbound.len())?,
                    ledger_ids: ids(step.effects.ledger.len())?,
                    case_ids: ids(step.effects.cases.len())?,
                    counter_keys: step
                        .effects
                        .counters
                        .iter()
                        .map(|(month, metric)| stat_key(&step.key.comune, month, metric))
                        .collect(),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let any = |f: &dyn Fn(&Parts) -> bool| steps.iter().any(f);
        // Only the trees the steps write take part: a transaction's cost grows with them.
        let mut trees: Vec<&sled::Tree> = vec![&self.citizens, &self.inbound, &self.outbox];
        let ledger = any(&|s| !s.effects.ledger.is_empty());
        let places = Places {
            l: join(&mut trees, ledger, &self.ledger),
            li: join(&mut trees, ledger, &self.ledger_index),
            cs: join(&mut trees, any(&|s| !s.effects.cases.is_empty()), &self.cases),
            st: join(&mut trees, any(&|s| !s.effects.counters.is_empty()), &self.stats),
            cv: join(&mut trees, any(&|s| s.effects.wrote.is_some()), &self.conversations),
            er: join(&mut trees, any(&|s| s.effects.erase), &self.erasing),
            // The journal entry leaves the index (done, it names nobody); replies and cases
            // enter it.
            x: join(
                &mut trees,
                any(&|s| s.dedupe.is_some() || !s.outbound.is_empty() || !s.effects.cases.is_empty()),
                &self.entry_index,
            ),
        };
        let result = trees.as_slice().transaction(|t| {
            for d in &drawn {
                write_step(t, &places, d)?;
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(drawn.into_iter().map(|d| d.ids).collect()),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(engine(e)),
        }
    }
}

/// Inside the transaction: one step's writes.
fn write_step(
    t: &[sled::transaction::TransactionalTree],
    at: &Places,
    d: &Drawn,
) -> Result<(), ConflictableTransactionError<StoreError>> {
    let abort = ConflictableTransactionError::Abort;
    let (c, i, o) = (&t[0], &t[1], &t[2]);
    let (step, citizen_key) = (d.step, d.citizen_key.as_slice());
    let effects = step.effects;
    if let Some(dd) = step.dedupe {
        if let Some(v) = i.get(dd)? {
            let entry: InboundEntry = decode_as(INBOUND_TREE, &v).map_err(abort)?;
            let was = entry.index_key(dd);
            let done = done_entry(entry);
            i.insert(dd, encode(&done))?;
            reindex(&t[at.x], was, done.index_key(dd))?;
        }
    }
    match step.citizen {
        Some(cz) => {
            c.insert(citizen_key, encode(cz))?;
        }
        None => {
            c.remove(citizen_key)?;
        }
    }
    for (id, entry) in d.ids.iter().zip(step.outbound) {
        put_in(o, &t[at.x], &id.to_be_bytes(), entry)?;
    }
    for (id, entry) in d.ledger_ids.iter().zip(&effects.ledger) {
        t[at.l].insert(&id.to_be_bytes(), encode(entry))?;
        if let Some(k) = entry.citizen_key() {
            t[at.li].insert(ledger_index_key(&k, *id), &[])?;
        }
    }
    for (id, case) in d.case_ids.iter().zip(&effects.cases) {
        put_in(&t[at.cs], &t[at.x], &id.to_be_bytes(), case)?;
    }
    for k in &d.counter_keys {
        let n = t[at.st]
            .get(k)?
            .and_then(|o| <[u8; 8]>::try_from(o.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        t[at.st].insert(k.as_slice(), &(n + 1).to_be_bytes())?;
    }
    if let Some(wrote) = &effects.wrote {
        let existing = match t[at.cv].get(citizen_key)? {
            Some(v) => Some(decode_as(CONVERSATIONS_TREE, &v).map_err(abort)?),
            None => None,
        };
        let conv = Conversation::after_citizen_wrote(existing, step.key, wrote);
        t[at.cv].insert(citizen_key, encode(&conv))?;
    }
    if effects.erase {
        t[at.er].insert(citizen_key, &[])?;
    }
    Ok(())
}
