//! Scenario files: the built-in brand is valid, and every kind of mistake is reported with the
//! file, where in it, and why — all of them at once, not only the first.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_sim::scenario::{DEFAULT, ReorderPolicy, Scenario, ScenarioErrors};

fn errors(text: &str) -> ScenarioErrors {
    match Scenario::parse(text, "brand.toml") {
        Ok(_) => panic!("accepted an invalid scenario"),
        Err(errors) => errors,
    }
}

#[test]
fn the_built_in_brand_is_valid_and_as_documented() {
    let scenario = Scenario::default_brand();
    // The numbers docs/simulator.md and the README describe.
    assert_eq!(scenario.brand.name, "Harbor & Pine");
    assert_eq!(scenario.centers.len(), 3);
    assert_eq!(scenario.suppliers.len(), 5);
    assert_eq!(scenario.channels.len(), 3);
    assert_eq!(
        scenario.catalog.items + scenario.catalog.kits + scenario.catalog.bundles,
        200
    );
    let currencies: std::collections::BTreeSet<&str> = scenario
        .suppliers
        .iter()
        .map(|s| s.currency.as_str())
        .collect();
    assert_eq!(
        currencies.into_iter().collect::<Vec<_>>(),
        ["CNY", "EUR", "USD"]
    );
    assert!(scenario.suppliers.iter().any(|s| s.duty_rate > 0.0));
    // Targets and initiatives name metrics the scorecard computes, and channels that exist.
    let known = |metric: &str| flowline_metrics::scorecard::metric_info(metric).is_some();
    assert_eq!(scenario.targets.len(), 4);
    for target in &scenario.targets {
        assert!(known(&target.metric), "{}", target.metric);
        if let Some(scope) = &target.scope {
            assert_eq!(scope.dimension, "channel");
            assert!(scenario.channels.iter().any(|c| c.id == scope.value));
        }
    }
    for initiative in &scenario.initiatives {
        assert!(initiative.metrics.iter().all(|m| known(m)));
    }
}

#[test]
fn a_syntax_error_is_reported_at_its_line_and_column() {
    // Line 3 opens a string that never closes.
    let found = errors("[brand]\nname = \"A\"\ncurrency = \"USD\nreporting_time_zone = \"UTC\"\n");
    assert_eq!(found.0.len(), 1);
    let error = &found.0[0];
    assert_eq!(error.file, "brand.toml");
    assert!(error.location.starts_with("line 3, column"), "{error}");
}

#[test]
fn an_unknown_key_and_a_wrong_type_name_their_place() {
    // `colour` is not a brand key: reported at line 6 of the edited default.
    let text = DEFAULT.replacen("[brand]\n", "[brand]\ncolour = \"red\"\n", 1);
    let line = text.lines().position(|l| l.starts_with("colour")).unwrap() + 1;
    let found = errors(&text);
    assert_eq!(
        found.0[0].location,
        format!("line {line}, column 1"),
        "{found}"
    );
    assert!(found.0[0].why.contains("unknown field `colour`"), "{found}");
    // A string where a number is needed.
    let text = DEFAULT.replacen("orders_per_day = 1000.0", "orders_per_day = \"many\"", 1);
    let line = text
        .lines()
        .position(|l| l.starts_with("orders_per_day"))
        .unwrap()
        + 1;
    let found = errors(&text);
    assert!(
        found.0[0]
            .location
            .starts_with(&format!("line {line}, column")),
        "{found}"
    );
    assert!(found.0[0].why.contains("invalid type"), "{found}");
}

#[test]
fn every_semantic_problem_is_reported_with_its_key() {
    let text = DEFAULT
        .replacen(
            "suppliers = [\"S-WICKWORKS\"]",
            "suppliers = [\"S-NOWHERE\"]",
            1,
        )
        .replacen("late_rate = 0.05", "late_rate = 1.5", 1)
        .replacen("waves = [7, 10, 13, 16]", "waves = [7, 25]", 1)
        .replacen("direction = \"at_most\"", "direction = \"below\"", 1);
    let found = errors(&text);
    let messages: Vec<String> = found.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "brand.toml: category[1].suppliers[0]: no [[supplier]] has id `S-NOWHERE`",
            "brand.toml: center[0].waves[1]: must be an hour from 0 to 23, is 25",
            "brand.toml: carrier[0].service[0].late_rate: must be between 0 and 1, is 1.5",
            "brand.toml: target[1].direction: `below` is neither at_least nor at_most",
        ]
    );
}

#[test]
fn a_scenario_can_change_only_what_differs_from_its_base() {
    // A fourth center: one new [[center]], and each region's distance to it merged into the
    // region of the same id; a faster web service replaces the web channel's levels by name.
    let text = r#"
base = "default"

[demand]
orders_per_day = 250.0

[[center]]
id = "FC-ATL"
name = "Atlanta, GA"
region = "us-southeast"
city = "Atlanta"
time_zone = "America/New_York"
capacity_orders_per_day = 800
waves = [8, 12, 15]
pickup_hour = 18
storage_fee_per_unit_month = 0.40
pick_fee_per_unit = 0.27
pack_fee_per_order = 1.00

[[region]]
id = "us-northeast"
distance_km = { FC-ATL = 1300.0 }
[[region]]
id = "us-southeast"
distance_km = { FC-ATL = 200.0 }
[[region]]
id = "us-midwest"
distance_km = { FC-ATL = 1000.0 }
[[region]]
id = "us-south"
distance_km = { FC-ATL = 1200.0 }
[[region]]
id = "us-mountain"
distance_km = { FC-ATL = 2500.0 }
[[region]]
id = "us-west"
distance_km = { FC-ATL = 3500.0 }
"#;
    let scenario = Scenario::parse(text, "fourth-fc.toml").unwrap();
    let default = Scenario::default_brand();
    assert_eq!(scenario.demand.orders_per_day, 250.0);
    assert_eq!(scenario.demand.weekly, default.demand.weekly);
    assert_eq!(scenario.centers.len(), 4);
    assert_eq!(scenario.centers[3].id, "FC-ATL");
    assert_eq!(scenario.regions.len(), 6);
    let southeast = &scenario.regions[1];
    assert_eq!(southeast.distance_km["FC-ATL"], 200.0);
    assert_eq!(southeast.distance_km["FC-EAST"], 1200.0);
    // Without the distances, the new center is unreachable from every region: six errors.
    let cut = text.find("[[region]]").unwrap();
    let found = Scenario::parse(&text[..cut], "fourth-fc.toml").unwrap_err();
    assert_eq!(found.0.len(), 6, "{found}");
    assert_eq!(
        found.0[0].to_string(),
        "fourth-fc.toml: region[0].distance_km: has no distance to center `FC-ATL`"
    );
    // A type error in an override is reported at its key.
    let found =
        Scenario::parse("base = \"default\"\n[demand]\ncustomers = -3\n", "x.toml").unwrap_err();
    assert_eq!(
        found.0[0].location,
        "demand.customers (after applying its base)"
    );
}

#[test]
fn a_missing_base_file_is_reported_against_the_base_key() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("what-if.toml");
    std::fs::write(&path, "base = \"nowhere.toml\"\n").unwrap();
    let found = Scenario::load(&path).unwrap_err();
    assert_eq!(found.0[0].location, "base");
    assert!(found.0[0].why.starts_with("cannot be read"), "{found}");
}

#[test]
fn the_what_if_scenarios_in_the_repository_are_valid() {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let load = |name: &str| Scenario::load(&directory.join(name)).unwrap();
    let fourth = load("fourth-fc.toml");
    assert_eq!(fourth.centers.len(), 4);
    assert_eq!(fourth.fixed_assets.len(), 6);
    let faster = load("faster-carrier.toml");
    let marketplace = faster
        .channels
        .iter()
        .find(|c| c.id == "marketplace")
        .unwrap();
    assert_eq!(
        (
            marketplace.services[0].carrier.as_str(),
            marketplace.services[0].service.as_str()
        ),
        ("UPS", "ground")
    );
    // Only the carrier changed: the promise and share stay the default's.
    assert_eq!(marketplace.services[0].promise_days, 5);
    let safer = load("more-safety-stock.toml");
    assert_eq!(safer.replenishment.safety_z, 2.33);
    assert_eq!(safer.replenishment.forecast_alpha, 0.1);
    let planner = load("planner.toml");
    assert_eq!(planner.replenishment.policy, ReorderPolicy::Planner);
    assert_eq!(planner.replenishment.service_level, 0.95);
    assert_eq!(planner.replenishment.order_cost, 15.0);
    assert_eq!(planner.replenishment.holding_rate, 0.25);
    // Only the policy changed: the rest of the replenishment settings are the default's.
    let default = Scenario::default_brand();
    assert_eq!(
        planner.replenishment.safety_z,
        default.replenishment.safety_z
    );
    assert_eq!(planner.replenishment.cover_days, 21.0);
    assert_eq!(planner.suppliers, default.suppliers);
    assert_eq!(load("default.toml"), default);
}

#[test]
fn the_built_in_brand_keeps_the_fixed_policy() {
    // Neither key is in scenarios/default.toml: the serde defaults apply.
    let plan = Scenario::default_brand().replenishment;
    assert_eq!(plan.policy, ReorderPolicy::Fixed);
    assert_eq!(plan.service_level, 0.95);
    // Named explicitly, `fixed` is the same brand.
    let text = DEFAULT.replacen(
        "[replenishment]\n",
        "[replenishment]\npolicy = \"fixed\"\n",
        1,
    );
    assert_eq!(
        Scenario::parse(&text, "brand.toml").unwrap(),
        Scenario::default_brand()
    );
}

#[test]
fn a_service_level_of_zero_or_one_is_refused_at_its_key() {
    // A cycle service level of 1 would need infinite safety stock and 0 none at all: both are
    // refused, in an override of the built-in brand and in a whole file alike.
    for (level, shown) in [
        ("1.0", "1"),
        ("0", "0"),
        ("0.0", "0"),
        ("-0.5", "-0.5"),
        ("1.5", "1.5"),
    ] {
        let expected = format!(
            "brand.toml: replenishment.service_level: must be strictly between 0 and 1, is {shown}"
        );
        let text = format!(
            "base = \"default\"\n[replenishment]\npolicy = \"planner\"\nservice_level = {level}\n"
        );
        let found = errors(&text);
        let messages: Vec<String> = found.0.iter().map(ToString::to_string).collect();
        assert_eq!(messages, [expected.as_str()], "{level}");
        let whole = DEFAULT.replacen(
            "[replenishment]\n",
            &format!("[replenishment]\npolicy = \"planner\"\nservice_level = {level}\n"),
            1,
        );
        let found = errors(&whole);
        let messages: Vec<String> = found.0.iter().map(ToString::to_string).collect();
        assert_eq!(messages, [expected.as_str()], "{level}");
    }
    // Not a number at all.
    let found = errors("base = \"default\"\n[replenishment]\nservice_level = nan\n");
    assert_eq!(
        found.to_string(),
        "brand.toml: replenishment.service_level: must be a finite number"
    );
    // Just inside the bounds is accepted.
    for level in ["0.5", "0.999", "0.001"] {
        let text = format!("base = \"default\"\n[replenishment]\nservice_level = {level}\n");
        assert!(Scenario::parse(&text, "brand.toml").is_ok(), "{level}");
    }
}

#[test]
fn the_planner_costs_are_checked_at_their_keys() {
    // Not in scenarios/default.toml: the defaults apply.
    let plan = Scenario::default_brand().replenishment;
    assert_eq!((plan.order_cost, plan.holding_rate), (15.0, 0.25));
    let found = errors(
        "base = \"default\"\n[replenishment]\npolicy = \"planner\"\norder_cost = -1.0\nholding_rate = 12.0\n",
    );
    let messages: Vec<String> = found.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "brand.toml: replenishment.order_cost: must not be negative, is -1",
            "brand.toml: replenishment.holding_rate: must be between 0 and 10, is 12",
        ]
    );
    let found = errors("base = \"default\"\n[replenishment]\nholding_rate = inf\n");
    assert_eq!(
        found.to_string(),
        "brand.toml: replenishment.holding_rate: must be a finite number"
    );
    // A text where a number belongs is a type error at its key.
    let found = errors("base = \"default\"\n[replenishment]\norder_cost = \"cheap\"\n");
    assert!(
        found.to_string().contains("replenishment.order_cost"),
        "{found}"
    );
    // Free orders are allowed (the EOQ is then 0 and the minimum sets each order).
    let text = "base = \"default\"\n[replenishment]\norder_cost = 0.0\n";
    assert!(Scenario::parse(text, "brand.toml").is_ok());
}

#[test]
fn an_unknown_policy_is_refused_at_its_key() {
    let found = errors("base = \"default\"\n[replenishment]\npolicy = \"lifo\"\n");
    let messages: Vec<String> = found.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        ["brand.toml: replenishment.policy: `lifo` is neither fixed nor planner"]
    );
    // Names are exact: no other case.
    let whole = DEFAULT.replacen(
        "[replenishment]\n",
        "[replenishment]\npolicy = \"Planner\"\n",
        1,
    );
    let messages: Vec<String> = errors(&whole).0.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        ["brand.toml: replenishment.policy: `Planner` is neither fixed nor planner"]
    );
    // Both mistakes at once are both reported, in file order.
    let found =
        errors("base = \"default\"\n[replenishment]\npolicy = \"lifo\"\nservice_level = 1.0\n");
    let locations: Vec<&str> = found.0.iter().map(|e| e.location.as_str()).collect();
    assert_eq!(
        locations,
        ["replenishment.policy", "replenishment.service_level"]
    );
    // A policy that is not a string is a type error at its key.
    let found = errors("base = \"default\"\n[replenishment]\npolicy = 3\n");
    assert_eq!(
        found.0[0].location, "replenishment.policy (after applying its base)",
        "{found}"
    );
}

#[test]
fn carriers_price_a_shipment_by_its_zone_and_weight() {
    let scenario = Scenario::default_brand();
    let ups = scenario.carriers.iter().find(|c| c.id == "UPS").unwrap();
    let ground = ups.services.iter().find(|s| s.code == "ground").unwrap();
    // Zones end at 241, 483, 966, 1,609, 2,253 and 2,897 km; an upper bound is in its zone.
    assert_eq!(ups.zone(150.0), 0);
    assert_eq!(ups.zone(241.0), 0);
    assert_eq!(ups.zone(241.5), 1);
    assert_eq!(ups.zone(1_300.0), 3);
    assert_eq!(ups.zone(4_500.0), 6);
    // 2.2 kg to zone index 3: (6.40 + 0.95 × 2.2) × 1.22 = 8.49 × 1.22 = 10.3578.
    assert!((ground.price(3, 2_200) - 10.3578).abs() < 1e-9);
    // The nearest zone is the base rate: 6.40 + 0.95 × 0.5 = 6.875.
    assert!((ground.price(0, 500) - 6.875).abs() < 1e-9);
    // A factor list that does not match the zones is refused with its key.
    let text = DEFAULT.replacen(
        "zone_factors = [1.00, 1.06, 1.13, 1.22, 1.31, 1.39, 1.48]",
        "zone_factors = [1.00, 1.06]",
        1,
    );
    let messages: Vec<String> = errors(&text).0.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        ["brand.toml: carrier[0].service[0].zone_factors: has 2 factors for the carrier's 7 zones"]
    );
}
