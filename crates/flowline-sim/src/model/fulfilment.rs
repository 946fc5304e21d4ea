//! Deliver, warehouse and carrier side: pick waves within each center's capacity, picking and
//! packing, handing parcels to the carrier with the invoice and the payment (at once or on the
//! channel's terms), and the carrier's transit, delays, damage and losses to delivery.

use super::{Action, Model, add_working_days, at_local, id, local, minor};
use crate::driver::{SimError, Then};
use crate::scenario::Payment;
use flowline_core::Command;
use flowline_core::documents::sales_order::{
    DeliverShipment, DeliveryCondition, InvoiceSalesOrder, LineQuantity, PackSalesOrder, Package,
    PickSalesOrder, ReceivePayment, RecordCarrierException, ShipSalesOrder,
};
use flowline_core::money::Money;

impl Model<'_> {
    pub(super) fn wave(&mut self, center: usize, left: u32) {
        let zone = self.w.centers[center].zone.clone();
        let (date, _) = local(self.now, &zone);
        if self.shipped_today[center].0 != Some(date) {
            self.shipped_today[center] = (Some(date), 0);
        }
        let capacity = self.s.centers[center].capacity_orders_per_day;
        let remaining = capacity.saturating_sub(self.shipped_today[center].1);
        let mut budget = remaining.div_ceil(left.max(1));
        let mut minute = 0i64;
        while budget > 0 {
            let next = match self.queues[center].0.pop_front() {
                Some(n) => Some(n),
                None => self.queues[center].1.pop_front(),
            };
            let Some(number) = next else { break };
            let Some(order) = self.orders.get_mut(&number) else {
                continue;
            };
            order.queued &= !(1 << center);
            let has_work = order
                .lines
                .iter()
                .any(|l| l.allocated.iter().any(|(c, q)| *c == center && *q > 0));
            if !has_work {
                continue;
            }
            budget -= 1;
            self.shipped_today[center].1 += 1;
            // Picks spread over the wave's first ninety minutes.
            minute = (minute + self.dice.between(0, 2)).min(89);
            let at = self.now + minute * 60 + self.dice.between(0, 59);
            self.schedule(
                at,
                Action::PickPack {
                    order: number,
                    center,
                },
            );
        }
    }

    pub(super) fn pick_pack(&mut self, number: u32, center: usize) -> Result<(), SimError> {
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        let mut lines = Vec::new();
        let mut units = 0;
        let mut weight = 0;
        for (i, l) in order.lines.iter_mut().enumerate() {
            if let Some(pos) = l.allocated.iter().position(|(c, q)| *c == center && *q > 0) {
                let quantity = l.allocated[pos].1;
                l.allocated.remove(pos);
                match l.packed.iter_mut().find(|(c, _)| *c == center) {
                    Some(entry) => entry.1 += quantity,
                    None => l.packed.push((center, quantity)),
                }
                lines.push(LineQuantity { line: i, quantity });
                units += quantity;
                weight += quantity * self.w.items[l.item].weight_g;
            }
        }
        if lines.is_empty() {
            return Ok(());
        }
        let order_id = order.id.clone();
        let location = self.w.centers[center].id.clone();
        self.send(
            self.now,
            Command::PickSalesOrder(PickSalesOrder {
                order: order_id.clone(),
                location: location.clone(),
                lines: lines.clone(),
            }),
            Then::Nothing,
        )?;
        let packed_at = self.now + self.dice.between(300, 1500);
        let package = if weight > 3_000 {
            ("box-l", 450)
        } else if weight > 1_000 {
            ("box-m", 250)
        } else {
            ("mailer", 60)
        };
        self.send(
            packed_at,
            Command::PackSalesOrder(PackSalesOrder {
                order: order_id,
                location,
                lines,
                package: Some(Package {
                    kind: package.0.into(),
                    mass_g: package.1,
                }),
            }),
            Then::Nothing,
        )?;
        let spec = &self.s.centers[center];
        self.accrued.pick_pack[center] += minor(spec.pick_fee_per_unit, &self.w) as f64
            * units as f64
            + minor(spec.pack_fee_per_order, &self.w) as f64;
        self.accrued.packaging += minor(self.s.costs.packaging_per_shipment, &self.w) as f64;
        // The carrier collects in the twenty minutes before its pick-up hour, today if that is
        // still to come.
        let zone = self.w.centers[center].zone.clone();
        let (date, _) = local(self.now, &zone);
        let mut pickup = at_local(date, i64::from(spec.pickup_hour), 0, &zone);
        if pickup - 1200 <= packed_at {
            pickup = at_local(
                add_working_days(date, 1),
                i64::from(spec.pickup_hour),
                0,
                &zone,
            );
        }
        let at = pickup - self.dice.between(0, 1200);
        self.schedule(
            at,
            Action::Ship {
                order: number,
                center,
            },
        );
        Ok(())
    }

    pub(super) fn ship(&mut self, number: u32, center: usize) -> Result<(), SimError> {
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        let mut lines = Vec::new();
        let mut carried = Vec::new();
        let mut weight = 0;
        let mut value = 0;
        for (i, l) in order.lines.iter_mut().enumerate() {
            if let Some(pos) = l.packed.iter().position(|(c, _)| *c == center) {
                let quantity = l.packed[pos].1;
                l.packed.remove(pos);
                l.shipped += quantity;
                lines.push(LineQuantity { line: i, quantity });
                carried.push((i, quantity));
                weight += quantity * self.w.items[l.item].weight_g;
                value += quantity * l.price;
            }
        }
        if lines.is_empty() {
            return Ok(());
        }
        order.shipments += 1;
        order.in_transit += 1;
        let shipment = order.shipments;
        let first_invoice = !order.shipping_invoiced;
        order.shipping_invoiced = true;
        let (channel, level, region) = (order.channel, order.level, order.region);
        let order_id = order.id.clone();
        let level_spec = &self.s.channels[channel].services[level];
        let carrier_index = self
            .s
            .carriers
            .iter()
            .position(|c| c.id == level_spec.carrier)
            .unwrap_or(0);
        let carrier = &self.s.carriers[carrier_index];
        let service = carrier
            .services
            .iter()
            .find(|s| s.code == level_spec.service)
            .unwrap_or(&carrier.services[0]);
        let weight = weight + 200;
        let shipment_id = format!("{}-{shipment}", order_id);
        self.send(
            self.now,
            Command::ShipSalesOrder(ShipSalesOrder {
                order: order_id.clone(),
                shipment: id(&shipment_id)?,
                location: self.w.centers[center].id.clone(),
                carrier: id(&carrier.id)?,
                service: id(&service.code)?,
                tracking: Some(format!(
                    "{}{:010}",
                    &carrier.id[..carrier.id.len().min(2)],
                    u64::from(number) * 7 + u64::from(shipment)
                )),
                weight_g: weight,
                lines,
            }),
            Then::Nothing,
        )?;
        self.count("shipments", 1);
        let km = self.s.distance_km(region, center);
        self.accrued.carrier[carrier_index] +=
            minor(service.price(carrier.zone(km), weight), &self.w) as f64;
        // Invoice what shipped; card customers are charged now, shops on their terms.
        let channel_spec = &self.s.channels[channel];
        let amount = value
            + if first_invoice {
                minor(channel_spec.shipping_charge, &self.w)
            } else {
                0
            };
        self.send(
            self.now + 1,
            Command::InvoiceSalesOrder(InvoiceSalesOrder {
                order: order_id.clone(),
                invoice: id(&format!("INV-{number:07}-{shipment}"))?,
            }),
            Then::Nothing,
        )?;
        let payment = format!("PAY-{number:07}-{shipment}");
        match channel_spec.payment {
            Payment::AtOrder => {
                self.send(
                    self.now + 2,
                    Command::ReceivePayment(ReceivePayment {
                        order: order_id.clone(),
                        payment: id(&payment)?,
                        amount: Money::new(amount, self.w.currency),
                    }),
                    Then::Nothing,
                )?;
            }
            Payment::OnTerms => {
                let delay = channel_spec
                    .payment_delay_days
                    .map_or(0.0, |d| self.dice.normal(d.mean, d.sd));
                let days = channel_spec.terms_days as f64 + delay;
                let at = self.now + (days.max(1.0) * 86_400.0) as i64;
                self.schedule(
                    at,
                    Action::CustomerPays {
                        order: order_id.clone(),
                        payment,
                        amount,
                    },
                );
            }
        }
        // Transit: published days, more for distance, sometimes late; Sundays do not count.
        let km = self.s.distance_km(region, center);
        let mut days = service.transit_days as f64
            + service.days_per_1000_km * ((km - 500.0).max(0.0) / 1000.0)
            + self.dice.uniform(-0.5, 0.5);
        let late = self.dice.chance(service.late_rate);
        if late {
            days += self.dice.between(1, 3) as f64;
        }
        let days = days
            .round()
            .max(if service.transit_days == 0 { 0.0 } else { 1.0 }) as i64;
        let zone = self.w.region_zones[region].clone();
        let (ship_date, _) = local(self.now, &zone);
        let arrival_date = add_working_days(ship_date, days);
        let mut arrival = at_local(
            arrival_date,
            self.dice.between(9, 19),
            self.dice.between(0, 59),
            &zone,
        );
        if arrival <= self.now {
            arrival = self.now + 3_600;
        }
        let lost = self.dice.chance(service.loss_rate);
        let damaged = !lost && self.dice.chance(service.damage_rate);
        if lost {
            arrival += 5 * 86_400;
        }
        self.schedule(
            arrival,
            Action::Arrive {
                order: number,
                shipment,
                lines: carried,
                damaged,
                lost,
            },
        );
        self.forget_if_done(number);
        Ok(())
    }

    pub(super) fn arrive(
        &mut self,
        number: u32,
        shipment: u32,
        carried: &[(usize, i64)],
        damaged: bool,
        lost: bool,
    ) -> Result<(), SimError> {
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        order.in_transit = order.in_transit.saturating_sub(1);
        let order_id = order.id.clone();
        let shipment_id: flowline_core::id::ShipmentId = id(&format!("{order_id}-{shipment}"))?;
        if lost {
            order.lost = true;
            self.send(
                self.now,
                Command::RecordCarrierException(RecordCarrierException {
                    order: order_id,
                    shipment: shipment_id,
                    code: id("lost")?,
                }),
                Then::Nothing,
            )?;
            self.count("shipments_lost", 1);
            return Ok(());
        }
        self.send(
            self.now,
            Command::DeliverShipment(DeliverShipment {
                order: order_id.clone(),
                shipment: shipment_id,
                delivered_at: None,
                condition: if damaged {
                    DeliveryCondition::Damaged
                } else {
                    DeliveryCondition::Intact
                },
                misdelivered: false,
                note: None,
            }),
            Then::Nothing,
        )?;
        self.count("deliveries", 1);
        if damaged {
            self.count("deliveries_damaged", 1);
        }
        self.plan_returns(number, carried, damaged)?;
        self.forget_if_done(number);
        Ok(())
    }
}
