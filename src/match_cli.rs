//! `claim-registry match`: claim matching offline, with exactly the service's search
//! ([`SearchIndex`]: the same cleaning, ranking, thresholds and decisions), in the format of the
//! evaluation's `score.py`.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde::Deserialize;

use crate::search::{ClaimText, Embedder, Key, Mode, SearchIndex, Settings};

/// Claims embedded per batch between progress lines' checks.
const EMBED_BATCH: usize = 256;

/// A progress line at most this often, in claims embedded or queries matched.
const PROGRESS_EVERY: usize = 2048;

#[derive(Deserialize)]
struct ClaimLine {
    id: serde_json::Value,
    text: String,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize)]
struct QueryLine {
    id: serde_json::Value,
    query: String,
    #[serde(default)]
    relevant: Vec<serde_json::Value>,
}

/// What `match` was asked to do.
#[derive(Debug)]
pub struct MatchOptions<'a> {
    /// The claims file: JSON lines `{"id", "text", "title"?}`.
    pub claims: &'a Path,
    /// The queries file: JSON lines `{"id", "query"}`; standard input for `None` or `-`.
    pub queries: Option<&'a Path>,
    /// Where the model is, or is installed on first use.
    pub model_dir: &'a Path,
    /// Matches printed per query.
    pub limit: usize,
    /// For the evaluation of false matches: before each query, remove the claims its
    /// `"relevant"` field names from the pool, and put them back after.
    pub remove_relevant: bool,
    /// An adapter file to embed with in place of the shipped one; unlike a missing model, one
    /// that cannot be read or does not fit is an error, not a fallback to words alone.
    pub adapter: Option<&'a Path>,
}

/// Reads JSON lines, skipping blank ones; errors name the file and line.
fn read_lines<T: for<'de> Deserialize<'de>>(
    reader: Box<dyn BufRead>,
    name: &str,
    expected: &str,
) -> anyhow::Result<Vec<T>> {
    let mut items = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {name}"))?;
        if line.trim().is_empty() {
            continue;
        }
        items.push(serde_json::from_str(&line).with_context(|| {
            format!(
                "{name} line {}: expected a JSON object with {expected}",
                n + 1
            )
        })?);
    }
    Ok(items)
}

/// Opens a file, or standard input for `None` or `-`.
fn open(path: Option<&Path>) -> anyhow::Result<Box<dyn BufRead>> {
    Ok(match path {
        Some(path) if path != Path::new("-") => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
        )),
        _ => Box::new(std::io::stdin().lock()),
    })
}

/// The text of a JSON id, for matching `relevant` ids to claim ids given as strings or numbers.
fn id_text(id: &serde_json::Value) -> String {
    match id {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `claim-registry match`: one line `{"id", "matches": [{"id", "score", "decision"?}]}` per
/// query, best match first.
pub fn run(options: &MatchOptions<'_>) -> anyhow::Result<()> {
    let claims: Vec<ClaimLine> = read_lines(
        open(Some(options.claims))?,
        &options.claims.display().to_string(),
        "\"id\" and \"text\"",
    )?;
    let queries: Vec<QueryLine> = read_lines(
        open(options.queries)?,
        "the queries",
        "\"id\" and \"query\"",
    )?;
    let loaded = match options.adapter {
        None => Embedder::from_dir(options.model_dir),
        Some(path) => {
            let adapter = std::fs::read(path)
                .with_context(|| format!("cannot read the adapter {}", path.display()))?;
            let files = crate::search::model::ensure_model(options.model_dir)?;
            Ok(
                Embedder::load_with(&files, Some(&adapter)).with_context(|| {
                    format!("the adapter {} does not fit the model", path.display())
                })?,
            )
        }
    };
    let embedder = match loaded {
        Ok(embedder) => Some(Arc::new(embedder)),
        Err(error) => {
            tracing::warn!("{error}; matching lexically only, without decisions");
            None
        }
    };
    let index = SearchIndex::new(embedder, Settings::default())?;
    let texts: Vec<ClaimText<'_>> = claims
        .iter()
        .map(|claim| ClaimText {
            statement: &claim.text,
            title: claim.title.as_deref().unwrap_or(""),
            ..ClaimText::default()
        })
        .collect();
    let vectors = embed_all(&index, &texts)?;
    for (key, text) in texts.iter().enumerate() {
        let vector = vectors.as_ref().map(|v| v[key].as_slice());
        index.upsert(key as Key, text, vector)?;
    }
    index.commit()?;

    let by_id: std::collections::HashMap<String, usize> = claims
        .iter()
        .enumerate()
        .map(|(key, claim)| (id_text(&claim.id), key))
        .collect();
    let started = Instant::now();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (done, query) in queries.iter().enumerate() {
        if done > 0 && done % PROGRESS_EVERY == 0 {
            eprintln!("matched {done} of {} queries", queries.len());
        }
        let removed: Vec<usize> = if options.remove_relevant {
            query
                .relevant
                .iter()
                .filter_map(|id| by_id.get(&id_text(id)).copied())
                .collect()
        } else {
            Vec::new()
        };
        for &key in &removed {
            index.remove(key as Key);
        }
        if !removed.is_empty() {
            index.commit()?;
        }
        let found = index.search(&query.query, options.limit)?;
        for &key in &removed {
            let vector = vectors.as_ref().map(|v| v[key].as_slice());
            index.upsert(key as Key, &texts[key], vector)?;
        }
        if !removed.is_empty() {
            index.commit()?;
        }
        let matches: Vec<serde_json::Value> = found
            .results
            .iter()
            .map(|result| {
                // keys are line numbers of the claims file
                let claim = &claims[usize::try_from(result.key).expect("keys are line numbers")];
                let mut entry = serde_json::json!({ "id": claim.id, "score": result.score });
                if let Some(decision) = result.decision {
                    entry["decision"] = decision.as_str().into();
                }
                entry
            })
            .collect();
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({ "id": query.id, "matches": matches }),
        )?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let elapsed = started.elapsed();
    eprintln!(
        "matched {} queries against {} claims in {:.1} s ({:.1} ms per query{})",
        queries.len(),
        claims.len(),
        elapsed.as_secs_f64(),
        1000.0 * elapsed.as_secs_f64() / queries.len().max(1) as f64,
        match index.mode() {
            Mode::Hybrid => "",
            Mode::LexicalOnly => "; lexical only: no model",
        }
    );
    Ok(())
}

/// Every claim's vector, with progress on standard error; `None` without the model.
fn embed_all(
    index: &SearchIndex,
    texts: &[ClaimText<'_>],
) -> anyhow::Result<Option<Vec<Vec<f32>>>> {
    if index.mode() == Mode::LexicalOnly {
        return Ok(None);
    }
    let started = Instant::now();
    let mut vectors = Vec::with_capacity(texts.len());
    let mut reported = 0;
    for batch in texts.chunks(EMBED_BATCH) {
        let Some(batch_vectors) = index.embed_claims(batch)? else {
            return Ok(None);
        };
        vectors.extend(batch_vectors);
        if vectors.len() - reported >= PROGRESS_EVERY || vectors.len() == texts.len() {
            reported = vectors.len();
            let seconds = started.elapsed().as_secs_f64();
            eprintln!(
                "embedded {} of {} claims in {seconds:.0} s ({:.0} claims/s)",
                vectors.len(),
                texts.len(),
                vectors.len() as f64 / seconds.max(1e-9)
            );
        }
    }
    Ok(Some(vectors))
}
