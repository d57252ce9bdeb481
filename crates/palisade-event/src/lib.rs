//! The event model every Palisade crate shares.
//!
//! An [`Event`] is a flat, sorted list of named fields. Nested input (JSON objects, the
//! `System`/`EventData` sections of a Windows event) is flattened by the parsers before it gets
//! here, so a detection rule or a query can name any field by one string: `Image`,
//! `process.command_line`, `EventID`. Keeping the model flat and sorted makes a field lookup a
//! binary search and keeps the matcher free of tree walks.
//!
//! Every string value carries its lower-cased form next to the original ([`Text`]) because
//! Sigma matching is case-insensitive by default: folding each value once per event is far
//! cheaper than folding it once per rule that looks at it.
#![warn(missing_docs)]

mod value;

pub use jiff::Timestamp;
pub use value::{Text, Value};

/// One normalized event: its fields and its time when the source gave one.
///
/// Fields are kept sorted by (name length, name) rather than alphabetically: a lookup then
/// settles most comparisons on the length alone, without comparing bytes, which matters
/// because matching a rule set looks up fields many times per event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    fields: Vec<(Box<str>, Value)>,
    timestamp: Option<Timestamp>,
}

impl Event {
    /// Returns an empty event.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds an event from unsorted fields. When a name repeats, the values are merged into a
    /// list in their input order, so nothing the source sent is lost.
    #[must_use]
    pub fn from_fields(mut fields: Vec<(Box<str>, Value)>) -> Self {
        fields.sort_by(|left, right| name_order(&left.0, &right.0));
        let mut merged: Vec<(Box<str>, Value)> = Vec::with_capacity(fields.len());
        for (name, value) in fields {
            match merged.last_mut() {
                Some((last_name, last_value)) if *last_name == name => last_value.push(value),
                _ => merged.push((name, value)),
            }
        }
        Self { fields: merged, timestamp: None }
    }

    /// Bytes the event holds on the heap, estimated (field names, values, the field list and
    /// a rough allocator overhead): what a memory bound counts.
    #[must_use]
    pub fn heap_size(&self) -> usize {
        value::ALLOCATION
            + self.fields.capacity() * std::mem::size_of::<(Box<str>, Value)>()
            + self
                .fields
                .iter()
                .map(|(name, value)| value::ALLOCATION + name.len() + value.heap_size())
                .sum::<usize>()
    }

    /// Sets the event time.
    pub fn set_timestamp(&mut self, timestamp: Option<Timestamp>) {
        self.timestamp = timestamp;
    }

    /// Returns the event time, if the source gave one.
    #[must_use]
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }

    /// Returns the value of a field by its exact name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .binary_search_by(|(field_name, _)| name_order(field_name, name))
            .ok()
            .map(|idx| &self.fields[idx].1)
    }

    /// Returns the string form of a field, if present and not null.
    #[must_use]
    pub fn get_str(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.get(name).and_then(Value::to_text)
    }

    /// Inserts or replaces a field.
    pub fn insert(&mut self, name: impl Into<Box<str>>, value: Value) {
        let name = name.into();
        match self.fields.binary_search_by(|(field_name, _)| name_order(field_name, &name)) {
            Ok(idx) => self.fields[idx].1 = value,
            Err(idx) => self.fields.insert(idx, (name, value)),
        }
    }

    /// Iterates over the fields (in the internal lookup order: by name length, then name).
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(name, value)| (&**name, value))
    }

    /// Returns the number of fields.
    #[must_use]
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Returns true when the event has no field.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Renders the event as a flat JSON object (field name → value), keys in alphabetical
    /// order, for output and storage.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let mut sorted: Vec<&(Box<str>, Value)> = self.fields.iter().collect();
        sorted.sort_by(|left, right| left.0.cmp(&right.0));
        let map = sorted
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.to_json()))
            .collect::<serde_json::Map<_, _>>();
        serde_json::Value::Object(map)
    }
}

/// The same JSON object as [`Event::to_json`] (keys in alphabetical order), written without
/// building a `serde_json::Value`: this is how the write-ahead log stores events.
impl serde::Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut sorted: Vec<&(Box<str>, Value)> = self.fields.iter().collect();
        sorted.sort_by(|left, right| left.0.cmp(&right.0));
        serializer.collect_map(sorted.into_iter().map(|(name, value)| (&**name, value)))
    }
}

/// The lookup order of field names: shorter first, then bytewise.
fn name_order(left: &str, right: &str) -> std::cmp::Ordering {
    left.len().cmp(&right.len()).then_with(|| left.cmp(right))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_fields_after_unsorted_build() {
        let event = Event::from_fields(vec![
            ("b".into(), Value::from("two")),
            ("a".into(), Value::Int(1)),
            ("c".into(), Value::Null),
        ]);
        assert_eq!(event.get("a"), Some(&Value::Int(1)));
        assert_eq!(event.get_str("b").as_deref(), Some("two"));
        assert_eq!(event.get("c"), Some(&Value::Null));
        assert_eq!(event.get("d"), None);
    }

    #[test]
    fn repeated_names_merge_into_a_list_in_order() {
        let event = Event::from_fields(vec![
            ("x".into(), Value::from("first")),
            ("y".into(), Value::Int(0)),
            ("x".into(), Value::from("second")),
        ]);
        let Some(Value::List(items)) = event.get("x") else { panic!("expected a list") };
        assert_eq!(items, &vec![Value::from("first"), Value::from("second")]);
    }

    #[test]
    fn serialize_writes_what_to_json_builds() {
        let event = Event::from_fields(vec![
            ("z".into(), Value::Float(1.5)),
            ("a.b".into(), Value::from("x\"y")),
            ("n".into(), Value::Null),
            ("nan".into(), Value::Float(f64::NAN)),
            ("l".into(), Value::List(vec![Value::Int(1), Value::Bool(false)])),
        ]);
        let direct = serde_json::to_string(&event).expect("serialize");
        assert_eq!(direct, event.to_json().to_string());
    }

    #[test]
    fn insert_keeps_order_and_replaces() {
        let mut event = Event::new();
        event.insert("m", Value::Int(1));
        event.insert("a", Value::Int(2));
        event.insert("m", Value::Int(3));
        event.insert("bb", Value::Int(4));
        let names: Vec<_> = event.fields().map(|(name, _)| name).collect();
        assert_eq!(names, ["a", "m", "bb"]);
        assert_eq!(event.get("bb"), Some(&Value::Int(4)));
        assert_eq!(event.get("m"), Some(&Value::Int(3)));
    }
}
