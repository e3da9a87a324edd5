//! The inbound pipeline: journal → durable → 200 → per-citizen ordered step → one atomic
//! commit (inbound done, citizen, outbox) → durable → replies handed to the sender.
//!
//! Invariants: a message is on disk before the provider is told it arrived; a redelivered
//! id is dropped by the journal; a message's effects are committed all together, so a
//! crash either replays the whole step or none of it; a reply is durable in the outbox
//! before it is sent, and one whose request was out at a crash is not sent again
//! (`sender`).

use jiff::Timestamp;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use super::Server;
use crate::channel::{Channel, InboundMessage};
use crate::service::coordination::citizen_lock;
use crate::storage::keys::inbound_key;
use crate::storage::{CitizenKey, InboundEntry, StoreError};

/// Work for one citizen's lane.
pub enum Job {
    /// A journalled message from WhatsApp or Telegram, with its webhook's places in the
    /// backlog when it came in through one (given back once its batch's jobs are done).
    Journal {
        dedupe: Vec<u8>,
        message: Box<InboundMessage>,
        place: Option<std::sync::Arc<OwnedSemaphorePermit>>,
        /// The webhook waiting to answer (`Server::accept_now`): told once the step's commit,
        /// and with it the journal entry, is durable; dropped untold otherwise.
        durable: Option<oneshot::Sender<()>>,
    },
    /// A staff action on the citizen's record (claim, reply, block, …). It runs in the
    /// citizen's lane so that it never interleaves with a step: a step reads the record,
    /// plans, then commits it whole, and would otherwise overwrite a hold or a block
    /// written in between.
    Staff(Box<dyn FnOnce() + Send>),
    /// Several active processes (`shared`): run every message of the citizen still waiting
    /// in the journal, whoever received it.
    Drain,
}

/// Why a batch could not be accepted (the provider will redeliver it).
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The journalling task panicked or was cancelled at shutdown.
    #[error("the journalling task did not finish")]
    Task,
}

/// Webhook messages journalled and not yet stepped that one process keeps queued at most.
/// Past this many, a webhook waits for a place before it is journalled (so it is not
/// acknowledged, and the provider redelivers it if the wait outlasts the request): an
/// overload from the provider's side queues there, not in memory without end. Every queued
/// message's step starts at once, so a place costs a step in progress (its writes waiting
/// for the flush), not only the message: at 4,000/s past capacity the process's high-water
/// mark was 236 MB with 1,024 places, 259–277 MB with 4,096; 1,024 is half a second at
/// 2,000/s (BENCHMARKS.md, "A bounded backlog, and load shedding").
pub const MAX_BACKLOG: usize = 1_024;

/// How long a webhook waits for its messages' steps to make its journal entries durable
/// with theirs before it makes them durable itself: a step that starts at once commits
/// within a flush or two, and the provider must not wait on one that does not.
const STEP_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// The backlog's places: `places`, between one and [`MAX_BACKLOG`].
pub fn backlog(places: usize) -> std::sync::Arc<Semaphore> {
    std::sync::Arc::new(Semaphore::new(places.clamp(1, MAX_BACKLOG)))
}

impl Server {
    /// Makes every write so far durable; concurrent callers share one flush.
    pub(crate) async fn durable(&self) -> Result<(), StoreError> {
        self.commit.durable().await
    }

    /// Runs `f`, which calls the store: on tokio's blocking pool when the store waits on
    /// the network (PostgreSQL), so that a round trip never holds one of the few async
    /// workers that take webhooks, run timers and send replies for every other citizen;
    /// in place otherwise (sled's calls take microseconds, and the hop to the pool cost
    /// sled a fifth of its steps, BENCHMARKS.md). `None` if the runtime is shutting down.
    pub(crate) async fn off_workers<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Server) -> T + Send + 'static,
    ) -> Option<T> {
        // The outlet's rule, for calls that need more of the server than its store.
        let s = self.clone();
        self.outlet.blocking(move |_| f(&s)).await
    }

    /// Journals messages routed to `comune`s, drops redeliveries, makes the journal durable
    /// and queues the new ones. Returns how many were queued.
    ///
    /// Runs in its own task: the request timeout may drop the handler's future, and a
    /// message journalled but never queued would wait for the next start (its redelivery
    /// is dropped as a duplicate).
    pub(crate) async fn accept(&self, messages: Vec<(String, InboundMessage)>) -> Result<usize, AcceptError> {
        let s = self.clone();
        tokio::spawn(async move { s.accept_now(messages).await })
            .await
            .map_err(|_| AcceptError::Task)?
    }

    async fn accept_now(&self, messages: Vec<(String, InboundMessage)>) -> Result<usize, AcceptError> {
        let now = Timestamp::now();
        let clock = std::time::Instant::now();
        // Over the citizen's limit: journalled as already done (so a redelivery is still a
        // duplicate) with no text kept, acknowledged, never processed. A redelivery also
        // takes a token; Meta redelivers rarely enough not to matter.
        let checked: Vec<(String, InboundMessage, CitizenKey, bool)> = messages
            .into_iter()
            .map(|(comune, message)| {
                let key = CitizenKey::new(&comune, message.channel.as_str(), &message.from);
                // Leaving always goes through the limit, at its own pace (a few at once).
                let allowed = self.limits.allow(&key, clock)
                    || (super::limits::is_unsubscribe(&self.engine.flows, &comune, &message.body)
                        && self.limits.allow_leaving(&key, clock));
                let limited = !allowed;
                (comune, message, key, limited)
            })
            .collect();
        // The batch's places all at once, shared by its messages and given back when the
        // last of their steps is done: taking them one by one, two batches could each hold
        // some and wait for the rest. Never more than the whole backlog (a batch that large
        // waits for it to empty). The semaphore is never closed.
        let wanted = checked.iter().filter(|c| !c.3).count();
        let places = self.options.backlog;
        let place = match wanted.min(places) {
            0 => None,
            n => Some(std::sync::Arc::new(
                self.backlog
                    .clone()
                    .acquire_many_owned(n as u32)
                    .await
                    .map_err(|_| AcceptError::Task)?,
            )),
        };
        let fresh = self
            .off_workers(move |s| s.journal(checked, now, place))
            .await
            .ok_or(AcceptError::Task)??;
        let n = fresh.len();
        if !self.options.steps {
            // The durable ceiling (bench only): journalled and durable, nothing stepped.
            self.durable().await?;
            return Ok(n);
        }
        // One flush for a message's journal entry and its step: a step that starts at once
        // (its citizen's lane was idle) commits after the entry was written, so the flush
        // that makes the step durable makes the entry durable too. Otherwise (a lane busy
        // with the citizen's earlier messages, a step that failed or is slow) the webhook
        // makes its entries durable itself.
        let mut steps = Vec::with_capacity(n);
        let mut all_at_once = n > 0;
        for (key, mut job) in fresh {
            self.metrics.inbound.inc();
            let (told, durable) = oneshot::channel();
            if let Job::Journal { durable: slot, .. } = &mut job {
                *slot = Some(told);
            }
            if self.inbound.push(key, job) {
                steps.push(durable);
            } else {
                all_at_once = false;
            }
        }
        let stepped = all_at_once
            && tokio::time::timeout(STEP_WAIT, async {
                for durable in steps {
                    if durable.await.is_err() {
                        return false;
                    }
                }
                true
            })
            .await
            .unwrap_or(false);
        if !stepped {
            self.durable().await?;
        }
        Ok(n)
    }

    /// Writes a batch's messages to the journal (a blocking call, see [`Server::off_workers`]);
    /// returns the steps to queue: messages not redelivered, not over their citizen's limit.
    fn journal(
        &self,
        checked: Vec<(String, InboundMessage, CitizenKey, bool)>,
        now: Timestamp,
        place: Option<std::sync::Arc<OwnedSemaphorePermit>>,
    ) -> Result<Vec<(CitizenKey, Job)>, StoreError> {
        let mut fresh = Vec::new();
        for (comune, message, key, limited) in checked {
            // A WhatsApp message names its citizen by business-scoped id and maybe number:
            // the record they name (`service::identity`).
            let key = match &message.user_id {
                Some(_) => crate::service::identity::resolve(self.engine.store.as_ref(), &comune, &message, now)?,
                None => key,
            };
            let dedupe = inbound_key(message.channel.as_str(), &message.route, &message.id);
            let entry = if limited {
                InboundEntry {
                    key: key.clone(),
                    message: None,
                    received_at: now,
                    done: true,
                    owner: None,
                }
            } else {
                InboundEntry {
                    key: key.clone(),
                    message: Some(message.clone()),
                    received_at: now,
                    done: false,
                    owner: self.coord.owner().map(str::to_string),
                }
            };
            if !self.engine.store.record_inbound(&dedupe, &entry)? {
                self.metrics.duplicates.inc();
                self.ack_tap(&key.comune, message.callback_id.as_deref());
            } else if limited {
                self.limits.dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.ack_tap(&key.comune, message.callback_id.as_deref());
            } else {
                let place = place.clone();
                fresh.push((
                    key,
                    Job::Journal {
                        dedupe,
                        message: Box::new(message),
                        place,
                        durable: None,
                    },
                ));
            }
        }
        Ok(fresh)
    }

    /// A citizen's business-scoped id changed (`service::identity`): applied in their lane,
    /// as a step. A change for nobody we know is dropped.
    pub(crate) async fn identity_change(&self, comune: String, change: crate::channel::whatsapp::IdentityChange) {
        let store = self.engine.store.clone();
        let (c2, ch2) = (comune.clone(), change.clone());
        let found = self
            .off_workers(move |_| crate::service::identity::changed_record(store.as_ref(), &c2, &ch2))
            .await;
        let key = match found {
            Some(Ok(Some(key))) => key,
            Some(Ok(None)) | None => return,
            Some(Err(e)) => {
                tracing::error!(error = %e, "could not read a change of WhatsApp id");
                return;
            }
        };
        let store = self.engine.store.clone();
        let k = key.clone();
        self.lanes()
            .in_lane(key, move || {
                let now = jiff::Timestamp::now();
                if let Err(e) = crate::service::identity::apply_change(store.as_ref(), &k, &change, now)
                    .and_then(|()| store.flush())
                {
                    tracing::error!(error = %e, "could not apply a change of WhatsApp id");
                }
            })
            .await;
    }

    /// Acknowledges a Telegram button tap that no reply will carry (none was produced, or
    /// the message was dropped as a duplicate or over the limit), so that the citizen's
    /// button stops spinning. Best effort, off the caller's path.
    fn ack_tap(&self, comune: &str, callback_id: Option<&str>) {
        let (Some(id), Some(client)) = (callback_id, self.outlet.providers.telegram(comune)) else {
            return;
        };
        let (client, id) = (client.clone(), id.to_string());
        tokio::spawn(async move {
            let _ = client.answer_callback_query(&id).await;
        });
    }

    /// Replays the journal and the outbox left by a previous run, in their order (one
    /// process; with several, `shared` takes over what is nobody's instead).
    pub(crate) fn recover(&self) -> Result<(), StoreError> {
        let store = &self.engine.store;
        // Erasures first: a leaver's scrub interrupted by a crash must not wait behind
        // their (or anyone's) next message.
        let erased = self.engine.resume_erasures().map_err(|e| match e {
            crate::service::runner::EngineError::Store(e) => e,
            e => StoreError::Task(e.to_string()),
        })?;
        if erased > 0 {
            tracing::info!(erasures = erased, "finished erasures left by the previous run");
        }
        if let Some(shared) = &self.replicas {
            return self.start_shared(shared);
        }
        let pending = store.pending_inbound()?;
        let outbox = store.pending_outbound()?;
        if !pending.is_empty() || !outbox.is_empty() {
            tracing::info!(
                inbound = pending.len(),
                outbound = outbox.len(),
                "resuming work left by the previous run"
            );
        }
        for (dedupe, entry) in pending {
            if let Some(message) = entry.message {
                self.inbound.push(
                    entry.key,
                    Job::Journal {
                        dedupe,
                        message: Box::new(message),
                        place: None,
                        durable: None,
                    },
                );
            }
        }
        let mut interrupted = 0;
        for (id, entry) in outbox {
            if entry.in_flight {
                // Its request was out when the process stopped and the provider may have
                // taken it (WhatsApp has no idempotency key): at most once, not sent again.
                store.outbound_done(id)?;
                interrupted += 1;
                continue;
            }
            self.outbound.push(entry.key, id);
        }
        if interrupted > 0 {
            self.outlet.counters.interrupted.add(interrupted);
            tracing::warn!(
                replies = interrupted,
                "replies in flight at the last stop were not sent again: they may not have arrived"
            );
        }
        Ok(())
    }

    /// A job of a citizen's lane: never two of one citizen at once in this process, and
    /// under the citizen's lock across processes (`Coordination`; alone, none is taken).
    pub(crate) async fn process(&self, key: CitizenKey, job: Job) {
        let guard = match self.coord.lock(&citizen_lock(&key), true).await {
            Ok(Some(guard)) => guard,
            Ok(None) => return,
            Err(e) => {
                // A journalled message stays waiting: the sweep runs it later.
                tracing::error!(comune = %key.comune, error = %e, "could not take a citizen's lock");
                self.metrics.errors.inc();
                return;
            }
        };
        // `_place` is given back when this job ends, its steps done.
        let (own, _place, mut durable) = match job {
            Job::Staff(run) => {
                run();
                return guard.release().await;
            }
            Job::Journal {
                dedupe,
                message,
                place,
                durable,
            } => {
                let waiting = durable.map(|d| (dedupe.clone(), d));
                (Some((dedupe, *message)), place, waiting)
            }
            Job::Drain => (None, None, None),
        };
        let k = key.clone();
        match self.off_workers(move |s| s.coord.to_run(&k, own)).await {
            Some(Ok(messages)) => {
                for (dedupe, message) in messages {
                    // The webhook waits for its own message's step only.
                    let told = match &durable {
                        Some((own, _)) if *own == dedupe => durable.take().map(|(_, d)| d),
                        _ => None,
                    };
                    self.step(key.clone(), message, Some(dedupe), told).await;
                }
            }
            Some(Err(e)) => {
                tracing::error!(comune = %key.comune, error = %e, "could not read a citizen's waiting messages");
                self.metrics.errors.inc();
            }
            None => {}
        }
        guard.release().await;
    }

    /// One step: plan, commit (with the journal entry `dedupe` marked done), make durable,
    /// hand the replies to the sender. On sled the commit is the group commit's, with the
    /// other steps waiting for the same flush (`storage::commit`); on PostgreSQL each step
    /// commits its own transaction on the blocking pool, as many at once as the pool has
    /// connections.
    /// `durable`, when a webhook waits for this step: told once the step is durable.
    pub(super) async fn step(
        &self,
        key: CitizenKey,
        message: InboundMessage,
        dedupe: Option<Vec<u8>>,
        durable: Option<oneshot::Sender<()>>,
    ) {
        let (k, m) = (key.clone(), message.clone());
        let ids = if self.engine.store.waits_on_network() {
            // The whole step in one trip to the blocking pool, in its own transaction.
            let whole = self.off_workers(move |s| {
                let run = s
                    .engine
                    .run_step(&k, &m, dedupe.as_deref(), s.coord.owner(), Timestamp::now());
                s.committed(&k, run)
            });
            let Some(Some(ids)) = whole.await else {
                return;
            };
            if !self.durable_or_log().await {
                return;
            }
            ids
        } else {
            let Some(Some(prepared)) = self.off_workers(move |s| s.prepare(&k, &m, dedupe)).await else {
                return;
            };
            let ids = self.commit.commit_step(prepared.write.clone()).await;
            let erased = prepared.write.effects.erase;
            let Some(Some(ids)) = self.off_workers(move |s| s.finish_step(prepared, ids)).await else {
                return;
            };
            // Durable already (the flusher committed it), unless the step erased: the
            // scrub wrote after the commit.
            if erased && !self.durable_or_log().await {
                return;
            }
            ids
        };
        if let Some(told) = durable {
            // The webhook may have stopped waiting (its timeout): nothing to tell then.
            let _ = told.send(());
        }
        if ids.is_empty() {
            // No reply will carry the acknowledgement (a second tap on a button already
            // answered, for one): the button must stop spinning all the same.
            self.ack_tap(&key.comune, message.callback_id.as_deref());
        }
        for id in ids {
            self.outbound.push(key.clone(), id);
        }
        if message.channel == Channel::Whatsapp {
            self.mark_read(&key.comune, &message.route, &message.id);
        }
    }

    /// [`Server::durable`], a failure logged and counted; whether it succeeded.
    async fn durable_or_log(&self) -> bool {
        match self.durable().await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "flush failed");
                self.metrics.errors.inc();
                false
            }
        }
    }

    /// A step's plan, a blocking call (see [`Server::off_workers`]):
    /// [`Engine::prepare_step`](crate::service::runner::Engine::prepare_step). `None` when
    /// the step could not run (logged; the message stays in the journal).
    fn prepare(
        &self,
        key: &CitizenKey,
        message: &InboundMessage,
        dedupe: Option<Vec<u8>>,
    ) -> Option<crate::service::step::Prepared> {
        let owner = self.coord.owner();
        match self
            .engine
            .prepare_step(key, message, dedupe.as_deref(), owner, Timestamp::now())
        {
            Ok(prepared) => Some(prepared),
            Err(e) => self.step_failed(key, e),
        }
    }

    /// A step after its commit (`ids`), a blocking call: the erasure's scrub if it erased.
    /// The outbox ids, or `None` when nothing was committed (logged; the message stays in
    /// the journal).
    fn finish_step(
        &self,
        prepared: crate::service::step::Prepared,
        ids: Result<Vec<u64>, StoreError>,
    ) -> Option<Vec<u64>> {
        let key = prepared.write.key.clone();
        self.committed(&key, self.engine.finish_step(prepared, ids))
    }

    /// A step's outcome, counted, and logged when it failed or left an erasure unfinished:
    /// the outbox ids, or `None` when nothing was committed.
    fn committed(
        &self,
        key: &CitizenKey,
        outcome: Result<crate::service::step::Committed, crate::service::step::StepError>,
    ) -> Option<Vec<u64>> {
        match outcome {
            Ok(committed) => {
                self.metrics.steps.inc();
                if let Some(e) = committed.unfinished {
                    // The erasure mark stays: the scrub runs again at the next start.
                    tracing::error!(comune = %key.comune, error = %e, "could not finish an erasure");
                    self.metrics.errors.inc();
                }
                Some(committed.ids)
            }
            Err(e) => self.step_failed(key, e),
        }
    }

    fn step_failed<T>(&self, key: &CitizenKey, e: crate::service::step::StepError) -> Option<T> {
        if e.stepped() {
            self.metrics.steps.inc();
        }
        tracing::error!(comune = %key.comune, channel = %key.channel, error = %e, "step not committed");
        self.metrics.errors.inc();
        None
    }
}
