//! Authenticating Meta's requests: the `X-Hub-Signature-256` HMAC on webhook POSTs and the
//! `hub.*` verification handshake on GET.
//!
//! Both work on what arrived on the wire (raw body bytes, raw query values) and compare in
//! constant time. Nothing here parses JSON or logs: the caller answers 401/403 on error.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "sha256=";

/// Why a webhook POST's signature was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SignatureError {
    #[error("X-Hub-Signature-256 header missing")]
    Missing,
    #[error("X-Hub-Signature-256 header malformed")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// Checks `X-Hub-Signature-256: sha256=<lowercase hex>` = HMAC-SHA256(app_secret, raw body),
/// in constant time.
///
/// `body` must be the bytes as received: Meta signs the payload with non-ASCII characters
/// escaped (`\u00e8`), so re-serialising parsed JSON would give a different signature.
/// Meta sends lowercase hex; uppercase is accepted too (hex case carries no meaning).
pub fn verify_signature(app_secret: &[u8], header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing)?;
    let hex = header.strip_prefix(PREFIX).ok_or(SignatureError::Malformed)?;
    let expected = decode_hex_32(hex).ok_or(SignatureError::Malformed)?;
    let mut mac = mac(app_secret);
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// The `X-Hub-Signature-256` value Meta would send for `body` (for tests and the load
/// generator): `"sha256=<lowercase hex>"`.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = mac(app_secret);
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(PREFIX.len() + 64);
    out.push_str(PREFIX);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

fn mac(app_secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long keys are hashed), so the error arm is dead; it
    // keeps this function total instead of unwrapping.
    HmacSha256::new_from_slice(app_secret).unwrap_or_else(|_| HmacSha256::new(&Default::default()))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Exactly 64 hex digits (either case) → 32 bytes; anything else → None.
fn decode_hex_32(s: &str) -> Option<[u8; 32]> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Why a GET verification request was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HandshakeError {
    #[error("hub.mode is not subscribe")]
    WrongMode,
    #[error("hub.verify_token does not match")]
    WrongToken,
    #[error("hub.mode, hub.verify_token or hub.challenge missing")]
    Missing,
}

/// GET verification: `hub.mode == "subscribe"` and `hub.verify_token == expected` (constant
/// time) → `Ok(hub.challenge)`, to be echoed as the 200 body (as `text/plain`).
///
/// An empty `expected` token never matches, so a missing configuration cannot be verified
/// with an empty `hub.verify_token`.
pub fn verify_handshake(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    expected: &str,
) -> Result<String, HandshakeError> {
    let (Some(mode), Some(token), Some(challenge)) = (mode, token, challenge) else {
        return Err(HandshakeError::Missing);
    };
    if challenge.is_empty() {
        return Err(HandshakeError::Missing);
    }
    if mode != "subscribe" {
        return Err(HandshakeError::WrongMode);
    }
    if expected.is_empty() || !crate::secret::matches(expected.as_bytes(), token.as_bytes()) {
        return Err(HandshakeError::WrongToken);
    }
    Ok(challenge.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // python3 -c "import hmac,hashlib;print(hmac.new(b'secret', b'body', hashlib.sha256).hexdigest())"
    const BODY_VECTOR: &str = "sha256=dc46983557fea127b43af721467eb9b3fde2338fe3e14f51952aa8478c13d355";

    #[test]
    fn known_vector() {
        assert_eq!(sign(b"secret", b"body"), BODY_VECTOR);
        assert_eq!(verify_signature(b"secret", Some(BODY_VECTOR), b"body"), Ok(()));
    }

    #[test]
    fn escaped_italian_text_is_signed_as_received() {
        // The raw bytes Meta sends: "Sì, è già così" with \u escapes.
        let raw = br#"{"text":{"body":"S\u00ec, \u00e8 gi\u00e0 cos\u00ec"}}"#;
        // python3: hmac.new(b'secret', raw, hashlib.sha256).hexdigest()
        let header = "sha256=1d0a260af837909de7b724bd0a54b256f9b086b5feed34c0cfdfb12ccbc5db69";
        assert_eq!(sign(b"secret", raw), header);
        assert_eq!(verify_signature(b"secret", Some(header), raw), Ok(()));
        // The same JSON with decoded UTF-8 is different bytes, hence a different signature.
        let decoded = "{\"text\":{\"body\":\"Sì, è già così\"}}".as_bytes();
        assert_eq!(
            verify_signature(b"secret", Some(header), decoded),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            sign(b"secret", decoded),
            "sha256=217e27b28b506f1ec6e72a045092d3d7ed85abab5c435150d21cfe3c953b5a5d"
        );
    }

    #[test]
    fn missing_malformed_and_wrong_headers() {
        assert_eq!(verify_signature(b"secret", None, b"body"), Err(SignatureError::Missing));
        assert_eq!(
            verify_signature(b"secret", Some(""), b"body"),
            Err(SignatureError::Missing)
        );
        let hex = &BODY_VECTOR[PREFIX.len()..];
        for bad in [
            hex.to_string(),
            format!("sha1={hex}"),
            format!("sha256={}", &hex[..63]),
            format!("sha256={hex}0"),
            format!("sha256={}g", &hex[..63]),
            "sha256=".to_string(),
            format!("sha256= {hex}"),
            format!("sha256={}é", &hex[..62]),
        ] {
            assert_eq!(
                verify_signature(b"secret", Some(&bad), b"body"),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            verify_signature(b"other", Some(BODY_VECTOR), b"body"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"secret", Some(BODY_VECTOR), b"body "),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"secret", Some(BODY_VECTOR), b"bodY"),
            Err(SignatureError::Mismatch)
        );
        let zeros = format!("sha256={}", "0".repeat(64));
        assert_eq!(
            verify_signature(b"secret", Some(&zeros), b"body"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn uppercase_hex_and_surrounding_whitespace_are_accepted() {
        let upper = format!("sha256={}", BODY_VECTOR[PREFIX.len()..].to_ascii_uppercase());
        assert_eq!(verify_signature(b"secret", Some(&upper), b"body"), Ok(()));
        assert_eq!(
            verify_signature(b"secret", Some(&format!(" {BODY_VECTOR}\t")), b"body"),
            Ok(())
        );
    }

    #[test]
    fn empty_secret_and_body_still_work() {
        let h = sign(b"", b"");
        assert_eq!(verify_signature(b"", Some(&h), b""), Ok(()));
        assert_eq!(verify_signature(b"x", Some(&h), b""), Err(SignatureError::Mismatch));
    }

    #[test]
    fn handshake() {
        let ok = verify_handshake(Some("subscribe"), Some("t0k"), Some("1158201444"), "t0k");
        assert_eq!(ok, Ok("1158201444".to_string()));
        assert_eq!(
            verify_handshake(Some("unsubscribe"), Some("t0k"), Some("1"), "t0k"),
            Err(HandshakeError::WrongMode)
        );
        assert_eq!(
            verify_handshake(Some("subscribe"), Some("t0K"), Some("1"), "t0k"),
            Err(HandshakeError::WrongToken)
        );
        assert_eq!(
            verify_handshake(Some("subscribe"), Some("t0k2"), Some("1"), "t0k"),
            Err(HandshakeError::WrongToken)
        );
        assert_eq!(
            verify_handshake(Some("subscribe"), Some(""), Some("1"), ""),
            Err(HandshakeError::WrongToken)
        );
        assert_eq!(
            verify_handshake(None, Some("t0k"), Some("1"), "t0k"),
            Err(HandshakeError::Missing)
        );
        assert_eq!(
            verify_handshake(Some("subscribe"), None, Some("1"), "t0k"),
            Err(HandshakeError::Missing)
        );
        assert_eq!(
            verify_handshake(Some("subscribe"), Some("t0k"), None, "t0k"),
            Err(HandshakeError::Missing)
        );
        assert_eq!(
            verify_handshake(Some("subscribe"), Some("t0k"), Some(""), "t0k"),
            Err(HandshakeError::Missing)
        );
    }
}
