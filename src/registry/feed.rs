//! Following the change log: every replica reads the `changes` table every [`POLL_INTERVAL`]
//! and hands what it reads to what it derives from the tables (the claim cache and the search
//! index), so that a change committed through any replica reaches every replica within about
//! that time. The first reading builds the search index from every claim.
//!
//! Polling rather than `LISTEN`/`NOTIFY`: a notification takes a lock that every notifying
//! transaction's commit must queue for, which would put every write of the registry in one line;
//! a poll costs one index scan of the log's newest rows, ten times a second per replica.

use std::time::{Duration, Instant};

use sqlx::{Acquire, PgConnection};
use uuid::Uuid;

use super::Registry;
use super::matcher::model_id;
use crate::store::changes::{self, Change, Position};
use crate::store::search as search_store;

/// How often the log is read.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

impl Registry {
    /// Reads the log from now on, forever, handing each batch of changes committed since the
    /// last reading to what the registry derives from the tables, and then telling the claim
    /// cache when that reading began (every change committed before it has been applied).
    /// Failed readings are retried at the next interval from the same position, so nothing is
    /// missed while the database is away; the first failure of a streak is logged, and the
    /// recovery.
    pub async fn follow_changes(&self) {
        let mut ticks = tokio::time::interval(POLL_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        let mut position: Option<Position> = None;
        loop {
            ticks.tick().await;
            let began = Instant::now();
            match self.read_changes(position.as_ref()).await {
                Ok((batch, next)) => {
                    if failing {
                        tracing::info!("reading the change log again");
                        failing = false;
                    }
                    self.apply_changes(&batch);
                    position = Some(next);
                    self.claims.followed(began);
                }
                Err(error) => {
                    if !failing {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "cannot read the change log: cached claims are not served until it can"
                        );
                        failing = true;
                    }
                }
            }
        }
    }

    /// The changes since `position` and the position after them, with the search index brought
    /// up to date with them; from nothing, or when changes not read yet were pruned from the log,
    /// the position now, with the index built from every claim as of that position.
    async fn read_changes(
        &self,
        position: Option<&Position>,
    ) -> anyhow::Result<(Vec<Change>, Position)> {
        let mut conn = self.pool.acquire().await?;
        let Some(position) = position else {
            return self.build_index(&mut conn).await;
        };
        let (batch, next) = changes::since(&mut conn, position).await?;
        if changes::pruned_past(&mut conn, position).await? {
            // changes this replica had not read were pruned (it was cut off from the database
            // for longer than the event retention): forget everything, and rebuild from the
            // tables
            tracing::warn!(
                "the change log was pruned past what this replica had read: rebuilding the search index and emptying the claim cache"
            );
            let rebuilt = self.build_index(&mut conn).await?;
            // after the new position is taken: what is read from now on is at least that fresh
            self.claims.clear();
            return Ok(rebuilt);
        }
        let mut ids: Vec<Uuid> = batch.iter().filter_map(|c| c.claim).collect();
        ids.sort_unstable();
        ids.dedup();
        if !ids.is_empty() {
            self.index_documents(&mut conn, Some(&ids)).await?;
        }
        Ok((batch, next))
    }

    /// Builds the search index from every claim, in a snapshot whose position is returned: the
    /// log is followed from there, so nothing committed after the snapshot is missed.
    async fn build_index(
        &self,
        conn: &mut PgConnection,
    ) -> anyhow::Result<(Vec<Change>, Position)> {
        let started = Instant::now();
        let mut tx = conn.begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
        let position = changes::now(&mut tx).await?;
        self.index_documents(&mut tx, None).await?;
        tx.commit().await?;
        self.index.mark_built();
        tracing::info!(
            claims = self.index.len(),
            seconds = started.elapsed().as_secs_f64(),
            "search index built"
        );
        Ok((Vec::new(), position))
    }

    /// Reads claims (all when `None`) into the search index and makes them searchable.
    async fn index_documents(
        &self,
        conn: &mut PgConnection,
        ids: Option<&[Uuid]>,
    ) -> anyhow::Result<()> {
        let mut failed = None;
        search_store::documents(conn, ids, &model_id(), |doc| {
            if failed.is_none()
                && let Err(e) = self.index.upsert(doc)
            {
                failed = Some(e);
            }
        })
        .await?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        self.index.commit()?;
        Ok(())
    }

    /// Brings what the registry derives from the tables up to date with changes.
    fn apply_changes(&self, batch: &[Change]) {
        self.claims
            .evict(batch.iter().filter_map(|change| change.claim));
    }
}
