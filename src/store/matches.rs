//! The `claim_matches` table: links from a claim to earlier ones that say the same.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Page;
use crate::domain::{ClaimMatch, ClaimMatchName, ClaimName, Cursor, MatchDecision, MatchState};

/// A candidate the matcher found for a claim: the earlier claim, its similarity and the state
/// the thresholds put it in.
#[derive(Debug, Clone, Copy)]
pub struct Found {
    /// The earlier claim.
    pub matched: ClaimName,
    /// The ranking's confidence, at least 0.
    pub score: f32,
    /// Matched or suggested.
    pub state: MatchState,
}

#[derive(sqlx::FromRow)]
struct MatchRow {
    id: Uuid,
    claim_id: Uuid,
    matched_claim_id: Uuid,
    score: f32,
    state: String,
    reviewer: Option<String>,
    create_time: OffsetDateTime,
    review_time: Option<OffsetDateTime>,
}

impl MatchRow {
    fn into_match(self) -> ClaimMatch {
        ClaimMatch {
            name: ClaimMatchName {
                claim: ClaimName(self.claim_id),
                matched: ClaimName(self.matched_claim_id),
            },
            score: self.score,
            // the table's check allows only the four states
            state: MatchState::from_stored(&self.state).unwrap_or(MatchState::Suggested),
            reviewer: self.reviewer,
            create_time: self.create_time,
            review_time: self.review_time,
        }
    }
}

const COLUMNS: &str =
    "id, claim_id, matched_claim_id, score, state, reviewer, create_time, review_time";

/// Stores what the matcher found for `claim`. A pair already linked, suggested or rejected is
/// left as it stands: a rejected suggestion is never made again. An earlier claim that is
/// dismissed by now is left out: the matcher's index learns of a dismissal from the change log
/// a moment after its commit, and a dismissed claim was not checked, so a new claim that repeats
/// it was not checked before.
pub async fn insert(
    conn: &mut PgConnection,
    claim: ClaimName,
    found: &[Found],
) -> sqlx::Result<()> {
    if found.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = found.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "insert into claim_matches (id, claim_id, matched_claim_id, score, state) \
         select m.id, $2, m.matched, m.score, m.state \
         from unnest($1::uuid[], $3::uuid[], $4::real[], $5::text[]) as m (id, matched, score, state) \
         where not exists ( \
             select 1 from claims d where d.id = m.matched and d.dismissal_reason is not null) \
         on conflict (claim_id, matched_claim_id) do nothing",
    )
    .bind(&ids)
    .bind(claim.0)
    .bind(found.iter().map(|f| f.matched.0).collect::<Vec<_>>())
    .bind(found.iter().map(|f| f.score.max(0.0)).collect::<Vec<_>>())
    .bind(found.iter().map(|f| f.state.as_str()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// A page of matches: of one claim, best score first, or of every claim, newest first; only
/// those in `state` when given.
pub async fn list(
    conn: &mut PgConnection,
    claim: Option<ClaimName>,
    state: Option<MatchState>,
    after: Option<Cursor>,
    limit: i64,
) -> sqlx::Result<Page<ClaimMatch>> {
    let state = state.map(MatchState::as_str);
    let rows: Vec<MatchRow> = match claim {
        // a score is non-negative, so its f32 bits order as it does: the key holds them
        Some(claim) => {
            sqlx::query_as(&format!(
                "select {COLUMNS} from claim_matches \
             where claim_id = $1 and ($2::text is null or state = $2) \
               and ($3::uuid is null or (score, id) < ($4::real, $3)) \
             order by score desc, id desc limit $5"
            ))
            .bind(claim.0)
            .bind(state)
            .bind(after.map(|c| c.id))
            .bind(after.and_then(|c| c.key).map(score_of_key))
            .bind(limit + 1)
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query_as(&format!(
                "select {COLUMNS} from claim_matches \
             where ($1::text is null or state = $1) and ($2::uuid is null or id < $2) \
             order by id desc limit $3"
            ))
            .bind(state)
            .bind(after.map(|c| c.id))
            .bind(limit + 1)
            .fetch_all(conn)
            .await?
        }
    };
    let mut page = Page::from_overfetch(rows, limit, |r| r.id);
    if claim.is_some() && page.next_after.is_some() {
        page.next_key = page.items.last().map(|r| key_of_score(r.score));
    }
    Ok(Page {
        items: page.items.into_iter().map(MatchRow::into_match).collect(),
        next_after: page.next_after,
        next_key: page.next_key,
    })
}

fn key_of_score(score: f32) -> i64 {
    i64::from(score.to_bits())
}

fn score_of_key(key: i64) -> f32 {
    f32::from_bits(u32::try_from(key).unwrap_or_default())
}

/// What reviewing one suggestion did.
#[derive(Debug)]
pub enum Reviewed {
    /// The suggestion now stands as decided.
    Now(ClaimMatch),
    /// It was no longer a suggestion: matched automatically or decided before, as it stands.
    NotSuggested(ClaimMatch),
    /// There is no such match.
    Missing,
}

/// Decides one suggestion, as `reviewer` with key `reviewer_key`.
pub async fn review(
    conn: &mut PgConnection,
    name: ClaimMatchName,
    decision: MatchDecision,
    reviewer: &str,
    reviewer_key: Uuid,
) -> sqlx::Result<Reviewed> {
    let updated: Option<MatchRow> = sqlx::query_as(&format!(
        "update claim_matches set state = $3, reviewer = $4, reviewer_key_id = $5, \
                review_time = now() \
         where claim_id = $1 and matched_claim_id = $2 and state = 'suggested' \
         returning {COLUMNS}"
    ))
    .bind(name.claim.0)
    .bind(name.matched.0)
    .bind(decision.state().as_str())
    .bind(reviewer)
    .bind(reviewer_key)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = updated {
        return Ok(Reviewed::Now(row.into_match()));
    }
    let stored: Option<MatchRow> = sqlx::query_as(&format!(
        "select {COLUMNS} from claim_matches where claim_id = $1 and matched_claim_id = $2"
    ))
    .bind(name.claim.0)
    .bind(name.matched.0)
    .fetch_optional(conn)
    .await?;
    Ok(match stored {
        Some(row) => Reviewed::NotSuggested(row.into_match()),
        None => Reviewed::Missing,
    })
}
