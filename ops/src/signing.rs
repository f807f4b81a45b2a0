//! Neon's code-signing identity: the issuer (an nkeys account) whose signature every component
//! and provider archive Neon builds carries, and the only issuer Neon's policy service lets a
//! host run. Made on first use into `<data dir>/keys` (with the subject keys wash makes per
//! component and provider), kept out of the checkout.

use std::path::PathBuf;

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
