//! Storage, the ground floor: one trait per area ([`CitizenStore`], [`JournalStore`],
//! [`CaseStore`], [`StaffStore`], [`BroadcastStore`]) and [`Store`], all of them plus
//! durability; the records they keep (`records`); the key layout (`keys`); and three
//! backends, each with a file per area: `sled` (the embedded default, durable),
//! `postgres` (a PostgreSQL server, `storage = "postgres"`) and `memory` (tests,
//! benchmarks of the engine alone). Imports nothing from above it.
//!
//! Values are JSON: readable with any tool, tolerant of added fields.
//!
//! Why over 4,000 lines: the same five areas are written three times, once per backend
//! (`sled_store/`, `postgres/`, `memory/`, a file per area each), plus PostgreSQL's pool,
//! locks and replicas, backups and the group commit; each backend folder alone is under
//! 2,500 lines.

pub mod backup;
mod cases;
pub mod commit;
mod journal;
pub mod keyring;
pub mod keys;
mod ledger;
mod memory;
mod overlay;
pub mod postgres;
pub mod records;
pub mod sealed;
mod sled_store;
mod staff;

pub use cases::{CaseStatus, ModerationCase};
pub use journal::{InboundEntry, OutboundEntry, SentEntry};
pub use keys::CitizenKey;
pub use ledger::{AuditEntry, LedgerEntry, LedgerKind, Scrubbed};
pub use memory::MemoryStore;
pub use overlay::{ClosureEdit, FaqEdit};
pub use postgres::{PgOptions, PgStore};
pub use sled_store::SledStore;
pub use staff::{Account, Author, Conversation, ConversationStatus, Happened, Line, OneTime, Role, Session, Wrote};

use crate::storage::records::Citizen;
use crate::storage::records::{Broadcast, Delivery};

/// The schema version this build writes and understands (see `keys::SCHEMA_VERSION_KEY`).
pub const SCHEMA_VERSION: u32 = 1;

/// Errors at the storage boundary. Messages carry no personal data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled refused or failed (its message).
    #[error("sled: {0}")]
    Sled(String),
    /// The PostgreSQL server or its driver refused or failed (the server's message when it
    /// gave one).
    #[error("postgres: {0}")]
    Postgres(String),
    /// The store cannot be reached now: the pool or the group commit is closed, a
    /// connection did not answer, the process is stopping.
    #[error("the store is unavailable: {0}")]
    Unavailable(&'static str),
    /// Making writes durable failed (the message of the flush that failed, shared by every
    /// caller that waited on it).
    #[error("flush failed: {0}")]
    Flush(String),
    /// A task or thread running store calls failed or was cancelled.
    #[error("a storage task did not finish: {0}")]
    Task(String),
    /// The configuration does not name a usable store (a bad database URL, no schema).
    #[error("{0}")]
    Config(String),
    /// The operating system refused (a folder, a thread).
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt record under a {tree} key: {reason}")]
    Corrupt { tree: &'static str, reason: String },
    #[error("the data was written by a newer sportello (schema {found}, this build knows {SCHEMA_VERSION})")]
    NewerSchema { found: u32 },
    /// The keyring refused or failed (its message names the file, never a key or an id).
    #[error("keyring: {0}")]
    Keyring(String),
    #[error("invalid key part: {0}")]
    BadKey(&'static str),
}

/// What the engine needs from a storage engine: every area, and durability. Writes are
/// visible at once; they are durable after [`Store::flush`] returns. Code that needs one
/// area takes that trait (`&dyn CitizenStore`); a `&dyn Store` reaches every area.
pub trait Store: CitizenStore + JournalStore + CaseStore + StaffStore + BroadcastStore + Send + Sync + 'static {
    /// Makes every write so far durable.
    fn flush(&self) -> Result<(), StoreError>;

    /// Whether a call may wait on another process (a database server over the network):
    /// a caller on an async runtime then runs its calls on the blocking pool. sled's and
    /// memory's calls take microseconds and run in place.
    fn waits_on_network(&self) -> bool {
        false
    }
}

/// Citizens and what is kept about them: records, the consent ledger, anonymous counters,
/// and erasure.
pub trait CitizenStore {
    fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError>;
    fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError>;
    fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError>;
    /// Records that `other` (a WhatsApp BSUID, a new BSUID after a change of number) names
    /// the record under `key`. Erased with the record ([`CitizenStore::scrub_citizen`]).
    fn put_alias(&self, other: &CitizenKey, key: &CitizenKey) -> Result<(), StoreError>;
    /// The record `other` names, if it is an alias.
    fn alias(&self, other: &CitizenKey) -> Result<Option<CitizenKey>, StoreError>;
    /// Every citizen of a comune, in key order: for tests and small comuni; whatever may
    /// meet a large one walks it with [`each_citizen`].
    fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError>;
    /// Citizens whose erasure was committed by a step but whose scrub did not finish (a
    /// crash in between): [`CitizenStore::scrub_citizen`] them again. The scrub clears the mark.
    fn unfinished_erasures(&self) -> Result<Vec<CitizenKey>, StoreError>;
    /// Whether `key`'s erasure is committed and its scrub not finished (sled reads its mark;
    /// the others list the marks, which are few).
    fn erasure_marked(&self, key: &CitizenKey) -> Result<bool, StoreError> {
        Ok(self.unfinished_erasures()?.contains(key))
    }
    /// Appends to the consent ledger (never rewritten, except to remove an erased id).
    fn append_ledger(&self, entry: &LedgerEntry) -> Result<u64, StoreError>;
    /// A comune's ledger, oldest first.
    fn ledger(&self, comune: &str) -> Result<Vec<(u64, LedgerEntry)>, StoreError>;
    /// Removes a citizen from everything (and clears their unfinished-erasure mark): the record, the aliases naming it, their unprocessed messages, their
    /// pending replies (unless `keep_outbox`: a goodbye still to be sent), delivery records
    /// and moderation cases (kept anonymized: rule, time, decision), and their id from the
    /// ledger entries (kept as anonymous proof).
    fn scrub_citizen(&self, key: &CitizenKey, keep_outbox: bool) -> Result<Scrubbed, StoreError>;
    /// The trees whose keys or values contain `needle` (to verify an erasure).
    fn mentions(&self, needle: &str) -> Result<Vec<String>, StoreError>;
    /// Adds `by` to an anonymous monthly counter (`month` as `YYYY-MM`).
    fn bump(&self, comune: &str, month: &str, metric: &str, by: u64) -> Result<(), StoreError>;
    /// A comune's counters: (month, metric, value), in key order.
    fn counters(&self, comune: &str) -> Result<Vec<(String, String, u64)>, StoreError>;
    /// At most `limit` citizens of a comune in key order, starting after `after` (a page of
    /// [`CitizenStore::citizens`], for walking 100,000 subscribers without loading them all).
    fn citizens_page(
        &self,
        comune: &str,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Citizen)>, StoreError>;
}

/// The inbound journal, the reply outbox and the delivery records of sent messages; and the
/// one atomic write of a step.
pub trait JournalStore {
    /// Journals an inbound message under its deduplication key (`keys::inbound_key`);
    /// returns `false`, writing nothing, when that key was already seen.
    fn record_inbound(&self, dedupe: &[u8], entry: &InboundEntry) -> Result<bool, StoreError>;
    /// Journalled messages not processed yet, in the order they were received.
    fn pending_inbound(&self) -> Result<Vec<(Vec<u8>, InboundEntry)>, StoreError>;
    /// One step, atomically: the inbound message marked done (its text dropped), the
    /// citizen written or removed, the replies put in the outbox, and the step's other
    /// [`StepEffects`] (ledger, cases, counters, conversation, erasure marker). A crash
    /// leaves either all of it or none, and then the message is still pending and replays.
    /// Returns the outbox ids.
    fn commit_step(
        &self,
        dedupe: Option<&[u8]>,
        key: &CitizenKey,
        citizen: Option<&Citizen>,
        outbound: &[OutboundEntry],
        effects: &StepEffects,
    ) -> Result<Vec<u64>, StoreError>;
    /// Several steps, each of a different citizen, each as [`JournalStore::commit_step`]
    /// (all of a step or none of it); one result per step, in order. A store may write
    /// them together (sled: one transaction instead of one each, and each transaction
    /// writes its I/O buffer out); one step's error does not undo the others'.
    fn commit_steps(&self, steps: &[&StepWrite]) -> Vec<Result<Vec<u64>, StoreError>> {
        steps.iter().map(|s| s.commit_alone(self)).collect()
    }
    /// Replies not yet accepted by their provider, in the order they were queued.
    fn pending_outbound(&self) -> Result<Vec<(u64, OutboundEntry)>, StoreError>;
    fn outbound_entry(&self, id: u64) -> Result<Option<OutboundEntry>, StoreError>;
    /// Whether a reply to `key` waits in the outbox (sled reads its per-citizen index; the
    /// others scan the outbox, which holds only the replies not yet sent).
    fn has_pending_outbound(&self, key: &CitizenKey) -> Result<bool, StoreError> {
        Ok(self.pending_outbound()?.iter().any(|(_, e)| &e.key == key))
    }
    /// Removes a reply from the outbox (sent, or failed for good).
    fn outbound_done(&self, id: u64) -> Result<(), StoreError>;
    /// Sets or clears a reply's in-flight mark ([`OutboundEntry::in_flight`]); returns the
    /// entry as now stored, or `None` (writing nothing) when it is no longer in the outbox.
    /// Durable after [`Store::flush`], like every write.
    fn mark_outbound(&self, id: u64, in_flight: bool) -> Result<Option<OutboundEntry>, StoreError>;
    /// Forgets processed inbound ids received before `before` (providers stop redelivering
    /// after a while: Meta after 7 days). Returns how many were removed.
    fn prune_inbound(&self, before: jiff::Timestamp) -> Result<usize, StoreError>;
    /// Writes the delivery record of a sent message (key: `keys::sent_key`).
    fn put_sent(&self, key: &[u8], entry: &SentEntry) -> Result<(), StoreError>;
    fn sent(&self, key: &[u8]) -> Result<Option<SentEntry>, StoreError>;
    /// Forgets delivery records of messages sent before `before`.
    fn prune_sent(&self, before: jiff::Timestamp) -> Result<usize, StoreError>;
}

/// Moderation cases waiting for or given a decision.
pub trait CaseStore {
    /// Queues a moderation case; returns its id (increasing).
    fn add_case(&self, case: &ModerationCase) -> Result<u64, StoreError>;
    fn case(&self, id: u64) -> Result<Option<ModerationCase>, StoreError>;
    fn put_case(&self, id: u64, case: &ModerationCase) -> Result<(), StoreError>;
    /// Every case of a comune, oldest first.
    fn cases(&self, comune: &str) -> Result<Vec<(u64, ModerationCase)>, StoreError>;
}

/// Staff accounts and sessions, the desk's conversations, the audit log, and the
/// operators' FAQ and closure edits.
pub trait StaffStore {
    fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError>;
    fn audit(&self, comune: Option<&str>) -> Result<Vec<(u64, AuditEntry)>, StoreError>;
    /// Staff accounts, by e-mail (lower case).
    fn put_account(&self, account: &Account) -> Result<(), StoreError>;
    fn account(&self, email: &str) -> Result<Option<Account>, StoreError>;
    fn accounts(&self) -> Result<Vec<Account>, StoreError>;
    fn remove_account(&self, email: &str) -> Result<(), StoreError>;
    /// Sessions, by the SHA-256 (hex) of their token.
    fn put_session(&self, token_sha256: &str, session: &Session) -> Result<(), StoreError>;
    fn session(&self, token_sha256: &str) -> Result<Option<Session>, StoreError>;
    fn remove_session(&self, token_sha256: &str) -> Result<(), StoreError>;
    /// A citizen's conversation with the desk (one per citizen; reopened when they write).
    fn put_conversation(&self, conversation: &Conversation) -> Result<(), StoreError>;
    fn conversation(&self, key: &CitizenKey) -> Result<Option<Conversation>, StoreError>;
    /// Every conversation of a comune.
    fn conversations(&self, comune: &str) -> Result<Vec<Conversation>, StoreError>;
    /// Every live session with its key (the SHA-256 of its token): to end an account's
    /// other sessions when its password changes.
    fn sessions(&self) -> Result<Vec<(String, Session)>, StoreError>;
    /// An operator's FAQ change (`keys::faq_edit_key`), replacing any earlier one of the
    /// same entry and language.
    fn put_faq_edit(&self, comune: &str, edit: &FaqEdit) -> Result<(), StoreError>;
    /// A comune's FAQ changes, in key order (entry id, then language).
    fn faq_edits(&self, comune: &str) -> Result<Vec<FaqEdit>, StoreError>;
    /// A closure added or removed by an operator (`keys::closure_key`), replacing any
    /// earlier decision on the same day.
    fn put_closure(&self, comune: &str, closure: &ClosureEdit) -> Result<(), StoreError>;
    /// A comune's closure decisions, by day.
    fn closures(&self, comune: &str) -> Result<Vec<ClosureEdit>, StoreError>;
}

/// Broadcasts and their outbox entries, one per recipient.
pub trait BroadcastStore {
    /// Stores a new broadcast; returns its id (increasing).
    fn add_broadcast(&self, broadcast: &Broadcast) -> Result<u64, StoreError>;
    fn put_broadcast(&self, id: u64, broadcast: &Broadcast) -> Result<(), StoreError>;
    fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError>;
    /// Broadcasts of a comune (every comune with `None`), oldest first.
    fn broadcasts(&self, comune: Option<&str>) -> Result<Vec<(u64, Broadcast)>, StoreError>;
    /// Writes outbox entries of broadcast `id`, one per citizen (the key's comune is the
    /// broadcast's and is not stored), replacing any with the same citizen. Not durable
    /// before [`Store::flush`].
    fn put_deliveries(&self, id: u64, entries: &[(CitizenKey, Delivery)]) -> Result<(), StoreError>;
    fn delivery(&self, id: u64, key: &CitizenKey) -> Result<Option<Delivery>, StoreError>;
    /// At most `limit` entries of broadcast `id` (of one channel when given), in
    /// (channel, citizen) order, starting after `after`. Keys are rebuilt with `comune`.
    fn deliveries(
        &self,
        id: u64,
        comune: &str,
        channel: Option<&str>,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Delivery)>, StoreError>;
}

/// What a step writes besides the record and the outbox, in the same transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepEffects {
    /// Consents, withdrawals and notices seen, appended to the ledger.
    pub ledger: Vec<LedgerEntry>,
    /// Messages withheld by moderation, queued for review.
    pub cases: Vec<ModerationCase>,
    /// Monthly counters of the citizen's comune to add one to: (`YYYY-MM`, metric).
    pub counters: Vec<(String, String)>,
    /// What the citizen wrote to the desk, appended to their conversation.
    pub wrote: Option<Wrote>,
    /// The comune's policy erases this leaver: mark them so a crash before the scrub
    /// finishes is resumed at start ([`CitizenStore::unfinished_erasures`]).
    pub erase: bool,
}

/// Citizens read per page by [`each_citizen`].
pub const CITIZEN_PAGE: usize = 256;

/// Pages read at once by [`each_citizen`] across the process. A region's alert checks a
/// hundred comuni at once: with every walk reading its page together, the decoded pages
/// and sled's nodes under them took 130 MB at 100,000 citizens (BENCHMARKS.md, "A region
/// on one machine"). A walk waits only while it reads; it holds no turn while it works.
const PAGES_AT_ONCE: usize = 4;

/// How many of [`PAGES_AT_ONCE`] are being read, and the wait for a turn.
static READING: (std::sync::Mutex<usize>, std::sync::Condvar) = (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// One comune's page of citizens, read in turn with the other walks.
fn page_in_turn<S: CitizenStore + ?Sized>(
    store: &S,
    comune: &str,
    after: Option<&CitizenKey>,
) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
    let (count, turn) = &READING;
    {
        let mut reading = count.lock().unwrap_or_else(|p| p.into_inner());
        while *reading >= PAGES_AT_ONCE {
            reading = turn.wait(reading).unwrap_or_else(|p| p.into_inner());
        }
        *reading += 1;
    }
    /// Gives the turn back, even if the read panics.
    struct Turn;
    impl Drop for Turn {
        fn drop(&mut self) {
            let (count, turn) = &READING;
            *count.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
            turn.notify_one();
        }
    }
    let _turn = Turn;
    store.citizens_page(comune, after, CITIZEN_PAGE)
}

/// Calls `f` for every citizen of `comune`, in the store's order, [`CITIZEN_PAGE`] at a
/// time ([`CitizenStore::citizens_page`]): a comune's audience is never in memory whole.
/// `f` answers whether to go on.
pub fn each_citizen<S: CitizenStore + ?Sized>(
    store: &S,
    comune: &str,
    mut f: impl FnMut(&CitizenKey, &Citizen) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let mut after: Option<CitizenKey> = None;
    loop {
        let page = page_in_turn(store, comune, after.as_ref())?;
        for (key, c) in &page {
            if !f(key, c)? {
                return Ok(());
            }
        }
        if page.len() < CITIZEN_PAGE {
            return Ok(());
        }
        after = page.last().map(|(k, _)| k.clone());
    }
}

/// One step's writes, as [`JournalStore::commit_step`] takes them: for the calls that
/// commit several steps together ([`JournalStore::commit_steps`]).
#[derive(Debug, Clone)]
pub struct StepWrite {
    /// The journal entry to mark done.
    pub dedupe: Option<Vec<u8>>,
    pub key: CitizenKey,
    /// The record after the step (`None`: removed).
    pub citizen: Option<Citizen>,
    pub outbound: Vec<OutboundEntry>,
    pub effects: StepEffects,
}

impl StepWrite {
    /// This step committed on its own.
    pub fn commit_alone<S: JournalStore + ?Sized>(&self, store: &S) -> Result<Vec<u64>, StoreError> {
        store.commit_step(
            self.dedupe.as_deref(),
            &self.key,
            self.citizen.as_ref(),
            &self.outbound,
            &self.effects,
        )
    }
}

/// A moderation case with who and what removed.
fn anonymized(mut case: ModerationCase) -> ModerationCase {
    case.key.citizen = String::new();
    case.text = String::new();
    case.spans.clear();
    case
}

fn decode(tree: &'static str, bytes: &[u8]) -> Result<Citizen, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        reason: e.to_string(),
    })
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain structs cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode_as<T: serde::de::DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        reason: e.to_string(),
    })
}

/// The journal entry once processed: the fact it was seen, without the message or who sent it.
fn done_entry(mut entry: InboundEntry) -> InboundEntry {
    entry.message = None;
    entry.key.citizen = String::new();
    entry.done = true;
    entry
}

/// A new file only its owner may read or write (0600), replacing one left at `path` (a
/// partial file from an interrupted run): backups, exports, keys and keyrings being written.
pub fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_citizen_walks_a_comune_page_by_page_once_and_stops_when_told() {
        let store = MemoryStore::default();
        let n = 2 * CITIZEN_PAGE + 7;
        let now = jiff::Timestamp::now();
        for i in 0..n {
            let key = CitizenKey::new("madone", "whatsapp", &format!("39333{i:07}"));
            store.put_citizen(&key, &Citizen::new(now)).unwrap();
        }
        store
            .put_citizen(
                &CitizenKey::new("isili", "whatsapp", "393330000001"),
                &Citizen::new(now),
            )
            .unwrap();
        let mut seen = std::collections::BTreeSet::new();
        each_citizen(&store, "madone", |key, _| {
            assert_eq!(key.comune, "madone");
            assert!(seen.insert(key.citizen.clone()), "twice: {key:?}");
            Ok(true)
        })
        .unwrap();
        assert_eq!(seen.len(), n);
        let mut visited = 0;
        each_citizen(&store, "madone", |_, _| {
            visited += 1;
            Ok(visited < CITIZEN_PAGE + 3)
        })
        .unwrap();
        assert_eq!(visited, CITIZEN_PAGE + 3);
        let failed = each_citizen(&store, "madone", |_, _| Err(StoreError::Task("stop".into())));
        assert!(failed.is_err());
    }
}
