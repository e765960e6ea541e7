//! Custom collectors' families (prometheus_client's `Metric` objects with their `Sample`
//! named tuples) read into the core's [`SampleFamily`] and written by the core, so a scrape
//! of a collector costs reading its objects, not formatting them in Python.

use metricore::expose::{
    Sample, SampleExemplar, SampleFamily, SampleTime, encode_samples_prometheus_client,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyString};

use crate::errors::IntoPyResult;

/// `float(v)`: numbers directly, anything else through Python's `float()` (objects with
/// `__float__`, numeric strings), raising as `float()` does.
fn float(v: &Bound<'_, PyAny>) -> PyResult<f64> {
    if let Ok(f) = v.extract::<f64>() {
        return Ok(f);
    }
    v.py().get_type::<PyFloat>().call1((v,))?.extract()
}

fn text(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    Ok(v.str()?.to_cow()?.into_owned())
}

fn pairs(d: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let d = d.cast::<PyDict>()?;
    d.iter().map(|(k, v)| Ok((text(&k)?, text(&v)?))).collect()
}

fn time(v: &Bound<'_, PyAny>) -> PyResult<Option<SampleTime>> {
    if v.is_none() {
        return Ok(None);
    }
    Ok(Some(SampleTime {
        seconds: float(v)?,
        text: text(v)?,
    }))
}

fn sample(s: &Bound<'_, PyAny>) -> PyResult<Sample> {
    let exemplar = s.get_item(4)?;
    let exemplar = if exemplar.is_none() {
        None
    } else {
        let ts = exemplar.get_item(2)?;
        Some(SampleExemplar {
            labels: pairs(&exemplar.get_item(0)?)?,
            value: float(&exemplar.get_item(1)?)?,
            timestamp: if ts.is_none() { None } else { Some(text(&ts)?) },
        })
    };
    Ok(Sample {
        name: text(&s.get_item(0)?)?,
        labels: pairs(&s.get_item(1)?)?,
        value: float(&s.get_item(2)?)?,
        timestamp: time(&s.get_item(3)?)?,
        exemplar,
    })
}

fn family(m: &Bound<'_, PyAny>) -> PyResult<SampleFamily> {
    let samples = m
        .getattr("samples")?
        .try_iter()?
        .map(|s| sample(&s?))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(SampleFamily {
        name: text(&m.getattr("name")?)?,
        help: text(&m.getattr("documentation")?)?,
        kind: text(&m.getattr("type")?)?,
        unit: text(&m.getattr("unit")?)?,
        samples,
    })
}

/// Writes prometheus_client `Metric` objects (anything with `name`, `documentation`,
/// `type`, `unit` and `samples` of `(name, labels, value, timestamp, exemplar)`) as
/// prometheus_client does: OpenMetrics without the closing `# EOF` when `openmetrics`,
/// else the text format 0.0.4.
///
/// Raises:
///     `InvalidExemplarError`: an exemplar on a sample that may not carry one.
///     `TypeError`, `ValueError`: a value `float()` refuses (as prometheus_client raises).
#[pyfunction]
#[pyo3(signature = (metrics, openmetrics = false))]
pub fn render_samples<'py>(
    py: Python<'py>,
    metrics: &Bound<'py, PyAny>,
    openmetrics: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let families = metrics
        .try_iter()?
        .map(|m| {
            let m = m?;
            family(&m).inspect_err(|e| {
                // As prometheus_client: the failing family rides along in the exception.
                let _ = append_arg(py, e, &m);
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let mut out = Vec::new();
    encode_samples_prometheus_client(&mut out, &families, openmetrics).py(py)?;
    Ok(PyBytes::new(py, &out))
}

fn append_arg(py: Python<'_>, e: &PyErr, m: &Bound<'_, PyAny>) -> PyResult<()> {
    let value = e.value(py);
    let args = value.getattr("args")?;
    let mut items: Vec<Bound<'_, PyAny>> = args.try_iter()?.collect::<PyResult<_>>()?;
    items.push(m.clone());
    value.setattr("args", pyo3::types::PyTuple::new(py, items)?)
}
