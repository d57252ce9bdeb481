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

/// One answered item of a bulk request, as Elastic writes it: `{"index": {...}}`. Typed
/// rather than built as JSON values, since a request answers thousands of them.
struct Item<'a> {
    action: &'static str,
    body: ItemBody<'a>,
}

impl serde::Serialize for Item<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.action, &self.body)?;
        map.end()
    }
}

#[derive(serde::Serialize)]
struct ItemBody<'a> {
    _index: &'a str,
    _id: &'a str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    _version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    _shards: Option<Shards>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ItemError<'a>>,
}

#[derive(serde::Serialize)]
struct Shards {
    total: u32,
    successful: u32,
    failed: u32,
}

#[derive(serde::Serialize)]
struct ItemError<'a> {
    r#type: &'static str,
    reason: &'a str,
}

/// The answer to a bulk request.
#[derive(serde::Serialize)]
struct BulkAnswer<'a> {
    took: u64,
    errors: bool,
    items: Vec<Item<'a>>,
}

/// An item's identity, kept until the answer is written.
struct Answered {
    action: &'static str,
    index: String,
    id: String,
    error: Option<&'static str>,
}

impl Answered {
    fn item(&self) -> Item<'_> {
        let body = ItemBody {
            _index: &self.index,
            _id: &self.id,
            status: if self.error.is_some() { 400 } else { 201 },
            result: self.error.is_none().then_some("created"),
            _version: self.error.is_none().then_some(1),
            _shards: self.error.is_none().then_some(Shards { total: 1, successful: 1, failed: 0 }),
            error: self
                .error
                .map(|reason| ItemError { r#type: "illegal_argument_exception", reason }),
        };
        Item { action: self.action, body }
    }
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
    let answer = BulkAnswer { took, errors, items: items.iter().map(Answered::item).collect() };
    Ok(elastic(Json(answer).into_response()))
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
            event.insert("event.dataset", Value::from(answered.index.as_str()));
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

/// The documents of a bulk body, not parsed yet, and the answer for each action; an error
/// for a body that is not a bulk request. Nothing is stored when the body is refused, so the
/// action lines are all read before any document is.
fn read_bulk<'b>(
    body: &'b [u8],
    default_index: Option<&str>,
) -> Result<(Vec<Document<'b>>, Vec<Answered>, bool), ApiError> {
    let mut lines = body.split(|byte| *byte == b'\n').filter(|line| !line.trim_ascii().is_empty());
    let mut documents = Vec::new();
    let mut items = Vec::new();
    let mut errors = false;
    let mut counter = 0u64;
    let stamp = jiff::Timestamp::now().as_microsecond();
    while let Some(action_line) = lines.next() {
        let action: std::collections::BTreeMap<String, ActionMeta> =
            serde_json::from_slice(action_line).map_err(|error| {
                ApiError::bad_request(format!(
                    "a bulk action line must be {{\"index\": {{...}}}}: {error}"
                ))
            })?;
        let Some((name, meta)) = action.into_iter().next() else {
            return Err(ApiError::bad_request("a bulk action line must be {\"index\": {...}}"));
        };
        let index = meta
            .index
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .or_else(|| default_index.map(str::to_owned))
            .unwrap_or_else(|| "palisade".to_owned());
        counter += 1;
        let id = meta
            .id
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .map_or_else(|| format!("{stamp:x}-{counter}"), str::to_owned);
        match name.as_str() {
            "index" | "create" => {
                let Some(source) = lines.next() else {
                    return Err(ApiError::bad_request("a bulk `index` action has no document"));
                };
                documents.push(Document { source, item: items.len() });
                let action = if name == "index" { "index" } else { "create" };
                items.push(Answered { action, index, id, error: None });
            }
            "update" | "delete" => {
                if name == "update" {
                    lines.next();
                }
                errors = true;
                items.push(Answered {
                    action: if name == "update" { "update" } else { "delete" },
                    index,
                    id,
                    error: Some(
                        "Palisade stores events append-only; update and delete are not supported",
                    ),
                });
            }
            other => {
                return Err(ApiError::bad_request(format!("unknown bulk action `{other}`")));
            }
        }
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
