//! `sportello serve`: the HTTP server for every comune and channel.
//!
//! With no configuration and no credentials it starts on 127.0.0.1:8080 with every flow,
//! the simulator and the subscribe pages; channels come alive as their secrets are set
//! in the environment (see README).

use std::process::ExitCode;

use anyhow::Context;

use super::common::{config, data_dir, load_flows, open_store, Opened, Paths};
use crate::config::Secrets;
use crate::dialogue::runner::Engine;
use crate::server::{self, Server};
use crate::storage::backup::GatedStore;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1:8080, or server.bind in the configuration].
    #[arg(long)]
    pub bind: Option<String>,
    #[command(flatten)]
    pub paths: Paths,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = config(&args.paths)?;
    if let Some(bind) = args.bind {
        config.public_url = format!("http://{bind}");
        config.bind = bind;
    }
    let (flows, locales) = load_flows(&args.paths)?;
    let data = data_dir(&args.paths)?;
    // With sled the engine writes through a gated store so that `POST /admin/backup` can
    // pause it. PostgreSQL is backed up with its own tools (pg_dump): no admin endpoint.
    let (engine, gated) = match open_store(&args.paths)? {
        Opened::Sled(sled) => {
            let store = GatedStore::new(sled);
            let engine = Engine::new(flows, locales, std::sync::Arc::new(store.clone()));
            (engine, Some(store))
        }
        opened @ Opened::Postgres(_) => (Engine::new(flows, locales, opened.into_store()), None),
    };
    let secrets = Secrets::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let addr = listener.local_addr()?;
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
        if let Some(line) = crate::console::bootstrap(engine.store.as_ref(), &|k: &str| std::env::var(k).ok())? {
            println!("{line}");
        }
        // The console's FAQ edits and closures, overlaid on the files now rather than at the
        // first message (a store that cannot be read fails here, before serving).
        engine.live()?;
        let server = Server::new(engine, config, secrets);
        server.set_media_dir(data.join(crate::broadcast::media::DIR));
        // The loopback admin endpoint (backups, broadcasts from the CLI) needs sled's gate;
        // on PostgreSQL the CLI writes to the shared database and the worker picks it up.
        if let Some(store) = gated {
            server
                .enable_admin(store, &data, addr)
                .context("cannot write the admin token")?;
        }
        let served = server::run(server, listener, shutdown_signal()).await;
        server::remove_admin_files(&data);
        served?;
        println!("sportello stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
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
