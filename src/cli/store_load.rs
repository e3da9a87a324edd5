//! `sportello store-load` (hidden): a write load on the sled store for the crash-loop test.
//!
//! Writes citizen records numbered from `--start`, flushes every few writes and, after each
//! successful flush, prints `durable <i>` on standard output: every write numbered up to `i`
//! is durable. `tests/crash.rs` kills it with SIGKILL mid-load and checks that the store
//! still opens with all of them. Each write `i` goes to a rolling key `c<i mod N>` (records
//! overwritten again and again, as in real use) and to a key of its own `c-seq-<i>` (so every
//! durable write can be checked), both under comune `crash`, with `fields["seq"] = i`.
//!
//! This is a test tool: it must not be used on a real data directory (it adds fake citizens).

use crate::storage::CitizenStore;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use jiff::Timestamp;

use crate::dialogue::Citizen;
use crate::storage::{CitizenKey, SledStore, Store};

/// The comune every record of the load is written under.
pub const COMUNE: &str = "crash";
/// The channel every record of the load is written under.
pub const CHANNEL: &str = "whatsapp";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory to write to (created when missing).
    #[arg(long)]
    pub data: PathBuf,
    /// Number of rolling citizen keys.
    #[arg(long, default_value_t = 100)]
    pub citizens: u64,
    /// The sequence number of the first write.
    #[arg(long, default_value_t = 0)]
    pub start: u64,
    /// Writes between two flushes.
    #[arg(long, default_value_t = 8)]
    pub every: u64,
    /// Stop after this many writes (default: run until killed).
    #[arg(long)]
    pub max: Option<u64>,
}

/// The rolling key of write `seq`.
pub fn rolling_key(seq: u64, citizens: u64) -> CitizenKey {
    CitizenKey::new(COMUNE, CHANNEL, &format!("c{}", seq % citizens.max(1)))
}

/// The key only write `seq` uses.
pub fn seq_key(seq: u64) -> CitizenKey {
    CitizenKey::new(COMUNE, CHANNEL, &format!("c-seq-{seq}"))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = SledStore::open(&args.data).with_context(|| format!("opening {}", args.data.display()))?;
    let every = args.every.max(1);
    let end = args.max.map_or(u64::MAX, |m| args.start.saturating_add(m));
    let mut stdout = std::io::stdout().lock();
    let mut seq = args.start;
    while seq < end {
        let mut citizen = Citizen::new(Timestamp::now());
        citizen.fields.insert("seq".into(), seq.to_string());
        store.put_citizen(&rolling_key(seq, args.citizens), &citizen)?;
        store.put_citizen(&seq_key(seq), &citizen)?;
        if (seq - args.start + 1).is_multiple_of(every) || seq + 1 == end {
            store.flush()?;
            // Printed only after the flush returned: the test trusts this line.
            writeln!(stdout, "durable {seq}")?;
            stdout.flush()?;
        }
        seq += 1;
    }
    Ok(ExitCode::SUCCESS)
}
