//! `Counter`, `Gauge` and `Histogram`, shaped like prometheus_client's.
//!
//! One Python object is either a metric without labels, a labelled parent (which only hands
//! out children through `labels()`), or such a child. Each holds the core family (to look up
//! children) and, when it can record, the core handle: the hot path (`inc`, `set`, `observe`)
//! is one call into the handle, with the GIL held (releasing it costs more than the work).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use metricore::clock;
use metricore::registry::{Family, Metric, OVERFLOW_LABEL_VALUE};
use metricore::stats::check_quantile;
use metricore::window::WindowOpts;
use metricore::{
    Counter, ErrorKind, Gauge, Histogram, HistogramOpts, MetricOpts, SeriesOrder, Summary,
    SummaryOpts,
};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};
use pyo3::{PyClass, PyClassInitializer};

use crate::convert::{
    Arg, CounterAmount, counter_amount, exemplar_pairs, float_value, label_names, label_pairs,
    label_values, type_name, whole_option, whole_u64,
};
use crate::errors::{IntoPyResult, binding_error, type_error};
use crate::registry::{FunctionGauges, PyRegistry, resolve_registry};
use crate::snapshot::{PyHistogramSnapshot, snapshot_arg};

/// The default `cardinality_limit=` in the constructors' signatures (written as a literal
/// there so that Python shows it); `tests/test_api.py` checks it against the core's default.
pub const CARDINALITY_LIMIT: usize = metricore::registry::DEFAULT_CARDINALITY_LIMIT;

/// The core's default highest trackable value (60 s in microseconds).
const DEFAULT_HIGHEST: u64 = 60_000_000;

/// Name, help, labels and limits of a family, validated by the core at registration.
#[allow(
    clippy::too_many_arguments,
    reason = "mirrors the keyword arguments of the Python constructors"
)]
fn metric_opts(
    py: Python<'_>,
    name: &str,
    documentation: &str,
    labelnames: Option<&Bound<'_, PyAny>>,
    namespace: &str,
    subsystem: &str,
    unit: &str,
    cardinality_limit: Option<&Bound<'_, PyAny>>,
    idle_ttl: Option<&Bound<'_, PyAny>>,
) -> PyResult<MetricOpts> {
    let cardinality_limit = cardinality_limit.map_or(Ok(CARDINALITY_LIMIT), |v| {
        whole_option::<usize>(name, "cardinality_limit", v)
    })?;
    let mut opts = MetricOpts::new(name, documentation)
        .labels(label_names(name, labelnames)?)
        .namespace(namespace)
        .subsystem(subsystem)
        .unit(unit)
        .cardinality_limit(cardinality_limit)
        // Children are exposed in the order they were first used, as prometheus_client does.
        .series_order(SeriesOrder::FirstUse);
    if let Some(secs) = idle_ttl.filter(|v| !v.is_none()) {
        let secs = float_value(name, "idle_ttl", secs)?;
        let ttl = clock::duration_from_secs(name, "idle_ttl", secs).py(py)?;
        if ttl.is_zero() {
            return Err(binding_error(
                py,
                ErrorKind::InvalidConfig,
                name,
                &format!("idle_ttl must be a positive number of seconds, not {secs}"),
            ));
        }
        opts = opts.idle_ttl(ttl);
    }
    Ok(opts)
}

/// The child of `family` for `labels(*values, **kw)`.
fn lookup<M: Metric>(
    py: Python<'_>,
    family: &Family<M>,
    is_child: bool,
    values: &Bound<'_, PyTuple>,
    kw: Option<&Bound<'_, PyDict>>,
) -> PyResult<M> {
    let name = family.name();
    let bad = |rule: &str| binding_error(py, ErrorKind::InvalidLabels, name, rule);
    if family.label_names().is_empty() {
        return Err(bad(
            "has no label names; record on it directly, without labels()",
        ));
    }
    if is_child {
        return Err(bad("labels() was already applied to this child"));
    }
    match kw.filter(|k| !k.is_empty()) {
        Some(_) if !values.is_empty() => Err(bad(
            "give label values either by position or by name, not both",
        )),
        Some(kw) => {
            let pairs = label_pairs(name, kw)?;
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, &**v)).collect();
            family.with_labels(&refs).py(py)
        }
        None => {
            let vals = label_values(name, values)?;
            family.with_label_values(&vals).py(py)
        }
    }
}

fn remove<M: Metric>(
    py: Python<'_>,
    family: &Family<M>,
    values: &Bound<'_, PyTuple>,
) -> PyResult<()> {
    if family.label_names().is_empty() {
        return Err(binding_error(
            py,
            ErrorKind::InvalidLabels,
            family.name(),
            "has no label names; there is no child to remove",
        ));
    }
    let vals: Vec<PyBackedStr> = label_values(family.name(), values)?;
    family.remove(&vals).py(py).map(|_| ())
}

/// `remove_by_labels` for any kind: every child whose labels include all of `labels`.
fn remove_by_labels<M: Metric>(
    py: Python<'_>,
    family: &Family<M>,
    cache: Option<&Arc<ChildCache>>,
    labels: &Bound<'_, PyAny>,
) -> PyResult<()> {
    if family.label_names().is_empty() {
        return Err(binding_error(
            py,
            ErrorKind::InvalidLabels,
            family.name(),
            "has no label names; there is no child to remove",
        ));
    }
    let Ok(labels) = labels.cast::<PyDict>() else {
        return Err(type_error(
            py,
            family.name(),
            &format!(
                "remove_by_labels() takes a dict of label names to values, not {}",
                type_name(labels)
            ),
        ));
    };
    let pairs = label_pairs(family.name(), labels)?;
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, &**v)).collect();
    match cache {
        Some(c) => c.invalidate(py, || family.remove_matching(&refs)),
        None => family.remove_matching(&refs),
    }
    .py(py)
    .map(|_| ())
}

#[cold]
fn missing_labels(py: Python<'_>, kind: &str, name: &str, labels: &[String]) -> PyErr {
    binding_error(
        py,
        ErrorKind::InvalidLabels,
        name,
        &format!(
            "{kind} metric is missing label values (label names: {}); call labels(...) and record on the child",
            labels.join(", ")
        ),
    )
}

/// The context managers behind `time()`, `track_inprogress()` and `count_exceptions()`:
/// Python classes (clearer there, and never on the hot path) that the package hands over once
/// at import (`set_context_managers`), so this module never imports its own package.
static CONTEXT_MANAGERS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Hands over the object whose attributes `Timer`, `InprogressTracker` and `ExceptionCounter`
/// are the context-manager classes the metrics return; called once by the package at import.
///
/// Raises:
///     `InvalidConfigError`: already called.
#[pyfunction]
pub fn set_context_managers(namespace: Bound<'_, PyAny>) -> PyResult<()> {
    let py = namespace.py();
    CONTEXT_MANAGERS.set(py, namespace.unbind()).map_err(|_| {
        crate::errors::unnamed_error(
            py,
            ErrorKind::InvalidConfig,
            "the context managers were already set",
        )
    })
}

fn context_helper<'py>(
    py: Python<'py>,
    helper: &str,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<Py<PyAny>> {
    let Some(ns) = CONTEXT_MANAGERS.get(py) else {
        return Err(crate::errors::unnamed_error(
            py,
            ErrorKind::InvalidConfig,
            "metricore._native used without the metricore package: import metricore first",
        ));
    };
    Ok(ns.bind(py).getattr(helper)?.call1(args)?.unbind())
}

fn repr(kind: &str, name: &str, child_labels: Option<Vec<String>>) -> String {
    match child_labels {
        Some(l) if !l.is_empty() => format!("{kind}(name={name:?}, labels={l:?})"),
        _ => format!("{kind}(name={name:?})"),
    }
}

// ------------------------------------------------------------------------------------ cache

/// The children a labelled family has handed out, keyed by the exact `labels()` argument
/// tuple, so `c.labels("GET").inc()` without a kept handle costs a dict lookup instead of a
/// UTF-8 conversion, a core lookup and a new Python object. It is only a cache of Python
/// objects over the core's map; the core stays the one place series live:
///
/// - only tuples of exact `str` are cached (their hashing and equality run no user code);
/// - the overflow series is never cached, so every overflowing lookup reaches the core and is
///   counted there; families with an idle TTL have no cache, so every lookup marks the series
///   as used;
/// - one cache per family and registry, shared by all Python objects of the family, emptied by
///   `remove()` and `clear()`; `generation` keeps a lookup that raced with a removal (possible
///   under free threading) from caching the removed child.
pub struct ChildCache {
    dict: Py<PyDict>,
    generation: AtomicU64,
    lock: Mutex<()>,
}

impl ChildCache {
    pub(crate) fn new(py: Python<'_>) -> Self {
        Self {
            dict: PyDict::new(py).unbind(),
            generation: AtomicU64::new(0),
            lock: Mutex::new(()),
        }
    }

    #[inline]
    fn get<'py>(&self, key: &Bound<'py, PyTuple>) -> Option<Bound<'py, PyAny>> {
        self.dict.bind(key.py()).get_item(key).ok().flatten()
    }

    fn generation(&self) -> u64 {
        // Acquire: pairs with the Release in `invalidate`.
        self.generation.load(Ordering::Acquire)
    }

    fn insert(&self, key: &Bound<'_, PyTuple>, child: &Bound<'_, PyAny>, seen: u64) {
        if !key.iter().all(|v| v.is_exact_instance_of::<PyString>()) {
            return;
        }
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        if self.generation() == seen {
            // A failed insert only means no caching.
            let _ = self.dict.bind(key.py()).set_item(key, child);
        }
    }

    /// Runs `f` (a removal from the core) with the cache emptied around it.
    fn invalidate<R>(&self, py: Python<'_>, f: impl FnOnce() -> R) -> R {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        // Release: a lookup that read the old generation will not insert.
        self.generation.fetch_add(1, Ordering::Release);
        let r = f();
        self.dict.bind(py).clear();
        r
    }
}

/// The cache for a new Python object of a family in `registry` (none without labels or with
/// an idle TTL).
fn cache_for(
    py: Python<'_>,
    registry: &Bound<'_, PyRegistry>,
    name: &str,
    labelled: bool,
    idle_ttl: Option<&Bound<'_, PyAny>>,
) -> Option<Arc<ChildCache>> {
    (labelled && idle_ttl.is_none()).then(|| registry.get().cache(py, name))
}

/// `labels()` for any kind: the cached child, or a new one from the core.
#[allow(
    clippy::too_many_arguments,
    reason = "one helper for the three metric classes"
)]
fn labels_impl<'py, M, T>(
    py: Python<'py>,
    family: &Family<M>,
    is_child: bool,
    cache: Option<&Arc<ChildCache>>,
    values: &Bound<'py, PyTuple>,
    kw: Option<&Bound<'py, PyDict>>,
    overflow_of: impl FnOnce(&M) -> bool,
    make: impl FnOnce(M) -> T,
) -> PyResult<Bound<'py, PyAny>>
where
    M: Metric,
    T: PyClass + Into<PyClassInitializer<T>>,
{
    let by_position = kw.is_none_or(PyDictMethods::is_empty);
    if by_position && let Some(hit) = cache.and_then(|c| c.get(values)) {
        return Ok(hit);
    }
    let seen = cache.map_or(0, |c| c.generation());
    let child = lookup(py, family, is_child, values, kw)?;
    let overflow = overflow_of(&child);
    let obj = Bound::new(py, make(child))?.into_any();
    if by_position
        && !overflow
        && let Some(c) = cache
    {
        c.insert(values, &obj, seen);
    }
    Ok(obj)
}

/// Whether a child is the family's overflow series (never cached).
fn is_overflow(values: &metricore::LabelValues) -> bool {
    values.iter().all(|v| v == OVERFLOW_LABEL_VALUE)
}

// ------------------------------------------------------------------------------------ Counter

/// A monotonic counter of whole events (prometheus_client's `Counter`).
///
/// The name is given without `_total` (which is added at exposition and accepted and removed
/// when given, as prometheus_client does). Values are unsigned 64-bit integers.
#[pyclass(frozen, module = "metricore._native", name = "Counter")]
pub struct PyCounter {
    family: Family<Counter>,
    child: Option<Counter>,
    cache: Option<Arc<ChildCache>>,
}

impl PyCounter {
    #[inline]
    fn handle(&self, py: Python<'_>) -> PyResult<&Counter> {
        match &self.child {
            Some(c) => Ok(c),
            None => Err(missing_labels(
                py,
                "counter",
                self.family.name(),
                self.family.label_names(),
            )),
        }
    }
}

#[pymethods]
impl PyCounter {
    /// Registers (or finds the identical) counter family.
    ///
    /// Raises:
    ///     `InvalidNameError`, `ConflictError`, `InvalidConfigError`, `MetricTypeError`.
    #[new]
    #[pyo3(signature = (name, documentation, labelnames = None, namespace = "", subsystem = "",
        unit = "", registry = Arg::Missing, *, cardinality_limit = None, idle_ttl = None),
        text_signature = "(name, documentation, labelnames=None, namespace=\"\", subsystem=\"\", unit=\"\", registry=..., *, cardinality_limit=10000, idle_ttl=None)")]
    #[allow(clippy::too_many_arguments, reason = "prometheus_client's signature")]
    fn new(
        py: Python<'_>,
        name: &str,
        documentation: &str,
        labelnames: Option<&Bound<'_, PyAny>>,
        namespace: &str,
        subsystem: &str,
        unit: &str,
        registry: Arg<'_>,
        cardinality_limit: Option<&Bound<'_, PyAny>>,
        idle_ttl: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let opts = metric_opts(
            py,
            name,
            documentation,
            labelnames,
            namespace,
            subsystem,
            unit,
            cardinality_limit,
            idle_ttl,
        )?;
        let registry = resolve_registry(py, name, registry)?;
        let family = registry.get().inner.counter_family(opts).py(py)?;
        let labelled = !family.label_names().is_empty();
        let child = if labelled {
            None
        } else {
            Some(family.with_label_values::<&str>(&[]).py(py)?)
        };
        let cache = cache_for(py, &registry, family.name(), labelled, idle_ttl);
        Ok(Self {
            family,
            child,
            cache,
        })
    }

    /// Adds `amount` (any finite number from 0 up, fractions included; 1 by default);
    /// `exemplar` is a dict of OpenMetrics exemplar labels such as `{"trace_id": "abc"}`.
    ///
    /// Raises:
    ///     `InvalidValueError`: negative, NaN or infinite amount (nothing is added).
    ///     `MetricTypeError`: amount is not a number.
    #[pyo3(signature = (amount = None, exemplar = None))]
    #[inline]
    fn inc(
        &self,
        py: Python<'_>,
        amount: Option<&Bound<'_, PyAny>>,
        exemplar: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let c = self.handle(py)?;
        let amount = match amount {
            None => CounterAmount::Whole(1),
            Some(a) => counter_amount(self.family.name(), a)?,
        };
        // The core names the metric "counter" in exemplar errors (it does not know the
        // family's name there); name the family instead.
        let named = |e: metricore::Error| binding_error(py, e.kind(), self.family.name(), e.rule());
        match (amount, exemplar) {
            (CounterAmount::Whole(n), None) => c.inc_by(n),
            (CounterAmount::Float(v), None) => c.add(v).map_err(named)?,
            (amount, Some(e)) => {
                let pairs = exemplar_pairs(self.family.name(), e)?;
                let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, &**v)).collect();
                match amount {
                    CounterAmount::Whole(n) => c.inc_by_with_exemplar(n, &refs),
                    CounterAmount::Float(v) => c.add_with_exemplar(v, &refs),
                }
                .map_err(named)?;
            }
        }
        Ok(())
    }

    /// The child for these label values, by position or by name; created on first use.
    ///
    /// Raises:
    ///     `InvalidLabelsError`: wrong count, unknown or missing names, or no label names.
    #[pyo3(signature = (*labelvalues, **labelkwargs))]
    fn labels<'py>(
        &self,
        py: Python<'py>,
        labelvalues: &Bound<'py, PyTuple>,
        labelkwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        labels_impl(
            py,
            &self.family,
            self.child.is_some(),
            self.cache.as_ref(),
            labelvalues,
            labelkwargs,
            |c| is_overflow(c.label_values()),
            |c| Self {
                family: self.family.clone(),
                child: Some(c),
                cache: None,
            },
        )
    }

    /// Removes the child with these label values (handles already taken keep counting, but
    /// are no longer exposed).
    #[pyo3(signature = (*labelvalues))]
    fn remove(&self, py: Python<'_>, labelvalues: &Bound<'_, PyTuple>) -> PyResult<()> {
        match &self.cache {
            Some(c) => c.invalidate(py, || remove(py, &self.family, labelvalues)),
            None => remove(py, &self.family, labelvalues),
        }
    }

    /// Removes every child.
    fn clear(&self, py: Python<'_>) {
        match &self.cache {
            Some(c) => c.invalidate(py, || self.family.clear()),
            None => self.family.clear(),
        }
    }

    /// The current total, fractions included.
    fn get(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.handle(py)?.value())
    }

    /// Sets the total back to zero and restarts its `_created` time.
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.handle(py)?.reset();
        Ok(())
    }

    /// A context manager and decorator that counts exceptions of type `exception` raised in
    /// its block (they still propagate).
    #[pyo3(signature = (exception = None))]
    fn count_exceptions(
        slf: &Bound<'_, Self>,
        exception: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        slf.get().handle(py)?;
        context_helper(py, "ExceptionCounter", (slf, exception))
    }

    /// The family's full name (without `_total`).
    #[getter]
    fn name(&self) -> &str {
        self.family.name()
    }

    /// The label names.
    #[getter]
    fn labelnames<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.family.label_names())
    }

    /// This child's label values (empty without labels or on a labelled parent).
    #[getter]
    fn labelvalues(&self) -> Vec<String> {
        self.child
            .as_ref()
            .map(|c| c.label_values().to_vec())
            .unwrap_or_default()
    }

    /// Removes every child whose labels include all of `labels` (a dict of label names to
    /// values), as prometheus_client's `remove_by_labels`; `{}` removes nothing.
    ///
    /// Raises:
    ///     `InvalidLabelsError`: a name that is not a label name, or no label names.
    fn remove_by_labels(&self, py: Python<'_>, labels: &Bound<'_, PyAny>) -> PyResult<()> {
        remove_by_labels(py, &self.family, self.cache.as_ref(), labels)
    }

    /// The family's name, as prometheus_client's private `_name` (libraries read it).
    #[getter(_name)]
    fn private_name(&self) -> &str {
        self.family.name()
    }

    /// The label names, as prometheus_client's private `_labelnames`.
    #[getter(_labelnames)]
    fn private_labelnames<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.family.label_names())
    }

    /// The help text, as prometheus_client's private `_documentation`.
    #[getter(_documentation)]
    fn private_documentation(&self) -> &str {
        self.family.help()
    }

    /// The OpenMetrics type, as prometheus_client's private `_type`.
    #[classattr]
    #[pyo3(name = "_type")]
    fn private_type() -> &'static str {
        "counter"
    }

    fn __repr__(&self) -> String {
        repr(
            "Counter",
            self.family.name(),
            self.child.as_ref().map(|c| c.label_values().to_vec()),
        )
    }
}

// ------------------------------------------------------------------------------------ Gauge

/// A value that goes up and down (prometheus_client's `Gauge`): a 64-bit float; NaN and
/// infinities are allowed.
#[pyclass(frozen, module = "metricore._native", name = "Gauge")]
pub struct PyGauge {
    family: Family<Gauge>,
    child: Option<Gauge>,
    cache: Option<Arc<ChildCache>>,
    functions: Arc<FunctionGauges>,
}

impl PyGauge {
    #[inline]
    fn handle(&self, py: Python<'_>) -> PyResult<&Gauge> {
        match &self.child {
            Some(g) => Ok(g),
            None => Err(missing_labels(
                py,
                "gauge",
                self.family.name(),
                self.family.label_names(),
            )),
        }
    }

    #[inline]
    fn amount(&self, v: Option<&Bound<'_, PyAny>>) -> PyResult<f64> {
        match v {
            None => Ok(1.0),
            Some(v) => float_value(self.family.name(), "a gauge amount", v),
        }
    }
}

#[pymethods]
impl PyGauge {
    /// Registers (or finds the identical) gauge family. `multiprocess_mode` is accepted for
    /// prometheus_client compatibility and ignored (metricore is one process's memory).
    #[new]
    #[pyo3(signature = (name, documentation, labelnames = None, namespace = "", subsystem = "",
        unit = "", registry = Arg::Missing, multiprocess_mode = "all", *,
        cardinality_limit = None, idle_ttl = None),
        text_signature = "(name, documentation, labelnames=None, namespace=\"\", subsystem=\"\", unit=\"\", registry=..., multiprocess_mode=\"all\", *, cardinality_limit=10000, idle_ttl=None)")]
    #[allow(clippy::too_many_arguments, reason = "prometheus_client's signature")]
    fn new(
        py: Python<'_>,
        name: &str,
        documentation: &str,
        labelnames: Option<&Bound<'_, PyAny>>,
        namespace: &str,
        subsystem: &str,
        unit: &str,
        registry: Arg<'_>,
        multiprocess_mode: &str,
        cardinality_limit: Option<&Bound<'_, PyAny>>,
        idle_ttl: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let _ = multiprocess_mode;
        let opts = metric_opts(
            py,
            name,
            documentation,
            labelnames,
            namespace,
            subsystem,
            unit,
            cardinality_limit,
            idle_ttl,
        )?;
        let registry = resolve_registry(py, name, registry)?;
        let family = registry.get().inner.gauge_family(opts).py(py)?;
        let labelled = !family.label_names().is_empty();
        let child = if labelled {
            None
        } else {
            Some(family.with_label_values::<&str>(&[]).py(py)?)
        };
        let cache = cache_for(py, &registry, family.name(), labelled, idle_ttl);
        let functions = Arc::clone(&registry.get().functions);
        Ok(Self {
            family,
            child,
            cache,
            functions,
        })
    }

    /// Adds `amount` (1 by default; may be negative).
    #[pyo3(signature = (amount = None))]
    #[inline]
    fn inc(&self, py: Python<'_>, amount: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let g = self.handle(py)?;
        g.add(self.amount(amount)?);
        Ok(())
    }

    /// Subtracts `amount` (1 by default).
    #[pyo3(signature = (amount = None))]
    #[inline]
    fn dec(&self, py: Python<'_>, amount: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let g = self.handle(py)?;
        g.sub(self.amount(amount)?);
        Ok(())
    }

    /// Sets the value.
    #[inline]
    fn set(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let g = self.handle(py)?;
        g.set(float_value(self.family.name(), "a gauge value", value)?);
        Ok(())
    }

    /// Sets the value to the current Unix time in seconds.
    fn set_to_current_time(&self, py: Python<'_>) -> PyResult<()> {
        self.handle(py)?.set_to_current_time();
        Ok(())
    }

    /// The current value.
    fn get(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.handle(py)?.get())
    }

    /// A context manager and decorator that adds one on entry and subtracts one on exit.
    fn track_inprogress(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        slf.get().handle(py)?;
        context_helper(py, "InprogressTracker", (slf,))
    }

    /// A context manager and decorator that sets the gauge to the block's duration in seconds.
    fn time(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        context_helper(py, "Timer", (slf, "set"))
    }

    /// The child for these label values, by position or by name; created on first use.
    #[pyo3(signature = (*labelvalues, **labelkwargs))]
    fn labels<'py>(
        &self,
        py: Python<'py>,
        labelvalues: &Bound<'py, PyTuple>,
        labelkwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        labels_impl(
            py,
            &self.family,
            self.child.is_some(),
            self.cache.as_ref(),
            labelvalues,
            labelkwargs,
            |c| is_overflow(c.label_values()),
            |c| Self {
                family: self.family.clone(),
                child: Some(c),
                cache: None,
                functions: Arc::clone(&self.functions),
            },
        )
    }

    /// Makes the gauge's value `f()` (a callable returning a number), called at every
    /// collection, as prometheus_client's `set_function`; `set`, `inc` and `dec` are then
    /// overwritten at the next collection.
    fn set_function(&self, py: Python<'_>, f: Bound<'_, PyAny>) -> PyResult<()> {
        let g = self.handle(py)?;
        if !f.is_callable() {
            return Err(type_error(
                py,
                self.family.name(),
                &format!("set_function() takes a callable, not {}", type_name(&f)),
            ));
        }
        self.functions
            .set(self.family.name(), g.clone(), f.unbind());
        Ok(())
    }

    /// Removes the child with these label values.
    #[pyo3(signature = (*labelvalues))]
    fn remove(&self, py: Python<'_>, labelvalues: &Bound<'_, PyTuple>) -> PyResult<()> {
        match &self.cache {
            Some(c) => c.invalidate(py, || remove(py, &self.family, labelvalues)),
            None => remove(py, &self.family, labelvalues),
        }?;
        let values: Vec<String> = labelvalues
            .iter()
            .map(|v| v.str().map(|s| s.to_string()))
            .collect::<PyResult<_>>()?;
        self.functions.forget(self.family.name(), Some(&values));
        Ok(())
    }

    /// Removes every child.
    fn clear(&self, py: Python<'_>) {
        // An unlabelled gauge keeps its one series, and so its function.
        if !self.family.label_names().is_empty() {
            self.functions.forget(self.family.name(), None);
        }
        match &self.cache {
            Some(c) => c.invalidate(py, || self.family.clear()),
            None => self.family.clear(),
        }
    }

    /// The family's full name.
    #[getter]
    fn name(&self) -> &str {
        self.family.name()
    }

    /// The label names.
    #[getter]
    fn labelnames<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.family.label_names())
    }

    /// This child's label values.
    #[getter]
    fn labelvalues(&self) -> Vec<String> {
        self.child
            .as_ref()
            .map(|c| c.label_values().to_vec())
            .unwrap_or_default()
    }

    /// Removes every child whose labels include all of `labels` (a dict of label names to
    /// values), as prometheus_client's `remove_by_labels`; `{}` removes nothing.
    ///
    /// Raises:
    ///     `InvalidLabelsError`: a name that is not a label name, or no label names.
    fn remove_by_labels(&self, py: Python<'_>, labels: &Bound<'_, PyAny>) -> PyResult<()> {
        remove_by_labels(py, &self.family, self.cache.as_ref(), labels)
    }

    /// The family's name, as prometheus_client's private `_name` (libraries read it).
    #[getter(_name)]
    fn private_name(&self) -> &str {
        self.family.name()
    }

    /// The label names, as prometheus_client's private `_labelnames`.
    #[getter(_labelnames)]
    fn private_labelnames<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.family.label_names())
    }

    /// The help text, as prometheus_client's private `_documentation`.
    #[getter(_documentation)]
    fn private_documentation(&self) -> &str {
        self.family.help()
    }

    /// The OpenMetrics type, as prometheus_client's private `_type`.
    #[classattr]
    #[pyo3(name = "_type")]
    fn private_type() -> &'static str {
        "gauge"
    }

    fn __repr__(&self) -> String {
        repr(
            "Gauge",
            self.family.name(),
            self.child.as_ref().map(|c| c.label_values().to_vec()),
        )
    }
}

// ------------------------------------------------------------------------------------ Histogram

/// prometheus_client's default bounds, in seconds (`+Inf` implied).
pub const DEFAULT_BUCKETS: [f64; 14] = metricore::histogram::DEFAULT_BUCKETS;

/// The bounds of a `buckets=` argument: left out, prometheus_client's defaults (kept exact);
/// `None`, bounds derived from the HDR counts at scrape time (the core's default); else the
/// given bounds, each read with `float()` (so `"+Inf"` works as in prometheus_client).
fn bucket_bounds(py: Python<'_>, metric: &str, arg: Arg<'_>) -> PyResult<Option<Vec<f64>>> {
    let given = match arg {
        Arg::Missing => return Ok(Some(DEFAULT_BUCKETS.to_vec())),
        Arg::Given(b) if b.is_none() => return Ok(None),
        Arg::Given(b) => b,
    };
    let bad = || {
        type_error(
            py,
            metric,
            &format!(
                "buckets must be a sequence of numbers, not {}",
                type_name(&given)
            ),
        )
    };
    if given.is_instance_of::<PyString>() {
        return Err(bad());
    }
    let float = py.import("builtins")?.getattr("float")?;
    let mut out = Vec::new();
    for b in given.try_iter().map_err(|_| bad())? {
        let b = b?;
        let x = float
            .call1((&b,))
            .and_then(|f| f.extract::<f64>())
            .map_err(|_| {
                type_error(
                    py,
                    metric,
                    &format!("bucket bounds must be numbers, not {}", type_name(&b)),
                )
            })?;
        out.push(x);
    }
    Ok(Some(out))
}

/// A distribution (prometheus_client's `Histogram`), HDR-backed: exact Prometheus buckets
/// plus any quantile within 0.1 %, mergeable through HdrHistogram V2 blobs.
///
/// `observe` takes base units (seconds for time); values are kept as integers of
/// `resolution` (microseconds by default) between `lowest` and `highest`.
#[pyclass(frozen, subclass, module = "metricore._native", name = "Histogram")]
pub struct PyHistogram {
    family: Family<Histogram>,
    child: Option<Histogram>,
    cache: Option<Arc<ChildCache>>,
}

impl PyHistogram {
    #[inline]
    fn handle(&self, py: Python<'_>) -> PyResult<&Histogram> {
        match &self.child {
            Some(h) => Ok(h),
            None => Err(missing_labels(
                py,
                "histogram",
                self.family.name(),
                self.family.label_names(),
            )),
        }
    }
}

#[pymethods]
impl PyHistogram {
    /// prometheus_client's default bounds in seconds, `+Inf` last (`Histogram.DEFAULT_BUCKETS`).
    #[classattr]
    #[pyo3(name = "DEFAULT_BUCKETS")]
    fn default_buckets(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        let mut buckets = DEFAULT_BUCKETS.to_vec();
        buckets.push(f64::INFINITY);
        Ok(PyTuple::new(py, buckets)?.unbind())
    }

    /// Registers (or finds the identical) histogram family.
    ///
    /// `buckets` left out gives prometheus_client's defaults (0.005 .. 10 s), kept exact;
    /// `None` gives the same bounds derived from the HDR counts (cheaper, exact to within one
    /// HDR bucket). `highest` left out is 60 s in microseconds, raised to twice the largest
    /// bucket bound when that is larger. `window_seconds` also keeps a sliding window for
    /// `window_snapshot()`.
    #[new]
    #[pyo3(signature = (name, documentation, labelnames = None, namespace = "", subsystem = "",
        unit = "", registry = Arg::Missing, buckets = Arg::Missing, *, lowest = None, highest = None,
        significant_figures = None, resolution = "microsecond", window_seconds = None,
        sub_windows = None, cardinality_limit = None, idle_ttl = None),
        text_signature = "(name, documentation, labelnames=None, namespace=\"\", subsystem=\"\", unit=\"\", registry=..., buckets=..., *, lowest=1, highest=None, significant_figures=3, resolution=\"microsecond\", window_seconds=None, sub_windows=6, cardinality_limit=10000, idle_ttl=None)")]
    #[allow(
        clippy::too_many_arguments,
        reason = "prometheus_client's signature plus HDR options"
    )]
    fn new(
        py: Python<'_>,
        name: &str,
        documentation: &str,
        labelnames: Option<&Bound<'_, PyAny>>,
        namespace: &str,
        subsystem: &str,
        unit: &str,
        registry: Arg<'_>,
        buckets: Arg<'_>,
        lowest: Option<&Bound<'_, PyAny>>,
        highest: Option<&Bound<'_, PyAny>>,
        significant_figures: Option<&Bound<'_, PyAny>>,
        resolution: &str,
        window_seconds: Option<&Bound<'_, PyAny>>,
        sub_windows: Option<&Bound<'_, PyAny>>,
        cardinality_limit: Option<&Bound<'_, PyAny>>,
        idle_ttl: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let opts = metric_opts(
            py,
            name,
            documentation,
            labelnames,
            namespace,
            subsystem,
            unit,
            cardinality_limit,
            idle_ttl,
        )?;
        let int = |what: &str, v: Option<&Bound<'_, PyAny>>, default: u64| {
            v.filter(|v| !v.is_none())
                .map_or(Ok(default), |v| whole_option::<u64>(name, what, v))
        };
        let lowest = int("lowest", lowest, 1)?;
        let highest = highest
            .filter(|v| !v.is_none())
            .map(|v| whole_option::<u64>(name, "highest", v))
            .transpose()?;
        let significant_figures = significant_figures.map_or(Ok(3), |v| {
            whole_option::<u8>(name, "significant_figures", v)
        })?;
        let sub_windows =
            sub_windows.map_or(Ok(6), |v| whole_option::<u32>(name, "sub_windows", v))?;
        let res = crate::convert::resolution(py, name, resolution)?;
        let bounds = bucket_bounds(py, name, buckets)?;
        let highest = highest.unwrap_or_else(|| {
            let largest = bounds
                .iter()
                .flatten()
                .copied()
                .filter(|b| b.is_finite())
                .fold(0.0, f64::max);
            let needed = (largest * res.per_base_unit() * 2.0).ceil();
            if needed > DEFAULT_HIGHEST as f64 && needed < 9.0e18 {
                needed as u64
            } else {
                DEFAULT_HIGHEST
            }
        });
        let mut hopts = HistogramOpts::new()
            .range(lowest, highest)
            .significant_figures(significant_figures)
            .resolution(res);
        if let Some(b) = bounds {
            hopts = hopts.buckets(b);
        }
        if let Some(secs) = window_seconds.filter(|v| !v.is_none()) {
            let secs = float_value(name, "window_seconds", secs)?;
            let w = WindowOpts::from_secs(name, secs, sub_windows).py(py)?;
            hopts = hopts.window(w);
        }
        let registry = resolve_registry(py, name, registry)?;
        let family = registry.get().inner.histogram_family(opts, hopts).py(py)?;
        let labelled = !family.label_names().is_empty();
        let child = if labelled {
            None
        } else {
            Some(family.with_label_values::<&str>(&[]).py(py)?)
        };
        let cache = cache_for(py, &registry, family.name(), labelled, idle_ttl);
        Ok(Self {
            family,
            child,
            cache,
        })
    }

    /// Records `amount` in base units (seconds for time); `exemplar` is a dict of OpenMetrics
    /// exemplar labels kept on the value's bucket.
    ///
    /// Raises:
    ///     `InvalidValueError`: NaN, negative or infinite (nothing is recorded).
    ///     `MetricTypeError`: amount is not a number.
    #[pyo3(signature = (amount, exemplar = None))]
    #[inline]
    fn observe(
        &self,
        py: Python<'_>,
        amount: &Bound<'_, PyAny>,
        exemplar: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let h = self.handle(py)?;
        let x = float_value(self.family.name(), "an observation", amount)?;
        match exemplar {
            None => h.observe(x).py(py),
            Some(e) => {
                let pairs = exemplar_pairs(self.family.name(), e)?;
                let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, &**v)).collect();
                h.observe_with_exemplar(x, &refs).py(py)
            }
        }
    }

    /// Records the integer `value` (in the histogram's resolution) `count` times.
    #[pyo3(signature = (value, count = None), text_signature = "(self, value, count=1)")]
    fn record(
        &self,
        py: Python<'_>,
        value: &Bound<'_, PyAny>,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let h = self.handle(py)?;
        let count = match count {
            Some(n) => whole_u64(self.family.name(), "record()'s count", n)?,
            None => 1,
        };
        let v = value.extract::<u64>().map_err(|_| {
            binding_error(
                py,
                ErrorKind::InvalidValue,
                self.family.name(),
                &format!(
                    "record() takes a whole number >= 0 in the histogram's resolution, not {}",
                    value
                        .repr()
                        .map_or_else(|_| "?".to_owned(), |r| r.to_string())
                ),
            )
        })?;
        h.record_n(v, count);
        Ok(())
    }

    /// Records a duration given in milliseconds (the TypeScript era's unit).
    #[inline]
    fn record_ms(&self, py: Python<'_>, ms: &Bound<'_, PyAny>) -> PyResult<()> {
        let h = self.handle(py)?;
        let x = float_value(self.family.name(), "a duration in ms", ms)?;
        h.record_ms(x).py(py)
    }

    /// A context manager and decorator that observes the block's duration in seconds.
    fn time(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        context_helper(py, "Timer", (slf, "observe"))
    }

    /// A consistent copy of the counts.
    fn snapshot(&self, py: Python<'_>) -> PyResult<PyHistogramSnapshot> {
        let h = self.handle(py)?;
        Ok(PyHistogramSnapshot {
            inner: py.detach(|| h.snapshot()),
        })
    }

    /// The sliding window's counts, or `None` without `window_seconds`.
    fn window_snapshot(&self, py: Python<'_>) -> PyResult<Option<PyHistogramSnapshot>> {
        let h = self.handle(py)?;
        Ok(py
            .detach(|| h.window_snapshot())
            .map(|inner| PyHistogramSnapshot { inner }))
    }

    /// The value at quantile `q` (0..=1) in base units (seconds for time).
    fn quantile(&self, py: Python<'_>, q: &Bound<'_, PyAny>) -> PyResult<f64> {
        let h = self.handle(py)?;
        let name = self.family.name();
        let q = check_quantile(Some(name), float_value(name, "a quantile", q)?).py(py)?;
        Ok(py.detach(|| h.snapshot().quantile(q)))
    }

    /// Count, mean, min, max, stddev and p50..p999 in milliseconds (the `LatencyStats` shape).
    fn latency_stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let h = self.handle(py)?;
        let stats = py.detach(|| h.snapshot().latency_stats());
        crate::record::to_python(py, &stats)
    }

    /// How many values were recorded.
    fn count(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.handle(py)?.count())
    }

    /// Adds another histogram's counts: a `HistogramSnapshot`, or an HdrHistogram V2 blob
    /// (bytes, or base64 as `hdrh` encodes) in this histogram's resolution.
    ///
    /// Raises:
    ///     `CorruptBlobError`: a blob that is not V2, or a snapshot of another resolution.
    fn merge(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        let h = self.handle(py)?;
        let s = snapshot_arg(py, other, h.resolution())?;
        py.detach(|| h.merge_from(&s)).py(py)
    }

    /// The child for these label values, by position or by name; created on first use.
    #[pyo3(signature = (*labelvalues, **labelkwargs))]
    fn labels<'py>(
        &self,
        py: Python<'py>,
        labelvalues: &Bound<'py, PyTuple>,
        labelkwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        labels_impl(
            py,
            &self.family,
            self.child.is_some(),
            self.cache.as_ref(),
            labelvalues,
            labelkwargs,
            |c| is_overflow(c.label_values()),
            |c| Self {
                family: self.family.clone(),
                child: Some(c),
                cache: None,
            },
        )
    }

    /// Removes the child with these label values.
    #[pyo3(signature = (*labelvalues))]
    fn remove(&self, py: Python<'_>, labelvalues: &Bound<'_, PyTuple>) -> PyResult<()> {
        match &self.cache {
            Some(c) => c.invalidate(py, || remove(py, &self.family, labelvalues)),
            None => remove(py, &self.family, labelvalues),
        }
    }

    /// Removes every child.
    fn clear(&self, py: Python<'_>) {
        match &self.cache {
            Some(c) => c.invalidate(py, || self.family.clear()),
            None => self.family.clear(),
        }
    }

    /// The family's full name.
    #[getter]
    fn name(&self) -> &str {
        self.family.name()
    }

    /// The label names.
    #[getter]
    fn labelnames<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.family.label_names())
    }

    /// This child's label values.
    #[getter]
    fn labelvalues(&self) -> Vec<String> {
        self.child
            .as_ref()
            .map(|c| c.label_values().to_vec())
            .unwrap_or_default()
    }

    /// Removes every child whose labels include all of `labels` (a dict of label names to
    /// values), as prometheus_client's `remove_by_labels`; `{}` removes nothing.
    ///
    /// Raises:
    ///     `InvalidLabelsError`: a name that is not a label name, or no label names.
    fn remove_by_labels(&self, py: Python<'_>, labels: &Bound<'_, PyAny>) -> PyResult<()> {
        remove_by_labels(py, &self.family, self.cache.as_ref(), labels)
    }

    /// The family's name, as prometheus_client's private `_name` (libraries read it).
    #[getter(_name)]
    fn private_name(&self) -> &str {
        self.family.name()
    }

    /// The label names, as prometheus_client's private `_labelnames`.
    #[getter(_labelnames)]
    fn private_labelnames<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.family.label_names())
    }

    /// The help text, as prometheus_client's private `_documentation`.
    #[getter(_documentation)]
    fn private_documentation(&self) -> &str {
        self.family.help()
    }

    /// The OpenMetrics type, as prometheus_client's private `_type`.
    #[classattr]
    #[pyo3(name = "_type")]
    fn private_type() -> &'static str {
        "histogram"
    }

    fn __repr__(&self) -> String {
        repr(
            "Histogram",
            self.family.name(),
            self.child.as_ref().map(|c| c.label_values().to_vec()),
        )
    }
}

// ------------------------------------------------------------------------------------ Summary

/// A summary (the core's summary kind): it records as a histogram does, any magnitude and
/// sign, and is exposed as `_count`, `_sum` and one `{quantile="q"}` series per quantile in
/// `quantiles`. Left out, there are none, which is exactly what prometheus_client's `Summary`
/// exposes; `quantile()` and `latency_stats()` read any quantile either way.
#[pyclass(frozen, module = "metricore._native", name = "Summary")]
pub struct PySummary {
    family: Family<Summary>,
    child: Option<Summary>,
    cache: Option<Arc<ChildCache>>,
}

impl PySummary {
    #[inline]
    fn handle(&self, py: Python<'_>) -> PyResult<&Summary> {
        match &self.child {
            Some(h) => Ok(h),
            None => Err(missing_labels(
                py,
                "summary",
                self.family.name(),
                self.family.label_names(),
            )),
        }
    }
}

#[pymethods]
impl PySummary {
    /// Registers (or finds the identical) summary family. `quantiles` (each within 0..=1)
    /// are exposed over all time, or over the last `window_seconds` when given.
    ///
    /// Raises:
    ///     `InvalidNameError`, `ConflictError`, `InvalidConfigError`, `MetricTypeError`.
    #[new]
    #[pyo3(signature = (name, documentation, labelnames = None, namespace = "", subsystem = "",
        unit = "", registry = Arg::Missing, *, quantiles = Vec::new(), window_seconds = None,
        sub_windows = None, cardinality_limit = None, idle_ttl = None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "prometheus_client's signature plus quantile options"
    )]
    fn new(
        py: Python<'_>,
        name: &str,
        documentation: &str,
        labelnames: Option<&Bound<'_, PyAny>>,
        namespace: &str,
        subsystem: &str,
        unit: &str,
        registry: Arg<'_>,
        quantiles: Vec<f64>,
        window_seconds: Option<&Bound<'_, PyAny>>,
        sub_windows: Option<&Bound<'_, PyAny>>,
        cardinality_limit: Option<&Bound<'_, PyAny>>,
        idle_ttl: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let sub_windows =
            sub_windows.map_or(Ok(6), |v| whole_option::<u32>(name, "sub_windows", v))?;
        let opts = metric_opts(
            py,
            name,
            documentation,
            labelnames,
            namespace,
            subsystem,
            unit,
            cardinality_limit,
            idle_ttl,
        )?;
        let mut sopts = SummaryOpts::new().quantiles(quantiles);
        if let Some(secs) = window_seconds.filter(|v| !v.is_none()) {
            let secs = float_value(name, "window_seconds", secs)?;
            sopts = sopts.window(WindowOpts::from_secs(name, secs, sub_windows).py(py)?);
        }
        let registry = resolve_registry(py, name, registry)?;
        let family = registry.get().inner.summary_family(opts, sopts).py(py)?;
        let labelled = !family.label_names().is_empty();
        let child = if labelled {
            None
        } else {
            Some(family.with_label_values::<&str>(&[]).py(py)?)
        };
        let cache = cache_for(py, &registry, family.name(), labelled, idle_ttl);
        Ok(Self {
            family,
            child,
            cache,
        })
    }

    /// Records `amount` (any number; infinities count as saturated, NaN is rejected).
    ///
    /// Raises:
    ///     `InvalidValueError`: NaN (nothing is recorded).
    ///     `MetricTypeError`: amount is not a number.
    #[inline]
    fn observe(&self, py: Python<'_>, amount: &Bound<'_, PyAny>) -> PyResult<()> {
        let h = self.handle(py)?;
        let x = float_value(self.family.name(), "an observation", amount)?;
        h.observe(x).py(py)
    }

    /// A context manager and decorator that observes the block's duration in seconds.
    fn time(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        context_helper(py, "Timer", (slf, "observe"))
    }

    /// The value at quantile `q` (0..=1) over all time.
    fn quantile(&self, py: Python<'_>, q: &Bound<'_, PyAny>) -> PyResult<f64> {
        let h = self.handle(py)?;
        let name = self.family.name();
        let q = check_quantile(Some(name), float_value(name, "a quantile", q)?).py(py)?;
        Ok(py.detach(|| h.snapshot().quantile(q)))
    }

    /// Count, mean, min, max, stddev and p50..p999 in milliseconds (the `LatencyStats` shape).
    fn latency_stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let h = self.handle(py)?;
        let stats = py.detach(|| h.snapshot().latency_stats());
        crate::record::to_python(py, &stats)
    }

    /// A consistent copy of the counts.
    fn snapshot(&self, py: Python<'_>) -> PyResult<PyHistogramSnapshot> {
        let h = self.handle(py)?;
        Ok(PyHistogramSnapshot {
            inner: py.detach(|| h.snapshot()),
        })
    }

    /// How many values were recorded.
    fn count(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.handle(py)?.count())
    }

    /// The child for these label values, by position or by name; created on first use.
    #[pyo3(signature = (*labelvalues, **labelkwargs))]
    fn labels<'py>(
        &self,
        py: Python<'py>,
        labelvalues: &Bound<'py, PyTuple>,
        labelkwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        labels_impl(
            py,
            &self.family,
            self.child.is_some(),
            self.cache.as_ref(),
            labelvalues,
            labelkwargs,
            |c| is_overflow(c.label_values()),
            |c| Self {
                family: self.family.clone(),
                child: Some(c),
                cache: None,
            },
        )
    }

    /// Removes the child with these label values.
    #[pyo3(signature = (*labelvalues))]
    fn remove(&self, py: Python<'_>, labelvalues: &Bound<'_, PyTuple>) -> PyResult<()> {
        match &self.cache {
            Some(c) => c.invalidate(py, || remove(py, &self.family, labelvalues)),
            None => remove(py, &self.family, labelvalues),
        }
    }

    /// Removes every child.
    fn clear(&self, py: Python<'_>) {
        match &self.cache {
            Some(c) => c.invalidate(py, || self.family.clear()),
            None => self.family.clear(),
        }
    }

    /// The family's full name.
    #[getter]
    fn name(&self) -> &str {
        self.family.name()
    }

    /// The label names.
    #[getter]
    fn labelnames<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.family.label_names())
    }

    /// This child's label values.
    #[getter]
    fn labelvalues(&self) -> Vec<String> {
        self.child
            .as_ref()
            .map(|c| c.label_values().to_vec())
            .unwrap_or_default()
    }

    /// Removes every child whose labels include all of `labels` (a dict of label names to
    /// values), as prometheus_client's `remove_by_labels`; `{}` removes nothing.
    ///
    /// Raises:
    ///     `InvalidLabelsError`: a name that is not a label name, or no label names.
    fn remove_by_labels(&self, py: Python<'_>, labels: &Bound<'_, PyAny>) -> PyResult<()> {
        remove_by_labels(py, &self.family, self.cache.as_ref(), labels)
    }

    /// The family's name, as prometheus_client's private `_name` (libraries read it).
    #[getter(_name)]
    fn private_name(&self) -> &str {
        self.family.name()
    }

    /// The label names, as prometheus_client's private `_labelnames`.
    #[getter(_labelnames)]
    fn private_labelnames<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.family.label_names())
    }

    /// The help text, as prometheus_client's private `_documentation`.
    #[getter(_documentation)]
    fn private_documentation(&self) -> &str {
        self.family.help()
    }

    /// The OpenMetrics type, as prometheus_client's private `_type`.
    #[classattr]
    #[pyo3(name = "_type")]
    fn private_type() -> &'static str {
        "summary"
    }

    fn __repr__(&self) -> String {
        repr(
            "Summary",
            self.family.name(),
            self.child.as_ref().map(|c| c.label_values().to_vec()),
        )
    }
}
