//! Counters behind the health check, and the drop report for `logging.log`, which has no way to
//! tell its caller that a record was lost: the loss must show up here and in the provider's log.
//! Failed calls and dropped records are counted once, in the Prometheus metrics, and read back
//! from there for the health check.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::warn;

use crate::metrics::Metrics;

/// How often a burst of drops is summarised in the provider's log (first drop: at once).
const DROP_REPORT_EVERY: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct Stats {
    written: AtomicU64,
    /// What a Prometheus scrapes: the per-sink figures the writer records, and these counts.
    pub metrics: Metrics,
    /// Links whose most recent batch failed, with the error: the health check is red while any.
    failing: Mutex<BTreeMap<String, String>>,
    drop_report: Mutex<DropReport>,
}

#[derive(Default)]
struct DropReport {
    last: Option<Instant>,
    unreported: u64,
}

impl Stats {
    pub fn batch_ok(&self, link: &str, records: u64) {
        self.written.fetch_add(records, Ordering::Relaxed);
        if let Ok(mut failing) = self.failing.lock() {
            failing.remove(link);
        }
    }

    pub fn batch_failed(&self, link: &str, calls: u64, error: &str) {
        self.metrics.calls_failed(calls);
        if let Ok(mut failing) = self.failing.lock() {
            failing.insert(link.to_string(), error.to_string());
        }
    }

    /// A link went away: its last failure no longer says anything about health.
    pub fn forget(&self, link: &str) {
        if let Ok(mut failing) = self.failing.lock() {
            failing.remove(link);
        }
    }

    /// Counts a `logging.log` record that could not be kept, and logs it, at most once per
    /// interval so a dead sink does not flood the host log.
    pub fn dropped(&self, source: &str, reason: &str) {
        self.metrics.dropped();
        let total = self.metrics.dropped_total();
        let Ok(mut report) = self.drop_report.lock() else {
            return;
        };
        report.unreported += 1;
        let due = report
            .last
            .is_none_or(|last| last.elapsed() >= DROP_REPORT_EVERY);
        if due {
            warn!(
                source,
                dropped = report.unreported,
                dropped_total = total,
                reason,
                "logging.log record(s) dropped"
            );
            report.last = Some(Instant::now());
            report.unreported = 0;
        }
    }

    pub fn dropped_total(&self) -> u64 {
        self.metrics.dropped_total()
    }

    /// (healthy, one-line summary) for the host's health check.
    pub fn health(&self, links: usize) -> (bool, String) {
        let failing = self.failing.lock().map(|f| f.clone()).unwrap_or_default();
        let mut msg = format!(
            "links={links} records_written={} failed_calls={} dropped_log_records={}",
            self.written.load(Ordering::Relaxed),
            self.metrics.failed_calls_total(),
            self.metrics.dropped_total(),
        );
        for (link, error) in &failing {
            msg.push_str(&format!(" failing[{link}]={error}"));
        }
        (failing.is_empty(), msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_is_red_while_a_link_last_failed() {
        let stats = Stats::default();
        stats.batch_ok("a/default", 3);
        assert_eq!(
            stats.health(1),
            (
                true,
                "links=1 records_written=3 failed_calls=0 dropped_log_records=0".into()
            )
        );
        stats.batch_failed("a/default", 2, "disk full");
        let (healthy, msg) = stats.health(1);
        assert!(!healthy);
        assert!(msg.contains("failed_calls=2"), "{msg}");
        assert!(msg.contains("failing[a/default]=disk full"), "{msg}");
        stats.batch_ok("a/default", 1);
        assert!(stats.health(1).0, "recovers after a good batch");
        stats.batch_failed("b/default", 1, "x");
        stats.forget("b/default");
        assert!(stats.health(0).0, "a removed link no longer counts");
    }

    #[test]
    fn drops_are_counted() {
        let stats = Stats::default();
        stats.dropped("app", "no link");
        stats.dropped("app", "no link");
        assert_eq!(stats.dropped_total(), 2);
        assert!(stats.health(0).1.contains("dropped_log_records=2"));
    }
}
