//! `sportello broadcast send|list|status|resend-failed`: argument parsing and where the call
//! runs. With no server holding the data directory the call runs on the store directly
//! (a server started later sends what is queued); with one, it goes to that server's
//! loopback admin endpoint (`server::admin`), as `sportello backup` does.
//!
//! Answers print as labelled text at a terminal and as the JSON of old otherwise or with
//! `--json` (`super::output`); `status --follow` and a `send` due now follow the sending with
//! a progress bar on standard error, drawn only when it is a terminal (`follow`).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use jiff::Timestamp;
use serde_json::Value;

use super::common::{config, data_dir, engine, load_flows, Paths};
use super::output::{comune_language, Output};
use crate::broadcast::ops::{execute, Call};
use crate::broadcast::ops::{media_of, parse_time};
use crate::config::StorageKind;

mod follow;
mod render;

pub use render::{render_list, render_queued, render_requeued, render_status};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Send (or schedule) a broadcast to a comune's subscribers of one category.
    Send(SendArgs),
    /// Every broadcast with its figures: a line each at a terminal, JSON lines when piped.
    List {
        #[arg(long)]
        comune: Option<String>,
        #[command(flatten)]
        shown: Shown,
        #[command(flatten)]
        paths: Paths,
    },
    /// One broadcast's state and figures (queued, sent, delivered, read, failed); JSON when
    /// piped.
    Status {
        id: u64,
        /// Wait until nothing of it is queued, with a progress bar at a terminal, then print.
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        shown: Shown,
        #[command(flatten)]
        paths: Paths,
    },
    /// Queue again the entries that failed or were interrupted.
    ResendFailed {
        id: u64,
        #[command(flatten)]
        shown: Shown,
        #[command(flatten)]
        paths: Paths,
    },
}

/// How an answer is printed.
#[derive(Debug, clap::Args)]
pub struct Shown {
    /// Print JSON even at a terminal (as when the output is piped).
    #[arg(long)]
    pub json: bool,
    /// Language of the text [default: the comune's first].
    #[arg(long)]
    pub lang: Option<String>,
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
    /// Return as soon as it is queued, without following the sending.
    #[arg(long)]
    pub no_follow: bool,
    #[command(flatten)]
    pub shown: Shown,
    #[command(flatten)]
    pub paths: Paths,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Send(a) => send(a)?,
        Command::List { comune, shown, paths } => {
            let answer = run_call(&paths, Call::List { comune: comune.clone() })?;
            match Output::choose(shown.json) {
                Output::Json => print_json(&answer, true)?,
                Output::Human => {
                    let (flows, locales) = load_flows(&paths)?;
                    let lang = comune_language(&flows, comune.as_deref(), shown.lang.as_deref());
                    print!("{}", render_list(&answer, &locales, &lang));
                }
            }
        }
        Command::Status {
            id,
            follow,
            shown,
            paths,
        } => {
            let answer = if follow {
                follow::follow(&paths, id, shown.lang.as_deref())?
            } else {
                run_call(&paths, Call::Status { id })?
            };
            print_answer(&answer, &shown, &paths, render_status)?;
        }
        Command::ResendFailed { id, shown, paths } => {
            let answer = run_call(&paths, Call::ResendFailed { id })?;
            print_answer(&answer, &shown, &paths, render_requeued)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON of old: a list one item a line, anything else pretty.
fn print_json(answer: &Value, list: bool) -> anyhow::Result<()> {
    match answer {
        Value::Array(items) if list => {
            for item in items {
                println!("{item}");
            }
        }
        v => println!("{}", serde_json::to_string_pretty(v)?),
    }
    Ok(())
}

/// Prints one answer about a broadcast: `render` at a terminal, in the language of the
/// comune named in `answer` (or `--lang`), else the JSON.
fn print_answer(
    answer: &Value,
    shown: &Shown,
    paths: &Paths,
    render: fn(&Value, &crate::i18n::Locales, &str) -> String,
) -> anyhow::Result<()> {
    match Output::choose(shown.json) {
        Output::Json => print_json(answer, false),
        Output::Human => {
            let (flows, locales) = load_flows(paths)?;
            let comune = answer["comune"].as_str();
            let lang = comune_language(&flows, comune, shown.lang.as_deref());
            print!("{}", render(answer, &locales, &lang));
            Ok(())
        }
    }
}

/// `broadcast send`: queues it, follows a broadcast due now while a server sends it (with
/// stderr at a terminal, unless `--no-follow`), then prints what was queued.
fn send(a: SendArgs) -> anyhow::Result<()> {
    let call = send_call(&a, &a.paths)?;
    let answer = run_call(&a.paths, call)?;
    let sender = sender(&a.paths)?;
    let followed = match answer["id"].as_u64() {
        Some(id) if sender == Sender::Running && a.at.is_none() && !a.no_follow && std::io::stderr().is_terminal() => {
            Some(follow::follow(&a.paths, id, a.shown.lang.as_deref())?)
        }
        _ => None,
    };
    match Output::choose(a.shown.json) {
        Output::Json => print_json(&answer, false)?,
        Output::Human => {
            let (flows, locales) = load_flows(&a.paths)?;
            let lang = comune_language(&flows, Some(&a.comune), a.shown.lang.as_deref());
            print!("{}", render_queued(&answer, sender == Sender::Absent, &locales, &lang));
            if let Some(status) = followed {
                print!("{}", render_status(&status, &locales, &lang));
            }
        }
    }
    Ok(())
}

/// Whether a server sends what is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sender {
    /// A `serve` holds the sled data directory.
    Running,
    /// Nobody holds it: what is queued waits for the next `serve`.
    Absent,
    /// PostgreSQL: servers open the database from anywhere; none can be seen from here.
    Unseen,
}

fn sender(paths: &Paths) -> anyhow::Result<Sender> {
    if config(paths)?.storage == StorageKind::Postgres {
        return Ok(Sender::Unseen);
    }
    Ok(if super::common::held_by_server(&data_dir(paths)?) {
        Sender::Running
    } else {
        Sender::Absent
    })
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
