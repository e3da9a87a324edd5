//! `sportello citizen show|export|erase`: one citizen's record, everything held about them
//! (right of access), and erasure on request.

use std::process::ExitCode;

use serde_json::json;

use super::common::{existing_engine, Paths};
use crate::staff::privacy;
use crate::storage::keys::normalize_number;
use crate::storage::CitizenKey;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// Which citizen: the comune, the number (or channel id) and the channel.
#[derive(Debug, clap::Args)]
pub struct Who {
    #[arg(long)]
    pub comune: String,
    #[arg(long)]
    pub from: String,
    #[arg(long, default_value = "whatsapp", value_parser = ["whatsapp", "telegram", "web"])]
    pub channel: String,
}

impl Who {
    fn key(&self) -> CitizenKey {
        CitizenKey::new(&self.comune, &self.channel, &normalize_number(&self.from))
    }

    fn unknown(&self) -> ExitCode {
        eprintln!("no citizen {} in comune {} on {}", self.from, self.comune, self.channel);
        ExitCode::from(1)
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the stored record as JSON.
    Show {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        paths: Paths,
    },
    /// Everything held about a citizen (record, ledger, moderation cases), as JSON.
    Export {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        paths: Paths,
    },
    /// Erase a citizen on request (audited): only the anonymized consent ledger stays.
    Erase {
        #[command(flatten)]
        who: Who,
        /// Who erases (recorded in the audit log).
        #[arg(long)]
        by: String,
        /// Why (e.g. "richiesta PEC prot. 1234"); recorded in the audit log.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        paths: Paths,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Show { who, paths } => {
            let engine = existing_engine(&paths)?;
            if engine.flows.get(&who.comune).is_none() {
                eprintln!("unknown comune \"{}\"", who.comune);
                return Ok(ExitCode::from(2));
            }
            let key = who.key();
            let Some(c) = engine.store.citizen(&key)? else {
                return Ok(who.unknown());
            };
            let out = json!({
                "comune": key.comune,
                "channel": key.channel,
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
        Command::Export { who, paths } => {
            let engine = existing_engine(&paths)?;
            let export = privacy::export(&engine, &who.key())?;
            if export.record.is_none() && export.ledger.is_empty() {
                return Ok(who.unknown());
            }
            println!("{}", serde_json::to_string_pretty(&export)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Erase { who, by, reason, paths } => {
            let engine = existing_engine(&paths)?;
            if engine.flows.get(&who.comune).is_none() {
                eprintln!("unknown comune \"{}\"", who.comune);
                return Ok(ExitCode::from(2));
            }
            // Nothing held about them: nothing erased, nothing audited, and the operator
            // told (a typo in the number must not look like a done erasure).
            let held = privacy::export(&engine, &who.key())?;
            if held.record.is_none()
                && held.ledger.is_empty()
                && held.moderation_cases.is_empty()
                && held.conversation.is_none()
            {
                return Ok(who.unknown());
            }
            let done = privacy::erase(&engine, &who.key(), &by, &reason, jiff::Timestamp::now())?;
            println!("{}", serde_json::to_string(&done)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
