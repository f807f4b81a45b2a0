//! The execution limit bounds a component's work, not a client's upload: on a private lattice,
//! the composed pipeline behind the host's built-in HTTP server serves a body trickled in over
//! twice the limit (200), and a body that stops arriving is answered 408 after the server's own
//! idle timeout, with no instance used for it; ordinary requests are served meanwhile.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use neon_lattice_tests::deploy::deploy_wiring;
use neon_lattice_tests::raw_http::{post, Connection};
use neon_ops::load::{self, Reply};
use neon_ops::{platform, Lattice, Wiring};

/// How long the built-in HTTP server waits for the next part of a body: the host launcher's
/// `--http-body-idle-timeout-ms`, whose default this is.
fn idle_timeout() -> Duration {
    let ms = std::env::var("NEON_HTTP_BODY_IDLE_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(5000);
    Duration::from_millis(ms)
}

/// A body sent one byte at a time over `over`, and its answer.
fn trickled(port: u16, body: &[u8], over: Duration) -> Result<(Reply, Duration)> {
    let request = post("/process", body);
    let headers = request.len() - body.len();
    let mut connection = Connection::open(port)?;
    let started = Instant::now();
    connection.send(&request[..headers])?;
    let pause = over / u32::try_from(body.len()).context("body length")?;
    if let Err(err) = connection.trickle(body, pause) {
        // The server gave up on the body: say what it answered before it closed.
        let answer = match connection.answer(Duration::from_secs(5)) {
            Ok(answer) => format!("{} {:?}", answer.status, answer.body.trim()),
            Err(none) => format!("none ({none:#})"),
        };
        anyhow::bail!(
            "the server stopped reading the trickled body after {:?} ({err:#}); its answer: {answer}",
            started.elapsed()
        );
    }
    let answer = connection.answer(Duration::from_secs(30))?;
    Ok((answer, started.elapsed()))
}

/// A body that stops after its first bytes, and its answer with how long it took.
fn stalled(port: u16) -> Result<(Reply, Duration)> {
    let request = post("/process", b"this body never ends");
    let mut connection = Connection::open(port)?;
    connection.send(&request[..request.len() - 10])?;
    let started = Instant::now();
    let answer = connection.answer(Duration::from_secs(60))?;
    Ok((answer, started.elapsed()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_count_against_the_client_not_the_execution_limit() -> Result<()> {
    let lattice = Lattice::start("slow-body").await?;
    let (rendered, client) = deploy_wiring(&lattice, Wiring::Composed, "neon-slow-body").await?;
    let port = rendered.http_port;
    let limit = Duration::from_millis(platform::max_execution_time_ms().parse()?);
    let idle = idle_timeout();
    let over = 2 * limit;
    ensure!(
        over / 20 < idle,
        "the trickle's pauses ({:?}) must stay under the idle timeout ({idle:?})",
        over / 20
    );

    // Ordinary traffic the whole time: neither slow body may hold it up.
    let traffic = {
        let client = client.clone();
        let lasting = over + idle;
        tokio::spawn(async move { load::run(&client, 4, lasting, usize::MAX).await })
    };
    let trickle =
        tokio::task::spawn_blocking(move || trickled(port, b"steady but slow body", over));
    let stall = tokio::task::spawn_blocking(move || stalled(port));
    let (trickle, trickle_took) = trickle.await??;
    let (stall, stall_took) = stall.await??;
    let traffic = traffic.await?;
    eprintln!(
        "slow bodies: trickled over {over:?} (limit {limit:?}): {} in {trickle_took:.1?}; stalled: {} {:?} in {stall_took:.1?} (idle timeout {idle:?}); meanwhile {}",
        trickle.status,
        stall.status,
        stall.body.trim(),
        traffic.summary()
    );
    trickle.expect(
        200,
        Some("STEADY BUT SLOW BODY"),
        "a body trickled in over twice the execution limit",
    )?;
    ensure!(
        trickle_took >= over,
        "the trickle took {trickle_took:?}, less than the {over:?} it was meant to"
    );
    ensure!(
        stall.status == 408 && stall.body.contains("Request Timeout"),
        "a stalled body should get 408 naming the timeout, got {} {:?}",
        stall.status,
        stall.body
    );
    ensure!(
        stall_took >= idle.saturating_sub(Duration::from_millis(500))
            && stall_took < idle + Duration::from_secs(5),
        "the 408 came after {stall_took:?}, not after the idle timeout ({idle:?})"
    );
    ensure!(
        traffic.failed == 0 && traffic.ok > 0,
        "ordinary requests failed beside the slow bodies: {:?}",
        traffic.failures
    );
    lattice.down()
}
