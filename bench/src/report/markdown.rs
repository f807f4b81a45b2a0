//! docs/benchmarks.md: every figure of the benchmark, its noise, and the targets met or missed.

use std::fmt::Write as _;

use super::format;
use super::inputs::Inputs;
use super::targets::{find_run, TargetRow, Verdict};
use crate::schema::{Deploy, Http};

/// The variants of the HTTP figure, in the order tables and the chart show them.
pub const HTTP_VARIANTS: [&str; 7] = [
    "linked",
    "direct",
    "composed",
    "provider-ingress",
    "hello",
    "hello-provider-ingress",
    "native",
];
pub const HTTP_CLIENTS: [u32; 3] = [1, 16, 64];

pub fn render(inputs: &Inputs, rows: &[TargetRow], chart_file: &str, generated: &str) -> String {
    let mut md = String::new();
    header(&mut md, inputs, chart_file, generated);
    targets_section(&mut md, rows);
    sizes_section(&mut md, inputs);
    coldstart_section(&mut md, inputs);
    callcost_section(&mut md, inputs);
    http_section(&mut md, inputs);
    deploy_section(&mut md, inputs);
    noise_section(&mut md, inputs);
    bounds_section(&mut md, rows);
    md
}

fn header(md: &mut String, inputs: &Inputs, chart_file: &str, generated: &str) {
    let m = &inputs.machine;
    let _ = writeln!(md, "# Neon benchmarks\n");
    let _ = writeln!(
        md,
        "The claims made for WASM nano-services (kilobyte binaries, microsecond \
         cold starts, function-call composition instead of network hops), measured on Neon's \
         own pipeline against what a user would otherwise pick, in one run on one machine.\n"
    );
    let _ = writeln!(md, "- **Machine**: {}", m.line());
    let _ = writeln!(
        md,
        "- **Measured**: {} (report generated {generated})",
        m.date
    );
    let _ = writeln!(
        md,
        "- **Reproduce**: `scripts/bench.sh` (regenerates the JSON figures in build/bench/, \
         this file and the chart)"
    );
    let _ = writeln!(
        md,
        "- Medians over repeated rounds; each figure gives its min/max over the rounds as its \
         noise. The machine may have been shared with other work: compare figures from the \
         same run only.\n"
    );
    let _ = writeln!(md, "![Neon benchmarks]({chart_file})\n");
}

fn targets_section(md: &mut String, rows: &[TargetRow]) {
    let _ = writeln!(md, "## Targets\n");
    let _ = writeln!(md, "| target | measured | verdict |");
    let _ = writeln!(md, "|---|---|---|");
    for row in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            row.target,
            row.measured,
            row.verdict.word()
        );
    }
    let missed = rows.iter().filter(|r| r.verdict == Verdict::Missed).count();
    let unmeasured = rows
        .iter()
        .filter(|r| r.verdict == Verdict::NotMeasured)
        .count();
    let _ = writeln!(
        md,
        "\n{} of {} met, {missed} missed, {unmeasured} not measured. What bounds each missed \
         target: [below](#what-bounds-the-missed-targets).\n",
        rows.iter().filter(|r| r.verdict == Verdict::Met).count(),
        rows.len()
    );
}

fn sizes_section(md: &mut String, inputs: &Inputs) {
    let _ = writeln!(md, "## 1. Size\n");
    let Some(sizes) = inputs.sizes.get() else {
        let _ = writeln!(md, "{}.\n", inputs.sizes.absence());
        return;
    };
    let _ = writeln!(
        md,
        "| binary | size | bytes | native is this many times larger |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|");
    let native = sizes.native.bytes as f64;
    for file in sizes.artifacts.iter().chain(std::iter::once(&sizes.native)) {
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} |",
            file.path,
            format::bytes(file.bytes),
            file.bytes,
            format::ratio(native / file.bytes as f64)
        );
    }
    notes(md, &sizes.notes);
}

fn coldstart_section(md: &mut String, inputs: &Inputs) {
    let _ = writeln!(md, "## 2. Cold start\n");
    let Some(cold) = inputs.coldstart.get() else {
        let _ = writeln!(md, "{}.\n", inputs.coldstart.absence());
        return;
    };
    let _ = writeln!(
        md,
        "Time from nothing to the first answer of a new instance, per request. Included: {}. \
         Done once, not timed: {}.\n",
        cold.included, cold.excluded
    );
    let _ = writeln!(
        md,
        "| what | p50 | p99 | min | max | round p50s (min – max) | with teardown p50 | native p50 / this p50 |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---|---:|---:|");
    for row in &cold.wasm {
        let s = &row.to_first_result_us;
        let ratio = cold
            .ratios
            .iter()
            .find(|r| r.wasm == row.label)
            .map_or_else(
                || "n/a".to_string(),
                |r| format::ratio(r.native_over_wasm_p50),
            );
        let _ = writeln!(
            md,
            "| {}{} | {} | {} | {} | {} | {} | {} | {ratio} |",
            row.label,
            if row.label == cold.headline {
                " (headline)"
            } else {
                ""
            },
            format::micros(s.p50),
            format::micros(s.p99),
            format::micros(s.min),
            format::micros(s.max),
            format::range(
                format::micros(row.round_p50_us.min),
                format::micros(row.round_p50_us.max)
            ),
            format::micros(row.with_teardown_us.p50),
        );
    }
    let n = &cold.native;
    let s = &n.to_first_result_us;
    let _ = writeln!(
        md,
        "| native pipeline, spawn until first result | {} | {} | {} | {} | {} | to exit: {} | 1× |",
        format::micros(s.p50),
        format::micros(s.p99),
        format::micros(s.min),
        format::micros(s.max),
        format::range(
            format::micros(n.round_p50_us.min),
            format::micros(n.round_p50_us.max)
        ),
        format::micros(n.to_exit_us.p50),
    );
    let _ = writeln!(
        md,
        "\nRuns: {} per wasm row, {} native spawns (which wrote {} log records). Wasm hosts: {}.",
        cold.wasm.first().map_or(0, |w| w.to_first_result_us.n),
        s.n,
        n.log_records_written,
        hosts(cold)
    );
    let _ = writeln!(
        md,
        "\nWhere a wasm cold start goes (p50 of each phase; they need not add up to the p50 \
         of the whole):\n"
    );
    let _ = writeln!(
        md,
        "| what | host state | Store::new | instantiate | export look-up + first call | teardown |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
    for row in &cold.wasm {
        let p = &row.phases_p50_us;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            row.label,
            format::micros(p.host_state),
            format::micros(p.store_new),
            format::micros(p.instantiate),
            format::micros(p.first_call),
            format::micros(p.teardown)
        );
    }
    let _ = writeln!(md, "\nEngine: {}.", cold.engine.join("; "));
    notes(md, &cold.notes);
}

/// Each component's host stand-ins, once (the sync and async rows share them).
fn hosts(cold: &crate::schema::Coldstart) -> String {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for row in &cold.wasm {
        if !seen
            .iter()
            .any(|(component, _)| *component == row.component)
        {
            seen.push((&row.component, &row.host));
        }
    }
    seen.iter()
        .map(|(component, host)| format!("{component}: {host}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn callcost_section(md: &mut String, inputs: &Inputs) {
    let _ = writeln!(md, "## 3. Call cost: one log call, composed vs linked\n");
    match inputs.callcost_composed.get() {
        None => {
            let _ = writeln!(md, "Composed: {}.\n", inputs.callcost_composed.absence());
        }
        Some(c) => {
            let _ = writeln!(md, "| what | p50 | p99 | min | max | n |");
            let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
            for (what, s) in [
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
            ] {
                let _ = writeln!(
                    md,
                    "| {what} | {} | {} | {} | {} | {} |",
                    format::nanos(s.p50),
                    format::nanos(s.p99),
                    format::nanos(s.min),
                    format::nanos(s.max),
                    s.n
                );
            }
            let _ = writeln!(
                md,
                "\nRound p50s of the estimate: {}.\n\nMethod (composed): {}",
                format::range(
                    format::nanos(c.round_p50_ns.min),
                    format::nanos(c.round_p50_ns.max)
                ),
                c.method
            );
            notes(md, &c.notes);
        }
    }
    match inputs.callcost_linked.get() {
        None => {
            let _ = writeln!(md, "Linked: {}.\n", inputs.callcost_linked.absence());
        }
        Some(l) => {
            let s = &l.linked_log_call_us;
            let _ = writeln!(
                md,
                "Linked over the lattice: p50 {}, p99 {}, min {}, max {} (n = {}).\n\nMethod \
                 (linked): {}",
                format::micros(s.p50),
                format::micros(s.p99),
                format::micros(s.min),
                format::micros(s.max),
                s.n,
                l.method
            );
            notes(md, &l.notes);
            if let Some(c) = inputs.callcost_composed.get() {
                let _ = writeln!(
                    md,
                    "**Ratio** linked / composed: p50 {}, p99 {} (against the upper bound: p50 {}).\n",
                    format::ratio(s.p50 * 1e3 / c.composed_log_call_ns.p50),
                    format::ratio(s.p99 * 1e3 / c.composed_log_call_ns.p99),
                    format::ratio(s.p50 * 1e3 / c.composed_log_call_upper_bound_ns.p50),
                );
            }
        }
    }
}

fn http_section(md: &mut String, inputs: &Inputs) {
    let _ = writeln!(md, "## 4. End-to-end HTTP\n");
    let Some(http) = inputs.http.get() else {
        let _ = writeln!(md, "{}.\n", inputs.http.absence());
        return;
    };
    let _ = writeln!(
        md,
        "`POST /process` through the whole stack. linked / direct / composed: Neon's three \
         wirings, served by the host's built-in HTTP server; provider-ingress: the linked wiring \
         served by wasmCloud's http-server provider instead; hello: a trivial hello-world \
         component on the same host behind the built-in server (the platform's ceiling), and \
         hello-provider-ingress behind the provider; native: an axum service doing the same \
         work with the same logging to a file (the anchor). \"vs hello\" compares with the \
         hello of the same ingress. Tool: {}.\n",
        if http.tool.is_empty() {
            "not stated"
        } else {
            &http.tool
        }
    );
    let _ = writeln!(
        md,
        "| variant | clients | req/s (median) | req/s min – max | p50 | p99 | p99 min – max | vs native | vs hello | errors / requests |"
    );
    let _ = writeln!(md, "|---|---:|---:|---|---:|---:|---|---:|---:|---:|");
    for run in ordered_runs(http) {
        let versus = |variant: &str| {
            find_run(http, variant, run.clients)
                .filter(|other| other.rps.median > 0.0)
                .map_or_else(
                    || "n/a".to_string(),
                    |other| format::percent(run.rps.median / other.rps.median),
                )
        };
        let _ = writeln!(
            md,
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
        );
    }
    let repeats = http.runs.iter().map(|r| r.repeats).max().unwrap_or(0);
    let duration = http.runs.iter().map(|r| r.duration_s).fold(0.0, f64::max);
    let _ = writeln!(
        md,
        "\nEach row: median of {repeats} runs of {duration:.0} s; min – max over those runs."
    );
    let _ = writeln!(
        md,
        "\nWhat a request waits on, counted from the manifests (every link between a component \
         and anything else is a wRPC call over NATS, even on one host; Neon's host waits for \
         every call to end, `logging.log` included, so that a record that could not be written \
         fails its request):\n"
    );
    let _ = writeln!(
        md,
        "| variant | NATS round trips awaited per request, in sequence |"
    );
    let _ = writeln!(md, "|---|---|");
    for row in [
        "| linked | 5: gateway -> processor; 2 `logging.log` to the logger, each awaiting the logger's `sink.write` to the provider (the built-in server calls the gateway in-process) |",
        "| direct | 3: gateway -> processor; 2 `logging.log` to the logging provider |",
        "| composed | 1: one `sink.write` with the request's records (gateway, processor and logger are one component) |",
        "| provider-ingress | 6: provider -> gateway, then as linked |",
        "| hello | 0 |",
        "| hello-provider-ingress | 1: provider -> hello |",
        "| native | 0 |",
    ] {
        let _ = writeln!(md, "{row}");
    }
    notes(md, &http.notes);
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
fn ordered_runs(http: &Http) -> Vec<&crate::schema::HttpRun> {
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

fn deploy_section(md: &mut String, inputs: &Inputs) {
    let _ = writeln!(md, "## 5. Deploy to ready\n");
    let Some(deploy) = inputs.deploy.get() else {
        let _ = writeln!(md, "{}.\n", inputs.deploy.absence());
        return;
    };
    deploy_table(md, deploy);
    notes(md, &deploy.notes);
}

fn deploy_table(md: &mut String, deploy: &Deploy) {
    let _ = writeln!(md, "| what | median | min – max | n |");
    let _ = writeln!(md, "|---|---:|---|---:|");
    for (wiring, s) in &deploy.deploy_to_first_200_ms {
        let _ = writeln!(
            md,
            "| `wash app deploy` to first 200, {wiring} | {} | {} | {} |",
            format::millis(s.median),
            format::range(format::millis(s.min), format::millis(s.max)),
            s.n
        );
    }
    let s = &deploy.scale_from_zero_ms;
    let _ = writeln!(
        md,
        "| component scaled from 0 to serving | {} | {} | {} |",
        format::millis(s.median),
        format::range(format::millis(s.min), format::millis(s.max)),
        s.n
    );
    let _ = writeln!(md);
}

fn noise_section(md: &mut String, inputs: &Inputs) {
    let _ = writeln!(md, "## Noise\n");
    let _ = writeln!(
        md,
        "How far apart the repeated rounds of each figure were: (max - min) / median of the \
         per-round medians. Large values mean the machine was busy; the medians still \
         compare within this run.\n"
    );
    let mut lines = Vec::new();
    let spread = |median: f64, min: f64, max: f64| {
        if median > 0.0 {
            format::percent((max - min) / median)
        } else {
            "n/a".to_string()
        }
    };
    if let Some(cold) = inputs.coldstart.get() {
        for w in &cold.wasm {
            let r = &w.round_p50_us;
            lines.push(format!(
                "| cold start {} | {} | {} |",
                w.label,
                format::range(format::micros(r.min), format::micros(r.max)),
                spread(r.median, r.min, r.max)
            ));
        }
        let r = &cold.native.round_p50_us;
        lines.push(format!(
            "| cold start native spawn | {} | {} |",
            format::range(format::micros(r.min), format::micros(r.max)),
            spread(r.median, r.min, r.max)
        ));
    }
    if let Some(c) = inputs.callcost_composed.get() {
        let r = &c.round_p50_ns;
        lines.push(format!(
            "| composed log call | {} | {} |",
            format::range(format::nanos(r.min), format::nanos(r.max)),
            spread(r.median, r.min, r.max)
        ));
    }
    if let Some(http) = inputs.http.get() {
        for run in ordered_runs(http) {
            lines.push(format!(
                "| HTTP {}, {} concurrent, req/s | {} | {} |",
                run.variant,
                run.clients,
                format::range(format::rps(run.rps.min), format::rps(run.rps.max)),
                spread(run.rps.median, run.rps.min, run.rps.max)
            ));
        }
    }
    if lines.is_empty() {
        let _ = writeln!(md, "Nothing measured.\n");
        return;
    }
    let _ = writeln!(md, "| figure | min – max | spread |");
    let _ = writeln!(md, "|---|---|---:|");
    for line in lines {
        let _ = writeln!(md, "{line}");
    }
    let _ = writeln!(md);
}

fn bounds_section(md: &mut String, rows: &[TargetRow]) {
    let _ = writeln!(md, "## What bounds the missed targets\n");
    let missed: Vec<_> = rows.iter().filter(|r| r.bound.is_some()).collect();
    if missed.is_empty() {
        let _ = writeln!(md, "No measured target was missed.\n");
        return;
    }
    let mut previous = None;
    for row in missed {
        let bound = row.bound.as_deref().unwrap_or_default();
        let text = if previous == Some(bound) {
            "the same as above."
        } else {
            bound
        };
        let _ = writeln!(
            md,
            "- **{}** (measured {}): {text}",
            row.target, row.measured
        );
        previous = Some(bound);
    }
    let _ = writeln!(md);
}

fn notes(md: &mut String, notes: &[String]) {
    if notes.is_empty() {
        let _ = writeln!(md);
        return;
    }
    let _ = writeln!(md);
    for note in notes {
        let _ = writeln!(md, "- {note}");
    }
    let _ = writeln!(md);
}
