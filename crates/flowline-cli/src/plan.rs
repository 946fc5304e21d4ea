//! `flowline plan ...`: the Plan process from the command line.
//!
//! `flowline plan forecast --input FILE.csv --horizon N` forecasts series given as long-format
//! CSV (`series,date,quantity`) with the planner's models and automatic choice, and writes
//! `series,date,forecast,lo80,hi80,model` (the interval's columns named for its level).

use crate::backend;
use anyhow::Context as _;
use flowline_engine::projections::{self, Tracked};
use flowline_formats::series::{self, Frequency, Series};
use flowline_metrics::demand::DemandHistory;
use flowline_plan::forecast::{self, Forecast, MAX_HORIZON, Options};
use flowline_plan::policy;
use std::io::Write as _;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

/// `flowline plan ...`.
#[derive(Debug, clap::Subcommand)]
pub enum PlanCommand {
    /// Forecast series given as CSV: `series,date,quantity`, one row per series and date.
    ///
    /// Dates are ISO (YYYY-MM-DD); a series is daily, or weekly when its dates are whole weeks
    /// apart (or as --frequency says); a date with no row is a period of zero demand. Each
    /// series gets the model that forecast its own recent past best (seasonal naive,
    /// exponential smoothing, or Croston-type methods for intermittent demand). Writes
    /// `series,date,forecast,lo80,hi80,model`. A malformed file is reported line by line and
    /// nothing is written.
    Forecast(ForecastArgs),
    /// A tenant's demand history from its log, as series,date,quantity rows.
    ///
    /// Units ordered per day in the tenant's time zone, by stocked item and channel (series
    /// `SKU@channel`), counted when orders are placed; a bundle counts as its stocked
    /// components. Days without a row had no orders. The output is what `flowline plan
    /// forecast --input` reads.
    History(HistoryArgs),
    /// An item's inventory policy at one center: safety stock and reorder point for a service
    /// target, and the order quantity.
    ///
    /// Demand is per day and the lead time in days, each with its standard deviation; the
    /// target is a cycle service level (--service-level: the chance a replenishment cycle has
    /// no stock-out) or a fill rate (--fill-rate: the share of demand met from stock). The
    /// order quantity is the EOQ when --order-cost and --holding-cost are given (or
    /// --order-quantity), raised to the MOQ and rounded up to whole case packs. Each figure is
    /// printed with the terms it is made of.
    Policy(PolicyArgs),
    /// What to order now for every stocked item at every center, from a tenant's log.
    ///
    /// Each item's demand is forecast and split between centers by where it was allocated;
    /// the position counts on hand, reservations, backorders, open purchase orders and
    /// transfers in transit; the quantity orders up to the forecast over the protection
    /// interval (lead time + review period) plus the safety stock for the service target,
    /// made an economic lot and rounded to the supplier's minimum. Each line is printed with
    /// the terms of its sum and the suppliers weighed. Records nothing: approve proposals
    /// through the API or the dashboard's Plan page.
    Replenish(ReplenishArgs),
    /// How the published forecasts did against what customers then ordered.
    ///
    /// Every forecast the planner published (with its proposals) is scored day by day once the
    /// day has passed, against the units ordered that day over every channel (stock-out days
    /// left out): WAPE, forecast accuracy (1 − WAPE), bias and MASE, by week, by how many days
    /// ahead the figure was made, and the items with the largest errors.
    Accuracy(AccuracyArgs),
    /// Each center's orders forecast week by week against what it can pick and pack.
    ///
    /// The orders allocated at each center per day are forecast (ordinary days; the days of
    /// planned promotions lifted by their uplift) and summed into calendar weeks against the
    /// center's `capacity_orders_per_day`; a week whose chance of exceeding it is at least
    /// --flag-probability is flagged with its shortfall.
    Capacity(CapacityArgs),
    /// Where stock should sit: each item's units per center that serve the regions' demand at
    /// the least shipping cost and transit time, and the transfers that get there.
    ///
    /// Regional demand is the units ordered by ship-to region over the last --window-days,
    /// scaled to --horizon-days; a lane's cost per unit is measured from the carrier costs
    /// posted per unit-kilometre shipped (or assumed from the distance), its transit days
    /// measured from deliveries once a lane has enough (or assumed from the distance).
    /// Records nothing unless --record: then each transfer is a proposal to approve.
    Place(PlaceArgs),
    /// Plans promotions given as CSV: promotion,name,first_day,last_day,items,channels,uplift.
    ///
    /// `items` and `channels` are lists separated by spaces (empty: every item, every
    /// channel); `uplift` is the expected demand as a multiple of an ordinary day's (empty:
    /// what past promotions achieved). The whole file is checked first; then every promotion
    /// is planned in one append, or none is. A promotion already planned with the same id is
    /// refused, so importing a file twice plans nothing twice.
    Promotions(PromotionsArgs),
    /// The inventory policy in force at every item and center, or sets policies from a CSV.
    ///
    /// Without --input: for each item × center, the service target, review period, minimum
    /// order quantity and case pack the planner uses — the planner's settings (the same
    /// options as `plan replenish`) under the policies set on the items — each with where it
    /// came from, and what it orders today: forecast over the protection interval, safety
    /// stock, order-up-to level, position, quantity.
    ///
    /// With --input FILE.csv (`sku,location,service_level,fill_rate,review_days,moq,case_pack,
    /// replenish,note`): an empty location is every center, an empty figure is left to the
    /// item's policy for every center and then to the planner; `replenish` is yes or no. The
    /// whole file is checked first; then every policy is set in one append, or none is.
    Policies(PoliciesArgs),
}

/// Arguments of `flowline plan policies`.
#[derive(Debug, clap::Args)]
pub struct PoliciesArgs {
    /// Policies to set (CSV with a header); without it, the policies in force are listed.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// The planner's settings the policies fall back on, and the log.
    #[command(flatten)]
    planner: ReplenishArgs,
}

/// Arguments of `flowline plan capacity`.
#[derive(Debug, clap::Args)]
pub struct CapacityArgs {
    /// The log (SQLite file).
    #[arg(long, env = "FLOWLINE_DB", default_value = crate::DEFAULT_DB)]
    db: PathBuf,
    /// The tenant (the only one when the log holds one).
    #[arg(long)]
    tenant: Option<String>,
    /// Days ahead, 7 to 366.
    #[arg(long, default_value_t = 56)]
    horizon_days: usize,
    /// The quantile of each week's orders shown beside the forecast, strictly between 0 and 1.
    #[arg(long, default_value_t = 0.9)]
    level: f64,
    /// The chance of exceeding capacity at which a week is flagged, above 0 and at most 1.
    #[arg(long, default_value_t = 0.5)]
    flag_probability: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `flowline plan place`.
#[derive(Debug, clap::Args)]
pub struct PlaceArgs {
    /// The log (SQLite file).
    #[arg(long, env = "FLOWLINE_DB", default_value = crate::DEFAULT_DB)]
    db: PathBuf,
    /// The tenant (the only one when the log holds one).
    #[arg(long)]
    tenant: Option<String>,
    /// Days of demand placed for.
    #[arg(long, default_value_t = 28)]
    horizon_days: u32,
    /// Days of past demand read, scaled to the horizon.
    #[arg(long, default_value_t = 28)]
    window_days: u32,
    /// Cost of one unit-day in transit, base currency: what a day faster is worth.
    #[arg(long, default_value_t = 0.10)]
    days_weight: f64,
    /// Record each transfer as a proposal to approve (through the API or the Plan page).
    #[arg(long)]
    record: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `flowline plan promotions`.
#[derive(Debug, clap::Args)]
pub struct PromotionsArgs {
    /// The promotions (CSV with a header).
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// The log (SQLite file).
    #[arg(long, env = "FLOWLINE_DB", default_value = crate::DEFAULT_DB)]
    db: PathBuf,
    /// The tenant (the only one when the log holds one).
    #[arg(long)]
    tenant: Option<String>,
}

/// Arguments of `flowline plan policy`. A negative number is read as a value (to be refused
/// with its reason), not as an unknown option.
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct PolicyArgs {
    /// Mean demand per day.
    #[arg(long)]
    demand: f64,
    /// Standard deviation of daily demand.
    #[arg(long, default_value_t = 0.0)]
    demand_sd: f64,
    /// Mean lead time in days.
    #[arg(long)]
    lead_time: f64,
    /// Standard deviation of the lead time in days.
    #[arg(long, default_value_t = 0.0)]
    lead_time_sd: f64,
    /// Cycle service level, strictly between 0 and 1 (e.g. 0.95).
    #[arg(
        long,
        conflicts_with = "fill_rate",
        required_unless_present = "fill_rate"
    )]
    service_level: Option<f64>,
    /// Fill rate, strictly between 0 and 1 (e.g. 0.98); needs an order quantity.
    #[arg(long)]
    fill_rate: Option<f64>,
    /// Cost of placing one order (for the EOQ).
    #[arg(long, requires = "holding_cost")]
    order_cost: Option<f64>,
    /// Cost of holding one unit for a year (for the EOQ).
    #[arg(long, requires = "order_cost")]
    holding_cost: Option<f64>,
    /// The order quantity, instead of the EOQ.
    #[arg(long, conflicts_with = "order_cost")]
    order_quantity: Option<f64>,
    /// Minimum order quantity.
    #[arg(long, default_value_t = 0.0)]
    moq: f64,
    /// Units per case; orders are whole cases.
    #[arg(long, default_value_t = 1.0)]
    case_pack: f64,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `flowline plan history`.
#[derive(Debug, clap::Args)]
pub struct ReplenishArgs {
    /// The log (SQLite file).
    #[arg(long, env = "FLOWLINE_DB", default_value = crate::DEFAULT_DB)]
    db: PathBuf,
    /// The tenant (the only one when the log holds one).
    #[arg(long)]
    tenant: Option<String>,
    /// Target cycle service level, strictly between 0 and 1 (default 0.95).
    #[arg(long, conflicts_with = "fill_rate")]
    service_level: Option<f64>,
    /// Target fill rate, strictly between 0 and 1.
    #[arg(long)]
    fill_rate: Option<f64>,
    /// Days between planning runs.
    #[arg(long, default_value_t = 1.0)]
    review_days: f64,
    /// Annual holding cost as a share of the unit price.
    #[arg(long, default_value_t = 0.25)]
    holding_rate: f64,
    /// Fixed cost of one purchase order, base currency; 0: no lot sizing.
    #[arg(long, default_value_t = 0.0)]
    order_cost: f64,
    /// The largest share of the proposed value one supplier may get.
    #[arg(long, default_value_t = 1.0)]
    max_supplier_share: f64,
    /// Only this item.
    #[arg(long)]
    sku: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct AccuracyArgs {
    /// The log (SQLite file).
    #[arg(long, env = "FLOWLINE_DB", default_value = crate::DEFAULT_DB)]
    db: PathBuf,
    /// The tenant (the only one when the log holds one).
    #[arg(long)]
    tenant: Option<String>,
    /// First day (YYYY-MM-DD), inclusive; default 28 days before --to.
    #[arg(long)]
    from: Option<jiff::civil::Date>,
    /// Day after the last, exclusive; default the latest day with an order.
    #[arg(long)]
    to: Option<jiff::civil::Date>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The log.
    #[arg(long, env = "FLOWLINE_DB", default_value = crate::DEFAULT_DB)]
    db: PathBuf,
    /// The tenant (needed when the log holds more than one).
    #[arg(long)]
    tenant: Option<String>,
    /// Where to write the rows (standard output when absent).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Arguments of `flowline plan forecast`.
#[derive(Debug, clap::Args)]
pub struct ForecastArgs {
    /// The series (CSV with a header: series,date,quantity).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "db",
        conflicts_with = "db"
    )]
    input: Option<PathBuf>,
    /// Forecast a tenant's demand history from its log instead (each stocked item in each
    /// channel, daily).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// The tenant, with --db (needed when the log holds more than one).
    #[arg(long, requires = "db")]
    tenant: Option<String>,
    /// Periods to forecast past each series' last date.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_HORIZON as i64))]
    horizon: u32,
    /// Where to write the forecasts (standard output when absent).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Coverage of the prediction interval, in percent.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(1..=99))]
    level: u8,
    /// The series' frequency, instead of finding it from each series' dates.
    #[arg(long, value_enum)]
    frequency: Option<FrequencyArg>,
    /// Length of the seasonal cycle in periods (default: 7 for daily series, 52 for weekly;
    /// 1 for none).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=400))]
    season: Option<u16>,
    /// Print as JSON (one object per series) instead of CSV.
    #[arg(long)]
    json: bool,
}

/// `--frequency`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FrequencyArg {
    Daily,
    Weekly,
}

/// Runs `flowline plan ...`.
pub fn run(command: PlanCommand) -> anyhow::Result<ExitCode> {
    match command {
        PlanCommand::Forecast(args) => forecast_file(&args),
        PlanCommand::History(args) => history(&args),
        PlanCommand::Policy(args) => policy(&args),
        PlanCommand::Replenish(args) => replenish(&args),
        PlanCommand::Accuracy(args) => accuracy(&args),
        PlanCommand::Capacity(args) => capacity(&args),
        PlanCommand::Place(args) => place(&args),
        PlanCommand::Promotions(args) => promotions(&args),
        PlanCommand::Policies(args) => policies(&args),
    }
}

/// Checks a share given on the command line: strictly between 0 and 1 (or up to 1).
fn share(flag: &str, value: f64, closed_above: bool) -> anyhow::Result<f64> {
    let fits = value.is_finite() && value > 0.0 && (value < 1.0 || (closed_above && value == 1.0));
    anyhow::ensure!(
        fits,
        "{flag}: must be above 0 and {} 1, is {value}",
        if closed_above { "at most" } else { "below" }
    );
    Ok(value)
}

/// The planner's settings and the item asked for, from `plan replenish`'s options.
fn planner_settings(
    args: &ReplenishArgs,
) -> anyhow::Result<(
    flowline_metrics::replenishment::Settings,
    Option<flowline_core::id::Sku>,
)> {
    use flowline_metrics::replenishment::Settings;
    use flowline_plan::replenish::ServiceTarget;
    let service = match (args.service_level, args.fill_rate) {
        (_, Some(rate)) => ServiceTarget::FillRate(share("--fill-rate", rate, false)?),
        (Some(level), None) => {
            ServiceTarget::CycleServiceLevel(share("--service-level", level, false)?)
        }
        (None, None) => ServiceTarget::CycleServiceLevel(0.95),
    };
    anyhow::ensure!(
        args.review_days.is_finite() && args.review_days > 0.0 && args.review_days <= 365.0,
        "--review-days: must be above 0 and at most 365, is {}",
        args.review_days
    );
    anyhow::ensure!(
        (0.0..=10.0).contains(&args.holding_rate),
        "--holding-rate: must be from 0 to 10, is {}",
        args.holding_rate
    );
    anyhow::ensure!(
        (0.0..=1e12).contains(&args.order_cost),
        "--order-cost: must be from 0 to 10^12, is {}",
        args.order_cost
    );
    let settings = Settings {
        service,
        review_period_days: args.review_days,
        holding_rate: args.holding_rate,
        order_cost: args.order_cost,
        max_supplier_share: share("--max-supplier-share", args.max_supplier_share, true)?,
        ..Settings::default()
    };
    let sku = args
        .sku
        .as_deref()
        .map(flowline_core::id::Sku::parse)
        .transpose()
        .map_err(|error| anyhow::anyhow!("--sku: {error}"))?;
    Ok((settings, sku))
}

/// Runs the replenishment planner over the tenant's log with `plan replenish`'s options.
fn planned(args: &ReplenishArgs) -> anyhow::Result<flowline_metrics::replenishment::Plan> {
    let (settings, sku) = planner_settings(args)?;
    let history = demand_history(&args.db, args.tenant.as_deref())?;
    let store = backend::read(&args.db)
        .with_context(|| format!("cannot open {}", backend::name(&args.db)))?;
    let tenant = crate::metrics::tenant_of(store.as_ref(), args.tenant.as_deref())?;
    let (state, _) = flowline_engine::replay(store.as_ref(), &tenant)
        .with_context(|| format!("cannot read {}", crate::backend::name(&args.db)))?;
    Ok(flowline_metrics::replenishment::plan(
        &state,
        &history,
        &settings,
        sku.as_ref(),
    ))
}

fn replenish(args: &ReplenishArgs) -> anyhow::Result<ExitCode> {
    let plan = planned(args)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &plan)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(today) = plan.today {
        writeln!(
            out,
            "replenishment from {today}: {} to order, {} covered",
            plan.planned.len(),
            plan.covered
        )?;
    }
    for planned in &plan.planned {
        let e = &planned.proposal.explanation;
        writeln!(
            out,
            "\n{} at {}: order {} from {} (forecast model {}, {:.0} % of the item's demand)",
            planned.sku,
            planned.location,
            planned.proposal.quantity,
            planned.supplier,
            planned.model,
            planned.share * 100.0
        )?;
        writeln!(
            out,
            "  forecast over {:.1} days {:.3} + safety stock {:.3} (z {:.4}, σ {:.3}) = order up to {:.3}",
            e.protection_days,
            e.forecast,
            e.safety_stock,
            e.safety_factor,
            e.demand_sd_over_protection,
            e.order_up_to
        )?;
        writeln!(
            out,
            "  position {} = on hand {} − reserved {} − backordered {} + on order {} + inbound {}",
            e.position, e.on_hand, e.reserved, e.backordered, e.on_order, e.inbound_transfers
        )?;
        writeln!(
            out,
            "  need {:.3} + lot sizing {:.3} + rounding {:.3} (minimum {}, cases of {}) = {}",
            e.need, e.lot_sizing, e.rounding, e.minimum_order_quantity, e.case_pack, e.quantity
        )?;
        for offer in &planned.proposal.alternatives {
            let score = offer
                .score
                .map_or("unusable".to_string(), |s| format!("{s:.4}"));
            writeln!(
                out,
                "  {} {}: price {:.2}, lead {:.1} ± {:.1} d, in full {:.0} %, expected cost per unit {score}",
                if offer.chosen { "*" } else { " " },
                offer.supplier,
                offer.unit_price,
                offer.lead_time_days,
                offer.lead_time_sd_days,
                offer.in_full_rate * 100.0
            )?;
        }
    }
    for skipped in &plan.skipped {
        let at = skipped
            .location
            .as_ref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        writeln!(out, "skipped {}{at}: {}", skipped.sku, skipped.reason)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The option a policy input came from, for messages: the library names its inputs.
fn flag(field: &str) -> &str {
    match field {
        "demand_mean" => "--demand",
        "demand_sd" => "--demand-sd",
        "lead_time" => "--lead-time",
        "lead_time_sd" => "--lead-time-sd",
        "service_level" => "--service-level",
        "fill_rate" => "--fill-rate",
        "fixed_cost" => "--order-cost",
        "holding_cost" => "--holding-cost",
        "order_quantity" | "required" => "--order-quantity",
        "minimum_order_quantity" => "--moq",
        "case_pack" => "--case-pack",
        other => other,
    }
}

/// A policy error as the user typed it: the option, not the library's field.
fn refused(error: &policy::PolicyError) -> String {
    match error {
        policy::PolicyError::OutOfRange {
            field,
            value,
            expected,
        } => format!(
            "{} {value} is out of range: expected {expected}",
            flag(field)
        ),
        other => other.to_string(),
    }
}

fn policy(args: &PolicyArgs) -> anyhow::Result<ExitCode> {
    match policy_figures(args) {
        Ok(figures) => {
            if args.json {
                outln!("{}", serde_json::to_string_pretty(&figures)?);
            } else {
                print_policy(&figures);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("error: {message}");
            Ok(ExitCode::from(1))
        }
    }
}

/// What `flowline plan policy` works out.
#[derive(Debug, serde::Serialize)]
struct PolicyFigures {
    lead_time_demand: policy::LeadTimeDemand,
    /// `cycle_service_level` or `fill_rate`.
    target: &'static str,
    target_value: f64,
    safety: policy::SafetyStock,
    /// The EOQ before rounding, when costs were given.
    economic_order_quantity: Option<f64>,
    /// The order quantity before the MOQ and case packs: the EOQ or the one given.
    order_quantity_required: Option<f64>,
    order: Option<policy::RoundedOrder>,
}

fn policy_figures(args: &PolicyArgs) -> Result<PolicyFigures, String> {
    let refuse = |error: policy::PolicyError| refused(&error);
    let demand = policy::lead_time_demand(
        args.demand,
        args.demand_sd,
        args.lead_time,
        args.lead_time_sd,
    )
    .map_err(refuse)?;
    let economic = match (args.order_cost, args.holding_cost) {
        // Demand per day over a year of 365 days, with the holding cost per unit-year.
        (Some(order_cost), Some(holding_cost)) => Some(
            policy::eoq(order_cost, holding_cost, args.demand * 365.0)
                .map_err(refuse)?
                .quantity,
        ),
        _ => None,
    };
    let required = args.order_quantity.or(economic);
    let order = required
        .map(|quantity| policy::round_order_quantity(quantity, args.moq, args.case_pack))
        .transpose()
        .map_err(refuse)?;
    let (target, target_value, safety) = match (args.service_level, args.fill_rate) {
        (Some(level), _) => (
            "cycle_service_level",
            level,
            policy::safety_stock_for_cycle_service_level(level, demand).map_err(refuse)?,
        ),
        (None, Some(rate)) => {
            let quantity = order.map(|order| order.quantity).ok_or_else(|| {
                "--fill-rate needs an order quantity: give --order-quantity, or --order-cost and --holding-cost for the EOQ".to_string()
            })?;
            (
                "fill_rate",
                rate,
                policy::safety_stock_for_fill_rate(rate, quantity, demand).map_err(refuse)?,
            )
        }
        (None, None) => return Err("give --service-level or --fill-rate".into()),
    };
    Ok(PolicyFigures {
        lead_time_demand: demand,
        target,
        target_value,
        safety,
        economic_order_quantity: economic,
        order_quantity_required: required,
        order,
    })
}

fn print_policy(figures: &PolicyFigures) {
    let ltd = figures.lead_time_demand;
    let safety = figures.safety;
    outln!(
        "lead-time demand    mean {:.2}, standard deviation {:.2}",
        ltd.mean,
        ltd.sd
    );
    let target = match figures.target {
        "fill_rate" => "fill rate",
        _ => "cycle service level",
    };
    outln!(
        "safety stock        {:.2} = z {:.4} × {:.2} (for a {target} of {})",
        safety.safety_stock,
        safety.safety_factor,
        ltd.sd,
        figures.target_value
    );
    outln!(
        "reorder point       {:.2} = {:.2} + {:.2} (lead-time demand + safety stock)",
        safety.reorder_point,
        ltd.mean,
        safety.safety_stock
    );
    outln!(
        "shortage per cycle  {:.3} units expected",
        safety.expected_shortage_per_cycle
    );
    if let Some(economic) = figures.economic_order_quantity {
        outln!(
            "economic order qty  {economic:.2} = √(2 × order cost × annual demand / holding cost)"
        );
    }
    if let (Some(required), Some(order)) = (figures.order_quantity_required, figures.order) {
        outln!(
            "order quantity      {} = {} cases, from {required:.2}{}",
            order.quantity,
            order.case_packs,
            if order.raised_to_minimum {
                " raised to the MOQ"
            } else {
                ""
            }
        );
    }
}

/// The tenant's demand history folded from its log, from the first event.
fn demand_history(db: &Path, tenant: Option<&str>) -> anyhow::Result<DemandHistory> {
    fold(db, tenant, DemandHistory::new())
}

/// The tenant's state and a projection folded from its log, from the first event.
pub(crate) fn state_and<P: flowline_core::projection::Projection>(
    db: &Path,
    tenant: Option<&str>,
    fresh: P,
) -> anyhow::Result<(flowline_core::State, P)> {
    let projection = fold(db, tenant, fresh)?;
    let store = backend::read(db).with_context(|| format!("cannot open {}", backend::name(db)))?;
    let tenant = crate::metrics::tenant_of(store.as_ref(), tenant)?;
    let (state, _) = flowline_engine::replay(store.as_ref(), &tenant)
        .with_context(|| format!("cannot read {}", crate::backend::name(db)))?;
    Ok((state, projection))
}

/// A projection of the tenant's log, folded from the first event.
fn fold<P: flowline_core::projection::Projection>(
    db: &Path,
    tenant: Option<&str>,
    fresh: P,
) -> anyhow::Result<P> {
    let store = backend::read(db).with_context(|| format!("cannot open {}", backend::name(db)))?;
    let tenant = crate::metrics::tenant_of(store.as_ref(), tenant)?;
    // A mistyped tenant would otherwise read as one with no demand at all.
    anyhow::ensure!(
        store.tenants()?.contains(&tenant),
        "{} holds no tenant `{tenant}`",
        crate::backend::name(db)
    );
    let mut tracked = Tracked {
        projection: fresh,
        head: 0,
    };
    projections::catch_up(
        store.as_ref(),
        &tenant,
        &mut tracked,
        &|| false,
        &mut |_| {},
    )
    .with_context(|| format!("cannot read {}", crate::backend::name(db)))?;
    Ok(tracked.projection)
}

/// The history's series as the forecast reads them: `SKU@channel`, daily; a stock-out day's
/// demand is censored, carried as NaN (which no series file can hold) and read as unknown.
fn history_series(history: &DemandHistory) -> Vec<Series> {
    history
        .series()
        .into_iter()
        .map(|one| Series {
            name: format!("{}@{}", one.sku, one.channel),
            frequency: Frequency::Daily,
            start: one.start,
            values: one
                .observed()
                .into_iter()
                .map(|units| units.unwrap_or(f64::NAN))
                .collect(),
        })
        .collect()
}

fn history(args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let history = demand_history(&args.db, args.tenant.as_deref())?;
    let out: Box<dyn std::io::Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(out));
    writer.write_record(["series", "date", "quantity"])?;
    for one in history.series() {
        let name = format!("{}@{}", one.sku, one.channel);
        for (index, units) in one.daily.iter().enumerate() {
            if *units > 0 {
                let date = one
                    .start
                    .checked_add(jiff::Span::new().days(index as i64))
                    .map_or_else(|_| String::new(), |date| date.to_string());
                writer.write_record([name.as_str(), &date, &units.to_string()])?;
            }
        }
    }
    writer.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn forecast_file(args: &ForecastArgs) -> anyhow::Result<ExitCode> {
    let frequency = args.frequency.map(|frequency| match frequency {
        FrequencyArg::Daily => Frequency::Daily,
        FrequencyArg::Weekly => Frequency::Weekly,
    });
    let (name, read) = match (&args.input, &args.db) {
        (Some(input), _) => {
            let bytes =
                std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
            let name = input.display().to_string();
            let read = series::read(&name, &bytes, frequency);
            (name, read)
        }
        (None, Some(db)) => {
            let history = demand_history(db, args.tenant.as_deref())?;
            (db.display().to_string(), Ok(history_series(&history)))
        }
        (None, None) => anyhow::bail!("give --input FILE.csv or --db FILE"),
    };
    let all = match read {
        Ok(all) => all,
        Err(error) => {
            let total = error.total();
            eprintln!(
                "error: {name} is malformed ({total} problem{}); nothing was forecast",
                if total == 1 { "" } else { "s" }
            );
            for problem in error.problems() {
                eprintln!("{problem}");
            }
            let hidden = total - error.problems().len();
            if hidden > 0 {
                eprintln!("... and {hidden} more not shown");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let options = |one: &Series| Options {
        horizon: args.horizon as usize,
        season_length: args.season.map_or(
            match one.frequency {
                Frequency::Daily => 7,
                Frequency::Weekly => 52,
            },
            usize::from,
        ),
        level: f64::from(args.level) / 100.0,
    };
    let forecasts = forecast_all(&all, &options);
    let mut failed = false;
    for (one, result) in all.iter().zip(&forecasts) {
        if let Err(error) = result {
            eprintln!(
                "error: {name}: series `{}`: {error}",
                one.name.escape_debug()
            );
            failed = true;
        }
    }
    if failed {
        return Ok(ExitCode::from(1));
    }
    let mut out: Box<dyn std::io::Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let results = all
        .iter()
        .zip(forecasts.into_iter().flatten())
        .collect::<Vec<_>>();
    if args.json {
        write_json(&mut out, &results)?;
    } else {
        write_csv(&mut out, &results, args.level)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Forecasts every series on all cores; the results in the series' order.
fn forecast_all(
    all: &[Series],
    options: &(dyn Fn(&Series) -> Options + Sync),
) -> Vec<Result<Forecast, forecast::ForecastError>> {
    on_all_cores(all, |one| {
        let history: Vec<Option<f64>> = one
            .values
            .iter()
            .map(|value| value.is_finite().then_some(*value))
            .collect();
        forecast::forecast(&history, &options(one))
    })
}

/// `work` applied to every item, the items split into one run per core; the results in the
/// items' order. A panic in a worker is a panic here.
pub(crate) fn on_all_cores<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(workers).max(1);
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(work).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// The CSV form: one row per series and period ahead.
fn write_csv(
    out: &mut dyn std::io::Write,
    results: &[(&Series, Forecast)],
    level: u8,
) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record([
        "series".to_string(),
        "date".into(),
        "forecast".into(),
        format!("lo{level}"),
        format!("hi{level}"),
        "model".into(),
    ])?;
    for (one, forecast) in results {
        let model = forecast.model.to_string();
        let last = one.values.len() as i64 - 1;
        for (ahead, ((mean, lower), upper)) in forecast
            .mean
            .iter()
            .zip(&forecast.lower)
            .zip(&forecast.upper)
            .enumerate()
        {
            let date = one
                .date(last + 1 + ahead as i64)
                .map_or_else(String::new, |date| date.to_string());
            writer.write_record([
                one.name.as_str(),
                &date,
                &rounded(*mean),
                &rounded(*lower),
                &rounded(*upper),
                &model,
            ])?;
        }
    }
    writer.flush()?;
    Ok(())
}

/// The JSON form: one object per series.
fn write_json(out: &mut dyn std::io::Write, results: &[(&Series, Forecast)]) -> anyhow::Result<()> {
    let shown: Vec<serde_json::Value> = results
        .iter()
        .map(|(one, forecast)| {
            let last = one.values.len() as i64 - 1;
            let dates: Vec<String> = (0..forecast.mean.len() as i64)
                .map(|ahead| {
                    one.date(last + 1 + ahead)
                        .map_or_else(String::new, |date| date.to_string())
                })
                .collect();
            serde_json::json!({
                "series": one.name,
                "model": forecast.model.to_string(),
                "dates": dates,
                "forecast": forecast.mean,
                "lower": forecast.lower,
                "upper": forecast.upper,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &shown)?;
    writeln!(out)?;
    Ok(())
}

/// A quantity as written: three decimals, without trailing zeros.
fn rounded(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

fn accuracy(args: &AccuracyArgs) -> anyhow::Result<ExitCode> {
    let history = demand_history(&args.db, args.tenant.as_deref())?;
    let Some(to) = args.to.or_else(|| history.latest()) else {
        println!("no orders yet: nothing to measure");
        return Ok(ExitCode::SUCCESS);
    };
    let from = match args.from {
        Some(from) => from,
        None => to.checked_sub(jiff::Span::new().days(28))?,
    };
    anyhow::ensure!(from < to, "--from: {from} is not before --to ({to})");
    let report = history.accuracy().report(from, to);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let percent =
        |value: Option<f64>| value.map_or("-".to_string(), |v| format!("{:.1} %", v * 100.0));
    let plain = |value: Option<f64>| value.map_or("-".to_string(), |v| format!("{v:.3}"));
    let line = |label: &str, f: &flowline_metrics::accuracy::Figures| {
        format!(
            "{label:<24} accuracy {:>8}  WAPE {:>8}  bias {:>8}  MASE {:>6}  ({} figures, {:.0} units ordered)",
            percent(f.accuracy),
            percent(f.wape),
            percent(f.bias),
            plain(f.mase),
            f.figures,
            f.actual
        )
    };
    writeln!(out, "forecast accuracy {from} to {to} (exclusive)")?;
    writeln!(out, "{}", line("overall", &report.overall))?;
    for (label, figures) in &report.by_lag {
        writeln!(out, "{}", line(&format!("ahead {label}"), figures))?;
    }
    for (week, figures) in &report.by_week {
        writeln!(out, "{}", line(&format!("week of {week}"), figures))?;
    }
    for (sku, figures) in report.worst.iter().take(10) {
        writeln!(out, "{}", line(&format!("worst: {sku}"), figures))?;
    }
    for (center, figures) in &report.by_center {
        writeln!(out, "{}", line(&format!("center {center}"), figures))?;
    }
    for (channel, figures) in &report.by_channel {
        writeln!(out, "{}", line(&format!("channel {channel}"), figures))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn capacity(args: &CapacityArgs) -> anyhow::Result<ExitCode> {
    use flowline_metrics::capacity::{self, CapacitySettings};
    let settings = CapacitySettings {
        horizon_days: args.horizon_days,
        level: args.level,
        flag_probability: args.flag_probability,
        ..CapacitySettings::default()
    };
    if let Err((field, reason)) = settings.check() {
        anyhow::bail!("--{}: {reason}", field.replace('_', "-"));
    }
    let (state, history) = state_and(&args.db, args.tenant.as_deref(), DemandHistory::new())?;
    let plan = capacity::plan(&state, &history, &settings)
        .map_err(|(field, reason)| anyhow::anyhow!("--{}: {reason}", field.replace('_', "-")))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &plan)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(today) = plan.today else {
        writeln!(
            out,
            "no orders yet: nothing to forecast the centers' load from"
        )?;
        return Ok(ExitCode::SUCCESS);
    };
    let warnings: Vec<_> = plan.warnings().collect();
    writeln!(
        out,
        "capacity from {today}, {} days: {} week(s) flagged",
        settings.horizon_days,
        warnings.len()
    )?;
    for (center, week) in &warnings {
        writeln!(
            out,
            "  WARNING {} week of {}: {:.0} orders forecast, capacity {:.0}, {:.0} short ({:.0} % likely to exceed)",
            center.center,
            week.from,
            week.week.forecast,
            week.week.capacity,
            week.week.shortfall,
            week.week.probability_over * 100.0
        )?;
    }
    for promotion in &plan.promotions {
        writeln!(
            out,
            "promotion {} ({}) {} to {}: uplift {:.2} ({:?})",
            promotion.promotion,
            promotion.name,
            promotion.first_day,
            promotion.last_day,
            promotion.uplift,
            promotion.uplift_source
        )?;
    }
    for center in &plan.centers {
        let capacity = center
            .capacity_orders_per_day
            .map_or("no capacity stated".to_string(), |c| {
                format!("capacity {c}/day")
            });
        writeln!(
            out,
            "\n{} ({}): {:.0} orders/day over the last 4 weeks, {capacity}, model {}",
            center.center, center.name, center.recent_per_day, center.model
        )?;
        for week in &center.weeks {
            writeln!(
                out,
                "  {} to {}  forecast {:>8.0}  at {:.0} % {:>8.0}  capacity {:>8.0}  short {:>7.0}  P(over) {:>5.1} %{}",
                week.from,
                week.to,
                week.week.forecast,
                settings.level * 100.0,
                week.week.upper,
                week.week.capacity,
                week.week.shortfall,
                week.week.probability_over * 100.0,
                if week.week.flagged { "  FLAGGED" } else { "" }
            )?;
        }
    }
    for skipped in &plan.skipped {
        writeln!(out, "skipped {}: {}", skipped.center, skipped.reason)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn place(args: &PlaceArgs) -> anyhow::Result<ExitCode> {
    use flowline_metrics::network::{self, NetworkHistory, PlacementSettings};
    let settings = PlacementSettings {
        horizon_days: args.horizon_days,
        window_days: args.window_days,
        days_weight: args.days_weight,
        ..PlacementSettings::default()
    };
    settings
        .check()
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let (state, history) = state_and(&args.db, args.tenant.as_deref(), NetworkHistory::new())?;
    let plan =
        network::plan(&state, &history, &settings).map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut recorded = Vec::new();
    if args.record {
        let commands = network::proposals(
            &plan,
            &format!(
                "PL-{}",
                plan.today.map(|d| d.to_string()).unwrap_or_default()
            ),
        );
        recorded = submit_all(&args.db, args.tenant.as_deref(), commands)?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({ "plan": plan, "recorded": recorded }),
        )?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(placement) = &plan.placement else {
        writeln!(
            out,
            "nothing to place: no demand in the window or no stock at the centers"
        )?;
        return Ok(ExitCode::SUCCESS);
    };
    let figures = |label: &str, f: &flowline_plan::placement::Figures| {
        format!(
            "{label:<7} expected shipping {:.2} {}, {:.2} days a unit, {:.0} units shipped, {:.0} unserved",
            f.expected_cost,
            plan.currency.map(|c| c.to_string()).unwrap_or_default(),
            f.expected_days,
            f.units,
            f.unserved
        )
    };
    writeln!(
        out,
        "placement for {} days of demand (the last {} days, scaled)",
        plan.horizon_days, plan.window_days
    )?;
    writeln!(out, "{}", figures("before", &placement.before))?;
    writeln!(out, "{}", figures("after", &placement.after))?;
    writeln!(out, "{} transfer(s)", placement.transfers.len())?;
    for transfer in &placement.transfers {
        writeln!(
            out,
            "  {} {} units {} -> {}",
            transfer.sku, transfer.quantity, transfer.from, transfer.to
        )?;
    }
    let shown = |value: Option<f64>, decimals: usize| {
        value.map_or("-".to_string(), |v| format!("{v:.decimals$}"))
    };
    for lane in &plan.lanes {
        writeln!(
            out,
            "  lane {} -> {}: {} km, {} a unit ({:?}), {} days ({:?}, {} shipments)",
            lane.center,
            lane.region,
            shown(lane.distance_km, 0),
            shown(lane.cost_per_unit, 2),
            lane.cost_basis,
            shown(lane.transit_days, 1),
            lane.transit_basis,
            lane.shipments
        )?;
    }
    for skipped in &plan.skipped {
        writeln!(out, "skipped {}: {}", skipped.sku, skipped.reason)?;
    }
    if !recorded.is_empty() {
        writeln!(
            out,
            "recorded {} proposal(s): {}",
            recorded.len(),
            recorded.join(", ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Appends `commands` to the tenant's log in one atomic batch (all or none), answering the
/// documents they created; a refusal names the command's position and why.
fn submit_all(
    db: &Path,
    tenant: Option<&str>,
    commands: Vec<flowline_core::Command>,
) -> anyhow::Result<Vec<String>> {
    use flowline_engine::{AtomicOutcome, Engine, EngineOptions, Submission};
    if commands.is_empty() {
        return Ok(Vec::new());
    }
    let tenant = {
        let store =
            backend::read(db).with_context(|| format!("cannot open {}", backend::name(db)))?;
        crate::metrics::tenant_of(store.as_ref(), tenant)?
    };
    let created: Vec<String> = commands
        .iter()
        .filter_map(flowline_core::rendered::target)
        .map(|(kind, id)| format!("{}/{id}", kind.as_str()))
        .collect();
    let engine = Engine::open(backend::durable(db)?, EngineOptions::default())
        .with_context(|| format!("cannot open {}", backend::name(db)))?;
    let submissions = commands.into_iter().map(Submission::new).collect();
    let answer = engine
        .submit_atomically(&tenant, submissions, None)
        .with_context(|| format!("cannot append to {}", db.display()))?;
    if let AtomicOutcome::Rejected { index, message, .. } = answer.outcome {
        return Err(Refused { index, message }.into());
    }
    Ok(created)
}

/// A command of an atomic batch refused: nothing was appended.
#[derive(Debug)]
struct Refused {
    index: usize,
    message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "command {} refused, nothing recorded: {}",
            self.index + 1,
            self.message
        )
    }
}

impl std::error::Error for Refused {}

/// Reads `input` with `read` (each row's line and command) and submits every command in one
/// append: `done` words what was recorded (`planned 2 promotion(s)`); a malformed file is
/// listed problem by problem, and a refused row is named by its line, with nothing recorded.
fn import_rows(
    db: &Path,
    tenant: Option<&str>,
    input: &Path,
    read: impl FnOnce(
        &str,
        &[u8],
    ) -> Result<Vec<(u64, flowline_core::Command)>, flowline_formats::ImportError>,
    done: impl FnOnce(usize) -> String,
    nothing: &str,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let file = input.display().to_string();
    let rows = match read(&file, &bytes) {
        Ok(rows) => rows,
        Err(error) => {
            eprintln!("{error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let (lines, commands): (Vec<u64>, Vec<flowline_core::Command>) = rows.into_iter().unzip();
    match submit_all(db, tenant, commands) {
        Ok(recorded) => {
            outln!("{} from {file}", done(recorded.len()));
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => match error.downcast_ref::<Refused>() {
            Some(refused) => {
                let line = lines.get(refused.index).copied().unwrap_or(0);
                eprintln!("{file}:{line}: {}; {nothing}", refused.message);
                Ok(ExitCode::FAILURE)
            }
            None => Err(error),
        },
    }
}

fn promotions(args: &PromotionsArgs) -> anyhow::Result<ExitCode> {
    import_rows(
        &args.db,
        args.tenant.as_deref(),
        &args.input,
        |file, bytes| {
            let rows = flowline_formats::promotions::read(file, bytes)?;
            Ok(rows
                .into_iter()
                .map(|row| (row.line, flowline_core::Command::PlanPromotion(row.command)))
                .collect())
        },
        |count| format!("planned {count} promotion(s)"),
        "nothing was planned",
    )
}

fn policies(args: &PoliciesArgs) -> anyhow::Result<ExitCode> {
    let planner = &args.planner;
    if let Some(input) = &args.input {
        return import_rows(
            &planner.db,
            planner.tenant.as_deref(),
            input,
            |file, bytes| {
                let rows = flowline_formats::policies::read(file, bytes)?;
                Ok(rows
                    .into_iter()
                    .map(|row| {
                        let command = flowline_core::Command::SetInventoryPolicy(row.command);
                        (row.line, command)
                    })
                    .collect())
            },
            |count| {
                let noun = if count == 1 { "policy" } else { "policies" };
                format!("set {count} inventory {noun}")
            },
            "nothing was set",
        );
    }
    let plan = planned(planner)?;
    let mut out = std::io::stdout().lock();
    if planner.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({
                "today": plan.today,
                "policies": plan.policies,
                "skipped": plan.skipped,
            }),
        )?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    use flowline_metrics::replenishment::Source;
    use flowline_plan::replenish::ServiceTarget;
    let from = |source: Source| match source {
        Source::Center => "center policy",
        Source::Item => "item policy",
        Source::Planner => "planner",
    };
    if let Some(today) = plan.today {
        writeln!(out, "inventory policies in force on {today}")?;
    }
    for policy in &plan.policies {
        let e = &policy.explanation;
        let service = match policy.service {
            ServiceTarget::CycleServiceLevel(level) => format!("cycle service level {level}"),
            ServiceTarget::FillRate(rate) => format!("fill rate {rate}"),
        };
        writeln!(out, "\n{} at {}", policy.sku, policy.location)?;
        writeln!(
            out,
            "  {service} ({}), review every {} d ({}), cases of {} ({}){}",
            from(policy.service_from),
            policy.review_period_days,
            from(policy.review_period_from),
            policy.case_pack,
            from(policy.case_pack_from),
            policy
                .minimum_order_quantity
                .map(|moq| format!(", at least {moq} a line (item policy)"))
                .unwrap_or_default()
        )?;
        writeln!(
            out,
            "  order up to {:.3} = forecast over {:.1} d {:.3} + safety stock {:.3}; position {}; order {} from {}",
            e.order_up_to,
            e.protection_days,
            e.forecast,
            e.safety_stock,
            e.position,
            policy.quantity,
            policy.supplier
        )?;
        if let Some(note) = policy.set.as_ref().and_then(|set| set.note.as_deref()) {
            writeln!(out, "  note: {note}")?;
        }
    }
    for skipped in &plan.skipped {
        let at = skipped
            .location
            .as_ref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        writeln!(out, "skipped {}{at}: {}", skipped.sku, skipped.reason)?;
    }
    Ok(ExitCode::SUCCESS)
}
