//! The replica's search index: every claim's text in a BM25 index and its embedding in a vector
//! index, with what search filters test, all in memory. Derived state: built from PostgreSQL at
//! start and kept current by the change-log follower ([`super::feed`]), so a claim is searchable
//! on every replica within about [`super::POLL_INTERVAL`] of its commit, and a replica killed
//! mid-build simply builds again.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{DismissalFilter, Rating, ReviewState};
use crate::search::model::{DIMENSION, Embedder};
use crate::search::{ClaimText, Decision, Key, Mode, SearchError, SearchIndex, Settings};
use crate::store::search::SearchDocument;

/// How many claims each signal proposes when a search has filters. BM25 proposes only claims
/// that carry the filters' tags; the embeddings propose their nearest, which the filters then
/// sift, so they are asked for more. Without filters, the ranking's own depth
/// ([`crate::search::Fusion::depth`]) applies, as in the `match` command.
pub const CANDIDATES: usize = 1000;

/// What a search keeps of a claim besides its texts: what filters test.
#[derive(Debug, Clone)]
struct Facts {
    rating: Option<Rating>,
    speakers: Vec<String>,
    languages: Vec<String>,
    articles: Vec<Uuid>,
    create_time: OffsetDateTime,
    review_time: Option<OffsetDateTime>,
    dismissed: bool,
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
    /// Dismissed or not: claims not dismissed by default, as ListClaims lists them, since a
    /// dismissed claim needs no check and is not an answer to "has this been checked before?".
    pub dismissal: DismissalFilter,
}

impl SearchFilter {
    /// The tags ([`ClaimText::tags`], as [`tags`] gives claims) a claim must carry to pass the
    /// filters that tags express: all but the two times and "not dismissed", which
    /// [`SearchFilter::admits`] tests. A tag cannot say "not dismissed" without costing every
    /// default search BM25's pruning of its top results, and dismissed claims are few: they are
    /// sifted out of the candidates instead.
    fn required_tags(&self) -> Vec<String> {
        let mut required = Vec::new();
        if self.dismissal == DismissalFilter::Dismissed {
            required.push(DISMISSED_TAG.to_owned());
        }
        if let Some(state) = self.review_state {
            required.push(format!("state:{}", state.as_str()));
        }
        if let Some(rating) = self.rating {
            required.push(format!("rating:{}", rating.as_str()));
        }
        if let Some(speaker) = &self.speaker {
            required.push(format!("speaker:{speaker}"));
        }
        if let Some(language) = &self.language {
            required.push(format!("lang:{language}"));
        }
        if let Some(article) = self.article {
            required.push(format!("article:{article}"));
        }
        required
    }

    /// Whether no filter is set but the default "not dismissed" (or "any"): a search that sifts
    /// out few claims, if any, and so ranks as deep as an unfiltered one, at its latency. The
    /// dismissed claims among each signal's best candidates are sifted out, not replaced by the
    /// next ones: at worst, paging ends early by as many results as there are dismissed claims
    /// among a signal's candidates.
    pub fn is_empty(&self) -> bool {
        self.dismissal != DismissalFilter::Dismissed
            && self.review_state.is_none()
            && self.rating.is_none()
            && self.speaker.is_none()
            && self.language.is_none()
            && self.article.is_none()
            && self.created_after.is_none()
            && self.reviewed_after.is_none()
    }

    fn admits(&self, facts: &Facts) -> bool {
        let reviewed = facts.rating.is_some();
        let dismissal = match self.dismissal {
            DismissalFilter::NotDismissed => !facts.dismissed,
            DismissalFilter::Dismissed => facts.dismissed,
            DismissalFilter::Any => true,
        };
        dismissal
            && self.review_state.is_none_or(|state| match state {
                ReviewState::Reviewed => reviewed,
                ReviewState::Unreviewed => !reviewed,
            })
            && self.rating.is_none_or(|r| facts.rating == Some(r))
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

/// The tag of a dismissed claim, which a search for dismissed claims requires.
const DISMISSED_TAG: &str = "dismissed";

/// A claim's tags for the lexical index: what [`SearchFilter::required_tags`] asks for. A
/// language is tagged with each of its prefixes ("en-gb" as "en-gb" and "en"), as a filter on
/// "en" also takes "en-gb".
fn tags(doc: &SearchDocument) -> Vec<String> {
    let state = if doc.rating.is_some() {
        ReviewState::Reviewed
    } else {
        ReviewState::Unreviewed
    };
    let mut tags = vec![format!("state:{}", state.as_str())];
    tags.extend(doc.rating.map(|r| format!("rating:{}", r.as_str())));
    tags.extend(doc.speakers.iter().map(|s| format!("speaker:{s}")));
    for language in &doc.languages {
        for (end, _) in language.match_indices('-') {
            tags.push(format!("lang:{}", &language[..end]));
        }
        tags.push(format!("lang:{language}"));
    }
    tags.extend(doc.articles.iter().map(|a| format!("article:{a}")));
    if doc.dismissed {
        tags.push(DISMISSED_TAG.to_owned());
    }
    tags.sort();
    tags.dedup();
    tags
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
    /// Later claims with the same words, shown through this one (see
    /// [`crate::search::rank::fold_same_statements`]).
    pub same_statement: Vec<Uuid>,
}

/// The index. Shared by every clone of the registry.
pub struct ClaimIndex {
    /// The ranking itself: exactly what `claim-registry match` runs.
    search: SearchIndex,
    facts: RwLock<HashMap<Key, Facts>>,
    /// Why there is no model, when loading it failed.
    unavailable: RwLock<Option<String>>,
    /// Whether the index holds every claim (the first build has finished).
    built: AtomicBool,
}

impl std::fmt::Debug for ClaimIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimIndex")
            .field("claims", &self.search.len())
            .field("built", &self.built.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn key(id: Uuid) -> Key {
    id.as_u128()
}

impl ClaimIndex {
    /// An empty index ranking and deciding by `settings`.
    pub fn new(settings: Settings) -> Result<Self, SearchError> {
        Ok(ClaimIndex {
            search: SearchIndex::new(None, settings)?,
            facts: RwLock::default(),
            unavailable: RwLock::new(None),
            built: AtomicBool::new(false),
        })
    }

    /// The model, when it is loaded.
    pub fn embedder(&self) -> Option<Arc<Embedder>> {
        self.search.embedder().cloned()
    }

    /// Makes the model available to searches and the matcher.
    pub fn set_embedder(&self, embedder: Arc<Embedder>) {
        self.search.set_embedder(embedder);
        *self.unavailable.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Records why the model cannot be had: searches say so.
    pub fn set_unavailable(&self, reason: String) {
        *self.unavailable.write().unwrap_or_else(|e| e.into_inner()) = Some(reason);
    }

    /// Why searches rank by words alone, when they do.
    pub fn lexical_only_reason(&self) -> Option<String> {
        if self.search.mode() == Mode::Hybrid {
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
    pub fn upsert(&self, doc: SearchDocument) -> Result<(), SearchError> {
        let k = key(doc.id);
        let vector = doc.vector.as_deref().filter(|v| v.len() == DIMENSION);
        let tags = tags(&doc);
        self.search.upsert(
            k,
            &ClaimText {
                statement: &doc.statement,
                title: "",
                claimant: &doc.claimant,
                explanation: &doc.explanation,
                tags: &tags,
            },
            vector,
        )?;
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
                    dismissed: doc.dismissed,
                    statement: doc.statement,
                    claimant: doc.claimant,
                    explanation: doc.explanation,
                },
            );
        Ok(())
    }

    /// Claims' embeddings as searches compare them (`None` without the model): what the matcher
    /// computes once per claim and stores.
    pub fn embed_statements(
        &self,
        statements: &[&str],
    ) -> Result<Option<Vec<Vec<f32>>>, SearchError> {
        let texts: Vec<ClaimText<'_>> = statements
            .iter()
            .map(|statement| ClaimText {
                statement,
                ..ClaimText::default()
            })
            .collect();
        self.search.embed_claims(&texts)
    }

    /// Makes every change so far searchable by words.
    pub fn commit(&self) -> Result<(), SearchError> {
        self.search.commit()
    }

    /// The claims that best answer `query` passing `filter`, best first: `offset` skipped, at
    /// most `limit`. Blocks while the query is embedded: call it off the async runtime.
    pub fn search(
        &self,
        query: &str,
        filter: &SearchFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Found>, SearchError> {
        let depth = if filter.is_empty() {
            self.search.settings().fusion.depth
        } else {
            CANDIDATES
        };
        let facts = self.facts.read().unwrap_or_else(|e| e.into_inner());
        let found = self.search.search_where(
            query,
            offset + limit,
            depth,
            &filter.required_tags(),
            |k| facts.get(&k).is_some_and(|f| filter.admits(f)),
        )?;
        Ok(found
            .results
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|r| {
                let highlights = match facts.get(&r.key) {
                    Some(f) if !r.matched_terms.is_empty() => [
                        ("statement", f.statement.as_str()),
                        ("claimant", f.claimant.as_str()),
                        ("verdict.explanation", f.explanation.as_str()),
                    ]
                    .into_iter()
                    .map(|(field, text)| {
                        let ranges = self
                            .search
                            .highlight(text, &r.matched_terms)
                            .into_iter()
                            .map(|range| code_points(text, range))
                            .collect::<Vec<_>>();
                        (field, ranges)
                    })
                    .filter(|(_, ranges)| !ranges.is_empty())
                    .collect(),
                    _ => Vec::new(),
                };
                Found {
                    id: Uuid::from_u128(r.key),
                    score: r.score,
                    similarity: r.cosine,
                    lexical: r.lexical(),
                    semantic: r.semantic,
                    highlights,
                    same_statement: r
                        .same_statement
                        .iter()
                        .map(|&k| Uuid::from_u128(k))
                        .collect(),
                }
            })
            .collect())
    }

    /// The earlier claims (registered before it) that say the same as a claim's statement, with
    /// the ranking's decision on each: at most one match, the rest suggestions; claims decided
    /// neither are left out. The matcher's question. Dismissed claims are not candidates, as if
    /// the index did not hold them: a claim dismissed as not a claim, a duplicate or out of
    /// scope was not checked, so a new claim that repeats it was not checked before either.
    pub fn matches_earlier(
        &self,
        id: Uuid,
        statement: &str,
        limit: usize,
    ) -> Result<Vec<(Uuid, f32, Decision)>, SearchError> {
        let facts = self.facts.read().unwrap_or_else(|e| e.into_inner());
        let own = facts.get(&key(id)).map(|f| f.create_time);
        let earlier = |k: Key| {
            k != key(id)
                && match (own, facts.get(&k)) {
                    (_, Some(f)) if f.dismissed => false,
                    // UUIDv7s sort by creation: they break ties of the same instant
                    (Some(own), Some(f)) => (f.create_time, k) < (own, key(id)),
                    _ => k < key(id),
                }
        };
        let depth = self.search.settings().fusion.depth;
        let found = self
            .search
            .search_where(statement, limit, depth, &[], earlier)?;
        Ok(found
            .results
            .into_iter()
            .filter_map(|r| {
                Some((
                    Uuid::from_u128(r.key),
                    r.confidence.unwrap_or_default(),
                    r.decision?,
                ))
            })
            .collect())
    }
}

/// A byte range of `text` as a code point range.
fn code_points(text: &str, bytes: Range<usize>) -> Range<usize> {
    let start = text[..bytes.start].chars().count();
    start..start + text[bytes].chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(n: u128, statement: &str, speaker: &str) -> SearchDocument {
        SearchDocument {
            id: Uuid::from_u128(n),
            statement: statement.to_owned(),
            claimant: speaker.to_owned(),
            explanation: String::new(),
            rating: None,
            speakers: vec![speaker.to_lowercase()],
            languages: vec!["en-gb".to_owned()],
            articles: Vec::new(),
            create_time: OffsetDateTime::UNIX_EPOCH,
            review_time: None,
            dismissed: false,
            vector: None,
        }
    }

    #[test]
    fn a_filter_few_claims_pass_finds_them_however_far_down_the_words_rank_them() {
        // more claims that say the query's words more often than the candidates a search
        // considers, and one by a rare speaker that says them once, in a longer sentence
        let index = ClaimIndex::new(Settings::default()).unwrap();
        for n in 0..(CANDIDATES as u128 + 200) {
            index
                .upsert(document(
                    n,
                    "Taxes rose; taxes rose again",
                    "Common Speaker",
                ))
                .unwrap();
        }
        let rare = CANDIDATES as u128 + 1_000;
        index
            .upsert(document(
                rare,
                "The county said taxes rose by a little this year for some households",
                "Rare Speaker",
            ))
            .unwrap();
        index.commit().unwrap();
        let filter = SearchFilter {
            speaker: Some("rare speaker".to_owned()),
            language: Some("en".to_owned()),
            review_state: Some(ReviewState::Unreviewed),
            ..SearchFilter::default()
        };
        let found = index.search("taxes rose", &filter, 0, 10).unwrap();
        let ids: Vec<Uuid> = found.iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![Uuid::from_u128(rare)]);
        // each filter the tags express must hold
        for filter in [
            SearchFilter {
                speaker: Some("rare".to_owned()),
                ..SearchFilter::default()
            },
            SearchFilter {
                speaker: Some("rare speaker".to_owned()),
                review_state: Some(ReviewState::Reviewed),
                ..SearchFilter::default()
            },
            SearchFilter {
                speaker: Some("rare speaker".to_owned()),
                language: Some("e".to_owned()),
                ..SearchFilter::default()
            },
        ] {
            assert!(
                index
                    .search("taxes rose", &filter, 0, 10)
                    .unwrap()
                    .is_empty(),
                "{filter:?}"
            );
        }
    }

    #[test]
    fn a_dismissed_claim_is_found_only_when_asked_for_however_far_down_the_words_rank_it() {
        let index = ClaimIndex::new(Settings::default()).unwrap();
        // more live claims that say the query's words more often than a search considers, each
        // in its own words (claims with the same words would be one result)
        for n in 0..(CANDIDATES as u128 + 200) {
            let statement = format!("Taxes rose; taxes rose again, {n} times");
            index.upsert(document(n, &statement, "Someone")).unwrap();
        }
        let dismissed = CANDIDATES as u128 + 1_000;
        index
            .upsert(SearchDocument {
                dismissed: true,
                ..document(
                    dismissed,
                    "The county said taxes rose by a little this year for some households",
                    "Someone",
                )
            })
            .unwrap();
        index.commit().unwrap();
        let found = |dismissal: DismissalFilter, limit: usize| {
            let filter = SearchFilter {
                dismissal,
                ..SearchFilter::default()
            };
            index
                .search("taxes rose", &filter, 0, limit)
                .unwrap()
                .into_iter()
                .map(|f| f.id)
                .collect::<Vec<_>>()
        };
        let dismissed = Uuid::from_u128(dismissed);
        let all = CANDIDATES + 300;
        let live = found(DismissalFilter::NotDismissed, all);
        assert_eq!(live.len(), CANDIDATES + 200, "every live claim, paged deep");
        assert!(!live.contains(&dismissed), "left out by default");
        assert_eq!(found(DismissalFilter::Dismissed, 10), vec![dismissed]);
        assert_eq!(found(DismissalFilter::Any, all).len(), CANDIDATES + 201);
        assert!(
            SearchFilter::default().is_empty(),
            "ranked as deep as unfiltered"
        );

        // restored: found by default again
        index
            .upsert(document(
                dismissed.as_u128(),
                "The county said taxes rose by a little this year for some households",
                "Someone",
            ))
            .unwrap();
        index.commit().unwrap();
        assert!(found(DismissalFilter::NotDismissed, all).contains(&dismissed));
        assert!(found(DismissalFilter::Dismissed, 10).is_empty());
    }
}
