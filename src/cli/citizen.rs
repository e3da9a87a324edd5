//! `sportello citizen show`: a citizen's stored record as JSON.

use std::process::ExitCode;

use serde_json::json;

use super::common::{engine, Paths};
use crate::storage::keys::normalize_number;
use crate::storage::CitizenKey;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
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
        Command::Show { comune, from, channel, paths } => {
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
