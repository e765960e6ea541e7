//! Fuzzing the HdrHistogram V2 decoder with proptest (stable Rust): random bytes, valid blobs
//! of random layouts, and valid blobs mutated (bytes flipped, cut, inserted; headers
//! rewritten). Every decode must return (never panic), allocate no more than the bound
//! `HistogramSnapshot::decode_v2` documents, and a blob that decodes must re-encode to one that
//! decodes to the same histogram. Case counts and seeds: `fuzz_support` and docs/fuzzing.md.

mod fuzz_support;

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::cell::Cell;

use metricore::{Histogram, HistogramOpts, HistogramSnapshot, Resolution};
use proptest::prelude::*;

// ---------------------------------------------------------------- allocation accounting

/// Counts the bytes the current thread allocates while `COUNTING` is on, so a test can bound
/// what one decode allocates exactly (not by timing, not by RSS).
struct PerThread;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn note(bytes: usize) {
    // `try_with`: allocations during thread teardown find the keys gone; they are not ours.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATED.try_with(|a| a.set(a.get() + bytes));
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only
// adds bookkeeping in thread-locals that never allocate.
unsafe impl GlobalAlloc for PerThread {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: AllocLayout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        // SAFETY: as in `alloc`; `ptr` came from `System` through us.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: AllocLayout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: as in `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: PerThread = PerThread;

/// Decodes `blob`, returning the result and the bytes allocated meanwhile (a realloc counts
/// its whole new size, so this over-counts, never under-counts).
fn decode_counted(blob: &[u8]) -> (metricore::Result<HistogramSnapshot>, usize) {
    ALLOCATED.with(|a| a.set(0));
    COUNTING.with(|c| c.set(true));
    let r = HistogramSnapshot::decode_v2(blob, Resolution::Microsecond);
    COUNTING.with(|c| c.set(false));
    (r, ALLOCATED.with(Cell::get))
}

/// The bound `decode_v2` documents for a plain blob of `len` bytes: the copy, 16 bytes per
/// pair (at most one per byte), doubled for `Vec` growth, plus a few small allocations (the
/// bucket bounds, the error message).
fn plain_bound(len: usize) -> usize {
    len + 2 * 16 * len + 64 * 1024
}

const COOKIE: u32 = 0x1c84_9313;

fn header(payload_len: u32, digits: u32, lowest: u64, highest: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(40);
    b.extend_from_slice(&COOKIE.to_be_bytes());
    b.extend_from_slice(&payload_len.to_be_bytes());
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&digits.to_be_bytes());
    b.extend_from_slice(&lowest.to_be_bytes());
    b.extend_from_slice(&highest.to_be_bytes());
    b.extend_from_slice(&1.0f64.to_bits().to_be_bytes());
    b
}

// ---------------------------------------------------------------- the regression

/// A 40-byte header declaring 1..2^62 at 5 significant figures used to allocate the declared
/// range (47 MiB, 57 ms) on every decode. Now it costs what its 40 bytes allow.
#[test]
fn a_header_declaring_a_huge_range_costs_only_its_own_size() {
    let blob = header(0, 5, 1, 1 << 62);
    let (r, allocated) = decode_counted(&blob);
    let s = r.unwrap();
    assert_eq!(s.count(), 0);
    assert_eq!(
        s.layout()
            .expect("a decoded blob has an integer layout")
            .highest(),
        1 << 62
    );
    assert!(
        allocated <= plain_bound(blob.len()),
        "{allocated} bytes for a 40-byte blob"
    );

    // The same range with one count at the top: still a handful of bytes, decoded exactly.
    let layout = s.layout().expect("a decoded blob has an integer layout");
    let top = layout.index_for(layout.highest());
    let mut payload = Vec::new();
    push_varint(&mut payload, zigzag(-i64::try_from(top).unwrap()));
    push_varint(&mut payload, zigzag(7));
    let mut blob = header(payload.len() as u32, 5, 1, 1 << 62);
    blob.extend_from_slice(&payload);
    let (r, allocated) = decode_counted(&blob);
    let s = r.unwrap();
    assert_eq!(s.count(), 7);
    assert_eq!(s.max(), layout.highest_equivalent(1 << 62));
    assert!(
        allocated <= plain_bound(blob.len()),
        "{allocated} bytes for {} bytes",
        blob.len()
    );
}

/// A count past the slots the header's range has, a number cut short, an `i64::MIN` run of
/// zeros (whose negation overflows): typed errors, not panics.
#[test]
fn malformed_payloads_are_corrupt_blob_errors() {
    let mut too_far = header(0, 2, 1, 1000);
    let mut payload = Vec::new();
    push_varint(&mut payload, zigzag(-100_000));
    push_varint(&mut payload, zigzag(1));
    too_far[4..8].copy_from_slice(&(payload.len() as u32).to_be_bytes());
    too_far.extend_from_slice(&payload);

    let mut cut = header(2, 2, 1, 1000);
    cut.extend_from_slice(&[0x82, 0x80]);

    let mut min_run = header(9, 2, 1, 1000);
    min_run.extend_from_slice(&[0xff; 9]);

    let bad_digits = header(0, 6, 1, 1000);
    let huge_digits = header(0, 1 << 20, 1, 1000);
    let inverted = header(0, 3, 1000, 10);
    let mut word_size = header(0, 3, 1, 1000);
    word_size[3] ^= 0x40;

    for (what, blob) in [
        ("a count past the range", too_far),
        ("a cut number", cut),
        ("significant figures 6", bad_digits),
        ("significant figures 2^20", huge_digits),
        ("highest below lowest", inverted),
        ("a word size other than 8", word_size),
    ] {
        let e = HistogramSnapshot::decode_v2(&blob, Resolution::Microsecond).unwrap_err();
        assert_eq!(e.kind(), metricore::ErrorKind::CorruptBlob, "{what}: {e}");
    }
    // A run of 2^63 zeros then nothing: a valid, empty histogram.
    let s = HistogramSnapshot::decode_v2(&min_run, Resolution::Microsecond).unwrap();
    assert_eq!(s.count(), 0);
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    for _ in 0..8 {
        if v < 0x80 {
            out.push(v as u8);
            return;
        }
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

// ---------------------------------------------------------------- the targets

fn layout_opts() -> impl Strategy<Value = (u64, u64, u8)> {
    (0u32..20, 1u32..40, 0u8..=5).prop_map(|(lo_exp, span, digits)| {
        let lowest = 1u64 << lo_exp;
        let highest = lowest.saturating_mul(2) << span.min(62 - lo_exp.min(61));
        (lowest, highest.max(lowest * 2), digits)
    })
}

/// A histogram of a random layout holding random values, as a V2 blob (plain or deflated).
fn valid_blob() -> impl Strategy<Value = (HistogramSnapshot, Vec<u8>)> {
    (
        layout_opts(),
        proptest::collection::vec((any::<u64>(), 1u64..1_000), 0..64),
        any::<bool>(),
    )
        .prop_filter_map(
            "layout too fine to keep",
            |((lo, hi, digits), values, deflate)| {
                let opts = HistogramOpts::new()
                    .range(lo, hi)
                    .significant_figures(digits)
                    .resolution(Resolution::Microsecond);
                let h = Histogram::new("fuzz", &opts).ok()?;
                for (v, n) in values {
                    h.record_n(v % hi.saturating_add(1), n);
                }
                let s = h.snapshot();
                let blob = if deflate {
                    s.encode_v2_deflate().ok()?
                } else {
                    s.encode_v2().ok()?
                };
                Some((s, blob))
            },
        )
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    /// Rewrite a header field (payload length, digits, lowest, highest) with a hostile value.
    Field(usize, u64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..12))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        2 => (0usize..4, prop_oneof![Just(0u64), Just(1), Just(5), Just(u64::MAX), Just(1 << 62), any::<u64>()])
            .prop_map(|(f, v)| Mutation::Field(f, v)),
    ]
}

fn mutate(blob: &mut Vec<u8>, m: &Mutation) {
    if blob.is_empty() {
        return;
    }
    match m {
        Mutation::Flip(i, x) => {
            let i = i % blob.len();
            blob[i] ^= x;
        }
        Mutation::Truncate(i) => blob.truncate(i % blob.len()),
        Mutation::Insert(i, bytes) => {
            let i = i % (blob.len() + 1);
            blob.splice(i..i, bytes.iter().copied());
        }
        Mutation::Field(f, v) => {
            let (at, width) = [(4, 4), (12, 4), (16, 8), (24, 8)][*f];
            if blob.len() >= at + width {
                let bytes = v.to_be_bytes();
                blob[at..at + width].copy_from_slice(&bytes[8 - width..]);
            }
        }
    }
}

/// What must hold of any decode: no panic (the runner would report it), the allocation bound,
/// and for a success, a re-encoding that decodes to the same histogram.
fn check_decode(blob: &[u8]) -> Result<(), TestCaseError> {
    let (r, allocated) = decode_counted(blob);
    // A compressed blob may inflate (at most 64 MiB); the bound then applies to the inflated size.
    let plain_len = if blob.len() >= 4
        && u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]) & !0xf0 == 0x1c84_9304
    {
        64 << 20
    } else {
        blob.len()
    };
    prop_assert!(
        allocated <= plain_bound(plain_len),
        "{allocated} bytes allocated decoding {} bytes",
        blob.len()
    );
    if let Ok(s) = r {
        let pairs = s.recorded_values().count();
        prop_assert!(pairs <= plain_len, "{pairs} pairs from {plain_len} bytes");
        prop_assert_eq!(
            s.count(),
            s.recorded_values()
                .map(|(_, n)| n)
                .fold(0u64, u64::saturating_add)
        );
        // Re-encoding allocates the declared range (as any HdrHistogram does): only for
        // layouts of a sane size.
        if s.layout()
            .expect("a decoded blob has an integer layout")
            .counts_len()
            <= 1 << 20
        {
            let again = HistogramSnapshot::decode_v2(
                &s.encode_v2().expect("a latency snapshot encodes"),
                Resolution::Microsecond,
            )
            .map_err(|e| TestCaseError::fail(format!("re-encoded blob does not decode: {e}")))?;
            prop_assert_eq!(again.count(), s.count());
            prop_assert_eq!(again.min(), s.min());
            prop_assert_eq!(again.max(), s.max());
            prop_assert_eq!(
                again.recorded_values().collect::<Vec<_>>(),
                s.recorded_values().collect::<Vec<_>>()
            );
        }
    }
    Ok(())
}

#[test]
fn fuzz_v2_random_bytes() {
    let bytes = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..120),
        // Random bytes behind a valid cookie and a plausible payload length.
        (
            proptest::collection::vec(any::<u8>(), 36..160),
            any::<bool>()
        )
            .prop_map(|(mut b, deflate)| {
                let len = (b.len() - 36) as u32;
                let mut blob = if deflate { 0x1c84_9304u32 } else { COOKIE }
                    .to_be_bytes()
                    .to_vec();
                b[..4].copy_from_slice(&len.to_be_bytes());
                blob.append(&mut b);
                blob
            }),
    ];
    fuzz_support::runner("fuzz_v2_random_bytes", 2_000)
        .run(&bytes, |blob| check_decode(&blob))
        .unwrap();
}

#[test]
fn fuzz_v2_valid_blobs_round_trip() {
    fuzz_support::runner("fuzz_v2_valid_blobs_round_trip", 300)
        .run(&valid_blob(), |(s, blob)| {
            let d = HistogramSnapshot::decode_v2(&blob, Resolution::Microsecond)
                .map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(d.count(), s.count());
            if s.count() > 0 {
                prop_assert_eq!(
                    d.max(),
                    s.layout()
                        .expect("a decoded blob has an integer layout")
                        .highest_equivalent(s.max())
                );
                prop_assert!(d.min() <= s.min());
            }
            for q in [0.0, 0.5, 0.99, 1.0] {
                prop_assert_eq!(d.value_at_quantile(q), s.value_at_quantile(q), "q {}", q);
            }
            // Differential: the `hdrhistogram` crate's own decoder reads the same histogram.
            let h: hdrhistogram::Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
                .deserialize(&mut blob.as_slice())
                .map_err(|e| TestCaseError::fail(format!("hdrhistogram: {e:?}")))?;
            let theirs = HistogramSnapshot::from_hdr(&h, Resolution::Microsecond)
                .map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(
                d.recorded_values().collect::<Vec<_>>(),
                theirs.recorded_values().collect::<Vec<_>>()
            );
            prop_assert_eq!(
                (d.count(), d.min(), d.max()),
                (theirs.count(), theirs.min(), theirs.max())
            );
            prop_assert!((d.sum() - theirs.sum()).abs() <= 1e-9 * theirs.sum().abs());
            check_decode(&blob)
        })
        .unwrap();
}

#[test]
fn fuzz_v2_mutated_blobs() {
    let cases = (valid_blob(), proptest::collection::vec(mutation(), 1..4));
    fuzz_support::runner("fuzz_v2_mutated_blobs", 600)
        .run(&cases, |((_, mut blob), mutations)| {
            for m in &mutations {
                mutate(&mut blob, m);
            }
            check_decode(&blob)
        })
        .unwrap();
}
