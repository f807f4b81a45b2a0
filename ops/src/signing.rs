//! Neon's code-signing identity: the issuer (an nkeys account) whose signature every component
//! and provider archive Neon builds carries, and the only issuer Neon's policy service lets a
//! host run. Made on first use into `<data dir>/keys` (with the subject keys wash makes per
//! component and provider), kept out of the checkout.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use nkeys::KeyPair;

use crate::paths;

/// Where Neon's signing keys live (what wash calls `WASH_KEYS`).
pub fn keys_dir() -> PathBuf {
    paths::data_dir().join("keys")
}

/// The issuer's seed.
pub fn issuer_file() -> PathBuf {
    keys_dir().join("neon_account.nk")
}

/// The issuer's public key, making the issuer on first use.
pub fn issuer() -> Result<String> {
    let path = issuer_file();
    if let Ok(seed) = std::fs::read_to_string(&path) {
        let key = KeyPair::from_seed(seed.trim())
            .map_err(|e| anyhow!("{} holds no valid seed: {e}", path.display()))?;
        return Ok(key.public_key());
    }
    std::fs::create_dir_all(keys_dir())
        .with_context(|| format!("creating {}", keys_dir().display()))?;
    let key = KeyPair::new_account();
    let seed = key
        .seed()
        .map_err(|e| anyhow!("new key without seed: {e}"))?;
    crate::auth::write_secret(&path, &seed)?;
    Ok(key.public_key())
}

/// The environment under which `wash build`, `wash par create` and `wash claims sign` sign with
/// Neon's issuer (and keep the subject keys they make beside it).
pub fn wash_env() -> Result<[(&'static str, PathBuf); 2]> {
    issuer()?;
    Ok([
        ("WASH_KEYS", keys_dir()),
        ("WASH_ISSUER_KEY", issuer_file()),
    ])
}

/// The version and revision every signed artifact's claims carry: the top-level
/// `wasmcloud.toml`'s `version` and `revision` (0 when absent), read from the checkout rather
/// than left to `wash claims sign`, which looks for a `wasmcloud.toml` in its working directory.
pub fn claims_version() -> Result<(String, u32)> {
    let file = paths::repo_root().join("wasmcloud.toml");
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    parse_claims_version(&text).with_context(|| format!("in {}", file.display()))
}

fn parse_claims_version(text: &str) -> Result<(String, u32)> {
    // Top-level keys only: the lines before the first [table].
    let top = text
        .lines()
        .take_while(|line| !line.trim_start().starts_with('['));
    let (mut version, mut revision) = (None, 0);
    for line in top {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.split('#').next().unwrap_or_default().trim();
        match key.trim() {
            "version" => version = Some(value.trim_matches('"').to_string()),
            "revision" => {
                revision = value
                    .parse()
                    .with_context(|| format!("revision {value:?} is not a whole number"))?
            }
            _ => {}
        }
    }
    let version = version.context("no top-level version")?;
    Ok((version, revision))
}

/// `wash claims sign` of `file` in place as `name`, with Neon's issuer and the checkout's
/// version and revision; nothing taken from the caller's working directory.
pub fn sign_command(file: &Path, name: &str) -> Result<std::process::Command> {
    let (version, revision) = claims_version()?;
    let mut command = std::process::Command::new("wash");
    command
        .current_dir(paths::repo_root())
        .envs(wash_env()?.iter().map(|(k, v)| (k, v)))
        .args(["claims", "sign"])
        .arg(file)
        .args([
            "--name",
            name,
            "--ver",
            &version,
            "--rev",
            &revision.to_string(),
        ])
        .arg("--destination")
        .arg(file);
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_version_comes_from_the_top_level_keys() -> Result<()> {
        let text = "name = \"neon\"\nversion = \"0.3.1\" # the app\n[component]\nversion = \"9\"\n";
        assert_eq!(parse_claims_version(text)?, ("0.3.1".to_string(), 0));
        let text = "version = \"1.0.0\"\nrevision = 4\n";
        assert_eq!(parse_claims_version(text)?, ("1.0.0".to_string(), 4));
        assert!(parse_claims_version("[component]\nversion = \"1\"\n").is_err());
        assert!(parse_claims_version("version = \"1\"\nrevision = x\n").is_err());
        Ok(())
    }

    #[test]
    fn the_checkout_names_a_version() -> Result<()> {
        let (version, _) = claims_version()?;
        assert!(!version.is_empty());
        Ok(())
    }
}
