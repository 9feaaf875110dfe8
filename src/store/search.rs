//! What a replica's search index holds of each claim, read from the tables, and the claims'
//! stored embeddings (`claim_embeddings`).

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::Rating;

/// A claim as the search index keeps it: the texts it is found by, what filters test, and its
/// embedding when it has one of the current model.
#[derive(Debug, Clone)]
pub struct SearchDocument {
    /// The claim's id.
    pub id: Uuid,
    /// The statement.
    pub statement: String,
    /// The claimant.
    pub claimant: String,
    /// The current verdict's explanation and textual rating, empty while unreviewed.
    pub explanation: String,
    /// The current verdict's rating.
    pub rating: Option<Rating>,
    /// The claimant and the quotes' resolved speakers, lower-cased, each once.
    pub speakers: Vec<String>,
    /// The languages of the articles of its quotes, lower-cased, each once.
    pub languages: Vec<String>,
    /// The articles of its quotes, each once.
    pub articles: Vec<Uuid>,
    /// When it was registered.
    pub create_time: OffsetDateTime,
    /// When its current verdict was given.
    pub review_time: Option<OffsetDateTime>,
    /// Whether a reviewer has dismissed it: searches leave it out unless asked, and the matcher
    /// never takes it for the earlier claim a new one repeats.
    pub dismissed: bool,
    /// Its embedding by `model`, when it has one.
    pub vector: Option<Vec<f32>>,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: Uuid,
    statement: String,
    claimant: String,
    explanation: Option<String>,
    current_rating: Option<String>,
    speakers: Vec<String>,
    languages: Vec<String>,
    articles: Vec<Uuid>,
    create_time: OffsetDateTime,
    review_time: Option<OffsetDateTime>,
    dismissed: bool,
    vector: Option<Vec<u8>>,
}

/// The claims with these ids (all claims when `None`) as the index keeps them, with their
/// embeddings by `model` (a claim embedded by another model has none). All claims of a
/// million-claim registry are read in one statement, streamed by the caller's `each`.
pub async fn documents(
    conn: &mut PgConnection,
    ids: Option<&[Uuid]>,
    model: &str,
    mut each: impl FnMut(SearchDocument),
) -> sqlx::Result<()> {
    use futures_util::TryStreamExt;
    let mut rows = sqlx::query_as::<_, DocumentRow>(
        "select c.id, c.statement, c.claimant, c.current_rating, c.create_time, \
                nullif(concat_ws(' ', v.textual_rating, v.explanation), '') as explanation, \
                v.create_time as review_time, \
                c.dismissal_reason is not null as dismissed, \
                array(select distinct lower(s) from ( \
                    select c.claimant as s \
                    union all \
                    select q.resolved_speaker from quotes q \
                    where q.claim_id = c.id and q.resolved_speaker is not null) x) as speakers, \
                array(select distinct lower(a.language_code) from quotes q \
                      join articles a on a.id = q.article_id where q.claim_id = c.id) as languages, \
                array(select distinct q.article_id from quotes q where q.claim_id = c.id) \
                    as articles, \
                e.vector \
         from claims c \
         left join verdicts v on v.id = c.current_verdict_id \
         left join claim_embeddings e on e.claim_id = c.id and e.model = $2 \
         where $1::uuid[] is null or c.id = any($1)",
    )
    .bind(ids)
    .bind(model)
    .fetch(conn);
    while let Some(row) = rows.try_next().await? {
        each(SearchDocument {
            id: row.id,
            statement: row.statement,
            claimant: row.claimant,
            explanation: row.explanation.unwrap_or_default(),
            rating: row.current_rating.as_deref().and_then(Rating::from_stored),
            speakers: row.speakers,
            languages: row.languages,
            articles: row.articles,
            create_time: row.create_time,
            review_time: row.review_time,
            dismissed: row.dismissed,
            vector: row.vector.as_deref().map(vector_of_bytes),
        });
    }
    Ok(())
}

/// Stores claims' embeddings by `model`, replacing those they had.
pub async fn store_embeddings(
    conn: &mut PgConnection,
    model: &str,
    embeddings: &[(Uuid, Vec<f32>)],
) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = embeddings.iter().map(|(id, _)| *id).collect();
    let vectors: Vec<Vec<u8>> = embeddings.iter().map(|(_, v)| bytes_of_vector(v)).collect();
    sqlx::query(
        "insert into claim_embeddings (claim_id, model, vector) \
         select * from unnest($1::uuid[], array_fill($2::text, array[cardinality($1)]), $3::bytea[]) \
         on conflict (claim_id) do update \
         set model = excluded.model, vector = excluded.vector, create_time = now()",
    )
    .bind(&ids)
    .bind(model)
    .bind(&vectors)
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims waiting to be embedded and matched, oldest first, locked for this transaction; work
/// other replicas hold is skipped. Deleted by [`finish_work`] in the same transaction.
pub async fn take_work(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "select w.claim_id, c.statement from claim_work w join claims c on c.id = w.claim_id \
         order by w.enqueue_time, w.claim_id limit $1 for update of w skip locked",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Claims after `after` (in id order) whose stored vector is missing or of another model than
/// `model` and that are not queued (queued ones get their vector with their matching), up to
/// `limit`, locked against changes to their statement for this transaction: a statement changed
/// meanwhile waits, then is queued and embedded again, so an old statement's vector never
/// overwrites a newer one's. The lock (`for no key update`) does not hold up verdicts or quotes
/// added to those claims. Rows another replica holds are skipped, so replicas walking at the same
/// time share the work; one held by something else is re-read at the next start.
pub async fn take_stale(
    conn: &mut PgConnection,
    model: &str,
    after: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "select c.id, c.statement from claims c          left join claim_embeddings e on e.claim_id = c.id          where c.id > $2 and e.model is distinct from $1            and not exists (select 1 from claim_work w where w.claim_id = c.id)          order by c.id limit $3          for no key update of c skip locked",
    )
    .bind(model)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Removes done work from the queue.
pub async fn finish_work(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query("delete from claim_work where claim_id = any($1)")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// A vector as stored: little-endian f32s.
fn bytes_of_vector(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn vector_of_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}
