//! Moderation policy (issue 6): Assemini's "alcune comuni regole da rispettare" as pure code.
//!
//! `(message, language, settings) -> Outcome`: a verdict (`allow`, `withhold`, `block`),
//! the rule that decided it and the byte spans in the original message that triggered it.
//! The policy owns no state, no clock and no I/O: strike counting, blocking after N
//! strikes, the staff queue and the citizen-facing text are the engine's job.
//!
//! How a message is checked, in one pass each:
//! 1. [`normalize`] folds case, accents, leetspeak (`m3rd4`), letter runs (`merdaaaa`) and
//!    spaced-out words (`m e r d a`, `m.e.r.d.a`) into a token stream that keeps a map back
//!    to the original bytes;
//! 2. one Aho-Corasick automaton per language ([`lexicon`], built from the data files under
//!    `lexicons/`) finds every term, phrase and context marker at once;
//! 3. [`rules`] weighs the hits against their context (counter-speech such as "mi hanno
//!    chiamato 'terrone'", surnames such as "Troia");
//! 4. only when the message holds a digit or an `@`, [`pii`] looks for third parties'
//!    phone numbers, e-mail addresses, codici fiscali, IBANs, ID-card numbers and street
//!    addresses, validating check characters ([`checksum`]).
//!
//! Decisions taken for borderline messages (and used to label `eval/moderation/*.csv`):
//! - anger at a service or an office ("siete degli incompetenti in quell'ufficio",
//!   "vergogna") is a complaint, not a personal attack: it is allowed. Criticism of a
//!   public figure's competence is allowed too; accusing someone of a crime is defamation;
//! - an insult aimed at a person (`sei un idiota`, `X è uno stronzo`) is a personal
//!   attack; a swear word aimed at nobody (`che merda di servizio`) is vulgar;
//! - an insult reported or quoted by its victim ("mi hanno chiamato 'terrone'") is allowed;
//! - a street address is the citizen's own when first-person markers precede it
//!   (`abito in`, `j'habite`), and a place rather than a person when the message reports
//!   something about the street (`buca`, `lampione`, `davanti al civico`); otherwise it is
//!   treated as a third party's address.
//!
//! Why over 4,000 lines: the offence model (`offence/`, about 2,000 lines: words run
//! together, targets, predicates, negation) and the lexicon machinery it reads; the policy,
//! personal-data detection and the evaluation harness are separate files. The lists
//! themselves are data, under `lexicons/`.

mod address;
pub mod checksum;
pub mod csv;
pub mod eval;
mod expand;
pub mod lexicon;
pub mod normalize;
pub mod offence;
pub mod pii;
mod policy;
pub mod rules;

use serde::{Deserialize, Serialize};

pub use policy::Policy;

/// One of Assemini's rules. Serialized in kebab-case (`"personal-data"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Promotion or support of illegal activity (drugs, weapons, forged papers).
    Illegal,
    /// Offensive or vulgar language not aimed at anyone in particular.
    Vulgar,
    /// Accusing a person of a crime or of misconduct.
    Defamation,
    /// Threats: grave by default.
    Threat,
    /// Third parties' personal data.
    PersonalData,
    /// Insults aimed at a person.
    PersonalAttack,
    /// Offence against an ethnic, political or religious group or a minority.
    Hate,
}

impl Rule {
    /// Every rule, in declaration order.
    pub const ALL: [Rule; 7] = [
        Rule::Illegal,
        Rule::Vulgar,
        Rule::Defamation,
        Rule::Threat,
        Rule::PersonalData,
        Rule::PersonalAttack,
        Rule::Hate,
    ];

    /// The kebab-case name, as in JSON and in the CSV files.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Illegal => "illegal",
            Rule::Vulgar => "vulgar",
            Rule::Defamation => "defamation",
            Rule::Threat => "threat",
            Rule::PersonalData => "personal-data",
            Rule::PersonalAttack => "personal-attack",
            Rule::Hate => "hate",
        }
    }

    /// Parses a kebab-case name.
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Which rule is reported when a message breaks several: the gravest first, and the
    /// more specific before the generic (an insult aimed at someone is a personal attack
    /// even though its word is also vulgar).
    pub(crate) fn precedence(self) -> u8 {
        match self {
            Rule::Threat => 0,
            Rule::Hate => 1,
            Rule::Illegal => 2,
            Rule::Defamation => 3,
            Rule::PersonalAttack => 4,
            Rule::Vulgar => 5,
            Rule::PersonalData => 6,
        }
    }
}

/// What to do with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Deliver it.
    Allow,
    /// Keep it out of the inbox, tell the citizen the rule, queue it for staff.
    Withhold,
    /// A grave rule: withhold and block the citizen at once.
    Block,
}

/// A byte range of the original message that triggered a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Byte offset of the first byte (on a char boundary).
    pub start: usize,
    /// Byte offset one past the last byte (on a char boundary).
    pub end: usize,
    /// The rule this span breaks.
    pub rule: Rule,
    /// `message[start..end]`.
    pub text: String,
    /// Whom it attacks and how, when the offence was composed from a target and a
    /// predicate (`offence`); staff see it on the case page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<Why>,
}

/// The target and predicate of a composed offence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Why {
    pub target: offence::Target,
    pub predicate: offence::Predicate,
}

/// The policy's answer for one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// What to do.
    pub verdict: Verdict,
    /// The deciding rule; `None` when allowed.
    pub rule: Option<Rule>,
    /// Every triggering span, in message order.
    pub spans: Vec<Span>,
}

impl Outcome {
    /// The outcome of a clean message.
    pub fn allow() -> Outcome {
        Outcome {
            verdict: Verdict::Allow,
            rule: None,
            spans: Vec::new(),
        }
    }
}

/// Per-comune settings and the per-message context from the dialogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Rules that block the citizen at once (default: threats).
    pub grave: Vec<Rule>,
    /// The flow is asking the citizen for their own data (name, birth date and place,
    /// phone, e-mail, codice fiscale): personal-data detection is skipped.
    pub own_data_step: bool,
    /// Moderation switched on for this comune.
    pub enabled: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            grave: vec![Rule::Threat],
            own_data_step: false,
            enabled: true,
        }
    }
}

/// The language the citizen writes in; selects the lexicons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Italian.
    It,
    /// French.
    Fr,
}

impl Lang {
    /// Both languages.
    pub const ALL: [Lang; 2] = [Lang::It, Lang::Fr];

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::Fr => "fr",
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Lang, UnknownLang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "it" => Ok(Lang::It),
            "fr" => Ok(Lang::Fr),
            _ => Err(UnknownLang(s.chars().take(16).collect())),
        }
    }
}

/// A language code other than `it` or `fr`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?} (expected it or fr)")]
pub struct UnknownLang(pub String);
