//! Plan: published demand forecasts.
//!
//! A forecast is recorded when it is published, with the day it starts and each item's expected
//! demand for every day of its horizon, so that its accuracy can be measured afterwards against
//! what customers ordered, at every lag (how many days ahead each figure was made). Nothing
//! changes a forecast once published; a new one supersedes it for the days it covers.
//!
//! A line is the whole network's forecast of an item (the headline), or its share at one
//! fulfillment center, or in one sales channel, so that the split can be judged where it is
//! made; a line names at most one of the two. Those are a center's or a channel's demand, not
//! a center's demand in a channel: nothing is measured at that grain.
//!
//! Quantities are in thousandths of a unit: the planner's figures are real numbers.

use crate::error::{DocumentKind, DomainError};
use crate::id::{ChannelId, ForecastId, LocationId, Sku};
use crate::state::{Context, State};
use jiff::Timestamp;
use jiff::civil::Date;
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

const KIND: DocumentKind = DocumentKind::Forecast;

/// The most lines (items, items at centers, items in channels) one forecast may carry.
pub const FORECAST_LINES_MAX: usize = 5_000;

/// The longest horizon, in days.
pub const FORECAST_DAYS_MAX: usize = 366;

/// The most figures (lines × days) one forecast may carry.
pub const FORECAST_FIGURES_MAX: usize = 500_000;

/// One item's forecast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ForecastLine {
    /// The item.
    pub sku: Sku,
    /// The center, when the forecast is one center's share; the whole network when absent.
    #[serde(default)]
    pub location: Option<LocationId>,
    /// The sales channel, when the forecast is one channel's share (never with a center).
    /// Absent from forecasts published before channels were forecast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelId>,
    /// The model that made it (`ets(A,N,A)`).
    #[serde(default)]
    pub model: Option<String>,
    /// Expected units each day from the forecast's first day, thousandths (≥ 0).
    pub daily_milli: Vec<i64>,
}

/// Publish a forecast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PublishForecast {
    /// New forecast id.
    pub forecast: ForecastId,
    /// The first day forecast (day 0 of every line), in the tenant's reporting time zone.
    pub first_day: Date,
    /// Lines, each item once per place (the network, a center, a channel).
    pub lines: Vec<ForecastLine>,
}

crate::registry::event_family! {
    /// Forecast events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum ForecastEvent {
        /// A forecast was published.
        "ForecastPublished" => Published {
            /// Forecast id.
            forecast: ForecastId,
            /// Its first day.
            first_day: Date,
            /// Lines.
            lines: Vec<ForecastLine>,
            /// When.
            at: Timestamp,
        },
    }
}

impl ForecastEvent {
    /// The forecast the event belongs to.
    pub fn forecast(&self) -> &ForecastId {
        match self {
            Self::Published { forecast, .. } => forecast,
        }
    }
}

/// Publish.
pub(crate) fn publish(
    state: &State,
    command: &PublishForecast,
    ctx: &Context,
) -> Result<Vec<ForecastEvent>, DomainError> {
    state.settings()?;
    if state.forecasts.contains(&command.forecast) {
        return Err(DomainError::AlreadyExists {
            kind: KIND,
            id: command.forecast.to_string(),
        });
    }
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "a forecast needs at least one line",
        ));
    }
    if command.lines.len() > FORECAST_LINES_MAX {
        return Err(DomainError::invalid(
            "lines",
            format!(
                "{} lines; the limit is {FORECAST_LINES_MAX}",
                command.lines.len()
            ),
        ));
    }
    let mut figures = 0_usize;
    let mut seen = FxHashSet::default();
    for (index, line) in command.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        state.stocked_item(&line.sku, &at("sku"))?;
        if let Some(location) = &line.location {
            state.fulfillment_center(location, &at("location"))?;
            if line.channel.is_some() {
                return Err(DomainError::invalid(
                    at("channel"),
                    "a line is one center's or one channel's share, not both",
                ));
            }
        }
        if !seen.insert((&line.sku, &line.location, &line.channel)) {
            return Err(DomainError::invalid(
                at("sku"),
                format!("{} is forecast twice for the same place", line.sku),
            ));
        }
        if line.daily_milli.is_empty() || line.daily_milli.len() > FORECAST_DAYS_MAX {
            return Err(DomainError::invalid(
                at("daily_milli"),
                format!(
                    "has {} days; a forecast covers 1 to {FORECAST_DAYS_MAX}",
                    line.daily_milli.len()
                ),
            ));
        }
        if let Some(day) = line.daily_milli.iter().position(|value| *value < 0) {
            return Err(DomainError::invalid(
                format!("lines[{index}].daily_milli[{day}]"),
                format!("must not be negative, is {}", line.daily_milli[day]),
            ));
        }
        if line.model.as_ref().is_some_and(|model| model.len() > 200) {
            return Err(DomainError::invalid(
                at("model"),
                "is longer than 200 bytes",
            ));
        }
        figures += line.daily_milli.len();
    }
    if figures > FORECAST_FIGURES_MAX {
        return Err(DomainError::invalid(
            "lines",
            format!("{figures} daily figures; the limit is {FORECAST_FIGURES_MAX}"),
        ));
    }
    Ok(vec![ForecastEvent::Published {
        forecast: command.forecast.clone(),
        first_day: command.first_day,
        lines: command.lines.clone(),
        at: ctx.at,
    }])
}

/// Applies a forecast event: only its id is kept (to refuse a second with the same id); the
/// figures live in the log and in the projections that measure them.
pub(crate) fn apply(forecasts: &mut FxHashSet<ForecastId>, event: &ForecastEvent) {
    let ForecastEvent::Published { forecast, .. } = event;
    forecasts.insert(forecast.clone());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::testkit::{id, ok, rejected, tenant};
    use crate::state::{Command, Event};

    const T1: &str = "2025-03-02T09:00:00Z";

    fn publish(lines: Vec<ForecastLine>) -> Command {
        Command::PublishForecast(PublishForecast {
            forecast: id("F-1"),
            first_day: "2025-03-03".parse().unwrap(),
            lines,
        })
    }

    fn line(sku: &str, daily: &[i64]) -> ForecastLine {
        ForecastLine {
            sku: id(sku),
            location: None,
            channel: None,
            model: Some("ses".into()),
            daily_milli: daily.to_vec(),
        }
    }

    fn placed(sku: &str, location: Option<&str>, channel: Option<&str>) -> ForecastLine {
        ForecastLine {
            location: location.map(id),
            channel: channel.map(id),
            ..line(sku, &[1000])
        }
    }

    /// The network-wide line, one per center and one per channel: each place once per item.
    #[test]
    fn an_item_is_forecast_for_the_network_each_center_and_each_channel() {
        let mut state = tenant();
        let lines = vec![
            line("MUG", &[3000]),
            placed("MUG", Some("FC-EAST"), None),
            placed("MUG", Some("FC-WEST"), None),
            placed("MUG", None, Some("web")),
            placed("MUG", None, Some("shop")),
        ];
        let events = ok(&mut state, publish(lines.clone()), T1);
        let Event::Forecast(ForecastEvent::Published {
            lines: recorded, ..
        }) = &events[0]
        else {
            panic!("{events:?}");
        };
        assert_eq!(recorded, &lines);
    }

    /// A forecast published before lines could name a channel reads as it did: every line
    /// without one. A line without a channel is written without the field, as before.
    #[test]
    fn forecasts_published_before_channels_still_decode() {
        let old = serde_json::json!({
            "type": "ForecastPublished",
            "forecast": "F-1",
            "first_day": "2025-03-03",
            "lines": [
                {"sku": "MUG", "location": null, "model": "ses", "daily_milli": [1500]},
                {"sku": "MUG", "location": "FC-EAST", "model": "ses", "daily_milli": [500]}
            ],
            "at": "2025-03-02T09:00:00Z"
        });
        let event =
            Event::from_json("ForecastPublished", Event::SCHEMA_VERSION, &old.to_string()).unwrap();
        let Event::Forecast(ForecastEvent::Published { lines, .. }) = &event else {
            panic!("{event:?}");
        };
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|line| line.channel.is_none()));
        assert_eq!(lines[1].location, Some(id("FC-EAST")));
        let written = serde_json::to_value(&lines[0]).unwrap();
        assert!(written.get("channel").is_none(), "{written}");
        let again: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(again, old);
    }

    #[test]
    fn a_forecast_is_published_once() {
        let mut state = tenant();
        let events = ok(&mut state, publish(vec![line("MUG", &[1500, 2000])]), T1);
        assert_eq!(events.len(), 1);
        assert!(state.forecasts.contains(&id("F-1")));
        let error = rejected(&mut state, publish(vec![line("MUG", &[1])]), T1);
        assert!(
            matches!(error, DomainError::AlreadyExists { .. }),
            "{error}"
        );
    }

    #[test]
    fn bad_forecasts_name_their_field() {
        let mut state = tenant();
        let long = vec![1; FORECAST_DAYS_MAX + 1];
        let cases = [
            (publish(vec![]), "lines"),
            (publish(vec![line("NOPE", &[1])]), "lines[0].sku"),
            (publish(vec![line("DUO", &[1])]), "lines[0].sku"),
            (publish(vec![line("MUG", &[])]), "lines[0].daily_milli"),
            (publish(vec![line("MUG", &long)]), "lines[0].daily_milli"),
            (
                publish(vec![line("MUG", &[1, -2])]),
                "lines[0].daily_milli[1]",
            ),
            (
                publish(vec![line("MUG", &[1]), line("MUG", &[2])]),
                "lines[1].sku",
            ),
            (
                publish(vec![
                    line("MUG", &[1]),
                    placed("MUG", Some("FC-EAST"), Some("web")),
                ]),
                "lines[1].channel",
            ),
            (
                publish(vec![
                    placed("MUG", None, Some("web")),
                    placed("MUG", None, Some("web")),
                ]),
                "lines[1].sku",
            ),
            (
                publish(vec![placed("MUG", Some("FC-NOWHERE"), None)]),
                "lines[0].location",
            ),
        ];
        for (command, field) in cases {
            let error = rejected(&mut state, command, T1);
            let named = match &error {
                DomainError::Invalid { field, .. } | DomainError::NotFound { field, .. } => {
                    field.clone()
                }
                other => panic!("{field}: {other}"),
            };
            assert_eq!(named, field, "{error}");
        }
    }
}
