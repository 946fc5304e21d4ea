//! Deliver, order side: a customer's order placed with its promise, allocated to the centers
//! that can fill it (or backordered), allocations the engine refused read back, backorders
//! retried or cancelled when they waited too long, and customers' cancellations.

use super::{
    Action, Model, add_working_days, at_local, coordinates, id, local, minor, ts, working,
    zone_name,
};
use crate::driver::{SimError, Then};
use crate::scenario::PromiseRule;
use crate::world::GIFT_SHARE;
use flowline_core::Command;
use flowline_core::documents::sales_order::{
    AllocateSalesOrder, AllocationRequest, CancelSalesOrder, Initiator, LineQuantity,
    OrderLineInput, PlaceSalesOrder, Promise, PromiseSource, ShortagePolicy,
};
use flowline_core::id::{LocationId, SalesOrderId};
use flowline_core::master::Address;

/// The reason codes the model uses.
pub(super) const ORDER_CANCEL_CUSTOMER: &str = "changed_mind";
pub(super) const ORDER_CANCEL_STOCK: &str = "out_of_stock";

/// One order line as the model follows it.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub item: usize,
    pub qty: i64,
    pub price: i64,
    /// Allocated and not yet picked, per center.
    pub allocated: Vec<(usize, i64)>,
    /// Picked and packed, waiting for the carrier, per center.
    pub packed: Vec<(usize, i64)>,
    pub shipped: i64,
    pub backordered: i64,
    pub cancelled: i64,
}

/// An order as the model follows it, until nothing more can happen to it.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: SalesOrderId,
    pub channel: usize,
    pub level: usize,
    pub region: usize,
    pub customer: u32,
    pub lines: Vec<Line>,
    pub shipments: u32,
    pub in_transit: u32,
    pub shipping_invoiced: bool,
    pub backordered_since: Option<i64>,
    /// Centers whose queue holds it.
    pub queued: u32,
    /// The center it would ship from if it could choose.
    pub preferred: usize,
    /// Waiting for the model to read back what the engine allocated.
    pub syncing: bool,
    pub lost: bool,
}

impl Order {
    fn open_units(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.qty - l.shipped - l.cancelled)
            .sum()
    }
}

impl Model<'_> {
    /// Reads back the allocations of orders whose allocation the model could not predict
    /// (a shortage was backordered by the engine, or a request was refused), and releases
    /// them to the centers that hold their stock.
    pub(super) fn sync(&mut self) -> Result<(), SimError> {
        if self.to_sync.is_empty() {
            return Ok(());
        }
        let numbers = std::mem::take(&mut self.to_sync);
        let wanted: Vec<(u32, SalesOrderId)> = numbers
            .iter()
            .filter_map(|n| self.orders.get(n).map(|o| (*n, o.id.clone())))
            .collect();
        let read = self.d.engine().query(self.d.tenant(), move |state| {
            wanted
                .into_iter()
                .map(|(number, id)| {
                    let lines: Vec<Vec<(LocationId, i64)>> = state
                        .sales_orders
                        .get(&id)
                        .map(|order| {
                            order
                                .lines
                                .iter()
                                .map(|line| {
                                    line.allocations
                                        .iter()
                                        .map(|a| (a.location.clone(), a.allocated - a.picked))
                                        .filter(|(_, q)| *q > 0)
                                        .collect()
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (number, lines)
                })
                .collect::<Vec<_>>()
        })?;
        for (number, lines) in read {
            let centers: Vec<Vec<(usize, i64)>> = lines
                .into_iter()
                .map(|line| {
                    line.into_iter()
                        .filter_map(|(location, q)| {
                            self.w
                                .centers
                                .iter()
                                .position(|c| c.id == location)
                                .map(|c| (c, q))
                        })
                        .collect()
                })
                .collect();
            let Some(order) = self.orders.get_mut(&number) else {
                continue;
            };
            order.syncing = false;
            let mut queue_at = Vec::new();
            for (line, truth) in order.lines.iter_mut().zip(centers) {
                line.allocated = truth;
                for (center, _) in &line.allocated {
                    if order.queued & (1 << center) == 0 && !queue_at.contains(center) {
                        queue_at.push(*center);
                    }
                }
                let packed: i64 = line.packed.iter().map(|(_, q)| q).sum();
                let allocated: i64 = line.allocated.iter().map(|(_, q)| q).sum();
                line.backordered =
                    (line.qty - line.shipped - line.cancelled - packed - allocated).max(0);
            }
            let backordered = order.lines.iter().any(|l| l.backordered > 0);
            let express = self.s.channels[order.channel].services[order.level].promise_days <= 1;
            for center in queue_at {
                order.queued |= 1 << center;
                let queue = &mut self.queues[center];
                if express {
                    queue.0.push_back(number);
                } else {
                    queue.1.push_back(number);
                }
            }
            if backordered {
                if order.backordered_since.is_none() {
                    order.backordered_since = Some(self.now);
                }
                self.backordered.insert(number);
            } else {
                order.backordered_since = None;
                self.backordered.remove(&number);
            }
        }
        Ok(())
    }

    /// Units backordered per item and center (at the center each order would ship from).
    pub(crate) fn backorder_need(&self) -> Vec<i64> {
        let mut need = vec![0; self.avail.len()];
        for number in &self.backordered {
            let Some(order) = self.orders.get(number) else {
                continue;
            };
            for line in &order.lines {
                if line.backordered > 0 {
                    for (stocked, per) in self.stocked(line.item) {
                        need[self.cell(stocked, order.preferred)] += line.backordered * per;
                    }
                }
            }
        }
        need
    }

    pub(super) fn arrival(&mut self, region: usize) -> Result<(), SimError> {
        let s = self.s;
        let channel = self
            .dice
            .pick(&s.channels.iter().map(|c| c.share).collect::<Vec<_>>());
        let level = self.dice.pick(
            &s.channels[channel]
                .services
                .iter()
                .map(|l| l.share)
                .collect::<Vec<_>>(),
        );
        let (low, high) = self.w.region_customers[region];
        let customer =
            self.dice
                .between(i64::from(low), i64::from(high.max(low + 1)) - 1) as u32;
        let (date, _) = local(self.now, &self.w.region_zones[region]);
        let (_, featured) = self.rate(date);
        // Lines: distinct items; categories by share, or the featured one in a flash sale.
        let n_lines = 1 + self.dice.poisson(s.catalog.lines_per_order - 1.0) as usize;
        let mut lines: Vec<Line> = Vec::new();
        let channel_spec = &s.channels[channel];
        let mut tries = 0;
        while lines.len() < n_lines && tries < n_lines * 4 {
            tries += 1;
            let item = if self.dice.chance(GIFT_SHARE) && !self.w.gift_items.0.is_empty() {
                self.w.gift_items.0[self.dice.pick_cumulative(&self.w.gift_items.1)]
            } else {
                let category = match featured {
                    Some(f) if self.dice.chance(s.demand.flash_sales.featured_share) => f,
                    _ => self.dice.pick_cumulative(&self.w.category_shares),
                };
                let (members, popularity) = &self.w.category_items[category];
                if members.is_empty() {
                    continue;
                }
                members[self.dice.pick_cumulative(popularity)]
            };
            if lines.iter().any(|l| l.item == item) {
                continue;
            }
            let qty = 1 + self.dice.poisson(channel_spec.units_per_line - 1.0) as i64;
            let price = (self.w.items[item].price as f64 * channel_spec.price_share).round() as i64;
            lines.push(Line {
                item,
                qty,
                price,
                allocated: Vec::new(),
                packed: Vec::new(),
                shipped: 0,
                backordered: 0,
                cancelled: 0,
            });
        }
        if lines.is_empty() {
            return Ok(());
        }
        self.next_order += 1;
        let number = self.next_order;
        let order_id: SalesOrderId = id(&format!("SO-{number:07}"))?;
        let level_spec = &channel_spec.services[level];
        let preferred = self.w.nearest[region]
            .iter()
            .copied()
            .find(|c| self.is_open(*c))
            .unwrap_or(0);
        let promise = self.promise(channel, level, region, preferred);
        let ship_to = self.address(region, customer)?;
        let command = Command::PlaceSalesOrder(PlaceSalesOrder {
            contact: None,
            order: order_id.clone(),
            channel: id(&channel_spec.id)?,
            customer: id(&format!("C-{customer:06}"))?,
            ship_to,
            currency: self.w.currency,
            exchange_rate: None,
            lines: lines
                .iter()
                .map(|l| OrderLineInput {
                    sku: self.w.items[l.item].sku.clone(),
                    quantity: l.qty,
                    unit_price_minor: l.price,
                    unit_tax_minor: 0,
                })
                .collect(),
            promise,
            service_level: Some(level_spec.name.clone()),
            shipping_charge_minor: minor(channel_spec.shipping_charge, &self.w),
            allocate: None,
        });
        self.send(self.now, command, Then::Nothing)?;
        self.count("orders_placed", 1);
        *self
            .orders_by_day
            .entry(local(self.now, &self.w.zone).0)
            .or_default() += 1;
        // Demand as the planner sees it: at the center the order would ship from.
        for line in &lines {
            for (stocked, per) in self.stocked(line.item) {
                let cell = self.cell(stocked, preferred);
                self.demand[cell] += (line.qty * per) as f64;
            }
        }
        let order = Order {
            id: order_id,
            channel,
            level,
            region,
            customer,
            lines,
            shipments: 0,
            in_transit: 0,
            shipping_invoiced: false,
            backordered_since: None,
            queued: 0,
            preferred,
            syncing: false,
            lost: false,
        };
        self.orders.insert(number, order);
        self.allocate(number, true)?;
        if self.dice.chance(s.demand.customer_cancel_rate) {
            let after = (self.dice.positive(3.0, 2.0) * 3600.0) as i64;
            self.schedule(
                self.now + after.max(60),
                Action::CustomerCancels { order: number },
            );
        }
        Ok(())
    }

    fn address(&self, region: usize, customer: u32) -> Result<Address, SimError> {
        let spec = &self.s.regions[region];
        Ok(Address {
            recipient: None,
            lines: vec![format!("{} Customer Street", customer % 997 + 1)],
            city: format!("{} city {}", spec.id, customer % 40 + 1),
            region: spec.id.clone(),
            postal_code: format!("{:05}", customer % 100_000),
            country: spec.country.clone(),
            time_zone: zone_name(&spec.time_zone)?,
            coordinates: coordinates(spec.coordinates),
        })
    }

    /// The promise a channel's service level makes for an order placed now.
    fn promise(
        &self,
        channel: usize,
        level: usize,
        region: usize,
        center: usize,
    ) -> Option<Promise> {
        let spec = &self.s.channels[channel].services[level];
        if spec.promise == PromiseRule::None {
            return None;
        }
        let zone = &self.w.centers[center].zone;
        let (today, hour) = local(self.now, zone);
        let mut ship_day = today;
        if hour >= i64::from(spec.cutoff_hour) || !working(today) {
            ship_day = add_working_days(today, 1);
        }
        while !working(ship_day) {
            ship_day = add_working_days(ship_day, 1);
        }
        let deliver_by = add_working_days(ship_day, spec.promise_days.max(1));
        let pickup = at_local(
            ship_day,
            i64::from(self.s.centers[center].pickup_hour),
            0,
            zone,
        );
        let _ = region;
        Some(Promise {
            source: match spec.promise {
                PromiseRule::Checkout => PromiseSource::ShownAtCheckout,
                _ => PromiseSource::Derived,
            },
            deliver_by: Some(deliver_by),
            window: None,
            ship_by: Some(ts(pickup)),
        })
    }

    /// Centers in the order to try for a region: nearest first, a center a day or more behind
    /// its capacity pushed back by the distance that day is worth.
    fn preference(&self, region: usize) -> Vec<usize> {
        let mut scored: Vec<(f64, usize)> = self.w.nearest[region]
            .iter()
            .copied()
            .filter(|c| self.is_open(*c))
            .map(|c| {
                let km = self.s.distance_km(region, c);
                let backlog = (self.queues[c].0.len() + self.queues[c].1.len()) as f64
                    / f64::from(self.s.centers[c].capacity_orders_per_day.max(1));
                (km + 2_000.0 * (backlog - 1.0).max(0.0), c)
            })
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, c)| c).collect()
    }

    /// Units of `item` a center can supply now (a bundle: as many as its components make).
    fn can_supply(&self, item: usize, center: usize) -> i64 {
        self.stocked(item)
            .into_iter()
            .map(|(stocked, per)| self.avail[self.cell(stocked, center)].max(0) / per.max(1))
            .min()
            .unwrap_or(0)
    }

    /// Allocates what is missing: the whole order from one center if one can, else line by
    /// line from the nearest that can. What no center can supply is asked of the preferred
    /// center with the shortage backordered by the engine; the model then reads back what was
    /// allocated when the hour ends.
    fn allocate(&mut self, number: u32, first: bool) -> Result<(), SimError> {
        let Some(order) = self.orders.get(&number) else {
            return Ok(());
        };
        if order.syncing {
            return Ok(());
        }
        let region = order.region;
        let needs: Vec<(usize, usize, i64)> = order
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let held: i64 = l.allocated.iter().map(|(_, q)| q).sum::<i64>()
                    + l.packed.iter().map(|(_, q)| q).sum::<i64>();
                (i, l.item, l.qty - l.shipped - l.cancelled - held)
            })
            .filter(|(_, _, need)| *need > 0)
            .collect();
        if needs.is_empty() {
            return Ok(());
        }
        let centers = self.preference(region);
        let Some(&preferred) = centers.first() else {
            return Ok(());
        };
        let whole = centers.iter().copied().find(|c| {
            needs
                .iter()
                .all(|(_, item, need)| self.can_supply(*item, *c) >= *need)
        });
        let mut plan: Vec<(usize, usize, i64)> = Vec::new();
        let mut missing: Vec<(usize, usize, i64)> = Vec::new();
        match whole {
            Some(center) => {
                for (line, item, need) in &needs {
                    plan.push((*line, center, *need));
                    self.take(*item, center, *need);
                }
            }
            None => {
                for (line, item, need) in &needs {
                    let mut left = *need;
                    for center in &centers {
                        let take = self.can_supply(*item, *center).min(left);
                        if take > 0 {
                            plan.push((*line, *center, take));
                            self.take(*item, *center, take);
                            left -= take;
                        }
                        if left == 0 {
                            break;
                        }
                    }
                    if left > 0 {
                        missing.push((*line, *item, left));
                    }
                }
            }
        }
        // A later sweep only asks when some stock has come in for it.
        if plan.is_empty() && !first {
            return Ok(());
        }
        let mut requests: Vec<AllocationRequest> = plan
            .iter()
            .map(|(line, center, quantity)| AllocationRequest {
                line: *line,
                location: self.w.centers[*center].id.clone(),
                quantity: *quantity,
            })
            .collect();
        for (line, item, quantity) in &missing {
            requests.push(AllocationRequest {
                line: *line,
                location: self.w.centers[preferred].id.clone(),
                quantity: *quantity,
            });
            // Whatever the engine finds there is taken; the model does not count on it.
            self.take(*item, preferred, *quantity);
        }
        let express = self.s.channels[self.orders[&number].channel].services
            [self.orders[&number].level]
            .promise_days
            <= 1;
        let now = self.now;
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        let order_id = order.id.clone();
        let shortage = if missing.is_empty() {
            // Certain: the model knows what it asked for is there.
            let mut queue_at = Vec::new();
            for (line, center, quantity) in &plan {
                let l = &mut order.lines[*line];
                match l.allocated.iter_mut().find(|(c, _)| c == center) {
                    Some(entry) => entry.1 += quantity,
                    None => l.allocated.push((*center, *quantity)),
                }
                l.backordered = 0;
                if order.queued & (1 << center) == 0 && !queue_at.contains(center) {
                    queue_at.push(*center);
                }
            }
            order.backordered_since = None;
            for center in queue_at {
                order.queued |= 1 << center;
                let queue = &mut self.queues[center];
                if express {
                    queue.0.push_back(number);
                } else {
                    queue.1.push_back(number);
                }
            }
            self.backordered.remove(&number);
            ShortagePolicy::Reject
        } else {
            order.syncing = true;
            if order.backordered_since.is_none() {
                order.backordered_since = Some(now);
                if first {
                    *self.counters.entry("orders_backordered").or_default() += 1;
                }
            }
            self.to_sync.push(number);
            ShortagePolicy::Backorder
        };
        self.send(
            self.now,
            Command::AllocateSalesOrder(AllocateSalesOrder {
                order: order_id,
                shortage,
                lines: Some(requests),
            }),
            Then::Allocated { order: number },
        )
    }

    /// Counts units of `item` (a bundle: its components) as taken from a center's
    /// availability.
    fn take(&mut self, item: usize, center: usize, units: i64) {
        for (stocked, per) in self.stocked(item) {
            let cell = self.cell(stocked, center);
            self.avail[cell] -= units * per;
        }
    }

    /// Allocates backordered orders, oldest first; cancels what waited too long.
    pub(super) fn backorders(&mut self) -> Result<(), SimError> {
        let waiting: Vec<u32> = self.backordered.iter().copied().collect();
        let limit = self.s.replenishment.backorder_cancel_days * 86_400;
        for number in waiting {
            let Some(order) = self.orders.get(&number) else {
                self.backordered.remove(&number);
                continue;
            };
            if order.syncing {
                continue;
            }
            let since = order.backordered_since.unwrap_or(self.now);
            if self.now - since >= limit {
                self.cancel_backordered(number)?;
            } else {
                self.allocate(number, false)?;
            }
        }
        Ok(())
    }

    fn cancel_backordered(&mut self, number: u32) -> Result<(), SimError> {
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        let mut lines = Vec::new();
        for (i, l) in order.lines.iter_mut().enumerate() {
            if l.backordered > 0 {
                lines.push(LineQuantity {
                    line: i,
                    quantity: l.backordered,
                });
                l.cancelled += l.backordered;
                l.backordered = 0;
            }
        }
        order.backordered_since = None;
        let order_id = order.id.clone();
        self.backordered.remove(&number);
        if lines.is_empty() {
            return Ok(());
        }
        self.send(
            self.now,
            Command::CancelSalesOrder(CancelSalesOrder {
                order: order_id,
                initiator: Initiator::Seller,
                reason: id(ORDER_CANCEL_STOCK)?,
                lines: Some(lines),
            }),
            Then::Nothing,
        )?;
        self.count("lines_cancelled_out_of_stock", 1);
        self.forget_if_done(number);
        Ok(())
    }

    pub(super) fn customer_cancels(&mut self, number: u32) -> Result<(), SimError> {
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        // Only while nothing has been picked or shipped.
        if order
            .lines
            .iter()
            .any(|l| l.shipped > 0 || !l.packed.is_empty())
        {
            return Ok(());
        }
        if order.syncing {
            return Ok(());
        }
        for l in &mut order.lines {
            l.cancelled = l.qty;
            l.allocated.clear();
            l.backordered = 0;
        }
        order.backordered_since = None;
        let order_id = order.id.clone();
        self.backordered.remove(&number);
        self.send(
            self.now,
            Command::CancelSalesOrder(CancelSalesOrder {
                order: order_id,
                initiator: Initiator::Customer,
                reason: id(ORDER_CANCEL_CUSTOMER)?,
                lines: None,
            }),
            Then::Nothing,
        )?;
        self.count("orders_cancelled_by_customer", 1);
        self.forget_if_done(number);
        Ok(())
    }

    /// Drops an order the model has nothing more to do for.
    pub(super) fn forget_if_done(&mut self, number: u32) {
        if let Some(order) = self.orders.get(&number)
            && order.open_units() == 0
            && order.in_transit == 0
        {
            self.orders.remove(&number);
            self.backordered.remove(&number);
        }
    }
}
