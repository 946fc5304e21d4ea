//! Dates and times without an offset, read as civil times of a named zone.
//!
//! Accepted forms: `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DDTHH:MM:SS` (either
//! separator, optionally with fractional seconds), `YYYY-MM-DD` (midnight), and what a
//! spreadsheet writes when it re-saves a file: `D/M/YYYY H:MM[:SS]` or `M/D/YYYY H:MM[:SS]`
//! (also with a date alone, and with two-digit years, read as 20YY).
//!
//! Whether `3/4/2018` is the 3rd of April or the 4th of March cannot be told from one value, so
//! it is decided per file and column from all of them ([`detect_day_order`]): a first field
//! above 12 can only be a day (day first), a second field above 12 can only be a day too (month
//! first). A column with both kinds is malformed; a column with neither is read day-first, as
//! pt-BR spreadsheets save dates.

use crate::error::{Problem, ProblemKind, Problems};
use crate::table::Field;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use std::collections::BTreeSet;
use std::fmt;

/// Which field of a slash date (`3/4/2018`) is the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOrder {
    /// `D/M/YYYY`, as pt-BR and most European spreadsheets save dates.
    DayFirst,
    /// `M/D/YYYY`, as en-US spreadsheets save dates.
    MonthFirst,
}

/// How the day order of a column of slash dates was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayOrderDecision {
    /// A value's first field is above 12, so it can only be the day.
    DayFirst {
        /// The first line that decided it.
        line: u64,
        /// Its value.
        value: String,
    },
    /// A value's second field is above 12, so the first must be the month.
    MonthFirst {
        /// The first line that decided it.
        line: u64,
        /// Its value.
        value: String,
    },
    /// No value has a field above 12; read day-first, the Brazilian convention.
    DayFirstByDefault,
    /// The mapping of the file says which (`day_order`).
    Declared(DayOrder),
}

impl DayOrderDecision {
    /// The order decided.
    pub fn order(&self) -> DayOrder {
        match self {
            Self::MonthFirst { .. } => DayOrder::MonthFirst,
            Self::DayFirst { .. } | Self::DayFirstByDefault => DayOrder::DayFirst,
            Self::Declared(order) => *order,
        }
    }
}

/// The date formats found in one column of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormatDetected {
    /// The file.
    pub file: String,
    /// The column.
    pub column: String,
    /// The forms seen (`YYYY-MM-DD HH:MM:SS`, `D/M/YYYY H:MM`, ...), sorted.
    pub forms: Vec<String>,
    /// How the day order was decided, when the column has slash dates.
    pub day_order: Option<DayOrderDecision>,
    /// Non-empty values read.
    pub values: u64,
}

impl fmt::Display for DateFormatDetected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.file, self.column)?;
        if self.forms.is_empty() {
            write!(f, "no values")?;
        } else {
            write!(f, "{}", self.forms.join(", "))?;
        }
        match &self.day_order {
            None => Ok(()),
            Some(DayOrderDecision::DayFirst { line, value }) => {
                write!(f, " (day first: line {line} has {value})")
            }
            Some(DayOrderDecision::MonthFirst { line, value }) => {
                write!(f, " (month first: line {line} has {value})")
            }
            Some(DayOrderDecision::DayFirstByDefault) => write!(
                f,
                " (day first by default: no field above 12 decides it, and pt-BR spreadsheets save DD/MM/YYYY)"
            ),
            Some(DayOrderDecision::Declared(DayOrder::DayFirst)) => {
                write!(f, " (day first, as the mapping says)")
            }
            Some(DayOrderDecision::Declared(DayOrder::MonthFirst)) => {
                write!(f, " (month first, as the mapping says)")
            }
        }
    }
}

/// Decides the day order of a column's slash dates from all its values. Records a
/// [`ProblemKind::DateOrderConflict`] when some values only fit day-first and others only
/// month-first. Returns `None` when the column has no slash dates.
pub(crate) fn detect_day_order<'v>(
    file: &str,
    column: &str,
    values: impl Iterator<Item = (u64, &'v str)>,
    problems: &mut Problems,
) -> Option<DayOrderDecision> {
    let mut any_slash = false;
    let mut day_first: Option<(u64, &str)> = None;
    let mut month_first: Option<(u64, &str)> = None;
    for (line, value) in values {
        let Some((first, second)) = slash_fields(value) else {
            continue;
        };
        any_slash = true;
        // A value with both fields above 12 fits neither order; it is reported when parsed.
        match (first > 12, second > 12) {
            (true, false) if day_first.is_none() => day_first = Some((line, value)),
            (false, true) if month_first.is_none() => month_first = Some((line, value)),
            _ => {}
        }
    }
    match (day_first, month_first) {
        (Some((day_line, day_value)), Some((month_line, month_value))) => {
            problems.push(Problem {
                file: file.to_string(),
                line: Some(day_line.max(month_line)),
                column: Some(column.to_string()),
                value: None,
                kind: ProblemKind::DateOrderConflict {
                    day_first_line: day_line,
                    day_first_value: day_value.to_string(),
                    month_first_line: month_line,
                    month_first_value: month_value.to_string(),
                },
            });
            // Reading on day-first finds the remaining problems of the column all the same.
            Some(DayOrderDecision::DayFirstByDefault)
        }
        (Some((line, value)), None) => Some(DayOrderDecision::DayFirst {
            line,
            value: value.to_string(),
        }),
        (None, Some((line, value))) => Some(DayOrderDecision::MonthFirst {
            line,
            value: value.to_string(),
        }),
        (None, None) => any_slash.then_some(DayOrderDecision::DayFirstByDefault),
    }
}

/// The first two fields of a slash date, when the value looks like one.
fn slash_fields(value: &str) -> Option<(u32, u32)> {
    let date = value.split([' ', 'T']).next()?;
    let mut parts = date.split('/');
    let first = parts.next()?.parse().ok()?;
    let second = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((first, second))
}

/// Reads one column's values as instants of a time zone, noting the forms seen and how many
/// values fell in a daylight-saving gap or fold.
#[derive(Debug)]
pub(crate) struct ColumnReader {
    detected: DateFormatDetected,
    order: DayOrder,
    time_zone: TimeZone,
    forms: BTreeSet<String>,
    /// Values that named a local time skipped by a clock change.
    pub(crate) in_gap: u64,
    /// Values that named a local time repeated by a clock change.
    pub(crate) in_fold: u64,
}

impl ColumnReader {
    pub(crate) fn new(
        file: &str,
        column: &str,
        day_order: Option<DayOrderDecision>,
        time_zone: TimeZone,
    ) -> Self {
        let order = day_order
            .as_ref()
            .map_or(DayOrder::DayFirst, DayOrderDecision::order);
        Self {
            detected: DateFormatDetected {
                file: file.to_string(),
                column: column.to_string(),
                forms: Vec::new(),
                day_order,
                values: 0,
            },
            order,
            time_zone,
            forms: BTreeSet::new(),
            in_gap: 0,
            in_fold: 0,
        }
    }

    /// The civil date and time of a non-empty field, or `None` for an empty one.
    pub(crate) fn civil(&mut self, field: &Field<'_>) -> Result<Option<DateTime>, Box<Problem>> {
        let Some(text) = field.optional() else {
            return Ok(None);
        };
        let (civil, form) = parse_civil(text, self.order)
            .map_err(|reason| field.problem(ProblemKind::Timestamp { reason }))?;
        self.detected.values += 1;
        self.forms.insert(form);
        Ok(Some(civil))
    }

    /// The instant of a non-empty field read as a civil time of the zone, or `None`.
    ///
    /// A civil time skipped by a clock change (Brazil moved from 00:00 to 01:00 when daylight
    /// saving began) is read with the offset before the change, so it lands just after the
    /// gap; one repeated when the clocks went back is read as its first occurrence. Both are
    /// jiff's "compatible" rule, the one RFC 5545 and `java.time` use.
    pub(crate) fn instant(&mut self, field: &Field<'_>) -> Result<Option<Timestamp>, Box<Problem>> {
        let Some(civil) = self.civil(field)? else {
            return Ok(None);
        };
        let ambiguous = self.time_zone.to_ambiguous_timestamp(civil);
        match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => {}
            AmbiguousOffset::Gap { .. } => self.in_gap += 1,
            AmbiguousOffset::Fold { .. } => self.in_fold += 1,
        }
        ambiguous.compatible().map(Some).map_err(|error| {
            field.problem(ProblemKind::Timestamp {
                reason: error.to_string(),
            })
        })
    }

    /// A required instant.
    pub(crate) fn required_instant(
        &mut self,
        field: &Field<'_>,
    ) -> Result<Timestamp, Box<Problem>> {
        field.required()?;
        self.instant(field)?
            .ok_or_else(|| field.problem(ProblemKind::EmptyValue))
    }

    /// The calendar date of a non-empty field, or `None`.
    pub(crate) fn date(&mut self, field: &Field<'_>) -> Result<Option<Date>, Box<Problem>> {
        Ok(self.civil(field)?.map(|civil| civil.date()))
    }

    /// What was found, for the report.
    pub(crate) fn finish(mut self) -> DateFormatDetected {
        self.detected.forms = self.forms.into_iter().collect();
        self.detected
    }
}

const EXPECTED: &str = "expected YYYY-MM-DD HH:MM:SS, YYYY-MM-DD HH:MM, YYYY-MM-DDTHH:MM:SS, \
                        YYYY-MM-DD, D/M/YYYY H:MM[:SS], M/D/YYYY H:MM[:SS] or DD.MM.YYYY [H:MM]";

/// Parses one value into a civil date and time and the name of its form.
pub(crate) fn parse_civil(text: &str, order: DayOrder) -> Result<(DateTime, String), String> {
    let (date_text, time_text, separator) = match text.find([' ', 'T']) {
        Some(index) => (
            &text[..index],
            Some(&text[index + 1..]),
            &text[index..=index],
        ),
        None => (text, None, ""),
    };
    let iso = date_text.contains('-');
    let (date, mut form) = if iso {
        (parse_iso_date(date_text)?, "YYYY-MM-DD".to_string())
    } else if date_text.contains('/') {
        if separator == "T" {
            return Err(format!("`T` separates only ISO dates; {EXPECTED}"));
        }
        parse_slash_date(date_text, order)?
    } else if date_text.contains('.') {
        if separator == "T" {
            return Err(format!("`T` separates only ISO dates; {EXPECTED}"));
        }
        // Dotted dates are day first wherever they are written (DD.MM.YYYY).
        let (date, form) = parse_slash_date(&date_text.replace('.', "/"), DayOrder::DayFirst)?;
        (date, form.replace('/', "."))
    } else {
        return Err(EXPECTED.to_string());
    };
    let Some(time_text) = time_text else {
        return Ok((date.to_datetime(jiff::civil::Time::midnight()), form));
    };
    let (time, time_form) = parse_time(time_text, iso)?;
    form.push_str(separator);
    form.push_str(&time_form);
    Ok((date.to_datetime(time), form))
}

fn number(text: &str, digits_min: usize, digits_max: usize) -> Option<i64> {
    let sound = (digits_min..=digits_max).contains(&text.len())
        && text.bytes().all(|byte| byte.is_ascii_digit());
    sound.then(|| text.parse().ok()).flatten()
}

fn civil_date(year: i64, month: i64, day: i64) -> Result<Date, String> {
    let narrow = |value: i64| i8::try_from(value).map_err(|_| format!("{value} is out of range"));
    let year = i16::try_from(year).map_err(|_| format!("year {year} is out of range"))?;
    Date::new(year, narrow(month)?, narrow(day)?).map_err(|error| error.to_string())
}

fn parse_iso_date(text: &str) -> Result<Date, String> {
    let mut parts = text.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(EXPECTED.to_string());
    };
    match (number(year, 4, 4), number(month, 2, 2), number(day, 2, 2)) {
        (Some(year), Some(month), Some(day)) => civil_date(year, month, day),
        _ => Err(EXPECTED.to_string()),
    }
}

fn parse_slash_date(text: &str, order: DayOrder) -> Result<(Date, String), String> {
    let mut parts = text.split('/');
    let (Some(first), Some(second), Some(year), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(EXPECTED.to_string());
    };
    let (Some(first), Some(second)) = (number(first, 1, 2), number(second, 1, 2)) else {
        return Err(EXPECTED.to_string());
    };
    let (year, year_form) = match (number(year, 4, 4), number(year, 2, 2)) {
        (Some(year), _) => (year, "YYYY"),
        // Two-digit years are this century: the data is from the 2010s.
        (None, Some(year)) => (2000 + year, "YY"),
        _ => return Err(EXPECTED.to_string()),
    };
    let (day, month, order_form) = match order {
        DayOrder::DayFirst => (first, second, "D/M"),
        DayOrder::MonthFirst => (second, first, "M/D"),
    };
    let date = civil_date(year, month, day).map_err(|reason| {
        let name = match order {
            DayOrder::DayFirst => "day-first",
            DayOrder::MonthFirst => "month-first",
        };
        format!("{reason} (read {name}, as decided for the column)")
    })?;
    Ok((date, format!("{order_form}/{year_form}")))
}

fn parse_time(text: &str, iso: bool) -> Result<(jiff::civil::Time, String), String> {
    let (clock, fraction) = match text.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (text, None),
    };
    let mut parts = clock.split(':');
    let (Some(hour), Some(minute), second, None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(EXPECTED.to_string());
    };
    // ISO times have two-digit hours; spreadsheets write `9:05`.
    let hour_digits_min = if iso { 2 } else { 1 };
    let (Some(hour), Some(minute)) = (number(hour, hour_digits_min, 2), number(minute, 2, 2))
    else {
        return Err(EXPECTED.to_string());
    };
    let second = match second {
        Some(second) => Some(number(second, 2, 2).ok_or_else(|| EXPECTED.to_string())?),
        None => None,
    };
    let nanoseconds = match fraction {
        None => 0,
        Some(_) if second.is_none() => return Err(EXPECTED.to_string()),
        Some(fraction) => {
            let digits = number(fraction, 1, 9).ok_or_else(|| EXPECTED.to_string())?;
            let scale = 10_i64.pow(9 - u32::try_from(fraction.len()).unwrap_or(9));
            digits * scale
        }
    };
    let narrow = |value: i64| i8::try_from(value).map_err(|_| format!("{value} is out of range"));
    let time = jiff::civil::Time::new(
        narrow(hour)?,
        narrow(minute)?,
        narrow(second.unwrap_or(0))?,
        i32::try_from(nanoseconds).map_err(|_| EXPECTED.to_string())?,
    )
    .map_err(|error| error.to_string())?;
    let hour_form = if iso { "HH" } else { "H" };
    let mut form = format!("{hour_form}:MM");
    if second.is_some() {
        form.push_str(":SS");
    }
    if fraction.is_some() {
        form.push_str(".fraction");
    }
    Ok((time, form))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn civil(text: &str, order: DayOrder) -> (DateTime, String) {
        parse_civil(text, order).unwrap()
    }

    #[test]
    fn iso_forms_are_read_with_and_without_seconds_and_fractions() {
        let expected = date(2017, 10, 2).at(10, 56, 33, 0);
        assert_eq!(
            civil("2017-10-02 10:56:33", DayOrder::DayFirst),
            (expected, "YYYY-MM-DD HH:MM:SS".to_string())
        );
        assert_eq!(
            civil("2017-10-02T10:56:33", DayOrder::DayFirst),
            (expected, "YYYY-MM-DDTHH:MM:SS".to_string())
        );
        assert_eq!(
            civil("2017-10-02T10:56:33.25", DayOrder::DayFirst).0,
            date(2017, 10, 2).at(10, 56, 33, 250_000_000)
        );
        assert_eq!(
            civil("2017-10-02 10:56", DayOrder::DayFirst).0,
            date(2017, 10, 2).at(10, 56, 0, 0)
        );
        assert_eq!(
            civil("2017-10-18", DayOrder::DayFirst),
            (date(2017, 10, 18).at(0, 0, 0, 0), "YYYY-MM-DD".to_string())
        );
    }

    #[test]
    fn slash_forms_follow_the_day_order_and_two_digit_years_are_this_century() {
        // 2/10/2017 is the 2nd of October day-first and the 10th of February month-first.
        assert_eq!(
            civil("2/10/2017 10:56", DayOrder::DayFirst),
            (
                date(2017, 10, 2).at(10, 56, 0, 0),
                "D/M/YYYY H:MM".to_string()
            )
        );
        assert_eq!(
            civil("2/10/2017 9:05:07", DayOrder::MonthFirst),
            (
                date(2017, 2, 10).at(9, 5, 7, 0),
                "M/D/YYYY H:MM:SS".to_string()
            )
        );
        assert_eq!(
            civil("18/10/17 0:00", DayOrder::DayFirst),
            (date(2017, 10, 18).at(0, 0, 0, 0), "D/M/YY H:MM".to_string())
        );
    }

    #[test]
    fn impossible_dates_and_unknown_forms_say_why() {
        let month = parse_civil("2017-13-02 10:00:00", DayOrder::DayFirst).unwrap_err();
        assert!(month.contains("month"), "{month}");
        let day = parse_civil("31/02/2018 10:00", DayOrder::DayFirst).unwrap_err();
        assert!(day.contains("day-first"), "{day}");
        // Dotted dates are day first, whatever the column's slash dates are.
        assert_eq!(
            parse_civil("02.10.2017", DayOrder::MonthFirst).unwrap(),
            (date(2017, 10, 2).at(0, 0, 0, 0), "D.M.YYYY".to_string())
        );
        assert!(parse_civil("02|10|2017", DayOrder::DayFirst).is_err());
        assert!(parse_civil("31.02.2017", DayOrder::DayFirst).is_err());
        assert!(parse_civil("2017-10-02 25:00:00", DayOrder::DayFirst).is_err());
        assert!(parse_civil("2017-10-02 9:00:00", DayOrder::DayFirst).is_err());
        assert!(parse_civil("", DayOrder::DayFirst).is_err());
    }

    fn detect(values: &[(u64, &str)]) -> (Option<DayOrderDecision>, Vec<Problem>) {
        let mut problems = Problems::default();
        let decision = detect_day_order(
            "f.csv",
            "at",
            values.iter().map(|(line, value)| (*line, *value)),
            &mut problems,
        );
        let problems = problems
            .into_error()
            .map(|error| error.problems().to_vec())
            .unwrap_or_default();
        (decision, problems)
    }

    #[test]
    fn the_day_order_is_decided_by_a_field_above_12() {
        // 13/05 can only be the 13th of May: day first.
        let (decision, problems) = detect(&[(2, "3/4/2018 10:00"), (3, "13/05/2018 10:00")]);
        assert!(problems.is_empty());
        assert_eq!(
            decision,
            Some(DayOrderDecision::DayFirst {
                line: 3,
                value: "13/05/2018 10:00".into()
            })
        );
        // 05/13 can only be the 13th of May: month first.
        let (decision, _) = detect(&[(2, "05/13/2018 10:00"), (3, "3/4/2018 10:00")]);
        assert_eq!(decision.unwrap().order(), DayOrder::MonthFirst);
        // Nothing above 12: day first, the Brazilian convention.
        let (decision, _) = detect(&[(2, "3/4/2018 10:00")]);
        assert_eq!(decision, Some(DayOrderDecision::DayFirstByDefault));
        // ISO values only: no decision to make.
        let (decision, _) = detect(&[(2, "2018-04-03 10:00:00")]);
        assert_eq!(decision, None);
    }

    #[test]
    fn a_column_with_both_orders_is_an_error_naming_an_example_of_each() {
        let (_, problems) = detect(&[
            (2, "13/05/2018 10:00"),
            (3, "1/2/2018 10:00"),
            (4, "05/14/2018 10:00"),
        ]);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "f.csv:4: column `at`: the column mixes day-first and month-first dates: line 2 has \
             \"13/05/2018 10:00\" (first field above 12, so day first) and line 4 has \
             \"05/14/2018 10:00\" (second field above 12, so month first)"
        );
    }

    #[test]
    fn brazilian_daylight_saving_is_applied_to_civil_times() {
        let zone = TimeZone::get("America/Sao_Paulo").unwrap();
        let mut reader = ColumnReader::new("f.csv", "at", None, zone);
        let field = |value: &'static str| Field {
            file: "f.csv",
            line: 2,
            column: "at",
            value,
        };
        // 2017-10-02 is before daylight saving began (2017-10-15): UTC−3, so 10:56:33 local is
        // 13:56:33 UTC.
        assert_eq!(
            reader.instant(&field("2017-10-02 10:56:33")).unwrap(),
            Some("2017-10-02T13:56:33Z".parse().unwrap())
        );
        // 2017-12-02 is in daylight saving time: UTC−2, so 10:56:33 local is 12:56:33 UTC.
        assert_eq!(
            reader.instant(&field("2017-12-02 10:56:33")).unwrap(),
            Some("2017-12-02T12:56:33Z".parse().unwrap())
        );
        // 2017-10-15 00:30 never happened (clocks went from 00:00 to 01:00): read with the
        // offset before the gap, −3, it is 03:30 UTC, which is 01:30 local summer time.
        assert_eq!(
            reader.instant(&field("2017-10-15 00:30:00")).unwrap(),
            Some("2017-10-15T03:30:00Z".parse().unwrap())
        );
        assert_eq!(reader.in_gap, 1);
        // 2018-02-17 23:30 happened twice (clocks went back from 00:00 to 23:00): the first
        // time, at −2, is 01:30 UTC on the 18th.
        assert_eq!(
            reader.instant(&field("2018-02-17 23:30:00")).unwrap(),
            Some("2018-02-18T01:30:00Z".parse().unwrap())
        );
        assert_eq!(reader.in_fold, 1);
        let detected = reader.finish();
        assert_eq!(detected.forms, vec!["YYYY-MM-DD HH:MM:SS".to_string()]);
        assert_eq!(detected.values, 4);
    }
}
