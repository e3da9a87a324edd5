//! Every key sportello writes is built here, and only here.
//!
//! Trees are named `<key>_<value>` (Conduit's convention):
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | `schema_version` | u32, big-endian |
//! | `meta` | `index_built 0x00 tree-name` | empty (sled only): that derived index (`citizenkey_ledgerid`, `citizenkey_entrykey`) was built whole |
//! | `citizenkey_citizen` | `comune 0x00 channel 0x00 citizen-id` | the citizen record, JSON |
//! | `inboundid_inbound` | `channel 0x00 route 0x00 provider-message-id` | [`InboundEntry`](super::InboundEntry), JSON: the message until processed, then only the fact it was seen (deduplication of redeliveries) |
//! | `sentid_sent` | `channel 0x00 provider-message-id` | [`SentEntry`](super::SentEntry), JSON: delivery of a message the provider accepted |
//! | `caseid_case` | u64 big-endian, increasing | [`ModerationCase`](super::ModerationCase), JSON: a withheld message for staff review |
//! | `ledgerid_entry` | u64 big-endian, increasing | [`LedgerEntry`](super::LedgerEntry), JSON: the consent ledger, append-only |
//! | `auditid_entry` | u64 big-endian, increasing | [`AuditEntry`](super::AuditEntry), JSON: staff and system actions, append-only |
//! | `statkey_count` | `comune 0x00 YYYY-MM 0x00 metric` | u64 big-endian: anonymous monthly counters for the annual report |
//! | `email_account` | staff e-mail, lower case | [`Account`](super::Account), JSON |
//! | `tokenhash_session` | SHA-256 hex of the session token | [`Session`](super::Session), JSON |
//! | `citizenkey_conversation` | as `citizenkey_citizen` | [`Conversation`](super::Conversation), JSON: personal data, erased with the citizen |
//! | `citizenkey_ledgerid` | `citizenkey 0x00` u64 big-endian | empty (sled only): the ledger entries that name a citizen, derived from `ledgerid_entry` and rebuilt at open when missing |
//! | `citizenkey_entrykey` | `citizenkey 0x00 tag entry-key`, tag `i` journal (the `inboundid_inbound` key), `o` outbox (u64 BE), `s` sent (the `sentid_sent` key), `c` case (u64 BE) | empty (sled only): the journal, outbox, sent and case entries that name a citizen, derived from those trees and rebuilt at open when missing; a processed journal entry or an anonymized case names nobody and is not indexed. Personal data (the key): removed with the entries |
//! | `citizenkey_erasing` | as `citizenkey_citizen` | empty: a leaver whose erasure a step committed and whose scrub has not finished |
//! | `faqkey_edit` | `comune 0x00 entry-id 0x00 lang` | [`FaqEdit`](super::FaqEdit), JSON: an FAQ entry edited, added or deleted in the console, overlaid on `faq/<comune>.toml` |
//! | `closurekey_closure` | `comune 0x00 YYYY-MM-DD` | [`ClosureEdit`](super::ClosureEdit), JSON: a one-off closure added (or a flow file's closure removed) in the console |
//! | `outboxid_outbound` | u64 big-endian, increasing | [`OutboundEntry`](super::OutboundEntry), JSON: a reply not yet accepted by the provider |
//! | `broadcastid_broadcast` | u64 big-endian, increasing | [`Broadcast`](crate::storage::records::Broadcast), JSON: the operator's texts and the broadcast's state |
//! | `broadcastrecipient_delivery` | `broadcast-id (u64 BE) channel 0x00 citizen-id` | [`Delivery`](crate::storage::records::Delivery), JSON: the broadcast outbox, one entry per (broadcast, citizen); the comune is the broadcast's. Personal data (the key): removed with the citizen |
//!
//! The PostgreSQL backend has one table per tree, of the same name, holding the same key and
//! value bytes (`migrations/0001_trees.sql`).
//!
//! `citizen-id` is the channel's identifier of the person (a WhatsApp number as digits, a
//! Telegram chat id). 0x00 cannot occur in any part, so keys sort by comune, then channel,
//! and a comune's citizens are one prefix scan.

use super::StoreError;

pub const META_TREE: &str = "meta";
pub const SCHEMA_VERSION_KEY: &[u8] = b"schema_version";
pub const CITIZENS_TREE: &str = "citizenkey_citizen";
pub const INBOUND_TREE: &str = "inboundid_inbound";
pub const OUTBOX_TREE: &str = "outboxid_outbound";
pub const SENT_TREE: &str = "sentid_sent";
pub const CASES_TREE: &str = "caseid_case";
pub const LEDGER_TREE: &str = "ledgerid_entry";
pub const AUDIT_TREE: &str = "auditid_entry";
pub const STATS_TREE: &str = "statkey_count";
pub const ACCOUNTS_TREE: &str = "email_account";
pub const SESSIONS_TREE: &str = "tokenhash_session";
pub const CONVERSATIONS_TREE: &str = "citizenkey_conversation";
pub const ERASING_TREE: &str = "citizenkey_erasing";
/// A citizen's other identity (a WhatsApp BSUID for a record keyed by number before the
/// rollout, a new BSUID after a change of number) -> the key of their record, both encoded.
pub const ALIASES_TREE: &str = "citizenkey_alias";
/// sled only, derived from the ledger (rebuilt at open when missing): which ledger entries
/// name a citizen, so an erasure does not read the whole ledger.
pub const LEDGER_INDEX_TREE: &str = "citizenkey_ledgerid";

/// An identity with all but its last three characters hidden, for pages, logs and the
/// audit log: `3933312345678` → `••••••••••678`, a BSUID `IT.1502576394655843` →
/// `••••••••••••••••843`.
pub fn mask(id: &str) -> String {
    let n = id.chars().count();
    id.chars()
        .enumerate()
        .map(|(i, c)| if i + 3 < n { '•' } else { c })
        .collect()
}

/// The Europe/Rome month of a moment, `YYYY-MM` (the unit of the `statkey_count` counters and of the report).
pub fn month_of(t: jiff::Timestamp) -> String {
    let tz = jiff::tz::TimeZone::get("Europe/Rome").unwrap_or(jiff::tz::TimeZone::UTC);
    t.to_zoned(tz).strftime("%Y-%m").to_string()
}

/// The key of a ledger index entry: the citizen's key, 0x00, the entry's id (big-endian).
pub fn ledger_index_key(citizen_key: &[u8], id: u64) -> Vec<u8> {
    let mut k = citizen_key.to_vec();
    k.push(0);
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// sled only, derived from the journal, outbox, sent and cases trees (rebuilt at open when
/// missing): which of their entries name a citizen, so an erasure reads only those. One
/// tree for the four, so that a step's transaction joins one index tree, not four.
pub const ENTRY_INDEX_TREE: &str = "citizenkey_entrykey";

/// The tree an entry index key points into: the byte after the citizen's key and 0x00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Indexed {
    /// `inboundid_inbound`; the entry's key is the deduplication key.
    Inbound = b'i',
    /// `outboxid_outbound`; the entry's key is its id (u64 big-endian).
    Outbox = b'o',
    /// `sentid_sent`; the entry's key is `keys::sent_key`.
    Sent = b's',
    /// `caseid_case`; the entry's key is its id (u64 big-endian).
    Case = b'c',
}

/// The prefix of every index entry of one citizen (`citizen_key` encoded) in one tree.
pub fn entry_index_prefix(citizen_key: &[u8], tree: Indexed) -> Vec<u8> {
    let mut k = Vec::with_capacity(citizen_key.len() + 2);
    k.extend_from_slice(citizen_key);
    k.push(0);
    k.push(tree as u8);
    k
}

/// The key of an entry index entry: the citizen's key, 0x00, the tree's tag byte, then the
/// entry's key in that tree, whatever its length (it is what follows the prefix).
pub fn entry_index_key(citizen_key: &[u8], tree: Indexed, entry: &[u8]) -> Vec<u8> {
    let mut k = entry_index_prefix(citizen_key, tree);
    k.extend_from_slice(entry);
    k
}

/// The `meta` key recording that a derived index (`tree`) was built whole: without it the
/// index is built (again) at open, since a crash may have left it half built.
pub fn index_built_key(tree: &str) -> Vec<u8> {
    [b"index_built\0".as_slice(), tree.as_bytes()].concat()
}

pub const FAQ_EDITS_TREE: &str = "faqkey_edit";
pub const CLOSURES_TREE: &str = "closurekey_closure";

/// The key of an FAQ edit: one per comune, entry id and language.
pub fn faq_edit_key(comune: &str, id: &str, lang: &str) -> Result<Vec<u8>, StoreError> {
    parts_key(&[(comune, "comune"), (id, "faq id"), (lang, "faq lang")])
}

/// The key of a closure decision: one per comune and day (`YYYY-MM-DD`).
pub fn closure_key(comune: &str, date: &str) -> Result<Vec<u8>, StoreError> {
    parts_key(&[(comune, "comune"), (date, "closure date")])
}

/// Non-empty parts without NUL, joined by 0x00.
fn parts_key(parts: &[(&str, &'static str)]) -> Result<Vec<u8>, StoreError> {
    for (part, name) in parts {
        if part.is_empty() || part.contains('\0') {
            return Err(StoreError::BadKey(name));
        }
    }
    Ok(parts.iter().map(|(p, _)| p.as_bytes()).collect::<Vec<_>>().join(&0u8))
}

pub const BROADCASTS_TREE: &str = "broadcastid_broadcast";
pub const DELIVERIES_TREE: &str = "broadcastrecipient_delivery";

/// The key of a broadcast outbox entry; with an empty `citizen`, the prefix of a channel's
/// entries; with no channel, of the whole broadcast.
pub fn delivery_key(id: u64, channel: Option<&str>, citizen: &str) -> Vec<u8> {
    let mut k = id.to_be_bytes().to_vec();
    if let Some(channel) = channel {
        k.extend_from_slice(channel.as_bytes());
        k.push(0);
        k.extend_from_slice(citizen.as_bytes());
    }
    k
}

/// The (channel, citizen) of a broadcast outbox key.
pub fn decode_delivery_key(k: &[u8]) -> Option<(u64, String, String)> {
    let id = u64::from_be_bytes(k.get(..8)?.try_into().ok()?);
    let rest = std::str::from_utf8(&k[8..]).ok()?;
    let (channel, citizen) = rest.split_once('\0')?;
    Some((id, channel.to_string(), citizen.to_string()))
}

/// The key of a monthly counter.
pub fn stat_key(comune: &str, month: &str, metric: &str) -> Vec<u8> {
    [comune.as_bytes(), month.as_bytes(), metric.as_bytes()].join(&0u8)
}

/// The key of a sent message: provider ids are unique per channel.
pub fn sent_key(channel: &str, provider_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(channel.len() + provider_id.len() + 1);
    k.extend_from_slice(channel.as_bytes());
    k.push(0);
    k.extend_from_slice(provider_id.as_bytes());
    k
}

/// The deduplication key of an inbound message: provider ids are unique per channel and
/// receiving number or bot.
pub fn inbound_key(channel: &str, route: &str, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(channel.len() + route.len() + id.len() + 2);
    k.extend_from_slice(channel.as_bytes());
    k.push(0);
    k.extend_from_slice(route.as_bytes());
    k.push(0);
    k.extend_from_slice(id.as_bytes());
    k
}

/// Identifies one citizen's conversation with one comune on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct CitizenKey {
    pub comune: String,
    pub channel: String,
    pub citizen: String,
}

impl CitizenKey {
    pub fn new(comune: &str, channel: &str, citizen: &str) -> CitizenKey {
        CitizenKey {
            comune: comune.into(),
            channel: channel.into(),
            citizen: citizen.into(),
        }
    }

    /// The key's bytes in the citizens tree.
    pub fn encode(&self) -> Result<Vec<u8>, StoreError> {
        for (part, name) in [
            (&self.comune, "comune"),
            (&self.channel, "channel"),
            (&self.citizen, "citizen"),
        ] {
            if part.is_empty() || part.contains('\0') {
                return Err(StoreError::BadKey(name));
            }
        }
        let mut k = Vec::with_capacity(self.comune.len() + self.channel.len() + self.citizen.len() + 2);
        k.extend_from_slice(self.comune.as_bytes());
        k.push(0);
        k.extend_from_slice(self.channel.as_bytes());
        k.push(0);
        k.extend_from_slice(self.citizen.as_bytes());
        Ok(k)
    }

    /// The inverse of [`CitizenKey::encode`].
    pub fn decode(bytes: &[u8]) -> Option<CitizenKey> {
        let s = std::str::from_utf8(bytes).ok()?;
        let mut parts = s.splitn(3, '\0');
        Some(CitizenKey::new(parts.next()?, parts.next()?, parts.next()?))
    }
}

/// The prefix of every key of a comune's citizens.
pub fn comune_prefix(comune: &str) -> Vec<u8> {
    let mut p = comune.as_bytes().to_vec();
    p.push(0);
    p
}

/// A citizen identifier as typed on the command line or received from a channel: digits
/// only for phone numbers ("+39 333 123 4567" and "00393331234567" are "393331234567"; an
/// Italian mobile written without prefix gets 39). Other ids (Telegram, web) pass unchanged.
pub fn normalize_number(raw: &str) -> String {
    let t = raw.trim();
    let phone_like = !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || " +-./()".contains(c));
    if !phone_like {
        return t.to_string();
    }
    let mut digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if let Some(rest) = digits.strip_prefix("00") {
        digits = rest.to_string();
    }
    if !t.starts_with('+') && !t.starts_with("00") && digits.len() == 10 && digits.starts_with('3') {
        digits.insert_str(0, "39");
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_sort_by_comune() {
        let a = CitizenKey::new("assemini", "whatsapp", "393331234567");
        let b = CitizenKey::new("brusson", "telegram", "42");
        assert_eq!(CitizenKey::decode(&a.encode().unwrap()), Some(a.clone()));
        assert!(a.encode().unwrap() < b.encode().unwrap());
        assert!(a.encode().unwrap().starts_with(&comune_prefix("assemini")));
        assert!(!a.encode().unwrap().starts_with(&comune_prefix("assem")));
    }

    #[test]
    fn delivery_keys_round_trip_and_group_by_broadcast_then_channel() {
        let k = delivery_key(7, Some("whatsapp"), "393331234567");
        assert_eq!(
            decode_delivery_key(&k),
            Some((7, "whatsapp".into(), "393331234567".into()))
        );
        assert!(k.starts_with(&delivery_key(7, Some("whatsapp"), "")));
        assert!(k.starts_with(&delivery_key(7, None, "")));
        assert!(delivery_key(7, Some("whatsapp"), "9") < delivery_key(8, Some("telegram"), "1"));
    }

    #[test]
    fn nul_and_empty_parts_are_refused() {
        assert!(CitizenKey::new("a\0b", "whatsapp", "1").encode().is_err());
        assert!(CitizenKey::new("isili", "whatsapp", "").encode().is_err());
    }

    #[test]
    fn numbers_are_normalized() {
        assert_eq!(normalize_number("+39 333 123 4567"), "393331234567");
        assert_eq!(normalize_number("0039 333-1234567"), "393331234567");
        assert_eq!(normalize_number("3331234567"), "393331234567");
        assert_eq!(normalize_number("393331234567"), "393331234567");
        assert_eq!(normalize_number("web-abc"), "web-abc");
    }
}
