//! The scanner of the erasure tests (issue 24): every form in which a needle's bytes may be
//! written by a store or a backup (plain, hex, base64 at each alignment in both alphabets,
//! JSON escapes), and a finder of those forms in any bytes. `erasure_disk.rs` runs it over
//! the files of a data directory, `erasure_pg.rs` over the rows of a PostgreSQL schema.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One way a needle's bytes may be written to disk.
#[derive(Debug, Clone)]
pub struct Form {
    pub needle: String,
    pub encoding: String,
    pub bytes: Vec<u8>,
}

pub const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 without padding.
fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..=chunk.len() {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The base64 characters of `needle` written `shift` bytes (0, 1, 2) into a longer string:
/// only those fully determined by the needle's own bits, not by its neighbours'.
pub fn base64_inner(needle: &[u8], shift: usize, alphabet: &[u8; 64]) -> String {
    let mut input = vec![b'x'; shift];
    input.extend_from_slice(needle);
    let encoded = base64(&input, alphabet);
    let start = (8 * shift).div_ceil(6);
    let end = 8 * (shift + needle.len()) / 6;
    encoded[start..end.max(start)].to_string()
}

/// A JSON string's content with every non-ASCII character as `\uXXXX` (UTF-16 units).
fn json_ascii(needle: &str, upper: bool) -> String {
    let mut out = String::new();
    for c in needle.chars() {
        if c.is_ascii() {
            let quoted = serde_json::to_string(&c.to_string()).unwrap();
            out.push_str(&quoted[1..quoted.len() - 1]);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                if upper {
                    out.push_str(&format!("\\u{unit:04X}"));
                } else {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

/// Every form of `needle` the scanner looks for (distinct byte strings only).
pub fn forms(needle: &str) -> Vec<Form> {
    let mut forms: Vec<Form> = Vec::new();
    let mut add = |encoding: String, bytes: Vec<u8>| {
        if !bytes.is_empty() && !forms.iter().any(|f| f.bytes == bytes) {
            forms.push(Form {
                needle: needle.to_string(),
                encoding,
                bytes,
            });
        }
    };
    let raw = needle.as_bytes();
    add("plain bytes".into(), raw.to_vec());
    add("plain lower-case".into(), needle.to_lowercase().into_bytes());
    add("plain upper-case".into(), needle.to_uppercase().into_bytes());
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    add("lower-case hex".into(), hex.clone().into_bytes());
    add("upper-case hex".into(), hex.to_uppercase().into_bytes());
    for shift in 0..3 {
        add(
            format!("base64 at byte alignment {shift}"),
            base64_inner(raw, shift, BASE64).into_bytes(),
        );
        add(
            format!("URL-safe base64 at byte alignment {shift}"),
            base64_inner(raw, shift, BASE64URL).into_bytes(),
        );
    }
    let json = serde_json::to_string(needle).unwrap();
    let json = &json[1..json.len() - 1];
    add("JSON-escaped string".into(), json.as_bytes().to_vec());
    add(
        "JSON-escaped string with \\/".into(),
        json.replace('/', "\\/").into_bytes(),
    );
    add(
        "JSON \\u-escaped (lower-case hex)".into(),
        json_ascii(needle, false).into_bytes(),
    );
    add(
        "JSON \\u-escaped (upper-case hex)".into(),
        json_ascii(needle, true).into_bytes(),
    );
    forms
}

/// The needles of a citizen: the number as the store (39 and the digits) and the citizen
/// (the 10 digits) write it, then `words`.
pub fn needles(number: &str, words: &[&str]) -> Vec<String> {
    let mut all = vec![format!("39{number}"), number.to_string()];
    all.extend(words.iter().map(|w| w.to_string()));
    all
}

/// Every form of some needles, found in one pass over any bytes.
pub struct Finder {
    forms: Vec<Form>,
    automaton: aho_corasick::AhoCorasick,
}

impl Finder {
    pub fn new(needles: &[String]) -> Finder {
        let forms: Vec<Form> = needles.iter().flat_map(|n| forms(n)).collect();
        let automaton = aho_corasick::AhoCorasick::new(forms.iter().map(|f| &f.bytes)).unwrap();
        Finder { forms, automaton }
    }

    /// Each form found in `bytes`, once, where it is first found: the form and the offset.
    pub fn find(&self, bytes: &[u8]) -> Vec<(&Form, usize)> {
        let mut seen = BTreeSet::new();
        let mut found = Vec::new();
        for m in self.automaton.find_overlapping_iter(bytes) {
            if seen.insert(m.pattern().as_usize()) {
                found.push((&self.forms[m.pattern().as_usize()], m.start()));
            }
        }
        found
    }
}

/// Every regular file under `dir`, recursively, following no symbolic link.
pub fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            continue;
        } else if meta.is_dir() {
            files_under(&path, out);
        } else if meta.is_file() {
            out.push(path);
        }
    }
}
