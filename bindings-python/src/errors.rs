//! The exception hierarchy, and the one place that maps the core's [`ErrorKind`] to it.
//!
//! ```text
//! MetricoreError(Exception)
//! ├── InvalidNameError(MetricoreError, ValueError)       ErrorKind::InvalidName
//! ├── InvalidLabelsError(MetricoreError, ValueError)     ErrorKind::InvalidLabels
//! ├── ConflictError(MetricoreError, ValueError)          ErrorKind::Conflict
//! ├── InvalidValueError(MetricoreError, ValueError)      ErrorKind::InvalidValue
//! ├── InvalidConfigError(MetricoreError, ValueError)     ErrorKind::InvalidConfig
//! ├── InvalidExemplarError(MetricoreError, ValueError)   ErrorKind::InvalidExemplar
//! ├── CorruptBlobError(MetricoreError, ValueError)       ErrorKind::CorruptBlob
//! ├── CollectorFailedError(MetricoreError, ValueError)   ErrorKind::CollectorFailed
//! └── MetricTypeError(MetricoreError, TypeError)         a Python value of the wrong type
//! ```
//!
//! Every invalid-input class also derives from `ValueError` (or `TypeError`), so code written
//! for prometheus_client, which raises those, keeps catching them. `create_exception!` gives a
//! class one base only, so the subclasses are made with `type(name, bases, namespace)` once per
//! interpreter. Each instance carries `kind` (the `snake_case` kind the golden fixtures use),
//! `metric` (the metric's name, or `None`) and `rule` (the message without the metric).

use metricore::{Error as CoreError, ErrorKind};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

create_exception!(
    metricore,
    MetricoreError,
    PyException,
    "Root of every error metricore raises. `kind`, `metric` and `rule` say what went wrong."
);

/// `(kind, class name, builtin base, docstring)`, in [`class_index`] order.
const CLASSES: [(&str, &str, Base, &str); 9] = [
    (
        "invalid_name",
        "InvalidNameError",
        Base::Value,
        "A metric, label or unit name breaks the Prometheus naming rules.",
    ),
    (
        "invalid_labels",
        "InvalidLabelsError",
        Base::Value,
        "Label values do not match the metric's label names (count, unknown or missing names).",
    ),
    (
        "conflict",
        "ConflictError",
        Base::Value,
        "The name is already registered with a different shape.",
    ),
    (
        "invalid_value",
        "InvalidValueError",
        Base::Value,
        "A value is not allowed (NaN, negative, infinite, fractional for a counter).",
    ),
    (
        "invalid_config",
        "InvalidConfigError",
        Base::Value,
        "Options are inconsistent (histogram range, buckets, window, interval, limits).",
    ),
    (
        "invalid_exemplar",
        "InvalidExemplarError",
        Base::Value,
        "An exemplar breaks the OpenMetrics exemplar rules.",
    ),
    (
        "corrupt_blob",
        "CorruptBlobError",
        Base::Value,
        "An HdrHistogram blob cannot be decoded, or two histograms cannot merge.",
    ),
    (
        "collector_failed",
        "CollectorFailedError",
        Base::Value,
        "A custom collector failed, or yielded a family that breaks the exposition rules.",
    ),
    (
        "invalid_type",
        "MetricTypeError",
        Base::Type,
        "A value of the wrong Python type (a string given to inc(), a non-string label name).",
    ),
];

#[derive(Clone, Copy)]
enum Base {
    Value,
    Type,
}

/// The index in [`CLASSES`] of the class for a core error kind.
fn class_index(kind: ErrorKind) -> usize {
    match kind {
        ErrorKind::InvalidName => 0,
        ErrorKind::InvalidLabels => 1,
        ErrorKind::Conflict => 2,
        ErrorKind::InvalidValue => 3,
        ErrorKind::InvalidConfig => 4,
        ErrorKind::InvalidExemplar => 5,
        ErrorKind::CollectorFailed => 7,
        // CorruptBlob, and a kind added to the core later than this binding (the message
        // still says what happened; `MetricoreError` and `ValueError` still catch it).
        _ => 6,
    }
}

/// Index of [`MetricTypeError`](CLASSES) for errors made here.
const TYPE_ERROR: usize = 8;

static TYPES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

fn types(py: Python<'_>) -> PyResult<&Vec<Py<PyType>>> {
    TYPES.get_or_try_init(py, || {
        let root = py.get_type::<MetricoreError>();
        let make_type = py.import("builtins")?.getattr("type")?;
        CLASSES
            .iter()
            .map(|&(_, name, base, doc)| {
                let builtin = match base {
                    Base::Value => py.get_type::<PyValueError>(),
                    Base::Type => py.get_type::<PyTypeError>(),
                };
                let ns = PyDict::new(py);
                ns.set_item("__module__", "metricore")?;
                ns.set_item("__doc__", doc)?;
                let bases = PyTuple::new(py, [root.clone(), builtin])?;
                Ok(make_type
                    .call1((name, bases, ns))?
                    .cast_into::<PyType>()?
                    .unbind())
            })
            .collect()
    })
}

/// Adds the root and every subclass to the module.
pub fn add_to_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("MetricoreError", py.get_type::<MetricoreError>())?;
    for ((_, name, _, _), ty) in CLASSES.iter().zip(types(py)?) {
        m.add(*name, ty.bind(py))?;
    }
    Ok(())
}

fn raise(py: Python<'_>, index: usize, metric: Option<&str>, rule: &str) -> PyErr {
    let message = match metric {
        Some(m) => format!("metric '{m}': {rule}"),
        None => rule.to_owned(),
    };
    let build = || -> PyResult<PyErr> {
        let exc = types(py)?[index].bind(py).call1((message.as_str(),))?;
        exc.setattr("kind", CLASSES[index].0)?;
        exc.setattr("metric", metric)?;
        exc.setattr("rule", rule)?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// The Python exception for a core error.
pub fn core_error(py: Python<'_>, e: &CoreError) -> PyErr {
    raise(py, class_index(e.kind()), e.metric(), e.rule())
}

/// A [`MetricTypeError`](CLASSES) naming `metric`.
pub fn type_error(py: Python<'_>, metric: &str, rule: &str) -> PyErr {
    raise(py, TYPE_ERROR, Some(metric), rule)
}

/// An error of `kind` made by the binding (not the core), naming `metric`.
/// An error about no metric in particular (a render option), of the class for `kind`.
pub fn unnamed_error(py: Python<'_>, kind: ErrorKind, rule: &str) -> PyErr {
    raise(py, class_index(kind), None, rule)
}

pub fn binding_error(py: Python<'_>, kind: ErrorKind, metric: &str, rule: &str) -> PyErr {
    raise(py, class_index(kind), Some(metric), rule)
}

/// `?`-friendly conversion of core results.
pub trait IntoPyResult<T> {
    /// Maps a core error to its exception class.
    ///
    /// # Errors
    /// The mapped exception, when `self` is an error.
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for metricore::Result<T> {
    #[inline]
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| core_error(py, &e))
    }
}
