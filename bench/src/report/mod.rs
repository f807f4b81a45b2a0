//! `neon-bench report`: the JSON figures in the output dir -> docs/benchmarks.md and the chart.

mod chart;
mod format;
mod inputs;
mod markdown;
mod targets;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::machine::utc_now;

pub const MARKDOWN: &str = "benchmarks.md";
pub const CHART: &str = "benchmarks.svg";

/// Writes the report and the chart into `docs_dir`; returns their paths.
pub fn run(out_dir: &Path, docs_dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let inputs = inputs::Inputs::load(out_dir);
    std::fs::create_dir_all(docs_dir)
        .with_context(|| format!("creating {}", docs_dir.display()))?;
    let chart_path = docs_dir.join(CHART);
    chart::render(&inputs, &chart_path)
        .with_context(|| format!("writing {}", chart_path.display()))?;
    let rows = targets::evaluate(&inputs);
    let text = markdown::render(&inputs, &rows, CHART, &utc_now());
    let md_path = docs_dir.join(MARKDOWN);
    std::fs::write(&md_path, text).with_context(|| format!("writing {}", md_path.display()))?;
    Ok((md_path, chart_path))
}
