//! Counters: monotonically increasing unsigned 64-bit integers.
//!
//! A counter only goes up (by whole numbers); a scrape reads its current
//! total and Prometheus computes rates from successive totals. Updates go
//! through a contention-adaptive striped sum (see the crate docs), so an
//! uncontended increment is one atomic operation and contended increments
//! spread over per-CPU cache lines instead of fighting over one.

use std::sync::Arc;

use crate::adder::Adder;
use crate::error::Result;
use crate::exemplar::{Exemplar, ExemplarSlot};
use crate::labels::LabelValues;
use crate::series::Series;

/// The cell behind a counter series.
#[doc(hidden)]
pub struct CounterCell {
    pub(crate) total: Adder<u64>,
    pub(crate) exemplar: ExemplarSlot,
}

impl CounterCell {
    pub(crate) fn new() -> Self {
        Self {
            total: Adder::new(0),
            exemplar: ExemplarSlot::default(),
        }
    }
}

/// A handle to one counter series. Cloning is cheap (an `Arc`); all clones
/// update the same series, from any thread.
#[derive(Clone)]
#[must_use = "counters do nothing unless you use them"]
pub struct Counter {
    pub(crate) series: Arc<Series<CounterCell>>,
}

impl Counter {
    /// A counter that belongs to no registry (useful in tests and for local tallies).
    pub fn new() -> Self {
        Self {
            series: Series::new(LabelValues::empty(), CounterCell::new()),
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.series.metric.total.add(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.series.metric.total.add(n);
    }

    /// Adds `n` and keeps an exemplar (e.g. `[("trace_id", "abc")]`) for OpenMetrics.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidExemplar`] if the exemplar labels break the
    /// OpenMetrics rules; the increment is applied either way.
    pub fn inc_by_with_exemplar(&self, n: u64, exemplar_labels: &[(&str, &str)]) -> Result<()> {
        self.inc_by(n);
        let e = Exemplar::new("counter", exemplar_labels, n as f64)?;
        self.series.metric.exemplar.set(e);
        Ok(())
    }

    /// The current total.
    pub fn get(&self) -> u64 {
        self.series.metric.total.sum()
    }

    /// Sets the total back to zero (prom-client's `reset`) and restarts its
    /// `_created` time. Increments racing with the reset land either before it
    /// (and are cleared) or after it.
    pub fn reset(&self) {
        self.series.metric.total.take();
        self.series.recreate();
    }

    /// This series' label values.
    pub fn label_values(&self) -> &LabelValues {
        &self.series.labels
    }

    /// The latest exemplar, if any.
    pub fn exemplar(&self) -> Option<Exemplar> {
        self.series.metric.exemplar.get()
    }
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counter")
            .field("labels", &self.series.labels)
            .field("value", &self.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let c = Counter::new();
        c.inc();
        c.inc_by(41);
        assert_eq!(c.get(), 42);
        let c2 = c.clone();
        c2.inc();
        assert_eq!(c.get(), 43);
        c.reset();
        assert_eq!(c2.get(), 0);
    }

    #[test]
    fn exemplar_rules() {
        let c = Counter::new();
        c.inc_by_with_exemplar(2, &[("trace_id", "abc")]).unwrap();
        assert_eq!(c.get(), 2);
        let e = c.exemplar().unwrap();
        assert_eq!(e.labels, vec![("trace_id".to_owned(), "abc".to_owned())]);
        assert!((e.value - 2.0).abs() < f64::EPSILON);
        let long = "x".repeat(130);
        let err = c
            .inc_by_with_exemplar(1, &[("trace_id", &long)])
            .unwrap_err();
        assert!(err.to_string().contains("at most 128"), "{err}");
        assert_eq!(c.get(), 3, "the increment still counts");
        assert!(c.inc_by_with_exemplar(1, &[("bad-name", "x")]).is_err());
    }
}
