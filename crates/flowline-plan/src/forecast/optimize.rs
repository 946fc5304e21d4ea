//! A bounded Nelder-Mead search for the few smoothing parameters of a model.
//!
//! The simplex method of Nelder and Mead (1965) with the usual coefficients (reflection 1,
//! expansion 2, contraction and shrinkage 1/2, as in Lagarias et al. 1998); every trial point is
//! projected onto the box of bounds. Fixed-size arrays: no allocation, at most [`MAX_DIM`]
//! parameters.

/// The most parameters searched at once.
pub(crate) const MAX_DIM: usize = 4;

/// When the search stops.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Evaluations of the objective at most.
    pub(crate) max_evaluations: usize,
    /// Stop when the objective differs by at most this much across the simplex...
    pub(crate) value_tolerance: f64,
    /// ...or when every vertex is within this distance of the best in every coordinate.
    pub(crate) point_tolerance: f64,
}

/// The best point found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Minimum {
    /// The point; the first `dim` coordinates are used.
    pub(crate) point: [f64; MAX_DIM],
    /// The objective there (+infinity if it was nowhere finite).
    pub(crate) value: f64,
}

/// Minimises `objective` over the box `lower..=upper` from `start`, with a first simplex of
/// `start` and `start + step[i]` along each axis (the other way when that leaves the box).
/// Non-finite objective values count as +infinity. The dimension is `start.len()`, at most
/// [`MAX_DIM`] (extra coordinates are ignored); `step`, `lower` and `upper` must be as long.
pub(crate) fn minimize(
    mut objective: impl FnMut(&[f64]) -> f64,
    start: &[f64],
    step: &[f64],
    lower: &[f64],
    upper: &[f64],
    settings: Settings,
) -> Minimum {
    let dim = start
        .len()
        .min(step.len())
        .min(lower.len())
        .min(upper.len())
        .min(MAX_DIM);
    let project = |point: &mut [f64; MAX_DIM]| {
        for i in 0..dim {
            point[i] = point[i].clamp(lower[i], upper[i]);
        }
    };
    let mut evaluations = 0;
    let mut evaluate = |point: &[f64; MAX_DIM], evaluations: &mut usize| {
        *evaluations += 1;
        let value = objective(&point[..dim]);
        if value.is_nan() { f64::INFINITY } else { value }
    };

    let mut vertices = [[0.0; MAX_DIM]; MAX_DIM + 1];
    let mut values = [f64::INFINITY; MAX_DIM + 1];
    vertices[0][..dim].copy_from_slice(&start[..dim]);
    project(&mut vertices[0]);
    values[0] = evaluate(&vertices[0], &mut evaluations);
    for i in 0..dim {
        let mut vertex = vertices[0];
        vertex[i] += step[i];
        if vertex[i] > upper[i] {
            vertex[i] = vertices[0][i] - step[i];
        }
        project(&mut vertex);
        vertices[i + 1] = vertex;
        values[i + 1] = evaluate(&vertex, &mut evaluations);
    }

    // `order[0]` is the best vertex, `order[dim]` the worst.
    let mut order = [0, 1, 2, 3, 4];
    loop {
        order[..=dim].sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let best = order[0];
        let worst = order[dim];
        let second_worst = order[dim.saturating_sub(1)];
        let value_spread = values[worst] - values[best];
        let point_spread = (0..=dim)
            .flat_map(|v| (0..dim).map(move |i| (v, i)))
            .map(|(v, i)| (vertices[v][i] - vertices[best][i]).abs())
            .fold(0.0, f64::max);
        if evaluations >= settings.max_evaluations
            || dim == 0
            || value_spread <= settings.value_tolerance
            || point_spread <= settings.point_tolerance
        {
            return Minimum {
                point: vertices[best],
                value: values[best],
            };
        }

        let mut centroid = [0.0; MAX_DIM];
        for &v in &order[..dim] {
            for i in 0..dim {
                centroid[i] += vertices[v][i] / dim as f64;
            }
        }
        let along = |t: f64| {
            let mut point = [0.0; MAX_DIM];
            for i in 0..dim {
                point[i] = centroid[i] + t * (vertices[worst][i] - centroid[i]);
            }
            project(&mut point);
            point
        };

        let reflected = along(-1.0);
        let reflected_value = evaluate(&reflected, &mut evaluations);
        if reflected_value < values[best] {
            let expanded = along(-2.0);
            let expanded_value = evaluate(&expanded, &mut evaluations);
            if expanded_value < reflected_value {
                vertices[worst] = expanded;
                values[worst] = expanded_value;
            } else {
                vertices[worst] = reflected;
                values[worst] = reflected_value;
            }
            continue;
        }
        if reflected_value < values[second_worst] {
            vertices[worst] = reflected;
            values[worst] = reflected_value;
            continue;
        }
        let (contracted, limit) = if reflected_value < values[worst] {
            (along(-0.5), reflected_value)
        } else {
            (along(0.5), values[worst])
        };
        let contracted_value = evaluate(&contracted, &mut evaluations);
        if contracted_value <= limit {
            vertices[worst] = contracted;
            values[worst] = contracted_value;
            continue;
        }
        // Shrink towards the best vertex.
        let anchor = vertices[best];
        for &v in &order[1..=dim] {
            for (x, a) in vertices[v].iter_mut().zip(&anchor).take(dim) {
                *x = a + 0.5 * (*x - a);
            }
            values[v] = evaluate(&vertices[v], &mut evaluations);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: Settings = Settings {
        max_evaluations: 2_000,
        value_tolerance: 1e-14,
        point_tolerance: 1e-9,
    };

    #[test]
    fn the_search_finds_the_minimum_of_a_shifted_bowl_inside_the_box() {
        // (x - 0.3)² + 2 (y + 0.2)² + 0.5 is least, 0.5, at (0.3, -0.2).
        let found = minimize(
            |x| (x[0] - 0.3).powi(2) + 2.0 * (x[1] + 0.2).powi(2) + 0.5,
            &[0.9, 0.9],
            &[0.1, 0.1],
            &[-1.0, -1.0],
            &[1.0, 1.0],
            SETTINGS,
        );
        assert!((found.point[0] - 0.3).abs() < 1e-4);
        assert!((found.point[1] + 0.2).abs() < 1e-4);
        assert!((found.value - 0.5).abs() < 1e-8);
    }

    #[test]
    fn the_search_stops_on_the_bound_when_the_minimum_is_outside_the_box() {
        // (x - 2)² + (y - 0.5)² over [0, 1]²: least on the edge x = 1, at (1, 0.5).
        let found = minimize(
            |x| (x[0] - 2.0).powi(2) + (x[1] - 0.5).powi(2),
            &[0.2, 0.2],
            &[0.1, 0.1],
            &[0.0, 0.0],
            &[1.0, 1.0],
            SETTINGS,
        );
        assert!((found.point[0] - 1.0).abs() < 1e-6);
        assert!((found.point[1] - 0.5).abs() < 1e-4);
    }

    #[test]
    fn the_search_minimises_rosenbrock_in_four_dimensions_within_its_budget() {
        // Σ 100 (x[i+1] - x[i]²)² + (1 - x[i])² is least, 0, at (1, 1, 1, 1).
        let mut evaluations = 0;
        let found = minimize(
            |x| {
                evaluations += 1;
                (0..3)
                    .map(|i| 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2))
                    .sum()
            },
            &[0.0, 0.0, 0.0, 0.0],
            &[0.5, 0.5, 0.5, 0.5],
            &[-2.0; 4],
            &[2.0; 4],
            Settings {
                max_evaluations: 20_000,
                ..SETTINGS
            },
        );
        assert!(found.value < 1e-6, "{found:?}");
        assert!(evaluations <= 20_000);
    }

    #[test]
    fn the_search_treats_nan_as_worse_than_anything() {
        // NaN left of 0.5, x² - x right of it: the least finite value is at x = 0.5 (−0.25).
        let found = minimize(
            |x| {
                if x[0] < 0.5 {
                    f64::NAN
                } else {
                    x[0] * x[0] - x[0]
                }
            },
            &[0.9],
            &[0.2],
            &[0.0],
            &[1.0],
            SETTINGS,
        );
        assert!((found.point[0] - 0.5).abs() < 1e-4);
    }
}
