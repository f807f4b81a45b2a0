//! Percentiles over timing samples, and the noise of a figure measured in rounds.

use serde::{Deserialize, Serialize};

/// Distribution of one figure; the unit is in the name of the field that holds it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Summary {
    pub p50: f64,
    pub p99: f64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub n: usize,
}

/// One figure measured in several rounds: its median over the rounds and how far the rounds
/// were apart (the run's noise).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Summary {
    /// `None` for no samples: nothing was measured, and a zero would read as a result.
    pub fn of(samples: &[f64]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Self {
            p50: percentile(&sorted, 50.0),
            p99: percentile(&sorted, 99.0),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            n: sorted.len(),
        })
    }
}

impl Spread {
    pub fn of(values: &[f64]) -> Option<Self> {
        let summary = Summary::of(values)?;
        Some(Self {
            median: summary.p50,
            min: summary.min,
            max: summary.max,
            n: summary.n,
        })
    }
}

/// Nearest-rank percentile of sorted samples (no interpolation: every value reported was
/// actually observed).
fn percentile(sorted: &[f64], pct: f64) -> f64 {
    let rank = (pct / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_observed_values() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::of(&samples).expect("samples");
        assert_eq!(s.p50, 50.0);
        assert_eq!(s.p99, 99.0);
        assert_eq!(s.min, 1.0);
        assert_eq!(s.max, 100.0);
        assert_eq!(s.n, 100);
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let s = Summary::of(&[7.0]).expect("one sample");
        assert_eq!((s.p50, s.p99, s.min, s.max), (7.0, 7.0, 7.0, 7.0));
    }

    #[test]
    fn nothing_measured_is_none() {
        assert!(Summary::of(&[]).is_none());
        assert!(Spread::of(&[]).is_none());
    }

    #[test]
    fn spread_is_median_and_range() {
        let s = Spread::of(&[3.0, 1.0, 2.0]).expect("values");
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
    }
}
