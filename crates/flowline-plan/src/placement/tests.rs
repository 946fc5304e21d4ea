//! Placements worked by hand.

use super::network::Network;
use super::*;

/// Asserts `actual` is within 10⁻⁶ of `expected`, relative to `expected` (absolute below 1).
fn assert_close(actual: f64, expected: f64) {
    let error = (actual - expected).abs();
    assert!(
        error <= 1e-6 * expected.abs().max(1.0),
        "{actual} differs from {expected} by {error:e}"
    );
}

/// Asserts the figures are those given.
fn assert_figures(figures: &Figures, cost: f64, days: f64, units: f64, unserved: f64) {
    assert_close(figures.expected_cost, cost);
    assert_close(figures.expected_days, days);
    assert_close(figures.units, units);
    assert_close(figures.unserved, unserved);
}

/// The targets' `(current, target)` pairs in order.
fn pairs(placement: &Placement) -> Vec<(u64, u64)> {
    let pairs = placement.targets.iter();
    pairs
        .map(|target| (target.current, target.target))
        .collect()
}

/// A transfer of `quantity` units of `sku`.
fn transfer(sku: &str, from: &str, to: &str, quantity: u64) -> Move {
    let name = |name: &str| name.to_owned();
    Move {
        sku: name(sku),
        from: name(from),
        to: name(to),
        quantity,
    }
}

/// Names `prefix0`, `prefix1`, ...
fn names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|index| format!("{prefix}{index}")).collect()
}

/// Two centers and two regions, both called east and west. Shipping within a coast costs 1 a
/// unit in the east and 2 in the west and takes 1 day; across the country it costs 5 eastward
/// to the west, 6 westward to the east, and takes 4 days. With `days_weight` 0.5 the lanes weigh
/// east→east 1 + 0.5 = 1.5, east→west 5 + 2 = 7, west→east 6 + 2 = 8, west→west 2 + 0.5 = 2.5.
fn coasts(demand: Vec<Vec<f64>>, capacity: [u64; 2], current: Vec<Vec<u64>>) -> Problem {
    let coasts = vec!["east".to_owned(), "west".to_owned()];
    Problem {
        skus: names("sku", demand.len()),
        centers: coasts.clone(),
        regions: coasts,
        demand,
        capacity: capacity.to_vec(),
        cost: vec![vec![1.0, 5.0], vec![6.0, 2.0]],
        days: vec![vec![1.0, 4.0], vec![4.0, 1.0]],
        days_weight: 0.5,
        current,
    }
}

#[test]
fn without_capacity_limits_each_region_is_served_from_its_cheaper_center() {
    // 30 units demanded in the east and 70 in the west, all 100 units in the east today.
    // Before: east from east (30 × 1) and west from east (70 × 5): cost 380, days
    // (30 × 1 + 70 × 4)/100 = 3.1. After: east from east (weight 1.5 < 8), west from west
    // (2.5 < 7): hold 30 and 70, cost 30 × 1 + 70 × 2 = 170, days 1; move 70 west.
    let problem = coasts(vec![vec![30.0, 70.0]], [u64::MAX; 2], vec![vec![100, 0]]);
    let placement = place(&problem).unwrap();
    assert_eq!(pairs(&placement), [(100, 30), (0, 70)]);
    assert_figures(&placement.before, 380.0, 3.1, 100.0, 0.0);
    assert_figures(&placement.after, 170.0, 1.0, 100.0, 0.0);
    assert_eq!(placement.transfers, [transfer("sku0", "east", "west", 70)]);
    assert_eq!(placement.targets[1].sku, "sku0");
    assert_eq!(placement.targets[1].center, "west");
}

#[test]
fn a_full_center_sends_some_of_its_region_to_the_other_center() {
    // East holds at most 100, west 60; 50 demanded in the east, 100 in the west; 100 units in
    // the east and 50 in the west today. Keeping a unit of the east's demand at home saves
    // 8 − 1.5 = 6.5 and a unit of the west's 7 − 2.5 = 4.5, both coasts' own demand first: the
    // west holds its capacity, 60 for its own region, and the east its 50 plus the west's other
    // 40. Weighted 50 × 1.5 + 40 × 7 + 60 × 2.5 = 505; cost 50 + 200 + 120 = 370; days
    // (50 + 160 + 60)/150 = 1.8. Before, the west's 50 units serve the west and the east's
    // 100 serve the east's 50 and the west's other 50: weighted 75 + 350 + 125 = 550 > 505,
    // cost 50 + 250 + 100 = 400, days (50 + 200 + 50)/150 = 2. Move 10 west.
    let problem = coasts(vec![vec![50.0, 100.0]], [100, 60], vec![vec![100, 50]]);
    let placement = place(&problem).unwrap();
    assert_eq!(pairs(&placement), [(100, 90), (50, 60)]);
    assert_figures(&placement.before, 400.0, 2.0, 150.0, 0.0);
    assert_figures(&placement.after, 370.0, 1.8, 150.0, 0.0);
    assert_eq!(placement.transfers, [transfer("sku0", "east", "west", 10)]);
}

#[test]
fn a_short_sku_serves_the_same_share_of_every_region() {
    // 60 demanded in the east and 90 in the west, 50 units on each coast: 100 of 150, so
    // two thirds of each region, 40 and 60. After: each coast serves itself, cost
    // 40 + 120 = 160, days 1. Before: the west's 50 serve the west, the east's 50 serve the
    // east's 40 and the west's other 10: cost 40 + 50 + 100 = 190, days
    // (40 + 40 + 50)/100 = 1.3. Either way 50 units are not served. Move 10 west.
    let problem = coasts(vec![vec![60.0, 90.0]], [u64::MAX; 2], vec![vec![50, 50]]);
    let placement = place(&problem).unwrap();
    assert_eq!(pairs(&placement), [(50, 40), (50, 60)]);
    assert_figures(&placement.before, 190.0, 1.3, 100.0, 50.0);
    assert_figures(&placement.after, 160.0, 1.0, 100.0, 50.0);
    assert_eq!(placement.transfers, [transfer("sku0", "east", "west", 10)]);
}

#[test]
fn stock_beyond_demand_stays_where_it_is() {
    // 10 demanded on each coast, 40 units in the east and 20 in the west. The west needs 10
    // of its own; the other 40 are beyond demand and stay: the east keeps 30 (10 for its
    // region, 20 extra), the west keeps 20 (10 + 10). Nothing moves, and both figures are
    // cost 10 + 20 = 30, days 1.
    let problem = coasts(vec![vec![10.0, 10.0]], [u64::MAX; 2], vec![vec![40, 20]]);
    let placement = place(&problem).unwrap();
    assert_eq!(pairs(&placement), [(40, 40), (20, 20)]);
    assert_figures(&placement.before, 30.0, 1.0, 20.0, 0.0);
    assert_figures(&placement.after, 30.0, 1.0, 20.0, 0.0);
    assert!(placement.transfers.is_empty());
}

#[test]
fn each_sku_keeps_its_own_units_when_lanes_can_carry_either() {
    // Two SKUs each demanded 10 in the west; sku0's 10 units are in the west, sku1's in the
    // east. The west holds at most 10, so the west lane carries 10 units and the east lane the
    // other 10, whichever SKU they are. The split fills each lane with the SKU its center holds
    // now, so the plan is today's placement and nothing moves.
    let problem = coasts(
        vec![vec![0.0, 10.0], vec![0.0, 10.0]],
        [u64::MAX, 10],
        vec![vec![0, 10], vec![10, 0]],
    );
    let placement = place(&problem).unwrap();
    assert_eq!(pairs(&placement), [(0, 0), (10, 10), (10, 10), (0, 0)]);
    assert!(placement.transfers.is_empty());
    // West serves 10 at 2, east the other 10 at 5: cost 70, days (10 + 40)/20 = 2.5.
    assert_figures(&placement.after, 70.0, 2.5, 20.0, 0.0);
}

/// Three centers each serving its own region at 1 a unit and the others at 5, 1 day everywhere,
/// cost alone minimised; `current` units of one SKU.
fn triangle(demand: Vec<f64>, capacity: Vec<u64>, current: Vec<u64>) -> Problem {
    let cost = |own: usize| (0..3).map(move |other| if own == other { 1.0 } else { 5.0 });
    Problem {
        skus: names("sku", 1),
        centers: names("center", 3),
        regions: names("region", 3),
        demand: vec![demand],
        capacity,
        cost: (0..3).map(|own| cost(own).collect()).collect(),
        days: vec![vec![1.0; 3]; 3],
        days_weight: 0.0,
        current: vec![current],
    }
}

#[test]
fn rounding_keeps_each_skus_total() {
    // 10/3 demanded in each region, all 10 units at center0: the plan holds 3⅓ at each center.
    // Floors 3 + 3 + 3 leave 1 unit, whose remainders tie at ⅓: it goes to center0, which holds
    // the SKU now. After: center1 and center2 hold 3 of their regions' 3⅓, center0 serves its
    // own 3⅓ and the other two's ⅓ each: 3⅓ × 1 + 3 × 1 + 3 × 1 + ⅔ × 5 = 12⅔, days 1 (whole
    // units cannot match a fractional demand). Before: center0 serves all,
    // 3⅓ × 1 + 6⅔ × 5 = 36⅔. Move 3 to each of the others.
    let third = 10.0 / 3.0;
    let problem = triangle(vec![third; 3], vec![u64::MAX; 3], vec![10, 0, 0]);
    let placement = place(&problem).unwrap();
    assert_eq!(pairs(&placement), [(10, 4), (0, 3), (0, 3)]);
    let total: u64 = placement.targets.iter().map(|target| target.target).sum();
    assert_eq!(total, 10);
    assert_figures(&placement.before, 110.0 / 3.0, 1.0, 10.0, 0.0);
    assert_figures(&placement.after, 38.0 / 3.0, 1.0, 10.0, 0.0);
    assert_eq!(
        placement.transfers,
        [
            transfer("sku0", "center0", "center1", 3),
            transfer("sku0", "center0", "center2", 3),
        ]
    );
}

#[test]
fn rounding_respects_capacity_across_skus() {
    // Two SKUs each holding 0.6 at east and 0.4 at west, one unit of each, room for one unit
    // on each coast. Each SKU's largest remainder is in the east, so rounding each alone would
    // put two units there. Remainders in order: sku0 east (0.6, holds it now), sku1 east (0.6),
    // sku1 west (0.4, holds it now), sku0 west (0.4): sku0 takes the east's unit, sku1 finds it
    // full and takes the west's.
    let problem = coasts(
        vec![vec![0.0, 0.0], vec![0.0, 0.0]],
        [1, 1],
        vec![vec![1, 0], vec![0, 1]],
    );
    let network = Network::new(&problem).unwrap();
    let units = round::to_units(&network, &[0.6, 0.4, 0.6, 0.4]).unwrap();
    assert_eq!(units, [1, 0, 0, 1]);
}

#[test]
fn a_unit_no_remainder_can_take_goes_to_a_center_with_room() {
    // Three SKUs of one unit each, half at center0 and half at center1, each center with room
    // for one. sku0 takes center0 (first remainder), sku1 center1, and sku2 finds both full: its
    // unit goes to center2, where it is now.
    let mut problem = triangle(vec![0.0; 3], vec![1; 3], vec![0, 0, 0]);
    problem.skus = names("sku", 3);
    problem.demand = vec![vec![0.0; 3]; 3];
    problem.current = vec![vec![1, 0, 0], vec![0, 1, 0], vec![0, 0, 1]];
    let network = Network::new(&problem).unwrap();
    let hold = [0.5, 0.5, 0.0, 0.5, 0.5, 0.0, 0.5, 0.5, 0.0];
    let units = round::to_units(&network, &hold).unwrap();
    assert_eq!(units, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
}

#[test]
fn todays_placement_is_kept_when_the_plan_is_no_better() {
    // Both coasts serve both regions at the same weight: every placement costs the same, so
    // nothing moves, even though the plan's own split would differ from today's.
    let mut problem = coasts(vec![vec![30.0, 70.0]], [u64::MAX; 2], vec![vec![0, 100]]);
    problem.cost = vec![vec![3.0, 3.0], vec![3.0, 3.0]];
    problem.days = vec![vec![2.0, 2.0], vec![2.0, 2.0]];
    let placement = place(&problem).unwrap();
    assert_eq!(pairs(&placement), [(0, 0), (100, 100)]);
    assert!(placement.transfers.is_empty());
    assert_eq!(placement.before, placement.after);
    assert_figures(&placement.after, 300.0, 2.0, 100.0, 0.0);
}

#[test]
fn a_region_no_center_reaches_is_reported_unserved() {
    // No lane reaches the west: its 70 units are unserved before and after; the east's 30 are
    // served from the east at 1, and the 100 units stay there.
    let mut problem = coasts(vec![vec![30.0, 70.0]], [u64::MAX; 2], vec![vec![100, 0]]);
    problem.cost[0][1] = f64::INFINITY;
    problem.cost[1][1] = f64::INFINITY;
    problem.days[1][1] = f64::INFINITY;
    let placement = place(&problem).unwrap();
    assert_figures(&placement.before, 30.0, 1.0, 30.0, 70.0);
    assert_figures(&placement.after, 30.0, 1.0, 30.0, 70.0);
    assert!(placement.transfers.is_empty());
}

#[test]
fn a_region_its_centers_cannot_hold_is_served_as_far_as_they_can() {
    // Only the west reaches the west, and it holds at most 60 of the 100 demanded there: 60 are
    // served (at 2), 40 are not, and the east keeps the other 90 of today's 150. Before, the
    // west's 50 serve 50 of the west's demand: 10 units fewer are served.
    let mut problem = coasts(vec![vec![50.0, 100.0]], [u64::MAX, 60], vec![vec![100, 50]]);
    problem.cost[0][1] = f64::INFINITY;
    let placement = place(&problem).unwrap();
    assert_eq!(pairs(&placement), [(100, 90), (50, 60)]);
    assert_figures(&placement.before, 50.0 + 100.0, 1.0, 100.0, 50.0);
    assert_figures(&placement.after, 50.0 + 120.0, 1.0, 110.0, 40.0);
}

#[test]
fn an_empty_problem_has_an_empty_placement() {
    let problem = Problem {
        skus: vec![],
        centers: vec![],
        regions: vec![],
        demand: vec![],
        capacity: vec![],
        cost: vec![],
        days: vec![],
        days_weight: 0.0,
        current: vec![],
    };
    let placement = place(&problem).unwrap();
    assert!(placement.targets.is_empty());
    assert!(placement.transfers.is_empty());
    assert_figures(&placement.after, 0.0, 0.0, 0.0, 0.0);
}

/// The error `place` answers for `problem` changed by `change`.
fn error_of(change: impl FnOnce(&mut Problem)) -> PlacementError {
    let mut problem = coasts(
        vec![vec![30.0, 70.0], vec![5.0, 5.0]],
        [100, 100],
        vec![vec![100, 0], vec![5, 5]],
    );
    change(&mut problem);
    place(&problem).unwrap_err()
}

/// The field an error names.
fn field(error: &PlacementError) -> &str {
    match error {
        PlacementError::WrongLength { field, .. }
        | PlacementError::OutOfRange { field, .. }
        | PlacementError::InvalidName { field, .. } => field,
        PlacementError::LimitExceeded { field, .. } => field,
        PlacementError::InsufficientCapacity { .. } => "capacity",
        _ => "",
    }
}

/// A change that makes a valid problem invalid.
type Change = fn(&mut Problem);

#[test]
fn every_error_names_its_field() {
    let cases: Vec<(&str, Change)> = vec![
        ("skus[1]", |p| p.skus[1] = "sku0".to_owned()),
        ("centers[0]", |p| p.centers[0] = " ".to_owned()),
        ("regions[1]", |p| p.regions[1] = "east".to_owned()),
        ("demand", |p| p.demand.truncate(1)),
        ("demand[1]", |p| p.demand[1].push(1.0)),
        ("capacity", |p| p.capacity.push(1)),
        ("cost", |p| p.cost.truncate(1)),
        ("cost[1]", |p| p.cost[1].truncate(1)),
        ("days[0]", |p| p.days[0].push(1.0)),
        ("current", |p| p.current.push(vec![0, 0])),
        ("current[1]", |p| p.current[1].push(0)),
        ("demand[1][0]", |p| p.demand[1][0] = -1.0),
        ("demand[0][1]", |p| p.demand[0][1] = f64::NAN),
        ("demand[0][0]", |p| p.demand[0][0] = f64::INFINITY),
        ("demand[0][0]", |p| p.demand[0][0] = 2e12),
        ("cost[1][0]", |p| p.cost[1][0] = f64::NAN),
        ("cost[0][1]", |p| p.cost[0][1] = -0.5),
        ("cost[0][1]", |p| p.cost[0][1] = f64::NEG_INFINITY),
        ("days[1][1]", |p| p.days[1][1] = -1.0),
        ("days[0][0]", |p| p.days[0][0] = f64::INFINITY),
        ("days_weight", |p| p.days_weight = f64::NAN),
        ("capacity", |p| p.capacity = vec![50, 50]),
        ("Σ current (units in the network)", |p| {
            p.current[0][0] = MAX_UNITS
        }),
    ];
    for (expected, change) in cases {
        let error = error_of(change);
        assert_eq!(field(&error), expected, "{error}");
        assert!(error.to_string().starts_with(expected), "{error}");
    }
}

#[test]
fn errors_say_what_is_wrong() {
    let message = |change: fn(&mut Problem)| error_of(change).to_string();
    assert_eq!(
        message(|p| p.demand[1][0] = -1.0),
        "demand[1][0] = -1 is out of range: expected a finite number from 0 to 1e12"
    );
    assert_eq!(
        message(|p| p.demand[1].push(1.0)),
        "demand[1] has 3 entries: expected 2, one per region"
    );
    assert_eq!(
        message(|p| p.skus[1] = "sku0".to_owned()),
        "skus[1] = \"sku0\" repeats skus[0]: expected each name once"
    );
    // 100 + 10 units today, room for 50 + 60 = 110 is enough; 50 + 50 is not.
    assert_eq!(
        message(|p| p.capacity = vec![50, 50]),
        "capacity: the centers hold 100 units in all, fewer than the 110 units of current \
         stock to place"
    );
}

#[test]
fn a_lane_with_no_cost_may_have_any_days() {
    // Infinite days where the cost is infinite too: the lane does not exist, and no error.
    let mut problem = coasts(vec![vec![30.0, 70.0]], [u64::MAX; 2], vec![vec![100, 0]]);
    problem.cost[1][0] = f64::INFINITY;
    problem.days[1][0] = f64::INFINITY;
    assert!(place(&problem).is_ok());
}

#[test]
fn problems_beyond_the_limits_are_refused() {
    // 2,001 SKUs × 1 center × 1,000 regions = 2,001,000 triples.
    let skus = 2_001;
    let problem = Problem {
        skus: names("sku", skus),
        centers: names("center", 1),
        regions: names("region", 1_000),
        demand: vec![vec![0.0; 1_000]; skus],
        capacity: vec![0],
        cost: vec![vec![1.0; 1_000]],
        days: vec![vec![1.0; 1_000]],
        days_weight: 0.0,
        current: vec![vec![0]; skus],
    };
    assert_eq!(
        place(&problem).unwrap_err(),
        PlacementError::LimitExceeded {
            field: "skus × centers × regions",
            value: 2_001_000,
            limit: 2_000_000,
        }
    );
    // 251 centers × 200 regions = 50,200 lanes.
    let problem = Problem {
        skus: vec![],
        centers: names("center", 251),
        regions: names("region", 200),
        demand: vec![],
        capacity: vec![0; 251],
        cost: vec![vec![1.0; 200]; 251],
        days: vec![vec![1.0; 200]; 251],
        days_weight: 0.0,
        current: vec![],
    };
    assert!(matches!(
        place(&problem).unwrap_err(),
        PlacementError::LimitExceeded {
            field: "centers × regions",
            value: 50_200,
            ..
        }
    ));
}
