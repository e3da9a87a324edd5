//! `sportello flows check`: validate every flow against the locales; non-zero on error.

use std::process::ExitCode;

use super::common::{load_flows, Paths};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate all flows; print one line per problem (file:line: reason).
    Check {
        #[command(flatten)]
        paths: Paths,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Command::Check { paths } = args.command;
    match load_flows(&paths) {
        Ok((flows, _)) => {
            let ids: Vec<&str> = flows.ids().collect();
            println!("ok: {} flows ({})", ids.len(), ids.join(", "));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
