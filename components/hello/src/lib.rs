//! hello: 200 "hello" for every request, without reading it. The benchmark's platform ceiling
//! (see wit/hello): whatever Neon's pipeline costs on top of the host and the http-server
//! provider is measured against this.

wit_bindgen::generate!({
    path: [
        "../../wit/deps/io",
        "../../wit/deps/clocks",
        "../../wit/deps/random",
        "../../wit/deps/filesystem",
        "../../wit/deps/sockets",
        "../../wit/deps/cli",
        "../../wit/deps/http",
        "../../wit/hello",
    ],
    world: "cyber:hello/hello",
    generate_all,
});

use exports::wasi::http::incoming_handler::Guest;
use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

const BODY: &[u8] = b"hello";

struct Hello;

impl Guest for Hello {
    fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let fields = Fields::new();
        // Constant, valid header names and values: appending cannot fail.
        let _ = fields.append("content-type", b"text/plain; charset=utf-8");
        let _ = fields.append("content-length", b"5");
        let response = OutgoingResponse::new(fields);
        let Ok(body) = response.body() else {
            return;
        };
        ResponseOutparam::set(out, Ok(response));
        if let Ok(stream) = body.write() {
            let _ = stream.blocking_write_and_flush(BODY);
        }
        let _ = OutgoingBody::finish(body, None);
    }
}

export!(Hello);
