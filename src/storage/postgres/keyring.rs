//! The keyring's slots on PostgreSQL (`keyring_slots`, `keyring_header`, migration 6), for
//! a service whose store is PostgreSQL: every process on the database shares them.
//!
//! What differs from the file: nothing is remembered between calls. A live slot is looked
//! up in the table each time (another process may have made or erased it meanwhile), and
//! the unique index on live pseudonyms makes two processes creating a citizen's key at once
//! end with one. Writes commit like the store's (`synchronous_commit = off`): the store's
//! `flush`, which the sealed store runs before anything is acknowledged, makes them durable
//! with everything before it, so [`Slots::sync`] has nothing to do.

use std::path::PathBuf;
use std::sync::Arc;

use super::pool::{Conn, Pool};
use super::PgStore;
use crate::storage::keyring::{
    erased_slot, pseudonym_of, KeyringError, Pseudonym, Slots, ERASED, ERASE_AFTER_REPLIES, HEADER, LIVE, SLOT,
};
use crate::storage::StoreError;

/// The keyring's slots in the database of a [`PgStore`].
pub struct PgSlots {
    pool: Arc<Pool>,
}

impl PgStore {
    /// The keyring's slots in this database.
    pub fn keyring_slots(&self) -> PgSlots {
        PgSlots {
            pool: self.pool.clone(),
        }
    }
}

fn database(e: StoreError) -> KeyringError {
    KeyringError::Database(e.to_string())
}

fn slot_number(slot: i64) -> Result<u32, KeyringError> {
    u32::try_from(slot).map_err(|_| KeyringError::Database(format!("slot {slot} is out of range")))
}

fn raw_of(bytes: &[u8], slot: u32) -> Result<[u8; SLOT], KeyringError> {
    bytes.try_into().map_err(|_| KeyringError::Unreadable(slot))
}

/// The live slot of a pseudonym, through the unique index on live pseudonyms (the state
/// written out, not a parameter, so that a generic plan can use that partial index).
const LIVE_SLOT: &str = "SELECT slot FROM keyring_slots WHERE pseudonym = $1 AND state = 1";
/// The slot of a pseudonym waiting for its last reply.
const MARKED_SLOT: &str = "SELECT slot FROM keyring_slots WHERE pseudonym = $1 AND state = 3 LIMIT 1";

/// The slot `sql` ([`LIVE_SLOT`], [`MARKED_SLOT`]) finds for `pseudonym`.
fn slot_by(c: &mut Conn, sql: &'static str, pseudonym: &[u8]) -> Result<Option<i64>, StoreError> {
    Ok(c.query_opt(sql, &[&pseudonym])?.map(|r| r.get(0)))
}

impl PgSlots {
    /// Every slot's bytes, by number, in one query.
    fn raws(&self) -> Result<Vec<(u32, [u8; SLOT])>, KeyringError> {
        let rows: Vec<(i64, Vec<u8>)> = self.run(|c| {
            Ok(c.query("SELECT slot, raw FROM keyring_slots ORDER BY slot", &[])?
                .into_iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect())
        })?;
        rows.into_iter()
            .map(|(slot, raw)| {
                let slot = slot_number(slot)?;
                Ok((slot, raw_of(&raw, slot)?))
            })
            .collect()
    }

    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, KeyringError> {
        self.pool.run(f).map_err(database)
    }
}

impl Slots for PgSlots {
    fn place(&self) -> PathBuf {
        PathBuf::from("the PostgreSQL database (keyring_slots)")
    }

    fn shared(&self) -> bool {
        true
    }

    fn header(&self, fresh: &[u8; HEADER]) -> Result<[u8; HEADER], KeyringError> {
        let fresh = fresh.to_vec();
        let found: Vec<u8> = self.run(move |c| {
            c.transaction(|c| {
                // Made durable at once, as the file's header is: every sealed value will
                // depend on it.
                c.batch("SET LOCAL synchronous_commit TO on")?;
                c.execute(
                    "INSERT INTO keyring_header (id, header) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
                    &[&fresh],
                )?;
                Ok(c.query_opt("SELECT header FROM keyring_header WHERE id = 1", &[])?
                    .map(|r| r.get::<_, Vec<u8>>(0))
                    .unwrap_or_default())
            })
        })?;
        found
            .as_slice()
            .try_into()
            .map_err(|_| KeyringError::NotAKeyring(self.place()))
    }

    fn live(&self, pseudonym: &Pseudonym) -> Result<Option<u32>, KeyringError> {
        let p = pseudonym.to_vec();
        self.run(move |c| slot_by(c, LIVE_SLOT, &p))?
            .map(slot_number)
            .transpose()
    }

    fn create(&self, pseudonym: &Pseudonym, raw: &[u8; SLOT]) -> Result<(u32, bool), KeyringError> {
        let (p, raw) = (pseudonym.to_vec(), raw.to_vec());
        let (slot, created): (Option<i64>, bool) = self.run(move |c| {
            let state = i16::from(LIVE);
            if let Some(row) = c.query_opt(
                "INSERT INTO keyring_slots (state, pseudonym, raw) VALUES ($1, $2, $3) \
                 ON CONFLICT (pseudonym) WHERE state = 1 DO NOTHING RETURNING slot",
                &[&state, &p, &raw],
            )? {
                return Ok((Some(row.get(0)), true));
            }
            // Another process made it first: theirs is the citizen's key.
            Ok((slot_by(c, LIVE_SLOT, &p)?, false))
        })?;
        match slot {
            Some(slot) => Ok((slot_number(slot)?, created)),
            // Made and erased by another process between the two statements.
            None => Err(KeyringError::Database(
                "a key made meanwhile was erased at once; try again".into(),
            )),
        }
    }

    fn read(&self, slot: u32) -> Result<[u8; SLOT], KeyringError> {
        let n = i64::from(slot);
        let raw: Option<Vec<u8>> = self.run(move |c| {
            Ok(c.query_opt("SELECT raw FROM keyring_slots WHERE slot = $1", &[&n])?
                .map(|r| r.get(0)))
        })?;
        raw_of(&raw.ok_or(KeyringError::NoSlot(slot))?, slot)
    }

    fn destroy(&self, slot: u32) -> Result<(), KeyringError> {
        let raw = self.read(slot)?;
        let erased = erased_slot(&raw).to_vec();
        let (n, state) = (i64::from(slot), i16::from(ERASED));
        self.run(move |c| {
            c.execute(
                "UPDATE keyring_slots SET state = $2, raw = $3 WHERE slot = $1",
                &[&n, &state, &erased],
            )
        })?;
        Ok(())
    }

    fn mark(&self, slot: u32) -> Result<(), KeyringError> {
        let (n, live, mark) = (i64::from(slot), i16::from(LIVE), ERASE_AFTER_REPLIES);
        self.run(move |c| {
            c.execute(
                "UPDATE keyring_slots SET state = $2, raw = set_byte(raw, 0, $3) WHERE slot = $1 AND state = $4",
                &[&n, &i16::from(mark), &i32::from(mark), &live],
            )
        })?;
        Ok(())
    }

    fn scan(&self) -> Result<Vec<(u32, Pseudonym, u8)>, KeyringError> {
        Ok(self
            .raws()?
            .into_iter()
            .map(|(slot, raw)| (slot, pseudonym_of(&raw), raw[0]))
            .collect())
    }

    /// Read through the index on states other than live: a start does not read every
    /// citizen's slot to find the few waiting for a goodbye.
    fn in_state(&self, state: u8) -> Result<Vec<(u32, Pseudonym)>, KeyringError> {
        // The state written out, as in `LIVE_SLOT`: with `state = $1` the generic plan
        // cannot use the partial index and walked every slot (0.4 s at a million).
        let (sql, given) = match state {
            ERASE_AFTER_REPLIES => (
                "SELECT slot, pseudonym FROM keyring_slots WHERE state = 3 ORDER BY slot",
                false,
            ),
            ERASED => (
                "SELECT slot, pseudonym FROM keyring_slots WHERE state = 2 ORDER BY slot",
                false,
            ),
            _ => (
                "SELECT slot, pseudonym FROM keyring_slots WHERE state = $1 ORDER BY slot",
                true,
            ),
        };
        let state = i16::from(state);
        let rows: Vec<(i64, Vec<u8>)> = self.run(move |c| {
            let params: &[&(dyn tokio_postgres::types::ToSql + Sync)] = if given { &[&state] } else { &[] };
            Ok(c.query(sql, params)?
                .into_iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect())
        })?;
        rows.into_iter()
            .map(|(slot, p)| {
                let slot = slot_number(slot)?;
                let p: Pseudonym = p.as_slice().try_into().map_err(|_| KeyringError::Unreadable(slot))?;
                Ok((slot, p))
            })
            .collect()
    }

    fn counts(&self) -> Result<(usize, usize), KeyringError> {
        let rows: Vec<(i16, i64)> = self.run(|c| {
            Ok(
                c.query("SELECT state, count(*) FROM keyring_slots GROUP BY state", &[])?
                    .into_iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect(),
            )
        })?;
        let count = |states: &[u8]| {
            rows.iter()
                .filter(|(s, _)| states.iter().any(|x| i16::from(*x) == *s))
                .map(|(_, n)| usize::try_from(*n).unwrap_or(0))
                .sum()
        };
        Ok((count(&[LIVE, ERASE_AFTER_REPLIES]), count(&[ERASED])))
    }

    fn marked(&self, pseudonym: &Pseudonym) -> Result<Option<u32>, KeyringError> {
        let p = pseudonym.to_vec();
        self.run(move |c| slot_by(c, MARKED_SLOT, &p))?
            .map(slot_number)
            .transpose()
    }

    fn count(&self) -> Result<u32, KeyringError> {
        let n: i64 = self.run(|c| {
            Ok(c.query_opt("SELECT count(*) FROM keyring_slots", &[])?
                .map(|r| r.get(0))
                .unwrap_or(0))
        })?;
        slot_number(n)
    }

    fn is_dirty(&self) -> bool {
        false
    }

    fn sync(&self) -> Result<(), KeyringError> {
        Ok(())
    }

    /// In one transaction, committed synchronously.
    fn rewrap(
        self: Box<Self>,
        header: &[u8; HEADER],
        rewrap: &mut dyn FnMut(u32, [u8; SLOT]) -> Result<[u8; SLOT], KeyringError>,
    ) -> Result<Box<dyn Slots>, KeyringError> {
        let mut rows = Vec::new();
        for (slot, raw) in self.raws()? {
            rows.push((i64::from(slot), rewrap(slot, raw)?.to_vec()));
        }
        let header = header.to_vec();
        self.run(move |c| {
            c.transaction(|c| {
                c.batch("SET LOCAL synchronous_commit TO on")?;
                c.execute("UPDATE keyring_header SET header = $1 WHERE id = 1", &[&header])?;
                for (slot, raw) in &rows {
                    c.execute("UPDATE keyring_slots SET raw = $2 WHERE slot = $1", &[slot, raw])?;
                }
                Ok(())
            })
        })?;
        Ok(self)
    }
}

/// An arbitrary constant naming the lock of the one-time sealing (`pg_advisory_xact_lock`).
const SEALING_LOCK: i64 = 0x5345_414c_494e_4721; // "SEALING!"

/// What the sealed layer (`storage::sealed`) needs of PostgreSQL besides the store's
/// traits: whether the database is sealed, its one-time sealing, and the keyring's slots
/// copied in from a data directory.
impl PgStore {
    /// Whether the database is marked sealed.
    pub fn is_sealed(&self) -> Result<bool, StoreError> {
        self.run(|c| Ok(c.query_opt("SELECT 1 FROM sealing", &[])?.is_some()))
    }

    /// Marks the database sealed (an empty one: nothing to migrate).
    pub fn mark_sealed(&self) -> Result<(), StoreError> {
        self.run(|c| {
            c.execute("INSERT INTO sealing (id) VALUES (1) ON CONFLICT (id) DO NOTHING", &[])?;
            Ok(())
        })
    }

    /// An id never handed out (as sled's `generate_id`), for a backup's header.
    pub fn next_id(&self) -> Result<u64, StoreError> {
        self.run(super::next_id)
    }

    /// Whether the keyring has its header (a keyring was made on this database).
    pub fn has_keyring(&self) -> Result<bool, StoreError> {
        self.run(|c| Ok(c.query_opt("SELECT 1 FROM keyring_header", &[])?.is_some()))
    }

    /// Replaces every tree's rows by `records` (sealed) and marks the database sealed, in
    /// one transaction committed synchronously; `false`, changing nothing, when another
    /// process sealed it meanwhile.
    pub fn replace_sealed(&self, records: crate::storage::backup::Records) -> Result<bool, StoreError> {
        self.run(move |c| {
            c.transaction(|c| {
                c.batch("SET LOCAL synchronous_commit TO on")?;
                c.execute("SELECT pg_advisory_xact_lock($1)", &[&SEALING_LOCK])?;
                if c.query_opt("SELECT 1 FROM sealing", &[])?.is_some() {
                    return Ok(false);
                }
                let mut sql = String::new();
                for tree in super::TREES {
                    sql.push_str(&format!("DELETE FROM {};", super::pool::quote_ident(tree)));
                }
                c.batch(&sql)?;
                super::copy::import(c, &records)?;
                c.execute("INSERT INTO sealing (id) VALUES (1)", &[])?;
                Ok(true)
            })
        })
    }

    /// Copies a keyring's header and slots (as `(slot, bytes)`) into an empty keyring on
    /// this database, slot numbers kept: `sportello migrate`, whose sealed values name
    /// their slots.
    pub fn import_keyring(&self, header: &[u8; HEADER], slots: Vec<(u32, [u8; SLOT])>) -> Result<(), StoreError> {
        let header = header.to_vec();
        self.run(move |c| {
            c.transaction(|c| {
                c.batch("SET LOCAL synchronous_commit TO on")?;
                if c.query_opt("SELECT 1 FROM keyring_header", &[])?.is_some()
                    || c.query_opt("SELECT 1 FROM keyring_slots LIMIT 1", &[])?.is_some()
                {
                    return Err(StoreError::Config("the database has a keyring already".into()));
                }
                c.execute("INSERT INTO keyring_header (id, header) VALUES (1, $1)", &[&header])?;
                for (slot, raw) in &slots {
                    let (n, state, p) = (i64::from(*slot), i16::from(raw[0]), pseudonym_of(raw).to_vec());
                    c.execute(
                        "INSERT INTO keyring_slots (slot, state, pseudonym, raw) VALUES ($1, $2, $3, $4)",
                        &[&n, &state, &p, &raw.to_vec()],
                    )?;
                }
                c.batch(
                    "SELECT setval(pg_get_serial_sequence('keyring_slots', 'slot'), \
                     coalesce((SELECT max(slot) + 1 FROM keyring_slots), 0), false)",
                )?;
                c.execute("INSERT INTO sealing (id) VALUES (1) ON CONFLICT (id) DO NOTHING", &[])?;
                Ok(())
            })
        })
    }
}
