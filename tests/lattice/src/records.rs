//! The logging provider's file sink: one JSON object per line (see providers/logging/README.md).

use std::path::Path;

use anyhow::{Context, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub level: String,
    pub source: String,
    pub message: String,
}

/// Every record the sink wrote to `path`, oldest first: the files it rotated out
/// (`path.<n>` ... `path.1`, see providers/logging/README.md) and then `path` itself.
pub fn read(path: &Path) -> Result<Vec<Record>> {
    Ok(read_with_requests(path)?
        .into_iter()
        .map(|(record, _)| record)
        .collect())
}

/// As [`read`], each record with the request it names (its `request` field), if any.
pub fn read_with_requests(path: &Path) -> Result<Vec<(Record, Option<String>)>> {
    let rotated = |n: u32| {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        std::path::PathBuf::from(name)
    };
    let kept = (1..).take_while(|&n| rotated(n).exists()).count() as u32;
    let mut records = Vec::new();
    for n in (1..=kept).rev() {
        records.extend(read_file(&rotated(n))?);
    }
    records.extend(read_file(path)?);
    Ok(records)
}

/// Every record in one file, in order; an absent file has none.
fn read_file(path: &Path) -> Result<Vec<(Record, Option<String>)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            let value: serde_json::Value = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not JSON: {line}", path.display(), n + 1))?;
            let text = |key: &str| {
                value[key]
                    .as_str()
                    .map(str::to_string)
                    .with_context(|| format!("{}:{}: no {key}", path.display(), n + 1))
            };
            let record = Record {
                level: text("level")?,
                source: text("source")?,
                message: text("message")?,
            };
            Ok((record, value["request"].as_str().map(str::to_string)))
        })
        .collect()
}

/// Waits (bounded) until the file holds at least `count` records, and returns them all.
pub async fn wait_for(
    path: &Path,
    count: usize,
    limit: std::time::Duration,
) -> Result<Vec<Record>> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let records = read(path)?;
        if records.len() >= count || tokio::time::Instant::now() >= deadline {
            return Ok(records);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
