//! Exact Prometheus buckets on top of the HDR counts.
//!
//! A bound's cumulative `_bucket` count is derived from the HDR counts: every
//! count at or below the HDR index that holds the bound. That is exact except
//! in the HDR buckets holding the bound's integer `n` (the largest recorded
//! integer not above the bound) and `n + 1`: there an HDR bucket can straddle
//! the bound, and a float rounded to an integer can land on either side of it.
//! An any-magnitude histogram keeps the floats themselves, so there only the
//! bucket holding the bound itself can straddle it.
//! Recordings into those marked indexes (and saturated ones) compare the value
//! with the bounds and, where the derived bucket is wrong, correct the
//! cumulative counts of the bounds in between. All other recordings write only
//! their HDR count, so the exact buckets cost one bit test on the hot path and
//! a snapshot's `+Inf` bucket is always its HDR count.
//!
//! Ordering: a recording adds its HDR count before its correction (Release);
//! a snapshot loads the corrections (Acquire) before the counts. A correction
//! seen is therefore never ahead of the count it corrects, and the worst a
//! racing snapshot shows is a value one bucket up from its exact place.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{Layout, Scale};

/// The largest recorded integer `n` with `n / per <= bound` (`bound >= 0`).
///
/// `floor(bound * per)` is off by one when the product rounds (0.000249 s is
/// 248.99999999999997 µs); one step either way fixes it.
pub(crate) fn native_bound(bound: f64, per: f64) -> u64 {
    // `as` saturates: bounds beyond u64 land on u64::MAX.
    let mut n = (bound * per).floor() as u64;
    if n > 0 && n as f64 / per > bound {
        n -= 1;
    }
    if n < u64::MAX && (n + 1) as f64 / per <= bound {
        n += 1;
    }
    n
}

/// Where bucket bounds fall among a layout's HDR indexes: what derives bucket counts from
/// HDR counts, for exact buckets (with [`BucketMap`]'s corrections) and for derived ones.
#[derive(Debug)]
pub(crate) struct BoundIndexes {
    /// Leading bounds below zero: no value is ever at or under them.
    negative: usize,
    /// For each bound from `negative` on, the HDR index holding its [`native_bound`].
    index: Box<[usize]>,
}

impl BoundIndexes {
    /// `native` holds the [`native_bound`] of each bound from the first non-negative one on.
    fn from_native(negative: usize, native: &[u64], layout: &Layout) -> Self {
        Self {
            negative,
            index: native
                .iter()
                .map(|&n| layout.index_for(n.min(layout.highest())))
                .collect(),
        }
    }

    pub(crate) fn new(bounds: &[f64], scale: &Scale, per: f64) -> Self {
        match scale {
            Scale::Integer(layout) => {
                let negative = bounds.partition_point(|&b| b < 0.0);
                let native: Vec<u64> = bounds[negative..]
                    .iter()
                    .map(|&b| native_bound(b, per))
                    .collect();
                Self::from_native(negative, &native, layout)
            }
            // Any-magnitude indexes are in value order over both signs: every bound has one.
            Scale::Float(layout) => Self {
                negative: 0,
                index: bounds.iter().map(|&b| layout.index_for(b).index).collect(),
            },
        }
    }

    /// The bucket (0 for the first bound, `bounds.len()` for `+Inf`) that HDR index `index`
    /// counts in.
    fn bucket(&self, index: usize) -> usize {
        self.negative + self.index.partition_point(|&i| i < index)
    }

    /// Number of finite bounds.
    fn len(&self) -> usize {
        self.negative + self.index.len()
    }

    /// Cumulative counts per finite bound from sparse `(index, count)` pairs in index order.
    pub(crate) fn cumulative(&self, counts: &[(u32, u64)]) -> Vec<u64> {
        let mut out = vec![0; self.len()];
        let mut running = 0u64;
        let mut next = counts.iter().peekable();
        for (slot, &bound_index) in out[self.negative..].iter_mut().zip(&self.index) {
            while let Some(&&(i, c)) = next.peek() {
                if i as usize > bound_index {
                    break;
                }
                running = running.wrapping_add(c);
                next.next();
            }
            *slot = running;
        }
        out
    }
}

/// How a histogram's bucket bounds map onto its HDR indexes, with what keeps its buckets
/// exact; shared by a family's children.
#[derive(Debug)]
pub(crate) struct BucketMap {
    bounds: BoundIndexes,
    /// For each bound from `bounds.negative` on, its [`native_bound`] (integer histograms
    /// only: an any-magnitude one compares the floats).
    native: Box<[u64]>,
    /// One bit per HDR index: set where a recording must check its exact bucket.
    marked: Box<[u64]>,
}

impl BucketMap {
    pub(crate) fn new(bounds: &[f64], scale: &Scale, per: f64) -> Self {
        let layout = match scale {
            Scale::Integer(layout) => layout,
            Scale::Float(_) => {
                let index = BoundIndexes::new(bounds, scale, per);
                let mut marked = vec![0u64; scale.counts_len().div_ceil(64)].into_boxed_slice();
                for &i in &index.index {
                    marked[i / 64] |= 1 << (i % 64);
                }
                return Self {
                    bounds: index,
                    native: Box::new([]),
                    marked,
                };
            }
        };
        let negative = bounds.partition_point(|&b| b < 0.0);
        let native: Box<[u64]> = bounds[negative..]
            .iter()
            .map(|&b| native_bound(b, per))
            .collect();
        let mut marked = vec![0u64; layout.counts_len().div_ceil(64)].into_boxed_slice();
        for &n in &native {
            for v in [n, n.saturating_add(1)] {
                let i = layout.index_for(v.min(layout.highest()));
                marked[i / 64] |= 1 << (i % 64);
            }
        }
        // Values below zero never reach the first index, so a negative bound needs no mark:
        // its derived and exact counts are both always zero.
        Self {
            bounds: BoundIndexes::from_native(negative, &native, layout),
            native,
            marked,
        }
    }

    /// Whether a value recorded at HDR index `index` may belong to another bucket than
    /// the one its index implies.
    #[inline]
    pub(crate) fn is_marked(&self, index: usize) -> bool {
        self.marked[index / 64] & (1 << (index % 64)) != 0
    }

    /// The bucket that HDR index `index` counts in before corrections.
    pub(crate) fn derived(&self, index: usize) -> usize {
        self.bounds.bucket(index)
    }

    /// The exact bucket of the recorded integer `value`.
    pub(crate) fn exact_native(&self, value: u64) -> usize {
        self.bounds.negative + self.native.partition_point(|&n| n < value)
    }

    /// Number of finite bounds.
    pub(crate) fn len(&self) -> usize {
        self.bounds.len()
    }

    /// Cumulative counts per finite bound before corrections.
    pub(crate) fn derived_cumulative(&self, counts: &[(u32, u64)]) -> Vec<u64> {
        self.bounds.cumulative(counts)
    }
}

/// Per-bound corrections to the derived cumulative counts (`i64` kept in wrapping `u64`s).
#[derive(Debug)]
pub(crate) struct Corrections(Box<[AtomicU64]>);

impl Corrections {
    pub(crate) fn new(bounds: usize) -> Self {
        Self((0..bounds).map(|_| AtomicU64::new(0)).collect())
    }

    /// Moves `n` values from bucket `derived` to bucket `exact` (cumulatively: the bounds
    /// between the two gain or lose them).
    pub(crate) fn shift(&self, derived: usize, exact: usize, n: u64) {
        let (range, delta) = if exact < derived {
            (exact..derived, n)
        } else {
            (derived..exact, n.wrapping_neg())
        };
        for c in &self.0[range] {
            // Release: publishes the HDR count this corrects (module docs).
            c.fetch_add(delta, Ordering::Release);
        }
    }

    /// Adds `delta` to the cumulative correction of bound `bound`.
    pub(crate) fn add(&self, bound: usize, delta: i64) {
        // Release: as in `shift`.
        self.0[bound].fetch_add(delta.cast_unsigned(), Ordering::Release);
    }

    /// Zeroes every correction (a reset, after the counts were cleared).
    pub(crate) fn clear(&self) {
        for c in &self.0 {
            // Release: as in `shift`.
            c.store(0, Ordering::Release);
        }
    }

    /// The current corrections; load before the counts they correct.
    pub(crate) fn load(&self) -> Vec<i64> {
        self.0
            .iter()
            // Acquire: pairs with the Release in `shift` and `add`.
            .map(|c| c.load(Ordering::Acquire).cast_signed())
            .collect()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.0.len() * size_of::<AtomicU64>()
    }
}

/// Non-cumulative counts (`+Inf` last) from cumulative counts per finite bound and the total.
pub(crate) fn non_cumulative(cumulative: impl IntoIterator<Item = u64>, count: u64) -> Vec<u64> {
    let cumulative = cumulative.into_iter();
    let mut out = Vec::with_capacity(cumulative.size_hint().0 + 1);
    let mut previous = 0u64;
    for c in cumulative {
        // The clamp only matters while a count carries past 2^32 (see `counts`), when a
        // racing read can see a count dip for an instant.
        let c = c.clamp(previous, count);
        out.push(c - previous);
        previous = c;
    }
    out.push(count - previous);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_bound_is_exact_for_inexact_products() {
        assert_eq!(native_bound(0.000_249, 1e6), 249);
        assert_eq!(native_bound(0.0005, 1e6), 500);
        assert_eq!(native_bound(0.000_999_9, 1e6), 999);
        assert_eq!(native_bound(0.1, 1e3), 100);
        assert_eq!(native_bound(1e30, 1e6), u64::MAX);
        for k in 1..20_000u32 {
            let b = f64::from(k) / 1e6;
            let n = native_bound(b, 1e6);
            assert!(n as f64 / 1e6 <= b && (n + 1) as f64 / 1e6 > b, "{b}");
        }
    }

    #[test]
    fn derived_and_exact_agree_off_the_marks() {
        let layout = Layout::new("t", 1, 60_000_000, 2).unwrap();
        let bounds = [-1.0, 0.0, 0.000_249, 0.001, 0.0105, 2.5];
        let map = BucketMap::new(&bounds, &Scale::Integer(layout), 1e6);
        for v in (0..3_000_000u64).step_by(7) {
            let i = layout.index_for(v);
            if !map.is_marked(i) {
                assert_eq!(map.derived(i), map.exact_native(v), "value {v}");
            }
        }
        assert_eq!(map.exact_native(0), 1, "0 is not <= -1 but is <= 0");
    }

    #[test]
    fn exact_counts_partition_the_total() {
        // Derived [1, 4, 4] corrected by [1, -1, 0].
        assert_eq!(non_cumulative([2, 3, 4], 6), vec![2, 1, 1, 2]);
        assert_eq!(non_cumulative([], 3), vec![3]);
    }
}
