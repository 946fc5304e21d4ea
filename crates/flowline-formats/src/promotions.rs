//! Promotions given as CSV: one row per promotion, read into `PlanPromotion` commands.
//!
//! The header names seven columns, in any order:
//!
//! ```text
//! promotion,name,first_day,last_day,items,channels,uplift
//! BF-2025,Black Friday,2025-11-28,2025-12-01,,,2.8
//! MUGS-MAY,Mugs in May,2025-05-05,2025-05-09,MUG-1 MUG-2,web,
//! ```
//!
//! `items` and `channels` are lists separated by spaces (empty: every item, every channel);
//! `uplift` is the expected demand as a multiple of an ordinary day's, with at most three
//! decimals (empty: the planner uses what past promotions achieved). Dates are ISO. Every
//! malformed value is reported with its line and column and nothing is returned; whether the
//! items exist and the days and uplift are in range is for the command to decide, and a
//! refusal there names the row's line through [`Row::line`].

use crate::error::{ImportError, Problem, ProblemKind, Problems};
use crate::series::parse_date;
use crate::table::{Field, Table};
use flowline_core::documents::promotion::PlanPromotion;
use flowline_core::id::{ChannelId, PromotionId, Sku};
use std::collections::HashMap;

const PROMOTION: &str = "promotion";
const NAME: &str = "name";
const FIRST_DAY: &str = "first_day";
const LAST_DAY: &str = "last_day";
const ITEMS: &str = "items";
const CHANNELS: &str = "channels";
const UPLIFT: &str = "uplift";

/// One promotion read, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line of the row (the header is line 1).
    pub line: u64,
    /// The command it makes.
    pub command: PlanPromotion,
}

/// Reads the promotions in `bytes` (the contents of `file`).
///
/// # Errors
///
/// Every malformed row's problems, located; nothing is returned then.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Row>, ImportError> {
    let mut problems = Problems::default();
    let columns = [
        PROMOTION, NAME, FIRST_DAY, LAST_DAY, ITEMS, CHANNELS, UPLIFT,
    ];
    let Some(table) = Table::read(file, bytes, &columns, &mut problems) else {
        return problems.into_result(Vec::new());
    };
    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in &table.records {
        let read = (|| {
            let promotion = table.field(record, PROMOTION);
            let id = promotion.id(PromotionId::parse)?;
            let name = table.field(record, NAME).required()?.to_string();
            let first_day = parse_date(&table.field(record, FIRST_DAY))?;
            let last_day = parse_date(&table.field(record, LAST_DAY))?;
            let items = list(&table.field(record, ITEMS), Sku::parse)?;
            let channels = list(&table.field(record, CHANNELS), ChannelId::parse)?;
            let uplift_milli = uplift(&table.field(record, UPLIFT))?;
            Ok::<_, Box<Problem>>((
                promotion.value.to_string(),
                PlanPromotion {
                    promotion: id,
                    name,
                    first_day,
                    last_day,
                    items,
                    channels,
                    uplift_milli,
                    note: None,
                },
            ))
        })();
        match read {
            Ok((key, command)) => {
                if let Some(first_line) = seen.insert(key.clone(), record.line) {
                    problems.push(Problem {
                        file: file.to_string(),
                        line: Some(record.line),
                        column: Some(PROMOTION.to_string()),
                        value: Some(key),
                        kind: ProblemKind::DuplicateKey { first_line },
                    });
                    continue;
                }
                rows.push(Row {
                    line: record.line,
                    command,
                });
            }
            Err(problem) => problems.push(*problem),
        }
    }
    problems.into_result(rows)
}

/// A list of ids separated by spaces; empty for none.
fn list<T, E: std::fmt::Display>(
    field: &Field<'_>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, Box<Problem>> {
    field
        .value
        .split_whitespace()
        .map(|part| {
            parse(part).map_err(|error| {
                field.problem(ProblemKind::Identifier {
                    reason: format!("`{part}`: {error}"),
                })
            })
        })
        .collect()
}

/// A multiple with at most three decimals, as thousandths; empty for none.
fn uplift(field: &Field<'_>) -> Result<Option<i64>, Box<Problem>> {
    let Some(text) = field.optional() else {
        return Ok(None);
    };
    let refuse = |reason: &str| {
        field.problem(ProblemKind::Quantity {
            reason: reason.to_string(),
        })
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || text.ends_with('.') {
        return Err(refuse(
            "expected a multiple of ordinary demand in plain decimal notation, such as 1.5",
        ));
    }
    if fraction.len() > 3 {
        return Err(refuse("at most three decimals (thousandths)"));
    }
    // At most six digits before the point: far beyond any uplift, and no overflow below.
    if whole.len() > 6 {
        return Err(refuse("too large: an uplift is at most 100"));
    }
    let whole: i64 = whole.parse().map_err(|_| refuse("not a number"))?;
    let padded = format!("{fraction:0<3}");
    let thousandths: i64 = padded.parse().map_err(|_| refuse("not a number"))?;
    Ok(Some(whole * 1000 + thousandths))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "promotion,name,first_day,last_day,items,channels,uplift\n";

    #[test]
    fn rows_become_commands_with_their_lines() {
        let text = format!(
            "{HEADER}BF-2025,Black Friday,2025-11-28,2025-12-01,,,2.8\r\n\
             MUGS,\"Mugs, in May\",2025-05-05,2025-05-09,MUG-1 MUG-2,web market,\n"
        );
        let rows = read("promotions.csv", text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].command.uplift_milli, Some(2800));
        assert!(rows[0].command.items.is_empty());
        assert_eq!(rows[1].line, 3);
        assert_eq!(rows[1].command.name, "Mugs, in May");
        assert_eq!(rows[1].command.items.len(), 2);
        assert_eq!(rows[1].command.channels.len(), 2);
        assert_eq!(rows[1].command.uplift_milli, None);
    }

    #[test]
    fn every_bad_value_is_reported_with_its_line_and_column() {
        let text = format!(
            "{HEADER}A,One,2025-13-01,2025-12-01,,,1.5\n\
             B,Two,2025-11-01,2025-11-02,,,1.2345\n\
             C,,2025-11-01,2025-11-02,,,\n\
             A,Four,2025-11-01,2025-11-02,,,x\n\
             D,Five,2025-11-01,2025-11-02,,,2.\n"
        );
        let error = read("p.csv", text.as_bytes()).unwrap_err();
        let located: Vec<(u64, String)> = error
            .problems()
            .iter()
            .map(|p| (p.line.unwrap(), p.column.clone().unwrap()))
            .collect();
        assert_eq!(
            located,
            vec![
                (2, FIRST_DAY.to_string()),
                (3, UPLIFT.to_string()),
                (4, NAME.to_string()),
                (5, UPLIFT.to_string()),
                (6, UPLIFT.to_string()),
            ]
        );
    }

    #[test]
    fn a_promotion_named_twice_is_refused_at_its_second_line() {
        let text =
            format!("{HEADER}A,One,2025-11-01,2025-11-02,,,\nA,Again,2025-11-03,2025-11-04,,,\n");
        let error = read("p.csv", text.as_bytes()).unwrap_err();
        assert_eq!(error.problems()[0].line, Some(3));
        assert!(matches!(
            error.problems()[0].kind,
            ProblemKind::DuplicateKey { first_line: 2 }
        ));
    }
}
