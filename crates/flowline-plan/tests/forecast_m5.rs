//! The automatic forecast on ten real daily series of the M5 competition (Walmart unit sales,
//! 1,913 days each), against the seasonal naive method.
//!
//! Skipped, with a message, when `../shared/data/m5/sales_train_validation_10rows.csv` (beside
//! the repository) is absent.

use std::path::PathBuf;
use std::time::Instant;

use flowline_plan::forecast::{self, Model, Options, accuracy};

/// Days held out and forecast, as in the competition.
const HORIZON: usize = 28;

/// Series of the file: id and daily sales.
type Series = Vec<(String, Vec<f64>)>;

/// The file's series: id and daily sales (the columns from `d_1` on). `None`, with a message,
/// when the file is absent; an error when it does not read as expected.
fn read() -> Option<Result<Series, String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/m5/sales_train_validation_10rows.csv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipped: {} is absent", path.display());
        return None;
    };
    Some(parse(&text))
}

/// The series of the file's text.
fn parse(text: &str) -> Result<Series, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty file")?.split(',').collect();
    let first_day = header
        .iter()
        .position(|column| *column == "d_1")
        .ok_or("no d_1 column")?;
    let mut series = Vec::new();
    for line in lines.filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let sales = fields
            .get(first_day..)
            .ok_or_else(|| format!("short line {line:?}"))?
            .iter()
            .map(|field| {
                field
                    .trim()
                    .parse::<f64>()
                    .map_err(|e| format!("{field:?}: {e}"))
            })
            .collect::<Result<Vec<f64>, String>>()?;
        series.push((fields[0].to_string(), sales));
    }
    Ok(series)
}

#[test]
fn the_automatic_forecast_of_m5_series_beats_seasonal_naive_on_mean_mase() {
    let Some(series) = read() else { return };
    let series = series.unwrap();
    assert_eq!(series.len(), 10);
    let options = Options {
        horizon: HORIZON,
        season_length: 7,
        level: 0.8,
    };
    let mut chosen_scores = Vec::new();
    let mut naive_scores = Vec::new();
    eprintln!(
        "{:<34} {:<12} {:>8} {:>8} {:>9}",
        "series", "model", "MASE", "sNaive", "ms"
    );
    for (id, sales) in &series {
        assert_eq!(sales.len(), 1_913);
        let (train, test) = sales.split_at(sales.len() - HORIZON);
        let history: Vec<Option<f64>> = train.iter().copied().map(Some).collect();
        let started = Instant::now();
        let chosen = forecast::forecast(&history, &options).unwrap();
        let elapsed = started.elapsed();
        let naive = forecast::forecast_with(Model::SeasonalNaive, &history, &options).unwrap();
        let chosen_mase = accuracy::mase(test, &chosen.mean, train, 7).unwrap();
        let naive_mase = accuracy::mase(test, &naive.mean, train, 7).unwrap();
        eprintln!(
            "{:<34} {:<12} {:>8.4} {:>8.4} {:>9.3}",
            id,
            chosen.model.to_string(),
            chosen_mase,
            naive_mase,
            elapsed.as_secs_f64() * 1e3
        );
        chosen_scores.push(chosen_mase);
        naive_scores.push(naive_mase);
    }
    let mean = |scores: &[f64]| scores.iter().sum::<f64>() / scores.len() as f64;
    let better = chosen_scores
        .iter()
        .zip(&naive_scores)
        .filter(|(chosen, naive)| chosen <= naive)
        .count();
    eprintln!(
        "mean MASE: automatic {:.4}, seasonal naive {:.4}; automatic no worse on {better} of 10",
        mean(&chosen_scores),
        mean(&naive_scores)
    );
    // The assertion: the mean MASE over the ten series is no higher than seasonal naive's, and
    // the automatic choice is no worse on at least seven of the ten.
    assert!(mean(&chosen_scores) <= mean(&naive_scores));
    assert!(better >= 7, "no worse on only {better} of 10");
}

#[test]
fn one_full_m5_series_is_forecast_quickly() {
    // Timing only (printed): the full 1,913 days, horizon 28, season 7, best of five runs each.
    let Some(series) = read() else { return };
    let series = series.unwrap();
    let options = Options {
        horizon: HORIZON,
        season_length: 7,
        level: 0.8,
    };
    for (id, sales) in &series {
        let history: Vec<Option<f64>> = sales.iter().copied().map(Some).collect();
        let mut best = f64::INFINITY;
        let mut model = None;
        for _ in 0..5 {
            let started = Instant::now();
            let forecast = forecast::forecast(&history, &options).unwrap();
            best = best.min(started.elapsed().as_secs_f64());
            model = Some(forecast.model);
        }
        eprintln!(
            "{id:<34} {:<12} {:>8.3} ms",
            model.map(|m| m.to_string()).unwrap_or_default(),
            best * 1e3
        );
    }
}
