//! The replica's search index: every claim's text in a BM25 index and its embedding in a vector
//! index, with what search filters test, all in memory. Derived state: built from PostgreSQL at
//! start and kept current by the change-log follower ([`super::feed`]), so a claim is searchable
//! on every replica within about [`super::POLL_INTERVAL`] of its commit, and a replica killed
//! mid-build simply builds again.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{Rating, ReviewState};
use crate::search::Key;
use crate::search::lexical::{ClaimText, FieldWeights, LexicalError, LexicalIndex};
use crate::search::model::{DIMENSION, Embedder};
use crate::search::vectors::VectorIndex;
use crate::store::search::SearchDocument;

/// How many claims each signal proposes before fusion and filters: the deepest a result can be
/// found by one signal alone.
pub const CANDIDATES: usize = 1000;

/// The constant of reciprocal rank fusion: a claim's fused score is the sum over the signals
/// that found it of 1 / (K + its rank there). 60 is the value of Cormack et al., who proposed it.
const RRF_K: f32 = 60.0;

/// What a search keeps of a claim besides its texts: what filters test.
#[derive(Debug, Clone)]
struct Facts {
    rating: Option<Rating>,
    speakers: Vec<String>,
    languages: Vec<String>,
    articles: Vec<Uuid>,
    create_time: OffsetDateTime,
    review_time: Option<OffsetDateTime>,
    statement: String,
    claimant: String,
    explanation: String,
}

/// Which claims a search may return; every field given must hold.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// In this review state.
    pub review_state: Option<ReviewState>,
    /// With this current rating.
    pub rating: Option<Rating>,
    /// Made by this speaker (lower-cased): the claimant or a quote's resolved speaker.
    pub speaker: Option<String>,
    /// With a quote in an article in this language (lower-cased); "en" also takes "en-gb".
    pub language: Option<String>,
    /// With a quote in this article.
    pub article: Option<Uuid>,
    /// Registered at or after this time.
    pub created_after: Option<OffsetDateTime>,
    /// Reviewed (current verdict given) at or after this time.
    pub reviewed_after: Option<OffsetDateTime>,
}

impl SearchFilter {
    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self.review_state.is_none()
            && self.rating.is_none()
            && self.speaker.is_none()
            && self.language.is_none()
            && self.article.is_none()
            && self.created_after.is_none()
            && self.reviewed_after.is_none()
    }

    fn admits(&self, facts: &Facts) -> bool {
        let reviewed = facts.rating.is_some();
        self.review_state.is_none_or(|state| match state {
            ReviewState::Reviewed => reviewed,
            ReviewState::Unreviewed => !reviewed,
        }) && self.rating.is_none_or(|r| facts.rating == Some(r))
            && self
                .speaker
                .as_ref()
                .is_none_or(|s| facts.speakers.iter().any(|x| x == s))
            && self.language.as_ref().is_none_or(|l| {
                facts.languages.iter().any(|x| {
                    x == l
                        || (x.starts_with(l.as_str()) && x.as_bytes().get(l.len()) == Some(&b'-'))
                })
            })
            && self.article.is_none_or(|a| facts.articles.contains(&a))
            && self.created_after.is_none_or(|t| facts.create_time >= t)
            && self
                .reviewed_after
                .is_none_or(|t| facts.review_time.is_some_and(|r| r >= t))
    }
}

/// One claim a search found.
#[derive(Debug, Clone)]
pub struct Found {
    /// The claim.
    pub id: Uuid,
    /// Its fused score: higher is better.
    pub score: f32,
    /// The cosine of its embedding and the query's, when both have one.
    pub similarity: Option<f32>,
    /// Whether BM25 found it.
    pub lexical: bool,
    /// Whether the embeddings found it.
    pub semantic: bool,
    /// Where the query's words stand in its statement, claimant and verdict explanation, as
    /// code point ranges, by field name.
    pub highlights: Vec<(&'static str, Vec<Range<usize>>)>,
}

/// The index. Shared by every clone of the registry.
pub struct ClaimIndex {
    lexical: LexicalIndex,
    vectors: VectorIndex,
    facts: RwLock<HashMap<Key, Facts>>,
    /// The embedding model, once loaded; searches rank by words alone until then.
    embedder: OnceLock<Arc<Embedder>>,
    /// Why there is no model, when loading it failed.
    unavailable: RwLock<Option<String>>,
    /// Whether the index holds every claim (the first build has finished).
    built: AtomicBool,
}

impl std::fmt::Debug for ClaimIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimIndex")
            .field("claims", &self.lexical.len())
            .field("built", &self.built.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn key(id: Uuid) -> Key {
    id.as_u128()
}

impl ClaimIndex {
    /// An empty index.
    pub fn new() -> Result<Self, LexicalError> {
        Ok(ClaimIndex {
            lexical: LexicalIndex::new(FieldWeights::default())?,
            vectors: VectorIndex::new(DIMENSION),
            facts: RwLock::default(),
            embedder: OnceLock::new(),
            unavailable: RwLock::new(None),
            built: AtomicBool::new(false),
        })
    }

    /// The model, when it is loaded.
    pub fn embedder(&self) -> Option<Arc<Embedder>> {
        self.embedder.get().cloned()
    }

    /// Makes the model available to searches and the matcher.
    pub fn set_embedder(&self, embedder: Arc<Embedder>) {
        let _ = self.embedder.set(embedder);
        *self.unavailable.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Records why the model cannot be had: searches say so.
    pub fn set_unavailable(&self, reason: String) {
        *self.unavailable.write().unwrap_or_else(|e| e.into_inner()) = Some(reason);
    }

    /// Why searches rank by words alone, when they do.
    pub fn lexical_only_reason(&self) -> Option<String> {
        if self.embedder.get().is_some() {
            return None;
        }
        Some(
            self.unavailable
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_else(|| "the embedding model is still loading".to_owned()),
        )
    }

    /// Whether the first build has finished.
    pub fn is_built(&self) -> bool {
        self.built.load(Ordering::Acquire)
    }

    /// Marks the first build finished.
    pub fn mark_built(&self) {
        self.built.store(true, Ordering::Release);
    }

    /// How many claims the index holds.
    pub fn len(&self) -> usize {
        self.facts.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds or replaces a claim. Searchable by words after [`ClaimIndex::commit`], by meaning at
    /// once.
    pub fn upsert(&self, doc: SearchDocument) -> Result<(), LexicalError> {
        let k = key(doc.id);
        self.lexical.upsert(
            k,
            &ClaimText {
                statement: &doc.statement,
                title: "",
                claimant: &doc.claimant,
                explanation: &doc.explanation,
            },
        )?;
        match &doc.vector {
            Some(vector) if vector.len() == DIMENSION => {
                // the length was just checked
                let _ = self.vectors.upsert(k, vector);
            }
            _ => {
                self.vectors.remove(k);
            }
        }
        self.facts
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                k,
                Facts {
                    rating: doc.rating,
                    speakers: doc.speakers,
                    languages: doc.languages,
                    articles: doc.articles,
                    create_time: doc.create_time,
                    review_time: doc.review_time,
                    statement: doc.statement,
                    claimant: doc.claimant,
                    explanation: doc.explanation,
                },
            );
        Ok(())
    }

    /// Gives a claim its embedding before the change log brings it: the matcher's own claims.
    pub fn set_vector(&self, id: Uuid, vector: &[f32]) {
        let _ = self.vectors.upsert(key(id), vector);
    }

    /// Makes every change so far searchable by words.
    pub fn commit(&self) -> Result<(), LexicalError> {
        self.lexical.commit()
    }

    /// The claims that best answer `query` (embedded as `query_vector` when the model is
    /// loaded), passing `filter`, best first: `offset` skipped, at most `limit`.
    pub fn search(
        &self,
        query: &str,
        query_vector: Option<&[f32]>,
        filter: &SearchFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Found>, LexicalError> {
        // a filter passes some candidates only: ask each signal for more
        let depth = if filter.is_empty() {
            CANDIDATES
        } else {
            CANDIDATES * 10
        };
        let lexical = self.lexical.search(query, depth)?;
        let semantic = match query_vector {
            Some(v) => self.vectors.search(v, depth).unwrap_or_default(),
            None => Vec::new(),
        };
        let mut fused: HashMap<Key, (f32, Option<f32>, Option<usize>)> = HashMap::new();
        for (rank, hit) in lexical.iter().enumerate() {
            let entry = fused.entry(hit.key).or_insert((0.0, None, None));
            entry.0 += 1.0 / (RRF_K + rank as f32 + 1.0);
            entry.2 = Some(rank);
        }
        for (rank, hit) in semantic.iter().enumerate() {
            let entry = fused.entry(hit.key).or_insert((0.0, None, None));
            entry.0 += 1.0 / (RRF_K + rank as f32 + 1.0);
            entry.1 = Some(hit.cosine);
        }
        let facts = self.facts.read().unwrap_or_else(|e| e.into_inner());
        let mut ranked: Vec<(Key, f32, Option<f32>, Option<usize>)> = fused
            .into_iter()
            .filter(|(k, _)| facts.get(k).is_some_and(|f| filter.admits(f)))
            .map(|(k, (score, cosine, lexical_rank))| (k, score, cosine, lexical_rank))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let page: Vec<_> = ranked.into_iter().skip(offset).take(limit).collect();
        // the cosine of claims only BM25 found, for the reply's similarity
        let missing: Vec<Key> = page.iter().filter(|p| p.2.is_none()).map(|p| p.0).collect();
        let extra: HashMap<Key, f32> = match query_vector {
            Some(v) if !missing.is_empty() => missing
                .iter()
                .zip(self.vectors.cosines(v, &missing).unwrap_or_default())
                .filter_map(|(k, c)| c.map(|c| (*k, c)))
                .collect(),
            _ => HashMap::new(),
        };
        Ok(page
            .into_iter()
            .map(|(k, score, cosine, lexical_rank)| {
                let highlights = match (lexical_rank, facts.get(&k)) {
                    (Some(rank), Some(f)) => {
                        let terms = &lexical[rank].matched_terms;
                        [
                            ("statement", f.statement.as_str()),
                            ("claimant", f.claimant.as_str()),
                            ("verdict.explanation", f.explanation.as_str()),
                        ]
                        .into_iter()
                        .map(|(field, text)| {
                            let ranges = self
                                .lexical
                                .highlight(text, terms)
                                .into_iter()
                                .map(|r| code_points(text, r))
                                .collect::<Vec<_>>();
                            (field, ranges)
                        })
                        .filter(|(_, ranges)| !ranges.is_empty())
                        .collect()
                    }
                    _ => Vec::new(),
                };
                Found {
                    id: Uuid::from_u128(k),
                    score,
                    similarity: cosine.or_else(|| extra.get(&k).copied()),
                    lexical: lexical_rank.is_some(),
                    semantic: cosine.is_some(),
                    highlights,
                }
            })
            .collect())
    }

    /// The claims most like a claim's statement by meaning, other than itself and registered
    /// before it: the matcher's candidates, most similar first.
    pub fn similar_earlier(&self, id: Uuid, vector: &[f32], k: usize) -> Vec<(Uuid, f32)> {
        let facts = self.facts.read().unwrap_or_else(|e| e.into_inner());
        let own = facts.get(&key(id)).map(|f| f.create_time);
        self.vectors
            .search(vector, k + 16)
            .unwrap_or_default()
            .into_iter()
            .filter(|hit| hit.key != key(id))
            .filter(|hit| {
                // an earlier claim: registered before this one (ids break ties: UUIDv7s sort)
                match (own, facts.get(&hit.key)) {
                    (Some(own), Some(f)) => (f.create_time, hit.key) < (own, key(id)),
                    _ => hit.key < key(id),
                }
            })
            .take(k)
            .map(|hit| (Uuid::from_u128(hit.key), hit.cosine))
            .collect()
    }
}

/// A byte range of `text` as a code point range.
fn code_points(text: &str, bytes: Range<usize>) -> Range<usize> {
    let start = text[..bytes.start].chars().count();
    start..start + text[bytes].chars().count()
}
