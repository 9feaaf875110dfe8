//! The event stream's SQL (migration 0009): numbering committed changes in commit order, reading
//! them by position, and pruning the oldest.
//!
//! The order and its proofs are in the migration; here are the statements and the one table that
//! maps the log's stored kinds to event types.

use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::{Acquire, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{
    ArticleName, ClaimMatchName, ClaimName, Event, EventFilter, EventType, VerdictName, Watched,
};

/// Every kind of change the log's triggers write, as stored, with the event type it is streamed
/// as. A kind added by a migration is streamed at once, without a type, until its line is added
/// here (with its `EventType` and its value in `events.proto`).
const KINDS: [(&str, EventType); 12] = [
    ("article_created", EventType::ArticleCreated),
    ("claim_created", EventType::ClaimCreated),
    ("claim_updated", EventType::ClaimUpdated),
    ("quote_created", EventType::QuoteCreated),
    ("verdict_created", EventType::VerdictCreated),
    ("claim_embedded", EventType::ClaimEmbedded),
    ("match_created", EventType::MatchCreated),
    ("match_reviewed", EventType::MatchReviewed),
    ("verdict_published", EventType::VerdictPublished),
    ("verdict_corrected", EventType::VerdictCorrected),
    ("verdict_withdrawn", EventType::VerdictWithdrawn),
    ("verdict_edited", EventType::VerdictEdited),
];

/// The advisory lock that lets one replica prune at a time; any number that no other code uses.
const PRUNE_LOCK: i64 = 0x6368_616e_6765_7331;

/// Whether an unknown stored kind has been logged yet: once per process is enough to notice.
static WARNED_UNKNOWN_KIND: AtomicBool = AtomicBool::new(false);

/// The event type of a kind of change as the log stores it; `None` for a kind this version
/// does not know.
pub(crate) fn known_kind(kind: &str) -> Option<EventType> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, t)| *t)
}

/// [`known_kind`], warning once when the stream meets a kind it cannot name.
fn event_type(kind: &str) -> Option<EventType> {
    let found = known_kind(kind);
    if found.is_none() && !WARNED_UNKNOWN_KIND.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            kind,
            "the change log holds a kind of change this version does not name: streamed as EVENT_TYPE_UNSPECIFIED"
        );
    }
    found
}

fn stored_kind(event_type: EventType) -> &'static str {
    KINDS
        .iter()
        .find(|(_, t)| *t == event_type)
        .map(|(k, _)| *k)
        // every EventType has its line in KINDS: a test checks it
        .unwrap_or_default()
}

/// The stream's extent: the newest position given, and the newest pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The newest position given to a change; 0 before any.
    pub last: i64,
    /// Positions up to this one were pruned: the oldest cursor a client may resume after.
    pub pruned_through: i64,
}

/// One round of the sequencer: numbers the changes committed since the last round, unless
/// another replica's round is under way. Returns the newest position given, by either.
pub async fn advance(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("select change_stream_advance()")
        .fetch_one(conn)
        .await
}

/// The stream's extent now.
pub async fn bounds(conn: &mut PgConnection) -> sqlx::Result<Bounds> {
    let (last, pruned_through) =
        sqlx::query_as("select last_position, pruned_through from change_stream")
            .fetch_one(conn)
            .await?;
    Ok(Bounds {
        last,
        pruned_through,
    })
}

/// What one read of the stream found.
#[derive(Debug)]
pub struct Page {
    /// The events, in position order.
    pub events: Vec<Event>,
    /// The stream's pruned bound as of the same snapshot: if it passed the position read after,
    /// changes the reader had not seen were pruned.
    pub pruned_through: i64,
    /// The newest position numbered as of the same snapshot: the range was read up to it at most,
    /// and every position up to it is committed.
    pub last: i64,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    pruned_through: i64,
    last_position: i64,
    position: Option<i64>,
    kind: Option<String>,
    article_id: Option<Uuid>,
    claim_id: Option<Uuid>,
    verdict_id: Option<Uuid>,
    matched_claim_id: Option<Uuid>,
    change_time: Option<OffsetDateTime>,
}

impl EventRow {
    fn into_event(self) -> Option<Event> {
        let position = self.position?;
        let event_type = event_type(self.kind.as_deref().unwrap_or_default());
        let claim = self.claim_id.map(ClaimName);
        // only links name an earlier claim
        let link = claim
            .zip(self.matched_claim_id)
            .map(|(claim, matched)| ClaimMatchName {
                claim,
                matched: ClaimName(matched),
            });
        Some(Event {
            position,
            event_type,
            article: self.article_id.map(ArticleName),
            claim,
            verdict: claim
                .zip(self.verdict_id)
                .map(|(claim, id)| VerdictName { claim, id }),
            link,
            change_time: self.change_time.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        })
    }
}

/// The events after position `after` up to `upto` that `filter` lets through, in order, at most
/// `limit`; with the stream's bounds read in the same snapshot. One statement: a round of the
/// sequencer gives its positions and moves `last_position` in one transaction, so the positions
/// this statement sees are exactly those up to the `last` it returns, all committed.
pub async fn page(
    conn: &mut PgConnection,
    after: i64,
    upto: i64,
    filter: &EventFilter,
    limit: i64,
) -> sqlx::Result<Page> {
    let kinds: Vec<&str> = filter.types.iter().map(|t| stored_kind(*t)).collect();
    let mut articles: Vec<Uuid> = Vec::new();
    let mut claims: Vec<Uuid> = Vec::new();
    for watched in &filter.resources {
        match watched {
            Watched::Article(a) => articles.push(a.0),
            Watched::Claim(c) => claims.push(c.0),
        }
    }
    // The plan this is written for, whatever the statistics say (the log grows fast, and a new
    // one has none): the positions in order from the primary key, each change looked up by its
    // own (`offset 0` keeps the lookup a lookup rather than a join the planner may turn into a
    // scan of the log), stopping at `limit`. `limit 1` tells the planner the stream's state is
    // one row. The left join's row without an event carries the bounds when nothing matched.
    let rows: Vec<EventRow> = sqlx::query_as(
        "select s.pruned_through, s.last_position, e.position, e.kind, e.article_id, \
                e.claim_id, e.verdict_id, e.matched_claim_id, e.change_time \
         from (select pruned_through, last_position from change_stream limit 1) s \
         left join lateral ( \
             select p.position, c.kind, c.article_id, c.claim_id, c.verdict_id, \
                    c.matched_claim_id, c.change_time \
             from change_positions p \
             cross join lateral ( \
                 select kind, article_id, claim_id, verdict_id, matched_claim_id, change_time \
                 from changes where seq = p.seq offset 0 \
             ) c \
             where p.position > $1 and p.position <= $2 \
               and (cardinality($3::text[]) = 0 or c.kind = any($3)) \
               and ((cardinality($4::uuid[]) = 0 and cardinality($5::uuid[]) = 0) \
                    or c.article_id = any($4) \
                    or c.claim_id = any($5) or c.matched_claim_id = any($5)) \
             order by p.position \
             limit $6 \
         ) e on true \
         order by e.position",
    )
    .bind(after)
    .bind(upto)
    .bind(&kinds)
    .bind(&articles)
    .bind(&claims)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    // the left join gives at least one row
    let (pruned_through, last) = rows
        .first()
        .map_or((0, after), |r| (r.pruned_through, r.last_position));
    Ok(Page {
        events: rows.into_iter().filter_map(EventRow::into_event).collect(),
        pruned_through,
        last,
    })
}

/// Prunes, from the oldest, at most `batch` numbered changes whose transactions began before
/// `cutoff`, from the stream and the log together; returns how many. Stops at the first change
/// that is young enough, so that what is pruned is always the oldest positions, and a cursor is
/// too old exactly when it is below the pruned bound. One replica prunes at a time; another
/// finding it at work prunes nothing.
pub async fn prune(
    conn: &mut PgConnection,
    cutoff: OffsetDateTime,
    batch: i64,
) -> sqlx::Result<u64> {
    let mut tx = conn.begin().await?;
    let ours: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
        .bind(PRUNE_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !ours {
        return Ok(0);
    }
    let through: Option<i64> = sqlx::query_scalar(
        "select coalesce(min(position) filter (where not expired) - 1, max(position)) \
         from ( \
             select p.position, c.change_time < $1 as expired \
             from change_positions p join changes c on c.seq = p.seq \
             order by p.position \
             limit $2 \
         ) oldest",
    )
    .bind(cutoff)
    .bind(batch)
    .fetch_one(&mut *tx)
    .await?;
    let Some(through) = through else {
        return Ok(0);
    };
    // the newest pruned transaction tells followers by snapshot (0006) whether they missed any
    let pruned: i64 = sqlx::query_scalar(
        "with gone as ( \
             delete from change_positions where position <= $1 returning seq \
         ), logged as ( \
             delete from changes where seq in (select seq from gone) returning txid \
         ), bound as ( \
             update change_stream \
             set pruned_through = greatest(pruned_through, $1), \
                 pruned_txid = greatest(pruned_txid, \
                                        coalesce((select max(txid) from logged), '0'::xid8)) \
         ) \
         select count(*) from gone",
    )
    .bind(through)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(u64::try_from(pruned).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_has_one_stored_kind_and_back() {
        let all = [
            EventType::ArticleCreated,
            EventType::ClaimCreated,
            EventType::ClaimUpdated,
            EventType::QuoteCreated,
            EventType::VerdictCreated,
            EventType::ClaimEmbedded,
            EventType::MatchCreated,
            EventType::MatchReviewed,
            EventType::VerdictPublished,
            EventType::VerdictCorrected,
            EventType::VerdictWithdrawn,
            EventType::VerdictEdited,
        ];
        for t in all {
            let kind = stored_kind(t);
            assert!(!kind.is_empty(), "{t:?} has no stored kind");
            assert_eq!(event_type(kind), Some(t));
        }
        assert_eq!(event_type("verdict_deleted"), None);
    }
}
