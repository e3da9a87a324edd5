//! The command-line contracts of SPEC.md, through the real binary: `chat --json`,
//! `citizen show`, the shared data directory, and state surviving a restart.

use serde_json::Value;

use crate::util::{root, sportello};

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

fn show(data: &str, comune: &str, from: &str) -> (i32, String, String) {
    let out = sportello(
        &root(),
        &["citizen", "show", "--comune", comune, "--from", from, "--data", data],
        "",
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn chat_json_writes_one_object_per_outgoing_message_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let out = sportello(
        &root(),
        &[
            "chat",
            "--comune",
            "brusson",
            "--from",
            "+39 333 000 0001",
            "--json",
            "--data",
            data,
        ],
        "JE M'INSCRIS\nbonjour\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["key"], "brusson-subscribed");
    assert!(lines[0]["text"].as_str().unwrap().contains("Commune de Brusson"));
    assert!(lines[0]["buttons"].as_array().unwrap().is_empty());
    assert_eq!(lines[1]["key"], "brusson-other");
    // No Unicode isolation marks around placeables (they show in WhatsApp).
    assert!(!lines[0]["text"].as_str().unwrap().contains('\u{2068}'));
}

#[test]
fn chat_buttons_are_listed_and_a_number_taps_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    let input = "Iscrivimi\nMario\nRossi\n12/03/1980\n1\n";
    let out = sportello(
        &root(),
        &[
            "chat",
            "--comune",
            "assemini",
            "--from",
            "3330000002",
            "--json",
            "--data",
            data,
        ],
        input,
    );
    let lines = json_lines(&out.stdout);
    let ask = lines
        .iter()
        .find(|l| l["key"] == "ask-accept-privacy")
        .expect("asked to accept");
    assert_eq!(ask["buttons"][0]["id"], "yes");
    assert_eq!(ask["buttons"][0]["title"], "Sì");
    assert_eq!(lines.last().unwrap()["key"], "assemini-subscribed");
    let (code, stdout, _) = show(data, "assemini", "+39 333 000 0002");
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["consents"][0]["how"], "button");
}

#[test]
fn citizen_show_prints_the_contract_fields() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let line =
        "REGISTRAZIONE Mario Rossi - Isili 12/03/1980 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy\n";
    let out = sportello(
        &root(),
        &["chat", "--comune", "isili", "--from", "3331234567", "--data", data],
        line,
    );
    assert!(out.status.success());
    let (code, stdout, _) = show(data, "isili", "+393331234567");
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["status"], "subscribed");
    assert_eq!(v["language"], "it");
    assert_eq!(v["fields"]["full_name"], "Mario Rossi");
    assert_eq!(v["fields"]["birth_place"], "Isili");
    assert_eq!(v["fields"]["birth_date"], "1980-03-12");
    assert!(v["categories"].is_array());
    let consents = v["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 2);
    for c in consents {
        assert_eq!(c["notice_version"], "2017-02-02");
        assert!(c["at"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
        assert!(c["message_id"].as_str().unwrap().starts_with("chat-"));
    }
}

#[test]
fn citizen_show_of_an_unknown_citizen_exits_1_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A store that exists, without this citizen.
    drop(sportello::storage::SledStore::open(&data).unwrap());
    let (code, stdout, stderr) = show(data.to_str().unwrap(), "madone", "3339999999");
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(stderr.contains("no citizen"), "{stderr}");
}

/// A data directory that does not exist is refused by the commands that read what a server
/// stored, and not created: a typo in `--data` must not print a plausible empty answer
/// (issue 21). Years and channels are checked too.
#[test]
fn reading_commands_refuse_a_missing_data_directory_and_bad_years_and_channels() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("dta");
    let t = typo.to_str().unwrap();
    for args in [
        vec!["report", "--comune", "madone", "--year", "2026", "--data", t],
        vec!["citizen", "show", "--comune", "madone", "--from", "3331", "--data", t],
        vec!["citizen", "export", "--comune", "madone", "--from", "3331", "--data", t],
        vec![
            "citizen", "erase", "--comune", "madone", "--from", "3331", "--by", "x", "--reason", "y", "--data", t,
        ],
        vec!["retention", "run", "--data", t],
    ] {
        let out = sportello(&root(), &args, "");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains("does not exist"), "{args:?}: {err}");
        assert!(!typo.exists(), "{args:?} created the directory");
    }
    for (args, what) in [
        (vec!["report", "--comune", "madone", "--year", "26"], "26"),
        (
            vec!["chat", "--comune", "madone", "--from", "1", "--channel", "sms"],
            "sms",
        ),
    ] {
        let out = sportello(&root(), &args, "");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&format!("invalid value '{what}'")), "{err}");
    }
}

#[test]
fn state_survives_a_restart_in_the_middle_of_a_registration() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let args = [
        "chat",
        "--comune",
        "isili",
        "--from",
        "3335550000",
        "--json",
        "--data",
        data,
    ];
    let first = json_lines(&sportello(&root(), &args, "REGISTRAZIONE\nMario Rossi\n").stdout);
    assert_eq!(first.last().unwrap()["key"], "ask-birth-place");
    // A new process on the same data directory continues where the first one stopped.
    let second = json_lines(&sportello(&root(), &args, "Isili\n").stdout);
    assert_eq!(second[0]["key"], "ask-birth-date");
    let (_, stdout, _) = show(data, "isili", "3335550000");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["status"], "registering");
}

#[test]
fn the_binary_runs_on_its_built_in_flows_from_any_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = sportello(
        dir.path(),
        &["chat", "--comune", "madone", "--from", "3331", "--json"],
        "ATTIVA ISCRIZIONE\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_lines(&out.stdout)[0]["key"], "madone-subscribed");
    assert!(dir.path().join("data").is_dir(), "default data directory is ./data");
    let out = sportello(dir.path(), &["flows", "check"], "");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("5 flows"));
}

#[test]
fn chat_on_an_unknown_comune_fails_and_names_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = sportello(dir.path(), &["chat", "--comune", "atlantide", "--from", "1"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("isili"));
}

/// `serve` checks its configuration against the flows and the secrets before it listens
/// (issue 21): a misspelt comune, or a WhatsApp number without its secrets, stops it at
/// once, naming the file and the line (and the closest flow), and nothing is created.
#[test]
fn serve_refuses_a_misspelt_comune_or_a_number_without_secrets_naming_the_line() {
    let cases = [
        (
            "[server]\nbind = \"127.0.0.1:0\"\n\n[comuni.asemini]\n",
            "config.toml:4: [comuni.asemini]: there is no flow \"asemini\" (did you mean \"assemini\"?)",
        ),
        (
            "[server]\nbind = \"127.0.0.1:0\"\n\n[comuni.brusson]\nwhatsapp_phone_number_id = \"100\"\n",
            "config.toml:5: comuni.brusson has a WhatsApp number but SPORTELLO_WHATSAPP_APP_SECRET and SPORTELLO_WHATSAPP_TOKEN (or SPORTELLO_WHATSAPP_TOKEN_BRUSSON) are not set",
        ),
    ];
    for (toml, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, toml).unwrap();
        let data = dir.path().join("data");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"));
        command
            .args([
                "serve",
                "--config",
                config.to_str().unwrap(),
                "--data",
                data.to_str().unwrap(),
            ])
            .current_dir(root())
            .env("SPORTELLO_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        // Whatever the machine running the tests has set.
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("SPORTELLO_WHATSAPP")) {
            command.env_remove(k);
        }
        let mut child = command.spawn().unwrap();
        // A serve that starts anyway would run until killed: give it 30 s.
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > std::time::Duration::from_secs(30) {
                child.kill().unwrap();
                panic!("serve started with {toml}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(!status.success());
        assert!(err.contains(expected), "{err}");
        assert!(!data.exists(), "the data directory was created before the check");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    // `sportello flows check | head -0`: the pipe's reading end is closed before it writes.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["flows", "check"])
        .current_dir(root())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
