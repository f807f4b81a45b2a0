//! processor-composed.wasm (processor + logger fused by `wac plug`) must behave exactly like
//! the two components wired separately: same result, same records reaching the sink.

mod common;

use neon_harness::{Entry, Level};

fn records(entries: &[Entry]) -> Vec<(Level, String, String)> {
    entries
        .iter()
        .map(|e| (e.level, e.message.clone(), e.source.clone()))
        .collect()
}

#[tokio::test]
async fn composed_matches_linked_for_a_table_of_inputs() {
    let inputs: [&[u8]; 6] = [
        b"hello",
        b"",
        b"caf\xc3\xa9 \xff ok",
        b"token=abc 4111111111111111",
        "straße".as_bytes(),
        &[b'z'; 70_000],
    ];
    let configs: [&[(&str, &str)]; 3] = [
        &[],
        &[("min_level", "warn"), ("source", "edge-1")],
        &[("min_level", "nonsense")],
    ];
    let harness = common::harness();
    for config in configs {
        for input in inputs {
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
