//! A bare nats-server of its own, for the tests of wRPC on NATS that need no wasmCloud host.

use std::fs::File;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use neon_ops::free_port;
use neon_ops::paths::placed_downloads_dir;

/// A nats-server on a free loopback port, killed (and its folder removed) when dropped.
pub struct NatsServer {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl NatsServer {
    /// Starts one with `config` (nats-server's configuration language), its files in a folder
    /// named after `name` and this process.
    pub fn start(name: &str, config: &str) -> Self {
        let binary = placed_downloads_dir().join("nats-server");
        assert!(
            binary.exists(),
            "{} missing: run scripts/setup.sh",
            binary.display()
        );
        let dir = std::env::temp_dir().join(format!("neon-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let log_path = dir.join("nats.log");
        let config_path = dir.join("nats.conf");
        std::fs::write(&config_path, config).expect("nats config");
        for _ in 0..5 {
            let port = free_port().expect("free port");
            let log = File::create(&log_path).expect("nats log");
            let child = Command::new(&binary)
                .arg("-c")
                .arg(&config_path)
                .args(["-a", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("start nats-server");
            let mut server = Self {
                child,
                port,
                dir: dir.clone(),
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = server.child.try_wait() {
                    break; // the port was taken meanwhile: try another
                }
                let ready = std::fs::read_to_string(&log_path)
                    .is_ok_and(|log| log.contains("Server is ready"));
                if ready && TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("nats-server did not start: {}", log_path.display());
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's warnings and errors (slow consumers, closed connections), for a failure.
    pub fn complaints(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("nats.log"))
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("[WRN]") || line.contains("[ERR]"))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
