//! The `sportello` binary: parse the command line, init tracing, dispatch.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sportello::cli;

/// mimalloc: with glibc's malloc the server spent ~17 % of its time allocating and
/// freeing across its threads; with mimalloc it does 1.6 times the messages a second
/// (BENCHMARKS.md, "mimalloc as the binary's allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's settings for `serve`: give freed memory back to the system at once and
/// commit its arenas only as they are used. With its defaults the server kept about twice
/// the memory (RSS 155 MB after start with 100,000 subscribers, against 51 MB so).
const ALLOCATOR_SETTINGS: [(&str, &str); 2] = [("MIMALLOC_PURGE_DELAY", "0"), ("MIMALLOC_ARENA_EAGER_COMMIT", "0")];

/// mimalloc reads its settings from the environment once, as the process starts, before
/// `main`: a `serve` started without them starts again (`exec`, same process id) with
/// them, unless the environment already names them (set them to override). Without an
/// executable to run again (it was replaced on disk) it serves as it is.
#[cfg(unix)]
fn with_allocator_settings() {
    use std::os::unix::process::CommandExt;
    if ALLOCATOR_SETTINGS
        .iter()
        .any(|(name, _)| std::env::var_os(name).is_some())
    {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    // Returns only if the exec failed.
    let _ = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .envs(ALLOCATOR_SETTINGS)
        .exec();
}

#[cfg(not(unix))]
fn with_allocator_settings() {}

#[derive(Parser)]
#[command(
    name = "sportello",
    version,
    about = "A comune's citizen desk on WhatsApp, Telegram and the web"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every comune: webhooks, simulator, subscribe pages, health and metrics.
    Serve(cli::serve::Args),
    /// Chat with a comune's flow as a citizen, from the terminal.
    Chat(cli::chat::Args),
    /// Citizens' records.
    Citizen(cli::citizen::Args),
    /// Flow files.
    Flows(cli::flows::Args),
    /// The annual statistics report of a comune (no personal data).
    Report(cli::report::Args),
    /// Retention: obscure leavers past their comune's period, forget old message ids.
    Retention(cli::retention::Args),
    /// Moderation policy: check messages, evaluate on a labelled set.
    Moderation(cli::moderation::Args),
    /// The FAQ matcher.
    Faq(cli::faq::Args),
    /// Staff accounts of the console: add, list, remove.
    Staff(cli::staff::Args),
    /// Write a backup of the data directory (asks the running server when there is one).
    Backup(cli::backup::BackupArgs),
    /// Broadcasts: send or schedule one, list them, figures, resend to failed.
    Broadcast(cli::broadcast::Args),
    /// A comune's subscribers: list with filters, CSV export (audited), counts per month.
    Subscribers(cli::subscribers::Args),
    /// Restore a backup into an empty data directory (or any, with --force).
    Restore(cli::backup::RestoreArgs),
    /// Copy a sled store into an empty PostgreSQL database and compare every tree.
    Migrate(cli::migrate::Args),
    /// The citizens' keyring: status, rotation of the master key.
    Keyring(cli::keyring::Args),
    #[command(hide = true)]
    StoreLoad(cli::store_load::Args),
}

fn main() -> ExitCode {
    // Logs go to standard error, never standard output (which carries replies and JSON).
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve(_)) {
        with_allocator_settings();
    } else {
        cli::common::quiet_on_closed_output();
    }
    // The server logs its work; one-shot commands only warnings.
    let default = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SPORTELLO_LOG").unwrap_or_else(|_| default.into()),
        )
        .init();
    let result = match cli.command {
        Command::Serve(args) => cli::serve::run(args),
        Command::Chat(args) => cli::chat::run(args),
        Command::Citizen(args) => cli::citizen::run(args),
        Command::Flows(args) => cli::flows::run(args),
        Command::Retention(args) => cli::retention::run(args),
        Command::Report(args) => cli::report::run(args),
        Command::Moderation(args) => cli::moderation::run(args),
        Command::Faq(args) => cli::faq::run(args),
        Command::Staff(args) => cli::staff::run(args),
        Command::Backup(args) => cli::backup::backup(args),
        Command::Restore(args) => cli::backup::restore_cmd(args),
        Command::Broadcast(args) => cli::broadcast::run(args),
        Command::Subscribers(args) => cli::subscribers::run(args),
        Command::Migrate(args) => cli::migrate::run(args),
        Command::Keyring(args) => cli::keyring::run(args),
        Command::StoreLoad(args) => cli::store_load::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
