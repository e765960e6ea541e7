//! Registries, exposition, and collections read back from C.

use std::ffi::c_char;

use metricore::registry::{FamilySnapshot, SeriesValue};
use metricore::{Format, Registry};

use crate::error::{fail, metricore_status};
use crate::ffi::{self, Castable, OwnershipArc, OwnershipBox, metricore_str};
use crate::histogram::{SnapshotBox, metricore_histogram_snapshot};

/// A set of metric families that are collected together.
///
/// Under the hood an `Arc<Registry>`: every pointer the library returns owns one reference.
/// `metricore_registry_clone` adds one, `metricore_registry_free` drops one; families and
/// series stay alive as long as any handle to them does, whether or not the registry does.
/// Safe for concurrent use from any thread.
pub struct metricore_registry {
    _private: [u8; 0],
}

impl Castable for metricore_registry {
    type Ownership = OwnershipArc;
    type RustType = Registry;
}

/// An exposition format, for `metricore_registry_render`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum metricore_format {
    /// Prometheus text format 0.0.4.
    Text = 0,
    /// OpenMetrics 1.0.0 text (ends with `# EOF`).
    OpenMetrics = 1,
}

fn format_from(code: u32) -> Option<Format> {
    const TEXT: u32 = metricore_format::Text as u32;
    const OPEN_METRICS: u32 = metricore_format::OpenMetrics as u32;
    match code {
        TEXT => Some(Format::Text),
        OPEN_METRICS => Some(Format::OpenMetrics),
        _ => None,
    }
}

/// A new, empty private registry.
///
/// The caller owns the returned handle and must release it with `metricore_registry_free`.
/// Returns NULL only if a Rust panic was caught (see `metricore_last_error_message`).
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_registry_new() -> *const metricore_registry {
    boundary! {
        ffi::arc_into_ptr::<metricore_registry>(Registry::new())
    }
}

/// A handle to the process-wide default registry (the one every binding's default
/// metrics live in).
///
/// The caller owns the returned handle and must release it with `metricore_registry_free`;
/// the default registry itself lives until the process exits. Each call returns a new handle
/// to the same registry. Returns NULL only if a Rust panic was caught. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_registry_default() -> *const metricore_registry {
    boundary! {
        ffi::arc_into_ptr::<metricore_registry>(metricore::default_registry().clone())
    }
}

/// Adds a reference to `registry` and returns it; release each with `metricore_registry_free`.
/// NULL gives NULL. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_registry_clone(
    registry: *const metricore_registry,
) -> *const metricore_registry {
    boundary! {
        ffi::arc_clone(registry)
    }
}

/// Releases one reference to a registry. NULL does nothing. The handle must not be used
/// afterwards. Families and series taken from it stay usable. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_registry_free(registry: *const metricore_registry) {
    boundary! {
        ffi::arc_free(registry);
    }
}

/// Removes the family called `name` (`name_len` bytes of UTF-8) from the registry, so it is
/// no longer collected and the name can be registered again; `*removed_out` says whether it
/// existed. Handles to it keep working but are no longer exposed.
///
/// Errors: `NULL_PARAMETER` for a NULL registry or `removed_out`; `INVALID_UTF8`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_registry_unregister(
    registry: *const metricore_registry,
    name: *const c_char,
    name_len: usize,
    removed_out: *mut bool,
) -> metricore_status {
    boundary! {
        let registry = try_ref!(registry);
        let removed_out = try_out!(removed_out);
        let name = try_str!(name, name_len);
        removed_out.write(registry.unregister(name));
        metricore_status::Ok
    }
}

/// Collects every family and writes the exposition in `format` (a `metricore_format` value)
/// into `buf`, `len` bytes, without a terminating NUL; `*out_n` is set to the exposition's
/// size in bytes.
///
/// If it does not fit, nothing is written to `buf`, `*out_n` holds the size needed and
/// `METRICORE_STATUS_BUFFER_TOO_SMALL` is returned; `buf = NULL, len = 0` asks for the size.
/// Values keep changing between two calls, so leave headroom or retry in a loop.
///
/// Errors: `NULL_PARAMETER` (`registry`, `out_n`, or `buf` with `len > 0`), `INVALID_ARGUMENT` for
/// an unknown format, `BUFFER_TOO_SMALL`. Thread-safe; collecting never blocks recording.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_registry_render(
    registry: *const metricore_registry,
    format: u32,
    buf: *mut u8,
    len: usize,
    out_n: *mut usize,
) -> metricore_status {
    boundary! {
        let registry = try_ref!(registry);
        let out_n = try_out!(out_n);
        let Some(format) = format_from(format) else {
            return fail(
                metricore_status::InvalidArgument,
                format!("unknown exposition format {format} (0 = METRICORE_FORMAT_TEXT, 1 = METRICORE_FORMAT_OPEN_METRICS)"),
            );
        };
        ffi::write_buf(&registry.render(format), buf, len, out_n, "the exposition")
    }
}

/// Collects every family as JSON (an array of families with their series; see the core's
/// `encode_json` for the shape) into `buf`, with the same buffer rules as
/// `metricore_registry_render`.
///
/// Errors: `NULL_PARAMETER`, `BUFFER_TOO_SMALL`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_registry_to_json(
    registry: *const metricore_registry,
    buf: *mut u8,
    len: usize,
    out_n: *mut usize,
) -> metricore_status {
    boundary! {
        let registry = try_ref!(registry);
        let out_n = try_out!(out_n);
        ffi::write_buf(registry.to_json().as_bytes(), buf, len, out_n, "the JSON snapshot")
    }
}

/// Picks the exposition format for an HTTP `Accept` header (`accept_len` bytes of UTF-8;
/// `accept = NULL, accept_len = 0` means the request had no such header) and stores it in
/// `*format_out`: OpenMetrics when the header prefers it, the 0.0.4 text format otherwise.
/// Pair it with `metricore_format_content_type` for the response's `Content-Type`.
///
/// Errors: `NULL_PARAMETER` for a NULL `format_out` (or `accept` with a length), `INVALID_UTF8`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_format_negotiate(
    accept: *const c_char,
    accept_len: usize,
    format_out: *mut u32,
) -> metricore_status {
    boundary! {
        let format_out = try_out!(format_out);
        let header = if accept.is_null() && accept_len == 0 {
            None
        } else {
            Some(try_str!(accept, accept_len))
        };
        format_out.write(match metricore::negotiate(header) {
            Format::Text => metricore_format::Text as u32,
            Format::OpenMetrics => metricore_format::OpenMetrics as u32,
        });
        metricore_status::Ok
    }
}

/// The HTTP `Content-Type` of a `metricore_format` value, as a static NUL-terminated string
/// that must not be freed; NULL for an unknown value. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_format_content_type(format: u32) -> *const c_char {
    boundary! {
        match format_from(format) {
            Some(Format::Text) => c"text/plain; version=0.0.4; charset=utf-8".as_ptr(),
            Some(Format::OpenMetrics) => {
                c"application/openmetrics-text; version=1.0.0; charset=utf-8".as_ptr()
            }
            _ => std::ptr::null(),
        }
    }
}

// ------------------------------------------------------------ collections

/// A collection of a registry taken at one moment (Prometheus' gather): every family with
/// every series' value, read without looking anything up, so reading it never creates a
/// series or counts an overflow.
///
/// Under the hood a `Box`: the caller owns it and frees it with `metricore_gathered_free`.
/// Not safe for concurrent mutation; concurrent reads are fine.
pub struct metricore_gathered {
    _private: [u8; 0],
}

impl Castable for metricore_gathered {
    type Ownership = OwnershipBox;
    type RustType = Vec<FamilySnapshot>;
}

/// Collects `registry` into a new collection stored in `*gathered_out`; the caller frees it
/// with `metricore_gathered_free`.
///
/// Errors: `NULL_PARAMETER`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_registry_gather(
    registry: *const metricore_registry,
    gathered_out: *mut *mut metricore_gathered,
) -> metricore_status {
    boundary! {
        let registry = try_ref!(registry);
        let gathered_out = try_out!(gathered_out);
        gathered_out.write(ffi::box_into_ptr::<metricore_gathered>(registry.gather()));
        metricore_status::Ok
    }
}

/// Frees a collection. NULL does nothing. Views returned from it become invalid.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gathered_free(gathered: *mut metricore_gathered) {
    boundary! {
        ffi::box_free(gathered);
    }
}

/// The number of families in a collection (0 for NULL): registration order, then
/// metricore's own `metricore_cardinality_overflow` and `metricore_saturated_values`
/// when they have anything to say.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gathered_family_count(gathered: *const metricore_gathered) -> usize {
    boundary! {
        try_ref!(gathered).len()
    }
}

/// Stores the name of family `index` (counters without `_total`) in `*name_out`, a view
/// valid until the collection is freed; it contains no NUL byte and is not NUL-terminated.
///
/// Errors: `NULL_PARAMETER`; `INVALID_ARGUMENT` when `index` is past the end.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gathered_family_name(
    gathered: *const metricore_gathered,
    index: usize,
    name_out: *mut metricore_str,
) -> metricore_status {
    boundary! {
        let gathered = try_ref!(gathered);
        let name_out = try_out!(name_out);
        let Some(f) = gathered.get(index) else {
            return fail(
                metricore_status::InvalidArgument,
                format!("family index {index} is past the end of a collection of {} families", gathered.len()),
            );
        };
        name_out.write(metricore_str::borrowed(&f.name));
        metricore_status::Ok
    }
}

/// Finds the value of series `labels` of family `name` in a collection.
fn find_series<'a>(
    gathered: &'a [FamilySnapshot],
    name: &str,
    labels: &[&str],
) -> Result<&'a SeriesValue, metricore_status> {
    let Some(family) = gathered.iter().find(|f| f.name == name) else {
        return Err(fail(
            metricore_status::NotFound,
            format!("metric '{name}': no such family in the collection"),
        ));
    };
    family
        .series
        .iter()
        .find(|s| s.labels.iter().eq(labels.iter().copied()))
        .map(|s| &s.value)
        .ok_or_else(|| {
            fail(
                metricore_status::NotFound,
                format!(
                    "metric '{name}': no series with label values {labels:?} in the collection"
                ),
            )
        })
}

fn wrong_kind(name: &str, want: &str, got: &SeriesValue) -> metricore_status {
    let got = match got {
        SeriesValue::Counter { .. } | SeriesValue::SampledCounter { .. } => "counter",
        SeriesValue::Gauge { .. } => "gauge",
        SeriesValue::Histogram(_) => "histogram",
        _ => "series of another kind",
    };
    fail(
        metricore_status::WrongKind,
        format!("metric '{name}': is a {got}, not a {want}"),
    )
}

/// Reads the whole part of a counter series' total in a collection (saturating at
/// `UINT64_MAX`; `metricore_gathered_counter_total` gives fractions too): family `name`
/// (`name_len` bytes; counters without `_total`), label values `label_values`
/// (`label_values_len` of them, in label-name order; NULL with 0 for none).
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`, `NOT_FOUND` (no such family or series),
/// `WRONG_KIND` (not a counter of the registry's own).
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gathered_counter_value(
    gathered: *const metricore_gathered,
    name: *const c_char,
    name_len: usize,
    label_values: *const metricore_str,
    label_values_len: usize,
    value_out: *mut u64,
) -> metricore_status {
    boundary! {
        let gathered = try_ref!(gathered);
        let value_out = try_out!(value_out);
        let name = try_str!(name, name_len);
        let labels = try_strs!(label_values, label_values_len);
        match find_series(gathered, name, &labels) {
            Ok(SeriesValue::Counter { value, .. }) => {
                // `as` truncates toward zero and saturates; a counter total is never negative.
                value_out.write(*value as u64);
                metricore_status::Ok
            }
            Ok(other) => wrong_kind(name, "counter", other),
            Err(status) => status,
        }
    }
}

/// Reads a counter series' total in a collection, fractions included, as a scrape exposes
/// it: the registry's counters and those read from the system (such as
/// `process_cpu_seconds` of the resource sampler). Arguments as
/// `metricore_gathered_counter_value`.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`, `NOT_FOUND`, `WRONG_KIND`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gathered_counter_total(
    gathered: *const metricore_gathered,
    name: *const c_char,
    name_len: usize,
    label_values: *const metricore_str,
    label_values_len: usize,
    value_out: *mut f64,
) -> metricore_status {
    boundary! {
        let gathered = try_ref!(gathered);
        let value_out = try_out!(value_out);
        let name = try_str!(name, name_len);
        let labels = try_strs!(label_values, label_values_len);
        match find_series(gathered, name, &labels) {
            Ok(SeriesValue::Counter { value, .. } | SeriesValue::SampledCounter { value }) => {
                value_out.write(*value);
                metricore_status::Ok
            }
            Ok(other) => wrong_kind(name, "counter", other),
            Err(status) => status,
        }
    }
}

/// Reads a gauge series (or a fractional counter read from the system, such as
/// `process_cpu_seconds_total` of the resource sampler) in a collection; arguments as
/// `metricore_gathered_counter_value`.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`, `NOT_FOUND`, `WRONG_KIND`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gathered_gauge_value(
    gathered: *const metricore_gathered,
    name: *const c_char,
    name_len: usize,
    label_values: *const metricore_str,
    label_values_len: usize,
    value_out: *mut f64,
) -> metricore_status {
    boundary! {
        let gathered = try_ref!(gathered);
        let value_out = try_out!(value_out);
        let name = try_str!(name, name_len);
        let labels = try_strs!(label_values, label_values_len);
        match find_series(gathered, name, &labels) {
            Ok(SeriesValue::Gauge { value } | SeriesValue::SampledCounter { value }) => {
                value_out.write(*value);
                metricore_status::Ok
            }
            Ok(other) => wrong_kind(name, "gauge", other),
            Err(status) => status,
        }
    }
}

/// Copies a histogram series of a collection into a new snapshot stored in
/// `*snapshot_out`; the caller frees it with `metricore_histogram_snapshot_free`. Arguments
/// as `metricore_gathered_counter_value`.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`, `NOT_FOUND`, `WRONG_KIND`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_gathered_histogram(
    gathered: *const metricore_gathered,
    name: *const c_char,
    name_len: usize,
    label_values: *const metricore_str,
    label_values_len: usize,
    snapshot_out: *mut *mut metricore_histogram_snapshot,
) -> metricore_status {
    boundary! {
        let gathered = try_ref!(gathered);
        let snapshot_out = try_out!(snapshot_out);
        let name = try_str!(name, name_len);
        let labels = try_strs!(label_values, label_values_len);
        match find_series(gathered, name, &labels) {
            Ok(SeriesValue::Histogram(s)) => {
                snapshot_out.write(ffi::box_into_ptr::<metricore_histogram_snapshot>(
                    SnapshotBox::new(s.clone()),
                ));
                metricore_status::Ok
            }
            Ok(other) => wrong_kind(name, "histogram", other),
            Err(status) => status,
        }
    }
}
