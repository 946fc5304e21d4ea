//! The planner's capacity watch during a run: every Monday the brand's planner reads the log
//! written so far into Flowline's demand history, runs the capacity plan over the coming weeks
//! (each center's orders forecast, lifted on the days of the promotions planned) and keeps
//! each week it flags, with the day it was first flagged — so a run shows how far ahead the
//! warning came, and afterwards how many orders the week really brought.
//!
//! The watch reads the log through the same projection and plan a user's `flowline plan
//! capacity` runs; it changes nothing in the log.

use crate::driver::{Driver, SimError};
use flowline_engine::projections::{self, Tracked};
use flowline_metrics::capacity::{self, CapacitySettings};
use flowline_metrics::demand::DemandHistory;
use jiff::civil::Date;
use serde::Serialize;
use std::collections::BTreeMap;

/// One week a center's capacity plan flagged during the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityWarning {
    /// The center.
    pub center: String,
    /// The week's Monday.
    pub week: Date,
    /// The day the watch first flagged it.
    pub raised_on: Date,
    /// Forecast orders for the week (its days still ahead) when first flagged.
    pub forecast: f64,
    /// The center's capacity over the week.
    pub capacity: f64,
    /// `forecast − capacity` when first flagged.
    pub shortfall: f64,
    /// The chance of exceeding capacity when first flagged.
    pub probability_over: f64,
    /// Orders allocated at the center that week, read after the run (none if the week ended
    /// after it).
    pub actual: Option<i64>,
}

impl CapacityWarning {
    /// Whole days between the first flag and the week's first day.
    pub fn days_ahead(&self) -> i64 {
        self.week
            .since(self.raised_on)
            .map_or(0, |span| i64::from(span.get_days()))
    }
}

/// The watch: the demand history read so far and the weeks flagged.
pub(crate) struct CapacityWatch {
    history: Tracked<DemandHistory>,
    settings: CapacitySettings,
    warnings: BTreeMap<(String, Date), CapacityWarning>,
}

impl CapacityWatch {
    pub(crate) fn new() -> Self {
        Self {
            history: Tracked {
                projection: DemandHistory::new(),
                head: 0,
            },
            settings: CapacitySettings::default(),
            warnings: BTreeMap::new(),
        }
    }

    /// Reads the log's new events into the history.
    fn catch_up(&mut self, driver: &Driver) -> Result<(), SimError> {
        let reader = driver.log().open_reader()?;
        projections::catch_up(
            reader.as_ref(),
            driver.tenant(),
            &mut self.history,
            &|| false,
            &mut |_| {},
        )
        .map_err(|error| SimError::Scenario(format!("the demand history failed: {error}")))?;
        Ok(())
    }

    /// Runs the plan on `today` and keeps the weeks it flags for the first time.
    pub(crate) fn review(&mut self, driver: &Driver, today: Date) -> Result<(), SimError> {
        self.catch_up(driver)?;
        // The plan reads the centers' capacities from the state: it runs on the engine's
        // thread, between commands, and hands the history back.
        let history = std::mem::take(&mut self.history.projection);
        let settings = self.settings.clone();
        let (history, plan) = driver.engine().query(driver.tenant(), move |state| {
            let plan = capacity::plan(state, &history, &settings);
            (history, plan)
        })?;
        self.history.projection = history;
        let Ok(plan) = plan else {
            return Ok(());
        };
        for (center, week) in plan.warnings() {
            // The plan's first week starts on its first day; every week is kept by its Monday.
            let monday = week
                .from
                .checked_sub(
                    jiff::Span::new().days(i64::from(week.from.weekday().to_monday_zero_offset())),
                )
                .unwrap_or(week.from);
            self.warnings
                .entry((center.center.to_string(), monday))
                .or_insert_with(|| CapacityWarning {
                    center: center.center.to_string(),
                    week: monday,
                    raised_on: today,
                    forecast: week.week.forecast,
                    capacity: week.week.capacity,
                    shortfall: week.week.shortfall,
                    probability_over: week.week.probability_over,
                    actual: None,
                });
        }
        Ok(())
    }

    /// The weeks flagged, in center and week order, each with the orders it brought when the
    /// week ended within the run.
    pub(crate) fn finish(mut self, driver: &Driver) -> Result<Vec<CapacityWarning>, SimError> {
        self.catch_up(driver)?;
        let history = &self.history.projection;
        let mut warnings: Vec<CapacityWarning> = self.warnings.into_values().collect();
        for warning in &mut warnings {
            let Ok(center) = warning.center.parse() else {
                continue;
            };
            let Some((start, daily)) = history.center_orders(&center) else {
                continue;
            };
            let Some(latest) = history.latest() else {
                continue;
            };
            let Ok(last) = warning.week.checked_add(jiff::Span::new().days(6)) else {
                continue;
            };
            if last > latest {
                continue;
            }
            let offset = warning
                .week
                .since(start)
                .map_or(0, |span| i64::from(span.get_days()));
            warning.actual = Some(
                (offset..offset + 7)
                    .filter_map(|index| usize::try_from(index).ok())
                    .filter_map(|index| daily.get(index))
                    .sum(),
            );
        }
        warnings.sort_by(|a, b| (a.week, &a.center).cmp(&(b.week, &b.center)));
        Ok(warnings)
    }
}
