//! `Meter`: events and the rates at which they happen.

use metricore::window::WindowOpts;
use metricore::{ErrorKind, Meter, MeterSnapshot};
use napi::Env;
use napi_derive::napi;

use crate::convert::{count_option, whole};
use crate::errors::{OrThrow, throw};

/// Every figure of a meter, read at one instant; rates are per second.
#[napi(object, js_name = "MeterSnapshot")]
pub struct JsMeterSnapshot {
    /// Events since creation.
    pub count: f64,
    /// Events per second since creation.
    pub mean_rate: f64,
    /// 1-minute exponentially weighted rate.
    pub one_minute_rate: f64,
    /// 5-minute exponentially weighted rate.
    pub five_minute_rate: f64,
    /// 15-minute exponentially weighted rate.
    pub fifteen_minute_rate: f64,
    /// Rate over the sliding window (rps; times 60 for rpm).
    pub rate_per_second: f64,
    /// The sliding window's span in seconds.
    pub window_seconds: f64,
}

impl From<MeterSnapshot> for JsMeterSnapshot {
    fn from(s: MeterSnapshot) -> Self {
        Self {
            count: s.count as f64,
            mean_rate: s.mean_rate,
            one_minute_rate: s.one_minute_rate,
            five_minute_rate: s.five_minute_rate,
            fifteen_minute_rate: s.fifteen_minute_rate,
            rate_per_second: s.rate_per_second,
            window_seconds: s.window_seconds,
        }
    }
}

/// Events and their rates: the mean rate, Dropwizard's 1/5/15-minute EWMA rates (ticked
/// every 5 s) and the exact rate over a sliding window (default the last 60 s in 6
/// sub-windows, the TypeScript era's window). Each `mark` is one native call.
#[napi(js_name = "Meter")]
pub struct JsMeter {
    inner: Meter,
}

#[napi]
impl JsMeter {
    /// A meter whose windowed rate covers the last `windowSeconds` (default 60) in
    /// `subWindows` parts (default 6). A bad window is `ERR_METRICORE_INVALID_CONFIG`.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        window_seconds: Option<f64>,
        sub_windows: Option<f64>,
    ) -> napi::Result<Self> {
        // Taken as a number, not a u32: napi would wrap -1 to 4294967295 and cut 1.5 to 1.
        let sub_windows = match sub_windows {
            Some(n) => count_option(env, "meter", "subWindows", "in 1..=1000", n)?,
            None => 6,
        };
        let sub_windows = u32::try_from(sub_windows).map_err(|_| {
            throw(
                env,
                ErrorKind::InvalidConfig,
                Some("meter"),
                &format!("subWindows must be a whole number in 1..=1000, not {sub_windows}"),
            )
        })?;
        let window = WindowOpts::from_secs("meter", window_seconds.unwrap_or(60.0), sub_windows)
            .or_throw(env)?;
        Ok(Self {
            inner: Meter::with_window(window),
        })
    }

    /// Records `n` events (default 1): a whole number >= 0, else `ERR_METRICORE_INVALID_VALUE`.
    #[napi(catch_unwind)]
    pub fn mark(&self, env: Env, n: Option<f64>) -> napi::Result<()> {
        let v = n.unwrap_or(1.0);
        let n = whole(v).ok_or_else(|| {
            throw(
                env,
                ErrorKind::InvalidValue,
                Some("meter"),
                &format!("mark takes a whole number of events >= 0, not {v}"),
            )
        })?;
        self.inner.mark_n(n);
        Ok(())
    }

    /// Events since creation.
    #[napi(getter, catch_unwind)]
    pub fn count(&self) -> f64 {
        self.inner.count() as f64
    }

    /// Events per second over the sliding window.
    #[napi(getter, catch_unwind)]
    pub fn rate_per_second(&self) -> f64 {
        self.inner.rate_per_second()
    }

    /// Events per minute over the sliding window.
    #[napi(getter, catch_unwind)]
    pub fn rate_per_minute(&self) -> f64 {
        self.inner.rate_per_minute()
    }

    /// Every figure, read at one instant.
    #[napi(catch_unwind)]
    pub fn snapshot(&self) -> JsMeterSnapshot {
        self.inner.snapshot().into()
    }
}
