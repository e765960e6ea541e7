//! Counters: monotonically increasing totals.
//!
//! A counter only goes up; a scrape reads its current total and Prometheus
//! computes rates from successive totals. A total counts whole events
//! (`inc`, `inc_by`) or any finite non-negative quantity (`add(0.25)` seconds,
//! `add(1e300)`), as prometheus_client and prom-client allow.
//!
//! A counter holds two contention-adaptive striped sums (see the crate docs):
//! whole increments below 2^54 go to an integer one, so an uncontended
//! `inc` is one atomic add and whole totals stay exact beyond 2^53, and
//! everything else (fractions, huge values) to a float one. A read adds the
//! two. The integer sum never wraps at 2^64, which a scraper would take for a
//! reset: past 2^63 its parts are retired and kept (see `adder.rs`), so the
//! total keeps rising in the float value a scrape reads.

use std::sync::Arc;

use crate::adder::{Adder, MAX_INTEGER_DELTA};
use crate::error::{Error, ErrorKind, Result};
use crate::exemplar::{Exemplar, ExemplarSlot};
use crate::labels::LabelValues;
use crate::series::Series;

/// The cell behind a counter series.
#[doc(hidden)]
pub struct CounterCell {
    /// Whole increments below [`MAX_INTEGER_DELTA`].
    pub(crate) whole: Adder<u64>,
    /// Every other increment: fractions, and whole values too large for `whole`.
    pub(crate) float: Adder<f64>,
    pub(crate) exemplar: ExemplarSlot,
    /// The family's name, for errors.
    name: Arc<str>,
}

impl CounterCell {
    pub(crate) fn new(name: Arc<str>) -> Self {
        Self {
            whole: Adder::new(0),
            float: Adder::new(0.0),
            exemplar: ExemplarSlot::default(),
            name,
        }
    }

    /// The total: the integer and float sums together.
    pub(crate) fn value(&self) -> f64 {
        // A u128 converts to the nearest f64, so the sum rounds only once per part.
        #[allow(clippy::cast_precision_loss)]
        let whole = self.whole.sum_wide() as f64;
        whole + self.float.sum()
    }

    /// The total as an exact integer, if no fraction or large increment went to the float
    /// sum and it is below 2^64.
    pub(crate) fn exact_whole(&self) -> Option<u64> {
        // Both encodings of zero are the all-zero bits; a float sum of only zeros stays +0.
        if self.float.sum().to_bits() != 0 {
            return None;
        }
        u64::try_from(self.whole.sum_wide()).ok()
    }

    #[inline]
    fn add_whole(&self, n: u64) {
        if n < MAX_INTEGER_DELTA {
            self.whole.add(n);
        } else {
            #[allow(clippy::cast_precision_loss)] // the total is read as an f64 anyway
            self.float.add(n as f64);
        }
    }
}

/// Serializes a counter total as a JSON integer while it is whole and below 2^64
/// (what counting events gives), otherwise as a float.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes a reference
pub(crate) fn serialize_total<S: serde::Serializer>(total: &f64, s: S) -> Result<S::Ok, S::Error> {
    // Whole and below 2^64 (NaN fails the comparison): the round trip is exact.
    #[allow(clippy::float_cmp, clippy::cast_precision_loss)]
    if (0.0..u64::MAX as f64).contains(total) && (*total as u64) as f64 == *total {
        s.serialize_u64(*total as u64)
    } else {
        s.serialize_f64(*total)
    }
}

/// Serializes counter totals by key as [`serialize_total`] writes each.
pub(crate) fn serialize_totals<S: serde::Serializer>(
    totals: &std::collections::BTreeMap<String, f64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap as _;
    /// One total, serialized through `serialize_total`.
    struct Total(f64);
    impl serde::Serialize for Total {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_total(&self.0, s)
        }
    }
    let mut map = s.serialize_map(Some(totals.len()))?;
    for (k, v) in totals {
        map.serialize_entry(k, &Total(*v))?;
    }
    map.end()
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
            series: Series::new(LabelValues::empty(), CounterCell::new("counter".into())),
        }
    }

    /// A counter whose integer sum starts at `total`, so a model-checked test can
    /// reach 2^63 in a few steps.
    #[cfg(loom)]
    #[doc(hidden)]
    pub fn starting_at(total: u64) -> Self {
        let cell = CounterCell {
            whole: Adder::new(total),
            ..CounterCell::new("counter".into())
        };
        Self {
            series: Series::new(LabelValues::empty(), cell),
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.series.metric.whole.add(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.series.metric.add_whole(n);
    }

    /// Adds `v`, which may have a fraction (seconds, bytes per request, a cost):
    /// any finite value from 0 up, as prometheus_client's and prom-client's `inc` take.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidValue`] naming the metric if `v` is negative (a
    /// counter only goes up) or NaN or infinite (a total must stay a number, and
    /// one infinite increment would freeze it); nothing is added then.
    #[inline]
    pub fn add(&self, v: f64) -> Result<()> {
        let cell = &self.series.metric;
        // Whole and in the integer range (NaN fails the comparison): one atomic add. The
        // round trip is the integral test, cheaper than `fract()`.
        #[allow(clippy::cast_precision_loss, clippy::float_cmp)]
        if (0.0..MAX_INTEGER_DELTA as f64).contains(&v) && (v as u64) as f64 == v {
            cell.whole.add(v as u64);
            return Ok(());
        }
        if !v.is_finite() {
            return Err(Error::for_metric(
                ErrorKind::InvalidValue,
                &cell.name,
                format!("counter increments must be finite numbers, got {v}"),
            ));
        }
        if v < 0.0 {
            return Err(Error::for_metric(
                ErrorKind::InvalidValue,
                &cell.name,
                format!("counters only go up: increments must be 0 or more, got {v}"),
            ));
        }
        cell.float.add(v);
        Ok(())
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

    /// The current total, what a scrape exposes: whole and fractional increments
    /// together, as an `f64` (exact up to 2^53, then to 16 significant digits).
    pub fn value(&self) -> f64 {
        self.series.metric.value()
    }

    /// The whole part of the total, saturating at `u64::MAX`. It is exact for
    /// any number of `inc`/`inc_by` calls (up to that bound) and rounds down
    /// fractions added with [`Counter::add`].
    pub fn get(&self) -> u64 {
        let cell = &self.series.metric;
        // `as` from f64 truncates toward zero and saturates; the float part is never negative.
        let fractional_part_whole = cell.float.sum() as u128;
        u64::try_from(cell.whole.sum_wide().saturating_add(fractional_part_whole))
            .unwrap_or(u64::MAX)
    }

    /// Sets the total back to zero (prom-client's `reset`) and restarts its
    /// `_created` time. Increments racing with the reset land either before it
    /// (and are cleared) or after it.
    pub fn reset(&self) {
        self.series.metric.whole.take_wide();
        self.series.metric.float.take();
        self.series.recreate();
    }

    /// This series' label values.
    pub fn label_values(&self) -> &LabelValues {
        &self.series.labels
    }

    /// Adds `v` as [`Counter::add`] does and keeps an exemplar for OpenMetrics.
    ///
    /// # Errors
    /// As [`Counter::add`] (nothing is added or kept then), or
    /// [`crate::ErrorKind::InvalidExemplar`] if the exemplar labels break the OpenMetrics
    /// rules; the increment is applied then.
    pub fn add_with_exemplar(&self, v: f64, exemplar_labels: &[(&str, &str)]) -> Result<()> {
        self.add_with_exemplar_at(v, exemplar_labels, None)
    }

    /// As [`Counter::add_with_exemplar`], the exemplar stamped `timestamp` (Unix seconds)
    /// when given: a binding whose callers keep their own time (JavaScript's `Date.now()`,
    /// fake timers) stamps it with theirs.
    ///
    /// # Errors
    /// As [`Counter::add_with_exemplar`].
    pub fn add_with_exemplar_at(
        &self,
        v: f64,
        exemplar_labels: &[(&str, &str)],
        timestamp: Option<f64>,
    ) -> Result<()> {
        self.add(v)?;
        let mut e = Exemplar::new("counter", exemplar_labels, v)?;
        if let Some(t) = timestamp {
            e.timestamp = t;
        }
        self.series.metric.exemplar.set(e);
        Ok(())
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
            .field("value", &self.value())
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
    fn fractional_and_huge_increments() {
        let c = Counter::new();
        c.add(0.5).unwrap();
        c.add(2.0).unwrap();
        c.inc();
        assert!((c.value() - 3.5).abs() < f64::EPSILON);
        assert_eq!(c.get(), 3, "get() is the whole part");
        c.add(1e300).unwrap();
        assert!((c.value() - 1e300).abs() <= 1e284);
        assert_eq!(c.get(), u64::MAX, "get() saturates");
        c.add(0.0).unwrap();
        c.add(-0.0).unwrap();
    }

    #[test]
    fn bad_increments_name_the_metric_and_change_nothing() {
        let c = Counter::new();
        c.add(1.5).unwrap();
        for (v, rule) in [
            (-1.0, "only go up"),
            (-1e-300, "only go up"),
            (f64::NAN, "finite"),
            (f64::INFINITY, "finite"),
            (f64::NEG_INFINITY, "finite"),
        ] {
            let err = c.add(v).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidValue);
            assert_eq!(err.metric(), Some("counter"));
            assert!(err.rule().contains(rule), "{v}: {err}");
        }
        assert!((c.value() - 1.5).abs() < f64::EPSILON);
    }

    #[test]
    fn whole_totals_do_not_wrap_at_2_64() {
        let c = Counter::new();
        c.inc_by(u64::MAX);
        c.inc_by(u64::MAX);
        c.inc();
        #[allow(clippy::cast_precision_loss)]
        let want = 2.0 * u64::MAX as f64;
        assert!(
            (c.value() - want).abs() <= want * f64::EPSILON,
            "{}",
            c.value()
        );
        assert_eq!(c.get(), u64::MAX);
        // Many integer-path increments carrying the total past 2^64 through retired parts.
        let c = Counter::new();
        let step = MAX_INTEGER_DELTA - 1;
        let n = (u64::MAX / step) + 10;
        let mut last = 0.0;
        for i in 0..n {
            c.inc_by(step);
            if i % 4096 == 0 {
                let v = c.value();
                assert!(v >= last, "the total fell from {last} to {v}");
                last = v;
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let want = u128::from(n) * u128::from(step);
        assert!(want > u128::from(u64::MAX));
        assert_eq!(c.series.metric.whole.sum_wide(), want);
        assert_eq!(c.get(), u64::MAX);
        c.reset();
        assert!(c.value() == 0.0 && c.get() == 0);
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
