//! Rotating the master key: every live slot and the pepper rewrapped into a new file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;

use chacha20poly1305::aead::Aead;
use chacha20poly1305::XNonce;

use super::{pseudonym_of, wrap, wrap_header, Keyring, KeyringError, Master, ERASE_AFTER_REPLIES, HEADER, LIVE, SLOT};

impl Keyring {
    /// Rewraps every live slot and the pepper under `next` into a new file, synced, then
    /// moved over this one: slot numbers and pseudonyms stay, erased slots stay erased. The
    /// old master key opens nothing afterwards. Returns the keyring on the new master key.
    pub fn rotate(self, next: Master) -> Result<Keyring, KeyringError> {
        let fresh = self.path.with_extension("rotating");
        let _ = std::fs::remove_file(&fresh);
        let io = |source| KeyringError::Io {
            path: fresh.clone(),
            source,
        };
        let mut out = {
            use std::os::unix::fs::OpenOptionsExt;
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&fresh)
                .map_err(io)?
        };
        let mut pepper = [0u8; 32];
        {
            let mut header = [0u8; HEADER];
            self.file.read_exact_at(&mut header, 0).map_err(|e| self.io(e))?;
            let plain = self
                .master
                .cipher()
                .decrypt(XNonce::from_slice(&header[8..32]), &header[32..])
                .map_err(|_| KeyringError::WrongMaster(self.path.clone()))?;
            pepper.copy_from_slice(&plain);
        }
        let mut buffer = Vec::with_capacity(HEADER + SLOT * 1024);
        buffer.extend_from_slice(&wrap_header(&next.cipher(), &pepper));
        for slot in 0..self.slots() {
            let raw = self.read_slot(slot)?;
            let bytes = if raw[0] == LIVE || raw[0] == ERASE_AFTER_REPLIES {
                let (key, id) = self.unwrap(slot, &raw)?;
                wrap(&next, raw[0], &pseudonym_of(&raw), &key, &id)?
            } else {
                raw
            };
            buffer.extend_from_slice(&bytes);
            if buffer.len() >= SLOT * 1024 {
                out.write_all(&buffer).map_err(io)?;
                buffer.clear();
            }
        }
        out.write_all(&buffer).map_err(io)?;
        out.sync_all().map_err(io)?;
        drop(out);
        std::fs::rename(&fresh, &self.path).map_err(|e| self.io(e))?;
        if let Some(dir) = self.path.parent() {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Keyring::open(&self.path, next)
    }
}
