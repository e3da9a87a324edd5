//! The keyring of issue 24 (erasure that reaches the disk): one key per citizen, kept in a
//! file of fixed-size slots that an erasure overwrites in place and syncs, so the key's
//! bytes are gone from the disk at once and whatever was sealed with it (in the live store,
//! in its old log segments, in every backup) can no longer be read. `storage::sealed` seals
//! with these keys.
//!
//! The file (`<data>/keyring`): a header of [`HEADER`] bytes (magic, then the pepper of the
//! pseudonyms wrapped with the master key: a wrong master key is refused at open), then
//! slots of [`SLOT`] bytes:
//!
//! | bytes | what |
//! |---|---|
//! | 0 | state: 0 free (zeros, not handed out yet), 1 live, 2 erased, 3 live until its last pending reply is sent, then erased |
//! | 1..17 | the citizen's pseudonym (a keyed hash of comune, channel and id; not personal) |
//! | 17..41 | a random nonce |
//! | 41..154 | sealed with the master key: the citizen key (32), the id's length (1) and the id (64, padded) |
//! | 154..160 | zeros |
//!
//! An erased slot keeps its state and pseudonym, and zeros everywhere else: the list of
//! erased pseudonyms, without personal data, that a restore re-applies. A slot's number is
//! not secret; the key in it is useless without the master key, so the keyring file alone
//! opens nothing, and the master key alone opens nothing erased.
//!
//! The master key (32 bytes, hex) comes from `SPORTELLO_MASTER_KEY`, or from a file only its
//! owner may read (0600). Rotation rewraps every live slot and the pepper under a new master
//! key, in a new file moved over the old one: pseudonyms, slot numbers and everything
//! sealed stay as they are. Losing the master key loses every citizen's sealed data.
//!
//! Must not: log a key or an id, keep a destroyed key anywhere, reuse a destroyed slot.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};

/// The file's first bytes.
const MAGIC: &[u8; 8] = b"SPKRING2";
/// Magic, then the pepper (32 bytes) wrapped with the master key: nonce 24, pepper, tag 16.
pub const HEADER: usize = 8 + 24 + 32 + 16;
/// One slot (see the module's table).
pub const SLOT: usize = 160;
/// The longest id a slot holds, in bytes (a number is 15 digits, a BSUID about 20).
pub const ID_MAX: usize = 64;
const SEALED_AT: usize = 41;
const SEALED_LEN: usize = 32 + 1 + ID_MAX + 16;

/// A slot not handed out yet (zeros), or one whose write a crash lost before it was synced.
const FREE: u8 = 0;
pub(crate) const LIVE: u8 = 1;
pub(crate) const ERASED: u8 = 2;
pub(crate) const ERASE_AFTER_REPLIES: u8 = 3;

/// How many opened slots [`Keyring`] keeps in memory by default (a few hundred kilobytes;
/// [`Keyring::keep_opened`] sets another number).
pub const CACHE: usize = 4096;

/// How many slots of zeros the file grows by when it is full (80 KiB). A new slot is then
/// written over bytes the file already has: its sync writes the data without changing the
/// file's size (measured on this disk: 136 µs against 249 µs for a sync after an append).
const GROW: u32 = 512;

/// A citizen's pseudonym: the first 16 bytes of an HMAC-SHA256.
pub type Pseudonym = [u8; 16];

/// A keyring as bytes: its header and every slot handed out, by number (what `sportello
/// migrate` copies from a file into PostgreSQL).
pub type Exported = ([u8; HEADER], Vec<(u32, [u8; SLOT])>);

/// What can go wrong with the keyring.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("keyring file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not a sportello keyring")]
    NotAKeyring(PathBuf),
    #[error("the master key does not open the keyring in {0}: it was made with another one (the master key comes from SPORTELLO_MASTER_KEY, else SPORTELLO_MASTER_KEY_FILE, else master.key in the data directory)")]
    WrongMaster(PathBuf),
    #[error("the master key must be 64 hexadecimal characters (32 bytes)")]
    BadMaster,
    #[error("the master key file {0} can be read by others than its owner: make it 0600")]
    MasterFileOpen(PathBuf),
    #[error("slot {0} does not exist")]
    NoSlot(u32),
    #[error("slot {0} is unreadable")]
    Unreadable(u32),
    #[error("an id longer than {ID_MAX} bytes cannot be sealed")]
    IdTooLong,
    #[error("the keyring in the database: {0}")]
    Database(String),
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// A live slot, opened: the citizen's cipher and id.
pub struct Opened {
    pub slot: u32,
    pub pseudonym: Pseudonym,
    /// The citizen's id on their channel (a number, a BSUID, a chat id).
    pub id: String,
    pub cipher: XChaCha20Poly1305,
}

impl Opened {
    fn new(slot: u32, pseudonym: Pseudonym, id: String, key: &[u8; 32]) -> Opened {
        Opened {
            slot,
            pseudonym,
            id,
            cipher: XChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Opened(slot {}, …)", self.slot)
    }
}

/// Where a keyring's slots live: a file of the data directory ([`file::FileSlots`]), or
/// PostgreSQL's tables for a service on PostgreSQL (`storage::postgres::keyring`). Slots
/// hold the bytes of the module's table; the state and the pseudonym are read from them.
pub trait Slots: Send + Sync {
    /// Where the slots are, for messages (a path, or the database).
    fn place(&self) -> PathBuf;
    /// The header in force: `fresh` when there was none (now written), else the one found
    /// (another process may have written it first).
    fn header(&self, fresh: &[u8; HEADER]) -> Result<[u8; HEADER], KeyringError>;
    /// The live slot of a pseudonym.
    fn live(&self, pseudonym: &Pseudonym) -> Result<Option<u32>, KeyringError>;
    /// A new slot holding `raw` (live, for `pseudonym`), unless the pseudonym has a live
    /// one already: (the live slot, whether it is the new one).
    fn create(&self, pseudonym: &Pseudonym, raw: &[u8; SLOT]) -> Result<(u32, bool), KeyringError>;
    /// A slot's bytes ([`KeyringError::NoSlot`] when there is no such slot).
    fn read(&self, slot: u32) -> Result<[u8; SLOT], KeyringError>;
    /// Overwrites a slot with its erased form ([`erased_slot`]: its state and pseudonym,
    /// zeros elsewhere).
    fn destroy(&self, slot: u32) -> Result<(), KeyringError>;
    /// A live slot marked [`ERASE_AFTER_REPLIES`]: it no longer names its citizen. Other
    /// states are left as they are.
    fn mark(&self, slot: u32) -> Result<(), KeyringError>;
    /// Every slot handed out with its state: (slot, pseudonym, state).
    fn scan(&self) -> Result<Vec<(u32, Pseudonym, u8)>, KeyringError>;
    /// Every slot handed out in `state`: (slot, pseudonym).
    fn in_state(&self, state: u8) -> Result<Vec<(u32, Pseudonym)>, KeyringError> {
        Ok(self
            .scan()?
            .into_iter()
            .filter(|(_, _, s)| *s == state)
            .map(|(slot, p, _)| (slot, p))
            .collect())
    }
    /// (live, erased) slots: live counts those waiting for their last reply too.
    fn counts(&self) -> Result<(usize, usize), KeyringError> {
        let all = self.scan()?;
        let erased = all.iter().filter(|(_, _, s)| *s == ERASED).count();
        let live = all
            .iter()
            .filter(|(_, _, s)| *s == LIVE || *s == ERASE_AFTER_REPLIES)
            .count();
        Ok((live, erased))
    }
    /// The slot of `pseudonym` waiting for its last reply ([`ERASE_AFTER_REPLIES`]), if any.
    fn marked(&self, pseudonym: &Pseudonym) -> Result<Option<u32>, KeyringError> {
        Ok(self
            .scan()?
            .into_iter()
            .find(|(_, p, s)| p == pseudonym && *s == ERASE_AFTER_REPLIES)
            .map(|(slot, _, _)| slot))
    }
    /// Slots handed out, live or erased.
    fn count(&self) -> Result<u32, KeyringError>;
    /// Whether other processes use these slots too.
    fn shared(&self) -> bool {
        false
    }
    /// Whether something was written that [`Slots::sync`] has yet to make durable.
    fn is_dirty(&self) -> bool;
    /// Makes every write so far durable.
    fn sync(&self) -> Result<(), KeyringError>;
    /// Replaces the header and every slot by what `rewrap` makes of it, at once (a crash
    /// leaves the old ones or the new ones): a master key rotation.
    fn rewrap(
        self: Box<Self>,
        header: &[u8; HEADER],
        rewrap: &mut dyn FnMut(u32, [u8; SLOT]) -> Result<[u8; SLOT], KeyringError>,
    ) -> Result<Box<dyn Slots>, KeyringError>;
}

/// Opened slots kept in memory, and how many erasures this process made: an opening that
/// read its slot before an erasure is not cached after it.
struct Cache {
    opened: HashMap<u32, Arc<Opened>>,
    erasures: u64,
    /// The most kept.
    capacity: usize,
}

impl Default for Cache {
    fn default() -> Cache {
        Cache {
            opened: HashMap::new(),
            erasures: 0,
            capacity: CACHE,
        }
    }
}

/// The keyring: its slots, the master key that unwraps them and the pepper.
pub struct Keyring {
    slots: Box<dyn Slots>,
    master: Master,
    pepper: Hmac<sha2::Sha256>,
    cache: Mutex<Cache>,
}

impl Keyring {
    /// Opens the keyring file at `path`, creating it (0600) with a new pepper when absent;
    /// refuses a file made with another master key.
    pub fn open(path: &Path, master: Master) -> Result<Keyring, KeyringError> {
        Keyring::over(Box::new(file::FileSlots::open(path)?), master)
    }

    /// A keyring over `slots`, given a header with a new pepper when they have none;
    /// refuses slots made with another master key.
    pub fn over(slots: Box<dyn Slots>, master: Master) -> Result<Keyring, KeyringError> {
        let cipher = master.cipher();
        let pepper: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
        let header = slots.header(&wrap_header(&cipher, &pepper))?;
        if &header[..8] != MAGIC {
            return Err(KeyringError::NotAKeyring(slots.place()));
        }
        let plain = cipher
            .decrypt(XNonce::from_slice(&header[8..32]), &header[32..])
            .map_err(|_| KeyringError::WrongMaster(slots.place()))?;
        let pepper: [u8; 32] = plain.try_into().map_err(|_| KeyringError::NotAKeyring(slots.place()))?;
        Ok(Keyring {
            slots,
            master,
            pepper: <Hmac<sha2::Sha256> as Mac>::new_from_slice(&pepper).expect("any key length"),
            cache: Mutex::default(),
        })
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pseudonym of a citizen's identity (`comune`, `channel`, number or id): HMAC-SHA256
    /// under the keyring's pepper, 16 bytes. Stable across master key rotations, not
    /// reversible without the pepper: what store keys and the anonymous proof of consent
    /// carry instead of the number.
    pub fn pseudonym(&self, comune: &str, channel: &str, id: &str) -> Pseudonym {
        let mut mac = self.pepper.clone();
        for part in [comune, channel, id] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        let mut p = [0u8; 16];
        p.copy_from_slice(&mac.finalize().into_bytes()[..16]);
        p
    }

    /// A keyed hash of other bytes that may hold personal data (a provider's message id,
    /// which for WhatsApp encodes the number), 16 bytes.
    pub fn keyed_hash(&self, bytes: &[u8]) -> [u8; 16] {
        let mut mac = self.pepper.clone();
        mac.update(b"bytes\0");
        mac.update(bytes);
        let mut p = [0u8; 16];
        p.copy_from_slice(&mac.finalize().into_bytes()[..16]);
        p
    }

    /// Slots handed out, live or erased.
    pub fn slots(&self) -> Result<u32, KeyringError> {
        self.slots.count()
    }

    /// The live slot of a pseudonym.
    pub fn slot_of(&self, pseudonym: &Pseudonym) -> Result<Option<u32>, KeyringError> {
        self.slots.live(pseudonym)
    }

    /// The live slot of a pseudonym, created (with a new key, holding `id`) when there is
    /// none; durable at the next [`Keyring::sync`].
    pub fn ensure(&self, pseudonym: &Pseudonym, id: &str) -> Result<u32, KeyringError> {
        if id.len() > ID_MAX {
            return Err(KeyringError::IdTooLong);
        }
        if let Some(slot) = self.slots.live(pseudonym)? {
            return Ok(slot);
        }
        let key: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
        let raw = wrap(&self.master, LIVE, pseudonym, &key, id)?;
        let erasures = self.cache().erasures;
        let (slot, created) = self.slots.create(pseudonym, &raw)?;
        if created {
            // Opened at once, as the caller is about to seal with it.
            self.remember(erasures, Arc::new(Opened::new(slot, *pseudonym, id.to_string(), &key)));
        }
        Ok(slot)
    }

    /// The key and id in `slot`; `None` once erased.
    pub fn open_slot(&self, slot: u32) -> Result<Option<Arc<Opened>>, KeyringError> {
        let erasures = {
            let cache = self.cache();
            if let Some(hit) = cache.opened.get(&slot) {
                return Ok(Some(hit.clone()));
            }
            cache.erasures
        };
        let raw = self.slots.read(slot)?;
        if raw[0] != LIVE && raw[0] != ERASE_AFTER_REPLIES {
            return Ok(None);
        }
        let (key, id) = self.unwrap(slot, &raw)?;
        let opened = Arc::new(Opened::new(slot, pseudonym_of(&raw), id, &key));
        if raw[0] == LIVE {
            self.remember(erasures, opened.clone());
        }
        Ok(Some(opened))
    }

    /// Keeps at most `capacity` slots opened from now on (at least 16).
    pub fn keep_opened(&self, capacity: usize) {
        self.cache().capacity = capacity.max(16);
    }

    /// Keeps a slot opened in the cache (its capacity at most: emptied when full), unless this
    /// process erased a slot since `erasures` was read (the slot read may be that one).
    fn remember(&self, erasures: u64, opened: Arc<Opened>) {
        let mut cache = self.cache();
        if cache.erasures != erasures {
            return;
        }
        if cache.opened.len() >= cache.capacity {
            cache.opened.clear();
        }
        cache.opened.insert(opened.slot, opened);
    }

    /// `slot` no longer stays opened in the cache, and no opening that read it before
    /// caches it after.
    fn forget(&self, slot: u32) {
        let mut cache = self.cache();
        cache.erasures += 1;
        cache.opened.remove(&slot);
    }

    /// The live slot of a pseudonym, opened.
    pub fn opened(&self, pseudonym: &Pseudonym) -> Result<Option<Arc<Opened>>, KeyringError> {
        match self.slot_of(pseudonym)? {
            Some(slot) => self.open_slot(slot),
            None => Ok(None),
        }
    }

    /// Erases the key in `slot`: the slot overwritten in place (its state and pseudonym
    /// kept, zeros elsewhere) before this returns, durable at the next [`Keyring::sync`]
    /// (which the sealed store runs before anything is acknowledged). Erasing twice is
    /// harmless.
    pub fn destroy(&self, slot: u32) -> Result<(), KeyringError> {
        // Before: an opening that read the slot live is not cached. After: nor one that
        // read it while it was being overwritten.
        self.forget(slot);
        self.slots.destroy(slot)?;
        self.forget(slot);
        Ok(())
    }

    /// Marks `slot` to be erased once its last pending reply (a goodbye) is sent or given
    /// up: [`Keyring::awaiting_replies`] lists it again after a restart. The citizen no
    /// longer has a key ([`Keyring::slot_of`] finds none): one who writes again gets a new
    /// one, and this one still opens the replies it sealed until [`Keyring::destroy`].
    pub fn erase_after_replies(&self, slot: u32) -> Result<(), KeyringError> {
        self.slots.mark(slot)?;
        // Kept out of the cache, which holds live keys only.
        self.forget(slot);
        Ok(())
    }

    /// Whether a slot was written since the last [`Keyring::sync`].
    pub fn is_dirty(&self) -> bool {
        self.slots.is_dirty()
    }

    /// Makes every slot written so far durable (on a file, one `fdatasync`, skipped when
    /// nothing was written since the last): the sealed store runs it with its own flush,
    /// so nothing is acknowledged before the keys it sealed with are on the disk, and no
    /// erasure before its key's bytes are overwritten there.
    pub fn sync(&self) -> Result<(), KeyringError> {
        self.slots.sync()
    }

    /// Slots waiting for their last reply before they are erased.
    pub fn awaiting_replies(&self) -> Result<Vec<(u32, Pseudonym)>, KeyringError> {
        self.slots.in_state(ERASE_AFTER_REPLIES)
    }

    /// The slot of `pseudonym` waiting for its last reply, if any.
    /// Asked for that one slot: on PostgreSQL, after every reply sent, listing every slot
    /// waiting took a millisecond once a few thousand citizens had left.
    pub fn awaiting_slot(&self, pseudonym: &Pseudonym) -> Result<Option<u32>, KeyringError> {
        self.slots.marked(pseudonym)
    }

    /// Whether other processes share these slots (PostgreSQL): one may erase a key, or
    /// mark it to be erased, without this one knowing.
    pub fn shared(&self) -> bool {
        self.slots.shared()
    }

    /// The pseudonyms of erased citizens (a citizen erased twice is there twice).
    pub fn erased(&self) -> Result<Vec<Pseudonym>, KeyringError> {
        Ok(self.slots.in_state(ERASED)?.into_iter().map(|(_, p)| p).collect())
    }

    /// (live, erased) slots.
    pub fn counts(&self) -> Result<(usize, usize), KeyringError> {
        self.slots.counts()
    }

    /// A live slot's key and id, unwrapped with the master key.
    fn unwrap(&self, slot: u32, raw: &[u8; SLOT]) -> Result<([u8; 32], String), KeyringError> {
        unwrap_with(&self.master, slot, raw)
    }

    /// A live slot's key itself (the tests check it never reaches the file in clear).
    #[cfg(test)]
    fn unwrapped_key(&self, slot: u32) -> Result<[u8; 32], KeyringError> {
        Ok(self.unwrap(slot, &self.slots.read(slot)?)?.0)
    }
}

/// A live slot's key and id, unwrapped with `master`.
fn unwrap_with(master: &Master, slot: u32, raw: &[u8; SLOT]) -> Result<([u8; 32], String), KeyringError> {
    let plain = master
        .cipher()
        .decrypt(
            XNonce::from_slice(&raw[17..41]),
            &raw[SEALED_AT..SEALED_AT + SEALED_LEN],
        )
        .map_err(|_| KeyringError::Unreadable(slot))?;
    let len = (plain[32] as usize).min(ID_MAX);
    let id = String::from_utf8(plain[33..33 + len].to_vec()).map_err(|_| KeyringError::Unreadable(slot))?;
    let mut key = [0u8; 32];
    key.copy_from_slice(&plain[..32]);
    Ok((key, id))
}

/// An erased slot's bytes: its state and pseudonym, zeros elsewhere.
pub fn erased_slot(raw: &[u8; SLOT]) -> [u8; SLOT] {
    let mut erased = [0u8; SLOT];
    erased[0] = ERASED;
    erased[1..17].copy_from_slice(&raw[1..17]);
    erased
}

/// A slot's bytes: its state and pseudonym, and the key and id wrapped with `master`.
fn wrap(
    master: &Master,
    state: u8,
    pseudonym: &Pseudonym,
    key: &[u8; 32],
    id: &str,
) -> Result<[u8; SLOT], KeyringError> {
    let mut plain = [0u8; 32 + 1 + ID_MAX];
    plain[..32].copy_from_slice(key);
    plain[32] = id.len() as u8;
    plain[33..33 + id.len()].copy_from_slice(id.as_bytes());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = master
        .cipher()
        .encrypt(&nonce, plain.as_slice())
        .map_err(|_| KeyringError::Unreadable(0))?;
    let mut raw = [0u8; SLOT];
    raw[0] = state;
    raw[1..17].copy_from_slice(pseudonym);
    raw[17..41].copy_from_slice(&nonce);
    raw[SEALED_AT..SEALED_AT + SEALED_LEN].copy_from_slice(&sealed);
    Ok(raw)
}

pub fn pseudonym_of(raw: &[u8; SLOT]) -> Pseudonym {
    let mut p = [0u8; 16];
    p.copy_from_slice(&raw[1..17]);
    p
}

fn wrap_header(cipher: &XChaCha20Poly1305, pepper: &[u8; 32]) -> [u8; HEADER] {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let mut header = [0u8; HEADER];
    header[..8].copy_from_slice(MAGIC);
    header[8..32].copy_from_slice(&nonce);
    // Encryption into memory cannot fail for inputs of this size.
    let sealed = cipher.encrypt(&nonce, pepper.as_slice()).unwrap_or_default();
    header[32..32 + sealed.len()].copy_from_slice(&sealed);
    header
}

/// The keyring's path in a data directory.
pub fn path_in(data: &Path) -> PathBuf {
    data.join("keyring")
}

mod file;
mod master;
mod rotate;
mod seal;
pub use file::FileSlots;
pub use master::Master;
pub use seal::{open, seal, slot_in};

#[cfg(test)]
mod tests;
