//! Isili's one-shot registration line, and the checks on a name or a place.
//!
//! Owns reading "Nome e Cognome - Luogo e data di nascita – Autorizzo la ricezione di sms
//! WhatsApp – Acconsento Privacy" as citizens actually type it: any dash or comma as
//! separator, "nato a"/"né à", dates with dashes inside, parts missing. When the text
//! does not say where the name ends and the place begins, it does not guess: the engine
//! asks. It must not decide whether a date is acceptable nor store anything.

use std::ops::Range;

use jiff::civil::Date;

use super::date::{find_date, DateError};
use super::keyword::KeywordSet;
use super::normalize::{tokens, Token};

/// What a one-shot registration line says; `None` for what it does not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OneShot {
    /// As written, trimmed, inner whitespace collapsed.
    pub full_name: Option<String>,
    /// As written, trimmed, inner whitespace collapsed.
    pub birth_place: Option<String>,
    /// The first date in the line, or why the date-like text there is not a date.
    pub birth_date: Option<Result<Date, DateError>>,
    /// Names of the consents found, from the `consents` phrases given.
    pub consents: Vec<String>,
}

/// Why a name or place answer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing but spaces.
    #[error("empty")]
    Empty,
    /// Contains a digit.
    #[error("digits")]
    Numeric,
    /// Longer than [`MAX_NAME_CHARS`].
    #[error("too long")]
    TooLong,
    /// Other symbols, or fewer than two letters.
    #[error("not a name")]
    Invalid,
}

/// Longest name or place accepted, in chars.
pub const MAX_NAME_CHARS: usize = 80;

/// Words that introduce the birth place: "nato a", "nata ad", "né à", "nato/a a".
const BORN: &[&str] = &["nato", "nata", "nati", "nate", "ne", "nee", "nascita"];
const AT: &[&str] = &["a", "ad", "in"];
/// Words left dangling before a date or after a place ("nato il", "Isili, il").
const TRAILING: &[&str] = &[
    "il", "le", "lo", "del", "in", "data", "giorno", "nato", "nata", "ne", "nee", "a", "ad", "e", "et",
];
/// Labels copied from the notice ("Luogo e data di nascita: Isili").
const LABELS: &[&[&str]] = &[
    &["luogo", "e", "data", "di", "nascita"],
    &["luogo", "di", "nascita"],
    &["data", "di", "nascita"],
    &["nome", "e", "cognome"],
    &["cognome", "e", "nome"],
    &["nome"],
    &["cognome"],
    &["lieu", "et", "date", "de", "naissance"],
    &["lieu", "de", "naissance"],
    &["date", "de", "naissance"],
    &["nom", "et", "prenom"],
    &["prenom", "et", "nom"],
];

/// `consents`: (consent name, phrases) e.g. [("messages", ["autorizzo la ricezione", "autorizzo"]), ("privacy", ["acconsento privacy", "acconsento"])].
/// Phrases are matched tolerantly with the keyword rules above.
pub fn parse_one_shot(rest: &str, consents: &[(String, Vec<String>)], today: Date) -> OneShot {
    let date = find_date(rest, today);
    let date_span = date.as_ref().map(|d| d.span.clone());
    let overlaps_date = |r: &Range<usize>| date_span.as_ref().is_some_and(|d| r.start < d.end && d.start < r.end);

    let mut set = KeywordSet::new();
    for (name, phrases) in consents {
        for phrase in phrases {
            set.add(name.as_str(), "", phrase, true);
        }
    }
    let found: Vec<_> = set
        .find_all(rest)
        .into_iter()
        .filter(|m| !overlaps_date(&m.span))
        .collect();
    let consent_names = consents
        .iter()
        .filter(|(name, _)| found.iter().any(|m| m.action == name.as_str()))
        .map(|(name, _)| name.clone())
        .collect();

    let mut pieces = Vec::new();
    for seg in segments(rest, date_span.as_ref()) {
        // A consent ends the useful part of its segment: what follows it is its own free
        // text ("… di sms WhatsApp"), never a name or a place.
        let cut = found
            .iter()
            .map(|m| m.span.start)
            .filter(|s| seg.contains(s))
            .min()
            .unwrap_or(seg.end);
        match &date_span {
            Some(d) if d.start >= seg.start && d.end <= cut => {
                pieces.extend(analyze(rest, seg.start..d.start, false));
                pieces.extend(analyze(rest, d.end..cut, true));
            }
            _ => pieces.extend(analyze(rest, seg.start..cut, false)),
        }
    }
    let (full_name, birth_place) = assemble(rest, &pieces);
    OneShot {
        full_name,
        birth_place,
        birth_date: date.map(|d| d.date),
        consents: consent_names,
    }
}

/// A person's name: non-empty after trim, no digits, at most 80 chars, letters/spaces/apostrophes/hyphens/dots only, at least 2 letters. Returns the cleaned name.
pub fn check_person_name(s: &str) -> Result<String, NameError> {
    check_words(s)
}

/// A place name: same rules (letters, spaces, apostrophes, hyphens, dots; no digits).
pub fn check_place(s: &str) -> Result<String, NameError> {
    check_words(s)
}

fn check_words(s: &str) -> Result<String, NameError> {
    let cleaned = collapse(s);
    if cleaned.is_empty() {
        return Err(NameError::Empty);
    }
    if cleaned.chars().any(char::is_numeric) {
        return Err(NameError::Numeric);
    }
    if cleaned.chars().count() > MAX_NAME_CHARS {
        return Err(NameError::TooLong);
    }
    let allowed = |c: char| {
        c.is_alphabetic()
            || c == ' '
            || "'’ʼ-‐.".contains(c)
            // Accents typed as separate combining marks.
            || unicode_normalization::char::is_combining_mark(c)
    };
    let letters = cleaned.chars().filter(|c| c.is_alphabetic()).count();
    if !cleaned.chars().all(allowed) || letters < 2 {
        return Err(NameError::Invalid);
    }
    Ok(cleaned)
}

/// What a stretch of text holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Text with nothing saying what it is.
    Free,
    /// Text before "nato a": a name, however many words.
    Name,
    /// Text after "nato a", or after a date as "a Isili".
    Place,
}

/// The segments of the line between separators: any dash with a space beside it, en and
/// em dashes, commas, semicolons, new lines, and a full stop ending a word. Separators
/// inside the date (`12-3-1980`) do not count.
fn segments(rest: &str, date: Option<&Range<usize>>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    let mut word_len = 0;
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let in_date = date.is_some_and(|d| d.contains(&i));
        let sep = !in_date
            && match c {
                '–' | '—' | '−' | ',' | ';' | '\n' | '\r' | '|' | '•' => true,
                // "Anna-Maria", "Pont-Saint-Martin" keep their hyphen.
                '-' => !(prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric)),
                // "Rossi. Isili" splits; "S. Gavino" does not.
                '.' => word_len >= 3 && next.is_none_or(char::is_whitespace),
                _ => false,
            };
        if sep {
            out.push(start..i);
            start = i + c.len_utf8();
        }
        word_len = if c.is_alphanumeric() { word_len + 1 } else { 0 };
        prev = Some(c);
    }
    out.push(start..rest.len());
    out
}

/// Splits one part of a segment at "nato a" and strips labels and dangling words.
fn analyze(rest: &str, range: Range<usize>, after_date: bool) -> Vec<(Kind, Range<usize>)> {
    let Some(text) = rest.get(range.clone()) else {
        return Vec::new();
    };
    let toks: Vec<Token> = tokens(text)
        .into_iter()
        .map(|t| Token {
            start: t.start + range.start,
            end: t.end + range.start,
            ..t
        })
        .collect();
    let is = |t: &Token, set: &[&str]| set.contains(&t.norm.as_str());
    let marker = (0..toks.len().saturating_sub(1)).find(|&i| is(&toks[i], BORN) && is(&toks[i + 1], AT));
    let mut out = Vec::new();
    if let Some(i) = marker {
        out.extend(piece(Kind::Name, &toks[..i]));
        let mut j = i + 2;
        // "nato/a a Isili"
        while toks.get(j).is_some_and(|t| is(t, AT)) {
            j += 1;
        }
        out.extend(piece(Kind::Place, &toks[j..]));
    } else if after_date && toks.first().is_some_and(|t| is(t, AT)) {
        // "nato il 12/03/1980 a Isili"
        out.extend(piece(Kind::Place, &toks[1..]));
    } else {
        out.extend(piece(Kind::Free, &toks));
    }
    out
}

/// The byte range of `toks` once labels and dangling words are stripped, if any is left.
fn piece(kind: Kind, mut toks: &[Token]) -> Option<(Kind, Range<usize>)> {
    for label in LABELS {
        let n = label.len();
        if toks.len() >= n && toks[..n].iter().zip(*label).all(|(t, l)| t.norm == *l) {
            toks = &toks[n..];
            break;
        }
    }
    while let [init @ .., last] = toks {
        if !TRAILING.contains(&last.norm.as_str()) {
            break;
        }
        toks = init;
    }
    let (first, last) = (toks.first()?, toks.last()?);
    Some((kind, first.start..last.end))
}

/// Name and place from the pieces, in order.
fn assemble(rest: &str, pieces: &[(Kind, Range<usize>)]) -> (Option<String>, Option<String>) {
    let text = |r: &Range<usize>| rest.get(r.start..with_apostrophe(rest, r.end)).map(collapse);
    let name_at = pieces.iter().position(|(k, _)| *k != Kind::Place);
    let place = pieces
        .iter()
        .find(|(k, _)| *k == Kind::Place)
        .or_else(|| {
            // No "nato a": a second free piece, after the name, is the place.
            let after = name_at? + 1;
            pieces[after..].iter().find(|(k, _)| *k == Kind::Free)
        })
        .and_then(|(_, r)| text(r));
    let name = name_at.and_then(|i| {
        let (kind, r) = &pieces[i];
        let name = text(r)?;
        // Alone and unseparated, the text may be name and place run together: only take
        // it when it has as many words as a name usually has.
        let words = name.split(' ').count();
        let alone = *kind == Kind::Free && pieces.len() == 1;
        (!alone || (2..=4).contains(&words)).then_some(name)
    });
    (name, place)
}

/// Extends `end` over an apostrophe closing the word ("Nicolo'" for Nicolò).
fn with_apostrophe(rest: &str, end: usize) -> usize {
    let tail = rest.get(end..).unwrap_or("");
    let mut it = tail.chars();
    match (it.next(), it.next()) {
        (Some(c @ ('\'' | '’')), after) if after.is_none_or(|a| !a.is_alphanumeric()) => end + c.len_utf8(),
        _ => end,
    }
}

/// Trimmed, every run of whitespace one space.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const TODAY: Date = date(2025, 6, 15);

    fn consents() -> Vec<(String, Vec<String>)> {
        vec![
            (
                "messages".into(),
                vec!["autorizzo la ricezione".into(), "autorizzo".into()],
            ),
            ("privacy".into(), vec!["acconsento privacy".into(), "acconsento".into()]),
        ]
    }

    fn parse(s: &str) -> OneShot {
        parse_one_shot(s, &consents(), TODAY)
    }

    fn fields(s: &str) -> (Option<String>, Option<String>, Option<Result<Date, DateError>>) {
        let o = parse(s);
        (o.full_name, o.birth_place, o.birth_date)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    const BORN_1980: Option<Result<Date, DateError>> = Some(Ok(date(1980, 3, 12)));

    #[test]
    fn the_notice_format() {
        let o = parse("Mario Rossi - Isili 12/03/1980 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy");
        assert_eq!(o.full_name, some("Mario Rossi"));
        assert_eq!(o.birth_place, some("Isili"));
        assert_eq!(o.birth_date, BORN_1980);
        assert_eq!(o.consents, ["messages", "privacy"]);
    }

    #[test]
    fn en_em_dashes_commas_and_dashed_dates() {
        let want = (some("Mario Rossi"), some("Isili"), BORN_1980);
        assert_eq!(
            fields("Mario Rossi – Isili 12-3-1980 – Autorizzo – Acconsento Privacy"),
            want
        );
        assert_eq!(fields("Mario Rossi — Isili — 12-03-1980"), want);
        assert_eq!(fields("Mario Rossi, Isili, 12.03.1980, autorizzo, acconsento"), want);
        assert_eq!(fields("  Mario   Rossi -Isili 12/03/80"), want);
    }

    #[test]
    fn nato_a_and_ne_a() {
        let o = parse("Mario Rossi, nato a Isili il 12 marzo 1980, autorizzo, acconsento privacy");
        assert_eq!(
            (o.full_name, o.birth_place, o.birth_date),
            (some("Mario Rossi"), some("Isili"), BORN_1980)
        );
        assert_eq!(o.consents, ["messages", "privacy"]);
        let want = (some("Anna Bianchi"), some("Isili"), BORN_1980);
        assert_eq!(
            fields("Anna Bianchi nata a Isili il 12/03/1980 autorizzo acconsento privacy"),
            want
        );
        assert_eq!(fields("Anna Bianchi nata il 12/03/1980 a Isili"), want);
        let o =
            parse("Mario Rossi nato a San Gavino Monreale il 1° marzo 1980 autorizzo la ricezione acconsento privacy");
        assert_eq!(o.full_name, some("Mario Rossi"));
        assert_eq!(o.birth_place, some("San Gavino Monreale"));
        assert_eq!(o.birth_date, Some(Ok(date(1980, 3, 1))));
        assert_eq!(o.consents, ["messages", "privacy"]);
        let o = parse("Jeanne Martin née à Aoste le 12 mars 1980");
        assert_eq!(o.full_name, some("Jeanne Martin"));
        assert_eq!(o.birth_place, some("Aoste"));
        assert_eq!(o.birth_date, BORN_1980);
    }

    #[test]
    fn apostrophes_accents_and_long_places() {
        let want = (some("Maria D'Alessandro"), some("San Gavino Monreale"), BORN_1980);
        assert_eq!(
            fields("Maria D'Alessandro - San Gavino Monreale 12/03/1980 - Autorizzo"),
            want
        );
        let o = parse("Nicolò Pià, nato a Pont-Saint-Martin il 12-03-1980");
        assert_eq!(o.full_name, some("Nicolò Pià"));
        assert_eq!(o.birth_place, some("Pont-Saint-Martin"));
        assert_eq!(parse("Nicolo' Pia - Isili").full_name, some("Nicolo' Pia"));
    }

    #[test]
    fn partial_lines() {
        assert_eq!(parse(""), OneShot::default());
        assert_eq!(parse("   🙂 "), OneShot::default());
        assert_eq!(fields("Mario Rossi"), (some("Mario Rossi"), None, None));
        assert_eq!(fields("Mario Rossi 12/03/1980"), (some("Mario Rossi"), None, BORN_1980));
        assert_eq!(
            fields("Mario Rossi - 12/03/1980"),
            (some("Mario Rossi"), None, BORN_1980)
        );
        assert_eq!(fields("Isili 31/02/1980").2, Some(Err(DateError::Impossible)));
        let o = parse("Autorizzo la ricezione di sms WhatsApp – Acconsento Privacy");
        assert_eq!((o.full_name, o.birth_place), (None, None));
        assert_eq!(o.consents, ["messages", "privacy"]);
    }

    #[test]
    fn no_guessing_without_separator() {
        // Name and place run together: the whole text may be the name, never a place.
        assert_eq!(
            fields("Mario Rossi Isili 12/03/1980"),
            (some("Mario Rossi Isili"), None, BORN_1980)
        );
        let long = "Mario Giovanni Rossi Bianchi San Gavino Monreale 12/03/1980";
        assert_eq!(fields(long), (None, None, BORN_1980));
        assert_eq!(fields("Mario"), (None, None, None));
    }

    #[test]
    fn consents_never_leak_into_name_or_place() {
        let o = parse("Mario Rossi - Isili 12/03/1980 Autorizzo la ricezione di sms WhatsApp e acconsento privacy");
        assert_eq!((o.full_name, o.birth_place), (some("Mario Rossi"), some("Isili")));
        assert_eq!(o.consents, ["messages", "privacy"]);
        let o = parse("Mario Rossi - Isili - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy");
        assert_eq!((o.full_name, o.birth_place), (some("Mario Rossi"), some("Isili")));
        let o = parse("Mario Rossi - Isili - autorizo la ricezione - aconsento privacy");
        assert_eq!(o.consents, ["messages", "privacy"]);
        assert_eq!(parse("Mario Rossi - Isili").consents, Vec::<String>::new());
    }

    #[test]
    fn labels_from_the_notice_are_dropped() {
        let o = parse("Nome e cognome: Mario Rossi - Luogo e data di nascita: Isili 12/03/1980");
        assert_eq!((o.full_name, o.birth_place), (some("Mario Rossi"), some("Isili")));
    }

    #[test]
    fn person_names() {
        assert_eq!(
            check_person_name("  Maria   D'Alessandro "),
            Ok("Maria D'Alessandro".into())
        );
        assert_eq!(check_person_name("Nicolò Pià"), Ok("Nicolò Pià".into()));
        assert_eq!(
            check_person_name("Anna-Maria J. Rossi"),
            Ok("Anna-Maria J. Rossi".into())
        );
        assert_eq!(check_person_name("   "), Err(NameError::Empty));
        assert_eq!(check_person_name("Mario Rossi 2"), Err(NameError::Numeric));
        assert_eq!(check_person_name(&"a".repeat(81)), Err(NameError::TooLong));
        assert_eq!(check_person_name("Mario 🙂"), Err(NameError::Invalid));
        assert_eq!(check_person_name("J."), Err(NameError::Invalid));
        assert_eq!(check_person_name("mario@rossi"), Err(NameError::Invalid));
    }

    #[test]
    fn places() {
        assert_eq!(check_place("San Gavino   Monreale"), Ok("San Gavino Monreale".into()));
        assert_eq!(check_place("Pont-Saint-Martin"), Ok("Pont-Saint-Martin".into()));
        assert_eq!(check_place("Isola delle Femmine"), Ok("Isola delle Femmine".into()));
        assert_eq!(check_place("09056"), Err(NameError::Numeric));
        assert_eq!(check_place(""), Err(NameError::Empty));
    }

    #[test]
    fn huge_line_is_fine() {
        let line = format!("Mario Rossi - {} - 12/03/1980", "Isili ".repeat(20_000));
        let o = parse(&line);
        assert_eq!(o.full_name, some("Mario Rossi"));
        assert_eq!(o.birth_date, BORN_1980);
    }
}
