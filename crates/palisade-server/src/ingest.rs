//! `POST /api/v1/ingest`: newline-delimited events.
//!
//! Each non-empty line becomes one event: a JSON object is flattened as JSON; anything else
//! (or every line with `type=raw`) is kept whole in `message` and `event.original` and tagged
//! `_unparsed`, so nothing accepted is dropped. The answer comes once every event is durable.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use bytes::Bytes;
use palisade_event::Event;
use palisade_parse::line::raw_event;
use palisade_state::Permission;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// The source types this version understands.
const TYPES: &[&str] = &["json", "syslog", "raw"];

/// How the lines of a request are read.
#[derive(Debug, Clone)]
pub(crate) enum LineFormat {
    /// JSON objects; other lines kept raw.
    Json,
    /// Syslog lines (RFC 5424, BSD, or as in /var/log), then the auth-log parsers; BSD
    /// timestamps are read in this zone (the syslog inputs' configured one).
    Syslog(jiff::tz::TimeZone),
    /// Every line kept raw.
    Raw,
}

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

/// Turns a request body into events; returns them and how many were kept unparsed.
pub(crate) fn parse_lines(body: &[u8], raw_only: bool) -> (Vec<Event>, usize) {
    parse_lines_as(body, &if raw_only { LineFormat::Raw } else { LineFormat::Json })
}

/// Turns a request body into events in the given format; returns them and how many no parser
/// understood (kept raw and tagged).
pub(crate) fn parse_lines_as(body: &[u8], format: &LineFormat) -> (Vec<Event>, usize) {
    let mut events = Vec::new();
    let mut unparsed = 0;
    let ctx = match format {
        LineFormat::Syslog(zone) => {
            Some(palisade_parse::syslog::SyslogContext::new(jiff::Timestamp::now(), zone.clone()))
        }
        LineFormat::Json | LineFormat::Raw => None,
    };
    for line in body.split(|byte| *byte == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some(ctx) = &ctx {
            let (event, parsed) = palisade_parse::line::syslog_event(line, ctx, false);
            unparsed += usize::from(!parsed);
            events.push(event);
            continue;
        }
        let parsed = (matches!(format, LineFormat::Json)
            && line.trim_ascii_start().starts_with(b"{"))
        .then(|| palisade_parse::format::json_fast::event_from_slice(line).ok())
        .flatten();
        match parsed {
            Some(event) => events.push(event),
            None => {
                unparsed += 1;
                events.push(raw_event(&String::from_utf8_lossy(line)));
            }
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
    let format = match params.source_type.as_deref() {
        None | Some("json" | "ndjson") => LineFormat::Json,
        Some("syslog") => LineFormat::Syslog(app.options.syslog.time_zone.clone()),
        Some("raw") => LineFormat::Raw,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown type `{other}`; this version accepts: {}",
                TYPES.join(", ")
            )));
        }
    };
    let _slot = admit(&app)?;
    let pipeline = app.pipeline.clone();
    let metrics = Arc::clone(&app.metrics.http);
    let (accepted, unparsed, range) = tokio::task::spawn_blocking(move || {
        let (events, unparsed) = parse_lines_as(&body, &format);
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
        let (events, unparsed) = parse_lines_as(body, &LineFormat::Syslog(jiff::tz::TimeZone::UTC));
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
