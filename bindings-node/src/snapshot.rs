//! Histogram snapshots: quantiles, latency statistics, buckets and HdrHistogram V2 blobs.

use metricore::{HistogramSnapshot, LatencyStats};
use napi::Env;
use napi::bindgen_prelude::{Buffer, Object};
use napi_derive::napi;

use crate::convert::resolution;
use crate::errors::OrThrow;
use crate::tasks;

/// Latency of one histogram in milliseconds (the TypeScript-era unit). `count`, min, max
/// and mean are exact; quantiles carry the histogram's relative error (0.1 % at 3 figures).
#[napi(object, js_name = "LatencyStats")]
pub struct JsLatencyStats {
    /// Number of recorded durations.
    pub count: f64,
    /// Arithmetic mean.
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

impl From<&LatencyStats> for JsLatencyStats {
    fn from(s: &LatencyStats) -> Self {
        Self {
            count: s.count as f64,
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

/// One cumulative Prometheus bucket.
#[napi(object)]
pub struct BucketCount {
    /// Upper bound in base units (`Infinity` for the last bucket).
    pub le: f64,
    /// Values `<= le`.
    pub count: f64,
}

/// A copy of a histogram's state.
#[napi(js_name = "HistogramSnapshot")]
pub struct JsHistogramSnapshot {
    pub(crate) inner: HistogramSnapshot,
}

impl JsHistogramSnapshot {
    pub(crate) fn new(inner: HistogramSnapshot) -> Self {
        Self { inner }
    }
}

#[napi]
impl JsHistogramSnapshot {
    /// Decodes an HdrHistogram V2 blob (plain or deflate, as hdr-histogram-js, hdrh and
    /// `HdrHistogram_c` write them) whose integers mean `resolution` (default `microsecond`).
    /// Bytes that are not a V2 blob are a `TypeError` `ERR_METRICORE_CORRUPT_BLOB`.
    #[napi(factory, catch_unwind)]
    pub fn decode_v2(
        env: Env,
        blob: Buffer,
        resolution_name: Option<String>,
    ) -> napi::Result<Self> {
        let res = resolution(env, None, resolution_name.as_deref())?;
        HistogramSnapshot::decode_v2(&blob, res)
            .or_throw(env)
            .map(Self::new)
    }

    /// `decodeV2` on metricore's worker thread (the bytes are copied first); rejects as
    /// `decodeV2` throws.
    #[napi(catch_unwind, ts_return_type = "Promise<HistogramSnapshot>")]
    pub fn decode_v2_async(
        env: &Env,
        blob: Buffer,
        resolution_name: Option<String>,
    ) -> napi::Result<Object<'_>> {
        let resolution = resolution(*env, None, resolution_name.as_deref())?;
        let blob = blob.to_vec();
        tasks::spawn(
            env,
            move || HistogramSnapshot::decode_v2(&blob, resolution),
            Self::new,
        )
    }

    /// Encodes as an HdrHistogram V2 blob, deflate-compressed when `deflate` is true (what
    /// hdr-histogram-js `encode()` produces before base64). Throws
    /// `ERR_METRICORE_INVALID_CONFIG` for an any-magnitude histogram, which has no V2 form.
    #[napi(catch_unwind)]
    pub fn encode_v2(&self, env: Env, deflate: Option<bool>) -> napi::Result<Buffer> {
        let blob = if deflate.unwrap_or(false) {
            self.inner.encode_v2_deflate()
        } else {
            self.inner.encode_v2()
        };
        Ok(blob.or_throw(env)?.into())
    }

    /// Adds the counts of `other` into this snapshot.
    #[napi(catch_unwind)]
    pub fn merge(&mut self, env: Env, other: &JsHistogramSnapshot) -> napi::Result<()> {
        self.inner.merge(&other.inner).or_throw(env)
    }

    /// Number of recorded values.
    #[napi(getter, catch_unwind)]
    pub fn count(&self) -> f64 {
        self.inner.count() as f64
    }

    /// Sum in base units (seconds for time).
    #[napi(getter, catch_unwind)]
    pub fn sum(&self) -> f64 {
        self.inner.sum()
    }

    /// Smallest recorded value, in recorded integers.
    #[napi(getter, catch_unwind)]
    pub fn min(&self) -> f64 {
        self.inner.min_native()
    }

    /// Largest recorded value, in recorded integers.
    #[napi(getter, catch_unwind)]
    pub fn max(&self) -> f64 {
        self.inner.max_native()
    }

    /// Values outside the histogram's range (above it, below zero, or infinite), counted at
    /// its nearest end.
    #[napi(getter, catch_unwind)]
    pub fn saturated(&self) -> f64 {
        self.inner.saturated() as f64
    }

    /// NaN values given: not counted, not in the sum.
    #[napi(getter, catch_unwind)]
    pub fn rejected(&self) -> f64 {
        self.inner.rejected() as f64
    }

    /// The value at quantile `q` in recorded integers, exactly as HdrHistogram computes it.
    #[napi(catch_unwind)]
    pub fn value_at_quantile(&self, q: f64) -> f64 {
        self.inner.value_at_quantile(q) as f64
    }

    /// The value at quantile `q` in base units, clamped to the exact min and max.
    #[napi(catch_unwind)]
    pub fn quantile(&self, q: f64) -> f64 {
        self.inner.quantile(q)
    }

    /// Count, mean, min, max, standard deviation and p50..p99.9, in milliseconds.
    #[napi(catch_unwind)]
    pub fn latency_stats(&self) -> JsLatencyStats {
        JsLatencyStats::from(&self.inner.latency_stats())
    }

    /// The cumulative Prometheus buckets, ending with `+Inf`.
    #[napi(catch_unwind)]
    pub fn buckets(&self) -> Vec<BucketCount> {
        self.inner
            .buckets()
            .iter()
            .map(|b| BucketCount {
                le: b.le,
                count: b.cumulative_count as f64,
            })
            .collect()
    }
}
