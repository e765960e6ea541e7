//! The registry's resource sampler: process and machine figures on a background thread.

use metricore::Sampler;

use crate::error::{check, fail, metricore_status};
use crate::ffi::{self, Castable, OwnershipArc};
use crate::registry::metricore_registry;

/// A registry's resource sampler: CPU, memory, disk, network, threads and file descriptors
/// of the process and the machine, published with the registry's families under the
/// `process_*` and node_exporter `node_*` names. Figures a platform cannot give are absent,
/// never 0.
///
/// Under the hood an `Arc<Sampler>`: `metricore_sampler_clone` adds a reference,
/// `metricore_sampler_free` drops one. Freeing the handle does not stop the thread; call
/// `metricore_sampler_stop` before exiting. Safe for concurrent use from any thread; after
/// `fork()` the child sees the sampler as stopped and may start its own.
pub struct metricore_sampler {
    _private: [u8; 0],
}

impl Castable for metricore_sampler {
    type Ownership = OwnershipArc;
    type RustType = Sampler;
}

/// Stores in `*sampler_out` the registry's sampler, made (stopped) on the first call; every
/// call returns a handle to the same sampler. The caller frees the handle with
/// `metricore_sampler_free`.
///
/// Errors: `NULL_PARAMETER`; `CONFLICT` if a family already uses one of the names the
/// sampler publishes. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_registry_sampler(
    registry: *const metricore_registry,
    sampler_out: *mut *const metricore_sampler,
) -> metricore_status {
    boundary! {
        let registry = try_ref!(registry);
        let sampler_out = try_out!(sampler_out);
        match check(registry.sampler()) {
            Ok(s) => {
                sampler_out.write(ffi::arc_into_ptr::<metricore_sampler>(s));
                metricore_status::Ok
            }
            Err(status) => status,
        }
    }
}

/// Starts sampling every `interval_secs` seconds on a background thread (one sample is
/// taken at once); restarts with the new interval if it was running.
///
/// Errors: `NULL_PARAMETER`; `INVALID_CONFIG` for NaN, an interval below 0.1 s or above a
/// day, or when the OS refuses a thread. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_sampler_start(
    sampler: *const metricore_sampler,
    interval_secs: f64,
) -> metricore_status {
    boundary! {
        let sampler = try_ref!(sampler);
        let interval = match check(metricore::sampler::interval_from_secs(interval_secs)) {
            Ok(d) => d,
            Err(status) => return status,
        };
        match check(sampler.start(interval)) {
            Ok(()) => metricore_status::Ok,
            Err(status) => status,
        }
    }
}

/// Stops the sampling thread and waits for it to end (at most one sample's time). Does
/// nothing if it is not running, or for NULL. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_sampler_stop(sampler: *const metricore_sampler) {
    boundary! {
        try_ref!(sampler).stop();
    }
}

/// Whether the sampling thread runs in this process (false for NULL). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_sampler_is_running(sampler: *const metricore_sampler) -> bool {
    boundary! {
        try_ref!(sampler).is_running()
    }
}

/// Takes a sample now, publishes it as the latest (collected with the registry), and writes
/// it as JSON into `buf` with the buffer rules of `metricore_registry_render`. The sample
/// is taken even when the buffer is too small; `buf = NULL, len = 0` only takes it.
///
/// Errors: `NULL_PARAMETER`, `BUFFER_TOO_SMALL`. Thread-safe (samples are serialised).
#[unsafe(no_mangle)]
pub extern "C" fn metricore_sampler_sample_now(
    sampler: *const metricore_sampler,
    buf: *mut u8,
    len: usize,
    out_n: *mut usize,
) -> metricore_status {
    boundary! {
        let sampler = try_ref!(sampler);
        let out_n = try_out!(out_n);
        let sample = sampler.sample_now();
        match serde_json::to_vec(&sample) {
            Ok(json) => ffi::write_buf(&json, buf, len, out_n, "the sample"),
            Err(e) => fail(metricore_status::Unknown, format!("cannot encode the sample as JSON: {e}")),
        }
    }
}

/// Adds a reference to a sampler handle and returns it (NULL for NULL). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_sampler_clone(
    sampler: *const metricore_sampler,
) -> *const metricore_sampler {
    boundary! {
        ffi::arc_clone(sampler)
    }
}

/// Releases one reference to a sampler handle; NULL does nothing. It does not stop the
/// sampler. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_sampler_free(sampler: *const metricore_sampler) {
    boundary! {
        ffi::arc_free(sampler);
    }
}
