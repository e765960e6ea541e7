//! Summaries for people and dashboards: latency in milliseconds and a whole
//! registry at a glance. (Throughput per second is the meter's:
//! [`ThroughputStats`](crate::meter::ThroughputStats).)
//!
//! The metrics themselves keep raw material (HDR counts, running sums,
//! windowed tallies). This module turns that material into the small, flat
//! records the TypeScript-era code returned and dashboards expect:
//!
//! - [`LatencyStats`]: count, mean, min, max, standard deviation and the
//!   p50/p90/p95/p99/p99.9 quantiles of a time histogram, in **milliseconds**
//!   (the legacy unit), built from a [`HistogramSnapshot`] with
//!   [`HistogramSnapshot::latency_stats`].
//! - [`RegistrySummary`]: every counter, gauge and histogram series of a
//!   [`Registry`], keyed by a Prometheus-style series id such as
//!   `http_requests{method="GET"}`, produced by [`Registry::summary`].
//!
//! All of these derive `serde::Serialize` (and `Deserialize`, so golden
//! fixtures can be read back), and every map is a `BTreeMap`, so the JSON of a
//! summary is byte-for-byte deterministic for the same state.
//!
//! # How the numbers are derived
//!
//! A histogram records integers in its [`Resolution`] (microseconds by
//! default). Converting to milliseconds divides by
//! `resolution.per_base_unit() / 1000`. `count`, `min`, `max` and `mean` are
//! exact: min and max are tracked atomically beside the counts and the mean
//! comes from the exact running sum. The quantiles come from the HDR counts
//! ([`HistogramSnapshot::value_at_quantile`], relative error at most
//! `10^-significant_figures`), clamped into `[min, max]`: a quantile's HDR
//! bucket may reach past the largest value actually recorded, and a p99.9
//! above the maximum would only be an artefact of the bucketing. The standard
//! deviation takes each value at the middle of its HDR bucket, as
//! the `HdrHistogram` libraries do. An empty histogram gives all zeros.
//!
//! ```
//! use metricore::{Histogram, HistogramOpts};
//!
//! let latency = Histogram::new("request_latency_seconds", &HistogramOpts::new())?;
//! for ms in [12.0, 15.0, 20.0, 250.0] {
//!     latency.record_ms(ms)?;
//! }
//! let stats = latency.snapshot().latency_stats();
//! assert_eq!(stats.count, 4);
//! assert_eq!(stats.min_ms, 12.0);
//! assert_eq!(stats.max_ms, 250.0);
//! assert!((stats.mean_ms - 74.25).abs() < 1e-9);
//! assert!(stats.p999_ms <= stats.max_ms);
//! # Ok::<(), metricore::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::clock;
use crate::histogram::{HistogramSnapshot, Resolution};
use crate::labels::LabelValues;
use crate::registry::{FamilySnapshot, Registry, SeriesValue};

/// The quantiles every summary reports, with their field-name suffixes.
const QUANTILES: [f64; 5] = [0.5, 0.9, 0.95, 0.99, 0.999];

/// Latency of one histogram in milliseconds, the TypeScript-era unit.
///
/// `count`, `min_ms`, `max_ms` and `mean_ms` are exact; the quantiles carry the
/// histogram's relative error (0.1 % at the default 3 significant figures) and
/// never exceed `max_ms`; `stddev_ms` is the population standard deviation
/// with each value taken at the middle of its HDR bucket. All fields are 0 for
/// an empty histogram. See the [module documentation](self) for details.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatencyStats {
    /// Number of recorded durations.
    pub count: u64,
    /// Arithmetic mean, from the exact running sum.
    pub mean_ms: f64,
    /// Smallest recorded duration.
    pub min_ms: f64,
    /// Largest recorded duration (before saturation, if any value was above the range).
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

impl From<&HistogramSnapshot> for LatencyStats {
    /// Converts the snapshot's recorded integers to milliseconds by its
    /// [`Resolution`]. A [`Resolution::Unit`] histogram is read as seconds.
    fn from(s: &HistogramSnapshot) -> Self {
        if s.count() == 0 {
            return Self::default();
        }
        // Recorded integers per millisecond: 1000 for microseconds, 1e-3 for whole seconds.
        let per_ms = s.resolution().per_base_unit() / 1e3;
        let ms = |native: f64| native / per_ms;
        let [p50, p90, p95, p99, p999] = clamped_quantiles(s);
        Self {
            count: s.count(),
            mean_ms: ms(s.mean()),
            min_ms: ms(s.min_native()),
            max_ms: ms(s.max_native()),
            stddev_ms: ms(s.stddev()),
            p50_ms: ms(p50),
            p90_ms: ms(p90),
            p95_ms: ms(p95),
            p99_ms: ms(p99),
            p999_ms: ms(p999),
        }
    }
}

impl HistogramSnapshot {
    /// This snapshot's [`LatencyStats`] (milliseconds). For a histogram with a
    /// sliding window, call it on
    /// [`Histogram::window_snapshot`](crate::Histogram::window_snapshot) for "the last minute".
    pub fn latency_stats(&self) -> LatencyStats {
        LatencyStats::from(self)
    }
}

/// Checks a quantile a caller asks for: the one rule every binding applies before reading
/// [`HistogramSnapshot::quantile`] (which clamps silently, for callers that computed `q`).
///
/// # Errors
/// [`ErrorKind::InvalidValue`](crate::ErrorKind::InvalidValue) naming `metric` (when given) for
/// NaN or a quantile outside `0..=1`.
pub fn check_quantile(metric: Option<&str>, q: f64) -> crate::Result<f64> {
    if (0.0..=1.0).contains(&q) {
        Ok(q)
    } else {
        Err(crate::Error::new(
            crate::ErrorKind::InvalidValue,
            metric,
            format!("a quantile must be within 0..=1, not {q:?}"),
        ))
    }
}

/// [`QUANTILES`] in recorded integers (as floats), each clamped into `[min, max]`.
fn clamped_quantiles(s: &HistogramSnapshot) -> [f64; 5] {
    QUANTILES.map(|q| s.quantile_native(q))
}

/// One histogram series in a [`RegistrySummary`], in **base units** (seconds
/// for time, as Prometheus exposes them), plus milliseconds for time
/// histograms.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HistogramSummary {
    /// Number of recorded values.
    pub count: u64,
    /// Exact sum.
    pub sum: f64,
    /// Smallest recorded value.
    pub min: f64,
    /// Largest recorded value.
    pub max: f64,
    /// Exact mean.
    pub mean: f64,
    /// Population standard deviation (values at their HDR bucket middles).
    pub stddev: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Values above the histogram's range, counted at its highest value.
    pub saturated: u64,
    /// The same figures in milliseconds, for histograms that record time
    /// (any resolution but [`Resolution::Unit`]); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyStats>,
}

impl From<&HistogramSnapshot> for HistogramSummary {
    fn from(s: &HistogramSnapshot) -> Self {
        let per = s.resolution().per_base_unit();
        let base = |native: f64| native / per;
        let [p50, p90, p95, p99, p999] = clamped_quantiles(s);
        Self {
            count: s.count(),
            sum: s.sum(),
            min: base(s.min_native()),
            max: base(s.max_native()),
            mean: base(s.mean()),
            stddev: base(s.stddev()),
            p50: base(p50),
            p90: base(p90),
            p95: base(p95),
            p99: base(p99),
            p999: base(p999),
            saturated: s.saturated(),
            latency: (s.resolution() != Resolution::Unit).then(|| s.latency_stats()),
        }
    }
}

/// Everything a [`Registry`] holds, flattened for a dashboard or a JSON
/// endpoint: one entry per series, keyed by its series id.
///
/// A series id is the family name followed by its labels in Prometheus text
/// form, `name{label="value",…}` (just `name` without labels), with `\`, `"`
/// and newlines in values escaped as in the exposition format. Counter ids use
/// the family name without the `_total` suffix the exposition adds.
/// metricore's own `metricore_cardinality_overflow` and
/// `metricore_saturated_values` counters appear among the counters when
/// they are non-zero, as they do in [`Registry::gather`].
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegistrySummary {
    /// Counter totals by series id (whole totals serialize as integers).
    #[serde(serialize_with = "crate::counter::serialize_totals")]
    pub counters: BTreeMap<String, f64>,
    /// Gauge values by series id.
    pub gauges: BTreeMap<String, f64>,
    /// Totals of counters read from outside the registry (the resource sampler's) by series id.
    pub sampled_counters: BTreeMap<String, f64>,
    /// Histogram summaries by series id.
    pub histograms: BTreeMap<String, HistogramSummary>,
    /// When the summary was collected, in Unix seconds.
    pub collected_at: f64,
}

impl RegistrySummary {
    /// Summarises already gathered families (what [`Registry::summary`] does
    /// with [`Registry::gather`]'s output).
    pub fn from_families(families: &[FamilySnapshot], collected_at: f64) -> Self {
        let mut out = Self {
            collected_at,
            ..Self::default()
        };
        for family in families {
            for series in &family.series {
                let id = series_id(&family.name, &family.label_names, &series.labels);
                match &series.value {
                    SeriesValue::Counter { value, .. } => {
                        out.counters.insert(id, *value);
                    }
                    SeriesValue::Gauge { value } => {
                        out.gauges.insert(id, *value);
                    }
                    SeriesValue::SampledCounter { value } => {
                        out.sampled_counters.insert(id, *value);
                    }
                    SeriesValue::Histogram(h) | SeriesValue::Summary { snapshot: h, .. } => {
                        out.histograms.insert(id, HistogramSummary::from(h));
                    }
                }
            }
        }
        out
    }
}

impl Registry {
    /// A [`RegistrySummary`] of every series, collected now (through
    /// [`Registry::gather`], so idle series past their TTL are evicted first).
    pub fn summary(&self) -> RegistrySummary {
        RegistrySummary::from_families(&self.gather(), clock::unix_seconds())
    }
}

/// `name{a="x",b="y"}`, or `name` when there are no labels.
pub(crate) fn series_id(name: &str, label_names: &[String], values: &LabelValues) -> String {
    if label_names.is_empty() {
        return name.to_owned();
    }
    let mut id = String::with_capacity(name.len() + 16 * label_names.len());
    id.push_str(name);
    id.push('{');
    for (i, (label, value)) in label_names.iter().zip(values.iter()).enumerate() {
        if i > 0 {
            id.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(id, "{label}=\"");
        for c in value.chars() {
            match c {
                '\\' => id.push_str("\\\\"),
                '"' => id.push_str("\\\""),
                '\n' => id.push_str("\\n"),
                c => id.push(c),
            }
        }
        id.push('"');
    }
    id.push('}');
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::{Histogram, HistogramOpts};
    use crate::registry::MetricOpts;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-12)
    }

    fn hist(opts: &HistogramOpts) -> Histogram {
        Histogram::new("latency_seconds", opts).unwrap()
    }

    #[test]
    fn quantiles_outside_zero_to_one_are_errors_naming_the_metric() {
        assert_eq!(check_quantile(Some("lat"), 0.0), Ok(0.0));
        assert_eq!(check_quantile(None, 1.0), Ok(1.0));
        for q in [
            f64::NAN,
            -0.1,
            1.1,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0 - 1e-300,
        ] {
            let e = check_quantile(Some("lat"), q).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidValue, "{q}");
            assert_eq!(e.metric(), Some("lat"), "{q}");
            assert!(e.to_string().starts_with("metric 'lat': a quantile"), "{e}");
        }
    }

    #[test]
    fn empty_histogram_gives_all_zero_latency_stats() {
        let s = hist(&HistogramOpts::new()).snapshot().latency_stats();
        assert_eq!(s, LatencyStats::default());
        assert_eq!(s.count, 0);
    }

    #[test]
    fn latency_stats_are_milliseconds_with_exact_min_max_mean() {
        let h = hist(&HistogramOpts::latency()); // microseconds
        for us in [1_000, 2_000, 3_000, 4_000, 123_457] {
            h.record(us);
        }
        let s = h.snapshot().latency_stats();
        assert_eq!(s.count, 5);
        assert!(close(s.min_ms, 1.0, 1e-12), "{s:?}");
        assert!(close(s.max_ms, 123.457, 1e-12), "{s:?}");
        assert!(close(s.mean_ms, 133.457 / 5.0, 1e-12), "{s:?}");
        assert!(close(s.p50_ms, 3.0, 1e-3), "{s:?}");
        assert!(close(s.p90_ms, 123.457, 1e-3), "{s:?}");
        // HDR would give the top of 123_457's bucket (123_519 µs); we clamp to the real maximum.
        assert_eq!(h.snapshot().value_at_quantile(0.999), 123_519);
        assert!(close(s.p999_ms, 123.457, 1e-12), "{s:?}");
        assert!(
            s.p50_ms <= s.p90_ms
                && s.p90_ms <= s.p95_ms
                && s.p95_ms <= s.p99_ms
                && s.p99_ms <= s.p999_ms
        );
        assert!(s.stddev_ms > 40.0 && s.stddev_ms < 50.0, "{s:?}");
    }

    #[test]
    fn latency_stats_follow_the_resolution() {
        for resolution in [
            Resolution::Nanosecond,
            Resolution::Microsecond,
            Resolution::Millisecond,
        ] {
            // The range is in recorded integers: a second is 1e9 of them at nanosecond resolution.
            let h = hist(
                &HistogramOpts::new()
                    .resolution(resolution)
                    .range(1, 1_000_000_000_000),
            );
            h.record_ms(250.0).unwrap();
            h.record_ms(750.0).unwrap();
            let s = h.snapshot().latency_stats();
            assert!(close(s.min_ms, 250.0, 1e-12), "{resolution:?} {s:?}");
            assert!(close(s.max_ms, 750.0, 1e-12), "{resolution:?} {s:?}");
            assert!(close(s.mean_ms, 500.0, 1e-12), "{resolution:?} {s:?}");
            assert!(close(s.p50_ms, 250.0, 1e-3), "{resolution:?} {s:?}");
        }
    }

    /// Indexing sorted samples at `floor(count * p)`, which for p = 0.5 of
    /// [10, 20, 30, 40] picks 30 and overruns for p = 1; HDR's rank `ceil(p * count)` picks 20.
    #[test]
    fn quantiles_use_hdr_ranks_not_a_floor_index() {
        let h = hist(&HistogramOpts::latency().resolution(Resolution::Millisecond));
        for ms in [10, 20, 30, 40] {
            h.record(ms);
        }
        let s = h.snapshot().latency_stats();
        assert!(close(s.p50_ms, 20.0, 1e-12), "{s:?}");
        assert!(close(s.p999_ms, 40.0, 1e-12), "{s:?}");
    }

    #[test]
    fn latency_stats_serialize_with_ms_field_names() {
        let h = hist(&HistogramOpts::new());
        h.record(5_000);
        let json = serde_json::to_value(h.snapshot().latency_stats()).unwrap();
        for key in [
            "count",
            "mean_ms",
            "min_ms",
            "max_ms",
            "stddev_ms",
            "p50_ms",
            "p90_ms",
            "p95_ms",
            "p99_ms",
            "p999_ms",
        ] {
            assert!(json.get(key).is_some(), "missing {key} in {json}");
        }
        assert_eq!(json["count"], 1);
        assert_eq!(json["p99_ms"], 5.0);
        let back: LatencyStats = serde_json::from_value(json).unwrap();
        assert_eq!(back, h.snapshot().latency_stats());
    }

    #[test]
    fn histogram_summary_is_in_base_units_with_ms_for_time_only() {
        let t = hist(&HistogramOpts::new());
        t.record_ms(2.0).unwrap();
        t.record_ms(4.0).unwrap();
        let s = HistogramSummary::from(&t.snapshot());
        assert_eq!(s.count, 2);
        assert!(
            close(s.sum, 0.006, 1e-12) && close(s.min, 0.002, 1e-12) && close(s.max, 0.004, 1e-12)
        );
        assert!(
            close(s.mean, 0.003, 1e-12)
                && close(s.p50, 0.002, 1e-12)
                && close(s.p999, 0.004, 1e-12)
        );
        assert!(close(s.latency.as_ref().unwrap().max_ms, 4.0, 1e-12));

        let sizes = Histogram::new(
            "payload_bytes",
            &HistogramOpts::new().resolution(Resolution::Unit),
        )
        .unwrap();
        sizes.record(512);
        let s = HistogramSummary::from(&sizes.snapshot());
        assert!(close(s.max, 512.0, 1e-12));
        assert!(s.latency.is_none());
        assert!(serde_json::to_value(&s).unwrap().get("latency").is_none());
    }

    #[test]
    fn series_ids_escape_label_values() {
        let names = vec!["method".to_owned(), "path".to_owned()];
        let id = series_id(
            "http_requests",
            &names,
            &LabelValues::new(&["GET", "a\"b\\c\nd"]),
        );
        assert_eq!(id, r#"http_requests{method="GET",path="a\"b\\c\nd"}"#);
        assert_eq!(series_id("up", &[], &LabelValues::empty()), "up");
    }

    #[test]
    fn registry_summary_covers_every_series_in_order() {
        let registry = Registry::new();
        let requests = registry
            .counter_family(MetricOpts::new("http_requests", "Requests.").labels(["method"]))
            .unwrap();
        requests.with_label_values(&["POST"]).unwrap().inc_by(2);
        requests.with_label_values(&["GET"]).unwrap().inc_by(5);
        registry
            .gauge(MetricOpts::new("queue_depth", "Queue depth."))
            .unwrap()
            .set(3.5);
        let latency = registry
            .histogram(
                MetricOpts::new("http_latency_seconds", "Latency."),
                HistogramOpts::new(),
            )
            .unwrap();
        latency.record_ms(10.0).unwrap();
        latency.record_ms(30.0).unwrap();

        let before = clock::unix_seconds();
        let summary = registry.summary();
        assert!(summary.collected_at >= before - 1.0);
        let counters: Vec<_> = summary
            .counters
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            counters,
            [
                (r#"http_requests{method="GET"}"#, 5.0),
                (r#"http_requests{method="POST"}"#, 2.0)
            ]
        );
        assert_eq!(summary.gauges.get("queue_depth"), Some(&3.5));
        let h = &summary.histograms["http_latency_seconds"];
        assert_eq!(h.count, 2);
        assert!(close(h.sum, 0.04, 1e-12));
        let ms = h.latency.clone().unwrap();
        assert!(
            close(ms.min_ms, 10.0, 1e-12)
                && close(ms.max_ms, 30.0, 1e-12)
                && close(ms.mean_ms, 20.0, 1e-12)
        );

        // Deterministic: the same state gives the same JSON (up to the collection time).
        let a = RegistrySummary {
            collected_at: 0.0,
            ..summary
        };
        let b = RegistrySummary {
            collected_at: 0.0,
            ..registry.summary()
        };
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["counters"][r#"http_requests{method="GET"}"#], 5);
        assert_eq!(
            json["histograms"]["http_latency_seconds"]["latency"]["p50_ms"],
            ms.p50_ms
        );
    }

    #[test]
    fn empty_registry_summary_is_empty() {
        let s = Registry::new().summary();
        assert!(s.counters.is_empty() && s.gauges.is_empty() && s.histograms.is_empty());
        assert!(s.collected_at > 1.0e9);
    }
}
