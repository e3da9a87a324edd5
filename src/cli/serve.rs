//! `sportello serve`: the HTTP server for every comune and channel.
//!
//! With no configuration and no credentials it starts on 127.0.0.1:8080 with every flow,
//! the simulator and the subscribe pages; channels come alive as their secrets are set
//! in the environment (see README).
//!
//! On PostgreSQL several processes may run on one database. By default one is active, the
//! others stand by (answering 503) until its serve lock is free, then the first to take it
//! replays the journal and outbox and serves; a process that loses the lock exits at once,
//! non-zero. With `postgres.processes = "all-active"` every process serves and they share
//! the work (`server::shared`).

use std::process::ExitCode;

use anyhow::Context;

use super::common::{config, data_dir, load_faqs, load_flows, open_store, Opened, Paths};
use crate::config::{Config, Processes, Secrets};
use crate::server::{self, Server, Shared};
use crate::service::runner::Engine;
use crate::storage::postgres::{Busy, LockMode, ServeLock};
use crate::storage::PgStore;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1:8080, or server.bind in the configuration].
    #[arg(long)]
    pub bind: Option<String>,
    /// Bench only: journal, sync and answer webhooks, run no step (the durable ceiling of
    /// `cargo bench --bench load -- processes`). No citizen gets an answer.
    #[arg(long, hide = true)]
    pub bench_durable_ceiling: bool,
    #[command(flatten)]
    pub paths: Paths,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = config(&args.paths)?;
    if let Some(bind) = args.bind {
        // The public address follows --bind only when it was the default one derived from
        // the old bind: a configured https:// public_url is kept (cookies stay Secure, links
        // stay https).
        if config.public_url == format!("http://{}", config.bind) {
            config.public_url = format!("http://{bind}");
        }
        config.bind = bind;
    }
    let (flows, locales) = load_flows(&args.paths)?;
    let secrets = Secrets::from_env();
    // A comune that is not a flow, or a channel without its secrets, stops the start here.
    config.check_serving(&flows.ids().collect::<Vec<_>>(), &secrets)?;
    // A bad FAQ file stops the start here, before anything listens.
    let faqs = load_faqs()?;
    let data = data_dir(&args.paths)?;
    let steps = !args.bench_durable_ceiling;
    let opened = open_store(&args.paths)?;
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if matches!(opened, Opened::Postgres(_)) && std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        // A `Store` call blocks its worker for a round trip to PostgreSQL: with one worker
        // per core, two waiting calls stop every request (BENCHMARKS.md, "The whole server
        // on each backend": at 1,000 messages/s the 200 took 622 ms at p50 with 2 workers,
        // 3.3 ms with 8).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        builder.worker_threads(cores.max(POSTGRES_WORKERS));
    }
    // Each thread keeps its own allocator heap: the `memory` setting bounds how many run
    // blocking store calls at once (tokio's default is 512).
    builder.max_blocking_threads(config.memory.blocking_threads());
    let runtime = builder.enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let addr = listener.local_addr()?;
        match opened {
            // `POST /admin/backup` reads the handle the engine writes through, and pauses its
            // writes while it scans. sled's own file lock already keeps a second process out.
            Opened::Sled(store) => {
                let mut engine = Engine::new(flows, locales, std::sync::Arc::new((*store).clone()));
                engine.faqs = faqs;
                let server = prepare(engine, config, secrets, addr, &data, None, steps)?;
                // The loopback admin endpoint (backups, broadcasts from the CLI) needs
                // sled's handle; on PostgreSQL the CLI writes to the shared database and the
                // worker picks it up.
                server
                    .enable_admin(store.inner().clone(), &data, addr)
                    .context("cannot write the admin token")?;
                let served = crate::app::run(server, listener, shutdown_signal()).await;
                server::remove_admin_files(&data);
                served?;
            }
            // Every process serves (`server::shared`): no serve lock, no standby.
            Opened::Postgres(pg) if config.processes == Processes::AllActive => {
                // A one-active process replays the whole journal and outbox at start: it
                // must not serve beside all-active ones (nor they beside it). Every
                // all-active process holds the serve lock shared while it serves, so that
                // two starting at once never mistake each other for a one-active one.
                let Ok(lock) = pg.inner().try_serve_lock(LockMode::Shared).await? else {
                    anyhow::bail!(MIXED_ONE_ACTIVE);
                };
                let watchdog = tokio::spawn(stop_when_lost(lock, "stopping at once"));
                let mut engine = Engine::new(flows, locales, std::sync::Arc::new((*pg).clone()));
                engine.faqs = faqs;
                // One process at a time creates the first administrator: two starting on
                // an empty database would both find no account.
                let shared = Shared::new((*pg).clone()).context("cannot name this process")?;
                let starting = pg.locks().lock(START_LOCK).await?;
                let prepared = prepare(engine, config, secrets, addr, &data, Some(shared.into()), steps);
                starting.release().await;
                let server = prepared?;
                println!("  sharing the work with every other sportello on this database (all-active)");
                let served = crate::app::run(server, listener, shutdown_signal()).await;
                watchdog.abort();
                let _ = watchdog.await;
                served?;
            }
            // PostgreSQL is backed up with its own tools (pg_dump): no admin endpoint.
            Opened::Postgres(sealed) => {
                let pg = sealed.inner().clone();
                let mut engine = Engine::new(flows, locales, std::sync::Arc::new(*sealed));
                engine.faqs = faqs;
                let mut watchdog = None;
                let listen = config.listen;
                let activate = async {
                    let lock = serve_lock(&pg, addr).await?;
                    let check = pg.clone();
                    let live = tokio::task::spawn_blocking(move || check.live_replicas(server::DEAD_AFTER))
                        .await
                        .map_err(std::io::Error::other)?
                        .map_err(std::io::Error::other)?;
                    if !live.is_empty() {
                        return Err(std::io::Error::other(MIXED_ALL_ACTIVE));
                    }
                    // From here on this process must not outlive its lock.
                    watchdog = Some(tokio::spawn(stop_when_lost(
                        lock,
                        "stopping at once so that a standby can take over",
                    )));
                    prepare(engine, config, secrets, addr, &data, None, steps).map_err(std::io::Error::other)
                };
                let served = crate::app::run_standby_first(listener, listen, activate, shutdown_signal()).await;
                // The lock is released (its session closed) only now, after the drain.
                if let Some(watchdog) = watchdog {
                    watchdog.abort();
                    let _ = watchdog.await;
                }
                if !served? {
                    println!("sportello stopped while standing by");
                    return anyhow::Ok(());
                }
            }
        }
        println!("sportello stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Why a process refuses to serve beside processes of the other mode.
const MIXED_ONE_ACTIVE: &str = "a sportello with postgres.processes = \"one-active\" serves this database: \
     set the same postgres.processes on every process";
const MIXED_ALL_ACTIVE: &str = "sportello processes with postgres.processes = \"all-active\" serve this database: \
     set the same postgres.processes on every process";

/// The lock all-active processes start under (`storage::postgres::locks`).
const START_LOCK: &str = "serve start";

/// Tokio workers at least, on PostgreSQL (`TOKIO_WORKER_THREADS` overrides it).
const POSTGRES_WORKERS: usize = 8;

/// Takes the serve lock (see `storage::postgres::lock`), waiting as a standby while another
/// process holds it.
async fn serve_lock(pg: &PgStore, addr: std::net::SocketAddr) -> std::io::Result<ServeLock> {
    match pg
        .try_serve_lock(LockMode::Exclusive)
        .await
        .map_err(std::io::Error::other)?
    {
        Ok(lock) => return Ok(lock),
        Err(Busy::Shared) => return Err(std::io::Error::other(MIXED_ALL_ACTIVE)),
        Err(Busy::Exclusive) => {}
    }
    println!("another sportello is active on this database; waiting as standby");
    println!("  standing by on http://{addr} (every request answers 503 until this one is active)");
    let lock = pg.serve_lock().await;
    println!("the active sportello is gone: taking over");
    // The previous holder checks its lock every CHECK_EVERY and stops when it lost it (a
    // terminated session, not a dead process): let it notice before replaying its work.
    tokio::time::sleep(TAKEOVER_GRACE).await;
    Ok(lock)
}

/// How long a standby that just took the lock waits before recovery (twice the holder's
/// check interval).
const TAKEOVER_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Ends the process, non-zero, as soon as the serve lock is lost: a standby (or, lost by
/// an all-active process, a one-active one) may already be active, and it would step
/// citizens twice and send replies twice beside this one. No drain: everything in flight
/// is in the journal and outbox for whoever serves next. `then` ends the message.
async fn stop_when_lost(mut lock: ServeLock, then: &'static str) {
    let why = lock.lost().await;
    tracing::error!(reason = %why, "lost the serve lock");
    eprintln!("error: lost the serve lock on the database ({why}); {then}");
    std::process::exit(3);
}

/// Prints what is served where, creates the first administrator if needed and builds the
/// server (nothing runs until it starts), sharing the work with `replicas` when given.
fn prepare(
    engine: Engine,
    config: Config,
    secrets: Secrets,
    addr: std::net::SocketAddr,
    data: &std::path::Path,
    replicas: Option<std::sync::Arc<Shared>>,
    steps: bool,
) -> anyhow::Result<Server> {
    let ids: Vec<String> = engine.flows.ids().map(String::from).collect();
    let wa = ids
        .iter()
        .filter(|c| {
            config
                .comuni
                .get(*c)
                .is_some_and(|x| x.whatsapp_phone_number_id.is_some())
        })
        .count();
    let base = format!("http://{addr}");
    println!(
        "sportello is serving {} comuni ({}) on {base}",
        ids.len(),
        ids.join(", ")
    );
    println!("  try a comune as a citizen:  {base}/try");
    println!(
        "  subscribe pages:            {base}/c/{}",
        ids.first().map(String::as_str).unwrap_or("<comune>")
    );
    println!("  health and metrics:         {base}/healthz  {base}/metrics");
    println!("  WhatsApp webhook:           {base}/webhook/whatsapp ({wa} comuni with a phone_number_id)");
    println!("  Telegram webhooks:          {base}/webhook/telegram/<comune>");
    println!("  staff console:              {base}/staff");
    // The first administrator, when there is no account yet (printed once if generated).
    if let Some(line) = crate::staff::bootstrap::bootstrap(engine.store.as_ref(), &|k: &str| std::env::var(k).ok())? {
        println!("{line}");
    }
    // The console's FAQ edits and closures, overlaid on the files now rather than at the
    // first message (a store that cannot be read fails here, before serving).
    engine.live()?;
    if !steps {
        println!("  BENCH ONLY: --bench-durable-ceiling, webhooks are journalled and answered, no step runs");
    }
    let options = crate::server::Options {
        media_dir: Some(data.join(crate::broadcast::media::DIR)),
        replicas,
        steps,
        ..Default::default()
    };
    Ok(Server::with_options(engine, config, secrets, options))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
