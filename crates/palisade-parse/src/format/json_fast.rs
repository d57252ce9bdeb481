//! Direct JSON-to-event reading: the document is flattened while it is deserialized, with no
//! intermediate `serde_json::Value` tree. This is the hot path for JSON lines (generic, ECS and
//! flat Windows events); the nested Windows shapes (`Event` and `winlog` objects) are captured
//! as values and handed to the Windows flattening, so every shape gives the same event as
//! [`super::json::event_from_document`].

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use palisade_event::{Event, Str, Text, Timestamp, Value};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;

use crate::format::windows;

/// How deeply objects and arrays may nest in a document, as serde_json allowed. Each level
/// is a frame of the visitors below, and sonic-rs alone would allow 255 of them.
pub(super) const MAX_DEPTH: u16 = 128;

/// Keys whose top-level string value is taken as the event time, in order of preference.
pub(super) const TIME_KEYS: [&str; 5] = ["@timestamp", "timestamp", "time", "eventTime", "ts"];

/// Reads one JSON document into an event.
///
/// # Errors
/// Returns the JSON error when the document is not valid JSON.
pub fn event_from_slice(bytes: &[u8]) -> Result<Event, serde_json::Error> {
    let mut fields = Vec::with_capacity(LAST_WIDTH.get() + palisade_event::SPARE_FIELDS);
    // Most documents are objects of scalars, objects and arrays of scalars: read from a
    // simd-json tape. The others, and every error, go through serde below.
    if let Some(time) = super::json_tape::read_into(bytes, &mut fields) {
        LAST_WIDTH.set(fields.len().min(MAX_HINTED_WIDTH));
        return Ok(super::json_tape::event(fields, time));
    }
    event_from_serde(bytes, fields)
}

/// Reads a document through serde's visitors, into `fields` (empty, with room reserved).
pub(super) fn event_from_serde(
    bytes: &[u8],
    fields: Vec<(Str, Value)>,
) -> Result<Event, serde_json::Error> {
    // sonic-rs finds the ends of strings and checks UTF-8 many bytes at a time, and rounds
    // numbers correctly. In the server, reading a `_bulk` login took 3 % fewer instructions
    // than serde_json reading it as text (16,800 to 16,300 a document). The visitors are
    // serde's, so the event is the same; errors are given as serde_json's type.
    let mut deserializer = sonic_rs::Deserializer::from_slice(bytes);
    read(&mut deserializer, fields)
        .and_then(|event| deserializer.end().map(|()| event))
        .map_err(serde::de::Error::custom)
}

thread_local! {
    /// How many fields the last document of this thread had: documents of one stream are
    /// alike, so the next one's vector starts at about its size, not at four fields doubled
    /// three times and then grown once more by the event (a copy each time).
    static LAST_WIDTH: Cell<usize> = const { Cell::new(0) };
    /// The buffer of dotted names, kept from one document to the next: each document grew a
    /// new one twice.
    static PATH: Cell<String> = const { Cell::new(String::new()) };
}

/// Names longer than this do not keep their buffer for the next document.
const MAX_KEPT_PATH: usize = 4096;

/// Wider documents than this do not set the next one's starting room.
const MAX_HINTED_WIDTH: usize = 256;

fn read<'de, D: Deserializer<'de>>(
    deserializer: D,
    fields: Vec<(Str, Value)>,
) -> Result<Event, D::Error> {
    let mut state = Top { fields, path: PATH.take(), ..Top::default() };
    let read = TopSeed(&mut state).deserialize(deserializer);
    let path = std::mem::take(&mut state.path);
    if path.capacity() <= MAX_KEPT_PATH {
        PATH.set(path);
    }
    read?;
    LAST_WIDTH.set(state.fields.len().min(MAX_HINTED_WIDTH));
    Ok(state.finish())
}

/// An object key, borrowed from the document when it has no escape. serde's own
/// `Cow<str>` always deserializes as an owned `String`: an allocation for every key of
/// every document.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, value: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(value)))
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(value)))
    }
}

#[derive(Default)]
struct Top {
    fields: Vec<(Str, Value)>,
    windows_event: Option<Json>,
    winlog: Option<Json>,
    time: Option<(usize, String)>,
    scalar_document: bool,
    /// The dotted name being read, shared by every level of the document: a nested object
    /// appends its keys to it and takes them off again, so no level allocates a name.
    path: String,
}

impl Top {
    fn finish(mut self) -> Event {
        if let Some(inner) = self.windows_event.take()
            && inner.get("System").is_some()
        {
            return windows::from_evtx_json(&serde_json::json!({ "Event": inner }));
        }
        if let Some(winlog) = self.winlog.take() {
            windows::winlog_fields(&winlog, &mut self.fields);
            windows::flatten_into("winlog", &winlog, &mut self.fields);
        }
        let mut event = Event::from_fields(self.fields);
        event.set_timestamp(self.time.and_then(|(_, text)| text.parse::<Timestamp>().ok()));
        event
    }
}

struct TopSeed<'a>(&'a mut Top);

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match key.as_ref() {
                "Event" if state.windows_event.is_none() => {
                    let value = map.next_value_seed(JsonSeed(MAX_DEPTH - 1))?;
                    if value.is_object() && value.get("System").is_some() {
                        state.windows_event = Some(value);
                    } else {
                        windows::flatten_into("Event", &value, &mut state.fields);
                    }
                }
                "winlog" if state.winlog.is_none() => {
                    let value = map.next_value_seed(JsonSeed(MAX_DEPTH - 1))?;
                    if value.is_object() {
                        state.winlog = Some(value);
                    } else {
                        windows::flatten_into("winlog", &value, &mut state.fields);
                    }
                }
                name => {
                    let rank = TIME_KEYS.iter().position(|time_key| *time_key == name);
                    let before = state.fields.len();
                    state.path.clear();
                    state.path.push_str(name);
                    map.next_value_seed(FieldSeed {
                        path: &mut state.path,
                        fields: &mut state.fields,
                        depth: MAX_DEPTH - 1,
                    })?;
                    if let Some(rank) = rank
                        && state.fields.len() == before + 1
                        && state.time.as_ref().is_none_or(|(best, _)| rank < *best)
                        && let Value::Str(text) = &state.fields[before].1
                    {
                        state.time = Some((rank, text.as_str().to_owned()));
                    }
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // A top-level array is not one event; keep it whole under `message` rather than lose it.
        self.0.scalar_document = true;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(JsonSeed(MAX_DEPTH - 1))? {
            items.push(item);
        }
        let text = Json::Array(items).to_string();
        self.0.fields.push(("message".into(), Value::Str(Text::new(text))));
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<(), E> {
        self.0.scalar_document = true;
        self.0.fields.push(("message".into(), Value::Str(Text::new(value))));
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<(), E> {
        self.0.fields.push(("message".into(), Value::Int(value)));
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<(), E> {
        self.0.fields.push(("message".into(), unsigned(value)));
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<(), E> {
        self.0.fields.push(("message".into(), Value::Float(value)));
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<(), E> {
        self.0.fields.push(("message".into(), Value::Bool(value)));
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

pub(super) fn unsigned(value: u64) -> Value {
    i64::try_from(value).map_or_else(|_| Value::Str(Text::new(value.to_string())), Value::Int)
}

/// Flattens one value at `path`: objects into dotted names, arrays of scalars into lists, arrays
/// of objects into repeated names (merged into lists by [`Event::from_fields`]).
struct FieldSeed<'p, 'f> {
    /// The value's dotted name; left as it was found once the value is read.
    path: &'p mut String,
    fields: &'f mut Vec<(Str, Value)>,
    /// How many more levels of objects and arrays may open below this value.
    depth: u16,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<(), E> {
        self.fields.push((Str::copy(self.path), Value::Str(Text::new(value))));
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<(), E> {
        self.fields.push((Str::copy(self.path), Value::Int(value)));
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<(), E> {
        self.fields.push((Str::copy(self.path), unsigned(value)));
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<(), E> {
        self.fields.push((Str::copy(self.path), Value::Float(value)));
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<(), E> {
        self.fields.push((Str::copy(self.path), Value::Bool(value)));
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.fields.push((Str::copy(self.path), Value::Null));
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let depth = deeper::<A::Error>(self.depth)?;
        let base = self.path.len();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            self.path.truncate(base);
            if base > 0 {
                self.path.push('.');
            }
            self.path.push_str(&key);
            map.next_value_seed(FieldSeed {
                path: &mut *self.path,
                fields: &mut *self.fields,
                depth,
            })?;
        }
        self.path.truncate(base);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // As the value path flattens an array: one list when every item is a scalar; once an
        // item is an object or an array, each item on its own, in order (repeated names are
        // merged into one list by `Event::from_fields`).
        let depth = deeper::<A::Error>(self.depth)?;
        let mut scalars = Vec::new();
        let mut nested = false;
        while let Some(item) = seq.next_element_seed(ItemVisitor(depth))? {
            match item {
                Item::Scalar(value) if !nested => scalars.push(value),
                Item::Scalar(value) => self.fields.push((Str::copy(self.path), value)),
                Item::Nested(item) => {
                    if !nested {
                        nested = true;
                        for value in scalars.drain(..) {
                            self.fields.push((Str::copy(self.path), value));
                        }
                    }
                    windows::flatten_into(self.path, &item, self.fields);
                }
            }
        }
        if !nested {
            self.fields.push((Str::copy(self.path), Value::List(scalars)));
        }
        Ok(())
    }
}

/// An array's item: a scalar read straight into a value, as [`Value::from_json_scalar`] would
/// give it (a `serde_json::Value` on the way cost a string copy and two allocations for a
/// list like `"category": ["authentication"]`), or an object or array kept as JSON for
/// flattening.
enum Item {
    Scalar(Value),
    Nested(Json),
}

/// Reads an array's item, with how many levels may still open in it.
struct ItemVisitor(u16);

impl<'de> DeserializeSeed<'de> for ItemVisitor {
    type Value = Item;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Item, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Item, E> {
        Ok(Item::Scalar(Value::Str(Text::new(value))))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Item, E> {
        Ok(Item::Scalar(Value::Int(value)))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Item, E> {
        Ok(Item::Scalar(unsigned(value)))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Item, E> {
        Ok(Item::Scalar(Value::Float(value)))
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Item, E> {
        Ok(Item::Scalar(Value::Bool(value)))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Item, E> {
        Ok(Item::Scalar(Value::Null))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item, A::Error> {
        JsonSeed(self.0).visit_map(map).map(Item::Nested)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Item, A::Error> {
        JsonSeed(self.0).visit_seq(seq).map(Item::Nested)
    }
}

/// The depth left below a value that opens one more level, or the error when none is left.
fn deeper<E: serde::de::Error>(depth: u16) -> Result<u16, E> {
    depth.checked_sub(1).ok_or_else(|| E::custom("objects and arrays nested too deeply"))
}

/// A value kept whole as JSON (a Windows `Event` or `winlog` object, an array's object),
/// read as `serde_json::Value` reads itself but within the depth left to it.
struct JsonSeed(u16);

impl<'de> DeserializeSeed<'de> for JsonSeed {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonSeed {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Json, E> {
        Ok(Json::String(value.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<Json, E> {
        Ok(Json::String(value))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Json, E> {
        Ok(Json::from(value))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Json, E> {
        Ok(Json::from(value))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Json::Null, Json::Number))
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Json, E> {
        Ok(Json::Bool(value))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let depth = deeper::<A::Error>(self.0)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(JsonSeed(depth))? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let depth = deeper::<A::Error>(self.0)?;
        let mut object = serde_json::Map::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let value = map.next_value_seed(JsonSeed(depth))?;
            object.insert(key.into_owned(), value);
        }
        Ok(Json::Object(object))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn both(text: &str) -> (Event, Event) {
        let fast = event_from_slice(text.as_bytes()).expect("valid");
        let document: Json = serde_json::from_str(text).expect("valid");
        (fast, super::super::json::event_from_document(&document))
    }

    #[test]
    fn same_events_as_the_value_path() {
        for text in [
            r#"{"a": 1, "b": {"c": "X", "d": [1, 2]}, "@timestamp": "2024-01-01T00:00:00Z"}"#,
            r#"{"Channel": "Security", "EventID": 4624, "TargetUserName": "Bob", "n": null}"#,
            r##"{"Event": {"System": {"Channel": "System", "EventID": {"#text": 7045}}, "EventData": {"ServiceName": "x"}}}"##,
            r#"{"@timestamp": "2024-01-01T00:00:00Z", "winlog": {"channel": "Security", "event_id": "4688", "event_data": {"NewProcessName": "C:\\a.exe"}}, "host": {"name": "h"}}"#,
            r#"{"list": [{"x": 1}, {"x": 2}], "big": 18446744073709551615, "f": 1.5, "t": true}"#,
            // Arrays of every kind of item, nested arrays and objects among them.
            r#"{"m": [1, "a", null, true, 1.5, 18446744073709551615, -3, [2, [3]], {"k": "v"}], "e": [], "o": [{"p": [{"q": 1}]}]}"#,
            // Keys with escapes are read owned, the others borrowed: the same names either way.
            r#"{"a\u0062": 1, "q\"k": {"in\\ner": "v", "plain": 2}, "@time\u0073tamp": "2024-01-01T00:00:00Z"}"#,
        ] {
            let (fast, slow) = both(text);
            assert_eq!(fast, slow, "{text}");
            assert_eq!(fast.timestamp(), slow.timestamp(), "{text}");
        }
    }

    /// Bytes that are not UTF-8 are refused inside a string, whether they come first or
    /// after text that is; escapes and other scripts read the same either way.
    #[test]
    fn utf8_is_checked_once_or_per_string() {
        assert!(event_from_slice(b"{\"a\":\"\xff\"}").is_err());
        assert!(event_from_slice(b"{\"a\":\"ok\",\"b\":\"caf\xc3\"}").is_err());
        let (fast, slow) = both(r#"{"a":"caf\u00e9 \ud83d\ude00","b":"é ✓","c":"\"q\""}"#);
        assert_eq!(fast, slow);
        assert_eq!(fast.get_str("a").as_deref(), Some("café 😀"));
        assert_eq!(fast.get_str("c").as_deref(), Some("\"q\""));
    }

    /// Nesting deeper than the reader allows is an error, not a stack overflow.
    #[test]
    fn deep_nesting_is_refused() {
        for (open, close) in [("[", "]"), (r#"{"a":"#, "}")] {
            let text = format!(r#"{{"d":{}1{}}}"#, open.repeat(100_000), close.repeat(100_000));
            assert!(event_from_slice(text.as_bytes()).is_err());
        }
    }

    /// Any JSON value, objects and arrays nested a few levels deep, with `floats` for its
    /// numbers with a fraction and names from the pattern `keys`. The tape's tests use it too.
    pub(in crate::format) fn json_value(
        floats: BoxedStrategy<f64>,
        keys: &'static str,
    ) -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(Json::from),
            any::<u64>().prop_map(Json::from),
            floats.prop_map(Json::from),
            "\\PC{0,6}".prop_map(Json::from),
            any::<bool>().prop_map(Json::from),
            Just(Json::Null),
        ];
        leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                proptest::collection::btree_map(keys, inner, 0..4)
                    .prop_map(|object| Json::Object(object.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Nested objects, arrays of scalars, of objects and of arrays, mixed: the same event
        /// as the value path gives.
        #[test]
        fn agrees_with_the_value_path_on_nested_documents(
            fields in proptest::collection::btree_map("[a-z]{1,4}", json_value((-1e9_f64..1e9).boxed(), "[a-z]{1,3}"), 0..6)
        ) {
            let text = Json::Object(fields.into_iter().collect()).to_string();
            let (fast, slow) = both(&text);
            prop_assert_eq!(&fast, &slow, "{}", text);
            prop_assert_eq!(fast.timestamp(), slow.timestamp());
        }

        /// A number arrives as the same `f64` it was written from, but for the sign of zero:
        /// the reader rounds correctly (serde_json's default reader was off by one unit in the last place for
        /// some values, such as -113095884.30218923).
        #[test]
        fn floats_arrive_exactly(value in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
            let text = format!(r#"{{"x": {}}}"#, Json::from(value));
            let event = event_from_slice(text.as_bytes()).expect("valid");
            match event.get("x") {
                // Zero's sign is the one thing not kept: sonic-rs reads `-0.0` as `0.0`.
                Some(Value::Float(read)) if *read == 0.0 => prop_assert_eq!(value, 0.0),
                Some(Value::Float(read)) => prop_assert_eq!(read.to_bits(), value.to_bits(), "{}", text),
                // Whole numbers are written without a point and read as integers.
                Some(Value::Int(read)) => prop_assert_eq!(*read as f64, value, "{}", text),
                other => prop_assert!(false, "{text}: {other:?}"),
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = event_from_slice(&bytes);
        }

        #[test]
        fn agrees_with_the_value_path_on_flat_objects(
            fields in proptest::collection::btree_map("[a-zA-Z_@.]{1,8}", prop_oneof![
                any::<i64>().prop_map(Json::from),
                "\\PC{0,12}".prop_map(Json::from),
                any::<bool>().prop_map(Json::from),
                Just(Json::Null),
            ], 0..8)
        ) {
            let document = Json::Object(fields.into_iter().filter(|(key, _)| key != "Event" && key != "winlog").collect());
            let text = document.to_string();
            let (fast, slow) = both(&text);
            prop_assert_eq!(fast, slow);
        }
    }
}
