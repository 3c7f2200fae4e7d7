//! Descriptive statistics of metric samples, as `K8sPerformanceAnalyzer` computes
//! them (Python's `statistics` module and its `_percentile`), plus the least-squares line the
//! leak detection fits.
//!
//! Kept in one place so that the performance diagnostics, the alert rules and the report's
//! charts agree on what "p95" or "stdev" of a series means.

use serde::Serialize;

/// `K8sPerformanceAnalyzer`'s per-series statistics (`cpu_stats` / `memory_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Summary {
    /// How many values it summarizes (at least one).
    pub(crate) count: usize,
    pub(crate) mean: f64,
    pub(crate) median: f64,
    /// The sample standard deviation (n − 1), 0 for a single value as in `K8sPerformanceAnalyzer`.
    pub(crate) stdev: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) p95: f64,
}

impl Summary {
    /// The statistics of `values`; `None` when there are none (or one is not a number).
    pub(crate) fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() || values.iter().any(|value| !value.is_finite()) {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let count = sorted.len();
        let mean = sorted.iter().sum::<f64>() / count as f64;
        let median = if count % 2 == 1 {
            sorted[count / 2]
        } else {
            (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0
        };
        let stdev = if count > 1 {
            let squares: f64 = sorted.iter().map(|value| (value - mean).powi(2)).sum();
            (squares / (count - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Summary {
            count,
            mean,
            median,
            stdev,
            min: sorted[0],
            max: sorted[count - 1],
            p95: percentile_of_sorted(&sorted, 95.0),
        })
    }

    /// `K8sPerformanceAnalyzer`'s coefficient of variation: `stdev / max(mean, 1)`, the floor keeping an idle
    /// series from dividing by zero.
    pub(crate) fn variation(&self) -> f64 {
        self.stdev / self.mean.max(1.0)
    }
}

/// `K8sPerformanceAnalyzer`'s `_percentile`: the value at rank `percentile / 100 × (n − 1)` of the sorted
/// values, interpolated linearly between the two neighbours of a fractional rank.
pub(crate) fn percentile(values: &[f64], percentile: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(percentile_of_sorted(&sorted, percentile))
}

fn percentile_of_sorted(sorted: &[f64], percentile: f64) -> f64 {
    let rank = (percentile / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = rank.floor() as usize;
    let fraction = rank - rank.floor();
    match sorted.get(lower + 1) {
        Some(upper) if fraction > 0.0 => sorted[lower] + (upper - sorted[lower]) * fraction,
        _ => sorted[lower],
    }
}

/// The stability score of a series pair: `max(0, 100 − (cpu_cv + memory_cv) × 50)`.
pub(crate) fn stability_score(cpu: &Summary, memory: &Summary) -> f64 {
    (100.0 - (cpu.variation() + memory.variation()) * 50.0).max(0.0)
}

/// A least-squares line `y = slope × x + intercept` and how well it fits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Line {
    pub(crate) slope: f64,
    pub(crate) intercept: f64,
    /// The coefficient of determination, 0..=1; 1 for values that do not vary at all.
    pub(crate) r_squared: f64,
}

/// Fits a line through `(x, y)` points; `None` with fewer than two distinct `x`.
pub(crate) fn linear_fit(points: &[(f64, f64)]) -> Option<Line> {
    if points.len() < 2 {
        return None;
    }
    let count = points.len() as f64;
    let mean_x = points.iter().map(|(x, _)| x).sum::<f64>() / count;
    let mean_y = points.iter().map(|(_, y)| y).sum::<f64>() / count;
    let spread_x: f64 = points.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    if spread_x <= f64::EPSILON {
        return None;
    }
    let covariance: f64 = points.iter().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
    let slope = covariance / spread_x;
    let intercept = mean_y - slope * mean_x;
    let total: f64 = points.iter().map(|(_, y)| (y - mean_y).powi(2)).sum();
    let residual: f64 = points.iter().map(|(x, y)| (y - (slope * x + intercept)).powi(2)).sum();
    let r_squared = if total <= f64::EPSILON { 1.0 } else { (1.0 - residual / total).clamp(0.0, 1.0) };
    Some(Line { slope, intercept, r_squared })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Python: `statistics.mean/median/stdev` and `K8sPerformanceAnalyzer`'s `_percentile` of the same list.
    #[test]
    fn matches_prod_simulations_python_on_a_known_list() {
        let values = [120.0, 80.0, 950.0, 100.0, 110.0, 90.0, 105.0];
        let summary = Summary::of(&values).unwrap();
        assert_eq!(summary.count, 7);
        assert!((summary.mean - 222.142_857).abs() < 1e-3);
        assert_eq!(summary.median, 105.0);
        // statistics.stdev([...]) = 321.2197...
        assert!((summary.stdev - 321.219_773).abs() < 1e-5, "{}", summary.stdev);
        assert_eq!((summary.min, summary.max), (80.0, 950.0));
        // rank 0.95 * 6 = 5.7 between 120 and 950: 120 + 830 * 0.7 = 701.
        assert!((summary.p95 - 701.0).abs() < 1e-9, "{}", summary.p95);
    }

    #[test]
    fn percentile_is_exact_on_integer_ranks_and_even_medians_average() {
        let values = [4.0, 1.0, 3.0, 2.0, 5.0];
        assert_eq!(percentile(&values, 50.0), Some(3.0));
        assert_eq!(percentile(&values, 100.0), Some(5.0));
        assert_eq!(percentile(&values, 0.0), Some(1.0));
        assert_eq!(percentile(&[], 95.0), None);
        assert_eq!(Summary::of(&[1.0, 2.0, 3.0, 4.0]).unwrap().median, 2.5);
    }

    #[test]
    fn a_single_value_has_no_spread_and_a_full_stability_score() {
        let one = Summary::of(&[300.0]).unwrap();
        assert_eq!(one.stdev, 0.0);
        assert_eq!(stability_score(&one, &one), 100.0);
        assert!(Summary::of(&[]).is_none());
        assert!(Summary::of(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn stability_score_follows_prod_simulations_formula_and_floors_at_zero() {
        let steady = Summary::of(&[100.0, 100.0, 100.0]).unwrap();
        let swinging = Summary::of(&[10.0, 200.0, 10.0, 200.0]).unwrap();
        // cv = stdev / mean = 109.7 / 105 = 1.045; 100 - 1.045 * 50 = 47.8.
        let score = stability_score(&swinging, &steady);
        assert!((score - 47.76).abs() < 0.1, "{score}");
        assert_eq!(stability_score(&swinging, &swinging), 0.0);
        // An idle series divides by the floor of 1, not by its tiny mean.
        assert_eq!(Summary::of(&[0.0, 0.0]).unwrap().variation(), 0.0);
    }

    #[test]
    fn linear_fit_recovers_a_line_and_scores_noise_low() {
        let line: Vec<(f64, f64)> = (0..10).map(|x| (f64::from(x), 3.0 * f64::from(x) + 7.0)).collect();
        let fit = linear_fit(&line).unwrap();
        assert!((fit.slope - 3.0).abs() < 1e-9 && (fit.intercept - 7.0).abs() < 1e-9);
        assert!((fit.r_squared - 1.0).abs() < 1e-9);
        let zigzag: Vec<(f64, f64)> =
            (0..10).map(|x| (f64::from(x), if x % 2 == 0 { 0.0 } else { 10.0 })).collect();
        assert!(linear_fit(&zigzag).unwrap().r_squared < 0.2);
        assert!(linear_fit(&[(1.0, 1.0), (1.0, 2.0)]).is_none());
    }
}
