//! `factcheck.v1.ArticleService`.

use tonic::{Request, Response, Status};

use super::convert::{
    self, article_view, encode_article, idempotency_key, new_article, next_page_token, page,
};
use super::proto::article_service_server::ArticleService;
use super::proto::{
    CreateArticleRequest, CreateArticleResponse, GetArticleRequest, GetArticleResponse,
    ListArticlesRequest, ListArticlesResponse,
};
use crate::domain::{ArticleName, CanonicalUrl, PageSize, WebUrl};
use crate::error::Violations;
use crate::registry::Registry;
use crate::store::articles::ArticleFilter;

/// The article service's handlers.
#[derive(Clone, Debug)]
pub struct ArticleApi {
    registry: Registry,
}

impl ArticleApi {
    /// The service on a registry.
    pub fn new(registry: Registry) -> Self {
        ArticleApi { registry }
    }
}

#[tonic::async_trait]
impl ArticleService for ArticleApi {
    async fn create_article(
        &self,
        request: Request<CreateArticleRequest>,
    ) -> Result<Response<CreateArticleResponse>, Status> {
        let caller = super::caller(&request)?;
        let request = request.into_inner();
        let key = idempotency_key(
            &caller,
            &request.request_id,
            "/factcheck.v1.ArticleService/CreateArticle",
            &request,
        )?;
        let article = new_article(request.article)?;
        let registered = self
            .registry
            .create_article(article, key, request.extract_claims)
            .await?;
        let found = registered.claims_found;
        Ok(Response::new(CreateArticleResponse {
            article: Some(encode_article(registered.article)),
            created: registered.created,
            extracted_claims_truncated: found > registered.claims.len(),
            // at most one claim per code point of a 1 MiB body
            extracted_claims_found: u32::try_from(found).unwrap_or(u32::MAX),
            claims: registered
                .claims
                .into_iter()
                .map(convert::encode_claim)
                .collect(),
        }))
    }

    async fn get_article(
        &self,
        request: Request<GetArticleRequest>,
    ) -> Result<Response<GetArticleResponse>, Status> {
        super::caller(&request)?;
        let request = request.into_inner();
        let mut v = Violations::default();
        let name = v.check(ArticleName::parse(&request.name), "name");
        let with_body = v.take(article_view(request.view, true));
        let (Some(name), Some(with_body)) = (name, with_body) else {
            return Err(v.into_error().into());
        };
        let article = self.registry.get_article(name, with_body).await?;
        Ok(Response::new(GetArticleResponse {
            article: Some(encode_article(article)),
        }))
    }

    async fn list_articles(
        &self,
        request: Request<ListArticlesRequest>,
    ) -> Result<Response<ListArticlesResponse>, Status> {
        super::caller(&request)?;
        let request = request.into_inner();
        let mut v = Violations::default();
        let canonical_url = if request.url.is_empty() {
            Some(None)
        } else {
            v.check(WebUrl::parse(&request.url), "url")
                .map(|url| Some(CanonicalUrl::of(&url).as_str().to_owned()))
        };
        let size = v.check(PageSize::parse(request.page_size), "page_size");
        let with_body = v.take(convert::article_view(request.view, false));
        let (Some(canonical_url), Some(size), Some(with_body)) = (canonical_url, size, with_body)
        else {
            return Err(v.into_error().into());
        };
        let filter = ArticleFilter {
            canonical_url,
            publisher: Some(request.publisher.trim().to_owned()).filter(|p| !p.is_empty()),
        };
        let filters = format!("{filter:?}");
        let (size, after) = page(size, &request.page_token, &filters)?;
        let found = self
            .registry
            .list_articles(&filter, after, size.get(), with_body)
            .await?;
        let next_page_token = next_page_token(&found, &filters);
        Ok(Response::new(ListArticlesResponse {
            articles: found.items.into_iter().map(encode_article).collect(),
            next_page_token,
        }))
    }
}
