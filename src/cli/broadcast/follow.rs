//! `broadcast status --follow` (and a `send` due now): the status polled every half second
//! through the same path as `status` (the server's admin endpoint, or the store) until
//! nothing of the broadcast waits, with a progress bar on standard error. The bar draws
//! itself only when standard error is a terminal (`ProgressDrawTarget::stderr` hides itself
//! otherwise), so scripts see only the final status. It ends, saying why on standard error,
//! when nothing would ever send (no server holds the data directory) or the broadcast is
//! scheduled for later; an unknown broadcast is the status call's error.

use std::time::Duration;

use fluent_bundle::FluentArgs;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::{run_call, sender, Sender};
use crate::broadcast::ops::Call;
use crate::cli::common::{load_flows, Paths};
use crate::cli::output::{comune_language, json_time, text};

/// How often the status is asked.
const POLL: Duration = Duration::from_millis(500);

/// A broadcast due within this is waited for; one due later ends the following.
const SOON: SignedDuration = SignedDuration::from_secs(60);

/// Where a followed broadcast stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Nothing of it is queued or in flight any more.
    Finished,
    /// A server is sending it, or will within a minute.
    Waiting,
    /// Entries wait but no server holds the data directory: nothing will send them now.
    NoServer,
    /// Scheduled for later than a minute from now.
    Later,
}

/// The verdict on a status answer (`ops::summary`'s JSON) at `now`.
pub(super) fn verdict(v: &Value, sender: Sender, now: Timestamp) -> Verdict {
    let state = v["state"].as_str().unwrap_or_default();
    let queued = v["figures"]["queued"].as_u64().unwrap_or(0);
    if matches!(state, "sending" | "done") && queued == 0 {
        return Verdict::Finished;
    }
    if sender == Sender::Absent {
        return Verdict::NoServer;
    }
    let send_at = v["send_at"].as_str().and_then(|s| s.parse::<Timestamp>().ok());
    if state == "scheduled" && send_at.is_some_and(|at| at > now + SOON) {
        return Verdict::Later;
    }
    Verdict::Waiting
}

/// The bar: sent and failed of the recipients that get a text, with the rate a second.
fn bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    // A fixed template: it cannot fail to parse.
    if let Ok(style) = ProgressStyle::with_template("{wide_bar} {pos}/{len} {rate} {msg}") {
        let rate = |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", s.per_sec());
        };
        bar.set_style(style.progress_chars("=> ").with_key("rate", rate));
    }
    bar
}

/// Follows broadcast `id` until it is finished (or nothing will send it now, or it is
/// scheduled later: then said on standard error) and returns its last status.
pub(super) fn follow(paths: &Paths, id: u64, asked: Option<&str>) -> anyhow::Result<Value> {
    let (flows, locales) = load_flows(paths)?;
    let bar = bar();
    loop {
        let sender = sender(paths)?;
        let v = run_call(paths, Call::Status { id })?;
        let lang = comune_language(&flows, v["comune"].as_str(), asked);
        let f = &v["figures"];
        let n = |key: &str| f[key].as_u64().unwrap_or(0);
        let mut args = FluentArgs::new();
        args.set("sent", n("sent"));
        args.set("failed", n("failed"));
        bar.set_message(text(&locales, &lang, "cli-follow-progress", Some(&args)));
        bar.set_length(n("recipients").saturating_sub(n("skipped")));
        bar.set_position(n("sent") + n("failed"));
        match verdict(&v, sender, Timestamp::now()) {
            Verdict::Waiting => std::thread::sleep(POLL),
            Verdict::Finished => {
                bar.finish_and_clear();
                return Ok(v);
            }
            Verdict::NoServer => {
                bar.finish_and_clear();
                eprintln!("{}", text(&locales, &lang, "cli-broadcast-no-server", None));
                return Ok(v);
            }
            Verdict::Later => {
                bar.finish_and_clear();
                let mut args = FluentArgs::new();
                args.set("id", id);
                args.set("at", json_time(&v["send_at"]).unwrap_or_default());
                eprintln!("{}", text(&locales, &lang, "cli-follow-scheduled", Some(&args)));
                return Ok(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: &str, queued: u64, send_at: &str) -> Value {
        serde_json::json!({
            "id": 1, "comune": "madone", "state": state, "send_at": send_at,
            "figures": {"recipients": 3, "queued": queued, "sent": 3 - queued, "failed": 0},
        })
    }

    #[test]
    fn following_ends_only_when_nothing_waits_or_nothing_will_send() {
        let now: Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        let at = "2026-12-01T08:00:00Z";
        assert_eq!(verdict(&status("done", 0, at), Sender::Running, now), Verdict::Finished);
        assert_eq!(
            verdict(&status("sending", 0, at), Sender::Absent, now),
            Verdict::Finished
        );
        assert_eq!(
            verdict(&status("sending", 2, at), Sender::Running, now),
            Verdict::Waiting
        );
        assert_eq!(
            verdict(&status("sending", 2, at), Sender::Unseen, now),
            Verdict::Waiting
        );
        assert_eq!(
            verdict(&status("sending", 2, at), Sender::Absent, now),
            Verdict::NoServer
        );
        // Not fanned out yet: nothing queued, but not finished either.
        assert_eq!(
            verdict(&status("scheduled", 0, at), Sender::Running, now),
            Verdict::Waiting
        );
        assert_eq!(
            verdict(&status("fanning-out", 0, at), Sender::Running, now),
            Verdict::Waiting
        );
        assert_eq!(
            verdict(&status("scheduled", 0, at), Sender::Absent, now),
            Verdict::NoServer
        );
        // Due in 30 s: waited for; due tomorrow: ends.
        let soon = "2026-12-01T08:00:30Z";
        assert_eq!(
            verdict(&status("scheduled", 0, soon), Sender::Running, now),
            Verdict::Waiting
        );
        let tomorrow = "2026-12-02T08:00:00Z";
        assert_eq!(
            verdict(&status("scheduled", 0, tomorrow), Sender::Running, now),
            Verdict::Later
        );
    }

    #[test]
    fn the_bar_is_hidden_when_standard_error_is_not_a_terminal() {
        // Under `cargo test` standard error is captured, never a terminal.
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            assert!(bar().is_hidden());
        }
    }
}
