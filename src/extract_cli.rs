//! The extractor on the command line: JSON lines in, JSON lines out, in the format of the
//! evaluation's `score.py`, so anyone can score the extractor with one command.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::domain::QuoteKind;
use crate::extract::{self, checkworthiness};

#[derive(Deserialize)]
struct ArticleLine {
    id: serde_json::Value,
    text: String,
}

#[derive(Deserialize)]
struct SentenceLine {
    id: serde_json::Value,
    sentence: String,
}

#[derive(Serialize)]
struct QuoteOut<'a> {
    quote: &'a str,
    start: usize,
    end: usize,
    speaker: Option<&'a str>,
    speaker_start: Option<usize>,
    speaker_end: Option<usize>,
    resolved_speaker: Option<&'a str>,
    verb: Option<&'a str>,
    kind: &'static str,
    checkworthiness: f32,
}

/// Reads the input lines: a file, or standard input for `None` or `-`.
fn lines(
    input: Option<&Path>,
) -> anyhow::Result<Box<dyn Iterator<Item = std::io::Result<String>>>> {
    Ok(match input {
        Some(path) if path != Path::new("-") => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Box::new(std::io::BufReader::new(file).lines())
        }
        _ => Box::new(std::io::stdin().lock().lines()),
    })
}

/// `claim-registry extract`: `{"id", "text"}` lines in, `{"id", "quotes": [...]}` lines out;
/// with `rules_only`, as the rules alone find them (no tagger).
pub fn extract(input: Option<&Path>, rules_only: bool) -> anyhow::Result<()> {
    let model = (!rules_only).then(extract::tagger::Model::shipped);
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (n, line) in lines(input)?.enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let article: ArticleLine = serde_json::from_str(&line).with_context(|| {
            format!(
                "line {}: expected a JSON object with \"id\" and \"text\"",
                n + 1
            )
        })?;
        let found = extract::extract_with(&article.text, model);
        write_quotes(&mut out, &article.id, &found)?;
    }
    out.flush()?;
    Ok(())
}

/// Writes one article's quotes as a line of `score.py`'s format.
pub(crate) fn write_quotes(
    out: &mut impl Write,
    id: &serde_json::Value,
    found: &[extract::ExtractedQuote],
) -> anyhow::Result<()> {
    let quotes: Vec<QuoteOut<'_>> = found
        .iter()
        .map(|q| QuoteOut {
            quote: &q.quote.text,
            start: q.quote.span.start,
            end: q.quote.span.end,
            speaker: q.speaker.as_ref().map(|s| s.text.as_str()),
            speaker_start: q.speaker.as_ref().map(|s| s.span.start),
            speaker_end: q.speaker.as_ref().map(|s| s.span.end),
            resolved_speaker: q.resolved_speaker.as_deref(),
            verb: q.cue.as_ref().map(|c| c.text.as_str()),
            kind: match q.kind {
                QuoteKind::Direct => "direct",
                QuoteKind::Indirect => "indirect",
                QuoteKind::Mixed => "mixed",
            },
            checkworthiness: q.checkworthiness,
        })
        .collect();
    serde_json::to_writer(
        &mut *out,
        &serde_json::json!({ "id": id, "quotes": quotes }),
    )?;
    out.write_all(b"\n")?;
    Ok(())
}

/// `claim-registry checkworthiness`: `{"id", "sentence"}` lines in, `{"id", "score"}` lines out.
pub fn checkworthiness(input: Option<&Path>) -> anyhow::Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (n, line) in lines(input)?.enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let sentence: SentenceLine = serde_json::from_str(&line).with_context(|| {
            format!(
                "line {}: expected a JSON object with \"id\" and \"sentence\"",
                n + 1
            )
        })?;
        let score = checkworthiness::score(&sentence.sentence);
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({ "id": sentence.id, "score": score }),
        )?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
