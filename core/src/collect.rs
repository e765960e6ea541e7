//! What a scrape is made of: families of series with their values at collection time.
//!
//! A registry gathers its families into [`FamilySnapshot`]s; the encoders in
//! [`expose`](crate::expose) and the summaries in [`stats`](crate::stats) read nothing else.

use crate::exemplar::Exemplar;
use crate::histogram::HistogramSnapshot;
use crate::labels::LabelValues;

/// The kind of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Monotonic counter.
    Counter,
    /// Gauge.
    Gauge,
    /// Histogram.
    Histogram,
    /// Summary (quantiles, `_sum` and `_count`).
    Summary,
}

impl MetricKind {
    /// The Prometheus `# TYPE` word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::Summary => "summary",
        }
    }
}

/// One series' value at collection time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum SeriesValue {
    /// A counter's total and latest exemplar.
    Counter {
        /// The total.
        value: u64,
        /// The latest exemplar, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        exemplar: Option<Exemplar>,
    },
    /// A counter read from outside the registry (the kernel's CPU seconds, a disk's bytes),
    /// which may be fractional.
    SampledCounter {
        /// The total.
        value: f64,
    },
    /// A gauge's value.
    Gauge {
        /// The value.
        value: f64,
    },
    /// A summary's all-time count and sum, and its quantiles (in base units) over its
    /// window, or all time without one.
    Summary {
        /// Everything recorded (its count and sum are exposed).
        snapshot: HistogramSnapshot,
        /// `(quantile, value)` pairs, quantiles ascending; values NaN when empty.
        quantiles: Vec<(f64, f64)>,
    },
    /// A histogram's snapshot.
    Histogram(HistogramSnapshot),
}

/// One series at collection time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeriesSnapshot {
    /// Label values, in the family's label-name order.
    pub labels: LabelValues,
    /// When the series was created, in Unix seconds (OpenMetrics `_created`).
    pub created: f64,
    /// The value.
    pub value: SeriesValue,
}

/// One family at collection time, series ordered by label values.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FamilySnapshot {
    /// Full name (counters without `_total`).
    pub name: String,
    /// Help text.
    pub help: String,
    /// Unit, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Kind.
    pub kind: MetricKind,
    /// Label names.
    pub label_names: Vec<String>,
    /// The series.
    pub series: Vec<SeriesSnapshot>,
}
