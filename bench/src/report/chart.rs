//! docs/benchmarks.svg: six panels, one per figure (HTTP twice: throughput and tail latency).
//! Figures that span orders of magnitude (cold start, call cost, size) use a log10 axis; a
//! panel whose figure was not measured says so instead of showing nothing.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::fill::{HTTP_CLIENTS, HTTP_VARIANTS};
use super::format;
use super::inputs::Inputs;
use super::targets::{self, find_run};
use crate::schema::HttpRun;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

const WIDTH: u32 = 1400;
const HEIGHT: u32 = 1260;
const FONT: &str = "sans-serif";

const WASM: RGBColor = RGBColor(0x65, 0x4f, 0xf0);
const NATIVE: RGBColor = RGBColor(0xe0, 0x7a, 0x1f);
const LATTICE: RGBColor = RGBColor(0x2a, 0x9d, 0x8f);
const TARGET: RGBColor = RGBColor(0xd6, 0x28, 0x28);

/// One colour per HTTP variant, in HTTP_VARIANTS order.
const VARIANT_COLORS: [RGBColor; 9] = [
    RGBColor(0x8a, 0xb1, 0xd9),
    RGBColor(0x2a, 0x9d, 0x8f),
    WASM,
    RGBColor(0xc9, 0xa2, 0x27),
    RGBColor(0x9e, 0x9e, 0x9e),
    RGBColor(0xcf, 0xcf, 0xcf),
    RGBColor(0xb5, 0x5d, 0xa6),
    RGBColor(0x5d, 0x8a, 0x3a),
    NATIVE,
];

/// (median, whisker low, whisker high)
type Whiskered = (f64, f64, f64);
/// One HTTP variant: its name, colour, and a value per client count (None: not measured).
type Series = (String, RGBColor, Vec<Option<Whiskered>>);

#[derive(Clone, Copy, PartialEq)]
enum Scale {
    Linear,
    Log10,
}

impl Scale {
    fn axis(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log10 => v.max(f64::MIN_POSITIVE).log10(),
        }
    }

    fn value(self, y: f64) -> f64 {
        match self {
            Scale::Linear => y,
            Scale::Log10 => 10f64.powf(y),
        }
    }
}

/// A bar: its value, and the range its whisker spans (noise or tail).
struct Bar {
    label: String,
    value: f64,
    whisker: Option<(f64, f64)>,
    color: RGBColor,
}

struct Panel<'a> {
    title: &'a str,
    unit: &'a str,
    scale: Scale,
    /// Formats a value in the panel's unit.
    format: fn(f64) -> String,
    targets: Vec<(f64, String)>,
}

pub fn render(inputs: &Inputs, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let root = root
        .titled(
            &format!("Neon benchmarks — {}", inputs.machine.line()),
            (FONT, 26),
        )
        .map_err(draw_err)?;
    let panels = root.split_evenly((3, 2));
    http_rps(&panels[0], inputs)?;
    http_p99(&panels[1], inputs)?;
    coldstart(&panels[2], inputs)?;
    callcost(&panels[3], inputs)?;
    sizes(&panels[4], inputs)?;
    deploy(&panels[5], inputs)?;
    root.present().map_err(draw_err)?;
    Ok(())
}

/// An x axis of `n` equal slots, labelled at their centres (bar charts: one slot per bar or
/// group). plotters' own `with_key_points` loses the f64 label formatting the mesh needs.
struct Slots(usize);

impl Ranged for Slots {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let fraction = value / self.0.max(1) as f64;
        limit.0 + (fraction * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        (0..self.0).map(|i| i as f64 + 0.5).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.0 as f64
    }
}

impl ValueFormatter<f64> for Slots {
    fn format(value: &f64) -> String {
        format!("{value}")
    }
}

fn draw_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing the chart: {e:?}")
}

fn http_series(inputs: &Inputs, pick: fn(&HttpRun) -> Whiskered) -> Option<Vec<Series>> {
    let http = inputs.http.get()?;
    let series: Vec<_> = HTTP_VARIANTS
        .iter()
        .zip(VARIANT_COLORS)
        .map(|(variant, color)| {
            let values = HTTP_CLIENTS
                .iter()
                .map(|&clients| find_run(http, variant, clients).map(pick))
                .collect();
            (variant.to_string(), color, values)
        })
        .collect();
    Some(series)
}

fn http_rps(area: &Area, inputs: &Inputs) -> Result<()> {
    let panel = Panel {
        title: "HTTP requests/s by concurrent clients (median, whisker min–max)",
        unit: "requests/s",
        scale: Scale::Linear,
        format: |v| format::rps(v),
        targets: Vec::new(),
    };
    match http_series(inputs, |r| (r.rps.median, r.rps.min, r.rps.max)) {
        Some(series) => grouped(area, &panel, &series),
        None => not_measured(area, panel.title, &inputs.http.absence()),
    }
}

fn http_p99(area: &Area, inputs: &Inputs) -> Result<()> {
    let panel = Panel {
        title: "HTTP p99 latency by concurrent clients (median, whisker min–max)",
        unit: "ms",
        scale: Scale::Linear,
        format: |v| format!("{v:.1}"),
        targets: vec![(
            targets::HTTP_P99_MS,
            "target (composed, 64 clients)".to_string(),
        )],
    };
    match http_series(inputs, |r| (r.p99_ms.median, r.p99_ms.min, r.p99_ms.max)) {
        Some(series) => grouped(area, &panel, &series),
        None => not_measured(area, panel.title, &inputs.http.absence()),
    }
}

fn coldstart(area: &Area, inputs: &Inputs) -> Result<()> {
    let title = "Cold start to first result, p50 (whisker to p99), log scale";
    let Some(cold) = inputs.coldstart.get() else {
        return not_measured(area, title, &inputs.coldstart.absence());
    };
    let mut bars: Vec<Bar> = cold
        .wasm
        .iter()
        .map(|w| Bar {
            label: short_component(&w.component, &w.mode),
            value: w.to_first_result_us.p50,
            whisker: Some((w.to_first_result_us.p50, w.to_first_result_us.p99)),
            color: WASM,
        })
        .collect();
    let n = &cold.native.to_first_result_us;
    bars.push(Bar {
        label: "native spawn".to_string(),
        value: n.p50,
        whisker: Some((n.p50, n.p99)),
        color: NATIVE,
    });
    let panel = Panel {
        title,
        unit: "µs",
        scale: Scale::Log10,
        format: format::micros,
        targets: vec![(targets::COLDSTART_P50_US, "target p50".to_string())],
    };
    simple(area, &panel, &bars)
}

fn short_component(component: &str, mode: &str) -> String {
    let name = component
        .trim_end_matches(".wasm")
        .replace("processor-composed", "composed");
    format!("{name} {mode}")
}

fn callcost(area: &Area, inputs: &Inputs) -> Result<()> {
    let title = "One log call, p50 (whisker to p99), log scale";
    let mut bars = Vec::new();
    if let Some(c) = inputs.callcost_composed.get() {
        for (label, s, color) in [
            ("composed", &c.composed_log_call_ns, WASM),
            (
                "composed (bound)",
                &c.composed_log_call_upper_bound_ns,
                WASM,
            ),
            ("host→logger", &c.logger_export_call_ns, VARIANT_COLORS[0]),
        ] {
            bars.push(Bar {
                label: label.to_string(),
                value: s.p50 / 1e3,
                whisker: Some((s.p50 / 1e3, s.p99 / 1e3)),
                color,
            });
        }
    }
    if let Some(l) = inputs.callcost_linked.get() {
        let s = &l.linked_log_call_us;
        bars.push(Bar {
            label: "linked (lattice)".to_string(),
            value: s.p50,
            whisker: Some((s.p50, s.p99)),
            color: LATTICE,
        });
    }
    if bars.is_empty() {
        return not_measured(area, title, &inputs.callcost_composed.absence());
    }
    let panel = Panel {
        title,
        unit: "µs",
        scale: Scale::Log10,
        format: format::micros,
        targets: Vec::new(),
    };
    simple(area, &panel, &bars)
}

fn sizes(area: &Area, inputs: &Inputs) -> Result<()> {
    let title = "Binary size, log scale";
    let Some(sizes) = inputs.sizes.get() else {
        return not_measured(area, title, &inputs.sizes.absence());
    };
    let mut bars: Vec<Bar> = sizes
        .artifacts
        .iter()
        .map(|a| Bar {
            label: a
                .name
                .trim_end_matches(".wasm")
                .replace("processor-composed", "composed"),
            value: a.bytes as f64 / 1024.0,
            whisker: None,
            color: WASM,
        })
        .collect();
    bars.push(Bar {
        label: "native".to_string(),
        value: sizes.native.bytes as f64 / 1024.0,
        whisker: None,
        color: NATIVE,
    });
    let panel = Panel {
        title,
        unit: "KiB",
        scale: Scale::Log10,
        format: |v| format::bytes((v * 1024.0) as u64),
        targets: sizes
            .targets
            .iter()
            .map(|t| {
                (
                    t.limit_bytes as f64 / 1024.0,
                    format!(
                        "{} target",
                        t.artifact
                            .trim_end_matches(".wasm")
                            .replace("processor-composed", "composed")
                    ),
                )
            })
            .collect(),
    };
    simple(area, &panel, &bars)
}

fn deploy(area: &Area, inputs: &Inputs) -> Result<()> {
    let title = "Deploy to first 200 / scale from zero (median, whisker min–max)";
    let Some(deploy) = inputs.deploy.get() else {
        return not_measured(area, title, &inputs.deploy.absence());
    };
    let mut bars: Vec<Bar> = deploy
        .deploy_to_first_200_ms
        .iter()
        .map(|(wiring, s)| Bar {
            label: format!("deploy {wiring}"),
            value: s.median,
            whisker: Some((s.min, s.max)),
            color: LATTICE,
        })
        .collect();
    let s = &deploy.scale_from_zero_ms;
    bars.push(Bar {
        label: "scale 0→1".to_string(),
        value: s.median,
        whisker: Some((s.min, s.max)),
        color: WASM,
    });
    if bars.is_empty() {
        return not_measured(area, title, "deploy.json has no figures");
    }
    let panel = Panel {
        title,
        unit: "ms",
        scale: Scale::Linear,
        format: |v| format!("{v:.0}"),
        targets: Vec::new(),
    };
    simple(area, &panel, &bars)
}

/// The y range that holds every value, whisker and target line, on the panel's axis.
fn y_range(panel: &Panel, values: impl Iterator<Item = f64>) -> (f64, f64) {
    let axis: Vec<f64> = values
        .chain(panel.targets.iter().map(|(v, _)| *v))
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| panel.scale.axis(v))
        .collect();
    let hi = axis.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = axis.iter().copied().fold(f64::INFINITY, f64::min);
    match panel.scale {
        Scale::Linear if hi.is_finite() && hi > 0.0 => (0.0, hi * 1.15),
        Scale::Linear => (0.0, 1.0),
        Scale::Log10 if hi.is_finite() => (lo.floor() - 0.05, hi.ceil() + 0.25),
        Scale::Log10 => (0.0, 1.0),
    }
}

fn simple(area: &Area, panel: &Panel, bars: &[Bar]) -> Result<()> {
    let values = bars
        .iter()
        .flat_map(|b| [Some(b.value), b.whisker.map(|w| w.1)])
        .flatten();
    let (y0, y1) = y_range(panel, values);
    let n = bars.len().max(1) as f64;
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    let x_label = move |x: &f64| {
        labels
            .get(x.floor().max(0.0) as usize)
            .cloned()
            .unwrap_or_default()
    };
    let mut chart = axes(area, panel, Slots(bars.len()), y0..y1, &x_label)?;
    let (scale, format) = (panel.scale, panel.format);
    let base = y0;
    for (i, bar) in bars.iter().enumerate() {
        let x = i as f64;
        let top = scale.axis(bar.value);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x + 0.2, base), (x + 0.8, top)],
                bar.color.filled(),
            )))
            .map_err(draw_err)?;
        if let Some((lo, hi)) = bar.whisker {
            whisker(&mut chart, x + 0.5, scale.axis(lo), scale.axis(hi))?;
        }
        chart
            .draw_series(std::iter::once(Text::new(
                format(bar.value),
                (x + 0.22, top + (y1 - y0) * 0.06),
                (FONT, 14),
            )))
            .map_err(draw_err)?;
    }
    target_lines(&mut chart, panel, n)?;
    if panel.targets.is_empty() {
        Ok(())
    } else {
        legend(&mut chart)
    }
}

/// Bars grouped by client count, one colour per variant; a missing run leaves a gap.
fn grouped(area: &Area, panel: &Panel, series: &[Series]) -> Result<()> {
    let values = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().flatten().flat_map(|&(m, _, hi)| [m, hi]));
    let (y0, y1) = y_range(panel, values);
    let groups = HTTP_CLIENTS.len() as f64;
    let x_label = |x: &f64| {
        HTTP_CLIENTS
            .get(x.floor().max(0.0) as usize)
            .map_or_else(String::new, |&c| match c {
                1 => "1 client".to_string(),
                c => format!("{c} clients"),
            })
    };
    let mut chart = axes(area, panel, Slots(HTTP_CLIENTS.len()), y0..y1, &x_label)?;
    let scale = panel.scale;
    let width = 0.8 / series.len().max(1) as f64;
    for (s, (name, color, values)) in series.iter().enumerate() {
        let color = *color;
        let rects: Vec<_> = values
            .iter()
            .enumerate()
            .filter_map(|(g, v)| {
                let (median, _, _) = (*v)?;
                let x = g as f64 + 0.1 + s as f64 * width;
                Some(Rectangle::new(
                    [
                        (x + width * 0.08, y0),
                        (x + width * 0.92, scale.axis(median)),
                    ],
                    color.filled(),
                ))
            })
            .collect();
        chart
            .draw_series(rects)
            .map_err(draw_err)?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        for (g, v) in values.iter().enumerate() {
            if let Some((_, lo, hi)) = *v {
                let x = g as f64 + 0.1 + (s as f64 + 0.5) * width;
                whisker(&mut chart, x, scale.axis(lo), scale.axis(hi))?;
            }
        }
    }
    target_lines(&mut chart, panel, groups)?;
    legend(&mut chart)
}

/// A panel's frame: caption, axes and the y grid, with `slots` categories along x.
fn axes<'a, 'b>(
    area: &'a Area<'b>,
    panel: &Panel,
    slots: Slots,
    y: std::ops::Range<f64>,
    x_label: &dyn Fn(&f64) -> String,
) -> Result<Chart<'a, 'b>> {
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, (FONT, 20))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(80)
        .build_cartesian_2d(slots, y)
        .map_err(draw_err)?;
    let (scale, format) = (panel.scale, panel.format);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(x_label)
        .y_label_formatter(&|y| format(scale.value(*y)))
        .y_desc(panel.unit)
        .x_label_style((FONT, 16))
        .y_label_style((FONT, 15))
        .axis_desc_style((FONT, 15))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(draw_err)?;
    Ok(chart)
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Slots, RangedCoordf64>>;

fn whisker(chart: &mut Chart, x: f64, lo: f64, hi: f64) -> Result<()> {
    let cap = 0.04;
    chart
        .draw_series([
            PathElement::new(vec![(x, lo), (x, hi)], BLACK.stroke_width(1)),
            PathElement::new(vec![(x - cap, hi), (x + cap, hi)], BLACK.stroke_width(1)),
            PathElement::new(vec![(x - cap, lo), (x + cap, lo)], BLACK.stroke_width(1)),
        ])
        .map_err(draw_err)?;
    Ok(())
}

/// Target lines, named in the legend (a label on the line would sit on the bars).
fn target_lines(chart: &mut Chart, panel: &Panel, width: f64) -> Result<()> {
    for (value, label) in &panel.targets {
        let y = panel.scale.axis(*value);
        chart
            .draw_series([PathElement::new(
                vec![(0.0, y), (width, y)],
                TARGET.stroke_width(2),
            )])
            .map_err(draw_err)?
            .label(label.as_str())
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], TARGET.stroke_width(2)));
    }
    Ok(())
}

fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, 15))
        .draw()
        .map_err(draw_err)
}

/// An empty panel that says why; long reasons stay in benchmarks.md.
fn not_measured(area: &Area, title: &str, why: &str) -> Result<()> {
    let area = area.titled(title, (FONT, 20)).map_err(draw_err)?;
    let (w, h) = area.dim_in_pixel();
    let text = if why.len() <= 40 {
        why.to_string()
    } else {
        "not measured (see benchmarks.md)".to_string()
    };
    let style = (FONT, 18)
        .into_font()
        .color(&BLACK.mix(0.6))
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(text, (w as i32 / 2, h as i32 / 2), style))
        .map_err(draw_err)?;
    Ok(())
}
