//! The words of a message as `compose` reads them: each folded word with its offsets,
//! its sentence, clause, quote and commas; words run together cut back into the words
//! they were ("tousdesvoleurs"); and whether a word was written as a name.
//!
//! Must not: know word classes beyond asking `Words` to cut a word.

use super::words::Words;
use super::Class;
use crate::moderation::normalize::Normalized;

/// A word of the folded message.
#[derive(Clone, Copy)]
pub(super) struct Token<'a> {
    pub(super) word: &'a str,
    /// Folded byte range.
    pub(super) start: usize,
    pub(super) end: usize,
    /// Original byte range.
    pub(super) orig: (usize, usize),
    /// The clause it belongs to (sentences, split again at contrasts).
    pub(super) clause: usize,
    /// The sentence it belongs to.
    pub(super) sentence: usize,
    /// Inside quotation marks.
    pub(super) quoted: bool,
    /// Commas before it in its sentence: a negation does not reach past one.
    pub(super) commas: usize,
}

/// The words of `text` (folded as `norm`), with words run together read as the words
/// they were.
pub(super) fn tokens<'a>(text: &str, norm: &'a Normalized, words: &Words<Class>) -> Vec<Token<'a>> {
    let whole = tokenize(text, norm);
    let mut out = Vec::with_capacity(whole.len());
    for t in whole {
        match words.segment(t.word) {
            Some(pieces) => out.extend(pieces.into_iter().map(|(a, b)| Token {
                word: &t.word[a..b],
                start: t.start + a,
                end: t.start + b,
                orig: norm.original_range(t.start + a, t.start + b),
                ..t
            })),
            None => out.push(t),
        }
    }
    out
}

/// Whether the word at token `at` was written as a name: a capital inside a sentence, not
/// the whole word in capitals.
pub(super) fn written_as_name(text: &str, tokens: &[Token], at: usize) -> bool {
    let (start, end) = tokens[at].orig;
    let word = text.get(start..end).unwrap_or("");
    let capital = word.chars().next().is_some_and(char::is_uppercase);
    let shouted = word.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase);
    if !capital || shouted {
        return false;
    }
    let before = text[..start].trim_end();
    // After a title it is a surname even at the start ("M. Nègre", "Sig. Negri").
    let title = before
        .rsplit(|c: char| !c.is_alphabetic())
        .find(|w| !w.is_empty())
        .is_some_and(|w| TITLES.contains(&w.to_lowercase().as_str()));
    // After a plural article it is a group, not someone's name ("les Ch1nt0ks").
    let plural = before
        .rsplit(|c: char| !c.is_alphabetic())
        .find(|w| !w.is_empty())
        .is_some_and(|w| PLURAL_ARTICLES.contains(&w.to_lowercase().as_str()));
    !plural
        && (title
            || !(before.is_empty() || before.ends_with(['.', '!', '?', ':', ';', '\n', '"', '«', '“', '\'', '('])))
}

/// Plural articles and determiners, after which a capitalised word is a group.
const PLURAL_ARTICLES: [&str; 16] = [
    "les", "des", "ces", "mes", "tes", "ses", "nos", "vos", "i", "gli", "questi", "queste", "quei", "sti", "dei",
    "degli",
];

/// Titles after which a word is a surname.
const TITLES: [&str; 18] = [
    "m",
    "mme",
    "mlle",
    "monsieur",
    "madame",
    "mademoiselle",
    "sig",
    "signor",
    "signore",
    "signora",
    "dott",
    "dottor",
    "dottoressa",
    "prof",
    "professor",
    "professore",
    "professoressa",
    "famiglia",
];

/// Quotation marks that open and close a quote.
fn quote_mark(c: char) -> bool {
    matches!(c, '"' | '«' | '»' | '“' | '”' | '„')
}

/// The folded words with their offsets, sentences, (first) clauses and quotes. A sentence
/// ends where the original has `.`, `!`, `?`, `;` or a line break between two words.
fn tokenize<'a>(text: &str, norm: &'a Normalized) -> Vec<Token<'a>> {
    let mut tokens = Vec::new();
    let mut sentence = 0;
    let mut previous_end: Option<usize> = None;
    let mut quoted = false;
    let mut commas = 0;
    let mut at = 0;
    for word in norm.text.split(' ') {
        let start = at;
        at += word.len() + 1;
        if word.is_empty() {
            continue;
        }
        let end = start + word.len();
        let (orig_start, orig_end) = norm.original_range(start, end);
        let between = match previous_end {
            Some(prev) => text.get(prev..orig_start).unwrap_or(""),
            None => text.get(..orig_start).unwrap_or(""),
        };
        if previous_end.is_some() && between.contains(['.', '!', '?', ';', '\n']) {
            sentence += 1;
            commas = 0;
        }
        commas += between.matches(',').count();
        // A single quote opens or closes a quote only beside a space ("l'umido" is not one).
        let spaced = previous_end.is_none() || between.chars().any(char::is_whitespace);
        let marks = between.chars().filter(|c| quote_mark(*c)).count()
            + if spaced {
                between.chars().filter(|c| matches!(c, '\'' | '‘' | '’')).count()
            } else {
                0
            };
        if marks % 2 == 1 {
            quoted = !quoted;
        }
        previous_end = Some(orig_end);
        tokens.push(Token {
            word,
            start,
            end,
            orig: (orig_start, orig_end),
            clause: sentence,
            sentence,
            quoted,
            commas,
        });
    }
    // A quote left open was not a quote.
    if quoted {
        let last_open = tokens.iter().rposition(|t| !t.quoted).map_or(0, |i| i + 1);
        for t in &mut tokens[last_open..] {
            t.quoted = false;
        }
    }
    tokens
}
