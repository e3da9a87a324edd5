//! Staff accounts: password hashing (Argon2id, PHC strings), creation with validation, and
//! the login check with its lockout.
//!
//! Owns the rules (12-character minimum, 5 failures then 15 minutes locked). Must not see
//! HTTP or sessions, and never logs or stores a password: only its hash leaves this file.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

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

/// Passwords refused whatever their length (`common-passwords.txt`, lower-cased).
const COMMON: &str = include_str!("common-passwords.txt");

/// Whether a password of the right length is still too easy to guess: blank, a few
/// characters repeated ("aaaaaaaaaaaa", "abababababab"), a run of the keyboard or the
/// alphabet ("abcdefghijkl", "123456789012"), or on the list of common passwords.
pub fn weak_password(password: &str) -> bool {
    let lower = password.trim().to_lowercase();
    let mut distinct: Vec<char> = lower.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let chars: Vec<u32> = lower.chars().map(u32::from).collect();
    let (zero, nine) = ('0' as u32, '9' as u32);
    let run = chars
        .windows(2)
        .all(|w| w[1] == w[0] + 1 || (w[0] == nine && w[1] == zero))
        || chars
            .windows(2)
            .all(|w| w[0] == w[1] + 1 || (w[0] == zero && w[1] == nine));
    lower.chars().all(char::is_whitespace)
        || distinct.len() < 5
        || run
        || COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .any(|l| l == lower)
}

/// Password hashes computed at once. Argon2id takes about 19 MiB and a core's worth of time
/// each: 400 concurrent logins once took 2.8 GB and 414 threads. Two at a time (the
/// machine's cores); the others wait their turn without a thread.
pub const HASHING_AT_ONCE: usize = 2;
/// Logins and password changes waiting for a turn; past it, the next is answered 503 at
/// once (counted in `/metrics` as `sportello_logins_shed_total`).
pub const HASHING_QUEUE: usize = 64;

static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHING_AT_ONCE);
static WAITING: AtomicUsize = AtomicUsize::new(0);
/// Logins and password changes refused because the queue was full.
pub static SHED: AtomicUsize = AtomicUsize::new(0);

/// Runs `work` (which hashes or verifies a password) on a blocking thread when a hashing
/// turn is free; [`ConsoleError::Busy`] at once when [`HASHING_QUEUE`] are already waiting.
pub async fn with_hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ConsoleError> {
    if WAITING.fetch_add(1, Ordering::SeqCst) >= HASHING_QUEUE {
        WAITING.fetch_sub(1, Ordering::SeqCst);
        SHED.fetch_add(1, Ordering::Relaxed);
        return Err(ConsoleError::Busy);
    }
    let permit = HASHING.acquire().await;
    WAITING.fetch_sub(1, Ordering::SeqCst);
    let _permit = permit.map_err(|_| ConsoleError::Busy)?;
    tokio::task::spawn_blocking(work).await.map_err(|_| ConsoleError::Hash)
}

/// One lock per existing account: its attempts are checked one after the other, so N
/// concurrent guesses are N counted attempts (read, verify and record are one step). Only
/// accounts that exist get a lock, so unknown e-mails cannot grow the map.
fn attempts_of(email: &str) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = OnceLock::new();
    let map = LOCKS.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(email.to_string()).or_default().clone()
}

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
    if weak_password(password) {
        return Err(ConsoleError::PasswordWeak);
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
/// Attempts on one account are serialised in this process (read, verify, record under the
/// account's lock): concurrent guesses are each counted, and the lock applies to the next
/// as soon as it is set. (Several all-active replicas each serialise their own.)
pub fn login(store: &dyn Store, email: &str, password: &str, now: Timestamp) -> Result<Account, ConsoleError> {
    let known = normalize_email(email)
        .ok()
        .map(|e| store.account(&e))
        .transpose()?
        .flatten();
    let Some(known) = known else {
        // Same work as for a real account, then the same answer.
        let _ = verify_password(password, decoy_hash());
        return Err(ConsoleError::BadCredentials);
    };
    let gate = attempts_of(&known.email);
    let _turn = gate.lock().unwrap_or_else(|e| e.into_inner());
    // Read again under the lock: the attempt before this one may have changed it.
    let Some(mut account) = store.account(&known.email)? else {
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
    fn weak_passwords_are_refused_whatever_their_length() {
        for weak in [
            "            ",
            "aaaaaaaaaaaa",
            "abababababab",
            "abcdefghijkl",
            "123456789012",
            "987654321098",
            "Password1234",
            "BENVENUTO123",
        ] {
            assert!(weak_password(weak), "{weak:?}");
        }
        for fine in ["una-password-lunga", "correct horse battery", "Isili-2026-urp!"] {
            assert!(!weak_password(fine), "{fine:?}");
        }
    }

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
