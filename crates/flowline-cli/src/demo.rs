//! `flowline demo`, `flowline simulate` and `flowline bench sim`: the simulated brand.

use crate::backend;
use anyhow::Context as _;
use flowline_core::id::TenantId;
use flowline_metrics::fold::{Fold, Slice};
use flowline_metrics::period::Range;
use flowline_metrics::scorecard::{Scorecard, metric_info, scorecard};
use flowline_server::scorecards;
use flowline_sim::scenario::Scenario;
use flowline_sim::{Options, Progress, Summary};
use flowline_store::SharedBackend;
use jiff::Timestamp;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `flowline demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Days to simulate (1 to 3,650).
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    days: u32,
    /// Seed: the same seed gives the same log.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The database to create.
    #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
    db: PathBuf,
    /// Replace the database if it exists.
    #[arg(long)]
    replace: bool,
    /// The brand to simulate (TOML); the built-in Harbor & Pine by default.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Flush every commit to disk (slower; a demo log can be made again from its seed).
    #[arg(long)]
    durable: bool,
    /// Then serve the API and dashboard on the database.
    #[arg(long)]
    serve: bool,
    /// Address for --serve.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
}

/// Arguments of `flowline simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// A scenario file; give two or more to compare them. `default` is the built-in brand.
    #[arg(long = "scenario", value_name = "FILE", required = true)]
    scenarios: Vec<String>,
    /// Seeds per scenario (1, 2, ...): the same seeds for every scenario.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
    seeds: u64,
    /// Days to simulate (1 to 3,650).
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    days: u32,
    /// Run every scenario at this many orders a day (its centers, customers, minimum order
    /// quantities, overheads and assets scaled alike), for a quicker comparison.
    #[arg(long, value_name = "N")]
    orders_per_day: Option<f64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `flowline bench sim`.
#[derive(Debug, clap::Args)]
pub struct BenchSimArgs {
    /// Orders a day at the start of the year (the built-in brand's other rates scale with it).
    #[arg(long, default_value_t = 10_000.0)]
    orders_per_day: f64,
    /// Days to simulate (1 to 3,650).
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    days: u32,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// With --db: flush every commit to disk.
    #[arg(long, requires = "db")]
    durable: bool,
    /// Write the log to this SQLite file instead of keeping it in memory.
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
}

fn load(name: &str) -> anyhow::Result<Scenario> {
    if name == "default" {
        return Ok(Scenario::default_brand());
    }
    Scenario::load(Path::new(name))
        .map_err(|errors| anyhow::anyhow!("the scenario is not valid:\n{errors}"))
}

fn demo_tenant() -> TenantId {
    TenantId::parse("demo").unwrap_or_else(|_| unreachable!("`demo` is a valid tenant id"))
}

fn simulate(
    scenario: &Scenario,
    log: &SharedBackend,
    options: &Options,
    label: &str,
) -> anyhow::Result<Summary> {
    simulate_sampling(scenario, log, options, label, &mut Vec::new())
}

/// [`simulate`], sampling the process's anonymous memory after each tenth of the days into
/// `memory` as (days done, MiB).
fn simulate_sampling(
    scenario: &Scenario,
    log: &SharedBackend,
    options: &Options,
    label: &str,
    memory: &mut Vec<(u32, f64)>,
) -> anyhow::Result<Summary> {
    let mut bar = crate::progress::Progress::new(label, u64::from(options.days), "days");
    let started = Instant::now();
    let every = (options.days / 10).max(1);
    let summary = flowline_sim::run(scenario, log, options, &mut |p: &Progress| {
        let rate = p.orders as f64 / started.elapsed().as_secs_f64().max(1e-9);
        bar.update(
            u64::from(p.done),
            format!("{}  {} orders  {rate:.0} orders/s", p.day, p.orders),
        );
        if p.done.is_multiple_of(every) || p.done == p.days {
            memory.push((p.done, crate::bench::rss_mib()));
        }
    })
    .with_context(|| format!("the simulation into {} failed", log.describe()))?;
    bar.finish();
    Ok(summary)
}

/// The scorecard of the simulated days, judged as of the end of the last one.
fn card(
    log: &SharedBackend,
    summary: &Summary,
) -> anyhow::Result<(Fold, Scorecard, Range, Timestamp)> {
    let store = log
        .open_reader()
        .with_context(|| format!("cannot open {}", log.describe()))?;
    let Some((fold, _)) = scorecards::fold_log(store.as_ref(), &demo_tenant(), false)? else {
        anyhow::bail!("the simulated tenant is not configured");
    };
    let (Some(from), Some(to)) = (summary.from, summary.to) else {
        anyhow::bail!("the simulation ran no days");
    };
    let end = to.tomorrow()?;
    let range = Range::of_dates(from, end);
    let as_of = end
        .to_zoned(fold.settings().reporting.clone())
        .map(|z| z.timestamp())
        .unwrap_or_else(|_| Timestamp::now());
    let card = scorecard(&fold, range, &Slice::All, as_of);
    Ok((fold, card, range, as_of))
}

fn refused(summary: &Summary) -> anyhow::Result<()> {
    if summary.refused.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "the engine refused {} command(s) the model expected to succeed: {:?}; first: {}",
        summary.refused.values().sum::<u64>(),
        summary.refused,
        summary.refusal_samples.join("; ")
    )
}

fn size(path: &Path) -> String {
    if backend::is_postgres() {
        return "PostgreSQL".to_string();
    }
    let bytes: u64 = ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|m| m.len())
        .sum();
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
    } else {
        format!("{:.0} MiB", bytes as f64 / f64::from(1u32 << 20))
    }
}

/// Runs `flowline demo`.
pub fn demo(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let scenario = match &args.scenario {
        Some(path) => load(&path.display().to_string())?,
        None => Scenario::default_brand(),
    };
    if backend::is_postgres() {
        // A database is not a file to replace: the demo goes into one that holds no demo yet.
        let store = backend::read(&args.db)
            .with_context(|| format!("cannot open {}", backend::name(&args.db)))?;
        if store.tenant_head(&demo_tenant())? > 0 {
            anyhow::bail!(
                "{} already holds tenant `demo`'s log; use an empty database",
                backend::name(&args.db)
            );
        }
    } else if args.db.exists() {
        if !args.replace {
            anyhow::bail!(
                "{} already exists; pass --replace to simulate over it, or --db to choose another file",
                args.db.display()
            );
        }
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", args.db.display()));
            if file.exists() {
                std::fs::remove_file(&file)
                    .with_context(|| format!("cannot remove {}", file.display()))?;
            }
        }
    }
    eprintln!(
        "Simulating {} for {} days from {} (seed {}) into {}",
        scenario.brand.name,
        args.days,
        scenario.brand.start,
        args.seed,
        backend::name(&args.db)
    );
    let options = Options {
        seed: args.seed,
        days: args.days,
        tenant: demo_tenant(),
    };
    let open = if args.durable {
        backend::durable
    } else {
        backend::relaxed
    };
    let log =
        open(&args.db).with_context(|| format!("cannot create {}", backend::name(&args.db)))?;
    let summary = simulate(&scenario, &log, &options, "simulating")?;
    let orders = summary.counts.get("orders_placed").copied().unwrap_or(0);
    outln!(
        "Simulated {} days in {:.1} s: {orders} orders, {} commands, {} events ({:.0} orders/s); \
         log read back and hashed in {:.1} s.",
        summary.days,
        summary.wall.as_secs_f64(),
        summary.commands,
        summary.events,
        orders as f64 / summary.wall.as_secs_f64().max(1e-9),
        summary.hash_wall.as_secs_f64()
    );
    outln!(
        "Log: {} ({}), tenant `demo`, log SHA-256 {}",
        backend::name(&args.db),
        size(&args.db),
        summary.log_hash
    );
    refused(&summary)?;
    let (fold, _, range, as_of) = card(&log, &summary)?;
    let report = scorecards::report(&demo_tenant(), &fold, range, None, as_of, 20);
    outln!();
    out!("{}", crate::metrics::text(&report));
    // Register the tenant and give the user a key for the API and the dashboard.
    let mut store = log
        .open()
        .with_context(|| format!("cannot open {}", backend::name(&args.db)))?;
    let tenant = demo_tenant();
    if !store
        .registered_tenants()?
        .iter()
        .any(|t| t.tenant == tenant)
    {
        store.register_tenant(&flowline_store::TenantRecord {
            tenant: tenant.clone(),
            name: scenario.brand.name.clone(),
            created_at: Timestamp::now(),
        })?;
    }
    let issued = flowline_server::auth::issue_key(
        store.as_mut(),
        &tenant,
        flowline_server::auth::Role::Admin,
        "demo",
        Timestamp::now(),
    )?;
    drop(store);
    drop(log);
    outln!();
    outln!(
        "Admin API key for tenant `demo` (shown once): {}",
        issued.plaintext
    );
    if args.serve {
        outln!(
            "Dashboard and API on http://{}/ — sign in with that key. Ctrl-C to stop.",
            args.bind
        );
        crate::admin::serve(
            args.bind,
            &args.db,
            false,
            Default::default(),
            &Default::default(),
            &Default::default(),
        )?;
    } else {
        let serve = if backend::is_postgres() {
            "flowline serve (with the same FLOWLINE_DATABASE_URL)".to_string()
        } else {
            format!("flowline serve --db {}", args.db.display())
        };
        outln!("Next: {serve} and open the dashboard at http://127.0.0.1:8080/ with that key.");
    }
    Ok(ExitCode::SUCCESS)
}

/// The values compared by `flowline simulate`, in order.
const COMPARED: &[&str] = &[
    "rl.perfect_order",
    "rl.in_full",
    "rl.on_time",
    "rl.condition",
    "rs.order_cycle_time",
    "co.total_cost",
    "co.total_cost_per_order",
    "co.cost_of_goods_sold",
    "am.cash_to_cash",
    "am.inventory_days",
    "am.return_on_fixed_assets",
    "rl.perfect_supplier_order",
    "env.ghg_per_order",
    "ops.unit_fill_rate",
    "ops.backorder_rate",
    "ops.on_time_ship",
    "ops.stockout_rate",
    "ops.return_rate",
];

/// Figures of the run itself, beside the scorecard's: the cycle service level achieved (share
/// of replenishment cycles, receipt to receipt, with no stock-out), the policy's target, and
/// the average value at cost of the stock on hand at the daily reviews.
const RUN_FIGURES: &[(&str, &str)] = &[
    ("Cycle service level achieved", "percent"),
    ("Cycle service level target", "percent"),
    ("Average inventory value at cost", "money"),
];

/// One metric across a scenario's seeds.
#[derive(Debug, Clone, serde::Serialize)]
struct Spread {
    values: Vec<Option<f64>>,
    mean: Option<f64>,
    sd: Option<f64>,
}

fn spread(values: Vec<Option<f64>>) -> Spread {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let n = present.len() as f64;
    let mean = (!present.is_empty()).then(|| present.iter().sum::<f64>() / n);
    let sd = mean
        .filter(|_| present.len() > 1)
        .map(|m| (present.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    Spread { values, mean, sd }
}

/// Runs `flowline simulate`.
pub fn compare(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let scenarios: Vec<(String, Scenario)> = args
        .scenarios
        .iter()
        .map(|name| {
            let label = Path::new(name)
                .file_stem()
                .map_or(name.clone(), |s| s.to_string_lossy().into_owned());
            load(name).map(|s| match args.orders_per_day {
                Some(n) => (label, s.scaled(n)),
                None => (label, s),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    if let Some(n) = args.orders_per_day
        && !(n.is_finite() && n > 0.0)
    {
        anyhow::bail!("--orders-per-day must be a positive number, is {n}");
    }
    let seeds = args.seeds.max(1);
    // Every (scenario, seed) is independent: run them on the available cores, each on a log in
    // memory, and collect the scorecards in order.
    let runs: Vec<(usize, u64)> = (0..scenarios.len())
        .flat_map(|s| (1..=seeds).map(move |seed| (s, seed)))
        .collect();
    let cards = run_in_parallel(&runs, |&(s, seed)| {
        let (label, scenario) = &scenarios[s];
        let options = Options {
            seed,
            days: args.days,
            tenant: demo_tenant(),
        };
        let log = backend::memory();
        let summary = flowline_sim::run(scenario, &log, &options, &mut |_| {})
            .with_context(|| format!("the simulation of {label}, seed {seed}, failed"))?;
        refused(&summary)?;
        let (_, card, _, _) = card(&log, &summary)?;
        eprintln!(
            "{label} seed {seed}: {} orders in {:.1} s",
            summary.counts.get("orders_placed").copied().unwrap_or(0),
            summary.wall.as_secs_f64()
        );
        let figures = [
            summary.cycle_service.achieved().map(|a| a * 100.0),
            Some(summary.cycle_service.target * 100.0),
            Some(summary.average_inventory_value),
        ];
        Ok((card, (figures, summary.capacity_warnings)))
    })?;
    let (cards, figures): (Vec<_>, Vec<_>) = cards.into_iter().unzip();
    let (figures, warnings): (Vec<_>, Vec<_>) = figures.into_iter().unzip();
    // results[scenario][metric] = values by seed
    let mut results: Vec<Vec<Vec<Option<f64>>>> =
        vec![vec![Vec::new(); COMPARED.len()]; scenarios.len()];
    let mut units: Vec<String> = vec![String::new(); COMPARED.len()];
    for (&(s, _), card) in runs.iter().zip(&cards) {
        // Money is kept in minor units: show it in the brand's currency.
        let currency = flowline_core::money::Currency::parse(&scenarios[s].1.brand.currency)?;
        let minor_per_major = 10f64.powi(currency.exponent() as i32);
        for (m, id) in COMPARED.iter().enumerate() {
            let value = card.value(id);
            let mut scale = 1.0;
            if let Some(v) = value {
                units[m] = if v.unit == flowline_metrics::value::Unit::Money {
                    scale = minor_per_major;
                    currency.as_str().to_string()
                } else {
                    format!("{:?}", v.unit).to_lowercase()
                };
            }
            results[s][m].push(value.and_then(|v| v.value).map(|v| v / scale));
        }
    }
    let table: Vec<Vec<Spread>> = results
        .into_iter()
        .map(|metrics| metrics.into_iter().map(spread).collect())
        .collect();
    // run_table[scenario][figure]
    let run_table: Vec<Vec<Spread>> = (0..scenarios.len())
        .map(|s| {
            (0..RUN_FIGURES.len())
                .map(|f| {
                    spread(
                        runs.iter()
                            .zip(&figures)
                            .filter(|((scenario, _), _)| *scenario == s)
                            .map(|(_, values)| values[f])
                            .collect(),
                    )
                })
                .collect()
        })
        .collect();
    if args.json {
        let json = serde_json::json!({
            "days": args.days,
            "seeds": seeds,
            "scenarios": scenarios.iter().enumerate().map(|(s, (label, _))| serde_json::json!({
                "scenario": label,
                "metrics": COMPARED.iter().enumerate().map(|(m, id)| (id.to_string(), serde_json::to_value(&table[s][m]).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
                "run": RUN_FIGURES.iter().enumerate().map(|(f, (name, _))| (name.to_string(), serde_json::to_value(&run_table[s][f]).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
                "capacity_warnings": runs.iter().zip(&warnings).filter(|((scenario, _), _)| *scenario == s).map(|((_, seed), found)| serde_json::json!({ "seed": seed, "warnings": found })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        outln!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} days, seeds 1–{seeds}; each cell is the mean over seeds ± their standard deviation; \
         the difference is against the first scenario, ± its standard error, * when larger than twice that.",
        args.days
    );
    let mut header = format!("{:<44}", "metric");
    for (label, _) in &scenarios {
        header.push_str(&format!(" {:>24}", label));
    }
    for (label, _) in scenarios.iter().skip(1) {
        header.push_str(&format!(" {:>26}", format!("{label} − {}", scenarios[0].0)));
    }
    outln!("{header}");
    for (m, id) in COMPARED.iter().enumerate() {
        let name = metric_info(id).map_or(id.to_string(), |info| {
            if info.scor_code.is_empty() {
                info.name.to_string()
            } else {
                format!("{} {}", info.scor_code, info.name)
            }
        });
        let mut row = format!("{:<44}", truncate(&name, 44));
        for column in &table {
            row.push_str(&format!(" {:>24}", cell(&column[m], &units[m])));
        }
        for column in &table[1..] {
            row.push_str(&format!(
                " {:>26}",
                difference(&table[0][m], &column[m], seeds)
            ));
        }
        outln!("{row}");
    }
    for (f, (name, unit)) in RUN_FIGURES.iter().enumerate() {
        let unit = if *unit == "money" {
            scenarios[0].1.brand.currency.as_str()
        } else {
            unit
        };
        let mut row = format!("{:<44}", truncate(name, 44));
        for column in &run_table {
            row.push_str(&format!(" {:>24}", cell(&column[f], unit)));
        }
        for column in &run_table[1..] {
            row.push_str(&format!(
                " {:>26}",
                difference(&run_table[0][f], &column[f], seeds)
            ));
        }
        outln!("{row}");
    }
    capacity_warnings(&scenarios, &runs, &warnings);
    Ok(ExitCode::SUCCESS)
}

/// Prints the weeks the planner's capacity watch flagged in each run: when it first flagged
/// each, how many days ahead, the forecast against the capacity, and the orders the week
/// brought.
fn capacity_warnings(
    scenarios: &[(String, Scenario)],
    runs: &[(usize, u64)],
    warnings: &[Vec<flowline_sim::capacity::CapacityWarning>],
) {
    for ((s, seed), found) in runs.iter().zip(warnings) {
        if scenarios[*s].1.replenishment.policy != flowline_sim::scenario::ReorderPolicy::Planner {
            continue;
        }
        let label = &scenarios[*s].0;
        if found.is_empty() {
            outln!("\n{label} seed {seed}: the capacity watch flagged no week");
            continue;
        }
        outln!(
            "\n{label} seed {seed}: capacity warnings raised during the run (the planner's Monday watch)"
        );
        for warning in found {
            let actual = warning
                .actual
                .map_or("after the run".to_string(), |orders| {
                    format!("{orders} orders")
                });
            outln!(
                "  {} week of {}: flagged {} ({} days ahead), forecast {:.0} orders against capacity {:.0} ({:.0} short, {:.0} % likely); the week brought {actual}",
                warning.center,
                warning.week,
                warning.raised_on,
                warning.days_ahead(),
                warning.forecast,
                warning.capacity,
                warning.shortfall,
                warning.probability_over * 100.0
            );
        }
    }
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(width - 1).collect();
        cut.push('…');
        cut
    }
}

fn cell(spread: &Spread, unit: &str) -> String {
    let suffix = match unit {
        "percent" => " %",
        "days" => " d",
        "hours" => " h",
        "grams" => " g",
        "number" | "" => "",
        currency => &format!(" {currency}"),
    };
    match (spread.mean, spread.sd) {
        (Some(mean), Some(sd)) => format!("{mean:.2}{suffix} ± {sd:.2}"),
        (Some(mean), None) => format!("{mean:.2}{suffix}"),
        _ => "no data".into(),
    }
}

fn difference(base: &Spread, other: &Spread, seeds: u64) -> String {
    let (Some(a), Some(b)) = (base.mean, other.mean) else {
        return "—".into();
    };
    let n = seeds as f64;
    let error = match (base.sd, other.sd) {
        (Some(x), Some(y)) => Some((x * x / n + y * y / n).sqrt()),
        _ => None,
    };
    match error {
        Some(e) => {
            let mark = if (b - a).abs() > 2.0 * e { " *" } else { "  " };
            format!("{:+.2} ± {e:.2}{mark}", b - a)
        }
        None => format!("{:+.2}", b - a),
    }
}

/// Runs `flowline bench sim`.
pub fn bench(args: &BenchSimArgs) -> anyhow::Result<ExitCode> {
    if !(args.orders_per_day.is_finite() && args.orders_per_day > 0.0) {
        anyhow::bail!(
            "--orders-per-day must be a positive number, is {}",
            args.orders_per_day
        );
    }
    let scenario = Scenario::default_brand().scaled(args.orders_per_day);
    let (log, held) = match &args.db {
        None => {
            let (log, bytes) = backend::memory_sized();
            (log, Some(bytes))
        }
        Some(path) => {
            let open = if args.durable {
                backend::durable
            } else {
                backend::relaxed
            };
            let log = open(path).with_context(|| format!("cannot create {}", path.display()))?;
            (log, None)
        }
    };
    outln!(
        "flowline bench sim: {} cores, the built-in brand at {:.0} orders/day for {} days (seed {}, log {})",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.orders_per_day,
        args.days,
        args.seed,
        match (&args.db, args.durable) {
            (None, _) => "in memory".to_string(),
            (Some(path), true) => format!("in {}, durable commits", path.display()),
            (Some(path), false) => format!("in {}, commits not flushed one by one", path.display()),
        }
    );
    let options = Options {
        seed: args.seed,
        days: args.days,
        tenant: demo_tenant(),
    };
    let mut memory = Vec::new();
    let summary = simulate_sampling(&scenario, &log, &options, "simulating", &mut memory)?;
    refused(&summary)?;
    let orders = summary.counts.get("orders_placed").copied().unwrap_or(0);
    let seconds = summary.wall.as_secs_f64().max(1e-9);
    outln!(
        "simulated {} days in {seconds:.1} s: {orders} orders ({:.0} orders/s), {} commands ({:.0}/s), {} events ({:.0}/s); log {}; read back and hashed in {:.1} s",
        summary.days,
        orders as f64 / seconds,
        summary.commands,
        summary.commands as f64 / seconds,
        summary.events,
        summary.events as f64 / seconds,
        match (&args.db, &held) {
            (Some(path), _) => size(path),
            (None, Some(bytes)) => format!(
                "{:.0} MiB in memory",
                bytes() as f64 / f64::from(1u32 << 20)
            ),
            (None, None) => String::new(),
        },
        summary.hash_wall.as_secs_f64()
    );
    outln!("log SHA-256 {}", summary.log_hash);
    outln!(
        "target: one year in ≤ 30 s; {}",
        if seconds <= 30.0 && summary.days >= 365 {
            "met"
        } else {
            "not met"
        }
    );
    let samples: Vec<String> = memory
        .iter()
        .map(|(day, mib)| format!("day {day}: {mib:.0}"))
        .collect();
    outln!(
        "anonymous memory, MiB ({}): {}",
        if held.is_some() {
            "open work and the log held in memory"
        } else {
            "open work, not the log"
        },
        samples.join(", ")
    );
    outln!(
        "peak RSS {:.0} MiB, of which log pages mapped at the end {:.0} MiB",
        crate::bench::peak_rss_mib(),
        crate::bench::file_mib()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `job` on every input, on as many threads as there are cores, and returns the outputs
/// in the inputs' order; the first error stops the others from taking more work.
fn run_in_parallel<I: Sync, O: Send>(
    inputs: &[I],
    job: impl Fn(&I) -> anyhow::Result<O> + Sync,
) -> anyhow::Result<Vec<O>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(inputs.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let outputs: std::sync::Mutex<Vec<Option<anyhow::Result<O>>>> =
        std::sync::Mutex::new((0..inputs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if index >= inputs.len() || failed.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let output = job(&inputs[index]);
                    if output.is_err() {
                        failed.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    if let Ok(mut outputs) = outputs.lock() {
                        outputs[index] = Some(output);
                    }
                }
            });
        }
    });
    let outputs = outputs
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a simulation thread panicked"))?;
    // The error that stopped the others, rather than one of the runs it stopped.
    let outputs: Vec<O> = outputs
        .into_iter()
        .flatten()
        .collect::<anyhow::Result<_>>()?;
    if outputs.len() < inputs.len() {
        anyhow::bail!(
            "{} of {} runs did not finish",
            inputs.len() - outputs.len(),
            inputs.len()
        );
    }
    Ok(outputs)
}
