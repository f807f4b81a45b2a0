//! The provider's Prometheus metrics, per sink kind (`file`, `nats`, `stdout`): records written,
//! batches (group commits), write latency, and failed writes; and per provider, the calls that
//! failed and the `logging.log` records dropped. Served on the provider config's `metrics_addr`
//! (README) for a Prometheus to scrape.

use std::time::Duration;

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
};

pub struct Metrics {
    registry: Registry,
    records: IntCounterVec,
    batches: IntCounterVec,
    write_seconds: HistogramVec,
    write_failures: IntCounterVec,
    failed_calls: IntCounter,
    dropped: IntCounter,
}

/// Write latency buckets: a page-cache append is tens of microseconds, an fsync or a JetStream
/// ack round milliseconds, a struggling disk or server seconds.
const WRITE_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0,
];

impl Metrics {
    pub fn new() -> Self {
        let by_sink = |name: &str, help: &str| {
            IntCounterVec::new(Opts::new(name, help), &["sink"]).expect("valid metric")
        };
        let records = by_sink("neon_logging_records_written_total", "Records a sink kept");
        let batches = by_sink(
            "neon_logging_batches_total",
            "Group commits a sink kept (one write, one fsync or ack round)",
        );
        let write_failures = by_sink(
            "neon_logging_write_failures_total",
            "Batches a sink refused or failed to write",
        );
        let write_seconds = HistogramVec::new(
            HistogramOpts::new(
                "neon_logging_write_seconds",
                "Time a sink took to write one batch",
            )
            .buckets(WRITE_BUCKETS.to_vec()),
            &["sink"],
        )
        .expect("valid metric");
        let failed_calls = IntCounter::new(
            "neon_logging_failed_calls_total",
            "Calls answered with an error: their records were not written",
        )
        .expect("valid metric");
        let dropped = IntCounter::new(
            "neon_logging_dropped_log_records_total",
            "logging.log records that could not be written",
        )
        .expect("valid metric");
        let registry = Registry::new();
        for metric in [
            Box::new(records.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(batches.clone()),
            Box::new(write_failures.clone()),
            Box::new(write_seconds.clone()),
            Box::new(failed_calls.clone()),
            Box::new(dropped.clone()),
        ] {
            // Distinct names in a fresh registry: registering cannot collide.
            let _ = registry.register(metric);
        }
        Self {
            registry,
            records,
            batches,
            write_seconds,
            write_failures,
            failed_calls,
            dropped,
        }
    }

    pub fn registry(&self) -> Registry {
        self.registry.clone()
    }

    pub fn sink_wrote(&self, sink: &str, records: usize, took: Duration) {
        self.records
            .with_label_values(&[sink])
            .inc_by(records as u64);
        self.batches.with_label_values(&[sink]).inc();
        self.latency(sink).observe(took.as_secs_f64());
    }

    pub fn sink_failed(&self, sink: &str, took: Duration) {
        self.write_failures.with_label_values(&[sink]).inc();
        self.latency(sink).observe(took.as_secs_f64());
    }

    pub fn calls_failed(&self, calls: u64) {
        self.failed_calls.inc_by(calls);
    }

    pub fn dropped(&self) {
        self.dropped.inc();
    }

    pub fn failed_calls_total(&self) -> u64 {
        self.failed_calls.get()
    }

    pub fn dropped_total(&self) -> u64 {
        self.dropped.get()
    }

    fn latency(&self, sink: &str) -> Histogram {
        self.write_seconds.with_label_values(&[sink])
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use prometheus::{Encoder as _, TextEncoder};

    use super::*;

    #[test]
    fn counts_by_sink_in_the_text_format() {
        let metrics = Metrics::new();
        metrics.sink_wrote("file", 3, Duration::from_millis(2));
        metrics.sink_wrote("file", 2, Duration::from_millis(1));
        metrics.sink_failed("nats", Duration::from_millis(5));
        metrics.calls_failed(4);
        metrics.dropped();
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&metrics.registry().gather(), &mut text)
            .unwrap();
        let text = String::from_utf8(text).unwrap();
        for line in [
            "neon_logging_records_written_total{sink=\"file\"} 5",
            "neon_logging_batches_total{sink=\"file\"} 2",
            "neon_logging_write_failures_total{sink=\"nats\"} 1",
            "neon_logging_write_seconds_count{sink=\"file\"} 2",
            "neon_logging_failed_calls_total 4",
            "neon_logging_dropped_log_records_total 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
        }
    }
}
