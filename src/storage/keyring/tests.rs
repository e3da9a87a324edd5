use super::*;

fn master() -> Master {
    Master::from_hex(&Master::generate_hex()).unwrap()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_destroyed_key_is_gone_from_the_file_and_its_sealed_data_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(dir.path());
    let hex = Master::generate_hex();
    let ring = Keyring::open(&path, Master::from_hex(&hex).unwrap()).unwrap();
    let (pa, pb) = (
        ring.pseudonym("brusson", "whatsapp", "393471234567"),
        ring.pseudonym("brusson", "whatsapp", "393479999999"),
    );
    let a = ring.ensure(&pa, "393471234567").unwrap();
    let b = ring.ensure(&pb, "393479999999").unwrap();
    assert_eq!((a, b, ring.slots().unwrap()), (0, 1, 2));
    assert_eq!(ring.ensure(&pa, "393471234567").unwrap(), a, "one slot a citizen");
    let (key_a, key_b) = (ring.open_slot(a).unwrap().unwrap(), ring.open_slot(b).unwrap().unwrap());
    assert_eq!(key_a.id, "393471234567");
    let sealed = seal(&key_a, "393471234567 Grazia Deledda".as_bytes());
    assert!(!contains(&sealed, b"393471234567"), "sealed, not in clear");
    assert_eq!(open(&key_a, &sealed).unwrap(), b"393471234567 Grazia Deledda");
    assert!(open(&key_b, &sealed).is_none(), "another citizen's key opens nothing");
    // The keyring file never holds a key or an id in clear.
    let raw = std::fs::read(&path).unwrap();
    assert!(!contains(&raw, b"393471234567") && !contains(&raw, b"3471234567"));
    assert!(!contains(&raw, &ring.unwrapped_key(a).unwrap()));
    ring.destroy(a).unwrap();
    ring.sync().unwrap();
    assert!(ring.open_slot(a).unwrap().is_none());
    assert!(ring.slot_of(&pa).unwrap().is_none());
    assert_eq!(
        ring.open_slot(b).unwrap().unwrap().id,
        "393479999999",
        "the others stay"
    );
    // On the disk: the state and the pseudonym, zeros everywhere else; after a reopen too.
    let raw = std::fs::read(&path).unwrap();
    let slot = &raw[HEADER..HEADER + SLOT];
    assert_eq!((slot[0], &slot[1..17]), (ERASED, pa.as_slice()));
    assert!(slot[17..].iter().all(|b| *b == 0));
    drop(ring);
    let ring = Keyring::open(&path, Master::from_hex(&hex).unwrap()).unwrap();
    assert!(ring.open_slot(a).unwrap().is_none());
    assert!(ring.open_slot(b).unwrap().is_some());
    assert_eq!(ring.erased().unwrap(), vec![pa], "the erased pseudonym is kept");
    assert_eq!(ring.counts().unwrap(), (1, 1));
    // The same citizen coming back gets a new key: the old one stays destroyed.
    let again = ring.ensure(&pa, "393471234567").unwrap();
    assert_eq!(again, 2);
    assert!(open(&ring.open_slot(again).unwrap().unwrap(), &sealed).is_none());
    assert!(matches!(ring.open_slot(7), Err(KeyringError::NoSlot(7))));
}

#[test]
fn a_slot_marked_to_wait_for_its_replies_is_listed_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(dir.path());
    let hex = Master::generate_hex();
    let ring = Keyring::open(&path, Master::from_hex(&hex).unwrap()).unwrap();
    let p = ring.pseudonym("isili", "telegram", "123456789");
    let slot = ring.ensure(&p, "123456789").unwrap();
    ring.erase_after_replies(slot).unwrap();
    assert!(ring.open_slot(slot).unwrap().is_some(), "still opens the goodbye");
    assert_eq!(ring.slot_of(&p).unwrap(), None, "the citizen has no key any more");
    drop(ring);
    let ring = Keyring::open(&path, Master::from_hex(&hex).unwrap()).unwrap();
    assert_eq!(ring.awaiting_replies().unwrap(), vec![(slot, p)]);
    assert_eq!(ring.slot_of(&p).unwrap(), None);
    // Writing again (a new subscription before the goodbye went) gets a new key.
    assert_eq!(ring.ensure(&p, "123456789").unwrap(), slot + 1);
    ring.destroy(slot).unwrap();
    assert!(ring.awaiting_replies().unwrap().is_empty());
}

#[test]
fn the_master_key_is_checked_rotated_and_read_only_from_a_private_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(dir.path());
    let first = Master::generate_hex();
    let ring = Keyring::open(&path, Master::from_hex(&first).unwrap()).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let p = ring.pseudonym("brusson", "whatsapp", "393471234567");
    let a = ring.ensure(&p, "393471234567").unwrap();
    let sealed = seal(&ring.open_slot(a).unwrap().unwrap(), b"Grazia");
    let b = ring.ensure(&ring.pseudonym("brusson", "whatsapp", "1"), "1").unwrap();
    ring.destroy(b).unwrap();
    drop(ring);
    assert!(matches!(
        Keyring::open(&path, master()),
        Err(KeyringError::WrongMaster(_))
    ));
    // Rotation: the same slots and pseudonyms under a new master key; the old one opens
    // nothing, and what was sealed before still opens.
    let second = Master::generate_hex();
    let ring = Keyring::open(&path, Master::from_hex(&first).unwrap()).unwrap();
    let ring = ring.rotate(Master::from_hex(&second).unwrap()).unwrap();
    let opened = ring.open_slot(a).unwrap().unwrap();
    assert_eq!(
        (opened.id.as_str(), open(&opened, &sealed).unwrap()),
        ("393471234567", b"Grazia".to_vec())
    );
    assert_eq!(
        ring.pseudonym("brusson", "whatsapp", "393471234567"),
        p,
        "pseudonyms stay"
    );
    assert!(ring.open_slot(b).unwrap().is_none(), "an erased slot stays erased");
    drop(ring);
    assert!(Keyring::open(&path, Master::from_hex(&first).unwrap()).is_err());
    assert!(Keyring::open(&path, Master::from_hex(&second).unwrap()).is_ok());
    // The master key from a file: refused unless only its owner may read it.
    let file = dir.path().join("master.key");
    std::fs::write(&file, &second).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(Master::from_file(&file), Err(KeyringError::MasterFileOpen(_))));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(Master::from_file(&file).is_ok());
    assert!(matches!(Master::from_hex("abc"), Err(KeyringError::BadMaster)));
    // Pseudonyms differ by comune and under another keyring's pepper.
    let other = Keyring::open(&dir.path().join("other-ring"), master()).unwrap();
    assert_ne!(p, other.pseudonym("brusson", "whatsapp", "393471234567"));
    let ring = Keyring::open(&path, Master::from_hex(&second).unwrap()).unwrap();
    assert_ne!(p, ring.pseudonym("isili", "whatsapp", "393471234567"));
    // Not a keyring at all.
    let junk = dir.path().join("junk");
    std::fs::write(
        &junk,
        b"hello, this is not a keyring at all, not at all, no, not at all, never",
    )
    .unwrap();
    assert!(matches!(
        Keyring::open(&junk, master()),
        Err(KeyringError::NotAKeyring(_))
    ));
}

#[test]
fn the_file_grows_ahead_by_slots_of_zeros_and_a_reopen_hands_out_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(dir.path());
    let hex = Master::generate_hex();
    let ring = Keyring::open(&path, Master::from_hex(&hex).unwrap()).unwrap();
    let ids: Vec<String> = (0..=GROW).map(|i| format!("39347{i:07}")).collect();
    let mut slots = Vec::new();
    for id in &ids {
        slots.push(ring.ensure(&ring.pseudonym("isili", "whatsapp", id), id).unwrap());
    }
    assert_eq!(slots, (0..=GROW).collect::<Vec<_>>());
    ring.destroy(3).unwrap();
    ring.sync().unwrap();
    // Two growths, each of GROW slots; what was not handed out is zeros.
    let raw = std::fs::read(&path).unwrap();
    assert_eq!(raw.len(), HEADER + 2 * GROW as usize * SLOT);
    assert!(raw[HEADER + (GROW as usize + 1) * SLOT..].iter().all(|b| *b == 0));
    assert_eq!(ring.counts().unwrap(), (GROW as usize, 1));
    drop(ring);
    let ring = Keyring::open(&path, Master::from_hex(&hex).unwrap()).unwrap();
    assert_eq!(ring.slots().unwrap(), GROW + 1, "the zeros are not slots");
    assert_eq!(ring.counts().unwrap(), (GROW as usize, 1));
    assert_eq!(ring.open_slot(GROW).unwrap().unwrap().id, ids[GROW as usize]);
    let next = ring.ensure(&ring.pseudonym("isili", "whatsapp", "393339999999"), "393339999999");
    assert_eq!(
        next.unwrap(),
        GROW + 1,
        "a reopened keyring never hands out a slot twice"
    );
    assert!(matches!(ring.open_slot(GROW + 2), Err(KeyringError::NoSlot(_))));
}

/// The slots waiting for their last reply are kept in the file's index (issue 26: found
/// without reading a million slots at start and at every erasure); the index agrees with
/// the file after marks, erasures and a reopen, and with a full scan.
#[test]
fn slots_waiting_for_their_last_reply_are_found_from_the_index_as_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(dir.path());
    let hex = Master::generate_hex();
    let ring = Keyring::open(&path, Master::from_hex(&hex).unwrap()).unwrap();
    let p: Vec<Pseudonym> = (0..5)
        .map(|i| ring.pseudonym("madone", "whatsapp", &format!("39347000000{i}")))
        .collect();
    let slots: Vec<u32> = p
        .iter()
        .enumerate()
        .map(|(i, p)| ring.ensure(p, &format!("39347000000{i}")).unwrap())
        .collect();
    ring.erase_after_replies(slots[1]).unwrap();
    ring.erase_after_replies(slots[3]).unwrap();
    ring.destroy(slots[4]).unwrap();
    let from_scan = |ring: &Keyring| -> Vec<(u32, Pseudonym)> {
        ring.slots
            .scan()
            .unwrap()
            .into_iter()
            .filter(|(_, _, s)| *s == ERASE_AFTER_REPLIES)
            .map(|(slot, p, _)| (slot, p))
            .collect()
    };
    let expected = vec![(slots[1], p[1]), (slots[3], p[3])];
    assert_eq!(ring.awaiting_replies().unwrap(), expected);
    assert_eq!(from_scan(&ring), expected);
    assert_eq!(ring.awaiting_slot(&p[3]).unwrap(), Some(slots[3]));
    assert_eq!(ring.awaiting_slot(&p[0]).unwrap(), None);
    assert_eq!(ring.counts().unwrap(), (4, 1));
    ring.sync().unwrap();
    drop(ring);
    let ring = Keyring::open(&path, Master::from_hex(&hex).unwrap()).unwrap();
    assert_eq!(ring.awaiting_replies().unwrap(), expected, "after a reopen");
    ring.destroy(slots[1]).unwrap();
    assert_eq!(ring.awaiting_replies().unwrap(), vec![(slots[3], p[3])]);
    assert_eq!(from_scan(&ring), vec![(slots[3], p[3])]);
    assert_eq!(ring.erased().unwrap(), vec![p[1], p[4]]);
    assert_eq!(ring.counts().unwrap(), (3, 2));
}
