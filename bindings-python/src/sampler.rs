//! The resource sampler and `profile_operation`.

use metricore::sampler::interval_from_secs;
use metricore::{ResourceMetrics, Sample, Sampler};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::IntoPyResult;
use crate::record::to_python;

/// A registry's background resource sampler: CPU, memory, disk, network, threads and file
/// descriptors of this process and the machine. Its latest sample is exposed with the
/// registry (`process_*`, `node_*`). Figures a platform cannot give are `None`, never 0.
///
/// Starting, stopping and sampling release the GIL.
#[pyclass(frozen, module = "metricore._native", name = "Sampler")]
pub struct PySampler {
    pub(crate) inner: Sampler,
}

#[pymethods]
impl PySampler {
    /// Starts sampling every `interval` seconds (a sample is taken at once); restarts with the
    /// new interval when running.
    ///
    /// Raises:
    ///     `InvalidConfigError`: interval below 0.1 s or above a day.
    #[pyo3(signature = (interval = None), text_signature = "(self, interval=10.0)")]
    fn start(&self, py: Python<'_>, interval: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let interval = interval.map_or(Ok(10.0), |v| {
            crate::convert::float_value("resource sampler", "interval", v)
        })?;
        let d = interval_from_secs(interval).py(py)?;
        py.detach(|| self.inner.start(d)).py(py)
    }

    /// Stops the thread and waits for it (does nothing when stopped).
    fn stop(&self, py: Python<'_>) {
        py.detach(|| self.inner.stop());
    }

    /// Whether a sampling thread runs in this process.
    #[getter]
    fn is_running(&self) -> bool {
        self.inner.is_running()
    }

    /// Takes a sample now (also published as the latest) and returns it as a dict:
    /// `timestamp`, `interval_seconds`, `process` and `system`.
    fn sample_now(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = py.detach(|| self.inner.sample_now());
        to_python(py, &s)
    }

    /// The latest sample as a dict, or `None` before the first.
    fn latest(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.inner.latest().map(|s| to_python(py, &s)).transpose()
    }

    /// The flat resource figures from a fresh sample: `memory_used_bytes`,
    /// `memory_total_bytes`, `cpu_usage_percent`, `disk_used_bytes`, `disk_total_bytes`,
    /// `thread_count`, `fd_count`, `timestamp`, plus `memory_utilization` and
    /// `disk_utilization` (0..=1).
    fn resource_metrics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let m = py.detach(|| ResourceMetrics::from(&self.inner.sample_now()));
        let d = to_python(py, &m)?;
        let b = d.bind(py);
        b.set_item("memory_utilization", m.memory_utilization())?;
        b.set_item("disk_utilization", m.disk_utilization())?;
        Ok(d)
    }

    /// The TypeScript-era machine figures (`cpu`, `memory`, `disk`, `network`, camelCase keys) from a
    /// fresh sample; rates cover the time since the previous sample.
    fn resource_shapes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = py.detach(|| self.inner.sample_now());
        resource_shapes(py, &s)
    }

    /// Failed reads by source since the sampler was made.
    fn errors(&self) -> std::collections::BTreeMap<&'static str, u64> {
        self.inner.errors()
    }

    fn __repr__(&self) -> String {
        format!("Sampler(running={})", self.inner.is_running())
    }
}

/// A dict of `(key, value)` pairs, in order.
macro_rules! dict {
    ($py:expr, { $($key:literal: $value:expr),* $(,)? }) => {{
        let d = PyDict::new($py);
        $(d.set_item($key, $value)?;)*
        d
    }};
}

/// The TypeScript-era machine figures of `s`: `cpu` (percent), `memory` (bytes), `disk` (all
/// whole disks, per second) and `network` (all interfaces, per second), each `None` when the
/// platform or a first sample cannot give it.
fn resource_shapes<'py>(py: Python<'py>, s: &Sample) -> PyResult<Bound<'py, PyDict>> {
    let sys = &s.system;
    let cpu = match sys.cpu_percent {
        Some(c) => Some(dict!(py, {
            "usage": c.total,
            "user": c.user,
            "system": c.system,
            "idle": c.idle,
            "iowait": c.iowait,
            "steal": c.steal,
            "loadAvg": sys.load_average.map(Vec::from),
        })),
        None => None,
    };
    let memory = match &sys.memory {
        Some(m) => Some(dict!(py, {
            "used": m.used_bytes,
            "free": m.free_bytes,
            "cached": m.cached_bytes,
            "buffers": m.buffers_bytes,
            "swapUsed": m.swap_used_bytes,
            "swapFree": m.swap_free_bytes,
            "pressure": sys.memory_pressure.as_ref().map(|p| p.some_avg10),
        })),
        None => None,
    };
    let disk = match sys.all_disks() {
        Some(d) => Some(dict!(py, {
            "readOps": d.read_ops_per_second,
            "writeOps": d.write_ops_per_second,
            "readBytes": d.read_bytes_per_second,
            "writeBytes": d.write_bytes_per_second,
            "utilization": d.utilisation_percent,
            "queueLength": d.queue_length,
        })),
        None => None,
    };
    let network = match sys.all_interfaces() {
        Some(n) => Some(dict!(py, {
            "connections": sys.tcp_established(),
            "bandwidth": n.receive_bytes_per_second + n.transmit_bytes_per_second,
            "packets": dict!(py, {
                "in": n.receive_packets_per_second,
                "out": n.transmit_packets_per_second,
                "dropped": n.drops_per_second,
                "errors": n.errors_per_second,
            }),
        })),
        None => None,
    };
    Ok(dict!(py, { "cpu": cpu, "memory": memory, "disk": disk, "network": network }))
}

/// Calls `func()` and measures it: returns `(result, profile)` where `profile` holds
/// `duration_ms`, `cpu_user_ms`, `cpu_system_ms` (the whole process) and `rss_delta_bytes`.
/// Exceptions from `func` propagate. (`metricore.profile_operation` adds the Python GC figures.)
#[pyfunction]
pub fn profile_operation(
    py: Python<'_>,
    func: &Bound<'_, PyAny>,
) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
    let (result, profile) = metricore::profile_operation(|| func.call0());
    Ok((result?.unbind(), to_python(py, &profile)?))
}
