use super::*;
use crate::channel::Channel;
use crate::i18n::Rendered;
use crate::storage::records::Citizen;
use crate::storage::{CitizenStore, JournalStore, OutboundEntry, SledStore, StepEffects};

fn now() -> jiff::Timestamp {
    "2026-12-07T09:00:00Z".parse().unwrap()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn reply(key: &CitizenKey, text: &str) -> OutboundEntry {
    OutboundEntry {
        key: key.clone(),
        channel: Channel::Whatsapp,
        route: "pn-brusson".into(),
        to: key.citizen.clone(),
        rendered: Rendered {
            key: "goodbye".into(),
            text: text.into(),
            buttons: vec![],
        },
        language: "it".into(),
        created_at: now(),
        callback_id: None,
        in_flight: false,
        owner: None,
    }
}

fn open(dir: &Path) -> Sealed<SledStore> {
    migrate::open_sled(dir).unwrap().0
}

/// Every value of every tree underneath, as bytes.
fn raw(store: &Sealed<SledStore>) -> Vec<u8> {
    let mut out = Vec::new();
    for (_, records) in store.inner().records().unwrap() {
        for (k, v) in records {
            out.extend(k);
            out.extend(v);
        }
    }
    out
}

#[test]
fn records_read_back_whole_while_the_store_underneath_holds_only_pseudonyms_and_sealed_strings() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let key = CitizenKey::new("isili", "whatsapp", "393471234567");
    let mut c = Citizen::new(now());
    c.fields.insert("full_name".into(), "Grazia Deledda".into());
    c.fields.insert("birth_date".into(), "1871-09-27".into());
    c.whatsapp.username = Some("grazia.nuoro".into());
    let effects = StepEffects {
        counters: vec![("2026-12".into(), "subscribed".into())],
        ..StepEffects::default()
    };
    store
        .commit_step(None, &key, Some(&c), &[reply(&key, "Grazie, Grazia Deledda")], &effects)
        .unwrap();
    assert_eq!(store.citizen(&key).unwrap(), Some(c.clone()));
    assert_eq!(store.citizens("isili").unwrap(), vec![(key.clone(), c)]);
    let pending = store.pending_outbound().unwrap();
    assert_eq!(pending[0].1, reply(&key, "Grazie, Grazia Deledda"));
    let bytes = raw(&store);
    for clear in [
        "393471234567",
        "3471234567",
        "Grazia",
        "Deledda",
        "1871-09-27",
        "grazia.nuoro",
    ] {
        assert!(!contains(&bytes, clear), "{clear} is stored in clear");
    }
    let p = keyring::hex(&store.keyring().pseudonym("isili", "whatsapp", "393471234567"));
    assert!(contains(&bytes, &p), "the key is the pseudonym");
}

#[test]
fn a_record_is_sealed_whole_and_one_sealed_string_by_string_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let key = CitizenKey::new("assemini", "whatsapp", "393470000042");
    let mut c = Citizen::new(now());
    c.fields.insert("first_name".into(), "Maria".into());
    c.fields.insert("last_name".into(), String::new());
    c.fields.insert("birth_date".into(), "12/03/1980".into());
    c.whatsapp.username = Some("maria.a".into());
    store.put_citizen(&key, &c).unwrap();
    let hidden = store.hidden_key(&key);
    let under = store.inner().citizen(&hidden).unwrap().unwrap();
    let mut strings = Vec::new();
    let mut visit = under.clone();
    fields::citizen(&mut visit, &mut |s: &mut String| strings.push(s.clone()));
    assert!(
        strings[0].starts_with(RECORD),
        "the first string holds the record's seal"
    );
    assert!(strings[1..].iter().all(String::is_empty), "{strings:?}");
    assert_eq!(store.citizen(&key).unwrap(), Some(c.clone()));

    // The form written before records were sealed whole: each string on its own.
    let opened = store.sealer(&key).unwrap().unwrap();
    let mut old = c.clone();
    fields::citizen(&mut old, &mut |s: &mut String| {
        if !s.is_empty() {
            *s = format!("{SEALED}{}", b64().encode(keyring::seal(&opened, s.as_bytes())));
        }
    });
    store.inner().put_citizen(&hidden, &old).unwrap();
    assert_eq!(store.citizen(&key).unwrap(), Some(c.clone()));

    // Once the key is destroyed, neither form opens: every string reads empty.
    store.scrub_citizen(&key, false).unwrap();
    let mut gone = Sealed::opened(&store, old, fields::citizen);
    fields::citizen(&mut gone, &mut |s: &mut String| assert_eq!(s, ""));
    let mut gone = Sealed::opened(&store, under, fields::citizen);
    fields::citizen(&mut gone, &mut |s: &mut String| assert_eq!(s, ""));
}

#[test]
fn a_conversation_grown_underneath_from_what_the_citizen_wrote_opens_whole() {
    use crate::storage::{StaffStore, Wrote};
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let key = CitizenKey::new("isili", "whatsapp", "393470000077");
    let wrote = |text: &str, replies: &[&str], handoff: bool| StepEffects {
        wrote: Some(Wrote {
            route: "pn-isili".into(),
            text: text.into(),
            deadline: None,
            at: now(),
            replies: replies.iter().map(|r| r.to_string()).collect(),
            handoff,
        }),
        ..StepEffects::default()
    };
    let step = |fx: &StepEffects| store.commit_step(None, &key, None, &[], fx).unwrap();
    step(&wrote(
        "Vorrei parlare con una persona",
        &["La passo a un operatore"],
        true,
    ));
    // The console writes the conversation back whole (sealed as one value)...
    let mut conv = store.conversation(&key).unwrap().unwrap();
    conv.lines[0].sent = Some("wamid.operator.1".into());
    store.put_conversation(&conv).unwrap();
    // ...and the store underneath appends the next lines to it.
    step(&wrote(
        "Sono Grazia Deledda, di Nuoro",
        &["Grazie", "Un operatore risponderà"],
        false,
    ));
    let texts: Vec<(String, Option<String>)> = store
        .conversation(&key)
        .unwrap()
        .unwrap()
        .lines
        .into_iter()
        .map(|l| (l.text, l.sent))
        .collect();
    let line = |t: &str| (t.to_string(), None);
    assert_eq!(
        texts,
        vec![
            (
                "Vorrei parlare con una persona".to_string(),
                Some("wamid.operator.1".to_string())
            ),
            line(""),
            line("La passo a un operatore"),
            line("Sono Grazia Deledda, di Nuoro"),
            line("Grazie"),
            line("Un operatore risponderà"),
        ],
        "the event line (asked for a person) has no text"
    );
    let bytes = raw(&store);
    for clear in ["Grazia", "Deledda", "Nuoro", "persona", "wamid.operator.1"] {
        assert!(!contains(&bytes, clear), "{clear} is stored in clear");
    }
}

#[test]
fn an_erasure_destroys_the_key_and_a_goodbye_keeps_it_until_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (a, b) = (
        CitizenKey::new("brusson", "whatsapp", "393470000001"),
        CitizenKey::new("brusson", "whatsapp", "393470000002"),
    );
    let c = Citizen::new(now());
    store
        .commit_step(None, &a, Some(&c), &[], &StepEffects::default())
        .unwrap();
    let ids = store
        .commit_step(None, &b, Some(&c), &[reply(&b, "Arrivederci")], &StepEffects::default())
        .unwrap();
    let consent = crate::storage::LedgerEntry {
        comune: "brusson".into(),
        channel: "whatsapp".into(),
        citizen: Some(a.citizen.clone()),
        kind: crate::storage::LedgerKind::Consent,
        consent: "privacy".into(),
        notice_version: "2026-01".into(),
        notice_sha256: "ab".repeat(32),
        at: now(),
        message_id: "wamid.HBgMMzkzNDcwMDAwMDAx".into(),
        how: "keyword".into(),
        pseudonym: None,
    };
    store.append_ledger(&consent).unwrap();
    assert_eq!(store.ledger("brusson").unwrap()[0].1, consent, "reads as written");
    // a: no goodbye pending, the key goes at once.
    store.scrub_citizen(&a, true).unwrap();
    // The anonymous proof: who only as a pseudonym that cannot be reversed without the
    // pepper, the message's id unreadable, the rest as it was.
    let proof = store.ledger("brusson").unwrap()[0].1.clone();
    let pseudonym = keyring::hex(&store.keyring().pseudonym("brusson", "whatsapp", &a.citizen));
    assert_eq!(proof.citizen, None);
    assert_eq!(proof.pseudonym.as_deref(), Some(pseudonym.as_str()));
    assert_eq!(proof.message_id, "");
    assert_eq!(
        (
            proof.notice_version.as_str(),
            proof.notice_sha256.as_str(),
            proof.at,
            proof.how.as_str()
        ),
        ("2026-01", consent.notice_sha256.as_str(), consent.at, "keyword")
    );
    assert_eq!(store.keyring().counts().unwrap(), (1, 1));
    assert_eq!(store.citizen(&a).unwrap(), None);
    // b: the goodbye still opens until it is sent, then the key goes.
    store.scrub_citizen(&b, true).unwrap();
    assert_eq!(store.citizen(&b).unwrap(), None);
    let goodbye = store.outbound_entry(ids[0]).unwrap().unwrap();
    assert_eq!(
        (goodbye.to.as_str(), goodbye.rendered.text.as_str()),
        ("393470000002", "Arrivederci")
    );
    assert_eq!(store.keyring().counts().unwrap(), (1, 1));
    store.outbound_done(ids[0]).unwrap();
    assert_eq!(store.keyring().counts().unwrap(), (0, 2));
    // The same citizen coming back gets a new key; what the old one sealed stays closed.
    store
        .commit_step(None, &a, Some(&c), &[], &StepEffects::default())
        .unwrap();
    assert_eq!(store.keyring().counts().unwrap(), (1, 2));
    assert!(store.citizen(&a).unwrap().is_some());
}

#[test]
fn a_goodbye_sent_before_a_stop_lets_the_next_start_destroy_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = CitizenKey::new("isili", "telegram", "123456789");
    let id = {
        let store = open(dir.path());
        let ids = store
            .commit_step(
                None,
                &key,
                Some(&Citizen::new(now())),
                &[reply(&key, "Addio")],
                &StepEffects::default(),
            )
            .unwrap();
        store.scrub_citizen(&key, true).unwrap();
        // Sent, and removed from the outbox underneath, then the process stops before the
        // key is destroyed.
        store.inner().outbound_done(ids[0]).unwrap();
        crate::storage::Store::flush(&store).unwrap();
        ids[0]
    };
    let store = open(dir.path());
    assert_eq!(store.keyring().counts().unwrap(), (0, 1));
    assert!(store.outbound_entry(id).unwrap().is_none());
}

#[test]
fn a_restored_store_forgets_the_citizens_erased_since_its_backup() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (gone, kept) = (
        CitizenKey::new("assemini", "whatsapp", "393470000001"),
        CitizenKey::new("assemini", "whatsapp", "393470000002"),
    );
    let mut c = Citizen::new(now());
    c.fields.insert("full_name".into(), "Efisio Melis".into());
    for k in [&gone, &kept] {
        store
            .commit_step(None, k, Some(&c), &[], &StepEffects::default())
            .unwrap();
    }
    let backup = store.inner().records().unwrap();
    store.scrub_citizen(&gone, false).unwrap();
    drop(store);
    // The restore writes under the live keyring, which no longer holds `gone`'s key.
    crate::storage::backup::replace_all(&SledStore::open(dir.path()).unwrap(), &backup, 1).unwrap();
    let store = open(dir.path());
    assert_eq!(store.citizen(&gone).unwrap(), None, "its key is gone: not found");
    let erased = store
        .forget_unreadable(store.inner().named_citizens().unwrap())
        .unwrap();
    assert_eq!(erased, 1);
    assert_eq!(
        store.inner().citizens("assemini").unwrap().len(),
        1,
        "the record itself went"
    );
    assert_eq!(store.citizen(&kept).unwrap(), Some(c));
}

#[test]
fn a_keyring_made_with_a_key_from_elsewhere_is_never_given_a_generated_one() {
    let dir = tempfile::tempdir().unwrap();
    // As `serve` leaves it with SPORTELLO_MASTER_KEY set: a keyring, no master.key.
    drop(
        Keyring::open(
            &keyring::path_in(dir.path()),
            Master::from_hex(&Master::generate_hex()).unwrap(),
        )
        .unwrap(),
    );
    let err = master_key(dir.path()).err().expect("refused");
    assert!(err.to_string().contains(MASTER_KEY_ENV), "{err}");
    assert!(!dir.path().join(MASTER_KEY_FILE).exists(), "no stray key written");
}

/// A step of `citizen` at Brusson: a new record, a reply, a ledger entry and the month's
/// `subscribed` counter.
fn step_of(citizen: &str, name: &str) -> crate::storage::StepWrite {
    let key = CitizenKey::new("brusson", "whatsapp", citizen);
    let mut c = Citizen::new(now());
    c.fields.insert("full_name".into(), name.into());
    crate::storage::StepWrite {
        dedupe: None,
        outbound: vec![reply(&key, &format!("Benvenuto, {name}"))],
        effects: StepEffects {
            counters: vec![("2026-12".into(), "subscribed".into())],
            ledger: vec![crate::storage::LedgerEntry {
                comune: key.comune.clone(),
                channel: key.channel.clone(),
                citizen: Some(key.citizen.clone()),
                kind: crate::storage::LedgerKind::Consent,
                consent: "privacy".into(),
                notice_version: "2026-01".into(),
                notice_sha256: "ab".repeat(32),
                at: now(),
                message_id: format!("wamid.{citizen}"),
                how: "keyword".into(),
                pseudonym: None,
            }],
            ..StepEffects::default()
        },
        citizen: Some(c),
        key,
    }
}

/// The records, the replies and the counters a store holds.
type Held = (Vec<Option<Citizen>>, Vec<String>, Vec<(String, String, u64)>);

/// What a store holds of the steps above, to compare two stores.
fn holds(store: &Sealed<SledStore>, citizens: &[&str]) -> Held {
    let records = citizens
        .iter()
        .map(|c| store.citizen(&CitizenKey::new("brusson", "whatsapp", c)).unwrap())
        .collect();
    let replies = store
        .pending_outbound()
        .unwrap()
        .into_iter()
        .map(|(_, e)| format!("{} {}", e.key.citizen, e.rendered.text))
        .collect();
    (records, replies, store.counters("brusson").unwrap())
}

#[test]
fn steps_committed_together_leave_what_they_leave_one_by_one() {
    let citizens = ["393471110001", "393471110002", "393471110003"];
    let names = ["Ada Negri", "Sibilla Aleramo", "Matilde Serao"];
    let steps: Vec<_> = citizens.iter().zip(names).map(|(c, n)| step_of(c, n)).collect();
    let (one, together) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (one, together) = (open(one.path()), open(together.path()));
    for s in &steps {
        s.commit_alone(&one).unwrap();
    }
    let refs: Vec<_> = steps.iter().collect();
    let results = together.commit_steps(&refs);
    let ids: Vec<Vec<u64>> = results.into_iter().map(Result::unwrap).collect();
    assert!(ids.iter().all(|i| i.len() == 1), "{ids:?}");
    assert_eq!(holds(&one, &citizens), holds(&together, &citizens));
    // Three steps counted on one counter within the one transaction: each saw the last.
    let (_, _, counters) = holds(&together, &citizens);
    assert_eq!(counters, vec![("2026-12".into(), "subscribed".into(), 3)]);
    // Sealed underneath as a step alone is.
    assert!(!contains(&raw(&together), "Sibilla"));
    assert!(!contains(&raw(&together), "393471110002"));
}

#[test]
fn a_step_that_cannot_be_written_fails_alone_and_the_others_are_committed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut bad = step_of("393471110005", "Grazia Deledda");
    // A key no store accepts (an empty comune).
    bad.key = CitizenKey::new("", "whatsapp", "393471110005");
    let steps = [
        step_of("393471110004", "Ada Negri"),
        bad,
        step_of("393471110006", "Matilde Serao"),
    ];
    let refs: Vec<_> = steps.iter().collect();
    let results = store.commit_steps(&refs);
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(results[1].is_err(), "{results:?}");
    let (records, replies, counters) = holds(&store, &["393471110004", "393471110006"]);
    assert!(records.iter().all(Option::is_some));
    assert_eq!(replies.len(), 2);
    assert_eq!(counters, vec![("2026-12".into(), "subscribed".into(), 2)]);
    // The same underneath, where the one transaction fails and each step is tried alone.
    let plain = tempfile::tempdir().unwrap();
    let plain = SledStore::open(plain.path()).unwrap();
    let results = plain.commit_steps(&refs);
    assert!(
        results[0].is_ok() && results[1].is_err() && results[2].is_ok(),
        "{results:?}"
    );
    assert_eq!(plain.pending_outbound().unwrap().len(), 2);
}
