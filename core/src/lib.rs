//! # metricore
//!
//! One metrics engine for Rust, C, Python and Node: lock-free counters,
//! gauges and HDR histograms, a registry of labelled families, resource
//! samplers, and Prometheus / OpenMetrics exposition.
//!
//! ## The concepts
//!
//! - A **counter** is an unsigned 64-bit integer that only goes up. Rates are
//!   computed by whoever reads it. An uncontended increment is a single atomic
//!   operation; when threads contend, the counter spreads itself over
//!   cache-padded cells (as Java's `LongAdder` does) and reads add them up.
//! - A **gauge** is a 64-bit float that goes up and down (a queue length, a
//!   temperature, the time of the last success).
//! - A **histogram** is a distribution: any quantile within `10^-figures`
//!   relative error (0.1 % by default), mergeable across processes. By default
//!   it takes values of any magnitude and sign in whatever unit is recorded; a
//!   latency histogram ([`HistogramOpts::latency`]: 1 µs to 60 s) keeps
//!   HdrHistogram counts, exchangeable with every HdrHistogram as V2 blobs.
//!   Exact sum, min and max sit beside the counts; exact Prometheus bucket
//!   counts too, when bounds are given.
//! - A **window** keeps only the last N seconds (60 by default) in rotating
//!   sub-windows, for "p99 of the last minute".
//! - A **meter** turns events into rates: Dropwizard's 1/5/15-minute EWMA and
//!   mean rate, and per-second rates over a window.
//! - A **registry** holds **families**: a name, help, unit, kind and label
//!   names. Each distinct set of label values is a **series**, found through a
//!   concurrent map and returned as a handle the caller keeps, so the hot path
//!   never looks a name up.
//! - A **sampler** ([`Registry::sampler`]) reads CPU, memory, disk, network,
//!   threads and file descriptors of the process and the machine on a
//!   background thread and publishes them with the registry's families under
//!   the `process_*` and node_exporter `node_*` names; figures a platform
//!   cannot give are absent, never 0.
//!
//! Time is recorded in microseconds by default and exposed in seconds, the
//! Prometheus base unit; the TypeScript-era API in milliseconds is served by
//! [`Histogram::record_ms`], [`Timer::elapsed_ms`] and [`LatencyStats`].
//!
//! ## Example
//!
//! ```
//! use metricore::{Registry, HistogramOpts, MetricOpts};
//!
//! let registry = Registry::new();
//! let requests = registry.counter_family(MetricOpts::new("http_requests", "Requests served.").labels(["method"]))?;
//! let latency = registry.histogram(MetricOpts::new("http_latency_seconds", "Request latency."), HistogramOpts::new())?;
//!
//! let get = requests.with_label_values(&["GET"])?; // keep the handle: the hot path is one atomic add
//! get.inc();
//! latency.record_ms(12.5)?;
//!
//! assert_eq!(get.get(), 1);
//! assert_eq!(latency.snapshot().count(), 1);
//! let text = registry.render_text();
//! assert!(text.contains("http_requests_total{method=\"GET\"} 1"));
//! # Ok::<(), metricore::Error>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adder;
pub mod clock;
pub mod collect;
pub mod counter;
pub mod error;
pub mod exemplar;
pub mod expose;
mod fork;
pub mod gauge;
pub mod histogram;
pub mod labels;
mod lazy;
pub mod meter;
pub mod multiprocess;
pub mod registry;
pub mod sampler;
#[doc(hidden)]
pub mod series;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
pub mod stats;
pub mod summary;
mod sync;
mod thread_slot;
#[cfg(loom)]
#[doc(hidden)]
pub use thread_slot::end_thread;
pub mod window;

pub use collect::{CollectResult, Collector, Gathered};
pub use counter::Counter;
pub use error::{Error, ErrorKind, Result};
pub use exemplar::Exemplar;
pub use expose::{Dialect, Format, encode, encode_json, encode_with, negotiate};
pub use gauge::Gauge;
pub use histogram::{
    Bucket, Histogram, HistogramOpts, HistogramSnapshot, Layout, Resolution, Timer,
};
pub use labels::LabelValues;
pub use meter::{Ewma, Meter, MeterSnapshot, Throughput, ThroughputStats};
pub use registry::{Family, MetricKind, MetricOpts, Registry, SeriesOrder, default_registry};
pub use sampler::{OperationProfile, Probe, ResourceMetrics, Sample, Sampler, profile_operation};
pub use stats::{HistogramSummary, LatencyStats, RegistrySummary};
pub use summary::{Summary, SummaryOpts};
pub use window::WindowOpts;

/// The repository README's Rust example, run as a doctest so that it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
