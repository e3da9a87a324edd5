//! `sportello faq …` (issue 7): not built yet.

/// Arguments of `sportello faq`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("the FAQ is not built yet")
}
