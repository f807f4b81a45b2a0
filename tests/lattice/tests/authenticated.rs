//! Who gets into a Neon lattice, asked with plain clients (async-nats as any NATS client uses
//! it, and `wash`), not through Neon's tooling: without credentials nobody connects; the log
//! reader reads the log stream and is refused on wRPC, control and wadm subjects; a `sink.write`
//! it forges is refused and nothing reaches the sink. The same requests made with the
//! credentials that may make them are answered, so each refusal is the permission's doing.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use async_nats::jetstream;
use neon_lattice_tests::records;
use neon_lattice_tests::semantics::GATEWAY_INDEX;
use neon_ops::auth::{Auth, Role, LOG_READER_INBOX, LOG_STREAM};
use neon_ops::load::Client;
use neon_ops::manifest::Draft;
use neon_ops::{free_port, Lattice, Wiring};

/// The component's side of the logging provider's contract, to forge its calls.
mod sink_client {
    wit_bindgen_wrpc::generate!({
        world: "neon:forger/client",
        generate_all,
        inline: "package neon:forger;
                 world client { import cyber:system/sink@0.1.0; }",
        path: "../../wit/system",
    });
}
use sink_client::cyber::system::sink::{self, Entry};
use sink_client::cyber::system::types::Level;

const APP: &str = "neon-auth";
const REQUESTS: usize = 5;
/// A refused request gets no answer; one allowed is answered in milliseconds.
const ANSWER: Duration = Duration::from_secs(2);

/// What the server told a client it refused (`Permissions Violation for Publish to "..."`).
#[derive(Clone, Default)]
struct Refusals(Arc<Mutex<Vec<String>>>);

impl Refusals {
    fn names(&self, subject: &str) -> bool {
        let seen = self.0.lock().map(|v| v.clone()).unwrap_or_default();
        seen.iter()
            .any(|e| e.to_lowercase().contains("permissions violation") && e.contains(subject))
    }
}

async fn connect_as(
    lattice: &Lattice,
    role: Role,
    refusals: &Refusals,
) -> Result<async_nats::Client> {
    let creds = Auth::ensure()?.creds(role);
    let seen = refusals.0.clone();
    let mut options = async_nats::ConnectOptions::with_credentials_file(&creds)
        .await?
        .event_callback(move |event| {
            let seen = seen.clone();
            async move {
                if let async_nats::Event::ServerError(e) = event {
                    if let Ok(mut seen) = seen.lock() {
                        seen.push(e.to_string());
                    }
                }
            }
        });
    if role == Role::LogReader {
        options = options.custom_inbox_prefix(LOG_READER_INBOX);
    }
    options
        .connect(format!("127.0.0.1:{}", lattice.nats_port))
        .await
        .with_context(|| format!("connecting as {}", role.name()))
}

/// `wash call` on the app's HTTP component, in a shell that first sources `operator_env` if
/// given; its stderr and stdout. The composed wiring's HTTP component is its pipeline.
fn wash_call(lattice: &Lattice, operator_env: Option<&Path>) -> Result<(String, String)> {
    let component = format!("{}-pipeline", APP.replace('-', "_"));
    let script = r#"[ -z "$1" ] || . "$1"; shift; exec wash "$@""#;
    let output = std::process::Command::new("bash")
        .args(["-c", script, "bash"])
        .arg(operator_env.map(Path::as_os_str).unwrap_or_default())
        .args(["call", &component, "wasi:http/incoming-handler.handle"])
        .args(["--rpc-host", "127.0.0.1", "--rpc-port"])
        .arg(lattice.nats_port.to_string())
        .args(["--lattice", &lattice.name, "--rpc-timeout-ms", "10000"])
        .env_remove("WASH_RPC_CREDS")
        .env_remove("WASMCLOUD_RPC_JWT")
        .env_remove("WASMCLOUD_RPC_SEED")
        .output()
        .context("running wash call")?;
    Ok((
        String::from_utf8_lossy(&output.stderr).to_string(),
        String::from_utf8_lossy(&output.stdout).to_string(),
    ))
}

/// `sink.write` of one record, as a component linked to the provider would call it.
async fn forge_write(
    nats: async_nats::Client,
    lattice: &Lattice,
    message: &str,
) -> Result<Result<(), String>> {
    let prefix = format!("{}.{}-logging", lattice.name, APP.replace('-', "_"));
    let wrpc = wrpc_transport_nats::Client::new(nats, prefix, None).await?;
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(
        "source-id",
        format!("{}-pipeline", APP.replace('-', "_")).as_str(),
    );
    headers.insert("link-name", "default");
    let entry = Entry {
        level: Level::Critical,
        message: message.to_string(),
        source: "neon-processor".to_string(),
        timestamp_ms: 0,
    };
    let wrpc = wrpc_transport::InvokeExt::timeout(&wrpc, ANSWER);
    match tokio::time::timeout(ANSWER * 2, sink::write(&wrpc, Some(headers), &[entry])).await {
        Ok(result) => result,
        Err(_) => bail!("no answer in {:?}", ANSWER * 2),
    }
}

async fn stream_messages(reader: &async_nats::Client) -> Result<Vec<String>> {
    let js = jetstream::new(reader.clone());
    let mut stream = js
        .get_stream(LOG_STREAM)
        .await
        .context("the log reader opening the log stream")?;
    let last = stream.info().await?.state.last_sequence;
    let mut messages = Vec::new();
    for seq in 1..=last {
        let raw = stream.get_raw_message(seq).await?;
        let record: serde_json::Value = serde_json::from_slice(&raw.payload)?;
        messages.push(record["message"].as_str().unwrap_or_default().to_string());
    }
    Ok(messages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_neons_credentials_get_in_and_the_log_reader_only_reads() -> Result<()> {
    let lattice = Lattice::start("auth").await?;
    let logs = lattice.work_dir().join("logs");
    std::fs::create_dir_all(&logs)?;
    // The composed wiring, its records in the file and in the JetStream stream.
    let rendered = Draft::load(&Wiring::Composed.manifest())?
        .set_app(APP)
        .set_http_port(free_port()?)?
        .set_config_value("state_dir", &logs.display().to_string())?
        .set_config_value("sinks", "file,nats")?
        .absolute_images()?
        .render(Some(&logs))?;
    lattice.deploy(&rendered, Duration::from_secs(180)).await?;
    let client = Client::new(rendered.http_port)?;
    client.wait_ready(Duration::from_secs(60)).await?;
    for i in 0..REQUESTS {
        client
            .post("/process", format!("request {i}"))
            .await?
            .expect(200, Some(&format!("REQUEST {i}")), "a request")?;
    }
    let address = format!("127.0.0.1:{}", lattice.nats_port);
    let mut tried = 0;

    // Without credentials: refused at connect, by a NATS client and by wash.
    tried += 1;
    let anonymous = async_nats::ConnectOptions::new()
        .connection_timeout(ANSWER)
        .connect(&address)
        .await;
    match anonymous {
        Ok(_) => bail!("a client without credentials got in"),
        Err(e) => ensure!(
            e.to_string()
                .to_lowercase()
                .contains("authorization violation"),
            "refused, but not for authorization: {e}"
        ),
    }
    tried += 1;
    let wash = std::process::Command::new("wash")
        .args(["get", "hosts", "--ctl-host", "127.0.0.1", "--ctl-port"])
        .arg(lattice.nats_port.to_string())
        .args(["--lattice", &lattice.name, "--timeout-ms", "2000"])
        .env_remove("WASH_CTL_CREDS")
        .env_remove("WASMCLOUD_CTL_CREDSFILE")
        .env_remove("WASMCLOUD_CTL_JWT")
        .env_remove("WASMCLOUD_CTL_SEED")
        .output()
        .context("running wash")?;
    let said =
        String::from_utf8_lossy(&wash.stderr).to_string() + &String::from_utf8_lossy(&wash.stdout);
    ensure!(
        !wash.status.success() && said.to_lowercase().contains("authorization violation"),
        "wash without credentials: {:?}: {said}",
        wash.status
    );
    // The operator's wash (credentials from the environment Neon's tooling sets) gets in.
    lattice
        .wash(&["get", "hosts"], Duration::from_secs(30))
        .await?;
    // `wash call` as the README shows it: refused without credentials, answered by the gateway
    // once `operator.env` is sourced.
    tried += 1;
    let (refused, said) = wash_call(&lattice, None)?;
    ensure!(
        refused.to_lowercase().contains("authorization violation"),
        "wash call without credentials: {refused} {said}"
    );
    let (errors, answer) = wash_call(&lattice, Some(&Auth::ensure()?.operator_env()))?;
    ensure!(
        answer.contains(GATEWAY_INDEX) && answer.contains("200"),
        "wash call with operator.env sourced: {answer} {errors}"
    );

    // The log reader reads the stream: every request's records are there.
    let refusals = Refusals::default();
    let reader = connect_as(&lattice, Role::LogReader, &refusals).await?;
    let messages = stream_messages(&reader).await?;
    let started = messages
        .iter()
        .filter(|m| m.as_str() == "Initiating data sequence...")
        .count();
    ensure!(
        started > REQUESTS,
        "the log reader read {} records, {started} request starts (wanted over {REQUESTS}: readiness probes and the requests)",
        messages.len()
    );

    // ... and may not publish on control, wadm or wRPC subjects; the operator's requests on
    // the same control and wadm subjects are answered.
    let operator = connect_as(&lattice, Role::Operator, &Refusals::default()).await?;
    let control = format!("wasmbus.ctl.v1.{}.host.ping", lattice.name);
    let wadm = format!("wadm.api.{}.model.list", lattice.name);
    for subject in [&control, &wadm] {
        tried += 1;
        let asked =
            tokio::time::timeout(ANSWER, reader.request(subject.clone(), "{}".into())).await;
        ensure!(
            !matches!(asked, Ok(Ok(_))),
            "the log reader got an answer on {subject}"
        );
        let answered =
            tokio::time::timeout(ANSWER * 5, operator.request(subject.clone(), "{}".into())).await;
        ensure!(
            matches!(answered, Ok(Ok(_))),
            "the operator got no answer on {subject}: {answered:?}"
        );
    }

    // A forged sink.write: refused from the log reader, nothing reaches the file or the stream.
    let file_before = records::read(&rendered.log_file)?.len();
    let stream_before = messages.len();
    tried += 1;
    let forged = forge_write(reader.clone(), &lattice, "forged by the log reader").await;
    ensure!(
        !matches!(forged, Ok(Ok(()))),
        "the log reader's forged sink.write was accepted"
    );
    let wrpc_subject = format!(
        "{}.{}-logging.wrpc.0.0.1.cyber:system/sink@0.1.0.write",
        lattice.name,
        APP.replace('-', "_")
    );
    reader.flush().await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for subject in [&control, &wadm, &wrpc_subject] {
        ensure!(
            refusals.names(subject),
            "no permissions violation reported for {subject}: {:?}",
            refusals.0.lock().map(|v| v.clone())
        );
    }
    let file_after = records::read(&rendered.log_file)?;
    ensure!(
        file_after.len() == file_before && !file_after.iter().any(|r| r.message.contains("forged")),
        "the sink file changed: {} records before, {} after",
        file_before,
        file_after.len()
    );
    let stream_after = stream_messages(&reader).await?;
    ensure!(
        stream_after.len() == stream_before && !stream_after.iter().any(|m| m.contains("forged")),
        "the stream changed: {stream_before} records before, {} after",
        stream_after.len()
    );

    // The same call with the providers' credentials (what a host uses) reaches the sink: the
    // forgery itself is sound, the credentials are what stopped it.
    let providers = connect_as(&lattice, Role::Providers, &Refusals::default()).await?;
    let written = forge_write(
        providers,
        &lattice,
        "written with the providers' credentials",
    )
    .await?;
    ensure!(
        written.is_ok(),
        "the providers' sink.write failed: {written:?}"
    );
    let file_now = records::read(&rendered.log_file)?;
    ensure!(
        file_now.len() == file_before + 1,
        "the providers' write: {} records, wanted {}",
        file_now.len(),
        file_before + 1
    );

    eprintln!(
        "auth: {tried} attempts without the right credentials, {tried} refused; forged records that reached the sink: 0"
    );
    lattice.down()
}
