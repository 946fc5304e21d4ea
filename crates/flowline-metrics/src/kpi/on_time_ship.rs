//! K-4 on-time ship rate against a fulfillment center's cut-off calendar (SCOR-METRICS §9.2).
//!
//! `orders handed to the carrier before their ship-by deadline / orders whose deadline falls
//! in the period`. The ship-by day follows the FC's cut-off in the FC's own time zone: an order
//! ready before the cut-off on a working day ships that day, any other order the next working
//! day. The deadline is the end of the ship-by day in the FC's zone (or, if configured, the
//! last carrier pickup that day). Anchoring the denominator on deadlines, not on ship dates,
//! makes an unshipped overdue order a miss instead of leaving it out.
//!
//! All calendar arithmetic is done in the FC's zone with jiff, so days of 23 or 25 hours and
//! late-evening handovers that fall on the next UTC date are judged by the FC's clock.

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::{KpiError, Period, count, share};
use crate::value::{Coverage, MetricValue, Unit};

/// How far ahead to look for a working day before calling the calendar broken.
const WORKING_DAY_SEARCH_DAYS: u32 = 3_660;

/// Where on the ship-by day the deadline falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipByDeadline {
    /// The end of the ship-by day in the FC's zone (the default).
    EndOfShipByDay,
    /// The last carrier pickup, at this local time on the ship-by day.
    LastCarrierPickup(Time),
}

/// A fulfillment center's shipping calendar: time zone, cut-off, working weekdays and
/// holidays.
#[derive(Debug, Clone)]
pub struct FulfillmentCenterCalendar {
    time_zone_name: String,
    time_zone: TimeZone,
    cut_off: Time,
    working_weekdays: Vec<Weekday>,
    holidays: Vec<Date>,
    deadline: ShipByDeadline,
}

impl FulfillmentCenterCalendar {
    /// A calendar for an FC in the IANA zone `time_zone_name` (from the database bundled with
    /// jiff, so the answer does not depend on the host). Orders ready strictly before
    /// `cut_off` local time on a working day ship that day.
    pub fn new(
        time_zone_name: &str,
        cut_off: Time,
        working_weekdays: &[Weekday],
        holidays: &[Date],
        deadline: ShipByDeadline,
    ) -> Result<Self, KpiError> {
        let time_zone =
            TimeZone::get(time_zone_name).map_err(|error| KpiError::UnknownTimeZone {
                name: time_zone_name.to_string(),
                reason: error.to_string(),
            })?;
        if working_weekdays.is_empty() {
            return Err(KpiError::NoWorkingWeekday);
        }
        Ok(Self {
            time_zone_name: time_zone_name.to_string(),
            time_zone,
            cut_off,
            working_weekdays: working_weekdays.to_vec(),
            holidays: holidays.to_vec(),
            deadline,
        })
    }

    /// The IANA zone name.
    pub fn time_zone_name(&self) -> &str {
        &self.time_zone_name
    }

    /// The local cut-off time.
    pub fn cut_off(&self) -> Time {
        self.cut_off
    }

    /// Whether the FC ships on `date` (a working weekday and not a holiday).
    pub fn is_working_day(&self, date: Date) -> bool {
        self.working_weekdays.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// The local date an order ready at `ready_at` must ship by.
    pub fn ship_by_date(&self, ready_at: Timestamp) -> Result<Date, KpiError> {
        let local = ready_at.to_zoned(self.time_zone.clone());
        let ready_on = local.date();
        if self.is_working_day(ready_on) && local.time() < self.cut_off {
            return Ok(ready_on);
        }
        let mut candidate = ready_on;
        for _ in 0..WORKING_DAY_SEARCH_DAYS {
            candidate = candidate.tomorrow()?;
            if self.is_working_day(candidate) {
                return Ok(candidate);
            }
        }
        Err(KpiError::NoWorkingDayAhead { after: ready_on })
    }

    /// The deadline instant for `ship_by`: a handover strictly before it is on time.
    pub fn deadline(&self, ship_by: Date) -> Result<Timestamp, KpiError> {
        // Midnight and pickup times are resolved "compatibly": a local time skipped by a DST
        // gap moves forward past the gap, which is when that local day actually starts.
        let local = match self.deadline {
            ShipByDeadline::EndOfShipByDay => ship_by.tomorrow()?.to_datetime(Time::midnight()),
            ShipByDeadline::LastCarrierPickup(pickup) => ship_by.to_datetime(pickup),
        };
        Ok(self.time_zone.to_zoned(local)?.timestamp())
    }
}

/// One order as the FC saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipSample {
    /// The order.
    pub order: String,
    /// When the order was placed.
    pub placed_at: Timestamp,
    /// When a hold at the customer's request ended, if the customer held the order: the
    /// cut-off rule then starts from the release. Holds for the organisation's own reasons
    /// (payment, fraud review) do not move the deadline.
    pub customer_hold_released_at: Option<Timestamp>,
    /// First carrier scan or handover event, if shipped.
    pub handed_over_at: Option<Timestamp>,
}

/// How one order was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipOutcome {
    /// Handed over before the deadline.
    OnTime,
    /// Handed over at or after the deadline.
    Late,
    /// Not handed over, and the deadline has passed: a miss.
    NotShippedOverdue,
    /// Not handed over, deadline still ahead: not judged yet.
    NotYetDue,
}

/// One order in the period, for drill-down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipJudgement {
    /// The order.
    pub order: String,
    /// Its ship-by date, FC local.
    pub ship_by: Date,
    /// Its deadline.
    pub deadline: Timestamp,
    /// The outcome.
    pub outcome: ShipOutcome,
}

/// The on-time ship rate with the orders behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnTimeShipRate {
    /// On time / (on time + late + overdue) (`ops.on_time_ship_rate`); coverage counts orders
    /// not yet due, and the value is provisional while any are or the period is not over.
    pub rate: MetricValue,
    /// Every order whose deadline falls in the period, in input order.
    pub orders: Vec<ShipJudgement>,
}

/// The on-time ship rate of the orders whose deadline falls in `period`, as known at `as_of`
/// (orders placed and handovers made at or after `as_of` are not known yet).
///
/// A deadline belongs to the period when `start < deadline ≤ end`: the end-of-day deadline of
/// the period's last day is the instant the period ends, and it belongs to that day.
pub fn on_time_ship_rate(
    calendar: &FulfillmentCenterCalendar,
    orders: &[ShipSample],
    period: Period,
    as_of: Timestamp,
) -> Result<OnTimeShipRate, KpiError> {
    let mut judgements = Vec::new();
    for order in orders {
        // An order placed after `as_of` is not known yet.
        if order.placed_at >= as_of {
            continue;
        }
        let ready_at = match order.customer_hold_released_at {
            Some(released_at) => released_at.max(order.placed_at),
            None => order.placed_at,
        };
        let ship_by = calendar.ship_by_date(ready_at)?;
        let deadline = calendar.deadline(ship_by)?;
        if !(period.start < deadline && deadline <= period.end) {
            continue;
        }
        let handed_over_at = order.handed_over_at.filter(|at| *at < as_of);
        let outcome = match handed_over_at {
            Some(at) if at < deadline => ShipOutcome::OnTime,
            Some(_) => ShipOutcome::Late,
            None if as_of >= deadline => ShipOutcome::NotShippedOverdue,
            None => ShipOutcome::NotYetDue,
        };
        judgements.push(ShipJudgement {
            order: order.order.clone(),
            ship_by,
            deadline,
            outcome,
        });
    }
    let outcomes = |wanted: ShipOutcome| {
        count(
            judgements
                .iter()
                .filter(|judgement| judgement.outcome == wanted)
                .count(),
        )
    };
    let on_time = outcomes(ShipOutcome::OnTime);
    let not_yet_due = outcomes(ShipOutcome::NotYetDue);
    let candidates = count(judgements.len());
    let judged = candidates - not_yet_due;
    let note = match not_yet_due {
        0 => String::new(),
        1 => "1 order not yet due".to_string(),
        orders => format!("{orders} orders not yet due"),
    };
    let rate = MetricValue::new(
        "ops.on_time_ship_rate",
        share(on_time, judged),
        Unit::Percent,
        judged,
    )
    .covering(Coverage {
        judged,
        candidates,
        note,
    })
    .provisional(not_yet_due > 0 || as_of < period.end);
    Ok(OnTimeShipRate {
        rate,
        orders: judgements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Ratio;
    use jiff::civil::{date, time};

    const NEW_YORK: &str = "America/New_York";
    const MONDAY_TO_FRIDAY: [Weekday; 5] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
    ];

    fn calendar(holidays: &[Date]) -> FulfillmentCenterCalendar {
        FulfillmentCenterCalendar::new(
            NEW_YORK,
            time(14, 0, 0, 0),
            &MONDAY_TO_FRIDAY,
            holidays,
            ShipByDeadline::EndOfShipByDay,
        )
        .unwrap()
    }

    /// A New York wall-clock time as an instant.
    fn new_york(year: i16, month: i8, day: i8, hour: i8, minute: i8) -> Timestamp {
        date(year, month, day)
            .at(hour, minute, 0, 0)
            .in_tz(NEW_YORK)
            .unwrap()
            .timestamp()
    }

    fn sample(order: &str, placed_at: Timestamp, handed_over_at: Option<Timestamp>) -> ShipSample {
        ShipSample {
            order: order.to_string(),
            placed_at,
            customer_hold_released_at: None,
            handed_over_at,
        }
    }

    /// Worked example K-4's orders.
    fn example_k4() -> Vec<ShipSample> {
        vec![
            // S1: Mon 03-03 13:30 EST, before the cut-off → ship Mon; handed over 03:00Z Tue,
            // which is Mon 22:00 EST.
            sample(
                "S1",
                new_york(2025, 3, 3, 13, 30),
                Some("2025-03-04T03:00:00Z".parse().unwrap()),
            ),
            // S2: Mon 14:30, after the cut-off → ship Tue; handed over Tue 10:00.
            sample(
                "S2",
                new_york(2025, 3, 3, 14, 30),
                Some(new_york(2025, 3, 4, 10, 0)),
            ),
            // S3: Fri 03-07 15:00, after the cut-off → next working day Mon 03-10 (EDT from
            // Sun 03-09); handed over Tue 03-11 10:00.
            sample(
                "S3",
                new_york(2025, 3, 7, 15, 0),
                Some(new_york(2025, 3, 11, 10, 0)),
            ),
            // S4: Tue 03-04 09:00 → ship Tue; never shipped.
            sample("S4", new_york(2025, 3, 4, 9, 0), None),
        ]
    }

    /// March 2025 in New York: [03-01 00:00 EST, 04-01 00:00 EDT).
    fn march_2025() -> Period {
        Period::new(new_york(2025, 3, 1, 0, 0), new_york(2025, 4, 1, 0, 0)).unwrap()
    }

    #[test]
    fn worked_example_k4_on_time_ship_rate_uses_the_fc_zone_and_counts_unshipped_misses() {
        // S1 on time (Mon 22:00 local < end of Mon), S2 on time, S3 late (Tue after a Mon
        // ship-by), S4 overdue and unshipped at period end → 2 / 4 = 50.00 %.
        let period = march_2025();
        let result = on_time_ship_rate(&calendar(&[]), &example_k4(), period, period.end).unwrap();
        let outcomes: Vec<(&str, Date, ShipOutcome)> = result
            .orders
            .iter()
            .map(|judgement| {
                (
                    judgement.order.as_str(),
                    judgement.ship_by,
                    judgement.outcome,
                )
            })
            .collect();
        assert_eq!(
            outcomes,
            vec![
                ("S1", date(2025, 3, 3), ShipOutcome::OnTime),
                ("S2", date(2025, 3, 4), ShipOutcome::OnTime),
                ("S3", date(2025, 3, 10), ShipOutcome::Late),
                ("S4", date(2025, 3, 4), ShipOutcome::NotShippedOverdue),
            ]
        );
        assert_eq!(result.rate.ratio, Ratio::new(2, 4));
        assert_eq!(result.rate.value, Some(50.0));
        assert_eq!(result.rate.describe("USD"), "50.00 % (2 of 4)");
        assert!(!result.rate.provisional);

        // Deadlines are local midnights: EST (−5) before the DST change, EDT (−4) after it.
        let deadline = |order: usize| result.orders[order].deadline;
        assert_eq!(deadline(0), "2025-03-04T05:00:00Z".parse().unwrap());
        assert_eq!(deadline(2), "2025-03-11T04:00:00Z".parse().unwrap());

        // S1 would be wrongly late by UTC dates: its handover is on UTC date 03-04, after its
        // ship-by date 03-03, yet it is 22:00 on 03-03 in New York.
        let handed_over_at = example_k4()[0].handed_over_at.unwrap();
        assert_eq!(
            handed_over_at.to_zoned(TimeZone::UTC).date(),
            date(2025, 3, 4)
        );
        assert!(handed_over_at.to_zoned(TimeZone::UTC).date() > result.orders[0].ship_by);
        assert_eq!(result.orders[0].outcome, ShipOutcome::OnTime);
    }

    #[test]
    fn orders_not_yet_due_are_not_judged_and_the_value_is_provisional() {
        // As of Tue 03-04 09:30 local: S1 judged on time; S2 (handed over at 10:00, not yet
        // known) and S4 (ship-by Tue) are not yet due; S3 is not placed until Fri, so it is
        // not known at all → 1 / 1, 2 not yet due.
        let period = march_2025();
        let as_of = new_york(2025, 3, 4, 9, 30);
        let result = on_time_ship_rate(&calendar(&[]), &example_k4(), period, as_of).unwrap();
        assert_eq!(result.rate.ratio, Ratio::new(1, 1));
        assert_eq!(result.orders.len(), 3);
        assert!(result.rate.provisional);
        assert_eq!(
            result.rate.describe("USD"),
            "100.00 % (1 of 1; 2 orders not yet due), provisional"
        );
    }

    #[test]
    fn holidays_and_customer_holds_move_the_ship_by_day() {
        // With Mon 03-10 a holiday, S3 ships by Tue 03-11 and is on time → 3 / 4.
        let period = march_2025();
        let holiday = calendar(&[date(2025, 3, 10)]);
        let result = on_time_ship_rate(&holiday, &example_k4(), period, period.end).unwrap();
        assert_eq!(result.orders[2].ship_by, date(2025, 3, 11));
        assert_eq!(result.rate.ratio, Ratio::new(3, 4));

        // Placed Mon 09:00 but held by the customer until Wed 15:00 → ship by Thu.
        let held = ShipSample {
            customer_hold_released_at: Some(new_york(2025, 3, 5, 15, 0)),
            ..sample("S5", new_york(2025, 3, 3, 9, 0), None)
        };
        let result = on_time_ship_rate(&calendar(&[]), &[held], period, period.end).unwrap();
        assert_eq!(result.orders[0].ship_by, date(2025, 3, 6));
    }

    #[test]
    fn a_deadline_at_the_period_end_belongs_to_the_period() {
        // S2's ship-by day is Tue 03-04; its deadline, Wed 00:00 local, ends the day
        // [Tue 00:00, Wed 00:00).
        let tuesday = Period::new(new_york(2025, 3, 4, 0, 0), new_york(2025, 3, 5, 0, 0)).unwrap();
        let result =
            on_time_ship_rate(&calendar(&[]), &example_k4(), tuesday, tuesday.end).unwrap();
        let orders: Vec<&str> = result
            .orders
            .iter()
            .map(|judgement| judgement.order.as_str())
            .collect();
        assert_eq!(orders, vec!["S2", "S4"]);
    }

    #[test]
    fn a_last_pickup_deadline_and_bad_calendars() {
        let pickup = FulfillmentCenterCalendar::new(
            NEW_YORK,
            time(14, 0, 0, 0),
            &MONDAY_TO_FRIDAY,
            &[],
            ShipByDeadline::LastCarrierPickup(time(18, 0, 0, 0)),
        )
        .unwrap();
        // With an 18:00 pickup, S1's 22:00 handover misses.
        assert_eq!(
            pickup.deadline(date(2025, 3, 3)).unwrap(),
            "2025-03-03T23:00:00Z".parse().unwrap()
        );
        assert!(matches!(
            FulfillmentCenterCalendar::new(
                "Mars/Olympus_Mons",
                time(14, 0, 0, 0),
                &MONDAY_TO_FRIDAY,
                &[],
                ShipByDeadline::EndOfShipByDay,
            ),
            Err(KpiError::UnknownTimeZone { .. })
        ));
        assert_eq!(
            FulfillmentCenterCalendar::new(
                NEW_YORK,
                time(14, 0, 0, 0),
                &[],
                &[],
                ShipByDeadline::EndOfShipByDay,
            )
            .err(),
            Some(KpiError::NoWorkingWeekday)
        );
    }
}
