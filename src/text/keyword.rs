//! Tolerant keyword matching: which action did the citizen ask for?
//!
//! Owns the matching rules for keyword phrases (`ATTIVA ISCRIZIONE`, `MI CANCELLO`,
//! `JE M'INSCRIS`): insensitive to case, accents, punctuation, emoji and spacing, tolerant
//! of one typo per long word, and careful never to mistake a longer phrase for a shorter
//! one it contains (`DISATTIVA ISCRIZIONE` is not `ATTIVA ISCRIZIONE`).
//! It must not decide what an action does, nor hold any comune's keywords itself.
//!
//! Cost: one tokenization of the message, then per phrase a bounded number of windows.
//! Inside search is skipped for long messages and Prefix search stops as soon as the
//! window is longer than the phrase could be, so a 100 KB message is linear.

use std::cmp::Reverse;
use std::ops::Range;

use super::distance::bounded_distance;
use super::normalize::tokens;

/// Words of this many chars or more tolerate one edit; shorter words must be exact.
const LONG_WORD: usize = 5;
/// Most edits ever allowed when comparing words joined without spaces.
const MAX_JOINED_EDITS: usize = 2;
/// Words a message may carry besides the phrase for an Inside match.
const MAX_EXTRA_WORDS: usize = 4;

/// A set of keyword phrases, each tagged with an action `A` and a language tag.
#[derive(Debug, Clone)]
pub struct KeywordSet<A> {
    phrases: Vec<Phrase<A>>,
}

/// A phrase as added, with its normalized forms precomputed once.
#[derive(Debug, Clone)]
struct Phrase<A> {
    action: A,
    lang: String,
    text: String,
    prefix: bool,
    words: Vec<String>,
    word_chars: Vec<usize>,
    joined: String,
    joined_chars: usize,
    /// Edits allowed when the input's word count differs from the phrase's.
    budget: usize,
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

/// A word of the input as the matcher sees it.
#[derive(Clone, Copy)]
struct Word<'a> {
    norm: &'a str,
    chars: usize,
}

impl<A: Clone + PartialEq> Default for KeywordSet<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Clone + PartialEq> KeywordSet<A> {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            phrases: Vec::new(),
        }
    }

    /// `prefix`: the phrase may be followed by free data (Isili's "REGISTRAZIONE Mario Rossi - …").
    ///
    /// A phrase with no letters or digits (only punctuation or emoji) can never match and
    /// is ignored.
    pub fn add(&mut self, action: A, lang: &str, phrase: &str, prefix: bool) {
        let words: Vec<String> = tokens(phrase).into_iter().map(|t| t.norm).collect();
        if words.is_empty() {
            return;
        }
        let word_chars: Vec<usize> = words.iter().map(|w| w.chars().count()).collect();
        let joined = words.concat();
        let long_words = word_chars.iter().filter(|&&c| c >= LONG_WORD).count();
        self.phrases.push(Phrase {
            action,
            lang: lang.to_owned(),
            text: phrase.to_owned(),
            prefix,
            joined_chars: word_chars.iter().sum(),
            budget: long_words.min(MAX_JOINED_EDITS),
            words,
            word_chars,
            joined,
        });
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
        let words: Vec<Word> = toks
            .iter()
            .map(|t| Word {
                norm: &t.norm,
                chars: t.norm.chars().count(),
            })
            .collect();
        let mut cands: Vec<(usize, Match<A>)> = Vec::new();
        for (idx, p) in self.phrases.iter().enumerate() {
            for (pos, edits, r) in best_windows(p, &words) {
                let span = toks[r.start].start..toks[r.end - 1].end;
                cands.push((idx, self.to_match(idx, pos, edits, span)));
            }
        }
        cands.sort_by_key(|(idx, m)| {
            (
                m.position,
                m.edits,
                Reverse(self.phrases[*idx].joined_chars),
                *idx,
            )
        });
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
                let same_len =
                    self.phrases[*idx].joined_chars == self.phrases[*best_idx].joined_chars;
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
                    out.push((
                        p.action.clone(),
                        p.text.clone(),
                        q.action.clone(),
                        q.text.clone(),
                    ));
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
        let words: Vec<Word> = toks
            .iter()
            .map(|t| Word {
                norm: &t.norm,
                chars: t.norm.chars().count(),
            })
            .collect();
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
                let pos = if start == 0 && end == words.len() {
                    Position::Whole
                } else if start == 0 {
                    Position::Prefix
                } else {
                    Position::Inside
                };
                let span = toks[start].start..toks[end - 1].end;
                out.push(self.to_match(idx, pos, edits, span));
            }
        }
        out
    }

    fn to_match(
        &self,
        idx: usize,
        position: Position,
        edits: usize,
        span: Range<usize>,
    ) -> Match<A> {
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

/// The best windows of `words` for phrase `p`: (position, edits, word range).
///
/// Returns the best-ranked window and, when it is a different one, the window with the
/// fewest edits, so [`KeywordSet::find`] can see an exact reading hiding behind a fuzzy
/// whole-message one.
fn best_windows<A>(p: &Phrase<A>, words: &[Word]) -> Vec<(Position, usize, Range<usize>)> {
    let n = words.len();
    let total: usize = words.iter().map(|w| w.chars).sum();
    let mut best: Option<(Position, usize, Range<usize>)> = None;
    let mut fewest: Option<(Position, usize, Range<usize>)> = None;
    let mut consider = |pos: Position, e: usize, r: Range<usize>| {
        if best
            .as_ref()
            .is_none_or(|(bp, be, _)| (pos, e) < (*bp, *be))
        {
            best = Some((pos, e, r.clone()));
        }
        if fewest
            .as_ref()
            .is_none_or(|(fp, fe, _)| (e, pos) < (*fe, *fp))
        {
            fewest = Some((pos, e, r));
        }
    };
    // Whole: only worth comparing when the lengths can be within budget.
    if total <= p.joined_chars + p.budget {
        if let Some(e) = window_edits(p, words) {
            consider(Position::Whole, e, 0..n);
        }
    }
    let k = p.words.len();
    let inside_ok = n <= k + MAX_EXTRA_WORDS;
    if p.prefix || inside_ok {
        // Windows from the first word: Prefix for prefix phrases, else Inside.
        let pos = if p.prefix {
            Position::Prefix
        } else {
            Position::Inside
        };
        let mut chars = 0;
        for end in 1..n {
            chars += words[end - 1].chars;
            if chars > p.joined_chars + p.budget {
                break;
            }
            if pos == Position::Inside && n - end > MAX_EXTRA_WORDS {
                continue;
            }
            if let Some(e) = window_edits(p, &words[..end]) {
                consider(pos, e, 0..end);
            }
        }
    }
    if inside_ok {
        for start in 1..n {
            let mut chars = 0;
            for end in start + 1..=n {
                chars += words[end - 1].chars;
                if chars > p.joined_chars + p.budget {
                    break;
                }
                if n - (end - start) > MAX_EXTRA_WORDS {
                    continue;
                }
                if let Some(e) = window_edits(p, &words[start..end]) {
                    consider(Position::Inside, e, start..end);
                }
            }
        }
    }
    let mut out: Vec<_> = best.into_iter().collect();
    if let Some(f) = fewest {
        if out.first().is_some_and(|b| b.1 != f.1) {
            out.push(f);
        }
    }
    out
}

/// Edits needed for `window` to read as phrase `p`, if within tolerance.
fn window_edits<A>(p: &Phrase<A>, window: &[Word]) -> Option<usize> {
    if window.len() == p.words.len() {
        // Word by word: long words forgive one edit, short words none.
        let mut edits = 0;
        for ((pw, &pc), w) in p.words.iter().zip(&p.word_chars).zip(window) {
            if pc >= LONG_WORD {
                edits += bounded_distance(pw, w.norm, 1)?;
            } else if pw != w.norm {
                return None;
            }
        }
        return Some(edits);
    }
    // Spacing differs: compare the words joined without spaces.
    let chars: usize = window.iter().map(|w| w.chars).sum();
    if chars.abs_diff(p.joined_chars) > p.budget {
        return None;
    }
    let joined: String = window.iter().map(|w| w.norm).collect();
    bounded_distance(&p.joined, &joined, p.budget)
}

/// Whether phrase `q`, typed as a whole message, matches phrase `p`.
fn whole_match<A>(p: &Phrase<A>, q: &Phrase<A>) -> bool {
    let words: Vec<Word> = q
        .words
        .iter()
        .zip(&q.word_chars)
        .map(|(w, &c)| Word { norm: w, chars: c })
        .collect();
    window_edits(p, &words).is_some()
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
            assert_eq!(
                (m.action, m.position, m.edits),
                (Unsub, Position::Whole, 0),
                "{t}"
            );
        }
        for t in [
            "ATTIVA  ISCRIZIONE.",
            "attivaiscrizione",
            "attiva iscri zione",
        ] {
            let m = one(t);
            assert_eq!(
                (m.action, m.position, m.edits),
                (Sub, Position::Whole, 0),
                "{t}"
            );
        }
        assert_eq!(one("je m’inscris").lang, "fr");
    }

    #[test]
    fn one_typo_per_long_word() {
        let m = one("MI CANCELO");
        assert_eq!(
            (m.action, m.edits, m.phrase.as_str()),
            (Unsub, 1, "MI CANCELLO")
        );
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
        assert!(matches!(
            set().find("as attiva iscrizione"),
            Found::Ambiguous(..)
        ));
        assert_eq!(action("di sattiva iscrizione"), Some(Unsub));
    }

    #[test]
    fn different_actions_side_by_side_are_ambiguous() {
        assert!(matches!(
            set().find("iscrivimi cancellami"),
            Found::Ambiguous(..)
        ));
        assert!(matches!(
            set().find("mi iscrivo o mi cancello?"),
            Found::Ambiguous(..)
        ));
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
        let Found::One(m) = s.find("iscrivimi") else {
            panic!()
        };
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
        let t = format!(
            "{} autorizzo la ricezione e acconsento privacy",
            "parola ".repeat(50)
        );
        let found: Vec<&str> = s.find_all(&t).into_iter().map(|m| m.action).collect();
        assert_eq!(found, ["messages", "privacy"]);
    }
}
