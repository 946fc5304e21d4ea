//! Counters for `/metrics`, in the Prometheus text format (version 0.0.4).
//!
//! A handful of series, so they are kept by hand rather than through a metrics framework:
//! requests by route and status, request latency as a histogram by route, commands by outcome,
//! events appended, batches committed, the tenant folds built and the events folded into them,
//! and the engine's queue depth read at scrape time.
//! No series carries a tenant label: one tenant's activity is not another's business.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS_SECONDS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or below each bound (not cumulative; summed when rendered).
    counts: [u64; BUCKETS_SECONDS.len()],
    count: u64,
    sum_seconds: f64,
}

/// What a command came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandResult {
    /// Applied: events recorded.
    Applied,
    /// Rejected by the domain: nothing recorded.
    Rejected,
    /// A retry answered from its idempotency key.
    Replayed,
}

/// One of the folds the server keeps per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldKind {
    /// The scorecard's fold ([`crate::scorecard_routes`]), which the dashboard reads too.
    Scorecard,
}

impl FoldKind {
    const ALL: [FoldKind; 1] = [FoldKind::Scorecard];

    fn index(self) -> usize {
        match self {
            FoldKind::Scorecard => 0,
        }
    }

    fn label(self) -> &'static str {
        match self {
            FoldKind::Scorecard => "scorecard",
        }
    }
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    commands: [AtomicU64; 3],
    events_appended: AtomicU64,
    batches_committed: AtomicU64,
    folds_built: [AtomicU64; FoldKind::ALL.len()],
    events_folded: [AtomicU64; FoldKind::ALL.len()],
    events_fed: [AtomicU64; FoldKind::ALL.len()],
    reports: [AtomicU64; 2],
}

impl Metrics {
    /// Counts a finished request.
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((method.to_string(), route.to_string(), status))
                .or_insert(0) += 1;
        }
        let seconds = elapsed.as_secs_f64();
        if let Ok(mut latency) = self.latency.lock() {
            let histogram = latency.entry(route.to_string()).or_default();
            if let Some(bucket) = BUCKETS_SECONDS.iter().position(|bound| seconds <= *bound) {
                histogram.counts[bucket] += 1;
            }
            histogram.count += 1;
            histogram.sum_seconds += seconds;
        }
    }

    /// Counts a command's result.
    pub fn command(&self, result: CommandResult) {
        let index = match result {
            CommandResult::Applied => 0,
            CommandResult::Rejected => 1,
            CommandResult::Replayed => 2,
        };
        self.commands[index].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a committed batch and its events.
    pub fn committed(&self, events: usize) {
        self.batches_committed.fetch_add(1, Ordering::Relaxed);
        self.events_appended
            .fetch_add(u64::try_from(events).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Counts a tenant fold started from nothing (the first of a cold fold of its log).
    pub fn fold_built(&self, kind: FoldKind) {
        self.folds_built[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts events folded into a tenant fold.
    pub fn folded(&self, kind: FoldKind, events: u64) {
        self.events_folded[kind.index()].fetch_add(events, Ordering::Relaxed);
    }

    /// Counts events folded as the engine handed them over after their batch was durable,
    /// without reading the log (also counted by [`Metrics::folded`]).
    pub fn fed(&self, kind: FoldKind, events: u64) {
        self.events_fed[kind.index()].fetch_add(events, Ordering::Relaxed);
    }

    /// Counts a report computed (`shared` false) or answered from an identical one (`true`).
    pub fn report(&self, shared: bool) {
        self.reports[usize::from(shared)].fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition, with the queue depth read now (left out when it could not be).
    pub fn render(&self, queue_depth: Option<usize>) -> String {
        let mut text = String::new();
        text.push_str("# HELP flowline_http_requests_total HTTP requests answered.\n");
        text.push_str("# TYPE flowline_http_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            for ((method, route, status), count) in requests.iter() {
                let _ = writeln!(
                    text,
                    "flowline_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }
        text.push_str("# HELP flowline_http_request_duration_seconds Time to answer a request.\n");
        text.push_str("# TYPE flowline_http_request_duration_seconds histogram\n");
        if let Ok(latency) = self.latency.lock() {
            for (route, histogram) in latency.iter() {
                let route = escape(route);
                let mut cumulative = 0;
                for (bound, count) in BUCKETS_SECONDS.iter().zip(histogram.counts) {
                    cumulative += count;
                    let _ = writeln!(
                        text,
                        "flowline_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    text,
                    "flowline_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                     flowline_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                     flowline_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    histogram.count, histogram.sum_seconds, histogram.count
                );
            }
        }
        text.push_str("# HELP flowline_commands_total Commands answered, by outcome.\n");
        text.push_str("# TYPE flowline_commands_total counter\n");
        for (outcome, counter) in ["applied", "rejected", "replayed"]
            .iter()
            .zip(&self.commands)
        {
            let _ = writeln!(
                text,
                "flowline_commands_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        let per_fold: [(&str, &str, &[AtomicU64; FoldKind::ALL.len()]); 3] = [
            (
                "flowline_folds_built_total",
                "Tenant folds built from an empty state, by fold.",
                &self.folds_built,
            ),
            (
                "flowline_events_folded_total",
                "Events folded into tenant folds, by fold.",
                &self.events_folded,
            ),
            (
                "flowline_events_fed_total",
                "Events folded into tenant folds as the engine handed them over once durable, without reading the log (included in flowline_events_folded_total), by fold.",
                &self.events_fed,
            ),
        ];
        for (name, help, counters) in per_fold {
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} counter");
            for kind in FoldKind::ALL {
                let _ = writeln!(
                    text,
                    "{name}{{fold=\"{}\"}} {}",
                    kind.label(),
                    counters[kind.index()].load(Ordering::Relaxed)
                );
            }
        }
        text.push_str(
            "# HELP flowline_reports_total Scorecard reports answered, computed or shared with an identical request.\n\
             # TYPE flowline_reports_total counter\n",
        );
        for (index, how) in ["computed", "shared"].iter().enumerate() {
            let _ = writeln!(
                text,
                "flowline_reports_total{{how=\"{how}\"}} {}",
                self.reports[index].load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            text,
            "# HELP flowline_events_appended_total Events made durable in the log.\n\
             # TYPE flowline_events_appended_total counter\n\
             flowline_events_appended_total {}\n\
             # HELP flowline_batches_committed_total Group commits.\n\
             # TYPE flowline_batches_committed_total counter\n\
             flowline_batches_committed_total {}",
            self.events_appended.load(Ordering::Relaxed),
            self.batches_committed.load(Ordering::Relaxed),
        );
        if let Some(queue_depth) = queue_depth {
            let _ = writeln!(
                text,
                "# HELP flowline_engine_queue_depth Commands and reads waiting for a tenant writer.\n\
                 # TYPE flowline_engine_queue_depth gauge\n\
                 flowline_engine_queue_depth {queue_depth}"
            );
        }
        text
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_add_up() {
        let metrics = Metrics::default();
        // 0.3 ms falls in the first bucket (≤ 0.5 ms), 3 ms in the fourth (≤ 5 ms), 3 s in
        // none but +Inf.
        for millis in [0.3, 3.0, 3000.0] {
            metrics.request(
                "GET",
                "/v1/items",
                200,
                Duration::from_secs_f64(millis / 1000.0),
            );
        }
        let text = metrics.render(Some(7));
        assert!(text.contains(
            "flowline_http_requests_total{method=\"GET\",route=\"/v1/items\",status=\"200\"} 3"
        ));
        assert!(text.contains("route=\"/v1/items\",le=\"0.0005\"} 1\n"));
        assert!(text.contains("route=\"/v1/items\",le=\"0.001\"} 1\n"));
        assert!(text.contains("route=\"/v1/items\",le=\"0.005\"} 2\n"));
        assert!(text.contains("route=\"/v1/items\",le=\"2.5\"} 2\n"));
        assert!(text.contains("route=\"/v1/items\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("flowline_engine_queue_depth 7"));
    }
}
