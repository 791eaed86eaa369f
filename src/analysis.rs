//! Amdahl's and Gustafson's laws, and the fit of Amdahl's law to measured speedups.

/// Amdahl: the speedup on `n` workers when a fraction `p` of the work is parallel.
pub fn amdahl(p: f64, n: f64) -> f64 {
    1.0 / ((1.0 - p) + p / n)
}

/// Gustafson: the scaled speedup on `n` workers with parallel fraction `p`.
pub fn gustafson(p: f64, n: f64) -> f64 {
    (1.0 - p) + p * n
}

/// The least-squares fit of Amdahl's law to `(workers, speedup)` points:
/// the `p` in [0, 1] minimising the squared error. A coarse scan finds the
/// basin (the error is smooth in `p`), a golden-section search refines it.
pub fn fit_amdahl(points: &[(f64, f64)]) -> f64 {
    let err = |p: f64| -> f64 {
        points
            .iter()
            .map(|&(n, s)| (amdahl(p, n) - s).powi(2))
            .sum()
    };
    let steps = 1000;
    let best = (0..=steps)
        .map(|i| i as f64 / steps as f64)
        .min_by(|a, b| err(*a).total_cmp(&err(*b)))
        .unwrap_or(0.0);
    let (mut lo, mut hi) = ((best - 0.001).max(0.0), (best + 0.001).min(1.0));
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..60 {
        let (a, b) = (hi - g * (hi - lo), lo + g * (hi - lo));
        if err(a) < err(b) {
            hi = b;
        } else {
            lo = a;
        }
    }
    ((lo + hi) / 2.0).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laws_at_their_edges() {
        assert_eq!(amdahl(1.0, 8.0), 8.0);
        assert_eq!(amdahl(0.0, 8.0), 1.0);
        assert!((amdahl(0.9, 10.0) - 1.0 / 0.19).abs() < 1e-12);
        assert_eq!(gustafson(0.9, 10.0), 9.1);
    }

    #[test]
    fn points_from_a_known_p_give_it_back() {
        for p in [0.0, 0.3, 0.5, 0.9, 0.95, 1.0] {
            let points: Vec<(f64, f64)> = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0]
                .iter()
                .map(|&n| (n, amdahl(p, n)))
                .collect();
            assert!((fit_amdahl(&points) - p).abs() < 0.01, "p = {p}");
        }
    }

    #[test]
    fn noisy_points_still_fit_within_a_hundredth() {
        let p = 0.8;
        let noise = [0.01, -0.012, 0.008, -0.005, 0.0, 0.011];
        let points: Vec<(f64, f64)> = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0]
            .iter()
            .zip(noise)
            .map(|(&n, e)| (n, amdahl(p, n) * (1.0 + e)))
            .collect();
        assert!((fit_amdahl(&points) - p).abs() < 0.01);
    }

    #[test]
    fn the_fit_is_clamped_to_0_1() {
        assert!((fit_amdahl(&[(1.0, 1.0), (2.0, 3.0), (4.0, 9.0)]) - 1.0).abs() < 1e-6);
        assert!(fit_amdahl(&[(1.0, 1.0), (2.0, 0.5), (4.0, 0.25)]) < 1e-6);
    }
}
