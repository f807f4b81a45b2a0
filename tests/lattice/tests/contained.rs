//! A component that misbehaves is contained: on one host beside Neon's composed pipeline, a
//! component that computes forever is stopped by the host's execution limit and one that grows
//! memory without bound by its memory limit. Each failure is answered with a 500 naming why,
//! Neon serves every request meanwhile, and the rogue component serves again afterwards.
//!
//! The endless loop occupies one of the host's executor threads; the host gives that thread back
//! at every epoch tick (patches/wasmcloud-runtime-0.12.0.patch). Without that, what was queued
//! behind the loop (the host's NATS connection among it) waited until the limit, and Neon's
//! requests waiting on it trapped at their own limit: every client's request at that moment
//! failed, in about one endless loop in ten here.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use neon_lattice_tests::deploy::deploy_wiring;
use neon_ops::load::{self, Client};
use neon_ops::manifest::Draft;
use neon_ops::paths::{build_dir, repo_root};
use neon_ops::{free_port, platform, Lattice, Wiring};

/// How long a rogue request may take beyond the execution limit before the test calls it stuck.
const SLACK: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_component_is_stopped_and_the_others_keep_serving() -> Result<()> {
    let lattice = Lattice::start("contained").await?;
    let (_, neon_client) = deploy_wiring(&lattice, Wiring::Composed, "neon-contained").await?;

    // The hello manifest with the rogue component in hello's place.
    let rogue_image = format!("file://{}", build_dir()?.join("rogue.wasm").display());
    let rogue = Draft::load(&repo_root().join("manifests/hello.wadm.yaml"))?
        .set_app("neon-rogue")
        .set_version("v1-rogue")
        .set_http_port(free_port()?)?
        .set_image("hello", &rogue_image)?
        .absolute_images()?
        .render(None)?;
    lattice.deploy(&rogue, Duration::from_secs(180)).await?;
    // The execution limit is the bound for the rogue's answers, not the client's default.
    let limit = Duration::from_millis(platform::max_execution_time_ms().parse()?);
    let rogue_client = Client::with_timeout(rogue.http_port, limit + SLACK)?;
    rogue_client.wait_ready(Duration::from_secs(60)).await?;

    // Neon under steady traffic the whole time the rogue misbehaves (both limits, then some).
    let traffic = {
        let client = neon_client.clone();
        let lasting = 2 * limit + SLACK;
        tokio::spawn(async move { load::run(&client, 4, lasting, usize::MAX).await })
    };

    let started = Instant::now();
    let spin = rogue_client.get("/spin").await?;
    let spun = started.elapsed();
    // Epoch interruption: the host's clock ticks once a second, so the trap comes within the
    // last second or so before the limit; "interrupt" is the trap the limit raises.
    ensure!(
        spin.status == 500
            && spin.body.contains("interrupt")
            && spun >= limit / 2
            && spun < limit + SLACK,
        "endless loop: {} {:?} after {spun:?} (execution limit {limit:?})",
        spin.status,
        spin.body
    );

    let started = Instant::now();
    let grow = rogue_client.get("/grow").await?;
    let grew = started.elapsed();
    ensure!(
        grow.status == 500 && grew < limit,
        "unbounded memory: {} {:?} after {grew:?}",
        grow.status,
        grow.body
    );

    // The rogue is not stuck: a fresh instance answers.
    rogue_client
        .get("/")
        .await?
        .expect(200, Some("ok"), "the rogue after its failures")?;

    let traffic = traffic.await?;
    ensure!(
        traffic.failed == 0 && traffic.ok > 0,
        "Neon beside the rogue: {}, slowest {:.1?}: {:?}",
        traffic.summary(),
        traffic.slowest,
        traffic.failures
    );
    eprintln!(
        "contained: endless loop stopped after {spun:.1?} with {} {:?}; unbounded memory stopped after {grew:.1?} with {} {:?}; Neon meanwhile: {}, slowest {:.1?}",
        spin.status,
        spin.body.trim(),
        grow.status,
        grow.body.trim(),
        traffic.summary(),
        traffic.slowest
    );
    lattice.down()
}
