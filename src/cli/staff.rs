//! `sportello staff add|list|remove`: staff accounts of the console, from the terminal
//! (the first administrator, and deployments run without the console's admin pages).
//!
//! Every change is written to the audit log with actor `cli`. Never prints a stored hash;
//! prints a password only when it generated it, once.

use std::process::ExitCode;

use anyhow::bail;
use jiff::Timestamp;

use super::common::{engine, Paths};
use crate::console::{accounts, audit};
use crate::storage::Role;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create an account. The password is read from SPORTELLO_STAFF_PASSWORD, or generated
    /// and printed once.
    Add {
        #[arg(long, value_enum)]
        role: Role,
        /// A comune the operator works for (repeatable; administrators see every comune).
        #[arg(long = "comune")]
        comuni: Vec<String>,
        /// Console language.
        #[arg(long, default_value = "it", value_parser = ["it", "fr"])]
        language: String,
        email: String,
        #[command(flatten)]
        paths: Paths,
    },
    /// List accounts: e-mail, role, comuni.
    List {
        #[command(flatten)]
        paths: Paths,
    },
    /// Remove an account (its open sessions stop working at their next request).
    Remove {
        email: String,
        #[command(flatten)]
        paths: Paths,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Add {
            role,
            comuni,
            language,
            email,
            paths,
        } => {
            let engine = engine(&paths)?;
            let store = engine.store.as_ref();
            if let Some(unknown) = comuni.iter().find(|c| engine.flows.get(c).is_none()) {
                bail!("no comune {unknown} among the loaded flows");
            }
            let given = std::env::var("SPORTELLO_STAFF_PASSWORD").ok().filter(|p| !p.is_empty());
            let password = match &given {
                Some(p) => p.clone(),
                None => accounts::random_password()?,
            };
            let mut account = accounts::create(store, &email, role, comuni, &password, Timestamp::now())?;
            if language != account.language {
                account.language = language;
                store.put_account(&account)?;
            }
            let role = role_name(account.role);
            audit(
                store,
                "cli",
                "",
                "staff-add",
                &format!("{} added as {role} ({})", account.email, account.comuni.join(", ")),
            )?;
            store.flush()?;
            println!("added {} as {role}", account.email);
            if given.is_none() {
                println!("password (shown only now): {password}");
            }
        }
        Command::List { paths } => {
            let engine = engine(&paths)?;
            for a in engine.store.accounts()? {
                let comuni = if a.role == Role::Admin {
                    "*".to_string()
                } else {
                    a.comuni.join(",")
                };
                println!("{}\t{}\t{comuni}", a.email, role_name(a.role));
            }
        }
        Command::Remove { email, paths } => {
            let engine = engine(&paths)?;
            let store = engine.store.as_ref();
            let email = accounts::normalize_email(&email)?;
            if store.account(&email)?.is_none() {
                eprintln!("no account {email}");
                return Ok(ExitCode::from(1));
            }
            store.remove_account(&email)?;
            audit(store, "cli", "", "staff-remove", &format!("{email} removed"))?;
            store.flush()?;
            println!("removed {email}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Operator => "operator",
        Role::Admin => "admin",
    }
}
