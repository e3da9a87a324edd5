//! BM25 ranking over short documents (one per question variant or out-of-scope trigger),
//! with one-edit typo expansion of unknown query terms. Knows documents only by an owner
//! index; deciding what to answer is `faq::ask`'s job.

use std::collections::{HashMap, HashSet};

use super::analyze::Analyzer;
use super::normalize;

/// Term-frequency saturation.
const K1: f32 = 1.2;
/// Length normalisation.
const B: f32 = 0.75;
/// A term found only through a one-edit typo counts this much of its weight.
const TYPO_WEIGHT: f32 = 0.8;
/// Shortest query word (in characters) that gets typo tolerance.
const TYPO_MIN_WORD: usize = 5;
/// What a word the FAQ has never seen counts in coverage, against one it knows.
pub(crate) const UNKNOWN_SHARE: f32 = 0.5;

/// One ranked document: its owner (an index the caller gave) and how well it matched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit {
    pub(crate) owner: usize,
    /// BM25 score.
    pub(crate) score: f32,
    /// Bit g set when the document matched query word g (see `Ranking::coverage`).
    pub(crate) matched: u64,
    /// Matched in an answer text rather than a question variant.
    pub(crate) in_answer: bool,
}

/// An inverted index over a fixed set of documents.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    analyzer: Option<Analyzer>,
    docs: Vec<Doc>,
    df: HashMap<String, u32>,
    /// Folded word -> its stem, for every word of every document: typos are matched on
    /// whole words, which is far more precise than on five-letter stems.
    words: HashMap<String, String>,
    avg_len: f32,
}

#[derive(Debug, Clone)]
struct Doc {
    owner: usize,
    /// What a match in it is worth (answers count less than question variants).
    weight: f32,
    /// An entry's answer text (its words explain a question less).
    answer: bool,
    tf: HashMap<String, u32>,
    len: f32,
}

impl Index {
    /// Builds the index from `(owner, text)` pairs.
    pub(crate) fn build<'a>(analyzer: Analyzer, docs: impl IntoIterator<Item = (usize, &'a str, f32, bool)>) -> Index {
        let mut index = Index::default();
        for (owner, text, weight, answer) in docs {
            // Typos are matched against the words of question variants only: an answer's
            // names and places ("Piazza Repubblica") would catch unrelated words ("pizza").
            if !answer {
                for w in analyzer.words(text) {
                    if !normalize::is_stop_word(&w) {
                        let stem = analyzer.stem(&w);
                        index.words.entry(w).or_insert(stem);
                    }
                }
            }
            let terms = analyzer.terms(text);
            let mut tf = HashMap::new();
            for t in &terms {
                *tf.entry(t.clone()).or_insert(0) += 1;
            }
            for t in tf.keys() {
                *index.df.entry(t.clone()).or_insert(0) += 1;
            }
            index.docs.push(Doc {
                owner,
                weight,
                answer,
                tf,
                len: terms.len() as f32,
            });
        }
        let total: f32 = index.docs.iter().map(|d| d.len).sum();
        index.avg_len = if index.docs.is_empty() {
            1.0
        } else {
            (total / index.docs.len() as f32).max(1.0)
        };
        index.analyzer = Some(analyzer);
        index
    }

    /// How the index reads text (none for an empty default index).
    pub(crate) fn analyzer(&self) -> Option<&Analyzer> {
        self.analyzer.as_ref()
    }

    fn idf(&self, df: u32) -> f32 {
        let n = self.docs.len() as f32;
        let df = df as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Resolves the question into word groups: each query word yields the term itself
    /// if known, otherwise the known stems of words one edit away; each group carries
    /// the word's weight for coverage. At most 64 groups (longer questions are cut).
    fn query(&self, question: &str) -> Vec<Group> {
        let unknown_weight = self.idf(0);
        let mut seen = HashSet::new();
        let mut groups = Vec::new();
        let Some(analyzer) = &self.analyzer else { return groups };
        for word in analyzer.words(question) {
            if groups.len() == 64 {
                break;
            }
            if normalize::is_stop_word(&word) {
                continue;
            }
            let stem = analyzer.stem(&word);
            if stem.is_empty() || !seen.insert(stem.clone()) {
                continue;
            }
            if let Some(&df) = self.df.get(&stem) {
                groups.push(Group {
                    weight: self.idf(df),
                    terms: vec![(stem, 1.0)],
                });
                continue;
            }
            let mut near: Vec<(String, f32)> = Vec::new();
            if word.chars().count() >= TYPO_MIN_WORD {
                for (known, known_stem) in &self.words {
                    if known.chars().count() >= TYPO_MIN_WORD
                        && normalize::within_one_edit(&word, known)
                        && !near.iter().any(|(n, _)| n == known_stem)
                    {
                        near.push((known_stem.clone(), TYPO_WEIGHT));
                    }
                }
            }
            // A corrected typo weighs as its rarest correction; a word never seen weighs
            // as much as a word found in no document.
            let weight = near
                .iter()
                .map(|(t, _)| self.idf(self.df.get(t).copied().unwrap_or(0)))
                .fold(None, |m: Option<f32>, w| Some(m.map_or(w, |m| m.max(w))))
                .unwrap_or(unknown_weight);
            groups.push(Group { weight, terms: near });
        }
        groups
    }

    /// Every document with a positive score, best first.
    pub(crate) fn rank(&self, question: &str) -> Ranking {
        let groups = self.query(question);
        let total_weight: f32 = groups.iter().map(|g| g.weight).sum();
        let mut hits: Vec<Hit> = self
            .docs
            .iter()
            .filter_map(|doc| {
                let (mut score, mut matched) = (0.0, 0u64);
                for (g, group) in groups.iter().enumerate() {
                    for (t, factor) in &group.terms {
                        let Some(&tf) = doc.tf.get(t) else { continue };
                        let idf = self.idf(self.df.get(t).copied().unwrap_or(0));
                        let tf = tf as f32;
                        score += doc.weight * factor * idf * tf * (K1 + 1.0)
                            / (tf + K1 * (1.0 - B + B * doc.len / self.avg_len));
                        matched |= 1 << g;
                    }
                }
                (score > 0.0).then_some(Hit {
                    owner: doc.owner,
                    score,
                    matched,
                    in_answer: doc.answer,
                })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        let unknown = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.terms.is_empty())
            .fold(0u64, |bits, (i, _)| bits | (1 << i));
        Ranking {
            hits,
            weights: groups.iter().map(|g| g.weight).collect(),
            total_weight,
            unknown,
        }
    }
}

/// One query word and the index terms standing for it.
struct Group {
    weight: f32,
    terms: Vec<(String, f32)>,
}

/// The ranked documents for one question, with what is needed to compute coverage.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ranking {
    pub(crate) hits: Vec<Hit>,
    weights: Vec<f32>,
    total_weight: f32,
    /// Bit g set when query word g is unknown to the FAQ (no term, no near spelling).
    unknown: u64,
}

impl Ranking {
    /// Share of the question's weight covered by the query words in `matched`, 0..=1.
    /// Words the FAQ has never seen weigh as much as a word in no document, so a
    /// question about something else entirely has low coverage even when one word
    /// matches.
    /// The share of the question's weight matched, with words the FAQ has never seen
    /// counting [`UNKNOWN_SHARE`] of their weight: a chatty question's extra words weigh
    /// less, a question about something else entirely still has low coverage.
    pub(crate) fn coverage(&self, matched: u64) -> f32 {
        let unknown: f32 = self.weight_of(self.unknown & !matched);
        let total = self.total_weight - (1.0 - UNKNOWN_SHARE) * unknown;
        if total <= 0.0 {
            return 0.0;
        }
        (self.weight_of(matched) / total).min(1.0)
    }

    /// The summed weight of the query words in `bits`.
    fn weight_of(&self, bits: u64) -> f32 {
        self.weights
            .iter()
            .enumerate()
            .filter(|(g, _)| bits & (1 << g) != 0)
            .map(|(_, w)| w)
            .sum()
    }

    /// The share of the question's weight in words the FAQ knows (matched or not).
    pub(crate) fn known(&self) -> f32 {
        if self.total_weight <= 0.0 {
            return 0.0;
        }
        1.0 - self.raw_coverage(self.unknown)
    }

    fn raw_coverage(&self, matched: u64) -> f32 {
        if self.total_weight <= 0.0 {
            return 0.0;
        }
        let covered: f32 = self
            .weights
            .iter()
            .enumerate()
            .filter(|(g, _)| matched & (1 << g) != 0)
            .map(|(_, w)| w)
            .sum();
        (covered / self.total_weight).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Index {
        let analyzer = Analyzer::new(super::super::analyze::Lang::It, &[]);
        Index::build(
            analyzer,
            [
                (0, "come mi iscrivo al servizio", 1.0, false),
                (0, "attiva iscrizione", 1.0, false),
                (1, "come mi cancello dal servizio", 1.0, false),
                (2, "quali sono gli orari", 1.0, false),
            ],
        )
    }

    #[test]
    fn ranks_the_matching_document_first() {
        let r = index().rank("vorrei iscrivermi");
        assert_eq!(r.hits[0].owner, 0);
        assert!((r.coverage(r.hits[0].matched) - 1.0).abs() < 1e-6);
        assert_eq!(index().rank("orario").hits[0].owner, 2);
    }

    #[test]
    fn typos_of_long_words_still_match() {
        let r = index().rank("iscirzione");
        assert_eq!(r.hits.first().map(|h| h.owner), Some(0));
        // Short words get no typo tolerance.
        assert!(index().rank("orr").hits.is_empty());
    }

    #[test]
    fn unknown_words_lower_coverage() {
        let r = index().rank("servizio pizza margherita");
        assert!(r.hits.iter().all(|h| r.coverage(h.matched) < 0.5), "{r:?}");
        assert!(index().rank("").hits.is_empty());
        let analyzer = Analyzer::new(super::super::analyze::Lang::It, &[]);
        assert!(Index::build(analyzer, []).rank("ciao").hits.is_empty());
    }
}
