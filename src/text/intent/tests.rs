//! Unit tests of the understanding step on the shipped lexicons. The language suite
//! (`eval/language/`, `tests/language.rs`) measures it through the engine.

use super::*;

fn set() -> KeywordSet<Intent> {
    let mut s = KeywordSet::new();
    s.add(Intent::Subscribe, "it", "MI ISCRIVO", false);
    s.add(Intent::Subscribe, "it", "VOGLIO ISCRIVERMI", false);
    s.add(Intent::Unsubscribe, "it", "MI CANCELLO", false);
    s.add(Intent::Unsubscribe, "it", "VOGLIO CANCELLARMI", false);
    s.add(Intent::Subscribe, "fr", "JE M'INSCRIS", false);
    s.add(Intent::Unsubscribe, "fr", "JE ME DÉSINSCRIS", false);
    s
}

fn lex() -> Vec<&'static Lexicon> {
    vec![lexicon("it").unwrap(), lexicon("fr").unwrap()]
}

fn read(text: &str) -> Option<(Intent, Polarity)> {
    understand(text, &set(), &lex()).intent()
}

#[test]
fn shipped_lexicons_build() {
    check_all().unwrap();
    assert!(lexicon("it").is_some() && lexicon("fr").is_some());
}

#[test]
fn negation_flips_or_cancels() {
    use Intent::*;
    use Polarity::*;
    assert_eq!(read("MI ISCRIVO"), Some((Subscribe, Affirmed)));
    assert_eq!(read("non voglio iscrivermi"), Some((Subscribe, Negated)));
    assert_eq!(read("non voglio cancellarmi"), Some((Unsubscribe, Negated)));
    assert_eq!(read("non mi cancello"), Some((Unsubscribe, Negated)));
    assert_eq!(read("je ne veux pas me désinscrire"), Some((Unsubscribe, Negated)));
    assert_eq!(read("je m'inscris pas"), Some((Subscribe, Negated)));
    // Wanting the messages, negated, is leaving.
    assert_eq!(read("non voglio più ricevere messaggi"), Some((Unsubscribe, Affirmed)));
    assert_eq!(
        read("je ne veux plus recevoir de messages"),
        Some((Unsubscribe, Affirmed))
    );
    // A negation of another verb does not reach past "come".
    assert_eq!(read("non ho capito come cancellarmi"), Some((Unsubscribe, Uncertain)));
    // Taken back.
    assert_eq!(read("mi iscrivo... anzi no"), Some((Subscribe, Negated)));
}

#[test]
fn leaving_in_own_words() {
    for t in [
        "stop",
        "STOP!!",
        "cancellatemi",
        "toglietemi dalla lista",
        "basta messaggi",
        "disattivare iscrizione",
    ] {
        assert!(understand(t, &set(), &lex()).is_leaving(), "{t}");
    }
    assert!(!understand("fino a quando dura lo stop al traffico", &set(), &lex()).is_leaving());
}

#[test]
fn names() {
    let l = lex();
    assert_eq!(check_name("Maria Grazia", &l, 1, 3), Ok("Maria Grazia".into()));
    assert_eq!(check_name("mi chiamo Mario", &l, 1, 3), Ok("Mario".into()));
    assert_eq!(check_name("Anna De Luca", &l, 2, 5), Ok("Anna De Luca".into()));
    assert_eq!(
        check_name("vorrei parlare con un operatore", &l, 1, 3),
        Err(NameProblem::Sentence)
    );
    assert_eq!(check_name("Rossi", &l, 2, 5), Err(NameProblem::TooFew));
    assert_eq!(check_name("perché?", &l, 1, 3), Err(NameProblem::Sentence));
}

#[test]
fn never_panics_on_odd_input() {
    for t in [
        "",
        "🙂",
        "a",
        "non",
        "ma",
        "?",
        &"non ".repeat(5000),
        &"x".repeat(100_000),
    ] {
        let _ = understand(t, &set(), &lex());
        let _ = check_name(t, &lex(), 1, 3);
    }
}
