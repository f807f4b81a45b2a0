//! Ports: every lattice Neon starts for a test takes free ones, never a fixed one.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use anyhow::Result;

/// A free TCP port on loopback, chosen by the kernel.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// True when something accepts connections on 127.0.0.1:port.
pub fn port_answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

/// Waits until something accepts connections on 127.0.0.1:port.
pub fn wait_for_port(port: u16, limit: Duration) -> Result<()> {
    crate::wait::until_blocking(
        &format!("a listener on 127.0.0.1:{port}"),
        limit,
        Duration::from_millis(200),
        || match port_answers(port) {
            true => Ok(()),
            false => anyhow::bail!("nothing listens"),
        },
    )
}

/// Who listens on a TCP port, for error messages (`ss` names the process when it may).
pub fn port_owner(port: u16) -> String {
    let filter = format!("sport = :{port}");
    std::process::Command::new("ss")
        .args(["-ltnpH", &filter])
        .output()
        .ok()
        .and_then(|out| {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let users = text.split("users:((").nth(1)?.to_string();
            let name = users.split('"').nth(1)?.to_string();
            let pid = users.split("pid=").nth(1)?.split(',').next()?.to_string();
            Some(format!("{name} (pid {pid})"))
        })
        .unwrap_or_else(|| "an unknown process".to_string())
}

/// An error when something listens on one of the ports, naming it.
pub fn ensure_ports_free(ports: &[u16], hint: &str) -> Result<()> {
    for port in ports {
        if port_answers(*port) {
            anyhow::bail!("port {port} is taken by {}{hint}", port_owner(*port));
        }
    }
    Ok(())
}
