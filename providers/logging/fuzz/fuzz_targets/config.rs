//! Any link and provider config, however malformed: parsing never panics, and what it accepts is
//! usable (a file path that names a file, limits in range, a NATS subject and stream that NATS
//! takes). A default subject is made from any source or lattice name without failing.

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
#[path = "../../src/config.rs"]
#[allow(dead_code)]
mod config;

use config::{parse_link, LinkContext, ProviderSettings};

#[derive(Debug, arbitrary::Arbitrary)]
struct Input {
    provider: Vec<(String, String)>,
    link: Vec<(String, String)>,
    source_id: String,
    link_name: String,
    lattice: String,
}

fuzz_target!(|input: Input| {
    let provider: HashMap<String, String> = input.provider.into_iter().collect();
    let Ok(provider) = ProviderSettings::from_config(&provider) else {
        return;
    };
    let link: HashMap<String, String> = input.link.into_iter().collect();
    let cx = LinkContext {
        source_id: &input.source_id,
        link_name: &input.link_name,
        lattice: &input.lattice,
        provider: &provider,
    };
    let settings = match parse_link(&link, &cx) {
        Ok(settings) => settings,
        Err(error) => {
            // A subject the provider makes itself is always valid: only a given one is refused.
            assert!(
                error.key != "subject" || link.contains_key("subject"),
                "default subject refused: {error}"
            );
            return;
        }
    };
    if let Some(file) = &settings.file {
        assert!(
            file.path.is_absolute() && file.path.file_name().is_some(),
            "{file:?}"
        );
        assert!(file.max_bytes >= 1 && file.keep <= 1000, "{file:?}");
    }
    if let Some(nats) = &settings.nats {
        assert!(
            !nats.stream.is_empty() && nats.stream.len() <= 255,
            "{nats:?}"
        );
        assert!(
            nats.subject.split('.').all(|token| !token.is_empty()
                && token != "*"
                && token != ">"
                && !token.chars().any(|c| c.is_whitespace() || c.is_control())),
            "{nats:?}"
        );
        assert!(nats.retries <= 100, "{nats:?}");
    }
});
