//! Runs one step against the store: load the record, step, write the result, render.
//!
//! Durability is the caller's choice and must come before acknowledging: the terminal chat
//! flushes after every step; the server commits steps in groups (one flush for many
//! citizens) before it sends their replies. A crash can therefore lose only steps whose
//! replies were never sent.

use std::sync::Arc;

use jiff::Timestamp;

use crate::dialogue::{step_with, Aids, Citizen, Event, Inbound, Outcome};
use crate::flow::Flows;
use crate::flow::OnUnsubscribe;
use crate::i18n::{Locales, Rendered};
use crate::moderation::Policy;
use crate::storage::{CaseStatus, LedgerEntry, LedgerKind, ModerationCase, StepEffects, Wrote};
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
    /// Shared with the simulator's desk (`service::trial`), which has a store of its own.
    pub flows: Arc<Flows>,
    pub locales: Arc<Locales>,
    pub store: Arc<dyn Store>,
    pub moderation: std::sync::Arc<Policy>,
    /// Each desk comune's FAQ as loaded from its file, by comune id.
    pub faqs: std::collections::BTreeMap<String, crate::faq::Faq>,
    /// The flows and FAQs with the console's edits overlaid (`live`): a std `RwLock`
    /// because it is held only to clone or swap an `Arc`, never across an await.
    pub(crate) live: std::sync::RwLock<Option<Arc<super::live::Live>>>,
    /// Rung when a conversation or a broadcast changes, for the pages kept open.
    pub bell: super::bell::Bell,
}

impl Engine {
    /// An engine with the built-in moderation policy.
    pub fn new(flows: Flows, locales: Locales, store: Arc<dyn Store>) -> Engine {
        Engine {
            flows: Arc::new(flows),
            locales: Arc::new(locales),
            store,
            moderation: Policy::shared(),
            faqs: Default::default(),
            live: Default::default(),
            bell: Default::default(),
        }
    }

    /// An engine on another store with this one's flows, texts, moderation and bell (the
    /// simulator's desk: `service::trial`).
    pub fn beside(&self, store: Arc<dyn Store>) -> Engine {
        Engine {
            flows: self.flows.clone(),
            locales: self.locales.clone(),
            store,
            moderation: self.moderation.clone(),
            faqs: self.faqs.clone(),
            live: Default::default(),
            bell: self.bell.clone(),
        }
    }

    /// Loads the record, steps and renders, writing nothing: the caller stores the result
    /// (the server does it atomically with its journal and outbox).
    pub fn plan(&self, key: &CitizenKey, inbound: &Inbound, now: Timestamp) -> Result<Handled, EngineError> {
        let prior = self.store.citizen(key)?;
        self.plan_from(key, prior.as_ref(), inbound, now)
    }

    /// [`plan`](Self::plan) from a record the caller holds (the simulator's sandbox keeps
    /// its citizens in memory, never in the store).
    pub fn plan_from(
        &self,
        key: &CitizenKey,
        prior: Option<&Citizen>,
        inbound: &Inbound,
        now: Timestamp,
    ) -> Result<Handled, EngineError> {
        // The flow and FAQ as operators last left them (closures, FAQ edits).
        let live = self.live()?;
        let flow = live
            .flow(&key.comune)
            .ok_or_else(|| EngineError::UnknownComune(key.comune.clone()))?;
        let aids = Aids {
            policy: Some(&self.moderation),
            faq: live.faq(&key.comune).map(|f| f.as_ref()),
        };
        let outcome = step_with(flow, aids, prior, inbound, now);
        let rendered = outcome
            .replies
            .iter()
            .map(|r| self.locales.render(flow, &outcome.language, r))
            .collect();
        Ok(Handled { outcome, rendered })
    }

    /// Handles one message with no journal and no outbox (the terminal chat prints the
    /// replies): [`Engine::run_step`], the server's one sequence, whose record and effects
    /// are written atomically (not yet flushed) before this returns; an erasure the step
    /// decided is carried out.
    pub fn handle(&self, key: &CitizenKey, inbound: &Inbound, now: Timestamp) -> Result<Handled, EngineError> {
        let message = crate::channel::InboundMessage {
            // Replies of the simulator's channel are not queued: the caller has them.
            channel: crate::channel::Channel::Web,
            route: String::new(),
            from: key.citizen.clone(),
            id: inbound.id.clone(),
            timestamp: now.as_second(),
            body: inbound.body.clone(),
            callback_id: None,
            phone: None,
            user_id: None,
            username: None,
        };
        let committed = self.run_step(key, &message, None, None, now).map_err(|e| match e {
            super::step::StepError::Plan(e) | super::step::StepError::Effects(e) => e,
            super::step::StepError::Commit(e) => EngineError::Store(e),
        })?;
        match committed.unfinished {
            Some(e) => Err(e),
            None => Ok(committed.handled),
        }
    }

    /// What a step writes besides the record and the outbox, for [`crate::storage::JournalStore::commit_step`]:
    /// consent ledger entries, moderation cases, counters, what the citizen wrote to the desk
    /// (with what the bot answered them), and whether the comune's policy erases this leaver.
    /// `route` is where replies to this citizen go out from (empty for the terminal chat).
    pub fn effects(
        &self,
        key: &CitizenKey,
        route: &str,
        handled: &Handled,
        now: Timestamp,
    ) -> Result<StepEffects, EngineError> {
        let outcome = &handled.outcome;
        let mut fx = StepEffects::default();
        let live = self.live()?;
        let Some(flow) = live.flow(&key.comune) else {
            return Ok(fx);
        };
        let month = crate::storage::keys::month_of(now);
        for event in &outcome.events {
            if let Some(metric) = metric(event) {
                fx.counters.push((month.clone(), metric));
            }
            let ledger =
                |kind: LedgerKind, consent: &str, version: &str, at: Timestamp, message_id: &str, how: &str| {
                    LedgerEntry {
                        comune: key.comune.clone(),
                        channel: key.channel.clone(),
                        citizen: Some(key.citizen.clone()),
                        kind,
                        consent: consent.to_string(),
                        notice_version: version.to_string(),
                        notice_sha256: self.notice_sha256(flow, &outcome.language),
                        at,
                        message_id: message_id.to_string(),
                        how: how.to_string(),
                        pseudonym: None,
                    }
                };
            match event {
                Event::ConsentGiven(c) => fx.ledger.push(ledger(
                    LedgerKind::Consent,
                    &c.kind,
                    &c.notice_version,
                    c.at,
                    &c.message_id,
                    &c.how,
                )),
                Event::ConsentWithdrawn(c) => fx.ledger.push(ledger(
                    LedgerKind::Withdrawal,
                    "privacy",
                    &c.notice_version,
                    c.at,
                    &c.message_id,
                    &c.how,
                )),
                Event::NoticeSeen { version, message_id } => fx.ledger.push(ledger(
                    LedgerKind::NoticeSeen,
                    "privacy",
                    version,
                    now,
                    message_id,
                    "shown",
                )),
                Event::Moderated {
                    rule,
                    verdict,
                    text,
                    spans,
                    blocked,
                } => fx.cases.push(ModerationCase {
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
                }),
                Event::Question { text } | Event::Handoff { text } | Event::ToStaff { text } => {
                    fx.wrote = Some(Wrote {
                        handoff: matches!(event, Event::Handoff { .. }),
                        route: route.to_string(),
                        text: text.clone(),
                        deadline: crate::dialogue::deadline(flow, now).map(|z| z.timestamp()),
                        at: now,
                        replies: handled.rendered.iter().map(|r| r.text.clone()).collect(),
                    });
                }
                Event::Unsubscribed {
                    policy: OnUnsubscribe::Delete | OnUnsubscribe::Anonymize,
                } => fx.erase = outcome.citizen.is_none(),
                _ => {}
            }
        }
        Ok(fx)
    }

    /// After a step's commit: scrubs every other trace of a leaver the comune's policy
    /// erases (the goodbye reply stays in the outbox until sent). Safe to repeat.
    pub fn finish(&self, key: &CitizenKey, effects: &StepEffects) -> Result<(), EngineError> {
        if effects.erase {
            self.store.scrub_citizen(key, true)?;
        }
        Ok(())
    }

    /// Finishes erasures a crash interrupted (committed by a step, scrub not done). Run at
    /// start, before any message is processed. Returns how many were finished.
    pub fn resume_erasures(&self) -> Result<usize, EngineError> {
        let keys = self.store.unfinished_erasures()?;
        for key in &keys {
            self.store.scrub_citizen(key, true)?;
        }
        Ok(keys.len())
    }

    /// SHA-256 (hex) of the comune's privacy notice as rendered in `lang`.
    pub fn notice_sha256(&self, flow: &crate::flow::Flow, lang: &str) -> String {
        use sha2::Digest;
        let text = self
            .locales
            .render(flow, lang, &crate::dialogue::Reply::new(flow.privacy.notice.clone()))
            .text;
        sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The anonymous counter an event adds to, if any.
fn metric(event: &Event) -> Option<String> {
    Some(match event {
        Event::Subscribed => "signup".into(),
        Event::Unsubscribed { .. } => "withdrawal".into(),
        Event::Question { .. } => "question".into(),
        Event::Moderated { rule, .. } => format!("moderation:{}", rule.name()),
        Event::FaqServed { entry, picked: false } => format!("faq-answered:{entry}"),
        Event::FaqServed { entry, picked: true } => format!("faq-picked:{entry}"),
        _ => return None,
    })
}
