//! The extractor's speed on one core: MB (10^6 bytes) of article text per second, for
//! `extract` (quotes, speakers, coreference, check-worthiness of each quote), for the same
//! with the rules alone (the tagger's cost is the difference: machines differ, the ratio
//! travels), and for the sentence scorer alone. Prints figures; asserts nothing, since timings
//! are the machine's.
//!
//! Corpus: the articles of `$CLAIM_BENCH_CORPUS` (JSON lines with a "text"), by default
//! `../shared/eval/quotes/polnear_dev.jsonl`, else the sample excerpt in `tests/data/`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use claim_registry::extract::{checkworthiness, extract, extract_with};

fn corpus() -> (String, Vec<String>) {
    let path = std::env::var("CLAIM_BENCH_CORPUS")
        .unwrap_or_else(|_| "../shared/eval/quotes/polnear_dev.jsonl".into());
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let texts = text
                .lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .filter_map(|v| v["text"].as_str().map(str::to_owned))
                .collect();
            (path, texts)
        }
        Err(_) => {
            let sample = include_str!("../data/sample-excerpt.txt").to_owned();
            (
                "tests/data/sample-excerpt.txt (x100)".into(),
                vec![sample; 100],
            )
        }
    }
}

/// One pass of a workload over the corpus.
type Work<'a> = Box<dyn FnMut(&str) + 'a>;

/// Runs each workload over the corpus in rounds of at least half a second, taking turns round
/// by round (so that a machine's slower minutes weigh on all alike); returns MB/s per round,
/// by workload.
fn measure(texts: &[String], works: &mut [Work<'_>]) -> Vec<Vec<f64>> {
    let bytes: usize = texts.iter().map(String::len).sum();
    for work in works.iter_mut() {
        texts.iter().for_each(|t| work(t)); // warm-up: the models' one-time load, caches
    }
    let mut rates = vec![Vec::new(); works.len()];
    for _ in 0..ROUNDS {
        for (work, rates) in works.iter_mut().zip(&mut rates) {
            let started = Instant::now();
            let mut done = 0usize;
            while started.elapsed() < Duration::from_millis(500) {
                texts.iter().for_each(|t| work(t));
                done += bytes;
            }
            rates.push(done as f64 / 1e6 / started.elapsed().as_secs_f64());
        }
    }
    rates
}

/// Rounds per workload.
const ROUNDS: usize = 7;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(name: &str, rates: &[f64]) {
    let (min, max) = rates
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    println!(
        "{name:<34} median {:>7.1} MB/s   (min {min:.1}, max {max:.1}, {} rounds of 0.5 s, one thread)",
        median(rates.to_vec()),
        rates.len()
    );
}

fn main() {
    let (source, texts) = corpus();
    let bytes: usize = texts.iter().map(String::len).sum();
    println!(
        "corpus: {source}: {} articles, {:.2} MB",
        texts.len(),
        bytes as f64 / 1e6
    );
    let rates = measure(
        &texts,
        &mut [
            Box::new(|t: &str| {
                black_box(extract(black_box(t)));
            }),
            Box::new(|t: &str| {
                black_box(extract_with(black_box(t), None));
            }),
            Box::new(|t: &str| {
                for sentence in t.split_inclusive(['.', '?', '!']) {
                    black_box(checkworthiness::score(black_box(sentence)));
                }
            }),
        ],
    );
    report("extract (quotes + scores)", &rates[0]);
    report("extract, rules alone (no tagger)", &rates[1]);
    report("check-worthiness of sentences", &rates[2]);
    // rounds run side by side: the share of extraction's time the tagger takes
    let ratio = median(rates[0].iter().zip(&rates[1]).map(|(a, b)| a / b).collect());
    println!(
        "{:<34} median {ratio:>7.2}   (the tagger takes {:.0}% of extraction's time)",
        "extract / rules alone",
        100.0 * (1.0 - ratio)
    );
}
