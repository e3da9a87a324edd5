//! Sessions and CSRF: the session cookie, the [`Staff`] extractor that every console page
//! takes, the per-session form token, and the pre-session token of the login form.
//!
//! Owns cookies and tokens. The store sees only the SHA-256 of a session token, so a copy
//! of the data directory hands out no live session. Must not render pages or log tokens.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

pub use super::accounts::sha256_hex;
use super::accounts::{hex, random_bytes};
use super::state::Console;
use super::ConsoleError;
use crate::storage::{Account, Role, Session, Store};

/// The session cookie.
pub const COOKIE: &str = "sportello_session";
/// The login form's pre-session token (double submit: cookie and hidden field must match).
pub const LOGIN_COOKIE: &str = "sportello_login";
/// How long a session lasts (a working day), from login.
pub const LIFETIME: SignedDuration = SignedDuration::from_hours(8);
/// How long a login form may stay open.
const LOGIN_LIFETIME_SECS: i64 = 3600;

/// A random 32-byte token, hex.
pub fn new_token() -> Result<String, ConsoleError> {
    Ok(hex(&random_bytes::<32>()?))
}

/// Opens a session for `email`; returns the cookie token (only the browser keeps it).
pub fn open(store: &dyn Store, email: &str, now: Timestamp) -> Result<(String, Session), ConsoleError> {
    let token = new_token()?;
    let session = Session {
        email: email.to_string(),
        csrf: new_token()?,
        created_at: now,
        expires_at: now + LIFETIME,
    };
    store.put_session(&sha256_hex(&token), &session)?;
    Ok((token, session))
}

/// A `Set-Cookie` value scoped to the console: never readable by scripts, never sent by
/// another site's request, `Secure` when the console is served over HTTPS.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/staff; Max-Age={max_age_secs}{secure}")
}

/// The session cookie for a new session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    set_cookie(COOKIE, token, LIFETIME.as_secs(), secure)
}

/// A fresh login-form token and its cookie; an existing well-formed one is kept, so two
/// open login tabs both work.
pub fn login_token(headers: &HeaderMap, secure: bool) -> Result<(String, String), ConsoleError> {
    let token = match cookie(headers, LOGIN_COOKIE) {
        Some(t) if issued(&t) => t,
        _ => issue_login_token()?,
    };
    let set = set_cookie(LOGIN_COOKIE, &token, LOGIN_LIFETIME_SECS, secure);
    Ok((token, set))
}

/// Whether the login form's hidden token matches its cookie, and this server issued it: a
/// client cannot choose both halves of the double submit itself.
pub fn login_token_ok(headers: &HeaderMap, given: &str) -> bool {
    cookie(headers, LOGIN_COOKIE).is_some_and(|c| issued(&c) && crate::secret::matches(c.as_bytes(), given.as_bytes()))
}

/// The key login tokens are signed with: random, made once per process (a form left open
/// across a restart is simply served a new token).
fn login_key() -> &'static [u8; 32] {
    static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        random_bytes::<32>().unwrap_or_else(|_| Sha256::digest(format!("{:?}", std::time::Instant::now())).into())
    })
}

/// The first 16 bytes of HMAC-SHA256(key, nonce).
fn login_mac(nonce: &[u8]) -> [u8; 16] {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(login_key()).expect("HMAC takes any key length");
    mac.update(nonce);
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// A login token: 16 random bytes and their MAC, 64 hexadecimal digits.
fn issue_login_token() -> Result<String, ConsoleError> {
    let nonce = random_bytes::<16>()?;
    Ok(format!("{}{}", hex(&nonce), hex(&login_mac(&nonce))))
}

/// Whether `token` is one this process issued.
fn issued(token: &str) -> bool {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&token[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect();
    crate::secret::matches(&login_mac(&bytes[..16]), &bytes[16..])
}

/// Whether cookies for `public_url` must be `Secure`.
pub fn secure(server: &Console) -> bool {
    server.config.public_url.starts_with("https://")
}

/// The value of cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A logged-in staff member: their session and account, loaded for every console request.
/// Without a live session, pages redirect to the login page and `/staff/api/*` answers 401.
#[derive(Debug, Clone)]
pub struct Staff {
    pub account: Account,
    pub session: Session,
    /// The session's key in the store (for logout).
    pub session_key: String,
}

impl Staff {
    /// Checks a form's CSRF token against the session's; a mismatch is [`ConsoleError::Csrf`].
    pub fn check_csrf(&self, given: &str) -> Result<(), ConsoleError> {
        if crate::secret::matches(self.session.csrf.as_bytes(), given.as_bytes()) {
            Ok(())
        } else {
            Err(ConsoleError::Csrf)
        }
    }

    /// Only administrators pass ([`ConsoleError::Forbidden`] for an operator): the audit
    /// log, the staff accounts.
    pub fn admin_only(&self) -> Result<(), ConsoleError> {
        match self.account.role {
            Role::Admin => Ok(()),
            Role::Operator => Err(ConsoleError::Forbidden),
        }
    }

    /// The console language of this account.
    pub fn lang(&self) -> &'static str {
        super::lang(&self.account.language)
    }
}

/// Loads the live session and its account named by the request's cookie.
pub fn load(store: &dyn Store, headers: &HeaderMap, now: Timestamp) -> Result<Option<Staff>, ConsoleError> {
    let Some(token) = cookie(headers, COOKIE) else {
        return Ok(None);
    };
    let key = sha256_hex(&token);
    let Some(session) = store.session(&key)? else {
        return Ok(None);
    };
    if session.expires_at <= now {
        store.remove_session(&key)?;
        return Ok(None);
    }
    // An account removed or disabled after login loses its sessions at once. A lock does not end a
    // session: otherwise anyone could log a colleague out by failing five times.
    match store.account(&session.email)? {
        Some(account) if !account.disabled => Ok(Some(Staff {
            account,
            session,
            session_key: key,
        })),
        // Removed or disabled: the session ends here.
        _ => {
            store.remove_session(&key)?;
            Ok(None)
        }
    }
}

/// The pages an account that must choose a new password may still open.
const PASSWORD_PATHS: [&str; 3] = ["/staff/password", "/staff/logout", "/staff/api/me"];

impl FromRequestParts<Console> for Staff {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, server: &Console) -> Result<Staff, ConsoleError> {
        // Nested routers see their path without the prefix; the original one says which.
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map(|u| u.path().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        let api = path.starts_with("/staff/api/") || path.starts_with("/api/");
        match load(server.engine.store.as_ref(), &parts.headers, Timestamp::now())? {
            // After a one-time password, nothing but choosing a new one (or leaving).
            Some(staff) if staff.account.must_change_password && !PASSWORD_PATHS.contains(&path.as_str()) => {
                Err(ConsoleError::MustChangePassword { api })
            }
            Some(staff) => Ok(staff),
            None => Err(ConsoleError::Unauthenticated { api }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_tokens_are_issued_by_the_server_only() {
        let t = issue_login_token().unwrap();
        assert!(issued(&t));
        assert!(!issued(&"a".repeat(64)), "any 64 hex digits were accepted");
        let mut forged = t.clone().into_bytes();
        forged[63] = if forged[63] == b'0' { b'1' } else { b'0' };
        assert!(!issued(std::str::from_utf8(&forged).unwrap()));
        assert!(!issued("short"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert("cookie", "a=1; sportello_session=tok; b=2".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), None);
        let set = session_cookie("tok", true);
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/staff", "Secure", "Max-Age=28800"] {
            assert!(set.contains(flag), "{set}");
        }
    }
}
