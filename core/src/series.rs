//! What every metric handle points at: one series of a family.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock;
use crate::labels::LabelValues;

/// One series: its label values, its birth time (OpenMetrics `_created`, moved by a reset),
/// when it was last looked up (for idle eviction), and the metric's cell.
#[doc(hidden)]
pub struct Series<M> {
    pub(crate) labels: LabelValues,
    /// Unix seconds as f64 bits.
    created: AtomicU64,
    /// Milliseconds on the registry's clock (the coarse monotonic clock by default) of the
    /// last lookup by label values.
    pub(crate) touched_ms: AtomicU64,
    /// Process-wide creation number: the first-use order of a family's series.
    pub(crate) seq: u64,
    pub(crate) metric: M,
}

/// The next series' creation number.
static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

impl<M> Series<M> {
    pub(crate) fn new(labels: LabelValues, metric: M) -> Arc<Self> {
        Self::new_at(labels, metric, clock::coarse_monotonic_ms())
    }

    /// A series last used at `touched_ms` on its registry's clock.
    pub(crate) fn new_at(labels: LabelValues, metric: M, touched_ms: u64) -> Arc<Self> {
        Arc::new(Self {
            labels,
            created: AtomicU64::new(clock::unix_seconds().to_bits()),
            touched_ms: AtomicU64::new(touched_ms),
            // Relaxed: the numbers only need to be distinct and increase along each thread's
            // creations; series made at once by two threads have no order to keep.
            seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
            metric,
        })
    }

    /// When the series was created or last reset, in Unix seconds.
    pub(crate) fn created(&self) -> f64 {
        // Relaxed: a timestamp read at scrape time; it orders nothing.
        f64::from_bits(self.created.load(Ordering::Relaxed))
    }

    /// Marks the series as created now (after a reset, as OpenMetrics requires).
    pub(crate) fn recreate(&self) {
        self.created
            .store(clock::unix_seconds().to_bits(), Ordering::Relaxed);
    }
}
