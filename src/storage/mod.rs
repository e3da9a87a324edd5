//! Storage: the small [`Store`] trait the rest of sportello sees, the key layout (`keys`),
//! and two backends: `sled` (the embedded default, durable) and `memory` (tests, benchmarks
//! of the engine alone). PostgreSQL comes later behind the same trait.
//!
//! Values are JSON: readable with any tool, tolerant of added fields.

pub mod commit;
pub mod keys;
mod memory;
mod sled_store;

pub use keys::CitizenKey;
pub use memory::MemoryStore;
pub use sled_store::SledStore;

use crate::dialogue::Citizen;

/// The schema version this build writes and understands (see `keys::SCHEMA_VERSION_KEY`).
pub const SCHEMA_VERSION: u32 = 1;

/// Errors at the storage boundary. Messages carry no personal data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage engine: {0}")]
    Engine(String),
    #[error("corrupt record under a {tree} key: {reason}")]
    Corrupt { tree: &'static str, reason: String },
    #[error("the data was written by a newer sportello (schema {found}, this build knows {SCHEMA_VERSION})")]
    NewerSchema { found: u32 },
    #[error("invalid key part: {0}")]
    BadKey(&'static str),
}

/// What the engine needs from a storage engine. Writes are visible at once; they are
/// durable after [`Store::flush`] returns.
pub trait Store: Send + Sync + 'static {
    fn citizen(&self, key: &CitizenKey) -> Result<Option<Citizen>, StoreError>;
    fn put_citizen(&self, key: &CitizenKey, citizen: &Citizen) -> Result<(), StoreError>;
    fn remove_citizen(&self, key: &CitizenKey) -> Result<(), StoreError>;
    /// Every citizen of a comune, in key order.
    fn citizens(&self, comune: &str) -> Result<Vec<(CitizenKey, Citizen)>, StoreError>;
    /// Makes every write so far durable.
    fn flush(&self) -> Result<(), StoreError>;
}

fn decode(tree: &'static str, bytes: &[u8]) -> Result<Citizen, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt { tree, reason: e.to_string() })
}

fn encode(citizen: &Citizen) -> Vec<u8> {
    // Serializing our own plain struct cannot fail.
    serde_json::to_vec(citizen).unwrap_or_default()
}
