//! Command-line subcommands. Each file owns one subcommand's arguments (`Args`) and its
//! `run`; `src/main.rs` only dispatches. Nothing here holds business logic.

pub mod backup;
pub mod broadcast;
pub mod chat;
pub mod citizen;
pub mod common;
pub mod faq;
pub mod flows;
pub mod keyring;
pub mod migrate;
pub mod moderation;
pub mod output;
pub mod report;
pub mod retention;
pub mod serve;
pub mod staff;
pub mod store_load;
pub mod subscribers;
