//! Semantic search: the claims whose embeddings are nearest a query's, by cosine similarity.
//!
//! Exact and brute force: every stored vector is compared with the query. That is a few
//! milliseconds per 100,000 claims and needs no tuning; an approximate index can replace the
//! inside of [`VectorIndex`] later without changing its methods.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::RwLock;

use super::Key;

/// A claim found semantically.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VectorHit {
    /// The claim.
    pub key: Key,
    /// The cosine similarity of its embedding and the query's, in [-1, 1].
    pub cosine: f32,
}

/// A vector of the wrong length was given.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("a vector of {actual} numbers where the index holds {expected}")]
pub struct DimensionMismatch {
    /// The index's dimension.
    pub expected: usize,
    /// The vector's length.
    pub actual: usize,
}

/// The stored vectors, row by row.
#[derive(Debug, Default)]
struct Rows {
    /// The key of each row.
    keys: Vec<Key>,
    /// Row `i` is `values[i * dimension..(i + 1) * dimension]`, unit length.
    values: Vec<f32>,
    /// The row of each key.
    rows: HashMap<Key, usize>,
}

/// Unit vectors keyed by [`Key`], searched by cosine similarity. `Send + Sync`: writers take a
/// write lock for the time of one copy, searches share a read lock. Changes are visible at once
/// (no commit).
#[derive(Debug)]
pub struct VectorIndex {
    /// Length of every vector.
    dimension: usize,
    /// The vectors.
    rows: RwLock<Rows>,
}

/// A hit ordered so that a max-heap keeps the worst on top: the heap of the best `k` so far.
#[derive(PartialEq)]
struct Worst(VectorHit);

impl Eq for Worst {}

impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        // lower cosine is "greater" (worse); ties broken by key so results are deterministic
        other
            .0
            .cosine
            .total_cmp(&self.0.cosine)
            .then(self.0.key.cmp(&other.0.key))
    }
}

impl VectorIndex {
    /// An empty index of vectors of `dimension` numbers.
    pub fn new(dimension: usize) -> Self {
        Self {
            dimension,
            rows: RwLock::new(Rows::default()),
        }
    }

    /// The length of the vectors it holds.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Adds a claim's vector or replaces the one it had. The vector is scaled to unit length, so
    /// any embedding may be given.
    pub fn upsert(&self, key: Key, vector: &[f32]) -> Result<(), DimensionMismatch> {
        self.check(vector)?;
        let mut unit = vector.to_vec();
        super::model::normalize(&mut unit);
        let mut rows = self.write();
        match rows.rows.get(&key) {
            Some(&row) => {
                let start = row * self.dimension;
                rows.values[start..start + self.dimension].copy_from_slice(&unit);
            }
            None => {
                let row = rows.keys.len();
                rows.keys.push(key);
                rows.values.extend_from_slice(&unit);
                rows.rows.insert(key, row);
            }
        }
        Ok(())
    }

    /// Removes a claim's vector; false when it had none.
    pub fn remove(&self, key: Key) -> bool {
        let mut rows = self.write();
        let Some(row) = rows.rows.remove(&key) else {
            return false;
        };
        // move the last row into the hole
        let last = rows.keys.len() - 1;
        if row != last {
            let moved = rows.keys[last];
            rows.keys[row] = moved;
            rows.rows.insert(moved, row);
            let d = self.dimension;
            rows.values.copy_within(last * d..(last + 1) * d, row * d);
        }
        rows.keys.pop();
        rows.values.truncate(last * self.dimension);
        true
    }

    /// A claim's stored (unit) vector.
    pub fn get(&self, key: Key) -> Option<Vec<f32>> {
        let rows = self.read();
        let row = *rows.rows.get(&key)?;
        Some(rows.values[row * self.dimension..(row + 1) * self.dimension].to_vec())
    }

    /// How many vectors it holds.
    pub fn len(&self) -> usize {
        self.read().keys.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k` claims most similar to `query`, most similar first (ties by key).
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<VectorHit>, DimensionMismatch> {
        self.check(query)?;
        let mut unit = query.to_vec();
        super::model::normalize(&mut unit);
        let rows = self.read();
        let mut best: BinaryHeap<Worst> = BinaryHeap::with_capacity(k + 1);
        if k == 0 {
            return Ok(Vec::new());
        }
        for (row, key) in rows.keys.iter().enumerate() {
            let values = &rows.values[row * self.dimension..(row + 1) * self.dimension];
            let hit = Worst(VectorHit {
                key: *key,
                cosine: dot(values, &unit),
            });
            if best.len() < k {
                best.push(hit);
            } else if best.peek().is_some_and(|worst| hit < *worst) {
                best.pop();
                best.push(hit);
            }
        }
        // ascending order of `Worst` is best first
        Ok(best.into_sorted_vec().into_iter().map(|w| w.0).collect())
    }

    /// The cosine similarity of `query` and each of `keys`' vectors (`None` for a key without
    /// one): the semantic score of claims another signal found.
    pub fn cosines(
        &self,
        query: &[f32],
        keys: &[Key],
    ) -> Result<Vec<Option<f32>>, DimensionMismatch> {
        self.check(query)?;
        let mut unit = query.to_vec();
        super::model::normalize(&mut unit);
        let rows = self.read();
        Ok(keys
            .iter()
            .map(|key| {
                let row = *rows.rows.get(key)?;
                Some(dot(
                    &rows.values[row * self.dimension..(row + 1) * self.dimension],
                    &unit,
                ))
            })
            .collect())
    }

    fn check(&self, vector: &[f32]) -> Result<(), DimensionMismatch> {
        if vector.len() == self.dimension {
            Ok(())
        } else {
            Err(DimensionMismatch {
                expected: self.dimension,
                actual: vector.len(),
            })
        }
    }

    /// The rows for reading; a writer that panicked mid-copy (none is expected: copies do not
    /// panic) would at worst leave one vector half-written, so the lock is taken regardless.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Rows> {
        self.rows.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Rows> {
        self.rows.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// The dot product, in four independent sums so the compiler can vectorise it.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0f32; 4];
    let chunks = a.len() / 4 * 4;
    for (x, y) in a[..chunks].chunks_exact(4).zip(b[..chunks].chunks_exact(4)) {
        for i in 0..4 {
            sums[i] += x[i] * y[i];
        }
    }
    let tail: f32 = a[chunks..]
        .iter()
        .zip(&b[chunks..])
        .map(|(x, y)| x * y)
        .sum();
    sums.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_vectors_come_first() {
        let index = VectorIndex::new(3);
        index.upsert(1, &[1.0, 0.0, 0.0]).unwrap();
        index.upsert(2, &[0.0, 1.0, 0.0]).unwrap();
        index.upsert(3, &[2.0, 2.0, 0.0]).unwrap(); // normalized on the way in
        let hits = index.search(&[1.0, 0.1, 0.0], 2).unwrap();
        assert_eq!(hits.iter().map(|h| h.key).collect::<Vec<_>>(), vec![1, 3]);
        assert!((hits[1].cosine - (1.1 / (2f32.sqrt() * 1.01f32.sqrt()))).abs() < 1e-5);
        assert_eq!(index.search(&[1.0, 0.0, 0.0], 10).unwrap().len(), 3);
    }

    #[test]
    fn replaced_and_removed_vectors_are_searched_as_they_now_are() {
        let index = VectorIndex::new(2);
        for key in 0..5u128 {
            index.upsert(key, &[1.0, key as f32]).unwrap();
        }
        index.upsert(0, &[0.0, -1.0]).unwrap();
        assert!(index.remove(2));
        assert!(!index.remove(2));
        assert_eq!(index.len(), 4);
        let hits = index.search(&[0.0, -1.0], 1).unwrap();
        assert_eq!(hits[0].key, 0);
        let all: Vec<Key> = index
            .search(&[0.0, 1.0], 10)
            .unwrap()
            .iter()
            .map(|h| h.key)
            .collect();
        assert_eq!(all, vec![4, 3, 1, 0]);
        assert_eq!(index.get(4).map(|v| v.len()), Some(2));
        assert_eq!(index.cosines(&[0.0, -1.0], &[0, 2]).unwrap()[1], None);
    }

    #[test]
    fn a_vector_of_the_wrong_length_is_refused() {
        let index = VectorIndex::new(3);
        assert_eq!(
            index.upsert(1, &[1.0]),
            Err(DimensionMismatch {
                expected: 3,
                actual: 1
            })
        );
        assert!(index.search(&[1.0, 2.0], 3).is_err());
    }
}
