//! The `verdicts` and `evidence_sources` tables.

use std::collections::HashMap;

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Page;
use crate::domain::{ClaimName, EvidenceSource, NewVerdict, Rating, Verdict, VerdictName};

#[derive(sqlx::FromRow)]
struct VerdictRow {
    id: Uuid,
    claim_id: Uuid,
    rating: String,
    textual_rating: String,
    explanation: String,
    reviewer: String,
    create_time: OffsetDateTime,
}

const VERDICT_COLUMNS: &str =
    "id, claim_id, rating, textual_rating, explanation, reviewer, create_time";

/// A SQL expression for the current verdict of the claim row `alias`, with its evidence, as one
/// JSON object (text), or null for an unreviewed claim: the claim queries read a claim's
/// verdict in the same statement as the claim. A scalar subquery per claim row, so the verdict
/// is always looked up by its primary key, whatever the planner thinks of the page's size.
pub(super) fn current_verdict_json(alias: &str) -> String {
    format!(
        "(select json_build_object(\
             'id', v.id, 'rating', v.rating, 'textual_rating', v.textual_rating, \
             'explanation', v.explanation, 'reviewer', v.reviewer, \
             'create_time_us', (extract(epoch from v.create_time) * 1000000)::int8, \
             'evidence', coalesce((select json_agg(json_build_object('url', e.url, 'title', e.title) \
                                                   order by e.position) \
                                   from evidence_sources e where e.verdict_id = v.id), '[]'))::text \
          from verdicts v where v.id = {alias}.current_verdict_id)"
    )
}

/// A verdict as [`current_verdict_json`] writes it.
#[derive(serde::Deserialize)]
struct VerdictJson {
    id: String,
    rating: String,
    textual_rating: String,
    explanation: String,
    reviewer: String,
    /// Microseconds since the Unix epoch: PostgreSQL's precision, exactly.
    create_time_us: i64,
    evidence: Vec<EvidenceJson>,
}

/// An evidence source as [`current_verdict_json`] writes it.
#[derive(serde::Deserialize)]
struct EvidenceJson {
    url: String,
    title: String,
}

/// A value the database wrote that does not decode: a bug, reported as a decoding error.
pub(super) fn undecodable(error: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(error))
}

/// The verdict of `claim` that [`current_verdict_json`] wrote.
pub(super) fn from_json(claim: ClaimName, json: &str) -> sqlx::Result<Verdict> {
    let v: VerdictJson = serde_json::from_str(json).map_err(undecodable)?;
    let create_time =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(v.create_time_us) * 1000)
            .map_err(undecodable)?;
    Ok(Verdict {
        name: VerdictName {
            claim,
            id: Uuid::try_parse(&v.id).map_err(undecodable)?,
        },
        // the table's check allows only the seven ratings
        rating: Rating::from_stored(&v.rating).unwrap_or(Rating::Unverifiable),
        textual_rating: v.textual_rating,
        explanation: v.explanation,
        evidence: v
            .evidence
            .into_iter()
            .map(|e| EvidenceSource {
                url: e.url,
                title: e.title,
            })
            .collect(),
        reviewer: v.reviewer,
        create_time,
    })
}

/// Stores a verdict with its evidence, given by the key `reviewer_key` named `reviewer`, and
/// makes it its claim's current verdict (which marks the claim reviewed), all in one statement:
/// the caller holds the claim's row lock, so the newest verdict is the current one. Returns the
/// stored verdict without reading it back.
pub async fn insert_current(
    conn: &mut PgConnection,
    claim: ClaimName,
    verdict: &NewVerdict,
    reviewer: &str,
    reviewer_key: Uuid,
) -> sqlx::Result<Verdict> {
    let id = Uuid::now_v7();
    let (urls, titles): (Vec<&str>, Vec<&str>) = verdict
        .evidence
        .iter()
        .map(|e| (e.url.as_str(), e.title.as_str()))
        .unzip();
    // foreign keys are checked at the end of the statement, when all three changes are made
    let create_time: OffsetDateTime = sqlx::query_scalar(
        "with verdict as ( \
             insert into verdicts (id, claim_id, rating, textual_rating, explanation, reviewer, \
                                   reviewer_key_id) \
             values ($1, $2, $3, $4, $5, $6, $7) \
             returning create_time \
         ), evidence as ( \
             insert into evidence_sources (verdict_id, position, url, title) \
             select $1, (e.n - 1)::int4, e.url, e.title \
             from unnest($8::text[], $9::text[]) with ordinality as e (url, title, n) \
         ), claim as ( \
             update claims \
             set review_state = 'reviewed', current_verdict_id = $1, current_rating = $3, \
                 version = version + 1, update_time = now() \
             where id = $2 \
         ) \
         select create_time from verdict",
    )
    .bind(id)
    .bind(claim.0)
    .bind(verdict.rating.as_str())
    .bind(&verdict.textual_rating)
    .bind(&verdict.explanation)
    .bind(reviewer)
    .bind(reviewer_key)
    .bind(&urls)
    .bind(&titles)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Verdict {
        name: VerdictName { claim, id },
        rating: verdict.rating,
        textual_rating: verdict.textual_rating.clone(),
        explanation: verdict.explanation.clone(),
        evidence: verdict.evidence.clone(),
        reviewer: reviewer.to_owned(),
        create_time,
    })
}

/// Completes verdict rows with their evidence, in one query.
async fn assemble(conn: &mut PgConnection, rows: Vec<VerdictRow>) -> sqlx::Result<Vec<Verdict>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let sources: Vec<(Uuid, String, String)> = sqlx::query_as(
        "select verdict_id, url, title from evidence_sources where verdict_id = any($1) \
         order by verdict_id, position",
    )
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    let mut evidence: HashMap<Uuid, Vec<EvidenceSource>> = HashMap::new();
    for (verdict, url, title) in sources {
        evidence
            .entry(verdict)
            .or_default()
            .push(EvidenceSource { url, title });
    }
    Ok(rows
        .into_iter()
        .map(|row| Verdict {
            name: VerdictName {
                claim: ClaimName(row.claim_id),
                id: row.id,
            },
            // the table's check allows only the seven ratings
            rating: Rating::from_stored(&row.rating).unwrap_or(Rating::Unverifiable),
            textual_rating: row.textual_rating,
            explanation: row.explanation,
            evidence: evidence.remove(&row.id).unwrap_or_default(),
            reviewer: row.reviewer,
            create_time: row.create_time,
        })
        .collect())
}

/// The verdicts with the given ids, by id.
pub async fn by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<HashMap<Uuid, Verdict>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<VerdictRow> = sqlx::query_as(&format!(
        "select {VERDICT_COLUMNS} from verdicts where id = any($1)"
    ))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(assemble(conn, rows)
        .await?
        .into_iter()
        .map(|v| (v.name.id, v))
        .collect())
}

/// A page of a claim's verdicts, newest first, after the given id.
pub async fn list(
    conn: &mut PgConnection,
    claim: ClaimName,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Page<Verdict>> {
    let rows: Vec<VerdictRow> = sqlx::query_as(&format!(
        "select {VERDICT_COLUMNS} from verdicts \
         where claim_id = $1 and ($2::uuid is null or id < $2) \
         order by id desc limit $3"
    ))
    .bind(claim.0)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(&mut *conn)
    .await?;
    let verdicts = assemble(conn, rows).await?;
    Ok(Page::from_overfetch(verdicts, limit, |v: &Verdict| {
        v.name.id
    }))
}
