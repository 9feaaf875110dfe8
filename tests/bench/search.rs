//! `cargo bench --bench search`: the speed of claim search's parts on this machine.
//!
//! - embedding throughput of all-MiniLM-L6-v2 on one core, in sentences per second, on the
//!   verified claims' statements (and on every core, for comparison);
//! - lexical search latency (p50/p95/p99) over the 10,375 verified claims with the train and dev
//!   queries, at the depth the hybrid ranking uses;
//! - exact vector search latency over as many random unit vectors.
//!
//! Reads ../shared/eval/claim-matching when it is there, else times synthetic sentences. The
//! model comes from CLAIM_REGISTRY_MODEL_DIR (default data/model), installed there on first use.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use claim_registry::search::lexical::{ClaimText, FieldWeights, LexicalIndex};
use claim_registry::search::model::{DIMENSION, Embedder};
use claim_registry::search::rank::Fusion;
use claim_registry::search::text::clean_query;
use claim_registry::search::vectors::VectorIndex;

/// Sentences embedded for the throughput figures.
const EMBEDDED: usize = 500;

fn read_jsonl(path: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .map(|text| {
            text.lines()
                .filter(|line| !line.trim().is_empty())
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn field(value: &serde_json::Value, name: &str) -> String {
    value[name].as_str().unwrap_or_default().to_owned()
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms over {} queries",
        at(0.50).as_secs_f64() * 1000.0,
        at(0.95).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        samples.len()
    )
}

fn main() {
    // candle and rayon read the thread count from the environment when they first need it; no
    // other thread exists yet, so changing the environment here races with nothing
    unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };

    let data = "../shared/eval/claim-matching";
    let claims = read_jsonl(&format!("{data}/verified_claims.jsonl"));
    let mut queries = read_jsonl(&format!("{data}/queries_train.jsonl"));
    queries.extend(read_jsonl(&format!("{data}/queries_dev.jsonl")));
    let (statements, titles, queries): (Vec<String>, Vec<String>, Vec<String>) =
        if claims.is_empty() {
            println!("no evaluation data at {data}: synthetic sentences");
            let words = [
                "senator", "vaccine", "border", "photo", "tax", "river", "election",
            ];
            let statement = |i: usize| {
                (0..12)
                    .map(|j| words[(i * 7 + j * 3) % words.len()])
                    .collect::<Vec<_>>()
                    .join(" ")
                    + &format!(" {i}")
            };
            (
                (0..10_000).map(statement).collect(),
                vec![String::new(); 10_000],
                (0..500).map(|i| statement(i * 13)).collect(),
            )
        } else {
            (
                claims.iter().map(|c| field(c, "text")).collect(),
                claims.iter().map(|c| field(c, "title")).collect(),
                queries
                    .iter()
                    .map(|q| clean_query(&field(q, "query")))
                    .collect(),
            )
        };

    let model_dir = std::env::var_os("CLAIM_REGISTRY_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("data/model"));
    match Embedder::from_dir(&model_dir) {
        Ok(embedder) => {
            let sample: Vec<&str> = statements
                .iter()
                .take(EMBEDDED)
                .map(String::as_str)
                .collect();
            let started = Instant::now();
            embedder.embed(&sample).expect("embedding succeeds");
            let one_core = sample.len() as f64 / started.elapsed().as_secs_f64();
            println!(
                "embedding, one core: {one_core:.0} sentences/s ({} claim statements, mean {:.0} characters); the {} claims would take {:.0} s",
                sample.len(),
                sample.iter().map(|s| s.len()).sum::<usize>() as f64 / sample.len() as f64,
                statements.len(),
                statements.len() as f64 / one_core
            );
            let mut latencies = Vec::new();
            for query in queries.iter().take(200) {
                let started = Instant::now();
                embedder.embed_one(query).expect("embedding succeeds");
                latencies.push(started.elapsed());
            }
            println!("embedding one query, one core: {}", percentiles(latencies));
        }
        Err(error) => println!("embedding: not measured, {error}"),
    }

    let depth = Fusion::default().depth;
    let index = LexicalIndex::new(FieldWeights::default()).expect("an index in memory");
    let started = Instant::now();
    for (key, (statement, title)) in statements.iter().zip(&titles).enumerate() {
        let text = ClaimText {
            statement,
            title,
            ..ClaimText::default()
        };
        index.upsert(key as u128, &text).expect("indexing succeeds");
    }
    index.commit().expect("commit succeeds");
    println!(
        "lexical index: {} claims indexed in {:.2} s",
        index.len(),
        started.elapsed().as_secs_f64()
    );
    let mut latencies = Vec::new();
    for query in &queries {
        let started = Instant::now();
        index.search(query, depth).expect("search succeeds");
        latencies.push(started.elapsed());
    }
    println!("lexical search, top {depth}: {}", percentiles(latencies));
    let started = Instant::now();
    index
        .upsert(
            u128::MAX,
            &ClaimText {
                statement: "a claim added while the index is in use",
                ..ClaimText::default()
            },
        )
        .expect("indexing succeeds");
    index.commit().expect("commit succeeds");
    println!(
        "lexical index: one claim added and searchable in {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );

    let vectors = VectorIndex::new(DIMENSION);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut random = || {
        // xorshift: any spread of directions will do for timing
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    for key in 0..statements.len() {
        let vector: Vec<f32> = (0..DIMENSION).map(|_| random()).collect();
        vectors
            .upsert(key as u128, &vector)
            .expect("right dimension");
    }
    let mut latencies = Vec::new();
    for _ in 0..200 {
        let query: Vec<f32> = (0..DIMENSION).map(|_| random()).collect();
        let started = Instant::now();
        vectors.search(&query, depth).expect("right dimension");
        latencies.push(started.elapsed());
    }
    println!(
        "vector search, exact, {} vectors, top {depth}: {}",
        vectors.len(),
        percentiles(latencies)
    );
}
