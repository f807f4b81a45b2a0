//! The benchmark's targets, judged against the measured figures. A missed target carries what bounds
//! it and the design change that would lift it, because the note must say so.

use super::format;
use super::inputs::Inputs;
use crate::schema::{Http, HttpRun};

pub const COLDSTART_P50_US: f64 = 10.0;
pub const COLDSTART_VS_NATIVE: f64 = 80.0;
pub const CALLCOST_VS_LINKED: f64 = 1000.0;
pub const HTTP_CLIENTS: u32 = 64;
pub const HTTP_VS_HELLO: f64 = 0.5;
pub const HTTP_LINKED_VS_HELLO: f64 = 0.25;
pub const HTTP_VS_NATIVE: f64 = 0.2;
pub const HTTP_P99_MS: f64 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    NotMeasured,
}

impl Verdict {
    fn of(met: bool) -> Self {
        if met {
            Verdict::Met
        } else {
            Verdict::Missed
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "**missed**",
            Verdict::NotMeasured => "not measured",
        }
    }
}

pub struct TargetRow {
    pub target: String,
    pub measured: String,
    pub verdict: Verdict,
    /// For a missed target: what bounds it, and what would lift it.
    pub bound: Option<String>,
}

impl TargetRow {
    fn judged(target: String, measured: String, met: bool, bound: String) -> Self {
        let verdict = Verdict::of(met);
        Self {
            target,
            measured,
            verdict,
            bound: (verdict == Verdict::Missed).then_some(bound),
        }
    }

    fn not_measured(target: String, why: String) -> Self {
        Self {
            target,
            measured: why,
            verdict: Verdict::NotMeasured,
            bound: None,
        }
    }
}

pub fn find_run<'a>(http: &'a Http, variant: &str, clients: u32) -> Option<&'a HttpRun> {
    http.runs
        .iter()
        .find(|run| run.variant == variant && run.clients == clients)
}

pub fn evaluate(inputs: &Inputs) -> Vec<TargetRow> {
    let mut rows = size_targets(inputs);
    rows.extend(coldstart_targets(inputs));
    rows.push(callcost_target(inputs));
    rows.extend(http_targets(inputs));
    rows
}

fn size_targets(inputs: &Inputs) -> Vec<TargetRow> {
    let Some(sizes) = inputs.sizes.get() else {
        return vec![
            TargetRow::not_measured("processor.wasm ≤ 32 KiB".into(), inputs.sizes.absence()),
            TargetRow::not_measured(
                "processor-composed.wasm ≤ 64 KiB".into(),
                inputs.sizes.absence(),
            ),
        ];
    };
    let size_of = |name: &str| {
        sizes
            .artifacts
            .iter()
            .find(|a| a.name == name)
            .map_or(0, |a| a.bytes)
    };
    sizes
        .targets
        .iter()
        .map(|t| {
            let bound = if t.artifact == "processor-composed.wasm" {
                format!(
                    "`wac plug` nests processor ({}) and logger ({}) whole: two allocators, two \
                     copies of the libc string routines and two linear memories, plus the \
                     adapter between them. Lift: build processor and logger into one core \
                     module (one allocator, one memory), or shrink each part (see the processor.wasm row).",
                    format::bytes(size_of("processor.wasm")),
                    format::bytes(size_of("logger.wasm"))
                )
            } else {
                "Already no_std: what is left is dlmalloc, `to_uppercase`'s Unicode tables \
                 (~14 KB of data) and the canonical-ABI glue. Lift: an ASCII fast path with the \
                 tables only for non-ASCII input, a bump allocator reset per call, wasm-opt -Oz."
                    .to_string()
            };
            TargetRow::judged(
                format!("{} ≤ {}", t.artifact, format::bytes(t.limit_bytes)),
                format::bytes(t.bytes),
                t.met,
                bound,
            )
        })
        .collect()
}

fn coldstart_targets(inputs: &Inputs) -> Vec<TargetRow> {
    let p50_target = format!("cold start p50 ≤ {COLDSTART_P50_US} µs");
    let ratio_target = format!("cold start ≥ {COLDSTART_VS_NATIVE}× faster than native spawn");
    let Some(cold) = inputs.coldstart.get() else {
        return vec![
            TargetRow::not_measured(p50_target, inputs.coldstart.absence()),
            TargetRow::not_measured(ratio_target, inputs.coldstart.absence()),
        ];
    };
    let Some(headline) = cold.wasm.iter().find(|w| w.label == cold.headline) else {
        let why = format!("coldstart.json has no row {:?}", cold.headline);
        return vec![
            TargetRow::not_measured(p50_target, why.clone()),
            TargetRow::not_measured(ratio_target, why),
        ];
    };
    let p50 = headline.to_first_result_us.p50;
    // The other rows, so the verdict on the headline is read next to them.
    let others = cold
        .wasm
        .iter()
        .filter(|w| w.label != headline.label)
        .map(|w| format!("{} {}", w.label, format::micros(w.to_first_result_us.p50)))
        .collect::<Vec<_>>()
        .join(", ");
    let others = if others.is_empty() {
        others
    } else {
        format!("; others: {others}")
    };
    let ratio = cold.native.to_first_result_us.p50 / p50;
    vec![
        TargetRow::judged(
            p50_target,
            format!("{} for {}{others}", format::micros(p50), headline.label),
            p50 <= COLDSTART_P50_US,
            format!(
                "Per request (p50s): host state {} (a WASI context for the logger's clock, \
                 stderr and config), Store::new {}, instantiate {} (memories and tables from \
                 the pool; the composed component has two of each and runs two components' \
                 start-up), first call {}. Lift: one core module instead of two nested ones \
                 (one memory, one start-up), a host state without a full WASI context for \
                 components that import only a clock and config, or a snapshot of the \
                 initialised instance (wizer) so no start-up code runs.",
                format::micros(headline.phases_p50_us.host_state),
                format::micros(headline.phases_p50_us.store_new),
                format::micros(headline.phases_p50_us.instantiate),
                format::micros(headline.phases_p50_us.first_call),
            ),
        ),
        TargetRow::judged(
            ratio_target,
            format!(
                "{} (native spawn p50 {})",
                format::ratio(ratio),
                format::micros(cold.native.to_first_result_us.p50)
            ),
            ratio >= COLDSTART_VS_NATIVE,
            "Bounded by both sides: a small static native binary spawns fast on Linux \
             (fork/exec + page faults), and the wasm side pays the per-request costs above. \
             Lift: the wasm-side changes above; the native side is the baseline."
                .to_string(),
        ),
    ]
}

fn callcost_target(inputs: &Inputs) -> TargetRow {
    let target = format!("composed log call ≥ {CALLCOST_VS_LINKED}× cheaper than linked");
    let (composed, linked) = match (inputs.callcost_composed.get(), inputs.callcost_linked.get()) {
        (Some(c), Some(l)) => (c, l),
        (None, _) => return TargetRow::not_measured(target, inputs.callcost_composed.absence()),
        (_, None) => {
            return TargetRow::not_measured(
                target,
                format!("linked: {}", inputs.callcost_linked.absence()),
            )
        }
    };
    let linked_ns = linked.linked_log_call_us.p50 * 1e3;
    let estimate = composed.composed_log_call_ns.p50;
    let upper = composed.composed_log_call_upper_bound_ns.p50;
    let ratio = linked_ns / estimate;
    let conservative = linked_ns / upper;
    TargetRow::judged(
        target,
        format!(
            "{} (p50: linked {} / composed {}; against the upper bound {}: {})",
            format::ratio(ratio),
            format::nanos(linked_ns),
            format::nanos(estimate),
            format::nanos(upper),
            format::ratio(conservative)
        ),
        ratio.is_finite() && ratio >= CALLCOST_VS_LINKED,
        "The composed call is a function call plus the logger's own work (level filter, \
         redaction, a wall-clock read) and its one host call, `sink.write`; the linked call is \
         two NATS round trips through the host. Lift on the composed side: skip the clock and \
         sink write per record by buffering records and writing once per request."
            .to_string(),
    )
}

/// `variant`'s req/s at HTTP_CLIENTS as a fraction of `other`'s, judged against `floor`.
fn ratio_row(
    http: &Http,
    target: String,
    (variant, other): (&str, &str),
    floor: f64,
    bound: String,
) -> TargetRow {
    let c = HTTP_CLIENTS;
    match (find_run(http, variant, c), find_run(http, other, c)) {
        (Some(run), Some(against)) if against.rps.median > 0.0 => {
            let fraction = run.rps.median / against.rps.median;
            TargetRow::judged(
                target,
                format!(
                    "{} ({} vs {} req/s)",
                    format::percent(fraction),
                    format::rps(run.rps.median),
                    format::rps(against.rps.median)
                ),
                fraction >= floor,
                bound,
            )
        }
        (None, _) => TargetRow::not_measured(target, format!("no {variant} run at {c} clients")),
        _ => TargetRow::not_measured(target, format!("no {other} run at {c} clients")),
    }
}

fn http_targets(inputs: &Inputs) -> Vec<TargetRow> {
    let c = HTTP_CLIENTS;
    let vs_hello = format!(
        "composed at {c} clients ≥ {} of hello-world req/s",
        format::percent(HTTP_VS_HELLO)
    );
    let vs_native = format!(
        "composed at {c} clients ≥ {} of native req/s",
        format::percent(HTTP_VS_NATIVE)
    );
    let p99 = format!("composed at {c} clients p99 ≤ {HTTP_P99_MS} ms");
    let Some(http) = inputs.http.get() else {
        let why = inputs.http.absence();
        return vec![
            TargetRow::not_measured(vs_hello, why.clone()),
            TargetRow::not_measured(vs_native, why.clone()),
            TargetRow::not_measured(p99, why),
        ];
    };
    let Some(composed) = find_run(http, "composed", c) else {
        let why = format!("http.json has no composed run at {c} clients");
        return vec![
            TargetRow::not_measured(vs_hello, why.clone()),
            TargetRow::not_measured(vs_native, why.clone()),
            TargetRow::not_measured(p99, why),
        ];
    };
    let hops = "Per request the composed wiring waits on 1 NATS round trip (one `sink.write` \
                with the request's records, flushed by the gateway; gateway, processor and \
                logger are one component); the hello-world component behind the built-in HTTP \
                server waits on none.";
    let lift = "What is left is the round trip that makes a 200 mean the records were written: \
                the logging provider's process, NATS and the host's wRPC encoding on the same \
                two cores as the load.";
    let mut rows = vec![ratio_row(
        http,
        vs_hello,
        ("composed", "hello"),
        HTTP_VS_HELLO,
        format!("{hops} {lift}"),
    )];
    let linked_target = format!(
        "linked at {c} clients ≥ {} of hello-world req/s",
        format::percent(HTTP_LINKED_VS_HELLO)
    );
    rows.push(ratio_row(
        http,
        linked_target,
        ("linked", "hello"),
        HTTP_LINKED_VS_HELLO,
        "Per request the linked wiring waits on 5 NATS round trips in sequence (gateway -> \
         processor, then 2 `logging.log` calls, each awaiting the logger's `sink.write`): the \
         price of a 200 that means its records were written, with three components and a \
         provider each a hop apart."
            .to_string(),
    ));
    rows.push(ratio_row(
        http,
        vs_native,
        ("composed", "native"),
        HTTP_VS_NATIVE,
        format!("{hops} {lift}"),
    ));
    rows.push(TargetRow::judged(
        p99,
        format::millis(composed.p99_ms.median),
        composed.p99_ms.median <= HTTP_P99_MS,
        format!(
            "{hops} At {c} clients on this machine, requests queue behind those round trips \
             (NATS, host, provider and the load generator share the cores). {lift}"
        ),
    ));
    rows
}
