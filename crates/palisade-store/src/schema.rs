//! The Parquet/Arrow schema of stored events.
//!
//! Typed columns hold the ECS core fields that hunters filter and group on; everything else
//! of an event is kept in `_source`, a JSON object of the remaining flattened fields, so no
//! field is lost and any can still be reached (`json_get`-style functions, or `LIKE` on the
//! text). `event.original` keeps the raw input when the parser had it. The layout decision
//! is recorded in docs/adr/0002-event-store-layout.md.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use palisade_event::{Event, Value};

/// The event time column.
pub const TIMESTAMP: &str = "@timestamp";
/// The column with every field that has no typed column, as a JSON object.
pub const SOURCE: &str = "_source";
/// The event's sequence number in the store: its id, which alerts cite as evidence. Null only
/// in segments written before the column existed.
pub const SEQ: &str = "_seq";

/// Typed string columns, in schema order.
pub const STRING_COLUMNS: &[&str] = &[
    "event.dataset",
    "event.kind",
    "event.category",
    "event.type",
    "event.action",
    "event.outcome",
    "event.code",
    "host.name",
    "user.name",
    "source.ip",
    "destination.ip",
    "network.transport",
    "process.name",
    "process.executable",
    "process.command_line",
    "process.parent.executable",
    "dns.question.name",
    "dns.question.type",
    "url.original",
    "url.domain",
    "http.request.method",
    "user_agent.original",
    "file.path",
    "file.hash.sha256",
    "message",
    "event.original",
];

/// Typed integer columns, in schema order.
pub const INT_COLUMNS: &[&str] =
    &["source.port", "destination.port", "process.pid", "http.response.status_code"];

/// Columns that get Parquet bloom filters: the values hunters look up one at a time.
pub const BLOOM_COLUMNS: &[&str] = &[
    "host.name",
    "user.name",
    "source.ip",
    "destination.ip",
    "dns.question.name",
    "url.domain",
    "file.hash.sha256",
    "process.name",
];

/// Returns the schema of the `events` table.
#[must_use]
pub fn schema() -> SchemaRef {
    let mut fields = vec![Field::new(
        TIMESTAMP,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        false,
    )];
    fields.extend(STRING_COLUMNS.iter().map(|name| Field::new(*name, DataType::Utf8, true)));
    fields.extend(INT_COLUMNS.iter().map(|name| Field::new(*name, DataType::Int64, true)));
    fields.push(Field::new(SOURCE, DataType::Utf8, true));
    fields.push(Field::new(SEQ, DataType::Int64, true));
    Arc::new(Schema::new(fields))
}

/// Microseconds since the epoch of an event, falling back to `default` (the ingest time) for
/// events without a time.
#[must_use]
pub fn event_micros(event: &Event, default: i64) -> i64 {
    event.timestamp().map_or(default, |ts| ts.as_microsecond())
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::List(items) => {
            let parts: Vec<String> =
                items.iter().filter_map(|item| item.to_text().map(|t| t.into_owned())).collect();
            (!parts.is_empty()).then(|| parts.join(","))
        }
        other => other.to_text().map(std::borrow::Cow::into_owned),
    }
}

fn int_of(value: &Value) -> Option<i64> {
    match value {
        Value::Int(int) => Some(*int),
        Value::Str(text) => text.as_str().trim().parse().ok(),
        #[allow(clippy::cast_possible_truncation)]
        Value::Float(float) if float.fract() == 0.0 => Some(*float as i64),
        _ => None,
    }
}

/// Converts events, with their sequence numbers, into one record batch of the store schema.
/// `default_micros` is used for events without a timestamp.
///
/// # Panics
/// Never in practice: the arrays are built to the schema's own types.
#[must_use]
pub fn to_batch(events: &[(u64, &Event)], default_micros: i64) -> RecordBatch {
    let mut timestamps =
        TimestampMicrosecondBuilder::with_capacity(events.len()).with_timezone("UTC");
    let mut strings: Vec<StringBuilder> =
        STRING_COLUMNS.iter().map(|_| StringBuilder::new()).collect();
    let mut ints: Vec<Int64Builder> =
        INT_COLUMNS.iter().map(|_| Int64Builder::with_capacity(events.len())).collect();
    let mut sources = StringBuilder::new();
    let mut seqs = Int64Builder::with_capacity(events.len());
    let mut json = Vec::with_capacity(1024);
    for &(seq, event) in events {
        seqs.append_value(i64::try_from(seq).unwrap_or(i64::MAX));
        timestamps.append_value(event_micros(event, default_micros));
        for (idx, name) in STRING_COLUMNS.iter().enumerate() {
            strings[idx].append_option(event.get(name).and_then(text_of));
        }
        for (idx, name) in INT_COLUMNS.iter().enumerate() {
            ints[idx].append_option(event.get(name).and_then(int_of));
        }
        let mut rest: Vec<(&str, &Value)> = event
            .fields()
            .filter(|(name, value)| {
                // A typed column that could not hold the value (e.g. a non-numeric port) keeps
                // it in `_source`, so nothing is lost.
                let typed_string = STRING_COLUMNS.contains(name);
                let typed_int = INT_COLUMNS.contains(name) && int_of(value).is_some();
                !(typed_string || typed_int)
            })
            .collect();
        rest.sort_by(|left, right| left.0.cmp(right.0));
        json.clear();
        let mut serializer = serde_json::Serializer::new(&mut json);
        // Writing plain data into a Vec cannot fail.
        let _ = serde::Serializer::collect_map(&mut serializer, rest);
        sources.append_value(String::from_utf8_lossy(&json));
    }
    let mut columns: Vec<ArrayRef> = vec![Arc::new(timestamps.finish())];
    columns.extend(strings.iter_mut().map(|builder| Arc::new(builder.finish()) as ArrayRef));
    columns.extend(ints.iter_mut().map(|builder| Arc::new(builder.finish()) as ArrayRef));
    columns.push(Arc::new(sources.finish()));
    columns.push(Arc::new(seqs.finish()));
    #[allow(clippy::expect_used)]
    RecordBatch::try_new(schema(), columns).expect("arrays match the schema")
}
