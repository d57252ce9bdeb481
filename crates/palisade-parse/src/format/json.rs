//! JSON input: one document, an array of documents, or JSON lines; each document in the
//! evtx_dump shape, the Winlogbeat shape or generic (ECS) JSON.

use palisade_event::{Event, Timestamp};
use serde_json::Value as Json;

use crate::error::{ParseError, Result};
use crate::format::windows;

/// Converts one JSON document into an event, recognising its shape.
#[must_use]
pub fn event_from_document(document: &Json) -> Event {
    if document.get("Event").is_some_and(|inner| inner.get("System").is_some())
        || document.get("System").is_some_and(Json::is_object)
    {
        return windows::from_evtx_json(document);
    }
    if document.get("winlog").is_some_and(Json::is_object) {
        return windows::from_winlogbeat_json(document);
    }
    if crate::suricata::looks_like(document) {
        return crate::suricata::from_json(document);
    }
    if crate::zeek::looks_like(document) {
        return crate::zeek::from_json(document);
    }
    if crate::cloudtrail::looks_like(document) {
        return crate::cloudtrail::from_json(document);
    }
    event_from_generic(document)
}

/// Converts a JSON document of no known source into an event: every field flattened to its
/// dotted name, and the time from `@timestamp`, `timestamp`, `time`, `eventTime` or `ts`
/// when one holds an RFC 3339 text.
#[must_use]
pub fn event_from_generic(document: &Json) -> Event {
    let mut fields = Vec::with_capacity(32);
    windows::flatten_into("", document, &mut fields);
    let mut event = Event::from_fields(fields);
    let timestamp = ["@timestamp", "timestamp", "time", "eventTime", "ts"]
        .iter()
        .find_map(|key| document.get(*key))
        .and_then(Json::as_str)
        .and_then(|text| text.parse::<Timestamp>().ok());
    event.set_timestamp(timestamp);
    event
}

/// Reads a JSON input: a single document, an array of documents, or JSON lines. Each item is
/// the event or the error of that line, so one bad line does not hide the rest.
#[must_use]
pub fn read_documents(bytes: &[u8]) -> Vec<Result<Event>> {
    let trimmed_start =
        bytes.iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(bytes.len());
    if bytes.get(trimmed_start) == Some(&b'[') {
        return match serde_json::from_slice::<Vec<Json>>(bytes) {
            Ok(documents) => documents.iter().flat_map(events_of_document).map(Ok).collect(),
            Err(error) => vec![Err(json_error(&error))],
        };
    }
    // A whole-stream read handles pretty-printed documents and JSON lines alike; when it
    // fails part-way, fall back to lines so that every good line is still read.
    let mut events = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Json>();
    loop {
        match stream.next() {
            None => return events,
            Some(Ok(document)) => events.extend(events_of_document(&document).into_iter().map(Ok)),
            Some(Err(_)) => break,
        }
    }
    read_lines(bytes)
}

/// The events of one document: one, or one per record of a CloudTrail log file.
fn events_of_document(document: &Json) -> Vec<Event> {
    match crate::source::cloudtrail_records(document) {
        Some(records) => records.iter().map(crate::cloudtrail::from_json).collect(),
        None => vec![event_from_document(document)],
    }
}

/// Reads JSON lines, one result per non-empty line.
#[must_use]
pub fn read_lines(bytes: &[u8]) -> Vec<Result<Event>> {
    bytes
        .split(|byte| *byte == b'\n')
        .enumerate()
        .filter(|(_, line)| line.iter().any(|byte| !byte.is_ascii_whitespace()))
        .flat_map(|(idx, line)| match crate::source::json_line_events(line) {
            Ok(events) => events.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(error) => vec![Err(ParseError::Json {
                line: idx + 1,
                column: error.column(),
                message: error.to_string(),
            })],
        })
        .collect()
}

fn json_error(error: &serde_json::Error) -> ParseError {
    ParseError::Json { line: error.line(), column: error.column(), message: error.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_lines_arrays_and_pretty_documents() {
        let lines = b"{\"a\": 1}\n{\"b\": {\"c\": \"x\"}}\n";
        let events = read_documents(lines);
        assert_eq!(events.len(), 2);
        let second = events[1].as_ref().expect("valid");
        assert_eq!(second.get_str("b.c").as_deref(), Some("x"));
        assert_eq!(read_documents(b"[{\"a\":1},{\"a\":2}]").len(), 2);
        assert_eq!(read_documents(b"{\n  \"a\": 1\n}\n").len(), 1);
    }

    #[test]
    fn a_bad_line_does_not_hide_the_others() {
        let events = read_documents(b"{\"a\": 1}\n{not json\n{\"a\": 3}\n");
        assert_eq!(events.len(), 3);
        assert!(events[1].is_err());
        assert!(events[2].is_ok());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read_documents(&bytes);
        }
    }
}
