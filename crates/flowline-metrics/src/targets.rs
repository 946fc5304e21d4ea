//! Targets, baselines, trends and reviews (SCOR implementation steps 2 to 5).
//!
//! A target names a metric, a slice, a value in the metric's display unit (in thousandths, so
//! 95 % is 95,000 and 2.5 days 2,500) and whether the metric must be at least or at most that.
//! Against a range it is met, missed, or "no data"; its trend compares the range with the one
//! before it (the calendar month before a month: [`Range::before`]), and its baseline is the
//! value over the baseline period. An initiative's review compares a metric over the period
//! before the initiative started with the period it ran (or has run so far), of equal lengths,
//! both within the data.

use crate::fold::{Dimension, Fold, Slice};
use crate::period::{Day, Range};
use crate::scorecard::{metric_info, scorecard};
use crate::value::MetricValue;
use flowline_core::documents::improvement::{Initiative, Target, TargetDirection};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Which side of the target is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The metric must reach the target or more.
    AtLeast,
    /// The metric must stay at the target or less.
    AtMost,
}

/// A target to evaluate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetSpec {
    /// The metric id.
    pub metric: String,
    /// The slice.
    pub slice: Slice,
    /// The target in the metric's display unit, thousandths.
    pub value_milli: i64,
    /// Which side is good.
    pub direction: Direction,
    /// The baseline period.
    pub baseline: Option<Range>,
}

/// Met, missed, or not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The value is on the good side of the target (or on it).
    Met,
    /// It is not.
    Missed,
    /// There is no value to judge.
    NoData,
}

/// Which way a metric moved, and whether that is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// Moved the good way.
    Improving,
    /// Moved the bad way.
    Worsening,
    /// Did not move.
    Flat,
    /// One of the two values is missing.
    Unknown,
}

/// A target evaluated over a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    /// The target.
    pub target: TargetSpec,
    /// The metric over the range.
    pub value: Option<MetricValue>,
    /// The metric over the range before it, of equal length.
    pub previous: Option<MetricValue>,
    /// The metric over the baseline period.
    pub baseline: Option<MetricValue>,
    /// Met or missed.
    pub status: Status,
    /// Against the previous range.
    pub trend: Trend,
}

fn value_of(
    fold: &Fold,
    metric: &str,
    range: Range,
    slice: &Slice,
    as_of: Timestamp,
) -> Option<MetricValue> {
    scorecard(fold, range, slice, as_of).value(metric).cloned()
}

fn higher_is_better(metric: &str, direction: Option<Direction>) -> bool {
    match direction {
        Some(Direction::AtLeast) => true,
        Some(Direction::AtMost) => false,
        None => metric_info(metric).is_none_or(|info| info.higher_is_better),
    }
}

fn trend(before: Option<f64>, after: Option<f64>, higher_is_better: bool) -> Trend {
    match (before, after) {
        (Some(before), Some(after)) => {
            if (after - before).abs() < 1e-9 {
                Trend::Flat
            } else if (after > before) == higher_is_better {
                Trend::Improving
            } else {
                Trend::Worsening
            }
        }
        _ => Trend::Unknown,
    }
}

/// Evaluates a target over `range`.
pub fn evaluate(fold: &Fold, target: &TargetSpec, range: Range, as_of: Timestamp) -> TargetReport {
    let value = value_of(fold, &target.metric, range, &target.slice, as_of);
    let previous = value_of(fold, &target.metric, range.before(), &target.slice, as_of);
    let baseline = target
        .baseline
        .and_then(|baseline| value_of(fold, &target.metric, baseline, &target.slice, as_of));
    let goal = target.value_milli as f64 / 1000.0;
    let status = match value.as_ref().and_then(|v| v.value) {
        None => Status::NoData,
        Some(actual) => {
            let met = match target.direction {
                Direction::AtLeast => actual >= goal,
                Direction::AtMost => actual <= goal,
            };
            if met { Status::Met } else { Status::Missed }
        }
    };
    let good_up = higher_is_better(&target.metric, Some(target.direction));
    TargetReport {
        trend: trend(
            previous.as_ref().and_then(|v| v.value),
            value.as_ref().and_then(|v| v.value),
            good_up,
        ),
        target: target.clone(),
        value,
        previous,
        baseline,
        status,
    }
}

/// A metric before and during an initiative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// The metric.
    pub metric: String,
    /// The period before the initiative, as long as the one reviewed.
    pub before_range: Range,
    /// The initiative's period (to its end, or to `as_of`).
    pub after_range: Range,
    /// The metric before.
    pub before: Option<MetricValue>,
    /// The metric during.
    pub after: Option<MetricValue>,
    /// After minus before, in the metric's display unit.
    pub change: Option<f64>,
    /// Whether the change is for the better.
    pub trend: Trend,
}

/// Reviews `metric` for an initiative that started on `starts_on` and ends on `ends_on` (or is
/// still running at `as_of`).
pub fn review(
    fold: &Fold,
    metric: &str,
    slice: &Slice,
    starts_on: Date,
    ends_on: Option<Date>,
    as_of: Timestamp,
) -> Review {
    let zone = &fold.settings().reporting;
    let today = Day::of(as_of, zone).next();
    // Both windows stop where the data does: "during" at the day after the latest operational
    // event (an initiative still running over a log imported from years ago is not judged
    // over the years since), "before" at the first one.
    let data = fold
        .activity()
        .map(|(first, last)| (Day::of(first, zone), Day::of(last, zone).next()));
    let start = Day::of_date(starts_on);
    let end = ends_on
        .map_or(today, |date| Day::of_date(date).min(today))
        .min(data.map_or(today, |(_, after_last)| after_last))
        .max(start);
    let after_range = Range {
        from: start,
        to: end,
    };
    let mut before_range = after_range.previous();
    if let Some((first, _)) = data {
        before_range.from = before_range.from.max(first).min(before_range.to);
    }
    let before = value_of(fold, metric, before_range, slice, as_of);
    let after = value_of(fold, metric, after_range, slice, as_of);
    let change = match (
        before.as_ref().and_then(|v| v.value),
        after.as_ref().and_then(|v| v.value),
    ) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    Review {
        metric: metric.to_string(),
        trend: trend(
            before.as_ref().and_then(|v| v.value),
            after.as_ref().and_then(|v| v.value),
            higher_is_better(metric, None),
        ),
        before_range,
        after_range,
        before,
        after,
        change,
    }
}

/// The slice a target's scope names (the whole tenant without one, or when the dimension is not
/// one the scorecard slices by).
pub fn slice_of(scope: Option<(&str, &str)>) -> Slice {
    scope
        .and_then(|(dimension, value)| {
            Dimension::parse(dimension).map(|dimension| Slice::of(dimension, value.to_string()))
        })
        .unwrap_or(Slice::All)
}

/// A recorded target as a specification to evaluate.
pub fn spec_of(target: &Target) -> TargetSpec {
    TargetSpec {
        metric: target.metric.clone(),
        slice: slice_of(
            target
                .scope
                .as_ref()
                .map(|scope| (scope.dimension.as_str(), scope.value.as_str())),
        ),
        value_milli: target.value_milli,
        direction: match target.direction {
            TargetDirection::AtLeast => Direction::AtLeast,
            TargetDirection::AtMost => Direction::AtMost,
        },
        baseline: target.baseline.map(|(from, to)| Range::of_dates(from, to)),
    }
}

/// A target's report, with its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetStatus {
    /// The target's id.
    pub id: String,
    /// Its report over the range.
    pub report: TargetReport,
}

/// Every active target of the tenant evaluated over `range`.
pub fn statuses(fold: &Fold, range: Range, as_of: Timestamp) -> Vec<TargetStatus> {
    fold.targets()
        .filter(|target| target.retired_at.is_none())
        .map(|target| TargetStatus {
            id: target.id.to_string(),
            report: evaluate(fold, &spec_of(target), range, as_of),
        })
        .collect()
}

/// An initiative's reviews: each of its metrics before and during it, tenant-wide.
pub fn reviews(fold: &Fold, initiative: &Initiative, as_of: Timestamp) -> Vec<Review> {
    initiative
        .metrics
        .iter()
        .map(|metric| {
            review(
                fold,
                metric,
                &Slice::All,
                initiative.starts_on,
                initiative.ends_on,
                as_of,
            )
        })
        .collect()
}
