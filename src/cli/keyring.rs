//! `sportello keyring`: how many citizen keys live and how many were erased, and the
//! rotation of the master key (issue 24; the keyring itself is `storage::keyring`), on a
//! data directory's keyring file or on a PostgreSQL database's keyring tables.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::common::{config, data_dir, held_by_server, open_postgres, Paths};
use crate::config::StorageKind;
use crate::storage::keyring::{self, Keyring, Master};
use crate::storage::postgres::LockMode;
use crate::storage::sealed::{master_key, write_master_key, MasterSource, MASTER_KEY_FILE};
use crate::storage::SledStore;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    paths: Paths,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Live and erased citizen keys, and where the master key comes from.
    Status,
    /// Rewrap every citizen key under a new master key (the service stopped). With the
    /// generated `master.key` of the data directory, it is replaced; otherwise the new key
    /// is written to --to, for SPORTELLO_MASTER_KEY_FILE.
    Rotate {
        /// Where to write the new master key (0600; must not exist).
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = config(&args.paths)?;
    if config.storage == StorageKind::Postgres {
        return on_postgres(args, config.postgres_connections);
    }
    let data = data_dir(&args.paths)?;
    let path = keyring::path_in(&data);
    if !path.is_file() {
        bail!(
            "{} has no keyring (a data directory gets one when a sportello opens it)",
            data.display()
        );
    }
    match args.command {
        Command::Status => {
            let (master, source) = master_key(&data)?;
            let ring = Keyring::open(&path, master)?;
            let (live, erased) = ring.counts()?;
            println!("keyring: {live} live, {erased} erased");
            println!("master key from: {source}");
        }
        Command::Rotate { to } => {
            if held_by_server(&data) {
                bail!("a server is using {}: stop it first", data.display());
            }
            // sled's lock keeps a server from starting meanwhile.
            let _lock = SledStore::try_open(&data).with_context(|| format!("cannot lock {}", data.display()))?;
            let (master, source) = master_key(&data)?;
            let default = data.join(MASTER_KEY_FILE);
            let target = match to {
                Some(to) => to,
                None if matches!(source, MasterSource::Generated(_)) => default.with_extension("key.new"),
                None => bail!("the master key comes from {source}: name a file for the new one with --to"),
            };
            let hex = Master::generate_hex();
            write_master_key(&target, &hex).with_context(|| format!("cannot create {}", target.display()))?;
            let ring = Keyring::open(&path, master)?;
            let slots = ring.slots()?;
            ring.rotate(Master::from_hex(&hex)?)?;
            if target == default.with_extension("key.new") {
                std::fs::rename(&target, &default)?;
                println!(
                    "rotated {slots} slots; the new master key replaced {}",
                    default.display()
                );
            } else {
                println!(
                    "rotated {slots} slots; the new master key is in {}: point SPORTELLO_MASTER_KEY_FILE at it \
                     (or put its contents in SPORTELLO_MASTER_KEY), then destroy the old one",
                    target.display()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The keyring of a PostgreSQL database (`storage::postgres::keyring`): its status, or its
/// rotation with every sportello on the database stopped (the serve lock free, no replica
/// beating).
fn on_postgres(args: Args, connections: usize) -> anyhow::Result<ExitCode> {
    let data = data_dir(&args.paths)?;
    let pg = open_postgres(connections)?;
    if !pg.has_keyring()? {
        bail!("the PostgreSQL database has no keyring (it gets one when a sportello opens it)");
    }
    let (ring, source) = crate::storage::sealed::postgres::keyring_on(&pg, &data)?;
    match args.command {
        Command::Status => {
            let (live, erased) = ring.counts()?;
            println!("keyring (PostgreSQL): {live} live, {erased} erased");
            println!("master key from: {source}");
        }
        Command::Rotate { to } => {
            // Held (with the runtime driving its session) until the rotation is done.
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let lock = runtime.block_on(pg.try_serve_lock(LockMode::Exclusive))?;
            if lock.is_err() || !pg.live_replicas(crate::server::DEAD_AFTER)?.is_empty() {
                bail!("a sportello is serving on this database: stop every one first");
            }
            let Some(target) = to else {
                bail!("name a file for the new master key with --to (every process on the database needs it)");
            };
            let hex = Master::generate_hex();
            write_master_key(&target, &hex).with_context(|| format!("cannot create {}", target.display()))?;
            let slots = ring.slots()?;
            ring.rotate(Master::from_hex(&hex)?)?;
            println!(
                "rotated {slots} slots; the new master key is in {}: give it to every process on the database \
                 (SPORTELLO_MASTER_KEY_FILE, or its contents in SPORTELLO_MASTER_KEY), then destroy the old one",
                target.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
