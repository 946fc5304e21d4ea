//! Charts as inline SVG, drawn on the server.
//!
//! Every chart has labelled axes with their unit, prints its numbers next to the marks, and
//! tells its series apart by fill pattern, marker shape and dash as well as by colour, so it
//! reads in grey scale and to a screen reader (each chart carries a `<title>` and a text
//! description). The patterns are defined once per page ([`pattern_definitions`]).
//!
//! Hand-drawn rather than from a charting crate: the shapes needed are few (sparkline, bars,
//! stacked bars, columns, lines, an UpSet matrix, a Pareto), the markup is small, and no
//! JavaScript or build step is needed to show them.

use super::format::decimal;
use maud::{Markup, html};

/// The fills that tell series apart without colour: solid, hatched, dotted, crossed, ...
pub const FILLS: [&str; 6] = [
    "url(#fill-0)",
    "url(#fill-1)",
    "url(#fill-2)",
    "url(#fill-3)",
    "url(#fill-4)",
    "url(#fill-5)",
];

/// How much larger than its drawing units a chart is shown (its text is drawn at 10–11 units).
const SCALE: f64 = 1.3;

/// Dash patterns for lines, in the same order.
const DASHES: [&str; 6] = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4"];

/// The SVG `<defs>` of the fill patterns, placed once at the top of each page.
pub fn pattern_definitions() -> Markup {
    html! {
        svg class="defs" width="0" height="0" aria-hidden="true" focusable="false" {
            defs {
                pattern id="fill-0" width="6" height="6" patternUnits="userSpaceOnUse" {
                    rect width="6" height="6" class="s0" {}
                }
                pattern id="fill-1" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                    rect width="6" height="6" class="s1" {}
                    line x1="0" y1="0" x2="0" y2="6" class="hatch" {}
                }
                pattern id="fill-2" width="5" height="5" patternUnits="userSpaceOnUse" {
                    rect width="5" height="5" class="s2" {}
                    circle cx="2.5" cy="2.5" r="1.1" class="dot" {}
                }
                pattern id="fill-3" width="6" height="6" patternUnits="userSpaceOnUse" {
                    rect width="6" height="6" class="s3" {}
                    path d="M0 0L6 6M6 0L0 6" class="hatch" {}
                }
                pattern id="fill-4" width="6" height="6" patternUnits="userSpaceOnUse" {
                    rect width="6" height="6" class="s4" {}
                    line x1="0" y1="3" x2="6" y2="3" class="hatch" {}
                }
                pattern id="fill-5" width="6" height="6" patternUnits="userSpaceOnUse" {
                    rect width="6" height="6" class="s5" {}
                    line x1="3" y1="0" x2="3" y2="6" class="hatch" {}
                }
            }
        }
    }
}

/// A round step for an axis from 0 to at least `max` in about `ticks` steps.
fn nice_step(max: f64, ticks: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let raw = max / ticks;
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 2.5 {
        2.5
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// Axis bounds and ticks covering `[low, high]` (zero always included).
fn axis(low: f64, high: f64) -> (f64, f64, Vec<f64>) {
    let low = low.min(0.0);
    let high = high.max(0.0);
    let span = (high - low).max(f64::EPSILON);
    let step = nice_step(span, 4.0);
    let start = (low / step).floor() * step;
    let end = ((high / step).ceil() * step).max(start + step);
    let mut ticks = Vec::new();
    let mut tick = start;
    while tick <= end + step / 2.0 && ticks.len() < 20 {
        ticks.push(tick);
        tick += step;
    }
    (start, end, ticks)
}

/// A tick label: whole numbers without decimals.
fn tick_label(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 && value.abs() < 1e15 {
        super::format::grouped(value.round() as i128)
    } else {
        decimal(value)
    }
}

/// A trend line of one value per period, oldest first: the periods with no data are gaps. The
/// lowest and highest values are printed at the left axis.
pub fn sparkline(title: &str, points: &[Option<f64>], unit: &str) -> Markup {
    let (width, height, left, pad) = (180.0, 44.0, 40.0, 6.0);
    let known: Vec<f64> = points.iter().flatten().copied().collect();
    let (low, high) = known
        .iter()
        .fold((f64::MAX, f64::MIN), |(low, high), value| {
            (low.min(*value), high.max(*value))
        });
    let description = if known.is_empty() {
        format!("{title}: no data in the last {} periods", points.len())
    } else {
        format!(
            "{title}, last {} periods: from {} to {} {unit}",
            points.len(),
            decimal(low),
            decimal(high)
        )
    };
    let span = if known.is_empty() {
        1.0
    } else {
        (high - low).max(f64::EPSILON)
    };
    let step = if points.len() > 1 {
        (width - left - pad) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let x = |index: usize| left + step * index as f64;
    let y = |value: f64| pad + (height - 2.0 * pad) * (1.0 - (value - low) / span);
    let mut path = String::new();
    let mut pen_down = false;
    for (index, point) in points.iter().enumerate() {
        match point {
            Some(value) => {
                let command = if pen_down { 'L' } else { 'M' };
                path.push_str(&format!("{command}{:.1} {:.1} ", x(index), y(*value)));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    html! {
        svg class="sparkline" viewBox={"0 0 " (width) " " (height)} width=(width) height=(height) role="img" aria-label=(description) {
            title { (description) }
            line class="axis" x1=(left - 2.0) y1=(pad) x2=(left - 2.0) y2=(height - pad) {}
            line class="axis" x1=(left - 2.0) y1=(height - pad) x2=(width - pad) y2=(height - pad) {}
            @if !known.is_empty() {
                text class="tick" x=(left - 5.0) y=(pad + 4.0) text-anchor="end" { (short(high)) }
                text class="tick" x=(left - 5.0) y=(height - pad) text-anchor="end" { (short(low)) }
                path class="trend" d=(path) {}
                @for (index, point) in points.iter().enumerate() {
                    @if let Some(value) = point {
                        circle class={ @if index + 1 == points.len() { "last" } @else { "point" } } cx=(format!("{:.1}", x(index))) cy=(format!("{:.1}", y(*value))) r=(if index + 1 == points.len() { 3.0 } else { 1.6 }) {}
                    }
                }
            } @else {
                text class="tick" x=(left + 4.0) y=(height / 2.0 + 4.0) { "no data" }
            }
        }
    }
}

/// The parts of a stacked bar that are positive, each with where it starts.
fn segments(parts: &[f64]) -> Vec<(usize, f64, f64)> {
    let mut start = 0.0;
    let mut placed = Vec::new();
    for (part, value) in parts.iter().enumerate() {
        let value = value.max(0.0);
        if value > 0.0 {
            placed.push((part, start, value));
            start += value;
        }
    }
    placed
}

/// An SVG path through the known values, lifting the pen over gaps.
fn line_path(values: &[Option<f64>], x: &impl Fn(usize) -> f64, y: &impl Fn(f64) -> f64) -> String {
    let mut path = String::new();
    let mut down = false;
    for (index, value) in values.iter().enumerate() {
        match value {
            Some(value) => {
                let command = if down { 'L' } else { 'M' };
                path.push_str(&format!("{command}{:.1} {:.1} ", x(index), y(*value)));
                down = true;
            }
            None => down = false,
        }
    }
    path
}

/// A compact number for small axes: 1.2k, 3.4M.
fn short(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if magnitude >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if magnitude >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// One bar of a bar chart.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Its label.
    pub label: String,
    /// Its length, in the chart's unit.
    pub value: f64,
    /// The text printed after it (the value with its terms).
    pub note: String,
    /// Where clicking it leads.
    pub href: Option<String>,
}

/// Horizontal bars with the value printed after each and a labelled axis in `unit`.
pub fn bars(title: &str, rows: &[Bar], unit: &str) -> Markup {
    let label_width = 250.0;
    let note_width = 230.0;
    let plot = 360.0;
    let row = 22.0;
    let top = 8.0;
    let height = top + row * rows.len() as f64 + 34.0;
    let width = label_width + plot + note_width;
    let (low, high, ticks) = axis(
        rows.iter().map(|bar| bar.value).fold(0.0, f64::min),
        rows.iter().map(|bar| bar.value).fold(0.0, f64::max),
    );
    let x = |value: f64| label_width + plot * (value - low) / (high - low);
    let axis_y = top + row * rows.len() as f64;
    html! {
        figure class="chart" {
            svg viewBox={"0 0 " (width) " " (height)} width=(width * SCALE) height=(height * SCALE) role="img" aria-label=(title) {
                title { (title) }
                @for tick in &ticks {
                    line class="grid" x1=(x(*tick)) y1=(top) x2=(x(*tick)) y2=(axis_y) {}
                    text class="tick" x=(x(*tick)) y=(axis_y + 14.0) text-anchor="middle" { (tick_label(*tick)) }
                }
                text class="axis-label" x=(label_width + plot / 2.0) y=(axis_y + 30.0) text-anchor="middle" { (unit) }
                line class="axis" x1=(x(0.0)) y1=(top) x2=(x(0.0)) y2=(axis_y) {}
                line class="axis" x1=(label_width) y1=(axis_y) x2=(label_width + plot) y2=(axis_y) {}
                @for (index, bar) in rows.iter().enumerate() {
                    @let y = top + row * index as f64;
                    @let start = x(bar.value.min(0.0));
                    @let end = x(bar.value.max(0.0));
                    g class="bar" {
                        title { (bar.label) ": " (bar.note) }
                        text class="label" x=(label_width - 6.0) y=(y + row / 2.0 + 4.0) text-anchor="end" { (clip(&bar.label, 38)) }
                        @if let Some(href) = &bar.href {
                            a href=(href) {
                                rect x=(start) y=(y + 3.0) width=((end - start).max(1.0)) height=(row - 6.0) fill=(FILLS[0]) class="mark" {}
                            }
                        } @else {
                            rect x=(start) y=(y + 3.0) width=((end - start).max(1.0)) height=(row - 6.0) fill=(FILLS[0]) class="mark" {}
                        }
                        text class="value" x=(label_width + plot + 6.0) y=(y + row / 2.0 + 4.0) { (bar.note) }
                    }
                }
            }
        }
    }
}

fn clip(text: &str, characters: usize) -> String {
    if text.chars().count() <= characters {
        return text.to_string();
    }
    let mut clipped: String = text.chars().take(characters - 1).collect();
    clipped.push('…');
    clipped
}

/// A legend entry: the fill or line of series `index` and its name.
fn legend(names: &[String], lines: bool) -> Markup {
    html! {
        ul class="legend" {
            @for (index, name) in names.iter().enumerate() {
                li {
                    svg width="28" height="12" aria-hidden="true" {
                        @if lines {
                            line x1="1" y1="6" x2="27" y2="6" class={"series s" (index % 6)} stroke-dasharray=(DASHES[index % 6]) {}
                            (marker(index, 14.0, 6.0))
                        } @else {
                            rect x="1" y="1" width="26" height="10" fill=(FILLS[index % 6]) class="mark" {}
                        }
                    }
                    " " (name)
                }
            }
        }
    }
}

/// The marker of series `index`: circle, square, triangle, diamond, cross, bar.
fn marker(index: usize, x: f64, y: f64) -> Markup {
    let class = format!("marker s{}", index % 6);
    match index % 6 {
        0 => html! { circle class=(class) cx=(x) cy=(y) r="3" {} },
        1 => html! { rect class=(class) x=(x - 3.0) y=(y - 3.0) width="6" height="6" {} },
        2 => {
            html! { path class=(class) d=(format!("M{x} {} L{} {} L{} {} Z", y - 3.5, x + 3.5, y + 3.0, x - 3.5, y + 3.0)) {} }
        }
        3 => {
            html! { path class=(class) d=(format!("M{x} {} L{} {y} L{x} {} L{} {y} Z", y - 4.0, x + 4.0, y + 4.0, x - 4.0)) {} }
        }
        4 => {
            html! { path class=(class) d=(format!("M{} {} L{} {} M{} {} L{} {}", x - 3.0, y - 3.0, x + 3.0, y + 3.0, x + 3.0, y - 3.0, x - 3.0, y + 3.0)) {} }
        }
        _ => html! { rect class=(class) x=(x - 1.5) y=(y - 4.0) width="3" height="8" {} },
    }
}

/// One row of a stacked bar chart.
#[derive(Debug, Clone)]
pub struct Stack {
    /// Its label.
    pub label: String,
    /// The parts, in the order of the chart's part names.
    pub parts: Vec<f64>,
}

/// Horizontal stacked bars: each row's parts side by side, told apart by fill pattern, with the
/// total after each row.
pub fn stacked(title: &str, names: &[String], rows: &[Stack], unit: &str) -> Markup {
    let label_width = 160.0;
    let plot = 420.0;
    let row = 24.0;
    let top = 8.0;
    let width = label_width + plot + 110.0;
    let height = top + row * rows.len() as f64 + 34.0;
    let totals: Vec<f64> = rows
        .iter()
        .map(|stack| stack.parts.iter().map(|part| part.max(0.0)).sum())
        .collect();
    let (_, high, ticks) = axis(0.0, totals.iter().copied().fold(0.0, f64::max));
    let x = |value: f64| label_width + plot * value / high;
    let axis_y = top + row * rows.len() as f64;
    html! {
        figure class="chart" {
            svg viewBox={"0 0 " (width) " " (height)} width=(width * SCALE) height=(height * SCALE) role="img" aria-label=(title) {
                title { (title) }
                @for tick in &ticks {
                    line class="grid" x1=(x(*tick)) y1=(top) x2=(x(*tick)) y2=(axis_y) {}
                    text class="tick" x=(x(*tick)) y=(axis_y + 14.0) text-anchor="middle" { (tick_label(*tick)) }
                }
                text class="axis-label" x=(label_width + plot / 2.0) y=(axis_y + 30.0) text-anchor="middle" { (unit) }
                line class="axis" x1=(label_width) y1=(axis_y) x2=(label_width + plot) y2=(axis_y) {}
                @for (index, stack) in rows.iter().enumerate() {
                    @let y = top + row * index as f64;
                    text class="label" x=(label_width - 6.0) y=(y + row / 2.0 + 4.0) text-anchor="end" { (clip(&stack.label, 24)) }
                    @for (part, start, value) in segments(&stack.parts) {
                        rect x=(x(start)) y=(y + 3.0) width=(x(start + value) - x(start)) height=(row - 6.0) fill=(FILLS[part % 6]) class="mark" {
                            title { (stack.label) ", " (names.get(part).map(String::as_str).unwrap_or("")) ": " (decimal(value)) " " (unit) }
                        }
                    }
                    text class="value" x=(x(totals[index]) + 6.0) y=(y + row / 2.0 + 4.0) { (decimal(totals[index])) }
                }
            }
            figcaption { (legend(names, false)) }
        }
    }
}

/// One series of a line chart.
#[derive(Debug, Clone)]
pub struct Line {
    /// Its name.
    pub name: String,
    /// One value per x label; `None` is a gap.
    pub values: Vec<Option<f64>>,
}

/// Lines over labelled periods, each series with its own dash and marker. Leading periods
/// where no series has a value are left out (a history shorter than the window).
pub fn lines(title: &str, labels: &[String], series: &[Line], unit: &str) -> Markup {
    let first = (0..labels.len())
        .find(|index| {
            series
                .iter()
                .any(|line| line.values.get(*index).is_some_and(Option::is_some))
        })
        .unwrap_or(0);
    let labels = &labels[first..];
    let trimmed: Vec<Line> = series
        .iter()
        .map(|line| Line {
            name: line.name.clone(),
            values: line.values.iter().skip(first).copied().collect(),
        })
        .collect();
    let series = trimmed.as_slice();
    let left = 64.0;
    let plot_width = 560.0;
    let plot_height = 180.0;
    let top = 10.0;
    let width = left + plot_width + 36.0;
    let height = top + plot_height + 44.0;
    let values: Vec<f64> = series
        .iter()
        .flat_map(|line| line.values.iter().flatten().copied())
        .collect();
    let (low, high, ticks) = axis(
        values.iter().copied().fold(0.0, f64::min),
        values.iter().copied().fold(0.0, f64::max),
    );
    let step = if labels.len() > 1 {
        plot_width / (labels.len() - 1) as f64
    } else {
        0.0
    };
    let x = |index: usize| left + step * index as f64;
    let y = |value: f64| top + plot_height * (1.0 - (value - low) / (high - low));
    let names: Vec<String> = series.iter().map(|line| line.name.clone()).collect();
    let every = (labels.len() / 8).max(1);
    html! {
        figure class="chart" {
            svg viewBox={"0 0 " (width) " " (height)} width=(width * SCALE) height=(height * SCALE) role="img" aria-label=(title) {
                title { (title) }
                @for tick in &ticks {
                    line class="grid" x1=(left) y1=(y(*tick)) x2=(left + plot_width) y2=(y(*tick)) {}
                    text class="tick" x=(left - 6.0) y=(y(*tick) + 4.0) text-anchor="end" { (tick_label(*tick)) }
                }
                text class="axis-label" x="12" y=(top + plot_height / 2.0) transform=(format!("rotate(-90 12 {})", top + plot_height / 2.0)) text-anchor="middle" { (unit) }
                line class="axis" x1=(left) y1=(top) x2=(left) y2=(top + plot_height) {}
                line class="axis" x1=(left) y1=(y(0.0)) x2=(left + plot_width) y2=(y(0.0)) {}
                @for (index, label) in labels.iter().enumerate() {
                    @if index % every == 0 || index + 1 == labels.len() {
                        text class="tick" x=(x(index)) y=(top + plot_height + 16.0) text-anchor="middle" { (label) }
                    }
                }
                @for (number, line) in series.iter().enumerate() {
                    @let path = line_path(&line.values, &x, &y);
                    path class={"series s" (number % 6)} d=(path) stroke-dasharray=(DASHES[number % 6]) {}
                    @for (index, value) in line.values.iter().enumerate() {
                        @if let Some(value) = value {
                            g { title { (line.name) ", " (labels.get(index).map(String::as_str).unwrap_or("")) ": " (decimal(*value)) " " (unit) }
                                (marker(number, x(index), y(*value))) }
                        }
                    }
                }
            }
            figcaption { (legend(&names, true)) }
        }
    }
}

/// What a band chart draws over its periods, oldest first: what happened up to now, the
/// forecast from then on with its interval as a shaded band, and forecasts made earlier drawn
/// over the periods they covered, so a reader sees how they did.
#[derive(Debug, Clone, Default)]
pub struct Band {
    /// Each period's name, for the tooltips (`2025-06-02`).
    pub labels: Vec<String>,
    /// The periods named under the axis, with their names (`Jun 2`).
    pub ticks: Vec<(usize, String)>,
    /// What happened each period; `None` where it is not known yet.
    pub actual: Vec<Option<f64>>,
    /// The periods whose actual a stock-out held down.
    pub censored: Vec<bool>,
    /// The periods a promotion lifted.
    pub promoted: Vec<bool>,
    /// The forecast each period, `(expected, lower, upper)`; `None` before it starts.
    pub forecast: Vec<Option<(f64, f64, f64)>>,
    /// The forecast's name in the legend (its model).
    pub forecast_name: String,
    /// The interval's name in the legend (`80 % interval`).
    pub interval_name: String,
    /// Forecasts made earlier, each one value per period (`None` outside the days it covered).
    pub earlier: Vec<Line>,
}

/// The SVG path of a band: along `upper` over each run of periods with a forecast, back along
/// `lower`, closed.
fn band_path(
    forecast: &[Option<(f64, f64, f64)>],
    x: &impl Fn(usize) -> f64,
    y: &impl Fn(f64) -> f64,
) -> String {
    let mut path = String::new();
    let mut index = 0;
    while index < forecast.len() {
        if forecast[index].is_none() {
            index += 1;
            continue;
        }
        let start = index;
        while index < forecast.len() && forecast[index].is_some() {
            index += 1;
        }
        let run: Vec<(usize, f64, f64)> = (start..index)
            .filter_map(|at| forecast[at].map(|(_, lower, upper)| (at, lower, upper)))
            .collect();
        for (step, (at, _, upper)) in run.iter().enumerate() {
            let command = if step == 0 { 'M' } else { 'L' };
            path.push_str(&format!("{command}{:.1} {:.1} ", x(*at), y(*upper)));
        }
        for (at, lower, _) in run.iter().rev() {
            path.push_str(&format!("L{:.1} {:.1} ", x(*at), y(*lower)));
        }
        path.push_str("Z ");
    }
    path
}

/// A forecast against what happened: the actuals as a solid line (stock-out periods marked
/// with a hollow square, promotion periods with a triangle), then the forecast as a dashed
/// line inside its interval, shaded, and forecasts made earlier as thinner dashed lines over
/// the actuals they covered. A dashed rule separates the past from the forecast. Every point
/// carries its value in a tooltip and in `data-` attributes; the last actual is printed.
pub fn band(title: &str, chart: &Band, unit: &str) -> Markup {
    let periods = chart.labels.len();
    let left = 64.0;
    let plot_width = 640.0;
    let plot_height = 200.0;
    let top = 12.0;
    let width = left + plot_width + 40.0;
    let height = top + plot_height + 40.0;
    let values = chart
        .actual
        .iter()
        .flatten()
        .copied()
        .chain(
            chart
                .forecast
                .iter()
                .flatten()
                .flat_map(|(m, l, u)| [*m, *l, *u]),
        )
        .chain(
            chart
                .earlier
                .iter()
                .flat_map(|line| line.values.iter().flatten().copied()),
        );
    let (low, high) = values.fold((0.0_f64, 0.0_f64), |(low, high), value| {
        (low.min(value), high.max(value))
    });
    let (low, high, ticks) = axis(low, high);
    let step = if periods > 1 {
        plot_width / (periods - 1) as f64
    } else {
        0.0
    };
    let x = |index: usize| left + step * index as f64;
    let y = |value: f64| top + plot_height * (1.0 - (value - low) / (high - low));
    let label = |index: usize| chart.labels.get(index).map_or("", String::as_str);
    let flag = |flags: &[bool], index: usize| flags.get(index).copied().unwrap_or(false);
    let mean: Vec<Option<f64>> = chart
        .forecast
        .iter()
        .map(|f| f.map(|(m, _, _)| m))
        .collect();
    let lower: Vec<Option<f64>> = chart
        .forecast
        .iter()
        .map(|f| f.map(|(_, l, _)| l))
        .collect();
    let upper: Vec<Option<f64>> = chart
        .forecast
        .iter()
        .map(|f| f.map(|(_, _, u)| u))
        .collect();
    let first_forecast = chart.forecast.iter().position(Option::is_some);
    let last_actual = chart.actual.iter().rposition(Option::is_some);
    let known: Vec<f64> = chart.actual.iter().flatten().copied().collect();
    let expected: Vec<f64> = mean.iter().flatten().copied().collect();
    let mut description = format!("{title}.");
    if let (Some(first), Some(last)) = (chart.actual.iter().position(Option::is_some), last_actual)
    {
        description.push_str(&format!(
            " {} to {}: {} {unit} in all.",
            label(first),
            label(last),
            decimal(known.iter().sum())
        ));
    }
    if let (Some(first), Some(last)) = (
        first_forecast,
        chart.forecast.iter().rposition(Option::is_some),
    ) {
        description.push_str(&format!(
            " Forecast {} to {} ({}): {} {unit} expected.",
            label(first),
            label(last),
            chart.forecast_name,
            decimal(expected.iter().sum())
        ));
    }
    let has_censored = chart.censored.iter().any(|c| *c);
    let has_promoted = chart.promoted.iter().any(|p| *p);
    // Series styles: actuals 0 (solid, circles), forecast 1 (dashed, squares), earlier
    // forecasts 3 on (diamonds, crosses, bars), so no marker is the promotion's triangle.
    let earlier_style = |number: usize| (number + 3) % 6;
    html! {
        figure class="chart band-chart" {
            svg viewBox={"0 0 " (width) " " (height)} width=(width * SCALE) height=(height * SCALE) role="img" aria-label=(description) {
                title { (description) }
                @for tick in &ticks {
                    line class="grid" x1=(left) y1=(y(*tick)) x2=(left + plot_width) y2=(y(*tick)) {}
                    text class="tick" x=(left - 6.0) y=(y(*tick) + 4.0) text-anchor="end" { (tick_label(*tick)) }
                }
                text class="axis-label" x="12" y=(top + plot_height / 2.0) transform=(format!("rotate(-90 12 {})", top + plot_height / 2.0)) text-anchor="middle" { (unit) }
                line class="axis" x1=(left) y1=(top) x2=(left) y2=(top + plot_height) {}
                line class="axis" x1=(left) y1=(y(low.max(0.0).min(high))) x2=(left + plot_width) y2=(y(low.max(0.0).min(high))) {}
                @for (index, name) in &chart.ticks {
                    line class="axis" x1=(x(*index)) y1=(top + plot_height) x2=(x(*index)) y2=(top + plot_height + 4.0) {}
                    text class="tick" x=(x(*index)) y=(top + plot_height + 16.0) text-anchor="middle" { (name) }
                }
                path class="band" d=(band_path(&chart.forecast, &x, &y)) {}
                path class="band-edge" d=(line_path(&upper, &x, &y)) {}
                path class="band-edge" d=(line_path(&lower, &x, &y)) {}
                @if let Some(first) = first_forecast.filter(|first| *first > 0) {
                    @let rule = (x(first - 1) + x(first)) / 2.0;
                    line class="now" x1=(format!("{rule:.1}")) y1=(top) x2=(format!("{rule:.1}")) y2=(top + plot_height) {}
                    text class="tick" x=(rule - 4.0) y=(top + 10.0) text-anchor="end" { "← ordered" }
                    text class="tick" x=(rule + 4.0) y=(top + 10.0) { "forecast →" }
                }
                @for (number, line) in chart.earlier.iter().enumerate() {
                    @let style = earlier_style(number);
                    path class={"series earlier s" (style)} d=(line_path(&line.values, &x, &y)) stroke-dasharray=(DASHES[style]) {}
                }
                path class="series s0" d=(line_path(&chart.actual, &x, &y)) {}
                path class="series s1" d=(line_path(&mean, &x, &y)) stroke-dasharray=(DASHES[1]) {}
                @for (number, line) in chart.earlier.iter().enumerate() {
                    @for (index, value) in line.values.iter().enumerate() {
                        @if let Some(value) = value {
                            g class="earlier-point" data-series=(line.name) data-day=(label(index)) data-value=(format!("{value:.3}")) {
                                title { (line.name) ", " (label(index)) ": " (decimal(*value)) " " (unit) }
                                (marker(earlier_style(number), x(index), y(*value)))
                            }
                        }
                    }
                }
                @for (index, value) in chart.actual.iter().enumerate() {
                    @if let Some(value) = value {
                        @let censored = flag(&chart.censored, index);
                        @let promoted = flag(&chart.promoted, index);
                        g class="actual" data-day=(label(index)) data-value=(format!("{value:.3}")) data-censored=[censored.then_some("true")] data-promoted=[promoted.then_some("true")] {
                            title {
                                (label(index)) ": " (decimal(*value)) " " (unit)
                                @if censored { " (stock-out: demand held down)" }
                                @if promoted { " (promotion)" }
                            }
                            @if censored {
                                rect class="censored" x=(x(index) - 3.5) y=(y(*value) - 3.5) width="7" height="7" {}
                            } @else if promoted {
                                (promotion_marker(x(index), y(*value)))
                            } @else {
                                circle class="marker s0" cx=(x(index)) cy=(y(*value)) r="2.2" {}
                            }
                        }
                    }
                }
                @if let Some(last) = last_actual {
                    @if let Some(value) = chart.actual[last] {
                        text class="value halo" x=(x(last) - 4.0) y=(y(value) - 7.0) text-anchor="end" { (tick_label(value)) }
                    }
                }
                @for (index, forecast) in chart.forecast.iter().enumerate() {
                    @if let Some((mean, lower, upper)) = forecast {
                        g class="forecast" data-day=(label(index)) data-mean=(format!("{mean:.3}")) data-lower=(format!("{lower:.3}")) data-upper=(format!("{upper:.3}")) {
                            title { (label(index)) ": " (decimal(*mean)) " " (unit) " expected, " (chart.interval_name) " " (decimal(*lower)) " to " (decimal(*upper)) }
                            (marker(1, x(index), y(*mean)))
                        }
                    }
                }
            }
            figcaption {
                ul class="legend" {
                    li {
                        svg width="28" height="12" aria-hidden="true" {
                            line x1="1" y1="6" x2="27" y2="6" class="series s0" {}
                            circle class="marker s0" cx="14" cy="6" r="2.2" {}
                        }
                        " " (unit) " ordered"
                    }
                    li {
                        svg width="28" height="12" aria-hidden="true" {
                            line x1="1" y1="6" x2="27" y2="6" class="series s1" stroke-dasharray=(DASHES[1]) {}
                            (marker(1, 14.0, 6.0))
                        }
                        " forecast: " (chart.forecast_name)
                    }
                    li {
                        svg width="28" height="12" aria-hidden="true" {
                            rect x="1" y="1" width="26" height="10" class="band" {}
                            line x1="1" y1="1.5" x2="27" y2="1.5" class="band-edge" {}
                            line x1="1" y1="10.5" x2="27" y2="10.5" class="band-edge" {}
                        }
                        " " (chart.interval_name)
                    }
                    @for (number, line) in chart.earlier.iter().enumerate() {
                        @let style = earlier_style(number);
                        li {
                            svg width="28" height="12" aria-hidden="true" {
                                line x1="1" y1="6" x2="27" y2="6" class={"series earlier s" (style)} stroke-dasharray=(DASHES[style]) {}
                                (marker(style, 14.0, 6.0))
                            }
                            " " (line.name)
                        }
                    }
                    @if has_censored {
                        li {
                            svg width="28" height="12" aria-hidden="true" { rect class="censored" x="10.5" y="2.5" width="7" height="7" {} }
                            " stock-out day"
                        }
                    }
                    @if has_promoted {
                        li {
                            svg width="28" height="12" aria-hidden="true" { (promotion_marker(14.0, 6.0)) }
                            " promotion day"
                        }
                    }
                }
            }
        }
    }
}

/// The mark of a promotion day: a triangle pointing up.
fn promotion_marker(x: f64, y: f64) -> Markup {
    html! { path class="promoted" d=(format!("M{x:.1} {:.1} L{:.1} {:.1} L{:.1} {:.1} Z", y - 4.5, x + 4.5, y + 3.5, x - 4.5, y + 3.5)) {} }
}

/// Vertical columns over labelled bins (a histogram or a count per category), the count over
/// each column.
pub fn columns(
    title: &str,
    labels: &[String],
    counts: &[f64],
    x_unit: &str,
    y_unit: &str,
) -> Markup {
    let left = 56.0;
    let plot_width = 560.0;
    let plot_height = 160.0;
    let top = 16.0;
    let width = left + plot_width + 16.0;
    let height = top + plot_height + 48.0;
    let (_, high, ticks) = axis(0.0, counts.iter().copied().fold(0.0, f64::max));
    let slot = plot_width / counts.len().max(1) as f64;
    let y = |value: f64| top + plot_height * (1.0 - value / high);
    let every = (labels.len() / 10).max(1);
    html! {
        figure class="chart" {
            svg viewBox={"0 0 " (width) " " (height)} width=(width * SCALE) height=(height * SCALE) role="img" aria-label=(title) {
                title { (title) }
                @for tick in &ticks {
                    line class="grid" x1=(left) y1=(y(*tick)) x2=(left + plot_width) y2=(y(*tick)) {}
                    text class="tick" x=(left - 6.0) y=(y(*tick) + 4.0) text-anchor="end" { (tick_label(*tick)) }
                }
                text class="axis-label" x="12" y=(top + plot_height / 2.0) transform=(format!("rotate(-90 12 {})", top + plot_height / 2.0)) text-anchor="middle" { (y_unit) }
                line class="axis" x1=(left) y1=(top) x2=(left) y2=(top + plot_height) {}
                line class="axis" x1=(left) y1=(top + plot_height) x2=(left + plot_width) y2=(top + plot_height) {}
                @for (index, count) in counts.iter().enumerate() {
                    @let x = left + slot * index as f64;
                    g {
                        title { (labels.get(index).map(String::as_str).unwrap_or("")) ": " (tick_label(*count)) " " (y_unit) }
                        rect class="mark" fill=(FILLS[0]) x=(x + 1.0) y=(y(*count)) width=((slot - 2.0).max(1.0)) height=(top + plot_height - y(*count)) {}
                        @if *count > 0.0 && slot >= 18.0 {
                            text class="value" x=(x + slot / 2.0) y=(y(*count) - 3.0) text-anchor="middle" { (tick_label(*count)) }
                        }
                    }
                    @if index % every == 0 {
                        text class="tick" x=(x + slot / 2.0) y=(top + plot_height + 14.0) text-anchor="middle" { (labels.get(index).map(String::as_str).unwrap_or("")) }
                    }
                }
                text class="axis-label" x=(left + plot_width / 2.0) y=(top + plot_height + 36.0) text-anchor="middle" { (x_unit) }
            }
        }
    }
}

/// One intersection of an UpSet chart: the exact set of failed components and its orders.
#[derive(Debug, Clone)]
pub struct Intersection {
    /// Which sets it belongs to (bit `i` for set `i`).
    pub bits: u8,
    /// How many.
    pub count: i64,
    /// Where clicking its column leads.
    pub href: String,
}

/// An UpSet chart: one column per exact combination of failures (disjoint, so the columns add
/// up to the total), its size as a bar, and under it a matrix with a filled dot for each
/// component in the combination; beside the matrix, each component's total.
pub fn upset(title: &str, sets: &[&str], intersections: &[Intersection], unit: &str) -> Markup {
    let left = 200.0;
    let column = 56.0;
    let bar_height = 150.0;
    let top = 18.0;
    let dot_row = 22.0;
    let width = left + column * intersections.len().max(1) as f64 + 20.0;
    let matrix_top = top + bar_height + 30.0;
    let height = matrix_top + dot_row * sets.len() as f64 + 10.0;
    let (_, high, ticks) = axis(
        0.0,
        intersections
            .iter()
            .map(|cell| cell.count as f64)
            .fold(0.0, f64::max),
    );
    let y = |value: f64| top + bar_height * (1.0 - value / high);
    let set_totals: Vec<i64> = (0..sets.len())
        .map(|set| {
            intersections
                .iter()
                .filter(|cell| cell.bits & (1 << set) != 0)
                .map(|cell| cell.count)
                .sum()
        })
        .collect();
    html! {
        figure class="chart upset" {
            svg viewBox={"0 0 " (width) " " (height)} width=(width * SCALE) height=(height * SCALE) role="img" aria-label=(title) {
                title { (title) }
                @for tick in &ticks {
                    line class="grid" x1=(left) y1=(y(*tick)) x2=(width - 20.0) y2=(y(*tick)) {}
                    text class="tick" x=(left - 6.0) y=(y(*tick) + 4.0) text-anchor="end" { (tick_label(*tick)) }
                }
                text class="axis-label" x=(left - 40.0) y=(top + bar_height / 2.0) text-anchor="end" { (unit) }
                line class="axis" x1=(left) y1=(top) x2=(left) y2=(top + bar_height) {}
                line class="axis" x1=(left) y1=(top + bar_height) x2=(width - 20.0) y2=(top + bar_height) {}
                @for (set, name) in sets.iter().enumerate() {
                    @let row_y = matrix_top + dot_row * set as f64 + dot_row / 2.0;
                    text class="label" x=(left - 8.0) y=(row_y + 4.0) text-anchor="end" { (name) " (" (set_totals[set]) ")" }
                    line class="grid" x1=(left) y1=(row_y) x2=(width - 20.0) y2=(row_y) {}
                }
                @for (index, cell) in intersections.iter().enumerate() {
                    @let x = left + column * index as f64 + column / 2.0;
                    a href=(cell.href) class="intersection" {
                        title { (cell.count) " orders failed exactly: " (members(sets, cell.bits)) }
                        rect class="mark" fill=(FILLS[0]) x=(x - column / 2.0 + 8.0) y=(y(cell.count as f64)) width=(column - 16.0) height=(top + bar_height - y(cell.count as f64)) {}
                        text class="value" x=(x) y=(y(cell.count as f64) - 4.0) text-anchor="middle" { (cell.count) }
                        @let rows: Vec<f64> = (0..sets.len()).filter(|set| cell.bits & (1 << set) != 0).map(|set| matrix_top + dot_row * set as f64 + dot_row / 2.0).collect();
                        @if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
                            line class="link" x1=(x) y1=(*first) x2=(x) y2=(*last) {}
                        }
                        @for set in 0..sets.len() {
                            @let row_y = matrix_top + dot_row * set as f64 + dot_row / 2.0;
                            @if cell.bits & (1 << set) != 0 {
                                circle class="in" cx=(x) cy=(row_y) r="6" {}
                            } @else {
                                circle class="out" cx=(x) cy=(row_y) r="4" {}
                            }
                        }
                    }
                }
            }
        }
    }
}

fn members(sets: &[&str], bits: u8) -> String {
    sets.iter()
        .enumerate()
        .filter(|(set, _)| bits & (1 << set) != 0)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A Pareto chart: bars by count, most first, and the cumulative share as a line with its own
/// axis in percent.
pub fn pareto(title: &str, rows: &[(String, i64)], unit: &str) -> Markup {
    let left = 56.0;
    let plot_width = 540.0;
    let plot_height = 160.0;
    let top = 16.0;
    let width = left + plot_width + 56.0;
    let height = top + plot_height + 70.0;
    let total: i64 = rows.iter().map(|(_, count)| count).sum();
    let (_, high, ticks) = axis(
        0.0,
        rows.iter()
            .map(|(_, count)| *count as f64)
            .fold(0.0, f64::max),
    );
    let slot = plot_width / rows.len().max(1) as f64;
    let y = |value: f64| top + plot_height * (1.0 - value / high);
    let y_share = |share: f64| top + plot_height * (1.0 - share / 100.0);
    let mut running = 0;
    let mut cumulative = Vec::new();
    for (_, count) in rows {
        running += count;
        cumulative.push(if total > 0 {
            running as f64 * 100.0 / total as f64
        } else {
            0.0
        });
    }
    let path: String = cumulative
        .iter()
        .enumerate()
        .map(|(index, share)| {
            format!(
                "{}{:.1} {:.1} ",
                if index == 0 { 'M' } else { 'L' },
                left + slot * index as f64 + slot / 2.0,
                y_share(*share)
            )
        })
        .collect();
    html! {
        figure class="chart" {
            svg viewBox={"0 0 " (width) " " (height)} width=(width * SCALE) height=(height * SCALE) role="img" aria-label=(title) {
                title { (title) }
                @for tick in &ticks {
                    line class="grid" x1=(left) y1=(y(*tick)) x2=(left + plot_width) y2=(y(*tick)) {}
                    text class="tick" x=(left - 6.0) y=(y(*tick) + 4.0) text-anchor="end" { (tick_label(*tick)) }
                }
                @for share in [0.0, 25.0, 50.0, 75.0, 100.0] {
                    text class="tick" x=(left + plot_width + 6.0) y=(y_share(share) + 4.0) { (share) " %" }
                }
                text class="axis-label" x="12" y=(top + plot_height / 2.0) transform=(format!("rotate(-90 12 {})", top + plot_height / 2.0)) text-anchor="middle" { (unit) }
                line class="axis" x1=(left) y1=(top) x2=(left) y2=(top + plot_height) {}
                line class="axis" x1=(left + plot_width) y1=(top) x2=(left + plot_width) y2=(top + plot_height) {}
                line class="axis" x1=(left) y1=(top + plot_height) x2=(left + plot_width) y2=(top + plot_height) {}
                @for (index, (label, count)) in rows.iter().enumerate() {
                    @let x = left + slot * index as f64;
                    g {
                        title { (label) ": " (count) " " (unit) ", cumulative " (decimal(cumulative[index])) " %" }
                        rect class="mark" fill=(FILLS[0]) x=(x + 2.0) y=(y(*count as f64)) width=((slot - 4.0).max(1.0)) height=(top + plot_height - y(*count as f64)) {}
                        text class="value" x=(x + slot / 2.0) y=(y(*count as f64) - 3.0) text-anchor="middle" { (count) }
                        text class="tick" x=(x + slot / 2.0) y=(top + plot_height + 12.0) text-anchor="end" transform=(format!("rotate(-30 {} {})", x + slot / 2.0, top + plot_height + 12.0)) { (clip(label, 20)) }
                    }
                }
                path class="series s1" d=(path) stroke-dasharray="6 3" {}
                @for (index, share) in cumulative.iter().enumerate() {
                    (marker(1, left + slot * index as f64 + slot / 2.0, y_share(*share)))
                }
            }
            figcaption { (legend(&[format!("{unit} (bars, left axis)"), "cumulative share (line, right axis)".to_string()], false)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_cover_the_data_with_round_steps() {
        // 0 to 87 in about 4 steps: 25 is the round step, so 0, 25, 50, 75, 100.
        let (low, high, ticks) = axis(0.0, 87.0);
        assert_eq!((low, high), (0.0, 100.0));
        assert_eq!(ticks, vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        // Negative values take the axis below zero.
        let (low, _, _) = axis(-3.0, 9.0);
        assert!(low <= -3.0);
        // Nothing to show still gives a usable axis.
        let (low, high, _) = axis(0.0, 0.0);
        assert!(high > low);
    }

    #[test]
    fn a_band_chart_draws_the_actuals_then_the_forecast_inside_its_interval() {
        // Four days: 2 and 4 units ordered, then 3 a day forecast, within 1 to 5 and 2 to 6.
        // An earlier forecast said 3 a day for the first two days.
        let chart = Band {
            labels: ["d0", "d1", "d2", "d3"].map(String::from).to_vec(),
            ticks: vec![(0, "d0".into()), (2, "d2".into())],
            actual: vec![Some(2.0), Some(4.0), None, None],
            censored: vec![false, true, false, false],
            promoted: vec![true, false, false, false],
            forecast: vec![None, None, Some((3.0, 1.0, 5.0)), Some((3.0, 2.0, 6.0))],
            forecast_name: "ets(A,N,N)".into(),
            interval_name: "80 % interval".into(),
            earlier: vec![Line {
                name: "published F-1".into(),
                values: vec![Some(3.0), Some(3.0), None, None],
            }],
        };
        let svg = band("MUG", &chart, "units").into_string();
        // The axis runs from 0 to 6 in steps of 2 (6 over about 4 steps is 1.5, rounded up).
        for tick in ["0", "2", "4", "6"] {
            assert!(
                svg.contains(&format!("text-anchor=\"end\">{tick}</text>")),
                "{svg}"
            );
        }
        // x = 64 + 640 / 3 × day: 64.0, 277.3, 490.7, 704.0;
        // y = 12 + 200 × (1 − units / 6): 1 → 178.7, 2 → 145.3, 3 → 112.0, 4 → 78.7, 5 → 45.3,
        // 6 → 12.0.
        assert!(
            svg.contains(r#"class="series s0" d="M64.0 145.3 L277.3 78.7 ""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"d="M490.7 112.0 L704.0 112.0 " stroke-dasharray="6 3""#),
            "{svg}"
        );
        // The band: along the upper bounds (5, 6), back along the lower (2, 1).
        assert!(
            svg.contains(
                r#"class="band" d="M490.7 45.3 L704.0 12.0 L704.0 145.3 L490.7 178.7 Z ""#
            ),
            "{svg}"
        );
        // The earlier forecast over the two days it covered.
        assert!(svg.contains(r#"d="M64.0 112.0 L277.3 112.0 ""#), "{svg}");
        // The rule between past and forecast, halfway between days 1 and 2: (277.3 + 490.7) / 2.
        assert!(svg.contains(r#"class="now" x1="384.0""#), "{svg}");
        // Day 1 was a stock-out, day 0 a promotion; each says so and has its own mark.
        assert!(svg.contains(r#"data-day="d1" data-value="4.000" data-censored="true""#));
        assert!(svg.contains(r#"data-day="d0" data-value="2.000" data-promoted="true""#));
        assert!(
            svg.contains("d1: 4.00 units (stock-out: demand held down)"),
            "{svg}"
        );
        assert!(
            svg.contains(
                r#"data-day="d3" data-mean="3.000" data-lower="2.000" data-upper="6.000""#
            )
        );
        // The legend names the model, the interval, the earlier forecast and both marks.
        for entry in [
            "forecast: ets(A,N,N)",
            "80 % interval",
            "published F-1",
            "stock-out day",
            "promotion day",
        ] {
            assert!(svg.contains(entry), "{entry}: {svg}");
        }
        // The description totals both sides: 2 + 4 ordered, 3 + 3 expected.
        assert!(
            svg.contains(
                "d0 to d1: 6.00 units in all. Forecast d2 to d3 (ets(A,N,N)): 6.00 units expected."
            ),
            "{svg}"
        );
    }

    #[test]
    fn a_column_of_whole_counts_is_labelled_as_a_whole_count() {
        // 5,354 orders in the second band: "1–2: 5,354 orders", not "5,354.00 orders".
        let labels = ["0–1".to_string(), "1–2".to_string()];
        let html = columns("Delivered", &labels, &[624.0, 5354.0], "days", "orders").into_string();
        assert!(html.contains("1–2: 5,354 orders"), "{html}");
        assert!(!html.contains(".00 orders"), "{html}");
    }

    #[test]
    fn an_upset_chart_prints_each_combination_and_each_component_total() {
        let sets = ["in full", "on time"];
        let cells = [
            Intersection {
                bits: 0b10,
                count: 7,
                href: "/a".into(),
            },
            Intersection {
                bits: 0b11,
                count: 2,
                href: "/b".into(),
            },
        ];
        let svg = upset("failures", &sets, &cells, "orders").into_string();
        // On time failed in 7 + 2 = 9 orders, in full in 2.
        assert!(svg.contains("on time (9)"), "{svg}");
        assert!(svg.contains("in full (2)"), "{svg}");
        assert!(svg.contains("2 orders failed exactly: in full + on time"));
    }
}
