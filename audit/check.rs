//! Offline dependency audit: Cargo.lock against the curated RustSec advisories in
//! `audit/advisories.toml`. Compiled into the integration test binary (`mod audit` in
//! `tests/tests.rs`), so `cargo test --test tests audit` runs it with no network and no
//! extra tool.
//!
//! What it owns: reading both files, matching versions against RustSec requirement strings
//! (`>= 1.2.3, < 1.3.0`, `^0.3.26`, `<= 0.22`, pre-releases). What it must not do: fetch
//! anything, or decide what is vulnerable by itself: the advisories file is the only source.
//! Its limit is that file's freshness (see audit/README.md).

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde::Deserialize;

use crate::util::root;

#[derive(Deserialize)]
struct Db {
    #[serde(default)]
    deny_informational: Vec<String>,
    advisory: Vec<Advisory>,
}

#[derive(Deserialize)]
struct Advisory {
    id: String,
    package: String,
    date: String,
    url: String,
    title: String,
    informational: Option<String>,
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

#[derive(Deserialize)]
struct Lock {
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    /// Absent for this workspace's own crate.
    source: Option<String>,
}

/// A semantic version; build metadata dropped, pre-release kept for ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ver {
    nums: [u64; 3],
    pre: Option<String>,
}

impl Ver {
    /// Parses `1`, `1.2`, `1.2.3`, `1.2.3-alpha.1`, `0.9.12+spec-1.1.0`; also how many
    /// numeric parts were given (a partial version is a range in requirements).
    fn parse(s: &str) -> Option<(Ver, usize)> {
        let s = s.trim().split('+').next()?;
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, Some(p.to_string())),
            None => (s, None),
        };
        let parts: Vec<u64> = core.split('.').map(|p| p.parse().ok()).collect::<Option<_>>()?;
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        let mut nums = [0; 3];
        nums[..parts.len()].copy_from_slice(&parts);
        Some((Ver { nums, pre }, parts.len()))
    }

    /// The first version past every version matching a partial one (`0.22` → `0.23.0`).
    fn bump(&self, given: usize) -> Ver {
        let mut nums = self.nums;
        let i = given.clamp(1, 3) - 1;
        nums[i] += 1;
        nums[i + 1..].iter_mut().for_each(|n| *n = 0);
        Ver { nums, pre: None }
    }

    /// The upper bound of a caret requirement: the leftmost non-zero part is kept.
    fn caret_bound(&self, given: usize) -> Ver {
        let first_nonzero = self
            .nums
            .iter()
            .take(given)
            .position(|&n| n != 0)
            .unwrap_or(given.saturating_sub(1));
        self.bump(first_nonzero + 1)
    }
}

impl PartialOrd for Ver {
    fn partial_cmp(&self, other: &Ver) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ver {
    fn cmp(&self, other: &Ver) -> Ordering {
        self.nums.cmp(&other.nums).then_with(|| match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => cmp_pre(a, b),
        })
    }
}

/// Semver pre-release order: numeric identifiers numerically and below alphanumeric ones.
fn cmp_pre(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.split('.'), b.split('.'));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => p.cmp(q),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// Whether `v` matches a RustSec requirement (comparators joined by commas, all must hold).
fn matches(req: &str, v: &Ver) -> Result<bool, String> {
    for c in req.split(',') {
        let c = c.trim();
        let (op, rest) = ["^", ">=", "<=", ">", "<", "=", "~"]
            .iter()
            .find_map(|op| c.strip_prefix(op).map(|r| (*op, r)))
            .unwrap_or(("^", c));
        let (w, given) = Ver::parse(rest).ok_or_else(|| format!("bad requirement {req:?}"))?;
        let ok = match op {
            ">=" => *v >= w,
            ">" if given < 3 => *v >= w.bump(given),
            ">" => *v > w,
            "<" => *v < w,
            "<=" if given < 3 => *v < w.bump(given),
            "<=" => *v <= w,
            "=" if given < 3 => *v >= w && *v < w.bump(given),
            "=" => *v == w,
            "~" => *v >= w && *v < w.bump(given.min(2)),
            _ => *v >= w && *v < w.caret_bound(given),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

impl Advisory {
    /// Affected: matched by no `patched` and no `unaffected` requirement.
    fn affects(&self, v: &Ver) -> Result<bool, String> {
        for req in self.patched.iter().chain(&self.unaffected) {
            if matches(req, v)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn load_db() -> Db {
    let src = std::fs::read_to_string(root().join("audit/advisories.toml")).expect("audit/advisories.toml");
    toml::from_str(&src).expect("audit/advisories.toml parses")
}

/// (advisory id, package, version) for every locked package an advisory affects, split into
/// failures and notices (informational kinds not denied).
fn audit(db: &Db, lock_src: &str) -> (Vec<String>, Vec<String>) {
    let lock: Lock = toml::from_str(lock_src).expect("Cargo.lock parses");
    let (mut fail, mut note) = (Vec::new(), Vec::new());
    for p in lock.package.iter().filter(|p| p.source.is_some()) {
        let Some((v, _)) = Ver::parse(&p.version) else {
            panic!("unreadable version {} {}", p.name, p.version)
        };
        for a in db.advisory.iter().filter(|a| a.package == p.name) {
            if a.affects(&v).unwrap_or_else(|e| panic!("{}: {e}", a.id)) {
                let line = format!("{} {} {}: {} ({})", a.id, p.name, p.version, a.title, a.url);
                match &a.informational {
                    Some(kind) if !db.deny_informational.contains(kind) => note.push(format!("[{kind}] {line}")),
                    _ => fail.push(line),
                }
            }
        }
    }
    (fail, note)
}

#[test]
fn cargo_lock_has_no_listed_vulnerable_version() {
    let db = load_db();
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).expect("Cargo.lock");
    let (fail, note) = audit(&db, &lock);
    for n in &note {
        eprintln!("audit notice: {n}");
    }
    assert!(
        fail.is_empty(),
        "vulnerable dependencies in Cargo.lock:\n{}",
        fail.join("\n")
    );
}

#[test]
fn the_advisories_file_is_well_formed() {
    let db = load_db();
    let mut ids = BTreeSet::new();
    for a in &db.advisory {
        assert!(ids.insert(a.id.clone()), "duplicate {}", a.id);
        assert!(a.id.starts_with("RUSTSEC-") && a.id.len() == 17, "{}", a.id);
        assert!(
            jiff::civil::Date::strptime("%Y-%m-%d", &a.date).is_ok(),
            "{}: date {}",
            a.id,
            a.date
        );
        assert!(a.url.starts_with("https://"), "{}: url", a.id);
        for r in a.patched.iter().chain(&a.unaffected) {
            matches(r, &Ver::parse("1.0.0").unwrap().0).unwrap_or_else(|e| panic!("{}: {e}", a.id));
        }
    }
}

#[test]
fn the_checker_flags_a_vulnerable_lock_and_passes_a_patched_one() {
    let db = load_db();
    let lock = |bytes: &str, rustls: &str, webpki: &str| {
        format!(
            "version = 4\n[[package]]\nname = \"sportello\"\nversion = \"0.1.0\"\n\
             [[package]]\nname = \"bytes\"\nversion = \"{bytes}\"\nsource = \"registry+x\"\n\
             [[package]]\nname = \"rustls\"\nversion = \"{rustls}\"\nsource = \"registry+x\"\n\
             [[package]]\nname = \"rustls-webpki\"\nversion = \"{webpki}\"\nsource = \"registry+x\"\n\
             [[package]]\nname = \"instant\"\nversion = \"0.1.13\"\nsource = \"registry+x\"\n"
        )
    };
    let (fail, note) = audit(&db, &lock("1.11.0", "0.23.17", "0.104.0-alpha.5"));
    let ids: BTreeSet<&str> = fail.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        ids,
        BTreeSet::from([
            "RUSTSEC-2026-0007",
            "RUSTSEC-2024-0399",
            "RUSTSEC-2026-0285",
            "RUSTSEC-2026-0098",
            "RUSTSEC-2026-0099",
            "RUSTSEC-2026-0104"
        ])
    );
    assert!(
        note.iter().any(|n| n.contains("RUSTSEC-2024-0384")),
        "unmaintained is a notice: {note:?}"
    );
    let (fail, _) = audit(&db, &lock("1.11.1", "0.23.45", "0.104.0-alpha.7"));
    assert!(fail.is_empty(), "{fail:?}");
}

#[test]
fn requirements_follow_semver() {
    let v = |s: &str| Ver::parse(s).unwrap().0;
    assert!(matches("^0.3.26", &v("0.3.30")).unwrap());
    assert!(!matches("^0.3.26", &v("0.4.0")).unwrap());
    assert!(matches("<= 0.22", &v("0.22.9")).unwrap());
    assert!(!matches("<= 0.22", &v("0.23.0")).unwrap());
    assert!(matches(">= 0.23, < 0.23.13", &v("0.23.12")).unwrap());
    assert!(matches("< 0.104.0-alpha.1", &v("0.103.99")).unwrap());
    assert!(!matches(">= 0.104.0-alpha.6", &v("0.104.0-alpha.5")).unwrap());
    assert!(matches(">= 0.104.0-alpha.6", &v("0.104.0-alpha.10")).unwrap());
    assert!(matches(">= 0.104.0-alpha.6", &v("0.104.0")).unwrap());
    assert!(matches("=0.15.0", &v("0.15.0")).unwrap());
    assert!(matches(">=0.3.20", &v("0.3.23")).unwrap());
    assert!(matches("0.20", &v("0.20.5")).unwrap());
    assert!(matches(">= 1.2.3", &v("1.2.3+build")).unwrap());
}
