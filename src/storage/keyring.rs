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
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
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
const LIVE: u8 = 1;
const ERASED: u8 = 2;
const ERASE_AFTER_REPLIES: u8 = 3;

/// How many opened slots [`Keyring`] keeps in memory (a few hundred kilobytes).
const CACHE: usize = 4096;

/// How many slots of zeros the file grows by when it is full (80 KiB). A new slot is then
/// written over bytes the file already has: its sync writes the data without changing the
/// file's size (measured on this disk: 136 µs against 249 µs for a sync after an append).
const GROW: u32 = 512;

/// A citizen's pseudonym: the first 16 bytes of an HMAC-SHA256.
pub type Pseudonym = [u8; 16];

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
    #[error("the master key does not open the keyring {0}: it was made with another one")]
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

struct Index {
    /// Pseudonym -> its live slot.
    live: HashMap<Pseudonym, u32>,
    /// Slots handed out (the next new one is this).
    slots: u32,
    /// Slots the file holds, handed out or still zeros (see [`GROW`]).
    capacity: u32,
}

/// The keyring: a file of slots, the master key that unwraps them and the pepper.
pub struct Keyring {
    path: PathBuf,
    file: File,
    master: Master,
    pepper: Hmac<sha2::Sha256>,
    /// Taken to create, destroy or mark a slot.
    index: Mutex<Index>,
    cache: Mutex<HashMap<u32, Arc<Opened>>>,
    /// A slot was written since the last [`Keyring::sync`].
    dirty: std::sync::atomic::AtomicBool,
}

impl Keyring {
    /// Opens the keyring at `path`, creating it (0600) with a new pepper when absent;
    /// refuses a file made with another master key.
    pub fn open(path: &Path, master: Master) -> Result<Keyring, KeyringError> {
        let io = |source| KeyringError::Io {
            path: path.to_path_buf(),
            source,
        };
        let new = !path.exists() || std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(false);
        let mut file = {
            use std::os::unix::fs::OpenOptionsExt;
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)
                .map_err(io)?
        };
        let cipher = master.cipher();
        let pepper: [u8; 32] = if new {
            let pepper: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
            file.write_all(&wrap_header(&cipher, &pepper)).map_err(io)?;
            file.sync_all().map_err(io)?;
            pepper
        } else {
            let mut header = [0u8; HEADER];
            file.read_exact(&mut header)
                .map_err(|_| KeyringError::NotAKeyring(path.to_path_buf()))?;
            if &header[..8] != MAGIC {
                return Err(KeyringError::NotAKeyring(path.to_path_buf()));
            }
            let plain = cipher
                .decrypt(XNonce::from_slice(&header[8..32]), &header[32..])
                .map_err(|_| KeyringError::WrongMaster(path.to_path_buf()))?;
            plain
                .try_into()
                .map_err(|_| KeyringError::NotAKeyring(path.to_path_buf()))?
        };
        // The index: every live slot's pseudonym, read once (160 bytes a citizen). Slots
        // after the last one written are zeros, grown ahead (`GROW`).
        let len = file.metadata().map_err(io)?.len();
        let capacity = (len.saturating_sub(HEADER as u64) / SLOT as u64) as u32;
        let mut slots = 0;
        let mut live = HashMap::new();
        let mut reader = std::io::BufReader::with_capacity(1 << 16, &file);
        std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(HEADER as u64)).map_err(io)?;
        let mut raw = [0u8; SLOT];
        for slot in 0..capacity {
            reader.read_exact(&mut raw).map_err(io)?;
            if raw[0] != FREE {
                slots = slot + 1;
            }
            // A slot waiting for its last reply still opens by its number, but no longer
            // names its citizen: one who writes again gets a new key.
            if raw[0] == LIVE {
                live.insert(pseudonym_of(&raw), slot);
            }
        }
        Ok(Keyring {
            path: path.to_path_buf(),
            file,
            master,
            pepper: <Hmac<sha2::Sha256> as Mac>::new_from_slice(&pepper).expect("any key length"),
            index: Mutex::new(Index { live, slots, capacity }),
            cache: Mutex::new(HashMap::new()),
            dirty: Default::default(),
        })
    }

    fn io(&self, source: std::io::Error) -> KeyringError {
        KeyringError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Slots in the file, live or erased.
    pub fn slots(&self) -> u32 {
        self.index().slots
    }

    /// The live slot of a pseudonym.
    pub fn slot_of(&self, pseudonym: &Pseudonym) -> Option<u32> {
        self.index().live.get(pseudonym).copied()
    }

    /// The live slot of a pseudonym, created (with a new key, holding `id`) when there is
    /// none; durable at the next [`Keyring::sync`].
    pub fn ensure(&self, pseudonym: &Pseudonym, id: &str) -> Result<u32, KeyringError> {
        if id.len() > ID_MAX {
            return Err(KeyringError::IdTooLong);
        }
        let mut index = self.index();
        if let Some(slot) = index.live.get(pseudonym) {
            return Ok(*slot);
        }
        let key: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
        let raw = wrap(&self.master, LIVE, pseudonym, &key, id)?;
        let slot = index.slots;
        if slot >= index.capacity {
            let zeros = vec![0u8; GROW as usize * SLOT];
            self.file
                .write_all_at(&zeros, offset(index.capacity))
                .map_err(|e| self.io(e))?;
            index.capacity += GROW;
        }
        self.file.write_all_at(&raw, offset(slot)).map_err(|e| self.io(e))?;
        self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
        index.slots += 1;
        index.live.insert(*pseudonym, slot);
        // Opened at once, as the caller is about to seal with it (the index's lock held,
        // then the cache's, as everywhere).
        self.remember(Arc::new(Opened::new(slot, *pseudonym, id.to_string(), &key)));
        Ok(slot)
    }

    fn read_slot(&self, slot: u32) -> Result<[u8; SLOT], KeyringError> {
        let slots = self.index().slots;
        self.read_raw(slots, slot)
    }

    /// A slot's bytes, for a caller that holds the index's lock (`slots` read under it).
    fn read_raw(&self, slots: u32, slot: u32) -> Result<[u8; SLOT], KeyringError> {
        if slot >= slots {
            return Err(KeyringError::NoSlot(slot));
        }
        let mut raw = [0u8; SLOT];
        self.file
            .read_exact_at(&mut raw, offset(slot))
            .map_err(|e| self.io(e))?;
        Ok(raw)
    }

    /// The key and id in `slot`; `None` once erased.
    pub fn open_slot(&self, slot: u32) -> Result<Option<Arc<Opened>>, KeyringError> {
        if let Some(hit) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&slot) {
            return Ok(Some(hit.clone()));
        }
        let raw = self.read_slot(slot)?;
        if raw[0] != LIVE && raw[0] != ERASE_AFTER_REPLIES {
            return Ok(None);
        }
        let (key, id) = self.unwrap(slot, &raw)?;
        let opened = Arc::new(Opened::new(slot, pseudonym_of(&raw), id, &key));
        // Locks in this order only (index, then cache), as `destroy` takes them: a slot
        // erased meanwhile is not cached, since the index no longer names it.
        let index = self.index();
        if index.live.get(&opened.pseudonym) == Some(&slot) {
            self.remember(opened.clone());
        }
        Ok(Some(opened))
    }

    /// Keeps a slot opened in the cache ([`CACHE`] at most: emptied when full). The caller
    /// holds the index's lock, taken before the cache's as everywhere.
    fn remember(&self, opened: Arc<Opened>) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE {
            cache.clear();
        }
        cache.insert(opened.slot, opened);
    }

    /// The live slot of a pseudonym, opened.
    pub fn opened(&self, pseudonym: &Pseudonym) -> Result<Option<Arc<Opened>>, KeyringError> {
        match self.slot_of(pseudonym) {
            Some(slot) => self.open_slot(slot),
            None => Ok(None),
        }
    }

    /// Erases the key in `slot`: the slot overwritten in place (its state and pseudonym
    /// kept, zeros elsewhere) before this returns, durable at the next [`Keyring::sync`]
    /// (which the sealed store runs before anything is acknowledged). Erasing twice is
    /// harmless.
    pub fn destroy(&self, slot: u32) -> Result<(), KeyringError> {
        let mut index = self.index();
        let raw = self.read_raw(index.slots, slot)?;
        let pseudonym = pseudonym_of(&raw);
        let mut erased = [0u8; SLOT];
        erased[0] = ERASED;
        erased[1..17].copy_from_slice(&pseudonym);
        self.file.write_all_at(&erased, offset(slot)).map_err(|e| self.io(e))?;
        self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
        self.forget(&mut index, &pseudonym, slot);
        Ok(())
    }

    /// `slot` no longer names its citizen, nor stays opened in the cache (the caller holds
    /// the index's lock, taken before the cache's as everywhere).
    fn forget(&self, index: &mut Index, pseudonym: &Pseudonym, slot: u32) {
        if index.live.get(pseudonym) == Some(&slot) {
            index.live.remove(pseudonym);
        }
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).remove(&slot);
    }

    /// Marks `slot` to be erased once its last pending reply (a goodbye) is sent or given
    /// up: [`Keyring::awaiting_replies`] lists it again after a restart. The citizen no
    /// longer has a key ([`Keyring::slot_of`] finds none).
    pub fn erase_after_replies(&self, slot: u32) -> Result<(), KeyringError> {
        let mut index = self.index();
        let mut raw = self.read_raw(index.slots, slot)?;
        if raw[0] != LIVE {
            return Ok(());
        }
        // From now on the citizen has no key: one who writes again gets a new one, and
        // this one still opens the replies it sealed until `destroy`.
        self.forget(&mut index, &pseudonym_of(&raw), slot);
        raw[0] = ERASE_AFTER_REPLIES;
        self.file
            .write_all_at(&raw[..1], offset(slot))
            .map_err(|e| self.io(e))?;
        self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Whether a slot was written since the last [`Keyring::sync`].
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Makes every slot written so far durable (one `fdatasync`, skipped when nothing was
    /// written since the last): the sealed store runs it with its own flush, so nothing is
    /// acknowledged before the keys it sealed with are on the disk, and no erasure before
    /// its key's bytes are overwritten there.
    pub fn sync(&self) -> Result<(), KeyringError> {
        if self.dirty.swap(false, std::sync::atomic::Ordering::SeqCst) {
            if let Err(e) = self.file.sync_data() {
                self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
                return Err(self.io(e));
            }
        }
        Ok(())
    }

    /// Every slot by state: (slot, pseudonym, state), reading the whole file.
    fn scan(&self) -> Result<Vec<(u32, Pseudonym, u8)>, KeyringError> {
        let slots = self.slots();
        let mut out = Vec::with_capacity(slots as usize);
        for slot in 0..slots {
            let raw = self.read_slot(slot)?;
            out.push((slot, pseudonym_of(&raw), raw[0]));
        }
        Ok(out)
    }

    /// Slots waiting for their last reply before they are erased.
    pub fn awaiting_replies(&self) -> Result<Vec<(u32, Pseudonym)>, KeyringError> {
        Ok(self
            .scan()?
            .into_iter()
            .filter(|(_, _, s)| *s == ERASE_AFTER_REPLIES)
            .map(|(slot, p, _)| (slot, p))
            .collect())
    }

    /// The pseudonyms of erased citizens (a citizen erased twice is there twice).
    pub fn erased(&self) -> Result<Vec<Pseudonym>, KeyringError> {
        Ok(self
            .scan()?
            .into_iter()
            .filter(|(_, _, s)| *s == ERASED)
            .map(|(_, p, _)| p)
            .collect())
    }

    /// (live, erased) slots.
    pub fn counts(&self) -> Result<(usize, usize), KeyringError> {
        let all = self.scan()?;
        let erased = all.iter().filter(|(_, _, s)| *s == ERASED).count();
        let live = all
            .iter()
            .filter(|(_, _, s)| *s == LIVE || *s == ERASE_AFTER_REPLIES)
            .count();
        Ok((live, erased))
    }

    /// A live slot's key and id, unwrapped with the master key.
    fn unwrap(&self, slot: u32, raw: &[u8; SLOT]) -> Result<([u8; 32], String), KeyringError> {
        let plain = self
            .master
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

    /// A live slot's key itself (the tests check it never reaches the file in clear).
    #[cfg(test)]
    fn unwrapped_key(&self, slot: u32) -> Result<[u8; 32], KeyringError> {
        Ok(self.unwrap(slot, &self.read_slot(slot)?)?.0)
    }
}

impl Drop for Keyring {
    /// A keyring dropped without a last [`Keyring::sync`] (a command that never flushed)
    /// still leaves its slots on the disk.
    fn drop(&mut self) {
        let _ = self.sync();
    }
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

fn offset(slot: u32) -> u64 {
    HEADER as u64 + slot as u64 * SLOT as u64
}

fn pseudonym_of(raw: &[u8; SLOT]) -> Pseudonym {
    let mut p = [0u8; 16];
    p.copy_from_slice(&raw[1..17]);
    p
}

fn wrap_header(cipher: &XChaCha20Poly1305, pepper: &[u8; 32]) -> Vec<u8> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&nonce);
    // Encryption into memory cannot fail for inputs of this size.
    header.extend(cipher.encrypt(&nonce, pepper.as_slice()).unwrap_or_default());
    header
}

/// The keyring's path in a data directory.
pub fn path_in(data: &Path) -> PathBuf {
    data.join("keyring")
}

mod master;
mod rotate;
mod seal;
pub use master::Master;
pub use seal::{open, seal, slot_in};

#[cfg(test)]
mod tests;
