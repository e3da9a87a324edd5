//! The store's traits over [`Sealed`]: keys hidden on the way down and shown on the way up,
//! personal strings sealed on the way down and opened on the way up (see `fields`).

use super::fields::{self, Map};
use super::{keyring_error, seal_each, seal_record, Sealed, PSEUDONYM};
use crate::storage::keyring::Opened;
use crate::storage::records::{Broadcast, Citizen, Delivery};
use crate::storage::Account;
use crate::storage::{
    AuditEntry, BroadcastStore, CaseStore, CitizenKey, CitizenStore, ClosureEdit, Conversation, FaqEdit, InboundEntry,
    JournalStore, LedgerEntry, ModerationCase, OutboundEntry, Scrubbed, SentEntry, Session, StaffStore, StepEffects,
    StepWrite, Store, StoreError,
};

/// A way to seal a record's personal strings (`seal_record`, `seal_each`).
type Sealer<T> = fn(Option<&Opened>, &mut T, fn(&mut T, &mut Map<'_>));

impl<S: Store> Sealed<S> {
    /// Seals a record's personal strings with the key of `key`'s citizen, as one value.
    pub(super) fn sealed<T: Clone>(
        &self,
        key: &CitizenKey,
        value: &T,
        map: fn(&mut T, &mut Map<'_>),
    ) -> Result<T, StoreError> {
        self.sealed_by(key, value, map, seal_record)
    }

    /// Seals `value`'s personal strings with the key of `key`'s citizen, by `seal`
    /// (`seal_record`, or `seal_each` for what the store underneath takes apart).
    fn sealed_by<T: Clone>(
        &self,
        key: &CitizenKey,
        value: &T,
        map: fn(&mut T, &mut Map<'_>),
        seal: Sealer<T>,
    ) -> Result<T, StoreError> {
        let opened = self.sealer(key)?;
        let mut value = value.clone();
        seal(opened.as_deref(), &mut value, map);
        Ok(value)
    }

    pub(super) fn opened<T>(&self, mut value: T, map: fn(&mut T, &mut Map<'_>)) -> T {
        self.open_record(&mut value, map);
        value
    }

    pub(super) fn inbound_down(&self, entry: &InboundEntry) -> Result<InboundEntry, StoreError> {
        let mut e = self.sealed(&entry.key, entry, fields::inbound)?;
        e.key = self.hide(&e.key);
        Ok(e)
    }

    /// A journal entry opened, with its key as the caller wrote it, rebuilt from the
    /// message it names (hashed underneath); the hashed key when the message no longer
    /// opens.
    pub(super) fn journal_up(&self, k: Vec<u8>, e: InboundEntry) -> (Vec<u8>, InboundEntry) {
        let e = self.inbound_up(e);
        let k = match &e.message {
            Some(m) if !m.id.is_empty() => crate::storage::keys::inbound_key(m.channel.as_str(), &m.route, &m.id),
            _ => k,
        };
        (k, e)
    }

    pub(super) fn inbound_up(&self, e: InboundEntry) -> InboundEntry {
        let mut e = self.opened(e, fields::inbound);
        e.key = self.show(e.key);
        e
    }

    /// Citizens as the store underneath listed them: those whose key lives, shown.
    fn citizens_up(&self, rows: Vec<(CitizenKey, Citizen)>) -> Vec<(CitizenKey, Citizen)> {
        rows.into_iter()
            .filter(|(k, _)| self.live(k))
            .map(|(k, c)| (self.show(k), self.opened(c, fields::citizen)))
            .collect()
    }

    pub(super) fn outbound_down(&self, entry: &OutboundEntry) -> Result<OutboundEntry, StoreError> {
        let mut e = self.sealed(&entry.key, entry, fields::outbound)?;
        e.key = self.hide(&e.key);
        Ok(e)
    }

    pub(super) fn outbound_up(&self, e: OutboundEntry) -> OutboundEntry {
        let mut e = self.opened(e, fields::outbound);
        e.key = self.show(e.key);
        e
    }

    pub(super) fn case_down(&self, case: &ModerationCase) -> Result<ModerationCase, StoreError> {
        let mut c = self.sealed(&case.key, case, fields::case)?;
        c.key = self.hide(&c.key);
        Ok(c)
    }

    pub(super) fn case_up(&self, c: ModerationCase) -> ModerationCase {
        let mut c = self.opened(c, fields::case);
        c.key = self.show(c.key);
        c
    }

    /// Whether a key the store underneath returned names a citizen whose key lives.
    fn live(&self, hidden: &CitizenKey) -> bool {
        super::parse_pseudonym(&hidden.citizen).is_some_and(|p| matches!(self.ring.slot_of(&p), Ok(Some(_))))
    }

    pub(super) fn conversation_up(&self, c: Conversation) -> Conversation {
        let mut c = self.opened(c, fields::conversation);
        c.key = self.show(c.key);
        c
    }

    pub(super) fn ledger_down(&self, entry: &LedgerEntry) -> Result<LedgerEntry, StoreError> {
        let Some(citizen) = &entry.citizen else {
            return Ok(entry.clone());
        };
        let key = CitizenKey::new(&entry.comune, &entry.channel, citizen);
        let mut e = self.sealed(&key, entry, fields::ledger)?;
        let hidden = self.hide(&key).citizen;
        e.pseudonym = Some(hidden.trim_start_matches(PSEUDONYM).to_string());
        e.citizen = Some(hidden);
        Ok(e)
    }

    pub(super) fn ledger_up(&self, e: LedgerEntry) -> LedgerEntry {
        let mut e = self.opened(e, fields::ledger);
        if let Some(citizen) = e.citizen.take() {
            e.citizen = Some(self.show(CitizenKey::new(&e.comune, &e.channel, &citizen)).citizen);
            // The pseudonym is the proof's once the citizen is erased; while they are
            // known, the entry reads as it always did.
            e.pseudonym = None;
        }
        e
    }
}

impl<S: Store> CitizenStore for Sealed<S> {
    /// A record whose key was destroyed (an erasure a stop interrupted) is not found.
    fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError> {
        let hidden = self.hide(key);
        Ok(self
            .inner
            .citizen(&hidden)?
            .filter(|_| self.live(&hidden))
            .map(|c| self.opened(c, fields::citizen)))
    }

    fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError> {
        let sealed = self.sealed(key, citizen, fields::citizen)?;
        self.inner.put_citizen(&self.hide(key), &sealed)
    }

    fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError> {
        self.inner.remove_citizen(&self.hide(key))
    }

    fn put_alias(&self, other: &CitizenKey, key: &CitizenKey) -> Result<(), StoreError> {
        self.inner.put_alias(&self.hide(other), &self.hide(key))
    }

    fn alias(&self, other: &CitizenKey) -> Result<Option<CitizenKey>, StoreError> {
        Ok(self.inner.alias(&self.hide(other))?.map(|k| self.show(k)))
    }

    fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        Ok(self.citizens_up(self.inner.citizens(comune)?))
    }

    fn erasure_marked(&self, key: &CitizenKey) -> Result<bool, StoreError> {
        self.inner.erasure_marked(&self.hide(key))
    }

    fn unfinished_erasures(&self) -> Result<Vec<CitizenKey>, StoreError> {
        Ok(self
            .inner
            .unfinished_erasures()?
            .into_iter()
            .map(|k| self.show(k))
            .collect())
    }

    fn append_ledger(&self, entry: &LedgerEntry) -> Result<u64, StoreError> {
        self.inner.append_ledger(&self.ledger_down(entry)?)
    }

    fn ledger(&self, comune: &str) -> Result<Vec<(u64, LedgerEntry)>, StoreError> {
        Ok(self
            .inner
            .ledger(comune)?
            .into_iter()
            .map(|(id, e)| (id, self.ledger_up(e)))
            .collect())
    }

    /// Destroys the citizen's key first (synced), then scrubs. With `keep_outbox` and a
    /// goodbye still to send, the key is marked to be destroyed once it is sent.
    fn scrub_citizen(&self, key: &CitizenKey, keep_outbox: bool) -> Result<Scrubbed, StoreError> {
        let p = self.pseudonym(key);
        let hidden = self.hide(key);
        // The mark below removes the record: counted here.
        let had_record = self.inner.citizen(&hidden)?.is_some();
        if let Some(slot) = self.ring.slot_of(&p).map_err(keyring_error)? {
            // The erasure mark first, with the record gone: a stop after the next flush
            // finishes the erasure at the next start (`unfinished_erasures`); one before it
            // (a kill) leaves the record unreadable, and not found. A leaver's step has
            // committed both already (one write fewer per goodbye).
            if had_record || !self.inner.erasure_marked(&hidden)? {
                let mark = StepEffects {
                    erase: true,
                    ..StepEffects::default()
                };
                self.inner.commit_step(None, &hidden, None, &[], &mark)?;
            }
            let goodbye = keep_outbox && self.inner.has_pending_outbound(&hidden)?;
            if goodbye {
                self.ring.erase_after_replies(slot).map_err(keyring_error)?;
                self.awaiting().insert(p, (slot, Some(hidden.clone())));
            } else {
                self.ring.destroy(slot).map_err(keyring_error)?;
            }
        }
        let mut scrubbed = self.inner.scrub_citizen(&hidden, keep_outbox)?;
        scrubbed.citizen = scrubbed.citizen.max(usize::from(had_record));
        Ok(scrubbed)
    }

    fn mentions(&self, needle: &str) -> Result<Vec<String>, StoreError> {
        self.inner.mentions(needle)
    }

    fn bump(&self, comune: &str, month: &str, metric: &str, by: u64) -> Result<(), StoreError> {
        self.inner.bump(comune, month, metric, by)
    }

    fn counters(&self, comune: &str) -> Result<Vec<(String, String, u64)>, StoreError> {
        self.inner.counters(comune)
    }

    fn citizens_page(
        &self,
        comune: &str,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Citizen)>, StoreError> {
        let after = after.map(|k| self.hide(k));
        Ok(self.citizens_up(self.inner.citizens_page(comune, after.as_ref(), limit)?))
    }
}

impl<S: Store> JournalStore for Sealed<S> {
    fn record_inbound(&self, dedupe: &[u8], entry: &InboundEntry) -> Result<bool, StoreError> {
        self.inner
            .record_inbound(&self.hash_key(dedupe), &self.inbound_down(entry)?)
    }

    fn pending_inbound(&self) -> Result<Vec<(Vec<u8>, InboundEntry)>, StoreError> {
        Ok(self
            .inner
            .pending_inbound()?
            .into_iter()
            .map(|(k, e)| self.journal_up(k, e))
            .collect())
    }

    fn commit_step(
        &self,
        dedupe: Option<&[u8]>,
        key: &CitizenKey,
        citizen: Option<&Citizen>,
        outbound: &[OutboundEntry],
        effects: &StepEffects,
    ) -> Result<Vec<u64>, StoreError> {
        // The citizen's key looked up once for the whole step (`Sealed::in_one_step`).
        self.in_one_step(|| {
            self.seal_step(dedupe, key, citizen, outbound, effects)?
                .commit_alone(&self.inner)
        })
    }

    /// Each step sealed (its citizen's key looked up once), then all of them committed
    /// together underneath; a step that cannot be sealed fails alone.
    fn commit_steps(&self, steps: &[&StepWrite]) -> Vec<Result<Vec<u64>, StoreError>> {
        let mut results: Vec<Option<Result<Vec<u64>, StoreError>>> = Vec::with_capacity(steps.len());
        let mut sealed = Vec::with_capacity(steps.len());
        for w in steps {
            let s = self.in_one_step(|| {
                self.seal_step(w.dedupe.as_deref(), &w.key, w.citizen.as_ref(), &w.outbound, &w.effects)
            });
            match s {
                Ok(s) => {
                    sealed.push(s);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let sealed: Vec<&StepWrite> = sealed.iter().collect();
        let mut committed = self.inner.commit_steps(&sealed).into_iter();
        results
            .into_iter()
            .map(|r| {
                r.or_else(|| committed.next())
                    .unwrap_or(Err(StoreError::Task("a step's commit went missing".into())))
            })
            .collect()
    }

    fn pending_outbound(&self) -> Result<Vec<(u64, OutboundEntry)>, StoreError> {
        Ok(self
            .inner
            .pending_outbound()?
            .into_iter()
            .map(|(id, e)| (id, self.outbound_up(e)))
            .collect())
    }

    fn outbound_entry(&self, id: u64) -> Result<Option<OutboundEntry>, StoreError> {
        Ok(self.inner.outbound_entry(id)?.map(|e| self.outbound_up(e)))
    }

    fn has_pending_outbound(&self, key: &CitizenKey) -> Result<bool, StoreError> {
        self.inner.has_pending_outbound(&self.hide(key))
    }

    /// Also destroys the key of an erased citizen once their last reply is gone.
    fn outbound_done(&self, id: u64) -> Result<(), StoreError> {
        // On a shared keyring another process may have marked the key: always looked up.
        if self.awaiting().is_empty() && !self.ring.shared() {
            return self.inner.outbound_done(id);
        }
        let entry = self.inner.outbound_entry(id)?;
        self.inner.outbound_done(id)?;
        if let Some(e) = entry {
            if let Some(p) = super::parse_pseudonym(&e.key.citizen) {
                self.erase_when_replied(&p, Some(&e.key))?;
            }
        }
        Ok(())
    }

    fn mark_outbound(&self, id: u64, in_flight: bool) -> Result<Option<OutboundEntry>, StoreError> {
        Ok(self.inner.mark_outbound(id, in_flight)?.map(|e| self.outbound_up(e)))
    }

    fn prune_inbound(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        self.inner.prune_inbound(before)
    }

    fn put_sent(&self, key: &[u8], entry: &SentEntry) -> Result<(), StoreError> {
        let mut e = entry.clone();
        e.key = self.hide(&e.key);
        self.inner.put_sent(&self.hash_key(key), &e)
    }

    fn sent(&self, key: &[u8]) -> Result<Option<SentEntry>, StoreError> {
        Ok(self.inner.sent(&self.hash_key(key))?.map(|mut e| {
            e.key = self.show(e.key);
            e
        }))
    }

    fn prune_sent(&self, before: jiff::Timestamp) -> Result<usize, StoreError> {
        self.inner.prune_sent(before)
    }
}

impl<S: Store> CaseStore for Sealed<S> {
    fn add_case(&self, case: &ModerationCase) -> Result<u64, StoreError> {
        self.inner.add_case(&self.case_down(case)?)
    }

    fn case(&self, id: u64) -> Result<Option<ModerationCase>, StoreError> {
        Ok(self.inner.case(id)?.map(|c| self.case_up(c)))
    }

    fn put_case(&self, id: u64, case: &ModerationCase) -> Result<(), StoreError> {
        self.inner.put_case(id, &self.case_down(case)?)
    }

    fn cases(&self, comune: &str) -> Result<Vec<(u64, ModerationCase)>, StoreError> {
        Ok(self
            .inner
            .cases(comune)?
            .into_iter()
            .map(|(id, c)| (id, self.case_up(c)))
            .collect())
    }
}

impl<S: Store> StaffStore for Sealed<S> {
    fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        self.inner.append_audit(entry)
    }

    fn audit(&self, comune: Option<&str>) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
        self.inner.audit(comune)
    }

    fn put_account(&self, account: &Account) -> Result<(), StoreError> {
        self.inner.put_account(account)
    }

    fn account(&self, email: &str) -> Result<Option<Account>, StoreError> {
        self.inner.account(email)
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.inner.accounts()
    }

    fn remove_account(&self, email: &str) -> Result<(), StoreError> {
        self.inner.remove_account(email)
    }

    fn put_session(&self, token_sha256: &str, session: &Session) -> Result<(), StoreError> {
        self.inner.put_session(token_sha256, session)
    }

    fn session(&self, token_sha256: &str) -> Result<Option<Session>, StoreError> {
        self.inner.session(token_sha256)
    }

    fn remove_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        self.inner.remove_session(token_sha256)
    }

    fn put_conversation(&self, conversation: &Conversation) -> Result<(), StoreError> {
        let mut c = self.sealed(&conversation.key, conversation, fields::conversation)?;
        c.key = self.hide(&c.key);
        self.inner.put_conversation(&c)
    }

    fn conversation(&self, key: &CitizenKey) -> Result<Option<Conversation>, StoreError> {
        Ok(self.inner.conversation(&self.hide(key))?.map(|c| {
            let mut c = self.opened(c, fields::conversation);
            c.key = key.clone();
            c
        }))
    }

    fn conversations(&self, comune: &str) -> Result<Vec<Conversation>, StoreError> {
        Ok(self
            .inner
            .conversations(comune)?
            .into_iter()
            .filter(|c| self.live(&c.key))
            .map(|c| self.conversation_up(c))
            .collect())
    }

    fn sessions(&self) -> Result<Vec<(String, Session)>, StoreError> {
        self.inner.sessions()
    }

    fn put_faq_edit(&self, comune: &str, edit: &FaqEdit) -> Result<(), StoreError> {
        self.inner.put_faq_edit(comune, edit)
    }

    fn faq_edits(&self, comune: &str) -> Result<Vec<FaqEdit>, StoreError> {
        self.inner.faq_edits(comune)
    }

    fn put_closure(&self, comune: &str, closure: &ClosureEdit) -> Result<(), StoreError> {
        self.inner.put_closure(comune, closure)
    }

    fn closures(&self, comune: &str) -> Result<Vec<ClosureEdit>, StoreError> {
        self.inner.closures(comune)
    }
}

impl<S: Store> BroadcastStore for Sealed<S> {
    fn add_broadcast(&self, broadcast: &Broadcast) -> Result<u64, StoreError> {
        self.inner.add_broadcast(broadcast)
    }

    fn put_broadcast(&self, id: u64, broadcast: &Broadcast) -> Result<(), StoreError> {
        self.inner.put_broadcast(id, broadcast)
    }

    fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError> {
        self.inner.broadcast(id)
    }

    fn broadcasts(&self, comune: Option<&str>) -> Result<Vec<(u64, Broadcast)>, StoreError> {
        self.inner.broadcasts(comune)
    }

    fn put_deliveries(&self, id: u64, entries: &[(CitizenKey, Delivery)]) -> Result<(), StoreError> {
        let hidden: Vec<(CitizenKey, Delivery)> = entries.iter().map(|(k, d)| (self.hide(k), d.clone())).collect();
        self.inner.put_deliveries(id, &hidden)
    }

    fn delivery(&self, id: u64, key: &CitizenKey) -> Result<Option<Delivery>, StoreError> {
        self.inner.delivery(id, &self.hide(key))
    }

    fn deliveries(
        &self,
        id: u64,
        comune: &str,
        channel: Option<&str>,
        after: Option<&CitizenKey>,
        limit: usize,
    ) -> Result<Vec<(CitizenKey, Delivery)>, StoreError> {
        let after = after.map(|k| self.hide(k));
        Ok(self
            .inner
            .deliveries(id, comune, channel, after.as_ref(), limit)?
            .into_iter()
            .map(|(k, d)| (self.show(k), d))
            .collect())
    }
}

impl<S: Store> Store for Sealed<S> {
    /// The keyring with the store, side by side when the keyring has something to sync:
    /// this returns, and so anything is acknowledged, only once both are on the disk (a
    /// new key with what it sealed, an erased key's zeros with the erasure).
    fn flush(&self) -> Result<(), StoreError> {
        if !self.ring.is_dirty() {
            return self.inner.flush();
        }
        std::thread::scope(|scope| {
            let ring = scope.spawn(|| self.ring.sync());
            let store = self.inner.flush();
            let ring = ring
                .join()
                .map_err(|_| StoreError::Task("the keyring's sync panicked".into()))?;
            ring.map_err(keyring_error)?;
            store
        })
    }

    fn waits_on_network(&self) -> bool {
        self.inner.waits_on_network()
    }
}

impl<S: Store> Sealed<S> {
    /// A step's writes as they go underneath: sealed, under pseudonymous keys.
    fn seal_step(
        &self,
        dedupe: Option<&[u8]>,
        key: &CitizenKey,
        citizen: Option<&Citizen>,
        outbound: &[OutboundEntry],
        effects: &StepEffects,
    ) -> Result<StepWrite, StoreError> {
        Ok(StepWrite {
            dedupe: dedupe.map(|d| self.hash_key(d)),
            key: self.hide(key),
            citizen: citizen.map(|c| self.sealed(key, c, fields::citizen)).transpose()?,
            outbound: outbound
                .iter()
                .map(|e| self.outbound_down(e))
                .collect::<Result<Vec<_>, _>>()?,
            effects: StepEffects {
                ledger: effects
                    .ledger
                    .iter()
                    .map(|e| self.ledger_down(e))
                    .collect::<Result<_, _>>()?,
                cases: effects
                    .cases
                    .iter()
                    .map(|c| self.case_down(c))
                    .collect::<Result<_, _>>()?,
                counters: effects.counters.clone(),
                wrote: effects
                    .wrote
                    .as_ref()
                    // Taken apart into conversation lines underneath: sealed string by string.
                    .map(|w| self.sealed_by(key, w, fields::wrote, seal_each))
                    .transpose()?,
                erase: effects.erase,
            },
        })
    }
}
