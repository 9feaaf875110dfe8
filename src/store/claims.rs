//! The `claims` and `quotes` tables.

use std::collections::HashMap;

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Page, verdicts};
use crate::domain::{
    Anchored, ArticleName, Claim, ClaimName, ClaimPatch, ClaimVersion, Origin, Quote, QuoteKind,
    Rating, ReviewState, Span,
};

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: Uuid,
    statement: String,
    claimant: String,
    review_state: String,
    current_verdict_id: Option<Uuid>,
    version: i64,
    create_time: OffsetDateTime,
    update_time: OffsetDateTime,
    origin: String,
    checkworthiness: Option<f32>,
}

#[derive(sqlx::FromRow)]
struct QuoteRow {
    claim_id: Uuid,
    article_id: Uuid,
    start_offset: i32,
    end_offset: i32,
    text: String,
    speaker: String,
    speaker_start: i32,
    speaker_end: i32,
    cue: Option<String>,
    cue_start: Option<i32>,
    cue_end: Option<i32>,
    kind: String,
    resolved_speaker: Option<String>,
}

const CLAIM_COLUMNS: &str = "id, statement, claimant, review_state, current_verdict_id, version, create_time, \
                             update_time, origin, checkworthiness";

fn span(start: i32, end: i32) -> Span {
    // the table's checks keep offsets non-negative and ordered
    Span {
        start: usize::try_from(start).unwrap_or_default(),
        end: usize::try_from(end).unwrap_or_default(),
    }
}

fn offset(value: usize) -> i32 {
    // bodies are at most 1 MiB, so every offset into one fits
    i32::try_from(value).expect("offsets into a body of at most 1 MiB fit in i32")
}

impl QuoteRow {
    fn into_quote(self) -> Quote {
        let cue = match (self.cue, self.cue_start, self.cue_end) {
            (Some(text), Some(start), Some(end)) => Some(Anchored {
                text,
                span: span(start, end),
            }),
            _ => None,
        };
        Quote {
            article: ArticleName(self.article_id),
            quote: Anchored {
                text: self.text,
                span: span(self.start_offset, self.end_offset),
            },
            speaker: Anchored {
                text: self.speaker,
                span: span(self.speaker_start, self.speaker_end),
            },
            cue,
            // the table's check allows only the three kinds
            kind: QuoteKind::from_stored(&self.kind).unwrap_or(QuoteKind::Direct),
            resolved_speaker: self.resolved_speaker,
        }
    }
}

/// What a new claim is, besides its quotes.
pub struct ClaimRecord<'a> {
    /// The statement.
    pub statement: &'a str,
    /// Who made it.
    pub claimant: &'a str,
    /// Who registers it.
    pub origin: Origin,
    /// How worth checking the statement is.
    pub checkworthiness: f32,
}

/// Stores a claim with its anchored quotes.
pub async fn insert(
    conn: &mut PgConnection,
    claim: &ClaimRecord<'_>,
    quotes: &[Quote],
) -> sqlx::Result<ClaimName> {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into claims (id, statement, claimant, origin, checkworthiness) values ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(claim.statement)
    .bind(claim.claimant)
    .bind(claim.origin.as_str())
    .bind(claim.checkworthiness)
    .execute(&mut *conn)
    .await?;
    for (position, quote) in quotes.iter().enumerate() {
        let cue = quote.cue.as_ref();
        sqlx::query(
            "insert into quotes (claim_id, position, article_id, start_offset, end_offset, text, \
                                 speaker, speaker_start, speaker_end, cue, cue_start, cue_end, kind, \
                                 resolved_speaker) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(id)
        .bind(offset(position))
        .bind(quote.article.0)
        .bind(offset(quote.quote.span.start))
        .bind(offset(quote.quote.span.end))
        .bind(&quote.quote.text)
        .bind(&quote.speaker.text)
        .bind(offset(quote.speaker.span.start))
        .bind(offset(quote.speaker.span.end))
        .bind(cue.map(|c| &c.text))
        .bind(cue.map(|c| offset(c.span.start)))
        .bind(cue.map(|c| offset(c.span.end)))
        .bind(quote.kind.as_str())
        .bind(&quote.resolved_speaker)
        .execute(&mut *conn)
        .await?;
    }
    Ok(ClaimName(id))
}

/// Completes claim rows with their quotes and current verdicts: two queries for any number.
async fn assemble(conn: &mut PgConnection, rows: Vec<ClaimRow>) -> sqlx::Result<Vec<Claim>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let quote_rows: Vec<QuoteRow> = sqlx::query_as(
        "select claim_id, article_id, start_offset, end_offset, text, speaker, speaker_start, \
                speaker_end, cue, cue_start, cue_end, kind, resolved_speaker \
         from quotes where claim_id = any($1) order by claim_id, position",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut quotes: HashMap<Uuid, Vec<Quote>> = HashMap::new();
    for row in quote_rows {
        quotes
            .entry(row.claim_id)
            .or_default()
            .push(row.into_quote());
    }
    let verdict_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.current_verdict_id).collect();
    let mut verdicts = verdicts::by_ids(conn, &verdict_ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| Claim {
            name: ClaimName(row.id),
            quotes: quotes.remove(&row.id).unwrap_or_default(),
            current_verdict: row.current_verdict_id.and_then(|v| verdicts.remove(&v)),
            // the table's check allows only the two states
            review_state: ReviewState::from_stored(&row.review_state)
                .unwrap_or(ReviewState::Unreviewed),
            statement: row.statement,
            claimant: row.claimant,
            version: ClaimVersion(row.version),
            create_time: row.create_time,
            update_time: row.update_time,
            // the table's check allows only the two origins
            origin: Origin::from_stored(&row.origin).unwrap_or(Origin::Manual),
            checkworthiness: row.checkworthiness,
        })
        .collect())
}

/// One claim with its quotes and current verdict.
pub async fn get(conn: &mut PgConnection, name: ClaimName) -> sqlx::Result<Option<Claim>> {
    let row: Option<ClaimRow> =
        sqlx::query_as(&format!("select {CLAIM_COLUMNS} from claims where id = $1"))
            .bind(name.0)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(assemble(conn, vec![row]).await?.pop())
}

/// What a listing of claims keeps; every filter given must hold.
#[derive(Debug, Default)]
pub struct ClaimFilter {
    /// Only claims with a quote in this article.
    pub article: Option<ArticleName>,
    /// Only claims of this claimant.
    pub claimant: Option<String>,
    /// Only claims in this review state.
    pub review_state: Option<ReviewState>,
    /// Only claims whose current verdict has this rating.
    pub rating: Option<Rating>,
}

/// A page of claims, newest first, after the given id.
pub async fn list(
    conn: &mut PgConnection,
    filter: &ClaimFilter,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Page<Claim>> {
    let rows: Vec<ClaimRow> = sqlx::query_as(&format!(
        "select {CLAIM_COLUMNS} from claims c \
         where ($1::uuid is null or exists (select 1 from quotes q where q.claim_id = c.id and q.article_id = $1)) \
           and ($2::text is null or claimant = $2) \
           and ($3::text is null or review_state = $3) \
           and ($4::text is null or current_rating = $4) \
           and ($5::uuid is null or id < $5) \
         order by id desc \
         limit $6"
    ))
    .bind(filter.article.map(|a| a.0))
    .bind(&filter.claimant)
    .bind(filter.review_state.map(ReviewState::as_str))
    .bind(filter.rating.map(Rating::as_str))
    .bind(after)
    .bind(limit + 1)
    .fetch_all(&mut *conn)
    .await?;
    let claims = assemble(conn, rows).await?;
    Ok(Page::from_overfetch(claims, limit, |c: &Claim| c.name.0))
}

/// What an update found.
pub enum UpdateOutcome {
    /// The claim was changed.
    Updated,
    /// The claim exists but its version is not the expected one.
    Stale,
    /// No such claim.
    Missing,
}

/// Changes a claim's statement (with its new score) and claimant if it is still at the
/// expected version.
pub async fn update(
    conn: &mut PgConnection,
    patch: &ClaimPatch,
    checkworthiness: Option<f32>,
) -> sqlx::Result<UpdateOutcome> {
    let updated = sqlx::query(
        "update claims \
         set statement = coalesce($3, statement), claimant = coalesce($4, claimant), \
             checkworthiness = coalesce($5, checkworthiness), version = version + 1, update_time = now() \
         where id = $1 and version = $2",
    )
    .bind(patch.name.0)
    .bind(patch.expected.0)
    .bind(&patch.statement)
    .bind(&patch.claimant)
    .bind(checkworthiness)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 1 {
        return Ok(UpdateOutcome::Updated);
    }
    let exists: Option<(i64,)> = sqlx::query_as("select version from claims where id = $1")
        .bind(patch.name.0)
        .fetch_optional(conn)
        .await?;
    Ok(if exists.is_some() {
        UpdateOutcome::Stale
    } else {
        UpdateOutcome::Missing
    })
}

/// Locks a claim's row for the rest of the transaction; false when there is no such claim.
pub async fn lock(conn: &mut PgConnection, name: ClaimName) -> sqlx::Result<bool> {
    let row: Option<(Uuid,)> = sqlx::query_as("select id from claims where id = $1 for update")
        .bind(name.0)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Makes a verdict the claim's current one, which marks the claim reviewed.
pub async fn set_current_verdict(
    conn: &mut PgConnection,
    name: ClaimName,
    verdict: Uuid,
    rating: Rating,
) -> sqlx::Result<()> {
    sqlx::query(
        "update claims \
         set review_state = 'reviewed', current_verdict_id = $2, current_rating = $3, \
             version = version + 1, update_time = now() \
         where id = $1",
    )
    .bind(name.0)
    .bind(verdict)
    .bind(rating.as_str())
    .execute(conn)
    .await?;
    Ok(())
}
