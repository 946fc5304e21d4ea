//! A scenario: the brand a simulation runs, read from TOML and checked before anything runs.
//!
//! Every field is documented in docs/simulator.md; `scenarios/default.toml` is the brand
//! `flowline demo` runs. Amounts are in major units of the named currency (`24.50`), rates are
//! probabilities between 0 and 1, durations are days unless the name says otherwise.

use jiff::civil::Date;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The default brand, as checked into the repository.
pub const DEFAULT: &str = include_str!("../../../scenarios/default.toml");

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The brand.
    pub brand: Brand,
    /// How customers order.
    pub demand: Demand,
    /// The item range.
    pub catalog: Catalog,
    /// Item categories.
    #[serde(rename = "category")]
    pub categories: Vec<Category>,
    /// Fulfillment centers.
    #[serde(rename = "center")]
    pub centers: Vec<Center>,
    /// Suppliers.
    #[serde(rename = "supplier")]
    pub suppliers: Vec<SupplierSpec>,
    /// Sales channels.
    #[serde(rename = "channel")]
    pub channels: Vec<Channel>,
    /// Ship-to regions, where customers live.
    #[serde(rename = "region")]
    pub regions: Vec<Region>,
    /// Carriers.
    #[serde(rename = "carrier")]
    pub carriers: Vec<CarrierSpec>,
    /// Returns.
    pub returns: Returns,
    /// The replenishment policy.
    pub replenishment: Replenishment,
    /// Costs posted by SCOR process.
    pub costs: Costs,
    /// Cycle counts.
    #[serde(default)]
    pub counts: Counts,
    /// Fixed assets bought at the start.
    #[serde(default, rename = "fixed_asset")]
    pub fixed_assets: Vec<FixedAssetSpec>,
    /// Targets the brand sets itself at the start.
    #[serde(default, rename = "target")]
    pub targets: Vec<TargetSpec>,
    /// Improvement initiatives the brand starts along the way.
    #[serde(default, rename = "initiative")]
    pub initiatives: Vec<InitiativeSpec>,
}

/// The brand.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Brand {
    /// Display name.
    pub name: String,
    /// Base currency (ISO 4217).
    pub currency: String,
    /// IANA time zone the scorecard's days are counted in.
    pub reporting_time_zone: String,
    /// First simulated day.
    pub start: Date,
}

/// A mean and a standard deviation.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
}

/// How customers order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demand {
    /// Orders per day on an ordinary day at the start, all channels together.
    pub orders_per_day: f64,
    /// Growth over a year: 0.2 is 20 % more orders a day at the end of the year.
    pub trend_per_year: f64,
    /// Multipliers Monday to Sunday.
    pub weekly: [f64; 7],
    /// Multipliers January to December.
    pub yearly: [f64; 12],
    /// Share of a day's orders in each local hour, 0 to 23 (normalised).
    pub hourly: [f64; 24],
    /// Announced peaks.
    #[serde(default, rename = "peak")]
    pub peaks: Vec<Peak>,
    /// Unannounced flash sales.
    pub flash_sales: FlashSales,
    /// Share of orders the customer cancels before they ship.
    pub customer_cancel_rate: f64,
    /// Distinct customers.
    pub customers: u32,
}

/// An announced peak (a holiday sale), yearly on the same dates.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peak {
    /// Name.
    pub name: String,
    /// First day (month and day are used every year).
    pub from: Date,
    /// Last day, inclusive.
    pub to: Date,
    /// Demand multiplier on those days.
    pub multiplier: f64,
}

/// Flash sales: unannounced, at days drawn from the seed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlashSales {
    /// Expected number a year.
    pub per_year: f64,
    /// Length in days.
    pub days: u32,
    /// Demand multiplier while one runs.
    pub multiplier: f64,
    /// Share of a flash sale's extra orders that are for one featured category.
    pub featured_share: f64,
}

/// The item range.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Items bought from suppliers.
    pub items: u32,
    /// Kits: stocked items assembled from two or three bought items by kitting work orders.
    pub kits: u32,
    /// Bundles: sold as one, picked as their components.
    pub bundles: u32,
    /// Zipf exponent of item popularity within a category (1.0: the second item sells half as
    /// much as the first).
    pub popularity_exponent: f64,
    /// Order lines per order: 1 + Poisson(mean − 1).
    pub lines_per_order: f64,
    /// Days of expected demand each center holds at the start.
    pub opening_stock_days: f64,
}

/// An item category.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Name (`mugs`).
    pub name: String,
    /// Share of the catalog's items and of demand.
    pub share: f64,
    /// Price range, major units of the base currency.
    pub price: [f64; 2],
    /// Unit cost as a share of price.
    pub cost_share: f64,
    /// Weight range, grams.
    pub weight_g: [i64; 2],
    /// Suppliers, by id; the first is the usual one.
    pub suppliers: Vec<String>,
    /// Share of units sold that come back.
    pub return_rate: f64,
    /// Return reasons and their weights.
    pub return_reasons: BTreeMap<String, f64>,
}

/// A fulfillment center.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Center {
    /// Id (`FC-EAST`).
    pub id: String,
    /// Name.
    pub name: String,
    /// The region it stands in (a `[[region]]` id); orders from there ship from here first.
    pub region: String,
    /// City.
    pub city: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Orders it can ship a day.
    pub capacity_orders_per_day: u32,
    /// Local hours at which pick waves start.
    pub waves: Vec<u32>,
    /// Local hour of the carrier pick-up: what is packed by then leaves that day.
    pub pickup_hour: u32,
    /// Storage fee per unit held per month.
    pub storage_fee_per_unit_month: f64,
    /// Pick fee per unit.
    pub pick_fee_per_unit: f64,
    /// Pack fee per order.
    pub pack_fee_per_order: f64,
    /// Day it opens, if later than the start.
    #[serde(default)]
    pub opens: Option<Date>,
    /// Where it is, `[latitude, longitude]` in degrees: shipments' emissions start here. Absent,
    /// the metrics fall back to the centroid of its address's region or country.
    #[serde(default)]
    pub coordinates: Option<[f64; 2]>,
}

/// A supplier.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierSpec {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Country (ISO 3166 alpha-2).
    pub country: String,
    /// Currency it bills in.
    pub currency: String,
    /// Units of the base currency per unit of its currency.
    #[serde(default = "default_one")]
    pub exchange_rate: f64,
    /// Days from order to arrival at the dock.
    pub lead_time_days: Spread,
    /// Days to confirm an order.
    pub confirm_days: f64,
    /// Share of orders that arrive by the committed date.
    pub on_time_rate: f64,
    /// Share of orders delivered in full at first arrival (the rest arrive short and the
    /// remainder follows).
    pub in_full_rate: f64,
    /// Share of received order lines with a quality problem; such a line has 2–10 % of its
    /// units rejected.
    pub reject_rate: f64,
    /// Minimum order quantity per line.
    pub minimum_order_quantity: i64,
    /// Payment terms, days after the bill.
    pub payment_terms_days: i64,
    /// Import duty as a share of goods value (0 for a domestic supplier).
    #[serde(default)]
    pub duty_rate: f64,
}

fn default_one() -> f64 {
    1.0
}

/// How a channel's customers pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payment {
    /// Card at checkout.
    AtOrder,
    /// On the invoice's terms.
    OnTerms,
}

/// A sales channel.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// Id (`web`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Share of orders.
    pub share: f64,
    /// How its customers pay.
    pub payment: Payment,
    /// Invoice terms in days, for `on_terms`.
    #[serde(default)]
    pub terms_days: i64,
    /// Days customers on terms pay after the due date (mean and spread; can be negative).
    #[serde(default)]
    pub payment_delay_days: Option<Spread>,
    /// Units per line: 1 + Poisson(mean − 1).
    pub units_per_line: f64,
    /// Price as a share of list price (wholesale buys at a discount).
    #[serde(default = "default_one")]
    pub price_share: f64,
    /// Shipping charged per order, major units.
    #[serde(default)]
    pub shipping_charge: f64,
    /// Its service levels.
    #[serde(rename = "service")]
    pub services: Vec<ServiceLevel>,
}

/// Where a channel's promise comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromiseRule {
    /// A date shown at checkout.
    Checkout,
    /// Derived from the service level when the order is accepted.
    Derived,
    /// No promise.
    None,
}

/// A service level a channel sells.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceLevel {
    /// Name (`standard`, `next_day`).
    pub name: String,
    /// Share of the channel's orders.
    pub share: f64,
    /// Carrier id.
    pub carrier: String,
    /// Carrier service code.
    pub service: String,
    /// Where the promise comes from.
    pub promise: PromiseRule,
    /// Business days from the ship day to the promised delivery day.
    pub promise_days: i64,
    /// Local hour (at the center) after which an order ships the next working day.
    pub cutoff_hour: u32,
}

/// A ship-to region.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Id (`us-east`).
    pub id: String,
    /// Country.
    pub country: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Share of customers.
    pub share: f64,
    /// Road distance from each center, km (for transit times and rate zones).
    pub distance_km: BTreeMap<String, f64>,
    /// Where its customers are, `[latitude, longitude]` in degrees (a point standing for the
    /// region): ship-to addresses carry it, and shipments' emissions end there.
    #[serde(default)]
    pub coordinates: Option<[f64; 2]>,
}

/// A carrier.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierSpec {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Upper bounds, in km from the shipping center, of the carrier's rate zones, ascending:
    /// `[240, 480]` makes zone 1 up to 240 km, zone 2 up to 480 km and zone 3 beyond. None: one
    /// zone.
    #[serde(default)]
    pub zones_km: Vec<f64>,
    /// Services.
    #[serde(rename = "service")]
    pub services: Vec<CarrierServiceSpec>,
}

impl CarrierSpec {
    /// The rate zone (0 for the first) of a shipment travelling `km`.
    pub fn zone(&self, km: f64) -> usize {
        self.zones_km.partition_point(|&upper| upper < km)
    }
}

/// A carrier service.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierServiceSpec {
    /// Code (`ground`).
    pub code: String,
    /// Transport mode: road, rail, sea, air.
    pub mode: String,
    /// Published transit days within one zone.
    pub transit_days: i64,
    /// Extra transit days per 1,000 km beyond the first.
    pub days_per_1000_km: f64,
    /// Share of shipments a day or more later than published.
    pub late_rate: f64,
    /// Share delivered damaged.
    pub damage_rate: f64,
    /// Share lost.
    pub loss_rate: f64,
    /// Price per shipment, major units.
    pub rate_per_shipment: f64,
    /// Price per kg, major units.
    pub rate_per_kg: f64,
    /// The price (per shipment and per kg) in each rate zone of the carrier, as a multiple of
    /// the two rates above: one factor per zone. None: the same price in every zone.
    #[serde(default)]
    pub zone_factors: Vec<f64>,
}

impl CarrierServiceSpec {
    /// The price of a shipment of `weight_g` grams in `zone`, major units.
    pub fn price(&self, zone: usize, weight_g: i64) -> f64 {
        let factor = self.zone_factors.get(zone).copied().unwrap_or(1.0);
        (self.rate_per_shipment + self.rate_per_kg * weight_g as f64 / 1000.0) * factor
    }
}

/// Returns.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Returns {
    /// Days after delivery a customer may return.
    pub window_days: i64,
    /// Days from delivery to the return request.
    pub request_days: Spread,
    /// Days in transit back.
    pub transit_days: Spread,
    /// Days from arrival to inspection.
    pub inspection_days: Spread,
    /// Carrier and service of return labels.
    pub carrier: String,
    /// Service code.
    pub service: String,
    /// What a return label costs, major units.
    pub label_cost: f64,
    /// Share of customers who return far more than others.
    pub abusive_customer_share: f64,
    /// How many times more often they return.
    pub abusive_multiplier: f64,
    /// Condition found at inspection by reason: weights of new, like_new, used, damaged,
    /// defective. Reasons not listed use `default`.
    pub conditions: BTreeMap<String, [f64; 5]>,
}

/// The replenishment policy: a periodic-review reorder point with order-up-to level.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replenishment {
    /// Local hour (reporting zone) of the daily review.
    pub review_hour: u32,
    /// Safety factor z (1.65 ≈ 95 % cycle service level).
    pub safety_z: f64,
    /// Days of demand ordered on top of the reorder point.
    pub cover_days: f64,
    /// Smoothing constant of the demand forecast (exponential smoothing of daily demand).
    pub forecast_alpha: f64,
    /// The rule that sets bought items' reorder points: `fixed` (the default) or `planner`.
    #[serde(default)]
    pub policy: ReorderPolicy,
    /// The cycle service level `planner` aims for: the probability that a replenishment cycle
    /// has no stockout, strictly between 0 and 1 (0.95 by default). `fixed` uses `safety_z`.
    #[serde(default = "default_service_level")]
    pub service_level: f64,
    /// For `planner`: what placing one purchase order line costs, in the brand's currency (the
    /// EOQ's `K`; 15 by default).
    #[serde(default = "default_order_cost")]
    pub order_cost: f64,
    /// For `planner`: the yearly cost of holding a unit as a share of its cost (capital, risk,
    /// insurance; 0.25 by default), to which the center's storage fee is added for the EOQ's
    /// `h`.
    #[serde(default = "default_holding_rate")]
    pub holding_rate: f64,
    /// Days a backordered order waits before the brand cancels what is missing.
    pub backorder_cancel_days: i64,
    /// Days of kit demand one kitting work order makes.
    pub kit_batch_days: f64,
    /// Hours a kitting work order takes.
    pub kitting_hours: f64,
    /// Share of kits failing the quality check.
    pub kitting_fail_rate: f64,
}

/// The service level `planner` aims for when a scenario does not say.
fn default_service_level() -> f64 {
    0.95
}

/// What `planner` counts for placing an order line when a scenario does not say.
fn default_order_cost() -> f64 {
    15.0
}

/// The yearly holding rate `planner` counts when a scenario does not say.
fn default_holding_rate() -> f64 {
    0.25
}

/// The rule that sets the reorder point of bought items in the daily review.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(from = "String")]
pub enum ReorderPolicy {
    /// `fixed`: `forecast × cover + safety_z × spread × √cover`, where `cover` is the supplier's
    /// mean lead time, its confirmation days and one review day.
    #[default]
    Fixed,
    /// `planner`: a forecast that knows the brand's season, the reorder point `flowline-plan`
    /// gives for `service_level` over the supplier's measured lead time and its spread, and an
    /// economic order quantity on top, rounded up to the supplier's minimum.
    Planner,
    /// A name that is neither; [`Scenario::problems`] refuses it at `replenishment.policy`.
    Unknown(String),
}

impl From<String> for ReorderPolicy {
    fn from(name: String) -> Self {
        match name.as_str() {
            "fixed" => Self::Fixed,
            "planner" => Self::Planner,
            _ => Self::Unknown(name),
        }
    }
}

/// A recurring cost.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthlyCost {
    /// What it is.
    pub name: String,
    /// SCOR process: plan, source, make, deliver, return, enable.
    pub process: String,
    /// Kind: carrier, pick_pack, storage, labour, software, packaging, duties, other.
    pub cost_type: String,
    /// Amount a month, major units.
    pub amount: f64,
}

/// Costs posted by SCOR process besides the ones the model derives (carrier charges, center
/// fees, duties).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Costs {
    /// Recurring monthly costs.
    #[serde(rename = "monthly")]
    pub monthly: Vec<MonthlyCost>,
    /// Packaging per shipment, major units.
    pub packaging_per_shipment: f64,
    /// Labour per returned unit handled, major units.
    pub return_labour_per_unit: f64,
    /// Labour per kit made, major units.
    pub kitting_labour_per_unit: f64,
}

/// Cycle counts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// Items counted per center per week.
    pub items_per_week: u32,
    /// Share of counted item-locations found off by a unit or two.
    pub error_rate: f64,
}

impl Default for Counts {
    fn default() -> Self {
        Self {
            items_per_week: 0,
            error_rate: 0.0,
        }
    }
}

/// A fixed asset bought on the first day and depreciated monthly.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedAssetSpec {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Cost, major units.
    pub cost: f64,
    /// Useful life, months.
    pub life_months: i64,
    /// SCOR process its depreciation is charged to.
    pub process: String,
}

/// A target on one metric, set on the first day.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Id.
    pub id: String,
    /// The Flowline metric id (`rl.perfect_order`).
    pub metric: String,
    /// The target in the metric's display unit (95.0 for 95 %, 4.5 for 4.5 days).
    pub value: f64,
    /// `at_least` or `at_most`.
    pub direction: String,
    /// Where the value came from.
    #[serde(default)]
    pub source: Option<String>,
    /// The slice it applies to, as `dimension = value` (`channel = "WEB"`); the whole brand
    /// when absent.
    #[serde(default)]
    pub scope: Option<ScopeSpec>,
}

/// A slice of the scorecard.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeSpec {
    /// The dimension (`channel`, `center`, `carrier`, `supplier`, ...).
    pub dimension: String,
    /// Its value.
    pub value: String,
}

/// An improvement initiative, created and put in progress on a day of the run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitiativeSpec {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The metrics it should move.
    pub metrics: Vec<String>,
    /// Who leads it.
    pub owner: String,
    /// What it should achieve, in words.
    pub expected_effect: String,
    /// Days after the first simulated day it starts.
    pub starts_after_days: i64,
}

/// Why a scenario was refused: the file, the key and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {location}: {why}")]
pub struct ScenarioError {
    /// The file (or `<default>`).
    pub file: String,
    /// `line L, column C` for syntax and type errors; the dotted key for the rest.
    pub location: String,
    /// What is wrong.
    pub why: String,
}

/// Every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl Scenario {
    /// The default brand.
    pub fn default_brand() -> Self {
        match Self::parse(DEFAULT, "scenarios/default.toml") {
            Ok(scenario) => scenario,
            // The file is checked by a test; this cannot happen in a released build.
            Err(errors) => panic!("the built-in scenario is invalid: {errors}"),
        }
    }

    /// Kilometres from region `region` to center `center` (indexes into `regions` and
    /// `centers`). Validation requires every region to give every center a distance.
    pub fn distance_km(&self, region: usize, center: usize) -> f64 {
        self.regions[region]
            .distance_km
            .get(&self.centers[center].id)
            .copied()
            .unwrap_or(f64::MAX)
    }

    /// The same brand at another scale: `orders_per_day` at the start, with center capacities,
    /// customers, suppliers' minimum order quantities, monthly costs and fixed assets scaled
    /// alike, so centers are as busy and overheads as large a share as before.
    pub fn scaled(mut self, orders_per_day: f64) -> Self {
        let factor = orders_per_day / self.demand.orders_per_day;
        if !(factor.is_finite() && factor > 0.0) {
            return self;
        }
        self.demand.orders_per_day = orders_per_day;
        self.demand.customers = ((f64::from(self.demand.customers) * factor).round() as u32).max(1);
        for center in &mut self.centers {
            center.capacity_orders_per_day =
                ((f64::from(center.capacity_orders_per_day) * factor).round() as u32).max(1);
        }
        // A smaller brand buys in smaller lots and has smaller overheads.
        for supplier in &mut self.suppliers {
            supplier.minimum_order_quantity =
                ((supplier.minimum_order_quantity as f64 * factor).round() as i64).max(1);
        }
        for cost in &mut self.costs.monthly {
            cost.amount = (cost.amount * factor * 100.0).round() / 100.0;
        }
        for asset in &mut self.fixed_assets {
            asset.cost = (asset.cost * factor * 100.0).round() / 100.0;
        }
        self
    }

    /// Reads and checks a scenario file. A file may start from another with
    /// `base = "default"` (the built-in brand) or `base = "other.toml"` (relative to the file)
    /// and change only what differs: tables merge key by key, arrays of tables merge element by
    /// element on `id` (or `code`, or `name`), new elements are added, other values replace.
    pub fn load(path: &Path) -> Result<Self, ScenarioErrors> {
        let file = path.display().to_string();
        let text = read(path, &file)?;
        let directory = path.parent().unwrap_or(Path::new("."));
        Self::parse_in(&text, &file, directory)
    }

    /// Parses and checks scenario text; `file` names it in errors; a `base` other than
    /// `default` is read relative to the working directory.
    pub fn parse(text: &str, file: &str) -> Result<Self, ScenarioErrors> {
        Self::parse_in(text, file, Path::new("."))
    }

    fn parse_in(text: &str, file: &str, directory: &Path) -> Result<Self, ScenarioErrors> {
        let table = document(text, file)?;
        let scenario: Self = if table.contains_key("base") {
            let merged = resolve(table, file, directory, 0)?;
            let deserializer = toml::Value::Table(merged);
            serde_path_to_error::deserialize(deserializer).map_err(|error| {
                let location = error.path().to_string();
                one(
                    file,
                    &format!("{location} (after applying its base)"),
                    // The message's first line; the rest repeats the key.
                    error
                        .into_inner()
                        .to_string()
                        .lines()
                        .next()
                        .unwrap_or_default(),
                )
            })?
        } else {
            toml::from_str(text).map_err(|error| {
                let location = match error.span() {
                    Some(span) => {
                        let (line, column) = line_column(text, span.start);
                        format!("line {line}, column {column}")
                    }
                    None => "document".into(),
                };
                one(file, &location, error.message().trim())
            })?
        };
        let problems = scenario.problems();
        if problems.is_empty() {
            Ok(scenario)
        } else {
            Err(ScenarioErrors(
                problems
                    .into_iter()
                    .map(|(key, why)| ScenarioError {
                        file: file.to_string(),
                        location: key,
                        why,
                    })
                    .collect(),
            ))
        }
    }

    /// What is wrong beyond types: references, ranges, shares. Each as (dotted key, why).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut check = Checker::default();
        let currency_ok = |code: &str| flowline_core::money::Currency::parse(code).is_ok();
        let zone_ok = |zone: &str| jiff::tz::TimeZone::get(zone).is_ok();
        if !currency_ok(&self.brand.currency) {
            check.fail(
                "brand.currency",
                format!("`{}` is not an ISO 4217 code", self.brand.currency),
            );
        }
        if !zone_ok(&self.brand.reporting_time_zone) {
            check.fail(
                "brand.reporting_time_zone",
                format!(
                    "`{}` is not an IANA time zone",
                    self.brand.reporting_time_zone
                ),
            );
        }
        let demand = &self.demand;
        check.positive("demand.orders_per_day", demand.orders_per_day);
        check.range("demand.trend_per_year", demand.trend_per_year, -0.9, 10.0);
        for (i, w) in demand.weekly.iter().enumerate() {
            check.non_negative(&format!("demand.weekly[{i}]"), *w);
        }
        for (i, w) in demand.yearly.iter().enumerate() {
            check.non_negative(&format!("demand.yearly[{i}]"), *w);
        }
        for (i, w) in demand.hourly.iter().enumerate() {
            check.non_negative(&format!("demand.hourly[{i}]"), *w);
        }
        if demand.hourly.iter().sum::<f64>() <= 0.0 {
            check.fail("demand.hourly", "at least one hour must have orders".into());
        }
        for (i, peak) in demand.peaks.iter().enumerate() {
            let key = format!("demand.peak[{i}]");
            if peak.to < peak.from {
                check.fail(&format!("{key}.to"), "ends before it starts".into());
            }
            check.positive(&format!("{key}.multiplier"), peak.multiplier);
        }
        check.non_negative("demand.flash_sales.per_year", demand.flash_sales.per_year);
        check.positive(
            "demand.flash_sales.multiplier",
            demand.flash_sales.multiplier,
        );
        check.rate(
            "demand.flash_sales.featured_share",
            demand.flash_sales.featured_share,
        );
        check.rate("demand.customer_cancel_rate", demand.customer_cancel_rate);
        if demand.customers == 0 {
            check.fail("demand.customers", "must be at least 1".into());
        }
        let catalog = &self.catalog;
        if catalog.items < 3 {
            check.fail(
                "catalog.items",
                "must be at least 3 (kits need components)".into(),
            );
        }
        check.range(
            "catalog.popularity_exponent",
            catalog.popularity_exponent,
            0.0,
            5.0,
        );
        check.range(
            "catalog.lines_per_order",
            catalog.lines_per_order,
            1.0,
            50.0,
        );
        check.non_negative("catalog.opening_stock_days", catalog.opening_stock_days);
        if self.categories.is_empty() {
            check.fail("category", "at least one category is needed".into());
        }
        let suppliers: Vec<&str> = self.suppliers.iter().map(|s| s.id.as_str()).collect();
        check.unique("supplier", &suppliers);
        for (i, category) in self.categories.iter().enumerate() {
            let key = format!("category[{i}]");
            check.positive(&format!("{key}.share"), category.share);
            if !(category.price[0] > 0.0 && category.price[0] <= category.price[1]) {
                check.fail(
                    &format!("{key}.price"),
                    "must be [low, high] with 0 < low ≤ high".into(),
                );
            }
            check.range(&format!("{key}.cost_share"), category.cost_share, 0.01, 1.0);
            if !(category.weight_g[0] > 0 && category.weight_g[0] <= category.weight_g[1]) {
                check.fail(
                    &format!("{key}.weight_g"),
                    "must be [low, high] with 0 < low ≤ high".into(),
                );
            }
            if category.suppliers.is_empty() {
                check.fail(
                    &format!("{key}.suppliers"),
                    "at least one supplier is needed".into(),
                );
            }
            for (j, supplier) in category.suppliers.iter().enumerate() {
                if !suppliers.contains(&supplier.as_str()) {
                    check.fail(
                        &format!("{key}.suppliers[{j}]"),
                        format!("no [[supplier]] has id `{supplier}`"),
                    );
                }
            }
            check.rate(&format!("{key}.return_rate"), category.return_rate);
            if category.return_rate > 0.0 && category.return_reasons.values().sum::<f64>() <= 0.0 {
                check.fail(
                    &format!("{key}.return_reasons"),
                    "needs at least one weighted reason".into(),
                );
            }
            for (reason, weight) in &category.return_reasons {
                check.non_negative(&format!("{key}.return_reasons.{reason}"), *weight);
                if flowline_core::id::ReasonCode::parse(reason).is_err() {
                    check.fail(
                        &format!("{key}.return_reasons.{reason}"),
                        "is not a valid reason code".into(),
                    );
                }
            }
        }
        let regions: Vec<&str> = self.regions.iter().map(|r| r.id.as_str()).collect();
        let centers: Vec<&str> = self.centers.iter().map(|c| c.id.as_str()).collect();
        check.unique("center", &centers);
        check.unique("region", &regions);
        if self.centers.is_empty() {
            check.fail("center", "at least one center is needed".into());
        }
        for (i, center) in self.centers.iter().enumerate() {
            let key = format!("center[{i}]");
            check.coordinates(&format!("{key}.coordinates"), center.coordinates);
            if flowline_core::id::LocationId::parse(&center.id).is_err() {
                check.fail(
                    &format!("{key}.id"),
                    format!("`{}` is not a valid id", center.id),
                );
            }
            if !regions.contains(&center.region.as_str()) {
                check.fail(
                    &format!("{key}.region"),
                    format!("no [[region]] has id `{}`", center.region),
                );
            }
            if !zone_ok(&center.time_zone) {
                check.fail(
                    &format!("{key}.time_zone"),
                    format!("`{}` is not an IANA time zone", center.time_zone),
                );
            }
            if center.capacity_orders_per_day == 0 {
                check.fail(
                    &format!("{key}.capacity_orders_per_day"),
                    "must be at least 1".into(),
                );
            }
            if center.waves.is_empty() {
                check.fail(
                    &format!("{key}.waves"),
                    "at least one wave is needed".into(),
                );
            }
            for (j, hour) in center.waves.iter().enumerate() {
                check.hour(&format!("{key}.waves[{j}]"), *hour);
            }
            check.hour(&format!("{key}.pickup_hour"), center.pickup_hour);
            check.non_negative(
                &format!("{key}.storage_fee_per_unit_month"),
                center.storage_fee_per_unit_month,
            );
            check.non_negative(
                &format!("{key}.pick_fee_per_unit"),
                center.pick_fee_per_unit,
            );
            check.non_negative(
                &format!("{key}.pack_fee_per_order"),
                center.pack_fee_per_order,
            );
        }
        if !self
            .centers
            .iter()
            .any(|c| c.opens.is_none_or(|d| d <= self.brand.start))
        {
            check.fail(
                "center",
                "at least one center must be open on brand.start".into(),
            );
        }
        for (i, supplier) in self.suppliers.iter().enumerate() {
            let key = format!("supplier[{i}]");
            if flowline_core::id::SupplierId::parse(&supplier.id).is_err() {
                check.fail(
                    &format!("{key}.id"),
                    format!("`{}` is not a valid id", supplier.id),
                );
            }
            if !currency_ok(&supplier.currency) {
                check.fail(
                    &format!("{key}.currency"),
                    format!("`{}` is not an ISO 4217 code", supplier.currency),
                );
            }
            check.positive(&format!("{key}.exchange_rate"), supplier.exchange_rate);
            if supplier.currency == self.brand.currency && supplier.exchange_rate != 1.0 {
                check.fail(
                    &format!("{key}.exchange_rate"),
                    "must be 1 for the base currency".into(),
                );
            }
            check.positive(
                &format!("{key}.lead_time_days.mean"),
                supplier.lead_time_days.mean,
            );
            check.non_negative(
                &format!("{key}.lead_time_days.sd"),
                supplier.lead_time_days.sd,
            );
            check.non_negative(&format!("{key}.confirm_days"), supplier.confirm_days);
            check.rate(&format!("{key}.on_time_rate"), supplier.on_time_rate);
            check.rate(&format!("{key}.in_full_rate"), supplier.in_full_rate);
            check.rate(&format!("{key}.reject_rate"), supplier.reject_rate);
            if supplier.minimum_order_quantity < 1 {
                check.fail(
                    &format!("{key}.minimum_order_quantity"),
                    "must be at least 1".into(),
                );
            }
            if supplier.payment_terms_days < 0 {
                check.fail(
                    &format!("{key}.payment_terms_days"),
                    "must not be negative".into(),
                );
            }
            check.range(&format!("{key}.duty_rate"), supplier.duty_rate, 0.0, 5.0);
        }
        let carriers: BTreeMap<&str, Vec<&str>> = self
            .carriers
            .iter()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.services.iter().map(|s| s.code.as_str()).collect(),
                )
            })
            .collect();
        check.unique(
            "carrier",
            &self
                .carriers
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>(),
        );
        for (i, carrier) in self.carriers.iter().enumerate() {
            for (j, service) in carrier.services.iter().enumerate() {
                let key = format!("carrier[{i}].service[{j}]");
                if !["road", "rail", "sea", "air"].contains(&service.mode.as_str()) {
                    check.fail(
                        &format!("{key}.mode"),
                        format!("`{}` is not road, rail, sea or air", service.mode),
                    );
                }
                if service.transit_days < 0 {
                    check.fail(
                        &format!("{key}.transit_days"),
                        "must not be negative".into(),
                    );
                }
                check.non_negative(&format!("{key}.days_per_1000_km"), service.days_per_1000_km);
                check.rate(&format!("{key}.late_rate"), service.late_rate);
                check.rate(&format!("{key}.damage_rate"), service.damage_rate);
                check.rate(&format!("{key}.loss_rate"), service.loss_rate);
                check.non_negative(
                    &format!("{key}.rate_per_shipment"),
                    service.rate_per_shipment,
                );
                check.non_negative(&format!("{key}.rate_per_kg"), service.rate_per_kg);
                let zones = carrier.zones_km.len() + 1;
                if !service.zone_factors.is_empty() && service.zone_factors.len() != zones {
                    check.fail(
                        &format!("{key}.zone_factors"),
                        format!(
                            "has {} factors for the carrier's {zones} zones",
                            service.zone_factors.len()
                        ),
                    );
                }
                for (z, factor) in service.zone_factors.iter().enumerate() {
                    check.positive(&format!("{key}.zone_factors[{z}]"), *factor);
                }
            }
            for (z, pair) in carrier.zones_km.windows(2).enumerate() {
                if pair[1] <= pair[0] {
                    check.fail(
                        &format!("carrier[{i}].zones_km[{}]", z + 1),
                        format!("must be above the zone before it ({})", pair[0]),
                    );
                }
            }
            for (z, upper) in carrier.zones_km.iter().enumerate() {
                check.positive(&format!("carrier[{i}].zones_km[{z}]"), *upper);
            }
        }
        let known_service = |carrier: &str, service: &str| {
            carriers
                .get(carrier)
                .is_some_and(|services| services.contains(&service))
        };
        if self.channels.is_empty() {
            check.fail("channel", "at least one channel is needed".into());
        }
        check.unique(
            "channel",
            &self
                .channels
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>(),
        );
        for (i, channel) in self.channels.iter().enumerate() {
            let key = format!("channel[{i}]");
            check.positive(&format!("{key}.share"), channel.share);
            check.range(
                &format!("{key}.units_per_line"),
                channel.units_per_line,
                1.0,
                10_000.0,
            );
            check.range(
                &format!("{key}.price_share"),
                channel.price_share,
                0.01,
                10.0,
            );
            check.non_negative(&format!("{key}.shipping_charge"), channel.shipping_charge);
            if channel.payment == Payment::OnTerms && channel.terms_days <= 0 {
                check.fail(
                    &format!("{key}.terms_days"),
                    "must be positive when payment is on_terms".into(),
                );
            }
            if channel.services.is_empty() {
                check.fail(
                    &format!("{key}.service"),
                    "at least one service level is needed".into(),
                );
            }
            for (j, level) in channel.services.iter().enumerate() {
                let key = format!("{key}.service[{j}]");
                check.positive(&format!("{key}.share"), level.share);
                if !known_service(&level.carrier, &level.service) {
                    check.fail(
                        &format!("{key}.service"),
                        format!(
                            "no carrier `{}` with service `{}`",
                            level.carrier, level.service
                        ),
                    );
                }
                if level.promise_days < 0 {
                    check.fail(
                        &format!("{key}.promise_days"),
                        "must not be negative".into(),
                    );
                }
                check.hour(&format!("{key}.cutoff_hour"), level.cutoff_hour);
            }
        }
        if self.regions.is_empty() {
            check.fail("region", "at least one region is needed".into());
        }
        for (i, region) in self.regions.iter().enumerate() {
            let key = format!("region[{i}]");
            check.positive(&format!("{key}.share"), region.share);
            check.coordinates(&format!("{key}.coordinates"), region.coordinates);
            if !zone_ok(&region.time_zone) {
                check.fail(
                    &format!("{key}.time_zone"),
                    format!("`{}` is not an IANA time zone", region.time_zone),
                );
            }
            for center in &centers {
                match region.distance_km.get(*center) {
                    None => check.fail(
                        &format!("{key}.distance_km"),
                        format!("has no distance to center `{center}`"),
                    ),
                    Some(km) => check.non_negative(&format!("{key}.distance_km.{center}"), *km),
                }
            }
        }
        let returns = &self.returns;
        if returns.window_days < 1 {
            check.fail("returns.window_days", "must be at least 1".into());
        }
        check.non_negative("returns.request_days.mean", returns.request_days.mean);
        check.non_negative("returns.transit_days.mean", returns.transit_days.mean);
        check.non_negative("returns.inspection_days.mean", returns.inspection_days.mean);
        if !known_service(&returns.carrier, &returns.service) {
            check.fail(
                "returns.service",
                format!(
                    "no carrier `{}` with service `{}`",
                    returns.carrier, returns.service
                ),
            );
        }
        check.non_negative("returns.label_cost", returns.label_cost);
        check.rate(
            "returns.abusive_customer_share",
            returns.abusive_customer_share,
        );
        check.range(
            "returns.abusive_multiplier",
            returns.abusive_multiplier,
            1.0,
            100.0,
        );
        if !returns.conditions.contains_key("default") {
            check.fail("returns.conditions", "needs a `default` entry".into());
        }
        for (reason, weights) in &returns.conditions {
            if weights.iter().any(|w| *w < 0.0) || weights.iter().sum::<f64>() <= 0.0 {
                check.fail(
                    &format!("returns.conditions.{reason}"),
                    "weights must be non-negative and not all zero".into(),
                );
            }
        }
        let plan = &self.replenishment;
        check.hour("replenishment.review_hour", plan.review_hour);
        check.range("replenishment.safety_z", plan.safety_z, 0.0, 5.0);
        check.non_negative("replenishment.cover_days", plan.cover_days);
        check.range(
            "replenishment.forecast_alpha",
            plan.forecast_alpha,
            0.001,
            1.0,
        );
        if let ReorderPolicy::Unknown(name) = &plan.policy {
            check.fail(
                "replenishment.policy",
                format!("`{name}` is neither fixed nor planner"),
            );
        }
        check.open_rate("replenishment.service_level", plan.service_level);
        check.non_negative("replenishment.order_cost", plan.order_cost);
        check.range("replenishment.holding_rate", plan.holding_rate, 0.0, 10.0);
        if plan.backorder_cancel_days < 1 {
            check.fail(
                "replenishment.backorder_cancel_days",
                "must be at least 1".into(),
            );
        }
        check.positive("replenishment.kit_batch_days", plan.kit_batch_days);
        check.non_negative("replenishment.kitting_hours", plan.kitting_hours);
        check.rate("replenishment.kitting_fail_rate", plan.kitting_fail_rate);
        for (i, cost) in self.costs.monthly.iter().enumerate() {
            let key = format!("costs.monthly[{i}]");
            if parse_process(&cost.process).is_none() {
                check.fail(
                    &format!("{key}.process"),
                    format!("`{}` is not a SCOR process", cost.process),
                );
            }
            if parse_cost_type(&cost.cost_type).is_none() {
                check.fail(
                    &format!("{key}.cost_type"),
                    format!("`{}` is not a cost type", cost.cost_type),
                );
            }
            check.positive(&format!("{key}.amount"), cost.amount);
        }
        check.non_negative(
            "costs.packaging_per_shipment",
            self.costs.packaging_per_shipment,
        );
        check.non_negative(
            "costs.return_labour_per_unit",
            self.costs.return_labour_per_unit,
        );
        check.non_negative(
            "costs.kitting_labour_per_unit",
            self.costs.kitting_labour_per_unit,
        );
        check.rate("counts.error_rate", self.counts.error_rate);
        for (i, asset) in self.fixed_assets.iter().enumerate() {
            let key = format!("fixed_asset[{i}]");
            check.positive(&format!("{key}.cost"), asset.cost);
            if asset.life_months < 1 {
                check.fail(&format!("{key}.life_months"), "must be at least 1".into());
            }
            if parse_process(&asset.process).is_none() {
                check.fail(
                    &format!("{key}.process"),
                    format!("`{}` is not a SCOR process", asset.process),
                );
            }
        }
        for (i, target) in self.targets.iter().enumerate() {
            let key = format!("target[{i}]");
            if !matches!(target.direction.as_str(), "at_least" | "at_most") {
                check.fail(
                    &format!("{key}.direction"),
                    format!("`{}` is neither at_least nor at_most", target.direction),
                );
            }
            if !target.value.is_finite() {
                check.fail(&format!("{key}.value"), "must be a number".into());
            }
        }
        for (i, initiative) in self.initiatives.iter().enumerate() {
            let key = format!("initiative[{i}]");
            if initiative.metrics.is_empty() {
                check.fail(&format!("{key}.metrics"), "names no metric".into());
            }
            if initiative.starts_after_days < 0 {
                check.fail(
                    &format!("{key}.starts_after_days"),
                    "must be 0 or more".into(),
                );
            }
        }
        check.problems
    }
}

/// A SCOR process by its name.
pub fn parse_process(name: &str) -> Option<flowline_core::ledger::ScorProcess> {
    use flowline_core::ledger::ScorProcess;
    ScorProcess::ALL.into_iter().find(|p| p.as_str() == name)
}

/// A cost type by its name.
pub fn parse_cost_type(name: &str) -> Option<flowline_core::documents::finance::CostType> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

fn one(file: &str, location: &str, why: &str) -> ScenarioErrors {
    ScenarioErrors(vec![ScenarioError {
        file: file.to_string(),
        location: location.to_string(),
        why: why.to_string(),
    }])
}

fn read(path: &Path, file: &str) -> Result<String, ScenarioErrors> {
    std::fs::read_to_string(path)
        .map_err(|error| one(file, "file", &format!("cannot be read: {error}")))
}

/// The largest scenario file read, in bytes: ten times the built-in brand with every table
/// filled in (12 KB). Parsing costs time in proportion to the file, so without a bound a
/// generated file (a million array elements, 2 MB) took seconds to refuse.
pub const SCENARIO_BYTES_MAX: usize = 128 * 1024;

/// Parses TOML text into a table, with syntax errors at their line and column.
fn document(text: &str, file: &str) -> Result<toml::Table, ScenarioErrors> {
    if text.len() > SCENARIO_BYTES_MAX {
        return Err(one(
            file,
            "file",
            &format!(
                "is {} bytes; a scenario file is at most {SCENARIO_BYTES_MAX}",
                text.len()
            ),
        ));
    }
    text.parse::<toml::Table>().map_err(|error| {
        let location = match error.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                format!("line {line}, column {column}")
            }
            None => "document".into(),
        };
        one(file, &location, error.message().trim())
    })
}

/// Applies a table's `base` chain: the base first, then the table over it.
fn resolve(
    mut table: toml::Table,
    file: &str,
    directory: &Path,
    depth: u32,
) -> Result<toml::Table, ScenarioErrors> {
    let Some(base) = table.remove("base") else {
        return Ok(table);
    };
    let Some(name) = base.as_str() else {
        return Err(one(
            file,
            "base",
            "must be a string: `default` or a file name",
        ));
    };
    if depth >= 8 {
        return Err(one(file, "base", "bases nest more than 8 deep (a cycle?)"));
    }
    let (base_table, base_file, base_directory) = if name == "default" {
        (
            document(DEFAULT, "scenarios/default.toml")?,
            "scenarios/default.toml".to_string(),
            directory.to_path_buf(),
        )
    } else {
        let path = directory.join(name);
        let base_file = path.display().to_string();
        let text = read(&path, &base_file).map_err(|mut errors| {
            for error in &mut errors.0 {
                error.file = file.to_string();
                error.location = "base".into();
            }
            errors
        })?;
        let parent = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        (document(&text, &base_file)?, base_file, parent)
    };
    let mut merged = resolve(base_table, &base_file, &base_directory, depth + 1)?;
    merge(&mut merged, table);
    Ok(merged)
}

/// Merges `over` into `into`: tables key by key, arrays of tables element by element on their
/// key (`id`, `code` or `name`), anything else replaced.
fn merge(into: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(base)), toml::Value::Table(table)) => merge(base, table),
            (Some(toml::Value::Array(base)), toml::Value::Array(array))
                if keyed(base).is_some() && keyed(&array).is_some() =>
            {
                let field = keyed(base).unwrap_or("id");
                for element in array {
                    let toml::Value::Table(element) = element else {
                        continue;
                    };
                    let wanted = element.get(field).cloned();
                    match base
                        .iter_mut()
                        .find(|b| b.as_table().and_then(|t| t.get(field)) == wanted.as_ref())
                    {
                        Some(toml::Value::Table(existing)) => merge(existing, element),
                        _ => base.push(toml::Value::Table(element)),
                    }
                }
            }
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// The field that identifies the elements of an array of tables, if every element has it.
fn keyed(array: &[toml::Value]) -> Option<&'static str> {
    ["id", "code", "name"].into_iter().find(|field| {
        !array.is_empty()
            && array
                .iter()
                .all(|v| v.as_table().is_some_and(|t| t.contains_key(*field)))
    })
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[derive(Default)]
struct Checker {
    problems: Vec<(String, String)>,
}

impl Checker {
    fn fail(&mut self, key: &str, why: String) {
        self.problems.push((key.to_string(), why));
    }

    fn finite(&mut self, key: &str, value: f64) -> bool {
        if value.is_finite() {
            true
        } else {
            self.fail(key, "must be a finite number".into());
            false
        }
    }

    fn positive(&mut self, key: &str, value: f64) {
        if self.finite(key, value) && value <= 0.0 {
            self.fail(key, format!("must be positive, is {value}"));
        }
    }

    fn non_negative(&mut self, key: &str, value: f64) {
        if self.finite(key, value) && value < 0.0 {
            self.fail(key, format!("must not be negative, is {value}"));
        }
    }

    fn rate(&mut self, key: &str, value: f64) {
        self.range(key, value, 0.0, 1.0);
    }

    /// A probability strictly between 0 and 1.
    fn open_rate(&mut self, key: &str, value: f64) {
        if self.finite(key, value) && !(value > 0.0 && value < 1.0) {
            self.fail(key, format!("must be strictly between 0 and 1, is {value}"));
        }
    }

    fn range(&mut self, key: &str, value: f64, low: f64, high: f64) {
        if self.finite(key, value) && !(low..=high).contains(&value) {
            self.fail(key, format!("must be between {low} and {high}, is {value}"));
        }
    }

    fn coordinates(&mut self, key: &str, coordinates: Option<[f64; 2]>) {
        if let Some([latitude, longitude]) = coordinates {
            self.range(&format!("{key}[0]"), latitude, -90.0, 90.0);
            self.range(&format!("{key}[1]"), longitude, -180.0, 180.0);
        }
    }

    fn hour(&mut self, key: &str, hour: u32) {
        if hour > 23 {
            self.fail(key, format!("must be an hour from 0 to 23, is {hour}"));
        }
    }

    fn unique(&mut self, table: &str, ids: &[&str]) {
        for (i, id) in ids.iter().enumerate() {
            if ids[..i].contains(id) {
                self.fail(&format!("{table}[{i}].id"), format!("`{id}` is used twice"));
            }
        }
    }
}
