//! Whole-store copies into and out of PostgreSQL as raw records (tree → key → value bytes,
//! the form `SledStore::records` gives), for `sportello migrate`, and the per-tree count
//! and checksum that prove a copy complete.
//!
//! Records go in as the exact bytes read (the extra columns are computed from the decoded
//! value), and come out in sled's form: ids as 8 big-endian bytes, counters as a
//! big-endian u64. So a sled store and its copy compare byte for byte.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::pool::Conn;
use super::{
    add_stat_row, id_of, put_audit_row, put_case_row, put_inbound, put_ledger_row, put_outbound, put_sent_row, KvTree,
    PgStore, ACCOUNTS, ALIASES, BROADCASTS, CITIZENS, CLOSURES, CONVERSATIONS, DELIVERIES, ERASING, FAQ_EDITS,
    SESSIONS,
};
use crate::storage::backup::Records;
use crate::storage::keys::{AUDIT_TREE, CASES_TREE, INBOUND_TREE, LEDGER_TREE, OUTBOX_TREE, SENT_TREE, STATS_TREE};
use crate::storage::{decode_as, StoreError};

/// Every tree this backend holds, by name.
pub const TREES: [&str; 17] = [
    "citizenkey_citizen",
    INBOUND_TREE,
    OUTBOX_TREE,
    SENT_TREE,
    CASES_TREE,
    LEDGER_TREE,
    AUDIT_TREE,
    STATS_TREE,
    "email_account",
    "tokenhash_session",
    "citizenkey_conversation",
    "citizenkey_erasing",
    "citizenkey_alias",
    "faqkey_edit",
    "closurekey_closure",
    "broadcastid_broadcast",
    "broadcastrecipient_delivery",
];

/// The plain key-value trees, by name.
const PLAIN: [(&str, &KvTree); 10] = [
    ("citizenkey_citizen", &CITIZENS),
    ("email_account", &ACCOUNTS),
    ("tokenhash_session", &SESSIONS),
    ("citizenkey_conversation", &CONVERSATIONS),
    ("citizenkey_erasing", &ERASING),
    ("citizenkey_alias", &ALIASES),
    ("faqkey_edit", &FAQ_EDITS),
    ("closurekey_closure", &CLOSURES),
    ("broadcastid_broadcast", &BROADCASTS),
    ("broadcastrecipient_delivery", &DELIVERIES),
];

/// A tree's record count and SHA-256 over its records in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeSum {
    pub count: u64,
    pub sha256: String,
}

/// Count and checksum of every tree in `records` (each record hashed as the lengths and
/// bytes of its key and value, so no two different trees hash alike).
pub fn checksums(records: &Records) -> BTreeMap<String, TreeSum> {
    records
        .iter()
        .map(|(tree, rows)| {
            let mut h = Sha256::new();
            for (k, v) in rows {
                h.update((k.len() as u64).to_be_bytes());
                h.update(k);
                h.update((v.len() as u64).to_be_bytes());
                h.update(v);
            }
            let sum = TreeSum {
                count: rows.len() as u64,
                sha256: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            };
            (tree.clone(), sum)
        })
        .collect()
}

fn corrupt(tree: &'static str, reason: &str) -> StoreError {
    StoreError::Corrupt {
        tree,
        reason: reason.into(),
    }
}

fn id_key(tree: &'static str, k: &[u8]) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(k)
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt(tree, "key"))
}

impl PgStore {
    /// Whether every tree is empty (a copy goes only into an empty database).
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.records()?.values().all(BTreeMap::is_empty))
    }

    /// Writes `records` (only trees in [`TREES`]) in one transaction, and moves the id
    /// sequence past every id copied. Returns how many records were written.
    pub fn import(&self, records: Records) -> Result<u64, StoreError> {
        self.run(move |c| c.transaction(|c| import(c, &records)))
    }

    /// Every record of every tree, in sled's form.
    pub fn records(&self) -> Result<Records, StoreError> {
        self.run(export)
    }
}

pub(super) fn import(c: &mut Conn, records: &Records) -> Result<u64, StoreError> {
    let mut written = 0;
    let mut max_id = 0;
    for (tree, rows) in records {
        for (k, v) in rows {
            let k = k.as_slice();
            let v = v.as_slice();
            if let Some((_, kv)) = PLAIN.iter().find(|(name, _)| name == tree) {
                if *tree == "broadcastid_broadcast" {
                    // Broadcast ids come from the same sequence.
                    max_id = max_id.max(id_key("broadcastid_broadcast", k)?);
                }
                kv.put(c, k, v)?;
                written += 1;
                continue;
            }
            match tree.as_str() {
                INBOUND_TREE => put_inbound(c, false, k, v, &decode_as(INBOUND_TREE, v)?).map(drop)?,
                SENT_TREE => put_sent_row(c, k, v, &decode_as(SENT_TREE, v)?)?,
                OUTBOX_TREE => {
                    let id = id_key(OUTBOX_TREE, k)?;
                    max_id = max_id.max(id);
                    put_outbound(c, id, v, &decode_as(OUTBOX_TREE, v)?)?;
                }
                CASES_TREE => {
                    let id = id_key(CASES_TREE, k)?;
                    max_id = max_id.max(id);
                    put_case_row(c, id, v, &decode_as(CASES_TREE, v)?)?;
                }
                LEDGER_TREE => {
                    let id = id_key(LEDGER_TREE, k)?;
                    max_id = max_id.max(id);
                    put_ledger_row(c, id, v, &decode_as(LEDGER_TREE, v)?)?;
                }
                AUDIT_TREE => {
                    let id = id_key(AUDIT_TREE, k)?;
                    max_id = max_id.max(id);
                    put_audit_row(c, id, v, &decode_as(AUDIT_TREE, v)?)?;
                }
                STATS_TREE => {
                    let key = std::str::from_utf8(k).map_err(|_| corrupt(STATS_TREE, "key"))?;
                    let mut parts = key.splitn(3, '\0');
                    let (Some(comune), Some(month), Some(metric)) = (parts.next(), parts.next(), parts.next()) else {
                        return Err(corrupt(STATS_TREE, "key"));
                    };
                    let n = <[u8; 8]>::try_from(v)
                        .map(u64::from_be_bytes)
                        .map_err(|_| corrupt(STATS_TREE, "value"))?;
                    add_stat_row(c, k, comune, month, metric, n)?;
                }
                _ => {
                    return Err(StoreError::Corrupt {
                        tree: "backup",
                        reason: format!("no table for the tree {tree}"),
                    })
                }
            }
            written += 1;
        }
    }
    if max_id > 0 {
        let max_id = i64::try_from(max_id).map_err(|_| corrupt(OUTBOX_TREE, "id"))?;
        c.execute(
            "SELECT setval('sportello_ids', GREATEST($1, (SELECT last_value FROM sportello_ids)))",
            &[&max_id],
        )?;
    }
    Ok(written)
}

fn export(c: &mut Conn) -> Result<Records, StoreError> {
    let mut out = Records::new();
    for (tree, kv) in PLAIN {
        out.insert(tree.to_string(), kv.all(c)?.into_iter().collect());
    }
    for (tree, sql) in [
        (INBOUND_TREE, "SELECT k, v FROM inboundid_inbound"),
        (SENT_TREE, "SELECT k, v FROM sentid_sent"),
    ] {
        let rows = c.query(sql, &[])?;
        out.insert(
            tree.to_string(),
            rows.into_iter().map(|r| (r.get(0), r.get(1))).collect(),
        );
    }
    for (tree, sql) in [
        (OUTBOX_TREE, "SELECT id, v FROM outboxid_outbound"),
        (CASES_TREE, "SELECT id, v FROM caseid_case"),
        (LEDGER_TREE, "SELECT id, v FROM ledgerid_entry"),
        (AUDIT_TREE, "SELECT id, v FROM auditid_entry"),
    ] {
        let mut rows = BTreeMap::new();
        for r in c.query(sql, &[])? {
            rows.insert(id_of(tree, r.get(0))?.to_be_bytes().to_vec(), r.get(1));
        }
        out.insert(tree.to_string(), rows);
    }
    let mut stats = BTreeMap::new();
    for r in c.query("SELECT k, n FROM statkey_count", &[])? {
        let n = u64::try_from(r.get::<_, i64>(1)).map_err(|_| corrupt(STATS_TREE, "negative count"))?;
        stats.insert(r.get(0), n.to_be_bytes().to_vec());
    }
    out.insert(STATS_TREE.to_string(), stats);
    Ok(out)
}
