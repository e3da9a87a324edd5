//! Weighing lexicon hits against their context: counter-speech and proper names.
//!
//! A hit of a rule's lexicon becomes a [`Span`] unless
//! - a counter-speech marker (`counter.txt`: "mi hanno chiamato", "on m'a traité de",
//!   "hanno scritto") comes shortly before it: the citizen is reporting or quoting an
//!   insult, not using it;
//! - the entry is marked `~` (a word that is also a surname or a town, such as "Troia")
//!   and the citizen wrote it as a name: capitalized inside a sentence, after a title
//!   (`signora troia`), or at the start of a sentence and followed by another capitalized
//!   word ("Troia Maria").
//!
//! Must not: look at personal data (see [`super::pii`]) or decide the verdict.

use super::lexicon::{Hit, Kind};
use super::normalize::Normalized;
use super::pii::Marker;
use super::Span;

/// How far (in folded bytes) a counter-speech marker reaches forward.
const COUNTER_WINDOW: usize = 60;

/// Titles that make the next word a surname.
const TITLES: [&str; 24] = [
    "sig",
    "signor",
    "signore",
    "signora",
    "signorina",
    "sigg",
    "sigra",
    "dott",
    "dottor",
    "dottoressa",
    "avv",
    "geom",
    "ing",
    "prof",
    "famiglia",
    "fam",
    "cognome",
    "madame",
    "monsieur",
    "mme",
    "mlle",
    "m",
    "mr",
    "nom",
];

/// The rule spans of a message and the context markers for [`super::pii`].
pub fn weigh(text: &str, norm: &Normalized, hits: &[Hit]) -> (Vec<Span>, Vec<Marker>) {
    let mut counter_ends: Vec<usize> = hits
        .iter()
        .filter(|h| h.meta.kind == Kind::Counter)
        .map(|h| h.end)
        .collect();
    counter_ends.sort_unstable();
    let mut spans = Vec::new();
    let mut markers = Vec::new();
    for hit in hits {
        let (start, end) = norm.original_range(hit.start, hit.end);
        let rule = match hit.meta.kind {
            Kind::Rule(rule) => rule,
            Kind::Counter => continue,
            kind => {
                markers.push(Marker { kind, start, end });
                continue;
            }
        };
        if countered(&counter_ends, hit.start) {
            continue;
        }
        let one_word = !norm.text[hit.start..hit.end].contains(' ');
        if (one_word && after_title(norm, hit.start)) || (hit.meta.proper && written_as_name(text, start, end)) {
            continue;
        }
        if let Some(t) = text.get(start..end) {
            spans.push(Span {
                start,
                end,
                rule,
                text: t.to_string(),
                why: None,
            });
        }
    }
    (spans, markers)
}

/// Is there a counter-speech marker ending shortly before `start`?
fn countered(sorted_ends: &[usize], start: usize) -> bool {
    // The last marker ending at or before `start`.
    let i = sorted_ends.partition_point(|&e| e <= start);
    i > 0 && start - sorted_ends[i - 1] <= COUNTER_WINDOW
}

/// Does a title ("signora", "madame") come right before? Then a single word is a
/// surname, whatever it means otherwise ("la signora Bastardi"); a phrase is not
/// ("la signora è una ladra").
fn after_title(norm: &Normalized, norm_start: usize) -> bool {
    let previous = norm
        .text
        .get(..norm_start)
        .and_then(|t| t.split_whitespace().last())
        .unwrap_or("");
    TITLES.contains(&previous)
}

/// Was the word at `text[start..end]`, one that is also a surname or a town, written as
/// a name?
fn written_as_name(text: &str, start: usize, end: usize) -> bool {
    let word = &text[start..end];
    let mut chars = word.chars();
    let capital = chars.next().is_some_and(char::is_uppercase);
    let shouted = word.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase);
    if !capital || shouted {
        return false;
    }
    let before = text[..start].trim_end();
    let sentence_start = before.is_empty() || before.ends_with(['.', '!', '?', ':', ';', '\n', '"', '«', '“']);
    if !sentence_start {
        return true;
    }
    // "Troia Maria ha chiamato": a capitalized word after it makes it a name.
    text[end..]
        .split_whitespace()
        .next()
        .and_then(|w| w.chars().next())
        .is_some_and(char::is_uppercase)
}

#[cfg(test)]
mod tests {
    use super::super::lexicon::Lexicon;
    use super::super::normalize::normalize;
    use super::super::Rule;
    use super::*;

    fn spans(text: &str) -> Vec<String> {
        let lex = Lexicon::build(
            "",
            &[
                (Kind::Rule(Rule::Vulgar), "v.txt", "~troia\nmerda\n"),
                (Kind::Rule(Rule::Hate), "h.txt", "terrone\n"),
                (Kind::Counter, "c.txt", "mi hanno chiamato\n"),
            ],
        )
        .unwrap();
        let norm = normalize(text);
        let hits = lex.scan(&norm);
        weigh(text, &norm, &hits).0.into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn counter_speech_is_allowed() {
        assert!(spans("mi hanno chiamato 'terrone' per strada, è inaccettabile").is_empty());
        assert_eq!(spans("sei un terrone"), ["terrone"]);
    }

    #[test]
    fn surnames_are_not_insults() {
        assert!(spans("la signora Troia dell'anagrafe").is_empty());
        assert!(spans("ho parlato con la signora troia").is_empty());
        assert!(spans("Troia Maria, nata a Cagliari").is_empty());
        assert!(
            spans("sono la signora Merda").is_empty(),
            "after a title any word is a surname"
        );
        assert_eq!(spans("sei una troia"), ["troia"]);
        assert_eq!(spans("Troia!"), ["Troia"]);
        assert_eq!(spans("SEI UNA TROIA"), ["TROIA"]);
    }

    #[test]
    fn spans_point_at_the_original() {
        assert_eq!(spans("che M3RD4444!"), ["M3RD4444"]);
    }

    #[test]
    fn markers_are_passed_on() {
        let lex = Lexicon::build("", &[(Kind::Own, "o.txt", "abito in\n")]).unwrap();
        let text = "Abito in via Roma 12";
        let norm = normalize(text);
        let (spans, markers) = weigh(text, &norm, &lex.scan(&norm));
        assert!(spans.is_empty());
        assert_eq!((markers[0].start, markers[0].end), (0, 8));
    }
}
