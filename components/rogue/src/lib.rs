//! rogue: a component that misbehaves on purpose, for the containment test
//! (tests/lattice/tests/contained.rs). `/spin` computes forever, `/grow` allocates memory until
//! something stops it, anything else answers 200 "ok". Never deploy it beside real traffic.

wit_bindgen::generate!({
    path: [
        "../../wit/deps/io",
        "../../wit/deps/clocks",
        "../../wit/deps/random",
        "../../wit/deps/filesystem",
        "../../wit/deps/sockets",
        "../../wit/deps/cli",
        "../../wit/deps/http",
        "../../wit/rogue",
    ],
    world: "cyber:rogue/rogue",
    generate_all,
});

use std::hint::black_box;

use exports::wasi::http::incoming_handler::Guest;
use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Rogue;

impl Guest for Rogue {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        match request.path_with_query().as_deref() {
            Some("/spin") => spin(),
            Some("/grow") => grow(),
            _ => ok(out),
        }
    }
}

/// Never returns, never yields: only the host's execution limit ends it.
fn spin() {
    let mut n = 0u64;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Touches a new MiB at a time, keeping all of it: only the host's memory limit ends it.
fn grow() {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![0xA5; 1 << 20]);
        black_box(&hoard);
    }
}

fn ok(out: ResponseOutparam) {
    let fields = Fields::new();
    // Constant, valid header names and values: appending cannot fail.
    let _ = fields.append("content-length", b"2");
    let response = OutgoingResponse::new(fields);
    let Ok(body) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(stream) = body.write() {
        let _ = stream.blocking_write_and_flush(b"ok");
    }
    let _ = OutgoingBody::finish(body, None);
}

export!(Rogue);
