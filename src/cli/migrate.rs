//! `sportello migrate --from sled:DIR --to postgres`: copies a sled store into an empty
//! PostgreSQL database (URL from `SPORTELLO_DATABASE_URL`), then reads both back and
//! compares each tree's record count and checksum; any difference exits non-zero.
//!
//! A sealed directory is copied sealed, with its keyring's slots (issue 24).
//!
//! The copy is one transaction: it is all there or not at all. Stop the server first (sled
//! refuses a second opener anyway). This module never prints a record or the URL.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::common::open_postgres;
use crate::storage::backup::Records;
use crate::storage::keyring::FileSlots;
use crate::storage::keys::{ENTRY_INDEX_TREE, LEDGER_INDEX_TREE, META_TREE};
use crate::storage::postgres::{checksums, TreeSum, DEFAULT_CONNECTIONS, TREES};
use crate::storage::{SledStore, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The source store: `sled:DIR` (a data directory no server is using).
    #[arg(long, value_name = "sled:DIR")]
    pub from: String,
    /// The destination: `postgres`, the database named by SPORTELLO_DATABASE_URL (empty).
    #[arg(long, value_name = "postgres")]
    pub to: String,
}

/// sled's own default tree: sportello writes nothing there.
const SLED_DEFAULT_TREE: &str = "__sled__default";

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(dir) = args.from.strip_prefix("sled:").map(PathBuf::from) else {
        bail!("--from must be sled:DIR (got {})", args.from);
    };
    if args.to != "postgres" {
        bail!("--to must be postgres (the URL comes from SPORTELLO_DATABASE_URL)");
    }
    if !dir.join("db").is_file() {
        bail!("{} holds no sportello data", dir.display());
    }
    // A sealed directory (every one a sportello opened since issue 24) is copied as it is,
    // sealed values and pseudonymous keys, with its keyring's slots: the database is
    // sealed with the same keys, opened with the same master key.
    let (source, keyring) = if crate::storage::keyring::path_in(&dir).exists() {
        let (sealed, _) = crate::storage::sealed::migrate::open_sled(&dir)
            .with_context(|| format!("cannot open {} (is a server using it? stop it first)", dir.display()))?;
        let records = copied_trees(sealed.inner().records()?)?;
        let slots = FileSlots::open(&crate::storage::keyring::path_in(&dir))?.export()?;
        (records, Some(slots))
    } else {
        let sled = SledStore::open(&dir)
            .with_context(|| format!("cannot open {} (is a server using it? stop it first)", dir.display()))?;
        (copied_trees(sled.records()?)?, None)
    };
    let pg = open_postgres(DEFAULT_CONNECTIONS)?;
    if !pg.is_empty()? || pg.has_keyring()? {
        bail!("the PostgreSQL database already holds sportello data: migrate into an empty one");
    }
    let written = pg.import(source.clone()).context("copying into PostgreSQL")?;
    let slots = keyring.as_ref().map_or(0, |(_, slots)| slots.len());
    if let Some((header, slots)) = keyring {
        pg.import_keyring(&header, slots)
            .context("copying the keyring into PostgreSQL")?;
    }
    pg.flush().context("making the copy durable")?;
    println!(
        "copied {written} records and {slots} keyring slots from {}",
        dir.display()
    );
    let (mismatches, report) = compare(&checksums(&source), &checksums(&pg.records()?));
    print!("{report}");
    if mismatches > 0 {
        eprintln!("{mismatches} trees differ after the copy: do not use the PostgreSQL copy");
        return Ok(ExitCode::FAILURE);
    }
    if slots > 0 {
        println!(
            "the database is sealed with the keys of {}: every process on it needs the same master key \
             (SPORTELLO_MASTER_KEY, SPORTELLO_MASTER_KEY_FILE, or {}/master.key as --data)",
            dir.display(),
            dir.display()
        );
    }
    println!("every tree matches: set storage = \"postgres\" in the configuration");
    Ok(ExitCode::SUCCESS)
}

/// The trees a copy carries: sportello's, with the schema version (PostgreSQL keeps its
/// own in `schema_migrations`) and sled's empty default tree left out. A tree this build
/// does not know is refused rather than silently dropped.
fn copied_trees(mut records: Records) -> anyhow::Result<Records> {
    records.remove(META_TREE);
    // Derived on sled only (PostgreSQL indexes the ledger, journal, outbox, sent and cases
    // tables by their citizen column).
    records.remove(LEDGER_INDEX_TREE);
    records.remove(ENTRY_INDEX_TREE);
    if records.get(SLED_DEFAULT_TREE).is_some_and(BTreeMap::is_empty) {
        records.remove(SLED_DEFAULT_TREE);
    }
    let unknown: Vec<&String> = records.keys().filter(|t| !TREES.contains(&t.as_str())).collect();
    if !unknown.is_empty() {
        bail!("the sled store holds trees this build cannot copy: {unknown:?}");
    }
    Ok(records)
}

/// One line a tree (count and checksum on both sides) and how many trees differ. A tree
/// missing on one side counts as empty.
fn compare(source: &BTreeMap<String, TreeSum>, copy: &BTreeMap<String, TreeSum>) -> (usize, String) {
    let empty = checksums(&BTreeMap::from([(String::new(), BTreeMap::new())]))
        .into_values()
        .next()
        .unwrap_or_default();
    let mut report = String::new();
    let mut mismatches = 0;
    let names: std::collections::BTreeSet<&String> = source.keys().chain(copy.keys()).collect();
    for name in names {
        let a = source.get(name).unwrap_or(&empty);
        let b = copy.get(name).unwrap_or(&empty);
        let ok = a == b;
        mismatches += usize::from(!ok);
        report.push_str(&format!(
            "  {name:<26} sled {:>8}  postgres {:>8}  sha256 {}  {}\n",
            a.count,
            b.count,
            &a.sha256[..16],
            if ok { "ok" } else { "MISMATCH" }
        ));
    }
    (mismatches, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_byte_or_a_missing_record_is_a_mismatch() {
        let tree = |rows: &[(&[u8], &[u8])]| {
            let mut r = Records::new();
            r.insert(
                "citizenkey_citizen".to_string(),
                rows.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect(),
            );
            checksums(&r)
        };
        let a = tree(&[(b"k1", b"{}"), (b"k2", b"[]")]);
        assert_eq!(compare(&a, &a).0, 0);
        assert_eq!(compare(&a, &tree(&[(b"k1", b"{}"), (b"k2", b"[ ]")])).0, 1);
        assert_eq!(compare(&a, &tree(&[(b"k1", b"{}")])).0, 1);
        assert_eq!(compare(&a, &BTreeMap::new()).0, 1, "a tree missing from the copy");
        let (n, report) = compare(&tree(&[]), &BTreeMap::new());
        assert_eq!(n, 0, "an empty tree and a missing one are alike: {report}");
    }

    #[test]
    fn unknown_trees_are_refused_and_meta_is_left_out() {
        let mut r = Records::new();
        r.insert(
            META_TREE.into(),
            BTreeMap::from([(b"schema_version".to_vec(), vec![0, 0, 0, 1])]),
        );
        r.insert(SLED_DEFAULT_TREE.into(), BTreeMap::new());
        r.insert("citizenkey_citizen".into(), BTreeMap::new());
        for derived in [LEDGER_INDEX_TREE, ENTRY_INDEX_TREE] {
            r.insert(derived.into(), BTreeMap::from([(b"k".to_vec(), Vec::new())]));
        }
        assert_eq!(
            copied_trees(r.clone()).unwrap().len(),
            1,
            "the sled-only indexes stay behind"
        );
        r.insert("mystery".into(), BTreeMap::from([(b"k".to_vec(), b"v".to_vec())]));
        assert!(copied_trees(r).is_err());
    }
}
