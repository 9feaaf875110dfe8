//! Claims read recently, kept in the process so that `GetClaim` of a claim that has not changed
//! costs no database round trip.
//!
//! The cache is only as fresh as the change log's follower ([`super::feed`]) keeps it:
//!
//! - a change committed through this replica evicts its claim before the call that made it
//!   returns, so a caller reads its own writes here;
//! - a change committed through another replica evicts its claim when the follower next reads
//!   the log, every [`super::feed::POLL_INTERVAL`];
//! - entries are served only while the follower's last reading of the log began less than
//!   [`MAX_STALENESS`] ago; when it cannot read (the database is down), every read goes to the
//!   database, so no claim is served more than [`MAX_STALENESS`] behind its last commit.
//!
//! A read that races with an eviction must not put back what was just evicted: each shard counts
//! its evictions, and a claim read from the database is kept only if its shard's count is what
//! it was before the read began ([`ClaimCache::ticket`], [`ClaimCache::insert`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::domain::Claim;

/// The oldest a claim served from the cache can be, measured from the start of the follower's
/// last reading of the change log: as long as a key revocation takes to reach every replica.
pub const MAX_STALENESS: Duration = Duration::from_secs(1);

/// How many independently locked parts the cache has: calls on different claims rarely wait for
/// each other, and an eviction spoils the in-flight reads of one part only.
const SHARDS: usize = 16;

/// One part of the cache: its entries and how many evictions it has seen.
#[derive(Debug, Default)]
struct Shard {
    entries: HashMap<Uuid, Arc<Claim>>,
    evictions: u64,
}

/// Claims by id, bounded, evicted by the change log. Shared by every clone of the registry.
#[derive(Debug)]
pub struct ClaimCache {
    shards: Vec<Mutex<Shard>>,
    /// Most entries per shard; 0 turns the cache off.
    capacity_per_shard: usize,
    /// Set once the follower has its first position: before it, an eviction could be missed.
    following: AtomicBool,
    /// When the follower's last successful reading of the log began, in microseconds after
    /// `epoch`.
    fresh_as_of: AtomicU64,
    epoch: Instant,
}

/// What [`ClaimCache::ticket`] hands a reader before it reads a claim from the database: the
/// claim's shard's eviction count then. `None` when the cache cannot take the claim.
#[derive(Clone, Copy, Debug)]
pub struct Ticket(Option<u64>);

impl ClaimCache {
    /// A cache of at most about `capacity` claims; 0 keeps none.
    pub fn new(capacity: usize) -> Self {
        ClaimCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            capacity_per_shard: capacity.div_ceil(SHARDS),
            following: AtomicBool::new(false),
            fresh_as_of: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    fn shard(&self, id: &Uuid) -> MutexGuard<'_, Shard> {
        // UUIDv7's last bytes are random
        let n = usize::from(id.as_bytes()[15]) % SHARDS;
        self.shards[n].lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fresh(&self) -> bool {
        if !self.following.load(Ordering::Acquire) {
            return false;
        }
        let as_of = Duration::from_micros(self.fresh_as_of.load(Ordering::Acquire));
        self.epoch.elapsed().saturating_sub(as_of) < MAX_STALENESS
    }

    /// The claim, if it is cached and the cache is fresh.
    pub fn get(&self, id: &Uuid) -> Option<Arc<Claim>> {
        if self.capacity_per_shard == 0 || !self.fresh() {
            return None;
        }
        self.shard(id).entries.get(id).cloned()
    }

    /// Taken before reading a claim from the database, and given back to [`ClaimCache::insert`]
    /// with what was read.
    pub fn ticket(&self, id: &Uuid) -> Ticket {
        if self.capacity_per_shard == 0 || !self.following.load(Ordering::Acquire) {
            return Ticket(None);
        }
        Ticket(Some(self.shard(id).evictions))
    }

    /// Keeps a claim read from the database since `ticket` was taken, unless a change evicted
    /// something of its shard meanwhile. A full shard forgets an arbitrary entry.
    pub fn insert(&self, ticket: Ticket, claim: Arc<Claim>) {
        let Ticket(Some(evictions)) = ticket else {
            return;
        };
        let mut shard = self.shard(&claim.name.0);
        if shard.evictions != evictions {
            return;
        }
        if shard.entries.len() >= self.capacity_per_shard
            && let Some(victim) = shard.entries.keys().next().copied()
        {
            shard.entries.remove(&victim);
        }
        shard.entries.insert(claim.name.0, claim);
    }

    /// Forgets claims that changed.
    pub fn evict(&self, ids: impl IntoIterator<Item = Uuid>) {
        for id in ids {
            let mut shard = self.shard(&id);
            shard.evictions += 1;
            shard.entries.remove(&id);
        }
    }

    /// Forgets every claim: for a follower that may have missed changes.
    pub fn clear(&self) {
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            shard.evictions += 1;
            shard.entries.clear();
        }
    }

    /// Records that the follower read the log, and applied what it read, in a reading that
    /// began at `began`: entries are fresh for [`MAX_STALENESS`] from then.
    pub fn followed(&self, began: Instant) {
        let micros = u64::try_from(began.saturating_duration_since(self.epoch).as_micros())
            .unwrap_or(u64::MAX);
        self.fresh_as_of.fetch_max(micros, Ordering::AcqRel);
        self.following.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClaimName, Origin, ReviewState};

    fn claim(id: Uuid) -> Arc<Claim> {
        Arc::new(Claim {
            name: ClaimName(id),
            statement: "The economy grew.".into(),
            claimant: "A minister".into(),
            quotes: Vec::new(),
            review_state: ReviewState::Unreviewed,
            current_verdict: None,
            version: crate::domain::ClaimVersion(1),
            create_time: time::OffsetDateTime::UNIX_EPOCH,
            update_time: time::OffsetDateTime::UNIX_EPOCH,
            origin: Origin::Manual,
            checkworthiness: None,
            previously_checked: None,
            dismissal: None,
        })
    }

    #[test]
    fn nothing_is_served_before_the_follower_has_read_the_log() {
        let cache = ClaimCache::new(100);
        let id = Uuid::now_v7();
        cache.insert(cache.ticket(&id), claim(id));
        assert!(cache.get(&id).is_none());
        cache.followed(Instant::now());
        assert!(
            cache.get(&id).is_none(),
            "a read before following was not kept"
        );
        cache.insert(cache.ticket(&id), claim(id));
        assert!(cache.get(&id).is_some());
    }

    #[test]
    fn a_read_that_raced_with_an_eviction_is_not_kept() {
        let cache = ClaimCache::new(100);
        cache.followed(Instant::now());
        let id = Uuid::now_v7();
        let ticket = cache.ticket(&id);
        cache.evict([id]);
        cache.insert(ticket, claim(id));
        assert!(cache.get(&id).is_none());
    }

    #[test]
    fn an_evicted_claim_is_read_again() {
        let cache = ClaimCache::new(100);
        cache.followed(Instant::now());
        let id = Uuid::now_v7();
        cache.insert(cache.ticket(&id), claim(id));
        cache.evict([id]);
        assert!(cache.get(&id).is_none());
    }

    #[test]
    fn entries_are_not_served_when_the_follower_has_not_read_the_log_lately() {
        let cache = ClaimCache::new(100);
        let id = Uuid::now_v7();
        cache.followed(Instant::now());
        cache.insert(cache.ticket(&id), claim(id));
        // a reading that began longer ago than the staleness allowed
        cache.fresh_as_of.store(0, Ordering::Release);
        let cache = ClaimCache {
            epoch: Instant::now() - MAX_STALENESS - Duration::from_millis(1),
            ..cache
        };
        assert!(cache.get(&id).is_none());
    }

    #[test]
    fn a_full_cache_stays_within_its_capacity() {
        let cache = ClaimCache::new(SHARDS * 2);
        cache.followed(Instant::now());
        for _ in 0..1000 {
            let id = Uuid::now_v7();
            cache.insert(cache.ticket(&id), claim(id));
        }
        let held: usize = cache
            .shards
            .iter()
            .map(|s| s.lock().unwrap().entries.len())
            .sum();
        assert!(held <= SHARDS * 2, "{held} entries held");
    }

    #[test]
    fn a_cache_of_no_entries_keeps_nothing() {
        let cache = ClaimCache::new(0);
        cache.followed(Instant::now());
        let id = Uuid::now_v7();
        cache.insert(cache.ticket(&id), claim(id));
        assert!(cache.get(&id).is_none());
    }
}
