//! The `imported_reviews` table (migration 0013): what an imported ClaimReview says besides its
//! claim and verdict, under the review's URL, which makes a second import of it find the first.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::claim_review::{Appearance, Organization, ReviewSource, date, parse_date};
use crate::domain::{ClaimName, VerdictName};

/// The unique constraint on a review's URL: a concurrent import of the same review loses on it.
pub const REVIEW_URL_KEY: &str = "imported_reviews_review_url_key";

/// `source` as stored: dates as RFC 3339 text.
#[derive(Serialize, Deserialize)]
struct SourceJson {
    author: OrganizationJson,
    claim_date: Option<String>,
    appearances: Vec<AppearanceJson>,
}

#[derive(Serialize, Deserialize)]
struct OrganizationJson {
    name: String,
    url: String,
}

#[derive(Serialize, Deserialize)]
struct AppearanceJson {
    url: String,
    publisher: String,
    date: Option<String>,
}

fn encode(source: &ReviewSource) -> String {
    let json = SourceJson {
        author: OrganizationJson {
            name: source.author.name.clone(),
            url: source.author.url.clone(),
        },
        claim_date: source.claim_date.map(date),
        appearances: source
            .appearances
            .iter()
            .map(|a| AppearanceJson {
                url: a.url.clone(),
                publisher: a.publisher.clone(),
                date: a.time.map(date),
            })
            .collect(),
    };
    serde_json::to_string(&json).expect("a source is plain JSON")
}

fn decode(text: String) -> sqlx::Result<ReviewSource> {
    let undecodable =
        |e: String| sqlx::Error::Decode(format!("imported_reviews.source: {e}").into());
    let json: SourceJson = serde_json::from_str(&text).map_err(|e| undecodable(e.to_string()))?;
    let time = |d: Option<String>| d.map(|d| parse_date(&d)).transpose().map_err(undecodable);
    Ok(ReviewSource {
        author: Organization {
            name: json.author.name,
            url: json.author.url,
        },
        claim_date: time(json.claim_date)?,
        appearances: json
            .appearances
            .into_iter()
            .map(|a| {
                Ok(Appearance {
                    url: a.url,
                    publisher: a.publisher,
                    time: time(a.date)?,
                })
            })
            .collect::<sqlx::Result<_>>()?,
    })
}

/// A review imported before: the verdict it became, and what it said besides.
pub struct Imported {
    /// The verdict, under its claim.
    pub verdict: VerdictName,
    /// What it said besides.
    pub source: ReviewSource,
}

/// The review imported under `url`, its row locked until the transaction ends; `None` when no
/// review has that URL.
pub async fn lock(conn: &mut PgConnection, url: &str) -> sqlx::Result<Option<Imported>> {
    let row: Option<(Uuid, Uuid, String)> = sqlx::query_as(
        "select r.verdict_id, v.claim_id, r.source::text from imported_reviews r \
         join verdicts v on v.id = r.verdict_id \
         where r.review_url = $1 for update of r",
    )
    .bind(url)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(id, claim, source)| {
        Ok(Imported {
            verdict: VerdictName {
                claim: ClaimName(claim),
                id,
            },
            source: decode(source)?,
        })
    })
    .transpose()
}

/// The desk's own verdict (not an imported one) that gives `url` as its fact-check article, if
/// any: an import leaves it alone.
pub async fn own_verdict(conn: &mut PgConnection, url: &str) -> sqlx::Result<Option<VerdictName>> {
    let row: Option<(Uuid, Uuid)> = sqlx::query_as(
        "select v.id, v.claim_id from verdicts v \
         where v.review_url = $1 \
           and not exists (select 1 from imported_reviews r where r.verdict_id = v.id) \
         limit 1",
    )
    .bind(url)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id, claim)| VerdictName {
        claim: ClaimName(claim),
        id,
    }))
}

/// Records that `verdict` was imported from the review at `url`, by the key `actor`.
pub async fn insert(
    conn: &mut PgConnection,
    verdict: Uuid,
    url: &str,
    source: &ReviewSource,
    actor: (&str, Uuid),
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into imported_reviews (verdict_id, review_url, source, imported_by, \
                                       imported_by_key_id) \
         values ($1, $2, $3::jsonb, $4, $5)",
    )
    .bind(verdict)
    .bind(url)
    .bind(encode(source))
    .bind(actor.0)
    .bind(actor.1)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces what an imported review says besides its claim and verdict: a later import of it.
pub async fn update_source(
    conn: &mut PgConnection,
    verdict: Uuid,
    source: &ReviewSource,
) -> sqlx::Result<()> {
    sqlx::query(
        "update imported_reviews set source = $2::jsonb, update_time = now() where verdict_id = $1",
    )
    .bind(verdict)
    .bind(encode(source))
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves an imported verdict's publication date to the one its review now gives.
pub async fn set_publish_time(
    conn: &mut PgConnection,
    verdict: Uuid,
    time: time::OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query(
        "update verdicts set publish_time = $2, update_time = now(), version = version + 1 \
         where id = $1",
    )
    .bind(verdict)
    .bind(time)
    .execute(conn)
    .await?;
    Ok(())
}

/// What the imported reviews among `verdicts` said besides; the desk's own verdicts are absent.
pub async fn sources(
    conn: &mut PgConnection,
    verdicts: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, ReviewSource>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "select verdict_id, source::text from imported_reviews where verdict_id = any($1)",
    )
    .bind(verdicts)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, source)| Ok((id, decode(source)?)))
        .collect()
}
