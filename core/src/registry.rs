//! Registries and families.
//!
//! A [`Registry`] holds families. A [`Family`] has a name, help text, an
//! optional unit, a kind and label names; each distinct set of label values
//! is one series, created on first use and returned as a handle
//! ([`Counter`], [`Gauge`], [`Histogram`]) that the caller keeps, so the hot
//! path never looks anything up. Lookups go through a sharded concurrent map
//! keyed by the label values, compared without allocating.
//!
//! Registering a name again with the same shape returns the existing family;
//! with another shape it is an [`ErrorKind::Conflict`]. Each family caps its
//! series (10,000 by default): past the cap, new label sets share one overflow
//! series whose label values are all `"__overflow__"`, and the registry's
//! `metricore_cardinality_overflow_total{metric=…}` counter rises. Series
//! idle past an optional TTL (not looked up, and value unchanged) are evicted
//! at collection time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use crossbeam_utils::CachePadded;
use hashbrown::{DefaultHashBuilder, HashTable};

use crate::clock;
use crate::counter::{Counter, CounterCell};
use crate::error::{Error, ErrorKind, Result};
use crate::exemplar::Exemplar;
use crate::gauge::{Gauge, GaugeCell};
use crate::histogram::{
    Histogram, HistogramCell, HistogramOpts, HistogramShape, HistogramSnapshot,
};
use crate::labels::{LabelValues, hash_values, validate_label_name, validate_metric_name};
use crate::sampler::{FAMILY_NAMES, Sampler};
use crate::series::Series;
use crate::summary::{Summary, SummaryOpts};

/// The label value every label of the overflow series carries.
pub const OVERFLOW_LABEL_VALUE: &str = "__overflow__";
/// Default per-family cap on distinct label sets (the TypeScript era's limit).
pub const DEFAULT_CARDINALITY_LIMIT: usize = 10_000;

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

/// Name, help, unit and labels of a family to register.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricOpts {
    name: String,
    help: String,
    namespace: String,
    subsystem: String,
    unit: String,
    label_names: Vec<String>,
    cardinality_limit: usize,
    idle_ttl: Option<Duration>,
}

impl MetricOpts {
    /// A family called `name` described by `help`.
    pub fn new(name: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            help: help.into(),
            namespace: String::new(),
            subsystem: String::new(),
            unit: String::new(),
            label_names: Vec::new(),
            cardinality_limit: DEFAULT_CARDINALITY_LIMIT,
            idle_ttl: None,
        }
    }
    /// Label names, in the order values will be given.
    #[must_use]
    pub fn labels<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.label_names = names.into_iter().map(Into::into).collect();
        self
    }
    /// Prefix joined with `_` (prometheus_client's `namespace`).
    #[must_use]
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = ns.into();
        self
    }
    /// Second prefix joined with `_` (prometheus_client's `subsystem`).
    #[must_use]
    pub fn subsystem(mut self, s: impl Into<String>) -> Self {
        self.subsystem = s.into();
        self
    }
    /// The unit (`seconds`, `bytes`, …); appended to the name as `_unit` unless already there.
    #[must_use]
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }
    /// Per-family cap on distinct label sets (at least 1).
    #[must_use]
    pub fn cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = limit;
        self
    }
    /// Evict series not looked up and unchanged for this long (checked at collection).
    #[must_use]
    pub fn idle_ttl(mut self, ttl: Duration) -> Self {
        self.idle_ttl = Some(ttl);
        self
    }

    /// The validated description of the family these options make.
    fn describe(self, kind: MetricKind) -> Result<Desc> {
        let mut name = [&self.namespace, &self.subsystem, &self.name]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("_");
        validate_metric_name(&name)?;
        if kind == MetricKind::Counter {
            // As prometheus_client: `requests_total` and `requests` name the same counter.
            if name.ends_with("_total") {
                name.truncate(name.len() - "_total".len());
            }
        }
        let unit = (!self.unit.is_empty()).then_some(self.unit);
        if let Some(u) = &unit {
            if !u.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Error::for_metric(
                    ErrorKind::InvalidName,
                    &name,
                    format!("unit '{u}' must match [a-zA-Z0-9_]+"),
                ));
            }
            if !name.ends_with(&format!("_{u}")) {
                name = format!("{name}_{u}");
            }
        }
        let mut seen = std::collections::HashSet::new();
        for l in &self.label_names {
            validate_label_name(&name, l)?;
            if kind == MetricKind::Histogram && l == "le" {
                return Err(Error::for_metric(
                    ErrorKind::InvalidName,
                    &name,
                    "label name 'le' is reserved for histogram buckets",
                ));
            }
            if kind == MetricKind::Summary && l == "quantile" {
                return Err(Error::for_metric(
                    ErrorKind::InvalidName,
                    &name,
                    "label name 'quantile' is reserved for summary quantiles",
                ));
            }
            if !seen.insert(l) {
                return Err(Error::for_metric(
                    ErrorKind::InvalidName,
                    &name,
                    format!("label name '{l}' appears twice"),
                ));
            }
        }
        if self.cardinality_limit == 0 {
            return Err(Error::for_metric(
                ErrorKind::InvalidConfig,
                &name,
                "cardinality limit must be at least 1",
            ));
        }
        Ok(Desc {
            name,
            help: self.help,
            unit,
            kind,
            label_names: self.label_names,
            cardinality_limit: self.cardinality_limit,
            idle_ttl: self.idle_ttl,
        })
    }
}

/// A validated family description.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Desc {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) unit: Option<String>,
    pub(crate) kind: MetricKind,
    pub(crate) label_names: Vec<String>,
    cardinality_limit: usize,
    idle_ttl: Option<Duration>,
}

impl Desc {
    /// Every sample name the family exposes, which no other family may use.
    fn sample_names(&self) -> Vec<String> {
        sample_names(&self.name, self.kind)
    }
}

/// The sample names a family of `kind` called `n` exposes (and so claims).
fn sample_names(n: &str, kind: MetricKind) -> Vec<String> {
    match kind {
        MetricKind::Counter => vec![n.to_owned(), format!("{n}_total"), format!("{n}_created")],
        MetricKind::Gauge => vec![n.to_owned()],
        MetricKind::Histogram => vec![
            n.to_owned(),
            format!("{n}_bucket"),
            format!("{n}_sum"),
            format!("{n}_count"),
            format!("{n}_created"),
        ],
        MetricKind::Summary => vec![
            n.to_owned(),
            format!("{n}_sum"),
            format!("{n}_count"),
            format!("{n}_created"),
        ],
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::Counter {}
    impl Sealed for crate::Gauge {}
    impl Sealed for crate::Histogram {}
    impl Sealed for crate::Summary {}
}

/// The metric handle types a [`Family`] can hold: [`Counter`], [`Gauge`], [`Histogram`].
pub trait Metric: sealed::Sealed + Clone + Send + Sync + 'static {
    #[doc(hidden)]
    type Cell: Send + Sync + 'static;
    #[doc(hidden)]
    type Config: Clone + PartialEq + std::fmt::Debug + Send + Sync + 'static;
    /// What the family's cells share, prepared once from the config.
    #[doc(hidden)]
    type Shared: Send + Sync + 'static;
    #[doc(hidden)]
    const KIND: MetricKind;
    #[doc(hidden)]
    fn prepare(name: &str, config: &Self::Config) -> Result<Self::Shared>;
    #[doc(hidden)]
    fn new_cell(shared: &Self::Shared) -> Self::Cell;
    #[doc(hidden)]
    fn from_series(series: Arc<Series<Self::Cell>>) -> Self;
    #[doc(hidden)]
    fn value(cell: &Self::Cell) -> SeriesValue;
    /// Changes whenever the series' value does (for idle detection).
    #[doc(hidden)]
    fn fingerprint(cell: &Self::Cell) -> u64;
}

impl Metric for Counter {
    type Cell = CounterCell;
    type Config = ();
    /// The family's name, for the cells' errors.
    type Shared = Arc<str>;
    const KIND: MetricKind = MetricKind::Counter;
    fn prepare(name: &str, (): &()) -> Result<Arc<str>> {
        Ok(name.into())
    }
    fn new_cell(name: &Arc<str>) -> CounterCell {
        CounterCell::new(Arc::clone(name))
    }
    fn from_series(series: Arc<Series<CounterCell>>) -> Self {
        Self { series }
    }
    fn value(cell: &CounterCell) -> SeriesValue {
        SeriesValue::Counter {
            value: cell.value(),
            exemplar: cell.exemplar.get(),
        }
    }
    fn fingerprint(cell: &CounterCell) -> u64 {
        cell.value().to_bits()
    }
}

impl Metric for Gauge {
    type Cell = GaugeCell;
    type Config = ();
    type Shared = ();
    const KIND: MetricKind = MetricKind::Gauge;
    fn prepare(_: &str, (): &()) -> Result<()> {
        Ok(())
    }
    fn new_cell((): &()) -> GaugeCell {
        GaugeCell::new()
    }
    fn from_series(series: Arc<Series<GaugeCell>>) -> Self {
        Self { series }
    }
    fn value(cell: &GaugeCell) -> SeriesValue {
        SeriesValue::Gauge { value: cell.get() }
    }
    fn fingerprint(cell: &GaugeCell) -> u64 {
        cell.get().to_bits()
    }
}

impl Metric for Histogram {
    type Cell = HistogramCell;
    type Config = HistogramOpts;
    type Shared = Arc<HistogramShape>;
    const KIND: MetricKind = MetricKind::Histogram;
    fn prepare(name: &str, opts: &HistogramOpts) -> Result<Arc<HistogramShape>> {
        HistogramShape::new(name, opts)
    }
    fn new_cell(shape: &Arc<HistogramShape>) -> HistogramCell {
        HistogramCell::new(shape)
    }
    fn from_series(series: Arc<Series<HistogramCell>>) -> Self {
        Self { series }
    }
    fn value(cell: &HistogramCell) -> SeriesValue {
        SeriesValue::Histogram(cell.snapshot())
    }
    fn fingerprint(cell: &HistogramCell) -> u64 {
        cell.count()
    }
}

impl Metric for Summary {
    type Cell = HistogramCell;
    type Config = SummaryOpts;
    type Shared = Arc<HistogramShape>;
    const KIND: MetricKind = MetricKind::Summary;
    fn prepare(name: &str, opts: &SummaryOpts) -> Result<Arc<HistogramShape>> {
        opts.prepare(name)
    }
    fn new_cell(shape: &Arc<HistogramShape>) -> HistogramCell {
        HistogramCell::new(shape)
    }
    fn from_series(series: Arc<Series<HistogramCell>>) -> Self {
        Self(Histogram { series })
    }
    fn value(cell: &HistogramCell) -> SeriesValue {
        crate::summary::value(cell)
    }
    fn fingerprint(cell: &HistogramCell) -> u64 {
        cell.count()
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

type Shard<C> = CachePadded<RwLock<HashTable<Arc<Series<C>>>>>;

struct FamilyInner<M: Metric> {
    desc: Desc,
    config: M::Config,
    shared: M::Shared,
    /// The only series of a family without labels.
    single: OnceLock<Arc<Series<M::Cell>>>,
    shards: Box<[Shard<M::Cell>]>,
    hasher: DefaultHashBuilder,
    len: AtomicUsize,
    overflow: OnceLock<Arc<Series<M::Cell>>>,
    overflowed: AtomicU64,
    /// Unix seconds at registration: the `_created` of this family's self-metric series.
    created: f64,
    /// Series address -> (value fingerprint, when it last changed), for idle eviction.
    idle: Mutex<HashMap<usize, (u64, u64)>>,
    /// Bumped whenever a labelled series is added or removed, so that collection can reuse
    /// `sorted` while the set of series is unchanged.
    generation: AtomicU64,
    /// The labelled series in label-value order, as of a generation: sorting 10k series
    /// was two thirds of a render's time.
    sorted: Mutex<SortedSeries<M::Cell>>,
}

/// The labelled series of a family in label-value order, as of `generation` (`None`: never
/// built).
struct SortedSeries<C> {
    generation: Option<u64>,
    series: Vec<Arc<Series<C>>>,
}

/// A family of series sharing a name, kind and label names. Cloning is cheap;
/// all clones refer to the same family.
#[must_use = "a family does nothing unless you take series from it"]
pub struct Family<M: Metric> {
    inner: Arc<FamilyInner<M>>,
}

impl<M: Metric> Clone for Family<M> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

fn shard_count() -> usize {
    let cpus = std::thread::available_parallelism().map_or(4, std::num::NonZero::get);
    (cpus * 4).next_power_of_two().clamp(4, 64)
}

impl<M: Metric> FamilyInner<M> {
    /// Marks the labelled series set as changed; called once the change is in its shard.
    fn series_changed(&self) {
        // Release: pairs with the Acquire in `Family::sorted_series`.
        self.generation.fetch_add(1, Ordering::Release);
    }
}

impl<M: Metric> Family<M> {
    fn new(desc: Desc, config: M::Config) -> Result<Self> {
        // Bad options fail here, at registration, not at first use.
        let shared = M::prepare(&desc.name, &config)?;
        let shards = if desc.label_names.is_empty() {
            0
        } else {
            shard_count()
        };
        Ok(Self {
            inner: Arc::new(FamilyInner {
                desc,
                config,
                shared,
                single: OnceLock::new(),
                shards: (0..shards)
                    .map(|_| CachePadded::new(RwLock::new(HashTable::new())))
                    .collect(),
                hasher: DefaultHashBuilder::default(),
                len: AtomicUsize::new(0),
                overflow: OnceLock::new(),
                overflowed: AtomicU64::new(0),
                created: clock::unix_seconds(),
                idle: Mutex::new(HashMap::new()),
                generation: AtomicU64::new(0),
                sorted: Mutex::new(SortedSeries {
                    generation: None,
                    series: Vec::new(),
                }),
            }),
        })
    }

    /// The family's full name.
    pub fn name(&self) -> &str {
        &self.inner.desc.name
    }

    /// The label names.
    pub fn label_names(&self) -> &[String] {
        &self.inner.desc.label_names
    }

    fn new_series(&self, labels: LabelValues) -> Arc<Series<M::Cell>> {
        Series::new(labels, M::new_cell(&self.inner.shared))
    }

    fn wrong_count(&self, got: usize) -> Error {
        let d = &self.inner.desc;
        Error::for_metric(
            ErrorKind::InvalidLabels,
            &d.name,
            format!(
                "expected {} label values ({}), got {got}",
                d.label_names.len(),
                d.label_names.join(", ")
            ),
        )
    }

    /// The series for `values` (in label-name order), created on first use.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidLabels`] if the number of values differs from the label names.
    pub fn with_label_values<S: AsRef<str>>(&self, values: &[S]) -> Result<M> {
        let inner = &*self.inner;
        if values.len() != inner.desc.label_names.len() {
            return Err(self.wrong_count(values.len()));
        }
        if values.is_empty() {
            let s = inner
                .single
                .get_or_init(|| self.new_series(LabelValues::empty()));
            return Ok(M::from_series(Arc::clone(s)));
        }
        let hash = hash_values(&inner.hasher, values.iter().map(AsRef::as_ref));
        // The top bits pick the shard; hashbrown uses the low bits and the top 7 within it.
        let shard = &inner.shards[(hash >> 40) as usize & (inner.shards.len() - 1)];
        {
            let table = shard.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(s) = table.find(hash, |s| s.labels.matches(values)) {
                // Only eviction reads the idle clock: families without a TTL skip the clock read.
                if inner.desc.idle_ttl.is_some() {
                    // Relaxed: an approximate idle clock.
                    s.touched_ms
                        .store(clock::coarse_monotonic_ms(), Ordering::Relaxed);
                }
                return Ok(M::from_series(Arc::clone(s)));
            }
        }
        let mut table = shard.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = table.find(hash, |s| s.labels.matches(values)) {
            return Ok(M::from_series(Arc::clone(s)));
        }
        // Relaxed: the cap is approximate under racing inserts by at most the number of shards.
        if inner.len.load(Ordering::Relaxed) >= inner.desc.cardinality_limit {
            drop(table);
            return Ok(self.overflow_series());
        }
        let series = self.new_series(LabelValues::new(values));
        let hasher = &inner.hasher;
        table.insert_unique(hash, Arc::clone(&series), |s| {
            hash_values(hasher, s.labels.iter())
        });
        inner.len.fetch_add(1, Ordering::Relaxed);
        inner.series_changed();
        Ok(M::from_series(series))
    }

    /// The series for label `(name, value)` pairs in any order (prom-client's `labels({…})`,
    /// prometheus_client's `labels(**kw)`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidLabels`] naming the unknown, missing or repeated label.
    pub fn with_labels(&self, pairs: &[(&str, &str)]) -> Result<M> {
        let d = &self.inner.desc;
        let mut values: Vec<Option<&str>> = vec![None; d.label_names.len()];
        for (k, v) in pairs {
            let Some(i) = d.label_names.iter().position(|n| n == k) else {
                return Err(Error::for_metric(
                    ErrorKind::InvalidLabels,
                    &d.name,
                    format!(
                        "unknown label '{k}' (label names are: {})",
                        d.label_names.join(", ")
                    ),
                ));
            };
            if values[i].replace(v).is_some() {
                return Err(Error::for_metric(
                    ErrorKind::InvalidLabels,
                    &d.name,
                    format!("label '{k}' given twice"),
                ));
            }
        }
        let mut ordered = Vec::with_capacity(values.len());
        for (v, n) in values.iter().zip(&d.label_names) {
            match v {
                Some(v) => ordered.push(*v),
                None => {
                    return Err(Error::for_metric(
                        ErrorKind::InvalidLabels,
                        &d.name,
                        format!("label '{n}' is missing"),
                    ));
                }
            }
        }
        self.with_label_values(&ordered)
    }

    fn overflow_series(&self) -> M {
        let inner = &*self.inner;
        // Relaxed: a plain tally.
        inner.overflowed.fetch_add(1, Ordering::Relaxed);
        let s = inner.overflow.get_or_init(|| {
            let values = vec![OVERFLOW_LABEL_VALUE; inner.desc.label_names.len()];
            self.new_series(LabelValues::new(&values))
        });
        M::from_series(Arc::clone(s))
    }

    /// Removes the series for `values`. Handles already taken keep working but are no
    /// longer collected. Returns whether a series was removed.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidLabels`] if the number of values is wrong.
    pub fn remove<S: AsRef<str>>(&self, values: &[S]) -> Result<bool> {
        let inner = &*self.inner;
        if values.len() != inner.desc.label_names.len() {
            return Err(self.wrong_count(values.len()));
        }
        if values.is_empty() {
            return Ok(false);
        }
        let hash = hash_values(&inner.hasher, values.iter().map(AsRef::as_ref));
        let shard = &inner.shards[(hash >> 40) as usize & (inner.shards.len() - 1)];
        let mut table = shard.write().unwrap_or_else(PoisonError::into_inner);
        match table.find_entry(hash, |s| s.labels.matches(values)) {
            Ok(e) => {
                let (s, _) = e.remove();
                inner.len.fetch_sub(1, Ordering::Relaxed);
                inner.series_changed();
                inner
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&(Arc::as_ptr(&s) as usize));
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    /// Removes every series (prometheus_client's `clear()`).
    pub fn clear(&self) {
        for shard in &*self.inner.shards {
            shard
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
        }
        self.inner.len.store(0, Ordering::Relaxed);
        self.inner.series_changed();
        self.inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Number of series (not counting the overflow series).
    pub fn len(&self) -> usize {
        let single = usize::from(self.inner.single.get().is_some());
        // Relaxed: a count for reporting.
        self.inner.len.load(Ordering::Relaxed) + single
    }

    /// Whether the family has no series yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many lookups were sent to the overflow series.
    pub fn overflowed(&self) -> u64 {
        self.inner.overflowed.load(Ordering::Relaxed)
    }

    /// The labelled series in label-value order, sorted again only when series were added
    /// or removed since the last call. The guard keeps concurrent collections apart; lookups
    /// and updates never take it.
    fn sorted_series(&self) -> MutexGuard<'_, SortedSeries<M::Cell>> {
        let inner = &*self.inner;
        // Acquire: pairs with the Release in `series_changed`, so the shards read below hold
        // every change counted up to this generation. A change racing the rebuild bumps the
        // generation again and the next collection rebuilds.
        let generation = inner.generation.load(Ordering::Acquire);
        let mut sorted = inner.sorted.lock().unwrap_or_else(PoisonError::into_inner);
        if sorted.generation != Some(generation) {
            sorted.series.clear();
            for shard in &*inner.shards {
                let table = shard.read().unwrap_or_else(PoisonError::into_inner);
                sorted.series.extend(table.iter().cloned());
            }
            sorted
                .series
                .sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
            sorted.generation = Some(generation);
        }
        sorted
    }

    /// Evicts series idle for longer than the family's TTL as of `now_ms`; returns how many.
    fn evict_idle_at(&self, now_ms: u64) -> usize {
        let Some(ttl) = self.inner.desc.idle_ttl else {
            return 0;
        };
        let ttl_ms = ttl.as_millis() as u64;
        let mut idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut stale = Vec::new();
        for shard in &*self.inner.shards {
            for s in shard.read().unwrap_or_else(PoisonError::into_inner).iter() {
                let fp = M::fingerprint(&s.metric);
                let entry = idle.entry(Arc::as_ptr(s) as usize).or_insert((fp, now_ms));
                if entry.0 != fp {
                    *entry = (fp, now_ms);
                }
                // Relaxed: an approximate idle clock.
                let last = entry.1.max(s.touched_ms.load(Ordering::Relaxed));
                if now_ms.saturating_sub(last) > ttl_ms {
                    stale.push(s.labels.clone());
                }
            }
        }
        drop(idle);
        let mut evicted = 0;
        for labels in stale {
            let values = labels.to_vec();
            if self.remove(&values).unwrap_or(false) {
                evicted += 1;
            }
        }
        evicted
    }

    fn snapshot(&self) -> FamilySnapshot {
        let d = &self.inner.desc;
        FamilySnapshot {
            name: d.name.clone(),
            help: d.help.clone(),
            unit: d.unit.clone(),
            kind: d.kind,
            label_names: d.label_names.clone(),
            series: self
                .inner
                .single
                .get()
                .into_iter()
                .chain(&self.sorted_series().series)
                .chain(self.inner.overflow.get())
                .map(|s| SeriesSnapshot {
                    labels: s.labels.clone(),
                    created: s.created(),
                    value: M::value(&s.metric),
                })
                .collect(),
        }
    }
}

impl<M: Metric> std::fmt::Debug for Family<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.name())
            .field("series", &self.len())
            .finish()
    }
}

/// A registered family of any kind.
#[derive(Clone)]
enum AnyFamily {
    Counter(Family<Counter>),
    Gauge(Family<Gauge>),
    Histogram(Family<Histogram>),
    Summary(Family<Summary>),
}

macro_rules! each_family {
    ($f:expr, $fam:ident => $body:expr) => {
        match $f {
            AnyFamily::Counter($fam) => $body,
            AnyFamily::Gauge($fam) => $body,
            AnyFamily::Histogram($fam) => $body,
            AnyFamily::Summary($fam) => $body,
        }
    };
}

impl AnyFamily {
    fn desc(&self) -> &Desc {
        each_family!(self, f => &f.inner.desc)
    }
}

/// Something that converts to and from [`AnyFamily`], for typed registration.
trait Registrable: Metric {
    fn wrap(f: Family<Self>) -> AnyFamily;
    fn unwrap(f: &AnyFamily) -> Option<&Family<Self>>;
    fn config_of(f: &Family<Self>) -> &Self::Config {
        &f.inner.config
    }
}

impl Registrable for Counter {
    fn wrap(f: Family<Self>) -> AnyFamily {
        AnyFamily::Counter(f)
    }
    fn unwrap(f: &AnyFamily) -> Option<&Family<Self>> {
        if let AnyFamily::Counter(f) = f {
            Some(f)
        } else {
            None
        }
    }
}
impl Registrable for Gauge {
    fn wrap(f: Family<Self>) -> AnyFamily {
        AnyFamily::Gauge(f)
    }
    fn unwrap(f: &AnyFamily) -> Option<&Family<Self>> {
        if let AnyFamily::Gauge(f) = f {
            Some(f)
        } else {
            None
        }
    }
}
impl Registrable for Histogram {
    fn wrap(f: Family<Self>) -> AnyFamily {
        AnyFamily::Histogram(f)
    }
    fn unwrap(f: &AnyFamily) -> Option<&Family<Self>> {
        if let AnyFamily::Histogram(f) = f {
            Some(f)
        } else {
            None
        }
    }
}
impl Registrable for Summary {
    fn wrap(f: Family<Self>) -> AnyFamily {
        AnyFamily::Summary(f)
    }
    fn unwrap(f: &AnyFamily) -> Option<&Family<Self>> {
        if let AnyFamily::Summary(f) = f {
            Some(f)
        } else {
            None
        }
    }
}

#[derive(Default)]
struct RegistryState {
    families: Vec<AnyFamily>,
    /// Family name -> index in `families`.
    by_name: HashMap<String, usize>,
    /// Every sample name claimed -> the family name that claimed it.
    samples: HashMap<String, String>,
    /// The resource sampler, once asked for; its families are collected with the others.
    sampler: Option<Sampler>,
}

/// A set of families, collected together. Cloning is cheap; clones share the families.
#[derive(Clone, Default)]
pub struct Registry {
    state: Arc<RwLock<RegistryState>>,
}

/// The process-wide registry, for code that has no registry passed to it.
pub fn default_registry() -> &'static Registry {
    static DEFAULT: OnceLock<Registry> = OnceLock::new();
    DEFAULT.get_or_init(Registry::new)
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn register<M: Registrable>(&self, opts: MetricOpts, config: M::Config) -> Result<Family<M>> {
        let desc = opts.describe(M::KIND)?;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&i) = state.by_name.get(&desc.name) {
            let existing = &state.families[i];
            let same = existing.desc() == &desc;
            return match M::unwrap(existing) {
                Some(f) if same && M::config_of(f) == &config => Ok(f.clone()),
                _ => Err(Error::for_metric(
                    ErrorKind::Conflict,
                    &desc.name,
                    conflict_reason(existing.desc(), &desc),
                )),
            };
        }
        let claimed = desc.sample_names();
        if let Some((sample, owner)) = claimed
            .iter()
            .find_map(|s| state.samples.get(s).map(|o| (s, o)))
        {
            return Err(Error::for_metric(
                ErrorKind::Conflict,
                &desc.name,
                format!("exposes the sample name '{sample}', which family '{owner}' already uses"),
            ));
        }
        let family = Family::<M>::new(desc, config)?;
        for s in claimed {
            state.samples.insert(s, family.name().to_owned());
        }
        let i = state.families.len();
        state.by_name.insert(family.name().to_owned(), i);
        state.families.push(M::wrap(family.clone()));
        Ok(family)
    }

    /// Registers (or returns the identical existing) counter family.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidName`] for bad names, [`ErrorKind::Conflict`] if the name is taken by
    /// a family of another shape.
    pub fn counter_family(&self, opts: MetricOpts) -> Result<Family<Counter>> {
        self.register(opts, ())
    }

    /// Registers (or returns) a gauge family.
    ///
    /// # Errors
    /// As [`Self::counter_family`].
    pub fn gauge_family(&self, opts: MetricOpts) -> Result<Family<Gauge>> {
        self.register(opts, ())
    }

    /// Registers (or returns) a histogram family.
    ///
    /// # Errors
    /// As [`Self::counter_family`], plus [`ErrorKind::InvalidConfig`] for bad histogram options.
    pub fn histogram_family(
        &self,
        opts: MetricOpts,
        histogram: HistogramOpts,
    ) -> Result<Family<Histogram>> {
        self.register(opts, histogram)
    }

    /// A counter without labels.
    ///
    /// # Errors
    /// As [`Self::counter_family`], and [`ErrorKind::InvalidLabels`] if `opts` has label names.
    pub fn counter(&self, opts: MetricOpts) -> Result<Counter> {
        self.counter_family(opts)?.with_label_values::<&str>(&[])
    }

    /// A gauge without labels.
    ///
    /// # Errors
    /// As [`Self::counter`].
    pub fn gauge(&self, opts: MetricOpts) -> Result<Gauge> {
        self.gauge_family(opts)?.with_label_values::<&str>(&[])
    }

    /// Registers (or returns) a summary family.
    ///
    /// # Errors
    /// As [`Self::histogram_family`], and [`ErrorKind::InvalidConfig`] for a quantile outside 0..=1.
    pub fn summary_family(
        &self,
        opts: MetricOpts,
        summary: SummaryOpts,
    ) -> Result<Family<Summary>> {
        self.register(opts, summary)
    }

    /// A histogram without labels.
    ///
    /// # Errors
    /// As [`Self::histogram_family`], and [`ErrorKind::InvalidLabels`] if `opts` has label names.
    pub fn histogram(&self, opts: MetricOpts, histogram: HistogramOpts) -> Result<Histogram> {
        self.histogram_family(opts, histogram)?
            .with_label_values::<&str>(&[])
    }

    /// This registry's resource sampler, made (stopped) on the first call; its latest sample
    /// is collected with the registry's families under the `process_*` and `node_*` names,
    /// which it reserves.
    ///
    /// # Errors
    /// [`ErrorKind::Conflict`] if a family already uses one of those names.
    pub fn sampler(&self) -> Result<Sampler> {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = &state.sampler {
            return Ok(s.clone());
        }
        let claimed: Vec<String> = FAMILY_NAMES
            .iter()
            .flat_map(|&(name, kind)| sample_names(name, kind))
            .collect();
        if let Some((sample, owner)) = claimed
            .iter()
            .find_map(|s| state.samples.get(s).map(|o| (s, o)))
        {
            return Err(Error::for_metric(
                ErrorKind::Conflict,
                owner,
                format!(
                    "the resource sampler publishes '{sample}', which this family already uses"
                ),
            ));
        }
        for s in claimed {
            state.samples.insert(s, "resource sampler".to_owned());
        }
        let sampler = Sampler::new();
        state.sampler = Some(sampler.clone());
        Ok(sampler)
    }

    /// Removes a family by name; returns whether it existed.
    pub fn unregister(&self, name: &str) -> bool {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let Some(i) = state.by_name.remove(name) else {
            return false;
        };
        state.families.remove(i);
        state.samples.retain(|_, owner| owner != name);
        for idx in state.by_name.values_mut() {
            if *idx > i {
                *idx -= 1;
            }
        }
        true
    }

    /// Names of the registered families, in registration order.
    pub fn family_names(&self) -> Vec<String> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        state
            .families
            .iter()
            .map(|f| f.desc().name.clone())
            .collect()
    }

    /// Evicts idle series (families with an idle TTL); returns how many were evicted.
    pub fn evict_idle(&self) -> usize {
        self.evict_idle_at(clock::coarse_monotonic_ms())
    }

    fn evict_idle_at(&self, now_ms: u64) -> usize {
        let families = self
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .families
            .clone();
        families
            .iter()
            .map(|f| each_family!(f, fam => fam.evict_idle_at(now_ms)))
            .sum()
    }

    /// Collects every family (evicting idle series first), in registration order, followed by
    /// metricore's own `metricore_cardinality_overflow` and `metricore_saturated_values`
    /// counters when any family overflowed or any histogram saturated.
    pub fn gather(&self) -> Vec<FamilySnapshot> {
        self.evict_idle();
        let (families, sampler) = {
            let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
            (state.families.clone(), state.sampler.clone())
        };
        let mut out: Vec<FamilySnapshot> = families
            .iter()
            .map(|f| each_family!(f, fam => fam.snapshot()))
            .collect();
        // Self-metric rows: (family name, count, family registration time as `_created`).
        let mut overflow = Vec::new();
        let mut saturated = Vec::new();
        for (f, snap) in families.iter().zip(&out) {
            let (overflowed, created) =
                each_family!(f, fam => (fam.overflowed(), fam.inner.created));
            if overflowed > 0 {
                overflow.push((snap.name.clone(), overflowed, created));
            }
            let above: u64 = snap
                .series
                .iter()
                .map(|s| {
                    if let SeriesValue::Histogram(h) = &s.value {
                        h.saturated()
                    } else {
                        0
                    }
                })
                .sum();
            if above > 0 {
                saturated.push((snap.name.clone(), above, created));
            }
        }
        for (name, help, rows) in [
            (
                "metricore_cardinality_overflow",
                "Label sets sent to a family's overflow series because it reached its cardinality limit.",
                overflow,
            ),
            (
                "metricore_saturated_values",
                "Values recorded above a histogram's highest trackable value.",
                saturated,
            ),
        ] {
            if !rows.is_empty() {
                out.push(self_family(name, help, rows));
            }
        }
        if let Some(sampler) = sampler {
            out.extend(sampler.families());
        }
        out
    }
}

fn self_family(name: &str, help: &str, rows: Vec<(String, u64, f64)>) -> FamilySnapshot {
    FamilySnapshot {
        name: name.to_owned(),
        help: help.to_owned(),
        unit: None,
        kind: MetricKind::Counter,
        label_names: vec!["metric".to_owned()],
        series: rows
            .into_iter()
            .map(|(metric, n, created)| SeriesSnapshot {
                labels: LabelValues::new(&[metric]),
                created,
                value: SeriesValue::Counter {
                    #[allow(clippy::cast_precision_loss)] // exact below 2^53 events
                    value: n as f64,
                    exemplar: None,
                },
            })
            .collect(),
    }
}

fn conflict_reason(old: &Desc, new: &Desc) -> String {
    let what = if old.kind != new.kind {
        format!("as a {}, not a {}", old.kind.as_str(), new.kind.as_str())
    } else if old.label_names != new.label_names {
        format!(
            "with labels [{}], not [{}]",
            old.label_names.join(", "),
            new.label_names.join(", ")
        )
    } else if old.help != new.help {
        "with different help text".to_owned()
    } else if old.unit != new.unit {
        "with a different unit".to_owned()
    } else if old.cardinality_limit != new.cardinality_limit || old.idle_ttl != new.idle_ttl {
        "with a different cardinality limit or idle TTL".to_owned()
    } else {
        "with different histogram options".to_owned()
    };
    format!("already registered {what}")
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("families", &self.family_names())
            .finish()
    }
}

/// Hashes with the registry's map hasher (exposed for the benches' memory report).
#[doc(hidden)]
pub fn __label_hash(values: &[&str]) -> u64 {
    hash_values(&DefaultHashBuilder::default(), values.iter().copied())
}

#[cfg(test)]
mod tests;
