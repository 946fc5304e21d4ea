//! The sales order's life cycle, through the public `decide`/`apply` API: placement and its
//! validations, allocation (automatic, explicit, bundles, backorders), holds, the warehouse
//! steps, shipping at moving-average cost, delivery, invoicing, payments, cancellation and
//! amendment — and every illegal transition along the way.
//!
//! Expected values are worked out by hand in the comment above each assertion.

// Helpers outside `#[test]` functions are test code too: a panic is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    Tenant, assert_invalid, deliver, eur, id, illegal, invoice, line, lq, pack, pay, pick, place,
    postings, ship, usd,
};
use flowline_core::documents::sales_order::{
    AllocateSalesOrder, AllocationRequest, AmendSalesOrder, CancelSalesOrder, DeallocateSalesOrder,
    HoldSalesOrder, Initiator, IssueCreditNote, Package, RefundPayment, ReleaseSalesOrder,
    SalesOrderEvent, ShortagePolicy,
};
use flowline_core::error::DocumentKind;
use flowline_core::ledger::Account;
use flowline_core::{Command, DomainError, Event};

const SO: DocumentKind = DocumentKind::SalesOrder;

fn allocate(order: &str, shortage: ShortagePolicy) -> Command {
    Command::AllocateSalesOrder(AllocateSalesOrder {
        order: id(order),
        shortage,
        lines: None,
    })
}

fn allocate_explicit(order: &str, requests: &[(usize, &str, i64)]) -> Command {
    Command::AllocateSalesOrder(AllocateSalesOrder {
        order: id(order),
        shortage: ShortagePolicy::Reject,
        lines: Some(
            requests
                .iter()
                .map(|(line, location, quantity)| AllocationRequest {
                    line: *line,
                    location: id(location),
                    quantity: *quantity,
                })
                .collect(),
        ),
    })
}

fn deallocate(order: &str, line: usize, location: &str, quantity: i64) -> Command {
    Command::DeallocateSalesOrder(DeallocateSalesOrder {
        order: id(order),
        line,
        location: id(location),
        quantity,
    })
}

fn hold(order: &str) -> Command {
    Command::HoldSalesOrder(HoldSalesOrder {
        order: id(order),
        reason: id("fraud_review"),
    })
}

fn release(order: &str) -> Command {
    Command::ReleaseSalesOrder(ReleaseSalesOrder { order: id(order) })
}

fn cancel(order: &str, initiator: Initiator, lines: Option<&[(usize, i64)]>) -> Command {
    Command::CancelSalesOrder(CancelSalesOrder {
        order: id(order),
        initiator,
        reason: id(match initiator {
            Initiator::Customer => "changed_mind",
            Initiator::Seller => "out_of_stock",
        }),
        lines: lines.map(|lines| lines.iter().map(|(l, q)| lq(*l, *q)).collect()),
    })
}

fn amend_quantities(order: &str, quantities: &[(usize, i64)]) -> AmendSalesOrder {
    AmendSalesOrder {
        order: id(order),
        initiator: Initiator::Customer,
        set_quantities: quantities.iter().map(|(l, q)| lq(*l, *q)).collect(),
        add_lines: vec![],
        ship_to: None,
        promise: None,
    }
}

fn credit_note(order: &str, credit_note: &str, amount: flowline_core::money::Money) -> Command {
    Command::IssueCreditNote(IssueCreditNote {
        order: id(order),
        credit_note: id(credit_note),
        amount,
        reason: id("price_error"),
    })
}

fn refund(order: &str, refund: &str, amount: flowline_core::money::Money) -> Command {
    Command::RefundPayment(RefundPayment {
        order: id(order),
        refund: id(refund),
        amount,
        reason: id("order_cancelled"),
    })
}

/// Allocations as (line, location, units), and backorders as (line, units).
type Allocations = (Vec<(usize, String, i64)>, Vec<(usize, i64)>);

/// The allocations of an `Allocated` event, and its backorders.
fn allocations(events: &[Event]) -> Allocations {
    for event in events {
        if let Event::SalesOrder(SalesOrderEvent::Allocated {
            allocations,
            backordered,
            ..
        }) = event
        {
            return (
                allocations
                    .iter()
                    .map(|a| (a.line, a.location.to_string(), a.quantity))
                    .collect(),
                backordered.iter().map(|b| (b.line, b.quantity)).collect(),
            );
        }
    }
    panic!("no Allocated event in {events:?}");
}

/// The per-line values at cost of a `Shipped` event.
fn shipped_values(events: &[Event]) -> Vec<i64> {
    match events {
        [Event::SalesOrder(SalesOrderEvent::Shipped { values_minor, .. })] => values_minor.clone(),
        other => panic!("expected one Shipped event, got {other:?}"),
    }
}

fn so_place(command: flowline_core::documents::sales_order::PlaceSalesOrder) -> Command {
    Command::PlaceSalesOrder(command)
}

/// Places `order` for the given lines and allocates it in the same step (reject on shortage).
fn place_allocated(
    t: &mut Tenant,
    order: &str,
    lines: Vec<flowline_core::documents::sales_order::OrderLineInput>,
) {
    t.ok(so_place(
        flowline_core::documents::sales_order::PlaceSalesOrder {
            contact: None,
            allocate: Some(ShortagePolicy::Reject),
            ..place(order, lines)
        },
    ));
}

// ---------------------------------------------------------------------------------------------
// Placement
// ---------------------------------------------------------------------------------------------

#[test]
fn placing_an_order_records_its_lines_and_reserves_nothing() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    let at = t.now;
    let events = t.ok(so_place(
        flowline_core::documents::sales_order::PlaceSalesOrder {
            contact: None,
            shipping_charge_minor: 750,
            ..place(
                "SO-1",
                vec![line("MUG", 3, 1200, 96), line("TEE", 1, 2000, 160)],
            )
        },
    ));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].type_name(), "SalesOrderPlaced");
    assert_eq!(events[0].stream(), "sales_order/SO-1");
    let order = t.so("SO-1");
    assert_eq!(order.state_name(), "placed");
    assert_eq!(order.placed_at, at);
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].line.quantity, 3);
    assert_eq!(order.lines[1].line.unit_tax_minor, 160);
    // Value as it stands: 3 × (12.00 + 0.96) + 1 × (20.00 + 1.60) + 7.50 shipping
    // = 38.88 + 21.60 + 7.50 = 67.98 USD = 6798 minor.
    assert_eq!(order.value_minor(), 6798);
    // Placing without `allocate` reserves nothing.
    assert_eq!(t.reserved("MUG", "FC-EAST"), 0);
}

#[test]
fn placing_an_order_without_lines_is_rejected_and_appends_nothing() {
    let mut t = Tenant::new();
    let error = t.reject(so_place(place("SO-1", vec![])));
    assert_invalid(&error, "lines");
    assert!(t.state.sales_orders.is_empty());
}

#[test]
fn placing_an_order_with_an_unknown_sku_is_rejected_naming_the_line_field() {
    let mut t = Tenant::new();
    let error = t.reject(so_place(place("SO-1", vec![line("NOPE", 1, 100, 0)])));
    assert_eq!(
        error,
        DomainError::NotFound {
            kind: DocumentKind::Item,
            id: "NOPE".into(),
            field: "lines[0].sku".into(),
        }
    );
    // The path names the offending line, not the first one.
    let error = t.reject(so_place(place(
        "SO-1",
        vec![line("MUG", 1, 1200, 0), line("NOPE", 1, 100, 0)],
    )));
    assert_eq!(
        error,
        DomainError::NotFound {
            kind: DocumentKind::Item,
            id: "NOPE".into(),
            field: "lines[1].sku".into(),
        }
    );
    assert!(t.state.sales_orders.is_empty());
}

#[test]
fn placing_an_order_with_a_zero_or_negative_quantity_is_rejected() {
    let mut t = Tenant::new();
    let error = t.reject(so_place(place("SO-1", vec![line("MUG", 0, 1200, 0)])));
    assert_eq!(
        error,
        DomainError::NonPositiveQuantity {
            field: "lines[0].quantity".into(),
            value: 0,
        }
    );
    let error = t.reject(so_place(place(
        "SO-1",
        vec![line("MUG", 1, 1200, 0), line("TEE", -3, 2000, 0)],
    )));
    assert_eq!(
        error,
        DomainError::NonPositiveQuantity {
            field: "lines[1].quantity".into(),
            value: -3,
        }
    );
    // A negative price is refused too.
    let error = t.reject(so_place(place("SO-1", vec![line("MUG", 1, -1, 0)])));
    assert_invalid(&error, "lines[0].unit_price_minor");
    assert!(t.state.sales_orders.is_empty());
}

#[test]
fn placing_an_order_with_a_malformed_ship_to_country_is_rejected() {
    let mut t = Tenant::new();
    let mut command = place("SO-1", vec![line("MUG", 1, 1200, 0)]);
    command.ship_to.country = "usa".into();
    let error = t.reject(so_place(command));
    assert_invalid(&error, "ship_to.country");
    assert!(t.state.sales_orders.is_empty());
}

#[test]
fn placing_an_order_twice_with_the_same_id_is_rejected_as_already_existing() {
    let mut t = Tenant::new();
    t.ok(so_place(place("SO-1", vec![line("MUG", 1, 1200, 0)])));
    let error = t.reject(so_place(place("SO-1", vec![line("TEE", 2, 2000, 0)])));
    assert_eq!(
        error,
        DomainError::AlreadyExists {
            kind: SO,
            id: "SO-1".into(),
        }
    );
    // The original order is untouched.
    assert_eq!(t.so("SO-1").lines[0].line.sku.as_str(), "MUG");
}

#[test]
fn placing_with_the_reject_policy_when_stock_is_short_names_the_shortage_and_places_nothing() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    let before = t.snapshot();
    let error = t.reject(so_place(
        flowline_core::documents::sales_order::PlaceSalesOrder {
            contact: None,
            allocate: Some(ShortagePolicy::Reject),
            ..place("SO-1", vec![line("MUG", 15, 1200, 0)])
        },
    ));
    // FC-EAST holds 10 MUG and nothing is reserved: 10 available. The order asks 15.
    // FC-WEST holds none, so FC-EAST is the center holding most of it.
    assert_eq!(
        error,
        DomainError::InsufficientStock {
            sku: id("MUG"),
            location: id("FC-EAST"),
            requested: 15,
            available: 10,
        }
    );
    // Nothing placed, nothing reserved.
    assert!(!t.state.sales_orders.contains_key(&id("SO-1")));
    assert_eq!(t.reserved("MUG", "FC-EAST"), 0);
    assert_eq!(t.snapshot(), before);
}

// ---------------------------------------------------------------------------------------------
// Allocation
// ---------------------------------------------------------------------------------------------

#[test]
fn automatic_allocation_prefers_one_center_that_fills_the_whole_order() {
    let mut t = Tenant::new();
    // FC-EAST (first by id) has 5 MUG: too few for 8. FC-WEST has 10 MUG and 10 TEE.
    t.receive_stock("FC-EAST", "MUG", 5, 500);
    t.receive_stock("FC-EAST", "TEE", 10, 400);
    t.receive_stock("FC-WEST", "MUG", 10, 500);
    t.receive_stock("FC-WEST", "TEE", 10, 400);
    t.ok(so_place(place(
        "SO-1",
        vec![line("MUG", 8, 1200, 0), line("TEE", 3, 2000, 0)],
    )));
    let events = t.ok(allocate("SO-1", ShortagePolicy::Reject));
    // Only FC-WEST can fill MUG 8 + TEE 3 alone: both lines go there, one parcel.
    assert_eq!(
        allocations(&events),
        (
            vec![(0, "FC-WEST".into(), 8), (1, "FC-WEST".into(), 3)],
            vec![]
        )
    );
    assert_eq!(t.reserved("MUG", "FC-WEST"), 8);
    assert_eq!(t.reserved("TEE", "FC-WEST"), 3);
    assert_eq!(t.reserved("MUG", "FC-EAST"), 0);
    assert_eq!(t.reserved("TEE", "FC-EAST"), 0);
    assert_eq!(t.so("SO-1").state_name(), "allocated");
}

#[test]
fn automatic_allocation_splits_across_centers_when_none_can_fill_the_order() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 5, 500);
    t.receive_stock("FC-WEST", "MUG", 4, 500);
    let events = t.ok(so_place(
        flowline_core::documents::sales_order::PlaceSalesOrder {
            contact: None,
            allocate: Some(ShortagePolicy::Reject),
            ..place("SO-1", vec![line("MUG", 7, 1200, 0)])
        },
    ));
    assert_eq!(events.len(), 2);
    // Neither center has 7. Centers in id order: FC-EAST gives all 5, FC-WEST the other 2.
    assert_eq!(
        allocations(&events),
        (
            vec![(0, "FC-EAST".into(), 5), (0, "FC-WEST".into(), 2)],
            vec![]
        )
    );
    assert_eq!(t.reserved("MUG", "FC-EAST"), 5);
    assert_eq!(t.reserved("MUG", "FC-WEST"), 2);
    assert_eq!(t.so("SO-1").lines[0].allocated(), 7);
    assert_eq!(t.so("SO-1").state_name(), "allocated");
}

#[test]
fn allocating_with_backorder_reserves_what_fits_and_records_the_rest_as_backordered() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 5, 500);
    let events = t.ok(so_place(
        flowline_core::documents::sales_order::PlaceSalesOrder {
            contact: None,
            allocate: Some(ShortagePolicy::Backorder),
            ..place("SO-1", vec![line("MUG", 8, 1200, 0)])
        },
    ));
    // 8 ordered, 5 on hand: 5 reserved at FC-EAST, 8 − 5 = 3 backordered.
    assert_eq!(
        allocations(&events),
        (vec![(0, "FC-EAST".into(), 5)], vec![(0, 3)])
    );
    assert_eq!(t.so("SO-1").lines[0].backordered, 3);
    assert_eq!(t.so("SO-1").state_name(), "backordered");
    assert_eq!(t.reserved("MUG", "FC-EAST"), 5);

    // 4 more arrive; allocating again takes the 3 waiting and clears the backorder.
    t.receive_stock("FC-EAST", "MUG", 4, 600);
    let events = t.ok(allocate("SO-1", ShortagePolicy::Backorder));
    assert_eq!(
        allocations(&events),
        (vec![(0, "FC-EAST".into(), 3)], vec![])
    );
    assert_eq!(t.so("SO-1").lines[0].backordered, 0);
    assert_eq!(t.so("SO-1").state_name(), "allocated");
    // 5 + 3 = 8 reserved of 9 on hand: 1 available.
    assert_eq!(t.reserved("MUG", "FC-EAST"), 8);
    assert_eq!(t.balance("MUG", "FC-EAST").available(), 1);
}

#[test]
fn allocating_an_order_that_is_fully_allocated_is_an_illegal_transition() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    place_allocated(&mut t, "SO-1", vec![line("MUG", 4, 1200, 0)]);
    let error = t.reject(allocate("SO-1", ShortagePolicy::Reject));
    // The order's state is "allocated" (its `state_name`), and allocating was attempted.
    assert_eq!(error, illegal(SO, "SO-1", "allocated", "allocate"));
    let error = t.reject(allocate("SO-404", ShortagePolicy::Reject));
    assert_eq!(
        error,
        DomainError::NotFound {
            kind: SO,
            id: "SO-404".into(),
            field: "order".into(),
        }
    );
}

#[test]
fn a_bundle_line_reserves_and_ships_its_components() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.receive_stock("FC-EAST", "TEE", 5, 400);
    place_allocated(&mut t, "SO-1", vec![line("GIFT", 3, 4000, 320)]);
    // GIFT = 2 MUG + 1 TEE: 3 GIFT reserve 6 MUG and 3 TEE; the bundle itself is never stocked.
    assert_eq!(t.reserved("MUG", "FC-EAST"), 6);
    assert_eq!(t.reserved("TEE", "FC-EAST"), 3);
    assert_eq!(t.balance("GIFT", "FC-EAST").reserved, 0);
    let allocation = &t.so("SO-1").lines[0].allocations[0];
    assert_eq!(allocation.allocated, 3);
    assert_eq!(allocation.components, vec![(id("MUG"), 2), (id("TEE"), 1)]);

    let events = t.fulfil("SO-1", "S-1", "FC-EAST", &[(0, 3)]);
    // Shipped at cost: 6 MUG × 5.00 + 3 TEE × 4.00 = 30.00 + 12.00 = 42.00 = 4200 minor.
    assert_eq!(shipped_values(&events), vec![4200]);
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::CostOfGoodsSold, 4200, "USD".into()),
            (Account::Inventory, -4200, "USD".into()),
        ]
    );
    // 10 − 6 = 4 MUG and 5 − 3 = 2 TEE left, nothing reserved; the customer has the components.
    assert_eq!(t.balance("MUG", "FC-EAST").on_hand, 4);
    assert_eq!(t.balance("TEE", "FC-EAST").on_hand, 2);
    assert_eq!(t.reserved("MUG", "FC-EAST"), 0);
    assert_eq!(t.reserved("TEE", "FC-EAST"), 0);
    assert_eq!(t.balance("MUG", "customer").on_hand, 6);
    assert_eq!(t.balance("TEE", "customer").on_hand, 3);
    assert_eq!(t.balance("GIFT", "customer").on_hand, 0);
    assert_eq!(t.so("SO-1").lines[0].shipped, 3);
    assert_eq!(t.so("SO-1").lines[0].shipped_value_minor, 4200);
}

#[test]
fn two_lines_and_a_bundle_drawing_on_the_same_item_beyond_stock_are_rejected_as_a_whole() {
    // Medusa #16502: each line fits on its own, together they do not.
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.receive_stock("FC-EAST", "TEE", 5, 400);
    let lines = || {
        vec![
            line("MUG", 4, 1200, 0),
            line("MUG", 4, 1200, 0),
            line("GIFT", 2, 4000, 0),
        ]
    };
    // MUG wanted by the whole command: 4 + 4 + 2 GIFT × 2 MUG = 12; available at FC-EAST: 10.
    let expected = DomainError::InsufficientStock {
        sku: id("MUG"),
        location: id("FC-EAST"),
        requested: 12,
        available: 10,
    };
    let error = t.reject(so_place(
        flowline_core::documents::sales_order::PlaceSalesOrder {
            contact: None,
            allocate: Some(ShortagePolicy::Reject),
            ..place("SO-1", lines())
        },
    ));
    assert_eq!(error, expected);
    assert!(!t.state.sales_orders.contains_key(&id("SO-1")));

    // The same through a separate allocation: refused as a whole, nothing reserved.
    t.ok(so_place(place("SO-2", lines())));
    let error = t.reject(allocate("SO-2", ShortagePolicy::Reject));
    assert_eq!(error, expected);
    assert_eq!(t.reserved("MUG", "FC-EAST"), 0);
    assert_eq!(t.reserved("TEE", "FC-EAST"), 0);
    assert_eq!(t.so("SO-2").state_name(), "placed");
}

#[test]
fn explicit_allocation_reserves_at_the_named_centers() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.receive_stock("FC-WEST", "MUG", 10, 500);
    t.ok(so_place(place("SO-1", vec![line("MUG", 6, 1200, 0)])));
    let events = t.ok(allocate_explicit(
        "SO-1",
        &[(0, "FC-WEST", 4), (0, "FC-EAST", 2)],
    ));
    // Exactly as asked, although FC-EAST alone could fill the line.
    assert_eq!(
        allocations(&events),
        (
            vec![(0, "FC-WEST".into(), 4), (0, "FC-EAST".into(), 2)],
            vec![]
        )
    );
    assert_eq!(t.reserved("MUG", "FC-WEST"), 4);
    assert_eq!(t.reserved("MUG", "FC-EAST"), 2);
    assert_eq!(t.so("SO-1").state_name(), "allocated");
}

#[test]
fn explicit_allocation_beyond_the_unallocated_quantity_or_at_a_non_center_is_rejected() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.receive_stock("FC-WEST", "MUG", 10, 500);
    t.ok(so_place(place("SO-1", vec![line("MUG", 6, 1200, 0)])));
    // 7 asked of 6 unallocated.
    assert_eq!(
        t.reject(allocate_explicit("SO-1", &[(0, "FC-EAST", 7)])),
        DomainError::ExceedsOutstanding {
            field: "lines[0].quantity".into(),
            requested: 7,
            outstanding: 6,
        }
    );
    // 4 + 3 = 7 asked for the same line across two requests; the second one is named.
    assert_eq!(
        t.reject(allocate_explicit(
            "SO-1",
            &[(0, "FC-EAST", 4), (0, "FC-WEST", 3)]
        )),
        DomainError::ExceedsOutstanding {
            field: "lines[1].quantity".into(),
            requested: 7,
            outstanding: 6,
        }
    );
    assert_eq!(
        t.reject(allocate_explicit("SO-1", &[(0, "customer", 1)])),
        DomainError::NotAFulfillmentCenter {
            field: "lines[0].location".into(),
            location: id("customer"),
        }
    );
    assert_eq!(
        t.reject(allocate_explicit("SO-1", &[(0, "FC-NORTH", 1)])),
        DomainError::NotFound {
            kind: DocumentKind::Location,
            id: "FC-NORTH".into(),
            field: "lines[0].location".into(),
        }
    );
    assert_invalid(
        &t.reject(allocate_explicit("SO-1", &[(3, "FC-EAST", 1)])),
        "lines[0].line",
    );
    assert_eq!(
        t.reject(allocate_explicit("SO-1", &[(0, "FC-EAST", 0)])),
        DomainError::NonPositiveQuantity {
            field: "lines[0].quantity".into(),
            value: 0,
        }
    );
    // Once fully allocated, one more unit is beyond the 0 unallocated.
    t.ok(allocate_explicit("SO-1", &[(0, "FC-EAST", 6)]));
    assert_eq!(
        t.reject(allocate_explicit("SO-1", &[(0, "FC-WEST", 1)])),
        DomainError::ExceedsOutstanding {
            field: "lines[0].quantity".into(),
            requested: 1,
            outstanding: 0,
        }
    );
}

#[test]
fn explicit_requests_that_together_exceed_the_stock_are_rejected_naming_the_whole_request() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.ok(so_place(place(
        "SO-1",
        vec![line("MUG", 6, 1200, 0), line("MUG", 6, 1200, 0)],
    )));
    let error = t.reject(allocate_explicit(
        "SO-1",
        &[(0, "FC-EAST", 6), (1, "FC-EAST", 6)],
    ));
    // The command asks 6 + 6 = 12 MUG at FC-EAST, where 10 are available (the
    // `InsufficientStock::requested` contract: summed over all the command's lines).
    assert_eq!(
        error,
        DomainError::InsufficientStock {
            sku: id("MUG"),
            location: id("FC-EAST"),
            requested: 12,
            available: 10,
        }
    );
    assert_eq!(t.reserved("MUG", "FC-EAST"), 0);
}

#[test]
fn deallocating_releases_the_reservation_and_cannot_exceed_what_is_unpicked() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    place_allocated(&mut t, "SO-1", vec![line("MUG", 6, 1200, 0)]);
    let events = t.ok(deallocate("SO-1", 0, "FC-EAST", 4));
    let reservations = &events[0].effects().unwrap().reservations;
    assert_eq!(reservations.len(), 1);
    assert_eq!(reservations[0].quantity, -4);
    // 6 − 4 = 2 still reserved; 2 of 6 open allocated.
    assert_eq!(t.reserved("MUG", "FC-EAST"), 2);
    assert_eq!(t.so("SO-1").lines[0].allocated(), 2);
    assert_eq!(t.so("SO-1").state_name(), "partially_allocated");

    t.ok(pick("SO-1", "FC-EAST", &[(0, 1)]));
    // 2 allocated, 1 picked: only 1 unpicked can be released.
    assert_eq!(
        t.reject(deallocate("SO-1", 0, "FC-EAST", 2)),
        DomainError::ExceedsOutstanding {
            field: "quantity".into(),
            requested: 2,
            outstanding: 1,
        }
    );
    assert_eq!(
        t.reject(deallocate("SO-1", 0, "FC-WEST", 1)),
        DomainError::ExceedsOutstanding {
            field: "quantity".into(),
            requested: 1,
            outstanding: 0,
        }
    );
    assert_eq!(
        t.reject(deallocate("SO-1", 0, "FC-EAST", 0)),
        DomainError::NonPositiveQuantity {
            field: "quantity".into(),
            value: 0,
        }
    );
    assert_invalid(&t.reject(deallocate("SO-1", 5, "FC-EAST", 1)), "line");
    t.ok(deallocate("SO-1", 0, "FC-EAST", 1));
    // The picked unit stays reserved.
    assert_eq!(t.reserved("MUG", "FC-EAST"), 1);
    assert_eq!(t.so("SO-1").lines[0].allocations[0].picked, 1);
}

// ---------------------------------------------------------------------------------------------
// Holds
// ---------------------------------------------------------------------------------------------

#[test]
fn a_held_order_refuses_warehouse_work_until_released() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.ok(so_place(place(
        "SO-1",
        vec![line("MUG", 4, 1200, 0), line("TEE", 1, 2000, 0)],
    )));
    t.ok(allocate_explicit("SO-1", &[(0, "FC-EAST", 4)]));
    t.ok(pick("SO-1", "FC-EAST", &[(0, 2)]));
    t.ok(pack("SO-1", "FC-EAST", &[(0, 1)]));
    t.ok(hold("SO-1"));
    assert_eq!(t.so("SO-1").state_name(), "held");
    assert_eq!(t.so("SO-1").hold, Some(id("fraud_review")));

    assert_eq!(t.reject(hold("SO-1")), illegal(SO, "SO-1", "held", "hold"));
    assert_eq!(
        t.reject(pick("SO-1", "FC-EAST", &[(0, 1)])),
        illegal(SO, "SO-1", "held", "pick")
    );
    assert_eq!(
        t.reject(allocate("SO-1", ShortagePolicy::Backorder)),
        illegal(SO, "SO-1", "held", "allocate")
    );
    assert_eq!(
        t.reject(pack("SO-1", "FC-EAST", &[(0, 1)])),
        illegal(SO, "SO-1", "held", "pack")
    );
    assert_eq!(
        t.reject(ship("SO-1", "S-1", "FC-EAST", &[(0, 1)])),
        illegal(SO, "SO-1", "held", "ship")
    );

    t.ok(release("SO-1"));
    assert_eq!(t.so("SO-1").hold, None);
    // 4 of 5 open units allocated.
    assert_eq!(t.so("SO-1").state_name(), "partially_allocated");
    assert_eq!(
        t.reject(release("SO-1")),
        illegal(SO, "SO-1", "partially_allocated", "release")
    );
    t.ok(pick("SO-1", "FC-EAST", &[(0, 2)]));
    assert_eq!(t.so("SO-1").lines[0].allocations[0].picked, 4);
}

// ---------------------------------------------------------------------------------------------
// Pick, pack, ship
// ---------------------------------------------------------------------------------------------

/// MUG 8 ordered with 5 at FC-EAST: 5 allocated there, 3 backordered.
fn five_allocated() -> Tenant {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 5, 500);
    t.ok(so_place(
        flowline_core::documents::sales_order::PlaceSalesOrder {
            contact: None,
            allocate: Some(ShortagePolicy::Backorder),
            ..place("SO-1", vec![line("MUG", 8, 1200, 0)])
        },
    ));
    t
}

#[test]
fn picking_more_than_was_allocated_is_rejected_and_appends_nothing() {
    let mut t = five_allocated();
    assert_eq!(
        t.reject(pick("SO-1", "FC-EAST", &[(0, 6)])),
        DomainError::ExceedsOutstanding {
            field: "lines[0].quantity".into(),
            requested: 6,
            outstanding: 5,
        }
    );
    // 3 + 3 for the same line: the second entry crosses the 5 allocated.
    assert_eq!(
        t.reject(pick("SO-1", "FC-EAST", &[(0, 3), (0, 3)])),
        DomainError::ExceedsOutstanding {
            field: "lines[1].quantity".into(),
            requested: 6,
            outstanding: 5,
        }
    );
    // Nothing is allocated at FC-WEST.
    assert_eq!(
        t.reject(pick("SO-1", "FC-WEST", &[(0, 1)])),
        DomainError::ExceedsOutstanding {
            field: "lines[0].quantity".into(),
            requested: 1,
            outstanding: 0,
        }
    );
    assert_eq!(
        t.reject(pick("SO-1", "FC-EAST", &[(0, 0)])),
        DomainError::NonPositiveQuantity {
            field: "lines[0].quantity".into(),
            value: 0,
        }
    );
    assert_invalid(&t.reject(pick("SO-1", "FC-EAST", &[])), "lines");
    assert_invalid(
        &t.reject(pick("SO-1", "FC-EAST", &[(2, 1)])),
        "lines[0].line",
    );
    t.ok(pick("SO-1", "FC-EAST", &[(0, 5)]));
    assert_eq!(
        t.reject(pick("SO-1", "FC-EAST", &[(0, 1)])),
        DomainError::ExceedsOutstanding {
            field: "lines[0].quantity".into(),
            requested: 1,
            outstanding: 0,
        }
    );
}

#[test]
fn packing_more_than_was_picked_is_rejected_and_appends_nothing() {
    let mut t = five_allocated();
    t.ok(pick("SO-1", "FC-EAST", &[(0, 3)]));
    assert_eq!(
        t.reject(pack("SO-1", "FC-EAST", &[(0, 4)])),
        DomainError::ExceedsOutstanding {
            field: "lines[0].quantity".into(),
            requested: 4,
            outstanding: 3,
        }
    );
    t.ok(pack("SO-1", "FC-EAST", &[(0, 3)]));
    // 3 picked, 3 packed: nothing left to pack.
    assert_eq!(
        t.reject(pack("SO-1", "FC-EAST", &[(0, 1)])),
        DomainError::ExceedsOutstanding {
            field: "lines[0].quantity".into(),
            requested: 1,
            outstanding: 0,
        }
    );
    t.ok(pick("SO-1", "FC-EAST", &[(0, 2)]));
    let error = t.reject(Command::PackSalesOrder(
        flowline_core::documents::sales_order::PackSalesOrder {
            order: id("SO-1"),
            location: id("FC-EAST"),
            lines: vec![lq(0, 1)],
            package: Some(Package {
                kind: "box-s".into(),
                mass_g: -5,
            }),
        },
    ));
    assert_invalid(&error, "package.mass_g");
}

#[test]
fn shipping_more_than_was_packed_is_rejected_and_appends_nothing() {
    let mut t = five_allocated();
    t.ok(pick("SO-1", "FC-EAST", &[(0, 5)]));
    t.ok(pack("SO-1", "FC-EAST", &[(0, 2)]));
    assert_eq!(
        t.reject(ship("SO-1", "S-1", "FC-EAST", &[(0, 3)])),
        DomainError::ExceedsOutstanding {
            field: "lines[0].quantity".into(),
            requested: 3,
            outstanding: 2,
        }
    );
    // Nothing left FC-EAST.
    assert_eq!(t.balance("MUG", "FC-EAST").on_hand, 5);
    t.ok(ship("SO-1", "S-1", "FC-EAST", &[(0, 2)]));
    assert_eq!(
        t.reject(ship("SO-1", "S-2", "FC-EAST", &[(0, 1)])),
        DomainError::ExceedsOutstanding {
            field: "lines[0].quantity".into(),
            requested: 1,
            outstanding: 0,
        }
    );
    // 5 − 2 shipped = 3 on hand, all still reserved (3 allocated, picked).
    assert_eq!(t.balance("MUG", "FC-EAST").on_hand, 3);
    assert_eq!(t.reserved("MUG", "FC-EAST"), 3);
    // Something shipped and 8 − 2 = 6 still open.
    assert_eq!(t.so("SO-1").state_name(), "partially_shipped");
}

#[test]
fn shipping_with_an_unknown_carrier_service_or_a_reused_shipment_id_is_rejected() {
    let mut t = five_allocated();
    t.ok(pick("SO-1", "FC-EAST", &[(0, 5)]));
    t.ok(pack("SO-1", "FC-EAST", &[(0, 5)]));
    let mut command = ship("SO-1", "S-1", "FC-EAST", &[(0, 1)]);
    if let Command::ShipSalesOrder(c) = &mut command {
        c.carrier = id("FEDEX");
    }
    assert_eq!(
        t.reject(command),
        DomainError::NotFound {
            kind: DocumentKind::Carrier,
            id: "FEDEX".into(),
            field: "carrier".into(),
        }
    );
    let mut command = ship("SO-1", "S-1", "FC-EAST", &[(0, 1)]);
    if let Command::ShipSalesOrder(c) = &mut command {
        c.service = id("air");
    }
    assert_invalid(&t.reject(command), "service");
    let mut command = ship("SO-1", "S-1", "FC-EAST", &[(0, 1)]);
    if let Command::ShipSalesOrder(c) = &mut command {
        c.weight_g = -1;
    }
    assert_invalid(&t.reject(command), "weight_g");
    t.ok(ship("SO-1", "S-1", "FC-EAST", &[(0, 1)]));
    assert_eq!(
        t.reject(ship("SO-1", "S-1", "FC-EAST", &[(0, 1)])),
        DomainError::AlreadyExists {
            kind: DocumentKind::Shipment,
            id: "S-1".into(),
        }
    );
}

#[test]
fn shipping_moves_stock_to_the_customer_at_moving_average_cost_and_posts_cost_of_goods_sold() {
    let mut t = Tenant::new();
    // Two receipts at different prices: 10 × 5.00 = 50.00 and 6 × 6.35 = 38.10.
    // FC-EAST: 16 MUG worth 5000 + 3810 = 8810 minor (average 5.50625).
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.receive_stock("FC-EAST", "MUG", 6, 635);
    assert_eq!(t.balance("MUG", "FC-EAST").value_minor, 8810);
    place_allocated(&mut t, "SO-1", vec![line("MUG", 10, 1200, 0)]);

    let events = t.fulfil("SO-1", "S-1", "FC-EAST", &[(0, 3)]);
    // 3 of 16 at the average: 8810 × 3 / 16 = 1651.875 → 1652.
    assert_eq!(shipped_values(&events), vec![1652]);
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::CostOfGoodsSold, 1652, "USD".into()),
            (Account::Inventory, -1652, "USD".into()),
        ]
    );
    let moves = &events[0].effects().unwrap().moves;
    assert_eq!(moves.len(), 1);
    assert_eq!(moves[0].from, id("FC-EAST"));
    assert_eq!(moves[0].to, id("customer"));
    assert_eq!(moves[0].quantity, 3);
    assert_eq!(moves[0].value_minor, 1652);
    // FC-EAST: 16 − 3 = 13 units worth 8810 − 1652 = 7158; 10 − 3 = 7 still reserved.
    let east = t.balance("MUG", "FC-EAST");
    assert_eq!(
        (east.on_hand, east.value_minor, east.reserved),
        (13, 7158, 7)
    );
    let customer = t.balance("MUG", "customer");
    assert_eq!((customer.on_hand, customer.value_minor), (3, 1652));
    assert_eq!(t.usd_balance(Account::CostOfGoodsSold), 1652);
    assert_eq!(t.usd_balance(Account::Inventory), 7158);
    assert_eq!(t.so("SO-1").state_name(), "partially_shipped");

    // A third receipt between the shipments moves the average: 4 × 7.00 = 28.00.
    // FC-EAST: 13 + 4 = 17 units worth 7158 + 2800 = 9958.
    t.receive_stock("FC-EAST", "MUG", 4, 700);
    let events = t.fulfil("SO-1", "S-2", "FC-EAST", &[(0, 7)]);
    // 7 of 17: 9958 × 7 / 17 = 69706 / 17 = 4100.35… → 4100.
    assert_eq!(shipped_values(&events), vec![4100]);
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::CostOfGoodsSold, 4100, "USD".into()),
            (Account::Inventory, -4100, "USD".into()),
        ]
    );
    // COGS 1652 + 4100 = 5752. FC-EAST: 10 units worth 9958 − 4100 = 5858, which is also the
    // inventory account: 5000 + 3810 + 2800 − 5752 = 5858.
    assert_eq!(t.usd_balance(Account::CostOfGoodsSold), 5752);
    let east = t.balance("MUG", "FC-EAST");
    assert_eq!(
        (east.on_hand, east.value_minor, east.reserved),
        (10, 5858, 0)
    );
    assert_eq!(t.usd_balance(Account::Inventory), 5858);
    assert_eq!(t.so("SO-1").lines[0].shipped_value_minor, 5752);
    assert_eq!(t.so("SO-1").state_name(), "shipped");
}

#[test]
fn an_order_split_across_two_centers_ships_in_two_shipments() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 4, 500);
    t.receive_stock("FC-WEST", "MUG", 6, 550);
    place_allocated(&mut t, "SO-1", vec![line("MUG", 10, 1200, 0)]);
    // Split: 4 at FC-EAST, 6 at FC-WEST.
    let events = t.fulfil("SO-1", "S-1", "FC-EAST", &[(0, 4)]);
    // All 4 at FC-EAST: 4 × 5.00 = 2000.
    assert_eq!(shipped_values(&events), vec![2000]);
    assert_eq!(t.so("SO-1").state_name(), "partially_shipped");
    let events = t.fulfil("SO-1", "S-2", "FC-WEST", &[(0, 6)]);
    // All 6 at FC-WEST: 6 × 5.50 = 3300.
    assert_eq!(shipped_values(&events), vec![3300]);
    assert_eq!(t.so("SO-1").state_name(), "shipped");
    // COGS 2000 + 3300 = 5300; both centers empty and the inventory account at zero.
    assert_eq!(t.usd_balance(Account::CostOfGoodsSold), 5300);
    assert_eq!(t.usd_balance(Account::Inventory), 0);
    assert_eq!(t.balance("MUG", "customer").on_hand, 10);
    let order = t.so("SO-1");
    assert_eq!(order.shipments.len(), 2);
    assert_eq!(order.shipments[0].location, id("FC-EAST"));
    assert_eq!(order.shipments[1].location, id("FC-WEST"));
    assert_eq!(order.lines[0].shipped, 10);
    assert_eq!(order.lines[0].shipped_value_minor, 5300);

    t.ok(deliver("SO-1", "S-1"));
    // S-2 is still on its way.
    assert_eq!(t.so("SO-1").state_name(), "shipped");
    assert_eq!(t.so("SO-1").lines[0].delivered, 4);
    t.ok(deliver("SO-1", "S-2"));
    assert_eq!(t.so("SO-1").lines[0].delivered, 10);
    // Delivered in full but not invoiced.
    assert_eq!(t.so("SO-1").state_name(), "delivered");
}

#[test]
fn delivering_a_shipment_twice_is_an_illegal_transition() {
    let mut t = five_allocated();
    t.fulfil("SO-1", "S-1", "FC-EAST", &[(0, 2)]);
    let delivered_at: jiff::Timestamp = "2025-03-06T18:30:00Z".parse().unwrap();
    t.ok(Command::DeliverShipment(
        flowline_core::documents::sales_order::DeliverShipment {
            delivered_at: Some(delivered_at),
            ..match deliver("SO-1", "S-1") {
                Command::DeliverShipment(c) => c,
                _ => unreachable!(),
            }
        },
    ));
    assert_eq!(t.so("SO-1").shipments[0].delivered_at, Some(delivered_at));
    assert_eq!(
        t.reject(deliver("SO-1", "S-1")),
        illegal(DocumentKind::Shipment, "S-1", "delivered", "deliver")
    );
    assert_eq!(
        t.reject(deliver("SO-1", "S-9")),
        DomainError::NotFound {
            kind: DocumentKind::Shipment,
            id: "S-9".into(),
            field: "shipment".into(),
        }
    );
    assert_eq!(t.so("SO-1").lines[0].delivered, 2);
}

/// The fixture's clock starts 2025-03-03T14:00Z, so the shipment leaves that afternoon; a proof
/// of delivery dated 2025-03-01 is before the hand-over and is refused, appending nothing.
#[test]
fn a_delivery_dated_before_the_shipment_left_is_rejected() {
    let mut t = five_allocated();
    t.fulfil("SO-1", "S-1", "FC-EAST", &[(0, 2)]);
    let error = t.reject(Command::DeliverShipment(
        flowline_core::documents::sales_order::DeliverShipment {
            delivered_at: Some("2025-03-01T12:00:00Z".parse().unwrap()),
            ..match deliver("SO-1", "S-1") {
                Command::DeliverShipment(c) => c,
                _ => unreachable!(),
            }
        },
    ));
    assert_invalid(&error, "delivered_at");
    assert_eq!(t.so("SO-1").shipments[0].delivered_at, None);
}

// ---------------------------------------------------------------------------------------------
// Invoices, credit notes, payments
// ---------------------------------------------------------------------------------------------

#[test]
fn invoicing_posts_receivable_revenue_and_tax_with_the_shipping_charge_once() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.receive_stock("FC-EAST", "TEE", 10, 400);
    t.ok(so_place(
        flowline_core::documents::sales_order::PlaceSalesOrder {
            contact: None,
            allocate: Some(ShortagePolicy::Reject),
            shipping_charge_minor: 750,
            ..place(
                "SO-1",
                vec![line("MUG", 4, 1200, 96), line("TEE", 2, 2000, 160)],
            )
        },
    ));
    t.fulfil("SO-1", "S-1", "FC-EAST", &[(0, 4)]);
    let events = t.ok(invoice("SO-1", "INV-1"));
    // Net: 4 × 12.00 + 7.50 shipping = 55.50 = 5550; tax: 4 × 0.96 = 3.84 = 384.
    match &events[..] {
        [
            Event::SalesOrder(SalesOrderEvent::Invoiced {
                lines,
                net_minor,
                tax_minor,
                ..
            }),
        ] => {
            assert_eq!(lines, &vec![lq(0, 4)]);
            assert_eq!((*net_minor, *tax_minor), (5550, 384));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::Receivables, 5550, "USD".into()),
            (Account::Revenue, -5550, "USD".into()),
            (Account::Receivables, 384, "USD".into()),
            (Account::SalesTaxPayable, -384, "USD".into()),
        ]
    );
    assert!(t.so("SO-1").shipping_invoiced);

    t.fulfil("SO-1", "S-2", "FC-EAST", &[(1, 2)]);
    let events = t.ok(invoice("SO-1", "INV-2"));
    // Net: 2 × 20.00 = 4000 (no second shipping charge); tax: 2 × 1.60 = 320.
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::Receivables, 4000, "USD".into()),
            (Account::Revenue, -4000, "USD".into()),
            (Account::Receivables, 320, "USD".into()),
            (Account::SalesTaxPayable, -320, "USD".into()),
        ]
    );
    // Totals: receivable 5550 + 384 + 4000 + 320 = 10254 = the order's value
    // 4 × 12.96 + 2 × 21.60 + 7.50 = 51.84 + 43.20 + 7.50 = 102.54.
    assert_eq!(t.usd_balance(Account::Receivables), 10254);
    assert_eq!(t.usd_balance(Account::Revenue), -9550);
    assert_eq!(t.usd_balance(Account::SalesTaxPayable), -704);
    let order = t.so("SO-1");
    assert_eq!(order.invoiced_minor, 10254);
    assert_eq!(order.value_minor(), 10254);
    assert_eq!(order.lines[0].invoiced, 4);
    assert_eq!(order.lines[1].invoiced, 2);
}

#[test]
fn invoicing_with_nothing_shipped_and_uninvoiced_is_an_illegal_transition() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.ok(so_place(place("SO-1", vec![line("MUG", 2, 1200, 96)])));
    assert_eq!(
        t.reject(invoice("SO-1", "INV-1")),
        illegal(
            SO,
            "SO-1",
            "placed",
            "invoice (nothing shipped is uninvoiced)"
        )
    );
    t.ok(allocate("SO-1", ShortagePolicy::Reject));
    t.fulfil("SO-1", "S-1", "FC-EAST", &[(0, 2)]);
    t.ok(invoice("SO-1", "INV-1"));
    assert_eq!(
        t.reject(invoice("SO-1", "INV-2")),
        illegal(
            SO,
            "SO-1",
            "shipped",
            "invoice (nothing shipped is uninvoiced)"
        )
    );
    // 2 × 12.96 invoiced once.
    assert_eq!(t.usd_balance(Account::Receivables), 2592);
}

#[test]
fn a_credit_note_reduces_revenue_and_the_receivable_and_cannot_exceed_the_invoiced_amount() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    place_allocated(&mut t, "SO-1", vec![line("MUG", 2, 1200, 96)]);
    t.fulfil("SO-1", "S-1", "FC-EAST", &[(0, 2)]);
    t.ok(invoice("SO-1", "INV-1"));
    // Invoiced: 2 × 12.00 = 2400 net + 2 × 0.96 = 192 tax = 2592.
    assert_eq!(t.so("SO-1").invoiced_minor, 2592);
    let events = t.ok(credit_note("SO-1", "CN-1", usd(500)));
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::Revenue, 500, "USD".into()),
            (Account::Receivables, -500, "USD".into()),
        ]
    );
    // 2592 − 500 = 2092 invoiced; revenue −2400 + 500 = −1900.
    assert_eq!(t.so("SO-1").invoiced_minor, 2092);
    assert_eq!(t.usd_balance(Account::Receivables), 2092);
    assert_eq!(t.usd_balance(Account::Revenue), -1900);
    assert_eq!(
        t.reject(credit_note("SO-1", "CN-2", usd(2093))),
        DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: 2093,
            outstanding: 2092,
        }
    );
    assert_eq!(
        t.reject(credit_note("SO-1", "CN-2", eur(100))),
        DomainError::CurrencyMismatch {
            field: "amount".into(),
            expected: common::usd_currency(),
            actual: common::eur_currency(),
        }
    );
    assert_eq!(
        t.reject(credit_note("SO-1", "CN-2", usd(0))),
        DomainError::NonPositiveQuantity {
            field: "amount.amount_minor".into(),
            value: 0,
        }
    );
}

#[test]
fn a_payment_in_another_currency_is_rejected_as_a_currency_mismatch() {
    let mut t = Tenant::new();
    t.ok(so_place(place("SO-1", vec![line("MUG", 2, 1200, 96)])));
    assert_eq!(
        t.reject(pay("SO-1", "PAY-1", eur(2592))),
        DomainError::CurrencyMismatch {
            field: "amount".into(),
            expected: common::usd_currency(),
            actual: common::eur_currency(),
        }
    );
    assert_eq!(t.so("SO-1").paid_minor, 0);
    assert_eq!(t.usd_balance(Account::Cash), 0);
}

#[test]
fn paying_more_than_is_due_is_rejected_as_exceeding_the_outstanding_amount() {
    let mut t = Tenant::new();
    t.ok(so_place(
        flowline_core::documents::sales_order::PlaceSalesOrder {
            contact: None,
            shipping_charge_minor: 500,
            ..place("SO-1", vec![line("MUG", 2, 1200, 96)])
        },
    ));
    // Due before any invoice: the order's value 2 × (12.00 + 0.96) + 5.00 = 30.92 = 3092.
    assert_eq!(
        t.reject(pay("SO-1", "PAY-1", usd(3093))),
        DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: 3093,
            outstanding: 3092,
        }
    );
    let events = t.ok(pay("SO-1", "PAY-1", usd(2000)));
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::Cash, 2000, "USD".into()),
            (Account::Receivables, -2000, "USD".into()),
        ]
    );
    // 3092 − 2000 = 1092 still due.
    assert_eq!(
        t.reject(pay("SO-1", "PAY-2", usd(1093))),
        DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: 1093,
            outstanding: 1092,
        }
    );
    t.ok(pay("SO-1", "PAY-2", usd(1092)));
    assert_eq!(
        t.reject(pay("SO-1", "PAY-3", usd(1))),
        DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: 1,
            outstanding: 0,
        }
    );
    assert_eq!(
        t.reject(pay("SO-1", "PAY-3", usd(-5))),
        DomainError::NonPositiveQuantity {
            field: "amount.amount_minor".into(),
            value: -5,
        }
    );
    // A prepayment is a credit balance on receivables.
    assert_eq!(t.so("SO-1").paid_minor, 3092);
    assert_eq!(t.usd_balance(Account::Cash), 3092);
    assert_eq!(t.usd_balance(Account::Receivables), -3092);
}

#[test]
fn an_order_delivered_invoiced_and_paid_is_closed_and_refuses_every_further_change() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.ok(so_place(
        flowline_core::documents::sales_order::PlaceSalesOrder {
            contact: None,
            allocate: Some(ShortagePolicy::Reject),
            shipping_charge_minor: 500,
            ..place("SO-1", vec![line("MUG", 2, 1200, 96)])
        },
    ));
    t.fulfil("SO-1", "S-1", "FC-EAST", &[(0, 2)]);
    t.ok(deliver("SO-1", "S-1"));
    assert_eq!(t.so("SO-1").state_name(), "delivered");
    t.ok(invoice("SO-1", "INV-1"));
    assert_eq!(t.so("SO-1").state_name(), "delivered");
    // Invoiced: 2 × 12.00 + 5.00 = 29.00 net, 2 × 0.96 = 1.92 tax: 30.92 = 3092.
    t.ok(pay("SO-1", "PAY-1", usd(3092)));
    let order = t.so("SO-1");
    assert_eq!(order.state_name(), "closed");
    assert!(order.is_terminal());
    assert_eq!(t.usd_balance(Account::Receivables), 0);
    assert_eq!(t.usd_balance(Account::Cash), 3092);
    assert_eq!(t.usd_balance(Account::Revenue), -2900);
    assert_eq!(t.usd_balance(Account::SalesTaxPayable), -192);
    // 2 × 5.00 at cost.
    assert_eq!(t.usd_balance(Account::CostOfGoodsSold), 1000);

    let closed = |attempted| illegal(SO, "SO-1", "closed", attempted);
    assert_eq!(
        t.reject(cancel("SO-1", Initiator::Customer, None)),
        closed("cancel")
    );
    assert_eq!(
        t.reject(Command::AmendSalesOrder(amend_quantities(
            "SO-1",
            &[(0, 3)]
        ))),
        closed("amend")
    );
    assert_eq!(
        t.reject(allocate("SO-1", ShortagePolicy::Backorder)),
        closed("allocate")
    );
    assert_eq!(t.reject(pick("SO-1", "FC-EAST", &[(0, 1)])), closed("pick"));
    assert_eq!(t.reject(pack("SO-1", "FC-EAST", &[(0, 1)])), closed("pack"));
    assert_eq!(
        t.reject(ship("SO-1", "S-2", "FC-EAST", &[(0, 1)])),
        closed("ship")
    );
    assert_eq!(t.reject(hold("SO-1")), closed("hold"));
    assert_eq!(t.reject(release("SO-1")), closed("release"));
    assert_eq!(
        t.reject(deallocate("SO-1", 0, "FC-EAST", 1)),
        closed("deallocate")
    );
    assert_eq!(
        t.reject(invoice("SO-1", "INV-2")),
        closed("invoice (nothing shipped is uninvoiced)")
    );
    assert_eq!(
        t.reject(deliver("SO-1", "S-1")),
        illegal(DocumentKind::Shipment, "S-1", "delivered", "deliver")
    );
    assert_eq!(
        t.reject(pay("SO-1", "PAY-2", usd(1))),
        DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: 1,
            outstanding: 0,
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Cancellation and amendment
// ---------------------------------------------------------------------------------------------

#[test]
fn a_customer_cancelling_an_allocated_order_releases_every_reservation() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.receive_stock("FC-EAST", "TEE", 10, 400);
    place_allocated(
        &mut t,
        "SO-1",
        vec![line("MUG", 6, 1200, 0), line("TEE", 2, 2000, 0)],
    );
    t.ok(pick("SO-1", "FC-EAST", &[(0, 2)]));
    assert_eq!(t.reserved("MUG", "FC-EAST"), 6);
    let events = t.ok(cancel("SO-1", Initiator::Customer, None));
    match &events[..] {
        [Event::SalesOrder(SalesOrderEvent::Cancelled { lines, .. })] => {
            // Everything open: 6 MUG and 2 TEE.
            assert_eq!(lines, &vec![lq(0, 6), lq(1, 2)]);
        }
        other => panic!("{other:?}"),
    }
    // Reservations back to 0, picked units included; nothing moved.
    assert_eq!(t.reserved("MUG", "FC-EAST"), 0);
    assert_eq!(t.reserved("TEE", "FC-EAST"), 0);
    assert_eq!(t.balance("MUG", "FC-EAST").on_hand, 10);
    let order = t.so("SO-1");
    assert_eq!(order.state_name(), "cancelled");
    assert!(order.is_terminal());
    assert_eq!(order.lines[0].cancelled, 6);
    assert!(order.lines[0].allocations.is_empty());
    assert_eq!(order.value_minor(), 0);

    let cancelled = |attempted| illegal(SO, "SO-1", "cancelled", attempted);
    assert_eq!(
        t.reject(cancel("SO-1", Initiator::Seller, None)),
        cancelled("cancel")
    );
    assert_eq!(
        t.reject(allocate("SO-1", ShortagePolicy::Reject)),
        cancelled("allocate")
    );
    assert_eq!(
        t.reject(pick("SO-1", "FC-EAST", &[(0, 1)])),
        cancelled("pick")
    );
    assert_eq!(
        t.reject(Command::AmendSalesOrder(amend_quantities(
            "SO-1",
            &[(0, 7)]
        ))),
        cancelled("amend")
    );
    assert_eq!(t.reject(hold("SO-1")), cancelled("hold"));
}

#[test]
fn a_seller_cancelling_part_of_a_backordered_line_takes_the_unallocated_units_first() {
    let mut t = five_allocated();
    // 8 ordered: 5 allocated at FC-EAST, 3 backordered.
    let events = t.ok(cancel("SO-1", Initiator::Seller, Some(&[(0, 4)])));
    // Of the 4 cancelled, the 3 unallocated go first, then 4 − 3 = 1 reserved unit is released.
    let reservations = &events[0].effects().unwrap().reservations;
    assert_eq!(reservations.len(), 1);
    assert_eq!(reservations[0].quantity, -1);
    assert_eq!(t.reserved("MUG", "FC-EAST"), 4);
    let order = t.so("SO-1");
    assert_eq!(order.lines[0].cancelled, 4);
    assert_eq!(order.lines[0].allocated(), 4);
    // Open 8 − 4 = 4, all allocated: nothing waits for stock any more.
    assert_eq!(order.lines[0].backordered, 0);
    assert_eq!(order.state_name(), "allocated");
}

#[test]
fn cancelling_a_shipped_quantity_is_rejected_as_exceeding_what_is_open() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    place_allocated(&mut t, "SO-1", vec![line("MUG", 5, 1200, 0)]);
    t.fulfil("SO-1", "S-1", "FC-EAST", &[(0, 3)]);
    // 5 ordered, 3 shipped: 2 open.
    assert_eq!(
        t.reject(cancel("SO-1", Initiator::Customer, Some(&[(0, 3)]))),
        DomainError::ExceedsOutstanding {
            field: "lines[0].quantity".into(),
            requested: 3,
            outstanding: 2,
        }
    );
    assert_eq!(
        t.reject(cancel("SO-1", Initiator::Customer, Some(&[(0, 0)]))),
        DomainError::NonPositiveQuantity {
            field: "lines[0].quantity".into(),
            value: 0,
        }
    );
    assert_invalid(
        &t.reject(cancel("SO-1", Initiator::Customer, Some(&[(1, 1)]))),
        "lines[0].line",
    );
    let events = t.ok(cancel("SO-1", Initiator::Customer, None));
    match &events[..] {
        [Event::SalesOrder(SalesOrderEvent::Cancelled { lines, .. })] => {
            assert_eq!(lines, &vec![lq(0, 2)]);
        }
        other => panic!("{other:?}"),
    }
    // The 2 open units were reserved: released. 10 − 3 = 7 on hand, none reserved.
    assert_eq!(t.reserved("MUG", "FC-EAST"), 0);
    assert_eq!(t.balance("MUG", "FC-EAST").on_hand, 7);
    // Shipped 3, cancelled 2: nothing open, the shipment still on its way.
    assert_eq!(t.so("SO-1").state_name(), "shipped");
    assert_eq!(
        t.reject(cancel("SO-1", Initiator::Customer, None)),
        illegal(SO, "SO-1", "shipped", "cancel (nothing is open)")
    );
}

#[test]
fn amending_a_quantity_down_releases_the_excess_reservation() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    place_allocated(&mut t, "SO-1", vec![line("MUG", 6, 1200, 96)]);
    let events = t.ok(Command::AmendSalesOrder(amend_quantities(
        "SO-1",
        &[(0, 4)],
    )));
    // 6 allocated, 4 wanted: 2 released.
    let reservations = &events[0].effects().unwrap().reservations;
    assert_eq!(reservations.len(), 1);
    assert_eq!(reservations[0].quantity, -2);
    assert_eq!(t.reserved("MUG", "FC-EAST"), 4);
    let order = t.so("SO-1");
    assert_eq!(order.lines[0].line.quantity, 4);
    assert_eq!(order.lines[0].allocated(), 4);
    assert_eq!(order.state_name(), "allocated");
    // 4 × 12.96 = 51.84.
    assert_eq!(order.value_minor(), 5184);

    // Up to 7: nothing released, 3 wait for allocation.
    let events = t.ok(Command::AmendSalesOrder(amend_quantities(
        "SO-1",
        &[(0, 7)],
    )));
    assert!(events[0].effects().unwrap().reservations.is_empty());
    assert_eq!(t.reserved("MUG", "FC-EAST"), 4);
    assert_eq!(t.so("SO-1").lines[0].unallocated(), 3);
    assert_eq!(t.so("SO-1").state_name(), "partially_allocated");

    // Malformed amendments.
    assert_invalid(
        &t.reject(Command::AmendSalesOrder(amend_quantities("SO-1", &[]))),
        "set_quantities",
    );
    assert_invalid(
        &t.reject(Command::AmendSalesOrder(amend_quantities(
            "SO-1",
            &[(0, 5), (0, 6)],
        ))),
        "set_quantities[1].line",
    );
    assert_invalid(
        &t.reject(Command::AmendSalesOrder(amend_quantities(
            "SO-1",
            &[(0, -1)],
        ))),
        "set_quantities[0].quantity",
    );
    let error = t.reject(Command::AmendSalesOrder(AmendSalesOrder {
        add_lines: vec![line("NOPE", 1, 100, 0)],
        ..amend_quantities("SO-1", &[])
    }));
    assert_eq!(
        error,
        DomainError::NotFound {
            kind: DocumentKind::Item,
            id: "NOPE".into(),
            field: "add_lines[0].sku".into(),
        }
    );
    let mut bad_address = common::address("America/New_York");
    bad_address.country = "U".into();
    assert_invalid(
        &t.reject(Command::AmendSalesOrder(AmendSalesOrder {
            ship_to: Some(bad_address),
            ..amend_quantities("SO-1", &[])
        })),
        "ship_to.country",
    );
    t.ok(Command::AmendSalesOrder(AmendSalesOrder {
        add_lines: vec![line("TEE", 1, 2000, 160)],
        ..amend_quantities("SO-1", &[])
    }));
    assert_eq!(t.so("SO-1").lines.len(), 2);
}

#[test]
fn amending_a_quantity_below_what_has_shipped_is_rejected() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    place_allocated(&mut t, "SO-1", vec![line("MUG", 6, 1200, 0)]);
    t.fulfil("SO-1", "S-1", "FC-EAST", &[(0, 3)]);
    assert_invalid(
        &t.reject(Command::AmendSalesOrder(amend_quantities(
            "SO-1",
            &[(0, 2)],
        ))),
        "set_quantities[0].quantity",
    );
    assert_invalid(
        &t.reject(Command::AmendSalesOrder(amend_quantities(
            "SO-1",
            &[(0, 0)],
        ))),
        "set_quantities[0].quantity",
    );
    assert_eq!(
        t.reject(Command::AmendSalesOrder(AmendSalesOrder {
            ship_to: Some(common::address("America/Chicago")),
            ..amend_quantities("SO-1", &[])
        })),
        illegal(
            SO,
            "SO-1",
            "partially_shipped",
            "change the address of a shipped order"
        )
    );
    // Down to exactly what shipped: the 3 still reserved are released.
    t.ok(Command::AmendSalesOrder(amend_quantities(
        "SO-1",
        &[(0, 3)],
    )));
    assert_eq!(t.reserved("MUG", "FC-EAST"), 0);
    assert_eq!(t.so("SO-1").lines[0].open(), 0);
    assert_eq!(t.so("SO-1").state_name(), "shipped");
}

#[test]
fn a_prepayment_for_a_cancelled_order_is_refunded_in_full_and_no_more() {
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);
    t.ok(so_place(
        flowline_core::documents::sales_order::PlaceSalesOrder {
            contact: None,
            allocate: Some(ShortagePolicy::Reject),
            shipping_charge_minor: 500,
            ..place("SO-1", vec![line("MUG", 2, 1200, 96)])
        },
    ));
    // 2 × 12.96 + 5.00 = 30.92 prepaid.
    t.ok(pay("SO-1", "PAY-1", usd(3092)));
    t.ok(cancel("SO-1", Initiator::Customer, None));
    assert_eq!(t.so("SO-1").state_name(), "cancelled");
    assert_eq!(t.reserved("MUG", "FC-EAST"), 0);
    // Paid 3092, invoiced 0: 3092 refundable.
    assert_eq!(
        t.reject(refund("SO-1", "REF-1", usd(3093))),
        DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: 3093,
            outstanding: 3092,
        }
    );
    assert_eq!(
        t.reject(refund("SO-1", "REF-1", eur(3092))),
        DomainError::CurrencyMismatch {
            field: "amount".into(),
            expected: common::usd_currency(),
            actual: common::eur_currency(),
        }
    );
    let events = t.ok(refund("SO-1", "REF-1", usd(3092)));
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::Receivables, 3092, "USD".into()),
            (Account::Cash, -3092, "USD".into()),
        ]
    );
    assert_eq!(t.so("SO-1").paid_minor, 0);
    assert_eq!(t.usd_balance(Account::Cash), 0);
    assert_eq!(t.usd_balance(Account::Receivables), 0);
    assert_eq!(
        t.reject(refund("SO-1", "REF-2", usd(1))),
        DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: 1,
            outstanding: 0,
        }
    );
}

/// A log can be tampered with while keeping its checksums: an event naming a line the order
/// does not have is left out by `apply` (the order and ledgers unchanged) instead of panicking
/// a replay or `flowline check`.
#[test]
fn an_event_naming_a_line_the_order_lacks_changes_nothing_and_does_not_panic() {
    let mut t = five_allocated();
    let before = t.snapshot();
    let forged = flowline_core::Event::SalesOrder(
        flowline_core::documents::sales_order::SalesOrderEvent::Picked {
            order: id("SO-1"),
            location: id("FC-EAST"),
            lines: vec![lq(99, 1)],
            at: "2025-03-03T15:00:00Z".parse().unwrap(),
        },
    );
    flowline_core::apply(&mut t.state, &forged);
    assert_eq!(t.snapshot(), before);
}

/// The exceptions queue's rules at hand-picked instants. The tenant reports in New York
/// (UTC−5 in early March), so `today` is the New York date of `now`.
#[test]
fn an_open_order_needs_attention_for_its_most_urgent_reason_and_a_delivered_one_never() {
    use flowline_core::documents::sales_order::{Attention, Promise, PromiseSource};
    use jiff::Timestamp;
    use jiff::civil::Date;

    let at = |text: &str| -> Timestamp { text.parse().unwrap() };
    let date = |text: &str| -> Date { text.parse().unwrap() };
    let mut t = Tenant::new();
    t.receive_stock("FC-EAST", "MUG", 10, 500);

    // SO-P: promised for 2025-03-10, no ship-by. Placed 2025-03-05 12:00 UTC.
    t.run_at(
        so_place(flowline_core::documents::sales_order::PlaceSalesOrder {
            promise: Some(Promise {
                source: PromiseSource::ShownAtCheckout,
                deliver_by: Some(date("2025-03-10")),
                window: None,
                ship_by: None,
            }),
            ..place("SO-P", vec![line("MUG", 1, 1200, 0)])
        }),
        at("2025-03-05T12:00:00Z"),
    )
    .unwrap();
    let promised = t.so("SO-P").clone();
    // 2025-03-07: the promise is three days off and the order has one, so it is not stuck.
    assert_eq!(
        promised.attention(at("2025-03-07T12:00:00Z"), date("2025-03-07")),
        None
    );
    // 2025-03-09: tomorrow is the promised date and nothing has shipped: at risk.
    assert_eq!(
        promised.attention(at("2025-03-09T12:00:00Z"), date("2025-03-09")),
        Some(Attention::AtRisk)
    );
    // 2025-03-10 is still within the promise (deliver by the end of that day): at risk.
    assert_eq!(
        promised.attention(at("2025-03-10T12:00:00Z"), date("2025-03-10")),
        Some(Attention::AtRisk)
    );
    // 2025-03-11: the promised date has passed: late.
    assert_eq!(
        promised.attention(at("2025-03-11T12:00:00Z"), date("2025-03-11")),
        Some(Attention::Late)
    );

    // SO-N: no promise, placed 2025-03-05 12:00 UTC. Stuck once more than 3 × 86,400 s have
    // passed without a shipment: at 2025-03-08 12:00:00 exactly it has waited 3 days, not more.
    t.run_at(
        so_place(place("SO-N", vec![line("MUG", 1, 1200, 0)])),
        at("2025-03-05T12:00:00Z"),
    )
    .unwrap();
    let unpromised = t.so("SO-N").clone();
    assert_eq!(
        unpromised.attention(at("2025-03-08T12:00:00Z"), date("2025-03-08")),
        None
    );
    assert_eq!(
        unpromised.attention(at("2025-03-08T12:00:01Z"), date("2025-03-08")),
        Some(Attention::Stuck)
    );

    // SO-S: shipped at 2025-03-05 13:00 UTC and never delivered. Lost once more than
    // 14 × 86,400 s have passed: 2025-03-19 13:00:00 is exactly 14 days, 13:00:01 is past it.
    place_allocated(&mut t, "SO-S", vec![line("MUG", 1, 1200, 0)]);
    t.ok(pick("SO-S", "FC-EAST", &[(0, 1)]));
    t.ok(pack("SO-S", "FC-EAST", &[(0, 1)]));
    t.run_at(
        ship("SO-S", "S-1", "FC-EAST", &[(0, 1)]),
        at("2025-03-05T13:00:00Z"),
    )
    .unwrap();
    let shipped = t.so("SO-S").clone();
    assert_eq!(
        shipped.attention(at("2025-03-19T13:00:00Z"), date("2025-03-19")),
        None
    );
    assert_eq!(
        shipped.attention(at("2025-03-19T13:00:01Z"), date("2025-03-19")),
        Some(Attention::LostInTransit)
    );
    // Once delivered it needs nothing, however long it took.
    t.run_at(deliver("SO-S", "S-1"), at("2025-04-29T10:00:00Z"))
        .unwrap();
    let delivered = t.so("SO-S").clone();
    assert_eq!(delivered.state_name(), "delivered");
    assert_eq!(
        delivered.attention(at("2025-04-30T00:00:00Z"), date("2025-04-30")),
        None
    );
}

/// The tenant accounts in USD: an order in euros needs the rate it was sold at, named with
/// both currencies when it is missing; an order in dollars takes none.
#[test]
fn an_order_in_another_currency_needs_its_exchange_rate_and_one_in_the_base_currency_none() {
    use flowline_core::money::ExchangeRate;
    let mut t = Tenant::new();
    let euro_order = |rate: Option<i64>| {
        so_place(flowline_core::documents::sales_order::PlaceSalesOrder {
            currency: common::eur_currency(),
            exchange_rate: rate.map(|rate_micro| ExchangeRate { rate_micro }),
            ..place("SO-EU", vec![line("MUG", 1, 1000, 0)])
        })
    };
    let missing = t.reject(euro_order(None));
    assert_invalid(&missing, "exchange_rate");
    let message = missing.to_string();
    assert!(
        message.contains("EUR") && message.contains("USD"),
        "{message}"
    );
    for rate in [0, -1_100_000] {
        let refused = t.reject(euro_order(Some(rate)));
        assert!(
            matches!(&refused, DomainError::NonPositiveQuantity { field, .. } if field == "exchange_rate.rate_micro"),
            "{refused:?}"
        );
    }
    // 10^6 units at 10^6 cents is 10^12 EUR cents; at i64::MAX / 10^6 ≈ 9.2 × 10^12 USD per EUR
    // that is about 9.2 × 10^24 USD cents, far past i64: the whole order must convert.
    let huge = so_place(flowline_core::documents::sales_order::PlaceSalesOrder {
        currency: common::eur_currency(),
        exchange_rate: Some(ExchangeRate {
            rate_micro: i64::MAX,
        }),
        ..place("SO-EU", vec![line("MUG", 1_000_000, 1_000_000, 0)])
    });
    let overflowed = t.reject(huge);
    assert!(
        overflowed.to_string().contains("exchange_rate.rate_micro"),
        "{overflowed}"
    );
    t.ok(euro_order(Some(1_100_000)));
    assert_eq!(
        t.so("SO-EU").exchange_rate,
        Some(ExchangeRate {
            rate_micro: 1_100_000
        })
    );
    let dollars_with_rate = so_place(flowline_core::documents::sales_order::PlaceSalesOrder {
        exchange_rate: Some(ExchangeRate::ONE),
        ..place("SO-US", vec![line("MUG", 1, 1000, 0)])
    });
    assert_invalid(&t.reject(dollars_with_rate), "exchange_rate");
    t.ok(so_place(place("SO-US", vec![line("MUG", 1, 1000, 0)])));
    assert_eq!(t.so("SO-US").exchange_rate, None);
}
