//! The normal and Poisson distributions the inventory policies rest on.
//!
//! # Standard normal
//!
//! For `Z ~ N(0, 1)`:
//! - [`normal_pdf`] `φ(z)`, [`normal_cdf`] `Φ(z) = P(Z ≤ z)` and [`normal_sf`] `1 − Φ(z)`, the
//!   last two through `erfc` so that both tails keep their relative accuracy;
//! - [`normal_quantile`] `Φ⁻¹(p)` to full double precision (Wichura's algorithm AS 241, PPND16);
//! - the first-order loss function [`normal_loss`] `L(z) = E[(Z − z)⁺] = φ(z) − z(1 − Φ(z))`,
//!   the expected amount by which demand exceeds `z`, and its complement
//!   [`normal_complementary_loss`] `L̄(z) = E[(z − Z)⁺] = z + L(z)`, the expected amount left
//!   over;
//! - the second-order loss function [`normal_second_order_loss`]
//!   `L²(z) = ½ E[((Z − z)⁺)²] = ∫_z^∞ L(t) dt = ½[(z² + 1)(1 − Φ(z)) − z φ(z)]` and its complement
//!   [`normal_complementary_second_order_loss`];
//! - [`normal_loss_inverse`], the `z` at which `L(z)` equals a target (fill-rate safety stock and
//!   the (r, Q) loss-function approximation need it).
//!
//! From `z = 3` up the loss functions are computed through Laplace's continued fraction for
//! Mills' ratio `(1 − Φ(z))/φ(z)` instead of as the difference `φ(z) − z(1 − Φ(z))` of two nearly
//! equal numbers, so they keep their relative accuracy as far into the tail as a double reaches.
//!
//! [`Normal`] scales these to a normal distribution with any mean and standard deviation
//! (including a standard deviation of zero, a demand known exactly): for `X = μ + σZ` the loss
//! `E[(X − x)⁺] = σ L((x − μ)/σ)` and the second-order loss `½ E[((X − x)⁺)²] = σ² L²((x − μ)/σ)`.
//!
//! # Poisson
//!
//! [`Poisson`] tabulates a Poisson distribution with mean `λ` over the range of values that carry
//! any probability a double can hold (from `λ − 40√λ` to `λ + 40√λ + 200`) and answers the pmf, the
//! cdf, both tails, the loss function `n(k) = E[(D − k)⁺]`, its complement
//! `n̄(k) = E[(k − D)⁺]` and the discrete second-order loss function
//! `n²(k) = ½ E[(D − k)⁺ (D − k − 1)⁺] = Σ_{j > k} n(j)`. Each probability is computed on its own
//! (through the saddle-point form of the pmf, which stays accurate where `λ^k e^{−λ} / k!`
//! over- or underflows) and the tails and losses are sums of positive terms taken from the small
//! end, so values far in either tail keep their relative accuracy. The mean is capped at
//! [`MAX_POISSON_MEAN`]: the table holds about `80√λ` values.
//!
//! Every function is pure; invalid arguments are refused with a [`DistributionError`] naming
//! the argument, never a panic.

use std::f64::consts::{PI, SQRT_2};
use std::fmt;

use serde::{Deserialize, Serialize};

/// Largest Poisson mean accepted: the table of a Poisson distribution holds about `80√λ` values,
/// some 250,000 at this mean.
pub const MAX_POISSON_MEAN: f64 = 1e7;

/// `1/√(2π)`.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// `ln √(2π)`.
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Smallest target accepted by [`normal_loss_inverse`]: below it `L(z)` would have to be
/// resolved among subnormal numbers.
pub const MIN_LOSS_TARGET: f64 = 1e-300;

/// An argument a distribution function cannot take: which, its value and what was expected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DistributionError {
    /// The argument's name.
    pub field: &'static str,
    /// The value given.
    pub value: f64,
    /// What the argument must be.
    pub expected: &'static str,
}

impl fmt::Display for DistributionError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} = {} is out of range: expected {}",
            self.field, self.value, self.expected
        )
    }
}

impl std::error::Error for DistributionError {}

/// The standard normal density `φ(z) = e^{−z²/2} / √(2π)`.
///
/// `z²` is split into its rounded value and the rounding error (by a fused multiply-add) so that
/// far in the tails, where `e^{−z²/2}` magnifies any error in `z²` by `z²/2`, the density keeps
/// its relative accuracy.
#[must_use]
pub fn normal_pdf(z: f64) -> f64 {
    let square = z * z;
    let error = z.mul_add(z, -square);
    FRAC_1_SQRT_2PI * (-0.5 * square).exp() * (-0.5 * error).exp()
}

/// The standard normal distribution function `Φ(z) = P(Z ≤ z) = ½ erfc(−z/√2)`, accurate
/// relative to its value far into the lower tail.
#[must_use]
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / SQRT_2)
}

/// The standard normal survival function `1 − Φ(z) = P(Z > z) = ½ erfc(z/√2)`, accurate
/// relative to its value far into the upper tail (where `1 − normal_cdf(z)` would round to 0).
#[must_use]
pub fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / SQRT_2)
}

/// Coefficients of Wichura's PPND16 (Applied Statistics algorithm AS 241, 1988), as published:
/// numerator and denominator of the rational approximations in the central region
/// (`|p − ½| ≤ 0.425`), the intermediate tail (`r = √(−ln min(p, 1 − p)) ≤ 5`) and the far tail.
/// Each array lists the coefficients from the constant term up.
#[allow(
    clippy::excessive_precision,
    reason = "the coefficients are kept exactly as published; the compiler rounds them"
)]
mod as241 {
    pub(super) const A: [f64; 8] = [
        3.387_132_872_796_366_608_0,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    pub(super) const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083_0e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061_0e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561_0e3,
    ];
    pub(super) const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_90,
        5.769_497_221_460_691_405_50,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_70e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_40e-4,
    ];
    pub(super) const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_40,
        6.897_673_349_851_000_045_50e-1,
        1.481_039_764_274_800_745_90e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946_00e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    pub(super) const E: [f64; 8] = [
        6.657_904_643_501_103_777_20,
        5.463_784_911_164_114_369_90,
        1.784_826_539_917_291_335_80,
        2.965_605_718_285_048_912_30e-1,
        2.653_218_952_657_612_309_30e-2,
        1.242_660_947_388_078_438_60e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    pub(super) const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_90e-1,
        1.369_298_809_227_358_053_10e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591_00e-4,
        1.846_318_317_510_054_681_80e-5,
        1.421_511_758_316_445_888_70e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
}

/// `c[0] + c[1] x + … + c[7] x⁷` by Horner's rule.
fn polynomial(coefficients: &[f64; 8], x: f64) -> f64 {
    coefficients
        .iter()
        .rev()
        .fold(0.0, |value, coefficient| value * x + coefficient)
}

/// The standard normal quantile `Φ⁻¹(p)`: the `z` with `P(Z ≤ z) = p`, for `0 < p < 1`.
///
/// Wichura's PPND16 (algorithm AS 241): a rational approximation in `q = p − ½` near the centre
/// and in `r = √(−ln min(p, 1 − p))` in the tails, accurate to about one part in 10¹⁶ over the
/// whole range of doubles.
///
/// # Errors
///
/// [`DistributionError`] naming `probability` when `p` is not strictly between 0 and 1 (the
/// quantiles of 0 and 1 are infinite) or is NaN.
pub fn normal_quantile(p: f64) -> Result<f64, DistributionError> {
    if !(p > 0.0 && p < 1.0) {
        return Err(DistributionError {
            field: "probability",
            value: p,
            expected: "between 0 and 1, exclusive",
        });
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return Ok(q * polynomial(&as241::A, r) / polynomial(&as241::B, r));
    }
    // The smaller tail probability; `1 − p` is exact here because p > 0.925.
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt();
    let magnitude = if r <= 5.0 {
        let r = r - 1.6;
        polynomial(&as241::C, r) / polynomial(&as241::D, r)
    } else {
        let r = r - 5.0;
        polynomial(&as241::E, r) / polynomial(&as241::F, r)
    };
    Ok(if q < 0.0 { -magnitude } else { magnitude })
}

/// From this `z` up the loss functions are computed through Mills' ratio rather than as a
/// difference of nearly equal terms.
const CONTINUED_FRACTION_FROM: f64 = 3.0;

/// Terms of the continued fraction: enough for 10⁻¹⁶ from `z = 3` up.
const CONTINUED_FRACTION_TERMS: u32 = 80;

/// The tails `a` and `b` of Laplace's continued fraction for Mills' ratio
/// `(1 − Φ(z))/φ(z) = 1/(z + a)`, `a = 1/(z + b)`, `b = 2/(z + 3/(z + 4/(z + …)))`, for `z ≥ 3`.
///
/// In these terms `L(z) = φ(z)(1 − z/(z + a)) = φ(z) a/(z + a)` and
/// `L²(z) = ½ φ(z)[(z² + 1)/(z + a) − z] = ½ φ(z) b/((z + a)(z + b))`: products of positive
/// numbers, free of the cancellation that costs `φ(z) − z(1 − Φ(z))` a factor `z²` of accuracy.
fn mills_ratio_tails(z: f64) -> (f64, f64) {
    let mut tail = 0.0;
    for k in (2..=CONTINUED_FRACTION_TERMS).rev() {
        tail = f64::from(k) / (z + tail);
    }
    (1.0 / (z + tail), tail)
}

/// Clamps a value that is non-negative in exact arithmetic but may round just below zero,
/// keeping NaN as NaN.
fn non_negative(value: f64) -> f64 {
    if value < 0.0 { 0.0 } else { value }
}

/// The standard normal first-order loss function `L(z) = E[(Z − z)⁺] = φ(z) − z(1 − Φ(z))`: the
/// expected shortfall, in standard deviations, when `z` standard deviations above the mean are
/// on hand.
///
/// Decreasing and convex, `L(z) → 0` as `z → ∞` and `L(z) ≈ −z` as `z → −∞`;
/// `L(z) − L(−z) = −z`. From `z = 3` up it is computed through Mills' ratio and keeps its
/// relative accuracy to the end of the range of doubles.
#[must_use]
pub fn normal_loss(z: f64) -> f64 {
    if z >= CONTINUED_FRACTION_FROM {
        let (a, _) = mills_ratio_tails(z);
        normal_pdf(z) * a / (z + a)
    } else {
        non_negative(normal_pdf(z) - z * normal_sf(z))
    }
}

/// The complementary loss function `L̄(z) = E[(z − Z)⁺] = φ(z) + zΦ(z) = z + L(z)`: the expected
/// amount left over, in standard deviations. By symmetry `L̄(z) = L(−z)`.
#[must_use]
pub fn normal_complementary_loss(z: f64) -> f64 {
    normal_loss(-z)
}

/// The standard normal second-order loss function
/// `L²(z) = ½ E[((Z − z)⁺)²] = ∫_z^∞ L(t) dt = ½[(z² + 1)(1 − Φ(z)) − z φ(z)]`.
///
/// The (r, Q) policy needs it: the shortfall integrated over the `Q` inventory positions the
/// policy cycles through is `σ²[L²(z_r) − L²(z_{r+Q})]`.
#[must_use]
pub fn normal_second_order_loss(z: f64) -> f64 {
    if z >= CONTINUED_FRACTION_FROM {
        let (a, b) = mills_ratio_tails(z);
        0.5 * normal_pdf(z) * b / ((z + a) * (z + b))
    } else {
        non_negative(0.5 * ((z * z + 1.0) * normal_sf(z) - z * normal_pdf(z)))
    }
}

/// The complementary second-order loss function
/// `L̄²(z) = ½ E[((z − Z)⁺)²] = ∫_{−∞}^z L̄(t) dt = ½[(z² + 1)Φ(z) + z φ(z)] = L²(−z)`.
#[must_use]
pub fn normal_complementary_second_order_loss(z: f64) -> f64 {
    normal_second_order_loss(-z)
}

/// The `z` at which the standard normal loss function takes the value `target`: `L(z) = target`.
///
/// `L` falls from `+∞` to 0, so every positive target has exactly one `z`, found by Newton's
/// method from a start on the right of the root (`L(z₀) ≤ target`):
///
/// - for targets of at least `L(0) = φ(0)` the root is at or below 0, where `L` is convex with
///   slope `−(1 − Φ(z))` between −1 and −½; Newton on `L` itself from `z₀ = 0.4 − target` (where
///   `L(z₀) = target − 0.4 + L(target − 0.4) < target`) overshoots once at most and then climbs
///   to the root;
/// - for smaller targets the root is above 0, where `L` flattens out exponentially but `ln L` is
///   concave (the normal density is log-concave, and so are its integrals), so Newton on `ln L`
///   from the right descends monotonically to the root; it starts at the `z₀ > 0` with
///   `φ(z₀) = target`, where `L(z₀) < φ(z₀)/(1 + z₀²) < target`.
///
/// Either way fewer than 10 steps are needed in practice; the search stops after 100.
///
/// # Errors
///
/// [`DistributionError`] naming `loss target` when the target is not finite or is below
/// [`MIN_LOSS_TARGET`] (zero included: `L` only reaches 0 at infinity).
pub fn normal_loss_inverse(target: f64) -> Result<f64, DistributionError> {
    if !(target.is_finite() && target >= MIN_LOSS_TARGET) {
        return Err(DistributionError {
            field: "loss target",
            value: target,
            expected: "a finite number of at least 1e-300",
        });
    }
    let below_zero = target >= FRAC_1_SQRT_2PI;
    let ln_target = target.ln();
    let mut z = if below_zero {
        0.4 - target
    } else {
        // φ(z₀) = target ⇔ z₀ = √(−2 ln(target √(2π))).
        (-2.0 * (ln_target + LN_SQRT_2PI)).sqrt()
    };
    for _ in 0..100 {
        let loss = normal_loss(z);
        let slope = normal_sf(z);
        let step = if below_zero {
            // z − (L(z) − target)/L'(z), L'(z) = −(1 − Φ(z)).
            (loss - target) / slope
        } else {
            // z − (ln L(z) − ln target)/(ln L)'(z), (ln L)'(z) = −(1 − Φ(z))/L(z).
            (loss.ln() - ln_target) * loss / slope
        };
        let next = z + step;
        if !next.is_finite() {
            break;
        }
        if (next - z).abs() <= 4.0 * f64::EPSILON * next.abs().max(1.0) {
            return Ok(next);
        }
        z = next;
    }
    Ok(z)
}

/// A normal distribution `N(μ, σ)` with `σ ≥ 0`; `σ = 0` is a quantity known exactly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Normal {
    mean: f64,
    sd: f64,
}

impl Normal {
    /// `N(mean, sd)`.
    ///
    /// # Errors
    ///
    /// [`DistributionError`] naming `mean` when it is not finite, or `sd` when it is negative or
    /// not finite.
    pub fn new(mean: f64, sd: f64) -> Result<Self, DistributionError> {
        if !mean.is_finite() {
            return Err(DistributionError {
                field: "mean",
                value: mean,
                expected: "a finite number",
            });
        }
        if !(sd.is_finite() && sd >= 0.0) {
            return Err(DistributionError {
                field: "sd",
                value: sd,
                expected: "a finite number of at least 0",
            });
        }
        Ok(Self { mean, sd })
    }

    /// The mean `μ`.
    #[must_use]
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The standard deviation `σ`.
    #[must_use]
    pub fn sd(&self) -> f64 {
        self.sd
    }

    /// `P(X ≤ x)`.
    #[must_use]
    pub fn cdf(&self, x: f64) -> f64 {
        if self.sd > 0.0 {
            normal_cdf((x - self.mean) / self.sd)
        } else if x >= self.mean {
            1.0
        } else {
            0.0
        }
    }

    /// `P(X > x)`.
    #[must_use]
    pub fn sf(&self, x: f64) -> f64 {
        if self.sd > 0.0 {
            normal_sf((x - self.mean) / self.sd)
        } else if x >= self.mean {
            0.0
        } else {
            1.0
        }
    }

    /// The quantile `μ + σ Φ⁻¹(p)`.
    ///
    /// # Errors
    ///
    /// [`DistributionError`] naming `probability` unless `0 < p < 1`.
    pub fn quantile(&self, p: f64) -> Result<f64, DistributionError> {
        Ok(self.mean + self.sd * normal_quantile(p)?)
    }

    /// The loss function `n(x) = E[(X − x)⁺] = σ L((x − μ)/σ)`: the expected amount by which
    /// `X` exceeds `x`.
    #[must_use]
    pub fn loss(&self, x: f64) -> f64 {
        if self.sd > 0.0 {
            self.sd * normal_loss((x - self.mean) / self.sd)
        } else {
            non_negative(self.mean - x)
        }
    }

    /// The complementary loss function `n̄(x) = E[(x − X)⁺] = σ L̄((x − μ)/σ)`: the expected
    /// amount by which `x` exceeds `X`.
    #[must_use]
    pub fn complementary_loss(&self, x: f64) -> f64 {
        if self.sd > 0.0 {
            self.sd * normal_complementary_loss((x - self.mean) / self.sd)
        } else {
            non_negative(x - self.mean)
        }
    }

    /// The second-order loss function `n²(x) = ½ E[((X − x)⁺)²] = ∫_x^∞ n(y) dy
    /// = σ² L²((x − μ)/σ)`.
    #[must_use]
    pub fn second_order_loss(&self, x: f64) -> f64 {
        if self.sd > 0.0 {
            self.sd * self.sd * normal_second_order_loss((x - self.mean) / self.sd)
        } else {
            let excess = non_negative(self.mean - x);
            0.5 * excess * excess
        }
    }

    /// The `x` with `E[(X − x)⁺] = target`: `μ + σ L⁻¹(target/σ)`, or `μ − target` when `σ = 0`.
    ///
    /// # Errors
    ///
    /// [`DistributionError`] naming `loss target` when the target is not positive and finite (or,
    /// scaled by `1/σ`, falls outside the range [`normal_loss_inverse`] accepts).
    pub fn loss_inverse(&self, target: f64) -> Result<f64, DistributionError> {
        if !(target.is_finite() && target > 0.0) {
            return Err(DistributionError {
                field: "loss target",
                value: target,
                expected: "a finite number greater than 0",
            });
        }
        if self.sd > 0.0 {
            Ok(self.mean + self.sd * normal_loss_inverse(target / self.sd)?)
        } else {
            Ok(self.mean - target)
        }
    }
}

/// `ln Γ(n + 1) − [(n + ½) ln n − n + ln √(2π)]`, the error of Stirling's formula for `n!`.
///
/// Below 16 straight from `lgamma` (the difference of two numbers below 40, so its absolute error
/// stays near 10⁻¹⁵, which is what matters in an exponent); from 16 up, the Stirling series
/// `1/(12n) − 1/(360n³) + 1/(1260n⁵) − 1/(1680n⁷) + 1/(1188n⁹)`, whose next term is below 10⁻¹⁶.
fn stirling_error(n: f64) -> f64 {
    if n < 16.0 {
        libm::lgamma(n + 1.0) - ((n + 0.5) * n.ln() - n + LN_SQRT_2PI)
    } else {
        let inverse_square = 1.0 / (n * n);
        (1.0 / 12.0
            - inverse_square
                * (1.0 / 360.0
                    - inverse_square
                        * (1.0 / 1260.0
                            - inverse_square * (1.0 / 1680.0 - inverse_square / 1188.0))))
            / n
    }
}

/// `x ln(x/m) + m − x` for `x > 0, m > 0`, without the cancellation of its terms when `x ≈ m`.
///
/// With `v = (x − m)/(x + m)`, `ln(x/m) = ln((1 + v)/(1 − v)) = 2(v + v³/3 + v⁵/5 + …)` and
/// `x − m = v(x + m)`, so the whole is `v(x − m) + 2x(v³/3 + v⁵/5 + …)`; near `x = m` the series
/// converges fast (`|v| < 0.053` when `|x − m| < 0.1(x + m)`).
fn deviance_term(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let v_squared = v * v;
        let mut sum = v * (x - m);
        let mut power = 2.0 * x * v;
        for j in 1..1000 {
            power *= v_squared;
            let next = sum + power / f64::from(2 * j + 1);
            if next == sum {
                break;
            }
            sum = next;
        }
        sum
    } else {
        x * (x / m).ln() + m - x
    }
}

/// `P(D = k)` for `D ~ Poisson(mean)`, `mean ≥ 0`, `k ≥ 0`: `λ^k e^{−λ} / k!` in the saddle-point
/// form `exp(−stirling_error(k) − deviance_term(k, λ)) / √(2πk)`, which keeps full relative
/// accuracy for large `k` and `λ`.
fn poisson_pmf_unchecked(k: u64, mean: f64) -> f64 {
    if mean == 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    if k == 0 {
        return (-mean).exp();
    }
    let k = k as f64;
    (-stirling_error(k) - deviance_term(k, mean)).exp() / (2.0 * PI * k).sqrt()
}

/// How often [`Poisson::new`] computes a probability directly rather than from the one before.
const POISSON_ANCHOR_EVERY: i64 = 32;

/// A Poisson distribution with mean `λ`, tabulated where it carries probability.
///
/// Outside the table (`k` below `λ − 40√λ` or above `λ + 40√λ + 200`) the probabilities are below
/// 10⁻³⁰⁰ and are taken as 0: there `n(k) = λ − k` below the table and `n(k) = 0` above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Poisson {
    mean: f64,
    /// The first value tabulated.
    low: i64,
    /// `P(D = low + i)`.
    pmf: Vec<f64>,
    /// `P(D ≤ low + i)`, summed upwards (accurate in the lower tail).
    cdf: Vec<f64>,
    /// `P(D > low + i)`, summed downwards (accurate in the upper tail).
    sf: Vec<f64>,
    /// `n(low + i) = E[(D − low − i)⁺]`, summed downwards: `n(k − 1) = n(k) + P(D ≥ k)`.
    loss: Vec<f64>,
    /// `n̄(low + i) = E[(low + i − D)⁺]`, summed upwards: `n̄(k + 1) = n̄(k) + P(D ≤ k)`.
    complementary_loss: Vec<f64>,
    /// `n²(low + i) = Σ_{j > low + i} n(j)`, summed downwards.
    second_order_loss: Vec<f64>,
}

impl Poisson {
    /// The Poisson distribution with mean `mean` (`0 ≤ mean ≤ 10⁷`).
    ///
    /// # Errors
    ///
    /// [`DistributionError`] naming `mean` when it is negative, not finite or above
    /// [`MAX_POISSON_MEAN`].
    pub fn new(mean: f64) -> Result<Self, DistributionError> {
        if !(mean.is_finite() && (0.0..=MAX_POISSON_MEAN).contains(&mean)) {
            return Err(DistributionError {
                field: "mean",
                value: mean,
                expected: "a finite number between 0 and 1e7",
            });
        }
        let spread = 40.0 * mean.sqrt();
        let (low, high) = (
            (mean - spread).floor().max(0.0) as i64,
            (mean + spread + 200.0).ceil() as i64,
        );
        // Each probability from the one before, `p(k) = p(k − 1) λ / k`, computed directly
        // (Loader's saddle-point form) every 32 values so that rounding cannot build up past a
        // few units in the last place: a direct computation costs a logarithm and an
        // exponential, and the table holds a few hundred values.
        let mut pmf: Vec<f64> = Vec::with_capacity(usize::try_from(high - low + 1).unwrap_or(0));
        for k in low..=high {
            let probability = match pmf.last() {
                Some(previous) if (k - low) % POISSON_ANCHOR_EVERY != 0 => {
                    previous * mean / k as f64
                }
                _ => poisson_pmf_unchecked(k.unsigned_abs(), mean),
            };
            pmf.push(probability);
        }
        let count = pmf.len();

        let mut cdf = Vec::with_capacity(count);
        let mut running = 0.0_f64;
        for probability in &pmf {
            running += probability;
            cdf.push(running.min(1.0));
        }
        let mut sf = vec![0.0; count];
        let mut running = 0.0_f64;
        for i in (0..count).rev() {
            sf[i] = running.min(1.0);
            running += pmf[i];
        }
        let mut loss = vec![0.0; count];
        for i in (0..count.saturating_sub(1)).rev() {
            // n(k) = n(k + 1) + P(D ≥ k + 1) = n(k + 1) + P(D > k).
            loss[i] = loss[i + 1] + sf[i];
        }
        let mut complementary_loss = vec![0.0; count];
        for i in 1..count {
            // n̄(k) = n̄(k − 1) + P(D ≤ k − 1).
            complementary_loss[i] = complementary_loss[i - 1] + cdf[i - 1];
        }
        let mut second_order_loss = vec![0.0; count];
        for i in (0..count.saturating_sub(1)).rev() {
            second_order_loss[i] = second_order_loss[i + 1] + loss[i + 1];
        }
        Ok(Self {
            mean,
            low,
            pmf,
            cdf,
            sf,
            loss,
            complementary_loss,
            second_order_loss,
        })
    }

    /// The mean `λ`.
    #[must_use]
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The first and last values tabulated: `max(0, ⌊λ − 40√λ⌋)` and `⌈λ + 40√λ + 200⌉`. Every
    /// value outside has a probability below 10⁻³⁰⁰.
    #[must_use]
    pub fn support(&self) -> (i64, i64) {
        let count = i64::try_from(self.pmf.len()).unwrap_or(i64::MAX);
        (self.low, self.low.saturating_add(count - 1))
    }

    /// Where `k` falls: below the table, at an index in it, or above it.
    fn locate(&self, k: i64) -> Place {
        match k.checked_sub(self.low) {
            Some(offset) if offset >= 0 => match usize::try_from(offset) {
                Ok(index) if index < self.pmf.len() => Place::At(index),
                _ => Place::Above,
            },
            Some(_) => Place::Below,
            // Subtracting a non-negative `low` only overflows for k near i64::MIN.
            None => Place::Below,
        }
    }

    /// `P(D = k)` (0 for negative `k`).
    #[must_use]
    pub fn pmf(&self, k: i64) -> f64 {
        match self.locate(k) {
            Place::At(index) => self.pmf[index],
            Place::Below | Place::Above => 0.0,
        }
    }

    /// `P(D ≤ k)`.
    #[must_use]
    pub fn cdf(&self, k: i64) -> f64 {
        match self.locate(k) {
            Place::Below => 0.0,
            Place::At(index) => self.cdf[index],
            Place::Above => 1.0,
        }
    }

    /// `P(D > k)`, accurate relative to its value far into the upper tail.
    #[must_use]
    pub fn sf(&self, k: i64) -> f64 {
        match self.locate(k) {
            Place::Below => 1.0,
            Place::At(index) => self.sf[index],
            Place::Above => 0.0,
        }
    }

    /// The loss function `n(k) = E[(D − k)⁺]`: the expected demand beyond `k`.
    #[must_use]
    pub fn loss(&self, k: i64) -> f64 {
        match self.locate(k) {
            Place::Below => self.mean - k as f64,
            Place::At(index) => self.loss[index],
            Place::Above => 0.0,
        }
    }

    /// The complementary loss function `n̄(k) = E[(k − D)⁺]`: the expected amount of `k` left
    /// over; `n̄(k) = k − λ + n(k)`.
    #[must_use]
    pub fn complementary_loss(&self, k: i64) -> f64 {
        match self.locate(k) {
            Place::Below => 0.0,
            Place::At(index) => self.complementary_loss[index],
            Place::Above => k as f64 - self.mean,
        }
    }

    /// The discrete second-order loss function `n²(k) = ½ E[(D − k)⁺ (D − k − 1)⁺]
    /// = Σ_{j > k} n(j)`; below the table, where `D > k` for sure, `½[(λ − k)² + k]`.
    #[must_use]
    pub fn second_order_loss(&self, k: i64) -> f64 {
        match self.locate(k) {
            Place::Below => {
                let k = k as f64;
                0.5 * ((self.mean - k) * (self.mean - k) + k)
            }
            Place::At(index) => self.second_order_loss[index],
            Place::Above => 0.0,
        }
    }

    /// The smallest `k ≥ 0` with `P(D > k) ≤ tail`: the smallest `k` with `P(D ≤ k) ≥ 1 − tail`,
    /// decided on the upper tail so that tails too small to subtract from 1 still count.
    ///
    /// # Errors
    ///
    /// [`DistributionError`] naming `tail` unless `0 < tail < 1`.
    pub fn upper_quantile(&self, tail: f64) -> Result<i64, DistributionError> {
        if !(tail > 0.0 && tail < 1.0) {
            return Err(DistributionError {
                field: "tail",
                value: tail,
                expected: "between 0 and 1, exclusive",
            });
        }
        // `sf` decreases along the table, so the first index at or below the tail is the answer.
        let index = self.sf.partition_point(|&probability| probability > tail);
        let offset = i64::try_from(index).unwrap_or(i64::MAX);
        Ok(self.low.saturating_add(offset))
    }
}

/// Where a value falls relative to a [`Poisson`] table.
#[derive(Debug, Clone, Copy)]
enum Place {
    Below,
    At(usize),
    Above,
}

#[cfg(test)]
mod tests {
    /// The table's probabilities, built from their neighbours between direct computations,
    /// stay within 1e-11 (relative) of a direct computation of each, where they are above
    /// 1e-250 (below, both are far under anything a policy can see). The bound: 31 steps of
    /// one rounding each add at most 31 ε ≈ 3.4e-15; the rest is the direct computation's own
    /// error far in the tails, where `exp(x)` has `|x|` up to 575 assembled from terms of
    /// several thousand (mean 10⁴), each rounded to about 1e-12. A wrong step (a factor
    /// `λ/(k+1)` for `λ/k`) would be off by a factor, not in the twelfth digit.
    #[test]
    fn tabulated_poisson_probabilities_equal_direct_ones() {
        for mean in [0.01, 1.5, 6.0, 250.0, 1e4, 1e6] {
            let poisson = super::Poisson::new(mean).unwrap();
            let (low, high) = poisson.support();
            for k in low..=high {
                let direct = super::poisson_pmf_unchecked(k.unsigned_abs(), mean);
                if direct > 1e-250 {
                    let table = poisson.pmf(k);
                    assert!(
                        ((table - direct) / direct).abs() < 1e-11,
                        "mean {mean}, k {k}: {table} against {direct}"
                    );
                }
            }
        }
    }

    use super::*;
    use proptest::prelude::*;

    fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        let error = (actual - expected).abs();
        let scale = expected.abs().max(1.0);
        assert!(
            error <= tolerance * scale,
            "{actual} differs from {expected} by {error:e} (tolerance {tolerance:e})"
        );
    }

    /// `Σ_{k} f(k)` for the Poisson pmf by the recurrence `f(k) = f(k − 1) λ/k` from
    /// `f(0) = e^{−λ}`, the textbook way, to check the table against.
    fn brute_force_pmf(mean: f64, count: usize) -> Vec<f64> {
        let mut pmf = Vec::with_capacity(count);
        let mut value = (-mean).exp();
        for k in 0..count {
            if k > 0 {
                value *= mean / k as f64;
            }
            pmf.push(value);
        }
        pmf
    }

    #[test]
    fn the_normal_quantile_of_0_975_is_1_96() {
        // Φ⁻¹(0.975) = 1.959963984540054 (to the 16 digits a double holds).
        assert_close(
            normal_quantile(0.975).unwrap(),
            1.959_963_984_540_054,
            1e-15,
        );
    }

    #[test]
    fn the_normal_quantile_matches_known_values_in_all_three_regions() {
        // Central region (|p − ½| ≤ 0.425).
        assert_eq!(normal_quantile(0.5).unwrap(), 0.0);
        assert_close(
            normal_quantile(0.95).unwrap(),
            1.644_853_626_951_472_7,
            1e-15,
        );
        // Intermediate tail (r ≤ 5).
        assert_close(normal_quantile(0.99).unwrap(), 2.326_347_874_040_841, 1e-15);
        assert_close(
            normal_quantile(1e-10).unwrap(),
            -6.361_340_902_404_056,
            1e-14,
        );
        // Far tail (r > 5, p < e^{−25} ≈ 1.4e−11).
        assert_close(
            normal_quantile(1e-20).unwrap(),
            -9.262_340_089_798_408,
            1e-14,
        );
    }

    #[test]
    fn the_normal_quantile_is_antisymmetric_about_one_half() {
        for p in [1e-6, 0.01, 0.1, 0.3, 0.45, 0.49] {
            let lower = normal_quantile(p).unwrap();
            let upper = normal_quantile(1.0 - p).unwrap();
            // 1 − p is rounded (by up to 1.1e−16, relative 1.1e−10 of the tail at p = 1e−6), so
            // the two agree to the precision of 1 − p.
            assert_close(lower, -upper, 1e-9);
        }
        // Where p and 1 − p are both exact doubles the antisymmetry is exact too.
        for (p, complement) in [(0.25, 0.75), (0.125, 0.875), (0.03125, 0.96875)] {
            assert_eq!(
                normal_quantile(p).unwrap(),
                -normal_quantile(complement).unwrap()
            );
        }
    }

    #[test]
    fn probabilities_of_zero_one_or_nan_have_no_normal_quantile() {
        for p in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            let error = normal_quantile(p).unwrap_err();
            assert_eq!(error.field, "probability");
        }
        let message = normal_quantile(1.0).unwrap_err().to_string();
        assert_eq!(
            message,
            "probability = 1 is out of range: expected between 0 and 1, exclusive"
        );
    }

    #[test]
    fn the_normal_cdf_and_pdf_match_known_values() {
        // φ(0) = 1/√(2π).
        assert_close(normal_pdf(0.0), 0.398_942_280_401_432_7, 1e-16);
        // Φ(1.96) = 0.9750021048517795.
        assert_close(normal_cdf(1.96), 0.975_002_104_851_779_5, 1e-15);
        assert_eq!(normal_cdf(0.0), 0.5);
        // Deep in the lower tail the value keeps its relative accuracy: Φ(−10) = 7.6198530241605e−24.
        let tail = normal_cdf(-10.0);
        assert!((tail / 7.619_853_024_160_527e-24 - 1.0).abs() < 1e-13);
        assert_eq!(normal_sf(10.0), tail);
    }

    #[test]
    fn the_normal_loss_at_zero_is_the_density_at_zero() {
        // L(0) = φ(0) − 0 = 1/√(2π); L²(0) = ½(1 · ½ − 0) = ¼.
        assert_close(normal_loss(0.0), 0.398_942_280_401_432_7, 1e-16);
        assert_close(normal_second_order_loss(0.0), 0.25, 1e-16);
        // L(1) = φ(1) − (1 − Φ(1)) = 0.24197072451914337 − 0.15865525393145707.
        assert_close(normal_loss(1.0), 0.083_315_470_587_686_3, 1e-15);
    }

    #[test]
    fn the_loss_functions_keep_their_relative_accuracy_far_in_the_tail() {
        // Values to 17 digits from 80-digit arithmetic: L(z) = φ(z) − z(1 − Φ(z)) and
        // L²(z) = ½[(z² + 1)(1 − Φ(z)) − zφ(z)], with 1 − Φ(z) = ½ erfc(z/√2).
        let cases = [
            (3.0, 3.821_543_170_477_236e-4, 1.017_175_402_434_618_7e-4),
            (5.0, 5.346_165_533_832_815e-8, 9.671_647_593_776_582e-9),
            (10.0, 7.474_560_254_589_328e-25, 7.264_638_478_559_902e-26),
            (20.0, 1.370_012_494_729_579_9e-90, 6.799_564_573_536_905e-92),
            (35.0, 3.208_804_482_602_477e-270, 9.145_687_807_696_884e-272),
        ];
        for (z, loss, second) in cases {
            assert!((normal_loss(z) / loss - 1.0).abs() < 1e-14, "L({z})");
            assert!(
                (normal_second_order_loss(z) / second - 1.0).abs() < 1e-14,
                "L²({z})"
            );
        }
        // And on the other side: L(−2) = 2.0084907026168296, L²(−2) = 2.49711563664274.
        assert_close(normal_loss(-2.0), 2.008_490_702_616_829_6, 1e-15);
        assert_close(normal_second_order_loss(-2.0), 2.497_115_636_642_74, 1e-15);
    }

    #[test]
    fn the_second_order_loss_is_the_integral_of_the_loss() {
        // ∫_z^∞ L(t) dt by Simpson's rule over [z, z + 12] (L is below 1e−33 beyond).
        for z in [-2.0, -0.5, 0.0, 0.7, 2.5] {
            let steps = 4000;
            let width = 12.0 / f64::from(steps);
            let mut sum = normal_loss(z) + normal_loss(z + 12.0);
            for i in 1..steps {
                let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
                sum += weight * normal_loss(z + width * f64::from(i));
            }
            assert_close(normal_second_order_loss(z), sum * width / 3.0, 1e-12);
        }
    }

    #[test]
    fn the_complementary_losses_are_the_losses_shifted_by_the_level() {
        for z in [-3.0, -1.0, 0.0, 0.5, 2.0] {
            // L̄(z) = E[(z − Z)⁺] = E[(Z − z)⁺] + E[z − Z] = L(z) + z.
            assert_close(normal_complementary_loss(z), z + normal_loss(z), 1e-15);
            // ½E[((z − Z)⁺)²] + ½E[((Z − z)⁺)²] = ½E[(Z − z)²] = ½(1 + z²).
            assert_close(
                normal_complementary_second_order_loss(z) + normal_second_order_loss(z),
                0.5 * (1.0 + z * z),
                1e-15,
            );
        }
    }

    #[test]
    fn the_loss_inverse_recovers_the_level() {
        for z in [-50.0, -5.0, -1.0, 0.0, 0.3, 1.0, 3.0, 6.0, 10.0, 20.0] {
            let target = normal_loss(z);
            let found = normal_loss_inverse(target).unwrap();
            assert_close(normal_loss(found), target, 1e-12);
            assert_close(found, z, 1e-10);
        }
        // Enormous shortfalls: L(z) ≈ −z.
        assert_close(normal_loss_inverse(1e12).unwrap(), -1e12, 1e-15);
    }

    #[test]
    fn the_loss_inverse_refuses_targets_that_are_not_positive() {
        for target in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-310] {
            assert_eq!(
                normal_loss_inverse(target).unwrap_err().field,
                "loss target"
            );
        }
    }

    #[test]
    fn a_normal_with_zero_spread_is_a_known_quantity() {
        let exact = Normal::new(10.0, 0.0).unwrap();
        assert_eq!(exact.loss(7.0), 3.0);
        assert_eq!(exact.loss(12.0), 0.0);
        assert_eq!(exact.complementary_loss(12.0), 2.0);
        assert_eq!(exact.second_order_loss(7.0), 4.5);
        assert_eq!(exact.quantile(0.9).unwrap(), 10.0);
        assert_eq!(exact.loss_inverse(3.0).unwrap(), 7.0);
        assert_eq!(exact.cdf(10.0), 1.0);
        assert_eq!(exact.sf(9.0), 1.0);
    }

    #[test]
    fn a_normal_scales_the_standard_loss_functions() {
        let demand = Normal::new(50.0, 8.0).unwrap();
        // n(60) = 8 L(1.25); n²(60) = 64 L²(1.25).
        assert_close(demand.loss(60.0), 8.0 * normal_loss(1.25), 1e-15);
        assert_close(
            demand.second_order_loss(60.0),
            64.0 * normal_second_order_loss(1.25),
            1e-15,
        );
        assert_close(demand.loss_inverse(demand.loss(43.0)).unwrap(), 43.0, 1e-12);
    }

    #[test]
    fn a_normal_refuses_a_negative_or_undefined_spread() {
        assert_eq!(Normal::new(1.0, -1.0).unwrap_err().field, "sd");
        assert_eq!(Normal::new(1.0, f64::NAN).unwrap_err().field, "sd");
        assert_eq!(Normal::new(f64::INFINITY, 1.0).unwrap_err().field, "mean");
    }

    #[test]
    fn the_poisson_pmf_and_cdf_match_the_textbook_recurrence() {
        let poisson = Poisson::new(6.0).unwrap();
        let pmf = brute_force_pmf(6.0, 40);
        let mut cdf = 0.0;
        for (k, &expected) in pmf.iter().enumerate() {
            let k = i64::try_from(k).unwrap();
            cdf += expected;
            assert!((poisson.pmf(k) / expected - 1.0).abs() < 1e-13, "pmf({k})");
            assert_close(poisson.cdf(k), cdf, 1e-14);
        }
        // f(8) = e^{−6} 6⁸/8! = 0.1032577335308443; F(8) = 0.8472374939845613.
        assert_close(poisson.pmf(8), 0.103_257_733_530_844_3, 1e-15);
        assert_close(poisson.cdf(8), 0.847_237_493_984_561_3, 1e-15);
        assert_eq!(poisson.pmf(-1), 0.0);
        assert_eq!(poisson.cdf(-1), 0.0);
        assert_eq!(poisson.sf(-1), 1.0);
    }

    #[test]
    fn the_poisson_losses_match_direct_sums() {
        let mean = 6.0;
        let poisson = Poisson::new(mean).unwrap();
        let pmf = brute_force_pmf(mean, 120);
        for k in -3_i64..30 {
            let mut loss = 0.0;
            let mut complementary = 0.0;
            let mut second = 0.0;
            for (d, &probability) in pmf.iter().enumerate() {
                let d = d as f64;
                let k = k as f64;
                loss += (d - k).max(0.0) * probability;
                complementary += (k - d).max(0.0) * probability;
                second += 0.5 * (d - k).max(0.0) * (d - k - 1.0).max(0.0) * probability;
            }
            assert_close(poisson.loss(k), loss, 1e-13);
            assert_close(poisson.complementary_loss(k), complementary, 1e-13);
            assert_close(poisson.second_order_loss(k), second, 1e-12);
            // n(k) − n̄(k) = λ − k.
            assert_close(
                poisson.loss(k) - poisson.complementary_loss(k),
                mean - k as f64,
                1e-13,
            );
        }
    }

    #[test]
    fn the_poisson_closed_forms_hold_for_a_large_mean() {
        // With λ = 10⁶: f(λ) ≈ 1/√(2πλ) (1 − 1/(12λ)), n(k) = (λ − k)P(D > k) + λ f(k) and
        // n²(k) = ½[((k − λ)² + k)P(D > k) − λ(k − λ)f(k)].
        let mean = 1e6;
        let poisson = Poisson::new(mean).unwrap();
        let mode = 1_000_000;
        assert_close(
            poisson.pmf(mode),
            (1.0 - 1.0 / (12.0 * mean)) / (2.0 * PI * mean).sqrt(),
            1e-9,
        );
        for k in [999_000_i64, 1_000_000, 1_001_500] {
            let x = k as f64;
            let expected_loss = (mean - x) * poisson.sf(k) + mean * poisson.pmf(k);
            assert!((poisson.loss(k) - expected_loss).abs() < 1e-9 * mean);
            let expected_second = 0.5
                * (((x - mean).powi(2) + x) * poisson.sf(k) - mean * (x - mean) * poisson.pmf(k));
            assert!((poisson.second_order_loss(k) - expected_second).abs() < 1e-9 * mean);
        }
        // The whole distribution is in the table: F + (1 − F) = 1.
        assert_close(poisson.cdf(mode) + poisson.sf(mode), 1.0, 1e-12);
    }

    #[test]
    fn the_poisson_upper_quantile_is_the_smallest_level_with_a_small_enough_tail() {
        let poisson = Poisson::new(6.0).unwrap();
        // F(7) = 0.7439798 < 0.8 ≤ F(8) = 0.8472375, so P(D > k) ≤ 0.2 first at k = 8.
        assert_eq!(poisson.upper_quantile(0.2).unwrap(), 8);
        assert_eq!(poisson.upper_quantile(0.999_999).unwrap(), 0);
        assert_eq!(poisson.upper_quantile(0.0).unwrap_err().field, "tail");
    }

    #[test]
    fn the_poisson_table_leaves_out_only_negligible_probability() {
        for mean in [1e-3, 0.5, 1.0, 6.0, 100.0, 1700.0, 1e5, 1e7] {
            let poisson = Poisson::new(mean).unwrap();
            let (low, high) = poisson.support();
            // The last value tabulated already has a probability below 1e−300, and the pmf falls
            // faster than geometrically beyond it.
            assert!(poisson.pmf(high) < 1e-300, "f({high}) for mean {mean}");
            if low > 0 {
                assert!(poisson.pmf(low) < 1e-300, "f({low}) for mean {mean}");
            }
            assert!((poisson.cdf(high) - 1.0).abs() < 1e-12 * (1.0 + mean.sqrt()));
        }
    }

    #[test]
    fn a_poisson_with_mean_zero_is_always_zero() {
        let poisson = Poisson::new(0.0).unwrap();
        assert_eq!(poisson.pmf(0), 1.0);
        assert_eq!(poisson.cdf(0), 1.0);
        assert_eq!(poisson.loss(0), 0.0);
        assert_eq!(poisson.loss(-2), 2.0);
    }

    #[test]
    fn an_absurd_poisson_mean_is_refused() {
        for mean in [-1.0, f64::NAN, f64::INFINITY, 1e7 + 1.0, 1e300] {
            assert_eq!(Poisson::new(mean).unwrap_err().field, "mean");
        }
    }

    proptest! {
        #[test]
        fn the_normal_cdf_inverts_the_quantile(p in 1e-12_f64..(1.0 - 1e-12)) {
            let z = normal_quantile(p).unwrap();
            if p < 0.5 {
                let back = normal_cdf(z);
                prop_assert!((back - p).abs() <= 1e-13 * p, "p = {p}, Φ(Φ⁻¹(p)) = {back}");
            } else {
                // Compare upper tails: 1 − p is exact for p ≥ ½.
                let tail = 1.0 - p;
                let back = normal_sf(z);
                prop_assert!((back - tail).abs() <= 1e-13 * tail, "p = {p}, tail {back}");
            }
        }

        #[test]
        fn the_normal_loss_satisfies_the_reflection_identity(z in -30.0_f64..30.0) {
            // Z is symmetric, so L(−z) = E[(Z + z)⁺] = E[(z − Z)⁺], and
            // L(z) − L(−z) = E[(Z − z)⁺ − (z − Z)⁺] = E[Z − z] = −z.
            let difference = normal_loss(z) - normal_loss(-z);
            prop_assert!((difference + z).abs() <= 1e-14 * z.abs().max(1.0));
        }

        #[test]
        fn the_normal_loss_inverse_round_trips(z in -40.0_f64..35.0) {
            let target = normal_loss(z);
            prop_assume!(target >= MIN_LOSS_TARGET);
            let found = normal_loss_inverse(target).unwrap();
            prop_assert!((normal_loss(found) / target - 1.0).abs() < 1e-12);
            prop_assert!((found - z).abs() < 1e-12 * z.abs().max(1.0));
        }
    }
}
