//! The policy: lexicons compiled in, one automaton per language, and the verdict.

use super::lexicon::{Kind, Lexicon, LexiconError};
use super::normalize::normalize;
use super::offence::{Offence, OffenceError};
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
                (
                    Kind::Rule(Rule::Illegal),
                    "illegal.txt",
                    include_str!(concat!("../../lexicons/", $lang, "/illegal.txt")),
                ),
                (
                    Kind::Rule(Rule::Vulgar),
                    "vulgar.txt",
                    include_str!(concat!("../../lexicons/", $lang, "/vulgar.txt")),
                ),
                (
                    Kind::Rule(Rule::Defamation),
                    "defamation.txt",
                    include_str!(concat!("../../lexicons/", $lang, "/defamation.txt")),
                ),
                (
                    Kind::Rule(Rule::Threat),
                    "threat.txt",
                    include_str!(concat!("../../lexicons/", $lang, "/threat.txt")),
                ),
                (
                    Kind::Rule(Rule::PersonalAttack),
                    "attack.txt",
                    include_str!(concat!("../../lexicons/", $lang, "/attack.txt")),
                ),
                (
                    Kind::Rule(Rule::Hate),
                    "hate.txt",
                    include_str!(concat!("../../lexicons/", $lang, "/hate.txt")),
                ),
                (
                    Kind::Counter,
                    "counter.txt",
                    include_str!(concat!("../../lexicons/", $lang, "/counter.txt")),
                ),
                (
                    Kind::Own,
                    "own.txt",
                    include_str!(concat!("../../lexicons/", $lang, "/own.txt")),
                ),
                (
                    Kind::Third,
                    "third.txt",
                    include_str!(concat!("../../lexicons/", $lang, "/third.txt")),
                ),
                (
                    Kind::Place,
                    "place.txt",
                    include_str!(concat!("../../lexicons/", $lang, "/place.txt")),
                ),
                (
                    Kind::Public,
                    "public.txt",
                    include_str!(concat!("../../lexicons/", $lang, "/public.txt")),
                ),
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
    it_offence: Offence,
    fr_offence: Offence,
    pii: Detectors,
}

/// A shipped lexicon that does not build.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Lexicon(#[from] LexiconError),
    #[error(transparent)]
    Offence(#[from] OffenceError),
}

impl Policy {
    /// The policy built from the lexicons shipped in `lexicons/`.
    pub fn builtin() -> Policy {
        // The shipped files are parsed by the unit tests; failing here is a build bug.
        Policy::try_builtin().expect("the built-in lexicons are valid")
    }

    /// The built-in policy, built once per process and shared: it is immutable, and
    /// building its automata takes time (every engine, in tests every scenario, needs one).
    pub fn shared() -> std::sync::Arc<Policy> {
        static SHARED: std::sync::OnceLock<std::sync::Arc<Policy>> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| std::sync::Arc::new(Policy::builtin())).clone()
    }

    /// Like [`Policy::builtin`], returning the lexicon error instead of panicking.
    pub fn try_builtin() -> Result<Policy, PolicyError> {
        let (it, fr) = (lexicons!("it"), lexicons!("fr"));
        Ok(Policy {
            it: Lexicon::build(it.classes, &it.files)?,
            fr: Lexicon::build(fr.classes, &fr.files)?,
            it_offence: Offence::build(include_str!("../../lexicons/it/offence.toml"))?,
            fr_offence: Offence::build(include_str!("../../lexicons/fr/offence.toml"))?,
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
        let offence = match lang {
            Lang::It => &self.it_offence,
            Lang::Fr => &self.fr_offence,
        };
        let (findings, quiet) = offence.find_with_context(text, &norm);
        // Offensive words quoted, reported or denied are someone else's (threats and
        // personal data still count).
        spans.retain(|s| {
            matches!(s.rule, Rule::Threat | Rule::PersonalData | Rule::Illegal)
                || !quiet.iter().any(|&(a, b)| a < s.end && s.start < b)
        });
        // A call for violence against a group is hate, not the writer's threat: the threat
        // lexicon's generic verbs ("andrebbero impiccati") give way to the composed finding.
        let calls: Vec<(usize, usize)> = findings
            .iter()
            .filter(|f| f.rule == Rule::Hate && f.predicate == super::offence::Predicate::Violence)
            .map(|f| norm.original_range(f.start, f.end))
            .collect();
        spans.retain(|s| !(s.rule == Rule::Threat && calls.iter().any(|&(a, b)| s.start < b && a < s.end)));
        for f in findings {
            let (start, end) = norm.original_range(f.start, f.end);
            if let Some(t) = text.get(start..end) {
                spans.push(Span {
                    start,
                    end,
                    rule: f.rule,
                    text: t.to_string(),
                    why: Some(super::Why {
                        // "You" as subject or object is the same person to staff.
                        target: match f.target {
                            super::offence::Target::YouObject => super::offence::Target::You,
                            t => t,
                        },
                        predicate: f.predicate,
                    }),
                });
            }
        }
        if !settings.own_data_step {
            for h in self.pii.find(text, &markers) {
                if let Some(t) = text.get(h.start..h.end) {
                    spans.push(Span {
                        start: h.start,
                        end: h.end,
                        rule: Rule::PersonalData,
                        text: t.to_string(),
                        why: None,
                    });
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
    spans.sort_by_key(|s| (s.start, s.end, s.rule));
    spans.dedup_by(|later, kept| {
        let same = later.start == kept.start && later.end == kept.end && later.rule == kept.rule;
        // The same words found by a word list and by the composition: keep why.
        if same && kept.why.is_none() {
            kept.why = later.why;
        }
        same
    });
    let grave = spans
        .iter()
        .map(|s| s.rule)
        .filter(|r| settings.grave.contains(r))
        .min_by_key(|r| r.precedence());
    let (verdict, rule) = match grave {
        Some(rule) => (Verdict::Block, rule),
        None => (
            Verdict::Withhold,
            spans
                .iter()
                .map(|s| s.rule)
                .min_by_key(|r| r.precedence())
                .unwrap_or(Rule::Vulgar),
        ),
    };
    Outcome {
        verdict,
        rule: Some(rule),
        spans,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> &'static Policy {
        static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
        POLICY.get_or_init(Policy::builtin)
    }

    fn rule(text: &str, lang: Lang) -> Option<Rule> {
        policy().check(text, lang, &Settings::default()).rule
    }

    #[test]
    fn composed_offences_say_whom_and_how() {
        let out = policy().check("gli albanesi sono tutti dei parassiti", Lang::It, &Settings::default());
        assert_eq!(out.rule, Some(Rule::Hate));
        let why = out.spans.iter().find_map(|s| s.why).expect("a composed span");
        assert_eq!((why.target.name(), why.predicate.name()), ("origin", "dehumanise"));
        assert_eq!(
            policy()
                .check("gli albanesi non sono parassiti", Lang::It, &Settings::default())
                .rule,
            None
        );
    }

    fn it(text: &str) -> Option<Rule> {
        rule(text, Lang::It)
    }

    fn fr(text: &str) -> Option<Rule> {
        rule(text, Lang::Fr)
    }

    #[test]
    fn builtin_lexicons_build_and_are_shareable() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Policy>();
        let p = Policy::try_builtin().unwrap();
        assert!(p.patterns(Lang::It) > 1000 && p.patterns(Lang::Fr) > 1000);
    }

    #[test]
    fn each_rule_in_italian() {
        assert_eq!(it("vendo erba a buon prezzo"), Some(Rule::Illegal));
        assert_eq!(it("che merda di servizio"), Some(Rule::Vulgar));
        assert_eq!(it("il sindaco ruba"), Some(Rule::Defamation));
        assert_eq!(it("ti ammazzo"), Some(Rule::Threat));
        assert_eq!(it("so dove abiti"), Some(Rule::Threat));
        assert_eq!(it("il numero di Mario è 347 1234567"), Some(Rule::PersonalData));
        assert_eq!(it("sei un idiota"), Some(Rule::PersonalAttack));
        assert_eq!(it("fuori gli zingari"), Some(Rule::Hate));
    }

    #[test]
    fn each_rule_in_french() {
        assert_eq!(fr("je vends de la beuh"), Some(Rule::Illegal));
        assert_eq!(fr("putain, encore une panne"), Some(Rule::Vulgar));
        assert_eq!(fr("le maire est un voleur"), Some(Rule::Defamation));
        assert_eq!(fr("je vais te tuer"), Some(Rule::Threat));
        assert_eq!(
            fr("le numéro de ma voisine est 06 12 34 56 78"),
            Some(Rule::PersonalData)
        );
        assert_eq!(fr("espèce de connard"), Some(Rule::PersonalAttack));
        assert_eq!(fr("dehors les immigrés"), Some(Rule::Hate));
    }

    #[test]
    fn disguises() {
        for text in [
            "m3rd4",
            "merdaaaa",
            "m e r d a",
            "m.e.r.d.a",
            "m-e-r-d-a",
            "MERDA",
            "mérda",
            "m\u{200B}erda",
            "ｍｅｒｄａ",
        ] {
            assert_eq!(it(text), Some(Rule::Vulgar), "{text}");
        }
        assert_eq!(it("$tr0nz4t4"), Some(Rule::Vulgar));
        assert_eq!(it("t1 4mm4zz0"), Some(Rule::Threat));
        assert_eq!(it("c@zz0"), Some(Rule::Vulgar));
        assert_eq!(it("7i ammazzo"), Some(Rule::Threat));
    }

    #[test]
    fn angry_citizens_are_not_silenced() {
        for text in [
            "È una vergogna, sono tre settimane che non passano a ritirare l'umido!",
            "Servizio pessimo, siete degli incompetenti in quell'ufficio",
            "Siete una banda di incapaci",
            "Il sindaco dovrebbe vergognarsi",
        ] {
            assert_eq!(it(text), None, "{text}");
        }
        assert_eq!(fr("C'est une honte, trois semaines sans collecte !"), None);
    }

    #[test]
    fn counter_speech_and_surnames_are_allowed() {
        assert_eq!(it("mi hanno chiamato 'terrone' per strada, è inaccettabile"), None);
        assert_eq!(fr("On m'a traité de « sale arabe » dans le bus"), None);
        assert_eq!(it("la signora Bastardi chiede la TARI"), None);
        assert_eq!(it("la signora è una ladra"), Some(Rule::Defamation));
        for text in [
            "Il signor Cazzola",
            "la signora Troia dell'anagrafe",
            "Sono nata a Troia",
            "la dottoressa Culotta",
        ] {
            assert_eq!(it(text), None, "{text}");
        }
    }

    #[test]
    fn own_address_is_not_third_party_data() {
        assert_eq!(it("abito in via Roma 12, quando passa la raccolta?"), None);
        assert_eq!(fr("J'habite 12 rue de la Paix, la collecte est passée ?"), None);
        assert_eq!(it("la signora Piras sta in via Roma 12"), Some(Rule::PersonalData));
        assert_eq!(it("via Roma 12"), Some(Rule::PersonalData));
        assert_eq!(it("c'è una buca in via Roma 12"), None);
        assert_eq!(it("un certificato per mia madre che vive in via Dante 3"), None);
        assert_eq!(fr("je cherche de l'herbe à chat"), None);
    }

    #[test]
    fn own_data_step_skips_personal_data() {
        let own = Settings {
            own_data_step: true,
            ..Settings::default()
        };
        let text = "Mario Rossi, RSSMRA80A01H501U, 347 1234567, mario@example.org";
        assert_eq!(
            policy().check(text, Lang::It, &Settings::default()).rule,
            Some(Rule::PersonalData)
        );
        assert_eq!(policy().check(text, Lang::It, &own), Outcome::allow());
        // Other rules still apply in that step.
        assert_eq!(policy().check("vaffanculo", Lang::It, &own).rule, Some(Rule::Vulgar));
    }

    #[test]
    fn verdicts_follow_the_settings() {
        let p = policy();
        let threat = p.check("ti ammazzo, stronzo", Lang::It, &Settings::default());
        assert_eq!((threat.verdict, threat.rule), (Verdict::Block, Some(Rule::Threat)));
        assert_eq!(threat.spans.len(), 2);
        assert_eq!(threat.spans[0].text, "ti ammazzo");
        let vulgar = p.check("che merda", Lang::It, &Settings::default());
        assert_eq!(vulgar.verdict, Verdict::Withhold);
        let strict = Settings {
            grave: vec![Rule::Threat, Rule::Hate],
            ..Settings::default()
        };
        assert_eq!(p.check("sporchi negri", Lang::It, &strict).verdict, Verdict::Block);
        let off = Settings {
            enabled: false,
            ..Settings::default()
        };
        assert_eq!(p.check("ti ammazzo", Lang::It, &off), Outcome::allow());
    }

    #[test]
    fn spans_are_byte_ranges_of_the_original() {
        let text = "Sì, è un C-A-Z-Z-O di disservizio";
        let out = policy().check(text, Lang::It, &Settings::default());
        let span = &out.spans[0];
        assert_eq!(&text[span.start..span.end], span.text);
        assert_eq!(span.text, "C-A-Z-Z-O");
    }

    #[test]
    fn json_shape() {
        let out = policy().check("ti ammazzo", Lang::It, &Settings::default());
        let json = serde_json::to_string(&out).unwrap();
        assert_eq!(
            json,
            r#"{"verdict":"block","rule":"threat","spans":[{"start":0,"end":10,"rule":"threat","text":"ti ammazzo","why":{"target":"you","predicate":"violence"}}]}"#
        );
        let rules: Vec<String> = Rule::ALL.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
        assert_eq!(
            rules.join(","),
            r#""illegal","vulgar","defamation","threat","personal-data","personal-attack","hate""#
        );
    }

    #[test]
    fn long_and_odd_input_does_not_panic() {
        let p = policy();
        let long = "merda ".repeat(20_000);
        assert_eq!(p.check(&long, Lang::It, &Settings::default()).rule, Some(Rule::Vulgar));
        let pairs = "gli immigrati sono ".repeat(6_000);
        let _ = p.check(&pairs, Lang::It, &Settings::default());
        for s in [
            "",
            " ",
            "\u{0}",
            "🤬",
            "İ",
            "a\u{301}",
            "@@@",
            "1 2 3 4 5 6 7 8 9",
            "IT60",
            "via 1",
        ] {
            let _ = p.check(s, Lang::It, &Settings::default());
            let _ = p.check(s, Lang::Fr, &Settings::default());
        }
    }

    proptest::proptest! {
        #[test]
        fn any_input_gives_valid_spans(s in "\\PC{0,200}") {
            let out = policy().check(&s, Lang::It, &Settings::default());
            for span in &out.spans {
                proptest::prop_assert!(s.is_char_boundary(span.start) && s.is_char_boundary(span.end));
                proptest::prop_assert_eq!(&s[span.start..span.end], span.text.as_str());
            }
            proptest::prop_assert_eq!(out.rule.is_none(), out.verdict == Verdict::Allow);
        }
    }
}
