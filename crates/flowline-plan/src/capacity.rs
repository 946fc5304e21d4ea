//! Capacity warnings ahead of time: which coming weeks a fulfilment center's forecast orders are
//! likely to exceed what it can pick and pack.
//!
//! A [`CenterLoad`] brings a daily forecast of orders from day 0, the one-day forecast error and
//! the center's capacity per day; [`weekly_capacity`] answers one [`Week`] per calendar week,
//! Monday to Sunday (the first and last may be partial: [`Week::days`] says how many days of the
//! forecast fall in it), with:
//!
//! - `forecast` `F` = the week's orders, summed over its days;
//! - `capacity` `C` = `capacity_per_day × open days`, the days of the week's span on which the
//!   center works ([`CenterLoad::open`]; orders that arrive on a closed day wait for an open one);
//! - `σ = orders_sd × √days`, taking the days' forecast errors as independent;
//! - `upper` = `F + z σ`, with `z = Φ⁻¹(level)`: the week's orders at the `level` quantile;
//! - `shortfall` = `max(0, F − C)` and `shortfall_at_upper` = `max(0, upper − C)`;
//! - `probability_over` = `P(orders > C) = 1 − Φ((C − F)/σ)`, taking the week's orders as normal
//!   (with `σ = 0`: 1 if `F > C`, else 0);
//! - `flagged` when `probability_over ≥ flag_probability`.
//!
//! Forecast errors of neighbouring days are usually positively correlated (a forecast that is
//! high on Monday tends to be high all week), and then `σ` above is too small and the flags come
//! late; a planner who suspects it can pass a larger `orders_sd`.
//!
//! Every input is checked and an invalid one is refused with a [`CapacityError`] naming it
//! (`orders[3]`, `capacity_per_day`, `level`), never a panic; the horizon is at most
//! [`MAX_HORIZON_DAYS`] days.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::distribution::{normal_quantile, normal_sf};

/// Longest forecast accepted, in days (ten years).
pub const MAX_HORIZON_DAYS: usize = 3660;

/// Days in a week.
const DAYS_PER_WEEK: u8 = 7;

/// The forecast load on one fulfilment center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CenterLoad {
    /// The center's id.
    pub center: String,
    /// Forecast orders for each day from day 0 (today); each finite and ≥ 0, at most
    /// [`MAX_HORIZON_DAYS`] days.
    pub orders: Vec<f64>,
    /// Standard deviation of one day's orders (the forecast's one-step error), ≥ 0.
    pub orders_sd: f64,
    /// Orders the center can pick and pack per day, > 0.
    pub capacity_per_day: f64,
    /// The weekday of day 0: 0 = Monday, …, 6 = Sunday.
    pub start_weekday: u8,
    /// Whether the center picks and packs on each weekday, Monday first.
    #[serde(default = "every_day")]
    pub open: [bool; 7],
}

/// Open every day of the week.
fn every_day() -> [bool; 7] {
    [true; 7]
}

/// One calendar week's load against capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Week {
    /// The center's id.
    pub center: String,
    /// The index in the forecast of the week's first day.
    pub first_day: u32,
    /// How many days of the forecast fall in the week (1 to 7; fewer than 7 only for the first
    /// and last weeks).
    pub days: u32,
    /// Forecast orders over the week.
    pub forecast: f64,
    /// `forecast + z σ`, the week's orders at the `level` quantile, `σ = orders_sd × √days`.
    pub upper: f64,
    /// `capacity_per_day × ` the week's open days.
    pub capacity: f64,
    /// `max(0, forecast − capacity)`.
    pub shortfall: f64,
    /// `max(0, upper − capacity)`.
    pub shortfall_at_upper: f64,
    /// `P(orders > capacity)`, taking the week's orders as normal.
    pub probability_over: f64,
    /// Whether `probability_over ≥ flag_probability`.
    pub flagged: bool,
}

/// Why the weekly load could not be computed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CapacityError {
    /// An input is outside its range.
    OutOfRange {
        /// The input, e.g. `orders[3]` or `level`.
        field: String,
        /// The value given.
        value: f64,
        /// What it must be.
        expected: &'static str,
    },
    /// The forecast is longer than [`MAX_HORIZON_DAYS`].
    LimitExceeded {
        /// What is too large.
        field: String,
        /// Its value.
        value: f64,
        /// The largest value accepted.
        limit: f64,
    },
    /// A computed term is too large to represent, though each input is valid.
    Overflow {
        /// The term, e.g. `weeks[2].forecast`.
        field: String,
    },
}

impl CapacityError {
    /// The field or term the error is about.
    #[must_use]
    pub fn field(&self) -> &str {
        match self {
            Self::OutOfRange { field, .. }
            | Self::LimitExceeded { field, .. }
            | Self::Overflow { field } => field,
        }
    }
}

impl fmt::Display for CapacityError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfRange {
                field,
                value,
                expected,
            } => write!(
                formatter,
                "{field} = {value} is out of range: expected {expected}"
            ),
            Self::LimitExceeded {
                field,
                value,
                limit,
            } => write!(
                formatter,
                "{field} = {value} is beyond what is computed: at most {limit}"
            ),
            Self::Overflow { field } => write!(formatter, "{field} is too large to represent"),
        }
    }
}

impl std::error::Error for CapacityError {}

/// The load on `load.center` week by week (Monday to Sunday), with the orders at the `level`
/// quantile (in (0, 1), e.g. 0.95) and a flag on each week whose probability of exceeding
/// capacity is at least `flag_probability` (in (0, 1]). An empty forecast has no weeks.
///
/// # Errors
///
/// [`CapacityError::OutOfRange`] naming the input that is negative, NaN or infinite
/// (`orders[i]`, `orders_sd`), not positive (`capacity_per_day`), not a weekday
/// (`start_weekday` above 6) or outside its interval (`level`, `flag_probability`);
/// [`CapacityError::LimitExceeded`] for more than [`MAX_HORIZON_DAYS`] days of `orders`;
/// [`CapacityError::Overflow`] naming the week whose sum overflows.
pub fn weekly_capacity(
    load: &CenterLoad,
    level: f64,
    flag_probability: f64,
) -> Result<Vec<Week>, CapacityError> {
    let z = validate(load, level, flag_probability)?;
    let mut weeks = Vec::new();
    let mut first_day = 0_usize;
    // Day 0's weekday sets the first week's length; every later week starts on a Monday.
    let mut length = usize::from(DAYS_PER_WEEK - load.start_weekday);
    while first_day < load.orders.len() {
        let end = (first_day + length).min(load.orders.len());
        let days = load.orders.get(first_day..end).unwrap_or_default();
        weeks.push(week(
            load,
            weeks.len(),
            first_day,
            days,
            z,
            flag_probability,
        )?);
        first_day = end;
        length = usize::from(DAYS_PER_WEEK);
    }
    Ok(weeks)
}

/// The week numbered `index` starting on `first_day`, whose orders are `days`.
fn week(
    load: &CenterLoad,
    index: usize,
    first_day: usize,
    days: &[f64],
    z: f64,
    flag_probability: f64,
) -> Result<Week, CapacityError> {
    let term = |name: &str| CapacityError::Overflow {
        field: format!("weeks[{index}].{name}"),
    };
    #[allow(clippy::cast_precision_loss, reason = "at most 7")]
    let length = days.len() as f64;
    let forecast: f64 = days.iter().sum();
    if !forecast.is_finite() {
        return Err(term("forecast"));
    }
    // The weekday of day `first_day + i` is `(start_weekday + first_day + i) mod 7`.
    let open_days = (0..days.len())
        .filter(|offset| {
            let weekday = (usize::from(load.start_weekday) + first_day + offset) % 7;
            load.open.get(weekday).copied().unwrap_or(true)
        })
        .count();
    #[allow(clippy::cast_precision_loss, reason = "at most 7")]
    let capacity = load.capacity_per_day * open_days as f64;
    if !capacity.is_finite() {
        return Err(term("capacity"));
    }
    let sd = load.orders_sd * length.sqrt();
    let upper = forecast + z * sd;
    if !(sd.is_finite() && upper.is_finite()) {
        return Err(term("upper"));
    }
    let probability_over = if sd > 0.0 {
        normal_sf((capacity - forecast) / sd)
    } else if forecast > capacity {
        1.0
    } else {
        0.0
    };
    Ok(Week {
        center: load.center.clone(),
        // Both are at most MAX_HORIZON_DAYS, checked by `validate`.
        first_day: u32::try_from(first_day).unwrap_or(u32::MAX),
        days: u32::try_from(days.len()).unwrap_or(u32::MAX),
        forecast,
        upper,
        capacity,
        shortfall: (forecast - capacity).max(0.0),
        shortfall_at_upper: (upper - capacity).max(0.0),
        probability_over,
        flagged: probability_over >= flag_probability,
    })
}

/// Checks the inputs and returns `z = Φ⁻¹(level)`.
fn validate(load: &CenterLoad, level: f64, flag_probability: f64) -> Result<f64, CapacityError> {
    let out_of_range = |field: String, value: f64, expected: &'static str| {
        Err(CapacityError::OutOfRange {
            field,
            value,
            expected,
        })
    };
    if load.orders.len() > MAX_HORIZON_DAYS {
        #[allow(
            clippy::cast_precision_loss,
            reason = "for the message only; the length is refused"
        )]
        return Err(CapacityError::LimitExceeded {
            field: "orders.len()".into(),
            value: load.orders.len() as f64,
            limit: MAX_HORIZON_DAYS as f64,
        });
    }
    for (index, &orders) in load.orders.iter().enumerate() {
        if !(orders.is_finite() && orders >= 0.0) {
            return out_of_range(
                format!("orders[{index}]"),
                orders,
                "a finite number of at least 0",
            );
        }
    }
    if !(load.orders_sd.is_finite() && load.orders_sd >= 0.0) {
        return out_of_range(
            "orders_sd".into(),
            load.orders_sd,
            "a finite number of at least 0",
        );
    }
    if !(load.capacity_per_day.is_finite() && load.capacity_per_day > 0.0) {
        return out_of_range(
            "capacity_per_day".into(),
            load.capacity_per_day,
            "a finite number greater than 0",
        );
    }
    if load.start_weekday >= DAYS_PER_WEEK {
        return out_of_range(
            "start_weekday".into(),
            f64::from(load.start_weekday),
            "a weekday from 0 (Monday) to 6 (Sunday)",
        );
    }
    if !(flag_probability > 0.0 && flag_probability <= 1.0) {
        return out_of_range(
            "flag_probability".into(),
            flag_probability,
            "greater than 0 and at most 1",
        );
    }
    normal_quantile(level)
        .or_else(|_| out_of_range("level".into(), level, "between 0 and 1, exclusive"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::assert_close;

    /// Four December weeks from Monday 1 December, peaking before Christmas, against 1,000
    /// orders a day, with a one-day error of 80 orders.
    fn december() -> CenterLoad {
        let orders = [
            [800.0, 820.0, 840.0, 860.0, 880.0, 700.0, 600.0], // 5,500
            [900.0, 950.0, 980.0, 1000.0, 1020.0, 850.0, 700.0], // 6,400
            [1150.0, 1200.0, 1250.0, 1300.0, 1250.0, 1000.0, 850.0], // 8,000
            [1300.0, 1350.0, 1200.0, 800.0, 600.0, 900.0, 1000.0], // 7,150
        ];
        CenterLoad {
            center: "fc-east".into(),
            orders: orders.concat(),
            orders_sd: 80.0,
            capacity_per_day: 1000.0,
            start_weekday: 0,
            open: [true; 7],
        }
    }

    #[test]
    fn the_weeks_before_christmas_are_flagged() {
        // Each week: capacity 7 · 1000 = 7000, σ = 80 √7 = 211.66010488516724; at level 0.95
        // z σ = 1.6448536269514727 · 211.66 = 348.1498912012965.
        // week 1: F = 5500, (7000 − 5500)/σ = 7.0868,   P(over) = 6.8607e-13;
        // week 2: F = 6400, (7000 − 6400)/σ = 2.8347,   P(over) = 0.0022931960401267454;
        // week 3: F = 8000, (7000 − 8000)/σ = −4.72456, P(over) = 0.999998846906200354,
        //         shortfall 1000, at the upper bound 8348.1499 − 7000 = 1348.1498912012965;
        // week 4: F = 7150, (7000 − 7150)/σ = −0.70868, P(over) = 0.7607395117279011,
        //         shortfall 150, at the upper bound 7498.1499 − 7000 = 498.1498912012965.
        // Flagged at 0.5: weeks 3 and 4.
        let weeks = weekly_capacity(&december(), 0.95, 0.5).unwrap();
        assert_eq!(weeks.len(), 4);
        let flagged: Vec<u32> = weeks
            .iter()
            .filter(|w| w.flagged)
            .map(|w| w.first_day)
            .collect();
        assert_eq!(flagged, [14, 21]);
        let expected = [
            (5500.0, 0.0, 0.0, 6.860_746_743_094_105e-13),
            (6400.0, 0.0, 0.0, 0.002_293_196_040_126_745),
            (
                8000.0,
                1000.0,
                1_348.149_891_201_296_5,
                0.999_998_846_906_200_4,
            ),
            (
                7150.0,
                150.0,
                498.149_891_201_296_5,
                0.760_739_511_727_901_1,
            ),
        ];
        for (week, (forecast, shortfall, at_upper, probability)) in weeks.iter().zip(expected) {
            assert_eq!(week.center, "fc-east");
            assert_eq!(week.days, 7);
            assert_eq!(week.capacity, 7000.0);
            assert_eq!(week.forecast, forecast);
            assert_close(week.upper, forecast + 348.149_891_201_296_5, 1e-13);
            assert_eq!(week.shortfall, shortfall);
            assert_close(week.shortfall_at_upper, at_upper, 1e-12);
            assert_close(week.probability_over, probability, 1e-12);
            // Relative accuracy in the far tail too.
            assert!((week.probability_over - probability).abs() <= 1e-12 * probability);
        }
    }

    #[test]
    fn a_forecast_starting_midweek_has_partial_first_and_last_weeks() {
        // Day 0 a Thursday (3), 10 days of 100 orders, capacity 120 a day, σ_d = 10:
        // Thursday to Sunday (days 0–3, 4 days): F = 400, C = 480, σ = 10 · 2 = 20,
        //   (480 − 400)/20 = 4, P(over) = 1 − Φ(4) = 3.1671241833119921e-5,
        //   upper at 0.95 = 400 + 1.6448536 · 20 = 432.89707253902945;
        // Monday to Saturday (days 4–9, 6 days): F = 600, C = 720, σ = 10 √6 = 24.49489742783178,
        //   (720 − 600)/σ = 4.898979485566356, P(over) = 4.816785043215473e-7,
        //   upper = 600 + 1.6448536 · 24.4949 = 640.2905208759734.
        let load = CenterLoad {
            center: "fc-west".into(),
            orders: vec![100.0; 10],
            orders_sd: 10.0,
            capacity_per_day: 120.0,
            start_weekday: 3,
            open: [true; 7],
        };
        let weeks = weekly_capacity(&load, 0.95, 0.01).unwrap();
        let shape: Vec<(u32, u32, f64, f64)> = weeks
            .iter()
            .map(|w| (w.first_day, w.days, w.forecast, w.capacity))
            .collect();
        assert_eq!(shape, [(0, 4, 400.0, 480.0), (4, 6, 600.0, 720.0)]);
        assert_close(weeks[0].probability_over, 3.167_124_183_311_992e-5, 1e-12);
        assert_close(weeks[1].probability_over, 4.816_785_043_215_473e-7, 1e-12);
        assert_close(weeks[0].upper, 432.897_072_539_029_45, 1e-13);
        assert_close(weeks[1].upper, 640.290_520_875_973_4, 1e-13);
        assert!(weeks.iter().all(|w| !w.flagged && w.shortfall == 0.0));
    }

    /// A center closed on Sundays picks on six days of a full week: capacity 6 · 1,000 = 6,000.
    /// December's third week (8,000 orders) against 6,000: σ = 80 √7 = 211.66, (6000 − 8000)/σ
    /// = −9.45, over for certain; the partial first week of a Thursday start (Thursday to Sunday,
    /// Sunday closed) has 3 open days: 3,000.
    #[test]
    fn a_closed_weekday_gives_no_capacity() {
        let mut open = [true; 7];
        open[6] = false;
        let load = CenterLoad { open, ..december() };
        let weeks = weekly_capacity(&load, 0.95, 0.5).unwrap();
        let capacities: Vec<f64> = weeks.iter().map(|w| w.capacity).collect();
        assert_eq!(capacities, [6000.0; 4]);
        assert_eq!(weeks[2].shortfall, 2000.0);
        assert!(weeks[2].flagged);
        let thursday = CenterLoad {
            start_weekday: 3,
            orders: vec![1.0; 4],
            ..load
        };
        let weeks = weekly_capacity(&thursday, 0.95, 0.5).unwrap();
        assert_eq!((weeks[0].days, weeks[0].capacity), (4, 3000.0));
    }

    #[test]
    fn a_sunday_start_makes_a_one_day_first_week() {
        let load = CenterLoad {
            start_weekday: 6,
            orders: vec![1.0; 9],
            ..december()
        };
        let days: Vec<u32> = weekly_capacity(&load, 0.9, 0.5)
            .unwrap()
            .iter()
            .map(|w| w.days)
            .collect();
        assert_eq!(days, [1, 7, 1]);
    }

    #[test]
    fn a_known_forecast_is_over_capacity_for_certain_or_not_at_all() {
        // σ = 0: a week of 701 against 700 is over with probability 1; a week of exactly 700 is
        // not over (P(orders > capacity) = 0) and has no shortfall.
        let mut orders = vec![100.0; 14];
        orders[0] = 101.0;
        let load = CenterLoad {
            orders,
            orders_sd: 0.0,
            capacity_per_day: 100.0,
            ..december()
        };
        let weeks = weekly_capacity(&load, 0.95, 1.0).unwrap();
        assert_eq!(weeks[0].probability_over, 1.0);
        assert_eq!(weeks[0].shortfall, 1.0);
        assert!(weeks[0].flagged);
        assert_eq!(weeks[1].probability_over, 0.0);
        assert_eq!(weeks[1].upper, 700.0);
        assert!(!weeks[1].flagged);
    }

    #[test]
    fn an_empty_forecast_has_no_weeks() {
        let load = CenterLoad {
            orders: Vec::new(),
            ..december()
        };
        assert_eq!(weekly_capacity(&load, 0.95, 0.5).unwrap(), []);
    }

    #[test]
    fn every_invalid_input_is_refused_naming_its_field() {
        type Change = fn(&mut CenterLoad);
        let cases: [(&str, Change); 8] = [
            ("orders.len()", |l| l.orders = vec![1.0; 3661]),
            ("orders[3]", |l| l.orders[3] = -1.0),
            ("orders[3]", |l| l.orders[3] = f64::NAN),
            ("orders_sd", |l| l.orders_sd = f64::INFINITY),
            ("capacity_per_day", |l| l.capacity_per_day = 0.0),
            ("capacity_per_day", |l| l.capacity_per_day = f64::NAN),
            ("start_weekday", |l| l.start_weekday = 7),
            ("weeks[0].forecast", |l| l.orders = vec![1e308; 7]),
        ];
        for (field, change) in cases {
            let mut load = december();
            change(&mut load);
            assert_eq!(
                weekly_capacity(&load, 0.95, 0.5).unwrap_err().field(),
                field
            );
        }
        for level in [0.0, 1.0, f64::NAN] {
            assert_eq!(
                weekly_capacity(&december(), level, 0.5)
                    .unwrap_err()
                    .field(),
                "level"
            );
        }
        for flag in [0.0, 1.5, f64::NAN] {
            assert_eq!(
                weekly_capacity(&december(), 0.95, flag)
                    .unwrap_err()
                    .field(),
                "flag_probability"
            );
        }
        let mut load = december();
        load.orders[3] = -1.0;
        assert_eq!(
            weekly_capacity(&load, 0.95, 0.5).unwrap_err().to_string(),
            "orders[3] = -1 is out of range: expected a finite number of at least 0"
        );
    }

    proptest::proptest! {
        #[test]
        fn the_weeks_cover_the_forecast_exactly(
            orders in proptest::collection::vec(0.0..5000.0_f64, 0..60),
            start_weekday in 0_u8..7,
            orders_sd in 0.0..500.0_f64,
        ) {
            let load = CenterLoad {
                orders: orders.clone(),
                orders_sd,
                start_weekday,
                ..december()
            };
            let weeks = weekly_capacity(&load, 0.9, 0.5).unwrap();
            let mut next = 0;
            for (index, week) in weeks.iter().enumerate() {
                proptest::prop_assert_eq!(week.first_day, next);
                proptest::prop_assert!(week.days >= 1 && week.days <= 7);
                // Every week after the first starts on a Monday.
                if index > 0 {
                    proptest::prop_assert_eq!((u32::from(start_weekday) + week.first_day) % 7, 0);
                }
                proptest::prop_assert!((0.0..=1.0).contains(&week.probability_over));
                next += week.days;
            }
            proptest::prop_assert_eq!(next as usize, orders.len());
        }
    }
}
