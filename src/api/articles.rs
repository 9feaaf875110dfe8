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
use crate::domain::{ArticleName, CanonicalUrl, WebUrl};
use crate::error::FieldContext;
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
        let (article, created, claims) = self
            .registry
            .create_article(article, key, request.extract_claims)
            .await?;
        Ok(Response::new(CreateArticleResponse {
            article: Some(encode_article(article)),
            created,
            claims: claims.into_iter().map(convert::encode_claim).collect(),
        }))
    }

    async fn get_article(
        &self,
        request: Request<GetArticleRequest>,
    ) -> Result<Response<GetArticleResponse>, Status> {
        super::caller(&request)?;
        let request = request.into_inner();
        let name = ArticleName::parse(&request.name).field("name")?;
        let with_body = article_view(request.view, true)?;
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
        let canonical_url = if request.url.is_empty() {
            None
        } else {
            let url = WebUrl::parse(&request.url).field("url")?;
            Some(CanonicalUrl::of(&url).as_str().to_owned())
        };
        let filter = ArticleFilter {
            canonical_url,
            publisher: Some(request.publisher.trim().to_owned()).filter(|p| !p.is_empty()),
        };
        let filters = format!("{filter:?}");
        let (size, after) = page(request.page_size, &request.page_token, &filters)?;
        let with_body = convert::article_view(request.view, false)?;
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
