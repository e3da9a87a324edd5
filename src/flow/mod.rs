//! Flows: one declarative file per comune, loaded and validated once at start.
//!
//! `model` is the file as written; `load` turns it into the validated [`Flow`] the engine
//! reads, or into [`FlowError`]s that name file, line and reason. This module decides no
//! behaviour and holds no citizen-facing text: text is referenced by Fluent id only.

mod load;
pub mod model;

use std::collections::BTreeMap;

pub use load::{load_dir, load_embedded, parse_flow, Flows};
pub use model::{ConsentMode, Mode, OnUnsubscribe, RegistrationWhen};

use crate::hours::Schedule;
use crate::text::intent::Lexicon;
use crate::text::{KeywordSet, Understanding};

/// What a keyword asks for: the understanding step's intents (a flow's keywords name
/// the first nine; thanks and questions about the bot come only from the lexicons).
pub use crate::text::Intent as Action;

/// A registration field the engine knows how to ask and check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    FullName,
    FirstName,
    LastName,
    BirthPlace,
    BirthDate,
}

impl Field {
    /// The key under which the value is stored in the citizen record.
    pub fn key(self) -> &'static str {
        match self {
            Field::FullName => "full_name",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::BirthPlace => "birth_place",
            Field::BirthDate => "birth_date",
        }
    }

    pub fn from_key(s: &str) -> Option<Field> {
        [
            Field::FullName,
            Field::FirstName,
            Field::LastName,
            Field::BirthPlace,
            Field::BirthDate,
        ]
        .into_iter()
        .find(|f| f.key() == s)
    }
}

/// A consent collected during registration (Isili: messages, privacy).
#[derive(Debug, Clone)]
pub struct ConsentSpec {
    pub id: String,
    pub ask: String,
    pub phrases: Vec<String>,
    pub shows_notice: bool,
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub when: RegistrationWhen,
    pub fields: Vec<Field>,
    pub one_shot: bool,
    pub consents: Vec<ConsentSpec>,
}

#[derive(Debug, Clone)]
pub struct Privacy {
    pub notice: String,
    pub version: String,
    pub on_unsubscribe: OnUnsubscribe,
    pub retain_days: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Category {
    pub id: String,
    pub label: String,
    /// Broadcasts in it jump the sending queue (civil protection alerts).
    pub urgent: bool,
}

/// How a desk moderates what citizens write.
#[derive(Debug, Clone)]
pub struct Moderation {
    pub strikes_to_block: u32,
    pub grave: Vec<crate::moderation::Rule>,
}

/// The message roles the engine sends, each mapped to a Fluent id. A flow may override any
/// of them in its `[messages]` table; the default id is the role's own name.
pub const ROLES: &[&str] = &[
    "subscribed",
    "unsubscribed",
    "already-subscribed",
    "not-subscribed",
    "other",
    "welcome",
    "registered",
    "offer-subscribe",
    "question-received",
    "please-write-text",
    "blocked",
    "greeting",
    "about",
];

/// A validated flow: everything the engine needs about one comune. Cloned only when an
/// operator's change (a closure) is overlaid on it.
#[derive(Clone)]
pub struct Flow {
    pub id: String,
    pub mode: Mode,
    /// Offered languages; the first is the default.
    pub languages: Vec<String>,
    /// Fluent id of the comune's name.
    pub name: String,
    /// Fluent id of the comune's region (the pages' header band), if given.
    pub region: Option<String>,
    pub contacts: BTreeMap<String, String>,
    pub keywords: KeywordSet<Action>,
    /// The first phrase of each action per language, quoted in messages ("scrivi …").
    pub phrases: BTreeMap<(Action, String), String>,
    pub consent: ConsentMode,
    pub min_age: Option<u8>,
    pub registration: Option<Registration>,
    pub privacy: Privacy,
    pub hours: Option<Schedule>,
    pub answer_within_working_days: Option<u32>,
    pub messages: BTreeMap<String, String>,
    pub categories: Vec<Category>,
    pub moderation: Option<Moderation>,
    /// The intent lexicons of the languages offered (`lexicons/<lang>/intents.toml`).
    pub lexicons: Vec<&'static Lexicon>,
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("id", &self.id)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Flow {
    /// The Fluent id sent for `role` (see [`ROLES`]).
    pub fn message<'a>(&'a self, role: &'a str) -> &'a str {
        self.messages.get(role).map(String::as_str).unwrap_or(role)
    }

    /// The default language.
    pub fn default_language(&self) -> &str {
        &self.languages[0]
    }

    /// Whether `lang` is offered by this comune.
    pub fn offers(&self, lang: &str) -> bool {
        self.languages.iter().any(|l| l == lang)
    }

    /// What `text` means in this comune: its keywords and its languages' lexicons.
    pub fn understand(&self, text: &str) -> Understanding {
        crate::text::understand(text, &self.keywords, &self.lexicons)
    }

    /// The phrase to quote for `action` in `lang` (falls back to the default language).
    pub fn phrase(&self, action: Action, lang: &str) -> Option<&str> {
        self.phrases
            .get(&(action, lang.to_string()))
            .or_else(|| self.phrases.get(&(action, self.default_language().to_string())))
            .map(String::as_str)
    }

    /// Every Fluent id this flow can make the engine send, for the locale lint.
    pub fn fluent_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = ROLES.iter().map(|r| self.message(r).to_string()).collect();
        ids.push(self.name.clone());
        ids.extend(self.region.clone());
        ids.push(self.privacy.notice.clone());
        ids.extend(self.categories.iter().map(|c| c.label.clone()));
        if let Some(reg) = &self.registration {
            ids.extend(reg.consents.iter().map(|c| c.ask.clone()));
        }
        ids.extend(ENGINE_IDS.iter().map(|s| s.to_string()));
        // I MIEI DATI names the citizen's language in words.
        ids.extend(self.languages.iter().map(|l| format!("language-called-{l}")));
        ids.sort();
        ids.dedup();
        ids
    }
}

/// Fluent ids the engine (`crate::dialogue`) sends whatever the flow: part of what every
/// flow must provide, checked in every language it offers.
pub const ENGINE_IDS: &[&str] = &[
    "ask-full-name",
    "ask-first-name",
    "ask-last-name",
    "ask-birth-place",
    "ask-birth-date",
    "ask-accept-privacy",
    "invalid-name",
    "invalid-name-empty",
    "invalid-name-numeric",
    "invalid-name-too-long",
    "invalid-full-name-one-word",
    "invalid-place",
    "invalid-place-empty",
    "invalid-date-format",
    "invalid-date-impossible",
    "invalid-date-future",
    "invalid-date-too-old",
    "under-age",
    "consent-required",
    "please-answer-yes-no",
    "language-set",
    "keyword-ambiguous",
    "operator-requested",
    "operator-requested-due",
    "my-data",
    "my-data-field",
    "field-full_name",
    "field-first_name",
    "field-last_name",
    "field-birth_place",
    "field-birth_date",
    "status-new",
    "status-registering",
    "status-subscribed",
    "status-unsubscribed",
    "status-blocked",
    "button-yes",
    "button-no",
    "button-subscribe",
    "button-unsubscribe",
    "privacy-notice-updated",
    "faq-answer",
    "faq-answer-link",
    "faq-choices",
    "faq-out-of-scope",
    "faq-suggestions",
    "faq-contacts",
    "moderation-withheld",
    "moderation-blocked",
    "rule-illegal",
    "rule-vulgar",
    "rule-defamation",
    "rule-threat",
    "rule-personal-data",
    "rule-personal-attack",
    "rule-hate",
    "leave-confirm",
    "button-leave-confirm",
    "button-leave-keep",
    "leave-kept",
    "unsubscribe-negated",
    "subscribe-negated",
    "subscribe-offer",
    "desk-thanks",
    "desk-about-bot",
    "invalid-name-sentence",
];

/// The messages a flow may send, as the loader checks them: `crate::i18n::Locales`
/// implements it (kept as a trait so that flows, below `i18n`, do not import it).
pub trait Catalog {
    /// Whether any message exists in `lang`.
    fn has_language(&self, lang: &str) -> bool;
    /// Whether message `id` exists in `lang`.
    fn has_message(&self, lang: &str, id: &str) -> bool;
}

/// A flow that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct FlowError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}
