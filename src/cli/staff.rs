//! `sportello staff add|list|remove`: staff accounts of the console, from the terminal
//! (the first administrator, and deployments run without the console's admin pages).
//!
//! Every change is written to the audit log with actor `cli`. Never prints a stored hash;
//! prints a password only when it generated it, once: a one-time password, which works for
//! one login and then asks for a password of the account's own.
//!
//! `staff code` works while `serve` holds the data directory (through the running server's
//! loopback admin endpoint, as `backup` does): it is how an administrator gets in when the
//! account is locked or the password forgotten.

use std::process::ExitCode;

use anyhow::bail;
use jiff::Timestamp;

use super::common::{engine, Paths};
use crate::staff::{accounts, audit};
use crate::storage::Role;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create an account. The password is read from SPORTELLO_STAFF_PASSWORD, or a one-time
    /// password (valid 7 days, for one login that asks for a new password) is printed once.
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
    /// Print a one-time code for an account, valid one hour: it logs in once in place of the
    /// password, even while the account is locked, and asks for a new password.
    Code {
        email: String,
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
            let now = Timestamp::now();
            let (mut account, one_time) = match &given {
                Some(p) => (accounts::create(store, &email, role, comuni, p, now)?, None),
                None => {
                    let until = now + accounts::NEW_ACCOUNT_LIFETIME;
                    let (a, code) = accounts::create_one_time(store, &email, role, comuni, now, Some(until))?;
                    (a, Some((code, until)))
                }
            };
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
            if let Some((code, until)) = one_time {
                println!(
                    "one-time password (shown only now; one login, until {}, then a new password is asked): {code}",
                    local(until)
                );
            }
        }
        Command::Code { email, paths } => {
            let data = super::common::data_dir(&paths)?;
            let answer = if super::common::held_by_server(&data) {
                super::common::admin_call(&data, "/admin/staff/code", &serde_json::json!({ "email": email }))?
            } else {
                let engine = engine(&paths)?;
                let store = engine.store.as_ref();
                let answer = crate::staff::accounts::grant_code(store, &email, Timestamp::now())?;
                store.flush()?;
                answer
            };
            let code = answer["code"].as_str().unwrap_or_default();
            let until: Timestamp = answer["until"].as_str().unwrap_or_default().parse()?;
            println!(
                "one-time code for {} (one login, until {}; then a new password is asked): {code}",
                answer["email"].as_str().unwrap_or_default(),
                local(until)
            );
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

/// A time as the comune's clock shows it.
fn local(at: Timestamp) -> String {
    at.in_tz("Europe/Rome")
        .map(|z| z.strftime("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_else(|_| at.to_string())
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Operator => "operator",
        Role::Admin => "admin",
    }
}
