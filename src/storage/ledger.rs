//! The consent ledger and the audit log: append-only records the comune, as controller,
//! shows to prove what it did. Erasing a citizen keeps their ledger entries with the citizen
//! id removed: the anonymized proof of consent and withdrawal the law requires.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What a ledger entry proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LedgerKind {
    Consent,
    Withdrawal,
    /// The citizen was shown a new version of the privacy notice.
    NoticeSeen,
}

/// One consent, withdrawal or notice shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub comune: String,
    pub channel: String,
    /// The citizen; `None` once erased.
    pub citizen: Option<String>,
    pub kind: LedgerKind,
    /// Which consent (`privacy`, `messages`, …).
    pub consent: String,
    pub notice_version: String,
    /// SHA-256 (hex) of the notice text as shown, in the citizen's language.
    pub notice_sha256: String,
    pub at: Timestamp,
    /// The provider's id of the message that carried it.
    pub message_id: String,
    /// `keyword`, `button`, `text`, `one-shot`, `web`.
    pub how: String,
    /// Sealed storage (`storage::sealed`): the citizen's pseudonym, a keyed hash that cannot
    /// be reversed without the keyring's pepper. Kept when the citizen is erased: with the
    /// notice version, its hash, the time and how, the anonymous proof of consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pseudonym: Option<String>,
}

impl LedgerEntry {
    /// The encoded key (`keys.rs`) of the citizen the entry names, `None` once anonymized:
    /// what the backends index the ledger by.
    pub fn citizen_key(&self) -> Option<Vec<u8>> {
        self.citizen
            .as_deref()
            .and_then(|c| super::CitizenKey::new(&self.comune, &self.channel, c).encode().ok())
    }
}

/// One staff or system action, for the audit log. Never holds personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// Who: a staff account, or `system` (retention).
    pub actor: String,
    pub comune: String,
    /// `erase`, `export`, `retention`, `moderation-decide`, …
    pub action: String,
    pub detail: String,
}

/// What a scrub removed, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Scrubbed {
    pub citizen: usize,
    pub journal: usize,
    pub outbox: usize,
    pub sent: usize,
    pub cases: usize,
    pub ledger: usize,
}
