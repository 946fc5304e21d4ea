//! Exponential smoothing state-space models with additive errors: ETS(A,N,N), ETS(A,A,N),
//! ETS(A,Ad,N), ETS(A,N,A), ETS(A,A,A) and ETS(A,Ad,A); and with multiplicative errors and
//! season, ETS(M,N,M), ETS(M,A,M) and ETS(M,Ad,M); after Hyndman, Koehler, Ord and Snyder,
//! *Forecasting with Exponential Smoothing* (2008), chapters 2, 5 and 6.
//!
//! For period `t`, with level `l`, slope `b`, seasonal state `s` of the period's position and
//! damping `φ` (1 for an undamped trend, 0 for none):
//!
//! ```text
//! ŷ_t = l + φ·b + s          e_t = y_t − ŷ_t
//! l  ← l + φ·b + α·e_t       b ← φ·b + β·e_t       s ← s + γ·e_t
//! ```
//!
//! An unknown period has no error: the states move on as forecast (`e_t = 0`).
//!
//! Fitting minimises the sum of squared one-step errors (for additive errors, maximising the
//! likelihood is minimising `n·ln(SSE)`) over the smoothing parameters, by a bounded Nelder-Mead
//! search within the usual region `0 < α < 1`, `0 < β < α`, `0 < γ < 1 − α`, `0.8 ≤ φ ≤ 0.98`.
//! The seasonal states start from a classical decomposition of the first seasons. The errors are
//! linear in the initial level and slope, so for each trial of the parameters these two are
//! solved exactly by least squares: alongside the filter run two more that carry a unit initial
//! level and a unit initial slope with no data, and the best shift of each follows from their
//! normal equations. The search thus has one to four dimensions, and each trial costs one pass
//! over the data without allocating.
//!
//! With a multiplicative season (see [`multiplicative_filter`]) the errors are relative,
//! `ε = e/ŷ`; the state equations are then the same as with additive errors and the season
//! multiplying, only the likelihood differs: `n·ln(Σε²) + 2·Σ ln ŷ`, which the filter returns
//! as the equivalent sum of squares `Σε²·exp(2·Σ ln ŷ / n)` so that the search and the AICc
//! treat both kinds alike. These errors are not linear in the initial states, which start from
//! the decomposition (of ratios to the moving average, over every full season); once the
//! parameters are found, the initial level, slope and seasons are refined for them by
//! Gauss-Newton on the same likelihood ([`super::start`]) and the parameters searched again
//! from there (seasons up to 24 periods). Their intervals use the additive formulas with that
//! equivalent variance, an approximation.

use super::optimize::{self, MAX_DIM, Settings};
use super::start;
use super::{Model, Paths, trailing_unknown};

/// The trend component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trend {
    /// No trend.
    None,
    /// Additive trend.
    Additive,
    /// Additive damped trend.
    Damped,
}

/// Which model of the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spec {
    pub(crate) trend: Trend,
    pub(crate) seasonal: bool,
    /// The season multiplies the level rather than adding to it (only with `seasonal`).
    pub(crate) multiplicative: bool,
}

/// Smoothing parameters (`phi` is 1 without damping; unused ones are 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Params {
    pub(crate) alpha: f64,
    pub(crate) beta: f64,
    pub(crate) gamma: f64,
    pub(crate) phi: f64,
}

/// The state before a period: level, slope (0 without trend) and the seasonal states, one per
/// position of the cycle (`season[t % m]` serves period `t`; empty without season).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct State {
    pub(crate) level: f64,
    pub(crate) slope: f64,
    pub(crate) season: Vec<f64>,
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fit {
    pub(crate) spec: Spec,
    /// Season length (1 without season).
    pub(crate) m: usize,
    pub(crate) params: Params,
    /// The state before the first period.
    pub(crate) initial: State,
    /// Variance of the one-step errors (SSE over known periods less parameters).
    pub(crate) sigma2: f64,
    /// Corrected Akaike information criterion; infinite when there are too few periods for it.
    pub(crate) aicc: f64,
}

/// Bounds of α and of the fractions that give β and γ.
const SMOOTHING_BOUNDS: (f64, f64) = (1e-4, 0.9999);
/// Seasons at most in the decomposition that starts an additive season (a multiplicative one
/// uses every full season: ratios to the moving average do not drift with the level).
const ADDITIVE_CYCLES: usize = 30;
/// Bounds of φ.
const DAMPING_BOUNDS: (f64, f64) = (0.8, 0.98);

impl Spec {
    /// The nine models, simplest first, the multiplicative seasons last.
    pub(crate) const ALL: [Spec; 9] = [
        Spec::new(Trend::None, false),
        Spec::new(Trend::Additive, false),
        Spec::new(Trend::Damped, false),
        Spec::new(Trend::None, true),
        Spec::new(Trend::Additive, true),
        Spec::new(Trend::Damped, true),
        Spec::multiplicative(Trend::None),
        Spec::multiplicative(Trend::Additive),
        Spec::multiplicative(Trend::Damped),
    ];

    pub(crate) const fn new(trend: Trend, seasonal: bool) -> Spec {
        Spec {
            trend,
            seasonal,
            multiplicative: false,
        }
    }

    /// A model with a multiplicative season.
    pub(crate) const fn multiplicative(trend: Trend) -> Spec {
        Spec {
            trend,
            seasonal: true,
            multiplicative: true,
        }
    }

    /// The model's spec, if it is one of this class.
    pub(crate) fn of(model: Model) -> Option<Spec> {
        Spec::ALL.into_iter().find(|spec| spec.model() == model)
    }

    /// The public name.
    pub(crate) fn model(self) -> Model {
        match (self.trend, self.seasonal, self.multiplicative) {
            (Trend::None, false, _) => Model::EtsAnn,
            (Trend::Additive, false, _) => Model::EtsAan,
            (Trend::Damped, false, _) => Model::EtsAadN,
            (Trend::None, true, false) => Model::EtsAna,
            (Trend::Additive, true, false) => Model::EtsAaa,
            (Trend::Damped, true, false) => Model::EtsAadA,
            (Trend::None, true, true) => Model::EtsMnm,
            (Trend::Additive, true, true) => Model::EtsMam,
            (Trend::Damped, true, true) => Model::EtsMadM,
        }
    }

    fn has_trend(self) -> bool {
        self.trend != Trend::None
    }

    /// Parameters estimated, the error variance aside: α and the initial level; β and the
    /// initial slope with a trend; φ when damped; γ and `m − 1` free initial seasonal states
    /// with a season (as counted by Hyndman et al.).
    pub(crate) fn parameter_count(self, m: usize) -> usize {
        let mut count: usize = 2;
        if self.has_trend() {
            count += 2;
        }
        if self.trend == Trend::Damped {
            count += 1;
        }
        if self.seasonal {
            count = count.saturating_add(m);
        }
        count
    }

    /// Dimensions of the search: α, then β/α with a trend, γ/(1 − α) with a season, φ when
    /// damped.
    fn dimension(self) -> usize {
        1 + usize::from(self.has_trend())
            + usize::from(self.seasonal)
            + usize::from(self.trend == Trend::Damped)
    }

    /// The parameters at a point of the search.
    fn params(self, point: &[f64]) -> Params {
        let mut coordinates = point.iter().copied();
        let alpha = coordinates.next().unwrap_or(0.5);
        let beta = if self.has_trend() {
            alpha * coordinates.next().unwrap_or(0.1)
        } else {
            0.0
        };
        let gamma = if self.seasonal {
            (1.0 - alpha) * coordinates.next().unwrap_or(0.05)
        } else {
            0.0
        };
        let phi = match self.trend {
            Trend::None => 0.0,
            Trend::Additive => 1.0,
            Trend::Damped => coordinates.next().unwrap_or(0.95),
        };
        Params {
            alpha,
            beta,
            gamma,
            phi,
        }
    }

    /// Start, first step, lower and upper bounds of the search, in the order of
    /// [`Spec::params`]. The start is the usual default (α = 0.2, β = 0.1·α, γ = 0.05·(1 − α),
    /// φ = 0.95) with wide steps, or, `near` the parameters of a related fit, those (defaults for
    /// the ones it lacks) with narrower steps.
    fn search_box(self, near: Option<&Params>) -> [[f64; MAX_DIM]; 4] {
        let (low, high) = SMOOTHING_BOUNDS;
        let (alpha, beta_share, gamma_share, phi, step) = match near {
            None => (0.2, 0.1, 0.05, 0.95, 0.15),
            Some(p) => {
                let alpha = p.alpha.clamp(low, high);
                (
                    alpha,
                    if p.beta > 0.0 { p.beta / alpha } else { 0.1 },
                    if p.gamma > 0.0 {
                        p.gamma / (1.0 - alpha)
                    } else {
                        0.05
                    },
                    if p.phi > 0.0 { p.phi } else { 0.95 },
                    0.05,
                )
            }
        };
        let mut start = [0.0; MAX_DIM];
        let mut steps = [0.0; MAX_DIM];
        let mut lower = [0.0; MAX_DIM];
        let mut upper = [0.0; MAX_DIM];
        let mut i = 0;
        let mut push = |at: f64, by: f64, from: f64, to: f64| {
            start[i] = at.clamp(from, to);
            steps[i] = by;
            lower[i] = from;
            upper[i] = to;
            i += 1;
        };
        push(alpha, step, low, high);
        if self.has_trend() {
            push(beta_share, step, low, high);
        }
        if self.seasonal {
            push(gamma_share, step, low, high);
        }
        if self.trend == Trend::Damped {
            push(phi, -step / 3.0, DAMPING_BOUNDS.0, DAMPING_BOUNDS.1);
        }
        [start, steps, lower, upper]
    }
}

/// Runs the filter over `values` from `state` (before the first of them), leaving `state` after
/// the last; returns the sum of squared one-step errors and the number of known values.
pub(crate) fn run(spec: Spec, params: &Params, state: &mut State, values: &[f64]) -> (f64, usize) {
    if spec.multiplicative {
        let State {
            level,
            slope,
            season,
        } = state;
        return if spec.has_trend() {
            multiplicative_filter::<true>(params, level, slope, season, values)
        } else {
            multiplicative_filter::<false>(params, level, slope, season, values)
        };
    }
    match (spec.has_trend(), spec.seasonal) {
        (false, false) => filter::<false, false>(params, state, values),
        (true, false) => filter::<true, false>(params, state, values),
        (false, true) => filter::<false, true>(params, state, values),
        (true, true) => filter::<true, true>(params, state, values),
    }
}

/// The update of level and slope after a known period, written as a linear map of the previous
/// level and slope plus gains on the period's target (its value less its seasonal state):
///
/// ```text
/// e  = t − (l + φ·b)
/// l' = l + φ·b + α·e = (1 − α)·l + (1 − α)·φ·b + α·t
/// b' = φ·b + β·e     = −β·l + (1 − β)·φ·b + β·t
/// ```
///
/// This form keeps the error off the chain of dependent operations from one period to the next,
/// which is what bounds the speed of the loop.
#[derive(Debug, Clone, Copy)]
struct Step {
    alpha: f64,
    beta: f64,
    level_level: f64,
    level_slope: f64,
    slope_slope: f64,
}

impl Step {
    fn new(params: &Params) -> Step {
        let Params {
            alpha, beta, phi, ..
        } = *params;
        Step {
            alpha,
            beta,
            level_level: 1.0 - alpha,
            level_slope: (1.0 - alpha) * phi,
            slope_slope: (1.0 - beta) * phi,
        }
    }

    /// Level and slope after a known period with target `target`.
    #[inline(always)]
    fn update<const TREND: bool>(&self, level: f64, slope: f64, target: f64) -> (f64, f64) {
        if TREND {
            (
                self.level_level * level + (self.level_slope * slope + self.alpha * target),
                (self.slope_slope * slope + self.beta * target) - self.beta * level,
            )
        } else {
            (self.level_level * level + self.alpha * target, 0.0)
        }
    }
}

fn filter<const TREND: bool, const SEASON: bool>(
    params: &Params,
    state: &mut State,
    values: &[f64],
) -> (f64, usize) {
    let Params { gamma, phi, .. } = *params;
    let m = state.season.len();
    if SEASON && m == 0 {
        return (f64::INFINITY, 0);
    }
    let season = &mut state.season;
    let step = Step::new(params);
    let mut level = state.level;
    let mut slope = if TREND { state.slope } else { 0.0 };
    let mut position = 0;
    let mut sse = 0.0;
    let mut known = 0;
    for &y in values {
        let s = if SEASON { season[position] } else { 0.0 };
        if y.is_nan() {
            if TREND {
                level += phi * slope;
                slope *= phi;
            }
        } else {
            let target = y - s;
            let error = if TREND {
                target - (level + phi * slope)
            } else {
                target - level
            };
            sse += error * error;
            known += 1;
            (level, slope) = step.update::<TREND>(level, slope, target);
            if SEASON {
                season[position] = s + gamma * error;
            }
        }
        if SEASON {
            position += 1;
            if position == m {
                position = 0;
            }
        }
    }
    state.level = level;
    state.slope = slope;
    (sse, known)
}

/// The filter of a model with a multiplicative season (Hyndman et al. 2008, table 2.3, additive
/// errors): with `base = l + φ·b`,
///
/// ```text
/// ŷ = base·s     e = y − ŷ
/// l ← base + α·e/s     b ← φ·b + β·e/s     s ← s + γ·e/base
/// ```
///
/// The states must stay positive: a level or seasonal state at or below zero (or not finite)
/// makes the sum of squares infinite, which the search avoids.
fn multiplicative_filter<const TREND: bool>(
    params: &Params,
    level: &mut f64,
    slope: &mut f64,
    season: &mut [f64],
    values: &[f64],
) -> (f64, usize) {
    let Params {
        alpha,
        beta,
        gamma,
        phi,
    } = *params;
    let m = season.len();
    if m == 0 {
        return (f64::INFINITY, 0);
    }
    let mut l = *level;
    let mut b = if TREND { *slope } else { 0.0 };
    let mut position = 0;
    let mut sse = 0.0;
    let mut known = 0;
    // Σ ln ŷ, gathered as a product taken to its logarithm every 32 known periods.
    let mut log_sum = 0.0;
    let mut product = 1.0;
    for &y in values {
        let s = season[position];
        let base = if TREND { l + phi * b } else { l };
        if !(base > 0.0 && s > 0.0) {
            return (f64::INFINITY, known);
        }
        if y.is_nan() {
            l = base;
            if TREND {
                b *= phi;
            }
        } else {
            let forecast = base * s;
            let error = y - forecast;
            let relative_error = error / forecast;
            sse += relative_error * relative_error;
            product *= forecast;
            known += 1;
            if known % 32 == 0 {
                log_sum += product.ln();
                product = 1.0;
            }
            let relative = error / s;
            l = base + alpha * relative;
            if TREND {
                b = phi * b + beta * relative;
            }
            season[position] = s + gamma * error / base;
        }
        position += 1;
        if position == m {
            position = 0;
        }
    }
    *level = l;
    *slope = b;
    log_sum += product.ln();
    if known == 0 {
        return (sse, 0);
    }
    // The Gaussian likelihood of the relative errors ε = e/ŷ is that of additive errors whose
    // sum of squares is Σε²·exp(2·Σ ln ŷ / n).
    let equivalent = sse * (2.0 * log_sum / known as f64).exp();
    (
        if equivalent.is_nan() {
            f64::INFINITY
        } else {
            equivalent
        },
        known,
    )
}

/// The least sum of squared errors over the initial level and slope, for given parameters and
/// initial seasonal states, and the shifts of the initial level and slope that give it.
#[derive(Debug, Clone, Copy)]
struct Concentrated {
    sse: f64,
    level_shift: f64,
    slope_shift: f64,
}

fn concentrated(
    spec: Spec,
    params: &Params,
    initial: &State,
    ring: &mut [[f64; 3]],
    values: &[f64],
) -> Concentrated {
    match (spec.has_trend(), spec.seasonal) {
        (false, false) => concentrated_filter::<false, false>(params, initial, ring, values),
        (true, false) => concentrated_filter::<true, false>(params, initial, ring, values),
        (false, true) => concentrated_filter::<false, true>(params, initial, ring, values),
        (true, true) => concentrated_filter::<true, true>(params, initial, ring, values),
    }
}

/// Three filters in step: lane 0 on the data from `initial`; lane 1 on no data (all zero) from
/// a unit level; lane 2 on no data from a unit slope. The state model is linear, so the error of
/// period `t` from `initial` shifted by `(δl, δb)` is `e0 + δl·e1 + δb·e2`, and the best shift
/// solves the normal equations of that least-squares problem.
fn concentrated_filter<const TREND: bool, const SEASON: bool>(
    params: &Params,
    initial: &State,
    ring: &mut [[f64; 3]],
    values: &[f64],
) -> Concentrated {
    let Params { gamma, phi, .. } = *params;
    let m = ring.len();
    if SEASON {
        if m == 0 || initial.season.len() != m {
            return Concentrated {
                sse: f64::INFINITY,
                level_shift: 0.0,
                slope_shift: 0.0,
            };
        }
        for (lanes, &s) in ring.iter_mut().zip(&initial.season) {
            *lanes = [s, 0.0, 0.0];
        }
    }
    let step = Step::new(params);
    let (mut l0, mut l1, mut l2) = (initial.level, 1.0, 0.0);
    let (mut b0, mut b1, mut b2) = (initial.slope, 0.0, 1.0);
    // Sums of products of the lanes' errors: e0², e1², e1·e0, e2², e1·e2, e2·e0.
    let (mut s00, mut s11, mut s10) = (0.0, 0.0, 0.0);
    let (mut s22, mut s12, mut s20) = (0.0, 0.0, 0.0);
    let mut position = 0;
    for &y in values {
        let [c0, c1, c2] = if SEASON { ring[position] } else { [0.0; 3] };
        if y.is_nan() {
            if TREND {
                l0 += phi * b0;
                l1 += phi * b1;
                l2 += phi * b2;
                b0 *= phi;
                b1 *= phi;
                b2 *= phi;
            }
        } else {
            let (t0, t1, t2) = (y - c0, -c1, -c2);
            let (e0, e1, e2) = if TREND {
                (
                    t0 - (l0 + phi * b0),
                    t1 - (l1 + phi * b1),
                    t2 - (l2 + phi * b2),
                )
            } else {
                (t0 - l0, t1 - l1, 0.0)
            };
            s00 += e0 * e0;
            s11 += e1 * e1;
            s10 += e1 * e0;
            (l0, b0) = step.update::<TREND>(l0, b0, t0);
            (l1, b1) = step.update::<TREND>(l1, b1, t1);
            if TREND {
                s22 += e2 * e2;
                s12 += e1 * e2;
                s20 += e2 * e0;
                (l2, b2) = step.update::<TREND>(l2, b2, t2);
            }
            if SEASON {
                ring[position] = [c0 + gamma * e0, c1 + gamma * e1, c2 + gamma * e2];
            }
        }
        if SEASON {
            position += 1;
            if position == m {
                position = 0;
            }
        }
    }
    // Minimise Σ (e0 + δl·e1 + δb·e2)²: the normal equations are
    // [s11 s12; s12 s22]·[δl; δb] = −[s10; s20], and the least sum is s00 + δl·s10 + δb·s20.
    let level_only = || {
        if s11 > 0.0 {
            let shift = -s10 / s11;
            Concentrated {
                sse: (s00 + shift * s10).max(0.0),
                level_shift: shift,
                slope_shift: 0.0,
            }
        } else {
            Concentrated {
                sse: s00,
                level_shift: 0.0,
                slope_shift: 0.0,
            }
        }
    };
    if !TREND {
        return level_only();
    }
    let determinant = s11 * s22 - s12 * s12;
    if determinant.is_nan() || determinant <= 1e-12 * s11 * s22 {
        return level_only();
    }
    let level_shift = -(s22 * s10 - s12 * s20) / determinant;
    let slope_shift = -(s11 * s20 - s12 * s10) / determinant;
    Concentrated {
        sse: (s00 + level_shift * s10 + slope_shift * s20).max(0.0),
        level_shift,
        slope_shift,
    }
}

/// The starting state: with a season, the seasonal states of a classical decomposition of the
/// first two to four seasons (centred moving average of order `m`, 2×m when `m` is even;
/// detrended values averaged per position; centred to sum to zero), the level the first
/// season's mean and the slope the change of the seasonal means per period. Without a season,
/// the first known value and no slope. Unknown values are carried forward from the last known.
/// The level and slope are then refined by least squares in the fit.
pub(crate) fn initial_state(spec: Spec, m: usize, values: &[f64]) -> State {
    let first = values.iter().copied().find(|v| !v.is_nan()).unwrap_or(0.0);
    if !spec.seasonal || m < 2 || values.len() / 2 < m {
        return State {
            level: first,
            slope: 0.0,
            season: Vec::new(),
        };
    }
    let cycles = if spec.multiplicative {
        values.len() / m
    } else {
        (values.len() / m).min(ADDITIVE_CYCLES)
    };
    let length = cycles * m;
    let mut filled = Vec::with_capacity(length);
    let mut last = first;
    for &y in &values[..length] {
        if !y.is_nan() {
            last = y;
        }
        filled.push(last);
    }
    let mut prefix = Vec::with_capacity(length + 1);
    prefix.push(0.0);
    let mut total = 0.0;
    for &y in &filled {
        total += y;
        prefix.push(total);
    }
    let mut sums = vec![0.0; m];
    let mut counts = vec![0_usize; m];
    let half = m / 2;
    for t in half..length - half {
        let average = if m % 2 == 1 {
            (prefix[t + half + 1] - prefix[t - half]) / m as f64
        } else {
            (prefix[t + half] - prefix[t - half + 1] + 0.5 * (filled[t - half] + filled[t + half]))
                / m as f64
        };
        if !spec.multiplicative {
            sums[t % m] += filled[t] - average;
            counts[t % m] += 1;
        } else if average > 0.0 {
            sums[t % m] += filled[t] / average;
            counts[t % m] += 1;
        }
    }
    let mut season: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(&sum, &count)| if count > 0 { sum / count as f64 } else { 0.0 })
        .collect();
    let centre = season.iter().sum::<f64>() / m as f64;
    for s in &mut season {
        if !spec.multiplicative {
            *s -= centre;
        } else if centre > 0.0 {
            *s /= centre;
        } else {
            *s = 1.0;
        }
    }
    let first_mean = prefix[m] / m as f64;
    let second_mean = (prefix[2 * m] - prefix[m]) / m as f64;
    State {
        level: first_mean,
        slope: if spec.has_trend() {
            (second_mean - first_mean) / m as f64
        } else {
            0.0
        },
        season,
    }
}

/// Known values a model needs to be fitted at all: one more than its parameters.
pub(crate) fn least_known(spec: Spec, m: usize) -> usize {
    spec.parameter_count(if spec.seasonal { m } else { 1 })
        .saturating_add(1)
}

/// Fits the model to `values` (scaled, NaN where unknown, the first known). `None` when the
/// model does not apply: a season needs `m ≥ 2` and two full seasons, and there must be at least
/// [`least_known`] known values.
pub(crate) fn fit(spec: Spec, m: usize, values: &[f64]) -> Option<Fit> {
    fit_near(spec, m, values, None)
}

/// [`fit`], the search starting `near` the parameters of a related fit when given.
pub(crate) fn fit_near(spec: Spec, m: usize, values: &[f64], near: Option<&Params>) -> Option<Fit> {
    let m = if spec.seasonal { m } else { 1 };
    if spec.seasonal && (m < 2 || values.len() / 2 < m) {
        return None;
    }
    let known = values.iter().filter(|v| !v.is_nan()).count();
    let parameters = spec.parameter_count(m);
    if known < parameters.saturating_add(1) {
        return None;
    }
    let initial = initial_state(spec, m, values);
    let mut ring = vec![
        [0.0; 3];
        if spec.seasonal && !spec.multiplicative {
            m
        } else {
            0
        }
    ];
    let mut scratch = vec![0.0; if spec.multiplicative { m } else { 0 }];
    let sum_of_squares: f64 = values.iter().filter(|v| !v.is_nan()).map(|v| v * v).sum();
    // A perfect fit would have ln(0): below this floor fits count as equally good.
    let floor = (1e-12 * sum_of_squares).max(1e-300);

    let dimension = spec.dimension();
    let search =
        |initial: &State, near: Option<&Params>, ring: &mut [[f64; 3]], scratch: &mut [f64]| {
            let [start, step, lower, upper] = spec.search_box(near);
            let found = optimize::minimize(
                |point| {
                    let params = spec.params(point);
                    let sse = if spec.multiplicative {
                        scratch.copy_from_slice(&initial.season);
                        let (mut level, mut slope) = (initial.level, initial.slope);
                        let filter = if spec.has_trend() {
                            multiplicative_filter::<true>
                        } else {
                            multiplicative_filter::<false>
                        };
                        filter(&params, &mut level, &mut slope, scratch, values).0
                    } else {
                        concentrated(spec, &params, initial, ring, values).sse
                    };
                    sse.max(floor).ln()
                },
                &start[..dimension],
                &step[..dimension],
                &lower[..dimension],
                &upper[..dimension],
                Settings {
                    max_evaluations: 60 + 70 * dimension,
                    value_tolerance: 1e-6,
                    point_tolerance: 1e-3,
                },
            );
            found
                .value
                .is_finite()
                .then(|| spec.params(&found.point[..dimension]))
        };
    let mut initial = initial;
    let mut params = search(&initial, near, &mut ring, &mut scratch)?;
    if spec.multiplicative {
        // The initial states by the likelihood too (see `start`): refined for the parameters
        // found, then the parameters searched again from there. (A second round moved the
        // benchmarks' MASE by under 0.1 %.)
        if m <= start::MAX_SEASON {
            let (refined, _) = start::refine(spec, &params, &initial, values);
            initial = refined;
            if let Some(found) = search(&initial, Some(&params), &mut ring, &mut scratch) {
                params = found;
            }
        }
    } else {
        let best = concentrated(spec, &params, &initial, &mut ring, values);
        if best.level_shift.is_finite() && best.slope_shift.is_finite() {
            initial.level += best.level_shift;
            initial.slope += best.slope_shift;
        }
    }
    let mut state = initial.clone();
    let (sse, known) = run(spec, &params, &mut state, values);
    if !sse.is_finite() {
        return None;
    }
    let sigma2 = if known > parameters {
        sse / (known - parameters) as f64
    } else {
        sse / known as f64
    };
    Some(Fit {
        spec,
        m,
        params,
        initial,
        sigma2,
        aicc: aicc(sse.max(floor), known, parameters),
    })
}

/// AICc of a Gaussian model with `parameters` besides the variance, whose one-step errors over
/// `known` periods have the sum of squares `sse`: `−2 ln L + 2k + 2k(k+1)/(n−k−1)` with
/// `k = parameters + 1` and `−2 ln L = n·(ln(2π·SSE/n) + 1)`.
fn aicc(sse: f64, known: usize, parameters: usize) -> f64 {
    let n = known as f64;
    let k = (parameters + 1) as f64;
    if n - k - 1.0 <= 0.0 {
        return f64::INFINITY;
    }
    let minus_two_log_likelihood = n * ((2.0 * std::f64::consts::PI * sse / n).ln() + 1.0);
    minus_two_log_likelihood + 2.0 * k + 2.0 * k * (k + 1.0) / (n - k - 1.0)
}

/// The state after `values`, from the fit's initial state.
fn final_state(fit: &Fit, values: &[f64]) -> State {
    let mut state = fit.initial.clone();
    run(fit.spec, &fit.params, &mut state, values);
    state
}

/// Point forecasts of the periods after `values` (which start where the fitted values did),
/// filling `out`.
pub(crate) fn point(fit: &Fit, values: &[f64], out: &mut [f64]) {
    let state = final_state(fit, values);
    means(fit, &state, values.len(), out);
}

/// The mean forecasts from `state`, after `periods` periods.
fn means(fit: &Fit, state: &State, periods: usize, out: &mut [f64]) {
    let phi = fit.params.phi;
    let mut damped_sum = 0.0;
    let mut damping = 1.0;
    for (ahead, slot) in out.iter_mut().enumerate() {
        let trend = match fit.spec.trend {
            Trend::None => 0.0,
            Trend::Additive => (ahead + 1) as f64 * state.slope,
            Trend::Damped => {
                damping *= phi;
                damped_sum += damping;
                damped_sum * state.slope
            }
        };
        let season = if fit.spec.seasonal && !state.season.is_empty() {
            state.season[(periods + ahead) % state.season.len()]
        } else {
            0.0
        };
        *slot = if fit.spec.multiplicative {
            (state.level + trend) * season
        } else {
            state.level + trend + season
        };
    }
}

/// `σ_h² / σ²` for `h = 1..=horizon` when the last `gap` periods before the forecast were
/// unknown: `1 + Σ_{j=1}^{gap+h−1} c_j²` with `c_j = α + β·φ_j + γ·[j ≡ 0 mod m]` and `φ_j = j`
/// for an additive trend, `φ + … + φ^j` for a damped one, 0 for none (Hyndman et al. 2008,
/// table 6.1, class 1; *Forecasting: Principles and Practice*, table 8.8).
pub(crate) fn variance_factors(fit: &Fit, gap: usize, horizon: usize) -> Vec<f64> {
    let Params {
        alpha,
        beta,
        gamma,
        phi,
    } = fit.params;
    let mut factors = Vec::with_capacity(horizon);
    let mut total = 1.0;
    let mut damping = 1.0;
    let mut trend_sum = 0.0;
    let steps = gap + horizon;
    for j in 1..steps {
        if j > gap {
            factors.push(total);
        }
        trend_sum += match fit.spec.trend {
            Trend::None => 0.0,
            Trend::Additive => 1.0,
            Trend::Damped => {
                damping *= phi;
                damping
            }
        };
        let seasonal = if fit.spec.seasonal && j % fit.m == 0 {
            gamma
        } else {
            0.0
        };
        let c = alpha + beta * trend_sum + seasonal;
        total += c * c;
    }
    factors.push(total);
    factors
}

/// The forecast of the periods after `values`, with normal intervals `mean ± z·σ_h`.
pub(crate) fn forecast(fit: &Fit, values: &[f64], horizon: usize, z: f64) -> Paths {
    let state = final_state(fit, values);
    let mut mean = vec![0.0; horizon];
    means(fit, &state, values.len(), &mut mean);
    let sd: Vec<f64> = variance_factors(fit, trailing_unknown(values), horizon)
        .into_iter()
        .map(|factor| (fit.sigma2 * factor).sqrt())
        .collect();
    Paths::normal(mean, &sd, z)
}

/// Fits every model that applies and returns the one with the lowest AICc (the simplest among
/// equals). Models with seasons only when `m ≥ 2` and there are two full seasons; every model
/// needs more than five known values beyond its parameters, as in Hyndman's `ets`. Each search
/// starts from the parameters of the model one component simpler (the trend's from no trend,
/// the damped trend's from the undamped, the season's from no season).
pub(crate) fn best_by_aicc(m: usize, values: &[f64]) -> Option<Fit> {
    let known = values.iter().filter(|v| !v.is_nan()).count();
    let positive = values.iter().all(|v| v.is_nan() || *v > 0.0);
    let mut fits: [Option<Fit>; 9] = Default::default();
    for (i, spec) in Spec::ALL.into_iter().enumerate() {
        if known <= least_known(spec, m).saturating_add(3) || (spec.multiplicative && !positive) {
            continue;
        }
        // The simpler relative in `Spec::ALL`: A,N,N ← A,A,N ← A,Ad,N; A,N,N ← A,N,A ← A,A,A ←
        // A,Ad,A; A,N,A ← M,N,M ← M,A,M and M,Ad,M.
        let simpler = match i {
            1 | 3 => Some(0),
            2 => Some(1),
            4 | 6 => Some(3),
            5 => Some(4),
            7 | 8 => Some(6),
            _ => None,
        };
        let near = simpler.and_then(|j| fits[j].as_ref()).map(|fit| fit.params);
        fits[i] = fit_near(spec, m, values, near.as_ref());
    }
    fits.into_iter()
        .flatten()
        .filter(|fit| fit.aicc.is_finite())
        .reduce(|best, fit| if fit.aicc < best.aicc { fit } else { best })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANN: Spec = Spec::new(Trend::None, false);
    const AAN: Spec = Spec::new(Trend::Additive, false);
    const AADN: Spec = Spec::new(Trend::Damped, false);
    const AAA: Spec = Spec::new(Trend::Additive, true);
    const ANA: Spec = Spec::new(Trend::None, true);

    fn fit_with(spec: Spec, m: usize, params: Params, sigma2: f64) -> Fit {
        Fit {
            spec,
            m,
            params,
            initial: State {
                level: 0.0,
                slope: 0.0,
                season: vec![0.0; if spec.seasonal { m } else { 0 }],
            },
            sigma2,
            aicc: 0.0,
        }
    }

    #[test]
    fn simple_exponential_smoothing_matches_a_hand_worked_example() {
        // α = 0.5, l0 = 10, y = 10, 12, 11, 13:
        //   ŷ1 = 10, e1 = 0,  l1 = 10
        //   ŷ2 = 10, e2 = 2,  l2 = 10 + 0.5·2 = 11
        //   ŷ3 = 11, e3 = 0,  l3 = 11
        //   ŷ4 = 11, e4 = 2,  l4 = 12
        // SSE = 0 + 4 + 0 + 4 = 8; every forecast ahead is l4 = 12.
        let params = Params {
            alpha: 0.5,
            beta: 0.0,
            gamma: 0.0,
            phi: 0.0,
        };
        let mut state = State {
            level: 10.0,
            slope: 0.0,
            season: Vec::new(),
        };
        let (sse, known) = run(ANN, &params, &mut state, &[10.0, 12.0, 11.0, 13.0]);
        assert_eq!(known, 4);
        assert!((sse - 8.0).abs() < 1e-12);
        assert!((state.level - 12.0).abs() < 1e-12);
    }

    #[test]
    fn an_unknown_period_moves_the_state_on_without_an_error() {
        // Holt, α = 0.5, β = 0.25, l0 = 10, b0 = 1, y = 12, unknown, 14:
        //   ŷ1 = 11, e1 = 1, l1 = 11.5, b1 = 1.25
        //   period 2 unknown: l2 = 11.5 + 1.25 = 12.75, b2 = 1.25
        //   ŷ3 = 14, e3 = 0, l3 = 14, b3 = 1.25
        // SSE = 1 over 2 known periods.
        let params = Params {
            alpha: 0.5,
            beta: 0.25,
            gamma: 0.0,
            phi: 1.0,
        };
        let mut state = State {
            level: 10.0,
            slope: 1.0,
            season: Vec::new(),
        };
        let (sse, known) = run(AAN, &params, &mut state, &[12.0, f64::NAN, 14.0]);
        assert_eq!(known, 2);
        assert!((sse - 1.0).abs() < 1e-12);
        assert!((state.level - 14.0).abs() < 1e-12);
        assert!((state.slope - 1.25).abs() < 1e-12);
    }

    #[test]
    fn the_least_squares_initial_level_and_slope_match_a_brute_force_search() {
        // For fixed parameters the best initial (level, slope) is the least-squares one: a fine
        // grid around it must not find a smaller SSE, and the solved SSE must equal a direct
        // run from the shifted state.
        let values = [3.0, 4.5, 4.0, 6.0, f64::NAN, 7.5, 8.0, 9.5, 9.0, 11.0];
        let params = Params {
            alpha: 0.3,
            beta: 0.1,
            gamma: 0.0,
            phi: 0.9,
        };
        let initial = State {
            level: 3.0,
            slope: 0.0,
            season: Vec::new(),
        };
        let best = concentrated(AADN, &params, &initial, &mut [], &values);
        let sse_from = |level: f64, slope: f64| {
            let mut state = State {
                level,
                slope,
                season: Vec::new(),
            };
            run(AADN, &params, &mut state, &values).0
        };
        let (level, slope) = (3.0 + best.level_shift, best.slope_shift);
        assert!((sse_from(level, slope) - best.sse).abs() < 1e-9);
        for i in -5..=5 {
            for j in -5..=5 {
                let other = sse_from(level + 0.01 * f64::from(i), slope + 0.01 * f64::from(j));
                assert!(other >= best.sse - 1e-12);
            }
        }
    }

    #[test]
    fn the_variance_of_simple_smoothing_grows_by_alpha_squared_per_step() {
        // ETS(A,N,N): σ_h² = σ²·(1 + α²·(h − 1)); with α = 0.5, σ² = 4:
        // h = 1: 4, h = 2: 4·1.25 = 5, h = 3: 4·1.5 = 6.
        let fit = fit_with(
            ANN,
            1,
            Params {
                alpha: 0.5,
                beta: 0.0,
                gamma: 0.0,
                phi: 0.0,
            },
            4.0,
        );
        let factors = variance_factors(&fit, 0, 3);
        let variances: Vec<f64> = factors.iter().map(|f| 4.0 * f).collect();
        assert_eq!(variances.len(), 3);
        for (got, want) in variances.iter().zip([4.0, 5.0, 6.0]) {
            assert!((got - want).abs() < 1e-12, "{variances:?}");
        }
    }

    #[test]
    fn the_variance_of_holt_matches_the_closed_form() {
        // ETS(A,A,N): σ_h²/σ² = 1 + (h−1)·(α² + αβh + β²h(2h−1)/6). With α = 0.5, β = 0.1:
        // h = 3: 1 + 2·(0.25 + 0.15 + 0.01·3·5/6) = 1 + 2·0.425 = 1.85
        //        (= 1 + c1² + c2² = 1 + 0.6² + 0.7²).
        // After two unknown periods, h = 1 is the third step from the last known value: 1.85.
        let fit = fit_with(
            AAN,
            1,
            Params {
                alpha: 0.5,
                beta: 0.1,
                gamma: 0.0,
                phi: 1.0,
            },
            1.0,
        );
        let factors = variance_factors(&fit, 0, 3);
        assert!((factors[2] - 1.85).abs() < 1e-12);
        let after_gap = variance_factors(&fit, 2, 1);
        assert!((after_gap[0] - 1.85).abs() < 1e-12);
    }

    #[test]
    fn the_variance_of_a_seasonal_model_adds_gamma_once_a_season_has_passed() {
        // ETS(A,N,A), m = 2, α = 0.2, γ = 0.3: c_1 = 0.2, c_2 = 0.5, c_3 = 0.2.
        // σ_4²/σ² = 1 + 0.04 + 0.25 + 0.04 = 1.33.
        let fit = fit_with(
            ANA,
            2,
            Params {
                alpha: 0.2,
                beta: 0.0,
                gamma: 0.3,
                phi: 0.0,
            },
            1.0,
        );
        let factors = variance_factors(&fit, 0, 4);
        for (got, want) in factors.iter().zip([1.0, 1.04, 1.29, 1.33]) {
            assert!((got - want).abs() < 1e-12, "{factors:?}");
        }
    }

    #[test]
    fn the_decomposition_recovers_the_level_slope_and_season_of_a_clean_series() {
        // y_t = 10 + 0.5·t + s[t % 4], s = (3, −1, −4, 2) (sums to 0). A centred 2×4 moving
        // average of a line is the line, so the detrended values are exactly s; the first
        // season's mean is 10 + 0.5·1.5 = 10.75 and the seasons' means differ by 0.5·4 = 2.
        let s = [3.0, -1.0, -4.0, 2.0];
        let values: Vec<f64> = (0..24).map(|t| 10.0 + 0.5 * t as f64 + s[t % 4]).collect();
        let state = initial_state(AAA, 4, &values);
        for (got, want) in state.season.iter().zip(s) {
            assert!((got - want).abs() < 1e-12, "{:?}", state.season);
        }
        assert!((state.level - 10.75).abs() < 1e-12);
        assert!((state.slope - 0.5).abs() < 1e-12);
    }

    #[test]
    fn fitting_a_noise_free_line_with_holt_forecasts_the_line() {
        // y_t = 2 + 0.25·t for t = 0..30: any α, β fit exactly once the initial state is
        // solved (l0 = 1.75, b0 = 0.25), and h steps on the forecast is 2 + 0.25·(29 + h).
        let values: Vec<f64> = (0..30).map(|t| 2.0 + 0.25 * t as f64).collect();
        let fit = fit(AAN, 1, &values).unwrap();
        let mut out = [0.0; 5];
        point(&fit, &values, &mut out);
        for (h, got) in out.iter().enumerate() {
            let want = 2.0 + 0.25 * (30 + h) as f64;
            assert!((got - want).abs() < 1e-6, "{out:?}");
        }
    }
}
