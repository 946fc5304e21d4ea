//! The naive and seasonal naive methods.
//!
//! The seasonal naive forecast of a period is the last value of the same position in the cycle;
//! with season length 1 it is the naive method (the last value). An unknown value is replaced by
//! the one a season before it (the last known value when there is none), so a forecast always
//! rests on a known value, perhaps from further back.
//!
//! Intervals treat the series as a seasonal random walk (*Forecasting: Principles and Practice*,
//! section 5.5): a value `k` seasons after the known value it repeats has variance `k·σ²`, so
//! `σ_h = σ·√(⌊(h−1)/m⌋ + 1)` (naive: `σ·√h`). `σ²` is estimated from the in-sample errors of
//! the method, each squared error divided by the seasons it spans.

use super::Paths;

/// For each period, the index of the known value standing in for it: itself when known, else
/// that of the period a season before, else that of the period before (the first value is known).
fn sources(values: &[f64], m: usize) -> Vec<usize> {
    let mut sources = Vec::with_capacity(values.len());
    for (t, value) in values.iter().enumerate() {
        let source = if !value.is_nan() {
            t
        } else if t >= m {
            sources[t - m]
        } else if t > 0 {
            sources[t - 1]
        } else {
            0
        };
        sources.push(source);
    }
    sources
}

/// The index of the value the forecast `ahead` periods after the end (from 0) repeats, and how
/// many seasons (periods, when `m` is 1) it lies before the forecast period.
fn origin(sources: &[usize], m: usize, ahead: usize) -> (usize, usize) {
    let n = sources.len();
    let base = if m <= n {
        n - m + ahead % m
    } else {
        n.saturating_sub(1)
    };
    let source = sources.get(base).copied().unwrap_or(0);
    let target = n + ahead;
    let step = m.min(n).max(1);
    (source, (target - source).div_ceil(step))
}

/// Point forecasts for the periods after `values`, filling `out`. A season longer than the
/// history falls back to the naive method.
pub(crate) fn point(values: &[f64], m: usize, out: &mut [f64]) {
    let m = if m <= values.len() { m.max(1) } else { 1 };
    let sources = sources(values, m);
    for (ahead, slot) in out.iter_mut().enumerate() {
        let (source, _) = origin(&sources, m, ahead);
        *slot = values.get(source).copied().unwrap_or(0.0);
    }
}

/// The one-step error variance, each error `y_t − y_source` divided by the seasons between.
fn sigma2(values: &[f64], sources: &[usize], m: usize) -> f64 {
    let mut total = 0.0;
    let mut count = 0;
    for (t, &y) in values.iter().enumerate() {
        if y.is_nan() || t < m {
            continue;
        }
        let source = sources[t - m];
        let seasons = (t - source).div_ceil(m);
        if seasons == 0 {
            continue;
        }
        let error = y - values[source];
        total += error * error / seasons as f64;
        count += 1;
    }
    if count > 0 { total / count as f64 } else { 0.0 }
}

/// The forecast for `horizon` periods after `values`, with normal intervals `mean ± z·σ_h`.
pub(crate) fn forecast(values: &[f64], m: usize, horizon: usize, z: f64) -> Paths {
    let m = if m <= values.len() { m.max(1) } else { 1 };
    let sources = sources(values, m);
    let sigma2 = sigma2(values, &sources, m);
    let mut mean = Vec::with_capacity(horizon);
    let mut sd = Vec::with_capacity(horizon);
    for ahead in 0..horizon {
        let (source, seasons) = origin(&sources, m, ahead);
        mean.push(values.get(source).copied().unwrap_or(0.0));
        sd.push((sigma2 * seasons as f64).sqrt());
    }
    Paths::normal(mean, &sd, z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seasonal_naive_forecast_repeats_the_last_season() {
        // m = 3, last season 4, 5, 6: forecasts 4, 5, 6, 4, 5.
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut out = [0.0; 5];
        point(&values, 3, &mut out);
        assert_eq!(out, [4.0, 5.0, 6.0, 4.0, 5.0]);
    }

    #[test]
    fn an_unknown_value_is_replaced_by_the_one_a_season_before() {
        // m = 3; the last season's middle value is unknown, so the 2 of the season before
        // stands in: forecasts 4, 2, 6.
        let values = [1.0, 2.0, 3.0, 4.0, f64::NAN, 6.0];
        let mut out = [0.0; 3];
        point(&values, 3, &mut out);
        assert_eq!(out, [4.0, 2.0, 6.0]);
        // Naive: the last known value, 5, when the last is unknown.
        let mut out = [0.0; 2];
        point(&[3.0, 5.0, f64::NAN], 1, &mut out);
        assert_eq!(out, [5.0, 5.0]);
    }

    #[test]
    fn naive_intervals_widen_with_the_square_root_of_the_horizon() {
        // y = 0, 1, 3, 2, 4: one-step errors 1, 2, −1, 2, σ² = (1 + 4 + 1 + 4)/4 = 2.5.
        // z = 1: h = 1 → 4 ± √2.5, h = 4 → 4 ± 2·√2.5.
        let paths = forecast(&[0.0, 1.0, 3.0, 2.0, 4.0], 1, 4, 1.0);
        let s = 2.5_f64.sqrt();
        assert!((paths.upper[0] - (4.0 + s)).abs() < 1e-12);
        assert!((paths.lower[3] - (4.0 - 2.0 * s)).abs() < 1e-12);
    }

    #[test]
    fn seasonal_naive_intervals_widen_once_per_season() {
        // m = 2, y = 1, 2, 2, 4, 3, 4: errors over a season 1, 2, 1, 0; σ² = 6/4 = 1.5.
        // z = 1: h = 1, 2 → σ; h = 3, 4 → σ·√2.
        let paths = forecast(&[1.0, 2.0, 2.0, 4.0, 3.0, 4.0], 2, 4, 1.0);
        let s = 1.5_f64.sqrt();
        let widths: Vec<f64> = paths
            .upper
            .iter()
            .zip(&paths.mean)
            .map(|(u, m)| u - m)
            .collect();
        for (got, want) in widths.iter().zip([s, s, s * 2f64.sqrt(), s * 2f64.sqrt()]) {
            assert!((got - want).abs() < 1e-12, "{widths:?}");
        }
    }

    #[test]
    fn the_error_across_an_unknown_value_counts_for_the_periods_it_spans() {
        // Naive, y = 2, unknown, 4: one error of 2 over two periods, σ² = 4/2 = 2. The last
        // value is known, so h = 1 has σ = √2.
        let paths = forecast(&[2.0, f64::NAN, 4.0], 1, 1, 1.0);
        assert!((paths.upper[0] - (4.0 + 2f64.sqrt())).abs() < 1e-12);
    }

    #[test]
    fn a_season_longer_than_the_history_falls_back_to_the_last_value() {
        let mut out = [0.0; 2];
        point(&[1.0, 2.0], 5, &mut out);
        assert_eq!(out, [2.0, 2.0]);
    }
}
