//! The FAQ of a comune and its tolerant matcher (issue 7).
//!
//! Owns the FAQ data model (entries with question variants, out-of-scope rules) and the
//! decision for one question: answer, offer a few choices, point elsewhere, or abstain.
//! Pure: no I/O except `Faq::load`, no clock, no citizen-facing words beyond the
//! comune's own FAQ text (answers are comune content edited by operators, so they live
//! in `faq/<comune>.toml`, not in Fluent). Never logs questions: they may hold personal
//! data.
//!
//! - `normalize`: folding, stop words, stemming, edit distance.
//! - `bm25`: the ranking.
//! - `load` and `csv`: reading and validating data files.

mod analyze;
mod bm25;
mod csv;
mod intent;
mod load;
mod normalize;

use std::path::Path;

use serde::{Deserialize, Serialize};

use bm25::{Hit, Index};
pub use intent::Intent;

/// Below this score (BM25 times coverage) the best match is too weak to answer.
pub const MIN_SCORE: f32 = 0.5;
/// Below this share of the question's weight matched, the question is probably about
/// something the FAQ does not cover: abstain.
pub const MIN_COVERAGE: f32 = 0.69;
/// Entries scoring at least this fraction of the best are a near tie: offer choices.
pub const TIE_RATIO: f32 = 0.9;
/// Weight of an entry's second-best variant in its score.
pub const CONSENSUS: f32 = 0.25;
/// At most this many choices are offered.
pub const MAX_CHOICES: usize = 3;
/// An entry is suggested, when the matcher abstains, from this share of the question's
/// weight matched and this score.
pub const SUGGEST_COVERAGE: f32 = 0.35;
/// See [`SUGGEST_COVERAGE`].
pub const SUGGEST_SCORE: f32 = 0.2;
/// What a match in an entry's answer text is worth, against one in a question variant.
pub const ANSWER_WEIGHT: f32 = 0.35;
/// What a question word found only in an entry's answer counts in its coverage.
pub const ANSWER_COVERAGE: f32 = 0.5;
/// A request or report (see [`Intent`]) goes to the rule that handles it unless an entry
/// explains at least this share of the question.
pub const INTENT_YIELD: f32 = 0.6;

/// The decision thresholds; `Default` gives the constants above, tuned on
/// `eval/faq/dev.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// See [`MIN_SCORE`].
    pub min_score: f32,
    /// See [`MIN_COVERAGE`].
    pub min_coverage: f32,
    /// See [`TIE_RATIO`].
    pub tie_ratio: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_score: MIN_SCORE,
            min_coverage: MIN_COVERAGE,
            tie_ratio: TIE_RATIO,
        }
    }
}

/// Why FAQ data could not be loaded. Messages name the file, line or entry.
#[derive(Debug, thiserror::Error)]
pub enum FaqError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// The TOML is malformed or has unknown keys.
    #[error("bad FAQ file: {0}")]
    Toml(String),
    /// The CSV is malformed or lacks a required column.
    #[error("bad FAQ CSV at line {line}: {reason}")]
    Csv { line: usize, reason: String },
    /// An entry or rule breaks a rule of the data model.
    #[error("bad FAQ entry {id:?}: {reason}")]
    Invalid { id: String, reason: String },
}

/// One FAQ entry: several ways citizens ask, one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Kebab-case id, shared by the translations of one entry (`come-iscriversi`).
    pub id: String,
    /// `it` or `fr`.
    pub lang: String,
    /// Question variants as citizens would ask.
    pub questions: Vec<String>,
    /// The answer text, written by the comune.
    pub answer: String,
    /// An optional link for more.
    #[serde(default)]
    pub link: Option<String>,
    /// True while the answer is a "[DA COMPLETARE …]" placeholder for the URP to fill
    /// in: the engine should hand such questions to staff rather than send the text.
    #[serde(default)]
    pub placeholder: bool,
}

#[cfg(test)]
impl Entry {
    /// An Italian entry for tests of the edits: one question, `domanda <id>`.
    pub(crate) fn sample(id: &str, answer: &str) -> Entry {
        Entry {
            id: id.into(),
            lang: "it".into(),
            questions: vec![format!("domanda {id}")],
            answer: answer.into(),
            link: None,
            placeholder: false,
        }
    }
}

/// A topic the service must not handle (e.g. reports, access to records), with the
/// phrases that reveal it and where to send the citizen instead.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutOfScope {
    /// Kebab-case id, distinct from every entry id (`accesso-atti`).
    pub id: String,
    /// `it` or `fr`.
    pub lang: String,
    /// Phrases that reveal the topic.
    pub triggers: Vec<String>,
    /// Where to go instead, written by the comune.
    pub redirect: String,
    /// Requests and reports this rule answers even when no trigger matches them
    /// (`handles = ["request", "report"]`).
    #[serde(default)]
    pub handles: Vec<Intent>,
}

/// The decision for one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer<'a> {
    /// One clear match.
    Entry { entry: &'a Entry, score: f32 },
    /// Near ties, best first: offer them as buttons.
    Choices(Vec<(&'a Entry, f32)>),
    /// The question is about something the service does not handle.
    OutOfScope { redirect: &'a str, score: f32 },
    /// Nothing matches well enough; `best` is the best score seen, if any, and
    /// `suggestions` the entries that come closest (at most [`MAX_CHOICES`]), to offer as
    /// buttons while a person answers.
    Abstain {
        best: Option<f32>,
        suggestions: Vec<(&'a Entry, f32)>,
    },
}

/// A comune's FAQ, indexed for matching.
#[derive(Debug, Clone)]
pub struct Faq {
    entries: Vec<Entry>,
    rules: Vec<OutOfScope>,
    /// One index per language present, plus `*` over everything (used when the
    /// question's language has no entries). Owners: entry indexes, then
    /// `entries.len() + rule index`.
    indexes: Vec<(String, Index)>,
    /// Each index's language's requests and reports, in the same order.
    intents: Vec<intent::Intents>,
    thresholds: Thresholds,
    /// The comune's synonym groups (the language's own are added per index).
    synonyms: Vec<Vec<String>>,
}

impl Faq {
    /// Loads `faq/<comune>.toml`, or a CSV when the file name ends in `.csv`.
    pub fn load(path: &Path) -> Result<Faq, FaqError> {
        let text = std::fs::read_to_string(path).map_err(|source| FaqError::Io {
            path: path.display().to_string(),
            source,
        })?;
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            Faq::from_csv_str(&text)
        } else {
            Faq::from_toml_str(&text)
        }
    }

    /// Reads the TOML form: `[[entry]]` tables and `[[out_of_scope]]` tables.
    pub fn from_toml_str(text: &str) -> Result<Faq, FaqError> {
        let (entries, rules, synonyms) = load::from_toml(text)?;
        Ok(Faq::new(entries, rules, synonyms))
    }

    /// Reads a CSV with a header naming at least `id`, `question`, `answer` (`lang`,
    /// `link`, `placeholder` optional, others ignored), comma or semicolon separated.
    pub fn from_csv_str(text: &str) -> Result<Faq, FaqError> {
        Ok(Faq::new(load::from_csv(text)?, Vec::new(), Vec::new()))
    }

    fn new(entries: Vec<Entry>, rules: Vec<OutOfScope>, synonyms: Vec<Vec<String>>) -> Faq {
        let n = entries.len();
        // Question variants and rule triggers, and each entry's answer at a lower weight.
        let docs = |lang: Option<&str>| {
            let entry_docs = entries
                .iter()
                .enumerate()
                .filter(move |(_, e)| lang.is_none_or(|l| e.lang == l))
                .flat_map(|(i, e)| {
                    let answer = (!e.placeholder).then_some((i, e.answer.as_str(), ANSWER_WEIGHT, true));
                    e.questions
                        .iter()
                        .map(move |q| (i, q.as_str(), 1.0, false))
                        .chain(answer)
                });
            let rule_docs = rules
                .iter()
                .enumerate()
                .filter(move |(_, r)| lang.is_none_or(|l| r.lang == l))
                .flat_map(move |(i, r)| r.triggers.iter().map(move |t| (n + i, t.as_str(), 1.0, false)));
            entry_docs.chain(rule_docs).collect::<Vec<_>>()
        };
        let mut langs: Vec<&str> = entries
            .iter()
            .map(|e| e.lang.as_str())
            .chain(rules.iter().map(|r| r.lang.as_str()))
            .collect();
        langs.sort();
        langs.dedup();
        let groups = |lang: &str| {
            let mut g = load::language_synonyms(lang).to_vec();
            g.extend(synonyms.iter().cloned());
            g
        };
        let mut indexes: Vec<(String, Index)> = langs
            .iter()
            .map(|l| {
                let analyzer = analyze::Analyzer::new(analyze::Lang::from_code(l), &groups(l));
                (l.to_string(), Index::build(analyzer, docs(Some(l))))
            })
            .collect();
        let everything = analyze::Analyzer::new(analyze::Lang::Other, &synonyms);
        indexes.push(("*".to_string(), Index::build(everything, docs(None))));
        let intents = indexes
            .iter()
            .map(|(l, index)| index.analyzer().map(|a| intent::Intents::new(l, a)).unwrap_or_default())
            .collect();
        Faq {
            entries,
            rules,
            indexes,
            intents,
            thresholds: Thresholds::default(),
            synonyms,
        }
    }

    /// The same out-of-scope rules and thresholds over other entries (an operator's edits
    /// overlaid on the file), validated as a file would be.
    pub fn with_entries(&self, entries: Vec<Entry>) -> Result<Faq, FaqError> {
        load::validate(&entries, &self.rules)?;
        Ok(Faq::new(entries, self.rules.clone(), self.synonyms.clone()).with_thresholds(self.thresholds))
    }

    /// An FAQ of these entries alone (a comune without a file whose operators add some).
    pub fn from_entries(entries: Vec<Entry>) -> Result<Faq, FaqError> {
        load::validate(&entries, &[])?;
        Ok(Faq::new(entries, Vec::new(), Vec::new()))
    }

    /// The same FAQ deciding with other thresholds (for tuning and evaluation).
    pub fn with_thresholds(mut self, thresholds: Thresholds) -> Faq {
        self.thresholds = thresholds;
        self
    }

    /// All entries, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// All out-of-scope rules, in file order.
    pub fn out_of_scope(&self) -> &[OutOfScope] {
        &self.rules
    }

    /// The rule behind an `Answer::OutOfScope` redirect (by identity, not by text).
    pub fn rule_for(&self, redirect: &str) -> Option<&OutOfScope> {
        self.rules.iter().find(|r| std::ptr::eq(r.redirect.as_str(), redirect))
    }

    /// Answers `question` asked in `lang` (`it`, `fr`; anything else, or a language the
    /// FAQ lacks, searches every language). Entries are ranked by BM25 over their best
    /// variant (plus `CONSENSUS` times its second best) times coverage; abstains below `MIN_SCORE` or `MIN_COVERAGE`; entries
    /// within `TIE_RATIO` of the best come back as `Choices`.
    pub fn ask(&self, question: &str, lang: &str) -> Answer<'_> {
        let (scored, _) = self.candidates(question, lang);
        let top = scored.first().copied();
        // A request or report no entry explains goes to the rule that handles it.
        let explained = top.is_some_and(|(owner, score, coverage)| {
            owner < self.entries.len() && score >= self.thresholds.min_score && coverage >= INTENT_YIELD
        });
        if !explained {
            if let Some(rule) = self.intent_rule(question, lang) {
                // A rule the question's own words point at is more precise ("accesso
                // agli atti" is a request, with a rule of its own).
                let rule = top
                    .filter(|&(_, _, coverage)| coverage >= SUGGEST_COVERAGE)
                    .and_then(|(owner, ..)| self.rules.get(owner.checked_sub(self.entries.len())?))
                    .unwrap_or(rule);
                return Answer::OutOfScope {
                    redirect: &rule.redirect,
                    score: top.map_or(0.0, |t| t.1),
                };
            }
        }
        let Some((top_owner, top_score, top_coverage)) = top else {
            return Answer::Abstain {
                best: None,
                suggestions: Vec::new(),
            };
        };
        let t = self.thresholds;
        if top_score < t.min_score || top_coverage < t.min_coverage {
            let suggestions = scored
                .iter()
                .filter(|&&(_, score, coverage)| score >= SUGGEST_SCORE && coverage >= SUGGEST_COVERAGE)
                .filter_map(|&(owner, score, _)| self.entries.get(owner).map(|e| (e, score)))
                .filter(|(e, _)| !e.placeholder)
                .take(MAX_CHOICES)
                .collect();
            return Answer::Abstain {
                best: Some(top_score),
                suggestions,
            };
        }
        if let Some(rule) = top_owner
            .checked_sub(self.entries.len())
            .and_then(|i| self.rules.get(i))
        {
            return Answer::OutOfScope {
                redirect: &rule.redirect,
                score: top_score,
            };
        }
        let choices: Vec<(&Entry, f32)> = scored
            .iter()
            .filter(|&&(_, score, coverage)| score >= t.tie_ratio * top_score && coverage >= t.min_coverage)
            .filter_map(|&(owner, score, _)| self.entries.get(owner).map(|e| (e, score)))
            .take(MAX_CHOICES)
            .collect();
        match (choices.len(), self.entries.get(top_owner)) {
            (2.., _) => Answer::Choices(choices),
            (_, Some(entry)) => Answer::Entry {
                entry,
                score: top_score,
            },
            (_, None) => Answer::Abstain {
                best: Some(top_score),
                suggestions: Vec::new(),
            },
        }
    }

    /// For tuning: the best candidates (id, score, coverage), best first, the share of
    /// the question's weight in words the FAQ knows, and the request or report read in
    /// it.
    pub fn explain(&self, question: &str, lang: &str) -> (Vec<(String, f32, f32)>, f32, Option<Intent>) {
        let (scored, known) = self.candidates(question, lang);
        let id = |owner: usize| match self.entries.get(owner) {
            Some(e) => e.id.clone(),
            None => self
                .rules
                .get(owner - self.entries.len())
                .map(|r| r.id.clone())
                .unwrap_or_default(),
        };
        let top = scored.iter().take(5).map(|&(o, s, c)| (id(o), s, c)).collect();
        (top, known, self.intent(question, lang).map(|(_, intent)| intent))
    }

    /// Every entry or rule the question matches, best first: (owner, score, coverage); and
    /// the share of the question's weight in words the FAQ knows. An entry's score is its
    /// best variant's BM25 plus a little of its second best (an entry several of whose
    /// phrasings match is likelier the intent), times its coverage: between two entries
    /// matching the same common word, the one that also explains the rare words wins.
    fn candidates(&self, question: &str, lang: &str) -> (Vec<(usize, f32, f32)>, f32) {
        let Some((_, index)) = self.index_for(lang).map(|at| &self.indexes[at]) else {
            return (Vec::new(), 0.0);
        };
        // Best document per entry id (translations share an id) or per rule; coverage
        // counts the question's words matched by any variant of the entry.
        let ranking = index.rank(question);
        // (best hit, its entry's second-best variant score, words matched by any variant,
        // words matched by its answer)
        let mut best: Vec<(Hit, f32, u64, u64)> = Vec::new();
        for hit in &ranking.hits {
            let (in_question, in_answer) = if hit.in_answer {
                (0, hit.matched)
            } else {
                (hit.matched, 0)
            };
            match best.iter_mut().find(|(b, ..)| self.same_target(b.owner, hit.owner)) {
                Some((_, second, matched, answered)) => {
                    *second = second.max(hit.score);
                    *matched |= in_question;
                    *answered |= in_answer;
                }
                None => best.push((*hit, 0.0, in_question, in_answer)),
            }
        }
        let mut scored: Vec<(usize, f32, f32)> = best
            .iter()
            .map(|(h, second, m, a)| {
                // Words found only in the answer explain the question less.
                let coverage = ranking.coverage(*m) + ANSWER_COVERAGE * ranking.coverage(*a & !*m);
                (h.owner, (h.score + CONSENSUS * second) * coverage, coverage)
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        (scored, ranking.known())
    }

    /// The rule that handles what `question` asks for, if it asks for a request or a
    /// report and a rule handles it (a report falls back on a rule for requests): the
    /// question's language first.
    fn intent_rule(&self, question: &str, lang: &str) -> Option<&OutOfScope> {
        let (lang, intent) = self.intent(question, lang)?;
        let wanted: &[Intent] = match intent {
            Intent::Report => &[Intent::Report, Intent::Request],
            Intent::Request => &[Intent::Request],
        };
        wanted.iter().find_map(|want| {
            let handling = || self.rules.iter().filter(move |r| r.handles.contains(want));
            handling().find(|r| r.lang == lang).or_else(|| handling().next())
        })
    }

    /// The question's language as indexed, and the request or report read in it.
    fn intent(&self, question: &str, lang: &str) -> Option<(String, Intent)> {
        let at = self.index_for(lang)?;
        let analyzer = self.indexes[at].1.analyzer()?;
        let lang = lang.trim().to_ascii_lowercase();
        Some((lang, self.intents[at].detect(analyzer, question)?))
    }

    /// Where in `indexes` (and `intents`) a question asked in `lang` is looked up: that
    /// language's index, or the last one, over every language.
    fn index_for(&self, lang: &str) -> Option<usize> {
        let lang = lang.trim().to_ascii_lowercase();
        self.indexes
            .iter()
            .position(|(l, _)| *l == lang)
            .or(self.indexes.len().checked_sub(1))
    }

    /// Whether two owners are the same entry id (any language) or the same rule.
    fn same_target(&self, a: usize, b: usize) -> bool {
        if a == b {
            return true;
        }
        match (self.entries.get(a), self.entries.get(b)) {
            (Some(x), Some(y)) => x.id == y.id,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;

/// Every comune's FAQ: `dir/<comune>.toml` when a folder is given, else the files built
/// into the binary.
pub fn load_all(dir: Option<&Path>) -> Result<std::collections::BTreeMap<String, Faq>, FaqError> {
    let mut out = std::collections::BTreeMap::new();
    match dir {
        Some(dir) => {
            let entries = std::fs::read_dir(dir).map_err(|source| FaqError::Io {
                path: dir.display().to_string(),
                source,
            })?;
            for path in entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            {
                let id = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string();
                out.insert(id, Faq::load(&path)?);
            }
        }
        None => {
            for (name, src) in crate::embedded::FAQS {
                out.insert(name.trim_end_matches(".toml").to_string(), Faq::from_toml_str(src)?);
            }
        }
    }
    Ok(out)
}
