//! `GET|POST /api/v1/query`: read-only queries, streamed.
//!
//! Formats: `json` (default) streams one JSON document
//! `{"columns":[...],"rows":[{...},...],"truncated":false,"error":null}` as rows arrive, so a
//! client that reads it whole sees whether the row cap cut it or an error stopped it; `ndjson`
//! streams one object per row; `csv` streams a header and rows. The server's limits cap what
//! a request may ask for. Every query lands in the audit log.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::json::writer::{LineDelimited, WriterBuilder};
use palisade_state::Permission;
use palisade_store::{QueryLimits, QueryStream};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OutputFormat {
    #[default]
    Json,
    Ndjson,
    Csv,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueryRequest {
    /// The query (SQL); `q` in a query string.
    #[serde(alias = "q")]
    query: String,
    #[serde(default)]
    format: OutputFormat,
    max_rows: Option<usize>,
    timeout_seconds: Option<u64>,
}

pub(crate) async fn query_get(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Query(request): Query<QueryRequest>,
) -> Result<Response, ApiError> {
    run(app, caller, request).await
}

pub(crate) async fn query_post(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Json(request): Json<QueryRequest>,
) -> Result<Response, ApiError> {
    run(app, caller, request).await
}

pub(crate) async fn stats(
    State(app): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<palisade_store::Stats>, ApiError> {
    caller.require(Permission::Read)?;
    let store = Arc::clone(&app.store);
    let stats =
        tokio::task::spawn_blocking(move || store.stats()).await.map_err(ApiError::internal)??;
    Ok(Json(stats))
}

pub(crate) async fn metrics(
    State(app): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read)?;
    let mut response = app.metrics.encode().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}

async fn run(
    app: Arc<AppState>,
    caller: Caller,
    request: QueryRequest,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read)?;
    let cap = app.options.query_limits;
    let limits = QueryLimits {
        max_rows: request.max_rows.unwrap_or(cap.max_rows).min(cap.max_rows),
        timeout: request.timeout_seconds.map_or(cap.timeout, Duration::from_secs).min(cap.timeout),
        memory_bytes: cap.memory_bytes,
    };
    app.db
        .audit(
            &caller.0.name,
            "query",
            serde_json::json!({ "query": request.query, "format": request.format }),
        )
        .await?;
    let stream = app.store.query_stream(&request.query, limits).await?;
    let content_type = match request.format {
        OutputFormat::Json => "application/json",
        OutputFormat::Ndjson => "application/x-ndjson",
        OutputFormat::Csv => "text/csv; charset=utf-8",
    };
    let body = Body::from_stream(chunks(stream, request.format));
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert("x-palisade-max-rows", HeaderValue::from(limits.max_rows));
    Ok(response)
}

/// Where the response is in its document.
enum Phase {
    Start(QueryStream),
    Rows(QueryStream, bool),
    Done,
}

/// The response body as chunks: one per record batch, plus the document's head and tail.
fn chunks(
    stream: QueryStream,
    format: OutputFormat,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(Phase::Start(stream), move |phase| async move {
        match phase {
            Phase::Done => None,
            Phase::Start(stream) => {
                let head = match format {
                    OutputFormat::Json => {
                        let columns: Vec<serde_json::Value> = stream
                            .schema()
                            .fields()
                            .iter()
                            .map(|field| {
                                serde_json::json!({
                                    "name": field.name(),
                                    "type": field.data_type().to_string(),
                                })
                            })
                            .collect();
                        format!("{{\"columns\":{},\"rows\":[", serde_json::Value::from(columns))
                    }
                    OutputFormat::Csv => {
                        let schema = stream.schema();
                        let names: Vec<&str> =
                            schema.fields().iter().map(|f| f.name().as_str()).collect();
                        csv_line(&names)
                    }
                    OutputFormat::Ndjson => String::new(),
                };
                Some((Ok(Bytes::from(head)), Phase::Rows(stream, true)))
            }
            Phase::Rows(mut stream, first) => match stream.next_batch().await {
                Some(Ok(batch)) => {
                    let chunk = encode(&batch, format, first);
                    match chunk {
                        Ok(bytes) => {
                            let first = first && batch.num_rows() == 0;
                            Some((Ok(Bytes::from(bytes)), Phase::Rows(stream, first)))
                        }
                        Err(error) => Some((Ok(tail(format, false, Some(&error))), Phase::Done)),
                    }
                }
                Some(Err(error)) => {
                    Some((Ok(tail(format, false, Some(&error.to_string()))), Phase::Done))
                }
                None => Some((Ok(tail(format, stream.truncated(), None)), Phase::Done)),
            },
        }
    })
}

/// The end of the body. JSON records the row cap and errors; the line formats can only stop
/// (an error ends the stream early; `x-palisade-max-rows` says where the cap was).
fn tail(format: OutputFormat, truncated: bool, error: Option<&str>) -> Bytes {
    match format {
        OutputFormat::Json => Bytes::from(format!(
            "],\"truncated\":{truncated},\"error\":{}}}\n",
            serde_json::Value::from(error)
        )),
        OutputFormat::Ndjson | OutputFormat::Csv => {
            if let Some(error) = error {
                tracing::warn!(%error, "query stopped while streaming");
            }
            Bytes::new()
        }
    }
}

fn encode(batch: &RecordBatch, format: OutputFormat, first: bool) -> Result<Vec<u8>, String> {
    match format {
        OutputFormat::Json | OutputFormat::Ndjson => {
            let mut lines = Vec::new();
            let mut writer = WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, LineDelimited>(&mut lines);
            writer.write(batch).map_err(|error| error.to_string())?;
            writer.finish().map_err(|error| error.to_string())?;
            drop(writer);
            if format == OutputFormat::Ndjson {
                return Ok(lines);
            }
            // Rows are one per line (JSON escapes newlines inside strings): join them with
            // commas, with one before the batch unless it opens the array.
            let mut out = Vec::with_capacity(lines.len() + batch.num_rows());
            for (idx, line) in
                lines.split(|byte| *byte == b'\n').filter(|l| !l.is_empty()).enumerate()
            {
                if !(first && idx == 0) {
                    out.push(b',');
                }
                out.extend_from_slice(line);
                out.push(b'\n');
            }
            Ok(out)
        }
        OutputFormat::Csv => {
            let mut out = Vec::new();
            let mut writer =
                datafusion::arrow::csv::WriterBuilder::new().with_header(false).build(&mut out);
            writer.write(batch).map_err(|error| error.to_string())?;
            drop(writer);
            Ok(out)
        }
    }
}

fn csv_line(cells: &[&str]) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|cell| {
            if cell.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", cell.replace('"', "\"\""))
            } else {
                (*cell).to_owned()
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}
