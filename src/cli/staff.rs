//! `sportello staff add|list|change|disable|enable|reset|code|remove`: staff accounts of
//! the console, from the terminal (the first administrator, and scripts); administrators
//! do the same in the console's account pages (`staff::roster` for both).
//!
//! Every change is written to the audit log with actor `cli`. Never prints a stored hash;
//! prints a password only when it generated it, once: a one-time password, which works for
//! one login and then asks for a password of the account's own.
//!
//! Every command works while `serve` holds the data directory, through the running server's
//! loopback admin endpoint (as `backup` does), with the same output (`staff::roster`);
//! `staff code` is how an administrator gets in when the account is locked or the password
//! forgotten.

use std::process::ExitCode;

use anyhow::bail;
use jiff::Timestamp;

use super::common::{admin_call, engine, held_data, Paths};
use crate::staff::accounts;
use crate::staff::roster::{self, role_name, Answer, Call};
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
    /// Give an account a new role and comuni.
    Change {
        #[arg(long, value_enum)]
        role: Role,
        /// A comune the operator works for (repeatable).
        #[arg(long = "comune")]
        comuni: Vec<String>,
        email: String,
        #[command(flatten)]
        paths: Paths,
    },
    /// Disable an account: no login, and its open sessions end at their next request.
    Disable {
        email: String,
        #[command(flatten)]
        paths: Paths,
    },
    /// Enable a disabled account again.
    Enable {
        email: String,
        #[command(flatten)]
        paths: Paths,
    },
    /// Print a one-time password for an account that forgot its own, valid 24 hours: one
    /// login, then a new password is asked.
    Reset {
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
    let (call, paths) = match args.command {
        Command::Add {
            role,
            comuni,
            language,
            email,
            paths,
        } => {
            let password = std::env::var("SPORTELLO_STAFF_PASSWORD").ok().filter(|p| !p.is_empty());
            let call = Call::Add {
                email,
                role,
                comuni,
                language,
                password,
            };
            (call, paths)
        }
        Command::List { paths } => (Call::List, paths),
        Command::Change {
            role,
            comuni,
            email,
            paths,
        } => (Call::Change { email, role, comuni }, paths),
        Command::Disable { email, paths } => (Call::Disable { email }, paths),
        Command::Enable { email, paths } => (Call::Enable { email }, paths),
        Command::Reset { email, paths } => (Call::Reset { email }, paths),
        Command::Remove { email, paths } => (Call::Remove { email }, paths),
        Command::Code { email, paths } => return code(&email, &paths),
    };
    // Through the running server when `serve` holds the data directory.
    let answer = match held_data(&paths)? {
        Some(data) => serde_json::from_value(admin_call(&data, "/admin/staff", &serde_json::to_value(&call)?)?)?,
        None => roster::run(&engine(&paths)?, call, "cli", Timestamp::now())?,
    };
    match answer {
        Answer::Added { email, role, one_time } => {
            println!("added {email} as {}", role_name(role));
            if let Some((code, until)) = one_time {
                println!(
                    "one-time password (shown only now; one login, until {}, then a new password is asked): {code}",
                    local(until)
                );
            }
        }
        Answer::Listed { accounts } => {
            for a in accounts {
                let comuni = if a.role == Role::Admin {
                    "*".to_string()
                } else {
                    a.comuni.join(",")
                };
                let last = a.last_login.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
                println!("{}\t{}\t{comuni}\t{}\t{last}", a.email, role_name(a.role), a.status());
            }
        }
        Answer::Changed { email } => println!("changed {email}"),
        Answer::Disabled { email } => println!("disabled {email}"),
        Answer::Enabled { email } => println!("enabled {email}"),
        Answer::Reset {
            email,
            one_time: (code, until),
        } => println!(
            "one-time password for {email} (shown only now; one login, until {}, then a new password is asked): {code}",
            local(until)
        ),
        Answer::Removed { email } => println!("removed {email}"),
        Answer::NoAccount { email } => {
            eprintln!("no account {email}");
            return Ok(ExitCode::from(1));
        }
        Answer::LastAdmin { email } => {
            eprintln!("{email} is the last active administrator: add or enable another first");
            return Ok(ExitCode::from(1));
        }
        Answer::OwnAccount { email } => {
            eprintln!("{email} cannot change its own account this way");
            return Ok(ExitCode::from(1));
        }
        Answer::UnknownComune { comune } => bail!("no comune {comune} among the loaded flows"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `staff code`: a one-time code, through the running server when it holds the data.
fn code(email: &str, paths: &Paths) -> anyhow::Result<ExitCode> {
    let answer = match held_data(paths)? {
        Some(data) => admin_call(&data, "/admin/staff/code", &serde_json::json!({ "email": email }))?,
        None => {
            let engine = engine(paths)?;
            let store = engine.store.as_ref();
            let answer = accounts::grant_code(store, email, Timestamp::now())?;
            store.flush()?;
            answer
        }
    };
    let code = answer["code"].as_str().unwrap_or_default();
    let until: Timestamp = answer["until"].as_str().unwrap_or_default().parse()?;
    println!(
        "one-time code for {} (one login, until {}; then a new password is asked): {code}",
        answer["email"].as_str().unwrap_or_default(),
        local(until)
    );
    Ok(ExitCode::SUCCESS)
}

/// A time as the comune's clock shows it.
fn local(at: Timestamp) -> String {
    at.in_tz("Europe/Rome")
        .map(|z| z.strftime("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_else(|_| at.to_string())
}
