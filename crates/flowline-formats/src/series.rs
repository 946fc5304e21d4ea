//! Demand series given as long-format CSV: one row per series and date.
//!
//! ```text
//! series,date,quantity
//! SKU-1@east,2026-01-05,12
//! SKU-1@east,2026-01-06,9
//! ```
//!
//! Dates are ISO calendar dates (`YYYY-MM-DD`). A series is daily, or weekly when all its dates
//! are whole weeks apart (the caller may say which instead); a period with no row is a period
//! of zero demand, and every series runs to the file's last date (for a weekly series, its last
//! week on or before it), so a series that sold nothing lately ends in zeros. Quantities are numbers, zero or more (`12`, `3.5`). Rows may come in any
//! order; series keep the order of their first row. Every malformed value is reported with its
//! file, line, column and value, and a file with any problem gives no series at all.

use crate::ImportError;
use crate::error::{Problem, ProblemKind, Problems};
use crate::table::{Field, Table};
use jiff::civil::Date;
use std::collections::HashMap;

/// The most periods one series may span, first date to last: 30 years of days. A date typed a
/// century off would otherwise make a series of tens of thousands of zeros.
pub const PERIODS_MAX: i64 = 10_958;

/// Periods every file may make, however few its rows: a million (8 MB of quantities).
pub const PERIODS_FLOOR: u64 = 1_000_000;

/// Periods a file may make per row beyond [`PERIODS_FLOOR`]: a row stands for at most 64
/// periods, so that a file of a few rows per series cannot make gigabytes of zeros (two rows
/// thirty years apart make 10,958 daily periods).
pub const PERIODS_PER_ROW: u64 = 64;

/// The columns read.
const SERIES: &str = "series";
const DATE: &str = "date";
const QUANTITY: &str = "quantity";

/// How far apart a series' periods are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// One period per day.
    Daily,
    /// One period per week, on the weekday of the series' first date.
    Weekly,
}

impl Frequency {
    /// Days in one period.
    pub fn days(self) -> i64 {
        match self {
            Self::Daily => 1,
            Self::Weekly => 7,
        }
    }

    /// `day` or `week`.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Daily => "day",
            Self::Weekly => "week",
        }
    }
}

/// One series: a quantity for every period from `start`, gaps filled with zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series' name as given.
    pub name: String,
    /// How far apart its periods are.
    pub frequency: Frequency,
    /// The date of its first period.
    pub start: Date,
    /// One quantity per period, oldest first.
    pub values: Vec<f64>,
}

impl Series {
    /// The date of the period `index` periods after the first (negative: before).
    pub fn date(&self, index: i64) -> Option<Date> {
        let days = index.checked_mul(self.frequency.days())?;
        self.start
            .checked_add(jiff::Span::new().try_days(days).ok()?)
            .ok()
    }
}

/// One row, read.
struct Row {
    line: u64,
    date: Date,
    quantity: f64,
}

/// Reads the series in `bytes` (the contents of `file`). `frequency` fixes every series'
/// frequency; `None` finds it per series from its dates.
pub fn read(
    file: &str,
    bytes: &[u8],
    frequency: Option<Frequency>,
) -> Result<Vec<Series>, ImportError> {
    let mut problems = Problems::default();
    let Some(table) = Table::read(file, bytes, &[SERIES, DATE, QUANTITY], &mut problems) else {
        // A table that cannot be read comes with its problem.
        return problems.into_result(Vec::new());
    };
    let mut order: Vec<String> = Vec::new();
    let mut rows: HashMap<String, Vec<Row>> = HashMap::new();
    let mut seen: HashMap<(String, Date), u64> = HashMap::new();
    for record in &table.records {
        let name = table.field(record, SERIES);
        let date = table.field(record, DATE);
        let quantity = table.field(record, QUANTITY);
        let read = (|| {
            let name = name.required()?.to_string();
            let date = parse_date(&date)?;
            let quantity = parse_quantity(&quantity)?;
            Ok::<_, Box<Problem>>((name, date, quantity))
        })();
        let (name, date, quantity) = match read {
            Ok(read) => read,
            Err(problem) => {
                problems.push(*problem);
                continue;
            }
        };
        if let Some(first_line) = seen.insert((name.clone(), date), record.line) {
            problems.push(Problem {
                file: file.to_string(),
                line: Some(record.line),
                column: Some(DATE.to_string()),
                value: Some(format!("{name} {date}")),
                kind: ProblemKind::DuplicateKey { first_line },
            });
            continue;
        }
        let entry = rows.entry(name.clone()).or_insert_with(|| {
            order.push(name);
            Vec::new()
        });
        entry.push(Row {
            line: record.line,
            date,
            quantity,
        });
    }
    // The file's last date and the line it is on: every series runs to it.
    let file_last = rows
        .values()
        .flatten()
        .max_by_key(|row| (row.date, std::cmp::Reverse(row.line)))
        .map(|row| (row.date, row.line));
    let row_count: usize = rows.values().map(Vec::len).sum();
    let most = PERIODS_FLOOR.max(PERIODS_PER_ROW.saturating_mul(row_count as u64));
    let mut remaining = most;
    let mut series = Vec::with_capacity(order.len());
    for name in order {
        let Some(mut rows) = rows.remove(&name) else {
            continue;
        };
        rows.sort_by_key(|row| row.date);
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            continue;
        };
        let end = file_last.unwrap_or((last.date, last.line));
        let first_line = first.line;
        match assemble(
            &table,
            name,
            (first, last),
            end,
            &rows,
            frequency,
            remaining,
        ) {
            Ok(Some(one)) => {
                remaining = remaining.saturating_sub(one.values.len() as u64);
                series.push(one);
            }
            Ok(None) => {
                problems.push(Problem {
                    file: file.to_string(),
                    line: Some(first_line),
                    column: Some(SERIES.to_string()),
                    value: None,
                    kind: ProblemKind::SeriesOutOfProportion {
                        rows: row_count,
                        max: most,
                        per_row: PERIODS_PER_ROW,
                        floor: PERIODS_FLOOR,
                    },
                });
                break;
            }
            Err(problem) => problems.push(*problem),
        }
    }
    problems.into_result(series)
}

/// One series from its rows, sorted by date (`first` and `last` among them), running to `end`
/// (the file's last date, with its line); `None`, before anything is allocated for it, when it
/// would make more than `budget` periods.
#[allow(clippy::too_many_arguments)]
fn assemble(
    table: &Table,
    name: String,
    (first, last): (&Row, &Row),
    (end, end_line): (Date, u64),
    rows: &[Row],
    frequency: Option<Frequency>,
    budget: u64,
) -> Result<Option<Series>, Box<Problem>> {
    let offsets: Vec<i64> = rows
        .iter()
        .map(|row| days_between(first.date, row.date))
        .collect();
    let frequency = frequency.unwrap_or_else(|| {
        let weekly = rows.len() > 1 && offsets.iter().all(|days| days % 7 == 0);
        if weekly {
            Frequency::Weekly
        } else {
            Frequency::Daily
        }
    });
    let step = frequency.days();
    let (end, end_line) = if end > last.date {
        (end, end_line)
    } else {
        (last.date, last.line)
    };
    let span = days_between(first.date, end) / step + 1;
    if span > PERIODS_MAX {
        // Located at the date that makes the series long: its own last, or the file's.
        return Err(Box::new(Problem {
            file: table.file().to_string(),
            line: Some(end_line),
            column: Some(DATE.to_string()),
            value: Some(end.to_string()),
            kind: ProblemKind::SeriesTooLong {
                first: first.date.to_string(),
                last: end.to_string(),
                periods: span,
                unit: frequency.unit(),
                max: PERIODS_MAX,
            },
        }));
    }
    if u64::try_from(span).unwrap_or(u64::MAX) > budget {
        return Ok(None);
    }
    let mut values = vec![0.0; usize::try_from(span).unwrap_or(0)];
    for (row, days) in rows.iter().zip(&offsets) {
        if days % step != 0 {
            return Err(Box::new(Problem {
                file: table.file().to_string(),
                line: Some(row.line),
                column: Some(DATE.to_string()),
                value: Some(row.date.to_string()),
                kind: ProblemKind::Date {
                    reason: format!(
                        "the series is weekly from {}, and this date is not a whole number of weeks after it",
                        first.date
                    ),
                },
            }));
        }
        if let Some(value) = usize::try_from(days / step)
            .ok()
            .and_then(|index| values.get_mut(index))
        {
            *value = row.quantity;
        }
    }
    Ok(Some(Series {
        name,
        frequency,
        start: first.date,
        values,
    }))
}

/// Whole days from `from` to `to`.
fn days_between(from: Date, to: Date) -> i64 {
    // Dates are within jiff's range (years -9999..=9999), so the difference fits.
    i64::from(to.since(from).map_or(0, |span| span.get_days()))
}

/// An ISO date (YYYY-MM-DD, exactly), or the problem with the field.
pub(crate) fn parse_date(field: &Field<'_>) -> Result<Date, Box<Problem>> {
    let text = field.required()?;
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(index, byte)| match index {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !well_formed {
        return Err(field.problem(ProblemKind::Date {
            reason: "expected four digits, two and two, such as 2026-01-31".into(),
        }));
    }
    text.parse::<Date>().map_err(|error| {
        field.problem(ProblemKind::Date {
            reason: error.to_string(),
        })
    })
}

fn parse_quantity(field: &Field<'_>) -> Result<f64, Box<Problem>> {
    let text = field.required()?;
    // Plain decimal notation only: no `+`, no exponent, no `inf` or `NaN`, all of which Rust's
    // parser would take. A leading minus is read, to be refused with its own reason below.
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let plain = match unsigned.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(unsigned),
    };
    if !plain {
        return Err(field.problem(ProblemKind::Quantity {
            reason: "expected a number in plain decimal notation, such as 12 or 3.5".into(),
        }));
    }
    let quantity: f64 = text.parse().map_err(|_| {
        field.problem(ProblemKind::Quantity {
            reason: "expected a number in plain decimal notation, such as 12 or 3.5".into(),
        })
    })?;
    if quantity < 0.0 {
        return Err(field.problem(ProblemKind::Quantity {
            reason: "demand cannot be negative; net returns out separately".into(),
        }));
    }
    if !quantity.is_finite() || quantity > 1e15 {
        return Err(field.problem(ProblemKind::Quantity {
            reason: "too large".into(),
        }));
    }
    Ok(quantity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn problems(text: &str) -> Vec<Problem> {
        read("d.csv", text.as_bytes(), None)
            .unwrap_err()
            .problems()
            .to_vec()
    }

    #[test]
    fn rows_in_any_order_make_daily_series_with_gaps_as_zero() {
        let text = "series,date,quantity\n\
                    b,2026-01-02,1\n\
                    a,2026-01-04,4\n\
                    a,2026-01-01,2.5\n\
                    b,2026-01-01,0\n";
        let series = read("d.csv", text.as_bytes(), None).unwrap();
        // `b` comes first (its first row is line 2); both run from the 1st to the file's last
        // date, the 4th, and every day without a row is zero: `a`'s 2nd and 3rd, `b`'s 3rd and
        // 4th.
        assert_eq!(
            series,
            vec![
                Series {
                    name: "b".into(),
                    frequency: Frequency::Daily,
                    start: date("2026-01-01"),
                    values: vec![0.0, 1.0, 0.0, 0.0],
                },
                Series {
                    name: "a".into(),
                    frequency: Frequency::Daily,
                    start: date("2026-01-01"),
                    values: vec![2.5, 0.0, 0.0, 4.0],
                },
            ]
        );
        assert_eq!(series[1].date(3), Some(date("2026-01-04")));
    }

    #[test]
    fn dates_whole_weeks_apart_make_a_weekly_series() {
        // Mondays 5 and 19 January 2026, two weeks apart: the week of the 12th had no demand.
        let text = "series,date,quantity\nx,2026-01-05,10\nx,2026-01-19,30\n";
        let series = read("w.csv", text.as_bytes(), None).unwrap();
        assert_eq!(series[0].frequency, Frequency::Weekly);
        assert_eq!(series[0].values, vec![10.0, 0.0, 30.0]);
        assert_eq!(series[0].date(3), Some(date("2026-01-26")));
        // Told the series is daily, the same rows are fifteen days.
        let daily = read("w.csv", text.as_bytes(), Some(Frequency::Daily)).unwrap();
        assert_eq!(daily[0].values.len(), 15);
    }

    #[test]
    fn a_weekly_series_with_a_date_off_its_weekday_is_refused_at_that_line() {
        let text = "series,date,quantity\nx,2026-01-05,10\nx,2026-01-13,30\n";
        let found = read("w.csv", text.as_bytes(), Some(Frequency::Weekly))
            .unwrap_err()
            .problems()
            .to_vec();
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].line, found[0].column.as_deref()),
            (Some(3), Some("date"))
        );
    }

    #[test]
    fn every_malformed_value_is_listed_with_its_line_column_and_value() {
        let text = "series,date,quantity\n\
                    a,2026-01-01,3\n\
                    a,2026-13-01,3\n\
                    a,01/02/2026,3\n\
                    a,2026-01-02,-1\n\
                    a,2026-01-03,1e3\n\
                    a,2026-01-04,NaN\n\
                    ,2026-01-05,1\n\
                    a,2026-01-01,7\n";
        let found = problems(text);
        let located: Vec<(Option<u64>, Option<&str>, Option<&str>)> = found
            .iter()
            .map(|p| (p.line, p.column.as_deref(), p.value.as_deref()))
            .collect();
        assert_eq!(
            located,
            vec![
                (Some(3), Some("date"), Some("2026-13-01")),
                (Some(4), Some("date"), Some("01/02/2026")),
                (Some(5), Some("quantity"), Some("-1")),
                (Some(6), Some("quantity"), Some("1e3")),
                (Some(7), Some("quantity"), Some("NaN")),
                (Some(8), Some("series"), Some("")),
                (Some(9), Some("date"), Some("a 2026-01-01")),
            ]
        );
        assert!(matches!(
            found[2].kind,
            ProblemKind::Quantity { ref reason } if reason.contains("negative")
        ));
        assert_eq!(found[6].kind, ProblemKind::DuplicateKey { first_line: 2 });
        // Shown as compiler messages are: file, line, column, value, why.
        let shown = found[0].to_string();
        assert!(
            shown.starts_with(
                "d.csv:3: column `date`: value \"2026-13-01\": not a date (YYYY-MM-DD): "
            ) && shown.contains("month"),
            "{shown}"
        );
    }

    #[test]
    fn a_date_centuries_away_is_refused_without_making_the_series() {
        let text = "series,date,quantity\na,2026-01-01,1\na,9026-01-01,1\n";
        let found = problems(text);
        assert_eq!(found.len(), 1);
        // 2026-01-01 to 9026-01-01 is 7,000 years: 2,556,697 days (7,000 × 365 plus 1,697 leap
        // days; Python's `date(9026,1,1) - date(2026,1,1)` agrees), 2,556,698 periods counting
        // both ends.
        assert_eq!(
            found[0].kind,
            ProblemKind::SeriesTooLong {
                first: "2026-01-01".into(),
                last: "9026-01-01".into(),
                periods: 2_556_698,
                unit: "day",
                max: PERIODS_MAX,
            }
        );
        assert_eq!(found[0].line, Some(3));
    }

    #[test]
    fn a_weekly_series_runs_to_its_last_week_on_or_before_the_files_last_date() {
        // `w` is weekly on Mondays (5 and 12 January); the file's last date is Thursday the
        // 22nd (series `d`), so `w` runs to Monday the 19th, a week of zero demand.
        let text = "series,date,quantity\nw,2026-01-05,1\nw,2026-01-12,2\nd,2026-01-22,5\n";
        let series = read("w.csv", text.as_bytes(), None).unwrap();
        assert_eq!(series[0].values, vec![1.0, 2.0, 0.0]);
        assert_eq!(series[1].values, vec![5.0]);
    }

    #[test]
    fn series_far_sparser_than_their_rows_are_refused_before_they_are_made() {
        // 200 series of two rows each, thirty years apart (1996-01-02 to 2026-01-01, 10,958
        // days counting both ends): 400 rows may make at most 1,000,000 periods (the floor, as
        // 400 × 64 = 25,600 is less). 91 series make 997,178 periods; the 92nd would pass the
        // bound (1,008,136), so reading stops at it, at its first row: line 2 + 2 × 91 = 184.
        let mut text = String::from("series,date,quantity\n");
        for number in 0..200 {
            text.push_str(&format!("s{number},1996-01-02,1\ns{number},2026-01-01,1\n"));
        }
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].kind,
            ProblemKind::SeriesOutOfProportion {
                rows: 400,
                max: PERIODS_FLOOR,
                per_row: PERIODS_PER_ROW,
                floor: PERIODS_FLOOR,
            }
        );
        assert_eq!(found[0].line, Some(184));
    }

    #[test]
    fn a_file_without_a_needed_column_names_it() {
        let found = problems("series,day,quantity\na,2026-01-01,1\n");
        assert_eq!(
            (found[0].line, found[0].column.as_deref(), &found[0].kind),
            (Some(1), Some("date"), &ProblemKind::MissingColumn)
        );
    }
}
