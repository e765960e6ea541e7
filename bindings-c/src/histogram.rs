//! Histogram series handles, timers, snapshots, latency statistics and HdrHistogram V2 blobs.

use std::sync::OnceLock;

use metricore::{Bucket, Histogram, HistogramSnapshot, LatencyStats, Timer};

use crate::error::{check, fail, metricore_status, status};
use crate::family::resolution_from;
use crate::ffi::{self, Castable, OwnershipArc, OwnershipBox};

/// One histogram series: HDR counts (any quantile within 10^-figures relative error) with
/// exact count, sum, min and max, and exact Prometheus buckets when bounds were given.
///
/// Under the hood an `Arc<Histogram>`: `metricore_histogram_clone` adds a reference,
/// `metricore_histogram_free` drops one. Safe for concurrent use from any thread: recording
/// never locks or allocates once the value's count page exists.
pub struct metricore_histogram {
    _private: [u8; 0],
}

impl Castable for metricore_histogram {
    type Ownership = OwnershipArc;
    type RustType = Histogram;
}

/// Records `value` in the histogram's resolution (microseconds by default). Values above
/// the range are counted at its top and reported as saturated. NULL does nothing.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_record(histogram: *const metricore_histogram, value: u64) {
    boundary! {
        try_ref!(histogram).record(value);
    }
}

/// Records `value` `n` times. NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_record_n(
    histogram: *const metricore_histogram,
    value: u64,
    n: u64,
) {
    boundary! {
        try_ref!(histogram).record_n(value, n);
    }
}

/// Records a value in base units (seconds for time), as Prometheus' `observe`.
///
/// Errors: `NULL_PARAMETER`; `INVALID_VALUE` for NaN, negative or infinite values, with
/// nothing recorded. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_observe(
    histogram: *const metricore_histogram,
    value: f64,
) -> metricore_status {
    boundary! {
        status(check(try_ref!(histogram).observe(value)))
    }
}

/// Records a duration given in seconds. Errors as `metricore_histogram_observe`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_record_secs(
    histogram: *const metricore_histogram,
    secs: f64,
) -> metricore_status {
    boundary! {
        status(check(try_ref!(histogram).record_secs(secs)))
    }
}

/// Records a duration given in milliseconds (the TypeScript-era unit). Errors as
/// `metricore_histogram_observe`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_record_ms(
    histogram: *const metricore_histogram,
    ms: f64,
) -> metricore_status {
    boundary! {
        status(check(try_ref!(histogram).record_ms(ms)))
    }
}

/// How many values have been recorded (0 for NULL). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_count(histogram: *const metricore_histogram) -> u64 {
    boundary! {
        try_ref!(histogram).count()
    }
}

/// Stores a consistent copy of the histogram in `*snapshot_out` (its count always equals the
/// sum of its buckets, even while other threads record). The caller frees it with
/// `metricore_histogram_snapshot_free`.
///
/// Errors: `NULL_PARAMETER`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_take_snapshot(
    histogram: *const metricore_histogram,
    snapshot_out: *mut *mut metricore_histogram_snapshot,
) -> metricore_status {
    boundary! {
        let histogram = try_ref!(histogram);
        let snapshot_out = try_out!(snapshot_out);
        snapshot_out.write(ffi::box_into_ptr::<metricore_histogram_snapshot>(SnapshotBox::new(
            histogram.snapshot(),
        )));
        metricore_status::Ok
    }
}

/// Stores the histogram's latency statistics in milliseconds in `*stats_out` (a shortcut
/// for a snapshot's `metricore_histogram_snapshot_latency_stats`).
///
/// Errors: `NULL_PARAMETER`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_latency_stats(
    histogram: *const metricore_histogram,
    stats_out: *mut metricore_latency_stats,
) -> metricore_status {
    boundary! {
        let histogram = try_ref!(histogram);
        let stats_out = try_out!(stats_out);
        stats_out.write(metricore_latency_stats::from(&histogram.snapshot().latency_stats()));
        metricore_status::Ok
    }
}

/// Adds the counts of `snapshot` (for example one decoded from another process's V2 blob)
/// into the live histogram. Exact buckets stay exact when both have the same bounds; sum,
/// min, max and saturation carry over.
///
/// Errors: `NULL_PARAMETER`; `CORRUPT_BLOB` if the resolutions differ (nothing is merged).
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_merge(
    histogram: *const metricore_histogram,
    snapshot: *const metricore_histogram_snapshot,
) -> metricore_status {
    boundary! {
        let histogram = try_ref!(histogram);
        let snapshot = try_ref!(snapshot);
        status(check(histogram.merge_from(&snapshot.snapshot)))
    }
}

/// Starts a timer that records into `histogram` when stopped. Returns NULL for a NULL
/// histogram (or a caught panic).
///
/// The caller owns the timer and must end it with exactly one of `metricore_timer_stop`
/// (records) or `metricore_timer_discard` (records nothing); both free it. The timer holds
/// its own reference to the histogram, so the histogram handle may be freed first.
/// Thread-safe; the timer itself may be stopped on another thread, but by one thread only.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_start_timer(
    histogram: *const metricore_histogram,
) -> *mut metricore_timer {
    boundary! {
        ffi::box_into_ptr::<metricore_timer>(try_ref!(histogram).start_timer())
    }
}

/// Adds a reference to a histogram handle and returns it (NULL for NULL). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_clone(
    histogram: *const metricore_histogram,
) -> *const metricore_histogram {
    boundary! {
        ffi::arc_clone(histogram)
    }
}

/// Releases one reference to a histogram handle; NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_free(histogram: *const metricore_histogram) {
    boundary! {
        ffi::arc_free(histogram);
    }
}

// ------------------------------------------------------------ timers

/// A running timer on a histogram, from `metricore_histogram_start_timer`.
///
/// Under the hood a `Box<Timer>`, owned by the caller and freed by `metricore_timer_stop`
/// or `metricore_timer_discard`. Not safe for concurrent use.
pub struct metricore_timer {
    _private: [u8; 0],
}

impl Castable for metricore_timer {
    type Ownership = OwnershipBox;
    type RustType = Timer;
}

/// Milliseconds since the timer started (0 for NULL). The timer keeps running.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_timer_elapsed_ms(timer: *const metricore_timer) -> f64 {
    boundary! {
        try_ref!(timer).elapsed_ms()
    }
}

/// Records the elapsed time into the timer's histogram, frees the timer and returns the
/// elapsed time in milliseconds. NULL does nothing and returns 0. The timer must not be used
/// afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_timer_stop(timer: *mut metricore_timer) -> f64 {
    boundary! {
        try_box!(timer).stop()
    }
}

/// Frees the timer without recording anything. NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_timer_discard(timer: *mut metricore_timer) {
    boundary! {
        try_box!(timer).discard();
    }
}

// ------------------------------------------------------------ snapshots

/// A point-in-time copy of a histogram: quantiles, statistics, buckets, merging and
/// HdrHistogram V2 interchange.
///
/// Under the hood a `Box<HistogramSnapshot>`, owned by the caller and freed with
/// `metricore_histogram_snapshot_free`. Reads from several threads at once are safe;
/// `metricore_histogram_snapshot_merge` into it is not.
pub struct metricore_histogram_snapshot {
    _private: [u8; 0],
}

/// A snapshot and its Prometheus buckets, computed on first use.
pub(crate) struct SnapshotBox {
    snapshot: HistogramSnapshot,
    buckets: OnceLock<Vec<Bucket>>,
}

impl SnapshotBox {
    pub(crate) fn new(snapshot: HistogramSnapshot) -> Self {
        Self {
            snapshot,
            buckets: OnceLock::new(),
        }
    }

    fn buckets(&self) -> &[Bucket] {
        self.buckets.get_or_init(|| self.snapshot.buckets())
    }
}

impl Castable for metricore_histogram_snapshot {
    type Ownership = OwnershipBox;
    type RustType = SnapshotBox;
}

/// Latency statistics in milliseconds, the TypeScript-era unit: `count`, `min_ms`, `max_ms`
/// and `mean_ms` are exact; the quantiles carry the histogram's relative error and never
/// exceed `max_ms`; `stddev_ms` is the population standard deviation from the HDR counts.
/// All zero for an empty histogram. A histogram of `METRICORE_RESOLUTION_UNIT` is read as
/// seconds.
///
/// Plain data filled in by the library; its layout is part of the ABI (a new field would
/// come as a new struct and function, never by changing this one).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct metricore_latency_stats {
    /// Number of recorded durations.
    pub count: u64,
    /// Arithmetic mean, from the exact running sum.
    pub mean_ms: f64,
    /// Smallest recorded duration.
    pub min_ms: f64,
    /// Largest recorded duration.
    pub max_ms: f64,
    /// Population standard deviation.
    pub stddev_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
}

impl From<&LatencyStats> for metricore_latency_stats {
    fn from(s: &LatencyStats) -> Self {
        Self {
            count: s.count,
            mean_ms: s.mean_ms,
            min_ms: s.min_ms,
            max_ms: s.max_ms,
            stddev_ms: s.stddev_ms,
            p50_ms: s.p50_ms,
            p90_ms: s.p90_ms,
            p95_ms: s.p95_ms,
            p99_ms: s.p99_ms,
            p999_ms: s.p999_ms,
        }
    }
}

/// Frees a snapshot. NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_free(snapshot: *mut metricore_histogram_snapshot) {
    boundary! {
        ffi::box_free(snapshot);
    }
}

/// A new, independent copy of a snapshot (NULL for NULL), freed with
/// `metricore_histogram_snapshot_free`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_clone(
    snapshot: *const metricore_histogram_snapshot,
) -> *mut metricore_histogram_snapshot {
    boundary! {
        let s = try_ref!(snapshot);
        ffi::box_into_ptr::<metricore_histogram_snapshot>(SnapshotBox::new(s.snapshot.clone()))
    }
}

/// Number of recorded values (0 for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_count(
    snapshot: *const metricore_histogram_snapshot,
) -> u64 {
    boundary! {
        try_ref!(snapshot).snapshot.count()
    }
}

/// Sum of recorded values in base units (seconds for time); 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_sum(
    snapshot: *const metricore_histogram_snapshot,
) -> f64 {
    boundary! {
        try_ref!(snapshot).snapshot.sum()
    }
}

/// Smallest recorded value in recorded integers (0 when empty or NULL).
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_min(
    snapshot: *const metricore_histogram_snapshot,
) -> u64 {
    boundary! {
        try_ref!(snapshot).snapshot.min()
    }
}

/// Largest recorded value in recorded integers, before saturation (0 when empty or NULL).
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_max(
    snapshot: *const metricore_histogram_snapshot,
) -> u64 {
    boundary! {
        try_ref!(snapshot).snapshot.max()
    }
}

/// How many values were outside the histogram's range (above it, below zero, or
/// infinite) and counted at its nearest end (0 for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_saturated(
    snapshot: *const metricore_histogram_snapshot,
) -> u64 {
    boundary! {
        try_ref!(snapshot).snapshot.saturated()
    }
}

/// How many NaN values were given: not counted, not in the sum (0 for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_rejected(
    snapshot: *const metricore_histogram_snapshot,
) -> u64 {
    boundary! {
        try_ref!(snapshot).snapshot.rejected()
    }
}

/// Exact mean in recorded integers (0 when empty or NULL).
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_mean(
    snapshot: *const metricore_histogram_snapshot,
) -> f64 {
    boundary! {
        try_ref!(snapshot).snapshot.mean()
    }
}

/// The core's quantile rule, reported as `INVALID_ARGUMENT` (the status these functions
/// have always documented).
fn check_quantile(q: f64) -> Result<(), metricore_status> {
    metricore::stats::check_quantile(None, q)
        .map(drop)
        .map_err(|e| fail(metricore_status::InvalidArgument, e.to_string()))
}

/// Stores in `*value_out` the value at quantile `q` in recorded integers, exactly as
/// HdrHistogram computes it: the highest value of the bucket holding the
/// `max(1, ceil(q * count))`-th smallest value (the lowest of that bucket for q = 0);
/// 0 when empty.
///
/// Errors: `NULL_PARAMETER`; `INVALID_ARGUMENT` for NaN or `q` outside 0..=1.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_value_at_quantile(
    snapshot: *const metricore_histogram_snapshot,
    q: f64,
    value_out: *mut u64,
) -> metricore_status {
    boundary! {
        let s = try_ref!(snapshot);
        let value_out = try_out!(value_out);
        if let Err(status) = check_quantile(q) {
            return status;
        }
        value_out.write(s.snapshot.value_at_quantile(q));
        metricore_status::Ok
    }
}

/// Stores in `*value_out` the value at quantile `q` in base units (seconds for time),
/// clamped to the exact min and max.
///
/// Errors: `NULL_PARAMETER`; `INVALID_ARGUMENT` for NaN or `q` outside 0..=1.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_quantile(
    snapshot: *const metricore_histogram_snapshot,
    q: f64,
    value_out: *mut f64,
) -> metricore_status {
    boundary! {
        let s = try_ref!(snapshot);
        let value_out = try_out!(value_out);
        if let Err(status) = check_quantile(q) {
            return status;
        }
        value_out.write(s.snapshot.quantile(q));
        metricore_status::Ok
    }
}

/// Stores the snapshot's latency statistics (milliseconds) in `*stats_out`.
///
/// Errors: `NULL_PARAMETER`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_latency_stats(
    snapshot: *const metricore_histogram_snapshot,
    stats_out: *mut metricore_latency_stats,
) -> metricore_status {
    boundary! {
        let s = try_ref!(snapshot);
        let stats_out = try_out!(stats_out);
        stats_out.write(metricore_latency_stats::from(&s.snapshot.latency_stats()));
        metricore_status::Ok
    }
}

/// The number of cumulative Prometheus buckets, `+Inf` included (0 for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_bucket_count(
    snapshot: *const metricore_histogram_snapshot,
) -> usize {
    boundary! {
        try_ref!(snapshot).buckets().len()
    }
}

/// Stores bucket `index`'s upper bound in base units (`INFINITY` for the last) in `*le_out`
/// and its cumulative count in `*count_out`.
///
/// Errors: `NULL_PARAMETER`; `INVALID_ARGUMENT` when `index` is past the end.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_bucket(
    snapshot: *const metricore_histogram_snapshot,
    index: usize,
    le_out: *mut f64,
    count_out: *mut u64,
) -> metricore_status {
    boundary! {
        let s = try_ref!(snapshot);
        let le_out = try_out!(le_out);
        let count_out = try_out!(count_out);
        let buckets = s.buckets();
        let Some(b) = buckets.get(index) else {
            return fail(
                metricore_status::InvalidArgument,
                format!("bucket index {index} is past the end of {} buckets", buckets.len()),
            );
        };
        le_out.write(b.le);
        count_out.write(b.cumulative_count);
        metricore_status::Ok
    }
}

/// Adds `from`'s counts into `into` (re-bucketing when their layouts differ, as
/// HdrHistogram's `add` does). `from` is not changed and may be freed afterwards.
///
/// Errors: `NULL_PARAMETER`; `CORRUPT_BLOB` if the resolutions differ (nothing is merged).
/// Not thread-safe for `into`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_merge(
    into: *mut metricore_histogram_snapshot,
    from: *const metricore_histogram_snapshot,
) -> metricore_status {
    boundary! {
        // Merging a snapshot into itself doubles it. The pointers are compared before any
        // reference is made, so `&mut` and `&` to the same snapshot never coexist.
        if into.cast_const() == from {
            let into = try_mut!(into);
            let copy = into.snapshot.clone();
            let merged = check(into.snapshot.merge(&copy));
            into.buckets = OnceLock::new();
            return status(merged);
        }
        let into = try_mut!(into);
        let from = try_ref!(from);
        let merged = check(into.snapshot.merge(&from.snapshot));
        into.buckets = OnceLock::new();
        status(merged)
    }
}

/// Encodes the snapshot as an HdrHistogram V2 blob (deflate-compressed when `deflate` is
/// true, as `hdrh` and `hdr-histogram-js` `encode()` produce before base64) into `buf`,
/// `len` bytes; `*out_n` is set to the blob's size. Buffer rules as
/// `metricore_registry_render`. The blob carries HDR counts only (no exact sum or buckets).
///
/// Errors: `NULL_PARAMETER`, `BUFFER_TOO_SMALL`; `INVALID_CONFIG` naming the metric for an
/// any-magnitude histogram (one built without a range), which has no V2 form.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_encode_v2(
    snapshot: *const metricore_histogram_snapshot,
    deflate: bool,
    buf: *mut u8,
    len: usize,
    out_n: *mut usize,
) -> metricore_status {
    boundary! {
        let s = try_ref!(snapshot);
        let out_n = try_out!(out_n);
        let blob = if deflate {
            s.snapshot.encode_v2_deflate()
        } else {
            s.snapshot.encode_v2()
        };
        let blob = match check(blob) {
            Ok(blob) => blob,
            Err(status) => return status,
        };
        ffi::write_buf(&blob, buf, len, out_n, "the V2 blob")
    }
}

/// Decodes an HdrHistogram V2 blob (plain or deflate, from any HdrHistogram
/// implementation) of `blob_len` bytes whose integers mean `resolution` (a
/// `metricore_resolution` value) into a new snapshot stored in `*snapshot_out`; the caller
/// frees it with `metricore_histogram_snapshot_free`. After decoding, min and max are the
/// edges of their buckets and the sum is estimated from bucket midpoints.
///
/// Errors: `NULL_PARAMETER`; `INVALID_ARGUMENT` for an unknown resolution; `CORRUPT_BLOB`
/// naming what is wrong with the bytes. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_snapshot_decode_v2(
    blob: *const u8,
    blob_len: usize,
    resolution: u32,
    snapshot_out: *mut *mut metricore_histogram_snapshot,
) -> metricore_status {
    boundary! {
        let snapshot_out = try_out!(snapshot_out);
        let blob = try_slice!(blob, blob_len);
        let resolution = match resolution_from(resolution) {
            Ok(r) => r,
            Err(status) => return status,
        };
        match check(HistogramSnapshot::decode_v2(blob, resolution)) {
            Ok(s) => {
                snapshot_out.write(ffi::box_into_ptr::<metricore_histogram_snapshot>(SnapshotBox::new(s)));
                metricore_status::Ok
            }
            Err(status) => status,
        }
    }
}
