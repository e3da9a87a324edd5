//! Staff accounts, their sessions, and the conversations handed to them.
//!
//! Accounts hold an Argon2id hash, never a password. Sessions are stored by the SHA-256 of
//! their token, so a copy of the store does not hand out live sessions. A conversation holds
//! a citizen's messages to the desk: personal data, erased with the citizen.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::CitizenKey;

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works the inbox of their comuni only.
    Operator,
    /// Every comune, plus staff management.
    Admin,
}

/// A staff account, keyed by its e-mail (lower case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub email: String,
    pub role: Role,
    /// The comuni an operator works for (ignored for administrators).
    pub comuni: Vec<String>,
    /// Argon2id, PHC string format.
    pub password_hash: String,
    /// Failed logins in a row; reset by a successful one.
    #[serde(default)]
    pub failed_logins: u32,
    #[serde(default)]
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
    /// Console language (`it`, `fr`).
    #[serde(default = "default_language")]
    pub language: String,
}

fn default_language() -> String {
    "it".into()
}

impl Account {
    /// Whether the account may see and act on `comune`.
    pub fn may(&self, comune: &str) -> bool {
        self.role == Role::Admin || self.comuni.iter().any(|c| c == comune)
    }
}

/// A logged-in browser, keyed by the SHA-256 of its cookie token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub email: String,
    /// The CSRF token every form of this session must carry.
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Where a conversation with the desk stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum ConversationStatus {
    /// Waiting for a person.
    Waiting,
    /// An operator holds it: the bot is silent but for unsubscribe and moderation.
    Held {
        by: String,
        since: Timestamp,
    },
    Closed {
        by: String,
        at: Timestamp,
    },
}

/// Who wrote a line of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "from", content = "who")]
pub enum Author {
    Citizen,
    /// A reply sent to the citizen.
    Staff(String),
    /// An internal note, never sent.
    Note(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub at: Timestamp,
    pub author: Author,
    pub text: String,
}

/// A citizen's open (or last) conversation with the desk of a comune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub key: CitizenKey,
    /// Where replies go out from (the comune's WhatsApp phone_number_id, or its bot).
    #[serde(default)]
    pub route: String,
    #[serde(flatten)]
    pub status: ConversationStatus,
    pub opened_at: Timestamp,
    /// When the answer is due (working days from the flow).
    pub deadline: Option<Timestamp>,
    pub last_activity: Timestamp,
    pub lines: Vec<Line>,
}

impl Conversation {
    /// The conversation once the citizen wrote `text`: `existing` (unless closed) with the
    /// line appended, else a new one waiting with `deadline`. Pure: the store applies it
    /// inside the step's transaction, staff tools outside one.
    pub fn after_citizen_wrote(existing: Option<Conversation>, key: &CitizenKey, wrote: &Wrote) -> Conversation {
        let mut conv = match existing {
            Some(c) if !matches!(c.status, ConversationStatus::Closed { .. }) => c,
            _ => Conversation {
                key: key.clone(),
                route: wrote.route.clone(),
                status: ConversationStatus::Waiting,
                opened_at: wrote.at,
                deadline: wrote.deadline,
                last_activity: wrote.at,
                lines: Vec::new(),
            },
        };
        if !wrote.route.is_empty() {
            conv.route = wrote.route.clone();
        }
        conv.last_activity = wrote.at;
        conv.lines.push(Line {
            at: wrote.at,
            author: Author::Citizen,
            text: wrote.text.clone(),
        });
        conv
    }
}

/// What a citizen wrote to the desk in one step: a question, a request for a person, or a
/// message to the operator holding their conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Wrote {
    /// Where replies go out from (empty for the terminal chat).
    pub route: String,
    pub text: String,
    /// When an answer is due, if the conversation opens now.
    pub deadline: Option<Timestamp>,
    pub at: Timestamp,
}
