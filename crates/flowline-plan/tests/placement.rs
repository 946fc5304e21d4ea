//! Inventory placement on generated networks: whatever the inputs, the transfers turn today's
//! stock into the targets, each SKU keeps its units, each center stays within its capacity, and
//! where today's stock fits the capacities the plan is never worse than today's placement.

use flowline_plan::placement::{Placement, Problem, place};
use proptest::collection::vec;
use proptest::prelude::*;

/// Relative tolerance of the figures: the solver meets its constraints to within 10⁻⁷.
const TOLERANCE: f64 = 1e-6;

/// Networks of 1 to 4 SKUs, centers and regions; some lanes missing, some demand zero,
/// capacities raised where needed so that the centers can hold the stock (often just).
fn any_problem() -> impl Strategy<Value = Problem> {
    (1_usize..=4, 1_usize..=4, 1_usize..=4)
        .prop_flat_map(|(skus, centers, regions)| {
            let demand = prop_oneof![1 => Just(0.0), 3 => 0.0..50.0_f64];
            let cost = prop_oneof![1 => Just(f64::INFINITY), 4 => 0.0..10.0_f64];
            (
                vec(vec(demand, regions), skus),
                vec(vec(cost, regions), centers),
                vec(vec(0.0..6.0_f64, regions), centers),
                0.0..2.0_f64,
                vec(vec(0_u64..30, centers), skus),
                vec(0_u64..80, centers),
            )
        })
        .prop_map(|(demand, cost, days, days_weight, current, mut capacity)| {
            let units: u64 = current.iter().flatten().sum();
            let room: u64 = capacity.iter().sum();
            let last = capacity.len() - 1;
            capacity[units as usize % (last + 1)] += units.saturating_sub(room);
            let names = |prefix: &str, count: usize| -> Vec<String> {
                (0..count).map(|index| format!("{prefix}{index}")).collect()
            };
            Problem {
                skus: names("sku", demand.len()),
                centers: names("center", cost.len()),
                regions: names("region", days[0].len()),
                demand,
                capacity,
                cost,
                days,
                days_weight,
                current,
            }
        })
}

/// The targets as a matrix `[k][c]`.
fn targets(problem: &Problem, placement: &Placement) -> Vec<Vec<u64>> {
    let centers = problem.centers.len();
    let targets: Vec<u64> = placement.targets.iter().map(|t| t.target).collect();
    targets.chunks(centers).map(<[u64]>::to_vec).collect()
}

/// Today's stock with the transfers applied in order, or `None` if one takes units that are not
/// there.
fn apply_transfers(problem: &Problem, placement: &Placement) -> Option<Vec<Vec<u64>>> {
    let index = |names: &[String], name: &str| names.iter().position(|other| other == name);
    let mut stock = problem.current.clone();
    for transfer in &placement.transfers {
        let sku = index(&problem.skus, &transfer.sku)?;
        let from = index(&problem.centers, &transfer.from)?;
        let to = index(&problem.centers, &transfer.to)?;
        if from == to || transfer.quantity == 0 {
            return None;
        }
        stock[sku][from] = stock[sku][from].checked_sub(transfer.quantity)?;
        stock[sku][to] += transfer.quantity;
    }
    Some(stock)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_placement_reaches_its_targets_within_capacity_and_is_never_worse(
        problem in any_problem()
    ) {
        let placement = place(&problem).unwrap();
        let skus = problem.skus.len();
        let centers = problem.centers.len();
        prop_assert_eq!(placement.targets.len(), skus * centers);
        let targets = targets(&problem, &placement);
        for (sku, row) in problem.current.iter().enumerate() {
            for (center, &current) in row.iter().enumerate() {
                let target = &placement.targets[sku * centers + center];
                prop_assert_eq!(&target.sku, &problem.skus[sku]);
                prop_assert_eq!(&target.center, &problem.centers[center]);
                prop_assert_eq!(target.current, current);
            }
            prop_assert_eq!(row.iter().sum::<u64>(), targets[sku].iter().sum::<u64>());
        }
        prop_assert_eq!(apply_transfers(&problem, &placement), Some(targets.clone()));
        for (center, &capacity) in problem.capacity.iter().enumerate() {
            let held: u64 = targets.iter().map(|row| row[center]).sum();
            prop_assert!(held <= capacity, "center{center} holds {held} > {capacity}");
        }

        let demanded: f64 = problem.demand.iter().flatten().sum();
        let weighted = |figures: &flowline_plan::placement::Figures| {
            figures.expected_cost + problem.days_weight * figures.expected_days * figures.units
        };
        for figures in [&placement.before, &placement.after] {
            let total = figures.units + figures.unserved;
            prop_assert!((total - demanded).abs() <= TOLERANCE * demanded.max(1.0));
        }
        let fits = (0..centers).all(|center| {
            let held: u64 = problem.current.iter().map(|row| row[center]).sum();
            held <= problem.capacity[center]
        });
        if fits {
            let (before, after) = (&placement.before, &placement.after);
            let slack = TOLERANCE * before.units.max(1.0);
            prop_assert!(after.units >= before.units - slack, "{before:?} → {after:?}");
            if after.units <= before.units + slack {
                let (was, is) = (weighted(before), weighted(after));
                prop_assert!(is <= was + TOLERANCE * was.max(1.0), "{was} → {is}");
            }
        }
    }
}

/// A deterministic sequence of fractions in `[0, 1)` (a linear congruential generator), so the
/// network below is the same on every run.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1_u64 << 53) as f64
    }
}

/// 500 SKUs, 3 centers with room for 1.2 times the stock between them, 10 regions; each SKU's
/// stock is its demand plus a tenth, all at the first center or spread at random.
fn network(skus: usize, centers: usize, regions: usize) -> Problem {
    let mut random = Sequence(42);
    let names = |prefix: &str, count: usize| -> Vec<String> {
        (0..count).map(|index| format!("{prefix}{index}")).collect()
    };
    let demand: Vec<Vec<f64>> = (0..skus)
        .map(|_| {
            (0..regions)
                .map(|_| (100.0 * random.next()).round() / 4.0)
                .collect()
        })
        .collect();
    let current: Vec<Vec<u64>> = demand
        .iter()
        .map(|row| {
            let units = (row.iter().sum::<f64>() * 1.1).ceil() as u64;
            let mut stock = vec![0; centers];
            if random.next() < 0.5 {
                stock[0] = units;
            } else {
                for _ in 0..units {
                    stock[(random.next() * centers as f64) as usize] += 1;
                }
            }
            stock
        })
        .collect();
    let units: u64 = current.iter().flatten().sum();
    let lanes = |scale: f64, random: &mut Sequence| -> Vec<Vec<f64>> {
        (0..centers)
            .map(|_| {
                (0..regions)
                    .map(|_| scale * (1.0 + random.next()))
                    .collect()
            })
            .collect()
    };
    Problem {
        skus: names("sku", skus),
        centers: names("center", centers),
        regions: names("region", regions),
        demand,
        capacity: vec![units * 12 / 10 / centers as u64; centers],
        cost: lanes(4.0, &mut random),
        days: lanes(2.0, &mut random),
        days_weight: 0.25,
        current,
    }
}

#[test]
fn a_placement_of_realistic_size_moves_stock_to_cheaper_centers() {
    // 500 SKUs × 3 centers × 10 regions: the order of a regional network. Half the SKUs sit in
    // one center, which cannot hold all of them: the plan must move stock out and serve more
    // regions from their cheaper centers, so "after" costs less than "before".
    let problem = network(500, 3, 10);
    let placement = place(&problem).unwrap();
    assert_eq!(placement.targets.len(), 1_500);
    let targets = targets(&problem, &placement);
    assert_eq!(apply_transfers(&problem, &placement), Some(targets));
    assert!(placement.after.expected_cost < placement.before.expected_cost);
    assert!(placement.after.unserved <= placement.before.unserved + TOLERANCE);
}
