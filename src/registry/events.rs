//! The event stream: every committed change, in commit order, to clients that watch it.
//!
//! Three parts, each bounded:
//!
//! - **The sequencer.** Every replica runs one: every [`SEQUENCE_INTERVAL`] it numbers the
//!   changes committed since the last round (one replica numbers a round, the others skip it;
//!   the order and why it is commit order are in migration 0009) and publishes the newest
//!   position on a watch channel. It has a connection of its own, outside the pool, so that a
//!   pool busy with calls never holds up every stream of the replica.
//! - **The streams.** Each stream sleeps on that watch channel, holding no connection; when the
//!   position moves past its cursor, it reads one page (at most [`PAGE_EVENTS`] events, at most
//!   [`SCAN_WINDOW`] positions scanned) and hands the events out one at a time as the client takes
//!   them. A slow client only leaves its stream behind: the stream reads its next page when the
//!   last one has been sent, so the server holds at most one page per stream, whatever the lag.
//!   A replica serves at most its configured number of streams, and at most a third of the pool
//!   reads pages at once, so streams never starve the calls.
//! - **Retention.** Every [`PRUNE_INTERVAL`] the oldest changes beyond the retention are pruned;
//!   a cursor older than what is left is refused, or ends a stream that fell that far behind,
//!   with CURSOR_TOO_OLD.
//!
//! A stream's cursor only ever moves to a position that its own read found committed: the watch
//! channel only wakes it.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use sqlx::{ConnectOptions, PgConnection};
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

use super::Registry;
use crate::domain::{Event, EventFilter, HeartbeatInterval, WatchStart};
use crate::error::Error;
use crate::store::events;

/// How often the sequencer numbers what was committed: the most an event waits to be numbered,
/// and so most of its delivery lag.
pub const SEQUENCE_INTERVAL: Duration = Duration::from_millis(10);
/// How often the oldest changes beyond the retention are pruned.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60);
/// How long changes are kept for clients to resume from, unless configured otherwise: a week, so
/// that a consumer down over a long weekend resumes without re-reading everything.
pub const DEFAULT_EVENT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// The most streams one replica serves at once, unless configured otherwise. An idle stream
/// costs a sleeping task; one catching up holds one page.
pub const DEFAULT_MAX_EVENT_STREAMS: u32 = 1000;
/// The most events a stream reads at once: what it holds in memory for a slow client.
pub const PAGE_EVENTS: i64 = 500;
/// The most positions one read scans: a stream whose filters let little through walks the log
/// in steps this long, each a short range of the primary key.
pub const SCAN_WINDOW: i64 = 10_000;
/// The most changes pruned in one transaction, so that pruning a backlog never holds locks long.
const PRUNE_BATCH: i64 = 10_000;
/// How soon a stream reads again when the position it was woken for was not visible yet.
const REREAD_DELAY: Duration = Duration::from_millis(5);

/// What a stream sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchMessage {
    /// A change.
    Event(Event),
    /// Nothing more the filters let through up to this position: the cursor to resume from.
    Heartbeat(i64),
}

/// A stream of a watch's messages; ends after its first error.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<WatchMessage, Error>> + Send>>;

/// What every stream of a replica shares: the newest position, the stream and read limits, the
/// retention, and the signal that the server is stopping.
#[derive(Debug)]
pub struct EventHub {
    /// The newest position the sequencer saw: wakes the streams.
    latest: watch::Sender<i64>,
    /// Turns true when the server stops: streams end, so that shutdown does not wait for them.
    closing: watch::Sender<bool>,
    /// One permit per stream served.
    streams: Arc<Semaphore>,
    /// How many streams may be served at once.
    max_streams: u32,
    /// One permit per page read at once.
    reads: Semaphore,
    /// How long changes are kept.
    retention: Duration,
}

impl EventHub {
    /// A hub for a replica whose pool has `pool_size` connections.
    pub fn new(retention: Duration, max_streams: u32, pool_size: u32) -> Self {
        let reads = usize::try_from(pool_size.div_ceil(3)).unwrap_or(1).max(1);
        let streams = usize::try_from(max_streams).unwrap_or(usize::MAX);
        EventHub {
            latest: watch::Sender::new(0),
            closing: watch::Sender::new(false),
            streams: Arc::new(Semaphore::new(streams)),
            max_streams,
            reads: Semaphore::new(reads),
            retention,
        }
    }
}

impl Registry {
    /// The same registry keeping changes for `retention` and serving at most `max_streams`
    /// streams. Call it before serving.
    pub fn with_event_settings(mut self, retention: Duration, max_streams: u32) -> Self {
        let pool_size = self.pool.options().get_max_connections();
        self.events = Arc::new(EventHub::new(retention, max_streams, pool_size));
        self
    }

    /// Numbers committed changes every [`SEQUENCE_INTERVAL`], forever, on a connection of its
    /// own, and wakes this replica's streams when the newest position moves. A failed round is
    /// retried at the next interval on a new connection; the first failure of a streak is
    /// logged, and the recovery.
    pub async fn sequence_events(&self) {
        let mut ticks = tokio::time::interval(SEQUENCE_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut conn: Option<PgConnection> = None;
        let mut failing = false;
        loop {
            ticks.tick().await;
            let round = async {
                let conn = match &mut conn {
                    Some(conn) => conn,
                    None => conn.insert(self.pool.connect_options().connect().await?),
                };
                events::advance(conn).await
            };
            match round.await {
                Ok(last) => {
                    if failing {
                        tracing::info!("numbering changes for the event stream again");
                        failing = false;
                    }
                    self.events.latest.send_if_modified(|newest| {
                        let moved = last > *newest;
                        *newest = (*newest).max(last);
                        moved
                    });
                }
                Err(error) => {
                    // a connection that failed once is not trusted again
                    conn = None;
                    if !failing {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "cannot number changes for the event stream: streams wait until it can"
                        );
                        failing = true;
                    }
                }
            }
        }
    }

    /// Prunes the changes beyond the retention every [`PRUNE_INTERVAL`], forever.
    pub async fn prune_events(&self) {
        let mut ticks = tokio::time::interval(PRUNE_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let cutoff = OffsetDateTime::now_utc() - self.events.retention;
            match self.prune_events_before(cutoff).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "pruned changes beyond the retention"),
                Err(error) => tracing::warn!(
                    error = format!("{error:#}"),
                    "cannot prune the change log: trying again later"
                ),
            }
        }
    }

    /// Prunes, oldest first, the numbered changes made before `cutoff`, up to the first younger
    /// one; returns how many. Clients resuming from a pruned position are told their cursor is
    /// too old; replicas that follow the log and had not read them start afresh.
    pub async fn prune_events_before(&self, cutoff: OffsetDateTime) -> Result<u64, Error> {
        let mut total = 0;
        loop {
            let mut conn = self.pool.acquire().await?;
            let pruned = events::prune(&mut conn, cutoff, PRUNE_BATCH).await?;
            total += pruned;
            if pruned < PRUNE_BATCH.unsigned_abs() {
                return Ok(total);
            }
        }
    }

    /// Ends every stream of this replica with UNAVAILABLE, so that a stopping server is not kept
    /// waiting by streams that never end by themselves; clients resume elsewhere.
    pub fn close_event_streams(&self) {
        self.events.closing.send_replace(true);
    }

    /// A stream of the changes after `start` that `filter` lets through, with a heartbeat first
    /// and whenever it has been silent for `heartbeat`. Refuses a cursor past the newest position
    /// (not one of this registry's), one older than the retained history (CURSOR_TOO_OLD), and
    /// a stream beyond the replica's limit.
    pub async fn watch_events(
        &self,
        start: WatchStart,
        filter: EventFilter,
        heartbeat: HeartbeatInterval,
    ) -> Result<EventStream, Error> {
        let permit = self
            .events
            .streams
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                Error::Exhausted(format!(
                    "this replica serves its most event streams at once ({}); retry later",
                    self.events.max_streams
                ))
            })?;
        let bounds = {
            let mut conn = self.pool.acquire().await?;
            events::bounds(&mut conn).await?
        };
        let cursor = match start {
            WatchStart::Now => bounds.last,
            WatchStart::Oldest => bounds.pruned_through,
            WatchStart::After(cursor) if cursor > bounds.last => {
                return Err(Error::invalid(
                    "cursor",
                    format!(
                        "{cursor} is past the newest cursor this registry has given ({}): it is \
                         not a cursor of this registry's stream",
                        bounds.last
                    ),
                ));
            }
            WatchStart::After(cursor) if cursor < bounds.pruned_through => {
                return Err(Error::CursorTooOld {
                    cursor,
                    oldest: bounds.pruned_through,
                });
            }
            WatchStart::After(cursor) => cursor,
        };
        let watcher = Watcher {
            registry: self.clone(),
            cursor,
            filter,
            heartbeat: heartbeat.get(),
            latest: self.events.latest.subscribe(),
            closing: self.events.closing.subscribe(),
            pending: VecDeque::new(),
            quiet_since: Instant::now(),
            greeted: false,
            ended: false,
            _permit: permit,
        };
        Ok(Box::pin(futures_util::stream::unfold(
            watcher,
            |mut watcher| async move { watcher.next().await.map(|message| (message, watcher)) },
        )))
    }
}

/// One client's stream: where it stands, what it lets through, and the page it is handing out.
struct Watcher {
    registry: Registry,
    /// Every event the filters let through up to here has been read (and, once `pending` is
    /// empty, sent).
    cursor: i64,
    filter: EventFilter,
    heartbeat: Duration,
    latest: watch::Receiver<i64>,
    closing: watch::Receiver<bool>,
    /// Read and not yet sent: at most one page.
    pending: VecDeque<Event>,
    /// When the last message was sent.
    quiet_since: Instant,
    /// Whether the first heartbeat, with the starting cursor, was sent.
    greeted: bool,
    /// Whether the stream ended with an error.
    ended: bool,
    /// The stream's place among the replica's streams, given back when it is dropped.
    _permit: OwnedSemaphorePermit,
}

impl Watcher {
    /// The next message; `None` ends the stream.
    async fn next(&mut self) -> Option<Result<WatchMessage, Error>> {
        if self.ended {
            return None;
        }
        if !self.greeted {
            self.greeted = true;
            return Some(Ok(self.heartbeat_now()));
        }
        let mut reread_at = None;
        loop {
            if *self.closing.borrow() {
                return self.end(Error::NotReady(
                    "this replica is shutting down: resume from your last cursor".into(),
                ));
            }
            if let Some(event) = self.pending.pop_front() {
                self.quiet_since = Instant::now();
                return Some(Ok(WatchMessage::Event(event)));
            }
            let due = self.quiet_since + self.heartbeat;
            if Instant::now() >= due {
                return Some(Ok(self.heartbeat_now()));
            }
            let latest = *self.latest.borrow_and_update();
            if latest > self.cursor && reread_at.is_none_or(|at| Instant::now() >= at) {
                let before = self.cursor;
                if let Err(error) = self.read(latest).await {
                    return self.end(error);
                }
                if self.cursor > before || !self.pending.is_empty() {
                    reread_at = None;
                    continue;
                }
                // the round that gave `latest` was not visible to the read yet
                reread_at = Some(Instant::now() + REREAD_DELAY);
            }
            let wake = reread_at
                .filter(|_| latest > self.cursor)
                .map_or(due, |at| at.min(due));
            tokio::select! {
                changed = self.latest.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    reread_at = None;
                }
                _ = self.closing.changed() => {}
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    fn heartbeat_now(&mut self) -> WatchMessage {
        self.quiet_since = Instant::now();
        WatchMessage::Heartbeat(self.cursor)
    }

    fn end(&mut self, error: Error) -> Option<Result<WatchMessage, Error>> {
        self.ended = true;
        Some(Err(error))
    }

    /// Reads the next page after the cursor, up to `latest` and one scan window at most, and
    /// moves the cursor to the end of what it covered.
    async fn read(&mut self, latest: i64) -> Result<(), Error> {
        let upto = latest.min(self.cursor.saturating_add(SCAN_WINDOW));
        let hub = &self.registry.events;
        let _reading =
            hub.reads.acquire().await.map_err(|e| {
                Error::Internal(anyhow::Error::new(e).context("the read limit closed"))
            })?;
        let mut conn = self.registry.pool.acquire().await?;
        let page = events::page(&mut conn, self.cursor, upto, &self.filter, PAGE_EVENTS).await?;
        drop(conn);
        if page.pruned_through > self.cursor {
            return Err(Error::CursorTooOld {
                cursor: self.cursor,
                oldest: page.pruned_through,
            });
        }
        let full = i64::try_from(page.events.len()).unwrap_or(i64::MAX) >= PAGE_EVENTS;
        self.cursor = match page.events.last() {
            Some(last) if full => last.position,
            // the whole range was read, as far as the snapshot had numbered it
            _ => upto.min(page.last).max(self.cursor),
        };
        self.pending.extend(page.events);
        Ok(())
    }
}
