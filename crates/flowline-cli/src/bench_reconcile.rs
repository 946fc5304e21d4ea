//! `flowline bench reconcile`: whether reconciling item forecasts to their category's forecast
//! makes them more accurate, measured on a tenant's own log.
//!
//! The last `--holdout` days of the demand history are held out. Each item's ordinary demand
//! (stock-out and promotion days unknown, as the planner reads it) is forecast from the days
//! before; each category's units as ordered (stock-out days included, as a floor; a day any
//! of its items was promoted unknown) are forecast from the same days;
//! the item forecasts are then scaled, day by day, to add up to their category's
//! ([`flowline_plan::forecast::reconcile::proportional`], with the items' last four weeks as
//! the split of a day they all forecast at zero). Reported: WAPE over the held-out days of the
//! items (their stock-out days left out) and of the categories, each level by its own
//! forecasts and by the other's (the categories' bottom-up sums of the items' forecasts), and
//! the time taken. Promotions are not lifted here: `--skip-days` moves the holdout off a
//! promoted season.

use crate::plan;
use flowline_core::id::Sku;
use flowline_metrics::demand::DemandHistory;
use flowline_metrics::replenishment::add_aligned;
use flowline_plan::forecast::{self, Options, reconcile};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `flowline bench reconcile`.
#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// The log (SQLite file).
    #[arg(long, env = "FLOWLINE_DB", default_value = crate::DEFAULT_DB)]
    db: PathBuf,
    /// The tenant (the only one when the log holds one).
    #[arg(long)]
    tenant: Option<String>,
    /// Days held out and forecast, 7 to 91.
    #[arg(long, default_value_t = 28)]
    holdout: usize,
    /// Days of history each forecast is fitted on.
    #[arg(long, default_value_t = 365)]
    fit_days: usize,
    /// Latest days of the history left out before the holdout (to judge a season other than
    /// the log's last weeks).
    #[arg(long, default_value_t = 0)]
    skip_days: usize,
}

/// Σ|forecast − actual| and Σ actual over the known days.
#[derive(Default, Clone, Copy)]
struct Errors {
    absolute: f64,
    actual: f64,
}

impl Errors {
    fn add(&mut self, forecast: &[f64], actual: &[Option<f64>]) {
        for (f, a) in forecast.iter().zip(actual) {
            if let Some(a) = a {
                self.absolute += (f - a).abs();
                self.actual += a;
            }
        }
    }

    fn wape(self) -> String {
        if self.actual > 0.0 {
            format!("{:.4}", self.absolute / self.actual)
        } else {
            "-".into()
        }
    }
}

/// Runs the benchmark and prints its figures.
pub fn reconcile(args: &ReconcileArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (7..=91).contains(&args.holdout),
        "--holdout: must be from 7 to 91 days, is {}",
        args.holdout
    );
    let (state, history) = plan::state_and(&args.db, args.tenant.as_deref(), DemandHistory::new())?;
    // What the forecasts learn from (stock-out and promotion days unknown), what the items
    // are judged against (units ordered, stock-out days unknown: promotion days count), and
    // the units as ordered, which make the categories' series; each without the history's
    // last `--skip-days` days.
    let mut observed: BTreeMap<Sku, Vec<Option<f64>>> = BTreeMap::new();
    let mut judged: BTreeMap<Sku, Vec<Option<f64>>> = BTreeMap::new();
    let mut placed: BTreeMap<Sku, Vec<Option<f64>>> = BTreeMap::new();
    // Units as ordered, a promotion day unknown: what a category's ordinary demand is made of.
    let mut ordinary: BTreeMap<Sku, Vec<Option<f64>>> = BTreeMap::new();
    let cut_end = |values: Vec<Option<f64>>| -> Vec<Option<f64>> {
        let keep = values.len().saturating_sub(args.skip_days);
        values[..keep].to_vec()
    };
    for series in history.series() {
        let raw: Vec<Option<f64>> = series.daily.iter().map(|u| Some(*u as f64)).collect();
        let uncensored: Vec<Option<f64>> = series
            .daily
            .iter()
            .zip(&series.censored)
            .map(|(units, censored)| (!censored).then_some(*units as f64))
            .collect();
        let unpromoted: Vec<Option<f64>> = series
            .daily
            .iter()
            .zip(&series.promoted)
            .map(|(units, promoted)| (!promoted).then_some(*units as f64))
            .collect();
        add_aligned(placed.entry(series.sku.clone()).or_default(), &cut_end(raw));
        add_aligned(
            ordinary.entry(series.sku.clone()).or_default(),
            &cut_end(unpromoted),
        );
        add_aligned(
            judged.entry(series.sku.clone()).or_default(),
            &cut_end(uncensored),
        );
        add_aligned(
            observed.entry(series.sku.clone()).or_default(),
            &cut_end(series.observed()),
        );
    }
    let mut categories: BTreeMap<String, Vec<Sku>> = BTreeMap::new();
    for item in state.items.values().filter(|item| !item.is_bundle()) {
        if let Some(category) = &item.category
            && placed.contains_key(&item.sku)
        {
            categories
                .entry(category.clone())
                .or_default()
                .push(item.sku.clone());
        }
    }
    // Every series runs to the history's latest day; the longest sets the common length.
    let length = placed.values().map(Vec::len).max().unwrap_or(0);
    anyhow::ensure!(
        length > args.holdout + 28,
        "the history has {length} days: too few to hold out {} and fit on the rest",
        args.holdout
    );
    let cut = length - args.holdout;
    let padded = |series: &[Option<f64>], fill: Option<f64>| -> Vec<Option<f64>> {
        let mut out = vec![fill; length - series.len()];
        out.extend_from_slice(series);
        out
    };
    let options = Options {
        horizon: args.holdout,
        season_length: 7,
        level: 0.8,
    };
    let fit = |train: &[Option<f64>]| -> Option<Vec<f64>> {
        let from = train.len().saturating_sub(args.fit_days);
        forecast::forecast(&train[from..], &options)
            .ok()
            .map(|made| made.mean)
    };
    outln!(
        "flowline bench reconcile: {} items in {} categories, {} days of history (the log's last {} left out), the last {} held out{}, fitted on up to {} days",
        categories.values().map(Vec::len).sum::<usize>(),
        categories.len(),
        length,
        args.skip_days,
        args.holdout,
        history
            .latest()
            .and_then(|latest| {
                let back = (args.skip_days + args.holdout) as i64 - 1;
                latest.checked_sub(jiff::Span::new().days(back)).ok()
            })
            .map(|first| format!(" from {first}"))
            .unwrap_or_default(),
        args.fit_days
    );
    let started = Instant::now();
    let (mut items_base, mut items_reconciled) = (Errors::default(), Errors::default());
    let (mut totals_direct, mut totals_bottom_up) = (Errors::default(), Errors::default());
    let mut skipped = 0;
    let mut rows = Vec::new();
    for (category, skus) in &categories {
        let mut item_forecasts = Vec::new();
        let mut item_actuals = Vec::new();
        let mut recent = Vec::new();
        let mut total_train = vec![Some(0.0); cut];
        let mut total_test = vec![Some(0.0); args.holdout];
        for sku in skus {
            let raw = padded(&placed[sku], Some(0.0));
            add_aligned(&mut total_train, &padded(&ordinary[sku], Some(0.0))[..cut]);
            add_aligned(&mut total_test, &raw[cut..]);
            // Before an item's first order it is not yet sold: unknown, not zero.
            let known = padded(&observed[sku], None);
            let Some(made) = fit(&known[..cut]) else {
                skipped += 1;
                continue;
            };
            recent.push(
                raw[cut.saturating_sub(28)..cut]
                    .iter()
                    .flatten()
                    .sum::<f64>(),
            );
            item_forecasts.push(made);
            item_actuals.push(padded(&judged[sku], None)[cut..].to_vec());
        }
        let Some(total) = fit(&total_train) else {
            skipped += skus.len();
            continue;
        };
        let reconciled = reconcile::proportional(&total, &item_forecasts, &recent);
        let bottom_up: Vec<f64> = (0..args.holdout)
            .map(|day| item_forecasts.iter().map(|f| f[day]).sum())
            .collect();
        let (mut base, mut scaled) = (Errors::default(), Errors::default());
        for ((made, fitted), actual) in item_forecasts.iter().zip(&reconciled).zip(&item_actuals) {
            base.add(made, actual);
            scaled.add(fitted, actual);
        }
        let (mut direct, mut summed) = (Errors::default(), Errors::default());
        direct.add(&total, &total_test);
        summed.add(&bottom_up, &total_test);
        rows.push((
            category.clone(),
            item_forecasts.len(),
            base,
            scaled,
            direct,
            summed,
        ));
        for (sum, part) in [
            (&mut items_base, base),
            (&mut items_reconciled, scaled),
            (&mut totals_direct, direct),
            (&mut totals_bottom_up, summed),
        ] {
            sum.absolute += part.absolute;
            sum.actual += part.actual;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    outln!(
        "\n{:<24} {:>6}  {:>12} {:>12}  {:>12} {:>12}",
        "category",
        "items",
        "items: own",
        "reconciled",
        "total: own",
        "bottom-up"
    );
    for (category, count, base, scaled, direct, summed) in &rows {
        outln!(
            "{category:<24} {count:>6}  {:>12} {:>12}  {:>12} {:>12}",
            base.wape(),
            scaled.wape(),
            direct.wape(),
            summed.wape()
        );
    }
    outln!(
        "{:<24} {:>6}  {:>12} {:>12}  {:>12} {:>12}",
        "all",
        rows.iter().map(|row| row.1).sum::<usize>(),
        items_base.wape(),
        items_reconciled.wape(),
        totals_direct.wape(),
        totals_bottom_up.wape()
    );
    outln!(
        "\nWAPE over the held-out days; items without a forecast: {skipped}; {seconds:.1} s for every forecast and the reconciliation"
    );
    Ok(())
}
