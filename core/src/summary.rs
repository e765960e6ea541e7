//! Summaries: a histogram exposed as quantiles.
//!
//! A summary records exactly as a [`Histogram`] does (any magnitude by default, so any
//! quantile can be read and merged; infinities count as saturated and NaN as rejected,
//! both reported by the registry's self-metrics), but it is exposed the way Prometheus
//! summaries are: one
//! `{quantile="q"}` sample per configured quantile, plus `_sum` and `_count`. As in
//! prom-client and `client_golang`, `_sum` and `_count` cover all time while the
//! quantiles cover the sliding window when there is one (prom-client's `maxAgeSeconds`
//! and `ageBuckets` are the window's span and sub-windows). A quantile of an empty
//! window is NaN, as Prometheus clients write it.

use std::ops::Deref;
use std::sync::Arc;

use crate::collect::SeriesValue;
use crate::error::{Error, ErrorKind, Result};
use crate::histogram::{Histogram, HistogramCell, HistogramOpts, HistogramShape};
use crate::window::WindowOpts;

/// prom-client's default percentiles.
pub const DEFAULT_QUANTILES: [f64; 7] = [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999];

/// How to build a summary: the histogram it records into and the quantiles it exposes.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryOpts {
    histogram: HistogramOpts,
    quantiles: Vec<f64>,
}

impl Default for SummaryOpts {
    fn default() -> Self {
        Self {
            histogram: HistogramOpts::new(),
            quantiles: DEFAULT_QUANTILES.to_vec(),
        }
    }
}

impl SummaryOpts {
    /// prom-client's default quantiles over all time, recording into a default histogram:
    /// any magnitude and sign at 3 significant figures, so a summary of milliseconds,
    /// bytes or queue lengths reads back what it was given.
    pub fn new() -> Self {
        Self::default()
    }

    /// The quantiles to expose, each within 0..=1 (any order; repeats are dropped).
    #[must_use]
    pub fn quantiles(mut self, quantiles: impl Into<Vec<f64>>) -> Self {
        self.quantiles = quantiles.into();
        self
    }

    /// Computes the quantiles over a sliding window instead of all time.
    #[must_use]
    pub fn window(mut self, window: WindowOpts) -> Self {
        self.histogram = self.histogram.window(window);
        self
    }

    /// Records into a histogram of these options (range, precision, resolution; bucket
    /// bounds are not exposed by a summary).
    #[must_use]
    pub fn histogram(mut self, histogram: HistogramOpts) -> Self {
        let window = self.histogram.get_window();
        self.histogram = histogram;
        if let (None, Some(w)) = (self.histogram.get_window(), window) {
            self.histogram = self.histogram.window(w);
        }
        self
    }

    /// The checked quantiles (sorted, without repeats) and the shape they go with.
    pub(crate) fn prepare(&self, name: &str) -> Result<Arc<HistogramShape>> {
        if let Some(q) = self.quantiles.iter().find(|q| !(0.0..=1.0).contains(*q)) {
            return Err(Error::for_metric(
                ErrorKind::InvalidConfig,
                name,
                format!("a summary quantile must be within 0..=1, not {q}"),
            ));
        }
        let mut quantiles = self.quantiles.clone();
        quantiles.sort_by(f64::total_cmp);
        quantiles.dedup();
        HistogramShape::with_quantiles(name, &self.histogram, quantiles.into())
    }
}

/// A handle to one summary series: a [`Histogram`] (every recording method is there,
/// through `Deref`) that the registry exposes as quantiles.
#[derive(Clone)]
#[must_use = "summaries do nothing unless you use them"]
pub struct Summary(pub(crate) Histogram);

impl Deref for Summary {
    type Target = Histogram;

    fn deref(&self) -> &Histogram {
        &self.0
    }
}

impl From<Summary> for Histogram {
    /// The histogram the summary records into (the same series).
    fn from(s: Summary) -> Self {
        s.0
    }
}

impl std::fmt::Debug for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Summary").field(&self.0).finish()
    }
}

/// A summary series' value at collection time.
pub(crate) fn value(cell: &HistogramCell) -> SeriesValue {
    let all = cell.snapshot();
    let window = cell.window_snapshot();
    let source = window.as_ref().unwrap_or(&all);
    let quantiles: Vec<(f64, f64)> = cell
        .shape()
        .quantiles
        .iter()
        .map(|&q| {
            let v = if source.count() == 0 {
                f64::NAN
            } else {
                source.quantile(q)
            };
            (q, v)
        })
        .collect();
    SeriesValue::Summary {
        snapshot: all,
        quantiles,
    }
}
