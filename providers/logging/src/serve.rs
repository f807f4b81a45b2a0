//! Serving the provider's exports: the SDK's loop, with each invocation's failure told to its
//! caller.
//!
//! `logging.log` returns nothing, so a record it could not write can only be reported by failing
//! the call. The SDK's `serve_provider_exports` spawns each invocation and logs its error; the
//! caller is sent only the end of the result stream. Run inside
//! `wrpc_transport_nats::reporting_failure`, the failed invocation's stream ends with the
//! reason instead (see patches/), and the caller's call fails with "record not written: ...".

use std::pin::pin;

use futures::{stream, StreamExt as _};
use tokio::task::JoinSet;
use tracing::{trace, warn};
use wasmcloud_provider_sdk::provider::InvocationStreams;

/// Serves every invocation of `invocations` until `shutdown`; each in a task of its own.
pub async fn serve_invocations(
    invocations: InvocationStreams,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut invocations = stream::select_all(
        invocations
            .into_iter()
            .map(|(instance, name, invocations)| invocations.map(move |res| (instance, name, res))),
    );
    let mut shutdown = pin!(shutdown);
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            Some((instance, name, accepted)) = invocations.next() => match accepted {
                Ok(invocation) => {
                    tasks.spawn(async move {
                        match wrpc_transport_nats::reporting_failure(invocation).await {
                            Ok(()) => trace!(instance, name, "served invocation"),
                            Err(err) => warn!(?err, instance, name, "failed to serve invocation"),
                        }
                    });
                }
                Err(err) => warn!(?err, instance, name, "failed to accept invocation"),
            },
            // Finished tasks are reaped as they end, so the set holds only those in flight.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            () = &mut shutdown => return,
        }
    }
}
