//! The connections behind [`PgStore`](super::PgStore): a few worker threads, each owning a
//! current-thread tokio runtime and one `tokio-postgres` connection.
//!
//! Why threads: the `Store` trait is synchronous and is called from inside tokio tasks. The
//! blocking `postgres` crate starts a runtime of its own and panics there, and
//! `block_on` on the caller's runtime is refused too. So a call sends a job over a std
//! channel to a worker and waits for its answer on another; the worker runs the job's
//! queries with `block_on` on its own runtime, where nothing else runs. Waiting blocks the
//! caller's thread for one round trip, as a sled call blocks on its disk; in the server
//! that caps calls in flight at the number of tokio workers (measured in BENCHMARKS.md,
//! "sled and PostgreSQL": 3,000 to 4,500 steps/s on 2 cores, 6,000 to 8,000 from plain
//! threads). One thread per connection keeps each connection's statements and transaction
//! on one thread with no lock around it; a job queue shared by the workers lets any idle
//! one take it.
//!
//! A connection the server closed (a restart) fails the call that finds it closed; the next
//! call on that worker connects again.
//!
//! This module owns connecting, reconnecting, prepared statements and transactions. It knows
//! nothing of sportello's tables.

use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{Client, NoTls, Row, Statement};

use crate::storage::StoreError;

/// What a worker needs to (re)connect.
pub(super) struct Settings {
    pub config: tokio_postgres::Config,
    /// `SET search_path` on every connection (tests: one fresh schema per run).
    pub schema: Option<String>,
}

fn engine(e: tokio_postgres::Error) -> StoreError {
    StoreError::Postgres(reason(&e))
}

/// The driver's message with the server's own when there is one: the driver's alone is a
/// bare "db error". Only the server's primary message (a constraint's or a relation's
/// name, a syntax error), never its detail, which can quote a row's values.
pub(super) fn reason(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{e}: {} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// One connection and the runtime that drives it. Used by one worker thread only.
pub(super) struct Conn {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    statements: HashMap<&'static str, Statement>,
    settings: Arc<Settings>,
    /// Statements to send with the next round trip, in order ([`Conn::later`], a
    /// transaction's `BEGIN`).
    queued: Vec<Queued>,
}

impl Conn {
    fn new(settings: Arc<Settings>) -> Result<Conn, StoreError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io {
                what: "cannot start a runtime".into(),
                source: e,
            })?;
        let mut conn = Conn {
            rt,
            client: None,
            statements: HashMap::new(),
            settings,
            queued: Vec::new(),
        };
        conn.connect()?;
        Ok(conn)
    }

    /// Opens the connection again if the server closed it (a restart, a network cut).
    fn connect(&mut self) -> Result<(), StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.statements.clear();
            self.client = None;
            let (client, connection) = self.rt.block_on(self.settings.config.connect(NoTls)).map_err(engine)?;
            // Driven whenever this thread is inside `block_on`, which is whenever the client
            // is used: nothing else runs on this runtime.
            self.rt.spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "postgres connection closed");
                }
            });
            // Commits return once written to the WAL buffer, not once fsynced: `flush`
            // (`PgStore::flush`) is the durability barrier, as sled's. See the module doc
            // of `postgres`.
            let mut setup = String::from("SET synchronous_commit TO off;");
            if let Some(schema) = &self.settings.schema {
                setup.push_str(&format!("SET search_path TO {};", quote_ident(schema)));
            }
            self.rt.block_on(client.batch_execute(&setup)).map_err(engine)?;
            self.client = Some(client);
        }
        Ok(())
    }

    /// The runtime and the connection, connected.
    fn parts(&mut self) -> Result<(&tokio::runtime::Runtime, &Client), StoreError> {
        self.connect()?;
        match &self.client {
            Some(client) => Ok((&self.rt, client)),
            None => Err(StoreError::Unavailable("postgres: no connection")),
        }
    }

    /// The prepared statement of `sql` (prepared once per connection).
    fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            if self.client.as_ref().is_some_and(|c| !c.is_closed()) {
                return Ok(s.clone());
            }
        }
        let (rt, client) = self.parts()?;
        let statement = rt.block_on(client.prepare(sql)).map_err(engine)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    pub fn query(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
        let statement = self.statement(sql)?;
        self.after_queued(|client| async move { client.query(&statement, params).await })
    }

    pub fn query_opt(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs `sql`; returns how many rows it changed.
    pub fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        self.after_queued(|client| async move { client.execute(&statement, params).await })
    }

    /// Queues `sql`, a write whose result decides nothing, to go with the next round trip
    /// (the next statement, the transaction's `COMMIT`, or the end of the job): a step's
    /// writes then cost one round trip, not one each. Its parameters are encoded now. An
    /// error shows at the statement it went with.
    pub fn later(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<(), StoreError> {
        let statement = self.statement(sql)?;
        if statement.params().len() != params.len() {
            return Err(StoreError::Postgres(format!(
                "{} parameters given, {} expected",
                params.len(),
                statement.params().len()
            )));
        }
        let mut encoded = Vec::with_capacity(params.len());
        for (param, ty) in params.iter().zip(statement.params()) {
            let mut buf = BytesMut::new();
            encoded.push(match param.to_sql_checked(ty, &mut buf) {
                Ok(IsNull::Yes) => Encoded(None),
                Ok(IsNull::No) => Encoded(Some(buf.to_vec())),
                Err(e) => return Err(StoreError::Postgres(format!("a parameter cannot be encoded: {e}"))),
            });
        }
        self.queued.push(Queued::Execute(statement, encoded));
        if self.queued.len() >= MAX_QUEUED {
            // A long run of writes (a copy into the database) in bounded memory.
            self.send_queued()?;
        }
        Ok(())
    }

    /// Runs several statements without parameters (migrations, BEGIN/COMMIT).
    pub fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.after_queued(|client| async move { client.batch_execute(sql).await })
    }

    /// Sends what is queued, if anything (the end of a job).
    pub fn send_queued(&mut self) -> Result<(), StoreError> {
        if self.queued.is_empty() {
            return Ok(());
        }
        self.after_queued(|_| std::future::ready(Ok(())))
    }

    /// What is queued, then `last`, pipelined: sent one after another without waiting for
    /// the answers, so the lot costs one round trip (tokio-postgres sends a request when
    /// its future is first polled, and they are first polled in order). `last`'s answer, or
    /// the first error.
    fn after_queued<'c, T, F, Fut>(&'c mut self, last: F) -> Result<T, StoreError>
    where
        F: FnOnce(&'c Client) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>> + 'c,
    {
        let queued = std::mem::take(&mut self.queued);
        let (rt, client) = self.parts()?;
        if queued.is_empty() {
            return rt.block_on(last(client)).map_err(engine);
        }
        type Sent<'a> = Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + 'a>>;
        let mut earlier: Vec<Sent<'_>> = queued
            .iter()
            .map(|q| -> Sent<'_> {
                match q {
                    Queued::Batch(sql) => Box::pin(client.batch_execute(sql)),
                    Queued::Execute(statement, params) => {
                        Box::pin(async move { client.execute_raw(statement, params.iter()).await.map(drop) })
                    }
                }
            })
            .collect();
        let mut done = vec![false; earlier.len()];
        let mut last = Box::pin(last(client));
        let mut answer = None;
        rt.block_on(std::future::poll_fn(|cx| {
            for (f, d) in earlier.iter_mut().zip(done.iter_mut()) {
                if !*d {
                    match f.as_mut().poll(cx) {
                        Poll::Ready(Ok(())) => *d = true,
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => {}
                    }
                }
            }
            if answer.is_none() {
                if let Poll::Ready(a) = last.as_mut().poll(cx) {
                    answer = Some(a);
                }
            }
            if done.iter().all(|d| *d) {
                if let Some(a) = answer.take() {
                    return Poll::Ready(a);
                }
            }
            Poll::Pending
        }))
        .map_err(engine)
    }

    /// Runs `f` in a transaction: its `BEGIN` goes with the first statement, its queued
    /// writes with the `COMMIT`. On an error the transaction is rolled back (or, when
    /// nothing was sent yet, never begun).
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.queued.push(Queued::Batch(BEGIN));
        match f(self) {
            Ok(value) => {
                self.batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                // Still queued, the `BEGIN` was never sent: nothing to roll back.
                let begun = !self.queued.iter().any(|q| matches!(q, Queued::Batch(BEGIN)));
                self.queued.clear();
                if begun && self.batch("ROLLBACK").is_err() {
                    // The connection is in an unknown state: start afresh next time.
                    self.client = None;
                }
                Err(e)
            }
        }
    }
}

const BEGIN: &str = "BEGIN";

/// The most statements queued before they are sent anyway.
const MAX_QUEUED: usize = 1024;

/// A statement waiting to go with the next round trip ([`Conn::later`]).
enum Queued {
    /// Statements without parameters (`BEGIN`).
    Batch(&'static str),
    /// A prepared statement and its parameters, encoded.
    Execute(Statement, Vec<Encoded>),
}

/// A parameter already in PostgreSQL's binary form (`None`: NULL), encoded for the type
/// the statement was prepared with.
#[derive(Debug)]
struct Encoded(Option<Vec<u8>>);

impl ToSql for Encoded {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            None => Ok(IsNull::Yes),
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// `name` as a quoted SQL identifier.
pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

type Job = Box<dyn FnOnce(&mut Conn) + Send>;

/// The worker threads and the queue of jobs they share.
pub(super) struct Pool {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    /// Starts `size` workers, each connected before this returns (so a wrong URL or a
    /// server that is down is reported at start, not at the first message).
    pub fn start(settings: Settings, size: usize) -> Result<Pool, StoreError> {
        let settings = Arc::new(settings);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut workers = Vec::new();
        for n in 0..size.max(1) {
            let (ready_tx, ready) = mpsc::channel();
            let (settings, queue) = (settings.clone(), queue.clone());
            let handle = std::thread::Builder::new()
                .name(format!("postgres-{n}"))
                .spawn(move || {
                    let mut conn = match Conn::new(settings) {
                        Ok(c) => {
                            let _ = ready_tx.send(Ok(()));
                            c
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    loop {
                        // The lock is held only while waiting for the next job, never while
                        // running one: idle workers queue up on it.
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut conn),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| StoreError::Io {
                    what: "cannot start a thread".into(),
                    source: e,
                })?;
            workers.push(handle);
            ready
                .recv_timeout(Duration::from_secs(60))
                .map_err(|_| StoreError::Unavailable("postgres: no answer while connecting"))??;
        }
        Ok(Pool {
            jobs: Mutex::new(Some(jobs)),
            workers: Mutex::new(workers),
        })
    }

    /// Runs `f` on a worker's connection and waits for its result.
    pub fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |conn| {
            // Writes queued outside a transaction are sent before the answer, whatever it
            // is, as each was when it ran at once (a failed transaction cleared its own).
            let answer = f(conn);
            let sent = conn.send_queued();
            let _ = tx.send(answer.and_then(|value| sent.map(|()| value)));
        });
        {
            let jobs = self.jobs.lock().map_err(|_| closed())?;
            jobs.as_ref().ok_or_else(closed)?.send(job).map_err(|_| closed())?;
        }
        // A worker that panicked drops the sender: an error, not a hang.
        rx.recv().map_err(|_| closed())?
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("postgres: the connection pool is closed")
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the queue ends every worker after the job it is running.
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Ok(mut workers) = self.workers.lock() {
            for w in workers.drain(..) {
                let _ = w.join();
            }
        }
    }
}
