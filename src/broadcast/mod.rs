//! Broadcasts: one operator text (per language) sent individually to every subscriber of a
//! comune's category, through a durable outbox and a paced sender worker.
//!
//! - [`compose`]: what a citizen receives (free-form inside WhatsApp's 24-hour window, the
//!   comune's approved template outside it), pure.
//! - [`plan`]: who receives it (subscribers of the category, never blocked or unsubscribed),
//!   the checks before anything is queued, and the fan-out into the outbox in batches.
//! - [`pace`]: token buckets and back-off, pure.
//! - [`worker`]: the sender worker, one lane per sending number; `send`: one entry's send.
//! - [`ops`]: the operator's calls (send, list, status, resend to failed) for CLI and console.
//!
//! Delivery guarantee: at most once per citizen. An outbox entry is marked `in-flight`
//! durably before its request leaves; after a crash an entry still `in-flight` is marked
//! `interrupted` and is *not* sent again automatically (the provider may have accepted it:
//! WhatsApp has no idempotency key). Operators see interrupted entries among the failed
//! and may "resend to failed". The window is at most the worker's concurrent requests.
//! The same holds without a crash: a request that got no usable answer
//! ([`crate::channel::SendError::InDoubt`]) is marked `interrupted`, never retried.
//!
//! Nothing here logs a number, a name or a message text.

pub mod compose;
pub mod env;
pub mod media;
pub mod ops;
pub mod pace;
pub mod plan;
mod send;
pub mod worker;

use serde::Serialize;

pub use crate::storage::records::{Broadcast, BroadcastState, Delivery, DeliveryState, Media};
use crate::storage::StoreError;

/// Errors of the broadcast boundary; messages carry no personal data.
#[derive(Debug, thiserror::Error)]
pub enum BroadcastError {
    #[error("unknown comune {0}")]
    UnknownComune(String),
    #[error("{comune} has no category {category} (it has: {known})")]
    UnknownCategory {
        comune: String,
        category: String,
        known: String,
    },
    #[error("{comune} has topic categories: choose one with --category ({known})")]
    CategoryNeeded { comune: String, known: String },
    #[error("{count} subscribers read {language} but no {language} text was given (--text-{language} FILE)")]
    MissingText { language: String, count: u64 },
    #[error("the {language} text is empty")]
    EmptyText { language: String },
    #[error("{comune} offers no language {language}")]
    UnknownLanguage { comune: String, language: String },
    #[error("{count} WhatsApp subscribers reading {language} are outside the 24-hour window and {comune} has no template for {language}: set comuni.{comune}.broadcast_templates.{language} in the configuration")]
    MissingTemplate {
        comune: String,
        language: String,
        count: u64,
    },
    #[error("nobody would receive it: {comune} has no subscriber{} now; nothing was sent (a scheduled broadcast is accepted: its audience is counted again when it starts)", category.as_ref().map(|c| format!(" in category {c}")).unwrap_or_default())]
    NoRecipients { comune: String, category: Option<String> },
    #[error("no broadcast {0}")]
    UnknownBroadcast(u64),
    #[error("media: {0}")]
    Media(String),
    #[error("{0}: not a time (2026-12-01 08:00 or RFC 3339)")]
    BadTime(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Delivery figures of one broadcast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub recipients: u64,
    /// Not yet accepted by the provider (waiting or in flight).
    pub queued: u64,
    /// Accepted by the provider (including those delivered and read).
    pub sent: u64,
    pub delivered: u64,
    pub read: u64,
    /// Refused or reported failed (including interrupted).
    pub failed: u64,
    pub interrupted: u64,
    pub skipped: u64,
    /// Of those sent, how many as a template.
    pub templates: u64,
}

impl Figures {
    pub fn add(&mut self, d: &Delivery) {
        self.recipients += 1;
        match &d.state {
            DeliveryState::Queued | DeliveryState::InFlight => self.queued += 1,
            DeliveryState::Sent => self.sent += 1,
            DeliveryState::Delivered => {
                self.sent += 1;
                self.delivered += 1;
            }
            DeliveryState::Read => {
                self.sent += 1;
                self.delivered += 1;
                self.read += 1;
            }
            DeliveryState::Failed { .. } => self.failed += 1,
            DeliveryState::Interrupted => {
                self.failed += 1;
                self.interrupted += 1;
            }
            DeliveryState::Skipped { .. } => self.skipped += 1,
        }
        if d.template
            && matches!(
                d.state,
                DeliveryState::Sent | DeliveryState::Delivered | DeliveryState::Read
            )
        {
            self.templates += 1;
        }
    }

    /// Entries no longer waiting.
    pub fn done(&self) -> u64 {
        self.recipients - self.queued
    }
}

/// The figures of broadcast `id`, read page by page.
pub fn figures(store: &dyn crate::storage::Store, id: u64, comune: &str) -> Result<Figures, StoreError> {
    let mut f = Figures::default();
    let mut after = None;
    loop {
        let page = store.deliveries(id, comune, None, after.as_ref(), 4096)?;
        for (_, d) in &page {
            f.add(d);
        }
        match page.last() {
            Some((k, _)) if page.len() == 4096 => after = Some(k.clone()),
            _ => return Ok(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_count_each_state_once_and_read_implies_delivered() {
        let mut f = Figures::default();
        let mut d = Delivery::queued("it");
        f.add(&d);
        d.state = DeliveryState::Read;
        d.template = true;
        f.add(&d);
        d.state = DeliveryState::Interrupted;
        f.add(&d);
        d.state = DeliveryState::Failed {
            code: 131026,
            title: "x".into(),
        };
        f.add(&d);
        assert_eq!(
            f,
            Figures {
                recipients: 4,
                queued: 1,
                sent: 1,
                delivered: 1,
                read: 1,
                failed: 2,
                interrupted: 1,
                skipped: 0,
                templates: 1
            }
        );
        assert_eq!(f.done(), 3);
    }
}
