//! The event model every Palisade crate shares.
//!
//! An [`Event`] is a flat, sorted list of named fields. Nested input (JSON objects, the
//! `System`/`EventData` sections of a Windows event) is flattened by the parsers before it gets
//! here, so a detection rule or a query can name any field by one string: `Image`,
//! `process.command_line`, `EventID`. Keeping the model flat and sorted makes a field lookup a
//! binary search and keeps the matcher free of tree walks.
//!
//! Every string value can give its lower-cased form ([`Text::lower`]), folded on first use and
//! kept when it differs, because Sigma matching is case-insensitive by default: folding a
//! value once per event is far cheaper than folding it once per rule that looks at it, and a
//! value no candidate rule looks at is never folded.
#![warn(missing_docs)]

mod order;
mod str;
mod value;

pub use jiff::Timestamp;
pub use str::Str;
pub use value::{Text, TextSource, Value};

/// Room left in a built event's field arrays for the few fields added after parsing (the
/// message, enrichment, tags), so that those inserts do not reallocate both arrays.
pub const SPARE_FIELDS: usize = 4;

/// One normalized event: its fields and its time when the source gave one.
///
/// Fields are kept sorted by a 64-bit key of each name (its length, then its first seven
/// bytes; see [`field_order`]) rather than alphabetically, with the keys in an array of their
/// own: a lookup is a binary search over integers and compares names only once, to confirm.
/// That matters because matching a rule set and the behaviour detectors look up fields many
/// times per event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    fields: Vec<(Str, Value)>,
    /// `field_key` of each field, in the same order.
    keys: Vec<u64>,
    /// One bit per field key ([`presence_bit`]): a lookup of a name whose bit is clear
    /// answers "absent" without a search. Most lookups by the behaviour detectors and the
    /// rules are for fields an event does not have (a syslog line has no `ParentImage`).
    /// Fields are never removed, so the bits are exactly those of the keys present.
    present: Presence,
    timestamp: Option<Timestamp>,
}

/// A 256-bit set of hashed field keys.
type Presence = [u64; 4];

/// Where a field key sits in [`Presence`]: a word and the bit in it.
#[inline]
fn presence_bit(key: u64) -> (usize, u64) {
    // Keys of related names differ in the top byte (the length) or the low bytes (the head):
    // folding the halves together, then multiplying, spreads both over the top byte.
    let hash = (key ^ (key >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56;
    ((hash >> 6) as usize, 1 << (hash & 63))
}

/// Marks `key` as present.
#[inline]
fn mark(present: &mut Presence, key: u64) {
    let (word, bit) = presence_bit(key);
    present[word] |= bit;
}

impl Event {
    /// Returns an empty event.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds an event from unsorted fields. When a name repeats, the values are merged into a
    /// list in their input order, so nothing the source sent is lost.
    ///
    /// Fields already in the event's order with no name repeated (as the syslog header and
    /// most parsers push them) are kept in the vector given, with no copy: building an event
    /// then allocates only its array of keys.
    #[must_use]
    pub fn from_fields(mut fields: Vec<(Str, Value)>) -> Self {
        fields.reserve(SPARE_FIELDS);
        // As much room as the fields have, so that an insert grows neither array alone.
        let mut keys: Vec<u64> = Vec::with_capacity(fields.capacity());
        keys.extend(fields.iter().map(|(name, _)| field_key(name)));
        // Strictly increasing: in order, and no name twice.
        let in_order = keys.iter().zip(&fields).is_sorted_by(
            |(left_key, (left, _)), (right_key, (right, _))| (left_key, left) < (right_key, right),
        );
        if !in_order {
            // The order is worked out on (key, position) pairs, as in `extend`, in the
            // thread's buffer; positions break ties, so repeated names keep their input order
            // when merged into a list.
            order::with_pairs(|order| {
                order.extend(keys.iter().copied().zip(0_u32..));
                order::sort_pairs(order);
                order_names_within_keys(&fields, order);
                keys.clear();
                keys.extend(order.iter().map(|(key, _)| *key));
                let repeated =
                    order.windows(2).any(|pair| by_name(&fields, &pair[0], &pair[1]).is_eq());
                if repeated {
                    fields = merge_repeated(std::mem::take(&mut fields), order, &mut keys);
                } else {
                    permute(&mut fields, order);
                }
            });
        }
        let mut present = Presence::default();
        for &key in &keys {
            mark(&mut present, key);
        }
        Self { fields, keys, present, timestamp: None }
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
        let key = field_key(name);
        let (word, bit) = presence_bit(key);
        if self.present[word] & bit == 0 {
            return None;
        }
        self.find_keyed(name, key).ok().map(|idx| &self.fields[idx].1)
    }

    /// Returns the string form of a field, if present and not null.
    #[must_use]
    pub fn get_str(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.get(name).and_then(Value::to_text)
    }

    /// Inserts or replaces a field.
    pub fn insert(&mut self, name: impl Into<Str>, value: Value) {
        let name = name.into();
        let key = field_key(&name);
        match self.find_keyed(&name, key) {
            Ok(idx) => self.fields[idx].1 = value,
            Err(idx) => {
                mark(&mut self.present, key);
                self.keys.insert(idx, key);
                self.fields.insert(idx, (name, value));
            }
        }
    }

    /// Inserts or replaces many fields at once, as [`Event::insert`] would one after the
    /// other (a name given twice keeps its last value). Values of names the event has are
    /// replaced where they are; the new names are then merged in from the back, so only the
    /// fields after the first new one move, each once, and the arrays are not rebuilt.
    pub fn extend(&mut self, fields: Vec<(Str, Value)>) {
        if fields.len() < 3 {
            for (name, value) in fields {
                self.insert(name, value);
            }
            return;
        }
        order::with_pairs(|order| self.extend_with(fields, order));
    }

    /// [`Event::extend`] of three fields or more, with `order` (empty) to work in: a buffer
    /// of the thread's, so that a merge allocates nothing but the room the event grows by.
    fn extend_with(&mut self, mut fields: Vec<(Str, Value)>, order: &mut Vec<(u64, u32)>) {
        // The order is worked out on (key, position) pairs, each name's key computed once:
        // the fields themselves (56 bytes each) are moved only once, into their place, and
        // an unstable sort of small pairs needs no scratch buffer (a stable sort of the
        // (key, name, value) tuples allocated one past 20 fields).
        order.extend(fields.iter().zip(0_u32..).map(|((name, _), at)| (field_key(name), at)));
        // Sorted as plain integers (key, then position), which compares no names, and for a
        // sequence of keys seen recently by copying its order ([`order::sort_pairs`]): only
        // names that share a key (the same length and first seven bytes, which is rare) are
        // then put in name order within their run. Ties between equal names stay by
        // position, so that of a name given twice the last wins.
        order::sort_pairs(order);
        order_names_within_keys(&fields, order);
        // Keep at the front of `order` only the names the event lacks, once each: the last
        // of a run of equal names. The others replace the event's values where they are,
        // found by walking the event's fields once alongside (both lists are in the same
        // order), not by a search per name.
        let mut kept = 0;
        let mut place = 0;
        for idx in 0..order.len() {
            let (key, at) = order[idx];
            if order.get(idx + 1).is_some_and(|next| by_name(&fields, &order[idx], next).is_eq()) {
                continue;
            }
            let name = &fields[at as usize].0;
            while place < self.keys.len() && (self.keys[place], &self.fields[place].0) < (key, name)
            {
                place += 1;
            }
            if place < self.keys.len() && self.keys[place] == key && self.fields[place].0 == *name {
                self.fields[place].1 = take(&mut fields, at).1;
            } else {
                order[kept] = (key, at);
                kept += 1;
            }
        }
        order.truncate(kept);
        if order.is_empty() {
            return;
        }
        // Grow both arrays by the new names (placeholders at the end), then fill them from the
        // back: each step puts the greater of the last unplaced old field and the last new one
        // in the last free slot. Old and new names never compare equal here. Events built
        // with room for what comes after (the syslog header's) do not grow here.
        let old_len = self.fields.len();
        let total = old_len + order.len();
        if self.fields.capacity() < total {
            self.fields.reserve_exact(order.len() + SPARE_FIELDS);
        }
        self.keys.reserve_exact(self.fields.capacity() - self.keys.len());
        self.fields.resize_with(total, || (Str::literal(""), Value::Null));
        self.keys.resize(total, 0);
        let mut old = old_len;
        let mut free = total;
        while let Some((key, at)) = order.pop() {
            let (name, value) = take(&mut fields, at);
            while old > 0 && (self.keys[old - 1], &self.fields[old - 1].0) > (key, &name) {
                old -= 1;
                free -= 1;
                self.fields.swap(old, free);
                self.keys[free] = self.keys[old];
            }
            free -= 1;
            mark(&mut self.present, key);
            self.keys[free] = key;
            discard(std::mem::replace(&mut self.fields[free], (name, value)));
        }
        // Left: the placeholders of the fields moved out, and the values a name given twice
        // did not keep.
        fields.into_iter().for_each(discard);
    }

    /// Where a field is (`Ok`), or where it would go (`Err`): a binary search over the keys,
    /// then names compared only among fields with the same key.
    fn find_keyed(&self, name: &str, key: u64) -> Result<usize, usize> {
        let mut idx = self.keys.partition_point(|probe| *probe < key);
        while idx < self.keys.len() && self.keys[idx] == key {
            match same_key_order(&self.fields[idx].0, name) {
                std::cmp::Ordering::Less => idx += 1,
                std::cmp::Ordering::Equal => return Ok(idx),
                std::cmp::Ordering::Greater => break,
            }
        }
        Err(idx)
    }

    /// Iterates over the fields, in the internal lookup order ([`field_order`]).
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(name, value)| (&**name, value))
    }

    /// The fields in order, each with its [`field_key`]: a merge against another sorted list
    /// of names compares integers first and names only on equal keys.
    pub fn keyed_fields(&self) -> impl Iterator<Item = (u64, &str, &Value)> {
        self.keys.iter().zip(&self.fields).map(|(key, (name, value))| (*key, &**name, value))
    }

    /// The field at `idx` of [`fields`](Self::fields)' order, if there is one: lets a consumer
    /// keep positions (in a buffer it reuses) instead of references.
    #[must_use]
    pub fn field_at(&self, idx: usize) -> Option<(&str, &Value)> {
        self.fields.get(idx).map(|(name, value)| (&**name, value))
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
        let mut sorted: Vec<&(Str, Value)> = self.fields.iter().collect();
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
        let mut sorted: Vec<&(Str, Value)> = self.fields.iter().collect();
        sorted.sort_by(|left, right| left.0.cmp(&right.0));
        serializer.collect_map(sorted.into_iter().map(|(name, value)| (&**name, value)))
    }
}

/// The order in which an event keeps its fields: by [`field_key`] (length, then the first
/// seven bytes), then bytewise. Consumers that merge their own sorted list of names with
/// [`Event::fields`] sort it with this.
#[must_use]
pub fn field_order(left: &str, right: &str) -> std::cmp::Ordering {
    field_key(left).cmp(&field_key(right)).then_with(|| left.cmp(right))
}

/// The order of two names that have the same [`field_key`]: equal keys mean equal lengths
/// (below the cap of 255) and equal first seven bytes, so only the rest of the names is
/// compared, and nothing for short names. Consumers that merge their own names against
/// [`Event::keyed_fields`] use it once the keys are equal.
#[must_use]
#[inline]
pub fn same_key_order(left: &str, right: &str) -> std::cmp::Ordering {
    let skip = if right.len() < usize::from(u8::MAX) { right.len().min(7) } else { 0 };
    left.as_bytes()[skip.min(left.len())..].cmp(&right.as_bytes()[skip..])
}

/// Puts the names that share a key (the same length and first seven bytes, which is rare) in
/// name order within their run of `order`, (key, position) pairs sorted by key then position;
/// equal names stay in position order.
fn order_names_within_keys(fields: &[(Str, Value)], order: &mut [(u64, u32)]) {
    let mut start = 0;
    while start < order.len() {
        let key = order[start].0;
        let end = start + order[start..].iter().take_while(|(other, _)| *other == key).count();
        if end - start > 1 {
            order[start..end].sort_unstable_by(|left, right| {
                by_name(fields, left, right).then(left.1.cmp(&right.1))
            });
        }
        start = end;
    }
}

/// Moves the field at `at` out of `fields`, leaving a placeholder that is only dropped.
fn take(fields: &mut [(Str, Value)], at: u32) -> (Str, Value) {
    std::mem::replace(&mut fields[at as usize], (Str::literal(""), Value::Null))
}

/// Puts `fields` in the order of `order` ((key, input position) pairs, sorted), in place:
/// the element at position `i` becomes the one that was at `order[i].1`. Each cycle of the
/// permutation is followed once with swaps, so no field is copied to a new array and no
/// placeholder is written and dropped. `order`'s positions are used up as marks.
fn permute(fields: &mut [(Str, Value)], order: &mut [(u64, u32)]) {
    const DONE: u32 = u32::MAX;
    for start in 0..order.len() {
        if order[start].1 == DONE {
            continue;
        }
        let mut cur = start;
        loop {
            let next = order[cur].1 as usize;
            order[cur].1 = DONE;
            if next == start {
                break;
            }
            fields.swap(cur, next);
            cur = next;
        }
    }
}

/// [`Event::from_fields`] of fields where a name repeats: each moves once into a new array in
/// `order`, and a repeated name's values are merged into a list. `keys` gets the kept names'.
fn merge_repeated(
    mut unsorted: Vec<(Str, Value)>,
    order: &[(u64, u32)],
    keys: &mut Vec<u64>,
) -> Vec<(Str, Value)> {
    let mut fields: Vec<(Str, Value)> = Vec::with_capacity(unsorted.capacity());
    keys.clear();
    for &(key, at) in order {
        let (name, value) = take(&mut unsorted, at);
        match fields.last_mut() {
            Some((last_name, last_value)) if keys.last() == Some(&key) && *last_name == name => {
                last_value.push(value);
            }
            _ => {
                keys.push(key);
                fields.push((name, value));
            }
        }
    }
    fields
}

/// Drops a field that a merge is done with. Most are the placeholders [`take`] leaves, which
/// own nothing: their value is forgotten rather than dropped, which saves an out-of-line call
/// per field (a `Value`'s drop is not inlined).
#[inline]
fn discard((name, value): (Str, Value)) {
    if matches!(value, Value::Null) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
    drop(name);
}

/// The order of two of `fields`, given as (key, position): by key, then by name.
fn by_name(fields: &[(Str, Value)], left: &(u64, u32), right: &(u64, u32)) -> std::cmp::Ordering {
    left.0.cmp(&right.0).then_with(|| fields[left.1 as usize].0.cmp(&fields[right.1 as usize].0))
}

/// A name's sort key: its length (capped at 255) in the top byte, then its first seven bytes,
/// big-endian, zero-padded. Distinct names rarely share a key, so a lookup rarely compares
/// names. Consumers that merge a list of their own names against [`Event::keyed_fields`]
/// compute their names' keys once with it.
#[must_use]
pub fn field_key(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut prefix = [0u8; 8];
    prefix[0] = u8::try_from(bytes.len()).unwrap_or(u8::MAX);
    let head = bytes.len().min(7);
    prefix[1..=head].copy_from_slice(&bytes[..head]);
    u64::from_be_bytes(prefix)
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
    fn lookup_tells_apart_names_with_one_key() {
        // Same length and same first seven bytes: one key, told apart by the name.
        let names = ["source.port", "source.ports", "source.porx", "source.pora", "s", "t"];
        let mut event = Event::new();
        for (idx, name) in names.iter().enumerate() {
            event.insert(*name, Value::Int(idx as i64));
        }
        for (idx, name) in names.iter().enumerate() {
            assert_eq!(event.get(name), Some(&Value::Int(idx as i64)), "{name}");
        }
        assert_eq!(event.get("source.porb"), None);
        let built = Event::from_fields(
            names
                .iter()
                .enumerate()
                .map(|(idx, n)| ((*n).into(), Value::Int(idx as i64)))
                .collect(),
        );
        assert_eq!(built, event);
        let order: Vec<&str> = event.fields().map(|(name, _)| name).collect();
        let mut sorted = order.clone();
        sorted.sort_by(|a, b| field_order(a, b));
        assert_eq!(order, sorted);
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

    proptest::proptest! {
        /// `extend` ends exactly where inserting the same fields one by one ends, names
        /// repeated within the batch and names already present included.
        #[test]
        fn extend_equals_inserts_in_order(
            before in proptest::collection::vec((0usize..14, 0i64..5), 0..12),
            // Past 20 fields the sort is no longer an insertion sort.
            added in proptest::collection::vec((0usize..14, 0i64..5), 0..40),
        ) {
            const NAMES: [&str; 14] = [
                "a", "b", "source.ip", "source.ipx", "source.port", "source.porx",
                "event.category", "event.type", "user.name", "user.names", "m", "zz",
                // Names that share a key with one above (length and first seven bytes).
                "source.ipy", "user.namez",
            ];
            let mut inserted = Event::new();
            for (name, value) in &before {
                inserted.insert(NAMES[*name], Value::Int(*value));
            }
            let mut extended = inserted.clone();
            for (name, value) in &added {
                inserted.insert(NAMES[*name], Value::Int(*value));
            }
            extended.extend(
                added.iter().map(|(name, value)| (Str::literal(NAMES[*name]), Value::Int(*value))).collect(),
            );
            proptest::prop_assert_eq!(&extended, &inserted);
            proptest::prop_assert_eq!(extended.keys.len(), extended.fields.len());
            for (name, _) in &added {
                proptest::prop_assert_eq!(extended.get(NAMES[*name]), inserted.get(NAMES[*name]));
            }
            // Every field is found through the presence bits; names never set are not.
            for (name, value) in extended.fields() {
                proptest::prop_assert_eq!(extended.get(name), Some(value));
            }
            for name in NAMES {
                let set = before.iter().chain(&added).any(|(idx, _)| NAMES[*idx] == name);
                proptest::prop_assert_eq!(extended.get(name).is_some(), set, "{}", name);
            }
        }
    }

    proptest::proptest! {
        /// `from_fields` ends where inserting the fields one by one ends, a repeated name's
        /// values merged into a list in input order; both for fields in any order and for
        /// fields already in the event's order with no repeat (kept without a copy).
        #[test]
        fn from_fields_equals_inserts(
            fields in proptest::collection::vec((0usize..14, 0i64..5), 0..16),
            ordered in proptest::bool::ANY,
        ) {
            const NAMES: [&str; 14] = [
                "a", "b", "source.ip", "source.ipx", "source.port", "source.porx",
                "event.category", "event.type", "user.name", "user.names", "m", "zz",
                // Names that share a key with one above (length and first seven bytes).
                "source.ipy", "user.namez",
            ];
            let mut fields: Vec<(&str, i64)> =
                fields.into_iter().map(|(name, value)| (NAMES[name], value)).collect();
            if ordered {
                fields.sort_by(|left, right| field_order(left.0, right.0));
                fields.dedup_by(|right, left| left.0 == right.0);
            }
            let mut expected = Event::new();
            for (name, value) in &fields {
                let value = match expected.get(name) {
                    Some(existing) => {
                        let mut list = existing.clone();
                        list.push(Value::Int(*value));
                        list
                    }
                    None => Value::Int(*value),
                };
                expected.insert(*name, value);
            }
            let built = Event::from_fields(
                fields.iter().map(|(name, value)| (Str::literal(name), Value::Int(*value))).collect(),
            );
            proptest::prop_assert_eq!(&built, &expected);
            proptest::prop_assert_eq!(built.keys.len(), built.fields.len());
            for (name, value) in built.fields() {
                proptest::prop_assert_eq!(built.get(name), Some(value));
            }
            for name in NAMES {
                let set = fields.iter().any(|(field, _)| *field == name);
                proptest::prop_assert_eq!(built.get(name).is_some(), set, "{}", name);
            }
        }
    }

    proptest::proptest! {
        /// Names drawn to share keys: a few prefixes, lengths around the 7-byte head and the
        /// 255 cap, so that lookups go through equal keys and long-name comparisons.
        #[test]
        fn every_field_is_found_and_no_other(
            picks in proptest::collection::vec((0usize..4, 0usize..300, 0u8..4), 0..40),
            probes in proptest::collection::vec((0usize..4, 0usize..300, 0u8..4), 0..20),
        ) {
            let name = |(prefix, len, last): (usize, usize, u8)| -> String {
                let mut name = ["source.", "source.p", "a", ""][prefix].to_owned();
                while name.len() < len {
                    name.push('x');
                }
                name.push(char::from(b'a' + last));
                name
            };
            let mut expected = std::collections::BTreeMap::new();
            let mut event = Event::new();
            for (idx, pick) in picks.into_iter().enumerate() {
                let name = name(pick);
                event.insert(name.clone(), Value::Int(idx as i64));
                expected.insert(name, idx as i64);
            }
            let built = Event::from_fields(
                expected.iter().map(|(name, idx)| (Str::copy(name), Value::Int(*idx))).collect(),
            );
            proptest::prop_assert_eq!(&built, &event);
            for (name, idx) in &expected {
                proptest::prop_assert_eq!(event.get(name), Some(&Value::Int(*idx)));
            }
            for probe in probes {
                let name = name(probe);
                let found = event.get(&name).cloned();
                proptest::prop_assert_eq!(found, expected.get(&name).map(|idx| Value::Int(*idx)));
            }
        }
    }
}
