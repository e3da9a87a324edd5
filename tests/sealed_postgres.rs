//! Sealed storage on PostgreSQL (issue 24), through the library: the keyring's slots in the
//! database, shared by every process on it; the one-time sealing of a database written in
//! clear, with a backup first; the rotation of the master key. The binary's side (leavers
//! and `citizen erase` leave nothing in any table) is `erasure_pg.rs`.
//!
//! Needs PostgreSQL as `storage.rs` does (`SPORTELLO_TEST_DATABASE_URL`).

use jiff::Timestamp;
use sportello::dialogue::Citizen;
use sportello::storage::keyring::{Keyring, Master};
use sportello::storage::sealed::postgres::{open_postgres, pre_sealing_backup};
use sportello::storage::{CitizenKey, CitizenStore, JournalStore, StepEffects, Store};

use crate::harness::postgres::{test_database_url, TestSchema};

fn now() -> Timestamp {
    "2026-12-07T10:00:00Z".parse().unwrap()
}

fn citizen(name: &str) -> Citizen {
    let mut c = Citizen::new(now());
    c.fields.insert("full_name".into(), name.into());
    c
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every table row of the schema, as bytes, that holds `needle` (in clear or in hex, the
/// form bytea takes as text): (table, row).
fn rows_with(schema: &TestSchema, needle: &str) -> Vec<String> {
    let raw = schema.open();
    let mut found = Vec::new();
    for (tree, rows) in raw.records().unwrap() {
        for (k, v) in rows {
            if contains(&k, needle.as_bytes()) || contains(&v, needle.as_bytes()) {
                found.push(tree.clone());
            }
        }
    }
    found
}

/// A database written before sealing (a citizen, their journal entry and reply, in clear) is
/// sealed at the first open: a verified backup of the tables first (owner-only, holding the
/// citizen), then no row holds the number or the name, and the sealed store reads the
/// citizen whole. A second open seals nothing.
#[test]
fn a_database_written_in_clear_is_sealed_once_at_open_with_a_backup_first() {
    let Some(url) = test_database_url() else { return };
    let schema = TestSchema::new(&url, "sealing");
    let key = CitizenKey::new("assemini", "whatsapp", "393471239901");
    {
        // As a build before sealing wrote it: straight into the tables.
        let raw = schema.open();
        raw.commit_step(
            None,
            &key,
            Some(&citizen("Ermenegilda Schiappacasse")),
            &[],
            &StepEffects::default(),
        )
        .unwrap();
        raw.flush().unwrap();
    }
    assert!(!rows_with(&schema, "Schiappacasse").is_empty(), "written in clear");
    let data = tempfile::tempdir().unwrap();
    let (sealed, backup) = open_postgres(schema.open(), data.path()).unwrap();
    let backup = backup.expect("sealed at this open");
    assert_eq!(backup, pre_sealing_backup(data.path()));
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(&backup).unwrap();
        assert_eq!(meta.permissions().mode() & 0o077, 0, "the backup is its owner's only");
        let bytes = std::fs::read(&backup).unwrap();
        let hex: String = "Schiappacasse".bytes().map(|b| format!("{b:02x}")).collect();
        assert!(
            contains(&bytes, hex.as_bytes()),
            "the backup holds the tables as they were"
        );
    }
    for needle in ["Schiappacasse", "393471239901", "3471239901"] {
        assert_eq!(
            rows_with(&schema, needle),
            Vec::<String>::new(),
            "{needle} left in clear"
        );
    }
    assert_eq!(
        sealed.citizen(&key).unwrap().unwrap().fields["full_name"],
        "Ermenegilda Schiappacasse"
    );
    assert_eq!(sealed.citizens("assemini").unwrap()[0].0, key, "listed by number again");
    drop(sealed);
    let (again, backup) = open_postgres(schema.open(), data.path()).unwrap();
    assert!(backup.is_none(), "sealed once");
    assert!(again.citizen(&key).unwrap().is_some());
}

/// Two processes starting together on a database written in clear seal it once: both read
/// every citizen afterwards, and no row is left in clear.
#[test]
fn two_processes_opening_a_clear_database_at_once_seal_it_once() {
    let Some(url) = test_database_url() else { return };
    let schema = TestSchema::new(&url, "sealrace");
    let keys: Vec<CitizenKey> = (0..20)
        .map(|i| CitizenKey::new("isili", "whatsapp", &format!("39347123{i:04}")))
        .collect();
    {
        let raw = schema.open();
        for (i, key) in keys.iter().enumerate() {
            raw.put_citizen(key, &citizen(&format!("Bonaventura Zappacosta{i}")))
                .unwrap();
        }
        raw.flush().unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    // The same master key for both (the generated one, made before they start).
    sportello::storage::sealed::master_key(data.path()).unwrap();
    let opened: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| s.spawn(|| open_postgres(schema.open(), data.path()).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sealings = opened.iter().filter(|(_, backup)| backup.is_some()).count();
    assert!(sealings <= 1, "sealed {sealings} times");
    for (store, _) in &opened {
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(
                store.citizen(key).unwrap().unwrap().fields["full_name"],
                format!("Bonaventura Zappacosta{i}")
            );
        }
    }
    assert_eq!(rows_with(&schema, "Zappacosta"), Vec::<String>::new());
}

/// Two processes share the keyring: a citizen has one key whichever seals first, an
/// erasure by one is seen by the other at once (no record, no key, and a citizen writing
/// again gets a new key), and a key the erasure destroyed opens nothing for either.
#[test]
fn two_processes_share_one_key_a_citizen_and_see_each_others_erasures() {
    let Some(url) = test_database_url() else { return };
    let schema = TestSchema::new(&url, "sharedring");
    let data = tempfile::tempdir().unwrap();
    let (a, _) = open_postgres(schema.open(), data.path()).unwrap();
    let (b, _) = open_postgres(schema.open(), data.path()).unwrap();
    let key = CitizenKey::new("brusson", "whatsapp", "393471239902");
    a.put_citizen(&key, &citizen("Oddone Brunod")).unwrap();
    b.put_citizen(&key, &citizen("Oddone Brunod")).unwrap();
    let p = a.keyring().pseudonym("brusson", "whatsapp", "393471239902");
    let slot = a.keyring().slot_of(&p).unwrap().expect("a live key");
    assert_eq!(b.keyring().slot_of(&p).unwrap(), Some(slot), "one key, shared");
    assert_eq!(a.keyring().counts().unwrap(), (1, 0));
    // Each opens what the other sealed (b's cache holds the key already).
    assert_eq!(a.citizen(&key).unwrap().unwrap().fields["full_name"], "Oddone Brunod");
    assert_eq!(b.citizen(&key).unwrap().unwrap().fields["full_name"], "Oddone Brunod");

    a.scrub_citizen(&key, false).unwrap();
    a.flush().unwrap();
    assert_eq!(b.citizen(&key).unwrap(), None, "erased for the other process too");
    assert_eq!(b.keyring().slot_of(&p).unwrap(), None);
    assert_eq!(b.keyring().counts().unwrap(), (0, 1));
    // Coming back through the other process: a new key, not the destroyed one.
    b.put_citizen(&key, &citizen("Oddone Brunod")).unwrap();
    let again = b.keyring().slot_of(&p).unwrap().expect("a new key");
    assert_ne!(again, slot);
    assert_eq!(a.citizen(&key).unwrap().unwrap().fields["full_name"], "Oddone Brunod");
    assert_eq!(a.keyring().open_slot(slot).unwrap().map(|o| o.slot), None, "destroyed");
}

/// Rotating the master key of a database's keyring: every citizen still reads whole with
/// the new key, the old one is refused, and pseudonyms (so store keys) do not change.
#[test]
fn rotating_the_master_key_on_postgres_keeps_every_citizen_and_refuses_the_old_key() {
    let Some(url) = test_database_url() else { return };
    let schema = TestSchema::new(&url, "rotate");
    let data = tempfile::tempdir().unwrap();
    let key = CitizenKey::new("madone", "telegram", "55501234");
    let (store, _) = open_postgres(schema.open(), data.path()).unwrap();
    store.put_citizen(&key, &citizen("Giacomina Locatelli")).unwrap();
    store.flush().unwrap();
    let before = store.keyring().pseudonym("madone", "telegram", "55501234");
    drop(store);

    let old = std::fs::read_to_string(data.path().join("master.key")).unwrap();
    let ring = Keyring::over(Box::new(schema.open().keyring_slots()), Master::from_hex(&old).unwrap()).unwrap();
    let next = Master::generate_hex();
    let ring = ring.rotate(Master::from_hex(&next).unwrap()).unwrap();
    assert_eq!(ring.pseudonym("madone", "telegram", "55501234"), before);
    drop(ring);
    let refused = Keyring::over(Box::new(schema.open().keyring_slots()), Master::from_hex(&old).unwrap());
    assert!(refused.is_err(), "the old master key opens nothing");

    // The data directory's key replaced by the new one, as `keyring rotate --to` leaves it
    // for the operator to put in place.
    std::fs::remove_file(data.path().join("master.key")).unwrap();
    sportello::storage::sealed::write_master_key(&data.path().join("master.key"), &next).unwrap();
    let (store, _) = open_postgres(schema.open(), data.path()).unwrap();
    assert_eq!(
        store.citizen(&key).unwrap().unwrap().fields["full_name"],
        "Giacomina Locatelli"
    );
    assert!(store.pending_inbound().unwrap().is_empty());
}
