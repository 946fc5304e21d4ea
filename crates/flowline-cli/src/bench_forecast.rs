//! `flowline bench forecast`: the planner's forecasts beside statsforecast's, on the same
//! series, the same holdout and the same cores.
//!
//! The series: the real M5 daily unit sales in `--m5` (skipped with a message when the file is
//! absent) and `--series` generated daily series (weekly and yearly cycles, trend, noise, a third
//! of them intermittent), from `--seed`. The last `--horizon` days of each are held out;
//! every method forecasts them from the rest. Flowline's automatic choice and its seasonal
//! naive run in this process on all cores; statsforecast's AutoETS and SeasonalNaive run in a
//! Python child with `n_jobs` set to the same cores, timed inside the child after a warm-up that
//! compiles its numba code. Accuracy is MASE (scaled by the in-sample seasonal naive error,
//! m = 7), computed here for every method alike.

use flowline_plan::forecast::{self, Model, Options};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `flowline bench forecast`.
#[derive(Debug, clap::Args)]
pub struct ForecastArgs {
    /// Generated series.
    #[arg(long, default_value_t = 1_000)]
    series: usize,
    /// Days in each generated series, holdout included.
    #[arg(long, default_value_t = 730)]
    days: usize,
    /// Days held out and forecast.
    #[arg(long, default_value_t = 28)]
    horizon: usize,
    /// The M5 sales file (wide CSV: six id columns, then d_1, d_2, ...).
    #[arg(
        long,
        default_value = "../shared/data/m5/sales_train_validation_10rows.csv"
    )]
    m5: PathBuf,
    /// The Python that has statsforecast (`pip install statsforecast`).
    #[arg(long, default_value = "python3")]
    python: String,
    /// Leave statsforecast out.
    #[arg(long)]
    no_peer: bool,
    /// Seed of the generated series (the default is the set of docs/benchmarks.md).
    #[arg(long, default_value_t = 0x5EED_F0CA)]
    seed: u64,
}

/// A set of series with their holdouts.
struct Set {
    name: String,
    names: Vec<String>,
    train: Vec<Vec<f64>>,
    test: Vec<Vec<f64>>,
}

/// One method's forecasts of a set, and how long they took.
struct Run {
    method: String,
    seconds: f64,
    forecasts: Vec<Vec<f64>>,
}

/// Runs the benchmark and prints its figures.
pub fn forecast(args: &ForecastArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.horizon >= 1 && args.days > args.horizon + 14,
        "--days must exceed --horizon by at least two weeks"
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    outln!(
        "flowline bench forecast: {cores} cores, horizon {} days, season 7, MASE scaled by the in-sample seasonal naive (m = 7)",
        args.horizon
    );
    let mut sets = Vec::new();
    match read_m5(&args.m5, args.horizon) {
        Ok(Some(set)) => sets.push(set),
        Ok(None) => outln!(
            "M5 series skipped: {} is absent (the data lives beside the repository in ../shared/data)",
            args.m5.display()
        ),
        Err(error) => anyhow::bail!("{}: {error}", args.m5.display()),
    }
    if args.series > 0 {
        sets.push(generated(args.series, args.days, args.horizon, args.seed));
    }
    let directory = tempfile::tempdir()?;
    outln!(
        "{:<16} {:>7} {:<30} {:>9} {:>12} {:>10}",
        "set",
        "series",
        "method",
        "wall s",
        "ms/series",
        "mean MASE"
    );
    for set in &sets {
        let mut runs = vec![
            ours(set, args.horizon, None, "flowline automatic"),
            ours(
                set,
                args.horizon,
                Some(Model::SeasonalNaive),
                "flowline seasonal naive",
            ),
        ];
        if !args.no_peer {
            match peer(set, args.horizon, &args.python, directory.path(), cores) {
                Ok(peer_runs) => runs.extend(peer_runs),
                Err(error) => outln!("statsforecast did not run: {error:#}"),
            }
        }
        for run in &runs {
            outln!(
                "{:<16} {:>7} {:<30} {:>9.3} {:>12.3} {:>10.4}",
                set.name,
                set.train.len(),
                run.method,
                run.seconds,
                run.seconds * 1e3 / set.train.len().max(1) as f64,
                mean_mase(set, &run.forecasts).unwrap_or(f64::NAN)
            );
        }
        let wall = |method: &str| {
            runs.iter()
                .find(|run| run.method == method)
                .map(|run| run.seconds)
        };
        if let (Some(theirs), Some(mine)) =
            (wall("statsforecast AutoETS"), wall("flowline automatic"))
        {
            outln!(
                "{:<16} ratio: statsforecast AutoETS wall / flowline automatic wall = {:.1}",
                set.name,
                theirs / mine.max(1e-9)
            );
        }
    }
    Ok(())
}

/// Flowline's forecasts of every series of `set`, on all cores: the automatic choice, or one
/// model.
fn ours(set: &Set, horizon: usize, model: Option<Model>, method: &str) -> Run {
    let options = Options {
        horizon,
        season_length: 7,
        level: 0.8,
    };
    let started = Instant::now();
    let forecasts = crate::plan::on_all_cores(&set.train, |train| {
        let history: Vec<Option<f64>> = train.iter().copied().map(Some).collect();
        let result = match model {
            Some(model) => forecast::forecast_with(model, &history, &options),
            None => forecast::forecast(&history, &options),
        };
        result.map(|f| f.mean).unwrap_or_default()
    });
    Run {
        method: method.into(),
        seconds: started.elapsed().as_secs_f64(),
        forecasts,
    }
}

/// Mean MASE over the series whose scale is defined (not all equal in-sample).
fn mean_mase(set: &Set, forecasts: &[Vec<f64>]) -> Option<f64> {
    let scores: Vec<f64> = set
        .train
        .iter()
        .zip(&set.test)
        .zip(forecasts)
        .filter_map(|((train, test), forecast)| {
            (forecast.len() == test.len())
                .then(|| forecast::accuracy::mase(test, forecast, train, 7))
                .flatten()
        })
        .filter(|score| score.is_finite())
        .collect();
    (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
}

/// The M5 file's series, or `None` when the file is absent.
fn read_m5(path: &Path, horizon: usize) -> anyhow::Result<Option<Set>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let mut set = Set {
        name: "M5".into(),
        names: Vec::new(),
        train: Vec::new(),
        test: Vec::new(),
    };
    for (index, record) in reader.records().enumerate() {
        let record = record?;
        let line = index + 2;
        let values = record
            .iter()
            .skip(6)
            .map(|text| {
                text.parse::<f64>()
                    .ok()
                    .filter(|value| value.is_finite() && *value >= 0.0)
                    .ok_or_else(|| anyhow::anyhow!("line {line}: `{text}` is not a quantity"))
            })
            .collect::<anyhow::Result<Vec<f64>>>()?;
        anyhow::ensure!(
            values.len() > horizon + 14,
            "line {line}: {} days, too short for a horizon of {horizon}",
            values.len()
        );
        let (train, test) = values.split_at(values.len() - horizon);
        set.names
            .push(record.get(0).unwrap_or_default().to_string());
        set.train.push(train.to_vec());
        set.test.push(test.to_vec());
    }
    Ok(Some(set))
}

/// `count` daily series of `days` days from `seed`: a level between 2 and 200 units,
/// a weekly cycle, a yearly swing, a trend and noise; every third series intermittent (a few
/// units on a minority of days).
fn generated(count: usize, days: usize, horizon: usize, seed: u64) -> Set {
    let mut random = Random(seed);
    let mut set = Set {
        name: "generated".into(),
        names: Vec::with_capacity(count),
        train: Vec::with_capacity(count),
        test: Vec::with_capacity(count),
    };
    for number in 0..count {
        let values: Vec<f64> = if number % 3 == 2 {
            let chance = 0.1 + 0.3 * random.uniform();
            let size = 1.0 + 4.0 * random.uniform();
            (0..days)
                .map(|_| {
                    if random.uniform() < chance {
                        (size * (0.5 + random.uniform())).round()
                    } else {
                        0.0
                    }
                })
                .collect()
        } else {
            let level = 2.0 + 198.0 * random.uniform();
            let trend = level * (random.uniform() - 0.5) * 0.5 / 365.0;
            let yearly = 0.3 * random.uniform();
            let weekly: Vec<f64> = (0..7).map(|_| 0.7 + 0.6 * random.uniform()).collect();
            let noise = 0.05 + 0.25 * random.uniform();
            (0..days)
                .map(|day| {
                    let t = day as f64;
                    let season = 1.0 + yearly * (2.0 * std::f64::consts::PI * t / 365.25).sin();
                    let mean = (level + trend * t).max(0.5) * season * weekly[day % 7];
                    (mean * (1.0 + noise * random.normal())).max(0.0).round()
                })
                .collect()
        };
        let (train, test) = values.split_at(days - horizon);
        set.names.push(format!("G{number}"));
        set.train.push(train.to_vec());
        set.test.push(test.to_vec());
    }
    set
}

/// A small deterministic generator (Knuth's MMIX constants), for the generated series.
struct Random(u64);

impl Random {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// statsforecast's AutoETS and SeasonalNaive on `set`, in a Python child.
fn peer(
    set: &Set,
    horizon: usize,
    python: &str,
    directory: &Path,
    cores: usize,
) -> anyhow::Result<Vec<Run>> {
    let input = directory.join("train.csv");
    let output = directory.join("forecasts.csv");
    let script = directory.join("statsforecast_peer.py");
    std::fs::write(&script, PEER_SCRIPT)?;
    let mut text = String::from("unique_id,ds,y\n");
    for (number, train) in set.train.iter().enumerate() {
        for (day, value) in train.iter().enumerate() {
            // Days counted from 2020-01-01; only their order and spacing matter.
            writeln!(text, "S{number},{day},{value}")?;
        }
    }
    std::fs::write(&input, text)?;
    let ran = std::process::Command::new(python)
        .arg(&script)
        .arg(&input)
        .arg(horizon.to_string())
        .arg(cores.to_string())
        .arg(&output)
        .output()?;
    anyhow::ensure!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
            .lines()
            .last()
            .unwrap_or("failed")
    );
    let printed = String::from_utf8_lossy(&ran.stdout);
    let seconds = |name: &str| -> anyhow::Result<f64> {
        printed
            .lines()
            .find_map(|line| line.strip_prefix(&format!("seconds {name} ")))
            .and_then(|value| value.trim().parse().ok())
            .ok_or_else(|| anyhow::anyhow!("the peer printed no time for {name}: {printed}"))
    };
    let mut autoets = vec![Vec::new(); set.train.len()];
    let mut naive = vec![Vec::new(); set.train.len()];
    let mut reader = csv::Reader::from_path(&output)?;
    for record in reader.records() {
        let record = record?;
        let number: usize = record
            .get(0)
            .and_then(|id| id.strip_prefix('S'))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("the peer wrote an unknown series"))?;
        let value = |index: usize| record.get(index).and_then(|v| v.parse::<f64>().ok());
        if let (Some(a), Some(n), Some(series_a), Some(series_n)) = (
            value(1),
            value(2),
            autoets.get_mut(number),
            naive.get_mut(number),
        ) {
            series_a.push(a);
            series_n.push(n);
        }
    }
    Ok(vec![
        Run {
            method: "statsforecast AutoETS".into(),
            seconds: seconds("AutoETS")?,
            forecasts: autoets,
        },
        Run {
            method: "statsforecast SeasonalNaive".into(),
            seconds: seconds("SeasonalNaive")?,
            forecasts: naive,
        },
    ])
}

/// The peer: reads `unique_id,ds,y`, forecasts `h` days with each model on `n_jobs` cores,
/// timed after a warm-up on a small frame (numba compiles on first use), writes
/// `unique_id,AutoETS,SeasonalNaive` one row per day ahead in order, and prints the seconds.
const PEER_SCRIPT: &str = r#"
import sys, time
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, SeasonalNaive

path, h, n_jobs, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
df = pd.read_csv(path)
df["ds"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(df["ds"], unit="D")
df["unique_id"] = df["unique_id"].astype(str)

def run(model):
    sf = StatsForecast(models=[model], freq="D", n_jobs=n_jobs)
    return sf.forecast(df=df, h=h)

warm = df[df["unique_id"] == df["unique_id"].iloc[0]]
StatsForecast(models=[AutoETS(season_length=7), SeasonalNaive(season_length=7)], freq="D", n_jobs=1).forecast(df=warm, h=h)

results = {}
for name, model in [("AutoETS", AutoETS(season_length=7)), ("SeasonalNaive", SeasonalNaive(season_length=7))]:
    start = time.perf_counter()
    fc = run(model)
    results[name] = time.perf_counter() - start
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    fc = fc.sort_values(["unique_id", "ds"], kind="stable")
    if name == "AutoETS":
        merged = fc[["unique_id", "ds", "AutoETS"]]
    else:
        merged = merged.merge(fc[["unique_id", "ds", "SeasonalNaive"]], on=["unique_id", "ds"])
merged = merged.sort_values(["unique_id", "ds"], kind="stable")
merged[["unique_id", "AutoETS", "SeasonalNaive"]].to_csv(out, index=False)
for name, seconds in results.items():
    print(f"seconds {name} {seconds:.4f}")
"#;
