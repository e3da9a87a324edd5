//! What staff do, as plain functions over the store: the command line calls them today and
//! the console (with its audit log) will call the same ones. No HTTP, no rendering here.

pub mod blocking;
pub mod faq;
pub mod inbox;
pub mod moderation;
pub mod privacy;
pub mod report;
