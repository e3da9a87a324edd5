//! `sportello subscribers list|export|counts`: a comune's subscribers, filtered by category,
//! language, channel and status; a CSV export (audited, numbers masked unless `--unmasked`);
//! subscriptions and withdrawals per month. Through the running server when `serve` holds
//! the data directory (`staff::subscribers`).

use std::path::PathBuf;
use std::process::ExitCode;

use super::common::{admin_call, create_private, existing_engine, held_data, Paths};
use crate::staff::subscribers::{self, Answer, Call, Filter};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// Which subscribers.
#[derive(Debug, clap::Args)]
pub struct Which {
    #[arg(long)]
    pub comune: String,
    #[arg(long)]
    pub category: Option<String>,
    #[arg(long)]
    pub language: Option<String>,
    #[arg(long, value_parser = ["whatsapp", "telegram", "web"])]
    pub channel: Option<String>,
    #[arg(long, value_parser = ["subscribed", "unsubscribed", "blocked", "registering", "new"])]
    pub status: Option<String>,
    /// Show whole numbers instead of masking all but their last three digits.
    #[arg(long)]
    pub unmasked: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// One line per citizen: channel, number, status, language, categories, since.
    List {
        #[command(flatten)]
        which: Which,
        /// One JSON object a line instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        paths: Paths,
    },
    /// Write the list as CSV to a file (audited).
    Export {
        #[command(flatten)]
        which: Which,
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        #[command(flatten)]
        paths: Paths,
    },
    /// Subscriptions and withdrawals per month, and how many are subscribed now.
    Counts {
        #[arg(long)]
        comune: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        paths: Paths,
    },
}

impl Which {
    fn filter(&self) -> Filter {
        Filter {
            category: self.category.clone(),
            language: self.language.clone(),
            channel: self.channel.clone(),
            status: self.status.clone(),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (call, paths, json, to) = match args.command {
        Command::List { which, json, paths } => {
            let call = Call::List {
                filter: which.filter(),
                comune: which.comune,
                unmasked: which.unmasked,
                offset: 0,
                limit: None,
            };
            (call, paths, json, None)
        }
        Command::Export { which, to, paths } => {
            let call = Call::Export {
                filter: which.filter(),
                comune: which.comune,
                unmasked: which.unmasked,
                actor: "cli".into(),
            };
            (call, paths, false, Some(to))
        }
        Command::Counts { comune, json, paths } => (Call::Counts { comune }, paths, json, None),
    };
    let answer = match held_data(&paths)? {
        Some(data) => serde_json::from_value(admin_call(&data, "/admin/subscribers", &serde_json::to_value(&call)?)?)?,
        None => subscribers::run(&existing_engine(&paths)?, call, jiff::Timestamp::now())?,
    };
    match answer {
        Answer::UnknownComune { comune } => {
            eprintln!("unknown comune \"{comune}\"");
            return Ok(ExitCode::from(2));
        }
        Answer::Rows { rows, .. } if json => {
            for row in rows {
                println!("{}", serde_json::to_string(&row)?);
            }
        }
        Answer::Rows { rows, .. } => {
            for r in &rows {
                let since = r
                    .subscribed_at
                    .map(|t| t.strftime("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{since}",
                    r.channel,
                    r.citizen,
                    r.status,
                    r.language.as_deref().unwrap_or("-"),
                    if r.categories.is_empty() {
                        "-".to_string()
                    } else {
                        r.categories.join(",")
                    },
                );
            }
            println!("{} citizens", rows.len());
        }
        Answer::Csv { csv, rows } => {
            let to = to.unwrap_or_default();
            let mut file = create_private(&to)?;
            std::io::Write::write_all(&mut file, csv.as_bytes())?;
            file.sync_all()?;
            println!("{rows} citizens written to {}", to.display());
        }
        Answer::Months { months, subscribed_now } if json => {
            println!(
                "{}",
                serde_json::json!({ "months": months, "subscribed_now": subscribed_now })
            );
        }
        Answer::Months { months, subscribed_now } => {
            for m in &months {
                println!("{}\t+{}\t-{}", m.month, m.subscribed, m.withdrawn);
            }
            println!("subscribed now: {subscribed_now}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
