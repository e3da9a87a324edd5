//! Named locks shared by every process on the database, for several *active* `serve`s
//! (`postgres.processes = "all-active"`, see `server::shared`): a citizen's steps, a
//! broadcast's sending number, the start of broadcasts.
//!
//! Each is a session-level `pg_advisory_lock` held on a session of its own, as the serve
//! lock (`lock`): PostgreSQL releases it when the session ends, so a process that dies
//! (killed, cut off) frees every lock it held at once, and a survivor takes them. Sessions
//! are kept open and reused, [`SESSIONS`] at most per process: a lock is held for one step
//! (a few milliseconds), so a few cover many citizens, and waiting for a session is the
//! back-pressure when more are needed.
//!
//! A lock is released with [`Held::release`]. A `Held` dropped without it (a cancelled
//! task, a panic) closes its session instead, which releases the lock too.
//!
//! Keys are FNV-1a of `sportello <schema> <name>`, so two deployments in two schemas of one
//! database never wait on each other. Two names with one hash would only wait for each
//! other, never hold a lock together wrongly.
//!
//! Async, on the caller's runtime (the server's), like the serve lock: waiting for a lock
//! another process holds must not block a thread.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::lock::Session;
use super::pool::reason;
use crate::storage::StoreError;

/// Lock sessions per process at most.
pub const SESSIONS: usize = 16;
/// How long [`Locks::lock`] waits for a lock another process holds before it gives up with
/// an error (the work stays in the journal; `server::shared` retries it).
pub const WAIT_AT_MOST: Duration = Duration::from_secs(30);

/// The sessions' `application_name`, followed by the process id (unless the URL names one
/// other than sportello's): `pg_stat_activity` and `pg_locks` then tell which process holds
/// which lock.
pub const APPLICATION_NAME: &str = "sportello locks";

fn engine(e: tokio_postgres::Error) -> StoreError {
    StoreError::Postgres(format!("locks: {}", reason(&e)))
}

/// The key of lock `name` in `schema`: FNV-1a, top bit cleared (as the serve lock's).
pub fn key_for(schema: &str, name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let text = format!("sportello {schema} {name}");
    for b in text.as_bytes() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> 1) as i64
}

/// This process's lock sessions. Cheap to clone.
#[derive(Clone)]
pub struct Locks {
    inner: Arc<Inner>,
}

struct Inner {
    config: tokio_postgres::Config,
    schema: Option<String>,
    /// Open sessions holding no lock, ready for the next one.
    idle: Mutex<Vec<Session>>,
    /// One permit per session, held with it.
    permits: Arc<Semaphore>,
}

impl Locks {
    pub(super) fn new(config: tokio_postgres::Config, schema: Option<String>) -> Locks {
        Locks {
            inner: Arc::new(Inner {
                config,
                schema,
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(SESSIONS)),
            }),
        }
    }

    /// Takes lock `name`, waiting while another session holds it, [`WAIT_AT_MOST`] at most.
    pub async fn lock(&self, name: &str) -> Result<Held, StoreError> {
        let (session, permit) = self.session().await?;
        let key = key_for(&session.schema, name);
        match session.client.execute("SELECT pg_advisory_lock($1)", &[&key]).await {
            Ok(_) => Ok(self.held(session, permit, key)),
            Err(e) => {
                // A lock_timeout leaves the session usable; anything else, start afresh.
                if !session.client.is_closed() && e.as_db_error().is_some() {
                    self.give_back(session);
                }
                Err(engine(e))
            }
        }
    }

    /// Takes lock `name` if no other session holds it; `None` if one does.
    pub async fn try_lock(&self, name: &str) -> Result<Option<Held>, StoreError> {
        let (session, permit) = self.session().await?;
        let key = key_for(&session.schema, name);
        let row = session
            .client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await
            .map_err(engine)?;
        if row.get::<_, bool>(0) {
            Ok(Some(self.held(session, permit, key)))
        } else {
            self.give_back(session);
            Ok(None)
        }
    }

    fn held(&self, session: Session, permit: OwnedSemaphorePermit, key: i64) -> Held {
        Held {
            session: Some(session),
            key,
            locks: self.clone(),
            _permit: permit,
        }
    }

    /// An open session and its permit: an idle one, or a new connection.
    async fn session(&self) -> Result<(Session, OwnedSemaphorePermit), StoreError> {
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("postgres: the citizen locks are closed"))?;
        let idle = self.inner.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        if let Some(session) = idle.filter(|s| !s.client.is_closed()) {
            return Ok((session, permit));
        }
        let name = format!("{APPLICATION_NAME} {}", std::process::id());
        let session = Session::connect(&self.inner.config, self.inner.schema.as_deref(), &name).await?;
        let wait = format!("SET lock_timeout TO {}", WAIT_AT_MOST.as_millis());
        session.client.batch_execute(&wait).await.map_err(engine)?;
        Ok((session, permit))
    }

    fn give_back(&self, session: Session) {
        self.inner.idle.lock().unwrap_or_else(|p| p.into_inner()).push(session);
    }
}

/// A lock held, until [`Held::release`] (or the drop of its session).
pub struct Held {
    session: Option<Session>,
    key: i64,
    locks: Locks,
    _permit: OwnedSemaphorePermit,
}

impl Held {
    /// Releases the lock; its session is kept for the next one.
    pub async fn release(mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        match session
            .client
            .query_one("SELECT pg_advisory_unlock($1)", &[&self.key])
            .await
        {
            Ok(row) if row.get::<_, bool>(0) => self.locks.give_back(session),
            // Not held (cannot happen) or not answered: closing the session releases
            // whatever it holds.
            _ => drop(session),
        }
    }

    /// The lock's key (`pg_locks`: classid is its high 32 bits, objid its low ones).
    pub fn key(&self) -> i64 {
        self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_positive_and_differ_by_schema_and_name() {
        let a = key_for("public", "citizen x");
        assert!(a > 0);
        assert_eq!(a, key_for("public", "citizen x"));
        assert_ne!(a, key_for("other", "citizen x"));
        assert_ne!(a, key_for("public", "citizen y"));
        assert_ne!(a, super::super::lock::key_for("public"));
    }
}
