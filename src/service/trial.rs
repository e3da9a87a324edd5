//! The simulator's desk: a `/try` citizen who asks for a person, or whose question the bot
//! cannot answer, reaches the comune's inbox as a trial, and the operator's reply appears in
//! the simulator, live. So a comune can try its whole desk, handover included, before
//! going on WhatsApp.
//!
//! Trials never touch the store: they live in a store of their own, in memory
//! ([`MemoryStore`]), beside the real one, with the same flows, texts and bell
//! ([`Engine::beside`]), so the inbox's own functions (`staff::inbox`) claim, answer and
//! close them unchanged. Only sessions that reached the desk are kept here, at most
//! [`MAX_PER_COMUNE`] per comune (the least recently active goes first), and they go when
//! the simulator's sandbox forgets their session. Nothing of a trial reaches the reports,
//! the consent ledger or the moderation queue.
//!
//! Must not: write to the real store, send anything on a real channel.

use std::sync::Arc;

use super::bell::Ring;
use super::runner::Engine;
use crate::dialogue::Citizen;
use crate::i18n::Rendered;
use crate::storage::{CitizenKey, Conversation, MemoryStore, StoreError, Wrote};

/// Trial conversations kept per comune: enough for a comune's staff to try the desk
/// together, few enough that a flood of simulator sessions cannot bury the real inbox.
pub const MAX_PER_COMUNE: usize = 20;

/// Lines a trial conversation keeps (the oldest go first), and the characters of each: a
/// simulator session that keeps writing cannot grow the process's memory. With
/// [`MAX_PER_COMUNE`] trials per comune, a comune's trials hold at most about 2 MB.
pub const MAX_LINES: usize = 100;
pub const MAX_LINE_CHARS: usize = 1_000;

/// The channel of the simulator's citizens (`CitizenKey::channel`).
pub const CHANNEL: &str = "web";

/// The simulator's desk.
pub struct Trials {
    /// The engine the inbox's functions run on for a trial: the real one's flows and bell,
    /// its own store in memory.
    pub engine: Engine,
}

impl Trials {
    pub fn new(real: &Engine) -> Trials {
        Trials {
            engine: real.beside(Arc::new(MemoryStore::new())),
        }
    }

    /// Whether `key` is a trial conversation here.
    pub fn holds(&self, key: &CitizenKey) -> bool {
        key.channel == CHANNEL && matches!(self.engine.store.conversation(key), Ok(Some(_)))
    }

    /// The record a simulator session's next step starts from: the desk's copy once the
    /// session reached the desk (it carries an operator's hold), else the sandbox's own, with
    /// no hold (a trial dropped to make room must not leave the bot silent).
    pub fn prior(&self, key: &CitizenKey, sandboxed: Option<Citizen>) -> Option<Citizen> {
        match self.engine.store.citizen(key) {
            Ok(Some(c)) => Some(c),
            _ => sandboxed.map(|mut c| {
                c.held_by = None;
                c
            }),
        }
    }

    /// After a simulator step: what the citizen wrote to the desk opens or extends their
    /// trial conversation (making room first), and the desk's copy of the record follows
    /// the step; a citizen who left is forgotten.
    pub fn stepped(
        &self,
        key: &CitizenKey,
        citizen: Option<&Citizen>,
        wrote: Option<&Wrote>,
    ) -> Result<(), StoreError> {
        let store = &self.engine.store;
        let existing = store.conversation(key)?;
        let Some(citizen) = citizen else {
            if existing.is_some() {
                self.forget(key)?;
            }
            return Ok(());
        };
        match wrote {
            Some(wrote) => {
                if existing.is_none() {
                    self.make_room(&key.comune)?;
                }
                let mut conv = Conversation::after_citizen_wrote(existing, key, wrote);
                bound(&mut conv);
                store.put_conversation(&conv)?;
                store.put_citizen(key, citizen)?;
                self.engine.bell.ring(Ring::Desk(key.clone()));
            }
            None if existing.is_some() => store.put_citizen(key, citizen)?,
            None => {}
        }
        Ok(())
    }

    /// Drops a session's trial: its conversation, record and unread replies.
    pub fn forget(&self, key: &CitizenKey) -> Result<(), StoreError> {
        if key.channel != CHANNEL {
            return Ok(());
        }
        let had = self.engine.store.conversation(key)?.is_some();
        self.engine.store.scrub_citizen(key, false)?;
        if had {
            self.engine.bell.ring(Ring::Desk(key.clone()));
        }
        Ok(())
    }

    /// The replies staff queued for the session, in order, taken out of the desk's outbox
    /// (each is shown once); the desk's pages hear that they were delivered.
    pub fn take_replies(&self, key: &CitizenKey) -> Result<Vec<Rendered>, StoreError> {
        let store = &self.engine.store;
        let mut out = Vec::new();
        for (id, entry) in store.pending_outbound()? {
            if &entry.key == key {
                store.outbound_done(id)?;
                out.push(entry.rendered);
            }
        }
        // The thread's ticks move to delivered.
        if !out.is_empty() {
            self.engine.bell.ring(Ring::Desk(key.clone()));
        }
        Ok(out)
    }

    /// Forgets the comune's least recently active trials until one more fits.
    fn make_room(&self, comune: &str) -> Result<(), StoreError> {
        let mut convs = self.engine.store.conversations(comune)?;
        if convs.len() < MAX_PER_COMUNE {
            return Ok(());
        }
        convs.sort_by_key(|c| c.last_activity);
        for c in &convs[..=convs.len() - MAX_PER_COMUNE] {
            self.forget(&c.key)?;
        }
        Ok(())
    }
}

/// Keeps a trial conversation within [`MAX_LINES`] lines of [`MAX_LINE_CHARS`] characters.
fn bound(conv: &mut Conversation) {
    let extra = conv.lines.len().saturating_sub(MAX_LINES);
    conv.lines.drain(..extra);
    for line in &mut conv.lines {
        if line.text.chars().count() > MAX_LINE_CHARS {
            line.text = line.text.chars().take(MAX_LINE_CHARS - 1).chain(['…']).collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locales;
    use crate::staff::inbox;
    use jiff::Timestamp;

    fn real() -> Engine {
        let locales = Locales::embedded().expect("the embedded locales");
        let flows = crate::flow::load_embedded(&locales).expect("the embedded flows");
        Engine::new(flows, locales, Arc::new(MemoryStore::new()))
    }

    fn wrote(text: &str, at: Timestamp) -> Wrote {
        Wrote {
            route: String::new(),
            text: text.into(),
            deadline: None,
            at,
            replies: vec![],
            handoff: true,
        }
    }

    #[test]
    fn a_trial_reaches_the_desk_apart_from_the_real_store_and_its_reply_is_taken_once() {
        let real = real();
        let trials = Trials::new(&real);
        let t: Timestamp = "2026-12-07T09:00:00Z".parse().unwrap();
        let key = CitizenKey::new("isili", CHANNEL, "web-s1");
        let citizen = Citizen::new(t);
        // A step that did not write to the desk keeps nothing.
        trials.stepped(&key, Some(&citizen), None).unwrap();
        assert!(!trials.holds(&key));
        trials
            .stepped(&key, Some(&citizen), Some(&wrote("Vorrei parlare con qualcuno", t)))
            .unwrap();
        assert!(trials.holds(&key));
        assert!(
            real.store.conversation(&key).unwrap().is_none(),
            "never in the real store"
        );
        assert_eq!(inbox::inbox(&trials.engine, "isili", t).unwrap().len(), 1);
        inbox::reply(&trials.engine, &key, "op@isili.it", "Buongiorno, La ascolto.", t).unwrap();
        // The hold is on the desk's copy, which the next step starts from.
        assert_eq!(
            trials
                .prior(&key, Some(citizen.clone()))
                .and_then(|c| c.held_by)
                .as_deref(),
            Some("op@isili.it")
        );
        let replies = trials.take_replies(&key).unwrap();
        assert_eq!(
            replies.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(),
            ["Buongiorno, La ascolto."]
        );
        assert!(trials.take_replies(&key).unwrap().is_empty(), "shown once");
        assert!(real.store.pending_outbound().unwrap().is_empty());
        trials.forget(&key).unwrap();
        assert!(!trials.holds(&key));
        let mut held = citizen.clone();
        held.held_by = Some("op@isili.it".into());
        assert_eq!(
            trials.prior(&key, Some(held)).unwrap().held_by,
            None,
            "a forgotten hold is gone"
        );
    }

    #[test]
    fn a_session_that_keeps_writing_cannot_grow_its_trial() {
        let trials = Trials::new(&real());
        let t: Timestamp = "2026-12-07T09:00:00Z".parse().unwrap();
        let key = CitizenKey::new("isili", CHANNEL, "web-flood");
        let long = "parole ".repeat(2_000);
        for i in 0..MAX_LINES * 3 {
            let at = t + jiff::SignedDuration::from_secs(i as i64);
            let w = Wrote {
                replies: vec![long.clone()],
                ..wrote(&format!("{i} {long}"), at)
            };
            trials.stepped(&key, Some(&Citizen::new(at)), Some(&w)).unwrap();
        }
        let conv = trials.engine.store.conversation(&key).unwrap().unwrap();
        assert!(conv.lines.len() <= MAX_LINES, "{}", conv.lines.len());
        assert!(conv.lines.iter().all(|l| l.text.chars().count() <= MAX_LINE_CHARS));
        let newest = format!("{} ", MAX_LINES * 3 - 1);
        assert!(
            conv.lines.iter().any(|l| l.text.starts_with(&newest)),
            "the newest are kept"
        );
        assert!(!conv.lines.iter().any(|l| l.text.starts_with("0 ")), "the oldest went");
    }

    #[test]
    fn a_comune_keeps_its_most_recent_trials() {
        let trials = Trials::new(&real());
        let t: Timestamp = "2026-12-07T09:00:00Z".parse().unwrap();
        for i in 0..MAX_PER_COMUNE + 5 {
            let key = CitizenKey::new("isili", CHANNEL, &format!("web-{i}"));
            let at = t + jiff::SignedDuration::from_secs(i as i64);
            trials
                .stepped(&key, Some(&Citizen::new(at)), Some(&wrote("aiuto", at)))
                .unwrap();
        }
        let kept = trials.engine.store.conversations("isili").unwrap();
        assert_eq!(kept.len(), MAX_PER_COMUNE);
        assert!(
            !trials.holds(&CitizenKey::new("isili", CHANNEL, "web-4")),
            "the oldest went"
        );
        assert!(trials.holds(&CitizenKey::new("isili", CHANNEL, "web-5")));
    }
}
