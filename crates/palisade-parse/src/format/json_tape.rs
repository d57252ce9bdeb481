//! The quickest reading of the commonest JSON document: an object of scalars, nested objects
//! and arrays of scalars, as shippers send ECS records. simd-json finds every structural
//! character of the document in one SIMD pass and lays the values out on a flat tape, which
//! is then walked once into the event's fields. Anything else (a Windows `Event` or `winlog`
//! object, an array holding objects or arrays, nesting past [`super::json_fast`]'s limit, a
//! number beyond 64 bits, bytes that are not JSON) is left to the serde reader in
//! [`super::json_fast`], which gives the same event or the error.

use std::cell::RefCell;

use palisade_event::{Event, Str, Text, Timestamp, Value};
use simd_json::{Buffers, Node, StaticNode, Tape};

use super::json_fast::{MAX_DEPTH, TIME_KEYS, unsigned};

/// Documents longer than this are left to the serde reader: the buffers kept per thread for
/// the tape stay small.
const MAX_BYTES: usize = 64 << 10;

/// What a thread keeps from one document to the next: simd-json's buffers, the padded copy
/// of the document (simd-json writes unescaped strings into it) and the tape.
struct Kept {
    buffers: Buffers,
    input: Vec<u8>,
    tape: Option<Tape<'static>>,
    path: String,
}

thread_local! {
    static KEPT: RefCell<Kept> = RefCell::new(Kept {
        buffers: Buffers::new(1024),
        input: Vec::new(),
        tape: None,
        path: String::new(),
    });
}

/// Reads `bytes` into `fields` when it is a document of the common shape, with the event
/// time; `None` when it is not (and `fields` is left empty).
pub(super) fn read_into(bytes: &[u8], fields: &mut Vec<(Str, Value)>) -> Option<Option<Timestamp>> {
    if bytes.len() > MAX_BYTES {
        return None;
    }
    KEPT.with(|kept| {
        let mut kept = kept.try_borrow_mut().ok()?;
        let Kept { buffers, input, tape, path } = &mut *kept;
        input.clear();
        input.extend_from_slice(bytes);
        input.resize(bytes.len() + simd_json::INPUT_PADDING, 0);
        let mut filled: Tape<'_> = tape.take().map_or_else(Tape::null, Tape::reset);
        let read = simd_json::fill_tape_padded(input, bytes.len(), buffers, &mut filled)
            .ok()
            .and_then(|()| walk(&filled.0, path, fields));
        *tape = Some(filled.reset());
        if read.is_none() {
            fields.clear();
        }
        read
    })
}

/// Walks a tape whose first node is the document's object. The time is that of the best
/// ranked time key holding text, as the serde reader takes it, parsed when it is found (no
/// copy of the text is kept).
fn walk(
    nodes: &[Node<'_>],
    path: &mut String,
    fields: &mut Vec<(Str, Value)>,
) -> Option<Option<Timestamp>> {
    let Some(&Node::Object { len, .. }) = nodes.first() else { return None };
    let mut time: Option<(usize, Option<Timestamp>)> = None;
    let mut at = 1;
    for _ in 0..len {
        let Node::String(key) = nodes[at] else { return None };
        if key == "Event" || key == "winlog" {
            return None;
        }
        at += 1;
        let before = fields.len();
        path.clear();
        path.push_str(key);
        at = value(nodes, at, path, fields, MAX_DEPTH - 1)?;
        if let Some(rank) = TIME_KEYS.iter().position(|time_key| *time_key == key)
            && fields.len() == before + 1
            && time.as_ref().is_none_or(|(best, _)| rank < *best)
            && let Value::Str(text) = &fields[before].1
        {
            time = Some((rank, text.as_str().parse::<Timestamp>().ok()));
        }
    }
    Some(time.and_then(|(_, parsed)| parsed))
}

/// Flattens the value at `nodes[at]` under `path`, as the serde reader does; the index of the
/// node after it, or `None` for a shape left to the serde reader.
fn value(
    nodes: &[Node<'_>],
    at: usize,
    path: &mut String,
    fields: &mut Vec<(Str, Value)>,
    depth: u16,
) -> Option<usize> {
    match nodes[at] {
        Node::Object { len, .. } => {
            let depth = depth.checked_sub(1)?;
            let base = path.len();
            let mut at = at + 1;
            for _ in 0..len {
                let Node::String(key) = nodes[at] else { return None };
                path.truncate(base);
                if base > 0 {
                    path.push('.');
                }
                path.push_str(key);
                at = value(nodes, at + 1, path, fields, depth)?;
            }
            path.truncate(base);
            Some(at)
        }
        Node::Array { len, .. } => {
            depth.checked_sub(1)?;
            let items = nodes.get(at + 1..at + 1 + len)?;
            let list = items.iter().map(scalar).collect::<Option<Vec<Value>>>()?;
            fields.push((Str::copy(path), Value::List(list)));
            Some(at + 1 + len)
        }
        ref node => {
            fields.push((Str::copy(path), scalar(node)?));
            Some(at + 1)
        }
    }
}

/// A scalar node as a value, as the serde reader makes it; `None` for an object or array.
fn scalar(node: &Node<'_>) -> Option<Value> {
    Some(match *node {
        Node::String(text) => Value::Str(Text::new(text)),
        Node::Static(StaticNode::I64(number)) => Value::Int(number),
        Node::Static(StaticNode::U64(number)) => unsigned(number),
        Node::Static(StaticNode::F64(number)) => Value::Float(number),
        Node::Static(StaticNode::Bool(flag)) => Value::Bool(flag),
        Node::Static(StaticNode::Null) => Value::Null,
        Node::Object { .. } | Node::Array { .. } => return None,
    })
}

/// The event of a document read by [`read_into`], with its time.
pub(super) fn event(fields: Vec<(Str, Value)>, time: Option<Timestamp>) -> Event {
    let mut event = Event::from_fields(fields);
    event.set_timestamp(time);
    event
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value as Json;

    use super::super::json_fast::tests::json_value;
    use super::*;

    /// The event the tape gives, or `None` where it leaves the document to serde.
    fn tape_event(text: &str) -> Option<Event> {
        let mut fields = Vec::new();
        read_into(text.as_bytes(), &mut fields).map(|time| event(fields, time))
    }

    fn value_path(text: &str) -> Event {
        let document: Json = serde_json::from_str(text).expect("valid");
        super::super::json::event_from_document(&document)
    }

    /// What shippers send is read from the tape; the shapes it leaves to serde are left.
    #[test]
    fn common_documents_are_read_and_the_rest_left() {
        for text in [
            r#"{"@timestamp":"2025-12-01T00:00:00Z","event":{"category":["authentication"],"outcome":"failure"},"user":{"name":"alice"},"source":{"ip":"203.0.113.9","port":55779},"bench":{"seq":0},"f":1.5,"t":true,"n":null}"#,
            r#"{"a\u0062": 1, "q\"k": {"in\\ner": "v", "plain": 2}, "@time\u0073tamp": "2024-01-01T00:00:00Z"}"#,
            r#"{"e": [], "m": [1, "a", null, true, 1.5, -3], "ts": "not a time", "time": "2024-05-01T10:00:00Z"}"#,
            r#"{"dup": 1, "dup": "two", "x": {"dup": 3}}"#,
            "{}",
        ] {
            let read = tape_event(text).unwrap_or_else(|| panic!("left to serde: {text}"));
            // The serde reader, not the value path: a name given twice is kept as a list of
            // both values by both readers, where a `serde_json::Value` keeps the last.
            let expected = super::super::json_fast::event_from_serde(text.as_bytes(), Vec::new())
                .expect("valid");
            assert_eq!(read, expected, "{text}");
            assert_eq!(read.timestamp(), expected.timestamp(), "{text}");
        }
        for text in [
            r#"{"Event": {"System": {"EventID": 4624}}}"#,
            r#"{"winlog": {"channel": "Security"}}"#,
            r#"{"list": [{"x": 1}]}"#,
            r#"{"list": [1, [2]]}"#,
            r#"{"big": 18446744073709551616}"#,
            r#"["not", "an", "object"]"#,
            r#""text""#,
            r#"{"a": 1"#,
            "{\"a\": \"\u{ff}\"} trailing",
        ] {
            assert!(tape_event(text).is_none(), "read from the tape: {text}");
        }
        assert!(read_into(b"{\"a\":\"\xff\"}", &mut Vec::new()).is_none(), "not UTF-8");
        let deep = format!(r#"{{"d":{}1{}}}"#, r#"{"a":"#.repeat(200), "}".repeat(200));
        assert!(tape_event(&deep).is_none(), "deeper than the serde reader allows");
    }

    /// Odd numbers, strings and bytes: what the tape reads, the serde reader reads the same;
    /// what the serde reader refuses, the tape leaves to it.
    #[test]
    fn odd_documents_read_as_serde_reads_them() {
        let mut wrong = Vec::new();
        for text in [
            r#"{"n": -0.0}"#,
            r#"{"n": 1e400}"#,
            r#"{"n": -1e400}"#,
            r#"{"n": 1e-400}"#,
            r#"{"n": 123456789012345678901234567890}"#,
            r#"{"n": 1.0}"#,
            r#"{"n": 1E5}"#,
            r#"{"n": -9223372036854775808}"#,
            r#"{"n": -9223372036854775809}"#,
            r#"{"n": 18446744073709551615}"#,
            r#"{"n": 0.1000000000000000055511151231257827}"#,
            r#"{"n": 01}"#,
            r#"{"n": 1.}"#,
            r#"{"n": .5}"#,
            r#"{"n": +1}"#,
            r#"{"n": NaN}"#,
            r#"{"s": "\ud800"}"#,
            r#"{"s": "\udc00\ud800"}"#,
            r#"{"s": "\ud83d\ude00"}"#,
            r#"{"s": "\x"}"#,
            "{\"s\": \"raw\nnewline\"}",
            "{\"s\": \"tab\tinside\"}",
            "{\"s\": \"nul\u{0}\"}",
            r#"{"a": 1,}"#,
            r#"{"a": 1} {"b": 2}"#,
            "\u{feff}{\"a\": 1}",
            " \t\r\n{\"a\" : 1 } \n",
            r#"{"a": true, "b": false, "c": nul}"#,
        ] {
            let serde = super::super::json_fast::event_from_serde(text.as_bytes(), Vec::new());
            if let Some(read) = tape_event(text) {
                match serde {
                    Ok(serde) if serde == read => {}
                    Ok(serde) => wrong.push(format!("{text}: tape {read:?}, serde {serde:?}")),
                    Err(error) => {
                        wrong.push(format!("{text}: tape read it, serde refused: {error}"))
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
        // The one difference: an integer written `-0` is the integer zero on the tape, where
        // serde's readers make it a float zero.
        assert_eq!(
            tape_event(r#"{"n": -0}"#).and_then(|event| event.get("n").cloned()),
            Some(Value::Int(0))
        );
    }

    proptest! {
        /// Whatever the tape reads is the event the value path gives, time included.
        #[test]
        fn agrees_with_the_value_path(
            fields in proptest::collection::btree_map(
                "[a-z@]{1,4}|timestamp|time|ts",
                json_value(any::<f64>().prop_filter("finite", |v| v.is_finite()).boxed(), "[a-z@]{1,3}"),
                0..6,
            )
        ) {
            let text = Json::Object(fields.into_iter().collect()).to_string();
            if let Some(read) = tape_event(&text) {
                let expected = value_path(&text);
                prop_assert_eq!(&read, &expected, "{}", text);
                prop_assert_eq!(read.timestamp(), expected.timestamp());
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = read_into(&bytes, &mut Vec::new());
        }
    }
}
