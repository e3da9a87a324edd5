//! The language suite (issue 16): what citizens write, through the real flows, lexicons,
//! FAQ and moderation policy and the pure engine, one file per functionality under
//! `eval/language/{heldout,dev}/` (format and meaning of each expectation in
//! `eval/language/README.md`).
//!
//! The held-out part is the headline and is never read case by case while tuning: only its
//! figures are printed. The fresh part was written after the tuning, blind, and run once;
//! its figures are printed too, never its cases. The dev part's failures are printed one
//! by one.
//! `cargo test --test tests language -- --nocapture` prints the table of RESULTS.md.

use std::collections::BTreeMap;

use jiff::Timestamp;
use sportello::dialogue::{step_with, Aids, Body, Citizen, Event, Inbound, Outcome, State};
use sportello::faq::Faq;
use sportello::flow::{self, Flow, Flows};
use sportello::i18n::Locales;
use sportello::moderation::Policy;

use crate::util;

/// Monday 23 November 2026, 10:00 in Rome: offices open.
const NOW: &str = "2026-11-23T09:00:00Z";

struct World {
    flows: Flows,
    faqs: BTreeMap<String, Faq>,
    policy: Policy,
    now: Timestamp,
}

impl World {
    fn new() -> World {
        let locales = Locales::embedded().expect("locales");
        let flows = flow::load_embedded(&locales).expect("flows");
        let mut faqs = BTreeMap::new();
        for f in flows.iter() {
            let path = util::root().join("faq").join(format!("{}.toml", f.id));
            if path.exists() {
                faqs.insert(f.id.clone(), Faq::load(&path).expect("faq"));
            }
        }
        World {
            flows,
            faqs,
            policy: Policy::builtin(),
            now: NOW.parse().unwrap(),
        }
    }

    fn step(&self, flow: &Flow, prior: Option<&Citizen>, text: &str, n: usize) -> Outcome {
        let aids = Aids {
            policy: Some(&self.policy),
            faq: self.faqs.get(&flow.id),
        };
        let inbound = Inbound {
            id: format!("wamid.lang.{n}"),
            body: Body::Text { text: text.to_string() },
        };
        step_with(flow, aids, prior, &inbound, self.now)
    }

    /// The record after the setup's messages, checked to be where the setup says.
    fn setup(&self, flow: &Flow, setup: &str) -> Result<Option<Citizen>, String> {
        let script: &[&str] = match (flow.id.as_str(), setup) {
            (_, "new") => &[],
            ("brusson", "subscribed") => &["MI ISCRIVO"],
            ("brusson", "subscribed-fr") => &["JE M'INSCRIS"],
            ("isili", "subscribed") => &[
                "REGISTRAZIONE Mario Rossi - Isili 12/03/1980 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy",
            ],
            ("madone" | "isola-delle-femmine", "subscribed") => &["ATTIVA ISCRIZIONE"],
            ("assemini", "subscribed") => &["buongiorno", "Mario", "Rossi", "12/03/1980", "ISCRIVIMI", "sì"],
            ("assemini", "registered") => &["buongiorno", "Mario", "Rossi", "12/03/1980"],
            ("isili", "step-name") => &["REGISTRAZIONE"],
            ("assemini", "step-name") => &["buongiorno"],
            ("isili", "step-consent") => &["REGISTRAZIONE", "Mario Rossi", "Isili", "12/03/1980"],
            ("assemini", "step-consent") => &["buongiorno", "Mario", "Rossi", "12/03/1980", "ISCRIVIMI"],
            _ => return Err(format!("setup {setup:?} is not defined for {}", flow.id)),
        };
        let mut c: Option<Citizen> = None;
        for (i, t) in script.iter().enumerate() {
            c = self.step(flow, c.as_ref(), t, i).citizen;
        }
        let status = c.as_ref().map(|c| c.status());
        let want = match setup {
            "new" => None,
            "subscribed" | "subscribed-fr" => Some("subscribed"),
            "registered" => Some("new"),
            _ => Some("registering"),
        };
        if status != want {
            return Err(format!("setup {setup:?} of {} ended {status:?}", flow.id));
        }
        Ok(c)
    }
}

/// What a step did, as the expectations read it.
struct Seen<'a> {
    flow: &'a Flow,
    before: Option<&'a Citizen>,
    out: &'a Outcome,
}

impl Seen<'_> {
    fn keys(&self) -> Vec<&str> {
        self.out.replies.iter().map(|r| r.key.as_str()).collect()
    }
    fn has_key(&self, k: &str) -> bool {
        self.keys().contains(&k)
    }
    fn event(&self, f: impl Fn(&Event) -> bool) -> bool {
        self.out.events.iter().any(f)
    }
    fn status(&self) -> Option<&'static str> {
        self.out.citizen.as_ref().map(|c| c.status())
    }
    fn consented(&self) -> bool {
        self.event(|e| matches!(e, Event::ConsentGiven(_)))
    }
    fn left(&self) -> bool {
        self.event(|e| matches!(e, Event::Unsubscribed { .. }))
    }
    fn step_of(c: Option<&Citizen>) -> Option<String> {
        match c.map(|c| &c.state) {
            Some(State::Registering { asking, draft, .. }) => Some(format!("{asking:?}/{}", draft.len())),
            _ => None,
        }
    }

    /// The registration moved on to another step of the same registration.
    fn advanced(&self) -> bool {
        let (before, after) = (Self::step_of(self.before), Self::step_of(self.out.citizen.as_ref()));
        before.is_some() && after.is_some() && before != after
    }

    fn passes(&self, expect: &str) -> Result<bool, String> {
        let flow = self.flow;
        Ok(match expect {
            "subscribed" => self.status() == Some("subscribed"),
            "join" => {
                self.status() == Some("subscribed")
                    || self
                        .out
                        .replies
                        .iter()
                        .any(|r| r.buttons.iter().any(|b| b.id == "subscribe"))
                    || (matches!(
                        self.out.citizen.as_ref().map(|c| &c.state),
                        Some(State::Registering { .. })
                    ) && !matches!(self.before.map(|c| &c.state), Some(State::Registering { .. })))
            }
            "not-subscribed" => {
                !self.consented() && self.status() != Some("subscribed") && !self.out.replies.is_empty()
            }
            "left" => self.left(),
            "leave" => {
                self.left()
                    || self
                        .out
                        .replies
                        .iter()
                        .any(|r| r.key == "leave-confirm" && r.buttons.iter().any(|b| b.id == "unsubscribe"))
                    || self.has_key("keyword-ambiguous")
                    || self.has_key(flow.message("not-subscribed"))
            }
            "stays" => !self.left() && self.out.citizen.is_some() && self.status() == self.before.map(|c| c.status()),
            "handoff" => self.event(|e| matches!(e, Event::Handoff { .. })),
            "no-handoff" => !self.event(|e| matches!(e, Event::Handoff { .. })),
            "question" => {
                self.event(|e| matches!(e, Event::Question { .. })) || self.keys().iter().any(|k| k.starts_with("faq-"))
            }
            "thanks" => self.has_key("desk-thanks") && !self.event(|e| matches!(e, Event::Question { .. })),
            "about-bot" => self.has_key("desk-about-bot") && !self.event(|e| matches!(e, Event::Question { .. })),
            "greeting" => {
                (self.has_key(flow.message("greeting")) || self.has_key(flow.message("welcome")))
                    && !self.event(|e| matches!(e, Event::Question { .. }))
            }
            "privacy" => self.has_key(&flow.privacy.notice),
            "my-data" => self.has_key("my-data"),
            "accepted" => {
                let before = Self::step_of(self.before);
                let after = Self::step_of(self.out.citizen.as_ref());
                before.is_some() && before != after && !self.left()
            }
            "rejected" => {
                let before = Self::step_of(self.before);
                before.is_some() && before == Self::step_of(self.out.citizen.as_ref())
            }
            // A consent given mid-registration is kept in the draft until the last step: the
            // step moving on (or the subscription completing) is the consent recorded.
            "consent-given" => self.consented() || self.advanced(),
            "no-consent" => !self.consented() && !self.advanced(),
            "lang-fr" => self.out.language == "fr" && !self.out.replies.is_empty(),
            "lang-it" => self.out.language == "it" && !self.out.replies.is_empty(),
            other => return Err(format!("unknown expectation {other:?}")),
        })
    }
}

#[derive(Default)]
struct Tally {
    cases: usize,
    passed: usize,
}

struct Part {
    /// (functionality, tally), in file order.
    by_file: Vec<(String, Tally)>,
    /// Refusals (`not-subscribed`, `no-consent`) that ended in a consent.
    refusals_consented: usize,
    /// Negated leaving (`stays`) that unsubscribed.
    negated_left: usize,
    /// Leaving paraphrases (`leave` in paraphrase-leave) answered.
    leave: Tally,
    failures: Vec<String>,
}

fn run_part(world: &World, part: &str) -> Part {
    let dir = util::root().join("eval/language").join(part);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut out = Part {
        by_file: Vec::new(),
        refusals_consented: 0,
        negated_left: 0,
        leave: Tally::default(),
        failures: Vec::new(),
    };
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let src = std::fs::read_to_string(&path).unwrap();
        let mut tally = Tally::default();
        for (n, line) in src.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = format!("{}:{}", path.display(), n + 1);
            let fields: Vec<&str> = line.split(" | ").map(str::trim).collect();
            let [comune, setup, message, expect] = fields[..] else {
                panic!("{at}: a case has four fields separated by ' | '");
            };
            let flow = world
                .flows
                .get(comune)
                .unwrap_or_else(|| panic!("{at}: no comune {comune:?}"));
            let before = world.setup(flow, setup).unwrap_or_else(|e| panic!("{at}: {e}"));
            let outcome = world.step(flow, before.as_ref(), message, 99);
            let seen = Seen {
                flow,
                before: before.as_ref(),
                out: &outcome,
            };
            let ok = seen.passes(expect).unwrap_or_else(|e| panic!("{at}: {e}"));
            tally.cases += 1;
            tally.passed += ok as usize;
            if matches!(expect, "not-subscribed" | "no-consent") && (seen.consented() || seen.advanced()) {
                out.refusals_consented += 1;
            }
            if expect == "stays" && seen.left() {
                out.negated_left += 1;
            }
            if name == "paraphrase-leave" && expect == "leave" {
                out.leave.cases += 1;
                out.leave.passed += ok as usize;
            }
            if !ok {
                out.failures.push(format!(
                    "{at}: {comune} | {setup} | {message} | expected {expect}, got {:?} status {:?}",
                    seen.keys(),
                    seen.status()
                ));
            }
        }
        out.by_file.push((name, tally));
    }
    out
}

fn pct(t: &Tally) -> f64 {
    if t.cases == 0 {
        return 100.0;
    }
    100.0 * t.passed as f64 / t.cases as f64
}

fn total(p: &Part) -> Tally {
    Tally {
        cases: p.by_file.iter().map(|(_, t)| t.cases).sum(),
        passed: p.by_file.iter().map(|(_, t)| t.passed).sum(),
    }
}

fn table(held: &Part, dev: &Part, fresh: &Part) -> String {
    let mut rows: Vec<String> = held.by_file.iter().map(|(n, _)| n.clone()).collect();
    for (n, _) in dev.by_file.iter().chain(&fresh.by_file) {
        if !rows.contains(n) {
            rows.push(n.clone());
        }
    }
    let cell = |p: &Part, n: &str| match p.by_file.iter().find(|(m, _)| m == n) {
        Some((_, t)) => format!("{}/{} ({:.1} %)", t.passed, t.cases, pct(t)),
        None => "-".into(),
    };
    let mut s = String::from(
        "| functionality | held-out | fresh (written after tuning) | dev (tuned on) |\n|---|---|---|---|\n",
    );
    for n in rows {
        s += &format!(
            "| {n} | {} | {} | {} |\n",
            cell(held, &n),
            cell(fresh, &n),
            cell(dev, &n)
        );
    }
    let all = |p: &Part| {
        let t = total(p);
        format!("{}/{} ({:.1} %)", t.passed, t.cases, pct(&t))
    };
    s += &format!("| **all** | **{}** | **{}** | {} |\n", all(held), all(fresh), all(dev));
    s += &format!(
        "| refusals turned into consent | {} | {} | {} |\n",
        held.refusals_consented, fresh.refusals_consented, dev.refusals_consented
    );
    s += &format!(
        "| negated unsubscribes executed | {} | {} | {} |\n",
        held.negated_left, fresh.negated_left, dev.negated_left
    );
    s += &format!(
        "| leaving paraphrases answered | {:.1} % | {:.1} % | {:.1} % |\n",
        pct(&held.leave),
        pct(&fresh.leave),
        pct(&dev.leave)
    );
    s
}

#[test]
fn language_suite_meets_the_targets() {
    let world = World::new();
    let held = run_part(&world, "heldout");
    let dev = run_part(&world, "dev");
    let fresh = run_part(&world, "fresh");
    println!("{}", table(&held, &dev, &fresh));
    // The dev part's misses, to tune on; the held-out part's are never printed.
    for f in &dev.failures {
        println!("dev miss: {f}");
    }
    let (th, td, tf) = (total(&held), total(&dev), total(&fresh));
    let cases = th.cases + td.cases + tf.cases;
    assert!(cases >= 400, "the suite has {cases} cases");
    // The targets, on the part never tuned on.
    assert_eq!(held.refusals_consented, 0, "held-out: refusals turned into consent");
    assert_eq!(held.negated_left, 0, "held-out: negated unsubscribes executed");
    assert!(
        pct(&held.leave) >= 95.0,
        "held-out: leaving paraphrases answered {:.1} %",
        pct(&held.leave)
    );
    assert!(pct(&th) >= 90.0, "held-out: {:.1} % overall", pct(&th));
    // The part tuned on holds the same absolute guarantees.
    assert_eq!(dev.refusals_consented, 0, "dev: refusals turned into consent");
    assert_eq!(dev.negated_left, 0, "dev: negated unsubscribes executed");
    assert!(pct(&td) >= 90.0, "dev: {:.1} % overall", pct(&td));
    // The fresh part, written after the tuning, holds the guarantees that protect citizens;
    // its accuracy is reported, not asserted (RESULTS.md).
    assert_eq!(fresh.refusals_consented, 0, "fresh: refusals turned into consent");
    assert_eq!(fresh.negated_left, 0, "fresh: negated unsubscribes executed");
}
