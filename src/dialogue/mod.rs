//! The dialogue engine, pure: the pure [`step`] function over the citizen record and its
//! [`State`] (defined with the other records in `storage::records`). No I/O: loading,
//! committing and ordering steps is `crate::service`'s.
//!
//! The engine never renders text (replies are Fluent ids) and never reads a clock (the
//! caller passes `now`), so every transcript is reproducible in a test.

mod desk;
mod input;
mod membership;
mod register;
mod step;

pub use crate::message::{Arg, Body, Button, Inbound, Reply};
pub use crate::storage::records::{Ask, Citizen, Confirm, Consent, DeliveryError, Goal, State};
pub use desk::deadline;
pub use register::{check, today};
pub use step::{step, step_with, Aids, Event, Outcome};

pub use crate::flow::ENGINE_IDS;
