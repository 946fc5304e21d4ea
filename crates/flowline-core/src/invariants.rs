//! The ledger invariants. Checked after every event by the property tests and over a whole log
//! by `flowline check`.
//!
//! - Conservation: for every item, quantities and values over all locations sum to zero.
//! - Physical (valued) locations never hold a negative quantity, and hold no value once empty.
//! - Reservations: 0 ≤ reserved ≤ on hand.
//! - Every journal entry balances per currency, so the trial balance is zero per currency.
//! - The inventory account equals the value held at valued locations, and work in progress equals
//!   the value held at `production`.

use crate::effects::is_valued;
use crate::id::{LocationId, Sku};
use crate::ledger::{Account, Balance, StockLedger, VirtualLocation};
use crate::money::Currency;
use crate::state::{Event, State};
use rustc_hash::FxHashMap;
use std::fmt;

/// One broken invariant, with the values that show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// An item's quantities or values over all locations do not sum to zero.
    NotConserved {
        /// The item.
        sku: Sku,
        /// Sum of quantities.
        quantity: i64,
        /// Sum of values.
        value_minor: i64,
    },
    /// A physical location holds a negative quantity.
    NegativeOnHand {
        /// The item.
        sku: Sku,
        /// The location.
        location: LocationId,
        /// The quantity.
        on_hand: i64,
    },
    /// More is reserved than is on hand, or a reservation is negative.
    ReservedOutOfRange {
        /// The item.
        sku: Sku,
        /// The location.
        location: LocationId,
        /// On hand.
        on_hand: i64,
        /// Reserved.
        reserved: i64,
    },
    /// An empty valued location still holds value.
    ValueWithoutStock {
        /// The item.
        sku: Sku,
        /// The location.
        location: LocationId,
        /// The value left.
        value_minor: i64,
    },
    /// The trial balance of a currency is not zero.
    TrialBalance {
        /// The currency.
        currency: Currency,
        /// Sum of all balances.
        sum_minor: i128,
    },
    /// An account does not equal the stock value it stands for.
    AccountMismatch {
        /// The account.
        account: Account,
        /// Value computed from the stock ledger.
        stock_value_minor: i64,
        /// Account balance.
        account_minor: i64,
    },
    /// A single event's journal entry does not balance.
    UnbalancedEntry {
        /// The event type.
        event_type: &'static str,
        /// The currency.
        currency: Currency,
        /// The imbalance.
        sum_minor: i128,
    },
    /// An event moves a non-positive quantity or from a location to itself.
    BadMove {
        /// The event type.
        event_type: &'static str,
        /// The item.
        sku: Sku,
        /// Why.
        reason: &'static str,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotConserved {
                sku,
                quantity,
                value_minor,
            } => {
                write!(
                    f,
                    "item {sku}: balances over all locations sum to {quantity} units and {value_minor} value, expected 0 and 0"
                )
            }
            Self::NegativeOnHand {
                sku,
                location,
                on_hand,
            } => {
                write!(
                    f,
                    "item {sku} at {location}: on hand {on_hand}, expected >= 0"
                )
            }
            Self::ReservedOutOfRange {
                sku,
                location,
                on_hand,
                reserved,
            } => {
                write!(
                    f,
                    "item {sku} at {location}: reserved {reserved}, expected between 0 and on hand {on_hand}"
                )
            }
            Self::ValueWithoutStock {
                sku,
                location,
                value_minor,
            } => {
                write!(
                    f,
                    "item {sku} at {location}: no stock but value {value_minor}, expected 0"
                )
            }
            Self::TrialBalance {
                currency,
                sum_minor,
            } => {
                write!(f, "trial balance in {currency} is {sum_minor}, expected 0")
            }
            Self::AccountMismatch {
                account,
                stock_value_minor,
                account_minor,
            } => {
                write!(
                    f,
                    "account {account} is {account_minor}, expected {stock_value_minor} (stock ledger value)"
                )
            }
            Self::UnbalancedEntry {
                event_type,
                currency,
                sum_minor,
            } => {
                write!(
                    f,
                    "{event_type}: journal entry off by {sum_minor} in {currency}"
                )
            }
            Self::BadMove {
                event_type,
                sku,
                reason,
            } => write!(f, "{event_type}: move of {sku}: {reason}"),
        }
    }
}

/// Checks one event on its own: balanced entry, sane moves.
pub fn check_event(event: &Event) -> Vec<Violation> {
    let mut violations = Vec::new();
    let Some(effects) = event.effects() else {
        return violations;
    };
    for (currency, sum_minor) in effects.journal.imbalances() {
        violations.push(Violation::UnbalancedEntry {
            event_type: event.type_name(),
            currency,
            sum_minor,
        });
    }
    for movement in &effects.moves {
        if movement.quantity <= 0 {
            violations.push(Violation::BadMove {
                event_type: event.type_name(),
                sku: movement.sku.clone(),
                reason: "quantity is not positive",
            });
        }
        if movement.from == movement.to {
            violations.push(Violation::BadMove {
                event_type: event.type_name(),
                sku: movement.sku.clone(),
                reason: "from and to are the same location",
            });
        }
    }
    violations
}

/// Checks the stock ledger alone: conservation, non-negative physical stock, reservations.
pub fn check_stock(stock: &StockLedger) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut sums: FxHashMap<&Sku, (i64, i64)> = FxHashMap::default();
    let mut sorted: Vec<(&(Sku, LocationId), &Balance)> = stock.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    for ((sku, location), balance) in sorted {
        let sum = sums.entry(sku).or_default();
        sum.0 += balance.on_hand;
        sum.1 += balance.value_minor;
        if is_valued(location) {
            if balance.on_hand < 0 {
                violations.push(Violation::NegativeOnHand {
                    sku: sku.clone(),
                    location: location.clone(),
                    on_hand: balance.on_hand,
                });
            }
            if balance.on_hand == 0 && balance.value_minor != 0 {
                violations.push(Violation::ValueWithoutStock {
                    sku: sku.clone(),
                    location: location.clone(),
                    value_minor: balance.value_minor,
                });
            }
        }
        if balance.reserved < 0 || balance.reserved > balance.on_hand.max(0) {
            violations.push(Violation::ReservedOutOfRange {
                sku: sku.clone(),
                location: location.clone(),
                on_hand: balance.on_hand,
                reserved: balance.reserved,
            });
        }
    }
    let mut sums: Vec<(&Sku, (i64, i64))> = sums.into_iter().collect();
    sums.sort();
    for (sku, (quantity, value_minor)) in sums {
        if quantity != 0 || value_minor != 0 {
            violations.push(Violation::NotConserved {
                sku: sku.clone(),
                quantity,
                value_minor,
            });
        }
    }
    violations
}

/// Checks the whole state: the stock ledger, the trial balance, and that the inventory and
/// work-in-progress accounts equal the stock values they stand for.
pub fn check_state(state: &State) -> Vec<Violation> {
    let mut violations = check_stock(&state.stock);
    let mut trial: FxHashMap<Currency, i128> = FxHashMap::default();
    for ((_, currency), amount) in state.money.iter() {
        *trial.entry(*currency).or_default() += i128::from(*amount);
    }
    let mut trial: Vec<(Currency, i128)> = trial.into_iter().filter(|(_, sum)| *sum != 0).collect();
    trial.sort();
    for (currency, sum_minor) in trial {
        violations.push(Violation::TrialBalance {
            currency,
            sum_minor,
        });
    }
    let Some(settings) = &state.settings else {
        return violations;
    };
    let production = VirtualLocation::Production.id();
    let mut inventory_value: i64 = 0;
    let mut production_value: i64 = 0;
    for ((_, location), balance) in state.stock.iter() {
        if is_valued(location) {
            inventory_value += balance.value_minor;
        } else if *location == production {
            production_value += balance.value_minor;
        }
    }
    for (account, stock_value_minor) in [
        (Account::Inventory, inventory_value),
        (Account::WorkInProgress, production_value),
    ] {
        let account_minor = state.money.balance(account, settings.base_currency);
        if account_minor != stock_value_minor {
            violations.push(Violation::AccountMismatch {
                account,
                stock_value_minor,
                account_minor,
            });
        }
    }
    violations
}
