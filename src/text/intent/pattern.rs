//! Word patterns of the intent lexicons (`lexicons/<lang>/intents.toml`), compiled once and
//! matched on a message's normalized words.
//!
//! Syntax, one pattern a string:
//! - `word` matches that word, folded like messages (case, accents; `m'inscris` is the
//!   two words `m inscris`); `word*` matches any word starting with it;
//! - `(a b|c|)` matches one of the alternatives, each a sequence (the empty one makes the
//!   group optional); groups nest;
//! - `@name` is the class `name` of the lexicon's `[classes]` table (alternatives too);
//! - `...` skips up to [`MAX_GAP`] words;
//! - `^` first / `$` last: the match must start / end its clause.
//!
//! Must not: know what an intent means (that is `super`), allocate while matching.

use std::collections::HashMap;

use crate::text::normalize::tokens;

/// Most words `...` may skip.
pub const MAX_GAP: usize = 3;
/// How deep classes may refer to classes.
const MAX_DEPTH: usize = 4;

#[derive(Debug, Clone)]
enum Node {
    Word(String),
    Prefix(String),
    Alt(Vec<Vec<Node>>),
    Gap,
}

/// One compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    nodes: Vec<Node>,
    anchored_start: bool,
    anchored_end: bool,
    /// The pattern as written, for reports.
    pub source: String,
}

/// A pattern that cannot be compiled (a bug in shipped data: the unit tests build every file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

/// Classes by name, compiled.
pub type Classes = HashMap<String, Vec<Vec<Node2>>>;

/// A compiled class alternative (kept opaque to callers).
#[derive(Debug, Clone)]
pub struct Node2(Node);

/// Compiles the `[classes]` table; a class may use classes defined anywhere in the table.
pub fn compile_classes(raw: &HashMap<String, Vec<String>>) -> Result<Classes, PatternError> {
    fn build(
        name: &str,
        raw: &HashMap<String, Vec<String>>,
        done: &mut Classes,
        depth: usize,
    ) -> Result<(), PatternError> {
        if done.contains_key(name) {
            return Ok(());
        }
        let Some(alts) = raw.get(name) else {
            return Err(PatternError {
                pattern: format!("@{name}"),
                reason: "unknown class".into(),
            });
        };
        if depth > MAX_DEPTH {
            return Err(PatternError {
                pattern: format!("@{name}"),
                reason: "classes nested too deep (or a cycle)".into(),
            });
        }
        let mut out = Vec::new();
        for alt in alts {
            // Classes used inside this one are built first.
            for used in class_names(alt) {
                build(&used, raw, done, depth + 1)?;
            }
            let (nodes, _, _) = parse(alt, done)?;
            out.push(nodes.into_iter().map(Node2).collect());
        }
        done.insert(name.to_string(), out);
        Ok(())
    }
    let mut done = Classes::new();
    let mut names: Vec<&String> = raw.keys().collect();
    names.sort();
    for name in names {
        build(name, raw, &mut done, 0)?;
    }
    Ok(done)
}

fn class_names(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find('@') {
        let after = &rest[at + 1..];
        let len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        out.push(after[..len].to_string());
        rest = &after[len..];
    }
    out
}

impl Pattern {
    pub fn compile(source: &str, classes: &Classes) -> Result<Pattern, PatternError> {
        let (nodes, anchored_start, anchored_end) = parse(source, classes)?;
        if nodes.is_empty() {
            return Err(PatternError {
                pattern: source.into(),
                reason: "matches nothing".into(),
            });
        }
        Ok(Pattern {
            nodes,
            anchored_start,
            anchored_end,
            source: source.to_string(),
        })
    }

    /// The longest match starting at word `start` of the clause `words[lo..hi]`.
    pub fn longest_at(&self, words: &[&str], start: usize, lo: usize, hi: usize) -> Option<usize> {
        if self.anchored_start && start != lo {
            return None;
        }
        let mut best: Option<usize> = None;
        seq(&self.nodes, words, start, hi, &mut |end| {
            if end > start && (!self.anchored_end || end == hi) && best.is_none_or(|b| end > b) {
                best = Some(end);
            }
        });
        best
    }

    /// The words a match can start with, as (exact words, prefixes); `None` when it can
    /// start anywhere (its first part is optional or a gap). Lets the lexicon index patterns
    /// by first word, so a message is only tried against the patterns its words can start.
    pub fn firsts(&self) -> Option<(Vec<String>, Vec<String>)> {
        let mut exact = Vec::new();
        let mut prefixes = Vec::new();
        firsts_of(&self.nodes, &mut exact, &mut prefixes).then_some((exact, prefixes))
    }

    /// Every non-overlapping match in the clause `words[lo..hi]`, the longest at each start.
    #[cfg(test)]
    fn find_in(&self, words: &[&str], lo: usize, hi: usize, out: &mut Vec<(usize, usize)>) {
        let mut start = lo;
        while start < hi {
            match self.longest_at(words, start, lo, hi) {
                Some(end) => {
                    out.push((start, end));
                    start = end;
                }
                None => start += 1,
            }
        }
    }
}

/// Adds the first words of `nodes`; false when the sequence can match nothing at its start
/// (an optional part or a gap first, or an empty sequence).
fn firsts_of(nodes: &[Node], exact: &mut Vec<String>, prefixes: &mut Vec<String>) -> bool {
    match nodes.first() {
        Some(Node::Word(w)) => {
            exact.push(w.clone());
            true
        }
        Some(Node::Prefix(p)) => {
            prefixes.push(p.clone());
            true
        }
        // Every alternative must start with a word; an empty one makes the group optional.
        Some(Node::Alt(alts)) => alts
            .iter()
            .all(|alt| !alt.is_empty() && firsts_of(alt, exact, prefixes)),
        Some(Node::Gap) | None => false,
    }
}

/// Calls `k` with every end position at which `nodes` can match starting at `i`.
fn seq(nodes: &[Node], words: &[&str], i: usize, hi: usize, k: &mut dyn FnMut(usize)) {
    let Some((first, rest)) = nodes.split_first() else {
        k(i);
        return;
    };
    match first {
        Node::Word(w) => {
            if i < hi && words[i] == w {
                seq(rest, words, i + 1, hi, k);
            }
        }
        Node::Prefix(p) => {
            if i < hi && words[i].starts_with(p.as_str()) {
                seq(rest, words, i + 1, hi, k);
            }
        }
        Node::Gap => {
            for skip in 0..=MAX_GAP {
                if i + skip > hi {
                    break;
                }
                seq(rest, words, i + skip, hi, k);
            }
        }
        Node::Alt(alts) => {
            for alt in alts {
                // Each alternative, then the rest from wherever it ended (an end reached
                // twice is tried twice: harmless, the caller keeps the longest).
                seq(alt, words, i, hi, &mut |e| seq(rest, words, e, hi, k));
            }
        }
    }
}

/// Parses one pattern string into nodes; returns (nodes, ^, $).
fn parse(src: &str, classes: &Classes) -> Result<(Vec<Node>, bool, bool), PatternError> {
    let err = |reason: &str| PatternError {
        pattern: src.to_string(),
        reason: reason.to_string(),
    };
    let mut s = src.trim();
    let anchored_start = s.starts_with('^');
    if anchored_start {
        s = s[1..].trim_start();
    }
    let anchored_end = s.ends_with('$');
    if anchored_end {
        s = s[..s.len() - 1].trim_end();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut pos = 0;
    let alts = parse_alts(&chars, &mut pos, classes, src)?;
    if pos != chars.len() {
        return Err(err("unbalanced parentheses"));
    }
    let nodes = match alts.len() {
        1 => alts.into_iter().next().unwrap_or_default(),
        _ => vec![Node::Alt(alts)],
    };
    Ok((nodes, anchored_start, anchored_end))
}

/// Appends to the alternative being parsed (there is always one).
fn push(alts: &mut [Vec<Node>], node: Node) {
    if let Some(a) = alts.last_mut() {
        a.push(node);
    }
}

fn parse_alts(chars: &[char], pos: &mut usize, classes: &Classes, src: &str) -> Result<Vec<Vec<Node>>, PatternError> {
    let mut alts = vec![Vec::new()];
    while *pos < chars.len() {
        let c = chars[*pos];
        match c {
            ')' => break,
            '|' => {
                *pos += 1;
                alts.push(Vec::new());
            }
            '(' => {
                *pos += 1;
                let inner = parse_alts(chars, pos, classes, src)?;
                if chars.get(*pos) != Some(&')') {
                    return Err(PatternError {
                        pattern: src.into(),
                        reason: "unbalanced parentheses".into(),
                    });
                }
                *pos += 1;
                push(&mut alts, Node::Alt(inner));
            }
            '@' => {
                *pos += 1;
                let start = *pos;
                while *pos < chars.len() && (chars[*pos].is_alphanumeric() || chars[*pos] == '_') {
                    *pos += 1;
                }
                let name: String = chars[start..*pos].iter().collect();
                let class = classes.get(&name).ok_or_else(|| PatternError {
                    pattern: src.into(),
                    reason: format!("unknown class @{name}"),
                })?;
                let inner = class
                    .iter()
                    .map(|alt| alt.iter().map(|n| n.0.clone()).collect())
                    .collect();
                push(&mut alts, Node::Alt(inner));
            }
            _ if c.is_whitespace() => *pos += 1,
            '.' if chars[*pos..].starts_with(&['.', '.', '.']) => {
                *pos += 3;
                push(&mut alts, Node::Gap);
            }
            _ => {
                let start = *pos;
                while *pos < chars.len()
                    && !matches!(chars[*pos], '(' | ')' | '|' | '@' | '*')
                    && !chars[*pos].is_whitespace()
                {
                    *pos += 1;
                }
                let word: String = chars[start..*pos].iter().collect();
                let prefix = chars.get(*pos) == Some(&'*');
                if prefix {
                    *pos += 1;
                }
                let toks = tokens(&word);
                if toks.is_empty() {
                    if start == *pos {
                        // A lone '*' or similar: skip it rather than loop.
                        *pos += 1;
                    }
                    continue;
                }
                let n = toks.len();
                for (i, t) in toks.into_iter().enumerate() {
                    let node = if prefix && i + 1 == n {
                        Node::Prefix(t.norm)
                    } else {
                        Node::Word(t.norm)
                    };
                    push(&mut alts, node);
                }
            }
        }
    }
    Ok(alts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Classes {
        let mut raw = HashMap::new();
        raw.insert("me".to_string(), vec!["mi".to_string(), "il mio numero".to_string()]);
        raw.insert("obj".to_string(), vec!["@me".to_string(), "iscrizion*".to_string()]);
        compile_classes(&raw).unwrap()
    }

    fn hits(p: &str, text: &str) -> Vec<String> {
        let c = classes();
        let pat = Pattern::compile(p, &c).unwrap();
        let toks = tokens(text);
        let words: Vec<&str> = toks.iter().map(|t| t.norm.as_str()).collect();
        let mut out = Vec::new();
        pat.find_in(&words, 0, words.len(), &mut out);
        out.into_iter().map(|(a, b)| words[a..b].join(" ")).collect()
    }

    #[test]
    fn words_prefixes_groups_classes_gaps() {
        assert_eq!(
            hits("cancell* ... @obj", "cancellate subito il mio numero"),
            ["cancellate subito il mio numero"]
        );
        assert_eq!(
            hits("cancell* ... @obj", "cancellate l'iscrizione"),
            ["cancellate l iscrizione"]
        );
        assert!(hits("cancell* ... @obj", "cancellate tutto quanto adesso per favore").is_empty());
        assert_eq!(hits("(je|) m'inscris", "Je m’inscris"), ["je m inscris"]);
        assert_eq!(hits("désinscri*", "DESINSCRIVEZ-moi"), ["desinscrivez"]);
        assert_eq!(hits("^stop$", "stop"), ["stop"]);
        assert!(hits("^stop$", "bus stop qui").is_empty());
        assert_eq!(hits("(a b|a) c", "a b c"), ["a b c"]);
    }

    #[test]
    fn bad_patterns_are_errors() {
        let c = classes();
        assert!(Pattern::compile("(a|b", &c).is_err());
        assert!(Pattern::compile("a)", &c).is_err());
        assert!(Pattern::compile("@nope", &c).is_err());
        assert!(Pattern::compile("!!", &c).is_err());
    }
}
