//! The gateway: Neon's HTTP front door.
//!
//! `POST /process` hands the raw body to `cyber:core/processing.process`: 200 with the result,
//! 400 with the error text, 413 when the body is over `max_body_bytes` (config, default 1 MiB),
//! detected while streaming so an oversize upload is never buffered whole. `GET /healthz` is 200
//! "ok"; `GET /` names the routes (what `wash call` on the gateway reaches: it cannot set a
//! path), and so does the 405 for any other method there; a wrong method elsewhere is 405 with
//! `allow`; anything else 404. Every answer names its request in `x-request-id` (see
//! request_id.rs), the id the request's records carry.
//!
//! Built with the `fused` feature it is the gateway of the composed pipeline (world
//! `fused-gateway`): each `process` call is bracketed by the logger's `batch`, so the request's
//! records reach the sink in one write, and a request whose records could not be written is a
//! 500 naming why instead of a 200.

mod body;
mod config;
mod request_id;

/// Bindings for one of the two gateway worlds; everything but the world is shared.
macro_rules! bindings {
    ($world:tt) => {
        wit_bindgen::generate!({
            path: [
                "../../wit/deps/io",
                "../../wit/deps/clocks",
                "../../wit/deps/random",
                "../../wit/deps/filesystem",
                "../../wit/deps/sockets",
                "../../wit/deps/cli",
                "../../wit/deps/http",
                "../../wit/deps/config",
                "../../wit/system",
                "../../wit/core",
                "../../wit/gateway",
            ],
            world: $world,
            generate_all,
        });
    };
}

#[cfg(not(feature = "fused"))]
bindings!("cyber:gateway/gateway");
#[cfg(feature = "fused")]
bindings!("cyber:gateway/fused-gateway");

use cyber::core::processing;
use exports::wasi::http::incoming_handler::Guest;
use wasi::http::types::{IncomingRequest, Method, ResponseOutparam};

use body::{read_limited, respond, BodyError};

/// The answer to `GET /`.
const INDEX: &str = "Neon gateway: POST /process with a payload, GET /healthz";

struct Gateway;

impl Guest for Gateway {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        // Routing ignores the query string: `/process?x=1` is still /process. A request with no
        // path at all (what `wash call` sends) is for `/`.
        let route = match path.split('?').next().unwrap_or_default() {
            "" => "/",
            route => route,
        };
        let method = request.method();
        let id = request_id::of(&request);
        let respond = |out, status, headers: &[(&str, &str)], body: &[u8]| {
            respond(out, id.as_deref(), status, headers, body)
        };
        match (route, method) {
            ("/process", Method::Post) => handle_process(request, out, id.as_deref()),
            ("/process", _) => respond(out, 405, &[("allow", "POST")], b"Method not allowed"),
            ("/healthz", Method::Get) => respond(out, 200, &[], b"ok"),
            ("/healthz", _) => respond(out, 405, &[("allow", "GET")], b"Method not allowed"),
            ("/", Method::Get) => respond(out, 200, &[], INDEX.as_bytes()),
            ("/", _) => respond(out, 405, &[("allow", "GET")], INDEX.as_bytes()),
            _ => respond(out, 404, &[], b"Not found"),
        }
    }
}

fn handle_process(request: IncomingRequest, out: ResponseOutparam, id: Option<&str>) {
    let limit = config::max_body_bytes();
    let data = match read_limited(request, limit) {
        Ok(data) => data,
        Err(BodyError::TooLarge) => {
            let message = format!("Payload too large (limit {limit} bytes)");
            return respond(out, id, 413, &[], message.as_bytes());
        }
        Err(BodyError::Unreadable(why)) => {
            let message = format!("Cannot read request body: {why}");
            return respond(out, id, 400, &[], message.as_bytes());
        }
    };
    match process(&data) {
        Ok(Ok(result)) => respond(out, id, 200, &[], result.as_bytes()),
        Ok(Err(message)) => respond(out, id, 400, &[], message.as_bytes()),
        Err(unrecorded) => {
            let message = format!("The request's log records were not written: {unrecorded}");
            respond(out, id, 500, &[], message.as_bytes())
        }
    }
}

/// `processing.process`, its outcome only once the records it logged are written.
#[cfg(feature = "fused")]
fn process(data: &[u8]) -> Result<Result<String, String>, String> {
    use cyber::system::batch;
    batch::begin();
    let outcome = processing::process(data);
    batch::flush()?;
    Ok(outcome)
}

/// `processing.process`; over a lattice link the logger writes each record as it comes.
#[cfg(not(feature = "fused"))]
fn process(data: &[u8]) -> Result<Result<String, String>, String> {
    Ok(processing::process(data))
}

export!(Gateway);
