//! Point-in-time copies of a histogram: quantiles, statistics, Prometheus
//! buckets, merging and HdrHistogram interchange.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use hdrhistogram::serialization::{Serializer, V2DeflateSerializer, V2Serializer};

use super::buckets::{BoundIndexes, BucketMap, non_cumulative};
use super::{HdrCore, HistogramShape, Layout, Resolution};
use crate::error::{Error, ErrorKind, Result};
use crate::exemplar::Exemplar;

/// One cumulative Prometheus bucket.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Bucket {
    /// Upper bound in base units (`+Inf` for the last bucket).
    pub le: f64,
    /// Values `<= le`.
    pub cumulative_count: u64,
    /// The latest exemplar that fell in this bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemplar: Option<Exemplar>,
}

/// A copy of a histogram's state. Its `count` is the sum of its HDR counts,
/// read once, so the two always agree even when taken during recording.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    layout: Layout,
    resolution: Resolution,
    /// Non-zero (index, count) pairs in index order.
    counts: Vec<(u32, u64)>,
    count: u64,
    /// Sum in recorded integers.
    sum: f64,
    min: u64,
    max: u64,
    saturated: u64,
    bounds: Arc<[f64]>,
    /// Non-cumulative exact bucket counts (+Inf last), when the histogram keeps them.
    exact: Option<Vec<u64>>,
    exemplars: Option<Vec<Option<Exemplar>>>,
}

impl HistogramSnapshot {
    pub(super) fn empty(layout: Layout, resolution: Resolution, bounds: Arc<[f64]>) -> Self {
        Self {
            layout,
            resolution,
            counts: Vec::new(),
            count: 0,
            sum: 0.0,
            min: 0,
            max: 0,
            saturated: 0,
            bounds,
            exact: None,
            exemplars: None,
        }
    }

    /// Reads `hdr`; `exact` carries the bucket map and the corrections, loaded before
    /// the counts (see `buckets`).
    pub(super) fn from_core(
        hdr: &HdrCore,
        shape: &HistogramShape,
        saturated: u64,
        exact: Option<(&BucketMap, Vec<i64>)>,
        exemplars: Option<Vec<Option<Exemplar>>>,
    ) -> Self {
        let layout = shape.layout;
        let mut counts = Vec::new();
        let mut count = 0u64;
        hdr.counts.for_each_nonzero(|i, c| {
            counts.push((i as u32, c));
            count += c;
        });
        // Relaxed: see HdrCore::record.
        let (mut min, mut max) = (
            hdr.min.load(Ordering::Relaxed),
            hdr.max.load(Ordering::Relaxed),
        );
        if let (Some(&(first, _)), Some(&(last, _))) = (counts.first(), counts.last()) {
            // A record racing with this read may have counted but not yet moved min/max;
            // a min above the range is exact (the value saturated), not stale.
            if min <= layout.highest() || min == u64::MAX {
                min = min.min(layout.highest_equivalent(layout.value_for(first as usize)));
            }
            max = max.max(layout.value_for(last as usize));
        } else {
            (min, max) = (0, 0);
        }
        Self {
            layout,
            resolution: shape.resolution,
            exact: exact.map(|(map, corrections)| {
                let derived = map.derived_cumulative(&counts);
                let corrected = derived
                    .iter()
                    .zip(&corrections)
                    .map(|(&d, &c)| d.saturating_add_signed(c));
                non_cumulative(corrected, count)
            }),
            counts,
            count,
            sum: hdr.integer_sum.sum() as f64 + hdr.float_sum.sum(),
            min,
            max,
            saturated,
            bounds: Arc::clone(&shape.bounds),
            exemplars,
        }
    }

    /// Adds `other`'s counts, which must share this layout (window sub-windows do).
    pub(super) fn merge_same_layout(&mut self, other: &Self) {
        if other.count == 0 {
            return;
        }
        let mut merged = Vec::with_capacity(self.counts.len().max(other.counts.len()));
        let (mut a, mut b) = (
            self.counts.iter().peekable(),
            other.counts.iter().peekable(),
        );
        loop {
            match (a.peek(), b.peek()) {
                (Some(&&(ia, ca)), Some(&&(ib, cb))) => match ia.cmp(&ib) {
                    std::cmp::Ordering::Equal => {
                        merged.push((ia, ca + cb));
                        a.next();
                        b.next();
                    }
                    std::cmp::Ordering::Less => {
                        merged.push((ia, ca));
                        a.next();
                    }
                    std::cmp::Ordering::Greater => {
                        merged.push((ib, cb));
                        b.next();
                    }
                },
                (Some(&&x), None) => {
                    merged.push(x);
                    a.next();
                }
                (None, Some(&&y)) => {
                    merged.push(y);
                    b.next();
                }
                (None, None) => break,
            }
        }
        self.counts = merged;
        self.min = if self.count == 0 {
            other.min
        } else {
            self.min.min(other.min)
        };
        self.max = self.max.max(other.max);
        let was_empty = self.count == 0;
        self.count += other.count;
        self.sum += other.sum;
        self.saturated += other.saturated;
        self.exact = match (self.exact.take(), &other.exact) {
            _ if self.bounds != other.bounds => None,
            (Some(x), Some(y)) => Some(x.iter().zip(y).map(|(p, q)| p + q).collect()),
            (None, Some(y)) if was_empty => Some(y.clone()),
            _ => None,
        };
        self.exemplars = None;
    }

    /// Adds `other` into this snapshot. With the same layout the counts add index by index;
    /// otherwise `other`'s values are re-bucketed into this layout (as HdrHistogram's `add` does).
    ///
    /// # Errors
    /// [`ErrorKind::CorruptBlob`] if the resolutions differ.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        if self.resolution != other.resolution {
            return Err(Error::new(
                ErrorKind::CorruptBlob,
                None,
                format!(
                    "cannot merge a {:?} histogram into a {:?} one",
                    other.resolution, self.resolution
                ),
            ));
        }
        if self.layout == other.layout {
            self.merge_same_layout(other);
            return Ok(());
        }
        let mut moved = Self::empty(self.layout, self.resolution, Arc::clone(&self.bounds));
        let mut counts = std::collections::BTreeMap::<u32, u64>::new();
        let mut above_range = 0;
        for (v, n) in other.recorded_values() {
            let v = v.clamp(other.min, other.max);
            if v > self.layout.highest() {
                above_range += n;
            }
            *counts
                .entry(self.layout.index_for(v.min(self.layout.highest())) as u32)
                .or_default() += n;
        }
        moved.counts = counts.into_iter().collect();
        moved.count = other.count;
        moved.sum = other.sum;
        moved.min = other.min;
        moved.max = other.max;
        // Values saturated there sit at its top, above our range too unless ours is wider.
        moved.saturated = other.saturated.max(above_range);
        if self.bounds == other.bounds {
            moved.exact.clone_from(&other.exact);
        }
        self.merge_same_layout(&moved);
        Ok(())
    }

    /// The bucket layout (range and precision).
    pub fn layout(&self) -> Layout {
        self.layout
    }
    /// What one recorded integer means.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }
    /// Number of recorded values (equal to the sum of all counts).
    pub fn count(&self) -> u64 {
        self.count
    }
    /// Sum of recorded values in recorded integers (microseconds by default).
    pub fn sum_native(&self) -> f64 {
        self.sum
    }
    /// Sum in base units (seconds for time).
    pub fn sum(&self) -> f64 {
        self.sum / self.resolution.per_base_unit()
    }
    /// Smallest recorded value (0 when empty).
    pub fn min(&self) -> u64 {
        self.min
    }
    /// Largest recorded value, before saturation (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }
    /// Values that were above the highest trackable value and were counted at it.
    pub fn saturated(&self) -> u64 {
        self.saturated
    }
    /// Exact mean in recorded integers (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
    /// Population standard deviation in recorded integers, from the HDR counts
    /// (each value taken at the middle of its bucket, as HdrHistogram does).
    pub fn stddev(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let mean = self.mean();
        let total: f64 = self
            .recorded_values()
            .map(|(v, n)| {
                let d = self.layout.median_equivalent(v) as f64 - mean;
                d * d * n as f64
            })
            .sum();
        (total / self.count as f64).sqrt()
    }

    /// The value at quantile `q` (0..=1) in recorded integers, exactly as HdrHistogram
    /// computes it: the highest value equivalent to the `ceil(q * count)`-th smallest value.
    /// 0 when empty.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        let q = q.clamp(0.0, 1.0);
        let rank = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for &(i, c) in &self.counts {
            seen += c;
            if seen >= rank {
                let v = self.layout.value_for(i as usize);
                return if q == 0.0 {
                    v
                } else {
                    self.layout.highest_equivalent(v)
                };
            }
        }
        0
    }

    /// The value at quantile `q` in base units (seconds for time), clamped to the exact
    /// `[min, max]` so that, say, p99.9 never reads above the largest value recorded.
    pub fn quantile(&self, q: f64) -> f64 {
        let v = self.value_at_quantile(q);
        let v = if self.count == 0 {
            0
        } else {
            v.clamp(self.min, self.max.max(self.min))
        };
        v as f64 / self.resolution.per_base_unit()
    }

    /// `(lowest equivalent value, count)` for every non-zero count, in value order.
    pub fn recorded_values(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.counts
            .iter()
            .map(|&(i, c)| (self.layout.value_for(i as usize), c))
    }

    /// The exposition bounds (base units), without the implied `+Inf`.
    pub fn bounds(&self) -> impl Iterator<Item = f64> + '_ {
        self.bounds.iter().copied()
    }

    /// Whether bucket counts are exact (bounds were given) rather than derived from HDR counts.
    pub fn buckets_exact(&self) -> bool {
        self.exact.is_some()
    }

    /// Non-cumulative counts per bound, `+Inf` last.
    pub fn bucket_counts(&self) -> Vec<u64> {
        if let Some(e) = &self.exact {
            return e.clone();
        }
        // A value counts under a bound when the lowest value of its HDR bucket does, i.e.
        // when its index is at most the index of the bound's integer.
        let bounds = BoundIndexes::new(&self.bounds, &self.layout, self.resolution.per_base_unit());
        non_cumulative(bounds.cumulative(&self.counts), self.count)
    }

    /// Cumulative Prometheus buckets, `+Inf` last; the last count is the `_count` to expose.
    pub fn buckets(&self) -> Vec<Bucket> {
        let mut cumulative = 0;
        let counts = self.bucket_counts();
        let bounds = self
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY));
        bounds
            .zip(counts)
            .enumerate()
            .map(|(i, (le, n))| {
                cumulative += n;
                let exemplar = self
                    .exemplars
                    .as_ref()
                    .and_then(|e| e.get(i).cloned().flatten());
                Bucket {
                    le,
                    cumulative_count: cumulative,
                    exemplar,
                }
            })
            .collect()
    }

    /// The counts as an `hdrhistogram::Histogram`.
    ///
    /// # Panics
    /// Never: the layout was validated with the same rules `hdrhistogram` applies.
    pub fn to_hdr(&self) -> hdrhistogram::Histogram<u64> {
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(
            self.layout.lowest(),
            self.layout.highest(),
            self.layout.significant_figures(),
        )
        .expect("layout validated by Layout::new with hdrhistogram's rules");
        for (v, n) in self.recorded_values() {
            h.record_n(v.clamp(self.min, self.max), n)
                .expect("value_for stays within the layout");
        }
        h
    }

    /// A snapshot from an `hdrhistogram::Histogram` whose integers mean `resolution`.
    /// HDR keeps no exact sum, so the sum is estimated from bucket midpoints.
    ///
    /// # Errors
    /// [`ErrorKind::CorruptBlob`] if its range or precision is outside what we support.
    pub fn from_hdr(h: &hdrhistogram::Histogram<u64>, resolution: Resolution) -> Result<Self> {
        let layout = Layout::new("hdr", h.low(), h.high(), h.sigfig()).map_err(|e| {
            Error::new(
                ErrorKind::CorruptBlob,
                None,
                format!("HDR histogram has an unusable layout: {}", e.rule()),
            )
        })?;
        let mut counts = Vec::new();
        let mut sum = 0.0;
        for v in h.iter_recorded() {
            let value = v.value_iterated_to();
            let n = v.count_at_value();
            counts.push((layout.index_for(value.min(layout.highest())) as u32, n));
            sum += h.median_equivalent(value) as f64 * n as f64;
        }
        let count = h.len();
        let bounds: Arc<[f64]> = match resolution {
            Resolution::Unit => super::decades(layout.lowest(), layout.highest()).into(),
            _ => super::DEFAULT_BUCKETS.to_vec().into(),
        };
        Ok(Self {
            layout,
            resolution,
            counts,
            count,
            sum,
            min: if count == 0 { 0 } else { h.min() },
            max: if count == 0 { 0 } else { h.max() },
            saturated: 0,
            bounds,
            exact: None,
            exemplars: None,
        })
    }

    /// Encodes as an HdrHistogram V2 blob (uncompressed), readable by every HdrHistogram.
    ///
    /// # Panics
    /// Never: serialising into a `Vec` cannot fail.
    pub fn encode_v2(&self) -> Vec<u8> {
        let mut out = Vec::new();
        V2Serializer::new()
            .serialize(&self.to_hdr(), &mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// Encodes as an HdrHistogram V2 deflate-compressed blob (what `hdrh` and
    /// `hdr-histogram-js` `encode()` produce before base64).
    ///
    /// # Panics
    /// Never: serialising and compressing into a `Vec` cannot fail.
    pub fn encode_v2_deflate(&self) -> Vec<u8> {
        let mut out = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.to_hdr(), &mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// Decodes a V2 blob, plain or deflate-compressed.
    ///
    /// Safe on untrusted bytes, at a cost bounded by the blob's own size, whatever range and
    /// precision its header declares: one pass over the payload, and memory of the plain
    /// blob plus one 16-byte `(index, count)` pair per non-zero count, each of which takes at
    /// least one byte of the payload (so at most 17 bytes per byte of the plain blob, and at
    /// most one pair per count slot of the declared layout). Nothing is allocated for the
    /// declared range itself. A compressed blob is first inflated, to at most 64 MiB
    /// (zlib expands at most about 1032 times, so `n` compressed bytes inflate to at most
    /// `min(1032 n, 64 MiB)` bytes).
    ///
    /// # Errors
    /// [`ErrorKind::CorruptBlob`] naming what is wrong with the bytes.
    pub fn decode_v2(bytes: &[u8], resolution: Resolution) -> Result<Self> {
        let plain = plain_v2(bytes)?;
        let header = V2Header::read(&plain)?;
        let payload = &plain[V2_HEADER_LEN..V2_HEADER_LEN + header.payload_len];
        let decoded = decode_counts(&header.layout, payload)?;
        let bounds: Arc<[f64]> = match resolution {
            Resolution::Unit => {
                super::decades(header.layout.lowest(), header.layout.highest()).into()
            }
            _ => super::DEFAULT_BUCKETS.to_vec().into(),
        };
        Ok(Self {
            layout: header.layout,
            resolution,
            counts: decoded.counts,
            count: decoded.count,
            sum: decoded.sum,
            min: decoded.min,
            max: decoded.max,
            saturated: 0,
            bounds,
            exact: None,
            exemplars: None,
        })
    }
}

/// The fields of a plain V2 header that matter once `plain_v2` has normalised it.
struct V2Header {
    payload_len: usize,
    layout: Layout,
}

impl V2Header {
    /// Reads and checks the header of a blob `plain_v2` returned (so at least
    /// [`V2_HEADER_LEN`] bytes, with a payload length that fits).
    fn read(plain: &[u8]) -> Result<Self> {
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&plain[at..at + 8]);
            u64::from_be_bytes(b)
        };
        // Every encoder writes the cookie with the 8-byte word size (0x10), as decoders expect.
        let cookie = be_u32(plain, 0);
        if cookie != V2_COOKIE | 0x10 {
            return Err(corrupt(&format!(
                "unknown V2 cookie {cookie:#010x} (a word size other than 8 bytes)"
            )));
        }
        if be_u32(plain, 8) != 0 {
            return Err(corrupt(
                "a normalizing offset other than 0 is not supported",
            ));
        }
        let digits = be_u32(plain, 12);
        let ratio = f64::from_bits(u64_at(32));
        #[expect(
            clippy::float_cmp,
            reason = "the ratio must be exactly 1.0, as written"
        )]
        if ratio != 1.0 {
            return Err(corrupt(&format!(
                "an integer-to-double conversion ratio other than 1 is not supported, not {ratio}"
            )));
        }
        let (lowest, highest) = (u64_at(16), u64_at(24));
        let layout = u8::try_from(digits)
            .map_err(|_| corrupt(&format!("{digits} significant figures")))
            .and_then(|digits| {
                Layout::new("hdr", lowest, highest, digits)
                    .map_err(|e| corrupt(&format!("an unusable layout: {}", e.rule())))
            })?;
        Ok(Self {
            payload_len: be_u32(plain, 4) as usize,
            layout,
        })
    }
}

/// What a V2 payload holds, as a snapshot keeps it.
struct DecodedCounts {
    /// Non-zero `(index, count)` pairs in index order, indices within the layout's range.
    counts: Vec<(u32, u64)>,
    count: u64,
    sum: f64,
    min: u64,
    max: u64,
}

/// Decodes the run-length, zig-zag LEB128 counts of a V2 payload in one pass: a positive
/// number is the count at the next index, a negative one `-n` skips `n` empty indices.
///
/// A count at an index the layout has no slot for is an error; a count in a slot above the
/// highest trackable value (HdrHistogram rounds its last bucket up) lands at the highest
/// value's index, as recording such a value would.
fn decode_counts(layout: &Layout, mut payload: &[u8]) -> Result<DecodedCounts> {
    let top = layout.index_for(layout.highest());
    let mut counts: Vec<(u32, u64)> = Vec::new();
    let (mut index, mut count, mut sum) = (0usize, 0u64, 0.0f64);
    while !payload.is_empty() {
        let (raw, used) = read_varint(payload)?;
        payload = &payload[used..];
        // Zig-zag: an odd number `2k - 1` is `-k`, a run of k empty slots; an even `2n` is `n`.
        if raw & 1 == 1 {
            let zeros = (raw >> 1) + 1;
            index = index.saturating_add(usize::try_from(zeros).unwrap_or(usize::MAX));
            continue;
        }
        let n = raw >> 1;
        if n > 0 {
            if index >= layout.counts_len() {
                return Err(corrupt(&format!(
                    "a count at index {index}, past the {} slots its header's range has",
                    layout.counts_len()
                )));
            }
            let slot = index.min(top);
            count = count.saturating_add(n);
            sum += layout.median_equivalent(layout.value_for(slot)) as f64 * n as f64;
            let slot = slot as u32;
            match counts.last_mut() {
                Some((last, c)) if *last == slot => *c = c.saturating_add(n),
                _ => counts.push((slot, n)),
            }
        }
        index = index.saturating_add(1);
    }
    let (min, max) = match (counts.first(), counts.last()) {
        // Index 0's lowest value is 0, as HdrHistogram's min is when it holds a count.
        (Some(&(first, _)), Some(&(last, _))) => (
            layout.value_for(first as usize),
            layout.highest_equivalent(layout.value_for(last as usize)),
        ),
        _ => (0, 0),
    };
    Ok(DecodedCounts {
        counts,
        count,
        sum,
        min,
        max,
    })
}

/// One LEB128 number as HdrHistogram writes it: 7 bits per byte, low bits first, at most 9
/// bytes, the ninth contributing all 8 of its bits. Returns the number and the bytes read.
fn read_varint(bytes: &[u8]) -> Result<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(9) {
        if i == 8 {
            return Ok((value | u64::from(b) << 56, 9));
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(corrupt("the payload ends inside a number"))
}

/// The V2 cookies (HdrHistogram's `V2EncodingCookieBase` and its compressed form), compared
/// without the word-size bits (`0xf0`) that encoders set.
const V2_COOKIE: u32 = 0x1c84_9303;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9304;
/// Cookie, payload length, normalizing offset, digits, lowest, highest, conversion ratio.
const V2_HEADER_LEN: usize = 40;
/// The largest plain blob a compressed one may inflate to: far above any histogram's
/// counts (a 1 ns .. 1 day range at 5 digits encodes in a few MB), far below a memory scare.
const MAX_INFLATED: usize = 64 << 20;

fn corrupt(rule: &str) -> Error {
    Error::new(
        ErrorKind::CorruptBlob,
        None,
        format!("not a valid HdrHistogram V2 blob: {rule}"),
    )
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The plain V2 form of `bytes`, checked and normalised for the `hdrhistogram` crate:
/// a compressed blob is inflated (bounded, and only a complete zlib stream with its
/// checksum counts), declared lengths must fit the bytes given, and the header that
/// hdr-histogram-js writes (normalizing offset 1 and the conversion ratio as the integer 1
/// where Java and C write 0 and the double 1.0; hdr-histogram-js ignores both on reading)
/// is rewritten as Java's.
fn plain_v2(bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.len() < 8 {
        return Err(corrupt(&format!(
            "a V2 blob is at least 8 bytes, not {}",
            bytes.len()
        )));
    }
    let declared = be_u32(bytes, 4) as usize;
    let mut plain = match be_u32(bytes, 0) & !0xf0 {
        V2_COMPRESSED_COOKIE => {
            let body = bytes.get(8..8 + declared).ok_or_else(|| {
                corrupt(&format!(
                    "compressed length {declared} runs past the {} bytes given",
                    bytes.len()
                ))
            })?;
            inflate(body)?
        }
        V2_COOKIE => bytes.to_vec(),
        other => return Err(corrupt(&format!("unknown V2 cookie {other:#010x}"))),
    };
    if plain.len() < V2_HEADER_LEN || be_u32(&plain, 0) & !0xf0 != V2_COOKIE {
        return Err(corrupt("the inflated blob is not a plain V2 histogram"));
    }
    let payload = be_u32(&plain, 4) as usize;
    if V2_HEADER_LEN + payload > plain.len() {
        return Err(corrupt(&format!(
            "payload length {payload} runs past the {} bytes given",
            plain.len() - V2_HEADER_LEN
        )));
    }
    let ratio = u64::from_be_bytes(plain[32..40].try_into().unwrap_or_default());
    if ratio == 1 && be_u32(&plain, 8) <= 1 {
        plain[8..12].copy_from_slice(&0u32.to_be_bytes());
        plain[32..40].copy_from_slice(&1.0f64.to_bits().to_be_bytes());
    }
    Ok(plain)
}

/// Inflates a zlib stream completely (checksum included) into at most [`MAX_INFLATED`] bytes.
fn inflate(body: &[u8]) -> Result<Vec<u8>> {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut z = Decompress::new(true);
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).clamp(64, MAX_INFLATED));
    loop {
        let consumed = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
        let status = z
            .decompress_vec(
                &body[consumed.min(body.len())..],
                &mut out,
                FlushDecompress::None,
            )
            .map_err(|e| corrupt(&format!("the compressed V2 blob does not inflate: {e}")))?;
        match status {
            Status::StreamEnd => return Ok(out),
            _ if out.len() < out.capacity() => {
                return Err(corrupt(
                    "the compressed V2 blob ends before its zlib stream does",
                ));
            }
            _ if out.len() >= MAX_INFLATED => {
                return Err(corrupt(&format!(
                    "the compressed V2 blob inflates past {MAX_INFLATED} bytes"
                )));
            }
            _ => out.reserve(out.len().min(MAX_INFLATED - out.len())),
        }
    }
}

impl serde::Serialize for HistogramSnapshot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let per = self.resolution.per_base_unit();
        let mut m = s.serialize_map(Some(14))?;
        m.serialize_entry("count", &self.count)?;
        m.serialize_entry("sum", &self.sum())?;
        m.serialize_entry("min", &(self.min as f64 / per))?;
        m.serialize_entry("max", &(self.max as f64 / per))?;
        m.serialize_entry("mean", &(self.mean() / per))?;
        m.serialize_entry("stddev", &(self.stddev() / per))?;
        for (k, q) in [
            ("p50", 0.5),
            ("p90", 0.9),
            ("p95", 0.95),
            ("p99", 0.99),
            ("p999", 0.999),
        ] {
            m.serialize_entry(k, &self.quantile(q))?;
        }
        m.serialize_entry("saturated", &self.saturated)?;
        m.serialize_entry("resolution", &self.resolution)?;
        let buckets: Vec<(String, u64)> = self
            .buckets()
            .iter()
            .map(|b| {
                (
                    if b.le.is_infinite() {
                        "+Inf".to_owned()
                    } else {
                        b.le.to_string()
                    },
                    b.cumulative_count,
                )
            })
            .collect();
        m.serialize_entry("buckets", &buckets)?;
        m.end()
    }
}
