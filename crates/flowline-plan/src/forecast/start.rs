//! The initial states of a model with a multiplicative season, estimated with the smoothing
//! parameters rather than left as the decomposition gives them.
//!
//! With an additive season the one-step errors are linear in the initial level and slope, which
//! the fit solves exactly (see [`super::ets`]). With a multiplicative one they are not, and the
//! seasonal states matter most when γ is small: the season a model forecasts years later is then
//! still mostly the one it started from. As Hyndman's `ets` and statsforecast's AutoETS do, the
//! initial level, slope and seasonal states are estimated by the likelihood; here, for given
//! smoothing parameters, by a damped Gauss-Newton method (Levenberg-Marquardt) whose Jacobian
//! comes from one pass of the filter carrying the derivatives of its states, rather than by
//! adding `m + 1` dimensions to the Nelder-Mead search.
//!
//! The quantity minimised is the likelihood's equivalent sum of squares `F = Σε²·G²`, with
//! relative errors `ε_t = (y_t − ŷ_t)/ŷ_t` and `G = exp(Σ ln ŷ_t / n)` (see
//! [`super::ets::run`]). Written as residuals `r_t = ε_t·G`, their derivatives are
//! `∂r_t = G·(∂ε_t + ε_t·v)` with `v = Σ ∂ŷ_t/ŷ_t / n`, so that, `G²` cancelling,
//!
//! ```text
//! JᵀJ ∝ A + g·vᵀ + v·gᵀ + S·v·vᵀ      Jᵀr ∝ g + S·v
//! A = Σ ∂ε·∂εᵀ    g = Σ ε·∂ε    S = Σ ε²
//! ```
//!
//! The seasonal states are normalised (they sum to `m`, as the decomposition leaves them): the
//! model is unchanged when the level and slope are multiplied by `c` and the seasons divided by
//! it, so only `m − 1` of them are free, the last one being `m` less the others.

use super::ets::{self, Params, Spec, State};

/// Seasons longer than this keep the decomposition's start: the work of a step grows with the
/// square of the season length. (Hyndman's `ets` refuses seasons above 24 altogether.)
pub(crate) const MAX_SEASON: usize = 24;

/// Gauss-Newton steps at most.
const MAX_STEPS: usize = 8;
/// Tries of one step with a growing damping before giving up.
const MAX_TRIES: usize = 6;
/// Stop when a step improves `ln F` by less than this.
const TOLERANCE: f64 = 1e-7;

/// The sums one pass gathers, over the `d` free initial states.
struct Sums {
    /// `A`, `d × d`, row-major (lower triangle filled).
    a: Vec<f64>,
    /// `g = Σ ε·∂ε`.
    g: Vec<f64>,
    /// `Σ ∂ŷ/ŷ`.
    u: Vec<f64>,
    /// `S = Σ ε²`.
    s: f64,
    /// Known periods.
    n: usize,
}

/// The initial states of `spec` (which has a multiplicative season, `initial.season` holding
/// 2 to [`MAX_SEASON`] states) improved for `params` on `values`, with their equivalent sum of
/// squares; `initial` itself when no step improves it.
pub(crate) fn refine(spec: Spec, params: &Params, initial: &State, values: &[f64]) -> (State, f64) {
    let mut current = initial.clone();
    let mut value = evaluate(spec, params, &current, values);
    let m = current.season.len();
    if !value.is_finite() || !(2..=MAX_SEASON).contains(&m) {
        return (current, value);
    }
    let trend = spec.trend != ets::Trend::None;
    let d = 1 + usize::from(trend) + (m - 1);
    let mut lambda = 1e-3;
    let mut matrix = vec![0.0; d * d];
    let mut delta = vec![0.0; d];
    for _ in 0..MAX_STEPS {
        let sums = if trend {
            derivatives::<true>(params, &current, values, d)
        } else {
            derivatives::<false>(params, &current, values, d)
        };
        let Some(sums) = sums else { break };
        if sums.n == 0 {
            break;
        }
        // Normal equations: H·δ = −(g + S·v), H = A + g·vᵀ + v·gᵀ + S·v·vᵀ.
        let n = sums.n as f64;
        let v: Vec<f64> = sums.u.iter().map(|u| u / n).collect();
        let rhs: Vec<f64> = (0..d).map(|i| -(sums.g[i] + sums.s * v[i])).collect();
        let mut improved = false;
        for _ in 0..MAX_TRIES {
            for i in 0..d {
                for j in 0..=i {
                    let h = sums.a[i * d + j]
                        + sums.g[i] * v[j]
                        + v[i] * sums.g[j]
                        + sums.s * v[i] * v[j];
                    matrix[i * d + j] = h;
                }
                // Marquardt's damping, scaled by the diagonal (and a floor for flat directions).
                matrix[i * d + i] += lambda * matrix[i * d + i] + 1e-12;
            }
            if !solve(&mut matrix, d, &rhs, &mut delta) {
                lambda *= 10.0;
                continue;
            }
            let trial = shifted(&current, &delta, trend);
            let trial_value = evaluate(spec, params, &trial, values);
            if trial_value < value {
                let gain = value.ln() - trial_value.ln();
                current = trial;
                value = trial_value;
                lambda = (lambda / 10.0).max(1e-9);
                improved = gain > TOLERANCE;
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    (current, value)
}

/// The equivalent sum of squares from `state`.
fn evaluate(spec: Spec, params: &Params, state: &State, values: &[f64]) -> f64 {
    let mut state = state.clone();
    let (sse, known) = ets::run(spec, params, &mut state, values);
    if known == 0 { f64::INFINITY } else { sse }
}

/// `state` moved by `delta` in the free coordinates: level, slope (with a trend), the first
/// `m − 1` seasons; the last season takes up what the others gained.
fn shifted(state: &State, delta: &[f64], trend: bool) -> State {
    let mut next = state.clone();
    next.level += delta[0];
    let seasons = if trend {
        next.slope += delta[1];
        &delta[2..]
    } else {
        &delta[1..]
    };
    let m = next.season.len();
    let mut gained = 0.0;
    for (s, d) in next.season[..m - 1].iter_mut().zip(seasons) {
        *s += d;
        gained += d;
    }
    next.season[m - 1] -= gained;
    next
}

/// One pass of the filter of [`ets::run`] (multiplicative season) carrying the derivatives of
/// its states with respect to the `d` free initial states; `None` when a state leaves the
/// positive numbers.
///
/// With `base = l + φ·b`, `ŷ = base·s`, `e = y − ŷ`:
///
/// ```text
/// ∂ŷ = s·∂base + base·∂s                 ∂ε = −(y/ŷ²)·∂ŷ
/// ∂l' = ∂base + α·(−∂ŷ/s − e·∂s/s²)      ∂b' = φ·∂b + β·(−∂ŷ/s − e·∂s/s²)
/// ∂s' = ∂s + γ·(−∂ŷ/base − e·∂base/base²)
/// ```
fn derivatives<const TREND: bool>(
    params: &Params,
    state: &State,
    values: &[f64],
    d: usize,
) -> Option<Sums> {
    let Params {
        alpha,
        beta,
        gamma,
        phi,
    } = *params;
    let m = state.season.len();
    let first_season = 1 + usize::from(TREND);
    let mut level = state.level;
    let mut slope = if TREND { state.slope } else { 0.0 };
    let mut season = state.season.clone();
    // Derivatives: of the level, the slope, and each seasonal state (row j, d columns).
    let mut d_level = vec![0.0; d];
    let mut d_slope = vec![0.0; d];
    let mut d_season = vec![0.0; m * d];
    d_level[0] = 1.0;
    if TREND {
        d_slope[1] = 1.0;
    }
    for j in 0..m - 1 {
        d_season[j * d + first_season + j] = 1.0;
        d_season[(m - 1) * d + first_season + j] = -1.0;
    }
    let mut sums = Sums {
        a: vec![0.0; d * d],
        g: vec![0.0; d],
        u: vec![0.0; d],
        s: 0.0,
        n: 0,
    };
    let mut d_base = vec![0.0; d];
    let mut d_forecast = vec![0.0; d];
    let mut d_error = vec![0.0; d];
    let mut position = 0;
    for &y in values {
        let s = season[position];
        let base = if TREND { level + phi * slope } else { level };
        if !(base > 0.0 && s > 0.0 && base.is_finite() && s.is_finite()) {
            return None;
        }
        for i in 0..d {
            d_base[i] = if TREND {
                d_level[i] + phi * d_slope[i]
            } else {
                d_level[i]
            };
        }
        if y.is_nan() {
            level = base;
            d_level.copy_from_slice(&d_base);
            if TREND {
                slope *= phi;
                for x in &mut d_slope {
                    *x *= phi;
                }
            }
        } else {
            let forecast = base * s;
            let error = y - forecast;
            let relative = error / forecast;
            let row = &mut d_season[position * d..(position + 1) * d];
            for i in 0..d {
                d_forecast[i] = s * d_base[i] + base * row[i];
                d_error[i] = -(y / (forecast * forecast)) * d_forecast[i];
            }
            sums.s += relative * relative;
            sums.n += 1;
            for i in 0..d {
                sums.g[i] += relative * d_error[i];
                sums.u[i] += d_forecast[i] / forecast;
                let di = d_error[i];
                for (a, dj) in sums.a[i * d..=i * d + i].iter_mut().zip(&d_error) {
                    *a += di * dj;
                }
            }
            // ∂(e/s) = −∂ŷ/s − e·∂s/s²; ∂(e/base) = −∂ŷ/base − e·∂base/base².
            let error_over_s = error / s;
            let error_over_base = error / base;
            for i in 0..d {
                let d_error_over_s = -d_forecast[i] / s - error_over_s * row[i] / s;
                let d_error_over_base = -d_forecast[i] / base - error_over_base * d_base[i] / base;
                d_level[i] = d_base[i] + alpha * d_error_over_s;
                if TREND {
                    d_slope[i] = phi * d_slope[i] + beta * d_error_over_s;
                }
                row[i] += gamma * d_error_over_base;
            }
            level = base + alpha * error_over_s;
            if TREND {
                slope = phi * slope + beta * error_over_s;
            }
            season[position] = s + gamma * error_over_base;
        }
        position += 1;
        if position == m {
            position = 0;
        }
    }
    Some(sums)
}

/// Solves `M·x = b` for a symmetric positive definite `M` (`d × d`, lower triangle given, row
/// major) by Cholesky's method, overwriting `M` with its factor; `false` when `M` is not
/// positive definite.
fn solve(matrix: &mut [f64], d: usize, b: &[f64], x: &mut [f64]) -> bool {
    for j in 0..d {
        let mut diagonal = matrix[j * d + j];
        for k in 0..j {
            diagonal -= matrix[j * d + k] * matrix[j * d + k];
        }
        if diagonal.is_nan() || diagonal <= 0.0 || diagonal.is_infinite() {
            return false;
        }
        let root = diagonal.sqrt();
        matrix[j * d + j] = root;
        for i in j + 1..d {
            let mut value = matrix[i * d + j];
            for k in 0..j {
                value -= matrix[i * d + k] * matrix[j * d + k];
            }
            matrix[i * d + j] = value / root;
        }
    }
    // L·z = b, then Lᵀ·x = z.
    for i in 0..d {
        let mut value = b[i];
        for k in 0..i {
            value -= matrix[i * d + k] * x[k];
        }
        x[i] = value / matrix[i * d + i];
    }
    for i in (0..d).rev() {
        let mut value = x[i];
        for k in i + 1..d {
            value -= matrix[k * d + i] * x[k];
        }
        x[i] = value / matrix[i * d + i];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::ets::Trend;

    const MNM: Spec = Spec::multiplicative(Trend::None);

    fn sse(spec: Spec, params: &Params, state: &State, values: &[f64]) -> f64 {
        let mut state = state.clone();
        ets::run(spec, params, &mut state, values).0
    }

    #[test]
    fn a_multiplicative_start_is_refined_to_the_one_that_generated_the_series() {
        // y_t = 20·s[t % 4] with s = (1.2, 0.8, 0.6, 1.4) (mean 1), noise-free: from l0 = 20 and
        // these seasons ETS(M,N,M) forecasts every period exactly, for any parameters. Started
        // from l0 = 18 and a flat season, the refinement must find a start whose equivalent
        // sum of squares is (nearly) 0, which is that one.
        let s = [1.2, 0.8, 0.6, 1.4];
        let values: Vec<f64> = (0..48).map(|t| 20.0 * s[t % 4]).collect();
        let params = Params {
            alpha: 0.1,
            beta: 0.0,
            gamma: 0.05,
            phi: 0.0,
        };
        let wrong = State {
            level: 18.0,
            slope: 0.0,
            season: vec![1.0; 4],
        };
        let before = sse(MNM, &params, &wrong, &values);
        let (refined, after) = refine(MNM, &params, &wrong, &values);
        assert!(before > 1.0 && after < 1e-12 * before, "{before} → {after}");
        assert!((refined.level - 20.0).abs() < 1e-4, "{refined:?}");
        for (got, want) in refined.season.iter().zip(s) {
            assert!((got - want).abs() < 1e-5, "{refined:?}");
        }
    }

    #[test]
    fn the_derivatives_of_the_multiplicative_filter_match_finite_differences() {
        // g = Σ ε·∂ε from the derivative pass against (S(θ + h) − S(θ − h)) / 4h, S = Σ ε²,
        // for each free initial state of ETS(M,Ad,M) on a small series with an unknown period.
        let values = [
            12.0,
            7.0,
            9.5,
            14.0,
            f64::NAN,
            8.0,
            10.0,
            15.5,
            12.5,
            6.5,
            11.0,
            16.0,
        ];
        let params = Params {
            alpha: 0.3,
            beta: 0.05,
            gamma: 0.1,
            phi: 0.9,
        };
        let state = State {
            level: 10.0,
            slope: 0.2,
            season: vec![1.1, 0.7, 0.9, 1.3],
        };
        let d = 5;
        let sums = derivatives::<true>(&params, &state, &values, d).unwrap();
        let relative_sum = |state: &State| {
            // S = Σ ε², by the same recursion as `ets::run` with the season multiplying.
            let (mut l, mut b, mut season) = (state.level, state.slope, state.season.clone());
            let mut total = 0.0;
            for (t, &y) in values.iter().enumerate() {
                let p = t % 4;
                let base = l + params.phi * b;
                if y.is_nan() {
                    l = base;
                    b *= params.phi;
                    continue;
                }
                let forecast = base * season[p];
                let e = y - forecast;
                total += (e / forecast).powi(2);
                l = base + params.alpha * e / season[p];
                b = params.phi * b + params.beta * e / season[p];
                season[p] += params.gamma * e / base;
            }
            total
        };
        let h = 1e-6;
        for k in 0..d {
            let mut delta = [0.0; 5];
            delta[k] = h;
            let up = relative_sum(&shifted(&state, &delta, true));
            delta[k] = -h;
            let down = relative_sum(&shifted(&state, &delta, true));
            let numeric = (up - down) / (4.0 * h);
            assert!(
                (sums.g[k] - numeric).abs() < 1e-6 * (1.0 + numeric.abs()),
                "{k}: {} against {numeric}",
                sums.g[k]
            );
        }
    }
}
