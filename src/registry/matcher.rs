//! Matching on registration: every new claim, and every claim whose statement changed, is
//! embedded once and searched for among the claims registered before it, by the same ranking
//! and decisions as `SearchClaims` and `claim-registry match` ([`crate::search::rank`]): a
//! first result at or above the match threshold is linked at once; results at or above the
//! suggest threshold are suggested to a reviewer. Dismissed claims are not among those searched
//! (a claim dismissed as not a claim, a duplicate or out of scope was not checked); restored,
//! they are again.
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
use crate::search::Decision;
use crate::search::model::{ADAPTER_SHA256, MODEL_SHA256};
use crate::store::matches::{self, Found};
use crate::store::search as search_store;

/// How often a replica looks for queued claims when the queue was empty.
const IDLE_INTERVAL: Duration = Duration::from_millis(200);

/// How many claims one transaction embeds and matches.
const BATCH: i64 = 32;

/// The most suggestions a claim gets.
const MAX_SUGGESTIONS: usize = 3;

/// The model the stored vectors come from, with its adapter: vectors of another model or
/// adapter are not compared, and are computed again ([`Registry::embed_stale_claims`]).
pub fn model_id() -> String {
    format!(
        "all-MiniLM-L6-v2@sha256:{}+adapter@sha256:{}",
        &MODEL_SHA256[..16],
        &ADAPTER_SHA256[..16]
    )
}

impl Registry {
    /// Embeds and matches queued claims, forever, once the model is loaded and the index built.
    /// Whenever the queue is empty, until none is left, it also embeds claims whose stored vector
    /// is of an earlier model or adapter ([`Registry::embed_stale_claims`]). Failures are logged
    /// and the batch retried.
    pub async fn match_new_claims(&self) {
        let mut failing = false;
        // where the walk over claims with stale vectors stands; None once it is over
        let mut stale_after = Some(Uuid::nil());
        loop {
            let done = match (self.index.embedder(), self.index.is_built()) {
                (Some(_), true) => {
                    let done = match self.match_batch().await {
                        Ok(0) if stale_after.is_some() => self
                            .embed_stale_claims(stale_after.unwrap_or_default())
                            .await
                            .map(|next| {
                                stale_after = next;
                                if next.is_some() { BATCH as usize } else { 0 }
                            }),
                        other => other,
                    };
                    match done {
                        Ok(done) => {
                            failing = false;
                            done
                        }
                        Err(error) => {
                            if !failing {
                                tracing::warn!(
                                    error = format!("{error:#}"),
                                    "embedding and matching claims failed; retrying"
                                );
                                failing = true;
                            }
                            0
                        }
                    }
                }
                _ => 0,
            };
            if done < BATCH as usize {
                tokio::time::sleep(IDLE_INTERVAL).await;
            }
        }
    }

    /// One batch of claims whose stored vector is missing or of another model than
    /// [`model_id`] (after an upgrade of the model or its adapter: the index leaves such vectors
    /// out, so those claims are found by their words only until this has run), after `after` in
    /// id order. They are embedded and stored, not matched again: their links and suggestions
    /// were decided when they were registered. The stored vectors reach every replica's index
    /// through the change log. Returns the last claim done, or None when none was left.
    pub async fn embed_stale_claims(&self, after: Uuid) -> Result<Option<Uuid>, Error> {
        let mut tx = self.pool.begin().await?;
        let stale = search_store::take_stale(&mut tx, &model_id(), after, BATCH).await?;
        let Some(&(last, _)) = stale.last() else {
            return Ok(None);
        };
        let vectors = self.embed(&stale).await?;
        let embeddings: Vec<(Uuid, Vec<f32>)> =
            stale.iter().map(|(id, _)| *id).zip(vectors).collect();
        search_store::store_embeddings(&mut tx, &model_id(), &embeddings).await?;
        tx.commit().await?;
        tracing::info!(
            claims = embeddings.len(),
            model = model_id(),
            "claims embedded again for the current model"
        );
        Ok(Some(last))
    }

    /// The vectors of claims' statements, computed off the async runtime.
    async fn embed(&self, claims: &[(Uuid, String)]) -> Result<Vec<Vec<f32>>, Error> {
        let index = Arc::clone(&self.index);
        let statements: Vec<String> = claims.iter().map(|(_, s)| s.clone()).collect();
        tokio::task::spawn_blocking(move || {
            let texts: Vec<&str> = statements.iter().map(String::as_str).collect();
            index.embed_statements(&texts)
        })
        .await
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("embedding panicked")))?
        .map_err(|e| Error::Internal(anyhow::anyhow!("embedding failed: {e}")))?
        .ok_or_else(|| Error::NotReady("the embedding model is not loaded".into()))
    }

    /// One batch: how many claims it embedded and matched.
    async fn match_batch(&self) -> Result<usize, Error> {
        let mut tx = self.pool.begin().await?;
        let work = search_store::take_work(&mut tx, BATCH).await?;
        if work.is_empty() {
            return Ok(0);
        }
        let vectors = self.embed(&work).await?;
        let ids: Vec<Uuid> = work.iter().map(|(id, _)| *id).collect();
        let embeddings: Vec<(Uuid, Vec<f32>)> = ids.iter().copied().zip(vectors).collect();
        search_store::store_embeddings(&mut tx, &model_id(), &embeddings).await?;
        // the batch's claims, with their new vectors, are candidates for each other: a claim
        // registered twice in quick succession is matched to its first registration
        let mut documents = Vec::new();
        search_store::documents(&mut tx, Some(&ids), &model_id(), |doc| documents.push(doc))
            .await?;
        let index = Arc::clone(&self.index);
        let found = tokio::task::spawn_blocking(move || {
            for doc in documents {
                index.upsert(doc)?;
            }
            index.commit()?;
            work.iter()
                .map(|(id, statement)| {
                    let found = index.matches_earlier(*id, statement, MAX_SUGGESTIONS)?;
                    Ok((*id, found))
                })
                .collect::<Result<Vec<_>, crate::search::SearchError>>()
        })
        .await
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("matching panicked")))?
        .map_err(|e| Error::Internal(anyhow::anyhow!("matching failed: {e}")))?;
        for (id, candidates) in found {
            let found: Vec<Found> = candidates
                .into_iter()
                .map(|(earlier, confidence, decision)| Found {
                    matched: ClaimName(earlier),
                    score: confidence,
                    state: match decision {
                        Decision::Match => MatchState::Matched,
                        Decision::Suggest => MatchState::Suggested,
                    },
                })
                .collect();
            matches::insert(&mut tx, ClaimName(id), &found).await?;
        }
        search_store::finish_work(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(ids.len())
    }
}
