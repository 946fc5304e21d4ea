//! Forecast accuracy: MAPE, WAPE, bias, MAE and accuracy (SCOR-METRICS §9.9, worked example
//! K-2).
//!
//! For forecasts `F_t` made at one lag for actual demand `A_t`:
//! - `MAPE = (1/n) Σ |F_t − A_t| / A_t` over periods with `A_t > 0`; periods with zero actual
//!   demand are skipped and counted, because MAPE is undefined there;
//! - `WAPE = Σ |F_t − A_t| / Σ A_t` and accuracy `= max(0, 1 − WAPE)`;
//! - `bias = (Σ F_t − Σ A_t) / Σ A_t`, positive when over-forecasting;
//! - `MAE = Σ |F_t − A_t| / n`.
//!
//! Accuracy at a higher aggregation is always better and not comparable, so every result
//! carries the [`ForecastScope`] it was measured at.
//!
//! Unlike the scorecard's figures this is not folded from events: no forecast is recorded in
//! the log yet. Planning will choose and watch its forecasting models by these measures, so they
//! are kept here as a pure calculator over `(forecast, actual)` points.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::value::{Coverage, MetricValue, Ratio, Unit};

/// Why forecast accuracy could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForecastError {
    /// A figure does not fit in 128 bits.
    Overflow,
}

impl fmt::Display for ForecastError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Overflow => write!(formatter, "a figure does not fit in 128 bits"),
        }
    }
}

impl std::error::Error for ForecastError {}

/// A count as a population; counts of points in memory always fit in u64.
fn count(length: usize) -> u64 {
    u64::try_from(length).unwrap_or(u64::MAX)
}

/// Scale of MAPE terms when their exact common denominator would not fit in 128 bits.
const ROUNDED_TERM_SCALE: i128 = 1_000_000_000_000_000_000;

/// What was forecast, and how: results at different scopes are not comparable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForecastScope {
    /// The forecast version published.
    pub forecast_version: String,
    /// Periods between publishing the forecast and the period forecast.
    pub lag_periods: u32,
    /// The level of aggregation ("SKU × location × week").
    pub level: String,
}

/// One period's forecast and actual demand, in units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForecastPoint {
    /// Units forecast.
    pub forecast_units: u64,
    /// Units actually demanded.
    pub actual_units: u64,
}

/// Whether MAPE is the exact mean or a mean of rounded terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapePrecision {
    /// The exact rational mean.
    Exact,
    /// Each term `|F − A| / A` rounded half to even to 10⁻¹⁸, because the exact common
    /// denominator of many different actuals did not fit in 128 bits. The displayed value is
    /// unaffected.
    TermsRoundedTo18Places,
}

/// Forecast accuracy measures over the same points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastAccuracy {
    /// The scope measured.
    pub scope: ForecastScope,
    /// Mean absolute percentage error (`ops.forecast_mape`); population = periods with
    /// non-zero actual demand, coverage says how many were skipped.
    pub mape: MetricValue,
    /// Whether [`Self::mape`] is exact.
    pub mape_precision: MapePrecision,
    /// Periods skipped by MAPE because actual demand was zero.
    pub zero_actuals_skipped: u64,
    /// Weighted absolute percentage error (`ops.forecast_wape`).
    pub wape: MetricValue,
    /// Bias (`ops.forecast_bias`), positive when over-forecasting.
    pub bias: MetricValue,
    /// Mean absolute error in units (`ops.forecast_mae`).
    pub mean_absolute_error: MetricValue,
    /// `max(0, 1 − WAPE)` (`ops.forecast_accuracy`).
    pub accuracy: MetricValue,
}

/// Forecast accuracy over `points`; no points (or no actual demand, for the ratios over
/// Σ A) is no data.
pub fn forecast_accuracy(
    scope: ForecastScope,
    points: &[ForecastPoint],
) -> Result<ForecastAccuracy, ForecastError> {
    let population = count(points.len());
    let mut absolute_error: i128 = 0;
    let mut forecast: i128 = 0;
    let mut actual: i128 = 0;
    let mut percentage_terms: Vec<(i128, i128)> = Vec::with_capacity(points.len());
    for point in points {
        let point_forecast = i128::from(point.forecast_units);
        let point_actual = i128::from(point.actual_units);
        let error = (point_forecast - point_actual).abs();
        // Sums of u64 values cannot reach 2¹²⁷ with fewer than 2⁶³ points.
        absolute_error += error;
        forecast += point_forecast;
        actual += point_actual;
        if point_actual > 0 {
            percentage_terms.push((error, point_actual));
        }
    }
    let judged = count(percentage_terms.len());
    let zero_actuals_skipped = population - judged;
    let (mape_ratio, mape_precision) = match exact_mean(&percentage_terms) {
        Some(ratio) => (ratio, MapePrecision::Exact),
        None => (
            rounded_mean(&percentage_terms)?,
            MapePrecision::TermsRoundedTo18Places,
        ),
    };
    let note = match zero_actuals_skipped {
        0 => String::new(),
        1 => "1 period had zero actual demand".to_string(),
        skipped => format!("{skipped} periods had zero actual demand"),
    };
    Ok(ForecastAccuracy {
        mape: MetricValue::new("ops.forecast_mape", mape_ratio, Unit::Percent, judged).covering(
            Coverage {
                judged,
                candidates: population,
                note,
            },
        ),
        mape_precision,
        zero_actuals_skipped,
        wape: MetricValue::new(
            "ops.forecast_wape",
            Ratio::new(absolute_error, actual),
            Unit::Percent,
            population,
        ),
        bias: MetricValue::new(
            "ops.forecast_bias",
            Ratio::new(forecast - actual, actual),
            Unit::Percent,
            population,
        ),
        mean_absolute_error: MetricValue::new(
            "ops.forecast_mae",
            Ratio::new(absolute_error, i128::from(population)),
            Unit::Number,
            population,
        ),
        accuracy: MetricValue::new(
            "ops.forecast_accuracy",
            Ratio::new((actual - absolute_error).max(0), actual),
            Unit::Percent,
            population,
        ),
        scope,
    })
}

/// `(1/n) Σ a/b` as an exact reduced ratio, or `None` when a denominator would not fit in
/// 128 bits. No terms is no data.
fn exact_mean(terms: &[(i128, i128)]) -> Option<Ratio> {
    if terms.is_empty() {
        return Some(Ratio::new(0, 0));
    }
    let (mut numerator, mut denominator): (i128, i128) = (0, 1);
    for (term_numerator, term_denominator) in terms {
        let common = greatest_common_divisor(denominator, *term_denominator);
        let sum_denominator = (denominator / common).checked_mul(*term_denominator)?;
        let sum_numerator = numerator
            .checked_mul(term_denominator / common)?
            .checked_add(term_numerator.checked_mul(denominator / common)?)?;
        let reduce = greatest_common_divisor(sum_numerator, sum_denominator);
        numerator = sum_numerator / reduce;
        denominator = sum_denominator / reduce;
    }
    let terms_count = i128::try_from(terms.len()).ok()?;
    let denominator = denominator.checked_mul(terms_count)?;
    let reduce = greatest_common_divisor(numerator, denominator);
    Some(Ratio::new(numerator / reduce, denominator / reduce))
}

/// `(1/n) Σ a/b` with each term rounded half to even to 10⁻¹⁸.
fn rounded_mean(terms: &[(i128, i128)]) -> Result<Ratio, ForecastError> {
    let mut sum: i128 = 0;
    for (numerator, denominator) in terms {
        let scaled = numerator
            .checked_mul(ROUNDED_TERM_SCALE)
            .ok_or(ForecastError::Overflow)?;
        let quotient = scaled / denominator;
        let twice_remainder = (scaled % denominator) * 2;
        let rounded = if twice_remainder > *denominator
            || (twice_remainder == *denominator && quotient % 2 == 1)
        {
            quotient + 1
        } else {
            quotient
        };
        sum = sum.checked_add(rounded).ok_or(ForecastError::Overflow)?;
    }
    let terms_count = i128::try_from(terms.len()).map_err(|_| ForecastError::Overflow)?;
    let denominator = ROUNDED_TERM_SCALE
        .checked_mul(terms_count)
        .ok_or(ForecastError::Overflow)?;
    Ok(Ratio::new(sum, denominator))
}

/// Greatest common divisor of the magnitudes; 1 when both are zero, so dividing by it is safe.
fn greatest_common_divisor(left: i128, right: i128) -> i128 {
    let (mut left, mut right) = (left.unsigned_abs(), right.unsigned_abs());
    while right != 0 {
        (left, right) = (right, left % right);
    }
    // Only gcd(i128::MIN, i128::MIN) = 2¹²⁷ does not fit back; 1 is still a safe divisor.
    i128::try_from(left)
        .ok()
        .filter(|gcd| *gcd != 0)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> ForecastScope {
        ForecastScope {
            forecast_version: "2025-W10".into(),
            lag_periods: 1,
            level: "SKU × location × week".into(),
        }
    }

    fn points(pairs: &[(u64, u64)]) -> Vec<ForecastPoint> {
        pairs
            .iter()
            .map(|(actual, forecast)| ForecastPoint {
                forecast_units: *forecast,
                actual_units: *actual,
            })
            .collect()
    }

    #[test]
    fn worked_example_k2_manning_forecast_accuracy() {
        // Manning, "Demand Forecasting Best Practices": A = (10, 5, 8, 10), F = (15, 12, 5, 8).
        // |F − A| = (5, 7, 3, 2): Σ = 17; Σ A = 33; Σ F = 40.
        // MAPE = (5/10 + 7/5 + 3/8 + 2/10) / 4 = (20 + 56 + 15 + 8)/40 / 4 = 99/160 = 61.875 %
        // WAPE = 17/33 = 51.52 %; bias = (40 − 33)/33 = 7/33 = +21.21 %
        // MAE = 17/4 = 4.25 units; accuracy = 1 − 17/33 = 16/33 = 48.48 %
        let accuracy =
            forecast_accuracy(scope(), &points(&[(10, 15), (5, 12), (8, 5), (10, 8)])).unwrap();
        assert_eq!(accuracy.mape.ratio, Ratio::new(99, 160));
        assert_eq!(accuracy.mape.value, Some(61.875));
        assert_eq!(accuracy.mape_precision, MapePrecision::Exact);
        assert_eq!(accuracy.zero_actuals_skipped, 0);
        assert_eq!(accuracy.wape.ratio, Ratio::new(17, 33));
        assert_eq!(accuracy.wape.describe("USD"), "51.52 % (17 of 33)");
        assert_eq!(accuracy.bias.ratio, Ratio::new(7, 33));
        assert_eq!(accuracy.bias.describe("USD"), "21.21 % (7 of 33)");
        assert_eq!(accuracy.mean_absolute_error.ratio, Ratio::new(17, 4));
        assert_eq!(accuracy.mean_absolute_error.value, Some(4.25));
        assert_eq!(accuracy.accuracy.ratio, Ratio::new(16, 33));
        assert_eq!(accuracy.scope.lag_periods, 1);
    }

    #[test]
    fn zero_actuals_are_skipped_by_mape_and_counted() {
        // A = (10, 0), F = (15, 4). MAPE skips the zero actual: 5/10 = 50 % over 1 period;
        // WAPE keeps it: (5 + 4) / 10 = 90 %.
        let accuracy = forecast_accuracy(scope(), &points(&[(10, 15), (0, 4)])).unwrap();
        assert_eq!(accuracy.mape.ratio, Ratio::new(1, 2));
        assert_eq!(accuracy.zero_actuals_skipped, 1);
        assert_eq!(accuracy.mape.population, 1);
        assert_eq!(
            accuracy.mape.describe("USD"),
            "50.00 % (1 of 2; 1 period had zero actual demand)"
        );
        assert_eq!(accuracy.wape.ratio, Ratio::new(9, 10));
        // Under-forecasting gives a negative bias: A = 10, F = 2 → (2 − 10)/10 = −80 %.
        let under = forecast_accuracy(scope(), &points(&[(10, 2)])).unwrap();
        assert_eq!(under.bias.ratio, Ratio::new(-8, 10));
        // WAPE above 100 % clamps accuracy at zero.
        let wild = forecast_accuracy(scope(), &points(&[(10, 40)])).unwrap();
        assert_eq!(wild.accuracy.ratio, Ratio::new(0, 10));
        assert_eq!(forecast_accuracy(scope(), &[]).unwrap().wape.value, None);
    }

    #[test]
    fn mape_falls_back_to_rounded_terms_when_the_exact_denominator_overflows() {
        // Actuals that are distinct large primes make the exact common denominator their
        // product, far beyond 2¹²⁷.
        let primes = [
            1_000_000_007_u64,
            1_000_000_009,
            1_000_000_021,
            1_000_000_033,
            1_000_000_087,
        ];
        let pairs: Vec<(u64, u64)> = primes.iter().map(|prime| (*prime, prime + 1)).collect();
        let accuracy = forecast_accuracy(scope(), &points(&pairs)).unwrap();
        assert_eq!(
            accuracy.mape_precision,
            MapePrecision::TermsRoundedTo18Places
        );
        let expected: f64 = primes.iter().map(|prime| 1.0 / *prime as f64).sum::<f64>() / 5.0;
        let shown = accuracy.mape.ratio.quotient().unwrap();
        assert!((shown - expected).abs() < 1e-17);
    }
}
