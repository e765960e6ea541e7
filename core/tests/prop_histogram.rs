//! Properties of histograms, checked against brute force and against the
//! `hdrhistogram` crate (the reference HdrHistogram implementation in Rust).
//!
//! - quantiles are within `10^-figures` relative error of the exact sorted answer;
//! - merging two histograms equals recording both inputs into one;
//! - V2 blobs (plain and deflate) round-trip every count and quantile;
//! - `to_hdr()` agrees with recording the same values into `hdrhistogram`;
//! - exact Prometheus buckets equal a brute-force count of values `<= le`;
//! - the same for any-magnitude histograms (the default), over values of either sign
//!   from 1e-9 to 1e15 and zero.
//!
//! Failing inputs are saved to `core/proptest-regressions/prop_histogram.txt`
//! (commit that file: proptest replays it before generating new cases).

use metricore::{Histogram, HistogramOpts, HistogramSnapshot, Resolution};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;

/// The default range: 1 µs to 60 s in microseconds.
const HIGHEST: u64 = 60_000_000;

/// Enough cases to find off-by-one bucket edges in a few seconds of a debug build.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        // Integration tests have no `lib.rs` beside them, so proptest's default
        // (a directory parallel to `src/`) cannot be resolved; name the file.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/prop_histogram.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// One value whose magnitude is itself random: small values exercise the
/// one-count-per-integer sub-buckets, large ones the doubling buckets.
fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        1u64..=100,
        100u64..=10_000,
        10_000u64..=1_000_000,
        1_000_000u64..=HIGHEST,
        Just(1),
        Just(HIGHEST)
    ]
}

/// A non-empty multiset of values: random values, then copies of some of them.
fn values(max: usize) -> impl Strategy<Value = Vec<u64>> {
    (
        prop::collection::vec(value(), 1..max),
        prop::collection::vec(any::<Index>(), 0..max),
    )
        .prop_map(|(mut v, dups)| {
            let copies: Vec<u64> = dups.iter().map(|i| *i.get(&v)).collect();
            v.extend(copies);
            v
        })
}

/// Quantiles to query: the edges, the usual percentiles and random ones.
fn quantiles() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0.0f64..=1.0, 0..8).prop_map(|mut qs| {
        qs.extend([0.0, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0]);
        qs
    })
}

fn histogram(opts: &HistogramOpts, values: &[u64]) -> Histogram {
    let h = Histogram::new("prop_latency", opts).expect("valid options");
    for &v in values {
        h.record(v);
    }
    h
}

fn reference(figures: u8, values: &[u64]) -> hdrhistogram::Histogram<u64> {
    let mut h =
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, HIGHEST, figures).expect("valid bounds");
    for &v in values {
        h.record(v).expect("values are within the range");
    }
    h
}

/// HdrHistogram's rank for quantile `q` of `n` values (1-based).
fn rank(q: f64, n: usize) -> usize {
    ((q * n as f64).ceil() as usize).max(1)
}

/// Relative error of `got` against `exact` (`exact >= 1`).
fn relative_error(got: u64, exact: u64) -> f64 {
    got.abs_diff(exact) as f64 / exact as f64
}

/// Checks every quantile in `qs` against the sorted values.
#[allow(
    clippy::float_cmp,
    reason = "sums of integers below 2^53 are exact in f64"
)]
fn check_quantiles(values: &[u64], qs: &[f64], figures: u8) -> Result<(), TestCaseError> {
    let s = histogram(
        &HistogramOpts::latency().significant_figures(figures),
        values,
    )
    .snapshot();
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let tolerance = 10f64.powi(-i32::from(figures));
    prop_assert_eq!(s.count(), values.len() as u64);
    prop_assert_eq!(s.min(), sorted[0], "min is exact");
    prop_assert_eq!(s.max(), sorted[sorted.len() - 1], "max is exact");
    prop_assert_eq!(
        s.sum_native(),
        values.iter().sum::<u64>() as f64,
        "sum is exact"
    );
    for &q in qs {
        let exact = sorted[rank(q, sorted.len()) - 1];
        let got = s.value_at_quantile(q);
        let err = relative_error(got, exact);
        prop_assert!(
            err <= tolerance,
            "q={} at {} figures: got {}, exact {} (relative error {:e})",
            q,
            figures,
            got,
            exact,
            err
        );
        // HdrHistogram reports the top of the rank's bucket, or its bottom for q = 0.
        if q == 0.0 {
            prop_assert!(got <= exact, "q=0: got {} above the minimum {}", got, exact);
        } else {
            prop_assert!(
                got >= exact,
                "q={}: got {} below the exact {}",
                q,
                got,
                exact
            );
        }
    }
    Ok(())
}

/// Strictly increasing, positive, finite bucket bounds in seconds.
fn bounds() -> impl Strategy<Value = Vec<f64>> {
    let bound = prop_oneof![
        // Decimal-looking bounds, as people write them (0.005, 0.25, 2.5 …).
        (1u32..=10_000_000).prop_map(|k| f64::from(k) / 1e6),
        (1u32..=1000).prop_map(|k| f64::from(k) / 100.0),
        // Arbitrary doubles.
        1e-7f64..200.0,
    ];
    prop::collection::vec(bound, 1..12).prop_map(|mut b| {
        b.sort_by(f64::total_cmp);
        b.dedup();
        b
    })
}

/// A value in seconds: random, or exactly one of the bounds, or zero.
fn observation(bounds: &[f64]) -> impl Strategy<Value = f64> + use<> {
    let b = bounds.to_vec();
    prop_oneof![
        3 => 0.0f64..120.0,
        3 => any::<Index>().prop_map(move |i| *i.get(&b)),
        1 => Just(0.0),
        1 => 0.0f64..1e-6,
    ]
}

fn cumulative(s: &HistogramSnapshot) -> Vec<u64> {
    s.buckets().iter().map(|b| b.cumulative_count).collect()
}

/// What every Prometheus client means by a cumulative bucket: values `<= le`.
fn brute_force(bounds: &[f64], values: &[f64]) -> Vec<u64> {
    let mut out: Vec<u64> = bounds
        .iter()
        .map(|&le| values.iter().filter(|&&v| v <= le).count() as u64)
        .collect();
    out.push(values.len() as u64);
    out
}

fn resolution() -> impl Strategy<Value = Resolution> {
    prop_oneof![
        Just(Resolution::Nanosecond),
        Just(Resolution::Microsecond),
        Just(Resolution::Millisecond),
        Just(Resolution::Unit)
    ]
}

proptest! {
    #![proptest_config(config())]

    /// (a) At the default 3 figures, every quantile is within 0.1 % of the exact answer.
    #[test]
    fn quantiles_within_relative_error(values in values(300), qs in quantiles()) {
        check_quantiles(&values, &qs, 3)?;
    }

    /// (a) At 1 to 4 figures, within `10^-figures`.
    #[test]
    fn quantiles_within_relative_error_at_any_precision(figures in 1u8..=4, values in values(200), qs in quantiles()) {
        check_quantiles(&values, &qs, figures)?;
    }

    /// (b) Merging snapshots, or merging snapshots into a live histogram, equals
    /// recording both inputs into one histogram.
    #[test]
    fn merge_equals_recording_into_one(
        a in values(150),
        b in values(150),
        empty_side in 0u8..4,
        bounds in prop::option::of(bounds()),
    ) {
        let mut opts = HistogramOpts::latency();
        if let Some(bounds) = bounds {
            opts = opts.buckets(bounds);
        }
        // Sometimes one side is empty.
        let a: &[u64] = if empty_side == 1 { &[] } else { &a };
        let b: &[u64] = if empty_side == 2 { &[] } else { &b };
        let (ha, hb) = (histogram(&opts, a), histogram(&opts, b));
        let both = histogram(&opts, &[a, b].concat()).snapshot();

        let mut merged = ha.snapshot();
        merged.merge(&hb.snapshot()).unwrap();
        prop_assert_eq!(&merged, &both, "snapshot merge");

        let live = histogram(&opts, &[]);
        live.merge_from(&ha.snapshot()).unwrap();
        live.merge_from(&hb.snapshot()).unwrap();
        prop_assert_eq!(&live.snapshot(), &both, "merge_from into an empty histogram");

        // Into a histogram that already holds `a`.
        ha.merge_from(&hb.snapshot()).unwrap();
        prop_assert_eq!(&ha.snapshot(), &both, "merge_from into a histogram holding a");
    }

    /// (b) The same with values above the range: the saturation tally adds up too.
    #[test]
    fn merge_with_saturated_values(
        a in prop::collection::vec(prop_oneof![value(), HIGHEST + 1..=2 * HIGHEST], 0..40),
        b in prop::collection::vec(prop_oneof![value(), HIGHEST + 1..=2 * HIGHEST], 0..40),
    ) {
        let opts = HistogramOpts::latency();
        let (ha, hb) = (histogram(&opts, &a), histogram(&opts, &b));
        let both = histogram(&opts, &[a.as_slice(), b.as_slice()].concat()).snapshot();
        let saturated = a.iter().chain(&b).filter(|&&v| v > HIGHEST).count() as u64;
        prop_assert_eq!(both.saturated(), saturated);

        let mut merged = ha.snapshot();
        merged.merge(&hb.snapshot()).unwrap();
        prop_assert_eq!(&merged, &both, "snapshot merge");

        ha.merge_from(&hb.snapshot()).unwrap();
        prop_assert_eq!(&ha.snapshot(), &both, "merge_from");
    }

    /// (c) V2 blobs, plain and deflate, decode to the same counts, extremes (to
    /// HDR precision) and quantiles, and re-encode to the same bytes.
    #[test]
    fn v2_round_trip(figures in 1u8..=4, values in values(200), qs in quantiles()) {
        let s = histogram(&HistogramOpts::latency().significant_figures(figures), &values).snapshot();
        let hdr = reference(figures, &[]);
        for (kind, blob) in [("plain", s.encode_v2().unwrap()), ("deflate", s.encode_v2_deflate().unwrap())] {
            let back = HistogramSnapshot::decode_v2(&blob, Resolution::Microsecond).unwrap();
            prop_assert_eq!(back.layout(), s.layout(), "{} layout", kind);
            prop_assert_eq!(back.count(), s.count(), "{} count", kind);
            prop_assert_eq!(back.min(), hdr.lowest_equivalent(s.min()), "{} min", kind);
            prop_assert_eq!(back.max(), hdr.highest_equivalent(s.max()), "{} max", kind);
            prop_assert_eq!(back.recorded_values().collect::<Vec<_>>(), s.recorded_values().collect::<Vec<_>>(), "{} counts", kind);
            for &q in &qs {
                prop_assert_eq!(back.value_at_quantile(q), s.value_at_quantile(q), "{} q={}", kind, q);
            }
            prop_assert_eq!(back.encode_v2().unwrap(), s.encode_v2().unwrap(), "{} re-encodes to the same bytes", kind);
        }
    }

    /// (d) `to_hdr()` is what `hdrhistogram` itself builds from the same values.
    #[test]
    fn to_hdr_agrees_with_hdrhistogram(figures in 1u8..=4, values in values(200), qs in quantiles()) {
        let s = histogram(&HistogramOpts::latency().significant_figures(figures), &values).snapshot();
        let theirs = reference(figures, &values);
        let ours = s.to_hdr().unwrap();
        prop_assert_eq!(ours.len(), theirs.len());
        prop_assert_eq!(ours.min(), theirs.min());
        prop_assert_eq!(ours.max(), theirs.max());
        let pairs = |h: &hdrhistogram::Histogram<u64>| {
            h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect::<Vec<_>>()
        };
        prop_assert_eq!(pairs(&ours), pairs(&theirs));
        for &q in &qs {
            prop_assert_eq!(ours.value_at_quantile(q), theirs.value_at_quantile(q), "to_hdr q={}", q);
            prop_assert_eq!(s.value_at_quantile(q), theirs.value_at_quantile(q), "snapshot q={}", q);
        }
    }

    /// (e) Exact buckets: floats observed in base units, including values equal
    /// to a bound and values above the HDR range, land in the first bucket
    /// whose bound is `>=` them.
    #[test]
    fn exact_buckets_match_brute_force(
        (bounds, observed) in bounds().prop_flat_map(|b| {
            let obs = prop::collection::vec(observation(&b), 0..100);
            (Just(b), obs)
        }),
        resolution in resolution(),
    ) {
        let h = Histogram::new("prop_seconds", &HistogramOpts::latency().resolution(resolution).buckets(bounds.clone())).unwrap();
        for &x in &observed {
            h.observe(x).unwrap();
        }
        let s = h.snapshot();
        prop_assert!(s.buckets_exact());
        prop_assert_eq!(s.count(), observed.len() as u64);
        prop_assert_eq!(cumulative(&s), brute_force(&bounds, &observed), "bounds {:?}", bounds);
        prop_assert!(s.buckets().last().is_some_and(|b| b.le.is_infinite()), "+Inf is last");
        prop_assert_eq!(s.bucket_counts().iter().sum::<u64>(), s.count());
    }

    /// (e) The same for integers recorded in the histogram's resolution: `record(v)`
    /// lands in the same bucket as observing `v` converted to base units, so a
    /// value equal to a bound (249 µs and `le="0.000249"`) counts in that bound.
    #[test]
    fn exact_buckets_for_integers_match_observe(
        (resolution, bounds, picks) in resolution().prop_flat_map(|r| {
            // Bounds that are a whole number of recorded integers, written in base units.
            let per = r.per_base_unit();
            let bounds = prop::collection::vec(1u32..=5_000_000, 1..12).prop_map(move |ks| {
                let mut b: Vec<f64> = ks.into_iter().map(|k| f64::from(k) / per).collect();
                b.sort_by(f64::total_cmp);
                b.dedup();
                b
            });
            (Just(r), bounds).prop_flat_map(|(r, b)| {
                let n = b.len();
                (Just(r), Just(b), prop::collection::vec((0..n, -1i64..=1), 0..60))
            })
        }),
        extra in prop::collection::vec(value(), 0..40),
    ) {
        let per = resolution.per_base_unit();
        // Integers on, just below and just above each bound, plus random ones.
        let mut ints: Vec<u64> = picks
            .iter()
            .map(|&(i, d)| ((bounds[i] * per).round() as i64 + d).max(0) as u64)
            .collect();
        ints.extend(extra);
        let opts = HistogramOpts::latency().resolution(resolution).buckets(bounds.clone());
        let recorded = Histogram::new("prop_ints", &opts).unwrap();
        let observed = Histogram::new("prop_ints", &opts).unwrap();
        for &v in &ints {
            recorded.record(v);
            observed.observe(v as f64 / per).unwrap();
        }
        let as_base: Vec<f64> = ints.iter().map(|&v| v as f64 / per).collect();
        prop_assert_eq!(cumulative(&observed.snapshot()), brute_force(&bounds, &as_base), "observe, bounds {:?}", bounds);
        prop_assert_eq!(
            cumulative(&recorded.snapshot()),
            brute_force(&bounds, &as_base),
            "record({:?}) at {:?} with bounds {:?}",
            ints,
            resolution,
            bounds
        );
    }
}

/// A known instance of the property above: 0.000249 * 1e6 is 248.99999999999997
/// in doubles, so a bound kept as `floor(le * 1e6)` in integers would leave the
/// integer 249 (µs) outside `le="0.000249"`, while `observe(0.000249)` counts in it.
#[test]
fn integer_equal_to_an_inexact_bound_counts_in_it() {
    let h = Histogram::new(
        "edge_seconds",
        &HistogramOpts::latency().buckets(vec![0.000_249, 0.001]),
    )
    .unwrap();
    h.record(249);
    h.observe(0.000_249).unwrap();
    h.record_ms(0.249).unwrap();
    assert_eq!(
        cumulative(&h.snapshot()),
        vec![3, 3, 3],
        "249 µs is <= 0.000249 s"
    );
}

/// Merging a snapshot whose values all lie above the range must count each
/// saturated value once (the minimal case proptest found for `merge_with_saturated_values`).
#[test]
fn merge_from_counts_saturation_once() {
    let opts = HistogramOpts::latency();
    let source = histogram(&opts, &[HIGHEST + 1]);
    let into = histogram(&opts, &[]);
    into.merge_from(&source.snapshot()).unwrap();
    let s = into.snapshot();
    assert_eq!(s.count(), 1);
    assert_eq!(s.max(), HIGHEST + 1);
    assert_eq!(s.saturated(), 1, "one value above the range was merged");
}

/// Snapshot merge across layouts re-buckets the other side's values; a value
/// already saturated there must not be counted as saturated twice.
#[test]
fn merge_across_layouts_counts_saturation_once() {
    let narrow = Histogram::new("narrow", &HistogramOpts::latency().range(1, 1000)).unwrap();
    narrow.record(5000); // saturated in `narrow`
    let mut tiny = Histogram::new("tiny", &HistogramOpts::latency().range(1, 100))
        .unwrap()
        .snapshot();
    tiny.merge(&narrow.snapshot()).unwrap();
    assert_eq!(tiny.count(), 1);
    assert_eq!(tiny.saturated(), 1, "one value above both ranges");
}

/// Min is exact even when every value lies above the range (the HDR counts hold
/// it at the highest trackable value, but `min` and `max` keep the real one).
#[test]
fn min_of_only_saturated_values_is_exact() {
    let s = histogram(&HistogramOpts::latency(), &[HIGHEST + 10_000_000]).snapshot();
    assert_eq!(s.saturated(), 1);
    assert_eq!(s.max(), HIGHEST + 10_000_000);
    assert_eq!(
        s.min(),
        HIGHEST + 10_000_000,
        "min must not be clamped to the top HDR bucket"
    );
}

// ------------------------------------------------------------ any magnitude

/// A value of either sign whose magnitude is log-uniform over 1e-9 .. 1e15, or zero.
fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        10 => (-9.0f64..15.0, any::<bool>()).prop_map(|(e, negative)| {
            let m = 10f64.powf(e);
            if negative { -m } else { m }
        }),
        1 => Just(0.0),
        1 => Just(1e-9),
        1 => Just(-1e15),
    ]
}

/// A non-empty multiset of such values, with copies of some of them.
fn any_values(max: usize) -> impl Strategy<Value = Vec<f64>> {
    (
        prop::collection::vec(any_value(), 1..max),
        prop::collection::vec(any::<Index>(), 0..max),
    )
        .prop_map(|(mut v, dups)| {
            let copies: Vec<f64> = dups.iter().map(|i| *i.get(&v)).collect();
            v.extend(copies);
            v
        })
}

fn observed(opts: &HistogramOpts, values: &[f64]) -> Histogram {
    let h = Histogram::new("prop_any", opts).expect("valid options");
    for &v in values {
        h.observe(v).expect("every float is recorded");
    }
    h
}

/// Bounds of either sign for the exact-bucket property.
fn any_bounds() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(any_value(), 1..8).prop_map(|mut b| {
        b.sort_by(f64::total_cmp);
        b.dedup();
        b
    })
}

proptest! {
    #![proptest_config(config())]

    /// Every quantile is within `10^-figures` of the exact nearest-rank answer, relative
    /// to it, at every magnitude and sign; count, min and max are exact.
    #[test]
    fn any_magnitude_quantiles_within_relative_error(
        figures in 0u8..=4,
        values in any_values(300),
        qs in quantiles(),
    ) {
        let s = observed(&HistogramOpts::new().significant_figures(figures), &values).snapshot();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let tolerance = 10f64.powi(-i32::from(figures));
        prop_assert_eq!(s.count(), values.len() as u64);
        prop_assert_eq!(s.saturated(), 0);
        prop_assert_eq!(s.min_value().to_bits(), sorted[0].to_bits(), "min is exact");
        prop_assert_eq!(s.max_value().to_bits(), sorted[sorted.len() - 1].to_bits(), "max is exact");
        for &q in &qs {
            let exact = sorted[rank(q, sorted.len()) - 1];
            let got = s.quantile(q);
            prop_assert!(
                (got - exact).abs() <= exact.abs() * tolerance,
                "q={} at {} figures: got {:e}, exact {:e}", q, figures, got, exact
            );
        }
    }

    /// Merging snapshots (and merging into a live histogram) equals recording everything
    /// into one histogram.
    #[test]
    fn any_magnitude_merge_equals_recording_into_one(
        a in any_values(150),
        b in any_values(150),
        bounds in any_bounds(),
    ) {
        let opts = HistogramOpts::new().buckets(bounds);
        let all: Vec<f64> = a.iter().chain(&b).copied().collect();
        let one = observed(&opts, &all).snapshot();
        let (ha, hb) = (observed(&opts, &a), observed(&opts, &b));
        let mut merged = ha.snapshot();
        merged.merge(&hb.snapshot()).unwrap();
        let live = observed(&opts, &[]);
        live.merge_from(&ha.snapshot()).unwrap();
        live.merge_from(&hb.snapshot()).unwrap();
        for m in [merged, live.snapshot()] {
            prop_assert_eq!(m.count(), one.count());
            prop_assert_eq!(m.min_value().to_bits(), one.min_value().to_bits());
            prop_assert_eq!(m.max_value().to_bits(), one.max_value().to_bits());
            prop_assert_eq!(cumulative(&m), cumulative(&one));
            let scale = all.iter().map(|v| v.abs()).sum::<f64>();
            prop_assert!((m.sum() - one.sum()).abs() <= scale * 1e-12, "{} vs {}", m.sum(), one.sum());
            for q in [0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 1.0] {
                prop_assert_eq!(m.quantile(q).to_bits(), one.quantile(q).to_bits(), "q {}", q);
            }
        }
    }

    /// Given bounds of either sign, every `_bucket` count equals a count of the values
    /// `<= le`, and `+Inf` equals the count.
    #[test]
    fn any_magnitude_exact_buckets_match_a_sorted_count(
        bounds in any_bounds(),
        values in any_values(200),
        picks in prop::collection::vec(any::<Index>(), 0..20),
    ) {
        // Values exactly on the bounds too.
        let mut values = values;
        values.extend(picks.iter().map(|i| *i.get(&bounds)));
        let h = observed(&HistogramOpts::new().buckets(bounds.clone()), &values);
        let s = h.snapshot();
        prop_assert_eq!(cumulative(&s), brute_force(&bounds, &values));
        prop_assert_eq!(s.buckets().last().map(|b| b.cumulative_count), Some(s.count()));
    }
}

/// Records `values` split over `threads` threads (each thread its own shard, plus batches
/// and merges beside single records) and on one thread, and compares what a reader sees.
#[allow(
    clippy::float_cmp,
    reason = "sums of integers below 2^53 are exact in f64"
)]
fn check_shards_merge_as_one(
    opts: &HistogramOpts,
    values: &[u64],
    threads: usize,
) -> Result<(), TestCaseError> {
    let one = histogram(opts, values);
    let sharded = Histogram::new("prop_sharded", opts).expect("valid options");
    let chunk = values.len().div_ceil(threads);
    std::thread::scope(|s| {
        for (t, part) in values.chunks(chunk).enumerate() {
            let h = sharded.clone();
            s.spawn(move || match t % 3 {
                0 => part.iter().for_each(|&v| h.record(v)),
                1 => h.record_batch(part),
                _ => {
                    let other = Histogram::new("prop_part", opts).expect("valid options");
                    other.record_batch(part);
                    h.merge_from(&other.snapshot()).expect("same options");
                }
            });
        }
    });
    let (a, b) = (one.snapshot(), sharded.snapshot());
    prop_assert_eq!(
        a.recorded_values().collect::<Vec<_>>(),
        b.recorded_values().collect::<Vec<_>>()
    );
    prop_assert_eq!(a.count(), b.count());
    if opts.get_range().is_some() {
        prop_assert_eq!(a.sum_native(), b.sum_native());
    } else {
        // Float sums added in another order round differently in the last bits.
        let (x, y) = (a.sum_native(), b.sum_native());
        prop_assert!((x - y).abs() <= 1e-12 * x.abs(), "sums {} and {}", x, y);
    }
    prop_assert_eq!((a.min(), a.max()), (b.min(), b.max()));
    prop_assert_eq!(a.bucket_counts(), b.bucket_counts());
    prop_assert_eq!(sharded.count(), values.len() as u64);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Per-thread shards merged on read equal recording everything into one histogram:
    /// counts, exact buckets, sum and extremes.
    #[test]
    fn shards_merge_as_one(values in values(400), threads in 1usize..6, exact in any::<bool>()) {
        let opts = HistogramOpts::latency();
        let opts = if exact { opts.buckets(vec![0.0005, 0.01, 0.25, 7.5]) } else { opts };
        check_shards_merge_as_one(&opts, &values, threads)?;
    }

    /// The same for the any-magnitude kind (integers recorded as microseconds).
    #[test]
    fn any_magnitude_shards_merge_as_one(values in values(400), threads in 1usize..6) {
        check_shards_merge_as_one(&HistogramOpts::new(), &values, threads)?;
    }
}
