//! The event stream: every committed change, in commit order, to clients that watch it.
//!
//! Three parts, each bounded:
//!
//! - **The sequencer.** Every replica runs one: every [`SEQUENCE_INTERVAL`] it numbers the
//!   changes committed since the last round (one replica numbers a round, the others skip it;
//!   the order and why it is commit order are in migration 0009), then reads the newly numbered
//!   events, its own and other replicas', into the replica's window of recent events (the last
//!   [`RECENT_EVENTS`]) and wakes the streams. It has a connection of its own, outside the pool,
//!   so that a pool busy with calls never holds up every stream of the replica.
//! - **The streams.** Each stream sleeps on the replica's "newest position" watch channel,
//!   holding no connection. When the position moves past its cursor it takes the next page (at
//!   most [`PAGE_EVENTS`] events) from the window, in memory, or, when it is further behind than
//!   the window reaches, reads it from PostgreSQL (at most [`SCAN_WINDOW`] positions scanned, and
//!   at most a third of the pool reading at once, so streams never starve the calls). It hands the
//!   page out one event at a time as the client takes them, and takes the next page only when the
//!   last is sent: a slow client only leaves its stream behind, and the server holds one page for
//!   it, whatever the lag. A replica serves at most its configured number of streams.
//! - **Retention.** Every [`PRUNE_INTERVAL`] the oldest changes beyond the retention are pruned;
//!   a cursor older than what is left is refused, or ends a stream that fell that far behind,
//!   with CURSOR_TOO_OLD.
//!
//! So the database does one read per replica per round however many streams are caught up, and
//! an event reaches them within a round of its commit. A stream's cursor only ever moves to a
//! position the window or its own read found numbered and committed.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
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

/// How often the sequencer numbers what was committed and reads it: the most an event waits
/// after its commit before streams can send it, and so most of its delivery lag.
pub const SEQUENCE_INTERVAL: Duration = Duration::from_millis(10);
/// How often the oldest changes beyond the retention are pruned.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60);
/// How long changes are kept for clients to resume from, unless configured otherwise: a week, so
/// that a consumer down over a long weekend resumes without re-reading everything.
pub const DEFAULT_EVENT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// The most streams one replica serves at once, unless configured otherwise. An idle stream
/// costs a sleeping task; one catching up holds one page.
pub const DEFAULT_MAX_EVENT_STREAMS: u32 = 1000;
/// How many recent events a replica keeps in memory for its streams: at 2,000 events a second,
/// the last five seconds, so that streams that keep up, and clients that reconnect within
/// seconds, never read the database; about 2 MB.
pub const RECENT_EVENTS: usize = 10_000;
/// The most events a stream takes at once: what it holds for a slow client.
pub const PAGE_EVENTS: i64 = 500;
/// The most positions one read of a filtered stream scans in PostgreSQL: a stream whose filters
/// let little through walks the log in steps this long, each a short range of the primary key.
/// An unfiltered stream reads [`PAGE_EVENTS`] positions at a time (every position is an event).
pub const SCAN_WINDOW: i64 = 10_000;
/// The most events the sequencer reads into the window per read; it reads again in the same
/// round until it has caught up.
const SEQUENCER_READ: i64 = 2_000;
/// The most changes pruned in one transaction, so that pruning a backlog never holds locks long.
const PRUNE_BATCH: i64 = 10_000;
/// How long the sequencer waits after a failed round, besides its interval: a database that is
/// away is not asked for a connection a hundred times a second.
const FAILED_ROUND_PAUSE: Duration = Duration::from_millis(250);

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

/// The replica's window of recent events: every event after position `after` up to `through`,
/// in order, as read from PostgreSQL once numbered (and so committed).
#[derive(Debug, Default)]
struct Recent {
    /// Every event after this position is in `events` (up to `through`).
    after: i64,
    /// The newest position read.
    through: i64,
    events: VecDeque<Event>,
    /// Whether the sequencer has read anything yet: before, the window covers nothing.
    started: bool,
}

impl Recent {
    /// Appends what the sequencer read, which continues the window, dropping the oldest events
    /// beyond `capacity`.
    fn extend(&mut self, read: Vec<Event>, through: i64, capacity: usize) {
        self.events.extend(read);
        self.through = self.through.max(through);
        while self.events.len() > capacity {
            if let Some(dropped) = self.events.pop_front() {
                self.after = dropped.position;
            }
        }
        if capacity == 0 {
            self.after = self.through;
        }
    }

    /// The events after `cursor` that `filter` lets through, at most `limit`, and the position
    /// they cover up to; `None` when the window does not reach back to `cursor`.
    fn after(&self, cursor: i64, filter: &EventFilter, limit: usize) -> Option<(Vec<Event>, i64)> {
        if !self.started || cursor < self.after {
            return None;
        }
        let first = self.events.partition_point(|e| e.position <= cursor);
        let mut taken = Vec::new();
        for event in self.events.range(first..) {
            if filter.admits(event) {
                taken.push(event.clone());
                if taken.len() >= limit {
                    return Some((taken, event.position));
                }
            }
        }
        Some((taken, self.through.max(cursor)))
    }
}

/// What every stream of a replica shares: the window of recent events and its newest position,
/// the stream and read limits, the retention, and the signal that the server is stopping.
#[derive(Debug)]
pub struct EventHub {
    /// The newest position in the window: wakes the streams.
    latest: watch::Sender<i64>,
    /// The recent events.
    recent: RwLock<Recent>,
    /// How many events the window keeps.
    capacity: usize,
    /// Turns true when the server stops: streams end, so that shutdown does not wait for them.
    closing: watch::Sender<bool>,
    /// One permit per stream served.
    streams: Arc<Semaphore>,
    /// How many streams may be served at once.
    max_streams: u32,
    /// One permit per page read from PostgreSQL at once.
    reads: Semaphore,
    /// How long changes are kept.
    retention: Duration,
}

impl EventHub {
    /// A hub for a replica whose pool has `pool_size` connections, keeping `capacity` recent
    /// events in memory.
    pub fn new(retention: Duration, max_streams: u32, pool_size: u32, capacity: usize) -> Self {
        let reads = usize::try_from(pool_size.div_ceil(3)).unwrap_or(1).max(1);
        let streams = usize::try_from(max_streams).unwrap_or(usize::MAX);
        EventHub {
            latest: watch::Sender::new(0),
            recent: RwLock::default(),
            capacity,
            closing: watch::Sender::new(false),
            streams: Arc::new(Semaphore::new(streams)),
            max_streams,
            reads: Semaphore::new(reads),
            retention,
        }
    }

    fn recent(&self) -> std::sync::RwLockReadGuard<'_, Recent> {
        self.recent.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl Registry {
    /// The same registry keeping changes for `retention` and serving at most `max_streams`
    /// streams. Call it before serving.
    pub fn with_event_settings(mut self, retention: Duration, max_streams: u32) -> Self {
        let pool_size = self.pool.options().get_max_connections();
        let capacity = self.events.capacity;
        self.events = Arc::new(EventHub::new(retention, max_streams, pool_size, capacity));
        self
    }

    /// The same registry keeping `capacity` recent events in memory for its streams instead of
    /// [`RECENT_EVENTS`]; with 0, every stream reads PostgreSQL. Call it before serving.
    pub fn with_recent_events(mut self, capacity: usize) -> Self {
        let pool_size = self.pool.options().get_max_connections();
        let hub = &self.events;
        self.events = Arc::new(EventHub::new(
            hub.retention,
            hub.max_streams,
            pool_size,
            capacity,
        ));
        self
    }

    /// Numbers committed changes every [`SEQUENCE_INTERVAL`], forever, on a connection of its
    /// own, reads what was numbered (by this replica or another) into the window of recent
    /// events, and wakes this replica's streams. A failed round is retried at the next interval
    /// on a new connection; the first failure of a streak is logged, and the recovery.
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
                let last = events::advance(conn).await?;
                self.read_recent(conn, last).await
            };
            match round.await {
                Ok(()) => {
                    if failing {
                        tracing::info!("numbering changes for the event stream again");
                        failing = false;
                    }
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
                    tokio::time::sleep(FAILED_ROUND_PAUSE).await;
                }
            }
        }
    }

    /// Reads the events numbered up to `last` into the window, and tells the streams.
    async fn read_recent(&self, conn: &mut PgConnection, last: i64) -> sqlx::Result<()> {
        let hub = &self.events;
        let (started, mut through) = {
            let recent = hub.recent();
            (recent.started, recent.through)
        };
        if !started {
            // the window starts with what is numbered from now on
            let mut recent = hub.recent.write().unwrap_or_else(|e| e.into_inner());
            *recent = Recent {
                after: last,
                through: last,
                events: VecDeque::new(),
                started: true,
            };
            drop(recent);
            hub.latest.send_replace(last);
            return Ok(());
        }
        while through < last {
            let upto = last.min(through + SEQUENCER_READ);
            let page =
                events::page(conn, through, upto, &EventFilter::default(), SEQUENCER_READ).await?;
            let full = i64::try_from(page.events.len()).unwrap_or(i64::MAX) >= SEQUENCER_READ;
            let read_through = match page.events.last() {
                Some(event) if full => event.position,
                _ => upto.min(page.last).max(through),
            };
            if read_through == through {
                // numbered by a round this snapshot does not see yet: read it next round
                break;
            }
            hub.recent
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .extend(page.events, read_through, hub.capacity);
            through = read_through;
            hub.latest.send_replace(through);
        }
        Ok(())
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
    /// Every event the filters let through up to here has been taken (and, once `pending` is
    /// empty, sent).
    cursor: i64,
    filter: EventFilter,
    heartbeat: Duration,
    latest: watch::Receiver<i64>,
    closing: watch::Receiver<bool>,
    /// Taken and not yet sent: at most one page.
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
            if latest > self.cursor {
                if let Err(error) = self.take(latest).await {
                    return self.end(error);
                }
                continue;
            }
            tokio::select! {
                changed = self.latest.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                _ = self.closing.changed() => {}
                () = tokio::time::sleep_until(due) => {}
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

    /// Takes the next page after the cursor, up to `latest`, from the window of recent events
    /// or, when the window does not reach back that far, from PostgreSQL; moves the cursor to
    /// the end of what it covered.
    async fn take(&mut self, latest: i64) -> Result<(), Error> {
        let limit = usize::try_from(PAGE_EVENTS).unwrap_or(usize::MAX);
        let from_memory = self
            .registry
            .events
            .recent()
            .after(self.cursor, &self.filter, limit);
        let (events, through) = match from_memory {
            Some(taken) => taken,
            None => self.read(latest).await?,
        };
        self.cursor = self.cursor.max(through);
        self.pending.extend(events);
        Ok(())
    }

    /// Reads the next page after the cursor from PostgreSQL, up to `latest` and one window at
    /// most; returns it and the position it covers up to.
    async fn read(&mut self, latest: i64) -> Result<(Vec<Event>, i64), Error> {
        let window = if self.filter.is_everything() {
            PAGE_EVENTS
        } else {
            SCAN_WINDOW
        };
        let upto = latest.min(self.cursor.saturating_add(window));
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
        let through = match page.events.last() {
            Some(last) if full => last.position,
            // the whole range was read, as far as the snapshot had numbered it; `latest` comes
            // from the window, which only holds what was read committed, so it is all there
            _ => upto.min(page.last),
        };
        Ok((page.events, through))
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;
    use crate::domain::{ClaimName, EventType, Watched};

    fn event(position: i64, claim: ClaimName) -> Event {
        Event {
            position,
            event_type: Some(EventType::ClaimUpdated),
            article: None,
            claim: Some(claim),
            verdict: None,
            link: None,
            change_time: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_window_serves_what_follows_a_cursor_it_reaches_and_nothing_older() {
        let (a, b) = (ClaimName(Uuid::now_v7()), ClaimName(Uuid::now_v7()));
        let mut recent = Recent {
            after: 10,
            through: 10,
            events: VecDeque::new(),
            started: true,
        };
        recent.extend(
            (11..=15)
                .map(|p| event(p, if p % 2 == 0 { a } else { b }))
                .collect(),
            15,
            4,
        );
        assert_eq!(
            recent.after, 11,
            "the oldest event beyond the capacity is dropped"
        );
        assert!(recent.after(10, &EventFilter::default(), 10).is_none());
        let (all, through) = recent.after(11, &EventFilter::default(), 10).unwrap();
        assert_eq!(
            all.iter().map(|e| e.position).collect::<Vec<_>>(),
            [12, 13, 14, 15]
        );
        assert_eq!(through, 15);
        let (two, through) = recent.after(11, &EventFilter::default(), 2).unwrap();
        assert_eq!(
            (two.len(), through),
            (2, 13),
            "a full page covers up to its last event"
        );
        let only_a = EventFilter {
            types: Vec::new(),
            resources: vec![Watched::Claim(a)],
        };
        let (of_a, through) = recent.after(13, &only_a, 10).unwrap();
        assert_eq!(of_a.iter().map(|e| e.position).collect::<Vec<_>>(), [14]);
        assert_eq!(
            through, 15,
            "the cursor moves past what the filter holds back"
        );
        assert_eq!(recent.after(15, &only_a, 10).unwrap(), (Vec::new(), 15));
    }

    #[test]
    fn a_window_of_no_events_reaches_no_cursor_before_its_end() {
        let mut recent = Recent {
            started: true,
            ..Recent::default()
        };
        recent.extend(vec![event(1, ClaimName(Uuid::now_v7()))], 1, 0);
        assert!(recent.after(0, &EventFilter::default(), 10).is_none());
        assert_eq!(
            recent.after(1, &EventFilter::default(), 10).unwrap(),
            (Vec::new(), 1)
        );
    }
}
