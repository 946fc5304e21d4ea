//! Located problems of malformed input, and the error that collects them.

use std::fmt;

/// How many problems an [`ImportError`] keeps and shows. The rest are counted: a file broken on
/// every line would otherwise print a million lines that all say the same thing.
pub const PROBLEMS_SHOWN_MAX: usize = 100;

/// Values longer than this are shortened in messages, so one runaway field (a quote never
/// closed swallows the rest of the file) cannot flood the terminal.
const VALUE_SHOWN_CHARACTERS_MAX: usize = 80;

/// What is wrong with a piece of input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The file has no header line.
    #[error("the file is empty: it has no header line")]
    EmptyFile,
    /// The CSV reader refused the bytes.
    #[error("not readable as CSV: {reason}")]
    Csv {
        /// The reader's explanation.
        reason: String,
    },
    /// A quoted field is opened and never closed.
    #[error("a quoted field is never closed: the quote runs to the end of the file")]
    UnterminatedQuote,
    /// A record has a different number of fields from the header.
    #[error("the record has {found} fields but the header has {expected}")]
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields in the record.
        found: usize,
    },
    /// A column the importer needs is not in the header.
    #[error("the header has no such column, and the importer needs it")]
    MissingColumn,
    /// A column name appears twice in the header.
    #[error("the column appears twice in the header (first as field {first_field})")]
    DuplicateColumn {
        /// 1-based position of its first appearance.
        first_field: usize,
    },
    /// A field is not valid UTF-8.
    #[error("not valid UTF-8: {reason}")]
    InvalidUtf8 {
        /// The decoder's explanation (where the bad bytes start).
        reason: String,
    },
    /// A value that is required is empty.
    #[error("a value is required here and the field is empty")]
    EmptyValue,
    /// A value that should be a date and time is not one.
    #[error("not a timestamp: {reason}")]
    Timestamp {
        /// Why.
        reason: String,
    },
    /// A column of `D/M/Y` or `M/D/Y` dates holds values that only fit day-first and values
    /// that only fit month-first.
    #[error(
        "the column mixes day-first and month-first dates: line {day_first_line} has \
         {day_first_value:?} (first field above 12, so day first) and line {month_first_line} \
         has {month_first_value:?} (second field above 12, so month first)"
    )]
    DateOrderConflict {
        /// A line whose value only fits day-first.
        day_first_line: u64,
        /// That value.
        day_first_value: String,
        /// A line whose value only fits month-first.
        month_first_line: u64,
        /// That value.
        month_first_value: String,
    },
    /// A value that should be an amount of money is not one.
    #[error("not an amount of money: {reason}")]
    Money {
        /// Why.
        reason: String,
    },
    /// A value that should be a whole number is not one.
    #[error("not a whole number: {reason}")]
    Number {
        /// Why.
        reason: String,
    },
    /// A value is not a valid identifier.
    #[error("not a valid identifier: {reason}")]
    Identifier {
        /// Why.
        reason: String,
    },
    /// A value that should be a calendar date is not one.
    #[error("not a date (YYYY-MM-DD): {reason}")]
    Date {
        /// Why.
        reason: String,
    },
    /// A value that should be a quantity (a number, zero or more) is not one.
    #[error("not a quantity: {reason}")]
    Quantity {
        /// Why.
        reason: String,
    },
    /// The series together run over far more periods than the file has rows.
    #[error(
        "with this series the file's {rows} rows would make more than {max} periods (at most {per_row} a row, or {floor} in all): are dates far apart or mistyped?"
    )]
    SeriesOutOfProportion {
        /// Rows read.
        rows: usize,
        /// The most periods made from them.
        max: u64,
        /// Periods allowed per row.
        per_row: u64,
        /// Periods allowed whatever the rows.
        floor: u64,
    },
    /// A series runs over more periods than a forecast reads.
    #[error(
        "the series runs from {first} to {last}, {periods} {unit}s; at most {max} are read (is a date mistyped?)"
    )]
    SeriesTooLong {
        /// Its first date.
        first: String,
        /// Its last date.
        last: String,
        /// How many periods that is.
        periods: i64,
        /// `day` or `week`.
        unit: &'static str,
        /// The most read.
        max: i64,
    },
    /// A value is not one of the values the column may take.
    #[error("not one of the known values: {expected}")]
    UnknownValue {
        /// The values the column may take.
        expected: String,
    },
    /// A key that must be unique in its file appears twice.
    #[error("the key is already used on line {first_line}")]
    DuplicateKey {
        /// Where it first appears.
        first_line: u64,
    },
    /// A mapping file that cannot be used, and why.
    #[error("{reason}")]
    Mapping {
        /// What is wrong, and what is expected.
        reason: String,
    },
}

/// One problem of malformed input, located by file, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file's name.
    pub file: String,
    /// The 1-based line, counting the header as line 1; for a record spanning several lines
    /// (a quoted field with line breaks), the line where the record starts. Absent for a
    /// problem of the whole file.
    pub line: Option<u64>,
    /// The column's name, when the problem is in one column.
    pub column: Option<String>,
    /// The offending value, when there is one.
    pub value: Option<String>,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `file:line: column `name`: value "...": why` — the shape of compiler and ripgrep
        // messages, which editors and terminals turn into links.
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            // Escaped, so a header name with a line break cannot split the message.
            write!(f, ": column `{}`", column.escape_debug())?;
        }
        if let Some(value) = &self.value {
            write!(f, ": value {}", shown(value))?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// A value as shown in a message: quoted and escaped (so an empty value or a line break is
/// visible), and shortened when long.
fn shown(value: &str) -> String {
    let mut characters = value.chars();
    let head: String = characters
        .by_ref()
        .take(VALUE_SHOWN_CHARACTERS_MAX)
        .collect();
    if characters.next().is_some() {
        format!("{head:?}…")
    } else {
        format!("{head:?}")
    }
}

/// Malformed input: the whole import is rejected and nothing is appended. Lists every problem
/// found (up to [`PROBLEMS_SHOWN_MAX`]; the rest are counted), so one run shows a user
/// everything to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    problems: Vec<Problem>,
    total: usize,
}

impl ImportError {
    /// The problems kept, in the order they were found (file by file, line by line).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// How many problems were found, including those not kept.
    pub fn total(&self) -> usize {
        self.total
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the input is malformed ({} problem{}); nothing was imported",
            self.total,
            if self.total == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n{problem}")?;
        }
        let hidden = self.total - self.problems.len();
        if hidden > 0 {
            write!(
                f,
                "\n... and {hidden} more problem{} not shown (the first {} are)",
                if hidden == 1 { "" } else { "s" },
                self.problems.len()
            )?;
        }
        Ok(())
    }
}

/// Collects problems while parsing: keeps the first [`PROBLEMS_SHOWN_MAX`] and counts the rest.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    kept: Vec<Problem>,
    total: usize,
}

impl Problems {
    pub(crate) fn push(&mut self, problem: Problem) {
        self.total += 1;
        if self.kept.len() < PROBLEMS_SHOWN_MAX {
            self.kept.push(problem);
        }
    }

    /// `value` if nothing was found, otherwise the error listing what was.
    pub(crate) fn into_result<T>(self, value: T) -> Result<T, ImportError> {
        match self.into_error() {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }

    /// The error, if anything was found.
    pub(crate) fn into_error(self) -> Option<ImportError> {
        (self.total > 0).then_some(ImportError {
            problems: self.kept,
            total: self.total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(line: u64) -> Problem {
        Problem {
            file: "orders.csv".into(),
            line: Some(line),
            column: Some("price".into()),
            value: Some("12,50".into()),
            kind: ProblemKind::Money {
                reason: "`,` is not a digit".into(),
            },
        }
    }

    #[test]
    fn a_problem_reads_file_line_column_value_and_why() {
        assert_eq!(
            problem(7).to_string(),
            "orders.csv:7: column `price`: value \"12,50\": not an amount of money: `,` is not a digit"
        );
    }

    #[test]
    fn problems_beyond_the_cap_are_counted_not_kept() {
        let mut problems = Problems::default();
        for line in 0..(PROBLEMS_SHOWN_MAX as u64 + 5) {
            problems.push(problem(line + 2));
        }
        let error = problems.into_error().unwrap();
        assert_eq!(error.problems().len(), PROBLEMS_SHOWN_MAX);
        assert_eq!(error.total(), PROBLEMS_SHOWN_MAX + 5);
        assert!(
            error
                .to_string()
                .ends_with("... and 5 more problems not shown (the first 100 are)")
        );
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(200);
        assert_eq!(shown(&long), format!("{:?}…", "x".repeat(80)));
        assert_eq!(shown("a\nb"), "\"a\\nb\"");
    }
}
