//! The flow document: one TOML file per comune under `flows/`, deserialized as written.
//!
//! These types mirror the file one to one (`deny_unknown_fields` everywhere, so a typo in a
//! key is an error with its line, not a silently ignored setting). Values that need a
//! semantic check keep their position with `toml::Spanned`, so validation can name the
//! line. Nothing here decides behaviour: `flow::Flow` is the validated form the engine reads.
//! The schema is documented for comuni in `flows/README.md`; keep the two in step.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// How the comune uses its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Subscribe/unsubscribe (and registration) only; every other message gets one notice
    /// pointing to the traditional channels (Isola delle Femmine, Isili, Brusson).
    Broadcast,
    /// The number answers nothing but subscribe/unsubscribe, and says so once (Madone).
    OneWay,
    /// A two-way desk: questions are answered by people, plus a broadcast list (Assemini).
    Desk,
}

/// How consent to the privacy notice is given when subscribing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentMode {
    /// Sending the subscribe keyword is the consent (the notice says so); the confirmation
    /// carries the privacy note.
    Keyword,
    /// The privacy notice is shown and the citizen accepts it explicitly (button or "sì").
    Accept,
    /// Consents are collected as registration steps (`[[registration.consents]]`).
    Registration,
}

/// What happens to a citizen's data when they unsubscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnUnsubscribe {
    /// The record is deleted for good; only the anonymized consent proof stays.
    Delete,
    /// Personal data is destroyed; anonymous counts for statistics stay.
    Anonymize,
    /// The record is kept `retain_days`, then obscured (Madone: one calendar year).
    Retain,
}

/// When the registration data is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationWhen {
    /// As part of subscribing (Isili's `REGISTRAZIONE`).
    Subscribe,
    /// At the citizen's first message, before anything else (Assemini's desk).
    FirstContact,
}

/// A flow file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    /// The comune's id: the file name without `.toml`, used in URLs and keys.
    pub id: Spanned<String>,
    pub mode: Mode,
    /// Languages offered, the first is the default (`["it"]`, or `["it", "fr"]` for Brusson).
    pub languages: Spanned<Vec<String>>,
    /// Fluent id of the comune's display name.
    pub name: Spanned<String>,
    /// Fluent id of the comune's region, shown in the pages' header band.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub contacts: BTreeMap<String, String>,
    pub keywords: RawKeywords,
    pub subscription: RawSubscription,
    #[serde(default)]
    pub registration: Option<RawRegistration>,
    pub privacy: RawPrivacy,
    #[serde(default)]
    pub hours: Option<RawHours>,
    #[serde(default)]
    pub desk: Option<RawDesk>,
    /// Which Fluent message the engine sends for each event of this comune.
    pub messages: BTreeMap<String, Spanned<String>>,
    /// Topic categories a subscriber receives (Brusson); empty means one list.
    #[serde(default)]
    pub categories: Vec<RawCategory>,
    /// Moderation of what citizens write to the desk (Assemini's rules).
    #[serde(default)]
    pub moderation: Option<RawModeration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModeration {
    /// Block the citizen after this many withheld messages.
    pub strikes_to_block: u32,
    /// Rules that block at once (`threat`, …).
    pub grave: Spanned<Vec<String>>,
}

/// Phrases per action, per language: `subscribe = { it = ["MI ISCRIVO"], fr = ["JE M'INSCRIS"] }`.
pub type PhrasesByLang = BTreeMap<String, Vec<Spanned<String>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeywords {
    pub subscribe: PhrasesByLang,
    pub unsubscribe: PhrasesByLang,
    /// Phrases that switch the conversation to the language they are tagged with.
    #[serde(default)]
    pub language: PhrasesByLang,
    /// Show the privacy notice.
    #[serde(default)]
    pub privacy: PhrasesByLang,
    /// Show what is held about the citizen (`I MIEI DATI`).
    #[serde(default)]
    pub my_data: PhrasesByLang,
    /// Ask for a person (desk comuni).
    #[serde(default)]
    pub operator: PhrasesByLang,
    /// Extra yes/no words for confirmation steps, added to the built-in ones.
    #[serde(default)]
    pub yes: PhrasesByLang,
    #[serde(default)]
    pub no: PhrasesByLang,
    /// Extra greetings, added to the built-in ones.
    #[serde(default)]
    pub greeting: PhrasesByLang,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubscription {
    pub consent: ConsentMode,
    /// Minimum age to subscribe; checked on the birth date when one is asked, declared in
    /// the confirmation text otherwise (Isola delle Femmine: 16).
    #[serde(default)]
    pub min_age: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegistration {
    pub when: RegistrationWhen,
    /// Fields asked, in order: `full_name`, `first_name`, `last_name`, `birth_place`, `birth_date`.
    pub fields: Spanned<Vec<String>>,
    /// Whether a whole registration can come in one message after the subscribe keyword.
    #[serde(default)]
    pub one_shot: bool,
    #[serde(default)]
    pub consents: Vec<RawConsent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConsent {
    pub id: String,
    /// Fluent id of the question asking for it.
    pub ask: Spanned<String>,
    /// Phrases that give it inside a one-shot line ("Acconsento Privacy").
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Show the privacy notice before asking.
    #[serde(default)]
    pub shows_notice: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrivacy {
    /// Fluent id of the notice (one message per language).
    pub notice: Spanned<String>,
    /// The notice's version; change it whenever the text changes.
    pub version: String,
    pub on_unsubscribe: OnUnsubscribe,
    /// With `retain`: days kept after unsubscribing before the data is obscured.
    #[serde(default)]
    pub retain_days: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHours {
    /// e.g. `["mon-fri 09:00-13:00", "tue,thu 15:00-18:00"]`, Europe/Rome.
    pub slots: Vec<Spanned<String>>,
    /// Patron saint's day, `MM-DD`.
    #[serde(default)]
    pub patron: Option<Spanned<String>>,
    /// One-off closures, `YYYY-MM-DD`.
    #[serde(default)]
    pub closures: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDesk {
    /// Answers are due within this many working days (Assemini: 2).
    pub answer_within_working_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCategory {
    pub id: String,
    /// Fluent id of the category's label.
    pub label: Spanned<String>,
    /// Broadcasts of an urgent category (Brusson's Emergenze) go ahead of the others.
    #[serde(default)]
    pub urgent: bool,
}
