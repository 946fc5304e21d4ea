//! Property tests over random command sequences of every document type.
//!
//! proptest generates abstract operations (`Op`); an interpreter turns each into a concrete
//! command aimed at a document that exists in the current state (the nth open order, the nth
//! PO, ...), so sequences travel deep into every life cycle, and still produce plenty of
//! rejected commands. After every event:
//! - the event's own entry balances and its moves are sane;
//! - every ledger invariant holds (conservation of quantity and value per item, non-negative
//!   physical stock, 0 ≤ reserved ≤ on hand, trial balance zero per currency, inventory account =
//!   value in valued locations, work in progress = value in `production`);
//! - the event survives its JSON encoding unchanged.
//!
//! Each sequence ends with a fixed coda of targets and initiatives (no ledger effects), so their
//! documents go through the same replay, fold and eviction checks.
//!
//! After every command: deciding it again on the same state and context gives identical events.
//! After every sequence:
//! - replaying the log decoded from its JSON on an empty state reproduces the canonical encoding
//!   of the state byte for byte;
//! - the state agrees with an oracle that does not run `apply` (replay does, so it would repeat
//!   any bug there): [`Expected`] works out each sales order's quantities, invoiced and paid
//!   amounts, each purchase order's receipts, bills and payments, and the units at `customer` and
//!   `supplier` from the commands that were accepted; [`LedgerSums`] adds up the events' moves,
//!   reservations and postings by its own arithmetic;
//! - every document is a fold of its own stream; and evicting every settled document, then
//!   reloading each from its stream, gives the same state back.
//!
//! Seeded and replayable: the seed comes from `FLOWLINE_SEED` (a fixed default otherwise) and is
//! printed; `FLOWLINE_PROPTEST_CASES` sets the number of cases (256 by default, more in soak).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::documents::finance::{
    AcquireFixedAsset, CostType, DepreciateFixedAsset, PostCost, Settlement,
};
use flowline_core::documents::improvement::{
    CreateInitiative, InitiativeStatus, RetireTarget, SetTarget, TargetDirection, TargetScope,
    UpdateInitiative,
};
use flowline_core::documents::inventory::{
    AdjustLineInput, AdjustStock, CountLineInput, RecordCount,
};
use flowline_core::documents::purchase_order::*;
use flowline_core::documents::return_auth::*;
use flowline_core::documents::sales_order::*;
use flowline_core::documents::transfer::*;
use flowline_core::documents::work_order::*;
use flowline_core::id::*;
use flowline_core::invariants::{check_event, check_state};
use flowline_core::ledger::{Account, ScorProcess, VirtualLocation};
use flowline_core::master::*;
use flowline_core::money::{Currency, ExchangeRate, Money};
use flowline_core::retention::{apply_document, evict_settled, holds_stream};
use flowline_core::snapshot::canonical;
use flowline_core::state::*;
use flowline_core::{Command, Context, Event, State, apply, decide};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const CENTERS: [&str; 3] = ["FC-A", "FC-B", "FC-C"];
const STOCKED: [&str; 3] = ["A", "B", "C"];
/// Items orders may name: three stocked items, a kit made by work orders, a bundle.
const SELLABLE: [&str; 5] = ["A", "B", "C", "KIT", "BUNDLE"];

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn id<T: std::str::FromStr>(value: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    value.parse().unwrap()
}

fn address() -> Address {
    Address {
        recipient: None,
        lines: vec![],
        city: "Berlin".into(),
        region: "BE".into(),
        postal_code: "10115".into(),
        country: "DE".into(),
        time_zone: TimeZoneName::parse("Europe/Berlin").unwrap(),
        coordinates: None,
    }
}

fn item(sku: &str, cost: i64, bom: Option<Bom>) -> Command {
    Command::DefineItem(DefineItem {
        sku: id(sku),
        name: sku.into(),
        unit: "each".into(),
        unit_cost: Money::new(cost, usd()),
        price: Money::new(cost * 3, usd()),
        weight_g: 100,
        dimensions: None,
        hs_code: None,
        country_of_origin: None,
        category: None,
        bom,
    })
}

fn fixture() -> Vec<Command> {
    let mut commands = vec![Command::ConfigureTenant(ConfigureTenant {
        business_time: None,
        base_currency: usd(),
        reporting_time_zone: TimeZoneName::parse("UTC").unwrap(),
    })];
    for center in CENTERS {
        commands.push(Command::DefineLocation(DefineLocation {
            capacity_orders_per_day: None,
            location: id(center),
            name: center.into(),
            region: "eu".into(),
            address: address(),
        }));
    }
    commands.push(item("A", 400, None));
    commands.push(item("B", 250, None));
    commands.push(item("C", 1000, None));
    let component = |sku: &str, quantity| BomComponent {
        sku: id(sku),
        quantity,
    };
    commands.push(item(
        "KIT",
        0,
        Some(Bom {
            kind: BomKind::Kit,
            components: vec![component("A", 2), component("B", 1)],
        }),
    ));
    commands.push(item(
        "BUNDLE",
        0,
        Some(Bom {
            kind: BomKind::Bundle,
            components: vec![component("A", 1), component("C", 1)],
        }),
    ));
    for (supplier, currency) in [("S-USD", usd()), ("S-EUR", eur())] {
        commands.push(Command::DefineSupplier(DefineSupplier {
            supplier: id(supplier),
            name: supplier.into(),
            currency,
            lead_time_days: 10,
            minimum_order_quantity: 1,
            payment_terms_days: 30,
            country: "DE".into(),
        }));
    }
    commands.push(Command::DefineCarrier(DefineCarrier {
        carrier: id("UPS"),
        name: "UPS".into(),
        services: vec![CarrierService {
            code: id("ground"),
            mode: TransportMode::Road,
            transit_days: 2,
        }],
    }));
    commands.push(Command::SetReturnPolicy(SetReturnPolicy {
        policy: id("default"),
        window_days: 30,
        refundable_conditions: vec![Condition::New, Condition::LikeNew, Condition::Used],
    }));
    commands
}

/// Targets and initiatives, set after the generated operations: every step of their life
/// cycles, so the replay, stream-fold and eviction checks cover them. They touch no ledger and
/// read only master data, so they run after the random sequence rather than inside it, where
/// they would change what a seed generates.
fn coda() -> Vec<Command> {
    let date = |text: &str| -> jiff::civil::Date { text.parse().unwrap() };
    let target = |target: &str, scope: Option<TargetScope>, value_milli| {
        Command::SetTarget(SetTarget {
            target: id(target),
            metric: "rl.perfect_order".into(),
            scope,
            value_milli,
            direction: TargetDirection::AtLeast,
            baseline: Some((date("2025-01-01"), date("2025-02-01"))),
            due_on: Some(date("2025-12-31")),
            source: Some("APQC".into()),
            note: None,
        })
    };
    let initiative = |initiative: &str| {
        Command::CreateInitiative(CreateInitiative {
            initiative: id(initiative),
            name: "Re-slot".into(),
            metrics: vec!["rl.perfect_order".into(), "rs.order_cycle_time".into()],
            owner: "lead".into(),
            expected_effect: "+1 point".into(),
            expected_change_milli: Some(1000),
            starts_on: date("2025-03-01"),
            ends_on: None,
        })
    };
    let update = |initiative: &str, status, note: &str| {
        Command::UpdateInitiative(UpdateInitiative {
            initiative: id(initiative),
            status,
            ends_on: Some(date("2025-06-30")),
            note: Some(note.into()),
        })
    };
    let scope = TargetScope {
        dimension: "center".into(),
        value: CENTERS[0].into(),
    };
    vec![
        target("TGT-1", Some(scope), 95_000),
        target("TGT-2", None, 90_000),
        Command::RetireTarget(RetireTarget {
            target: id("TGT-2"),
            reason: id("superseded"),
        }),
        target("TGT-2", None, 97_500),
        initiative("INI-1"),
        update("INI-1", Some(InitiativeStatus::InProgress), "started"),
        update("INI-1", None, "halfway"),
        initiative("INI-2"),
        update("INI-2", Some(InitiativeStatus::Abandoned), "stopped"),
    ]
}

/// An abstract operation; the numbers pick targets and quantities.
#[derive(Debug, Clone)]
enum Op {
    PlacePurchase {
        center: u8,
        item: u8,
        quantity: u8,
        price: u16,
        foreign: bool,
    },
    ConfirmPurchase(u8),
    ReceivePurchase {
        pick: u8,
        accept_share: u8,
        reject: u8,
    },
    BillPurchase {
        pick: u8,
        variance: i8,
    },
    PayPurchase {
        pick: u8,
        share: u8,
    },
    CancelPurchase(u8),
    ClosePurchase(u8),
    PlaceOrder {
        lines: Vec<(u8, u8)>,
        reject_shortage: bool,
    },
    Allocate(u8),
    Deallocate(u8),
    Hold(u8),
    Release(u8),
    Fulfil {
        pick: u8,
        step: u8,
    },
    Deliver {
        pick: u8,
        damaged: bool,
    },
    Invoice(u8),
    Pay {
        pick: u8,
        share: u8,
    },
    Cancel {
        pick: u8,
        everything: bool,
        by_customer: bool,
    },
    Amend {
        pick: u8,
        quantity: u8,
    },
    CreateKit {
        center: u8,
        quantity: u8,
    },
    StartWork(u8),
    CompleteWork {
        pick: u8,
        failed: u8,
    },
    CancelWork(u8),
    AuthoriseReturn {
        pick: u8,
        quantity: u8,
    },
    ReceiveReturn(u8),
    InspectReturn {
        pick: u8,
        condition: u8,
    },
    DisposeReturn {
        pick: u8,
        how: u8,
    },
    RefundReturn {
        pick: u8,
        share: u8,
    },
    CloseReturn(u8),
    CreateTransfer {
        from: u8,
        to: u8,
        item: u8,
        quantity: u8,
    },
    ShipTransfer(u8),
    ReceiveTransfer {
        pick: u8,
        quantity: u8,
    },
    CloseTransfer(u8),
    Count {
        center: u8,
        item: u8,
        counted: u8,
    },
    Adjust {
        center: u8,
        item: u8,
        delta: i8,
    },
    PostCost {
        process: u8,
        amount: u16,
    },
    AcquireAsset {
        cost: u16,
    },
    Depreciate(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let small = any::<u8>();
    prop_oneof![
        4 => (small, small, 1..40u8, 100..2000u16, any::<bool>()).prop_map(|(center, item, quantity, price, foreign)| Op::PlacePurchase { center, item, quantity, price, foreign }),
        1 => small.prop_map(Op::ConfirmPurchase),
        4 => (small, small, 0..3u8).prop_map(|(pick, accept_share, reject)| Op::ReceivePurchase { pick, accept_share, reject }),
        1 => (small, any::<i8>()).prop_map(|(pick, variance)| Op::BillPurchase { pick, variance }),
        1 => (small, small).prop_map(|(pick, share)| Op::PayPurchase { pick, share }),
        1 => small.prop_map(Op::CancelPurchase),
        1 => small.prop_map(Op::ClosePurchase),
        6 => (prop::collection::vec((small, 1..6u8), 1..4), any::<bool>()).prop_map(|(lines, reject_shortage)| Op::PlaceOrder { lines, reject_shortage }),
        2 => small.prop_map(Op::Allocate),
        1 => small.prop_map(Op::Deallocate),
        1 => small.prop_map(Op::Hold),
        1 => small.prop_map(Op::Release),
        8 => (small, 0..3u8).prop_map(|(pick, step)| Op::Fulfil { pick, step }),
        3 => (small, any::<bool>()).prop_map(|(pick, damaged)| Op::Deliver { pick, damaged }),
        2 => small.prop_map(Op::Invoice),
        2 => (small, small).prop_map(|(pick, share)| Op::Pay { pick, share }),
        1 => (small, any::<bool>(), any::<bool>()).prop_map(|(pick, everything, by_customer)| Op::Cancel { pick, everything, by_customer }),
        1 => (small, 0..8u8).prop_map(|(pick, quantity)| Op::Amend { pick, quantity }),
        2 => (small, 1..4u8).prop_map(|(center, quantity)| Op::CreateKit { center, quantity }),
        1 => small.prop_map(Op::StartWork),
        1 => (small, 0..2u8).prop_map(|(pick, failed)| Op::CompleteWork { pick, failed }),
        1 => small.prop_map(Op::CancelWork),
        2 => (small, 1..3u8).prop_map(|(pick, quantity)| Op::AuthoriseReturn { pick, quantity }),
        2 => small.prop_map(Op::ReceiveReturn),
        2 => (small, 0..5u8).prop_map(|(pick, condition)| Op::InspectReturn { pick, condition }),
        2 => (small, 0..4u8).prop_map(|(pick, how)| Op::DisposeReturn { pick, how }),
        1 => (small, small).prop_map(|(pick, share)| Op::RefundReturn { pick, share }),
        1 => small.prop_map(Op::CloseReturn),
        2 => (small, small, small, 1..10u8).prop_map(|(from, to, item, quantity)| Op::CreateTransfer { from, to, item, quantity }),
        1 => small.prop_map(Op::ShipTransfer),
        1 => (small, 1..10u8).prop_map(|(pick, quantity)| Op::ReceiveTransfer { pick, quantity }),
        1 => small.prop_map(Op::CloseTransfer),
        1 => (small, small, 0..30u8).prop_map(|(center, item, counted)| Op::Count { center, item, counted }),
        1 => (small, small, any::<i8>()).prop_map(|(center, item, delta)| Op::Adjust { center, item, delta }),
        1 => (0..6u8, 1..5000u16).prop_map(|(process, amount)| Op::PostCost { process, amount }),
        1 => (1000..20000u16).prop_map(|cost| Op::AcquireAsset { cost }),
        1 => small.prop_map(Op::Depreciate),
    ]
}

/// The `pick`th key of a map, in sorted order.
fn nth<K: Ord + Clone, V>(map: &rustc_hash::FxHashMap<K, V>, pick: u8) -> Option<K> {
    if map.is_empty() {
        return None;
    }
    let mut keys: Vec<&K> = map.keys().collect();
    keys.sort();
    Some(keys[pick as usize % keys.len()].clone())
}

fn center(pick: u8) -> LocationId {
    id(CENTERS[pick as usize % CENTERS.len()])
}

struct Interpreter {
    counter: u64,
}

impl Interpreter {
    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}-{}", self.counter)
    }

    /// The command for an operation in this state, or `None` when it has no target yet.
    fn command(&mut self, state: &State, op: &Op) -> Option<Command> {
        Some(match op {
            Op::PlacePurchase {
                center: c,
                item,
                quantity,
                price,
                foreign,
            } => Command::PlacePurchaseOrder(PlacePurchaseOrder {
                purchase_order: id(&self.fresh("PO")),
                supplier: id(if *foreign { "S-EUR" } else { "S-USD" }),
                location: center(*c),
                currency: if *foreign { eur() } else { usd() },
                exchange_rate: foreign.then_some(ExchangeRate {
                    rate_micro: 1_084_200,
                }),
                lines: vec![PurchaseLine {
                    sku: id(STOCKED[*item as usize % 3]),
                    quantity: i64::from(*quantity),
                    unit_price_minor: i64::from(*price),
                }],
                requested_on: None,
            }),
            Op::ConfirmPurchase(pick) => Command::ConfirmPurchaseOrder(ConfirmPurchaseOrder {
                purchase_order: nth(&state.purchase_orders, *pick)?,
                committed_on: jiff::civil::date(2025, 3, 1),
            }),
            Op::ReceivePurchase {
                pick,
                accept_share,
                reject,
            } => {
                let po = nth(&state.purchase_orders, *pick)?;
                let outstanding = state.purchase_orders[&po].lines[0].outstanding();
                let rejected = i64::from(*reject).min(outstanding);
                let accepted = ((outstanding - rejected) * i64::from(*accept_share) / 255).max(1);
                Command::ReceivePurchaseOrder(ReceivePurchaseOrder {
                    purchase_order: po,
                    receipt: id(&self.fresh("RC")),
                    lines: vec![ReceiptLine {
                        line: 0,
                        accepted,
                        rejected,
                        reject_reason: (rejected > 0).then(|| id("damaged")),
                    }],
                    arrived_at: None,
                })
            }
            Op::BillPurchase { pick, variance } => {
                let po = nth(&state.purchase_orders, *pick)?;
                let found = &state.purchase_orders[&po];
                let line = &found.lines[0];
                let matched = (line.accepted - line.billed) * line.line.unit_price_minor;
                Command::BillPurchaseOrder(BillPurchaseOrder {
                    purchase_order: po,
                    bill: id(&self.fresh("BILL")),
                    amount: Money::new((matched + i64::from(*variance)).max(1), found.currency),
                    due_on: jiff::civil::date(2025, 4, 1),
                })
            }
            Op::PayPurchase { pick, share } => {
                let po = nth(&state.purchase_orders, *pick)?;
                let found = &state.purchase_orders[&po];
                let due = found.billed_minor - found.paid_minor;
                Command::PayPurchaseOrder(PayPurchaseOrder {
                    purchase_order: po,
                    payment: id(&self.fresh("PAY")),
                    amount: Money::new((due * i64::from(*share) / 255).max(1), found.currency),
                })
            }
            Op::CancelPurchase(pick) => Command::CancelPurchaseOrder(CancelPurchaseOrder {
                purchase_order: nth(&state.purchase_orders, *pick)?,
                reason: id("not_needed"),
            }),
            Op::ClosePurchase(pick) => Command::ClosePurchaseOrder(ClosePurchaseOrder {
                purchase_order: nth(&state.purchase_orders, *pick)?,
                reason: id("short"),
            }),
            Op::PlaceOrder {
                lines,
                reject_shortage,
            } => Command::PlaceSalesOrder(PlaceSalesOrder {
                contact: None,
                order: id(&self.fresh("SO")),
                channel: id("web"),
                customer: id("C-1"),
                ship_to: address(),
                currency: usd(),
                exchange_rate: None,
                lines: lines
                    .iter()
                    .map(|(item, quantity)| OrderLineInput {
                        sku: id(SELLABLE[*item as usize % SELLABLE.len()]),
                        quantity: i64::from(*quantity),
                        unit_price_minor: 1999,
                        unit_tax_minor: 380,
                    })
                    .collect(),
                promise: None,
                service_level: None,
                shipping_charge_minor: 499,
                allocate: Some(if *reject_shortage {
                    ShortagePolicy::Reject
                } else {
                    ShortagePolicy::Backorder
                }),
            }),
            Op::Allocate(pick) => Command::AllocateSalesOrder(AllocateSalesOrder {
                order: nth(&state.sales_orders, *pick)?,
                shortage: ShortagePolicy::Backorder,
                lines: None,
            }),
            Op::Deallocate(pick) => {
                let order = nth(&state.sales_orders, *pick)?;
                let (line, allocation) = state.sales_orders[&order]
                    .lines
                    .iter()
                    .enumerate()
                    .find_map(|(index, l)| l.allocations.first().map(|a| (index, a)))?;
                Command::DeallocateSalesOrder(DeallocateSalesOrder {
                    order,
                    line,
                    location: allocation.location.clone(),
                    quantity: (allocation.allocated - allocation.picked).max(1),
                })
            }
            Op::Hold(pick) => Command::HoldSalesOrder(HoldSalesOrder {
                order: nth(&state.sales_orders, *pick)?,
                reason: id("fraud_review"),
            }),
            Op::Release(pick) => Command::ReleaseSalesOrder(ReleaseSalesOrder {
                order: nth(&state.sales_orders, *pick)?,
            }),
            Op::Fulfil { pick, step } => self.fulfil(state, *pick, *step)?,
            Op::Deliver { pick, damaged } => {
                let order = nth(&state.sales_orders, *pick)?;
                let shipment = state.sales_orders[&order]
                    .shipments
                    .iter()
                    .find(|s| s.delivered_at.is_none())?
                    .id
                    .clone();
                Command::DeliverShipment(DeliverShipment {
                    order,
                    shipment,
                    delivered_at: None,
                    condition: if *damaged {
                        DeliveryCondition::Damaged
                    } else {
                        DeliveryCondition::Intact
                    },
                    misdelivered: false,
                    note: None,
                })
            }
            Op::Invoice(pick) => Command::InvoiceSalesOrder(InvoiceSalesOrder {
                order: nth(&state.sales_orders, *pick)?,
                invoice: id(&self.fresh("INV")),
            }),
            Op::Pay { pick, share } => {
                let order = nth(&state.sales_orders, *pick)?;
                let found = &state.sales_orders[&order];
                let due = found.value_minor().max(found.invoiced_minor) - found.paid_minor;
                Command::ReceivePayment(ReceivePayment {
                    order,
                    payment: id(&self.fresh("P")),
                    amount: Money::new((due * i64::from(*share) / 255).max(1), usd()),
                })
            }
            Op::Cancel {
                pick,
                everything,
                by_customer,
            } => {
                let order = nth(&state.sales_orders, *pick)?;
                let lines = (!everything).then(|| {
                    vec![LineQuantity {
                        line: 0,
                        quantity: 1,
                    }]
                });
                Command::CancelSalesOrder(CancelSalesOrder {
                    order,
                    initiator: if *by_customer {
                        Initiator::Customer
                    } else {
                        Initiator::Seller
                    },
                    reason: id(if *by_customer {
                        "changed_mind"
                    } else {
                        "out_of_stock"
                    }),
                    lines,
                })
            }
            Op::Amend { pick, quantity } => Command::AmendSalesOrder(AmendSalesOrder {
                order: nth(&state.sales_orders, *pick)?,
                initiator: Initiator::Customer,
                set_quantities: vec![LineQuantity {
                    line: 0,
                    quantity: i64::from(*quantity),
                }],
                add_lines: vec![],
                ship_to: None,
                promise: None,
            }),
            Op::CreateKit {
                center: c,
                quantity,
            } => Command::CreateWorkOrder(CreateWorkOrder {
                work_order: id(&self.fresh("WO")),
                kind: WorkOrderKind::Kitting,
                item: id("KIT"),
                quantity: i64::from(*quantity),
                location: center(*c),
                for_order: None,
            }),
            Op::StartWork(pick) => Command::StartWorkOrder(StartWorkOrder {
                work_order: nth(&state.work_orders, *pick)?,
            }),
            Op::CompleteWork { pick, failed } => {
                let work_order = nth(&state.work_orders, *pick)?;
                let quantity = state.work_orders[&work_order].quantity;
                let failed = i64::from(*failed).min(quantity);
                Command::CompleteWorkOrder(CompleteWorkOrder {
                    work_order,
                    passed: quantity - failed,
                    failed,
                    note: None,
                })
            }
            Op::CancelWork(pick) => Command::CancelWorkOrder(CancelWorkOrder {
                work_order: nth(&state.work_orders, *pick)?,
                reason: id("no_longer_needed"),
            }),
            Op::AuthoriseReturn { pick, quantity } => {
                let order = nth(&state.sales_orders, *pick)?;
                let line = state.sales_orders[&order]
                    .lines
                    .iter()
                    .position(|l| l.delivered > l.returned)?;
                Command::AuthoriseReturn(AuthoriseReturn {
                    return_id: id(&self.fresh("RMA")),
                    order,
                    policy: id("default"),
                    lines: vec![ReturnLineInput {
                        line,
                        quantity: i64::from(*quantity),
                        reason: id("changed_mind"),
                    }],
                })
            }
            Op::ReceiveReturn(pick) => {
                let rma = nth(&state.returns, *pick)?;
                let line = &state.returns[&rma].lines[0];
                Command::ReceiveReturn(ReceiveReturn {
                    return_id: rma,
                    lines: vec![LineQuantity {
                        line: 0,
                        quantity: (line.line.quantity - line.received).max(1),
                    }],
                })
            }
            Op::InspectReturn { pick, condition } => {
                let rma = nth(&state.returns, *pick)?;
                let line = &state.returns[&rma].lines[0];
                let condition = [
                    Condition::New,
                    Condition::LikeNew,
                    Condition::Used,
                    Condition::Damaged,
                    Condition::Defective,
                ][*condition as usize % 5];
                Command::InspectReturn(InspectReturn {
                    return_id: rma,
                    lines: vec![InspectionLine {
                        line: 0,
                        quantity: (line.received - line.inspected).max(1),
                        condition,
                    }],
                })
            }
            Op::DisposeReturn { pick, how } => {
                let rma = nth(&state.returns, *pick)?;
                let line = &state.returns[&rma].lines[0];
                let disposition = match how % 4 {
                    0 => Disposition::Restock {
                        location: center(*pick),
                    },
                    1 => Disposition::Scrap,
                    2 => Disposition::ReturnToVendor {
                        supplier: id("S-USD"),
                    },
                    _ => Disposition::Repair {
                        location: center(*pick),
                        work_order: id(&self.fresh("WO-R")),
                    },
                };
                Command::DisposeReturn(DisposeReturn {
                    return_id: rma,
                    lines: vec![DispositionLine {
                        line: 0,
                        quantity: (line.inspected - line.disposed).max(1),
                        disposition,
                    }],
                })
            }
            Op::RefundReturn { pick, share } => {
                let rma = nth(&state.returns, *pick)?;
                let found = &state.returns[&rma];
                let line = &found.lines[0].line;
                let cap = line.quantity * (line.unit_price_minor + line.unit_tax_minor)
                    - found.refunded_minor;
                Command::RefundReturn(RefundReturn {
                    return_id: rma,
                    refund: id(&self.fresh("RF")),
                    amount: Money::new((cap * i64::from(*share) / 255).max(1), found.currency),
                })
            }
            Op::CloseReturn(pick) => Command::CloseReturn(CloseReturn {
                return_id: nth(&state.returns, *pick)?,
                reason: id("never_sent"),
            }),
            Op::CreateTransfer {
                from,
                to,
                item,
                quantity,
            } => Command::CreateTransfer(CreateTransfer {
                transfer: id(&self.fresh("TR")),
                from: center(*from),
                to: center(*to),
                lines: vec![TransferLineInput {
                    sku: id(STOCKED[*item as usize % 3]),
                    quantity: i64::from(*quantity),
                }],
            }),
            Op::ShipTransfer(pick) => Command::ShipTransfer(ShipTransfer {
                transfer: nth(&state.transfers, *pick)?,
                carrier: None,
                tracking: None,
            }),
            Op::ReceiveTransfer { pick, quantity } => Command::ReceiveTransfer(ReceiveTransfer {
                transfer: nth(&state.transfers, *pick)?,
                lines: vec![LineQuantity {
                    line: 0,
                    quantity: i64::from(*quantity),
                }],
            }),
            Op::CloseTransfer(pick) => Command::CloseTransfer(CloseTransfer {
                transfer: nth(&state.transfers, *pick)?,
                reason: id("lost_in_transit"),
            }),
            Op::Count {
                center: c,
                item,
                counted,
            } => Command::RecordCount(RecordCount {
                count: id(&self.fresh("CNT")),
                location: center(*c),
                lines: vec![CountLineInput {
                    sku: id(STOCKED[*item as usize % 3]),
                    counted: i64::from(*counted),
                }],
                reason: Some(id("cycle_count")),
            }),
            Op::Adjust {
                center: c,
                item,
                delta,
            } => Command::AdjustStock(AdjustStock {
                adjustment: id(&self.fresh("ADJ")),
                location: center(*c),
                reason: id(if *delta > 60 {
                    "opening_balance"
                } else {
                    "damaged"
                }),
                lines: vec![AdjustLineInput {
                    sku: id(STOCKED[*item as usize % 3]),
                    quantity: i64::from(*delta),
                    unit_cost_minor: None,
                }],
            }),
            Op::PostCost { process, amount } => Command::PostCost(PostCost {
                cost: id(&self.fresh("COST")),
                process: ScorProcess::ALL[*process as usize % 6],
                cost_type: CostType::PickPack,
                amount: Money::new(
                    i64::from(*amount),
                    if amount % 2 == 0 { usd() } else { eur() },
                ),
                settlement: if amount % 3 == 0 {
                    Settlement::Paid
                } else {
                    Settlement::Payable
                },
                reference: None,
                note: None,
            }),
            Op::AcquireAsset { cost } => Command::AcquireFixedAsset(AcquireFixedAsset {
                asset: id(&self.fresh("FA")),
                name: "Conveyor".into(),
                cost: Money::new(i64::from(*cost), usd()),
                supply_chain: true,
                process: Some(ScorProcess::Deliver),
                useful_life_months: 36,
                salvage_minor: 0,
                settlement: Settlement::Paid,
            }),
            Op::Depreciate(pick) => Command::DepreciateFixedAsset(DepreciateFixedAsset {
                asset: nth(&state.fixed_assets, *pick)?,
                amount_minor: None,
            }),
        })
    }

    /// The next warehouse step (pick, pack or ship) for the first line of an order that has
    /// something waiting at that step.
    fn fulfil(&mut self, state: &State, pick: u8, step: u8) -> Option<Command> {
        let order = nth(&state.sales_orders, pick)?;
        let found = &state.sales_orders[&order];
        // The first allocation with warehouse work waiting, and its waiting quantities per step.
        let (index, allocation, waiting) =
            found.lines.iter().enumerate().find_map(|(index, line)| {
                line.allocations.iter().find_map(|a| {
                    let waiting = [a.allocated - a.picked, a.picked - a.packed, a.packed];
                    waiting
                        .iter()
                        .any(|w| *w > 0)
                        .then_some((index, a, waiting))
                })
            })?;
        let lines = |quantity: i64| {
            vec![LineQuantity {
                line: index,
                quantity,
            }]
        };
        let location = allocation.location.clone();
        // Starting from the chosen step, the first step with something waiting.
        let step = (step as usize..3)
            .chain(0..step as usize)
            .find(|s| waiting[*s] > 0)?;
        Some(match step {
            0 => Command::PickSalesOrder(PickSalesOrder {
                order,
                location,
                lines: lines(waiting[0]),
            }),
            1 => Command::PackSalesOrder(PackSalesOrder {
                order,
                location,
                lines: lines(waiting[1]),
                package: None,
            }),
            _ => Command::ShipSalesOrder(ShipSalesOrder {
                order,
                shipment: id(&self.fresh("SH")),
                location,
                carrier: id("UPS"),
                service: id("ground"),
                tracking: None,
                weight_g: 900,
                lines: lines(waiting[2]),
            }),
        })
    }
}

/// The stocked items one unit of a sellable item takes, from the fixture's definitions: a bundle
/// is its components, anything else (a kit is made and stocked) is itself.
fn stocked_per_unit(sku: &Sku) -> Vec<(Sku, i64)> {
    match sku.as_str() {
        "BUNDLE" => vec![(id("A"), 1), (id("C"), 1)],
        _ => vec![(sku.clone(), 1)],
    }
}

/// One sales order line as the test expects it.
#[derive(Debug, Clone)]
struct ExpectedLine {
    sku: Sku,
    quantity: i64,
    unit_price_minor: i64,
    unit_tax_minor: i64,
    shipped: i64,
    cancelled: i64,
    invoiced: i64,
    delivered: i64,
}

/// One sales order as the test expects it.
#[derive(Debug, Clone, Default)]
struct ExpectedOrder {
    lines: Vec<ExpectedLine>,
    shipments: std::collections::BTreeMap<ShipmentId, Vec<(usize, i64)>>,
    held: bool,
    shipping_charge_minor: i64,
    shipping_invoiced: bool,
    invoiced_minor: i64,
    paid_minor: i64,
}

/// One purchase order as the test expects it (every generated purchase order has one line).
#[derive(Debug, Clone)]
struct ExpectedPurchase {
    sku: Sku,
    accepted: i64,
    rejected: i64,
    billed_minor: i64,
    paid_minor: i64,
}

/// An oracle independent of the code under test: what the documents and the ledgers must hold,
/// worked out by the test from the commands the domain accepted (the numbers are the command's
/// own) and from the fixture, never from the state or from `apply`. Replaying the log through
/// the same `apply` would reproduce a bug in `apply`; this would not.
#[derive(Debug, Default)]
struct Expected {
    orders: std::collections::BTreeMap<SalesOrderId, ExpectedOrder>,
    purchases: std::collections::BTreeMap<PurchaseOrderId, ExpectedPurchase>,
    /// The item each return brings back.
    returns: std::collections::BTreeMap<ReturnId, Sku>,
    /// Units per (stocked item, `customer` or `supplier`): shipped to customers less returns
    /// received from them; returned to vendors less receipts from suppliers.
    stock: std::collections::BTreeMap<(Sku, LocationId), i64>,
}

impl Expected {
    fn stock_change(&mut self, sku: &Sku, location: VirtualLocation, units: i64) {
        for (stocked, per_unit) in stocked_per_unit(sku) {
            *self.stock.entry((stocked, location.id())).or_default() += per_unit * units;
        }
    }

    /// Records what an accepted command must have done.
    fn accept(&mut self, command: &Command) {
        match command {
            Command::PlaceSalesOrder(c) => {
                let lines = c
                    .lines
                    .iter()
                    .map(|line| ExpectedLine {
                        sku: line.sku.clone(),
                        quantity: line.quantity,
                        unit_price_minor: line.unit_price_minor,
                        unit_tax_minor: line.unit_tax_minor,
                        shipped: 0,
                        cancelled: 0,
                        invoiced: 0,
                        delivered: 0,
                    })
                    .collect();
                let order = ExpectedOrder {
                    lines,
                    shipping_charge_minor: c.shipping_charge_minor,
                    ..ExpectedOrder::default()
                };
                self.orders.insert(c.order.clone(), order);
            }
            Command::HoldSalesOrder(c) => self.order(&c.order).held = true,
            Command::ReleaseSalesOrder(c) => self.order(&c.order).held = false,
            Command::AmendSalesOrder(c) => {
                let order = self.order(&c.order);
                for change in &c.set_quantities {
                    order.lines[change.line].quantity = change.quantity;
                }
            }
            Command::CancelSalesOrder(c) => {
                let order = self.order(&c.order);
                match &c.lines {
                    Some(lines) => {
                        for cancelled in lines {
                            order.lines[cancelled.line].cancelled += cancelled.quantity;
                        }
                    }
                    None => {
                        for line in &mut order.lines {
                            line.cancelled = line.quantity - line.shipped;
                        }
                    }
                }
            }
            Command::ShipSalesOrder(c) => {
                let order = self.order(&c.order);
                let mut shipped = Vec::new();
                for request in &c.lines {
                    let line = &mut order.lines[request.line];
                    line.shipped += request.quantity;
                    shipped.push((line.sku.clone(), request.quantity));
                }
                order.shipments.insert(
                    c.shipment.clone(),
                    c.lines.iter().map(|l| (l.line, l.quantity)).collect(),
                );
                for (sku, units) in shipped {
                    self.stock_change(&sku, VirtualLocation::Customer, units);
                }
            }
            Command::DeliverShipment(c) => {
                let order = self.order(&c.order);
                for (line, units) in order.shipments[&c.shipment].clone() {
                    order.lines[line].delivered += units;
                }
            }
            Command::InvoiceSalesOrder(c) => {
                let order = self.order(&c.order);
                for line in &mut order.lines {
                    let units = line.shipped - line.invoiced;
                    order.invoiced_minor += units * (line.unit_price_minor + line.unit_tax_minor);
                    line.invoiced = line.shipped;
                }
                if !order.shipping_invoiced {
                    order.invoiced_minor += order.shipping_charge_minor;
                    order.shipping_invoiced = true;
                }
            }
            Command::ReceivePayment(c) => self.order(&c.order).paid_minor += c.amount.amount_minor,
            Command::PlacePurchaseOrder(c) => {
                let purchase = ExpectedPurchase {
                    sku: c.lines[0].sku.clone(),
                    accepted: 0,
                    rejected: 0,
                    billed_minor: 0,
                    paid_minor: 0,
                };
                self.purchases.insert(c.purchase_order.clone(), purchase);
            }
            Command::ReceivePurchaseOrder(c) => {
                let purchase = self.purchase(&c.purchase_order);
                let sku = purchase.sku.clone();
                let accepted: i64 = c.lines.iter().map(|l| l.accepted).sum();
                purchase.accepted += accepted;
                purchase.rejected += c.lines.iter().map(|l| l.rejected).sum::<i64>();
                self.stock_change(&sku, VirtualLocation::Supplier, -accepted);
            }
            Command::BillPurchaseOrder(c) => {
                self.purchase(&c.purchase_order).billed_minor += c.amount.amount_minor;
            }
            Command::PayPurchaseOrder(c) => {
                self.purchase(&c.purchase_order).paid_minor += c.amount.amount_minor;
            }
            Command::AuthoriseReturn(c) => {
                let sku = self.order(&c.order).lines[c.lines[0].line].sku.clone();
                self.returns.insert(c.return_id.clone(), sku);
            }
            Command::ReceiveReturn(c) => {
                let sku = self.returns[&c.return_id].clone();
                let units: i64 = c.lines.iter().map(|l| l.quantity).sum();
                self.stock_change(&sku, VirtualLocation::Customer, -units);
            }
            Command::DisposeReturn(c) => {
                let sku = self.returns[&c.return_id].clone();
                for line in &c.lines {
                    if matches!(line.disposition, Disposition::ReturnToVendor { .. }) {
                        self.stock_change(&sku, VirtualLocation::Supplier, line.quantity);
                    }
                }
            }
            _ => {}
        }
    }

    fn order(&mut self, id: &SalesOrderId) -> &mut ExpectedOrder {
        self.orders
            .get_mut(id)
            .unwrap_or_else(|| panic!("{id} was accepted without being placed"))
    }

    fn purchase(&mut self, id: &PurchaseOrderId) -> &mut ExpectedPurchase {
        self.purchases
            .get_mut(id)
            .unwrap_or_else(|| panic!("{id} was accepted without being placed"))
    }

    /// Checks the state against what the test expects.
    fn check(&self, state: &State) -> Result<(), TestCaseError> {
        let orders: Vec<&SalesOrderId> = state
            .sales_orders
            .keys()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        prop_assert_eq!(
            orders,
            self.orders.keys().collect::<Vec<_>>(),
            "sales orders"
        );
        for (id, expected) in &self.orders {
            let found = &state.sales_orders[id];
            prop_assert_eq!(found.lines.len(), expected.lines.len(), "{} lines", id);
            for (index, (line, want)) in found.lines.iter().zip(&expected.lines).enumerate() {
                let got = (
                    line.line.quantity,
                    line.shipped,
                    line.cancelled,
                    line.invoiced,
                    line.delivered,
                );
                let wanted = (
                    want.quantity,
                    want.shipped,
                    want.cancelled,
                    want.invoiced,
                    want.delivered,
                );
                prop_assert_eq!(
                    got,
                    wanted,
                    "{} line {}: (ordered, shipped, cancelled, invoiced, delivered)",
                    id,
                    index
                );
            }
            let shipments: Vec<&ShipmentId> = found
                .shipments
                .iter()
                .map(|s| &s.id)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            prop_assert_eq!(
                shipments,
                expected.shipments.keys().collect::<Vec<_>>(),
                "{} shipments",
                id
            );
            prop_assert_eq!(found.hold.is_some(), expected.held, "{} held", id);
            prop_assert_eq!(
                found.shipping_invoiced,
                expected.shipping_invoiced,
                "{} shipping invoiced",
                id
            );
            prop_assert_eq!(
                found.invoiced_minor,
                expected.invoiced_minor,
                "{} invoiced",
                id
            );
            prop_assert_eq!(found.paid_minor, expected.paid_minor, "{} paid", id);
        }
        let purchases: Vec<&PurchaseOrderId> = state
            .purchase_orders
            .keys()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        prop_assert_eq!(
            purchases,
            self.purchases.keys().collect::<Vec<_>>(),
            "purchase orders"
        );
        for (id, expected) in &self.purchases {
            let found = &state.purchase_orders[id];
            let got = (
                found.lines[0].accepted,
                found.lines[0].rejected,
                found.billed_minor,
                found.paid_minor,
            );
            let wanted = (
                expected.accepted,
                expected.rejected,
                expected.billed_minor,
                expected.paid_minor,
            );
            prop_assert_eq!(got, wanted, "{}: (accepted, rejected, billed, paid)", id);
        }
        let virtual_locations = [
            VirtualLocation::Customer.id(),
            VirtualLocation::Supplier.id(),
        ];
        let mut stock: std::collections::BTreeMap<(Sku, LocationId), i64> = state
            .stock
            .iter()
            .filter(|((_, location), balance)| {
                virtual_locations.contains(location) && balance.on_hand != 0
            })
            .map(|(key, balance)| (key.clone(), balance.on_hand))
            .collect();
        let mut expected = self.stock.clone();
        expected.retain(|_, units| *units != 0);
        stock.retain(|_, units| *units != 0);
        prop_assert_eq!(stock, expected, "units at customer and supplier");
        Ok(())
    }
}

/// The ledgers summed by the test from the effects the events carry, by its own arithmetic
/// rather than the ledgers' `apply_move`, `reserve` and `post`.
#[derive(Debug, Default)]
struct LedgerSums {
    stock: std::collections::BTreeMap<(Sku, LocationId), (i64, i64, i64)>,
    money: std::collections::BTreeMap<(Account, Currency), i64>,
}

impl LedgerSums {
    fn add(&mut self, event: &Event) {
        let Some(effects) = event.effects() else {
            return;
        };
        for movement in &effects.moves {
            let from = self
                .stock
                .entry((movement.sku.clone(), movement.from.clone()))
                .or_default();
            from.0 -= movement.quantity;
            from.2 -= movement.value_minor;
            let to = self
                .stock
                .entry((movement.sku.clone(), movement.to.clone()))
                .or_default();
            to.0 += movement.quantity;
            to.2 += movement.value_minor;
        }
        for change in &effects.reservations {
            self.stock
                .entry((change.sku.clone(), change.location.clone()))
                .or_default()
                .1 += change.quantity;
        }
        for posting in &effects.journal.postings {
            *self
                .money
                .entry((posting.account, posting.amount.currency))
                .or_default() += posting.amount.amount_minor;
        }
    }

    fn check(&self, state: &State) -> Result<(), TestCaseError> {
        let nonzero = |entry: &(i64, i64, i64)| *entry != (0, 0, 0);
        let stock: std::collections::BTreeMap<(Sku, LocationId), (i64, i64, i64)> = state
            .stock
            .iter()
            .map(|(key, b)| (key.clone(), (b.on_hand, b.reserved, b.value_minor)))
            .filter(|(_, entry)| nonzero(entry))
            .collect();
        let mut expected = self.stock.clone();
        expected.retain(|_, entry| nonzero(entry));
        prop_assert_eq!(
            stock,
            expected,
            "stock ledger: (on hand, reserved, value) per item and location"
        );
        let money: std::collections::BTreeMap<(Account, Currency), i64> = state
            .money
            .iter()
            .filter(|(_, amount)| **amount != 0)
            .map(|(key, amount)| (*key, *amount))
            .collect();
        let mut expected = self.money.clone();
        expected.retain(|_, amount| *amount != 0);
        prop_assert_eq!(money, expected, "money ledger per account and currency");
        Ok(())
    }
}

/// Runs a sequence, checking every invariant after every event. Returns the number of accepted
/// and rejected commands.
fn run_sequence(
    ops: &[Op],
    seen: &mut std::collections::BTreeSet<&'static str>,
) -> Result<(usize, usize), TestCaseError> {
    let mut state = State::default();
    let mut log: Vec<Event> = Vec::new();
    let mut interpreter = Interpreter { counter: 0 };
    let start: Timestamp = "2025-03-01T08:00:00Z".parse().unwrap();
    let mut accepted = 0;
    let mut rejected = 0;
    let mut expected = Expected::default();
    let mut sums = LedgerSums::default();
    // The log as a store keeps it: each event's type name and JSON payload.
    let mut encoded: Vec<(&'static str, String)> = Vec::new();
    let setup = fixture().into_iter().map(Some);
    let generated = ops.iter().map(|op| (op, None::<Command>));
    let mut step: i64 = 0;
    let mut commands: Vec<Option<Command>> = setup.collect();
    commands.extend(generated.map(|_| None));
    commands.extend(coda().into_iter().map(Some));
    for (index, fixed) in commands.into_iter().enumerate() {
        let command = match fixed {
            Some(command) => command,
            None => match interpreter.command(&state, &ops[index - fixture().len()]) {
                Some(command) => command,
                None => continue,
            },
        };
        step += 1;
        let ctx = Context {
            at: start + SignedDuration::from_hours(step),
        };
        let decided = decide(&state, &command, &ctx);
        prop_assert_eq!(
            &decided,
            &decide(&state, &command, &ctx),
            "decide is not deterministic for {:?}",
            command
        );
        let events = match decided {
            Ok(events) => events,
            Err(_) => {
                rejected += 1;
                continue;
            }
        };
        accepted += 1;
        expected.accept(&command);
        let applied = events.clone();
        for event in events {
            let violations = check_event(&event);
            prop_assert!(
                violations.is_empty(),
                "{:?} after {:?}: {:?}",
                violations,
                command,
                event
            );
            let decoded =
                Event::from_json(event.type_name(), Event::SCHEMA_VERSION, &event.to_json());
            prop_assert_eq!(decoded.as_ref(), Ok(&event));
            seen.insert(event.type_name());
            apply(&mut state, &event);
            let violations = check_state(&state);
            prop_assert!(
                violations.is_empty(),
                "{} after {:?}",
                violations
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
                command
            );
            sums.add(&event);
            encoded.push((event.type_name(), event.to_json()));
            log.push(event);
        }
        // The document the command changed, written straight to JSON as the engine answers it,
        // has the fields of the document as a read renders it.
        let text = flowline_core::rendered::changed_document_json(&state, &command, &applied);
        let parsed = text.map(|raw| serde_json::from_str::<serde_json::Value>(raw.get()).unwrap());
        prop_assert_eq!(
            parsed,
            flowline_core::rendered::changed_document(&state, &command, &applied),
            "the answer's document differs from the read's after {:?}",
            command
        );
    }
    // Replaying the log as it was written, decoded from its JSON, reproduces the state.
    let mut replayed = State::default();
    for (type_name, payload) in &encoded {
        let event = Event::from_json(type_name, Event::SCHEMA_VERSION, payload)
            .map_err(|error| TestCaseError::fail(format!("{type_name}: {error}")))?;
        apply(&mut replayed, &event);
    }
    prop_assert_eq!(
        canonical(&replayed),
        canonical(&state),
        "replaying the decoded log did not reproduce the state"
    );
    // Replay runs the same `apply` as the incremental state, so it cannot see a bug in `apply`.
    // These can: the documents against what the accepted commands asked for, and the ledgers
    // against the sums of the events' effects, both worked out by the test itself.
    expected.check(&state)?;
    sums.check(&state)?;

    // Every document is a fold of its own stream: rebuilt stream by stream, without the ledger
    // effects, the documents come out the same.
    let mut streams: std::collections::BTreeMap<String, Vec<&Event>> =
        std::collections::BTreeMap::new();
    for event in &log {
        streams.entry(event.stream()).or_default().push(event);
    }
    let mut rebuilt = State::default();
    for events in streams.values() {
        for event in events {
            apply_document(&mut rebuilt, event);
        }
    }
    rebuilt.stock = state.stock.clone();
    rebuilt.money = state.money.clone();
    prop_assert_eq!(
        canonical(&rebuilt),
        canonical(&state),
        "a document is not a fold of its own stream"
    );

    // Evicting everything settled and reloading each missing document from its stream gives the
    // same state back.
    let mut evicted = state.clone();
    evict_settled(&mut evicted, start + SignedDuration::from_hours(24 * 3650));
    for (name, events) in &streams {
        if !holds_stream(&evicted, name) {
            for event in events {
                apply_document(&mut evicted, event);
            }
        }
    }
    prop_assert_eq!(
        canonical(&evicted),
        canonical(&state),
        "a reloaded document differs from the evicted one"
    );
    Ok((accepted, rejected))
}

fn seed() -> u64 {
    std::env::var("FLOWLINE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_251_122)
}

fn cases() -> u32 {
    std::env::var("FLOWLINE_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

#[test]
fn random_command_sequences_keep_every_ledger_invariant_and_replay_exactly() {
    let seed = seed();
    println!("FLOWLINE_SEED={seed} FLOWLINE_PROPTEST_CASES={}", cases());
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let totals = std::cell::Cell::new((0usize, 0usize));
    let seen = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let result = runner.run(&prop::collection::vec(op(), 1..200), |ops| {
        let (accepted, rejected) = run_sequence(&ops, &mut seen.borrow_mut())?;
        let (a, r) = totals.get();
        totals.set((a + accepted, r + rejected));
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}\nreplay with FLOWLINE_SEED={seed}");
    }
    let (accepted, rejected) = totals.get();
    println!("accepted {accepted} commands, rejected {rejected}");
    // The generator must reach deep into the life cycles, not just bounce off validation.
    assert!(
        accepted > rejected / 4,
        "too few commands accepted: {accepted} of {}",
        accepted + rejected
    );
    let seen = seen.into_inner();
    let deep = [
        "PurchaseOrderReceived",
        "BillReceived",
        "PaymentMade",
        "SalesOrderShipped",
        "ShipmentDelivered",
        "SalesOrderInvoiced",
        "PaymentReceived",
        "SalesOrderCancelled",
        "SalesOrderAmended",
        "WorkOrderCompleted",
        "ReturnReceived",
        "ReturnDisposed",
        "RefundIssued",
        "TransferReceived",
        "CountRecorded",
        "StockAdjusted",
        "CostPosted",
        "FixedAssetDepreciated",
        // From the coda: every one of its commands must be accepted.
        "TargetSet",
        "TargetRetired",
        "InitiativeCreated",
        "InitiativeUpdated",
    ];
    let missing: Vec<&str> = deep
        .iter()
        .copied()
        .filter(|name| !seen.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "the generated sequences never reached {missing:?}"
    );
}
