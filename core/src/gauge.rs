//! Gauges: a 64-bit float that can go up and down.
//!
//! Stored as the bits of an `f64` in one `AtomicU64`; `set` is a store and
//! `add` a compare-and-swap loop. NaN and infinities are allowed, as in
//! Prometheus.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock;
use crate::labels::LabelValues;
use crate::series::Series;

/// The cell behind a gauge series.
#[doc(hidden)]
pub struct GaugeCell {
    bits: AtomicU64,
}

impl GaugeCell {
    pub(crate) fn new() -> Self {
        Self {
            bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    pub(crate) fn get(&self) -> f64 {
        // Relaxed: the gauge publishes no other memory.
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }
}

/// A handle to one gauge series; cheap to clone, usable from any thread.
#[derive(Clone)]
#[must_use = "gauges do nothing unless you use them"]
pub struct Gauge {
    pub(crate) series: Arc<Series<GaugeCell>>,
}

impl Gauge {
    /// A gauge that belongs to no registry.
    pub fn new() -> Self {
        Self {
            series: Series::new(LabelValues::empty(), GaugeCell::new()),
        }
    }

    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        // Relaxed: as in `get`.
        self.series
            .metric
            .bits
            .store(v.to_bits(), Ordering::Relaxed);
    }

    /// Adds `d` (which may be negative).
    #[inline]
    pub fn add(&self, d: f64) {
        // Relaxed: as in `get`; the CAS loop makes the read-modify-write atomic.
        let _ = self
            .series
            .metric
            .bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some((f64::from_bits(b) + d).to_bits())
            });
    }

    /// Subtracts `d`.
    #[inline]
    pub fn sub(&self, d: f64) {
        self.add(-d);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// Sets the value to the current Unix time in seconds.
    pub fn set_to_current_time(&self) {
        self.set(clock::unix_seconds());
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.series.metric.get()
    }

    /// This series' label values.
    pub fn label_values(&self) -> &LabelValues {
        &self.series.labels
    }
}

impl Default for Gauge {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Gauge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gauge")
            .field("labels", &self.series.labels)
            .field("value", &self.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_both_ways() {
        let g = Gauge::new();
        g.set(10.0);
        g.inc();
        g.dec();
        g.dec();
        g.add(0.5);
        g.sub(2.0);
        assert!((g.get() - 7.5).abs() < f64::EPSILON);
        g.set(f64::NAN);
        assert!(g.get().is_nan());
        g.set_to_current_time();
        assert!(g.get() > 1.7e9);
    }

    #[test]
    fn concurrent_adds_are_exact() {
        let g = Gauge::new();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        g.inc();
                    }
                });
            }
        });
        assert!((g.get() - 40_000.0).abs() < f64::EPSILON);
    }
}
