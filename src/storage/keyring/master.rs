//! The master key: the 32 bytes that wrap every citizen key and the pepper in the keyring,
//! from the environment or a file only its owner may read.

use std::path::Path;

use chacha20poly1305::aead::{KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305};

use super::{hex, KeyringError};

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
        hex(&XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    pub(super) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0)
    }
}
