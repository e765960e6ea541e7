//! Families and series of counters, gauges and histograms.
//!
//! A family (`CounterFamily`, ...) hands out series by label values; a series
//! (`CounterSeries`, ...) is the core handle the caller keeps, so the hot path (`inc`,
//! `set`, `observe`) is one call into the core with no lookup. Every series keeps its
//! family's name for error messages.

use std::sync::OnceLock;

use metricore::registry::Family;
use metricore::stats::check_quantile;
use metricore::{Counter, ErrorKind, Gauge, Histogram, HistogramOpts, Summary};
use napi::Env;
use napi::bindgen_prelude::{Object, ObjectFinalize};
use napi_derive::napi;

use crate::convert::whole;
use crate::errors::{OrThrow, throw};
use crate::snapshot::{JsHistogramSnapshot, JsLatencyStats};
use crate::tasks;

/// `(name, value)` pairs from two parallel arrays.
fn pairs<'a>(
    env: Env,
    metric: &str,
    names: &'a [String],
    values: &'a [String],
) -> napi::Result<Vec<(&'a str, &'a str)>> {
    if names.len() != values.len() {
        return Err(throw(
            env,
            ErrorKind::InvalidLabels,
            Some(metric),
            "label names and values differ in length",
        ));
    }
    Ok(names
        .iter()
        .zip(values)
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect())
}

/// The family methods every kind shares.
macro_rules! family_methods {
    ($family:ident, $series:ident) => {
        #[napi]
        impl $family {
            /// The registered name (a counter's without `_total`).
            #[napi(getter, catch_unwind)]
            pub fn name(&self) -> String {
                self.family.name().to_owned()
            }

            /// The label names, in the order values are given.
            #[napi(getter, catch_unwind)]
            pub fn label_names(&self) -> Vec<String> {
                self.family.label_names().to_vec()
            }

            /// The series for `values` (in label-name order), created on first use.
            /// Keep it: recording through it needs no lookup.
            #[napi(catch_unwind)]
            pub fn labels(&self, env: Env, values: Vec<String>) -> napi::Result<$series> {
                let handle = self.family.with_label_values(&values).or_throw(env)?;
                Ok($series::new(env, self.family.name(), handle.into()))
            }

            /// The series for label `names[i] = values[i]`, in any order (prom-client's
            /// `labels({...})`). Unknown, missing or repeated names are an error.
            #[napi(catch_unwind)]
            pub fn labels_by_name(
                &self,
                env: Env,
                names: Vec<String>,
                values: Vec<String>,
            ) -> napi::Result<$series> {
                let pairs = pairs(env, self.family.name(), &names, &values)?;
                let handle = self.family.with_labels(&pairs).or_throw(env)?;
                Ok($series::new(env, self.family.name(), handle.into()))
            }

            /// Removes the series for `values`; series already handed out keep working but
            /// are no longer collected. Returns whether one was removed.
            #[napi(catch_unwind)]
            pub fn remove(&self, env: Env, values: Vec<String>) -> napi::Result<bool> {
                self.family.remove(&values).or_throw(env)
            }

            /// This family's series collected now, compactly, for prom-client's `get()`
            /// (see `PromSeries`).
            #[napi(catch_unwind)]
            pub fn prom_client_series(&self) -> crate::prom_values::PromSeries {
                crate::prom_values::of(&self.family.snapshot())
            }

            /// Removes every series.
            #[napi(catch_unwind)]
            pub fn clear(&self) {
                self.family.clear();
            }

            /// Number of series.
            #[napi(getter, catch_unwind)]
            pub fn size(&self) -> u32 {
                u32::try_from(self.family.len()).unwrap_or(u32::MAX)
            }
        }
    };
}

/// The methods every series shares; a series keeps its family's name for messages.
macro_rules! series_methods {
    ($series:ident, $metric:ty) => {
        impl $series {
            fn new(env: Env, name: &str, handle: $metric) -> Self {
                let bytes = series_bytes(&handle);
                // Reporting fails only in an environment being torn down, where no
                // collection is coming anyway.
                let _ = env.adjust_external_memory(bytes);
                Self {
                    name: name.to_owned(),
                    handle,
                    reported: bytes,
                }
            }
        }

        impl ObjectFinalize for $series {
            fn finalize(self, env: Env) -> napi::Result<()> {
                let _ = env.adjust_external_memory(-self.reported);
                Ok(())
            }
        }

        #[napi]
        impl $series {
            /// Lets go of the series at once, rather than when V8 collects this object: the
            /// skin calls it for a child whose series was removed from its family, after
            /// which it never uses this handle again. Later calls through it reach a shared
            /// series that nothing collects.
            #[napi(catch_unwind)]
            pub fn detach(&mut self, env: Env) {
                if let Some(detached) = <$metric as Detached>::detached() {
                    self.handle = detached;
                    let _ = env.adjust_external_memory(-self.reported);
                    self.reported = 0;
                }
            }

            /// This series' label values, in label-name order.
            #[napi(getter, catch_unwind)]
            pub fn label_values(&self) -> Vec<String> {
                self.handle
                    .label_values()
                    .iter()
                    .map(ToOwned::to_owned)
                    .collect()
            }
        }
    };
}

/// Native bytes to report to V8 for a series handle that JavaScript holds.
///
/// A series that its family dropped (`remove`, `clear`) lives until V8 collects the last
/// JS object holding a handle to it, and V8 schedules full collections by the memory it
/// knows of. A removed series costs a few hundred bytes of JS objects and, natively, its
/// cell, labels and this wrapper (a histogram's counts are kilobytes): unreported, label
/// churn piles up removed series between V8's rare full collections (hundreds of MiB for
/// 200k label sets made and removed between turns of a busy loop).
fn series_bytes(handle: &impl SeriesBytes) -> i64 {
    i64::try_from(handle.native_bytes()).unwrap_or(i64::MAX)
}

/// What a handle's series holds natively, roughly.
trait SeriesBytes {
    fn native_bytes(&self) -> usize;
}

/// A series' cell, labels and the wrapper around its handle, by measurement (RSS per
/// series held only by handles).
const SERIES_OVERHEAD: usize = 512;

impl SeriesBytes for Counter {
    fn native_bytes(&self) -> usize {
        SERIES_OVERHEAD
    }
}

impl SeriesBytes for Gauge {
    fn native_bytes(&self) -> usize {
        SERIES_OVERHEAD
    }
}

impl SeriesBytes for Histogram {
    fn native_bytes(&self) -> usize {
        SERIES_OVERHEAD + self.heap_bytes()
    }
}

/// The shared series a detached handle points at (see `detach`): one per kind and process,
/// so detaching allocates nothing.
trait Detached: Sized {
    fn detached() -> Option<Self>;
}

impl Detached for Counter {
    fn detached() -> Option<Self> {
        static DETACHED: OnceLock<Counter> = OnceLock::new();
        Some(DETACHED.get_or_init(Counter::new).clone())
    }
}

impl Detached for Gauge {
    fn detached() -> Option<Self> {
        static DETACHED: OnceLock<Gauge> = OnceLock::new();
        Some(DETACHED.get_or_init(Gauge::new).clone())
    }
}

impl Detached for Histogram {
    fn detached() -> Option<Self> {
        static DETACHED: OnceLock<Option<Histogram>> = OnceLock::new();
        DETACHED
            .get_or_init(|| Histogram::new("detached", &HistogramOpts::new()).ok())
            .clone()
    }
}

/// A family of counters: monotonic unsigned integers.
#[napi]
pub struct CounterFamily {
    pub(crate) family: Family<Counter>,
}

/// One counter series, a handle to keep.
#[napi(custom_finalize)]
pub struct CounterSeries {
    name: String,
    pub(crate) handle: Counter,
    /// The native bytes reported to V8 for this handle (see [`series_bytes`]).
    reported: i64,
}

family_methods!(CounterFamily, CounterSeries);
series_methods!(CounterSeries, Counter);

#[napi]
impl CounterSeries {
    /// Adds `value` (default 1): any finite number >= 0, fractions and values past 2^53
    /// included, as prom-client takes. Anything else is a `RangeError`
    /// `ERR_METRICORE_INVALID_VALUE`, and nothing is added.
    #[napi(catch_unwind)]
    pub fn inc(&self, env: Env, value: Option<f64>) -> napi::Result<()> {
        match value {
            None => {
                self.handle.inc();
                Ok(())
            }
            Some(v) => self.handle.add(v).or_throw(env),
        }
    }

    /// Adds `value` as `inc` does and keeps an exemplar labelled `names[i] = values[i]`
    /// (stamped `timestamp`, Unix seconds, when given), written after the total in
    /// OpenMetrics text. Exemplar labels past OpenMetrics' 128
    /// characters are a `TypeError` `ERR_METRICORE_INVALID_EXEMPLAR` (the increment is
    /// applied).
    #[napi(catch_unwind)]
    pub fn inc_with_exemplar(
        &self,
        env: Env,
        value: f64,
        names: Vec<String>,
        values: Vec<String>,
        timestamp: Option<f64>,
    ) -> napi::Result<()> {
        let labels = pairs(env, &self.name, &names, &values)?;
        self.handle
            .add_with_exemplar_at(value, &labels, timestamp)
            .or_throw(env)
    }

    /// The current total, whole and fractional increments together.
    #[napi(catch_unwind)]
    pub fn get(&self) -> f64 {
        self.handle.value()
    }

    /// The family's name (for messages).
    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Sets the total back to 0.
    #[napi(catch_unwind)]
    pub fn reset(&self) {
        self.handle.reset();
    }
}

/// A family of gauges: doubles that go up and down.
#[napi]
pub struct GaugeFamily {
    pub(crate) family: Family<Gauge>,
}

/// One gauge series, a handle to keep.
#[napi(custom_finalize)]
pub struct GaugeSeries {
    name: String,
    pub(crate) handle: Gauge,
    /// The native bytes reported to V8 for this handle (see [`series_bytes`]).
    reported: i64,
}

family_methods!(GaugeFamily, GaugeSeries);
series_methods!(GaugeSeries, Gauge);

#[napi]
impl GaugeSeries {
    /// Sets the value (NaN and the infinities are allowed).
    #[napi(catch_unwind)]
    pub fn set(&self, value: f64) {
        self.handle.set(value);
    }

    /// Adds `value` (default 1; negative subtracts).
    #[napi(catch_unwind)]
    pub fn inc(&self, value: Option<f64>) {
        self.handle.add(value.unwrap_or(1.0));
    }

    /// Subtracts `value` (default 1).
    #[napi(catch_unwind)]
    pub fn dec(&self, value: Option<f64>) {
        self.handle.sub(value.unwrap_or(1.0));
    }

    /// Sets the value to the current Unix time in seconds.
    #[napi(catch_unwind)]
    pub fn set_to_current_time(&self) {
        self.handle.set_to_current_time();
    }

    /// The current value.
    #[napi(catch_unwind)]
    pub fn get(&self) -> f64 {
        self.handle.get()
    }

    /// The family's name (for messages).
    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> String {
        self.name.clone()
    }
}

/// A family of HDR histograms with exact Prometheus buckets.
#[napi]
pub struct HistogramFamily {
    pub(crate) family: Family<Histogram>,
}

/// A family of summaries: HDR histograms exposed as quantiles over a sliding window (all
/// time without one), with all-time `_sum` and `_count`. Its series are histogram series.
#[napi]
pub struct SummaryFamily {
    pub(crate) family: Family<Summary>,
}

family_methods!(SummaryFamily, HistogramSeries);

/// One histogram series, a handle to keep.
#[napi(custom_finalize)]
pub struct HistogramSeries {
    name: String,
    pub(crate) handle: Histogram,
    /// The native bytes reported to V8 for this handle (see [`series_bytes`]).
    reported: i64,
}

family_methods!(HistogramFamily, HistogramSeries);
series_methods!(HistogramSeries, Histogram);

#[napi]
impl HistogramSeries {
    /// Records `value` in base units (seconds for time), as prom-client's `observe`.
    /// NaN, negative and infinite values are a `RangeError` `ERR_METRICORE_INVALID_VALUE`.
    #[napi(catch_unwind)]
    pub fn observe(&self, env: Env, value: f64) -> napi::Result<()> {
        self.handle.observe(value).or_throw(env)
    }

    /// Records `value` as `observe` does and keeps an exemplar labelled `names[i] =
    /// values[i]` (stamped `timestamp`, Unix seconds, when given) on its bucket, written
    /// after the bucket in OpenMetrics text; bad exemplar
    /// labels are a `TypeError` `ERR_METRICORE_INVALID_EXEMPLAR` (the value is recorded).
    #[napi(catch_unwind)]
    pub fn observe_with_exemplar(
        &self,
        env: Env,
        value: f64,
        names: Vec<String>,
        values: Vec<String>,
        timestamp: Option<f64>,
    ) -> napi::Result<()> {
        let labels = pairs(env, &self.name, &names, &values)?;
        self.handle
            .observe_with_exemplar_at(value, &labels, timestamp)
            .or_throw(env)
    }

    /// Records a duration in milliseconds (the TypeScript-era unit).
    #[napi(catch_unwind)]
    pub fn record_ms(&self, env: Env, ms: f64) -> napi::Result<()> {
        self.handle.record_ms(ms).or_throw(env)
    }

    /// Records the whole number `value` (in the histogram's resolution) `count` times
    /// (default once).
    #[napi(catch_unwind)]
    pub fn record(&self, env: Env, value: f64, count: Option<f64>) -> napi::Result<()> {
        let count = count.unwrap_or(1.0);
        match (whole(value), whole(count)) {
            (Some(v), Some(n)) => {
                self.handle.record_n(v, n);
                Ok(())
            }
            _ => Err(throw(
                env,
                ErrorKind::InvalidValue,
                Some(&self.name),
                &format!(
                    "record takes whole numbers >= 0 (at most 2^53), not value {value} count {count}"
                ),
            )),
        }
    }

    /// The value at quantile `q` (0..=1) in base units (seconds for time), clamped to the
    /// exact smallest and largest recorded values; 0 when empty. NaN or a `q` outside 0..=1
    /// is a `RangeError` `ERR_METRICORE_INVALID_VALUE`.
    #[napi(catch_unwind)]
    pub fn quantile(&self, env: Env, q: f64) -> napi::Result<f64> {
        Ok(self
            .handle
            .snapshot()
            .quantile(check_quantile(Some(&self.name), q).or_throw(env)?))
    }

    /// The value at quantile `q` in recorded integers, exactly as HdrHistogram computes it;
    /// `q` as for `quantile`.
    #[napi(catch_unwind)]
    pub fn value_at_quantile(&self, env: Env, q: f64) -> napi::Result<f64> {
        let q = check_quantile(Some(&self.name), q).or_throw(env)?;
        Ok(self.handle.value_at_quantile(q) as f64)
    }

    /// Count, mean, min, max, standard deviation and p50..p99.9, in milliseconds.
    #[napi(catch_unwind, ts_return_type = "LatencyStats")]
    pub fn latency_stats(&self) -> JsLatencyStats {
        JsLatencyStats::from(&self.handle.snapshot().latency_stats())
    }

    /// Number of recorded values.
    #[napi(catch_unwind)]
    pub fn count(&self) -> f64 {
        self.handle.count() as f64
    }

    /// Empties the series: counts, sum, buckets and window.
    #[napi(catch_unwind)]
    pub fn reset(&self) {
        self.handle.reset();
    }

    /// A copy of the sliding window (the last `windowSeconds`), or `null` for a histogram
    /// without one.
    #[napi(catch_unwind)]
    pub fn window_snapshot(&self) -> Option<JsHistogramSnapshot> {
        self.handle.window_snapshot().map(JsHistogramSnapshot::new)
    }

    /// A copy of this series' state (counts, sum, min, max, buckets).
    #[napi(catch_unwind)]
    pub fn snapshot(&self) -> JsHistogramSnapshot {
        JsHistogramSnapshot::new(self.handle.snapshot())
    }

    /// A copy of this series' state, taken on metricore's worker thread (a histogram with a
    /// wide range and many distinct values has a large snapshot).
    #[napi(catch_unwind, ts_return_type = "Promise<HistogramSnapshot>")]
    pub fn snapshot_async<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let histogram = self.handle.clone();
        tasks::spawn(
            env,
            move || Ok(histogram.snapshot()),
            JsHistogramSnapshot::new,
        )
    }

    /// Adds the counts of `other` into this series on metricore's worker thread; rejects as
    /// `merge` throws.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn merge_async<'env>(
        &self,
        env: &'env Env,
        other: &JsHistogramSnapshot,
    ) -> napi::Result<Object<'env>> {
        let (into, from) = (self.handle.clone(), other.inner.clone());
        tasks::spawn(env, move || into.merge_from(&from), |()| ())
    }

    /// Adds the counts of `other` into this series. Histograms of different resolutions
    /// do not merge (`ERR_METRICORE_CORRUPT_BLOB`).
    #[napi(catch_unwind)]
    pub fn merge(&self, env: Env, other: &JsHistogramSnapshot) -> napi::Result<()> {
        self.handle.merge_from(&other.inner).or_throw(env)
    }
}
