//! Demand forecasts with automatic model choice and prediction intervals.
//!
//! [`forecast`] takes one series (one value per period, oldest first, `None` where demand is
//! unknown) and chooses among:
//!
//! - the seasonal naive method (the naive method when there is no season), the baseline;
//! - the exponential smoothing state-space model that has the lowest AICc among those with
//!   additive errors (trend none, additive or additive damped; season none or additive) and,
//!   for strictly positive series with a season, those with multiplicative errors and season
//!   (trend none, additive or additive damped), its smoothing parameters estimated by maximum
//!   likelihood with a bounded Nelder-Mead search; for additive seasons its initial level and
//!   slope by least squares at each step, for multiplicative ones its initial level, slope and
//!   seasons by Gauss-Newton on the likelihood once the parameters are found;
//! - Croston's method, the Syntetos-Boylan approximation and the Teunter-Syntetos-Babai method
//!   when demand is intermittent (average demand interval above 1.32).
//!
//! The candidates are compared by a rolling-origin backtest over the end of the history, by mean
//! squared error (a forecast's `mean` is meant to be the expected demand, which squared error
//! rewards; absolute error would reward forecasting zero for intermittent demand). The
//! exponential smoothing model stays the choice unless another candidate wins the backtest
//! clearly (by a fifth of its squared error). The choice is refitted on the whole history and
//! gives the forecast and its interval.
//!
//! Daily series (season length 7) that are not intermittent and hold two years and more of
//! known days (800 at least; see `yearly.rs`) may have a yearly cycle as well as the weekly one,
//! such as a November-December peak. For them the choice has one more candidate, in the manner
//! of MSTL: a smooth multiplicative yearly profile (six harmonics of a 365.25-day year, fitted
//! to weekly ratios of demand to its 365-day moving average, shrunk toward 1 by their noise and
//! when the history spans under three years) divides the history; the exponential smoothing
//! model of the AICc choice is refitted on the adjusted series, and its forecast and interval
//! are multiplied back by the profile of each day ahead. The profile's days are counted from
//! the first known day, a year being 365.25 days, so leap years need no calendar. It replaces
//! the plain model only when its backtest error is below 0.95 times the plain one's, and the
//! model's name then ends in `+Y` (`ETS(A,N,A)+Y`). Shorter histories, other season lengths and
//! intermittent demand are forecast as before, to the bit.
//!
//! Unknown periods (`None`, such as stock-out days on which demand was censored) are skipped:
//! they neither count as zero demand nor pull the forecast down. Forecasts, and the lower bounds
//! of intervals, are never below zero.
//!
//! [`forecast_with`] forecasts with one given model; [`accuracy`] scores forecasts against
//! actuals.

pub mod accuracy;
mod ets;
mod intermittent;
mod naive;
mod normal;
mod optimize;
pub mod reconcile;
mod select;
mod start;
mod yearly;

#[cfg(test)]
mod tests;

use std::fmt;

/// The longest forecast horizon accepted: ten years of daily periods.
pub const MAX_HORIZON: usize = 3_660;

/// What to forecast and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Periods ahead to forecast (1..=MAX_HORIZON).
    pub horizon: usize,
    /// Length of the seasonal cycle in periods: 7 for daily data with a weekly cycle, 52 for
    /// weekly data; 1 for none.
    pub season_length: usize,
    /// Coverage of the prediction interval, e.g. 0.8.
    pub level: f64,
}

/// A forecast: the model chosen and, for each period ahead, the mean and the interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Forecast {
    /// The model that made the forecast.
    pub model: Model,
    /// Expected demand of each period ahead, from the first period after the history on.
    pub mean: Vec<f64>,
    /// Lower bound of each period's prediction interval (never below zero).
    pub lower: Vec<f64>,
    /// Upper bound of each period's prediction interval.
    pub upper: Vec<f64>,
}

/// The models. `Display` (and the serialized form) gives a short stable name used in CSV
/// output; [`std::str::FromStr`] reads it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Model {
    /// The last known value, for every period ahead.
    #[serde(rename = "Naive")]
    Naive,
    /// The last known value of the same season position.
    #[serde(rename = "SeasonalNaive")]
    SeasonalNaive,
    /// Simple exponential smoothing: additive errors, no trend, no season.
    #[serde(rename = "ETS(A,N,N)")]
    EtsAnn,
    /// Holt's linear trend: additive errors, additive trend, no season.
    #[serde(rename = "ETS(A,A,N)")]
    EtsAan,
    /// Damped trend: additive errors, additive damped trend, no season.
    #[serde(rename = "ETS(A,Ad,N)")]
    EtsAadN,
    /// Additive errors, no trend, additive season.
    #[serde(rename = "ETS(A,N,A)")]
    EtsAna,
    /// Additive Holt-Winters: additive errors, additive trend, additive season.
    #[serde(rename = "ETS(A,A,A)")]
    EtsAaa,
    /// Damped Holt-Winters: additive errors, additive damped trend, additive season.
    #[serde(rename = "ETS(A,Ad,A)")]
    EtsAadA,
    /// Multiplicative errors, no trend, multiplicative season (strictly positive series only).
    #[serde(rename = "ETS(M,N,M)")]
    EtsMnm,
    /// Multiplicative errors, additive trend, multiplicative season (strictly positive series
    /// only).
    #[serde(rename = "ETS(M,A,M)")]
    EtsMam,
    /// Multiplicative errors, additive damped trend, multiplicative season (strictly positive
    /// series only).
    #[serde(rename = "ETS(M,Ad,M)")]
    EtsMadM,
    /// ETS(A,N,N) of the series divided by its yearly profile, the forecast multiplied back
    /// (daily series with a weekly season and two years of history; see the module doc). Each
    /// exponential smoothing model has such a variant, named with `+Y`.
    #[serde(rename = "ETS(A,N,N)+Y")]
    EtsAnnY,
    /// ETS(A,A,N) with a yearly profile.
    #[serde(rename = "ETS(A,A,N)+Y")]
    EtsAanY,
    /// ETS(A,Ad,N) with a yearly profile.
    #[serde(rename = "ETS(A,Ad,N)+Y")]
    EtsAadNY,
    /// ETS(A,N,A) with a yearly profile.
    #[serde(rename = "ETS(A,N,A)+Y")]
    EtsAnaY,
    /// ETS(A,A,A) with a yearly profile.
    #[serde(rename = "ETS(A,A,A)+Y")]
    EtsAaaY,
    /// ETS(A,Ad,A) with a yearly profile.
    #[serde(rename = "ETS(A,Ad,A)+Y")]
    EtsAadAY,
    /// ETS(M,N,M) with a yearly profile.
    #[serde(rename = "ETS(M,N,M)+Y")]
    EtsMnmY,
    /// ETS(M,A,M) with a yearly profile.
    #[serde(rename = "ETS(M,A,M)+Y")]
    EtsMamY,
    /// ETS(M,Ad,M) with a yearly profile.
    #[serde(rename = "ETS(M,Ad,M)+Y")]
    EtsMadMY,
    /// Croston's method for intermittent demand (smoothing constant 0.1).
    #[serde(rename = "Croston")]
    Croston,
    /// The Syntetos-Boylan approximation: Croston's forecast times `1 - alpha / 2`.
    #[serde(rename = "SBA")]
    Sba,
    /// The Teunter-Syntetos-Babai method: demand probability and size smoothed separately.
    #[serde(rename = "TSB")]
    Tsb,
}

impl Model {
    /// Every model, in a fixed order.
    pub const ALL: [Model; 23] = [
        Model::Naive,
        Model::SeasonalNaive,
        Model::EtsAnn,
        Model::EtsAan,
        Model::EtsAadN,
        Model::EtsAna,
        Model::EtsAaa,
        Model::EtsAadA,
        Model::EtsMnm,
        Model::EtsMam,
        Model::EtsMadM,
        Model::EtsAnnY,
        Model::EtsAanY,
        Model::EtsAadNY,
        Model::EtsAnaY,
        Model::EtsAaaY,
        Model::EtsAadAY,
        Model::EtsMnmY,
        Model::EtsMamY,
        Model::EtsMadMY,
        Model::Croston,
        Model::Sba,
        Model::Tsb,
    ];

    /// The short stable name: "Naive", "SeasonalNaive", "ETS(A,N,N)", ..., "ETS(A,N,N)+Y", ...,
    /// "Croston", "SBA", "TSB".
    pub fn name(self) -> &'static str {
        match self {
            Model::Naive => "Naive",
            Model::SeasonalNaive => "SeasonalNaive",
            Model::EtsAnn => "ETS(A,N,N)",
            Model::EtsAan => "ETS(A,A,N)",
            Model::EtsAadN => "ETS(A,Ad,N)",
            Model::EtsAna => "ETS(A,N,A)",
            Model::EtsAaa => "ETS(A,A,A)",
            Model::EtsAadA => "ETS(A,Ad,A)",
            Model::EtsMnm => "ETS(M,N,M)",
            Model::EtsMam => "ETS(M,A,M)",
            Model::EtsMadM => "ETS(M,Ad,M)",
            Model::EtsAnnY => "ETS(A,N,N)+Y",
            Model::EtsAanY => "ETS(A,A,N)+Y",
            Model::EtsAadNY => "ETS(A,Ad,N)+Y",
            Model::EtsAnaY => "ETS(A,N,A)+Y",
            Model::EtsAaaY => "ETS(A,A,A)+Y",
            Model::EtsAadAY => "ETS(A,Ad,A)+Y",
            Model::EtsMnmY => "ETS(M,N,M)+Y",
            Model::EtsMamY => "ETS(M,A,M)+Y",
            Model::EtsMadMY => "ETS(M,Ad,M)+Y",
            Model::Croston => "Croston",
            Model::Sba => "SBA",
            Model::Tsb => "TSB",
        }
    }

    /// Whether the model divides a yearly profile out of the series (a `+Y` model).
    pub fn yearly(self) -> bool {
        self.without_yearly() != self
    }

    /// The model without its yearly profile (the model itself when it has none).
    pub fn without_yearly(self) -> Model {
        match self {
            Model::EtsAnnY => Model::EtsAnn,
            Model::EtsAanY => Model::EtsAan,
            Model::EtsAadNY => Model::EtsAadN,
            Model::EtsAnaY => Model::EtsAna,
            Model::EtsAaaY => Model::EtsAaa,
            Model::EtsAadAY => Model::EtsAadA,
            Model::EtsMnmY => Model::EtsMnm,
            Model::EtsMamY => Model::EtsMam,
            Model::EtsMadMY => Model::EtsMadM,
            other => other,
        }
    }

    /// The model with a yearly profile, if it has such a variant (the exponential smoothing
    /// models).
    pub fn with_yearly(self) -> Option<Model> {
        Model::ALL
            .into_iter()
            .find(|model| model.yearly() && model.without_yearly() == self)
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Model {
    type Err = ForecastError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Model::ALL
            .into_iter()
            .find(|model| model.name() == name)
            .ok_or_else(|| ForecastError::UnknownModel {
                name: name.to_string(),
            })
    }
}

/// Why a forecast could not be made.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ForecastError {
    /// The history has no periods.
    EmptyHistory,
    /// Every period of the history is unknown (`None`).
    NothingKnown,
    /// The value at `index` is NaN or infinite.
    NonFiniteValue {
        /// Position in the history, from 0.
        index: usize,
    },
    /// The value at `index` is below zero.
    NegativeValue {
        /// Position in the history, from 0.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// The horizon is 0 or above [`MAX_HORIZON`].
    InvalidHorizon {
        /// The horizon asked for.
        horizon: usize,
    },
    /// The level is not strictly between 0 and 1.
    InvalidLevel {
        /// The level asked for.
        level: f64,
    },
    /// The season length is 0 (1 means no season).
    ZeroSeasonLength,
    /// The history, from its first known period on, has too few periods for the model.
    TooFewPeriods {
        /// The model asked for.
        model: Model,
        /// Periods it needs.
        needed: usize,
        /// Periods there are.
        available: usize,
    },
    /// The history has too few known values to estimate the model's parameters.
    TooFewKnownValues {
        /// The model asked for.
        model: Model,
        /// Known values it needs.
        needed: usize,
        /// Known values there are.
        available: usize,
    },
    /// A `+Y` model was asked for with a season other than the week of daily data (7).
    YearlyNeedsDailyData {
        /// The model asked for.
        model: Model,
        /// The season length given.
        season_length: usize,
    },
    /// No model has this name.
    UnknownModel {
        /// The name given.
        name: String,
    },
}

impl fmt::Display for ForecastError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForecastError::EmptyHistory => f.write_str("the history is empty"),
            ForecastError::NothingKnown => f.write_str("every period of the history is unknown"),
            ForecastError::NonFiniteValue { index } => {
                write!(f, "the value at index {index} is not a finite number")
            }
            ForecastError::NegativeValue { index, value } => {
                write!(f, "the value at index {index} is negative ({value})")
            }
            ForecastError::InvalidHorizon { horizon } => write!(
                f,
                "the horizon must be between 1 and {MAX_HORIZON} periods, not {horizon}"
            ),
            ForecastError::InvalidLevel { level } => write!(
                f,
                "the interval level must be strictly between 0 and 1, not {level}"
            ),
            ForecastError::ZeroSeasonLength => {
                f.write_str("the season length must be at least 1 (1 means no season)")
            }
            ForecastError::TooFewPeriods {
                model,
                needed,
                available,
            } => write!(
                f,
                "{model} needs at least {needed} periods from the first known value on, \
                 the history has {available}"
            ),
            ForecastError::TooFewKnownValues {
                model,
                needed,
                available,
            } => write!(
                f,
                "{model} needs at least {needed} known values, the history has {available}"
            ),
            ForecastError::YearlyNeedsDailyData {
                model,
                season_length,
            } => write!(
                f,
                "{model} applies to daily data with a weekly season (season length 7), \
                 not season length {season_length}"
            ),
            ForecastError::UnknownModel { name } => write!(f, "no model is named {name:?}"),
        }
    }
}

impl std::error::Error for ForecastError {}

/// Chooses a model for the series and forecasts it. `history` holds one value per period,
/// oldest first; `None` marks a period whose demand is unknown (a stock-out day, when demand was
/// censored because nothing was available): it is not taken as zero demand and must not pull the
/// forecast down.
///
/// Periods before the first known value are ignored. The work grows linearly with the length
/// of the history and with the horizon.
pub fn forecast(history: &[Option<f64>], options: &Options) -> Result<Forecast, ForecastError> {
    let series = Series::new(history, options)?;
    let (model, paths) = select::automatic(&series, options);
    Ok(series.finish(model, paths))
}

/// Forecast with one given model (fitted on the history), for tests and comparisons.
///
/// Fails when the history is too short for the model: the seasonal naive method needs a full
/// season, seasonal exponential smoothing two, and exponential smoothing one known value more
/// than it has parameters. A multiplicative season is meant for strictly positive series: when
/// its states cannot stay positive on the history the fit fails (reported as too few known
/// values).
pub fn forecast_with(
    model: Model,
    history: &[Option<f64>],
    options: &Options,
) -> Result<Forecast, ForecastError> {
    let series = Series::new(history, options)?;
    let paths = select::with_model(model, &series, options)?;
    Ok(series.finish(model, paths))
}

/// A validated history, ready for the models: it starts at the first known period, unknown
/// periods are NaN, and values are divided by `scale` (the largest value) so that every model
/// works on numbers between 0 and 1.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    /// Scaled values, NaN where unknown; the first is known.
    pub(crate) values: Vec<f64>,
    /// What the values were divided by.
    pub(crate) scale: f64,
    /// Known values.
    pub(crate) known: usize,
    /// Known values above zero.
    pub(crate) nonzero: usize,
}

impl Series {
    /// Checks the options and the history.
    pub(crate) fn new(history: &[Option<f64>], options: &Options) -> Result<Series, ForecastError> {
        if options.horizon == 0 || options.horizon > MAX_HORIZON {
            return Err(ForecastError::InvalidHorizon {
                horizon: options.horizon,
            });
        }
        if !(options.level > 0.0 && options.level < 1.0) {
            return Err(ForecastError::InvalidLevel {
                level: options.level,
            });
        }
        if options.season_length == 0 {
            return Err(ForecastError::ZeroSeasonLength);
        }
        if history.is_empty() {
            return Err(ForecastError::EmptyHistory);
        }
        let mut first = None;
        let mut largest = 0.0_f64;
        let mut known = 0;
        let mut nonzero = 0;
        for (index, value) in history.iter().enumerate() {
            let Some(value) = *value else { continue };
            if !value.is_finite() {
                return Err(ForecastError::NonFiniteValue { index });
            }
            if value < 0.0 {
                return Err(ForecastError::NegativeValue { index, value });
            }
            first.get_or_insert(index);
            largest = largest.max(value);
            known += 1;
            if value > 0.0 {
                nonzero += 1;
            }
        }
        let Some(first) = first else {
            return Err(ForecastError::NothingKnown);
        };
        let scale = if largest > 0.0 { largest } else { 1.0 };
        let values = history[first..]
            .iter()
            .map(|value| value.map_or(f64::NAN, |value| value / scale))
            .collect();
        Ok(Series {
            values,
            scale,
            known,
            nonzero,
        })
    }

    /// Whether demand is intermittent: the average interval between nonzero demands (known
    /// periods per nonzero one) is above 1.32 (Syntetos, Boylan and Croston 2005).
    pub(crate) fn intermittent(&self) -> bool {
        self.nonzero == 0 || self.known as f64 > 1.32 * self.nonzero as f64
    }

    /// The public forecast: back to the caller's units, never below zero, the mean inside its
    /// interval, every number finite.
    fn finish(&self, model: Model, paths: Paths) -> Forecast {
        let unscale = |value: f64| {
            let value = value * self.scale;
            if value.is_nan() {
                0.0
            } else {
                value.clamp(0.0, f64::MAX)
            }
        };
        let mean: Vec<f64> = paths.mean.iter().map(|&value| unscale(value)).collect();
        let lower = paths
            .lower
            .iter()
            .zip(&mean)
            .map(|(&value, &mean)| unscale(value).min(mean))
            .collect();
        let upper = paths
            .upper
            .iter()
            .zip(&mean)
            .map(|(&value, &mean)| unscale(value).max(mean))
            .collect();
        Forecast {
            model,
            mean,
            lower,
            upper,
        }
    }
}

/// A forecast in the series' scaled units, before it is finished.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Paths {
    pub(crate) mean: Vec<f64>,
    pub(crate) lower: Vec<f64>,
    pub(crate) upper: Vec<f64>,
}

impl Paths {
    /// Symmetric normal intervals: `mean ± z · sd` for each period ahead.
    pub(crate) fn normal(mean: Vec<f64>, sd: &[f64], z: f64) -> Paths {
        let lower = mean.iter().zip(sd).map(|(m, s)| m - z * s).collect();
        let upper = mean.iter().zip(sd).map(|(m, s)| m + z * s).collect();
        Paths { mean, lower, upper }
    }
}

/// Unknown periods at the end of `values`.
pub(crate) fn trailing_unknown(values: &[f64]) -> usize {
    values
        .iter()
        .rev()
        .take_while(|value| value.is_nan())
        .count()
}
