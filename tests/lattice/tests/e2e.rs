//! Neon end to end on a real lattice (NATS + wasmCloud host + wadm, started by `wash up`), once
//! per wiring: HTTP semantics through the host's built-in HTTP server (and once through the
//! http-server provider), every log record in the logging provider's file sink,
//! undeploy/redeploy; 1000 sequential requests and 2 x 60 s of 64 clients with nothing lost;
//! a frozen logging provider that must not hang the app; and a killed one that must not lose
//! the records of any request that got 200.
//!
//! Tests take turns (one lattice at a time on a 2-core machine); each brings up a private
//! lattice and takes it down, with every process it started, when it ends or fails.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use neon_lattice_tests::accounting::account;
use neon_lattice_tests::deploy::deploy_wiring;
use neon_lattice_tests::records::{self, Record};
use neon_lattice_tests::semantics::{self, completed, started};
use neon_ops::load::{self, Client};
use neon_ops::{Ingress, Lattice, Rendered, Wiring};
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// The logging provider's binary, as its command line names it: the host unpacks a provider
/// archive to a file named after its reference, every character but [a-z0-9] made `_`.
const LOGGING_PROVIDER: &str = "neon_logging_provider_par_gz";

/// Waits until the sink holds `before + expected.len()` records (bounded) and returns the new ones.
async fn new_records(log: &std::path::Path, before: usize, expected: usize) -> Result<Vec<Record>> {
    let all = records::wait_for(log, before + expected, Duration::from_secs(30)).await?;
    // Anything late would show up as extra records: give stragglers a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = records::read(log).map(|now| if now.len() > all.len() { now } else { all })?;
    Ok(all[before.min(all.len())..].to_vec())
}

/// Deploys the wiring's manifest on the lattice and waits for the first 200; returns the
/// rendered manifest, a client, and how many records the sink already holds.
async fn deploy(lattice: &Lattice, wiring: Wiring) -> Result<(Rendered, Client, usize)> {
    let deploying = Instant::now();
    let app = format!("neon-e2e-{}", wiring.name());
    let (rendered, client) = deploy_wiring(lattice, wiring, &app).await?;
    eprintln!(
        "{}: deploy to first 200: {:.2?}",
        wiring.name(),
        deploying.elapsed()
    );
    // The readiness probe itself was logged: count from here.
    let before = new_records(&rendered.log_file, 0, 2).await?.len();
    Ok((rendered, client, before))
}

async fn pipeline_on_the_lattice(lattice: &Lattice, wiring: Wiring) -> Result<()> {
    let (rendered, client, before) = deploy(lattice, wiring).await?;
    let (app, log) = (&rendered.app, &rendered.log_file);

    // HTTP semantics through the whole chain, and exactly the records they make.
    semantics::check(&client).await?;
    let expected = semantics::expected_records();
    let got = new_records(log, before, expected.len()).await?;
    ensure!(
        got == expected,
        "records for the semantic requests: {got:#?}"
    );

    // Undeploy: the HTTP listener goes away; deploy the stored version again: it comes back.
    // Not behind the http-server provider: the host launcher's link re-delivery to a freshly
    // started provider can race with wadm's own re-put of the link (README, "Known limits"),
    // and a redeploy starts the provider afresh. The built-in server has no such start.
    if wiring.ingress() == Ingress::Provider {
        return Ok(());
    }
    lattice.undeploy(app, Duration::from_secs(60)).await?;
    let gone = Instant::now();
    while client
        .post("/process", "still there?")
        .await
        .is_ok_and(|r| r.status == 200)
    {
        ensure!(
            gone.elapsed() < Duration::from_secs(30),
            "still serving 30 s after undeploy"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    lattice
        .deploy_stored(app, &rendered.version, Duration::from_secs(180))
        .await?;
    client
        .wait_ready(Duration::from_secs(60))
        .await
        .context("after redeploy")?;
    client
        .post("/process", "again")
        .await?
        .expect(200, Some("AGAIN"), "after redeploy")?;
    Ok(())
}

async fn sequential_on_the_lattice(lattice: &Lattice, wiring: Wiring) -> Result<()> {
    let (rendered, client, before) = deploy(lattice, wiring).await?;
    let log = &rendered.log_file;
    // 1000 sequential requests: none answered wrong, no record missing or out of order.
    for i in 0..1000 {
        client
            .process_checked(&format!("sequence {i}"))
            .await
            .with_context(|| format!("request {i}"))?;
    }
    let got = new_records(log, before, 2000).await?;
    let expected: Vec<Record> = (0..1000).flat_map(|_| [started(), completed()]).collect();
    ensure!(
        got == expected,
        "1000 requests left {} records ({} starts, {} completions), first out of place at {:?}",
        got.len(),
        got.iter().filter(|r| **r == started()).count(),
        got.iter().filter(|r| **r == completed()).count(),
        got.iter().zip(&expected).position(|(a, b)| a != b)
    );

    Ok(())
}

/// 64 clients for 60 s, 1 s idle, 60 s more: no request failed or hung, every answered
/// request's two records in the sink exactly once (accounted by request id), and the app still
/// answers afterwards.
async fn sustained_load_on_the_lattice(lattice: &Lattice, wiring: Wiring) -> Result<()> {
    let (rendered, client, before) = deploy(lattice, wiring).await?;
    let mut answered = load::LoadReport::default();
    for round in 1..=2 {
        if round > 1 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let report = load::run(&client, 64, Duration::from_secs(60), usize::MAX).await;
        eprintln!(
            "{}: 64 clients for 60 s, round {round}: {}",
            wiring.name(),
            report.summary()
        );
        ensure!(
            report.failed == 0 && report.ok > 0,
            "round {round}: {} failed ({} timed out): {:?}",
            report.failed,
            report.timed_out,
            report.failures
        );
        answered.ok += report.ok;
        answered.ok_ids.extend(report.ok_ids);
    }
    new_records(&rendered.log_file, before, 2 * answered.ok).await?;
    let all = settled_records(&rendered.log_file).await?;
    let accounted = account(&all[before..], &answered)?;
    ensure!(
        accounted.records == 2 * answered.ok,
        "{} answered requests left {} records",
        answered.ok,
        accounted.records
    );
    client
        .process_checked("still there")
        .await
        .context("after the load")?;
    Ok(())
}

/// The logging provider frozen (SIGSTOP) while 64 clients send: every `sink.write` a request
/// awaits goes unanswered (in the linked wiring through the logger, whose `log` the processor
/// awaits). The host's execution limit must end each such request with
/// an HTTP 500 that says why (none may hang until the client gives up, 15 s, three times the
/// limit, nor be cut off unanswered) and give its instance slot back: once the provider runs
/// again, the app answers again.
async fn frozen_sink_on_the_lattice(lattice: &Lattice, wiring: Wiring) -> Result<()> {
    let (rendered, _, _) = deploy(lattice, wiring).await?;
    let client = Client::with_timeout(rendered.http_port, Duration::from_secs(15))?;
    let frozen = lattice.signal(LOGGING_PROVIDER, "-STOP")?;
    let report = load::run(&client, 64, Duration::from_secs(8), usize::MAX).await;
    lattice.signal(LOGGING_PROVIDER, "-CONT")?;
    eprintln!(
        "{}: {frozen} logging provider process(es) frozen, 64 clients for 8 s: {}, slowest {:.1?}, first failure: {:?}",
        wiring.name(),
        report.summary(),
        report.slowest,
        report.failures.first()
    );
    ensure!(
        report.failed > 0,
        "no request failed while the sink was frozen: the freeze was not felt"
    );
    ensure!(
        report.unanswered == 0,
        "{} requests got no HTTP answer while the sink was frozen ({} hung past 15 s): {:?}",
        report.unanswered,
        report.timed_out,
        report.failures
    );
    ensure!(
        report
            .failures
            .iter()
            .all(|f| f.contains("got 500") && f.contains("failed to handle the request")),
        "failures while the sink was frozen should be 500s naming the reason: {:?}",
        report.failures
    );
    client
        .wait_ready(Duration::from_secs(30))
        .await
        .context("after the provider was thawed")?;
    for i in 0..100 {
        client
            .process_checked(&format!("thawed {i}"))
            .await
            .with_context(|| format!("after the freeze, request {i}"))?;
    }
    Ok(())
}

/// The logging provider killed (SIGKILL) 3 s into 10 s of 16 clients; the host starts it again.
/// Every request must get an HTTP answer, and every 200 must have its records in the sink; the
/// app answers afterwards. What makes this hold: in the composed wiring a request's records are
/// written by one awaited `sink.write` before its answer; in the linked and direct wirings each
/// `logging.log` returns only once the logger (or the provider) has written the record, and a
/// record it could not write fails the call, so the request.
///
/// The sink is read over the load's window alone, once it has settled and before anything else
/// is sent, and accounted request by request (each sends its own `x-request-id`, which its
/// records carry): each 200 has exactly its start and completion records; a record of a failed
/// request is one whose write landed before its answer was lost; any other record fails the test.
async fn provider_killed_on_the_lattice(lattice: &Lattice, wiring: Wiring) -> Result<()> {
    let (rendered, client, before) = deploy(lattice, wiring).await?;
    let load = {
        let client = client.clone();
        tokio::spawn(
            async move { load::run(&client, 16, Duration::from_secs(10), usize::MAX).await },
        )
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let killed = lattice.signal(LOGGING_PROVIDER, "-KILL")?;
    let report = load.await.context("load task")?;
    eprintln!(
        "{}: {killed} logging provider process(es) killed 3 s into 10 s of 16 clients: {}, first failure: {:?}",
        wiring.name(),
        report.summary(),
        report.failures.first()
    );
    ensure!(
        report.unanswered == 0,
        "{} requests got no HTTP answer ({} hung): {:?}",
        report.unanswered,
        report.timed_out,
        report.failures
    );
    let all = settled_records(&rendered.log_file).await?;
    ensure!(
        all.len() >= before,
        "the sink holds {} records, fewer than the {before} it held before the load",
        all.len()
    );
    let accounted = account(&all[before..], &report)?;
    eprintln!(
        "{}: {} records in the window, each of its request: {} x 200 have their 2 each; \
         {} failed requests left {} starts and {} completions",
        wiring.name(),
        accounted.records,
        report.ok,
        report.failed,
        accounted.failed_starts,
        accounted.failed_completions
    );
    client
        .wait_ready(Duration::from_secs(60))
        .await
        .context("after the provider was killed")?;
    Ok(())
}

/// Every record in the sink once no new one has come for 2 s (bounded): writes still queued in
/// the provider when the load ended have landed.
async fn settled_records(log: &std::path::Path) -> Result<Vec<(Record, Option<String>)>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = records::read_with_requests(log)?;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = records::read_with_requests(log)?;
        if now.len() == seen.len() || Instant::now() >= deadline {
            return Ok(now);
        }
        seen = now;
    }
}

/// What a test does on its lattice.
#[derive(Clone, Copy)]
enum Scenario {
    Pipeline,
    Sequential,
    SustainedLoad,
    FrozenSink,
    ProviderKilled,
}

async fn run(wiring: Wiring, scenario: Scenario) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let lattice = match Lattice::start(wiring.name()).await {
        Ok(lattice) => lattice,
        Err(e) => panic!("{} wiring: starting the lattice: {e:#}", wiring.name()),
    };
    let outcome = match scenario {
        Scenario::Pipeline => pipeline_on_the_lattice(&lattice, wiring).await,
        Scenario::Sequential => sequential_on_the_lattice(&lattice, wiring).await,
        Scenario::SustainedLoad => sustained_load_on_the_lattice(&lattice, wiring).await,
        Scenario::FrozenSink => frozen_sink_on_the_lattice(&lattice, wiring).await,
        Scenario::ProviderKilled => provider_killed_on_the_lattice(&lattice, wiring).await,
    };
    // Panic while the lattice is alive: its Drop then keeps the logs for the post-mortem.
    if let Err(e) = outcome {
        panic!(
            "{} wiring: {e:#} (lattice files: {})",
            wiring.name(),
            lattice.work_dir().display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_pipeline_on_a_real_lattice() {
    run(Wiring::Linked, Scenario::Pipeline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_pipeline_on_a_real_lattice() {
    run(Wiring::Direct, Scenario::Pipeline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_pipeline_on_a_real_lattice() {
    run(Wiring::Composed, Scenario::Pipeline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_ingress_pipeline_on_a_real_lattice() {
    run(Wiring::ProviderIngress, Scenario::Pipeline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_pipeline_1000_sequential_requests() {
    run(Wiring::Linked, Scenario::Sequential).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_pipeline_1000_sequential_requests() {
    run(Wiring::Direct, Scenario::Sequential).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_pipeline_1000_sequential_requests() {
    run(Wiring::Composed, Scenario::Sequential).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_pipeline_sustained_64_clients() {
    run(Wiring::Linked, Scenario::SustainedLoad).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_pipeline_sustained_64_clients() {
    run(Wiring::Direct, Scenario::SustainedLoad).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_pipeline_sustained_64_clients() {
    run(Wiring::Composed, Scenario::SustainedLoad).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_pipeline_survives_a_frozen_sink() {
    run(Wiring::Composed, Scenario::FrozenSink).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_pipeline_survives_a_frozen_sink() {
    run(Wiring::Linked, Scenario::FrozenSink).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_pipeline_keeps_every_200s_records_when_the_provider_is_killed() {
    run(Wiring::Composed, Scenario::ProviderKilled).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_pipeline_keeps_every_200s_records_when_the_provider_is_killed() {
    run(Wiring::Linked, Scenario::ProviderKilled).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_pipeline_keeps_every_200s_records_when_the_provider_is_killed() {
    run(Wiring::Direct, Scenario::ProviderKilled).await;
}

// The same scenarios as the linked wiring's, with the logger written in Python.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_logger_pipeline_on_a_real_lattice() {
    run(Wiring::PythonLogger, Scenario::Pipeline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_logger_pipeline_1000_sequential_requests() {
    run(Wiring::PythonLogger, Scenario::Sequential).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_logger_pipeline_sustained_64_clients() {
    run(Wiring::PythonLogger, Scenario::SustainedLoad).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_logger_pipeline_survives_a_frozen_sink() {
    run(Wiring::PythonLogger, Scenario::FrozenSink).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_logger_keeps_every_200s_records_when_the_provider_is_killed() {
    run(Wiring::PythonLogger, Scenario::ProviderKilled).await;
}
