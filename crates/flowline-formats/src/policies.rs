//! Inventory policies given as CSV: one row per item (and center), read into
//! `SetInventoryPolicy` commands.
//!
//! The header names nine columns, in any order:
//!
//! ```text
//! sku,location,service_level,fill_rate,review_days,moq,case_pack,replenish,note
//! MUG-1,,0.98,,,,12,,cartons of a dozen
//! MUG-1,FC-WEST,,0.99,7,48,,,
//! OLD-9,,,,,,,no,discontinued
//! ```
//!
//! An empty `location` sets the policy for every center; an empty figure leaves it to the
//! item's policy for every center, and then to the planner. `service_level` is a cycle service
//! level and `fill_rate` a fill rate, each a share strictly between 0 and 1 with at most three
//! decimals; a row gives at most one of them. `review_days`, `moq` and `case_pack` are whole
//! numbers; `replenish` is `yes` or `no`. Every malformed value is reported with its line and
//! column and nothing is returned; whether the item and center exist and the figures are in
//! range is for the command to decide, and a refusal there names the row's line through
//! [`Row::line`].

use crate::error::{ImportError, Problem, ProblemKind, Problems};
use crate::table::{Field, Table};
use flowline_core::id::{LocationId, Sku};
use flowline_core::state::SetInventoryPolicy;
use std::collections::HashMap;

const SKU: &str = "sku";
const LOCATION: &str = "location";
const SERVICE_LEVEL: &str = "service_level";
const FILL_RATE: &str = "fill_rate";
const REVIEW_DAYS: &str = "review_days";
const MOQ: &str = "moq";
const CASE_PACK: &str = "case_pack";
const REPLENISH: &str = "replenish";
const NOTE: &str = "note";

/// One policy read, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line of the row (the header is line 1).
    pub line: u64,
    /// The command it makes.
    pub command: SetInventoryPolicy,
}

/// Reads the policies in `bytes` (the contents of `file`).
///
/// # Errors
///
/// Every malformed row's problems, located; nothing is returned then.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Row>, ImportError> {
    let mut problems = Problems::default();
    let columns = [
        SKU,
        LOCATION,
        SERVICE_LEVEL,
        FILL_RATE,
        REVIEW_DAYS,
        MOQ,
        CASE_PACK,
        REPLENISH,
        NOTE,
    ];
    let Some(table) = Table::read(file, bytes, &columns, &mut problems) else {
        return problems.into_result(Vec::new());
    };
    let mut rows = Vec::new();
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    for record in &table.records {
        let read = (|| {
            let sku = table.field(record, SKU).id(Sku::parse)?;
            let location_field = table.field(record, LOCATION);
            let location = location_field
                .optional()
                .map(|_| location_field.id(LocationId::parse))
                .transpose()?;
            let cycle = share(&table.field(record, SERVICE_LEVEL))?;
            let fill_field = table.field(record, FILL_RATE);
            let fill = share(&fill_field)?;
            let (service_level_milli, fill_rate) = match (cycle, fill) {
                (Some(_), Some(_)) => {
                    return Err(fill_field.problem(ProblemKind::Quantity {
                        reason: "give a service_level or a fill_rate, not both".into(),
                    }));
                }
                (Some(level), None) => (Some(level), false),
                (None, Some(rate)) => (Some(rate), true),
                (None, None) => (None, false),
            };
            let command = SetInventoryPolicy {
                sku,
                location,
                service_level_milli,
                fill_rate,
                review_period_days: table.field(record, REVIEW_DAYS).optional_whole()?,
                minimum_order_quantity: table.field(record, MOQ).optional_whole()?,
                case_pack: table.field(record, CASE_PACK).optional_whole()?,
                replenish: yes_or_no(&table.field(record, REPLENISH))?,
                note: table.field(record, NOTE).optional().map(str::to_string),
            };
            Ok::<_, Box<Problem>>(command)
        })();
        match read {
            Ok(command) => {
                let key = (
                    command.sku.to_string(),
                    command
                        .location
                        .as_ref()
                        .map_or_else(String::new, ToString::to_string),
                );
                if let Some(first_line) = seen.insert(key.clone(), record.line) {
                    let place = if key.1.is_empty() {
                        "every center".to_string()
                    } else {
                        key.1.clone()
                    };
                    problems.push(Problem {
                        file: file.to_string(),
                        line: Some(record.line),
                        column: Some(SKU.to_string()),
                        value: Some(format!("{} at {place}", key.0)),
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

/// A share strictly between 0 and 1 with at most three decimals, as thousandths; empty for
/// none.
fn share(field: &Field<'_>) -> Result<Option<i64>, Box<Problem>> {
    let Some(text) = field.optional() else {
        return Ok(None);
    };
    let refuse = |reason: &str| {
        field.problem(ProblemKind::Quantity {
            reason: reason.to_string(),
        })
    };
    let Some(fraction) = text.strip_prefix("0.") else {
        return Err(refuse(
            "expected a share strictly between 0 and 1, such as 0.95",
        ));
    };
    if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(
            "expected a share strictly between 0 and 1, such as 0.95",
        ));
    }
    if fraction.len() > 3 {
        return Err(refuse("at most three decimals (0.1 % steps)"));
    }
    let thousandths: i64 = format!("{fraction:0<3}")
        .parse()
        .map_err(|_| refuse("not a number"))?;
    if thousandths == 0 {
        return Err(refuse("must be above 0"));
    }
    Ok(Some(thousandths))
}

/// `yes` or `no` (also `true`/`false`, any case); empty for none.
fn yes_or_no(field: &Field<'_>) -> Result<Option<bool>, Box<Problem>> {
    let Some(text) = field.optional() else {
        return Ok(None);
    };
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(Some(true)),
        "no" | "false" => Ok(Some(false)),
        _ => Err(field.problem(ProblemKind::Identifier {
            reason: format!("`{text}`: expected yes or no"),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_file_becomes_one_command_per_row_with_shares_as_thousandths() {
        let file = "sku,location,service_level,fill_rate,review_days,moq,case_pack,replenish,note\n\
                    MUG-1,,0.98,,,,12,,cartons of a dozen\n\
                    MUG-1,FC-WEST,,0.995,7,48,,,\n\
                    OLD-9,,,,,,,no,discontinued\n";
        let rows = read("policies.csv", file.as_bytes()).unwrap();
        assert_eq!(rows.len(), 3);
        // 0.98 is 980 thousandths, a cycle service level; 0.995 is 995, a fill rate.
        assert_eq!(rows[0].line, 2);
        assert_eq!(
            (
                rows[0].command.service_level_milli,
                rows[0].command.fill_rate,
                rows[0].command.case_pack,
                rows[0].command.location.is_none(),
            ),
            (Some(980), false, Some(12), true)
        );
        assert_eq!(
            (
                rows[1].command.service_level_milli,
                rows[1].command.fill_rate,
                rows[1].command.review_period_days,
                rows[1].command.minimum_order_quantity,
            ),
            (Some(995), true, Some(7), Some(48))
        );
        assert_eq!(
            rows[1].command.location.as_ref().unwrap().as_str(),
            "FC-WEST"
        );
        assert_eq!(rows[2].command.replenish, Some(false));
        assert_eq!(rows[2].command.note.as_deref(), Some("discontinued"));
    }

    #[test]
    fn every_malformed_value_is_named_by_line_and_column_and_nothing_is_returned() {
        let file = "sku,location,service_level,fill_rate,review_days,moq,case_pack,replenish,note\n\
                    MUG-1,,1.5,,,,,,\n\
                    MUG-2,,0.9,0.9,,,,,\n\
                    MUG-3,,,,weekly,,,,\n\
                    MUG-4,,,,,,-3x,maybe,\n\
                    MUG-1,,0.95,,,,,,\n\
                    MUG-1,,0.96,,,,,,\n";
        let error = read("policies.csv", file.as_bytes()).unwrap_err();
        let found: Vec<(Option<u64>, Option<String>)> = error
            .problems()
            .iter()
            .map(|p| (p.line, p.column.clone()))
            .collect();
        let at = |line: u64, column: &str| (Some(line), Some(column.to_string()));
        assert_eq!(
            found,
            vec![
                at(2, "service_level"),
                at(3, "fill_rate"),
                at(4, "review_days"),
                at(5, "case_pack"),
                at(7, "sku"),
            ],
            "{error}"
        );
    }
}
