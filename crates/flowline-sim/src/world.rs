//! What a scenario becomes before the first day: the catalog with prices, costs, suppliers and
//! popularity, the centers and lanes, and the expected demand per item and center that sets
//! opening stock and the first forecasts. Drawn once from the seed.

use crate::dice::{Dice, cumulative};
use crate::driver::SimError;
use crate::model::id;
use crate::scenario::Scenario;
use flowline_core::id::{LocationId, Sku, SupplierId};
use flowline_core::money::Currency;
use jiff::tz::TimeZone;

/// How an item comes to be stocked.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Bought from suppliers (indices into [`World::suppliers`], the first the usual one).
    Bought(Vec<usize>),
    /// Made by kitting work orders from components (item index, units per kit).
    Kit(Vec<(usize, i64)>),
    /// Never stocked: sold as one, picked as its components.
    Bundle(Vec<(usize, i64)>),
}

/// An item.
#[derive(Debug, Clone)]
pub struct Item {
    /// SKU.
    pub sku: Sku,
    /// Category index; kits and bundles take their first component's.
    pub category: usize,
    /// Category label shown in the catalog (`gift_sets` for kits and bundles).
    pub label: String,
    /// List price, base minor units.
    pub price: i64,
    /// Unit cost, base minor units.
    pub cost: i64,
    /// Weight, grams.
    pub weight_g: i64,
    /// How it is stocked.
    pub kind: Kind,
}

/// A center.
#[derive(Debug, Clone)]
pub struct Center {
    /// Id.
    pub id: LocationId,
    /// Time zone.
    pub zone: TimeZone,
}

/// A supplier.
#[derive(Debug, Clone)]
pub struct Supplier {
    /// Id.
    pub id: SupplierId,
    /// Its currency.
    pub currency: Currency,
}

/// Everything fixed for the run.
pub struct World {
    /// Base currency.
    pub currency: Currency,
    /// Reporting zone.
    pub zone: TimeZone,
    /// Items: bought ones first, then kits, then bundles.
    pub items: Vec<Item>,
    /// Per category: the items sold in it (bought items only) and their cumulative popularity.
    pub category_items: Vec<(Vec<usize>, Vec<f64>)>,
    /// Kits and bundles with their cumulative popularity.
    pub gift_items: (Vec<usize>, Vec<f64>),
    /// Cumulative category shares.
    pub category_shares: Vec<f64>,
    /// Centers.
    pub centers: Vec<Center>,
    /// Region time zones.
    pub region_zones: Vec<TimeZone>,
    /// For each region, centers by distance, nearest first.
    pub nearest: Vec<Vec<usize>>,
    /// Suppliers.
    pub suppliers: Vec<Supplier>,
    /// Expected units a day per item and center at the start of the year (before seasonality),
    /// kits' component needs included.
    pub expected: Vec<Vec<f64>>,
    /// Customers who return far more than others: `abusive[customer]`.
    pub abusive: Vec<bool>,
    /// First customer index of each region, and one past the last.
    pub region_customers: Vec<(u32, u32)>,
}

/// Share of demand for kits and bundles.
pub const GIFT_SHARE: f64 = 0.08;

impl World {
    /// Builds the world of `scenario` with draws from `dice`.
    pub fn build(scenario: &Scenario, dice: &mut Dice) -> Result<Self, SimError> {
        let currency: Currency = crate::model::currency(&scenario.brand.currency)?;
        let zone = TimeZone::get(&scenario.brand.reporting_time_zone).unwrap_or(TimeZone::UTC);
        let exponent = 10f64.powi(currency.exponent() as i32);
        let total_share: f64 = scenario.categories.iter().map(|c| c.share).sum();
        let mut items = Vec::new();
        let mut category_items = vec![(Vec::new(), Vec::new()); scenario.categories.len()];
        // Bought items, spread over the categories by share (at least one each).
        let counts = spread(
            scenario.catalog.items as usize,
            &scenario
                .categories
                .iter()
                .map(|c| c.share / total_share)
                .collect::<Vec<_>>(),
        );
        for (category_index, (category, count)) in
            scenario.categories.iter().zip(counts).enumerate()
        {
            let suppliers: Vec<usize> = category
                .suppliers
                .iter()
                .filter_map(|id| scenario.suppliers.iter().position(|s| &s.id == id))
                .collect();
            let mut weights = Vec::new();
            for rank in 0..count {
                let price_major = dice.uniform(category.price[0], category.price[1]);
                let price = ((price_major * 100.0).round() / 100.0 * exponent).round() as i64;
                let cost = ((price as f64) * category.cost_share).round().max(1.0) as i64;
                let weight_g = dice.between(category.weight_g[0], category.weight_g[1]);
                let prefix: String = category
                    .name
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .take(4)
                    .collect::<String>()
                    .to_uppercase();
                let sku: Sku = id(&format!("{prefix}-{:04}", rank + 1))?;
                category_items[category_index].0.push(items.len());
                weights.push(1.0 / ((rank + 1) as f64).powf(scenario.catalog.popularity_exponent));
                items.push(Item {
                    sku,
                    category: category_index,
                    label: category.name.clone(),
                    price,
                    cost,
                    weight_g,
                    kind: Kind::Bought(suppliers.clone()),
                });
            }
            category_items[category_index].1 = cumulative(weights);
        }
        // Kits and bundles from two or three of the more popular bought items.
        let mut gift = Vec::new();
        let mut gift_weights = Vec::new();
        for number in 0..(scenario.catalog.kits + scenario.catalog.bundles) as usize {
            let is_kit = number < scenario.catalog.kits as usize;
            let parts = dice.between(2, 3) as usize;
            let mut components: Vec<(usize, i64)> = Vec::new();
            while components.len() < parts {
                // The top half of the catalog by popularity within a random category.
                let category = dice.pick(
                    &scenario
                        .categories
                        .iter()
                        .map(|c| c.share)
                        .collect::<Vec<_>>(),
                );
                let members = &category_items[category].0;
                if members.is_empty() {
                    continue;
                }
                let item = members[dice.between(0, (members.len() as i64 / 2).max(1) - 1) as usize];
                if !components.iter().any(|(c, _)| *c == item) {
                    components.push((item, 1));
                }
            }
            let list: i64 = components.iter().map(|(c, q)| items[*c].price * q).sum();
            let cost: i64 = components.iter().map(|(c, q)| items[*c].cost * q).sum();
            let weight_g: i64 = components
                .iter()
                .map(|(c, q)| items[*c].weight_g * q)
                .sum::<i64>()
                + 150;
            let price = (list as f64 * 0.9).round() as i64;
            let category = items[components[0].0].category;
            let name = if is_kit { "KIT" } else { "BNDL" };
            let sku: Sku = id(&format!("{name}-{:03}", number + 1))?;
            gift.push(items.len());
            gift_weights
                .push(1.0 / ((number + 1) as f64).powf(scenario.catalog.popularity_exponent));
            items.push(Item {
                sku,
                category,
                label: "gift_sets".into(),
                price,
                cost,
                weight_g,
                kind: if is_kit {
                    Kind::Kit(components)
                } else {
                    Kind::Bundle(components)
                },
            });
        }
        let gift_items = (gift, cumulative(gift_weights));
        let category_shares = cumulative(scenario.categories.iter().map(|c| c.share));
        let region_zones: Vec<TimeZone> = scenario
            .regions
            .iter()
            .map(|r| TimeZone::get(&r.time_zone).unwrap_or(TimeZone::UTC))
            .collect();
        let centers: Vec<Center> = scenario
            .centers
            .iter()
            .map(|c| {
                Ok(Center {
                    id: id(&c.id)?,
                    zone: TimeZone::get(&c.time_zone).unwrap_or(TimeZone::UTC),
                })
            })
            .collect::<Result<_, SimError>>()?;
        let nearest: Vec<Vec<usize>> = (0..scenario.regions.len())
            .map(|region| {
                let mut order: Vec<usize> = (0..centers.len()).collect();
                order.sort_by(|a, b| {
                    let (da, db) = (
                        scenario.distance_km(region, *a),
                        scenario.distance_km(region, *b),
                    );
                    da.total_cmp(&db).then(a.cmp(b))
                });
                order
            })
            .collect();
        let suppliers = scenario
            .suppliers
            .iter()
            .map(|s| {
                Ok(Supplier {
                    id: id(&s.id)?,
                    currency: crate::model::currency(&s.currency)?,
                })
            })
            .collect::<Result<_, SimError>>()?;
        // Expected units a day per item and center: orders × lines × category and item shares ×
        // units per line (channel mix) × the share of customers whose nearest center it is.
        let channel_share: f64 = scenario.channels.iter().map(|c| c.share).sum();
        let units_per_line: f64 = scenario
            .channels
            .iter()
            .map(|c| c.share / channel_share * c.units_per_line)
            .sum();
        let lines_per_day = scenario.demand.orders_per_day * scenario.catalog.lines_per_order;
        let region_total: f64 = scenario.regions.iter().map(|r| r.share).sum();
        let mut center_share = vec![0.0; centers.len()];
        for (region, order) in scenario.regions.iter().zip(&nearest) {
            if let Some(first) = order.first() {
                center_share[*first] += region.share / region_total;
            }
        }
        let mut expected = vec![vec![0.0; centers.len()]; items.len()];
        let share_of = |cumulative: &[f64], i: usize| {
            let total = cumulative.last().copied().unwrap_or(1.0);
            (cumulative[i] - if i == 0 { 0.0 } else { cumulative[i - 1] }) / total
        };
        for (category, (members, popularity)) in category_items.iter().enumerate() {
            let category_share = share_of(&category_shares, category) * (1.0 - GIFT_SHARE);
            for (rank, item) in members.iter().enumerate() {
                let per_day =
                    lines_per_day * category_share * share_of(popularity, rank) * units_per_line;
                for (center, share) in center_share.iter().enumerate() {
                    expected[*item][center] += per_day * share;
                }
            }
        }
        for (rank, item) in gift_items.0.iter().enumerate() {
            let per_day =
                lines_per_day * GIFT_SHARE * share_of(&gift_items.1, rank) * units_per_line;
            let components = match &items[*item].kind {
                Kind::Kit(c) | Kind::Bundle(c) => c.clone(),
                Kind::Bought(_) => Vec::new(),
            };
            for (center, share) in center_share.iter().enumerate() {
                expected[*item][center] += per_day * share;
                for (component, quantity) in &components {
                    expected[*component][center] += per_day * share * *quantity as f64;
                }
            }
        }
        let customers = scenario.demand.customers.max(1);
        let abusive = (0..customers)
            .map(|_| dice.chance(scenario.returns.abusive_customer_share))
            .collect();
        let mut region_customers = Vec::new();
        let mut start = 0u32;
        for (i, region) in scenario.regions.iter().enumerate() {
            let count = if i + 1 == scenario.regions.len() {
                customers - start
            } else {
                ((region.share / region_total) * customers as f64).round() as u32
            };
            let count = count.max(1).min(customers.saturating_sub(start).max(1));
            region_customers.push((start, (start + count).min(customers)));
            start = (start + count).min(customers.saturating_sub(1));
        }
        Ok(Self {
            currency,
            zone,
            items,
            category_items,
            gift_items,
            category_shares,
            centers,
            region_zones,
            nearest,
            suppliers,
            expected,
            abusive,
            region_customers,
        })
    }
}

/// Splits `total` into parts proportional to `shares`, each at least one.
fn spread(total: usize, shares: &[f64]) -> Vec<usize> {
    let mut parts: Vec<usize> = shares
        .iter()
        .map(|s| ((s * total as f64).floor() as usize).max(1))
        .collect();
    let mut assigned: usize = parts.iter().sum();
    let mut i = 0;
    while assigned < total && !parts.is_empty() {
        parts[i % shares.len()] += 1;
        assigned += 1;
        i += 1;
    }
    parts
}
