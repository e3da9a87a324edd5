//! A WhatsApp citizen's business-scoped user id (BSUID) changing, as the webhook says it.
//! Meta has said it three ways: a system message `user_changed_number` (a new number, with
//! `previous_user_id` since August 2026), a system message `user_changed_user_id` (only the
//! id), and the `user_id_update` field documented from March to August 2026
//! (`user_id: {previous, current}`). All three are read
//! (`tests/fixtures/whatsapp/bsuid/SOURCES.md`).

use serde_json::Value;

use super::webhook::{id_string, str_at, timestamp};

/// A citizen's business-scoped user id changed: the record under the previous one is theirs.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityChange {
    pub route: String,
    /// The BSUID the citizen had.
    pub previous: String,
    /// Their new BSUID.
    pub current: String,
    /// Their number, old or new, when Meta shares it.
    pub phone: Option<String>,
    pub timestamp: i64,
}

/// One entry of the `user_id_update` field, with both ids; `None` without them.
pub(super) fn from_update(route: &str, u: &Value) -> Option<IdentityChange> {
    Some(IdentityChange {
        route: route.to_string(),
        previous: u.pointer("/user_id/previous").and_then(id_string)?,
        current: u.pointer("/user_id/current").and_then(id_string)?,
        phone: u.get("wa_id").and_then(id_string),
        timestamp: timestamp(u),
    })
}

/// A system message that says the citizen's BSUID changed (`user_changed_number`,
/// `user_changed_user_id`) with both ids; `None` for anything else.
pub(super) fn from_system(route: &str, m: &Value) -> Option<IdentityChange> {
    if m.get("type").and_then(Value::as_str) != Some("system") {
        return None;
    }
    let kind = str_at(m, "/system/type")?;
    if kind != "user_changed_number" && kind != "user_changed_user_id" {
        return None;
    }
    let current = m.pointer("/system/user_id").and_then(id_string)?;
    // Before August 2026 the previous id was only in the sender's field.
    let previous = m
        .pointer("/system/previous_user_id")
        .and_then(id_string)
        .or_else(|| m.get("from_user_id").and_then(id_string))
        .filter(|p| *p != current)?;
    Some(IdentityChange {
        route: route.to_string(),
        previous,
        current,
        phone: m
            .pointer("/system/wa_id")
            .and_then(id_string)
            .or_else(|| m.get("from").and_then(id_string)),
        timestamp: timestamp(m),
    })
}
