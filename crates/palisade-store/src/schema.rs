//! The Parquet/Arrow schema of stored events.
//!
//! Typed columns hold the ECS core fields that hunters filter and group on; everything else
//! of an event is kept in `_source`, a JSON object of the remaining flattened fields, so no
//! field is lost and any can still be reached (`json_get`-style functions, or `LIKE` on the
//! text). `event.original` keeps the raw input when the parser had it. The layout decision
//! is recorded in docs/adr/0002-event-store-layout.md.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Int64Array, Int64Builder, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondArray, TimestampMicrosecondBuilder,
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

/// Typed columns whose values are ECS arrays: stored joined with `,` (their values never hold
/// one), split again when read back.
const LIST_COLUMNS: &[&str] = &["event.category", "event.type"];

fn json_value(json: &serde_json::Value) -> Option<Value> {
    match json {
        serde_json::Value::Array(items) => {
            Some(Value::List(items.iter().filter_map(json_value).collect()))
        }
        serde_json::Value::Null => Some(Value::Null),
        serde_json::Value::Object(_) => Some(Value::from(json.to_string())),
        scalar => Value::from_json_scalar(scalar),
    }
}

/// Turns rows of `SELECT * FROM events` back into events with their sequence numbers (`0`
/// for rows of segments older than the `_seq` column), so that detection can run over stored
/// history (`palisade rules replay`). Typed columns and `_source` give back every field; a
/// list in a typed column other than `event.category` and `event.type` comes back as the
/// joined text it was stored as.
#[must_use]
pub fn from_batch(batch: &RecordBatch) -> Vec<(u64, Event)> {
    let schema = batch.schema();
    let column = |name: &str| schema.index_of(name).ok().map(|idx| batch.column(idx));
    let times = column(TIMESTAMP)
        .and_then(|array| array.as_any().downcast_ref::<TimestampMicrosecondArray>().cloned());
    let seqs = column(SEQ).and_then(|array| array.as_any().downcast_ref::<Int64Array>().cloned());
    let sources =
        column(SOURCE).and_then(|array| array.as_any().downcast_ref::<StringArray>().cloned());
    let strings: Vec<(&str, Option<StringArray>)> = STRING_COLUMNS
        .iter()
        .map(|name| {
            (*name, column(name).and_then(|a| a.as_any().downcast_ref::<StringArray>().cloned()))
        })
        .collect();
    let ints: Vec<(&str, Option<Int64Array>)> = INT_COLUMNS
        .iter()
        .map(|name| {
            (*name, column(name).and_then(|a| a.as_any().downcast_ref::<Int64Array>().cloned()))
        })
        .collect();
    (0..batch.num_rows())
        .map(|row| {
            let mut fields: Vec<(Box<str>, Value)> = Vec::new();
            for (name, array) in &strings {
                let Some(array) = array else { continue };
                if array.is_null(row) {
                    continue;
                }
                let text = array.value(row);
                let value = if LIST_COLUMNS.contains(name) {
                    Value::List(text.split(',').map(Value::from).collect())
                } else {
                    Value::from(text)
                };
                fields.push(((*name).into(), value));
            }
            for (name, array) in &ints {
                if let Some(array) = array
                    && !array.is_null(row)
                {
                    fields.push(((*name).into(), Value::Int(array.value(row))));
                }
            }
            if let Some(sources) = &sources
                && !sources.is_null(row)
                && let Ok(serde_json::Value::Object(map)) =
                    serde_json::from_str::<serde_json::Value>(sources.value(row))
            {
                for (name, json) in &map {
                    if let Some(value) = json_value(json) {
                        fields.push((name.as_str().into(), value));
                    }
                }
            }
            let mut event = Event::from_fields(fields);
            if let Some(times) = &times
                && !times.is_null(row)
            {
                event.set_timestamp(
                    palisade_event::Timestamp::from_microsecond(times.value(row)).ok(),
                );
            }
            let seq = seqs
                .as_ref()
                .filter(|array| !array.is_null(row))
                .map_or(0, |array| u64::try_from(array.value(row)).unwrap_or(0));
            (seq, event)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_back_from_their_rows() {
        let mut event = Event::from_fields(vec![
            (
                "event.category".into(),
                Value::List(vec![Value::from("authentication"), Value::from("session")]),
            ),
            ("event.outcome".into(), Value::from("failure")),
            ("source.ip".into(), Value::from("198.51.100.4")),
            ("source.port".into(), Value::Int(2222)),
            ("destination.port".into(), Value::from("not a port")),
            ("EventID".into(), Value::Int(4625)),
            (
                "related.ip".into(),
                Value::List(vec![Value::from("198.51.100.4"), Value::from("10.0.0.1")]),
            ),
            ("nested.flag".into(), Value::Bool(true)),
        ]);
        event.set_timestamp(palisade_event::Timestamp::from_second(1_800_000_000).ok());
        let batch = to_batch(&[(42, &event)], 0);
        let back = from_batch(&batch);
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].0, 42);
        assert_eq!(back[0].1, event);
    }
}
