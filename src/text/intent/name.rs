//! Whether an answer to a name step is a name: one to three name-like words (a full name:
//! two to five), not a sentence, a question or a greeting. "Mi chiamo Mario" gives Mario.

use super::Lexicon;
use crate::text::normalize::tokens;
use crate::text::registration::{check_person_name, NameError};

/// Why an answer is not a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    /// The characters are wrong (digits, symbols, empty, too long).
    Chars(NameError),
    /// A word that is never part of a name, a question, or too many words: a sentence.
    Sentence,
    /// Fewer name words than the step needs (a full name needs two).
    TooFew,
}

/// Checks `answer` as a name of `min..=max` words (particles such as "De" or "della" not
/// counted) in the languages of `lexicons`; returns the name as written, without an
/// introduction such as "mi chiamo".
pub fn check_name(answer: &str, lexicons: &[&Lexicon], min: usize, max: usize) -> Result<String, NameProblem> {
    let toks = tokens(answer);
    let words: Vec<&str> = toks.iter().map(|t| t.norm.as_str()).collect();
    // The longest introduction the answer starts with, if a name follows it.
    let intro = lexicons
        .iter()
        .flat_map(|l| l.name_intro.iter())
        .filter(|p| p.len() < words.len() && words.iter().zip(p.iter()).all(|(w, p)| w == p))
        .map(Vec::len)
        .max()
        .unwrap_or(0);
    let rest = match toks.get(intro) {
        Some(t) if intro > 0 => &answer[t.start..],
        _ => answer,
    };
    if answer.contains('?') {
        return Err(NameProblem::Sentence);
    }
    let name = check_person_name(rest).map_err(NameProblem::Chars)?;
    let mut count = 0;
    for w in &words[intro..] {
        let particle = lexicons.iter().any(|l| l.particles.has(w));
        if !particle && lexicons.iter().any(|l| l.not_name.has(w)) {
            return Err(NameProblem::Sentence);
        }
        if !particle {
            count += 1;
        }
    }
    if count > max {
        return Err(NameProblem::Sentence);
    }
    if count < min.max(1) {
        return Err(NameProblem::TooFew);
    }
    Ok(name)
}
