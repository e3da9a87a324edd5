//! `sportello moderation …` (issue 6): check messages against Assemini's rules, or
//! evaluate the policy on a labelled CSV set.
//!
//! - `check --lang it|fr` reads one message a line from standard input and writes one
//!   JSON object a line: `{"verdict":…,"rule":…,"spans":[…]}`;
//! - `eval FILE.csv [--lang it|fr] [--json] [--errors]` prints precision, recall and F1
//!   per rule, macro-F1 and the false-positive rate on `allow` rows.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;

use super::common::{admin_call, engine, held_data, Paths};
use crate::moderation::eval::{evaluate, read_set, Report};
use crate::moderation::{Lang, Policy, Settings};
use crate::staff::moderation::{self, Answer, Call, Decision};

/// Arguments of `sportello moderation`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check messages from stdin, one a line; one JSON verdict a line on stdout.
    Check {
        /// Language of the messages.
        #[arg(long, default_value = "it", value_parser = parse_lang)]
        lang: Lang,
        /// The flow is asking for the citizen's own data: skip personal-data detection.
        #[arg(long)]
        own_data_step: bool,
    },
    /// Evaluate on a labelled CSV (columns `text`, `expected`, optional `lang`).
    Eval {
        /// The labelled set.
        file: std::path::PathBuf,
        /// Language of rows without a `lang` column.
        #[arg(long, default_value = "it", value_parser = parse_lang)]
        lang: Lang,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Also list the misclassified rows (development sets only: prints their text).
        #[arg(long)]
        errors: bool,
    },
    /// List a comune's withheld messages, one JSON object a line (oldest first).
    Queue {
        #[arg(long)]
        comune: String,
        /// Every case, not only those waiting for a decision.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        paths: Paths,
    },
    /// Decide a case: confirm, dismiss (takes back the strike and a block it caused) or report.
    Decide {
        #[arg(long)]
        comune: String,
        /// The case id, from `queue`.
        case: u64,
        #[arg(value_enum)]
        decision: Decision,
        /// Who decides (recorded on the case).
        #[arg(long)]
        by: String,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        paths: Paths,
    },
    /// Print a case as a JSON record for the authorities.
    Export {
        #[arg(long)]
        comune: String,
        case: u64,
        #[command(flatten)]
        paths: Paths,
    },
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    s.parse().map_err(|e: crate::moderation::UnknownLang| e.to_string())
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Queue { comune, all, paths } => review(Call::Queue { comune, all }, &paths),
        Command::Decide {
            comune,
            case,
            decision,
            by,
            note,
            paths,
        } => review(
            Call::Decide {
                comune,
                case,
                decision,
                by,
                note,
            },
            &paths,
        ),
        Command::Export { comune, case, paths } => review(Call::Export { comune, case }, &paths),
        Command::Check { lang, own_data_step } => check(lang, own_data_step),
        Command::Eval {
            file,
            lang,
            json,
            errors,
        } => eval(&file, lang, json, errors),
    }
}

/// `queue`, `decide`, `export`: through the running server when `serve` holds the data
/// directory, else on the store; the same output either way.
fn review(call: Call, paths: &Paths) -> anyhow::Result<ExitCode> {
    let answer = match held_data(paths)? {
        Some(data) => serde_json::from_value(admin_call(&data, "/admin/moderation", &serde_json::to_value(&call)?)?)?,
        None => moderation::run(&engine(paths)?, call, jiff::Timestamp::now())?,
    };
    match answer {
        Answer::Queue { cases } => {
            let mut out = std::io::stdout().lock();
            for line in cases {
                writeln!(out, "{line}")?;
            }
        }
        Answer::Decided { case, status } => println!("case {case}: {status:?}"),
        Answer::Exported { record } => println!("{}", serde_json::to_string_pretty(&record)?),
    }
    Ok(ExitCode::SUCCESS)
}

fn check(lang: Lang, own_data_step: bool) -> anyhow::Result<ExitCode> {
    let policy = Policy::builtin();
    let settings = Settings {
        own_data_step,
        ..Settings::default()
    };
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.split(b'\n') {
        let line = line.context("reading standard input")?;
        // Invalid UTF-8 is checked as well as it can be rather than refused.
        let text = String::from_utf8_lossy(&line);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let outcome = policy.check(text, lang, &settings);
        serde_json::to_writer(&mut out, &outcome)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn eval(file: &std::path::Path, lang: Lang, json: bool, errors: bool) -> anyhow::Result<ExitCode> {
    let input = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let set = read_set(&input, lang).with_context(|| format!("in {}", file.display()))?;
    let report = evaluate(&Policy::builtin(), &set);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print_report(&mut out, &report)?;
    }
    if errors {
        for &(i, expected, predicted) in &report.errors {
            let name = |r: Option<crate::moderation::Rule>| r.map_or("allow", |r| r.name());
            writeln!(
                out,
                "row {:>4}: expected {:<15} got {:<15} {}",
                i + 2,
                name(expected),
                name(predicted),
                set[i].text
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<16} {:>7} {:>9} {:>9} {:>7} {:>7}",
        "rule", "support", "predicted", "precision", "recall", "f1"
    )?;
    for s in &r.rules {
        writeln!(
            out,
            "{:<16} {:>7} {:>9} {:>9.3} {:>7.3} {:>7.3}",
            s.rule.name(),
            s.support,
            s.predicted,
            s.precision,
            s.recall,
            s.f1
        )?;
    }
    writeln!(
        out,
        "rows {} (allow {}), accuracy {:.3}",
        r.rows, r.allow_rows, r.accuracy
    )?;
    writeln!(out, "macro-F1 {:.3}", r.macro_f1)?;
    writeln!(
        out,
        "false-positive rate on allow {:.3} ({:.1}%)",
        r.false_positive_rate,
        r.false_positive_rate * 100.0
    )?;
    writeln!(out, "violations missed {:.3}", r.false_negative_rate)?;
    writeln!(out, "macro-F1 withheld/allowed {:.3}", r.binary_macro_f1)?;
    if !r.functionalities.is_empty() {
        writeln!(
            out,
            "\n{:<24} {:<16} {:>5} {:>9} {:>9}",
            "functionality", "expected", "rows", "accuracy", "withheld"
        )?;
        for f in &r.functionalities {
            let ratio = |n: usize| n as f64 / f.rows.max(1) as f64;
            writeln!(
                out,
                "{:<24} {:<16} {:>5} {:>9.3} {:>9.3}",
                f.name,
                f.expected.map_or("allow", |r| r.name()),
                f.rows,
                ratio(f.correct),
                ratio(f.correct_withheld)
            )?;
        }
    }
    Ok(())
}
