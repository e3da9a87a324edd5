//! Issue 8: `sportello backup` while the server runs and writes, `sportello restore`, and a
//! record-by-record comparison of the restored store with the live one. Also: restore
//! refuses a damaged file, a non-empty directory and a directory a server holds.

use std::collections::BTreeSet;
use std::io::BufReader;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use sportello::channel::whatsapp::sign;
use sportello::storage::backup::{read_backup, Records};
use sportello::storage::keys::{CITIZENS_TREE, INBOUND_TREE, OUTBOX_TREE, SENT_TREE};
use sportello::storage::{CitizenKey, SledStore};

use crate::harness::server::{wa_text, Harness};
use crate::util::{root, sportello};

const TRAFFIC: usize = 60;

/// Runs the real binary off the async threads; returns (success, stdout, stderr).
async fn run(args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = sportello(&root(), &args, "");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn args(parts: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<String> {
    parts
        .iter()
        .map(|p| p.as_ref().to_string_lossy().into_owned())
        .collect()
}

/// Waits until nothing is pending: every journalled message processed, the outbox empty.
async fn settle(h: &Harness) {
    for _ in 0..500 {
        let r = h.sled.records().unwrap();
        let pending = r[INBOUND_TREE]
            .values()
            .any(|v| !json(v)["done"].as_bool().unwrap_or(false));
        if !pending && r[OUTBOX_TREE].is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server did not settle");
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn citizen_of(bytes: &[u8]) -> CitizenKey {
    serde_json::from_value(json(bytes)["key"].clone()).unwrap()
}

fn open_records(dir: &Path) -> Records {
    SledStore::open(dir).unwrap().records().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_the_server_writes_restores_a_consistent_state() {
    let h = Harness::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let mut n = 0;
    let mut say = async |comune: &str, from: &str, text: &str| {
        n += 1;
        assert_eq!(
            h.post_signed(&wa_text(
                comune,
                from,
                &format!("wamid.bk.{n}"),
                1_800_000_000 + n,
                text
            ))
            .await,
            200
        );
        settle(&h).await;
    };
    say(
        "isili",
        "393331110001",
        "REGISTRAZIONE Mario Rossi - Isili 12/03/1980 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy",
    )
    .await;
    say("brusson", "393331110002", "JE M'INSCRIS").await;
    say("madone", "393331110003", "ATTIVA ISCRIZIONE").await;
    for text in ["Buongiorno", "Mario", "Rossi", "12/03/1980", "che merda di servizio"] {
        say("assemini", "393331110004", text).await;
    }
    let before = h.sled.records().unwrap();
    assert!(
        before[CITIZENS_TREE].len() >= 4 && !before[SENT_TREE].is_empty(),
        "{:?}",
        before.keys()
    );

    // Writes keep coming while the backup is taken: one-step subscriptions, new citizens.
    let (base, http) = (h.base.clone(), h.http.clone());
    let traffic = tokio::spawn(async move {
        for i in 0..TRAFFIC {
            let raw = serde_json::to_vec(&wa_text(
                "isola-delle-femmine",
                &format!("3933322{i:05}"),
                &format!("wamid.live.{i}"),
                1_800_000_100,
                "ATTIVA ISCRIZIONE",
            ))
            .unwrap();
            let code = http
                .post(format!("{base}/webhook/whatsapp"))
                .header("x-hub-signature-256", sign(b"test-app-secret", &raw))
                .body(raw)
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(code.as_u16(), 200);
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(40)).await;
    let (b1, b2) = (tmp.path().join("during.backup"), tmp.path().join("after.backup"));
    let started = std::time::Instant::now();
    let (ok, out, err) = run(args(&[&"backup", &"--to", &b1, &"--data", &h.data])).await;
    assert!(ok, "{err}");
    assert!(out.contains("the running server"), "{out}");
    eprintln!("backup during traffic: {:?}; {out}", started.elapsed());
    assert!(
        !traffic.is_finished(),
        "the backup should overlap the traffic (it took {:?})",
        started.elapsed()
    );
    traffic.await.unwrap();
    settle(&h).await;

    let (ok, _, err) = run(args(&[&"backup", &"--to", &b2, &"--data", &h.data])).await;
    assert!(ok, "{err}");
    let live = h.sled.records().unwrap();
    // A directory a server holds is never restored into.
    let (ok, _, err) = run(args(&[&"restore", &"--from", &b2, &"--data", &h.data, &"--force"])).await;
    assert!(!ok && err.contains("server"), "{err}");
    // A sealed backup opens with the keyring (and master key) it was written with.
    let (r1, r2) = (tmp.path().join("r1"), tmp.path().join("r2"));
    for to in [&r1, &r2] {
        std::fs::create_dir_all(to).unwrap();
        for file in ["keyring", "master.key"] {
            std::fs::copy(h.data.join(file), to.join(file)).unwrap();
        }
    }
    h.stop().await;

    for (from, to) in [(&b1, &r1), (&b2, &r2)] {
        let (ok, out, err) = run(args(&[&"restore", &"--from", from, &"--data", to])).await;
        assert!(ok && out.contains("restored"), "{err}");
    }

    // Taken at rest: the restored store equals the live one, tree by tree, record by record.
    let restored = open_records(&r2);
    assert_eq!(restored.keys().collect::<Vec<_>>(), live.keys().collect::<Vec<_>>());
    for (tree, records) in &live {
        assert_eq!(&restored[tree], records, "tree {tree}");
    }
    assert_eq!(live[CITIZENS_TREE].len(), before[CITIZENS_TREE].len() + TRAFFIC);

    // Taken during the traffic: everything committed before is there unchanged, and each
    // new citizen's step is there whole or not at all.
    let during = open_records(&r1);
    for (tree, records) in &before {
        for (k, v) in records {
            assert_eq!(
                during[tree].get(k),
                Some(v),
                "a record of {tree} from before the backup"
            );
        }
    }
    // The store is sealed: its keys name citizens by pseudonym and journal entries by a keyed
    // hash of the message id; the keyring (copied with the backup) says which is whose.
    let view = sportello::storage::sealed::migrate::open_sled(&r1).unwrap().0;
    let citizens: BTreeSet<CitizenKey> = during[CITIZENS_TREE]
        .keys()
        .map(|k| CitizenKey::decode(k).unwrap())
        .collect();
    let answered: BTreeSet<CitizenKey> = during[OUTBOX_TREE]
        .values()
        .chain(during[SENT_TREE].values())
        .map(|v| citizen_of(v))
        .collect();
    let mut new = 0;
    for i in 0..TRAFFIC {
        let key = view.hidden_key(&CitizenKey::new(
            "isola-delle-femmine",
            "whatsapp",
            &format!("3933322{i:05}"),
        ));
        let message =
            sportello::storage::keys::inbound_key("whatsapp", "pn-isola-delle-femmine", &format!("wamid.live.{i}"));
        let d = during[INBOUND_TREE]
            .get(&view.hidden_id(&message))
            .is_some_and(|v| json(v)["done"] == true);
        let (c, a) = (citizens.contains(&key), answered.contains(&key));
        assert!(
            c == d && c == a,
            "citizen {i}: record {c}, message done {d}, reply queued or sent {a}"
        );
        new += usize::from(c);
    }
    drop(view);
    eprintln!("the backup during traffic holds {new} of {TRAFFIC} new citizens");

    // With no server, backup reads the directory itself.
    let b3 = tmp.path().join("rest.backup");
    let (ok, out, err) = run(args(&[&"backup", &"--to", &b3, &"--data", &r2])).await;
    assert!(ok && out.contains("the data directory"), "{out}{err}");
    let reread = read_backup(BufReader::new(std::fs::File::open(&b3).unwrap())).unwrap();
    assert_eq!(reread.records, open_records(&r2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_damaged_file_and_a_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = sportello(
        &root(),
        &[
            "chat",
            "--comune",
            "madone",
            "--from",
            "3331110009",
            "--data",
            data.to_str().unwrap(),
        ],
        "ATTIVA ISCRIZIONE\n",
    );
    assert!(out.status.success());
    let file = tmp.path().join("b");
    let (ok, _, err) = run(args(&[&"backup", &"--to", &file, &"--data", &data])).await;
    assert!(ok, "{err}");

    let (ok, _, err) = run(args(&[&"restore", &"--from", &file, &"--data", &data])).await;
    assert!(!ok && err.contains("not empty"), "{err}");

    let mut bytes = std::fs::read(&file).unwrap();
    // A byte inside the citizen record: the file still parses, only the checksum tells.
    let at = bytes.windows(6).position(|w| w == b"value\"").unwrap() + 20;
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    let damaged = tmp.path().join("damaged");
    std::fs::write(&damaged, &bytes).unwrap();
    let target = tmp.path().join("target");
    let (ok, _, err) = run(args(&[&"restore", &"--from", &damaged, &"--data", &target])).await;
    assert!(!ok && err.contains("checksum"), "{err}");
    assert!(!target.exists(), "nothing written");

    let whole = std::fs::read(&file).unwrap();
    let lines: Vec<&[u8]> = whole.split(|b| *b == b'\n').collect();
    let truncated = tmp.path().join("truncated");
    std::fs::write(&truncated, lines[..lines.len() - 2].join(&b'\n')).unwrap();
    let (ok, _, err) = run(args(&[&"restore", &"--from", &truncated, &"--data", &target])).await;
    assert!(!ok && err.contains("truncated"), "{err}");
}
