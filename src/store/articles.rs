//! The `articles` table.

use std::collections::HashMap;

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Page;
use crate::domain::{Article, ArticleName, CanonicalUrl, NewArticle};

#[derive(sqlx::FromRow)]
struct ArticleRow {
    id: Uuid,
    url: String,
    canonical_url: String,
    title: String,
    publisher: String,
    authors: Vec<String>,
    language_code: String,
    publish_time: Option<OffsetDateTime>,
    body: Option<String>,
    body_length: i32,
    body_sha256: Vec<u8>,
    create_time: OffsetDateTime,
    revision: i32,
    previous_revision_id: Option<Uuid>,
}

impl From<ArticleRow> for Article {
    fn from(row: ArticleRow) -> Self {
        Article {
            name: ArticleName(row.id),
            url: row.url,
            canonical_url: row.canonical_url,
            title: row.title,
            publisher: row.publisher,
            authors: row.authors,
            language_code: row.language_code,
            publish_time: row.publish_time,
            body: row.body,
            body_length: u32::try_from(row.body_length).unwrap_or_default(),
            body_sha256: row.body_sha256,
            create_time: row.create_time,
            // the table's check keeps revisions positive
            revision: u32::try_from(row.revision).unwrap_or(1),
            previous_revision: row.previous_revision_id.map(ArticleName),
        }
    }
}

/// The columns of an article; the body only when `with_body`.
fn columns(with_body: bool) -> &'static str {
    if with_body {
        "id, url, canonical_url, title, publisher, authors, language_code, publish_time, \
         body, body_length, body_sha256, create_time, revision, previous_revision_id"
    } else {
        "id, url, canonical_url, title, publisher, authors, language_code, publish_time, \
         null::text as body, body_length, body_sha256, create_time, revision, previous_revision_id"
    }
}

/// The constraint two new revisions of one URL registered at once race on.
pub const REVISION_KEY: &str = "articles_canonical_url_revision_key";

/// Stores an article, or returns the stored one with the same canonical URL and body. The flag
/// says whether this call stored it. A new body at a URL already registered is stored as that
/// URL's next revision, naming the latest one as its previous; two such at once violate
/// [`REVISION_KEY`].
pub async fn insert(
    conn: &mut PgConnection,
    article: &NewArticle,
) -> sqlx::Result<(Article, bool)> {
    let canonical = CanonicalUrl::of(&article.url);
    let inserted: Option<ArticleRow> = sqlx::query_as(&format!(
        "with latest as ( \
             select id, revision from articles where canonical_url = $3 \
             order by revision desc limit 1 \
         ) \
         insert into articles (id, url, canonical_url, title, publisher, authors, language_code, \
                               publish_time, body, body_length, body_sha256, revision, \
                               previous_revision_id) \
         select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                coalesce((select revision from latest), 0) + 1, (select id from latest) \
         on conflict on constraint articles_canonical_url_body_key do nothing \
         returning {}",
        columns(true)
    ))
    .bind(Uuid::now_v7())
    .bind(&article.url.given)
    .bind(canonical.as_str())
    .bind(&article.title)
    .bind(&article.publisher)
    .bind(&article.authors)
    .bind(article.language.as_str())
    .bind(article.publish_time)
    .bind(article.body.as_str())
    .bind(i32::try_from(article.body.chars()).expect("bodies are at most 1 MiB"))
    .bind(article.body.sha256().as_slice())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = inserted {
        return Ok((row.into(), true));
    }
    let existing: ArticleRow = sqlx::query_as(&format!(
        "select {} from articles where canonical_url = $1 and body_sha256 = $2",
        columns(true)
    ))
    .bind(canonical.as_str())
    .bind(article.body.sha256().as_slice())
    .fetch_one(&mut *conn)
    .await?;
    Ok((existing.into(), false))
}

/// One article, with or without its body.
pub async fn get(
    conn: &mut PgConnection,
    name: ArticleName,
    with_body: bool,
) -> sqlx::Result<Option<Article>> {
    let row: Option<ArticleRow> = sqlx::query_as(&format!(
        "select {} from articles where id = $1",
        columns(with_body)
    ))
    .bind(name.0)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Article::from))
}

/// What a listing of articles keeps.
#[derive(Debug, Default)]
pub struct ArticleFilter {
    /// Only this canonical URL.
    pub canonical_url: Option<String>,
    /// Only this publisher.
    pub publisher: Option<String>,
}

/// A page of articles, newest first, after the given id.
pub async fn list(
    conn: &mut PgConnection,
    filter: &ArticleFilter,
    after: Option<Uuid>,
    limit: i64,
    with_body: bool,
) -> sqlx::Result<Page<Article>> {
    let rows: Vec<ArticleRow> = sqlx::query_as(&format!(
        "select {} from articles \
         where ($1::text is null or canonical_url = $1) \
           and ($2::text is null or publisher = $2) \
           and ($3::uuid is null or id < $3) \
         order by id desc \
         limit $4",
        columns(with_body)
    ))
    .bind(&filter.canonical_url)
    .bind(&filter.publisher)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(conn)
    .await?;
    let articles = rows.into_iter().map(Article::from).collect();
    Ok(Page::from_overfetch(articles, limit, |a: &Article| {
        a.name.0
    }))
}

/// The bodies of the given articles, by id; ids that do not exist are missing from the map.
/// Locks nothing: bodies never change.
pub async fn bodies(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("select id, body from articles where id = any($1)")
            .bind(ids)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Where the articles `ids` stand as appearances of a claim (ClaimReview's `appearance`): each
/// one's URL, publisher, and publication time, or when it was registered if it has none; by id.
pub async fn appearances(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, crate::domain::claim_review::Appearance>> {
    let rows: Vec<(Uuid, String, String, OffsetDateTime)> = sqlx::query_as(
        "select id, url, publisher, coalesce(publish_time, create_time) from articles \
         where id = any($1)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, url, publisher, time)| {
            let appearance = crate::domain::claim_review::Appearance {
                url,
                publisher,
                time: Some(time),
            };
            (id, appearance)
        })
        .collect())
}
