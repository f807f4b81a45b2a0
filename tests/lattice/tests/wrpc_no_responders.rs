//! A wRPC call to a function nobody serves fails at once, as "not connected", on a real
//! nats-server: it neither waits out its deadline nor, for a function without results, passes
//! for one that returned. nats-server answers a request with no subscriber with a "no
//! responders" status on the call's reply subject; a short call (every parameter in one
//! message) stops listening there once its parameters are sent, so the status must reach the
//! call's results. The wasmCloud host reads "not connected" as "no such component".

use std::time::{Duration, Instant};

use neon_lattice_tests::nats_server::NatsServer;

wit_bindgen_wrpc::generate!({
    world: "absent",
    inline: "package neon:absent;
             interface target {
                 echo: func(x: u64) -> u64;
                 note: func(x: string);
             }
             world absent { import target; }",
});

/// Far longer than a round trip on loopback, far shorter than an invocation's deadline.
const FAIL_WITHIN: Duration = Duration::from_secs(2);

fn not_connected(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|err| err.kind() == std::io::ErrorKind::NotConnected)
    })
}

/// `call`, made to nobody, fails as not connected within [`FAIL_WITHIN`]: it neither waits nor
/// returns (for a call without results, passing for one that returned).
async fn assert_fails_at_once<T: std::fmt::Debug>(
    what: &str,
    call: impl std::future::Future<Output = anyhow::Result<T>>,
) {
    let outcome = tokio::time::timeout(FAIL_WITHIN, call)
        .await
        .unwrap_or_else(|_| panic!("{what} to nobody still waits after {FAIL_WITHIN:?}"));
    let err = outcome.expect_err(&format!("{what} to nobody returned"));
    assert!(
        not_connected(&err),
        "{what} to nobody failed, but not as not connected: {err:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_nobody_serves_fails_at_once() {
    let nats_server = NatsServer::start("wrpc-no-responders", "");
    let nats = async_nats::connect(nats_server.url())
        .await
        .expect("connecting to nats-server");
    let client = wrpc_transport_nats::Client::new(nats, "neon-absent", None)
        .await
        .expect("wRPC client");

    for round in 0..3 {
        let started = Instant::now();
        let echoed = neon::absent::target::echo(&client, None, round);
        assert_fails_at_once("a call with results", echoed).await;
        let noted = neon::absent::target::note(&client, None, "a record nobody keeps");
        assert_fails_at_once("a call without results", noted).await;
        eprintln!(
            "round {round}: both calls failed as not connected in {:.1?}",
            started.elapsed()
        );
    }
}
