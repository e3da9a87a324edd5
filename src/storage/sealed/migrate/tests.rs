use super::*;
use crate::channel::{Channel, InboundMessage};
use crate::message::Body;
use crate::storage::records::Delivery;
use crate::storage::{BroadcastStore, CitizenStore, JournalStore, StaffStore, StepEffects, Store};

fn now() -> jiff::Timestamp {
    "2026-12-07T09:00:00Z".parse().unwrap()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn db_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            out.extend(std::fs::read(path).unwrap());
        }
    }
    out
}

#[test]
fn an_unsealed_directory_is_migrated_once_with_a_backup_first_and_reads_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let key = CitizenKey::new("madone", "whatsapp", "393471112223");
    let mut citizen = Citizen::new(now());
    citizen.fields.insert("full_name".into(), "Bartolomeo Colleoni".into());
    let message = InboundMessage {
        channel: Channel::Whatsapp,
        route: "pn-madone".into(),
        from: key.citizen.clone(),
        id: "wamid.HBgMMzkzNDcxMTEyMjIz".into(),
        timestamp: 0,
        body: Body::Text {
            text: "Quando passa Colleoni?".into(),
        },
        callback_id: None,
        phone: None,
        user_id: None,
        username: None,
    };
    let dedupe = crate::storage::keys::inbound_key("whatsapp", "pn-madone", &message.id);
    let entry = InboundEntry {
        key: key.clone(),
        message: Some(message),
        received_at: now(),
        done: false,
        owner: None,
    };
    let bsuid = CitizenKey::new("madone", "whatsapp", "IT.1502576394655843");
    let broadcast = Broadcast {
        comune: "madone".into(),
        ..serde_json::from_value(serde_json::json!({
            "comune": "madone", "category": null, "urgent": false, "texts": {"it": "Avviso"},
            "media": null, "send_at": "2026-12-07T09:00:00Z", "created_at": "2026-12-07T09:00:00Z",
            "created_by": "test", "state": "scheduled"
        }))
        .unwrap()
    };
    let (id, conversation) = {
        let old = SledStore::open(&dir).unwrap();
        old.put_citizen(&key, &citizen).unwrap();
        old.record_inbound(&dedupe, &entry).unwrap();
        old.put_alias(&bsuid, &key).unwrap();
        let id = old.add_broadcast(&broadcast).unwrap();
        old.put_deliveries(id, &[(key.clone(), Delivery::queued("it"))])
            .unwrap();
        let wrote = crate::storage::Wrote {
            route: "pn-madone".into(),
            text: "Vorrei parlare con Colleoni".into(),
            deadline: None,
            at: now(),
            replies: vec![],
            handoff: true,
        };
        let effects = StepEffects {
            wrote: Some(wrote),
            ..StepEffects::default()
        };
        old.commit_step(None, &key, Some(&citizen), &[], &effects).unwrap();
        old.flush().unwrap();
        (id, old.conversation(&key).unwrap().unwrap())
    };
    assert!(contains(&db_bytes(&dir), "Colleoni"), "the old store holds it in clear");

    let (store, backup) = open_sled(&dir).unwrap();
    let backup = backup.expect("migrated");
    assert_eq!(backup, pre_sealing_backup(&dir));
    let kept =
        crate::storage::backup::read_backup(std::io::BufReader::new(std::fs::File::open(&backup).unwrap())).unwrap();
    assert!(kept.summary.records > 0, "the backup holds the store as it was");
    // Everything reads as before.
    assert_eq!(store.citizen(&key).unwrap(), Some(citizen));
    assert_eq!(store.pending_inbound().unwrap(), vec![(dedupe, entry)]);
    assert_eq!(store.alias(&bsuid).unwrap(), Some(key.clone()));
    assert_eq!(store.conversation(&key).unwrap(), Some(conversation));
    let deliveries = store.deliveries(id, "madone", None, None, 10).unwrap();
    assert_eq!(deliveries, vec![(key.clone(), Delivery::queued("it"))]);
    // …and nothing of it is in clear in the new directory, whose old sled file is gone.
    let bytes = db_bytes(&dir);
    for clear in [
        "Colleoni",
        "393471112223",
        "3471112223",
        "IT.1502576394655843",
        "HBgMMzkzNDcx",
    ] {
        assert!(!contains(&bytes, clear), "{clear} in clear after the migration");
    }
    assert!(!sibling(&dir, ".unsealed").exists() && !sibling(&dir, ".sealing").exists());
    drop(store);
    // Once: the next open migrates nothing.
    std::fs::remove_file(&backup).unwrap();
    let (_, again) = open_sled(&dir).unwrap();
    assert!(again.is_none() && !backup.exists());
}

#[test]
fn a_migration_stopped_half_way_is_finished_or_restarted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    // A new directory left incomplete beside the old one: dropped.
    std::fs::create_dir_all(sibling(&dir, ".sealing")).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    finish_interrupted(&dir).unwrap();
    assert!(!sibling(&dir, ".sealing").exists() && dir.exists());
    // The old one moved aside and the new one complete: moved in, the old one deleted.
    std::fs::rename(&dir, sibling(&dir, ".unsealed")).unwrap();
    std::fs::create_dir_all(sibling(&dir, ".sealing")).unwrap();
    std::fs::write(sibling(&dir, ".sealing").join("marker"), b"new").unwrap();
    finish_interrupted(&dir).unwrap();
    assert_eq!(std::fs::read(dir.join("marker")).unwrap(), b"new");
    assert!(!sibling(&dir, ".unsealed").exists());
}
