//! Gathering: every family's series, in label-value order, into snapshots, followed by the
//! registry's own self-metrics and the families of its collectors.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{MutexGuard, PoisonError};

use super::Registry;
use super::collectors::SELF_FAMILIES;
use super::family::{Family, Metric, SortedSeries, each_family};
use super::options::SeriesOrder;
use crate::collect::MetricKind;
use crate::collect::{FamilySnapshot, Gathered, SeriesSnapshot, SeriesValue};
use crate::fork;
use crate::labels::LabelValues;

impl<M: Metric> Family<M> {
    /// The labelled series in the family's order (label values, or first use), sorted again only when series were added
    /// or removed since the last call. The guard keeps concurrent collections apart; lookups
    /// and updates never take it.
    fn sorted_series(&self) -> MutexGuard<'_, SortedSeries<M::Cell>> {
        // Callers hold a fork section for as long as they hold the guard.
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
            match inner.desc.series_order {
                SeriesOrder::Labels => sorted
                    .series
                    .sort_unstable_by(|a, b| a.labels.cmp(&b.labels)),
                SeriesOrder::FirstUse => sorted.series.sort_unstable_by_key(|s| s.seq),
            }
            sorted.generation = Some(generation);
        }
        sorted
    }

    /// Drops the sorted cache and its references to the series; the next call sorts again.
    pub(super) fn invalidate_sorted(&self) {
        let _fork = fork::section();
        let mut sorted = self
            .inner
            .sorted
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        sorted.generation = None;
        sorted.series = Vec::new();
    }

    /// This family alone, collected now, as [`Registry::gather`] collects it (the unlabelled
    /// series, then the labelled ones in label-value order, then the overflow series); a
    /// binding answering for one metric need not gather the whole registry.
    pub fn snapshot(&self) -> FamilySnapshot {
        let d = &self.inner.desc;
        let _fork = fork::section();
        FamilySnapshot {
            named_total: d.named_total,
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

impl Registry {
    /// Collects every family (evicting idle series first), in registration order; then
    /// metricore's own `metricore_cardinality_overflow`, `metricore_saturated_values` and
    /// `metricore_rejected_values` counters when any family overflowed, any histogram or
    /// summary saturated, or any was given NaN; then the families of
    /// every [`Collector`](crate::Collector), in registration order; then
    /// `metricore_collector_errors` once any collector has failed.
    ///
    /// A failing collector loses only its own families; [`Registry::gather_with_errors`] says
    /// what failed.
    pub fn gather(&self) -> Vec<FamilySnapshot> {
        self.gather_with_errors().families
    }

    /// As [`Registry::gather`], with the errors of the collectors that failed in this scrape
    /// and of the families dropped from it (see [`crate::collect`]).
    pub fn gather_with_errors(&self) -> Gathered {
        self.evict_idle();
        let families = {
            let _fork = fork::section();
            self.state
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .families
                .clone()
        };
        let mut out: Vec<FamilySnapshot> = families
            .iter()
            .map(|f| each_family!(f, fam => fam.snapshot()))
            .collect();
        // Self-metric rows: (family name, count, family registration time as `_created`).
        let mut overflow = Vec::new();
        let mut saturated = Vec::new();
        let mut rejected = Vec::new();
        for (f, snap) in families.iter().zip(&out) {
            let (overflowed, created) =
                each_family!(f, fam => (fam.overflowed(), fam.inner.created));
            if overflowed > 0 {
                overflow.push((snap.name.clone(), overflowed, created));
            }
            let (mut above, mut nan) = (0u64, 0u64);
            for s in &snap.series {
                if let SeriesValue::Histogram(h) | SeriesValue::Summary { snapshot: h, .. } =
                    &s.value
                {
                    above = above.saturating_add(h.saturated());
                    nan = nan.saturating_add(h.rejected());
                }
            }
            if above > 0 {
                saturated.push((snap.name.clone(), above, created));
            }
            if nan > 0 {
                rejected.push((snap.name.clone(), nan, created));
            }
        }
        for (name, help, rows) in [
            (
                SELF_FAMILIES[0],
                "Label sets sent to a family's overflow series because it reached its cardinality limit.",
                overflow,
            ),
            (
                SELF_FAMILIES[1],
                "Values recorded outside a histogram's or summary's range (above or below it, or infinite), counted at its nearest end.",
                saturated,
            ),
            (
                SELF_FAMILIES[3],
                "NaN values given to a histogram or summary: not counted, not in the sum.",
                rejected,
            ),
        ] {
            if !rows.is_empty() {
                out.push(self_family(name, help, rows));
            }
        }
        let mut taken: HashSet<String> = out.iter().map(|f| f.name.clone()).collect();
        let mut errors = Vec::new();
        let collectors = self.collect_into(&mut out, &mut taken, &mut errors);
        let failures: Vec<(String, u64, f64)> = collectors
            .iter()
            // Relaxed: a tally; this scrape's own increments happened on this thread.
            .map(|c| {
                (
                    c.name.clone(),
                    c.failures.load(Ordering::Relaxed),
                    c.created,
                )
            })
            .filter(|&(_, n, _)| n > 0)
            .collect();
        if !failures.is_empty() {
            out.push(self_family_labelled(
                SELF_FAMILIES[2],
                "Scrapes in which a collector failed or had a family dropped, by collector.",
                "collector",
                failures,
            ));
        }
        Gathered {
            families: out,
            errors,
        }
    }
}

fn self_family(name: &str, help: &str, rows: Vec<(String, u64, f64)>) -> FamilySnapshot {
    self_family_labelled(name, help, "metric", rows)
}

fn self_family_labelled(
    name: &str,
    help: &str,
    label: &str,
    rows: Vec<(String, u64, f64)>,
) -> FamilySnapshot {
    FamilySnapshot {
        named_total: true,
        name: name.to_owned(),
        help: help.to_owned(),
        unit: None,
        kind: MetricKind::Counter,
        label_names: vec![label.to_owned()],
        series: rows
            .into_iter()
            .map(|(metric, n, created)| SeriesSnapshot {
                labels: LabelValues::new(&[metric]),
                created,
                value: SeriesValue::Counter {
                    #[allow(clippy::cast_precision_loss)] // exact below 2^53 events
                    value: n as f64,
                    whole: Some(n),
                    exemplar: None,
                },
            })
            .collect(),
    }
}
