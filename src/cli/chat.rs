//! `sportello chat`: talk to a comune's flow as a citizen, from the terminal.
//!
//! Reads one citizen message a line from standard input and writes the bot's replies; with
//! `--json`, one JSON object a line per outgoing message (`key`, `text`, `buttons`). A line
//! that is just the number of a button offered by the previous reply taps that button.
//! The citizen is a WhatsApp citizen by default, so `citizen show` and the server see the
//! same record.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;
use jiff::Timestamp;

use super::common::{engine, Paths};
use crate::dialogue::{Body, Inbound};
use crate::i18n::RenderedButton;
use crate::storage::keys::normalize_number;
use crate::storage::CitizenKey;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The comune's id (a file name in flows/ without .toml).
    #[arg(long)]
    pub comune: String,
    /// The citizen's number (or any id).
    #[arg(long)]
    pub from: String,
    /// One JSON object a line for each outgoing message.
    #[arg(long)]
    pub json: bool,
    /// The channel the citizen writes on.
    #[arg(long, default_value = "whatsapp", value_parser = ["whatsapp", "telegram", "web"])]
    pub channel: String,
    /// Fixed clock for reproducible runs (RFC 3339), instead of the system clock.
    #[arg(long, hide = true)]
    pub now: Option<Timestamp>,
    #[command(flatten)]
    pub paths: Paths,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let engine = engine(&args.paths)?;
    if engine.flows.get(&args.comune).is_none() {
        let known: Vec<&str> = engine.flows.ids().collect();
        anyhow::bail!("unknown comune \"{}\" (known: {})", args.comune, known.join(", "));
    }
    let key = CitizenKey::new(&args.comune, &args.channel, &normalize_number(&args.from));
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut last_buttons: Vec<RenderedButton> = Vec::new();
    let session = Timestamp::now().as_nanosecond();
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.context("reading standard input")?;
        let body = match line.trim().parse::<usize>() {
            Ok(i) if i >= 1 && i <= last_buttons.len() => Body::Button {
                id: last_buttons[i - 1].id.clone(),
            },
            _ => Body::Text { text: line },
        };
        let inbound = Inbound {
            id: format!("chat-{session}-{n}"),
            body,
        };
        let handled = engine.handle(&key, &inbound, args.now.unwrap_or_else(Timestamp::now))?;
        // Durable before the citizen sees the answer.
        engine.store.flush()?;
        last_buttons.clear();
        for r in &handled.rendered {
            if args.json {
                serde_json::to_writer(&mut stdout, r)?;
                writeln!(stdout)?;
            } else {
                writeln!(stdout, "{}", r.text)?;
                for (i, b) in r.buttons.iter().enumerate() {
                    writeln!(stdout, "  [{}] {}", i + 1, b.title)?;
                }
                writeln!(stdout)?;
            }
            if !r.buttons.is_empty() {
                last_buttons = r.buttons.clone();
            }
        }
        stdout.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}
