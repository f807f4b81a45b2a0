//! Someone on the network between hub and edge: the hub's leaf node listener must demand TLS
//! and credentials, and a leaf node that trusts Neon's CA but has no credentials must not get
//! in. The intruder is a plain nats-server of its own, on loopback, removed on return.

use std::io::Read as _;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use neon_ops::auth::{tls, Auth};
use neon_ops::edge::Settings;
use neon_ops::free_port;
use neon_ops::paths::placed_binary;

/// What the hub's leaf listener announces to anyone who connects (its INFO line).
pub fn leaf_listener_info(settings: &Settings) -> Result<serde_json::Value> {
    let address = format!("{}:{}", settings.hub_leaf_address(), settings.leaf_port);
    let mut stream =
        TcpStream::connect(&address).with_context(|| format!("connecting to {address}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buffer = vec![0; 4096];
    let n = stream.read(&mut buffer)?;
    let line = String::from_utf8_lossy(&buffer[..n]);
    let json = line
        .strip_prefix("INFO ")
        .with_context(|| format!("no INFO from {address}: {line:?}"))?;
    Ok(serde_json::from_str(json.trim())?)
}

/// Runs a leaf node with Neon's CA and no credentials against the hub for up to `limit`; what
/// its log says about the connection: `Ok(refusal line)` when the hub refused it, an error
/// when it was admitted or nothing was decided in time.
pub fn leaf_without_credentials(
    settings: &Settings,
    dir: &Path,
    limit: Duration,
) -> Result<String> {
    std::fs::create_dir_all(dir)?;
    let config = dir.join("intruder.conf");
    let log = dir.join("intruder.log");
    let ca = tls::ca_file(Auth::ensure()?.dir());
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{}\nleafnodes {{ reconnect: \"1s\", remotes: [ {{ url: \"nats-leaf://{}:{}\", tls {{ ca_file: \"{}\" }} }} ] }}\n",
            free_port()?,
            settings.hub_leaf_address(),
            settings.leaf_port,
            ca.display()
        ),
    )?;
    let mut child = Command::new(placed_binary("nats-server")?)
        .arg("-c")
        .arg(&config)
        .arg("-l")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the intruding leaf node")?;
    let deadline = Instant::now() + limit;
    let verdict = loop {
        // The leaf node logs "connection created" when the TLS link is up, then the hub's
        // verdict on its credentials.
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .find(|l| l.to_lowercase().contains("authorization violation"))
        {
            break Ok(line.to_string());
        }
        if Instant::now() >= deadline {
            let what = match text.contains("Leafnode connection created") {
                true => "the hub admitted a leaf node without credentials",
                false => "no verdict on the intruding leaf node",
            };
            break Err(anyhow::anyhow!("{what} in {limit:?}:\n{text}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(dir);
    verdict
}

/// Both checks, as one line for the test's figures.
pub fn hub_refuses_intruders(settings: &Settings, dir: &Path) -> Result<String> {
    let info = leaf_listener_info(settings)?;
    if info["tls_required"] != true || info["auth_required"] != true {
        bail!("the hub's leaf listener does not demand TLS and credentials: {info}");
    }
    let refusal = leaf_without_credentials(settings, dir, Duration::from_secs(15))?;
    Ok(format!(
        "intruders: the leaf listener demands TLS and credentials; a leaf node with the CA and no credentials was refused ({})",
        refusal.split(" - ").last().unwrap_or(&refusal).trim()
    ))
}
