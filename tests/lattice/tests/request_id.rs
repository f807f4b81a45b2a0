//! Every request has an identity, and every record it produces carries it, in every wiring (the
//! one behind wasmCloud's own http-server provider too): the gateway answers with it in
//! `x-request-id`, and the records in the sink name it. The identity is the caller's
//! `x-request-id`, else the trace id of its `traceparent`, else one the host makes.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use neon_lattice_tests::deploy::deploy_wiring;
use neon_lattice_tests::records::{self, Record};
use neon_lattice_tests::semantics::{completed, started};
use neon_ops::load::Client;
use neon_ops::{Lattice, Wiring};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Requests of each kind per wiring.
const EACH: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_names_its_request() -> Result<()> {
    let lattice = Lattice::start("request-id").await?;
    let mut wirings = Wiring::ALL.to_vec();
    wirings.push(Wiring::PythonLogger);
    for wiring in wirings {
        let app = format!("neon-request-id-{}", wiring.name());
        let (rendered, client) = deploy_wiring(&lattice, wiring, &app).await?;
        check_wiring(wiring, &client, &rendered.log_file)
            .await
            .with_context(|| wiring.name())?;
        lattice.undeploy(&app, Duration::from_secs(60)).await?;
    }
    Ok(())
}

async fn check_wiring(wiring: Wiring, client: &Client, log: &Path) -> Result<()> {
    // Records written before the requests counted here (the readiness probes) are not theirs.
    let before = settled_count(log).await?;
    let mut answered = Vec::new();
    for n in 0..EACH {
        let given = format!("neon-{}-{n}", wiring.name());
        let reply = client
            .process_with_headers(&given, &[("x-request-id", &given)])
            .await?;
        reply.expect(200, Some(&given.to_uppercase()), "with x-request-id")?;
        ensure!(
            reply.request_id.as_deref() == Some(given.as_str()),
            "the answer to x-request-id {given} named {:?}",
            reply.request_id
        );
        answered.push(given);
    }
    // A traceparent's trace id is the identity; one trace across requests is one id.
    for n in 0..EACH {
        let reply = client
            .process_with_headers(&format!("traced {n}"), &[("traceparent", TRACEPARENT)])
            .await?;
        reply.expect(200, None, "with traceparent")?;
        ensure!(
            reply.request_id.as_deref() == Some(TRACE_ID),
            "the answer to a traceparent named {:?}",
            reply.request_id
        );
    }
    let mut made = Vec::new();
    for n in 0..EACH {
        let reply = client
            .process_with_headers(&format!("anonymous {n}"), &[])
            .await?;
        reply.expect(200, None, "without an identity")?;
        let id = reply
            .request_id
            .context("an anonymous request got no identity")?;
        ensure!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "a made identity is 32 hex digits, not {id:?}"
        );
        made.push(id);
    }
    let made_distinct: std::collections::HashSet<_> = made.iter().collect();
    ensure!(
        made_distinct.len() == made.len(),
        "made identities repeat: {made:?}"
    );

    // 2 records per request, 3 kinds of request.
    let expected = 2 * 3 * EACH;
    let got = records::wait_for(log, before + expected, Duration::from_secs(20)).await?;
    let all = records::read_with_requests(log)?;
    ensure!(
        got.len() == before + expected,
        "{} records after the requests, expected {expected}",
        got.len() - before
    );
    let mut by_request: HashMap<Option<String>, Vec<Record>> = HashMap::new();
    for (record, request) in all.into_iter().skip(before) {
        by_request.entry(request).or_default().push(record);
    }
    let one_request = vec![started(), completed()];
    for id in answered.iter().chain(&made) {
        let records = by_request.remove(&Some(id.clone())).unwrap_or_default();
        ensure!(
            records == one_request,
            "records of request {id}: {records:#?}"
        );
    }
    let traced = by_request
        .remove(&Some(TRACE_ID.to_string()))
        .unwrap_or_default();
    ensure!(
        traced.len() == 2 * EACH,
        "records of the traced requests: {traced:#?}"
    );
    ensure!(
        by_request.is_empty(),
        "records of no request that was sent: {by_request:#?}"
    );
    Ok(())
}

/// How many records `log` holds once nothing has been added for a second (waiting 30 s at most).
async fn settled_count(log: &Path) -> Result<usize> {
    let mut count = records::read(log)?.len();
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = records::read(log)?.len();
        if now == count {
            return Ok(count);
        }
        count = now;
    }
    anyhow::bail!("{} kept growing for 30 s", log.display())
}
