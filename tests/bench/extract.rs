//! The extractor's speed on one core: MB (10^6 bytes) of article text per second, for
//! `extract` (quotes, speakers, coreference, check-worthiness of each quote) and for the
//! sentence scorer alone. Prints figures; asserts nothing, since timings are the machine's.
//!
//! Corpus: the articles of `$CLAIM_BENCH_CORPUS` (JSON lines with a "text"), by default
//! `../shared/eval/quotes/polnear_dev.jsonl`, else the sample excerpt in `tests/data/`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use claim_registry::extract::{checkworthiness, extract};

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

/// Runs `work` over the corpus for rounds of at least half a second; returns MB/s per round.
fn measure(texts: &[String], mut work: impl FnMut(&str)) -> Vec<f64> {
    let bytes: usize = texts.iter().map(String::len).sum();
    texts.iter().for_each(|t| work(t)); // warm-up: the model's one-time load, caches
    (0..7)
        .map(|_| {
            let started = Instant::now();
            let mut done = 0usize;
            while started.elapsed() < Duration::from_millis(500) {
                texts.iter().for_each(|t| work(t));
                done += bytes;
            }
            done as f64 / 1e6 / started.elapsed().as_secs_f64()
        })
        .collect()
}

fn report(name: &str, mut rates: Vec<f64>) {
    rates.sort_by(f64::total_cmp);
    println!(
        "{name:<32} median {:>7.1} MB/s   (min {:.1}, max {:.1}, {} rounds of 0.5 s, one thread)",
        rates[rates.len() / 2],
        rates[0],
        rates[rates.len() - 1],
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
    report(
        "extract (quotes + scores)",
        measure(&texts, |t| {
            black_box(extract(black_box(t)));
        }),
    );
    report(
        "check-worthiness of sentences",
        measure(&texts, |t| {
            for sentence in t.split_inclusive(['.', '?', '!']) {
                black_box(checkworthiness::score(black_box(sentence)));
            }
        }),
    );
}
