//! The dialogue engine: the citizen record and its [`State`], the pure [`step`] function,
//! and the per-citizen ordered queue that runs steps against the store.
//!
//! The engine never renders text (replies are Fluent ids) and never reads a clock (the
//! caller passes `now`), so every transcript is reproducible in a test.

mod desk;
mod input;
pub mod live;
mod membership;
pub mod queue;
mod register;
pub mod runner;
mod step;

pub use crate::message::{Arg, Body, Button, Inbound, Reply};
pub use crate::storage::records::{Ask, Citizen, Confirm, Consent, DeliveryError, Goal, State};
pub use desk::deadline;
pub use register::{check, today};
pub use step::{step, step_with, Aids, Event, Outcome};

pub use crate::flow::ENGINE_IDS;
