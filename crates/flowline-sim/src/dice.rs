//! Seeded randomness: every draw of a run comes from one ChaCha8 stream, so a seed replays the
//! same run (ChaCha8's output is fixed for a seed on every platform).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, LogNormal, Normal, Poisson};

/// The run's random stream.
pub struct Dice(ChaCha8Rng);

impl Dice {
    /// A stream for `seed`.
    pub fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    /// A uniform number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// A uniform integer in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        self.0.random_range(low..=high)
    }

    /// A uniform real in [low, high).
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// A Poisson count with mean `mean` (0 for a mean of zero or less).
    pub fn poisson(&mut self, mean: f64) -> u64 {
        if !is_positive(mean) {
            return 0;
        }
        match Poisson::new(mean) {
            Ok(poisson) => {
                let draw: f64 = poisson.sample(&mut self.0);
                draw as u64
            }
            Err(_) => 0,
        }
    }

    /// A binomial count of `n` trials with probability `p`.
    pub fn binomial(&mut self, n: u64, p: f64) -> u64 {
        if n == 0 || !is_positive(p) {
            return 0;
        }
        match Binomial::new(n, p.min(1.0)) {
            Ok(binomial) => binomial.sample(&mut self.0),
            Err(_) => 0,
        }
    }

    /// A normal draw.
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        match Normal::new(mean, sd.max(0.0)) {
            Ok(normal) => normal.sample(&mut self.0),
            Err(_) => mean,
        }
    }

    /// A positive draw with the given mean and standard deviation (log-normal), for lead
    /// times and delays, which are skewed to the right.
    pub fn positive(&mut self, mean: f64, sd: f64) -> f64 {
        if !is_positive(mean) {
            return 0.0;
        }
        if !is_positive(sd) {
            return mean;
        }
        let variance = (sd / mean).powi(2);
        let sigma = (1.0 + variance).ln().sqrt();
        let mu = mean.ln() - sigma * sigma / 2.0;
        match LogNormal::new(mu, sigma) {
            Ok(lognormal) => lognormal.sample(&mut self.0),
            Err(_) => mean,
        }
    }

    /// An index drawn with probability proportional to `weights` (cumulative, ascending).
    pub fn pick_cumulative(&mut self, cumulative: &[f64]) -> usize {
        let Some(total) = cumulative.last().copied() else {
            return 0;
        };
        let target = self.unit() * total;
        cumulative
            .partition_point(|&c| c <= target)
            .min(cumulative.len() - 1)
    }

    /// An index drawn with probability proportional to `weights`.
    pub fn pick(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if !is_positive(total) {
            return 0;
        }
        let mut target = self.unit() * total;
        for (i, weight) in weights.iter().enumerate() {
            if target < *weight {
                return i;
            }
            target -= weight;
        }
        weights.len() - 1
    }
}

/// Running sums of weights, for [`Dice::pick_cumulative`].
pub fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    weights
        .into_iter()
        .map(|w| {
            total += w.max(0.0);
            total
        })
        .collect()
}

/// Whether `x` is a number above zero (false for NaN).
fn is_positive(x: f64) -> bool {
    x > 0.0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_draws_and_another_seed_others() {
        let draws = |seed| {
            let mut dice = Dice::new(seed);
            (0..50).map(|_| dice.poisson(4.0)).collect::<Vec<_>>()
        };
        assert_eq!(draws(1), draws(1));
        assert_ne!(draws(1), draws(2));
    }

    #[test]
    fn positive_draws_have_the_asked_mean_and_spread() {
        // 200,000 draws: the standard error of the mean is 3 / sqrt(200,000) ≈ 0.0067.
        let mut dice = Dice::new(7);
        let draws: Vec<f64> = (0..200_000).map(|_| dice.positive(10.0, 3.0)).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let variance = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!((mean - 10.0).abs() < 0.05, "mean {mean}");
        assert!(
            (variance.sqrt() - 3.0).abs() < 0.05,
            "sd {}",
            variance.sqrt()
        );
        assert!(draws.iter().all(|d| *d > 0.0));
    }

    #[test]
    fn cumulative_picks_follow_the_weights() {
        // Weights 1:3 — expect 25 % ± 4 standard errors (sqrt(0.25 × 0.75 / 40,000) ≈ 0.22 %).
        let mut dice = Dice::new(3);
        let weights = cumulative([1.0, 3.0]);
        let first = (0..40_000)
            .filter(|_| dice.pick_cumulative(&weights) == 0)
            .count();
        let share = first as f64 / 40_000.0;
        assert!((share - 0.25).abs() < 0.009, "share {share}");
    }
}
