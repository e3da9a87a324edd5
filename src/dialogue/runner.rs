//! Runs one step against the store: load the record, step, write the result, render.
//!
//! Durability is the caller's choice and must come before acknowledging: the terminal chat
//! flushes after every step; the server commits steps in groups (one flush for many
//! citizens) before it sends their replies. A crash can therefore lose only steps whose
//! replies were never sent.

use std::sync::Arc;

use jiff::Timestamp;

use super::{step_with, Event, Inbound, Outcome};
use crate::moderation::Policy;
use crate::storage::{CaseStatus, ModerationCase};
use crate::flow::Flows;
use crate::i18n::{Locales, Rendered};
use crate::storage::{CitizenKey, Store, StoreError};

/// Errors of the engine boundary.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("unknown comune \"{0}\"")]
    UnknownComune(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result of handling one inbound message.
#[derive(Debug)]
pub struct Handled {
    pub outcome: Outcome,
    pub rendered: Vec<Rendered>,
}

/// Flows, locales, the moderation policy and a store: everything needed to answer a citizen.
pub struct Engine {
    pub flows: Flows,
    pub locales: Locales,
    pub store: Arc<dyn Store>,
    pub moderation: std::sync::Arc<Policy>,
}

impl Engine {
    /// An engine with the built-in moderation policy.
    pub fn new(flows: Flows, locales: Locales, store: Arc<dyn Store>) -> Engine {
        Engine { flows, locales, store, moderation: Policy::shared() }
    }

    /// Loads the record, steps and renders, writing nothing: the caller stores the result
    /// (the server does it atomically with its journal and outbox).
    pub fn plan(&self, key: &CitizenKey, inbound: &Inbound, now: Timestamp) -> Result<Handled, EngineError> {
        let flow = self.flows.get(&key.comune).ok_or_else(|| EngineError::UnknownComune(key.comune.clone()))?;
        let prior = self.store.citizen(key)?;
        let outcome = step_with(flow, Some(&self.moderation), prior.as_ref(), inbound, now);
        let rendered = outcome.replies.iter().map(|r| self.locales.render(flow, &outcome.language, r)).collect();
        Ok(Handled { outcome, rendered })
    }

    /// Handles one message: the record is written (not yet flushed) before this returns.
    pub fn handle(&self, key: &CitizenKey, inbound: &Inbound, now: Timestamp) -> Result<Handled, EngineError> {
        let handled = self.plan(key, inbound, now)?;
        match &handled.outcome.citizen {
            Some(c) => self.store.put_citizen(key, c)?,
            None => self.store.remove_citizen(key)?,
        }
        self.record_events(key, &handled.outcome.events, now)?;
        Ok(handled)
    }

    /// Writes what a step's events leave for the staff: a moderation case per withheld
    /// message.
    pub fn record_events(&self, key: &CitizenKey, events: &[Event], now: Timestamp) -> Result<(), EngineError> {
        for event in events {
            if let Event::Moderated { rule, verdict, text, spans, blocked } = event {
                self.store.add_case(&ModerationCase {
                    key: key.clone(),
                    rule: *rule,
                    verdict: *verdict,
                    text: text.clone(),
                    spans: spans.clone(),
                    at: now,
                    blocked: *blocked,
                    status: CaseStatus::Pending,
                    decided_by: None,
                    decided_at: None,
                    note: None,
                })?;
            }
        }
        Ok(())
    }
}
