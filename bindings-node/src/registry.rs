//! The registry: registration, and rendering (sync, or as a Promise off the event loop).

use metricore::expose::Format;
use metricore::registry::{FamilySnapshot, SeriesValue};
use metricore::{Registry, SummaryOpts, default_registry};
use napi::Env;
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::convert::{HistogramOptions, MetricOptions, histogram_opts, metric_opts};
use crate::errors::OrThrow;
use crate::metrics::{CounterFamily, GaugeFamily, HistogramFamily, SummaryFamily};
use crate::sampler::JsSampler;
use crate::snapshot::JsHistogramSnapshot;
use crate::tasks::CoreTask;

/// What a render task produces.
#[derive(Clone, Copy)]
enum Output {
    Text,
    OpenMetrics,
    Json,
}

fn render(registry: &Registry, output: Output) -> String {
    match output {
        Output::Text => registry.render_text(),
        Output::OpenMetrics => registry.render_openmetrics(),
        Output::Json => registry.to_json(),
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
            .counter_family(metric_opts(options))
            .or_throw(env)?;
        Ok(CounterFamily { family })
    }

    /// Registers (or returns) a gauge family.
    #[napi(catch_unwind)]
    pub fn gauge_family(&self, env: Env, options: MetricOptions) -> napi::Result<GaugeFamily> {
        let family = self
            .inner
            .gauge_family(metric_opts(options))
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
        let hopts = histogram_opts(env, &options.name, histogram)?;
        let family = self
            .inner
            .histogram_family(metric_opts(options), hopts)
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

    /// Registers (or returns) a summary family: prom-client's Summary, recording into HDR
    /// histograms of `histogram`'s range and precision, exposing `quantiles` (default
    /// prom-client's percentiles) over its window (`windowSeconds`/`subWindows`, prom-client's
    /// `maxAgeSeconds`/`ageBuckets`; all time without). A quantile outside 0..=1 is
    /// `ERR_METRICORE_INVALID_CONFIG`.
    #[napi(catch_unwind)]
    pub fn summary_family(
        &self,
        env: Env,
        options: MetricOptions,
        histogram: Option<HistogramOptions>,
        quantiles: Option<Vec<f64>>,
    ) -> napi::Result<SummaryFamily> {
        let mut sopts =
            SummaryOpts::new().histogram(histogram_opts(env, &options.name, histogram)?);
        if let Some(q) = quantiles {
            sopts = sopts.quantiles(q);
        }
        let family = self
            .inner
            .summary_family(metric_opts(options), sopts)
            .or_throw(env)?;
        Ok(SummaryFamily { family })
    }

    /// Removes the family `name` (as registered); returns whether there was one.
    #[napi(catch_unwind)]
    pub fn unregister(&self, name: String) -> bool {
        self.inner.unregister(&name)
    }

    /// The registered family names, in registration order.
    #[napi(catch_unwind)]
    pub fn family_names(&self) -> Vec<String> {
        self.inner.family_names()
    }

    /// Prometheus text format 0.0.4, rendered on the calling thread.
    #[napi(catch_unwind)]
    pub fn render_text(&self) -> String {
        render(&self.inner, Output::Text)
    }

    /// OpenMetrics 1.0.0 text, rendered on the calling thread.
    #[napi(catch_unwind)]
    pub fn render_open_metrics(&self) -> String {
        render(&self.inner, Output::OpenMetrics)
    }

    /// Every family as JSON, rendered on the calling thread.
    #[napi(catch_unwind)]
    pub fn to_json(&self) -> String {
        render(&self.inner, Output::Json)
    }

    /// Prometheus text, gathered and encoded on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn render_text_async(&self) -> AsyncTask<CoreTask<String, String>> {
        self.task(Output::Text)
    }

    /// OpenMetrics text, gathered and encoded on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn render_open_metrics_async(&self) -> AsyncTask<CoreTask<String, String>> {
        self.task(Output::OpenMetrics)
    }

    /// JSON, gathered and encoded on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn to_json_async(&self) -> AsyncTask<CoreTask<String, String>> {
        self.task(Output::Json)
    }
}

impl JsRegistry {
    /// Gathers and encodes the registry on the libuv thread pool.
    fn task(&self, output: Output) -> AsyncTask<CoreTask<String, String>> {
        let registry = self.inner.clone();
        AsyncTask::new(CoreTask::new(
            move || Ok(render(&registry, output)),
            std::convert::identity,
        ))
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
            SeriesValue::Counter { value, .. } => Some(*value as f64),
            SeriesValue::SampledCounter { value } | SeriesValue::Gauge { value } => Some(*value),
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
