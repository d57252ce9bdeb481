//! `POST /api/v1/ingest`: newline-delimited events.
//!
//! Each non-empty line becomes one event (a CloudTrail `{"Records": [...]}` line, one per
//! record), read as the `type` the request names (see `palisade_parse::source`), or detected
//! per line without one. A line its parser does not understand is kept whole in `message`
//! and `event.original` and tagged, so nothing accepted is dropped. The answer comes once
//! every event is durable.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use bytes::Bytes;
use palisade_event::Event;
use palisade_parse::source::{Decoded, LineDecoder, SourceType};
use palisade_parse::syslog::SyslogContext;
use palisade_state::Permission;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

#[derive(Debug, serde::Deserialize)]
pub(crate) struct IngestParams {
    #[serde(rename = "type")]
    source_type: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub(crate) struct IngestReply {
    accepted: usize,
    unparsed: usize,
    first_seq: Option<u64>,
    last_seq: Option<u64>,
}

/// Turns a request body into events, every line kept raw or every line read as `auto`;
/// returns them and how many were kept unparsed.
pub(crate) fn parse_lines(body: &[u8], raw_only: bool) -> (Vec<Event>, usize) {
    let source = if raw_only { SourceType::Raw } else { SourceType::Auto };
    parse_lines_as(body, source, &jiff::tz::TimeZone::UTC)
}

/// Turns a request body into events of one source type; returns them and how many no parser
/// understood (kept raw and tagged). Zone-less timestamps are read in `zone`.
pub(crate) fn parse_lines_as(
    body: &[u8],
    source: SourceType,
    zone: &jiff::tz::TimeZone,
) -> (Vec<Event>, usize) {
    let ctx = SyslogContext::new(jiff::Timestamp::now(), zone.clone());
    let mut decoder = LineDecoder::new(source, ctx);
    let mut events = Vec::new();
    let mut unparsed = 0;
    for line in body.split(|byte| *byte == b'\n') {
        if decoder.decode(line, false, &mut events) == Decoded::Unparsed {
            unparsed += 1;
        }
    }
    (events, unparsed)
}

/// Takes an ingest slot, or says why the request must come back later: 503 while the store
/// lags, 429 when too many ingests are in flight. Every ingest endpoint goes through here.
pub(crate) fn admit(app: &AppState) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
    if app.store.is_lagging() {
        return Err(ApiError::busy(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage is behind; retry shortly",
        ));
    }
    app.ingest_slots
        .try_acquire()
        .map_err(|_| ApiError::busy(StatusCode::TOO_MANY_REQUESTS, "too many ingest requests"))
}

pub(crate) async fn ingest(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Query<IngestParams>,
    body: Bytes,
) -> Result<Json<IngestReply>, ApiError> {
    caller.require(Permission::Ingest)?;
    let source = match params.source_type.as_deref() {
        None => SourceType::Auto,
        Some(name) => SourceType::from_name(name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown type `{name}`; this version accepts: {}",
                SourceType::names()
            ))
        })?,
    };
    let zone = app.options.syslog.time_zone.clone();
    let _slot = admit(&app)?;
    let pipeline = app.pipeline.clone();
    let metrics = Arc::clone(&app.metrics.http);
    let (accepted, unparsed, range) = tokio::task::spawn_blocking(move || {
        let (events, unparsed) = parse_lines_as(&body, source, &zone);
        let accepted = events.len();
        metrics.received.inc_by(accepted as u64);
        metrics.parsed.inc_by((accepted - unparsed) as u64);
        metrics.failed.inc_by(unparsed as u64);
        if events.is_empty() {
            return Ok((0, 0, None));
        }
        pipeline.append(events).map(|range| (accepted, unparsed, Some(range)))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(IngestReply {
        accepted,
        unparsed,
        first_seq: range.map(|(first, _)| first),
        last_seq: range.map(|(_, last)| last),
    }))
}

#[cfg(test)]
mod tests {
    use palisade_event::Value;

    use super::*;

    #[test]
    fn json_lines_parse_and_everything_else_is_kept_raw() {
        let body = b"{\"user\":{\"name\":\"alice\"}}\r\n\n not json\n{broken\n   \n";
        let (events, unparsed) = parse_lines(body, false);
        assert_eq!((events.len(), unparsed), (3, 2));
        assert_eq!(events[0].get("user.name").and_then(Value::to_text).as_deref(), Some("alice"));
        assert_eq!(
            events[1].get("event.original").and_then(Value::to_text).as_deref(),
            Some(" not json")
        );
        assert_eq!(events[2].get("message").and_then(Value::to_text).as_deref(), Some("{broken"));
        let (raw, unparsed) = parse_lines(body, true);
        assert_eq!((raw.len(), unparsed), (3, 3));
    }

    #[test]
    fn syslog_lines_go_through_the_syslog_and_auth_parsers() {
        let body = b"<38>Nov 30 22:00:01 bastion sshd[811]: Failed password for root from 198.51.100.4 port 2222 ssh2\nnot syslog\n";
        let (events, unparsed) = parse_lines_as(body, SourceType::Syslog, &jiff::tz::TimeZone::UTC);
        assert_eq!((events.len(), unparsed), (2, 1));
        let text =
            |name: &str| events[0].get(name).and_then(Value::to_text).map(|t| t.into_owned());
        assert_eq!(text("host.name").as_deref(), Some("bastion"));
        assert_eq!(text("user.name").as_deref(), Some("root"));
        assert_eq!(text("source.ip").as_deref(), Some("198.51.100.4"));
        assert_eq!(text("event.outcome").as_deref(), Some("failure"));
        assert_eq!(
            text("message").as_deref(),
            Some("Failed password for root from 198.51.100.4 port 2222 ssh2")
        );
    }
}
