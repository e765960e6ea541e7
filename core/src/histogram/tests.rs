use super::*;

fn hist(opts: &HistogramOpts) -> Histogram {
    Histogram::new("latency_seconds", opts).unwrap()
}

#[test]
fn records_and_summarises() {
    let h = hist(&HistogramOpts::latency());
    for v in [1000, 2000, 3000, 4000] {
        h.record(v);
    }
    let s = h.snapshot();
    assert_eq!(s.count(), 4);
    assert_eq!(s.min(), 1000);
    assert_eq!(s.max(), 4000);
    assert!((s.sum() - 0.01).abs() < 1e-12);
    assert!((s.mean() - 2500.0).abs() < 1e-9);
    assert_eq!(s.value_at_quantile(0.5), 2000); // below 2048 every integer has its own count
    assert_eq!(s.value_at_quantile(1.0), 4001); // 2048..4095 counts in steps of 2
    assert_eq!(s.value_at_quantile(0.0), 1000);
    assert!(h.heap_bytes() < 8 * 1024);
}

#[test]
fn float_recording_converts_units_explicitly() {
    let h = hist(&HistogramOpts::latency());
    h.record_ms(1.5).unwrap(); // 1500 µs
    h.observe(0.25).unwrap(); // 250_000 µs
    h.record_secs(0.000_002).unwrap(); // 2 µs
    h.record_duration(Duration::from_micros(7));
    let s = h.snapshot();
    assert_eq!(s.min(), 2);
    assert_eq!(s.max(), 250_000);
    assert!((s.sum_native() - 251_509.0).abs() < 1e-6);
}

#[test]
fn saturates_above_range() {
    let h = hist(&HistogramOpts::latency().range(1, 1000));
    h.record(5000);
    h.record(10);
    let s = h.snapshot();
    assert_eq!(s.saturated(), 1);
    assert_eq!(s.count(), 2);
    assert_eq!(s.max(), 5000, "max reports the real value");
    assert!(s.value_at_quantile(1.0) >= 1000);
}

#[test]
fn exact_buckets_include_values_equal_to_bounds() {
    let h = hist(&HistogramOpts::latency().buckets(vec![0.005, 0.01, 0.1]));
    h.observe(0.005).unwrap();
    h.observe(0.005_000_1).unwrap(); // above the bound: next bucket, even though µs rounding says 5000
    h.record(10_000); // 0.01 s exactly, recorded as an integer
    h.record_ms(100.0).unwrap();
    h.observe(3.0).unwrap();
    let b = h.snapshot().buckets();
    let c: Vec<u64> = b.iter().map(|b| b.cumulative_count).collect();
    assert_eq!(c, vec![1, 3, 4, 5]);
    assert!(b[3].le.is_infinite());
}

#[test]
fn derived_buckets_without_bounds() {
    let h = hist(&HistogramOpts::latency());
    h.observe(0.004).unwrap();
    h.observe(0.2).unwrap();
    let s = h.snapshot();
    assert!(!s.buckets_exact());
    let b = s.buckets();
    assert_eq!(b.len(), DEFAULT_BUCKETS.len() + 1);
    assert_eq!(b[0].cumulative_count, 1);
    assert_eq!(b.last().unwrap().cumulative_count, 2);
}

#[test]
fn invalid_buckets() {
    for bad in [vec![], vec![1.0, 1.0], vec![2.0, 1.0], vec![f64::NAN]] {
        let e = Histogram::new("h", &HistogramOpts::latency().buckets(bad.clone())).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{bad:?}");
    }
    assert!(
        Histogram::new(
            "h",
            &HistogramOpts::latency().buckets(vec![1.0, f64::INFINITY])
        )
        .is_ok()
    );
}

#[test]
fn v2_round_trip_and_hdr_equivalence() {
    let h = hist(&HistogramOpts::latency());
    let mut reference = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for v in (1..5000u64).map(|i| i * i % 3_000_000 + 1) {
        h.record(v);
        reference.record(v).unwrap();
    }
    let s = h.snapshot();
    let ours = s.to_hdr().unwrap();
    assert_eq!(ours.len(), reference.len());
    for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
        assert_eq!(
            s.value_at_quantile(q),
            reference.value_at_quantile(q),
            "q={q}"
        );
    }
    for blob in [s.encode_v2().unwrap(), s.encode_v2_deflate().unwrap()] {
        let back = HistogramSnapshot::decode_v2(&blob, Resolution::Microsecond).unwrap();
        assert_eq!(back.count(), s.count());
        for q in [0.5, 0.99] {
            assert_eq!(back.value_at_quantile(q), s.value_at_quantile(q));
        }
    }
    let e = HistogramSnapshot::decode_v2(b"not a histogram", Resolution::Microsecond).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CorruptBlob);
}

#[test]
fn merge_equals_recording_into_one() {
    let (a, b, both) = (
        hist(&HistogramOpts::latency()),
        hist(&HistogramOpts::latency()),
        hist(&HistogramOpts::latency()),
    );
    for v in 1..1000 {
        a.record(v * 7);
        both.record(v * 7);
    }
    for v in 1..500 {
        b.record(v * 1013);
        both.record(v * 1013);
    }
    let mut m = a.snapshot();
    m.merge(&b.snapshot()).unwrap();
    assert_eq!(m, both.snapshot());
    let live = hist(&HistogramOpts::latency());
    live.merge_from(&a.snapshot()).unwrap();
    live.merge_from(&b.snapshot()).unwrap();
    assert_eq!(live.snapshot(), both.snapshot());
}

#[test]
fn timer_records_on_drop_and_stop() {
    let h = hist(&HistogramOpts::latency());
    {
        let _t = h.start_timer();
        std::thread::sleep(Duration::from_millis(2));
    }
    let ms = h.start_timer().stop();
    assert!(ms >= 0.0);
    h.start_timer().discard();
    let s = h.snapshot();
    assert_eq!(s.count(), 2);
    assert!(s.max() >= 2000, "slept 2 ms: {}", s.max());
}

#[test]
fn window_snapshot_holds_recent_values() {
    let h = hist(&HistogramOpts::latency().window(WindowOpts::DEFAULT));
    h.record(100);
    h.record(300);
    let w = h.window_snapshot().unwrap();
    assert_eq!(w.count(), 2);
    assert_eq!(w.max(), 300);
    assert!(hist(&HistogramOpts::latency()).window_snapshot().is_none());
}

#[test]
fn two_decades_stay_small() {
    let h = hist(&HistogramOpts::latency());
    let mut x = 1000.0f64;
    while x < 100_000.0 {
        h.record(x as u64);
        x *= 1.0005;
    }
    assert!(h.heap_bytes() <= 32 * 1024, "{} bytes", h.heap_bytes());
}

#[test]
fn reset_empties_counts_buckets_window_and_extremes() {
    let opts = HistogramOpts::latency()
        .buckets(vec![0.005, 0.01, 0.1])
        .window(WindowOpts::DEFAULT);
    let h = hist(&opts);
    for v in [0.004, 0.0075, 0.05, 90.0] {
        h.observe(v).unwrap();
    }
    assert_eq!(h.snapshot().saturated(), 1);
    h.reset();
    let s = h.snapshot();
    assert_eq!((s.count(), s.saturated()), (0, 0));
    assert!(s.sum().abs() < f64::EPSILON);
    assert!(
        s.buckets().iter().all(|b| b.cumulative_count == 0),
        "{:?}",
        s.buckets()
    );
    assert_eq!(h.window_snapshot().unwrap().count(), 0);
    h.observe(0.0075).unwrap();
    let s = h.snapshot();
    assert_eq!((s.count(), s.min(), s.max()), (1, 7500, 7500));
    let cumulative: Vec<u64> = s.buckets().iter().map(|b| b.cumulative_count).collect();
    assert_eq!(cumulative, [0, 1, 1, 1]);
}

#[test]
fn v2_headers_as_hdr_histogram_js_writes_them_decode() {
    let h = hist(&HistogramOpts::latency());
    for v in [1, 500, 12_345, 3_000_000] {
        h.record(v);
    }
    let snap = h.snapshot();
    let mut js = snap.encode_v2().unwrap();
    // hdr-histogram-js: normalizing offset 1, conversion ratio as the integer 1.
    js[8..12].copy_from_slice(&1u32.to_be_bytes());
    js[32..40].copy_from_slice(&1u64.to_be_bytes());
    let back = HistogramSnapshot::decode_v2(&js, Resolution::Microsecond).unwrap();
    let java =
        HistogramSnapshot::decode_v2(&snap.encode_v2().unwrap(), Resolution::Microsecond).unwrap();
    assert_eq!(
        (back.count(), back.min(), back.max()),
        (java.count(), java.min(), java.max())
    );
    assert_eq!(back.count(), 4);
    assert_eq!(back.value_at_quantile(0.5), snap.value_at_quantile(0.5));
}

#[test]
fn v2_blobs_that_lie_about_their_length_are_corrupt() {
    let h = hist(&HistogramOpts::latency());
    // Enough distinct values that the plain blob outgrows the first inflate buffer.
    for v in 1..=5_000 {
        h.record(v * 7);
    }
    let mut plain = h.snapshot().encode_v2().unwrap();
    plain[4..8].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    let e = HistogramSnapshot::decode_v2(&plain, Resolution::Microsecond).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CorruptBlob);
    assert!(e.to_string().contains("runs past"), "{e}");
    let deflated = h.snapshot().encode_v2_deflate().unwrap();
    for cut in 1..=5 {
        let e = HistogramSnapshot::decode_v2(
            &deflated[..deflated.len() - cut],
            Resolution::Microsecond,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CorruptBlob, "cut {cut}: {e}");
    }
    assert!(HistogramSnapshot::decode_v2(&deflated, Resolution::Microsecond).is_ok());
}

#[test]
fn batches_record_what_one_by_one_records() {
    let opts = HistogramOpts::latency()
        .buckets(vec![0.001, 0.005, 0.01, 0.1, 1.0])
        .window(WindowOpts::DEFAULT);
    let (single, batched) = (hist(&opts), hist(&opts));
    // Values on both sides of bucket bounds, repeats, and one above the range (saturated).
    let secs: Vec<f64> = (0..5000)
        .map(|i| f64::from(i % 997) * 1.3e-4 + f64::from(i % 7) * 1e-6)
        .chain([0.005, 0.005, 90.0])
        .collect();
    for &s in &secs {
        single.observe(s).unwrap();
    }
    batched.observe_batch(&secs).unwrap();
    let ms: Vec<f64> = secs.iter().map(|s| s * 1e3).collect();
    for &m in &ms {
        single.record_ms(m).unwrap();
    }
    batched.record_ms_batch(&ms).unwrap();
    let ints: Vec<u64> = (1..3000).map(|i| i * 37).collect();
    for &v in &ints {
        single.record(v);
    }
    batched.record_batch(&ints);
    for (a, b) in [
        (single.snapshot(), batched.snapshot()),
        (
            single.window_snapshot().unwrap(),
            batched.window_snapshot().unwrap(),
        ),
    ] {
        assert_eq!(
            (a.count(), a.min(), a.max(), a.saturated()),
            (b.count(), b.min(), b.max(), b.saturated())
        );
        assert!((a.sum() - b.sum()).abs() <= 1e-9 * a.sum());
        let cumulative = |s: &HistogramSnapshot| -> Vec<u64> {
            s.buckets().iter().map(|b| b.cumulative_count).collect()
        };
        assert_eq!(cumulative(&a), cumulative(&b));
        for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(a.value_at_quantile(q), b.value_at_quantile(q), "q {q}");
        }
    }
}

/// Every kind, with the bounds 1 and 10 given, so the `+Inf` bucket can be told apart.
fn both_kinds() -> [Histogram; 2] {
    [
        hist(&HistogramOpts::latency().buckets(vec![1.0, 10.0])),
        hist(&HistogramOpts::new().buckets(vec![1.0, 10.0])),
    ]
}

fn cumulative(s: &HistogramSnapshot) -> Vec<u64> {
    s.buckets().iter().map(|b| b.cumulative_count).collect()
}

#[test]
fn infinities_count_in_the_end_buckets_and_the_sum_as_prometheus_client_does() {
    for h in both_kinds() {
        h.observe(5.0).unwrap();
        h.observe(f64::INFINITY).unwrap();
        let s = h.snapshot();
        assert_eq!(s.count(), 2, "{:?}", s.scale());
        assert_eq!(cumulative(&s), vec![0, 1, 2], "+Inf only in +Inf");
        assert_eq!(s.sum(), f64::INFINITY);
        assert_eq!(s.saturated(), 1);
        h.observe(f64::NEG_INFINITY).unwrap();
        let s = h.snapshot();
        assert_eq!(cumulative(&s), vec![1, 2, 3], "-Inf in the first bucket");
        assert!(s.sum().is_nan(), "inf + -inf, as in prometheus_client");
        assert_eq!(s.saturated(), 2);
    }
}

#[test]
fn nan_is_tallied_as_rejected_and_leaves_counts_and_sum_alone() {
    for h in both_kinds() {
        h.observe(2.0).unwrap();
        h.observe(f64::NAN).unwrap();
        h.record_ms(f64::NAN).unwrap();
        h.observe_batch(&[3.0, f64::NAN, f64::NAN, 4.0]).unwrap();
        h.record_ms_batch(&[f64::NAN, 5000.0]).unwrap();
        let s = h.snapshot();
        assert_eq!(s.count(), 4, "{:?}", s.scale());
        assert_eq!(s.rejected(), 5);
        assert_eq!(s.saturated(), 0);
        assert!((s.sum() - 14.0).abs() < 1e-9, "{}", s.sum());
        assert_eq!(cumulative(&s), vec![0, 4, 4]);
        let e = h
            .observe_with_exemplar(f64::NAN, &[("trace", "1")])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidExemplar);
        assert_eq!(h.snapshot().rejected(), 6);
        h.reset();
        assert_eq!(h.snapshot().rejected(), 0);
    }
}

#[test]
fn negative_values_are_kept_by_any_magnitude_and_saturate_a_latency_range() {
    let [latency, any] = both_kinds();
    for h in [&latency, &any] {
        h.observe(-2.5).unwrap();
        h.observe(0.5).unwrap();
        h.observe_batch(&[-0.25]).unwrap();
    }
    let s = any.snapshot();
    assert_eq!((s.count(), s.saturated()), (3, 0));
    assert_eq!((s.min_value(), s.max_value()), (-2.5, 0.5));
    assert!((s.sum() + 2.25).abs() < 1e-12);
    assert_eq!(s.quantile(0.0), -2.5);
    assert!((s.quantile(0.5) + 0.25).abs() <= 0.25e-3);
    assert_eq!(cumulative(&s), vec![3, 3, 3]);
    let s = latency.snapshot();
    assert_eq!(
        (s.count(), s.saturated()),
        (3, 2),
        "below zero counts at the bottom"
    );
    assert!(
        (s.sum() + 2.25).abs() < 1e-12,
        "the sum keeps the real values"
    );
    assert_eq!(cumulative(&s), vec![3, 3, 3]);
    assert_eq!(s.min_value(), 0.0);
}

/// The values a Node summary clamped to 60.03 when every histogram was 1 µs .. 60 s.
#[test]
fn any_magnitude_keeps_values_a_latency_range_would_clamp() {
    let h = hist(&HistogramOpts::new());
    let values = [120.0, 250.0, 80.0, 1500.0, 95.0, 300.0, 70000.0, 110.0];
    for v in values {
        h.observe(v).unwrap();
    }
    let s = h.snapshot();
    let mut sorted = values;
    sorted.sort_by(f64::total_cmp);
    for q in [0.01, 0.5, 0.9, 0.99] {
        let rank = ((q * 8.0_f64).ceil() as usize).max(1);
        let exact = sorted[rank - 1];
        let got = s.quantile(q);
        assert!(
            (got - exact).abs() <= exact * 1e-3,
            "q {q}: {got} vs {exact}"
        );
    }
    assert_eq!(
        (s.min_value(), s.max_value(), s.sum()),
        (80.0, 70000.0, 72455.0)
    );
    assert_eq!(s.saturated(), 0);
    // Tiny values keep their figures too, and record() keeps meaning microseconds.
    let tiny = hist(&HistogramOpts::new());
    tiny.observe(3.7e-9).unwrap();
    tiny.observe(4.2e-9).unwrap();
    tiny.record(1500);
    tiny.record_ms(2.5).unwrap();
    let s = tiny.snapshot();
    assert!(
        (s.quantile(0.5) - 4.2e-9).abs() <= 4.2e-12,
        "{}",
        s.quantile(0.5)
    );
    assert_eq!(s.min_value(), 3.7e-9);
    assert_eq!(s.max_value(), 0.0025);
    assert!((s.quantile(0.75) - 0.0015).abs() <= 0.0015e-3);
    assert_eq!(s.latency_stats().max_ms, 2.5);
}

#[test]
fn any_magnitude_memory_follows_the_decades_seen() {
    let two_decades = hist(&HistogramOpts::new());
    let mut x = 1.0;
    while x < 100.0 {
        two_decades.observe(x).unwrap();
        x *= 1.0001;
    }
    assert!(
        two_decades.heap_bytes() <= 32 * 1024,
        "{}",
        two_decades.heap_bytes()
    );
    let everything = hist(&HistogramOpts::new());
    let mut x = 1e-9;
    while x < 1e15 {
        everything.observe(x).unwrap();
        x *= 1.0003;
    }
    assert!(
        everything.heap_bytes() <= 256 * 1024,
        "{}",
        everything.heap_bytes()
    );
}

#[test]
fn v2_encoding_of_any_magnitude_is_a_typed_error_naming_the_metric() {
    let h = hist(&HistogramOpts::new());
    h.observe(1.5).unwrap();
    for e in [
        h.snapshot().encode_v2().unwrap_err(),
        h.snapshot().encode_v2_deflate().unwrap_err(),
        h.snapshot().to_hdr().unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert_eq!(e.metric(), Some("latency_seconds"));
        assert!(e.to_string().contains("latency()"), "{e}");
    }
}

/// Every value above the range used to make `to_hdr` fail its own assertion.
#[test]
fn v2_encoding_of_values_all_above_the_range_counts_them_at_the_top() {
    let h = hist(&HistogramOpts::new().range(1, 1000));
    h.record(5000);
    h.record_n(7000, 2);
    h.observe(f64::INFINITY).unwrap();
    let blob = h.snapshot().encode_v2().unwrap();
    let back = HistogramSnapshot::decode_v2(&blob, Resolution::Microsecond).unwrap();
    assert_eq!(back.count(), 4);
    assert!(back.max() >= 1000 && back.max() <= 1001, "{}", back.max());
    h.snapshot().encode_v2_deflate().unwrap();
}

#[test]
fn kinds_merge_into_each_other() {
    let latency = hist(&HistogramOpts::latency());
    let any = hist(&HistogramOpts::new());
    for us in [900u64, 1500, 250_000] {
        latency.record(us);
        any.record(us);
    }
    any.observe(-1.0).unwrap();
    any.observe(f64::NAN).unwrap();
    let into_any = hist(&HistogramOpts::new());
    into_any.merge_from(&latency.snapshot()).unwrap();
    into_any.merge_from(&any.snapshot()).unwrap();
    let s = into_any.snapshot();
    assert_eq!((s.count(), s.rejected(), s.saturated()), (7, 1, 0));
    assert_eq!((s.min_value(), s.max_value()), (-1.0, 0.25));
    assert!((s.sum() - 2.0 * 0.2524 + 1.0).abs() < 1e-9, "{}", s.sum());
    let into_latency = hist(&HistogramOpts::latency());
    into_latency.merge_from(&any.snapshot()).unwrap();
    let s = into_latency.snapshot();
    assert_eq!((s.count(), s.saturated(), s.max()), (4, 1, 250_000));
    let mut snap = latency.snapshot();
    snap.merge(&any.snapshot()).unwrap();
    assert_eq!((snap.count(), snap.saturated()), (7, 1));
    let mut snap = any.snapshot();
    snap.merge(&latency.snapshot()).unwrap();
    assert_eq!((snap.count(), snap.min_value()), (7, -1.0));
    assert!((snap.quantile(0.5) - 0.0015).abs() <= 0.0015e-3);
}

#[test]
fn any_magnitude_windows_and_exact_buckets() {
    let h = hist(
        &HistogramOpts::new()
            .buckets(vec![-1.0, 0.0, 0.005, 0.1])
            .window(WindowOpts::new("w", Duration::from_secs(60), 6).unwrap()),
    );
    for v in [-1.0, -0.5, 0.0, 0.005, 0.005_000_1, 0.1, 0.2] {
        h.observe(v).unwrap();
    }
    assert_eq!(cumulative(&h.snapshot()), vec![1, 3, 4, 6, 7]);
    let w = h.window_snapshot().unwrap();
    assert_eq!((w.count(), w.min_value(), w.max_value()), (7, -1.0, 0.2));
}

/// Counts past 2^64 wrap as the atomics do (as Prometheus counters do); adding them up
/// used to overflow, a panic in debug builds and through every binding's `record_n`.
#[test]
fn counts_past_two_to_the_64_wrap_instead_of_panicking() {
    for opts in [
        HistogramOpts::latency().buckets(vec![0.001, 0.01]),
        HistogramOpts::new().buckets(vec![0.001, 0.01]),
    ] {
        let h = hist(&opts);
        h.record_n(1000, u64::MAX);
        h.record_n(5000, u64::MAX);
        h.record_n(50_000, 3);
        let s = h.snapshot();
        assert_eq!(s.count(), h.count());
        assert_eq!(s.count(), u64::MAX.wrapping_mul(2).wrapping_add(3));
        assert_eq!(
            s.buckets().last().map(|b| b.cumulative_count),
            Some(s.count())
        );
        let _ = s.quantile(0.5);
        let _ = s.value_at_quantile(0.99);
        let _ = s.latency_stats();
        let into = hist(&opts);
        into.merge_from(&s).unwrap();
        into.merge_from(&s).unwrap();
        let mut twice = s.clone();
        twice.merge(&s).unwrap();
        assert_eq!(into.snapshot().count(), twice.count());
        if s.layout().is_some() {
            // V2 holds counts up to 2^63: a typed error, not a panic.
            let e = s.encode_v2().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidValue);
            assert_eq!(e.metric(), Some("latency_seconds"));
        }
    }
}
