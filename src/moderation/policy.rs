//! The policy: lexicons compiled in, one automaton per language, and the verdict.

use super::lexicon::{Kind, Lexicon, LexiconError};
use super::normalize::normalize;
use super::pii::Detectors;
use super::{rules, Lang, Outcome, Rule, Settings, Span, Verdict};

/// Class definitions and lexicon files of one language, compiled into the binary.
struct Sources {
    classes: &'static str,
    files: [(Kind, &'static str, &'static str); 12],
}

macro_rules! lexicons {
    ($lang:literal) => {
        Sources {
            classes: include_str!(concat!("../../lexicons/", $lang, "/classes.txt")),
            files: [
                (Kind::Rule(Rule::Illegal), "illegal.txt", include_str!(concat!("../../lexicons/", $lang, "/illegal.txt"))),
                (Kind::Rule(Rule::Vulgar), "vulgar.txt", include_str!(concat!("../../lexicons/", $lang, "/vulgar.txt"))),
                (Kind::Rule(Rule::Defamation), "defamation.txt", include_str!(concat!("../../lexicons/", $lang, "/defamation.txt"))),
                (Kind::Rule(Rule::Threat), "threat.txt", include_str!(concat!("../../lexicons/", $lang, "/threat.txt"))),
                (Kind::Rule(Rule::PersonalAttack), "attack.txt", include_str!(concat!("../../lexicons/", $lang, "/attack.txt"))),
                (Kind::Rule(Rule::Hate), "hate.txt", include_str!(concat!("../../lexicons/", $lang, "/hate.txt"))),
                (Kind::Counter, "counter.txt", include_str!(concat!("../../lexicons/", $lang, "/counter.txt"))),
                (Kind::Own, "own.txt", include_str!(concat!("../../lexicons/", $lang, "/own.txt"))),
                (Kind::Third, "third.txt", include_str!(concat!("../../lexicons/", $lang, "/third.txt"))),
                (Kind::Place, "place.txt", include_str!(concat!("../../lexicons/", $lang, "/place.txt"))),
                (Kind::Public, "public.txt", include_str!(concat!("../../lexicons/", $lang, "/public.txt"))),
                // Personal data has no lexicon of its own; an empty slot keeps the array fixed.
                (Kind::Counter, "none", ""),
            ],
        }
    };
}

/// Assemini's moderation rules, ready to check messages. Immutable after construction,
/// so one instance is shared by every worker (`Send + Sync`, wrap it in an `Arc`).
#[derive(Debug, Clone)]
pub struct Policy {
    it: Lexicon,
    fr: Lexicon,
    pii: Detectors,
}

impl Policy {
    /// The policy built from the lexicons shipped in `lexicons/`.
    pub fn builtin() -> Policy {
        // The shipped files are parsed by the unit tests; failing here is a build bug.
        Policy::try_builtin().expect("the built-in lexicons are valid")
    }

    /// Like [`Policy::builtin`], returning the lexicon error instead of panicking.
    pub fn try_builtin() -> Result<Policy, LexiconError> {
        let (it, fr) = (lexicons!("it"), lexicons!("fr"));
        Ok(Policy {
            it: Lexicon::build(it.classes, &it.files)?,
            fr: Lexicon::build(fr.classes, &fr.files)?,
            pii: Detectors::new(),
        })
    }

    /// Number of automaton patterns for a language (for the docs and the benchmark).
    pub fn patterns(&self, lang: Lang) -> usize {
        self.lexicon(lang).len()
    }

    fn lexicon(&self, lang: Lang) -> &Lexicon {
        match lang {
            Lang::It => &self.it,
            Lang::Fr => &self.fr,
        }
    }

    /// Checks one message. Pure: the same input always gives the same outcome.
    pub fn check(&self, text: &str, lang: Lang, settings: &Settings) -> Outcome {
        if !settings.enabled {
            return Outcome::allow();
        }
        let norm = normalize(text);
        let hits = self.lexicon(lang).scan(&norm);
        let (mut spans, markers) = rules::weigh(text, &norm, &hits);
        if !settings.own_data_step {
            for h in self.pii.find(text, &markers) {
                if let Some(t) = text.get(h.start..h.end) {
                    spans.push(Span { start: h.start, end: h.end, rule: Rule::PersonalData, text: t.to_string() });
                }
            }
        }
        decide(spans, settings)
    }
}

/// Orders the spans and picks the verdict: a grave rule blocks, any other withholds.
fn decide(mut spans: Vec<Span>, settings: &Settings) -> Outcome {
    if spans.is_empty() {
        return Outcome::allow();
    }
    spans.sort_by(|a, b| (a.start, a.end, a.rule).cmp(&(b.start, b.end, b.rule)));
    spans.dedup_by(|a, b| a.start == b.start && a.end == b.end && a.rule == b.rule);
    let grave = spans.iter().map(|s| s.rule).filter(|r| settings.grave.contains(r)).min_by_key(|r| r.precedence());
    let (verdict, rule) = match grave {
        Some(rule) => (Verdict::Block, rule),
        None => (Verdict::Withhold, spans.iter().map(|s| s.rule).min_by_key(|r| r.precedence()).unwrap_or(Rule::Vulgar)),
    };
    Outcome { verdict, rule: Some(rule), spans }
}
