//! `neon-bench report`: the JSON figures in the output dir -> docs/benchmarks.md (the template
//! bench/report-template.md with the figures filled in) and the chart.

mod chart;
mod fill;
mod format;
mod inputs;
mod targets;
mod template;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::machine::utc_now;

pub const MARKDOWN: &str = "benchmarks.md";
pub const CHART: &str = "benchmarks.svg";
/// The report's words; the figures are filled in.
const TEMPLATE: &str = include_str!("../../report-template.md");

/// Writes the report and the chart into `docs_dir`; returns their paths.
pub fn run(out_dir: &Path, docs_dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let inputs = inputs::Inputs::load(out_dir);
    std::fs::create_dir_all(docs_dir)
        .with_context(|| format!("creating {}", docs_dir.display()))?;
    let chart_path = docs_dir.join(CHART);
    chart::render(&inputs, &chart_path)
        .with_context(|| format!("writing {}", chart_path.display()))?;
    let rows = targets::evaluate(&inputs);
    let values = fill::values(&inputs, &rows, CHART, &utc_now());
    let text = template::render(TEMPLATE, &values)?;
    let md_path = docs_dir.join(MARKDOWN);
    std::fs::write(&md_path, text).with_context(|| format!("writing {}", md_path.display()))?;
    Ok((md_path, chart_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With nothing measured every section says so, and every name the template uses has a value.
    #[test]
    fn the_template_fills_in_with_nothing_measured() -> Result<()> {
        let empty = std::env::temp_dir().join(format!("neon-report-test-{}", std::process::id()));
        let inputs = inputs::Inputs::load(&empty);
        let rows = targets::evaluate(&inputs);
        let text = template::render(TEMPLATE, &fill::values(&inputs, &rows, CHART, "now"))?;
        assert!(!text.contains("{{"), "{text}");
        assert!(
            text.contains("0 of 11 met, 0 missed, 11 not measured"),
            "{text}"
        );
        assert!(text.contains("No measured target was missed."), "{text}");
        Ok(())
    }
}
