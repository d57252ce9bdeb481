//! The HTTP API in process: a real store and a real SQLite state database behind the router,
//! requests through tower's `oneshot` (the real-socket path is covered by the CLI's crash
//! test).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use palisade_state::{Role, StateDb};
use palisade_store::{QueryLimits, Store, StoreConfig};
use tower::ServiceExt as _;

struct Api {
    router: axum::Router,
    admin: String,
    analyst: String,
    shipper: String,
    db: StateDb,
    _dir: tempfile::TempDir,
}

async fn api() -> Api {
    api_with_timeout(Duration::from_secs(2)).await
}

async fn api_with_timeout(timeout: Duration) -> Api {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(Store::open(dir.path(), StoreConfig::default()).expect("store"));
    let db = StateDb::open(dir.path()).await.expect("db");
    let (_, admin) = db.create_token("root", Role::Admin).await.expect("token");
    let (_, analyst) = db.create_token("alice", Role::Analyst).await.expect("token");
    let (_, shipper) = db.create_token("rsyslog", Role::Ingest).await.expect("token");
    let options = palisade_server::ServerOptions {
        max_body_bytes: 1 << 20,
        query_limits: QueryLimits { max_rows: 100, timeout, memory_bytes: 64 << 20 },
        ..palisade_server::ServerOptions::default()
    };
    let router = palisade_server::router(
        store,
        db.clone(),
        options,
        Arc::new(palisade_server::Metrics::default()),
    );
    Api { router, admin, analyst, shipper, db, _dir: dir }
}

async fn call(
    api: &Api,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, String) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if method == "POST" && uri.starts_with("/api/v1/query") {
        request = request.header("content-type", "application/json");
    }
    let response =
        api.router.clone().oneshot(request.body(body.into()).expect("request")).await.expect("io");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn query(api: &Api, token: &str, body: serde_json::Value) -> (StatusCode, String) {
    call(api, "POST", "/api/v1/query", Some(token), body.to_string()).await
}

fn lines(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"@timestamp\":\"2026-10-01T00:00:{:02}Z\",\"user\":{{\"name\":\"u{}\"}},\"source\":{{\"ip\":\"10.0.{}.{}\"}}}}\n",
                i % 60,
                i % 7,
                i / 250,
                i % 250
            )
        })
        .collect()
}

#[tokio::test]
async fn health_is_open_and_everything_else_needs_a_valid_token() {
    let api = api().await;
    assert_eq!(call(&api, "GET", "/health", None, Body::empty()).await.0, StatusCode::OK);
    for (method, uri) in [
        ("POST", "/api/v1/ingest"),
        ("GET", "/api/v1/query?q=SELECT%201"),
        ("GET", "/api/v1/stats"),
    ] {
        let (status, body) = call(&api, method, uri, None, Body::empty()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}: {body}");
        let (status, _) = call(&api, method, uri, Some("pal_not-a-token"), Body::empty()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    // Roles: a shipper may not query, an analyst may not ingest.
    let (status, body) =
        call(&api, "GET", "/api/v1/query?q=SELECT%201", Some(&api.shipper), Body::empty()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = call(&api, "POST", "/api/v1/ingest", Some(&api.analyst), lines(1)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A revoked token stops working at once.
    assert!(api.db.revoke_token("rsyslog").await.expect("revoke"));
    let (status, _) = call(&api, "POST", "/api/v1/ingest", Some(&api.shipper), lines(1)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn ingested_events_are_queryable_and_queries_are_audited() {
    let api = api().await;
    let (status, body) = call(&api, "POST", "/api/v1/ingest", Some(&api.shipper), lines(300)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!((reply["accepted"].as_u64(), reply["unparsed"].as_u64()), (Some(300), Some(0)));
    let (status, body) = query(
        &api,
        &api.analyst,
        serde_json::json!({"query": r#"SELECT "user.name", count(*) AS n FROM events GROUP BY 1 ORDER BY 1"#}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let document: serde_json::Value = serde_json::from_str(&body).expect("one JSON document");
    assert_eq!(document["rows"].as_array().expect("rows").len(), 7);
    assert_eq!(document["rows"][0], serde_json::json!({"user.name": "u0", "n": 43}));
    assert_eq!(document["truncated"], false);
    assert_eq!(document["error"], serde_json::Value::Null);
    let audit = api.db.audit_log(10).await.expect("audit");
    assert_eq!((audit[0].actor.as_str(), audit[0].action.as_str()), ("alice", "query"));
    assert!(audit[0].detail["query"].as_str().expect("text").contains("GROUP BY"));
}

#[tokio::test]
async fn the_row_cap_cuts_and_says_so_in_every_format() {
    let api = api().await;
    call(&api, "POST", "/api/v1/ingest", Some(&api.admin), lines(250)).await;
    let sql = r#"SELECT "source.ip" FROM events ORDER BY 1"#;
    let (_, body) = query(&api, &api.admin, serde_json::json!({"query": sql})).await;
    let document: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(document["rows"].as_array().expect("rows").len(), 100, "server cap");
    assert_eq!(document["truncated"], true);
    // A request may ask for less, never more.
    let (_, body) =
        query(&api, &api.admin, serde_json::json!({"query": sql, "max_rows": 5000})).await;
    let document: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(document["rows"].as_array().expect("rows").len(), 100);
    let (_, body) = query(
        &api,
        &api.admin,
        serde_json::json!({"query": sql, "max_rows": 3, "format": "ndjson"}),
    )
    .await;
    assert_eq!(body.lines().count(), 3);
    assert_eq!(body.lines().next(), Some(r#"{"source.ip":"10.0.0.0"}"#));
    let (_, body) =
        query(&api, &api.admin, serde_json::json!({"query": sql, "max_rows": 2, "format": "csv"}))
            .await;
    assert_eq!(body, "source.ip\n10.0.0.0\n10.0.0.1\n");
    // Exactly at the cap is not "cut".
    let (_, body) =
        query(&api, &api.admin, serde_json::json!({"query": "SELECT 1 AS one", "max_rows": 1}))
            .await;
    let document: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(document["truncated"], false, "{body}");
}

#[tokio::test]
async fn writes_ddl_file_access_and_bad_syntax_get_400_and_change_nothing() {
    let api = api().await;
    call(&api, "POST", "/api/v1/ingest", Some(&api.admin), lines(10)).await;
    for sql in [
        "DROP VIEW events",
        "DELETE FROM events",
        "INSERT INTO _memtable SELECT * FROM events",
        "CREATE TABLE t AS SELECT 1",
        "COPY (SELECT 1) TO '/tmp/palisade-api-exfil.csv'",
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SET datafusion.execution.batch_size = 1",
        "SELEC 1",
    ] {
        let (status, body) = query(&api, &api.admin, serde_json::json!({"query": sql})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{sql}: {body}");
        assert!(body.contains("\"error\""), "{body}");
    }
    assert!(!std::path::Path::new("/tmp/palisade-api-exfil.csv").exists());
    let (_, body) =
        query(&api, &api.admin, serde_json::json!({"query": "SELECT count(*) AS n FROM events"}))
            .await;
    assert!(body.contains(r#"{"n":10}"#), "{body}");
}

#[tokio::test]
async fn a_runaway_query_is_stopped_by_the_timeout() {
    let api = api().await;
    let (status, body) = query(
        &api,
        &api.admin,
        serde_json::json!({"query": "SELECT count(*) AS n FROM range(100000000000)", "timeout_seconds": 1}),
    )
    .await;
    // The timeout can strike while planning (422) or while streaming (an error in the
    // document); either way no result is returned as if complete.
    if status == StatusCode::OK {
        let document: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert!(document["error"].as_str().expect("error").contains("timed out"), "{body}");
    } else {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
}

#[tokio::test]
async fn a_query_over_its_memory_cap_fails_cleanly() {
    let api = api_with_timeout(Duration::from_secs(120)).await;
    // Sorting 40 million integers needs far more than the 64 MiB cap, and spilling to disk
    // is off.
    let (status, body) = query(
        &api,
        &api.admin,
        serde_json::json!({"query": "SELECT value FROM range(40000000) ORDER BY value DESC"}),
    )
    .await;
    let message = if status == StatusCode::OK {
        let document: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(document["rows"].as_array().map(Vec::len), Some(0), "no partial answer");
        document["error"].as_str().expect("an error").to_owned()
    } else {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        body
    };
    eprintln!("memory cap answer: {message}");
    assert!(message.contains("Resources exhausted"), "{message}");
}

#[tokio::test]
async fn oversized_bodies_and_unknown_types_are_refused() {
    let api = api().await;
    let (status, _) =
        call(&api, "POST", "/api/v1/ingest", Some(&api.admin), "x".repeat(2 << 20)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) =
        call(&api, "POST", "/api/v1/ingest?type=klingon", Some(&api.admin), lines(1)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("klingon"), "{body}");
}
