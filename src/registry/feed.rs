//! Following the change log: every replica reads the `changes` table every [`POLL_INTERVAL`]
//! and hands what it reads to what it derives from the tables (the claim cache), so that a
//! change committed through any replica reaches every replica within about that time.
//!
//! Polling rather than `LISTEN`/`NOTIFY`: a notification takes a lock that every notifying
//! transaction's commit must queue for, which would put every write of the registry in one line;
//! a poll costs one index scan of the log's newest rows, ten times a second per replica.

use std::time::{Duration, Instant};

use super::Registry;
use crate::store::changes::{self, Change, Position};

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

    /// The changes since `position` and the position after them; from nothing, the position
    /// now.
    async fn read_changes(
        &self,
        position: Option<&Position>,
    ) -> sqlx::Result<(Vec<Change>, Position)> {
        let mut conn = self.pool.acquire().await?;
        match position {
            None => Ok((Vec::new(), changes::now(&mut conn).await?)),
            Some(position) => changes::since(&mut conn, position).await,
        }
    }

    /// Brings what the registry derives from the tables up to date with changes.
    fn apply_changes(&self, batch: &[Change]) {
        self.claims
            .evict(batch.iter().filter_map(|change| change.claim));
    }
}
