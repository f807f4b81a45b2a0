//! What a request costs the lattice, counted by nats-server itself (its monitoring endpoint on
//! the private lattice): every call between two of Neon's processes is two messages, the call
//! and its answer, and no call makes or drops a subscription. A call from wasmCloud's unpatched
//! http-server provider, which speaks the full wRPC protocol, is still served in full.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use neon_lattice_tests::deploy::deploy_wiring;
use neon_ops::nats_monitor::NatsCounters;
use neon_ops::{Lattice, Wiring};

/// Requests counted per wiring.
const REQUESTS: u64 = 200;

/// How long the lattice's own traffic (host and provider heartbeats, wadm) is measured idle, to
/// take it out of the requests' count.
const IDLE: Duration = Duration::from_secs(3);

/// A call that subscribes for its reply changes two subscriptions (SUB and UNSUB), and a
/// request makes up to five calls; the few changes the lattice makes on its own meanwhile
/// (measured: up to 4 in 200 requests) stay far below that.
const MAX_SUBSCRIPTION_CHANGES_PER_REQUEST: f64 = 0.1;

/// Leeway per request, for background traffic that does not come at an even rate.
const LEEWAY_PER_REQUEST: f64 = 0.25;

/// The NATS messages one request of `wiring` needs, one HTTP request each, records included:
/// the fewest and the most.
fn expected_messages(wiring: Wiring) -> (u64, u64) {
    // A short call: the call, and its results with the end of their stream.
    const CALL: u64 = 2;
    // A call from a peer that speaks the full protocol: parameters, their end, the serving
    // side's handshake, results, their end.
    const FULL_CALL: u64 = 5;
    // The http-server provider's `wasi:http` call to the gateway in the full protocol (the
    // provider is wasmCloud's, unpatched): besides the five, the request's and the response's
    // body stream and trailers, each on a subject of its own with its own end; measured at 16.1
    // to 16.2 on average, fewer when parts of a stream travel together, now and then more when
    // a body is written in more than one piece.
    const HTTP_CALL: u64 = 18;
    let exactly = |n| (n, n);
    match wiring {
        // One sink.write with the request's records.
        Wiring::Composed => exactly(CALL),
        // gateway -> processor, and two log calls, each straight to the provider.
        Wiring::Direct => exactly(3 * CALL),
        // gateway -> processor, two log calls to the logger, each with its sink.write.
        Wiring::Linked | Wiring::PythonLogger => exactly(5 * CALL),
        // The linked wiring behind the http-server provider's call to the gateway.
        Wiring::ProviderIngress => (FULL_CALL + 5 * CALL, HTTP_CALL + 5 * CALL),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_call_is_two_messages_and_no_subscription() -> Result<()> {
    let lattice = Lattice::start("call-messages").await?;
    let mut report = Vec::new();
    for wiring in Wiring::ALL {
        let app = format!("neon-messages-{}", wiring.name());
        let (_rendered, client) = deploy_wiring(&lattice, wiring, &app).await?;
        // Links, clients and subscriptions are made by the first calls.
        for i in 0..10 {
            client.process_checked(&format!("warm-up {i}")).await?;
        }
        let idle_from = NatsCounters::read(lattice.monitor_port).await?;
        tokio::time::sleep(IDLE).await;
        let before = NatsCounters::read(lattice.monitor_port).await?;
        let background_per_second =
            before.messages_in.saturating_sub(idle_from.messages_in) as f64 / IDLE.as_secs_f64();
        let started = Instant::now();
        for i in 0..REQUESTS {
            client.process_checked(&format!("counted {i}")).await?;
        }
        let after = NatsCounters::read(lattice.monitor_port).await?;
        let background = background_per_second * started.elapsed().as_secs_f64() / REQUESTS as f64;
        let per = after.per(&before, REQUESTS);
        let messages_in = per.messages_in - background;
        let (fewest, most) = expected_messages(wiring);
        report.push(format!(
            "{}: {messages_in:.2} messages in ({background:.2} of background taken out), {:.2} out, \
             {:.3} subscription changes per request (expected {fewest} to {most} messages)",
            wiring.name(),
            per.messages_out,
            per.subscription_changes
        ));
        ensure!(
            messages_in >= fewest as f64 - LEEWAY_PER_REQUEST
                && messages_in <= most as f64 + LEEWAY_PER_REQUEST,
            "{}",
            report.join("\n")
        );
        ensure!(
            per.subscription_changes < MAX_SUBSCRIPTION_CHANGES_PER_REQUEST,
            "subscriptions changed during the requests:\n{}",
            report.join("\n")
        );
        lattice.undeploy(&app, Duration::from_secs(60)).await?;
    }
    println!("{}", report.join("\n"));
    Ok(())
}
