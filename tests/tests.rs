//! sportello's integration tests, compiled as one binary (ripgrep's layout).
//! Each module drives the real binary or the real library API; helpers live in `util`
//! and, for the servers, fakes and clients several modules share, in `harness`.

mod active_active;
#[path = "../audit/check.rs"]
mod audit;
mod audit_report;
mod backup;
mod broadcast;
mod broadcast_console;
mod broadcast_crash;
mod broadcast_honest;
mod browser;
mod bsuid;
mod bsuid_server;
mod catalogue;
mod cli;
mod cli_output;
mod connections;
mod console;
mod crash;
mod crash_load;
mod deploy;
mod desk_view;
mod erasure_disk;
mod erasure_pg;
mod faq;
mod faq_console;
mod faq_register;
mod flood;
mod flows;
mod fuzz;
mod handoff;
mod harness;
mod hostile;
mod hours;
mod inbox;
mod language;
mod live_desk;
mod logins;
mod look;
mod moderation;
mod moderation_console;
mod privacy;
mod privacy_logs;
mod props;
mod replicas;
mod sealed_postgres;
mod server;
mod staff_console;
mod staffops;
mod standby;
mod storage;
mod transcripts;
mod util;
