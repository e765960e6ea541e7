//! The resource sampler: CPU, memory, disk, network, threads and file descriptors of this
//! process and the machine, from the core's collector.
//!
//! Samples cross into JavaScript as JSON text (the core's serde shapes) that the skin
//! parses; a sample is a few kilobytes, taken at most every 100 ms, so the text costs far
//! less than the `/proc` reads behind it. Starting and sampling can take a millisecond, so
//! each also comes as a Promise-returning task on metricore's worker thread.

use metricore::sampler::interval_from_secs;
use metricore::{ResourceMetrics, ResourceShapes, Sampler};
use napi::Env;
use napi::bindgen_prelude::Object;
use napi_derive::napi;

use crate::errors::OrThrow;
use crate::tasks;

/// What a sampling task returns.
#[derive(Clone, Copy)]
enum View {
    /// The whole sample (`timestamp`, `interval_seconds`, `process`, `system`).
    Sample,
    /// The TypeScript-era `ResourceMetrics` shape (`cpu`, `memory`, `disk`, `network`).
    Shapes,
    /// The flat resource figures.
    Figures,
}

fn sample_json(sampler: &Sampler, view: View) -> String {
    let sample = sampler.sample_now();
    // Serializing these plain structs cannot fail (no maps with non-string keys).
    match view {
        View::Sample => serde_json::to_string(&sample),
        View::Shapes => serde_json::to_string(&ResourceShapes::from(&sample)),
        View::Figures => serde_json::to_string(&ResourceMetrics::from(&sample)),
    }
    .unwrap_or_default()
}

/// A registry's background resource sampler. Its latest sample is rendered with the
/// registry (`process_*`, `node_*`); figures a platform cannot give are absent, never 0.
#[napi(js_name = "Sampler")]
pub struct JsSampler {
    pub(crate) inner: Sampler,
}

#[napi]
impl JsSampler {
    /// Starts sampling every `intervalSeconds` (default 10, a sample is taken at once);
    /// restarts with the new interval when running. An interval below 0.1 s or above a
    /// day is a `RangeError` `ERR_METRICORE_INVALID_CONFIG`.
    #[napi(catch_unwind)]
    pub fn start(&self, env: Env, interval_seconds: Option<f64>) -> napi::Result<()> {
        let interval = interval_from_secs(interval_seconds.unwrap_or(10.0)).or_throw(env)?;
        self.inner.start(interval).or_throw(env)
    }

    /// Stops the sampling thread and waits for it (does nothing when stopped).
    #[napi(catch_unwind)]
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Whether a sampling thread runs in this process.
    #[napi(getter, catch_unwind)]
    pub fn is_running(&self) -> bool {
        self.inner.is_running()
    }

    /// Takes a sample now (also published as the latest), as JSON text.
    #[napi(catch_unwind)]
    pub fn sample_now_json(&self) -> String {
        sample_json(&self.inner, View::Sample)
    }

    /// Takes a sample on metricore's worker thread; resolves to its JSON text.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn sample_now_json_async<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        self.task(env, View::Sample)
    }

    /// The latest sample as JSON text, or `null` before the first.
    #[napi(catch_unwind)]
    pub fn latest_json(&self) -> Option<String> {
        let sample = self.inner.latest()?;
        serde_json::to_string(&sample).ok()
    }

    /// A fresh sample in the TypeScript-era `ResourceMetrics` shape, as JSON text; rates cover the
    /// time since the previous sample.
    #[napi(catch_unwind)]
    pub fn resource_shapes_json(&self) -> String {
        sample_json(&self.inner, View::Shapes)
    }

    /// The TypeScript-era shape, sampled on metricore's worker thread.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn resource_shapes_json_async<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        self.task(env, View::Shapes)
    }

    /// A fresh sample as the flat resource figures (`memory_used_bytes`, ...), JSON text.
    #[napi(catch_unwind)]
    pub fn resource_metrics_json(&self) -> String {
        sample_json(&self.inner, View::Figures)
    }

    /// Failed reads by source since the sampler was made, as JSON text.
    #[napi(catch_unwind)]
    pub fn errors_json(&self) -> String {
        serde_json::to_string(&self.inner.errors()).unwrap_or_default()
    }
}

impl JsSampler {
    /// Takes a sample on metricore's worker thread.
    fn task<'env>(&self, env: &'env Env, view: View) -> napi::Result<Object<'env>> {
        let sampler = self.inner.clone();
        tasks::spawn(
            env,
            move || Ok(sample_json(&sampler, view)),
            std::convert::identity,
        )
    }
}
