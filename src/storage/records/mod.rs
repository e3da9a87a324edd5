//! The records the store keeps, defined here at the ground floor so that storage imports
//! nothing above it: the citizen with their dialogue state, and broadcasts with their
//! outbox entries. The engine (`crate::dialogue`) and the broadcast worker
//! (`crate::broadcast`) re-export them under their old names.

mod broadcast;
mod citizen;

pub use broadcast::{Broadcast, BroadcastState, Delivery, DeliveryState, Media};
pub use citizen::{Ask, Citizen, Confirm, Consent, DeliveryError, Goal, State, WhatsappIds};
