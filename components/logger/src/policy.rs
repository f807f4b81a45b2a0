//! The logger's policy, read from component config (the key/value pairs wasmCloud hands a
//! component through `wasi:config/store`).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::cyber::system::types::Level;

/// Name stamped on records when config sets none.
pub const DEFAULT_SOURCE: &str = "neon";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Records below this level are dropped.
    pub min_level: Level,
    /// Name stamped on every record.
    pub source: String,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_level: Level::Info,
            source: DEFAULT_SOURCE.to_string(),
        }
    }
}

/// Builds the policy from config. A bad value keeps that key's default and adds a warning that
/// names the key, so a typo in a manifest shows up in the logs instead of silently passing.
pub fn from_config(pairs: &[(String, String)]) -> (Policy, Vec<String>) {
    let mut policy = Policy::default();
    let mut warnings = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "min_level" => match parse_level(value) {
                Some(level) => policy.min_level = level,
                None => warnings.push(
                    [
                        "logger config: invalid min_level \"",
                        value,
                        "\" (expected info, warn or critical); using info",
                    ]
                    .concat(),
                ),
            },
            "source" => {
                let name = value.trim();
                if name.is_empty() {
                    warnings.push(
                        [
                            "logger config: invalid source \"",
                            value,
                            "\" (empty); using \"",
                            DEFAULT_SOURCE,
                            "\"",
                        ]
                        .concat(),
                    );
                } else {
                    policy.source = name.to_string();
                }
            }
            // Other keys belong to whoever else reads this component's config.
            _ => {}
        }
    }
    (policy, warnings)
}

pub fn parse_level(value: &str) -> Option<Level> {
    match value.trim().to_ascii_lowercase().as_str() {
        "info" => Some(Level::Info),
        "warn" | "warning" => Some(Level::Warn),
        "critical" => Some(Level::Critical),
        _ => None,
    }
}

/// Levels in order of severity, so that `min_level` can compare them.
pub fn rank(level: Level) -> u8 {
    match level {
        Level::Info => 0,
        Level::Warn => 1,
        Level::Critical => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_without_config() {
        assert_eq!(from_config(&[]), (Policy::default(), vec![]));
    }

    #[test]
    fn reads_level_and_source() {
        let (policy, warnings) =
            from_config(&pairs(&[("min_level", "WARN"), ("source", "edge-7")]));
        assert_eq!(policy.min_level, Level::Warn);
        assert_eq!(policy.source, "edge-7");
        assert!(warnings.is_empty());
    }

    #[test]
    fn bad_values_fall_back_and_warn_by_key() {
        let (policy, warnings) = from_config(&pairs(&[("min_level", "loud"), ("source", "  ")]));
        assert_eq!(policy, Policy::default());
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].contains("min_level") && warnings[0].contains("loud"));
        assert!(warnings[1].contains("source"));
    }

    #[test]
    fn levels_are_ordered() {
        assert!(rank(Level::Info) < rank(Level::Warn));
        assert!(rank(Level::Warn) < rank(Level::Critical));
    }
}
