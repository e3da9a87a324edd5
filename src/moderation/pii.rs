//! Third parties' personal data: phone numbers (Italian and French), e-mail addresses,
//! codici fiscali and IBANs (validated by their check characters), Italian ID-card
//! numbers, and street addresses with a house number.
//!
//! Works on the original text (digits matter here, leetspeak does not) and only runs
//! when the message holds a digit or an `@`, which most messages do not. Whether the
//! data belongs to the citizen is decided from the context markers found by the lexicon
//! (`own.txt`, `third.txt`, `place.txt`, `public.txt`), passed in as byte ranges of the
//! original text. Must not: log or keep what it finds.

use regex::Regex;

use super::address::{followed_by_unit, Addresses};
use super::checksum::{codice_fiscale_valid, iban_length, iban_valid};
use super::lexicon::Kind;

/// What kind of personal data a span holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PiiKind {
    /// A phone number.
    Phone,
    /// An e-mail address.
    Email,
    /// A codice fiscale with a valid check character.
    CodiceFiscale,
    /// An IBAN passing mod-97.
    Iban,
    /// An Italian ID-card number (CIE or paper).
    IdCard,
    /// A street address with a house number.
    Address,
}

/// A piece of personal data in the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PiiHit {
    /// What it is.
    pub kind: PiiKind,
    /// Byte offset in the original text.
    pub start: usize,
    /// Byte offset one past the end.
    pub end: usize,
}

/// A context marker, as a byte range of the original text.
#[derive(Debug, Clone, Copy)]
pub struct Marker {
    /// `Own`, `Third`, `Place` or `Public`.
    pub kind: Kind,
    /// Byte offset in the original text.
    pub start: usize,
    /// Byte offset one past the end.
    pub end: usize,
}

/// How far before a piece of data (in bytes) a marker still speaks about it.
const MARKER_WINDOW: usize = 60;
/// How far after: "347 1234567 è il mio numero".
const MARKER_AFTER: usize = 25;

/// The compiled detectors; built once per [`super::Policy`].
#[derive(Debug, Clone)]
pub struct Detectors {
    email: Regex,
    phone_it: Regex,
    phone_fr: Regex,
    cf: Regex,
    iban: Regex,
    id_card: Regex,
    addresses: Addresses,
    date: Regex,
}

impl Default for Detectors {
    fn default() -> Detectors {
        Detectors::new()
    }
}

impl Detectors {
    /// Compiles the patterns (fixed, tested: they cannot fail at run time).
    pub fn new() -> Detectors {
        let re = |p: &str| Regex::new(p).expect("built-in pattern");
        Detectors {
            email: re(r"(?i-u)[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}"),
            phone_it: re(r"(?-u)(?:(?:\+|00)39[ .\-]?)?(?:3[0-9]{2}|0[0-9]{1,3})(?:[ .\-]?[0-9]){5,8}"),
            phone_fr: re(r"(?-u)(?:(?:\+|00)33[ .\-]?(?:\(0\)[ .\-]?)?|0)[1-9](?:[ .\-]?[0-9]{2}){4}"),
            cf: re(r"(?i-u)[a-z]{6}[0-9lmnpqrstuv]{2}[abcdehlmprst][0-9lmnpqrstuv]{2}[a-z][0-9lmnpqrstuv]{3}[a-z]"),
            iban: re(r"(?i-u)[a-z]{2}[0-9]{2}(?: ?[a-z0-9]){11,32}"),
            id_card: re(r"(?i-u)[a-z]{2}(?:[0-9]{5}[a-z]{2}|[0-9]{7})"),
            addresses: Addresses::new(),
            date: re(r"^\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}$"),
        }
    }

    /// Every piece of third parties' personal data in `text`, given the context markers.
    pub fn find(&self, text: &str, markers: &[Marker]) -> Vec<PiiHit> {
        let mut raw = Vec::new();
        if !text.bytes().any(|b| b.is_ascii_digit() || b == b'@') {
            return raw;
        }
        self.find_raw(text, &mut raw);
        let has_place = markers.iter().any(|m| m.kind == Kind::Place);
        raw.retain(|h| match owner(h, markers) {
            Some(Kind::Third) => true,
            Some(_) => false,
            // A street named in a report about the street is a place, not a person.
            None => !(h.kind == PiiKind::Address && has_place),
        });
        raw
    }

    /// Every candidate, before the context is weighed.
    fn find_raw(&self, text: &str, out: &mut Vec<PiiHit>) {
        let bytes = text.as_bytes();
        let hit = |kind, start, end| PiiHit { kind, start, end };
        if text.contains('@') {
            for m in self.email.find_iter(text) {
                if !institutional_email(m.as_str()) {
                    out.push(hit(PiiKind::Email, m.start(), m.end()));
                }
            }
        }
        for m in self.cf.find_iter(text) {
            if bounded(bytes, m.start(), m.end()) && codice_fiscale_valid(m.as_str()) {
                out.push(hit(PiiKind::CodiceFiscale, m.start(), m.end()));
            }
        }
        for m in self.iban.find_iter(text) {
            if m.start() > 0 && bytes[m.start() - 1].is_ascii_alphanumeric() {
                continue;
            }
            if let Some(end) = iban_end(text, m.start(), m.end()) {
                out.push(hit(PiiKind::Iban, m.start(), end));
            }
        }
        for m in self.id_card.find_iter(text) {
            if bounded(bytes, m.start(), m.end()) && !overlaps(out, m.start(), m.end()) {
                out.push(hit(PiiKind::IdCard, m.start(), m.end()));
            }
        }
        for re in [&self.phone_it, &self.phone_fr] {
            for m in re.find_iter(text) {
                let (s, e) = (m.start(), m.end());
                if bounded(bytes, s, e)
                    && !overlaps(out, s, e)
                    && self.plausible_phone(m.as_str())
                    && !followed_by_unit(text, e)
                {
                    out.push(hit(PiiKind::Phone, s, e));
                }
            }
        }
        for (start, end) in self.addresses.find(text) {
            if !overlaps(out, start, end) {
                out.push(hit(PiiKind::Address, start, end));
            }
        }
        out.sort_by_key(|h| (h.start, h.end));
    }

    /// Rules out dates, service numbers and numbers of the wrong length.
    fn plausible_phone(&self, s: &str) -> bool {
        if self.date.is_match(s) {
            return false;
        }
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let national = if s.starts_with('+') {
            &digits[2..]
        } else if (digits.starts_with("0039") || digits.starts_with("0033")) && digits.len() > 10 {
            &digits[4..]
        } else {
            &digits[..]
        };
        // Toll-free and shared-cost numbers belong to offices, not people.
        let service = ["800", "803", "840", "848", "199", "892", "0800"];
        // "00…" without a country code is a VAT or reference number, not a phone.
        if national.starts_with("00") || service.iter().any(|p| national.starts_with(p)) {
            return false;
        }
        (6..=11).contains(&national.len())
    }
}

/// Which marker, if any, speaks about this piece of data: the nearest one before it
/// (within [`MARKER_WINDOW`]), else an own-data marker just after it.
fn owner(h: &PiiHit, markers: &[Marker]) -> Option<Kind> {
    let before = markers
        .iter()
        .filter(|m| matches!(m.kind, Kind::Own | Kind::Third | Kind::Public))
        .filter(|m| m.end <= h.start + 1 && h.start.saturating_sub(m.end) <= MARKER_WINDOW)
        // Nearest first; of two ending together the longer is the more specific
        // ("j'habite" over "habite").
        .max_by_key(|m| (m.end, std::cmp::Reverse(m.start)));
    if let Some(m) = before {
        return Some(m.kind);
    }
    markers
        .iter()
        .find(|m| m.kind == Kind::Own && m.start >= h.end && m.start - h.end <= MARKER_AFTER)
        .map(|m| m.kind)
}

/// Not glued to a letter or digit on either side.
fn bounded(bytes: &[u8], start: usize, end: usize) -> bool {
    let before = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
    let after = end >= bytes.len() || !bytes[end].is_ascii_alphanumeric();
    before && after
}

fn overlaps(found: &[PiiHit], start: usize, end: usize) -> bool {
    found.iter().any(|h| h.start < end && start < h.end)
}

/// Public offices' addresses are not personal data.
fn institutional_email(email: &str) -> bool {
    let lower = email.to_ascii_lowercase();
    let (local, domain) = lower.split_once('@').unwrap_or(("", &lower));
    [
        "comune.",
        "pec.",
        "gov.it",
        "gouv.fr",
        "mairie",
        "regione.",
        "provincia.",
        "asl",
        "ville-",
    ]
    .iter()
    .any(|d| domain.contains(d))
        || [
            "protocollo",
            "urp",
            "info",
            "anagrafe",
            "tributi",
            "segreteria",
            "contact",
            "accueil",
        ]
        .contains(&local)
}

/// Where a valid IBAN starting at `start` ends, if one does: the regex is greedy over
/// spaces and letters, so try the country's length first, then every length down.
fn iban_end(text: &str, start: usize, end: usize) -> Option<usize> {
    // (upper-cased character, byte offset just past it)
    let chars: Vec<(u8, usize)> = text[start..end]
        .char_indices()
        .filter(|(_, c)| *c != ' ')
        .map(|(i, c)| (c.to_ascii_uppercase() as u8, start + i + 1))
        .collect();
    let country = std::str::from_utf8(&[chars[0].0, chars[1].0])
        .ok()
        .map(str::to_string)
        .unwrap_or_default();
    let candidates: Vec<usize> = match iban_length(&country) {
        Some(n) => vec![n],
        None => (15..=34).rev().collect(),
    };
    for n in candidates {
        if n > chars.len() {
            continue;
        }
        let code: String = chars[..n].iter().map(|c| c.0 as char).collect();
        let end = chars[n - 1].1;
        let glued = text.as_bytes().get(end).is_some_and(|b| b.is_ascii_alphanumeric());
        if !glued && iban_valid(&code) {
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str, markers: &[Marker]) -> Vec<(PiiKind, String)> {
        Detectors::new()
            .find(text, markers)
            .into_iter()
            .map(|h| (h.kind, text[h.start..h.end].to_string()))
            .collect()
    }

    fn one(text: &str) -> Option<PiiKind> {
        kinds(text, &[]).first().map(|k| k.0)
    }

    #[test]
    fn phones() {
        assert_eq!(
            kinds("chiamate il 347 1234567", &[]),
            [(PiiKind::Phone, "347 1234567".into())]
        );
        assert_eq!(one("+39 333 123 4567"), Some(PiiKind::Phone));
        assert_eq!(one("070 949252"), Some(PiiKind::Phone));
        assert_eq!(one("appelez le 06 12 34 56 78"), Some(PiiKind::Phone));
        assert_eq!(one("+33 6 12 34 56 78"), Some(PiiKind::Phone));
        assert_eq!(one("numero verde 800 123456"), None);
        assert_eq!(one("nato il 01/02/1980"), None);
        assert_eq!(one("costa 300 000 euro"), None);
        assert_eq!(one("alle 12:30"), None);
        assert_eq!(one("partita IVA 00100690072"), None);
        assert_eq!(one("0039 347 765 4321"), Some(PiiKind::Phone));
    }

    #[test]
    fn emails() {
        assert_eq!(one("scrivete a mario.rossi@gmail.com"), Some(PiiKind::Email));
        assert_eq!(one("protocollo@pec.comune.assemini.ca.it"), None);
        assert_eq!(one("ciao @mario"), None);
    }

    #[test]
    fn codice_fiscale_needs_its_check_character() {
        assert_eq!(one("cf RSSMRA80A01H501U"), Some(PiiKind::CodiceFiscale));
        assert_eq!(one("cf rssmra80a01h501u"), Some(PiiKind::CodiceFiscale));
        assert_eq!(one("cf RSSMRA80A01H501X"), None);
    }

    #[test]
    fn iban_needs_mod_97() {
        assert_eq!(
            kinds("IBAN IT60X0542811101000000123456 grazie", &[]),
            [(PiiKind::Iban, "IT60X0542811101000000123456".into())]
        );
        assert_eq!(one("IT60 X054 2811 1010 0000 0123 456"), Some(PiiKind::Iban));
        assert_eq!(one("IT61X0542811101000000123456"), None);
    }

    #[test]
    fn id_cards() {
        assert_eq!(one("carta CA12345AB"), Some(PiiKind::IdCard));
        assert_eq!(one("vecchia carta AB1234567"), Some(PiiKind::IdCard));
        assert_eq!(one("codice XCA12345AB9"), None);
    }

    #[test]
    fn markers_decide_whose_data_it_is() {
        let text = "abito in via Roma 12";
        let own = [Marker {
            kind: Kind::Own,
            start: 0,
            end: 5,
        }];
        assert!(kinds(text, &own).is_empty());
        let place = [Marker {
            kind: Kind::Place,
            start: 0,
            end: 1,
        }];
        assert!(kinds("buca in via Roma 12", &place).is_empty());
        let third = [
            Marker {
                kind: Kind::Third,
                start: 0,
                end: 5,
            },
            Marker {
                kind: Kind::Place,
                start: 0,
                end: 1,
            },
        ];
        assert_eq!(kinds("abita in via Roma 12", &third).len(), 1);
    }

    #[test]
    fn no_panic_on_odd_input() {
        let d = Detectors::new();
        for s in [
            "@",
            "1",
            "IT",
            "IT60 ",
            "é1@é.é",
            "via 1",
            "00",
            "+39",
            &"9".repeat(100_000),
            &"via à 1 ".repeat(5000),
        ] {
            let _ = d.find(s, &[]);
        }
    }
}
