//! The service layer, between the edges (the HTTP server, the console, the CLI, the
//! terminal chat) and the pure engine (`crate::dialogue`): what does I/O around a step.
//!
//! - [`runner`]: the [`runner::Engine`]: loads a citizen's record, runs `dialogue::step`,
//!   prepares the step's effects and writes them; every edge steps citizens through it.
//! - [`live`]: the flows and FAQs with the console's edits overlaid, rebuilt after an edit.
//! - [`queue`]: the per-citizen ordered queue the server runs steps and staff actions in.
//!
//! Below it: `dialogue`, `storage` and the leaves. Above it: `staff`, `broadcast`,
//! `server`, `console`, `cli`.

pub mod bell;
pub mod coordination;
pub mod identity;
pub mod live;
pub mod queue;
pub mod runner;
pub mod step;
pub mod trial;
