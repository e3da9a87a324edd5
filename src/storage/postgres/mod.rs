//! The PostgreSQL backend (`storage = "postgres"`, the URL in `SPORTELLO_DATABASE_URL`).
//!
//! One table per sled tree, named as the tree (`keys.rs` documents them), holding the same
//! key and value bytes (values are JSON), plus copies of the fields that queries filter or
//! order on (comune, the citizen's key, timestamps). `migrations/` creates them; the
//! migrations are embedded and applied at open, recorded in `schema_migrations`.
//!
//! Semantics are sled's, call for call (the shared suite in `tests/storage.rs` checks it):
//! the same key order, the same ids (one sequence, `sportello_ids`, for every tree as
//! sled's `generate_id`), the same `mentions` over keys and values as bytes. `commit_step`
//! and `scrub_citizen` are one transaction each; `record_inbound` deduplicates with
//! `INSERT … ON CONFLICT DO NOTHING`, which holds across processes.
//!
//! Durability is sled's too: a write is visible to everyone when it returns and durable
//! after `flush`. Sessions run with `synchronous_commit = off`, so a commit does not wait
//! for its fsync; `flush` commits a transaction with `synchronous_commit = on`, which
//! returns once the WAL is on disk up to it, and so every earlier commit. The server
//! already flushes (through the group commit) before it answers a provider or sends a
//! reply, so one fsync covers many writes, as with sled. A crash of PostgreSQL loses at most
//! the commits since the last flush, whole transactions only, never a part of one. Measured
//! in BENCHMARKS.md: with a commit fsynced per write, a step cost several fsyncs.
//!
//! Files: this module holds the tables' SQL and row writers, `store` the trait's calls,
//! `schema` the migrations, `copy` whole-store copies, `lock` the serve lock, `locks` the
//! shared named locks, `replicas` what several active processes need.
//!
//! Connections: see `pool` (a few threads, each with its own current-thread runtime and
//! connection, because the trait is synchronous and called from tokio tasks). No TLS: the
//! client is built without it, so use a Unix socket or loopback, or a tunnel for a remote
//! server; `sslmode=require` in the URL is refused.
//!
//! Several `serve` processes on one database, by default one active and the others hot
//! standbys. The active one holds the *serve lock* (`lock`: a session-level
//! `pg_advisory_lock` on its own connection, keyed by the schema); a standby polls for it,
//! answering 503 meanwhile (`server::standby`), and once it holds it runs the ordinary
//! recovery: the journal and outbox the previous process left are exactly the work to take
//! over. A process that loses the lock (its session ends or stops answering) exits at once,
//! non-zero, since a standby may already be active (`cli::serve`).
//!
//! Or all active (`postgres.processes = "all-active"`, `server::shared`): named locks shared
//! by the processes (`locks`: a citizen, a broadcast number, starting broadcasts), and the
//! calls beyond the `Store` trait they need (`replicas`: heartbeats, a citizen's waiting
//! messages in order, claimed replies, taking over a stopped process's replies).
//!
//! This module must not hold a value in a column of its own that the JSON does not hold: the
//! value bytes stay the record, the columns are indexes over it.

mod broadcasts;
mod cases;
mod citizens;
mod copy;
mod journal;
pub mod keyring;
mod lock;
mod locks;
mod pool;
mod replicas;
mod schema;
mod staff;
mod store;

use std::sync::Arc;

use self::pool::{Conn, Pool, Settings};
use super::keys::{
    closure_key, comune_prefix, decode_delivery_key, delivery_key, faq_edit_key, stat_key, CitizenKey, ACCOUNTS_TREE,
    AUDIT_TREE, BROADCASTS_TREE, CASES_TREE, CITIZENS_TREE, CLOSURES_TREE, CONVERSATIONS_TREE, DELIVERIES_TREE,
    ERASING_TREE, FAQ_EDITS_TREE, INBOUND_TREE, LEDGER_TREE, OUTBOX_TREE, SENT_TREE, SESSIONS_TREE, STATS_TREE,
};
use super::{
    anonymized, decode, decode_as, done_entry, encode, Account, AuditEntry, ClosureEdit, Conversation, FaqEdit,
    InboundEntry, LedgerEntry, ModerationCase, OutboundEntry, Scrubbed, SentEntry, Session, StepEffects, Store,
    StoreError,
};
use crate::storage::records::Citizen;
use crate::storage::records::{Broadcast, Delivery};

pub use self::copy::{checksums, TreeSum, TREES};
pub use self::lock::{
    key_for as serve_lock_key, Busy, Mode as LockMode, ServeLock, CHECK_EVERY, CHECK_TIMEOUT, POLL_EVERY,
};
pub use self::locks::{key_for as lock_key, Held, Locks};
pub use self::replicas::{orphaned, Adoption, Claim};
pub use self::schema::MIGRATIONS;

/// The environment variable holding the server's URL (never in the configuration file).
pub const DATABASE_URL_ENV: &str = "SPORTELLO_DATABASE_URL";
/// Connections (and worker threads) by default. Measured in BENCHMARKS.md on 2 cores: in
/// the server's mode fewer connections were faster (1 best, then 2, 4, 8: more threads
/// competing for the cores); 2 keeps one slow call (a console listing) from stalling
/// every citizen. More cores: raise `postgres.connections`.
pub const DEFAULT_CONNECTIONS: usize = 2;

/// A PostgreSQL database holding sportello's trees. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: Arc<Pool>,
    /// Connects the serve lock's own session (`lock`).
    locker: Arc<lock::Locker>,
    /// Named locks shared with the other processes (`locks`), for several active ones.
    locks: Locks,
}

/// How to open a [`PgStore`].
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// A `postgres://` URL or a `key=value` connection string.
    pub url: String,
    /// A schema of its own (created if missing) instead of the role's search path: tests
    /// use a fresh one per run.
    pub schema: Option<String>,
    pub connections: usize,
}

impl PgOptions {
    pub fn new(url: &str) -> PgOptions {
        PgOptions {
            url: url.to_string(),
            schema: None,
            connections: DEFAULT_CONNECTIONS,
        }
    }
}

impl PgStore {
    /// Connects, applies the migrations this database lacks and checks it was not written by
    /// a newer sportello.
    pub fn open(options: &PgOptions) -> Result<PgStore, StoreError> {
        let mut config: tokio_postgres::Config = options
            .url
            .parse()
            .map_err(|e| StoreError::Config(format!("the database URL is not valid: {e}")))?;
        if config.get_application_name().is_none() {
            // Names sportello's sessions in pg_stat_activity.
            config.application_name("sportello");
        }
        if config.get_connect_timeout().is_none() {
            // A server that does not answer is reported at start, not after TCP gives up.
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
            return Err(StoreError::Config(
                "sslmode=require: this build has no TLS; connect over a Unix socket, loopback or a tunnel".into(),
            ));
        }
        if let Some(schema) = &options.schema {
            // Created on a connection of its own, before the pool sets it as search path.
            let bootstrap = Pool::start(
                Settings {
                    config: config.clone(),
                    schema: None,
                },
                1,
            )?;
            let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", pool::quote_ident(schema));
            bootstrap.run(move |c| c.batch(&sql))?;
        }
        let locker = lock::Locker {
            config: config.clone(),
            schema: options.schema.clone(),
        };
        let locks = Locks::new(config.clone(), options.schema.clone());
        let pool = Pool::start(
            Settings {
                config,
                schema: options.schema.clone(),
            },
            options.connections,
        )?;
        pool.run(schema::apply)?;
        Ok(PgStore {
            pool: Arc::new(pool),
            locker: Arc::new(locker),
            locks,
        })
    }

    /// The locks shared with the other processes on this database (`locks`).
    pub fn locks(&self) -> &Locks {
        &self.locks
    }

    /// Takes the serve lock in `mode` unless another session holds it in a way that keeps
    /// this one out (see `lock`), else says how it is held. Async, on the caller's
    /// runtime, over a connection of its own.
    pub async fn try_serve_lock(&self, mode: LockMode) -> Result<Result<ServeLock, Busy>, StoreError> {
        self.locker.try_lock(mode).await
    }

    /// Waits for the serve lock, asking every [`POLL_EVERY`]; cancelled by dropping the
    /// future. A failing connection is logged and opened again: it returns with the lock.
    pub async fn serve_lock(&self) -> ServeLock {
        self.locker.lock().await
    }

    /// Drops a schema and everything in it (tests clean up their fresh schema with it).
    pub fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Config(format!("the database URL is not valid: {e}")))?;
        let pool = Pool::start(Settings { config, schema: None }, 1)?;
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", pool::quote_ident(schema));
        pool.run(move |c| c.batch(&sql))
    }

    /// Runs `f` on a connection (see `pool`).
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.pool.run(f)
    }
}

/// Nanoseconds since the epoch, the timestamp columns' unit (exact, so comparisons agree
/// with the JSON's).
fn nanos(t: jiff::Timestamp) -> i64 {
    i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX)
}

/// The citizen column: the key as in `citizenkey_citizen`, `None` once anonymized.
fn citizen_col(key: &CitizenKey) -> Option<Vec<u8>> {
    key.encode().ok()
}

fn id_of(tree: &'static str, id: i64) -> Result<u64, StoreError> {
    u64::try_from(id).map_err(|_| StoreError::Corrupt {
        tree,
        reason: "negative id".into(),
    })
}

fn sql_id(id: u64) -> i64 {
    // Ids come from the sequence (positive BIGINT); a larger one names no row.
    i64::try_from(id).unwrap_or(-1)
}

/// The end of a prefix scan: the prefix with its last byte (0x00, a separator) raised.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}

/// A record's key and value bytes.
type KeyValue = (Vec<u8>, Vec<u8>);

/// The SQL of a plain key-value tree (key BYTEA, value BYTEA), by table name.
pub(super) struct KvTree {
    pub name: &'static str,
    get: &'static str,
    put: &'static str,
    delete: &'static str,
    all: &'static str,
    range: &'static str,
}

macro_rules! kv_tree {
    ($name:literal) => {
        KvTree {
            name: $name,
            get: concat!("SELECT v FROM ", $name, " WHERE k = $1"),
            put: concat!(
                "INSERT INTO ",
                $name,
                " (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v"
            ),
            delete: concat!("DELETE FROM ", $name, " WHERE k = $1"),
            all: concat!("SELECT k, v FROM ", $name, " ORDER BY k"),
            range: concat!("SELECT k, v FROM ", $name, " WHERE k >= $1 AND k < $2 ORDER BY k"),
        }
    };
}

const CITIZENS: KvTree = kv_tree!("citizenkey_citizen");
const ACCOUNTS: KvTree = kv_tree!("email_account");
const SESSIONS: KvTree = kv_tree!("tokenhash_session");
const CONVERSATIONS: KvTree = kv_tree!("citizenkey_conversation");
const ERASING: KvTree = kv_tree!("citizenkey_erasing");
const ALIASES: KvTree = kv_tree!("citizenkey_alias");
const FAQ_EDITS: KvTree = kv_tree!("faqkey_edit");
const CLOSURES: KvTree = kv_tree!("closurekey_closure");
const BROADCASTS: KvTree = kv_tree!("broadcastid_broadcast");
const DELIVERIES: KvTree = kv_tree!("broadcastrecipient_delivery");

impl KvTree {
    fn get(&'static self, c: &mut Conn, k: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(c.query_opt(self.get, &[&k])?.map(|r| r.get(0)))
    }
    /// Queued to go with the next round trip ([`Conn::later`]).
    fn put(&'static self, c: &mut Conn, k: &[u8], v: &[u8]) -> Result<(), StoreError> {
        c.later(self.put, &[&k, &v])
    }
    fn delete(&'static self, c: &mut Conn, k: &[u8]) -> Result<u64, StoreError> {
        c.execute(self.delete, &[&k])
    }
    /// Every record in key order.
    fn all(&'static self, c: &mut Conn) -> Result<Vec<KeyValue>, StoreError> {
        Ok(c.query(self.all, &[])?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }
    /// The records whose key starts with `prefix` (ending in 0x00), in key order.
    fn prefix(&'static self, c: &mut Conn, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        let end = prefix_end(prefix);
        Ok(c.query(self.range, &[&prefix, &end])?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    /// `get` on a connection of the pool, decoded.
    fn read<T: serde::de::DeserializeOwned + Send + 'static>(
        &'static self,
        store: &PgStore,
        k: Vec<u8>,
    ) -> Result<Option<T>, StoreError> {
        let tree = self.name;
        store.run(move |c| self.get(c, &k)?.map(|v| decode_as(tree, &v)).transpose())
    }

    fn write(&'static self, store: &PgStore, k: Vec<u8>, v: Vec<u8>) -> Result<(), StoreError> {
        store.run(move |c| self.put(c, &k, &v))
    }

    fn remove(&'static self, store: &PgStore, k: Vec<u8>) -> Result<(), StoreError> {
        store.run(move |c| self.delete(c, &k).map(drop))
    }
}

const INBOUND_PUT_NEW: &str = "INSERT INTO inboundid_inbound (k, v, citizen, done, received_ns) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (k) DO NOTHING";
const INBOUND_SET: &str = "INSERT INTO inboundid_inbound (k, v, citizen, done, received_ns) \
     VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (k) DO UPDATE SET v = excluded.v, citizen = excluded.citizen, done = excluded.done, \
     received_ns = excluded.received_ns";
const OUTBOX_PUT: &str = "INSERT INTO outboxid_outbound (id, v, citizen) VALUES ($1, $2, $3) \
     ON CONFLICT (id) DO UPDATE SET v = excluded.v, citizen = excluded.citizen";
const SENT_PUT: &str = "INSERT INTO sentid_sent (k, v, citizen, sent_ns) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (k) DO UPDATE SET v = excluded.v, citizen = excluded.citizen, sent_ns = excluded.sent_ns";
const CASE_PUT: &str = "INSERT INTO caseid_case (id, v, comune, citizen) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (id) DO UPDATE SET v = excluded.v, comune = excluded.comune, citizen = excluded.citizen";
const LEDGER_PUT: &str = "INSERT INTO ledgerid_entry (id, v, comune, citizen) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (id) DO UPDATE SET v = excluded.v, comune = excluded.comune, citizen = excluded.citizen";
const AUDIT_PUT: &str = "INSERT INTO auditid_entry (id, v, comune) VALUES ($1, $2, $3) \
     ON CONFLICT (id) DO UPDATE SET v = excluded.v, comune = excluded.comune";
const STAT_PUT: &str = "INSERT INTO statkey_count (k, comune, month, metric, n) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (k) DO UPDATE SET n = statkey_count.n + excluded.n";
const NEXT_IDS: &str = "SELECT nextval('sportello_ids') FROM generate_series(1, $1::INT)";
const NEXT_ID: &str = "SELECT nextval('sportello_ids')";
/// The durability barrier (see `flush`).
const FLUSH: &str = "BEGIN; SET LOCAL synchronous_commit TO on; SELECT pg_current_xact_id(); COMMIT;";

/// Writers of one record of each tree with extra columns: the value's bytes as given, the
/// columns from the decoded value. Used by the store's methods and by `copy` (which must
/// write back exactly the bytes it read), so the columns are computed in one place. Those
/// whose result decides nothing are queued ([`Conn::later`]): they go with the job's next
/// statement, its transaction's `COMMIT`, or at the end of the job.
fn put_inbound(c: &mut Conn, new_only: bool, k: &[u8], v: &[u8], e: &InboundEntry) -> Result<u64, StoreError> {
    let sql = if new_only { INBOUND_PUT_NEW } else { INBOUND_SET };
    c.execute(sql, &[&k, &v, &citizen_col(&e.key), &e.done, &nanos(e.received_at)])
}

/// [`put_inbound`] replacing the entry, queued to go with the next round trip.
fn set_inbound_later(c: &mut Conn, k: &[u8], v: &[u8], e: &InboundEntry) -> Result<(), StoreError> {
    c.later(
        INBOUND_SET,
        &[&k, &v, &citizen_col(&e.key), &e.done, &nanos(e.received_at)],
    )
}

/// Inside a transaction: outbox entry `id`, its row locked until the transaction ends (an
/// erasure deleting it meanwhile waits); `None` when it is gone.
fn locked_outbound(c: &mut Conn, id: u64) -> Result<Option<OutboundEntry>, StoreError> {
    let row = c.query_opt(
        "SELECT v FROM outboxid_outbound WHERE id = $1 FOR UPDATE",
        &[&sql_id(id)],
    )?;
    row.map(|r| decode_as(OUTBOX_TREE, &r.get::<_, Vec<u8>>(0))).transpose()
}

fn put_outbound(c: &mut Conn, id: u64, v: &[u8], e: &OutboundEntry) -> Result<(), StoreError> {
    c.later(OUTBOX_PUT, &[&sql_id(id), &v, &citizen_col(&e.key)])
}

fn put_sent_row(c: &mut Conn, k: &[u8], v: &[u8], e: &SentEntry) -> Result<(), StoreError> {
    c.later(SENT_PUT, &[&k, &v, &citizen_col(&e.key), &nanos(e.sent_at)])
}

fn put_case_row(c: &mut Conn, id: u64, v: &[u8], case: &ModerationCase) -> Result<(), StoreError> {
    c.later(CASE_PUT, &[&sql_id(id), &v, &case.key.comune, &citizen_col(&case.key)])
}

fn put_ledger_row(c: &mut Conn, id: u64, v: &[u8], e: &LedgerEntry) -> Result<(), StoreError> {
    c.later(LEDGER_PUT, &[&sql_id(id), &v, &e.comune, &e.citizen_key()])
}

fn put_audit_row(c: &mut Conn, id: u64, v: &[u8], e: &AuditEntry) -> Result<(), StoreError> {
    c.later(AUDIT_PUT, &[&sql_id(id), &v, &e.comune])
}

fn add_stat(c: &mut Conn, comune: &str, month: &str, metric: &str, by: u64) -> Result<(), StoreError> {
    add_stat_row(c, &stat_key(comune, month, metric), comune, month, metric, by)
}

/// Adds `by` to the counter under `k` (created at `by`).
fn add_stat_row(c: &mut Conn, k: &[u8], comune: &str, month: &str, metric: &str, by: u64) -> Result<(), StoreError> {
    let by = i64::try_from(by).unwrap_or(i64::MAX);
    c.later(STAT_PUT, &[&k, &comune, &month, &metric, &by])
}

fn next_id(c: &mut Conn) -> Result<u64, StoreError> {
    let row = c
        .query_opt(NEXT_ID, &[])?
        .ok_or_else(|| StoreError::Postgres("nextval returned nothing".into()))?;
    id_of("sportello_ids", row.get(0))
}

/// `(id, value)` rows of an id tree, decoded.
fn id_rows<T: serde::de::DeserializeOwned>(
    tree: &'static str,
    rows: Vec<tokio_postgres::Row>,
) -> Result<Vec<(u64, T)>, StoreError> {
    rows.into_iter()
        .map(|r| Ok((id_of(tree, r.get(0))?, decode_as(tree, &r.get::<_, Vec<u8>>(1))?)))
        .collect()
}

/// The tables `mentions` searches, with whether their key is text (searched too).
const SEARCHED: [(&str, &str); 16] = [
    (
        BROADCASTS_TREE,
        "SELECT EXISTS (SELECT 1 FROM broadcastid_broadcast WHERE position($1 in v) > 0)",
    ),
    (
        DELIVERIES_TREE,
        "SELECT EXISTS (SELECT 1 FROM broadcastrecipient_delivery WHERE position($1 in k) > 0 OR position($1 in v) > 0)",
    ),
    (
        CITIZENS_TREE,
        "SELECT EXISTS (SELECT 1 FROM citizenkey_citizen WHERE position($1 in k) > 0 OR position($1 in v) > 0)",
    ),
    (
        INBOUND_TREE,
        "SELECT EXISTS (SELECT 1 FROM inboundid_inbound WHERE position($1 in k) > 0 OR position($1 in v) > 0)",
    ),
    (
        OUTBOX_TREE,
        "SELECT EXISTS (SELECT 1 FROM outboxid_outbound WHERE position($1 in v) > 0)",
    ),
    (
        SENT_TREE,
        "SELECT EXISTS (SELECT 1 FROM sentid_sent WHERE position($1 in k) > 0 OR position($1 in v) > 0)",
    ),
    (
        CASES_TREE,
        "SELECT EXISTS (SELECT 1 FROM caseid_case WHERE position($1 in v) > 0)",
    ),
    (
        LEDGER_TREE,
        "SELECT EXISTS (SELECT 1 FROM ledgerid_entry WHERE position($1 in v) > 0)",
    ),
    (
        AUDIT_TREE,
        "SELECT EXISTS (SELECT 1 FROM auditid_entry WHERE position($1 in v) > 0)",
    ),
    (
        STATS_TREE,
        "SELECT EXISTS (SELECT 1 FROM statkey_count WHERE position($1 in k) > 0)",
    ),
    (
        ACCOUNTS_TREE,
        "SELECT EXISTS (SELECT 1 FROM email_account WHERE position($1 in k) > 0 OR position($1 in v) > 0)",
    ),
    (
        SESSIONS_TREE,
        "SELECT EXISTS (SELECT 1 FROM tokenhash_session WHERE position($1 in k) > 0 OR position($1 in v) > 0)",
    ),
    (
        CONVERSATIONS_TREE,
        "SELECT EXISTS (SELECT 1 FROM citizenkey_conversation WHERE position($1 in k) > 0 OR position($1 in v) > 0)",
    ),
    (
        ERASING_TREE,
        "SELECT EXISTS (SELECT 1 FROM citizenkey_erasing WHERE position($1 in k) > 0 OR position($1 in v) > 0)",
    ),
    (
        FAQ_EDITS_TREE,
        "SELECT EXISTS (SELECT 1 FROM faqkey_edit WHERE position($1 in k) > 0 OR position($1 in v) > 0)",
    ),
    (
        CLOSURES_TREE,
        "SELECT EXISTS (SELECT 1 FROM closurekey_closure WHERE position($1 in k) > 0 OR position($1 in v) > 0)",
    ),
];
