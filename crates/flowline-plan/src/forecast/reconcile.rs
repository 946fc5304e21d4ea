//! Reconciling forecasts of parts to the forecast of their total.
//!
//! Item forecasts made one by one need not add up to the forecast of the items' category made
//! from the category's own (smoother) series. [`proportional`] makes them add up the
//! forecast-proportional top-down way (Athanasopoulos, Ahmed & Hyndman, 2009): in every period
//! each part keeps its share of the parts' sum, and the sum becomes the total's forecast.
//! Whether that beats the parts' own forecasts depends on the data: `flowline bench reconcile`
//! measures it on a log.

/// The parts' forecasts scaled, period by period, so they sum to `total`: part `i` of period
/// `t` becomes `total[t] × parts[i][t] / Σ_j parts[j][t]`. In a period where the parts sum to 0
/// (or less), the total is split by `fallback` (one weight per part, e.g. each part's share of
/// recent demand); when those sum to 0 too, evenly. Periods beyond `total` are left as they
/// are, as are parts shorter than `total` beyond their end. Negative or non-finite forecasts
/// count as 0.
#[must_use]
pub fn proportional(total: &[f64], parts: &[Vec<f64>], fallback: &[f64]) -> Vec<Vec<f64>> {
    let clean = |value: f64| {
        if value.is_finite() {
            value.max(0.0)
        } else {
            0.0
        }
    };
    let weights: Vec<f64> = (0..parts.len())
        .map(|i| fallback.get(i).copied().map_or(0.0, clean))
        .collect();
    let weight_sum: f64 = weights.iter().sum();
    let mut out: Vec<Vec<f64>> = parts
        .iter()
        .map(|part| part.iter().map(|v| clean(*v)).collect())
        .collect();
    for (period, target) in total.iter().enumerate() {
        let target = clean(*target);
        let sum: f64 = out.iter().filter_map(|part| part.get(period)).sum();
        for (i, part) in out.iter_mut().enumerate() {
            let Some(value) = part.get_mut(period) else {
                continue;
            };
            *value = if sum > 0.0 {
                target * *value / sum
            } else if weight_sum > 0.0 {
                target * weights[i] / weight_sum
            } else {
                target / parts.len() as f64
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_their_shares_and_sum_to_the_total() {
        // Day 0: parts 2 and 6 (shares ¼ and ¾) of a total forecast of 12 → 3 and 9.
        // Day 1: parts 0 and 0, total 10, fallback weights 1 and 4 → 2 and 8.
        // Day 2: parts 5 and 5 of a total of 0 → 0 and 0.
        let out = proportional(
            &[12.0, 10.0, 0.0],
            &[vec![2.0, 0.0, 5.0], vec![6.0, 0.0, 5.0]],
            &[1.0, 4.0],
        );
        assert_eq!(out, vec![vec![3.0, 2.0, 0.0], vec![9.0, 8.0, 0.0]]);
    }

    #[test]
    fn without_fallback_weights_a_period_of_zeros_is_split_evenly() {
        // Three parts forecasting nothing, a total of 9 and no weights: 3 each.
        let out = proportional(&[9.0], &[vec![0.0], vec![-1.0], vec![f64::NAN]], &[]);
        assert_eq!(out, vec![vec![3.0], vec![3.0], vec![3.0]]);
    }
}
