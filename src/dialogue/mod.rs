//! The dialogue engine: the citizen record and its [`State`], the pure [`step`] function,
//! and the per-citizen ordered queue that runs steps against the store.
//!
//! The engine never renders text (replies are Fluent ids) and never reads a clock (the
//! caller passes `now`), so every transcript is reproducible in a test.

mod desk;
mod input;
pub mod live;
mod membership;
pub mod queue;
mod register;
mod reply;
pub mod runner;
mod step;

pub use crate::storage::records::{Ask, Citizen, Confirm, Consent, DeliveryError, Goal, State};
pub use desk::deadline;
pub use register::{check, today};
pub use reply::{Arg, Body, Button, Inbound, Reply};
pub use step::{step, step_with, Aids, Event, Outcome};

/// Fluent ids the engine sends whatever the flow, checked in every language a flow offers.
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
