//! Rotating the master key: every live slot and the pepper rewrapped under a new one.

use chacha20poly1305::aead::Aead;
use chacha20poly1305::XNonce;

use super::{pseudonym_of, unwrap_with, wrap, wrap_header, Keyring, KeyringError, Master, ERASE_AFTER_REPLIES, LIVE};

impl Keyring {
    /// Rewraps every live slot and the pepper under `next`, at once (a file: a new one,
    /// synced, moved over this one; PostgreSQL: one transaction): slot numbers and
    /// pseudonyms stay, erased slots stay erased. The old master key opens nothing
    /// afterwards. Returns the keyring on the new master key.
    pub fn rotate(self, next: Master) -> Result<Keyring, KeyringError> {
        let Keyring {
            slots,
            master,
            pepper: _,
            cache: _,
        } = self;
        let place = slots.place();
        let fresh = {
            // The pepper itself, from the header in force (`over` made sure there is one:
            // the zeros offered are never written).
            let header = slots.header(&[0u8; super::HEADER])?;
            let plain = master
                .cipher()
                .decrypt(XNonce::from_slice(&header[8..32]), &header[32..])
                .map_err(|_| KeyringError::WrongMaster(place.clone()))?;
            let pepper: [u8; 32] = plain.try_into().map_err(|_| KeyringError::NotAKeyring(place.clone()))?;
            wrap_header(&next.cipher(), &pepper)
        };
        let slots = slots.rewrap(&fresh, &mut |slot, raw| {
            if raw[0] == LIVE || raw[0] == ERASE_AFTER_REPLIES {
                let (key, id) = unwrap_with(&master, slot, &raw)?;
                wrap(&next, raw[0], &pseudonym_of(&raw), &key, &id)
            } else {
                Ok(raw)
            }
        })?;
        Keyring::over(slots, next)
    }
}
