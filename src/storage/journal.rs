//! What the server keeps besides citizens: the inbound journal (a message is stored before
//! the provider gets its 200, and its id is remembered to drop redeliveries) and the outbox
//! (a reply is stored, in order, before it is sent, marked in flight while its request is
//! out, and removed once the provider took it).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::CitizenKey;
use crate::channel::{Channel, DeliveryStatus, InboundMessage, ProviderError};
use crate::i18n::Rendered;

/// An inbound message in the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundEntry {
    pub key: CitizenKey,
    /// The message while it waits; dropped once processed, so the journal keeps no text.
    pub message: Option<InboundMessage>,
    pub received_at: Timestamp,
    pub done: bool,
    /// With several active processes on PostgreSQL (`server::shared`): the process that
    /// journalled it and will run it. `None` with one process (and then never written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
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
    /// Set (and made durable) before the reply's request leaves, cleared when the provider
    /// refused it: an entry still in flight at start may have reached the citizen and is
    /// not sent again (at most once; see `server::sender`).
    #[serde(default)]
    pub in_flight: bool,
    /// With several active processes on PostgreSQL (`server::shared`): the process that
    /// sends it, set when it is created or claimed. Another process takes it over only once
    /// its owner stopped answering. `None` with one process (and then never written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A message the provider accepted, by the provider's id, to follow its delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentEntry {
    pub key: CitizenKey,
    pub sent_at: Timestamp,
    /// The furthest status reported so far.
    pub status: DeliveryStatus,
    pub updated_at: Timestamp,
    /// The provider's errors when the status is `failed` (codes and titles only).
    #[serde(default)]
    pub errors: Vec<ProviderError>,
    /// The broadcast this message belongs to (its outbox entry follows the statuses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<u64>,
    /// An operator's reply: its statuses show as ticks in the conversation's thread.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub desk: bool,
}

impl SentEntry {
    /// Applies a status report. Statuses only move forward (sent < delivered < read <
    /// played) and `failed` is final: Meta does not guarantee their order, and skips
    /// `delivered` when it arrives together with `read`. Returns whether anything changed.
    pub fn apply(&mut self, status: DeliveryStatus, errors: &[ProviderError], at: Timestamp) -> bool {
        if self.status == DeliveryStatus::Failed || status <= self.status {
            return false;
        }
        self.status = status;
        self.updated_at = at;
        if status == DeliveryStatus::Failed {
            self.errors = errors.to_vec();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward_and_failed_is_final() {
        let t: Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
        let mut e = SentEntry {
            key: CitizenKey::new("a", "whatsapp", "1"),
            sent_at: t,
            status: DeliveryStatus::Sent,
            updated_at: t,
            errors: vec![],
            broadcast: None,
            desk: false,
        };
        assert!(e.apply(DeliveryStatus::Read, &[], t), "read may come without delivered");
        assert!(
            !e.apply(DeliveryStatus::Delivered, &[], t),
            "a late delivered does not go back"
        );
        assert_eq!(e.status, DeliveryStatus::Read);
        let err = ProviderError {
            code: 131026,
            title: "Message undeliverable".into(),
        };
        assert!(e.apply(DeliveryStatus::Failed, std::slice::from_ref(&err), t));
        assert!(!e.apply(DeliveryStatus::Played, &[], t));
        assert_eq!((e.status, e.errors), (DeliveryStatus::Failed, vec![err]));
    }
}
