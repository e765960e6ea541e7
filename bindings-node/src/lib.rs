//! Node bindings for metricore: the napi-rs addon behind the npm package `metricore`.
//!
//! This crate is a thin skin over the core's handles, as `bindings-python` is: a
//! [`registry::JsRegistry`] registers families, a family (`CounterFamily`, ...) hands out
//! series by label values, and a series (`CounterSeries`, ...) is the handle users keep, so
//! the hot path is one native call with no lookup. Rendering is also offered as a
//! Promise-returning task on metricore's worker thread (see `tasks`). Every core error is
//! mapped to a `TypeError`/`RangeError` with a stable `code` in one place, the `errors`
//! module.
//!
//! The prom-client-shaped API (`new Counter({name, help, labelNames})`, `register`, ...)
//! is plain JavaScript in `lib/`, on top of these classes; the generated `index.js` and
//! `index.d.ts` describe this layer and are committed and drift-checked.

// napi converts each JS argument into an owned Rust value before the call, so an argument
// taken by reference is not an option.
#![allow(
    clippy::needless_pass_by_value,
    reason = "napi hands #[napi] functions owned arguments"
)]
// These comments become the JSDoc of index.d.ts, where a `# Errors` heading reads oddly;
// each one names its error codes in the text instead.
#![allow(
    clippy::missing_errors_doc,
    reason = "#[napi] docs are JSDoc; error codes are named in the text"
)]

mod clock;
mod convert;
pub mod errors;
mod lanes;
mod meter;
mod metrics;
mod prom_values;
mod record;
pub mod registry;
mod sampler;
mod snapshot;
mod tasks;
