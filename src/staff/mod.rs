//! What staff do, as plain functions over the store: the command line calls them today and
//! the console (with its audit log) will call the same ones. No HTTP, no rendering here.

pub mod accounts;
pub mod blocking;
pub mod bootstrap;
pub mod chart;
pub mod citizen;
pub mod csv;
pub mod faq;
pub mod inbox;
pub mod lockout;
pub mod moderation;
pub mod privacy;
pub mod report;
pub mod roster;
pub mod subscribers;

use jiff::Timestamp;

use crate::storage::{AuditEntry, Store, StoreError};

/// Errors of the staff accounts and of the console that uses them. Their text is for logs
/// and the CLI; a browser only sees a status and a localized page (`crate::console`
/// gives each its HTTP status), never an internal message.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("account locked until {until}")]
    Locked { until: Timestamp },
    /// Told only to whoever gave the right password (or one-time password).
    #[error("this account has been disabled by an administrator")]
    Disabled,
    #[error("not logged in")]
    Unauthenticated { api: bool },
    #[error("a new password must be chosen first")]
    MustChangePassword { api: bool },
    #[error("the form's security token is missing or wrong")]
    Csrf,
    #[error("not allowed for this account")]
    Forbidden,
    #[error("no such page")]
    NotFound,
    #[error("not a valid e-mail address")]
    InvalidEmail,
    #[error("the password must have at least {} characters", accounts::MIN_PASSWORD)]
    PasswordTooShort,
    #[error("the password is too easy to guess (repeated or consecutive characters, or a common password)")]
    PasswordWeak,
    #[error("an operator needs at least one --comune")]
    NoComune,
    #[error("an account with this e-mail already exists")]
    Exists,
    #[error("no account with this e-mail")]
    NoAccount,
    #[error("cannot read random bytes from /dev/urandom")]
    Random,
    #[error("password hashing failed")]
    Hash,
    #[error("too many logins at once; try again in a moment")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes one line of the audit log. Details name no citizen and no secret.
pub fn audit(store: &dyn Store, actor: &str, comune: &str, action: &str, detail: &str) -> Result<(), StoreError> {
    store
        .append_audit(&AuditEntry {
            at: Timestamp::now(),
            actor: actor.to_string(),
            comune: comune.to_string(),
            action: action.to_string(),
            detail: detail.to_string(),
        })
        .map(|_| ())
}
