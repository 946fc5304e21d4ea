//! Capacity plans from the log: each fulfillment center's orders forecast week by week against
//! what it can pick and pack, with the weeks likely to exceed it flagged ahead of time.
//!
//! For every fulfillment center with orders in the [`DemandHistory`]:
//!
//! 1. **Orders.** The orders allocated at the center each day (an order allocated there counts
//!    once a day: each allocation is a pick) over the last [`CapacitySettings::fit_days`] days
//!    are forecast by `flowline_plan::forecast` (weekly season, automatic model choice), the
//!    days promotions covered left out of the fit, as they are not ordinary days.
//! 2. **Promotions.** Each day ahead is multiplied by the promotions planned for it
//!    ([`crate::demand::Lifts::order_factor`]: each item's uplift weighted by its recent
//!    units), so a holiday sale entered weeks before shows in the weeks it will load.
//! 3. **Weeks.** `flowline_plan::capacity::weekly_capacity` sums the days into calendar weeks
//!    (Monday to Sunday) against the center's `capacity_orders_per_day` on the weekdays it works
//!    (those on which it shipped over the last eight weeks; every weekday until it has shipped
//!    on 14 days), with the one-day
//!    forecast error read from the first day's 80 % interval, and flags each week whose
//!    probability of exceeding capacity reaches [`CapacitySettings::flag_probability`]. A
//!    center without a stated capacity gets its forecast and no flags.

use crate::demand::{DemandHistory, UpliftSource};
use flowline_core::State;
use flowline_core::id::LocationId;
use flowline_plan::capacity::{self, CenterLoad, Week};
use flowline_plan::forecast::{self, Options};
use jiff::civil::Date;
use serde::Serialize;

/// The longest horizon a capacity plan looks ahead, days.
pub const CAPACITY_HORIZON_MAX: usize = 366;

/// How far ahead and how cautiously to plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacitySettings {
    /// Days ahead, from the day after the history's latest order day (7 to 366).
    pub horizon_days: usize,
    /// Days of history the forecast is fitted on (14 to 2,922).
    pub fit_days: usize,
    /// The quantile of a week's orders reported beside its forecast, in (0, 1).
    pub level: f64,
    /// The probability of exceeding capacity at which a week is flagged, in (0, 1].
    pub flag_probability: f64,
}

impl Default for CapacitySettings {
    fn default() -> Self {
        Self {
            horizon_days: 56,
            fit_days: 365,
            level: 0.9,
            flag_probability: 0.5,
        }
    }
}

impl CapacitySettings {
    /// Checks every setting, naming the first out of range and what it must be.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !(7..=CAPACITY_HORIZON_MAX).contains(&self.horizon_days) {
            return Err((
                "horizon_days",
                format!(
                    "{} is out of range: 7 to {CAPACITY_HORIZON_MAX} days",
                    self.horizon_days
                ),
            ));
        }
        if !(14..=2_922).contains(&self.fit_days) {
            return Err((
                "fit_days",
                format!("{} is out of range: 14 to 2922 days", self.fit_days),
            ));
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err((
                "level",
                format!("{} is out of range: above 0 and below 1", self.level),
            ));
        }
        if !(self.flag_probability > 0.0 && self.flag_probability <= 1.0) {
            return Err((
                "flag_probability",
                format!(
                    "{} is out of range: above 0 and at most 1",
                    self.flag_probability
                ),
            ));
        }
        Ok(())
    }
}

/// One center's plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CenterPlan {
    /// The center.
    pub center: LocationId,
    /// Its name.
    pub name: String,
    /// Orders it can pick and pack a day, when stated.
    pub capacity_orders_per_day: Option<i64>,
    /// The forecast model.
    pub model: String,
    /// Expected orders each day from the plan's first day, promotions included.
    pub daily: Vec<f64>,
    /// The one-day forecast error, orders.
    pub orders_sd: f64,
    /// Orders a day over the last four weeks of history.
    pub recent_per_day: f64,
    /// The weeks against capacity (empty without a stated capacity).
    pub weeks: Vec<WeekPlan>,
}

/// One week of a center's plan, with its dates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekPlan {
    /// Its first day in the plan (a Monday, but for the plan's first week).
    pub from: Date,
    /// Its last day in the plan (a Sunday, but for the plan's last week).
    pub to: Date,
    /// The figures.
    #[serde(flatten)]
    pub week: Week,
}

/// A promotion the plan counts on, with the uplift it uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedPromotion {
    /// Its id.
    pub promotion: String,
    /// Its name.
    pub name: String,
    /// First day.
    pub first_day: Date,
    /// Last day.
    pub last_day: Date,
    /// The uplift counted on.
    pub uplift: f64,
    /// Where the uplift comes from.
    pub uplift_source: UpliftSource,
}

/// A center the plan could not cover, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedCenter {
    /// The center.
    pub center: LocationId,
    /// Why.
    pub reason: String,
}

/// A capacity plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CapacityPlan {
    /// The plan's first day: the day after the history's latest order day.
    pub today: Option<Date>,
    /// The centers' plans, in center order.
    pub centers: Vec<CenterPlan>,
    /// The promotions that fall in the horizon.
    pub promotions: Vec<PlannedPromotion>,
    /// Centers without a plan, and why.
    pub skipped: Vec<SkippedCenter>,
}

impl CapacityPlan {
    /// The flagged weeks, center by center in date order.
    pub fn warnings(&self) -> impl Iterator<Item = (&CenterPlan, &WeekPlan)> {
        self.centers.iter().flat_map(|center| {
            center
                .weeks
                .iter()
                .filter(|week| week.week.flagged)
                .map(move |week| (center, week))
        })
    }
}

/// Days of shipments read to tell the weekdays a center works: eight weeks.
const WORKING_DAYS_READ: i64 = 56;

/// The one-day forecast error from the first day's interval at this level.
const INTERVAL_LEVEL: f64 = 0.8;
/// Φ⁻¹(0.9): the half-width of an 80 % interval in standard deviations.
const Z_80: f64 = 1.281_551_565_544_600_5;

/// Plans every fulfillment center's capacity over `settings.horizon_days`.
///
/// # Errors
///
/// The setting out of range, by name, and what it must be.
pub fn plan(
    state: &State,
    history: &DemandHistory,
    settings: &CapacitySettings,
) -> Result<CapacityPlan, (&'static str, String)> {
    settings.check()?;
    let Some(today) = history.latest().and_then(|day| day.tomorrow().ok()) else {
        return Ok(CapacityPlan::default());
    };
    let day = |ahead: usize| today.checked_add(jiff::Span::new().days(ahead as i64)).ok();
    let last = day(settings.horizon_days - 1).unwrap_or(today);
    let lifts = history.lifts();
    let mut answer = CapacityPlan {
        today: Some(today),
        ..CapacityPlan::default()
    };
    for (id, promotion) in history.promotions() {
        if promotion.last_day >= today && promotion.first_day <= last {
            let (uplift, uplift_source) = lifts
                .uplifts
                .get(id)
                .copied()
                .unwrap_or((1.0, UpliftSource::Unknown));
            answer.promotions.push(PlannedPromotion {
                promotion: id.to_string(),
                name: promotion.name.clone(),
                first_day: promotion.first_day,
                last_day: promotion.last_day,
                uplift,
                uplift_source,
            });
        }
    }
    let factors: Vec<f64> = (0..settings.horizon_days)
        .map(|ahead| day(ahead).map_or(1.0, |d| lifts.order_factor(history, d)))
        .collect();
    let mut centers: Vec<_> = state.locations.values().collect();
    centers.sort_by(|a, b| a.id.cmp(&b.id));
    for location in centers {
        let Some((start, counts)) = history.center_orders(&location.id) else {
            answer.skipped.push(SkippedCenter {
                center: location.id.clone(),
                reason: "no order has been allocated there yet".into(),
            });
            continue;
        };
        let fit_from = counts.len().saturating_sub(settings.fit_days);
        let values: Vec<Option<f64>> = counts
            .iter()
            .enumerate()
            .skip(fit_from)
            .map(|(index, orders)| {
                let promoted = start
                    .checked_add(jiff::Span::new().days(index as i64))
                    .is_ok_and(|d| lifts.order_factor(history, d) != 1.0);
                (!promoted).then_some(*orders as f64)
            })
            .collect();
        let recent = &counts[counts.len().saturating_sub(28)..];
        let recent_per_day = recent.iter().sum::<i64>() as f64 / recent.len().max(1) as f64;
        let options = Options {
            horizon: settings.horizon_days,
            season_length: 7,
            level: INTERVAL_LEVEL,
        };
        let made = match forecast::forecast(&values, &options) {
            Ok(made) => made,
            Err(error) => {
                answer.skipped.push(SkippedCenter {
                    center: location.id.clone(),
                    reason: format!("the forecast failed: {error}"),
                });
                continue;
            }
        };
        let orders_sd = made
            .upper
            .first()
            .zip(made.mean.first())
            .map_or(0.0, |(upper, mean)| ((upper - mean) / Z_80).max(0.0));
        let daily: Vec<f64> = made
            .mean
            .iter()
            .zip(&factors)
            .map(|(mean, factor)| mean * factor)
            .collect();
        let lifted = factors.iter().any(|factor| *factor != 1.0);
        let mut weeks = Vec::new();
        if let Some(per_day) = location.capacity_orders_per_day.filter(|c| *c > 0) {
            let load = CenterLoad {
                center: location.id.to_string(),
                orders: daily.clone(),
                orders_sd,
                capacity_per_day: per_day as f64,
                start_weekday: today.weekday().to_monday_zero_offset() as u8,
                open: history.working_weekdays(&location.id, WORKING_DAYS_READ),
            };
            match capacity::weekly_capacity(&load, settings.level, settings.flag_probability) {
                Ok(found) => {
                    for week in found {
                        let from = day(week.first_day as usize).unwrap_or(today);
                        let to = day((week.first_day + week.days).saturating_sub(1) as usize)
                            .unwrap_or(from);
                        weeks.push(WeekPlan { from, to, week });
                    }
                }
                Err(error) => answer.skipped.push(SkippedCenter {
                    center: location.id.clone(),
                    reason: error.to_string(),
                }),
            }
        }
        answer.centers.push(CenterPlan {
            center: location.id.clone(),
            name: location.name.clone(),
            capacity_orders_per_day: location.capacity_orders_per_day,
            model: format!(
                "{}{}",
                made.model,
                if lifted { " with promotions" } else { "" }
            ),
            daily,
            orders_sd,
            recent_per_day,
            weeks,
        });
    }
    Ok(answer)
}
