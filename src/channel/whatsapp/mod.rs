//! WhatsApp Cloud API adapter: wire formats only.
//!
//! - [`signature`]: `X-Hub-Signature-256` and the GET verification handshake;
//! - [`webhook`]: a notification POST → [`WaEvent`]s;
//! - [`outbound`]: rendered replies → `/messages` request bodies within Meta's limits;
//!
//! Nothing here touches flows, the dialogue or storage, and nothing logs a message body,
//! a phone number or the access token: only codes and ids.

pub mod signature;
pub mod outbound;
pub mod webhook;

pub use signature::{sign, verify_handshake, verify_signature, HandshakeError, SignatureError};
pub use outbound::{from_rendered, mark_read_json, MediaKind, Outbound};
pub use webhook::{parse_webhook, ParseError, WaEvent};
