//! Evaluating the policy on a labelled set: precision, recall and F1 per rule, macro-F1
//! over rules, and how many ordinary messages (labelled `allow`) were withheld.
//!
//! A set is a CSV with a header holding `text` and `expected` (`allow` or a rule name)
//! and optionally `lang` (`it`, `fr`); rows without `lang` use the default language.
//! A message counts as predicted for the rule the policy reports (its deciding rule), so
//! each row has exactly one expected and one predicted label.
//!
//! Labelling conventions of `eval/moderation/*.csv` follow the module docs of
//! [`super`]: insults aimed at a person are `personal-attack`, swearing aimed at nobody is
//! `vulgar`, accusations of crimes are `defamation`, complaints and counter-speech are
//! `allow`. `heldout.csv` was written before the lexicons and is never tuned on.

use serde::Serialize;

use super::csv::{self, CsvError};
use super::{Lang, Policy, Rule, Settings};

/// A problem with a labelled set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The CSV itself is malformed.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// The header lacks a required column.
    #[error("the header has no {0:?} column")]
    MissingColumn(&'static str),
    /// `expected` is neither `allow` nor a rule name.
    #[error("row {row}: unknown label {label:?}")]
    UnknownLabel { row: usize, label: String },
    /// `lang` is neither `it` nor `fr`.
    #[error("row {row}: unknown language {lang:?}")]
    UnknownLang { row: usize, lang: String },
    /// No data row.
    #[error("the set has no rows")]
    Empty,
}

/// One labelled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The message.
    pub text: String,
    /// Its language.
    pub lang: Lang,
    /// `None` for `allow`.
    pub expected: Option<Rule>,
    /// The functionality it tests (functional suites, `eval/moderation/functional/`).
    pub functionality: Option<String>,
}

/// Reads a labelled set.
pub fn read_set(input: &str, default_lang: Lang) -> Result<Vec<Example>, EvalError> {
    let records = csv::parse(input)?;
    let mut rows = records.into_iter();
    let header = rows.next().ok_or(EvalError::Empty)?;
    let col = |name: &'static str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let text_col = col("text").ok_or(EvalError::MissingColumn("text"))?;
    let expected_col = col("expected").ok_or(EvalError::MissingColumn("expected"))?;
    let lang_col = col("lang");
    let functionality_col = col("functionality");
    let mut out = Vec::new();
    for (i, rec) in rows.enumerate() {
        let row = i + 2;
        let get = |c: usize| rec.get(c).map(String::as_str).unwrap_or("");
        let label = get(expected_col).trim();
        let expected = match label {
            "allow" => None,
            other => Some(Rule::from_name(other).ok_or_else(|| EvalError::UnknownLabel {
                row,
                label: other.to_string(),
            })?),
        };
        let lang = match lang_col.map(get).map(str::trim) {
            None | Some("") => default_lang,
            Some(l) => l.parse().map_err(|_| EvalError::UnknownLang {
                row,
                lang: l.to_string(),
            })?,
        };
        out.push(Example {
            text: get(text_col).to_string(),
            lang,
            expected,
            functionality: functionality_col
                .map(get)
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(String::from),
        });
    }
    if out.is_empty() {
        return Err(EvalError::Empty);
    }
    Ok(out)
}

/// Figures for one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleScore {
    /// The rule.
    pub rule: Rule,
    /// Rows labelled with this rule.
    pub support: usize,
    /// Rows predicted as this rule.
    pub predicted: usize,
    /// Both.
    pub true_positives: usize,
    /// tp / predicted (1 when nothing was predicted).
    pub precision: f64,
    /// tp / support (1 when there is no support).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

/// The evaluation of a set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Rows evaluated.
    pub rows: usize,
    /// Rows labelled `allow`.
    pub allow_rows: usize,
    /// Per rule, for the rules present in the labels or the predictions.
    pub rules: Vec<RuleScore>,
    /// Mean F1 over those rules.
    pub macro_f1: f64,
    /// Share of `allow` rows that were withheld or blocked.
    pub false_positive_rate: f64,
    /// Share of violating rows that were allowed.
    pub false_negative_rate: f64,
    /// Share of rows whose predicted label equals the expected one.
    pub accuracy: f64,
    /// Withheld or not, whatever the rule: the mean of the F1 of "withheld" and the F1 of
    /// "allowed" (what an outside hate-speech suite measures).
    pub binary_macro_f1: f64,
    /// Per functionality, in the order first seen (functional suites only).
    pub functionalities: Vec<FunctionalityScore>,
    /// Rows where prediction and label differ: (row index from 0, expected, predicted).
    #[serde(skip)]
    pub errors: Vec<(usize, Option<Rule>, Option<Rule>)>,
}

/// Figures for one functionality of a functional suite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionalityScore {
    pub name: String,
    /// Its expected label (the first row's).
    pub expected: Option<Rule>,
    pub rows: usize,
    /// Rows predicted with exactly the expected label.
    pub correct: usize,
    /// Rows withheld when they should be, or allowed when they should be.
    pub correct_withheld: usize,
}

/// Runs the policy over `set` with default settings.
pub fn evaluate(policy: &Policy, set: &[Example]) -> Report {
    let settings = Settings::default();
    let predicted: Vec<Option<Rule>> = set
        .iter()
        .map(|ex| policy.check(&ex.text, ex.lang, &settings).rule)
        .collect();
    score(set, &predicted)
}

/// Figures from expected and predicted labels.
pub fn score(set: &[Example], predicted: &[Option<Rule>]) -> Report {
    let mut rules = Vec::new();
    for rule in Rule::ALL {
        let support = set.iter().filter(|e| e.expected == Some(rule)).count();
        let pred = predicted.iter().filter(|p| **p == Some(rule)).count();
        if support == 0 && pred == 0 {
            continue;
        }
        let tp = set
            .iter()
            .zip(predicted)
            .filter(|(e, p)| e.expected == Some(rule) && **p == Some(rule))
            .count();
        let precision = if pred == 0 { 1.0 } else { tp as f64 / pred as f64 };
        let recall = if support == 0 { 1.0 } else { tp as f64 / support as f64 };
        let f1 = if tp == 0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        rules.push(RuleScore {
            rule,
            support,
            predicted: pred,
            true_positives: tp,
            precision,
            recall,
            f1,
        });
    }
    let macro_f1 = if rules.is_empty() {
        1.0
    } else {
        rules.iter().map(|r| r.f1).sum::<f64>() / rules.len() as f64
    };
    let allow_rows = set.iter().filter(|e| e.expected.is_none()).count();
    let fp = set
        .iter()
        .zip(predicted)
        .filter(|(e, p)| e.expected.is_none() && p.is_some())
        .count();
    let violating = set.len() - allow_rows;
    let fneg = set
        .iter()
        .zip(predicted)
        .filter(|(e, p)| e.expected.is_some() && p.is_none())
        .count();
    let errors: Vec<_> = set
        .iter()
        .zip(predicted)
        .enumerate()
        .filter(|(_, (e, p))| e.expected != **p)
        .map(|(i, (e, p))| (i, e.expected, *p))
        .collect();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let mut functionalities: Vec<FunctionalityScore> = Vec::new();
    for (e, p) in set.iter().zip(predicted) {
        let Some(name) = &e.functionality else { continue };
        let i = match functionalities.iter().position(|f| &f.name == name) {
            Some(i) => i,
            None => {
                functionalities.push(FunctionalityScore {
                    name: name.clone(),
                    expected: e.expected,
                    rows: 0,
                    correct: 0,
                    correct_withheld: 0,
                });
                functionalities.len() - 1
            }
        };
        let f = &mut functionalities[i];
        f.rows += 1;
        f.correct += usize::from(e.expected == *p);
        f.correct_withheld += usize::from(e.expected.is_some() == p.is_some());
    }
    // Withheld or not: F1 of each side, averaged.
    let (mut tp, mut fp_w, mut fn_w, mut tn) = (0usize, 0usize, 0usize, 0usize);
    for (e, p) in set.iter().zip(predicted) {
        match (e.expected.is_some(), p.is_some()) {
            (true, true) => tp += 1,
            (false, true) => fp_w += 1,
            (true, false) => fn_w += 1,
            (false, false) => tn += 1,
        }
    }
    let f1 = |tp: usize, fp: usize, fneg: usize| {
        if tp == 0 {
            0.0
        } else {
            2.0 * tp as f64 / (2 * tp + fp + fneg) as f64
        }
    };
    let binary_macro_f1 = (f1(tp, fp_w, fn_w) + f1(tn, fn_w, fp_w)) / 2.0;
    Report {
        binary_macro_f1,
        functionalities,
        rows: set.len(),
        allow_rows,
        macro_f1,
        false_positive_rate: ratio(fp, allow_rows),
        false_negative_rate: ratio(fneg, violating),
        accuracy: ratio(set.len() - errors.len(), set.len()),
        rules,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(expected: Option<Rule>) -> Example {
        Example {
            text: String::new(),
            lang: Lang::It,
            expected,
            functionality: Some(if expected.is_some() { "bad" } else { "fine" }.into()),
        }
    }

    #[test]
    fn reads_sets_with_and_without_lang() {
        let set = read_set("text,expected,lang\n\"ciao, come va\",allow,fr\nx,vulgar,\n", Lang::It).unwrap();
        assert_eq!(
            set[0],
            Example {
                text: "ciao, come va".into(),
                lang: Lang::Fr,
                expected: None,
                functionality: None,
            }
        );
        assert_eq!(set[1].lang, Lang::It);
        assert_eq!(read_set("expected,text\nallow,a\n", Lang::Fr).unwrap()[0].text, "a");
        assert_eq!(
            read_set("text\na\n", Lang::It),
            Err(EvalError::MissingColumn("expected"))
        );
        assert!(matches!(
            read_set("text,expected\na,rude\n", Lang::It),
            Err(EvalError::UnknownLabel { row: 2, .. })
        ));
        assert_eq!(read_set("text,expected\n", Lang::It), Err(EvalError::Empty));
    }

    #[test]
    fn scores_per_rule_and_macro() {
        let set = [
            ex(None),
            ex(None),
            ex(Some(Rule::Vulgar)),
            ex(Some(Rule::Vulgar)),
            ex(Some(Rule::Threat)),
        ];
        let pred = [None, Some(Rule::Vulgar), Some(Rule::Vulgar), None, Some(Rule::Threat)];
        let r = score(&set, &pred);
        let v = r.rules.iter().find(|s| s.rule == Rule::Vulgar).unwrap();
        assert_eq!((v.support, v.predicted, v.true_positives), (2, 2, 1));
        assert!((v.f1 - 0.5).abs() < 1e-9);
        assert!((r.macro_f1 - 0.75).abs() < 1e-9);
        assert!((r.false_positive_rate - 0.5).abs() < 1e-9);
        assert!((r.false_negative_rate - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(r.errors.len(), 2);
        // Withheld: tp 2, fp 1, fn 1 → 2/3; allowed: tp 1, fp 1, fn 1 → 1/2.
        assert!((r.binary_macro_f1 - (2.0 / 3.0 + 0.5) / 2.0).abs() < 1e-9);
        let bad = &r.functionalities[1];
        assert_eq!(
            (bad.name.as_str(), bad.rows, bad.correct, bad.correct_withheld),
            ("bad", 3, 2, 2)
        );
    }
}
