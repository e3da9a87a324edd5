//! `sportello citizen show`: a citizen's stored record as JSON.

use std::process::ExitCode;

use serde_json::json;

use super::common::{engine, Paths};
use crate::staff::privacy;
use crate::storage::keys::normalize_number;
use crate::storage::CitizenKey;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Everything held about a citizen (record, ledger, moderation cases), as JSON.
    Export {
        #[arg(long)]
        comune: String,
        #[arg(long)]
        from: String,
        #[arg(long, default_value = "whatsapp")]
        channel: String,
        #[command(flatten)]
        paths: Paths,
    },
    /// Erase a citizen on request (audited): only the anonymized consent ledger stays.
    Erase {
        #[arg(long)]
        comune: String,
        #[arg(long)]
        from: String,
        #[arg(long, default_value = "whatsapp")]
        channel: String,
        /// Who erases (recorded in the audit log).
        #[arg(long)]
        by: String,
        /// Why (e.g. "richiesta PEC prot. 1234"); recorded in the audit log.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        paths: Paths,
    },
    /// Print the stored record as JSON.
    Show {
        #[arg(long)]
        comune: String,
        #[arg(long)]
        from: String,
        #[arg(long, default_value = "whatsapp")]
        channel: String,
        #[command(flatten)]
        paths: Paths,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Export {
            comune,
            from,
            channel,
            paths,
        } => {
            let engine = engine(&paths)?;
            let key = CitizenKey::new(&comune, &channel, &normalize_number(&from));
            let export = privacy::export(&engine, &key)?;
            if export.record.is_none() && export.ledger.is_empty() {
                eprintln!("no citizen {from} in comune {comune} on {channel}");
                return Ok(ExitCode::from(1));
            }
            println!("{}", serde_json::to_string_pretty(&export)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Erase {
            comune,
            from,
            channel,
            by,
            reason,
            paths,
        } => {
            let engine = engine(&paths)?;
            let key = CitizenKey::new(&comune, &channel, &normalize_number(&from));
            let done = privacy::erase(&engine, &key, &by, &reason, jiff::Timestamp::now())?;
            println!("{}", serde_json::to_string(&done)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Show {
            comune,
            from,
            channel,
            paths,
        } => {
            let engine = engine(&paths)?;
            if engine.flows.get(&comune).is_none() {
                eprintln!("unknown comune \"{comune}\"");
                return Ok(ExitCode::from(2));
            }
            let key = CitizenKey::new(&comune, &channel, &normalize_number(&from));
            let Some(c) = engine.store.citizen(&key)? else {
                eprintln!("no citizen {from} in comune {comune} on {channel}");
                return Ok(ExitCode::from(1));
            };
            let out = json!({
                "comune": comune,
                "channel": channel,
                "citizen": key.citizen,
                "status": c.status(),
                "language": c.language,
                "fields": c.fields,
                "categories": c.categories,
                "consents": c.consents,
                "first_seen": c.first_seen,
                "subscribed_at": c.subscribed_at,
                "unsubscribed_at": c.unsubscribed_at,
                "state": c.state,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
