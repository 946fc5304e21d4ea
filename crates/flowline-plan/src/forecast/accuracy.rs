//! Accuracy of forecasts against actuals.
//!
//! Each measure is `None` when it is undefined: slices of different lengths or empty, a zero
//! denominator, or a result that is not a finite number (a NaN or infinite input).

/// Weighted absolute percentage error: `Σ|a − f| / Σ|a|`.
pub fn wape(actual: &[f64], forecast: &[f64]) -> Option<f64> {
    if actual.len() != forecast.len() || actual.is_empty() {
        return None;
    }
    let error: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| (a - f).abs())
        .sum();
    let total: f64 = actual.iter().map(|a| a.abs()).sum();
    finite(error / nonzero(total)?)
}

/// Mean absolute scaled error (Hyndman and Koehler 2006): the mean absolute error of the
/// forecast over the mean absolute error of the seasonal naive method in sample,
/// `mean|a − f| / mean_{t ≥ m}|x_t − x_{t−m}|` for the in-sample series `x` and season length
/// `m` (1 for the naive method).
pub fn mase(
    actual: &[f64],
    forecast: &[f64],
    insample: &[f64],
    season_length: usize,
) -> Option<f64> {
    if actual.len() != forecast.len()
        || actual.is_empty()
        || season_length == 0
        || insample.len() <= season_length
    {
        return None;
    }
    let error = actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| (a - f).abs())
        .sum::<f64>()
        / actual.len() as f64;
    let scale = insample
        .iter()
        .zip(&insample[season_length..])
        .map(|(before, after)| (after - before).abs())
        .sum::<f64>()
        / (insample.len() - season_length) as f64;
    finite(error / nonzero(scale)?)
}

/// Bias: `Σ(f − a) / Σa`, positive when the forecast is too high.
pub fn bias(actual: &[f64], forecast: &[f64]) -> Option<f64> {
    if actual.len() != forecast.len() || actual.is_empty() {
        return None;
    }
    let error: f64 = actual.iter().zip(forecast).map(|(a, f)| f - a).sum();
    let total: f64 = actual.iter().sum();
    finite(error / nonzero(total)?)
}

fn nonzero(value: f64) -> Option<f64> {
    (value != 0.0).then_some(value)
}

fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wape_is_the_absolute_error_over_the_actual_total() {
        // a = 10, 20, 30; f = 12, 18, 33: |−2| + |2| + |−3| = 7; Σa = 60 → 7/60.
        let got = wape(&[10.0, 20.0, 30.0], &[12.0, 18.0, 33.0]).unwrap();
        assert!((got - 7.0 / 60.0).abs() < 1e-15);
    }

    #[test]
    fn mase_scales_by_the_in_sample_seasonal_naive_error() {
        // In sample x = 1, 2, 3, 5, 4, 6 with m = 2: |3−1|, |5−2|, |4−3|, |6−5| = 2, 3, 1, 1,
        // scale = 7/4 = 1.75. Out of sample a = 7, 8; f = 6, 8.5: mean error (1 + 0.5)/2 = 0.75.
        // MASE = 0.75/1.75 = 3/7.
        let got = mase(&[7.0, 8.0], &[6.0, 8.5], &[1.0, 2.0, 3.0, 5.0, 4.0, 6.0], 2).unwrap();
        assert!((got - 3.0 / 7.0).abs() < 1e-15);
        // m = 1: |1|, |1|, |2|, |1|, |2| → scale 7/5; MASE = 0.75/1.4 = 15/28.
        let got = mase(&[7.0, 8.0], &[6.0, 8.5], &[1.0, 2.0, 3.0, 5.0, 4.0, 6.0], 1).unwrap();
        assert!((got - 15.0 / 28.0).abs() < 1e-15);
    }

    #[test]
    fn bias_is_the_signed_error_over_the_actual_total() {
        // a = 10, 20, 30; f = 12, 18, 33: (2 − 2 + 3)/60 = 0.05, too high.
        let got = bias(&[10.0, 20.0, 30.0], &[12.0, 18.0, 33.0]).unwrap();
        assert!((got - 0.05).abs() < 1e-15);
        // f = 9, 19, 29: −3/60 = −0.05, too low.
        let got = bias(&[10.0, 20.0, 30.0], &[9.0, 19.0, 29.0]).unwrap();
        assert!((got + 0.05).abs() < 1e-15);
    }

    #[test]
    fn undefined_measures_are_none() {
        assert_eq!(wape(&[1.0], &[1.0, 2.0]), None);
        assert_eq!(wape(&[], &[]), None);
        assert_eq!(wape(&[0.0, 0.0], &[1.0, 2.0]), None);
        assert_eq!(bias(&[0.0], &[1.0]), None);
        // A flat in-sample series has no naive error to scale by.
        assert_eq!(mase(&[1.0], &[2.0], &[3.0, 3.0, 3.0], 1), None);
        assert_eq!(mase(&[1.0], &[2.0], &[3.0, 4.0], 0), None);
        assert_eq!(mase(&[1.0], &[2.0], &[3.0, 4.0], 2), None);
        assert_eq!(wape(&[1.0], &[f64::NAN]), None);
    }
}
