//! Sealed storage (issue 24): a [`Store`] over another that never lets personal data reach
//! it in clear. Every key naming a citizen reaches the store under a pseudonym (`~` and 32
//! hex characters, a keyed hash of comune, channel and id: `Keyring::pseudonym`), and the
//! personal strings of a record (`fields`) are sealed together with that citizen's own key,
//! from the keyring, into the first of them (`seal_record`): `\u{2}`, then base64 of the
//! slot number, a nonce and the ciphertext. Provider
//! message ids used as keys (WhatsApp's encode the number) are replaced by a keyed hash.
//!
//! Erasing a citizen ([`CitizenStore::scrub_citizen`]) destroys their key first, in place
//! and synced, then scrubs the store as before: whatever the scrub cannot reach (sled's old
//! log segments, backups) can no longer be opened. A goodbye still to be sent keeps the key
//! alive until it is sent (`Keyring::erase_after_replies`).
//!
//! Callers above see what they always saw: keys with numbers, records in clear. A value
//! whose key was destroyed opens as an empty string, a key whose citizen was erased stays
//! a pseudonym.

mod fields;
use fields::Map;
pub mod migrate;
pub mod postgres;
mod replicas;
mod traits;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use super::keyring::{self, Keyring, KeyringError, Master, Opened, Pseudonym};
pub use super::sled_store::SEALED_KEY;
use super::{CitizenKey, Store, StoreError};

/// The environment variable holding the master key (64 hex characters).
pub const MASTER_KEY_ENV: &str = "SPORTELLO_MASTER_KEY";
/// The environment variable naming a file (0600) holding the master key.
pub const MASTER_KEY_FILE_ENV: &str = "SPORTELLO_MASTER_KEY_FILE";
/// The master key generated in the data directory when neither variable is set.
pub const MASTER_KEY_FILE: &str = "master.key";

/// The first character of a string sealed on its own (the form before records were sealed
/// whole; still opened).
const SEALED: char = '\u{1}';
/// The first character of a record's sealed strings (see [`seal_record`]).
const RECORD: char = '\u{2}';
/// The first character of a pseudonym in a key.
const PSEUDONYM: char = '~';
/// The first byte of a hashed provider-id key.
const HASHED: u8 = 1;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD_NO_PAD
}

fn keyring_error(e: KeyringError) -> StoreError {
    StoreError::Keyring(e.to_string())
}

/// A store that seals personal data with per-citizen keys (see the module). Cheap to clone
/// when `S` is.
#[derive(Clone)]
pub struct Sealed<S> {
    inner: S,
    ring: Arc<Keyring>,
    /// Slots to erase once their last reply is sent: pseudonym -> (slot, the citizen's key
    /// underneath, when known).
    awaiting: Arc<Mutex<HashMap<Pseudonym, Awaiting>>>,
    /// Pseudonyms computed lately (see [`Sealed::named`]).
    names: Arc<Mutex<Names>>,
}

/// Citizens' keys -> their pseudonym and its form in keys.
type Names = HashMap<CitizenKey, (Pseudonym, Arc<str>)>;

/// The keyring (by address) of a step being written, and the last citizen whose key was
/// looked up in it, with that key.
type StepMemo = (usize, Option<(CitizenKey, Arc<Opened>)>);

thread_local! {
    /// While a step is written ([`Sealed::in_one_step`]): the keyring (by address), the
    /// last citizen whose key was looked up, and that key.
    static STEP: std::cell::RefCell<Option<StepMemo>> = const { std::cell::RefCell::new(None) };
}

/// A slot waiting for its last reply, and the citizen's key underneath when known.
type Awaiting = (u32, Option<CitizenKey>);

/// How many pseudonyms [`Sealed`] keeps computed (a few megabytes).
const NAMES: usize = 16_384;

impl<S: Store> Sealed<S> {
    /// Seals over `inner` with `ring`; erases the keys whose last reply was sent before a
    /// stop.
    pub fn new(inner: S, ring: Keyring) -> Result<Sealed<S>, StoreError> {
        let sealed = Sealed {
            inner,
            ring: Arc::new(ring),
            awaiting: Arc::default(),
            names: Arc::default(),
        };
        for (slot, p) in sealed.ring.awaiting_replies().map_err(keyring_error)? {
            sealed.awaiting().insert(p, (slot, None));
            sealed.erase_when_replied(&p, None)?;
        }
        Ok(sealed)
    }

    /// The store underneath (sealed values, pseudonymous keys): for backups.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// How the store underneath names a citizen (for tools and tests that read its records).
    pub fn hidden_key(&self, key: &CitizenKey) -> CitizenKey {
        self.hide(key)
    }

    /// How the store underneath keys a journal or sent entry (`keys::inbound_key`,
    /// `keys::sent_key`), for tools and tests that read its records.
    pub fn hidden_id(&self, key: &[u8]) -> Vec<u8> {
        self.hash_key(key)
    }

    pub fn keyring(&self) -> &Keyring {
        &self.ring
    }

    fn awaiting(&self) -> std::sync::MutexGuard<'_, HashMap<Pseudonym, Awaiting>> {
        self.awaiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pseudonym a key names (computed, or read from a key that is one already).
    fn pseudonym(&self, key: &CitizenKey) -> Pseudonym {
        parse_pseudonym(&key.citizen).unwrap_or_else(|| self.named(key).0)
    }

    /// A citizen's pseudonym and its form in keys, from a bounded cache (a step asks for
    /// them several times; each is an HMAC).
    fn named(&self, key: &CitizenKey) -> (Pseudonym, Arc<str>) {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hit) = names.get(key) {
            return hit.clone();
        }
        let p = self.ring.pseudonym(&key.comune, &key.channel, &key.citizen);
        let hidden: Arc<str> = in_key(&p).into();
        if names.len() >= NAMES {
            names.clear();
        }
        names.insert(key.clone(), (p, hidden.clone()));
        (p, hidden)
    }

    /// The key as the store underneath knows it. An anonymized key (no citizen) stays so.
    fn hide(&self, key: &CitizenKey) -> CitizenKey {
        if key.citizen.is_empty() || key.citizen.starts_with(PSEUDONYM) {
            return key.clone();
        }
        CitizenKey::new(&key.comune, &key.channel, &self.named(key).1)
    }

    /// The key with its citizen's id again, while their key lives.
    fn show(&self, key: CitizenKey) -> CitizenKey {
        match parse_pseudonym(&key.citizen).and_then(|p| self.ring.opened(&p).ok().flatten()) {
            Some(opened) => CitizenKey::new(&key.comune, &key.channel, &opened.id),
            None => key,
        }
    }

    /// The citizen's key to seal with, created when they have none. `None` for a key that
    /// is only a pseudonym whose citizen was erased: nothing personal is written for them.
    fn sealer(&self, key: &CitizenKey) -> Result<Option<Arc<Opened>>, StoreError> {
        if key.citizen.is_empty() {
            return Ok(None);
        }
        // A key the store underneath would refuse is refused here too (0x00 in a part).
        key.encode()?;
        if let Some(p) = parse_pseudonym(&key.citizen) {
            return self.ring.opened(&p).map_err(keyring_error);
        }
        let ring = Arc::as_ptr(&self.ring) as usize;
        let memo = STEP.with(|m| match &*m.borrow() {
            Some((r, Some((k, o)))) if *r == ring && k == key => Some(o.clone()),
            _ => None,
        });
        if let Some(opened) = memo {
            return Ok(Some(opened));
        }
        let p = self.named(key).0;
        let slot = self.ring.ensure(&p, &key.citizen).map_err(keyring_error)?;
        let opened = self.ring.open_slot(slot).map_err(keyring_error)?;
        if let Some(o) = &opened {
            STEP.with(|m| {
                if let Some((r, memo)) = m.borrow_mut().as_mut() {
                    if *r == ring {
                        *memo = Some((key.clone(), o.clone()));
                    }
                }
            });
        }
        Ok(opened)
    }

    /// Runs `f` (one step's writes) remembering the key [`Sealed::sealer`] finds for a
    /// citizen, so that the record, the replies, the ledger and the cases of one step look
    /// the citizen's key up once (on PostgreSQL each lookup is a round trip).
    pub(super) fn in_one_step<T>(&self, f: impl FnOnce() -> T) -> T {
        /// Forgets the step's memo however `f` ends (a panic included).
        struct Forget;
        impl Drop for Forget {
            fn drop(&mut self) {
                STEP.with(|m| *m.borrow_mut() = None);
            }
        }
        let ring = Arc::as_ptr(&self.ring) as usize;
        STEP.with(|m| *m.borrow_mut() = Some((ring, None)));
        let _forget = Forget;
        f()
    }

    /// A provider id key (journal, sent) with the id replaced by its keyed hash; one hashed
    /// already stays as it is.
    fn hash_key(&self, key: &[u8]) -> Vec<u8> {
        if key.first() == Some(&HASHED) {
            return key.to_vec();
        }
        let mut out = vec![HASHED];
        out.extend_from_slice(&self.ring.keyed_hash(key));
        out
    }

    /// Destroys the key of `p` waiting for its replies once none is left in the outbox.
    /// `sent_to`: the citizen's key underneath, when a reply to them was just sent. On a
    /// keyring other processes share, the mark is looked up there too (the process that
    /// made it may be another, or stopped).
    fn erase_when_replied(&self, p: &Pseudonym, sent_to: Option<&CitizenKey>) -> Result<(), StoreError> {
        let found = match self.awaiting().get(p).cloned() {
            Some(found) => Some(found),
            None if self.ring.shared() => self
                .ring
                .awaiting_slot(p)
                .map_err(keyring_error)?
                .map(|slot| (slot, sent_to.cloned())),
            None => None,
        };
        let Some((slot, key)) = found else {
            return Ok(());
        };
        let pending = match key.as_ref().or(sent_to) {
            Some(key) => self.inner.has_pending_outbound(key)?,
            // Listed by the keyring at start, by pseudonym only: the outbox is read.
            None => {
                let hidden = in_key(p);
                self.inner
                    .pending_outbound()?
                    .iter()
                    .any(|(_, e)| e.key.citizen == hidden)
            }
        };
        if pending {
            return Ok(());
        }
        self.ring.destroy(slot).map_err(keyring_error)?;
        self.awaiting().remove(p);
        Ok(())
    }

    /// Erases every citizen whose key no longer lives (erased after the backup just
    /// restored was taken, or never in this keyring): their records, conversations, cases,
    /// journal and outbox entries go, and their ledger entries keep only the anonymous
    /// proof. Returns how many were erased.
    pub fn forget_unreadable(&self, keys: impl IntoIterator<Item = CitizenKey>) -> Result<usize, StoreError> {
        let mut erased = 0;
        for key in keys {
            let Some(p) = parse_pseudonym(&key.citizen) else {
                continue;
            };
            if self.ring.slot_of(&p).map_err(keyring_error)?.is_none() {
                self.inner.scrub_citizen(&key, false)?;
                erased += 1;
            }
        }
        Ok(erased)
    }
}

/// Seals a record's personal strings (those `map` visits) as one sealed value: the first
/// holds `\u{2}` and base64 of the slot, a nonce and the ciphertext of every string
/// (each a 4-byte length and its bytes), the others are left empty. One nonce and one tag
/// per record, not per string: records stay close to their size in clear. With no key
/// (a citizen already erased) every string is emptied; a record of empty strings stays so.
fn seal_record<T>(opened: Option<&Opened>, value: &mut T, map: fn(&mut T, &mut Map<'_>)) {
    let mut plain = Vec::new();
    let mut any = false;
    map(value, &mut |s: &mut String| {
        any |= !s.is_empty();
        plain.extend_from_slice(&(s.len() as u32).to_le_bytes());
        plain.extend_from_slice(std::mem::take(s).as_bytes());
    });
    let Some(o) = opened.filter(|_| any) else {
        return;
    };
    let sealed = keyring::seal(o, &plain);
    let mut blob = String::with_capacity(1 + sealed.len() * 4 / 3 + 4);
    blob.push(RECORD);
    b64().encode_string(sealed, &mut blob);
    let mut first = Some(blob);
    map(value, &mut |s: &mut String| {
        if let Some(blob) = first.take() {
            *s = blob;
        }
    });
}

/// Seals each personal string of a record on its own (`\u{1}`, then base64 of the slot, a
/// nonce and the ciphertext): for what the store underneath takes apart into a record of
/// another kind (what a citizen wrote to the desk becomes conversation lines), where one
/// sealed value for the whole would no longer sit in front of the strings it holds. Empty
/// stays empty; with no key every string is emptied.
fn seal_each<T>(opened: Option<&Opened>, value: &mut T, map: fn(&mut T, &mut Map<'_>)) {
    map(value, &mut |s: &mut String| {
        if s.is_empty() {
            return;
        }
        *s = match opened {
            Some(o) => {
                let mut out = String::with_capacity(1 + (s.len() + 44) * 4 / 3 + 4);
                out.push(SEALED);
                b64().encode_string(keyring::seal(o, s.as_bytes()), &mut out);
                out
            }
            None => String::new(),
        };
    });
}

/// The strings a record's sealed value held, in `map`'s order.
fn unpack(plain: &[u8]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = plain;
    while !rest.is_empty() {
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let bytes = rest.get(4..4 + len)?;
        out.push(String::from_utf8(bytes.to_vec()).ok()?);
        rest = &rest[4 + len..];
    }
    Some(out)
}

impl<S> Sealed<S> {
    /// Opens a record, in `map`'s order: a value [`seal_record`] sealed gives itself and
    /// the strings after it (which it left empty) what they held; a string sealed on its
    /// own ([`seal_each`], or by the build before records were sealed whole) opens alone; a
    /// string in clear stays. So a record the store underneath grew from pieces sealed
    /// apart (a conversation sealed whole, then lines appended from what the citizen wrote)
    /// opens whole. Everything reads empty once its key was destroyed.
    fn open_record<T>(&self, value: &mut T, map: fn(&mut T, &mut Map<'_>)) {
        let mut covered = Vec::new().into_iter();
        map(value, &mut |s: &mut String| {
            if let Some(next) = covered.next() {
                *s = next;
            } else if let Some(rest) = s.strip_prefix(RECORD) {
                let strings = self.open_bytes(rest).and_then(|plain| unpack(&plain));
                covered = strings.unwrap_or_default().into_iter();
                *s = covered.next().unwrap_or_default();
            } else {
                self.open_str(s);
            }
        });
    }

    /// What base64 of a sealed value held, while its key lives.
    fn open_bytes(&self, base64: &str) -> Option<Vec<u8>> {
        let bytes = b64().decode(base64).ok()?;
        let slot = keyring::slot_in(&bytes)?;
        let o = self.ring.open_slot(slot).ok().flatten()?;
        keyring::open(&o, &bytes)
    }

    /// What a string sealed on its own (`\u{1}`, before records were sealed whole) held;
    /// empty once its key was destroyed. A string in clear is left as it is.
    fn open_str(&self, value: &mut String) {
        let Some(rest) = value.strip_prefix(SEALED) else {
            return;
        };
        *value = self
            .open_bytes(rest)
            .and_then(|plain| String::from_utf8(plain).ok())
            .unwrap_or_default();
    }
}

/// A pseudonym as a key's citizen part (the reverse of [`parse_pseudonym`]).
fn in_key(p: &Pseudonym) -> String {
    format!("{PSEUDONYM}{}", keyring::hex(p))
}

/// The pseudonym in a key's citizen part, when it is one.
fn parse_pseudonym(citizen: &str) -> Option<Pseudonym> {
    let hex = citizen.strip_prefix(PSEUDONYM)?;
    if hex.len() != 32 {
        return None;
    }
    let mut p = [0u8; 16];
    for (i, byte) in p.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(p)
}

/// The master key from `SPORTELLO_MASTER_KEY`, else from the file `SPORTELLO_MASTER_KEY_FILE`
/// names, else from `master.key` in the data directory, generated (0600) on first use: only
/// while the directory has no keyring (one made with a key from the environment is never
/// given a new one).
/// Returns the key and where it came from (for the start-up message; never the key).
pub fn master_key(data: &Path) -> Result<(Master, MasterSource), StoreError> {
    master_key_for(data, keyring::path_in(data).exists(), &data.display().to_string())
}

/// [`master_key`] for a keyring that may live elsewhere (`place`, for the message): a
/// `master.key` is generated in `data` only while `has_keyring` is false.
pub fn master_key_for(data: &Path, has_keyring: bool, place: &str) -> Result<(Master, MasterSource), StoreError> {
    if let Ok(hex) = std::env::var(MASTER_KEY_ENV) {
        if !hex.trim().is_empty() {
            return Ok((Master::from_hex(&hex).map_err(keyring_error)?, MasterSource::Env));
        }
    }
    if let Some(path) = std::env::var_os(MASTER_KEY_FILE_ENV).filter(|p| !p.is_empty()) {
        let path = std::path::PathBuf::from(path);
        let master = Master::from_file(&path).map_err(keyring_error)?;
        return Ok((master, MasterSource::File(path)));
    }
    let path = data.join(MASTER_KEY_FILE);
    if !path.exists() && has_keyring {
        // A new key would never open this keyring: its key was given another way.
        return Err(StoreError::Config(format!(
            "the keyring in {place} needs its master key: set {MASTER_KEY_ENV} or {MASTER_KEY_FILE_ENV} as the \
             service has them"
        )));
    }
    if !path.exists() {
        std::fs::create_dir_all(data).map_err(|source| StoreError::Io {
            what: format!("cannot create {}", data.display()),
            source,
        })?;
        match write_master_key(&path, &Master::generate_hex()) {
            // Another process starting on the same directory wrote it first: theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            written => written.map_err(|source| StoreError::Io {
                what: format!("cannot write {}", path.display()),
                source,
            })?,
        }
    }
    let master = Master::from_file(&path).map_err(keyring_error)?;
    Ok((master, MasterSource::Generated(path)))
}

/// Where [`master_key`] found the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterSource {
    /// `SPORTELLO_MASTER_KEY`.
    Env,
    /// The file `SPORTELLO_MASTER_KEY_FILE` names.
    File(std::path::PathBuf),
    /// `master.key` in the data directory, generated on first start.
    Generated(std::path::PathBuf),
}

impl std::fmt::Display for MasterSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterSource::Env => f.write_str(MASTER_KEY_ENV),
            MasterSource::File(path) | MasterSource::Generated(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Writes a master key (hex) to a new file only its owner may read, synced; refuses a
/// file that exists. The file appears whole or not at all (written under another name,
/// then linked to its own): two processes starting together on one data directory both
/// end up with the one that got there first.
pub fn write_master_key(path: &Path, hex: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.partial", std::process::id()));
    let partial = std::path::PathBuf::from(name);
    let written = (|| {
        let mut file = super::create_private(&partial)?;
        file.write_all(hex.as_bytes())?;
        file.sync_all()?;
        std::fs::hard_link(&partial, path)
    })();
    let _ = std::fs::remove_file(&partial);
    written
}

/// The keyring of a data directory, with the master key [`master_key`] finds.
/// A rotation of the generated `master.key` stopped after the keyring was rewrapped and
/// before the new key took the old one's name: the new key (`master.key.new`) is taken.
pub fn keyring_in(data: &Path) -> Result<Keyring, StoreError> {
    let (master, source) = master_key(data)?;
    let path = keyring::path_in(data);
    let default = data.join(MASTER_KEY_FILE);
    let next = default.with_extension("key.new");
    match Keyring::open(&path, master) {
        Err(KeyringError::WrongMaster(_)) if next.is_file() && matches!(source, MasterSource::Generated(_)) => {
            let ring = Keyring::open(&path, Master::from_file(&next).map_err(keyring_error)?).map_err(keyring_error)?;
            std::fs::rename(&next, &default).map_err(|source| StoreError::Io {
                what: format!("cannot rename {}", next.display()),
                source,
            })?;
            Ok(ring)
        }
        opened => opened.map_err(keyring_error),
    }
}

#[cfg(test)]
mod tests;
