//! Capability audit of the built binaries: each component imports only what its job needs,
//! and none can reach the network or the file system.

use neon_harness::audit::{self, forbidden_imports, unexpected_imports, Surface, RUST_STD_WASIP2};
use neon_harness::Artifact;

fn surface(artifact: Artifact) -> Surface {
    let wasm = artifact.read().expect("built component");
    audit::surface(&wasm).expect("decodable component")
}

fn with_std(own: &[&'static str]) -> Vec<&'static str> {
    own.iter().chain(RUST_STD_WASIP2.iter()).copied().collect()
}

fn set(items: &[&str]) -> std::collections::BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn processor_imports_its_logging_contract_and_nothing_else() {
    let processor = surface(Artifact::Processor);
    // no_std: not even the WASI interfaces Rust std pulls in.
    assert_eq!(
        processor.imports,
        set(&["cyber:system/types", "cyber:system/logging"])
    );
    assert_eq!(processor.exports, set(&["cyber:core/processing"]));
}

/// The logger's world: its contracts, config, a clock, and stderr to report refused records.
/// Built no_std, so std adds nothing (no wasi:cli/environment or exit).
const LOGGER_IMPORTS: [&str; 7] = [
    "cyber:system/types",
    "cyber:system/sink",
    "wasi:config/store",
    "wasi:clocks/wall-clock",
    "wasi:cli/stderr",
    "wasi:io/streams",
    "wasi:io/error",
];

#[test]
fn logger_imports_its_world_and_nothing_else() {
    let logger = surface(Artifact::Logger);
    assert_eq!(logger.imports, set(&LOGGER_IMPORTS));
    assert_eq!(
        logger.exports,
        set(&["cyber:system/logging", "cyber:system/batch"])
    );
}

#[test]
fn gateway_serves_http_but_cannot_make_requests() {
    let gateway = surface(Artifact::Gateway);
    let allowed = with_std(&[
        "cyber:core/processing",
        "wasi:config/store",
        "wasi:http/types",
        "wasi:io/poll",
    ]);
    assert_eq!(unexpected_imports(&gateway, &allowed), Vec::<String>::new());
    assert_eq!(gateway.exports, set(&["wasi:http/incoming-handler"]));
}

#[test]
fn composed_component_no_longer_imports_logging() {
    let composed = surface(Artifact::Composed);
    assert!(
        !composed.imports.contains("cyber:system/logging"),
        "{:?}",
        composed.imports
    );
    assert!(composed.imports.contains("cyber:system/sink"));
    // The processor adds nothing to the logger's imports but what `logging` satisfied inside.
    assert_eq!(composed.imports, set(&LOGGER_IMPORTS));
    assert_eq!(composed.exports, set(&["cyber:core/processing"]));
}

#[test]
fn pipeline_serves_http_and_only_reaches_the_sink() {
    let pipeline = surface(Artifact::Pipeline);
    // processing, logging and batch are satisfied inside: the sink is the only contract left.
    for inside in [
        "cyber:core/processing",
        "cyber:system/logging",
        "cyber:system/batch",
    ] {
        assert!(!pipeline.imports.contains(inside), "{:?}", pipeline.imports);
    }
    let allowed = with_std(&[
        "cyber:system/types",
        "cyber:system/sink",
        "wasi:config/store",
        "wasi:clocks/wall-clock",
        "wasi:http/types",
        "wasi:io/poll",
    ]);
    assert_eq!(
        unexpected_imports(&pipeline, &allowed),
        Vec::<String>::new()
    );
    assert_eq!(pipeline.exports, set(&["wasi:http/incoming-handler"]));
}

#[test]
fn no_component_can_reach_network_or_files() {
    for artifact in Artifact::ALL {
        assert_eq!(
            forbidden_imports(&surface(artifact)),
            Vec::<String>::new(),
            "{artifact:?}"
        );
    }
}

#[test]
fn the_audit_flags_what_it_should() {
    // The checks above pass only because the components are clean: the same checks report the
    // gateway's HTTP import against the processor's allow-list, and a socket import as forbidden.
    let gateway = surface(Artifact::Gateway);
    assert!(unexpected_imports(&gateway, &["cyber:system/logging"])
        .contains(&"wasi:http/types".to_string()));
    let mut with_socket = gateway.clone();
    with_socket.imports.insert("wasi:sockets/tcp".to_string());
    with_socket
        .imports
        .insert("wasi:http/outgoing-handler".to_string());
    assert_eq!(
        forbidden_imports(&with_socket),
        ["wasi:http/outgoing-handler", "wasi:sockets/tcp"]
    );
}
