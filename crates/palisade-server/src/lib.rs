//! `palisade serve`: the HTTP API over the event store and the state database.
//!
//! ```text
//!  POST /api/v1/ingest ──auth(ingest)──> lines -> events ──> Store::append (durable) ──> 200
//!  GET|POST /api/v1/query ──auth(read)──> SQL ──> Store::query_stream ──> rows, streamed
//!  GET /health (no auth)
//! ```
//! Every endpoint but `/health` needs a token (`Authorization: Bearer ...`); the role decides
//! what it may do, and queries land in the audit log. Ingest is acknowledged only once its
//! events are durable under the store's fsync policy; when the store lags, ingest answers 503
//! with `Retry-After` instead of queueing without bound.
#![warn(missing_docs)]

mod alerts;
pub use alerts::parse_since;
mod auth;
mod compat;
pub mod detect;
mod error;
mod ingest;
pub mod metrics;
pub mod pipeline;
mod query;
pub mod replay;
pub mod syslog;
pub mod tail;
pub mod tls;
pub mod turnstile;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use palisade_state::StateDb;
use palisade_store::{QueryLimits, RetentionPolicy, Store};

pub use error::ApiError;
pub use metrics::Metrics;
pub use syslog::SyslogOptions;

/// Settings of the HTTP API.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Largest request body accepted (HTTP 413 beyond).
    pub max_body_bytes: usize,
    /// Most ingest requests being stored at once (HTTP 429 beyond).
    pub max_inflight_ingests: usize,
    /// The most a query may ask for; requests may ask for less.
    pub query_limits: QueryLimits,
    /// Applied every `retention_interval`.
    pub retention: RetentionPolicy,
    /// How often retention runs.
    pub retention_interval: Duration,
    /// Syslog inputs.
    pub syslog: SyslogOptions,
    /// Files to follow.
    pub tail: tail::TailOptions,
    /// GeoIP/ASN enrichment of every event.
    pub enricher: Arc<palisade_enrich::Enricher>,
    /// Live detection; none means events are stored without detection.
    pub detection: Option<Arc<detect::Detection>>,
    /// The suppression window of live detection, also used by replays.
    pub detect_suppress: jiff::SignedDuration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_body_bytes: 32 << 20,
            max_inflight_ingests: 64,
            query_limits: QueryLimits::default(),
            retention: RetentionPolicy::default(),
            retention_interval: Duration::from_secs(60),
            syslog: SyslogOptions::default(),
            tail: tail::TailOptions::default(),
            enricher: Arc::new(palisade_enrich::Enricher::without_databases()),
            detection: None,
            detect_suppress: jiff::SignedDuration::from_secs(3600),
        }
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    pub(crate) store: Arc<Store>,
    pub(crate) pipeline: pipeline::Pipeline,
    pub(crate) db: StateDb,
    pub(crate) options: ServerOptions,
    pub(crate) ingest_slots: tokio::sync::Semaphore,
    pub(crate) metrics: Arc<Metrics>,
}

/// Builds the API router.
pub fn router(
    store: Arc<Store>,
    db: StateDb,
    options: ServerOptions,
    metrics: Arc<Metrics>,
) -> Router {
    let body_limit = options.max_body_bytes;
    let state = Arc::new(AppState {
        pipeline: pipeline::Pipeline::new(
            Arc::clone(&store),
            Arc::clone(&options.enricher),
            options.detection.clone(),
        ),
        store,
        db,
        ingest_slots: tokio::sync::Semaphore::new(options.max_inflight_ingests),
        options,
        metrics,
    });
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/ingest", post(ingest::ingest))
        .route("/api/v1/query", get(query::query_get).post(query::query_post))
        .route("/api/v1/stats", get(query::stats))
        .route("/metrics", get(query::metrics))
        .route("/api/v1/alerts", get(alerts::list))
        .route("/api/v1/alerts/{id}", get(alerts::get_one))
        .route("/api/v1/exceptions", get(alerts::exceptions).post(alerts::add_exception))
        .route("/api/v1/exceptions/{id}", axum::routing::delete(alerts::revoke_exception))
        .route("/api/v1/rules", get(alerts::rules))
        .route("/api/v1/rules/reload", post(alerts::reload))
        .route("/api/v1/rules/replay", post(alerts::replay))
        .route("/api/v1/rules/{id}/enable", post(alerts::enable))
        .route("/api/v1/rules/{id}/disable", post(alerts::disable))
        .route("/", get(compat::elastic_root))
        .route("/_bulk", post(compat::bulk).put(compat::bulk))
        .route("/{index}/_bulk", post(compat::bulk_index).put(compat::bulk_index))
        .route("/services/collector", post(compat::hec_event))
        .route("/services/collector/event", post(compat::hec_event))
        .route("/services/collector/event/1.0", post(compat::hec_event))
        .route("/services/collector/raw", post(compat::hec_raw))
        .route("/services/collector/raw/1.0", post(compat::hec_raw))
        .route("/services/collector/health", get(compat::hec_health))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// The sockets `serve` listens on, bound by the caller (so it can report the addresses).
#[derive(Debug)]
pub struct Listeners {
    /// The HTTP API.
    pub http: tokio::net::TcpListener,
    /// Syslog over UDP.
    pub syslog_udp: Option<tokio::net::UdpSocket>,
    /// Syslog over TCP.
    pub syslog_tcp: Option<tokio::net::TcpListener>,
    /// Syslog over TLS, with its rustls configuration (see [`tls::server_config`]).
    pub syslog_tls: Option<(tokio::net::TcpListener, Arc<rustls::ServerConfig>)>,
}

/// Serves the API and the syslog inputs until `shutdown` completes, applying retention
/// meanwhile.
///
/// # Errors
/// Returns IO errors of the HTTP listener.
pub async fn serve(
    listeners: Listeners,
    store: Arc<Store>,
    db: StateDb,
    options: ServerOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut metrics = Metrics::default();
    if let Some(detection) = &options.detection {
        metrics.register_detection(detection.metrics());
    }
    let metrics = Arc::new(metrics);
    let mut tasks = vec![tokio::spawn(retention_loop(
        Arc::clone(&store),
        options.retention.clone(),
        options.retention_interval,
    ))];
    let pipeline = pipeline::Pipeline::new(
        Arc::clone(&store),
        Arc::clone(&options.enricher),
        options.detection.clone(),
    );
    let sink = syslog::SyslogSink::start(pipeline.clone(), Arc::clone(&metrics));
    if let Some(socket) = listeners.syslog_udp {
        tasks.push(tokio::spawn(syslog::run_udp(
            socket,
            sink.clone(),
            options.syslog.clone(),
            Arc::clone(&metrics.syslog_udp),
        )));
    }
    if let Some(listener) = listeners.syslog_tcp {
        tasks.push(tokio::spawn(syslog::run_tcp(
            listener,
            sink.clone(),
            options.syslog.clone(),
            Arc::clone(&metrics.syslog_tcp),
        )));
    }
    if let Some((listener, config)) = listeners.syslog_tls {
        tasks.push(tokio::spawn(syslog::run_tls(
            listener,
            config,
            sink.clone(),
            options.syslog.clone(),
            Arc::clone(&metrics.syslog_tls),
        )));
    }
    drop(sink);
    let stop_tail = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tailer = (!options.tail.patterns.is_empty()).then(|| {
        tail::spawn(
            pipeline.clone(),
            options.tail.clone(),
            Arc::clone(&metrics.file),
            Arc::clone(&stop_tail),
        )
    });
    let detection = options.detection.clone();
    let app = router(store, db, options, metrics);
    let served = axum::serve(listeners.http, app).with_graceful_shutdown(shutdown).await;
    for task in tasks {
        task.abort();
    }
    if let Some(tailer) = tailer {
        stop_tail.store(true, std::sync::atomic::Ordering::Relaxed);
        // The tailer finishes its batch and saves its checkpoints.
        let _ = tokio::task::spawn_blocking(move || tailer.join()).await;
    }
    if let Some(detection) = detection {
        // Open correlation windows and baselines outlive the restart.
        match tokio::task::spawn_blocking(move || detection.checkpoint()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "saving the detection state failed"),
            Err(error) => tracing::error!(%error, "saving the detection state failed"),
        }
    }
    served
}

async fn retention_loop(store: Arc<Store>, policy: RetentionPolicy, every: Duration) {
    if policy == RetentionPolicy::default() {
        return;
    }
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        let store = Arc::clone(&store);
        let policy = policy.clone();
        match tokio::task::spawn_blocking(move || store.apply_retention(&policy)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(removed)) => tracing::info!(removed, "retention removed segments"),
            Ok(Err(error)) => tracing::error!(%error, "retention failed"),
            Err(error) => tracing::error!(%error, "retention task failed"),
        }
    }
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}
