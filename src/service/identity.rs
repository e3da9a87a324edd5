//! Who a WhatsApp message is from. Since April 2026 Meta names every WhatsApp user by a
//! business-scoped user id (BSUID) and, for a user with a username, may leave the number
//! out. A citizen's record is keyed by their BSUID when they first write with one, and by
//! number when they wrote before the rollout; the other identity is kept on the record
//! (`Citizen::whatsapp`) and, where a message may arrive by it alone, in an alias
//! (`CitizenStore::put_alias`) that the erasure removes with the record.
//!
//! - A message with a BSUID: its alias, else a record under the BSUID, else a record under
//!   the number the message carries (a citizen from before the rollout: linked once, the
//!   link audited with masked ids), else a new citizen under the BSUID.
//! - A message with a number only (before the rollout): the record under the number.
//! - A change of BSUID (a new number, or only the id): the new BSUID becomes an alias of
//!   the same record, so the record, its consents and its history stay whole; audited.
//!
//! Must not: log an identity, decide what a citizen is told.

use jiff::Timestamp;

use crate::channel::whatsapp::{is_bsuid, IdentityChange};
use crate::channel::{Channel, InboundMessage};
use crate::storage::keys::mask;
use crate::storage::records::Citizen;
use crate::storage::{AuditEntry, CitizenKey, Store, StoreError};

/// The actor the audit log names for these changes.
const ACTOR: &str = "whatsapp";

/// The record `message` belongs to in `comune` (see the module).
pub fn resolve(
    store: &dyn Store,
    comune: &str,
    message: &InboundMessage,
    now: Timestamp,
) -> Result<CitizenKey, StoreError> {
    let channel = message.channel.as_str();
    let raw = CitizenKey::new(comune, channel, &message.from);
    if message.channel != Channel::Whatsapp {
        return Ok(raw);
    }
    let Some(bsuid) = &message.user_id else {
        return Ok(raw);
    };
    let by_bsuid = CitizenKey::new(comune, channel, bsuid);
    if let Some(target) = store.alias(&by_bsuid)? {
        return Ok(target);
    }
    if store.citizen(&by_bsuid)?.is_some() {
        return Ok(by_bsuid);
    }
    if let Some(phone) = &message.phone {
        let by_phone = CitizenKey::new(comune, channel, phone);
        if store.citizen(&by_phone)?.is_some() {
            store.put_alias(&by_bsuid, &by_phone)?;
            audit(
                store,
                comune,
                "identity-link",
                &format!(
                    "number {} linked to its business-scoped id {}",
                    mask(phone),
                    mask(bsuid)
                ),
                now,
            )?;
            return Ok(by_phone);
        }
    }
    Ok(by_bsuid)
}

/// The record a change of BSUID concerns, if there is one: under the previous BSUID (or
/// its alias), else under the number the change carries.
pub fn changed_record(
    store: &dyn Store,
    comune: &str,
    change: &IdentityChange,
) -> Result<Option<CitizenKey>, StoreError> {
    let channel = Channel::Whatsapp.as_str();
    let previous = CitizenKey::new(comune, channel, &change.previous);
    if let Some(target) = store.alias(&previous)? {
        return Ok(Some(target));
    }
    if store.citizen(&previous)?.is_some() {
        return Ok(Some(previous));
    }
    if let Some(phone) = &change.phone {
        let by_phone = CitizenKey::new(comune, channel, phone);
        if store.citizen(&by_phone)?.is_some() {
            return Ok(Some(by_phone));
        }
    }
    Ok(None)
}

/// Applies a change of BSUID to the record under `key` (found by [`changed_record`], in the
/// citizen's lane): the new BSUID names it from now on, the record keeps its key, consents
/// and history, and the change is audited with masked ids.
pub fn apply_change(
    store: &dyn Store,
    key: &CitizenKey,
    change: &IdentityChange,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut citizen) = store.citizen(key)? else {
        return Ok(());
    };
    let current = CitizenKey::new(&key.comune, &key.channel, &change.current);
    if current != *key {
        store.put_alias(&current, key)?;
    }
    if is_bsuid(&key.citizen) {
        if let Some(phone) = &change.phone {
            citizen.whatsapp.phone = Some(phone.clone());
        }
    } else {
        citizen.whatsapp.bsuid = Some(change.current.clone());
    }
    store.put_citizen(key, &citizen)?;
    audit(
        store,
        &key.comune,
        "identity-change",
        &format!(
            "business-scoped id {} replaced by {}",
            mask(&change.previous),
            mask(&change.current)
        ),
        now,
    )
}

/// Keeps on the record the identities a message showed besides the key: the number of a
/// record keyed by BSUID, the BSUID of a record keyed by number, the username.
pub fn note(citizen: &mut Citizen, key: &CitizenKey, message: &InboundMessage) {
    if message.channel != Channel::Whatsapp {
        return;
    }
    let ids = &mut citizen.whatsapp;
    match &message.phone {
        Some(phone) if *phone != key.citizen && is_bsuid(&key.citizen) => ids.phone = Some(phone.clone()),
        _ => {}
    }
    match &message.user_id {
        Some(bsuid) if *bsuid != key.citizen && !is_bsuid(&key.citizen) => ids.bsuid = Some(bsuid.clone()),
        _ => {}
    }
    if message.username.is_some() {
        ids.username = message.username.clone();
    }
}

/// Where a reply to the citizen under `key` goes: their number when known, else the
/// BSUID (sent as `recipient`).
pub fn reply_to(key: &CitizenKey, citizen: Option<&Citizen>) -> String {
    match citizen.and_then(|c| c.whatsapp.phone.clone()) {
        Some(phone) if key.channel == Channel::Whatsapp.as_str() => phone,
        _ => key.citizen.clone(),
    }
}

fn audit(store: &dyn Store, comune: &str, action: &str, detail: &str, now: Timestamp) -> Result<(), StoreError> {
    store.append_audit(&AuditEntry {
        at: now,
        actor: ACTOR.into(),
        comune: comune.to_string(),
        action: action.into(),
        detail: detail.to_string(),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Body;
    use crate::storage::{CitizenStore, MemoryStore, StaffStore};

    fn message(phone: Option<&str>, bsuid: Option<&str>) -> InboundMessage {
        InboundMessage {
            channel: Channel::Whatsapp,
            route: "pn".into(),
            from: bsuid.or(phone).unwrap().into(),
            phone: phone.map(String::from),
            user_id: bsuid.map(String::from),
            username: Some("graziadeledda".into()),
            id: "wamid.1".into(),
            timestamp: 0,
            body: Body::Text { text: "ciao".into() },
            callback_id: None,
        }
    }

    const PHONE: &str = "393471234567";
    const BSUID: &str = "IT.1502576394655843";

    #[test]
    fn a_record_from_before_the_rollout_is_linked_once_and_found_by_its_bsuid_alone() {
        let store = MemoryStore::new();
        let now = Timestamp::now();
        let by_phone = CitizenKey::new("brusson", "whatsapp", PHONE);
        store.put_citizen(&by_phone, &Citizen::new(now)).unwrap();
        // The next message carries both: linked to the record under the number.
        assert_eq!(
            resolve(&store, "brusson", &message(Some(PHONE), Some(BSUID)), now).unwrap(),
            by_phone
        );
        // Later ones without the number find it too, and the link is not written again.
        assert_eq!(
            resolve(&store, "brusson", &message(None, Some(BSUID)), now).unwrap(),
            by_phone
        );
        assert_eq!(
            resolve(&store, "brusson", &message(Some(PHONE), Some(BSUID)), now).unwrap(),
            by_phone
        );
        let links: Vec<_> = store
            .audit(None)
            .unwrap()
            .into_iter()
            .filter(|(_, a)| a.action == "identity-link")
            .collect();
        assert_eq!(links.len(), 1);
        assert!(
            !links[0].1.detail.contains(PHONE) && !links[0].1.detail.contains(BSUID),
            "masked"
        );
        // Another comune's citizen with the same number is another record.
        assert_eq!(
            resolve(&store, "isili", &message(Some(PHONE), Some(BSUID)), now).unwrap(),
            CitizenKey::new("isili", "whatsapp", BSUID)
        );
        // Erased with the record.
        store.scrub_citizen(&by_phone, false).unwrap();
        assert_eq!(
            store.alias(&CitizenKey::new("brusson", "whatsapp", BSUID)).unwrap(),
            None
        );
    }

    #[test]
    fn a_new_citizen_is_keyed_by_bsuid_and_a_change_of_number_keeps_the_record() {
        let store = MemoryStore::new();
        let now = Timestamp::now();
        let key = resolve(&store, "brusson", &message(Some(PHONE), Some(BSUID)), now).unwrap();
        assert_eq!(key, CitizenKey::new("brusson", "whatsapp", BSUID));
        let mut c = Citizen::new(now);
        note(&mut c, &key, &message(Some(PHONE), Some(BSUID)));
        assert_eq!(c.whatsapp.phone.as_deref(), Some(PHONE));
        assert_eq!(c.whatsapp.username.as_deref(), Some("graziadeledda"));
        assert_eq!(reply_to(&key, Some(&c)), PHONE, "the number when known");
        assert_eq!(reply_to(&key, None), BSUID);
        store.put_citizen(&key, &c).unwrap();
        let change = IdentityChange {
            route: "pn".into(),
            previous: BSUID.into(),
            current: "IT.2718281828459045".into(),
            phone: Some("393489876543".into()),
            timestamp: 0,
        };
        let target = changed_record(&store, "brusson", &change).unwrap().unwrap();
        assert_eq!(target, key);
        apply_change(&store, &target, &change, now).unwrap();
        assert_eq!(
            resolve(&store, "brusson", &message(None, Some("IT.2718281828459045")), now).unwrap(),
            key,
            "the new id finds the same record"
        );
        assert_eq!(
            store.citizen(&key).unwrap().unwrap().whatsapp.phone.as_deref(),
            Some("393489876543")
        );
        assert!(store
            .audit(None)
            .unwrap()
            .iter()
            .any(|(_, a)| a.action == "identity-change"));
        // A change for nobody we know changes nothing.
        let stranger = IdentityChange {
            previous: "IT.1".into(),
            phone: None,
            ..change
        };
        assert_eq!(changed_record(&store, "brusson", &stranger).unwrap(), None);
    }
}
