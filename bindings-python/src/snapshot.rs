//! `HistogramSnapshot`: a frozen copy of a histogram, HDR V2 interchange and merging.

use metricore::stats::check_quantile;
use metricore::{HistogramSnapshot, Resolution};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::convert::{resolution_name, type_name};
use crate::errors::{IntoPyResult, type_error};
use crate::record::to_python;

/// A point-in-time copy of a histogram: HDR counts with exact count, sum, min and max.
///
/// Integers (`min`, `max`, `value_at_quantile`) are in the histogram's resolution
/// (microseconds by default); floats (`sum`, `quantile`) in base units (seconds for time).
/// Immutable, so safe to share between threads; `merge` returns a new snapshot.
#[pyclass(frozen, module = "metricore._native", name = "HistogramSnapshot")]
pub struct PyHistogramSnapshot {
    pub(crate) inner: HistogramSnapshot,
}

/// What one HDR V2 blob looks like as base64 (`HISTF…` for the deflate cookie 0x1c849304,
/// `HISTA…`/`HISTB…` for plain): the first three cookie bytes always encode to `HIST`.
const BASE64_PREFIX: &[u8] = b"HIST";

/// The raw bytes of a blob given as bytes (raw or base64) or as a base64 `str`.
pub fn blob_bytes(blob: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let py = blob.py();
    let raw: Vec<u8> = if let Ok(s) = blob.cast::<PyString>() {
        s.to_cow()?.as_bytes().to_vec()
    } else if let Ok(b) = blob.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else if let Ok(v) = blob.extract::<Vec<u8>>() {
        v
    } else {
        return Err(type_error(
            py,
            "hdr blob",
            &format!(
                "a V2 blob must be bytes or a base64 str, not {}",
                type_name(blob)
            ),
        ));
    };
    if raw.starts_with(BASE64_PREFIX) {
        let decoded = py
            .import("base64")?
            .call_method1("b64decode", (PyBytes::new(py, &raw),))?;
        return decoded.extract::<Vec<u8>>();
    }
    Ok(raw)
}

impl PyHistogramSnapshot {
    fn per_ms(&self) -> f64 {
        self.inner.resolution().per_base_unit() / 1e3
    }
}

#[pymethods]
impl PyHistogramSnapshot {
    /// Decodes an HdrHistogram V2 blob (plain or deflate; raw bytes, or base64 as `hdrh`'s
    /// `encode()` writes it) whose integers mean `resolution`.
    ///
    /// Raises:
    ///     `CorruptBlobError`: the bytes are not a V2 histogram.
    #[staticmethod]
    #[pyo3(signature = (blob, resolution = "microsecond"))]
    fn decode(py: Python<'_>, blob: &Bound<'_, PyAny>, resolution: &str) -> PyResult<Self> {
        let r = crate::convert::resolution(py, "hdr blob", resolution)?;
        let bytes = blob_bytes(blob)?;
        let inner = py
            .detach(|| HistogramSnapshot::decode_v2(&bytes, r))
            .py(py)?;
        Ok(Self { inner })
    }

    /// Number of recorded values.
    #[getter]
    fn count(&self) -> u64 {
        self.inner.count()
    }
    /// Exact sum in base units (seconds for time).
    #[getter]
    fn sum(&self) -> f64 {
        self.inner.sum()
    }
    /// Smallest recorded value, in recorded integers (0 when empty).
    #[getter]
    fn min(&self) -> u64 {
        self.inner.min()
    }
    /// Largest recorded value, in recorded integers (0 when empty).
    #[getter]
    fn max(&self) -> u64 {
        self.inner.max()
    }
    /// Exact mean, in recorded integers.
    #[getter]
    fn mean(&self) -> f64 {
        self.inner.mean()
    }
    /// Population standard deviation, in recorded integers.
    #[getter]
    fn stddev(&self) -> f64 {
        self.inner.stddev()
    }
    /// Values outside the range (above it, below zero, or infinite), counted at its nearest end.
    #[getter]
    fn saturated(&self) -> u64 {
        self.inner.saturated()
    }
    /// NaN values given: not counted, not in the sum.
    #[getter]
    fn rejected(&self) -> u64 {
        self.inner.rejected()
    }
    /// What one recorded integer means: `"nanosecond"`, `"microsecond"`, `"millisecond"`, `"unit"`.
    #[getter]
    fn resolution(&self) -> &'static str {
        resolution_name(self.inner.resolution())
    }
    /// Lowest discernible value, in recorded integers (`None` for any magnitude).
    #[getter]
    fn lowest(&self) -> Option<u64> {
        self.inner.layout().map(|l| l.lowest())
    }
    /// Highest trackable value, in recorded integers (`None` for any magnitude).
    #[getter]
    fn highest(&self) -> Option<u64> {
        self.inner.layout().map(|l| l.highest())
    }
    /// Significant decimal figures kept.
    #[getter]
    fn significant_figures(&self) -> u8 {
        self.inner.significant_figures()
    }

    /// The value at quantile `q` (0..=1) in recorded integers, exactly as HdrHistogram
    /// computes it (0 when empty).
    ///
    /// Raises:
    ///     `InvalidValueError`: `q` is NaN or outside 0..=1.
    fn value_at_quantile(&self, py: Python<'_>, q: f64) -> PyResult<u64> {
        let q = check_quantile(None, q).py(py)?;
        Ok(self.inner.value_at_quantile(q))
    }

    /// The value at quantile `q` (0..=1) in base units (seconds for time), within
    /// `[min, max]`.
    ///
    /// Raises:
    ///     `InvalidValueError`: `q` is NaN or outside 0..=1.
    fn quantile(&self, py: Python<'_>, q: f64) -> PyResult<f64> {
        let q = check_quantile(None, q).py(py)?;
        Ok(self.inner.quantile(q))
    }

    /// The value at `percentile` (0..=100) in milliseconds, clamped to `[min, max]`
    /// (the TypeScript era's unit; a `unit` histogram is read as seconds).
    ///
    /// Raises:
    ///     `InvalidValueError`: `percentile` is NaN or outside 0..=100.
    fn percentile_ms(&self, py: Python<'_>, percentile: f64) -> PyResult<f64> {
        let q = check_quantile(None, percentile / 100.0).py(py)?;
        Ok(self.inner.quantile_native(q) / self.per_ms())
    }

    /// `{"count", "mean_ms", "min_ms", "max_ms", "stddev_ms", "p50_ms", "p90_ms", "p95_ms",
    /// "p99_ms", "p999_ms"}` in milliseconds (the `LatencyStats` shape).
    fn latency_stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_python(py, &self.inner.latency_stats())
    }

    /// The JSON record of this snapshot: count, sum, min, max, mean, stddev and p50..p999 in
    /// base units, saturated, resolution and the cumulative buckets.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_python(py, &self.inner)
    }

    /// Cumulative Prometheus buckets as `(le, count)` pairs, `+Inf` last.
    fn buckets(&self) -> Vec<(f64, u64)> {
        self.inner
            .buckets()
            .iter()
            .map(|b| (b.le, b.cumulative_count))
            .collect()
    }

    /// Whether the bucket counts are exact (bounds were given) rather than derived from HDR counts.
    #[getter]
    fn buckets_exact(&self) -> bool {
        self.inner.buckets_exact()
    }

    /// `(lowest equivalent value, count)` for every non-zero HDR count, in value order.
    fn recorded_values(&self) -> Vec<(u64, u64)> {
        self.inner.recorded_values().collect()
    }

    /// An HdrHistogram V2 blob: deflate-compressed by default (what `hdrh` and
    /// `hdr-histogram-js` write before base64), or plain.
    #[pyo3(signature = (compressed = true))]
    ///
    /// Raises:
    ///     `InvalidConfigError`: an any-magnitude histogram has no V2 form.
    fn encode_v2<'py>(&self, py: Python<'py>, compressed: bool) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = py
            .detach(|| {
                if compressed {
                    self.inner.encode_v2_deflate()
                } else {
                    self.inner.encode_v2()
                }
            })
            .py(py)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The compressed V2 blob in base64, exactly what `hdrh.histogram.HdrHistogram.encode()`
    /// returns (`HdrHistogram.decode()` reads it back).
    fn encode<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let raw = py.detach(|| self.inner.encode_v2_deflate()).py(py)?;
        Ok(py
            .import("base64")?
            .call_method1("b64encode", (PyBytes::new(py, &raw),))?
            .cast_into::<PyBytes>()?)
    }

    /// A new snapshot holding this one's counts plus `other`'s (a snapshot, or a V2 blob in
    /// this snapshot's resolution).
    ///
    /// Raises:
    ///     `CorruptBlobError`: the blob is not V2, or the resolutions differ.
    fn merge(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        let mut merged = self.inner.clone();
        if let Ok(o) = other.cast::<Self>() {
            let o = &o.get().inner;
            py.detach(|| merged.merge(o)).py(py)?;
        } else {
            let bytes = blob_bytes(other)?;
            let r = self.inner.resolution();
            py.detach(|| {
                let decoded = HistogramSnapshot::decode_v2(&bytes, r)?;
                merged.merge(&decoded)
            })
            .py(py)?;
        }
        Ok(Self { inner: merged })
    }

    fn __repr__(&self) -> String {
        format!(
            "HistogramSnapshot(count={}, sum={}, min={}, max={}, resolution='{}')",
            self.inner.count(),
            self.inner.sum(),
            self.inner.min(),
            self.inner.max(),
            resolution_name(self.inner.resolution())
        )
    }
}

/// A snapshot from a snapshot object or a V2 blob, in `r` if it is a blob.
pub fn snapshot_arg(
    py: Python<'_>,
    other: &Bound<'_, PyAny>,
    r: Resolution,
) -> PyResult<HistogramSnapshot> {
    if let Ok(o) = other.cast::<PyHistogramSnapshot>() {
        return Ok(o.get().inner.clone());
    }
    let bytes = blob_bytes(other)?;
    py.detach(|| HistogramSnapshot::decode_v2(&bytes, r)).py(py)
}
