//! Staff accounts: password hashing (Argon2id, PHC strings), creation with validation, and
//! the login check with its lockout.
//!
//! Owns the rules (12-character minimum, 5 failures then 15 minutes locked). Must not see
//! HTTP or sessions, and never logs or stores a password: only its hash leaves this file.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jiff::{SignedDuration, Timestamp};

use super::ConsoleError;
use crate::storage::{Account, Role, Store};

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;
/// Failed logins in a row that lock an account.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: SignedDuration = SignedDuration::from_mins(15);

/// `N` bytes from the kernel's CSPRNG (there is no `rand` crate in the build).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ConsoleError> {
    use std::io::Read;
    let mut buf = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|_| ConsoleError::Random)?;
    Ok(buf)
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random password for a new account, shown once: 96 bits as 24 hex digits.
pub fn random_password() -> Result<String, ConsoleError> {
    Ok(hex(&random_bytes::<12>()?))
}

/// Hashes a password with Argon2id (default parameters) and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, ConsoleError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|_| ConsoleError::Hash)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| ConsoleError::Hash)
}

/// Whether `password` matches the PHC string `phc`. A malformed hash matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        // The parameters come from the PHC string, so older hashes still verify.
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash of nothing anyone knows, verified against when the e-mail is unknown so that the
/// answer takes as long as for a real account (timing must not tell which e-mails exist).
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let pw = random_password().unwrap_or_else(|_| "decoy-password-unused".into());
        hash_password(&pw).unwrap_or_default()
    })
}

/// Trims and lower-cases an e-mail address and checks its shape (one `@`, something on
/// each side, no spaces or markup). `admin@localhost` is valid: the bootstrap account.
pub fn normalize_email(email: &str) -> Result<String, ConsoleError> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && email.split('@').count() == 2
        && email.split('@').all(|part| !part.is_empty())
        && !email.ends_with('.')
        && !email.contains("..")
        && email.chars().all(|c| c.is_alphanumeric() || "@.-_+'".contains(c));
    if ok {
        Ok(email)
    } else {
        Err(ConsoleError::InvalidEmail)
    }
}

/// Creates an account. Fails if the e-mail is malformed or taken, the password is shorter
/// than [`MIN_PASSWORD`], or an operator has no comune.
pub fn create(
    store: &dyn Store,
    email: &str,
    role: Role,
    comuni: Vec<String>,
    password: &str,
    now: Timestamp,
) -> Result<Account, ConsoleError> {
    let email = normalize_email(email)?;
    if password.chars().count() < MIN_PASSWORD {
        return Err(ConsoleError::PasswordTooShort);
    }
    if role == Role::Operator && comuni.is_empty() {
        return Err(ConsoleError::NoComune);
    }
    if store.account(&email)?.is_some() {
        return Err(ConsoleError::Exists);
    }
    let account = Account {
        email,
        role,
        comuni,
        password_hash: hash_password(password)?,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
        language: "it".into(),
    };
    store.put_account(&account)?;
    Ok(account)
}

/// Checks a login and records its outcome on the account: a success resets the failure
/// count; the [`MAX_FAILURES`]th failure in a row locks the account for [`LOCKOUT`]. While
/// locked, even the right password is refused ([`ConsoleError::Locked`]).
///
/// Two concurrent attempts on one account may both read the same count (a lost update);
/// the worst case is one extra guess, which does not weaken the lockout meaningfully.
pub fn login(store: &dyn Store, email: &str, password: &str, now: Timestamp) -> Result<Account, ConsoleError> {
    let Some(mut account) = normalize_email(email)
        .ok()
        .map(|e| store.account(&e))
        .transpose()?
        .flatten()
    else {
        // Same work as for a real account, then the same answer.
        let _ = verify_password(password, decoy_hash());
        return Err(ConsoleError::BadCredentials);
    };
    // The hash is checked even when locked, so a locked account answers no faster.
    let right = verify_password(password, &account.password_hash);
    match account.locked_until {
        Some(until) if until > now => return Err(ConsoleError::Locked { until }),
        Some(_) => {
            // The lock has run out: a fresh series of attempts.
            account.locked_until = None;
            account.failed_logins = 0;
        }
        None => {}
    }
    if right {
        account.failed_logins = 0;
        store.put_account(&account)?;
        Ok(account)
    } else {
        account.failed_logins += 1;
        let locked = account.failed_logins >= MAX_FAILURES;
        if locked {
            account.locked_until = Some(now + LOCKOUT);
        }
        store.put_account(&account)?;
        match account.locked_until {
            Some(until) if locked => Err(ConsoleError::Locked { until }),
            _ => Err(ConsoleError::BadCredentials),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStore;

    #[test]
    fn hashes_are_argon2id_phc_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("x", "not a phc string"));
        // Salted: the same password hashes differently.
        assert_ne!(h, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalize_email(" Anna.Rossi@Comune.Isili.CA.it ").unwrap(),
            "anna.rossi@comune.isili.ca.it"
        );
        assert_eq!(normalize_email("admin@localhost").unwrap(), "admin@localhost");
        for bad in ["", "anna", "@x.it", "anna@", "a@b@c", "a b@c.it", "<a>@c.it", "a@c..it"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn five_failures_lock_for_fifteen_minutes_then_a_success_resets() {
        let store = MemoryStore::new();
        let t0: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let pw = "una-password-lunga";
        create(&store, "Op@Isili.it", Role::Operator, vec!["isili".into()], pw, t0).unwrap();
        assert!(matches!(
            create(&store, "op@isili.it", Role::Admin, vec![], pw, t0),
            Err(ConsoleError::Exists)
        ));
        assert!(matches!(
            create(&store, "x@isili.it", Role::Admin, vec![], "short", t0),
            Err(ConsoleError::PasswordTooShort)
        ));
        for i in 1..MAX_FAILURES {
            assert!(
                matches!(
                    login(&store, "op@isili.it", "wrong", t0),
                    Err(ConsoleError::BadCredentials)
                ),
                "{i}"
            );
        }
        assert!(matches!(
            login(&store, "op@isili.it", "wrong", t0),
            Err(ConsoleError::Locked { .. })
        ));
        let later = t0 + SignedDuration::from_mins(14);
        assert!(matches!(
            login(&store, "op@isili.it", pw, later),
            Err(ConsoleError::Locked { .. })
        ));
        let after = t0 + SignedDuration::from_mins(16);
        let account = login(&store, "OP@isili.it", pw, after).unwrap();
        assert_eq!((account.failed_logins, account.locked_until), (0, None));
        assert!(matches!(
            login(&store, "nobody@isili.it", pw, after),
            Err(ConsoleError::BadCredentials)
        ));
    }
}
