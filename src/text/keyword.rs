//! Tolerant keyword matching: which action did the citizen ask for?
//!
//! Owns the matching rules for keyword phrases (`ATTIVA ISCRIZIONE`, `MI CANCELLO`,
//! `JE M'INSCRIS`): insensitive to case, accents, punctuation, emoji and spacing, tolerant
//! of one typo per long word, and careful never to mistake a longer phrase for a shorter
//! one it contains (`DISATTIVA ISCRIZIONE` is not `ATTIVA ISCRIZIONE`).
//! It must not decide what an action does, nor hold any comune's keywords itself.
//!
//! The comparison of one phrase with the words of a message lives in `window.rs`; this
//! file ranks what it finds and decides between actions.

use std::cmp::Reverse;
use std::ops::Range;

use super::normalize::tokens;
use super::window::{best_windows, whole_match, window_edits, words_of, Phrase};

/// A set of keyword phrases, each tagged with an action `A` and a language tag.
#[derive(Debug, Clone)]
pub struct KeywordSet<A> {
    phrases: Vec<Phrase<A>>,
}

/// Where the phrase sits in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Position {
    /// The phrase is the whole message (punctuation and emoji aside).
    Whole,
    /// The phrase starts the message and was added as a prefix phrase.
    Prefix,
    /// The phrase is inside a short message.
    Inside,
}

impl Position {
    /// Where the words `start..end` of a message of `len` words sit in it.
    pub fn of(start: usize, end: usize, len: usize) -> Position {
        if start == 0 && end == len {
            Position::Whole
        } else if start == 0 {
            Position::Prefix
        } else {
            Position::Inside
        }
    }
}

/// One phrase found in a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<A> {
    /// The action the phrase was added with.
    pub action: A,
    /// The language tag the phrase was added with.
    pub lang: String,
    /// The phrase as it was added (not normalized).
    pub phrase: String,
    /// Where the phrase sits in the message.
    pub position: Position,
    /// Typos forgiven (0 for an exact match).
    pub edits: usize,
    /// Byte span of the matched words in the original text.
    pub span: Range<usize>,
}

/// The outcome of [`KeywordSet::find`].
#[derive(Debug, Clone, PartialEq)]
pub enum Found<A> {
    /// No phrase matched.
    None,
    /// One action is clearly meant.
    One(Match<A>),
    /// Two different actions rank equally: the engine should ask the citizen.
    Ambiguous(Match<A>, Match<A>),
}

impl<A: Clone + PartialEq> Default for KeywordSet<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Clone + PartialEq> KeywordSet<A> {
    /// An empty set.
    pub fn new() -> Self {
        Self { phrases: Vec::new() }
    }

    /// `prefix`: the phrase may be followed by free data (Isili's "REGISTRAZIONE Mario Rossi - …").
    ///
    /// A phrase with no letters or digits (only punctuation or emoji) can never match and
    /// is ignored.
    pub fn add(&mut self, action: A, lang: &str, phrase: &str, prefix: bool) {
        if let Some(p) = Phrase::new(action, lang, phrase, prefix) {
            self.phrases.push(p);
        }
    }

    /// The best phrase in `text`, or `Ambiguous` when two different actions rank equally.
    ///
    /// Rank: Whole > Prefix > Inside, then fewer edits, then the longer phrase. The length
    /// tie-break only settles matches whose spans overlap (`dis attiva iscrizione` is the
    /// longer `disattiva iscrizione`); two different actions found side by side with the
    /// same position and edits (`iscrivimi cancellami`) are ambiguous whatever their length.
    /// So is a better-placed match that needs more typos than an overlapping match of
    /// another action: the engine asks rather than risk swapping subscribe and unsubscribe.
    pub fn find(&self, text: &str) -> Found<A> {
        let toks = tokens(text);
        if toks.is_empty() {
            return Found::None;
        }
        let words = words_of(&toks);
        let mut cands: Vec<(usize, Match<A>)> = Vec::new();
        for (idx, p) in self.phrases.iter().enumerate() {
            for (pos, edits, r) in best_windows(p, &words) {
                let span = toks[r.start].start..toks[r.end - 1].end;
                cands.push((idx, self.to_match(idx, pos, edits, span)));
            }
        }
        cands.sort_by_key(|(idx, m)| (m.position, m.edits, Reverse(self.phrases[*idx].joined_chars), *idx));
        let Some((best_idx, best)) = cands.first() else {
            return Found::None;
        };
        // The first other action that makes the choice unsafe, if any.
        let rival = cands.iter().find(|(idx, other)| {
            if other.action == best.action {
                return false;
            }
            let overlap = other.span.start < best.span.end && best.span.start < other.span.end;
            if (other.position, other.edits) == (best.position, best.edits) {
                let same_len = self.phrases[*idx].joined_chars == self.phrases[*best_idx].joined_chars;
                !overlap || same_len
            } else {
                // The same words read as another action with fewer typos: "as attiva
                // iscrizione" is `disattiva iscrizione` (Whole, 2 edits) or `attiva
                // iscrizione` (Inside, exact). Position alone must not decide that.
                overlap && other.edits < best.edits
            }
        });
        match rival {
            Some((_, other)) => Found::Ambiguous(best.clone(), other.clone()),
            None => Found::One(best.clone()),
        }
    }

    /// Pairs of phrases of DIFFERENT actions that some input could match both of
    /// (equal after normalization, or within the typo tolerance of each other). Used by flow
    /// validation to reject a keyword claimed by two actions.
    ///
    /// "Within the typo tolerance" means one phrase, typed as a message, would match the
    /// other as a whole message under the rules of [`find`](Self::find).
    pub fn conflicts(&self) -> Vec<(A, String, A, String)> {
        let mut out = Vec::new();
        for (i, p) in self.phrases.iter().enumerate() {
            for q in &self.phrases[i + 1..] {
                if p.action == q.action {
                    continue;
                }
                if p.joined == q.joined || whole_match(p, q) || whole_match(q, p) {
                    out.push((p.action.clone(), p.text.clone(), q.action.clone(), q.text.clone()));
                }
            }
        }
        out
    }

    /// Every occurrence of every phrase anywhere in `text`, however long the message,
    /// overlapping occurrences of one phrase counted once. Used to pick consents out of Isili's
    /// one-shot line; positions are reported as `Inside` unless at the start.
    pub(crate) fn find_all(&self, text: &str) -> Vec<Match<A>> {
        let toks = tokens(text);
        let words = words_of(&toks);
        let mut out = Vec::new();
        for (idx, p) in self.phrases.iter().enumerate() {
            // (start, end, edits) of the occurrences kept so far for this phrase.
            let mut kept: Vec<(usize, usize, usize)> = Vec::new();
            for start in 0..words.len() {
                let mut best: Option<(usize, usize)> = None;
                for end in start + 1..=words.len() {
                    let chars: usize = words[start..end].iter().map(|w| w.chars).sum();
                    if chars > p.joined_chars + p.budget {
                        break;
                    }
                    if let Some(e) = window_edits(p, &words[start..end]) {
                        if best.is_none_or(|(be, _)| e < be) {
                            best = Some((e, end));
                        }
                    }
                }
                let Some((edits, end)) = best else { continue };
                // Overlapping windows are one occurrence ("e acconsento privacy" also reads
                // as the phrase with one edit): keep the one with fewer edits.
                match kept.last_mut() {
                    Some(last) if start < last.1 => {
                        if edits < last.2 {
                            *last = (start, end, edits);
                        }
                    }
                    _ => kept.push((start, end, edits)),
                }
            }
            for (start, end, edits) in kept {
                let pos = Position::of(start, end, words.len());
                let span = toks[start].start..toks[end - 1].end;
                out.push(self.to_match(idx, pos, edits, span));
            }
        }
        out
    }

    fn to_match(&self, idx: usize, position: Position, edits: usize, span: Range<usize>) -> Match<A> {
        let p = &self.phrases[idx];
        Match {
            action: p.action.clone(),
            lang: p.lang.clone(),
            phrase: p.text.clone(),
            position,
            edits,
            span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Act {
        Sub,
        Unsub,
        Register,
    }
    use Act::*;

    fn set() -> KeywordSet<Act> {
        let mut s = KeywordSet::new();
        s.add(Sub, "it", "ATTIVA ISCRIZIONE", false);
        s.add(Unsub, "it", "DISATTIVA ISCRIZIONE", false);
        s.add(Sub, "it", "Iscrivimi", false);
        s.add(Unsub, "it", "Cancellami", false);
        s.add(Sub, "it", "MI ISCRIVO", false);
        s.add(Unsub, "it", "MI CANCELLO", false);
        s.add(Sub, "fr", "JE M'INSCRIS", false);
        s.add(Unsub, "fr", "JE ME DÉSINSCRIS", false);
        s.add(Register, "it", "REGISTRAZIONE", true);
        s
    }

    fn one(text: &str) -> Match<Act> {
        match set().find(text) {
            Found::One(m) => m,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    fn action(text: &str) -> Option<Act> {
        match set().find(text) {
            Found::One(m) => Some(m.action),
            _ => None,
        }
    }

    #[test]
    fn insensitive_to_case_accents_punctuation_emoji_spacing() {
        for t in [
            "cancellami!!",
            "Cancellami 🙏",
            "MI CANCELLO",
            "Mi Cancello",
            "mi-cancello",
        ] {
            let m = one(t);
            assert_eq!((m.action, m.position, m.edits), (Unsub, Position::Whole, 0), "{t}");
        }
        for t in ["ATTIVA  ISCRIZIONE.", "attivaiscrizione", "attiva iscri zione"] {
            let m = one(t);
            assert_eq!((m.action, m.position, m.edits), (Sub, Position::Whole, 0), "{t}");
        }
        assert_eq!(one("je m’inscris").lang, "fr");
    }

    #[test]
    fn one_typo_per_long_word() {
        let m = one("MI CANCELO");
        assert_eq!((m.action, m.edits, m.phrase.as_str()), (Unsub, 1, "MI CANCELLO"));
        assert_eq!(one("attiva iscrizzione").edits, 1);
        assert_eq!(one("atiiva iscrizione").edits, 1);
        assert_eq!(one("iscirvimi").edits, 1); // transposition
        assert_eq!(action("attva iscrizzione"), Some(Sub)); // one edit in each long word
        assert_eq!(action("cancelllamii"), None); // two edits in one word
    }

    #[test]
    fn short_words_must_be_exact() {
        assert_eq!(action("ti cancello"), None);
        assert_eq!(action("me cancello"), None);
        assert_eq!(action("ne m'inscris"), None);
    }

    #[test]
    fn joined_spacing_uses_capped_budget() {
        // Joined comparison: one edit allowed per long phrase word, at most two.
        assert_eq!(one("attivaiscrizzione").edits, 1);
        assert_eq!(one("ativaiscrizzione").edits, 2);
        assert_eq!(action("atvaiscrizzine"), None);
    }

    #[test]
    fn never_confuses_subscribe_with_unsubscribe() {
        assert_eq!(action("DISATTIVA ISCRIZIONE"), Some(Unsub));
        assert_eq!(action("disattivaiscrizione"), Some(Unsub));
        assert_eq!(action("JE ME DÉSINSCRIS"), Some(Unsub));
        assert_eq!(action("je me desinscris"), Some(Unsub));
        assert_eq!(action("disiscrivimi"), None);
        let m = one("dis attiva iscrizione");
        assert_eq!((m.action, m.position), (Unsub, Position::Whole));
        let m = one("dis attiva iscrizione grazie");
        assert_eq!((m.action, m.position), (Unsub, Position::Inside));
        // Read fuzzily as the whole message, "as attiva iscrizione" is two edits from
        // `disattiva iscrizione`; it must not silently unsubscribe.
        assert!(matches!(set().find("as attiva iscrizione"), Found::Ambiguous(..)));
        assert_eq!(action("di sattiva iscrizione"), Some(Unsub));
    }

    #[test]
    fn different_actions_side_by_side_are_ambiguous() {
        assert!(matches!(set().find("iscrivimi cancellami"), Found::Ambiguous(..)));
        assert!(matches!(set().find("mi iscrivo o mi cancello?"), Found::Ambiguous(..)));
        // Same action twice is not ambiguous.
        assert_eq!(action("iscrivimi, mi iscrivo"), Some(Sub));
    }

    #[test]
    fn equal_phrases_of_two_actions_are_ambiguous() {
        let mut s = KeywordSet::new();
        s.add(Sub, "it", "STOP", false);
        s.add(Unsub, "it", "stop!", false);
        assert!(matches!(s.find("Stop"), Found::Ambiguous(..)));
    }

    #[test]
    fn inside_a_short_message() {
        let t = "Buongiorno, vorrei ATTIVA ISCRIZIONE grazie";
        let m = one(t);
        assert_eq!((m.action, m.position), (Sub, Position::Inside));
        assert_eq!(&t[m.span], "ATTIVA ISCRIZIONE");
        let long = "Buongiorno, volevo sapere se per caso mi iscrivo al servizio potrò poi \
            ricevere anche le notizie sulla raccolta dei rifiuti e sugli eventi estivi \
            organizzati dalla pro loco nel mese di agosto";
        assert_eq!(set().find(long), Found::None);
    }

    #[test]
    fn prefix_phrase_takes_free_data() {
        let t = "REGISTRAZIONE Mario Rossi - Isili 12/03/1980 - Autorizzo la ricezione di sms \
            WhatsApp - Acconsento Privacy";
        let m = one(t);
        assert_eq!((m.action, m.position), (Register, Position::Prefix));
        assert_eq!(&t[m.span], "REGISTRAZIONE");
        assert_eq!(one("Registrazione").position, Position::Whole);
        assert_eq!(one("registrazzione: Mario Rossi").edits, 1);
        // A non-prefix phrase at the start of a long message does not match.
        let long = format!("cancellami {}", "parola ".repeat(20));
        assert_eq!(set().find(&long), Found::None);
    }

    #[test]
    fn rank_prefers_whole_then_fewer_edits() {
        let mut s = KeywordSet::new();
        s.add(Sub, "it", "iscrivimi", false);
        s.add(Unsub, "it", "iscriviti", false);
        let Found::One(m) = s.find("iscrivimi") else { panic!() };
        assert_eq!((m.action, m.edits), (Sub, 0));
    }

    #[test]
    fn empty_and_huge_inputs() {
        assert_eq!(set().find(""), Found::None);
        assert_eq!(set().find("🙏🙏 !!"), Found::None);
        let huge = "parola ".repeat(10_000);
        assert_eq!(set().find(&huge), Found::None);
        let one_word = "a".repeat(100_000);
        assert_eq!(set().find(&one_word), Found::None);
        let reg = format!("REGISTRAZIONE {}", "x".repeat(100_000));
        assert_eq!(one(&reg).position, Position::Prefix);
    }

    #[test]
    fn empty_phrase_is_ignored() {
        let mut s = KeywordSet::new();
        s.add(Sub, "it", "🙂", false);
        assert_eq!(s.find("🙂"), Found::None);
    }

    #[test]
    fn conflicts_between_actions() {
        assert!(set().conflicts().is_empty(), "{:?}", set().conflicts());
        let mut s = set();
        s.add(Register, "it", "attiva iscrizzione", false);
        s.add(Unsub, "it", "Attiva  Iscrizione!", false);
        let c = s.conflicts();
        assert!(c
            .iter()
            .any(|(a, _, b, p)| (*a, *b) == (Sub, Register) && p == "attiva iscrizzione"));
        assert!(c.iter().any(|(a, _, b, _)| (*a, *b) == (Sub, Unsub)));
        assert!(c.iter().any(|(a, _, b, _)| (*a, *b) == (Register, Unsub)));
        assert_eq!(c.len(), 3, "{c:?}");
    }

    #[test]
    fn find_all_reports_every_occurrence() {
        let mut s = KeywordSet::new();
        s.add("messages", "it", "autorizzo", false);
        s.add("privacy", "it", "acconsento privacy", false);
        let t = format!("{} autorizzo la ricezione e acconsento privacy", "parola ".repeat(50));
        let found: Vec<&str> = s.find_all(&t).into_iter().map(|m| m.action).collect();
        assert_eq!(found, ["messages", "privacy"]);
    }
}
