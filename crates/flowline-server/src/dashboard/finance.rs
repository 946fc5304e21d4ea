//! Cash and cost (AM.1.1 with its components over time, CO.1.001 by SCOR process, cost per
//! order) and sustainability (CO2e per order and shipment, by carrier service and mode).

use super::chart::{self, Bar, Line, Stack};
use super::format::{self, decimal, money_minor};
use super::operations::{cell, slice_value, slices_in};
use super::page::page;
use super::scorecard::pickers;
use super::session::Viewer;
use super::{Picks, params, period_label, respond};
use crate::App;
use crate::auth::Access;
use crate::scorecard_routes::with_fold;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use flowline_core::master::TransportMode;
use flowline_metrics::fold::{Dimension, Fold, Slice};
use flowline_metrics::scorecard::{scorecard, total};
use maud::{Markup, html};
use std::collections::{BTreeMap, HashMap};

/// Periods shown in the charts over time.
const PERIODS: usize = 12;

/// The six SCOR processes, in CO.2 order.
const PROCESSES: [&str; 6] = ["plan", "source", "make", "deliver", "return", "enable"];

/// `GET /cash`.
pub async fn cash(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        let picks = Picks::parse(&params(query)?)?;
        let body = with_fold(&app, &viewer.principal.tenant, move |fold| {
            Ok(cash_body(fold, &picks))
        })
        .await?;
        Ok(page(&viewer, "/cash", "Cash and cost", body))
    }
    .await;
    respond(&viewer, "/cash", result)
}

fn cash_body(fold: &Fold, picks: &Picks) -> Markup {
    let range = picks.range(fold);
    let currency = fold.settings().base_currency.to_string();
    let (granularity, periods) = picks.trend(range, PERIODS);
    let labels: Vec<String> = periods
        .iter()
        .map(|period| period_label(granularity, *period))
        .collect();
    // Money figures exist for the whole tenant only.
    let cards: Vec<_> = periods
        .iter()
        .map(|period| scorecard(fold, *period, &Slice::All, picks.as_of))
        .collect();
    let series = |id: &str| -> Vec<Option<f64>> {
        cards
            .iter()
            .map(|card| {
                card.value(id)
                    .and_then(|value| format::shown(value, &currency))
            })
            .collect()
    };
    // Periods before the first posting are left out (a history shorter than the window).
    let first = cards
        .iter()
        .position(|card| {
            card.value("co.total_cost")
                .is_some_and(|value| value.ratio.numerator != 0)
        })
        .unwrap_or(0);
    let stacks: Vec<Stack> = cards
        .iter()
        .zip(&labels)
        .skip(first)
        .map(|(card, label)| Stack {
            label: label.clone(),
            parts: PROCESSES
                .iter()
                .map(|process| {
                    card.value(&format!("co.cost.{process}"))
                        .and_then(|value| format::shown(value, &currency))
                        .unwrap_or(0.0)
                })
                .collect(),
        })
        .collect();
    let names: Vec<String> = PROCESSES.iter().map(|name| name.to_string()).collect();
    let card = scorecard(fold, range, &Slice::All, picks.as_of);
    let rows = [
        "am.cash_to_cash",
        "am.inventory_days",
        "am.receivable_days",
        "am.payable_days",
        "am.inventory_turns",
        "am.return_on_fixed_assets",
        "am.return_on_working_capital",
        "co.revenue",
        "co.total_cost",
        "co.total_cost.share_of_revenue",
        "co.cost_of_goods_sold",
        "co.cost_per_order",
        "co.total_cost_per_order",
    ];
    html! {
        (pickers("/cash", fold, picks, range))
        h2 { "Cash-to-cash cycle time and its components" }
        p class="muted" { "C2C = inventory days + days sales outstanding − days payable outstanding, from time-weighted average balances over each period." }
        (chart::lines("Cash-to-cash components by period", &labels, &[
            Line { name: "cash-to-cash (AM.1.1)".into(), values: series("am.cash_to_cash") },
            Line { name: "inventory days".into(), values: series("am.inventory_days") },
            Line { name: "days sales outstanding".into(), values: series("am.receivable_days") },
            Line { name: "days payable outstanding".into(), values: series("am.payable_days") },
        ], "days"))
        h2 { "Supply chain management cost by SCOR process" }
        (chart::stacked("CO.1.001 by process and period", &names, &stacks, &format!("cost, {currency}")))
        h2 { "Cost per order shipped" }
        (chart::lines("Cost per order shipped by period", &labels, &[
            Line { name: "deliver cost per order".into(), values: series("co.cost_per_order") },
            Line { name: "total SC cost per order".into(), values: series("co.total_cost_per_order") },
        ], currency.as_str()))
        h2 { "This range" }
        table {
            thead { tr { th { "Metric" } th { "Value" } } }
            tbody {
                @for id in rows {
                    tr data-metric=(id) {
                        td { a href={"/scorecard/" (id) "?" (picks.query(range))} { (format::metric_name(id)) } }
                        td { (cell(card.value(id), &currency)) }
                    }
                }
            }
        }
    }
}

/// `GET /sustainability`.
pub async fn sustainability(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        let picks = Picks::parse(&params(query)?)?;
        let modes = app
            .query(&viewer.principal.tenant, |state| {
                let mut modes: HashMap<String, TransportMode> = HashMap::new();
                for carrier in state.carriers.values() {
                    for service in &carrier.services {
                        modes.insert(format!("{}/{}", carrier.id, service.code), service.mode);
                    }
                }
                modes
            })
            .await?;
        let body = with_fold(&app, &viewer.principal.tenant, move |fold| {
            Ok(sustainability_body(fold, &picks, &modes))
        })
        .await?;
        Ok(page(&viewer, "/sustainability", "Sustainability", body))
    }
    .await;
    respond(&viewer, "/sustainability", result)
}

fn mode_name(mode: TransportMode) -> String {
    serde_json::to_value(mode)
        .ok()
        .and_then(|value| value.as_str().map(String::from))
        .unwrap_or_else(|| "unknown".to_string())
}

fn sustainability_body(
    fold: &Fold,
    picks: &Picks,
    modes: &HashMap<String, TransportMode>,
) -> Markup {
    let range = picks.range(fold);
    let currency = fold.settings().base_currency.to_string();
    let card = scorecard(fold, range, &Slice::All, picks.as_of);
    let (granularity, periods) = picks.trend(range, PERIODS);
    let labels: Vec<String> = periods
        .iter()
        .map(|period| period_label(granularity, *period))
        .collect();
    let cards: Vec<_> = periods
        .iter()
        .map(|period| scorecard(fold, *period, &Slice::All, picks.as_of))
        .collect();
    let series = |id: &str| -> Vec<Option<f64>> {
        cards
            .iter()
            .map(|card| card.value(id).and_then(|value| value.value))
            .collect()
    };
    let services = slices_in(fold, range, Dimension::CarrierService, 30);
    let mut by_mode: BTreeMap<String, (i128, i64)> = BTreeMap::new();
    let mut service_bars = Vec::new();
    for slice in &services {
        let name = slice_value(slice);
        let bucket = total(fold, range, slice);
        let mode = modes
            .get(&name)
            .map_or("unknown".to_string(), |mode| mode_name(*mode));
        let entry = by_mode.entry(mode.clone()).or_default();
        // Shipments whose distance is not known are left out of the figures (and counted on
        // the page), so the means are over the shipments with a distance.
        entry.0 += bucket.emissions_mg;
        entry.1 += bucket.emission_shipments;
        if bucket.emission_shipments > 0 {
            let grams = bucket.emissions_mg as f64 / 1000.0 / bucket.emission_shipments as f64;
            service_bars.push(Bar {
                label: format!("{name} ({mode})"),
                value: grams,
                note: format!(
                    "{} g per shipment, {} shipments",
                    decimal(grams),
                    bucket.emission_shipments
                ),
                href: None,
            });
        }
    }
    let mode_bars: Vec<Bar> = by_mode
        .iter()
        .filter(|(_, (_, shipments))| *shipments > 0)
        .map(|(mode, (milligrams, shipments))| {
            let grams = *milligrams as f64 / 1000.0 / *shipments as f64;
            Bar {
                label: mode.clone(),
                value: grams,
                note: format!(
                    "{} g per shipment, {shipments} shipments, {} kg in all",
                    decimal(grams),
                    decimal(*milligrams as f64 / 1e6)
                ),
                href: None,
            }
        })
        .collect();
    let total_cost = card
        .value("co.total_cost")
        .map(|value| value.ratio.numerator)
        .unwrap_or(0);
    let whole = total(fold, range, &Slice::All);
    let left_out = format!(
        "Left out for want of a distance (no coordinates, region or country centroid, or both \
         ends on the same centroid): {} of {} shipment(s), {} of {} return leg(s).",
        whole.emission_shipments_left_out,
        whole.emission_shipments + whole.emission_shipments_left_out,
        whole.return_legs_left_out,
        whole.return_legs + whole.return_legs_left_out,
    );
    html! {
        (pickers("/sustainability", fold, picks, range))
        p class="muted" { "CO2e of shipments and return legs, gross mass × great-circle distance from the center to the ship-to × the factor of the mode and distance band (" (fold.settings().emissions.label()) "). " (left_out) " Cost of the range for scale: " (money_minor(total_cost, &currency)) " " (currency) "." }
        div class="grid2" {
            section class="card" data-metric="env.ghg_per_order" { h2 { "CO2e per order shipped" } p class="value" { (cell(card.value("env.ghg_per_order"), &currency)) } }
            section class="card" data-metric="env.ghg_per_shipment" { h2 { "CO2e per shipment" } p class="value" { (cell(card.value("env.ghg_per_shipment"), &currency)) } }
            section class="card" data-metric="env.ghg_total" { h2 { "CO2e of shipments and return legs" } p class="value" { (cell(card.value("env.ghg_total"), &currency)) } }
            section class="card" data-metric="env.ghg_returns" { h2 { "CO2e of return legs" } p class="value" { (cell(card.value("env.ghg_returns"), &currency)) } }
        }
        h2 { "By period" }
        (chart::lines("CO2e per order and per shipment by period", &labels, &[
            Line { name: "per order shipped".into(), values: series("env.ghg_per_order") },
            Line { name: "per shipment".into(), values: series("env.ghg_per_shipment") },
        ], "g CO2e"))
        h2 { "By transport mode" }
        (chart::bars("CO2e per shipment by transport mode", &mode_bars, "g CO2e per shipment"))
        h2 { "By carrier service" }
        (chart::bars("CO2e per shipment by carrier service", &service_bars, "g CO2e per shipment"))
    }
}
