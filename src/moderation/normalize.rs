//! Folding a message into the form the lexicons are written in, keeping a byte map back
//! to the original so that spans point at what the citizen actually typed.
//!
//! The folded text is a sequence of tokens, each surrounded by exactly one ASCII space
//! (`" ti ammazzo "`), so that a lexicon entry `" term "` matches whole words only. Folding:
//! - lower case, compatibility decomposition, combining marks dropped (`È` → `e`,
//!   fullwidth `ｍ` → `m`); zero-width and soft-hyphen characters vanish;
//! - every other non-alphanumeric character separates tokens (`l'umido` → `l umido`);
//! - three or more one-character tokens joined by single `. - _ * / |` or spaces are glued
//!   back (`m e r d a`, `m.e.r.d.a` → `merda`);
//! - in a token holding a letter, leetspeak is read as letters (`$`→s, `@`→a, `0`→o,
//!   `1`→i, `3`→e, `4`→a, `5`→s, `7`→t); a number on its own stays a number;
//! - a run of three or more equal characters becomes one (`merdaaaa` → `merda`). Runs of
//!   two are kept because Italian spells them (`anno` is not `ano`); the lexicon adds a
//!   variant with its own doubles collapsed so that `cazzzzo` still meets `cazzo`.
//!
//! Must not: allocate per character beyond the output, or panic on any input.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// A folded message.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    /// The folded text: `" tok tok "`.
    pub text: String,
    /// For every byte of `text`, the original byte range of the character it came from.
    map: Vec<(u32, u32)>,
}

impl Normalized {
    /// The original byte range covered by `text[start..end]` (a match of a lexicon entry
    /// without its surrounding spaces).
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        if self.map.is_empty() || start >= end {
            return (0, 0);
        }
        let s = self.map[start.min(self.map.len() - 1)].0;
        let e = self.map[(end - 1).min(self.map.len() - 1)].1;
        (s as usize, (e.max(s)) as usize)
    }
}

/// One folded character and the original bytes it stands for.
#[derive(Clone, Copy)]
struct Ch {
    c: char,
    start: u32,
    end: u32,
}

/// Characters that may sit between the letters of a spaced-out word.
fn is_glue(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '_' | '*' | '/' | '|' | '·')
}

/// Characters to drop without separating words (zero-width tricks).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// Leetspeak symbols read as letters inside a word.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '$' | '5' => 's',
        '@' | '4' => 'a',
        '€' => 'e',
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '7' => 't',
        '8' => 'b',
        _ => return None,
    })
}

/// Is this folded character part of a word?
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '$' || c == '@' || c == '€'
}

/// Folds `input` (see the module docs).
pub fn normalize(input: &str) -> Normalized {
    // Pass 1: fold characters and split into tokens, remembering each separator run.
    let mut split = Splitter::default();
    for (i, c) in input.char_indices() {
        let (start, end) = (i as u32, (i + c.len_utf8()) as u32);
        if is_invisible(c) {
            continue;
        }
        if c.is_ascii() {
            split.feed(Ch {
                c: c.to_ascii_lowercase(),
                start,
                end,
            });
        } else {
            for l in c.to_lowercase() {
                // Ligatures are two letters ("écœurant" is "ecoeurant").
                let pair = match l {
                    'œ' => Some(('o', 'e')),
                    'æ' => Some(('a', 'e')),
                    'ß' => Some(('s', 's')),
                    _ => None,
                };
                if let Some((a, b)) = pair {
                    split.feed(Ch { c: a, start, end });
                    split.feed(Ch { c: b, start, end });
                    continue;
                }
                decompose_compatible(l, |d| {
                    for dl in d.to_lowercase() {
                        split.feed(Ch { c: dl, start, end });
                    }
                });
            }
        }
    }
    let (tokens, seps) = split.finish();

    // Pass 2: glue spaced-out words back together ("m.e.r.d.aaa": runs first).
    let tokens: Vec<Vec<Ch>> = tokens.into_iter().map(collapse_runs).collect();
    let tokens = glue_spaced(tokens, &seps);

    // Pass 3: leetspeak, letter runs again (leet or glue may make new ones), output.
    let mut out = Normalized {
        text: String::with_capacity(input.len() + 2),
        map: Vec::with_capacity(input.len() + 2),
    };
    push(&mut out, ' ', (0, 0));
    for tok in tokens {
        let has_letter = tok.iter().any(|ch| ch.c.is_alphabetic());
        let mut read: Vec<Ch> = Vec::with_capacity(tok.len());
        for ch in tok {
            match (has_letter, leet(ch.c)) {
                (true, Some(l)) => read.push(Ch { c: l, ..ch }),
                (false, _) if ch.c == '$' || ch.c == '@' || ch.c == '€' => {}
                _ => read.push(ch),
            }
        }
        let folded = collapse_runs(read);
        if folded.is_empty() {
            continue;
        }
        for ch in folded {
            push(&mut out, ch.c, (ch.start, ch.end));
        }
        let last = out.map.last().map_or((0, 0), |m| (m.1, m.1));
        push(&mut out, ' ', last);
    }
    out
}

/// Turns runs of three or more equal characters into one, stretched over the run.
fn collapse_runs(tok: Vec<Ch>) -> Vec<Ch> {
    let mut out: Vec<Ch> = Vec::with_capacity(tok.len());
    let mut run = 0usize;
    for ch in tok {
        let same = out.last().is_some_and(|p| p.c == ch.c);
        run = if same { run + 1 } else { 1 };
        match run {
            // Three in a row: drop the second, stretch the first over the run.
            3 => {
                out.pop();
                if let Some(first) = out.last_mut() {
                    first.end = ch.end;
                }
            }
            r if r > 3 => {
                if let Some(first) = out.last_mut() {
                    first.end = ch.end;
                }
            }
            _ => out.push(ch),
        }
    }
    out
}

fn push(out: &mut Normalized, c: char, range: (u32, u32)) {
    out.text.push(c);
    for _ in 0..c.len_utf8() {
        out.map.push(range);
    }
}

/// Splits folded characters into tokens.
#[derive(Default)]
struct Splitter {
    tokens: Vec<Vec<Ch>>,
    /// `seps[i]`: the separator run after `tokens[i]`: (characters, all of them glue).
    seps: Vec<(u32, bool)>,
    cur: Vec<Ch>,
    sep: (u32, bool),
}

impl Splitter {
    fn feed(&mut self, ch: Ch) {
        if is_combining_mark(ch.c) {
            return;
        }
        // A star inside a word masks a letter ("m*rda"); elsewhere it is punctuation.
        if is_word(ch.c) || (ch.c == '*' && !self.cur.is_empty()) {
            if self.cur.is_empty() {
                if let Some(last) = self.seps.last_mut() {
                    *last = self.sep;
                }
            }
            self.sep = (0, true);
            self.cur.push(ch);
        } else {
            let trailing = self.end_token();
            self.sep.0 += 1 + trailing;
            self.sep.1 &= is_glue(ch.c);
        }
    }

    /// Closes the current token; returns how many trailing stars it gave back.
    fn end_token(&mut self) -> u32 {
        let mut trailing = 0;
        while self.cur.last().is_some_and(|c| c.c == '*') {
            self.cur.pop();
            trailing += 1;
        }
        if self.cur.is_empty() {
            return trailing;
        }
        let mut tok = std::mem::take(&mut self.cur);
        // "m*e*r*d*a": stars between single letters are spacing, not masking.
        let alternating = tok.len() >= 5 && tok.iter().enumerate().all(|(i, c)| (c.c == '*') == (i % 2 == 1));
        if alternating {
            tok.retain(|c| c.c != '*');
        }
        self.tokens.push(tok);
        self.seps.push((0, true));
        self.sep = (0, true);
        trailing
    }

    fn finish(mut self) -> (Vec<Vec<Ch>>, Vec<(u32, bool)>) {
        self.end_token();
        (self.tokens, self.seps)
    }
}

/// Joins runs of three or more one-character tokens separated by one glue character.
fn glue_spaced(tokens: Vec<Vec<Ch>>, seps: &[(u32, bool)]) -> Vec<Vec<Ch>> {
    let n = tokens.len();
    let single = |i: usize| tokens[i].len() == 1;
    let joinable = |i: usize| i + 1 < n && seps.get(i).is_some_and(|s| s.0 == 1 && s.1) && single(i) && single(i + 1);
    let mut out: Vec<Vec<Ch>> = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while joinable(j) {
            j += 1;
        }
        if j - i >= 2 {
            // tokens i..=j are all single characters: three or more.
            out.push((i..=j).map(|k| tokens[k][0]).collect());
            i = j + 1;
        } else {
            out.push(tokens[i].clone());
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(s).text
    }

    #[test]
    fn folds_ligatures_into_two_letters() {
        assert_eq!(n("Écœurant, Æsop, Straße"), " ecoeurant aesop strasse ");
    }

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(n("È una VERGOGNA, l'umido!"), " e una vergogna l umido ");
        assert_eq!(n(""), " ");
        assert_eq!(n("  ...  "), " ");
    }

    #[test]
    fn reads_leetspeak_inside_words_only() {
        assert_eq!(n("m3rd4"), " merda ");
        assert_eq!(n("$tr0nz0"), " stronzo ");
        assert_eq!(n("c@zz0"), " cazzo ");
        assert_eq!(n("via Roma 12"), " via roma 12 ");
    }

    #[test]
    fn collapses_runs_of_three() {
        assert_eq!(n("merdaaaa"), " merda ");
        assert_eq!(n("anno"), " anno ");
        assert_eq!(n("cazzzzo"), " cazo ");
    }

    #[test]
    fn glues_spaced_out_words() {
        assert_eq!(n("m e r d a"), " merda ");
        assert_eq!(n("che m.e.r.d.a!"), " che merda ");
        assert_eq!(n("m-e-r-d-a"), " merda ");
        assert_eq!(n("e a casa"), " e a casa ");
        assert_eq!(n("mer\u{200B}da"), " merda ");
        assert_eq!(n("m*e*r*d*a"), " merda ");
    }

    #[test]
    fn keeps_masking_stars_inside_words_only() {
        assert_eq!(n("una m*rda"), " una m*rda ");
        assert_eq!(n("*grazie* mille**"), " grazie mille ");
        assert_eq!(n("c**o"), " c**o ");
    }

    #[test]
    fn maps_back_to_original_bytes() {
        let s = "Che m.e.r.d.aaa!";
        let norm = normalize(s);
        let at = norm.text.find("merda").unwrap();
        let (a, b) = norm.original_range(at, at + 5);
        assert_eq!(&s[a..b], "m.e.r.d.aaa");
        let s = "è CAZZO";
        let norm = normalize(s);
        let at = norm.text.find("cazzo").unwrap();
        let (a, b) = norm.original_range(at, at + 5);
        assert_eq!(&s[a..b], "CAZZO");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in ["\u{0}", "İİİ", "ﷺ", "🤬🤬🤬", "a\u{301}\u{301}", "ß", "$ @ 0", "ǅ"] {
            let norm = normalize(s);
            assert!(norm.text.starts_with(' ') && norm.text.ends_with(' '));
            assert_eq!(norm.text.len(), norm.map.len());
        }
    }
}
