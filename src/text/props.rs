//! Property tests for the whole `text` layer: no input makes it panic.
//!
//! Owns the promises every function here makes about arbitrary citizen text (any
//! Unicode, empty, very long): no panic, spans on char boundaries, `normalize`
//! idempotent. Rule-by-rule examples live next to each rule in its own file.

use jiff::civil::{date, Date};
use proptest::prelude::*;

use super::*;

const TODAY: Date = date(2025, 6, 15);

fn keywords() -> KeywordSet<u8> {
    let mut s = KeywordSet::new();
    s.add(1, "it", "ATTIVA ISCRIZIONE", false);
    s.add(2, "it", "DISATTIVA ISCRIZIONE", false);
    s.add(1, "fr", "JE M'INSCRIS", false);
    s.add(2, "it", "MI CANCELLO", false);
    s.add(3, "it", "REGISTRAZIONE", true);
    s
}

fn consents() -> Vec<(String, Vec<String>)> {
    vec![
        (
            "messages".into(),
            vec!["autorizzo la ricezione".into(), "autorizzo".into()],
        ),
        ("privacy".into(), vec!["acconsento privacy".into()]),
    ]
}

/// Citizen-like text: words, digits, dates, dashes, accents and emoji mixed with any char.
fn citizen_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<char>().prop_map(String::from),
        Just(" ".to_owned()),
        Just(" - ".to_owned()),
        Just("–".to_owned()),
        Just("/".to_owned()),
        Just("e\u{301}".to_owned()),
        Just("🙂".to_owned()),
        "[0-9]{1,4}",
        "(attiva|disattiva|iscrizione|mi|cancello|registrazione|nato|a|il|marzo|1er|mars)",
        "(non|no|ma|anzi|se|come|ne|pas|plus|stop|basta|voglio|ricevere|messaggi|cancellatemi|grazie|\\?|,)",
        "[a-zA-Zàèéìòù']{1,8}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn assert_boundary(s: &str, r: &std::ops::Range<usize>) {
    assert!(r.start <= r.end && r.end <= s.len(), "{r:?} in {s:?}");
    assert!(
        s.is_char_boundary(r.start) && s.is_char_boundary(r.end),
        "{r:?} in {s:?}"
    );
}

fn check_all(s: &str) {
    for t in tokens(s) {
        assert_boundary(s, &(t.start..t.end));
        assert!(!t.norm.is_empty());
    }
    let n = normalize(s);
    assert_eq!(normalize(&n), n, "normalize not idempotent on {s:?}");
    match keywords().find(s) {
        Found::None => {}
        Found::One(m) => assert_boundary(s, &m.span),
        Found::Ambiguous(a, b) => {
            assert_boundary(s, &a.span);
            assert_boundary(s, &b.span);
        }
    }
    if let Some(f) = find_date(s, TODAY) {
        assert_boundary(s, &f.span);
    }
    let _ = parse_date(s, TODAY);
    let _ = parse_one_shot(s, &consents(), TODAY);
    let _ = check_person_name(s);
    let _ = check_place(s);
    let lexicons = [intent::lexicon("it").unwrap(), intent::lexicon("fr").unwrap()];
    let u = understand(s, &intents(), &lexicons);
    if let Some(sense) = &u.sense {
        assert_boundary(s, &sense.found.span);
    }
    let _ = intent::check_name(s, &lexicons, 1, 3);
}

fn intents() -> KeywordSet<Intent> {
    let mut s = KeywordSet::new();
    s.add(Intent::Subscribe, "it", "ATTIVA ISCRIZIONE", false);
    s.add(Intent::Unsubscribe, "it", "DISATTIVA ISCRIZIONE", false);
    s.add(Intent::Subscribe, "it", "REGISTRAZIONE", true);
    s.add(Intent::Unsubscribe, "fr", "JE ME DÉSINSCRIS", false);
    s
}

proptest! {
    #[test]
    fn any_unicode_never_panics(s in any::<String>()) {
        check_all(&s);
    }

    #[test]
    fn citizen_like_text_never_panics(s in citizen_text()) {
        check_all(&s);
    }

    #[test]
    fn one_shot_fields_come_from_the_text(s in citizen_text()) {
        let o = parse_one_shot(&s, &consents(), TODAY);
        let squashed = s.split_whitespace().collect::<Vec<_>>().join(" ");
        for part in [o.full_name, o.birth_place].into_iter().flatten() {
            prop_assert!(!part.is_empty());
            prop_assert!(squashed.contains(&part), "{part:?} not in {s:?}");
        }
    }

    #[test]
    fn subscribe_inside_noise_never_unsubscribes(
        pre in "[a-z]{0,6}",
        post in "[!?. 🙂]{0,4}",
    ) {
        let text = format!("{pre} Attiva Iscrizione{post}");
        // Found, or at worst ambiguous (the engine asks), but never read as unsubscribe.
        match keywords().find(&text) {
            Found::One(m) => prop_assert_eq!(m.action, 1),
            Found::Ambiguous(a, b) => prop_assert!(a.action == 1 || b.action == 1),
            Found::None => prop_assert!(false, "nothing found in {:?}", text),
        }
    }

    /// Whatever comes before it, a "non" right before the unsubscribe keyword is never a
    /// request to leave.
    #[test]
    fn a_negated_unsubscribe_keyword_never_leaves(pre in "[a-z ]{0,20}", post in "[!?. 🙂]{0,4}") {
        let lexicons = [intent::lexicon("it").unwrap()];
        let text = format!("{pre} non Disattiva Iscrizione{post}");
        prop_assert!(!understand(&text, &intents(), &lexicons).is_leaving(), "{:?}", text);
    }

    #[test]
    fn unsubscribe_inside_noise_never_subscribes(
        pre in "[a-z]{0,6}",
        post in "[!?. 🙂]{0,4}",
    ) {
        let text = format!("{pre} Disattiva Iscrizione{post}");
        match keywords().find(&text) {
            Found::One(m) => prop_assert_eq!(m.action, 2),
            Found::Ambiguous(a, b) => prop_assert!(a.action == 2 || b.action == 2),
            Found::None => prop_assert!(false, "nothing found in {:?}", text),
        }
    }
}

#[test]
fn very_long_lines() {
    let long_word = "x".repeat(100_000);
    let many_words = "parola ".repeat(10_000);
    let many_digits = "12 ".repeat(30_000);
    let mixed = "Mario Rossi - Isili 12/03/1980 - ".repeat(2_000);
    for s in [long_word, many_words, many_digits, mixed, String::new()] {
        check_all(&s);
    }
}
