//! Percentiles of measured durations.

use std::time::Duration;

use serde::Serialize;

/// Summary of a sample, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    pub n: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    pub min_ms: f64,
}

impl Summary {
    pub fn of(samples: &[Duration]) -> Self {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let n = ms.len();
        let at = |q: f64| if n == 0 { f64::NAN } else { ms[((q * n as f64).ceil() as usize).clamp(1, n) - 1] };
        Self {
            n,
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            mean_ms: if n == 0 { f64::NAN } else { ms.iter().sum::<f64>() / n as f64 },
            min_ms: ms.first().copied().unwrap_or(f64::NAN),
        }
    }
}

/// Median of plain numbers.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() { f64::NAN } else { v[v.len() / 2] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = Summary::of(&samples);
        assert_eq!((s.p50_ms, s.p99_ms, s.min_ms), (50.0, 99.0, 1.0));
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    }
}
