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
    /// Parsed and waiting to be stored.
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

impl Metrics {
    /// The OpenMetrics text exposition.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
