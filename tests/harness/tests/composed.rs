//! processor-composed.wasm (processor + logger fused by `wac plug`) must behave exactly like
//! the two components wired separately: same result, same records reaching the sink. And the
//! processor composed with the Python logger exactly like the one composed with the Rust logger.
//! (Run with `NEON_HARNESS_LOGGER=python`, "linked" is the Python logger beside the Rust-composed
//! pipeline: the two loggers against each other.)

mod common;

use neon_harness::{Artifact, Entry, Level};

const INPUTS: [&[u8]; 6] = [
    b"hello",
    b"",
    b"caf\xc3\xa9 \xff ok",
    b"token=abc 4111111111111111",
    "straße".as_bytes(),
    &[b'z'; 70_000],
];

const CONFIGS: [&[(&str, &str)]; 3] = [
    &[],
    &[("min_level", "warn"), ("source", "edge-1")],
    &[("min_level", "nonsense")],
];

fn records(entries: &[Entry]) -> Vec<(Level, String, String)> {
    entries
        .iter()
        .map(|e| (e.level, e.message.clone(), e.source.clone()))
        .collect()
}

#[tokio::test]
async fn composed_matches_linked_for_a_table_of_inputs() {
    let harness = common::harness();
    for config in CONFIGS {
        for input in INPUTS {
            let (linked_result, linked_sink) = harness.linked(config, input).await.expect("linked");
            let (composed_result, composed_sink) =
                harness.composed(config, input).await.expect("composed");
            let label = format!(
                "input {:?} config {config:?}",
                String::from_utf8_lossy(&input[..input.len().min(20)])
            );
            assert_eq!(composed_result, linked_result, "{label}");
            assert_eq!(records(&composed_sink), records(&linked_sink), "{label}");
        }
    }
}

#[tokio::test]
async fn composed_pipeline_logs_the_seed_lines() {
    let (result, sink) = common::harness()
        .composed(&[("source", "neon-test")], b"abc")
        .await
        .expect("composed");
    assert_eq!(result, Ok("ABC".to_string()));
    assert_eq!(
        records(&sink),
        [
            (
                Level::Info,
                "Initiating data sequence...".into(),
                "neon-test".into()
            ),
            (Level::Info, "Sequence complete.".into(), "neon-test".into()),
        ]
    );
}

#[tokio::test]
async fn composed_with_the_python_logger_matches_composed_with_the_rust_one() {
    let harness = common::harness();
    for config in CONFIGS {
        for input in INPUTS {
            let (rust_result, rust_sink) = harness
                .composed_as(Artifact::Composed, config, input)
                .await
                .expect("composed with the Rust logger");
            let (python_result, python_sink) = harness
                .composed_as(Artifact::ComposedPython, config, input)
                .await
                .expect("composed with the Python logger");
            let label = format!(
                "input {:?} config {config:?}",
                String::from_utf8_lossy(&input[..input.len().min(20)])
            );
            assert_eq!(python_result, rust_result, "{label}");
            assert_eq!(records(&python_sink), records(&rust_sink), "{label}");
        }
    }
}
