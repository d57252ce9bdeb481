//! Endpoints that existing shippers already speak, so no new agent is needed:
//!
//! - Elastic `POST /_bulk` (and `/{index}/_bulk`): `index` and `create` actions with their
//!   documents; `delete` and `update` are answered per item with an error (the store is
//!   append-only). Clients such as Filebeat, Vector, Fluent Bit and the official `elasticsearch`
//!   libraries also call `GET /` first, and the 8.x clients insist on the
//!   `X-Elastic-Product: Elasticsearch` header on every answer.
//! - Splunk HEC `POST /services/collector/event` (concatenated JSON objects with `event`,
//!   `time`, `host`, `source`, `sourcetype`, `index`, `fields`), `/services/collector/raw`
//!   (lines) and `GET /services/collector/health`; token as `Authorization: Splunk TOKEN`.
//!
//! As everywhere, the answer comes once the events are durable, and what cannot be parsed is
//! stored raw and tagged, never dropped.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use palisade_event::{Event, Timestamp, Value};
use palisade_state::Permission;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ingest::{admit, parse_lines};
use palisade_parse::line::raw_event;

/// The Elastic version we answer to clients' version checks.
const ELASTIC_VERSION: &str = "8.17.0";

fn elastic(mut response: Response) -> Response {
    response.headers_mut().insert("x-elastic-product", HeaderValue::from_static("Elasticsearch"));
    response
}

/// `GET /`: the cluster information Elastic clients ask for before anything else.
pub(crate) async fn elastic_root(caller: Caller) -> Result<Response, ApiError> {
    caller.require(Permission::Ingest)?;
    Ok(elastic(
        Json(serde_json::json!({
            "name": "palisade",
            "cluster_name": "palisade",
            "cluster_uuid": "palisade",
            "version": {
                "number": ELASTIC_VERSION,
                "build_flavor": "default",
                "lucene_version": "9.12.0",
                "minimum_wire_compatibility_version": "7.17.0",
                "minimum_index_compatibility_version": "7.0.0",
            },
            "tagline": "You Know, for Search",
        }))
        .into_response(),
    ))
}

pub(crate) async fn bulk(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    bulk_into(app, caller, None, body).await
}

pub(crate) async fn bulk_index(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Path(index): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    bulk_into(app, caller, Some(index), body).await
}

/// An item's identity, kept until the answer is written.
struct Answered {
    action: &'static str,
    /// Shared by the items of a request that name the same index (most name one).
    index: Arc<str>,
    id: String,
    error: Option<&'static str>,
}

/// The answer to a bulk request, as Elastic writes it: `{"took": ..., "errors": ...,
/// "items": [{"index": {"_index": ..., "_id": ..., "status": 201, ...}}, ...]}`. Written
/// directly rather than through serde's derived serializers: a request answers thousands of
/// items, and those took about 3,000 instructions each (callgrind, session 23).
/// Only the index and the id vary; they are escaped by serde_json.
fn bulk_answer(took: u64, errors: bool, items: &[Answered]) -> Vec<u8> {
    const CREATED: &[u8] = br#","status":201,"result":"created","_version":1,"_shards":{"total":1,"successful":1,"failed":0}}}"#;
    let mut body = Vec::with_capacity(64 + items.len() * (CREATED.len() + 64));
    body.extend_from_slice(br#"{"took":"#);
    body.extend_from_slice(took.to_string().as_bytes());
    body.extend_from_slice(if errors {
        br#","errors":true,"items":["#
    } else {
        br#","errors":false,"items":["#
    });
    for (idx, item) in items.iter().enumerate() {
        if idx > 0 {
            body.push(b',');
        }
        body.extend_from_slice(b"{\"");
        body.extend_from_slice(item.action.as_bytes());
        body.extend_from_slice(br#"":{"_index":"#);
        write_json_str(&mut body, &item.index);
        body.extend_from_slice(br#","_id":"#);
        write_json_str(&mut body, &item.id);
        match item.error {
            None => body.extend_from_slice(CREATED),
            Some(reason) => {
                body.extend_from_slice(
                    br#","status":400,"error":{"type":"illegal_argument_exception","reason":"#,
                );
                write_json_str(&mut body, reason);
                body.extend_from_slice(b"}}}");
            }
        }
    }
    body.extend_from_slice(b"]}");
    body
}

/// Appends `text` as a JSON string, quoted and escaped.
fn write_json_str(body: &mut Vec<u8>, text: &str) {
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *body, text);
}

async fn bulk_into(
    app: Arc<AppState>,
    caller: Caller,
    default_index: Option<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Permission::Ingest)?;
    let started = std::time::Instant::now();
    // Admitted before any work, so that a refused request costs no parsing, and parsed off
    // the async workers: a request of thousands of documents takes tens of milliseconds.
    let _slot = admit(&app)?;
    let metrics = Arc::clone(&app.metrics.http);
    let pipeline = app.pipeline.clone();
    let (items, errors) = tokio::task::spawn_blocking(move || {
        let (documents, items, errors) = read_bulk(&body, default_index.as_deref())?;
        if !documents.is_empty() {
            // Each document is parsed as the pipeline takes it: parsed, matched and encoded
            // in one go, while it is in the cache. Counted once for the request.
            let failed = std::cell::Cell::new(0u64);
            let events = documents.iter().map(|document| document.event(&items, &failed));
            let appended = pipeline.append_iter(documents.len(), events);
            let count = documents.len() as u64;
            metrics.received.inc_by(count);
            metrics.parsed.inc_by(count - failed.get());
            metrics.failed.inc_by(failed.get());
            appended?;
        }
        Ok::<_, ApiError>((items, errors))
    })
    .await
    .map_err(ApiError::internal)??;
    let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let body = bulk_answer(took, errors, &items);
    let json = [(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"))];
    Ok(elastic((json, body).into_response()))
}

/// One `index` or `create` action's document, not parsed yet.
struct Document<'b> {
    source: &'b [u8],
    /// Its action in the answer, for the index and the id.
    item: usize,
}

impl Document<'_> {
    /// The document as an event, with `event.dataset` (the index, unless the document has
    /// one) and `event.id`; kept raw and counted in `failed` when it is not a JSON object.
    fn event(&self, items: &[Answered], failed: &std::cell::Cell<u64>) -> Event {
        let answered = &items[self.item];
        let mut event =
            palisade_parse::source::json_object_event(self.source).unwrap_or_else(|_| {
                failed.set(failed.get() + 1);
                raw_event(&String::from_utf8_lossy(self.source))
            });
        if event.get("event.dataset").is_none() {
            event.insert("event.dataset", Value::from(&*answered.index));
        }
        event.insert("event.id", Value::from(answered.id.as_str()));
        event
    }
}

/// The metadata of a bulk action line (`{"index": {"_index": ..., "_id": ...}}`); other
/// keys (routing, pipeline, version) are accepted and ignored.
#[derive(serde::Deserialize)]
struct ActionMeta {
    #[serde(rename = "_index")]
    index: Option<serde_json::Value>,
    #[serde(rename = "_id")]
    id: Option<serde_json::Value>,
}

/// One action line, read: its action, index and id.
struct Action {
    name: &'static str,
    index: Arc<str>,
    /// The id the line gives, if any.
    id: Option<String>,
}

/// Reads an action line (`{"index": {"_index": ..., "_id": ...}}`).
fn read_action(line: &[u8], default_index: Option<&str>) -> Result<Action, ApiError> {
    let action: std::collections::BTreeMap<String, ActionMeta> = serde_json::from_slice(line)
        .map_err(|error| {
            ApiError::bad_request(format!(
                "a bulk action line must be {{\"index\": {{...}}}}: {error}"
            ))
        })?;
    let Some((name, meta)) = action.into_iter().next() else {
        return Err(ApiError::bad_request("a bulk action line must be {\"index\": {...}}"));
    };
    let name = match name.as_str() {
        "index" => "index",
        "create" => "create",
        "update" => "update",
        "delete" => "delete",
        other => return Err(ApiError::bad_request(format!("unknown bulk action `{other}`"))),
    };
    let index = meta
        .index
        .as_ref()
        .and_then(serde_json::Value::as_str)
        .or(default_index)
        .unwrap_or("palisade");
    let id = meta.id.as_ref().and_then(serde_json::Value::as_str).map(str::to_owned);
    Ok(Action { name, index: Arc::from(index), id })
}

/// The non-blank lines of a body, found with `memchr` (a byte-by-byte split was a sixth of
/// reading a request).
fn body_lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = body;
    std::iter::from_fn(move || {
        while !rest.is_empty() {
            let (line, after) = match memchr::memchr(b'\n', rest) {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = after;
            if !line.trim_ascii().is_empty() {
                return Some(line);
            }
        }
        None
    })
}

/// The documents of a bulk body, not parsed yet, and the answer for each action; an error
/// for a body that is not a bulk request. Nothing is stored when the body is refused, so the
/// action lines are all read before any document is.
fn read_bulk<'b>(
    body: &'b [u8],
    default_index: Option<&str>,
) -> Result<(Vec<Document<'b>>, Vec<Answered>, bool), ApiError> {
    let mut lines = body_lines(body);
    // About one action and one document line each: sized once rather than doubled.
    let actions = memchr::memchr_iter(b'\n', body).count() / 2 + 1;
    let mut documents = Vec::with_capacity(actions);
    let mut items = Vec::with_capacity(actions);
    let mut errors = false;
    let mut counter = 0u64;
    let stamp = jiff::Timestamp::now().as_microsecond();
    let id_prefix = format!("{stamp:x}-");
    // Shippers repeat one action line for every document: a line equal to the last one is
    // not parsed again.
    let mut last: Option<(&[u8], Action)> = None;
    while let Some(action_line) = lines.next() {
        let action = match last.take() {
            Some((line, action)) if line == action_line => action,
            _ => read_action(action_line, default_index)?,
        };
        counter += 1;
        let id = action.id.clone().unwrap_or_else(|| {
            use std::fmt::Write as _;
            let mut id = String::with_capacity(id_prefix.len() + 20);
            id.push_str(&id_prefix);
            let _ = write!(id, "{counter}");
            id
        });
        let index = Arc::clone(&action.index);
        match action.name {
            "index" | "create" => {
                let Some(source) = lines.next() else {
                    return Err(ApiError::bad_request("a bulk `index` action has no document"));
                };
                documents.push(Document { source, item: items.len() });
                items.push(Answered { action: action.name, index, id, error: None });
            }
            _ => {
                if action.name == "update" {
                    lines.next();
                }
                errors = true;
                items.push(Answered {
                    action: action.name,
                    index,
                    id,
                    error: Some(
                        "Palisade stores events append-only; update and delete are not supported",
                    ),
                });
            }
        }
        last = Some((action_line, action));
    }
    Ok((documents, items, errors))
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct HecParams {
    sourcetype: Option<String>,
    source: Option<String>,
    host: Option<String>,
    index: Option<String>,
}

fn hec_ok() -> Json<serde_json::Value> {
    Json(serde_json::json!({"text": "Success", "code": 0}))
}

fn hec_error(code: u16, text: &str) -> ApiError {
    ApiError::bad_request(format!("{text} (HEC code {code})"))
}

/// Applies HEC metadata (`host`, `source`, `sourcetype`, `index`, `time`) to an event.
fn hec_metadata(event: &mut Event, meta: &serde_json::Map<String, serde_json::Value>) {
    let text = |key: &str| meta.get(key).and_then(serde_json::Value::as_str);
    if let Some(host) = text("host") {
        event.insert("host.name", Value::from(host));
    }
    if let Some(source) = text("source") {
        event.insert("log.file.path", Value::from(source));
    }
    if let Some(sourcetype) = text("sourcetype") {
        if event.get("event.dataset").is_none() {
            event.insert("event.dataset", Value::from(sourcetype));
        }
        event.insert("splunk.sourcetype", Value::from(sourcetype));
    }
    if let Some(index) = text("index") {
        event.insert("splunk.index", Value::from(index));
    }
    let time = meta.get("time").and_then(|time| match time {
        serde_json::Value::Number(number) => number.as_f64(),
        serde_json::Value::String(text) => text.parse().ok(),
        _ => None,
    });
    if let Some(seconds) = time {
        #[allow(clippy::cast_possible_truncation)]
        let micros = (seconds * 1e6).round() as i64;
        if let Ok(timestamp) = Timestamp::from_microsecond(micros) {
            event.set_timestamp(Some(timestamp));
        }
    }
}

/// `POST /services/collector/event` (and `/services/collector`).
pub(crate) async fn hec_event(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::Ingest)?;
    // Admitted before the body is parsed: a refused request costs no parsing.
    let _slot = admit(&app)?;
    let metrics = Arc::clone(&app.metrics.http);
    let pipeline = app.pipeline.clone();
    // Parsed and stored off the async workers: a large request is tens of milliseconds of
    // work.
    tokio::task::spawn_blocking(move || {
        let events = hec_events(&body, &metrics)?;
        pipeline.append(events)?;
        Ok::<_, ApiError>(())
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(hec_ok())
}

/// The events of a HEC `/event` body: concatenated JSON objects, each with an `event` (an
/// object, or a string kept as a raw line), optional indexed `fields` and metadata. An error,
/// and nothing stored, when an item is not such an object or the body has none.
fn hec_events(body: &[u8], metrics: &crate::metrics::InputMetrics) -> Result<Vec<Event>, ApiError> {
    let mut events = Vec::new();
    for document in serde_json::Deserializer::from_slice(body).into_iter::<serde_json::Value>() {
        let document =
            document.map_err(|error| hec_error(6, &format!("invalid data format: {error}")))?;
        let Some(object) = document.as_object() else {
            return Err(hec_error(6, "invalid data format: each item must be a JSON object"));
        };
        let Some(payload) = object.get("event") else {
            return Err(hec_error(12, "event field is required"));
        };
        metrics.received.inc();
        let mut event = match payload {
            serde_json::Value::Object(_) => {
                metrics.parsed.inc();
                palisade_parse::format::json::event_from_document(payload)
            }
            serde_json::Value::String(text) => {
                // A string event is a raw line: keep it whole, like any other raw input.
                metrics.failed.inc();
                raw_event(text)
            }
            other => {
                metrics.parsed.inc();
                Event::from_fields(vec![("message".into(), Value::from(other.to_string()))])
            }
        };
        if let Some(serde_json::Value::Object(fields)) = object.get("fields") {
            for (name, value) in fields {
                if let Some(value) = Value::from_json_scalar(value) {
                    event.insert(name, value);
                }
            }
        }
        hec_metadata(&mut event, object);
        events.push(event);
    }
    if events.is_empty() {
        return Err(hec_error(5, "no data"));
    }
    Ok(events)
}

/// `POST /services/collector/raw`: lines, with metadata in the query string.
pub(crate) async fn hec_raw(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Query<HecParams>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::Ingest)?;
    // Admitted before the body is parsed: a refused request costs no parsing.
    let _slot = admit(&app)?;
    let metrics = Arc::clone(&app.metrics.http);
    let pipeline = app.pipeline.clone();
    let mut meta = serde_json::Map::new();
    for (key, value) in [
        ("sourcetype", params.sourcetype),
        ("source", params.source),
        ("host", params.host),
        ("index", params.index),
    ] {
        if let Some(value) = value {
            meta.insert(key.to_owned(), value.into());
        }
    }
    // Split and stored off the async workers, like `/event`.
    tokio::task::spawn_blocking(move || {
        let (mut events, _) = parse_lines(&body, true);
        if events.is_empty() {
            return Err(hec_error(5, "no data"));
        }
        metrics.received.inc_by(events.len() as u64);
        metrics.failed.inc_by(events.len() as u64);
        for event in &mut events {
            hec_metadata(event, &meta);
        }
        pipeline.append(events)?;
        Ok(())
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(hec_ok())
}

/// `GET /services/collector/health`: no token needed, as in Splunk.
pub(crate) async fn hec_health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"text": "HEC is healthy", "code": 17}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(
        action: &'static str,
        index: &str,
        id: &str,
        error: Option<&'static str>,
    ) -> Answered {
        Answered { action, index: Arc::from(index), id: id.to_owned(), error }
    }

    /// The answer is the JSON Elastic clients read, with index and id escaped.
    #[test]
    fn the_bulk_answer_is_elastic_json() {
        let items = [
            answered("index", "logs \"q\" \\ ü", "a\nb", None),
            answered("create", "palisade", "7", None),
            answered("delete", "x", "9", Some("no \"delete\"")),
        ];
        let body = bulk_answer(12, true, &items);
        let parsed: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
        let created = |action: &str, index: &str, id: &str| {
            serde_json::json!({action: {
                "_index": index, "_id": id, "status": 201, "result": "created", "_version": 1,
                "_shards": {"total": 1, "successful": 1, "failed": 0},
            }})
        };
        let expected = serde_json::json!({
            "took": 12,
            "errors": true,
            "items": [
                created("index", "logs \"q\" \\ ü", "a\nb"),
                created("create", "palisade", "7"),
                {"delete": {"_index": "x", "_id": "9", "status": 400,
                    "error": {"type": "illegal_argument_exception", "reason": "no \"delete\""}}},
            ],
        });
        assert_eq!(parsed, expected);
        let empty: serde_json::Value = serde_json::from_slice(&bulk_answer(0, false, &[])).unwrap();
        assert_eq!(empty, serde_json::json!({"took": 0, "errors": false, "items": []}));
    }

    #[test]
    fn bulk_bodies_are_read_action_by_action() {
        let body = concat!(
            "{\"index\":{\"_index\":\"a\"}}\n{\"n\":1}\n",
            "\n  \n",
            "{\"index\":{\"_index\":\"a\"}}\n{\"n\":2}\r\n",
            "{\"create\":{\"_id\":\"given\"}}\n{\"n\":3}\n",
            "{\"update\":{\"_index\":\"u\",\"_id\":\"5\"}}\n{\"doc\":{}}\n",
            "{\"delete\":{\"_id\":\"6\"}}\n",
            "{\"index\":{\"_index\":\"a\"}}\n{\"n\":4}",
        );
        let (documents, items, errors) = read_bulk(body.as_bytes(), Some("dflt")).expect("read");
        assert!(errors);
        let sources: Vec<&[u8]> = documents.iter().map(|document| document.source).collect();
        assert_eq!(sources, [&b"{\"n\":1}"[..], b"{\"n\":2}\r", b"{\"n\":3}", b"{\"n\":4}"]);
        let seen: Vec<(&str, &str, bool)> =
            items.iter().map(|item| (item.action, &*item.index, item.error.is_some())).collect();
        assert_eq!(
            seen,
            [
                ("index", "a", false),
                ("index", "a", false),
                ("create", "dflt", false),
                ("update", "u", true),
                ("delete", "dflt", true),
                ("index", "a", false),
            ]
        );
        assert_eq!(items[2].id, "given");
        assert_eq!(items[3].id, "5");
        // Generated ids are distinct, also for a repeated action line.
        let generated: std::collections::BTreeSet<&str> =
            [0, 1, 5].iter().map(|&idx| items[idx].id.as_str()).collect();
        assert_eq!(generated.len(), 3);
        assert_eq!(
            documents.iter().map(|document| document.item).collect::<Vec<_>>(),
            [0, 1, 2, 5]
        );
    }

    #[test]
    fn bad_bulk_bodies_are_refused() {
        for body in [
            "{\"index\":{}}",
            "{\"upsert\":{}}\n{}\n",
            "not json\n{}\n",
            "{}\n{}\n",
            "{\"index\":{}}\n{}\n{\"index\":{}}",
        ] {
            assert!(read_bulk(body.as_bytes(), None).is_err(), "{body:?}");
        }
    }
}
