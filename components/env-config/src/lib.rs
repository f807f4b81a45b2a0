//! env-config: `wasi:config/store` from the environment (`wasi:cli/environment`).
//!
//! `NEON_<KEY>=value` is config key `<key>`, lower-cased: `NEON_MIN_LEVEL=warn` is `min_level`.
//! Only `NEON_` variables are config, so what a runtime adds to the environment (wasmtime serve's
//! `REQUEST_ID`, say) never reads as a setting. std on purpose: its environment is what it reads.

wit_bindgen::generate!({
    path: ["../../wit/deps/config", "../../wit/env-config"],
    world: "cyber:env-config/env-config",
    generate_all,
});

use exports::wasi::config::store::{Error, Guest};

const PREFIX: &str = "NEON_";

struct EnvConfig;

impl Guest for EnvConfig {
    fn get(key: String) -> Result<Option<String>, Error> {
        Ok(config_pairs(std::env::vars())
            .find(|(k, _)| *k == key)
            .map(|(_, value)| value))
    }

    fn get_all() -> Result<Vec<(String, String)>, Error> {
        Ok(config_pairs(std::env::vars()).collect())
    }
}

/// The config pairs among environment variables.
fn config_pairs(
    vars: impl Iterator<Item = (String, String)>,
) -> impl Iterator<Item = (String, String)> {
    vars.filter_map(|(name, value)| {
        let key = name.strip_prefix(PREFIX)?;
        (!key.is_empty()).then(|| (key.to_ascii_lowercase(), value))
    })
}

export!(EnvConfig);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_prefixed_variables_are_config_and_their_keys_are_lower_cased() {
        let vars = [
            ("NEON_MIN_LEVEL", "warn"),
            ("NEON_SINK_FILE", "/records/r.jsonl"),
            ("REQUEST_ID", "7"),
            ("NEON_", "no key"),
            ("neon_lower", "not the prefix"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let pairs: Vec<_> = config_pairs(vars.into_iter()).collect();
        assert_eq!(
            pairs,
            [
                ("min_level".to_string(), "warn".to_string()),
                ("sink_file".to_string(), "/records/r.jsonl".to_string()),
            ]
        );
    }
}
