//! The registry's side of [`Collector`]s: registering them under a name that claims the
//! sample names they describe, and running them at gather time so that a failing collector
//! or an invalid family costs only itself (the rules are in [`crate::collect`]).

use std::any::Any;
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};

use super::options::sample_names;
use super::{Owner, Registry};
use crate::clock;
use crate::collect::{CollectResult, Collector, FamilySnapshot, MetricKind, SeriesValue};
use crate::error::{Error, ErrorKind, Result};
use crate::fork;
use crate::labels::{LabelValues, validate_label_name, validate_metric_name};

/// The families a registry adds to every scrape itself; no collector may yield them.
pub(super) const SELF_FAMILIES: [&str; 4] = [
    "metricore_cardinality_overflow",
    "metricore_saturated_values",
    "metricore_collector_errors",
    "metricore_rejected_values",
];

/// A collector as the registry keeps it.
pub(super) struct Registered {
    pub(super) name: String,
    collector: Arc<dyn Collector>,
    /// Collections that failed or had a family dropped.
    pub(super) failures: AtomicU64,
    /// Unix seconds at registration: the `_created` of its error counter.
    pub(super) created: f64,
}

impl Registry {
    /// Adds `collector`'s families to every scrape of this registry from now on, under `name`
    /// (which labels its `metricore_collector_errors_total` series and removes it again).
    ///
    /// # Errors
    /// [`ErrorKind::Conflict`] if `name` is taken or a family it describes uses a name that is
    /// taken; [`ErrorKind::CollectorFailed`] if [`Collector::describe`] fails.
    pub fn register_collector(&self, name: &str, collector: impl Collector) -> Result<()> {
        self.add_collector(name, Arc::new(collector)).map(drop)
    }

    /// The collector called `name` if it is a `C`, else `make()` registered under `name`: one
    /// collector of a kind per registry, however many callers ask for it.
    ///
    /// # Errors
    /// As [`Registry::register_collector`], and [`ErrorKind::Conflict`] if a collector of
    /// another type is registered under `name`.
    pub fn collector_or_register<C: Collector + Clone>(
        &self,
        name: &str,
        make: impl FnOnce() -> C,
    ) -> Result<C> {
        if let Some(found) = self.find_collector(name) {
            return found;
        }
        let fresh = Arc::new(make());
        match self.add_collector(name, Arc::clone(&fresh) as Arc<dyn Collector>) {
            Ok(()) => Ok((*fresh).clone()),
            // Another caller registered one meanwhile.
            Err(e) => self.find_collector(name).unwrap_or(Err(e)),
        }
    }

    /// Stops adding the collector called `name` to scrapes and frees the names it claimed;
    /// returns whether there was one. A scrape already running may still call it.
    pub fn unregister_collector(&self, name: &str) -> bool {
        let _fork = fork::section();
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let before = state.collectors.len();
        state.collectors.retain(|c| c.name != name);
        let owner = Owner::Collector(name.to_owned());
        state.samples.retain(|_, o| *o != owner);
        state.collectors.len() != before
    }

    /// Names of the registered collectors, in registration order.
    pub fn collector_names(&self) -> Vec<String> {
        let _fork = fork::section();
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        state.collectors.iter().map(|c| c.name.clone()).collect()
    }

    fn find_collector<C: Collector + Clone>(&self, name: &str) -> Option<Result<C>> {
        let _fork = fork::section();
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let found = state.collectors.iter().find(|c| c.name == name)?;
        let any: &dyn Any = &*found.collector;
        Some(any.downcast_ref::<C>().cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::Conflict,
                None,
                format!("a collector of another type is registered as '{name}'"),
            )
        }))
    }

    fn add_collector(&self, name: &str, collector: Arc<dyn Collector>) -> Result<()> {
        if name.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidName,
                None,
                "a collector needs a non-empty name",
            ));
        }
        // Outside the lock: describing may collect, which may be slow or use this registry.
        let described = guarded(|| collector.describe()).map_err(|e| {
            Error::new(
                ErrorKind::CollectorFailed,
                None,
                format!("collector '{name}' failed to describe its families: {e}"),
            )
        })?;
        let mut claimed = Vec::new();
        for f in &described {
            if SELF_FAMILIES.contains(&f.name.as_str()) {
                return Err(refused(name, &f.name, "metricore's own counter"));
            }
            claimed.extend(sample_names(&f.name, f.kind));
        }
        let _fork = fork::section();
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if state.collectors.iter().any(|c| c.name == name) {
            return Err(Error::new(
                ErrorKind::Conflict,
                None,
                format!("a collector is already registered as '{name}'"),
            ));
        }
        if let Some((sample, owner)) = claimed
            .iter()
            .find_map(|s| state.samples.get(s).map(|o| (s, o)))
        {
            return Err(refused(name, sample, &owner.to_string()));
        }
        let owner = Owner::Collector(name.to_owned());
        for s in claimed {
            state.samples.insert(s, owner.clone());
        }
        state.collectors.push(Arc::new(Registered {
            name: name.to_owned(),
            collector,
            failures: AtomicU64::new(0),
            created: clock::unix_seconds(),
        }));
        Ok(())
    }

    /// Runs every registered collector, holding no lock while each collects, and appends
    /// what they yield to `out`; `taken` holds the family names `out` already has. Failures
    /// and dropped families go to `errors` and count against their collector.
    pub(super) fn collect_into(
        &self,
        out: &mut Vec<FamilySnapshot>,
        taken: &mut HashSet<String>,
        errors: &mut Vec<Error>,
    ) -> Vec<Arc<Registered>> {
        let collectors = {
            let _fork = fork::section();
            self.state
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .collectors
                .clone()
        };
        for c in &collectors {
            let before = errors.len();
            match guarded(|| c.collector.collect()) {
                Ok(families) => {
                    for f in families {
                        match self.check_family(&c.name, f, taken) {
                            Ok(f) => {
                                taken.insert(f.name.clone());
                                out.push(f);
                            }
                            Err(e) => errors.push(e),
                        }
                    }
                }
                Err(e) => errors.push(Error::new(
                    ErrorKind::CollectorFailed,
                    None,
                    format!("collector '{}' failed: {e}", c.name),
                )),
            }
            if errors.len() > before {
                // Relaxed: a tally read at the end of this scrape or a later one.
                c.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        collectors
    }

    /// `family` as collector `collector` yielded it, if it keeps the exposition valid.
    fn check_family(
        &self,
        collector: &str,
        family: FamilySnapshot,
        taken: &HashSet<String>,
    ) -> Result<FamilySnapshot> {
        let dropped = |why: String| {
            Error::new(
                ErrorKind::CollectorFailed,
                None,
                format!(
                    "collector '{collector}': family '{}' was dropped: {why}",
                    family.name
                ),
            )
        };
        validate_metric_name(&family.name).map_err(|e| dropped(e.rule().to_owned()))?;
        for l in &family.label_names {
            validate_label_name(&family.name, l).map_err(|e| dropped(e.rule().to_owned()))?;
        }
        let me = Owner::Collector(collector.to_owned());
        let names = sample_names(&family.name, family.kind);
        if let Some(used) = names.iter().find(|n| taken.contains(n.as_str())) {
            return Err(dropped(format!(
                "another family in this scrape already uses the name '{used}'"
            )));
        }
        {
            let _fork = fork::section();
            let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
            if let Some((sample, owner)) = names
                .iter()
                .find_map(|s| state.samples.get(s).map(|o| (s, o)))
                .filter(|(_, o)| **o != me)
            {
                return Err(dropped(format!(
                    "the sample name '{sample}' belongs to {owner}"
                )));
            }
        }
        let width = family.label_names.len();
        let mut seen: HashSet<&LabelValues> = HashSet::with_capacity(family.series.len());
        for s in &family.series {
            if s.labels.len() != width {
                return Err(dropped(format!(
                    "a series has {} label values for {width} label names",
                    s.labels.len()
                )));
            }
            if !value_fits(family.kind, &s.value) {
                return Err(dropped(format!(
                    "a series holds a value that is not a {}",
                    family.kind.as_str()
                )));
            }
            if !seen.insert(&s.labels) {
                return Err(dropped(format!(
                    "two series have the label values {:?}",
                    s.labels
                )));
            }
        }
        Ok(family)
    }
}

/// Whether a value of this shape can be exposed under a family of `kind`.
fn value_fits(kind: MetricKind, value: &SeriesValue) -> bool {
    matches!(
        (kind, value),
        (
            MetricKind::Counter,
            SeriesValue::Counter { .. } | SeriesValue::SampledCounter { .. }
        ) | (MetricKind::Gauge, SeriesValue::Gauge { .. })
            | (MetricKind::Histogram, SeriesValue::Histogram(_))
            | (MetricKind::Summary, SeriesValue::Summary { .. })
    )
}

/// Calls into a collector, turning a panic into an error so that the scrape goes on.
fn guarded(call: impl FnOnce() -> CollectResult) -> CollectResult {
    // AssertUnwindSafe: after a panic nothing the collector returned is used, and no state of
    // the registry is borrowed across the call.
    catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic with a non-string payload");
        Err(format!("panicked: {what}").into())
    })
}

fn refused(collector: &str, sample: &str, owner: &str) -> Error {
    Error::new(
        ErrorKind::Conflict,
        None,
        format!(
            "collector '{collector}' describes the sample name '{sample}', which {owner} already uses"
        ),
    )
}
