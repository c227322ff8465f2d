//! Prometheus metrics: requests and latencies by route, the database pool,
//! claim batches committed again (and why), and build information. Each server has its own recorder (not the
//! process-global one), so several servers in one test process do not mix.

use std::time::Duration;

use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use quan_store::{CommitRetries, PoolStats};

const LATENCY_BUCKETS_S: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The methods counted by name; any other is counted as `other`.
const KNOWN_METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];

/// Every metric's `# HELP` text (`promtool check metrics` wants one each).
const HELP: [(&str, &str); 9] = [
    ("quan_build_info", "The running version and database backend (always 1)."),
    ("quan_http_requests_total", "HTTP requests answered, by method, route and status."),
    ("quan_http_request_duration_seconds", "Time to answer an HTTP request, by method and route."),
    ("quan_db_pool_connections", "Database connections open in the pool."),
    ("quan_db_pool_idle", "Database connections open and idle."),
    ("quan_db_pool_max", "The most database connections the pool opens."),
    ("quan_claim_commit_retries_total", "Claim commits retried, by cause."),
    ("quan_redemption_commit_retries_total", "Redemption commits retried, by cause."),
    ("quan_sessions_remembered", "Residents' and cashiers' tokens this node answers from memory."),
];

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// The request counter and latency histogram of each method, route and
    /// status seen, by `"METHOD route status"`: registering them anew on
    /// every request built two label sets and looked both up in the
    /// registry (≈ 2.6 % of a sold-out answer's CPU in a grab).
    per_route: std::sync::Mutex<std::collections::HashMap<String, (metrics::Counter, metrics::Histogram)>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

static META: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

impl Metrics {
    pub fn new(backend: &'static str) -> Metrics {
        let builder = PrometheusBuilder::new();
        // Setting buckets makes latencies real Prometheus histograms
        // (aggregatable across nodes) instead of per-node summaries.
        let builder = match builder.set_buckets(&LATENCY_BUCKETS_S) {
            Ok(b) => b,
            Err(e) => panic!("fixed latency buckets are valid: {e}"),
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        for (name, help) in HELP {
            recorder.describe_gauge(name.into(), None, help.into());
        }
        let m = Metrics { recorder, handle, per_route: std::sync::Mutex::default() };
        let info = Key::from_parts(
            "quan_build_info",
            vec![Label::new("version", env!("CARGO_PKG_VERSION")), Label::new("backend", backend)],
        );
        m.recorder.register_gauge(&info, &META).set(1.0);
        m
    }

    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        // A client's own verb would be a label value of its choosing: the
        // page would grow with every new one.
        let method = if KNOWN_METHODS.contains(&method) { method } else { "other" };
        let key = format!("{method} {route} {status}");
        let mut per_route = self.per_route.lock().unwrap_or_else(|p| p.into_inner());
        let (count, latency) = per_route.entry(key).or_insert_with(|| {
            let labels = vec![
                Label::new("method", method.to_owned()),
                Label::new("route", route.to_owned()),
                Label::new("status", status.to_string()),
            ];
            let count = Key::from_parts("quan_http_requests_total", labels);
            let lat_labels = vec![Label::new("method", method.to_owned()), Label::new("route", route.to_owned())];
            let lat = Key::from_parts("quan_http_request_duration_seconds", lat_labels);
            (self.recorder.register_counter(&count, &META), self.recorder.register_histogram(&lat, &META))
        });
        count.increment(1);
        latency.record(elapsed.as_secs_f64());
    }

    /// `sessions_remembered`: the tokens the node answers from memory.
    pub fn render(&self, pool: PoolStats, retries: CommitRetries, sessions_remembered: usize) -> String {
        for (name, v) in
            [("quan_db_pool_connections", pool.size), ("quan_db_pool_idle", pool.idle), ("quan_db_pool_max", pool.max)]
        {
            self.recorder.register_gauge(&Key::from_name(name), &META).set(f64::from(v));
        }
        for (cause, n) in [("deadlock", retries.deadlocks), ("stock_held", retries.stock_held)] {
            let key = Key::from_parts("quan_claim_commit_retries_total", vec![Label::new("cause", cause)]);
            self.recorder.register_counter(&key, &META).absolute(n);
        }
        let key = Key::from_parts("quan_redemption_commit_retries_total", vec![Label::new("cause", "deadlock")]);
        self.recorder.register_counter(&key, &META).absolute(retries.redemption_deadlocks);
        #[allow(clippy::cast_precision_loss)] // a count far below 2^52
        self.recorder
            .register_gauge(&Key::from_name("quan_sessions_remembered"), &META)
            .set(sessions_remembered as f64);
        self.handle.render()
    }
}
