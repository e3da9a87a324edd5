//! `sportello backup` and `sportello restore`: argument parsing and where the bytes come
//! from. The format, its checks and the restore itself are `storage::backup`'s.
//!
//! A backup reads the data directory itself when no server holds it; when one does (sled's
//! lock), it asks that server over loopback with the token the server left in the
//! directory (`server::admin`). Either way the file is checked whole before it takes its
//! final name, and is readable by its owner only: it holds personal data.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::common::{config, data_dir, Paths};
use crate::config::StorageKind;
use crate::server::{ADDR_FILE, TOKEN_FILE};
use crate::storage::backup::{read_backup, restore, write_checked, Summary};
use crate::storage::SledStore;

/// Arguments of `sportello backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The backup file to write (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
    #[command(flatten)]
    pub paths: Paths,
}

/// Arguments of `sportello restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup file to read.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Replace what a non-empty data directory holds.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub paths: Paths,
}

/// Backups are of the sled store; PostgreSQL has its own tools.
fn sled_only(paths: &Paths) -> anyhow::Result<()> {
    if config(paths)?.storage == StorageKind::Postgres {
        bail!("with storage = \"postgres\", back up and restore with pg_dump and pg_restore");
    }
    Ok(())
}

/// Runs `sportello backup`.
pub fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    sled_only(&args.paths)?;
    let data = data_dir(&args.paths)?;
    // sled's own file: without it there is nothing to back up (and opening would create it).
    if !data.join("db").is_file() {
        bail!("{} holds no sportello data", data.display());
    }
    let mut via = "the data directory";
    let summary = write_checked(&args.to, |file| {
        match SledStore::try_open(&data) {
            Ok(store) => {
                let mut out = BufWriter::new(file);
                store.export_to(&mut out)?;
                out.flush()?;
            }
            Err(open_error) => {
                if !data.join(TOKEN_FILE).is_file() {
                    return Err(open_error.into());
                }
                from_server(&data, file).map_err(|e| std::io::Error::other(format!("{e:#}")))?;
                via = "the running server";
            }
        }
        Ok(())
    })
    .with_context(|| format!("cannot back up {}", data.display()))?;
    println!(
        "backup of {} ({via}) written to {}: {}",
        data.display(),
        args.to.display(),
        describe(&summary)
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `sportello restore`.
pub fn restore_cmd(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    sled_only(&args.paths)?;
    let data = data_dir(&args.paths)?;
    let file = File::open(&args.from).with_context(|| format!("cannot open {}", args.from.display()))?;
    let backup = read_backup(BufReader::new(file)).with_context(|| format!("{} refused", args.from.display()))?;
    if data.join(TOKEN_FILE).is_file() && SledStore::try_open(&data).is_err() {
        bail!("a server is using {}: stop it first", data.display());
    }
    let sealed_backup = backup
        .records
        .get(crate::storage::keys::META_TREE)
        .is_some_and(|meta| meta.contains_key(crate::storage::sealed::SEALED_KEY));
    if sealed_backup && !crate::storage::keyring::path_in(&data).exists() {
        bail!(
            "{} is sealed: its personal data opens only with the keyring it was written with. Put that \
             keyring (and the master key, if it was {}) into {} first",
            args.from.display(),
            crate::storage::sealed::MASTER_KEY_FILE,
            data.display()
        );
    }
    restore(&data, &backup, args.force).with_context(|| format!("cannot restore into {}", data.display()))?;
    // Whoever was erased after the backup was taken stays erased: their keys are gone from
    // the keyring, and their records go now.
    let (store, _) = crate::storage::sealed::migrate::open_sled(&data)?;
    let erased = store.forget_unreadable(store.inner().named_citizens()?)?;
    crate::storage::Store::flush(&store)?;
    println!(
        "restored {} into {}: {}; {erased} citizens erased since stay erased",
        args.from.display(),
        data.display(),
        describe(&backup.summary)
    );
    Ok(ExitCode::SUCCESS)
}

/// Asks the server holding `data` for a backup, into `to`.
fn from_server(data: &Path, to: &mut File) -> anyhow::Result<()> {
    let token = std::fs::read_to_string(data.join(TOKEN_FILE)).context("cannot read the admin token")?;
    let addr: SocketAddr = std::fs::read_to_string(data.join(ADDR_FILE))
        .context("cannot read the server's address")?
        .trim()
        .parse()
        .context("the server's address file is damaged")?;
    let url = format!("http://{}/admin/backup", super::common::loopback(addr));
    // reqwest on rustls needs a process-wide provider even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut response = reqwest::Client::new()
            .post(&url)
            .bearer_auth(token.trim())
            .send()
            .await
            .context("the server holding the data directory did not answer")?;
        if !response.status().is_success() {
            bail!("the server refused the backup: {}", response.status());
        }
        let mut out = BufWriter::new(to);
        while let Some(chunk) = response.chunk().await? {
            out.write_all(&chunk)?;
        }
        out.flush()?;
        anyhow::Ok(())
    })
}

fn describe(s: &Summary) -> String {
    let trees: Vec<String> = s.counts.iter().map(|(t, n)| format!("{t} {n}")).collect();
    format!("{} records ({}), sha256 {}", s.records, trees.join(", "), s.sha256)
}
