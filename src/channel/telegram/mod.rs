//! Telegram Bot API adapter: wire formats only.
//!
//! Owns the webhook secret check (here), update parsing ([`update`]), the sendMessage
//! request bodies ([`outbound`]) and the HTTP client with its error classification
//! ([`client`]). It never touches flows, the dialogue or storage: the server decides what
//! to do with the [`InboundMessage`](crate::channel::InboundMessage)s it returns.
//!
//! Privacy: the bot token travels in every request URL, so nothing here logs a URL, the
//! token, message text or chat ids; only update ids, method names and error codes.

mod client;
mod outbound;
mod update;

pub use client::{classify, BotClient};
pub use outbound::{send_message_bodies, MAX_CALLBACK_DATA_BYTES, MAX_TEXT_UNITS};
pub use update::{parse_update, ParseError};

/// Why a webhook request's secret header was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SecretError {
    /// The request carried no `X-Telegram-Bot-Api-Secret-Token` header.
    #[error("missing X-Telegram-Bot-Api-Secret-Token header")]
    Missing,
    /// The header was there but did not equal the configured secret.
    #[error("X-Telegram-Bot-Api-Secret-Token does not match")]
    Mismatch,
}

/// The header Telegram puts the `secret_token` of setWebhook in.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// `X-Telegram-Bot-Api-Secret-Token` equals the configured secret (constant-time compare).
///
/// An empty configured secret matches nothing: Telegram requires 1–256 characters, so an
/// empty one is a configuration mistake and we fail closed rather than accept any request
/// that sends an empty header.
pub fn verify_secret(expected: &str, header: Option<&str>) -> Result<(), SecretError> {
    let Some(given) = header else {
        return Err(SecretError::Missing);
    };
    if !expected.is_empty() && crate::secret::matches(expected.as_bytes(), given.as_bytes()) {
        Ok(())
    } else {
        Err(SecretError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-Token_for-comune";

    #[test]
    fn right_secret_passes() {
        assert_eq!(verify_secret(SECRET, Some(SECRET)), Ok(()));
    }

    #[test]
    fn wrong_secret_of_same_length_is_refused() {
        let wrong = "s3cr3t-Token_for-comunX";
        assert_eq!(wrong.len(), SECRET.len());
        assert_eq!(verify_secret(SECRET, Some(wrong)), Err(SecretError::Mismatch));
    }

    #[test]
    fn secret_of_different_length_is_refused() {
        assert_eq!(verify_secret(SECRET, Some("s3cr3t")), Err(SecretError::Mismatch));
        let longer = format!("{SECRET}x");
        assert_eq!(verify_secret(SECRET, Some(&longer)), Err(SecretError::Mismatch));
        // A prefix padded with NULs must not pass for the shorter secret.
        let padded = format!("{SECRET}\0");
        assert_eq!(verify_secret(SECRET, Some(&padded)), Err(SecretError::Mismatch));
    }

    #[test]
    fn missing_header_is_missing() {
        assert_eq!(verify_secret(SECRET, None), Err(SecretError::Missing));
    }

    #[test]
    fn empty_header_or_empty_configured_secret_never_pass() {
        assert_eq!(verify_secret(SECRET, Some("")), Err(SecretError::Mismatch));
        assert_eq!(verify_secret("", Some("")), Err(SecretError::Mismatch));
        assert_eq!(verify_secret("", None), Err(SecretError::Missing));
    }
}
