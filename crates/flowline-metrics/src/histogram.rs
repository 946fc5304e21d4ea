//! Distributions of durations, for medians and 90th percentiles, in memory that does not grow
//! with the number of samples.
//!
//! Durations (whole seconds) fall into log-linear buckets: 4,096 equal buckets per power of two,
//! so a bucket is never wider than 1/4,096 of its values (0.025 %). Each bucket keeps its count
//! and the exact sum of its samples, and a percentile reports the mean of the samples in the
//! bucket it falls in: exact when the samples of a bucket are equal (whole hours, whole days),
//! within 0.025 % otherwise. Two histograms add and subtract exactly.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

const SUB_BUCKET_BITS: u32 = 12;

/// A distribution of non-negative durations in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    #[serde(with = "flowline_core::codec::sorted")]
    buckets: FxHashMap<u32, (i64, i128)>,
    count: i64,
    sum: i128,
}

fn bucket_of(value: u64) -> u32 {
    let sub_buckets = 1u64 << SUB_BUCKET_BITS;
    if value < sub_buckets {
        return u32::try_from(value).unwrap_or(u32::MAX);
    }
    // For value in [2^k, 2^(k+1)) with k ≥ 12: the octave k − 11 and the top 12 bits below the
    // leading one.
    let octave = 63 - value.leading_zeros() - SUB_BUCKET_BITS + 1;
    let shift = octave - 1;
    let offset = (value >> shift) - sub_buckets;
    let index = u64::from(octave) * sub_buckets + offset;
    u32::try_from(index).unwrap_or(u32::MAX)
}

impl Histogram {
    /// Adds (`sign` 1) or removes (`sign` −1) one sample.
    pub fn record(&mut self, seconds: i64, sign: i64) {
        let value = seconds.max(0);
        let entry = self
            .buckets
            .entry(bucket_of(value.unsigned_abs()))
            .or_insert((0, 0));
        entry.0 += sign;
        entry.1 += i128::from(sign) * i128::from(value);
        if entry.0 == 0 {
            self.buckets.remove(&bucket_of(value.unsigned_abs()));
        }
        self.count += sign;
        self.sum += i128::from(sign) * i128::from(value);
    }

    /// Adds every sample of another histogram.
    pub fn merge(&mut self, other: &Self) {
        for (bucket, (count, sum)) in &other.buckets {
            let entry = self.buckets.entry(*bucket).or_insert((0, 0));
            entry.0 += count;
            entry.1 += sum;
            if entry.0 == 0 {
                self.buckets.remove(bucket);
            }
        }
        self.count += other.count;
        self.sum += other.sum;
    }

    /// Samples recorded.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// Sum of the samples, seconds.
    pub fn sum(&self) -> i128 {
        self.sum
    }

    /// The samples of ranks `ranks` (1-based, ascending) in ascending order, each as its
    /// bucket's mean. The buckets are sorted once for all of them: a scorecard asks for many
    /// medians, and sorting is most of their cost.
    fn at_ranks<const N: usize>(&self, ranks: [i64; N]) -> [Option<f64>; N] {
        let mut ordered: Vec<(u32, (i64, i128))> = self
            .buckets
            .iter()
            .map(|(bucket, terms)| (*bucket, *terms))
            .collect();
        // Bucket numbers are distinct, so an unstable sort gives the one order there is.
        ordered.sort_unstable_by_key(|(bucket, _)| *bucket);
        let mut found = [None; N];
        let mut next = 0;
        let mut seen = 0;
        for (_, (count, sum)) in ordered {
            seen += count;
            while next < N && seen >= ranks[next] && count > 0 {
                found[next] = Some(sum as f64 / count as f64);
                next += 1;
            }
            if next == N {
                break;
            }
        }
        found
    }

    /// The median: the middle sample, or the mean of the two middle ones.
    pub fn median(&self) -> Option<f64> {
        if self.count <= 0 {
            return None;
        }
        let [lower, upper] = self.at_ranks([(self.count + 1) / 2, self.count / 2 + 1]);
        let (lower, upper) = (lower?, upper?);
        Some(if self.count % 2 == 0 {
            (lower + upper) / 2.0
        } else {
            lower
        })
    }

    /// The `percent`-th percentile by nearest rank: the sample of rank ⌈p/100 × n⌉.
    pub fn percentile(&self, percent: i64) -> Option<f64> {
        if self.count <= 0 {
            return None;
        }
        let rank = (percent * self.count + 99) / 100;
        let [sample] = self.at_ranks([rank.clamp(1, self.count)]);
        sample
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_hours_come_back_exactly_and_ranks_follow_the_nearest_rank_rule() {
        // S-1's four cycle times, 50 h, 58 h, 72 h and 119 h: median (58 + 72) / 2 = 65 h;
        // p90 by nearest rank is rank ⌈0.9 × 4⌉ = 4, 119 h.
        let mut histogram = Histogram::default();
        for hours in [50, 58, 72, 119] {
            histogram.record(hours * 3600, 1);
        }
        assert_eq!(histogram.median(), Some(65.0 * 3600.0));
        assert_eq!(histogram.percentile(90), Some(119.0 * 3600.0));
        assert_eq!(histogram.sum(), (50 + 58 + 72 + 119) * 3600);
        // K-5: 3 h, 12 h, 20 h: median 12 h, p90 rank ⌈2.7⌉ = 3 → 20 h.
        let mut dock = Histogram::default();
        for hours in [3, 12, 20] {
            dock.record(hours * 3600, 1);
        }
        assert_eq!(dock.median(), Some(12.0 * 3600.0));
        assert_eq!(dock.percentile(90), Some(20.0 * 3600.0));
    }

    #[test]
    fn ranks_that_share_a_bucket_are_read_from_it() {
        // 9 h twice, then 5 h three times: sorted 5, 5, 5, 9, 9. The median is rank 3, 5 h;
        // p60 is rank ⌈0.6 × 5⌉ = 3, 5 h; p61 is rank ⌈3.05⌉ = 4, 9 h; p100 is rank 5, 9 h.
        let mut histogram = Histogram::default();
        histogram.record(9 * 3600, 2);
        histogram.record(5 * 3600, 3);
        assert_eq!(histogram.median(), Some(5.0 * 3600.0));
        assert_eq!(histogram.percentile(60), Some(5.0 * 3600.0));
        assert_eq!(histogram.percentile(61), Some(9.0 * 3600.0));
        assert_eq!(histogram.percentile(100), Some(9.0 * 3600.0));
        // One more 9 h: 5, 5, 5, 9, 9, 9; the middle two are 5 h and 9 h, median 7 h.
        histogram.record(9 * 3600, 1);
        assert_eq!(histogram.median(), Some(7.0 * 3600.0));
    }

    #[test]
    fn a_bucket_is_never_wider_than_a_4096th_of_its_values() {
        for value in [4_095u64, 4_096, 10_000, 876_960, 2_044_224, 31_536_000] {
            let bucket = bucket_of(value);
            let lowest = (0..=value)
                .rev()
                .take_while(|v| bucket_of(*v) == bucket)
                .last();
            let width = value - lowest.unwrap_or(value) + 1;
            assert!(
                width * 4096 <= value.max(4096) * 2,
                "{value}: width {width}"
            );
        }
    }

    #[test]
    fn removing_a_sample_undoes_adding_it() {
        let mut histogram = Histogram::default();
        histogram.record(100, 1);
        histogram.record(7_200, 1);
        histogram.record(100, -1);
        let mut expected = Histogram::default();
        expected.record(7_200, 1);
        assert_eq!(histogram, expected);
    }
}
