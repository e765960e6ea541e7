//! Hostile input through the C ABI: a table of calls per public function that takes a
//! duration, a number or a string, each of which must fail with its documented status (never
//! `PANIC`) and, where a metric is concerned, a last-error message naming it; then proptest
//! over the string and handle inputs (NULL, non-UTF-8, overlong, interior NUL).
//!
//! `METRICORE_FUZZ_CASES` sets the number of proptest cases (default 256, fixed seed);
//! `METRICORE_FUZZ_LONG=1` runs a million with a random seed (docs/fuzzing.md).

use std::ffi::CStr;
use std::ptr;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::error::*;
use crate::family::*;
use crate::ffi::metricore_str;
use crate::histogram::*;
use crate::registry::*;
use crate::sampler::*;

fn last_error() -> String {
    let mut buf = vec![0u8; 4096];
    let mut n = 0;
    assert_eq!(
        metricore_last_error_message(buf.as_mut_ptr().cast(), buf.len(), &raw mut n),
        metricore_status::Ok
    );
    CStr::from_bytes_until_nul(&buf)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn histogram(registry: *const metricore_registry, name: &str) -> *const metricore_histogram {
    let mut b = ptr::null_mut();
    assert_eq!(
        metricore_family_builder_new(
            name.as_ptr().cast(),
            name.len(),
            c"H.".as_ptr(),
            2,
            &raw mut b
        ),
        metricore_status::Ok
    );
    let mut family = ptr::null();
    assert_eq!(
        metricore_family_builder_build_histogram(b, registry, &raw mut family),
        metricore_status::Ok
    );
    let mut h = ptr::null();
    assert_eq!(
        metricore_histogram_family_with_labels(family, ptr::null(), 0, &raw mut h),
        metricore_status::Ok
    );
    metricore_histogram_family_free(family);
    h
}

#[test]
fn hostile_durations_quantiles_and_values_are_typed_errors_naming_the_metric() {
    let registry = metricore_registry_new();
    let mut sampler = ptr::null();
    assert_eq!(
        metricore_registry_sampler(registry, &raw mut sampler),
        metricore_status::Ok
    );
    for secs in [
        1e20,
        1e300,
        f64::MAX,
        f64::INFINITY,
        f64::NAN,
        -1.0,
        0.0,
        1e-300,
    ] {
        assert_eq!(
            metricore_sampler_start(sampler, secs),
            metricore_status::InvalidConfig,
            "{secs}"
        );
        assert!(
            last_error().contains("resource sampler"),
            "{secs}: {}",
            last_error()
        );
    }
    assert!(!metricore_sampler_is_running(sampler));

    let h = histogram(registry, "lat_seconds");
    // Non-finite and negative values are recorded as prometheus_client records them:
    // counted at the range's nearest end as saturated, NaN tallied as rejected.
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -0.5] {
        assert_eq!(
            metricore_histogram_observe(h, v),
            metricore_status::Ok,
            "{v}"
        );
        assert_eq!(
            metricore_histogram_record_ms(h, v),
            metricore_status::Ok,
            "{v}"
        );
    }
    assert_eq!(
        metricore_histogram_observe(h, 1e300),
        metricore_status::Ok,
        "saturates"
    );
    let mut snap = ptr::null_mut();
    assert_eq!(
        metricore_histogram_take_snapshot(h, &raw mut snap),
        metricore_status::Ok
    );
    assert_eq!(metricore_histogram_snapshot_rejected(snap), 2, "NaN twice");
    assert_eq!(
        metricore_histogram_snapshot_saturated(snap),
        9,
        "four out-of-range values twice, and 1e300"
    );
    for q in [f64::NAN, -0.1, 1.1, f64::INFINITY] {
        let (mut v, mut f) = (7u64, 7.0f64);
        assert_eq!(
            metricore_histogram_snapshot_value_at_quantile(snap, q, &raw mut v),
            metricore_status::InvalidArgument
        );
        assert_eq!(
            metricore_histogram_snapshot_quantile(snap, q, &raw mut f),
            metricore_status::InvalidArgument
        );
        assert!(last_error().contains("quantile"), "{}", last_error());
        assert_eq!((v, f), (7, 7.0), "no partial output");
    }
    metricore_histogram_snapshot_free(snap);
    metricore_histogram_free(h);
    metricore_sampler_free(sampler);
    metricore_registry_free(registry);
}

/// A V2 header declaring 1..2^62 at 5 significant figures with an empty payload: 40 bytes.
#[test]
fn a_hostile_v2_header_decodes_without_allocating_its_range() {
    let mut blob = Vec::new();
    blob.extend_from_slice(&0x1c84_9313u32.to_be_bytes());
    blob.extend_from_slice(&0u32.to_be_bytes());
    blob.extend_from_slice(&0u32.to_be_bytes());
    blob.extend_from_slice(&5u32.to_be_bytes());
    blob.extend_from_slice(&1u64.to_be_bytes());
    blob.extend_from_slice(&(1u64 << 62).to_be_bytes());
    blob.extend_from_slice(&1.0f64.to_bits().to_be_bytes());
    let mut snap = ptr::null_mut();
    assert_eq!(
        metricore_histogram_snapshot_decode_v2(blob.as_ptr(), blob.len(), 1, &raw mut snap),
        metricore_status::Ok
    );
    assert_eq!(metricore_histogram_snapshot_count(snap), 0);
    metricore_histogram_snapshot_free(snap);
}

fn runner() -> TestRunner {
    let long = std::env::var("METRICORE_FUZZ_LONG").is_ok_and(|v| v == "1");
    let cases = std::env::var("METRICORE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if long { 1_000_000 } else { 256 });
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    if long {
        TestRunner::new(config)
    } else {
        TestRunner::new_with_rng(
            config,
            TestRng::from_seed(RngAlgorithm::ChaCha, &[0x6d; 32]),
        )
    }
}

/// What a C caller may pass as a string: bytes (any, including invalid UTF-8 and NUL),
/// sometimes through a NULL pointer with a non-zero length, sometimes overlong.
#[derive(Debug, Clone)]
enum CString {
    Bytes(Vec<u8>),
    NullWithLen(usize),
}

fn c_string() -> impl Strategy<Value = CString> {
    prop_oneof![
        6 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(CString::Bytes),
        2 => "[a-z_][a-z0-9_]{0,12}".prop_map(|s| CString::Bytes(s.into_bytes())),
        1 => (1usize..1 << 20).prop_map(CString::NullWithLen),
        1 => (0usize..3).prop_map(|n| CString::Bytes(vec![b'a'; 70_000 + n])),
    ]
}

impl CString {
    fn parts(&self) -> (*const std::ffi::c_char, usize) {
        match self {
            Self::Bytes(b) => (b.as_ptr().cast(), b.len()),
            Self::NullWithLen(n) => (ptr::null(), *n),
        }
    }
    fn view(&self) -> metricore_str {
        let (data, len) = self.parts();
        metricore_str { data, len }
    }
}

#[test]
fn fuzz_c_abi_strings_and_handles_never_panic() {
    let registry = metricore_registry_new();
    runner()
        .run(
            &(
                c_string(),
                c_string(),
                proptest::collection::vec(c_string(), 0..4),
                c_string(),
            ),
            |(name, help, labels, value)| {
                let (n, nl) = name.parts();
                let (h, hl) = help.parts();
                let mut b = ptr::null_mut();
                let st = metricore_family_builder_new(n, nl, h, hl, &raw mut b);
                prop_assert_ne!(st, metricore_status::Panic, "{}", last_error());
                if st != metricore_status::Ok {
                    prop_assert!(b.is_null(), "no output on failure");
                    prop_assert!(!last_error().is_empty());
                    return Ok(());
                }
                let names: Vec<metricore_str> = labels.iter().map(CString::view).collect();
                let st = metricore_family_builder_set_labels(b, names.as_ptr(), names.len());
                prop_assert_ne!(st, metricore_status::Panic, "{}", last_error());
                let mut family = ptr::null();
                let st = metricore_family_builder_build_counter(b, registry, &raw mut family);
                prop_assert_ne!(st, metricore_status::Panic, "{}", last_error());
                if st != metricore_status::Ok {
                    prop_assert!(family.is_null());
                    return Ok(());
                }
                let values: Vec<metricore_str> = labels.iter().map(|_| value.view()).collect();
                let mut counter = ptr::null();
                let st = crate::family::metricore_counter_family_with_labels(
                    family,
                    values.as_ptr(),
                    values.len(),
                    &raw mut counter,
                );
                prop_assert_ne!(st, metricore_status::Panic, "{}", last_error());
                if st == metricore_status::Ok {
                    crate::counter::metricore_counter_add(counter, u64::MAX);
                    crate::counter::metricore_counter_add(counter, u64::MAX);
                    crate::counter::metricore_counter_free(counter);
                }
                // NULL handles: the neutral default, never a crash.
                crate::counter::metricore_counter_add(ptr::null(), 1);
                let st = crate::family::metricore_counter_family_with_labels(
                    ptr::null(),
                    values.as_ptr(),
                    values.len(),
                    &raw mut counter,
                );
                prop_assert_eq!(st, metricore_status::NullParameter);
                crate::family::metricore_counter_family_free(family);
                Ok(())
            },
        )
        .unwrap();
    let mut out = vec![0u8; 1 << 16];
    let mut n = 0;
    let st = metricore_registry_render(registry, 0, out.as_mut_ptr().cast(), out.len(), &raw mut n);
    assert_ne!(st, metricore_status::Panic);
    metricore_registry_free(registry);
}

#[test]
fn fuzz_c_abi_v2_blobs_never_panic() {
    runner()
        .run(
            &(
                proptest::collection::vec(any::<u8>(), 0..200),
                any::<u32>(),
                any::<bool>(),
            ),
            |(mut blob, resolution, cookie)| {
                if cookie && blob.len() >= 4 {
                    blob[..4].copy_from_slice(&0x1c84_9313u32.to_be_bytes());
                }
                let mut snap = ptr::null_mut();
                let st = metricore_histogram_snapshot_decode_v2(
                    blob.as_ptr(),
                    blob.len(),
                    resolution,
                    &raw mut snap,
                );
                prop_assert_ne!(st, metricore_status::Panic, "{}", last_error());
                if st == metricore_status::Ok {
                    metricore_histogram_snapshot_free(snap);
                } else {
                    prop_assert!(snap.is_null());
                }
                Ok(())
            },
        )
        .unwrap();
}
