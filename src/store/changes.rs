//! The `changes` table: the log of every change to articles, claims, quotes and verdicts, which
//! triggers write in the changing transaction (migration 0006).
//!
//! A reader follows the log by snapshots, not by sequence numbers: [`Position`] is the snapshot
//! it last read at, and [`since`] returns the rows committed after it, each exactly once, with
//! the position to read from next. Why sequence numbers alone would skip rows is in the
//! migration.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::EventType;

/// Where a reader of the log stands: a PostgreSQL snapshot in its text form
/// (`xmin:xmax:xip,...`). The rows visible in it have been read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position(String);

/// One row of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The row's number: the order rows were written in.
    pub seq: i64,
    /// What happened: the kinds the log holds are the event stream's types, one table of
    /// stored names for both (`events::KINDS`).
    pub kind: EventType,
    /// The article it happened to, or the article of the quote added.
    pub article: Option<Uuid>,
    /// The claim it happened to, or the claim of the quote or verdict added.
    pub claim: Option<Uuid>,
    /// The verdict given.
    pub verdict: Option<Uuid>,
    /// When the change was made (its transaction's start).
    pub time: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    position: String,
    seq: Option<i64>,
    kind: Option<String>,
    article_id: Option<Uuid>,
    claim_id: Option<Uuid>,
    verdict_id: Option<Uuid>,
    change_time: Option<OffsetDateTime>,
}

/// The position now: following the log from here reads every change committed from now on.
/// Read it in the same transaction (at REPEATABLE READ) as the state it starts from.
pub async fn now(conn: &mut PgConnection) -> sqlx::Result<Position> {
    let snapshot: String = sqlx::query_scalar("select pg_current_snapshot()::text")
        .fetch_one(conn)
        .await?;
    Ok(Position(snapshot))
}

/// Whether changes a reader at `position` had not read may have been pruned (for the event
/// stream's retention, migration 0009): the newest pruned transaction was still running, or not
/// yet begun, in the reader's snapshot. Asked after reading from `position`, a `false` means
/// that reading missed nothing. A reader told `true` must start afresh from the tables.
pub async fn pruned_past(conn: &mut PgConnection, position: &Position) -> sqlx::Result<bool> {
    sqlx::query_scalar("select pruned_txid >= pg_snapshot_xmin($1::pg_snapshot) from change_stream")
        .bind(&position.0)
        .fetch_one(conn)
        .await
}

/// The changes committed since `position`, in the order they were written, and the position
/// after them. One statement: its snapshot both selects the rows and is the next position.
pub async fn since(
    conn: &mut PgConnection,
    position: &Position,
) -> sqlx::Result<(Vec<Change>, Position)> {
    // the rows of transactions older than the old snapshot's oldest running one were all
    // visible in it; the index on txid starts the scan there
    let rows: Vec<ChangeRow> = sqlx::query_as(
        "select s.position, c.seq, c.kind, c.article_id, c.claim_id, c.verdict_id, \
                c.change_time \
         from (select pg_current_snapshot()::text as position) s \
         left join lateral ( \
             select seq, kind, article_id, claim_id, verdict_id, change_time \
             from changes \
             where txid >= pg_snapshot_xmin($1::pg_snapshot) \
               and not pg_visible_in_snapshot(txid, $1::pg_snapshot) \
         ) c on true \
         order by c.seq",
    )
    .bind(&position.0)
    .fetch_all(conn)
    .await?;
    let next = rows
        .first()
        .map(|row| Position(row.position.clone()))
        .unwrap_or_else(|| position.clone());
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        // the left join's one row when nothing changed
        let Some(seq) = row.seq else { continue };
        let stored = row.kind.unwrap_or_default();
        // a kind this code does not know would be a change skipped: refuse it loudly
        let kind = super::events::known_kind(&stored).ok_or_else(|| {
            sqlx::Error::Decode(format!("change {seq} has the unknown kind {stored:?}").into())
        })?;
        changes.push(Change {
            seq,
            kind,
            article: row.article_id,
            claim: row.claim_id,
            verdict: row.verdict_id,
            time: row.change_time.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        });
    }
    Ok((changes, next))
}
