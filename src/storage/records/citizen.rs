//! The citizen record and the dialogue [`State`] it carries, persisted per
//! (comune, channel, citizen). Teloxide's pattern: each variant carries what has been
//! collected so far, so a restart resumes exactly where the conversation was.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Where a citizen's conversation stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum State {
    /// Never subscribed (a desk citizen may have registered their data without subscribing).
    New,
    /// Giving registration data or consents, one step at a time.
    Registering {
        /// What the citizen is registering for.
        goal: Goal,
        /// The step being asked now.
        asking: Ask,
        /// Values collected so far, by field key (dates as ISO 8601).
        draft: BTreeMap<String, String>,
        /// Consents given so far in this registration.
        given: Vec<Consent>,
        /// A question the citizen asked before registering (desk), answered after.
        pending_question: Option<String>,
        /// The reason the last answer was refused: the same reason is not explained twice
        /// in a row, the step is only asked again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refused: Option<String>,
    },
    Subscribed,
    /// Unsubscribed and retained by the comune's policy (Madone).
    Unsubscribed,
    Blocked {
        reason: String,
    },
}

/// Why a registration was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Goal {
    Subscribe,
    /// Desk first contact: the data is asked before questions, subscribing is offered after.
    FirstContact,
}

/// The step a registering citizen is answering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "ask", content = "id")]
pub enum Ask {
    Field(String),
    Consent(String),
    /// The privacy notice has been shown; waiting for acceptance (consent = "accept").
    AcceptPrivacy,
}

/// A consent given (or withdrawn) by the citizen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    /// `privacy`, `messages`, … as named by the flow.
    pub kind: String,
    /// The privacy notice's version in force when it was given.
    pub notice_version: String,
    pub at: Timestamp,
    /// The id of the message that carried it.
    pub message_id: String,
    /// `keyword`, `button`, `text` (a yes typed in a step), `one-shot`, `web`.
    pub how: String,
}

/// Everything stored about one citizen of one comune on one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citizen {
    #[serde(flatten)]
    pub state: State,
    /// The language chosen by the citizen, once they chose one.
    pub language: Option<String>,
    /// Registration data (`full_name`, `birth_place`, `birth_date` as ISO 8601, …).
    pub fields: BTreeMap<String, String>,
    /// Broadcast categories received (empty for comuni with one list).
    pub categories: BTreeSet<String>,
    pub consents: Vec<Consent>,
    pub first_seen: Timestamp,
    pub last_inbound: Timestamp,
    pub subscribed_at: Option<Timestamp>,
    pub unsubscribed_at: Option<Timestamp>,
    /// When the "this number does not answer" notice was last sent (sent at most once a day).
    pub last_notice: Option<Timestamp>,
    /// Whether the blocked notice was sent already.
    #[serde(default)]
    pub blocked_notice_sent: bool,
    /// Messages withheld by moderation (the flow blocks after `strikes_to_block`).
    #[serde(default)]
    pub strikes: u32,
    /// The newest privacy notice version shown to the citizen after a change.
    #[serde(default)]
    pub notice_seen: Option<String>,
    /// The operator holding this citizen's conversation: while set, the bot stays silent
    /// except for unsubscribe and moderation.
    #[serde(default)]
    pub held_by: Option<String>,
    /// The last reply the provider refused for good, and why (e.g. WhatsApp 131026: the
    /// number is not on WhatsApp).
    #[serde(default)]
    pub delivery_error: Option<DeliveryError>,
    /// A question the bot asked and waits for besides a registration step: "do you really
    /// want to leave?" after leaving was asked in the citizen's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirming: Option<Confirm>,
    /// WhatsApp: the citizen's other identity, the one their record is not keyed by: the
    /// number of a record keyed by business-scoped user id (BSUID), or the BSUID of a record
    /// keyed by number (from before April 2026). Personal data: erased with the record.
    #[serde(default, skip_serializing_if = "WhatsappIds::is_empty")]
    pub whatsapp: WhatsappIds,
}

/// A WhatsApp citizen's identities besides the record's key, as the last message showed them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsappIds {
    /// The number, when the record is keyed by BSUID and Meta shared it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The BSUID, when the record is keyed by number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bsuid: Option<String>,
    /// The username in their profile, without `@`: shown to staff, never an identity (it
    /// can change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl WhatsappIds {
    pub fn is_empty(&self) -> bool {
        self.phone.is_none() && self.bsuid.is_none() && self.username.is_none()
    }
}

/// What the bot asked the citizen to confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confirm {
    /// Unsubscribing (buttons: confirm, keep).
    Leave,
}

/// A permanent delivery failure, as the provider reported it (code and title only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryError {
    pub code: i64,
    pub title: String,
    pub at: Timestamp,
}

impl Citizen {
    pub fn new(now: Timestamp) -> Citizen {
        Citizen {
            state: State::New,
            language: None,
            fields: BTreeMap::new(),
            categories: BTreeSet::new(),
            consents: Vec::new(),
            first_seen: now,
            last_inbound: now,
            subscribed_at: None,
            unsubscribed_at: None,
            last_notice: None,
            blocked_notice_sent: false,
            strikes: 0,
            notice_seen: None,
            held_by: None,
            delivery_error: None,
            confirming: None,
            whatsapp: WhatsappIds::default(),
        }
    }

    /// The status named in the `citizen show` contract.
    pub fn status(&self) -> &'static str {
        match self.state {
            State::New => "new",
            State::Registering { .. } => "registering",
            State::Subscribed => "subscribed",
            State::Unsubscribed => "unsubscribed",
            State::Blocked { .. } => "blocked",
        }
    }

    /// The state outside a registration: unsubscribed (retained) if the citizen left before,
    /// else new. Where a registration ends without a subscription.
    pub fn at_rest(&self) -> State {
        if self.unsubscribed_at.is_some() {
            State::Unsubscribed
        } else {
            State::New
        }
    }

    /// Whether the record holds registration data.
    pub fn is_registered(&self) -> bool {
        !self.fields.is_empty()
    }
}
