//! The HTTP server: one process serving every comune on every channel.
//!
//! Handlers are thin (verify, parse, hand over, answer); the work is in `pipeline` (journal,
//! per-citizen ordered steps, atomic commit) and `sender` (the outbox, per-citizen ordered
//! sending with retries). Shared state is one [`Server`] handle around an `Arc`; workers are
//! started in [`Server::start`] and stopped by the shutdown future given to [`run`].

mod admin;
mod broadcast;
mod headers;
mod lanes;
pub(crate) mod limits;
pub mod listen;
mod metrics;
pub mod pace;
mod pipeline;
mod sender;
mod shared;
mod shed;
mod standby;
mod webhooks;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::config::{Config, Secrets};
use crate::delivery::{Outlet, Providers};
use crate::service::coordination::{Alone, Coordination};
use crate::service::queue::KeyedQueue;
use crate::service::runner::Engine;
use crate::storage::commit::GroupCommit;
use crate::storage::CitizenKey;

pub use admin::{remove_admin_files, ADDR_FILE, TOKEN_FILE};
pub use lanes::Lanes;
pub use limits::RateLimiter;
pub use metrics::Metrics;
pub use pipeline::{Job, MAX_BACKLOG};
pub use sender::MAX_SENDS_IN_FLIGHT;
pub use shared::{Shared, DEAD_AFTER};
pub use shed::MAX_WEBHOOKS_IN_FLIGHT;
pub use standby::{Gate, STANDBY_BODY};

/// Webhook bodies above this are refused with 413 (Meta's payloads are at most 3 MB).
pub const MAX_WEBHOOK_BYTES: usize = 3 * 1024 * 1024;
/// Simulator and page bodies above this are refused with 413 (a message is a few hundred bytes).
pub const MAX_WEB_BYTES: usize = 16 * 1024;
/// A request not answered within this is cut with 408 (slow or stalled clients).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What is fixed when a [`Server`] is built: its limits and first waits (tests and
/// benchmarks make them small) and where broadcast media are kept.
#[derive(Clone)]
pub struct Options {
    /// First wait before retrying a send; doubles up to five minutes.
    pub first_backoff: Duration,
    /// Places in the backlog of webhook messages not yet stepped, at most [`MAX_BACKLOG`].
    pub backlog: usize,
    /// Webhook requests handled at once, at most [`MAX_WEBHOOKS_IN_FLIGHT`].
    pub webhook_slots: usize,
    /// A request not answered within this is cut with 408.
    pub request_timeout: Duration,
    /// Where broadcast media files are kept (`<data>/media`); `None`: `/media` answers 404.
    pub media_dir: Option<std::path::PathBuf>,
    /// Set when several processes serve one PostgreSQL database together (`shared`);
    /// `None`: this process is alone.
    pub replicas: Option<Arc<Shared>>,
    /// `false` only to measure the durable ceiling (`serve --bench-durable-ceiling`, for
    /// `cargo bench --bench load -- processes`): webhooks are verified, journalled, made
    /// durable and answered, and no step runs. Never in service: no citizen gets an answer.
    pub steps: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            first_backoff: Duration::from_secs(1),
            backlog: MAX_BACKLOG,
            webhook_slots: MAX_WEBHOOKS_IN_FLIGHT,
            request_timeout: REQUEST_TIMEOUT,
            media_dir: None,
            replicas: None,
            steps: true,
        }
    }
}

/// The server's shared state. Cheap to clone.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

/// What a [`Server`] handle shares.
pub struct Inner {
    pub engine: Arc<Engine>,
    pub config: Arc<Config>,
    pub secrets: Secrets,
    /// WhatsApp phone_number_id → comune id.
    pub routes: HashMap<String, String>,
    /// The way out for replies and broadcasts: the providers' clients, the at-most-once
    /// turn, the delivery counters (`crate::delivery`).
    pub outlet: Arc<Outlet>,
    /// Inbound steps, one citizen at a time, in arrival order.
    pub inbound: KeyedQueue<CitizenKey, Job>,
    /// Outbox ids to send, one citizen at a time, in order.
    pub outbound: KeyedQueue<CitizenKey, u64>,
    /// Places in the backlog of webhook messages not yet stepped (`pipeline::MAX_BACKLOG`).
    pub backlog: std::sync::Arc<tokio::sync::Semaphore>,
    /// Sends in flight at once, across citizens (`sender::MAX_SENDS_IN_FLIGHT`).
    pub sends: std::sync::Arc<tokio::sync::Semaphore>,
    /// Webhook requests being handled at once (`shed::MAX_WEBHOOKS_IN_FLIGHT`).
    pub webhook_slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// Read receipts in flight at once (`sender::MAX_READ_RECEIPTS_IN_FLIGHT`).
    pub read_receipts: std::sync::Arc<tokio::sync::Semaphore>,
    pub metrics: Metrics,
    /// One fsync shared by every step waiting to be durable (and, on sled, one commit by
    /// the steps waiting for it).
    pub commit: GroupCommit,
    /// Limits and waits fixed at construction.
    pub options: Options,
    /// The admin endpoint's token and store, once enabled (`admin.rs`).
    pub admin: admin::Admin,
    /// Per-citizen token buckets, checked before a message is queued.
    pub limits: RateLimiter,
    /// Wakes the broadcast worker (a broadcast was created or queued again).
    pub broadcast_wake: Arc<tokio::sync::Notify>,
    /// What the hot path asks of the other processes: [`Alone`] or the replicas'.
    pub coord: Arc<dyn Coordination>,
    /// Several active processes on one PostgreSQL database (`shared`): the heartbeat and
    /// the sweep's.
    pub replicas: Option<Arc<Shared>>,
}

impl std::ops::Deref for Server {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl Server {
    /// Builds the server state with the default [`Options`]; nothing runs until
    /// [`Server::start`].
    pub fn new(engine: Engine, config: Config, secrets: Secrets) -> Server {
        Server::with_options(engine, config, secrets, Options::default())
    }

    /// Builds the server state; nothing runs until [`Server::start`].
    /// Limits outside their range are brought into it.
    pub fn with_options(engine: Engine, config: Config, secrets: Secrets, mut options: Options) -> Server {
        options.backlog = options.backlog.clamp(1, MAX_BACKLOG);
        options.webhook_slots = options.webhook_slots.clamp(1, MAX_WEBHOOKS_IN_FLIGHT);
        let routes = engine
            .flows
            .ids()
            .filter_map(|comune| {
                let id = config.comuni.get(comune)?.whatsapp_phone_number_id.clone()?;
                Some((id, comune.to_string()))
            })
            .collect();
        let providers = Providers::new(engine.flows.ids(), &config, &secrets);
        let commit = GroupCommit::new(engine.store.clone());
        let outlet = Arc::new(Outlet::new(providers, engine.store.clone(), commit.clone()));
        let coord: Arc<dyn Coordination> = match &options.replicas {
            Some(shared) => shared.clone(),
            None => Arc::new(Alone),
        };
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            let (w1, w2) = (weak.clone(), weak.clone());
            Inner {
                engine: Arc::new(engine),
                config: Arc::new(config),
                secrets,
                routes,
                outlet,
                inbound: KeyedQueue::new(move |key, job| {
                    let w = w1.clone();
                    async move {
                        if let Some(inner) = w.upgrade() {
                            Server { inner }.process(key, job).await;
                        }
                    }
                }),
                outbound: KeyedQueue::new(move |key, id| {
                    let w = w2.clone();
                    async move {
                        if let Some(inner) = w.upgrade() {
                            Server { inner }.send(key, id).await;
                        }
                    }
                }),
                backlog: pipeline::backlog(options.backlog),
                sends: sender::send_permits(),
                read_receipts: sender::read_receipt_permits(),
                webhook_slots: shed::slots(options.webhook_slots),
                metrics: Metrics::default(),
                commit,

                admin: admin::Admin::default(),
                limits: RateLimiter::default(),

                broadcast_wake: Arc::default(),

                coord,
                replicas: options.replicas.clone(),
                options,
            }
        });
        Server { inner }
    }

    /// The citizens' lanes, as the narrow handle the console holds.
    pub fn lanes(&self) -> Lanes {
        Lanes {
            inbound: self.inbound.clone(),
            outbound: self.outbound.clone(),
        }
    }

    /// Webhook messages acknowledged and not yet stepped.
    pub fn backlog_len(&self) -> usize {
        self.options.backlog.saturating_sub(self.backlog.available_permits())
    }

    /// Starts the workers: replays what a previous run journalled but did not finish.
    pub fn start(&self) -> Result<(), crate::storage::StoreError> {
        self.recover()
    }

    /// Waits until no citizen has a message being processed or a reply being sent, at most
    /// `limit` (replies waiting on a provider's back-off stay in the outbox for next start).
    pub async fn drain(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, async {
            self.inbound.drained().await;
            self.outbound.drained().await;
        })
        .await;
    }
}

/// The router: the server's own routes (webhooks, media, health, metrics, admin), with
/// `pages` merged in, and the layers every route gets. `pages` are the public pages and the
/// console, given by [`crate::app`], which sits above both; it receives the per-address
/// paces of the public pages and the login.
pub fn routes(server: Server, pages: impl FnOnce(Arc<pace::Paces>) -> Router<Server>) -> Router {
    let webhooks = Router::new()
        .route(
            "/webhook/whatsapp",
            get(webhooks::whatsapp_verify).post(webhooks::whatsapp_post),
        )
        .route("/webhook/telegram/{comune}", post(webhooks::telegram_post))
        .layer(RequestBodyLimitLayer::new(MAX_WEBHOOK_BYTES))
        // The handlers' own extractor limit (axum's default is 2 MB) raised to the same 3 MiB.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
        .layer(axum::middleware::map_response_with_state(
            server.clone(),
            shed::count_too_large,
        ))
        // Outside the body limit: a shed request's body is never read.
        .layer(axum::middleware::from_fn_with_state(server.clone(), shed::shed));
    let timeout = server.options.request_timeout;
    // Per-address pace of the public pages and the login (the simulator adds its own).
    let paces = Arc::new(pace::Paces::default());
    Router::new()
        .merge(webhooks)
        .merge(pages(paces))
        .route("/media/{name}", get(broadcast::media))
        .route("/healthz", get(metrics::healthz))
        .route("/metrics", get(metrics::prometheus))
        .route("/admin/backup", post(admin::backup))
        .route("/admin/broadcast", post(admin::broadcast))
        .route("/admin/staff/code", post(admin::staff_code))
        .route("/admin/staff", post(admin::staff))
        .route("/admin/citizen", post(admin::citizen))
        .route("/admin/subscribers", post(admin::subscribers))
        .route("/admin/moderation", post(admin::moderation))
        .route("/admin/report", post(admin::report))
        .route("/admin/retention", post(admin::retention))
        .layer(axum::middleware::from_fn(headers::secure))
        // Covers reading the body: a client trickling bytes is cut, and its connection with it.
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .with_state(server)
}

/// Builds the whole router of a started server ([`crate::app::router`]).
pub type MakeRouter = fn(Server) -> Router;

/// How often the retention worker runs.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Runs retention now and then every hour, and returns idle held conversations to the
/// queue every minute, until told to stop.
async fn retention_worker(server: Server, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(RETENTION_EVERY);
    let mut minutely = tokio::time::interval(Duration::from_secs(60));
    let idle = jiff::SignedDuration::from_mins(i64::from(server.config.release_after_minutes));
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = minutely.tick() => {
                release_idle(&server, idle).await;
                continue;
            }
            _ = stop.changed() => return,
        }
        let s = server.clone();
        let done = tokio::task::spawn_blocking(move || {
            crate::staff::privacy::retention(&s.engine, jiff::Timestamp::now(), false)
        })
        .await;
        match done {
            Ok(Ok(r)) if !r.obscured.is_empty() || r.journal_pruned > 0 || r.sent_pruned > 0 => {
                tracing::info!(
                    obscured = r.obscured.len(),
                    journal = r.journal_pruned,
                    sent = r.sent_pruned,
                    "retention run"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "retention failed"),
            Err(e) => tracing::error!(error = %e, "retention task failed"),
        }
    }
}

/// Returns idle holds to the queue, each in its citizen's lane: a step running meanwhile
/// would otherwise write back the hold it read before the release.
async fn release_idle(server: &Server, idle: jiff::SignedDuration) {
    let s = server.clone();
    let keys = match tokio::task::spawn_blocking(move || {
        crate::staff::inbox::idle_holds(&s.engine, idle, jiff::Timestamp::now())
    })
    .await
    {
        Ok(Ok(keys)) => keys,
        Ok(Err(e)) => return tracing::error!(error = %e, "listing idle conversations failed"),
        Err(e) => return tracing::error!(error = %e, "release task failed"),
    };
    let mut released = 0;
    for key in keys {
        let s = server.clone();
        let k = key.clone();
        let done = server
            .lanes()
            .in_lane(key, move || {
                crate::staff::inbox::release_if_idle(&s.engine, &k, idle, jiff::Timestamp::now())
            })
            .await;
        match done {
            Some(Ok(true)) => released += 1,
            Some(Ok(false)) | None => {}
            Some(Err(e)) => tracing::error!(error = %e, "releasing an idle conversation failed"),
        }
    }
    if released > 0 {
        tracing::info!(released, "idle conversations returned to the queue");
    }
}

/// Serves until `shutdown` resolves, then finishes in-flight work and flushes the store.
pub async fn run(
    server: Server,
    router: MakeRouter,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Started before the listener answers anything: no request sees a standby answer.
    server.start().map_err(std::io::Error::other)?;
    let gate = Gate::default();
    gate.open(router(server.clone()));
    let stop = stop_on(shutdown);
    let http = serve_gate(listener, &gate, server.config.listen, stop.clone());
    serve_active(server, http, stop).await
}

/// Stands by, then serves: the listener answers at once as a standby (503, see `standby`)
/// while `activate` runs (with PostgreSQL: waiting for the serve lock); once it yields the
/// server, the server starts (recovery: the journal and outbox left by the previous active
/// process) and serves as [`run`]. `shutdown` while standing by cancels `activate` and ends
/// with `Ok(false)`; `Ok(true)` once it served.
pub async fn run_standby_first(
    listener: tokio::net::TcpListener,
    limits: listen::Listen,
    router: MakeRouter,
    activate: impl Future<Output = std::io::Result<Server>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<bool> {
    let gate = Gate::default();
    let stop = stop_on(shutdown);
    let http = serve_gate(listener, &gate, limits, stop.clone());
    let mut stopped = stop.clone();
    let server = tokio::select! {
        server = activate => server,
        _ = stopped.wait_for(|s| *s) => {
            let _ = http.await;
            return Ok(false);
        }
    };
    let server = match server.and_then(|s| s.start().map(|()| s).map_err(std::io::Error::other)) {
        Ok(server) => server,
        Err(e) => {
            // Nothing was served: stop listening before reporting.
            http.abort();
            return Err(e);
        }
    };
    gate.open(router(server.clone()));
    serve_active(server, http, stop).await?;
    Ok(true)
}

/// A flag set once `shutdown` resolves, for the listener and the workers.
fn stop_on(shutdown: impl Future<Output = ()> + Send + 'static) -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    rx
}

type Http = tokio::task::JoinHandle<std::io::Result<()>>;

/// Serves the gate on the listener until `stop` is set, with the accept loop's limits.
fn serve_gate(
    listener: tokio::net::TcpListener,
    gate: &Gate,
    limits: listen::Listen,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Http {
    // The peer address (ConnectInfo) lets the admin endpoint answer loopback only.
    tokio::spawn(listen::serve(listener, gate.router(), limits, stop))
}

/// Runs the workers of a started server while `http` serves it, then finishes in-flight
/// work and flushes the store.
async fn serve_active(server: Server, http: Http, stop: tokio::sync::watch::Receiver<bool>) -> std::io::Result<()> {
    let retention = tokio::spawn(retention_worker(server.clone(), stop.clone()));
    let broadcasts = tokio::spawn(server.broadcast_worker().run(stop.clone()));
    let (share_stop, share_stopped) = tokio::sync::watch::channel(false);
    let sharing = tokio::spawn(server.clone().share_work(share_stopped));
    let served = http.await.map_err(std::io::Error::other);
    let _ = retention.await;
    let _ = broadcasts.await;
    tracing::info!("shutting down: finishing in-flight messages");
    server.drain(Duration::from_secs(10)).await;
    let durable = server.durable().await.map_err(std::io::Error::other);
    // Only now, after the drain: the other processes take over what is left at once.
    let _ = share_stop.send(true);
    let _ = sharing.await;
    durable?;
    served?
}
