//! The broadcast records the store keeps: a broadcast as the operator composed it, and
//! its outbox entries, one per (broadcast, citizen). Sending them is `crate::broadcast`'s.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A broadcast as the operator composed it, and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Broadcast {
    pub comune: String,
    /// The topic category (Brusson); `None` for comuni with one list.
    pub category: Option<String>,
    /// Whether it goes ahead of other broadcasts (the category is urgent).
    #[serde(default)]
    pub urgent: bool,
    /// The operator's text by language code.
    pub texts: BTreeMap<String, String>,
    pub media: Option<Media>,
    /// Not sent before this time.
    pub send_at: Timestamp,
    pub created_at: Timestamp,
    /// The staff e-mail or `cli`.
    pub created_by: String,
    pub state: BroadcastState,
    /// Entries written to the outbox by the fan-out.
    #[serde(default)]
    pub recipients: u64,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
}

/// An image or short video sent with the text, by link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media {
    /// `image` or `video`.
    pub kind: String,
    /// A public https URL the providers fetch.
    pub link: String,
}

/// Where a broadcast stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BroadcastState {
    /// Waiting for `send_at`; nobody is queued yet (the list is taken when it starts, so a
    /// citizen who unsubscribes meanwhile is not included).
    Scheduled,
    /// Outbox entries are being written; none is sent until every one is written and
    /// flushed (a restart redoes the fan-out, which overwrites only unsent entries).
    FanningOut,
    Sending,
    Done,
}

impl BroadcastState {
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastState::Scheduled => "scheduled",
            BroadcastState::FanningOut => "fanning-out",
            BroadcastState::Sending => "sending",
            BroadcastState::Done => "done",
        }
    }
}

/// One outbox entry: a broadcast for one citizen (key: broadcast id, channel, citizen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The language of the text chosen for this citizen.
    pub language: String,
    pub state: DeliveryState,
    #[serde(default)]
    pub attempts: u32,
    /// Not retried before this time (back-off after a transient error).
    #[serde(default)]
    pub not_before: Option<Timestamp>,
    /// Sent as the comune's approved template (the 24-hour window was closed).
    #[serde(default)]
    pub template: bool,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl Delivery {
    pub fn queued(language: &str) -> Delivery {
        Delivery {
            language: language.to_string(),
            state: DeliveryState::Queued,
            attempts: 0,
            not_before: None,
            template: false,
            updated_at: None,
        }
    }
}

/// Where one entry stands. Provider codes and titles only, never a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum DeliveryState {
    Queued,
    /// Its request may have left: never sent again automatically.
    InFlight,
    /// Accepted by the provider.
    Sent,
    Delivered,
    Read,
    Failed {
        code: i64,
        title: String,
    },
    /// In flight when the process stopped: it may or may not have reached the citizen.
    Interrupted,
    /// Not sent: the citizen left, was blocked, or cannot be reached on their channel.
    Skipped {
        reason: String,
    },
}
