//! Neon's HTTP semantics as one table of cases, asked of any runtime that serves the pipeline:
//! a wasmCloud 1.x lattice (every wiring), `wasmtime serve`, wash 2.x. Each runtime must give the
//! same status and body for each case, and its sink must get exactly `expected_records()`.

use anyhow::{Context, Result};
use neon_ops::load::Client;

use crate::records::Record;

const MIB: usize = 1 << 20;
const SOURCE: &str = "neon-processor";
/// What the gateway answers on `GET /` (components/gateway).
pub const GATEWAY_INDEX: &str = "Neon gateway: POST /process with a payload, GET /healthz";

enum Method {
    Get,
    Post(Vec<u8>),
    Put,
}

struct Case {
    what: &'static str,
    method: Method,
    path: &'static str,
    status: u16,
    /// The exact body, when the case fixes one.
    body: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    let post = |what, body: &[u8], status, answer| Case {
        what,
        method: Method::Post(body.to_vec()),
        path: "/process",
        status,
        body: answer,
    };
    vec![
        post("hello", b"hello", 200, Some("HELLO")),
        post("empty body", b"", 400, Some("Empty payload")),
        Case {
            method: Method::Post(vec![b'a'; 2 * MIB]),
            ..post("2 MiB body (limit 1 MiB)", b"", 413, None)
        },
        post("invalid UTF-8", b"caf\xff ok", 200, Some("CAF\u{FFFD} OK")),
        Case {
            what: "GET /process",
            method: Method::Get,
            path: "/process",
            status: 405,
            body: Some("Method not allowed"),
        },
        Case {
            what: "PUT /healthz",
            method: Method::Put,
            path: "/healthz",
            status: 405,
            body: Some("Method not allowed"),
        },
        Case {
            what: "unknown path",
            method: Method::Post(b"x".to_vec()),
            path: "/nowhere",
            status: 404,
            body: Some("Not found"),
        },
        Case {
            what: "healthz",
            method: Method::Get,
            path: "/healthz",
            status: 200,
            body: Some("ok"),
        },
        Case {
            what: "GET / (the routes)",
            method: Method::Get,
            path: "/",
            status: 200,
            body: Some(GATEWAY_INDEX),
        },
    ]
}

/// Asks every case of `client`, in order; fails at the first answer that differs, naming the case.
pub async fn check(client: &Client) -> Result<()> {
    for case in cases() {
        let reply = match case.method {
            Method::Get => client.get(case.path).await,
            Method::Post(body) => client.post(case.path, body).await,
            Method::Put => client.put(case.path, Vec::new()).await,
        }
        .with_context(|| case.what)?;
        reply.expect(case.status, case.body, case.what)?;
    }
    Ok(())
}

/// Exactly the records the cases make, in order: only `/process` POSTs that reach the processor
/// log (the 413 is refused before it, the others never route to it), and each log call ends
/// before the next.
pub fn expected_records() -> Vec<Record> {
    vec![
        started(),
        completed(),
        started(),
        rejected(),
        started(),
        completed(),
    ]
}

/// What the processor logs when a request reaches it.
pub fn started() -> Record {
    record("info", "Initiating data sequence...")
}

/// What it logs when it answered with a result.
pub fn completed() -> Record {
    record("info", "Sequence complete.")
}

/// What it logs when it refused an empty payload.
pub fn rejected() -> Record {
    record("warn", "Null data packet received.")
}

fn record(level: &str, message: &str) -> Record {
    Record {
        level: level.to_string(),
        source: SOURCE.to_string(),
        message: message.to_string(),
    }
}
