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
    }
}
