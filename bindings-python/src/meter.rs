//! `Meter` and `Throughput`: events and rates.

use metricore::window::WindowOpts;
use metricore::{Meter, Throughput};
use pyo3::prelude::*;

use crate::convert::{float_value, whole_option, whole_u64};
use crate::errors::IntoPyResult;
use crate::record::to_python;

/// The window of a meter named `what`, from the constructor's arguments (60 s in 6 parts
/// when left out).
fn window(
    py: Python<'_>,
    what: &str,
    seconds: Option<&Bound<'_, PyAny>>,
    sub_windows: Option<&Bound<'_, PyAny>>,
) -> PyResult<WindowOpts> {
    let seconds = seconds.map_or(Ok(60.0), |s| float_value(what, "window_seconds", s))?;
    let sub_windows = sub_windows.map_or(Ok(6), |n| whole_option::<u32>(what, "sub_windows", n))?;
    WindowOpts::from_secs(what, seconds, sub_windows).py(py)
}

/// Events and the rates at which they happen, all per second: the mean rate, Dropwizard's
/// 1/5/15-minute EWMA rates (ticked every 5 s) and the exact rate over a sliding window
/// (the last 60 s in 6 sub-windows by default). Thread-safe.
#[pyclass(frozen, module = "metricore._native", name = "Meter")]
pub struct PyMeter {
    inner: Meter,
}

#[pymethods]
impl PyMeter {
    /// A meter whose windowed rate covers the last `window_seconds`.
    #[new]
    #[pyo3(
        signature = (window_seconds = None, sub_windows = None),
        text_signature = "(window_seconds=60.0, sub_windows=6)"
    )]
    fn new(
        py: Python<'_>,
        window_seconds: Option<&Bound<'_, PyAny>>,
        sub_windows: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(Self {
            inner: Meter::with_window(window(py, "meter", window_seconds, sub_windows)?),
        })
    }

    /// Records `n` events (one by default).
    #[pyo3(signature = (n = None), text_signature = "(self, n=1)")]
    fn mark(&self, n: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let n = n.map_or(Ok(1), |n| whole_u64("meter", "mark()'s n", n))?;
        self.inner.mark_n(n);
        Ok(())
    }

    /// Events since creation.
    #[getter]
    fn count(&self) -> u64 {
        self.inner.count()
    }

    /// Events per second since creation.
    #[getter]
    fn mean_rate(&self) -> f64 {
        self.inner.mean_rate()
    }

    /// The 1-minute exponentially weighted rate (0 until the first 5-second tick).
    #[getter]
    fn one_minute_rate(&self) -> f64 {
        self.inner.one_minute_rate()
    }

    /// The 5-minute exponentially weighted rate.
    #[getter]
    fn five_minute_rate(&self) -> f64 {
        self.inner.five_minute_rate()
    }

    /// The 15-minute exponentially weighted rate.
    #[getter]
    fn fifteen_minute_rate(&self) -> f64 {
        self.inner.fifteen_minute_rate()
    }

    /// Events per second over the sliding window.
    #[getter]
    fn rate_per_second(&self) -> f64 {
        self.inner.rate_per_second()
    }

    /// Events per minute over the sliding window.
    #[getter]
    fn rate_per_minute(&self) -> f64 {
        self.inner.rate_per_minute()
    }

    /// Events within the sliding window.
    #[getter]
    fn count_in_window(&self) -> u64 {
        self.inner.count_in_window()
    }

    /// Every figure at once: `count`, `mean_rate`, `one_minute_rate`, `five_minute_rate`,
    /// `fifteen_minute_rate`, `rate_per_second`, `window_seconds`.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_python(py, &self.inner.snapshot())
    }

    fn __repr__(&self) -> String {
        format!("Meter(count={})", self.inner.count())
    }
}

/// Requests, tokens and bytes per second over a sliding window (the
/// `ThroughputStats` shape). Thread-safe.
#[pyclass(frozen, module = "metricore._native", name = "Throughput")]
pub struct PyThroughput {
    inner: Throughput,
}

#[pymethods]
impl PyThroughput {
    /// Rates over the last `window_seconds`.
    #[new]
    #[pyo3(
        signature = (window_seconds = None, sub_windows = None),
        text_signature = "(window_seconds=60.0, sub_windows=6)"
    )]
    fn new(
        py: Python<'_>,
        window_seconds: Option<&Bound<'_, PyAny>>,
        sub_windows: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(Self {
            inner: Throughput::with_window(window(py, "throughput", window_seconds, sub_windows)?),
        })
    }

    /// Records `requests` requests carrying `tokens` tokens and `bytes` bytes in all.
    #[pyo3(
        signature = (requests = None, tokens = None, bytes = None),
        text_signature = "(self, requests=1, tokens=0, bytes=0)"
    )]
    fn record(
        &self,
        requests: Option<&Bound<'_, PyAny>>,
        tokens: Option<&Bound<'_, PyAny>>,
        bytes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let tally = |v: Option<&Bound<'_, PyAny>>, what: &str, default: u64| {
            v.map_or(Ok(default), |v| whole_u64("throughput", what, v))
        };
        self.inner.record(
            tally(requests, "requests", 1)?,
            tally(tokens, "tokens", 0)?,
            tally(bytes, "bytes", 0)?,
        );
        Ok(())
    }

    /// `{"requests_per_second", "tokens_per_second", "bytes_per_second", "window_seconds"}`.
    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_python(py, &self.inner.stats())
    }
}
