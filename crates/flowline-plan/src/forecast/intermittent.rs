//! Methods for intermittent demand: Croston (1972), the Syntetos-Boylan approximation (2005)
//! and Teunter, Syntetos and Babai (2011).
//!
//! - Croston smooths the sizes of nonzero demands (`z`) and the intervals between them (`p`),
//!   both with `α = 0.1`, updating only when demand occurs; the forecast per period is `z/p`.
//!   Both start from the first demand: `z` its size, `p` the periods up to and including it.
//! - SBA multiplies Croston's forecast by `1 − α/2`, removing most of its bias.
//! - TSB smooths the size (`α`) as Croston does, but the probability of demand (`β`) every
//!   period, so that it decays when demand stops; the forecast is probability times size. It
//!   starts from the first demand with size its size and probability one over the periods up to
//!   it; `α` and `β` are chosen on a small grid by in-sample squared error.
//!
//! Unknown periods are skipped: they count neither as demand nor as an interval.
//!
//! The methods give a flat forecast and have no agreed likelihood, so their intervals are
//! empirical. The spread of intermittent demand grows with its rate, so the interval comes from
//! the in-sample ratios of each actual to the one-step forecast before it: their quantiles
//! `r_lo`, `r_hi` give `[f·r_lo, f·r_hi]` one period ahead (the lower bound 0 as soon as more
//! than `(1 − level)/2` of periods had no demand). Further ahead the distance from `f` grows as
//! a local level smoothed with the method's constant `a` would: by `√(1 + a²·(h − 1))`.

use super::{Paths, normal};

/// Croston's classic smoothing constant.
pub(crate) const CROSTON_ALPHA: f64 = 0.1;
/// The grid TSB's size constant is chosen from.
const TSB_ALPHAS: [f64; 4] = [0.05, 0.1, 0.2, 0.3];
/// The grid TSB's probability constant is chosen from.
const TSB_BETAS: [f64; 5] = [0.02, 0.05, 0.1, 0.2, 0.3];

/// Which method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Croston,
    Sba,
    Tsb,
}

/// A method with its constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fit {
    pub(crate) method: Method,
    /// Smoothing constant of sizes (and of intervals, for Croston and SBA).
    pub(crate) alpha: f64,
    /// Smoothing constant of the probability of demand (TSB only).
    pub(crate) beta: f64,
}

/// Runs the method over `values`, calling `on_step` with each known value and the one-step
/// forecast of it once the method has started; returns the forecast after the last value (0
/// when there was no demand).
fn run(fit: &Fit, values: &[f64], mut on_step: impl FnMut(f64, f64)) -> f64 {
    match fit.method {
        Method::Croston | Method::Sba => {
            let alpha = fit.alpha;
            let factor = if fit.method == Method::Sba {
                1.0 - alpha / 2.0
            } else {
                1.0
            };
            // (size, interval) once the first demand is seen.
            let mut smoothed: Option<(f64, f64)> = None;
            let mut since = 0.0;
            for &y in values {
                if y.is_nan() {
                    continue;
                }
                since += 1.0;
                if let Some((size, interval)) = smoothed {
                    on_step(y, factor * size / interval);
                }
                if y > 0.0 {
                    smoothed = Some(match smoothed {
                        None => (y, since),
                        Some((size, interval)) => (
                            size + alpha * (y - size),
                            interval + alpha * (since - interval),
                        ),
                    });
                    since = 0.0;
                }
            }
            smoothed.map_or(0.0, |(size, interval)| factor * size / interval)
        }
        Method::Tsb => {
            let (alpha, beta) = (fit.alpha, fit.beta);
            // (probability, size) once the first demand is seen.
            let mut smoothed: Option<(f64, f64)> = None;
            let mut since = 0.0;
            for &y in values {
                if y.is_nan() {
                    continue;
                }
                since += 1.0;
                smoothed = match smoothed {
                    None if y > 0.0 => Some((1.0 / since, y)),
                    None => None,
                    Some((probability, size)) => {
                        on_step(y, probability * size);
                        if y > 0.0 {
                            Some((
                                probability + beta * (1.0 - probability),
                                size + alpha * (y - size),
                            ))
                        } else {
                            Some((probability - beta * probability, size))
                        }
                    }
                };
            }
            smoothed.map_or(0.0, |(probability, size)| probability * size)
        }
    }
}

/// The method's constants for `values`: `α = 0.1` for Croston and SBA; for TSB the pair of the
/// grid with the least in-sample squared one-step error (the first on ties).
pub(crate) fn fit(method: Method, values: &[f64]) -> Fit {
    if method != Method::Tsb {
        return Fit {
            method,
            alpha: CROSTON_ALPHA,
            beta: 0.0,
        };
    }
    let mut best = Fit {
        method,
        alpha: TSB_ALPHAS[1],
        beta: TSB_BETAS[2],
    };
    let mut best_sse = f64::INFINITY;
    for alpha in TSB_ALPHAS {
        for beta in TSB_BETAS {
            let candidate = Fit {
                method,
                alpha,
                beta,
            };
            let mut sse = 0.0;
            run(&candidate, values, |y, forecast| {
                sse += (y - forecast).powi(2)
            });
            if sse < best_sse {
                best_sse = sse;
                best = candidate;
            }
        }
    }
    best
}

/// Point forecasts for the periods after `values`, filling `out`.
pub(crate) fn point(fit: &Fit, values: &[f64], out: &mut [f64]) {
    let forecast = run(fit, values, |_, _| {});
    out.fill(forecast);
}

/// The `p` quantile of sorted values (linear interpolation between order statistics, Hyndman
/// and Fan's type 7).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let Some(&last) = sorted.last() else {
        return 0.0;
    };
    let position = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let Some(&above) = sorted.get(below + 1) else {
        return last;
    };
    let fraction = position - below as f64;
    sorted[below] + fraction * (above - sorted[below])
}

/// The forecast for `horizon` periods after `values`, with empirical intervals of coverage
/// `level`. With fewer than two in-sample ratios the interval is normal, its spread the root mean
/// square distance of the known values from the forecast.
pub(crate) fn forecast(fit: &Fit, values: &[f64], horizon: usize, level: f64) -> Paths {
    let mut ratios = Vec::new();
    let forecast = run(fit, values, |y, forecast| {
        if forecast > 0.0 {
            ratios.push(y / forecast);
        }
    });
    // The distances below and above the forecast one period ahead.
    let (below, above) = if ratios.len() >= 2 {
        ratios.sort_by(f64::total_cmp);
        (
            forecast * (1.0 - quantile(&ratios, (1.0 - level) / 2.0)),
            forecast * (quantile(&ratios, (1.0 + level) / 2.0) - 1.0),
        )
    } else {
        let (sum, count) = values
            .iter()
            .filter(|y| !y.is_nan())
            .fold((0.0, 0_usize), |(sum, count), y| {
                (sum + (y - forecast).powi(2), count + 1)
            });
        let spread = if count > 0 {
            (sum / count as f64).sqrt()
        } else {
            0.0
        };
        let z = normal::quantile((1.0 + level) / 2.0);
        (z * spread, z * spread)
    };
    let smoothing = fit.alpha.max(fit.beta);
    let mut lower = Vec::with_capacity(horizon);
    let mut upper = Vec::with_capacity(horizon);
    for ahead in 0..horizon {
        let widening = (1.0 + smoothing * smoothing * ahead as f64).sqrt();
        lower.push(forecast - below.max(0.0) * widening);
        upper.push(forecast + above.max(0.0) * widening);
    }
    Paths {
        mean: vec![forecast; horizon],
        lower,
        upper,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook example: demands 0, 0, 3, 0, 0, 0, 5, 0, 2.
    const DEMANDS: [f64; 9] = [0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 5.0, 0.0, 2.0];

    #[test]
    fn croston_matches_a_hand_worked_example() {
        // α = 0.1. First demand, period 3: z = 3, p = 3.
        // Period 7, demand 5, 4 periods since the last: z = 3 + 0.1·(5 − 3) = 3.2,
        //   p = 3 + 0.1·(4 − 3) = 3.1.
        // Period 9, demand 2, 2 periods since: z = 3.2 + 0.1·(2 − 3.2) = 3.08,
        //   p = 3.1 + 0.1·(2 − 3.1) = 2.99.
        // Forecast z/p = 3.08/2.99 = 1.030100334...
        let mut out = [0.0; 3];
        point(&fit(Method::Croston, &DEMANDS), &DEMANDS, &mut out);
        for got in out {
            assert!((got - 3.08 / 2.99).abs() < 1e-12, "{out:?}");
        }
    }

    #[test]
    fn sba_is_croston_times_one_minus_half_alpha() {
        // (1 − 0.1/2)·3.08/2.99 = 0.95·1.030100334 = 0.978595317...
        let mut out = [0.0; 1];
        point(&fit(Method::Sba, &DEMANDS), &DEMANDS, &mut out);
        assert!((out[0] - 0.95 * 3.08 / 2.99).abs() < 1e-12);
    }

    #[test]
    fn croston_skips_unknown_periods_rather_than_counting_them_as_zero() {
        // Same demands with two unknown periods inserted between the 3 and the 5: they are not
        // periods of the interval, so the forecast is unchanged.
        let values = [
            0.0,
            0.0,
            3.0,
            0.0,
            f64::NAN,
            f64::NAN,
            0.0,
            0.0,
            5.0,
            0.0,
            2.0,
        ];
        let mut out = [0.0; 1];
        point(&fit(Method::Croston, &values), &values, &mut out);
        assert!((out[0] - 3.08 / 2.99).abs() < 1e-12);
    }

    #[test]
    fn tsb_matches_a_hand_worked_example() {
        // α = 0.1, β = 0.2. First demand 3 at period 3: probability 1/3, size 3.
        // Periods 4, 5, 6 without demand: probability ·0.8 each, (1/3)·0.512 = 0.170667.
        // Period 7, demand 5: probability 0.170667 + 0.2·(1 − 0.170667) = 0.336533,
        //   size 3 + 0.1·2 = 3.2.
        // Period 8, none: probability 0.269227. Period 9, demand 2: probability
        //   0.269227 + 0.2·0.730773 = 0.415381, size 3.2 − 0.12 = 3.08.
        // Forecast 0.415381·3.08 = 1.279374...
        let fit = Fit {
            method: Method::Tsb,
            alpha: 0.1,
            beta: 0.2,
        };
        let mut out = [0.0; 1];
        point(&fit, &DEMANDS, &mut out);
        let mut probability = 1.0 / 3.0 * 0.8_f64.powi(3);
        probability += 0.2 * (1.0 - probability);
        probability *= 0.8;
        probability += 0.2 * (1.0 - probability);
        assert!((out[0] - probability * 3.08).abs() < 1e-12);
        assert!((out[0] - 1.279_374).abs() < 1e-6);
    }

    #[test]
    fn tsb_decays_when_demand_stops_where_croston_does_not() {
        // Demand of 2 every second period for 40 periods (first at period 2, so every interval
        // is 2), then 30 periods of none: Croston's forecast stays at 2/2 = 1, TSB's falls below
        // half of that.
        let mut values: Vec<f64> = (0..40)
            .map(|t| if t % 2 == 1 { 2.0 } else { 0.0 })
            .collect();
        values.extend([0.0; 30]);
        let mut croston = [0.0; 1];
        let mut tsb = [0.0; 1];
        point(&fit(Method::Croston, &values), &values, &mut croston);
        point(&fit(Method::Tsb, &values), &values, &mut tsb);
        assert!((croston[0] - 1.0).abs() < 1e-9);
        assert!(tsb[0] < 0.5, "{tsb:?}");
    }

    #[test]
    fn the_empirical_quantile_interpolates_between_order_statistics() {
        // Sorted 1, 2, 4, 8: p = 0.5 sits at position 1.5, between 2 and 4 → 3;
        // p = 0.9 at 2.7 → 4 + 0.7·4 = 6.8.
        let sorted = [1.0, 2.0, 4.0, 8.0];
        assert!((quantile(&sorted, 0.5) - 3.0).abs() < 1e-12);
        assert!((quantile(&sorted, 0.9) - 6.8).abs() < 1e-12);
        assert_eq!(quantile(&sorted, 1.0), 8.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn the_interval_scales_the_forecast_by_quantiles_of_actual_over_forecast() {
        // Demand 4 in every fourth period from period 4 (first demand: z = 4, p = 4), so
        // Croston's forecast is 1 from then on and the 12 later periods give ratios
        // 0, 0, 0, 4 three times: nine 0s and three 4s. Sorted, the 0.9 quantile sits at
        // position 0.9·11 = 9.9, between the 4s: 4; the 0.1 quantile is 0. One period ahead the
        // 80 % interval is [1·0, 1·4]; ten ahead the distances grow by √(1 + 0.01·9):
        // upper 1 + 3·√1.09.
        let values: Vec<f64> = (1..=16)
            .map(|t| if t % 4 == 0 { 4.0 } else { 0.0 })
            .collect();
        let paths = forecast(&fit(Method::Croston, &values), &values, 10, 0.8);
        assert!((paths.mean[0] - 1.0).abs() < 1e-12);
        assert!(paths.lower[0].abs() < 1e-12);
        assert!((paths.upper[0] - 4.0).abs() < 1e-12);
        assert!((paths.upper[9] - (1.0 + 3.0 * 1.09_f64.sqrt())).abs() < 1e-12);
        assert!(paths.lower[9] < 0.0, "clipped at zero later, by the caller");
    }

    #[test]
    fn a_series_without_demand_forecasts_zero_with_a_zero_width_interval() {
        let paths = forecast(&fit(Method::Sba, &[0.0; 10]), &[0.0; 10], 3, 0.8);
        assert_eq!(paths.mean, [0.0; 3]);
        assert_eq!(paths.lower, [0.0; 3]);
        assert_eq!(paths.upper, [0.0; 3]);
    }
}
