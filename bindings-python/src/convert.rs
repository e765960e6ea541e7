//! Conversions shared by the classes: label values, numbers, resolutions.

use metricore::{ErrorKind, Resolution};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyDict, PyFloat, PyInt, PyString, PyTuple};

use crate::errors::{binding_error, type_error};

/// A label value as prometheus_client takes it: a `str` as is, anything else through `str()`.
/// A string that is not valid Unicode (a lone surrogate) is an invalid label naming `metric`.
fn label_value(metric: &str, item: Bound<'_, PyAny>) -> PyResult<PyBackedStr> {
    let s = match item.cast_into::<PyString>() {
        Ok(s) => s,
        Err(e) => e.into_inner().str()?,
    };
    utf8(metric, "label values", &s)
}

/// `s` as UTF-8, or an [`ErrorKind::InvalidLabels`] error naming `metric` for a string holding
/// a lone surrogate (which no exposition can carry).
fn utf8(metric: &str, what: &str, s: &Bound<'_, PyString>) -> PyResult<PyBackedStr> {
    utf8_or(metric, what, ErrorKind::InvalidLabels, s)
}

/// [`utf8`] reporting `kind`.
fn utf8_or(
    metric: &str,
    what: &str,
    kind: ErrorKind,
    s: &Bound<'_, PyString>,
) -> PyResult<PyBackedStr> {
    let py = s.py();
    PyBackedStr::try_from(s.clone()).map_err(|_| {
        let shown = s
            .repr()
            .map_or_else(|_| "?".to_owned(), |r| r.to_string_lossy().into_owned());
        binding_error(
            py,
            kind,
            metric,
            &format!("{what} must be valid Unicode; {shown} holds a lone surrogate"),
        )
    })
}

/// Positional label values.
pub fn label_values(metric: &str, values: &Bound<'_, PyTuple>) -> PyResult<Vec<PyBackedStr>> {
    values.iter().map(|v| label_value(metric, v)).collect()
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
            Ok((utf8(metric, "label names", &k)?, label_value(metric, v)?))
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
        if let Ok(s) = n.cast::<PyString>() {
            return utf8_or(metric, "label names", ErrorKind::InvalidName, s)
                .map(|s| (*s).to_owned());
        }
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

/// A whole number >= 0 that fits in 64 bits (an `int`, or a `float` without a fraction), as
/// `what` of `metric`: [`ErrorKind::InvalidValue`] when out of range, `MetricTypeError` when
/// not a number.
pub fn whole_u64(metric: &str, what: &str, v: &Bound<'_, PyAny>) -> PyResult<u64> {
    let py = v.py();
    if let Ok(i) = v.cast::<PyInt>() {
        return i.extract::<u64>().map_err(|_| {
            binding_error(
                py,
                ErrorKind::InvalidValue,
                metric,
                &format!("{what} must be a whole number in 0..2**64, not {i}"),
            )
        });
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        let x = f.value();
        // 2^64 as f64: every smaller whole float converts exactly.
        if x >= 0.0 && x.fract() == 0.0 && x < 18_446_744_073_709_551_616.0 {
            return Ok(x as u64);
        }
        return Err(binding_error(
            py,
            ErrorKind::InvalidValue,
            metric,
            &format!("{what} must be a whole number in 0..2**64, not {x:?}"),
        ));
    }
    Err(type_error(
        py,
        metric,
        &format!("{what} must be an int, not {}", type_name(v)),
    ))
}

/// A whole-number option of `metric` (`cardinality_limit`, `significant_figures`, ...): an
/// `int`, or a `float` without a fraction, in `0..=T::MAX`. `MetricTypeError` when not a
/// number, [`ErrorKind::InvalidConfig`] otherwise; the core then applies the option's own range.
pub fn whole_option<T: TryFrom<u64> + Bounded>(
    metric: &str,
    what: &str,
    v: &Bound<'_, PyAny>,
) -> PyResult<T> {
    let py = v.py();
    let bad = |shown: String| {
        binding_error(
            py,
            ErrorKind::InvalidConfig,
            metric,
            &format!(
                "{what} must be a whole number in 0..={}, not {shown}",
                T::MAX_U64
            ),
        )
    };
    let n = if let Ok(i) = v.cast::<PyInt>() {
        i.extract::<u64>().map_err(|_| bad(i.to_string()))?
    } else if let Ok(f) = v.cast::<PyFloat>() {
        let x = f.value();
        // 2^64 as f64: every smaller whole float converts exactly.
        if !(x >= 0.0 && x.fract() == 0.0 && x < 18_446_744_073_709_551_616.0) {
            return Err(bad(format!("{x:?}")));
        }
        x as u64
    } else {
        return Err(type_error(
            py,
            metric,
            &format!("{what} must be an int, not {}", type_name(v)),
        ));
    };
    T::try_from(n).map_err(|_| bad(n.to_string()))
}

/// The largest value of an integer type, for [`whole_option`]'s message.
pub trait Bounded {
    const MAX_U64: u64;
}

macro_rules! bounded {
    ($($t:ty),*) => { $(impl Bounded for $t { const MAX_U64: u64 = <$t>::MAX as u64; })* };
}
bounded!(u8, u32, u64, usize);

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
