//! ClaimReview in and out: the desk's published verdicts as schema.org ClaimReview JSON-LD, and
//! other organisations' ClaimReviews imported as claims with published verdicts, which claim
//! matching then searches like any other.

use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

use super::{Registry, fetch_claim, fetch_verdict};
use crate::domain::claim_review::{
    self, ImportedReview, Organization, Record, ReviewSource, in_order,
};
use crate::domain::{
    ApiKey, Claim, ClaimName, ClaimPatch, Cursor, Origin, Verdict, VerdictAction, VerdictName,
    VerdictState,
};
use crate::error::Error;
use crate::store::claims::ClaimRecord;
use crate::store::imported_reviews::{self, REVIEW_URL_KEY};
use crate::store::{self, Page, articles, claims, verdicts};

/// What an import did with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A new claim and its published verdict.
    Created,
    /// A review imported before, changed since: its claim, verdict or source brought up to date.
    Updated,
    /// Nothing to do: imported before and unchanged, or not the import's to change.
    Skipped,
    /// Malformed: not imported, for the reason given.
    Refused,
}

/// One line of an import's report: a record, what became of it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Where the record stands in the document (`$[3]`, `$.dataFeedElement[0].item`).
    pub position: String,
    /// What became of it.
    pub outcome: ImportOutcome,
    /// The review's URL, when it had a readable one.
    pub url: Option<String>,
    /// The verdict it is (or, skipped, the verdict that already gives its URL).
    pub verdict: Option<VerdictName>,
    /// Why it was refused or skipped, or what an update changed; empty for a creation.
    pub detail: String,
}

impl Registry {
    /// The schema.org ClaimReview (JSON-LD) of a published verdict: by the desk's organisation,
    /// with the claim's quotes' articles as its appearances; or, imported, as its organisation
    /// wrote it.
    pub async fn claim_review(&self, name: VerdictName) -> Result<serde_json::Value, Error> {
        let mut conn = self.pool.acquire().await?;
        let verdict = fetch_verdict(&mut conn, name).await?;
        let claim = fetch_claim(&mut conn, name.claim).await?;
        let mut sources = self
            .review_sources(&mut conn, &[(&claim, &verdict)])
            .await?;
        let source = sources.remove(&verdict.name.id).unwrap_or_default();
        claim_review::claim_review(&claim, &verdict, &source).map_err(|description| {
            Error::FailedPrecondition {
                kind: "NOT_EXPORTABLE",
                subject: name.to_string(),
                description,
            }
        })
    }

    /// A page of ClaimReviews: every published verdict with a review URL, the desk's and
    /// imported ones, newest publication first.
    pub async fn list_claim_reviews(
        &self,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Page<(VerdictName, serde_json::Value)>, Error> {
        let mut conn = self.pool.acquire().await?;
        let page = verdicts::exportable(&mut conn, after, limit).await?;
        let names: Vec<ClaimName> = page.items.iter().map(|v| v.name.claim).collect();
        let claims: HashMap<ClaimName, Claim> = claims::get_many(&mut conn, &names)
            .await?
            .into_iter()
            .map(|c| (c.name, c))
            .collect();
        let mut pairs = Vec::with_capacity(page.items.len());
        for verdict in &page.items {
            let claim = claims
                .get(&verdict.name.claim)
                .ok_or_else(|| Error::Internal(anyhow::anyhow!("{} has no claim", verdict.name)))?;
            pairs.push((claim, verdict));
        }
        let sources = self.review_sources(&mut conn, &pairs).await?;
        let mut reviews = Vec::with_capacity(pairs.len());
        for (claim, verdict) in pairs {
            let source = sources.get(&verdict.name.id).cloned().unwrap_or_default();
            let review = claim_review::claim_review(claim, verdict, &source)
                .map_err(|e| Error::Internal(anyhow::anyhow!(e)))?;
            reviews.push((verdict.name, review));
        }
        Ok(Page {
            items: reviews,
            next_after: page.next_after,
            next_key: page.next_key,
        })
    }

    /// What each ClaimReview says besides its claim and verdict: an imported review's as it
    /// came; the desk's own, its organisation and its claim's quotes' articles in order.
    async fn review_sources(
        &self,
        conn: &mut PgConnection,
        pairs: &[(&Claim, &Verdict)],
    ) -> Result<HashMap<Uuid, ReviewSource>, Error> {
        let ids: Vec<Uuid> = pairs.iter().map(|(_, v)| v.name.id).collect();
        let mut sources = imported_reviews::sources(conn, &ids).await?;
        let articles: Vec<Uuid> = pairs
            .iter()
            .filter(|(_, v)| !sources.contains_key(&v.name.id))
            .flat_map(|(c, _)| c.quotes.iter().map(|q| q.article.0))
            .collect();
        let appearances = articles::appearances(conn, &articles).await?;
        let author = Organization {
            name: self.desk.organization_name.clone(),
            url: self.desk.organization_url.clone(),
        };
        for (claim, verdict) in pairs {
            sources
                .entry(verdict.name.id)
                .or_insert_with(|| ReviewSource {
                    author: author.clone(),
                    claim_date: None,
                    appearances: in_order(
                        claim
                            .quotes
                            .iter()
                            .filter_map(|q| appearances.get(&q.article.0).cloned())
                            .collect(),
                    ),
                });
        }
        Ok(sources)
    }

    /// Imports the records of a ClaimReview document, one by one, each in its own transaction:
    /// a new review becomes a claim (origin imported, no quotes) with a published verdict by
    /// `importer`; a review imported before is brought up to date, or skipped when unchanged;
    /// a malformed one is refused. A failure of the database stops the import with an error;
    /// the records before it stay imported, and importing again is safe.
    pub async fn import_claim_reviews(
        &self,
        records: Vec<Record>,
        importer: &ApiKey,
    ) -> Result<Vec<ImportReport>, Error> {
        let mut report = Vec::with_capacity(records.len());
        for record in records {
            let line = match record.review {
                Err(refusal) => ImportReport {
                    position: record.position,
                    outcome: ImportOutcome::Refused,
                    url: refusal.url,
                    verdict: None,
                    detail: refusal.reason,
                },
                Ok(review) => {
                    let (outcome, verdict, detail) = self.import_one(&review, importer).await?;
                    ImportReport {
                        position: record.position,
                        outcome,
                        url: Some(review.url),
                        verdict,
                        detail,
                    }
                }
            };
            report.push(line);
        }
        Ok(report)
    }

    /// Imports one review (see [`Registry::import_claim_reviews`]).
    async fn import_one(
        &self,
        review: &ImportedReview,
        importer: &ApiKey,
    ) -> Result<(ImportOutcome, Option<VerdictName>, String), Error> {
        let actor = (importer.display_name.as_str(), importer.name.0);
        // a second try reads the review a concurrent import of the same URL just stored
        for _ in 0..2 {
            let mut tx = self.pool.begin().await?;
            if let Some(earlier) = imported_reviews::lock(&mut tx, &review.url).await? {
                let claim = earlier.verdict.claim;
                let outcome = update_imported(&mut tx, earlier, review, actor).await?;
                tx.commit().await?;
                self.claims.evict([claim.0]);
                return Ok(outcome);
            }
            if let Some(own) = imported_reviews::own_verdict(&mut tx, &review.url).await? {
                return Ok((
                    ImportOutcome::Skipped,
                    Some(own),
                    format!(
                        "{own} is the desk's own verdict with this review_url; an import leaves it alone"
                    ),
                ));
            }
            let claim = claims::insert(
                &mut tx,
                &[ClaimRecord {
                    statement: &review.statement,
                    claimant: &review.claimant,
                    origin: Origin::Imported,
                    checkworthiness: crate::extract::checkworthiness::score(&review.statement),
                    quotes: &[],
                }],
            )
            .await?
            .pop()
            .ok_or_else(|| {
                Error::Internal(anyhow::anyhow!("storing one claim returned no name"))
            })?;
            let verdict =
                verdicts::insert(&mut tx, claim, &review.verdict, actor.0, actor.1).await?;
            match imported_reviews::insert(
                &mut tx,
                verdict.name.id,
                &review.url,
                &review.source,
                actor,
            )
            .await
            {
                Err(e) if store::is_unique_violation(&e, REVIEW_URL_KEY) => continue,
                other => other?,
            }
            tx.commit().await?;
            return Ok((ImportOutcome::Created, Some(verdict.name), String::new()));
        }
        Err(Error::Aborted(format!(
            "the review {} was being imported by another call at the same time; import it again",
            review.url
        )))
    }
}

/// Brings a review imported before up to date with `review`, its new version: the claim's
/// statement and claimant, the verdict's content (as a correction, so the earlier revision stays
/// in its history), its publication date, and the source. A verdict withdrawn here stays so.
async fn update_imported(
    conn: &mut PgConnection,
    earlier: imported_reviews::Imported,
    review: &ImportedReview,
    actor: (&str, Uuid),
) -> Result<(ImportOutcome, Option<VerdictName>, String), Error> {
    let name = earlier.verdict;
    let claim = super::locked_claim(conn, name.claim, None).await?;
    let verdict = verdicts::lock(conn, name)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("imported review {name} has no verdict")))?;
    if verdict.state != VerdictState::Published {
        return Ok((
            ImportOutcome::Skipped,
            Some(name),
            format!(
                "{name} is {} here; an import does not publish it again",
                verdict.state.as_str()
            ),
        ));
    }
    let mut changed = Vec::new();
    let statement = (claim.statement != review.statement).then(|| review.statement.clone());
    let claimant = (claim.claimant != review.claimant).then(|| review.claimant.clone());
    if statement.is_some() {
        changed.push("claimReviewed");
    }
    if claimant.is_some() {
        changed.push("itemReviewed.author");
    }
    if statement.is_some() || claimant.is_some() {
        let score = statement
            .as_deref()
            .map(crate::extract::checkworthiness::score);
        let patch = ClaimPatch {
            name: name.claim,
            expected: claim.version,
            statement,
            claimant,
        };
        claims::update(conn, &patch, score).await?;
    }
    let new = &review.verdict;
    let content = [
        (
            "reviewRating",
            verdict.rating != new.rating || verdict.textual_rating != new.textual_rating,
        ),
        ("reviewBody", verdict.explanation != new.explanation),
        ("name", verdict.headline != new.headline),
    ];
    changed.extend(content.iter().filter(|(_, d)| *d).map(|(f, _)| *f));
    if content.iter().any(|(_, d)| *d) {
        let note = format!(
            "updated from the organisation's ClaimReview at {}",
            review.url
        );
        verdicts::take_step(
            conn,
            verdict.clone(),
            verdicts::Step {
                action: VerdictAction::Corrected,
                actor,
                note: &note,
                content: Some(new),
            },
        )
        .await?;
    }
    if let Some(time) = new.publish_time
        && Some(time) != verdict.publish_time
    {
        imported_reviews::set_publish_time(conn, name.id, time).await?;
        changed.push("datePublished");
    }
    if review.source != earlier.source {
        imported_reviews::update_source(conn, name.id, &review.source).await?;
        changed.push("author, itemReviewed");
    }
    if changed.is_empty() {
        return Ok((
            ImportOutcome::Skipped,
            Some(name),
            "unchanged since it was imported".into(),
        ));
    }
    Ok((
        ImportOutcome::Updated,
        Some(name),
        format!("changed: {}", changed.join(", ")),
    ))
}
