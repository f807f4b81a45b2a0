//! Accounting for every record a load run left in the sink, request by request: each request
//! sends its own `x-request-id`, and every record names the request whose work wrote it, so no
//! record of one request can stand in for a missing record of another.

use std::collections::{HashMap, HashSet};

use anyhow::{ensure, Result};
use neon_ops::load::LoadReport;

use crate::records::Record;
use crate::semantics::{completed, started};

/// What the failed requests of a run left in the sink (their writes that landed before their
/// answer was lost); the answered ones account for exactly two records each.
#[derive(Debug, Default)]
pub struct Accounted {
    pub records: usize,
    pub failed_starts: usize,
    pub failed_completions: usize,
}

/// Checks `window` (the sink's records written during the run, and nothing else) against
/// `report`: every 200 has exactly its start and completion records, in that order; a failed
/// request has at most those; no record names any other request, or none.
pub fn account(window: &[(Record, Option<String>)], report: &LoadReport) -> Result<Accounted> {
    let mut by_request: HashMap<&str, Vec<&Record>> = HashMap::new();
    let mut unnamed = Vec::new();
    for (record, request) in window {
        match request {
            Some(id) => by_request.entry(id.as_str()).or_default().push(record),
            None => unnamed.push(record),
        }
    }
    ensure!(
        unnamed.is_empty(),
        "{} records name no request, first: {:?}",
        unnamed.len(),
        unnamed.first()
    );
    let (start, completion) = (started(), completed());
    let mut lost = Vec::new();
    for id in &report.ok_ids {
        let records = by_request.remove(id.as_str()).unwrap_or_default();
        if records != [&start, &completion] {
            lost.push(format!("{id}: {records:?}"));
        }
    }
    ensure!(
        lost.is_empty(),
        "{} of {} answered (200) requests lack their records or have others, first: {:?}",
        lost.len(),
        report.ok_ids.len(),
        &lost[..lost.len().min(3)]
    );
    let failed: HashSet<&str> = report.failed_ids.iter().map(String::as_str).collect();
    let mut accounted = Accounted {
        records: window.len(),
        ..Accounted::default()
    };
    for (id, records) in by_request {
        ensure!(
            failed.contains(id),
            "records of request {id}, which this run never sent: {records:?}"
        );
        ensure!(
            records == [&start] || records == [&start, &completion],
            "failed request {id} left records a request cannot write: {records:?}"
        );
        accounted.failed_starts += 1;
        accounted.failed_completions += records.len() - 1;
    }
    Ok(accounted)
}
