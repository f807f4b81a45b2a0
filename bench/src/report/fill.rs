//! The values docs/benchmarks.md is made of: every figure, formatted, and each table's rows.
//! The words around them are the template's (bench/report-template.md).

use super::format;
use super::inputs::{Input, Inputs};
use super::targets::{self, find_run, TargetRow, Verdict};
use super::template::Values;
use crate::schema::{Coldstart, Http, HttpRun};
use crate::stats::{Spread, Summary};

/// The variants of the HTTP figure, in the order tables and the chart show them.
pub const HTTP_VARIANTS: [&str; 9] = [
    "linked",
    "direct",
    "composed",
    "provider-ingress",
    "hello",
    "hello-provider-ingress",
    "wasmtime-serve",
    "wash2",
    "native",
];
pub const HTTP_CLIENTS: [u32; 3] = [1, 16, 64];

pub fn values(inputs: &Inputs, rows: &[TargetRow], chart_file: &str, generated: &str) -> Values {
    let mut v = Values::default();
    v.set("machine", inputs.machine.line());
    v.set("measured", inputs.machine.date.clone());
    v.set("generated", generated);
    v.set("chart", chart_file);
    v.set("http_clients", targets::HTTP_CLIENTS.to_string());
    targets_values(&mut v, rows);
    sizes(&mut v, inputs);
    coldstart(&mut v, inputs);
    callcost(&mut v, inputs);
    http(&mut v, inputs);
    deploy(&mut v, inputs);
    noise(&mut v, inputs);
    v
}

/// Marks a section measured or not: `<name>` set, or `<name>_absent` saying why.
fn section<'a, T>(v: &mut Values, name: &str, input: &'a Input<T>) -> Option<&'a T> {
    v.flag(name, input.get().is_some());
    v.set(format!("{name}_absent"), input.absence());
    input.get()
}

fn lines(rows: impl IntoIterator<Item = String>) -> String {
    rows.into_iter().collect::<Vec<_>>().join("\n")
}

/// A section's notes as a list, with the blank lines around it.
fn notes(notes: &[String]) -> String {
    if notes.is_empty() {
        return String::new();
    }
    format!("\n{}", lines(notes.iter().map(|note| format!("- {note}"))))
}

fn targets_values(v: &mut Values, rows: &[TargetRow]) {
    let count = |verdict| {
        rows.iter()
            .filter(|r| r.verdict == verdict)
            .count()
            .to_string()
    };
    v.set("targets", rows.len().to_string());
    v.set("met", count(Verdict::Met));
    v.set("missed", count(Verdict::Missed));
    v.set("unmeasured", count(Verdict::NotMeasured));
    v.set(
        "targets_rows",
        lines(
            rows.iter()
                .map(|r| format!("| {} | {} | {} |", r.target, r.measured, r.verdict.word())),
        ),
    );
    let missed = |key: &str| {
        rows.iter()
            .any(|r| r.key == key && r.verdict == Verdict::Missed)
    };
    for row in rows {
        v.flag(
            format!("missed.{}", row.key),
            row.verdict == Verdict::Missed,
        );
        v.set(format!("target.{}", row.key), row.target.clone());
        v.set(format!("measured.{}", row.key), row.measured.clone());
    }
    v.flag(
        "missed_any",
        rows.iter().any(|r| r.verdict == Verdict::Missed),
    );
    v.flag(
        "missed.composed_http",
        ["composed_vs_hello", "composed_vs_native", "composed_p99"]
            .iter()
            .any(|k| missed(k)),
    );
}

fn sizes(v: &mut Values, inputs: &Inputs) {
    // The bound of the composed size names its parts, measured or not.
    for (key, name) in [
        ("size.processor", "processor.wasm"),
        ("size.logger", "logger.wasm"),
    ] {
        let bytes = inputs
            .sizes
            .get()
            .and_then(|s| s.artifacts.iter().find(|a| a.name == name))
            .map_or_else(|| "not measured".to_string(), |a| format::bytes(a.bytes));
        v.set(key, bytes);
    }
    let Some(sizes) = section(v, "sizes", &inputs.sizes) else {
        return;
    };
    let native = sizes.native.bytes as f64;
    let rows = sizes
        .artifacts
        .iter()
        .chain(std::iter::once(&sizes.native))
        .map(|file| {
            format!(
                "| `{}` | {} | {} | {} |",
                file.path,
                format::bytes(file.bytes),
                file.bytes,
                format::ratio(native / file.bytes as f64)
            )
        });
    v.set("sizes_rows", lines(rows));
    v.set("sizes_notes", notes(&sizes.notes));
}

/// p50, p99, min, max of a summary in µs.
fn micros4(s: &Summary) -> String {
    [s.p50, s.p99, s.min, s.max].map(format::micros).join(" | ")
}

fn coldstart(v: &mut Values, inputs: &Inputs) {
    let phase = inputs
        .coldstart
        .get()
        .and_then(Coldstart::headline_row)
        .map(|h| h.phases_p50_us);
    for (key, value) in [
        ("phase.host_state", phase.map(|p| p.host_state)),
        ("phase.store_new", phase.map(|p| p.store_new)),
        ("phase.instantiate", phase.map(|p| p.instantiate)),
        ("phase.first_call", phase.map(|p| p.first_call)),
    ] {
        v.set(
            key,
            value.map_or_else(|| "not measured".to_string(), format::micros),
        );
    }
    let Some(cold) = section(v, "coldstart", &inputs.coldstart) else {
        return;
    };
    v.set("coldstart_included", cold.included.clone());
    v.set("coldstart_excluded", cold.excluded.clone());
    let mut rows: Vec<String> = cold
        .wasm
        .iter()
        .map(|row| {
            let ratio = cold
                .ratios
                .iter()
                .find(|r| r.wasm == row.label)
                .map_or_else(
                    || "n/a".to_string(),
                    |r| format::ratio(r.native_over_wasm_p50),
                );
            let headline = if row.label == cold.headline {
                " (headline)"
            } else {
                ""
            };
            format!(
                "| {}{headline} | {} | {} | {} | {ratio} |",
                row.label,
                micros4(&row.to_first_result_us),
                format::range(
                    format::micros(row.round_p50_us.min),
                    format::micros(row.round_p50_us.max)
                ),
                format::micros(row.with_teardown_us.p50),
            )
        })
        .collect();
    let n = &cold.native;
    rows.push(format!(
        "| native pipeline, spawn until first result | {} | {} | to exit: {} | 1× |",
        micros4(&n.to_first_result_us),
        format::range(
            format::micros(n.round_p50_us.min),
            format::micros(n.round_p50_us.max)
        ),
        format::micros(n.to_exit_us.p50),
    ));
    v.set("coldstart_rows", lines(rows));
    let runs = cold.wasm.first().map_or(0, |w| w.to_first_result_us.n);
    v.set("coldstart_runs", runs.to_string());
    v.set("native_spawns", n.to_first_result_us.n.to_string());
    v.set("native_records", n.log_records_written.to_string());
    v.set("coldstart_hosts", hosts(cold));
    let phases = cold.wasm.iter().map(|row| {
        let p = &row.phases_p50_us;
        let cells = [
            p.host_state,
            p.store_new,
            p.instantiate,
            p.first_call,
            p.teardown,
        ]
        .map(format::micros)
        .join(" | ");
        format!("| {} | {cells} |", row.label)
    });
    v.set("coldstart_phase_rows", lines(phases));
    v.set("engine", cold.engine.join("; "));
    v.set("coldstart_notes", notes(&cold.notes));
}

/// Each component's host stand-ins, once (the sync and async rows share them).
fn hosts(cold: &Coldstart) -> String {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for row in &cold.wasm {
        if !seen
            .iter()
            .any(|(component, _)| *component == row.component)
        {
            seen.push((&row.component, &row.host));
        }
    }
    let named: Vec<String> = seen
        .iter()
        .map(|(c, host)| format!("{c}: {host}"))
        .collect();
    named.join("; ")
}

fn callcost(v: &mut Values, inputs: &Inputs) {
    let composed = section(v, "callcost_composed", &inputs.callcost_composed);
    if let Some(c) = composed {
        let rows = [
            ("composed: one log call (estimate)", &c.composed_log_call_ns),
            (
                "composed: upper bound (process() / log calls)",
                &c.composed_log_call_upper_bound_ns,
            ),
            (
                "processor.wasm process(), no-op host logging",
                &c.process_processor_noop_host_ns,
            ),
            ("processor-composed.wasm process()", &c.process_composed_ns),
            (
                "reference: host -> logger.wasm logging.log",
                &c.logger_export_call_ns,
            ),
        ]
        .map(|(what, s)| {
            let cells = [s.p50, s.p99, s.min, s.max].map(format::nanos).join(" | ");
            format!("| {what} | {cells} | {} |", s.n)
        });
        v.set("callcost_rows", lines(rows));
        v.set(
            "callcost_rounds",
            format::range(
                format::nanos(c.round_p50_ns.min),
                format::nanos(c.round_p50_ns.max),
            ),
        );
        v.set("callcost_composed_method", c.method.clone());
        v.set("callcost_composed_notes", notes(&c.notes));
    }
    let linked = section(v, "callcost_linked", &inputs.callcost_linked);
    if let Some(l) = linked {
        let rows = [
            (
                "one `logging.log` call into the logger",
                Some(&l.linked_log_call_us),
            ),
            (
                "one `sink.write` call into the provider",
                l.provider_call_us.as_ref(),
            ),
            ("one plain NATS request/reply", l.nats_request_us.as_ref()),
        ]
        .into_iter()
        .filter_map(|(what, s)| {
            let s = s?;
            let cells = [s.p50, s.p99, s.min, s.max].map(format::micros).join(" | ");
            Some(format!("| {what} | {cells} | {} |", s.n))
        });
        v.set("callcost_linked_rows", lines(rows));
        v.set("callcost_linked_method", l.method.clone());
        v.set("callcost_linked_notes", notes(&l.notes));
    }
    let ratio = match (composed, linked) {
        (Some(c), Some(l)) => {
            let s = &l.linked_log_call_us;
            format!(
                "p50 {}, p99 {} (against the upper bound: p50 {})",
                format::ratio(s.p50 * 1e3 / c.composed_log_call_ns.p50),
                format::ratio(s.p99 * 1e3 / c.composed_log_call_ns.p99),
                format::ratio(s.p50 * 1e3 / c.composed_log_call_upper_bound_ns.p50),
            )
        }
        _ => String::new(),
    };
    v.set("callcost_ratio", ratio);
}

fn http(v: &mut Values, inputs: &Inputs) {
    let Some(http) = section(v, "http", &inputs.http) else {
        return;
    };
    let tool = if http.tool.is_empty() {
        "not stated"
    } else {
        &http.tool
    };
    v.set("http_tool", tool);
    let rows = ordered_runs(http).into_iter().map(|run| {
        let versus = |variant: &str| {
            find_run(http, variant, run.clients)
                .filter(|other| other.rps.median > 0.0)
                .map_or_else(
                    || "n/a".to_string(),
                    |o| format::percent(run.rps.median / o.rps.median),
                )
        };
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} |",
            run.variant,
            run.clients,
            format::rps(run.rps.median),
            format::range(format::rps(run.rps.min), format::rps(run.rps.max)),
            format::millis(run.p50_ms.median),
            format::millis(run.p99_ms.median),
            format::range(
                format::millis(run.p99_ms.min),
                format::millis(run.p99_ms.max)
            ),
            versus("native"),
            versus(same_ingress_ceiling(&run.variant)),
            run.errors,
            run.requests
        )
    });
    v.set("http_rows", lines(rows));
    let repeats = http.runs.iter().map(|r| r.repeats).max().unwrap_or(0);
    let duration = http.runs.iter().map(|r| r.duration_s).fold(0.0, f64::max);
    v.set("http_repeats", repeats.to_string());
    v.set("http_duration_s", format!("{duration:.0}"));
    v.set("http_notes", notes(&http.notes));
}

/// The hello-world ceiling behind the same ingress as `variant`.
fn same_ingress_ceiling(variant: &str) -> &'static str {
    if variant.ends_with("provider-ingress") {
        "hello-provider-ingress"
    } else {
        "hello"
    }
}

/// Runs in a stable order: variants as in HTTP_VARIANTS (others after), then clients.
fn ordered_runs(http: &Http) -> Vec<&HttpRun> {
    let mut runs: Vec<_> = http.runs.iter().collect();
    let rank = |v: &str| {
        HTTP_VARIANTS
            .iter()
            .position(|known| *known == v)
            .unwrap_or(HTTP_VARIANTS.len())
    };
    runs.sort_by(|a, b| {
        (rank(&a.variant), &a.variant, a.clients).cmp(&(rank(&b.variant), &b.variant, b.clients))
    });
    runs
}

fn deploy(v: &mut Values, inputs: &Inputs) {
    let Some(deploy) = section(v, "deploy", &inputs.deploy) else {
        return;
    };
    let row = |what: String, s: &Spread| {
        format!(
            "| {what} | {} | {} | {} |",
            format::millis(s.median),
            format::range(format::millis(s.min), format::millis(s.max)),
            s.n
        )
    };
    let rows = deploy
        .deploy_to_first_200_ms
        .iter()
        .map(|(wiring, s)| row(format!("`wash app deploy` to first 200, {wiring}"), s))
        .chain([row(
            "component scaled from 0 to serving".into(),
            &deploy.scale_from_zero_ms,
        )]);
    v.set("deploy_rows", lines(rows));
    v.set("deploy_notes", notes(&deploy.notes));
}

fn noise(v: &mut Values, inputs: &Inputs) {
    let spread = |median: f64, min: f64, max: f64| {
        if median > 0.0 {
            format::percent((max - min) / median)
        } else {
            "n/a".to_string()
        }
    };
    let row = |figure: String, r: &Spread, unit: fn(f64) -> String| {
        format!(
            "| {figure} | {} | {} |",
            format::range(unit(r.min), unit(r.max)),
            spread(r.median, r.min, r.max)
        )
    };
    let mut rows = Vec::new();
    if let Some(cold) = inputs.coldstart.get() {
        for w in &cold.wasm {
            rows.push(row(
                format!("cold start {}", w.label),
                &w.round_p50_us,
                format::micros,
            ));
        }
        rows.push(row(
            "cold start native spawn".into(),
            &cold.native.round_p50_us,
            format::micros,
        ));
    }
    if let Some(c) = inputs.callcost_composed.get() {
        rows.push(row(
            "composed log call".into(),
            &c.round_p50_ns,
            format::nanos,
        ));
    }
    if let Some(http) = inputs.http.get() {
        for run in ordered_runs(http) {
            let figure = format!("HTTP {}, {} concurrent, req/s", run.variant, run.clients);
            rows.push(row(figure, &run.rps, format::rps));
        }
    }
    v.set("noise_rows", lines(rows));
}
