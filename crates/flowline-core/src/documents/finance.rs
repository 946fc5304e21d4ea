//! Enable: supply chain costs and fixed assets.
//!
//! A posted cost is expensed to the supply chain cost account of its SCOR process
//! (`Dr supply chain cost:<process> / Cr cash | payables`), in the currency it was incurred in.
//! A fixed asset is capitalised at cost in the base currency, depreciated (straight line by
//! default, never below its salvage value) to its SCOR process if it serves the supply chain or
//! to other expenses if not, and finally disposed of, booking the gain or loss against its net
//! book value.

use crate::effects::{Effects, EffectsBuilder};
use crate::error::{DocumentKind, DomainError, positive};
use crate::id::{CostId, FixedAssetId};
use crate::ledger::{Account, ScorProcess};
use crate::money::{Money, divide_rounding};
use crate::state::{Context, State};
use jiff::Timestamp;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// What a supply chain cost is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CostType {
    /// Carrier charges.
    Carrier,
    /// Pick and pack fees.
    PickPack,
    /// Storage fees.
    Storage,
    /// Labour.
    Labour,
    /// Software and integrations.
    Software,
    /// Packaging material.
    Packaging,
    /// Duties and customs.
    Duties,
    /// Anything else.
    Other,
}

/// How a cost or an asset is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Settlement {
    /// Paid at once (credits cash).
    Paid,
    /// Owed (credits payables).
    Payable,
}

impl Settlement {
    fn account(self) -> Account {
        match self {
            Self::Paid => Account::Cash,
            Self::Payable => Account::Payables,
        }
    }
}

/// Post a supply chain cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PostCost {
    /// New cost id.
    pub cost: CostId,
    /// SCOR process the cost belongs to.
    pub process: ScorProcess,
    /// Kind of cost.
    pub cost_type: CostType,
    /// Amount, any currency, positive.
    pub amount: Money,
    /// Paid or payable.
    pub settlement: Settlement,
    /// The document the cost relates to (`sales_order/SO-1`, `shipment/SH-1`).
    #[serde(default)]
    pub reference: Option<String>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// Acquire a fixed asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AcquireFixedAsset {
    /// New asset id.
    pub asset: FixedAssetId,
    /// Name.
    pub name: String,
    /// Cost, base currency.
    pub cost: Money,
    /// Whether the asset serves the supply chain (counted in return on supply chain fixed
    /// assets).
    pub supply_chain: bool,
    /// SCOR process its depreciation is charged to; required for supply chain assets.
    #[serde(default)]
    pub process: Option<ScorProcess>,
    /// Useful life, months.
    pub useful_life_months: i64,
    /// Value at the end of its life, base currency minor units.
    #[serde(default)]
    pub salvage_minor: i64,
    /// Paid or payable.
    pub settlement: Settlement,
}

/// Depreciate a fixed asset for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DepreciateFixedAsset {
    /// The asset.
    pub asset: FixedAssetId,
    /// Amount; default one month straight line, `(cost − salvage) / useful life` rounded, with
    /// the rounding residue taken in the last month.
    #[serde(default)]
    pub amount_minor: Option<i64>,
}

/// Dispose of a fixed asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DisposeFixedAsset {
    /// The asset.
    pub asset: FixedAssetId,
    /// Cash received, base currency minor units.
    #[serde(default)]
    pub proceeds_minor: i64,
}

crate::registry::event_family! {
    /// Finance events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum FinanceEvent {
        /// A supply chain cost was posted.
        "CostPosted" => CostPosted {
            /// Cost id.
            cost: CostId,
            /// SCOR process.
            process: ScorProcess,
            /// Kind.
            cost_type: CostType,
            /// Amount.
            amount: Money,
            /// Settlement.
            settlement: Settlement,
            /// Related document.
            reference: Option<String>,
            /// Note.
            note: Option<String>,
            /// When.
            at: Timestamp,
            /// Postings.
            effects: Effects,
        },
        /// A fixed asset was acquired.
        "FixedAssetAcquired" => AssetAcquired {
            /// Asset id.
            asset: FixedAssetId,
            /// Name.
            name: String,
            /// Cost, base currency minor units.
            cost_minor: i64,
            /// Serves the supply chain.
            supply_chain: bool,
            /// SCOR process.
            process: Option<ScorProcess>,
            /// Useful life, months.
            useful_life_months: i64,
            /// Salvage value.
            salvage_minor: i64,
            /// Settlement.
            settlement: Settlement,
            /// When.
            at: Timestamp,
            /// Postings.
            effects: Effects,
        },
        /// A fixed asset was depreciated.
        "FixedAssetDepreciated" => AssetDepreciated {
            /// Asset id.
            asset: FixedAssetId,
            /// Amount.
            amount_minor: i64,
            /// When.
            at: Timestamp,
            /// Postings.
            effects: Effects,
        },
        /// A fixed asset was disposed of.
        "FixedAssetDisposed" => AssetDisposed {
            /// Asset id.
            asset: FixedAssetId,
            /// Cash received.
            proceeds_minor: i64,
            /// Gain (negative) or loss (positive) against net book value.
            loss_minor: i64,
            /// When.
            at: Timestamp,
            /// Postings.
            effects: Effects,
        },
    }
}

impl FinanceEvent {
    /// The stream the event belongs to: the cost or the asset.
    pub fn stream(&self) -> (DocumentKind, &str) {
        match self {
            Self::CostPosted { cost, .. } => (DocumentKind::Cost, cost.as_str()),
            Self::AssetAcquired { asset, .. }
            | Self::AssetDepreciated { asset, .. }
            | Self::AssetDisposed { asset, .. } => (DocumentKind::FixedAsset, asset.as_str()),
        }
    }

    /// Ledger effects.
    pub fn effects(&self) -> Option<&Effects> {
        match self {
            Self::CostPosted { effects, .. }
            | Self::AssetAcquired { effects, .. }
            | Self::AssetDepreciated { effects, .. }
            | Self::AssetDisposed { effects, .. } => Some(effects),
        }
    }
}

/// A posted cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CostRecord {
    /// Cost id.
    pub id: CostId,
    /// SCOR process.
    pub process: ScorProcess,
    /// Kind.
    pub cost_type: CostType,
    /// Amount.
    pub amount: Money,
    /// Settlement.
    pub settlement: Settlement,
    /// Related document.
    pub reference: Option<String>,
    /// When.
    pub at: Timestamp,
}

/// A fixed asset's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FixedAsset {
    /// Asset id.
    pub id: FixedAssetId,
    /// Name.
    pub name: String,
    /// Cost, base currency minor units.
    pub cost_minor: i64,
    /// Serves the supply chain.
    pub supply_chain: bool,
    /// SCOR process.
    pub process: Option<ScorProcess>,
    /// Useful life, months.
    pub useful_life_months: i64,
    /// Salvage value.
    pub salvage_minor: i64,
    /// Depreciation booked so far.
    pub accumulated_minor: i64,
    /// When acquired.
    pub acquired_at: Timestamp,
    /// When disposed of.
    pub disposed_at: Option<Timestamp>,
}

impl FixedAsset {
    /// Cost minus accumulated depreciation.
    pub fn net_book_value_minor(&self) -> i64 {
        self.cost_minor - self.accumulated_minor
    }

    /// Depreciation still to book before the salvage value is reached.
    pub fn depreciable_minor(&self) -> i64 {
        self.cost_minor - self.salvage_minor - self.accumulated_minor
    }

    /// The life-cycle state.
    pub fn state_name(&self) -> &'static str {
        if self.disposed_at.is_some() {
            "disposed"
        } else {
            "active"
        }
    }
}

fn find<'s>(state: &'s State, id: &FixedAssetId) -> Result<&'s FixedAsset, DomainError> {
    state
        .fixed_assets
        .get(id)
        .ok_or_else(|| DomainError::not_found(DocumentKind::FixedAsset, id, "asset"))
}

fn active<'s>(
    state: &'s State,
    id: &FixedAssetId,
    attempted: &'static str,
) -> Result<&'s FixedAsset, DomainError> {
    let found = find(state, id)?;
    if found.disposed_at.is_some() {
        return Err(DomainError::illegal(
            DocumentKind::FixedAsset,
            id,
            found.state_name(),
            attempted,
        ));
    }
    Ok(found)
}

/// Post a cost.
pub(crate) fn post_cost(
    state: &State,
    command: &PostCost,
    ctx: &Context,
) -> Result<Vec<FinanceEvent>, DomainError> {
    let settings = state.settings()?;
    if state.costs.contains_key(&command.cost) {
        return Err(DomainError::AlreadyExists {
            kind: DocumentKind::Cost,
            id: command.cost.to_string(),
        });
    }
    let amount = positive(|| "amount.amount_minor".into(), command.amount.amount_minor)?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(
        Account::SupplyChainCost(command.process),
        command.settlement.account(),
        amount,
        command.amount.currency,
    );
    Ok(vec![FinanceEvent::CostPosted {
        cost: command.cost.clone(),
        process: command.process,
        cost_type: command.cost_type,
        amount: command.amount,
        settlement: command.settlement,
        reference: command.reference.clone(),
        note: command.note.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Acquire an asset.
pub(crate) fn acquire(
    state: &State,
    command: &AcquireFixedAsset,
    ctx: &Context,
) -> Result<Vec<FinanceEvent>, DomainError> {
    let settings = state.settings()?;
    if state.fixed_assets.contains_key(&command.asset) {
        return Err(DomainError::AlreadyExists {
            kind: DocumentKind::FixedAsset,
            id: command.asset.to_string(),
        });
    }
    if command.cost.currency != settings.base_currency {
        return Err(DomainError::CurrencyMismatch {
            field: "cost".into(),
            expected: settings.base_currency,
            actual: command.cost.currency,
        });
    }
    let cost = positive(|| "cost.amount_minor".into(), command.cost.amount_minor)?;
    match (command.supply_chain, command.process) {
        (true, None) => {
            return Err(DomainError::invalid(
                "process",
                "required for a supply chain asset: the SCOR process its depreciation is charged to",
            ));
        }
        (false, Some(_)) => {
            return Err(DomainError::invalid(
                "process",
                "only supply chain assets are charged to a SCOR process",
            ));
        }
        _ => {}
    }
    positive(|| "useful_life_months".into(), command.useful_life_months)?;
    if command.salvage_minor < 0 || command.salvage_minor > cost {
        return Err(DomainError::invalid(
            "salvage_minor",
            format!("must be between 0 and the cost ({cost})"),
        ));
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post(
        Account::FixedAssets,
        command.settlement.account(),
        command.cost.amount_minor,
    );
    Ok(vec![FinanceEvent::AssetAcquired {
        asset: command.asset.clone(),
        name: command.name.clone(),
        cost_minor: cost,
        supply_chain: command.supply_chain,
        process: command.process,
        useful_life_months: command.useful_life_months,
        salvage_minor: command.salvage_minor,
        settlement: command.settlement,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Depreciate an asset.
pub(crate) fn depreciate(
    state: &State,
    command: &DepreciateFixedAsset,
    ctx: &Context,
) -> Result<Vec<FinanceEvent>, DomainError> {
    let settings = state.settings()?;
    let found = active(state, &command.asset, "depreciate")?;
    let remaining = found.depreciable_minor();
    if remaining <= 0 {
        return Err(DomainError::illegal(
            DocumentKind::FixedAsset,
            &command.asset,
            "fully_depreciated",
            "depreciate",
        ));
    }
    let amount = match command.amount_minor {
        Some(amount) => {
            positive(|| "amount_minor".into(), amount)?;
            if amount > remaining {
                return Err(DomainError::ExceedsOutstanding {
                    field: "amount_minor".into(),
                    requested: amount,
                    outstanding: remaining,
                });
            }
            amount
        }
        None => {
            let monthly = divide_rounding(
                i128::from(found.cost_minor - found.salvage_minor),
                i128::from(found.useful_life_months.max(1)),
            );
            // At least one minor unit a month, so a tiny asset still reaches its salvage value.
            let monthly = i64::try_from(monthly)
                .unwrap_or(remaining)
                .clamp(1, remaining);
            // What rounding left over (at most half a unit per month of life) goes with the
            // last month instead of lingering as a period of its own.
            if remaining - monthly <= found.useful_life_months / 2 {
                remaining
            } else {
                monthly
            }
        }
    };
    let expense = match (found.supply_chain, found.process) {
        (true, Some(process)) => Account::SupplyChainCost(process),
        _ => Account::OtherExpense,
    };
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post(expense, Account::AccumulatedDepreciation, amount);
    Ok(vec![FinanceEvent::AssetDepreciated {
        asset: command.asset.clone(),
        amount_minor: amount,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Dispose of an asset.
pub(crate) fn dispose(
    state: &State,
    command: &DisposeFixedAsset,
    ctx: &Context,
) -> Result<Vec<FinanceEvent>, DomainError> {
    let settings = state.settings()?;
    let found = active(state, &command.asset, "dispose")?;
    if command.proceeds_minor < 0 {
        return Err(DomainError::invalid(
            "proceeds_minor",
            "must not be negative",
        ));
    }
    // Loss = net book value − proceeds (negative: a gain).
    let loss = found
        .net_book_value_minor()
        .checked_sub(command.proceeds_minor)
        .ok_or_else(|| DomainError::overflow("proceeds_minor"))?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post(Account::Cash, Account::FixedAssets, command.proceeds_minor);
    builder.post(
        Account::AccumulatedDepreciation,
        Account::FixedAssets,
        found.accumulated_minor,
    );
    // A loss debits the gain/loss account; a gain (negative) credits it.
    builder.post(Account::AssetDisposalGainLoss, Account::FixedAssets, loss);
    Ok(vec![FinanceEvent::AssetDisposed {
        asset: command.asset.clone(),
        proceeds_minor: command.proceeds_minor,
        loss_minor: loss,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Applies a finance event.
pub(crate) fn apply(
    costs: &mut FxHashMap<CostId, CostRecord>,
    assets: &mut FxHashMap<FixedAssetId, FixedAsset>,
    event: &FinanceEvent,
) {
    match event {
        FinanceEvent::CostPosted {
            cost,
            process,
            cost_type,
            amount,
            settlement,
            reference,
            at,
            ..
        } => {
            costs.insert(
                cost.clone(),
                CostRecord {
                    id: cost.clone(),
                    process: *process,
                    cost_type: *cost_type,
                    amount: *amount,
                    settlement: *settlement,
                    reference: reference.clone(),
                    at: *at,
                },
            );
        }
        FinanceEvent::AssetAcquired {
            asset,
            name,
            cost_minor,
            supply_chain,
            process,
            useful_life_months,
            salvage_minor,
            at,
            ..
        } => {
            assets.insert(
                asset.clone(),
                FixedAsset {
                    id: asset.clone(),
                    name: name.clone(),
                    cost_minor: *cost_minor,
                    supply_chain: *supply_chain,
                    process: *process,
                    useful_life_months: *useful_life_months,
                    salvage_minor: *salvage_minor,
                    accumulated_minor: 0,
                    acquired_at: *at,
                    disposed_at: None,
                },
            );
        }
        FinanceEvent::AssetDepreciated {
            asset,
            amount_minor,
            ..
        } => {
            if let Some(found) = assets.get_mut(asset) {
                found.accumulated_minor += amount_minor;
            }
        }
        FinanceEvent::AssetDisposed { asset, at, .. } => {
            if let Some(found) = assets.get_mut(asset) {
                found.disposed_at = Some(*at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::testkit::{id, money, ok, rejected, tenant, usd};
    use crate::money::Currency;
    use crate::state::Command;

    const T1: &str = "2025-03-31T09:00:00Z";

    fn cost(id_: &str, amount: Money, settlement: Settlement) -> Command {
        Command::PostCost(PostCost {
            cost: id(id_),
            process: ScorProcess::Deliver,
            cost_type: CostType::Carrier,
            amount,
            settlement,
            reference: Some("shipment/SH-1".into()),
            note: None,
        })
    }

    fn acquire(
        asset: &str,
        cost_minor: i64,
        life: i64,
        salvage: i64,
        process: Option<ScorProcess>,
    ) -> Command {
        Command::AcquireFixedAsset(AcquireFixedAsset {
            asset: id(asset),
            name: "Conveyor".into(),
            cost: usd(cost_minor),
            supply_chain: process.is_some(),
            process,
            useful_life_months: life,
            salvage_minor: salvage,
            settlement: Settlement::Payable,
        })
    }

    fn depreciate(asset: &str, amount_minor: Option<i64>) -> Command {
        Command::DepreciateFixedAsset(DepreciateFixedAsset {
            asset: id(asset),
            amount_minor,
        })
    }

    fn dispose(asset: &str, proceeds_minor: i64) -> Command {
        Command::DisposeFixedAsset(DisposeFixedAsset {
            asset: id(asset),
            proceeds_minor,
        })
    }

    #[test]
    fn costs_are_expensed_to_their_process_in_their_own_currency() {
        // 12.34 USD paid for a carrier: Dr supply chain cost:deliver 12.34 / Cr cash 12.34.
        // 50.00 EUR payable: the EUR postings balance on their own.
        let mut state = tenant();
        ok(&mut state, cost("C-1", usd(1234), Settlement::Paid), T1);
        assert_eq!(
            money(&state, Account::SupplyChainCost(ScorProcess::Deliver)),
            1234
        );
        assert_eq!(money(&state, Account::Cash), -1234);
        let eur = Currency::parse("EUR").unwrap();
        ok(
            &mut state,
            cost("C-2", Money::new(5000, eur), Settlement::Payable),
            T1,
        );
        assert_eq!(state.money.balance(Account::Payables, eur), -5000);
        assert_eq!(
            state
                .money
                .balance(Account::SupplyChainCost(ScorProcess::Deliver), eur),
            5000
        );
        assert_eq!(
            rejected(&mut state, cost("C-1", usd(1), Settlement::Paid), T1),
            DomainError::AlreadyExists {
                kind: DocumentKind::Cost,
                id: "C-1".into()
            }
        );
        assert_eq!(
            rejected(&mut state, cost("C-3", usd(0), Settlement::Paid), T1),
            DomainError::NonPositiveQuantity {
                field: "amount.amount_minor".into(),
                value: 0
            }
        );
    }

    #[test]
    fn a_supply_chain_asset_depreciates_to_salvage_and_is_disposed_of_at_a_gain() {
        // Cost 1,200.00, salvage 120.00, 36 months: (120,000 − 12,000) / 36 = 30.00 a month
        // to supply chain cost:deliver. 1,050.00 more brings it to salvage (accumulated
        // 1,080.00). Sold for 200.00 against a net book value of 120.00: gain 80.00.
        let mut state = tenant();
        ok(
            &mut state,
            acquire("FA-1", 120_000, 36, 12_000, Some(ScorProcess::Deliver)),
            T1,
        );
        assert_eq!(money(&state, Account::FixedAssets), 120_000);
        assert_eq!(money(&state, Account::Payables), -120_000);
        ok(&mut state, depreciate("FA-1", None), T1);
        assert_eq!(
            money(&state, Account::SupplyChainCost(ScorProcess::Deliver)),
            3000
        );
        assert_eq!(
            rejected(&mut state, depreciate("FA-1", Some(105_001)), T1),
            DomainError::ExceedsOutstanding {
                field: "amount_minor".into(),
                requested: 105_001,
                outstanding: 105_000
            }
        );
        ok(&mut state, depreciate("FA-1", Some(105_000)), T1);
        assert_eq!(
            state.fixed_assets[&id("FA-1")].net_book_value_minor(),
            12_000
        );
        assert_eq!(
            rejected(&mut state, depreciate("FA-1", None), T1),
            DomainError::illegal(
                DocumentKind::FixedAsset,
                "FA-1",
                "fully_depreciated",
                "depreciate"
            )
        );
        ok(&mut state, dispose("FA-1", 20_000), T1);
        assert_eq!(money(&state, Account::FixedAssets), 0);
        assert_eq!(money(&state, Account::AccumulatedDepreciation), 0);
        assert_eq!(money(&state, Account::Cash), 20_000);
        assert_eq!(money(&state, Account::AssetDisposalGainLoss), -8000);
        assert_eq!(state.fixed_assets[&id("FA-1")].state_name(), "disposed");
        assert_eq!(
            rejected(&mut state, depreciate("FA-1", None), T1),
            DomainError::illegal(DocumentKind::FixedAsset, "FA-1", "disposed", "depreciate")
        );
        assert_eq!(
            rejected(&mut state, dispose("FA-1", 0), T1),
            DomainError::illegal(DocumentKind::FixedAsset, "FA-1", "disposed", "dispose")
        );
    }

    #[test]
    fn straight_line_takes_the_rounding_residue_in_the_last_month_and_a_scrapped_asset_is_a_loss() {
        // 1,000.00 over 3 months: 333.33, 333.33, then 333.34 (the residue), all to other
        // expenses (not a supply chain asset). Scrapping it after two months for nothing loses
        // the 333.34 net book value.
        let mut state = tenant();
        ok(&mut state, acquire("FA-2", 100_000, 3, 0, None), T1);
        ok(&mut state, depreciate("FA-2", None), T1);
        ok(&mut state, depreciate("FA-2", None), T1);
        assert_eq!(money(&state, Account::OtherExpense), 66_666);
        let mut twin = state.clone();
        ok(&mut twin, depreciate("FA-2", None), T1);
        assert_eq!(money(&twin, Account::OtherExpense), 100_000);
        ok(&mut state, dispose("FA-2", 0), T1);
        assert_eq!(money(&state, Account::AssetDisposalGainLoss), 33_334);
        assert_eq!(money(&state, Account::FixedAssets), 0);
    }

    #[test]
    fn bad_assets_are_rejected_with_the_field() {
        let mut state = tenant();
        assert!(matches!(
            rejected(&mut state, acquire("FA-1", 1000, 12, 1001, None), T1),
            DomainError::Invalid { field, .. } if field == "salvage_minor"
        ));
        assert_eq!(
            rejected(&mut state, acquire("FA-1", 1000, 0, 0, None), T1),
            DomainError::NonPositiveQuantity {
                field: "useful_life_months".into(),
                value: 0
            }
        );
        let mut command = AcquireFixedAsset {
            asset: id("FA-1"),
            name: "Forklift".into(),
            cost: usd(1000),
            supply_chain: true,
            process: None,
            useful_life_months: 12,
            salvage_minor: 0,
            settlement: Settlement::Paid,
        };
        assert!(matches!(
            rejected(&mut state, Command::AcquireFixedAsset(command.clone()), T1),
            DomainError::Invalid { field, .. } if field == "process"
        ));
        command.cost = Money::new(1000, Currency::parse("EUR").unwrap());
        command.process = Some(ScorProcess::Make);
        assert!(matches!(
            rejected(&mut state, Command::AcquireFixedAsset(command), T1),
            DomainError::CurrencyMismatch { field, .. } if field == "cost"
        ));
        ok(&mut state, acquire("FA-1", 1000, 12, 0, None), T1);
        assert_eq!(
            rejected(&mut state, acquire("FA-1", 1000, 12, 0, None), T1),
            DomainError::AlreadyExists {
                kind: DocumentKind::FixedAsset,
                id: "FA-1".into()
            }
        );
        assert!(matches!(
            rejected(&mut state, dispose("FA-1", -1), T1),
            DomainError::Invalid { field, .. } if field == "proceeds_minor"
        ));
        assert_eq!(
            rejected(&mut state, depreciate("FA-9", None), T1),
            DomainError::not_found(DocumentKind::FixedAsset, "FA-9", "asset")
        );
    }
}
