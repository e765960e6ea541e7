//! Point-in-time copies of a histogram: quantiles, statistics, Prometheus
//! buckets, merging and HdrHistogram interchange.

use std::sync::Arc;

use hdrhistogram::serialization::{Serializer, V2DeflateSerializer, V2Serializer};

use super::buckets::{BoundIndexes, BucketMap, non_cumulative};
use super::layout::{float_key, key_float};
use super::{CoreRead, HistogramShape, Layout, Resolution, Scale};
use crate::error::{Error, ErrorKind, Result};
use crate::exemplar::Exemplar;

/// One cumulative Prometheus bucket.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Bucket {
    /// Upper bound in base units (`+Inf` for the last bucket).
    pub le: f64,
    /// Values `<= le`.
    pub cumulative_count: u64,
    /// The latest exemplar that fell in this bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemplar: Option<Exemplar>,
}

/// A copy of a histogram's state. Its `count` is the sum of its counts,
/// read once, so the two always agree even when taken during recording.
///
/// Figures come in three units: *base units* (seconds for time; what `observe` takes),
/// *recorded integers* (the [`Resolution`]: what `record` takes) and their float form
/// ("native"). An integer histogram keeps its extremes as recorded integers, an
/// any-magnitude one as floats in base units; the `*_value` accessors are exact for both.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// The metric's name, for errors (`None` for a decoded blob).
    name: Option<Arc<str>>,
    scale: Scale,
    resolution: Resolution,
    /// Non-zero (index, count) pairs in index order.
    counts: Vec<(u32, u64)>,
    count: u64,
    /// Sum in recorded integers (integer histogram) or base units (any magnitude).
    sum: f64,
    /// Extremes as keys whose unsigned order is the value order (see `HdrCore`).
    min: u64,
    max: u64,
    saturated: u64,
    rejected: u64,
    bounds: Arc<[f64]>,
    /// Non-cumulative exact bucket counts (+Inf last), when the histogram keeps them.
    exact: Option<Vec<u64>>,
    exemplars: Option<Vec<Option<Exemplar>>>,
}

/// One count of a snapshot placed in another histogram's layout.
pub(super) struct Point {
    /// Its index in the target layout.
    pub(super) index: usize,
    pub(super) n: u64,
    /// Outside the target's range (counted at an end of it).
    pub(super) saturated: bool,
    /// The value it stands for, in base units and as a recorded integer of the target.
    pub(super) base: f64,
    pub(super) native: u64,
}

/// `x` recorded integers as the nearest integer; `as` saturates (negatives to 0).
fn round_native(x: f64) -> u64 {
    (x + 0.5) as u64
}

impl HistogramSnapshot {
    pub(super) fn empty(shape: &HistogramShape) -> Self {
        Self::empty_like(
            Some(Arc::clone(&shape.name)),
            shape.scale,
            shape.resolution,
            Arc::clone(&shape.bounds),
        )
    }

    fn empty_like(
        name: Option<Arc<str>>,
        scale: Scale,
        resolution: Resolution,
        bounds: Arc<[f64]>,
    ) -> Self {
        Self {
            name,
            scale,
            resolution,
            counts: Vec::new(),
            count: 0,
            sum: 0.0,
            min: u64::MAX,
            max: 0,
            saturated: 0,
            rejected: 0,
            bounds,
            exact: None,
            exemplars: None,
        }
    }

    /// Reads `hdr`; `exact` carries the bucket map and the corrections, loaded before
    /// the counts (see `buckets`).
    pub(super) fn from_core(
        read: CoreRead,
        shape: &HistogramShape,
        (saturated, rejected): (u64, u64),
        exact: Option<(&BucketMap, Vec<i64>)>,
        exemplars: Option<Vec<Option<Exemplar>>>,
    ) -> Self {
        let CoreRead {
            counts,
            count,
            sum,
            mut min,
            mut max,
        } = read;
        if let (Some(&(first, _)), Some(&(last, _))) = (counts.first(), counts.last()) {
            // A record racing with this read may have counted but not yet moved min/max:
            // bring them to at least the edges of the first and last counted buckets.
            match shape.scale {
                Scale::Integer(layout) => {
                    // A min above the range is exact (the value saturated), not stale.
                    if min <= layout.highest() || min == u64::MAX {
                        min = min.min(layout.highest_equivalent(layout.value_for(first as usize)));
                    }
                    max = max.max(layout.value_for(last as usize));
                }
                Scale::Float(layout) => {
                    min = min.min(float_key(layout.range_of(first as usize).1));
                    max = max.max(float_key(layout.range_of(last as usize).0));
                }
            }
            // A value counted while its extremes are not yet written can leave min above
            // max for an instant; never let readers see that.
            max = max.max(min);
        } else {
            (min, max) = (u64::MAX, 0);
        }
        Self {
            name: Some(Arc::clone(&shape.name)),
            scale: shape.scale,
            resolution: shape.resolution,
            exact: exact.map(|(map, corrections)| {
                let derived = map.derived_cumulative(&counts);
                let corrected = derived
                    .iter()
                    .zip(&corrections)
                    .map(|(&d, &c)| d.saturating_add_signed(c));
                non_cumulative(corrected, count)
            }),
            counts,
            count,
            sum,
            min,
            max,
            saturated,
            rejected,
            bounds: Arc::clone(&shape.bounds),
            exemplars,
        }
    }

    /// A snapshot that has only exact Prometheus bucket counts (non-cumulative, `+Inf`
    /// last) and a sum in base units, without HDR counts: what the multiprocess arena keeps
    /// per process. Its quantiles are unknown (NaN), its buckets and `_count` exact.
    ///
    /// # Errors
    /// As [`HistogramOpts::buckets`](super::HistogramOpts::buckets) validation: bad bounds, or
    /// a count list that is not one longer than the bounds.
    #[doc(hidden)]
    pub fn from_exact_buckets(
        name: &str,
        bounds: &[f64],
        counts: Vec<u64>,
        sum: f64,
    ) -> Result<Self> {
        let shape =
            HistogramShape::new(name, &super::HistogramOpts::new().buckets(bounds.to_vec()))?;
        if counts.len() != shape.bounds.len() + 1 {
            return Err(Error::for_metric(
                ErrorKind::InvalidConfig,
                name,
                "bucket counts must be one per bound plus +Inf",
            ));
        }
        let mut s = Self::empty(&shape);
        s.count = counts.iter().fold(0u64, |a, &c| a.wrapping_add(c));
        s.sum = sum;
        s.exact = Some(counts);
        Ok(s)
    }

    /// Adds `other`'s counts, which must share this layout (window sub-windows do).
    pub(super) fn merge_same_layout(&mut self, other: &Self) {
        self.rejected = self.rejected.wrapping_add(other.rejected);
        if other.count == 0 {
            return;
        }
        let mut merged = Vec::with_capacity(self.counts.len().max(other.counts.len()));
        let (mut a, mut b) = (
            self.counts.iter().peekable(),
            other.counts.iter().peekable(),
        );
        loop {
            match (a.peek(), b.peek()) {
                (Some(&&(ia, ca)), Some(&&(ib, cb))) => match ia.cmp(&ib) {
                    std::cmp::Ordering::Equal => {
                        merged.push((ia, ca.wrapping_add(cb)));
                        a.next();
                        b.next();
                    }
                    std::cmp::Ordering::Less => {
                        merged.push((ia, ca));
                        a.next();
                    }
                    std::cmp::Ordering::Greater => {
                        merged.push((ib, cb));
                        b.next();
                    }
                },
                (Some(&&x), None) => {
                    merged.push(x);
                    a.next();
                }
                (None, Some(&&y)) => {
                    merged.push(y);
                    b.next();
                }
                (None, None) => break,
            }
        }
        self.counts = merged;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        let was_empty = self.count == 0;
        self.count = self.count.wrapping_add(other.count);
        self.sum += other.sum;
        self.saturated = self.saturated.wrapping_add(other.saturated);
        self.exact = match (self.exact.take(), &other.exact) {
            _ if self.bounds != other.bounds => None,
            (Some(x), Some(y)) => Some(x.iter().zip(y).map(|(p, q)| p.wrapping_add(*q)).collect()),
            (None, Some(y)) if was_empty => Some(y.clone()),
            _ => None,
        };
        self.exemplars = None;
    }

    /// Calls `f` with each count placed in `into` (whose integers are `per` to a base
    /// unit): at the value it stands for, clamped to the exact extremes so that min and
    /// max stay in their buckets.
    pub(super) fn for_each_point(&self, into: Scale, per: f64, mut f: impl FnMut(Point)) {
        let own_per = self.resolution.per_base_unit();
        for &(i, n) in &self.counts {
            let i = i as usize;
            // The value in this snapshot's own terms: an exact integer, or a float.
            let (own_native, base) = match self.scale {
                Scale::Integer(layout) => {
                    let v = layout.value_for(i).max(self.min).min(self.max);
                    (Some(v), v as f64 / own_per)
                }
                Scale::Float(layout) => {
                    let v = layout
                        .value_for(i)
                        .max(self.min_value())
                        .min(self.max_value());
                    (None, v)
                }
            };
            let point = match into {
                Scale::Integer(layout) => {
                    let native = match (own_native, self.scale) {
                        (Some(v), _) if per.to_bits() == own_per.to_bits() => v,
                        _ => round_native(base * per),
                    };
                    Point {
                        index: layout.index_for(native.min(layout.highest())),
                        n,
                        saturated: native > layout.highest() || base < 0.0,
                        base,
                        native,
                    }
                }
                Scale::Float(layout) => {
                    let at = layout.index_for(base);
                    Point {
                        index: at.index,
                        n,
                        saturated: at.saturated,
                        base,
                        native: round_native(base * per),
                    }
                }
            };
            f(point);
        }
    }

    /// The sum and extreme keys of this snapshot in the terms of `into` (whose integers
    /// are `per` to a base unit).
    pub(super) fn totals_in(&self, into: Scale, per: f64) -> (f64, u64, u64) {
        if self.count == 0 {
            return (0.0, u64::MAX, 0);
        }
        match (into, self.scale) {
            (Scale::Integer(_), Scale::Integer(_))
                if per.to_bits() == self.resolution.per_base_unit().to_bits() =>
            {
                (self.sum, self.min, self.max)
            }
            (Scale::Integer(_), _) => (
                self.sum() * per,
                round_native(self.min_value() * per),
                round_native(self.max_value() * per),
            ),
            (Scale::Float(_), _) => (
                self.sum(),
                float_key(self.min_value()),
                float_key(self.max_value()),
            ),
        }
    }

    /// Adds `other` into this snapshot. With the same layout the counts add index by index;
    /// otherwise `other`'s values are re-bucketed into this layout (as HdrHistogram's `add`
    /// does), either kind into either.
    ///
    /// # Errors
    /// [`ErrorKind::CorruptBlob`] if both are integer histograms and their resolutions
    /// differ.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        let both_integer = matches!(
            (self.scale, other.scale),
            (Scale::Integer(_), Scale::Integer(_))
        );
        if both_integer && self.resolution != other.resolution {
            return Err(Error::new(
                ErrorKind::CorruptBlob,
                self.name.as_deref(),
                format!(
                    "cannot merge a {:?} histogram into a {:?} one",
                    other.resolution, self.resolution
                ),
            ));
        }
        if self.scale == other.scale {
            self.merge_same_layout(other);
            return Ok(());
        }
        let per = self.resolution.per_base_unit();
        let mut counts = std::collections::BTreeMap::<u32, u64>::new();
        let mut out_of_range = 0u64;
        other.for_each_point(self.scale, per, |p| {
            if p.saturated {
                out_of_range = out_of_range.wrapping_add(p.n);
            }
            let c = counts.entry(p.index as u32).or_default();
            *c = c.wrapping_add(p.n);
        });
        let mut moved = Self::empty_like(
            self.name.clone(),
            self.scale,
            self.resolution,
            Arc::clone(&self.bounds),
        );
        moved.counts = counts.into_iter().collect();
        moved.count = other.count;
        (moved.sum, moved.min, moved.max) = other.totals_in(self.scale, per);
        // Values saturated there sit at its ends, outside our range too unless ours is wider.
        moved.saturated = other.saturated.max(out_of_range);
        moved.rejected = other.rejected;
        if self.bounds == other.bounds {
            moved.exact.clone_from(&other.exact);
        }
        self.merge_same_layout(&moved);
        Ok(())
    }

    /// How the counts are laid out.
    pub fn scale(&self) -> Scale {
        self.scale
    }
    /// The integer layout (range and precision); `None` for an any-magnitude histogram.
    pub fn layout(&self) -> Option<Layout> {
        match self.scale {
            Scale::Integer(layout) => Some(layout),
            Scale::Float(_) => None,
        }
    }
    /// Significant decimal figures kept.
    pub fn significant_figures(&self) -> u8 {
        self.scale.significant_figures()
    }
    /// What one recorded integer means.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }
    /// Number of recorded values (equal to the sum of all counts).
    pub fn count(&self) -> u64 {
        self.count
    }
    /// Sum of recorded values in recorded integers (microseconds by default), as a float.
    pub fn sum_native(&self) -> f64 {
        match self.scale {
            Scale::Integer(_) => self.sum,
            Scale::Float(_) => self.sum * self.resolution.per_base_unit(),
        }
    }
    /// Sum in base units (seconds for time).
    pub fn sum(&self) -> f64 {
        match self.scale {
            Scale::Integer(_) => self.sum / self.resolution.per_base_unit(),
            Scale::Float(_) => self.sum,
        }
    }
    /// Smallest recorded value in base units (0 when empty).
    pub fn min_value(&self) -> f64 {
        match self.scale {
            _ if self.count == 0 => 0.0,
            Scale::Integer(_) => self.min as f64 / self.resolution.per_base_unit(),
            Scale::Float(_) => key_float(self.min),
        }
    }
    /// Largest recorded value in base units, before saturation (0 when empty).
    pub fn max_value(&self) -> f64 {
        match self.scale {
            _ if self.count == 0 => 0.0,
            Scale::Integer(_) => self.max as f64 / self.resolution.per_base_unit(),
            Scale::Float(_) => key_float(self.max),
        }
    }
    /// Smallest recorded value in recorded integers, as a float (0 when empty).
    pub fn min_native(&self) -> f64 {
        match self.scale {
            _ if self.count == 0 => 0.0,
            Scale::Integer(_) => self.min as f64,
            Scale::Float(_) => key_float(self.min) * self.resolution.per_base_unit(),
        }
    }
    /// Largest recorded value in recorded integers, as a float (0 when empty).
    pub fn max_native(&self) -> f64 {
        match self.scale {
            _ if self.count == 0 => 0.0,
            Scale::Integer(_) => self.max as f64,
            Scale::Float(_) => key_float(self.max) * self.resolution.per_base_unit(),
        }
    }
    /// Smallest recorded value in recorded integers (0 when empty; an any-magnitude
    /// histogram's rounded to the nearest integer, negatives reading 0: see
    /// [`Self::min_value`]).
    pub fn min(&self) -> u64 {
        match self.scale {
            _ if self.count == 0 => 0,
            Scale::Integer(_) => self.min,
            Scale::Float(_) => round_native(self.min_native()),
        }
    }
    /// Largest recorded value in recorded integers, before saturation (0 when empty;
    /// rounded as [`Self::min`]).
    pub fn max(&self) -> u64 {
        match self.scale {
            _ if self.count == 0 => 0,
            Scale::Integer(_) => self.max,
            Scale::Float(_) => round_native(self.max_native()),
        }
    }
    /// Values outside the range kept at full precision, counted at an end of it:
    /// above an integer histogram's highest trackable value or below zero, beyond about
    /// 1.8e19 or below 5.4e-20 in magnitude for any magnitude, and infinities.
    pub fn saturated(&self) -> u64 {
        self.saturated
    }
    /// NaNs recorded: not counted, not in the sum.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }
    /// Exact mean in recorded integers (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_native() / self.count as f64
        }
    }
    /// Population standard deviation in recorded integers, from the counts (each value
    /// taken at the middle of its bucket, as HdrHistogram does).
    pub fn stddev(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let mean = self.mean();
        let per = self.resolution.per_base_unit();
        let total: f64 = self
            .counts
            .iter()
            .map(|&(i, n)| {
                let middle = match self.scale {
                    Scale::Integer(layout) => {
                        layout.median_equivalent(layout.value_for(i as usize)) as f64
                    }
                    Scale::Float(layout) => layout.value_for(i as usize) * per,
                };
                let d = middle - mean;
                d * d * n as f64
            })
            .sum();
        (total / self.count as f64).sqrt()
    }

    /// The rank (1-based) of the value at quantile `q`, as HdrHistogram computes it.
    fn rank(&self, q: f64) -> u64 {
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        ((q * self.count as f64).ceil() as u64).max(1)
    }

    /// The index holding the value of rank `rank`.
    fn index_at_rank(&self, rank: u64) -> Option<usize> {
        let mut seen = 0u64;
        for &(i, c) in &self.counts {
            seen = seen.wrapping_add(c);
            if seen >= rank {
                return Some(i as usize);
            }
        }
        None
    }

    /// The value at quantile `q` (0..=1) in recorded integers. For an integer histogram
    /// exactly as HdrHistogram computes it: the highest value equivalent to the
    /// `ceil(q * count)`-th smallest value (its lowest when `q = 0`). For an
    /// any-magnitude one, [`Self::quantile`] rounded to an integer (negatives read 0).
    /// 0 when empty.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        match self.scale {
            Scale::Integer(layout) => {
                let Some(i) = self.index_at_rank(self.rank(q)) else {
                    return 0;
                };
                let v = layout.value_for(i);
                if q > 0.0 {
                    layout.highest_equivalent(v)
                } else {
                    v
                }
            }
            Scale::Float(_) => round_native(self.quantile(q) * self.resolution.per_base_unit()),
        }
    }

    /// The value at quantile `q` in recorded integers as a float, clamped to the exact
    /// extremes (see [`Self::quantile`]).
    pub fn quantile_native(&self, q: f64) -> f64 {
        match self.scale {
            _ if self.count == 0 => 0.0,
            Scale::Integer(_) => self
                .value_at_quantile(q)
                .max(self.min)
                .min(self.max.max(self.min)) as f64,
            Scale::Float(_) => self.quantile(q) * self.resolution.per_base_unit(),
        }
    }

    /// The value at quantile `q` in base units (seconds for time), clamped to the exact
    /// `[min, max]` so that, say, p99.9 never reads above the largest value recorded.
    /// In an any-magnitude histogram the smallest and largest ranks read the exact
    /// extremes and the others the middle of their bucket, within `10^-figures` of the
    /// exact answer relative to it.
    pub fn quantile(&self, q: f64) -> f64 {
        match self.scale {
            _ if self.count == 0 => 0.0,
            Scale::Integer(_) => self.quantile_native(q) / self.resolution.per_base_unit(),
            Scale::Float(layout) => {
                let rank = self.rank(q);
                let (lo, hi) = (self.min_value(), self.max_value());
                if rank <= 1 {
                    return lo;
                }
                if rank >= self.count {
                    return hi;
                }
                self.index_at_rank(rank)
                    .map_or(hi, |i| layout.value_for(i).max(lo).min(hi))
            }
        }
    }

    /// `(lowest equivalent value, count)` for every non-zero count, in value order, in
    /// recorded integers (an any-magnitude histogram's buckets by their middles, rounded
    /// to integers, negatives reading 0).
    pub fn recorded_values(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let per = self.resolution.per_base_unit();
        self.counts.iter().map(move |&(i, c)| match self.scale {
            Scale::Integer(layout) => (layout.value_for(i as usize), c),
            Scale::Float(layout) => (round_native(layout.value_for(i as usize) * per), c),
        })
    }

    /// The exposition bounds (base units), without the implied `+Inf`.
    pub fn bounds(&self) -> impl Iterator<Item = f64> + '_ {
        self.bounds.iter().copied()
    }

    /// Whether bucket counts are exact (bounds were given) rather than derived from the counts.
    pub fn buckets_exact(&self) -> bool {
        self.exact.is_some()
    }

    /// Non-cumulative counts per bound, `+Inf` last.
    pub fn bucket_counts(&self) -> Vec<u64> {
        if let Some(e) = &self.exact {
            return e.clone();
        }
        // A value counts under a bound when its count index is at most the bound's.
        let bounds = BoundIndexes::new(&self.bounds, &self.scale, self.resolution.per_base_unit());
        non_cumulative(bounds.cumulative(&self.counts), self.count)
    }

    /// Cumulative Prometheus buckets, `+Inf` last; the last count is the `_count` to expose.
    pub fn buckets(&self) -> Vec<Bucket> {
        let mut cumulative = 0u64;
        let counts = self.bucket_counts();
        let bounds = self
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY));
        bounds
            .zip(counts)
            .enumerate()
            .map(|(i, (le, n))| {
                cumulative = cumulative.wrapping_add(n);
                let exemplar = self
                    .exemplars
                    .as_ref()
                    .and_then(|e| e.get(i).cloned().flatten());
                Bucket {
                    le,
                    cumulative_count: cumulative,
                    exemplar,
                }
            })
            .collect()
    }

    /// The counts as an `hdrhistogram::Histogram`. Values that saturated are counted at
    /// the top of the range (or the bottom, for those below zero), as they are here.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] naming the metric for an any-magnitude histogram: an
    /// HdrHistogram holds integers in a range, and no range holds its values faithfully.
    pub fn to_hdr(&self) -> Result<hdrhistogram::Histogram<u64>> {
        let layout = match self.scale {
            Scale::Integer(layout) => layout,
            Scale::Float(_) => {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    self.name.as_deref(),
                    "an any-magnitude histogram has no HdrHistogram V2 form; build it with a \
                     range (HistogramOpts::latency() or .range(..)) to exchange V2 blobs",
                ));
            }
        };
        let fail = |e: &dyn std::fmt::Debug| {
            Error::new(
                ErrorKind::InvalidConfig,
                self.name.as_deref(),
                format!("cannot build an HdrHistogram of this histogram: {e:?}"),
            )
        };
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(
            layout.lowest(),
            layout.highest(),
            layout.significant_figures(),
        )
        .map_err(|e| fail(&e))?;
        for (v, n) in self.recorded_values() {
            // Clamped to the exact extremes, then to the range (where saturated values
            // are counted): each value stays in its bucket.
            let v = v.max(self.min).min(self.max).min(layout.highest());
            h.record_n(v, n).map_err(|e| fail(&e))?;
        }
        Ok(h)
    }

    /// A snapshot from an `hdrhistogram::Histogram` whose integers mean `resolution`.
    /// HDR keeps no exact sum, so the sum is estimated from bucket midpoints.
    ///
    /// # Errors
    /// [`ErrorKind::CorruptBlob`] if its range or precision is outside what we support.
    pub fn from_hdr(h: &hdrhistogram::Histogram<u64>, resolution: Resolution) -> Result<Self> {
        let layout = Layout::new("hdr", h.low(), h.high(), h.sigfig()).map_err(|e| {
            Error::new(
                ErrorKind::CorruptBlob,
                None,
                format!("HDR histogram has an unusable layout: {}", e.rule()),
            )
        })?;
        let mut counts = Vec::new();
        let mut sum = 0.0;
        for v in h.iter_recorded() {
            let value = v.value_iterated_to();
            let n = v.count_at_value();
            counts.push((layout.index_for(value.min(layout.highest())) as u32, n));
            sum += h.median_equivalent(value) as f64 * n as f64;
        }
        let count = h.len();
        let bounds: Arc<[f64]> = match resolution {
            Resolution::Unit => super::decades(layout.lowest(), layout.highest()).into(),
            _ => super::DEFAULT_BUCKETS.to_vec().into(),
        };
        Ok(Self {
            name: None,
            scale: Scale::Integer(layout),
            resolution,
            counts,
            count,
            sum,
            min: if count == 0 { u64::MAX } else { h.min() },
            max: if count == 0 { 0 } else { h.max() },
            saturated: 0,
            rejected: 0,
            bounds,
            exact: None,
            exemplars: None,
        })
    }

    /// Encodes as an HdrHistogram V2 blob (uncompressed), readable by every HdrHistogram.
    ///
    /// # Errors
    /// As [`Self::to_hdr`]; [`ErrorKind::InvalidValue`] for a count of 2^63 or more.
    pub fn encode_v2(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        V2Serializer::new()
            .serialize(&self.to_hdr()?, &mut out)
            .map_err(|e| self.encode_failed(&e))?;
        Ok(out)
    }

    /// Encodes as an HdrHistogram V2 deflate-compressed blob (what `hdrh` and
    /// `hdr-histogram-js` `encode()` produce before base64).
    ///
    /// # Errors
    /// As [`Self::encode_v2`].
    pub fn encode_v2_deflate(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.to_hdr()?, &mut out)
            .map_err(|e| self.encode_failed(&e))?;
        Ok(out)
    }

    /// A count V2 cannot hold (it keeps counts below 2^63).
    #[cold]
    fn encode_failed(&self, e: &dyn std::fmt::Debug) -> Error {
        Error::new(
            ErrorKind::InvalidValue,
            self.name.as_deref(),
            format!("cannot encode this histogram as HdrHistogram V2: {e:?}"),
        )
    }

    /// Decodes a V2 blob, plain or deflate-compressed.
    ///
    /// Safe on untrusted bytes, at a cost bounded by the blob's own size, whatever range and
    /// precision its header declares: one pass over the payload, and memory of the plain
    /// blob plus one 16-byte `(index, count)` pair per non-zero count, each of which takes at
    /// least one byte of the payload (so at most 17 bytes per byte of the plain blob, and at
    /// most one pair per count slot of the declared layout). Nothing is allocated for the
    /// declared range itself. A compressed blob is first inflated, to at most 64 MiB
    /// (zlib expands at most about 1032 times, so `n` compressed bytes inflate to at most
    /// `min(1032 n, 64 MiB)` bytes).
    ///
    /// # Errors
    /// [`ErrorKind::CorruptBlob`] naming what is wrong with the bytes.
    pub fn decode_v2(bytes: &[u8], resolution: Resolution) -> Result<Self> {
        let plain = plain_v2(bytes)?;
        let header = V2Header::read(&plain)?;
        let payload = &plain[V2_HEADER_LEN..V2_HEADER_LEN + header.payload_len];
        let decoded = decode_counts(&header.layout, payload)?;
        let bounds: Arc<[f64]> = match resolution {
            Resolution::Unit => {
                super::decades(header.layout.lowest(), header.layout.highest()).into()
            }
            _ => super::DEFAULT_BUCKETS.to_vec().into(),
        };
        Ok(Self {
            name: None,
            scale: Scale::Integer(header.layout),
            resolution,
            counts: decoded.counts,
            count: decoded.count,
            sum: decoded.sum,
            min: decoded.min,
            max: decoded.max,
            saturated: 0,
            rejected: 0,
            bounds,
            exact: None,
            exemplars: None,
        })
    }
}

/// The fields of a plain V2 header that matter once `plain_v2` has normalised it.
struct V2Header {
    payload_len: usize,
    layout: Layout,
}

impl V2Header {
    /// Reads and checks the header of a blob `plain_v2` returned (so at least
    /// [`V2_HEADER_LEN`] bytes, with a payload length that fits).
    fn read(plain: &[u8]) -> Result<Self> {
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&plain[at..at + 8]);
            u64::from_be_bytes(b)
        };
        // Every encoder writes the cookie with the 8-byte word size (0x10), as decoders expect.
        let cookie = be_u32(plain, 0);
        if cookie != V2_COOKIE | 0x10 {
            return Err(corrupt(&format!(
                "unknown V2 cookie {cookie:#010x} (a word size other than 8 bytes)"
            )));
        }
        if be_u32(plain, 8) != 0 {
            return Err(corrupt(
                "a normalizing offset other than 0 is not supported",
            ));
        }
        let digits = be_u32(plain, 12);
        let ratio = f64::from_bits(u64_at(32));
        #[expect(
            clippy::float_cmp,
            reason = "the ratio must be exactly 1.0, as written"
        )]
        if ratio != 1.0 {
            return Err(corrupt(&format!(
                "an integer-to-double conversion ratio other than 1 is not supported, not {ratio}"
            )));
        }
        let (lowest, highest) = (u64_at(16), u64_at(24));
        let layout = u8::try_from(digits)
            .map_err(|_| corrupt(&format!("{digits} significant figures")))
            .and_then(|digits| {
                Layout::new("hdr", lowest, highest, digits)
                    .map_err(|e| corrupt(&format!("an unusable layout: {}", e.rule())))
            })?;
        Ok(Self {
            payload_len: be_u32(plain, 4) as usize,
            layout,
        })
    }
}

/// What a V2 payload holds, as a snapshot keeps it.
struct DecodedCounts {
    /// Non-zero `(index, count)` pairs in index order, indices within the layout's range.
    counts: Vec<(u32, u64)>,
    count: u64,
    sum: f64,
    min: u64,
    max: u64,
}

/// Decodes the run-length, zig-zag LEB128 counts of a V2 payload in one pass: a positive
/// number is the count at the next index, a negative one `-n` skips `n` empty indices.
///
/// A count at an index the layout has no slot for is an error; a count in a slot above the
/// highest trackable value (HdrHistogram rounds its last bucket up) lands at the highest
/// value's index, as recording such a value would.
fn decode_counts(layout: &Layout, mut payload: &[u8]) -> Result<DecodedCounts> {
    let top = layout.index_for(layout.highest());
    let mut counts: Vec<(u32, u64)> = Vec::new();
    let (mut index, mut count, mut sum) = (0usize, 0u64, 0.0f64);
    while !payload.is_empty() {
        let (raw, used) = read_varint(payload)?;
        payload = &payload[used..];
        // Zig-zag: an odd number `2k - 1` is `-k`, a run of k empty slots; an even `2n` is `n`.
        if raw & 1 == 1 {
            let zeros = (raw >> 1) + 1;
            index = index.saturating_add(usize::try_from(zeros).unwrap_or(usize::MAX));
            continue;
        }
        let n = raw >> 1;
        if n > 0 {
            if index >= layout.counts_len() {
                return Err(corrupt(&format!(
                    "a count at index {index}, past the {} slots its header's range has",
                    layout.counts_len()
                )));
            }
            let slot = index.min(top);
            count = count.saturating_add(n);
            sum += layout.median_equivalent(layout.value_for(slot)) as f64 * n as f64;
            let slot = slot as u32;
            match counts.last_mut() {
                Some((last, c)) if *last == slot => *c = c.saturating_add(n),
                _ => counts.push((slot, n)),
            }
        }
        index = index.saturating_add(1);
    }
    let (min, max) = match (counts.first(), counts.last()) {
        // Index 0's lowest value is 0, as HdrHistogram's min is when it holds a count.
        (Some(&(first, _)), Some(&(last, _))) => (
            layout.value_for(first as usize),
            layout.highest_equivalent(layout.value_for(last as usize)),
        ),
        _ => (0, 0),
    };
    Ok(DecodedCounts {
        counts,
        count,
        sum,
        min,
        max,
    })
}

/// One LEB128 number as HdrHistogram writes it: 7 bits per byte, low bits first, at most 9
/// bytes, the ninth contributing all 8 of its bits. Returns the number and the bytes read.
fn read_varint(bytes: &[u8]) -> Result<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(9) {
        if i == 8 {
            return Ok((value | u64::from(b) << 56, 9));
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(corrupt("the payload ends inside a number"))
}

/// The V2 cookies (HdrHistogram's `V2EncodingCookieBase` and its compressed form), compared
/// without the word-size bits (`0xf0`) that encoders set.
const V2_COOKIE: u32 = 0x1c84_9303;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9304;
/// Cookie, payload length, normalizing offset, digits, lowest, highest, conversion ratio.
const V2_HEADER_LEN: usize = 40;
/// The largest plain blob a compressed one may inflate to: far above any histogram's
/// counts (a 1 ns .. 1 day range at 5 digits encodes in a few MB), far below a memory scare.
const MAX_INFLATED: usize = 64 << 20;

fn corrupt(rule: &str) -> Error {
    Error::new(
        ErrorKind::CorruptBlob,
        None,
        format!("not a valid HdrHistogram V2 blob: {rule}"),
    )
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The plain V2 form of `bytes`, checked and normalised for the `hdrhistogram` crate:
/// a compressed blob is inflated (bounded, and only a complete zlib stream with its
/// checksum counts), declared lengths must fit the bytes given, and the header that
/// hdr-histogram-js writes (normalizing offset 1 and the conversion ratio as the integer 1
/// where Java and C write 0 and the double 1.0; hdr-histogram-js ignores both on reading)
/// is rewritten as Java's.
fn plain_v2(bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.len() < 8 {
        return Err(corrupt(&format!(
            "a V2 blob is at least 8 bytes, not {}",
            bytes.len()
        )));
    }
    let declared = be_u32(bytes, 4) as usize;
    let mut plain = match be_u32(bytes, 0) & !0xf0 {
        V2_COMPRESSED_COOKIE => {
            let body = bytes.get(8..8 + declared).ok_or_else(|| {
                corrupt(&format!(
                    "compressed length {declared} runs past the {} bytes given",
                    bytes.len()
                ))
            })?;
            inflate(body)?
        }
        V2_COOKIE => bytes.to_vec(),
        other => return Err(corrupt(&format!("unknown V2 cookie {other:#010x}"))),
    };
    if plain.len() < V2_HEADER_LEN || be_u32(&plain, 0) & !0xf0 != V2_COOKIE {
        return Err(corrupt("the inflated blob is not a plain V2 histogram"));
    }
    let payload = be_u32(&plain, 4) as usize;
    if V2_HEADER_LEN + payload > plain.len() {
        return Err(corrupt(&format!(
            "payload length {payload} runs past the {} bytes given",
            plain.len() - V2_HEADER_LEN
        )));
    }
    let ratio = u64::from_be_bytes(plain[32..40].try_into().unwrap_or_default());
    if ratio == 1 && be_u32(&plain, 8) <= 1 {
        plain[8..12].copy_from_slice(&0u32.to_be_bytes());
        plain[32..40].copy_from_slice(&1.0f64.to_bits().to_be_bytes());
    }
    Ok(plain)
}

/// Inflates a zlib stream completely (checksum included) into at most [`MAX_INFLATED`] bytes.
fn inflate(body: &[u8]) -> Result<Vec<u8>> {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut z = Decompress::new(true);
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).clamp(64, MAX_INFLATED));
    loop {
        let consumed = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
        let status = z
            .decompress_vec(
                &body[consumed.min(body.len())..],
                &mut out,
                FlushDecompress::None,
            )
            .map_err(|e| corrupt(&format!("the compressed V2 blob does not inflate: {e}")))?;
        match status {
            Status::StreamEnd => return Ok(out),
            _ if out.len() < out.capacity() => {
                return Err(corrupt(
                    "the compressed V2 blob ends before its zlib stream does",
                ));
            }
            _ if out.len() >= MAX_INFLATED => {
                return Err(corrupt(&format!(
                    "the compressed V2 blob inflates past {MAX_INFLATED} bytes"
                )));
            }
            _ => out.reserve(out.len().min(MAX_INFLATED - out.len())),
        }
    }
}

impl serde::Serialize for HistogramSnapshot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let per = self.resolution.per_base_unit();
        let mut m = s.serialize_map(Some(15))?;
        m.serialize_entry("count", &self.count)?;
        m.serialize_entry("sum", &self.sum())?;
        m.serialize_entry("min", &self.min_value())?;
        m.serialize_entry("max", &self.max_value())?;
        m.serialize_entry("mean", &(self.mean() / per))?;
        m.serialize_entry("stddev", &(self.stddev() / per))?;
        for (k, q) in [
            ("p50", 0.5),
            ("p90", 0.9),
            ("p95", 0.95),
            ("p99", 0.99),
            ("p999", 0.999),
        ] {
            m.serialize_entry(k, &self.quantile(q))?;
        }
        m.serialize_entry("saturated", &self.saturated)?;
        m.serialize_entry("rejected", &self.rejected)?;
        m.serialize_entry("resolution", &self.resolution)?;
        let buckets: Vec<(String, u64)> = self
            .buckets()
            .iter()
            .map(|b| {
                (
                    if b.le.is_infinite() {
                        "+Inf".to_owned()
                    } else {
                        b.le.to_string()
                    },
                    b.cumulative_count,
                )
            })
            .collect();
        m.serialize_entry("buckets", &buckets)?;
        m.end()
    }
}
