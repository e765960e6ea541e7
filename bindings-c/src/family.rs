//! Family builders and the counter, gauge and histogram families.

use std::ffi::c_char;

use metricore::registry::{Family, Metric};
use metricore::{Counter, Gauge, Histogram, HistogramOpts, MetricOpts, Resolution};

use crate::counter::metricore_counter;
use crate::error::{check, fail, metricore_status};
use crate::ffi::{self, Castable, OutPtr, OwnershipArc, OwnershipBox, metricore_str};
use crate::gauge::metricore_gauge;
use crate::histogram::metricore_histogram;
use crate::registry::metricore_registry;

/// What one recorded integer of a histogram means, for
/// `metricore_family_builder_set_histogram_resolution`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum metricore_resolution {
    /// One nanosecond.
    Nanosecond = 0,
    /// One microsecond (the default: 1 µs .. 60 s covers request latencies).
    Microsecond = 1,
    /// One millisecond.
    Millisecond = 2,
    /// One base unit (a byte, an item, a second).
    Unit = 3,
}

/// The core resolution for a `metricore_resolution` value, or `INVALID_ARGUMENT`.
pub(crate) fn resolution_from(code: u32) -> Result<Resolution, metricore_status> {
    const NANOSECOND: u32 = metricore_resolution::Nanosecond as u32;
    const MICROSECOND: u32 = metricore_resolution::Microsecond as u32;
    const MILLISECOND: u32 = metricore_resolution::Millisecond as u32;
    const UNIT: u32 = metricore_resolution::Unit as u32;
    Ok(match code {
        NANOSECOND => Resolution::Nanosecond,
        MICROSECOND => Resolution::Microsecond,
        MILLISECOND => Resolution::Millisecond,
        UNIT => Resolution::Unit,
        _ => {
            return Err(fail(
                metricore_status::InvalidArgument,
                format!(
                    "unknown resolution {code} (0 = nanosecond, 1 = microsecond, 2 = millisecond, 3 = unit)"
                ),
            ));
        }
    })
}

/// The options of a family being registered: name, help, label names, unit, cardinality
/// limit, and for histograms range, precision, resolution and exact buckets.
///
/// Under the hood a `Box`. Made by `metricore_family_builder_new`, changed by the
/// `metricore_family_builder_set_*` calls, and consumed by one of
/// `metricore_family_builder_build_counter`, `_build_gauge` or `_build_histogram` (always,
/// even when they fail), or released unused with `metricore_family_builder_free`.
/// Not safe for concurrent use: use one builder from one thread at a time.
pub struct metricore_family_builder {
    _private: [u8; 0],
}

/// What a builder holds.
#[derive(Default)]
pub(crate) struct FamilyBuilder {
    name: String,
    help: String,
    labels: Vec<String>,
    namespace: String,
    subsystem: String,
    unit: Option<String>,
    cardinality_limit: Option<usize>,
    /// Set once any histogram option is given.
    histogram: Option<HistogramOpts>,
}

impl Castable for metricore_family_builder {
    type Ownership = OwnershipBox;
    type RustType = FamilyBuilder;
}

impl FamilyBuilder {
    fn opts(&self) -> MetricOpts {
        let mut o = MetricOpts::new(self.name.clone(), self.help.clone())
            .labels(self.labels.iter().cloned())
            .namespace(self.namespace.clone())
            .subsystem(self.subsystem.clone());
        if let Some(u) = &self.unit {
            o = o.unit(u.clone());
        }
        if let Some(n) = self.cardinality_limit {
            o = o.cardinality_limit(n);
        }
        o
    }

    /// Applies `f` to the histogram options, starting from the defaults.
    fn histogram(&mut self, f: impl FnOnce(HistogramOpts) -> HistogramOpts) {
        let h = self.histogram.take().unwrap_or_else(HistogramOpts::latency);
        self.histogram = Some(f(h));
    }

    /// Fails for a counter or gauge built from a builder that has histogram options.
    fn no_histogram_options(&self, kind: &str) -> Result<(), metricore_status> {
        if self.histogram.is_some() {
            return Err(fail(
                metricore_status::InvalidConfig,
                format!(
                    "metric '{}': histogram options (range, significant figures, resolution, buckets) were set, but it is built as a {kind}",
                    self.name
                ),
            ));
        }
        Ok(())
    }
}

/// A new builder for a family called `name` (`name_len` bytes of UTF-8) described by `help`
/// (`help_len` bytes; `NULL, 0` for none), stored in `*builder_out`. The name is checked
/// when the family is built.
///
/// The caller owns the builder: pass it to a `metricore_family_builder_build_*` call, which
/// consumes it, or free it with `metricore_family_builder_free`.
///
/// Errors: `NULL_PARAMETER` (`builder_out`, or a string pointer with a length), `INVALID_UTF8`.
/// Thread-safe (the new builder is not shared).
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_new(
    name: *const c_char,
    name_len: usize,
    help: *const c_char,
    help_len: usize,
    builder_out: *mut *mut metricore_family_builder,
) -> metricore_status {
    boundary! {
        let builder_out = try_out!(builder_out);
        let name = try_str!(name, name_len);
        let help = try_str!(help, help_len);
        builder_out.write(ffi::box_into_ptr::<metricore_family_builder>(FamilyBuilder {
            name: name.to_owned(),
            help: help.to_owned(),
            ..FamilyBuilder::default()
        }));
        metricore_status::Ok
    }
}

/// Frees a builder that was not built. NULL does nothing. Do not call it after a
/// `metricore_family_builder_build_*` call, which already consumed the builder.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_free(builder: *mut metricore_family_builder) {
    boundary! {
        ffi::box_free(builder);
    }
}

/// Sets the label names (`label_names_len` strings, in the order values will be given;
/// replaces earlier ones). Names are checked when the family is built.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`. Not thread-safe for the same builder.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_set_labels(
    builder: *mut metricore_family_builder,
    label_names: *const metricore_str,
    label_names_len: usize,
) -> metricore_status {
    boundary! {
        let builder = try_mut!(builder);
        let names = try_strs!(label_names, label_names_len);
        builder.labels = names.into_iter().map(str::to_owned).collect();
        metricore_status::Ok
    }
}

/// Sets a namespace, joined to the name with `_` (prometheus_client's `namespace`).
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`. Not thread-safe for the same builder.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_set_namespace(
    builder: *mut metricore_family_builder,
    namespace: *const c_char,
    namespace_len: usize,
) -> metricore_status {
    boundary! {
        let builder = try_mut!(builder);
        try_str!(namespace, namespace_len).clone_into(&mut builder.namespace);
        metricore_status::Ok
    }
}

/// Sets a subsystem, joined between namespace and name with `_`.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`. Not thread-safe for the same builder.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_set_subsystem(
    builder: *mut metricore_family_builder,
    subsystem: *const c_char,
    subsystem_len: usize,
) -> metricore_status {
    boundary! {
        let builder = try_mut!(builder);
        try_str!(subsystem, subsystem_len).clone_into(&mut builder.subsystem);
        metricore_status::Ok
    }
}

/// Sets the unit (`seconds`, `bytes`, ...), appended to the name as `_unit` unless the name
/// already ends with it.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`. Not thread-safe for the same builder.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_set_unit(
    builder: *mut metricore_family_builder,
    unit: *const c_char,
    unit_len: usize,
) -> metricore_status {
    boundary! {
        let builder = try_mut!(builder);
        builder.unit = Some(try_str!(unit, unit_len).to_owned());
        metricore_status::Ok
    }
}

/// Sets the per-family cap on distinct label sets (default 10000; at least 1, checked when
/// built). Label sets past it share one overflow series, counted in
/// `metricore_cardinality_overflow`.
///
/// Errors: `NULL_PARAMETER`. Not thread-safe for the same builder.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_set_cardinality_limit(
    builder: *mut metricore_family_builder,
    limit: usize,
) -> metricore_status {
    boundary! {
        let builder = try_mut!(builder);
        builder.cardinality_limit = Some(limit);
        metricore_status::Ok
    }
}

/// Histograms only: the trackable range in recorded integers (default 1 .. 60000000, that is
/// 1 µs .. 60 s). Values above `highest` are counted at it and reported as saturated.
/// Checked when built.
///
/// Errors: `NULL_PARAMETER`. Not thread-safe for the same builder.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_set_histogram_range(
    builder: *mut metricore_family_builder,
    lowest: u64,
    highest: u64,
) -> metricore_status {
    boundary! {
        let builder = try_mut!(builder);
        builder.histogram(|h| h.range(lowest, highest));
        metricore_status::Ok
    }
}

/// Histograms only: significant decimal figures of the HDR counts (0..=5, default 3: 0.1 %
/// relative error). Checked when built.
///
/// Errors: `NULL_PARAMETER`; `INVALID_CONFIG` for a value above 255 (0..=5 is checked when
/// built). Not thread-safe for the same builder.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_set_histogram_significant_figures(
    builder: *mut metricore_family_builder,
    figures: u32,
) -> metricore_status {
    boundary! {
        let builder = try_mut!(builder);
        let Ok(figures) = u8::try_from(figures) else {
            return fail(
                metricore_status::InvalidConfig,
                format!("metric '{}': significant figures must be 0..=5, not {figures}", builder.name),
            );
        };
        builder.histogram(|h| h.significant_figures(figures));
        metricore_status::Ok
    }
}

/// Histograms only: what one recorded integer means, a `metricore_resolution` value
/// (default microsecond).
///
/// Errors: `NULL_PARAMETER`, `INVALID_ARGUMENT` for an unknown value. Not thread-safe for
/// the same builder.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_set_histogram_resolution(
    builder: *mut metricore_family_builder,
    resolution: u32,
) -> metricore_status {
    boundary! {
        let builder = try_mut!(builder);
        let resolution = match resolution_from(resolution) {
            Ok(r) => r,
            Err(status) => return status,
        };
        builder.histogram(|h| h.resolution(resolution));
        metricore_status::Ok
    }
}

/// Histograms only: exact Prometheus bucket upper bounds in base units (seconds for time),
/// `bounds_len` of them, ascending; a trailing +Inf is implied and may be given. The values
/// are copied. Checked when built.
///
/// Errors: `NULL_PARAMETER`. Not thread-safe for the same builder.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_set_histogram_buckets(
    builder: *mut metricore_family_builder,
    bounds: *const f64,
    bounds_len: usize,
) -> metricore_status {
    boundary! {
        let builder = try_mut!(builder);
        let bounds = try_slice!(bounds, bounds_len).to_vec();
        builder.histogram(|h| h.buckets(bounds));
        metricore_status::Ok
    }
}

/// Takes the builder back, checks the registry, registers with `register`, and hands out
/// the family as an Arc handle.
fn build<C, M>(
    builder: *mut metricore_family_builder,
    registry: *const metricore_registry,
    family_out: *mut *const C,
    kind: &str,
    register: impl FnOnce(&metricore::Registry, &FamilyBuilder) -> metricore::Result<Family<M>>,
) -> metricore_status
where
    C: Castable<Ownership = OwnershipArc, RustType = Family<M>>,
    M: Metric,
{
    // The builder is consumed first, so it is freed on every path below.
    let Some(builder) = ffi::try_box_from_ptr(builder) else {
        return fail(
            metricore_status::NullParameter,
            "argument 'builder' is NULL",
        );
    };
    let Some(registry) = ffi::try_ref_from_ptr(registry) else {
        return fail(
            metricore_status::NullParameter,
            "argument 'registry' is NULL",
        );
    };
    let Some(family_out) = OutPtr::new(family_out) else {
        return fail(
            metricore_status::NullParameter,
            "argument 'family_out' is NULL",
        );
    };
    if kind != "histogram"
        && let Err(status) = builder.no_histogram_options(kind)
    {
        return status;
    }
    match check(register(registry, &builder)) {
        Ok(family) => {
            family_out.write(ffi::arc_into_ptr::<C>(family));
            metricore_status::Ok
        }
        Err(status) => status,
    }
}

/// The series of `family` for `values` as an Arc handle of type `C`.
fn with_labels<F, C, M>(
    family: *const F,
    label_values: *const metricore_str,
    label_values_len: usize,
    series_out: *mut *const C,
) -> metricore_status
where
    F: Castable<Ownership = OwnershipArc, RustType = Family<M>>,
    C: Castable<Ownership = OwnershipArc, RustType = M>,
    M: Metric,
{
    let Some(family) = ffi::try_ref_from_ptr(family) else {
        return fail(metricore_status::NullParameter, "argument 'family' is NULL");
    };
    let Some(series_out) = OutPtr::new(series_out) else {
        return fail(
            metricore_status::NullParameter,
            "argument 'series_out' is NULL",
        );
    };
    let values = match ffi::strs_from_parts(label_values, label_values_len, "label_values") {
        Ok(v) => v,
        Err(status) => return status,
    };
    match check(family.with_label_values(&values)) {
        Ok(series) => {
            series_out.write(ffi::arc_into_ptr::<C>(series));
            metricore_status::Ok
        }
        Err(status) => status,
    }
}

/// The family's full name as a view valid while the family handle is.
fn family_name<F, M>(family: *const F) -> metricore_str
where
    F: Castable<Ownership = OwnershipArc, RustType = Family<M>>,
    M: Metric,
{
    ffi::try_ref_from_ptr(family).map_or_else(metricore_str::default, |f| {
        metricore_str::borrowed(f.name())
    })
}

// ------------------------------------------------------------ counter families

/// A family of counters: one name, help and set of label names, one counter per distinct
/// set of label values.
///
/// Under the hood an `Arc<Family<Counter>>`: each returned pointer owns a reference,
/// `metricore_counter_family_clone` adds one and `metricore_counter_family_free` drops one.
/// Safe for concurrent use from any thread.
pub struct metricore_counter_family {
    _private: [u8; 0],
}

impl Castable for metricore_counter_family {
    type Ownership = OwnershipArc;
    type RustType = Family<Counter>;
}

/// Registers (or returns the identical existing) counter family in `registry`, described by
/// `builder`, which is consumed in every case, failure included. On success
/// `*family_out` is a new handle the caller frees with `metricore_counter_family_free`.
///
/// Errors: `NULL_PARAMETER`; `INVALID_NAME` (metric or label name), `CONFLICT` (the name is
/// taken by a family of another shape), `INVALID_CONFIG` (histogram options on a counter,
/// a cardinality limit of 0). Thread-safe for the registry.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_build_counter(
    builder: *mut metricore_family_builder,
    registry: *const metricore_registry,
    family_out: *mut *const metricore_counter_family,
) -> metricore_status {
    boundary! {
        build(builder, registry, family_out, "counter", |r, b| r.counter_family(b.opts()))
    }
}

/// Stores in `*counter_out` the counter for `label_values` (`label_values_len` values in
/// label-name order; NULL with 0 for a family without labels), created at 0 on first use.
/// Past the cardinality limit, new label sets get the shared overflow series. The caller
/// frees the handle with `metricore_counter_free`; keep it: the hot path then never looks
/// the labels up again.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8` (or a NUL byte in a value), `INVALID_LABELS`
/// (wrong number of values). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_family_with_labels(
    family: *const metricore_counter_family,
    label_values: *const metricore_str,
    label_values_len: usize,
    counter_out: *mut *const metricore_counter,
) -> metricore_status {
    boundary! {
        with_labels(family, label_values, label_values_len, counter_out)
    }
}

/// The family's full name (namespace, subsystem and unit applied; without `_total`), as a
/// view valid while `family` is; `{NULL, 0}` for NULL. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_family_name(
    family: *const metricore_counter_family,
) -> metricore_str {
    boundary! {
        family_name(family)
    }
}

/// Adds a reference to a counter family and returns it (NULL for NULL). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_family_clone(
    family: *const metricore_counter_family,
) -> *const metricore_counter_family {
    boundary! {
        ffi::arc_clone(family)
    }
}

/// Releases one reference to a counter family; NULL does nothing. The family stays
/// registered and collected. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_family_free(family: *const metricore_counter_family) {
    boundary! {
        ffi::arc_free(family);
    }
}

// ------------------------------------------------------------ gauge families

/// A family of gauges, one per distinct set of label values.
///
/// Under the hood an `Arc<Family<Gauge>>`; `metricore_gauge_family_clone` /
/// `metricore_gauge_family_free`. Safe for concurrent use from any thread.
pub struct metricore_gauge_family {
    _private: [u8; 0],
}

impl Castable for metricore_gauge_family {
    type Ownership = OwnershipArc;
    type RustType = Family<Gauge>;
}

/// Registers (or returns the identical existing) gauge family; as
/// `metricore_family_builder_build_counter` (the builder is always consumed). Free the
/// result with `metricore_gauge_family_free`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_build_gauge(
    builder: *mut metricore_family_builder,
    registry: *const metricore_registry,
    family_out: *mut *const metricore_gauge_family,
) -> metricore_status {
    boundary! {
        build(builder, registry, family_out, "gauge", |r, b| r.gauge_family(b.opts()))
    }
}

/// Stores in `*gauge_out` the gauge for `label_values`, created at 0 on first use; as
/// `metricore_counter_family_with_labels`. Free it with `metricore_gauge_free`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_family_with_labels(
    family: *const metricore_gauge_family,
    label_values: *const metricore_str,
    label_values_len: usize,
    gauge_out: *mut *const metricore_gauge,
) -> metricore_status {
    boundary! {
        with_labels(family, label_values, label_values_len, gauge_out)
    }
}

/// The family's full name, as a view valid while `family` is; `{NULL, 0}` for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_family_name(
    family: *const metricore_gauge_family,
) -> metricore_str {
    boundary! {
        family_name(family)
    }
}

/// Adds a reference to a gauge family and returns it (NULL for NULL). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_family_clone(
    family: *const metricore_gauge_family,
) -> *const metricore_gauge_family {
    boundary! {
        ffi::arc_clone(family)
    }
}

/// Releases one reference to a gauge family; NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gauge_family_free(family: *const metricore_gauge_family) {
    boundary! {
        ffi::arc_free(family);
    }
}

// ------------------------------------------------------------ histogram families

/// A family of histograms sharing one set of histogram options.
///
/// Under the hood an `Arc<Family<Histogram>>`; `metricore_histogram_family_clone` /
/// `metricore_histogram_family_free`. Safe for concurrent use from any thread.
pub struct metricore_histogram_family {
    _private: [u8; 0],
}

impl Castable for metricore_histogram_family {
    type Ownership = OwnershipArc;
    type RustType = Family<Histogram>;
}

/// Registers (or returns the identical existing) histogram family with the builder's
/// histogram options (defaults when none were set); as
/// `metricore_family_builder_build_counter` (the builder is always consumed), plus
/// `INVALID_CONFIG` for inconsistent histogram options. Free the result with
/// `metricore_histogram_family_free`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_family_builder_build_histogram(
    builder: *mut metricore_family_builder,
    registry: *const metricore_registry,
    family_out: *mut *const metricore_histogram_family,
) -> metricore_status {
    boundary! {
        build(builder, registry, family_out, "histogram", |r, b| {
            r.histogram_family(b.opts(), b.histogram.clone().unwrap_or_else(HistogramOpts::latency))
        })
    }
}

/// Stores in `*histogram_out` the histogram for `label_values`, created empty on first use;
/// as `metricore_counter_family_with_labels`. Free it with `metricore_histogram_free`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_family_with_labels(
    family: *const metricore_histogram_family,
    label_values: *const metricore_str,
    label_values_len: usize,
    histogram_out: *mut *const metricore_histogram,
) -> metricore_status {
    boundary! {
        with_labels(family, label_values, label_values_len, histogram_out)
    }
}

/// The family's full name, as a view valid while `family` is; `{NULL, 0}` for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_family_name(
    family: *const metricore_histogram_family,
) -> metricore_str {
    boundary! {
        family_name(family)
    }
}

/// Adds a reference to a histogram family and returns it (NULL for NULL). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_family_clone(
    family: *const metricore_histogram_family,
) -> *const metricore_histogram_family {
    boundary! {
        ffi::arc_clone(family)
    }
}

/// Releases one reference to a histogram family; NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_histogram_family_free(family: *const metricore_histogram_family) {
    boundary! {
        ffi::arc_free(family);
    }
}
