//! The registry's use cases: each public method is one thing a caller can do, in one
//! transaction, on domain types. The gRPC layer translates to and from it; the CLI's `keys`
//! command uses it directly.

mod claim_cache;
mod claim_reviews;
mod events;
mod feed;
mod index;
mod key_cache;
mod matcher;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use claim_cache::ClaimCache;
pub use claim_cache::MAX_STALENESS;
pub use claim_reviews::{ImportOutcome, ImportReport};
pub use events::{
    DEFAULT_EVENT_RETENTION, DEFAULT_MAX_EVENT_STREAMS, EventHub, EventStream, PAGE_EVENTS,
    RECENT_EVENTS, SCAN_WINDOW, SEQUENCE_INTERVAL, WatchMessage,
};
pub use feed::POLL_INTERVAL;
pub use index::{CANDIDATES, ClaimIndex, Found, SearchFilter};
pub use key_cache::KEY_CACHE_TTL;
use key_cache::KeyCache;
pub use matcher::model_id;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::limits::MAX_EXTRACTED_CLAIMS_PER_ARTICLE;
use crate::domain::{
    ApiKey, ApiKeyName, ApiKeySecret, Article, ArticleBody, ArticleName, Claim, ClaimMatch,
    ClaimMatchName, ClaimName, ClaimOrder, ClaimPatch, ClaimVersion, Cursor, DismissalReason,
    MatchDecision, MatchState, NewApiKey, NewArticle, NewClaim, NewDismissal, NewVerdict, Origin,
    Quote, QuoteDraft, Resource, Role, Span, Verdict, VerdictAction, VerdictName, VerdictState,
    VerdictStep,
};
use crate::error::{Credentials, Error, FieldViolation};
use crate::extract::Proposal;
use crate::store::api_keys::Revoked;
use crate::store::articles::ArticleFilter;
use crate::store::claims::{ClaimFilter, ClaimRecord, UpdateOutcome};
use crate::store::idempotency::{Earlier, IdempotencyKey};
use crate::store::{self, Page, api_keys, articles, claims, idempotency, matches, verdicts};

/// The display name of the admin key a new registry creates for itself.
pub const BOOTSTRAP_ADMIN_NAME: &str = "bootstrap-admin";

/// What registering an article did.
#[derive(Debug)]
pub struct RegisteredArticle {
    /// The stored article.
    pub article: Article,
    /// Whether this call stored it; false when the same article was registered before.
    pub created: bool,
    /// The claims this call extracted and registered, in text order: the first
    /// [`MAX_EXTRACTED_CLAIMS_PER_ARTICLE`] the extractor found.
    pub claims: Vec<Claim>,
    /// How many claims the extractor found; more than `claims` holds when the cap cut them.
    pub claims_found: usize,
}

impl RegisteredArticle {
    /// An article that was registered before: nothing new stored, nothing extracted.
    fn found(article: Article) -> Self {
        RegisteredArticle {
            article,
            created: false,
            claims: Vec::new(),
            claims_found: 0,
        }
    }
}

/// What a search found.
#[derive(Debug)]
pub struct SearchOutcome {
    /// The claims, best first, each with how it was found.
    pub results: Vec<(Claim, Found)>,
    /// Why the ranking used words alone, when it did.
    pub lexical_only: Option<String>,
}

/// The registry: a handle on the database that every use case goes through. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Registry {
    pool: PgPool,
    /// Keys verified in the last second, shared by every clone.
    keys: Arc<KeyCache>,
    /// Claims read lately, kept current by the change log; shared by every clone.
    claims: Arc<ClaimCache>,
    /// Every claim's words and embedding, kept current by the change log; shared.
    index: Arc<ClaimIndex>,
    /// How the desk reviews.
    desk: Desk,
    /// What the replica's event streams share: the newest position, their limits; shared.
    events: Arc<EventHub>,
}

/// How the fact-checking desk that runs the registry works: its rules for publishing verdicts,
/// and who it is in what it publishes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desk {
    /// Whether a verdict must be published by a reviewer other than its author (the four-eyes
    /// rule). Off by default: a reviewer may give and publish a verdict in one call.
    pub second_review: bool,
    /// The organisation's name, ClaimReview's `author.name`; empty when not set.
    pub organization_name: String,
    /// The organisation's web address, ClaimReview's `author.url`; empty when not set.
    pub organization_url: String,
}

/// How many claims a registry keeps in memory by default for `GetClaim`.
pub const DEFAULT_CLAIM_CACHE_ENTRIES: usize = 100_000;

impl Registry {
    /// A registry on a pool whose database is migrated, caching up to
    /// [`DEFAULT_CLAIM_CACHE_ENTRIES`] claims.
    pub fn new(pool: PgPool) -> Self {
        Self::with_claim_cache(pool, DEFAULT_CLAIM_CACHE_ENTRIES)
    }

    /// A registry that caches up to about `entries` claims for `GetClaim`; 0 caches none. The
    /// cache serves claims only while [`Registry::follow_changes`] runs.
    pub fn with_claim_cache(pool: PgPool, entries: usize) -> Self {
        Registry {
            keys: Arc::default(),
            claims: Arc::new(ClaimCache::new(entries)),
            index: Arc::new(search_index(crate::search::Settings::default())),
            desk: Desk::default(),
            events: Arc::new(EventHub::new(
                DEFAULT_EVENT_RETENTION,
                DEFAULT_MAX_EVENT_STREAMS,
                pool.options().get_max_connections(),
                RECENT_EVENTS,
            )),
            pool,
        }
    }

    /// The same registry, working by `desk`'s rules.
    pub fn with_desk(mut self, desk: Desk) -> Self {
        self.desk = desk;
        self
    }

    /// How the desk works.
    pub fn desk(&self) -> &Desk {
        &self.desk
    }

    /// The same registry deciding matches by `thresholds`. Call it before serving: the search
    /// index is made anew, empty.
    pub fn with_thresholds(mut self, thresholds: crate::search::Thresholds) -> Self {
        self.index = Arc::new(search_index(crate::search::Settings {
            thresholds,
            ..Default::default()
        }));
        self
    }

    /// The search index, to give it the embedding model once loaded.
    pub fn index(&self) -> &ClaimIndex {
        &self.index
    }

    /// The pool, for health checks.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The key behind an `authorization` header value, if it is active and its role is at least
    /// `needed`. A key verified in the last [`KEY_CACHE_TTL`] is not looked up again.
    pub async fn authorize(
        &self,
        authorization: Option<&str>,
        needed: Role,
    ) -> Result<ApiKey, Error> {
        let refuse = |problem| Error::Unauthenticated { problem, needed };
        let header = authorization.ok_or(refuse(Credentials::Missing))?;
        let secret = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, secret)| secret.trim())
            .filter(|secret| !secret.is_empty())
            .ok_or(refuse(Credentials::Malformed))?;
        let hash = ApiKeySecret::hash_of(secret);
        let key = match self.keys.get(&hash) {
            Some(key) => key,
            None => {
                let asked = Instant::now();
                let mut conn = self.pool.acquire().await?;
                let key = api_keys::find_active(&mut conn, &hash)
                    .await?
                    .ok_or(refuse(Credentials::Unknown))?;
                self.keys.insert(hash, key.clone(), asked);
                key
            }
        };
        if key.role < needed {
            return Err(Error::PermissionDenied {
                needed,
                held: key.role,
            });
        }
        Ok(key)
    }

    /// Registers an article, or returns the stored one with the same canonical URL and body.
    /// With `extract`, a newly stored article's attributed statements are registered as
    /// extracted claims in the same transaction, in a few statements whatever their number;
    /// they are returned in text order. At most [`MAX_EXTRACTED_CLAIMS_PER_ARTICLE`] are
    /// registered, the first in text order; the result says how many were found.
    pub async fn create_article(
        &self,
        article: NewArticle,
        request: Option<IdempotencyKey>,
        extract: bool,
    ) -> Result<RegisteredArticle, Error> {
        // extraction and the anchoring of what it found before the transaction: it holds no
        // connection while the CPU works, and a repeated request pays for an extraction it does
        // not use, which is the rarer case
        let (claims_found, extracted) = if extract {
            let proposals = proposals(article.body.clone()).await?;
            let found = proposals.len();
            (
                found,
                anchor_extracted(article.body.clone(), proposals).await?,
            )
        } else {
            (0, Vec::new())
        };
        let mut tx = self.pool.begin().await?;
        if let Some(name) = earlier(&mut tx, request.as_ref()).await? {
            // read on the transaction's own connection: taking a second one from the pool while
            // holding this one starves the pool under concurrent retries
            let name = ArticleName::parse(&name).map_err(anyhow::Error::msg)?;
            let stored = articles::get(&mut tx, name, true)
                .await?
                .ok_or_else(|| Error::not_found(&name))?;
            return Ok(RegisteredArticle::found(stored));
        }
        let (stored, created) = match articles::insert(&mut tx, &article).await {
            Err(e) if store::is_unique_violation(&e, articles::REVISION_KEY) => {
                return Err(Error::Aborted(format!(
                    "another body of {} was registered as its next revision at the same time; \
                     retry to register this one after it",
                    article.url.given
                )));
            }
            other => other?,
        };
        if !created {
            remember(&mut tx, request.as_ref(), &stored.name.to_string()).await?;
            tx.commit().await?;
            return Ok(RegisteredArticle::found(stored));
        }
        let mut claims = Vec::new();
        if !extracted.is_empty() {
            let extracted: Vec<AnchoredClaim> = extracted
                .into_iter()
                .map(|claim| claim.in_article(stored.name))
                .collect();
            let names = store_claims(&mut tx, &extracted).await?;
            claims = claims::get_many(&mut tx, &names).await?;
        }
        remember(&mut tx, request.as_ref(), &stored.name.to_string()).await?;
        tx.commit().await?;
        Ok(RegisteredArticle {
            article: stored,
            created: true,
            claims,
            claims_found,
        })
    }

    /// The claims the extractor proposes for a text, without storing anything.
    pub async fn preview_claims(&self, text: ArticleBody) -> Result<Vec<Proposal>, Error> {
        proposals(text).await
    }

    /// One article.
    pub async fn get_article(&self, name: ArticleName, with_body: bool) -> Result<Article, Error> {
        let mut conn = self.pool.acquire().await?;
        articles::get(&mut conn, name, with_body)
            .await?
            .ok_or_else(|| Error::not_found(&name))
    }

    /// A page of articles, newest first.
    pub async fn list_articles(
        &self,
        filter: &ArticleFilter,
        after: Option<Uuid>,
        limit: i64,
        with_body: bool,
    ) -> Result<Page<Article>, Error> {
        let mut conn = self.pool.acquire().await?;
        Ok(articles::list(&mut conn, filter, after, limit, with_body).await?)
    }

    /// Registers a claim after anchoring each of its quotes in its article's body. Quotes that
    /// do not match are refused all together, each naming its field.
    pub async fn create_claim(
        &self,
        claim: NewClaim,
        request: Option<IdempotencyKey>,
    ) -> Result<Claim, Error> {
        let mut tx = self.pool.begin().await?;
        if let Some(name) = earlier(&mut tx, request.as_ref()).await? {
            let name = ClaimName::parse(&name).map_err(anyhow::Error::msg)?;
            return fetch_claim(&mut tx, name).await;
        }
        let name = insert_claim(&mut tx, claim).await?;
        remember(&mut tx, request.as_ref(), &name.to_string()).await?;
        let stored = fetch_claim(&mut tx, name).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// One claim with its quotes and current verdict: from the cache when it holds the claim
    /// and is fresh (at most [`MAX_STALENESS`] behind a change through another replica, never
    /// behind one through this replica), else from the database.
    pub async fn get_claim(&self, name: ClaimName) -> Result<Arc<Claim>, Error> {
        if let Some(claim) = self.claims.get(&name.0) {
            return Ok(claim);
        }
        let ticket = self.claims.ticket(&name.0);
        let mut conn = self.pool.acquire().await?;
        let claim = Arc::new(fetch_claim(&mut conn, name).await?);
        self.claims.insert(ticket, Arc::clone(&claim));
        Ok(claim)
    }

    /// A page of claims in `order`, after `after`.
    pub async fn list_claims(
        &self,
        filter: &ClaimFilter,
        order: ClaimOrder,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Page<Claim>, Error> {
        let mut conn = self.pool.acquire().await?;
        Ok(claims::list(&mut conn, filter, order, after, limit).await?)
    }

    /// Changes a claim if the client's etag is still current.
    pub async fn update_claim(&self, patch: ClaimPatch) -> Result<Claim, Error> {
        let mut tx = self.pool.begin().await?;
        let checkworthiness = patch
            .statement
            .as_deref()
            .map(crate::extract::checkworthiness::score);
        match claims::update(&mut tx, &patch, checkworthiness).await? {
            UpdateOutcome::Updated => {}
            UpdateOutcome::Missing => return Err(Error::not_found(&patch.name)),
            UpdateOutcome::Stale => {
                return Err(Error::Aborted(format!(
                    "{} changed since etag {} was read; read it again and reapply the change",
                    patch.name,
                    patch.expected.etag()
                )));
            }
        }
        let claim = fetch_claim(&mut tx, patch.name).await?;
        tx.commit().await?;
        self.claims.evict([patch.name.0]);
        Ok(claim)
    }

    /// Attaches a verdict written by `reviewer`: a draft, or published at once, when it becomes
    /// the claim's current verdict. With second review on, only a draft: another reviewer
    /// publishes it ([`Registry::publish_verdict`]).
    pub async fn create_verdict(
        &self,
        claim: ClaimName,
        verdict: NewVerdict,
        reviewer: &ApiKey,
        request: Option<IdempotencyKey>,
    ) -> Result<Verdict, Error> {
        let mut tx = self.pool.begin().await?;
        if let Some(name) = earlier(&mut tx, request.as_ref()).await? {
            let id = name
                .rsplit_once('/')
                .and_then(|(_, id)| Uuid::try_parse(id).ok())
                .ok_or_else(|| anyhow::anyhow!("stored verdict name {name:?} is malformed"))?;
            return fetch_verdict(&mut tx, VerdictName { claim, id }).await;
        }
        if !verdict.draft && self.desk.second_review {
            return Err(Error::FailedPrecondition {
                kind: "SECOND_REVIEW_REQUIRED",
                subject: "verdict.state".into(),
                description: "second review is on: a verdict is created as a draft \
                              (verdict.state VERDICT_STATE_DRAFT) and published by another reviewer"
                    .into(),
            });
        }
        if !claims::lock(&mut tx, claim).await? {
            return Err(Error::not_found(&claim));
        }
        let stored = verdicts::insert(
            &mut tx,
            claim,
            &verdict,
            &reviewer.display_name,
            reviewer.name.0,
        )
        .await?;
        remember(&mut tx, request.as_ref(), &stored.name.to_string()).await?;
        tx.commit().await?;
        self.claims.evict([claim.0]);
        Ok(stored)
    }

    /// Adds a quote to a claim: the claim made again, in another article. The quote is anchored
    /// like those of a new claim; the same words at the same place twice are refused. Returns
    /// the claim with all its quotes.
    pub async fn add_quote(
        &self,
        claim: ClaimName,
        draft: QuoteDraft,
        request: Option<IdempotencyKey>,
    ) -> Result<Claim, Error> {
        let mut tx = self.pool.begin().await?;
        if earlier(&mut tx, request.as_ref()).await?.is_some() {
            return fetch_claim(&mut tx, claim).await;
        }
        if !claims::lock(&mut tx, claim).await? {
            return Err(Error::not_found_in(&claim, "parent"));
        }
        let article = draft.article;
        let bodies = articles::bodies(&mut tx, &[article.0]).await?;
        let body = bodies
            .get(&article.0)
            .ok_or_else(|| Error::not_found_in(&article, "quote.article"))?;
        let quote = draft.anchor(body).map_err(|rejection| {
            Error::invalid(format!("quote.{}", rejection.field), rejection.description)
        })?;
        let current = fetch_claim(&mut tx, claim).await?;
        if current.quotes.len() >= crate::domain::limits::MAX_QUOTES_PER_CLAIM {
            return Err(Error::FailedPrecondition {
                kind: "QUOTE_LIMIT",
                subject: claim.to_string(),
                description: format!(
                    "{claim} has {} quotes, the most a claim may have",
                    current.quotes.len()
                ),
            });
        }
        if current
            .quotes
            .iter()
            .any(|q| q.article == quote.article && q.quote.span == quote.quote.span)
        {
            return Err(Error::AlreadyExists(format!(
                "{claim} already has the quote at [{}, {}) of {}",
                quote.quote.span.start, quote.quote.span.end, quote.article
            )));
        }
        claims::add_quote(&mut tx, claim, &quote).await?;
        remember(&mut tx, request.as_ref(), &claim.to_string()).await?;
        let stored = fetch_claim(&mut tx, claim).await?;
        tx.commit().await?;
        self.claims.evict([claim.0]);
        Ok(stored)
    }

    /// Dismisses a live claim for `reviewer`: it needs no check. A duplicate's original must be
    /// a registered claim that is not dismissed itself (so that following `duplicate_of` ends
    /// at a live claim when it is dismissed). Returns the claim with its dismissal.
    pub async fn dismiss_claim(
        &self,
        dismissal: NewDismissal,
        reviewer: &ApiKey,
        request: Option<IdempotencyKey>,
    ) -> Result<Claim, Error> {
        let claim = dismissal.claim;
        let mut tx = self.pool.begin().await?;
        if earlier(&mut tx, request.as_ref()).await?.is_some() {
            return fetch_claim(&mut tx, claim).await;
        }
        let current = locked_claim(&mut tx, claim, dismissal.expected).await?;
        if let Some(was) = current.dismissal {
            return Err(Error::FailedPrecondition {
                kind: "CLAIM_DISMISSED",
                subject: claim.to_string(),
                description: format!(
                    "{claim} was already dismissed ({}) by {} at {}; restore it before \
                     dismissing it again",
                    was.reason.kind().as_str(),
                    was.reviewer,
                    was.dismiss_time
                ),
            });
        }
        if let DismissalReason::Duplicate(original) = dismissal.reason {
            let original_claim = claims::get(&mut tx, original)
                .await?
                .ok_or_else(|| Error::not_found_in(&original, "duplicate_of"))?;
            if original_claim.dismissal.is_some() {
                return Err(Error::FailedPrecondition {
                    kind: "ORIGINAL_DISMISSED",
                    subject: "duplicate_of".into(),
                    description: format!(
                        "{original} is dismissed itself; name the live claim that {claim} \
                         repeats, or restore {original} first"
                    ),
                });
            }
        }
        claims::dismiss(&mut tx, &dismissal, &reviewer.display_name, reviewer.name.0).await?;
        remember(&mut tx, request.as_ref(), &claim.to_string()).await?;
        let stored = fetch_claim(&mut tx, claim).await?;
        tx.commit().await?;
        self.claims.evict([claim.0]);
        Ok(stored)
    }

    /// Restores a dismissed claim: it is live again. Returns the claim without its dismissal.
    pub async fn restore_claim(
        &self,
        claim: ClaimName,
        expected: Option<ClaimVersion>,
        request: Option<IdempotencyKey>,
    ) -> Result<Claim, Error> {
        let mut tx = self.pool.begin().await?;
        if earlier(&mut tx, request.as_ref()).await?.is_some() {
            return fetch_claim(&mut tx, claim).await;
        }
        let current = locked_claim(&mut tx, claim, expected).await?;
        if current.dismissal.is_none() {
            return Err(Error::FailedPrecondition {
                kind: "CLAIM_NOT_DISMISSED",
                subject: claim.to_string(),
                description: format!("{claim} is not dismissed; there is nothing to restore"),
            });
        }
        claims::restore(&mut tx, claim).await?;
        remember(&mut tx, request.as_ref(), &claim.to_string()).await?;
        let stored = fetch_claim(&mut tx, claim).await?;
        tx.commit().await?;
        self.claims.evict([claim.0]);
        Ok(stored)
    }

    /// A page of matches: of one claim, best first, or of every claim (`None`), newest first.
    pub async fn list_matches(
        &self,
        claim: Option<ClaimName>,
        state: Option<MatchState>,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Page<ClaimMatch>, Error> {
        let mut conn = self.pool.acquire().await?;
        if let Some(claim) = claim
            && claims::get(&mut conn, claim).await?.is_none()
        {
            return Err(Error::not_found_in(&claim, "parent"));
        }
        Ok(matches::list(&mut conn, claim, state, after, limit).await?)
    }

    /// Decides suggestions, all or none: each must exist and still be a suggestion. Returns the
    /// matches as they now stand, in the order given.
    pub async fn review_matches(
        &self,
        reviews: &[(ClaimMatchName, MatchDecision)],
        reviewer: &ApiKey,
    ) -> Result<Vec<ClaimMatch>, Error> {
        let mut tx = self.pool.begin().await?;
        let mut decided = Vec::with_capacity(reviews.len());
        let mut missing = Vec::new();
        let mut not_open = Vec::new();
        for (i, (name, decision)) in reviews.iter().enumerate() {
            let outcome = matches::review(
                &mut tx,
                *name,
                *decision,
                &reviewer.display_name,
                reviewer.name.0,
            )
            .await?;
            match outcome {
                matches::Reviewed::Now(m) => decided.push(m),
                matches::Reviewed::NotSuggested(m) => not_open.push((i, m)),
                matches::Reviewed::Missing => missing.push((i, *name)),
            }
        }
        if let Some((i, name)) = missing.first() {
            return Err(Error::not_found_in(name, format!("reviews[{i}].name")));
        }
        if let Some((i, m)) = not_open.first() {
            return Err(Error::FailedPrecondition {
                kind: "NOT_SUGGESTED",
                subject: format!("reviews[{i}].name"),
                description: format!(
                    "{} is {}, not a suggestion: only open suggestions are accepted or rejected",
                    m.name,
                    m.state.as_str()
                ),
            });
        }
        tx.commit().await?;
        // a claim's "previously checked" follows its links
        self.claims
            .evict(reviews.iter().map(|(name, _)| name.claim.0));
        Ok(decided)
    }

    /// The claims that best answer a free text, passing `filter`, best first: `offset` skipped,
    /// at most `limit`; each with what found it. Ranked by words and meaning, or by words alone
    /// while the model is unavailable (the reason is returned).
    pub async fn search_claims(
        &self,
        query: &str,
        filter: SearchFilter,
        offset: usize,
        limit: usize,
    ) -> Result<SearchOutcome, Error> {
        if !self.index.is_built() {
            return Err(Error::NotReady(
                "the search index is being built from the database; retry shortly".into(),
            ));
        }
        let index = Arc::clone(&self.index);
        let query = query.to_owned();
        let found =
            tokio::task::spawn_blocking(move || index.search(&query, &filter, offset, limit))
                .await
                .map_err(|e| Error::Internal(anyhow::Error::new(e).context("search panicked")))?
                .map_err(|e| Error::Internal(anyhow::Error::new(e).context("search failed")))?;
        let names: Vec<ClaimName> = found.iter().map(|f| ClaimName(f.id)).collect();
        let claims = {
            let mut conn = self.pool.acquire().await?;
            claims::get_many(&mut conn, &names).await?
        };
        let mut by_id: std::collections::HashMap<Uuid, Claim> =
            claims.into_iter().map(|c| (c.name.0, c)).collect();
        let results = found
            .into_iter()
            .filter_map(|f| Some((by_id.remove(&f.id)?, f)))
            .collect();
        Ok(SearchOutcome {
            results,
            lexical_only: self.index.lexical_only_reason(),
        })
    }

    /// Publishes a draft, which becomes its claim's current verdict. With second review on, the
    /// publisher must not be the author: self-approval is refused, naming both.
    pub async fn publish_verdict(
        &self,
        name: VerdictName,
        etag: Option<i64>,
        publisher: &ApiKey,
        request: Option<IdempotencyKey>,
    ) -> Result<Verdict, Error> {
        self.verdict_step(name, etag, request, |verdict, writers, desk| {
            if verdict.state != VerdictState::Draft {
                return Err(wrong_state(verdict, "published", "a draft"));
            }
            if desk.second_review && writers.contains(&publisher.name.0) {
                let role = if verdict.reviewer == publisher.display_name {
                    "drafted"
                } else {
                    "edited"
                };
                return Err(Error::FailedPrecondition {
                    kind: "SELF_APPROVAL",
                    subject: verdict.name.to_string(),
                    description: format!(
                        "second review is on: {} was {role} by {:?} (drafted by {:?}), so a \
                         reviewer who did not write it must publish it",
                        verdict.name, publisher.display_name, verdict.reviewer
                    ),
                });
            }
            Ok(verdicts::Step {
                action: VerdictAction::Published,
                actor: (&publisher.display_name, publisher.name.0),
                note: "",
                content: None,
            })
        })
        .await
    }

    /// Rewrites a draft: its content is replaced, the earlier version kept in its history. A
    /// published verdict is corrected instead ([`Registry::correct_verdict`]).
    pub async fn update_verdict(
        &self,
        name: VerdictName,
        content: NewVerdict,
        etag: Option<i64>,
        editor: &ApiKey,
        request: Option<IdempotencyKey>,
    ) -> Result<Verdict, Error> {
        self.verdict_step(name, etag, request, |verdict, _, _| {
            if verdict.state != VerdictState::Draft {
                return Err(wrong_state(
                    verdict,
                    "edited",
                    "a draft (a published verdict is corrected)",
                ));
            }
            Ok(verdicts::Step {
                action: VerdictAction::Edited,
                actor: (&editor.display_name, editor.name.0),
                note: "",
                content: Some(&content),
            })
        })
        .await
    }

    /// Corrects a published verdict: its content is replaced by a new revision, with a public
    /// `note` saying what changed and why; earlier revisions stay in its history.
    pub async fn correct_verdict(
        &self,
        name: VerdictName,
        content: NewVerdict,
        note: String,
        etag: Option<i64>,
        corrector: &ApiKey,
        request: Option<IdempotencyKey>,
    ) -> Result<Verdict, Error> {
        self.verdict_step(name, etag, request, |verdict, _, _| {
            if verdict.state != VerdictState::Published {
                return Err(wrong_state(verdict, "corrected", "a published verdict"));
            }
            Ok(verdicts::Step {
                action: VerdictAction::Corrected,
                actor: (&corrector.display_name, corrector.name.0),
                note: &note,
                content: Some(&content),
            })
        })
        .await
    }

    /// Withdraws a verdict (a draft or a published one) for `reason`: its claim falls back to
    /// its newest other published verdict, or to unreviewed.
    pub async fn withdraw_verdict(
        &self,
        name: VerdictName,
        reason: String,
        etag: Option<i64>,
        reviewer: &ApiKey,
        request: Option<IdempotencyKey>,
    ) -> Result<Verdict, Error> {
        self.verdict_step(name, etag, request, |verdict, _, _| {
            if verdict.state == VerdictState::Withdrawn {
                return Err(wrong_state(
                    verdict,
                    "withdrawn",
                    "a draft or a published verdict",
                ));
            }
            Ok(verdicts::Step {
                action: VerdictAction::Withdrawn,
                actor: (&reviewer.display_name, reviewer.name.0),
                note: &reason,
                content: None,
            })
        })
        .await
    }

    /// One lifecycle step: locks the claim and the verdict, checks the etag, lets `step` check
    /// the verdict's state and say what to do, does it and records it, in one transaction. A
    /// retry of a step already taken under its `request` id takes it no second time: it returns
    /// the verdict as it now stands.
    async fn verdict_step<'a>(
        &self,
        name: VerdictName,
        etag: Option<i64>,
        request: Option<IdempotencyKey>,
        step: impl FnOnce(&Verdict, &[Uuid], &Desk) -> Result<verdicts::Step<'a>, Error>,
    ) -> Result<Verdict, Error> {
        let mut tx = self.pool.begin().await?;
        if earlier(&mut tx, request.as_ref()).await?.is_some() {
            return fetch_verdict(&mut tx, name).await;
        }
        if !claims::lock(&mut tx, name.claim).await? {
            return Err(Error::not_found(&name));
        }
        let verdict = verdicts::lock(&mut tx, name)
            .await?
            .ok_or_else(|| Error::not_found(&name))?;
        if let Some(etag) = etag
            && etag != verdict.version
        {
            return Err(Error::Aborted(format!(
                "{name} changed since it was read (etag {etag}, now {}): read it again",
                verdict.version
            )));
        }
        let writers = verdicts::writers(&mut tx, name.id).await?;
        let step = step(&verdict, &writers, &self.desk)?;
        let after = verdicts::take_step(&mut tx, verdict, step).await?;
        remember(&mut tx, request.as_ref(), &name.to_string()).await?;
        tx.commit().await?;
        self.claims.evict([name.claim.0]);
        Ok(after)
    }

    /// One verdict, whatever its state.
    pub async fn get_verdict(&self, name: VerdictName) -> Result<Verdict, Error> {
        let mut conn = self.pool.acquire().await?;
        fetch_verdict(&mut conn, name).await
    }

    /// A verdict's history, first step first, each with the verdict as it stood after it.
    pub async fn verdict_history(&self, name: VerdictName) -> Result<Vec<VerdictStep>, Error> {
        let mut conn = self.pool.acquire().await?;
        let verdict = fetch_verdict(&mut conn, name).await?;
        Ok(verdicts::history(&mut conn, &verdict).await?)
    }

    /// A page of a claim's verdicts, newest first.
    pub async fn list_verdicts(
        &self,
        claim: Option<ClaimName>,
        filter: &verdicts::VerdictFilter,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Page<Verdict>, Error> {
        let mut conn = self.pool.acquire().await?;
        if let Some(claim) = claim
            && claims::get(&mut conn, claim).await?.is_none()
        {
            return Err(Error::not_found(&claim));
        }
        Ok(verdicts::list_filtered(&mut conn, claim, filter, after, limit).await?)
    }

    /// Creates a key and returns it with its secret, which is never stored.
    pub async fn create_api_key(&self, key: NewApiKey) -> Result<(ApiKey, ApiKeySecret), Error> {
        let secret = ApiKeySecret::generate();
        let mut conn = self.pool.acquire().await?;
        match api_keys::insert(&mut conn, &key, &secret).await {
            Ok(stored) => Ok((stored, secret)),
            Err(e) if store::is_unique_violation(&e, api_keys::DISPLAY_NAME_KEY) => {
                Err(Error::AlreadyExists(format!(
                    "an API key named {:?} exists or existed: display names are never reused, \
                     even after revocation, because verdicts record them as their reviewer",
                    key.display_name
                )))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A page of keys, newest first.
    pub async fn list_api_keys(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Page<ApiKey>, Error> {
        let mut conn = self.pool.acquire().await?;
        Ok(api_keys::list(&mut conn, after, limit).await?)
    }

    /// Revokes a key; it stops working on this replica at once and on every other within
    /// [`KEY_CACHE_TTL`]. Revoking a revoked key changes nothing: the flag says whether this call
    /// revoked it.
    pub async fn revoke_api_key(&self, name: ApiKeyName) -> Result<(ApiKey, bool), Error> {
        let mut conn = self.pool.acquire().await?;
        let outcome = api_keys::revoke(&mut conn, name).await?;
        self.keys.forget(name);
        match outcome {
            Revoked::Now(key) => Ok((key, true)),
            Revoked::Before(key) => Ok((key, false)),
            Revoked::Missing => Err(Error::not_found(&name)),
        }
    }

    /// Whether a key that authorized a call is still active: an event stream outlives the check
    /// at its start, so it asks again as it goes.
    pub async fn key_is_active(&self, key: ApiKeyName) -> Result<bool, Error> {
        let mut conn = self.pool.acquire().await?;
        Ok(api_keys::is_active(&mut conn, key.0).await?)
    }

    /// The key with a display name, active or revoked.
    pub async fn find_api_key(&self, display_name: &str) -> Result<ApiKey, Error> {
        let mut conn = self.pool.acquire().await?;
        api_keys::find_by_display_name(&mut conn, display_name)
            .await?
            .ok_or_else(|| Error::NotFound {
                resource_type: ApiKeyName::TYPE,
                resource: format!("API key with display name {display_name:?}"),
                field: None,
            })
    }

    /// Creates the first admin key of a registry that has no active key, and returns its secret;
    /// `None` when keys exist. Replicas starting together create one key between them. The key
    /// is named [`BOOTSTRAP_ADMIN_NAME`], numbered when earlier bootstrap keys were revoked.
    pub async fn bootstrap_admin_key(&self) -> Result<Option<ApiKeySecret>, Error> {
        let earlier = {
            let mut conn = self.pool.acquire().await?;
            if api_keys::any_active(&mut conn).await? {
                return Ok(None);
            }
            api_keys::count_named_like(&mut conn, BOOTSTRAP_ADMIN_NAME).await?
        };
        let display_name = match earlier {
            0 => BOOTSTRAP_ADMIN_NAME.to_owned(),
            n => format!("{BOOTSTRAP_ADMIN_NAME}-{}", n + 1),
        };
        let key = NewApiKey {
            display_name,
            role: Role::Admin,
        };
        match self.create_api_key(key).await {
            Ok((_, secret)) => Ok(Some(secret)),
            Err(Error::AlreadyExists(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// An empty search index; it lives in memory, so only a bug in tantivy can fail it.
fn search_index(settings: crate::search::Settings) -> ClaimIndex {
    ClaimIndex::new(settings).expect("an in-memory search index can be created")
}

/// The extractor's proposals for a text, computed on the blocking pool: the extractor is CPU
/// work and must not hold up the threads that serve other calls.
async fn proposals(text: ArticleBody) -> Result<Vec<Proposal>, Error> {
    tokio::task::spawn_blocking(move || {
        crate::metrics::extraction(text.as_str(), crate::extract::propose)
    })
    .await
    .map_err(|e| Error::Internal(anyhow::Error::new(e).context("the extractor panicked")))
}

/// Anchors a claim's quotes in their articles, read from the database, and stores it.
async fn insert_claim(conn: &mut PgConnection, claim: NewClaim) -> Result<ClaimName, Error> {
    let ids: Vec<Uuid> = claim
        .quotes
        .iter()
        .map(|q| q.article.0)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let bodies = articles::bodies(conn, &ids).await?;
    let claim = AnchoredClaim::anchor(claim, |id| bodies.get(&id).map(String::as_str))?;
    let names = store_claims(conn, std::slice::from_ref(&claim)).await?;
    names
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("storing one claim returned no name")))
}

/// A claim whose quotes are anchored in their articles' bodies, scored: what the claims table
/// takes. Only [`AnchoredClaim::anchor`] makes one.
struct AnchoredClaim {
    statement: String,
    claimant: String,
    origin: Origin,
    checkworthiness: f32,
    quotes: Vec<Quote>,
}

impl AnchoredClaim {
    /// Anchors each quote in the body of its article, which `body_of` gives by article id, and
    /// scores the statement. Quotes that do not match are refused all together, each naming its
    /// field.
    fn anchor<'b>(
        claim: NewClaim,
        body_of: impl Fn(Uuid) -> Option<&'b str>,
    ) -> Result<Self, Error> {
        let mut quotes = Vec::with_capacity(claim.quotes.len());
        let mut violations = Vec::new();
        for (i, draft) in claim.quotes.into_iter().enumerate() {
            let Some(body) = body_of(draft.article.0) else {
                return Err(Error::not_found_in(
                    &draft.article,
                    format!("claim.quotes[{i}].article"),
                ));
            };
            match draft.anchor(body) {
                Ok(quote) => quotes.push(quote),
                Err(rejection) => violations.push(FieldViolation {
                    field: format!("claim.quotes[{i}].{}", rejection.field),
                    description: rejection.description,
                }),
            }
        }
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        Ok(AnchoredClaim {
            checkworthiness: crate::extract::checkworthiness::score(&claim.statement),
            statement: claim.statement,
            claimant: claim.claimant,
            origin: claim.origin,
            quotes,
        })
    }

    /// The claim with every quote in `article`: for claims anchored in an article's body before
    /// the article was stored and named.
    fn in_article(mut self, article: ArticleName) -> Self {
        for quote in &mut self.quotes {
            quote.article = article;
        }
        self
    }
}

/// The first [`MAX_EXTRACTED_CLAIMS_PER_ARTICLE`] of the extractor's proposals for `body` as
/// claims anchored in it, on the blocking pool: anchoring is CPU work. The article is not stored
/// yet, so their quotes name no article until [`AnchoredClaim::in_article`] says which.
async fn anchor_extracted(
    body: ArticleBody,
    proposals: Vec<Proposal>,
) -> Result<Vec<AnchoredClaim>, Error> {
    let unnamed = ArticleName(Uuid::nil());
    tokio::task::spawn_blocking(move || {
        let body = CodePoints::new(body.as_str());
        proposals
            .into_iter()
            .take(MAX_EXTRACTED_CLAIMS_PER_ARTICLE)
            .map(|proposal| anchor_near(extracted_claim(unnamed, proposal), &body))
            .collect()
    })
    .await
    .map_err(|e| Error::Internal(anyhow::Error::new(e).context("anchoring panicked")))?
}

/// How many code points apart [`CodePoints`] marks where they start.
const CODE_POINT_STRIDE: usize = 1024;

/// A text with where every [`CODE_POINT_STRIDE`]th code point starts, so that the byte offset of
/// any code point is found by walking fewer than that many, not the text from its start.
struct CodePoints<'a> {
    text: &'a str,
    marks: Vec<usize>,
}

impl<'a> CodePoints<'a> {
    fn new(text: &'a str) -> Self {
        let marks = std::iter::once(0)
            .chain(
                text.char_indices()
                    .skip(CODE_POINT_STRIDE)
                    .step_by(CODE_POINT_STRIDE)
                    .map(|(i, _)| i),
            )
            .collect();
        CodePoints { text, marks }
    }

    /// The byte offset where code point `n` starts (the text's length for the end); `None`
    /// past the end.
    fn byte(&self, n: usize) -> Option<usize> {
        let mark = (n / CODE_POINT_STRIDE).min(self.marks.len() - 1);
        let from = self.marks[mark];
        self.text[from..]
            .char_indices()
            .map(|(i, _)| from + i)
            .chain(std::iter::once(self.text.len()))
            .nth(n - mark * CODE_POINT_STRIDE)
    }
}

/// Anchors an extracted claim in `body`. The extractor gives every span (quote, speaker, cue),
/// and anchoring a quote whose spans are all given only compares the body's text at them, so
/// it is done in the stretch of the body that holds them, with the spans moved accordingly:
/// walking the body from its start for every span cost ~1 s for 1,000 claims spread over
/// 1 MiB. Anything else, and any rejection (for its message's offsets), anchors in the whole
/// body.
fn anchor_near(claim: NewClaim, body: &CodePoints) -> Result<AnchoredClaim, Error> {
    let whole = |claim| AnchoredClaim::anchor(claim, |_| Some(body.text));
    let spans: Option<Vec<Span>> = claim
        .quotes
        .iter()
        .flat_map(|q| {
            let cue = q.cue.as_ref().map(|_| q.cue_span);
            [Some(q.span), Some(q.speaker_span), cue]
                .into_iter()
                .flatten()
        })
        .collect();
    let Some(spans) = spans else {
        return whole(claim);
    };
    let first = spans.iter().map(|s| s.start).min().unwrap_or(0);
    let last = spans.iter().map(|s| s.end).max().unwrap_or(0);
    let (Some(from), Some(to)) = (body.byte(first), body.byte(last)) else {
        return whole(claim);
    };
    let shift = |span: Span, by: isize| Span {
        start: span.start.saturating_add_signed(by),
        end: span.end.saturating_add_signed(by),
    };
    let back = -isize::try_from(first).expect("offsets into a body fit in isize");
    let mut near = claim.clone();
    for q in &mut near.quotes {
        q.span = q.span.map(|s| shift(s, back));
        q.speaker_span = q.speaker_span.map(|s| shift(s, back));
        q.cue_span = q.cue_span.map(|s| shift(s, back));
    }
    match AnchoredClaim::anchor(near, |_| Some(&body.text[from..to])) {
        Ok(mut anchored) => {
            for q in &mut anchored.quotes {
                q.quote.span = shift(q.quote.span, -back);
                q.speaker.span = shift(q.speaker.span, -back);
                if let Some(cue) = &mut q.cue {
                    cue.span = shift(cue.span, -back);
                }
            }
            Ok(anchored)
        }
        Err(_) => whole(claim),
    }
}

/// Stores anchored claims in two statements however many there are: the one way into the claims
/// table. Returns their names in the order given.
async fn store_claims(
    conn: &mut PgConnection,
    claims: &[AnchoredClaim],
) -> Result<Vec<ClaimName>, Error> {
    let records: Vec<ClaimRecord> = claims
        .iter()
        .map(|claim| ClaimRecord {
            statement: &claim.statement,
            claimant: &claim.claimant,
            origin: claim.origin,
            checkworthiness: claim.checkworthiness,
            quotes: &claim.quotes,
        })
        .collect();
    Ok(claims::insert(conn, &records).await?)
}

/// The claim an extractor proposal stands for, quoting `article`.
fn extracted_claim(article: ArticleName, proposal: crate::extract::Proposal) -> NewClaim {
    let quote = proposal.quote;
    // the extractor only proposes quotes with a speaker
    let speaker = quote.speaker.expect("proposals have a speaker");
    NewClaim {
        statement: proposal.statement,
        claimant: proposal.claimant,
        origin: Origin::Extracted,
        quotes: vec![QuoteDraft {
            article,
            span: Some(quote.quote.span),
            text: quote.quote.text,
            speaker: speaker.text,
            speaker_span: Some(speaker.span),
            cue_span: quote.cue.as_ref().map(|c| c.span),
            cue: quote.cue.map(|c| c.text),
            kind: quote.kind,
            resolved_speaker: quote.resolved_speaker,
        }],
    }
}

async fn fetch_claim(conn: &mut PgConnection, name: ClaimName) -> Result<Claim, Error> {
    claims::get(conn, name)
        .await?
        .ok_or_else(|| Error::not_found(&name))
}

/// A claim locked for the rest of the transaction, as it stands; with `expected`, only if it
/// is still at that version (ABORTED otherwise, as UpdateClaim's stale etag).
async fn locked_claim(
    conn: &mut PgConnection,
    name: ClaimName,
    expected: Option<ClaimVersion>,
) -> Result<Claim, Error> {
    if !claims::lock(&mut *conn, name).await? {
        return Err(Error::not_found(&name));
    }
    let claim = fetch_claim(conn, name).await?;
    match expected {
        Some(expected) if expected != claim.version => Err(Error::Aborted(format!(
            "{name} changed since etag {} was read; read it again and reapply the change",
            expected.etag()
        ))),
        _ => Ok(claim),
    }
}

/// The refusal of a lifecycle step the verdict's state does not allow.
fn wrong_state(verdict: &Verdict, done: &str, needed: &str) -> Error {
    Error::FailedPrecondition {
        kind: "VERDICT_STATE",
        subject: verdict.name.to_string(),
        description: format!(
            "{} is {}: only {needed} can be {done}",
            verdict.name,
            match verdict.state {
                VerdictState::Draft => "a draft",
                VerdictState::Published => "published",
                VerdictState::Withdrawn => "withdrawn",
            }
        ),
    }
}

async fn fetch_verdict(conn: &mut PgConnection, name: VerdictName) -> Result<Verdict, Error> {
    verdicts::by_ids(conn, &[name.id])
        .await?
        .remove(&name.id)
        .filter(|v| v.name.claim == name.claim)
        .ok_or_else(|| Error::not_found(&name))
}

/// The resource an earlier request with the same id made, if there was one.
async fn earlier(
    conn: &mut PgConnection,
    request: Option<&IdempotencyKey>,
) -> Result<Option<String>, Error> {
    let Some(key) = request else { return Ok(None) };
    match idempotency::find(conn, key).await? {
        Earlier::None => Ok(None),
        Earlier::Made(name) => Ok(Some(name)),
        Earlier::Conflict => Err(Error::AlreadyExists(format!(
            "request_id {} was already used for a different request",
            key.request_id
        ))),
    }
}

/// Records what a request with an id made, in its transaction.
async fn remember(
    conn: &mut PgConnection,
    request: Option<&IdempotencyKey>,
    name: &str,
) -> Result<(), Error> {
    let Some(key) = request else { return Ok(()) };
    match idempotency::record(conn, key, name).await {
        Err(e) if store::is_unique_violation(&e, idempotency::UNIQUE_KEY) => {
            Err(Error::Aborted(format!(
                "another request with request_id {} was being processed at the same time; retry to get its result",
                key.request_id
            )))
        }
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_point_is_found_at_its_byte_offset_on_either_side_of_every_mark() {
        let text = "“Да,” 🙂 сказал Putin. ".repeat(200);
        let index = CodePoints::new(&text);
        let expected: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        for (n, byte) in expected.iter().enumerate() {
            assert_eq!(index.byte(n), Some(*byte), "code point {n}");
        }
        assert_eq!(index.byte(expected.len()), None);
        assert_eq!(index.byte(expected.len() + 5000), None);
    }

    #[test]
    fn extracted_claims_anchor_near_their_spans_as_in_the_whole_body() {
        let filler = "Le comité s’est réuni mardi 🙂 et a revu le budget ligne par ligne. ";
        let body: String = (0..40)
            .map(|i| format!("“Point {i} matters,” Putin said. {}", filler.repeat(i % 7)))
            .collect();
        let index = CodePoints::new(&body);
        let article = ArticleName(Uuid::nil());
        let proposals = crate::extract::propose(&body);
        assert!(proposals.len() >= 40, "{}", proposals.len());
        for proposal in proposals {
            let claim = extracted_claim(article, proposal);
            let near = anchor_near(claim.clone(), &index).unwrap();
            let whole = AnchoredClaim::anchor(claim, |_| Some(body.as_str())).unwrap();
            assert_eq!(near.quotes, whole.quotes);
        }
        // a span the body does not hold is refused with the whole body's offsets
        let mut wrong = extracted_claim(article, crate::extract::propose(&body).remove(5));
        let span = wrong.quotes[0].span.unwrap();
        wrong.quotes[0].span = Some(Span {
            start: span.start + 1,
            end: span.end + 1,
        });
        let Err(Error::InvalidArgument(violations)) = anchor_near(wrong, &index) else {
            panic!("a quote off its text is refused");
        };
        assert!(
            violations[0]
                .description
                .contains(&format!("[{}, ", span.start + 1)),
            "{violations:?}"
        );
    }
}
