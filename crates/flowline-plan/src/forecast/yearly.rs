//! A smooth yearly profile for daily series, to be divided out before the weekly models and
//! multiplied back into their forecasts (in the manner of MSTL, with one fixed profile instead
//! of an iterated decomposition).
//!
//! The profile is a multiplicative factor `p(t)` of each day `t` (counted from the series' first
//! known day), a Fourier series of [`HARMONICS`] harmonics of the year around 1:
//!
//! ```text
//! p(t) = 1 + Σ_k shrink_k · (a_k·cos(k·ω·t) + b_k·sin(k·ω·t)),   ω = 2π / 365.25
//! ```
//!
//! It is estimated in four steps:
//!
//! 1. The level: the centred 365-day moving average of the known days (a full year averages out
//!    both the weekly and the yearly cycle, leaving level and trend); defined where the window
//!    fits in the history and holds at least half known days, so the first and last half-years
//!    have none (no end effects to correct).
//! 2. Weekly ratios: over consecutive 7-day blocks, the known days' demand over the same days'
//!    level. A block holds each weekday once, so the weekly cycle cancels; zero days count as
//!    they are (ratios of sums, not sums of ratios); unknown (censored) days are left out of
//!    both sums, and a block needs four known days.
//! 3. A weighted least-squares fit (weights: known days of the block) of the ratios on a
//!    constant and the harmonics at the blocks' centres; the harmonics are divided by the
//!    constant (the profile averages 1 over a year) and corrected for the 7-day averaging.
//! 4. Shrinkage toward 1: each harmonic by `max(0, 1 − 3·v_k / (a_k² + b_k²))`, where `v_k` is
//!    the sampling variance of its two coefficients (a harmonic barely above its noise counts
//!    for little, one within it for nothing), and the whole profile by `min(1, Y / 2)`, where
//!    `Y` is the years the ratios span: with two to three years of history the ratios cover one
//!    to two years, and a single year cannot tell a yearly cycle from a one-off event.
//!
//! The profile is multiplicative because the ratio to the level is what repeats in demand (a
//! December peak grows with the item), and because demand cannot be negative: dividing out and
//! multiplying back keeps forecasts and interval bounds non-negative. It needs a level above
//! zero throughout; a series with a year-long stretch without demand gets no profile (a
//! yearly shape relative to nothing cannot be estimated, and an additive one would forecast
//! demand out of a dead item). The factors are kept within [`FLOOR`] and [`CEILING`].
//!
//! Leap years: the positions are relative days with no calendar, so there is no day-of-year to
//! look up. The profile is a function of continuous time with period 365.25 days, so its phase
//! stays within a day of the calendar's over any span (a 365-day table would drift a day every
//! four years).

use std::f64::consts::PI;

/// The season length (days of the week) with which a yearly profile applies.
pub(crate) const DAILY_SEASON: usize = 7;
/// Known days the history needs for a profile: two years and ten weeks. The level needs half a
/// year at each end, so two years leave one year of ratios; the margin covers a few censored
/// weeks.
pub(crate) const MIN_KNOWN: usize = 800;
/// The year, in days.
const YEAR: f64 = 365.25;
/// Days of the moving average (odd, so it is centred on a day).
const WINDOW: usize = 365;
/// Harmonics of the profile: the shortest, of two months, resolves a Christmas peak's shape but
/// not single days.
pub(crate) const HARMONICS: usize = 6;
/// Days of a block of ratios.
const BLOCK: usize = 7;
/// Known days a block needs.
const BLOCK_KNOWN: usize = 4;
/// A harmonic is kept in full only when its squared amplitude is well above this many times its
/// sampling variance.
const NOISE_MULTIPLE: f64 = 3.0;
/// Years of ratios for the profile to be kept in full.
const FULL_YEARS: f64 = 2.0;
/// Bounds of the factors: a trough deeper than a quarter of the level would blow the adjusted
/// series up, a peak above four times it is not a smooth cycle.
const FLOOR: f64 = 0.25;
const CEILING: f64 = 4.0;

/// A yearly profile: the coefficients of its harmonics, shrunk and relative to the level.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Profile {
    cos: [f64; HARMONICS],
    sin: [f64; HARMONICS],
}

impl Profile {
    /// The profile of `values` (scaled, NaN where unknown, the first known), or `None` when the
    /// series does not qualify: fewer than [`MIN_KNOWN`] known days, ratios over less than a
    /// year, a level of zero somewhere, or nothing left after shrinkage.
    pub(crate) fn estimate(values: &[f64]) -> Option<Profile> {
        let n = values.len();
        let known = values.iter().filter(|v| !v.is_nan()).count();
        if known < MIN_KNOWN || n < WINDOW + BLOCK {
            return None;
        }
        // 1. The centred moving average, by prefix sums of the known values and their count.
        let mut sums = Vec::with_capacity(n + 1);
        let mut counts = Vec::with_capacity(n + 1);
        let (mut sum, mut count) = (0.0, 0_usize);
        sums.push(sum);
        counts.push(count);
        for &y in values {
            if !y.is_nan() {
                sum += y;
                count += 1;
            }
            sums.push(sum);
            counts.push(count);
        }
        let half = WINDOW / 2;
        let level = |t: usize| {
            let (from, to) = (t - half, t + half + 1);
            let count = counts[to] - counts[from];
            (2 * count >= WINDOW).then(|| (sums[to] - sums[from]) / count as f64)
        };
        // 2. and 3. The blocks' ratios, accumulated into the normal equations.
        const P: usize = 1 + 2 * HARMONICS;
        let mut xtx = [[0.0; P]; P];
        let mut xty = [0.0; P];
        let mut yty = 0.0;
        let mut blocks = 0_usize;
        let mut first_block = None;
        let mut last_block = 0;
        let mut row = [0.0; P];
        let mut start = half;
        while start + BLOCK + half <= n {
            let (mut demand, mut base, mut days) = (0.0, 0.0, 0_usize);
            for (t, &y) in values.iter().enumerate().skip(start).take(BLOCK) {
                if y.is_nan() {
                    continue;
                }
                if let Some(level) = level(t) {
                    demand += y;
                    base += level;
                    days += 1;
                }
            }
            if days >= BLOCK_KNOWN {
                if base <= 0.0 {
                    return None;
                }
                let ratio = demand / base;
                let w = days as f64;
                harmonics(start as f64 + (BLOCK - 1) as f64 / 2.0, &mut row);
                for i in 0..P {
                    xty[i] += w * row[i] * ratio;
                    for j in 0..P {
                        xtx[i][j] += w * row[i] * row[j];
                    }
                }
                yty += w * ratio * ratio;
                blocks += 1;
                first_block.get_or_insert(start);
                last_block = start;
            }
            start += BLOCK;
        }
        let years = (last_block + BLOCK - first_block?) as f64 / YEAR;
        if years < 1.0 || blocks <= P {
            return None;
        }
        let inverse = invert(xtx)?;
        let mut beta = [0.0; P];
        for (i, b) in beta.iter_mut().enumerate() {
            *b = (0..P).map(|j| inverse[i][j] * xty[j]).sum();
        }
        let constant = beta[0];
        if constant <= 0.0 {
            return None;
        }
        // Residual variance of a block of unit weight (one known day): yᵀWy − βᵀXᵀWy over the
        // blocks less the parameters; the coefficients' covariance is that times (XᵀWX)⁻¹.
        let fitted: f64 = (0..P).map(|i| beta[i] * xty[i]).sum();
        let sigma2 = ((yty - fitted) / (blocks - P) as f64).max(0.0);
        let overall = (years / FULL_YEARS).min(1.0);
        let mut profile = Profile {
            cos: [0.0; HARMONICS],
            sin: [0.0; HARMONICS],
        };
        let mut any = false;
        for k in 0..HARMONICS {
            let (a, b) = (beta[1 + 2 * k], beta[2 + 2 * k]);
            let variance = sigma2 * (inverse[1 + 2 * k][1 + 2 * k] + inverse[2 + 2 * k][2 + 2 * k]);
            let amplitude2 = a * a + b * b;
            // Below a thousandth of the level a harmonic is rounding, not a cycle.
            if amplitude2 <= (1e-3 * constant).powi(2) {
                continue;
            }
            let shrink = (1.0 - NOISE_MULTIPLE * variance / amplitude2).max(0.0) * overall;
            // The blocks average 7 days of each harmonic, which damps it by this factor.
            let frequency = 2.0 * PI * (k + 1) as f64 / YEAR;
            let damping =
                (frequency * BLOCK as f64 / 2.0).sin() / (BLOCK as f64 * (frequency / 2.0).sin());
            let factor = shrink / (constant * damping);
            profile.cos[k] = a * factor;
            profile.sin[k] = b * factor;
            any |= shrink > 0.0;
        }
        any.then_some(profile)
    }

    /// The factor of day `t`.
    pub(crate) fn factor(&self, t: usize) -> f64 {
        let mut row = [0.0; 1 + 2 * HARMONICS];
        harmonics(t as f64, &mut row);
        let mut factor = 1.0;
        for k in 0..HARMONICS {
            factor += self.cos[k] * row[1 + 2 * k] + self.sin[k] * row[2 + 2 * k];
        }
        factor.clamp(FLOOR, CEILING)
    }

    /// `values` divided by their factors (unknown values stay unknown).
    pub(crate) fn adjust(&self, values: &[f64]) -> Vec<f64> {
        values
            .iter()
            .enumerate()
            .map(|(t, &y)| if y.is_nan() { y } else { y / self.factor(t) })
            .collect()
    }

    /// Multiplies `out`, the forecasts of the days from `first` on, by their factors.
    pub(crate) fn apply(&self, first: usize, out: &mut [f64]) {
        for (ahead, value) in out.iter_mut().enumerate() {
            *value *= self.factor(first + ahead);
        }
    }
}

/// `1, cos(ωt), sin(ωt), cos(2ωt), sin(2ωt), ...` into `row` (angle addition from one
/// `sin_cos`; the error stays near machine precision over a few harmonics).
fn harmonics(t: f64, row: &mut [f64; 1 + 2 * HARMONICS]) {
    let (s1, c1) = (2.0 * PI * (t / YEAR).fract()).sin_cos();
    row[0] = 1.0;
    let (mut c, mut s) = (1.0, 0.0);
    for k in 0..HARMONICS {
        (c, s) = (c * c1 - s * s1, s * c1 + c * s1);
        row[1 + 2 * k] = c;
        row[2 + 2 * k] = s;
    }
}

/// The inverse of a symmetric positive definite matrix by Gauss-Jordan elimination with partial
/// pivoting; `None` when it is (numerically) singular.
fn invert<const P: usize>(mut a: [[f64; P]; P]) -> Option<[[f64; P]; P]> {
    let mut inverse = [[0.0; P]; P];
    for (i, row) in inverse.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    let largest = (0..P).map(|i| a[i][i].abs()).fold(0.0, f64::max);
    for col in 0..P {
        let pivot = (col..P).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * largest {
            return None;
        }
        a.swap(col, pivot);
        inverse.swap(col, pivot);
        let d = a[col][col];
        for j in 0..P {
            a[col][j] /= d;
            inverse[col][j] /= d;
        }
        for i in 0..P {
            if i != col && a[i][col] != 0.0 {
                let f = a[i][col];
                for j in 0..P {
                    a[i][j] -= f * a[col][j];
                    inverse[i][j] -= f * inverse[col][j];
                }
            }
        }
    }
    Some(inverse)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `level · (1 + 0.3·sin(ωt))` on every day but Sundays at half (a weekly cycle).
    fn sinusoid(days: usize, level: f64) -> Vec<f64> {
        (0..days)
            .map(|t| {
                let week = if t % 7 == 6 { 0.5 } else { 1.0 };
                level * week * (1.0 + 0.3 * (2.0 * PI * t as f64 / YEAR).sin())
            })
            .collect()
    }

    #[test]
    fn a_noise_free_yearly_sinusoid_is_recovered_with_three_years() {
        // 1,100 days: ratios over 1,100 − 364 = 736 days, two years, so no overall shrinkage;
        // without noise the other harmonics are near 0 and the first is 0.3·sin exactly (the
        // 365-day mean of the sinusoid is the level to within 0.3·|sin(π/365.25)| ≈ 0.3 %).
        let profile = Profile::estimate(&sinusoid(1_100, 10.0)).unwrap();
        for t in (0..1_500).step_by(13) {
            let want = 1.0 + 0.3 * (2.0 * PI * t as f64 / YEAR).sin();
            assert!((profile.factor(t) - want).abs() < 0.01, "day {t}");
        }
    }

    #[test]
    fn short_histories_and_flat_series_get_no_profile() {
        assert_eq!(Profile::estimate(&sinusoid(MIN_KNOWN - 1, 10.0)), None);
        let flat: Vec<f64> = (0..1_100)
            .map(|t| if t % 7 == 6 { 5.0 } else { 10.0 })
            .collect();
        assert_eq!(Profile::estimate(&flat), None);
    }

    #[test]
    fn the_harmonics_match_direct_evaluation() {
        let mut row = [0.0; 1 + 2 * HARMONICS];
        harmonics(1_234.0, &mut row);
        for k in 1..=HARMONICS {
            let angle = 2.0 * PI * k as f64 * 1_234.0 / YEAR;
            assert!((row[2 * k - 1] - angle.cos()).abs() < 1e-12);
            assert!((row[2 * k] - angle.sin()).abs() < 1e-12);
        }
    }
}
