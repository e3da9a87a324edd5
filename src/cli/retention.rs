//! `sportello retention run [--dry-run]`: apply the retention rules now (the server also
//! runs them by itself every hour).

use std::process::ExitCode;

use super::common::{admin_call, existing_engine, held_data, Paths};
use crate::staff::privacy;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Obscure leavers past their comune's retention and forget old message ids.
    Run {
        /// List what would go, change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        paths: Paths,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Command::Run { dry_run, paths } = args.command;
    // Through the running server when `serve` holds the data directory.
    let report: privacy::Retention = if let Some(data) = held_data(&paths)? {
        serde_json::from_value(admin_call(
            &data,
            "/admin/retention",
            &serde_json::json!({ "dry_run": dry_run }),
        )?)?
    } else {
        privacy::retention(&existing_engine(&paths)?, jiff::Timestamp::now(), dry_run)?
    };
    if dry_run {
        for key in &report.obscured {
            println!("would obscure: {} {} {}", key.comune, key.channel, key.citizen);
        }
        println!("{} leavers would be obscured", report.obscured.len());
    } else {
        println!(
            "obscured {} leavers; forgot {} processed message ids and {} delivery records",
            report.obscured.len(),
            report.journal_pruned,
            report.sent_pruned
        );
    }
    Ok(ExitCode::SUCCESS)
}
