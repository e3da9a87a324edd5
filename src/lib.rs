//! sportello: a comune's citizen desk on WhatsApp, Telegram and the web.
//!
//! The library holds everything; `src/main.rs` only parses the command line and calls in.
//! The folders are floors, each importing only from those below (ARCHITECTURE.md): `cli`
//! and `app` at the top; `console`, `web` and `server` (HTTP); `staff` and `broadcast`
//! (operations); `dialogue` (the engine) and `config`; `storage` and its records; `channel`
//! (wire formats); and the pure leaves `i18n`, `flow`, `faq`, `text`, `hours`,
//! `moderation` and `message`.

pub mod app;
pub mod broadcast;
pub mod channel;
pub mod cli;
pub mod config;
pub mod console;
pub mod delivery;
pub mod dialogue;
pub mod embedded;
pub mod faq;
pub mod flow;
pub mod hours;
pub mod i18n;
pub mod markup;
pub mod message;
pub mod moderation;
pub mod secret;
pub mod server;
pub mod service;
pub mod staff;
pub mod storage;
pub mod text;
pub mod web;
