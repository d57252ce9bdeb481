//! Alerts and rules over HTTP: listing alerts for triage, listing rules, switching them on and
//! off, reloading them. Reading needs the read permission; changing rules needs admin, and
//! lands in the audit log.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use palisade_detect::Severity;
use palisade_state::{AlertFilter, Permission, StoredAlert};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// Query parameters of `GET /api/v1/alerts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListParams {
    /// RFC 3339 time, or a span back from now such as `24h`, `7d`.
    since: Option<String>,
    /// Minimum severity.
    severity: Option<String>,
    /// One rule's alerts.
    rule: Option<String>,
    /// At most this many (default 100).
    limit: Option<u32>,
    /// Also alerts covered by an exception.
    #[serde(default)]
    all: bool,
}

/// Parses a start time as the API and the command line take it: an RFC 3339 time, or `N`
/// followed by s, m, h, d (that long back from now).
///
/// # Errors
/// A message saying what is accepted.
pub fn parse_since(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(time) = text.parse::<jiff::Timestamp>() {
        return Ok(time);
    }
    let span = palisade_detect::correlation::parse_timespan(text).map_err(|_| {
        format!("must be an RFC 3339 time or a span such as 24h or 7d, not `{text}`")
    })?;
    jiff::Timestamp::now().checked_sub(span).map_err(|error| error.to_string())
}

pub(crate) fn filter(params: ListParams) -> Result<AlertFilter, ApiError> {
    let since =
        params.since.as_deref().map(parse_since).transpose().map_err(ApiError::bad_request)?;
    let min_severity = params
        .severity
        .as_deref()
        .map(|text| {
            Severity::parse(&text.to_ascii_lowercase()).ok_or_else(|| {
                ApiError::bad_request(
                    "`severity` must be informational, low, medium, high or critical",
                )
            })
        })
        .transpose()?;
    Ok(AlertFilter {
        since,
        min_severity,
        rule_id: params.rule,
        limit: params.limit,
        include_excepted: params.all,
    })
}

pub(crate) async fn list(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<Vec<StoredAlert>>, ApiError> {
    caller.require(Permission::Read)?;
    let filter = filter(params)?;
    Ok(Json(app.db.list_alerts(&filter).await?))
}

pub(crate) async fn get_one(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<StoredAlert>, ApiError> {
    caller.require(Permission::Read)?;
    app.db
        .alert(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::new(axum::http::StatusCode::NOT_FOUND, format!("no alert {id}")))
}

fn detection(app: &AppState) -> Result<&Arc<crate::detect::Detection>, ApiError> {
    app.options.detection.as_ref().ok_or_else(|| {
        ApiError::new(axum::http::StatusCode::CONFLICT, "live detection is off in this server")
    })
}

pub(crate) async fn rules(
    State(app): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<palisade_detect::stage::RuleInfo>>, ApiError> {
    caller.require(Permission::Read)?;
    Ok(Json(detection(&app)?.list()))
}

pub(crate) async fn reload(
    State(app): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<crate::detect::LoadReport>, ApiError> {
    caller.require(Permission::Admin)?;
    let report = detection(&app)?.reload().await.map_err(ApiError::internal)?;
    app.db
        .audit(
            &caller.0.name,
            "rules.reload",
            serde_json::json!({ "rules": report.rules, "correlations": report.correlations, "problems": report.problems.len() }),
        )
        .await?;
    Ok(Json(report))
}

async fn switch(
    app: &AppState,
    caller: &Caller,
    id: &str,
    enabled: bool,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::Admin)?;
    let detection = detection(app)?;
    if !detection.list().iter().any(|rule| rule.id == id) {
        return Err(ApiError::new(axum::http::StatusCode::NOT_FOUND, format!("no rule {id}")));
    }
    let changed = app.db.set_rule_enabled(id, enabled, &caller.0.name).await?;
    detection.refresh_disabled().await?;
    Ok(Json(serde_json::json!({ "id": id, "enabled": enabled, "changed": changed })))
}

pub(crate) async fn enable(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    switch(&app, &caller, &id, true).await
}

pub(crate) async fn disable(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    switch(&app, &caller, &id, false).await
}

pub(crate) async fn exceptions(
    State(app): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<palisade_state::Exception>>, ApiError> {
    caller.require(Permission::Read)?;
    Ok(Json(app.db.exceptions().await?))
}

pub(crate) async fn add_exception(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Json(new): Json<palisade_state::NewException>,
) -> Result<(axum::http::StatusCode, Json<palisade_state::Exception>), ApiError> {
    caller.require(Permission::Admin)?;
    let made = app.db.add_exception(&new, &caller.0.name).await?;
    Ok((axum::http::StatusCode::CREATED, Json(made)))
}

pub(crate) async fn revoke_exception(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::Admin)?;
    if app.db.revoke_exception(id, &caller.0.name).await? {
        Ok(Json(serde_json::json!({ "id": id, "revoked": true })))
    } else {
        Err(ApiError::new(axum::http::StatusCode::NOT_FOUND, format!("no active exception {id}")))
    }
}

/// Body of `POST /api/v1/rules/replay`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplayRequest {
    /// The rule's id, name or title.
    rule: String,
    /// Start: a span back from now (`30d`) or an RFC 3339 time; default 30 days.
    since: Option<String>,
    /// End: RFC 3339; default now.
    until: Option<String>,
}

pub(crate) async fn replay(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Json(request): Json<ReplayRequest>,
) -> Result<Json<crate::replay::ReplayReport>, ApiError> {
    caller.require(Permission::Admin)?;
    let since =
        parse_since(request.since.as_deref().unwrap_or("30d")).map_err(ApiError::bad_request)?;
    let until = match request.until.as_deref() {
        Some(text) => text
            .parse::<jiff::Timestamp>()
            .map_err(|_| ApiError::bad_request("`until` must be an RFC 3339 time"))?,
        None => jiff::Timestamp::now(),
    };
    let suppress = app.options.detect_suppress;
    let rules_dir = app.store.dir().join("rules");
    let report = crate::replay::replay(
        &app.store,
        &rules_dir,
        &request.rule,
        since,
        until,
        suppress,
        |_| {},
    )
    .await
    .map_err(|error| match error {
        crate::replay::ReplayError::UnknownRule(_) => {
            ApiError::new(axum::http::StatusCode::NOT_FOUND, error.to_string())
        }
        other => ApiError::internal(other),
    })?;
    app.db
        .audit(
            &caller.0.name,
            "rules.replay",
            serde_json::json!({ "rule": report.rule_id, "since": since.to_string(), "until": until.to_string(), "events": report.events, "alerts": report.alerts.len() }),
        )
        .await?;
    Ok(Json(report))
}
