//! Transcript tests: one file per comune under `tests/transcripts/`, run through the real
//! engine, store and Fluent rendering.
//!
//! Format (one directive a line; `#` starts a comment):
//!
//! ```text
//! === title                  a new scenario: new citizen, empty store, clock at the default
//! > text                     the citizen writes `text`
//! > [button:yes]             the citizen taps a button with that id
//! > [image] / [reaction] …   a non-text message (image, audio, video, sticker, document,
//!                            location, contacts, reaction, unsupported; event: a
//!                            service event such as WhatsApp's system or request_welcome)
//! < key, key                 the Fluent ids of the replies to the last message, in order
//! < -                        no reply at all
//! status subscribed          the stored status (`none`: no record is kept)
//! language fr                the stored language
//! lang fr                    the language the last replies were rendered in
//! field full_name = Mario    a stored registration field
//! consents 2                 consents held (withdrawals not counted)
//! categories a b c           the stored categories
//! clock +25h                 move the clock (h or m), or set it: `clock 2026-11-24T09:00:00+01:00`
//! ```
//! Every `>` must be followed by its `<` line, so no reply goes unchecked.

use sportello::storage::CitizenStore;
use std::sync::Arc;

use jiff::{Timestamp, ToSpan};
use sportello::dialogue::{Body, Inbound};
use sportello::service::runner::Engine;
use sportello::storage::{CitizenKey, MemoryStore};

use crate::util;

/// Monday 23 November 2026, 10:00 in Rome: inside every office's hours.
const START: &str = "2026-11-23T09:00:00Z";

fn body(line: &str) -> Body {
    let inner = line.strip_prefix('[').and_then(|l| l.strip_suffix(']'));
    match inner {
        Some(b) if b.starts_with("button:") => Body::Button {
            id: b["button:".len()..].to_string(),
        },
        Some("reaction") => Body::Reaction,
        Some("event") => Body::Event,
        Some("location") => Body::Location,
        Some("contacts") => Body::Contacts,
        Some("unsupported") => Body::Unsupported,
        Some(m @ ("image" | "audio" | "video" | "sticker" | "document")) => Body::Media { media: m.into() },
        _ => Body::Text { text: line.to_string() },
    }
}

struct Run {
    engine: Engine,
    store: Arc<MemoryStore>,
    key: CitizenKey,
    now: Timestamp,
    last: Option<(Vec<String>, String)>,
    pending: bool,
    seq: usize,
}

fn run_file(comune: &str) -> usize {
    let path = util::root().join("tests/transcripts").join(format!("{comune}.txt"));
    let src = std::fs::read_to_string(&path).unwrap();
    let mut scenarios = 0;
    let mut run: Option<Run> = None;
    let mut title = String::new();
    for (n, raw) in src.lines().enumerate() {
        let line = raw.trim_end();
        let at = format!("{}:{} ({title})", path.display(), n + 1);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(t) = line.strip_prefix("=== ") {
            if let Some(r) = &run {
                assert!(
                    !r.pending,
                    "{at}: the last message of the previous scenario has no `<` line"
                );
            }
            title = t.to_string();
            scenarios += 1;
            let store = Arc::new(MemoryStore::new());
            run = Some(Run {
                engine: util::engine(store.clone()),
                store,
                key: CitizenKey::new(comune, "whatsapp", "393330000001"),
                now: START.parse().unwrap(),
                last: None,
                pending: false,
                seq: 0,
            });
            continue;
        }
        let r = run
            .as_mut()
            .unwrap_or_else(|| panic!("{at}: directive before the first ==="));
        if let Some(msg) = line.strip_prefix("> ").or(if line == ">" { Some("") } else { None }) {
            assert!(!r.pending, "{at}: previous message has no `<` line");
            r.seq += 1;
            let inbound = Inbound {
                id: format!("wamid.{}", r.seq),
                body: body(msg),
            };
            let handled = r
                .engine
                .handle(&r.key, &inbound, r.now)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            for rendered in &handled.rendered {
                assert!(
                    !rendered.text.contains('{') && !rendered.text.contains('}') && rendered.text != rendered.key,
                    "{at}: {} rendered badly: {}",
                    rendered.key,
                    rendered.text
                );
            }
            r.last = Some((
                handled.rendered.iter().map(|x| x.key.clone()).collect(),
                handled.outcome.language.clone(),
            ));
            r.pending = true;
            r.now += 1.second();
            continue;
        }
        let record = r.store.citizen(&r.key).unwrap();
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "<" => {
                let got = r.last.as_ref().map(|l| l.0.clone()).unwrap_or_default();
                let want: Vec<String> = if rest.trim() == "-" {
                    vec![]
                } else {
                    rest.split(',').map(|s| s.trim().to_string()).collect()
                };
                assert_eq!(got, want, "{at}: replies");
                r.pending = false;
            }
            "status" => {
                let got = record.as_ref().map(|c| c.status()).unwrap_or("none");
                assert_eq!(got, rest.trim(), "{at}: status");
            }
            "language" => {
                let got = record.as_ref().and_then(|c| c.language.clone()).unwrap_or_default();
                assert_eq!(got, rest.trim(), "{at}: stored language");
            }
            "lang" => assert_eq!(r.last.as_ref().unwrap().1, rest.trim(), "{at}: reply language"),
            "field" => {
                let (k, v) = rest.split_once(" = ").unwrap_or_else(|| panic!("{at}: field k = v"));
                let got = record.as_ref().and_then(|c| c.fields.get(k).cloned());
                assert_eq!(got.as_deref(), Some(v), "{at}: field {k}");
            }
            "fields" => {
                let got = record.as_ref().map(|c| c.fields.len()).unwrap_or(0);
                assert_eq!(got.to_string(), rest.trim(), "{at}: number of fields");
            }
            "consents" => {
                let got = record
                    .as_ref()
                    .map(|c| c.consents.iter().filter(|k| k.kind != "withdrawal").count());
                assert_eq!(got.unwrap_or(0).to_string(), rest.trim(), "{at}: consents");
            }
            "categories" => {
                let got: Vec<String> = record
                    .as_ref()
                    .map(|c| c.categories.iter().cloned().collect())
                    .unwrap_or_default();
                let want: Vec<String> = rest.split_whitespace().map(String::from).collect();
                assert_eq!(got, want, "{at}: categories");
            }
            "clock" => {
                let t = rest.trim();
                r.now = if let Some(h) = t.strip_prefix('+').and_then(|x| x.strip_suffix('h')) {
                    r.now + h.parse::<i64>().unwrap().hours()
                } else if let Some(m) = t.strip_prefix('+').and_then(|x| x.strip_suffix('m')) {
                    r.now + m.parse::<i64>().unwrap().minutes()
                } else {
                    t.parse::<Timestamp>().unwrap_or_else(|e| panic!("{at}: clock: {e}"))
                };
            }
            other => panic!("{at}: unknown directive {other:?}"),
        }
    }
    if let Some(r) = &run {
        assert!(!r.pending, "{}: the last message has no `<` line", path.display());
    }
    scenarios
}

fn check(comune: &str) {
    let n = run_file(comune);
    assert!(n >= 10, "{comune}: only {n} scenarios, at least 10 are required");
}

#[test]
fn isola_delle_femmine() {
    check("isola-delle-femmine");
}

#[test]
fn isili() {
    check("isili");
}

#[test]
fn madone() {
    check("madone");
}

#[test]
fn assemini() {
    check("assemini");
}

#[test]
fn brusson() {
    check("brusson");
}
