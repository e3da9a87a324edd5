//! Channel adapters: wire formats only. Each adapter verifies a request, parses it into the
//! channel-neutral types below, and turns rendered replies into the provider's requests.
//! Adapters never touch flows, the dialogue or storage: the server does that with what
//! they return.

pub mod telegram;
pub mod whatsapp;

use serde::{Deserialize, Serialize};

use crate::message::Body;

/// The channels sportello speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Whatsapp,
    Telegram,
    Web,
}

impl Channel {
    /// The name used in storage keys and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Whatsapp => "whatsapp",
            Channel::Telegram => "telegram",
            Channel::Web => "web",
        }
    }
}

/// A citizen's message as a channel received it, before routing to a comune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub channel: Channel,
    /// What identifies the receiving comune: WhatsApp `metadata.phone_number_id`; for
    /// Telegram, the comune id from the webhook path.
    pub route: String,
    /// The citizen: on WhatsApp the business-scoped user id (BSUID, `from_user_id`) when
    /// the webhook carries one, else the number (`from`); the Telegram chat id.
    pub from: String,
    /// WhatsApp: the number (`from`), when Meta shares it; a citizen with a username may
    /// write without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// WhatsApp: the BSUID (`from_user_id`), present since April 2026.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// WhatsApp: the username in the citizen's profile, without `@`. Shown to staff, never an
    /// identity (it can change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The provider's id of this message (wamid; Telegram `update_id`), for deduplication.
    pub id: String,
    /// Provider timestamp, Unix seconds.
    pub timestamp: i64,
    pub body: Body,
    /// Telegram only: the callback query to acknowledge with answerCallbackQuery.
    #[serde(default)]
    pub callback_id: Option<String>,
}

/// Delivery states reported by the provider, in their natural order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    /// Voice messages: played (after read).
    Played,
    /// Terminal.
    Failed,
}

/// A provider error code with its description (no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderError {
    pub code: i64,
    pub title: String,
}

/// A delivery status update for one of our messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub channel: Channel,
    pub route: String,
    /// Our outgoing message's provider id (wamid).
    pub message_id: String,
    pub recipient: String,
    pub status: DeliveryStatus,
    pub timestamp: i64,
    pub errors: Vec<ProviderError>,
}

/// Why sending failed, as the sender worker needs to know it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    /// Try again later (rate limits, 5xx, transient provider errors); `retry_after` in
    /// seconds when the provider said.
    #[error("retryable provider error {code}: {title}")]
    Retryable {
        code: i64,
        title: String,
        retry_after: Option<u64>,
    },
    /// Never retry (the number is not on WhatsApp, the 24-hour window is closed, …).
    #[error("permanent provider error {code}: {title}")]
    Permanent { code: i64, title: String },
    /// The request never reached the provider (no connection could be made): sending it
    /// again cannot deliver it twice.
    #[error("transport: {0}")]
    Transport(String),
    /// The request may have reached the provider, but no usable answer came back (the
    /// connection failed or timed out after the request left, or a success answer could
    /// not be read): the message may have been delivered, and sending it again may
    /// deliver it twice. Neither replies nor broadcasts send it again (at most once).
    #[error("no usable answer, the message may have been sent: {0}")]
    InDoubt(String),
}

impl SendError {
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SendError::Permanent { .. })
    }

    /// A failed request: [`SendError::Transport`] when it never left (connecting failed,
    /// or it could not be built), else [`SendError::InDoubt`]. The text leaves out the
    /// URL, which holds the Telegram token.
    pub fn from_request(e: reqwest::Error) -> SendError {
        let never_left = e.is_connect() || e.is_builder();
        let text = e.without_url().to_string();
        if never_left {
            SendError::Transport(text)
        } else {
            SendError::InDoubt(text)
        }
    }
}
