//! Test rig: a private nats-server, the provider binary started the way the wasmCloud host
//! starts it, and a wRPC client that calls it the way a component's host does.
//!
//! Every process started here is killed and reaped on drop, also when a test panics.
// Each test binary (and the bench) uses a different part of the rig.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::HeaderMap;
use base64::Engine as _;
use wasmcloud_provider_sdk::{HostData, InterfaceLinkDefinition};
use wrpc_transport::InvokeExt as _;

/// Client bindings from the same WIT the provider serves: the component's side of the contract.
/// The world lives in another package than the interfaces, hence `generate_all`.
pub mod client {
    wit_bindgen_wrpc::generate!({
        world: "neon:test-client/client",
        generate_all,
        inline: "package neon:test-client;
                 world client {
                     import cyber:system/logging@0.1.0;
                     import cyber:system/sink@0.1.0;
                 }",
        path: "../../wit/system",
    });
}

pub use client::cyber::system::sink::Entry;
pub use client::cyber::system::types::Level;

/// Where the nats-server binary is: NEON_NATS_SERVER, then where scripts/setup.sh (and wash)
/// put it, then PATH.
pub fn nats_server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("NEON_NATS_SERVER") {
        return PathBuf::from(p);
    }
    let downloads = std::env::var_os("WASH_DOWNLOADS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/wash/downloads"))
        });
    if let Some(candidate) = downloads.map(|d| d.join("nats-server")) {
        if candidate.is_file() {
            return candidate;
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("nats-server");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "nats-server not found: set NEON_NATS_SERVER, or run scripts/setup.sh (it installs \
         nats-server 2.11.3 into $WASH_DOWNLOADS_DIR, default ~/.local/share/wash/downloads)"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// A child process that is killed and reaped when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A nats-server with JetStream on a free loopback port, with its own store directory.
pub struct NatsServer {
    process: Option<Reaped>,
    pub url: String,
    dir: tempfile::TempDir,
}

impl NatsServer {
    pub fn start() -> Self {
        let binary = nats_server_binary();
        let dir = tempfile::tempdir().expect("tempdir");
        // The port is free when chosen but could be taken before the server binds it: retry.
        for _ in 0..5 {
            let port = free_port();
            let log = File::create(dir.path().join("nats.log")).expect("nats log");
            let child = Command::new(&binary)
                .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
                .arg(dir.path().join("jetstream"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let mut process = Reaped(child);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = process.0.try_wait() {
                    break; // exited: port taken, try another
                }
                // Ready means *this* server says so: a bare TCP connect could reach another
                // test's server that won the race for the same port.
                let log = std::fs::read_to_string(dir.path().join("nats.log")).unwrap_or_default();
                if log.contains("Server is ready")
                    && TcpStream::connect(("127.0.0.1", port)).is_ok()
                {
                    return Self {
                        process: Some(process),
                        url: format!("nats://127.0.0.1:{port}"),
                        dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let log = std::fs::read_to_string(dir.path().join("nats.log")).unwrap_or_default();
        panic!("nats-server did not start; its log:\n{log}");
    }

    pub async fn client(&self) -> async_nats::Client {
        async_nats::connect(&self.url)
            .await
            .expect("connect to the test nats-server")
    }

    /// Stops the server now (to make a sink's server go away mid-test).
    pub fn kill(&mut self) {
        self.process.take();
    }
}

/// A link from a component to the provider, as the host describes it.
pub fn link(
    source_id: &str,
    name: &str,
    provider_key: &str,
    config: &[(&str, &str)],
) -> InterfaceLinkDefinition {
    InterfaceLinkDefinition {
        source_id: source_id.into(),
        target: provider_key.into(),
        name: name.into(),
        wit_namespace: "cyber".into(),
        wit_package: "system".into(),
        interfaces: vec!["logging".into(), "sink".into()],
        target_config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

/// The provider binary, started like the host does it: empty environment (but RUST_LOG),
/// HostData as base64 on stdin, stdout and stderr captured.
pub struct ProviderProcess {
    process: Reaped,
    pub provider_key: String,
    pub lattice: String,
    pub host_id: String,
    /// Link puts are addressed to the provider's xkey (hosts from 1.1 on).
    link_put_id: String,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    nats: async_nats::Client,
    dir: tempfile::TempDir,
}

pub struct Launch<'a> {
    pub nats: &'a NatsServer,
    pub lattice: &'a str,
    pub links: Vec<InterfaceLinkDefinition>,
    pub config: HashMap<String, String>,
}

pub const PROVIDER_KEY: &str = "neon-logging";

impl ProviderProcess {
    pub async fn start(launch: Launch<'_>) -> Self {
        if std::env::var_os("NEON_TEST_VERBOSE").is_some() {
            // The test side of wRPC logs too (to the captured test output).
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let host_xkey = nkeys::XKey::new();
        let provider_xkey = nkeys::XKey::new();
        let host_id = nkeys::KeyPair::new_server().public_key();
        let host_data = HostData {
            host_id: host_id.clone(),
            lattice_rpc_prefix: launch.lattice.into(),
            link_name: "default".into(),
            lattice_rpc_url: launch.nats.url.clone(),
            provider_key: PROVIDER_KEY.into(),
            instance_id: format!("test-{}", std::process::id()),
            link_definitions: launch.links,
            config: launch.config,
            host_xkey_public_key: host_xkey.public_key(),
            provider_xkey_private_key: provider_xkey.seed().expect("xkey seed"),
            default_rpc_timeout_ms: Some(2000),
            ..Default::default()
        };
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(&host_data).expect("HostData as JSON"));

        let stdout = dir.path().join("provider.stdout");
        let stderr = dir.path().join("provider.stderr");
        let mut command = Command::new(env!("CARGO_BIN_EXE_neon-logging-provider"));
        command
            .env_clear()
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::piped())
            .stdout(File::create(&stdout).expect("stdout file"))
            .stderr(File::create(&stderr).expect("stderr file"));
        let mut child = command.spawn().expect("start the provider binary");
        {
            let mut stdin = child.stdin.take().expect("stdin");
            stdin
                .write_all(encoded.as_bytes())
                .and_then(|()| stdin.write_all(b"\r\n"))
                .expect("write HostData");
        } // stdin closed here, as the host does
        let me = Self {
            process: Reaped(child),
            provider_key: PROVIDER_KEY.into(),
            lattice: launch.lattice.into(),
            host_id,
            link_put_id: provider_xkey.public_key(),
            stdout,
            stderr,
            nats: launch.nats.client().await,
            dir,
        };
        me.wait_until_serving().await;
        me
    }

    /// Ready when a wRPC call gets an answer (any answer) rather than "no responders".
    async fn wait_until_serving(&self) {
        let caller = self.caller("readiness-probe", "default").await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if caller
                .write_with_timeout(&[], Duration::from_millis(500))
                .await
                .is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "provider did not start serving within 30 s; stderr:\n{}",
                self.stderr_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn caller(&self, source_id: &str, link_name: &str) -> Caller {
        let prefix = format!("{}.{}", self.lattice, self.provider_key);
        Caller {
            wrpc: wrpc_transport_nats::Client::new(self.nats.clone(), prefix, None)
                .await
                .expect("wRPC client"),
            source_id: source_id.into(),
            link_name: link_name.into(),
        }
    }

    /// A link put at runtime, on the subject a wasmCloud 1.1+ host uses.
    pub async fn put_link(&self, link: &InterfaceLinkDefinition) {
        let subject = format!(
            "wasmbus.rpc.{}.{}.linkdefs.put",
            self.lattice, self.link_put_id
        );
        self.publish(subject, link).await;
    }

    pub async fn delete_link(&self, link: &InterfaceLinkDefinition) {
        let subject = format!(
            "wasmbus.rpc.{}.{}.linkdefs.del",
            self.lattice, self.provider_key
        );
        self.publish(subject, link).await;
    }

    async fn publish(&self, subject: String, link: &InterfaceLinkDefinition) {
        let payload = serde_json::to_vec(link).expect("link as JSON");
        self.nats
            .publish(subject, payload.into())
            .await
            .expect("publish");
        self.nats.flush().await.expect("flush");
    }

    /// The host's health check: (healthy, message).
    pub async fn health(&self) -> (bool, String) {
        let subject = format!("wasmbus.rpc.{}.{}.health", self.lattice, self.provider_key);
        let reply = tokio::time::timeout(
            Duration::from_secs(5),
            self.nats.request(subject, "".into()),
        )
        .await
        .expect("health check timed out")
        .expect("health check");
        let v: serde_json::Value = serde_json::from_slice(&reply.payload).expect("health JSON");
        (
            v["healthy"].as_bool().unwrap_or(false),
            v["message"].as_str().unwrap_or_default().to_string(),
        )
    }

    /// What the host does on `wash stop provider`: a shutdown request, answered once
    /// `Provider::shutdown` has run; then the process is killed at once.
    pub async fn shutdown_like_the_host(&mut self) -> String {
        let subject = format!(
            "wasmbus.rpc.{}.{}.default.shutdown",
            self.lattice, self.provider_key
        );
        let body = serde_json::json!({ "host_id": self.host_id }).to_string();
        let reply = tokio::time::timeout(
            Duration::from_secs(15),
            self.nats.request(subject, body.into()),
        )
        .await
        .expect("shutdown timed out")
        .expect("shutdown request");
        let _ = self.process.0.kill();
        let _ = self.process.0.wait();
        String::from_utf8_lossy(&reply.payload).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// A scratch directory that lives as long as the provider.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for ProviderProcess {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("NEON_TEST_VERBOSE").is_some() {
            eprintln!("--- provider stderr ---\n{}", self.stderr_text());
        }
    }
}

/// One component's view of the provider: its id and the link name it calls through, stamped
/// on every call in the headers the wasmCloud host sets (`source-id`, `link-name`).
pub struct Caller {
    wrpc: wrpc_transport_nats::Client,
    source_id: String,
    link_name: String,
}

impl Caller {
    fn headers(&self) -> Option<HeaderMap> {
        let mut headers = HeaderMap::new();
        headers.insert("source-id", self.source_id.as_str());
        headers.insert("link-name", self.link_name.as_str());
        Some(headers)
    }

    /// `sink.write`; the outer error is the transport's, the inner one the provider's answer.
    /// The transport's timeout covers only the start of a call; if the provider dies after
    /// taking it, the answer never comes. The outer timeout bounds the whole call.
    pub async fn write_with_timeout(
        &self,
        entries: &[Entry],
        timeout: Duration,
    ) -> anyhow::Result<Result<(), String>> {
        let wrpc = self.wrpc.timeout(timeout);
        let call = client::cyber::system::sink::write(&wrpc, self.headers(), entries);
        tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| anyhow::anyhow!("sink.write got no answer within {timeout:?}"))?
    }

    pub async fn write(&self, entries: &[Entry]) -> Result<(), String> {
        self.write_with_timeout(entries, Duration::from_secs(10))
            .await
            .expect("sink.write transport")
    }

    /// `logging.log`: `Err` when the provider failed the call (its record was not written),
    /// with the reason it gave.
    pub async fn log(&self, message: &str, level: Level) -> anyhow::Result<()> {
        let timeout = Duration::from_secs(10);
        let wrpc = self.wrpc.timeout(timeout);
        let call = client::cyber::system::logging::log(&wrpc, self.headers(), message, level);
        tokio::time::timeout(timeout, call)
            .await
            .expect("logging.log got no answer")
    }
}

pub fn entry(source: &str, message: &str, level: Level) -> Entry {
    Entry {
        level,
        message: message.into(),
        source: source.into(),
        timestamp_ms: 1_764_000_000_000,
    }
}

/// Parsed JSON lines of a file (empty if it does not exist).
pub fn read_records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not one JSON object per line: {e}: {l}"))
        })
        .collect()
}

/// Every message still in `stream` on `subject`, as parsed JSON, in stream order.
pub async fn stream_records(
    nats: &async_nats::Client,
    stream: &str,
    subject: &str,
) -> Vec<serde_json::Value> {
    let js = jetstream::new(nats.clone());
    let mut stream = match js.get_stream(stream).await {
        Ok(s) => s,
        Err(_) => return Vec::new(),
    };
    let state = stream.info().await.expect("stream info").state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return out;
    }
    for seq in state.first_sequence..=state.last_sequence {
        // Deleted sequences (a rolled-back batch) are gaps: skip them.
        if let Ok(msg) = stream.get_raw_message(seq).await {
            if msg.subject.as_str() == subject {
                out.push(serde_json::from_slice(&msg.payload).expect("stream message is JSON"));
            }
        }
    }
    out
}

/// Polls `check` until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
