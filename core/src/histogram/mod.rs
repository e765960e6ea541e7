//! Histograms: the distribution of recorded values, HDR-backed.
//!
//! A histogram comes in one of two kinds, fixed when it is built:
//!
//! - **Any magnitude** (the default, [`HistogramOpts::new`]): values are floats in base
//!   units of whatever the user records (seconds, milliseconds, bytes, queue lengths),
//!   of either sign, and every value from about 5e-20 to 1.8e19 in magnitude keeps the
//!   configured significant figures (relative error `<= 10^-figures`, 3 by default).
//!   Buckets are log-linear over the float's exponent and top mantissa bits
//!   ([`FloatLayout`]), the way Prometheus native histograms and HdrHistogram's
//!   `DoubleHistogram` cover any range. This is the default because a general
//!   `observe(v)`, as in prometheus_client and prom-client, carries no unit: the same
//!   call records 0.25 seconds, 250 milliseconds or 70,000 bytes, and each must come
//!   back as it went in rather than clamped to a range chosen for one of them.
//! - **Latency** ([`HistogramOpts::latency`], or any histogram given a
//!   [`HistogramOpts::range`]): integers in the histogram's [`Resolution`] (1 µs to 60 s in
//!   microseconds for `latency()`), in HdrHistogram's own layout ([`Layout`]), so
//!   snapshots convert to the `hdrhistogram` crate and to HdrHistogram V2 blobs. Values
//!   above the range count at its top and below zero at its bottom, both in
//!   [`HistogramSnapshot::saturated`].
//!
//! Both kinds take every entry point: [`Histogram::observe`] (base units: seconds for
//! time, as Prometheus requires), [`Histogram::record`] (an integer in the
//! [`Resolution`], one microsecond by default), [`Histogram::record_ms`] and the batch
//! forms; the conversion is explicit in the method's name. Each recording thread counts
//! in its own single-writer shard of the histogram (module `shard`: plain loads and
//! stores, merged on read, reset by generation), so any thread records without a lock or
//! a lock-prefixed instruction; counts are allocated a page at a time on first use, so a
//! histogram pays only for the magnitudes it sees. Sum, min and max are kept exactly
//! beside the counts. Both kinds record through the shards; the any-magnitude kind pays
//! for its float index and float sum on top (docs/benchmarks.md has the figures).
//!
//! Values no bucket can hold are handled as prometheus_client handles them: `+Inf`
//! counts in the top bucket (and so in `+Inf`) and makes the sum infinite, `-Inf` in the
//! bottom one; both are counted as saturated. NaN has no bucket: it is not counted,
//! leaves the sum alone and is tallied in [`HistogramSnapshot::rejected`] (prom-client
//! throws on it; prometheus_client drops its count but poisons the sum for good).
//!
//! Prometheus `_bucket` lines: when bucket bounds are given, their counts are
//! exact (a value equal to a bound counts in it, compared as recorded: the
//! float for `observe`, the integer for `record`). They are derived from the
//! HDR counts plus a small correction kept only for the HDR buckets a bound
//! cuts through (module `buckets`), so `count` always equals the `+Inf`
//! bucket. Without given bounds, the default bounds are derived from the HDR
//! counts at scrape time, exact to within one HDR sub-bucket.

mod buckets;
mod counts;
mod layout;
mod shard;
mod snapshot;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub use layout::{FloatLayout, Layout};
pub use snapshot::{Bucket, HistogramSnapshot};

use crate::adder::Adder;
use crate::error::{Error, ErrorKind, Result};
use crate::exemplar::Exemplar;
use crate::fork;
use crate::labels::LabelValues;
use crate::lazy::LazyBox;
use crate::series::Series;
use crate::window::{Rotating, Slot, WindowOpts};
use buckets::{BucketMap, Corrections};
use counts::Counts;
use layout::float_key;
use shard::ShardedCore;

/// What one recorded integer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// One nanosecond.
    Nanosecond,
    /// One microsecond (the default: 1 µs .. 60 s covers request latencies).
    #[default]
    Microsecond,
    /// One millisecond.
    Millisecond,
    /// One base unit (a byte, an item, a second).
    Unit,
}

impl Resolution {
    /// Recorded integers per base unit (per second for time).
    pub fn per_base_unit(self) -> f64 {
        match self {
            Self::Nanosecond => 1e9,
            Self::Microsecond => 1e6,
            Self::Millisecond => 1e3,
            Self::Unit => 1.0,
        }
    }
}

/// Prometheus client libraries' default bounds, in seconds.
pub const DEFAULT_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// How to build a histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramOpts {
    /// The integer range; `None` for an any-magnitude histogram.
    range: Option<(u64, u64)>,
    significant_figures: u8,
    resolution: Resolution,
    buckets: Option<Vec<f64>>,
    window: Option<WindowOpts>,
}

impl Default for HistogramOpts {
    fn default() -> Self {
        Self {
            range: None,
            significant_figures: 3,
            resolution: Resolution::Microsecond,
            buckets: None,
            window: None,
        }
    }
}

impl HistogramOpts {
    /// Any magnitude and sign at 3 significant figures; [`Histogram::record`] takes
    /// microseconds; Prometheus' default buckets (seconds); no window.
    pub fn new() -> Self {
        Self::default()
    }
    /// A latency histogram: integers from 1 µs to 60 s in microseconds at 3 significant
    /// figures, in HdrHistogram's layout (V2 blobs, the cheapest [`Histogram::record`]).
    pub fn latency() -> Self {
        Self::default().range(1, 60_000_000)
    }
    /// Trackable range, in recorded integers: makes this an integer (latency) histogram.
    #[must_use]
    pub fn range(mut self, lowest: u64, highest: u64) -> Self {
        self.range = Some((lowest, highest));
        self
    }
    /// The integer range, or `None` for an any-magnitude histogram.
    pub fn get_range(&self) -> Option<(u64, u64)> {
        self.range
    }
    /// Significant decimal figures (0..=5).
    #[must_use]
    pub fn significant_figures(mut self, figures: u8) -> Self {
        self.significant_figures = figures;
        self
    }
    /// What one recorded integer means.
    #[must_use]
    pub fn resolution(mut self, resolution: Resolution) -> Self {
        self.resolution = resolution;
        self
    }
    /// Prometheus bucket upper bounds in base units (seconds for time), kept exact.
    /// A trailing `+Inf` is implied and may be given.
    #[must_use]
    pub fn buckets(mut self, bounds: impl Into<Vec<f64>>) -> Self {
        self.buckets = Some(bounds.into());
        self
    }
    /// Also keep a sliding window (see [`WindowOpts`]) for [`Histogram::window_snapshot`].
    #[must_use]
    pub fn window(mut self, window: WindowOpts) -> Self {
        self.window = Some(window);
        self
    }
    /// The resolution.
    pub fn get_resolution(&self) -> Resolution {
        self.resolution
    }
    /// The window, if any.
    pub fn get_window(&self) -> Option<WindowOpts> {
        self.window.clone()
    }

    /// Checks the options for `metric` and returns the layout and exposition bounds.
    pub(crate) fn validate(&self, metric: &str) -> Result<(Scale, Vec<f64>, bool)> {
        let scale = match self.range {
            Some((lowest, highest)) => Scale::Integer(Layout::new(
                metric,
                lowest,
                highest,
                self.significant_figures,
            )?),
            None => Scale::Float(FloatLayout::new(metric, self.significant_figures)?),
        };
        let Some(given) = &self.buckets else {
            let bounds = match (self.resolution, scale) {
                (Resolution::Unit, Scale::Integer(layout)) => {
                    decades(layout.lowest(), layout.highest())
                }
                _ => DEFAULT_BUCKETS.to_vec(),
            };
            return Ok((scale, bounds, false));
        };
        let mut bounds = given.clone();
        if bounds.last() == Some(&f64::INFINITY) {
            bounds.pop();
        }
        let bad = |rule: String| Err(Error::for_metric(ErrorKind::InvalidConfig, metric, rule));
        if bounds.is_empty() {
            return bad("histogram needs at least one finite bucket bound".into());
        }
        if let Some(b) = bounds.iter().find(|b| !b.is_finite()) {
            return bad(format!(
                "bucket bound {b} is not finite (+Inf is implied last)"
            ));
        }
        if let Some([a, b]) = bounds.windows(2).find(|w| w[0] >= w[1]) {
            return bad(format!(
                "bucket bounds must increase strictly, but {a} is followed by {b}"
            ));
        }
        Ok((scale, bounds, true))
    }
}

/// How a histogram lays out its counts: the two kinds of histogram (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// Integers in a configured range, in HdrHistogram's layout.
    Integer(Layout),
    /// Floats of any magnitude and sign, in base units.
    Float(FloatLayout),
}

impl Scale {
    /// Number of count slots.
    pub fn counts_len(&self) -> usize {
        match self {
            Self::Integer(l) => l.counts_len(),
            Self::Float(l) => l.counts_len(),
        }
    }
    /// Significant decimal figures kept.
    pub fn significant_figures(&self) -> u8 {
        match self {
            Self::Integer(l) => l.significant_figures(),
            Self::Float(l) => l.significant_figures(),
        }
    }
}

/// Powers of ten spanning `lowest..=highest`, for unit-resolution histograms without bounds.
fn decades(lowest: u64, highest: u64) -> Vec<f64> {
    let mut v = Vec::new();
    let mut b = 1u64;
    while b < lowest {
        b = b.saturating_mul(10);
    }
    while b <= highest {
        v.push(b as f64);
        match b.checked_mul(10) {
            Some(n) => b = n,
            None => break,
        }
    }
    if v.is_empty() {
        v.push(highest as f64);
    }
    v
}

/// What one recording adds to the sum: recorded integers for an integer histogram, base
/// units for an any-magnitude one.
#[derive(Clone, Copy)]
enum Sum {
    /// From an integer recording: exact, and one `fetch_add`.
    Integer(u64),
    /// From a float recording, before rounding: the f64's bits. Bits rather than the f64
    /// keep both variants one integer wide, so a `Sum` passes in two registers instead of
    /// through the stack (where a 16-byte reload of two 8-byte stores stalls).
    Float(u64),
}

impl Sum {
    #[inline]
    fn float(x: f64) -> Self {
        Self::Float(x.to_bits())
    }
}

/// Counts plus exact sum, min and max in shared atomics: one sub-window of a histogram, or
/// the part of its cumulative counts that threads without a shard record into (`shard`).
pub(crate) struct HdrCore {
    counts: Counts,
    /// Integer recordings add exactly (to 2^64), float recordings keep their fractions.
    integer_sum: Adder<u64>,
    float_sum: Adder<f64>,
    /// The extremes as keys whose unsigned order is the value order: the recorded integers
    /// themselves, or [`float_key`]s in an any-magnitude histogram.
    min: AtomicU64,
    max: AtomicU64,
}

impl HdrCore {
    fn new(scale: &Scale) -> Self {
        Self {
            counts: Counts::new(scale.counts_len()),
            integer_sum: Adder::new(0),
            float_sum: Adder::new(0.0),
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
        }
    }

    #[inline]
    fn record(&self, index: usize, key: u64, n: u64, sum: Sum) {
        let stripe = self.add_sum(sum);
        self.counts.add(index, n, stripe);
        self.widen(key, key);
    }

    /// Adds to the sum and returns the count stripe for this thread: the sum goes first,
    /// because its adder detects contention and picks the stripe that the counts then
    /// share (see `counts`).
    #[inline]
    fn add_sum(&self, sum: Sum) -> usize {
        match sum {
            Sum::Integer(s) => self.integer_sum.add(s),
            Sum::Float(s) => self.float_sum.add(f64::from_bits(s)),
        }
    }

    /// Widens the extremes to take in the keys `min..=max`.
    #[inline]
    fn widen(&self, min: u64, max: u64) {
        // Relaxed: min/max publish nothing else; the load skips the RMW in the common case.
        if min < self.min.load(Ordering::Relaxed) {
            self.min.fetch_min(min, Ordering::Relaxed);
        }
        if max > self.max.load(Ordering::Relaxed) {
            self.max.fetch_max(max, Ordering::Relaxed);
        }
    }

    /// Reads the counts and the totals beside them.
    fn read(&self) -> CoreRead {
        let mut read = CoreRead::default();
        let stripes: Vec<&counts::Stripe> = self.counts.stripes().collect();
        counts::for_each_nonzero(&stripes, self.counts.pages(), |i, c| read.push(i, c));
        read.sum = self.integer_sum.sum() as f64 + self.float_sum.sum();
        // Relaxed: see `record`.
        read.min = self.min.load(Ordering::Relaxed);
        read.max = self.max.load(Ordering::Relaxed);
        read
    }

    /// Takes another histogram's sum and extreme keys, after its counts were added index
    /// by index.
    fn absorb(&self, sum: f64, min: u64, max: u64) {
        self.float_sum.add(sum);
        // Relaxed: as in `record`.
        self.min.fetch_min(min, Ordering::Relaxed);
        self.max.fetch_max(max, Ordering::Relaxed);
    }
}

/// What a reader took from a histogram's counts: the non-zero counts in index order, their
/// total, and the sum and extreme keys read beside them.
pub(crate) struct CoreRead {
    counts: Vec<(u32, u64)>,
    count: u64,
    sum: f64,
    min: u64,
    max: u64,
}

impl Default for CoreRead {
    fn default() -> Self {
        Self {
            counts: Vec::new(),
            count: 0,
            sum: 0.0,
            min: u64::MAX,
            max: 0,
        }
    }
}

impl CoreRead {
    #[inline]
    fn push(&mut self, index: usize, n: u64) {
        self.counts.push((index as u32, n));
        self.count = self.count.wrapping_add(n);
    }
}

impl Slot for HdrCore {
    fn clear(&self) {
        self.counts.clear();
        self.integer_sum.take();
        self.float_sum.take();
        // Relaxed: see `record`.
        self.min.store(u64::MAX, Ordering::Relaxed);
        self.max.store(0, Ordering::Relaxed);
    }
}

/// What every series of a histogram family shares: name, layout, bounds and how the bounds
/// map onto the count indexes. Built once per family.
#[doc(hidden)]
#[derive(Debug)]
pub struct HistogramShape {
    name: Arc<str>,
    scale: Scale,
    resolution: Resolution,
    /// Exposition bounds in base units, without `+Inf`.
    bounds: Arc<[f64]>,
    /// Present when the user gave bounds: their `_bucket` counts are then kept exact.
    exact: Option<BucketMap>,
    window: Option<WindowOpts>,
    /// A summary's quantiles (sorted, within 0..=1); empty for a histogram.
    pub(crate) quantiles: Box<[f64]>,
}

impl HistogramShape {
    pub(crate) fn new(name: &str, opts: &HistogramOpts) -> Result<Arc<Self>> {
        Self::with_quantiles(name, opts, Box::new([]))
    }

    pub(crate) fn with_quantiles(
        name: &str,
        opts: &HistogramOpts,
        quantiles: Box<[f64]>,
    ) -> Result<Arc<Self>> {
        let (scale, bounds, exact) = opts.validate(name)?;
        let per = opts.resolution.per_base_unit();
        Ok(Arc::new(Self {
            name: name.into(),
            exact: exact.then(|| BucketMap::new(&bounds, &scale, per)),
            scale,
            resolution: opts.resolution,
            bounds: bounds.into(),
            window: opts.window.clone(),
            quantiles,
        }))
    }
}

/// The cell behind a histogram series.
#[doc(hidden)]
pub struct HistogramCell {
    shape: Arc<HistogramShape>,
    hdr: ShardedCore,
    /// Values counted at an end of the range because they were outside it.
    saturated: AtomicU64,
    /// NaNs: not counted anywhere else.
    rejected: AtomicU64,
    /// Corrections to the derived bucket counts; empty unless the buckets are exact.
    corrections: Corrections,
    /// One exemplar per bucket (+Inf last), allocated on the first exemplar.
    exemplars: LazyBox<Mutex<Vec<Option<Exemplar>>>>,
    window: Option<Box<Rotating<HdrCore>>>,
}

impl HistogramCell {
    pub(crate) fn new(shape: &Arc<HistogramShape>) -> Self {
        let scale = shape.scale;
        Self {
            shape: Arc::clone(shape),
            hdr: ShardedCore::new(&scale),
            saturated: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            corrections: Corrections::new(shape.exact.as_ref().map_or(0, BucketMap::len)),
            exemplars: LazyBox::new(),
            window: shape
                .window
                .as_ref()
                .map(|w| Box::new(Rotating::new(w.clone(), || HdrCore::new(&scale)))),
        }
    }

    pub(crate) fn shape(&self) -> &HistogramShape {
        &self.shape
    }

    /// Empties the counts, sums, extremes, tallies, exact-bucket corrections, window and
    /// exemplars.
    fn reset(&self) {
        self.hdr.reset();
        // Relaxed: plain tallies, as in `after_count`.
        self.saturated.store(0, Ordering::Relaxed);
        self.rejected.store(0, Ordering::Relaxed);
        self.corrections.clear();
        if let Some(w) = &self.window {
            w.clear_all();
        }
        if let Some(exemplars) = self.exemplars.get() {
            let _fork = fork::section();
            let mut slots = exemplars.lock().unwrap_or_else(PoisonError::into_inner);
            slots.iter_mut().for_each(|e| *e = None);
        }
    }

    /// Records `n` occurrences of the integer `value` in an integer histogram.
    /// `exact_bucket` finds the value's exact bucket; it runs only where the index cannot
    /// tell (see `buckets`).
    #[inline]
    fn record_n(
        &self,
        layout: &Layout,
        value: u64,
        n: u64,
        sum: Sum,
        exact_bucket: impl FnOnce(&BucketMap) -> usize,
    ) {
        let index = layout.index_for(value.min(layout.highest()));
        self.hdr.record(index, value, n, sum);
        if let Some(w) = &self.window {
            w.current().record(index, value, n, sum);
        }
        self.after_count(index, value > layout.highest(), n, exact_bucket);
    }

    /// Records `n` occurrences of `x` (base units, not NaN) in an any-magnitude histogram.
    #[inline]
    fn record_base(&self, layout: FloatLayout, x: f64, n: u64) {
        // Adding zero turns -0 into 0, so the extremes never read "-0".
        let x = x + 0.0;
        let at = layout.index_for(x);
        let key = float_key(x);
        let sum = Sum::float(if n == 1 { x } else { x * n as f64 });
        self.hdr.record(at.index, key, n, sum);
        if let Some(w) = &self.window {
            w.current().record(at.index, key, n, sum);
        }
        self.after_count(at.index, at.saturated, n, |_| self.bucket_of(x));
    }

    /// Records the integer `value` (in the resolution) `n` times, in either kind.
    #[inline]
    fn record_integer(&self, value: u64, n: u64) {
        match &self.shape.scale {
            Scale::Integer(layout) => {
                self.record_n(
                    layout,
                    value,
                    n,
                    Sum::Integer(value.wrapping_mul(n)),
                    |map| map.exact_native(value),
                );
            }
            Scale::Float(layout) => {
                self.record_base(
                    *layout,
                    value as f64 / self.shape.resolution.per_base_unit(),
                    n,
                );
            }
        }
    }

    /// What a count at `index` (`n` times) needs besides the counts: the exact-bucket
    /// correction and the saturation tally.
    #[inline]
    fn after_count(
        &self,
        index: usize,
        saturated: bool,
        n: u64,
        exact_bucket: impl FnOnce(&BucketMap) -> usize,
    ) {
        if let Some(map) = &self.shape.exact
            && (saturated || map.is_marked(index))
        {
            self.corrections
                .shift(map.derived(index), exact_bucket(map), n);
        }
        if saturated {
            // Relaxed: a plain tally.
            self.saturated.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Tallies `n` values that no bucket can hold (NaN).
    #[cold]
    fn reject(&self, n: u64) {
        // Relaxed: a plain tally.
        self.rejected.fetch_add(n, Ordering::Relaxed);
    }

    /// Records a float given in units where `per_input` recorded integers make one input
    /// unit and `input_per_base` input units one base unit.
    #[inline]
    fn record_float(&self, x: f64, per_input: f64, input_per_base: f64) {
        match &self.shape.scale {
            Scale::Integer(layout) => {
                // NaN is outside the range too.
                if !(0.0..f64::INFINITY).contains(&x) {
                    return self.record_unusual(layout, x, per_input, input_per_base);
                }
                let native = x * per_input;
                // Rounds half up as `round` does for x >= 0, without its libm call. `as`
                // saturates, so huge values land on u64::MAX and then saturate the range.
                let value = (native + 0.5) as u64;
                self.record_n(layout, value, 1, Sum::float(native), |_| {
                    self.bucket_of(x / input_per_base)
                });
            }
            Scale::Float(layout) => {
                if x.is_nan() {
                    return self.reject(1);
                }
                self.record_base(*layout, x / input_per_base, 1);
            }
        }
    }

    /// An integer histogram's NaN (rejected), infinity or negative value: `+Inf` counts at
    /// the top of the range, anything below zero at the bottom, both as saturated; the sum
    /// takes the value as it is.
    #[cold]
    fn record_unusual(&self, layout: &Layout, x: f64, per_input: f64, input_per_base: f64) {
        if x.is_nan() {
            return self.reject(1);
        }
        let value = if x > 0.0 { u64::MAX } else { 0 };
        let index = layout.index_for(value.min(layout.highest()));
        let sum = Sum::float(x * per_input);
        self.hdr.record(index, value, 1, sum);
        if let Some(w) = &self.window {
            w.current().record(index, value, 1, sum);
        }
        self.after_count(index, true, 1, |_| self.bucket_of(x / input_per_base));
    }

    /// Records a run of floats as `record_float` would one by one, but adds each run's sum
    /// and extremes once: the per-value cost is the count (and window count) alone.
    fn record_floats(&self, xs: &[f64], per_input: f64, input_per_base: f64) {
        match &self.shape.scale {
            Scale::Integer(layout) => {
                let mut rest = xs;
                while !rest.is_empty() {
                    let good = rest
                        .iter()
                        .position(|x| !(0.0..f64::INFINITY).contains(x))
                        .unwrap_or(rest.len());
                    let run = &rest[..good];
                    if !run.is_empty() {
                        let sum = Sum::float(run.iter().map(|&x| x * per_input).sum());
                        self.record_run(run, sum, |&x| {
                            let value = (x * per_input + 0.5) as u64;
                            let index = layout.index_for(value.min(layout.highest()));
                            (
                                index,
                                value,
                                value > layout.highest(),
                                move |_: &BucketMap| self.bucket_of(x / input_per_base),
                            )
                        });
                    }
                    let Some(&x) = rest.get(good) else { break };
                    self.record_unusual(layout, x, per_input, input_per_base);
                    rest = &rest[good + 1..];
                }
            }
            Scale::Float(layout) => {
                let mut rest = xs;
                while !rest.is_empty() {
                    let good = rest.iter().position(|x| x.is_nan()).unwrap_or(rest.len());
                    let run = &rest[..good];
                    if !run.is_empty() {
                        let sum = Sum::float(run.iter().map(|&x| x / input_per_base).sum());
                        self.record_run(run, sum, |&x| {
                            let base = x / input_per_base + 0.0;
                            let at = layout.index_for(base);
                            (
                                at.index,
                                float_key(base),
                                at.saturated,
                                move |_: &BucketMap| self.bucket_of(base),
                            )
                        });
                    }
                    if good == rest.len() {
                        break;
                    }
                    let nans = rest[good..].iter().take_while(|x| x.is_nan()).count();
                    self.reject(nans as u64);
                    rest = &rest[good + nans..];
                }
            }
        }
    }

    /// Records whole numbers as `record_integer(v, 1)` would one by one, with one sum and
    /// one widening of the extremes for the run.
    fn record_integers(&self, values: &[u64]) {
        if values.is_empty() {
            return;
        }
        match &self.shape.scale {
            Scale::Integer(layout) => {
                let sum = Sum::Integer(values.iter().fold(0u64, |a, &v| a.wrapping_add(v)));
                self.record_run(values, sum, |&v| {
                    let index = layout.index_for(v.min(layout.highest()));
                    (index, v, v > layout.highest(), move |map: &BucketMap| {
                        map.exact_native(v)
                    })
                });
            }
            Scale::Float(layout) => {
                let per = self.shape.resolution.per_base_unit();
                let sum = Sum::float(values.iter().map(|&v| v as f64 / per).sum());
                self.record_run(values, sum, |&v| {
                    let base = v as f64 / per;
                    let at = layout.index_for(base);
                    (
                        at.index,
                        float_key(base),
                        at.saturated,
                        move |_: &BucketMap| self.bucket_of(base),
                    )
                });
            }
        }
    }

    /// The shared part of the run recorders: `each` gives a value's count index, extreme
    /// key, whether it saturated, and how to find its exact bucket.
    #[inline]
    fn record_run<T, B: FnOnce(&BucketMap) -> usize>(
        &self,
        run: &[T],
        sum: Sum,
        each: impl Fn(&T) -> (usize, u64, bool, B),
    ) {
        let window = self.window.as_ref().map(|w| w.current());
        let recorder = self.hdr.recorder();
        let stripe = recorder.add_sum(sum);
        let window_stripe = window.map(|w| w.add_sum(sum));
        let (mut lo, mut hi) = (u64::MAX, 0);
        for x in run {
            let (index, key, saturated, exact_bucket) = each(x);
            lo = lo.min(key);
            hi = hi.max(key);
            recorder.count(index, 1, stripe);
            if let (Some(w), Some(ws)) = (window, window_stripe) {
                w.counts.add(index, 1, ws);
            }
            self.after_count(index, saturated, 1, exact_bucket);
        }
        recorder.widen(lo, hi);
        if let Some(w) = window {
            w.widen(lo, hi);
        }
    }

    /// The bucket (`+Inf` last) that `base`, in base units, falls in.
    fn bucket_of(&self, base: f64) -> usize {
        self.shape.bounds.partition_point(|&b| b < base)
    }

    /// Exemplar slots are locked only inside a fork section (see [`crate::fork`]).
    fn set_exemplar(&self, bucket: usize, e: Exemplar) {
        let m = self.exemplars.get_or_init(|| {
            fork::install();
            Box::new(Mutex::new(vec![None; self.shape.bounds.len() + 1]))
        });
        let old = {
            let _fork = fork::section();
            m.lock().unwrap_or_else(PoisonError::into_inner)[bucket].replace(e)
        };
        // Freed outside the lock and the section.
        drop(old);
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let exemplars = self.exemplars.get().map(|m| {
            let _fork = fork::section();
            m.lock().unwrap_or_else(PoisonError::into_inner).clone()
        });
        // Corrections before counts (see `buckets`).
        let exact = self
            .shape
            .exact
            .as_ref()
            .map(|map| (map, self.corrections.load()));
        // Relaxed: tallies read at scrape time.
        let tallies = (
            self.saturated.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
        );
        HistogramSnapshot::from_core(self.hdr.read(), &self.shape, tallies, exact, exemplars)
    }

    pub(crate) fn window_snapshot(&self) -> Option<HistogramSnapshot> {
        let w = self.window.as_ref()?;
        let shape = &*self.shape;
        let mut total = HistogramSnapshot::empty(shape);
        for slot in w.live() {
            total.merge_same_layout(&HistogramSnapshot::from_core(
                slot.read(),
                shape,
                (0, 0),
                None,
                None,
            ));
        }
        Some(total)
    }

    pub(crate) fn count(&self) -> u64 {
        self.hdr.count()
    }

    /// Approximate heap bytes this series holds (its family's shared shape excluded).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.hdr.heap_bytes() + self.corrections.heap_bytes()
    }

    /// Adds another histogram's counts; see [`Histogram::merge_from`].
    fn merge(&self, other: &HistogramSnapshot) -> Result<()> {
        let shape = &*self.shape;
        if let (Scale::Integer(_), Scale::Integer(_)) = (shape.scale, other.scale())
            && other.resolution() != shape.resolution
        {
            return Err(Error::for_metric(
                ErrorKind::CorruptBlob,
                &shape.name,
                format!(
                    "cannot merge a {:?} histogram into a {:?} one",
                    other.resolution(),
                    shape.resolution
                ),
            ));
        }
        // Relaxed: a plain tally.
        self.rejected.fetch_add(other.rejected(), Ordering::Relaxed);
        if other.count() == 0 {
            return Ok(());
        }
        let per = shape.resolution.per_base_unit();
        let same_bounds = other.buckets_exact() && other.bounds().eq(shape.bounds.iter().copied());
        let mut derived = vec![0u64; shape.bounds.len() + 1];
        let mut out_of_range = 0u64;
        other.for_each_point(shape.scale, per, |p| {
            if p.saturated {
                out_of_range = out_of_range.wrapping_add(p.n);
            }
            self.hdr.shared.counts.add(p.index, p.n, 0);
            if let Some(w) = &self.window {
                w.current().counts.add(p.index, p.n, 0);
            }
            if let Some(map) = &shape.exact {
                if same_bounds {
                    let d = &mut derived[map.derived(p.index)];
                    *d = d.wrapping_add(p.n);
                } else {
                    let exact = match shape.scale {
                        Scale::Integer(_) => map.exact_native(p.native),
                        Scale::Float(_) => self.bucket_of(p.base),
                    };
                    self.corrections.shift(map.derived(p.index), exact, p.n);
                }
            }
        });
        if let (true, Some(map)) = (same_bounds, &shape.exact) {
            // The other side's exact counts are the truth: correct ours by the difference.
            let (mut exact_cumulative, mut derived_cumulative) = (0u64, 0u64);
            let pairs = other.bucket_counts().into_iter().zip(derived);
            for (bound, (e, d)) in pairs.take(map.len()).enumerate() {
                exact_cumulative = exact_cumulative.wrapping_add(e);
                derived_cumulative = derived_cumulative.wrapping_add(d);
                let delta = exact_cumulative
                    .wrapping_sub(derived_cumulative)
                    .cast_signed();
                self.corrections.add(bound, delta);
            }
        }
        let (sum, min, max) = other.totals_in(shape.scale, per);
        self.hdr.shared.absorb(sum, min, max);
        if let Some(w) = &self.window {
            w.current().absorb(sum, min, max);
        }
        // Relaxed: a plain tally. The other side's saturated values sit at its ends, which
        // are outside our range too unless ours is wider: count each value once.
        self.saturated
            .fetch_add(other.saturated().max(out_of_range), Ordering::Relaxed);
        Ok(())
    }
}

/// A handle to one histogram series; cheap to clone, usable from any thread.
#[derive(Clone)]
#[must_use = "histograms do nothing unless you use them"]
pub struct Histogram {
    pub(crate) series: Arc<Series<HistogramCell>>,
}

impl Histogram {
    /// A histogram that belongs to no registry.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] if the options are inconsistent.
    pub fn new(name: &str, opts: &HistogramOpts) -> Result<Self> {
        let shape = HistogramShape::new(name, opts)?;
        Ok(Self {
            series: Series::new(LabelValues::empty(), HistogramCell::new(&shape)),
        })
    }

    #[inline]
    fn cell(&self) -> &HistogramCell {
        &self.series.metric
    }

    /// Empties the series (prom-client's `reset` of a histogram without labels) and
    /// restarts its `_created` time. Any thread may reset. A recording racing with the
    /// reset lands wholly before it (and is cleared) or wholly after it, count, sum and
    /// extremes together, and no snapshot mixes the two sides (see module `shard`); a
    /// thread recording through the shared atomics (beyond the 128th live one) may keep
    /// its count but lose its sum. Exact-bucket corrections, tallies and the window are
    /// cleared directly, so a record racing with the reset may leave its correction or
    /// tally behind.
    pub fn reset(&self) {
        self.cell().reset();
        self.series.recreate();
    }

    /// Records `value`, in the histogram's resolution (microseconds by default).
    #[inline]
    pub fn record(&self, value: u64) {
        let cell = self.cell();
        match &cell.shape.scale {
            Scale::Integer(layout) => {
                cell.record_n(layout, value, 1, Sum::Integer(value), |map| {
                    map.exact_native(value)
                });
            }
            Scale::Float(_) => cell.record_integer(value, 1),
        }
    }

    /// Records `value` `n` times.
    #[inline]
    pub fn record_n(&self, value: u64, n: u64) {
        self.cell().record_integer(value, n);
    }

    /// Records a value in base units: seconds for time, as Prometheus' `observe`.
    /// Infinities and values outside an integer histogram's range count at an end of it
    /// and as saturated; NaN is tallied as rejected (see the module docs).
    ///
    /// # Errors
    /// None today: every value is either counted or tallied. The `Result` stays so that a
    /// rule for bad values can be added without breaking callers.
    #[inline]
    pub fn observe(&self, value: f64) -> Result<()> {
        let cell = self.cell();
        let per = cell.shape.resolution.per_base_unit();
        cell.record_float(value, per, 1.0);
        Ok(())
    }

    /// Records values in base units as [`Self::observe`] would one by one, but with the
    /// sum and extremes updated once per run (what bindings that buffer use).
    ///
    /// # Errors
    /// As [`Self::observe`].
    pub fn observe_batch(&self, values: &[f64]) -> Result<()> {
        let cell = self.cell();
        let per = cell.shape.resolution.per_base_unit();
        cell.record_floats(values, per, 1.0);
        Ok(())
    }

    /// Records durations in milliseconds as [`Self::record_ms`] would one by one (see
    /// [`Self::observe_batch`]).
    ///
    /// # Errors
    /// As [`Self::observe`].
    pub fn record_ms_batch(&self, ms: &[f64]) -> Result<()> {
        let cell = self.cell();
        let per = cell.shape.resolution.per_base_unit() / 1e3;
        cell.record_floats(ms, per, 1e3);
        Ok(())
    }

    /// Records whole numbers (in the histogram's resolution) as [`Self::record`] would one
    /// by one, with the sum and extremes updated once for the batch.
    pub fn record_batch(&self, values: &[u64]) {
        self.cell().record_integers(values);
    }

    /// Records a duration given in seconds (for time histograms the same as [`Self::observe`]).
    ///
    /// # Errors
    /// As [`Self::observe`].
    #[inline]
    pub fn record_secs(&self, secs: f64) -> Result<()> {
        let cell = self.cell();
        let per = cell.shape.resolution.per_base_unit();
        cell.record_float(secs, per, 1.0);
        Ok(())
    }

    /// Records a duration given in milliseconds, the TypeScript-era unit.
    ///
    /// # Errors
    /// As [`Self::observe`].
    #[inline]
    pub fn record_ms(&self, ms: f64) -> Result<()> {
        let cell = self.cell();
        let per = cell.shape.resolution.per_base_unit() / 1e3;
        cell.record_float(ms, per, 1e3);
        Ok(())
    }

    /// Records a `Duration`.
    #[inline]
    pub fn record_duration(&self, d: Duration) {
        let cell = self.cell();
        match &cell.shape.scale {
            Scale::Integer(layout) => {
                let native = d.as_nanos() as f64 * (cell.shape.resolution.per_base_unit() / 1e9);
                cell.record_n(layout, (native + 0.5) as u64, 1, Sum::float(native), |_| {
                    cell.bucket_of(d.as_secs_f64())
                });
            }
            Scale::Float(layout) => cell.record_base(*layout, d.as_secs_f64(), 1),
        }
    }

    /// Records a value in base units and keeps an exemplar on its bucket.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidExemplar`] (the value is recorded, the exemplar dropped), also
    /// for a NaN value, which has no bucket to keep it on.
    pub fn observe_with_exemplar(
        &self,
        value: f64,
        exemplar_labels: &[(&str, &str)],
    ) -> Result<()> {
        self.observe_with_exemplar_at(value, exemplar_labels, None)
    }

    /// As [`Histogram::observe_with_exemplar`], the exemplar stamped `timestamp` (Unix
    /// seconds) when given: a binding whose callers keep their own time (JavaScript's
    /// `Date.now()`, fake timers) stamps it with theirs.
    ///
    /// # Errors
    /// As [`Histogram::observe_with_exemplar`].
    pub fn observe_with_exemplar_at(
        &self,
        value: f64,
        exemplar_labels: &[(&str, &str)],
        timestamp: Option<f64>,
    ) -> Result<()> {
        self.observe(value)?;
        let cell = self.cell();
        if value.is_nan() {
            return Err(Error::for_metric(
                ErrorKind::InvalidExemplar,
                &cell.shape.name,
                "an exemplar needs a value with a bucket, not NaN",
            ));
        }
        let mut exemplar = Exemplar::new(&cell.shape.name, exemplar_labels, value)?;
        if let Some(t) = timestamp {
            exemplar.timestamp = t;
        }
        cell.set_exemplar(cell.bucket_of(value), exemplar);
        Ok(())
    }

    /// Starts a timer that records the elapsed time when dropped or stopped.
    pub fn start_timer(&self) -> Timer {
        Timer {
            histogram: self.clone(),
            start: Instant::now(),
            armed: true,
        }
    }

    /// A consistent copy of the counts: `count` equals the sum of the bucket counts, even
    /// while other threads record.
    pub fn snapshot(&self) -> HistogramSnapshot {
        self.cell().snapshot()
    }

    /// The sliding window's counts, if the histogram was built with a window.
    pub fn window_snapshot(&self) -> Option<HistogramSnapshot> {
        self.cell().window_snapshot()
    }

    /// How many values have been recorded.
    pub fn count(&self) -> u64 {
        self.cell().count()
    }

    /// The value at quantile `q` (0..=1), in recorded integers; 0 when empty (see
    /// [`HistogramSnapshot::value_at_quantile`]).
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        self.snapshot().value_at_quantile(q)
    }

    /// Adds another histogram's counts (e.g. decoded from a V2 blob from another process).
    /// Exact buckets stay exact when both sides have the same bounds; otherwise the other
    /// side's values are placed by their HDR bucket. Sum, min, max and the saturated count
    /// carry over exactly.
    ///
    /// Either kind merges into either: counts move index by index between histograms of
    /// the same layout, and otherwise each count is placed by the value it stands for.
    ///
    /// # Errors
    /// [`ErrorKind::CorruptBlob`] if both are integer histograms and their resolutions
    /// differ (the integers would mean different things).
    pub fn merge_from(&self, other: &HistogramSnapshot) -> Result<()> {
        self.cell().merge(other)
    }

    /// This series' label values.
    pub fn label_values(&self) -> &LabelValues {
        &self.series.labels
    }

    /// The resolution of recorded integers.
    pub fn resolution(&self) -> Resolution {
        self.cell().shape.resolution
    }

    /// How the counts are laid out: an integer range, or any magnitude.
    pub fn scale(&self) -> Scale {
        self.cell().shape.scale
    }

    /// Approximate heap bytes held by this histogram's counts and bounds.
    pub fn heap_bytes(&self) -> usize {
        self.cell().heap_bytes()
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("name", &self.cell().shape.name)
            .field("labels", &self.series.labels)
            .finish_non_exhaustive()
    }
}

/// Measures a span of time into a histogram: records when dropped, or on
/// [`Timer::stop`]; [`Timer::discard`] records nothing.
#[must_use = "a timer records when it is dropped; bind it to a variable"]
pub struct Timer {
    histogram: Histogram,
    start: Instant,
    armed: bool,
}

impl Timer {
    /// Milliseconds since the timer started (the TypeScript-era unit), as f64.
    pub fn elapsed_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1e3
    }

    /// Records the elapsed time now and returns it in milliseconds.
    pub fn stop(mut self) -> f64 {
        self.armed = false;
        let d = self.start.elapsed();
        self.histogram.record_duration(d);
        d.as_secs_f64() * 1e3
    }

    /// Stops without recording.
    pub fn discard(mut self) {
        self.armed = false;
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if self.armed {
            self.histogram.record_duration(self.start.elapsed());
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    reason = "exact comparisons assert what is kept exactly: extremes, sums of exactly representable values, infinities"
)]
mod tests;
