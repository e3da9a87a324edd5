//! What every subcommand that touches flows or data shares: where they live.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context};

use crate::config::Config;
use crate::dialogue::runner::Engine;
use crate::flow::{self, Flows};
use crate::i18n::Locales;
use crate::storage::SledStore;

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

/// Flows, locales, FAQs and the sled store in `paths.data`.
pub fn engine(paths: &Paths) -> anyhow::Result<Engine> {
    let (flows, locales) = load_flows(paths)?;
    let data = data_dir(paths)?;
    let store = SledStore::open(&data).with_context(|| {
        format!(
            "cannot open the data directory {} (is a server using it?)",
            data.display()
        )
    })?;
    let mut engine = Engine::new(flows, locales, Arc::new(store));
    engine.faqs = crate::faq::load_all(Path::new("faq").is_dir().then_some(Path::new("faq")))?;
    // An erasure a crash interrupted is finished before anything reads the store.
    engine.resume_erasures()?;
    Ok(engine)
}
