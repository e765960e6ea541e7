//! Option objects from JavaScript, checked and turned into the core's builders.

use metricore::clock::ManualClock;
use metricore::{ErrorKind, HistogramOpts, MetricOpts, Resolution, WindowOpts};
use napi::Env;
use napi_derive::napi;

use crate::errors::throw;

/// Name, help, labels and limits of a family (the native side of prom-client's
/// `{name, help, labelNames}`).
#[napi(object)]
pub struct MetricOptions {
    /// The metric name (a counter's is given without `_total`).
    pub name: String,
    /// Help text.
    pub help: Option<String>,
    /// Label names, in the order values are given.
    pub label_names: Option<Vec<String>>,
    /// Unit (`seconds`, `bytes`, ...), appended to the name unless it already ends with it.
    pub unit: Option<String>,
    /// Distinct label sets before new ones go to the overflow series (default 10000): a
    /// whole number >= 1.
    pub cardinality_limit: Option<f64>,
}

/// How a histogram records: its HDR range and precision, its resolution and its exact
/// Prometheus buckets.
#[napi(object)]
pub struct HistogramOptions {
    /// Exact Prometheus bucket bounds in base units (seconds for time).
    pub buckets: Option<Vec<f64>>,
    /// Lowest trackable value, in recorded integers (default 1). Giving `lowest` or
    /// `highest` makes a summary record into that integer range instead of any magnitude.
    pub lowest: Option<f64>,
    /// Highest trackable value, in recorded integers (default 60000000: 60 s in
    /// microseconds, the range of a histogram given neither).
    pub highest: Option<f64>,
    /// Significant decimal figures, 0..=5 (default 3).
    pub significant_figures: Option<f64>,
    /// What one recorded integer means: `nanosecond`, `microsecond` (default),
    /// `millisecond` or `unit` (a byte, an item).
    pub resolution: Option<String>,
    /// Also keep a sliding window of this many seconds (default none), read with
    /// `windowSnapshot()`: prom-client's Summary `maxAgeSeconds`.
    pub window_seconds: Option<f64>,
    /// Sub-windows the window rotates through (default 6; prom-client's `ageBuckets`).
    pub sub_windows: Option<f64>,
}

/// The core's options for `o`.
///
/// # Errors
/// `ERR_METRICORE_INVALID_CONFIG` naming the metric for a cardinality limit that is not a
/// whole number; the core checks the rest at registration.
pub fn metric_opts(env: Env, o: MetricOptions) -> napi::Result<MetricOpts> {
    let limit = o
        .cardinality_limit
        .map(|v| count_option(env, &o.name, "cardinalityLimit", ">= 1", v))
        .transpose()?;
    let mut opts = MetricOpts::new(o.name, o.help.unwrap_or_default())
        .labels(o.label_names.unwrap_or_default());
    if let Some(unit) = o.unit {
        opts = opts.unit(unit);
    }
    if let Some(limit) = limit {
        opts = opts.cardinality_limit(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(opts)
}

/// A count or limit given as a JS number. napi's own conversion to an integer type would
/// turn -1 into 4294967295 and 1.5 into 1; this takes whole numbers only (`bound` says
/// which ones the core then accepts, for the message).
///
/// # Errors
/// `ERR_METRICORE_INVALID_CONFIG` naming `metric` and `what` otherwise.
pub fn count_option(env: Env, metric: &str, what: &str, bound: &str, v: f64) -> napi::Result<u64> {
    whole(v).ok_or_else(|| {
        throw(
            env,
            ErrorKind::InvalidConfig,
            Some(metric),
            &format!("{what} must be a whole number {bound}, not {v}"),
        )
    })
}

/// A resolution from its name.
///
/// # Errors
/// `ERR_METRICORE_INVALID_CONFIG` naming `metric` for an unknown name.
pub fn resolution(env: Env, metric: Option<&str>, name: Option<&str>) -> napi::Result<Resolution> {
    Ok(match name {
        None | Some("microsecond") => Resolution::Microsecond,
        Some("nanosecond") => Resolution::Nanosecond,
        Some("millisecond") => Resolution::Millisecond,
        Some("unit") => Resolution::Unit,
        Some(other) => {
            return Err(throw(
                env,
                ErrorKind::InvalidConfig,
                metric,
                &format!(
                    "resolution must be 'nanosecond', 'microsecond', 'millisecond' or 'unit', not '{other}'"
                ),
            ));
        }
    })
}

/// A whole, non-negative number that fits a `u64` exactly (at most 2^53).
///
/// Wholeness is tested by a round trip through `u64`, not `fract()`: on the baseline x86-64
/// target (no SSE4.1) `fract` is a call into libm, and this runs for every batched record.
pub fn whole(v: f64) -> Option<u64> {
    const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
    // NaN and the infinities are outside the range.
    if !(0.0..=MAX_EXACT).contains(&v) {
        return None;
    }
    let n = v as u64;
    #[allow(clippy::float_cmp)] // exact on purpose: the round trip must give `v` back
    (n as f64 == v).then_some(n)
}

/// The core's histogram options for `o`, starting from `base` (a latency histogram for a
/// histogram family, any magnitude for a summary) where `o` leaves an option out.
///
/// # Errors
/// `ERR_METRICORE_INVALID_CONFIG` naming `metric` for a bad range or resolution; the core
/// checks the rest at registration.
pub fn histogram_opts(
    env: Env,
    metric: &str,
    base: HistogramOpts,
    o: Option<HistogramOptions>,
    clock: Option<&ManualClock>,
) -> napi::Result<HistogramOpts> {
    let mut opts = base;
    let Some(o) = o else { return Ok(opts) };
    let bad_range = |what: &str, v: f64| {
        throw(
            env,
            ErrorKind::InvalidConfig,
            Some(metric),
            &format!("{what} must be a whole number >= 0, not {v}"),
        )
    };
    if o.lowest.is_some() || o.highest.is_some() {
        let lowest = o.lowest.unwrap_or(1.0);
        let highest = o.highest.unwrap_or(60_000_000.0);
        let lo = whole(lowest).ok_or_else(|| bad_range("lowest", lowest))?;
        let hi = whole(highest).ok_or_else(|| bad_range("highest", highest))?;
        opts = opts.range(lo, hi);
    }
    if let Some(figures) = o.significant_figures {
        let figures = count_option(env, metric, "significantFigures", "in 0..=5", figures)?;
        // Anything above 5 is rejected by the core; saturate rather than wrap.
        opts = opts.significant_figures(u8::try_from(figures).unwrap_or(u8::MAX));
    }
    opts = opts.resolution(resolution(env, Some(metric), o.resolution.as_deref())?);
    if let Some(bounds) = o.buckets {
        opts = opts.buckets(bounds);
    }
    if o.window_seconds.is_some() || o.sub_windows.is_some() {
        let sub_windows = match o.sub_windows {
            Some(n) => count_option(env, metric, "subWindows", ">= 1", n)?,
            None => 6,
        };
        let window = WindowOpts::from_secs(
            metric,
            o.window_seconds.unwrap_or(60.0),
            u32::try_from(sub_windows).unwrap_or(u32::MAX),
        );
        let window = window.map_err(|e| crate::errors::core_error(env, &e))?;
        opts = opts.window(match clock {
            Some(c) => window.with_clock(c.clone()),
            None => window,
        });
    }
    Ok(opts)
}
