//! A tenant driven through the real domain (`decide`, then `apply`), its events folded into a
//! [`NetworkHistory`] as they are recorded, and plans checked against figures worked by hand.
//!
//! The geometry is chosen so distances are easy by hand: every point is on the equator, where
//! one degree of longitude on a sphere of 6,371 km is 6,371 × π/180 = 111.194927 km. Center
//! `FC-EAST` stands at 0°, `FC-WEST` at 10° W, and the ship-tos of region `US-CA` at 9° W
//! (made-up coordinates for a made-up geography):
//!
//! - `FC-EAST` → `US-CA`: 9° = 1,000,754.34 m, rounded by `great_circle_metres` to 1,000,754 m
//!   = 1,000.754 km;
//! - `FC-WEST` → `US-CA`: 1° = 111,194.93 m → 111,195 m = 111.195 km.

use super::*;
use flowline_core::documents::finance::{CostType, PostCost, Settlement};
use flowline_core::documents::inventory::{AdjustLineInput, AdjustStock};
use flowline_core::documents::replenishment::{ApproveProposal, ProposalSource};
use flowline_core::documents::sales_order::{
    CancelSalesOrder, DeliverShipment, DeliveryCondition, Initiator, LineQuantity, OrderLineInput,
    PackSalesOrder, PickSalesOrder, PlaceSalesOrder, ShipSalesOrder, ShortagePolicy,
};
use flowline_core::master::{
    Bom, BomComponent, BomKind, CarrierService, TimeZoneName, TransportMode,
};
use flowline_core::money::Money;
use flowline_core::state::{ConfigureTenant, DefineCarrier, DefineItem, DefineLocation};
use flowline_core::{Command, Context, State, apply, decide};
use flowline_plan::placement::{Placement, Problem};

const EAST: &str = "FC-EAST";
const WEST: &str = "FC-WEST";
const START: &str = "2025-01-01T00:00:00Z";

fn id<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("a valid id in the test")
}

fn ts(text: &str) -> Timestamp {
    text.parse().expect("a valid time in the test")
}

fn usd(amount_minor: i64) -> Money {
    Money::new(amount_minor, Currency::parse("USD").expect("USD"))
}

fn on_equator(longitude_degrees: i32) -> Coordinates {
    Coordinates {
        latitude_microdegrees: 0,
        longitude_microdegrees: longitude_degrees * 1_000_000,
    }
}

fn address(country: &str, region: &str, coordinates: Option<Coordinates>) -> Address {
    Address {
        recipient: None,
        lines: vec![],
        city: String::new(),
        region: region.into(),
        postal_code: String::new(),
        country: country.into(),
        time_zone: TimeZoneName::parse("UTC").expect("UTC"),
        coordinates,
    }
}

/// A ship-to in `US-CA`, at 9° W on the equator.
fn west_customer() -> Address {
    address("US", "CA", Some(on_equator(-9)))
}

/// The tenant, its state and the network history of everything it recorded.
struct Tenant {
    state: State,
    network: NetworkHistory,
    events: Vec<(Position, Event)>,
}

impl Tenant {
    /// A USD tenant reporting in UTC with centers `FC-EAST` (0°) and `FC-WEST` (10° W), carrier
    /// `UPS`, items `MUG` and `LID` and bundle `GIFT` (2 `MUG` + 1 `LID`).
    fn new() -> Self {
        let mut tenant = Self {
            state: State::default(),
            network: NetworkHistory::new(),
            events: Vec::new(),
        };
        tenant.run(
            Command::ConfigureTenant(ConfigureTenant {
                business_time: None,
                base_currency: Currency::parse("USD").expect("USD"),
                reporting_time_zone: TimeZoneName::parse("UTC").expect("UTC"),
            }),
            START,
        );
        for (center, longitude) in [(EAST, 0), (WEST, -10)] {
            tenant.run(
                Command::DefineLocation(DefineLocation {
                    location: id(center),
                    name: center.into(),
                    region: "us".into(),
                    address: address("US", "", Some(on_equator(longitude))),
                    capacity_orders_per_day: None,
                }),
                START,
            );
        }
        tenant.run(
            Command::DefineCarrier(DefineCarrier {
                carrier: id("UPS"),
                name: "UPS".into(),
                services: vec![CarrierService {
                    code: id("ground"),
                    mode: TransportMode::Road,
                    transit_days: 2,
                }],
            }),
            START,
        );
        tenant.define("MUG", None);
        tenant.define("LID", None);
        tenant.define(
            "GIFT",
            Some(Bom {
                kind: BomKind::Bundle,
                components: vec![
                    BomComponent {
                        sku: id("MUG"),
                        quantity: 2,
                    },
                    BomComponent {
                        sku: id("LID"),
                        quantity: 1,
                    },
                ],
            }),
        );
        tenant
    }

    fn define(&mut self, sku: &str, bom: Option<Bom>) {
        self.run(
            Command::DefineItem(DefineItem {
                sku: id(sku),
                name: sku.into(),
                unit: "each".into(),
                unit_cost: usd(100),
                price: usd(1000),
                weight_g: 500,
                dimensions: None,
                hs_code: None,
                country_of_origin: None,
                category: None,
                bom,
            }),
            START,
        );
    }

    /// Decides `command` at `at`, applies its events to the state and the history; panics on
    /// a rejection (a test's own mistake).
    fn run(&mut self, command: Command, at: &str) {
        let time = ts(at);
        let events = match decide(&self.state, &command, &Context { at: time }) {
            Ok(events) => events,
            Err(error) => panic!("{command:?} rejected: {error}"),
        };
        for event in events {
            apply(&mut self.state, &event);
            let position = Position {
                seq: self.events.len() as u64 + 1,
                business_time: time,
                recorded_at: time,
            };
            self.network.apply(position, &event);
            self.events.push((position, event));
        }
    }

    fn stock(&mut self, sku: &str, center: &str, quantity: i64, at: &str) {
        let adjustment = format!("ADJ-{}", self.events.len());
        self.run(
            Command::AdjustStock(AdjustStock {
                adjustment: id(&adjustment),
                location: id(center),
                reason: id("opening_balance"),
                lines: vec![AdjustLineInput {
                    sku: id(sku),
                    quantity,
                    unit_cost_minor: Some(100),
                }],
            }),
            at,
        );
    }

    /// Places an order for `lines` (sku, units) to `ship_to`, allocating it when `allocate`.
    fn place(
        &mut self,
        order: &str,
        lines: &[(&str, i64)],
        ship_to: Address,
        allocate: bool,
        at: &str,
    ) {
        self.run(
            Command::PlaceSalesOrder(PlaceSalesOrder {
                contact: None,
                order: id(order),
                channel: id("web"),
                customer: id("C-1"),
                ship_to,
                currency: Currency::parse("USD").expect("USD"),
                exchange_rate: None,
                lines: lines
                    .iter()
                    .map(|(sku, quantity)| OrderLineInput {
                        sku: id(sku),
                        quantity: *quantity,
                        unit_price_minor: 1000,
                        unit_tax_minor: 0,
                    })
                    .collect(),
                promise: None,
                service_level: None,
                shipping_charge_minor: 0,
                allocate: allocate.then_some(ShortagePolicy::Backorder),
            }),
            at,
        );
    }

    /// Picks, packs and ships `units` of line 0 from `center` as `shipment`.
    fn ship(&mut self, order: &str, shipment: &str, center: &str, units: i64, at: &str) {
        let lines = vec![LineQuantity {
            line: 0,
            quantity: units,
        }];
        self.run(
            Command::PickSalesOrder(PickSalesOrder {
                order: id(order),
                location: id(center),
                lines: lines.clone(),
            }),
            at,
        );
        self.run(
            Command::PackSalesOrder(PackSalesOrder {
                order: id(order),
                location: id(center),
                lines: lines.clone(),
                package: None,
            }),
            at,
        );
        self.run(
            Command::ShipSalesOrder(ShipSalesOrder {
                order: id(order),
                shipment: id(shipment),
                location: id(center),
                carrier: id("UPS"),
                service: id("ground"),
                tracking: None,
                weight_g: 500,
                lines,
            }),
            at,
        );
    }

    fn deliver(&mut self, order: &str, shipment: &str, at: &str) {
        self.run(
            Command::DeliverShipment(DeliverShipment {
                order: id(order),
                shipment: id(shipment),
                delivered_at: Some(ts(at)),
                condition: DeliveryCondition::Intact,
                misdelivered: false,
                note: None,
            }),
            at,
        );
    }

    fn cost(&mut self, cost: &str, cost_type: CostType, amount: Money, at: &str) {
        self.run(
            Command::PostCost(PostCost {
                cost: id(cost),
                process: ScorProcess::Deliver,
                cost_type,
                amount,
                settlement: Settlement::Payable,
                reference: None,
                note: None,
            }),
            at,
        );
    }

    fn plan(&self, settings: &PlacementSettings) -> PlacementPlan {
        plan(&self.state, &self.network, settings).expect("a plan")
    }
}

/// Settings whose fallback and prior are easy by hand: a lane costs 1 + 0.01 per km and takes
/// 1 + km / 500 days.
fn settings() -> PlacementSettings {
    PlacementSettings {
        cost_per_unit: 1.0,
        cost_per_unit_km: 0.01,
        transit_days_base: 1.0,
        km_per_day: 500.0,
        days_weight: 0.1,
        ..PlacementSettings::default()
    }
}

fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
    (actual - expected).abs() <= tolerance
}

fn lane<'p>(plan: &'p PlacementPlan, center: &str, region: &str) -> &'p Lane {
    plan.lanes
        .iter()
        .find(|lane| lane.center.as_str() == center && lane.region == region)
        .expect("the lane")
}

fn target(placement: &Placement, sku: &str, center: &str) -> (u64, u64) {
    placement
        .targets
        .iter()
        .find(|t| t.sku == sku && t.center == center)
        .map(|t| (t.current, t.target))
        .expect("the target")
}

/// All 30 mugs at `FC-EAST`, 28 ordered from `US-CA` in four weekly orders of 7, none
/// allocated. The latest day is 2025-02-22; the 28-day window is 2025-01-26 to 2025-02-22.
fn west_demand_east_stock() -> Tenant {
    let mut tenant = Tenant::new();
    tenant.stock("MUG", EAST, 30, START);
    for (n, day) in ["01", "08", "15", "22"].iter().enumerate() {
        tenant.place(
            &format!("SO-{n}"),
            &[("MUG", 7)],
            west_customer(),
            false,
            &format!("2025-02-{day}T12:00:00Z"),
        );
    }
    tenant
}

#[test]
fn demand_only_in_the_west_moves_the_east_stock_west() {
    let tenant = west_demand_east_stock();
    let plan = tenant.plan(&settings());
    assert_eq!(plan.today, Some(jiff::civil::date(2025, 2, 23)));
    assert_eq!(plan.currency.map(|c| c.to_string()).as_deref(), Some("USD"));

    // One region, 28 units in the window; horizon = window = 28 days, so 28 expected. Its
    // point is the mean of four ship-tos at 9° W.
    assert_eq!(plan.regions.len(), 1);
    let region = &plan.regions[0];
    assert_eq!(region.region, "US-CA");
    assert_eq!(region.window_units, 28);
    assert!(close(region.horizon_units, 28.0, 1e-9));
    assert_eq!(region.point, Some(on_equator(-9)));
    assert_eq!(region.point_source, Some(PointSource::ShipTos { count: 4 }));

    // No carrier costs posted: the fallback. EAST: 1 + 0.01 × 1,000.754 = 11.00754 per unit,
    // 1 + 1,000.754 / 500 = 3.001508 days. WEST: 1 + 0.01 × 111.195 = 2.11195 per unit,
    // 1 + 111.195 / 500 = 1.22239 days.
    let east = lane(&plan, EAST, "US-CA");
    assert_eq!(east.distance_km, Some(1_000.754));
    assert!(close(east.cost_per_unit.expect("cost"), 11.00754, 1e-9));
    assert_eq!(east.cost_basis, Basis::Assumed);
    assert!(close(east.transit_days.expect("days"), 3.001508, 1e-9));
    assert_eq!(east.transit_basis, Basis::Assumed);
    let west = lane(&plan, WEST, "US-CA");
    assert_eq!(west.distance_km, Some(111.195));
    assert!(close(west.cost_per_unit.expect("cost"), 2.11195, 1e-9));
    assert!(close(west.transit_days.expect("days"), 1.22239, 1e-9));
    assert_eq!(
        plan.calibration.as_ref().and_then(|c| c.cost_per_unit_km),
        None
    );

    // The west lane is cheaper (2.11195 + 0.1 × 1.22239 against 11.00754 + 0.1 × 3.001508):
    // the 28 units demanded go west, the 2 beyond demand stay where they are.
    let placement = plan.placement.as_ref().expect("a placement");
    assert_eq!(target(placement, "MUG", EAST), (30, 2));
    assert_eq!(target(placement, "MUG", WEST), (0, 28));
    assert_eq!(placement.transfers.len(), 1);
    assert_eq!(placement.transfers[0].from, EAST);
    assert_eq!(placement.transfers[0].to, WEST);
    assert_eq!(placement.transfers[0].quantity, 28);
    // Before: 28 × 11.00754 = 308.21112, 3.001508 days. After: 28 × 2.11195 = 59.1346,
    // 1.22239 days.
    assert!(close(placement.before.expected_cost, 308.21112, 1e-6));
    assert!(close(placement.before.expected_days, 3.001508, 1e-9));
    assert!(close(placement.after.expected_cost, 59.1346, 1e-6));
    assert!(close(placement.after.expected_days, 1.22239, 1e-9));
    assert!(close(placement.after.units, 28.0, 1e-9));
    assert!(close(placement.after.unserved, 0.0, 1e-9));
}

#[test]
fn the_transfer_proposal_is_accepted_and_not_proposed_twice() {
    let mut tenant = west_demand_east_stock();
    let plan = tenant.plan(&settings());
    let commands = proposals(&plan, "PL-1");
    assert_eq!(commands.len(), 1);
    let Command::ProposeReplenishment(proposal) = &commands[0] else {
        panic!("a proposal, not {:?}", commands[0]);
    };
    assert_eq!(proposal.proposal.as_str(), "PL-1-1");
    assert_eq!(proposal.source, ProposalSource::Transfer { from: id(EAST) });
    assert_eq!(proposal.location.as_str(), WEST);
    assert_eq!(proposal.lines.len(), 1);
    assert_eq!(proposal.lines[0].sku.as_str(), "MUG");
    assert_eq!(proposal.lines[0].quantity, 28);
    assert_eq!(proposal.lines[0].unit_price_minor, 0);
    assert_eq!(proposal.lines[0].terms, None);
    assert_eq!(proposal.needed_by, plan.today);
    let rationale = proposal.rationale.as_deref().expect("a rationale");
    assert!(
        rationale.contains("costs 308.21 USD in shipping"),
        "{rationale}"
    );
    assert!(
        rationale.contains("MUG: FC-WEST 0 → 28, FC-EAST 30 → 2"),
        "{rationale}"
    );
    // The core records it.
    tenant.run(commands[0].clone(), "2025-02-23T08:00:00Z");
    assert_eq!(tenant.state.proposals.len(), 1);

    // Planning again while it waits proposes nothing for MUG.
    let again = tenant.plan(&settings());
    assert!(again.placement.is_none());
    assert_eq!(again.skipped.len(), 1);
    assert!(again.skipped[0].reason.contains("waiting for a decision"));
    // Approved, it becomes a transfer: 28 mugs reserved at FC-EAST, on their way to FC-WEST as
    // far as the plan goes. Planning again finds the stock where it should be: no transfer.
    tenant.run(
        Command::ApproveProposal(ApproveProposal {
            proposal: id("PL-1-1"),
            document: Some("TR-1".into()),
            exchange_rate: None,
            note: None,
        }),
        "2025-02-23T09:00:00Z",
    );
    assert_eq!(tenant.state.transfers.len(), 1);
    let again = tenant.plan(&settings());
    let placement = again.placement.as_ref().expect("a placement");
    assert_eq!(target(placement, "MUG", EAST), (2, 2));
    assert_eq!(target(placement, "MUG", WEST), (28, 28));
    assert!(placement.transfers.is_empty());
    assert!(proposals(&again, "PL-2").is_empty());
    // No transfers, no proposals.
    let mut nothing = plan.clone();
    nothing.placement = None;
    assert!(proposals(&nothing, "PL-2").is_empty());
}

#[test]
fn reserved_units_stay_and_other_stock_takes_its_room() {
    // As above, with 3 more mugs at FC-EAST reserved for an order placed on 2025-01-02 (before
    // the window, so not in the window's demand), and 5 lids at FC-WEST, which no one orders.
    let mut tenant = Tenant::new();
    tenant.stock("MUG", EAST, 33, START);
    tenant.stock("LID", WEST, 5, START);
    tenant.place(
        "SO-R",
        &[("MUG", 3)],
        west_customer(),
        true,
        "2025-01-02T12:00:00Z",
    );
    for (n, day) in ["01", "08", "15", "22"].iter().enumerate() {
        tenant.place(
            &format!("SO-{n}"),
            &[("MUG", 7)],
            west_customer(),
            false,
            &format!("2025-02-{day}T12:00:00Z"),
        );
    }
    // FC-WEST holds 25 units: 5 are lids the plan does not move, so 20 mugs fit.
    let mut with_capacity = settings();
    with_capacity.capacity_units.insert(id(WEST), 25);
    let plan = tenant.plan(&with_capacity);
    let placement = plan.placement.as_ref().expect("a placement");
    // 33 on hand − 3 reserved = 30 to place.
    assert_eq!(target(placement, "MUG", EAST), (30, 10));
    assert_eq!(target(placement, "MUG", WEST), (0, 20));
    // After: 20 × 2.11195 + 8 × 11.00754 = 42.239 + 88.06032 = 130.29932; days
    // (20 × 1.22239 + 8 × 3.001508) / 28 = 48.459864 / 28 = 1.730709.
    assert!(close(placement.after.expected_cost, 130.29932, 1e-6));
    assert!(close(placement.after.expected_days, 1.730709, 1e-6));
    // LID has no demand: not in the problem.
    assert!(placement.targets.iter().all(|t| t.sku == "MUG"));
}

#[test]
fn a_capacity_below_the_stock_is_an_error_naming_it() {
    let tenant = west_demand_east_stock();
    let mut tight = settings();
    tight.capacity_units.insert(id(EAST), 10);
    tight.capacity_units.insert(id(WEST), 10);
    let error = plan(&tenant.state, &tenant.network, &tight).expect_err("too small");
    match &error {
        NetworkError::Placement { what, .. } => assert_eq!(what, "capacity"),
        other => panic!("a placement error, not {other:?}"),
    }
    assert!(error.to_string().contains("capacity"), "{error}");
}

/// Mugs at FC-EAST shipped to US-CA: SO-A's 5 handed over on 2025-03-01 and delivered two days
/// later, SO-B's 5 handed over on 2025-03-02 and delivered three days later.
fn measured_lanes() -> Tenant {
    let mut tenant = Tenant::new();
    tenant.stock("MUG", EAST, 30, START);
    tenant.place(
        "SO-A",
        &[("MUG", 5)],
        west_customer(),
        true,
        "2025-02-28T12:00:00Z",
    );
    tenant.place(
        "SO-B",
        &[("MUG", 5)],
        west_customer(),
        true,
        "2025-02-28T13:00:00Z",
    );
    tenant.ship("SO-A", "SH-A", EAST, 5, "2025-03-01T00:00:00Z");
    tenant.deliver("SO-A", "SH-A", "2025-03-03T00:00:00Z");
    tenant
}

#[test]
fn measured_transit_replaces_the_prior_after_min_shipments() {
    let mut tenant = measured_lanes();
    let two = PlacementSettings {
        min_shipments: 2,
        ..settings()
    };
    // One delivery of two: the prior, 1 + 1,000.754 / 500 = 3.001508 days.
    let plan = tenant.plan(&two);
    let east = lane(&plan, EAST, "US-CA");
    assert_eq!(east.shipments, 1);
    assert_eq!(east.transit_basis, Basis::Assumed);
    assert!(close(east.transit_days.expect("days"), 3.001508, 1e-9));

    tenant.ship("SO-B", "SH-B", EAST, 5, "2025-03-02T00:00:00Z");
    tenant.deliver("SO-B", "SH-B", "2025-03-05T00:00:00Z");
    // Two deliveries, 2,880 and 4,320 minutes: mean 3,600 min = 2.5 days; variance
    // (2,880² + 4,320² − 2 × 3,600²) / 1 = 1,036,800 min², sd 1,018.23 min = 0.707107 days.
    let plan = tenant.plan(&two);
    let east = lane(&plan, EAST, "US-CA");
    assert_eq!(east.shipments, 2);
    assert_eq!(east.transit_basis, Basis::Measured);
    assert!(close(east.transit_days.expect("days"), 2.5, 1e-12));
    assert!(close(
        east.transit_sd_days.expect("sd"),
        0.5_f64.sqrt(),
        1e-9
    ));
    // The west lane has no deliveries: still the prior.
    let west = lane(&plan, WEST, "US-CA");
    assert_eq!(west.shipments, 0);
    assert_eq!(west.transit_basis, Basis::Assumed);
}

#[test]
fn the_carrier_cost_per_unit_km_is_measured_from_posted_costs() {
    let mut tenant = measured_lanes();
    tenant.ship("SO-B", "SH-B", EAST, 5, "2025-03-02T00:00:00Z");
    // Carrier costs posted to Deliver: 100.00 USD. A pick-and-pack cost and a carrier cost in
    // euros (no rate in the log) are left out.
    tenant.cost(
        "C-1",
        CostType::Carrier,
        usd(10_000),
        "2025-03-04T00:00:00Z",
    );
    tenant.cost(
        "C-2",
        CostType::PickPack,
        usd(5_000),
        "2025-03-04T00:00:00Z",
    );
    tenant.cost(
        "C-3",
        CostType::Carrier,
        Money::new(7_000, Currency::parse("EUR").expect("EUR")),
        "2025-03-04T00:00:00Z",
    );
    let plan = tenant.plan(&settings());
    // 10 units shipped 1,000,754 m each: 10,007,540 unit-metres = 10,007.54 unit-km.
    // 100 / 10,007.54 = 0.00999247 per unit-km.
    let calibration = plan.calibration.as_ref().expect("a calibration");
    assert!(close(calibration.carrier_cost, 100.0, 1e-12));
    assert!(close(calibration.unit_km, 10_007.54, 1e-9));
    assert!(close(
        calibration.cost_per_unit_km.expect("a rate"),
        100.0 / 10_007.54,
        1e-15
    ));
    assert_eq!(calibration.costs_left_out, 1);
    // FC-EAST → US-CA: 0.00999247 × 1,000.754 = 10.0000 per unit (the lane the costs were
    // measured on costs what was paid per unit); FC-WEST → US-CA: 100 × 111.195 / 10,007.54 =
    // 1.111112 per unit.
    let east = lane(&plan, EAST, "US-CA");
    assert_eq!(east.cost_basis, Basis::Measured);
    assert!(close(east.cost_per_unit.expect("cost"), 10.0, 1e-9));
    let west = lane(&plan, WEST, "US-CA");
    assert_eq!(west.cost_basis, Basis::Measured);
    assert!(close(west.cost_per_unit.expect("cost"), 1.111_112, 1e-6));
}

#[test]
fn delivered_shipments_and_finished_orders_leave_the_maps() {
    let mut tenant = Tenant::new();
    tenant.stock("MUG", EAST, 30, START);
    tenant.place(
        "SO-1",
        &[("MUG", 5)],
        west_customer(),
        true,
        "2025-02-01T00:00:00Z",
    );
    assert_eq!(tenant.network.open_orders(), 1);
    // A partial shipment: the order stays (2 units to ship), the shipment is in transit.
    tenant.ship("SO-1", "SH-1", EAST, 3, "2025-02-02T00:00:00Z");
    assert_eq!(tenant.network.open_orders(), 1);
    assert_eq!(tenant.network.shipments_in_transit(), 1);
    tenant.deliver("SO-1", "SH-1", "2025-02-03T00:00:00Z");
    assert_eq!(tenant.network.shipments_in_transit(), 0);
    // The rest ships: nothing left to ship, the order goes; its shipment carries the lane.
    tenant.ship("SO-1", "SH-2", EAST, 2, "2025-02-04T00:00:00Z");
    assert_eq!(tenant.network.open_orders(), 0);
    assert_eq!(tenant.network.shipments_in_transit(), 1);
    tenant.deliver("SO-1", "SH-2", "2025-02-05T00:00:00Z");
    assert_eq!(tenant.network.shipments_in_transit(), 0);
    assert_eq!(tenant.network.transit(&id(EAST), "US-CA").count, 2);

    // A cancelled order goes.
    tenant.place(
        "SO-2",
        &[("MUG", 4)],
        west_customer(),
        true,
        "2025-02-06T00:00:00Z",
    );
    assert_eq!(tenant.network.open_orders(), 1);
    tenant.run(
        Command::CancelSalesOrder(CancelSalesOrder {
            order: id("SO-2"),
            initiator: Initiator::Customer,
            reason: id("changed_mind"),
            lines: None,
        }),
        "2025-02-07T00:00:00Z",
    );
    assert_eq!(tenant.network.open_orders(), 0);

    // A shipment not delivered is given up once more than 90 days have passed since it left;
    // an order not shipped, once more than a year has passed since it was placed.
    tenant.place(
        "SO-3",
        &[("MUG", 2)],
        west_customer(),
        true,
        "2025-02-08T00:00:00Z",
    );
    tenant.ship("SO-3", "SH-3", EAST, 1, "2025-02-09T00:00:00Z");
    assert_eq!(tenant.network.shipments_in_transit(), 1);
    assert_eq!(tenant.network.open_orders(), 1);
    // A carrier charge moves the history's day on.
    tenant.cost("C-DAY-1", CostType::Carrier, usd(1), "2025-05-10T00:00:00Z");
    assert_eq!(
        tenant.network.shipments_in_transit(),
        1,
        "90 days in transit: kept"
    );
    // A carrier charge moves the history's day on.
    tenant.cost("C-DAY-2", CostType::Carrier, usd(1), "2025-05-11T00:00:00Z");
    assert_eq!(
        tenant.network.shipments_in_transit(),
        0,
        "91 days: given up"
    );
    // Delivered after all: not measured.
    tenant.deliver("SO-3", "SH-3", "2025-05-12T00:00:00Z");
    assert_eq!(tenant.network.transit(&id(EAST), "US-CA").count, 2);
    assert_eq!(tenant.network.open_orders(), 1);
    // A carrier charge moves the history's day on.
    tenant.cost("C-DAY-3", CostType::Carrier, usd(1), "2026-02-09T00:00:00Z");
    assert_eq!(tenant.network.open_orders(), 0);

    // Demand older than a year before the latest day is forgotten: the latest day is
    // 2026-02-09, so the first kept is 2025-02-09, and the orders of 2025-02-01 to -08 go.
    assert_eq!(tenant.network.first_demand_day(), None);
    tenant.place(
        "SO-4",
        &[("MUG", 1)],
        west_customer(),
        false,
        "2026-02-10T00:00:00Z",
    );
    assert_eq!(
        tenant.network.first_demand_day(),
        Some(jiff::civil::date(2026, 2, 10))
    );
    assert_eq!(tenant.network.demand_cells(), 1);
    assert_eq!(tenant.network.transit(&id(EAST), "US-CA").count, 0);
}

#[test]
fn bundles_count_as_components_and_regions_fall_back_to_centroids() {
    let mut tenant = Tenant::new();
    tenant.stock("MUG", EAST, 10, START);
    // 3 gifts to New Jersey, spelt ` us-nj ` without coordinates: 6 mugs and 3 lids in US-NJ.
    tenant.place(
        "SO-1",
        &[("GIFT", 3)],
        address("US", " us-nj ", None),
        false,
        "2025-02-01T00:00:00Z",
    );
    let day = jiff::civil::date(2025, 2, 1);
    let demand = tenant.network.demand(day, day);
    assert_eq!(
        demand.get(&id::<Sku>("MUG")).and_then(|r| r.get("US-NJ")),
        Some(&6)
    );
    assert_eq!(
        demand.get(&id::<Sku>("LID")).and_then(|r| r.get("US-NJ")),
        Some(&3)
    );
    assert!(!demand.contains_key(&id::<Sku>("GIFT")));
    // No coordinates: New Jersey's centroid (40.058324° N, 74.405661° W).
    assert_eq!(
        tenant.network.region_point("US-NJ"),
        Some((
            Coordinates {
                latitude_microdegrees: 40_058_324,
                longitude_microdegrees: -74_405_661,
            },
            PointSource::RegionCentroid
        ))
    );
    // LID has demand but no stock anywhere: skipped, with the reason.
    let plan = tenant.plan(&settings());
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.skipped[0].sku.as_str(), "LID");
    assert!(plan.skipped[0].reason.contains("no units available"));
    assert!(plan.placement.is_some());
}

#[test]
fn region_keys_are_country_and_region() {
    assert_eq!(
        region_key(&address("us", " nj ", None)).as_deref(),
        Some("US-NJ")
    );
    assert_eq!(
        region_key(&address("BR", "br-sp", None)).as_deref(),
        Some("BR-SP")
    );
    assert_eq!(region_key(&address("DE", "", None)).as_deref(), Some("DE"));
    assert_eq!(region_key(&address(" ", "X", None)), None);
}

#[test]
fn ship_to_points_average_across_the_antimeridian() {
    // 179° E and 179° W: the mean is on the antimeridian, not at 0°.
    let sum = [unit_vector(on_equator(179)), unit_vector(on_equator(-179))]
        .into_iter()
        .fold([0_i64; 3], |sum, v| {
            [sum[0] + v[0], sum[1] + v[1], sum[2] + v[2]]
        });
    let mean = mean_point(sum, 2).expect("a mean");
    assert_eq!(mean.latitude_microdegrees, 0);
    assert_eq!(mean.longitude_microdegrees.abs(), 180_000_000);
    // Opposite points have no mean.
    let opposite = [unit_vector(on_equator(0)), unit_vector(on_equator(180))];
    let sum = [
        opposite[0][0] + opposite[1][0],
        opposite[0][1] + opposite[1][1],
        opposite[0][2] + opposite[1][2],
    ];
    assert_eq!(mean_point(sum, 2), None);
}

#[test]
fn a_bad_setting_names_its_field() {
    let tenant = west_demand_east_stock();
    let field_of =
        |settings: PlacementSettings| match plan(&tenant.state, &tenant.network, &settings) {
            Err(NetworkError::Setting { field, .. }) => field,
            other => panic!("a setting error, not {other:?}"),
        };
    let base = settings();
    let cases: Vec<(PlacementSettings, &str)> = vec![
        (
            PlacementSettings {
                horizon_days: 0,
                ..base.clone()
            },
            "horizon_days",
        ),
        (
            PlacementSettings {
                window_days: 366,
                ..base.clone()
            },
            "window_days",
        ),
        (
            PlacementSettings {
                calibration_days: 0,
                ..base.clone()
            },
            "calibration_days",
        ),
        (
            PlacementSettings {
                days_weight: f64::NAN,
                ..base.clone()
            },
            "days_weight",
        ),
        (
            PlacementSettings {
                cost_per_unit: -1.0,
                ..base.clone()
            },
            "cost_per_unit",
        ),
        (
            PlacementSettings {
                cost_per_unit_km: f64::INFINITY,
                ..base.clone()
            },
            "cost_per_unit_km",
        ),
        (
            PlacementSettings {
                transit_days_base: 400.0,
                ..base.clone()
            },
            "transit_days_base",
        ),
        (
            PlacementSettings {
                km_per_day: 0.0,
                ..base.clone()
            },
            "km_per_day",
        ),
        (
            PlacementSettings {
                min_shipments: 0,
                ..base.clone()
            },
            "min_shipments",
        ),
        (
            PlacementSettings {
                only: Some(vec![]),
                ..base.clone()
            },
            "only",
        ),
        (
            PlacementSettings {
                only: Some(vec![id("MUG"), id("GIFT")]),
                ..base.clone()
            },
            "only[1]",
        ),
        (
            PlacementSettings {
                only: Some(vec![id("NOPE")]),
                ..base.clone()
            },
            "only[0]",
        ),
        (
            PlacementSettings {
                capacity_units: [(id::<LocationId>("FC-NOWHERE"), 5)].into(),
                ..base.clone()
            },
            "capacity_units.FC-NOWHERE",
        ),
    ];
    for (settings, field) in cases {
        assert_eq!(field_of(settings), field);
    }
    assert!(PlacementSettings::default().check().is_ok());
    // Unknown fields are refused when settings are read.
    assert!(serde_json::from_str::<PlacementSettings>(r#"{"horizon": 7}"#).is_err());
    let read: PlacementSettings = serde_json::from_str(r#"{"horizon_days": 7}"#).expect("settings");
    assert_eq!(read.horizon_days, 7);
    assert_eq!(read.window_days, 28);
}

#[test]
fn only_limits_the_items_and_reports_those_without_demand() {
    let mut tenant = west_demand_east_stock();
    tenant.stock("LID", EAST, 4, "2025-02-22T13:00:00Z");
    let plan = tenant.plan(&PlacementSettings {
        only: Some(vec![id("LID")]),
        ..settings()
    });
    assert!(plan.placement.is_none());
    assert_eq!(plan.skipped.len(), 1);
    assert!(
        plan.skipped[0]
            .reason
            .contains("no demand in the last 28 days")
    );
}

#[test]
fn the_history_round_trips_and_resumes_from_any_snapshot() {
    let mut tenant = measured_lanes();
    tenant.ship("SO-B", "SH-B", EAST, 5, "2025-03-02T00:00:00Z");
    tenant.cost(
        "C-1",
        CostType::Carrier,
        usd(10_000),
        "2025-03-04T00:00:00Z",
    );
    tenant.place(
        "SO-C",
        &[("GIFT", 1)],
        address("US", "NJ", None),
        false,
        "2025-03-05T00:00:00Z",
    );
    let whole = &tenant.network;
    let bytes = whole.encode().expect("encoded");
    let decoded = NetworkHistory::decode(&bytes).expect("decoded");
    assert_eq!(&decoded, whole);
    // Restoring a snapshot taken after any event and applying the rest gives the same state.
    for cut in 0..=tenant.events.len() {
        let mut first = NetworkHistory::new();
        for (position, event) in &tenant.events[..cut] {
            first.apply(*position, event);
        }
        let mut resumed =
            NetworkHistory::decode(&first.encode().expect("encoded")).expect("decoded");
        for (position, event) in &tenant.events[cut..] {
            resumed.apply(*position, event);
        }
        assert_eq!(&resumed, whole, "cut after {cut} events");
    }
    // A foreign snapshot is refused, not misread.
    assert!(NetworkHistory::decode(b"{\"demand\": 3}").is_err());
}

#[test]
fn nothing_to_place_is_an_empty_plan_not_an_error() {
    let tenant = Tenant::new();
    let plan = tenant.plan(&settings());
    assert!(plan.placement.is_none());
    assert!(plan.regions.is_empty());
    assert!(proposals(&plan, "PL").is_empty());
    let empty = NetworkHistory::new();
    let plan = plan_of_empty(&tenant.state, &empty);
    assert_eq!(plan.today, None);
}

fn plan_of_empty(state: &State, network: &NetworkHistory) -> PlacementPlan {
    plan(state, network, &PlacementSettings::default()).expect("a plan")
}

#[test]
fn placement_errors_name_centers_regions_and_items() {
    let problem = Problem {
        skus: vec!["MUG".into()],
        centers: vec![EAST.into(), WEST.into()],
        regions: vec!["US-CA".into()],
        demand: vec![vec![1.0]],
        capacity: vec![u64::MAX, u64::MAX],
        cost: vec![vec![1.0], vec![-1.0]],
        days: vec![vec![1.0], vec![1.0]],
        days_weight: 0.0,
        current: vec![vec![1, 0]],
    };
    let error = flowline_plan::placement::place(&problem).expect_err("a negative cost");
    assert_eq!(plan::what_of(&error, &problem), "cost[FC-WEST][US-CA]");
    assert_eq!(
        plan::named("current[0][1]", &problem),
        "current[MUG][FC-WEST]"
    );
    assert_eq!(plan::named("days_weight", &problem), "days_weight");
    assert_eq!(plan::named("capacity[7]", &problem), "capacity[7]");
}
