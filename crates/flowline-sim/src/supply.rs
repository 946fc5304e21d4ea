//! Supply: the daily replenishment review (a reorder point with an order-up-to level on an
//! exponentially smoothed forecast), purchase orders from placing to paying, kitting work
//! orders, and weekly cycle counts.
//!
//! Bought items follow the scenario's `replenishment.policy`: `fixed` (a safety factor on the
//! smoothed forecast's spread over the protection interval, and a fixed number of days of
//! demand on top) or `planner` ([`Planner`]: a forecast that knows the brand's season, the
//! cycle-service-level reorder point of `flowline-plan` over the supplier's measured lead time
//! and its spread, and an economic order quantity rounded to the supplier's minimum).
//!
//! Whatever the policy, supply follows each bought item's replenishment cycles at each center
//! ([`crate::service`]) and the value of the stock held, for the run's summary.

use crate::driver::{SimError, Then};
use crate::model::{Model, at_local, id, local};
use crate::scenario::{ReorderPolicy, Scenario};
use crate::service::CycleTracker;
use crate::world::{Kind, World};
use flowline_core::Command;
use flowline_core::documents::inventory::{CountLineInput, RecordCount};
use flowline_core::documents::purchase_order::{
    BillPurchaseOrder, ConfirmPurchaseOrder, PayPurchaseOrder, PlacePurchaseOrder, PurchaseLine,
    ReceiptLine, ReceivePurchaseOrder,
};
use flowline_core::documents::work_order::{
    CompleteWorkOrder, CreateWorkOrder, StartWorkOrder, WorkOrderKind,
};
use flowline_core::money::{ExchangeRate, Money};
use flowline_plan::distribution::normal_cdf;
use flowline_plan::policy::{
    PolicyError, eoq, lead_time_demand, round_order_quantity, safety_stock_for_cycle_service_level,
};
use jiff::civil::Date;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// A purchase order as the model follows it.
#[derive(Debug, Clone)]
pub(crate) struct Po {
    id: String,
    supplier: usize,
    center: usize,
    /// (item, units ordered, unit price in the supplier's currency).
    lines: Vec<(usize, i64, i64)>,
    /// Units not yet arrived, per line.
    remaining: Vec<i64>,
    placed: i64,
    /// Bills not yet paid.
    unpaid: u32,
}

/// A kitting work order.
#[derive(Debug, Clone)]
pub(crate) struct Wo {
    id: String,
    item: usize,
    center: usize,
    quantity: i64,
}

/// Supply's own records.
pub(crate) struct Supply {
    pos: FxHashMap<u32, Po>,
    next_po: u32,
    wos: FxHashMap<u32, Wo>,
    next_wo: u32,
    next_count: u32,
    /// Per center, the next item to count.
    count_cursor: Vec<usize>,
    /// When the forecast was last brought up to date.
    last_review: Option<i64>,
    /// Counts of what happened.
    pub counters: BTreeMap<&'static str, u64>,
    /// The `planner` policy's forecast and lead times.
    pub(crate) planner: Planner,
    /// Cells of bought items, whose replenishment cycles are followed.
    bought_cells: Vec<usize>,
    /// Replenishment cycles and their stock-outs.
    pub(crate) cycles: CycleTracker,
    /// Stock value (base minor units) summed over the daily reviews, and the reviews counted.
    inventory_value: (f64, u64),
}

impl Supply {
    pub(crate) fn new(scenario: &Scenario, world: &World) -> Self {
        let centers = world.centers.len();
        let cells = world.items.len() * centers;
        let bought_cells = (0..world.items.len())
            .filter(|i| matches!(world.items[*i].kind, Kind::Bought(_)))
            .flat_map(|i| (0..centers).map(move |c| i * centers + c))
            .collect();
        let plan = &scenario.replenishment;
        let target = match plan.policy {
            ReorderPolicy::Planner => plan.service_level,
            _ => normal_cdf(plan.safety_z),
        };
        Self {
            pos: FxHashMap::default(),
            next_po: 0,
            wos: FxHashMap::default(),
            next_wo: 0,
            next_count: 0,
            count_cursor: vec![0; centers],
            last_review: None,
            counters: BTreeMap::new(),
            planner: Planner::new(scenario, world),
            bought_cells,
            cycles: CycleTracker::new(cells, target),
            inventory_value: (0.0, 0),
        }
    }

    /// Notes what is available in every bought cell at the start of an hour.
    pub(crate) fn observe(&mut self, available: &[i64]) {
        for &cell in &self.bought_cells {
            self.cycles.observe(cell, available[cell]);
        }
    }

    /// The average value of the stock on hand at the daily reviews, base minor units.
    pub(crate) fn average_inventory_value(&self) -> f64 {
        let (sum, reviews) = self.inventory_value;
        if reviews == 0 {
            0.0
        } else {
            sum / reviews as f64
        }
    }

    fn count(&mut self, what: &'static str, n: u64) {
        *self.counters.entry(what).or_default() += n;
    }
}

impl Model<'_> {
    /// The daily review: update forecasts, order what falls below its reorder point, start
    /// kitting what is running low.
    pub(crate) fn review(&mut self) -> Result<(), SimError> {
        let s = self.s;
        let plan = &s.replenishment;
        let planner = plan.policy == ReorderPolicy::Planner;
        let (today, _) = local(self.now, &self.w.zone);
        // Forecasts learn from a whole day of demand; the first, partial day only seeds them.
        if let Some(last) = self.supply.last_review {
            let days = ((self.now - last) as f64 / 86_400.0).max(1.0);
            let alpha = plan.forecast_alpha;
            let season = if planner {
                self.window_profiles(today)
            } else {
                Vec::new()
            };
            let centers = self.w.centers.len();
            for cell in 0..self.demand.len() {
                let daily = self.demand[cell] / days;
                let error = daily - self.forecast[cell];
                self.forecast[cell] += alpha * error;
                self.variance[cell] = (1.0 - alpha) * (self.variance[cell] + alpha * error * error);
                if planner {
                    let category = self.w.items[cell / centers].category;
                    let known = season.get(category).copied().unwrap_or(0.0);
                    self.supply.planner.learn(cell, daily, known, alpha);
                }
                self.demand[cell] = 0.0;
            }
        } else {
            self.demand.iter_mut().for_each(|d| *d = 0.0);
        }
        self.supply.last_review = Some(self.now);
        if today.weekday() == jiff::civil::Weekday::Monday
            && let Some(mut watch) = self.capacity.take()
        {
            let reviewed = watch.review(&self.d, today);
            self.capacity = Some(watch);
            reviewed?;
        }
        let value: f64 = (0..self.on_hand.len())
            .map(|cell| {
                let item = cell / self.w.centers.len();
                match self.w.items[item].kind {
                    Kind::Bundle(_) => 0.0,
                    _ => self.on_hand[cell].max(0) as f64 * self.w.items[item].cost as f64,
                }
            })
            .sum();
        self.supply.inventory_value.0 += value;
        self.supply.inventory_value.1 += 1;
        // The planner's season ahead: each category's known profile of each coming day.
        let mut ahead: Vec<Vec<f64>> = vec![Vec::new(); s.categories.len()];
        if planner {
            for k in 0..PLANNER_HORIZON_DAYS {
                let profiles = self.known_profiles(add_days(today, k as i64));
                for (category, profile) in profiles.into_iter().enumerate() {
                    ahead[category].push(profile);
                }
            }
        }
        let backorder_need = self.backorder_need();
        let centers = self.w.centers.len();
        let mut groups: BTreeMap<(usize, usize), Vec<(usize, i64)>> = BTreeMap::new();
        let mut kitting = Vec::new();
        for center in 0..centers {
            if !self.is_open(center) {
                continue;
            }
            for item in 0..self.w.items.len() {
                let cell = self.cell(item, center);
                let forecast = self.forecast[cell];
                if forecast <= 0.0 {
                    continue;
                }
                let spread = self.variance[cell].max(0.0).sqrt();
                match &self.w.items[item].kind {
                    Kind::Bought(suppliers) => {
                        let Some(&supplier) = suppliers.first() else {
                            continue;
                        };
                        let spec = &s.suppliers[supplier];
                        let position =
                            self.avail[cell] + self.on_order[cell] - backorder_need[cell];
                        let quantity = if planner {
                            match self.planner_quantity(
                                item,
                                center,
                                supplier,
                                position,
                                &ahead[self.w.items[item].category],
                            ) {
                                Ok(quantity) => quantity,
                                Err(_) => {
                                    self.supply.count("planner_fell_back_to_fixed", 1);
                                    let cover = spec.lead_time_days.mean + spec.confirm_days + 1.0;
                                    fixed_order(
                                        forecast,
                                        spread,
                                        cover,
                                        plan.safety_z,
                                        plan.cover_days,
                                        spec.minimum_order_quantity,
                                        position,
                                    )
                                }
                            }
                        } else {
                            let cover = spec.lead_time_days.mean + spec.confirm_days + 1.0;
                            fixed_order(
                                forecast,
                                spread,
                                cover,
                                plan.safety_z,
                                plan.cover_days,
                                spec.minimum_order_quantity,
                                position,
                            )
                        };
                        if quantity > 0 {
                            groups
                                .entry((supplier, center))
                                .or_default()
                                .push((item, quantity));
                        }
                    }
                    Kind::Kit(components) => {
                        let cover = 1.0 + plan.kitting_hours / 24.0 + 1.0;
                        let reorder_point =
                            forecast * cover + plan.safety_z * spread * cover.sqrt();
                        let position = self.avail[cell] + self.wip[cell] - backorder_need[cell];
                        if (position as f64) <= reorder_point {
                            let wanted = (forecast * plan.kit_batch_days)
                                .max(reorder_point - position as f64 + forecast)
                                .ceil() as i64;
                            let possible = components
                                .iter()
                                .map(|(c, q)| {
                                    self.avail[self.cell(*c, center)].max(0) / (*q).max(1)
                                })
                                .min()
                                .unwrap_or(0);
                            let quantity = wanted.min(possible);
                            if quantity > 0 {
                                kitting.push((item, center, quantity, components.clone()));
                            } else {
                                self.supply.count("kitting_short_of_components", 1);
                            }
                        }
                    }
                    Kind::Bundle(_) => {}
                }
            }
        }
        for ((supplier, center), lines) in groups {
            self.place_po(supplier, center, lines)?;
        }
        for (item, center, quantity, components) in kitting {
            self.create_work_order(item, center, quantity, &components)?;
        }
        Ok(())
    }

    /// The `planner` policy's order for a bought item at a center (0 when none is due).
    fn planner_quantity(
        &self,
        item: usize,
        center: usize,
        supplier: usize,
        position: i64,
        ahead: &[f64],
    ) -> Result<i64, PolicyError> {
        let plan = &self.s.replenishment;
        let cell = self.cell(item, center);
        let minor_per_major = 10f64.powi(self.w.currency.exponent() as i32);
        let unit_cost = self.w.items[item].cost as f64 / minor_per_major;
        let storage = self.s.centers[center].storage_fee_per_unit_month * 12.0;
        let planned = planner_order(&PlannerInputs {
            level: self.supply.planner.level[cell],
            level_variance: self.supply.planner.variance[cell],
            ahead,
            lead_time: self.supply.planner.lead_time(supplier),
            service_level: plan.service_level,
            order_cost: plan.order_cost,
            holding_cost_per_year: plan.holding_rate * unit_cost + storage,
            minimum_order_quantity: self.s.suppliers[supplier].minimum_order_quantity as f64,
            position,
        })?;
        Ok(planned.quantity)
    }

    /// Each category's known profile of the demand a review sees: the day before from the
    /// review hour on, and the review day up to it, weighted by the hourly shares.
    fn window_profiles(&self, today: Date) -> Vec<f64> {
        let hourly = &self.s.demand.hourly;
        let total: f64 = hourly.iter().sum();
        let before: f64 = hourly
            .iter()
            .take(self.s.replenishment.review_hour as usize)
            .sum();
        let share_today = if total > 0.0 { before / total } else { 0.0 };
        let yesterday = today.yesterday().unwrap_or(today);
        self.known_profiles(yesterday)
            .into_iter()
            .zip(self.known_profiles(today))
            .map(|(before, after)| before * (1.0 - share_today) + after * share_today)
            .collect()
    }

    fn place_po(
        &mut self,
        supplier: usize,
        center: usize,
        lines: Vec<(usize, i64)>,
    ) -> Result<(), SimError> {
        let s = self.s;
        let spec = &s.suppliers[supplier];
        self.supply.next_po += 1;
        let number = self.supply.next_po;
        let po_id = format!("PO-{number:06}");
        let currency = self.w.suppliers[supplier].currency;
        let foreign = currency != self.w.currency;
        let scale = 10f64.powi(currency.exponent() as i32 - self.w.currency.exponent() as i32);
        let priced: Vec<(usize, i64, i64)> = lines
            .iter()
            .map(|(item, quantity)| {
                let price = (self.w.items[*item].cost as f64 / spec.exchange_rate * scale)
                    .round()
                    .max(1.0) as i64;
                (*item, *quantity, price)
            })
            .collect();
        let (today, _) = local(self.now, &self.w.centers[center].zone);
        let requested = add_days(today, spec.lead_time_days.mean.round() as i64);
        let command = Command::PlacePurchaseOrder(PlacePurchaseOrder {
            purchase_order: id(&po_id)?,
            supplier: self.w.suppliers[supplier].id.clone(),
            location: self.w.centers[center].id.clone(),
            currency,
            exchange_rate: foreign.then(|| ExchangeRate {
                rate_micro: (spec.exchange_rate * 1_000_000.0).round() as i64,
            }),
            lines: priced
                .iter()
                .map(|(item, quantity, price)| PurchaseLine {
                    sku: self.w.items[*item].sku.clone(),
                    quantity: *quantity,
                    unit_price_minor: *price,
                })
                .collect(),
            requested_on: Some(requested),
        });
        self.send(self.now, command, Then::Nothing)?;
        for (item, quantity, _) in &priced {
            let cell = self.cell(*item, center);
            self.on_order[cell] += quantity;
        }
        self.supply.count("purchase_orders", 1);
        let confirm = self
            .dice
            .positive(spec.confirm_days.max(0.05), spec.confirm_days / 2.0);
        self.supply.pos.insert(
            number,
            Po {
                id: po_id,
                supplier,
                center,
                remaining: priced.iter().map(|(_, q, _)| *q).collect(),
                lines: priced,
                placed: self.now,
                unpaid: 0,
            },
        );
        self.schedule(
            self.now + (confirm * 86_400.0) as i64,
            crate::model::Action::PoConfirm { po: number },
        );
        Ok(())
    }

    pub(crate) fn po_confirm(&mut self, number: u32) -> Result<(), SimError> {
        let Some(po) = self.supply.pos.get(&number).cloned() else {
            return Ok(());
        };
        let spec = &self.s.suppliers[po.supplier];
        let zone = self.w.centers[po.center].zone.clone();
        let (placed_on, _) = local(po.placed, &zone);
        let (today, _) = local(self.now, &zone);
        let committed =
            add_days(placed_on, spec.lead_time_days.mean.round() as i64).max(add_days(today, 1));
        self.send(
            self.now,
            Command::ConfirmPurchaseOrder(ConfirmPurchaseOrder {
                purchase_order: id(&po.id)?,
                committed_on: committed,
            }),
            Then::Nothing,
        )?;
        // When it comes: a lead time drawn around the mean, kept by the committed date for an
        // on-time order and after it for a late one.
        let drawn = self
            .dice
            .positive(spec.lead_time_days.mean, spec.lead_time_days.sd);
        let mut arrival_day = add_days(placed_on, drawn.round() as i64);
        if self.dice.chance(spec.on_time_rate) {
            arrival_day = arrival_day.min(committed);
        } else {
            arrival_day = arrival_day.max(add_days(committed, self.dice.between(1, 7)));
        }
        arrival_day = arrival_day.max(add_days(today, 1));
        let arrived = at_local(
            arrival_day,
            self.dice.between(7, 14),
            self.dice.between(0, 59),
            &zone,
        );
        // Dock to stock: a few hours of unloading and checking.
        let stocked = arrived + (self.dice.positive(4.0, 3.0) * 3600.0) as i64;
        self.schedule(
            stocked,
            crate::model::Action::PoArrive {
                po: number,
                part: 0,
                arrived,
            },
        );
        Ok(())
    }

    pub(crate) fn po_arrive(
        &mut self,
        number: u32,
        part: u32,
        arrived: i64,
    ) -> Result<(), SimError> {
        let Some(mut po) = self.supply.pos.get(&number).cloned() else {
            return Ok(());
        };
        let spec = &self.s.suppliers[po.supplier];
        if part == 0 {
            // A replenishment ends each cycle of its items here; the supplier's lead time, from
            // placing to stock, is one more observation for the planner.
            for (item, _, _) in &po.lines {
                let cell = self.cell(*item, po.center);
                self.supply.cycles.receipt(cell);
            }
            self.supply
                .planner
                .lead_time_observed(po.supplier, (self.now - po.placed) as f64 / 86_400.0);
        }
        let short = part == 0 && !self.dice.chance(spec.in_full_rate);
        let mut receipt_lines = Vec::new();
        let mut billed = 0i64;
        let mut value_base = 0.0;
        let mut units_in = Vec::new();
        for (line, remaining) in po.remaining.iter_mut().enumerate() {
            if *remaining <= 0 {
                continue;
            }
            let units = if short {
                ((*remaining as f64) * self.dice.uniform(0.6, 0.95))
                    .floor()
                    .max(1.0) as i64
            } else {
                *remaining
            };
            *remaining -= units;
            let rejected = if self.dice.chance(spec.reject_rate) {
                ((units as f64) * self.dice.uniform(0.02, 0.10))
                    .ceil()
                    .min(units as f64) as i64
            } else {
                0
            };
            let accepted = units - rejected;
            let (item, _, price) = po.lines[line];
            receipt_lines.push(ReceiptLine {
                line,
                accepted,
                rejected,
                reject_reason: if rejected > 0 {
                    Some(id("failed_quality_check")?)
                } else {
                    None
                },
            });
            billed += accepted * price;
            value_base += (accepted * self.w.items[item].cost) as f64;
            units_in.push((item, units));
            self.supply.count("units_received", accepted as u64);
            self.supply
                .count("units_rejected_at_receipt", rejected as u64);
        }
        if receipt_lines.is_empty() {
            return Ok(());
        }
        let receipt = format!("RCV-{number:06}-{part}");
        self.send(
            self.now,
            Command::ReceivePurchaseOrder(ReceivePurchaseOrder {
                purchase_order: id(&po.id)?,
                receipt: id(&receipt)?,
                lines: receipt_lines,
                arrived_at: Some(
                    jiff::Timestamp::from_second(arrived).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                ),
            }),
            Then::Nothing,
        )?;
        for (item, units) in units_in {
            let cell = self.cell(item, po.center);
            self.on_order[cell] -= units;
        }
        self.supply.count("receipts", 1);
        if spec.duty_rate > 0.0 {
            self.accrue_duties(value_base * spec.duty_rate);
        }
        if billed > 0 {
            let currency = self.w.suppliers[po.supplier].currency;
            let (today, _) = local(self.now, &self.w.zone);
            let due = add_days(today, spec.payment_terms_days);
            self.send(
                self.now + 60,
                Command::BillPurchaseOrder(BillPurchaseOrder {
                    purchase_order: id(&po.id)?,
                    bill: id(&format!("BILL-{number:06}-{part}"))?,
                    amount: Money::new(billed, currency),
                    due_on: due,
                }),
                Then::Nothing,
            )?;
            po.unpaid += 1;
            let pay_at = at_local(due, 10, 0, &self.w.zone).max(self.now + 60);
            self.schedule(
                pay_at,
                crate::model::Action::PoPay {
                    po: number,
                    bill: part,
                    amount: billed,
                },
            );
        }
        if short {
            let zone = self.w.centers[po.center].zone.clone();
            let (today, _) = local(self.now, &zone);
            let day = add_days(today, self.dice.between(3, 10));
            let next = at_local(day, self.dice.between(7, 14), 0, &zone);
            let stocked = next + (self.dice.positive(4.0, 3.0) * 3600.0) as i64;
            self.schedule(
                stocked,
                crate::model::Action::PoArrive {
                    po: number,
                    part: part + 1,
                    arrived: next,
                },
            );
            self.supply.count("purchase_orders_short", 1);
        }
        self.supply.pos.insert(number, po);
        Ok(())
    }

    pub(crate) fn po_pay(&mut self, number: u32, bill: u32, amount: i64) -> Result<(), SimError> {
        let Some(po) = self.supply.pos.get_mut(&number) else {
            return Ok(());
        };
        po.unpaid = po.unpaid.saturating_sub(1);
        let done = po.unpaid == 0 && po.remaining.iter().all(|r| *r <= 0);
        let po_id = po.id.clone();
        let currency = self.w.suppliers[po.supplier].currency;
        if done {
            self.supply.pos.remove(&number);
        }
        self.send(
            self.now,
            Command::PayPurchaseOrder(PayPurchaseOrder {
                purchase_order: id(&po_id)?,
                payment: id(&format!("POPAY-{number:06}-{bill}"))?,
                amount: Money::new(amount, currency),
            }),
            Then::Nothing,
        )?;
        self.supply.count("supplier_payments", 1);
        Ok(())
    }

    fn create_work_order(
        &mut self,
        item: usize,
        center: usize,
        wanted: i64,
        components: &[(usize, i64)],
    ) -> Result<(), SimError> {
        // Kits made earlier in this review may have used the same components.
        let possible = components
            .iter()
            .map(|(c, q)| self.avail[self.cell(*c, center)].max(0) / (*q).max(1))
            .min()
            .unwrap_or(0);
        let quantity = wanted.min(possible);
        if quantity <= 0 {
            self.supply.count("kitting_short_of_components", 1);
            return Ok(());
        }
        self.supply.next_wo += 1;
        let number = self.supply.next_wo;
        let wo_id = format!("WO-{number:06}");
        self.send(
            self.now,
            Command::CreateWorkOrder(CreateWorkOrder {
                work_order: id(&wo_id)?,
                kind: WorkOrderKind::Kitting,
                item: self.w.items[item].sku.clone(),
                quantity,
                location: self.w.centers[center].id.clone(),
                for_order: None,
            }),
            Then::Nothing,
        )?;
        for (component, per) in components {
            let cell = self.cell(*component, center);
            self.avail[cell] -= quantity * per;
            self.demand[cell] += (quantity * per) as f64;
        }
        let cell = self.cell(item, center);
        self.wip[cell] += quantity;
        self.supply.wos.insert(
            number,
            Wo {
                id: wo_id,
                item,
                center,
                quantity,
            },
        );
        self.supply.count("work_orders", 1);
        let start = self.now + self.dice.between(1_800, 5_400);
        self.schedule(start, crate::model::Action::WorkStart { wo: number });
        Ok(())
    }

    pub(crate) fn work_start(&mut self, number: u32) -> Result<(), SimError> {
        let Some(wo) = self.supply.wos.get(&number).cloned() else {
            return Ok(());
        };
        self.send(
            self.now,
            Command::StartWorkOrder(StartWorkOrder {
                work_order: id(&wo.id)?,
            }),
            Then::Nothing,
        )?;
        let hours = self.dice.positive(
            self.s.replenishment.kitting_hours.max(0.1),
            self.s.replenishment.kitting_hours / 4.0,
        );
        self.schedule(
            self.now + (hours * 3600.0) as i64,
            crate::model::Action::WorkComplete { wo: number },
        );
        Ok(())
    }

    pub(crate) fn work_complete(&mut self, number: u32) -> Result<(), SimError> {
        let Some(wo) = self.supply.wos.remove(&number) else {
            return Ok(());
        };
        let failed = self
            .dice
            .binomial(wo.quantity as u64, self.s.replenishment.kitting_fail_rate)
            as i64;
        self.send(
            self.now,
            Command::CompleteWorkOrder(CompleteWorkOrder {
                work_order: id(&wo.id)?,
                passed: wo.quantity - failed,
                failed,
                note: (failed > 0).then(|| format!("{failed} kit(s) failed the final check")),
            }),
            Then::Nothing,
        )?;
        let cell = self.cell(wo.item, wo.center);
        self.wip[cell] -= wo.quantity;
        self.accrue_kitting(wo.quantity);
        self.supply
            .count("kits_made", (wo.quantity - failed) as u64);
        self.supply.count("kits_failed", failed as u64);
        Ok(())
    }

    /// Counts the next few stocked items at a center; a count is sometimes off by a unit or
    /// two (shrinkage, mis-picks), never below what is reserved.
    pub(crate) fn cycle_count(&mut self, center: usize) -> Result<(), SimError> {
        let stocked: Vec<usize> = (0..self.w.items.len())
            .filter(|i| !matches!(self.w.items[*i].kind, Kind::Bundle(_)))
            .collect();
        if stocked.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::new();
        for _ in 0..self.s.counts.items_per_week.min(stocked.len() as u32) {
            let cursor = self.supply.count_cursor[center] % stocked.len();
            self.supply.count_cursor[center] += 1;
            let item = stocked[cursor];
            let cell = self.cell(item, center);
            let on_hand = self.on_hand[cell];
            let reserved = on_hand - self.avail[cell];
            let mut counted = on_hand;
            if self.dice.chance(self.s.counts.error_rate) {
                let off = self.dice.between(1, 2);
                counted = if self.dice.chance(0.7) {
                    on_hand - off
                } else {
                    on_hand + off
                };
            }
            counted = counted.max(reserved).max(0);
            lines.push(CountLineInput {
                sku: self.w.items[item].sku.clone(),
                counted,
            });
        }
        self.supply.next_count += 1;
        let count = format!("CNT-{:06}", self.supply.next_count);
        self.send(
            self.now,
            Command::RecordCount(RecordCount {
                count: id(&count)?,
                location: self.w.centers[center].id.clone(),
                lines,
                reason: Some(id("cycle_count")?),
            }),
            Then::Nothing,
        )?;
        self.supply.count("cycle_counts", 1);
        Ok(())
    }
}

/// The `planner` policy's reorder point for a bought item: lead-time demand over the protection
/// interval `cover` (days) from the daily `forecast` and its standard deviation `spread`, with
/// the supplier's lead-time standard deviation `lead_time_sd` (days), then mean lead-time demand
/// plus the safety stock for the cycle service level `service_level`:
/// `forecast·cover + Φ⁻¹(service_level)·√(cover·spread² + forecast²·lead_time_sd²)`.
pub(crate) fn planner_reorder_point(
    forecast: f64,
    spread: f64,
    cover: f64,
    lead_time_sd: f64,
    service_level: f64,
) -> Result<f64, PolicyError> {
    let demand = lead_time_demand(forecast, spread, cover, lead_time_sd)?;
    Ok(safety_stock_for_cycle_service_level(service_level, demand)?.reorder_point)
}

/// The `fixed` rule for a bought item at a `position`: when it is at or below the reorder point
/// `forecast·cover + safety_z·spread·√cover`, order up to that point plus `cover_days` of the
/// forecast, at least the supplier's minimum; otherwise nothing.
fn fixed_order(
    forecast: f64,
    spread: f64,
    cover: f64,
    safety_z: f64,
    cover_days: f64,
    minimum_order_quantity: i64,
    position: i64,
) -> i64 {
    let reorder_point = forecast * cover + safety_z * spread * cover.sqrt();
    if (position as f64) <= reorder_point {
        let wanted = reorder_point + cover_days * forecast - position as f64;
        (wanted.ceil() as i64).max(minimum_order_quantity)
    } else {
        0
    }
}

/// Days of the known season the planner looks ahead: the longest protection interval and the
/// demand an order quantity is worked out on must fit.
pub(crate) const PLANNER_HORIZON_DAYS: usize = 200;

/// Days of demand after an order arrives that its economic quantity is worked out on.
const EOQ_RATE_DAYS: f64 = 28.0;

/// Weight, in receipts, of the scenario's stated lead time before any receipt is seen.
const LEAD_TIME_PRIOR_WEIGHT: f64 = 5.0;

/// The `planner` policy's view of demand and supply.
///
/// Demand is forecast as a level times the brand's known profile (the trend, weekday, month and
/// peak multipliers of `[demand]`, as a planner knows a season and a promotion calendar; flash
/// sales are not announced, so they are not in it): each review divides the demand seen by the
/// profile of the day it came in and smooths that, with `forecast_alpha`, into the level and the
/// variance around it. A supplier's lead time is measured, from placing an order to its goods in
/// stock, starting from the scenario's stated mean and spread counted as a few receipts.
#[derive(Debug, Clone)]
pub(crate) struct Planner {
    /// Per cell: daily demand divided by the known profile.
    level: Vec<f64>,
    /// Per cell: variance of that around the level.
    variance: Vec<f64>,
    /// Per supplier: weight, sum and sum of squares of lead times (days).
    lead: Vec<[f64; 3]>,
}

impl Planner {
    fn new(scenario: &Scenario, world: &World) -> Self {
        // The world's expected demand is for a profile of 1 (the scenario's `orders_per_day`).
        let level: Vec<f64> = world
            .expected
            .iter()
            .flat_map(|row| row.iter().copied())
            .collect();
        let variance = level.iter().map(|l| l.max(0.1)).collect();
        let lead = scenario
            .suppliers
            .iter()
            .map(|s| {
                let (mean, sd) = (s.lead_time_days.mean, s.lead_time_days.sd);
                let w = LEAD_TIME_PRIOR_WEIGHT;
                [w, w * mean, w * (sd * sd + mean * mean)]
            })
            .collect();
        Self {
            level,
            variance,
            lead,
        }
    }

    /// Learns from a review's `daily` demand at `cell`, seen on days whose known profile is
    /// `season`.
    fn learn(&mut self, cell: usize, daily: f64, season: f64, alpha: f64) {
        if season.is_nan() || season <= 0.0 {
            return;
        }
        let error = daily / season - self.level[cell];
        self.level[cell] += alpha * error;
        self.variance[cell] = (1.0 - alpha) * (self.variance[cell] + alpha * error * error);
    }

    fn lead_time_observed(&mut self, supplier: usize, days: f64) {
        if let Some(lead) = self.lead.get_mut(supplier)
            && days.is_finite()
            && days >= 0.0
        {
            lead[0] += 1.0;
            lead[1] += days;
            lead[2] += days * days;
        }
    }

    /// A supplier's lead time: mean and standard deviation, days.
    fn lead_time(&self, supplier: usize) -> (f64, f64) {
        let [w, sum, squares] = self.lead[supplier];
        let mean = sum / w;
        (mean, (squares / w - mean * mean).max(0.0).sqrt())
    }
}

/// The sum of a profile over the first `days` (fractional) of `ahead`.
fn profile_sum(ahead: &[f64], days: f64) -> f64 {
    let whole = (days.floor() as usize).min(ahead.len());
    let mut sum: f64 = ahead[..whole].iter().sum();
    if let Some(next) = ahead.get(whole) {
        sum += next * (days - whole as f64);
    }
    sum
}

/// What the `planner` orders of a bought item, as a plan of the reorder point and the quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PlannerOrder {
    /// The reorder point `s`.
    pub reorder_point: f64,
    /// The economic order quantity `Q` before rounding.
    pub economic_quantity: f64,
    /// Units to order now: 0 above the reorder point, else up to `s + Q`, rounded to the MOQ.
    pub quantity: i64,
}

/// The inputs of [`planner_order`] for one item at one center.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlannerInputs<'a> {
    /// Level of daily demand and its variance, in units of the known profile.
    pub level: f64,
    pub level_variance: f64,
    /// The known profile of the coming days, from today.
    pub ahead: &'a [f64],
    /// Lead time mean and standard deviation, days.
    pub lead_time: (f64, f64),
    /// Cycle service level aimed at.
    pub service_level: f64,
    /// Cost of an order line (`K`) and of holding a unit a year (`h`), brand currency.
    pub order_cost: f64,
    pub holding_cost_per_year: f64,
    /// The supplier's minimum order quantity.
    pub minimum_order_quantity: f64,
    /// Available + on order − backordered.
    pub position: i64,
}

/// The `planner` policy for one bought item at one center, reviewed daily.
///
/// The protection interval is the lead time plus the review day; demand over it is the level
/// times the known profile of those days, `σ` the level's spread times their average profile.
/// The reorder point is `flowline_plan::policy`'s for the cycle service level with the lead
/// time's spread counted; at or below it, the order brings the position up to the reorder point
/// plus the EOQ `√(2KD/h)` on the yearly rate `D` the profile gives for the four weeks after the
/// order arrives, rounded up to the supplier's minimum.
pub(crate) fn planner_order(inputs: &PlannerInputs<'_>) -> Result<PlannerOrder, PolicyError> {
    let (lead_mean, lead_sd) = inputs.lead_time;
    let cover = lead_mean + 1.0;
    let season = profile_sum(inputs.ahead, cover);
    let mean_daily = inputs.level * season / cover;
    let spread = inputs.level_variance.max(0.0).sqrt() * season / cover;
    let reorder_point =
        planner_reorder_point(mean_daily, spread, cover, lead_sd, inputs.service_level)?;
    let after = (profile_sum(inputs.ahead, cover + EOQ_RATE_DAYS) - season) / EOQ_RATE_DAYS;
    let economic_quantity = eoq(
        inputs.order_cost,
        inputs.holding_cost_per_year,
        inputs.level * after * 365.0,
    )?
    .quantity;
    let quantity = if (inputs.position as f64) <= reorder_point {
        let wanted = reorder_point + economic_quantity - inputs.position as f64;
        // A whole number of units below 2^53: the cast is exact.
        round_order_quantity(wanted, inputs.minimum_order_quantity, 1.0)?.quantity as i64
    } else {
        0
    };
    Ok(PlannerOrder {
        reorder_point,
        economic_quantity,
        quantity,
    })
}

fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(jiff::Span::new().days(days))
        .unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::{PlannerInputs, fixed_order, planner_order, planner_reorder_point};
    use flowline_plan::policy::PolicyError;

    fn inputs(ahead: &[f64], position: i64, minimum: f64) -> PlannerInputs<'_> {
        PlannerInputs {
            level: 10.0,
            level_variance: 9.0,
            ahead,
            lead_time: (7.0, 2.0),
            service_level: 0.95,
            order_cost: 15.0,
            // 0.25 a year of a 12.00 unit cost and 0.40 a month of storage: 3.00 + 4.80.
            holding_cost_per_year: 7.8,
            minimum_order_quantity: minimum,
            position,
        }
    }

    #[test]
    fn the_planner_orders_the_eoq_on_top_of_its_reorder_point() -> Result<(), PolicyError> {
        // A flat season: level 10 a day (sd 3), lead time 7 days (sd 2), so the protection
        // interval is 7 + 1 review day = 8 days and the reorder point is the hand calculation
        // below: 80 + 1.6448536 · √472 = 115.7353678.
        // EOQ: D = 10 · 365 = 3,650 a year, Q = √(2 · 15 · 3,650 / 7.8) = √14,038.4615
        //    = 118.4840139 (118.484² = 14,038.4583; + 0.0032 / 236.97 = 0.0000139).
        // At a position of 100: up to 115.7353678 + 118.4840139 = 234.2193817, so order
        // 134.2193817, rounded up to whole units: 135 (above the minimum of 24).
        let flat = [1.0; 60];
        let planned = planner_order(&inputs(&flat, 100, 24.0))?;
        assert!(
            (planned.reorder_point - 115.735_367_8).abs() < 1e-6,
            "{planned:?}"
        );
        assert!(
            (planned.economic_quantity - 118.484_013_9).abs() < 1e-6,
            "{planned:?}"
        );
        assert_eq!(planned.quantity, 135);
        // Above the reorder point nothing is ordered; a larger minimum raises the order.
        assert_eq!(planner_order(&inputs(&flat, 116, 24.0))?.quantity, 0);
        assert_eq!(planner_order(&inputs(&flat, 100, 200.0))?.quantity, 200);
        Ok(())
    }

    #[test]
    fn the_planner_sees_the_season_coming() -> Result<(), PolicyError> {
        // Demand doubles in four days: the 8-day protection interval holds 4 · 1 + 4 · 2 = 12
        // days of the level, so a mean of 10 · 12 / 8 = 15 a day with sd 3 · 12 / 8 = 4.5;
        // σ = √(8 · 4.5² + 15² · 2²) = √(162 + 900) = √1,062 = 32.5883415,
        // reorder point 15 · 8 + 1.6448536 · 32.5883415 = 120 + 53.6030517 = 173.6030517.
        // The four weeks after arrival are all at 2: D = 7,300, Q = √(2 · 15 · 7,300 / 7.8)
        //    = √28,076.9231 = 167.5616993.
        // At 100: 73.6030517 + 167.5616993 = 241.164751, so 242.
        let mut rising = vec![1.0; 4];
        rising.extend([2.0; 60]);
        let planned = planner_order(&inputs(&rising, 100, 24.0))?;
        assert!(
            (planned.reorder_point - 173.603_051_7).abs() < 1e-6,
            "{planned:?}"
        );
        assert!(
            (planned.economic_quantity - 167.561_699_3).abs() < 1e-6,
            "{planned:?}"
        );
        assert_eq!(planned.quantity, 242);
        // The fixed rule on a smoothed forecast still at 10 (sd 3) over a cover of 8 days
        // orders only when the position is at or below 10 · 8 + 1.65 · 3 · √8 = 94.0007...,
        // so at 100 it orders nothing yet.
        assert_eq!(fixed_order(10.0, 3.0, 8.0, 1.65, 21.0, 24, 100), 0);
        // At 90 it orders up to 94.0007 + 21 · 10 = 304.0007: 214.0007 rounds up to 215.
        assert_eq!(fixed_order(10.0, 3.0, 8.0, 1.65, 21.0, 24, 90), 215);
        Ok(())
    }

    #[test]
    fn the_planner_reorder_point_matches_the_hand_calculation() -> Result<(), PolicyError> {
        // Forecast 10 a day with spread 3, cover 8 days, lead-time sd 2 days, 95 %:
        // mean lead-time demand 10 · 8 = 80;
        // σ = √(8 · 3² + 10² · 2²) = √(72 + 400) = √472 = 21.725560982400431;
        // z = Φ⁻¹(0.95) = 1.6448536269514727;
        // z σ = 1.6 · 21.7255610 + 0.0448536 · 21.7255610 + 0.000000027 · 21.7255610
        //     = 34.7608976 + 0.9744696 + 0.0000006 = 35.7353678;
        // reorder point = 80 + 35.7353678 = 115.7353678.
        let point = planner_reorder_point(10.0, 3.0, 8.0, 2.0, 0.95)?;
        assert!((point - 115.735_367_8).abs() < 1e-6, "{point}");
        // With a certain lead time only demand varies: σ = 3 · √8 = 8.4852814,
        // z σ = 1.6 · 8.4852814 + 0.0448536 · 8.4852814 + 0.000000027 · 8.4852814
        //     = 13.5764502 + 0.3805954 + 0.0000002 = 13.9570458,
        // reorder point 93.9570458: the `fixed` rule's 10 · 8 + z · 3 · √8 with z = 1.6448536.
        let point = planner_reorder_point(10.0, 3.0, 8.0, 0.0, 0.95)?;
        assert!((point - 93.957_045_8).abs() < 1e-6, "{point}");
        // At 50 % the safety factor is 0: the reorder point is mean lead-time demand.
        let point = planner_reorder_point(10.0, 3.0, 8.0, 2.0, 0.5)?;
        assert!((point - 80.0).abs() < 1e-9, "{point}");
        Ok(())
    }

    #[test]
    fn the_planner_refuses_what_it_cannot_compute() {
        // A service level of 1 needs infinite safety stock; a negative spread is not a spread.
        assert!(planner_reorder_point(10.0, 3.0, 8.0, 2.0, 1.0).is_err());
        assert!(planner_reorder_point(10.0, -3.0, 8.0, 2.0, 0.95).is_err());
        assert!(planner_reorder_point(f64::NAN, 3.0, 8.0, 2.0, 0.95).is_err());
    }
}
