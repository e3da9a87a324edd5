//! Dates as Italian and French citizens write them.
//!
//! Owns reading a calendar date out of free text: `12/03/1980`, `12-3-80`, `12 03 1980`,
//! `12 marzo '80`, `1° marzo 1980`, `1er mars 1980`, `12 février 1980`, ISO `1980-03-12`.
//! Day always comes first (both languages write it so). Two-digit years are birth years:
//! never in the future. It must not judge whether a date is acceptable (future, under
//! age): that is the engine's policy; here a date either exists or it does not.

use std::ops::Range;

use jiff::civil::Date;

use super::distance::within;
use super::normalize::{tokens, Token};

/// Why a date-like text is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Shaped like a date but no such day exists: 31/02/1990, 00/01/2000, 12/13/1990.
    #[error("no such day")]
    Impossible,
    /// Not readable as a date at all.
    #[error("unreadable date")]
    Unreadable,
}

/// A date found in free text.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundDate {
    /// Byte span of the date in the text searched.
    pub span: Range<usize>,
    /// The date, or why the date-like text is not one.
    pub date: Result<Date, DateError>,
}

/// Month names and usual abbreviations, Italian and French, normalized (no accents).
// One line a month: Italian names, then French.
#[rustfmt::skip]
const MONTHS: &[(&str, i8)] = &[
    ("gennaio", 1), ("gen", 1), ("janvier", 1), ("janv", 1), ("jan", 1),
    ("febbraio", 2), ("feb", 2), ("febbr", 2), ("fevrier", 2), ("fev", 2), ("fevr", 2),
    ("marzo", 3), ("mar", 3), ("mars", 3),
    ("aprile", 4), ("apr", 4), ("avril", 4), ("avr", 4),
    ("maggio", 5), ("mag", 5), ("mai", 5),
    ("giugno", 6), ("giu", 6), ("juin", 6),
    ("luglio", 7), ("lug", 7), ("juillet", 7), ("juil", 7),
    ("agosto", 8), ("ago", 8), ("aout", 8),
    ("settembre", 9), ("set", 9), ("sett", 9), ("septembre", 9), ("sept", 9), ("sep", 9),
    ("ottobre", 10), ("ott", 10), ("octobre", 10), ("oct", 10),
    ("novembre", 11), ("nov", 11),
    ("dicembre", 12), ("dic", 12), ("decembre", 12), ("dec", 12),
];

/// Finds the first date in free text. `today` resolves two-digit years (a two-digit year
/// greater than today's two-digit year is 19yy, otherwise 20yy; these are birth dates).
///
/// A day and a month name without a year (`12 marzo`) is found as `Unreadable`, so the
/// engine can ask again; so is a numeric date with a three-digit year (`12/03/198`).
pub fn find_date(text: &str, today: Date) -> Option<FoundDate> {
    let toks = tokens(text);
    (0..toks.len()).find_map(|i| date_at(text, &toks, i, today))
}

/// Parses a whole answer that should be a date ("12/03/1980"); Err(Unreadable) if it is not one.
///
/// A few words around the date are tolerated ("sono nato il 12/03/1980"); two dates, or a
/// date lost in a long text, are not. Eight or six digits alone read as `ddmmyyyy`/`ddmmyy`.
pub fn parse_date(text: &str, today: Date) -> Result<Date, DateError> {
    const MAX_OTHER_WORDS: usize = 6;
    let Some(found) = find_date(text, today) else {
        let toks = tokens(text);
        return match toks.as_slice() {
            [t] => compact(&t.norm, today),
            _ => Err(DateError::Unreadable),
        };
    };
    let rest = text.get(found.span.end..).unwrap_or("");
    if find_date(rest, today).is_some() {
        return Err(DateError::Unreadable);
    }
    let others = tokens(text)
        .iter()
        .filter(|t| t.end <= found.span.start || t.start >= found.span.end)
        .count();
    if others > MAX_OTHER_WORDS {
        return Err(DateError::Unreadable);
    }
    found.date
}

/// Age in full years on `today` of someone born on `birth` (negative if not yet born).
pub fn age_on(birth: Date, today: Date) -> i16 {
    let years = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        years - 1
    } else {
        years
    }
}

/// A date starting at token `i`, numeric or with a month name.
fn date_at(text: &str, toks: &[Token], i: usize, today: Date) -> Option<FoundDate> {
    numeric_at(text, toks, i, today).or_else(|| named_at(text, toks, i, today))
}

/// `12/03/1980`, `12-3-80`, `12.03.80`, `12 03 1980`, ISO `1980-03-12`.
fn numeric_at(text: &str, toks: &[Token], i: usize, today: Date) -> Option<FoundDate> {
    let [a, b, c] = toks.get(i..i + 3)? else {
        return None;
    };
    let (a_len, b_len, c_len) = (digits(a)?, digits(b)?, digits(c)?);
    let g1 = numeric_gap(gap(text, a, b))?;
    let g2 = numeric_gap(gap(text, b, c))?;
    let spaced = g1 == ' ' || g2 == ' ';
    if spaced && g1 != g2 {
        return None;
    }
    let span = a.start..c.end;
    let found = |date| {
        Some(FoundDate {
            span: span.clone(),
            date,
        })
    };
    if a_len == 4 && !spaced && b_len <= 2 && c_len <= 2 {
        return found(make(num(a), num(b), num(c)));
    }
    if a_len > 2 || b_len > 2 {
        return None;
    }
    match c_len {
        2 | 4 => found(make(year(num(c), c_len, today), num(b), num(a))),
        3 if !spaced => found(Err(DateError::Unreadable)),
        _ => None,
    }
}

/// `12 marzo 1980`, `1° marzo '80`, `1er mars 1980`, `12 febbraio del 1980`.
fn named_at(text: &str, toks: &[Token], i: usize, today: Date) -> Option<FoundDate> {
    let d = toks.get(i)?;
    let m = toks.get(i + 1)?;
    let day = day_number(&d.norm)?;
    let month = month_of(&m.norm)?;
    if !word_gap(gap(text, d, m)) {
        return None;
    }
    let mut y_idx = i + 2;
    if let Some(t) = toks.get(y_idx) {
        // "12 febbraio del 1980", "12 février de 1980"
        if matches!(t.norm.as_str(), "del" | "de") && word_gap(gap(text, m, t)) {
            y_idx += 1;
        }
    }
    let prev = &toks[y_idx - 1];
    let year_tok = toks
        .get(y_idx)
        .filter(|y| word_gap(gap(text, prev, y)))
        .and_then(|y| digits(y).map(|len| (y, len)));
    let (end, date) = match year_tok {
        Some((y, len @ (2 | 4))) => (y.end, make(year(num(y), len, today), month, day)),
        Some((y, 3)) => (y.end, Err(DateError::Unreadable)),
        _ => (m.end, Err(DateError::Unreadable)),
    };
    Some(FoundDate {
        span: d.start..end,
        date,
    })
}

/// `ddmmyyyy` or `ddmmyy` typed as one number.
fn compact(s: &str, today: Date) -> Result<Date, DateError> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DateError::Unreadable);
    }
    let part = |r: Range<usize>| s.get(r).and_then(|p| p.parse::<i32>().ok()).unwrap_or(0);
    match s.len() {
        8 => make(part(4..8), part(2..4) as i8, part(0..2) as i8),
        6 => make(year(part(4..6), 2, today), part(2..4) as i8, part(0..2) as i8),
        _ => Err(DateError::Unreadable),
    }
}

fn make(y: i32, m: i8, d: i8) -> Result<Date, DateError> {
    let y = i16::try_from(y).map_err(|_| DateError::Impossible)?;
    Date::new(y, m, d).map_err(|_| DateError::Impossible)
}

/// Resolves a two-digit year as a birth year: never after this year.
fn year(y: i32, len: usize, today: Date) -> i32 {
    if len != 2 {
        return y;
    }
    let now = i32::from(today.year());
    let century = now.div_euclid(100) * 100;
    if y > now.rem_euclid(100) {
        century - 100 + y
    } else {
        century + y
    }
}

/// Number of ASCII digits if the token is only digits (at most 4: days, months, years).
fn digits(t: &Token) -> Option<usize> {
    let n = t.norm.len();
    (n <= 4 && t.norm.bytes().all(|b| b.is_ascii_digit())).then_some(n)
}

/// Value of an all-digit token of at most 4 digits (checked by [`digits`]).
fn num<T: From<i8> + std::str::FromStr>(t: &Token) -> T {
    t.norm.parse().unwrap_or_else(|_| T::from(0))
}

/// A day number, also as ordinal: "1", "01", "1er" (French), "1o" (from "1º").
fn day_number(norm: &str) -> Option<i8> {
    let n = norm
        .strip_suffix("er")
        .or_else(|| norm.strip_suffix('o'))
        .unwrap_or(norm);
    if n.is_empty() || n.len() > 2 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// The month a word names; long names forgive one typo ("febbrario") if unambiguous.
fn month_of(word: &str) -> Option<i8> {
    if let Some(&(_, m)) = MONTHS.iter().find(|(name, _)| *name == word) {
        return Some(m);
    }
    if word.chars().count() < 6 {
        return None;
    }
    let mut close = MONTHS
        .iter()
        .filter(|(name, _)| name.len() >= 6 && within(name, word, 1))
        .map(|&(_, m)| m);
    let first = close.next()?;
    close.all(|m| m == first).then_some(first)
}

fn gap<'a>(text: &'a str, a: &Token, b: &Token) -> &'a str {
    text.get(a.end..b.start).unwrap_or("")
}

/// The separator between numeric parts: one of `/ - .` (spaces around allowed), or ' '.
fn numeric_gap(g: &str) -> Option<char> {
    let t = g.trim();
    if g.len() > 3 {
        return None;
    }
    match t {
        "" if !g.is_empty() => Some(' '),
        "/" | "-" | "." => t.chars().next(),
        _ => None,
    }
}

/// Between a day, a month name and a year: spaces and a little punctuation
/// ("1° marzo", "1 mar. 1980", "12 Marzo '80", "12 marzo, 1980").
fn word_gap(g: &str) -> bool {
    g.chars().count() <= 4 && g.chars().all(|c| c.is_whitespace() || "°º.,'’-/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const TODAY: Date = date(2025, 6, 15);

    fn p(s: &str) -> Result<Date, DateError> {
        parse_date(s, TODAY)
    }

    #[test]
    fn numeric_formats() {
        let d = Ok(date(1980, 3, 12));
        for s in [
            "12/03/1980",
            "12-3-1980",
            "12.03.80",
            "12 03 1980",
            "12/3/80",
            "12 / 03 / 1980",
        ] {
            assert_eq!(p(s), d, "{s}");
        }
        assert_eq!(p("1980-03-12"), d);
    }

    #[test]
    fn month_names_italian_and_french() {
        let d = Ok(date(1980, 3, 12));
        for s in [
            "12 marzo 1980",
            "12 Marzo '80",
            "12 MARZO ’80",
            "12 mars 1980",
            "12 mar 1980",
            "12 mar. 1980",
        ] {
            assert_eq!(p(s), d, "{s}");
        }
        let first = Ok(date(1980, 3, 1));
        for s in [
            "1° marzo 1980",
            "1º marzo 1980",
            "1 mar 1980",
            "1er mars 1980",
            "01 marzo 1980",
        ] {
            assert_eq!(p(s), first, "{s}");
        }
        assert_eq!(p("12 février 1980"), Ok(date(1980, 2, 12)));
        assert_eq!(p("12 fevrier 1980"), Ok(date(1980, 2, 12)));
        assert_eq!(p("12 FÉVR. 1980"), Ok(date(1980, 2, 12)));
        assert_eq!(p("3 août 1975"), Ok(date(1975, 8, 3)));
        assert_eq!(p("3 décembre 1975"), Ok(date(1975, 12, 3)));
        assert_eq!(p("3 dic 1975"), Ok(date(1975, 12, 3)));
        assert_eq!(p("25 settembre del 1962"), Ok(date(1962, 9, 25)));
        assert_eq!(p("7 febbrario 1990"), Ok(date(1990, 2, 7))); // one typo
    }

    #[test]
    fn every_month_name_is_known() {
        let names = [
            ["gennaio", "janvier"],
            ["febbraio", "février"],
            ["marzo", "mars"],
            ["aprile", "avril"],
            ["maggio", "mai"],
            ["giugno", "juin"],
            ["luglio", "juillet"],
            ["agosto", "août"],
            ["settembre", "septembre"],
            ["ottobre", "octobre"],
            ["novembre", "novembre"],
            ["dicembre", "décembre"],
        ];
        for (m, pair) in names.iter().enumerate() {
            for name in pair {
                let want = Ok(date(2001, m as i8 + 1, 2));
                assert_eq!(p(&format!("2 {name} 2001")), want, "{name}");
                assert_eq!(p(&format!("2 {} 2001", name.to_uppercase())), want, "{name}");
            }
        }
    }

    #[test]
    fn two_digit_years_are_birth_years() {
        assert_eq!(p("12/03/25"), Ok(date(2025, 3, 12)));
        assert_eq!(p("12/03/26"), Ok(date(1926, 3, 12)));
        assert_eq!(p("12/03/05"), Ok(date(2005, 3, 12)));
        assert_eq!(p("12/03/99"), Ok(date(1999, 3, 12)));
    }

    #[test]
    fn impossible_days() {
        for s in ["31/02/1990", "00/01/2000", "12/13/1990", "29/02/1981", "32 marzo 1980"] {
            assert_eq!(p(s), Err(DateError::Impossible), "{s}");
        }
        assert_eq!(p("29/02/1980"), Ok(date(1980, 2, 29)));
    }

    #[test]
    fn unreadable_answers() {
        for s in [
            "",
            "boh",
            "ieri",
            "12 marzo",
            "12/03/198",
            "12/03/1980 o 13/03/1980",
            "🙂",
        ] {
            assert_eq!(p(s), Err(DateError::Unreadable), "{s}");
        }
    }

    #[test]
    fn compact_and_wordy_answers() {
        assert_eq!(p("12031980"), Ok(date(1980, 3, 12)));
        assert_eq!(p("120380"), Ok(date(1980, 3, 12)));
        assert_eq!(p("sono nato il 12/03/1980"), Ok(date(1980, 3, 12)));
    }

    #[test]
    fn finds_the_first_date_in_free_text() {
        let t = "Mario Rossi - Isili 12-3-1980 - Autorizzo";
        let f = find_date(t, TODAY).expect("date");
        assert_eq!(&t[f.span.clone()], "12-3-1980");
        assert_eq!(f.date, Ok(date(1980, 3, 12)));
        let t = "Delibera Nr. 8 del 02.02.2017, poi 03.03.2018";
        let f = find_date(t, TODAY).expect("date");
        assert_eq!(&t[f.span], "02.02.2017");
        let t = "nata a Nuoro il 1er mars 1980.";
        assert_eq!(&t[find_date(t, TODAY).expect("date").span], "1er mars 1980");
    }

    #[test]
    fn numbers_that_are_not_dates() {
        for t in [
            "Tel. 0125/300132-300683",
            "Piazza Municipio n. 1 - 11022 Brusson",
            "ore 9-13",
            "192.168.1.1",
        ] {
            assert_eq!(find_date(t, TODAY), None, "{t}");
        }
        assert_eq!(find_date("", TODAY), None);
    }

    #[test]
    fn age_in_full_years() {
        assert_eq!(age_on(date(1980, 3, 12), date(2025, 3, 11)), 44);
        assert_eq!(age_on(date(1980, 3, 12), date(2025, 3, 12)), 45);
        assert_eq!(age_on(date(2009, 6, 16), TODAY), 15);
        assert_eq!(age_on(date(2026, 1, 1), TODAY), -1);
        assert_eq!(age_on(date(-9999, 1, 1), date(9999, 12, 31)), 19998);
    }
}
