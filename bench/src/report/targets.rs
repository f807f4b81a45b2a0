//! The benchmark's targets, judged against the measured figures. Each has a key; the report
//! template explains a missed target (what bounds it, what would lift it) under that key.

use super::format;
use super::inputs::Inputs;
use crate::schema::{Http, HttpRun};

pub const COLDSTART_P50_US: f64 = 10.0;
pub const COLDSTART_VS_NATIVE: f64 = 80.0;
pub const CALLCOST_VS_LINKED: f64 = 1000.0;
pub const PROVIDER_CALL_VS_NATS: f64 = 3.0;
pub const HTTP_CLIENTS: u32 = 64;
/// The platform's ceiling: hello-world on the host's built-in HTTP server against native axum.
pub const HTTP_HELLO_VS_NATIVE: f64 = 1.0;
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
    /// What the report template calls it (`missed.<key>`, `target.<key>`, `measured.<key>`).
    pub key: &'static str,
    pub target: String,
    pub measured: String,
    pub verdict: Verdict,
}

impl TargetRow {
    fn judged(key: &'static str, target: String, measured: String, met: bool) -> Self {
        Self {
            key,
            target,
            measured,
            verdict: Verdict::of(met),
        }
    }

    fn not_measured(key: &'static str, target: String, why: String) -> Self {
        Self {
            key,
            target,
            measured: why,
            verdict: Verdict::NotMeasured,
        }
    }
}

/// The template's key for a size target's artifact.
fn size_key(artifact: &str) -> &'static str {
    if artifact == "processor-composed.wasm" {
        "composed_size"
    } else {
        "processor_size"
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
    rows.push(provider_call_target(inputs));
    rows.extend(http_targets(inputs));
    rows
}

fn size_targets(inputs: &Inputs) -> Vec<TargetRow> {
    let Some(sizes) = inputs.sizes.get() else {
        return [
            ("processor.wasm", "32 KiB"),
            ("processor-composed.wasm", "64 KiB"),
        ]
        .into_iter()
        .map(|(artifact, limit)| {
            TargetRow::not_measured(
                size_key(artifact),
                format!("{artifact} ≤ {limit}"),
                inputs.sizes.absence(),
            )
        })
        .collect();
    };
    sizes
        .targets
        .iter()
        .map(|t| {
            TargetRow::judged(
                size_key(&t.artifact),
                format!("{} ≤ {}", t.artifact, format::bytes(t.limit_bytes)),
                format::bytes(t.bytes),
                t.met,
            )
        })
        .collect()
}

fn coldstart_targets(inputs: &Inputs) -> Vec<TargetRow> {
    let p50_target = format!("cold start p50 ≤ {COLDSTART_P50_US} µs");
    let ratio_target = format!("cold start ≥ {COLDSTART_VS_NATIVE}× faster than native spawn");
    let both_unmeasured = |why: String| {
        vec![
            TargetRow::not_measured("coldstart_p50", p50_target.clone(), why.clone()),
            TargetRow::not_measured("coldstart_vs_native", ratio_target.clone(), why),
        ]
    };
    let Some(cold) = inputs.coldstart.get() else {
        return both_unmeasured(inputs.coldstart.absence());
    };
    let Some(headline) = cold.headline_row() else {
        return both_unmeasured(format!("coldstart.json has no row {:?}", cold.headline));
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
            "coldstart_p50",
            p50_target,
            format!("{} for {}{others}", format::micros(p50), headline.label),
            p50 <= COLDSTART_P50_US,
        ),
        TargetRow::judged(
            "coldstart_vs_native",
            ratio_target,
            format!(
                "{} (native spawn p50 {})",
                format::ratio(ratio),
                format::micros(cold.native.to_first_result_us.p50)
            ),
            ratio >= COLDSTART_VS_NATIVE,
        ),
    ]
}

fn callcost_target(inputs: &Inputs) -> TargetRow {
    let key = "callcost";
    let target = format!("composed log call ≥ {CALLCOST_VS_LINKED}× cheaper than linked");
    let (composed, linked) = match (inputs.callcost_composed.get(), inputs.callcost_linked.get()) {
        (Some(c), Some(l)) => (c, l),
        (None, _) => {
            return TargetRow::not_measured(key, target, inputs.callcost_composed.absence())
        }
        (_, None) => {
            let why = format!("linked: {}", inputs.callcost_linked.absence());
            return TargetRow::not_measured(key, target, why);
        }
    };
    let linked_ns = linked.linked_log_call_us.p50 * 1e3;
    let estimate = composed.composed_log_call_ns.p50;
    let upper = composed.composed_log_call_upper_bound_ns.p50;
    let ratio = linked_ns / estimate;
    TargetRow::judged(
        key,
        target,
        format!(
            "{} (p50: linked {} / composed {}; against the upper bound {}: {})",
            format::ratio(ratio),
            format::nanos(linked_ns),
            format::nanos(estimate),
            format::nanos(upper),
            format::ratio(linked_ns / upper)
        ),
        ratio.is_finite() && ratio >= CALLCOST_VS_LINKED,
    )
}

fn provider_call_target(inputs: &Inputs) -> TargetRow {
    let key = "provider_call";
    let target = format!(
        "component -> provider call p50 ≤ {PROVIDER_CALL_VS_NATS}× a plain NATS request/reply"
    );
    let Some(linked) = inputs.callcost_linked.get() else {
        return TargetRow::not_measured(key, target, inputs.callcost_linked.absence());
    };
    let (Some(call), Some(floor)) = (&linked.provider_call_us, &linked.nats_request_us) else {
        let why = "not in this callcost-linked.json (measured before the bench timed it)";
        return TargetRow::not_measured(key, target, why.to_string());
    };
    let ratio = call.p50 / floor.p50;
    TargetRow::judged(
        key,
        target,
        format!(
            "{} (p50: sink.write {} / NATS request {})",
            format::ratio(ratio),
            format::micros(call.p50),
            format::micros(floor.p50)
        ),
        ratio.is_finite() && ratio <= PROVIDER_CALL_VS_NATS,
    )
}

/// `variant`'s req/s at HTTP_CLIENTS as a fraction of `other`'s, judged against `floor`.
fn ratio_row(
    http: &Http,
    key: &'static str,
    target: String,
    (variant, other): (&str, &str),
    floor: f64,
) -> TargetRow {
    let c = HTTP_CLIENTS;
    match (find_run(http, variant, c), find_run(http, other, c)) {
        (Some(run), Some(against)) if against.rps.median > 0.0 => {
            let fraction = run.rps.median / against.rps.median;
            TargetRow::judged(
                key,
                target,
                format!(
                    "{} ({} vs {} req/s)",
                    format::percent(fraction),
                    format::rps(run.rps.median),
                    format::rps(against.rps.median)
                ),
                fraction >= floor,
            )
        }
        (None, _) => {
            TargetRow::not_measured(key, target, format!("no {variant} run at {c} clients"))
        }
        _ => TargetRow::not_measured(key, target, format!("no {other} run at {c} clients")),
    }
}

fn http_targets(inputs: &Inputs) -> Vec<TargetRow> {
    let mut rows = vec![hello_target(inputs)];
    rows.extend(composed_targets(inputs));
    rows
}

/// hello-world against native axum: what the platform itself costs, with no Neon in it.
fn hello_target(inputs: &Inputs) -> TargetRow {
    let c = HTTP_CLIENTS;
    let key = "hello_vs_native";
    let target = format!(
        "hello-world at {c} clients ≥ {} of native req/s",
        format::percent(HTTP_HELLO_VS_NATIVE)
    );
    match inputs.http.get() {
        Some(http) => ratio_row(http, key, target, ("hello", "native"), HTTP_HELLO_VS_NATIVE),
        None => TargetRow::not_measured(key, target, inputs.http.absence()),
    }
}

fn composed_targets(inputs: &Inputs) -> Vec<TargetRow> {
    let c = HTTP_CLIENTS;
    let targets = [
        (
            "composed_vs_hello",
            format!(
                "composed at {c} clients ≥ {} of hello-world req/s",
                format::percent(HTTP_VS_HELLO)
            ),
        ),
        (
            "linked_vs_hello",
            format!(
                "linked at {c} clients ≥ {} of hello-world req/s",
                format::percent(HTTP_LINKED_VS_HELLO)
            ),
        ),
        (
            "composed_vs_native",
            format!(
                "composed at {c} clients ≥ {} of native req/s",
                format::percent(HTTP_VS_NATIVE)
            ),
        ),
        (
            "composed_p99",
            format!("composed at {c} clients p99 ≤ {HTTP_P99_MS} ms"),
        ),
    ];
    let composed = inputs
        .http
        .get()
        .map(|http| (http, find_run(http, "composed", c)));
    let (http, composed) = match composed {
        Some((http, Some(composed))) => (http, composed),
        other => {
            let why = match other {
                None => inputs.http.absence(),
                Some(_) => format!("http.json has no composed run at {c} clients"),
            };
            return targets
                .into_iter()
                .map(|(key, target)| TargetRow::not_measured(key, target, why.clone()))
                .collect();
        }
    };
    let [vs_hello, linked, vs_native, p99] = targets;
    vec![
        ratio_row(
            http,
            vs_hello.0,
            vs_hello.1,
            ("composed", "hello"),
            HTTP_VS_HELLO,
        ),
        ratio_row(
            http,
            linked.0,
            linked.1,
            ("linked", "hello"),
            HTTP_LINKED_VS_HELLO,
        ),
        ratio_row(
            http,
            vs_native.0,
            vs_native.1,
            ("composed", "native"),
            HTTP_VS_NATIVE,
        ),
        TargetRow::judged(
            p99.0,
            p99.1,
            format::millis(composed.p99_ms.median),
            composed.p99_ms.median <= HTTP_P99_MS,
        ),
    ]
}
