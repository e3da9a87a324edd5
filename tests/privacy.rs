//! Privacy through the real binary and the real engine: erasure leaves only the anonymized
//! ledger, access shows what is held, retention obscures leavers after their period, a
//! changed notice is shown once and recorded.

use sportello::storage::CaseStore;
use sportello::storage::CitizenStore;
use sportello::storage::StaffStore;
use std::sync::Arc;

use serde_json::Value;
use sportello::dialogue::{Body, Inbound};
use sportello::flow::{self, parse_flow};
use sportello::i18n::Locales;
use sportello::storage::{CitizenKey, LedgerKind, MemoryStore, Store};

use crate::util::{root, sportello};

fn run(data: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--data", data]);
    let out = sportello(&root(), &all, stdin);
    assert!(out.status.code().is_some(), "{args:?} died");
    out
}

#[test]
fn unsubscribing_from_assemini_leaves_only_the_anonymous_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let input = "Buongiorno, vorrei sapere gli orari della ludoteca Zzyzx\nFiliberto\nZanzottera\n07/08/1961\nche merda di servizio\nIscrivimi\nsì\nI MIEI DATI\nCancellami\n";
    let out = run(
        data,
        &["chat", "--comune", "assemini", "--from", "+39 333 987 6543", "--json"],
        input,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Zanzottera"), "I MIEI DATI shows the stored name: {text}");
    // In words a citizen reads: the birth date as written, the language by its name.
    assert!(text.contains("Data di nascita: 07/08/1961"), "{text}");
    assert!(text.contains("Dati conservati dal Comune di Assemini"), "{text}");
    assert!(
        text.contains("Lingua: italiano") && !text.contains("1961-08-07"),
        "{text}"
    );
    assert!(text.contains("assemini-unsubscribed"));
    let show = run(
        data,
        &["citizen", "show", "--comune", "assemini", "--from", "3339876543"],
        "",
    );
    assert_eq!(show.status.code(), Some(1));

    let store = sportello::storage::sealed::migrate::open_sled(std::path::Path::new(data))
        .map(|s| s.0)
        .unwrap();
    for needle in [
        "3339876543",
        "Zanzottera",
        "Filiberto",
        "1961-08-07",
        "ludoteca Zzyzx",
        "merda di servizio",
    ] {
        assert_eq!(
            store.mentions(needle).unwrap(),
            Vec::<String>::new(),
            "{needle} is still stored"
        );
    }
    let ledger: Vec<_> = store.ledger("assemini").unwrap().into_iter().map(|(_, e)| e).collect();
    assert!(ledger
        .iter()
        .any(|e| e.kind == LedgerKind::Consent && e.notice_version == "2018-09-03"));
    assert!(ledger.iter().any(|e| e.kind == LedgerKind::Withdrawal));
    assert!(ledger.iter().all(|e| e.citizen.is_none()
        && e.notice_sha256.len() == 64
        && e.pseudonym.as_ref().is_some_and(|p| p.len() == 32)));
    // The message's id (WhatsApp's encodes the number) was sealed with the erased key.
    assert!(ledger.iter().all(|e| e.message_id.is_empty()));
    let cases = store.cases("assemini").unwrap();
    assert_eq!(cases.len(), 1, "the case stays, anonymized");
    assert!(cases[0].1.text.is_empty() && cases[0].1.key.citizen.is_empty());
}

#[test]
fn an_erasure_cut_short_by_a_crash_is_finished_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let input =
        "Buongiorno, vorrei sapere gli orari della ludoteca Zzyzx\nFiliberto\nZanzottera\n07/08/1961\nIscrivimi\nsì\n";
    run(
        data_s,
        &["chat", "--comune", "assemini", "--from", "+39 333 987 6543", "--json"],
        input,
    );
    // The leaving step committed (record removed, erasure marked, withdrawal in the ledger)
    // and the process dies before the scrub: what `engine.handle` does, minus `finish`.
    {
        let sealed = sportello::storage::sealed::migrate::open_sled(&data)
            .map(|s| s.0)
            .unwrap();
        let store: Arc<dyn Store> = Arc::new(sealed.clone());
        let engine = crate::util::engine(store.clone());
        let key = CitizenKey::new(
            "assemini",
            "whatsapp",
            &sportello::storage::keys::normalize_number("3339876543"),
        );
        let now = jiff::Timestamp::now();
        let inbound = Inbound {
            id: "crash-1".into(),
            body: Body::Text {
                text: "Cancellami".into(),
            },
        };
        let handled = engine.plan(&key, &inbound, now).unwrap();
        let effects = engine.effects(&key, "", &handled, now).unwrap();
        assert!(effects.erase, "Assemini erases a leaver");
        store
            .commit_step(None, &key, handled.outcome.citizen.as_ref(), &[], &effects)
            .unwrap();
        store.flush().unwrap();
        assert_eq!(store.unfinished_erasures().unwrap(), vec![key]);
        // Sealed: nothing is in clear, but the citizen's entries are still there.
        assert!(
            !sealed.inner().named_citizens().unwrap().is_empty(),
            "before the restart the scrub has not run: traces remain"
        );
    }
    // Any start of sportello on this data finishes it first.
    let show = run(
        data_s,
        &["citizen", "show", "--comune", "assemini", "--from", "3339876543"],
        "",
    );
    assert_eq!(show.status.code(), Some(1));
    let store = sportello::storage::sealed::migrate::open_sled(&data)
        .map(|s| s.0)
        .unwrap();
    assert!(store.unfinished_erasures().unwrap().is_empty());
    for needle in ["3339876543", "Zanzottera", "Filiberto", "ludoteca Zzyzx"] {
        assert_eq!(
            store.mentions(needle).unwrap(),
            Vec::<String>::new(),
            "{needle} is still stored"
        );
    }
    let ledger: Vec<_> = store.ledger("assemini").unwrap().into_iter().map(|(_, e)| e).collect();
    assert!(
        ledger.iter().any(|e| e.kind == LedgerKind::Withdrawal),
        "the withdrawal was committed with the step"
    );
    assert!(ledger.iter().all(|e| e.citizen.is_none()));
}

#[test]
fn access_export_and_erasure_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    run(
        data,
        &["chat", "--comune", "isili", "--from", "3331112299"],
        "REGISTRAZIONE Gavino Pinna - Laconi 01/02/1970 - Autorizzo - Acconsento Privacy\n",
    );
    let export = run(
        data,
        &["citizen", "export", "--comune", "isili", "--from", "3331112299"],
        "",
    );
    let v: Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(v["record"]["fields"]["full_name"], "Gavino Pinna");
    assert_eq!(
        v["ledger"].as_array().unwrap().len(),
        2,
        "two consents: messages and privacy"
    );
    assert_eq!(v["ledger"][0]["how"], "one-shot");

    let erase = run(
        data,
        &[
            "citizen",
            "erase",
            "--comune",
            "isili",
            "--from",
            "3331112299",
            "--by",
            "dpo@comune.isili.it",
            "--reason",
            "richiesta via PEC",
        ],
        "",
    );
    assert!(erase.status.success(), "{}", String::from_utf8_lossy(&erase.stderr));
    let store = sportello::storage::sealed::migrate::open_sled(std::path::Path::new(data))
        .map(|s| s.0)
        .unwrap();
    for needle in ["3331112299", "Gavino", "Laconi"] {
        assert!(store.mentions(needle).unwrap().is_empty(), "{needle} still stored");
    }
    let audit = store.audit(Some("isili")).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].1.actor, "dpo@comune.isili.it");
    assert!(audit[0].1.detail.contains("richiesta via PEC"));
    drop(store);

    // Erasing someone of whom nothing is held (a typo, or erased already) exits 1, says so
    // and audits nothing (issue 21).
    for from in ["3331112299", "3339999999"] {
        let again = run(
            data,
            &[
                "citizen", "erase", "--comune", "isili", "--from", from, "--by", "dpo", "--reason", "r",
            ],
            "",
        );
        assert_eq!(again.status.code(), Some(1), "{from}");
        assert!(String::from_utf8_lossy(&again.stderr).contains(&format!("no citizen {from} in comune isili")));
    }
    let store = sportello::storage::sealed::migrate::open_sled(std::path::Path::new(data))
        .map(|s| s.0)
        .unwrap();
    assert_eq!(store.audit(Some("isili")).unwrap().len(), 1);
}

#[test]
fn retention_obscures_madone_leavers_after_a_year_and_dry_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let old = [
        "chat",
        "--comune",
        "madone",
        "--from",
        "3330001111",
        "--now",
        "2024-03-01T10:00:00Z",
    ];
    run(data, &old, "ATTIVA ISCRIZIONE\nDISATTIVA ISCRIZIONE\n");
    let recent = ["chat", "--comune", "madone", "--from", "3330002222"];
    run(data, &recent, "ATTIVA ISCRIZIONE\nDISATTIVA ISCRIZIONE\n");

    let dry = run(data, &["retention", "run", "--dry-run"], "");
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        text.contains("would obscure: madone whatsapp 393330001111") && text.contains("1 leavers would be obscured"),
        "{text}"
    );
    let show = run(
        data,
        &["citizen", "show", "--comune", "madone", "--from", "3330001111"],
        "",
    );
    assert_eq!(show.status.code(), Some(0), "a dry run changes nothing");

    let wet = run(data, &["retention", "run"], "");
    assert!(String::from_utf8_lossy(&wet.stdout).contains("obscured 1 leavers"));
    assert_eq!(
        run(
            data,
            &["citizen", "show", "--comune", "madone", "--from", "3330001111"],
            ""
        )
        .status
        .code(),
        Some(1)
    );
    let recent = run(
        data,
        &["citizen", "show", "--comune", "madone", "--from", "3330002222"],
        "",
    );
    let v: Value = serde_json::from_slice(&recent.stdout).unwrap();
    assert_eq!(v["status"], "unsubscribed", "kept: less than a year");
    let store = sportello::storage::sealed::migrate::open_sled(std::path::Path::new(data))
        .map(|s| s.0)
        .unwrap();
    assert!(store.mentions("3330001111").unwrap().is_empty());
}

#[test]
fn a_changed_notice_is_shown_once_and_the_ledger_shows_who_saw_it() {
    let locales = Locales::load_dir(&root().join("locales")).unwrap();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let key = CitizenKey::new("madone", "whatsapp", "393330003333");
    let say = |engine: &sportello::service::runner::Engine, id: &str, text: &str| {
        let inbound = Inbound {
            id: id.into(),
            body: Body::Text { text: text.into() },
        };
        let h = engine
            .handle(&key, &inbound, "2026-11-23T09:00:00Z".parse().unwrap())
            .unwrap();
        h.rendered.iter().map(|r| r.key.clone()).collect::<Vec<_>>()
    };
    let v1 = sportello::service::runner::Engine::new(
        flow::load_dir(&root().join("flows"), &locales).unwrap(),
        locales,
        store.clone(),
    );
    assert_eq!(say(&v1, "m1", "ATTIVA ISCRIZIONE"), ["madone-subscribed"]);

    // The comune publishes a new notice version.
    let locales = Locales::load_dir(&root().join("locales")).unwrap();
    let src = std::fs::read_to_string(root().join("flows/madone.toml"))
        .unwrap()
        .replace("version = \"1\"", "version = \"2\"");
    let madone = parse_flow("flows/madone.toml", &src, &locales).unwrap();
    let mut flows = flow::load_dir(&root().join("flows"), &locales).unwrap();
    flows.replace(madone);
    let v2 = sportello::service::runner::Engine::new(flows, locales, store.clone());
    assert_eq!(
        say(&v2, "m2", "ciao"),
        ["privacy-notice-updated", "madone-privacy", "madone-other"]
    );
    assert_eq!(say(&v2, "m3", "ATTIVA ISCRIZIONE"), ["already-subscribed"], "told once");
    let seen: Vec<_> = store
        .ledger("madone")
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .filter(|e| e.kind == LedgerKind::NoticeSeen)
        .collect();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (
            seen[0].notice_version.as_str(),
            seen[0].citizen.as_deref(),
            seen[0].message_id.as_str()
        ),
        ("2", Some("393330003333"), "m2")
    );
}

#[test]
fn the_annual_report_has_no_personal_data_and_masks_small_counts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    for i in 0..7 {
        let from = format!("33300055{i:02}");
        let input = if i < 2 {
            "ATTIVA ISCRIZIONE\nDISATTIVA ISCRIZIONE\n"
        } else {
            "ATTIVA ISCRIZIONE\n"
        };
        run(
            data,
            &[
                "chat",
                "--comune",
                "madone",
                "--from",
                &from,
                "--now",
                "2026-03-10T10:00:00Z",
            ],
            input,
        );
    }
    run(
        data,
        &[
            "chat",
            "--comune",
            "madone",
            "--from",
            "3330005599",
            "--now",
            "2025-12-01T10:00:00Z",
        ],
        "ATTIVA ISCRIZIONE\n",
    );
    let csv = run(data, &["report", "--comune", "madone", "--year", "2026"], "");
    let csv = String::from_utf8_lossy(&csv.stdout);
    let value = |section: &str, label: &str| {
        csv.lines()
            .find(|l| l.contains(section) && l.contains(label))
            .unwrap_or_else(|| panic!("{section}/{label} in {csv}"))
            .rsplit(',')
            .next()
            .unwrap()
            .trim_matches('"')
            .to_string()
    };
    assert_eq!(value("Iscritti", "inizio"), "<5", "one subscriber from 2025: masked");
    assert_eq!(value("Iscritti", "fine"), "6");
    assert_eq!(value("Nuove iscrizioni", "marzo"), "7");
    assert_eq!(value("Cancellazioni", "marzo"), "<5");
    assert_eq!(value("Nuove iscrizioni", "aprile"), "0");
    assert!(!csv.contains("33300055"), "no number in the report");
    let html = run(
        data,
        &["report", "--comune", "madone", "--year", "2026", "--format", "html"],
        "",
    );
    let html = String::from_utf8_lossy(&html.stdout);
    assert!(
        html.contains("<html lang=\"it\">")
            && html.contains("<th scope=\"row\">marzo</th>")
            && html.contains("Comune di Madone")
    );
}

/// `citizen show|export|erase`, `report` and `retention run` answer the same, with the same
/// exit codes, whether or not `serve` holds the data directory: while it runs they go
/// through its admin endpoint (sled's lock keeps any other process out of the directory),
/// afterwards to the store (issue 21).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_answer_the_same_with_and_without_a_running_server() {
    use crate::harness::server::{say, Harness};
    let h = Harness::start().await;
    let mut seq = 0;
    for from in ["393331230001", "393331230002"] {
        say(&h, "madone", from, &mut seq, "ATTIVA ISCRIZIONE", 1).await;
    }
    // Two withheld messages waiting for a decision.
    let withheld = sportello::storage::ModerationCase {
        key: CitizenKey::new("madone", "whatsapp", "393331230001"),
        rule: sportello::moderation::Rule::PersonalAttack,
        verdict: sportello::moderation::Verdict::Withhold,
        text: "Siete dei cialtroni".into(),
        spans: Vec::new(),
        at: jiff::Timestamp::now(),
        blocked: false,
        status: sportello::storage::CaseStatus::Pending,
        decided_by: None,
        decided_at: None,
        note: None,
    };
    let case_a = h.store.add_case(&withheld).unwrap().to_string();
    let case_b = h.store.add_case(&withheld).unwrap().to_string();
    let decide = |case: &str, decision: &str| {
        [
            "moderation",
            "decide",
            "--comune",
            "madone",
            case,
            decision,
            "--by",
            "urp@comune.madone.bg.it",
        ]
        .map(String::from)
    };
    let export_case = |case: &str| ["moderation", "export", "--comune", "madone", case].map(String::from);
    let data = h.data.to_str().unwrap().to_string();
    let _dir_for_exports = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let data = data.clone();
        async move {
            let out = tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run(&data, &args, "")
            })
            .await
            .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    const SHOW: &[&str] = &["citizen", "show", "--comune", "madone", "--from", "393331230001"];
    const EXPORT: &[&str] = &["citizen", "export", "--comune", "madone", "--from", "393331230001"];
    const UNKNOWN: &[&str] = &["citizen", "show", "--comune", "madone", "--from", "393339999999"];
    const NO_COMUNE: &[&str] = &["citizen", "export", "--comune", "nowhere", "--from", "393331230001"];
    const ERASE_2: &[&str] = &[
        "citizen",
        "erase",
        "--comune",
        "madone",
        "--from",
        "393331230002",
        "--by",
        "dpo",
        "--reason",
        "PEC",
    ];
    const SHOW_2: &[&str] = &["citizen", "show", "--comune", "madone", "--from", "393331230002"];
    const REPORT: &[&str] = &["report", "--comune", "madone", "--year", "2026", "--format", "json"];
    const REPORT_HTML: &[&str] = &["report", "--comune", "madone", "--year", "2026", "--format", "html"];
    const RETENTION: &[&str] = &["retention", "run", "--dry-run"];
    const ADD: &[&str] = &[
        "staff",
        "add",
        "--role",
        "operator",
        "--comune",
        "madone",
        "op@comune.madone.bg.it",
    ];
    const ADD_ELSEWHERE: &[&str] = &[
        "staff",
        "add",
        "--role",
        "operator",
        "--comune",
        "milano",
        "op2@comune.it",
    ];
    const LIST: &[&str] = &["staff", "list"];
    const QUEUE: &[&str] = &["moderation", "queue", "--comune", "madone", "--all"];
    const SUBSCRIBERS: &[&str] = &["subscribers", "list", "--comune", "madone", "--status", "subscribed"];
    const COUNTS: &[&str] = &["subscribers", "counts", "--comune", "madone", "--json"];
    const REMOVE: &[&str] = &["staff", "remove", "op@comune.madone.bg.it"];
    const DISABLE: &[&str] = &["staff", "disable", "op@comune.madone.bg.it"];
    const ENABLE: &[&str] = &["staff", "enable", "op@comune.madone.bg.it"];

    let decided = cli(&decide(&case_a, "confirm").each_ref().map(String::as_str)).await;
    assert_eq!(decided, (Some(0), format!("case {case_a}: Confirmed\n"), String::new()));
    let twice_live = cli(&decide(&case_a, "dismiss").each_ref().map(String::as_str)).await;
    assert_ne!(twice_live.0, Some(0));
    assert!(twice_live.2.contains("was already decided"), "{}", twice_live.2);
    let queue_live = cli(QUEUE).await;
    assert_eq!(queue_live.1.lines().count(), 2, "{}", queue_live.1);
    let exported_live = cli(&export_case(&case_a).each_ref().map(String::as_str)).await;
    assert!(
        exported_live.1.contains("\"decided_by\": \"urp@comune.madone.bg.it\""),
        "{}",
        exported_live.1
    );
    let show_live = cli(SHOW).await;
    assert_eq!(show_live.0, Some(0), "{}", show_live.2);
    let shown: Value = serde_json::from_str(&show_live.1).unwrap();
    assert_eq!(shown["citizen"], "393331230001");
    let export_live = cli(EXPORT).await;
    assert_eq!(export_live.0, Some(0), "{}", export_live.2);
    let unknown_live = cli(UNKNOWN).await;
    assert_eq!(unknown_live.0, Some(1));
    assert!(
        unknown_live.2.contains("no citizen 393339999999 in comune madone"),
        "{}",
        unknown_live.2
    );
    assert_eq!(cli(NO_COMUNE).await.0, Some(2));
    let erased_live = cli(ERASE_2).await;
    assert_eq!(erased_live.0, Some(0), "{}", erased_live.2);
    let counts: Value = serde_json::from_str(&erased_live.1).unwrap();
    assert_eq!(counts["citizen"], 1, "{counts}");
    assert_eq!(cli(SHOW_2).await.0, Some(1), "erased through the server");
    let report_live = cli(REPORT).await;
    assert_eq!(report_live.0, Some(0), "{}", report_live.2);
    let figures: Value = serde_json::from_str(&report_live.1).unwrap();
    assert_eq!(figures["comune"], "madone");
    let html_live = cli(REPORT_HTML).await;
    assert!(html_live.1.contains("<table>"), "{}", html_live.2);
    let retention_live = cli(RETENTION).await;
    assert_eq!(retention_live.0, Some(0), "{}", retention_live.2);
    assert!(
        retention_live.1.contains("leavers would be obscured"),
        "{}",
        retention_live.1
    );
    let added = cli(ADD).await;
    assert_eq!(added.0, Some(0), "{}", added.2);
    assert!(
        added
            .1
            .starts_with("added op@comune.madone.bg.it as operator\none-time password"),
        "{}",
        added.1
    );
    let elsewhere = cli(ADD_ELSEWHERE).await;
    assert_ne!(elsewhere.0, Some(0));
    assert!(
        elsewhere.2.contains("no comune milano among the loaded flows"),
        "{}",
        elsewhere.2
    );
    let list_live = cli(LIST).await;
    let disabled_live = cli(DISABLE).await;
    assert_eq!(
        disabled_live,
        (Some(0), "disabled op@comune.madone.bg.it\n".to_string(), String::new())
    );
    let enabled_live = cli(ENABLE).await;
    assert_eq!(enabled_live.0, Some(0), "{}", enabled_live.2);
    let subscribers_live = cli(SUBSCRIBERS).await;
    assert_eq!(subscribers_live.0, Some(0), "{}", subscribers_live.2);
    assert!(
        subscribers_live.1.contains("whatsapp\t•••••••••001\tsubscribed\tit"),
        "{}",
        subscribers_live.1
    );
    assert!(!subscribers_live.1.contains("393331230001"), "a number unmasked");
    assert!(subscribers_live.1.ends_with("1 citizens\n"), "{}", subscribers_live.1);
    let counts_live = cli(COUNTS).await;
    let counts: Value = serde_json::from_str(&counts_live.1).unwrap();
    assert_eq!(counts["subscribed_now"], 1, "{counts}");
    assert_eq!(counts["months"][0]["subscribed"], 2, "{counts}");
    let csv_live = _dir_for_exports.path().join("live.csv");
    let csv_export_live = cli(&[
        "subscribers",
        "export",
        "--comune",
        "madone",
        "--unmasked",
        "--to",
        csv_live.to_str().unwrap(),
    ])
    .await;
    assert_eq!(csv_export_live.0, Some(0), "{}", csv_export_live.2);
    let csv = std::fs::read_to_string(&csv_live).unwrap();
    assert!(
        csv.starts_with(
            "\"channel\",\"citizen\",\"status\",\"language\",\"categories\",\"subscribed_at\",\"unsubscribed_at\"\r\n"
        ),
        "{csv}"
    );
    assert!(
        csv.contains("\"whatsapp\",\"393331230001\",\"subscribed\",\"it\",\"\","),
        "{csv}"
    );
    assert!(
        list_live.1.contains("op@comune.madone.bg.it\toperator\tmadone"),
        "{}",
        list_live.1
    );

    let _kept = h.stop_keeping_data().await;
    let show_off = cli(SHOW).await;
    assert_eq!((show_off.0, &show_off.1), (Some(0), &show_live.1));
    let export_off = cli(EXPORT).await;
    assert_eq!((export_off.0, &export_off.1), (Some(0), &export_live.1));
    let unknown_off = cli(UNKNOWN).await;
    assert_eq!((unknown_off.0, &unknown_off.2), (Some(1), &unknown_live.2));
    assert_eq!(cli(NO_COMUNE).await.0, Some(2));
    assert_eq!(cli(SHOW_2).await.0, Some(1));
    assert_eq!(cli(ERASE_2).await.0, Some(1), "nothing left to erase");
    assert_eq!(cli(REPORT).await, report_live);
    assert_eq!(cli(REPORT_HTML).await, html_live);
    assert_eq!(cli(RETENTION).await, retention_live);
    assert_eq!(cli(LIST).await, list_live);
    assert_eq!(cli(DISABLE).await, disabled_live);
    assert_eq!(cli(ENABLE).await, enabled_live);
    assert_eq!(cli(SUBSCRIBERS).await, subscribers_live);
    assert_eq!(cli(COUNTS).await, counts_live);
    let csv_off = _dir_for_exports.path().join("off.csv");
    let export_off = cli(&[
        "subscribers",
        "export",
        "--comune",
        "madone",
        "--unmasked",
        "--to",
        csv_off.to_str().unwrap(),
    ])
    .await;
    assert_eq!(export_off.0, Some(0), "{}", export_off.2);
    assert_eq!(std::fs::read_to_string(&csv_off).unwrap(), csv);
    assert_eq!(cli(QUEUE).await, queue_live);
    assert_eq!(
        cli(&export_case(&case_a).each_ref().map(String::as_str)).await,
        exported_live
    );
    assert_eq!(
        cli(&decide(&case_a, "dismiss").each_ref().map(String::as_str)).await,
        twice_live
    );
    assert_eq!(
        cli(&decide(&case_b, "dismiss").each_ref().map(String::as_str)).await,
        (Some(0), format!("case {case_b}: Dismissed\n"), String::new())
    );
    assert_eq!(cli(REMOVE).await.1, "removed op@comune.madone.bg.it\n");
    let again = cli(REMOVE).await;
    assert_eq!(again.0, Some(1));
    assert!(again.2.contains("no account op@comune.madone.bg.it"), "{}", again.2);
    let audit = sportello::storage::sealed::migrate::open_sled(&_kept.path().join("data"))
        .map(|s| s.0)
        .unwrap()
        .audit(None)
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|(_, a)| a.action.as_str()).collect();
    assert!(
        actions.contains(&"staff-add") && actions.contains(&"staff-remove"),
        "{actions:?}"
    );
}
