//! The `verdicts`, `evidence_sources` and `verdict_history` tables: verdicts through their
//! lifecycle (drafted, published, corrected, withdrawn), each step kept with the verdict's
//! content after it (migration 0010).

use std::collections::HashMap;

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Page;
use crate::domain::{
    ClaimName, EvidenceSource, NewVerdict, Rating, Verdict, VerdictAction, VerdictName,
    VerdictState, VerdictStep,
};

#[derive(sqlx::FromRow)]
struct VerdictRow {
    id: Uuid,
    claim_id: Uuid,
    rating: String,
    textual_rating: String,
    explanation: String,
    reviewer: String,
    create_time: OffsetDateTime,
    state: String,
    revision: i32,
    review_url: Option<String>,
    headline: String,
    publish_time: Option<OffsetDateTime>,
    publisher: Option<String>,
    update_time: OffsetDateTime,
    version: i64,
}

const VERDICT_COLUMNS: &str = "id, claim_id, rating, textual_rating, explanation, reviewer, \
     create_time, state, revision, review_url, headline, publish_time, publisher, update_time, \
     version";

/// Microseconds since the Unix epoch of a timestamp expression, for JSON: PostgreSQL's
/// precision, exactly.
fn micros(expr: &str) -> String {
    format!("(extract(epoch from {expr}) * 1000000)::int8")
}

/// A SQL expression for the current verdict of the claim row `alias`, with its evidence, as one
/// JSON object (text), or null for an unreviewed claim: the claim queries read a claim's
/// verdict in the same statement as the claim. A scalar subquery per claim row, so the verdict
/// is always looked up by its primary key, whatever the planner thinks of the page's size.
pub(super) fn current_verdict_json(alias: &str) -> String {
    format!(
        "(select json_build_object(\
             'id', v.id, 'rating', v.rating, 'textual_rating', v.textual_rating, \
             'explanation', v.explanation, 'reviewer', v.reviewer, \
             'create_time_us', {}, 'state', v.state, 'revision', v.revision, \
             'review_url', v.review_url, 'headline', v.headline, \
             'publish_time_us', {}, 'publisher', v.publisher, 'update_time_us', {}, \
             'version', v.version, \
             'evidence', coalesce((select json_agg(json_build_object('url', e.url, 'title', e.title) \
                                                   order by e.position) \
                                   from evidence_sources e where e.verdict_id = v.id), '[]'))::text \
          from verdicts v where v.id = {alias}.current_verdict_id)",
        micros("v.create_time"),
        micros("v.publish_time"),
        micros("v.update_time"),
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
    state: String,
    revision: i32,
    review_url: Option<String>,
    headline: String,
    publish_time_us: Option<i64>,
    publisher: Option<String>,
    update_time_us: i64,
    version: i64,
}

/// An evidence source as [`current_verdict_json`] writes it.
#[derive(serde::Deserialize, serde::Serialize)]
struct EvidenceJson {
    url: String,
    title: String,
}

/// A verdict's content as a step of its history keeps it (`verdict_history.content`): what a
/// correction may change, and where the verdict stood.
#[derive(serde::Deserialize, serde::Serialize)]
struct ContentJson {
    rating: String,
    textual_rating: String,
    explanation: String,
    evidence: Vec<EvidenceJson>,
    review_url: Option<String>,
    headline: String,
    state: String,
    revision: i32,
}

impl ContentJson {
    fn of(verdict: &Verdict) -> Self {
        ContentJson {
            rating: verdict.rating.as_str().to_owned(),
            textual_rating: verdict.textual_rating.clone(),
            explanation: verdict.explanation.clone(),
            evidence: verdict
                .evidence
                .iter()
                .map(|e| EvidenceJson {
                    url: e.url.clone(),
                    title: e.title.clone(),
                })
                .collect(),
            review_url: verdict.review_url.clone(),
            headline: verdict.headline.clone(),
            state: verdict.state.as_str().to_owned(),
            revision: verdict.revision,
        }
    }

    /// `verdict` as this content had it.
    fn apply(self, mut verdict: Verdict) -> Verdict {
        verdict.rating = Rating::from_stored(&self.rating).unwrap_or(Rating::Unverifiable);
        verdict.textual_rating = self.textual_rating;
        verdict.explanation = self.explanation;
        verdict.evidence = self
            .evidence
            .into_iter()
            .map(|e| EvidenceSource {
                url: e.url,
                title: e.title,
            })
            .collect();
        verdict.review_url = self.review_url;
        verdict.headline = self.headline;
        verdict.state = VerdictState::from_stored(&self.state).unwrap_or(VerdictState::Draft);
        verdict.revision = self.revision;
        verdict
    }
}

fn time_of(micros: i64) -> sqlx::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).map_err(undecodable)
}

/// A value the database wrote that does not decode: a bug, reported as a decoding error.
pub(super) fn undecodable(error: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(error))
}

/// The verdict of `claim` that [`current_verdict_json`] wrote.
pub(super) fn from_json(claim: ClaimName, json: &str) -> sqlx::Result<Verdict> {
    let v: VerdictJson = serde_json::from_str(json).map_err(undecodable)?;
    let create_time = time_of(v.create_time_us)?;
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
        // the table's check allows only the three states
        state: VerdictState::from_stored(&v.state).unwrap_or(VerdictState::Draft),
        revision: v.revision,
        review_url: v.review_url,
        headline: v.headline,
        publish_time: v.publish_time_us.map(time_of).transpose()?,
        publisher: v.publisher,
        update_time: time_of(v.update_time_us)?,
        version: v.version,
    })
}

/// Stores a verdict with its evidence, given by the key `reviewer_key` named `reviewer`, and
/// the first step of its history; published at once (unless `verdict.draft`), it becomes its
/// claim's current verdict (which marks the claim reviewed). One statement: the caller holds the
/// claim's row lock, so the newest published verdict is the current one. Returns the stored
/// verdict without reading it back.
pub async fn insert(
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
    let (state, action, revision) = if verdict.draft {
        (VerdictState::Draft, VerdictAction::Drafted, 0)
    } else {
        (VerdictState::Published, VerdictAction::Published, 1)
    };
    let mut stored = Verdict {
        name: VerdictName { claim, id },
        rating: verdict.rating,
        textual_rating: verdict.textual_rating.clone(),
        explanation: verdict.explanation.clone(),
        evidence: verdict.evidence.clone(),
        reviewer: reviewer.to_owned(),
        create_time: OffsetDateTime::UNIX_EPOCH,
        state,
        revision,
        review_url: verdict.review_url.clone(),
        headline: verdict.headline.clone(),
        publish_time: None,
        publisher: (!verdict.draft).then(|| reviewer.to_owned()),
        update_time: OffsetDateTime::UNIX_EPOCH,
        version: 1,
    };
    let content = serde_json::to_string(&ContentJson::of(&stored)).map_err(undecodable)?;
    // foreign keys are checked at the end of the statement, when all four changes are made
    let (create_time, publish_time): (OffsetDateTime, Option<OffsetDateTime>) = sqlx::query_as(
        "with verdict as ( \
             insert into verdicts (id, claim_id, rating, textual_rating, explanation, reviewer, \
                                   reviewer_key_id, state, revision, review_url, headline, \
                                   publish_time, publisher, publisher_key_id) \
             values ($1, $2, $3, $4, $5, $6, $7, $10, $11, $12, $13, \
                     case when $10 = 'published' then coalesce($16, now()) end, \
                     case when $10 = 'published' then $6 end, \
                     case when $10 = 'published' then $7::uuid end) \
             returning create_time, publish_time \
         ), evidence as ( \
             insert into evidence_sources (verdict_id, position, url, title) \
             select $1, (e.n - 1)::int4, e.url, e.title \
             from unnest($8::text[], $9::text[]) with ordinality as e (url, title, n) \
         ), history as ( \
             insert into verdict_history (verdict_id, step, action, actor, actor_key_id, content) \
             values ($1, 1, $14, $6, $7, $15::jsonb) \
         ), claim as ( \
             update claims \
             set review_state = 'reviewed', current_verdict_id = $1, current_rating = $3, \
                 version = version + 1, update_time = now() \
             where id = $2 and $10 = 'published' \
         ) \
         select create_time, publish_time from verdict",
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
    .bind(state.as_str())
    .bind(revision)
    .bind(&verdict.review_url)
    .bind(&verdict.headline)
    .bind(action.as_str())
    .bind(content)
    .bind(verdict.publish_time)
    .fetch_one(&mut *conn)
    .await?;
    stored.create_time = create_time;
    stored.update_time = create_time;
    stored.publish_time = publish_time;
    Ok(stored)
}

/// The verdict `name`, its row locked until the transaction ends (a lifecycle step reads it,
/// checks its state and changes it); `None` when there is none under that claim.
pub async fn lock(conn: &mut PgConnection, name: VerdictName) -> sqlx::Result<Option<Verdict>> {
    let rows: Vec<VerdictRow> = sqlx::query_as(&format!(
        "select {VERDICT_COLUMNS} from verdicts where id = $1 and claim_id = $2 for update"
    ))
    .bind(name.id)
    .bind(name.claim.0)
    .fetch_all(&mut *conn)
    .await?;
    Ok(assemble(conn, rows).await?.pop())
}

/// A lifecycle step on a verdict read with [`lock`]: what it becomes.
pub struct Step<'a> {
    /// What is done.
    pub action: VerdictAction,
    /// Who does it: the key's display name and id.
    pub actor: (&'a str, Uuid),
    /// A correction's public note or a withdrawal's reason.
    pub note: &'a str,
    /// The new content, for a correction.
    pub content: Option<&'a NewVerdict>,
}

/// Takes `step` on `verdict` (read with [`lock`]; the caller has checked the step is allowed),
/// records it in the verdict's history with the content after it, and makes the claim's
/// current verdict its newest published one again (or none). Returns the verdict after it.
pub async fn take_step(
    conn: &mut PgConnection,
    verdict: Verdict,
    step: Step<'_>,
) -> sqlx::Result<Verdict> {
    let mut after = verdict.clone();
    let mut changed: Vec<&str> = Vec::new();
    match step.action {
        VerdictAction::Published => {
            after.state = VerdictState::Published;
            after.revision = 1;
            after.publisher = Some(step.actor.0.to_owned());
        }
        VerdictAction::Withdrawn => after.state = VerdictState::Withdrawn,
        VerdictAction::Corrected | VerdictAction::Edited => {
            let content = step
                .content
                .expect("a correction or an edit carries its content");
            // a correction publishes a new revision; an edited draft has published none
            if step.action == VerdictAction::Corrected {
                after.revision += 1;
            }
            after.rating = content.rating;
            after.textual_rating = content.textual_rating.clone();
            after.explanation = content.explanation.clone();
            after.evidence = content.evidence.clone();
            after.review_url = content.review_url.clone();
            after.headline = content.headline.clone();
        }
        VerdictAction::Drafted => {}
    }
    for (field, differs) in [
        ("rating", after.rating != verdict.rating),
        (
            "textual_rating",
            after.textual_rating != verdict.textual_rating,
        ),
        ("explanation", after.explanation != verdict.explanation),
        ("evidence", after.evidence != verdict.evidence),
        ("review_url", after.review_url != verdict.review_url),
        ("headline", after.headline != verdict.headline),
        ("state", after.state != verdict.state),
    ] {
        if differs {
            changed.push(field);
        }
    }
    let (urls, titles): (Vec<&str>, Vec<&str>) = after
        .evidence
        .iter()
        .map(|e| (e.url.as_str(), e.title.as_str()))
        .unzip();
    let content = serde_json::to_string(&ContentJson::of(&after)).map_err(undecodable)?;
    let (update_time, publish_time, version): (OffsetDateTime, Option<OffsetDateTime>, i64) =
        sqlx::query_as(
            "update verdicts \
             set state = $2, revision = $3, rating = $4, textual_rating = $5, explanation = $6, \
                 review_url = $7, headline = $8, \
                 publish_time = case when $2 = 'published' then coalesce(publish_time, now()) \
                                     else publish_time end, \
                 publisher = case when $9 = 'published' then $10 else publisher end, \
                 publisher_key_id = case when $9 = 'published' then $11::uuid \
                                         else publisher_key_id end, \
                 update_time = now(), version = version + 1 \
             where id = $1 \
             returning update_time, publish_time, version",
        )
        .bind(after.name.id)
        .bind(after.state.as_str())
        .bind(after.revision)
        .bind(after.rating.as_str())
        .bind(&after.textual_rating)
        .bind(&after.explanation)
        .bind(&after.review_url)
        .bind(&after.headline)
        .bind(step.action.as_str())
        .bind(step.actor.0)
        .bind(step.actor.1)
        .fetch_one(&mut *conn)
        .await?;
    if changed.contains(&"evidence") {
        sqlx::query("delete from evidence_sources where verdict_id = $1")
            .bind(after.name.id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "insert into evidence_sources (verdict_id, position, url, title) \
             select $1, (e.n - 1)::int4, e.url, e.title \
             from unnest($2::text[], $3::text[]) with ordinality as e (url, title, n)",
        )
        .bind(after.name.id)
        .bind(&urls)
        .bind(&titles)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "insert into verdict_history (verdict_id, step, action, actor, actor_key_id, note, \
                                      changed, content) \
         select $1, coalesce(max(step), 0) + 1, $2, $3, $4, $5, $6, $7::jsonb \
         from verdict_history where verdict_id = $1",
    )
    .bind(after.name.id)
    .bind(step.action.as_str())
    .bind(step.actor.0)
    .bind(step.actor.1)
    .bind(step.note)
    .bind(&changed)
    .bind(content)
    .execute(&mut *conn)
    .await?;
    refresh_current(conn, after.name.claim).await?;
    after.update_time = update_time;
    after.publish_time = publish_time;
    after.version = version;
    Ok(after)
}

/// Makes a claim's current verdict its newest published one, or marks it unreviewed when it has
/// none; the caller holds the claim's row lock. Changes the claim only when that differs.
pub async fn refresh_current(conn: &mut PgConnection, claim: ClaimName) -> sqlx::Result<()> {
    sqlx::query(
        "with newest as ( \
             select (select v.id from verdicts v \
                     where v.claim_id = $1 and v.state = 'published' \
                     order by v.publish_time desc, v.id desc limit 1) as id \
         ) \
         update claims c \
         set current_verdict_id = n.id, \
             current_rating = (select rating from verdicts where id = n.id), \
             review_state = case when n.id is null then 'unreviewed' else 'reviewed' end, \
             version = c.version + 1, update_time = now() \
         from newest n \
         where c.id = $1 \
           and (c.current_verdict_id is distinct from n.id \
                or c.current_rating is distinct from (select rating from verdicts where id = n.id))",
    )
    .bind(claim.0)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    step: i32,
    action: String,
    actor: String,
    at: OffsetDateTime,
    note: String,
    changed: Vec<String>,
    content: String,
}

/// A verdict's history, its first step first: each step with the verdict as it stood after it.
pub async fn history(conn: &mut PgConnection, verdict: &Verdict) -> sqlx::Result<Vec<VerdictStep>> {
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "select step, action, actor, at, note, changed, content::text as content \
         from verdict_history where verdict_id = $1 order by step",
    )
    .bind(verdict.name.id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            let content: ContentJson = serde_json::from_str(&row.content).map_err(undecodable)?;
            Ok(VerdictStep {
                step: row.step,
                // the table's check allows only the four actions
                action: VerdictAction::from_stored(&row.action).unwrap_or(VerdictAction::Drafted),
                actor: row.actor,
                time: row.at,
                note: row.note,
                changed: row.changed,
                verdict: {
                    let mut then = content.apply(verdict.clone());
                    then.update_time = row.at;
                    if then.state == VerdictState::Draft {
                        then.publish_time = None;
                        then.publisher = None;
                    }
                    then
                },
            })
        })
        .collect()
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
            // the table's check allows only the three states
            state: VerdictState::from_stored(&row.state).unwrap_or(VerdictState::Draft),
            revision: row.revision,
            review_url: row.review_url,
            headline: row.headline,
            publish_time: row.publish_time,
            publisher: row.publisher,
            update_time: row.update_time,
            version: row.version,
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

/// What a listing of verdicts keeps; every filter given must hold.
#[derive(Debug, Default, Clone)]
pub struct VerdictFilter {
    /// Only verdicts given by the reviewer with this key name.
    pub reviewer: Option<String>,
    /// Only verdicts with this rating.
    pub rating: Option<Rating>,
    /// Only verdicts in this state.
    pub state: Option<VerdictState>,
    /// Only verdicts given at or after this time.
    pub given_after: Option<OffsetDateTime>,
    /// Only verdicts given before this time.
    pub given_before: Option<OffsetDateTime>,
}

impl VerdictFilter {
    /// Whether no filter is given.
    pub fn is_empty(&self) -> bool {
        self.reviewer.is_none()
            && self.rating.is_none()
            && self.state.is_none()
            && self.given_after.is_none()
            && self.given_before.is_none()
    }
}

/// How far a verdict's id, made by the service's clock when it is inserted, may stand from its
/// `create_time`, the database's clock at its transaction's start: the margin that turns a time
/// range into a range of ids (UUIDv7s lead with their millisecond), so that a range of time
/// reads the primary key between two ids and not every newer verdict.
const ID_CLOCK_MARGIN_MS: i128 = 60_000;

/// The smallest UUIDv7 of a millisecond: the id bound of a time, less or more the margin.
fn id_bound(time: OffsetDateTime, margin_ms: i128) -> Uuid {
    let ms = (time.unix_timestamp_nanos() / 1_000_000 + margin_ms).clamp(0, (1 << 48) - 1);
    let mut bytes = [0u8; 16];
    // 48 bits of milliseconds, big-endian, as a UUIDv7 leads
    bytes[..6].copy_from_slice(&(ms as u64).to_be_bytes()[2..]);
    Uuid::from_bytes(bytes)
}

/// A page of verdicts, newest first (by id), after the given id: of one claim, or of every
/// claim (`None`), that pass `filter`. Across claims, the page reads the index of the reviewer,
/// rating or state given (0012), or the primary key, between the ids a time range allows.
pub async fn list_filtered(
    conn: &mut PgConnection,
    claim: Option<ClaimName>,
    filter: &VerdictFilter,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Page<Verdict>> {
    let mut qb =
        sqlx::QueryBuilder::new(format!("select {VERDICT_COLUMNS} from verdicts where true"));
    if let Some(claim) = claim {
        qb.push(" and claim_id = ").push_bind(claim.0);
    }
    if let Some(reviewer) = &filter.reviewer {
        qb.push(" and reviewer = ").push_bind(reviewer.clone());
    }
    if let Some(rating) = filter.rating {
        qb.push(" and rating = ").push_bind(rating.as_str());
    }
    if let Some(state) = filter.state {
        qb.push(" and state = ").push_bind(state.as_str());
    }
    if let Some(time) = filter.given_after {
        qb.push(" and create_time >= ").push_bind(time);
        qb.push(" and id >= ")
            .push_bind(id_bound(time, -ID_CLOCK_MARGIN_MS));
    }
    if let Some(time) = filter.given_before {
        qb.push(" and create_time < ").push_bind(time);
        qb.push(" and id < ")
            .push_bind(id_bound(time, ID_CLOCK_MARGIN_MS));
    }
    if let Some(after) = after {
        qb.push(" and id < ").push_bind(after);
    }
    qb.push(" order by id desc limit ").push_bind(limit + 1);
    let rows: Vec<VerdictRow> = qb
        .build_query_as()
        .persistent(filter.is_empty())
        .fetch_all(&mut *conn)
        .await?;
    let verdicts = assemble(conn, rows).await?;
    Ok(Page::from_overfetch(verdicts, limit, |v: &Verdict| {
        v.name.id
    }))
}

/// Microseconds since the Unix epoch: a publication time as a page token's sort key.
pub fn time_key(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// A page of the verdicts ClaimReview exports (published, with a review URL), newest
/// publication first, after `after` (its key the publication time in [`time_key`]'s
/// microseconds). Reads the partial index of migration 0013 in its order. The order is by
/// publication, not by id, so that reviews imported from an export come out in its order.
pub async fn exportable(
    conn: &mut PgConnection,
    after: Option<crate::domain::Cursor>,
    limit: i64,
) -> sqlx::Result<Page<Verdict>> {
    let after_time = after
        .and_then(|c| c.key)
        .map(|us| OffsetDateTime::UNIX_EPOCH + time::Duration::microseconds(us));
    // two statements, not one with "$1 is null or": the row comparison must bound the index scan
    let after_clause = if after_time.is_some() {
        "and (publish_time, id) < ($2, $3)"
    } else {
        "and $2::timestamptz is null and $3::uuid is null"
    };
    let rows: Vec<VerdictRow> = sqlx::query_as(&format!(
        "select {VERDICT_COLUMNS} from verdicts \
         where state = 'published' and review_url is not null {after_clause} \
         order by publish_time desc, id desc limit $1"
    ))
    .bind(limit + 1)
    .bind(after_time)
    .bind(after.map(|c| c.id))
    .fetch_all(&mut *conn)
    .await?;
    let verdicts = assemble(conn, rows).await?;
    let mut page = Page::from_overfetch(verdicts, limit, |v: &Verdict| v.name.id);
    if page.next_after.is_some() {
        page.next_key = page.items.last().and_then(|v| v.publish_time).map(time_key);
    }
    Ok(page)
}

/// The keys that wrote a verdict: drafted it or edited the draft. With second review on, none
/// of them may publish it.
pub async fn writers(conn: &mut PgConnection, verdict: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select distinct actor_key_id from verdict_history \
         where verdict_id = $1 and action in ('drafted', 'edited')",
    )
    .bind(verdict)
    .fetch_all(conn)
    .await
}
