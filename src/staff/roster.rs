//! Staff accounts as the command line manages them (`sportello staff add|list|remove`): one
//! function run on the store by the CLI, or, while `serve` holds the data directory, by its
//! admin endpoint; the answer and the exit code are the same either way. Every change is
//! audited with actor `cli`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{accounts, audit, StaffError};
use crate::service::runner::Engine;
use crate::storage::Role;

/// What the command asks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Call {
    /// Create an account with `password`, or with a one-time password when `None`.
    Add {
        email: String,
        role: Role,
        comuni: Vec<String>,
        language: String,
        password: Option<String>,
    },
    List,
    Remove {
        email: String,
    },
}

/// What it did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "answer", rename_all = "kebab-case")]
pub enum Answer {
    /// Created; the one-time password and until when, when one was made (shown once).
    Added {
        email: String,
        role: Role,
        one_time: Option<(String, Timestamp)>,
    },
    /// Every account: e-mail, role, comuni.
    Listed {
        accounts: Vec<(String, Role, Vec<String>)>,
    },
    Removed {
        email: String,
    },
    NoAccount {
        email: String,
    },
    /// A comune that is not among the loaded flows.
    UnknownComune {
        comune: String,
    },
}

/// Runs `call` on the engine's store.
pub fn run(engine: &Engine, call: Call, now: Timestamp) -> Result<Answer, StaffError> {
    let store = engine.store.as_ref();
    let answer = match call {
        Call::Add {
            email,
            role,
            comuni,
            language,
            password,
        } => {
            if let Some(unknown) = comuni.iter().find(|c| engine.flows.get(c).is_none()) {
                return Ok(Answer::UnknownComune {
                    comune: unknown.clone(),
                });
            }
            let (mut account, one_time) = match password.filter(|p| !p.is_empty()) {
                Some(p) => (accounts::create(store, &email, role, comuni, &p, now)?, None),
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
            let detail = format!(
                "{} added as {} ({})",
                account.email,
                role_name(account.role),
                account.comuni.join(", ")
            );
            audit(store, "cli", "", "staff-add", &detail)?;
            Answer::Added {
                email: account.email,
                role: account.role,
                one_time,
            }
        }
        Call::List => Answer::Listed {
            accounts: store
                .accounts()?
                .into_iter()
                .map(|a| (a.email, a.role, a.comuni))
                .collect(),
        },
        Call::Remove { email } => {
            let email = accounts::normalize_email(&email)?;
            if store.account(&email)?.is_none() {
                return Ok(Answer::NoAccount { email });
            }
            store.remove_account(&email)?;
            audit(store, "cli", "", "staff-remove", &format!("{email} removed"))?;
            Answer::Removed { email }
        }
    };
    store.flush()?;
    Ok(answer)
}

/// The role as the command line names it.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Operator => "operator",
        Role::Admin => "admin",
    }
}
