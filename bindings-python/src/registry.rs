//! `CollectorRegistry`: a core [`Registry`] and its exposition.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use metricore::registry::{FamilySnapshot, SeriesValue};
use metricore::{Dialect, ErrorKind, Format, Gauge, Registry};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyList, PyString, PyTuple};

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
#[pyclass(
    frozen,
    subclass,
    module = "metricore._native",
    name = "CollectorRegistry"
)]
pub struct PyRegistry {
    pub(crate) inner: Registry,
    /// Family name -> the family's child cache (see `metrics::ChildCache`), shared by every
    /// Python object of that family so that `remove()` and `clear()` through any of them
    /// empty it.
    caches: Mutex<HashMap<String, Arc<ChildCache>>>,
    /// Gauges whose value is a Python callable's result (`Gauge.set_function`), read at every
    /// collection; shared with the gauges of this registry.
    pub(crate) functions: Arc<FunctionGauges>,
    /// Whether `inner` is the core's default registry.
    core_default: bool,
}

/// `Gauge.set_function`'s callables, keyed by family name and label values. Each is called
/// under the GIL before a collection and its result set on the core gauge, so every reader of
/// the registry (renders, `gather`) sees the value prometheus_client would report.
#[derive(Default)]
pub struct FunctionGauges {
    entries: Mutex<HashMap<SeriesKey, (Gauge, Py<PyAny>)>>,
}

/// A series of a registry: family name and label values.
type SeriesKey = (String, Vec<String>);

impl FunctionGauges {
    /// Makes `gauge` read `f()` at every collection (replacing an earlier function).
    pub(crate) fn set(&self, name: &str, gauge: Gauge, f: Py<PyAny>) {
        let key = (name.to_owned(), gauge.label_values().to_vec());
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, (gauge, f));
    }

    /// Drops the functions of family `name` (all of them, or those of one child).
    pub(crate) fn forget(&self, name: &str, labels: Option<&[String]>) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(n, l), _| n != name || labels.is_some_and(|want| want != l.as_slice()));
    }

    /// Calls every function (of the families in `only`, if given) and sets its gauge; a
    /// function that raises propagates, as in prometheus_client (the collection fails).
    fn refresh(&self, py: Python<'_>, only: Option<&HashSet<String>>) -> PyResult<()> {
        let calls: Vec<(Gauge, Py<PyAny>)> = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|((name, _), _)| only.is_none_or(|o| o.contains(name)))
            .map(|(_, (g, f))| (g.clone(), f.clone_ref(py)))
            .collect();
        // `float(f())`, so a str or None raises as prometheus_client's does.
        let float = py.get_type::<PyFloat>();
        for (gauge, f) in calls {
            let v: f64 = float.call1((f.bind(py).call0()?,))?.extract()?;
            gauge.set(v);
        }
        Ok(())
    }
}

impl PyRegistry {
    /// The registry in `format`, after the function gauges are read; only the families named
    /// (or all but those excluded) when asked.
    fn render(
        &self,
        py: Python<'_>,
        format: Format,
        dialect: &str,
        created: Option<bool>,
        names: Option<Vec<String>>,
        exclude: Option<Vec<String>>,
    ) -> PyResult<String> {
        self.functions.refresh(py, None)?;
        let dialect = parse_dialect(py, dialect, created)?;
        Ok(py.detach(|| {
            into_text(match (names, exclude) {
                (None, None) => self.inner.render_with(format, dialect),
                (names, exclude) => {
                    let names: Option<HashSet<String>> = names.map(|n| n.into_iter().collect());
                    let families = select(self.inner.gather(), names.as_ref(), exclude);
                    metricore::encode_with(&families, format, dialect)
                }
            })
        }))
    }

    fn wrap(inner: Registry) -> Self {
        Self {
            inner,
            caches: Mutex::new(HashMap::new()),
            functions: Arc::default(),
            core_default: false,
        }
    }

    fn core_default() -> Self {
        Self {
            core_default: true,
            ..Self::wrap(metricore::default_registry().clone())
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

/// The process-wide registry (`metricore.REGISTRY`): the Python object the package made over
/// the core's default registry (`set_default_registry`), or, before that, a plain one.
pub fn default_registry(py: Python<'_>) -> PyResult<&Py<PyRegistry>> {
    DEFAULT.get_or_try_init(py, || Py::new(py, PyRegistry::core_default()))
}

/// Makes `registry` (an object of a `CollectorRegistry` subclass made with `_core_default=True`)
/// the registry metrics join when no `registry=` is given. The package calls it once at
/// import, before any metric exists; a later call fails.
///
/// Raises:
///     `InvalidConfigError`: the default registry was already chosen.
#[pyfunction]
pub fn set_default_registry(registry: Bound<'_, PyRegistry>) -> PyResult<()> {
    let py = registry.py();
    if !registry.get().core_default {
        return Err(unnamed_error(
            py,
            ErrorKind::InvalidConfig,
            "the default registry must wrap the core's default registry (_core_default=True)",
        ));
    }
    DEFAULT.set(py, registry.unbind()).map_err(|_| {
        unnamed_error(
            py,
            ErrorKind::InvalidConfig,
            "the default registry was already chosen",
        )
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
        SeriesValue::Histogram(s) | SeriesValue::Summary { snapshot: s, .. } => {
            Py::new(py, PyHistogramSnapshot { inner: s })?.into_any()
        }
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
/// `created` overrides whether prometheus_client's writes `_created` samples.
fn parse_dialect(py: Python<'_>, name: &str, created: Option<bool>) -> PyResult<Dialect> {
    match name {
        "prometheus_client" => Ok(match created {
            Some(created) => Dialect::PrometheusClient { created },
            None => Dialect::prometheus_client_from_env(),
        }),
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

/// The families named in `names` (all without it), less those named in `exclude`.
fn select(
    mut families: Vec<FamilySnapshot>,
    names: Option<&HashSet<String>>,
    exclude: Option<Vec<String>>,
) -> Vec<FamilySnapshot> {
    let exclude: HashSet<String> = exclude.into_iter().flatten().collect();
    families.retain(|f| names.is_none_or(|n| n.contains(&f.name)) && !exclude.contains(&f.name));
    families
}

/// The encoders write UTF-8 (they copy `str` pieces and ASCII).
fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[pymethods]
impl PyRegistry {
    /// An empty registry, or with `_core_default=True` one over the core's default registry
    /// (the package makes `REGISTRY` so). Other arguments are prometheus_client's
    /// (`auto_describe`, `target_info`), read by the Python subclass; metricore checks names
    /// when a metric is made.
    #[new]
    #[pyo3(signature = (*args, _core_default = false, **kwargs))]
    #[allow(
        clippy::used_underscore_binding,
        reason = "the keyword is the package's own, so Python spells it with a leading underscore"
    )]
    fn new(
        args: &Bound<'_, PyTuple>,
        _core_default: bool,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> Self {
        let _ = (args, kwargs);
        if _core_default {
            Self::core_default()
        } else {
            Self::wrap(Registry::new())
        }
    }

    /// Every family in the Prometheus text format 0.0.4, spelled as `dialect` spells it:
    /// `"prometheus_client"` (the default: byte for byte what prometheus_client writes,
    /// `_created` samples included unless `created=False`, or, with `created` left out,
    /// unless `PROMETHEUS_DISABLE_CREATED_SERIES` is true),
    /// `"canonical"` (metricore's own) or `"prom-client"`. With `names`, only the families of
    /// those names (counters without `_total`); with `exclude`, all but those.
    ///
    /// Raises:
    ///     `InvalidConfigError`: an unknown dialect.
    #[pyo3(signature = (dialect = "prometheus_client", created = None, names = None, exclude = None))]
    fn render_text(
        &self,
        py: Python<'_>,
        dialect: &str,
        created: Option<bool>,
        names: Option<Vec<String>>,
        exclude: Option<Vec<String>>,
    ) -> PyResult<String> {
        self.render(py, Format::Text, dialect, created, names, exclude)
    }

    /// Every family in the OpenMetrics 1.0.0 text format, ending with `# EOF`; `dialect`,
    /// `created` and `names` as for `render_text`.
    ///
    /// Raises:
    ///     `InvalidConfigError`: an unknown dialect.
    #[pyo3(signature = (dialect = "prometheus_client", created = None, names = None, exclude = None))]
    fn render_openmetrics(
        &self,
        py: Python<'_>,
        dialect: &str,
        created: Option<bool>,
        names: Option<Vec<String>>,
        exclude: Option<Vec<String>>,
    ) -> PyResult<String> {
        self.render(py, Format::OpenMetrics, dialect, created, names, exclude)
    }

    /// Serves a scrape: the body in the format an HTTP `Accept` header asks for, and its
    /// `Content-Type`; `dialect` as for `render_text`.
    ///
    /// Raises:
    ///     `InvalidConfigError`: an unknown dialect.
    #[pyo3(signature = (accept = None, dialect = "prometheus_client", created = None))]
    fn render_for_accept<'py>(
        &self,
        py: Python<'py>,
        accept: Option<&str>,
        dialect: &str,
        created: Option<bool>,
    ) -> PyResult<(Bound<'py, PyBytes>, &'static str)> {
        self.functions.refresh(py, None)?;
        let dialect = parse_dialect(py, dialect, created)?;
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
    /// counters, a float for gauges, a `HistogramSnapshot` for histograms and summaries).
    /// With `names`, only the families of those names (and only their `set_function`s are
    /// called).
    #[pyo3(signature = (names = None))]
    fn gather<'py>(
        &self,
        py: Python<'py>,
        names: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let families = match names {
            None => {
                self.functions.refresh(py, None)?;
                py.detach(|| self.inner.gather())
            }
            Some(names) => {
                let names: HashSet<String> = names.into_iter().collect();
                self.functions.refresh(py, Some(&names))?;
                py.detach(|| select(self.inner.gather(), Some(&names), None))
            }
        };
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

    /// Each family's name with the sample names it exposes (`x`, `x_total`, `x_bucket`, …),
    /// in registration order.
    fn sample_names(&self) -> Vec<(String, Vec<String>)> {
        self.inner.sample_names()
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
        self.functions.forget(&name, None);
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

    fn __repr__(&self) -> String {
        format!(
            "CollectorRegistry(families={:?})",
            self.inner.family_names()
        )
    }
}
