//! What several active processes on one database need of it besides the `Store` trait
//! (`server::shared` uses these): heartbeats, a citizen's waiting messages in order, and
//! claimed replies.
//!
//! A reply (`outboxid_outbound`) names the process that sends it (`OutboundEntry::owner`).
//! A process sends a reply only after claiming it: in one transaction with the row locked,
//! it must not be in flight and must be its own or nobody's; the claim marks it in flight
//! and owned. Another process takes a reply over only when its owner has not been seen for
//! a while: then a reply not in flight is re-owned and sent by the taker, and one in flight
//! is dropped (it may have reached the citizen: at most once, as after a crash with one
//! process). Row locks make each of these one decision, so no reply is sent by two.

use std::time::Duration;

use jiff::Timestamp;

use super::{citizen_col, decode_as, encode, locked_outbound, nanos, put_outbound, sql_id, PgStore};
use crate::storage::keys::{INBOUND_TREE, OUTBOX_TREE};
use crate::storage::{CitizenKey, InboundEntry, OutboundEntry, StoreError};

/// What [`PgStore::claim_outbound`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Now in flight, owned by the caller: send it. Its id: the one asked for, or an earlier
    /// reply to the same citizen that must go first.
    Claimed(u64, Box<OutboundEntry>),
    /// Gone (sent, erased), in flight, or another process's: not the caller's to send.
    Gone,
    /// An earlier reply to the citizen belongs to another process (or nobody yet), or is in
    /// flight: ask again once it is sent, dropped or taken over.
    Later,
}

/// What [`PgStore::adopt_outbound`] did with a reply whose owner is gone.
#[derive(Debug, Clone, PartialEq)]
pub enum Adoption {
    /// Now owned by the caller, to send.
    Adopted(Box<OutboundEntry>),
    /// It was in flight when its owner stopped: removed, not sent again.
    Interrupted,
    /// Its owner is alive, or it is gone already: left alone.
    NotOrphan,
}

/// Whether a reply's owner is gone: a process not among `live`, or nobody, once created
/// before `unowned_before` (a newer one's creator is about to claim it).
pub fn orphaned(entry: &OutboundEntry, live: &[String], unowned_before: Timestamp) -> bool {
    match &entry.owner {
        Some(owner) => !live.contains(owner),
        None => entry.created_at < unowned_before,
    }
}

impl PgStore {
    /// Records that `replica` is alive, by the database's clock; forgets processes not seen
    /// for a day.
    pub fn heartbeat(&self, replica: &str) -> Result<(), StoreError> {
        let replica = replica.to_string();
        self.run(move |c| {
            c.execute(
                "INSERT INTO replicas (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET seen = now()",
                &[&replica],
            )?;
            c.execute("DELETE FROM replicas WHERE seen < now() - interval '1 day'", &[])
        })
        .map(drop)
    }

    /// Removes `replica` (a clean stop): its replies can be taken over at once.
    pub fn leave(&self, replica: &str) -> Result<(), StoreError> {
        let replica = replica.to_string();
        self.run(move |c| c.execute("DELETE FROM replicas WHERE id = $1", &[&replica]))
            .map(drop)
    }

    /// The processes seen within `within`.
    pub fn live_replicas(&self, within: Duration) -> Result<Vec<String>, StoreError> {
        let secs = within.as_secs_f64();
        let rows = self.run(move |c| {
            c.query(
                "SELECT id FROM replicas WHERE seen > now() - make_interval(secs => $1)",
                &[&secs],
            )
        })?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// A citizen's messages waiting to be processed, in the order to process them: the
    /// provider's timestamp, then arrival, then the journal key (all processes agree).
    pub fn pending_inbound_for(&self, key: &CitizenKey) -> Result<Vec<(Vec<u8>, InboundEntry)>, StoreError> {
        let citizen = key.encode()?;
        let rows = self.run(move |c| {
            c.query(
                "SELECT k, v FROM inboundid_inbound WHERE citizen = $1 AND NOT done",
                &[&citizen],
            )
        })?;
        let mut out = Vec::new();
        for r in rows {
            let entry: InboundEntry = decode_as(INBOUND_TREE, &r.get::<_, Vec<u8>>(1))?;
            if !entry.done && entry.message.is_some() {
                out.push((r.get::<_, Vec<u8>>(0), entry));
            }
        }
        out.sort_by(|(ka, a), (kb, b)| {
            let ta = a.message.as_ref().map_or(0, |m| m.timestamp);
            let tb = b.message.as_ref().map_or(0, |m| m.timestamp);
            (ta, a.received_at, ka).cmp(&(tb, b.received_at, kb))
        });
        Ok(out)
    }

    /// Messages waiting since before `before` (at most `limit`, oldest first): each one's
    /// citizen, the process that journalled it, and when.
    pub fn stale_inbound(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> Result<Vec<(CitizenKey, Option<String>, Timestamp)>, StoreError> {
        let rows = self.run(move |c| {
            c.query(
                "SELECT v FROM inboundid_inbound WHERE NOT done AND received_ns < $1 ORDER BY received_ns LIMIT $2",
                &[&nanos(before), &limit],
            )
        })?;
        let mut out = Vec::new();
        for r in rows {
            let entry: InboundEntry = decode_as(INBOUND_TREE, &r.get::<_, Vec<u8>>(0))?;
            if entry.message.is_some() {
                out.push((entry.key, entry.owner, entry.received_at));
            }
        }
        Ok(out)
    }

    /// Claims the citizen's next reply for `replica`, `id` in hand (see the module doc):
    /// marked in flight and owned, and returned with its own id. A citizen reads replies in
    /// the order they were written, so the reply claimed is the citizen's *earliest* still in
    /// the outbox:
    /// - none earlier than `id`: `id` itself;
    /// - the earliest is the caller's and not in flight: that one, to send first. A reply
    ///   taken over from a stopped process joins the caller's queue behind the later reply
    ///   that was waiting for it; sent here, its own turn then finds it gone;
    /// - the earliest is another process's, nobody's yet, or in flight: [`Claim::Later`],
    ///   until it is sent, dropped as in doubt, or taken over.
    pub fn claim_outbound(&self, id: u64, replica: &str) -> Result<Claim, StoreError> {
        let replica = replica.to_string();
        self.run(move |c| {
            c.transaction(|c| {
                let Some(entry) = locked_outbound(c, id)? else {
                    return Ok(Claim::Gone);
                };
                if entry.in_flight || entry.owner.as_ref().is_some_and(|o| *o != replica) {
                    return Ok(Claim::Gone);
                }
                let citizen = citizen_col(&entry.key);
                // Not `ORDER BY id LIMIT 1`: with it the planner may walk the primary key
                // from the oldest reply, through every dead row a busy outbox leaves, and
                // filter by citizen (1.9 ms a claim on a grown database, BENCHMARKS.md);
                // a citizen has few replies waiting, found through their index.
                let earliest = c
                    .query(
                        "SELECT id, v FROM outboxid_outbound WHERE citizen = $1 AND id < $2",
                        &[&citizen, &sql_id(id)],
                    )?
                    .into_iter()
                    .min_by_key(|row| row.get::<_, i64>(0));
                let (claimed, mut entry) = match earliest {
                    None => (id, entry),
                    Some(row) => {
                        let before: OutboundEntry = decode_as(OUTBOX_TREE, &row.get::<_, Vec<u8>>(1))?;
                        if before.in_flight || before.owner.as_ref() != Some(&replica) {
                            return Ok(Claim::Later);
                        }
                        // Locked after `id`'s row, and always a lower id than the row held:
                        // no two claims can wait for each other.
                        let earlier = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
                        match locked_outbound(c, earlier)? {
                            Some(e) if !e.in_flight && e.owner.as_ref() == Some(&replica) => (earlier, e),
                            // Changed since it was read (sent, or taken): ask again.
                            _ => return Ok(Claim::Later),
                        }
                    }
                };
                entry.in_flight = true;
                entry.owner = Some(replica);
                put_outbound(c, claimed, &encode(&entry), &entry)?;
                Ok(Claim::Claimed(claimed, Box::new(entry)))
            })
        })
    }

    /// Takes reply `id` over for `replica` if it is [`orphaned`].
    pub fn adopt_outbound(
        &self,
        id: u64,
        replica: &str,
        live: &[String],
        unowned_before: Timestamp,
    ) -> Result<Adoption, StoreError> {
        let (replica, live) = (replica.to_string(), live.to_vec());
        self.run(move |c| {
            c.transaction(|c| {
                let Some(mut entry) = locked_outbound(c, id)? else {
                    return Ok(Adoption::NotOrphan);
                };
                if !orphaned(&entry, &live, unowned_before) {
                    return Ok(Adoption::NotOrphan);
                }
                if entry.in_flight {
                    c.execute("DELETE FROM outboxid_outbound WHERE id = $1", &[&sql_id(id)])?;
                    return Ok(Adoption::Interrupted);
                }
                entry.owner = Some(replica);
                put_outbound(c, id, &encode(&entry), &entry)?;
                Ok(Adoption::Adopted(Box::new(entry)))
            })
        })
    }
}
