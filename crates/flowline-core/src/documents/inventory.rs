//! Enable: stock counts and adjustments.
//!
//! A count records what was found at a fulfillment center; each difference from the ledger is a
//! move between the center and `adjustment`. An adjustment states the signed change directly
//! (damage found, samples taken, opening balances). Gains are valued at the center's moving
//! average if it holds stock, else at the explicit unit cost or the item's standard cost; losses
//! leave at the moving average. Gains post `Dr inventory / Cr inventory write-off` and losses
//! the reverse, except for the `opening_balance` reason, whose counterpart is opening balance
//! equity. Neither may leave less on hand than is reserved for open documents.

use crate::effects::{Effects, EffectsBuilder};
use crate::error::{DocumentKind, DomainError, add, mul};
use crate::id::{AdjustmentId, CountId, LocationId, ReasonCode, Sku};
use crate::ledger::{Account, VirtualLocation};
use crate::money::divide_rounding;
use crate::state::{Context, State};
use jiff::Timestamp;
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

/// The reason code whose counterpart is opening balance equity instead of write-off.
pub const OPENING_BALANCE: &str = "opening_balance";

/// One counted item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CountLineInput {
    /// The item.
    pub sku: Sku,
    /// Units found.
    pub counted: i64,
}

/// Record a stock count at a fulfillment center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordCount {
    /// New count id.
    pub count: CountId,
    /// Fulfillment center.
    pub location: LocationId,
    /// Items counted (each once).
    pub lines: Vec<CountLineInput>,
    /// Why (`cycle_count`, `annual_count`).
    #[serde(default)]
    pub reason: Option<ReasonCode>,
}

/// One adjusted item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AdjustLineInput {
    /// The item.
    pub sku: Sku,
    /// Signed change: positive adds stock, negative removes it. Never zero.
    pub quantity: i64,
    /// Value per unit of a gain, base currency minor units; default: the moving average, or
    /// the item's standard cost when the center holds none.
    #[serde(default)]
    pub unit_cost_minor: Option<i64>,
}

/// Adjust stock at a fulfillment center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AdjustStock {
    /// New adjustment id.
    pub adjustment: AdjustmentId,
    /// Fulfillment center.
    pub location: LocationId,
    /// Why (`damaged`, `sample`, `found`, `opening_balance`).
    pub reason: ReasonCode,
    /// Items (each once).
    pub lines: Vec<AdjustLineInput>,
}

/// A counted item as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CountedLine {
    /// The item.
    pub sku: Sku,
    /// Units on hand in the ledger when counted.
    pub system: i64,
    /// Units found.
    pub counted: i64,
}

crate::registry::event_family! {
    /// Inventory events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum InventoryEvent {
        /// A count was recorded and its differences booked.
        "CountRecorded" => CountRecorded {
            /// Count id.
            count: CountId,
            /// Fulfillment center.
            location: LocationId,
            /// Lines.
            lines: Vec<CountedLine>,
            /// Why.
            reason: Option<ReasonCode>,
            /// When.
            at: Timestamp,
            /// Moves to and from `adjustment`, inventory and write-off postings.
            effects: Effects,
        },
        /// Stock was adjusted.
        "StockAdjusted" => StockAdjusted {
            /// Adjustment id.
            adjustment: AdjustmentId,
            /// Fulfillment center.
            location: LocationId,
            /// Why.
            reason: ReasonCode,
            /// Lines.
            lines: Vec<AdjustLineInput>,
            /// When.
            at: Timestamp,
            /// Moves to and from `adjustment`, inventory postings.
            effects: Effects,
        },
    }
}

impl InventoryEvent {
    /// The stream the event belongs to: the count or the adjustment.
    pub fn stream(&self) -> (DocumentKind, &str) {
        match self {
            Self::CountRecorded { count, .. } => (DocumentKind::Count, count.as_str()),
            Self::StockAdjusted { adjustment, .. } => {
                (DocumentKind::Adjustment, adjustment.as_str())
            }
        }
    }

    /// Ledger effects.
    pub fn effects(&self) -> Option<&Effects> {
        match self {
            Self::CountRecorded { effects, .. } | Self::StockAdjusted { effects, .. } => {
                Some(effects)
            }
        }
    }
}

/// Books a signed change of on-hand stock of one item at a center, between the center and
/// `adjustment`. Returns the value moved (positive for gains, negative for losses).
fn book_change(
    state: &State,
    builder: &mut EffectsBuilder<'_>,
    sku: &Sku,
    location: &LocationId,
    change: i64,
    unit_cost_minor: Option<i64>,
    field: &dyn Fn(&str) -> String,
) -> Result<i64, DomainError> {
    let adjustment = VirtualLocation::Adjustment.id();
    let balance = *builder.balance(sku, location);
    let on_hand = balance
        .on_hand
        .checked_add(change)
        .ok_or_else(|| DomainError::overflow(field("quantity")))?;
    if on_hand < balance.reserved || on_hand < 0 {
        return Err(DomainError::BelowReserved {
            sku: sku.clone(),
            location: location.clone(),
            on_hand,
            reserved: balance.reserved,
        });
    }
    if change > 0 {
        let value = match unit_cost_minor {
            Some(unit_cost) => mul(unit_cost, change, || field("unit_cost_minor"))?,
            None if balance.on_hand > 0 => i64::try_from(divide_rounding(
                i128::from(balance.value_minor) * i128::from(change),
                i128::from(balance.on_hand),
            ))
            .map_err(|_| DomainError::overflow(field("quantity")))?,
            None => {
                let item = state.item(sku, &field("sku"))?;
                mul(item.unit_cost.amount_minor, change, || field("quantity"))?
            }
        };
        builder.move_valued(sku, &adjustment, location, change, value);
        Ok(value)
    } else if change < 0 {
        let units = -change;
        let value = balance.value_of(units);
        // Reserved units may be lost too (checked above against the reservation), so the move
        // is booked directly rather than through `move_stock`, which only takes available units.
        builder.move_valued(sku, location, &adjustment, units, value);
        Ok(-value)
    } else {
        Ok(0)
    }
}

/// Posts gains and losses separately against the counterpart account.
fn post_changes(
    builder: &mut EffectsBuilder<'_>,
    counterpart: Account,
    changes: &[i64],
) -> Result<(), DomainError> {
    let (mut gains, mut losses) = (0_i64, 0_i64);
    for change in changes {
        if *change > 0 {
            gains = add(gains, *change, || "lines".into())?;
        } else {
            losses = add(losses, -*change, || "lines".into())?;
        }
    }
    builder.post(Account::Inventory, counterpart, gains);
    builder.post(counterpart, Account::Inventory, losses);
    Ok(())
}

fn check_skus<'a>(state: &State, skus: impl Iterator<Item = &'a Sku>) -> Result<(), DomainError> {
    let mut seen: Vec<&Sku> = Vec::new();
    for (index, sku) in skus.enumerate() {
        let field = format!("lines[{index}].sku");
        state.stocked_item(sku, &field)?;
        if seen.contains(&sku) {
            return Err(DomainError::invalid(
                field,
                format!("{sku} is listed twice; combine the lines"),
            ));
        }
        seen.push(sku);
    }
    Ok(())
}

/// Record a count.
pub(crate) fn record_count(
    state: &State,
    command: &RecordCount,
    ctx: &Context,
) -> Result<Vec<InventoryEvent>, DomainError> {
    let settings = state.settings()?;
    if state.counts.contains(&command.count) {
        return Err(DomainError::AlreadyExists {
            kind: DocumentKind::Count,
            id: command.count.to_string(),
        });
    }
    state.fulfillment_center(&command.location, "location")?;
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "a count needs at least one line",
        ));
    }
    check_skus(state, command.lines.iter().map(|l| &l.sku))?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut lines = Vec::with_capacity(command.lines.len());
    let mut changes = Vec::with_capacity(command.lines.len());
    for (index, input) in command.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        if input.counted < 0 {
            return Err(DomainError::invalid(at("counted"), "must not be negative"));
        }
        let system = builder.balance(&input.sku, &command.location).on_hand;
        let change = input
            .counted
            .checked_sub(system)
            .ok_or_else(|| DomainError::overflow(at("counted")))?;
        changes.push(book_change(
            state,
            &mut builder,
            &input.sku,
            &command.location,
            change,
            None,
            &at,
        )?);
        lines.push(CountedLine {
            sku: input.sku.clone(),
            system,
            counted: input.counted,
        });
    }
    post_changes(&mut builder, Account::InventoryWriteOff, &changes)?;
    Ok(vec![InventoryEvent::CountRecorded {
        count: command.count.clone(),
        location: command.location.clone(),
        lines,
        reason: command.reason.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Adjust.
pub(crate) fn adjust(
    state: &State,
    command: &AdjustStock,
    ctx: &Context,
) -> Result<Vec<InventoryEvent>, DomainError> {
    let settings = state.settings()?;
    if state.adjustments.contains(&command.adjustment) {
        return Err(DomainError::AlreadyExists {
            kind: DocumentKind::Adjustment,
            id: command.adjustment.to_string(),
        });
    }
    state.fulfillment_center(&command.location, "location")?;
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "an adjustment needs at least one line",
        ));
    }
    check_skus(state, command.lines.iter().map(|l| &l.sku))?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut changes = Vec::with_capacity(command.lines.len());
    for (index, input) in command.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        if input.quantity == 0 {
            return Err(DomainError::invalid(
                at("quantity"),
                "must not be zero (positive adds stock, negative removes it)",
            ));
        }
        if let Some(unit_cost) = input.unit_cost_minor {
            if input.quantity < 0 {
                return Err(DomainError::invalid(
                    at("unit_cost_minor"),
                    "only gains take a unit cost; losses leave at the moving average",
                ));
            }
            if unit_cost < 0 {
                return Err(DomainError::invalid(
                    at("unit_cost_minor"),
                    "must not be negative",
                ));
            }
        }
        changes.push(book_change(
            state,
            &mut builder,
            &input.sku,
            &command.location,
            input.quantity,
            input.unit_cost_minor,
            &at,
        )?);
    }
    let counterpart = if command.reason.as_str() == OPENING_BALANCE {
        Account::OpeningBalanceEquity
    } else {
        Account::InventoryWriteOff
    };
    post_changes(&mut builder, counterpart, &changes)?;
    Ok(vec![InventoryEvent::StockAdjusted {
        adjustment: command.adjustment.clone(),
        location: command.location.clone(),
        reason: command.reason.clone(),
        lines: command.lines.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Applies an inventory event: records the id (the ledgers are updated by the caller).
pub(crate) fn apply(
    counts: &mut FxHashSet<CountId>,
    adjustments: &mut FxHashSet<AdjustmentId>,
    event: &InventoryEvent,
) {
    match event {
        InventoryEvent::CountRecorded { count, .. } => {
            counts.insert(count.clone());
        }
        InventoryEvent::StockAdjusted { adjustment, .. } => {
            adjustments.insert(adjustment.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::testkit::{balance, id, money, ok, rejected, stock, tenant};
    use crate::documents::transfer::{CreateTransfer, TransferLineInput};
    use crate::state::{Command, Event};

    const T1: &str = "2025-03-02T09:00:00Z";

    fn count(id_: &str, lines: &[(&str, i64)]) -> Command {
        Command::RecordCount(RecordCount {
            count: id(id_),
            location: id("FC-EAST"),
            lines: lines
                .iter()
                .map(|(sku, counted)| CountLineInput {
                    sku: id(sku),
                    counted: *counted,
                })
                .collect(),
            reason: Some(id("cycle_count")),
        })
    }

    fn adjust(id_: &str, reason: &str, lines: &[(&str, i64, Option<i64>)]) -> Command {
        Command::AdjustStock(AdjustStock {
            adjustment: id(id_),
            location: id("FC-EAST"),
            reason: id(reason),
            lines: lines
                .iter()
                .map(|(sku, quantity, unit_cost_minor)| AdjustLineInput {
                    sku: id(sku),
                    quantity: *quantity,
                    unit_cost_minor: *unit_cost_minor,
                })
                .collect(),
        })
    }

    fn reserve_mugs(state: &mut State, quantity: i64) {
        ok(
            state,
            Command::CreateTransfer(CreateTransfer {
                transfer: id("T-1"),
                from: id("FC-EAST"),
                to: id("FC-WEST"),
                lines: vec![TransferLineInput {
                    sku: id("MUG"),
                    quantity,
                }],
            }),
            T1,
        );
    }

    #[test]
    fn a_count_books_losses_at_the_moving_average_and_gains_at_average_or_standard_cost() {
        // 10 MUG at 4.00 and 4 LID at 1.50: inventory 46.00. Counted: 8 MUG (lose 2 × 4.00 =
        // 8.00), 5 LID (gain 1 at the 1.50 average), 1 GIFT where the ledger had none (gain at
        // its 9.50 standard cost). Inventory 46.00 − 8.00 + 1.50 + 9.50 = 49.00; write-off
        // debited 8.00 and credited 11.00.
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 10, 400);
        stock(&mut state, "LID", "FC-EAST", 4, 150);
        let events = ok(
            &mut state,
            count("C-1", &[("MUG", 8), ("LID", 5), ("GIFT", 1)]),
            T1,
        );
        let [Event::Inventory(InventoryEvent::CountRecorded { lines, .. })] = events.as_slice()
        else {
            panic!("{events:?}");
        };
        assert_eq!(
            lines,
            &vec![
                CountedLine {
                    sku: id("MUG"),
                    system: 10,
                    counted: 8
                },
                CountedLine {
                    sku: id("LID"),
                    system: 4,
                    counted: 5
                },
                CountedLine {
                    sku: id("GIFT"),
                    system: 0,
                    counted: 1
                },
            ]
        );
        assert_eq!(money(&state, Account::Inventory), 4900);
        assert_eq!(money(&state, Account::InventoryWriteOff), 800 - 1100);
        assert_eq!(balance(&state, "MUG", "FC-EAST").value_minor, 3200);
        assert_eq!(balance(&state, "GIFT", "FC-EAST").value_minor, 950);
        assert_eq!(
            rejected(&mut state, count("C-1", &[("MUG", 8)]), T1),
            DomainError::AlreadyExists {
                kind: DocumentKind::Count,
                id: "C-1".into()
            }
        );
    }

    #[test]
    fn a_count_may_not_go_below_what_is_reserved() {
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 10, 400);
        reserve_mugs(&mut state, 3);
        assert_eq!(
            rejected(&mut state, count("C-1", &[("MUG", 2)]), T1),
            DomainError::BelowReserved {
                sku: id("MUG"),
                location: id("FC-EAST"),
                on_hand: 2,
                reserved: 3
            }
        );
        // Down to exactly the reservation is fine: 7 units (28.00) are lost.
        ok(&mut state, count("C-1", &[("MUG", 3)]), T1);
        assert_eq!(money(&state, Account::InventoryWriteOff), 2800);
        assert_eq!(balance(&state, "MUG", "FC-EAST").reserved, 3);
    }

    #[test]
    fn adjustments_post_to_write_off_or_opening_balance_equity() {
        // Opening balance 10 MUG at 4.00: inventory 40.00 against opening equity. 2 damaged
        // MUG leave at 4.00 (write-off 8.00); 3 found MUG at an explicit 5.00 add 15.00; 2 found
        // LID with no stock and no cost come in at the 1.50 standard cost.
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 10, 400);
        assert_eq!(money(&state, Account::OpeningBalanceEquity), -4000);
        ok(
            &mut state,
            adjust("A-1", "damaged", &[("MUG", -2, None)]),
            T1,
        );
        assert_eq!(money(&state, Account::InventoryWriteOff), 800);
        ok(
            &mut state,
            adjust("A-2", "found", &[("MUG", 3, Some(500)), ("LID", 2, None)]),
            T1,
        );
        assert_eq!(money(&state, Account::InventoryWriteOff), 800 - 1500 - 300);
        assert_eq!(money(&state, Account::Inventory), 4000 - 800 + 1500 + 300);
        assert_eq!(
            rejected(&mut state, adjust("A-2", "found", &[("MUG", 1, None)]), T1),
            DomainError::AlreadyExists {
                kind: DocumentKind::Adjustment,
                id: "A-2".into()
            }
        );
    }

    #[test]
    fn gains_without_a_cost_take_the_moving_average_rounded() {
        // 3 MUG worth 3.33 + 3.34 + 3.34 = 10.01; one more found is worth 1001 / 3 = 333.67
        // → 3.34.
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 1, 333);
        stock(&mut state, "MUG", "FC-EAST", 2, 334);
        ok(&mut state, adjust("A-1", "found", &[("MUG", 1, None)]), T1);
        assert_eq!(balance(&state, "MUG", "FC-EAST").value_minor, 1001 + 334);
    }

    #[test]
    fn bad_counts_and_adjustments_are_rejected_with_the_field() {
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 2, 400);
        assert!(matches!(
            rejected(&mut state, count("C-1", &[("MUG", -1)]), T1),
            DomainError::Invalid { field, .. } if field == "lines[0].counted"
        ));
        assert!(matches!(
            rejected(&mut state, count("C-1", &[("MUG", 1), ("MUG", 2)]), T1),
            DomainError::Invalid { field, .. } if field == "lines[1].sku"
        ));
        assert!(matches!(
            rejected(&mut state, count("C-1", &[("DUO", 1)]), T1),
            DomainError::Invalid { field, .. } if field == "lines[0].sku"
        ));
        assert!(matches!(
            rejected(&mut state, adjust("A-1", "found", &[("MUG", 0, None)]), T1),
            DomainError::Invalid { field, .. } if field == "lines[0].quantity"
        ));
        assert!(matches!(
            rejected(&mut state, adjust("A-1", "damaged", &[("MUG", -1, Some(400))]), T1),
            DomainError::Invalid { field, .. } if field == "lines[0].unit_cost_minor"
        ));
        assert_eq!(
            rejected(
                &mut state,
                adjust("A-1", "damaged", &[("MUG", -3, None)]),
                T1
            ),
            DomainError::BelowReserved {
                sku: id("MUG"),
                location: id("FC-EAST"),
                on_hand: -1,
                reserved: 0
            }
        );
        assert_eq!(
            rejected(
                &mut state,
                adjust("A-1", "found", &[("MUG", 2, Some(i64::MAX))]),
                T1
            ),
            DomainError::overflow("lines[0].unit_cost_minor")
        );
    }
}
