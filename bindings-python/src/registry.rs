//! `CollectorRegistry`: a core [`Registry`] and its exposition.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use metricore::registry::{FamilySnapshot, SeriesValue};
use metricore::{Dialect, ErrorKind, Format, Registry};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::convert::{Arg, type_name};
use crate::errors::{IntoPyResult, type_error, unnamed_error};
use crate::metrics::ChildCache;
use crate::record::to_python;
use crate::sampler::PySampler;
use crate::snapshot::PyHistogramSnapshot;

/// A set of metric families, collected and exposed together (prometheus_client's
/// `CollectorRegistry`). Every metric registers into one at construction.
///
/// Thread-safe; collection and rendering release the GIL.
#[pyclass(frozen, module = "metricore._native", name = "CollectorRegistry")]
pub struct PyRegistry {
    pub(crate) inner: Registry,
    /// Family name -> the family's child cache (see `metrics::ChildCache`), shared by every
    /// Python object of that family so that `remove()` and `clear()` through any of them
    /// empty it.
    caches: Mutex<HashMap<String, Arc<ChildCache>>>,
}

impl PyRegistry {
    fn wrap(inner: Registry) -> Self {
        Self {
            inner,
            caches: Mutex::new(HashMap::new()),
        }
    }

    /// The child cache of family `name`, made on first use.
    pub(crate) fn cache(&self, py: Python<'_>, name: &str) -> Arc<ChildCache> {
        let mut caches = self.caches.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            caches
                .entry(name.to_owned())
                .or_insert_with(|| Arc::new(ChildCache::new(py))),
        )
    }
}

static DEFAULT: PyOnceLock<Py<PyRegistry>> = PyOnceLock::new();

/// The process-wide registry (`metricore.REGISTRY`), the core's default registry.
pub fn default_registry(py: Python<'_>) -> PyResult<&Py<PyRegistry>> {
    DEFAULT.get_or_try_init(py, || {
        Py::new(py, PyRegistry::wrap(metricore::default_registry().clone()))
    })
}

/// The registry for a constructor's `registry=` argument: left out, the default registry;
/// `None`, a registry of the metric's own (exposed nowhere, as in prometheus_client); else a
/// `CollectorRegistry`.
pub fn resolve_registry<'py>(
    py: Python<'py>,
    metric: &str,
    arg: Arg<'py>,
) -> PyResult<Bound<'py, PyRegistry>> {
    match arg {
        Arg::Missing => Ok(default_registry(py)?.bind(py).clone()),
        Arg::Given(r) if r.is_none() => Bound::new(py, PyRegistry::wrap(Registry::new())),
        Arg::Given(r) => match r.cast_into::<PyRegistry>() {
            Ok(r) => Ok(r),
            Err(e) => Err(type_error(
                py,
                metric,
                &format!(
                    "registry must be a metricore CollectorRegistry or None, not {}",
                    type_name(&e.into_inner())
                ),
            )),
        },
    }
}

fn series_value(py: Python<'_>, v: SeriesValue) -> PyResult<Py<PyAny>> {
    Ok(match v {
        // An `int` while the total is whole (counted events), a `float` once it has a fraction
        // or passes 2^64, as the core's JSON writes it.
        #[allow(clippy::float_cmp, clippy::cast_precision_loss)]
        SeriesValue::Counter { value, .. }
            if (0.0..u64::MAX as f64).contains(&value) && (value as u64) as f64 == value =>
        {
            (value as u64).into_pyobject(py)?.into_any().unbind()
        }
        SeriesValue::Counter { value, .. } => value.into_pyobject(py)?.into_any().unbind(),
        SeriesValue::SampledCounter { value } | SeriesValue::Gauge { value } => {
            value.into_pyobject(py)?.into_any().unbind()
        }
        SeriesValue::Histogram(s) => Py::new(py, PyHistogramSnapshot { inner: s })?.into_any(),
        _ => py.None(),
    })
}

fn family_dict(py: Python<'_>, f: FamilySnapshot) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &f.name)?;
    d.set_item("help", &f.help)?;
    d.set_item("unit", f.unit.as_deref())?;
    d.set_item("kind", f.kind.as_str())?;
    d.set_item("label_names", PyTuple::new(py, &f.label_names)?)?;
    let series = PyList::empty(py);
    for s in f.series {
        let sd = PyDict::new(py);
        sd.set_item(
            "labels",
            PyTuple::new(py, s.labels.iter().collect::<Vec<_>>())?,
        )?;
        sd.set_item("created", s.created)?;
        sd.set_item("value", series_value(py, s.value)?)?;
        series.append(sd)?;
    }
    d.set_item("series", series)?;
    Ok(d)
}

/// The dialect a render names; prometheus_client's reads its environment.
fn parse_dialect(py: Python<'_>, name: &str) -> PyResult<Dialect> {
    match name {
        "prometheus_client" => Ok(Dialect::prometheus_client_from_env()),
        "canonical" => Ok(Dialect::Canonical),
        "prom-client" => Ok(Dialect::PromClient),
        other => Err(unnamed_error(
            py,
            ErrorKind::InvalidConfig,
            &format!(
                "unknown exposition dialect {other:?} (dialects: \"prometheus_client\", \"canonical\", \"prom-client\")"
            ),
        )),
    }
}

/// The encoders write UTF-8 (they copy `str` pieces and ASCII).
fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[pymethods]
impl PyRegistry {
    /// An empty registry. `auto_describe` is accepted for prometheus_client compatibility and
    /// has no effect: metricore checks names when a metric is made.
    #[new]
    #[pyo3(signature = (auto_describe = false))]
    fn new(auto_describe: bool) -> Self {
        let _ = auto_describe;
        Self::wrap(Registry::new())
    }

    /// Every family in the Prometheus text format 0.0.4, spelled as `dialect` spells it:
    /// `"prometheus_client"` (the default: byte for byte what prometheus_client writes,
    /// `_created` samples included unless `PROMETHEUS_DISABLE_CREATED_SERIES` is true),
    /// `"canonical"` (metricore's own) or `"prom-client"`.
    ///
    /// Raises:
    ///     `InvalidConfigError`: an unknown dialect.
    #[pyo3(signature = (dialect = "prometheus_client"))]
    fn render_text(&self, py: Python<'_>, dialect: &str) -> PyResult<String> {
        let dialect = parse_dialect(py, dialect)?;
        Ok(py.detach(|| into_text(self.inner.render_with(Format::Text, dialect))))
    }

    /// Every family in the OpenMetrics 1.0.0 text format, ending with `# EOF`; `dialect` as
    /// for `render_text`.
    ///
    /// Raises:
    ///     `InvalidConfigError`: an unknown dialect.
    #[pyo3(signature = (dialect = "prometheus_client"))]
    fn render_openmetrics(&self, py: Python<'_>, dialect: &str) -> PyResult<String> {
        let dialect = parse_dialect(py, dialect)?;
        Ok(py.detach(|| into_text(self.inner.render_with(Format::OpenMetrics, dialect))))
    }

    /// Serves a scrape: the body in the format an HTTP `Accept` header asks for, and its
    /// `Content-Type`; `dialect` as for `render_text`.
    ///
    /// Raises:
    ///     `InvalidConfigError`: an unknown dialect.
    #[pyo3(signature = (accept = None, dialect = "prometheus_client"))]
    fn render_for_accept<'py>(
        &self,
        py: Python<'py>,
        accept: Option<&str>,
        dialect: &str,
    ) -> PyResult<(Bound<'py, PyBytes>, &'static str)> {
        let dialect = parse_dialect(py, dialect)?;
        let (body, content_type) = py.detach(|| self.inner.render_for_accept_with(accept, dialect));
        Ok((PyBytes::new(py, &body), content_type))
    }

    /// Every family as a JSON array (see `gather()` for the shape).
    fn to_json(&self, py: Python<'_>) -> String {
        py.detach(|| self.inner.to_json())
    }

    /// Every series at a glance: `{"counters": {...}, "gauges": {...}, "sampled_counters":
    /// {...}, "histograms": {...}, "collected_at": ...}`, keyed by series id such as
    /// `http_requests{method="GET"}`; histograms in base units plus a `latency` record in ms.
    fn summary(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = py.detach(|| self.inner.summary());
        to_python(py, &s)
    }

    /// The registry as a dict: family name -> the family's record, as in `to_json()`.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let families = py.detach(|| self.inner.gather());
        let out = PyDict::new(py);
        for f in &families {
            out.set_item(&f.name, to_python(py, f)?)?;
        }
        Ok(out.into_any().unbind())
    }

    /// Collects every family: a list of dicts with `name`, `help`, `unit`, `kind`
    /// (`"counter"`, `"gauge"`, `"histogram"`), `label_names` and `series`, each series a dict
    /// with `labels` (a tuple of values), `created` (Unix seconds) and `value` (an int for
    /// counters, a float for gauges, a `HistogramSnapshot` for histograms).
    fn gather<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let families = py.detach(|| self.inner.gather());
        let out = PyList::empty(py);
        for f in families {
            out.append(family_dict(py, f)?)?;
        }
        Ok(out)
    }

    /// Names of the registered families, in registration order (counters without `_total`).
    fn family_names(&self) -> Vec<String> {
        self.inner.family_names()
    }

    /// Removes a metric (or a family by name) from the registry; returns whether it was there.
    fn unregister(&self, metric: &Bound<'_, PyAny>) -> PyResult<bool> {
        let name = if let Ok(s) = metric.cast::<PyString>() {
            s.to_string()
        } else {
            metric.getattr("name")?.extract::<String>()?
        };
        self.caches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&name);
        Ok(self.inner.unregister(&name))
    }

    /// Evicts series idle past their metric's `idle_ttl`; returns how many.
    fn evict_idle(&self, py: Python<'_>) -> usize {
        py.detach(|| self.inner.evict_idle())
    }

    /// This registry's resource sampler (made stopped on the first call). Its latest sample is
    /// exposed with the registry under the `process_*` and `node_*` names.
    fn sampler(&self, py: Python<'_>) -> PyResult<PySampler> {
        let s = self.inner.sampler().py(py)?;
        Ok(PySampler { inner: s })
    }

    /// The value of one sample as a scrape would show it, or `None` (prometheus_client's
    /// `get_sample_value`), e.g. `get_sample_value("requests_total", {"method": "GET"})`.
    #[pyo3(signature = (name, labels = None))]
    fn get_sample_value(
        slf: &Bound<'_, Self>,
        name: &str,
        labels: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let helper = py
            .import("metricore._collect")?
            .getattr("get_sample_value")?;
        Ok(helper.call1((slf, name, labels))?.unbind())
    }

    fn __repr__(&self) -> String {
        format!(
            "CollectorRegistry(families={:?})",
            self.inner.family_names()
        )
    }
}
