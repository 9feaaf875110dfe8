//! `cargo bench --bench search_scale`: `SearchClaims`' ranking at a million claims on one
//! replica, warm: the service's own index ([`ClaimIndex`]: BM25, vectors, filter facts), filled
//! in memory the way a replica's start fills it, then searched the way a call searches it.
//!
//! The fill is synthetic, as the issue allows, but shaped like the real thing:
//!
//! - statements are runs of 8 to 30 words drawn from the verified claims' own word stream, so
//!   BM25's posting lists have real word frequencies;
//! - vectors are real all-MiniLM-L6-v2 embeddings of 2,000 verified claims plus copies of them
//!   with Gaussian noise (cosine about 0.6 to 0.9 to their original), so the vectors cluster as
//!   real claims do and the sign-bit shortlist is tested on neighbours that are close together.
//!
//! Prints: fill time and resident memory; the latency (p50/p95/p99) of the whole ranking for
//! tweet-length queries (the CheckThat! queries) and for sentence-length ones (claim statements),
//! unfiltered and with a filter (a broad one; a speaker of 2% of the claims, whose claims are
//! too many to compare one by one; one of 0.5%, whose claims are compared one by one); and how
//! often the vector shortlist returns the exact top ten.
//! The database read of the page's claims is not included: it is one primary-key lookup per
//! result, timed by `cargo bench --bench load` ("GetClaim's read, store only").
//!
//! Settings: `SCALE_CLAIMS` (default 1,000,000), `SCALE_QUERIES` (default 200 per kind).
//! The model comes from `CLAIM_REGISTRY_MODEL_DIR` (default `data/model`), installed there on
//! first use; without it the bench says so and stops.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use claim_registry::domain::ReviewState;
use claim_registry::registry::{ClaimIndex, SearchFilter};
use claim_registry::search::Settings;
use claim_registry::search::model::{DIMENSION, Embedder};
use claim_registry::search::vectors::VectorIndex;
use claim_registry::store::search::SearchDocument;
use time::OffsetDateTime;
use uuid::Uuid;

/// Real claims embedded for the fill's vectors.
const SEEDS: usize = 2_000;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn read_jsonl(path: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .map(|text| {
            text.lines()
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {:>6.2} ms   p95 {:>6.2} ms   p99 {:>6.2} ms   ({} queries)",
        at(0.50).as_secs_f64() * 1000.0,
        at(0.95).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        samples.len()
    )
}

/// The process's resident memory, in MiB.
fn resident_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// xorshift64*: reproducible and fast; any spread will do for a synthetic fill.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal number (Box–Muller).
    fn gaussian(&mut self) -> f32 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

fn main() {
    let claims_wanted = setting("SCALE_CLAIMS", 1_000_000);
    let queries_wanted = setting("SCALE_QUERIES", 200);
    let data = "../shared/eval/claim-matching";
    let verified = read_jsonl(&format!("{data}/verified_claims.jsonl"));
    let tweets: Vec<String> = read_jsonl(&format!("{data}/queries_dev.jsonl"))
        .into_iter()
        .chain(read_jsonl(&format!("{data}/queries_train.jsonl")))
        .filter_map(|q| q["query"].as_str().map(str::to_owned))
        .take(queries_wanted)
        .collect();
    let statements: Vec<String> = verified
        .iter()
        .filter_map(|c| c["text"].as_str().map(str::to_owned))
        .collect();
    if statements.len() < SEEDS || tweets.is_empty() {
        println!("search at scale: no evaluation data at {data}; not measured");
        return;
    }
    let model_dir = std::env::var_os("CLAIM_REGISTRY_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("data/model"));
    let embedder = match Embedder::from_dir(&model_dir) {
        Ok(embedder) => std::sync::Arc::new(embedder),
        Err(error) => {
            println!("search at scale: not measured, {error}");
            return;
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "search at scale: {claims_wanted} claims, {} tweet and {queries_wanted} sentence queries, embedding on {threads} threads",
        tweets.len()
    );

    // the fill's vectors: real embeddings of the first claims, then noisy copies of them
    let started = Instant::now();
    let seed_texts: Vec<&str> = statements.iter().take(SEEDS).map(String::as_str).collect();
    let seeds = embedder.embed(&seed_texts).expect("embedding succeeds");
    println!(
        "  {SEEDS} real claims embedded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let words: Vec<&str> = statements
        .iter()
        .flat_map(|s| s.split_whitespace())
        .collect();
    let mut random = Random(0x9e37_79b9_7f4a_7c15);

    let index = ClaimIndex::new(Settings::default()).expect("an index in memory");
    index.set_embedder(embedder.clone());
    let base_memory = resident_mib();
    let started = Instant::now();
    let now = OffsetDateTime::now_utc();
    for i in 0..claims_wanted {
        let statement = if i < SEEDS {
            statements[i].clone()
        } else {
            let length = 8 + random.below(23);
            let start = random.below(words.len() - length);
            let mut text = words[start..start + length].join(" ");
            // a second run from elsewhere, so that statements are not just the corpus again
            text.push(' ');
            text.push_str(words[random.below(words.len())]);
            text
        };
        let vector = if i < SEEDS {
            seeds[i].clone()
        } else {
            let seed = &seeds[random.below(SEEDS)];
            let noise = 0.025 + 0.035 * random.unit() as f32;
            seed.iter().map(|x| x + noise * random.gaussian()).collect()
        };
        index
            .upsert(SearchDocument {
                id: Uuid::from_u128(i as u128 + 1),
                statement,
                claimant: if i % 50 == 0 {
                    "The Senator".to_owned()
                } else if i % 200 == 1 {
                    "The Mayor".to_owned()
                } else {
                    String::new()
                },
                explanation: String::new(),
                rating: None,
                speakers: if i % 50 == 0 {
                    vec!["the senator".to_owned()]
                } else if i % 200 == 1 {
                    vec!["the mayor".to_owned()]
                } else {
                    Vec::new()
                },
                languages: vec!["en".to_owned()],
                articles: Vec::new(),
                create_time: now,
                review_time: None,
                dismissed: false,
                vector: Some(vector),
            })
            .expect("indexing succeeds");
        if (i + 1) % 100_000 == 0 {
            index.commit().expect("commit succeeds");
            eprintln!(
                "  {} claims indexed, {:.0} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    index.commit().expect("commit succeeds");
    index.mark_built();
    println!(
        "  filled in {:.0} s; resident memory {:.0} MiB for the index ({:.0} MiB in all)",
        started.elapsed().as_secs_f64(),
        resident_mib() - base_memory,
        resident_mib()
    );

    // claims' statements not among the real ones indexed; a different set per pass, since the
    // model keeps recent queries' vectors
    let sentences = |pass: usize| -> Vec<String> {
        statements
            .iter()
            .skip(SEEDS + pass)
            .step_by(7)
            .take(queries_wanted)
            .cloned()
            .collect()
    };
    let unfiltered = SearchFilter::default();
    let speaker = SearchFilter {
        speaker: Some("the senator".to_owned()),
        ..SearchFilter::default()
    };
    let mayor = SearchFilter {
        speaker: Some("the mayor".to_owned()),
        ..SearchFilter::default()
    };
    let unreviewed = SearchFilter {
        review_state: Some(ReviewState::Unreviewed),
        ..SearchFilter::default()
    };
    let time = |queries: &[String], filter: &SearchFilter| {
        // warm, with a query not timed: the model recalls recent queries' vectors
        index
            .search("a warm-up query", filter, 0, 10)
            .expect("search succeeds");
        queries
            .iter()
            .map(|query| {
                let started = Instant::now();
                let found = index.search(query, filter, 0, 10).expect("search succeeds");
                assert!(!found.is_empty());
                started.elapsed()
            })
            .collect::<Vec<_>>()
    };
    println!(
        "  SearchClaims ranking, tweets, top 10:                  {}",
        percentiles(time(&tweets, &unfiltered))
    );
    println!(
        "  SearchClaims ranking, sentences, top 10:               {}",
        percentiles(time(&sentences(0), &unfiltered))
    );
    println!(
        "  SearchClaims ranking, sentences, review state filter:  {}",
        percentiles(time(&sentences(1), &unreviewed))
    );
    println!(
        "  SearchClaims ranking, sentences, speaker filter (2%):  {}",
        percentiles(time(&sentences(2), &speaker))
    );
    println!(
        "  SearchClaims ranking, sentences, speaker filter (0.5%): {}",
        percentiles(time(&sentences(4), &mayor))
    );
    let embedding: Vec<Duration> = sentences(3)
        .iter()
        .map(|query| {
            let started = Instant::now();
            embedder.embed_one(query).expect("embedding succeeds");
            started.elapsed()
        })
        .collect();
    println!(
        "  of which embedding the query, sentences:              {}",
        percentiles(embedding)
    );

    drop(index);

    // the vector shortlist against an exact scan, on the same kind of fill (vectors only)
    let vectors = VectorIndex::new(DIMENSION);
    let mut random = Random(0x2545_f491_4f6c_dd1d);
    for i in 0..claims_wanted {
        let seed = &seeds[if i < SEEDS { i } else { random.below(SEEDS) }];
        let noise = if i < SEEDS {
            0.0
        } else {
            0.025 + 0.035 * random.unit() as f32
        };
        let vector: Vec<f32> = seed.iter().map(|x| x + noise * random.gaussian()).collect();
        vectors.upsert(i as u128, &vector).expect("right dimension");
    }
    let query_vectors: Vec<Vec<f32>> = tweets
        .iter()
        .chain(&sentences(0))
        .map(|q| embedder.embed_one(q).expect("embedding succeeds"))
        .collect();
    let (mut kept, mut wanted) = (0usize, 0usize);
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    for query in &query_vectors {
        let started = Instant::now();
        let found = vectors.search(query, 100).expect("right dimension");
        fast.push(started.elapsed());
        let started = Instant::now();
        let exact = vectors.search_exact(query, 10).expect("right dimension");
        slow.push(started.elapsed());
        let top: std::collections::HashSet<u128> = found.iter().take(10).map(|h| h.key).collect();
        kept += exact.iter().filter(|h| top.contains(&h.key)).count();
        wanted += exact.len();
    }
    println!(
        "  vector search, shortlist by signs, top 100:            {}",
        percentiles(fast)
    );
    println!(
        "  vector search, exact scan (for comparison):            {}",
        percentiles(slow)
    );
    println!(
        "  shortlist recall: {:.1}% of the exact top 10 found in the top 10 ({} queries)",
        100.0 * kept as f64 / wanted.max(1) as f64,
        query_vectors.len()
    );
}
