//! Moderation cases: every message a comune's rules withheld, waiting for staff to confirm,
//! dismiss or report it to the authorities. A case keeps the message and who sent it,
//! because a report needs both; it is personal data and is erased with the citizen.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::CitizenKey;
use crate::moderation::{Rule, Span, Verdict};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseStatus {
    Pending,
    /// Staff agree the rule was broken.
    Confirmed,
    /// Staff find the message acceptable: the strike is taken back (and a block it caused).
    Dismissed,
    /// Confirmed and reported to the authorities; the record can be exported.
    Reported,
}

/// One withheld message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModerationCase {
    pub key: CitizenKey,
    pub rule: Rule,
    pub verdict: Verdict,
    pub text: String,
    pub spans: Vec<Span>,
    pub at: Timestamp,
    /// Whether this message blocked the citizen.
    pub blocked: bool,
    pub status: CaseStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub note: Option<String>,
}
