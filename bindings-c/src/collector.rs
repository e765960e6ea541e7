//! Custom collectors written in C: a callback that adds gauge and counter families to every
//! scrape through a sink.

use std::collections::HashSet;
use std::ffi::{c_char, c_void};

use metricore::collect::{CollectResult, Collector, FamilySnapshot, SeriesSnapshot, SeriesValue};
use metricore::labels::{validate_label_name, validate_metric_name};
use metricore::{LabelValues, MetricKind};

use crate::error::{check, fail, metricore_status};
use crate::ffi::{self, Castable, OwnershipBox, metricore_str};
use crate::registry::metricore_registry;

/// The kind of a family a collector adds, for `metricore_collector_sink_family`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum metricore_collected_kind {
    /// A value that goes up and down.
    Gauge = 0,
    /// A running total that only goes up (exposed with `_total`; the name is given without it).
    Counter = 1,
}

/// Where a collector callback puts the families it adds to a scrape.
///
/// Under the hood a `Box` that the library makes before calling the callback and frees after
/// it returns: the pointer is valid only during that call, and must not be kept, freed or
/// passed to another thread. Not safe for concurrent use.
pub struct metricore_collector_sink {
    _private: [u8; 0],
}

/// What a sink holds: the families added so far, the last one open for values.
#[derive(Default)]
pub(crate) struct Sink {
    families: Vec<FamilySnapshot>,
    /// The label values of the open family's series so far.
    seen: HashSet<LabelValues>,
}

impl Castable for metricore_collector_sink {
    type Ownership = OwnershipBox;
    type RustType = Sink;
}

/// A collector callback: adds families to `sink` and returns `METRICORE_STATUS_OK`, or any
/// other status to report that it could not collect (what it added is then discarded).
pub type metricore_collect_callback = Option<
    unsafe extern "C" fn(user_data: *mut c_void, sink: *mut metricore_collector_sink) -> u32,
>;

/// Releases a collector's `user_data` once the library no longer needs it.
pub type metricore_free_callback = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// A caller's `user_data` and the function that frees it, called when this is dropped.
struct UserData {
    ptr: *mut c_void,
    free: metricore_free_callback,
}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(free) = self.free {
            // SAFETY: the caller gave `free` for this pointer; dropping the last owner means no
            // callback runs with it any more.
            unsafe { free(self.ptr) };
        }
    }
}

/// A C collector as the core sees it.
struct CCollector {
    collect: unsafe extern "C" fn(*mut c_void, *mut metricore_collector_sink) -> u32,
    user_data: UserData,
    /// Unix seconds at registration: the `_created` of its counters.
    created: f64,
}

// SAFETY: `metricore_registry_register_collector` requires, and documents, that the callback
// and `user_data` may be used from any thread, by several scrapes at once; Rust never
// dereferences the pointer.
unsafe impl Send for CCollector {}
// SAFETY: as for `Send`.
unsafe impl Sync for CCollector {}

impl Collector for CCollector {
    fn collect(&self) -> CollectResult {
        let sink = ffi::box_into_ptr::<metricore_collector_sink>(Sink::default());
        // SAFETY: `collect` is the callback the caller registered with this `user_data`; the
        // sink is a live box that this function owns for the length of the call.
        let code = unsafe { (self.collect)(self.user_data.ptr, sink) };
        let Some(sink) = ffi::try_box_from_ptr(sink) else {
            unreachable!("box_into_ptr never returns NULL");
        };
        if code != metricore_status::Ok as u32 {
            return Err(format!(
                "the callback returned status {code} ({})",
                metricore_status::message(code)
            )
            .into());
        }
        let mut families = sink.families;
        for s in families.iter_mut().flat_map(|f| &mut f.series) {
            s.created = self.created;
        }
        Ok(families)
    }
}

/// Adds a collector to `registry`: from now on every scrape (render, JSON, collection) calls
/// `collect(user_data, sink)`, which adds gauge and counter families through `sink`. `name`
/// (`name_len` bytes of UTF-8) names it in `metricore_collector_errors_total{collector=…}` and
/// in `metricore_registry_unregister_collector`.
///
/// Registration calls `collect` once to learn the family names it yields and claims them:
/// a name that a family of the registry or another collector uses is refused with
/// `CONFLICT`, and later registering a family under a claimed name is refused likewise.
///
/// At scrape time the callback runs on the scraping thread with no lock of the registry held
/// (it may record metrics, even in this registry), possibly on several threads at once. A
/// callback that returns a status other than `OK` adds nothing to that scrape and is counted
/// in `metricore_collector_errors_total`; so is a family it added that would break the
/// exposition (a name another family in the scrape uses). Every other family is scraped as
/// usual.
///
/// `user_data` passes to the library with this call, whatever it returns:
/// `free_user_data(user_data)` (when not NULL) is called exactly once, when the collector is
/// unregistered and no scrape still uses it, when the registry is freed, or before this
/// call returns if it fails. `collect` and `user_data` must be safe to use from any thread.
///
/// Errors: `NULL_PARAMETER` (`registry`, `collect`), `INVALID_UTF8`, `INVALID_NAME` for an
/// empty name, `CONFLICT`, `COLLECTOR_FAILED` if the first collection fails. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_registry_register_collector(
    registry: *const metricore_registry,
    name: *const c_char,
    name_len: usize,
    collect: metricore_collect_callback,
    user_data: *mut c_void,
    free_user_data: metricore_free_callback,
) -> metricore_status {
    // Owned from here, so that every return, a panic's included, frees it unless the
    // registry took it.
    let user_data = UserData {
        ptr: user_data,
        free: free_user_data,
    };
    boundary! {
        let registry = try_ref!(registry);
        let Some(collect) = collect else {
            return fail(metricore_status::NullParameter, "argument 'collect' is NULL");
        };
        let name = try_str!(name, name_len);
        let collector = CCollector {
            collect,
            user_data,
            created: unix_seconds(),
        };
        match check(registry.register_collector(name, collector)) {
            Ok(()) => metricore_status::Ok,
            Err(status) => status,
        }
    }
}

fn unix_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Removes the collector called `name` (`name_len` bytes) from `registry`; `*removed_out`
/// says whether there was one. Its `free_user_data` runs once no scrape still uses it.
///
/// Errors: `NULL_PARAMETER` (`registry`, `removed_out`), `INVALID_UTF8`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_registry_unregister_collector(
    registry: *const metricore_registry,
    name: *const c_char,
    name_len: usize,
    removed_out: *mut bool,
) -> metricore_status {
    boundary! {
        let registry = try_ref!(registry);
        let removed_out = try_out!(removed_out);
        let name = try_str!(name, name_len);
        removed_out.write(registry.unregister_collector(name));
        metricore_status::Ok
    }
}

/// Starts a family in `sink`: `name` (`name_len` bytes; a counter's without `_total`), `help`
/// (`help_len` bytes; `NULL, 0` for none), `kind` (a `metricore_collected_kind` value) and
/// `label_names` (`label_names_len` of them). Values added next belong to it.
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`, `INVALID_ARGUMENT` for an unknown kind,
/// `INVALID_NAME` for an invalid metric or label name, or one added twice to this sink.
/// Only during the collector callback that received `sink`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_collector_sink_family(
    sink: *mut metricore_collector_sink,
    name: *const c_char,
    name_len: usize,
    help: *const c_char,
    help_len: usize,
    kind: u32,
    label_names: *const metricore_str,
    label_names_len: usize,
) -> metricore_status {
    boundary! {
        let sink = try_mut!(sink);
        let name = try_str!(name, name_len);
        let help = try_str!(help, help_len);
        let label_names = try_strs!(label_names, label_names_len);
        let kind = match kind {
            k if k == metricore_collected_kind::Gauge as u32 => MetricKind::Gauge,
            k if k == metricore_collected_kind::Counter as u32 => MetricKind::Counter,
            _ => {
                return fail(
                    metricore_status::InvalidArgument,
                    format!("metric '{name}': unknown kind {kind} (0 = gauge, 1 = counter)"),
                );
            }
        };
        if let Err(status) = check(validate_metric_name(name)) {
            return status;
        }
        for l in &label_names {
            if let Err(status) = check(validate_label_name(name, l)) {
                return status;
            }
        }
        if sink.families.iter().any(|f| f.name == name) {
            return fail(
                metricore_status::InvalidName,
                format!("metric '{name}': this collector already added a family of that name"),
            );
        }
        sink.seen.clear();
        sink.families.push(FamilySnapshot {
            named_total: true,
            name: name.to_owned(),
            help: help.to_owned(),
            unit: None,
            kind,
            label_names: label_names.iter().map(|&l| l.to_owned()).collect(),
            series: Vec::new(),
        });
        metricore_status::Ok
    }
}

/// Adds a series to the family last started in `sink`: its `label_values`
/// (`label_values_len` of them, in the family's label-name order) and `value` (a counter's
/// must be finite and not negative).
///
/// Errors: `NULL_PARAMETER`, `INVALID_UTF8`, `INVALID_ARGUMENT` if no family was started,
/// `INVALID_LABELS` for a wrong count of values or values already added to this family,
/// `INVALID_VALUE`. Only during the collector callback that received `sink`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_collector_sink_value(
    sink: *mut metricore_collector_sink,
    label_values: *const metricore_str,
    label_values_len: usize,
    value: f64,
) -> metricore_status {
    boundary! {
        let sink = try_mut!(sink);
        let values = try_strs!(label_values, label_values_len);
        let Some(family) = sink.families.last_mut() else {
            return fail(
                metricore_status::InvalidArgument,
                "no family started: call metricore_collector_sink_family first",
            );
        };
        if values.len() != family.label_names.len() {
            return fail(
                metricore_status::InvalidLabels,
                format!(
                    "metric '{}': expected {} label values ({}), got {}",
                    family.name,
                    family.label_names.len(),
                    family.label_names.join(", "),
                    values.len()
                ),
            );
        }
        let value = match family.kind {
            MetricKind::Counter if !(value.is_finite() && value >= 0.0) => {
                return fail(
                    metricore_status::InvalidValue,
                    format!("metric '{}': a counter's value must be finite and not negative, not {value}", family.name),
                );
            }
            MetricKind::Counter => SeriesValue::SampledCounter { value },
            _ => SeriesValue::Gauge { value },
        };
        let labels = LabelValues::new(&values);
        if !sink.seen.insert(labels.clone()) {
            return fail(
                metricore_status::InvalidLabels,
                format!("metric '{}': label values {labels:?} were already added", family.name),
            );
        }
        family.series.push(SeriesSnapshot {
            labels,
            created: 0.0,
            value,
        });
        metricore_status::Ok
    }
}
