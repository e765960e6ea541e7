//! What a scrape is made of, and the one way to add to it.
//!
//! A scrape is a list of [`FamilySnapshot`]s: families of series with their values at
//! collection time. The encoders in [`expose`](crate::expose) and the summaries in
//! [`stats`](crate::stats) read nothing else.
//!
//! A registry makes snapshots of its own families, and adds those of every [`Collector`]
//! registered with it ([`Registry::register_collector`](crate::Registry::register_collector)): the resource
//! [`Sampler`](crate::Sampler), or a user's own code that reads figures kept elsewhere (a
//! queue's depth, a cache's statistics, another library's counters) at scrape time.
//!
//! ## What a scrape does with a collector
//!
//! - **Registration** asks [`Collector::describe`] for the families the collector will yield
//!   (by default it collects once and keeps the names, as prometheus_client's default
//!   registry does) and claims their names. A name a registered family, the registry's own
//!   `metricore_*` counters or another collector already uses is refused with
//!   [`ErrorKind::Conflict`](crate::ErrorKind::Conflict), and so is a second collector with
//!   the same name; registering a family whose name a collector claimed is refused the same
//!   way.
//! - **Gathering** calls each collector in registration order, holding no lock of the
//!   registry: a slow collector makes the scrape that called it slow, nothing else. Recording,
//!   registration and other scrapes carry on meanwhile, and a collector may itself use the
//!   registry.
//! - **A failure loses nothing else.** A collector that returns an error (or panics) adds no
//!   family to that scrape; every other family is gathered as usual. The failure is reported
//!   twice: in [`Gathered::errors`], from which a binding raises as its peer does (Python's
//!   `generate_latest` raises the collector's exception), and in the scrape itself as
//!   `metricore_collector_errors_total{collector="…"}`, which counts failed collections per
//!   collector.
//! - **A family that would break the exposition is dropped**, reported the same way: an
//!   invalid metric or label name, a series whose label count differs from the family's, two
//!   series with the same label values, values of another kind than the family, or a name
//!   that another family in the scrape already uses. Peers write such
//!   families out and leave the scraper to reject the whole exposition; here the rest of the
//!   scrape stays valid.

use std::any::Any;

use crate::error::Error;
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
        /// The total, whole and fractional increments together.
        #[serde(serialize_with = "crate::counter::serialize_total")]
        value: f64,
        /// The total as an exact integer, while only whole increments were made and it is
        /// below 2^64 (`value` rounds past 2^53); metricore's own exposition writes this.
        #[serde(skip)]
        whole: Option<u64>,
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
    /// Whether a counter was registered under a name ending in `_total` (`name` never has
    /// it): prom-client's 0.0.4 text writes a counter under the name it was given. True for
    /// collected counters and for every other kind.
    #[serde(skip)]
    pub named_total: bool,
}

/// What [`Collector::collect`] returns: the families, or why there are none this time.
pub type CollectResult =
    std::result::Result<Vec<FamilySnapshot>, Box<dyn std::error::Error + Send + Sync>>;

/// Adds families to every scrape of the registries it is registered with.
///
/// Any `Fn() -> CollectResult` closure is a collector. A type that is one too can be found
/// again with [`Registry::collector_or_register`](crate::Registry::collector_or_register).
pub trait Collector: Any + Send + Sync {
    /// The families this collector yields, now. Called at every scrape, with no lock of the
    /// registry held.
    ///
    /// # Errors
    /// Whatever stops the collector from reading its figures; the scrape goes on without it.
    fn collect(&self) -> CollectResult;

    /// The families this collector will yield (their series may be left empty), so that
    /// registration can refuse a name that is already used. By default it collects once.
    ///
    /// # Errors
    /// As [`Collector::collect`]; registration then fails with
    /// [`ErrorKind::CollectorFailed`](crate::ErrorKind::CollectorFailed).
    fn describe(&self) -> CollectResult {
        self.collect()
    }
}

impl<F> Collector for F
where
    F: Fn() -> CollectResult + Send + Sync + 'static,
{
    fn collect(&self) -> CollectResult {
        self()
    }
}

/// A scrape: every family gathered, and what went wrong on the way.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Gathered {
    /// The families, in the order [`Registry::gather`](crate::Registry::gather) gives them.
    pub families: Vec<FamilySnapshot>,
    /// One [`ErrorKind::CollectorFailed`](crate::ErrorKind::CollectorFailed) error per failed
    /// collector or dropped family, naming the collector; empty when all went well.
    pub errors: Vec<Error>,
}
