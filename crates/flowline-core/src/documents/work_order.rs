//! Make: the work order (kitting, assembly, customization, repair).
//!
//! Life cycle: created (components reserved at the fulfillment center) → started (components
//! issued to `production`: `Dr work in progress / Cr inventory`) → completed with a quality
//! check (passed units enter stock, failed units go to `scrap`) | cancelled before the start
//! (reservations released).
//!
//! Valuation: the finished units carry exactly the value of the components consumed. Passed
//! units take `consumed × passed / quantity` (rounded half away from zero) and failed units the
//! rest, so work in progress returns to zero with every completed work order.

use crate::documents::sales_order;
use crate::effects::{Effects, EffectsBuilder};
use crate::error::{DocumentKind, DomainError, mul, positive};
use crate::id::{LocationId, ReasonCode, ReturnId, SalesOrderId, Sku, WorkOrderId};
use crate::ledger::{Account, VirtualLocation};
use crate::master::BomKind;
use crate::money::divide_rounding;
use crate::state::{Context, State};
use jiff::Timestamp;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

const KIND: DocumentKind = DocumentKind::WorkOrder;

/// What a work order does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderKind {
    /// Put a kit together from its components.
    Kitting,
    /// Assemble a product from its components.
    Assembly,
    /// Customize (engrave, print, gift-wrap) a product from its components.
    Customization,
    /// Repair units of the item itself (e.g. returned goods).
    Repair,
}

/// Create a work order: reserves its components at the fulfillment center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWorkOrder {
    /// New work order id.
    pub work_order: WorkOrderId,
    /// Kind of work.
    pub kind: WorkOrderKind,
    /// The item produced (for kitting, assembly and customization an item with a kit bill of
    /// materials; for repair the item repaired).
    pub item: Sku,
    /// Units to produce.
    pub quantity: i64,
    /// Fulfillment center doing the work.
    pub location: LocationId,
    /// The sales order the work is for (customization or assembly to order), so the order's
    /// cycle time counts the work as Make time.
    #[serde(default)]
    pub for_order: Option<SalesOrderId>,
}

/// Start the work: the reserved components are issued to production.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StartWorkOrder {
    /// The work order.
    pub work_order: WorkOrderId,
}

/// Complete the work with its quality check result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CompleteWorkOrder {
    /// The work order.
    pub work_order: WorkOrderId,
    /// Units that passed the quality check and enter stock.
    pub passed: i64,
    /// Units that failed it and are scrapped.
    #[serde(default)]
    pub failed: i64,
    /// Quality check note.
    #[serde(default)]
    pub note: Option<String>,
}

/// Cancel a work order that has not started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelWorkOrder {
    /// The work order.
    pub work_order: WorkOrderId,
    /// Why.
    pub reason: ReasonCode,
}

crate::registry::event_family! {
    /// Work order events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum WorkOrderEvent {
        /// The work order was created and its components reserved.
        "WorkOrderCreated" => Created {
            /// Work order id.
            work_order: WorkOrderId,
            /// Kind.
            kind: WorkOrderKind,
            /// Item produced.
            item: Sku,
            /// Units.
            quantity: i64,
            /// Fulfillment center.
            location: LocationId,
            /// Stocked components and their total quantities for the whole order.
            components: Vec<(Sku, i64)>,
            /// The return whose disposition created it, for repairs of returned goods.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            origin_return: Option<ReturnId>,
            /// The sales order the work is for.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            for_order: Option<SalesOrderId>,
            /// When.
            at: Timestamp,
            /// Reservations.
            effects: Effects,
        },
        /// The components were issued to production.
        "WorkOrderStarted" => Started {
            /// Work order id.
            work_order: WorkOrderId,
            /// Value of the components issued, base currency.
            consumed_value_minor: i64,
            /// When.
            at: Timestamp,
            /// Moves to `production`, released reservations, work in progress.
            effects: Effects,
        },
        /// The work was completed and checked.
        "WorkOrderCompleted" => Completed {
            /// Work order id.
            work_order: WorkOrderId,
            /// Units that passed.
            passed: i64,
            /// Units that failed.
            failed: i64,
            /// Quality check note.
            note: Option<String>,
            /// Value of the passed units, base currency.
            passed_value_minor: i64,
            /// Value of the failed units, base currency.
            failed_value_minor: i64,
            /// When.
            at: Timestamp,
            /// Moves out of `production`, inventory and write-off postings.
            effects: Effects,
        },
        /// The work order was cancelled before the start.
        "WorkOrderCancelled" => Cancelled {
            /// Work order id.
            work_order: WorkOrderId,
            /// Why.
            reason: ReasonCode,
            /// When.
            at: Timestamp,
            /// Released reservations.
            effects: Effects,
        },
    }
}

impl WorkOrderEvent {
    /// The work order the event belongs to.
    pub fn work_order(&self) -> &WorkOrderId {
        match self {
            Self::Created { work_order, .. }
            | Self::Started { work_order, .. }
            | Self::Completed { work_order, .. }
            | Self::Cancelled { work_order, .. } => work_order,
        }
    }

    /// Ledger effects.
    pub fn effects(&self) -> Option<&Effects> {
        match self {
            Self::Created { effects, .. }
            | Self::Started { effects, .. }
            | Self::Completed { effects, .. }
            | Self::Cancelled { effects, .. } => Some(effects),
        }
    }
}

/// A work order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderStatus {
    /// Created; components reserved.
    Created,
    /// Components issued to production.
    Started,
    /// Completed and checked.
    Completed,
    /// Cancelled before the start.
    Cancelled,
}

/// The quality check result of a completed work order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QualityCheck {
    /// Units that passed.
    pub passed: i64,
    /// Units that failed.
    pub failed: i64,
    /// Note.
    pub note: Option<String>,
}

/// A work order's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WorkOrder {
    /// Work order id.
    pub id: WorkOrderId,
    /// Kind.
    pub kind: WorkOrderKind,
    /// Item produced.
    pub item: Sku,
    /// Units.
    pub quantity: i64,
    /// Fulfillment center.
    pub location: LocationId,
    /// Components and total quantities.
    pub components: Vec<(Sku, i64)>,
    /// The return that created it, if any.
    pub origin_return: Option<ReturnId>,
    /// The sales order it is for, if any.
    #[serde(default)]
    pub for_order: Option<SalesOrderId>,
    /// Status.
    pub status: WorkOrderStatus,
    /// When created.
    pub created_at: Timestamp,
    /// When started.
    pub started_at: Option<Timestamp>,
    /// When completed.
    pub completed_at: Option<Timestamp>,
    /// Value of the components issued.
    pub consumed_value_minor: i64,
    /// Quality check result.
    pub quality: Option<QualityCheck>,
}

impl WorkOrder {
    /// The life-cycle state.
    pub fn state_name(&self) -> &'static str {
        match self.status {
            WorkOrderStatus::Created => "created",
            WorkOrderStatus::Started => "started",
            WorkOrderStatus::Completed => "completed",
            WorkOrderStatus::Cancelled => "cancelled",
        }
    }
}

fn find<'s>(state: &'s State, id: &WorkOrderId) -> Result<&'s WorkOrder, DomainError> {
    state
        .work_orders
        .get(id)
        .ok_or_else(|| DomainError::not_found(KIND, id, "work_order"))
}

/// A work order in the given status, or the illegal-transition error for `attempted`.
fn in_status<'s>(
    state: &'s State,
    id: &WorkOrderId,
    status: WorkOrderStatus,
    attempted: &'static str,
) -> Result<&'s WorkOrder, DomainError> {
    let found = find(state, id)?;
    if found.status != status {
        return Err(DomainError::illegal(
            KIND,
            id,
            found.state_name(),
            attempted,
        ));
    }
    Ok(found)
}

/// The stocked components, with total quantities, that `quantity` units of the order need.
fn components_for(
    state: &State,
    command: &CreateWorkOrder,
) -> Result<Vec<(Sku, i64)>, DomainError> {
    let item = state.item(&command.item, "item")?;
    if command.kind == WorkOrderKind::Repair {
        state.stocked_item(&command.item, "item")?;
        return Ok(vec![(command.item.clone(), command.quantity)]);
    }
    let bom = match &item.bom {
        Some(bom) if bom.kind == BomKind::Kit => bom,
        _ => {
            return Err(DomainError::invalid(
                "item",
                format!(
                    "{} has no kit bill of materials; only kits can be made by a work order",
                    command.item
                ),
            ));
        }
    };
    let mut out: Vec<(Sku, i64)> = Vec::new();
    for component in &bom.components {
        // A bundle component explodes into its stocked components.
        for (sku, per_unit) in sales_order::components(state, &component.sku) {
            let per_kit = mul(per_unit, component.quantity, || "quantity".into())?;
            let total = mul(per_kit, command.quantity, || "quantity".into())?;
            match out.iter_mut().find(|(existing, _)| *existing == sku) {
                Some((_, quantity)) => {
                    *quantity = crate::error::add(*quantity, total, || "quantity".into())?;
                }
                None => out.push((sku, total)),
            }
        }
    }
    Ok(out)
}

/// Create.
pub(crate) fn create(
    state: &State,
    command: &CreateWorkOrder,
    ctx: &Context,
) -> Result<Vec<WorkOrderEvent>, DomainError> {
    Ok(vec![create_after(state, command, None, &[], ctx)?])
}

/// Creates a work order as if the effects in `prior` (earlier events of the same decision, not
/// yet applied to `state`) had already happened. Used by return dispositions that move goods
/// into a center and open a repair work order for them in one decision.
pub(crate) fn create_after(
    state: &State,
    command: &CreateWorkOrder,
    origin_return: Option<&ReturnId>,
    prior: &[&Effects],
    ctx: &Context,
) -> Result<WorkOrderEvent, DomainError> {
    let settings = state.settings()?;
    if state.work_orders.contains_key(&command.work_order) {
        return Err(DomainError::AlreadyExists {
            kind: KIND,
            id: command.work_order.to_string(),
        });
    }
    positive(|| "quantity".into(), command.quantity)?;
    state.fulfillment_center(&command.location, "location")?;
    if let Some(order) = &command.for_order
        && !state.sales_orders.contains_key(order)
    {
        return Err(DomainError::not_found(
            DocumentKind::SalesOrder,
            order,
            "for_order",
        ));
    }
    let components = components_for(state, command)?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    for effects in prior {
        for movement in &effects.moves {
            let from = builder.balance(&movement.sku, &movement.from);
            from.on_hand -= movement.quantity;
            from.value_minor -= movement.value_minor;
            let to = builder.balance(&movement.sku, &movement.to);
            to.on_hand += movement.quantity;
            to.value_minor += movement.value_minor;
        }
        for change in &effects.reservations {
            builder.balance(&change.sku, &change.location).reserved += change.quantity;
        }
    }
    for (sku, quantity) in &components {
        builder.reserve(sku, &command.location, *quantity)?;
    }
    Ok(WorkOrderEvent::Created {
        work_order: command.work_order.clone(),
        kind: command.kind,
        item: command.item.clone(),
        quantity: command.quantity,
        location: command.location.clone(),
        components,
        origin_return: origin_return.cloned(),
        for_order: command.for_order.clone(),
        at: ctx.at,
        effects: builder.finish(),
    })
}

/// Start.
pub(crate) fn start(
    state: &State,
    command: &StartWorkOrder,
    ctx: &Context,
) -> Result<Vec<WorkOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = in_status(
        state,
        &command.work_order,
        WorkOrderStatus::Created,
        "start",
    )?;
    let production = VirtualLocation::Production.id();
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut consumed: i64 = 0;
    for (sku, quantity) in &found.components {
        let value = builder.move_stock(sku, &found.location, &production, *quantity, true)?;
        consumed = crate::error::add(consumed, value, || "work_order".into())?;
    }
    let issued = -builder.inventory_delta();
    builder.post(Account::WorkInProgress, Account::Inventory, issued);
    Ok(vec![WorkOrderEvent::Started {
        work_order: command.work_order.clone(),
        consumed_value_minor: consumed,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Complete.
pub(crate) fn complete(
    state: &State,
    command: &CompleteWorkOrder,
    ctx: &Context,
) -> Result<Vec<WorkOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = in_status(
        state,
        &command.work_order,
        WorkOrderStatus::Started,
        "complete",
    )?;
    if command.passed < 0 {
        return Err(DomainError::invalid("passed", "must not be negative"));
    }
    if command.failed < 0 {
        return Err(DomainError::invalid("failed", "must not be negative"));
    }
    if command.passed.checked_add(command.failed) != Some(found.quantity) {
        return Err(DomainError::invalid(
            "failed",
            format!(
                "passed {} + failed {} must equal the work order quantity {}",
                command.passed, command.failed, found.quantity
            ),
        ));
    }
    let consumed = found.consumed_value_minor;
    let passed_value = i64::try_from(divide_rounding(
        i128::from(consumed) * i128::from(command.passed),
        i128::from(found.quantity.max(1)),
    ))
    .map_err(|_| DomainError::overflow("passed"))?;
    let failed_value = consumed - passed_value;
    let production = VirtualLocation::Production.id();
    let scrap = VirtualLocation::Scrap.id();
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    if command.passed > 0 {
        builder.move_valued(
            &found.item,
            &production,
            &found.location,
            command.passed,
            passed_value,
        );
    }
    if command.failed > 0 {
        builder.move_valued(
            &found.item,
            &production,
            &scrap,
            command.failed,
            failed_value,
        );
    }
    builder.post(Account::Inventory, Account::WorkInProgress, passed_value);
    builder.post(
        Account::InventoryWriteOff,
        Account::WorkInProgress,
        failed_value,
    );
    Ok(vec![WorkOrderEvent::Completed {
        work_order: command.work_order.clone(),
        passed: command.passed,
        failed: command.failed,
        note: command.note.clone(),
        passed_value_minor: passed_value,
        failed_value_minor: failed_value,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Cancel.
pub(crate) fn cancel(
    state: &State,
    command: &CancelWorkOrder,
    ctx: &Context,
) -> Result<Vec<WorkOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = in_status(
        state,
        &command.work_order,
        WorkOrderStatus::Created,
        "cancel",
    )?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    for (sku, quantity) in &found.components {
        builder.release(sku, &found.location, *quantity);
    }
    Ok(vec![WorkOrderEvent::Cancelled {
        work_order: command.work_order.clone(),
        reason: command.reason.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Applies a work order event.
pub(crate) fn apply(orders: &mut FxHashMap<WorkOrderId, WorkOrder>, event: &WorkOrderEvent) {
    if let WorkOrderEvent::Created {
        work_order,
        kind,
        item,
        quantity,
        location,
        components,
        origin_return,
        for_order,
        at,
        ..
    } = event
    {
        orders.insert(
            work_order.clone(),
            WorkOrder {
                id: work_order.clone(),
                kind: *kind,
                item: item.clone(),
                quantity: *quantity,
                location: location.clone(),
                components: components.clone(),
                origin_return: origin_return.clone(),
                for_order: for_order.clone(),
                status: WorkOrderStatus::Created,
                created_at: *at,
                started_at: None,
                completed_at: None,
                consumed_value_minor: 0,
                quality: None,
            },
        );
        return;
    }
    let Some(found) = orders.get_mut(event.work_order()) else {
        return;
    };
    match event {
        WorkOrderEvent::Created { .. } => {}
        WorkOrderEvent::Started {
            consumed_value_minor,
            at,
            ..
        } => {
            found.status = WorkOrderStatus::Started;
            found.started_at = Some(*at);
            found.consumed_value_minor = *consumed_value_minor;
        }
        WorkOrderEvent::Completed {
            passed,
            failed,
            note,
            at,
            ..
        } => {
            found.status = WorkOrderStatus::Completed;
            found.completed_at = Some(*at);
            found.quality = Some(QualityCheck {
                passed: *passed,
                failed: *failed,
                note: note.clone(),
            });
        }
        WorkOrderEvent::Cancelled { .. } => found.status = WorkOrderStatus::Cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::testkit::{balance, id, money, ok, rejected, stock, tenant, usd};
    use crate::master::{Bom, BomComponent};
    use crate::state::{Command, DefineItem};

    const T1: &str = "2025-03-02T09:00:00Z";
    const T2: &str = "2025-03-03T09:00:00Z";

    fn create(work_order: &str, kind: WorkOrderKind, item: &str, quantity: i64) -> Command {
        Command::CreateWorkOrder(CreateWorkOrder {
            work_order: id(work_order),
            kind,
            item: id(item),
            quantity,
            location: id("FC-EAST"),
            for_order: None,
        })
    }

    fn start(work_order: &str) -> Command {
        Command::StartWorkOrder(StartWorkOrder {
            work_order: id(work_order),
        })
    }

    fn complete(work_order: &str, passed: i64, failed: i64) -> Command {
        Command::CompleteWorkOrder(CompleteWorkOrder {
            work_order: id(work_order),
            passed,
            failed,
            note: Some("scuffed box".into()),
        })
    }

    fn cancel(work_order: &str) -> Command {
        Command::CancelWorkOrder(CancelWorkOrder {
            work_order: id(work_order),
            reason: id("not_needed"),
        })
    }

    fn illegal(state: &str, attempted: &'static str) -> DomainError {
        DomainError::illegal(KIND, "WO-1", state, attempted)
    }

    #[test]
    fn a_kitting_order_reserves_consumes_and_values_passed_and_failed_kits() {
        // Stock: 10 MUG at 4.00 and 5 LID at 1.50 = 47.50 of inventory.
        // 3 GIFT kits need 6 MUG + 3 LID, worth 2×4.00 + 1×1.50 = 9.50 a kit → WIP 28.50 and
        // inventory 47.50 − 28.50 = 19.00. 2 pass, 1 fails: inventory +19.00 (2 × 9.50) = 38.00,
        // write-off 9.50, WIP back to zero.
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 10, 400);
        stock(&mut state, "LID", "FC-EAST", 5, 150);
        ok(
            &mut state,
            create("WO-1", WorkOrderKind::Kitting, "GIFT", 3),
            T1,
        );
        assert_eq!(balance(&state, "MUG", "FC-EAST").reserved, 6);
        assert_eq!(balance(&state, "LID", "FC-EAST").reserved, 3);
        assert_eq!(state.work_orders[&id("WO-1")].state_name(), "created");

        ok(&mut state, start("WO-1"), T1);
        assert_eq!(balance(&state, "MUG", "FC-EAST").on_hand, 4);
        assert_eq!(balance(&state, "MUG", "FC-EAST").reserved, 0);
        assert_eq!(balance(&state, "LID", "FC-EAST").reserved, 0);
        assert_eq!(money(&state, Account::WorkInProgress), 2850);
        assert_eq!(money(&state, Account::Inventory), 1900);
        let order = &state.work_orders[&id("WO-1")];
        assert_eq!(order.state_name(), "started");
        assert_eq!(order.started_at, Some(crate::documents::testkit::ts(T1)));

        ok(&mut state, complete("WO-1", 2, 1), T2);
        assert_eq!(money(&state, Account::Inventory), 3800);
        assert_eq!(money(&state, Account::InventoryWriteOff), 950);
        assert_eq!(money(&state, Account::WorkInProgress), 0);
        let made = balance(&state, "GIFT", "FC-EAST");
        assert_eq!((made.on_hand, made.value_minor), (2, 1900));
        let scrapped = balance(&state, "GIFT", "scrap");
        assert_eq!((scrapped.on_hand, scrapped.value_minor), (1, 950));
        let order = &state.work_orders[&id("WO-1")];
        assert_eq!(order.state_name(), "completed");
        assert_eq!(
            order.quality,
            Some(QualityCheck {
                passed: 2,
                failed: 1,
                note: Some("scuffed box".into())
            })
        );
    }

    #[test]
    fn passed_units_take_their_share_rounded_half_away_from_zero() {
        // 2 MUG worth 4.00 + 4.01 = 8.01 are repaired; 1 passes: 801 × 1 / 2 = 400.5 → 4.01,
        // and the failed unit takes the remaining 4.00.
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 1, 400);
        stock(&mut state, "MUG", "FC-EAST", 1, 401);
        ok(
            &mut state,
            create("WO-1", WorkOrderKind::Repair, "MUG", 2),
            T1,
        );
        let started = ok(&mut state, start("WO-1"), T1);
        assert!(matches!(
            started.as_slice(),
            [crate::state::Event::WorkOrder(WorkOrderEvent::Started {
                consumed_value_minor: 801,
                ..
            })]
        ));
        ok(&mut state, complete("WO-1", 1, 1), T2);
        assert_eq!(balance(&state, "MUG", "FC-EAST").value_minor, 401);
        assert_eq!(money(&state, Account::InventoryWriteOff), 400);
        assert_eq!(money(&state, Account::WorkInProgress), 0);
    }

    #[test]
    fn bundle_components_explode_and_shortages_are_reported_across_components() {
        // HAMPER = 1 DUO (1 MUG + 2 LID) + 1 MUG: 2 MUG and 2 LID a hamper. Two hampers need
        // 4 MUG; with 3 in stock the whole order is refused naming the aggregated demand.
        let mut state = tenant();
        ok(
            &mut state,
            Command::DefineItem(DefineItem {
                sku: id("HAMPER"),
                name: "Hamper".into(),
                unit: "each".into(),
                unit_cost: usd(1100),
                price: usd(4000),
                weight_g: 900,
                dimensions: None,
                hs_code: None,
                country_of_origin: None,
                category: None,
                bom: Some(Bom {
                    kind: BomKind::Kit,
                    components: vec![
                        BomComponent {
                            sku: id("DUO"),
                            quantity: 1,
                        },
                        BomComponent {
                            sku: id("MUG"),
                            quantity: 1,
                        },
                    ],
                }),
            }),
            T1,
        );
        stock(&mut state, "MUG", "FC-EAST", 3, 400);
        stock(&mut state, "LID", "FC-EAST", 10, 150);
        let error = rejected(
            &mut state,
            create("WO-1", WorkOrderKind::Assembly, "HAMPER", 2),
            T1,
        );
        assert_eq!(
            error,
            DomainError::InsufficientStock {
                sku: id("MUG"),
                location: id("FC-EAST"),
                requested: 4,
                available: 3,
            }
        );
        ok(
            &mut state,
            create("WO-1", WorkOrderKind::Assembly, "HAMPER", 1),
            T1,
        );
        assert_eq!(
            state.work_orders[&id("WO-1")].components,
            vec![(id("MUG"), 2), (id("LID"), 2)]
        );
    }

    #[test]
    fn cancelling_before_the_start_releases_the_reservations() {
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 4, 400);
        stock(&mut state, "LID", "FC-EAST", 2, 150);
        ok(
            &mut state,
            create("WO-1", WorkOrderKind::Kitting, "GIFT", 2),
            T1,
        );
        ok(&mut state, cancel("WO-1"), T1);
        assert_eq!(balance(&state, "MUG", "FC-EAST").reserved, 0);
        assert_eq!(balance(&state, "LID", "FC-EAST").reserved, 0);
        assert_eq!(state.work_orders[&id("WO-1")].state_name(), "cancelled");
        assert_eq!(
            rejected(&mut state, start("WO-1"), T2),
            illegal("cancelled", "start")
        );
        assert_eq!(
            rejected(&mut state, cancel("WO-1"), T2),
            illegal("cancelled", "cancel")
        );
        assert_eq!(
            rejected(&mut state, complete("WO-1", 2, 0), T2),
            illegal("cancelled", "complete")
        );
    }

    #[test]
    fn every_illegal_step_names_the_state_and_appends_nothing() {
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 4, 400);
        stock(&mut state, "LID", "FC-EAST", 2, 150);
        ok(
            &mut state,
            create("WO-1", WorkOrderKind::Kitting, "GIFT", 2),
            T1,
        );
        assert_eq!(
            rejected(&mut state, complete("WO-1", 2, 0), T1),
            illegal("created", "complete")
        );
        assert_eq!(
            rejected(
                &mut state,
                create("WO-1", WorkOrderKind::Kitting, "GIFT", 1),
                T1
            ),
            DomainError::AlreadyExists {
                kind: KIND,
                id: "WO-1".into()
            }
        );
        ok(&mut state, start("WO-1"), T1);
        assert_eq!(
            rejected(&mut state, start("WO-1"), T1),
            illegal("started", "start")
        );
        assert_eq!(
            rejected(&mut state, cancel("WO-1"), T1),
            illegal("started", "cancel")
        );
        ok(&mut state, complete("WO-1", 2, 0), T2);
        assert_eq!(
            rejected(&mut state, complete("WO-1", 2, 0), T2),
            illegal("completed", "complete")
        );
        assert_eq!(
            rejected(&mut state, start("WO-1"), T2),
            illegal("completed", "start")
        );
        assert_eq!(
            rejected(&mut state, cancel("WO-1"), T2),
            illegal("completed", "cancel")
        );
        assert_eq!(
            rejected(&mut state, start("WO-9"), T2),
            DomainError::not_found(KIND, "WO-9", "work_order")
        );
    }

    #[test]
    fn bad_inputs_are_rejected_with_the_field() {
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 4, 400);
        assert_eq!(
            rejected(
                &mut state,
                create("WO-1", WorkOrderKind::Kitting, "GIFT", 0),
                T1
            ),
            DomainError::NonPositiveQuantity {
                field: "quantity".into(),
                value: 0
            }
        );
        assert!(matches!(
            rejected(&mut state, create("WO-1", WorkOrderKind::Kitting, "MUG", 1), T1),
            DomainError::Invalid { field, .. } if field == "item"
        ));
        assert!(matches!(
            rejected(&mut state, create("WO-1", WorkOrderKind::Repair, "DUO", 1), T1),
            DomainError::Invalid { field, .. } if field == "item"
        ));
        let mut at_scrap = CreateWorkOrder {
            work_order: id("WO-1"),
            kind: WorkOrderKind::Repair,
            item: id("MUG"),
            quantity: 1,
            location: id("scrap"),
            for_order: None,
        };
        assert_eq!(
            rejected(&mut state, Command::CreateWorkOrder(at_scrap.clone()), T1),
            DomainError::NotAFulfillmentCenter {
                field: "location".into(),
                location: id("scrap")
            }
        );
        at_scrap.location = id("FC-EAST");
        ok(&mut state, Command::CreateWorkOrder(at_scrap), T1);
        ok(&mut state, start("WO-1"), T1);
        assert!(matches!(
            rejected(&mut state, complete("WO-1", 1, 1), T1),
            DomainError::Invalid { field, .. } if field == "failed"
        ));
        assert!(matches!(
            rejected(&mut state, complete("WO-1", -1, 2), T1),
            DomainError::Invalid { field, .. } if field == "passed"
        ));
    }

    #[test]
    fn a_work_order_for_a_sales_order_must_name_an_existing_one() {
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 4, 400);
        stock(&mut state, "LID", "FC-EAST", 2, 150);
        let for_order = |order: &str| {
            Command::CreateWorkOrder(CreateWorkOrder {
                work_order: id("WO-9"),
                kind: WorkOrderKind::Customization,
                item: id("GIFT"),
                quantity: 1,
                location: id("FC-EAST"),
                for_order: Some(id(order)),
            })
        };
        assert!(matches!(
            rejected(&mut state, for_order("SO-404"), T1),
            DomainError::NotFound { field, .. } if field == "for_order"
        ));
        ok(
            &mut state,
            Command::PlaceSalesOrder(crate::documents::sales_order::PlaceSalesOrder {
                contact: None,
                order: id("SO-1"),
                channel: id("web"),
                customer: id("C-1"),
                ship_to: crate::documents::testkit::address(),
                currency: crate::documents::testkit::usd_currency(),
                exchange_rate: None,
                lines: vec![crate::documents::sales_order::OrderLineInput {
                    sku: id("GIFT"),
                    quantity: 1,
                    unit_price_minor: 3000,
                    unit_tax_minor: 0,
                }],
                promise: None,
                service_level: None,
                shipping_charge_minor: 0,
                allocate: None,
            }),
            T1,
        );
        ok(&mut state, for_order("SO-1"), T1);
        assert_eq!(
            state.work_orders[&id::<WorkOrderId>("WO-9")].for_order,
            Some(id("SO-1"))
        );
    }
}
