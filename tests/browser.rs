//! The public pages in a real headless Chromium: axe-core's WCAG 2.1 A/AA rules on every
//! page, and the simulator used by keyboard, label and accessible name
//! (`tests/browser/check.mjs` does the browsing; this starts the real server for it).
//!
//! Needs Debian's Chromium and the npm packages in `tests/browser`. In CI (`CI` set) a
//! missing one fails the test; on a developer's machine it is skipped with a loud message,
//! so `cargo test` works on a fresh checkout.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::server::Harness;
use crate::util;

const CHROMIUM: &str = "/usr/bin/chromium";
const TIMEOUT: Duration = Duration::from_secs(300);

/// What is missing to run the browser checks, if anything.
fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push(format!("{CHROMIUM} (apt-get install chromium)"));
    }
    if !util::root().join("tests/browser/node_modules").is_dir() {
        missing.push("tests/browser/node_modules (npm ci --prefix tests/browser)".into());
    }
    missing
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_pages_pass_axe_and_work_by_keyboard() {
    let missing = missing();
    if !missing.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "browser tests need: {}; .ci/run installs them",
            missing.join(", ")
        );
        // Written to stderr itself, not with eprintln!, which the test harness captures and
        // hides for a passing test: a skip must be seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** browser tests skipped: run .ci/run or install chromium and `npm ci --prefix tests/browser` (missing: {}) ***\n",
            missing.join(", ")
        );
        return;
    }
    let h = Harness::start().await;
    // An administrator for the console pages' checks (login by keyboard, axe when logged in).
    let (email, password) = ("admin@comune.example.it", "una-password-di-prova-lunga");
    sportello::staff::accounts::create(
        h.store.as_ref(),
        email,
        sportello::storage::Role::Admin,
        vec![],
        password,
        jiff::Timestamp::now(),
    )
    .unwrap();
    let login = format!("{email}:{password}");
    // The desk's pages: one Assemini conversation waiting for the claim / reply / release
    // round, and a registered citizen whose request for a person (a signed webhook, posted
    // by the script while the inbox is open) must appear without a reload.
    let mut desk = seed_desk(h.store.as_ref());
    // The same administrator's rights in French, for the console's French pages.
    let (fr, fr_password) = ("admin.fr@comune.example.it", "un-mot-de-passe-d-essai-long");
    sportello::staff::accounts::create(
        h.store.as_ref(),
        fr,
        sportello::storage::Role::Admin,
        vec![],
        fr_password,
        jiff::Timestamp::now(),
    )
    .unwrap();
    let mut account = h.store.account(fr).unwrap().unwrap();
    account.language = "fr".into();
    h.store.put_account(&account).unwrap();
    desk.push(("SPORTELLO_STAFF_LOGIN_FR", format!("{fr}:{fr_password}")));
    let started = Instant::now();
    let base = h.base.clone();
    // tokio is built without its `process` feature: run node on a blocking thread.
    let out = tokio::task::spawn_blocking(move || run_node(&base, &login, &desk))
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "browser checks failed ({}):\n{stderr}\n{stdout}",
        out.status
    );
    // The screenshot paths and timing, for whoever wants to look (cargo test --nocapture).
    eprintln!(
        "{stdout}{stderr}browser checks passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    h.stop().await;
}

/// Runs the check script against `base`, killing it after [`TIMEOUT`]. Its output goes to
/// files, not pipes, so a chatty script can never block on a full pipe while we wait.
fn run_node(base: &str, staff_login: &str, desk: &[(&str, String)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = Command::new("node")
        .arg(util::root().join("tests/browser/check.mjs"))
        .arg(base)
        .env("SPORTELLO_STAFF_LOGIN", staff_login)
        .envs(desk.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(util::root())
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("spawn node (is Node.js installed?)");
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "browser checks took more than {TIMEOUT:?}:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

/// Seeds the desk for the console checks; returns the script's environment: the webhook
/// body it posts to make a second conversation appear live, and its signature.
fn seed_desk(store: &dyn sportello::storage::Store) -> Vec<(&'static str, String)> {
    use sportello::dialogue::{Citizen, State};
    use sportello::storage::CitizenKey;
    let now = jiff::Timestamp::now();
    for (number, name) in [("393330066001", "Eleonora"), ("393330066002", "Emilio")] {
        let mut c = Citizen::new(now);
        c.state = State::Subscribed;
        c.subscribed_at = Some(now);
        c.fields.insert("first_name".into(), name.into());
        c.fields.insert("last_name".into(), "Lussu".into());
        c.fields.insert("birth_date".into(), "1980-03-12".into());
        store
            .put_citizen(&CitizenKey::new("assemini", "whatsapp", number), &c)
            .unwrap();
    }
    let key = CitizenKey::new("assemini", "whatsapp", "393330066001");
    sportello::staff::inbox::citizen_wrote(
        store,
        &key,
        "pn-assemini",
        "Come rinnovo la carta d'identità?",
        None,
        now,
    )
    .unwrap();
    let body = crate::harness::server::wa_text(
        "assemini",
        "393330066002",
        "wamid.browser.live",
        1_800_000_000,
        "OPERATORE",
    );
    let raw = serde_json::to_vec(&body).unwrap();
    let signature = sportello::channel::whatsapp::sign(crate::harness::server::APP_SECRET.as_bytes(), &raw);
    // A moderation case waiting for a decision, for its page's check.
    let case = store
        .add_case(&sportello::storage::ModerationCase {
            key: CitizenKey::new("brusson", "whatsapp", "393330066003"),
            rule: sportello::moderation::Rule::Vulgar,
            verdict: sportello::moderation::Verdict::Withhold,
            text: "Un messaggio trattenuto".into(),
            spans: vec![],
            at: now,
            blocked: false,
            status: sportello::storage::CaseStatus::Pending,
            decided_by: None,
            decided_at: None,
            note: None,
        })
        .unwrap();
    vec![
        ("SPORTELLO_LIVE_WEBHOOK", String::from_utf8(raw).unwrap()),
        ("SPORTELLO_LIVE_SIGNATURE", signature),
        ("SPORTELLO_CASE_PATH", format!("/staff/brusson/cases/{case}")),
    ]
}
