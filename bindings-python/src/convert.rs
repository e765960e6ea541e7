//! Conversions shared by the classes: label values, numbers, JSON-shaped records.

use metricore::{ErrorKind, Resolution};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFloat, PyInt, PyString, PyTuple};

use crate::errors::{binding_error, type_error};

/// A label value as prometheus_client takes it: a `str` as is, anything else through `str()`.
fn label_value(item: Bound<'_, PyAny>) -> PyResult<PyBackedStr> {
    let s = match item.cast_into::<PyString>() {
        Ok(s) => s,
        Err(e) => e.into_inner().str()?,
    };
    PyBackedStr::try_from(s)
}

/// Positional label values.
pub fn label_values(values: &Bound<'_, PyTuple>) -> PyResult<Vec<PyBackedStr>> {
    values.iter().map(label_value).collect()
}

/// Keyword label values as `(name, value)` pairs.
pub fn label_pairs(
    metric: &str,
    kw: &Bound<'_, PyDict>,
) -> PyResult<Vec<(PyBackedStr, PyBackedStr)>> {
    let py = kw.py();
    kw.iter()
        .map(|(k, v)| {
            let k = k.cast_into::<PyString>().map_err(|e| {
                type_error(
                    py,
                    metric,
                    &format!(
                        "label names must be strings, not {}",
                        type_name(&e.into_inner())
                    ),
                )
            })?;
            Ok((PyBackedStr::try_from(k)?, label_value(v)?))
        })
        .collect()
}

/// Label names given at construction: any iterable of `str`, but not a `str` itself (which
/// would silently become one label per character).
pub fn label_names(metric: &str, names: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(names) = names else {
        return Ok(Vec::new());
    };
    let py = names.py();
    if names.is_instance_of::<PyString>() {
        return Err(type_error(
            py,
            metric,
            "labelnames must be a sequence of strings, not a single string",
        ));
    }
    let iter = names.try_iter().map_err(|_| {
        type_error(
            py,
            metric,
            &format!(
                "labelnames must be a sequence of strings, not {}",
                type_name(names)
            ),
        )
    })?;
    iter.map(|n| {
        let n = n?;
        n.extract::<String>().map_err(|_| {
            type_error(
                py,
                metric,
                &format!("label names must be strings, not {}", type_name(&n)),
            )
        })
    })
    .collect()
}

/// The name of a value's type, for messages.
pub fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

/// A counter increment as the core takes it.
pub enum CounterAmount {
    /// An `int` that fits in 64 bits: the integer path, exact.
    Whole(u64),
    /// A `float`, or an `int` past 64 bits (`2**70`); the core checks it is finite and not
    /// negative.
    Float(f64),
}

/// A counter increment: an `int` or a `float` (prometheus_client takes any number from 0 up).
/// A negative `int` is refused here; every float is checked by the core.
#[inline]
pub fn counter_amount(metric: &str, amount: &Bound<'_, PyAny>) -> PyResult<CounterAmount> {
    let py = amount.py();
    if let Ok(i) = amount.cast::<PyInt>() {
        if let Ok(n) = i.extract::<u64>() {
            return Ok(CounterAmount::Whole(n));
        }
        if i.lt(0)? {
            let rule = format!("counters only go up: increments must be 0 or more, got {i}");
            return Err(binding_error(py, ErrorKind::InvalidValue, metric, &rule));
        }
        // Past 64 bits: Python's int-to-float conversion rounds to nearest (OverflowError
        // past f64's range, as prometheus_client's float() raises).
        return Ok(CounterAmount::Float(i.extract::<f64>()?));
    }
    if let Ok(f) = amount.cast::<PyFloat>() {
        return Ok(CounterAmount::Float(f.value()));
    }
    Err(type_error(
        py,
        metric,
        &format!(
            "a counter increment must be an int or a float, not {}",
            type_name(amount)
        ),
    ))
}

/// A float value for a gauge or a histogram: anything Python's `float()` takes but a string.
#[inline]
pub fn float_value(metric: &str, what: &str, v: &Bound<'_, PyAny>) -> PyResult<f64> {
    if let Ok(f) = v.cast::<PyFloat>() {
        return Ok(f.value());
    }
    if !v.is_instance_of::<PyString>()
        && let Ok(x) = v.extract::<f64>()
    {
        return Ok(x);
    }
    Err(type_error(
        v.py(),
        metric,
        &format!("{what} must be a number, not {}", type_name(v)),
    ))
}

/// Exemplar labels from a `dict[str, str]`.
pub fn exemplar_pairs(
    metric: &str,
    exemplar: &Bound<'_, PyDict>,
) -> PyResult<Vec<(PyBackedStr, PyBackedStr)>> {
    label_pairs(metric, exemplar)
}

/// Parses a resolution name.
pub fn resolution(py: Python<'_>, metric: &str, name: &str) -> PyResult<Resolution> {
    Ok(match name {
        "nanosecond" => Resolution::Nanosecond,
        "microsecond" => Resolution::Microsecond,
        "millisecond" => Resolution::Millisecond,
        "unit" => Resolution::Unit,
        other => {
            return Err(binding_error(
                py,
                ErrorKind::InvalidConfig,
                metric,
                &format!(
                    "resolution must be 'nanosecond', 'microsecond', 'millisecond' or 'unit', not {other:?}"
                ),
            ));
        }
    })
}

/// The name of a resolution.
pub fn resolution_name(r: Resolution) -> &'static str {
    match r {
        Resolution::Nanosecond => "nanosecond",
        Resolution::Millisecond => "millisecond",
        Resolution::Unit => "unit",
        Resolution::Microsecond => "microsecond",
    }
}

static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A serialisable core record as Python dicts and lists (through `json.loads`, so the keys and
/// shapes are exactly those of the core's JSON).
pub fn to_python<T: serde::Serialize + ?Sized>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| {
        pyo3::exceptions::PyRuntimeError::new_err(format!("cannot serialise a record: {e}"))
    })?;
    json_loads(py, &text)
}

/// `json.loads(text)`.
pub fn json_loads(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    let loads = JSON_LOADS.get_or_try_init(py, || {
        PyResult::Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    Ok(loads.bind(py).call1((text,))?.unbind())
}

/// An argument whose absence differs from `None` (prometheus_client's `registry=REGISTRY`
/// default, where `registry=None` means "register nowhere").
pub enum Arg<'py> {
    /// Left out.
    Missing,
    /// Given, maybe as `None`.
    Given(Bound<'py, PyAny>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for Arg<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Self::Given(obj.to_owned()))
    }
}
