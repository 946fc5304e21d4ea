//! The standard normal quantile, for prediction intervals.
//!
//! Acklam's rational approximation (relative error below 1.15e-9) refined by one Halley step on
//! `Φ(x) = erfc(-x/√2)/2`, which brings it to the precision of `erfc`.

/// Coefficients of the central region's numerator.
const A: [f64; 6] = [
    -3.969_683_028_665_376e1,
    2.209_460_984_245_205e2,
    -2.759_285_104_469_687e2,
    1.383_577_518_672_69e2,
    -3.066_479_806_614_716e1,
    2.506_628_277_459_239,
];
/// Coefficients of the central region's denominator.
const B: [f64; 5] = [
    -5.447_609_879_822_406e1,
    1.615_858_368_580_409e2,
    -1.556_989_798_598_866e2,
    6.680_131_188_771_972e1,
    -1.328_068_155_288_572e1,
];
/// Coefficients of the tails' numerator.
const C: [f64; 6] = [
    -7.784_894_002_430_293e-3,
    -3.223_964_580_411_365e-1,
    -2.400_758_277_161_838,
    -2.549_732_539_343_734,
    4.374_664_141_464_968,
    2.938_163_982_698_783,
];
/// Coefficients of the tails' denominator.
const D: [f64; 4] = [
    7.784_695_709_041_462e-3,
    3.224_671_290_700_398e-1,
    2.445_134_137_142_996,
    3.754_408_661_907_416,
];
/// Where the tails begin.
const P_LOW: f64 = 0.024_25;

/// The `p` quantile of the standard normal distribution, for `p` in (0, 1); ±infinity at the
/// ends and NaN outside.
pub(crate) fn quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let x = if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        tail(q)
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -tail(q)
    };
    // One Halley step: e = Φ(x) - p, u = e / φ(x).
    let e = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (0.5 * x * x).exp();
    let refined = x - u / (1.0 + 0.5 * x * u);
    if refined.is_finite() { refined } else { x }
}

/// The lower tail's approximation at `q = sqrt(-2 ln p)`.
fn tail(q: f64) -> f64 {
    (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
        / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Φ(x), to check the quantile against.
    fn cdf(x: f64) -> f64 {
        0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
    }

    #[test]
    fn the_quantile_matches_published_values() {
        // Tables: z(0.975) = 1.959963984540054, z(0.9) = 1.2815515655446004,
        // z(0.5) = 0, z(0.995) = 2.5758293035489004.
        assert!((quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((quantile(0.9) - 1.281_551_565_544_600_4).abs() < 1e-12);
        assert!(quantile(0.5).abs() < 1e-15);
        assert!((quantile(0.995) - 2.575_829_303_548_900_4).abs() < 1e-12);
        assert!((quantile(0.025) + 1.959_963_984_540_054).abs() < 1e-12);
    }

    #[test]
    fn the_quantile_inverts_the_distribution_function_from_tail_to_tail() {
        for p in [1e-12, 1e-6, 0.001, 0.02, 0.1, 0.3, 0.5, 0.7, 0.97, 0.999_9] {
            let x = quantile(p);
            assert!(((cdf(x) - p) / p).abs() < 1e-10, "p = {p}, x = {x}");
        }
    }

    #[test]
    fn the_quantile_is_infinite_at_the_ends_and_nan_outside() {
        assert_eq!(quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(quantile(1.0), f64::INFINITY);
        assert!(quantile(1.5).is_nan());
        assert!(quantile(f64::NAN).is_nan());
    }
}
