//! A clock for summary windows that JavaScript moves, so that a `Summary`'s
//! `maxAgeSeconds` window follows JavaScript's time (`Date.now()`, which fake timers move)
//! as prom-client's does, instead of the operating system's monotonic clock.

use std::time::Duration;

use metricore::clock::ManualClock;
use napi_derive::napi;

/// A window clock moved forward from JavaScript by the milliseconds `Date.now()` advanced.
#[napi(js_name = "WindowClock")]
pub struct JsWindowClock {
    pub(crate) inner: ManualClock,
}

impl Default for JsWindowClock {
    fn default() -> Self {
        Self {
            inner: ManualClock::new(),
        }
    }
}

#[napi]
impl JsWindowClock {
    /// A clock at an arbitrary origin.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `ms` whole milliseconds; anything not a finite number
    /// >= 1 leaves it where it is (it never goes back).
    #[napi(catch_unwind)]
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked finite and >= 1 first; the fraction is dropped"
    )]
    pub fn advance_ms(&self, ms: f64) {
        if ms.is_finite() && ms >= 1.0 {
            self.inner.advance(Duration::from_millis(ms as u64));
        }
    }
}
