//! Check characters of Italian codici fiscali and of IBANs, so that a random run of
//! letters and digits is not mistaken for someone's tax code or bank account.

/// Values of a character in an odd position (1st, 3rd, …) of a codice fiscale; digits
/// share the values of the letters A–J.
const CF_ODD: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

/// Omocodia: letters that replace digits when two people would share a code.
const OMOCODIA: &str = "LMNPQRSTUV";

/// Expected shape of a 16-character codice fiscale: `L` letter, `D` digit (or an omocodia
/// letter), `M` a month letter.
const CF_SHAPE: &[u8; 16] = b"LLLLLLDDMDDLDDDL";

/// True when `code` has the shape of a codice fiscale and its 16th character is the right
/// check character. Case-insensitive.
pub fn codice_fiscale_valid(code: &str) -> bool {
    let bytes = code.as_bytes();
    if bytes.len() != 16 || !code.is_ascii() {
        return false;
    }
    let up: Vec<u8> = bytes.iter().map(u8::to_ascii_uppercase).collect();
    for (&b, &shape) in up.iter().zip(CF_SHAPE) {
        let ok = match shape {
            b'L' => b.is_ascii_uppercase(),
            b'D' => b.is_ascii_digit() || OMOCODIA.as_bytes().contains(&b),
            b'M' => b"ABCDEHLMPRST".contains(&b),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    let mut sum = 0u32;
    for (i, &b) in up[..15].iter().enumerate() {
        let v = if b.is_ascii_digit() {
            (b - b'0') as u32
        } else {
            (b - b'A') as u32
        };
        // Positions count from 1: index 0 is the first, odd, position.
        sum += if i % 2 == 0 { CF_ODD[v as usize] } else { v };
    }
    up[15] == b'A' + (sum % 26) as u8
}

/// Lengths of IBANs for the countries citizens are likely to paste (ISO 13616 registry).
pub fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "IT" | "FR" | "SM" | "MC" | "GR" => 27,
        "DE" | "GB" | "IE" => 22,
        "ES" | "SE" | "SK" | "CZ" | "TN" => 24,
        "PT" => 25,
        "CH" | "LI" => 21,
        "AT" | "LU" => 20,
        "BE" => 16,
        "NL" => 18,
        "RO" => 24,
        "PL" | "HU" => 28,
        "MT" => 31,
        "MA" => 28,
        "AL" => 28,
        _ => return None,
    })
}

/// True when `iban` (upper case, no spaces) passes the ISO 7064 mod-97 check.
pub fn iban_valid(iban: &str) -> bool {
    let b = iban.as_bytes();
    if !(15..=34).contains(&b.len()) || !b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        return false;
    }
    if !(b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase() && b[2].is_ascii_digit() && b[3].is_ascii_digit()) {
        return false;
    }
    // Move the first four characters to the end, read letters as 10..35, reduce mod 97
    // digit by digit so that no big integer is needed.
    let mut rem = 0u32;
    for &c in b[4..].iter().chain(&b[..4]) {
        if c.is_ascii_digit() {
            rem = (rem * 10 + (c - b'0') as u32) % 97;
        } else {
            let v = (c - b'A') as u32 + 10;
            rem = (rem * 100 + v) % 97;
        }
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codice_fiscale_check_character() {
        // RSSMRA80A01H501: odd positions sum to 61, even to 37; 98 % 26 = 20 → 'U'.
        assert!(codice_fiscale_valid("RSSMRA80A01H501U"));
        assert!(codice_fiscale_valid("rssmra80a01h501u"));
        assert!(!codice_fiscale_valid("RSSMRA80A01H501X"));
        assert!(!codice_fiscale_valid("RSSMRA80Z01H501U"), "Z is not a month");
        assert!(!codice_fiscale_valid("RSSMRA80A01H501"));
        assert!(!codice_fiscale_valid("ÈSSMRA80A01H501U"));
    }

    #[test]
    fn codice_fiscale_with_omocodia() {
        // Same person, last digit of the place code replaced by its omocodia letter (1 → M):
        // the check character is recomputed, not copied.
        let base = "RSSMRA80A01H50M";
        let ok = (b'A'..=b'Z')
            .map(|c| format!("{base}{}", c as char))
            .filter(|c| codice_fiscale_valid(c))
            .count();
        assert_eq!(ok, 1);
    }

    #[test]
    fn iban_mod_97() {
        assert!(iban_valid("IT60X0542811101000000123456"));
        assert!(!iban_valid("IT61X0542811101000000123456"));
        assert!(iban_valid("FR1420041010050500013M02606"));
        assert!(iban_valid("DE89370400440532013000"));
        assert!(!iban_valid("IT60"));
        assert!(!iban_valid("it60x0542811101000000123456"), "callers upper-case first");
        assert_eq!(iban_length("IT"), Some(27));
    }
}
