//! The broadcast sender worker: starts due broadcasts (fan-out), then sends their outbox
//! entries through one lane per sending number (a comune's WhatsApp number, a comune's
//! Telegram bot), each paced by its own [`Pacer`].
//!
//! A lane takes the urgent broadcasts first (Emergenze), then the oldest, and chooses again
//! every [`BATCH`] entries, so an alert overtakes a running newsletter within a batch. Each
//! entry is marked in flight and made durable (one group fsync shared by the concurrent
//! sends) before its request leaves; see the module `broadcast` for what a restart does.
//! The citizen's record is read again just before the send: one who unsubscribed or was
//! blocked since the fan-out is skipped, and the window is judged at that moment.
//!
//! Each entry leaves through `crate::delivery` (the turn replies take too); the store, the
//! flows and the server's lanes come through [`Env`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::{watch, Notify, Semaphore};

use super::env::Env;
use super::pace::{Pacer, RecipientGap};
use super::plan;
use super::send::Hold;
use super::{Broadcast, BroadcastState, Delivery, DeliveryState};
use crate::channel::Channel;
use crate::delivery::Retries;
use crate::storage::{CitizenKey, StoreError};

/// Entries taken per choice of broadcast.
pub const BATCH: usize = 64;
/// Requests in flight per lane at most: also the most entries a crash can leave in doubt.
pub const CONCURRENCY: usize = 32;
/// How often the worker looks for due broadcasts when nothing wakes it.
const TICK: Duration = Duration::from_secs(1);

/// The lock under which due broadcasts are started (fanned out), one process at a time.
const START_LOCK: &str = "broadcasts start";

/// The lock of a sending number: one process sends through it, at its pace.
pub fn lane_lock(comune: &str, channel: Channel) -> String {
    format!("broadcast lane {comune} {}", channel.as_str())
}

/// The worker's handle: wake it when a broadcast is created or resent.
pub struct Worker {
    env: Arc<dyn Env>,
    wake: Arc<Notify>,
    running: Mutex<HashSet<(String, Channel)>>,
    /// Lanes that last ended without sending anything, and until when they are not started
    /// again on the tick (each start scans the lane's entries; an explicit wake clears it).
    idle: Mutex<HashMap<(String, Channel), Instant>>,
    /// How an entry is retried (first wait, doubling; attempts).
    retries: Retries,
    /// Requests in flight across every lane (the `memory` setting's share): a hundred
    /// comuni sending at once hold no more connections and buffers than a few.
    in_flight: Arc<Semaphore>,
}

impl Worker {
    pub fn new(env: Arc<dyn Env>, wake: Arc<Notify>, first_backoff: Duration) -> Arc<Worker> {
        let in_flight = Arc::new(Semaphore::new(env.config().memory.broadcast_in_flight()));
        Arc::new(Worker {
            in_flight,
            env,
            wake,
            running: Mutex::new(HashSet::new()),
            idle: Mutex::new(HashMap::new()),
            retries: Retries {
                first: first_backoff,
                attempts: super::pace::MAX_ATTEMPTS,
            },
        })
    }

    /// Recovers what a previous process left, then starts due broadcasts and their lanes
    /// until `stop` changes.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let env = self.env.clone();
        // With other processes sending, each number's entries are recovered by whoever
        // takes its lock (`Lane`), and an unfinished fan-out under the start lock.
        let shared = env.coordination().shared();
        let recovered = tokio::task::spawn_blocking(move || {
            if shared {
                return Ok(0);
            }
            plan::recover(env.store().as_ref(), env.flows(), Timestamp::now())
        })
        .await;
        match recovered {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::warn!(
                interrupted = n,
                "broadcast entries in flight at the last stop were not resent (at most once)"
            ),
            Ok(Err(e)) => tracing::error!(error = %e, "broadcast recovery failed"),
            Err(e) => tracing::error!(error = %e, "broadcast recovery task failed"),
        }
        loop {
            if let Err(e) = self.clone().dispatch(&stop).await {
                tracing::error!(error = %e, "broadcast dispatch failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = self.wake.notified() => {
                    self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
                }
                _ = stop.changed() => break,
            }
        }
        // Let the lanes finish the requests they started, so that the server's last flush
        // records them as sent rather than in doubt.
        let started = Instant::now();
        while !self.running.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
            && started.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Fans out due broadcasts and starts a lane for every comune with one sending.
    async fn dispatch(self: Arc<Self>, stop: &watch::Receiver<bool>) -> Result<(), StoreError> {
        let env = self.env.clone();
        let now = Timestamp::now();
        let shared = env.coordination().shared();
        let Some(start) = self.env.coordination().lock(START_LOCK, true).await? else {
            return Ok(());
        };
        let started = tokio::task::spawn_blocking(move || -> Result<Vec<(u64, Broadcast)>, StoreError> {
            let store = env.store().as_ref();
            let mut sending = Vec::new();
            for (id, mut b) in store.broadcasts(None)? {
                // Fan-outs run under the start lock: one found unfinished was left by a
                // process that stopped.
                let resume = shared && b.state == BroadcastState::FanningOut;
                if resume || (b.state == BroadcastState::Scheduled && b.send_at <= now) {
                    if let Some(flow) = env.flows().get(&b.comune) {
                        let n = plan::fan_out(store, flow, id, &mut b, now)?;
                        tracing::info!(comune = %b.comune, broadcast = id, recipients = n, "broadcast started");
                    }
                }
                if b.state == BroadcastState::Sending {
                    sending.push((id, b));
                }
            }
            Ok(sending)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()));
        start.release().await;
        let started = started??;
        let comuni: HashSet<String> = started.into_iter().map(|(_, b)| b.comune).collect();
        for comune in comuni {
            for channel in [Channel::Whatsapp, Channel::Telegram] {
                let lane = (comune.clone(), channel);
                let resting = self
                    .idle
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&lane)
                    .is_some_and(|until| *until > Instant::now());
                if resting {
                    continue;
                }
                if !self
                    .running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(lane.clone())
                {
                    continue;
                }
                let me = self.clone();
                let stop = stop.clone();
                tokio::spawn(async move {
                    let worked = me.clone().own_lane(&lane, stop).await;
                    me.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&lane);
                    match worked {
                        // Something may have been queued while the lane was ending.
                        Some(true) => me.wake.notify_one(),
                        Some(false) => {
                            let until = Instant::now() + IDLE_FOR;
                            me.idle.lock().unwrap_or_else(|p| p.into_inner()).insert(lane, until);
                        }
                        // Another process sends through this number: asked again at the
                        // next tick, so that its stop is noticed within a second.
                        None => {}
                    }
                });
            }
        }
        Ok(())
    }
}

impl Worker {
    /// Runs a lane if this process may send through its number (always, alone; with other
    /// processes, once it holds the number's lock, after recovering what the previous holder
    /// left in flight). Returns whether it sent anything; `None` when another process holds
    /// the number.
    async fn own_lane(self: Arc<Self>, lane: &(String, Channel), stop: watch::Receiver<bool>) -> Option<bool> {
        let name = lane_lock(&lane.0, lane.1);
        let held = match self.env.coordination().lock(&name, false).await {
            Ok(Some(held)) => held,
            // Another process sends through this number.
            Ok(None) => return None,
            Err(e) => {
                tracing::error!(comune = %lane.0, error = %e, "broadcast lane: could not take its lock");
                return Some(false);
            }
        };
        if self.env.coordination().shared() {
            let env = self.env.clone();
            let (comune, channel) = (lane.0.clone(), lane.1);
            let recovered = tokio::task::spawn_blocking(move || {
                plan::recover_lane(env.store().as_ref(), &comune, channel.as_str(), Timestamp::now())
            })
            .await
            .map_err(|e| StoreError::Task(e.to_string()))
            .and_then(|r| r);
            match recovered {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    comune = %lane.0,
                    interrupted = n,
                    "broadcast entries in flight when their process stopped were not resent (at most once)"
                ),
                Err(e) => {
                    tracing::error!(comune = %lane.0, error = %e, "broadcast lane recovery failed");
                    held.release().await;
                    return Some(false);
                }
            }
        }
        let worked = Lane::new(self.clone(), &lane.0, lane.1).run(stop).await;
        held.release().await;
        Some(worked)
    }
}

/// One sending number's queue.
struct Lane {
    worker: Arc<Worker>,
    comune: String,
    channel: Channel,
    pacer: Pacer,
    gap: RecipientGap,
    permits: Arc<Semaphore>,
    hold: Arc<Mutex<Hold>>,
    /// Where each broadcast's scan stopped (entries before it were taken already).
    cursors: HashMap<u64, Option<CitizenKey>>,
    /// Entries handed to a send task that has not finished: never taken twice, even when
    /// a scan starts again from the beginning before the task marked them in flight.
    busy: Arc<Mutex<HashSet<(u64, CitizenKey)>>>,
    /// Broadcasts found with nothing left for this lane, and when: skipped by `pick` for a
    /// while, so that a finished 100,000-entry broadcast is not rescanned every batch while
    /// another lane still sends it (a resend is noticed when the mark expires).
    exhausted: HashMap<u64, Instant>,
    /// Whether this lane handed any entry to a send.
    worked: bool,
}

/// How long a lane that found nothing to send is not started again by the tick.
const IDLE_FOR: Duration = Duration::from_secs(30);
/// How long a broadcast found exhausted on a lane is not scanned again.
const EXHAUSTED_FOR: Duration = Duration::from_secs(5);

/// What a scan of one broadcast's entries on a lane found.
struct Scan {
    due: Vec<(CitizenKey, Delivery)>,
    /// Queued entries not due yet: the earliest time one is.
    waiting: Option<Timestamp>,
}

impl Lane {
    fn new(worker: Arc<Worker>, comune: &str, channel: Channel) -> Lane {
        let config = &worker.env.config().broadcast;
        let (rate, gap) = match channel {
            Channel::Telegram => (config.telegram_per_second, Duration::from_secs(1)),
            _ => (config.whatsapp_per_second, Duration::from_secs(6)),
        };
        Lane {
            worker,
            comune: comune.to_string(),
            channel,
            pacer: Pacer::new(rate, Instant::now()),
            gap: RecipientGap::new(gap),
            permits: Arc::new(Semaphore::new(CONCURRENCY)),
            hold: Arc::new(Mutex::new(Hold { until: None })),
            cursors: HashMap::new(),
            busy: Arc::default(),
            exhausted: HashMap::new(),
            worked: false,
        }
    }

    fn env(&self) -> &Arc<dyn Env> {
        &self.worker.env
    }

    /// Sends until nothing is left for this number; returns whether it sent anything.
    async fn run(mut self, stop: watch::Receiver<bool>) -> bool {
        loop {
            if *stop.borrow() {
                return self.stopping().await;
            }
            let (picked, waiting) = match self.pick().await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "broadcast lane: store read failed");
                    tokio::time::sleep(TICK).await;
                    continue;
                }
            };
            match picked {
                Some((id, b, due)) => {
                    for (key, d) in due {
                        if *stop.borrow() {
                            return self.stopping().await;
                        }
                        self.send_one(id, &b, key, d).await;
                    }
                }
                None if self.permits.available_permits() < CONCURRENCY => {
                    // Sends in flight may queue retries: wait for them before deciding.
                    let _all = self.permits.acquire_many(CONCURRENCY as u32).await;
                }
                None => match waiting {
                    Some(at) => {
                        let wait = Duration::try_from(at.duration_since(Timestamp::now())).unwrap_or_default();
                        tokio::time::sleep(wait.min(TICK)).await;
                    }
                    None => {
                        self.finish().await;
                        return self.worked;
                    }
                },
            }
        }
    }

    /// Waits (a few seconds at most) for this lane's sends in flight, then ends it.
    async fn stopping(&self) -> bool {
        let _ = tokio::time::timeout(Duration::from_secs(8), self.permits.acquire_many(CONCURRENCY as u32)).await;
        self.worked
    }

    /// The next batch: from the first broadcast (urgent first, then oldest) with due entries.
    #[allow(clippy::type_complexity)]
    async fn pick(
        &mut self,
    ) -> Result<(Option<(u64, Broadcast, Vec<(CitizenKey, Delivery)>)>, Option<Timestamp>), StoreError> {
        let env = self.env().clone();
        let comune = self.comune.clone();
        let mut sending: Vec<(u64, Broadcast)> =
            tokio::task::spawn_blocking(move || env.store().broadcasts(Some(&comune)))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))??
                .into_iter()
                .filter(|(_, b)| b.state == BroadcastState::Sending)
                .collect();
        sending.sort_by_key(|(id, b)| (!b.urgent, *id));
        self.exhausted.retain(|_, at| at.elapsed() < EXHAUSTED_FOR);
        let mut waiting: Option<Timestamp> = None;
        for (id, b) in sending {
            if self.exhausted.contains_key(&id) {
                continue;
            }
            let cursor = self.cursors.get(&id).cloned().flatten();
            let scan = self.scan(id, cursor.clone()).await?;
            let scan = if scan.due.is_empty() && cursor.is_some() {
                // Entries before the cursor may have been queued again for a retry.
                self.scan(id, None).await?
            } else {
                scan
            };
            waiting = match (waiting, scan.waiting) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some((last, _)) = scan.due.last() {
                self.cursors.insert(id, Some(last.clone()));
                return Ok((Some((id, b, scan.due)), waiting));
            }
            self.cursors.insert(id, None);
            let busy = self
                .busy
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|(i, _)| *i == id);
            if scan.waiting.is_none() && !busy {
                self.exhausted.insert(id, Instant::now());
                self.finish().await;
            }
        }
        Ok((None, waiting))
    }

    /// Up to [`BATCH`] due entries of this lane's channel after `cursor`.
    async fn scan(&self, id: u64, mut cursor: Option<CitizenKey>) -> Result<Scan, StoreError> {
        let env = self.env().clone();
        let (comune, channel) = (self.comune.clone(), self.channel);
        let busy = self.busy.clone();
        tokio::task::spawn_blocking(move || {
            let now = Timestamp::now();
            let mut scan = Scan {
                due: Vec::new(),
                waiting: None,
            };
            // The entries being sent, taken before the pages are read: one whose send ends
            // while a page is read may be read as it was before (queued), and must not be
            // taken for due. No send starts during a scan (the lane waits for it).
            let busy: HashSet<(u64, CitizenKey)> = busy.lock().unwrap_or_else(|p| p.into_inner()).clone();
            loop {
                let page = env
                    .store()
                    .deliveries(id, &comune, Some(channel.as_str()), cursor.as_ref(), 1024)?;
                for (k, d) in &page {
                    if d.state != DeliveryState::Queued || busy.contains(&(id, k.clone())) {
                        continue;
                    }
                    match d.not_before {
                        Some(t) if t > now => scan.waiting = Some(scan.waiting.map_or(t, |w: Timestamp| w.min(t))),
                        _ => {
                            scan.due.push((k.clone(), d.clone()));
                            if scan.due.len() >= BATCH {
                                return Ok(scan);
                            }
                        }
                    }
                }
                if page.len() < 1024 {
                    return Ok(scan);
                }
                cursor = page.last().map(|(k, _)| k.clone());
            }
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Paces, marks in flight durably, and hands the request to a task.
    async fn send_one(&mut self, id: u64, b: &Broadcast, key: CitizenKey, mut d: Delivery) {
        let held = self.hold.lock().unwrap_or_else(|p| p.into_inner()).until.take();
        if let Some(until) = held {
            self.pacer.hold_until(until);
        }
        if let Some(wait) = self.gap.check(&key.citizen, Instant::now()) {
            // The same chat got another broadcast moments ago: later, not now.
            d.not_before = Some(Timestamp::now() + wait);
            super::send::put(self.env().outlet(), id, key, d).await;
            return;
        }
        let at = self.pacer.reserve(Instant::now());
        tokio::time::sleep_until(at.into()).await;
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return;
        };
        let Ok(shared) = self.worker.in_flight.clone().acquire_owned().await else {
            return;
        };
        let env = self.env().clone();
        let hold = self.hold.clone();
        let b = b.clone();
        let retries = self.worker.retries;
        let pause = Duration::from_secs(u64::from(env.config().broadcast.pause_minutes) * 60);
        let busy = self.busy.clone();
        busy.lock().unwrap_or_else(|p| p.into_inner()).insert((id, key.clone()));
        self.worked = true;
        tokio::spawn(async move {
            let mine = (id, key.clone());
            let comune = key.comune.clone();
            super::send::deliver(env.clone(), id, &b, key, d, retries, pause, hold).await;
            env.progressed(&comune);
            busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&mine);
            drop(shared);
            drop(permit);
        });
    }

    /// Marks done the broadcasts of this comune that have nothing left in any lane.
    async fn finish(&self) {
        let env = self.env().clone();
        let comune = self.comune.clone();
        let _ = tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            let store = env.store().as_ref();
            for (id, mut b) in store.broadcasts(Some(&comune))? {
                if b.state != BroadcastState::Sending {
                    continue;
                }
                let f = super::figures(store, id, &comune)?;
                if f.queued == 0 {
                    b.state = BroadcastState::Done;
                    b.finished_at = Some(Timestamp::now());
                    store.put_broadcast(id, &b)?;
                    store.flush()?;
                    env.progressed(&comune);
                    tracing::info!(
                        comune = %comune,
                        broadcast = id,
                        sent = f.sent,
                        failed = f.failed,
                        skipped = f.skipped,
                        "broadcast done"
                    );
                }
            }
            Ok(())
        })
        .await;
    }
}
