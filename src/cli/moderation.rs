//! `sportello moderation …` (issue 6): not built yet.

/// Arguments of `sportello moderation`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("moderation is not built yet")
}
