//! The per-language intent lexicons (`lexicons/<lang>/intents.toml`), compiled into the
//! binary and built once.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde::Deserialize;

use super::pattern::{compile_classes, Pattern, PatternError};
use super::Intent;
use crate::text::normalize::normalize;

/// The lexicon files compiled in: (language, TOML).
const SOURCES: &[(&str, &str)] = &[
    ("it", include_str!("../../../lexicons/it/intents.toml")),
    ("fr", include_str!("../../../lexicons/fr/intents.toml")),
];

/// A pattern group of the `[intents]` table: what its matches mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    Unsubscribe,
    Subscribe,
    WantService,
    ContactMe,
    /// Talking to a machine: negated, it asks for a person.
    TalkToBot,
    Operator,
    Privacy,
    MyData,
    AboutBot,
    Thanks,
    Greeting,
    Yes,
    No,
    /// Choosing the language named by the entry's key.
    Language,
}

impl Group {
    /// The intent a match of the group reads as, affirmed (`understand` turns the negated
    /// readings of `want_service`, `contact_me` and `talk_to_bot` around).
    pub(super) fn intent(self) -> Intent {
        match self {
            Group::Unsubscribe | Group::ContactMe => Intent::Unsubscribe,
            Group::Subscribe | Group::WantService => Intent::Subscribe,
            Group::Operator | Group::TalkToBot => Intent::Operator,
            Group::Privacy => Intent::Privacy,
            Group::MyData => Intent::MyData,
            Group::AboutBot => Intent::AboutBot,
            Group::Thanks => Intent::Thanks,
            Group::Greeting => Intent::Greeting,
            Group::Yes => Intent::Yes,
            Group::No => Intent::No,
            Group::Language => Intent::Language,
        }
    }
}

const GROUPS: &[(&str, Group)] = &[
    ("unsubscribe", Group::Unsubscribe),
    ("subscribe", Group::Subscribe),
    ("want_service", Group::WantService),
    ("contact_me", Group::ContactMe),
    ("talk_to_bot", Group::TalkToBot),
    ("operator", Group::Operator),
    ("privacy", Group::Privacy),
    ("my_data", Group::MyData),
    ("about_bot", Group::AboutBot),
    ("thanks", Group::Thanks),
    ("greeting", Group::Greeting),
    ("yes", Group::Yes),
    ("no", Group::No),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    lang: String,
    cues: RawCues,
    classes: HashMap<String, Vec<String>>,
    intents: HashMap<String, Vec<String>>,
    language: HashMap<String, Vec<String>>,
    names: RawNames,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCues {
    negation: Vec<String>,
    weak_negation: Vec<String>,
    post_negation: Vec<String>,
    contrast: Vec<String>,
    retract: Vec<String>,
    blockers: Vec<String>,
    hypothetical: Vec<String>,
    question: Vec<String>,
    answer_objects: Vec<String>,
    markers: Vec<String>,
    filler: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNames {
    intro: Vec<String>,
    particles: Vec<String>,
    not_name: Vec<String>,
}

/// One language's words, cues and patterns.
#[derive(Debug)]
pub struct Lexicon {
    pub lang: String,
    pub(super) negation: Words,
    pub(super) weak_negation: Words,
    pub(super) post_negation: Words,
    pub(super) contrast: Words,
    pub(super) retract: Vec<Vec<String>>,
    pub(super) blockers: Words,
    pub(super) hypothetical: Vec<Vec<String>>,
    pub(super) question: Vec<Vec<String>>,
    pub(super) markers: Words,
    pub(super) answer_objects: Words,
    pub(super) filler: Words,
    pub(super) patterns: Vec<(Group, Option<String>, Pattern)>,
    /// Patterns by the words they can start with.
    pub(super) index: Index,
    pub(super) name_intro: Vec<Vec<String>>,
    pub(super) particles: Words,
    pub(super) not_name: Words,
}

/// Which patterns can start at a word: by exact word, by prefix, and those that can start
/// anywhere.
#[derive(Debug, Default)]
pub(super) struct Index {
    exact: HashMap<String, Vec<usize>>,
    prefixes: Vec<(String, usize)>,
    anywhere: Vec<usize>,
}

impl Index {
    fn new(patterns: &[(Group, Option<String>, Pattern)]) -> Index {
        let mut index = Index::default();
        for (i, (_, _, p)) in patterns.iter().enumerate() {
            match p.firsts() {
                Some((exact, prefixes)) => {
                    for w in exact {
                        let list = index.exact.entry(w).or_default();
                        if list.last() != Some(&i) {
                            list.push(i);
                        }
                    }
                    index.prefixes.extend(prefixes.into_iter().map(|w| (w, i)));
                }
                None => index.anywhere.push(i),
            }
        }
        index
    }

    /// Calls `f` with each pattern that can start at `word` (a pattern may come twice).
    pub(super) fn starting(&self, word: &str, mut f: impl FnMut(usize)) {
        if let Some(list) = self.exact.get(word) {
            list.iter().for_each(|&i| f(i));
        }
        for (p, i) in &self.prefixes {
            if word.starts_with(p.as_str()) {
                f(*i);
            }
        }
        self.anywhere.iter().for_each(|&i| f(i));
    }
}

/// A set of folded single words; a `word*` entry matches by prefix.
#[derive(Debug, Default)]
pub(super) struct Words {
    exact: HashSet<String>,
    prefixes: Vec<String>,
}

impl Words {
    fn new(list: &[String]) -> Words {
        let mut w = Words::default();
        for item in list {
            match item.strip_suffix('*') {
                Some(p) => w.prefixes.push(normalize(p)),
                None => {
                    w.exact.insert(normalize(item));
                }
            }
        }
        w
    }
    pub(super) fn has(&self, word: &str) -> bool {
        self.exact.contains(word) || self.prefixes.iter().any(|p| word.starts_with(p.as_str()))
    }
}

fn phrases(list: &[String]) -> Vec<Vec<String>> {
    list.iter()
        .map(|p| normalize(p).split(' ').map(str::to_string).collect::<Vec<_>>())
        .filter(|p: &Vec<String>| p.iter().any(|w| !w.is_empty()))
        .collect()
}

/// Why a lexicon file cannot be used (shipped data: the unit tests build every file).
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    #[error("lexicons/{0}/intents.toml: {1}")]
    Toml(String, String),
    #[error("lexicons/{0}/intents.toml: {1}")]
    Pattern(String, PatternError),
    #[error("lexicons/{0}/intents.toml: unknown intent group \"{1}\"")]
    Group(String, String),
}

impl Lexicon {
    fn parse(file_lang: &str, src: &str) -> Result<Lexicon, LexiconError> {
        let raw: Raw = toml::from_str(src).map_err(|e| LexiconError::Toml(file_lang.into(), e.to_string()))?;
        let classes = compile_classes(&raw.classes).map_err(|e| LexiconError::Pattern(file_lang.into(), e))?;
        let mut patterns = Vec::new();
        let mut names: Vec<&String> = raw.intents.keys().collect();
        names.sort();
        for name in names {
            let group = GROUPS
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, g)| *g)
                .ok_or_else(|| LexiconError::Group(file_lang.into(), name.clone()))?;
            for p in &raw.intents[name] {
                let pat = Pattern::compile(p, &classes).map_err(|e| LexiconError::Pattern(file_lang.into(), e))?;
                patterns.push((group, None, pat));
            }
        }
        let mut langs: Vec<&String> = raw.language.keys().collect();
        langs.sort();
        for target in langs {
            for p in &raw.language[target] {
                let pat = Pattern::compile(p, &classes).map_err(|e| LexiconError::Pattern(file_lang.into(), e))?;
                patterns.push((Group::Language, Some(target.clone()), pat));
            }
        }
        let c = &raw.cues;
        let index = Index::new(&patterns);
        Ok(Lexicon {
            index,
            lang: raw.lang,
            negation: Words::new(&c.negation),
            weak_negation: Words::new(&c.weak_negation),
            post_negation: Words::new(&c.post_negation),
            contrast: Words::new(&c.contrast),
            retract: phrases(&c.retract),
            blockers: Words::new(&c.blockers),
            hypothetical: phrases(&c.hypothetical),
            question: phrases(&c.question),
            markers: Words::new(&c.markers),
            answer_objects: Words::new(&c.answer_objects),
            filler: Words::new(&c.filler),
            patterns,
            name_intro: phrases(&raw.names.intro),
            particles: Words::new(&raw.names.particles),
            not_name: Words::new(&raw.names.not_name),
        })
    }
}

fn all() -> &'static Vec<Result<Lexicon, String>> {
    static ALL: OnceLock<Vec<Result<Lexicon, String>>> = OnceLock::new();
    ALL.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(lang, src)| Lexicon::parse(lang, src).map_err(|e| e.to_string()))
            .collect()
    })
}

/// The built-in lexicon of `lang`, if there is one. A lexicon that does not build is an
/// error of the shipped data, reported by [`check_all`] (run by the unit tests and at start).
pub fn lexicon(lang: &str) -> Option<&'static Lexicon> {
    all().iter().filter_map(|l| l.as_ref().ok()).find(|l| l.lang == lang)
}

/// Every built-in lexicon builds, and its `lang` matches its folder.
pub fn check_all() -> Result<(), String> {
    for ((lang, _), built) in SOURCES.iter().zip(all()) {
        match built {
            Err(e) => return Err(e.clone()),
            Ok(l) if l.lang != *lang => {
                return Err(format!("lexicons/{lang}/intents.toml says lang = \"{}\"", l.lang));
            }
            Ok(_) => {}
        }
    }
    Ok(())
}
