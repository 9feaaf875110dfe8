//! Matching on registration: every new claim, and every claim whose statement changed, is
//! embedded once and compared with the claims registered before it. Above the match threshold
//! it is linked to the most similar at once; between the suggest and match thresholds it gets
//! suggestions for a reviewer.
//!
//! The work is queued by a trigger in the registering transaction (`claim_work`, migration
//! 0007), off the request path. Each replica takes batches with `for update skip locked`, so
//! replicas share it and none does a claim twice; the batch's embeddings, links and removal
//! from the queue commit together, so a replica killed mid-batch leaves it queued for another.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::Registry;
use crate::domain::{ClaimName, MatchState};
use crate::error::Error;
use crate::search::model::{Embedder, MODEL_SHA256};
use crate::store::matches::{self, Found};
use crate::store::search as search_store;

/// How often a replica looks for queued claims when the queue was empty.
const IDLE_INTERVAL: Duration = Duration::from_millis(200);

/// How many claims one transaction embeds and matches.
const BATCH: i64 = 32;

/// The most suggestions a claim gets.
const MAX_SUGGESTIONS: usize = 3;

/// The model the stored vectors come from: vectors of another model are not compared.
pub fn model_id() -> String {
    format!("all-MiniLM-L6-v2@sha256:{}", &MODEL_SHA256[..16])
}

/// The similarities (cosines of the statements' embeddings) at which a new claim is linked to an
/// earlier one without review, or suggested to a reviewer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// At or above it: linked (`matched`).
    pub matched: f32,
    /// At or above it, below `matched`: suggested.
    pub suggested: f32,
}

/// The default match threshold: see [`Thresholds::default`].
pub const DEFAULT_MATCH_THRESHOLD: f32 = 0.80;
/// The default suggest threshold: see [`Thresholds::default`].
pub const DEFAULT_SUGGEST_THRESHOLD: f32 = 0.60;

impl Default for Thresholds {
    /// The thresholds chosen on the CheckThat! 2020 training queries (README, "Matching").
    fn default() -> Self {
        Thresholds {
            matched: DEFAULT_MATCH_THRESHOLD,
            suggested: DEFAULT_SUGGEST_THRESHOLD,
        }
    }
}

impl Thresholds {
    /// What the thresholds make of a similarity.
    pub fn decide(&self, similarity: f32) -> Option<MatchState> {
        if similarity >= self.matched {
            Some(MatchState::Matched)
        } else if similarity >= self.suggested {
            Some(MatchState::Suggested)
        } else {
            None
        }
    }
}

impl Registry {
    /// Embeds and matches queued claims, forever, once the model is loaded and the index built.
    /// Failures are logged and the batch retried.
    pub async fn match_new_claims(&self) {
        let mut failing = false;
        loop {
            let done = match (self.index.embedder(), self.index.is_built()) {
                (Some(embedder), true) => match self.match_batch(embedder).await {
                    Ok(done) => {
                        failing = false;
                        done
                    }
                    Err(error) => {
                        if !failing {
                            tracing::warn!(
                                error = format!("{error:#}"),
                                "matching new claims failed; retrying"
                            );
                            failing = true;
                        }
                        0
                    }
                },
                _ => 0,
            };
            if done < BATCH as usize {
                tokio::time::sleep(IDLE_INTERVAL).await;
            }
        }
    }

    /// One batch: how many claims it embedded and matched.
    async fn match_batch(&self, embedder: Arc<Embedder>) -> Result<usize, Error> {
        let mut tx = self.pool.begin().await?;
        let work = search_store::take_work(&mut tx, BATCH).await?;
        if work.is_empty() {
            return Ok(0);
        }
        let statements: Vec<String> = work.iter().map(|(_, s)| s.clone()).collect();
        let vectors = tokio::task::spawn_blocking(move || {
            let texts: Vec<&str> = statements.iter().map(String::as_str).collect();
            embedder.embed(&texts)
        })
        .await
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("embedding panicked")))?
        .map_err(|e| Error::Internal(anyhow::anyhow!("embedding failed: {e}")))?;
        let ids: Vec<Uuid> = work.iter().map(|(id, _)| *id).collect();
        let embeddings: Vec<(Uuid, Vec<f32>)> = ids.iter().copied().zip(vectors).collect();
        search_store::store_embeddings(&mut tx, &model_id(), &embeddings).await?;
        // the batch's own claims are candidates for each other's later members
        for (id, vector) in &embeddings {
            self.index.set_vector(*id, vector);
        }
        for (id, vector) in &embeddings {
            let found: Vec<Found> = self
                .index
                .similar_earlier(*id, vector, MAX_SUGGESTIONS)
                .into_iter()
                .filter_map(|(earlier, similarity)| {
                    Some(Found {
                        matched: ClaimName(earlier),
                        score: similarity,
                        state: self.thresholds.decide(similarity)?,
                    })
                })
                .collect();
            // one automatic link, to the most similar; the rest are suggestions at most
            let mut linked = false;
            let found: Vec<Found> = found
                .into_iter()
                .map(|mut f| {
                    if f.state == MatchState::Matched {
                        if linked {
                            f.state = MatchState::Suggested;
                        }
                        linked = true;
                    }
                    f
                })
                .collect();
            matches::insert(&mut tx, ClaimName(*id), &found).await?;
        }
        search_store::finish_work(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(ids.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_similarity_is_matched_suggested_or_nothing_by_the_two_thresholds() {
        let t = Thresholds {
            matched: 0.8,
            suggested: 0.6,
        };
        assert_eq!(t.decide(0.8), Some(MatchState::Matched));
        assert_eq!(t.decide(0.79), Some(MatchState::Suggested));
        assert_eq!(t.decide(0.6), Some(MatchState::Suggested));
        assert_eq!(t.decide(0.59), None);
    }
}
