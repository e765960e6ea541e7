//! Gauge series handles.

use metricore::Gauge;

use crate::ffi::{self, Castable, OwnershipArc};

/// One gauge series: a 64-bit float that goes up and down. NaN and the infinities are
/// stored as given.
///
/// Under the hood an `Arc<Gauge>`: `metricore_gauge_clone` adds a reference,
/// `metricore_gauge_free` drops one. Safe for concurrent use from any thread; updates never
/// lock.
pub struct metricore_gauge {
    _private: [u8; 0],
}

impl Castable for metricore_gauge {
    type Ownership = OwnershipArc;
    type RustType = Gauge;
}

/// Sets the value. NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_set(gauge: *const metricore_gauge, value: f64) {
    boundary! {
        try_ref!(gauge).set(value);
    }
}

/// Adds `delta` (negative to subtract), atomically. NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_add(gauge: *const metricore_gauge, delta: f64) {
    boundary! {
        try_ref!(gauge).add(delta);
    }
}

/// Subtracts `delta`, atomically. NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_sub(gauge: *const metricore_gauge, delta: f64) {
    boundary! {
        try_ref!(gauge).sub(delta);
    }
}

/// Adds 1. NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_inc(gauge: *const metricore_gauge) {
    boundary! {
        try_ref!(gauge).inc();
    }
}

/// Subtracts 1. NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_dec(gauge: *const metricore_gauge) {
    boundary! {
        try_ref!(gauge).dec();
    }
}

/// Sets the value to the current Unix time in seconds. NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_set_to_current_time(gauge: *const metricore_gauge) {
    boundary! {
        try_ref!(gauge).set_to_current_time();
    }
}

/// The current value (0 for NULL). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_get(gauge: *const metricore_gauge) -> f64 {
    boundary! {
        try_ref!(gauge).get()
    }
}

/// Adds a reference to a gauge handle and returns it (NULL for NULL). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_clone(gauge: *const metricore_gauge) -> *const metricore_gauge {
    boundary! {
        ffi::arc_clone(gauge)
    }
}

/// Releases one reference to a gauge handle; NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_free(gauge: *const metricore_gauge) {
    boundary! {
        ffi::arc_free(gauge);
    }
}
