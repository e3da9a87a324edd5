//! The `sportello` binary: parse the command line, init tracing, dispatch.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sportello::cli;

#[derive(Parser)]
#[command(name = "sportello", version, about = "A comune's citizen desk on WhatsApp, Telegram and the web")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Moderation policy: check messages, evaluate on a labelled set.
    Moderation(cli::moderation::Args),
    /// The FAQ matcher.
    Faq(cli::faq::Args),
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Moderation(args) => cli::moderation::run(args),
        Command::Faq(args) => cli::faq::run(args),
    }
}
