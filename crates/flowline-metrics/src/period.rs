//! Days and periods in the tenant's reporting time zone (SCOR-METRICS §2.1).
//!
//! Aggregates are kept per local calendar day; a week, month, quarter or any range of days is a
//! half-open range of days, `[from, to)`. A local day is converted to instants with its own time
//! zone rules, so a day on which daylight saving time starts is 23 hours long and one on which it
//! ends is 25; nothing here assumes 24 hours.

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A local calendar day, as the number of days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Day(pub i32);

const EPOCH: Date = jiff::civil::date(1970, 1, 1);

impl Day {
    /// The day of a civil date.
    pub fn of_date(date: Date) -> Self {
        let days = date
            .since((jiff::Unit::Day, EPOCH))
            .map(|span| span.get_days())
            .unwrap_or(0);
        Self(days)
    }

    /// The local day an instant falls on in `zone`.
    pub fn of(at: Timestamp, zone: &TimeZone) -> Self {
        Self::of_date(at.to_zoned(zone.clone()).date())
    }

    /// The civil date.
    pub fn date(self) -> Date {
        EPOCH
            .checked_add(jiff::Span::new().days(i64::from(self.0)))
            .unwrap_or(EPOCH)
    }

    /// The next day.
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }

    /// The first instant of the day in `zone`.
    pub fn start(self, zone: &TimeZone) -> Timestamp {
        self.date()
            .to_zoned(zone.clone())
            .map(|zoned| zoned.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// A half-open range of local days, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Range {
    /// First day.
    pub from: Day,
    /// The day after the last.
    pub to: Day,
}

impl Range {
    /// The range of dates `[from, to)`.
    pub fn of_dates(from: Date, to: Date) -> Self {
        Self {
            from: Day::of_date(from),
            to: Day::of_date(to),
        }
    }

    /// Days in the range.
    pub fn days(self) -> i64 {
        i64::from((self.to.0 - self.from.0).max(0))
    }

    /// Whether a day is in the range.
    pub fn contains(self, day: Day) -> bool {
        self.from <= day && day < self.to
    }

    /// The range's length in seconds in `zone` (a DST day has 23 or 25 hours).
    pub fn seconds(self, zone: &TimeZone) -> i64 {
        self.to
            .start(zone)
            .duration_since(self.from.start(zone))
            .as_secs()
    }

    /// The period before this one: when it is a calendar quarter, month, ISO week or day, the
    /// one of that kind before it (February before March, not the 31 days before March 1);
    /// any other range, the same number of days just before it.
    pub fn before(self) -> Self {
        let from = self.from.date();
        for granularity in [
            Granularity::Quarter,
            Granularity::Month,
            Granularity::Week,
            Granularity::Day,
        ] {
            if granularity.period_of(from) == self {
                return granularity.before(from);
            }
        }
        self.previous()
    }

    /// The range of the same length just before this one.
    pub fn previous(self) -> Self {
        let length = self.to.0 - self.from.0;
        Self {
            from: Day(self.from.0 - length),
            to: self.from,
        }
    }
}

/// A kind of calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// A calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
    /// The twelve calendar months ending with the month of the day: a rolling year that
    /// steps one month at a time.
    TrailingYear,
}

impl Granularity {
    /// Every kind, shortest first.
    pub const ALL: [Self; 6] = [
        Self::Day,
        Self::Week,
        Self::Month,
        Self::Quarter,
        Self::Year,
        Self::TrailingYear,
    ];

    /// The name used in addresses and options: `day`, `week`, `month`, `quarter`, `year` or
    /// `trailing_12_months`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
            Self::TrailingYear => "trailing_12_months",
        }
    }

    /// The period in words, for sentences: "month", "12 months".
    pub fn noun(self) -> &'static str {
        match self {
            Self::TrailingYear => "12 months",
            other => other.name(),
        }
    }

    /// Parses [`Granularity::name`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == text)
    }

    /// The names of every kind, for messages: "day, week, month, quarter, year or
    /// trailing_12_months".
    pub fn names() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|kind| kind.name()).collect();
        let (last, rest) = names.split_last().unwrap_or((&"", &[]));
        format!("{} or {last}", rest.join(", "))
    }

    /// The period of this kind that contains `date`.
    pub fn period_of(self, date: Date) -> Range {
        let (start, end) = match self {
            Self::Day => (date, date.tomorrow().unwrap_or(date)),
            Self::Week => {
                let back = i64::from(date.weekday().to_monday_zero_offset());
                let start = date
                    .checked_sub(jiff::Span::new().days(back))
                    .unwrap_or(date);
                let end = start
                    .checked_add(jiff::Span::new().days(7))
                    .unwrap_or(start);
                (start, end)
            }
            Self::Month => {
                let start = date.first_of_month();
                (start, start.last_of_month().tomorrow().unwrap_or(start))
            }
            Self::Quarter => {
                let first_month = (date.month() - 1) / 3 * 3 + 1;
                let start = jiff::civil::date(date.year(), first_month, 1);
                let end = start
                    .checked_add(jiff::Span::new().months(3))
                    .unwrap_or(start);
                (start, end)
            }
            Self::Year => {
                let start = jiff::civil::date(date.year(), 1, 1);
                let end = start
                    .checked_add(jiff::Span::new().years(1))
                    .unwrap_or(start);
                (start, end)
            }
            Self::TrailingYear => {
                let end = date
                    .first_of_month()
                    .checked_add(jiff::Span::new().months(1))
                    .unwrap_or(date);
                let start = end.checked_sub(jiff::Span::new().months(12)).unwrap_or(end);
                (start, end)
            }
        };
        Range::of_dates(start, end)
    }

    /// The day that names `range`, a period of this kind, in addresses (`at=`): its first
    /// day, but for a trailing year its last, since it is the twelve months to that month.
    pub fn anchor(self, range: Range) -> Date {
        match self {
            Self::TrailingYear => {
                let last = range.to.date();
                last.yesterday().unwrap_or(last)
            }
            _ => range.from.date(),
        }
    }

    /// The length of one step back or forth: a rolling year moves by a month; every calendar
    /// period by itself.
    fn step(self) -> Self {
        match self {
            Self::TrailingYear => Self::Month,
            other => other,
        }
    }

    /// The period of this kind just before the one containing `date`: a month steps back one
    /// calendar month whatever the lengths of the months, a quarter one quarter.
    ///
    /// A trailing year steps back one month: the twelve months ending a month earlier.
    pub fn before(self, date: Date) -> Range {
        let step = self.step();
        let start = step.period_of(date).from.date();
        self.period_of(start.yesterday().unwrap_or(start))
    }

    /// The period of this kind just after the one containing `date` (for a trailing year,
    /// the twelve months ending a month later).
    pub fn after(self, date: Date) -> Range {
        self.period_of(self.step().period_of(date).to.date())
    }

    /// The consecutive periods of this kind covering `range`, each clipped to it.
    pub fn periods(self, range: Range) -> Vec<Range> {
        let mut periods = Vec::new();
        let mut day = range.from;
        while day < range.to {
            let period = self.period_of(day.date());
            let clipped = Range {
                from: day,
                to: period.to.min(range.to),
            };
            periods.push(clipped);
            day = clipped.to;
        }
        periods
    }
}

/// Monday of the ISO week, for tests and labels.
pub fn is_monday(date: Date) -> bool {
    date.weekday() == Weekday::Monday
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    #[test]
    fn the_day_daylight_saving_starts_in_new_york_is_23_hours_long() {
        // T-TZ-3: clocks go from 02:00 to 03:00 on 2025-03-09 in New York.
        let new_york = zone("America/New_York");
        let day = Range::of_dates(
            jiff::civil::date(2025, 3, 9),
            jiff::civil::date(2025, 3, 10),
        );
        assert_eq!(day.seconds(&new_york), 23 * 3600);
        // 2025-03-10T04:30Z is 00:30 local on March 10 (EDT, UTC−4), not March 9.
        let closed: Timestamp = "2025-03-10T04:30:00Z".parse().unwrap();
        assert_eq!(
            Day::of(closed, &new_york).date(),
            jiff::civil::date(2025, 3, 10)
        );
        // The same instant is still March 10 in UTC, and March 9 in Los Angeles (21:30 PDT).
        assert_eq!(
            Day::of(closed, &zone("America/Los_Angeles")).date(),
            jiff::civil::date(2025, 3, 9)
        );
    }

    #[test]
    fn previous_and_next_step_exactly_one_calendar_period() {
        let d = jiff::civil::date;
        let dates = |range: Range| (range.from.date(), range.to.date());
        // From any day of December 2025 the month before is November (30 days), not the 31
        // days before December 1 (October 31, in October).
        assert_eq!(
            dates(Granularity::Month.before(d(2025, 12, 15))),
            (d(2025, 11, 1), d(2025, 12, 1))
        );
        // March 31 steps back to February (28 days in 2025, 29 in 2024) and on to March.
        assert_eq!(
            dates(Granularity::Month.before(d(2025, 3, 31))),
            (d(2025, 2, 1), d(2025, 3, 1))
        );
        assert_eq!(
            dates(Granularity::Month.after(d(2024, 1, 31))),
            (d(2024, 2, 1), d(2024, 3, 1))
        );
        // Q2 2025 (April to June, 91 days): the quarter before is Q1 (90 days), not Q4 2024.
        assert_eq!(
            dates(Granularity::Quarter.before(d(2025, 5, 10))),
            (d(2025, 1, 1), d(2025, 4, 1))
        );
        assert_eq!(
            dates(Granularity::Quarter.before(d(2025, 1, 1))),
            (d(2024, 10, 1), d(2025, 1, 1))
        );
        assert_eq!(
            dates(Granularity::Quarter.after(d(2025, 11, 30))),
            (d(2026, 1, 1), d(2026, 4, 1))
        );
        // Wednesday 2025-03-05 is in the week of Monday 03-03; the week before starts 02-24.
        assert_eq!(
            dates(Granularity::Week.before(d(2025, 3, 5))),
            (d(2025, 2, 24), d(2025, 3, 3))
        );
        assert_eq!(
            dates(Granularity::Day.after(d(2024, 2, 28))),
            (d(2024, 2, 29), d(2024, 3, 1))
        );
        // Twelve steps back from December 2025 visit November 2025 to December 2024, in order.
        let mut at = d(2025, 12, 15);
        let mut months = Vec::new();
        for _ in 0..12 {
            let before = Granularity::Month.before(at);
            months.push(before.from.date());
            at = before.from.date();
        }
        let expected: Vec<Date> = (0..12)
            .map(|back| {
                let index = 2025 * 12 + 10 - back; // November 2025 is month index 10 of 2025
                d((index / 12) as i16, (index % 12 + 1) as i8, 1)
            })
            .collect();
        assert_eq!(months, expected);
    }

    #[test]
    fn the_period_before_a_calendar_period_is_the_calendar_period_before() {
        let d = jiff::civil::date;
        let dates = |range: Range| (range.from.date(), range.to.date());
        // March 2025 (31 days) follows February (28 days), not January 29 to March 1.
        let march = Range::of_dates(d(2025, 3, 1), d(2025, 4, 1));
        assert_eq!(dates(march.before()), (d(2025, 2, 1), d(2025, 3, 1)));
        // Q2 2025 (91 days) follows Q1 (90 days).
        let q2 = Range::of_dates(d(2025, 4, 1), d(2025, 7, 1));
        assert_eq!(dates(q2.before()), (d(2025, 1, 1), d(2025, 4, 1)));
        // A week, Monday 2025-03-03 to 03-10, follows the week of 02-24.
        let week = Range::of_dates(d(2025, 3, 3), d(2025, 3, 10));
        assert_eq!(dates(week.before()), (d(2025, 2, 24), d(2025, 3, 3)));
        // Ten days that are no calendar period: the ten days before.
        let ten = Range::of_dates(d(2025, 3, 5), d(2025, 3, 15));
        assert_eq!(dates(ten.before()), (d(2025, 2, 23), d(2025, 3, 5)));
    }

    #[test]
    fn periods_split_a_range_at_calendar_boundaries() {
        // 2025-03-30 (Sunday) to 2025-04-08: weeks start Monday 03-31 and 04-07.
        let range = Range::of_dates(
            jiff::civil::date(2025, 3, 30),
            jiff::civil::date(2025, 4, 8),
        );
        let weeks: Vec<(Date, Date)> = Granularity::Week
            .periods(range)
            .iter()
            .map(|p| (p.from.date(), p.to.date()))
            .collect();
        assert_eq!(
            weeks,
            [
                (
                    jiff::civil::date(2025, 3, 30),
                    jiff::civil::date(2025, 3, 31)
                ),
                (
                    jiff::civil::date(2025, 3, 31),
                    jiff::civil::date(2025, 4, 7)
                ),
                (jiff::civil::date(2025, 4, 7), jiff::civil::date(2025, 4, 8)),
            ]
        );
        let quarter = Granularity::Quarter.period_of(jiff::civil::date(2025, 5, 17));
        assert_eq!(quarter.from.date(), jiff::civil::date(2025, 4, 1));
        assert_eq!(quarter.to.date(), jiff::civil::date(2025, 7, 1));
        assert_eq!(quarter.days(), 91);
        assert!(is_monday(jiff::civil::date(2025, 3, 31)));
    }

    #[test]
    fn a_year_and_a_trailing_year_are_periods_that_step_back_and_forth() {
        let d = jiff::civil::date;
        let dates = |range: Range| (range.from.date(), range.to.date());
        // The calendar year of 2025-05-10: 2025-01-01 to 2026-01-01; before it 2024 (366
        // days, a leap year), after it 2026.
        assert_eq!(
            dates(Granularity::Year.period_of(d(2025, 5, 10))),
            (d(2025, 1, 1), d(2026, 1, 1))
        );
        assert_eq!(Granularity::Year.before(d(2025, 5, 10)).days(), 366);
        assert_eq!(
            dates(Granularity::Year.after(d(2025, 12, 31))),
            (d(2026, 1, 1), d(2027, 1, 1))
        );
        // The twelve months ending with May 2025: June 2024 to the end of May 2025.
        let trailing = Granularity::TrailingYear.period_of(d(2025, 5, 10));
        assert_eq!(dates(trailing), (d(2024, 6, 1), d(2025, 6, 1)));
        assert_eq!(Granularity::Month.periods(trailing).len(), 12);
        // It rolls by one month: before it, the twelve months ending with April 2025; after it,
        // those ending with June 2025.
        assert_eq!(
            dates(Granularity::TrailingYear.before(d(2025, 5, 10))),
            (d(2024, 5, 1), d(2025, 5, 1))
        );
        assert_eq!(
            dates(Granularity::TrailingYear.after(d(2025, 5, 10))),
            (d(2024, 7, 1), d(2025, 7, 1))
        );
        // Names round-trip, and an unknown one is refused.
        for kind in Granularity::ALL {
            assert_eq!(Granularity::parse(kind.name()), Some(kind));
        }
        assert_eq!(Granularity::parse("fortnight"), None);
        assert_eq!(
            Granularity::names(),
            "day, week, month, quarter, year or trailing_12_months"
        );
    }
}
