//! The lexicon files under `lexicons/<lang>/` and the one automaton built from them.
//!
//! File format (one entry a line; `#` starts a comment):
//! - `term` or `a phrase`: matched on whole words of the folded text
//!   ([`super::normalize`]); entries are folded the same way, so they are written in
//!   plain lower case and accents may be kept;
//! - `(a|b|)` alternatives, expanded when the lexicon is built (an empty alternative makes
//!   the group optional); groups may nest;
//! - `@name` refers to a class defined in `classes.txt` as `@name = a|b|c`;
//! - a trailing `*` matches any word starting with the entry (`stronzat*`);
//! - `left ... right` matches `left` followed by `right` with at most [`MAX_GAP`] words
//!   between them; it keeps big products (`@gruppo ... sono @disprezzo`) small, since each
//!   side is expanded on its own;
//! - a leading `~` marks a word that is also a surname or a place (`~troia`): it is
//!   ignored when written with a capital inside a sentence.
//!
//! Which file an entry comes from says what it means: a rule (`vulgar.txt`, `threat.txt`,
//! …) or a context marker (`counter.txt`, `own.txt`, `third.txt`, `place.txt`,
//! `public.txt`). Must not: read files at run time (the lexicons are compiled in).

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::expand::{expand, is_class_definition, parse_classes, patterns_of, substitute_classes};
use super::normalize::Normalized;
use super::Rule;

/// What a lexicon entry says about the words it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Breaks this rule.
    Rule(Rule),
    /// Reports or quotes someone else's words ("mi hanno chiamato").
    Counter,
    /// Introduces the citizen's own data ("abito in", "il mio numero").
    Own,
    /// Introduces a third party's data ("abita in", "il numero di").
    Third,
    /// The message is about a place, not a person ("buca", "lampione").
    Place,
    /// Introduces a public office's contact ("numero verde", "centralino").
    Public,
}

/// One expanded entry attached to an automaton pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Meta {
    /// What it means.
    pub kind: Kind,
    /// Also a surname or a place name (`~`).
    pub proper: bool,
    /// Which side of a `left ... right` pair this is, if any.
    pub part: Part,
}

/// A whole entry, or one side of a `left ... right` pair (numbered per lexicon).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// A complete entry.
    Whole,
    /// The left side of pair `n`.
    Left(u32),
    /// The right side of pair `n`.
    Right(u32),
}

/// Most words allowed between the two sides of a pair.
pub const MAX_GAP: usize = 3;

/// A lexicon match in the folded text, without the surrounding spaces.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    /// What it means.
    pub meta: Meta,
    /// Byte offset in the folded text.
    pub start: usize,
    /// Byte offset one past the end in the folded text.
    pub end: usize,
}

/// An error in a lexicon file (a bug in shipped data: the unit tests build every file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexiconError {
    /// A `(` without its `)` or the reverse.
    #[error("{file}:{line}: unbalanced parentheses")]
    Unbalanced { file: String, line: usize },
    /// `@name` not defined in `classes.txt`.
    #[error("{file}:{line}: unknown class @{name}")]
    UnknownClass { file: String, line: usize, name: String },
    /// One line expands to too many phrases.
    #[error("{file}:{line}: expands to more than {max} phrases")]
    TooLarge { file: String, line: usize, max: usize },
    /// The automaton could not be built.
    #[error("building the automaton: {0}")]
    Build(String),
}

/// All lexicon entries of one language in one Aho-Corasick automaton.
#[derive(Debug, Clone)]
pub struct Lexicon {
    ac: AhoCorasick,
    metas: Vec<Vec<Meta>>,
}

impl Lexicon {
    /// Builds the automaton from `classes` and `(kind, file name, file text)` triples.
    pub fn build(classes: &str, files: &[(Kind, &str, &str)]) -> Result<Lexicon, LexiconError> {
        let classes = parse_classes(classes);
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut metas: Vec<Vec<Meta>> = Vec::new();
        let mut pairs = 0u32;
        for &(kind, file, text) in files {
            for (no, raw) in text.lines().enumerate() {
                let line = raw.split('#').next().unwrap_or("").trim();
                if line.is_empty() || is_class_definition(line) {
                    continue;
                }
                let (proper, line) = match line.strip_prefix('~') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, line),
                };
                let err_ctx = (file.to_string(), no + 1);
                let sides: Vec<(&str, Part)> = match line.split_once(" ... ") {
                    Some((left, right)) => {
                        pairs += 1;
                        vec![(left, Part::Left(pairs)), (right, Part::Right(pairs))]
                    }
                    None => vec![(line, Part::Whole)],
                };
                for (side, part) in sides {
                    let side = substitute_classes(side, &classes, &err_ctx)?;
                    let mut phrases = Vec::new();
                    expand(&side, &mut phrases, &err_ctx)?;
                    let meta = Meta { kind, proper, part };
                    for phrase in phrases {
                        for pattern in patterns_of(&phrase) {
                            let id = *index.entry(pattern.clone()).or_insert_with(|| {
                                patterns.push(pattern);
                                metas.push(Vec::new());
                                metas.len() - 1
                            });
                            if !metas[id].contains(&meta) {
                                metas[id].push(meta);
                            }
                        }
                    }
                }
            }
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| LexiconError::Build(e.to_string()))?;
        Ok(Lexicon { ac, metas })
    }

    /// Number of distinct patterns in the automaton.
    pub fn len(&self) -> usize {
        self.metas.len()
    }

    /// True when no pattern was loaded.
    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }

    /// Every entry found in `norm`, overlapping ones included; pairs come out joined.
    pub fn scan(&self, norm: &Normalized) -> Vec<Hit> {
        let mut hits = Vec::new();
        let mut lefts: Vec<Hit> = Vec::new();
        for m in self.ac.find_overlapping_iter(&norm.text) {
            // Patterns are " phrase " or " prefix": drop the spaces from the span.
            let start = m.start() + 1;
            let end = if norm.text.as_bytes()[m.end() - 1] == b' ' {
                m.end() - 1
            } else {
                m.end()
            };
            let end = if end <= start {
                start
            } else {
                // A prefix entry covers the rest of its word.
                let rest = &norm.text[end..];
                end + rest.find(' ').unwrap_or(rest.len())
            };
            for &meta in &self.metas[m.pattern().as_usize()] {
                let hit = Hit { meta, start, end };
                match meta.part {
                    Part::Whole => hits.push(hit),
                    Part::Left(_) => lefts.push(hit),
                    Part::Right(n) => {
                        if let Some(left) = closest_left(&lefts, n, start, &norm.text) {
                            let meta = Meta {
                                part: Part::Whole,
                                ..meta
                            };
                            hits.push(Hit {
                                meta,
                                start: left.start,
                                end,
                            });
                        }
                    }
                }
            }
        }
        hits
    }
}

/// The left side of pair `n` that ends closest before `start`, if at most [`MAX_GAP`]
/// words lie between. Lefts arrive in order of their end, so the search walks back from
/// the last one and stops as soon as the gap is too wide: linear overall, even on a
/// 100 KB message repeating the same pair.
fn closest_left(lefts: &[Hit], n: u32, start: usize, text: &str) -> Option<Hit> {
    let upto = lefts.partition_point(|h| h.end < start);
    for left in lefts[..upto].iter().rev() {
        // Words strictly between: the spaces between, less one.
        let between = text.get(left.end..start).map_or(usize::MAX, |s| {
            s.bytes().filter(|&b| b == b' ').count().saturating_sub(1)
        });
        if between > MAX_GAP {
            return None;
        }
        if left.meta.part == Part::Left(n) {
            return Some(*left);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_allow_a_few_words_between() {
        let l = lex("", "(gli|i) immigrati ... sono (ladri|criminali)\n");
        assert_eq!(found(&l, "gli immigrati sono ladri"), ["gli immigrati sono ladri"]);
        assert_eq!(
            found(&l, "i immigrati qui da noi sono criminali"),
            ["i immigrati qui da noi sono criminali"]
        );
        assert!(found(&l, "gli immigrati che ho visto ieri al mercato sono ladri").is_empty());
        assert!(found(&l, "sono ladri gli immigrati").is_empty());
    }

    fn lex(classes: &str, text: &str) -> Lexicon {
        Lexicon::build(classes, &[(Kind::Rule(Rule::Vulgar), "t.txt", text)]).unwrap()
    }

    use super::super::normalize::normalize;

    fn found(l: &Lexicon, s: &str) -> Vec<String> {
        let n = normalize(s);
        l.scan(&n).iter().map(|h| n.text[h.start..h.end].to_string()).collect()
    }

    #[test]
    fn expands_groups_and_classes() {
        let l = lex("@who = tu|voi\n", "(ti|vi) (ammazzo|uccido)\nciao @who (sei|) bello\n");
        assert_eq!(found(&l, "io ti uccido"), ["ti uccido"]);
        assert_eq!(found(&l, "ciao voi bello"), ["ciao voi bello"]);
        assert_eq!(found(&l, "ciao tu sei bello"), ["ciao tu sei bello"]);
    }

    #[test]
    fn whole_words_unless_prefix() {
        let l = lex("", "cazzo\nstronzat*\n");
        assert!(found(&l, "Cazzola").is_empty());
        assert_eq!(found(&l, "che stronzate!"), ["stronzate"]);
        assert_eq!(found(&l, "cazzzzzo"), ["cazo"]);
        assert_eq!(found(&l, "cazzo cazzo"), ["cazzo", "cazzo"]);
    }

    #[test]
    fn reports_errors() {
        let e = Lexicon::build("", &[(Kind::Counter, "x.txt", "a (b|c\n")]).unwrap_err();
        assert_eq!(
            e,
            LexiconError::Unbalanced {
                file: "x.txt".into(),
                line: 1
            }
        );
        let e = Lexicon::build("", &[(Kind::Counter, "x.txt", "@nope = x\n")]);
        assert!(e.is_ok(), "class definitions outside classes.txt are skipped");
        let e = Lexicon::build("", &[(Kind::Counter, "x.txt", "@nope x\n")]).unwrap_err();
        assert!(matches!(e, LexiconError::UnknownClass { .. }));
        let e = Lexicon::build("", &[(Kind::Counter, "x.txt", "a @nope\n")]).unwrap_err();
        assert!(matches!(e, LexiconError::UnknownClass { .. }));
    }
}
