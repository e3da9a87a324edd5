//! One storage test suite, run against every backend (sled, memory; PostgreSQL later).

use jiff::Timestamp;
use sportello::channel::{Channel, DeliveryStatus, InboundMessage};
use sportello::dialogue::{Body, Citizen, State};
use sportello::i18n::Rendered;
use sportello::storage::keys::{inbound_key, sent_key};
use sportello::storage::{
    Account, Author, CitizenKey, Conversation, ConversationStatus, InboundEntry, LedgerEntry, LedgerKind, Line,
    MemoryStore, OutboundEntry, Role, SentEntry, Session, SledStore, StepEffects, Store, Wrote,
};

fn now() -> Timestamp {
    "2026-11-23T09:00:00Z".parse().unwrap()
}

fn inbound(key: &CitizenKey, id: &str, at: Timestamp) -> InboundEntry {
    InboundEntry {
        key: key.clone(),
        message: Some(InboundMessage {
            channel: Channel::Whatsapp,
            route: "106540352242922".into(),
            from: key.citizen.clone(),
            id: id.into(),
            timestamp: at.as_second(),
            body: Body::Text {
                text: "Sì, è già così".into(),
            },
            callback_id: None,
        }),
        received_at: at,
        done: false,
    }
}

fn reply(key: &CitizenKey, text: &str) -> OutboundEntry {
    OutboundEntry {
        key: key.clone(),
        channel: Channel::Whatsapp,
        route: "106540352242922".into(),
        to: key.citizen.clone(),
        rendered: Rendered {
            key: "subscribed".into(),
            text: text.into(),
            buttons: vec![],
        },
        language: "it".into(),
        created_at: now(),
        callback_id: None,
        in_flight: false,
    }
}

fn suite(store: &dyn Store) {
    let a = CitizenKey::new("isili", "whatsapp", "393330000001");
    let b = CitizenKey::new("isili", "telegram", "42");
    let other = CitizenKey::new("madone", "whatsapp", "393330000001");

    // Citizens: absent, written, listed per comune, removed.
    assert_eq!(store.citizen(&a).unwrap(), None);
    let mut c = Citizen::new(now());
    c.state = State::Subscribed;
    c.fields.insert("full_name".into(), "Nicolò Pià".into());
    store.put_citizen(&a, &c).unwrap();
    store.put_citizen(&b, &Citizen::new(now())).unwrap();
    store.put_citizen(&other, &Citizen::new(now())).unwrap();
    assert_eq!(store.citizen(&a).unwrap(), Some(c.clone()));
    let isili: Vec<CitizenKey> = store.citizens("isili").unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(isili.len(), 2);
    assert!(isili.contains(&a) && isili.contains(&b));
    store.remove_citizen(&b).unwrap();
    assert_eq!(store.citizen(&b).unwrap(), None);
    assert!(store
        .put_citizen(&CitizenKey::new("isili", "whatsapp", "a\0b"), &c)
        .is_err());

    // Inbound journal: recorded once, duplicates refused, pending in arrival order.
    let k1 = inbound_key("whatsapp", "106540352242922", "wamid.1");
    let k2 = inbound_key("whatsapp", "106540352242922", "wamid.2");
    assert!(store
        .record_inbound(&k2, &inbound(&a, "wamid.2", now() + jiff::SignedDuration::from_secs(5)))
        .unwrap());
    assert!(store.record_inbound(&k1, &inbound(&a, "wamid.1", now())).unwrap());
    assert!(
        !store.record_inbound(&k1, &inbound(&a, "wamid.1", now())).unwrap(),
        "a redelivery must be refused"
    );
    let pending = store.pending_inbound().unwrap();
    assert_eq!(
        pending.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        vec![k1.clone(), k2.clone()]
    );

    // One step, atomically: inbound done (text dropped), citizen written, replies queued,
    // and its effects: a ledger entry, a counter, what the citizen wrote to the desk.
    let consent = LedgerEntry {
        comune: "isili".into(),
        channel: "whatsapp".into(),
        citizen: Some(a.citizen.clone()),
        kind: LedgerKind::Consent,
        consent: "privacy".into(),
        notice_version: "2024-01".into(),
        notice_sha256: "ab".repeat(32),
        at: now(),
        message_id: "wamid.1".into(),
        how: "keyword".into(),
    };
    let ledger_before = store.ledger("isili").unwrap().len();
    let effects = StepEffects {
        ledger: vec![consent.clone()],
        counters: vec![("2026-11".into(), "signup".into())],
        wrote: Some(Wrote {
            route: "106540352242922".into(),
            text: "Quando apre l'ufficio?".into(),
            deadline: Some(now() + jiff::SignedDuration::from_hours(48)),
            at: now(),
        }),
        ..StepEffects::default()
    };
    let ids = store
        .commit_step(Some(&k1), &a, Some(&c), &[reply(&a, "uno"), reply(&a, "due")], &effects)
        .unwrap();
    let ledger = store.ledger("isili").unwrap();
    assert_eq!(ledger.len(), ledger_before + 1);
    assert_eq!(ledger.last().unwrap().1, consent);
    assert!(store
        .counters("isili")
        .unwrap()
        .contains(&("2026-11".into(), "signup".into(), 1)));
    let conv = store
        .conversation(&a)
        .unwrap()
        .expect("the question opened a conversation");
    assert_eq!(conv.status, ConversationStatus::Waiting);
    assert_eq!(conv.lines.last().unwrap().text, "Quando apre l'ufficio?");
    assert_eq!(conv.deadline, Some(now() + jiff::SignedDuration::from_hours(48)));
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1], "outbox ids keep the order of the replies");
    assert_eq!(store.pending_inbound().unwrap().len(), 1);
    assert!(
        !store.record_inbound(&k1, &inbound(&a, "wamid.1", now())).unwrap(),
        "a processed id is still a duplicate"
    );
    let out = store.pending_outbound().unwrap();
    assert_eq!(
        out.iter().map(|(_, e)| e.rendered.text.as_str()).collect::<Vec<_>>(),
        ["uno", "due"]
    );
    assert_eq!(store.outbound_entry(ids[1]).unwrap().unwrap().rendered.text, "due");
    // The in-flight mark (at most once: see server::sender) is set and cleared in place,
    // and never writes back an entry that left the outbox.
    assert!(!out[0].1.in_flight);
    assert!(store.mark_outbound(ids[0], true).unwrap().unwrap().in_flight);
    assert!(store.outbound_entry(ids[0]).unwrap().unwrap().in_flight);
    assert!(!store.outbound_entry(ids[1]).unwrap().unwrap().in_flight);
    assert!(!store.mark_outbound(ids[0], false).unwrap().unwrap().in_flight);
    assert!(!store.pending_outbound().unwrap()[0].1.in_flight);
    store.outbound_done(ids[0]).unwrap();
    assert_eq!(store.pending_outbound().unwrap().len(), 1);
    assert_eq!(store.mark_outbound(ids[0], true).unwrap(), None);
    assert_eq!(store.pending_outbound().unwrap().len(), 1);

    // A step that erases the citizen: marked until the scrub finishes (a crash in between
    // leaves the mark, and the scrub runs again at start).
    assert!(store.unfinished_erasures().unwrap().is_empty());
    let erase = StepEffects {
        erase: true,
        ..StepEffects::default()
    };
    store.commit_step(Some(&k2), &a, None, &[], &erase).unwrap();
    assert_eq!(store.citizen(&a).unwrap(), None);
    assert!(store.pending_inbound().unwrap().is_empty());
    assert_eq!(store.unfinished_erasures().unwrap(), vec![a.clone()]);
    store.scrub_citizen(&a, true).unwrap();
    assert!(store.unfinished_erasures().unwrap().is_empty());
    assert!(
        store.conversation(&a).unwrap().is_none(),
        "the scrub removed the conversation"
    );
    assert!(store.ledger("isili").unwrap().iter().all(|(_, e)| e.citizen.is_none()));

    // Pruning forgets old processed ids only.
    let k3 = inbound_key("whatsapp", "106540352242922", "wamid.3");
    store.record_inbound(&k3, &inbound(&a, "wamid.3", now())).unwrap();
    let removed = store
        .prune_inbound(now() + jiff::SignedDuration::from_secs(3600))
        .unwrap();
    assert_eq!(removed, 2, "the two processed ids, not the pending one");
    assert!(store.record_inbound(&k1, &inbound(&a, "wamid.1", now())).unwrap());

    // Delivery records of sent messages.
    let sk = sent_key("whatsapp", "wamid.out.1");
    assert_eq!(store.sent(&sk).unwrap(), None);
    let mut sent = SentEntry {
        key: a.clone(),
        sent_at: now(),
        status: DeliveryStatus::Sent,
        updated_at: now(),
        errors: vec![],
    };
    store.put_sent(&sk, &sent).unwrap();
    sent.apply(DeliveryStatus::Delivered, &[], now());
    store.put_sent(&sk, &sent).unwrap();
    assert_eq!(store.sent(&sk).unwrap().unwrap().status, DeliveryStatus::Delivered);

    // Staff accounts (e-mail case does not matter), sessions, conversations.
    let account = Account {
        email: "urp@comune.assemini.ca.it".into(),
        role: Role::Operator,
        comuni: vec!["assemini".into()],
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$x$y".into(),
        failed_logins: 0,
        locked_until: None,
        created_at: now(),
        language: "it".into(),
    };
    store.put_account(&account).unwrap();
    assert_eq!(
        store.account("URP@comune.assemini.ca.it").unwrap(),
        Some(account.clone())
    );
    assert!(account.may("assemini") && !account.may("isili"));
    assert_eq!(store.accounts().unwrap().len(), 1);
    let session = Session {
        email: account.email.clone(),
        csrf: "c".into(),
        created_at: now(),
        expires_at: now(),
    };
    store.put_session("abc123", &session).unwrap();
    assert_eq!(store.session("abc123").unwrap(), Some(session));
    store.remove_session("abc123").unwrap();
    assert_eq!(store.session("abc123").unwrap(), None);
    let conv = Conversation {
        key: b.clone(),
        route: "assemini".into(),
        status: ConversationStatus::Waiting,
        opened_at: now(),
        deadline: None,
        last_activity: now(),
        lines: vec![Line {
            at: now(),
            author: Author::Citizen,
            text: "Orari dell'anagrafe?".into(),
        }],
    };
    store.put_conversation(&conv).unwrap();
    assert_eq!(store.conversation(&b).unwrap(), Some(conv));
    assert_eq!(store.conversations("isili").unwrap().len(), 1);
    assert!(store.conversations("madone").unwrap().is_empty());
    store.scrub_citizen(&b, false).unwrap();
    assert_eq!(
        store.conversation(&b).unwrap(),
        None,
        "erasing a citizen erases their conversation"
    );
    store.remove_account(&account.email).unwrap();
    assert!(store.accounts().unwrap().is_empty());
    store.flush().unwrap();
}

#[test]
fn memory_backend() {
    suite(&MemoryStore::new());
}

#[test]
fn sled_backend() {
    let dir = tempfile::tempdir().unwrap();
    suite(&SledStore::open(dir.path()).unwrap());
}

#[test]
fn sled_keeps_everything_across_a_reopen_and_is_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let a = CitizenKey::new("brusson", "whatsapp", "393330000009");
    {
        let store = SledStore::open(&data).unwrap();
        store.put_citizen(&a, &Citizen::new(now())).unwrap();
        store
            .commit_step(
                None,
                &a,
                Some(&Citizen::new(now())),
                &[reply(&a, "ciao")],
                &StepEffects::default(),
            )
            .unwrap();
        store.flush().unwrap();
    }
    let store = SledStore::open(&data).unwrap();
    assert!(store.citizen(&a).unwrap().is_some());
    assert_eq!(store.pending_outbound().unwrap().len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}

/// The console's overlays (FAQ edits, closures) and the sessions listing, on every backend.
fn overlay_suite(store: &dyn Store) {
    use sportello::faq::Entry;
    use sportello::storage::{ClosureEdit, FaqEdit};
    let edit = |id: &str, lang: &str, answer: Option<&str>| FaqEdit {
        id: id.into(),
        lang: lang.into(),
        entry: answer.map(|a| Entry {
            id: id.into(),
            lang: lang.into(),
            questions: vec!["quando siete aperti".into()],
            answer: a.into(),
            link: None,
            placeholder: false,
        }),
        at: now(),
    };
    store
        .put_faq_edit("brusson", &edit("orari", "it", Some("9-12")))
        .unwrap();
    store
        .put_faq_edit("brusson", &edit("orari", "fr", Some("9h-12h")))
        .unwrap();
    store
        .put_faq_edit("brusson", &edit("orari", "it", Some("9-13")))
        .unwrap();
    store.put_faq_edit("brusson", &edit("tasse", "it", None)).unwrap();
    store.put_faq_edit("brussonx", &edit("orari", "it", None)).unwrap();
    let edits = store.faq_edits("brusson").unwrap();
    assert_eq!(edits.len(), 3, "one record per entry and language, prefix exact");
    // Key order: entry id, then language.
    assert_eq!((edits[0].lang.as_str(), edits[2].id.as_str()), ("fr", "tasse"));
    assert_eq!(
        edits[1].entry.as_ref().unwrap().answer,
        "9-13",
        "the later edit replaces"
    );
    assert!(store.put_faq_edit("", &edit("orari", "it", None)).is_err());

    let closure = |date: &str, removed| ClosureEdit {
        date: date.into(),
        note: "Delibera n. 3".into(),
        removed,
        at: now(),
    };
    store.put_closure("isili", &closure("2026-12-24", false)).unwrap();
    store.put_closure("isili", &closure("2026-12-07", false)).unwrap();
    store.put_closure("isili", &closure("2026-12-24", true)).unwrap();
    let closures = store.closures("isili").unwrap();
    assert_eq!(closures.len(), 2);
    assert_eq!((closures[0].date.as_str(), closures[1].removed), ("2026-12-07", true));
    assert!(store.closures("madone").unwrap().is_empty());

    let session = |email: &str| Session {
        email: email.into(),
        csrf: "c".into(),
        created_at: now(),
        expires_at: now(),
    };
    store.put_session("k1", &session("a@x.it")).unwrap();
    store.put_session("k2", &session("b@x.it")).unwrap();
    let mut all = store.sessions().unwrap();
    all.retain(|(k, _)| k == "k1" || k == "k2");
    assert_eq!(all.len(), 2);
    assert_eq!(all.iter().find(|(k, _)| k == "k2").unwrap().1.email, "b@x.it");
}

#[test]
fn memory_backend_overlays() {
    overlay_suite(&MemoryStore::new());
}

#[test]
fn sled_backend_overlays() {
    let dir = tempfile::tempdir().unwrap();
    overlay_suite(&SledStore::open(dir.path()).unwrap());
}
