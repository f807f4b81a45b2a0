//! How numbers read in the report: units chosen for the size of the value, ratios as `×`.

pub fn bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.2} MiB", n as f64 / f64::from(1u32 << 20))
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

/// A duration given in µs, in the unit that suits it.
pub fn micros(us: f64) -> String {
    if us < 0.0 {
        return format!("-{}", micros(-us));
    }
    if us >= 1e6 {
        format!("{:.2} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{:.2} ms", us / 1e3)
    } else if us >= 1.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.0} ns", us * 1e3)
    }
}

pub fn nanos(ns: f64) -> String {
    micros(ns / 1e3)
}

pub fn millis(ms: f64) -> String {
    micros(ms * 1e3)
}

pub fn ratio(r: f64) -> String {
    if !r.is_finite() {
        "n/a".to_string()
    } else if r >= 100.0 {
        format!("{r:.0}×")
    } else if r >= 10.0 {
        format!("{r:.1}×")
    } else {
        format!("{r:.2}×")
    }
}

pub fn percent(fraction: f64) -> String {
    if fraction.is_finite() {
        format!("{:.0}%", fraction * 100.0)
    } else {
        "n/a".to_string()
    }
}

pub fn rps(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// `min–max`, a figure's noise.
pub fn range(min: String, max: String) -> String {
    format!("{min} – {max}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_magnitude() {
        assert_eq!(micros(0.25), "250 ns");
        assert_eq!(micros(12.34), "12.3 µs");
        assert_eq!(micros(1500.0), "1.50 ms");
        assert_eq!(micros(-47.7), "-47.7 µs");
        assert_eq!(bytes(32 * 1024), "32.0 KiB");
        assert_eq!(bytes(3 << 20), "3.00 MiB");
        assert_eq!(ratio(1234.5), "1234×");
        assert_eq!(ratio(f64::NAN), "n/a");
        assert_eq!(percent(0.5), "50%");
    }
}
