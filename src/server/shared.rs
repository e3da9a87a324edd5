//! Several active `sportello serve` processes on one PostgreSQL database
//! (`postgres.processes = "all-active"`): every process takes webhooks, console requests
//! and broadcasts, and together they behave as one.
//!
//! - **Deduplication** is the journal's primary key (`record_inbound` inserts with
//!   `ON CONFLICT DO NOTHING`): a redelivery reaching another process is still a duplicate.
//! - **A citizen's order.** Every step, staff action and simulator message of a citizen
//!   runs under the citizen's lock, shared by all processes (`storage::postgres::locks`).
//!   Holding it, a process does not run the message it was handed but *every* message of
//!   the citizen still waiting in the journal, in the provider's order (timestamp, then
//!   arrival): a message that reached the other process first is run first, by whoever
//!   holds the lock first, and the other process then finds nothing left to do. Within a
//!   process the per-citizen queue still orders the work, so the lock is rarely contended.
//! - **Replies** carry their owner (the process that created or claimed them) and are sent
//!   only after a claim (`PgStore::claim_outbound`): never by two processes. A claim waits
//!   while an earlier reply to the same citizen is another process's (the sender asks again,
//!   10 ms doubling to 1 s, without holding a send permit), so a citizen reads the replies
//!   of consecutive steps in order even when two processes ran them.
//! - **Broadcasts**: one process at a time starts due broadcasts (a lock), and each sending
//!   number (a comune's WhatsApp number or Telegram bot) is sent through by the one process
//!   holding its lock, which keeps its pace: Meta's limits are per number, not per process.
//! - **A process that stops.** Each one writes a heartbeat every [`HEARTBEAT_EVERY`]. Every
//!   [`SWEEP_EVERY`] each process looks for work nobody is doing: journalled messages of a
//!   process not seen for [`DEAD_AFTER`] waiting for longer than [`STALE_AFTER`], or of any
//!   process waiting for longer than [`SLOW_AFTER`] (it runs them for their citizens, under
//!   their locks: harmless if their process is merely slow), and replies whose owner has not
//!   been seen for [`DEAD_AFTER`] (taken over and sent; one in flight is dropped, at most
//!   once).
//!   A killed process's locks go with its sessions, so its citizens and numbers are free.
//! - **Console edits** (FAQ, closures) are read again every [`RELOAD_EVERY`], so an edit
//!   made through one process reaches the others' bots within seconds.
//!
//! Per process still: the per-citizen rate limit (each process allows the burst), metrics,
//! and the retry of a reply the provider keeps refusing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

use super::pipeline::Job;
use super::Server;
use crate::channel::InboundMessage;
use crate::service::coordination::{BoxFuture, Coordination, Guard};
use crate::staff::accounts;
use crate::storage::postgres::{orphaned, Adoption, Claim};
use crate::storage::sealed::Sealed;
use crate::storage::{CitizenKey, JournalStore, PgStore, Store, StoreError};

/// How often a process says it is alive.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// A process not seen for this long is taken for stopped: its replies are taken over.
pub const DEAD_AFTER: Duration = Duration::from_secs(10);
/// How often a process looks for work nobody is doing.
pub const SWEEP_EVERY: Duration = Duration::from_secs(2);
/// A journalled message of a stopped process (or of none) still waiting after this long is
/// run by whoever finds it.
pub const STALE_AFTER: Duration = Duration::from_secs(10);
/// A journalled message of a live process still waiting after this long is run by whoever
/// finds it too (its process may be stuck; harmless if it is only slow).
pub const SLOW_AFTER: Duration = Duration::from_secs(60);
/// How often console edits made through another process are read again.
pub const RELOAD_EVERY: Duration = Duration::from_secs(5);
/// A citizen swept once is not swept again for this long (a step that keeps failing is
/// not retried every two seconds).
const SWEPT_REST: Duration = Duration::from_secs(60);

/// What a sweep found: citizens with messages waiting too long, and replies taken over.
#[derive(Default)]
struct Found {
    waiting: Vec<CitizenKey>,
    adopted: Vec<(u64, Adoption)>,
}

/// What a process needs to share the work with the others: its [`Coordination`], and what
/// the heartbeat and the sweep use.
pub struct Shared {
    /// The database, through the seal (`storage::sealed::replicas`).
    pub pg: Sealed<PgStore>,
    /// This process's id among the replicas: random, new at every start.
    pub replica: String,
}

impl Shared {
    pub fn new(pg: Sealed<PgStore>) -> std::io::Result<Shared> {
        let random = accounts::hex(&accounts::random_bytes::<8>().map_err(std::io::Error::other)?);
        Ok(Shared {
            pg,
            replica: format!("{}-{random}", std::process::id()),
        })
    }
}

impl Coordination for Shared {
    fn owner(&self) -> Option<&str> {
        Some(&self.replica)
    }

    fn lock<'a>(&'a self, name: &'a str, wait: bool) -> BoxFuture<'a, Result<Option<Guard>, StoreError>> {
        Box::pin(async move {
            let locks = self.pg.locks();
            Ok(if wait {
                Some(Guard(Some(locks.lock(name).await?)))
            } else {
                locks.try_lock(name).await?.map(|held| Guard(Some(held)))
            })
        })
    }

    /// Holding the citizen's lock, every message of theirs still waiting in the journal,
    /// in the provider's order: one that reached another process first is run first.
    fn to_run(
        &self,
        key: &CitizenKey,
        _own: Option<(Vec<u8>, InboundMessage)>,
    ) -> Result<Vec<(Vec<u8>, InboundMessage)>, StoreError> {
        Ok(self
            .pg
            .pending_inbound_for(key)?
            .into_iter()
            .filter_map(|(dedupe, entry)| Some((dedupe, entry.message?)))
            .collect())
    }

    /// `PgStore::claim_outbound`: never by two processes, and not before an earlier reply
    /// to the citizen that another live process is sending.
    fn claim(&self, _store: &dyn Store, id: u64) -> Result<Claim, StoreError> {
        self.pg.claim_outbound(id, &self.replica)
    }

    fn shared(&self) -> bool {
        true
    }
}

impl Server {
    /// At start, after the erasures a stopped process left (`recover`): says this one is
    /// alive. The journal and outbox are not replayed wholesale, as with one process: other
    /// processes may be working on them; the sweep takes what is nobody's.
    pub(super) fn start_shared(&self, shared: &Shared) -> Result<(), StoreError> {
        shared.pg.heartbeat(&shared.replica)
    }

    /// Heartbeats, sweeps and reloads until `stop`; then leaves the replicas, so that what
    /// this process could not finish is taken over at once.
    pub(super) async fn share_work(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let Some(shared) = self.replicas.clone() else {
            return;
        };
        let mut heartbeat = tokio::time::interval(HEARTBEAT_EVERY);
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        let mut reload = tokio::time::interval(RELOAD_EVERY);
        let mut swept: HashMap<CitizenKey, Instant> = HashMap::new();
        loop {
            tokio::select! {
                _ = heartbeat.tick() => {
                    let sh = shared.clone();
                    let beat = tokio::task::spawn_blocking(move || sh.pg.heartbeat(&sh.replica));
                    if let Ok(Err(e)) = beat.await {
                        tracing::warn!(error = %e, "heartbeat failed");
                    }
                }
                _ = sweep.tick() => {
                    if let Err(e) = self.sweep(&mut swept).await {
                        tracing::error!(error = %e, "sweep failed");
                    }
                }
                _ = reload.tick() => {
                    let s = self.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        for comune in s.engine.flows.ids() {
                            if let Err(e) = s.engine.refresh(comune) {
                                tracing::warn!(comune, error = %e, "could not read console edits");
                            }
                        }
                    })
                    .await;
                }
                _ = stop.changed() => break,
            }
        }
        let _ = tokio::task::spawn_blocking(move || shared.pg.leave(&shared.replica)).await;
    }

    /// Queues work nobody is doing (see the module doc).
    async fn sweep(&self, swept: &mut HashMap<CitizenKey, Instant>) -> Result<(), StoreError> {
        let Some(shared) = self.replicas.clone() else {
            return Ok(());
        };
        let found = tokio::task::spawn_blocking(move || -> Result<Found, StoreError> {
            let pg = &shared.pg;
            let before = Timestamp::now() - SignedDuration::try_from(STALE_AFTER).unwrap_or_default();
            let mut live = pg.live_replicas(DEAD_AFTER)?;
            // This process is alive even when its own heartbeat is late.
            live.push(shared.replica.clone());
            let slow = Timestamp::now() - SignedDuration::try_from(SLOW_AFTER).unwrap_or_default();
            let mut waiting: Vec<CitizenKey> = Vec::new();
            for (key, owner, received) in pg.stale_inbound(before, 1000)? {
                let orphan = owner.as_ref().is_none_or(|o| !live.contains(o)) || received < slow;
                if orphan && !waiting.contains(&key) {
                    waiting.push(key);
                }
            }
            let mut adopted = Vec::new();
            // Underneath the seal: deciding needs only each reply's owner and age, and
            // opening every reply waiting (a burst leaves thousands) looked each citizen's
            // key up in the database every two seconds.
            for (id, entry) in pg.inner().pending_outbound()? {
                // Checked again in the adoption's transaction, with the row locked.
                if orphaned(&entry, &live, before) {
                    adopted.push((id, pg.adopt_outbound(id, &shared.replica, &live, before)?));
                }
            }
            Ok(Found { waiting, adopted })
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
        let Found { waiting, adopted } = found;
        swept.retain(|_, at| at.elapsed() < SWEPT_REST);
        let mut messages = 0;
        for key in waiting {
            if swept.insert(key.clone(), Instant::now()).is_none() {
                messages += 1;
                self.inbound.push(key, Job::Drain);
            }
        }
        let (mut replies, mut interrupted) = (0, 0);
        for (id, adoption) in adopted {
            match adoption {
                Adoption::Adopted(entry) => {
                    replies += 1;
                    self.outbound.push(entry.key, id);
                }
                Adoption::Interrupted => interrupted += 1,
                Adoption::NotOrphan => {}
            }
        }
        if messages + replies > 0 {
            self.metrics.adopted.add(messages + replies);
            tracing::info!(citizens = messages, replies, "took over waiting work nobody was doing");
        }
        if interrupted > 0 {
            self.outlet.counters.interrupted.add(interrupted);
            tracing::warn!(
                replies = interrupted,
                "replies in flight when their process stopped were not sent again: they may not have arrived"
            );
        }
        Ok(())
    }
}
