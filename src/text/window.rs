//! One keyword phrase against a window of a message's words.
//!
//! Owns the typo and spacing rules: words of 5+ chars forgive one edit, shorter words
//! none; when the window has another number of words than the phrase, the words are
//! joined without spaces and compared with at most one edit per long phrase word (two at
//! most). It must not rank phrases against each other: that is `keyword.rs`.
//!
//! Cost: per phrase a bounded number of windows. Inside search is skipped for long
//! messages and windows stop growing as soon as they are longer than the phrase could
//! be, so a 100 KB message is linear.

use std::ops::Range;

use super::distance::bounded_distance;
use super::keyword::Position;
use super::normalize::{tokens, Token};

/// Words of this many chars or more tolerate one edit; shorter words must be exact.
const LONG_WORD: usize = 5;
/// Most edits ever allowed when comparing words joined without spaces.
const MAX_JOINED_EDITS: usize = 2;
/// Words a message may carry besides the phrase for an Inside match.
const MAX_EXTRA_WORDS: usize = 4;

/// A phrase as added, with its normalized forms precomputed once.
#[derive(Debug, Clone)]
pub(super) struct Phrase<A> {
    pub(super) action: A,
    pub(super) lang: String,
    pub(super) text: String,
    pub(super) prefix: bool,
    pub(super) words: Vec<String>,
    pub(super) word_chars: Vec<usize>,
    pub(super) joined: String,
    pub(super) joined_chars: usize,
    /// Edits allowed when the input's word count differs from the phrase's.
    pub(super) budget: usize,
}

impl<A> Phrase<A> {
    /// Precomputes the normalized forms; `None` for a phrase with no letters or digits.
    pub(super) fn new(action: A, lang: &str, phrase: &str, prefix: bool) -> Option<Self> {
        let words: Vec<String> = tokens(phrase).into_iter().map(|t| t.norm).collect();
        if words.is_empty() {
            return None;
        }
        let word_chars: Vec<usize> = words.iter().map(|w| w.chars().count()).collect();
        let joined = words.concat();
        let long_words = word_chars.iter().filter(|&&c| c >= LONG_WORD).count();
        Some(Phrase {
            action,
            lang: lang.to_owned(),
            text: phrase.to_owned(),
            prefix,
            joined_chars: word_chars.iter().sum(),
            budget: long_words.min(MAX_JOINED_EDITS),
            words,
            word_chars,
            joined,
        })
    }
}

/// A word of the input as the matcher sees it.
#[derive(Clone, Copy)]
pub(super) struct Word<'a> {
    pub(super) norm: &'a str,
    pub(super) chars: usize,
}

/// The words of a tokenized message, with their lengths in chars.
pub(super) fn words_of(toks: &[Token]) -> Vec<Word<'_>> {
    toks.iter()
        .map(|t| Word {
            norm: &t.norm,
            chars: t.norm.chars().count(),
        })
        .collect()
}

/// The best windows of `words` for phrase `p`: (position, edits, word range).
///
/// Returns the best-ranked window and, when it is a different one, the window with the
/// fewest edits, so [`KeywordSet::find`] can see an exact reading hiding behind a fuzzy
/// whole-message one.
pub(super) fn best_windows<A>(p: &Phrase<A>, words: &[Word]) -> Vec<(Position, usize, Range<usize>)> {
    let n = words.len();
    let total: usize = words.iter().map(|w| w.chars).sum();
    let mut best: Option<(Position, usize, Range<usize>)> = None;
    let mut fewest: Option<(Position, usize, Range<usize>)> = None;
    let mut consider = |pos: Position, e: usize, r: Range<usize>| {
        if best.as_ref().is_none_or(|(bp, be, _)| (pos, e) < (*bp, *be)) {
            best = Some((pos, e, r.clone()));
        }
        if fewest.as_ref().is_none_or(|(fp, fe, _)| (e, pos) < (*fe, *fp)) {
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
        let pos = if p.prefix { Position::Prefix } else { Position::Inside };
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
pub(super) fn window_edits<A>(p: &Phrase<A>, window: &[Word]) -> Option<usize> {
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
pub(super) fn whole_match<A>(p: &Phrase<A>, q: &Phrase<A>) -> bool {
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

    fn phrase(s: &str) -> Phrase<()> {
        Phrase::new((), "it", s, false).expect("phrase")
    }

    fn edits(p: &str, input: &str) -> Option<usize> {
        let toks = tokens(input);
        window_edits(&phrase(p), &words_of(&toks))
    }

    #[test]
    fn budget_counts_long_words_capped_at_two() {
        assert_eq!(phrase("mi cancello").budget, 1);
        assert_eq!(phrase("attiva iscrizione").budget, 2);
        assert_eq!(phrase("voglio proprio cancellarmi").budget, 2);
        assert_eq!(phrase("ok si").budget, 0);
        assert!(Phrase::new((), "it", "!! 🙂", false).is_none());
    }

    #[test]
    fn word_by_word_when_counts_agree() {
        assert_eq!(edits("mi cancello", "mi cancelo"), Some(1));
        assert_eq!(edits("mi cancello", "ti cancello"), None);
        assert_eq!(edits("attiva iscrizione", "atiiva iscrizzione"), Some(2));
        assert_eq!(edits("disattiva iscrizione", "attiva iscrizione"), None);
    }

    #[test]
    fn joined_when_counts_differ() {
        assert_eq!(edits("attiva iscrizione", "attivaiscrizione"), Some(0));
        assert_eq!(edits("disattiva iscrizione", "dis attiva iscrizione"), Some(0));
        assert_eq!(edits("mi cancello", "micancelo"), Some(1));
        assert_eq!(edits("attiva iscrizione", "disattivaiscrizione"), None);
        assert_eq!(edits("iscrivimi", "dis iscrivimi"), None);
    }

    #[test]
    fn whole_windows_and_bail_out_on_long_messages() {
        let p = phrase("mi iscrivo");
        let toks = tokens("buongiorno mi iscrivo grazie");
        let got = best_windows(&p, &words_of(&toks));
        assert_eq!(got, [(Position::Inside, 0, 1..3)]);
        let long = format!("mi iscrivo {}", "parola ".repeat(5));
        let toks = tokens(&long);
        assert!(best_windows(&p, &words_of(&toks)).is_empty());
    }
}
