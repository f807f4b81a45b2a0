//! The standalone pipeline (build/pipeline-standalone.wasm: gateway + processor + logger +
//! file-sink + env-config in one component that imports only WASI) served unchanged by runtimes
//! other than a wasmCloud 1.x lattice: `wasmtime serve` and wash 2.x's `wash dev`. Each must give
//! the answers the lattice gives (the same table of cases as the lattice end-to-end test), write
//! exactly the records those requests make (to a file, or to stdout without one), answer 500
//! when the records cannot be written, and under 128 clients for a while (more than a default
//! instance pool holds of this component) fail none and keep the records of every 200.

use std::time::Duration;

use anyhow::{ensure, Result};
use neon_lattice_tests::records;
use neon_lattice_tests::semantics;
use neon_ops::load;
use neon_ops::paths;
use neon_ops::standalone::{Runtime, Served, Sink};
use tokio::sync::Mutex;

/// One runtime at a time: the load phase should have the machine to itself.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

async fn serve(runtime: Runtime, test: &str, sink: Sink) -> Result<Served> {
    let component = paths::build_dir()?.join("pipeline-standalone.wasm");
    let work = paths::target_dir().join("neon-runtimes").join(format!(
        "{}-{test}-{}",
        runtime.name(),
        std::process::id()
    ));
    Served::start(runtime, &component, &work, sink).await
}

async fn same_semantics_and_records(runtime: Runtime) -> Result<()> {
    let served = serve(runtime, "semantics", Sink::File).await?;
    let client = served.client(Duration::from_secs(30))?;
    semantics::check(&client).await?;
    let expected = semantics::expected_records();
    let got = records::wait_for(&served.records, expected.len(), Duration::from_secs(10)).await?;
    ensure!(
        got == expected,
        "{}: records for the semantic requests: {got:#?}",
        runtime.name()
    );
    Ok(())
}

/// Without a sink file the records go to stdout: there, one JSON line each, and nothing else.
async fn records_on_stdout(runtime: Runtime) -> Result<()> {
    let served = serve(runtime, "stdout", Sink::Stdout).await?;
    let client = served.client(Duration::from_secs(30))?;
    client.process_checked("to stdout").await?;
    let expected = [semantics::started(), semantics::completed()];
    // The readiness probe (GET /healthz) logs nothing, so these are the only records.
    let got = records::wait_for(&served.records, expected.len(), Duration::from_secs(10)).await?;
    ensure!(
        got == expected,
        "{}: records on stdout: {got:#?}",
        runtime.name()
    );
    Ok(())
}

/// The sink's file replaced by a folder under a running runtime: the records of the next request
/// cannot be written, so it must get a 500 that says so, never a 200.
async fn unwritable_records_fail_the_request(runtime: Runtime) -> Result<()> {
    let served = serve(runtime, "unwritable", Sink::File).await?;
    let client = served.client(Duration::from_secs(30))?;
    client.process_checked("before").await?;
    std::fs::remove_file(&served.records)?;
    std::fs::create_dir(&served.records)?;
    let reply = client.post("/process", "after").await?;
    ensure!(
        reply.status == 500 && reply.body.contains("not written"),
        "{}: with a folder where the sink's file was: {} {:?}",
        runtime.name(),
        reply.status,
        reply.body
    );
    Ok(())
}

async fn sustained_128_clients(runtime: Runtime) -> Result<()> {
    let served = serve(runtime, "load", Sink::File).await?;
    eprintln!(
        "{}: a request takes {:?} from a pool of {:?}",
        runtime.name(),
        served.footprint,
        served.pool
    );
    let client = served.client(Duration::from_secs(30))?;
    let report = load::run(&client, 128, Duration::from_secs(10), usize::MAX).await;
    eprintln!(
        "{}: 128 clients for 10 s: {}",
        runtime.name(),
        report.summary()
    );
    ensure!(
        report.failed == 0 && report.ok > 0,
        "{}: {} of {} requests failed: {:?}",
        runtime.name(),
        report.failed,
        report.failed + report.ok,
        report.failures
    );
    // Every 200 was answered after its two records were written.
    let got = records::read(&served.records)?;
    ensure!(
        got.len() == 2 * report.ok,
        "{}: {} answered requests left {} records",
        runtime.name(),
        report.ok,
        got.len()
    );
    Ok(())
}

async fn run(test: impl std::future::Future<Output = Result<()>>) {
    let _turn = ONE_AT_A_TIME.lock().await;
    if let Err(e) = test.await {
        panic!("{e:#}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_serve_answers_like_the_lattice() {
    run(same_semantics_and_records(Runtime::WasmtimeServe)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wash2_answers_like_the_lattice() {
    run(same_semantics_and_records(Runtime::Wash2)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_serve_fails_requests_whose_records_cannot_be_written() {
    run(unwritable_records_fail_the_request(Runtime::WasmtimeServe)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wash2_fails_requests_whose_records_cannot_be_written() {
    run(unwritable_records_fail_the_request(Runtime::Wash2)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_serve_writes_records_to_stdout_without_a_sink_file() {
    run(records_on_stdout(Runtime::WasmtimeServe)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wash2_writes_records_to_stdout_without_a_sink_file() {
    run(records_on_stdout(Runtime::Wash2)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_serve_sustained_128_clients() {
    run(sustained_128_clients(Runtime::WasmtimeServe)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wash2_sustained_128_clients() {
    run(sustained_128_clients(Runtime::Wash2)).await;
}
