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
    /// The comune whose FAQ to use: reads DIR/ID.toml, or the built-in FAQ when there is
    /// no such folder.
    #[arg(long, value_name = "ID", required_unless_present = "faq", conflicts_with = "faq")]
    comune: Option<String>,
    /// Directory of the FAQ files [default: ./faq when it exists, else the built-in FAQ].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// A FAQ as CSV (header with at least id, question, answer; `,` or `;`).
    #[arg(long, value_name = "FILE")]
    faq: Option<PathBuf>,
    /// The citizen's language (it or fr); without it every language is searched.
    #[arg(long, value_name = "LANG", value_parser = ["it", "fr"])]
    lang: Option<String>,
    /// Decision thresholds, for tuning and evaluation (defaults: the built-in ones).
    #[arg(long, value_name = "X")]
    min_score: Option<f32>,
    /// See --min-score.
    #[arg(long, value_name = "X")]
    min_coverage: Option<f32>,
    /// See --min-score.
    #[arg(long, value_name = "X")]
    tie_ratio: Option<f32>,
    /// Add the best candidates and their coverage to each line (for tuning).
    #[arg(long)]
    explain: bool,
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
            let dir = args
                .dir
                .clone()
                .or_else(|| std::path::Path::new("faq").is_dir().then(|| PathBuf::from("faq")));
            match dir {
                Some(dir) => {
                    let path = dir.join(format!("{comune}.toml"));
                    Faq::from_toml_str(
                        &std::fs::read_to_string(&path)
                            .with_context(|| format!("no FAQ for comune {comune:?} ({})", path.display()))?,
                    )
                    .with_context(|| format!("in {}", path.display()))?
                }
                None => crate::faq::load_all(None)?
                    .remove(comune.as_str())
                    .with_context(|| format!("no built-in FAQ for comune {comune:?}"))?,
            }
        }
        (None, Some(path)) => Faq::load(path).with_context(|| format!("in {}", path.display()))?,
        (None, None) => anyhow::bail!("give --comune ID or --faq FILE"),
    };
    let defaults = crate::faq::Thresholds::default();
    let faq = faq.with_thresholds(crate::faq::Thresholds {
        min_score: args.min_score.unwrap_or(defaults.min_score),
        min_coverage: args.min_coverage.unwrap_or(defaults.min_coverage),
        tie_ratio: args.tie_ratio.unwrap_or(defaults.tie_ratio),
    });
    let lang = args.lang.as_deref().unwrap_or("");
    let stdin = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    for line in stdin.lines() {
        let line = line.context("reading stdin")?;
        let mut answer = to_json(&faq, faq.ask(&line, lang));
        if args.explain {
            let (top, known, intent) = faq.explain(&line, lang);
            answer["explain"] = json!({
                "known": round(known),
                "intent": intent.map(|i| format!("{i:?}").to_lowercase()),
                "top": top.iter().map(|(id, s, c)| json!({"id": id, "score": round(*s), "coverage": round(*c)})).collect::<Vec<_>>(),
            });
        }
        writeln!(out, "{answer}")?;
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
        Answer::Abstain { best, suggestions } => json!({
            "id": null,
            "score": best.map(round),
            "choices": [],
            "suggestions": suggestions.iter().map(choice).collect::<Vec<_>>(),
        }),
    }
}

/// Two decimals are plenty for a score and keep the output stable across platforms.
fn round(score: f32) -> f64 {
    (f64::from(score) * 100.0).round() / 100.0
}
