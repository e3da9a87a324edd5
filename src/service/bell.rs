//! The bell: rings when something staff or a simulator page watch has changed, so pages
//! kept open refresh at once (over server-sent events) instead of polling.
//!
//! A ring says what changed, never what it now holds: a listener reads the store again,
//! with its own rights, and a ring carries no personal data beyond the citizen's key, which
//! stays in the process. Rings are best effort: a slow listener that falls behind is told
//! so (`Heard::Missed`) and refreshes everything; nobody listening costs one failed send.
//! Another process's changes (several replicas on PostgreSQL) do not ring here: pages keep
//! a slow poll for those.
//!
//! Must not: block, store anything, decide who may see what.

use tokio::sync::broadcast;

use crate::storage::CitizenKey;

/// Rings held for slow listeners before they miss some.
const BACKLOG: usize = 1024;

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ring {
    /// A conversation with the desk: a citizen wrote, staff acted, a reply moved on its way,
    /// a message of theirs went to moderation.
    Desk(CitizenKey),
    /// A broadcast of this comune: created, sent to someone, finished.
    Broadcasts(String),
}

impl Ring {
    /// The comune the change belongs to.
    pub fn comune(&self) -> &str {
        match self {
            Ring::Desk(key) => &key.comune,
            Ring::Broadcasts(comune) => comune,
        }
    }
}

/// What a listener heard.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    Ring(Ring),
    /// The listener fell behind and lost rings: refresh everything.
    Missed,
    /// The bell is gone (the process is stopping).
    Closed,
}

/// The bell. Clones ring the same bell.
#[derive(Clone)]
pub struct Bell {
    tx: broadcast::Sender<Ring>,
}

impl Default for Bell {
    fn default() -> Bell {
        Bell {
            tx: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Bell {
    /// Rings for every listener (none: nothing happens).
    pub fn ring(&self, ring: Ring) {
        let _ = self.tx.send(ring);
    }

    /// A new listener: it hears the rings from now on.
    pub fn listen(&self) -> Listener {
        Listener {
            rx: self.tx.subscribe(),
        }
    }
}

/// One listener of the bell.
pub struct Listener {
    rx: broadcast::Receiver<Ring>,
}

impl Listener {
    /// The next ring.
    pub async fn next(&mut self) -> Heard {
        match self.rx.recv().await {
            Ok(ring) => Heard::Ring(ring),
            Err(broadcast::error::RecvError::Lagged(_)) => Heard::Missed,
            Err(broadcast::error::RecvError::Closed) => Heard::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listeners_hear_later_rings_and_a_slow_one_is_told_it_missed_some() {
        let bell = Bell::default();
        bell.ring(Ring::Broadcasts("early".into()));
        let mut a = bell.listen();
        let key = CitizenKey::new("isili", "whatsapp", "393331234567");
        bell.ring(Ring::Desk(key.clone()));
        assert_eq!(
            a.next().await,
            Heard::Ring(Ring::Desk(key)),
            "the ring before listening is not heard"
        );
        for _ in 0..BACKLOG + 1 {
            bell.ring(Ring::Broadcasts("isili".into()));
        }
        assert_eq!(a.next().await, Heard::Missed);
        assert_eq!(a.next().await, Heard::Ring(Ring::Broadcasts("isili".into())));
    }
}
