//! The serve lock: at most one `sportello serve` is active on a database; the others stand
//! by until it goes away (see the module doc of `postgres`).
//!
//! A session-level `pg_advisory_lock` held on a connection of its own, not one of the pool's:
//! the lock lives exactly as long as that session, and the pool's connections reconnect at
//! will, which would silently drop a session lock. PostgreSQL releases it when the session
//! ends: the process exits or is killed (the socket closes), the connection is cut, or
//! the backend is terminated.
//!
//! One-active processes take it exclusive. All-active processes each hold it *shared*
//! for as long as they serve: they never keep each other out, while a one-active process
//! cannot take it beside them, nor they beside it (and each side can tell which mode holds
//! it, to refuse with a clear error rather than wait).
//!
//! The key is derived from the schema holding sportello's tables (`current_schema()`), so
//! two deployments in two schemas of one database (the tests do this) do not wait on each
//! other, while every process of one deployment contends for the same key.
//!
//! Held, the lock is watched ([`ServeLock::lost`]): a check every [`CHECK_EVERY`] that the
//! session still holds it, answered within [`CHECK_TIMEOUT`]. A closed connection, a failed
//! or unanswered check means a standby may already be active: the caller must stop at once.
//!
//! Unlike `pool`, this runs on the caller's tokio runtime (the server's): it is async and
//! nobody calls it through the synchronous `Store` trait.

use std::time::Duration;

use tokio_postgres::{Client, NoTls};

use super::pool::reason;
use crate::storage::StoreError;

/// How often a standby asks for the lock.
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// How often the holder checks that it still holds the lock.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// A check not answered within this counts as the lock lost.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The lock session's `application_name` (unless the URL names one other than sportello's).
pub const APPLICATION_NAME: &str = "sportello serve lock";

fn engine(e: tokio_postgres::Error) -> StoreError {
    StoreError::Postgres(format!("serve lock: {}", reason(&e)))
}

/// The lock's key for `schema`: FNV-1a over `sportello serve <schema>`, top bit cleared
/// (a positive key reads back whole from `pg_locks`' classid and objid).
pub fn key_for(schema: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in b"sportello serve ".iter().chain(schema.as_bytes()) {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> 1) as i64
}

/// A lock's dedicated session, before or after taking the lock (also `locks`' sessions).
pub(super) struct Session {
    pub client: Client,
    /// Resolves when the connection ends (driven by a task on the caller's runtime).
    ended: tokio::sync::oneshot::Receiver<String>,
    /// The serve lock's key for this session's schema.
    key: i64,
    /// The schema holding sportello's tables (`current_schema()`).
    pub schema: String,
}

impl Session {
    /// Connects with `application` as `application_name` (unless the URL names one other
    /// than sportello's), so that lock sessions stand apart in pg_stat_activity.
    pub async fn connect(
        config: &tokio_postgres::Config,
        schema: Option<&str>,
        application: &str,
    ) -> Result<Session, StoreError> {
        let mut config = config.clone();
        if config.get_application_name().is_none_or(|n| n == "sportello") {
            config.application_name(application);
        }
        let (client, connection) = config.connect(NoTls).await.map_err(engine)?;
        let (tx, ended) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let why = match connection.await {
                Ok(()) => "the connection was closed".to_string(),
                Err(e) => format!("the connection failed: {}", reason(&e)),
            };
            let _ = tx.send(why);
        });
        if let Some(schema) = schema {
            let sql = format!("SET search_path TO {}", super::pool::quote_ident(schema));
            client.batch_execute(&sql).await.map_err(engine)?;
        }
        let row = client.query_one("SELECT current_schema()", &[]).await.map_err(engine)?;
        let current: Option<String> = row.get(0);
        let current =
            current.ok_or_else(|| StoreError::Config("postgres: no schema in the search path exists".into()))?;
        Ok(Session {
            client,
            ended,
            key: key_for(&current),
            schema: current,
        })
    }

    /// Tries the lock: exclusive (one-active), or shared with the other all-active
    /// processes, which keeps out an exclusive holder and is kept out by one.
    async fn try_lock(&self, mode: Mode) -> Result<bool, StoreError> {
        let sql = match mode {
            Mode::Exclusive => "SELECT pg_try_advisory_lock($1)",
            Mode::Shared => "SELECT pg_try_advisory_lock_shared($1)",
        };
        let row = self.client.query_one(sql, &[&self.key]).await.map_err(engine)?;
        Ok(row.get(0))
    }

    /// Whether some session holds the lock shared (all-active processes serve).
    async fn held_shared(&self) -> Result<bool, StoreError> {
        let row = self
            .client
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND mode = 'ShareLock'
                 AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1",
                &[&self.key],
            )
            .await
            .map_err(engine)?;
        Ok(row.get::<_, i64>(0) > 0)
    }

    /// Whether this session holds the lock, as `pg_locks` shows it.
    async fn holds(&self) -> Result<bool, StoreError> {
        let row = self
            .client
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                 AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1",
                &[&self.key],
            )
            .await
            .map_err(engine)?;
        Ok(row.get::<_, i64>(0) > 0)
    }
}

/// Connects the lock's session: the store's URL and schema.
pub(super) struct Locker {
    pub config: tokio_postgres::Config,
    pub schema: Option<String>,
}

/// How the serve lock is held: by the one active process, or by every all-active one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Exclusive,
    Shared,
}

/// Why [`Locker::try_lock`] did not get the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// A one-active process holds it.
    Exclusive,
    /// All-active processes hold it.
    Shared,
}

impl Locker {
    /// Takes the lock in `mode` if no session holds it in the other (or, exclusive, in
    /// any); otherwise says how it is held.
    pub async fn try_lock(&self, mode: Mode) -> Result<Result<ServeLock, Busy>, StoreError> {
        let session = Session::connect(&self.config, self.schema.as_deref(), APPLICATION_NAME).await?;
        if session.try_lock(mode).await? {
            return Ok(Ok(ServeLock { session }));
        }
        Ok(Err(if session.held_shared().await? {
            Busy::Shared
        } else {
            Busy::Exclusive
        }))
    }

    /// Waits for the lock, asking every [`POLL_EVERY`]. Cancelled by dropping the future.
    /// A connection that fails while waiting is opened again (logged), so a database restart
    /// does not end a standby.
    pub async fn lock(&self) -> ServeLock {
        let mut session: Option<Session> = None;
        let mut warned = false;
        loop {
            if session.as_ref().is_none_or(|s| s.client.is_closed()) {
                session = match Session::connect(&self.config, self.schema.as_deref(), APPLICATION_NAME).await {
                    Ok(s) => Some(s),
                    Err(e) => {
                        if !warned {
                            tracing::warn!(error = %e, "standby: cannot reach the database; retrying");
                            warned = true;
                        }
                        None
                    }
                };
            }
            if let Some(s) = &session {
                match s.try_lock(Mode::Exclusive).await {
                    Ok(true) => {
                        if let Some(session) = session.take() {
                            return ServeLock { session };
                        }
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "standby: asking for the serve lock failed; reconnecting");
                        session = None;
                    }
                }
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

/// The serve lock, held until this is dropped (which closes its session).
pub struct ServeLock {
    session: Session,
}

impl ServeLock {
    /// Resolves, with the reason, once the lock can no longer be trusted: its connection
    /// ended, or a check failed or went unanswered for [`CHECK_TIMEOUT`]. Then another
    /// process may already hold it: the caller must stop serving at once.
    pub async fn lost(&mut self) -> String {
        let mut every = tokio::time::interval(CHECK_EVERY);
        loop {
            tokio::select! {
                why = &mut self.session.ended => {
                    return why.unwrap_or_else(|_| "the connection's task ended".into());
                }
                _ = every.tick() => {}
            }
            match tokio::time::timeout(CHECK_TIMEOUT, self.session.holds()).await {
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => return "the session no longer holds the lock".into(),
                Ok(Err(e)) => return e.to_string(),
                Err(_) => return format!("the database did not answer within {CHECK_TIMEOUT:?}"),
            }
        }
    }

    /// The lock's key (`pg_locks`: classid is its high 32 bits, objid its low ones).
    pub fn key(&self) -> i64 {
        self.session.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_positive_stable_and_per_schema() {
        assert!(key_for("public") > 0);
        assert_eq!(key_for("public"), key_for("public"));
        assert_ne!(key_for("public"), key_for("comune_a"));
    }
}
