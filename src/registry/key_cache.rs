//! Verified API keys, remembered briefly so that a call does not cost a database lookup.
//!
//! An entry lives at most [`KEY_CACHE_TTL`]: a key revoked on any replica stops working on every
//! replica within that time, and at once on the replica that revoked it. Only keys that were
//! found active are remembered; an unknown secret is looked up again on every call.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::ApiKey;

/// How long a verified key is trusted without asking the database again: the most a revocation
/// on another replica takes to reach this one.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(1);

/// The most keys remembered at once; past it the cache starts afresh. Bounds memory under a flood
/// of distinct valid keys, which only an admin can create.
const MAX_ENTRIES: usize = 10_000;

/// Keys by their secret's SHA-256, each with the time it was read from the database.
#[derive(Debug, Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<[u8; 32], (ApiKey, Instant)>>,
}

impl KeyCache {
    /// The key with this secret hash, if it was verified less than [`KEY_CACHE_TTL`] ago.
    pub fn get(&self, secret_sha256: &[u8; 32]) -> Option<ApiKey> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(secret_sha256)
            .filter(|(_, read)| read.elapsed() < KEY_CACHE_TTL)
            .map(|(key, _)| key.clone())
    }

    /// Remembers a key the database just said is active.
    pub fn insert(&self, secret_sha256: [u8; 32], key: ApiKey, read: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, read)| read.elapsed() < KEY_CACHE_TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(secret_sha256, (key, read));
    }

    /// Forgets a key at once, as when it is revoked through this replica.
    pub fn forget(&self, name: crate::domain::ApiKeyName) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (key, _)| key.name != name);
    }
}
