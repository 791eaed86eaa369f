//! `timeit`, for real: a program run several times, and the distribution
//! of its own wall time (the `wall_ms` its result line prints, else
//! parlab's). The lecture's "repeat, take the minimum or the median, know
//! why the first differs": the first run is marked (imports, cold caches),
//! warm-ups are run and shown but not counted, disturbed runs are marked.

use crate::clock::ms;
use serde_json::{json, Value};

/// One run's time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timed {
    pub wall_ms: f64,
    /// The program's own figure (its result line's `wall_ms`), not parlab's.
    pub own: bool,
    /// A warm-up: run, shown, not counted.
    pub warmup: bool,
    /// Others used enough of the machine to distort it.
    pub disturbed: bool,
}

impl Timed {
    /// A run's time: the `wall_ms` its `result` says, else parlab's `wall_ns`.
    pub fn new(result: Option<&Value>, wall_ns: u64, disturbed: bool, warmup: bool) -> Self {
        let own = result.and_then(|r| r["wall_ms"].as_f64());
        Self {
            wall_ms: own.unwrap_or(ms(wall_ns)),
            own: own.is_some(),
            warmup,
            disturbed,
        }
    }
}

/// The median of `v` (the upper one of an even count; 0 for none).
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Where the median of what `v` samples lies, with at least `confidence`
/// (0-1), whatever the distribution: the order statistics `k` in from each
/// end, `k` the largest for which a fair coin's count of heads in `v.len()`
/// tosses falls below it on either side less often than `1 - confidence`.
/// None where too few values give that confidence (4 or fewer for 0.9).
pub fn median_interval(v: &[f64], confidence: f64) -> Option<[f64; 2]> {
    let n = v.len();
    let mut sorted = v.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    // P(heads <= j) for j = 0, 1, ...: the binomial(n, 1/2) tail.
    let mut choose = 1.0_f64;
    let mut tail = 0.0;
    let mut k = 0;
    for j in 0..n / 2 {
        tail += choose / 2f64.powi(n as i32);
        if 1.0 - 2.0 * tail < confidence {
            break;
        }
        k = j + 1;
        choose = choose * (n - j) as f64 / (j + 1) as f64;
    }
    (k > 0).then(|| [sorted[k - 1], sorted[n - k]])
}

/// The counted runs' (not warm-ups') times.
fn counted(runs: &[Timed]) -> Vec<f64> {
    runs.iter()
        .filter(|r| !r.warmup)
        .map(|r| r.wall_ms)
        .collect()
}

/// `repeats`, `min_ms`, `median_ms`, `max_ms` for the run JSON.
pub fn json(runs: &[Timed]) -> Value {
    let walls = counted(runs);
    let repeats: Vec<Value> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "run": i + 1, "wall_ms": r.wall_ms, "own": r.own, "warmup": r.warmup,
                "first": i == first_counted(runs), "disturbed": r.disturbed,
            })
        })
        .collect();
    json!({
        "repeats": repeats,
        "min_ms": walls.iter().copied().reduce(f64::min),
        "median_ms": (!walls.is_empty()).then(|| median(&walls)),
        "max_ms": walls.iter().copied().reduce(f64::max),
    })
}

/// The index of the first run counted.
fn first_counted(runs: &[Timed]) -> usize {
    runs.iter().position(|r| !r.warmup).unwrap_or(0)
}

/// Each run on a line (`first`, `warm-up`, `disturbed` said), then min,
/// median and max, and a histogram of the counted runs `width` wide.
pub fn words(runs: &[Timed], width: usize) -> Vec<String> {
    let first = first_counted(runs);
    let mut out: Vec<String> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut notes = Vec::new();
            if r.warmup {
                notes.push("warm-up, not counted");
            } else if i == first {
                notes.push("first");
            }
            if r.disturbed {
                notes.push("disturbed");
            }
            if !r.own {
                notes.push("parlab's wall: no wall_ms printed");
            }
            let notes = match notes.is_empty() {
                true => String::new(),
                false => format!("  ({})", notes.join(", ")),
            };
            format!("run {:>2}: {:>10.1} ms{notes}", i + 1, r.wall_ms)
        })
        .collect();
    let walls = counted(runs);
    if let (Some(lo), Some(hi)) = (
        walls.iter().copied().reduce(f64::min),
        walls.iter().copied().reduce(f64::max),
    ) {
        out.push(format!(
            "min {lo:.1} · median {:.1} · max {hi:.1} ms over {} runs",
            median(&walls),
            walls.len()
        ));
        out.push(histogram(&walls, lo, hi, width));
    }
    out
}

/// The counted times in `width` bins from `lo` to `hi`, as bars of eighths.
pub fn histogram(walls: &[f64], lo: f64, hi: f64, width: usize) -> String {
    const BARS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let width = width.clamp(1, 60);
    let mut bins = vec![0usize; width];
    for &w in walls {
        let at = match hi > lo {
            true => ((w - lo) / (hi - lo) * (width - 1) as f64).round() as usize,
            false => 0,
        };
        bins[at.min(width - 1)] += 1;
    }
    let top = bins.iter().copied().max().unwrap_or(1).max(1);
    let bars: String = bins.iter().map(|&n| BARS[(n * 8).div_ceil(top)]).collect();
    format!("{lo:.0} ms |{bars}| {hi:.0} ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(wall_ms: f64, warmup: bool) -> Timed {
        Timed {
            wall_ms,
            own: true,
            warmup,
            disturbed: false,
        }
    }

    /// The interval is the order statistics the binomial gives: 3rd and
    /// 9th of 11 (93.5 %), the ends of 5 (93.8 %), none of 4 (87.5 %).
    #[test]
    fn a_medians_interval_is_the_order_statistics_the_binomial_gives() {
        let eleven: Vec<f64> = [9, 3, 7, 1, 11, 5, 2, 10, 4, 8, 6].map(f64::from).to_vec();
        assert_eq!(median_interval(&eleven, 0.9), Some([3.0, 9.0]));
        assert_eq!(median_interval(&eleven, 0.98), Some([2.0, 10.0]));
        assert_eq!(median_interval(&eleven[..5], 0.9), Some([1.0, 11.0]));
        assert_eq!(median_interval(&eleven[..4], 0.9), None);
        assert_eq!(median_interval(&[], 0.9), None);
    }

    #[test]
    fn warmups_are_shown_not_counted_and_the_first_counted_is_marked() {
        let runs = [
            t(900.0, true),
            t(300.0, false),
            t(100.0, false),
            t(200.0, false),
        ];
        let v = json(&runs);
        assert_eq!(
            (
                v["min_ms"].as_f64(),
                v["median_ms"].as_f64(),
                v["max_ms"].as_f64()
            ),
            (Some(100.0), Some(200.0), Some(300.0))
        );
        assert_eq!(v["repeats"][1]["first"], true);
        assert_eq!(v["repeats"][0]["first"], false);
        let w = words(&runs, 10);
        assert!(w[0].contains("warm-up") && w[1].contains("first"), "{w:?}");
        assert!(w[4].starts_with("min 100.0 · median 200.0 · max 300.0"));
    }

    #[test]
    fn the_histogram_puts_each_time_in_its_bin() {
        assert_eq!(histogram(&[1.0, 1.0, 3.0], 1.0, 3.0, 3), "1 ms |█ ▄| 3 ms");
        assert_eq!(histogram(&[5.0], 5.0, 5.0, 4), "5 ms |█   | 5 ms");
    }
}
