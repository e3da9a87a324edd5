//! `sportello citizen show|export|erase`: one citizen's record, everything held about them
//! (right of access), and erasure on request; through the running server when `serve`
//! holds the data directory (`staff::citizen`).

use std::process::ExitCode;

use super::common::{admin_call, existing_engine, held_data, Paths};
use crate::staff::citizen::{self, Answer, Op, Request};

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
    fn request(self, op: Op) -> Request {
        Request {
            op,
            comune: self.comune,
            channel: self.channel,
            from: self.from,
            by: String::new(),
            reason: String::new(),
        }
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
    let (request, paths) = match args.command {
        Command::Show { who, paths } => (who.request(Op::Show), paths),
        Command::Export { who, paths } => (who.request(Op::Export), paths),
        Command::Erase { who, by, reason, paths } => {
            let mut request = who.request(Op::Erase);
            (request.by, request.reason) = (by, reason);
            (request, paths)
        }
    };
    // While `serve` holds the data directory, through it (in the citizen's lane); the same
    // answer either way.
    let answer = if let Some(data) = held_data(&paths)? {
        serde_json::from_value(admin_call(&data, "/admin/citizen", &serde_json::to_value(&request)?)?)?
    } else {
        let engine = existing_engine(&paths)?;
        citizen::run(&engine, &request, jiff::Timestamp::now())?
    };
    match answer {
        Answer::Done(v) if request.op == Op::Erase => println!("{}", serde_json::to_string(&v)?),
        Answer::Done(v) => println!("{}", serde_json::to_string_pretty(&v)?),
        Answer::UnknownComune => {
            eprintln!("unknown comune \"{}\"", request.comune);
            return Ok(ExitCode::from(2));
        }
        Answer::UnknownCitizen => {
            eprintln!(
                "no citizen {} in comune {} on {}",
                request.from, request.comune, request.channel
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
