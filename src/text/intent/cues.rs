//! The cues around a predicate: clauses, negation and its reach, contrast, retraction,
//! hypotheticals and questions; and what a message says besides its intent (thanks or a
//! greeting and nothing else, the language it is written in). Called by `understand`.

use super::{Cand, Intent, Lexicon, Polarity};
use crate::text::normalize::Token;

/// A clause: a word range, and whether it opens with a contrast ("ma", "mais").
#[derive(Debug, Clone, Copy)]
pub(super) struct Clause {
    pub(super) lo: usize,
    pub(super) hi: usize,
    pub(super) contrast: bool,
    /// Ends with a question mark.
    pub(super) asked: bool,
}

/// Whether `text` has a letter typed three times in a row.
pub(super) fn has_stretch(text: &str) -> bool {
    let mut run = (None, 0);
    for c in text.chars() {
        run = if Some(c) == run.0 {
            (run.0, run.1 + 1)
        } else {
            (Some(c), 1)
        };
        if run.1 >= 3 && c.is_alphabetic() {
            return true;
        }
    }
    false
}

/// Runs of three or more of one letter squeezed to one ("cancellamiii", "siii").
pub(super) fn squeeze(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut j = i;
        while j < chars.len() && chars[j].to_lowercase().eq(c.to_lowercase()) {
            j += 1;
        }
        if c.is_alphabetic() && j - i >= 3 {
            out.push(c);
        } else {
            out.extend(&chars[i..j]);
        }
        i = j;
    }
    out
}

/// Splits the message into clauses at punctuation and at contrast words.
pub(super) fn clauses(text: &str, toks: &[Token], words: &[&str], lexicons: &[&Lexicon]) -> Vec<Clause> {
    let mut out: Vec<Clause> = Vec::new();
    let mut lo = 0;
    let mut contrast = false;
    for i in 1..=toks.len() {
        let gap = if i < toks.len() {
            &text[toks[i - 1].end..toks[i].start]
        } else {
            &text[toks[i - 1].end..]
        };
        let punct = gap
            .chars()
            .any(|c| matches!(c, ',' | '.' | ';' | ':' | '!' | '?' | '\n' | '…'));
        let next_contrast = i < toks.len() && lexicons.iter().any(|l| l.contrast.has(words[i]));
        if i == toks.len() || punct || next_contrast {
            out.push(Clause {
                lo,
                hi: i,
                contrast,
                asked: gap.contains('?'),
            });
            lo = i;
            contrast = next_contrast;
        }
    }
    out
}

/// Whether `phrase` occurs in `words[lo..hi]`.
fn has_phrase(words: &[&str], lo: usize, hi: usize, phrase: &[String]) -> bool {
    let n = phrase.len();
    n > 0 && hi >= lo + n && (lo..=hi - n).any(|i| words[i..i + n].iter().zip(phrase).all(|(w, p)| *w == p))
}

/// Most words back a negation reaches.
const NEG_REACH: usize = 6;

pub(super) fn polarity(words: &[&str], clauses: &[Clause], c: &Cand, lexicons: &[&Lexicon]) -> Polarity {
    let cl = clauses[c.clause];
    let mut polarity = Polarity::Affirmed;
    // Back from the predicate to the start of its clause, until a blocker.
    let from = c.words.start.saturating_sub(NEG_REACH).max(cl.lo);
    for i in (from..c.words.start).rev() {
        let w = words[i];
        if lexicons.iter().any(|l| l.negation.has(w)) {
            polarity = Polarity::Negated;
            break;
        }
        if lexicons.iter().any(|l| l.weak_negation.has(w)) {
            polarity = Polarity::Uncertain;
            break;
        }
        if lexicons.iter().any(|l| l.blockers.has(w)) {
            break;
        }
    }
    // A negation inside the predicate ("voglio non essere…", "je ne veux pas me désinscrire"
    // read as "veux ... désinscrire") or right after it ("je m'inscris pas").
    if polarity == Polarity::Affirmed {
        let inside = (c.words.start + 1..c.words.end).any(|i| lexicons.iter().any(|l| l.negation.has(words[i])));
        let after =
            (c.words.end..(c.words.end + 2).min(cl.hi)).any(|i| lexicons.iter().any(|l| l.post_negation.has(words[i])));
        if inside || after {
            polarity = Polarity::Negated;
        }
    }
    // Taken back later in the message ("mi iscrivo… anzi no", "ci ho ripensato").
    if lexicons
        .iter()
        .any(|l| l.retract.iter().any(|p| has_phrase(words, c.words.end, words.len(), p)))
    {
        return Polarity::Negated;
    }
    // A later contrast clause with a negation and no reading of its own ("sì, ma non ora").
    for later in clauses.iter().skip(c.clause + 1).filter(|k| k.contrast) {
        let negates = (later.lo..later.hi).any(|i| {
            lexicons
                .iter()
                .any(|l| l.negation.has(words[i]) || l.weak_negation.has(words[i]))
        });
        if negates {
            return Polarity::Negated;
        }
    }
    if polarity != Polarity::Affirmed {
        return polarity;
    }
    // Supposed or asked about.
    let hypothetical = lexicons.iter().any(|l| {
        l.hypothetical
            .iter()
            .any(|p| has_phrase(words, cl.lo, c.words.start, p))
    });
    let question = cl.asked
        || lexicons
            .iter()
            .any(|l| l.question.iter().any(|p| has_phrase(words, cl.lo, c.words.start, p)));
    if hypothetical || question {
        return Polarity::Uncertain;
    }
    Polarity::Affirmed
}

/// Thanks or a greeting, when that (and filler) is the whole message.
pub(super) fn social(words: &[&str], read: &[Cand], lexicons: &[&Lexicon]) -> Option<Intent> {
    let mut covered = vec![false; words.len()];
    let mut thanks = false;
    let mut greeting = false;
    for c in read.iter().filter(|c| c.social || c.intent == Intent::Yes) {
        if c.polarity == Polarity::Negated {
            return None;
        }
        for slot in covered[c.words.clone()].iter_mut() {
            *slot = true;
        }
        thanks |= c.intent == Intent::Thanks;
        greeting |= c.intent == Intent::Greeting;
    }
    let all = words
        .iter()
        .zip(&covered)
        .all(|(w, cov)| *cov || lexicons.iter().any(|l| l.filler.has(w)));
    if !all {
        return None;
    }
    if thanks {
        Some(Intent::Thanks)
    } else if greeting {
        Some(Intent::Greeting)
    } else {
        None
    }
}

/// The language the message is written in: its words that only one lexicon marks, and the
/// language of what was found.
pub(super) fn language_of(words: &[&str], lexicons: &[&Lexicon], read: &[Cand]) -> Option<String> {
    if lexicons.len() < 2 {
        return lexicons.first().map(|l| l.lang.clone()).filter(|_| !words.is_empty());
    }
    let mut scores: Vec<(usize, &str)> = lexicons
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let own = words
                .iter()
                .filter(|w| l.markers.has(w) && !lexicons.iter().enumerate().any(|(j, o)| j != i && o.markers.has(w)))
                .count();
            let found = read
                .iter()
                .filter(|c| c.intent != Intent::Language && c.found.lang == l.lang)
                .count();
            (own + found, l.lang.as_str())
        })
        .collect();
    scores.sort_by_key(|s| std::cmp::Reverse(s.0));
    match scores.as_slice() {
        [(best, lang), (second, _), ..] if *best > *second => Some(lang.to_string()),
        _ => None,
    }
}
