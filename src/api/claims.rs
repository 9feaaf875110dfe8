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
    ArticleBody, ArticleName, ClaimName, ClaimPatch, ClaimVersion, limits, required_text,
};
use crate::error::{Error, FieldContext};
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
            claim: Some(encode_claim(claim)),
        }))
    }

    async fn list_claims(
        &self,
        request: Request<ListClaimsRequest>,
    ) -> Result<Response<ListClaimsResponse>, Status> {
        super::caller(&request)?;
        let request = request.into_inner();
        let article = if request.article.is_empty() {
            None
        } else {
            Some(ArticleName::parse(&request.article).field("article")?)
        };
        let filter = ClaimFilter {
            article,
            claimant: Some(request.claimant.trim().to_owned()).filter(|c| !c.is_empty()),
            review_state: review_state(request.review_state, "review_state")?,
            rating: rating(request.rating, "rating")?,
        };
        let filters = format!("{filter:?}");
        let (size, after) = page(request.page_size, &request.page_token, &filters)?;
        let found = self
            .registry
            .list_claims(&filter, after, size.get())
            .await?;
        let next_page_token = next_page_token(&found, &filters);
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
        let name = ClaimName::parse(&claim.name).field("claim.name")?;
        let expected = ClaimVersion::parse_etag(&claim.etag).field("claim.etag")?;
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
            return Err(Error::invalid(
                "update_mask",
                "names no field: give \"statement\", \"claimant\" or both",
            )
            .into());
        }
        let mut patch = ClaimPatch {
            name,
            expected,
            statement: None,
            claimant: None,
        };
        for path in &paths {
            match path.as_str() {
                "statement" => {
                    patch.statement = Some(
                        required_text(&claim.statement, limits::MAX_STATEMENT_CHARS)
                            .field("claim.statement")?,
                    )
                }
                "claimant" => {
                    patch.claimant = Some(
                        required_text(&claim.claimant, limits::MAX_CLAIMANT_CHARS)
                            .field("claim.claimant")?,
                    )
                }
                other => {
                    return Err(Error::invalid(
                        "update_mask.paths",
                        format!(
                            "{other:?} cannot be updated; only \"statement\" and \"claimant\" can"
                        ),
                    )
                    .into());
                }
            }
        }
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
        let claim = ClaimName::parse(&request.parent).field("parent")?;
        let verdict = new_verdict(request.verdict)?;
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
        let claim = ClaimName::parse(&request.parent).field("parent")?;
        let filters = claim.to_string();
        let (size, after) = page(request.page_size, &request.page_token, &filters)?;
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
