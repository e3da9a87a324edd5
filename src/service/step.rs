//! One inbound message's whole step as one call: plan (load the record, step, render),
//! the replies as outbox entries, the step's effects, one atomic commit (with the journal
//! entry marked done), then the erasure's scrub if the step erased. The server's pipeline
//! runs it on the blocking pool and makes it durable before sending; nothing here waits on
//! the network or logs what a citizen wrote.

use jiff::Timestamp;

use super::runner::{Engine, EngineError, Handled};
use crate::channel::{Channel, InboundMessage};
use crate::message::Inbound;
use crate::storage::{CitizenKey, OutboundEntry, StepWrite, StoreError};

/// A committed step: the outbox ids of its replies, in order, the step itself (its record
/// and rendered replies), and the error of an erasure that could not finish (its mark stays
/// and the scrub runs again at the next start).
#[derive(Debug)]
pub struct Committed {
    pub ids: Vec<u64>,
    pub handled: Handled,
    pub unfinished: Option<EngineError>,
}

/// Why nothing was committed; the message stays in the journal for the next start.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The step could not run (an unknown comune, the record unreadable).
    #[error("step failed: {0}")]
    Plan(EngineError),
    /// The step ran but its effects could not be prepared.
    #[error("could not prepare a step's effects: {0}")]
    Effects(EngineError),
    /// The step ran but its commit failed.
    #[error("commit failed: {0}")]
    Commit(StoreError),
}

impl StepError {
    /// Whether the step itself ran (it counts as a step even though nothing was written).
    pub fn stepped(&self) -> bool {
        !matches!(self, StepError::Plan(_))
    }
}

/// A step planned and not yet committed: its writes and the step itself. The server
/// commits the writes of several citizens' steps together
/// ([`JournalStore::commit_steps`](crate::storage::JournalStore::commit_steps)), then
/// finishes each ([`Engine::finish_step`]).
#[derive(Debug)]
pub struct Prepared {
    /// Shared with the committer while the steps' writes go in together.
    pub write: std::sync::Arc<StepWrite>,
    pub handled: Handled,
}

impl Engine {
    /// Runs and commits the step of `message` for `key`: see the module. `dedupe` is the
    /// journal entry to mark done; `owner`, with several active processes, the process that
    /// will send the replies. The web simulator's replies are not queued (it reads them
    /// from the record).
    pub fn run_step(
        &self,
        key: &CitizenKey,
        message: &InboundMessage,
        dedupe: Option<&[u8]>,
        owner: Option<&str>,
        now: Timestamp,
    ) -> Result<Committed, StepError> {
        let prepared = self.prepare_step(key, message, dedupe, owner, now)?;
        let ids = prepared.write.commit_alone(self.store.as_ref());
        self.finish_step(prepared, ids)
    }

    /// [`Engine::run_step`] up to its commit: the plan, the replies as outbox entries and
    /// the effects, nothing written.
    pub fn prepare_step(
        &self,
        key: &CitizenKey,
        message: &InboundMessage,
        dedupe: Option<&[u8]>,
        owner: Option<&str>,
        now: Timestamp,
    ) -> Result<Prepared, StepError> {
        let inbound = Inbound {
            id: message.id.clone(),
            body: message.body.clone(),
        };
        let mut handled = self.plan(key, &inbound, now).map_err(StepError::Plan)?;
        // The identities the message showed besides the key (a number, a BSUID, a username).
        if let Some(c) = handled.outcome.citizen.as_mut() {
            super::identity::note(c, key, message);
        }
        // A reply goes to the number when known (this message's, or the record's), else to
        // the business-scoped id.
        let to = message
            .phone
            .clone()
            .unwrap_or_else(|| super::identity::reply_to(key, handled.outcome.citizen.as_ref()));
        let outbound: Vec<OutboundEntry> = match message.channel {
            Channel::Web => Vec::new(),
            channel => handled
                .rendered
                .iter()
                .enumerate()
                .map(|(i, r)| OutboundEntry {
                    key: key.clone(),
                    channel,
                    route: message.route.clone(),
                    to: to.clone(),
                    rendered: r.clone(),
                    language: handled.outcome.language.clone(),
                    created_at: now,
                    // A button tap on Telegram is acknowledged with the first reply.
                    callback_id: if i == 0 { message.callback_id.clone() } else { None },
                    in_flight: false,
                    owner: owner.map(str::to_string),
                })
                .collect(),
        };
        let effects = self
            .effects(key, &message.route, &handled, now)
            .map_err(StepError::Effects)?;
        Ok(Prepared {
            write: std::sync::Arc::new(StepWrite {
                dedupe: dedupe.map(<[u8]>::to_vec),
                key: key.clone(),
                citizen: handled.outcome.citizen.clone(),
                outbound,
                effects,
            }),
            handled,
        })
    }

    /// [`Engine::run_step`] after its commit (`ids`, the commit's outcome): the erasure's
    /// scrub if the step erased, and the desk's bell.
    pub fn finish_step(&self, prepared: Prepared, ids: Result<Vec<u64>, StoreError>) -> Result<Committed, StepError> {
        let ids = ids.map_err(StepError::Commit)?;
        let Prepared { write, handled } = prepared;
        let unfinished = self.finish(&write.key, &write.effects).err();
        // The desk's pages show what the citizen wrote, a message held for moderation, or
        // a leaver's conversation gone.
        if write.effects.wrote.is_some() || !write.effects.cases.is_empty() || write.effects.erase {
            self.bell.ring(crate::service::bell::Ring::Desk(write.key.clone()));
        }
        Ok(Committed {
            ids,
            handled,
            unfinished,
        })
    }
}
