//! sportello: a comune's citizen desk on WhatsApp, Telegram and the web.
//!
//! The library holds everything; `src/main.rs` only parses the command line and calls in.
//! Layers, from the outside in: `cli` and `channel` (wire formats) call `dialogue`
//! (the per-citizen state machine), which reads `flow` (one declarative file per comune)
//! and is persisted through `storage`. `text`, `hours`, `faq` and `moderation` are pure
//! policies called with data and a clock; `i18n` turns reply ids into citizen text.

pub mod app;
pub mod broadcast;
pub mod channel;
pub mod cli;
pub mod config;
pub mod console;
pub mod dialogue;
pub mod embedded;
pub mod faq;
pub mod flow;
pub mod hours;
pub mod i18n;
pub mod message;
pub mod moderation;
pub mod secret;
pub mod server;
pub mod staff;
pub mod storage;
pub mod text;
pub mod web;
