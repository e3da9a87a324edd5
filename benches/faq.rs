//! Time to answer one question with the FAQ matcher, on one core: every question of
//! `eval/faq/heldout2.csv` and `eval/faq/dev2.csv` (548 questions, chatty and short, with
//! typos) asked of its comune's FAQ, best of 5 rounds. `cargo bench --bench faq` prints
//! microseconds per question, and the median, 99th percentile and slowest question.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use sportello::faq::Faq;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut faqs: BTreeMap<String, Faq> = BTreeMap::new();
    let mut questions: Vec<(String, String, String)> = Vec::new();
    for set in ["eval/faq/heldout2.csv", "eval/faq/dev2.csv"] {
        let text = std::fs::read_to_string(root.join(set)).expect("eval set");
        let mut reader = text.lines().skip(1);
        // comune,lang,"question",expected: the question is the only field that may be quoted.
        for line in reader.by_ref() {
            let (comune, rest) = line.split_once(',').expect("comune");
            let (lang, rest) = rest.split_once(',').expect("lang");
            let question = match rest.strip_prefix('"') {
                Some(q) => q
                    .rsplit_once("\",")
                    .map(|(q, _)| q.replace("\"\"", "\""))
                    .expect("quoted"),
                None => rest.rsplit_once(',').map(|(q, _)| q.to_string()).expect("question"),
            };
            if !faqs.contains_key(comune) {
                let faq = Faq::load(&root.join("faq").join(format!("{comune}.toml"))).expect("faq");
                faqs.insert(comune.to_string(), faq);
            }
            questions.push((comune.to_string(), lang.to_string(), question));
        }
    }
    for (comune, lang, q) in questions.iter().take(100) {
        black_box(faqs[comune].ask(q, lang));
    }
    // Per question, the fastest of the rounds (scheduling noise removed); the total of
    // the best round.
    let mut fastest = vec![f64::MAX; questions.len()];
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for (i, (comune, lang, q)) in questions.iter().enumerate() {
            let one = Instant::now();
            black_box(faqs[comune].ask(black_box(q), lang));
            fastest[i] = fastest[i].min(one.elapsed().as_secs_f64());
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    fastest.sort_by(f64::total_cmp);
    let at = |p: f64| fastest[((fastest.len() as f64 - 1.0) * p) as usize] * 1e6;
    println!(
        "faq: {} questions; best of 5: {:.1} ms, {:.1} µs per question; per question (fastest of 5) p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        questions.len(),
        best * 1e3,
        best * 1e6 / questions.len() as f64,
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
