//! Offence as people write it: who is attacked (a **target**) and how (a **predicate**),
//! found together in a clause (issue 18).
//!
//! The language is data, `lexicons/<lang>/offence.toml`: word classes of targets (protected
//! groups by kind, professions, offices, "you", pronouns), of predicates (hate, disgust,
//! negative attributes, dehumanising comparisons, insults, violence, expulsion, exclusion,
//! positive qualities) and of cues (negation, denial, normative and first-person markers,
//! counter-speech, contrast). [`words`] finds them; [`compose`] decides:
//!
//! - a predicate attaches to the nearest target of its clause within a few words; with
//!   none, a pronoun or an implicit subject picks up a group named in the sentence before
//!   ("Conosco dei X. Li odio.", "… Sono tutti ladri");
//! - hate, disgust, attributes, dehumanising words and insults said of a protected group
//!   are hate; said of "you", a person, an office or a profession, a personal attack;
//! - a positive quality negated ("non valgono niente", "non sopporto") is derogation;
//! - a negated predicate ("non odio", "non sono ladri") and a denial ("non ho niente
//!   contro", "non tutti") are not; counter-speech in the sentence ("chi dice che…",
//!   "mi hanno chiamato") keeps hate and insults from counting;
//! - violence with the writer as agent (first person, `first-person` cues or endings) is a
//!   threat against whoever is targeted; violence, expulsion or exclusion called for a
//!   protected group (normative, imperative, wished) is hate.
//!
//! Must not: decide the verdict (the policy does), know one sentence by heart.

mod compose;
mod tokens;
mod trie;
mod words;

use serde::{Deserialize, Serialize};

pub use compose::Finding;
use words::Words;

/// Who is attacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Ethnic or national origin.
    Origin,
    Migrants,
    Religion,
    Gender,
    Orientation,
    GenderIdentity,
    Disability,
    Age,
    Politics,
    /// People by their profession.
    Profession,
    /// Holders of an office (the mayor, the council).
    Office,
    /// The reader ("sei", "siete", "tu").
    You,
    /// The reader as the object of a verb ("ti", "vi"): only violence reaches it.
    YouObject,
    /// Someone described ("X è un …", "sono dei …"): the subject of an insult.
    Person,
}

impl Target {
    /// Protected groups: offence against them is hate.
    pub fn protected(self) -> bool {
        matches!(
            self,
            Target::Origin
                | Target::Migrants
                | Target::Religion
                | Target::Gender
                | Target::Orientation
                | Target::GenderIdentity
                | Target::Disability
                | Target::Age
                | Target::Politics
        )
    }

    /// The kebab-case name (`offence.toml`, Fluent ids, JSON).
    pub fn name(self) -> &'static str {
        match self {
            Target::Origin => "origin",
            Target::Migrants => "migrants",
            Target::Religion => "religion",
            Target::Gender => "gender",
            Target::Orientation => "orientation",
            Target::GenderIdentity => "gender-identity",
            Target::Disability => "disability",
            Target::Age => "age",
            Target::Politics => "politics",
            Target::Profession => "profession",
            Target::Office => "office",
            Target::You | Target::YouObject => "you",
            Target::Person => "person",
        }
    }

    const ALL: [Target; 14] = [
        Target::Origin,
        Target::Migrants,
        Target::Religion,
        Target::Gender,
        Target::Orientation,
        Target::GenderIdentity,
        Target::Disability,
        Target::Age,
        Target::Politics,
        Target::Profession,
        Target::Office,
        Target::You,
        Target::YouObject,
        Target::Person,
    ];
}

/// How they are attacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Predicate {
    /// The writer hates them.
    Hate,
    /// Disgust or contempt.
    Disgust,
    /// Negative attributes ("ladri", "sporchi").
    Attribute,
    /// Compared to animals, vermin, dirt, disease.
    Dehumanise,
    /// Insults.
    Insult,
    /// A positive quality denied ("non valgono niente").
    NegatedPositive,
    /// Violence, threatened or called for.
    Violence,
    /// Expulsion called for.
    Expulsion,
    /// Exclusion from rights, places, jobs.
    Exclusion,
    /// A slur: target and predicate in one word.
    Slur,
    /// A positive quality (only its negation counts).
    Positive,
    /// Access to something (voting, working, entering): excludes when denied by a rule
    /// ("non dovrebbero votare", "non assumete").
    Access,
}

impl Predicate {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Predicate::Hate => "hate",
            Predicate::Disgust => "disgust",
            Predicate::Attribute => "attribute",
            Predicate::Dehumanise => "dehumanise",
            Predicate::Insult => "insult",
            Predicate::NegatedPositive => "negated-positive",
            Predicate::Violence => "violence",
            Predicate::Expulsion => "expulsion",
            Predicate::Exclusion => "exclusion",
            Predicate::Slur => "slur",
            Predicate::Positive => "positive",
            Predicate::Access => "access",
        }
    }

    const LISTED: [Predicate; 10] = [
        Predicate::Hate,
        Predicate::Disgust,
        Predicate::Attribute,
        Predicate::Dehumanise,
        Predicate::Insult,
        Predicate::Violence,
        Predicate::Expulsion,
        Predicate::Exclusion,
        Predicate::Positive,
        Predicate::Access,
    ];
}

/// Words that change what a predicate means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cue {
    /// Negates the next few words ("non", "mai").
    Negation,
    /// Denies the whole clause ("non è vero che", "niente contro", "non tutti").
    Denial,
    /// Calls for something to be done ("dovrebbero", "bisogna", "il faut").
    Normative,
    /// The writer as agent ("io", "giuro", "je vais").
    FirstPerson,
    /// Reports, quotes or condemns someone else's words ("chi dice", "razzista").
    Counter,
    /// Refers back ("li", "loro", "questa gente").
    Pronoun,
    /// Starts a new clause ("ma", "però", "mais").
    Contrast,
    /// Makes the group after it a complement ("il centro dei migranti").
    Preposition,
    /// Denies existence, anywhere in the clause ("un rom onesto non esiste", "mai visto").
    Absence,
    /// An object pronoun before a verb ("lo", "la", "l'", "lui").
    Object,
    /// Turns a negation one or two words before it into "only" ("ne sont que des",
    /// "non fanno altro che"): what follows is asserted, not denied.
    Exception,
    /// Makes a question rhetorical ("au moins", "vraiment", "ou pas", "almeno"): a quality
    /// questioned is denied, a negation asked is asserted.
    Doubt,
    /// A determiner or exclamation right before an insult makes it a noun for someone
    /// ("quel imbécile", "un tocard", "che cretino").
    Determiner,
    /// A preposition after which a noun is a complement, not said of anyone ("le marché
    /// aux puces", "il centro per disabili"); not "di", "des", which also make partitives.
    Complement,
    /// An ordinary phrase that holds an offensive word ("pain bâtard", "marché aux puces",
    /// "cul-de-sac"): the words inside it mean nothing offensive.
    Homonym,
}

/// A word class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Target(Target),
    /// A slur for a group: a target and a predicate at once.
    Slur(Target),
    Predicate(Predicate),
    Cue(Cue),
}

/// `offence.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    target: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    slur: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    predicate: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    cue: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    endings: Endings,
    /// Short words people run into their neighbours ("sono", "tutti").
    #[serde(default)]
    glue: Vec<String>,
    /// Spellings people swap in: `[written, meant]` pairs (`["kk", "cch"]`).
    #[serde(default)]
    respell: Vec<(String, String)>,
}

/// Verb endings that make the writer the agent (`ammazzo`, `tuerai`), and those that
/// look alike but are not (`ammazzano`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endings {
    #[serde(default)]
    pub first_person: Vec<String>,
    #[serde(default)]
    pub not_first_person: Vec<String>,
    /// Object pronouns written onto the verb ("sterminarli", "cacciateli").
    #[serde(default)]
    pub pronoun: Vec<String>,
    /// Imperatives addressed to the comune ("non assumete", "n'embauchez pas").
    #[serde(default)]
    pub imperative: Vec<String>,
}

/// A broken `offence.toml`.
#[derive(Debug, thiserror::Error)]
pub enum OffenceError {
    #[error("offence.toml: {0}")]
    Toml(String),
    #[error("offence.toml: unknown {kind} \"{name}\"")]
    Unknown { kind: &'static str, name: String },
}

/// The compiled offence classes of one language.
#[derive(Debug, Clone)]
pub struct Offence {
    words: Words<Class>,
    endings: Endings,
}

impl Offence {
    /// Compiles `offence.toml`. Every entry is folded as messages are.
    pub fn build(src: &str) -> Result<Offence, OffenceError> {
        let raw: Raw = toml::from_str(src).map_err(|e| OffenceError::Toml(e.to_string()))?;
        let target = |name: &str| {
            Target::ALL
                .into_iter()
                .find(|t| t.name() == name && *t != Target::YouObject)
                .or((name == "you-object").then_some(Target::YouObject))
                .ok_or(OffenceError::Unknown {
                    kind: "target",
                    name: name.into(),
                })
        };
        let mut list: Vec<(Class, Vec<String>)> = Vec::new();
        let mut add = |class: Class, entries: &[String]| {
            for e in entries {
                let folded = fold(e);
                if !folded.is_empty() {
                    list.push((class, folded));
                }
            }
        };
        for (name, entries) in &raw.target {
            add(Class::Target(target(name)?), entries);
        }
        for (name, entries) in &raw.slur {
            add(Class::Slur(target(name)?), entries);
        }
        for (name, entries) in &raw.predicate {
            let p = Predicate::LISTED
                .into_iter()
                .find(|p| p.name() == name)
                .ok_or(OffenceError::Unknown {
                    kind: "predicate",
                    name: name.clone(),
                })?;
            add(Class::Predicate(p), entries);
        }
        for (name, entries) in &raw.cue {
            let cue = match name.as_str() {
                "negation" => Cue::Negation,
                "denial" => Cue::Denial,
                "normative" => Cue::Normative,
                "first-person" => Cue::FirstPerson,
                "counter" => Cue::Counter,
                "pronoun" => Cue::Pronoun,
                "contrast" => Cue::Contrast,
                "preposition" => Cue::Preposition,
                "absence" => Cue::Absence,
                "object" => Cue::Object,
                "exception" => Cue::Exception,
                "doubt" => Cue::Doubt,
                "determiner" => Cue::Determiner,
                "homonym" => Cue::Homonym,
                "complement" => Cue::Complement,
                _ => {
                    return Err(OffenceError::Unknown {
                        kind: "cue",
                        name: name.clone(),
                    })
                }
            };
            add(Class::Cue(cue), entries);
        }
        let fold_all = |v: &[String]| v.iter().map(|e| e.to_lowercase()).collect::<Vec<_>>();
        // Names of groups and slurs are matched a letter off from six letters (eight for
        // forms of a prefix: "croulant" / "roulant"); predicates from nine (shorter ones
        // meet too many ordinary words: "sfalcio" / "sfascio", "violenza" / "violenta");
        // cues never.
        let fuzzy = |class: Class, prefix: bool| match class {
            Class::Target(_) | Class::Slur(_) if prefix => 8,
            Class::Target(_) | Class::Slur(_) => words::FUZZY_MIN,
            Class::Predicate(_) => 9,
            Class::Cue(_) => usize::MAX,
        };
        let content = |class: Class| !matches!(class, Class::Cue(_));
        let mut words = Words::build(list, fuzzy, content, fold_all(&raw.glue));
        words.respell = raw.respell.clone();
        Ok(Offence {
            words,
            endings: Endings {
                first_person: fold_all(&raw.endings.first_person),
                not_first_person: fold_all(&raw.endings.not_first_person),
                pronoun: fold_all(&raw.endings.pronoun),
                imperative: fold_all(&raw.endings.imperative),
            },
        })
    }

    /// Every offence found in a folded message (`norm`), with `text` the original for the
    /// sentence boundaries.
    pub fn find(&self, text: &str, norm: &super::normalize::Normalized) -> Vec<Finding> {
        compose::find(self, text, norm).0
    }

    /// [`Offence::find`], and the original byte ranges where offensive words only report,
    /// quote or deny someone else's (counter-speech, denial, quotation marks): the other
    /// lexicons' hits there do not count either.
    pub fn find_with_context(
        &self,
        text: &str,
        norm: &super::normalize::Normalized,
    ) -> (Vec<Finding>, Vec<(usize, usize)>) {
        compose::find(self, text, norm)
    }
}

/// Folds an entry as messages are folded, keeping a trailing `*` on each word.
fn fold(entry: &str) -> Vec<String> {
    entry
        .split_whitespace()
        .flat_map(|w| {
            let (body, star) = match w.strip_suffix('*') {
                Some(b) => (b, "*"),
                None => (w, ""),
            };
            let folded = super::normalize::normalize(body);
            let parts: Vec<String> = folded.text.split_whitespace().map(String::from).collect();
            let n = parts.len();
            parts
                .into_iter()
                .enumerate()
                .map(move |(i, p)| if i + 1 == n { format!("{p}{star}") } else { p })
        })
        .collect()
}

#[cfg(test)]
mod tests;
