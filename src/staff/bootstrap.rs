//! The first administrator: what makes a console with no account usable, at the start of
//! `sportello serve`.

use jiff::Timestamp;

use super::accounts::{create, create_one_time};
use super::{audit, StaffError};
use crate::storage::{Role, Store};

/// The account used when none was named: `sportello serve` prints its one-time password.
pub const BOOTSTRAP_EMAIL: &str = "admin@localhost";

/// Makes a console with no account usable: creates the first administrator from
/// `SPORTELLO_ADMIN_EMAIL` (default `admin@localhost`). With `SPORTELLO_ADMIN_PASSWORD` set,
/// that is its password; else it gets a one-time password, returned in the message to print
/// once, which works for one login and then asks for a password of its own. Does nothing,
/// and returns `None`, when any account exists. `env` reads a variable (`std::env::var` in
/// `serve`, a map in tests).
pub fn bootstrap(store: &dyn Store, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, StaffError> {
    if !store.accounts()?.is_empty() {
        return Ok(None);
    }
    let email = env("SPORTELLO_ADMIN_EMAIL")
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| BOOTSTRAP_EMAIL.into());
    let now = Timestamp::now();
    let message = match env("SPORTELLO_ADMIN_PASSWORD").filter(|p| !p.is_empty()) {
        Some(password) => {
            let account = create(store, &email, Role::Admin, Vec::new(), &password, now)?;
            format!(
                "  staff console: first administrator {} created from SPORTELLO_ADMIN_EMAIL/SPORTELLO_ADMIN_PASSWORD",
                account.email
            )
        }
        None => {
            let (account, code) = create_one_time(store, &email, Role::Admin, Vec::new(), now, None)?;
            format!(
                "  staff console: first administrator {} created; one-time password (shown only now, works for one login, then asks for a new password): {code}",
                account.email
            )
        }
    };
    audit(
        store,
        "system",
        "",
        "staff-bootstrap",
        "first administrator created at start",
    )?;
    Ok(Some(message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::accounts::login;
    use crate::storage::MemoryStore;

    #[test]
    fn bootstrap_creates_one_admin_once() {
        let store = MemoryStore::new();
        let msg = bootstrap(&store, &|_| None).unwrap().unwrap();
        let password = msg.rsplit(' ').next().unwrap();
        let here = std::net::IpAddr::from([127, 0, 0, 1]);
        let first = login(
            &store,
            &Default::default(),
            BOOTSTRAP_EMAIL,
            password,
            here,
            Timestamp::now(),
        )
        .unwrap();
        assert!(first.must_change_password, "a one-time password asks for a new one");
        assert!(
            login(
                &store,
                &Default::default(),
                BOOTSTRAP_EMAIL,
                password,
                here,
                Timestamp::now()
            )
            .is_err(),
            "the one-time password worked twice"
        );
        assert_eq!(bootstrap(&store, &|_| None).unwrap(), None);

        let store = MemoryStore::new();
        let env = |k: &str| match k {
            "SPORTELLO_ADMIN_EMAIL" => Some("IT@Comune.it".to_string()),
            "SPORTELLO_ADMIN_PASSWORD" => Some("una-password-lunga".to_string()),
            _ => None,
        };
        let msg = bootstrap(&store, &env).unwrap().unwrap();
        assert!(!msg.contains("una-password-lunga"), "{msg}");
        let here = std::net::IpAddr::from([127, 0, 0, 1]);
        let a = login(
            &store,
            &Default::default(),
            "it@comune.it",
            "una-password-lunga",
            here,
            Timestamp::now(),
        )
        .unwrap();
        assert_eq!(a.role, Role::Admin);
        assert!(!a.must_change_password, "a password the operator chose stays");
    }
}
