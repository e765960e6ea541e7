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
//! `metricore_cardinality_overflow_total{metric=…}` counter rises. A lookup of
//! that very label set returns the overflow series too, so a family never has
//! two series with the same labels, whatever values callers pass. Series idle
//! past an optional TTL (not looked up, and value unchanged) are evicted at
//! collection time, except those with a live handle: a handle's updates always
//! reach the scrape.
//!
//! ## Across `fork()`
//!
//! A child forked at any moment (while other threads render, look up, create or remove
//! series, or sample) can use every registry it inherited at once: no lock of a registry or
//! family is held in it. Each section of code that takes one runs inside a fork section, and
//! `fork()` waits (through a `pthread_atfork` handler) until none is open; sections are short
//! and never call user code, so a collector that is slow or forks itself holds nothing up.
//! The child keeps every family, series and value as they were at the fork. Its resource
//! sampler is stopped; see [`crate::sampler`].

mod collectors;
mod family;
mod gather;
mod idle;
mod lookup;
mod options;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use hashbrown::DefaultHashBuilder;

use self::family::{AnyFamily, Registrable};
pub use self::family::{Family, Metric};
pub use self::lookup::OVERFLOW_LABEL_VALUE;
pub(crate) use self::options::Desc;
pub use self::options::{DEFAULT_CARDINALITY_LIMIT, MetricOpts, SeriesOrder};
use crate::clock::{Clock, TimeSource};
pub use crate::collect::{
    CollectResult, Collector, FamilySnapshot, Gathered, MetricKind, SeriesSnapshot, SeriesValue,
};
use crate::counter::Counter;
use crate::error::{Error, ErrorKind, Result};
use crate::fork;
use crate::gauge::Gauge;
use crate::histogram::{Histogram, HistogramOpts};
use crate::labels::hash_values;
use crate::summary::{Summary, SummaryOpts};

#[derive(Default)]
struct RegistryState {
    families: Vec<AnyFamily>,
    /// Family name -> index in `families`.
    by_name: HashMap<String, usize>,
    /// Every sample name claimed -> who claimed it.
    samples: HashMap<String, Owner>,
    /// Collectors, in registration order; their families follow the registry's own.
    collectors: Vec<Arc<collectors::Registered>>,
}

/// Who claimed a sample name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    Family(String),
    Collector(String),
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Family(name) => write!(f, "family '{name}'"),
            Self::Collector(name) => write!(f, "collector '{name}'"),
        }
    }
}

/// A set of families, collected together. Cloning is cheap; clones share the families.
#[derive(Clone)]
pub struct Registry {
    state: Arc<RwLock<RegistryState>>,
    /// What idle eviction measures time with.
    clock: TimeSource,
}

impl Default for Registry {
    fn default() -> Self {
        // Its locks, and its families', are only taken inside fork sections.
        fork::install();
        Self {
            state: Arc::default(),
            clock: TimeSource::Coarse,
        }
    }
}

/// The process-wide registry, for code that has no registry passed to it.
pub fn default_registry() -> &'static Registry {
    static DEFAULT: OnceLock<Registry> = OnceLock::new();
    if let Some(registry) = DEFAULT.get() {
        return registry;
    }
    fork::install();
    // A thread making it holds the `OnceLock`'s lock: a child must not find that held.
    let _fork = fork::section();
    DEFAULT.get_or_init(Registry::new)
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry whose idle eviction reads `clock` instead of the coarse system
    /// clock (a [`ManualClock`](crate::clock::ManualClock) in tests): series are marked used
    /// and judged idle in its time.
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        Self {
            clock: TimeSource::Custom(Arc::new(clock)),
            ..Self::default()
        }
    }

    fn register<M: Registrable>(&self, opts: MetricOpts, config: M::Config) -> Result<Family<M>> {
        let desc = opts.describe(M::KIND)?;
        let _fork = fork::section();
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
                format!("exposes the sample name '{sample}', which {owner} already uses"),
            ));
        }
        let family = Family::<M>::new(desc, config, self.clock.clone())?;
        let owner = Owner::Family(family.name().to_owned());
        for s in claimed {
            state.samples.insert(s, owner.clone());
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

    /// Removes a family by name; returns whether it existed.
    pub fn unregister(&self, name: &str) -> bool {
        let _fork = fork::section();
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let Some(i) = state.by_name.remove(name) else {
            return false;
        };
        state.families.remove(i);
        let owner = Owner::Family(name.to_owned());
        state.samples.retain(|_, o| *o != owner);
        for idx in state.by_name.values_mut() {
            if *idx > i {
                *idx -= 1;
            }
        }
        true
    }

    /// Names of the registered families, in registration order.
    pub fn family_names(&self) -> Vec<String> {
        let _fork = fork::section();
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        state
            .families
            .iter()
            .map(|f| f.desc().name.clone())
            .collect()
    }

    /// Each registered family's name with the sample names it exposes (`x`, `x_total`,
    /// `x_bucket`, …), as claimed at registration, in registration order: what a name
    /// another source adds must not clash with.
    pub fn sample_names(&self) -> Vec<(String, Vec<String>)> {
        let _fork = fork::section();
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        state
            .families
            .iter()
            .map(|f| (f.desc().name.clone(), f.desc().sample_names()))
            .collect()
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
