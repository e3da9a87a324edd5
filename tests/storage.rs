//! One storage test suite, run against every backend: sled, memory and PostgreSQL.
//!
//! PostgreSQL needs a server: `SPORTELLO_TEST_DATABASE_URL` (a role allowed to create
//! schemas; each run works in a fresh schema of its own, dropped at the end). In CI (`CI`
//! set) a missing URL fails the test; on a developer's machine it is skipped with a loud
//! message. `.ci/run` starts a server and sets it.

use jiff::Timestamp;
use sportello::channel::{Channel, DeliveryStatus, InboundMessage};
use sportello::dialogue::{Body, Citizen, State};
use sportello::i18n::Rendered;
use sportello::moderation::{Rule, Verdict};
use sportello::storage::keys::{inbound_key, sent_key};
use sportello::storage::CitizenStore;
use sportello::storage::JournalStore;
use sportello::storage::StaffStore;
use sportello::storage::{
    Account, AuditEntry, Author, CaseStatus, CitizenKey, Conversation, ConversationStatus, InboundEntry, LedgerEntry,
    LedgerKind, Line, MemoryStore, ModerationCase, OutboundEntry, Role, Scrubbed, SentEntry, Session, SledStore,
    StepEffects, Store, Wrote,
};

use crate::harness::postgres::{test_database_url, TestSchema};

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
            phone: None,
            user_id: None,
            username: None,
        }),
        received_at: at,
        done: false,
        owner: None,
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
        owner: None,
    }
}

fn suite(store: &dyn Store) {
    suite_as(store, false);
}

/// The suite; `sealed`: the store never holds a number or a text in clear, so `mentions`
/// finds nothing even before an erasure (tests/erasure_disk.rs reads its bytes instead).
fn suite_as(store: &dyn Store, sealed: bool) {
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
        pseudonym: None,
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
            replies: vec!["Domanda ricevuta: risponderemo entro due giorni lavorativi.".into()],
            handoff: false,
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
    // The question, then what the bot answered, in the thread staff read.
    let thread: Vec<(&Author, &str)> = conv.lines.iter().map(|l| (&l.author, l.text.as_str())).collect();
    assert_eq!(
        thread,
        [
            (&Author::Citizen, "Quando apre l'ufficio?"),
            (
                &Author::Bot,
                "Domanda ricevuta: risponderemo entro due giorni lavorativi."
            )
        ]
    );
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
        broadcast: None,
        desk: false,
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
        one_time: Some(sportello::storage::OneTime {
            sha256: "ab".repeat(32),
            expires_at: Some(now()),
        }),
        must_change_password: true,
        disabled: true,
        last_login: Some(now()),
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
        lines: vec![Line::new(now(), Author::Citizen, "Orari dell'anagrafe?")],
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
    broadcasts(store);
    records_of_a_comune(store, sealed);
    store.flush().unwrap();
}

/// Issue #5: paged citizens, broadcasts and their outbox entries.
fn broadcasts(store: &dyn Store) {
    use sportello::broadcast::{Broadcast, BroadcastState, Delivery, DeliveryState};
    let c = Citizen::new(now());
    let keys: Vec<CitizenKey> = (0..5)
        .map(|i| CitizenKey::new("brusson", if i < 3 { "telegram" } else { "whatsapp" }, &format!("{i}")))
        .collect();
    for k in &keys {
        store.put_citizen(k, &c).unwrap();
    }
    store
        .put_citizen(&CitizenKey::new("brusson-x", "whatsapp", "9"), &c)
        .unwrap();
    // Pages follow the store's key order: the citizen's id, or their pseudonym when sealed.
    // Either way two pages hold every citizen of the comune once, in the order `citizens`
    // returns them.
    let first = store.citizens_page("brusson", None, 2).unwrap();
    assert_eq!(first.len(), 2);
    let rest = store.citizens_page("brusson", Some(&first[1].0), 10).unwrap();
    let paged: Vec<CitizenKey> = first.iter().chain(&rest).map(|(k, _)| k.clone()).collect();
    let all: Vec<CitizenKey> = store.citizens("brusson").unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(paged, all, "no other comune, none twice");
    let mut sorted = paged.clone();
    sorted.sort();
    assert_eq!(sorted, keys);

    let b = Broadcast {
        comune: "brusson".into(),
        category: Some("info".into()),
        urgent: false,
        texts: [("it".to_string(), "Avviso".to_string())].into(),
        media: None,
        send_at: now(),
        created_at: now(),
        created_by: "test".into(),
        state: BroadcastState::Scheduled,
        recipients: 0,
        started_at: None,
        finished_at: None,
    };
    let id = store.add_broadcast(&b).unwrap();
    let other = store
        .add_broadcast(&Broadcast {
            comune: "madone".into(),
            ..b.clone()
        })
        .unwrap();
    assert!(other > id);
    assert_eq!(store.broadcast(id).unwrap(), Some(b.clone()));
    assert_eq!(store.broadcasts(Some("brusson")).unwrap(), vec![(id, b.clone())]);
    assert_eq!(store.broadcasts(None).unwrap().len(), 2);
    let entries: Vec<(CitizenKey, Delivery)> = keys.iter().map(|k| (k.clone(), Delivery::queued("it"))).collect();
    store.put_deliveries(id, &entries).unwrap();
    store.put_deliveries(other, &entries[..1]).unwrap();
    // In (channel, key) order: within a channel, the citizen's id or (sealed) pseudonym.
    let all = store.deliveries(id, "brusson", None, None, 100).unwrap();
    let channels: Vec<&str> = all.iter().map(|(k, _)| k.channel.as_str()).collect();
    assert_eq!(channels, ["telegram", "telegram", "telegram", "whatsapp", "whatsapp"]);
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(sorted, entries, "every entry once");
    let wa = store.deliveries(id, "brusson", Some("whatsapp"), None, 1).unwrap();
    assert_eq!(wa, all[3..4]);
    let wa = store
        .deliveries(id, "brusson", Some("whatsapp"), Some(&wa[0].0), 10)
        .unwrap();
    assert_eq!(wa, all[4..]);
    assert!(store
        .deliveries(id, "brusson", Some("telegram"), Some(&all[2].0), 10)
        .unwrap()
        .is_empty());
    let mut sent = Delivery::queued("it");
    sent.state = DeliveryState::Sent;
    store.put_deliveries(id, &[(keys[0].clone(), sent.clone())]).unwrap();
    assert_eq!(store.delivery(id, &keys[0]).unwrap(), Some(sent));
    assert_eq!(store.delivery(other, &keys[1]).unwrap(), None);
    // Erasing a citizen removes their outbox entries (the key is their number).
    store.scrub_citizen(&keys[4], false).unwrap();
    assert_eq!(store.delivery(id, &keys[4]).unwrap(), None);
    assert_eq!(store.deliveries(id, "brusson", None, None, 100).unwrap().len(), 4);
    let mut done = b;
    done.state = BroadcastState::Done;
    store.put_broadcast(id, &done).unwrap();
    assert_eq!(store.broadcast(id).unwrap().unwrap().state, BroadcastState::Done);
}

/// Cases, the ledger, the audit log and counters: per comune, oldest first; an erasure
/// removes the citizen from each as documented, and `mentions` finds nothing after it.
fn records_of_a_comune(store: &dyn Store, sealed: bool) {
    let x = CitizenKey::new("brusson", "telegram", "777000111");
    let y = CitizenKey::new("brusson", "telegram", "888000222");
    let case = |key: &CitizenKey, text: &str| ModerationCase {
        key: key.clone(),
        rule: Rule::Vulgar,
        verdict: Verdict::Withhold,
        text: text.into(),
        spans: vec![],
        at: now(),
        blocked: false,
        status: CaseStatus::Pending,
        decided_by: None,
        decided_at: None,
        note: None,
    };
    let c1 = store.add_case(&case(&x, "Zzyzx parolaccia")).unwrap();
    let c2 = store.add_case(&case(&y, "altra parolaccia")).unwrap();
    let c3 = store
        .add_case(&case(&CitizenKey::new("isili", "telegram", "5"), "x"))
        .unwrap();
    assert!(c1 < c2 && c2 < c3, "case ids increase");
    let mut decided = case(&y, "altra parolaccia");
    decided.status = CaseStatus::Dismissed;
    store.put_case(c2, &decided).unwrap();
    assert_eq!(store.case(c2).unwrap(), Some(decided));
    assert_eq!(
        store
            .cases("brusson")
            .unwrap()
            .iter()
            .map(|(id, _)| *id)
            .collect::<Vec<_>>(),
        [c1, c2]
    );

    let entry = |key: &CitizenKey, kind| LedgerEntry {
        comune: key.comune.clone(),
        channel: key.channel.clone(),
        citizen: Some(key.citizen.clone()),
        kind,
        consent: "privacy".into(),
        notice_version: "2026-01".into(),
        notice_sha256: "ab".repeat(32),
        at: now(),
        message_id: "m1".into(),
        how: "keyword".into(),
        pseudonym: None,
    };
    let l1 = store.append_ledger(&entry(&x, LedgerKind::Consent)).unwrap();
    let l2 = store.append_ledger(&entry(&y, LedgerKind::Consent)).unwrap();
    let l3 = store.append_ledger(&entry(&x, LedgerKind::Withdrawal)).unwrap();
    assert_eq!(
        store
            .ledger("brusson")
            .unwrap()
            .iter()
            .map(|(id, _)| *id)
            .collect::<Vec<_>>(),
        [l1, l2, l3]
    );
    assert!(store.ledger("madone").unwrap().is_empty());

    let audit = |comune: &str| AuditEntry {
        at: now(),
        actor: "system".into(),
        comune: comune.into(),
        action: "retention".into(),
        detail: "3 records".into(),
    };
    let a1 = store.append_audit(&audit("brusson")).unwrap();
    let a2 = store.append_audit(&audit("isili")).unwrap();
    assert_eq!(
        store
            .audit(Some("isili"))
            .unwrap()
            .iter()
            .map(|(id, _)| *id)
            .collect::<Vec<_>>(),
        [a2]
    );
    let all: Vec<u64> = store.audit(None).unwrap().iter().map(|(id, _)| *id).collect();
    assert!(all.ends_with(&[a1, a2]));

    store.bump("brusson", "2026-11", "messages", 2).unwrap();
    store.bump("brusson", "2026-11", "messages", 3).unwrap();
    store.bump("brusson", "2026-10", "subscribed", 1).unwrap();
    store.bump("brussonx", "2026-11", "messages", 9).unwrap();
    assert_eq!(
        store.counters("brusson").unwrap(),
        [
            ("2026-10".to_string(), "subscribed".to_string(), 1),
            ("2026-11".to_string(), "messages".to_string(), 5)
        ]
    );

    // Everything of x, then the erasure.
    store.put_citizen(&x, &Citizen::new(now())).unwrap();
    let kx = inbound_key("telegram", "brusson", "upd.1");
    let mut waiting = inbound(&x, "upd.1", now());
    waiting.key = x.clone();
    store.record_inbound(&kx, &waiting).unwrap();
    store
        .commit_step(
            None,
            &x,
            Some(&Citizen::new(now())),
            &[reply(&x, "uno"), reply(&x, "due")],
            &StepEffects::default(),
        )
        .unwrap();
    let sent = SentEntry {
        key: x.clone(),
        sent_at: now(),
        status: DeliveryStatus::Sent,
        updated_at: now(),
        errors: vec![],
        broadcast: None,
        desk: false,
    };
    store.put_sent(&sent_key("telegram", "out.9"), &sent).unwrap();
    if !sealed {
        assert!(!store.mentions("777000111").unwrap().is_empty());
        assert!(!store.mentions("Zzyzx").unwrap().is_empty());
    }
    let scrubbed = store.scrub_citizen(&x, false).unwrap();
    assert_eq!(
        scrubbed,
        Scrubbed {
            citizen: 1,
            journal: 1,
            outbox: 2,
            sent: 1,
            cases: 1,
            ledger: 2
        }
    );
    assert_eq!(store.mentions("777000111").unwrap(), Vec::<String>::new());
    assert_eq!(store.mentions("Zzyzx").unwrap(), Vec::<String>::new());
    if !sealed {
        assert!(!store.mentions("888000222").unwrap().is_empty(), "y is untouched");
    }
    assert!(
        store
            .cases("brusson")
            .unwrap()
            .iter()
            .any(|(_, c)| c.text == "altra parolaccia" && c.key == y),
        "y is untouched"
    );
    let ledger = store.ledger("brusson").unwrap();
    assert_eq!(ledger.len(), 3, "ledger entries stay, anonymized");
    assert_eq!(ledger.iter().filter(|(_, e)| e.citizen.is_none()).count(), 2);
    let anonymous = store.case(c1).unwrap().unwrap();
    assert!(anonymous.text.is_empty() && anonymous.key.citizen.is_empty());
    assert_eq!(
        store.scrub_citizen(&x, false).unwrap(),
        Scrubbed::default(),
        "nothing left"
    );
    assert_eq!(
        store.prune_sent(now() + jiff::SignedDuration::from_secs(1)).unwrap(),
        1,
        "the suite's first delivery record, x's is gone"
    );
}

/// A WhatsApp citizen's other identity (issue 23): found, replaced, and erased with the
/// record it names, never with another's.
fn aliases_suite(store: &dyn Store) {
    let by_phone = CitizenKey::new("brusson", "whatsapp", "393471234567");
    let other = CitizenKey::new("brusson", "whatsapp", "393470000000");
    let bsuid = CitizenKey::new("brusson", "whatsapp", "IT.1502576394655843");
    let newer = CitizenKey::new("brusson", "whatsapp", "IT.2718281828459045");
    let stranger = CitizenKey::new("brusson", "whatsapp", "IT.9");
    assert_eq!(store.alias(&bsuid).unwrap(), None);
    store.put_citizen(&by_phone, &Citizen::new(now())).unwrap();
    store.put_citizen(&other, &Citizen::new(now())).unwrap();
    store.put_alias(&bsuid, &by_phone).unwrap();
    store.put_alias(&newer, &by_phone).unwrap();
    store.put_alias(&stranger, &other).unwrap();
    assert_eq!(store.alias(&bsuid).unwrap(), Some(by_phone.clone()));
    // Another comune's same id is another identity.
    assert_eq!(
        store
            .alias(&CitizenKey::new("isili", "whatsapp", "IT.1502576394655843"))
            .unwrap(),
        None
    );
    store.scrub_citizen(&by_phone, false).unwrap();
    assert_eq!(store.alias(&bsuid).unwrap(), None);
    assert_eq!(store.alias(&newer).unwrap(), None);
    assert_eq!(
        store.alias(&stranger).unwrap(),
        Some(other),
        "another citizen's alias stays"
    );
    let left = store.mentions("IT.1502576394655843").unwrap();
    assert!(!left.iter().any(|t| t == "citizenkey_alias"), "{left:?}");
}

#[test]
fn memory_aliases() {
    aliases_suite(&MemoryStore::new());
}

#[test]
fn sled_aliases() {
    let dir = tempfile::tempdir().unwrap();
    aliases_suite(&SledStore::open(dir.path()).unwrap());
}

#[test]
fn postgres_aliases() {
    let Some(url) = test_database_url() else { return };
    let schema = TestSchema::new(&url, "aliases");
    aliases_suite(&schema.open());
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

/// The same behaviour sealed (`storage::sealed`): keys with numbers and records in clear
/// above, pseudonyms and sealed strings below.
#[test]
fn sealed_sled_backend() {
    let dir = tempfile::tempdir().unwrap();
    let (sealed, _) = sportello::storage::sealed::migrate::open_sled(dir.path()).unwrap();
    suite_as(&sealed, true);
    aliases_suite(&sealed);
    overlay_suite(&sealed);
}

#[test]
fn postgres_backend() {
    let Some(url) = test_database_url() else { return };
    let schema = TestSchema::new(&url, "suite");
    suite(&schema.open());
}

#[test]
fn postgres_keeps_everything_across_a_reopen_and_migrates_once() {
    let Some(url) = test_database_url() else { return };
    let schema = TestSchema::new(&url, "reopen");
    let a = CitizenKey::new("brusson", "whatsapp", "393330000009");
    let first = {
        let store = schema.open();
        store.put_citizen(&a, &Citizen::new(now())).unwrap();
        store
            .commit_step(
                None,
                &a,
                Some(&Citizen::new(now())),
                &[reply(&a, "ciao")],
                &StepEffects::default(),
            )
            .unwrap()
    };
    let store = schema.open();
    assert!(store.citizen(&a).unwrap().is_some());
    assert_eq!(store.pending_outbound().unwrap().len(), 1);
    let again = store
        .commit_step(None, &a, None, &[reply(&a, "ancora")], &StepEffects::default())
        .unwrap();
    assert!(again[0] > first[0], "ids keep increasing across a reopen");
}

#[test]
fn sled_rebuilds_the_ledger_index_of_an_older_store_and_erasure_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let x = CitizenKey::new("brusson", "whatsapp", "393331112223");
    let entry = LedgerEntry {
        comune: x.comune.clone(),
        channel: x.channel.clone(),
        citizen: Some(x.citizen.clone()),
        kind: LedgerKind::Consent,
        consent: "privacy".into(),
        notice_version: "2026-01".into(),
        notice_sha256: "ab".repeat(32),
        at: now(),
        message_id: "m1".into(),
        how: "keyword".into(),
        pseudonym: None,
    };
    {
        let store = SledStore::open(dir.path()).unwrap();
        store.append_ledger(&entry).unwrap();
        store
            .append_ledger(&LedgerEntry {
                citizen: Some("393339999999".into()),
                ..entry.clone()
            })
            .unwrap();
        store.flush().unwrap();
    }
    {
        // A store written before the index existed.
        let db = SledStore::open_raw(dir.path()).unwrap();
        assert!(db.drop_tree(sportello::storage::keys::LEDGER_INDEX_TREE).unwrap());
        db.flush().unwrap();
    }
    let store = SledStore::open(dir.path()).unwrap();
    let scrubbed = store.scrub_citizen(&x, false).unwrap();
    assert_eq!(scrubbed.ledger, 1, "found through the rebuilt index");
    let ledger = store.ledger("brusson").unwrap();
    assert_eq!(ledger[0].1.citizen, None);
    assert_eq!(
        ledger[1].1.citizen.as_deref(),
        Some("393339999999"),
        "another citizen's entry is kept"
    );
    assert!(store.mentions("393331112223").unwrap().is_empty());
}

/// Everything one citizen can leave in the journal, outbox, sent and cases trees, and the
/// ledger: three messages (one processed), one journalled as done over the rate limit
/// (`server::pipeline`), three replies (one sent and gone), two delivery records (one
/// updated), two cases (one decided) and a consent. What an erasure finds of it:
/// [`left_behind`].
fn history(store: &dyn Store, key: &CitizenKey, n: usize) {
    let id = |what: &str, i: usize| message_id(key, what, n, i);
    for i in 0..3 {
        let dedupe = inbound_key(&key.channel, "106540352242922", &id("in", i));
        assert!(store
            .record_inbound(&dedupe, &inbound(key, &id("in", i), now()))
            .unwrap());
    }
    let limited = inbound_key(&key.channel, "106540352242922", &id("limited", 0));
    let mut over = inbound(key, &id("limited", 0), now());
    (over.message, over.done) = (None, true);
    assert!(store.record_inbound(&limited, &over).unwrap());
    let effects = StepEffects {
        ledger: vec![LedgerEntry {
            comune: key.comune.clone(),
            channel: key.channel.clone(),
            citizen: Some(key.citizen.clone()),
            kind: LedgerKind::Consent,
            consent: "privacy".into(),
            notice_version: "2026-01".into(),
            notice_sha256: "ab".repeat(32),
            at: now(),
            message_id: id("in", 0),
            how: "keyword".into(),
            pseudonym: None,
        }],
        cases: vec![moderation_case(key, "Zzyzx parolaccia")],
        ..StepEffects::default()
    };
    let processed = inbound_key(&key.channel, "106540352242922", &id("in", 0));
    let replies = [reply(key, "uno"), reply(key, "due"), reply(key, "tre")];
    let ids = store
        .commit_step(Some(&processed), key, Some(&Citizen::new(now())), &replies, &effects)
        .unwrap();
    store.outbound_done(ids[0]).unwrap();
    store.mark_outbound(ids[1], true).unwrap();
    let mut sent = SentEntry {
        key: key.clone(),
        sent_at: now(),
        status: DeliveryStatus::Sent,
        updated_at: now(),
        errors: vec![],
        broadcast: None,
        desk: false,
    };
    store.put_sent(&sent_key(&key.channel, &id("out", 0)), &sent).unwrap();
    store.put_sent(&sent_key(&key.channel, &id("out", 1)), &sent).unwrap();
    sent.apply(DeliveryStatus::Read, &[], now());
    store.put_sent(&sent_key(&key.channel, &id("out", 1)), &sent).unwrap();
    let case = store.add_case(&moderation_case(key, "Zzyzx di nuovo")).unwrap();
    let mut decided = store.case(case).unwrap().unwrap();
    decided.status = CaseStatus::Confirmed;
    store.put_case(case, &decided).unwrap();
}

/// What erasing a citizen with one [`history`] finds: the processed message names nobody
/// any more, the sent reply left the outbox.
const LEFT_BEHIND: Scrubbed = Scrubbed {
    citizen: 1,
    journal: 3,
    outbox: 2,
    sent: 2,
    cases: 2,
    ledger: 1,
};

/// A provider's message id, unique per citizen but without their number in it (a real
/// one never holds it, and `mentions` must not find the erased number there).
fn message_id(key: &CitizenKey, what: &str, n: usize, i: usize) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    format!("{what}.{:x}.{n}.{i}", h.finish())
}

fn moderation_case(key: &CitizenKey, text: &str) -> ModerationCase {
    ModerationCase {
        key: key.clone(),
        rule: Rule::Vulgar,
        verdict: Verdict::Withhold,
        text: text.into(),
        spans: vec![],
        at: now(),
        blocked: false,
        status: CaseStatus::Pending,
        decided_by: None,
        decided_at: None,
        note: None,
    }
}

/// How many records of each kind still name `key`, read through the listing calls.
fn named(store: &dyn Store, key: &CitizenKey, sent: &[Vec<u8>]) -> [usize; 5] {
    [
        store
            .pending_inbound()
            .unwrap()
            .iter()
            .filter(|(_, e)| &e.key == key)
            .count(),
        store
            .pending_outbound()
            .unwrap()
            .iter()
            .filter(|(_, e)| &e.key == key)
            .count(),
        sent.iter()
            .filter(|k| store.sent(k).unwrap().is_some_and(|e| &e.key == key))
            .count(),
        store
            .cases(&key.comune)
            .unwrap()
            .iter()
            .filter(|(_, c)| &c.key == key)
            .count(),
        store
            .ledger(&key.comune)
            .unwrap()
            .iter()
            .filter(|(_, e)| e.channel == key.channel && e.citizen.as_deref() == Some(key.citizen.as_str()))
            .count(),
    ]
}

/// Erasing one citizen among many: the counts of what was theirs, and nobody else's
/// entries touched, among them a citizen whose number starts with theirs and the same
/// number in another comune and on another channel.
fn erasure_among_many(store: &dyn Store) {
    let x = CitizenKey::new("assemini", "whatsapp", "393331000007");
    let mut others: Vec<CitizenKey> = (0..40)
        .map(|i| CitizenKey::new("assemini", "whatsapp", &format!("39333200{i:04}")))
        .collect();
    others.extend([
        CitizenKey::new("assemini", "whatsapp", "3933310000070"),
        CitizenKey::new("madone", "whatsapp", &x.citizen),
        CitizenKey::new("assemini", "telegram", &x.citizen),
    ]);
    let everyone: Vec<&CitizenKey> = others.iter().chain([&x]).collect();
    // Interleaved, as real traffic is: each round writes one history of every citizen.
    for round in 0..2 {
        for key in &everyone {
            history(store, key, round);
        }
    }
    let sent_keys: Vec<Vec<u8>> = everyone
        .iter()
        .flat_map(|k| (0..2).flat_map(move |n| (0..2).map(move |i| sent_key(&k.channel, &message_id(k, "out", n, i)))))
        .collect();
    let before: Vec<[usize; 5]> = others.iter().map(|k| named(store, k, &sent_keys)).collect();
    assert_eq!(before[0], [4, 4, 4, 4, 2], "two histories each");

    let scrubbed = store.scrub_citizen(&x, false).unwrap();
    let twice = |s: Scrubbed| Scrubbed {
        citizen: s.citizen,
        journal: 2 * s.journal,
        outbox: 2 * s.outbox,
        sent: 2 * s.sent,
        cases: 2 * s.cases,
        ledger: 2 * s.ledger,
    };
    assert_eq!(scrubbed, twice(LEFT_BEHIND));
    assert_eq!(named(store, &x, &sent_keys), [0; 5]);
    assert_eq!(store.citizen(&x).unwrap(), None);
    let after: Vec<[usize; 5]> = others.iter().map(|k| named(store, k, &sent_keys)).collect();
    assert_eq!(after, before, "nobody else's entries changed");
    for k in &others {
        assert!(store.citizen(k).unwrap().is_some());
        assert!(store
            .cases(&k.comune)
            .unwrap()
            .iter()
            .filter(|(_, c)| &c.key == k)
            .all(|(_, c)| c.text.starts_with("Zzyzx")));
    }
    assert_eq!(
        store.scrub_citizen(&x, false).unwrap(),
        Scrubbed::default(),
        "nothing left"
    );

    // The citizen whose number extends x's, erased in turn: nothing of theirs is left.
    let longer = &others[40];
    assert_eq!(store.scrub_citizen(longer, false).unwrap(), twice(LEFT_BEHIND));
    assert_eq!(store.mentions(&longer.citizen).unwrap(), Vec::<String>::new());
    // The retention sweeps still find what is theirs to forget: every delivery record
    // left, and the processed or limited ids of everyone (erased ones are all done).
    let sent_left = sent_keys.iter().filter(|k| store.sent(k).unwrap().is_some()).count();
    assert_eq!(sent_left, (others.len() - 1) * 4);
    assert_eq!(
        store.prune_sent(now() + jiff::SignedDuration::from_secs(1)).unwrap(),
        sent_left
    );
    let done_per_history = |erased: bool| if erased { 4 } else { 2 };
    let expected: usize = everyone
        .iter()
        .map(|k| 2 * done_per_history(*k == &x || *k == longer))
        .sum();
    assert_eq!(
        store
            .prune_inbound(now() + jiff::SignedDuration::from_secs(3600))
            .unwrap(),
        expected
    );
}

#[test]
fn memory_erases_one_citizen_among_many() {
    erasure_among_many(&MemoryStore::new());
}

#[test]
fn sled_erases_one_citizen_among_many_through_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    erasure_among_many(&store);
    assert_entry_index_exact(&store);
}

#[test]
fn postgres_erases_one_citizen_among_many() {
    let Some(url) = test_database_url() else { return };
    let schema = TestSchema::new(&url, "among_many");
    erasure_among_many(&schema.open());
}

/// The entry index holds exactly one entry per journal, outbox, sent and case entry that
/// names a citizen: none missing (an erasure would miss it), none left over.
fn assert_entry_index_exact(store: &SledStore) {
    use sportello::storage::keys::{
        entry_index_key, Indexed, CASES_TREE, ENTRY_INDEX_TREE, INBOUND_TREE, OUTBOX_TREE, SENT_TREE,
    };
    let records = store.records().unwrap();
    let mut expected = std::collections::BTreeSet::new();
    for (tree, tag) in [
        (INBOUND_TREE, Indexed::Inbound),
        (OUTBOX_TREE, Indexed::Outbox),
        (SENT_TREE, Indexed::Sent),
        (CASES_TREE, Indexed::Case),
    ] {
        for (k, v) in &records[tree] {
            let value: serde_json::Value = serde_json::from_slice(v).unwrap();
            let key: CitizenKey = serde_json::from_value(value["key"].clone()).unwrap();
            if let Ok(citizen) = key.encode() {
                expected.insert(entry_index_key(&citizen, tag, k));
            }
        }
    }
    let actual: std::collections::BTreeSet<Vec<u8>> = records[ENTRY_INDEX_TREE].keys().cloned().collect();
    assert_eq!(actual.len(), expected.len(), "index entries");
    assert!(actual == expected, "the index matches the trees");
}

#[test]
fn sled_rebuilds_the_entry_index_of_an_older_store_and_erasure_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let x = CitizenKey::new("brusson", "whatsapp", "393331112223");
    let y = CitizenKey::new("brusson", "whatsapp", "393339999999");
    {
        let store = SledStore::open(dir.path()).unwrap();
        history(&store, &x, 0);
        history(&store, &y, 0);
        store.flush().unwrap();
    }
    {
        // A store written before the index existed.
        let db = SledStore::open_raw(dir.path()).unwrap();
        assert!(db.drop_tree(sportello::storage::keys::ENTRY_INDEX_TREE).unwrap());
        db.flush().unwrap();
    }
    let store = SledStore::open(dir.path()).unwrap();
    assert_entry_index_exact(&store);
    assert_eq!(
        store.scrub_citizen(&x, false).unwrap(),
        LEFT_BEHIND,
        "found through the rebuilt index"
    );
    assert!(store.mentions(&x.citizen).unwrap().is_empty());
    let y_sent = [0, 1].map(|i| sent_key("whatsapp", &message_id(&y, "out", 0, i)));
    assert_eq!(
        named(&store, &y, &y_sent),
        [2, 2, 2, 2, 1],
        "the other citizen's entries are kept"
    );
    assert_entry_index_exact(&store);
}

#[test]
fn sled_builds_again_an_index_whose_build_a_crash_interrupted() {
    use sportello::storage::keys::{index_built_key, ENTRY_INDEX_TREE, LEDGER_INDEX_TREE, META_TREE};
    let dir = tempfile::tempdir().unwrap();
    let x = CitizenKey::new("madone", "whatsapp", "393334445556");
    {
        let store = SledStore::open(dir.path()).unwrap();
        history(&store, &x, 0);
        store.flush().unwrap();
    }
    {
        // What a crash during a first build can leave: the index trees there, only part of
        // their entries (here every other one) and no record that the build finished.
        let db = SledStore::open_raw(dir.path()).unwrap();
        let meta = db.open_tree(META_TREE).unwrap();
        for tree in [ENTRY_INDEX_TREE, LEDGER_INDEX_TREE] {
            let index = db.open_tree(tree).unwrap();
            for k in index.iter().keys().step_by(2) {
                index.remove(k.unwrap()).unwrap();
            }
            assert!(meta.remove(index_built_key(tree)).unwrap().is_some());
        }
        db.flush().unwrap();
    }
    let store = SledStore::open(dir.path()).unwrap();
    assert_entry_index_exact(&store);
    assert_eq!(store.scrub_citizen(&x, false).unwrap(), LEFT_BEHIND);
    assert!(store.mentions(&x.citizen).unwrap().is_empty());
}

#[test]
fn sled_erasure_reads_only_the_citizens_own_entries() {
    use sportello::storage::keys::{CASES_TREE, INBOUND_TREE, OUTBOX_TREE, SENT_TREE};
    let dir = tempfile::tempdir().unwrap();
    let x = CitizenKey::new("isili", "telegram", "4242");
    {
        let store = SledStore::open(dir.path()).unwrap();
        history(&store, &x, 0);
        store.flush().unwrap();
    }
    {
        // Entries of someone else that do not even decode: a scan of the trees would
        // stop at them (`Corrupt`); the erasure must not read them at all.
        let db = SledStore::open_raw(dir.path()).unwrap();
        for tree in [INBOUND_TREE, OUTBOX_TREE, SENT_TREE, CASES_TREE] {
            db.open_tree(tree)
                .unwrap()
                .insert(u64::MAX.to_be_bytes(), b"not json")
                .unwrap();
        }
        db.flush().unwrap();
    }
    let store = SledStore::open(dir.path()).unwrap();
    assert!(store.pending_outbound().is_err(), "a whole-tree read does fail");
    assert_eq!(store.scrub_citizen(&x, false).unwrap(), LEFT_BEHIND);
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

/// `url` with `options=-c search_path=SCHEMA`, so a child process works in that schema.
fn url_in_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

#[test]
fn sled_migrates_to_postgres_with_every_tree_compared() {
    let Some(url) = test_database_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Real records from the real binary: a subscription writes a citizen, the consent
    // ledger, counters and the journal.
    let out = crate::util::sportello(
        &crate::util::root(),
        &[
            "chat",
            "--comune",
            "brusson",
            "--from",
            "+39 333 000 0001",
            "--data",
            data.to_str().unwrap(),
        ],
        "JE M'INSCRIS\nbonjour\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let a = CitizenKey::new("isili", "whatsapp", "393330000001");
    {
        // Written as a server writes: through the seal.
        let (sled, _) = sportello::storage::sealed::migrate::open_sled(&data).unwrap();
        sled.commit_step(
            None,
            &a,
            Some(&Citizen::new(now())),
            &[reply(&a, "uno")],
            &StepEffects::default(),
        )
        .unwrap();
        sled.append_audit(&AuditEntry {
            at: now(),
            actor: "system".into(),
            comune: "isili".into(),
            action: "retention".into(),
            detail: String::new(),
        })
        .unwrap();
        sled.put_alias(&CitizenKey::new("isili", "whatsapp", "IT.1502576394655843"), &a)
            .unwrap();
        sled.flush().unwrap();
    }
    let schema = TestSchema::new(&url, "migrate");
    drop(schema.open()); // creates the schema and its tables
    let migrate = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
            .args([
                "migrate",
                "--from",
                &format!("sled:{}", data.display()),
                "--to",
                "postgres",
            ])
            .env(
                "SPORTELLO_DATABASE_URL",
                url_in_schema(&url, schema.options.schema.as_deref().unwrap()),
            )
            .env("SPORTELLO_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = migrate();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("every tree matches") && !stdout.contains("MISMATCH"),
        "{stdout}"
    );

    let raw = schema.open();
    // The copy is sealed as the directory is: keys are pseudonyms, and no record names the
    // citizen's number.
    assert!(raw.is_sealed().unwrap() && raw.has_keyring().unwrap());
    let records = raw.records().unwrap();
    let number = b"393330000001";
    for (tree, rows) in &records {
        for (k, v) in rows {
            for bytes in [k, v] {
                assert!(
                    !bytes.windows(number.len()).any(|w| w == number),
                    "the number in clear in {tree}"
                );
            }
        }
    }
    // Read through the keyring copied with it (the directory's master key), PostgreSQL
    // holds the same records.
    let (pg, sealing) = sportello::storage::sealed::postgres::open_postgres(raw, &data).unwrap();
    assert!(sealing.is_none(), "copied sealed: nothing left to seal");
    let (sled, _) = sportello::storage::sealed::migrate::open_sled(&data).unwrap();
    let sorted = |mut v: Vec<_>| {
        v.sort_by(|a: &(CitizenKey, _), b| a.0.cmp(&b.0));
        v
    };
    assert_eq!(
        sorted(pg.citizens("brusson").unwrap()),
        sorted(sled.citizens("brusson").unwrap())
    );
    assert_eq!(pg.citizen(&a).unwrap(), sled.citizen(&a).unwrap());
    assert!(pg.citizen(&a).unwrap().is_some());
    assert_eq!(pg.ledger("brusson").unwrap(), sled.ledger("brusson").unwrap());
    assert_eq!(pg.counters("brusson").unwrap(), sled.counters("brusson").unwrap());
    assert_eq!(pg.pending_outbound().unwrap(), sled.pending_outbound().unwrap());
    assert_eq!(
        pg.alias(&CitizenKey::new("isili", "whatsapp", "IT.1502576394655843"))
            .unwrap(),
        Some(a.clone()),
        "the aliases are copied"
    );
    assert!(!pg.ledger("brusson").unwrap().is_empty());
    // New ids continue after the copied ones.
    let max = sled.audit(None).unwrap().last().unwrap().0;
    assert!(pg.append_audit(&sled.audit(None).unwrap()[0].1).unwrap() > max);
    drop(sled);

    let again = migrate();
    assert!(
        !again.status.success(),
        "a second copy into a non-empty database is refused"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds"));
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

#[test]
fn postgres_backend_overlays() {
    let Some(url) = test_database_url() else { return };
    let schema = TestSchema::new(&url, "overlays");
    overlay_suite(&schema.open());
}
