//! Emissions of shipments and return legs (SCOR-METRICS §8), built as real events through the
//! domain and folded: the distance is the great-circle distance between the shipping center and
//! the ship-to, the factor that of the service's mode and distance band, return legs count, and
//! a shipment whose distance is not known is left out and counted, never given 500 km.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

mod common;

use common::{Story, address, id, ts};
use flowline_core::Command;
use flowline_core::documents::return_auth::ReceiveReturn;
use flowline_core::documents::sales_order::{
    LineQuantity, OrderLineInput, PlaceSalesOrder, ShortagePolicy,
};
use flowline_core::master::{Address, Coordinates, TransportMode};
use flowline_core::money::Currency;
use flowline_metrics::fold::Slice;
use flowline_metrics::period::{Granularity, Range};
use flowline_metrics::scorecard::{Scorecard, scorecard};
use flowline_metrics::value::{MetricValue, Ratio};

/// Edison, NJ (40.518700° N, 74.412100° W) and Dallas, TX (32.776700° N, 96.797000° W):
/// 2,166,771 m apart by haversine on a 6,371 km sphere (worked in `geo`'s tests:
/// h = 0.028639175685, c = 0.340098991174 rad, d = 6,371,000 × c = 2,166,770.67 m).
const EDISON: Coordinates = Coordinates {
    latitude_microdegrees: 40_518_700,
    longitude_microdegrees: -74_412_100,
};
const DALLAS: Coordinates = Coordinates {
    latitude_microdegrees: 32_776_700,
    longitude_microdegrees: -96_797_000,
};

fn march_2025() -> Range {
    Granularity::Month.period_of(jiff::civil::date(2025, 3, 1))
}

fn card(story: &Story) -> Scorecard {
    scorecard(
        &story.fold,
        march_2025(),
        &Slice::All,
        ts("2025-06-01T00:00:00Z"),
    )
}

fn value<'s>(card: &'s Scorecard, id: &str) -> &'s MetricValue {
    card.value(id).unwrap_or_else(|| panic!("no {id}"))
}

#[track_caller]
fn grams(card: &Scorecard, id: &str, milligrams: i128) {
    let found = value(card, id).ratio;
    assert!(
        found.same_value(Ratio::new(milligrams, 1_000)),
        "{id}: {found:?}, expected {milligrams} mg"
    );
}

fn place(country: &str, region: &str, coordinates: Option<Coordinates>) -> Address {
    Address {
        country: country.into(),
        region: region.into(),
        coordinates,
        ..address("UTC")
    }
}

/// A tenant whose center FC-1 is at `center`, selling MUG (1,000 g a unit), with UPS `ground`
/// of `mode`.
fn tenant(center: Address, mode: TransportMode) -> Story {
    Story::located("UTC", &[("MUG", 100)], center, mode)
}

/// Places order `order` of one MUG to `ship_to` and ships it (2,000 g, as `Story::ship` does).
fn ship_one(story: &mut Story, order: &str, ship_to: Address) {
    story.run(
        Command::PlaceSalesOrder(PlaceSalesOrder {
            contact: None,
            order: id(order),
            channel: id("web"),
            customer: id("C-1"),
            ship_to,
            currency: Currency::parse("USD").unwrap(),
            exchange_rate: None,
            lines: vec![OrderLineInput {
                sku: id("MUG"),
                quantity: 1,
                unit_price_minor: 1000,
                unit_tax_minor: 0,
            }],
            promise: None,
            service_level: None,
            shipping_charge_minor: 0,
            allocate: Some(ShortagePolicy::Backorder),
        }),
        "2025-03-03T10:00:00Z",
    );
    story.ship(
        order,
        &format!("{order}-S1"),
        &[(0, 1)],
        "2025-03-04T10:00:00Z",
    );
}

#[test]
fn a_shipment_is_charged_for_the_distance_between_its_center_and_its_ship_to() {
    // Before: every lane not listed was 500 km, so this parcel was 0.002 t × 500 km × 631.30
    // = 631.3 g wherever it went.
    // Now: 2,000 g by road (diesel van, 631.30 g/t·km) over 2,166,771 m:
    //   0.002 t × 2,166.771 km × 631.30 g/t·km = 2,735.765 g
    //   = 2,000 g × 2,166,771 m × 631,300 mg / 10⁹ = 2,735,765.0646 mg → 2,735,765 mg.
    let mut story = tenant(place("US", "NJ", Some(EDISON)), TransportMode::Road);
    ship_one(&mut story, "O1", place("US", "TX", Some(DALLAS)));
    let card = card(&story);
    grams(&card, "env.ghg_per_shipment", 2_735_765);
    grams(&card, "env.ghg_total", 2_735_765);
    // g/t·km = 2,735.765 g / (0.002 t × 2,166.771 km = 4.333542 t·km) = 631.30 (the factor).
    let intensity = value(&card, "env.ghg_per_tonne_km").ratio;
    assert!(intensity.same_value(Ratio::new(2_735_765_000_000, 4_333_542_000)));
    let coverage = value(&card, "env.ghg_per_shipment")
        .coverage
        .clone()
        .unwrap();
    assert_eq!((coverage.judged, coverage.candidates), (1, 1));
    // Every figure names its factor set and version.
    assert!(
        coverage
            .note
            .starts_with("DESNZ/Defra GHG conversion factors, 2025, tank-to-wheel;"),
        "{}",
        coverage.note
    );
}

#[test]
fn a_ship_to_without_coordinates_is_placed_at_its_state_centroid() {
    // An Olist-like tenant: a seller in São Paulo state, a customer in Rio de Janeiro state,
    // neither with coordinates. State centroids −22.19, −48.79 and −22.25, −42.66 are
    // 630,999 m apart (worked in `geo`'s tests: h = 0.002450341540, c = 0.099042325322 rad).
    // 2,000 g × 630,999 m × 631,300 mg / 10⁹ = 796,699.3374 mg → 796,699 mg.
    let mut story = tenant(place("BR", "SP", None), TransportMode::Road);
    ship_one(&mut story, "O1", place("BR", "RJ", None));
    grams(&card(&story), "env.ghg_per_shipment", 796_699);
}

#[test]
fn a_shipment_whose_distance_is_not_known_is_left_out_and_counted_not_given_500_km() {
    // A ship-to known only as "somewhere in the US", from a center in the US: no distance can
    // be told. Before, the shipment counted 631.3 g (500 km); now it is left out, and said to
    // be.
    let mut story = tenant(place("US", "NJ", Some(EDISON)), TransportMode::Road);
    ship_one(&mut story, "O1", place("US", "", None));
    // With nothing counted, the total is no data, not 0 g.
    let alone = card(&story);
    assert_eq!(value(&alone, "env.ghg_total").ratio.denominator, 0);
    assert_eq!(value(&alone, "env.ghg_per_shipment").value, None);
    assert_eq!(
        value(&alone, "env.ghg_per_shipment")
            .coverage
            .clone()
            .map(|c| (c.judged, c.candidates)),
        Some((0, 1))
    );
    // And one with a distance, 2,735,765 mg as above, so the mean is over that one alone.
    ship_one(&mut story, "O2", place("US", "TX", Some(DALLAS)));
    let card = card(&story);
    let per_shipment = value(&card, "env.ghg_per_shipment");
    assert!(per_shipment.ratio.same_value(Ratio::new(2_735_765, 1_000)));
    assert_eq!(per_shipment.population, 1);
    let coverage = per_shipment.coverage.clone().unwrap();
    assert_eq!((coverage.judged, coverage.candidates), (1, 2));
    assert!(
        coverage
            .note
            .ends_with("1 shipment(s) left out: distance unknown"),
        "{}",
        coverage.note
    );
    grams(&card, "env.ghg_total", 2_735_765);
}

#[test]
fn an_air_parcel_takes_its_distance_band_and_is_dearer_than_by_road() {
    // Before: air always took long-haul (531.30 g/t·km) over 500 km: 0.002 × 500 × 531.30
    // = 531.3 g, less than the same parcel by road.
    // Now: 2,166,771 m great-circle is short-haul (1,000–3,700 km), 755.40 g/t·km, over the
    // great circle + 6.3 %: 2,166,771 × 1.063 = 2,303,277.573 m → 2,303,278 m.
    //   2,000 g × 2,303,278 m × 755,400 mg / 10⁹ = 3,479,792.4024 mg → 3,479,792 mg,
    // against 2,735,765 mg by road.
    let mut story = tenant(place("US", "NJ", Some(EDISON)), TransportMode::Air);
    ship_one(&mut story, "O1", place("US", "TX", Some(DALLAS)));
    grams(&card(&story), "env.ghg_per_shipment", 3_479_792);
}

#[test]
fn a_return_leg_counts_in_the_total_and_is_reported_on_its_own() {
    // O1 ships Edison → Dallas (2,735,765 mg as above), is delivered, and its one MUG
    // (1,000 g) comes back to FC-1, the center that shipped it, by road (no return label):
    //   0.001 t × 2,166.771 km × 631.30 = 1,367.8825 g
    //   = 1,000 g × 2,166,771 m × 631,300 mg / 10⁹ = 1,367,882.5323 mg → 1,367,883 mg.
    // Total: 2,735,765 + 1,367,883 = 4,103,648 mg. Before, return legs were not counted.
    let mut story = tenant(place("US", "NJ", Some(EDISON)), TransportMode::Road);
    ship_one(&mut story, "O1", place("US", "TX", Some(DALLAS)));
    story.deliver("O1", "O1-S1", "2025-03-06T10:00:00Z");
    story.open_return("RMA-1", "O1", 0, 1, "changed_mind", "2025-03-10T10:00:00Z");
    story.run(
        Command::ReceiveReturn(ReceiveReturn {
            return_id: id("RMA-1"),
            lines: vec![LineQuantity {
                line: 0,
                quantity: 1,
            }],
        }),
        "2025-03-14T10:00:00Z",
    );
    let card = card(&story);
    grams(&card, "env.ghg_returns", 1_367_883);
    grams(&card, "env.ghg_total", 4_103_648);
    // Per shipment stays the outbound figure.
    grams(&card, "env.ghg_per_shipment", 2_735_765);
    assert_eq!(value(&card, "env.ghg_returns").population, 1);
    assert_eq!(value(&card, "env.ghg_total").population, 2);
    // g/t·km over both legs: 4,103.648 g / (4.333542 + 2.166771 t·km) = 631.30… (the van's
    // factor, up to the rounding of each leg to the milligram).
    let intensity = value(&card, "env.ghg_per_tonne_km").ratio;
    assert!(intensity.same_value(Ratio::new(4_103_648_000_000, 6_500_313_000)));
}
