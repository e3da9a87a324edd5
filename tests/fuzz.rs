//! Fuzzing with proptest: every parser that takes outside input must return a value or an
//! error for anything at all, never panic. Inputs: arbitrary bytes, arbitrary JSON, and
//! structured mutations of real payloads and flow files (the fixtures and `flows/`).
//!
//! The default run is short (256 cases a property, a few seconds in all). The long run is
//! `PROPTEST_CASES=100000 cargo test --test tests fuzz` (see BENCHMARKS.md for its time and
//! result). Each crash found becomes a named regression test at the bottom of this file.
//! This file must not depend on the network or on the clock (every `today` is given).

use std::sync::OnceLock;

use jiff::civil::{date, Date};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::Value;
use sportello::channel::{telegram, whatsapp};
use sportello::flow;
use sportello::text;

use crate::util::{root, world};

/// Honours `PROPTEST_CASES` for the long run; 256 cases otherwise.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn fixtures(dir: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("tests/fixtures").join(dir)).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            out.push(serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap());
        }
    }
    out
}

fn whatsapp_seeds() -> &'static [Value] {
    static S: OnceLock<Vec<Value>> = OnceLock::new();
    S.get_or_init(|| fixtures("whatsapp"))
}

fn telegram_seeds() -> &'static [Value] {
    static S: OnceLock<Vec<Value>> = OnceLock::new();
    S.get_or_init(|| fixtures("telegram"))
}

/// Both providers' vocabulary, so random objects often have keys the parsers look at.
const KEYS: &[&str] = &[
    "object",
    "entry",
    "changes",
    "field",
    "value",
    "messages",
    "statuses",
    "errors",
    "metadata",
    "phone_number_id",
    "from",
    "id",
    "timestamp",
    "type",
    "text",
    "body",
    "interactive",
    "button_reply",
    "list_reply",
    "button",
    "payload",
    "image",
    "status",
    "recipient_id",
    "code",
    "title",
    "contacts",
    "wa_id",
    "reaction",
    "update_id",
    "message",
    "chat",
    "date",
    "callback_query",
    "data",
    "caption",
    "photo",
    "edited_message",
    "whatsapp_business_account",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        proptest::sample::select(KEYS).prop_map(|k| Value::String(k.into())),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..8).prop_map(Value::Array),
            btree_map(proptest::sample::select(KEYS).prop_map(String::from), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One structural change at the `at`-th node (in pre-order) of a JSON document.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Value),
    Remove,
    /// Wrap the node in an array (a scalar where a list is expected and vice versa).
    Wrap,
    /// Duplicate an array's elements (a batch of repeated messages).
    Double,
}

fn mutation() -> impl Strategy<Value = (usize, Mutation)> {
    let m = prop_oneof![
        3 => json().prop_map(Mutation::Replace),
        2 => Just(Mutation::Remove),
        1 => Just(Mutation::Wrap),
        1 => Just(Mutation::Double),
    ];
    (any::<usize>(), m)
}

fn pointers(v: &Value, here: String, out: &mut Vec<String>) {
    out.push(here.clone());
    match v {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| pointers(x, format!("{here}/{i}"), out)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| pointers(x, format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")), out)),
        _ => {}
    }
}

fn mutate(mut root: Value, changes: &[(usize, Mutation)]) -> Value {
    for (at, change) in changes {
        let mut all = Vec::new();
        pointers(&root, String::new(), &mut all);
        let target = all[at % all.len()].clone();
        if let Mutation::Remove = change {
            if let Some((parent, last)) = target.rsplit_once('/') {
                match root.pointer_mut(parent) {
                    Some(Value::Object(o)) => {
                        o.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(a)) => {
                        if let Ok(i) = last.parse::<usize>() {
                            if i < a.len() {
                                a.remove(i);
                            }
                        }
                    }
                    _ => {}
                }
            }
            continue;
        }
        let Some(node) = root.pointer_mut(&target) else {
            continue;
        };
        match change {
            Mutation::Replace(v) => *node = v.clone(),
            Mutation::Wrap => *node = Value::Array(vec![node.take()]),
            Mutation::Double => {
                if let Value::Array(a) = node {
                    a.extend(a.clone());
                }
            }
            Mutation::Remove => unreachable!(),
        }
    }
    root
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn whatsapp_webhook_arbitrary_bytes(bytes in vec(any::<u8>(), 0..2048)) {
        let _ = whatsapp::parse_webhook(&bytes);
    }

    #[test]
    fn whatsapp_webhook_arbitrary_json(v in json()) {
        let _ = whatsapp::parse_webhook(&serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn whatsapp_webhook_mutated_fixtures(seed in any::<usize>(), changes in vec(mutation(), 1..6)) {
        let seeds = whatsapp_seeds();
        let v = mutate(seeds[seed % seeds.len()].clone(), &changes);
        let raw = serde_json::to_vec(&v).unwrap();
        let _ = whatsapp::parse_webhook(&raw);
        // Truncated anywhere: an error, never a panic.
        let cut = seed % (raw.len() + 1);
        let _ = whatsapp::parse_webhook(&raw[..cut]);
    }

    #[test]
    fn telegram_update_arbitrary_bytes(bytes in vec(any::<u8>(), 0..2048)) {
        let _ = telegram::parse_update("madone", &bytes);
    }

    #[test]
    fn telegram_update_arbitrary_json_and_mutations(v in json(), seed in any::<usize>(), changes in vec(mutation(), 1..6)) {
        let _ = telegram::parse_update("madone", &serde_json::to_vec(&v).unwrap());
        let seeds = telegram_seeds();
        let m = mutate(seeds[seed % seeds.len()].clone(), &changes);
        let _ = telegram::parse_update("madone", &serde_json::to_vec(&m).unwrap());
    }
}

/// The real flow files, for mutation.
fn flow_sources() -> &'static [(String, String)] {
    static S: OnceLock<Vec<(String, String)>> = OnceLock::new();
    S.get_or_init(|| {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(root().join("flows")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                out.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
        out.sort();
        out
    })
}

/// Line-level edits of a TOML file: what a hurried editor or a bad merge does.
#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceValue(usize, String),
    InsertLine(usize, String),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let toml_ish = prop_oneof![
        "[a-z_]{1,12} = \"[^\"\\\\]{0,20}\"",
        "[a-z_]{1,12} = [0-9-]{1,12}",
        "[a-z_]{1,12} = \\[[\"a-zA-Z ,]{0,30}\\]",
        "\\[[a-z_.]{1,20}\\]",
        "\\[\\[[a-z_.]{1,20}\\]\\]",
        any::<String>(),
    ];
    let value = prop_oneof![
        "\"[^\"\\\\]{0,30}\"",
        "-?[0-9]{1,20}",
        "true",
        "\\[\\]",
        "\\{\\}",
        "\"\"",
        "\\[\"[A-Z ]{0,10}\"\\]",
        any::<String>(),
    ];
    prop_oneof![
        1 => any::<usize>().prop_map(Edit::DeleteLine),
        1 => any::<usize>().prop_map(Edit::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        3 => (any::<usize>(), value).prop_map(|(a, v)| Edit::ReplaceValue(a, v)),
        1 => (any::<usize>(), toml_ish).prop_map(|(a, l)| Edit::InsertLine(a, l)),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(src: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = src.lines().map(String::from).collect();
    for e in edits {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let n = lines.len();
        match e {
            Edit::DeleteLine(i) => {
                lines.remove(i % n);
            }
            Edit::DuplicateLine(i) => lines.insert(i % n, lines[i % n].clone()),
            Edit::SwapLines(a, b) => lines.swap(a % n, b % n),
            Edit::ReplaceValue(i, v) => {
                let line = &mut lines[i % n];
                if let Some(eq) = line.find('=') {
                    *line = format!("{}= {v}", &line[..eq]);
                }
            }
            Edit::InsertLine(i, l) => lines.insert(i % (n + 1), l.clone()),
            Edit::Truncate(at) => {
                let joined = lines.join("\n");
                let mut cut = at % (joined.len() + 1);
                while !joined.is_char_boundary(cut) {
                    cut -= 1;
                }
                lines = joined[..cut].lines().map(String::from).collect();
            }
        }
    }
    lines.join("\n")
}

/// Any date jiff can hold, weighted towards the edges of its range.
fn today() -> impl Strategy<Value = Date> {
    prop_oneof![
        Just(date(2026, 11, 23)),
        Just(Date::MIN),
        Just(Date::MAX),
        (-9999i16..=9999, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d)),
    ]
}

/// Text that looks like dates in the ways citizens write them, with noise.
fn date_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,3}[/.\\- ]{1,2}[0-9]{1,3}[/.\\- ]{1,2}[0-9]{0,6}",
        "[0-9]{1,9}",
        "(il |nato il |le )?[0-9]{1,2} (gennaio|febbraio|marzo|dic|fevr|août|aout|sept) [0-9]{0,5}",
        "[0-9 /.a-z]{0,40}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn flow_arbitrary_text(src in any::<String>()) {
        let _ = flow::parse_flow("fuzz.toml", &src, &world().1);
    }

    #[test]
    fn flow_mutated_real_files(which in any::<usize>(), edits in vec(edit(), 1..5)) {
        let files = flow_sources();
        let (name, src) = &files[which % files.len()];
        let mutated = apply(src, &edits);
        let _ = flow::parse_flow(name, &mutated, &world().1);
    }

    #[test]
    fn dates_never_panic(s in date_text(), today in today()) {
        let _ = text::find_date(&s, today);
        let _ = text::parse_date(&s, today);
    }

    #[test]
    fn keywords_of_every_flow_never_panic(s in any::<String>(), noisy in "[A-Za-zÀ-ÿ'’ ]{0,60}", which in any::<usize>()) {
        let flows: Vec<_> = world().0.iter().collect();
        let flow = flows[which % flows.len()];
        let _ = flow.keywords.find(&s);
        let _ = flow.keywords.find(&noisy);
    }

    #[test]
    fn one_shot_lines_never_panic(s in any::<String>(), line in one_shot_line(), today in today()) {
        let consents = vec![
            ("messages".to_string(), vec!["autorizzo la ricezione".to_string(), "autorizzo".to_string()]),
            ("privacy".to_string(), vec!["acconsento privacy".to_string(), "acconsento".to_string()]),
        ];
        let _ = text::parse_one_shot(&s, &consents, today);
        let _ = text::parse_one_shot(&line, &consents, today);
    }

    #[test]
    fn person_names_never_panic(s in any::<String>()) {
        if let Ok(clean) = text::check_person_name(&s) {
            // What is accepted is accepted again unchanged.
            let again = text::check_person_name(&clean);
            prop_assert_eq!(again.as_deref(), Ok(clean.as_str()));
        }
        let _ = text::check_place(&s);
    }
}

fn one_shot_line() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        "[A-Z][a-zàèéìòù']{1,12}( [A-Z][a-z]{1,12}){0,3}",
        date_text(),
        Just("Autorizzo la ricezione di sms WhatsApp".to_string()),
        Just("Acconsento Privacy".to_string()),
        "[-–—,;:. ]{0,4}",
        any::<String>(),
    ];
    vec(part, 0..8).prop_map(|parts| parts.join(" - "))
}

/// The router of a server on an in-memory store, with one runtime for every case (the
/// simulator and login forms are driven through it without a socket).
fn forms_app() -> &'static (tokio::runtime::Runtime, axum::Router) {
    static APP: OnceLock<(tokio::runtime::Runtime, axum::Router)> = OnceLock::new();
    APP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store: std::sync::Arc<dyn sportello::storage::Store> =
            std::sync::Arc::new(sportello::storage::MemoryStore::new());
        let server = sportello::server::Server::new(
            crate::util::engine(store),
            sportello::config::Config::default(),
            sportello::config::Secrets::from_vars(Vec::new()),
        );
        let app = rt.block_on(async { sportello::app::router(server) });
        (rt, app)
    })
}

/// The status of `method path` with `body` from address `peer`.
fn form_status(path: &str, content_type: &str, cookie: Option<String>, body: Vec<u8>, peer: [u8; 4]) -> u16 {
    use tower::ServiceExt;
    let (rt, app) = forms_app();
    let mut req = axum::http::Request::post(path).header("content-type", content_type);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let mut req = req.body(axum::body::Body::from(body)).unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((peer, 40_000))));
    rt.block_on(app.clone().oneshot(req)).unwrap().status().as_u16()
}

proptest! {
    #![proptest_config(config())]

    /// Issue 17: the simulator's form answers anything with a 2xx or a 4xx, never a 5xx.
    #[test]
    fn simulator_form_never_fails(
        v in json(),
        comune in "(brusson|isili|madone|assemini|isola-delle-femmine|[a-z]{0,8})",
        session in "[ -~]{0,70}",
        text in any::<String>(),
        button in proptest::option::of("[ -~]{0,20}"),
        peer in any::<[u8; 4]>(),
    ) {
        let raw = form_status("/try/api/message", "application/json", None, serde_json::to_vec(&v).unwrap(), peer);
        prop_assert!(raw < 500, "{raw} for {v}");
        let mut m = serde_json::json!({"comune": comune, "session": session, "text": text});
        if let Some(b) = button {
            m["button"] = Value::String(b);
        }
        let shaped = form_status("/try/api/message", "application/json", None, serde_json::to_vec(&m).unwrap(), peer);
        prop_assert!(shaped < 500, "{shaped} for {m}");
    }

    /// Issue 17: the login form answers anything with a 4xx or a redirect, never a 5xx,
    /// forged tokens included.
    #[test]
    fn login_form_never_fails(
        pairs in vec(("[a-z]{0,8}", any::<String>()), 0..6),
        token in "[0-9a-f]{64}|[ -~]{0,70}",
        bytes in vec(any::<u8>(), 0..512),
        peer in any::<[u8; 4]>(),
    ) {
        let mut form: Vec<(String, String)> = pairs;
        form.push(("csrf".into(), token.clone()));
        let body = serde_urlencoded_pairs(&form);
        let cookie = Some(format!("sportello_login={token}"));
        let status = form_status("/staff/login", "application/x-www-form-urlencoded", cookie, body, peer);
        prop_assert!(status < 500 && status != 303, "{status} for a forged token");
        let raw = form_status("/staff/login", "application/x-www-form-urlencoded", None, bytes, peer);
        prop_assert!(raw < 500, "{raw}");
    }
}

/// `application/x-www-form-urlencoded` without another crate: every byte but
/// unreserved ones percent-encoded.
fn serde_urlencoded_pairs(pairs: &[(String, String)]) -> Vec<u8> {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}
