//! WhatsApp Cloud API adapter: wire formats only.
//!
//! - [`signature`]: `X-Hub-Signature-256` and the GET verification handshake;
//! - [`webhook`]: a notification POST → [`WaEvent`]s;
//! - [`outbound`]: rendered replies → `/messages` request bodies within Meta's limits;
//! - [`client`]: one Graph API request → a wamid or a [`SendError`](crate::channel::SendError);
//! - [`errors`]: which Graph error codes are worth retrying.
//!
//! Nothing here touches flows, the dialogue or storage, and nothing logs a message body,
//! a phone number or the access token: only codes and ids.

pub mod client;
pub mod errors;
mod identity;
pub mod outbound;
pub mod signature;
mod text;
pub mod webhook;

pub use client::GraphClient;
pub use errors::classify;
pub use outbound::{from_rendered, mark_read_json, MediaKind, Outbound};
pub use signature::{sign, verify_handshake, verify_signature, HandshakeError, SignatureError};
pub use webhook::{parse_webhook, IdentityChange, ParseError, WaEvent};

/// Whether `id` is a business-scoped user id (BSUID) rather than a number: a two-letter
/// country code, a period, then letters and digits (`IT.1502576394655843`; a parent BSUID
/// has `ENT.` after the period). Numbers are digits only.
pub fn is_bsuid(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() > 3
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_uppercase()
        && b[2] == b'.'
        && b[3..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'.')
        && b.len() <= 140
}
