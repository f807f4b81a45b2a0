//! Neon across a hub and three edge nodes (scripts/edge.sh), under steady traffic, through
//! everything an edge deployment lives through: a rollout and a rollback, an edge host killed,
//! an edge node cut off for 20 s, an edge NATS leaf restarted, the hub's log stream refusing
//! records for 10 s (no request may get a 200 then). After each, the placement must
//! converge back to what manifests/edge.wadm.yaml asks for, with nothing duplicated, and at the
//! end every request that got a 200 must have its log records in the hub's JetStream stream.
//!
//! The figures (recovery time, failed requests per phase, records lost) are printed. A rollout
//! and a rollback must fail no request: the host hands a replaced component over to its
//! successor and drains it. The other phases' failure counts are measured, not asserted: a
//! request in flight on a host that is killed cannot succeed.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use neon_edge_tests::edge::{EdgeLattice, Mode};
use neon_edge_tests::full_stream;
use neon_edge_tests::intruder;
use neon_edge_tests::placement::{self, holder};
use neon_edge_tests::records::Records;
use neon_edge_tests::traffic::Traffic;
use neon_ops::wait;

const NODES: usize = 3;
/// Log records per successful request: "Initiating data sequence..." and "Sequence complete.".
const RECORDS_PER_REQUEST: u64 = 2;
/// After a deploy returns, how long its replaced instances may still be finishing calls: the
/// host's component handover (2 s by default) and the drain that follows it.
const ROLLOUT_SETTLE: Duration = Duration::from_secs(5);
/// How long the hub's log stream refuses every record.
const REFUSAL: Duration = Duration::from_secs(10);

/// edge.sh and wash are blocking commands; run them off the async workers.
fn blocking<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    tokio::task::block_in_place(f)
}

/// Polls the inventory until the placement has no problems; returns when it converged.
async fn converge(edge: &EdgeLattice, hosts: usize, limit: Duration) -> Result<Instant> {
    wait::until(
        "placement converging",
        limit,
        Duration::from_millis(500),
        || async {
            let problems = placement::problems(&edge.inventory().await?, hosts);
            if !problems.is_empty() {
                bail!("{}", problems.join("; "));
            }
            Ok(Instant::now())
        },
    )
    .await
}

struct Figures(Vec<String>);

impl Figures {
    fn add(&mut self, line: String) {
        eprintln!("edge: {line}");
        self.0.push(line);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn neon_rides_out_rollout_host_loss_partition_and_leaf_restart_on_the_edge() -> Result<()> {
    let start = Instant::now();
    let edge = blocking(|| EdgeLattice::start(NODES))?;
    let mut figures = Figures(Vec::new());
    figures.add(format!(
        "up: hub + {NODES} edge nodes ({:?} mode) deployed and serving in {:.1} s",
        edge.mode,
        start.elapsed().as_secs_f64()
    ));

    // Placement as the manifest asks: gateway and http on the hub, processor and logger once per
    // ring, the logging provider on every host.
    converge(&edge, NODES + 1, Duration::from_secs(60)).await?;
    eprintln!("{}", placement::describe(&edge.inventory().await?));

    // Someone on the network between hub and edge gets nothing without Neon's credentials.
    let settings = neon_ops::edge::Settings::load(edge.dir())?;
    figures.add(blocking(|| {
        intruder::hub_refuses_intruders(&settings, &edge.dir().join("intruder"))
    })?);

    let records = Records::connect(edge.nats_port).await?;
    let traffic = Traffic::start(edge.http_port, 3)?;
    tokio::time::sleep(Duration::from_secs(2)).await;

    // --- rollout to v2 and back to v1, under traffic -------------------------------------------
    let mut rollout_failures = Vec::new();
    for (command, source) in [("rollout", "neon-edge-v2"), ("rollback", "neon-edge-v1")] {
        let mark = records.last_sequence().await?;
        let t0 = Instant::now();
        blocking(|| edge.run(&[command], Duration::from_secs(240)))?;
        let deployed = t0.elapsed();
        tokio::time::sleep(ROLLOUT_SETTLE).await;
        let window = traffic.window(t0, Instant::now());
        figures.add(format!(
            "{command}: {} requests, {} failed {:?}, deployed in {:.1} s",
            window.outcomes.len(),
            window.failed(),
            window.reasons(),
            deployed.as_secs_f64()
        ));
        if window.failed() > 0 {
            rollout_failures.push(format!(
                "{command} failed {} of {} requests: {:?}",
                window.failed(),
                window.outcomes.len(),
                window.reasons()
            ));
        }
        // The new version is the one logging: records with its source arrive.
        if !records
            .wait_for(mark, Duration::from_secs(20), |r| r.source == source)
            .await?
        {
            bail!("after {command}, no record with source {source} reached the stream");
        }
        converge(&edge, NODES + 1, Duration::from_secs(60)).await?;
    }

    // --- an edge host dies (SIGKILL) -----------------------------------------------------------
    let victim = holder(&edge.inventory().await?, "processor", 'a')
        .context("no edge host runs the processor's ring-a share")?;
    let t0 = Instant::now();
    blocking(|| edge.run(&["kill-host", &victim.to_string()], Duration::from_secs(30)))?;
    let restored = converge(&edge, NODES, Duration::from_secs(120)).await?;
    let healthy = traffic
        .wait_healthy(t0, 30, Duration::from_secs(60))
        .await
        .context("traffic did not recover after the host kill")?;
    let settled = restored.max(healthy);
    let window = traffic.window(t0, settled);
    let new_holder = holder(&edge.inventory().await?, "processor", 'a');
    figures.add(format!(
        "host kill (edge-{victim}): wadm restored the instances in {:.1} s (on edge-{}), traffic fully served after {:.1} s; {} of {} requests failed {:?}",
        (restored - t0).as_secs_f64(),
        new_holder.map_or("?".into(), |i| i.to_string()),
        (healthy.max(t0) - t0).as_secs_f64(),
        window.failed(),
        window.outcomes.len(),
        window.reasons()
    ));
    // The node comes back empty; the app must not move or duplicate because of it.
    blocking(|| {
        edge.run(
            &["start-host", &victim.to_string()],
            Duration::from_secs(30),
        )
    })?;
    converge(&edge, NODES + 1, Duration::from_secs(90)).await?;

    // --- an edge node cut off for 20 s, then healed --------------------------------------------
    if edge.mode == Mode::Netns {
        let cut = holder(&edge.inventory().await?, "processor", 'a')
            .context("no edge host runs the processor's ring-a share")?;
        let t0 = Instant::now();
        blocking(|| edge.run(&["cut", &cut.to_string()], Duration::from_secs(30)))?;
        tokio::time::sleep(Duration::from_secs(20)).await;
        let during = traffic.window(t0, Instant::now());
        let moved = holder(&edge.inventory().await?, "processor", 'a');
        let healed = Instant::now();
        blocking(|| edge.run(&["heal", &cut.to_string()], Duration::from_secs(30)))?;
        let converged = converge(&edge, NODES + 1, Duration::from_secs(120)).await?;
        let healthy = traffic
            .wait_healthy(healed, 30, Duration::from_secs(60))
            .await
            .context("traffic did not recover after the partition healed")?;
        let after = traffic.window(healed, converged.max(healthy));
        figures.add(format!(
            "partition (edge-{cut}, 20 s): {} of {} requests failed while cut {:?} (ring a moved to edge-{}); reconverged {:.1} s after heal, no duplicates; {} of {} failed meanwhile",
            during.failed(),
            during.outcomes.len(),
            during.reasons(),
            moved.map_or("?".into(), |i| i.to_string()),
            (converged - healed).as_secs_f64(),
            after.failed(),
            after.outcomes.len()
        ));
    } else {
        figures.add(
            "partition: SKIPPED, loopback mode (NEON_EDGE_MODE=loopback, or no network namespaces here: they need root or CAP_NET_ADMIN); a loopback node cannot be cut off"
                .to_string(),
        );
    }

    // --- an edge NATS leaf restarts ------------------------------------------------------------
    let hosts = edge.inventory().await?;
    let leaf = holder(&hosts, "processor", 'b').context("no edge host runs ring b")?;
    let leaf_host = hosts
        .iter()
        .find(|h| h.edge_index() == Some(leaf))
        .map(|h| h.id.clone())
        .context("the leaf's host is not in the inventory")?;
    let mark = records.last_sequence().await?;
    let t0 = Instant::now();
    blocking(|| {
        edge.run(
            &["restart-leaf", &leaf.to_string()],
            Duration::from_secs(60),
        )
    })?;
    converge(&edge, NODES + 1, Duration::from_secs(90)).await?;
    // Serving again: its logging provider writes records once more (the logger's sink calls
    // reach any host's provider, so with traffic this happens within seconds).
    if !records
        .wait_for(mark, Duration::from_secs(60), |r| r.host_id == leaf_host)
        .await?
    {
        bail!("edge-{leaf}'s host wrote no record within 60 s of its leaf node restarting");
    }
    let back = Instant::now();
    let window = traffic.window(t0, back);
    figures.add(format!(
        "leaf restart (edge-{leaf}): host serving again after {:.1} s; {} of {} requests failed {:?}",
        (back - t0).as_secs_f64(),
        window.failed(),
        window.outcomes.len(),
        window.reasons()
    ));

    // --- the hub's log stream refuses every record for a while ------------------------------
    // Nothing can be stored meanwhile, so a request sent and answered inside the window with a
    // 200 would be a 200 without its records: there must be none, every answer a 5xx that says
    // why. Then the stream takes records again and the app serves as before.
    let refusing = full_stream::refuse_new_records(edge.nats_port).await?;
    let t0 = Instant::now();
    tokio::time::sleep(REFUSAL).await;
    let lifted = Instant::now();
    refusing.lift().await?;
    let inside = traffic.within(t0, lifted);
    let ok_inside = inside.iter().filter(|o| o.ok).count();
    let reasons: Vec<&String> = inside.iter().filter_map(|o| o.error.as_ref()).collect();
    // A 5xx naming the refusal: the provider's words travel back through every hop.
    let not_5xx: Vec<&&String> = reasons
        .iter()
        .filter(|e| !(e.starts_with('5') && e.contains("maximum messages exceeded")))
        .collect();
    let healthy = traffic
        .wait_healthy(lifted, 30, Duration::from_secs(60))
        .await
        .context("traffic did not recover after the log stream took records again")?;
    figures.add(format!(
        "log stream refusing records ({} s): {} requests inside, {ok_inside} x 200, {} x 5xx naming the refusal (first: {:?}); served again {:.1} s after",
        REFUSAL.as_secs(),
        inside.len(),
        reasons.len() - not_5xx.len(),
        reasons.first(),
        (healthy.max(lifted) - lifted).as_secs_f64()
    ));
    let mut refusal_problems = Vec::new();
    if inside.is_empty() {
        refusal_problems.push("no request was sent and answered while the stream refused".into());
    }
    if ok_inside > 0 {
        refusal_problems.push(format!(
            "{ok_inside} requests got 200 while the stream could store nothing"
        ));
    }
    if !not_5xx.is_empty() {
        refusal_problems.push(format!(
            "answers that are not a 5xx naming the refusal: {:?}",
            &not_5xx[..not_5xx.len().min(3)]
        ));
    }

    // --- every 200 has its records in JetStream ------------------------------------------------
    let outcomes = traffic.stop().await;
    let ok = outcomes.iter().filter(|o| o.ok).count() as u64;
    let failed = outcomes.len() as u64 - ok;
    let want = ok * RECORDS_PER_REQUEST;
    let stored = records.wait_total(want, Duration::from_secs(30)).await?;
    let lost = want.saturating_sub(stored);
    figures.add(format!(
        "records: {ok} requests got 200 ({failed} failed) -> at least {want} records expected, {stored} in {} ({} from failed requests, deploy checks and the sample request); lost {lost}",
        neon_edge_tests::records::STREAM,
        stored.saturating_sub(want)
    ));
    for (subject, count) in records.count_by_subject().await? {
        eprintln!("edge:   {subject}: {count}");
    }
    // Request by request: each record names the request whose work wrote it, on whichever host.
    let mut by_request: HashMap<&str, (u64, HashSet<&str>)> = HashMap::new();
    let all = records.all().await?;
    for record in &all {
        if let Some(id) = record.request.as_deref() {
            let entry = by_request.entry(id).or_default();
            entry.0 += 1;
            entry.1.insert(record.host_id.as_str());
        }
    }
    let short: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.ok)
        .map(|o| o.id.as_str())
        .filter(|id| by_request.get(id).map_or(0, |(n, _)| *n) != RECORDS_PER_REQUEST)
        .collect();
    let hosts: HashSet<&str> = by_request
        .values()
        .flat_map(|(_, h)| h.iter().copied())
        .collect();
    figures.add(format!(
        "records by request id: {} of {ok} answered requests have exactly their {RECORDS_PER_REQUEST} records ({} do not, first: {:?}); named records written on {} hosts",
        ok as usize - short.len(),
        short.len(),
        short.first(),
        hosts.len()
    ));

    eprintln!(
        "\nedge figures (total {:.0} s):",
        start.elapsed().as_secs_f64()
    );
    for line in &figures.0 {
        eprintln!("  {line}");
    }
    if lost > 0 {
        bail!("{lost} log records of successful requests are missing from the stream");
    }
    if !short.is_empty() {
        bail!(
            "{} answered requests lack their records (by request id), first: {:?}",
            short.len(),
            short.first()
        );
    }
    if !rollout_failures.is_empty() {
        bail!("{}", rollout_failures.join("; "));
    }
    if !refusal_problems.is_empty() {
        bail!(
            "while the log stream refused records: {}",
            refusal_problems.join("; ")
        );
    }
    Ok(())
}
