//! The panic boundary around every exported body, and what a call returns when it cannot do
//! its work: on a panic ([`PanicOrDefault`]) or on a NULL argument ([`NullParameterOrDefault`]).
//!
//! Since Rust 1.81 a panic unwinding out of an `extern "C"` function aborts the process;
//! [`boundary!`] turns it into `METRICORE_STATUS_PANIC` (or the neutral default for calls that
//! return no status) and a last-error message taken from the panic payload. The library never
//! installs a panic hook: the host's hook (by default, a line on stderr) still runs.
//! `panic = "unwind"` is kept in the workspace's release profile so the boundary is live.

use crate::error::{fail, metricore_status};

/// The value an exported function returns when its body panicked.
pub(crate) trait PanicOrDefault {
    /// `METRICORE_STATUS_PANIC` for a status, else the neutral default.
    fn panic_value() -> Self;
}

/// The value an exported function returns when a required pointer is NULL.
pub(crate) trait NullParameterOrDefault {
    /// `METRICORE_STATUS_NULL_PARAMETER` (recording which argument) for a status, else the
    /// neutral default.
    fn null_parameter(arg: &'static str) -> Self;
}

impl PanicOrDefault for metricore_status {
    fn panic_value() -> Self {
        metricore_status::Panic
    }
}

impl NullParameterOrDefault for metricore_status {
    fn null_parameter(arg: &'static str) -> Self {
        fail(
            metricore_status::NullParameter,
            format!("argument '{arg}' is NULL"),
        )
    }
}

/// Types whose neutral default is their `Default`: `()` (do nothing), 0, 0.0, false.
macro_rules! neutral_default {
    ($($t:ty),*) => {$(
        impl PanicOrDefault for $t {
            fn panic_value() -> Self {
                <$t>::default()
            }
        }
        impl NullParameterOrDefault for $t {
            fn null_parameter(_arg: &'static str) -> Self {
                <$t>::default()
            }
        }
    )*};
}

neutral_default!((), bool, u32, u64, usize, f64, crate::ffi::metricore_str);

impl<T> PanicOrDefault for *const T {
    fn panic_value() -> Self {
        std::ptr::null()
    }
}

impl<T> NullParameterOrDefault for *const T {
    fn null_parameter(_arg: &'static str) -> Self {
        std::ptr::null()
    }
}

impl<T> PanicOrDefault for *mut T {
    fn panic_value() -> Self {
        std::ptr::null_mut()
    }
}

impl<T> NullParameterOrDefault for *mut T {
    fn null_parameter(_arg: &'static str) -> Self {
        std::ptr::null_mut()
    }
}

/// `boundary! { body }`: runs `body` (whose `return`s leave the body) under `catch_unwind`;
/// on a panic records the payload as the last error and returns
/// [`PanicOrDefault::panic_value`].
///
/// `AssertUnwindSafe` is sound here: after a panic the body's state is dropped and never
/// observed again by this call, and the core's shared state is atomics and poison-tolerant
/// locks, so later calls see consistent values.
macro_rules! boundary {
    ($($tt:tt)*) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($tt)* })) {
            Ok(ret) => ret,
            Err(payload) => {
                $crate::error::record_panic(&*payload);
                $crate::boundary::PanicOrDefault::panic_value()
            }
        }
    };
}
