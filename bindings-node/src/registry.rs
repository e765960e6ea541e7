//! The registry: registration, and rendering (sync, or as a Promise off the event loop).

use metricore::expose::Format;
use metricore::registry::{FamilySnapshot, SeriesValue};
use metricore::{Dialect, HistogramOpts, Registry, SummaryOpts, default_registry};
use napi::bindgen_prelude::{Object, ToNapiValue, TypeName, ValueType};
use napi::{Env, Status, sys};
use napi_derive::napi;

use crate::clock::JsWindowClock;
use crate::convert::{HistogramOptions, MetricOptions, histogram_opts, metric_opts};
use crate::errors::OrThrow;
use crate::metrics::{CounterFamily, GaugeFamily, HistogramFamily, SummaryFamily};
use crate::record::Record;
use crate::sampler::JsSampler;
use crate::snapshot::JsHistogramSnapshot;
use crate::tasks;

/// Exposition text on its way to JavaScript. Creating a V8 string of half a megabyte (10k
/// series) costs the event loop about half a millisecond, so ASCII text, which exposition
/// almost always is, becomes an external Latin-1 string: V8 keeps the bytes where they are
/// and frees them through `free_text` when the string is collected. Anything else, and
/// short text, is copied as usual.
pub struct Text {
    text: String,
    ascii: bool,
}

impl From<String> for Text {
    /// Runs where the text was made (the worker thread, for the async renders), so that
    /// the event loop is left only the hand-over.
    fn from(mut text: String) -> Self {
        let ascii = text.is_ascii();
        if ascii && text.len() >= EXTERNAL_TEXT_MIN {
            // Boxing the bytes for V8 would otherwise reallocate them on the loop thread.
            text.shrink_to_fit();
        }
        Self { text, ascii }
    }
}

impl TypeName for Text {
    fn type_name() -> &'static str {
        "String"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

/// Below this, a copy costs less than the external string's bookkeeping.
const EXTERNAL_TEXT_MIN: usize = 64 * 1024;

impl ToNapiValue for Text {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let len = val.text.len();
        let Ok(js_len) = isize::try_from(len) else {
            return Err(napi::Error::new(
                Status::InvalidArg,
                "exposition text too long",
            ));
        };
        if !val.ascii || len < EXTERNAL_TEXT_MIN {
            // SAFETY: napi-rs calls us with the live env of the current call, which is all
            // String's conversion needs.
            return unsafe { String::to_napi_value(env, val.text) };
        }
        let data = Box::into_raw(val.text.into_bytes().into_boxed_slice()).cast::<u8>();
        let (mut out, mut copied) = (std::ptr::null_mut(), false);
        // SAFETY: `env` is live (as above); `data` points to `len` bytes of ASCII (valid
        // Latin-1) that we own and hand over: Node calls `free_text` with `len` as the hint
        // exactly once, when V8 drops the string or at once if it copied the bytes.
        let status = unsafe {
            sys::node_api_create_external_string_latin1(
                env,
                data.cast(),
                js_len,
                Some(free_text),
                len as *mut std::ffi::c_void,
                &raw mut out,
                &raw mut copied,
            )
        };
        if status == sys::Status::napi_ok {
            return Ok(out);
        }
        // SAFETY: on failure Node did not take the bytes: they are still the box made above.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, len)) });
        Err(napi::Error::new(
            Status::GenericFailure,
            format!("cannot create the exposition string (napi status {status})"),
        ))
    }
}

/// Frees the bytes of an external exposition string (see [`Text`]).
unsafe extern "C" fn free_text(
    _env: sys::node_api_basic_env,
    data: *mut std::ffi::c_void,
    len: *mut std::ffi::c_void,
) {
    // SAFETY: `data` and `len` are the pointer and length of the boxed bytes that
    // `Text::to_napi_value` handed over, and Node calls this once for them.
    drop(unsafe {
        Box::from_raw(std::ptr::slice_from_raw_parts_mut(
            data.cast::<u8>(),
            len as usize,
        ))
    });
}

/// What a render task produces.
#[derive(Clone, Copy)]
enum Output {
    Text(Dialect),
    OpenMetrics(Dialect),
    Json,
}

fn render(registry: &Registry, output: Output) -> Text {
    match output {
        Output::Text(d) => text(registry.render_with(Format::Text, d)),
        Output::OpenMetrics(d) => text(registry.render_with(Format::OpenMetrics, d)),
        Output::Json => registry.to_json(),
    }
    .into()
}

/// The encoders write UTF-8 (they copy `str` pieces and ASCII).
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The exposition dialect a render names: `"prom-client"` (the default: prom-client's
/// spelling), `"canonical"` (metricore's own) or `"prometheus_client"` (Python's).
fn parse_dialect(name: Option<String>) -> napi::Result<Dialect> {
    match name.as_deref() {
        None | Some("prom-client") => Ok(Dialect::PromClient),
        Some("canonical") => Ok(Dialect::Canonical),
        Some("prometheus_client") => Ok(Dialect::prometheus_client_from_env()),
        Some(other) => Err(napi::Error::new(
            napi::Status::InvalidArg,
            format!(
                "unknown exposition dialect '{other}' (dialects: 'prom-client', 'canonical', 'prometheus_client')"
            ),
        )),
    }
}

/// A set of metric families, collected and rendered together.
#[napi(js_name = "Registry")]
pub struct JsRegistry {
    inner: Registry,
}

#[napi]
impl JsRegistry {
    /// An empty registry.
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        Self {
            inner: Registry::new(),
        }
    }

    /// The process-wide registry (the one Rust's `metricore::default_registry()` returns).
    #[napi(factory, catch_unwind)]
    pub fn global() -> Self {
        Self {
            inner: default_registry().clone(),
        }
    }

    /// Registers (or returns the identically shaped existing) counter family.
    /// Bad names are `ERR_METRICORE_INVALID_NAME`; a name taken by another shape is
    /// `ERR_METRICORE_CONFLICT`.
    #[napi(catch_unwind)]
    pub fn counter_family(&self, env: Env, options: MetricOptions) -> napi::Result<CounterFamily> {
        let family = self
            .inner
            .counter_family(metric_opts(env, options)?)
            .or_throw(env)?;
        Ok(CounterFamily { family })
    }

    /// Registers (or returns) a gauge family.
    #[napi(catch_unwind)]
    pub fn gauge_family(&self, env: Env, options: MetricOptions) -> napi::Result<GaugeFamily> {
        let family = self
            .inner
            .gauge_family(metric_opts(env, options)?)
            .or_throw(env)?;
        Ok(GaugeFamily { family })
    }

    /// Registers (or returns) a histogram family; bad histogram options are
    /// `ERR_METRICORE_INVALID_CONFIG`.
    #[napi(catch_unwind)]
    pub fn histogram_family(
        &self,
        env: Env,
        options: MetricOptions,
        histogram: Option<HistogramOptions>,
    ) -> napi::Result<HistogramFamily> {
        let hopts = histogram_opts(
            env,
            &options.name,
            HistogramOpts::latency(),
            histogram,
            None,
        )?;
        let family = self
            .inner
            .histogram_family(metric_opts(env, options)?, hopts)
            .or_throw(env)?;
        Ok(HistogramFamily { family })
    }

    /// The registry's resource sampler (one per registry, created stopped on first use);
    /// its latest sample is rendered with the registry's families. A family already
    /// using one of the sampler's names is a `TypeError` `ERR_METRICORE_CONFLICT`.
    #[napi(catch_unwind)]
    pub fn sampler(&self, env: Env) -> napi::Result<JsSampler> {
        let inner = self.inner.sampler().or_throw(env)?;
        Ok(JsSampler { inner })
    }

    /// Registers (or returns) a summary family: prom-client's Summary, recording into
    /// histograms of any magnitude and sign (or of `histogram`'s range, when `lowest` or
    /// `highest` is given) at its precision, exposing `quantiles` (default
    /// prom-client's percentiles) over its window (`windowSeconds`/`subWindows`, prom-client's
    /// `maxAgeSeconds`/`ageBuckets`; all time without), read on `clock` when given (a
    /// `WindowClock` JavaScript moves) instead of the monotonic clock. A quantile outside
    /// 0..=1 is `ERR_METRICORE_INVALID_CONFIG`.
    #[napi(catch_unwind)]
    pub fn summary_family(
        &self,
        env: Env,
        options: MetricOptions,
        histogram: Option<HistogramOptions>,
        quantiles: Option<Vec<f64>>,
        clock: Option<&JsWindowClock>,
    ) -> napi::Result<SummaryFamily> {
        let hopts = histogram_opts(
            env,
            &options.name,
            HistogramOpts::new(),
            histogram,
            clock.map(|c| &c.inner),
        )?;
        let mut sopts = SummaryOpts::new().histogram(hopts);
        if let Some(q) = quantiles {
            sopts = sopts.quantiles(q);
        }
        let family = self
            .inner
            .summary_family(metric_opts(env, options)?, sopts)
            .or_throw(env)?;
        Ok(SummaryFamily { family })
    }

    /// Removes the family `name` (as registered); returns whether there was one.
    #[napi(catch_unwind)]
    pub fn unregister(&self, name: String) -> bool {
        self.inner.unregister(&name)
    }

    /// Removes every collector (the resource sampler among them: its figures are no longer
    /// rendered); returns how many there were. A sampler handle kept from before goes on
    /// working but is no longer this registry's.
    #[napi(catch_unwind)]
    pub fn unregister_collectors(&self) -> u32 {
        let removed = self
            .inner
            .collector_names()
            .iter()
            .filter(|name| self.inner.unregister_collector(name))
            .count();
        u32::try_from(removed).unwrap_or(u32::MAX)
    }

    /// The registered family names, in registration order.
    #[napi(catch_unwind)]
    pub fn family_names(&self) -> Vec<String> {
        self.inner.family_names()
    }

    /// Prometheus text format 0.0.4, rendered on the calling thread, in `dialect`'s spelling
    /// (`"prom-client"` by default, `"canonical"` or `"prometheus_client"`).
    #[napi(catch_unwind, ts_return_type = "string")]
    pub fn render_text(&self, dialect: Option<String>) -> napi::Result<Text> {
        Ok(render(&self.inner, Output::Text(parse_dialect(dialect)?)))
    }

    /// OpenMetrics 1.0.0 text, rendered on the calling thread; `dialect` as for `renderText`.
    #[napi(catch_unwind, ts_return_type = "string")]
    pub fn render_open_metrics(&self, dialect: Option<String>) -> napi::Result<Text> {
        Ok(render(
            &self.inner,
            Output::OpenMetrics(parse_dialect(dialect)?),
        ))
    }

    /// Every family as JSON, rendered on the calling thread.
    #[napi(catch_unwind, ts_return_type = "string")]
    pub fn to_json(&self) -> Text {
        render(&self.inner, Output::Json)
    }

    /// Every family as plain objects in the JSON exposition's shape (`name`, `help`, `unit`
    /// when set, `kind`, `label_names`, `series`), gathered on the calling thread.
    #[napi(catch_unwind, ts_return_type = "Array<Record<string, unknown>>")]
    pub fn families(&self) -> napi::Result<Record> {
        Record::of(&self.inner.gather())
    }

    /// Prometheus text, gathered and encoded on metricore's worker thread; `dialect` as for
    /// `renderText`.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn render_text_async<'env>(
        &self,
        env: &'env Env,
        dialect: Option<String>,
    ) -> napi::Result<Object<'env>> {
        self.task(env, Output::Text(parse_dialect(dialect)?))
    }

    /// OpenMetrics text, gathered and encoded on metricore's worker thread; `dialect` as for
    /// `renderText`.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn render_open_metrics_async<'env>(
        &self,
        env: &'env Env,
        dialect: Option<String>,
    ) -> napi::Result<Object<'env>> {
        self.task(env, Output::OpenMetrics(parse_dialect(dialect)?))
    }

    /// JSON, gathered and encoded on metricore's worker thread.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn to_json_async<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        self.task(env, Output::Json)
    }
}

impl JsRegistry {
    /// Gathers and encodes the registry on metricore's worker thread.
    fn task<'env>(&self, env: &'env Env, output: Output) -> napi::Result<Object<'env>> {
        let registry = self.inner.clone();
        tasks::spawn(
            env,
            move || Ok(render(&registry, output)),
            std::convert::identity,
        )
    }
}

impl Default for JsRegistry {
    fn default() -> Self {
        Self::new()
    }
}

/// The HTTP `Content-Type` of Prometheus text (`openMetrics` false, the default) or of
/// OpenMetrics text.
#[napi(catch_unwind)]
pub fn content_type(open_metrics: Option<bool>) -> &'static str {
    if open_metrics.unwrap_or(false) {
        Format::OpenMetrics.content_type()
    } else {
        Format::Text.content_type()
    }
}

/// One family at collection time (what Prometheus' gather returns), series ordered by
/// label values.
#[napi]
pub struct CollectedFamily {
    inner: FamilySnapshot,
}

#[napi]
impl CollectedFamily {
    /// Full name (a counter's without `_total`).
    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> String {
        self.inner.name.clone()
    }

    /// `counter`, `gauge` or `histogram`.
    #[napi(getter, catch_unwind)]
    pub fn kind(&self) -> &'static str {
        self.inner.kind.as_str()
    }

    /// Label names.
    #[napi(getter, catch_unwind)]
    pub fn label_names(&self) -> Vec<String> {
        self.inner.label_names.clone()
    }

    /// Number of series.
    #[napi(getter, catch_unwind)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.series.len()).unwrap_or(u32::MAX)
    }

    /// The label values of series `index`, or `null` past the end.
    #[napi(catch_unwind)]
    pub fn labels(&self, index: u32) -> Option<Vec<String>> {
        let s = self.inner.series.get(index as usize)?;
        Some(s.labels.iter().map(ToOwned::to_owned).collect())
    }

    /// The value of counter or gauge series `index`; `null` for a histogram or past the end.
    #[napi(catch_unwind)]
    pub fn value(&self, index: u32) -> Option<f64> {
        match &self.inner.series.get(index as usize)?.value {
            SeriesValue::Counter { value, .. }
            | SeriesValue::SampledCounter { value }
            | SeriesValue::Gauge { value } => Some(*value),
            _ => None,
        }
    }

    /// The snapshot of histogram series `index`; `null` for a counter or gauge or past the end.
    #[napi(catch_unwind)]
    pub fn histogram(&self, index: u32) -> Option<JsHistogramSnapshot> {
        match &self.inner.series.get(index as usize)?.value {
            SeriesValue::Histogram(h) => Some(JsHistogramSnapshot::new(h.clone())),
            _ => None,
        }
    }
}

#[napi]
impl JsRegistry {
    /// Every family, collected now (registration order, then metricore's self-metrics).
    #[napi(catch_unwind)]
    pub fn gather(&self) -> Vec<CollectedFamily> {
        self.inner
            .gather()
            .into_iter()
            .map(|inner| CollectedFamily { inner })
            .collect()
    }
}
