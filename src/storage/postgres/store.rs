//! `impl Store for PgStore`: each call of the trait as SQL on a pooled connection, and the
//! erasure's transaction. The tables, their SQL and the row writers are in the parent module.

use super::*;

impl Store for PgStore {
    fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError> {
        CITIZENS.read(self, key.encode()?)
    }

    fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError> {
        CITIZENS.write(self, key.encode()?, encode(citizen))
    }

    fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError> {
        CITIZENS.remove(self, key.encode()?)
    }

    fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        let prefix = comune_prefix(comune);
        let rows = self.run(move |c| CITIZENS.prefix(c, &prefix))?;
        rows.into_iter()
            .map(|(k, v)| {
                let key = CitizenKey::decode(&k).ok_or(StoreError::Corrupt {
                    tree: CITIZENS_TREE,
                    reason: "key".into(),
                })?;
                Ok((key, decode(CITIZENS_TREE, &v)?))
            })
            .collect()
    }

    fn flush(&self) -> Result<(), StoreError> {
        // A transaction with an id, committed synchronously, returns once the WAL is on disk
        // up to its commit record, and so every commit before it, from any connection.
        self.run(|c| c.batch(FLUSH))
    }

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
                        put_inbound(c, false, d, &encode(&done), &done)?;
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

    fn unfinished_erasures(&self) -> Result<Vec<CitizenKey>, StoreError> {
        let rows = self.run(|c| ERASING.all(c))?;
        rows.iter()
            .map(|(k, _)| {
                CitizenKey::decode(k).ok_or(StoreError::Corrupt {
                    tree: ERASING_TREE,
                    reason: "key".into(),
                })
            })
            .collect()
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

    fn append_ledger(&self, entry: &LedgerEntry) -> Result<u64, StoreError> {
        let entry = entry.clone();
        self.run(move |c| {
            let id = next_id(c)?;
            put_ledger_row(c, id, &encode(&entry), &entry)?;
            Ok(id)
        })
    }

    fn ledger(&self, comune: &str) -> Result<Vec<(u64, LedgerEntry)>, StoreError> {
        let comune = comune.to_string();
        let rows = self.run(move |c| {
            c.query(
                "SELECT id, v FROM ledgerid_entry WHERE comune = $1 ORDER BY id",
                &[&comune],
            )
        })?;
        id_rows(LEDGER_TREE, rows)
    }

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

    fn scrub_citizen(&self, key: &CitizenKey, keep_outbox: bool) -> Result<Scrubbed, StoreError> {
        let k = key.encode()?;
        let key = key.clone();
        self.run(move |c| c.transaction(|c| scrub(c, &key, &k, keep_outbox)))
    }

    fn prune_sent(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        let n = self.run(move |c| c.execute("DELETE FROM sentid_sent WHERE sent_ns < $1", &[&nanos(before)]))?;
        Ok(n as usize)
    }

    fn citizens_page(
        &self,
        comune: &str,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        let prefix = comune_prefix(comune);
        let end = prefix_end(&prefix);
        let start = match after {
            Some(k) => k.encode()?,
            None => prefix,
        };
        let strict = after.is_some();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.run(move |c| {
            let sql = if strict {
                "SELECT k, v FROM citizenkey_citizen WHERE k > $1 AND k < $2 ORDER BY k LIMIT $3"
            } else {
                "SELECT k, v FROM citizenkey_citizen WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3"
            };
            c.query(sql, &[&start, &end, &limit])
        })?;
        rows.into_iter()
            .map(|r| {
                let k: Vec<u8> = r.get(0);
                let key = CitizenKey::decode(&k).ok_or(StoreError::Corrupt {
                    tree: CITIZENS_TREE,
                    reason: "key".into(),
                })?;
                Ok((key, decode(CITIZENS_TREE, &r.get::<_, Vec<u8>>(1))?))
            })
            .collect()
    }

    fn add_broadcast(&self, broadcast: &Broadcast) -> Result<u64, StoreError> {
        let v = encode(broadcast);
        self.run(move |c| {
            let id = next_id(c)?;
            BROADCASTS.put(c, &id.to_be_bytes(), &v)?;
            Ok(id)
        })
    }

    fn put_broadcast(&self, id: u64, broadcast: &Broadcast) -> Result<(), StoreError> {
        BROADCASTS.write(self, id.to_be_bytes().to_vec(), encode(broadcast))
    }

    fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError> {
        BROADCASTS.read(self, id.to_be_bytes().to_vec())
    }

    fn broadcasts(&self, comune: Option<&str>) -> Result<Vec<(u64, Broadcast)>, StoreError> {
        let rows = self.run(|c| BROADCASTS.all(c))?;
        let mut out = Vec::new();
        for (k, v) in rows {
            let id = u64::from_be_bytes(k.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                tree: BROADCASTS_TREE,
                reason: "key".into(),
            })?);
            let b: Broadcast = decode_as(BROADCASTS_TREE, &v)?;
            if comune.is_none_or(|c| b.comune == c) {
                out.push((id, b));
            }
        }
        Ok(out)
    }

    fn put_deliveries(&self, id: u64, entries: &[(CitizenKey, Delivery)]) -> Result<(), StoreError> {
        let rows: Vec<(Vec<u8>, Vec<u8>)> = entries
            .iter()
            .map(|(key, d)| {
                key.encode()?;
                Ok((delivery_key(id, Some(&key.channel), &key.citizen), encode(d)))
            })
            .collect::<Result<_, StoreError>>()?;
        // One transaction: a batch is written whole or not at all, as sled's.
        self.run(move |c| {
            c.transaction(|c| {
                for (k, v) in &rows {
                    DELIVERIES.put(c, k, v)?;
                }
                Ok(())
            })
        })
    }

    fn delivery(&self, id: u64, key: &CitizenKey) -> Result<Option<Delivery>, StoreError> {
        DELIVERIES.read(self, delivery_key(id, Some(&key.channel), &key.citizen))
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
        // The end of the prefix: with a channel the prefix ends in 0x00 (raise it); without,
        // it is the 8-byte id (the next id's first key).
        let end = match channel {
            Some(_) => prefix_end(&prefix),
            None => delivery_key(id.saturating_add(1), None, ""),
        };
        let (start, strict) = match after {
            Some(k) => (delivery_key(id, Some(&k.channel), &k.citizen), true),
            None => (prefix, false),
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.run(move |c| {
            let sql = if strict {
                "SELECT k, v FROM broadcastrecipient_delivery WHERE k > $1 AND k < $2 ORDER BY k LIMIT $3"
            } else {
                "SELECT k, v FROM broadcastrecipient_delivery WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3"
            };
            c.query(sql, &[&start, &end, &limit])
        })?;
        rows.into_iter()
            .map(|r| {
                let k: Vec<u8> = r.get(0);
                let (_, channel, citizen) = decode_delivery_key(&k).ok_or(StoreError::Corrupt {
                    tree: DELIVERIES_TREE,
                    reason: "key".into(),
                })?;
                Ok((
                    CitizenKey::new(comune, &channel, &citizen),
                    decode_as(DELIVERIES_TREE, &r.get::<_, Vec<u8>>(1))?,
                ))
            })
            .collect()
    }

    fn mentions(&self, needle: &str) -> Result<Vec<String>, StoreError> {
        if needle.is_empty() {
            return Ok(Vec::new());
        }
        let needle = needle.as_bytes().to_vec();
        self.run(move |c| {
            let mut found = Vec::new();
            for (tree, sql) in SEARCHED {
                if c.query_opt(sql, &[&needle])?.is_some_and(|r| r.get::<_, bool>(0)) {
                    found.push(tree.to_string());
                }
            }
            Ok(found)
        })
    }

    fn bump(&self, comune: &str, month: &str, metric: &str, by: u64) -> Result<(), StoreError> {
        let (comune, month, metric) = (comune.to_string(), month.to_string(), metric.to_string());
        self.run(move |c| add_stat(c, &comune, &month, &metric, by))
    }

    fn counters(&self, comune: &str) -> Result<Vec<(String, String, u64)>, StoreError> {
        let prefix = comune_prefix(comune);
        let end = prefix_end(&prefix);
        let rows = self.run(move |c| {
            c.query(
                "SELECT month, metric, n FROM statkey_count WHERE k >= $1 AND k < $2 ORDER BY k",
                &[&prefix, &end],
            )
        })?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), u64::try_from(r.get::<_, i64>(2)).unwrap_or(0)))
            .collect())
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

/// `scrub_citizen`'s work, inside its transaction. The rows are found by their citizen
/// column, then checked against the value as sled checks it.
fn scrub(c: &mut Conn, key: &CitizenKey, k: &[u8], keep_outbox: bool) -> Result<Scrubbed, StoreError> {
    let mut n = Scrubbed {
        citizen: CITIZENS.delete(c, k)? as usize,
        ..Scrubbed::default()
    };
    CONVERSATIONS.delete(c, k)?;
    let k = k.to_vec();
    for r in c.query(
        "SELECT k, v FROM inboundid_inbound WHERE citizen = $1 ORDER BY k FOR UPDATE",
        &[&k],
    )? {
        let entry: InboundEntry = decode_as(INBOUND_TREE, &r.get::<_, Vec<u8>>(1))?;
        if &entry.key == key {
            let done = done_entry(entry);
            put_inbound(c, false, &r.get::<_, Vec<u8>>(0), &encode(&done), &done)?;
            n.journal += 1;
        }
    }
    if !keep_outbox {
        n.outbox = c.execute("DELETE FROM outboxid_outbound WHERE citizen = $1", &[&k])? as usize;
    }
    n.sent = c.execute("DELETE FROM sentid_sent WHERE citizen = $1", &[&k])? as usize;
    let rows = c.query(
        "SELECT id, v FROM caseid_case WHERE citizen = $1 ORDER BY id FOR UPDATE",
        &[&k],
    )?;
    for (id, case) in id_rows::<ModerationCase>(CASES_TREE, rows)? {
        if &case.key == key {
            let case = anonymized(case);
            put_case_row(c, id, &encode(&case), &case)?;
            n.cases += 1;
        }
    }
    let rows = c.query(
        "SELECT id, v FROM ledgerid_entry WHERE citizen = $1 ORDER BY id FOR UPDATE",
        &[&k],
    )?;
    for (id, mut entry) in id_rows::<LedgerEntry>(LEDGER_TREE, rows)? {
        if entry.comune == key.comune && entry.channel == key.channel && entry.citizen.as_deref() == Some(&key.citizen)
        {
            entry.citizen = None;
            put_ledger_row(c, id, &encode(&entry), &entry)?;
            n.ledger += 1;
        }
    }
    // Their broadcast outbox entries (the key holds the number), in every broadcast of
    // their comune.
    for (bk, bv) in BROADCASTS.all(c)? {
        let b: Broadcast = decode_as(BROADCASTS_TREE, &bv)?;
        if b.comune == key.comune {
            let id = u64::from_be_bytes(bk.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                tree: BROADCASTS_TREE,
                reason: "key".into(),
            })?);
            n.outbox += DELIVERIES.delete(c, &delivery_key(id, Some(&key.channel), &key.citizen))? as usize;
        }
    }
    // In the same transaction: the mark goes with the scrub it records.
    ERASING.delete(c, &k)?;
    Ok(n)
}
