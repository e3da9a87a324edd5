//! Sealing a value with a citizen's key, and opening it again: the form every personal
//! string takes in the store (`storage::sealed`).

use chacha20poly1305::aead::{Aead, AeadCore, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use super::Opened;

/// A nonce never used before by this process: 16 random bytes drawn once, then a counter.
/// XChaCha20's 24-byte nonces leave room for both; a system call per seal would not.
fn next_nonce() -> XNonce {
    static PREFIX: std::sync::OnceLock<[u8; 16]> = std::sync::OnceLock::new();
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let random = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut p = [0u8; 16];
        p.copy_from_slice(&random[..16]);
        p
    });
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut nonce = [0u8; 24];
    nonce[..16].copy_from_slice(prefix);
    nonce[16..].copy_from_slice(&n.to_be_bytes());
    XNonce::from(nonce)
}

/// Seals `plain` with a slot's cipher: the slot number (4 bytes, big-endian), a random
/// nonce (24), the ciphertext and its tag.
pub fn seal(opened: &Opened, plain: &[u8]) -> Vec<u8> {
    let nonce = next_nonce();
    let mut out = Vec::with_capacity(4 + 24 + plain.len() + 16);
    out.extend_from_slice(&opened.slot.to_be_bytes());
    out.extend_from_slice(&nonce);
    // Encryption into memory cannot fail for inputs of this size.
    out.extend(opened.cipher.encrypt(&nonce, plain).unwrap_or_default());
    out
}

/// The slot a sealed value names.
pub fn slot_in(sealed: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(sealed.get(..4)?.try_into().ok()?))
}

/// Opens what [`seal`] sealed; `None` with another slot's key, or bytes not sealed so.
pub fn open(opened: &Opened, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 4 + 24 + 16 || slot_in(sealed) != Some(opened.slot) {
        return None;
    }
    opened
        .cipher
        .decrypt(XNonce::from_slice(&sealed[4..28]), &sealed[28..])
        .ok()
}
