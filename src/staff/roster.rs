//! Staff accounts as administrators manage them: add, list, change role and comuni,
//! disable and enable, reset the password, remove. One function run on the store by the
//! console's account pages (actor: the administrator), by the CLI (`sportello staff …`,
//! actor `cli`), or, while `serve` holds the data directory, by its admin endpoint: the
//! answer is the same either way. Every change is audited; no password or hash is.
//!
//! Owns the rules that keep the console usable: the last active administrator cannot be
//! disabled, demoted or removed, and an administrator cannot do any of that to their own
//! account from the console.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{accounts, audit, StaffError};
use crate::service::runner::Engine;
use crate::storage::{Account, Role, Store};

/// How long a password reset by an administrator works before it must be used.
pub const RESET_LIFETIME: SignedDuration = SignedDuration::from_hours(24);

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
    /// A new role and comuni (an operator needs at least one).
    Change {
        email: String,
        role: Role,
        comuni: Vec<String>,
    },
    Disable {
        email: String,
    },
    Enable {
        email: String,
    },
    /// A one-time password in place of the forgotten one, valid [`RESET_LIFETIME`].
    Reset {
        email: String,
    },
    Remove {
        email: String,
    },
}

/// An account as listed: never its hash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Listed {
    pub email: String,
    pub role: Role,
    pub comuni: Vec<String>,
    pub language: String,
    pub disabled: bool,
    /// Waiting for its first login with a one-time password.
    pub pending: bool,
    pub locked_until: Option<Timestamp>,
    pub last_login: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl Listed {
    fn of(a: Account) -> Listed {
        Listed {
            pending: a.one_time.is_some() && a.last_login.is_none(),
            email: a.email,
            role: a.role,
            comuni: a.comuni,
            language: a.language,
            disabled: a.disabled,
            locked_until: a.locked_until,
            last_login: a.last_login,
            created_at: a.created_at,
        }
    }

    /// `active`, `disabled` or `pending` (no login yet with its one-time password).
    pub fn status(&self) -> &'static str {
        if self.disabled {
            "disabled"
        } else if self.pending {
            "pending"
        } else {
            "active"
        }
    }
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
    Listed {
        accounts: Vec<Listed>,
    },
    Changed {
        email: String,
    },
    Disabled {
        email: String,
    },
    Enabled {
        email: String,
    },
    /// The one-time password that replaces the forgotten one, shown once.
    Reset {
        email: String,
        one_time: (String, Timestamp),
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
    /// Refused: it would leave no active administrator.
    LastAdmin {
        email: String,
    },
    /// Refused: an administrator does not disable, demote or remove their own account.
    OwnAccount {
        email: String,
    },
}

/// Runs `call` on the engine's store on behalf of `actor` (an administrator's e-mail, or
/// `cli`).
pub fn run(engine: &Engine, call: Call, actor: &str, now: Timestamp) -> Result<Answer, StaffError> {
    let store = engine.store.as_ref();
    let unknown_comune = |comuni: &[String]| {
        comuni
            .iter()
            .find(|c| engine.flows.get(c).is_none())
            .map(|c| Answer::UnknownComune { comune: c.clone() })
    };
    let answer = match call {
        Call::Add {
            email,
            role,
            comuni,
            language,
            password,
        } => {
            if let Some(refused) = unknown_comune(&comuni) {
                return Ok(refused);
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
            let detail = format!("{} added as {}", account.email, described(&account));
            audit(store, actor, "", "staff-add", &detail)?;
            Answer::Added {
                email: account.email,
                role: account.role,
                one_time,
            }
        }
        Call::List => Answer::Listed {
            accounts: store.accounts()?.into_iter().map(Listed::of).collect(),
        },
        Call::Change { email, role, comuni } => {
            if let Some(refused) = unknown_comune(&comuni) {
                return Ok(refused);
            }
            let Some(mut account) = existing(store, &email)? else {
                return Ok(Answer::NoAccount { email });
            };
            if role != Role::Admin {
                if let Some(refused) = guard(store, &account, actor)? {
                    return Ok(refused);
                }
            }
            if role == Role::Operator && comuni.is_empty() {
                return Err(StaffError::NoComune);
            }
            let before = described(&account);
            account.role = role;
            account.comuni = comuni;
            store.put_account(&account)?;
            let detail = format!("{}: {before} → {}", account.email, described(&account));
            audit(store, actor, "", "staff-change", &detail)?;
            Answer::Changed { email: account.email }
        }
        Call::Disable { email } => {
            let Some(mut account) = existing(store, &email)? else {
                return Ok(Answer::NoAccount { email });
            };
            if let Some(refused) = guard(store, &account, actor)? {
                return Ok(refused);
            }
            account.disabled = true;
            store.put_account(&account)?;
            audit(
                store,
                actor,
                "",
                "staff-disable",
                &format!("{} disabled", account.email),
            )?;
            Answer::Disabled { email: account.email }
        }
        Call::Enable { email } => {
            let Some(mut account) = existing(store, &email)? else {
                return Ok(Answer::NoAccount { email });
            };
            account.disabled = false;
            store.put_account(&account)?;
            audit(store, actor, "", "staff-enable", &format!("{} enabled", account.email))?;
            Answer::Enabled { email: account.email }
        }
        Call::Reset { email } => {
            let Some(account) = existing(store, &email)? else {
                return Ok(Answer::NoAccount { email });
            };
            let until = now + RESET_LIFETIME;
            let code = accounts::reset(store, &account.email, until)?;
            let detail = format!("one-time password issued for {}, valid until {until}", account.email);
            audit(store, actor, "", "staff-reset", &detail)?;
            Answer::Reset {
                email: account.email,
                one_time: (code, until),
            }
        }
        Call::Remove { email } => {
            let Some(account) = existing(store, &email)? else {
                return Ok(Answer::NoAccount { email });
            };
            if let Some(refused) = guard(store, &account, actor)? {
                return Ok(refused);
            }
            store.remove_account(&account.email)?;
            audit(store, actor, "", "staff-remove", &format!("{} removed", account.email))?;
            Answer::Removed { email: account.email }
        }
    };
    store.flush()?;
    Ok(answer)
}

/// The account named by `email` (any case), if any.
fn existing(store: &dyn Store, email: &str) -> Result<Option<Account>, StaffError> {
    let email = accounts::normalize_email(email)?;
    Ok(store.account(&email)?)
}

/// Why `account` may not be disabled, demoted or removed by `actor`: it is the actor's own,
/// or the last active administrator.
fn guard(store: &dyn Store, account: &Account, actor: &str) -> Result<Option<Answer>, StaffError> {
    let email = account.email.clone();
    if account.email == actor {
        return Ok(Some(Answer::OwnAccount { email }));
    }
    let active_admin = |a: &Account| a.role == Role::Admin && !a.disabled;
    if active_admin(account) && store.accounts()?.iter().filter(|a| active_admin(a)).count() <= 1 {
        return Ok(Some(Answer::LastAdmin { email }));
    }
    Ok(None)
}

/// Role and comuni, for the audit log: `operator (isili, madone)`, `admin`.
fn described(account: &Account) -> String {
    match account.role {
        Role::Admin => "admin".into(),
        Role::Operator => format!("operator ({})", account.comuni.join(", ")),
    }
}

/// The role as the command line names it.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Operator => "operator",
        Role::Admin => "admin",
    }
}
