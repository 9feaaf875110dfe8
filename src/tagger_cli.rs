//! The tagger's training and its measurement on the command line: `claim-registry tagger train`
//! writes the model that ships, `claim-registry tagger cv` prints out-of-fold quotes in the
//! format of the evaluation's `score.py`.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use rayon::prelude::*;

use crate::extract;
use crate::extract::tagger::train::{self, Article};

/// Reads annotated articles, one JSON object per line.
fn articles(path: &Path) -> anyhow::Result<Vec<Article>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut articles = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        articles.push(serde_json::from_str(&line).with_context(|| {
            format!(
                "{} line {}: expected an article with \"id\", \"text\" and \"quotes\"",
                path.display(),
                n + 1
            )
        })?);
    }
    Ok(articles)
}

/// `claim-registry tagger train`: learns from every article and writes `model.bin` and
/// `cues.tsv` into `output`.
pub fn train(data: &Path, epochs: usize, output: &Path) -> anyhow::Result<()> {
    let articles = articles(data)?;
    let all: Vec<&Article> = articles.iter().collect();
    let started = std::time::Instant::now();
    let (model, cues) = train::fit(&all, epochs);
    let weights = output.join("model.bin");
    std::fs::write(&weights, model.weights_file())
        .with_context(|| format!("cannot write {}", weights.display()))?;
    let mut list = format!(
        "# cue words learnt from {}: word<TAB>share of its occurrences inside an annotated cue\n",
        data.file_name().map_or_else(
            || data.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        )
    );
    for (word, strength) in &cues {
        list.push_str(&format!("{word}\t{strength:.4}\n"));
    }
    let cue_file = output.join("cues.tsv");
    std::fs::write(&cue_file, list)
        .with_context(|| format!("cannot write {}", cue_file.display()))?;
    eprintln!(
        "learnt from {} articles in {:.1} s ({epochs} epochs): {} weighted features, {} cue words; wrote {} and {}",
        articles.len(),
        started.elapsed().as_secs_f64(),
        model.weights.len(),
        cues.len(),
        weights.display(),
        cue_file.display()
    );
    Ok(())
}

/// `claim-registry tagger cv`: each article's quotes by a model learnt from the other folds
/// alone (cue words included), as `score.py` lines in the input's order.
pub fn cross_validate(data: &Path, folds: usize, epochs: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        folds >= 2,
        "cross-validation needs at least 2 folds, not {folds}"
    );
    let articles = articles(data)?;
    let fold_of = train::folds(&articles, folds);
    let started = std::time::Instant::now();
    let mut lines: Vec<(usize, Vec<u8>)> = (0..folds)
        .into_par_iter()
        .map(|fold| -> anyhow::Result<Vec<(usize, Vec<u8>)>> {
            let learn: Vec<&Article> = articles
                .iter()
                .zip(&fold_of)
                .filter(|&(_, &f)| f != fold)
                .map(|(a, _)| a)
                .collect();
            let (model, _) = train::fit(&learn, epochs);
            eprintln!(
                "fold {} of {folds}: learnt from {} articles ({:.0} s)",
                fold + 1,
                learn.len(),
                started.elapsed().as_secs_f64()
            );
            articles
                .iter()
                .enumerate()
                .filter(|&(i, _)| fold_of[i] == fold)
                .map(|(i, article)| {
                    let mut line = Vec::new();
                    let found = extract::extract_with(&article.text, Some(&model));
                    crate::extract_cli::write_quotes(&mut line, &article.id, &found)?;
                    Ok((i, line))
                })
                .collect()
        })
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    lines.sort_by_key(|&(i, _)| i);
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (_, line) in lines {
        out.write_all(&line)?;
    }
    out.flush()?;
    Ok(())
}
