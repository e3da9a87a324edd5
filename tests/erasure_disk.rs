//! Erasure that reaches the disk (issue 24): once a citizen is erased — by leaving in their
//! comune's own way, by `citizen erase`, by the retention sweep — no byte of what they gave
//! is left anywhere under the data directory, nor in a backup taken while they were
//! subscribed, in any encoding a store or a backup may use (plain, hex, base64, JSON escapes);
//! a restore never brings them back; and a `kill -9` in the middle of an erasure changes none
//! of that once the store is opened again.
//!
//! Everything drives the real binary, like `privacy.rs`, and reads the files raw: what sled's
//! own API no longer returns may still sit in its log. Each command builds the whole engine
//! (some 4 s in a debug build), so the tests keep their commands few: `I MIEI DATI` in the
//! same chat proves the record was held before leaving.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::leavers::{
    assert_chat, assert_none, assert_obscured_one, chat_command, chat_replies, erase_args, not_found, reply_keys,
    stderr, stdout, Leaver, Subscriber,
};
use crate::harness::scan::{base64_inner, files_under, needles, Finder, BASE64};
use crate::util::{root, sportello};

// ---------------------------------------------------------------------------------------------
// The scanner of files (the forms it looks for: `harness::scan`)
// ---------------------------------------------------------------------------------------------

/// A needle found: which, how encoded, where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Hit {
    file: PathBuf,
    needle: String,
    encoding: String,
    offset: usize,
}

impl std::fmt::Display for Hit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "needle {:?} found as {} in {} (byte {})",
            self.needle,
            self.encoding,
            self.file.display(),
            self.offset
        )
    }
}

/// What a scan read and found.
#[derive(Debug, Default)]
struct Scan {
    files: Vec<PathBuf>,
    bytes: u64,
    hits: Vec<Hit>,
}

/// Reads every file under `dir` (none when it does not exist) and each of `extra`, raw, and
/// reports every form of every needle found in them (the first place per needle, encoding
/// and file).
fn scan(dir: &Path, extra: &[&Path], needles: &[String]) -> Scan {
    let finder = Finder::new(needles);
    let mut scan = Scan::default();
    files_under(dir, &mut scan.files);
    scan.files.extend(extra.iter().map(|p| p.to_path_buf()));
    let mut hits = BTreeSet::new();
    for file in &scan.files {
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        scan.bytes += bytes.len() as u64;
        for (form, offset) in finder.find(&bytes) {
            hits.insert(Hit {
                file: file.clone(),
                needle: form.needle.clone(),
                encoding: form.encoding.clone(),
                offset,
            });
        }
    }
    scan.hits = hits.into_iter().collect();
    scan
}

/// The needles found under `data` and in `extra`, as messages prefixed with `when`; panics
/// when there was nothing to read (a wrong path must not pass as a clean store).
fn leaks(when: &str, data: &Path, extra: &[&Path], needles: &[String]) -> Vec<String> {
    let scan = scan(data, extra, needles);
    assert!(
        !scan.files.is_empty() && scan.bytes > 0,
        "{when}: nothing to scan under {} and in {extra:?}",
        data.display()
    );
    scan.hits.iter().map(|h| format!("{when}: {h}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

fn run(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--data", data.to_str().unwrap()]);
    let out = sportello(&root(), &all, stdin);
    assert!(out.status.code().is_some(), "{args:?} died: {:?}", out.status);
    out
}

/// A chat session of `lines`, optionally at `now`: the replies, one JSON object each.
fn chat(data: &Path, comune: &str, number: &str, now: Option<&str>, lines: &[&str]) -> Vec<Value> {
    let (args, input) = chat_command(comune, number, now, lines);
    chat_replies(comune, &run(data, &args, &input))
}

fn show(data: &Path, comune: &str, number: &str) -> Output {
    run(
        data,
        &["citizen", "show", "--comune", comune, "--from", number, "--json"],
        "",
    )
}

fn erase(data: &Path, comune: &str, number: &str) -> Output {
    run(data, &erase_args(comune, number), "")
}

/// `sportello keyring status`: (live, erased), or None when this build has no such command.
fn keyring_status(data: &Path) -> Option<(u64, u64)> {
    let out = run(data, &["keyring", "status"], "");
    let err = stderr(&out);
    if out.status.code() == Some(2) && err.contains("unrecognized subcommand") {
        return None;
    }
    assert!(out.status.success(), "keyring status: {err}");
    let text = stdout(&out);
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("keyring:"))
        .unwrap_or_else(|| panic!("no `keyring: N live, M erased` line in {text}"));
    let (live, erased) = line
        .split_once(',')
        .unwrap_or_else(|| panic!("keyring status line {line:?}"));
    let number = |part: &str, word: &str| -> u64 {
        part.trim()
            .strip_suffix(word)
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("keyring status line {line:?}: no \"N {word}\""))
    };
    Some((number(live, "live"), number(erased, "erased")))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let target = to.join(entry.file_name());
        assert!(
            !kind.is_symlink(),
            "a symbolic link in the data directory: {:?}",
            entry.path()
        );
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            // Copies the permissions too (a 0600 master key stays 0600).
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The scanner can fail
// ---------------------------------------------------------------------------------------------

/// Each encoding planted in its own file (the encoded strings made by coreutils' `base64`,
/// `basenc --base64url`, `xxd -p` and Python's `json.dumps`, not by the scanner's code) is
/// found and named; a clean file and a symbolic link to a dirty file outside are not reported;
/// an extra file outside the directory (a backup) is read.
#[test]
fn the_scanner_finds_every_encoding_and_follows_no_link() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("sub/deeper")).unwrap();
    let plant = |name: &str, content: &[u8]| std::fs::write(data.join(name), content).unwrap();
    plant("plain", b"\x00\x01record{\"text\":\"Zzyzxqu e basta\"}\xff");
    plant("lower", b"..zzyzxqu..");
    plant(
        "sub/hex",
        b"{\"tree\":\"t\",\"key\":\"00\",\"value\":\"00ff5a7a797a78717500\"}",
    );
    plant("sub/HEX", b"DEADBEEF5A7A797A787175");
    // "Zzyzxqu, hi", "aZzyzxqu, hi", "abZzyzxqu, hi" in base64.
    plant("sub/deeper/b64-0", b"Wnp5enhxdSwgaGk=");
    plant("sub/deeper/b64-1", b"YVp6eXp4cXUsIGhp");
    plant("sub/deeper/b64-2", b"YWJaenl6eHF1LCBoaQ==");
    // "aOttavio»Sbrodolini!!" in URL-safe base64: the needle's part holds a `_` where
    // standard base64 has `/`.
    plant("url", b"YU90dGF2aW_Cu1Nicm9kb2xpbmkhIQ==");
    plant("json", b"{\"name\":\"Ottavio\\u00bbSbrodolini\"}");
    plant("clean", b"nothing personal here: 3471234566, Zzyzxq, Sbrodolin");
    let outside = dir.path().join("outside");
    std::fs::write(&outside, b"Zzyzxqu Ottavio\xc2\xbbSbrodolini").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, data.join("link")).unwrap();
    let backup = dir.path().join("backup");
    std::fs::write(&backup, b"{\"value\":\"4f74746176696fc2bb5362726f646f6c696e69\"}").unwrap();

    let needles = vec!["Zzyzxqu".to_string(), "Ottavio»Sbrodolini".to_string()];
    let found = scan(&data, &[&backup], &needles);
    let got: BTreeSet<(String, &str, &str)> = found
        .hits
        .iter()
        .map(|h| {
            let file = h.file.strip_prefix(dir.path()).unwrap().display().to_string();
            (file, h.needle.as_str(), h.encoding.as_str())
        })
        .collect();
    let want: BTreeSet<(String, &str, &str)> = [
        ("data/plain", "Zzyzxqu", "plain bytes"),
        ("data/lower", "Zzyzxqu", "plain lower-case"),
        ("data/sub/hex", "Zzyzxqu", "lower-case hex"),
        ("data/sub/HEX", "Zzyzxqu", "upper-case hex"),
        ("data/sub/deeper/b64-0", "Zzyzxqu", "base64 at byte alignment 0"),
        ("data/sub/deeper/b64-1", "Zzyzxqu", "base64 at byte alignment 1"),
        ("data/sub/deeper/b64-2", "Zzyzxqu", "base64 at byte alignment 2"),
        ("data/url", "Ottavio»Sbrodolini", "URL-safe base64 at byte alignment 1"),
        ("data/json", "Ottavio»Sbrodolini", "JSON \\u-escaped (lower-case hex)"),
        ("backup", "Ottavio»Sbrodolini", "lower-case hex"),
    ]
    .into_iter()
    .map(|(f, n, e)| (f.to_string(), n, e))
    .collect();
    assert_eq!(got, want, "{:#?}", found.hits);
    assert!(
        found.files.iter().all(|f| !f.ends_with("link")),
        "a symbolic link was followed"
    );
    assert_eq!(
        found.files.len(),
        11,
        "10 planted files and the backup: {:?}",
        found.files
    );
    // And every hit message names the needle, the encoding and the file.
    let message = leaks("planted", &data, &[], &needles).join("\n");
    assert!(
        message.contains("needle \"Zzyzxqu\" found as upper-case hex in ") && message.contains("sub/HEX"),
        "{message}"
    );
    // Base64 alignment: what depends on the neighbours is left out.
    assert_eq!(base64_inner(b"abc", 0, BASE64), "YWJj");
    assert_eq!(base64_inner(b"abc", 1, BASE64), "FiY");
    assert_eq!(base64_inner(b"abc", 2, BASE64), "hYm");
}

// ---------------------------------------------------------------------------------------------
// Leaving, comune by comune
// ---------------------------------------------------------------------------------------------

fn leaves_no_byte_on_disk(leaver: Leaver) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let replies = chat(&data, leaver.comune, leaver.number, leaver.now, leaver.script);
    assert_chat(leaver.comune, &replies, leaver.replies, leaver.held);
    if leaver.retention {
        assert_obscured_one(&run(&data, &["retention", "run"], ""));
    }
    let mut problems = Vec::new();
    problems.extend(not_found(&show(&data, leaver.comune, leaver.number), leaver.number));
    problems.extend(leaks(
        &format!("{} leaver", leaver.comune),
        &data,
        &[],
        &needles(leaver.number, leaver.words),
    ));
    assert_none(&format!("after leaving {}", leaver.comune), &problems);
}

/// Assemini: name, surname and birth date at first contact, a question kept as a case,
/// Iscrivimi and the policy accepted; Cancellami destroys or anonymizes the data.
#[test]
fn an_assemini_leaver_leaves_no_personal_byte_on_disk() {
    leaves_no_byte_on_disk(Leaver::assemini("3471234567"));
}

/// Brusson: MI ISCRIVO, no registration; a message naming the writer; MI CANCELLO deletes
/// the number for good.
#[test]
fn a_brusson_leaver_leaves_no_personal_byte_on_disk() {
    leaves_no_byte_on_disk(Leaver::brusson("3471230002"));
}

/// Isili: the one-shot REGISTRAZIONE line (name, birth place and date, both consents);
/// CANCELLAZIONE deletes the data.
#[test]
fn an_isili_leaver_leaves_no_personal_byte_on_disk() {
    leaves_no_byte_on_disk(Leaver::isili("3471230001"));
}

/// Isola delle Femmine: ATTIVA ISCRIZIONE; DISATTIVA ISCRIZIONE deletes the number.
#[test]
fn an_isola_delle_femmine_leaver_leaves_no_personal_byte_on_disk() {
    leaves_no_byte_on_disk(Leaver::isola_delle_femmine("3471230003"));
}

/// Madone keeps a leaver at least a calendar year, then obscures them: the leaver left in
/// March 2024 (`chat --now`; `retention run` has no clock option and sweeps at the real now,
/// well past the period), and the sweep must leave nothing of them on disk.
#[test]
fn a_madone_leaver_obscured_by_retention_leaves_no_personal_byte_on_disk() {
    leaves_no_byte_on_disk(Leaver::madone("3471230004"));
}

// ---------------------------------------------------------------------------------------------
// Erasure on request, backups, restore
// ---------------------------------------------------------------------------------------------

/// `citizen erase` of a registered Assemini subscriber with a pending question: nothing of
/// them is left on disk.
#[test]
fn an_erasure_on_request_leaves_no_personal_byte_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let number = "3471230005";
    let citizen = Subscriber::ERASED_ON_REQUEST;
    citizen.assert_chat(&chat(&data, "assemini", number, None, &citizen.script()));
    let erased = erase(&data, "assemini", number);
    assert_eq!(erased.status.code(), Some(0), "citizen erase: {}", stderr(&erased));
    let counts: Value = serde_json::from_str(&stdout(&erased)).unwrap();
    assert_eq!(counts["citizen"], 1, "one record erased: {counts}");

    let mut problems = Vec::new();
    problems.extend(not_found(&show(&data, "assemini", number), number));
    problems.extend(leaks(
        "after citizen erase",
        &data,
        &[],
        &needles(number, &citizen.words()),
    ));
    assert_none("citizen erase", &problems);
}

/// A backup taken while a citizen was subscribed holds nothing of them once they are erased
/// (their key is gone); restoring it into the same data directory (the live keyring) does
/// not bring them back, and brings back whole a citizen who was not erased.
#[test]
fn a_backup_holds_nothing_of_an_erased_citizen_and_its_restore_never_brings_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (erased, kept) = ("3471230006", "3471230007");
    let replies = chat(
        &data,
        "isili",
        erased,
        None,
        &[
            "REGISTRAZIONE Eusebio Travaglini - Nurallao 30/06/1972 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy",
            "Buongiorno, Zzyzxqu",
            "I MIEI DATI",
        ],
    );
    assert_chat(
        "isili",
        &replies,
        &["isili-registered"],
        &["Eusebio Travaglini", "Nurallao", "30/06/1972"],
    );
    let replies = chat(
        &data,
        "isili",
        kept,
        None,
        &["REGISTRAZIONE Dorotea Bevilacqua - Laconi 05/05/1985 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy"],
    );
    assert_chat("isili", &replies, &["isili-registered"], &[]);

    std::fs::create_dir(dir.path().join("backups")).unwrap();
    let backup = dir.path().join("backups/sportello.backup");
    let taken = run(&data, &["backup", "--to", backup.to_str().unwrap()], "");
    assert!(taken.status.success(), "backup: {}", stderr(&taken));
    let gone = erase(&data, "isili", erased);
    assert_eq!(gone.status.code(), Some(0), "citizen erase: {}", stderr(&gone));

    let needles = needles(
        erased,
        &[
            "Eusebio",
            "Travaglini",
            "Nurallao",
            "30/06/1972",
            "1972-06-30",
            "Zzyzxqu",
        ],
    );
    let mut problems = Vec::new();
    problems.extend(leaks("after the erasure", &data, &[&backup], &needles));

    let restored = run(&data, &["restore", "--from", backup.to_str().unwrap(), "--force"], "");
    assert!(restored.status.success(), "restore: {}", stderr(&restored));
    problems.extend(not_found(&show(&data, "isili", erased), erased).map(|p| format!("after the restore: {p}")));
    problems.extend(leaks("after the restore", &data, &[&backup], &needles));
    // The restore did restore: the other citizen is back, whole.
    let back = show(&data, "isili", kept);
    assert_eq!(
        back.status.code(),
        Some(0),
        "the citizen not erased is not back after the restore: {}",
        stderr(&back)
    );
    let record: Value = serde_json::from_str(&stdout(&back)).unwrap();
    assert_eq!(record["fields"]["full_name"], "Dorotea Bevilacqua", "{record}");
    assert_eq!(record["fields"]["birth_date"], "1985-05-05", "{record}");
    assert_eq!(record["status"], "subscribed", "{record}");
    assert_none("backup and restore", &problems);
}

// ---------------------------------------------------------------------------------------------
// kill -9 during an erasure
// ---------------------------------------------------------------------------------------------

/// Read and write system calls the process `pid` made so far (`/proc/<pid>/io`: syscr +
/// syscw), a count that grows the same way at every run on the same data; None where
/// there is no such file.
fn progress(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let field = |name: &str| {
        io.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse::<u64>().ok()))
    };
    Some(field("syscr:")? + field("syscw:")?)
}

/// Whether `pid` has exited and waits to be reaped (its counters are still readable).
fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('Z')))
        .unwrap_or(false)
}

fn spawn_erase(data: &Path, comune: &str, number: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(erase_args(comune, number))
        .args(["--data", data.to_str().unwrap()])
        .current_dir(root())
        .env("SPORTELLO_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sportello")
}

/// An erasure run to its end, its progress counter sampled all along: (time, count) at each
/// change, the last one read after the exit.
fn traced_erase(data: &Path, comune: &str, number: &str) -> (Output, Vec<(Duration, u64)>, Duration) {
    let start = Instant::now();
    let mut child = spawn_erase(data, comune, number);
    let pid = child.id();
    let mut trace: Vec<(Duration, u64)> = Vec::new();
    loop {
        let done = exited(pid);
        let now = progress(pid);
        if let Some(p) = now {
            if trace.last().map(|t| t.1) != Some(p) {
                trace.push((start.elapsed(), p));
            }
        }
        if done || (now.is_none() && child.try_wait().unwrap().is_some()) {
            break;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    let elapsed = start.elapsed();
    (child.wait_with_output().unwrap(), trace, elapsed)
}

/// When to kill a round's erasure.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    /// Once the progress counter reaches this.
    Progress(u64),
    /// After this long (where `/proc/<pid>/io` cannot be read).
    After(Duration),
}

/// Spreads `rounds` kill points over the erasure, from the pause before it starts (the last
/// quiet stretch of the calibration run: the engine is built, the FAQ indexed) to the last
/// system call before the process writes its answer.
fn kill_points(trace: &[(Duration, u64)], elapsed: Duration, rounds: usize) -> Vec<Trigger> {
    let spread = |i: usize| i as f64 / (rounds.max(2) - 1) as f64;
    if trace.len() < 2 {
        return (0..rounds)
            .map(|i| Trigger::After(elapsed.mul_f64(0.90 + 0.12 * spread(i))))
            .collect();
    }
    let end = trace.last().unwrap().1;
    let quiet = (elapsed / 200).max(Duration::from_millis(2));
    let start = trace
        .windows(2)
        .rev()
        .find(|w| w[1].0 - w[0].0 >= quiet && end - w[0].1 >= 8)
        .map(|w| w[0].1)
        .unwrap_or(trace[0].1);
    let last = end.saturating_sub(1).max(start);
    (0..rounds)
        .map(|i| Trigger::Progress(start + ((last - start) as f64 * spread(i)).round() as u64))
        .collect()
}

/// Runs `citizen erase` and kills it (SIGKILL) at `trigger`: the progress count when killed,
/// or None when it had finished first.
fn killed_erase(data: &Path, comune: &str, number: &str, trigger: Trigger, calibrated: Duration) -> Option<u64> {
    let start = Instant::now();
    let mut child = spawn_erase(data, comune, number);
    let pid = child.id();
    let killed = loop {
        if child.try_wait().unwrap().is_some() {
            break None;
        }
        let now = progress(pid).unwrap_or(0);
        let due = match trigger {
            Trigger::Progress(at) => now >= at,
            Trigger::After(after) => start.elapsed() >= after,
        };
        if due {
            child.kill().unwrap();
            break Some(now);
        }
        // Sleep while the engine is built; spin near the end, where an erasure takes
        // a few milliseconds.
        if start.elapsed() < calibrated.mul_f64(0.85) {
            std::thread::sleep(Duration::from_micros(200));
        } else {
            std::hint::spin_loop();
        }
    };
    let _ = child.wait_with_output().unwrap();
    killed
}

/// What one round of the kill test saw.
struct Round {
    outcome: String,
    problems: Vec<String>,
    keyring_missing: bool,
}

/// The keyring of a store whose only citizen was erased holds no live key.
fn no_live_key(when: &str, (live, erased): (u64, u64)) -> Option<String> {
    (live != 0).then(|| format!("{when}: keyring status reports {live} live keys ({erased} erased), 0 expected"))
}

/// One round: `citizen erase` killed at `trigger`; then `citizen show` (opening the store
/// finishes an interrupted erasure) finds nothing, or the citizen whole, who is then erased
/// again to completion; then nothing of them is on disk and no key is live.
fn kill_round(
    data: &Path,
    round: usize,
    trigger: Trigger,
    calibrated: Duration,
    comune: &str,
    number: &str,
    needles: &[String],
) -> Round {
    let killed = killed_erase(data, comune, number, trigger, calibrated);
    let when = format!("round {round} (kill at {trigger:?}, killed at {killed:?})");
    let mut problems = Vec::new();
    let first = show(data, comune, number);
    let outcome = match first.status.code() {
        Some(1) => "gone when the store reopened",
        Some(0) => {
            // The kill came before the erasure began: the citizen must be whole.
            let shown = stdout(&first);
            for whole in ["Clotilde Pennacchietti", "Barumini", "1966-09-19"] {
                if !shown.contains(whole) {
                    problems.push(format!("{when}: the citizen is shown without {whole:?}: {shown}"));
                }
            }
            let again = erase(data, comune, number);
            if again.status.code() != Some(0) {
                problems.push(format!("{when}: citizen erase again failed: {}", stderr(&again)));
            }
            problems.extend(not_found(&show(data, comune, number), number).map(|p| format!("{when}: {p}")));
            "still there, whole, erased again"
        }
        other => {
            problems.push(format!(
                "{when}: citizen show after the kill exits {other:?}: {}",
                stderr(&first)
            ));
            "store not readable"
        }
    };
    problems.extend(leaks(&when, data, &[], needles));
    let status = keyring_status(data);
    problems.extend(status.and_then(|counts| no_live_key(&when, counts)));
    Round {
        outcome: format!("{when}: {outcome}"),
        problems,
        keyring_missing: status.is_none(),
    }
}

/// `kill -9` at points spread over an erasure (each round on its own copy of one data
/// directory, one registered subscriber): once the store is opened again (`citizen show`
/// finishes interrupted erasures), the citizen is either whole (the kill came first; erased
/// again, to completion) or gone, and in the end nothing of them is on disk and the keyring
/// holds no live key.
#[test]
fn an_erasure_killed_at_any_point_leaves_no_personal_byte_once_the_store_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let (comune, number) = ("isili", "3471230099");
    let words = [
        "Clotilde",
        "Pennacchietti",
        "Barumini",
        "19/09/1966",
        "1966-09-19",
        "Zzyzxqu",
    ];
    let needles = needles(number, &words);
    let template = dir.path().join("template");
    let replies = chat(
        &template,
        comune,
        number,
        None,
        &[
            "REGISTRAZIONE Clotilde Pennacchietti - Barumini 19/09/1966 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy",
            "Buongiorno, Zzyzxqu",
            "I MIEI DATI",
        ],
    );
    assert_chat(
        comune,
        &replies,
        &["isili-registered"],
        &["Clotilde Pennacchietti", "Barumini", "19/09/1966"],
    );

    // An erasure left to finish: how long it takes and how its system calls go.
    let calibration = dir.path().join("calibration");
    copy_dir(&template, &calibration);
    let (out, trace, elapsed) = traced_erase(&calibration, comune, number);
    assert_eq!(out.status.code(), Some(0), "citizen erase: {}", stderr(&out));
    let mut problems = leaks("calibration run", &calibration, &[], &needles);
    let mut keyring_missing = false;
    match keyring_status(&calibration) {
        None => keyring_missing = true,
        Some(counts) => problems.extend(no_live_key("calibration run", counts)),
    }

    // Some 15 rounds where a command is quick; fewer where each builds its engine for
    // seconds (a debug build: some 4 s a command), to keep the test near a minute.
    let rounds = if elapsed < Duration::from_millis(1500) { 15 } else { 6 };
    let points = kill_points(&trace, elapsed, rounds);
    eprintln!(
        "erasure_disk: an erasure takes {elapsed:?} and {} read and write calls; kill points {points:?}",
        trace.last().map_or(0, |t| t.1)
    );
    // Two rounds at a time, each on its own copy of the template.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let round = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(&trigger) = points.get(round) else {
                    break;
                };
                let data = dir.path().join(format!("round-{round}"));
                copy_dir(&template, &data);
                let result = kill_round(&data, round, trigger, elapsed, comune, number, &needles);
                results.lock().unwrap().push((round, result));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);
    for (_, round) in results {
        eprintln!("erasure_disk: {}", round.outcome);
        problems.extend(round.problems);
        keyring_missing |= round.keyring_missing;
    }
    if keyring_missing {
        eprintln!("erasure_disk: note: this build has no `sportello keyring status`; its checks were skipped");
    }
    assert_none("erasure killed with SIGKILL", &problems);
}

/// `keyring rotate`: the same citizens read back under the new master key, the old one opens
/// nothing, and a key given in the environment is never replaced in place.
#[test]
fn the_master_key_rotates_and_the_old_one_opens_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let number = "3471230077";
    let replies = chat(
        &data,
        "isili",
        number,
        None,
        &["REGISTRAZIONE Eleonora Arborea - Oristano 01/01/1950 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy"],
    );
    assert!(reply_keys(&replies).contains(&"isili-registered"), "{replies:?}");
    let old = std::fs::read_to_string(data.join("master.key")).unwrap();
    let out = run(&data, &["keyring", "rotate"], "");
    assert!(out.status.success(), "keyring rotate: {}", stderr(&out));
    let new = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert_ne!(old.trim(), new.trim(), "a new master key");
    let shown = show(&data, "isili", number);
    assert!(stdout(&shown).contains("Eleonora Arborea"), "{}", stdout(&shown));
    assert_eq!(keyring_status(&data), Some((1, 0)));
    // The old master key, given in the environment, is refused: it opens nothing now.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["citizen", "show", "--comune", "isili", "--from", number, "--data"])
        .arg(&data)
        .env("SPORTELLO_MASTER_KEY", old.trim())
        .current_dir(root())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("master key does not open"),
        "{}",
        stderr(&refused)
    );
    // With the key from the environment, the new one is written where --to says.
    let to = dir.path().join("next.key");
    let rotated = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["keyring", "rotate", "--to"])
        .arg(&to)
        .arg("--data")
        .arg(&data)
        .env("SPORTELLO_MASTER_KEY", new.trim())
        .current_dir(root())
        .output()
        .unwrap();
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let shown = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["citizen", "show", "--comune", "isili", "--from", number, "--data"])
        .arg(&data)
        .env("SPORTELLO_MASTER_KEY_FILE", &to)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(stdout(&shown).contains("Eleonora Arborea"), "{}", stderr(&shown));
}
