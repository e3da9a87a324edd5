//! `CitizenStore` on PostgreSQL: citizens and what is kept about them (records, ledger, counters, erasure).

use super::*;
use crate::storage::CitizenStore;

impl CitizenStore for PgStore {
    fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError> {
        CITIZENS.read(self, key.encode()?)
    }

    fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError> {
        CITIZENS.write(self, key.encode()?, encode(citizen))
    }

    fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError> {
        CITIZENS.remove(self, key.encode()?)
    }

    fn put_alias(&self, other: &CitizenKey, key: &CitizenKey) -> Result<(), StoreError> {
        ALIASES.write(self, other.encode()?, key.encode()?)
    }

    fn alias(&self, other: &CitizenKey) -> Result<Option<CitizenKey>, StoreError> {
        let k = other.encode()?;
        let v = self.run(move |c| ALIASES.get(c, &k))?;
        Ok(v.and_then(|v| CitizenKey::decode(&v)))
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

    fn scrub_citizen(&self, key: &CitizenKey, keep_outbox: bool) -> Result<Scrubbed, StoreError> {
        let k = key.encode()?;
        let key = key.clone();
        self.run(move |c| c.transaction(|c| scrub(c, &key, &k, keep_outbox)))
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
}

/// `scrub_citizen`'s work, inside its transaction. The rows are found by their citizen
/// column, then checked against the value as sled checks it.
fn scrub(c: &mut Conn, key: &CitizenKey, k: &[u8], keep_outbox: bool) -> Result<Scrubbed, StoreError> {
    let mut n = Scrubbed {
        citizen: CITIZENS.delete(c, k)? as usize,
        ..Scrubbed::default()
    };
    CONVERSATIONS.delete(c, k)?;
    c.execute("DELETE FROM citizenkey_alias WHERE v = $1", &[&k])?;
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
