//! Handoff to people through the real engine: questions the bot cannot answer wait in the
//! inbox with their deadline; an operator claims, replies, notes, releases, closes; while
//! they hold a conversation the bot is silent but for unsubscribe and moderation.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use sportello::dialogue::{Body, Inbound};
use sportello::service::runner::Engine;
use sportello::staff::inbox::{self, InboxError};
use sportello::storage::{Author, CitizenKey, ConversationStatus, Happened, MemoryStore, Store};

use crate::util;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

struct Desk {
    engine: Engine,
    key: CitizenKey,
    n: usize,
}

impl Desk {
    /// An Assemini citizen who has registered.
    fn new(number: &str) -> Desk {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let mut d = Desk {
            engine: util::engine(store),
            key: CitizenKey::new("assemini", "whatsapp", number),
            n: 0,
        };
        for line in ["Buongiorno", "Mario", "Rossi", "12/03/1980"] {
            d.say(line, "2026-11-23T09:00:00Z");
        }
        d
    }

    fn say(&mut self, text: &str, when: &str) -> Vec<String> {
        self.n += 1;
        let inbound = Inbound {
            id: format!("m{}", self.n),
            body: Body::Text { text: text.into() },
        };
        let h = self.engine.handle(&self.key, &inbound, at(when)).unwrap();
        h.rendered.into_iter().map(|r| r.key).collect()
    }
}

#[test]
fn a_question_waits_with_its_deadline_and_an_operator_takes_it_over() {
    let mut d = Desk::new("393330007001");
    // Monday 10:00: due within two working days, at the close of Wednesday's office. The
    // FAQ has nothing close: the office's contacts follow.
    assert_eq!(
        d.say("Quanto costa il parcheggio al mare?", "2026-11-23T09:00:00Z"),
        ["assemini-question-received", "faq-contacts"]
    );
    let items = inbox::inbox(&d.engine, "assemini", at("2026-11-23T09:05:00Z")).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].name.as_deref(), Some("Mario Rossi"));
    assert_eq!(items[0].masked, "•••••••••001");
    assert_eq!(
        items[0].deadline,
        Some(at("2026-11-25T17:00:00Z")),
        "Wednesday 18:00 in Rome"
    );
    assert!(!items[0].overdue);
    assert!(inbox::inbox(&d.engine, "assemini", at("2026-11-26T08:00:00Z")).unwrap()[0].overdue);

    inbox::claim(&d.engine, &d.key, "urp1@assemini", at("2026-11-23T09:10:00Z")).unwrap();
    assert!(
        matches!(inbox::claim(&d.engine, &d.key, "urp2@assemini", at("2026-11-23T09:11:00Z")), Err(InboxError::HeldByOther(by)) if by == "urp1@assemini")
    );
    // While held: silence, and the words reach the operator.
    assert!(d.say("grazie, attendo", "2026-11-23T09:12:00Z").is_empty());
    // The citizen's own data is a right: answered while held (issue 16), and the operator
    // still sees the words.
    assert_eq!(
        d.say("I MIEI DATI", "2026-11-23T09:12:30Z"),
        ["my-data", "my-data-field", "my-data-field", "my-data-field"]
    );
    // Moderation still applies.
    assert_eq!(
        d.say("siete dei coglioni", "2026-11-23T09:13:00Z"),
        ["moderation-withheld"]
    );

    let ids = inbox::reply(
        &d.engine,
        &d.key,
        "urp1@assemini",
        "Il parcheggio costa 1 euro l'ora.",
        at("2026-11-23T09:15:00Z"),
    )
    .unwrap();
    assert_eq!(ids.len(), 1);
    let queued = d.engine.store.outbound_entry(ids[0]).unwrap().unwrap();
    assert_eq!(queued.rendered.text, "Il parcheggio costa 1 euro l'ora.");
    assert_eq!(queued.to, "393330007001");
    inbox::note(
        &d.engine,
        &d.key,
        "urp1@assemini",
        "tariffa estiva da verificare",
        at("2026-11-23T09:16:00Z"),
    )
    .unwrap();
    let conv = d.engine.store.conversation(&d.key).unwrap().unwrap();
    let authors: Vec<&Author> = conv.lines.iter().map(|l| &l.author).collect();
    // The question and the bot's two answers (received, the office's contacts); the
    // claim; while held, the citizen's thanks (the bot silent) and I MIEI DATI with its four
    // answers; then the operator's reply and note.
    let bot = &Author::Bot;
    let claimed = Author::Event(Happened::Claimed {
        by: "urp1@assemini".into(),
    });
    assert_eq!(
        authors,
        [
            &Author::Citizen,
            bot,
            bot,
            &claimed,
            &Author::Citizen,
            &Author::Citizen,
            bot,
            bot,
            bot,
            bot,
            &Author::Staff("urp1@assemini".into()),
            &Author::Note("urp1@assemini".into())
        ]
    );
    assert!(
        !conv.lines.iter().any(|l| l.text.contains("coglioni")),
        "a withheld message never reaches the operator"
    );

    // The reply knows its outbox entry (for its ticks); the claim was written once.
    assert_eq!(conv.lines[conv.lines.len() - 2].outbound, Some(ids[0]));
    assert_eq!(conv.lines.iter().filter(|l| l.author == claimed).count(), 1);

    // Released: the bot answers again.
    inbox::release(&d.engine, &d.key, "urp1@assemini", at("2026-11-23T09:20:00Z")).unwrap();
    assert_eq!(d.say("buongiorno", "2026-11-23T09:21:00Z"), ["greeting"]);
    inbox::close(&d.engine, &d.key, "urp1@assemini", at("2026-11-23T09:22:00Z")).unwrap();
    assert!(inbox::inbox(&d.engine, "assemini", at("2026-11-23T09:23:00Z"))
        .unwrap()
        .is_empty());
    let actions: Vec<String> = d
        .engine
        .store
        .audit(Some("assemini"))
        .unwrap()
        .into_iter()
        .map(|(_, a)| a.action)
        .collect();
    assert_eq!(actions, ["claim", "reply", "note", "release", "close"]);
    assert!(
        d.engine
            .store
            .audit(None)
            .unwrap()
            .iter()
            .all(|(_, a)| !a.detail.contains("393330007001")),
        "audit names no number"
    );
}

#[test]
fn asking_for_a_person_unsubscribing_while_held_and_idle_holds() {
    let mut d = Desk::new("393330007002");
    assert_eq!(
        d.say("vorrei parlare con un operatore", "2026-11-23T09:00:00Z"),
        ["operator-requested-due"]
    );
    inbox::claim(&d.engine, &d.key, "urp1@assemini", at("2026-11-23T09:01:00Z")).unwrap();
    // A hold untouched for longer than allowed returns to the queue, and the bot speaks again.
    let released = inbox::release_idle(&d.engine, SignedDuration::from_mins(30), at("2026-11-23T09:40:00Z")).unwrap();
    assert_eq!(released, 1);
    let conv = d.engine.store.conversation(&d.key).unwrap().unwrap();
    assert_eq!(conv.status, ConversationStatus::Waiting);
    assert_eq!(d.say("ciao", "2026-11-23T09:41:00Z"), ["greeting"]);
    // Held again, the citizen can still leave; erasure takes the conversation with it.
    inbox::claim(&d.engine, &d.key, "urp1@assemini", at("2026-11-23T09:42:00Z")).unwrap();
    assert_eq!(
        d.say("Iscrivimi", "2026-11-23T09:43:00Z"),
        Vec::<String>::new(),
        "held: no subscription dialogue"
    );
    assert_eq!(d.say("Cancellami", "2026-11-23T09:44:00Z"), ["not-subscribed"]);
}

#[test]
fn the_inbox_shows_the_question_not_the_request_for_a_person() {
    let mut d = Desk::new("393330007003");
    d.say("Quanto costa il parcheggio al mare?", "2026-11-23T09:00:00Z");
    d.say("OPERATORE", "2026-11-23T09:01:00Z");
    d.say("vorrei parlare con una persona", "2026-11-23T09:02:00Z");
    let items = inbox::inbox(&d.engine, "assemini", at("2026-11-23T09:05:00Z")).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].last_line.as_deref(),
        Some("Quanto costa il parcheggio al mare?"),
        "{:?}",
        items[0]
    );
    // The thread keeps what the bot told the citizen after each message.
    let conv = d.engine.store.conversation(&d.key).unwrap().unwrap();
    let authors: Vec<&Author> = conv.lines.iter().map(|l| &l.author).collect();
    assert_eq!(authors.first(), Some(&&Author::Citizen));
    let bot: Vec<&str> = conv
        .lines
        .iter()
        .filter(|l| l.author == Author::Bot)
        .map(|l| l.text.as_str())
        .collect();
    assert!(
        bot.iter().any(|t| t.contains("giorni lavorativi")) && !bot.iter().any(|t| t.contains("Quanto costa")),
        "{bot:?}"
    );
    // A later question is the one shown.
    d.say("E il parcheggio in centro?", "2026-11-23T09:03:00Z");
    let items = inbox::inbox(&d.engine, "assemini", at("2026-11-23T09:05:00Z")).unwrap();
    assert_eq!(items[0].last_line.as_deref(), Some("E il parcheggio in centro?"));
}
