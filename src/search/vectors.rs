//! Semantic search: the claims whose embeddings are nearest a query's, by cosine similarity.
//!
//! Up to [`EXACT_UP_TO`] vectors the search is exact and brute force: every stored vector is
//! compared with the query, a few milliseconds per 100,000 claims. Beyond that, reading every
//! vector (1.5 GB at a million claims) costs more than a search may take, so each vector also
//! keeps its signs, one bit per number (48 bytes for 384 numbers): the search first keeps the
//! [`SHORTLIST`] vectors whose signs differ least from the query's (Hamming distance, a popcount
//! per 64 numbers) and then compares those exactly. Sign bits of unit vectors approximate their
//! angle (random-hyperplane hashing), so the shortlist holds the nearest vectors with high
//! probability; `cargo bench --bench search` prints how often it holds the exact top ten.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::RwLock;

use rayon::prelude::*;

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

/// Up to this many vectors, searches compare the query with every one of them.
pub const EXACT_UP_TO: usize = 50_000;

/// Beyond [`EXACT_UP_TO`] vectors, how many (at least) the sign bits shortlist for the exact
/// comparison; a search for `k` results shortlists `8 × k` when that is more.
pub const SHORTLIST: usize = 4_096;

/// The stored vectors, row by row.
#[derive(Debug, Default)]
struct Rows {
    /// The key of each row.
    keys: Vec<Key>,
    /// Row `i` is `values[i * dimension..(i + 1) * dimension]`, unit length.
    values: Vec<f32>,
    /// Row `i`'s signs are `signs[i * words..(i + 1) * words]`: bit `j % 64` of word `j / 64`
    /// is set when number `j` is negative.
    signs: Vec<u64>,
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
    /// 64-bit words of signs per vector.
    words: usize,
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
            words: dimension.div_ceil(64),
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
        let signs = signs(&unit);
        let mut rows = self.write();
        match rows.rows.get(&key) {
            Some(&row) => {
                let start = row * self.dimension;
                rows.values[start..start + self.dimension].copy_from_slice(&unit);
                let start = row * self.words;
                rows.signs[start..start + self.words].copy_from_slice(&signs);
            }
            None => {
                let row = rows.keys.len();
                rows.keys.push(key);
                rows.values.extend_from_slice(&unit);
                rows.signs.extend_from_slice(&signs);
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
            let w = self.words;
            rows.signs.copy_within(last * w..(last + 1) * w, row * w);
        }
        rows.keys.pop();
        rows.values.truncate(last * self.dimension);
        rows.signs.truncate(last * self.words);
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

    /// The `k` claims most similar to `query`, most similar first (ties by key): exactly up to
    /// [`EXACT_UP_TO`] vectors, among a shortlist by sign bits beyond (see the module's
    /// documentation).
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<VectorHit>, DimensionMismatch> {
        let rows = self.read();
        let shortlist = if rows.keys.len() > EXACT_UP_TO {
            Some(SHORTLIST.max(k.saturating_mul(8)))
        } else {
            None
        };
        self.search_rows(&rows, query, k, shortlist)
    }

    /// [`VectorIndex::search`] comparing every vector exactly, whatever their number: what the
    /// shortlist is measured against.
    pub fn search_exact(
        &self,
        query: &[f32],
        k: usize,
    ) -> Result<Vec<VectorHit>, DimensionMismatch> {
        self.search_rows(&self.read(), query, k, None)
    }

    /// The `k` nearest among all rows, or among the `shortlist` rows whose signs are nearest.
    fn search_rows(
        &self,
        rows: &Rows,
        query: &[f32],
        k: usize,
        shortlist: Option<usize>,
    ) -> Result<Vec<VectorHit>, DimensionMismatch> {
        self.check(query)?;
        let mut unit = query.to_vec();
        super::model::normalize(&mut unit);
        let mut best: BinaryHeap<Worst> = BinaryHeap::with_capacity(k + 1);
        if k == 0 {
            return Ok(Vec::new());
        }
        let candidates: Box<dyn Iterator<Item = usize>> = match shortlist {
            Some(size) if size < rows.keys.len() => {
                Box::new(nearest_signs(&rows.signs, self.words, &signs(&unit), size).into_iter())
            }
            _ => Box::new(0..rows.keys.len()),
        };
        for row in candidates {
            let values = &rows.values[row * self.dimension..(row + 1) * self.dimension];
            let hit = Worst(VectorHit {
                key: rows.keys[row],
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

    /// The `k` of `keys` whose vectors are most similar to `query`, most similar first (ties by
    /// key), each compared exactly; keys without a vector are left out. The semantic side of a
    /// search whose filters let few claims through: every one of them is a candidate, however
    /// far the nearest of all claims are.
    pub fn search_among(
        &self,
        query: &[f32],
        keys: &[Key],
        k: usize,
    ) -> Result<Vec<VectorHit>, DimensionMismatch> {
        let mut hits: Vec<VectorHit> = keys
            .iter()
            .zip(self.cosines(query, keys)?)
            .filter_map(|(&key, cosine)| {
                Some(VectorHit {
                    key,
                    cosine: cosine?,
                })
            })
            .collect();
        hits.sort_by(|a, b| b.cosine.total_cmp(&a.cosine).then(a.key.cmp(&b.key)));
        hits.truncate(k);
        Ok(hits)
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

/// A vector's sign bits, [`Rows::signs`]' layout.
fn signs(vector: &[f32]) -> Vec<u64> {
    let mut words = vec![0u64; vector.len().div_ceil(64)];
    for (j, value) in vector.iter().enumerate() {
        if value.is_sign_negative() {
            words[j / 64] |= 1 << (j % 64);
        }
    }
    words
}

/// The rows (at most `size`, at least `size` when there are as many) whose signs differ from
/// `query`'s in the fewest bits, in row order. One pass counts the differing bits of every row
/// and a histogram of those counts gives the cut-off, so the cost is linear in the rows.
fn nearest_signs(signs: &[u64], words: usize, query: &[u64], size: usize) -> Vec<usize> {
    let distances = hamming_distances(signs, words, query);
    let mut histogram = vec![0usize; words * 64 + 1];
    for &d in &distances {
        histogram[usize::from(d)] += 1;
    }
    // every row closer than `cutoff` is kept, and rows at `cutoff` until `size` are
    let (mut cutoff, mut below) = (0, 0);
    while cutoff < histogram.len() && below + histogram[cutoff] < size {
        below += histogram[cutoff];
        cutoff += 1;
    }
    let mut at_cutoff = size - below;
    let mut rows = Vec::with_capacity(size);
    for (row, &d) in distances.iter().enumerate() {
        let d = usize::from(d);
        if d < cutoff {
            rows.push(row);
        } else if d == cutoff && at_cutoff > 0 {
            rows.push(row);
            at_cutoff -= 1;
        }
    }
    rows
}

/// Rows per task when the distances are counted on several cores.
const ROWS_PER_TASK: usize = 32_768;

/// How many bits of each row's signs differ from `query`'s, in parallel over blocks of rows
/// (rayon's pool: a search waits on memory more than on arithmetic, so two cores halve it).
fn hamming_distances(signs: &[u64], words: usize, query: &[u64]) -> Vec<u16> {
    let mut out = vec![0u16; signs.len() / words.max(1)];
    out.par_chunks_mut(ROWS_PER_TASK)
        .zip(signs.par_chunks(ROWS_PER_TASK * words))
        .for_each(|(out, signs)| count_differing_bits(signs, words, query, out));
    out
}

/// [`hamming_distances`] of one block. Uses the CPU's popcount instruction where it has one
/// (x86-64 machines from 2008 on), several times faster than the portable bit counting the
/// compiler emits for the baseline target.
fn count_differing_bits(signs: &[u64], words: usize, query: &[u64], out: &mut [u16]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the function only needs popcnt, which the CPU was just found to have.
        return unsafe { count_differing_bits_popcnt(signs, words, query, out) };
    }
    count_differing_bits_portable(signs, words, query, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn count_differing_bits_popcnt(signs: &[u64], words: usize, query: &[u64], out: &mut [u16]) {
    count_differing_bits_portable(signs, words, query, out)
}

#[inline(always)]
fn count_differing_bits_portable(signs: &[u64], words: usize, query: &[u64], out: &mut [u16]) {
    // 384 numbers, all-MiniLM-L6-v2's, make six words: unrolled
    if let Ok(query) = <&[u64; 6]>::try_from(query) {
        for (row, out) in signs.chunks_exact(6).zip(out) {
            let mut bits = 0;
            for i in 0..6 {
                bits += (row[i] ^ query[i]).count_ones();
            }
            *out = bits as u16;
        }
        return;
    }
    for (row, out) in signs.chunks_exact(words).zip(out) {
        *out = row
            .iter()
            .zip(query)
            .map(|(a, b)| (a ^ b).count_ones() as u16)
            .sum();
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
    fn a_shortlist_by_signs_keeps_the_rows_whose_signs_differ_least() {
        // 3 rows of 2 words: distances to the query 2, 0 and 1 bits
        let signs = [0b11, 0, 0, 0, 0b1, 0];
        assert_eq!(hamming_distances(&signs, 2, &[0, 0]), vec![2, 0, 1]);
        // rows of six words take an unrolled path, over more rows than one task counts
        let rows = ROWS_PER_TASK + 3;
        let six: Vec<u64> = (0..rows * 6).map(|i| (i as u64) << (i % 7)).collect();
        let query = [u64::MAX, 0, 1, 2, 3, 4];
        let distances = hamming_distances(&six, 6, &query);
        assert_eq!(distances.len(), rows);
        for row in [0, 1, ROWS_PER_TASK, rows - 1] {
            let expected: u32 = (0..6)
                .map(|i| (six[row * 6 + i] ^ query[i]).count_ones())
                .sum();
            assert_eq!(u32::from(distances[row]), expected);
        }
        assert_eq!(nearest_signs(&signs, 2, &[0, 0], 2), vec![1, 2]);
        assert_eq!(nearest_signs(&signs, 2, &[0, 0], 5), vec![0, 1, 2]);
        // ties at the cut-off: the first rows at that distance fill the shortlist
        assert_eq!(nearest_signs(&[1, 2, 4], 1, &[0], 2), vec![0, 1]);
    }

    #[test]
    fn past_the_exact_size_the_nearest_vectors_are_still_found() {
        // more vectors than are compared exactly: the near ones must survive the shortlist
        let index = VectorIndex::new(64);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let query: Vec<f32> = (0..64).map(|_| random()).collect();
        for key in 0..(EXACT_UP_TO as u128 + 1_000) {
            let vector: Vec<f32> = if key % 10_000 == 7 {
                // ten near copies of the query among random vectors
                query.iter().map(|x| x + random() * 0.05).collect()
            } else {
                (0..64).map(|_| random()).collect()
            };
            index.upsert(key, &vector).unwrap();
        }
        let found: Vec<Key> = index
            .search(&query, 5)
            .unwrap()
            .iter()
            .map(|h| h.key)
            .collect();
        let exact: Vec<Key> = index
            .search_exact(&query, 5)
            .unwrap()
            .iter()
            .map(|h| h.key)
            .collect();
        assert_eq!(found, exact);
        assert!(found.iter().all(|key| key % 10_000 == 7), "{found:?}");
        // removing rows keeps keys, vectors and signs in step
        for key in (0..5_000u128).step_by(3) {
            index.remove(key);
        }
        assert_eq!(
            index.search(&query, 1).unwrap(),
            index.search_exact(&query, 1).unwrap()
        );
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
