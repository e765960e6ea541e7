//! Finding a series by its label values: a sharded hash table per family, searched without
//! allocating, and the overflow series that takes new label sets past the cardinality limit.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use super::family::{Family, FamilyInner, Metric};
use crate::error::{Error, ErrorKind, Result};
use crate::fork;
use crate::labels::{LabelValues, hash_values};
use crate::series::Series;

/// The label value every label of the overflow series carries.
pub const OVERFLOW_LABEL_VALUE: &str = "__overflow__";

impl<M: Metric> FamilyInner<M> {
    /// Marks the labelled series set as changed; called once the change is in its shard.
    pub(super) fn series_changed(&self) {
        // Release: pairs with the Acquire in `Family::sorted_series`.
        self.generation.fetch_add(1, Ordering::Release);
    }
}

impl<M: Metric> Family<M> {
    /// The series for `values` (in label-name order), created on first use.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidLabels`] if the number of values differs from the label names.
    pub fn with_label_values<S: AsRef<str>>(&self, values: &[S]) -> Result<M> {
        let inner = &*self.inner;
        if values.len() != inner.desc.label_names.len() {
            return Err(self.wrong_count(values.len()));
        }
        // Covers the one-time initialisations below too: a child must not find one half done.
        let _fork = fork::section();
        if values.is_empty() {
            let s = inner
                .single
                .get_or_init(|| self.new_series(LabelValues::empty()));
            return Ok(M::from_series(Arc::clone(s)));
        }
        if values.iter().all(|v| v.as_ref() == OVERFLOW_LABEL_VALUE) {
            // The overflow series' own label set: one series, whoever asks for it.
            return Ok(M::from_series(Arc::clone(self.overflow_cell())));
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
                    s.touched_ms.store(inner.clock.now_ms(), Ordering::Relaxed);
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

    /// The series of a label set past the cardinality limit, counted as an overflow.
    fn overflow_series(&self) -> M {
        // Relaxed: a plain tally.
        self.inner.overflowed.fetch_add(1, Ordering::Relaxed);
        M::from_series(Arc::clone(self.overflow_cell()))
    }

    /// The overflow series, made on first use.
    fn overflow_cell(&self) -> &Arc<Series<M::Cell>> {
        let inner = &*self.inner;
        inner.overflow.get_or_init(|| {
            let values = vec![OVERFLOW_LABEL_VALUE; inner.desc.label_names.len()];
            self.new_series(LabelValues::new(&values))
        })
    }

    /// Removes the series for `values`. Handles already taken keep working but are no
    /// longer collected. Returns whether a series was removed.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidLabels`] if the number of values is wrong.
    pub fn remove<S: AsRef<str>>(&self, values: &[S]) -> Result<bool> {
        if values.len() != self.inner.desc.label_names.len() {
            return Err(self.wrong_count(values.len()));
        }
        Ok(self.remove_if(values, |_| true))
    }

    /// Removes the series for `values` (of the right count) if `unused` says so of it,
    /// asked under its shard's write lock so that no lookup hands it out meanwhile.
    pub(super) fn remove_if<S: AsRef<str>>(
        &self,
        values: &[S],
        unused: impl Fn(&Arc<Series<M::Cell>>) -> bool,
    ) -> bool {
        let inner = &*self.inner;
        if values.is_empty() {
            return false;
        }
        let hash = hash_values(&inner.hasher, values.iter().map(AsRef::as_ref));
        let _fork = fork::section();
        let shard = &inner.shards[(hash >> 40) as usize & (inner.shards.len() - 1)];
        let mut table = shard.write().unwrap_or_else(PoisonError::into_inner);
        match table.find_entry(hash, |s| s.labels.matches(values)) {
            Ok(e) if unused(e.get()) => {
                let (s, _) = e.remove();
                inner.len.fetch_sub(1, Ordering::Relaxed);
                inner.series_changed();
                inner
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&(Arc::as_ptr(&s) as usize));
                true
            }
            _ => false,
        }
    }

    /// Removes every series whose labels include all of `pairs` (name, value), as
    /// prometheus_client's `remove_by_labels`; no pairs remove nothing. Returns how many
    /// series were removed.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidLabels`] if a name is not one of the family's label names
    /// (nothing is removed).
    pub fn remove_matching(&self, pairs: &[(&str, &str)]) -> Result<usize> {
        let names = &self.inner.desc.label_names;
        let mut wanted = Vec::with_capacity(pairs.len());
        for &(name, value) in pairs {
            let Some(index) = names.iter().position(|n| n == name) else {
                return Err(Error::for_metric(
                    ErrorKind::InvalidLabels,
                    &self.inner.desc.name,
                    format!(
                        "unknown label '{name}' (label names are: {})",
                        names.join(", ")
                    ),
                ));
            };
            wanted.push((index, value));
        }
        if wanted.is_empty() {
            return Ok(0);
        }
        let matching: Vec<Vec<String>> = {
            let _fork = fork::section();
            let mut out = Vec::new();
            for shard in &*self.inner.shards {
                let table = shard.read().unwrap_or_else(PoisonError::into_inner);
                for s in table.iter() {
                    let values: Vec<&str> = s.labels.iter().collect();
                    if wanted.iter().all(|&(i, v)| values.get(i) == Some(&v)) {
                        out.push(values.iter().map(|v| (*v).to_owned()).collect());
                    }
                }
            }
            out
        };
        Ok(matching
            .iter()
            .filter(|values| self.remove_if(values, |_| true))
            .count())
    }

    /// Removes every series (prometheus_client's `clear()`).
    pub fn clear(&self) {
        let _fork = fork::section();
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
}
