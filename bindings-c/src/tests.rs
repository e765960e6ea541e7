//! Rust-side tests of the C ABI: they call the `extern "C"` functions directly, as C does.
//! The C programs in tests/c run the same API through the real libraries.

use std::ffi::{CStr, c_char};
use std::ptr;

use crate::collector::*;
use crate::counter::*;
use crate::error::*;
use crate::family::*;
use crate::ffi::metricore_str;
use crate::gauge::*;
use crate::histogram::*;
use crate::registry::*;

fn s(text: &str) -> metricore_str {
    metricore_str::borrowed(text)
}

fn last_error() -> String {
    let mut n = 0;
    assert_eq!(
        metricore_last_error_message(ptr::null_mut(), 0, &raw mut n),
        if n == 0 {
            metricore_status::Ok
        } else {
            metricore_status::BufferTooSmall
        }
    );
    let mut buf = vec![0u8; n + 1];
    assert_eq!(
        metricore_last_error_message(buf.as_mut_ptr().cast(), buf.len(), &raw mut n),
        metricore_status::Ok
    );
    CStr::from_bytes_until_nul(&buf)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

fn builder(name: &str, labels: &[&str]) -> *mut metricore_family_builder {
    let mut b = ptr::null_mut();
    assert_eq!(
        metricore_family_builder_new(
            name.as_ptr().cast(),
            name.len(),
            c"Help.".as_ptr(),
            5,
            &raw mut b
        ),
        metricore_status::Ok
    );
    let names: Vec<metricore_str> = labels.iter().map(|l| s(l)).collect();
    assert_eq!(
        metricore_family_builder_set_labels(b, names.as_ptr(), names.len()),
        metricore_status::Ok
    );
    b
}

/// The numbers C programs compile in: never renumber.
#[test]
fn status_values_never_change() {
    let fixed = [
        (metricore_status::Ok, 0),
        (metricore_status::NullParameter, 1),
        (metricore_status::InvalidArgument, 2),
        (metricore_status::InvalidUtf8, 3),
        (metricore_status::Panic, 4),
        (metricore_status::BufferTooSmall, 5),
        (metricore_status::InvalidName, 6),
        (metricore_status::InvalidLabels, 7),
        (metricore_status::Conflict, 8),
        (metricore_status::InvalidValue, 9),
        (metricore_status::InvalidConfig, 10),
        (metricore_status::InvalidExemplar, 11),
        (metricore_status::CorruptBlob, 12),
        (metricore_status::NotFound, 13),
        (metricore_status::WrongKind, 14),
        (metricore_status::Unknown, 15),
        (metricore_status::CollectorFailed, 16),
        (metricore_status::Io, 17),
    ];
    let fallback = metricore_status_str(u32::MAX);
    // SAFETY: metricore_status_str returns static NUL-terminated strings.
    let fallback = unsafe { CStr::from_ptr(fallback) };
    assert_eq!(fallback.to_str().unwrap(), "unrecognised status code");
    for (status, code) in fixed {
        assert_eq!(status as u32, code);
        // SAFETY: as above.
        let text = unsafe { CStr::from_ptr(metricore_status_str(code)) };
        assert!(!text.is_empty() && text != fallback, "{status:?}");
    }
}

fn header() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../include/metricore.h"
    ))
    .expect("include/metricore.h")
}

fn define(header: &str, name: &str) -> u32 {
    let prefix = format!("#define {name} ");
    header
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no #define {name} in include/metricore.h"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("#define {name}: {e}"))
}

/// cbindgen.toml's version macros follow Cargo.toml, and the ABI macro follows `ABI_VERSION`.
#[test]
fn header_versions_match() {
    let h = header();
    let cargo = |v: &str| v.parse::<u32>().unwrap();
    assert_eq!(
        define(&h, "METRICORE_VERSION_MAJOR"),
        cargo(env!("CARGO_PKG_VERSION_MAJOR"))
    );
    assert_eq!(
        define(&h, "METRICORE_VERSION_MINOR"),
        cargo(env!("CARGO_PKG_VERSION_MINOR"))
    );
    assert_eq!(
        define(&h, "METRICORE_VERSION_PATCH"),
        cargo(env!("CARGO_PKG_VERSION_PATCH"))
    );
    assert_eq!(define(&h, "METRICORE_ABI_VERSION"), crate::ABI_VERSION);
    assert_eq!(crate::metricore_abi_version(), crate::ABI_VERSION);
    // SAFETY: metricore_version returns a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(crate::metricore_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

/// build.rs's SONAME follows `ABI_VERSION`.
#[test]
fn soname_carries_abi_version() {
    assert_eq!(
        env!("METRICORE_SONAME"),
        format!("libmetricore.so.{}", crate::ABI_VERSION)
    );
}

#[test]
fn counter_round_trip_and_exposition() {
    let registry = metricore_registry_new();
    let mut family = ptr::null();
    assert_eq!(
        metricore_family_builder_build_counter(
            builder("rust_side_requests", &["method"]),
            registry,
            &raw mut family
        ),
        metricore_status::Ok
    );
    let get = [s("GET")];
    let mut counter = ptr::null();
    assert_eq!(
        metricore_counter_family_with_labels(family, get.as_ptr(), 1, &raw mut counter),
        metricore_status::Ok
    );
    metricore_counter_inc(counter);
    metricore_counter_add(counter, 41);
    assert_eq!(metricore_counter_get(counter), 42);

    let mut n = 0;
    assert_eq!(
        metricore_registry_render(registry, 0, ptr::null_mut(), 0, &raw mut n),
        metricore_status::BufferTooSmall
    );
    let mut buf = vec![0u8; n];
    assert_eq!(
        metricore_registry_render(registry, 0, buf.as_mut_ptr(), buf.len(), &raw mut n),
        metricore_status::Ok
    );
    let text = String::from_utf8(buf[..n].to_vec()).unwrap();
    assert!(
        text.contains("rust_side_requests_total{method=\"GET\"} 42\n"),
        "{text}"
    );

    metricore_counter_free(counter);
    metricore_counter_family_free(family);
    metricore_registry_free(registry);
}

#[test]
#[allow(clippy::float_cmp)] // 0.5 + 2 is exact in binary
fn fractional_counter_increments_and_their_errors() {
    let registry = metricore_registry_new();
    let mut family = ptr::null();
    assert_eq!(
        metricore_family_builder_build_counter(
            builder("rust_side_cost", &[]),
            registry,
            &raw mut family
        ),
        metricore_status::Ok
    );
    let mut counter = ptr::null();
    assert_eq!(
        metricore_counter_family_with_labels(family, ptr::null(), 0, &raw mut counter),
        metricore_status::Ok
    );
    assert_eq!(
        metricore_counter_add_f64(counter, 0.5),
        metricore_status::Ok
    );
    metricore_counter_add(counter, 2);
    assert_eq!(metricore_counter_value(counter), 2.5);
    assert_eq!(metricore_counter_get(counter), 2, "the whole part");
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(
            metricore_counter_add_f64(counter, bad),
            metricore_status::InvalidValue
        );
        let msg = last_error();
        assert!(msg.contains("rust_side_cost"), "{msg}");
    }
    assert_eq!(metricore_counter_value(counter), 2.5, "nothing added");
    assert_eq!(
        metricore_counter_add_f64(ptr::null(), 1.0),
        metricore_status::NullParameter
    );
    assert_eq!(metricore_counter_value(ptr::null()), 0.0);

    let mut gathered = ptr::null_mut();
    assert_eq!(
        metricore_registry_gather(registry, &raw mut gathered),
        metricore_status::Ok
    );
    let name = "rust_side_cost";
    let mut total = 0.0;
    assert_eq!(
        metricore_gathered_counter_total(
            gathered,
            name.as_ptr().cast(),
            name.len(),
            ptr::null(),
            0,
            &raw mut total
        ),
        metricore_status::Ok
    );
    assert_eq!(total, 2.5);
    let mut whole = 0;
    assert_eq!(
        metricore_gathered_counter_value(
            gathered,
            name.as_ptr().cast(),
            name.len(),
            ptr::null(),
            0,
            &raw mut whole
        ),
        metricore_status::Ok
    );
    assert_eq!(whole, 2);
    metricore_gathered_free(gathered);

    let mut n = 0;
    let mut buf = vec![0u8; 4096];
    assert_eq!(
        metricore_registry_render(registry, 0, buf.as_mut_ptr(), buf.len(), &raw mut n),
        metricore_status::Ok
    );
    let text = String::from_utf8(buf[..n].to_vec()).unwrap();
    assert!(text.contains("rust_side_cost_total 2.5\n"), "{text}");

    metricore_counter_free(counter);
    metricore_counter_family_free(family);
    metricore_registry_free(registry);
}

#[test]
fn errors_name_the_metric_and_the_rule() {
    let registry = metricore_registry_new();
    let mut family = ptr::null();
    assert_eq!(
        metricore_family_builder_build_gauge(
            builder("rust_side_temp", &["room"]),
            registry,
            &raw mut family
        ),
        metricore_status::Ok
    );
    let mut gauge = ptr::null();
    let two = [s("a"), s("b")];
    assert_eq!(
        metricore_gauge_family_with_labels(family, two.as_ptr(), 2, &raw mut gauge),
        metricore_status::InvalidLabels
    );
    assert!(gauge.is_null(), "outputs are only written on success");
    let msg = last_error();
    assert!(
        msg.starts_with("metric 'rust_side_temp': ") && msg.contains("got 2"),
        "{msg}"
    );

    let bad = [metricore_str {
        data: b"\xff\xfe".as_ptr().cast::<c_char>(),
        len: 2,
    }];
    assert_eq!(
        metricore_gauge_family_with_labels(family, bad.as_ptr(), 1, &raw mut gauge),
        metricore_status::InvalidUtf8
    );
    assert!(last_error().contains("label_values[0]"), "{}", last_error());

    assert_eq!(
        metricore_gauge_family_with_labels(ptr::null(), two.as_ptr(), 1, &raw mut gauge),
        metricore_status::NullParameter
    );
    assert_eq!(last_error(), "argument 'family' is NULL");

    // The infallible calls do nothing on NULL.
    metricore_gauge_set(ptr::null(), 1.0);
    assert!(metricore_gauge_get(ptr::null()).abs() < f64::EPSILON);

    metricore_gauge_family_free(family);
    metricore_registry_free(registry);
}

#[test]
fn last_error_truncates_on_a_character_boundary() {
    fail(metricore_status::InvalidName, "métrique");
    let mut buf = [0xAAu8; 3];
    let mut n = 0;
    assert_eq!(
        metricore_last_error_message(buf.as_mut_ptr().cast(), buf.len(), &raw mut n),
        metricore_status::BufferTooSmall
    );
    assert_eq!(n, "métrique".len());
    // "m" fits, the two bytes of "é" do not: "m\0".
    assert_eq!(&buf[..2], b"m\0");
}

#[test]
fn boundary_turns_a_panic_into_a_status() {
    fn exploding() -> metricore_status {
        boundary! {
            panic!("boom at the boundary");
        }
    }
    fn exploding_value() -> *const metricore_registry {
        boundary! {
            panic!("boom");
        }
    }
    assert_eq!(exploding(), metricore_status::Panic);
    assert!(last_error().contains("boom at the boundary"));
    assert!(exploding_value().is_null());
}

#[test]
fn v2_blob_round_trip_and_corrupt_blob() {
    let registry = metricore_registry_new();
    let mut family = ptr::null();
    assert_eq!(
        metricore_family_builder_build_histogram(
            builder("rust_side_latency", &[]),
            registry,
            &raw mut family
        ),
        metricore_status::Ok
    );
    let mut h = ptr::null();
    assert_eq!(
        metricore_histogram_family_with_labels(family, ptr::null(), 0, &raw mut h),
        metricore_status::Ok
    );
    for v in [1000, 2000, 3000] {
        metricore_histogram_record(h, v);
    }
    let mut snap = ptr::null_mut();
    assert_eq!(
        metricore_histogram_take_snapshot(h, &raw mut snap),
        metricore_status::Ok
    );
    let mut n = 0;
    let mut blob = vec![0u8; 4096];
    assert_eq!(
        metricore_histogram_snapshot_encode_v2(snap, true, blob.as_mut_ptr(), 4096, &raw mut n),
        metricore_status::Ok
    );
    let mut decoded = ptr::null_mut();
    assert_eq!(
        metricore_histogram_snapshot_decode_v2(blob.as_ptr(), n, 1, &raw mut decoded),
        metricore_status::Ok
    );
    assert_eq!(metricore_histogram_snapshot_count(decoded), 3);
    assert_eq!(
        metricore_histogram_snapshot_merge(decoded, decoded),
        metricore_status::Ok
    );
    assert_eq!(metricore_histogram_snapshot_count(decoded), 6);
    let mut bad = ptr::null_mut();
    assert_eq!(
        metricore_histogram_snapshot_decode_v2(b"nope".as_ptr(), 4, 1, &raw mut bad),
        metricore_status::CorruptBlob
    );
    assert!(bad.is_null());
    metricore_histogram_snapshot_free(decoded);
    metricore_histogram_snapshot_free(snap);
    metricore_histogram_free(h);
    metricore_histogram_family_free(family);
    metricore_registry_free(registry);
}

// ------------------------------------------------------------ collectors

/// One scrape (collectors run once per call).
fn render(registry: *const metricore_registry) -> String {
    let mut n = 0;
    let mut buf = vec![0u8; 1 << 16];
    assert_eq!(
        metricore_registry_render(registry, 0, buf.as_mut_ptr(), buf.len(), &raw mut n),
        metricore_status::Ok
    );
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

/// What a test collector does, and what happened to it.
#[derive(Default)]
struct Probe {
    /// Return this status instead of collecting.
    fail_with: std::sync::atomic::AtomicU32,
    /// Counter family name to add (empty: `queue_jobs`).
    counter_name: String,
    /// Statuses of the sink calls that are meant to fail, in order.
    refusals: std::sync::Mutex<Vec<metricore_status>>,
    freed: std::sync::atomic::AtomicUsize,
}

unsafe extern "C" fn probe_collect(
    user_data: *mut std::ffi::c_void,
    sink: *mut metricore_collector_sink,
) -> u32 {
    // SAFETY: the tests register `probe_collect` with a `*const Probe` that outlives the
    // registration (they check `freed` before dropping it).
    let probe = unsafe { &*user_data.cast::<Probe>() };
    let fail = probe.fail_with.load(std::sync::atomic::Ordering::SeqCst);
    if fail != 0 {
        return fail;
    }
    let depth = "queue_depth";
    let labels = [s("queue")];
    assert_eq!(
        metricore_collector_sink_family(
            sink,
            depth.as_ptr().cast(),
            depth.len(),
            ptr::null(),
            0,
            0,
            labels.as_ptr(),
            1
        ),
        metricore_status::Ok
    );
    for (q, v) in [("high", 3.0), ("low", 0.5)] {
        let values = [s(q)];
        assert_eq!(
            metricore_collector_sink_value(sink, values.as_ptr(), 1, v),
            metricore_status::Ok
        );
    }
    let mut refusals = vec![
        metricore_collector_sink_value(sink, ptr::null(), 0, 1.0),
        metricore_collector_sink_value(sink, [s("high")].as_ptr(), 1, 9.0),
        metricore_collector_sink_family(
            sink,
            depth.as_ptr().cast(),
            depth.len(),
            ptr::null(),
            0,
            0,
            ptr::null(),
            0,
        ),
        metricore_collector_sink_family(
            sink,
            "bad-name".as_ptr().cast(),
            8,
            ptr::null(),
            0,
            0,
            ptr::null(),
            0,
        ),
        metricore_collector_sink_family(
            sink,
            "k".as_ptr().cast(),
            1,
            ptr::null(),
            0,
            7,
            ptr::null(),
            0,
        ),
    ];
    let jobs = if probe.counter_name.is_empty() {
        "queue_jobs"
    } else {
        probe.counter_name.as_str()
    };
    let help = "Jobs taken.";
    assert_eq!(
        metricore_collector_sink_family(
            sink,
            jobs.as_ptr().cast(),
            jobs.len(),
            help.as_ptr().cast(),
            help.len(),
            1,
            ptr::null(),
            0
        ),
        metricore_status::Ok
    );
    refusals.push(metricore_collector_sink_value(sink, ptr::null(), 0, -1.0));
    assert_eq!(
        metricore_collector_sink_value(sink, ptr::null(), 0, 12.0),
        metricore_status::Ok
    );
    *probe.refusals.lock().unwrap() = refusals;
    metricore_status::Ok as u32
}

unsafe extern "C" fn probe_free(user_data: *mut std::ffi::c_void) {
    // SAFETY: as in `probe_collect`.
    let probe = unsafe { &*user_data.cast::<Probe>() };
    probe
        .freed
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

fn register(registry: *const metricore_registry, name: &str, probe: &Probe) -> metricore_status {
    metricore_registry_register_collector(
        registry,
        name.as_ptr().cast(),
        name.len(),
        Some(probe_collect),
        ptr::from_ref(probe).cast_mut().cast(),
        Some(probe_free),
    )
}

#[test]
fn a_c_collector_adds_families_and_is_freed_once() {
    use std::sync::atomic::Ordering::SeqCst;
    let registry = metricore_registry_new();
    let probe = Probe::default();
    assert_eq!(register(registry, "queues", &probe), metricore_status::Ok);
    let text = render(registry);
    assert!(text.contains("queue_depth{queue=\"high\"} 3\n"), "{text}");
    assert!(text.contains("queue_depth{queue=\"low\"} 0.5\n"), "{text}");
    assert!(
        text.contains("# HELP queue_jobs_total Jobs taken.\n"),
        "{text}"
    );
    assert!(text.contains("queue_jobs_total 12\n"), "{text}");
    assert_eq!(
        *probe.refusals.lock().unwrap(),
        [
            metricore_status::InvalidLabels,
            metricore_status::InvalidLabels,
            metricore_status::InvalidName,
            metricore_status::InvalidName,
            metricore_status::InvalidArgument,
            metricore_status::InvalidValue,
        ]
    );

    probe
        .fail_with
        .store(metricore_status::NotFound as u32, SeqCst);
    let text = render(registry);
    assert!(!text.contains("queue_depth"), "{text}");
    assert!(
        text.contains("metricore_collector_errors_total{collector=\"queues\"} 1\n"),
        "{text}"
    );

    let mut removed = false;
    assert_eq!(
        metricore_registry_unregister_collector(
            registry,
            "queues".as_ptr().cast(),
            6,
            &raw mut removed
        ),
        metricore_status::Ok
    );
    assert!(removed);
    assert_eq!(probe.freed.load(SeqCst), 1, "freed when unregistered");
    metricore_registry_free(registry);
    assert_eq!(probe.freed.load(SeqCst), 1, "and only then");
}

#[test]
fn a_refused_c_collector_is_freed_before_the_call_returns() {
    use std::sync::atomic::Ordering::SeqCst;
    let registry = metricore_registry_new();
    let mut family = ptr::null();
    assert_eq!(
        metricore_family_builder_build_counter(
            builder("taken_jobs", &[]),
            registry,
            &raw mut family
        ),
        metricore_status::Ok
    );
    let clash = Probe {
        counter_name: "taken_jobs".to_owned(),
        ..Probe::default()
    };
    assert_eq!(
        register(registry, "clash", &clash),
        metricore_status::Conflict
    );
    assert!(last_error().contains("taken_jobs"), "{}", last_error());
    assert_eq!(clash.freed.load(SeqCst), 1);

    let failing = Probe::default();
    failing
        .fail_with
        .store(metricore_status::InvalidValue as u32, SeqCst);
    assert_eq!(
        register(registry, "failing", &failing),
        metricore_status::CollectorFailed
    );
    assert!(
        last_error().contains("collector 'failing'"),
        "{}",
        last_error()
    );
    assert_eq!(failing.freed.load(SeqCst), 1);

    let no_callback = Probe::default();
    assert_eq!(
        metricore_registry_register_collector(
            registry,
            "x".as_ptr().cast(),
            1,
            None,
            ptr::from_ref(&no_callback).cast_mut().cast(),
            Some(probe_free),
        ),
        metricore_status::NullParameter
    );
    assert_eq!(no_callback.freed.load(SeqCst), 1);

    let kept = Probe::default();
    assert_eq!(register(registry, "kept", &kept), metricore_status::Ok);
    metricore_counter_family_free(family);
    metricore_registry_free(registry);
    assert_eq!(kept.freed.load(SeqCst), 1, "freed with the registry");
}
