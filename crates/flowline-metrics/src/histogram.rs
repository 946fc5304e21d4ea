//! Distributions of durations, for medians and 90th percentiles, in memory that does not grow
//! with the number of samples.
//!
//! Durations (whole seconds) fall into log-linear buckets: 4,096 equal buckets per power of two,
//! so a bucket is never wider than 1/4,096 of its values (0.025 %). Each bucket keeps its count
//! and the exact sum of its samples, and a percentile reports the mean of the samples in the
//! bucket it falls in: exact when the samples of a bucket are equal (whole hours, whole days),
//! within 0.025 % otherwise. Two histograms add and subtract exactly.
//!
//! The buckets with samples are kept in a vector sorted by bucket: 32 bytes each, where a hash
//! map took about 55 with its slack, and a fold keeps one histogram per day and series for every
//! day of the log. Percentiles walk them in order without sorting. They are written as a map
//! from bucket to count and sum, in bucket order.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

const SUB_BUCKET_BITS: u32 = 12;

/// A bucket with samples: its number, their count and their exact sum.
type Bucket = (u32, i64, i128);

/// A distribution of non-negative durations in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    #[serde(with = "buckets")]
    buckets: Vec<Bucket>,
    count: i64,
    sum: i128,
}

/// The buckets written as a map from bucket to `(count, sum)` in bucket order, and read back
/// sorted whatever order they come in.
mod buckets {
    use super::Bucket;
    use serde::de::{MapAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(buckets: &[Bucket], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            buckets
                .iter()
                .map(|(bucket, count, sum)| (bucket, (count, sum))),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Bucket>, D::Error> {
        struct Buckets;
        impl<'de> Visitor<'de> for Buckets {
            type Value = Vec<Bucket>;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a map from bucket to count and sum")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Bucket>, A::Error> {
                let mut buckets = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4_096));
                while let Some((bucket, (count, sum))) = map.next_entry::<u32, (i64, i128)>()? {
                    buckets.push((bucket, count, sum));
                }
                buckets.sort_unstable_by_key(|(bucket, _, _)| *bucket);
                if buckets.windows(2).any(|pair| pair[0].0 == pair[1].0) {
                    return Err(serde::de::Error::custom("a bucket is written twice"));
                }
                Ok(buckets)
            }
        }
        deserializer.deserialize_map(Buckets)
    }
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
        let added = i128::from(sign) * i128::from(value);
        let bucket = bucket_of(value.unsigned_abs());
        match self.buckets.binary_search_by_key(&bucket, |entry| entry.0) {
            Ok(at) => {
                let entry = &mut self.buckets[at];
                entry.1 += sign;
                entry.2 += added;
                if entry.1 == 0 {
                    self.buckets.remove(at);
                }
            }
            Err(at) if sign != 0 => self.buckets.insert(at, (bucket, sign, added)),
            Err(_) => {}
        }
        self.count += sign;
        self.sum += added;
    }

    /// Adds every sample of another histogram.
    pub fn merge(&mut self, other: &Self) {
        *self = Histogram::total([&*self, other]);
    }

    /// The sum of several histograms (a range's days): their buckets added up in a hash map,
    /// then sorted once, rather than merged one after another into a growing sorted total.
    pub fn total<'a>(parts: impl IntoIterator<Item = &'a Histogram>) -> Histogram {
        let mut added: FxHashMap<u32, (i64, i128)> = FxHashMap::default();
        let (mut count, mut sum) = (0, 0);
        for part in parts {
            for &(bucket, terms, total) in &part.buckets {
                let entry = added.entry(bucket).or_insert((0, 0));
                entry.0 += terms;
                entry.1 += total;
            }
            count += part.count;
            sum += part.sum;
        }
        let mut buckets: Vec<Bucket> = added
            .into_iter()
            .filter(|(_, (terms, _))| *terms != 0)
            .map(|(bucket, (terms, total))| (bucket, terms, total))
            .collect();
        // Bucket numbers are distinct, so an unstable sort gives the one order there is.
        buckets.sort_unstable_by_key(|(bucket, _, _)| *bucket);
        Histogram {
            buckets,
            count,
            sum,
        }
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
    /// bucket's mean, in one walk of the sorted buckets.
    fn at_ranks<const N: usize>(&self, ranks: [i64; N]) -> [Option<f64>; N] {
        let mut found = [None; N];
        let mut next = 0;
        let mut seen = 0;
        for &(_, count, sum) in &self.buckets {
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
    fn merging_adds_and_takes_out_bucket_by_bucket() {
        // Ours: 1 h, 2 h. Theirs: 2 h taken out, 3 h and 30 s added (a late fact moving a
        // sample and two new ones). The sum: 1 h, 3 h and 30 s; count 3, sum 3,600 + 10,800
        // + 30 = 14,430 s.
        let mut ours = Histogram::default();
        ours.record(3_600, 1);
        ours.record(7_200, 1);
        let mut theirs = Histogram::default();
        theirs.record(7_200, -1);
        theirs.record(10_800, 1);
        theirs.record(30, 1);
        ours.merge(&theirs);
        let mut expected = Histogram::default();
        for seconds in [30, 3_600, 10_800] {
            expected.record(seconds, 1);
        }
        assert_eq!(ours, expected);
        assert_eq!((ours.count(), ours.sum()), (3, 14_430));
        assert_eq!(ours.median(), Some(3_600.0));
        // Merging what is already here adds in place: 30 s twice, 1 h twice, 3 h twice.
        ours.merge(&expected);
        assert_eq!(ours.percentile(50), Some(3_600.0));
        assert_eq!(ours.count(), 6);
    }

    #[test]
    fn the_total_of_several_equals_merging_them_one_by_one() {
        // Three days: {1 h, 2 h}, {2 h taken out, 3 h}, {30 s, 1 h}. Together: 30 s, 1 h
        // twice, 3 h; count 4, sum 30 + 7,200 + 10,800 = 18,030 s, median (1 h + 1 h) / 2.
        let day = |samples: &[(i64, i64)]| {
            let mut histogram = Histogram::default();
            for &(seconds, sign) in samples {
                histogram.record(seconds, sign);
            }
            histogram
        };
        let days = [
            day(&[(3_600, 1), (7_200, 1)]),
            day(&[(7_200, -1), (10_800, 1)]),
            day(&[(30, 1), (3_600, 1)]),
        ];
        let total = Histogram::total(&days);
        let mut merged = Histogram::default();
        for histogram in &days {
            merged.merge(histogram);
        }
        assert_eq!(total, merged);
        assert_eq!((total.count(), total.sum()), (4, 18_030));
        assert_eq!(total.median(), Some(3_600.0));
        assert_eq!(total, day(&[(30, 1), (3_600, 2), (10_800, 1)]));
    }

    #[test]
    fn buckets_are_written_as_a_map_in_bucket_order_and_read_back_in_any() {
        // 2 h then 30 s recorded: written {30: (1, 30), 7200-bucket: (1, 7200)} in bucket
        // order, as the hash map before them wrote it.
        let mut histogram = Histogram::default();
        histogram.record(7_200, 1);
        histogram.record(30, 1);
        let json = serde_json::to_value(&histogram).unwrap();
        let bucket = bucket_of(7_200);
        assert_eq!(
            json["buckets"],
            serde_json::json!({ "30": [1, 30], bucket.to_string(): [1, 7_200] })
        );
        let text =
            format!(r#"{{"buckets":{{"{bucket}":[1,7200],"30":[1,30]}},"count":2,"sum":7230}}"#);
        let back: Histogram = serde_json::from_str(&text).unwrap();
        assert_eq!(back, histogram);
        let twice = r#"{"buckets":{"30":[1,30],"30":[1,30]},"count":2,"sum":60}"#;
        assert!(serde_json::from_str::<Histogram>(twice).is_err());
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
