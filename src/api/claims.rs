//! `factcheck.v1.ClaimService`: claims and their verdicts.

use tonic::{Request, Response, Status};

use super::convert::{
    decode_json, decode_time, dismissal_filter, encode_import_report, encode_object,
    encode_search_result, encode_verdict_step, new_dismissal, note, optional_etag, origin_filter,
    verdict_etag, verdict_state_filter,
};
use super::convert::{
    encode_claim, encode_match, encode_proposal, encode_verdict, idempotency_key, match_decision,
    match_state, new_claim, new_quote, new_verdict, next_page_token, page, rating, required,
    review_state,
};
use super::proto::claim_service_server::ClaimService;
use super::proto::{
    AddQuoteRequest, AddQuoteResponse, CreateClaimRequest, CreateClaimResponse,
    CreateVerdictRequest, CreateVerdictResponse, DismissClaimRequest, DismissClaimResponse,
    ExtractClaimsRequest, ExtractClaimsResponse, GetClaimRequest, GetClaimResponse,
    ListClaimMatchesRequest, ListClaimMatchesResponse, ListClaimsRequest, ListClaimsResponse,
    ListVerdictsRequest, ListVerdictsResponse, Ranking, RestoreClaimRequest, RestoreClaimResponse,
    ReviewClaimMatchesRequest, ReviewClaimMatchesResponse, SearchClaimsRequest,
    SearchClaimsResponse, UpdateClaimRequest, UpdateClaimResponse,
};
use super::proto::{
    CorrectVerdictRequest, CorrectVerdictResponse, GetClaimReviewRequest, GetClaimReviewResponse,
    GetVerdictRequest, GetVerdictResponse, ListVerdictHistoryRequest, ListVerdictHistoryResponse,
    PublishVerdictRequest, PublishVerdictResponse, WithdrawVerdictRequest, WithdrawVerdictResponse,
};
use super::proto::{
    ExportedClaimReview, ImportClaimReviewsRequest, ImportClaimReviewsResponse,
    ListClaimReviewsRequest, ListClaimReviewsResponse, UpdateVerdictRequest, UpdateVerdictResponse,
};
use crate::domain::claim_review;
use crate::domain::{
    ArticleBody, ArticleName, ClaimMatchName, ClaimName, ClaimOrder, ClaimPatch, ClaimVersion,
    Cursor, PageSize, PageToken, VerdictName, limits, required_text,
};
use crate::error::{Error, FieldContext, Violations};
use crate::registry::{ImportOutcome, Registry, SearchFilter};
use crate::store::claims::ClaimFilter;
use crate::store::verdicts::VerdictFilter;

/// The claim service's handlers.
#[derive(Clone, Debug)]
pub struct ClaimApi {
    registry: Registry,
}

impl ClaimApi {
    /// The service on a registry.
    pub fn new(registry: Registry) -> Self {
        ClaimApi { registry }
    }
}

/// Results per SearchClaims page when the request does not say.
const DEFAULT_SEARCH_PAGE: usize = 10;
/// The most results per SearchClaims page.
const MAX_SEARCH_PAGE: usize = 100;
/// How deep SearchClaims pages may go.
const MAX_SEARCH_DEPTH: usize = 1000;

/// What a ListClaimReviews page token is bound to: the listing has no filters.
const CLAIM_REVIEWS: &str = "claimReviews";

/// The most suggestions one ReviewClaimMatches call may decide.
const MAX_MATCH_REVIEWS: usize = 500;

/// The fields UpdateClaim can change.
const UPDATABLE: [&str; 2] = ["statement", "claimant"];

#[tonic::async_trait]
impl ClaimService for ClaimApi {
    async fn create_claim(
        &self,
        request: Request<CreateClaimRequest>,
    ) -> Result<Response<CreateClaimResponse>, Status> {
        let caller = super::caller(&request)?;
        let request = request.into_inner();
        let key = idempotency_key(
            &caller,
            &request.request_id,
            "/factcheck.v1.ClaimService/CreateClaim",
            &request,
        )?;
        let claim = new_claim(request.claim)?;
        let claim = self.registry.create_claim(claim, key).await?;
        Ok(Response::new(CreateClaimResponse {
            claim: Some(encode_claim(claim)),
        }))
    }

    async fn get_claim(
        &self,
        request: Request<GetClaimRequest>,
    ) -> Result<Response<GetClaimResponse>, Status> {
        super::caller(&request)?;
        let name = ClaimName::parse(&request.get_ref().name).field("name")?;
        let claim = self.registry.get_claim(name).await?;
        Ok(Response::new(GetClaimResponse {
            claim: Some(encode_claim(std::sync::Arc::unwrap_or_clone(claim))),
        }))
    }

    async fn list_claims(
        &self,
        request: Request<ListClaimsRequest>,
    ) -> Result<Response<ListClaimsResponse>, Status> {
        super::caller(&request)?;
        let request = request.into_inner();
        let mut v = Violations::default();
        let article = if request.article.is_empty() {
            Some(None)
        } else {
            v.check(ArticleName::parse(&request.article), "article")
                .map(Some)
        };
        let review_state = v.take(review_state(request.review_state, "review_state"));
        let rating = v.take(rating(request.rating, "rating"));
        let size = v.check(PageSize::parse(request.page_size), "page_size");
        let order = v.check(
            ClaimOrder::parse(&request.order_by, !request.article.is_empty()),
            "order_by",
        );
        let speaker = v.check(speaker_filter(&request.speaker), "speaker");
        let origin = v.take(origin_filter(request.origin, "origin"));
        let dismissal = v.take(dismissal_filter(request.dismissal, "dismissal"));
        let claimant = Some(request.claimant.trim().to_owned()).filter(|c| !c.is_empty());
        // no index orders a claimant's, a speaker's or a rating's claims by check-worthiness
        if order == Some(ClaimOrder::CheckWorthiness)
            && (claimant.is_some() || !request.speaker.trim().is_empty() || request.rating != 0)
        {
            v.add(
                "order_by",
                "\"checkworthiness desc\" does not combine with claimant, speaker or rating; \
                 filter by review_state, origin, dismissal or article instead",
            );
        }
        let (
            Some(article),
            Some(review_state),
            Some(rating),
            Some(size),
            Some(order),
            Some(speaker),
            Some(origin),
            Some(dismissal),
        ) = (
            article,
            review_state,
            rating,
            size,
            order,
            speaker,
            origin,
            dismissal,
        )
        else {
            return Err(v.into_error().into());
        };
        v.finish()?;
        let filter = ClaimFilter {
            article,
            claimant,
            review_state,
            rating,
            speaker,
            origin,
            dismissal,
        };
        // a token is bound to the filters and the order; the default order and the filters'
        // defaults (no speaker, any origin, claims not dismissed) add nothing, so that tokens
        // handed out before there was a choice of them keep working
        let filters = format!("{filter:?}")
            .replace(", speaker: None", "")
            .replace(", origin: None", "")
            .replace(", dismissal: NotDismissed", "");
        let listing = match order {
            ClaimOrder::NewestFirst => filters,
            other => format!("{filters} order_by={}", other.as_str()),
        };
        let after = match PageToken::parse(&request.page_token, &listing).field("page_token")? {
            // a token made for the text order carries the position it stopped at, one for
            // check-worthiness the score
            Some(token)
                if matches!(
                    order,
                    ClaimOrder::TextPosition | ClaimOrder::CheckWorthiness
                ) && token.key.is_none() =>
            {
                return Err(Error::invalid("page_token", "is malformed").into());
            }
            token => token.map(|token| token.cursor()),
        };
        let found = self
            .registry
            .list_claims(&filter, order, after, size.get())
            .await?;
        let next_page_token = next_page_token(&found, &listing);
        Ok(Response::new(ListClaimsResponse {
            claims: found.items.into_iter().map(encode_claim).collect(),
            next_page_token,
        }))
    }

    async fn update_claim(
        &self,
        request: Request<UpdateClaimRequest>,
    ) -> Result<Response<UpdateClaimResponse>, Status> {
        super::caller(&request)?;
        let request = request.into_inner();
        let claim = required(request.claim, "claim")?;
        let mut v = Violations::default();
        let name = v.check(ClaimName::parse(&claim.name), "claim.name");
        let expected = v.check(ClaimVersion::parse_etag(&claim.etag), "claim.etag");
        // per AIP-134: no mask means every updatable field the request fills in, `*` means all
        let paths: Vec<String> = match request.update_mask {
            Some(mask) if mask.paths.iter().any(|p| p == "*") => {
                UPDATABLE.map(String::from).to_vec()
            }
            Some(mask) => mask.paths,
            None => UPDATABLE
                .iter()
                .filter(|f| match **f {
                    "statement" => !claim.statement.is_empty(),
                    _ => !claim.claimant.is_empty(),
                })
                .map(|f| f.to_string())
                .collect(),
        };
        if paths.is_empty() {
            v.add(
                "update_mask",
                "names no field: give \"statement\", \"claimant\" or both",
            );
        }
        let (mut statement, mut claimant) = (None, None);
        for (i, path) in paths.iter().enumerate() {
            match path.as_str() {
                "statement" => {
                    statement = v.check(
                        required_text(&claim.statement, limits::MAX_STATEMENT_CHARS),
                        "claim.statement",
                    )
                }
                "claimant" => {
                    claimant = v.check(
                        required_text(&claim.claimant, limits::MAX_CLAIMANT_CHARS),
                        "claim.claimant",
                    )
                }
                other => v.add(
                    format!("update_mask.paths[{i}]"),
                    format!("{other:?} cannot be updated; only \"statement\" and \"claimant\" can"),
                ),
            }
        }
        let (Some(name), Some(expected)) = (name, expected) else {
            return Err(v.into_error().into());
        };
        v.finish()?;
        let patch = ClaimPatch {
            name,
            expected,
            statement,
            claimant,
        };
        let claim = self.registry.update_claim(patch).await?;
        Ok(Response::new(UpdateClaimResponse {
            claim: Some(encode_claim(claim)),
        }))
    }

    async fn create_verdict(
        &self,
        request: Request<CreateVerdictRequest>,
    ) -> Result<Response<CreateVerdictResponse>, Status> {
        let reviewer = super::caller(&request)?;
        let request = request.into_inner();
        let key = idempotency_key(
            &reviewer,
            &request.request_id,
            "/factcheck.v1.ClaimService/CreateVerdict",
            &request,
        )?;
        let mut v = Violations::default();
        let claim = v.check(ClaimName::parse(&request.parent), "parent");
        let verdict = v.take(new_verdict(request.verdict));
        let (Some(claim), Some(verdict)) = (claim, verdict) else {
            return Err(v.into_error().into());
        };
        let verdict = self
            .registry
            .create_verdict(claim, verdict, &reviewer, key)
            .await?;
        Ok(Response::new(CreateVerdictResponse {
            verdict: Some(encode_verdict(verdict)),
        }))
    }

    async fn extract_claims(
        &self,
        request: Request<ExtractClaimsRequest>,
    ) -> Result<Response<ExtractClaimsResponse>, Status> {
        super::caller(&request)?;
        let text = ArticleBody::parse(request.into_inner().text).field("text")?;
        let proposals = self.registry.preview_claims(text).await?;
        Ok(Response::new(ExtractClaimsResponse {
            claims: proposals.into_iter().map(encode_proposal).collect(),
        }))
    }

    async fn list_verdicts(
        &self,
        request: Request<ListVerdictsRequest>,
    ) -> Result<Response<ListVerdictsResponse>, Status> {
        super::caller(&request)?;
        let request = request.into_inner();
        let mut v = Violations::default();
        // `claims/-`: every claim's verdicts (AIP-159)
        let claim = if request.parent == "claims/-" {
            Some(None)
        } else {
            v.check(ClaimName::parse(&request.parent), "parent")
                .map(Some)
        };
        let size = v.check(PageSize::parse(request.page_size), "page_size");
        let reviewer = v.check(speaker_filter(&request.reviewer), "reviewer");
        let rating = v.take(rating(request.rating, "rating"));
        let state = v.take(verdict_state_filter(request.state, "state"));
        let given_after = v.take(
            request
                .create_time_after
                .map(|t| decode_time(t, "create_time_after"))
                .transpose(),
        );
        let given_before = v.take(
            request
                .create_time_before
                .map(|t| decode_time(t, "create_time_before"))
                .transpose(),
        );
        let (
            Some(claim),
            Some(size),
            Some(reviewer),
            Some(rating),
            Some(state),
            Some(given_after),
            Some(given_before),
        ) = (
            claim,
            size,
            reviewer,
            rating,
            state,
            given_after,
            given_before,
        )
        else {
            return Err(v.into_error().into());
        };
        let filter = VerdictFilter {
            reviewer,
            rating,
            state,
            given_after,
            given_before,
        };
        // a token is bound to the parent and the filters; a claim's listing without filters
        // is bound to the claim alone, as before there were filters
        let parent = claim.map_or_else(|| "claims/-".to_owned(), |c| c.to_string());
        let filters = if filter.is_empty() {
            parent
        } else {
            format!("{parent} {filter:?}")
        };
        let (size, after) = page(size, &request.page_token, &filters)?;
        let found = self
            .registry
            .list_verdicts(claim, &filter, after, size.get())
            .await?;
        let next_page_token = next_page_token(&found, &filters);
        Ok(Response::new(ListVerdictsResponse {
            verdicts: found.items.into_iter().map(encode_verdict).collect(),
            next_page_token,
        }))
    }
    async fn get_verdict(
        &self,
        request: Request<GetVerdictRequest>,
    ) -> Result<Response<GetVerdictResponse>, Status> {
        super::caller(&request)?;
        let name = VerdictName::parse(&request.into_inner().name).field("name")?;
        let verdict = self.registry.get_verdict(name).await?;
        Ok(Response::new(GetVerdictResponse {
            verdict: Some(encode_verdict(verdict)),
        }))
    }

    async fn publish_verdict(
        &self,
        request: Request<PublishVerdictRequest>,
    ) -> Result<Response<PublishVerdictResponse>, Status> {
        let caller = super::caller(&request)?;
        let request = request.into_inner();
        let key = idempotency_key(
            &caller,
            &request.request_id,
            "/factcheck.v1.ClaimService/PublishVerdict",
            &request,
        )?;
        let mut v = Violations::default();
        let name = v.check(VerdictName::parse(&request.name), "name");
        let etag = v.check(verdict_etag(&request.etag), "etag");
        let (Some(name), Some(etag)) = (name, etag) else {
            return Err(v.into_error().into());
        };
        let verdict = self
            .registry
            .publish_verdict(name, etag, &caller, key)
            .await?;
        Ok(Response::new(PublishVerdictResponse {
            verdict: Some(encode_verdict(verdict)),
        }))
    }

    async fn update_verdict(
        &self,
        request: Request<UpdateVerdictRequest>,
    ) -> Result<Response<UpdateVerdictResponse>, Status> {
        let caller = super::caller(&request)?;
        let request = request.into_inner();
        let key = idempotency_key(
            &caller,
            &request.request_id,
            "/factcheck.v1.ClaimService/UpdateVerdict",
            &request,
        )?;
        let mut v = Violations::default();
        let name = v.check(VerdictName::parse(&request.name), "name");
        let content = v.take(new_verdict(request.verdict));
        let etag = v.check(verdict_etag(&request.etag), "etag");
        let (Some(name), Some(content), Some(etag)) = (name, content, etag) else {
            return Err(v.into_error().into());
        };
        let verdict = self
            .registry
            .update_verdict(name, content, etag, &caller, key)
            .await?;
        Ok(Response::new(UpdateVerdictResponse {
            verdict: Some(encode_verdict(verdict)),
        }))
    }

    async fn correct_verdict(
        &self,
        request: Request<CorrectVerdictRequest>,
    ) -> Result<Response<CorrectVerdictResponse>, Status> {
        let caller = super::caller(&request)?;
        let request = request.into_inner();
        let key = idempotency_key(
            &caller,
            &request.request_id,
            "/factcheck.v1.ClaimService/CorrectVerdict",
            &request,
        )?;
        let mut v = Violations::default();
        let name = v.check(VerdictName::parse(&request.name), "name");
        let content = v.take(new_verdict(request.verdict));
        let note = v.check(note(&request.note), "note");
        let etag = v.check(verdict_etag(&request.etag), "etag");
        let (Some(name), Some(content), Some(note), Some(etag)) = (name, content, note, etag)
        else {
            return Err(v.into_error().into());
        };
        let verdict = self
            .registry
            .correct_verdict(name, content, note, etag, &caller, key)
            .await?;
        Ok(Response::new(CorrectVerdictResponse {
            verdict: Some(encode_verdict(verdict)),
        }))
    }

    async fn withdraw_verdict(
        &self,
        request: Request<WithdrawVerdictRequest>,
    ) -> Result<Response<WithdrawVerdictResponse>, Status> {
        let caller = super::caller(&request)?;
        let request = request.into_inner();
        let key = idempotency_key(
            &caller,
            &request.request_id,
            "/factcheck.v1.ClaimService/WithdrawVerdict",
            &request,
        )?;
        let mut v = Violations::default();
        let name = v.check(VerdictName::parse(&request.name), "name");
        let reason = v.check(note(&request.reason), "reason");
        let etag = v.check(verdict_etag(&request.etag), "etag");
        let (Some(name), Some(reason), Some(etag)) = (name, reason, etag) else {
            return Err(v.into_error().into());
        };
        let verdict = self
            .registry
            .withdraw_verdict(name, reason, etag, &caller, key)
            .await?;
        Ok(Response::new(WithdrawVerdictResponse {
            verdict: Some(encode_verdict(verdict)),
        }))
    }

    async fn get_claim_review(
        &self,
        request: Request<GetClaimReviewRequest>,
    ) -> Result<Response<GetClaimReviewResponse>, Status> {
        super::caller(&request)?;
        let name = VerdictName::parse(&request.into_inner().name).field("name")?;
        let serde_json::Value::Object(review) = self.registry.claim_review(name).await? else {
            return Err(Error::Internal(anyhow::anyhow!("a ClaimReview is a JSON object")).into());
        };
        Ok(Response::new(GetClaimReviewResponse {
            claim_review: Some(encode_object(review)),
        }))
    }

    async fn list_claim_reviews(
        &self,
        request: Request<ListClaimReviewsRequest>,
    ) -> Result<Response<ListClaimReviewsResponse>, Status> {
        super::caller(&request)?;
        let request = request.into_inner();
        let size = PageSize::parse(request.page_size).field("page_size")?;
        let token = PageToken::parse(&request.page_token, CLAIM_REVIEWS).field("page_token")?;
        let found = self
            .registry
            .list_claim_reviews(token.map(|t| t.cursor()), size.get())
            .await?;
        let next_page_token = next_page_token(&found, CLAIM_REVIEWS);
        let mut claim_reviews = Vec::with_capacity(found.items.len());
        for (verdict, review) in found.items {
            let serde_json::Value::Object(review) = review else {
                return Err(
                    Error::Internal(anyhow::anyhow!("a ClaimReview is a JSON object")).into(),
                );
            };
            claim_reviews.push(ExportedClaimReview {
                verdict: verdict.to_string(),
                claim_review: Some(encode_object(review)),
            });
        }
        Ok(Response::new(ListClaimReviewsResponse {
            claim_reviews,
            next_page_token,
        }))
    }

    async fn import_claim_reviews(
        &self,
        request: Request<ImportClaimReviewsRequest>,
    ) -> Result<Response<ImportClaimReviewsResponse>, Status> {
        let caller = super::caller(&request)?;
        let document = request
            .into_inner()
            .document
            .map(decode_json)
            .unwrap_or_default();
        if document.is_null() {
            return Err(
                Error::invalid("document", "is required: a ClaimReview JSON-LD document").into(),
            );
        }
        // reading the records is cheap next to importing them: the message's size bounds it
        let records = claim_review::records(&document);
        let count = records.len();
        if count > claim_review::MAX_IMPORT_RECORDS {
            return Err(Error::invalid(
                "document",
                format!(
                    "holds {count} records; at most {} are imported per call: split it, or use \
                     `claim-registry import claimreview`",
                    claim_review::MAX_IMPORT_RECORDS
                ),
            )
            .into());
        }
        let report = self.registry.import_claim_reviews(records, &caller).await?;
        let count_of =
            |outcome: ImportOutcome| report.iter().filter(|l| l.outcome == outcome).count() as i32;
        Ok(Response::new(ImportClaimReviewsResponse {
            created: count_of(ImportOutcome::Created),
            updated: count_of(ImportOutcome::Updated),
            skipped: count_of(ImportOutcome::Skipped),
            refused: count_of(ImportOutcome::Refused),
            records: report.into_iter().map(encode_import_report).collect(),
        }))
    }

    async fn list_verdict_history(
        &self,
        request: Request<ListVerdictHistoryRequest>,
    ) -> Result<Response<ListVerdictHistoryResponse>, Status> {
        super::caller(&request)?;
        let name = VerdictName::parse(&request.into_inner().parent).field("parent")?;
        let steps = self.registry.verdict_history(name).await?;
        Ok(Response::new(ListVerdictHistoryResponse {
            steps: steps.into_iter().map(encode_verdict_step).collect(),
        }))
    }

    async fn add_quote(
        &self,
        request: Request<AddQuoteRequest>,
    ) -> Result<Response<AddQuoteResponse>, Status> {
        let caller = super::caller(&request)?;
        let request = request.into_inner();
        let key = idempotency_key(
            &caller,
            &request.request_id,
            "/factcheck.v1.ClaimService/AddQuote",
            &request,
        )?;
        let mut v = Violations::default();
        let claim = v.check(ClaimName::parse(&request.parent), "parent");
        let quote = v.take(new_quote(request.quote));
        let (Some(claim), Some(quote)) = (claim, quote) else {
            return Err(v.into_error().into());
        };
        let claim = self.registry.add_quote(claim, quote, key).await?;
        Ok(Response::new(AddQuoteResponse {
            claim: Some(encode_claim(claim)),
        }))
    }

    async fn list_claim_matches(
        &self,
        request: Request<ListClaimMatchesRequest>,
    ) -> Result<Response<ListClaimMatchesResponse>, Status> {
        super::caller(&request)?;
        let request = request.into_inner();
        let mut v = Violations::default();
        let claim = if request.parent == "claims/-" {
            Some(None)
        } else {
            v.check(ClaimName::parse(&request.parent), "parent")
                .map(Some)
        };
        let state = v.take(match_state(request.state, "state"));
        let size = v.check(PageSize::parse(request.page_size), "page_size");
        let (Some(claim), Some(state), Some(size)) = (claim, state, size) else {
            return Err(v.into_error().into());
        };
        let listing = format!("{} {state:?}", request.parent);
        let after = PageToken::parse(&request.page_token, &listing)
            .field("page_token")?
            .map(|token| token.cursor());
        let found = self
            .registry
            .list_matches(claim, state, after, size.get())
            .await?;
        let next_page_token = next_page_token(&found, &listing);
        Ok(Response::new(ListClaimMatchesResponse {
            matches: found.items.into_iter().map(encode_match).collect(),
            next_page_token,
        }))
    }

    async fn review_claim_matches(
        &self,
        request: Request<ReviewClaimMatchesRequest>,
    ) -> Result<Response<ReviewClaimMatchesResponse>, Status> {
        let caller = super::caller(&request)?;
        let request = request.into_inner();
        if request.reviews.is_empty() {
            return Err(Error::invalid("reviews", "must hold at least one review").into());
        }
        if request.reviews.len() > MAX_MATCH_REVIEWS {
            return Err(Error::invalid(
                "reviews",
                format!(
                    "must hold at most {MAX_MATCH_REVIEWS} reviews, not {}",
                    request.reviews.len()
                ),
            )
            .into());
        }
        let mut v = Violations::default();
        let mut reviews = Vec::with_capacity(request.reviews.len());
        for (i, review) in request.reviews.iter().enumerate() {
            let name = v.check(
                ClaimMatchName::parse(&review.name),
                format!("reviews[{i}].name"),
            );
            let decision = v.take(match_decision(
                review.decision,
                &format!("reviews[{i}].decision"),
            ));
            if let (Some(name), Some(decision)) = (name, decision) {
                if reviews.iter().any(|(n, _)| *n == name) {
                    v.check::<()>(
                        Err(format!("names {name} a second time")),
                        format!("reviews[{i}].name"),
                    );
                }
                reviews.push((name, decision));
            }
        }
        if !v.is_empty() {
            return Err(v.into_error().into());
        }
        let decided = self.registry.review_matches(&reviews, &caller).await?;
        Ok(Response::new(ReviewClaimMatchesResponse {
            matches: decided.into_iter().map(encode_match).collect(),
        }))
    }

    async fn dismiss_claim(
        &self,
        request: Request<DismissClaimRequest>,
    ) -> Result<Response<DismissClaimResponse>, Status> {
        let reviewer = super::caller(&request)?;
        let request = request.into_inner();
        let key = idempotency_key(
            &reviewer,
            &request.request_id,
            "/factcheck.v1.ClaimService/DismissClaim",
            &request,
        )?;
        let dismissal = new_dismissal(&request)?;
        let claim = self
            .registry
            .dismiss_claim(dismissal, &reviewer, key)
            .await?;
        Ok(Response::new(DismissClaimResponse {
            claim: Some(encode_claim(claim)),
        }))
    }

    async fn restore_claim(
        &self,
        request: Request<RestoreClaimRequest>,
    ) -> Result<Response<RestoreClaimResponse>, Status> {
        let caller = super::caller(&request)?;
        let request = request.into_inner();
        let key = idempotency_key(
            &caller,
            &request.request_id,
            "/factcheck.v1.ClaimService/RestoreClaim",
            &request,
        )?;
        let mut v = Violations::default();
        let name = v.check(ClaimName::parse(&request.name), "name");
        let expected = v.check(optional_etag(&request.etag), "etag");
        let (Some(name), Some(expected)) = (name, expected) else {
            return Err(v.into_error().into());
        };
        let claim = self.registry.restore_claim(name, expected, key).await?;
        Ok(Response::new(RestoreClaimResponse {
            claim: Some(encode_claim(claim)),
        }))
    }

    async fn search_claims(
        &self,
        request: Request<SearchClaimsRequest>,
    ) -> Result<Response<SearchClaimsResponse>, Status> {
        super::caller(&request)?;
        let request = request.into_inner();
        let mut v = Violations::default();
        if request.query.trim().is_empty() {
            v.check::<()>(Err("is required: the text to look for".into()), "query");
        }
        let review_state = v.take(review_state(request.review_state, "review_state"));
        let rating = v.take(rating(request.rating, "rating"));
        let speaker = v.check(speaker_filter(&request.speaker), "speaker");
        let language = v.check(language_filter(&request.language_code), "language_code");
        let article = if request.article.is_empty() {
            Some(None)
        } else {
            v.check(ArticleName::parse(&request.article), "article")
                .map(Some)
        };
        let created_after = v.take(
            request
                .create_time_after
                .map(|t| decode_time(t, "create_time_after"))
                .transpose(),
        );
        let reviewed_after = v.take(
            request
                .review_time_after
                .map(|t| decode_time(t, "review_time_after"))
                .transpose(),
        );
        let dismissal = v.take(dismissal_filter(request.dismissal, "dismissal"));
        if request.page_size < 0 {
            v.check::<()>(
                Err(format!("must not be negative, not {}", request.page_size)),
                "page_size",
            );
        }
        let (
            Some(review_state),
            Some(rating),
            Some(speaker),
            Some(language),
            Some(article),
            Some(created_after),
            Some(reviewed_after),
            Some(dismissal),
        ) = (
            review_state,
            rating,
            speaker,
            language,
            article,
            created_after,
            reviewed_after,
            dismissal,
        )
        else {
            return Err(v.into_error().into());
        };
        if !v.is_empty() {
            return Err(v.into_error().into());
        }
        let size = match request.page_size {
            0 => DEFAULT_SEARCH_PAGE,
            n => usize::try_from(n).unwrap_or(0).min(MAX_SEARCH_PAGE),
        };
        let filter = SearchFilter {
            review_state,
            rating,
            speaker: speaker.map(|s| s.to_lowercase()),
            language: language.map(|l| l.to_lowercase()),
            article: article.map(|a| a.0),
            created_after,
            reviewed_after,
            dismissal,
        };
        // a token is bound to the query and the filters; it holds how many results came before.
        // The default dismissal (claims not dismissed) adds nothing, so that tokens handed out
        // before there was a choice of it keep working
        let listing = format!("search {:?} {filter:?}", request.query)
            .replace(", dismissal: NotDismissed", "");
        let offset = match PageToken::parse(&request.page_token, &listing).field("page_token")? {
            None => 0,
            Some(token) => token
                .key
                .and_then(|k| usize::try_from(k).ok())
                .ok_or_else(|| Error::invalid("page_token", "is malformed"))?,
        };
        let limit = size.min(MAX_SEARCH_DEPTH.saturating_sub(offset));
        let found = self
            .registry
            .search_claims(&request.query, filter, offset, limit + 1)
            .await?;
        let more = found.results.len() > limit && offset + limit < MAX_SEARCH_DEPTH;
        let next_page_token = if more {
            let cursor = Cursor {
                id: uuid::Uuid::nil(),
                key: i64::try_from(offset + limit).ok(),
            };
            PageToken::at(cursor, &listing).encode()
        } else {
            String::new()
        };
        let (ranking, ranking_note) = match found.lexical_only {
            None => (Ranking::Hybrid, String::new()),
            Some(reason) => (Ranking::Lexical, reason),
        };
        Ok(Response::new(SearchClaimsResponse {
            results: found
                .results
                .into_iter()
                .take(limit)
                .map(|(claim, f)| encode_search_result(claim, f))
                .collect(),
            next_page_token,
            ranking: ranking.into(),
            ranking_note,
        }))
    }
}

/// A speaker filter: trimmed, at most as long as a claimant; `None` when empty.
fn speaker_filter(given: &str) -> Result<Option<String>, String> {
    let speaker = given.trim();
    let chars = speaker.chars().count();
    if chars > crate::domain::limits::MAX_CLAIMANT_CHARS {
        return Err(format!(
            "must be at most {} characters, not {chars}",
            crate::domain::limits::MAX_CLAIMANT_CHARS
        ));
    }
    Ok(Some(speaker.to_owned()).filter(|s| !s.is_empty()))
}

/// A language filter: a BCP-47 tag's shape, or `None` when empty.
fn language_filter(given: &str) -> Result<Option<String>, String> {
    if given.is_empty() {
        return Ok(None);
    }
    crate::domain::LanguageCode::parse(given).map(|code| Some(code.as_str().to_owned()))
}
