//! Street addresses with a house number, Italian (`via Roma 12`, `piazza Repubblica
//! n. 1`) and French (`12 rue de la Paix`), for [`super::pii`]; and the check that a
//! number is followed by a unit, a time or an amount rather than being a civic number
//! or a phone. Whose address it is gets decided in `pii` from the context markers.

use regex::Regex;

/// The two address patterns.
#[derive(Debug, Clone)]
pub(super) struct Addresses {
    it: Regex,
    fr: Regex,
}

impl Addresses {
    /// Compiles the patterns (fixed, tested: they cannot fail at run time).
    pub(super) fn new() -> Addresses {
        let re = |p: &str| Regex::new(p).expect("built-in pattern");
        Addresses {
            it: re(concat!(
                r"(?i)\b(?:via|viale|v\.le|piazza|p\.zza|p\.za|piazzale|corso|c\.so|largo|vicolo|vico|",
                r"strada|località|localita|loc\.|contrada|borgo|lungomare|salita|traversa)",
                r"\s+((?:[\p{L}'’.]+\s+){1,5}?)(?:n\.?\s*|n°\s*|nr\.?\s*|num\.?\s*|numero\s+|civico\s+)?",
                r"(\d{1,4})(?:\s?[a-z]\b|/\d+|/[a-z]\b)?"
            )),
            fr: re(concat!(
                r"(?i)\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|allee|",
                r"impasse|quai|route|cours|square|passage)\s+(?:(?:de|du|des|la|le)\s+|l['’]|d['’])*",
                r"[\p{L}'’\-]+(?:\s+(?-i:\p{Lu})[\p{L}'’\-]*){0,3}"
            )),
        }
    }

    /// Byte ranges of the plausible addresses in `text`.
    pub(super) fn find(&self, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for re in [&self.it, &self.fr] {
            for c in re.captures_iter(text) {
                let Some(m) = c.get(0) else { continue };
                if plausible(text, &c) {
                    out.push((m.start(), m.end()));
                }
            }
        }
        out
    }
}

/// Rules out "via Roma alle 12", "corso Italia da 3 giorni".
fn plausible(text: &str, c: &regex::Captures<'_>) -> bool {
    let Some(m) = c.get(0) else { return false };
    if let Some(words) = c.get(1) {
        let last = words.as_str().split_whitespace().last().unwrap_or("").to_lowercase();
        const NOT_A_STREET: [&str; 16] = [
            "alle", "dalle", "ore", "entro", "le", "per", "da", "dal", "circa", "tra", "fra", "verso", "ogni", "di",
            "a", "e",
        ];
        if NOT_A_STREET.contains(&last.as_str()) {
            return false;
        }
    }
    !followed_by_unit(text, m.end())
}

/// A number followed by a time, a unit or an amount is not a phone or a house number.
pub(super) fn followed_by_unit(text: &str, end: usize) -> bool {
    let rest = text.get(end..).unwrap_or("");
    let b = rest.as_bytes();
    if b.len() >= 2 && (b[0] == b':' || b[0] == b'.' || b[0] == b',') && b[1].is_ascii_digit() {
        return true;
    }
    let word: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphabetic() || *c == '%' || *c == '€')
        .collect::<String>()
        .to_lowercase();
    const UNITS: [&str; 22] = [
        "giorni",
        "giorno",
        "settimane",
        "mesi",
        "anni",
        "volte",
        "ore",
        "minuti",
        "euro",
        "€",
        "%",
        "metri",
        "km",
        "persone",
        "jours",
        "semaines",
        "mois",
        "ans",
        "fois",
        "heures",
        "minutes",
        "mètres",
    ];
    UNITS.contains(&word.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        Addresses::new()
            .find(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn italian_and_french_addresses() {
        assert_eq!(found("sta in via Roma 12"), ["via Roma 12"]);
        assert_eq!(found("piazza Repubblica n. 1"), ["piazza Repubblica n. 1"]);
        assert_eq!(found("corso Vittorio Emanuele 45/b"), ["corso Vittorio Emanuele 45/b"]);
        assert_eq!(found("il habite 12 rue de la Paix"), ["12 rue de la Paix"]);
        assert_eq!(found("au 8 rue des Lilas, quand"), ["8 rue des Lilas"]);
    }

    #[test]
    fn times_and_amounts_are_not_house_numbers() {
        assert!(found("ci vediamo in via Roma alle 12").is_empty());
        assert!(found("corso Italia chiuso da 3 giorni").is_empty());
        assert!(found("in via Roma 12:30").is_empty());
        assert!(followed_by_unit("5 euro", 1));
        assert!(!followed_by_unit("5 grazie", 1));
    }
}
