//! Erasure that reaches the disk (issue 24), on PostgreSQL: "On PostgreSQL the same holds
//! for table contents". Personal data at rest is sealed per citizen there too, so no row of
//! any table holds a citizen's number, names, birth date or words in any encoding the
//! scanner of `erasure_disk.rs` knows (`harness::scan`): not once they have left or been
//! erased (their key is destroyed), and not while they are live either (the service still
//! reads them whole); and a wrong master key opens nothing and changes nothing.
//!
//! Everything drives the real binary with `storage = "postgres"` (a config file), the URL in
//! `SPORTELLO_DATABASE_URL` carrying a fresh schema per test as search path
//! (`harness::standby::url_with_schema`), the same `SPORTELLO_MASTER_KEY` for every command
//! of a test, and `--data` a directory of the test's own (whose files are scanned too). The
//! test then reads every table of that schema over its own connection. Each command builds
//! the whole engine (some 4 s in a debug build), so the tests keep their commands few.
//!
//! Needs PostgreSQL as `tests/storage.rs` does (`SPORTELLO_TEST_DATABASE_URL`); without it
//! the tests say so loudly and pass, except in CI.
//!
//! What SQL cannot read is out of this test's reach: row versions an UPDATE or DELETE left
//! in the heap until VACUUM, and the WAL. Sealing before a value is written is what keeps
//! the citizen out of those too; the live citizen's test checks it is sealed from the start.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::harness::leavers::{
    assert_chat, assert_none, assert_obscured_one, chat_command, chat_replies, erase_args, not_found, stderr, stdout,
    Leaver, Subscriber,
};
use crate::harness::postgres::{test_database_url, TestSchema};
use crate::harness::scan::{files_under, needles, Finder};
use crate::harness::standby::url_with_schema;
use crate::util::{root, sportello_with_env};

/// The master key of every command of a test (64 hex characters: 32 bytes).
const MASTER_KEY: &str = "5e4a1ed0c1742e05a9e1b6f3d2c8a7b4e5f60718293a4b5c6d7e8f9012345678";
/// Another one: it must open nothing.
const WRONG_KEY: &str = "0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de";

// ---------------------------------------------------------------------------------------------
// A fresh schema and the binary on it
// ---------------------------------------------------------------------------------------------

/// A fresh schema on the test database, a directory holding `config.toml` (PostgreSQL) and
/// the data directory, and the URL the binary is given.
struct Pg {
    /// The test database's URL, for the test's own connection (names are qualified).
    url: String,
    schema: String,
    /// The URL with the schema as every session's search path, for the binary.
    proc_url: String,
    dir: tempfile::TempDir,
    /// Drops the schema when dropped; last, after everything that uses it.
    _guard: TestSchema,
}

impl Pg {
    /// None (after `test_database_url`'s loud message) without a test database.
    fn new(label: &str) -> Option<Pg> {
        let url = test_database_url()?;
        let guard = TestSchema::new(&url, label);
        let schema = guard.options.schema.clone().unwrap();
        // Only the schema: the binary creates its tables itself, as in production.
        block_on(async {
            let client = connect(&url).await;
            client
                .batch_execute(&format!("CREATE SCHEMA {}", ident(&schema)))
                .await
                .unwrap();
        });
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "storage = \"postgres\"\n").unwrap();
        Some(Pg {
            proc_url: url_with_schema(&url, &schema),
            url,
            schema,
            dir,
            _guard: guard,
        })
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The binary with `args`, `--config` and `--data`, on this schema with `master` as
    /// `SPORTELLO_MASTER_KEY`, fed `stdin`.
    fn run_with(&self, master: &str, args: &[&str], stdin: &str) -> Output {
        let config = self.dir.path().join("config.toml");
        let data = self.data();
        let mut all = args.to_vec();
        all.extend(["--config", config.to_str().unwrap(), "--data", data.to_str().unwrap()]);
        let env = [
            ("SPORTELLO_DATABASE_URL", Some(self.proc_url.as_str())),
            ("SPORTELLO_MASTER_KEY", Some(master)),
            ("SPORTELLO_MASTER_KEY_FILE", None),
        ];
        let out = sportello_with_env(&root(), &all, &env, stdin);
        assert!(out.status.code().is_some(), "{args:?} died: {:?}", out.status);
        out
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        self.run_with(MASTER_KEY, args, stdin)
    }

    /// A chat session of `lines` with `master`, optionally at `now`.
    fn chat_with(&self, master: &str, comune: &str, number: &str, now: Option<&str>, lines: &[&str]) -> Output {
        let (args, input) = chat_command(comune, number, now, lines);
        self.run_with(master, &args, &input)
    }

    /// A chat session of `lines`, optionally at `now`: the replies, one JSON object each.
    fn chat(&self, comune: &str, number: &str, now: Option<&str>, lines: &[&str]) -> Vec<Value> {
        chat_replies(comune, &self.chat_with(MASTER_KEY, comune, number, now, lines))
    }

    /// `citizen` subscribes as `number`, their chat asserted.
    fn subscribe(&self, number: &str, citizen: &Subscriber) {
        citizen.assert_chat(&self.chat("assemini", number, None, &citizen.script()));
    }

    fn show(&self, comune: &str, number: &str) -> Output {
        self.run(&["citizen", "show", "--comune", comune, "--from", number, "--json"], "")
    }

    fn erase(&self, comune: &str, number: &str) -> Output {
        self.run(&erase_args(comune, number), "")
    }

    /// Every needle found in a row of a table of the schema or in a file of the data
    /// directory, as messages prefixed with `when`; panics when there was nothing to read (a
    /// wrong schema must not pass as a clean one).
    fn leaks(&self, when: &str, needles: &[String]) -> Vec<String> {
        let tables = read_tables(&self.url, &self.schema);
        assert!(
            tables.rows_beyond_migrations() > 0,
            "{when}: nothing to scan in schema {} (tables and rows: {:?})",
            self.schema,
            tables.rows
        );
        let finder = Finder::new(needles);
        let mut problems: Vec<String> = table_hits(&tables, &finder)
            .iter()
            .map(|h| format!("{when}: {h}"))
            .collect();
        // The data directory may hold files of its own (none is required on PostgreSQL).
        let mut files = Vec::new();
        files_under(&self.data(), &mut files);
        for file in files {
            let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            for (form, offset) in finder.find(&bytes) {
                problems.push(format!(
                    "{when}: needle {:?} found as {} in the data directory's {} (byte {offset})",
                    form.needle,
                    form.encoding,
                    file.display()
                ));
            }
        }
        problems
    }
}

// ---------------------------------------------------------------------------------------------
// Reading every table of the schema
// ---------------------------------------------------------------------------------------------

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// A connection of the test's own (on the runtime of the `block_on` calling it).
async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// An SQL identifier, quoted.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The label of the value that is a whole row as text.
const ROW: &str = "(the row as text)";

/// One value read from a table: where, and its bytes.
struct Cell {
    table: String,
    /// A column, or [`ROW`].
    column: String,
    /// The row's place in what the table returned (0-based).
    row: usize,
    bytes: Vec<u8>,
}

/// Everything the schema's tables hold, as read.
#[derive(Default)]
struct Tables {
    /// Each table (and view) of the schema and its number of rows.
    rows: BTreeMap<String, usize>,
    cells: Vec<Cell>,
}

impl Tables {
    /// Rows outside `schema_migrations`, which any opened schema holds.
    fn rows_beyond_migrations(&self) -> usize {
        self.rows
            .iter()
            .filter(|(table, _)| table.as_str() != "schema_migrations")
            .map(|(_, n)| n)
            .sum()
    }

    /// Each table's rows as text, sorted: what a command changed shows as a difference.
    fn snapshot(&self) -> BTreeMap<String, Vec<String>> {
        let mut tables: BTreeMap<String, Vec<String>> = self.rows.keys().map(|t| (t.clone(), Vec::new())).collect();
        for cell in self.cells.iter().filter(|c| c.column == ROW) {
            tables
                .get_mut(&cell.table)
                .unwrap()
                .push(String::from_utf8_lossy(&cell.bytes).into_owned());
        }
        for rows in tables.values_mut() {
            rows.sort();
        }
        tables
    }
}

/// Every row of every table of `schema` (as `information_schema.tables` lists them, views
/// included), each read twice over:
///
/// - the whole row as text (`SELECT t::text`): every column, in one value. A `bytea` shows
///   there as `\x` and the hex of its bytes, which the hex forms catch when a needle's bytes
///   are in it as they are;
/// - each column by itself, because the row as text hides two things. The hex forms are
///   those of the needle's own bytes: a needle written base64 or JSON-escaped inside a
///   `bytea` (sportello's values are JSON in `bytea`; a sealed string is base64 in that JSON)
///   is the hex of that form, which no form matches. So a `bytea` column is read raw, its
///   bytes as stored, where every form is looked for (`convert_from(v, 'UTF8')` would add
///   nothing to the raw bytes and fails on bytes that are not UTF-8). And a row's text quotes
///   a value holding `"` or `\` with them doubled (`07\/08` becomes `07\\/08`, `\u00bb`
///   becomes `\\u00bb`), hiding the JSON-escaped forms: so any other column is read as its
///   own text (`::text`: a `text` or `json` value exactly as stored; `jsonb` prints its
///   strings decoded, which the plain forms catch), and an array element by element (an
///   array's text quotes and escapes as a row's does; a `bytea[]` joined raw).
fn read_tables(url: &str, schema: &str) -> Tables {
    block_on(async {
        let client = connect(url).await;
        let names: Vec<String> = client
            .query(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema::text = $1 ORDER BY 1",
                &[&schema],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut tables = Tables::default();
        for table in names {
            let columns: Vec<(String, String)> = client
                .query(
                    "SELECT column_name::text, udt_name::text FROM information_schema.columns \
                     WHERE table_schema::text = $1 AND table_name::text = $2 ORDER BY ordinal_position",
                    &[&schema, &table],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            // An alias no table of sportello has as a column name (a column would win).
            let alias = "scanned_row";
            let mut select = vec![format!("{alias}::text")];
            for (column, udt) in &columns {
                let c = format!("{alias}.{}", ident(column));
                select.push(match udt.as_str() {
                    "bytea" => c,
                    "_bytea" => format!("(SELECT string_agg(e, '\\x00'::bytea) FROM unnest({c}) AS e)"),
                    array if array.starts_with('_') => format!("array_to_string({c}, E'\\n')"),
                    _ => format!("{c}::text"),
                });
            }
            let sql = format!(
                "SELECT {} FROM {}.{} AS {alias}",
                select.join(", "),
                ident(schema),
                ident(&table)
            );
            let rows = client.query(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            tables.rows.insert(table.clone(), rows.len());
            for (i, row) in rows.iter().enumerate() {
                let text: Option<String> = row.get(0);
                let mut cells = vec![(ROW.to_string(), text.map(String::into_bytes))];
                for (j, (column, udt)) in columns.iter().enumerate() {
                    let value = if udt.ends_with("bytea") {
                        row.get::<_, Option<Vec<u8>>>(j + 1)
                    } else {
                        row.get::<_, Option<String>>(j + 1).map(String::into_bytes)
                    };
                    cells.push((column.clone(), value));
                }
                for (column, value) in cells {
                    if let Some(bytes) = value {
                        tables.cells.push(Cell {
                            table: table.clone(),
                            column,
                            row: i,
                            bytes,
                        });
                    }
                }
            }
        }
        tables
    })
}

/// A needle found in a table: which, how encoded, where (the first row, and how many).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct TableHit {
    table: String,
    column: String,
    needle: String,
    encoding: String,
    row: usize,
    offset: usize,
    rows: usize,
}

impl std::fmt::Display for TableHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let column = if self.column == ROW {
            ROW.to_string()
        } else {
            format!("column {}", self.column)
        };
        write!(
            f,
            "needle {:?} found as {} in table {}, {column} (row {}, byte {}; in {} row(s))",
            self.needle, self.encoding, self.table, self.row, self.offset, self.rows
        )
    }
}

/// Every form of every needle in the cells: one hit per table, column, needle and encoding.
fn table_hits(tables: &Tables, finder: &Finder) -> Vec<TableHit> {
    let mut hits: BTreeMap<(String, String, String, String), TableHit> = BTreeMap::new();
    for cell in &tables.cells {
        for (form, offset) in finder.find(&cell.bytes) {
            let key = (
                cell.table.clone(),
                cell.column.clone(),
                form.needle.clone(),
                form.encoding.clone(),
            );
            hits.entry(key).and_modify(|h| h.rows += 1).or_insert_with(|| TableHit {
                table: cell.table.clone(),
                column: cell.column.clone(),
                needle: form.needle.clone(),
                encoding: form.encoding.clone(),
                row: cell.row,
                offset,
                rows: 1,
            });
        }
    }
    hits.into_values().collect()
}

// ---------------------------------------------------------------------------------------------
// The table scanner can fail
// ---------------------------------------------------------------------------------------------

/// Needles planted where a row's text hides them (base64 and a `\/` escape inside `bytea`, a
/// `\u` escape in `text`, a `\/` escape in a `text[]` element) and where it does not (`jsonb`
/// prints decoded) are each found and named with their table and column; a clean table
/// reports nothing; every table of the schema is read, and no other schema.
#[test]
fn the_table_scanner_reads_every_column_of_every_table_of_the_schema() {
    let Some(pg) = Pg::new("erpg_scanner") else { return };
    block_on(async {
        let client = connect(&pg.url).await;
        let s = ident(&pg.schema);
        client
            .batch_execute(&format!(
                "CREATE TABLE {s}.a_bytea (k BYTEA PRIMARY KEY, v BYTEA NOT NULL);
                 CREATE TABLE {s}.b_text (id BIGINT, note TEXT, doc JSONB, tags TEXT[]);
                 CREATE TABLE {s}.c_clean (id BIGINT, v BYTEA, s TEXT);
                 INSERT INTO {s}.c_clean VALUES (1, '\\x00ff', 'nothing personal: Zzyzxq, 07/08/196');"
            ))
            .await
            .unwrap();
        // "Zzyzxqu, hi" in base64 made by coreutils' base64, as in erasure_disk.rs.
        let value: &[u8] = br#"{"d":"07\/08\/1961","b":"Wnp5enhxdSwgaGk="}"#;
        client
            .execute(
                &format!("INSERT INTO {s}.a_bytea VALUES ($1, $2)"),
                &[&b"\x01".as_slice(), &value],
            )
            .await
            .unwrap();
        client
            .execute(
                &format!("INSERT INTO {s}.b_text VALUES (1, $1, $2::text::jsonb, $3)"),
                &[
                    &r"Ottavio\u00bbSbrodolini",
                    &r#"{"n": "Ottavio\u00bbSbrodolini"}"#,
                    &vec!["x".to_string(), r"07\/08\/1961".to_string()],
                ],
            )
            .await
            .unwrap();
        // Another schema's rows are not read.
        client
            .batch_execute("CREATE TEMP TABLE elsewhere AS SELECT 'Zzyzxqu'::text AS v")
            .await
            .unwrap();
    });
    let tables = read_tables(&pg.url, &pg.schema);
    assert_eq!(
        tables.rows,
        BTreeMap::from([
            ("a_bytea".to_string(), 1),
            ("b_text".to_string(), 1),
            ("c_clean".to_string(), 1),
        ])
    );
    let needles: Vec<String> = ["Zzyzxqu", "Ottavio»Sbrodolini", "07/08/1961"]
        .iter()
        .map(|n| n.to_string())
        .collect();
    let hits = table_hits(&tables, &Finder::new(&needles));
    let got: BTreeSet<(&str, &str, &str, &str)> = hits
        .iter()
        .map(|h| {
            (
                h.table.as_str(),
                h.column.as_str(),
                h.needle.as_str(),
                h.encoding.as_str(),
            )
        })
        .collect();
    let want: BTreeSet<(&str, &str, &str, &str)> = [
        ("a_bytea", "v", "07/08/1961", "JSON-escaped string with \\/"),
        ("a_bytea", "v", "Zzyzxqu", "base64 at byte alignment 0"),
        (
            "b_text",
            "note",
            "Ottavio»Sbrodolini",
            "JSON \\u-escaped (lower-case hex)",
        ),
        ("b_text", "doc", "Ottavio»Sbrodolini", "plain bytes"),
        ("b_text", ROW, "Ottavio»Sbrodolini", "plain bytes"),
        ("b_text", "tags", "07/08/1961", "JSON-escaped string with \\/"),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want, "{hits:#?}");
    // And a message names the needle, the encoding, the table and the column.
    let message = hits.iter().map(|h| h.to_string()).collect::<Vec<_>>().join("\n");
    assert!(
        message.contains("needle \"Zzyzxqu\" found as base64 at byte alignment 0 in table a_bytea, column v"),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------------
// Leaving, comune by comune
// ---------------------------------------------------------------------------------------------

fn leaves_no_byte_in_any_table(leaver: Leaver) {
    let Some(pg) = Pg::new(&format!("erpg_{}", leaver.comune.replace('-', "_"))) else {
        return;
    };
    let replies = pg.chat(leaver.comune, leaver.number, leaver.now, leaver.script);
    assert_chat(leaver.comune, &replies, leaver.replies, leaver.held);
    if leaver.retention {
        assert_obscured_one(&pg.run(&["retention", "run"], ""));
    }
    let mut problems = Vec::new();
    problems.extend(not_found(&pg.show(leaver.comune, leaver.number), leaver.number));
    problems.extend(pg.leaks(
        &format!("{} leaver", leaver.comune),
        &needles(leaver.number, leaver.words),
    ));
    assert_none(&format!("after leaving {} on PostgreSQL", leaver.comune), &problems);
}

/// Assemini: name, surname and birth date at first contact, a question kept as a case,
/// Iscrivimi and the policy accepted; Cancellami: no row of any table holds them.
#[test]
fn an_assemini_leaver_leaves_no_personal_byte_in_any_postgres_table() {
    leaves_no_byte_in_any_table(Leaver::assemini("3471240011"));
}

/// Brusson: MI ISCRIVO, no registration; a message naming the writer; MI CANCELLO: no row
/// of any table holds them.
#[test]
fn a_brusson_leaver_leaves_no_personal_byte_in_any_postgres_table() {
    leaves_no_byte_in_any_table(Leaver::brusson("3471240012"));
}

/// Isili: the one-shot REGISTRAZIONE line (name, birth place and date, both consents);
/// CANCELLAZIONE: no row of any table holds them.
#[test]
fn an_isili_leaver_leaves_no_personal_byte_in_any_postgres_table() {
    leaves_no_byte_in_any_table(Leaver::isili("3471240013"));
}

/// Isola delle Femmine: ATTIVA ISCRIZIONE; DISATTIVA ISCRIZIONE: no row of any table holds
/// them.
#[test]
fn an_isola_delle_femmine_leaver_leaves_no_personal_byte_in_any_postgres_table() {
    leaves_no_byte_in_any_table(Leaver::isola_delle_femmine("3471240014"));
}

/// Madone keeps a leaver at least a calendar year, then obscures them: the leaver left in
/// March 2024 (`chat --now`), and the sweep (`retention run`, at the real now) leaves no row
/// of any table holding them.
#[test]
fn a_madone_leaver_obscured_by_retention_leaves_no_personal_byte_in_any_postgres_table() {
    leaves_no_byte_in_any_table(Leaver::madone("3471240015"));
}

// ---------------------------------------------------------------------------------------------
// Erasure on request
// ---------------------------------------------------------------------------------------------

/// `citizen erase` of a registered Assemini subscriber with a pending question: `citizen
/// show` finds nothing and no row of any table holds them.
#[test]
fn an_erasure_on_request_leaves_no_personal_byte_in_any_postgres_table() {
    let Some(pg) = Pg::new("erpg_erase") else { return };
    let number = "3471240021";
    let citizen = Subscriber::ERASED_ON_REQUEST;
    pg.subscribe(number, &citizen);
    let erased = pg.erase("assemini", number);
    assert_eq!(erased.status.code(), Some(0), "citizen erase: {}", stderr(&erased));
    let counts: Value = serde_json::from_str(&stdout(&erased)).unwrap();
    assert_eq!(counts["citizen"], 1, "one record erased: {counts}");

    let mut problems = Vec::new();
    problems.extend(not_found(&pg.show("assemini", number), number));
    problems.extend(pg.leaks("after citizen erase", &needles(number, &citizen.words())));
    assert_none("citizen erase on PostgreSQL", &problems);
}

// ---------------------------------------------------------------------------------------------
// A live citizen, and the master key
// ---------------------------------------------------------------------------------------------

/// A live citizen is sealed at rest too: once a registered Assemini subscriber has asked a
/// question, no row of any table holds their number, names, birth date or question in any
/// form, while `citizen show` still gives their names, birth date and number and `citizen
/// export` their question, in clear (the service reads everything of a live citizen).
#[test]
fn a_live_citizen_is_sealed_in_every_postgres_table_and_still_read_whole() {
    let Some(pg) = Pg::new("erpg_live") else { return };
    let number = "3471240031";
    let citizen = Subscriber {
        first: "Ildebranda",
        last: "Cucchiarelli",
        birth: "12/03/1957",
        birth_iso: "1957-03-12",
    };
    pg.subscribe(number, &citizen);

    let mut problems = pg.leaks("a live citizen", &needles(number, &citizen.words()));

    let shown = pg.show("assemini", number);
    if shown.status.code() == Some(0) {
        let record: Value = serde_json::from_str(&stdout(&shown)).unwrap();
        let text = record.to_string();
        for whole in [citizen.first, citizen.last, number] {
            if !text.contains(whole) {
                problems.push(format!("citizen show does not give {whole:?}: {record}"));
            }
        }
        if ![citizen.birth, citizen.birth_iso].iter().any(|d| text.contains(d)) {
            problems.push(format!("citizen show does not give the birth date: {record}"));
        }
        if record["status"] != "subscribed" {
            problems.push(format!("citizen show: not subscribed: {record}"));
        }
    } else {
        problems.push(format!(
            "citizen show of a live citizen exits {:?}: {}",
            shown.status.code(),
            stderr(&shown)
        ));
    }
    let exported = pg.run(&["citizen", "export", "--comune", "assemini", "--from", number], "");
    if exported.status.code() == Some(0) {
        let text = stdout(&exported);
        for whole in [citizen.first, citizen.last, number, "ludoteca Zzyzxqu"] {
            if !text.contains(whole) {
                problems.push(format!("citizen export does not give {whole:?}: {text}"));
            }
        }
    } else {
        problems.push(format!(
            "citizen export of a live citizen exits {:?}: {}",
            exported.status.code(),
            stderr(&exported)
        ));
    }
    assert_none("a live citizen on PostgreSQL", &problems);
}

/// A command run with another `SPORTELLO_MASTER_KEY` on the schema (a chat of a registered
/// Isili citizen, which would write) fails, non-zero, with an error naming
/// `SPORTELLO_MASTER_KEY`, and changes no row of any table; the right key then shows the
/// citizen whole.
#[test]
fn another_master_key_opens_nothing_on_postgres_and_changes_nothing() {
    let Some(pg) = Pg::new("erpg_key") else { return };
    let number = "3471240041";
    let replies = pg.chat(
        "isili",
        number,
        None,
        &["REGISTRAZIONE Dorotea Bevilacqua - Laconi 05/05/1985 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy"],
    );
    assert_chat("isili", &replies, &["isili-registered"], &[]);
    let before = read_tables(&pg.url, &pg.schema).snapshot();

    let mut problems = Vec::new();
    let refused = pg.chat_with(WRONG_KEY, "isili", number, None, &["Buongiorno", "I MIEI DATI"]);
    if refused.status.success() {
        problems.push(format!("a chat with another master key succeeds: {}", stdout(&refused)));
    }
    if !stderr(&refused).contains("SPORTELLO_MASTER_KEY") {
        problems.push(format!(
            "the error of a chat with another master key does not name SPORTELLO_MASTER_KEY: exit {:?}, \
             stderr {:?}",
            refused.status.code(),
            stderr(&refused)
        ));
    }
    let after = read_tables(&pg.url, &pg.schema).snapshot();
    for (table, rows) in &after {
        if before.get(table) != Some(rows) {
            problems.push(format!(
                "table {table} changed under another master key: {} row(s) before, {} after, {} of them new \
                 or rewritten",
                before.get(table).map_or(0, Vec::len),
                rows.len(),
                rows.iter()
                    .filter(|r| !before.get(table).is_some_and(|b| b.contains(r)))
                    .count()
            ));
        }
    }
    for table in before.keys().filter(|t| !after.contains_key(*t)) {
        problems.push(format!("table {table} is gone after a command with another master key"));
    }

    let shown = pg.show("isili", number);
    if shown.status.code() == Some(0) {
        let record: Value = serde_json::from_str(&stdout(&shown)).unwrap();
        if record["fields"]["full_name"] != "Dorotea Bevilacqua"
            || record["fields"]["birth_date"] != "1985-05-05"
            || record["status"] != "subscribed"
        {
            problems.push(format!(
                "the right key does not show the citizen whole after another key was tried: {record}"
            ));
        }
    } else {
        problems.push(format!(
            "citizen show with the right key after another key was tried exits {:?}: {}",
            shown.status.code(),
            stderr(&shown)
        ));
    }
    assert_none("another master key on PostgreSQL", &problems);
}
