//! Medians and spreads for the JSON files the report reads (schemas in bench/README.md).

use serde_json::{json, Value};

/// `{"median", "min", "max"}` of repeated runs (NaN-free input expected).
pub fn spread(values: &[f64]) -> Value {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    json!({
        "median": quantile(&sorted, 0.5),
        "min": sorted.first().copied().unwrap_or(0.0),
        "max": sorted.last().copied().unwrap_or(0.0),
        "n": sorted.len(),
    })
}

/// The q-quantile of sorted values, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(spread(&[3.0, 1.0, 2.0])["median"], 2.0);
        assert_eq!(spread(&[4.0, 1.0, 3.0, 2.0])["min"], 1.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.99), 5.0);
    }
}
