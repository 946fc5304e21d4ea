//! `flowline metrics`: the scorecard of a tenant, folded from its log.

use crate::backend;
use anyhow::Context as _;
use flowline_core::id::TenantId;
use flowline_metrics::drill::{self, Filter};
use flowline_metrics::fold::{Dimension, Slice};
use flowline_metrics::period::Granularity;
use flowline_metrics::scorecard::{Scorecard, metric_info};
use flowline_metrics::value::MetricValue;
use flowline_server::scorecards::{self, Report};
use flowline_store::Store;
use jiff::Timestamp;
use jiff::civil::Date;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `flowline metrics`.
#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    /// The SQLite event log.
    #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
    db: PathBuf,
    /// The tenant (required when the log holds several).
    #[arg(long)]
    tenant: Option<String>,
    /// First day, inclusive (YYYY-MM-DD), in the tenant's reporting time zone.
    #[arg(long)]
    from: Option<Date>,
    /// Last day, exclusive (YYYY-MM-DD). With only --from, the period containing it.
    #[arg(long)]
    to: Option<Date>,
    /// The period shown when --from and --to are not both given: day, week, month, quarter,
    /// year or trailing_12_months (the twelve months to the end of a month).
    #[arg(long, default_value = "month")]
    period: String,
    /// Also show the scorecard of each value of a dimension: channel, center, carrier,
    /// supplier, sku, category, region.
    #[arg(long)]
    by: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// List the documents behind a metric (for example rl.perfect_order, rl.on_time,
    /// rs.order_cycle_time), most impact first.
    #[arg(long, value_name = "METRIC")]
    drill: Option<String>,
    /// Judge what is provisional as of this instant (RFC 3339); now by default.
    #[arg(long)]
    as_of: Option<Timestamp>,
}

pub(crate) fn tenant_of(store: &dyn Store, named: Option<&str>) -> anyhow::Result<TenantId> {
    if let Some(name) = named {
        return TenantId::parse(name).with_context(|| format!("`{name}` is not a tenant id"));
    }
    let tenants = store.tenants()?;
    match tenants.as_slice() {
        [only] => Ok(only.clone()),
        [] => anyhow::bail!("the log holds no tenant"),
        many => anyhow::bail!(
            "the log holds {} tenants ({}); choose one with --tenant",
            many.len(),
            many.iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Runs `flowline metrics`.
pub fn run(args: &MetricsArgs) -> anyhow::Result<ExitCode> {
    let granularity = Granularity::parse(&args.period).with_context(|| {
        format!(
            "--period `{}`: expected {}",
            args.period,
            Granularity::names()
        )
    })?;
    let by = args
        .by
        .as_deref()
        .map(|text| {
            Dimension::parse(text).with_context(|| {
                format!(
                    "--by `{text}`: expected one of {}",
                    Dimension::ALL.map(Dimension::name).join(", ")
                )
            })
        })
        .transpose()?;
    let store = backend::read(&args.db)
        .with_context(|| format!("cannot open {}", backend::name(&args.db)))?;
    let tenant = tenant_of(store.as_ref(), args.tenant.as_deref())?;
    let Some((fold, _)) = scorecards::fold_log(store.as_ref(), &tenant, false)
        .with_context(|| format!("cannot read {}", crate::backend::name(&args.db)))?
    else {
        anyhow::bail!("tenant {tenant} is not configured (no base currency and time zone yet)");
    };
    let range = scorecards::range_of(&fold, args.from, args.to, granularity);
    let as_of = args.as_of.unwrap_or_else(Timestamp::now);
    let report = scorecards::report(&tenant, &fold, range, by, as_of, 20);
    if let Some(metric) = &args.drill {
        let rows = drill::orders(&fold, range, &Slice::All, Filter::for_metric(metric), 100);
        if args.json {
            outln!("{}", serde_json::to_string_pretty(&rows)?);
        } else {
            outln!("{metric}: {} order(s), most impact first", rows.len());
            for row in rows {
                let hours = row
                    .cycle_hours
                    .map(|h| format!("{h:.1} h"))
                    .unwrap_or_default();
                outln!(
                    "  {:<24} {:<12} closed {}  {}  {}",
                    row.order,
                    row.channel,
                    row.closed_at,
                    row.signature,
                    hours
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        if args.from.is_none() && args.to.is_none() {
            eprintln!(
                "{}; --from and --to pick another",
                scorecards::default_range_meaning(&fold, granularity)
            );
        }
        out!("{}", text(&report));
    }
    Ok(ExitCode::SUCCESS)
}

fn name_of(id: &str) -> String {
    match metric_info(id) {
        Some(info) if !info.scor_code.is_empty() => format!("{} {}", info.scor_code, info.name),
        Some(info) => info.name.to_string(),
        None => id.to_string(),
    }
}

fn line(value: &MetricValue, indent: usize, currency: &str) -> String {
    format!(
        "{:indent$}{:<58} {}\n",
        "",
        name_of(&value.id),
        value.describe(currency),
        indent = indent
    )
}

fn card(scorecard: &Scorecard, currency: &str) -> String {
    let mut text = String::new();
    for level1 in &scorecard.level1 {
        text.push_str(&line(&level1.value, 2, currency));
        for level2 in &level1.level2 {
            text.push_str(&line(level2, 6, currency));
        }
        if level1.value.id == "rl.perfect_order" && !scorecard.signatures.is_empty() {
            let signatures: Vec<String> = scorecard
                .signatures
                .iter()
                .map(|s| format!("{} {}", s.signature, s.orders))
                .collect();
            text.push_str(&format!(
                "      failure signatures (they add up to the imperfect orders): {}\n",
                signatures.join(", ")
            ));
        }
    }
    text.push_str("  Operational\n");
    for value in &scorecard.operational {
        text.push_str(&line(value, 6, currency));
    }
    let returned: i64 = scorecard.return_reasons.iter().map(|r| r.units).sum();
    if returned > 0 {
        text.push_str("  Return reasons (units authorised, cumulative share)\n");
        let mut running = 0;
        for reason in &scorecard.return_reasons {
            running += reason.units;
            text.push_str(&format!(
                "      {:<40} {:>8} {:>7.2} %\n",
                reason.reason,
                reason.units,
                running as f64 * 100.0 / returned as f64
            ));
        }
    }
    text
}

/// The report as text: the tenant's scorecard, then each slice's.
pub fn text(report: &Report) -> String {
    let state = if report.scorecard.provisional {
        "provisional: late returns and claims can still change it"
    } else {
        "final"
    };
    let mut text = format!(
        "SCOR scorecard of tenant {} from {} to {} (exclusive), {} time, amounts in {} — {state}\n",
        report.tenant, report.from, report.to, report.reporting_time_zone, report.currency
    );
    let currency = report.currency.as_str();
    text.push_str(&card(&report.scorecard, currency));
    text.push_str(&format!("  (CO2e: {})\n", report.emission_factors));
    if !report.targets.is_empty() {
        text.push_str("Targets\n");
        for status in &report.targets {
            let report = &status.report;
            let value = report
                .value
                .as_ref()
                .map_or("no data".to_string(), |value| value.describe(currency));
            let direction = match report.target.direction {
                flowline_metrics::targets::Direction::AtLeast => "≥",
                flowline_metrics::targets::Direction::AtMost => "≤",
            };
            let trend = match report.trend {
                flowline_metrics::targets::Trend::Unknown => String::new(),
                other => format!("; {} against the baseline", lower(&format!("{other:?}"))),
            };
            text.push_str(&format!(
                "  {:<20} {} {direction} {}: {}, now {value}{trend}\n",
                status.id,
                report.target.metric,
                report.target.value_milli as f64 / 1000.0,
                lower(&format!("{:?}", report.status)),
            ));
        }
    }
    for initiative in &report.initiatives {
        text.push_str(&format!(
            "Initiative {} \"{}\" ({}, owner {}): {}\n",
            initiative.id,
            initiative.name,
            initiative.status,
            initiative.owner,
            initiative.expected_effect
        ));
        for review in &initiative.reviews {
            let shown = |value: &Option<flowline_metrics::value::MetricValue>| {
                value
                    .as_ref()
                    .map_or("no data".to_string(), |value| value.describe(currency))
            };
            text.push_str(&format!(
                "  {}: before {} → during {} ({})\n",
                review.metric,
                shown(&review.before),
                shown(&review.after),
                lower(&format!("{:?}", review.trend))
            ));
        }
    }
    for slice in &report.slices {
        let name = match &slice.slice {
            Slice::All => "all".to_string(),
            other => serde_json::to_value(other)
                .ok()
                .map(|v| {
                    format!(
                        "{} {}",
                        v["dimension"].as_str().unwrap_or(""),
                        v["value"].as_str().unwrap_or("")
                    )
                })
                .unwrap_or_default(),
        };
        text.push_str(&format!("\n{name}\n"));
        text.push_str(&card(slice, currency));
    }
    text
}

/// `NoData` as `no data`: a variant's name as words.
fn lower(name: &str) -> String {
    let mut words = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    words
}
