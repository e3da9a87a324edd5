//! What the server keeps besides citizens: the inbound journal (a message is stored before
//! the provider gets its 200, and its id is remembered to drop redeliveries) and the outbox
//! (a reply is stored, in order, before it is sent, and removed once the provider took it).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::CitizenKey;
use crate::channel::{Channel, InboundMessage};
use crate::i18n::Rendered;

/// An inbound message in the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundEntry {
    pub key: CitizenKey,
    /// The message while it waits; dropped once processed, so the journal keeps no text.
    pub message: Option<InboundMessage>,
    pub received_at: Timestamp,
    pub done: bool,
}

/// A reply waiting to be accepted by its provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundEntry {
    pub key: CitizenKey,
    pub channel: Channel,
    /// The sending number (WhatsApp phone_number_id) or the comune's bot.
    pub route: String,
    /// The recipient on the channel (wa_id, chat id).
    pub to: String,
    pub rendered: Rendered,
    /// The language it is written in (for provider-side labels such as a list's button).
    #[serde(default)]
    pub language: String,
    pub created_at: Timestamp,
    /// Telegram: the callback query this reply answers.
    #[serde(default)]
    pub callback_id: Option<String>,
}
