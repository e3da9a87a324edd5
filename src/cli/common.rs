//! What every subcommand that touches flows or data shares: where they live.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context};

use crate::config::{Config, StorageKind};
use crate::flow::{self, Flows};
use crate::i18n::Locales;
use crate::service::runner::Engine;
use crate::storage::sealed::Sealed;
use crate::storage::{PgOptions, PgStore, SledStore, Store};

/// Folders of flows, locales and data: a flag wins over the configuration file, which wins
/// over the defaults.
#[derive(Debug, Clone, clap::Args)]
pub struct Paths {
    /// Configuration file (see config.example.toml).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory (the same one the server uses) [default: ./data].
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
    /// Flows folder; when absent and ./flows does not exist, the built-in flows are used.
    #[arg(long, global = true)]
    pub flows: Option<PathBuf>,
    /// Locales folder; when absent and ./locales does not exist, the built-in ones are used.
    #[arg(long, global = true)]
    pub locales: Option<PathBuf>,
}

fn pick(explicit: &Option<PathBuf>, configured: &Option<PathBuf>, default: &str) -> Option<PathBuf> {
    explicit
        .clone()
        .or_else(|| configured.clone())
        .or_else(|| Path::new(default).is_dir().then(|| PathBuf::from(default)))
}

/// The configuration file named by `--config`, or the defaults.
pub fn config(paths: &Paths) -> anyhow::Result<Config> {
    Ok(match &paths.config {
        Some(file) => Config::load(file)?,
        None => Config::default(),
    })
}

/// The data directory in force.
pub fn data_dir(paths: &Paths) -> anyhow::Result<PathBuf> {
    let config = config(paths)?;
    Ok(paths
        .data
        .clone()
        .or(config.data)
        .unwrap_or_else(|| PathBuf::from("./data")))
}

/// Loads locales and flows, as files when present, else built in. Errors list every problem.
pub fn load_flows(paths: &Paths) -> anyhow::Result<(Flows, Locales)> {
    let config = config(paths)?;
    let locales = match pick(&paths.locales, &config.locales, "locales") {
        Some(dir) => Locales::load_dir(&dir),
        None => Locales::embedded(),
    }
    .map_err(|errs| anyhow!(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))?;
    let flows = match pick(&paths.flows, &config.flows, "flows") {
        Some(dir) => flow::load_dir(&dir, &locales),
        None => flow::load_embedded(&locales),
    }
    .map_err(|errs| anyhow!(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))?;
    Ok((flows, locales))
}

/// Which store the configuration names, opened. sled lives in `paths.data`; PostgreSQL's
/// URL comes from `SPORTELLO_DATABASE_URL`, never from a file.
pub enum Opened {
    /// sled, personal data sealed per citizen (`storage::sealed`).
    Sled(Box<Sealed<SledStore>>),
    /// PostgreSQL, sealed the same way, its keyring in the database.
    Postgres(Box<Sealed<PgStore>>),
}

impl Opened {
    pub fn into_store(self) -> Arc<dyn Store> {
        match self {
            Opened::Sled(s) => Arc::new(*s),
            Opened::Postgres(s) => Arc::new(*s),
        }
    }
}

/// The PostgreSQL URL from the environment.
pub fn database_url() -> anyhow::Result<String> {
    let var = crate::storage::postgres::DATABASE_URL_ENV;
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Ok(url),
        _ => Err(anyhow!(
            "storage = \"postgres\" needs the server's URL in {var} (e.g. postgres://sportello@127.0.0.1/sportello)"
        )),
    }
}

/// Opens the PostgreSQL store named by the environment, with `connections` connections.
pub fn open_postgres(connections: usize) -> anyhow::Result<PgStore> {
    let mut options = PgOptions::new(&database_url()?);
    options.connections = connections;
    // The URL may hold a password: never print it.
    PgStore::open(&options).context("cannot open the PostgreSQL database named by SPORTELLO_DATABASE_URL")
}

/// Opens the store the configuration names.
pub fn open_store(paths: &Paths) -> anyhow::Result<Opened> {
    let config = config(paths)?;
    Ok(match config.storage {
        StorageKind::Postgres => {
            let data = data_dir(paths)?;
            let pg = open_postgres(config.postgres_connections)?;
            let (store, sealed) = crate::storage::sealed::postgres::open_postgres(pg, &data)
                .context("cannot open the keyring of the PostgreSQL database named by SPORTELLO_DATABASE_URL")?;
            store.keyring().keep_opened(config.memory.opened_keys());
            if let Some(backup) = sealed {
                eprintln!(
                    "the PostgreSQL database is now sealed (personal data encrypted per citizen); its tables as \
                     they were, in clear, are in {}: delete it once the service works",
                    backup.display()
                );
            }
            Opened::Postgres(Box::new(store))
        }
        StorageKind::Sled => {
            let data = data_dir(paths)?;
            let sled_cache = config.memory.sled_cache();
            let (store, migrated) =
                crate::storage::sealed::migrate::open_sled_sized(&data, sled_cache).with_context(|| {
                    format!(
                        "cannot open the data directory {} (is a server using it? sled allows one \
                     process at a time)",
                        data.display()
                    )
                })?;
            if let Some(backup) = migrated {
                eprintln!(
                    "the data directory {} is now sealed (personal data encrypted per citizen); the store as it \
                     was, in clear, is in {}: delete it once the service works",
                    data.display(),
                    backup.display()
                );
            }
            store.keyring().keep_opened(config.memory.opened_keys());
            Opened::Sled(Box::new(store))
        }
    })
}

/// The FAQs, from `./faq` when it exists, else the built-in ones (as flows and locales).
/// Every command that answers citizens loads them here, `serve` included: an engine built
/// without them answers no question from the FAQ and the console lists none (issue 19).
pub fn load_faqs() -> anyhow::Result<std::collections::BTreeMap<String, crate::faq::Faq>> {
    Ok(crate::faq::load_all(
        Path::new("faq").is_dir().then_some(Path::new("faq")),
    )?)
}

/// [`engine`] for the commands that read or erase what a server stored: a sled data
/// directory that does not exist is refused rather than created empty (a typo in `--data`
/// would otherwise print a plausible all-zero answer).
pub fn existing_engine(paths: &Paths) -> anyhow::Result<Engine> {
    if config(paths)?.storage == StorageKind::Sled {
        let data = data_dir(paths)?;
        if !data.is_dir() {
            anyhow::bail!(
                "the data directory {} does not exist (`sportello serve` or `chat` creates it; check --data or paths.data)",
                data.display()
            );
        }
    }
    engine(paths)
}

/// Flows, locales, FAQs and the store the configuration names.
pub fn engine(paths: &Paths) -> anyhow::Result<Engine> {
    let (flows, locales) = load_flows(paths)?;
    let store = open_store(paths)?.into_store();
    let mut engine = Engine::new(flows, locales, store);
    engine.faqs = load_faqs()?;
    // An erasure a crash interrupted is finished before anything reads the store.
    engine.resume_erasures()?;
    Ok(engine)
}

/// Whether a running `serve` holds the sled data directory `data` (its admin token is there
/// and sled's lock keeps this process out): commands then go through that server.
pub fn held_by_server(data: &Path) -> bool {
    data.join(crate::server::TOKEN_FILE).is_file() && SledStore::try_open(data).is_err()
}

/// The data directory when a running `serve` holds it (sled only: on PostgreSQL every
/// process opens the database itself), so that a command goes through that server.
pub fn held_data(paths: &Paths) -> anyhow::Result<Option<PathBuf>> {
    if config(paths)?.storage != StorageKind::Sled {
        return Ok(None);
    }
    let data = data_dir(paths)?;
    Ok(held_by_server(&data).then_some(data))
}

/// The loopback address of a server listening on `addr` (which may be 0.0.0.0).
pub(super) fn loopback(addr: std::net::SocketAddr) -> std::net::SocketAddr {
    match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::SocketAddr::from(([127, 0, 0, 1], addr.port())),
        ip if ip.is_unspecified() => std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port())),
        _ => addr,
    }
}

/// Posts `body` to the admin endpoint `path` of the server holding `data` (loopback, with
/// the token it wrote there) and returns its JSON answer; a refusal is an error with the
/// server's reason.
pub fn admin_call(data: &Path, path: &str, body: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
    use crate::server::{ADDR_FILE, TOKEN_FILE};
    let token = std::fs::read_to_string(data.join(TOKEN_FILE)).context("cannot read the admin token")?;
    let addr: std::net::SocketAddr = std::fs::read_to_string(data.join(ADDR_FILE))
        .context("cannot read the server's address")?
        .trim()
        .parse()
        .context("the server's address file is damaged")?;
    let url = format!("http://{}{path}", loopback(addr));
    // reqwest on rustls needs a process-wide provider even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(&url)
            .bearer_auth(token.trim())
            .json(body)
            .send()
            .await
            .context("the server holding the data directory did not answer")?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            anyhow::bail!("{}", if text.is_empty() { status.to_string() } else { text });
        }
        Ok(serde_json::from_str(&text)?)
    })
}

/// Creates `path` (replacing it) readable by the owner only: backups and exports hold
/// personal data.
pub fn create_private(path: &Path) -> anyhow::Result<std::fs::File> {
    crate::storage::create_private(path).with_context(|| format!("cannot create {}", path.display()))
}

/// A command whose reader went away (`sportello staff list | head -1`) ends quietly with
/// the status a shell gives a process killed by SIGPIPE (141), as other command-line tools
/// do, instead of a panic message: Rust ignores SIGPIPE, so `println!` panics on the
/// broken pipe. Any other panic is reported as before.
pub fn quiet_on_closed_output() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        report(info);
    }));
}
