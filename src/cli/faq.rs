//! `sportello faq ask`: try a comune's FAQ from the terminal or a script. Reads one
//! question a line from stdin and writes one JSON object a line. Owns only argument
//! parsing and the JSON shape; the matching is `crate::faq`'s. Questions are never
//! logged.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{json, Value};

use crate::faq::{Answer, Faq};

/// Arguments of `sportello faq`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Answer questions read one a line from stdin; print one JSON object a line:
    /// {"id": "..." | null, "score": 1.23, "choices": [...]}, plus "out_of_scope": true
    /// and "redirect": RULE_ID when the question is for another channel.
    Ask(AskArgs),
}

#[derive(Debug, clap::Args)]
struct AskArgs {
    /// The comune whose FAQ to use: reads DIR/ID.toml.
    #[arg(long, value_name = "ID", required_unless_present = "faq", conflicts_with = "faq")]
    comune: Option<String>,
    /// Directory of the FAQ files.
    #[arg(long, value_name = "DIR", default_value = "faq")]
    dir: PathBuf,
    /// A FAQ as CSV (header with at least id, question, answer; `,` or `;`).
    #[arg(long, value_name = "FILE")]
    faq: Option<PathBuf>,
    /// The citizen's language (it or fr); without it every language is searched.
    #[arg(long, value_name = "LANG", value_parser = ["it", "fr"])]
    lang: Option<String>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Ask(args) => ask(args),
    }
}

fn ask(args: AskArgs) -> anyhow::Result<ExitCode> {
    let faq = match (&args.comune, &args.faq) {
        (Some(comune), _) => {
            // The id becomes a file name: refuse anything that could leave the directory.
            anyhow::ensure!(
                !comune.is_empty()
                    && comune
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "bad comune id {comune:?}: use the kebab-case id, e.g. isola-delle-femmine"
            );
            let path = args.dir.join(format!("{comune}.toml"));
            Faq::from_toml_str(
                &std::fs::read_to_string(&path)
                    .with_context(|| format!("no FAQ for comune {comune:?} ({})", path.display()))?,
            )
            .with_context(|| format!("in {}", path.display()))?
        }
        (None, Some(path)) => Faq::load(path).with_context(|| format!("in {}", path.display()))?,
        (None, None) => anyhow::bail!("give --comune ID or --faq FILE"),
    };
    let lang = args.lang.as_deref().unwrap_or("");
    let stdin = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    for line in stdin.lines() {
        let line = line.context("reading stdin")?;
        writeln!(out, "{}", to_json(&faq, faq.ask(&line, lang)))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The JSON line for one answer.
fn to_json(faq: &Faq, answer: Answer<'_>) -> Value {
    let choice = |(e, s): &(&crate::faq::Entry, f32)| json!({ "id": e.id, "lang": e.lang, "score": round(*s) });
    match answer {
        Answer::Entry { entry, score } => json!({
            "id": entry.id,
            "lang": entry.lang,
            "score": round(score),
            "choices": [],
            "answer": entry.answer,
            "link": entry.link,
            "placeholder": entry.placeholder,
        }),
        Answer::Choices(choices) => json!({
            "id": null,
            "score": choices.first().map(|c| round(c.1)),
            "choices": choices.iter().map(choice).collect::<Vec<_>>(),
        }),
        Answer::OutOfScope { redirect, score } => json!({
            "id": null,
            "score": round(score),
            "choices": [],
            "out_of_scope": true,
            "redirect": faq.rule_for(redirect).map(|r| r.id.as_str()),
            "redirect_text": redirect,
        }),
        Answer::Abstain { best } => json!({ "id": null, "score": best.map(round), "choices": [] }),
    }
}

/// Two decimals are plenty for a score and keep the output stable across platforms.
fn round(score: f32) -> f64 {
    (f64::from(score) * 100.0).round() / 100.0
}
