//! Families: the [`Metric`] kinds a family can hold, [`Family`] itself (its description, the
//! state its series share) and [`AnyFamily`], a family of any kind as the registry keeps it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use crossbeam_utils::CachePadded;
use hashbrown::{DefaultHashBuilder, HashTable};

use super::options::Desc;
use crate::clock::{self, TimeSource};
use crate::collect::MetricKind;
use crate::collect::SeriesValue;
use crate::counter::{Counter, CounterCell};
use crate::error::{Error, ErrorKind, Result};
use crate::gauge::{Gauge, GaugeCell};
use crate::histogram::{Histogram, HistogramCell, HistogramOpts, HistogramShape};
use crate::labels::LabelValues;
use crate::series::Series;
use crate::summary::{Summary, SummaryOpts};

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
            whole: cell.exact_whole(),
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

type Shard<C> = CachePadded<RwLock<HashTable<Arc<Series<C>>>>>;

fn shard_count() -> usize {
    let cpus = std::thread::available_parallelism().map_or(4, std::num::NonZero::get);
    (cpus * 4).next_power_of_two().clamp(4, 64)
}

/// The labelled series of a family in label-value order, as of `generation` (`None`: never
/// built).
pub(super) struct SortedSeries<C> {
    pub(super) generation: Option<u64>,
    pub(super) series: Vec<Arc<Series<C>>>,
}

pub(super) struct FamilyInner<M: Metric> {
    pub(super) desc: Desc,
    pub(super) config: M::Config,
    pub(super) shared: M::Shared,
    /// The only series of a family without labels.
    pub(super) single: OnceLock<Arc<Series<M::Cell>>>,
    pub(super) shards: Box<[Shard<M::Cell>]>,
    pub(super) hasher: DefaultHashBuilder,
    pub(super) len: AtomicUsize,
    pub(super) overflow: OnceLock<Arc<Series<M::Cell>>>,
    pub(super) overflowed: AtomicU64,
    /// Unix seconds at registration: the `_created` of this family's self-metric series.
    pub(super) created: f64,
    /// The registry's clock: when series were last used, for idle eviction.
    pub(super) clock: TimeSource,
    /// Series address -> (value fingerprint, when it last changed), for idle eviction.
    pub(super) idle: Mutex<HashMap<usize, (u64, u64)>>,
    /// Bumped whenever a labelled series is added or removed, so that collection can reuse
    /// `sorted` while the set of series is unchanged.
    pub(super) generation: AtomicU64,
    /// The labelled series in label-value order, as of a generation: sorting 10k series
    /// was two thirds of a render's time.
    pub(super) sorted: Mutex<SortedSeries<M::Cell>>,
}

/// A family of series sharing a name, kind and label names. Cloning is cheap;
/// all clones refer to the same family.
#[must_use = "a family does nothing unless you take series from it"]
pub struct Family<M: Metric> {
    pub(super) inner: Arc<FamilyInner<M>>,
}

impl<M: Metric> Clone for Family<M> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<M: Metric> Family<M> {
    pub(super) fn new(desc: Desc, config: M::Config, clock: TimeSource) -> Result<Self> {
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
                clock,
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

    /// The help text.
    pub fn help(&self) -> &str {
        &self.inner.desc.help
    }

    pub(super) fn new_series(&self, labels: LabelValues) -> Arc<Series<M::Cell>> {
        Series::new_at(
            labels,
            M::new_cell(&self.inner.shared),
            self.inner.clock.now_ms(),
        )
    }

    pub(super) fn wrong_count(&self, got: usize) -> Error {
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
pub(super) enum AnyFamily {
    Counter(Family<Counter>),
    Gauge(Family<Gauge>),
    Histogram(Family<Histogram>),
    Summary(Family<Summary>),
}

macro_rules! each_family {
    ($f:expr, $fam:ident => $body:expr) => {
        match $f {
            $crate::registry::family::AnyFamily::Counter($fam) => $body,
            $crate::registry::family::AnyFamily::Gauge($fam) => $body,
            $crate::registry::family::AnyFamily::Histogram($fam) => $body,
            $crate::registry::family::AnyFamily::Summary($fam) => $body,
        }
    };
}
pub(super) use each_family;

impl AnyFamily {
    pub(super) fn desc(&self) -> &Desc {
        each_family!(self, f => &f.inner.desc)
    }
}

/// Something that converts to and from [`AnyFamily`], for typed registration.
pub(super) trait Registrable: Metric {
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
