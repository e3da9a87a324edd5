//! Splitting a citizen's message into normalized words.
//!
//! Owns the one definition of "the same word" used everywhere in `text`: lowercase,
//! accents stripped, every non-alphanumeric character a separator. It keeps the byte
//! span of each word in the original text so callers can point back into it.
//! It must not know about keywords, dates or languages.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// One word of a citizen's message: its normalized form and its byte span in the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Lowercase, accent-free form of the word.
    pub norm: String,
    /// Byte offset of the word's first char in the original text.
    pub start: usize,
    /// Byte offset just past the word's last char in the original text.
    pub end: usize,
}

/// Lowercase, accents stripped (NFKD, combining marks dropped; also œ→oe, æ→ae, ß→ss),
/// every char that is not alphanumeric (punctuation, apostrophes, emoji, symbols, whitespace)
/// is a separator. "Je m'inscris!! 🙂" -> ["je","m","inscris"]. Digits are kept in tokens.
pub fn tokens(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        // A combining mark continues the word it follows: "e\u{301}" typed decomposed
        // is one letter, not a letter and a separator.
        let wordy = c.is_alphanumeric() || is_combining_mark(c);
        if wordy {
            if start.is_none() {
                start = Some(i);
            }
            fold_char(c, &mut cur);
            end = i + c.len_utf8();
        } else if let Some(st) = start.take() {
            push_token(&mut out, &mut cur, st, end);
        }
    }
    if let Some(st) = start {
        push_token(&mut out, &mut cur, st, end);
    }
    out
}

/// The tokens' norms joined with one space: "  MI   CANCELO!!" -> "mi cancelo".
pub fn normalize(s: &str) -> String {
    let toks = tokens(s);
    let mut out = String::with_capacity(s.len());
    for (i, t) in toks.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&t.norm);
    }
    out
}

/// Ends a word. A word made only of dropped marks (a lone combining accent) is no word.
fn push_token(out: &mut Vec<Token>, cur: &mut String, start: usize, end: usize) {
    if !cur.is_empty() {
        out.push(Token {
            norm: std::mem::take(cur),
            start,
            end,
        });
    }
}

/// Appends the folded form of one char: only alphanumeric, non-mark chars survive, so
/// the output of [`normalize`] is a fixed point of it.
fn fold_char(c: char, out: &mut String) {
    // Fast path: nearly every char citizens type is ASCII.
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        }
        return;
    }
    decompose_compatible(c, |d| {
        for l in d.to_lowercase() {
            // Lowercasing can produce decomposable chars again ('İ' -> "i\u{307}").
            decompose_compatible(l, |e| push_folded(e, out));
        }
    });
}

fn push_folded(e: char, out: &mut String) {
    if is_combining_mark(e) {
        return;
    }
    match e {
        'œ' => out.push_str("oe"),
        'æ' => out.push_str("ae"),
        'ß' => out.push_str("ss"),
        _ if e.is_alphanumeric() => {
            // Some compatibility forms lowercase to more chars; keep only those that are
            // themselves stable lowercase letters or digits.
            for l in e.to_lowercase() {
                if l.is_alphanumeric() && !is_combining_mark(l) {
                    out.push(l);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norms(s: &str) -> Vec<String> {
        tokens(s).into_iter().map(|t| t.norm).collect()
    }

    #[test]
    fn french_apostrophe_and_emoji_are_separators() {
        assert_eq!(norms("Je m'inscris!! 🙂"), ["je", "m", "inscris"]);
    }

    #[test]
    fn spacing_and_case_collapse() {
        assert_eq!(normalize("  MI   CANCELO!!"), "mi cancelo");
        assert_eq!(normalize("ATTIVA  ISCRIZIONE."), "attiva iscrizione");
    }

    #[test]
    fn accents_and_ligatures_fold() {
        assert_eq!(normalize("JE ME DÉSINSCRIS"), "je me desinscris");
        assert_eq!(normalize("Nicolò Pià"), "nicolo pia");
        assert_eq!(normalize("Œuvre Æther Straße"), "oeuvre aether strasse");
        assert_eq!(normalize("février FÉVRIER"), "fevrier fevrier");
    }

    #[test]
    fn decomposed_accents_stay_in_the_word() {
        let s = "de\u{301}sinscris";
        let t = tokens(s);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].norm, "desinscris");
        assert_eq!((t[0].start, t[0].end), (0, s.len()));
    }

    #[test]
    fn digits_are_kept_and_spans_point_back() {
        let s = "Isili, 12/03/1980";
        let t = tokens(s);
        let got: Vec<&str> = t.iter().map(|t| &s[t.start..t.end]).collect();
        assert_eq!(got, ["Isili", "12", "03", "1980"]);
        assert_eq!(norms("1er mars"), ["1er", "mars"]);
    }

    #[test]
    fn span_of_accented_word_is_in_bytes() {
        let s = "è già";
        let t = tokens(s);
        assert_eq!(&s[t[1].start..t[1].end], "già");
        assert_eq!(t[1].norm, "gia");
    }

    #[test]
    fn empty_and_symbol_only_input() {
        assert!(tokens("").is_empty());
        assert!(tokens("!!! 🙏🙏 ... ").is_empty());
        assert_eq!(normalize("\u{301}"), "");
    }

    #[test]
    fn tricky_unicode_is_idempotent() {
        for s in ["İstanbul", "ﬁne", "½", "Ⅻ", "ǅ", "ẞ", "ﾊﾟ"] {
            let once = normalize(s);
            assert_eq!(normalize(&once), once, "{s:?}");
        }
    }
}
