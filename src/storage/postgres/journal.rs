//! `JournalStore` on PostgreSQL: the inbound journal, the reply outbox, sent records and the step commit.

use super::*;
use crate::storage::JournalStore;

impl JournalStore for PgStore {
    fn record_inbound(&self, dedupe: &[u8], entry: &InboundEntry) -> Result<bool, StoreError> {
        let (k, entry) = (dedupe.to_vec(), entry.clone());
        self.run(move |c| Ok(put_inbound(c, true, &k, &encode(&entry), &entry)? == 1))
    }

    fn pending_inbound(&self) -> Result<Vec<(Vec<u8>, InboundEntry)>, StoreError> {
        let rows = self.run(|c| c.query("SELECT k, v FROM inboundid_inbound WHERE NOT done ORDER BY k", &[]))?;
        let mut out = Vec::new();
        for r in rows {
            let entry: InboundEntry = decode_as(INBOUND_TREE, &r.get::<_, Vec<u8>>(1))?;
            if !entry.done {
                out.push((r.get(0), entry));
            }
        }
        // As sled: key order, then a stable sort by arrival.
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
        let dedupe = dedupe.map(<[u8]>::to_vec);
        let citizen = citizen.map(encode);
        let outbound = outbound.to_vec();
        let (key, effects) = (key.clone(), effects.clone());
        self.run(move |c| {
            c.transaction(|c| {
                if let Some(d) = &dedupe {
                    let row = c.query_opt("SELECT v FROM inboundid_inbound WHERE k = $1 FOR UPDATE", &[d])?;
                    if let Some(row) = row {
                        let entry: InboundEntry = decode_as(INBOUND_TREE, &row.get::<_, Vec<u8>>(0))?;
                        let done = done_entry(entry);
                        set_inbound_later(c, d, &encode(&done), &done)?;
                    }
                }
                match &citizen {
                    Some(v) => CITIZENS.put(c, &citizen_key, v)?,
                    None => CITIZENS.delete(c, &citizen_key).map(drop)?,
                }
                // Ids in sled's order: the replies', then the ledger's, then the cases'.
                let wanted = outbound.len() + effects.ledger.len() + effects.cases.len();
                let mut ids = Vec::with_capacity(wanted);
                if wanted > 0 {
                    let n = i32::try_from(wanted).unwrap_or(i32::MAX);
                    for r in c.query(NEXT_IDS, &[&n])? {
                        ids.push(id_of(OUTBOX_TREE, r.get(0))?);
                    }
                    // generate_series does not promise the order of nextval calls.
                    ids.sort_unstable();
                }
                let mut ids = ids.into_iter();
                let outbox_ids: Vec<u64> = ids.by_ref().take(outbound.len()).collect();
                for (id, entry) in outbox_ids.iter().zip(&outbound) {
                    put_outbound(c, *id, &encode(entry), entry)?;
                }
                // The entries first: `zip` takes from its first iterator before it finds the
                // second one ended, and an id taken that way would be lost to the cases.
                for (entry, id) in effects.ledger.iter().zip(ids.by_ref()) {
                    put_ledger_row(c, id, &encode(entry), entry)?;
                }
                for (case, id) in effects.cases.iter().zip(ids.by_ref()) {
                    put_case_row(c, id, &encode(case), case)?;
                }
                for (month, metric) in &effects.counters {
                    add_stat(c, &key.comune, month, metric, 1)?;
                }
                if let Some(wrote) = &effects.wrote {
                    let existing = c.query_opt(
                        "SELECT v FROM citizenkey_conversation WHERE k = $1 FOR UPDATE",
                        &[&citizen_key],
                    )?;
                    let existing = existing
                        .map(|r| decode_as(CONVERSATIONS_TREE, &r.get::<_, Vec<u8>>(0)))
                        .transpose()?;
                    let conv = Conversation::after_citizen_wrote(existing, &key, wrote);
                    CONVERSATIONS.put(c, &citizen_key, &encode(&conv))?;
                }
                if effects.erase {
                    ERASING.put(c, &citizen_key, &[])?;
                }
                Ok(outbox_ids)
            })
        })
    }

    fn pending_outbound(&self) -> Result<Vec<(u64, OutboundEntry)>, StoreError> {
        let rows = self.run(|c| c.query("SELECT id, v FROM outboxid_outbound ORDER BY id", &[]))?;
        id_rows(OUTBOX_TREE, rows)
    }

    fn outbound_entry(&self, id: u64) -> Result<Option<OutboundEntry>, StoreError> {
        let row = self.run(move |c| c.query_opt("SELECT v FROM outboxid_outbound WHERE id = $1", &[&sql_id(id)]))?;
        row.map(|r| decode_as(OUTBOX_TREE, &r.get::<_, Vec<u8>>(0))).transpose()
    }

    fn outbound_done(&self, id: u64) -> Result<(), StoreError> {
        self.run(move |c| c.execute("DELETE FROM outboxid_outbound WHERE id = $1", &[&sql_id(id)]))
            .map(drop)
    }

    fn mark_outbound(&self, id: u64, in_flight: bool) -> Result<Option<OutboundEntry>, StoreError> {
        // One transaction with the row locked: an erasure deleting it meanwhile either
        // waits for this or leaves no row to write back.
        self.run(move |c| {
            c.transaction(|c| {
                let Some(mut entry) = locked_outbound(c, id)? else {
                    return Ok(None);
                };
                entry.in_flight = in_flight;
                put_outbound(c, id, &encode(&entry), &entry)?;
                Ok(Some(entry))
            })
        })
    }

    fn prune_inbound(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        let n = self.run(move |c| {
            c.execute(
                "DELETE FROM inboundid_inbound WHERE done AND received_ns < $1",
                &[&nanos(before)],
            )
        })?;
        Ok(n as usize)
    }

    fn put_sent(&self, key: &[u8], entry: &SentEntry) -> Result<(), StoreError> {
        let (k, entry) = (key.to_vec(), entry.clone());
        self.run(move |c| put_sent_row(c, &k, &encode(&entry), &entry))
    }

    fn sent(&self, key: &[u8]) -> Result<Option<SentEntry>, StoreError> {
        let k = key.to_vec();
        let row = self.run(move |c| c.query_opt("SELECT v FROM sentid_sent WHERE k = $1", &[&k]))?;
        row.map(|r| decode_as(SENT_TREE, &r.get::<_, Vec<u8>>(0))).transpose()
    }

    fn prune_sent(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        let n = self.run(move |c| c.execute("DELETE FROM sentid_sent WHERE sent_ns < $1", &[&nanos(before)]))?;
        Ok(n as usize)
    }
}
