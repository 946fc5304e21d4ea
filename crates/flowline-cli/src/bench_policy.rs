//! `flowline bench policy`: the planner's inventory-policy functions beside stockpyl's, on the
//! textbook cases both solve: the values side by side and the time of one call.
//!
//! Each case is one worked example of Snyder & Shen, *Fundamentals of Supply Chain Theory*
//! (as listed in `../shared/data/reference/inventory-policies.md`). Flowline's function runs in
//! a loop in this process until 50 ms have passed; stockpyl's runs under Python's `timeit` in a
//! child (`--python`, the interpreter that has `stockpyl`; it needs numpy below 2, so usually a
//! virtual environment of its own). Both on one core.

use flowline_plan::policy::{self, RqPoissonProblem, RqProblem};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Arguments of `flowline bench policy`.
#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    /// The Python that has stockpyl (`pip install "numpy<2" stockpyl`).
    #[arg(long, default_value = "python3")]
    python: String,
    /// Leave stockpyl out.
    #[arg(long)]
    no_peer: bool,
}

/// One case: its name, what its values are, and Flowline's computation of them (into a buffer
/// the timing loop reuses, so that it times the function and not an allocation).
struct Case {
    name: &'static str,
    values: &'static str,
    ours: fn(&mut Vec<f64>),
}

/// Example 5.1's (r, Q) problem: h 0.225, p 7.5, K 8, λ 1300 a year, τ 150, L one month.
const EXAMPLE_5_1: RqProblem = RqProblem {
    holding_cost: 0.225,
    stockout_cost: 7.5,
    fixed_cost: 8.0,
    demand_rate: 1300.0,
    demand_sd: 150.0,
    lead_time: 1.0 / 12.0,
};

fn cases() -> Vec<Case> {
    fn or_nan<T, const N: usize>(
        out: &mut Vec<f64>,
        result: Result<T, policy::PolicyError>,
        values: impl Fn(T) -> [f64; N],
    ) {
        out.clear();
        match result {
            Ok(found) => out.extend_from_slice(&values(found)),
            Err(_) => out.push(f64::NAN),
        }
    }
    vec![
        Case {
            name: "EOQ 3.1",
            values: "Q, cost",
            ours: |out| {
                or_nan(out, policy::eoq(8.0, 0.225, 1300.0), |r| {
                    [r.quantity, r.cost]
                })
            },
        },
        Case {
            name: "EOQ backorders 3.8",
            values: "Q, x, cost",
            ours: |out| {
                or_nan(
                    out,
                    policy::eoq_with_backorders(8.0, 0.225, 5.0, 1300.0),
                    |r| [r.quantity, r.stockout_fraction, r.cost],
                )
            },
        },
        Case {
            name: "EPQ 3.1",
            values: "Q, cost",
            ours: |out| {
                or_nan(out, policy::epq(8.0, 0.225, 1300.0, 2000.0), |r| {
                    [r.quantity, r.cost]
                })
            },
        },
        Case {
            name: "newsvendor normal 4.3",
            values: "S, cost",
            ours: |out| {
                or_nan(out, policy::newsvendor_normal(0.18, 0.7, 50.0, 8.0), |r| {
                    [r.base_stock_level, r.cost]
                })
            },
        },
        Case {
            name: "base stock L=4 4.4",
            values: "S, cost",
            ours: |out| {
                or_nan(
                    out,
                    policy::base_stock_normal(0.18, 0.7, 50.0, 8.0, 4.0),
                    |r| [r.base_stock_level, r.cost],
                )
            },
        },
        Case {
            name: "newsvendor Poisson 4.7",
            values: "S, cost",
            ours: |out| {
                or_nan(out, policy::newsvendor_poisson(1.0, 4.0, 6.0), |r| {
                    [r.base_stock_level as f64, r.cost]
                })
            },
        },
        Case {
            name: "(s,S) exact 4.7",
            values: "s, S, cost",
            ours: |out| {
                or_nan(
                    out,
                    policy::ss_poisson_exact(1.0, 4.0, 5.0, 6.0, 0.0),
                    |r| [r.reorder_point as f64, r.order_up_to_level as f64, r.cost],
                )
            },
        },
        Case {
            name: "(s,S) power 4.8",
            values: "s, S",
            ours: |out| {
                or_nan(
                    out,
                    policy::ss_power_approximation(0.18, 0.7, 2.5, 50.0, 8.0, 0.0),
                    |r| [r.reorder_point, r.order_up_to_level],
                )
            },
        },
        Case {
            name: "(r,Q) cost 5.1",
            values: "cost",
            ours: |out| {
                or_nan(out, policy::rq_cost(&EXAMPLE_5_1, 126.8, 328.5), |cost| {
                    [cost]
                })
            },
        },
        Case {
            name: "(r,Q) EIL 5.2",
            values: "r, Q, cost",
            ours: |out| {
                or_nan(out, policy::rq_eil_approximation(&EXAMPLE_5_1), |r| {
                    [r.reorder_point, r.order_quantity, r.approximate_cost]
                })
            },
        },
        Case {
            name: "(r,Q) EOQ+SS 5.5",
            values: "r, Q",
            ours: |out| {
                or_nan(out, policy::rq_eoq_plus_safety_stock(&EXAMPLE_5_1), |r| {
                    [r.reorder_point, r.order_quantity]
                })
            },
        },
        Case {
            name: "(r,Q) loss fn 5.6",
            values: "r, Q",
            ours: |out| {
                or_nan(
                    out,
                    policy::rq_loss_function_approximation(&EXAMPLE_5_1),
                    |r| [r.reorder_point, r.order_quantity],
                )
            },
        },
        Case {
            name: "(r,Q) Poisson 5.8",
            values: "r, Q, cost",
            ours: |out| {
                let problem = RqPoissonProblem {
                    holding_cost: 20.0,
                    stockout_cost: 150.0,
                    fixed_cost: 100.0,
                    demand_rate: 1.5,
                    lead_time: 2.0,
                };
                or_nan(out, policy::rq_poisson_exact(&problem), |r| {
                    [r.reorder_point as f64, r.order_quantity as f64, r.cost]
                })
            },
        },
        Case {
            name: "Wagner-Whitin 3.9",
            values: "Q1..Q4, cost",
            ours: |out| {
                out.clear();
                match policy::wagner_whitin(500.0, 2.0, &[90.0, 120.0, 80.0, 70.0]) {
                    Ok(plan) => {
                        out.extend_from_slice(&plan.order_quantities);
                        out.push(plan.total_cost);
                    }
                    Err(_) => out.push(f64::NAN),
                }
            },
        },
    ]
}

/// Seconds per call of `run`, called until `budget` has passed.
fn per_call(run: fn(&mut Vec<f64>), budget: Duration) -> f64 {
    let mut out = Vec::with_capacity(8);
    let started = Instant::now();
    let mut calls: u64 = 0;
    while started.elapsed() < budget {
        for _ in 0..64 {
            run(black_box(&mut out));
            black_box(&out);
        }
        calls += 64;
    }
    started.elapsed().as_secs_f64() / calls as f64
}

/// Runs the benchmark and prints its figures.
pub fn policy(args: &PolicyArgs) -> anyhow::Result<()> {
    let cases = cases();
    let theirs = if args.no_peer {
        BTreeMap::new()
    } else {
        match peer(&args.python) {
            Ok(found) => found,
            Err(error) => {
                outln!("stockpyl did not run: {error:#}");
                BTreeMap::new()
            }
        }
    };
    outln!("flowline bench policy: one core each; values side by side, then the time of one call");
    outln!(
        "{:<22} {:<13} {:>10} {:>12} {:>9} {:>10}  values (flowline | stockpyl)",
        "case",
        "values",
        "flowline",
        "stockpyl",
        "ratio",
        "max diff"
    );
    let mut ratios = Vec::new();
    for case in &cases {
        let mut ours = Vec::new();
        (case.ours)(&mut ours);
        let seconds = per_call(case.ours, Duration::from_millis(50));
        let peer = theirs.get(case.name);
        let (their_seconds, their_values) = peer
            .map(|(seconds, values)| (Some(*seconds), values.clone()))
            .unwrap_or((None, Vec::new()));
        let difference = (ours.len() == their_values.len()).then(|| {
            ours.iter()
                .zip(&their_values)
                .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
                .fold(0.0_f64, f64::max)
        });
        if let Some(their) = their_seconds {
            ratios.push(their / seconds.max(1e-12));
        }
        let shown = |values: &[f64]| {
            values
                .iter()
                .map(|v| format!("{v:.10}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        outln!(
            "{:<22} {:<13} {:>8.3}µs {:>10}µs {:>9} {:>10}  {} | {}",
            case.name,
            case.values,
            seconds * 1e6,
            their_seconds.map_or("-".into(), |s| format!("{:.1}", s * 1e6)),
            their_seconds.map_or("-".into(), |s| format!("{:.0}×", s / seconds.max(1e-12))),
            difference.map_or("-".into(), |d| format!("{d:.1e}")),
            shown(&ours),
            shown(&their_values)
        );
    }
    if !ratios.is_empty() {
        ratios.sort_by(f64::total_cmp);
        outln!(
            "stockpyl time / flowline time: lowest {:.0}×, median {:.0}×, highest {:.0}× over {} cases",
            ratios[0],
            ratios[ratios.len() / 2],
            ratios[ratios.len() - 1],
            ratios.len()
        );
    }
    Ok(())
}

/// stockpyl's values and seconds per call for each case, from a Python child.
fn peer(python: &str) -> anyhow::Result<BTreeMap<String, (f64, Vec<f64>)>> {
    let ran = std::process::Command::new(python)
        .arg("-c")
        .arg(PEER_SCRIPT)
        .output()?;
    anyhow::ensure!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
            .lines()
            .last()
            .unwrap_or("failed")
    );
    let printed: BTreeMap<String, (f64, Vec<f64>)> = serde_json::from_slice(&ran.stdout)?;
    Ok(printed)
}

/// The same cases in stockpyl, each timed with `timeit`'s autorange (at least 0.2 s), printed
/// as JSON: `{case: [seconds per call, [values]]}`.
const PEER_SCRIPT: &str = r#"
import json, timeit
from stockpyl import eoq, newsvendor, ss, rq, wagner_whitin as ww

def flat(result):
    out = []
    for value in (result if isinstance(result, (tuple, list)) else [result]):
        if isinstance(value, (list, tuple)):
            out.extend(float(v) for v in value)
        else:
            out.append(float(value))
    return out

cases = {
    "EOQ 3.1": lambda: eoq.economic_order_quantity(8, 0.225, 1300),
    "EOQ backorders 3.8": lambda: eoq.economic_order_quantity_with_backorders(8, 0.225, 5, 1300),
    "EPQ 3.1": lambda: eoq.economic_production_quantity(8, 0.225, 1300, 2000),
    "newsvendor normal 4.3": lambda: newsvendor.newsvendor_normal(0.18, 0.7, 50, 8),
    "base stock L=4 4.4": lambda: newsvendor.newsvendor_normal(0.18, 0.7, 50, 8, lead_time=4),
    "newsvendor Poisson 4.7": lambda: newsvendor.newsvendor_poisson(1, 4, 6),
    "(s,S) exact 4.7": lambda: ss.s_s_discrete_exact(1, 4, 5, True, 6),
    "(s,S) power 4.8": lambda: ss.s_s_power_approximation(0.18, 0.7, 2.5, 50, 8),
    "(r,Q) cost 5.1": lambda: rq.r_q_cost(126.8, 328.5, 0.225, 7.5, 8, 1300, 150, 1 / 12),
    "(r,Q) EIL 5.2": lambda: rq.r_q_eil_approximation(0.225, 7.5, 8, 1300, 150, 1 / 12),
    "(r,Q) EOQ+SS 5.5": lambda: rq.r_q_eoqss_approximation(0.225, 7.5, 8, 1300, 150, 1 / 12),
    "(r,Q) loss fn 5.6": lambda: rq.r_q_loss_function_approximation(0.225, 7.5, 8, 1300, 150, 1 / 12),
    "(r,Q) Poisson 5.8": lambda: rq.r_q_poisson_exact(20, 150, 100, 1.5, 2),
    "Wagner-Whitin 3.9": lambda: ww.wagner_whitin(4, 2, 500, [90, 120, 80, 70])[:2],
}
results = {}
for name, run in cases.items():
    values = flat(run())
    if name == "Wagner-Whitin 3.9":
        values = values[1:]  # stockpyl's quantities start with an unused period 0
    timer = timeit.Timer(run)
    number, total = timer.autorange()
    while total < 0.2:
        number *= 2
        total = timer.timeit(number)
    results[name] = [total / number, values]
print(json.dumps(results))
"#;
