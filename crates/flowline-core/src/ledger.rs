//! The two double-entry ledgers.
//!
//! **Stock.** Every physical change is a [`Move`] of a quantity of one item from one location to
//! another, carrying its value at cost in the tenant's base currency. Because every move leaves
//! one location and enters another, the sum of an item's quantities (and values) over all
//! locations is zero after every event. Virtual locations (`supplier`, `customer`, ...) take the
//! other side and may go negative; physical locations never do. Costing is a moving average per
//! item and location: a move out of a location takes `value × quantity / on_hand` of its value,
//! rounded, so the last unit out takes exactly what is left and the value of a location reaches
//! zero exactly when its quantity does.
//!
//! **Money.** Every cash-relevant fact posts a balanced [`JournalEntry`]: the signed amounts
//! (debits positive, credits negative) of each currency sum to zero. The inventory account always
//! equals the value held at valued locations (fulfillment centers, `in_transit`, `quarantine`).

use crate::id::{LocationId, Sku};
use crate::money::{Currency, Money, divide_rounding};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The built-in virtual locations, and what each stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum VirtualLocation {
    /// Goods come from suppliers (receipts) and go back to them (returns to vendor).
    Supplier,
    /// Goods go to customers (shipments) and come back from them (returns).
    Customer,
    /// Components consumed and products made by work orders.
    Production,
    /// Goods between two fulfillment centers. Valued: still owned inventory.
    InTransit,
    /// Goods written off.
    Scrap,
    /// Counterpart of count differences and adjustments.
    Adjustment,
    /// Returned goods waiting for inspection. Valued: still owned inventory.
    Quarantine,
}

impl VirtualLocation {
    /// All virtual locations.
    pub const ALL: [Self; 7] = [
        Self::Supplier,
        Self::Customer,
        Self::Production,
        Self::InTransit,
        Self::Scrap,
        Self::Adjustment,
        Self::Quarantine,
    ];

    /// The reserved location id.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Supplier => "supplier",
            Self::Customer => "customer",
            Self::Production => "production",
            Self::InTransit => "in_transit",
            Self::Scrap => "scrap",
            Self::Adjustment => "adjustment",
            Self::Quarantine => "quarantine",
        }
    }

    /// The location id of this virtual location.
    pub fn id(&self) -> LocationId {
        // The names above are valid ids by construction (checked in a test).
        LocationId::parse(self.name()).unwrap_or_else(|_| unreachable!())
    }

    /// Whether goods here are owned inventory counted in the inventory account.
    pub fn is_valued(&self) -> bool {
        matches!(self, Self::InTransit | Self::Quarantine)
    }

    /// The virtual location with this id, if any.
    pub fn from_id(id: &LocationId) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|location| location.name() == id.as_str())
    }
}

/// A move of a quantity of one item between two locations, valued at cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Move {
    /// The item moved.
    pub sku: Sku,
    /// Where it left.
    pub from: LocationId,
    /// Where it arrived.
    pub to: LocationId,
    /// How many units (always positive).
    pub quantity: i64,
    /// The value moved, in base-currency minor units.
    pub value_minor: i64,
}

/// Quantity, reservations and value of one item at one location.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Balance {
    /// Quantity at the location (negative at virtual locations that are a source).
    pub on_hand: i64,
    /// Quantity reserved for open documents (allocations, transfers, work orders).
    pub reserved: i64,
    /// Value at cost, base-currency minor units.
    pub value_minor: i64,
}

impl Balance {
    /// On hand minus reserved.
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    /// The value of `quantity` units leaving this balance at its moving-average cost.
    /// Taking every unit takes the whole value, so no rounding residue is ever left behind.
    pub fn value_of(&self, quantity: i64) -> i64 {
        if self.on_hand <= 0 || quantity <= 0 {
            return 0;
        }
        if quantity >= self.on_hand {
            return self.value_minor;
        }
        let value = divide_rounding(
            i128::from(self.value_minor) * i128::from(quantity),
            i128::from(self.on_hand),
        );
        // |value| <= |value_minor| because quantity < on_hand.
        i64::try_from(value).unwrap_or(self.value_minor)
    }
}

/// The stock ledger: balances per (item, location).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLedger {
    #[serde(with = "crate::codec::sorted")]
    balances: FxHashMap<(Sku, LocationId), Balance>,
}

impl StockLedger {
    /// The balance of an item at a location (zero if it never moved there).
    pub fn balance(&self, sku: &Sku, location: &LocationId) -> Balance {
        self.balances
            .get(&(sku.clone(), location.clone()))
            .copied()
            .unwrap_or_default()
    }

    /// Every non-empty balance, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&(Sku, LocationId), &Balance)> {
        self.balances.iter()
    }

    /// Applies a move.
    pub fn apply_move(&mut self, movement: &Move) {
        let from = self.entry(&movement.sku, &movement.from);
        from.on_hand -= movement.quantity;
        from.value_minor -= movement.value_minor;
        let to = self.entry(&movement.sku, &movement.to);
        to.on_hand += movement.quantity;
        to.value_minor += movement.value_minor;
    }

    /// Changes the reserved quantity of an item at a location by `delta`.
    pub fn reserve(&mut self, sku: &Sku, location: &LocationId, delta: i64) {
        self.entry(sku, location).reserved += delta;
    }

    fn entry(&mut self, sku: &Sku, location: &LocationId) -> &mut Balance {
        // Looking up before inserting avoids cloning the key on the hot path.
        let key = (sku.clone(), location.clone());
        self.balances.entry(key).or_default()
    }
}

/// The SCOR level-1 processes, used to tag supply chain costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScorProcess {
    /// Demand and supply planning.
    Plan,
    /// Buying, receiving, supplier management.
    Source,
    /// Kitting, assembly, customization, quality control.
    Make,
    /// Order management, pick, pack, ship, carriers.
    Deliver,
    /// Return labels, inspection, refurbishment, disposal.
    Return,
    /// Technology, data, integrations, improvement.
    Enable,
}

impl ScorProcess {
    /// All processes, in SCOR order.
    pub const ALL: [Self; 6] = [
        Self::Plan,
        Self::Source,
        Self::Make,
        Self::Deliver,
        Self::Return,
        Self::Enable,
    ];

    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Source => "source",
            Self::Make => "make",
            Self::Deliver => "deliver",
            Self::Return => "return",
            Self::Enable => "enable",
        }
    }
}

/// Accounts of the money ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", tag = "account", content = "process")]
pub enum Account {
    /// Bank and card-processor balances.
    Cash,
    /// Owed by customers (a credit balance is a customer prepayment).
    Receivables,
    /// Owed to suppliers and vendors (a debit balance is a vendor credit).
    Payables,
    /// Stock at cost in valued locations.
    Inventory,
    /// Components issued to work orders not yet completed.
    WorkInProgress,
    /// Goods received from suppliers, not yet billed.
    GoodsReceivedNotInvoiced,
    /// Sales revenue.
    Revenue,
    /// Refunds to customers (contra-revenue).
    Refunds,
    /// Sales tax collected, owed to the tax authority.
    SalesTaxPayable,
    /// Cost of units sold.
    CostOfGoodsSold,
    /// Scrap, shrink and count differences (part of cost of goods sold in SCOR CO.1.002).
    InventoryWriteOff,
    /// Difference between a supplier's bill and the value received.
    PurchasePriceVariance,
    /// Fixed assets at cost.
    FixedAssets,
    /// Accumulated depreciation of fixed assets (contra-asset).
    AccumulatedDepreciation,
    /// Expensed supply chain costs, tagged by SCOR process.
    SupplyChainCost(ScorProcess),
    /// Expenses outside the supply chain (depreciation of non-supply-chain assets).
    OtherExpense,
    /// Gain or loss on disposal of fixed assets.
    AssetDisposalGainLoss,
    /// Clearing account for currency conversion: keeps each currency's entry balanced.
    CurrencyExchange,
    /// Counterpart of opening stock balances.
    OpeningBalanceEquity,
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SupplyChainCost(process) => write!(f, "supply_chain_cost:{}", process.as_str()),
            other => {
                let text = serde_json::to_value(other)
                    .ok()
                    .and_then(|value| {
                        value
                            .get("account")
                            .and_then(|v| v.as_str().map(String::from))
                    })
                    .unwrap_or_default();
                f.write_str(&text)
            }
        }
    }
}

/// One line of a journal entry: a signed amount (debit positive, credit negative) on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Posting {
    /// The account.
    pub account: Account,
    /// The signed amount: debit positive, credit negative.
    pub amount: Money,
}

/// A balanced set of postings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JournalEntry {
    /// The postings; per currency their amounts sum to zero.
    pub postings: Vec<Posting>,
}

impl JournalEntry {
    /// An empty entry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a debit of `amount_minor` to `debit` and the matching credit to `credit`.
    /// Zero amounts are skipped; negative amounts swap the sides.
    pub fn transfer(
        &mut self,
        debit: Account,
        credit: Account,
        amount_minor: i64,
        currency: Currency,
    ) {
        if amount_minor == 0 {
            return;
        }
        self.postings.push(Posting {
            account: debit,
            amount: Money::new(amount_minor, currency),
        });
        self.postings.push(Posting {
            account: credit,
            amount: Money::new(-amount_minor, currency),
        });
    }

    /// Whether the entry has no postings.
    pub fn is_empty(&self) -> bool {
        self.postings.is_empty()
    }

    /// The currencies whose postings do not sum to zero, with the sum.
    pub fn imbalances(&self) -> Vec<(Currency, i128)> {
        let mut sums: Vec<(Currency, i128)> = Vec::new();
        for posting in &self.postings {
            let amount = i128::from(posting.amount.amount_minor);
            match sums
                .iter_mut()
                .find(|(currency, _)| *currency == posting.amount.currency)
            {
                Some((_, sum)) => *sum += amount,
                None => sums.push((posting.amount.currency, amount)),
            }
        }
        sums.retain(|(_, sum)| *sum != 0);
        sums
    }
}

/// The money ledger: balances per (account, currency).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyLedger {
    #[serde(with = "crate::codec::sorted")]
    balances: FxHashMap<(Account, Currency), i64>,
}

impl MoneyLedger {
    /// The balance of an account in a currency (debit positive).
    pub fn balance(&self, account: Account, currency: Currency) -> i64 {
        self.balances
            .get(&(account, currency))
            .copied()
            .unwrap_or(0)
    }

    /// Every balance, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&(Account, Currency), &i64)> {
        self.balances.iter()
    }

    /// Posts an entry.
    pub fn post(&mut self, entry: &JournalEntry) {
        for posting in &entry.postings {
            *self
                .balances
                .entry((posting.account, posting.amount.currency))
                .or_insert(0) += posting.amount.amount_minor;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }
    fn loc(s: &str) -> LocationId {
        LocationId::parse(s).unwrap()
    }

    #[test]
    fn virtual_location_names_are_valid_ids() {
        for location in VirtualLocation::ALL {
            assert_eq!(VirtualLocation::from_id(&location.id()), Some(location));
        }
    }

    #[test]
    fn moving_average_takes_everything_with_the_last_unit() {
        // 3 units worth 10.00 in total: 3.333... each. Taking 1 takes round(1000/3) = 333,
        // taking another takes round(667 × 1 / 2) = 334 (half away from zero), the last takes 333.
        let mut ledger = StockLedger::default();
        let a = sku("A");
        ledger.apply_move(&Move {
            sku: a.clone(),
            from: loc("supplier"),
            to: loc("FC1"),
            quantity: 3,
            value_minor: 1000,
        });
        let mut taken = Vec::new();
        for _ in 0..3 {
            let value = ledger.balance(&a, &loc("FC1")).value_of(1);
            taken.push(value);
            ledger.apply_move(&Move {
                sku: a.clone(),
                from: loc("FC1"),
                to: loc("customer"),
                quantity: 1,
                value_minor: value,
            });
        }
        assert_eq!(taken, vec![333, 334, 333]);
        assert_eq!(
            ledger.balance(&a, &loc("FC1")),
            Balance {
                on_hand: 0,
                reserved: 0,
                value_minor: 0
            }
        );
        // Conservation: supplier -3/-1000, customer +3/+1000.
        assert_eq!(ledger.balance(&a, &loc("customer")).value_minor, 1000);
        assert_eq!(ledger.balance(&a, &loc("supplier")).on_hand, -3);
    }

    #[test]
    fn journal_entries_report_imbalance_per_currency() {
        let usd = Currency::parse("USD").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let mut entry = JournalEntry::new();
        entry.transfer(Account::Inventory, Account::CurrencyExchange, 1084, usd);
        entry.transfer(
            Account::CurrencyExchange,
            Account::GoodsReceivedNotInvoiced,
            1000,
            eur,
        );
        assert!(entry.imbalances().is_empty());
        entry.postings.push(Posting {
            account: Account::Cash,
            amount: Money::new(5, eur),
        });
        assert_eq!(entry.imbalances(), vec![(eur, 5)]);
    }

    #[test]
    fn accounts_display_as_snake_case() {
        assert_eq!(
            Account::GoodsReceivedNotInvoiced.to_string(),
            "goods_received_not_invoiced"
        );
        assert_eq!(
            Account::SupplyChainCost(ScorProcess::Deliver).to_string(),
            "supply_chain_cost:deliver"
        );
    }
}
