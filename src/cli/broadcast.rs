//! `sportello broadcast send|list|status|resend-failed`: argument parsing and where the call
//! runs. With no server holding the data directory the call runs on the store directly
//! (a server started later sends what is queued); with one, it goes to that server's
//! loopback admin endpoint (`server::admin`), as `sportello backup` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use jiff::Timestamp;
use serde_json::Value;

use super::common::{config, data_dir, engine, Paths};
use crate::broadcast::ops::{execute, Call};
use crate::broadcast::ops::{media_of, parse_time};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Send (or schedule) a broadcast to a comune's subscribers of one category.
    Send(SendArgs),
    /// Every broadcast with its figures, as JSON lines.
    List {
        #[arg(long)]
        comune: Option<String>,
        #[command(flatten)]
        paths: Paths,
    },
    /// One broadcast's state and figures (queued, sent, delivered, read, failed), as JSON.
    Status {
        id: u64,
        #[command(flatten)]
        paths: Paths,
    },
    /// Queue again the entries that failed or were interrupted.
    ResendFailed {
        id: u64,
        #[command(flatten)]
        paths: Paths,
    },
}

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    #[arg(long)]
    pub comune: String,
    /// The topic category (Brusson: info, eventi, emergenze); omit for comuni with one list.
    #[arg(long)]
    pub category: Option<String>,
    /// The Italian text (a UTF-8 file).
    #[arg(long, value_name = "FILE")]
    pub text_it: Option<PathBuf>,
    /// The French text, required when French-speaking citizens would receive it.
    #[arg(long, value_name = "FILE")]
    pub text_fr: Option<PathBuf>,
    /// An image (.jpg, .png) or short video (.mp4, .3gp): a file, kept in the data directory
    /// and served at <public_url>/media/…, or a public https URL the providers can fetch.
    #[arg(long, value_name = "FILE|URL")]
    pub media: Option<String>,
    /// When to send: RFC 3339 (2026-12-01T08:00:00+01:00) or a local time in Europe/Rome
    /// (2026-12-01 08:00); now when absent.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    #[command(flatten)]
    pub paths: Paths,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (call, paths) = match args.command {
        Command::Send(a) => (send_call(&a, &a.paths)?, a.paths),
        Command::List { comune, paths } => (Call::List { comune }, paths),
        Command::Status { id, paths } => (Call::Status { id }, paths),
        Command::ResendFailed { id, paths } => (Call::ResendFailed { id }, paths),
    };
    let list = matches!(call, Call::List { .. });
    let answer = run_call(&paths, call)?;
    match (list, answer) {
        (true, Value::Array(items)) => {
            for item in items {
                println!("{item}");
            }
        }
        (_, v) => println!("{}", serde_json::to_string_pretty(&v)?),
    }
    Ok(ExitCode::SUCCESS)
}

fn send_call(a: &SendArgs, paths: &Paths) -> anyhow::Result<Call> {
    let mut texts = BTreeMap::new();
    for (lang, file) in [("it", &a.text_it), ("fr", &a.text_fr)] {
        if let Some(f) = file {
            let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
            texts.insert(lang.to_string(), text);
        }
    }
    if texts.is_empty() {
        bail!("give the text with --text-it FILE (and --text-fr FILE for French-speaking subscribers)");
    }
    let media = match a.media.as_deref() {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            Some(media_of(url).context("--media")?)
        }
        // The data directory is writable while a server runs (sled locks only its files).
        Some(file) => Some(crate::broadcast::media::keep(
            &data_dir(paths)?,
            Path::new(file),
            &config(paths)?.public_url,
        )?),
        None => None,
    };
    let send_at = a.at.as_deref().map(parse_time).transpose().context("--at")?;
    Ok(Call::Send {
        comune: a.comune.clone(),
        category: a.category.clone(),
        texts,
        media,
        send_at,
    })
}

/// Runs the call on the store, or on the server holding it.
fn run_call(paths: &Paths, call: Call) -> anyhow::Result<Value> {
    let data = data_dir(paths)?;
    if super::common::held_by_server(&data) {
        return super::common::admin_call(&data, "/admin/broadcast", &serde_json::to_value(&call)?);
    }
    let engine = engine(paths)?;
    let config = config(paths)?;
    let v = execute(&engine, &config, call, "cli", Timestamp::now())?;
    Ok(v)
}
