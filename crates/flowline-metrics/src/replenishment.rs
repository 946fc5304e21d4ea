//! Replenishment proposals from the log: the planner's inputs gathered from the tenant's state
//! and demand history, its answers turned into proposal documents.
//!
//! For every stocked item with demand or stock, and every fulfillment center:
//!
//! 1. **Demand.** The item's daily demand over all channels (the last [`Settings::fit_days`]
//!    days of [`DemandHistory`], stock-out days censored) is forecast by `flowline_plan::forecast` (weekly season,
//!    automatic model choice) over the longest protection interval any supplier needs, and
//!    split between centers by each center's share of the units allocated over the last
//!    [`Settings::share_days`] days; an item never allocated is split evenly. The one-day
//!    forecast error is read from the first day's 80 % interval.
//! 2. **Position.** On hand, reserved, on order (open purchase orders) and in transit (shipped
//!    transfers) at the center, from the state; units backordered on open sales orders (which
//!    wait for stock at no center yet) are split between centers by the same shares, by
//!    largest remainder, so the split keeps their total.
//! 3. **Offers.** Every supplier the item has been bought from, with the last price (converted
//!    at the last order's rate) and the lead time, its spread and the in-full and on-time rates
//!    measured from the log; an item never bought gets every supplier's quoted terms at the
//!    item's standard cost (suppliers in another currency are left out then: no price is
//!    known in their currency). The supplier's minimum order quantity applies; items are
//!    ordered singly (case pack 1) unless their policy says otherwise (below).
//!    Kits (items with a bill of materials) are made, not bought: they are skipped here.
//! 4. **Proposal.** `flowline_plan::replenish::propose_all`, with the supplier-share cap. An
//!    item × center with a proposal still waiting for a decision is skipped, so running the
//!    planner twice does not propose the same units twice.
//!
//!
//! **Policies set by hand.** An item's [`InventoryPolicy`] (at the center, or for every center;
//! [`State::inventory_policy`]) replaces the planner's settings for that item × center: its
//! service target, its review period, a minimum order quantity (the larger of it and the
//! supplier's applies) and a case pack; `replenish = false` skips it. Each item × center's
//! policy in force, with where each figure came from and what it orders today, is in
//! [`Plan::policies`].
//!
//! [`commands`] groups the lines by supplier and center into [`ProposeReplenishment`]s, each
//! line carrying its terms in thousandths of a unit. [`publish_forecast`] records the forecast
//! they rest on: each item's network-wide line, then its share at each center and in each
//! channel ([`Plan::splits`]), so that accuracy can be judged there.

use crate::demand::DemandHistory;
use flowline_core::State;
use flowline_core::documents::forecast::{ForecastLine, PublishForecast};
use flowline_core::documents::replenishment::{
    ProposalLine, ProposalSource, ProposalStatus, ProposeReplenishment, ReplenishmentTerms,
};
use flowline_core::id::{ChannelId, LocationId, ProposalId, Sku, SupplierId};
use flowline_core::master::{InventoryPolicy, stocked_components};
use flowline_core::views;
use flowline_plan::forecast::{self, Options};
use flowline_plan::replenish::{
    self, Explanation, Offer, Proposal, Request, ServiceTarget, StockPosition,
};
use jiff::civil::Date;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How the planner proposes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    /// The service target of the safety stock.
    pub service: ServiceTarget,
    /// Days between planning runs (the review period `R`).
    pub review_period_days: f64,
    /// Annual holding cost as a share of the unit price.
    pub holding_rate: f64,
    /// Fixed cost of one purchase order, base currency (major units); 0: no lot sizing.
    pub order_cost: f64,
    /// The largest share of the proposed value any one supplier may get (1: no cap).
    pub max_supplier_share: f64,
    /// Days of history the forecast is fitted on.
    pub fit_days: usize,
    /// Days of allocations that split an item's forecast between centers.
    pub share_days: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            service: ServiceTarget::CycleServiceLevel(0.95),
            review_period_days: 1.0,
            holding_rate: 0.25,
            order_cost: 0.0,
            max_supplier_share: 1.0,
            fit_days: 365,
            share_days: 90,
        }
    }
}

/// One item × center the planner proposes to order for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Planned {
    /// The item.
    pub sku: Sku,
    /// The center.
    pub location: LocationId,
    /// The chosen supplier.
    pub supplier: SupplierId,
    /// Price per unit in the supplier's currency, minor units.
    pub unit_price_minor: i64,
    /// The forecast model.
    pub model: String,
    /// The center's share of the item's demand.
    pub share: f64,
    /// The service target its safety stock is set for.
    pub service: ServiceTarget,
    /// The planner's proposal, with its explanation and the offers it weighed.
    pub proposal: Proposal,
}

/// Where a figure of a policy in force came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The item's policy at this center.
    Center,
    /// The item's policy for every center.
    Item,
    /// The planner's settings (or, for order quantities, the supplier's terms).
    Planner,
}

/// The policy in force for one item × center, where each of its figures came from, and what
/// it orders today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyInForce {
    /// The item.
    pub sku: Sku,
    /// The center.
    pub location: LocationId,
    /// The service target.
    pub service: ServiceTarget,
    /// Where the service target came from.
    pub service_from: Source,
    /// Days between planning runs.
    pub review_period_days: f64,
    /// Where the review period came from.
    pub review_period_from: Source,
    /// The item's own minimum order quantity, when a policy sets one.
    pub minimum_order_quantity: Option<i64>,
    /// Units per case the orders are rounded to.
    pub case_pack: i64,
    /// Where the case pack came from.
    pub case_pack_from: Source,
    /// The policy set by hand that applies, the center's over the item's; none when the
    /// planner's settings apply whole.
    pub set: Option<InventoryPolicy>,
    /// The forecast model.
    pub model: String,
    /// The center's share of the item's demand.
    pub share: f64,
    /// The best supplier's id.
    pub supplier: String,
    /// Units to order now (0: the position covers the protection interval).
    pub quantity: i64,
    /// Days from today by which an order is due (see [`Proposal::order_by_day`]).
    pub order_by_day: Option<u32>,
    /// The policy's figures today: protection interval, forecast over it, safety stock,
    /// order-up-to level, position, economic order quantity and the rounding.
    pub explanation: Explanation,
}

/// An item × center the planner did not propose for, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The item.
    pub sku: Sku,
    /// The center.
    pub location: Option<LocationId>,
    /// Why.
    pub reason: String,
}

/// A planning run's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    /// The first day planned for: the day after the history's latest order day.
    pub today: Option<Date>,
    /// What to order.
    pub planned: Vec<Planned>,
    /// Item × centers whose position covers the protection interval: nothing to order.
    pub covered: usize,
    /// What was not planned, and why.
    pub skipped: Vec<Skipped>,
    /// Each item's network-wide forecast the plan rests on, from `today`.
    pub forecasts: Vec<ItemForecast>,
    /// The policy in force at every item × center planned, whether it orders or not.
    pub policies: Vec<PolicyInForce>,
    /// How each item's forecast splits between centers and channels; published with the
    /// forecast, not part of the plan's answer.
    #[serde(skip)]
    pub splits: BTreeMap<Sku, Split>,
}

/// How one item's forecast splits: each center's share of its recent allocations (the split
/// the planner orders by) and each channel's share of its recent orders, over
/// [`Settings::share_days`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Split {
    /// Centers and their shares, in center order.
    pub centers: Vec<(LocationId, f64)>,
    /// Channels and their shares, in channel order.
    pub channels: Vec<(ChannelId, f64)>,
}

/// One item's forecast over the whole network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemForecast {
    /// The item.
    pub sku: Sku,
    /// The model.
    pub model: String,
    /// Expected units each day from the plan's first day.
    pub daily: Vec<f64>,
}

/// The one-day forecast error from the first day's interval at this level.
const INTERVAL_LEVEL: f64 = 0.8;
/// Φ⁻¹(0.9): the half-width of an 80 % interval in standard deviations.
const Z_80: f64 = 1.281_551_565_544_600_5;

struct Candidate {
    sku: Sku,
    location: LocationId,
    share: f64,
    model: String,
    prices: Vec<(SupplierId, i64)>,
    policy: Terms,
    request: Request,
}

/// The policy figures one item × center is planned with, and where each came from.
struct Terms {
    service: (ServiceTarget, Source),
    review_period_days: (f64, Source),
    minimum_order_quantity: Option<i64>,
    case_pack: (i64, Source),
    replenish: bool,
    set: Option<InventoryPolicy>,
}

impl Terms {
    /// The planner's settings under the policies set for `sku` at `location`.
    fn of(state: &State, settings: &Settings, sku: &Sku, location: &LocationId) -> Terms {
        let policies = state.inventory_policies.get(sku);
        let own =
            policies.and_then(|all| all.iter().find(|p| p.location.as_ref() == Some(location)));
        let every = policies.and_then(|all| all.iter().find(|p| p.location.is_none()));
        // The center's figure, else the item's, else the planner's.
        fn pick<T>(
            own: Option<&InventoryPolicy>,
            every: Option<&InventoryPolicy>,
            figure: impl Fn(&InventoryPolicy) -> Option<T>,
        ) -> Option<(T, Source)> {
            own.and_then(&figure)
                .map(|value| (value, Source::Center))
                .or_else(|| every.and_then(&figure).map(|value| (value, Source::Item)))
        }
        let service = pick(own, every, |p| {
            let level = p.service_level_milli? as f64 / 1000.0;
            Some(if p.fill_rate {
                ServiceTarget::FillRate(level)
            } else {
                ServiceTarget::CycleServiceLevel(level)
            })
        })
        .unwrap_or((settings.service, Source::Planner));
        let review_period_days = pick(own, every, |p| p.review_period_days.map(|d| d as f64))
            .unwrap_or((settings.review_period_days, Source::Planner));
        let case_pack = pick(own, every, |p| p.case_pack).unwrap_or((1, Source::Planner));
        Terms {
            service,
            review_period_days,
            minimum_order_quantity: pick(own, every, |p| p.minimum_order_quantity)
                .map(|(moq, _)| moq),
            case_pack,
            replenish: pick(own, every, |p| p.replenish).is_none_or(|(replenish, _)| replenish),
            set: state.inventory_policy(sku, location),
        }
    }

    /// `offer` under the policy: the larger minimum order quantity, the policy's case pack.
    fn apply(&self, offer: &Offer) -> Offer {
        Offer {
            minimum_order_quantity: offer
                .minimum_order_quantity
                .max(self.minimum_order_quantity.unwrap_or(0)),
            case_pack: self.case_pack.0,
            ..offer.clone()
        }
    }
}

/// Plans replenishment for every stocked item at every fulfillment center (or only `only`).
pub fn plan(
    state: &State,
    history: &DemandHistory,
    settings: &Settings,
    only: Option<&Sku>,
) -> Plan {
    let mut answer = Plan {
        today: history.latest().and_then(|day| day.tomorrow().ok()),
        ..Plan::default()
    };
    let centers: Vec<LocationId> = {
        let mut ids: Vec<_> = state.locations.keys().cloned().collect();
        ids.sort();
        ids
    };
    if centers.is_empty() {
        return answer;
    }
    // Each item's demand over its channels, a stock-out day unknown (`None`): every series
    // runs to the same latest day, so they are aligned on their ends; an item's stock-out days
    // are the same in every channel.
    let mut demand: BTreeMap<Sku, Vec<Option<f64>>> = BTreeMap::new();
    let mut placed: BTreeMap<Sku, Vec<Option<f64>>> = BTreeMap::new();
    for series in history.series() {
        let placed_here: Vec<Option<f64>> = series.daily.iter().map(|u| Some(*u as f64)).collect();
        add_aligned(placed.entry(series.sku.clone()).or_default(), &placed_here);
        add_aligned(
            demand.entry(series.sku.clone()).or_default(),
            &series.observed(),
        );
    }
    let open: BTreeSet<(Sku, LocationId)> = state
        .proposals
        .values()
        .filter(|p| p.status == ProposalStatus::Proposed)
        .flat_map(|p| {
            p.lines
                .iter()
                .map(move |line| (line.sku.clone(), p.location.clone()))
        })
        .collect();
    let backordered = backorders(state);
    let lifts = history.lifts();
    let mut items: Vec<&Sku> = state
        .items
        .values()
        .filter(|item| !item.is_bundle())
        .map(|item| &item.sku)
        .filter(|sku| only.is_none_or(|wanted| wanted == *sku))
        .collect();
    items.sort();
    let positions = views::positions(state, only, None);
    let mut candidates = Vec::new();
    for sku in items {
        let held: BTreeMap<&LocationId, &views::Position> = positions
            .iter()
            .filter(|p| p.sku == *sku)
            .map(|p| (&p.location, p))
            .collect();
        let series = demand.get(sku);
        if series.is_none() && held.is_empty() {
            continue;
        }
        if state.items.get(sku).is_some_and(|item| item.bom.is_some()) {
            answer.skipped.push(Skipped {
                sku: sku.clone(),
                location: None,
                reason: "made by kitting from its bill of materials, not bought".into(),
            });
            continue;
        }
        let offers = offers_for(state, history, sku);
        if offers.is_empty() {
            answer.skipped.push(Skipped {
                sku: sku.clone(),
                location: None,
                reason: "no supplier can be offered: none has sold it and none quotes in the base currency".into(),
            });
            continue;
        }
        let longest = offers
            .iter()
            .map(|(offer, _)| offer.lead_time_days + 3.0 * offer.lead_time_sd_days)
            .fold(0.0_f64, f64::max);
        let longest_review = state
            .inventory_policies
            .get(sku)
            .into_iter()
            .flatten()
            .filter_map(|p| p.review_period_days)
            .map(|days| days as f64)
            .fold(settings.review_period_days, f64::max);
        let horizon = ((longest + longest_review).ceil() as usize + 7).min(3_000);
        let (daily, sd, model) = match series {
            Some(values) => {
                let options = Options {
                    horizon,
                    season_length: 7,
                    level: INTERVAL_LEVEL,
                };
                let window = |values: &[Option<f64>]| {
                    values[values.len().saturating_sub(settings.fit_days)..].to_vec()
                };
                // When stock-outs leave too few known days to forecast from, the units ordered
                // as placed (a floor under what customers wanted) are forecast instead.
                let made = forecast::forecast(&window(values), &options)
                    .map(|made| (made, ""))
                    .or_else(|error| {
                        let raw = placed.get(sku).map(|raw| window(raw)).unwrap_or_default();
                        forecast::forecast(&raw, &options)
                            .map(|made| (made, " on orders as placed: too few days in stock"))
                            .map_err(|_| error)
                    });
                match made {
                    Ok((made, note)) => {
                        let sd = made
                            .upper
                            .first()
                            .zip(made.mean.first())
                            .map_or(0.0, |(upper, mean)| ((upper - mean) / Z_80).max(0.0));
                        // Promotions lift the days they cover; the days they covered were left
                        // out of the fit.
                        let mut lifted = false;
                        let daily: Vec<f64> = made
                            .mean
                            .iter()
                            .enumerate()
                            .map(|(ahead, mean)| {
                                let factor = answer
                                    .today
                                    .and_then(|today| {
                                        today.checked_add(jiff::Span::new().days(ahead as i64)).ok()
                                    })
                                    .map_or(1.0, |day| lifts.factor(history, sku, day));
                                lifted |= factor != 1.0;
                                mean * factor
                            })
                            .collect();
                        let promoted = if lifted { " with promotions" } else { "" };
                        let model = format!("{}{note}{promoted}", made.model);
                        answer.forecasts.push(ItemForecast {
                            sku: sku.clone(),
                            model: model.clone(),
                            daily: daily.clone(),
                        });
                        (daily, sd, model)
                    }
                    Err(error) => {
                        answer.skipped.push(Skipped {
                            sku: sku.clone(),
                            location: None,
                            reason: format!("the forecast failed: {error}"),
                        });
                        continue;
                    }
                }
            }
            None => (vec![0.0; horizon], 0.0, "no_demand".to_string()),
        };
        let mut shares = history.shares(sku, settings.share_days);
        if shares.is_empty() {
            let even = 1.0 / centers.len() as f64;
            shares = centers.iter().map(|c| (c.clone(), even)).collect();
        }
        let split = split_units(backordered.get(sku).copied().unwrap_or(0), &shares);
        for location in &centers {
            let share = shares
                .iter()
                .find(|(center, _)| center == location)
                .map_or(0.0, |(_, share)| *share);
            let position = held.get(location);
            if share == 0.0 && position.is_none() {
                continue;
            }
            let policy = Terms::of(state, settings, sku, location);
            if !policy.replenish {
                answer.skipped.push(Skipped {
                    sku: sku.clone(),
                    location: Some(location.clone()),
                    reason: "its inventory policy says not to replenish it".into(),
                });
                continue;
            }
            if open.contains(&(sku.clone(), location.clone())) {
                answer.skipped.push(Skipped {
                    sku: sku.clone(),
                    location: Some(location.clone()),
                    reason: "a proposal for it is waiting for a decision".into(),
                });
                continue;
            }
            let stock = StockPosition {
                on_hand: position.map_or(0, |p| p.on_hand.max(0)),
                reserved: position.map_or(0, |p| p.reserved.max(0)),
                backordered: split.get(location).copied().unwrap_or(0),
                on_order: position.map_or(0, |p| p.on_order.max(0)),
                inbound_transfers: position.map_or(0, |p| p.in_transit.max(0)),
            };
            candidates.push(Candidate {
                sku: sku.clone(),
                location: location.clone(),
                share,
                model: model.clone(),
                prices: offers
                    .iter()
                    .map(|(offer, price)| (SupplierId::parse(&offer.supplier).ok(), *price))
                    .filter_map(|(id, price)| Some((id?, price)))
                    .collect(),
                request: Request {
                    demand: daily.iter().map(|d| d * share).collect(),
                    demand_sd: sd * share,
                    position: stock,
                    offers: offers
                        .iter()
                        .map(|(offer, _)| policy.apply(offer))
                        .collect(),
                    service: policy.service.0,
                    review_period_days: policy.review_period_days.0,
                    holding_rate: settings.holding_rate,
                    order_cost: settings.order_cost,
                },
                policy,
            });
        }
    }
    let requests: Vec<Request> = candidates.iter().map(|c| c.request.clone()).collect();
    let proposals = replenish::propose_all(&requests, settings.max_supplier_share);
    for (candidate, result) in candidates.into_iter().zip(proposals) {
        if let Ok(proposal) = &result {
            let terms = &candidate.policy;
            answer.policies.push(PolicyInForce {
                sku: candidate.sku.clone(),
                location: candidate.location.clone(),
                service: terms.service.0,
                service_from: terms.service.1,
                review_period_days: terms.review_period_days.0,
                review_period_from: terms.review_period_days.1,
                minimum_order_quantity: terms.minimum_order_quantity,
                case_pack: terms.case_pack.0,
                case_pack_from: terms.case_pack.1,
                set: terms.set.clone(),
                model: candidate.model.clone(),
                share: candidate.share,
                supplier: proposal.supplier.clone(),
                quantity: proposal.quantity,
                order_by_day: proposal.order_by_day,
                explanation: proposal.explanation.clone(),
            });
        }
        match result {
            Ok(proposal) if proposal.quantity > 0 => {
                let chosen = candidate
                    .prices
                    .iter()
                    .find(|(id, _)| id.as_str() == proposal.supplier);
                let Some((supplier, price)) = chosen.cloned() else {
                    continue;
                };
                answer.planned.push(Planned {
                    sku: candidate.sku,
                    location: candidate.location,
                    supplier,
                    unit_price_minor: price,
                    model: candidate.model,
                    share: candidate.share,
                    service: candidate.policy.service.0,
                    proposal,
                });
            }
            Ok(_) => answer.covered += 1,
            Err(error) => answer.skipped.push(Skipped {
                sku: candidate.sku,
                location: Some(candidate.location),
                reason: error.to_string(),
            }),
        }
    }
    // How each forecast splits, from the same recent window the planner splits by, so the
    // published forecast can be judged at each center and in each channel. An item never
    // allocated has no center split: the even split the planner falls back on then is a
    // placeholder, not a claim about where its demand arises.
    answer.splits = answer
        .forecasts
        .iter()
        .map(|item| {
            let split = Split {
                centers: history.shares(&item.sku, settings.share_days),
                channels: history.channel_shares(&item.sku, settings.share_days),
            };
            (item.sku.clone(), split)
        })
        .collect();
    answer
}

/// Adds `series` to `sum`, the two aligned on their last day (every series of the history runs
/// to the same latest day); a day unknown in either is unknown in the sum.
pub fn add_aligned(sum: &mut Vec<Option<f64>>, series: &[Option<f64>]) {
    if series.len() > sum.len() {
        let mut longer = vec![Some(0.0); series.len() - sum.len()];
        longer.append(sum);
        *sum = longer;
    }
    let earlier = sum.len() - series.len();
    for (slot, value) in sum[earlier..].iter_mut().zip(series) {
        *slot = slot.zip(*value).map(|(a, b)| a + b);
    }
}

/// The offers for `sku`, each with its price in the supplier's currency (minor units).
fn offers_for(state: &State, history: &DemandHistory, sku: &Sku) -> Vec<(Offer, i64)> {
    let Some(base) = state.settings.as_ref().map(|s| s.base_currency) else {
        return Vec::new();
    };
    let mut offers: Vec<(Offer, i64)> = Vec::new();
    for (supplier_id, record) in history.suppliers_of(sku) {
        let Some(supplier) = state.suppliers.get(supplier_id) else {
            continue;
        };
        let scale = 10_f64.powi(supplier.currency.exponent() as i32);
        let rate = record.last_rate_micro.max(1) as f64 / 1e6;
        let (lead, spread) = record
            .lead_time()
            .unwrap_or((supplier.lead_time_days.max(0) as f64, 0.0));
        offers.push((
            Offer {
                supplier: supplier_id.to_string(),
                unit_price: (record.last_price_minor.max(0) as f64 / scale * rate).max(1e-9),
                lead_time_days: lead,
                lead_time_sd_days: spread,
                in_full_rate: record.in_full_rate(),
                on_time_rate: record.on_time_rate(),
                minimum_order_quantity: supplier.minimum_order_quantity.max(0),
                case_pack: 1,
                measured_orders: record.orders,
            },
            record.last_price_minor.max(0),
        ));
    }
    if !offers.is_empty() {
        return offers;
    }
    let Some(item) = state.items.get(sku) else {
        return offers;
    };
    let mut suppliers: Vec<_> = state
        .suppliers
        .values()
        .filter(|s| s.currency == base)
        .collect();
    suppliers.sort_by(|a, b| a.id.cmp(&b.id));
    let scale = 10_f64.powi(base.exponent() as i32);
    for supplier in suppliers {
        offers.push((
            Offer {
                supplier: supplier.id.to_string(),
                unit_price: (item.unit_cost.amount_minor.max(0) as f64 / scale).max(1e-9),
                lead_time_days: supplier.lead_time_days.max(0) as f64,
                lead_time_sd_days: 0.0,
                in_full_rate: None,
                on_time_rate: None,
                minimum_order_quantity: supplier.minimum_order_quantity.max(0),
                case_pack: 1,
                measured_orders: 0,
            },
            item.unit_cost.amount_minor.max(0),
        ));
    }
    offers
}

/// Units backordered on open sales orders, by stocked item (bundles exploded).
fn backorders(state: &State) -> BTreeMap<Sku, i64> {
    let mut units: BTreeMap<Sku, i64> = BTreeMap::new();
    for order in state.sales_orders.values() {
        for line in order.lines.iter().filter(|l| l.backordered > 0) {
            for (sku, per_unit) in stocked_components(&|s| state.items.get(s), &line.line.sku) {
                let entry = units.entry(sku).or_default();
                *entry = entry.saturating_add(per_unit.saturating_mul(line.backordered));
            }
        }
    }
    units
}

/// Splits `units` by `shares`, by largest remainder, so the parts sum to `units`.
fn split_units(units: i64, shares: &[(LocationId, f64)]) -> BTreeMap<LocationId, i64> {
    let mut parts: Vec<(LocationId, i64, f64)> = shares
        .iter()
        .map(|(center, share)| {
            let exact = units as f64 * share;
            (center.clone(), exact.floor() as i64, exact - exact.floor())
        })
        .collect();
    let given: i64 = parts.iter().map(|(_, whole, _)| whole).sum();
    let mut left = units - given;
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| parts[b].2.total_cmp(&parts[a].2).then(a.cmp(&b)));
    for index in order {
        if left <= 0 {
            break;
        }
        parts[index].1 += 1;
        left -= 1;
    }
    parts
        .into_iter()
        .map(|(center, whole, _)| (center, whole))
        .collect()
}

fn milli(value: f64) -> i64 {
    (value * 1000.0).round() as i64
}

/// The proposal's terms in thousandths of a unit, adding up exactly: each fractional term is
/// rounded to the thousandth and the rounding term takes what is left; where that would break
/// its bounds (below 0, or a whole case or more), the difference — a thousandth or two —
/// moves into the safety stock instead.
pub fn terms(
    explanation: &Explanation,
    service: ServiceTarget,
    model: &str,
) -> Option<ReplenishmentTerms> {
    let forecast_milli = milli(explanation.forecast);
    let mut safety_stock_milli = milli(explanation.safety_stock);
    let lot_sizing_milli = milli(explanation.lot_sizing);
    let quantity_milli = explanation.quantity.checked_mul(1000)?;
    let position_milli = explanation.position.checked_mul(1000)?;
    let case_milli = explanation.case_pack.checked_mul(1000)?;
    let cases = explanation.minimum_order_quantity / explanation.case_pack.max(1)
        + i64::from(explanation.minimum_order_quantity % explanation.case_pack.max(1) != 0);
    let smallest = cases.max(1) * explanation.case_pack.max(1);
    let need = |safety: i64| forecast_milli + safety - position_milli;
    let mut rounding_milli = quantity_milli - need(safety_stock_milli) - lot_sizing_milli;
    if rounding_milli < 0 {
        safety_stock_milli += rounding_milli;
        rounding_milli = 0;
    } else if explanation.quantity > smallest && rounding_milli >= case_milli {
        let excess = rounding_milli - (case_milli - 1);
        safety_stock_milli += excess;
        rounding_milli -= excess;
    }
    if safety_stock_milli < 0 || need(safety_stock_milli) <= 0 {
        return None;
    }
    let (level, fill_rate) = match service {
        ServiceTarget::CycleServiceLevel(level) => (level, false),
        ServiceTarget::FillRate(level) => (level, true),
    };
    Some(ReplenishmentTerms {
        protection_days_milli: milli(explanation.protection_days),
        forecast_milli,
        safety_stock_milli,
        service_level_milli: milli(level).clamp(1, 999),
        fill_rate,
        on_hand: explanation.on_hand,
        reserved: explanation.reserved,
        backordered: explanation.backordered,
        on_order: explanation.on_order,
        inbound_transfers: explanation.inbound_transfers,
        position: explanation.position,
        need_milli: need(safety_stock_milli),
        lot_sizing_milli,
        rounding_milli,
        minimum_order_quantity: explanation.minimum_order_quantity,
        case_pack: explanation.case_pack,
        model: Some(model.to_string()),
    })
}

/// The plan as proposal commands: one per supplier and center, ids `{prefix}-{n}` from 1 in
/// supplier then center order. `order_by` is the earliest line's order day, `needed_by` the
/// day the longest lead time brings the goods.
pub fn commands(plan: &Plan, prefix: &str) -> Vec<ProposeReplenishment> {
    let mut groups: BTreeMap<(SupplierId, LocationId), Vec<&Planned>> = BTreeMap::new();
    for planned in &plan.planned {
        groups
            .entry((planned.supplier.clone(), planned.location.clone()))
            .or_default()
            .push(planned);
    }
    let mut commands = Vec::new();
    for ((supplier, location), lines) in groups {
        let Ok(proposal) = ProposalId::parse(&format!("{prefix}-{}", commands.len() + 1)) else {
            continue;
        };
        let mut proposal_lines = Vec::new();
        let mut reasons = Vec::new();
        let mut lead = 0.0_f64;
        for planned in &lines {
            let Some(terms) = terms(
                &planned.proposal.explanation,
                planned.service,
                &planned.model,
            ) else {
                continue;
            };
            let chosen = planned.proposal.alternatives.iter().find(|a| a.chosen);
            lead = lead.max(chosen.map_or(0.0, |a| a.lead_time_days));
            if planned.proposal.alternatives.len() > 1 && reasons.len() < 8 {
                let scores: Vec<String> = planned
                    .proposal
                    .alternatives
                    .iter()
                    .take(3)
                    .map(|a| match a.score {
                        Some(score) => format!("{} {score:.3}", a.supplier),
                        None => format!("{} unusable", a.supplier),
                    })
                    .collect();
                reasons.push(format!("{}: {}", planned.sku, scores.join(" < ")));
            }
            proposal_lines.push(ProposalLine {
                sku: planned.sku.clone(),
                quantity: planned.proposal.quantity,
                unit_price_minor: planned.unit_price_minor,
                terms: Some(terms),
            });
        }
        if proposal_lines.is_empty() {
            continue;
        }
        let rationale = if reasons.is_empty() {
            "the only supplier offered".to_string()
        } else {
            format!(
                "lowest expected cost per unit of demand (price with the holding cost of the safety stock its lead time needs, over its in-full rate): {}",
                reasons.join("; ")
            )
        };
        let today = plan.today;
        let order_by = today.and_then(|day| {
            let first = lines
                .iter()
                .filter_map(|p| p.proposal.order_by_day)
                .min()
                .unwrap_or(0);
            day.checked_add(jiff::Span::new().days(i64::from(first)))
                .ok()
        });
        let needed_by = today.and_then(|day| {
            day.checked_add(jiff::Span::new().days(lead.ceil() as i64))
                .ok()
        });
        commands.push(ProposeReplenishment {
            proposal,
            source: ProposalSource::Supplier { supplier },
            location,
            lines: proposal_lines,
            order_by,
            needed_by,
            rationale: Some(rationale),
        });
    }
    commands
}

/// The plan's forecasts as a [`PublishForecast`] command (`id`), so their accuracy is measured
/// as the days pass; none when the plan has no forecast or no first day.
///
/// Each item's network-wide line comes first: it is the headline, and the document's limits
/// ([`FORECAST_LINES_MAX`](flowline_core::documents::forecast::FORECAST_LINES_MAX) lines,
/// [`FORECAST_FIGURES_MAX`](flowline_core::documents::forecast::FORECAST_FIGURES_MAX) daily
/// figures) are spent on those before any split. Then, item by item while the limits allow
/// all of an item's, one line per center and per channel of its [`Split`]: the item's forecast
/// times the share.
pub fn publish_forecast(plan: &Plan, id: &str) -> Option<PublishForecast> {
    use flowline_core::documents::forecast::{
        FORECAST_DAYS_MAX, FORECAST_FIGURES_MAX, FORECAST_LINES_MAX,
    };
    let first_day = plan.today?;
    let line = |item: &ItemForecast, share: f64| ForecastLine {
        sku: item.sku.clone(),
        location: None,
        channel: None,
        model: Some(item.model.chars().take(200).collect()),
        daily_milli: item
            .daily
            .iter()
            .take(FORECAST_DAYS_MAX)
            .map(|units| milli((units * share).max(0.0)))
            .collect(),
    };
    let mut lines: Vec<ForecastLine> = Vec::new();
    let mut figures = 0_usize;
    let mut headed: Vec<&ItemForecast> = Vec::new();
    for item in &plan.forecasts {
        let network = line(item, 1.0);
        let days = network.daily_milli.len();
        if days == 0 {
            continue;
        }
        if lines.len() >= FORECAST_LINES_MAX || figures + days > FORECAST_FIGURES_MAX {
            break;
        }
        figures += days;
        lines.push(network);
        headed.push(item);
    }
    for item in headed {
        let Some(split) = plan.splits.get(&item.sku) else {
            continue;
        };
        let centers = split.centers.iter().map(|(center, share)| ForecastLine {
            location: Some(center.clone()),
            ..line(item, *share)
        });
        let channels = split.channels.iter().map(|(channel, share)| ForecastLine {
            channel: Some(channel.clone()),
            ..line(item, *share)
        });
        let parts: Vec<ForecastLine> = centers.chain(channels).collect();
        let more: usize = parts.iter().map(|part| part.daily_milli.len()).sum();
        if lines.len() + parts.len() > FORECAST_LINES_MAX || figures + more > FORECAST_FIGURES_MAX {
            continue;
        }
        figures += more;
        lines.extend(parts);
    }
    if lines.is_empty() {
        return None;
    }
    Some(PublishForecast {
        forecast: flowline_core::id::ForecastId::parse(id).ok()?,
        first_day,
        lines,
    })
}

/// One item's network-wide forecast with its interval, as `GET /v1/plan/forecast` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastedItem {
    /// The item.
    pub sku: Sku,
    /// The first day forecast: the day after the history's latest order day.
    pub first_day: Option<Date>,
    /// The model, with ` with promotions` when promotions lift some of its days.
    pub model: String,
    /// Expected units each day.
    pub mean: Vec<f64>,
    /// The interval's lower bound each day.
    pub lower: Vec<f64>,
    /// The interval's upper bound each day.
    pub upper: Vec<f64>,
    /// Units ordered each day over the last `horizon` days before `first_day` (over every
    /// channel; stock-out and promotion days included as ordered), to draw against.
    pub actual: Vec<i64>,
    /// Units received back each day over the same days as `actual` (over every channel and
    /// center): a flow of their own, never taken off `actual` nor the forecast.
    pub returned: Vec<i64>,
    /// Units received back over units ordered in the last `fit_days` days
    /// ([`DemandHistory::return_rate`]); none without orders then.
    pub return_rate: Option<f64>,
}

/// An item the forecast could not be made for, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnforecastItem {
    /// The item.
    pub sku: Sku,
    /// Why.
    pub reason: String,
}

/// Forecasts each of `skus` over its channels, `horizon` days ahead with an interval at
/// `level`, from the history as the planner reads it (the last `fit_days` days, stock-out and
/// promotion days unknown), the days of planned promotions lifted by their uplift, interval
/// included. An item with no demand in the history is answered as unforecast.
pub fn forecast_items(
    history: &DemandHistory,
    skus: &[Sku],
    horizon: usize,
    level: f64,
    fit_days: usize,
) -> (Vec<ForecastedItem>, Vec<UnforecastItem>) {
    let wanted: BTreeSet<&Sku> = skus.iter().collect();
    let mut demand: BTreeMap<Sku, Vec<Option<f64>>> = BTreeMap::new();
    let mut placed: BTreeMap<Sku, Vec<Option<f64>>> = BTreeMap::new();
    let mut returns: BTreeMap<Sku, Vec<Option<f64>>> = BTreeMap::new();
    for series in history.series() {
        if !wanted.contains(&series.sku) {
            continue;
        }
        let raw: Vec<Option<f64>> = series.daily.iter().map(|u| Some(*u as f64)).collect();
        add_aligned(placed.entry(series.sku.clone()).or_default(), &raw);
        let back: Vec<Option<f64>> = series.returned.iter().map(|u| Some(*u as f64)).collect();
        add_aligned(returns.entry(series.sku.clone()).or_default(), &back);
        add_aligned(
            demand.entry(series.sku.clone()).or_default(),
            &series.observed(),
        );
    }
    let first_day = history.latest().and_then(|day| day.tomorrow().ok());
    let lifts = history.lifts();
    let options = Options {
        horizon,
        season_length: 7,
        level,
    };
    let mut made = Vec::new();
    let mut failed = Vec::new();
    for sku in skus {
        let Some(values) = demand.get(sku) else {
            failed.push(UnforecastItem {
                sku: sku.clone(),
                reason: "no demand in the history".into(),
            });
            continue;
        };
        let window =
            |values: &[Option<f64>]| values[values.len().saturating_sub(fit_days)..].to_vec();
        let result = forecast::forecast(&window(values), &options)
            .map(|made| (made, ""))
            .or_else(|error| {
                let raw = placed.get(sku).map(|raw| window(raw)).unwrap_or_default();
                forecast::forecast(&raw, &options)
                    .map(|made| (made, " on orders as placed: too few days in stock"))
                    .map_err(|_| error)
            });
        let (forecast, note) = match result {
            Ok(found) => found,
            Err(error) => {
                failed.push(UnforecastItem {
                    sku: sku.clone(),
                    reason: format!("the forecast failed: {error}"),
                });
                continue;
            }
        };
        let factors: Vec<f64> = (0..horizon)
            .map(|ahead| {
                first_day
                    .and_then(|day| day.checked_add(jiff::Span::new().days(ahead as i64)).ok())
                    .map_or(1.0, |day| lifts.factor(history, sku, day))
            })
            .collect();
        let lifted = factors.iter().any(|factor| *factor != 1.0);
        let times = |values: &[f64]| -> Vec<f64> {
            values.iter().zip(&factors).map(|(v, f)| v * f).collect()
        };
        let raw = placed.get(sku).map(Vec::as_slice).unwrap_or_default();
        let actual = raw[raw.len().saturating_sub(horizon)..]
            .iter()
            .map(|units| units.unwrap_or(0.0) as i64)
            .collect();
        let back = returns.get(sku).map(Vec::as_slice).unwrap_or_default();
        let returned = back[back.len().saturating_sub(horizon)..]
            .iter()
            .map(|units| units.unwrap_or(0.0) as i64)
            .collect();
        let fit_window = i32::try_from(fit_days).unwrap_or(crate::demand::HISTORY_DAYS_MAX);
        made.push(ForecastedItem {
            sku: sku.clone(),
            first_day,
            model: format!(
                "{}{note}{}",
                forecast.model,
                if lifted { " with promotions" } else { "" }
            ),
            mean: times(&forecast.mean),
            lower: times(&forecast.lower),
            upper: times(&forecast.upper),
            actual,
            returned,
            return_rate: history.return_rate(sku, fit_window),
        });
    }
    (made, failed)
}
