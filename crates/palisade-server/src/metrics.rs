//! Prometheus metrics (`GET /metrics`, token with read permission): per input, messages
//! received, parsed, failed (kept raw) and queued; events stored from syslog.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Counters of one input.
#[derive(Debug, Default)]
pub struct InputMetrics {
    /// Messages or lines received.
    pub received: Counter,
    /// Understood by a parser.
    pub parsed: Counter,
    /// Understood by none, stored raw and tagged.
    pub failed: Counter,
    /// Received and waiting to be stored.
    pub queued: Gauge,
    /// TLS handshakes that failed or timed out (TLS inputs only).
    pub tls_failures: Counter,
}

/// Every metric of the server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// `palisade_input_*{input="syslog_udp"}`.
    pub syslog_udp: Arc<InputMetrics>,
    /// `palisade_input_*{input="syslog_tcp"}`.
    pub syslog_tcp: Arc<InputMetrics>,
    /// `palisade_input_*{input="syslog_tls"}`.
    pub syslog_tls: Arc<InputMetrics>,
    /// `palisade_input_*{input="file"}`: tailed files.
    pub file: Arc<InputMetrics>,
    /// `palisade_input_*{input="http"}`.
    pub http: Arc<InputMetrics>,
    /// Syslog events appended to the store.
    pub syslog_stored: Counter,
    /// Syslog events the store refused (IO errors).
    pub syslog_store_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("palisade");
        let mut input = |name: &str| {
            let metrics = Arc::new(InputMetrics::default());
            let sub = registry.sub_registry_with_label(("input".into(), name.to_owned().into()));
            sub.register("input_received", "Messages received", metrics.received.clone());
            sub.register("input_parsed", "Messages a parser understood", metrics.parsed.clone());
            sub.register(
                "input_failed",
                "Messages no parser understood, stored raw and tagged",
                metrics.failed.clone(),
            );
            sub.register("input_queued", "Messages waiting to be stored", metrics.queued.clone());
            if name.ends_with("_tls") {
                sub.register(
                    "input_tls_failures",
                    "TLS handshakes that failed or timed out",
                    metrics.tls_failures.clone(),
                );
            }
            metrics
        };
        let syslog_udp = input("syslog_udp");
        let syslog_tcp = input("syslog_tcp");
        let syslog_tls = input("syslog_tls");
        let file = input("file");
        let http = input("http");
        let syslog_stored = Counter::default();
        let syslog_store_errors = Counter::default();
        registry.register("syslog_stored", "Syslog events stored", syslog_stored.clone());
        registry.register(
            "syslog_store_errors",
            "Syslog events the store failed to write",
            syslog_store_errors.clone(),
        );
        Self {
            registry,
            syslog_udp,
            syslog_tcp,
            syslog_tls,
            file,
            http,
            syslog_stored,
            syslog_store_errors,
        }
    }
}

/// Metrics of live detection.
#[derive(Debug, Clone)]
pub struct DetectMetrics {
    /// Events that reached the stateful step (a rule matched, or a detector wanted them).
    pub examined: Counter,
    /// Alerts raised by detection, before folding.
    pub raised: Counter,
    /// Alerts written to the state database (new or folded).
    pub recorded: Counter,
    /// Seconds from an event batch entering the pipeline to its alerts being committed in
    /// the state database.
    pub latency: prometheus_client::metrics::histogram::Histogram,
    /// Correlation matches too late to count.
    pub late: Gauge,
    /// Open correlation groups.
    pub open_groups: Gauge,
}

impl Default for DetectMetrics {
    fn default() -> Self {
        Self {
            examined: Counter::default(),
            raised: Counter::default(),
            recorded: Counter::default(),
            // 0.5 ms to about 33 s in steps of 25 %.
            latency: prometheus_client::metrics::histogram::Histogram::new(
                prometheus_client::metrics::histogram::exponential_buckets(0.0005, 1.25, 50),
            ),
            late: Gauge::default(),
            open_groups: Gauge::default(),
        }
    }
}

impl Metrics {
    /// Adds live detection's metrics to the exposition.
    pub fn register_detection(&mut self, detect: &DetectMetrics) {
        let registry = &mut self.registry;
        registry.register(
            "detect_examined",
            "Events that reached the stateful detection step",
            detect.examined.clone(),
        );
        registry.register(
            "detect_alerts_raised",
            "Alerts raised, before folding",
            detect.raised.clone(),
        );
        registry.register(
            "detect_alerts_recorded",
            "Alerts written to the state database",
            detect.recorded.clone(),
        );
        registry.register(
            "detect_alert_latency_seconds",
            "From an event batch entering the pipeline to its alerts being committed",
            detect.latency.clone(),
        );
        registry.register(
            "detect_correlation_late",
            "Correlation matches too late to count",
            detect.late.clone(),
        );
        registry.register(
            "detect_correlation_groups",
            "Open correlation groups",
            detect.open_groups.clone(),
        );
    }

    /// The OpenMetrics text exposition.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
