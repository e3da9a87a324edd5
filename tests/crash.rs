//! Crash loop for the sled store (regression test for spacejam/sled#1533, a database that no
//! longer opens after the process was killed).
//!
//! Each iteration starts `sportello store-load` on the same data directory, lets it report a
//! varying number of `durable <i>` lines, kills it with SIGKILL in the middle of its writes,
//! reopens the store in this process and checks that it opens and that every write reported
//! durable, in this iteration and all earlier ones, is there with its value. The database
//! grows across kills. This file must not relax those checks to make sled pass.

use sportello::storage::CitizenStore;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Instant;

use sportello::cli::store_load::{rolling_key, COMUNE};
use sportello::storage::SledStore;

/// At least 100 kills (the requirement); `SPORTELLO_CRASH_ITERATIONS` runs more.
const ITERATIONS: u64 = 120;
/// Rolling keys the load overwrites (passed to `--citizens`).
const CITIZENS: u64 = 100;

/// xorshift64: a deterministic PRNG, so a failing iteration can be replayed.
struct XorShift(u64);

impl XorShift {
    fn seeded(iteration: u64) -> XorShift {
        // Spread small seeds out; xorshift must not start at zero.
        XorShift((iteration + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// A number in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn seq_of(c: &sportello::dialogue::Citizen) -> Option<u64> {
    c.fields.get("seq")?.parse().ok()
}

#[test]
fn sigkill_during_writes_loses_nothing_reported_durable() {
    let iterations = std::env::var("SPORTELLO_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ITERATIONS);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let started = Instant::now();
    // The highest write reported durable so far, across every kill.
    let mut durable: Option<u64> = None;
    let mut checked_records = 0u64;
    let mut verifying = std::time::Duration::ZERO;
    for iteration in 0..iterations {
        let mut rng = XorShift::seeded(iteration);
        let wanted = rng.between(1, 40);
        let every = rng.between(1, 8);
        let start = durable.map_or(0, |d| d + 1);
        let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
            .args(["store-load", "--data"])
            .arg(&data)
            .args(["--citizens", &CITIZENS.to_string()])
            .args(["--start", &start.to_string(), "--every", &every.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning sportello store-load");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut seen = 0;
        let mut line = String::new();
        while seen < wanted {
            line.clear();
            if lines.read_line(&mut line).unwrap() == 0 {
                let _ = child.wait();
                let mut err = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                panic!(
                    "iteration {iteration}: store-load ended before it was killed \
                     (last durable {durable:?}): {err}"
                );
            }
            let seq: u64 = line
                .trim()
                .strip_prefix("durable ")
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("iteration {iteration}: unexpected output line {line:?}"));
            assert!(
                seq >= start,
                "iteration {iteration}: durable {seq} before the start {start}"
            );
            durable = Some(seq);
            seen += 1;
        }
        // SIGKILL on Unix: the writer is in the middle of its next writes or flush.
        child.kill().unwrap();
        child.wait().unwrap();
        let verify_started = Instant::now();
        // Only now: sled holds a file lock while a process has the database open.
        let store = SledStore::open(&data).unwrap_or_else(|e| {
            panic!("iteration {iteration}: the store no longer opens after SIGKILL (last durable {durable:?}): {e}")
        });
        let last = durable.expect("at least one durable line each iteration");
        let records: BTreeMap<String, u64> = store
            .citizens(COMUNE)
            .unwrap_or_else(|e| panic!("iteration {iteration}: reading the store back failed: {e}"))
            .into_iter()
            .map(|(k, c)| {
                let seq = seq_of(&c).unwrap_or_else(|| panic!("iteration {iteration}: record without a seq"));
                (k.citizen, seq)
            })
            .collect();
        for seq in 0..=last {
            match records.get(&format!("c-seq-{seq}")) {
                Some(&found) => assert_eq!(found, seq, "iteration {iteration}: write {seq} has a wrong value"),
                None => panic!("iteration {iteration}: write {seq} was reported durable (up to {last}) and is lost"),
            }
        }
        for slot in 0..CITIZENS.min(last + 1) {
            // The last durable write to this rolling key, or a later one that also reached disk.
            let expected = slot + CITIZENS * ((last - slot) / CITIZENS);
            let key = rolling_key(slot, CITIZENS);
            let found = records.get(&key.citizen).copied();
            assert!(
                found.is_some_and(|f| f >= expected && f % CITIZENS == slot),
                "iteration {iteration}: rolling key {slot} holds {found:?}, durable write {expected} is lost"
            );
        }
        checked_records += last + 1 + CITIZENS.min(last + 1);
        drop(store);
        verifying += verify_started.elapsed();
    }
    eprintln!(
        "crash loop: {iterations} SIGKILLs, {} writes reported durable and all found, {checked_records} record \
         checks, {:.1} s ({:.1} s reopening and verifying)",
        durable.map_or(0, |d| d + 1),
        started.elapsed().as_secs_f64(),
        verifying.as_secs_f64()
    );
}
