//! TLS for the connections between an edge node and the hub: a CA made once with the other
//! credentials (`ca.pem`, its key `ca-key.pem`), and a certificate for the hub's leaf node
//! listener signed by it, for the addresses an edge lattice listens on. Leaf nodes trust the
//! CA only, so a listener without a certificate from it is refused.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

const CA_NAME: &str = "Neon lattice CA";

/// The CA's certificate, for a client's `ca_file`.
pub fn ca_file(auth_dir: &Path) -> PathBuf {
    auth_dir.join("ca.pem")
}

fn ca_key_file(auth_dir: &Path) -> PathBuf {
    auth_dir.join("ca-key.pem")
}

/// The CA's parameters. Always the same, so the CA can be rebuilt from its key to sign: what a
/// certificate it signs is checked against is the CA's name and key, both kept.
fn ca_params() -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

/// Makes the CA on first use.
pub fn ensure_ca(auth_dir: &Path) -> Result<()> {
    if ca_file(auth_dir).exists() && ca_key_file(auth_dir).exists() {
        return Ok(());
    }
    let key = KeyPair::generate()?;
    let cert = ca_params()?.self_signed(&key)?;
    super::write_secret(&ca_key_file(auth_dir), &key.serialize_pem())?;
    super::write_secret(&ca_file(auth_dir), &cert.pem())
}

/// A server certificate for `addresses` (IPs or names) signed by the CA, written to
/// `<out>/<name>.pem` and `<out>/<name>-key.pem`; their paths.
pub fn server_cert(
    auth_dir: &Path,
    addresses: &[String],
    out: &Path,
    name: &str,
) -> Result<(PathBuf, PathBuf)> {
    let key_pem = std::fs::read_to_string(ca_key_file(auth_dir))
        .with_context(|| format!("reading the CA key in {}", auth_dir.display()))?;
    let ca_key = KeyPair::from_pem(&key_pem).context("the CA key is not a valid PEM key")?;
    let ca = ca_params()?.self_signed(&ca_key)?;

    let mut params = CertificateParams::new(addresses.to_vec())?;
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca, &ca_key)?;
    let (cert_path, key_path) = (
        out.join(format!("{name}.pem")),
        out.join(format!("{name}-key.pem")),
    );
    super::write_secret(&cert_path, &cert.pem())?;
    super::write_secret(&key_path, &key.serialize_pem())?;
    Ok((cert_path, key_path))
}
