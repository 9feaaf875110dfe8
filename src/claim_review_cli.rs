//! `claim-registry import claimreview` and `export claimreview`: ClaimReview JSON-LD files in and
//! out, straight to and from the database, through the same use cases as the RPCs.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context;
use serde_json::json;

use crate::domain::{MAX_PAGE_SIZE, Role, claim_review};
use crate::registry::{ImportOutcome, Registry};

/// Records imported per batch: the report of each batch is printed before the next is read.
const BATCH: usize = 500;

/// Imports the ClaimReviews of `file` ("-": standard input) as the key named `key`, printing a
/// JSON line per record; fails, after importing the rest, if any record was refused.
pub async fn import(registry: &Registry, file: &Path, key: &str) -> anyhow::Result<()> {
    let importer = registry
        .find_api_key(key)
        .await
        .with_context(|| format!("--as {key:?}"))?;
    if importer.revoke_time.is_some() {
        anyhow::bail!("--as {key:?}: that key is revoked; name an active reviewer or admin key");
    }
    if importer.role < Role::Reviewer {
        anyhow::bail!(
            "--as {key:?}: that key is a {}; importing verdicts takes a reviewer or admin key",
            importer.role.as_str()
        );
    }
    let mut text = String::new();
    if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
    }
    let document: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let records = claim_review::records(&document);
    let total = records.len();
    let mut counts = [0usize; 4];
    let mut out = std::io::stdout().lock();
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let batch: Vec<_> = records.by_ref().take(BATCH).collect();
        for line in registry.import_claim_reviews(batch, &importer).await? {
            let (index, outcome) = match line.outcome {
                ImportOutcome::Created => (0, "created"),
                ImportOutcome::Updated => (1, "updated"),
                ImportOutcome::Skipped => (2, "skipped"),
                ImportOutcome::Refused => (3, "refused"),
            };
            counts[index] += 1;
            let json = json!({
                "position": line.position,
                "outcome": outcome,
                "review_url": line.url,
                "verdict": line.verdict.map(|v| v.to_string()),
                "detail": line.detail,
            });
            writeln!(out, "{json}")?;
        }
    }
    let [created, updated, skipped, refused] = counts;
    eprintln!(
        "{total} records: {created} created, {updated} updated, {skipped} skipped, {refused} refused"
    );
    if refused > 0 {
        anyhow::bail!(
            "{refused} of {total} records were refused (see their lines); the others were imported"
        );
    }
    Ok(())
}

/// Writes every exportable verdict's ClaimReview, newest publication first, as one schema.org
/// DataFeed to `output` (standard output when absent or "-").
pub async fn export(registry: &Registry, output: Option<&Path>) -> anyhow::Result<()> {
    let mut elements = Vec::new();
    let mut after = None;
    loop {
        let page = registry.list_claim_reviews(after, MAX_PAGE_SIZE).await?;
        elements.extend(page.items.into_iter().map(|(_, mut review)| {
            // the feed carries the context once
            if let Some(object) = review.as_object_mut() {
                object.remove("@context");
            }
            json!({"@type": "DataFeedItem", "item": review})
        }));
        match page.next_after {
            Some(id) => {
                after = Some(crate::domain::Cursor {
                    id,
                    key: page.next_key,
                })
            }
            None => break,
        }
    }
    let count = elements.len();
    let feed = json!({
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": elements,
    });
    let text = serde_json::to_string_pretty(&feed)?;
    match output {
        Some(path) if path != Path::new("-") => std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?,
        _ => writeln!(std::io::stdout().lock(), "{text}")?,
    }
    eprintln!("{count} ClaimReviews exported");
    Ok(())
}
