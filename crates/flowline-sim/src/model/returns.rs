//! Return: whether a customer sends a delivery back, and the return from authorisation and
//! label to receipt, inspection, disposition (restock, return to vendor, scrap) and refund.

use super::{Action, Model, id, minor};
use crate::driver::{SimError, Then};
use crate::world::Kind;
use flowline_core::Command;
use flowline_core::documents::return_auth::{
    AuthoriseReturn, CloseReturn, DisposeReturn, Disposition, DispositionLine, InspectReturn,
    InspectionLine, IssueReturnLabel, ReceiveReturn, RefundReturn, ReturnLineInput,
};
use flowline_core::documents::sales_order::LineQuantity;
use flowline_core::id::{ReasonCode, SalesOrderId};
use flowline_core::master::Condition;
use flowline_core::money::Money;

/// A return as the model follows it.
#[derive(Debug, Clone)]
pub(crate) struct Ret {
    pub id: String,
    pub order: SalesOrderId,
    /// (order line, units, reason, unit price, item).
    pub lines: Vec<(usize, i64, String, i64, usize)>,
    pub region: usize,
    pub abusive: bool,
}

impl Model<'_> {
    /// Decides whether the customer sends anything of this shipment back.
    pub(super) fn plan_returns(
        &mut self,
        number: u32,
        carried: &[(usize, i64)],
        damaged: bool,
    ) -> Result<(), SimError> {
        let Some(order) = self.orders.get(&number) else {
            return Ok(());
        };
        let abusive = self
            .w
            .abusive
            .get(order.customer as usize)
            .copied()
            .unwrap_or(false);
        let share = self.s.returns.abusive_customer_share;
        let multiplier = self.s.returns.abusive_multiplier;
        // Scaled so the average over all customers is the category's return rate.
        let scale = if abusive { multiplier } else { 1.0 } / (1.0 - share + share * multiplier);
        let mut lines = Vec::new();
        let shipped: Vec<(usize, usize, i64, i64)> = carried
            .iter()
            .filter_map(|(line, units)| {
                order
                    .lines
                    .get(*line)
                    .map(|l| (*line, l.item, *units, l.price))
            })
            .collect();
        let (region, order_id) = (order.region, order.id.clone());
        for (i, (line, item, units, price)) in shipped.into_iter().enumerate() {
            let category = &self.s.categories[self.w.items[item].category];
            let returned = if damaged && i == 0 {
                units
            } else {
                self.dice
                    .binomial(units as u64, (category.return_rate * scale).min(1.0))
                    as i64
            };
            if returned == 0 {
                continue;
            }
            let reason = if damaged && i == 0 {
                "damaged_in_transit".to_string()
            } else {
                let reasons: Vec<(&String, &f64)> = category.return_reasons.iter().collect();
                let pick = self
                    .dice
                    .pick(&reasons.iter().map(|(_, w)| **w).collect::<Vec<_>>());
                reasons
                    .get(pick)
                    .map_or("changed_mind".to_string(), |(r, _)| (*r).clone())
            };
            lines.push((line, returned, reason, price, item));
        }
        if lines.is_empty() {
            return Ok(());
        }
        // A shipment's lines come back together: one return per delivery.
        self.next_return += 1;
        let ret = self.next_return;
        let wait = if damaged {
            self.dice.uniform(0.2, 2.0)
        } else {
            self.dice.positive(
                self.s.returns.request_days.mean,
                self.s.returns.request_days.sd,
            )
        };
        if wait >= self.s.returns.window_days as f64 {
            return Ok(());
        }
        self.returns.insert(
            ret,
            Ret {
                id: format!("RMA-{ret:07}"),
                order: order_id,
                lines,
                region,
                abusive,
            },
        );
        self.schedule(
            self.now + (wait * 86_400.0) as i64,
            Action::ReturnRequested { ret },
        );
        Ok(())
    }

    pub(super) fn return_requested(&mut self, ret: u32) -> Result<(), SimError> {
        let Some(found) = self.returns.get(&ret).cloned() else {
            return Ok(());
        };
        let lines = found
            .lines
            .iter()
            .map(|(line, quantity, reason, _, _)| {
                Ok(ReturnLineInput {
                    line: *line,
                    quantity: *quantity,
                    reason: id::<ReasonCode>(reason)?,
                })
            })
            .collect::<Result<Vec<_>, SimError>>()?;
        self.send(
            self.now,
            Command::AuthoriseReturn(AuthoriseReturn {
                return_id: id(&found.id)?,
                order: found.order.clone(),
                policy: id("STANDARD")?,
                lines,
            }),
            Then::Nothing,
        )?;
        self.send(
            self.now + 60,
            Command::IssueReturnLabel(IssueReturnLabel {
                return_id: id(&found.id)?,
                carrier: id(&self.s.returns.carrier)?,
                service: id(&self.s.returns.service)?,
                tracking: format!("RT{ret:010}"),
                cost: Some(Money::new(
                    minor(self.s.returns.label_cost, &self.w),
                    self.w.currency,
                )),
            }),
            Then::Nothing,
        )?;
        self.count("returns_authorised", 1);
        let transit = self
            .dice
            .positive(
                self.s.returns.transit_days.mean,
                self.s.returns.transit_days.sd,
            )
            .max(0.5);
        self.schedule(
            self.now + (transit * 86_400.0) as i64,
            Action::ReturnArrives { ret },
        );
        Ok(())
    }

    pub(super) fn return_arrives(&mut self, ret: u32) -> Result<(), SimError> {
        let Some(found) = self.returns.get(&ret).cloned() else {
            return Ok(());
        };
        let lines = found
            .lines
            .iter()
            .enumerate()
            .map(|(i, (_, quantity, _, _, _))| LineQuantity {
                line: i,
                quantity: *quantity,
            })
            .collect();
        self.send(
            self.now,
            Command::ReceiveReturn(ReceiveReturn {
                return_id: id(&found.id)?,
                lines,
            }),
            Then::Nothing,
        )?;
        let wait = self
            .dice
            .positive(
                self.s.returns.inspection_days.mean,
                self.s.returns.inspection_days.sd,
            )
            .max(0.1);
        self.schedule(
            self.now + (wait * 86_400.0) as i64,
            Action::ReturnInspected { ret },
        );
        Ok(())
    }

    pub(super) fn return_inspected(&mut self, ret: u32) -> Result<(), SimError> {
        let Some(found) = self.returns.remove(&ret) else {
            return Ok(());
        };
        let return_id: flowline_core::id::ReturnId = id(&found.id)?;
        let restock_at = self.w.nearest[found.region]
            .iter()
            .copied()
            .find(|c| self.is_open(*c))
            .unwrap_or(0);
        let conditions = [
            Condition::New,
            Condition::LikeNew,
            Condition::Used,
            Condition::Damaged,
            Condition::Defective,
        ];
        let mut inspections = Vec::new();
        let mut dispositions = Vec::new();
        let mut refund = 0;
        let mut units_handled = 0;
        for (index, (_, quantity, reason, price, item)) in found.lines.iter().enumerate() {
            let weights = self
                .s
                .returns
                .conditions
                .get(reason)
                .or_else(|| self.s.returns.conditions.get("default"))
                .copied()
                .unwrap_or([1.0, 0.0, 0.0, 0.0, 0.0]);
            let mut by_condition = [0i64; 5];
            for _ in 0..*quantity {
                let mut c = self.dice.pick(&weights);
                // Abusive returners send back used goods more often than the reason suggests.
                if found.abusive && c < 2 && self.dice.chance(0.5) {
                    c = 2;
                }
                by_condition[c] += 1;
            }
            for (c, units) in by_condition.iter().enumerate() {
                if *units == 0 {
                    continue;
                }
                inspections.push(InspectionLine {
                    line: index,
                    quantity: *units,
                    condition: conditions[c],
                });
                let disposition = match conditions[c] {
                    Condition::New | Condition::LikeNew => Disposition::Restock {
                        location: self.w.centers[restock_at].id.clone(),
                    },
                    Condition::Defective => match &self.w.items[*item].kind {
                        Kind::Bought(suppliers) if !suppliers.is_empty() => {
                            Disposition::ReturnToVendor {
                                supplier: self.w.suppliers[suppliers[0]].id.clone(),
                            }
                        }
                        _ => Disposition::Scrap,
                    },
                    Condition::Used | Condition::Damaged => Disposition::Scrap,
                };
                dispositions.push(DispositionLine {
                    line: index,
                    quantity: *units,
                    disposition,
                });
                if conditions[c] != Condition::Used {
                    refund += units * price;
                }
                units_handled += units;
            }
        }
        self.send(
            self.now,
            Command::InspectReturn(InspectReturn {
                return_id: return_id.clone(),
                lines: inspections,
            }),
            Then::Nothing,
        )?;
        self.send(
            self.now + 60,
            Command::DisposeReturn(DisposeReturn {
                return_id: return_id.clone(),
                lines: dispositions,
            }),
            Then::Nothing,
        )?;
        if refund > 0 {
            self.send(
                self.now + 120,
                Command::RefundReturn(RefundReturn {
                    return_id: return_id.clone(),
                    refund: id(&format!("RF-{ret:07}"))?,
                    amount: Money::new(refund, self.w.currency),
                }),
                Then::Nothing,
            )?;
        } else {
            // Nothing to refund (used goods): the return is closed instead.
            self.send(
                self.now + 180,
                Command::CloseReturn(CloseReturn {
                    return_id,
                    reason: id("not_refundable")?,
                }),
                Then::Nothing,
            )?;
        }
        self.accrued.return_labour +=
            minor(self.s.costs.return_labour_per_unit, &self.w) as f64 * units_handled as f64;
        self.count("returns_closed", 1);
        self.count("units_returned", units_handled as u64);
        Ok(())
    }
}
