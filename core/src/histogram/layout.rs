//! The HdrHistogram bucket layout: which count index a value lands in.
//!
//! Values are grouped in buckets that double in width; each bucket has
//! `2^sub_bucket_half_count_magnitude` linear sub-buckets, enough that every
//! value is represented within `10^-significant_figures` relative error. The
//! arithmetic is exactly that of HdrHistogram (Java, C, the `hdrhistogram`
//! crate), which is what makes our counts convertible to theirs index for
//! index and our V2 blobs readable by every implementation.

use crate::error::{Error, ErrorKind, Result};

/// A histogram's range, precision and the index arithmetic derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    lowest: u64,
    highest: u64,
    significant_figures: u8,
    unit_magnitude: u8,
    sub_bucket_half_count_magnitude: u8,
    sub_bucket_half_count: u32,
    sub_bucket_mask: u64,
    leading_zero_count_base: u8,
    counts_len: usize,
}

impl Layout {
    /// The layout for values in `lowest..=highest` at `significant_figures` digits.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] naming `metric` if `lowest` is 0, `highest < 2 * lowest`,
    /// or `significant_figures > 5`.
    pub fn new(metric: &str, lowest: u64, highest: u64, significant_figures: u8) -> Result<Self> {
        let bad = |rule: String| Err(Error::for_metric(ErrorKind::InvalidConfig, metric, rule));
        if lowest == 0 {
            return bad("histogram lowest discernible value must be at least 1".into());
        }
        if highest < lowest.saturating_mul(2) {
            return bad(format!(
                "histogram highest trackable value {highest} must be at least twice the lowest ({lowest})"
            ));
        }
        if significant_figures > 5 {
            return bad(format!(
                "histogram significant figures must be 0..=5, not {significant_figures}"
            ));
        }
        let largest_single_unit = 2 * 10u64.pow(u32::from(significant_figures));
        let unit_magnitude = lowest.ilog2() as u8;
        let sub_bucket_count_magnitude = (64 - (largest_single_unit - 1).leading_zeros()) as u8;
        let sub_bucket_half_count_magnitude = sub_bucket_count_magnitude.max(1) - 1;
        if unit_magnitude + sub_bucket_half_count_magnitude > 61 {
            return bad(format!(
                "histogram cannot keep {significant_figures} significant figures above a lowest value of {lowest}"
            ));
        }
        let sub_bucket_count = 1u32 << (sub_bucket_half_count_magnitude + 1);
        let sub_bucket_half_count = sub_bucket_count / 2;
        let sub_bucket_mask = (u64::from(sub_bucket_count) - 1) << unit_magnitude;
        let leading_zero_count_base = 64 - unit_magnitude - sub_bucket_half_count_magnitude - 1;

        // How many doubling buckets cover `highest` (HdrHistogram's bucketsToCoverValue).
        let mut smallest_untrackable = u64::from(sub_bucket_count) << unit_magnitude;
        let mut bucket_count: usize = 1;
        while smallest_untrackable <= highest {
            if smallest_untrackable > u64::MAX / 2 {
                bucket_count += 1;
                break;
            }
            smallest_untrackable <<= 1;
            bucket_count += 1;
        }
        let counts_len = (bucket_count + 1) * sub_bucket_half_count as usize;
        Ok(Self {
            lowest,
            highest,
            significant_figures,
            unit_magnitude,
            sub_bucket_half_count_magnitude,
            sub_bucket_half_count,
            sub_bucket_mask,
            leading_zero_count_base,
            counts_len,
        })
    }

    /// The lowest discernible value.
    pub fn lowest(&self) -> u64 {
        self.lowest
    }
    /// The highest trackable value; larger values saturate to it.
    pub fn highest(&self) -> u64 {
        self.highest
    }
    /// Significant decimal figures kept.
    pub fn significant_figures(&self) -> u8 {
        self.significant_figures
    }
    /// Number of count slots.
    pub fn counts_len(&self) -> usize {
        self.counts_len
    }

    /// The count index for `value` (which must be `<= highest`).
    #[inline]
    pub fn index_for(&self, value: u64) -> usize {
        let bucket = u32::from(self.leading_zero_count_base)
            - (value | self.sub_bucket_mask).leading_zeros();
        let sub_bucket = (value >> (bucket + u32::from(self.unit_magnitude))) as usize;
        let bucket_base = (bucket as usize + 1) << self.sub_bucket_half_count_magnitude;
        bucket_base + sub_bucket - self.sub_bucket_half_count as usize
    }

    /// The lowest value that lands in `index`.
    #[inline]
    pub fn value_for(&self, index: usize) -> u64 {
        let half = u64::from(self.sub_bucket_half_count);
        let offset = index as u64 & (half - 1);
        // Index range 0 is bucket 0's lower half; range r > 0 is bucket r - 1's upper half.
        let (bucket, sub_bucket) = match index >> self.sub_bucket_half_count_magnitude {
            0 => (0, offset),
            r => (r - 1, offset + half),
        };
        sub_bucket << (bucket as u32 + u32::from(self.unit_magnitude))
    }

    /// Width of the range of values that share `value`'s index.
    pub fn equivalent_range(&self, value: u64) -> u64 {
        let index = self.index_for(value.min(self.highest));
        let bucket = (index >> self.sub_bucket_half_count_magnitude).saturating_sub(1);
        1u64 << (bucket as u32 + u32::from(self.unit_magnitude))
    }

    /// The largest value that shares `value`'s index.
    pub fn highest_equivalent(&self, value: u64) -> u64 {
        let low = self.value_for(self.index_for(value.min(self.highest)));
        low.saturating_add(self.equivalent_range(value) - 1)
    }

    /// The middle of the range of values that share `value`'s index.
    pub fn median_equivalent(&self, value: u64) -> u64 {
        let low = self.value_for(self.index_for(value.min(self.highest)));
        low.saturating_add(self.equivalent_range(value) >> 1)
    }
}

/// Binary exponents covered with full precision by a [`FloatLayout`]: magnitudes in
/// `2^MIN_EXPONENT .. 2^MAX_EXPONENT` (about 5.4e-20 to 1.8e19). Smaller non-zero
/// magnitudes count in the lowest bucket and larger ones (infinities included) in the
/// highest, both as saturated.
pub(crate) const MIN_EXPONENT: i32 = -64;
/// See [`MIN_EXPONENT`].
pub(crate) const MAX_EXPONENT: i32 = 64;
const OCTAVES: usize = (MAX_EXPONENT - MIN_EXPONENT) as usize;

/// The layout of an any-magnitude histogram: floats of either sign, indexed log-linearly.
///
/// Each binary octave `[2^e, 2^(e+1))` is cut into `2^sub_bits` equal sub-buckets, read
/// straight from the float's exponent and top mantissa bits (no logarithm). A bucket is
/// reported by its middle, which is within `2^-(sub_bits + 1)` of every value in it
/// relative to the value; `sub_bits` is the smallest that makes that `<= 10^-figures`
/// (9 for 3 figures: 512 counts per octave). Indexes run in value order: negative
/// magnitudes from the largest down, then zero, then positive magnitudes, so a walk over
/// the counts in index order is a walk over the values in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FloatLayout {
    significant_figures: u8,
    sub_bits: u8,
}

/// Where a float lands in a [`FloatLayout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FloatIndex {
    pub(crate) index: usize,
    /// The magnitude was outside the range kept at full precision (or infinite).
    pub(crate) saturated: bool,
}

impl FloatLayout {
    /// The layout keeping `significant_figures` digits.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] naming `metric` if `significant_figures > 5`.
    pub fn new(metric: &str, significant_figures: u8) -> Result<Self> {
        if significant_figures > 5 {
            return Err(Error::for_metric(
                ErrorKind::InvalidConfig,
                metric,
                format!("histogram significant figures must be 0..=5, not {significant_figures}"),
            ));
        }
        // Smallest k with 2^-(k+1) <= 10^-figures, i.e. 2^(k+1) >= 10^figures.
        let target = 10u64.pow(u32::from(significant_figures));
        let sub_bits = (u64::BITS - (target - 1).leading_zeros()).saturating_sub(1) as u8;
        Ok(Self {
            significant_figures,
            sub_bits,
        })
    }

    /// Significant decimal figures kept.
    pub fn significant_figures(&self) -> u8 {
        self.significant_figures
    }

    /// Sub-buckets per binary octave, as a power of two.
    pub fn sub_bits(&self) -> u8 {
        self.sub_bits
    }

    /// Counts per sign.
    fn half(self) -> usize {
        OCTAVES << self.sub_bits
    }

    /// Number of count slots.
    pub fn counts_len(&self) -> usize {
        2 * self.half() + 1
    }

    /// The index for `value`, which must not be NaN.
    #[inline]
    pub(crate) fn index_for(self, value: f64) -> FloatIndex {
        let bits = value.to_bits() & !(1 << 63);
        if bits == 0 {
            return FloatIndex {
                index: self.half(),
                saturated: false,
            };
        }
        // The biased exponent; subnormals (0) fall below MIN_EXPONENT with the rest.
        let exponent = (bits >> 52) as i32 - 1023;
        let (magnitude, saturated) = if exponent < MIN_EXPONENT {
            (0, true)
        } else if exponent >= MAX_EXPONENT {
            (self.half() - 1, true)
        } else {
            let sub =
                (bits >> (52 - u32::from(self.sub_bits))) as usize & ((1 << self.sub_bits) - 1);
            (
                ((exponent - MIN_EXPONENT) as usize) << self.sub_bits | sub,
                false,
            )
        };
        let index = if value.is_sign_negative() {
            self.half() - 1 - magnitude
        } else {
            self.half() + 1 + magnitude
        };
        FloatIndex { index, saturated }
    }

    /// The lowest magnitude and the width of magnitude bucket `magnitude`.
    fn magnitude_range(self, magnitude: usize) -> (f64, f64) {
        let exponent = i32::try_from(magnitude >> self.sub_bits).unwrap_or(0) + MIN_EXPONENT;
        let sub = (magnitude & ((1 << self.sub_bits) - 1)) as u64;
        let low = f64::from_bits(
            ((exponent + 1023) as u64) << 52 | sub << (52 - u32::from(self.sub_bits)),
        );
        let width = f64::from_bits(((exponent - i32::from(self.sub_bits) + 1023) as u64) << 52);
        (low, width)
    }

    /// The values that land in `index`: `(low, high)`, low included, high excluded for
    /// positive buckets (mirrored for negative ones); `(0, 0)` for zero.
    pub(crate) fn range_of(self, index: usize) -> (f64, f64) {
        let half = self.half();
        match index.cmp(&half) {
            std::cmp::Ordering::Equal => (0.0, 0.0),
            std::cmp::Ordering::Greater => {
                let (low, width) = self.magnitude_range((index - half - 1).min(half - 1));
                (low, low + width)
            }
            std::cmp::Ordering::Less => {
                let (low, width) = self.magnitude_range(half - 1 - index);
                (-(low + width), -low)
            }
        }
    }

    /// The value reported for `index`: the middle of its bucket.
    pub(crate) fn value_for(self, index: usize) -> f64 {
        let (low, high) = self.range_of(index);
        low + (high - low) / 2.0
    }
}

/// `x` as a `u64` key whose unsigned order is the float order (NaN excepted), so that
/// `fetch_min`/`fetch_max` on the key track a float minimum and maximum.
#[inline]
pub(crate) fn float_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 0 {
        bits | 1 << 63
    } else {
        !bits
    }
}

/// The float whose [`float_key`] is `key`.
#[inline]
pub(crate) fn key_float(key: u64) -> f64 {
    if key >> 63 == 1 {
        f64::from_bits(key & !(1 << 63))
    } else {
        f64::from_bits(!key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hdrhistogram_indexing() {
        for &(lo, hi, sf) in &[
            (1, 60_000_000, 3),
            (1, 1000, 1),
            (1000, 10_000_000_000, 2),
            (1, u64::MAX, 5),
            (7, 100, 0),
        ] {
            let l = Layout::new("t", lo, hi, sf).unwrap();
            let h = hdrhistogram::Histogram::<u64>::new_with_bounds(lo, hi, sf).unwrap();
            assert_eq!(l.counts_len(), h.distinct_values(), "{lo} {hi} {sf}");
            for v in [lo, lo + 1, 2047, 2048, 4095, 4096, 123_456, hi / 3, hi] {
                let v = v.clamp(lo, hi);
                let i = l.index_for(v);
                assert_eq!(
                    l.value_for(i),
                    h.lowest_equivalent(v),
                    "value {v} ({lo} {hi} {sf})"
                );
                assert_eq!(
                    l.highest_equivalent(v),
                    h.highest_equivalent(v),
                    "value {v}"
                );
                assert_eq!(l.median_equivalent(v), h.median_equivalent(v), "value {v}");
            }
        }
    }

    #[test]
    fn rejects_bad_ranges() {
        assert!(
            Layout::new("m", 0, 10, 3)
                .unwrap_err()
                .to_string()
                .contains("metric 'm'")
        );
        assert!(Layout::new("m", 10, 15, 3).is_err());
        assert!(Layout::new("m", 1, 100, 6).is_err());
        assert!(FloatLayout::new("m", 6).is_err());
    }

    #[test]
    fn float_layout_precision_and_order() {
        for figures in 0..=5u8 {
            let l = FloatLayout::new("t", figures).unwrap();
            let bound = 10f64.powi(-i32::from(figures));
            assert!(
                0.5f64.powi(i32::from(l.sub_bits()) + 1) <= bound,
                "{figures}"
            );
            if l.sub_bits() > 0 {
                assert!(
                    0.5f64.powi(i32::from(l.sub_bits())) > bound,
                    "{figures}: as coarse as allowed"
                );
            }
        }
        let l = FloatLayout::new("t", 3).unwrap();
        assert_eq!(l.sub_bits(), 9);
        let mut previous = 0;
        for (i, x) in [
            -1e15, -3.5, -1e-9, -0.0, 0.0, 1e-9, 1.0, 1.001, 3.5, 60.03, 1e15,
        ]
        .into_iter()
        .enumerate()
        {
            let at = l.index_for(x);
            assert!(!at.saturated, "{x}");
            assert!(i == 0 || at.index >= previous, "{x} keeps value order");
            previous = at.index;
            let (low, high) = l.range_of(at.index);
            assert!(low <= x && x <= high, "{x} in [{low}, {high}]");
            let reported = l.value_for(at.index);
            assert!(
                (reported - x).abs() <= x.abs() * 1e-3,
                "{x} read as {reported}"
            );
        }
        for x in [
            f64::INFINITY,
            1e30,
            f64::MIN_POSITIVE,
            1e-30,
            -1e30,
            f64::NEG_INFINITY,
        ] {
            let at = l.index_for(x);
            assert!(at.saturated && at.index < l.counts_len(), "{x}");
        }
        assert_eq!(l.index_for(f64::INFINITY).index, l.counts_len() - 1);
        assert_eq!(l.index_for(f64::NEG_INFINITY).index, 0);
    }

    #[test]
    fn float_keys_keep_float_order() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -0.0,
            0.0,
            1e-300,
            1.0,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(float_key(w[0]) <= float_key(w[1]), "{w:?}");
        }
        for x in xs {
            assert_eq!(key_float(float_key(x)).to_bits(), x.to_bits());
        }
    }
}
