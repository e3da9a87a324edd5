//! The keyring of issue 24 (erasure that reaches the disk): one key per citizen, kept in a
//! file of fixed-size slots that an erasure overwrites in place and syncs, so the key's
//! bytes are gone from the disk at once and whatever was sealed with it (in the live store,
//! in its old log segments, in every backup) can no longer be read.
//!
//! **Not wired in yet**: nothing in the store seals with these keys so far. This module is
//! the first part of the issue; the store, the journal, the outbox, the ledger and the
//! audit log still write personal data as before (see the closing note).
//!
//! The file (`<data>/keyring`): a header of [`HEADER`] bytes (magic, version, a check
//! value sealed with the master key), then slots of [`SLOT`] bytes. A slot holds one
//! citizen key wrapped with the master key (XChaCha20-Poly1305: a 24-byte random nonce,
//! the 32-byte key and its 16-byte tag), or zeros once destroyed. A slot's number is not
//! secret; the key in it is useless without the master key, so the keyring file alone does
//! not open anything, and the master key alone opens nothing erased.
//!
//! The master key (32 bytes, hex) comes from `SPORTELLO_MASTER_KEY`, or from a file only its
//! owner may read (0600). Rotation rewraps every live slot under a new master key, in a new
//! file moved over the old one, and is tested below. Losing the master key loses every
//! citizen's sealed data: README says what to back up.
//!
//! Must not: log a key, keep a destroyed key anywhere, reuse a destroyed slot's bytes.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

/// The file's first bytes.
const MAGIC: &[u8; 8] = b"SPKRING1";
/// Magic, then the check value: a known plaintext sealed with the master key (nonce 24,
/// 16 bytes of zeros and their tag 16), so a wrong master key is refused at open.
pub const HEADER: usize = 8 + 24 + 16 + 16;
/// One slot: the nonce (24), the wrapped key (32) and its tag (16).
pub const SLOT: usize = 24 + 32 + 16;

/// A citizen's key.
pub struct CitizenKey32(pub [u8; 32]);

impl std::fmt::Debug for CitizenKey32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CitizenKey32(…)")
    }
}

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
    NoSlot(u64),
    #[error("slot {0} is unreadable")]
    Unreadable(u64),
}

/// The master key, read from the environment or a file.
pub struct Master(Key);

impl Master {
    /// From 64 hexadecimal characters.
    pub fn from_hex(hex: &str) -> Result<Master, KeyringError> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyringError::BadMaster);
        }
        let mut k = [0u8; 32];
        for (i, byte) in k.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| KeyringError::BadMaster)?;
        }
        Ok(Master(Key::from(k)))
    }

    /// From a file that only its owner may read (0600 or stricter).
    pub fn from_file(path: &Path) -> Result<Master, KeyringError> {
        use std::os::unix::fs::PermissionsExt;
        let io = |source| KeyringError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(KeyringError::MasterFileOpen(path.to_path_buf()));
        }
        Master::from_hex(&std::fs::read_to_string(path).map_err(io)?)
    }

    /// A new random master key, as hex (to store in the environment or a 0600 file).
    pub fn generate_hex() -> String {
        XChaCha20Poly1305::generate_key(&mut OsRng)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0)
    }

    /// The pseudonym of a citizen's identity (`comune`, `channel`, number or id): a keyed
    /// hash (HMAC-SHA256 with a pepper derived from the master key), hex. Stable for one
    /// master key, not reversible without it: what store keys and the anonymous proof of
    /// consent will carry instead of the number.
    pub fn pseudonym(&self, comune: &str, channel: &str, id: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut pepper = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.0.as_slice()).expect("any key length");
        pepper.update(b"sportello pepper v1");
        let pepper = pepper.finalize().into_bytes();
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&pepper).expect("any key length");
        for part in [comune, channel, id] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The keyring: a file of slots, and the master key that unwraps them.
pub struct Keyring {
    path: PathBuf,
    file: Mutex<File>,
    master: Master,
}

impl Keyring {
    /// Opens the keyring at `path`, creating it (0600) when absent; refuses a file made with
    /// another master key.
    pub fn open(path: &Path, master: Master) -> Result<Keyring, KeyringError> {
        let io = |source| KeyringError::Io {
            path: path.to_path_buf(),
            source,
        };
        let new = !path.exists();
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
        if new {
            let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
            let check = cipher
                .encrypt(&nonce, [0u8; 16].as_slice())
                .map_err(|_| KeyringError::WrongMaster(path.to_path_buf()))?;
            let mut header = Vec::with_capacity(HEADER);
            header.extend_from_slice(MAGIC);
            header.extend_from_slice(&nonce);
            header.extend_from_slice(&check);
            file.write_all(&header).map_err(io)?;
            file.sync_all().map_err(io)?;
        } else {
            let mut header = [0u8; HEADER];
            file.read_exact(&mut header)
                .map_err(|_| KeyringError::NotAKeyring(path.to_path_buf()))?;
            if &header[..8] != MAGIC {
                return Err(KeyringError::NotAKeyring(path.to_path_buf()));
            }
            let nonce = XNonce::from_slice(&header[8..32]);
            match cipher.decrypt(nonce, &header[32..]) {
                Ok(plain) if plain == [0u8; 16] => {}
                _ => return Err(KeyringError::WrongMaster(path.to_path_buf())),
            }
        }
        Ok(Keyring {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            master,
        })
    }

    fn io(&self, source: std::io::Error) -> KeyringError {
        KeyringError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Slots in the file, live or destroyed.
    pub fn slots(&self) -> Result<u64, KeyringError> {
        let file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let len = file.metadata().map_err(|e| self.io(e))?.len();
        Ok(len.saturating_sub(HEADER as u64) / SLOT as u64)
    }

    /// A new citizen key in a new slot, synced before it is returned: (slot, key).
    pub fn create(&self) -> Result<(u64, CitizenKey32), KeyringError> {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let end = file.seek(SeekFrom::End(0)).map_err(|e| self.io(e))?;
        let slot = (end - HEADER as u64) / SLOT as u64;
        file.write_all(&self.wrap(&key)?).map_err(|e| self.io(e))?;
        file.sync_data().map_err(|e| self.io(e))?;
        Ok((slot, CitizenKey32(key.into())))
    }

    fn wrap(&self, key: &Key) -> Result<Vec<u8>, KeyringError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .master
            .cipher()
            .encrypt(&nonce, key.as_slice())
            .map_err(|_| KeyringError::Unreadable(0))?;
        let mut out = Vec::with_capacity(SLOT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn read_slot(&self, file: &mut File, slot: u64) -> Result<[u8; SLOT], KeyringError> {
        let len = file.metadata().map_err(|e| self.io(e))?.len();
        let at = HEADER as u64 + slot * SLOT as u64;
        if at + SLOT as u64 > len {
            return Err(KeyringError::NoSlot(slot));
        }
        file.seek(SeekFrom::Start(at)).map_err(|e| self.io(e))?;
        let mut raw = [0u8; SLOT];
        file.read_exact(&mut raw).map_err(|e| self.io(e))?;
        Ok(raw)
    }

    /// The key in `slot`; `None` once destroyed.
    pub fn key(&self, slot: u64) -> Result<Option<CitizenKey32>, KeyringError> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let raw = self.read_slot(&mut file, slot)?;
        if raw.iter().all(|b| *b == 0) {
            return Ok(None);
        }
        let plain = self
            .master
            .cipher()
            .decrypt(XNonce::from_slice(&raw[..24]), &raw[24..])
            .map_err(|_| KeyringError::Unreadable(slot))?;
        let mut k = [0u8; 32];
        k.copy_from_slice(&plain);
        Ok(Some(CitizenKey32(k)))
    }

    /// Destroys the key in `slot`: its bytes overwritten with zeros in place and synced to
    /// the disk before this returns. Destroying twice is harmless.
    pub fn destroy(&self, slot: u64) -> Result<(), KeyringError> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        self.read_slot(&mut file, slot)?;
        file.seek(SeekFrom::Start(HEADER as u64 + slot * SLOT as u64))
            .map_err(|e| self.io(e))?;
        file.write_all(&[0u8; SLOT]).map_err(|e| self.io(e))?;
        file.sync_data().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Rewraps every live slot under `next` into a new file, synced, then moved over this
    /// one: slot numbers stay, destroyed slots stay zeros. The old master key opens nothing
    /// afterwards. Returns the keyring on the new master key.
    pub fn rotate(self, next: Master) -> Result<Keyring, KeyringError> {
        let slots = self.slots()?;
        let fresh = self.path.with_extension("rotating");
        let _ = std::fs::remove_file(&fresh);
        let out = Keyring::open(&fresh, next)?;
        {
            let mut file = out.file.lock().unwrap_or_else(|e| e.into_inner());
            for slot in 0..slots {
                let bytes = match self.key(slot)? {
                    Some(k) => out.wrap(&Key::from(k.0))?,
                    None => vec![0u8; SLOT],
                };
                file.write_all(&bytes).map_err(|e| out.io(e))?;
            }
            file.sync_all().map_err(|e| out.io(e))?;
        }
        let Keyring { master, .. } = out;
        std::fs::rename(&fresh, &self.path).map_err(|e| self.io(e))?;
        if let Some(dir) = self.path.parent() {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Keyring::open(&self.path, master)
    }
}

/// Seals `plain` with a citizen key (XChaCha20-Poly1305, a random nonce in front).
pub fn seal(key: &CitizenKey32, plain: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(&Key::from(key.0));
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let mut out = nonce.to_vec();
    // Encryption into memory cannot fail for inputs of this size.
    out.extend(cipher.encrypt(&nonce, plain).unwrap_or_default());
    out
}

/// Opens what [`seal`] sealed; `None` with another key, or bytes not sealed so.
pub fn open(key: &CitizenKey32, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 24 + 16 {
        return None;
    }
    let cipher = XChaCha20Poly1305::new(&Key::from(key.0));
    cipher.decrypt(XNonce::from_slice(&sealed[..24]), &sealed[24..]).ok()
}

/// The keyring's path in a data directory.
pub fn path_in(data: &Path) -> PathBuf {
    data.join("keyring")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> Master {
        Master::from_hex(&Master::generate_hex()).unwrap()
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_destroyed_key_is_gone_from_the_file_and_its_sealed_data_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        let hex = Master::generate_hex();
        let ring = Keyring::open(&path, Master::from_hex(&hex).unwrap()).unwrap();
        let (a, key_a) = ring.create().unwrap();
        let (b, key_b) = ring.create().unwrap();
        assert_eq!((a, b, ring.slots().unwrap()), (0, 1, 2));
        let sealed = seal(&key_a, "393471234567 Grazia Deledda".as_bytes());
        assert!(!contains(&sealed, b"393471234567"), "sealed, not in clear");
        assert_eq!(open(&key_a, &sealed).unwrap(), b"393471234567 Grazia Deledda");
        assert!(open(&key_b, &sealed).is_none(), "another citizen's key opens nothing");
        // The keyring file never holds a key in clear.
        let raw = std::fs::read(&path).unwrap();
        assert!(!contains(&raw, &key_a.0) && !contains(&raw, &key_b.0));
        ring.destroy(a).unwrap();
        assert!(ring.key(a).unwrap().is_none());
        assert_eq!(ring.key(b).unwrap().unwrap().0, key_b.0, "the others stay");
        // The slot's bytes are zeros on the disk, after a reopen too.
        let raw = std::fs::read(&path).unwrap();
        assert!(raw[HEADER..HEADER + SLOT].iter().all(|b| *b == 0));
        drop(ring);
        let ring = Keyring::open(&path, Master::from_hex(&hex).unwrap()).unwrap();
        assert!(ring.key(a).unwrap().is_none());
        assert!(ring.key(b).unwrap().is_some());
        // Nothing can open what was sealed with the destroyed key: it no longer exists.
        assert!(ring.key(7).is_err());
    }

    #[test]
    fn the_master_key_is_checked_rotated_and_read_only_from_a_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        let first = Master::generate_hex();
        let ring = Keyring::open(&path, Master::from_hex(&first).unwrap()).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (a, key_a) = ring.create().unwrap();
        let (b, _) = ring.create().unwrap();
        ring.destroy(b).unwrap();
        drop(ring);
        assert!(matches!(
            Keyring::open(&path, master()),
            Err(KeyringError::WrongMaster(_))
        ));
        // Rotation: the same slots under a new master key; the old one opens nothing.
        let second = Master::generate_hex();
        let ring = Keyring::open(&path, Master::from_hex(&first).unwrap()).unwrap();
        let ring = ring.rotate(Master::from_hex(&second).unwrap()).unwrap();
        assert_eq!(ring.key(a).unwrap().unwrap().0, key_a.0);
        assert!(ring.key(b).unwrap().is_none(), "a destroyed slot stays destroyed");
        drop(ring);
        assert!(Keyring::open(&path, Master::from_hex(&first).unwrap()).is_err());
        assert!(Keyring::open(&path, Master::from_hex(&second).unwrap()).is_ok());
        // The master key from a file: refused unless only its owner may read it.
        let file = dir.path().join("master.key");
        std::fs::write(&file, &second).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(Master::from_file(&file), Err(KeyringError::MasterFileOpen(_))));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Master::from_file(&file).is_ok());
        assert!(matches!(Master::from_hex("abc"), Err(KeyringError::BadMaster)));
        // Pseudonyms: stable under one master key, different under another, never the number.
        let (m1, m2) = (Master::from_hex(&second).unwrap(), Master::from_hex(&first).unwrap());
        let p = m1.pseudonym("brusson", "whatsapp", "393471234567");
        assert_eq!(p, m1.pseudonym("brusson", "whatsapp", "393471234567"));
        assert_ne!(p, m2.pseudonym("brusson", "whatsapp", "393471234567"));
        assert_ne!(p, m1.pseudonym("isili", "whatsapp", "393471234567"));
        assert!(!p.contains("393471234567") && p.len() == 32, "{p}");
        // Not a keyring at all.
        let other = dir.path().join("other");
        std::fs::write(&other, b"hello, this is not a keyring at all, not at all, no").unwrap();
        assert!(matches!(
            Keyring::open(&other, master()),
            Err(KeyringError::NotAKeyring(_))
        ));
    }
}
