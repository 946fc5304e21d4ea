//! Enable: what a run starts from. The tenant, its centers, suppliers, carriers, return policy
//! and items, the opening stock, the supply chain's fixed assets, the scenario's targets, and
//! its improvement initiatives when they start.

use super::{Action, Model, at_local, coordinates, currency, id, local, minor, zone_name};
use crate::driver::{SimError, Then};
use crate::scenario::parse_process;
use crate::world::Kind;
use flowline_core::Command;
use flowline_core::documents::finance::{AcquireFixedAsset, Settlement};
use flowline_core::documents::improvement::{
    CreateInitiative, InitiativeStatus, SetTarget, TargetDirection, TargetScope, UpdateInitiative,
};
use flowline_core::documents::inventory::{AdjustLineInput, AdjustStock};
use flowline_core::master::{
    Address, Bom, BomComponent, BomKind, CarrierService, Condition, TransportMode,
};
use flowline_core::money::Money;
use flowline_core::state::{
    ConfigureTenant, DefineCarrier, DefineItem, DefineLocation, DefineSupplier, SetReturnPolicy,
};
use jiff::ToSpan;

impl Model<'_> {
    pub(super) fn setup(&mut self, at: i64) -> Result<(), SimError> {
        self.now = at;
        self.hour_end = at + 3600;
        let s = self.s;
        let base = self.w.currency;
        self.send(
            at,
            Command::ConfigureTenant(ConfigureTenant {
                business_time: None,
                base_currency: base,
                reporting_time_zone: zone_name(&s.brand.reporting_time_zone)?,
            }),
            Then::Nothing,
        )?;
        for center in &s.centers {
            let region = s.regions.iter().find(|r| r.id == center.region);
            self.send(
                at,
                Command::DefineLocation(DefineLocation {
                    capacity_orders_per_day: Some(i64::from(center.capacity_orders_per_day)),
                    location: id(&center.id)?,
                    name: center.name.clone(),
                    region: center.region.clone(),
                    address: Address {
                        recipient: None,
                        lines: vec![format!("{} fulfillment center", center.name)],
                        city: center.city.clone(),
                        region: center.region.clone(),
                        postal_code: String::new(),
                        country: region.map_or("US".to_string(), |r| r.country.clone()),
                        time_zone: zone_name(&center.time_zone)?,
                        coordinates: coordinates(center.coordinates),
                    },
                }),
                Then::Nothing,
            )?;
        }
        for supplier in &s.suppliers {
            self.send(
                at,
                Command::DefineSupplier(DefineSupplier {
                    supplier: id(&supplier.id)?,
                    name: supplier.name.clone(),
                    currency: currency(&supplier.currency)?,
                    lead_time_days: supplier.lead_time_days.mean.round() as i64,
                    minimum_order_quantity: supplier.minimum_order_quantity,
                    payment_terms_days: supplier.payment_terms_days,
                    country: supplier.country.clone(),
                }),
                Then::Nothing,
            )?;
        }
        for carrier in &s.carriers {
            let services = carrier
                .services
                .iter()
                .map(|service| {
                    Ok(CarrierService {
                        code: id(&service.code)?,
                        mode: match service.mode.as_str() {
                            "air" => TransportMode::Air,
                            "rail" => TransportMode::Rail,
                            "sea" => TransportMode::Sea,
                            _ => TransportMode::Road,
                        },
                        transit_days: service.transit_days,
                    })
                })
                .collect::<Result<Vec<_>, SimError>>()?;
            self.send(
                at,
                Command::DefineCarrier(DefineCarrier {
                    carrier: id(&carrier.id)?,
                    name: carrier.name.clone(),
                    services,
                }),
                Then::Nothing,
            )?;
        }
        self.send(
            at,
            Command::SetReturnPolicy(SetReturnPolicy {
                policy: id("STANDARD")?,
                window_days: s.returns.window_days,
                refundable_conditions: vec![
                    Condition::New,
                    Condition::LikeNew,
                    Condition::Damaged,
                    Condition::Defective,
                ],
            }),
            Then::Nothing,
        )?;
        for index in 0..self.w.items.len() {
            let item = &self.w.items[index];
            let bom = match &item.kind {
                Kind::Bought(_) => None,
                Kind::Kit(components) | Kind::Bundle(components) => Some(Bom {
                    kind: if matches!(item.kind, Kind::Kit(_)) {
                        BomKind::Kit
                    } else {
                        BomKind::Bundle
                    },
                    components: components
                        .iter()
                        .map(|(c, q)| BomComponent {
                            sku: self.w.items[*c].sku.clone(),
                            quantity: *q,
                        })
                        .collect(),
                }),
            };
            let country = match &item.kind {
                Kind::Bought(suppliers) => suppliers
                    .first()
                    .map(|s| self.s.suppliers[*s].country.clone()),
                _ => Some("US".to_string()),
            };
            let command = Command::DefineItem(DefineItem {
                sku: item.sku.clone(),
                name: format!("{} {}", item.label.replace('_', " "), item.sku),
                unit: "each".into(),
                unit_cost: Money::new(item.cost, base),
                price: Money::new(item.price, base),
                weight_g: item.weight_g,
                dimensions: None,
                hs_code: None,
                country_of_origin: country,
                category: Some(item.label.clone()),
                bom,
            });
            self.send(at, command, Then::Nothing)?;
        }
        // Opening stock: the given days of expected demand at each center open on day one.
        let days = s.catalog.opening_stock_days;
        for center in 0..self.w.centers.len() {
            if s.centers[center].opens.is_some_and(|d| d > s.brand.start) {
                continue;
            }
            let mut lines = Vec::new();
            for (index, item) in self.w.items.iter().enumerate() {
                if matches!(item.kind, Kind::Bundle(_)) {
                    continue;
                }
                let quantity = (self.w.expected[index][center] * days).ceil() as i64;
                if quantity > 0 {
                    lines.push(AdjustLineInput {
                        sku: item.sku.clone(),
                        quantity,
                        unit_cost_minor: Some(item.cost),
                    });
                }
            }
            if !lines.is_empty() {
                self.send(
                    at,
                    Command::AdjustStock(AdjustStock {
                        adjustment: id(&format!("OPEN-{}", s.centers[center].id))?,
                        location: self.w.centers[center].id.clone(),
                        reason: id("opening_balance")?,
                        lines,
                    }),
                    Then::Nothing,
                )?;
            }
        }
        for asset in &s.fixed_assets {
            let command = Command::AcquireFixedAsset(AcquireFixedAsset {
                asset: id(&asset.id)?,
                name: asset.name.clone(),
                cost: Money::new(minor(asset.cost, &self.w), base),
                supply_chain: true,
                process: parse_process(&asset.process),
                useful_life_months: asset.life_months,
                salvage_minor: 0,
                settlement: Settlement::Paid,
            });
            self.send(at, command, Then::Nothing)?;
        }
        for target in &s.targets {
            let command = Command::SetTarget(SetTarget {
                target: id(&target.id)?,
                metric: target.metric.clone(),
                scope: target.scope.as_ref().map(|scope| TargetScope {
                    dimension: scope.dimension.clone(),
                    value: scope.value.clone(),
                }),
                value_milli: (target.value * 1000.0).round() as i64,
                direction: if target.direction == "at_most" {
                    TargetDirection::AtMost
                } else {
                    TargetDirection::AtLeast
                },
                baseline: None,
                due_on: None,
                source: target.source.clone(),
                note: None,
            });
            self.send(at, command, Then::Nothing)?;
        }
        for (index, initiative) in s.initiatives.iter().enumerate() {
            let day = self
                .start
                .saturating_add(initiative.starts_after_days.days());
            self.schedule(
                at_local(day, 9, 0, &self.w.zone),
                Action::Initiative { index },
            );
        }
        Ok(())
    }

    /// Creates an initiative of the scenario and puts it in progress.
    pub(super) fn initiative(&mut self, index: usize) -> Result<(), SimError> {
        let Some(spec) = self.s.initiatives.get(index) else {
            return Ok(());
        };
        let (today, _) = local(self.now, &self.w.zone);
        let initiative: flowline_core::id::InitiativeId = id(&spec.id)?;
        let create = Command::CreateInitiative(CreateInitiative {
            initiative: initiative.clone(),
            name: spec.name.clone(),
            metrics: spec.metrics.clone(),
            owner: spec.owner.clone(),
            expected_effect: spec.expected_effect.clone(),
            expected_change_milli: None,
            starts_on: today,
            ends_on: None,
        });
        self.send(self.now, create, Then::Nothing)?;
        let update = Command::UpdateInitiative(UpdateInitiative {
            initiative,
            status: Some(InitiativeStatus::InProgress),
            ends_on: None,
            note: Some("started".into()),
        });
        self.send(self.now + 60, update, Then::Nothing)
    }
}

/// A month is announced as peak season when its `yearly` multiplier is at least this many times
/// the year's mean (the built-in brand: November 1.23, December 1.38).
const SEASON_MONTH_MIN: f64 = 1.15;

impl Model<'_> {
    /// Plans what the brand knows of its year as promotions, each year the run covers, at the
    /// start of the run: its announced peaks (the marketing calendar), with the peak's demand
    /// multiplier as the expected uplift, and its peak season, each month whose `yearly`
    /// multiplier is at least [`SEASON_MONTH_MIN`] times the year's mean, with that ratio as the
    /// uplift (a brand knows its holiday season from last year, which a one-year log cannot
    /// teach the forecast). Flash sales are unannounced and are not planned.
    pub(crate) fn announce_peaks(&mut self, at: i64, days: u32) -> Result<(), SimError> {
        let start = self.start;
        let end = start
            .checked_add(jiff::Span::new().days(i64::from(days)))
            .unwrap_or(start);
        let yearly = &self.s.demand.yearly;
        let mean = yearly.iter().sum::<f64>() / yearly.len() as f64;
        for year in start.year()..=end.year() {
            for (index, multiplier) in yearly.iter().enumerate() {
                let ratio = multiplier / mean;
                if !ratio.is_finite() || ratio < SEASON_MONTH_MIN {
                    continue;
                }
                let Ok(first) = jiff::civil::Date::new(year, index as i8 + 1, 1) else {
                    continue;
                };
                let last = first.last_of_month();
                if last < start || first >= end {
                    continue;
                }
                let command =
                    Command::PlanPromotion(flowline_core::documents::promotion::PlanPromotion {
                        promotion: id(&format!("SEASON-{year}-{:02}", index + 1))?,
                        name: format!("peak season, {}", first.strftime("%B")),
                        first_day: first,
                        last_day: last,
                        items: Vec::new(),
                        channels: Vec::new(),
                        uplift_milli: Some((ratio * 1000.0).round() as i64),
                        note: Some("the brand's season, known from past years".into()),
                    });
                self.send(at, command, Then::Nothing)?;
            }
            for (index, peak) in self.s.demand.peaks.iter().enumerate() {
                let first = jiff::civil::Date::new(year, peak.from.month(), peak.from.day());
                // A peak that runs over the new year ends in the next one.
                let last_year = year + i16::from(peak.to < peak.from);
                let last = jiff::civil::Date::new(last_year, peak.to.month(), peak.to.day());
                let (Ok(first), Ok(last)) = (first, last) else {
                    continue;
                };
                if last < start || first >= end {
                    continue;
                }
                let command =
                    Command::PlanPromotion(flowline_core::documents::promotion::PlanPromotion {
                        promotion: id(&format!("PEAK-{year}-{}", index + 1))?,
                        name: peak.name.clone(),
                        first_day: first,
                        last_day: last,
                        items: Vec::new(),
                        channels: Vec::new(),
                        uplift_milli: Some((peak.multiplier * 1000.0).round().max(1.0) as i64),
                        note: Some("announced in the scenario's calendar".into()),
                    });
                self.send(at, command, Then::Nothing)?;
            }
        }
        Ok(())
    }
}
