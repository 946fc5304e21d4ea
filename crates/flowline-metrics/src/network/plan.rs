//! The placement plan: the network history and the tenant's state turned into a
//! [`flowline_plan::placement::Problem`], its answer, and the transfer proposals that carry it
//! out.

use super::NetworkHistory;
use crate::geo;
use flowline_core::documents::replenishment::{
    PROPOSAL_LINES_MAX, PROPOSAL_TEXT_MAX, ProposalLine, ProposalSource, ProposalStatus,
    ProposeReplenishment,
};
use flowline_core::documents::transfer::TransferStatus;
use flowline_core::id::{LocationId, ProposalId, Sku};
use flowline_core::master::Coordinates;
use flowline_core::money::Currency;
use flowline_core::{Command, State, views};
use flowline_plan::placement::{self, Placement, PlacementError, Problem};
use jiff::Span;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

/// How the placement is planned. Every field has a default; [`PlacementSettings::check`] names
/// the first out of range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlacementSettings {
    /// Days the plan places stock for: the expected demand is the window's, scaled to these
    /// days. 1 to 365; default 28.
    pub horizon_days: u32,
    /// Days of demand, ending on the latest day of the log, the expected demand is read from.
    /// 1 to [`super::NETWORK_DAYS_MAX`]; default 28.
    pub window_days: u32,
    /// Days of carrier costs and shipped unit-kilometres, ending on the latest day of the log,
    /// the cost per unit-km is measured over. A longer window than the demand's, since carriers
    /// bill after they carry. 1 to [`super::NETWORK_DAYS_MAX`]; default 91.
    pub calibration_days: u32,
    /// The cost of one unit-day in transit, base currency major units: what a day sooner is
    /// worth. 0 (cost alone) to 1,000,000; default 0.10.
    pub days_weight: f64,
    /// The units each fulfillment center can hold, all items together; a center left out has
    /// no limit. Every key must be a fulfillment center.
    pub capacity_units: BTreeMap<LocationId, u64>,
    /// The shipping cost of a unit on any lane, base currency major units, when the log has no
    /// carrier costs to measure from: a lane costs `cost_per_unit + cost_per_unit_km × km`.
    /// 0 to 1,000,000; default 4.00.
    pub cost_per_unit: f64,
    /// The shipping cost of a unit per kilometre, base currency major units, when the log has
    /// no carrier costs. 0 to 1,000; default 0.002.
    pub cost_per_unit_km: f64,
    /// The transit days of a lane with too few deliveries measured, before the distance:
    /// `transit_days_base + km / km_per_day`. 0 to 365; default 1.
    pub transit_days_base: f64,
    /// Kilometres a parcel covers per day, for the same prior. More than 0, at most 100,000;
    /// default 800.
    pub km_per_day: f64,
    /// Deliveries a lane needs before its measured mean transit replaces the prior. 1 to
    /// 1,000,000; default 20.
    pub min_shipments: u32,
    /// Plan only these items (stocked, not bundles), when given; not empty.
    pub only: Option<Vec<Sku>>,
}

impl Default for PlacementSettings {
    fn default() -> Self {
        Self {
            horizon_days: 28,
            window_days: 28,
            calibration_days: 91,
            days_weight: 0.10,
            capacity_units: BTreeMap::new(),
            cost_per_unit: 4.0,
            cost_per_unit_km: 0.002,
            transit_days_base: 1.0,
            km_per_day: 800.0,
            min_shipments: 20,
            only: None,
        }
    }
}

impl PlacementSettings {
    /// Checks every number is in its range, naming the first that is not. What needs the
    /// tenant (capacity keys are centers, `only` names items) is checked by [`plan()`].
    pub fn check(&self) -> Result<(), NetworkError> {
        let days_max = super::NETWORK_DAYS_MAX.unsigned_abs();
        whole("horizon_days", self.horizon_days, 1, 365)?;
        whole("window_days", self.window_days, 1, days_max)?;
        whole("calibration_days", self.calibration_days, 1, days_max)?;
        whole("min_shipments", self.min_shipments, 1, 1_000_000)?;
        real("days_weight", self.days_weight, 0.0, 1e6, false)?;
        real("cost_per_unit", self.cost_per_unit, 0.0, 1e6, false)?;
        real("cost_per_unit_km", self.cost_per_unit_km, 0.0, 1e3, false)?;
        real(
            "transit_days_base",
            self.transit_days_base,
            0.0,
            365.0,
            false,
        )?;
        real("km_per_day", self.km_per_day, 0.0, 1e5, true)?;
        if self.only.as_ref().is_some_and(Vec::is_empty) {
            return Err(NetworkError::setting(
                "only",
                "lists no item: leave it out to plan every item",
            ));
        }
        Ok(())
    }

    /// Checks what needs the tenant: capacities name fulfillment centers, `only` names stocked
    /// items.
    fn check_against(&self, state: &State) -> Result<(), NetworkError> {
        self.check()?;
        if let Some(center) = self
            .capacity_units
            .keys()
            .find(|center| !state.locations.contains_key(*center))
        {
            return Err(NetworkError::setting(
                format!("capacity_units.{center}"),
                "is not a fulfillment center of the tenant",
            ));
        }
        for (index, sku) in self.only.iter().flatten().enumerate() {
            match state.items.get(sku) {
                None => {
                    return Err(NetworkError::setting(
                        format!("only[{index}]"),
                        format!("{sku} is not an item of the tenant"),
                    ));
                }
                Some(item) if item.is_bundle() => {
                    return Err(NetworkError::setting(
                        format!("only[{index}]"),
                        format!("{sku} is a bundle, never stocked: name its components"),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

fn whole(field: &str, value: u32, min: u32, max: u32) -> Result<(), NetworkError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(NetworkError::setting(
            field,
            format!("is {value}: expected {min} to {max}"),
        ))
    }
}

fn real(field: &str, value: f64, min: f64, max: f64, above_min: bool) -> Result<(), NetworkError> {
    let low_ok = if above_min { value > min } else { value >= min };
    if value.is_finite() && low_ok && value <= max {
        Ok(())
    } else {
        let low = if above_min { "more than" } else { "at least" };
        Err(NetworkError::setting(
            field,
            format!("is {value}: expected a number {low} {min} and at most {max}"),
        ))
    }
}

/// Why no plan was made.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NetworkError {
    /// A setting is out of range or names something the tenant does not have.
    Setting {
        /// The setting, such as `window_days` or `capacity_units.FC-9`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The placement refused the problem the log and the settings made, or its solver failed.
    Placement {
        /// What of the problem, by name: `cost[FC-EAST][US-CA]`, `capacity`, `solver`.
        what: String,
        /// The placement's error, its fields by position in the problem's lists.
        error: PlacementError,
    },
}

impl NetworkError {
    fn setting(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Setting {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for NetworkError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setting { field, reason } => {
                write!(formatter, "placement settings: {field} {reason}")
            }
            Self::Placement { what, error } => {
                write!(formatter, "the placement failed at {what}: {error}")
            }
        }
    }
}

impl std::error::Error for NetworkError {}

/// Whether a lane's figure was measured from the log or assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Measured: the carrier rate from posted costs, the transit from deliveries.
    Measured,
    /// Assumed from the distance and the settings.
    Assumed,
    /// Not known: the center or the region could not be located, so the lane is not used.
    Unknown,
}

/// Where a region's point comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PointSource {
    /// The mean of the coordinates of its ship-tos that had them.
    ShipTos {
        /// How many ship-tos had coordinates.
        count: u64,
    },
    /// The centroid of its state or region.
    RegionCentroid,
    /// The centroid of its country.
    CountryCentroid,
}

/// One center × region lane as the plan prices it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lane {
    /// The fulfillment center.
    pub center: LocationId,
    /// The region.
    pub region: String,
    /// Great-circle kilometres from the center to the region's point, when both are located.
    pub distance_km: Option<f64>,
    /// Shipping cost per unit, base currency major units; none for a lane not used.
    pub cost_per_unit: Option<f64>,
    /// Whether the cost is the measured rate × distance or the settings' fallback.
    pub cost_basis: Basis,
    /// Transit days per unit; none for a lane not used.
    pub transit_days: Option<f64>,
    /// The measured transit's standard deviation, days, when measured.
    pub transit_sd_days: Option<f64>,
    /// Whether the transit is the measured mean or the distance prior.
    pub transit_basis: Basis,
    /// Deliveries measured on the lane over the kept days.
    pub shipments: u64,
}

/// A region with demand in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionDemand {
    /// The region (`US-NJ`).
    pub region: String,
    /// Its point, when located.
    pub point: Option<Coordinates>,
    /// Where the point comes from.
    pub point_source: Option<PointSource>,
    /// Units ordered over the window, the planned items together.
    pub window_units: i64,
    /// Units expected over the horizon: the window's scaled.
    pub horizon_units: f64,
}

/// The carrier rate measured from the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Days measured over, ending on the latest day.
    pub days: u32,
    /// Carrier costs posted to Deliver over those days, base currency major units.
    pub carrier_cost: f64,
    /// Stocked units shipped × kilometres from center to ship-to over the same days.
    pub unit_km: f64,
    /// `carrier_cost / unit_km`, when both are positive; otherwise the lanes use the
    /// settings' fallback.
    pub cost_per_unit_km: Option<f64>,
    /// Carrier costs ever posted in another currency, left out.
    pub costs_left_out: u64,
    /// Shipments ever made whose unit-kilometres are not counted, their order not held open
    /// or their center or ship-to not located: their carrier costs, if posted, make the rate
    /// an overstatement.
    pub shipments_not_counted: u64,
}

/// An item with demand the plan does not place, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedSku {
    /// The item.
    pub sku: Sku,
    /// Why.
    pub reason: String,
}

/// A placement plan and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacementPlan {
    /// The first day planned for: the day after the latest day of the log (none before any
    /// event).
    pub today: Option<Date>,
    /// Days placed for.
    pub horizon_days: u32,
    /// Days of demand read.
    pub window_days: u32,
    /// The base currency every cost is in (major units), once the tenant is configured.
    pub currency: Option<Currency>,
    /// The measured carrier rate.
    pub calibration: Option<Calibration>,
    /// Every center × region lane, centers then regions in order.
    pub lanes: Vec<Lane>,
    /// The regions with demand for the planned items, in order.
    pub regions: Vec<RegionDemand>,
    /// The placement: targets, figures before and after, transfers. None when there is
    /// nothing to place: no fulfillment center, or no item with demand in the window and units
    /// available.
    pub placement: Option<Placement>,
    /// Items with demand left out, and why.
    pub skipped: Vec<SkippedSku>,
}

/// Plans where the network's stock should be for the next `horizon_days`.
///
/// - **Items**: stocked items (not bundles; [`PlacementSettings::only`] when given) with
///   demand in the window and units available at some center. An item with demand but no
///   units available is skipped, with the reason.
/// - **Centers**: the tenant's fulfillment centers, in id order. A center's capacity for the
///   planned items is its [`PlacementSettings::capacity_units`] less everything on hand there
///   that the plan does not move (other items, reserved units), so what is not placed still
///   takes its room.
/// - **Regions**: those with demand for the planned items in the window; the demand of the
///   window is scaled by `horizon_days / window_days`.
/// - **Lanes**: a lane costs the measured carrier rate × its distance when the log has carrier
///   costs and shipped unit-kilometres over `calibration_days`, else `cost_per_unit +
///   cost_per_unit_km × km`; it takes the mean measured transit once it has `min_shipments`
///   deliveries, else `transit_days_base + km / km_per_day`. A lane whose center or region
///   cannot be located is not used: its region's demand is served elsewhere or shows as
///   unserved.
/// - **Stock**: units on hand at each center less those reserved, which are promised to
///   orders and stay, plus the units a transfer is bringing to it (created or shipped, not yet
///   received). An item with a transfer proposal still waiting for a decision is skipped, so
///   planning twice does not propose the same units twice.
///
/// # Errors
///
/// [`NetworkError::Setting`] naming the first setting out of range, a capacity for a location
/// that is not a fulfillment center, or an `only` entry that is not a stocked item;
/// [`NetworkError::Placement`] when the placement refuses the problem (the centers' capacities
/// cannot hold the stock there is, a number beyond its limits) or its solver fails, naming the
/// center, region or item concerned.
pub fn plan(
    state: &State,
    network: &NetworkHistory,
    settings: &PlacementSettings,
) -> Result<PlacementPlan, NetworkError> {
    settings.check_against(state)?;
    let mut answer = PlacementPlan {
        today: None,
        horizon_days: settings.horizon_days,
        window_days: settings.window_days,
        currency: network.base_currency(),
        calibration: None,
        lanes: Vec::new(),
        regions: Vec::new(),
        placement: None,
        skipped: Vec::new(),
    };
    let Some(latest) = network.latest() else {
        return Ok(answer);
    };
    answer.today = latest.tomorrow().ok();
    let days_before = |days: u32| {
        latest
            .checked_sub(Span::new().days(i64::from(days.saturating_sub(1))))
            .unwrap_or(Date::MIN)
    };

    // The carrier rate.
    let (cost_minor, unit_metres) =
        network.carrier_calibration(days_before(settings.calibration_days), latest);
    let exponent = network
        .base_currency()
        .map_or(2, |currency| currency.exponent());
    let carrier_cost = cost_minor as f64 / 10_f64.powi(exponent.min(18) as i32);
    let unit_km = unit_metres as f64 / 1_000.0;
    let rate = (carrier_cost > 0.0 && unit_km > 0.0).then(|| carrier_cost / unit_km);
    answer.calibration = Some(Calibration {
        days: settings.calibration_days,
        carrier_cost,
        unit_km,
        cost_per_unit_km: rate,
        costs_left_out: network.costs_left_out(),
        shipments_not_counted: network
            .shipments_unmatched()
            .saturating_add(network.shipments_unlocated()),
    });

    // The centers and their stock.
    let mut centers: Vec<&LocationId> = state.locations.keys().collect();
    centers.sort();
    let mut free: BTreeMap<(&Sku, &LocationId), u64> = BTreeMap::new();
    let mut on_hand_at: BTreeMap<&LocationId, u64> = BTreeMap::new();
    let positions = views::positions(state, None, None);
    for position in &positions {
        let on_hand = u64::try_from(position.on_hand).unwrap_or(0);
        let available =
            u64::try_from(position.on_hand.saturating_sub(position.reserved.max(0))).unwrap_or(0);
        let at = on_hand_at.entry(&position.location).or_default();
        *at = at.saturating_add(on_hand);
        free.insert((&position.sku, &position.location), available);
    }
    // Units a transfer is bringing count at their destination: the reserved units of a transfer
    // not yet shipped, and the units shipped and not yet received.
    let mut inbound: BTreeMap<(&Sku, &LocationId), u64> = BTreeMap::new();
    for transfer in state.transfers.values() {
        if !state.locations.contains_key(&transfer.to) {
            continue;
        }
        for line in &transfer.lines {
            let coming = match transfer.status {
                TransferStatus::Created => line.quantity,
                TransferStatus::Shipped => line.in_transit(),
                TransferStatus::Closed | TransferStatus::Cancelled => 0,
            };
            if let Ok(coming @ 1..) = u64::try_from(coming) {
                let units = inbound.entry((&line.sku, &transfer.to)).or_default();
                *units = units.saturating_add(coming);
            }
        }
    }
    let current_of = |sku: &Sku, center: &LocationId| {
        let held = free.get(&(sku, center)).copied().unwrap_or(0);
        held.saturating_add(inbound.get(&(sku, center)).copied().unwrap_or(0))
    };
    // Items with a transfer proposal waiting for a decision: planning them again would
    // propose the same units twice.
    let waiting: BTreeSet<&Sku> = state
        .proposals
        .values()
        .filter(|proposal| {
            proposal.status == ProposalStatus::Proposed
                && matches!(proposal.source, ProposalSource::Transfer { .. })
        })
        .flat_map(|proposal| proposal.lines.iter().map(|line| &line.sku))
        .collect();

    // The items.
    let demand = network.demand(days_before(settings.window_days), latest);
    let wanted = |sku: &Sku| settings.only.as_ref().is_none_or(|only| only.contains(sku));
    let mut items: Vec<(&Sku, &BTreeMap<String, i64>)> = Vec::new();
    for (sku, regions) in demand.iter().filter(|(sku, _)| wanted(sku)) {
        let reason = match state.items.get(sku) {
            None => Some("not an item of the tenant".to_string()),
            Some(item) if item.is_bundle() => {
                Some("now a bundle, never stocked: its components are placed".to_string())
            }
            Some(_) if waiting.contains(sku) => Some(
                "a transfer proposal for it is waiting for a decision: decide it, then plan again"
                    .to_string(),
            ),
            Some(_) => {
                let units = centers.iter().fold(0_u64, |sum, center| {
                    sum.saturating_add(current_of(sku, center))
                });
                (units == 0).then(|| {
                    "no units available at any center (on hand less reserved, with transfers \
                     on their way): nothing to place"
                        .to_string()
                })
            }
        };
        match reason {
            Some(reason) => answer.skipped.push(SkippedSku {
                sku: sku.clone(),
                reason,
            }),
            None => items.push((sku, regions)),
        }
    }
    for sku in settings.only.iter().flatten() {
        if !demand.contains_key(sku) {
            answer.skipped.push(SkippedSku {
                sku: sku.clone(),
                reason: format!(
                    "no demand in the last {} days: nothing to place it for",
                    settings.window_days
                ),
            });
        }
    }

    // The regions.
    let scale = f64::from(settings.horizon_days) / f64::from(settings.window_days);
    let mut region_units: BTreeMap<&str, i64> = BTreeMap::new();
    for (_, regions) in &items {
        for (region, units) in *regions {
            let total = region_units.entry(region.as_str()).or_default();
            *total = total.saturating_add(*units);
        }
    }
    let regions: Vec<&str> = region_units.keys().copied().collect();
    let mut points: Vec<Option<Coordinates>> = Vec::with_capacity(regions.len());
    for (region, units) in &region_units {
        let located = network.region_point(region);
        points.push(located.map(|(point, _)| point));
        answer.regions.push(RegionDemand {
            region: (*region).to_string(),
            point: located.map(|(point, _)| point),
            point_source: located.map(|(_, source)| source),
            window_units: *units,
            horizon_units: *units as f64 * scale,
        });
    }

    // The lanes.
    let mut cost = Vec::with_capacity(centers.len());
    let mut days = Vec::with_capacity(centers.len());
    for center in &centers {
        let center_point = state
            .locations
            .get(*center)
            .and_then(|location| geo::locate(&location.address))
            .map(|place| place.coordinates);
        let mut cost_row = Vec::with_capacity(regions.len());
        let mut days_row = Vec::with_capacity(regions.len());
        for (region, region_point) in regions.iter().zip(&points) {
            let distance_km = center_point
                .zip(*region_point)
                .map(|(from, to)| geo::great_circle_metres(from, to) as f64 / 1_000.0);
            let lane = price_lane(network, settings, rate, center, region, distance_km);
            cost_row.push(lane.cost_per_unit.unwrap_or(f64::INFINITY));
            days_row.push(lane.transit_days.unwrap_or(f64::INFINITY));
            answer.lanes.push(lane);
        }
        cost.push(cost_row);
        days.push(days_row);
    }
    if centers.is_empty() || items.is_empty() {
        return Ok(answer);
    }

    // The problem.
    let current: Vec<Vec<u64>> = items
        .iter()
        .map(|(sku, _)| {
            centers
                .iter()
                .map(|center| current_of(sku, center))
                .collect()
        })
        .collect();
    let capacity: Vec<u64> = centers
        .iter()
        .map(|center| match settings.capacity_units.get(*center) {
            None => u64::MAX,
            Some(units) => {
                // What stays put: everything on hand but the planned items' free units.
                let movable = items.iter().fold(0_u64, |sum, (sku, _)| {
                    sum.saturating_add(free.get(&(*sku, *center)).copied().unwrap_or(0))
                });
                let held = on_hand_at.get(*center).copied().unwrap_or(0);
                units.saturating_sub(held.saturating_sub(movable))
            }
        })
        .collect();
    let problem = Problem {
        skus: items.iter().map(|(sku, _)| sku.to_string()).collect(),
        centers: centers.iter().map(|center| center.to_string()).collect(),
        regions: regions.iter().map(|region| (*region).to_string()).collect(),
        demand: items
            .iter()
            .map(|(_, by_region)| {
                regions
                    .iter()
                    .map(|region| by_region.get(*region).copied().unwrap_or(0) as f64 * scale)
                    .collect()
            })
            .collect(),
        capacity,
        cost,
        days,
        days_weight: settings.days_weight,
        current,
    };
    let placement = placement::place(&problem).map_err(|error| NetworkError::Placement {
        what: what_of(&error, &problem),
        error,
    })?;
    answer.placement = Some(placement);
    Ok(answer)
}

/// A lane's cost and transit, measured where the log allows.
fn price_lane(
    network: &NetworkHistory,
    settings: &PlacementSettings,
    rate: Option<f64>,
    center: &LocationId,
    region: &str,
    distance_km: Option<f64>,
) -> Lane {
    let measured = network.transit(center, region);
    let (transit_days, transit_sd_days, transit_basis) = match measured.days() {
        Some((mean, sd)) if measured.count >= u64::from(settings.min_shipments) => {
            (Some(mean), Some(sd), Basis::Measured)
        }
        _ => match distance_km {
            Some(km) => (
                Some(settings.transit_days_base + km / settings.km_per_day),
                None,
                Basis::Assumed,
            ),
            None => (None, None, Basis::Unknown),
        },
    };
    let (cost_per_unit, cost_basis) = match (distance_km, rate) {
        (Some(km), Some(rate)) => (Some(rate * km), Basis::Measured),
        (Some(km), None) => (
            Some(settings.cost_per_unit + settings.cost_per_unit_km * km),
            Basis::Assumed,
        ),
        (None, _) => (None, Basis::Unknown),
    };
    // A lane that cannot be costed is not used, whatever its measured transit.
    let transit_days = cost_per_unit.and(transit_days);
    Lane {
        center: center.clone(),
        region: region.to_string(),
        distance_km,
        cost_per_unit,
        cost_basis,
        transit_days,
        transit_sd_days,
        transit_basis,
        shipments: measured.count,
    }
}

/// The problem's field a placement error names, by name rather than position:
/// `cost[1][0]` → `cost[FC-WEST][US-CA]`.
pub(super) fn what_of(error: &PlacementError, problem: &Problem) -> String {
    match error {
        PlacementError::WrongLength { field, .. }
        | PlacementError::OutOfRange { field, .. }
        | PlacementError::InvalidName { field, .. } => named(field, problem),
        PlacementError::LimitExceeded { field, .. } => (*field).to_string(),
        PlacementError::InsufficientCapacity { .. } => "capacity".to_string(),
        PlacementError::Solver { .. } => "solver".to_string(),
        _ => "the problem".to_string(),
    }
}

pub(super) fn named(field: &str, problem: &Problem) -> String {
    let Some((name, rest)) = field.split_once('[') else {
        return field.to_string();
    };
    let none: &[String] = &[];
    let lists: [&[String]; 2] = match name {
        "demand" => [&problem.skus, &problem.regions],
        "cost" | "days" => [&problem.centers, &problem.regions],
        "current" => [&problem.skus, &problem.centers],
        "capacity" | "centers" => [&problem.centers, none],
        "skus" => [&problem.skus, none],
        "regions" => [&problem.regions, none],
        _ => return field.to_string(),
    };
    let mut answer = name.to_string();
    for (position, index) in rest.split('[').enumerate() {
        let index = index.trim_end_matches(']');
        let found = index
            .parse::<usize>()
            .ok()
            .and_then(|index| lists.get(position)?.get(index));
        let _ = match found {
            Some(name) => write!(answer, "[{name}]"),
            None => write!(answer, "[{index}]"),
        };
    }
    answer
}

/// The plan's transfers as proposals: one [`ProposeReplenishment`] per receiving center and
/// center the units leave (a proposal has one source), a line per item, ids `{prefix}-{n}` from
/// 1 in receiving-center then source order (more than
/// [`flowline_core::documents::replenishment::PROPOSAL_LINES_MAX`] lines are split).
///
/// The lines carry no [`flowline_core::documents::replenishment::ReplenishmentTerms`]: those
/// explain a purchase by forecast, safety stock and inventory position, and a placement move
/// is none of these (its quantity is the difference between a center's target, which comes
/// from a linear program over every center and region, and its stock). The rationale states the
/// plan's figures instead: the expected shipping cost and transit before and after, and each
/// item's stock and target at both centers. `needed_by` is the plan's first day; there is no
/// `order_by`. The transfer's own cost is not weighed by the plan, and the rationale says so.
/// No proposal is made when `prefix` does not make a valid proposal id.
pub fn proposals(plan: &PlacementPlan, prefix: &str) -> Vec<Command> {
    let Some(placement) = &plan.placement else {
        return Vec::new();
    };
    let mut groups: BTreeMap<(LocationId, LocationId), Vec<(Sku, i64)>> = BTreeMap::new();
    for transfer in &placement.transfers {
        let (Ok(sku), Ok(from), Ok(to), Ok(quantity)) = (
            Sku::parse(&transfer.sku),
            LocationId::parse(&transfer.from),
            LocationId::parse(&transfer.to),
            i64::try_from(transfer.quantity),
        ) else {
            continue;
        };
        if quantity > 0 {
            groups.entry((to, from)).or_default().push((sku, quantity));
        }
    }
    let targets: BTreeMap<(&str, &str), (u64, u64)> = placement
        .targets
        .iter()
        .map(|t| ((t.sku.as_str(), t.center.as_str()), (t.current, t.target)))
        .collect();
    let mut commands = Vec::new();
    for ((to, from), lines) in groups {
        for chunk in lines.chunks(PROPOSAL_LINES_MAX) {
            let Ok(proposal) = ProposalId::parse(&format!("{prefix}-{}", commands.len() + 1))
            else {
                return commands;
            };
            commands.push(Command::ProposeReplenishment(ProposeReplenishment {
                proposal,
                source: ProposalSource::Transfer { from: from.clone() },
                location: to.clone(),
                lines: chunk
                    .iter()
                    .map(|(sku, quantity)| ProposalLine {
                        sku: sku.clone(),
                        quantity: *quantity,
                        unit_price_minor: 0,
                        terms: None,
                    })
                    .collect(),
                order_by: None,
                needed_by: plan.today,
                rationale: Some(rationale(plan, &targets, &from, &to, chunk)),
            }));
        }
    }
    commands
}

/// Why these units move, in figures, within the proposal's text limit.
fn rationale(
    plan: &PlacementPlan,
    targets: &BTreeMap<(&str, &str), (u64, u64)>,
    from: &LocationId,
    to: &LocationId,
    lines: &[(Sku, i64)],
) -> String {
    let Some(placement) = &plan.placement else {
        return String::new();
    };
    let (before, after) = (&placement.before, &placement.after);
    let currency = plan
        .currency
        .map_or_else(String::new, |currency| format!(" {currency}"));
    let mut text = format!(
        "inventory placement for {} days from {}, on the demand of the last {} days by region: \
         serving it from today's stock costs {:.2}{currency} in shipping at {:.2} transit days \
         per unit ({:.1} units unserved), from the target placement {:.2}{currency} at {:.2} days \
         ({:.1} unserved); the cost of this transfer is not weighed in.",
        plan.horizon_days,
        plan.today
            .map_or_else(|| "today".to_string(), |day| day.to_string()),
        plan.window_days,
        before.expected_cost,
        before.expected_days,
        before.unserved,
        after.expected_cost,
        after.expected_days,
        after.unserved,
    );
    let target = |sku: &Sku, center: &LocationId| {
        targets
            .get(&(sku.as_str(), center.as_str()))
            .copied()
            .unwrap_or((0, 0))
    };
    for (written, (sku, _)) in lines.iter().enumerate() {
        let (at_to, to_target) = target(sku, to);
        let (at_from, from_target) = target(sku, from);
        let line = format!(" {sku}: {to} {at_to} → {to_target}, {from} {at_from} → {from_target}.");
        let rest = format!(" … and {} more items.", lines.len() - written);
        if text.len() + line.len() + rest.len() > PROPOSAL_TEXT_MAX {
            text.push_str(&rest);
            break;
        }
        text.push_str(&line);
    }
    text
}
