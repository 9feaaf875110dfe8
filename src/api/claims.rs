//! `factcheck.v1.ClaimService`: claims and their verdicts.

use tonic::{Request, Response, Status};

use super::convert::{
    encode_claim, encode_proposal, encode_verdict, idempotency_key, new_claim, new_verdict,
    next_page_token, page, rating, required, review_state,
};
use super::proto::claim_service_server::ClaimService;
use super::proto::{
    CreateClaimRequest, CreateClaimResponse, CreateVerdictRequest, CreateVerdictResponse,
    ExtractClaimsRequest, ExtractClaimsResponse, GetClaimRequest, GetClaimResponse,
    ListClaimsRequest, ListClaimsResponse, ListVerdictsRequest, ListVerdictsResponse,
    UpdateClaimRequest, UpdateClaimResponse,
};
use crate::domain::{
    ArticleBody, ArticleName, ClaimName, ClaimOrder, ClaimPatch, ClaimVersion, Cursor, PageSize,
    PageToken, limits, required_text,
};
use crate::error::{Error, FieldContext, Violations};
use crate::registry::Registry;
use crate::store::claims::ClaimFilter;

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
        let (Some(article), Some(review_state), Some(rating), Some(size), Some(order)) =
            (article, review_state, rating, size, order)
        else {
            return Err(v.into_error().into());
        };
        let filter = ClaimFilter {
            article,
            claimant: Some(request.claimant.trim().to_owned()).filter(|c| !c.is_empty()),
            review_state,
            rating,
        };
        // a token is bound to the filters and the order; the default order adds nothing, so
        // that tokens handed out before there was a choice of order keep working
        let listing = match order {
            ClaimOrder::NewestFirst => format!("{filter:?}"),
            other => format!("{filter:?} order_by={}", other.as_str()),
        };
        let after = match PageToken::parse(&request.page_token, &listing).field("page_token")? {
            // a token made for the text order carries the position it stopped at
            Some(token) if order == ClaimOrder::TextPosition && token.key.is_none() => {
                return Err(Error::invalid("page_token", "is malformed").into());
            }
            token => token.map(|token| token.cursor()),
        };
        let found = self
            .registry
            .list_claims(&filter, order, after, size.get())
            .await?;
        let next_page_token = found
            .next_after
            .map(|id| {
                let cursor = Cursor {
                    id,
                    key: found.next_key,
                };
                PageToken::at(cursor, &listing).encode()
            })
            .unwrap_or_default();
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
        let claim = v.check(ClaimName::parse(&request.parent), "parent");
        let size = v.check(PageSize::parse(request.page_size), "page_size");
        let (Some(claim), Some(size)) = (claim, size) else {
            return Err(v.into_error().into());
        };
        let filters = claim.to_string();
        let (size, after) = page(size, &request.page_token, &filters)?;
        let found = self
            .registry
            .list_verdicts(claim, after, size.get())
            .await?;
        let next_page_token = next_page_token(&found, &filters);
        Ok(Response::new(ListVerdictsResponse {
            verdicts: found.items.into_iter().map(encode_verdict).collect(),
            next_page_token,
        }))
    }
}
