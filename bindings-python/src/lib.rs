//! `metricore._native`: the Python extension module of the `metricore` package.
//!
//! A thin skin over the core's handles: every class holds a core handle (an `Arc`) and each
//! method is one call into it, so no metrics logic lives here. What is here is Python's side
//! of the contract: argument shapes that follow prometheus_client, Python types checked with
//! errors that name the metric, core errors mapped to one exception hierarchy (`errors`), and
//! the GIL released around work that grows with data (rendering, snapshots, merges, V2
//! encoding, the sampler) but never around a single increment.
//!
//! Free threading: every class is `frozen` (no interior `RefCell`), and all mutable state
//! lives in the core's atomics and locks, which are `Sync`; the module declares
//! `gil_used = false` on that basis, and `tests/test_threads.py` keeps the stress test.

mod convert;
mod errors;
mod meter;
mod metrics;
mod record;
mod registry;
mod sampler;
mod samples;
mod snapshot;

use pyo3::prelude::*;

/// The extension module. The public API is the pure-Python package `metricore`.
#[pymodule(gil_used = false)]
mod _native {
    #[pymodule_export]
    use crate::meter::{PyMeter, PyThroughput};
    #[pymodule_export]
    use crate::metrics::{PyCounter, PyGauge, PyHistogram, PySummary, set_context_managers};
    #[pymodule_export]
    use crate::registry::{PyRegistry, set_default_registry};
    #[pymodule_export]
    use crate::sampler::{PySampler, profile_operation};
    #[pymodule_export]
    use crate::samples::render_samples;
    #[pymodule_export]
    use crate::snapshot::PyHistogramSnapshot;

    use pyo3::prelude::*;
    use pyo3::types::PyTuple;

    /// Picks the exposition for an HTTP `Accept` header: `(format, content_type)` with format
    /// `"text"` (Prometheus 0.0.4) or `"openmetrics"` (OpenMetrics 1.0.0).
    #[pyfunction]
    #[pyo3(signature = (accept = None))]
    fn negotiate(accept: Option<&str>) -> (&'static str, &'static str) {
        let f = metricore::negotiate(accept);
        let name = match f {
            metricore::Format::OpenMetrics => "openmetrics",
            metricore::Format::Text => "text",
        };
        (name, f.content_type())
    }

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        let py = m.py();
        crate::errors::add_to_module(m)?;
        let mut buckets: Vec<f64> = crate::metrics::DEFAULT_BUCKETS.to_vec();
        buckets.push(f64::INFINITY);
        m.add("DEFAULT_BUCKETS", PyTuple::new(py, buckets)?)?;
        m.add("CONTENT_TYPE_TEXT", metricore::Format::Text.content_type())?;
        m.add(
            "CONTENT_TYPE_OPENMETRICS",
            metricore::Format::OpenMetrics.content_type(),
        )?;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add(
            "DEFAULT_CARDINALITY_LIMIT",
            crate::metrics::CARDINALITY_LIMIT,
        )?;
        Ok(())
    }
}
