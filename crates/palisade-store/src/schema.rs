//! The Parquet/Arrow schema of stored events.
//!
//! Typed columns hold the ECS core fields that hunters filter and group on; everything else
//! of an event is kept in `_source`, a JSON object of the remaining flattened fields, so no
//! field is lost and any can still be reached (`json_get`-style functions, or `LIKE` on the
//! text). `event.original` keeps the raw input when the parser had it. The layout decision
//! is recorded in docs/adr/0002-event-store-layout.md.

use std::fmt::Write as _;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayBuilder, ArrayRef, Int64Array, Int64Builder, RecordBatch, StringArray,
    StringBuilder, TimestampMicrosecondArray, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use palisade_event::{Event, Str, Value};

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
    // The syslog header: every syslog event has these, so as JSON keys in `_source` they were
    // most of its bytes (and of the CPU spent writing and compressing it); as columns they
    // are a few dictionary-coded bytes per row.
    "host.hostname",
    "log.source.address",
    "log.syslog.appname",
    "log.syslog.facility.name",
    "log.syslog.hostname",
    "log.syslog.msgid",
    "log.syslog.procid",
    "log.syslog.severity.name",
    "log.syslog.version",
    "message",
    "event.original",
];

/// Where `event.original` is in [`STRING_COLUMNS`].
const ORIGINAL: usize = STRING_COLUMNS.len() - 1;

/// Typed integer columns, in schema order.
pub const INT_COLUMNS: &[&str] = &[
    "source.port",
    "destination.port",
    "process.pid",
    "http.response.status_code",
    "log.syslog.priority",
    "log.syslog.facility.code",
    "log.syslog.severity.code",
];

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

/// Columns of long text that is nearly unique per event: the whole line, the rest of the
/// event as JSON. A Parquet dictionary over them fills up after a few thousand rows and then
/// falls back to plain pages, so building it is wasted work; min/max statistics of such text
/// prune nothing. Both are turned off for these columns (zstd still compresses their pages).
pub const UNIQUE_TEXT_COLUMNS: &[&str] = &["event.original", SOURCE];

/// True for the name of a typed string or integer column.
#[must_use]
pub fn is_typed_column(name: &str) -> bool {
    STRING_COLUMNS.contains(&name) || INT_COLUMNS.contains(&name)
}

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

/// Appends a field's text to a string column: a scalar in [`Value::to_text`]'s spelling, a list
/// as its items joined with `,` (written into the column as they come, not joined first into a
/// string of its own); null for a null, or for a list of nothing but nulls and lists. Returns
/// the bytes of the text appended, `None` for a null.
fn append_text(builder: &mut StringBuilder, value: Option<&Value>) -> Option<usize> {
    // Text, most values, goes in as it is, with no detour through `to_text`'s `Cow`.
    if let Some(Value::Str(text)) = value {
        builder.append_value(text.as_str());
        return Some(text.as_str().len());
    }
    let before = builder.values_slice().len();
    // Writing to an in-memory column cannot fail.
    let written = match value {
        Some(Value::List(items)) => {
            let mut texts = items.iter().filter_map(Value::to_text);
            let first = texts.next();
            if let Some(first) = &first {
                let _ = builder.write_str(first);
                for text in texts {
                    let _ = builder.write_str(",");
                    let _ = builder.write_str(&text);
                }
            }
            first.is_some()
        }
        Some(scalar) => scalar.to_text().map(|text| builder.write_str(&text)).is_some(),
        None => false,
    };
    if !written {
        builder.append_null();
        return None;
    }
    // Ends the value written so far.
    builder.append_value("");
    Some(builder.values_slice().len() - before)
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

/// A typed column an event field can land in.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Str(usize),
    Int(usize),
}

/// The typed columns in the order in which an [`Event`] keeps its fields
/// ([`palisade_event::field_order`]), so one merge pass over an event's fields finds every typed value: no lookup by
/// name per column.
/// Each name comes with its [`palisade_event::field_key`].
static TYPED: std::sync::LazyLock<Vec<(u64, &'static str, Slot)>> =
    std::sync::LazyLock::new(|| {
        let mut typed: Vec<(u64, &'static str, Slot)> = STRING_COLUMNS
            .iter()
            .enumerate()
            .map(|(idx, name)| (*name, Slot::Str(idx)))
            .chain(INT_COLUMNS.iter().enumerate().map(|(idx, name)| (*name, Slot::Int(idx))))
            .map(|(name, slot)| (palisade_event::field_key(name), name, slot))
            .collect();
        typed.sort_by(|left, right| (left.0, left.1).cmp(&(right.0, right.1)));
        typed
    });

/// Bytes per row of each string column (then `_source`) in the last batch encoded: the next
/// batch's builders start at about that size instead of doubling their way up to it, which
/// copies the column each time. A hint only; races between threads do no harm.
static BYTES_PER_ROW: [std::sync::atomic::AtomicUsize; STRING_COLUMNS.len() + 1] =
    [const { std::sync::atomic::AtomicUsize::new(8) }; STRING_COLUMNS.len() + 1];

/// Events encoded as one record batch of the store schema, with what the store keeps about
/// them.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The rows; `_seq` is null until the store numbers them ([`with_seq`]).
    pub batch: RecordBatch,
    /// Bytes of original input the events came from (`event.original`, or the size of the
    /// encoded fields when there is none).
    pub raw_bytes: u64,
    /// Earliest event time (µs), `i64::MAX` for no rows.
    pub min_micros: i64,
    /// Latest event time (µs), `i64::MIN` for no rows.
    pub max_micros: i64,
}

/// Column builders for a batch of events.
pub(crate) struct Columns {
    timestamps: TimestampMicrosecondBuilder,
    strings: Vec<StringBuilder>,
    ints: Vec<Int64Builder>,
    /// Nulls owed to each typed column, appended at once before its next value or when the
    /// batch is finished. Most typed columns are empty in most rows (a `_bulk` login has no
    /// `dns.*` or `log.syslog.*`), and a null appended row by row was a bit and an offset
    /// written for each of them, every row.
    string_nulls: [usize; STRING_COLUMNS.len()],
    int_nulls: [usize; INT_COLUMNS.len()],
    sources: StringBuilder,
    seqs: Int64Builder,
    json: Vec<u8>,
    /// Positions of the fields of the event being pushed that go to `_source`: kept between
    /// events, so a row costs no allocation of its own.
    rest: Vec<usize>,
    /// The alphabetical orders of recent rows' `_source` names.
    orders: Orders,
    raw_bytes: u64,
    min_micros: i64,
    max_micros: i64,
}

impl Columns {
    pub(crate) fn with_capacity(rows: usize) -> Self {
        Self {
            timestamps: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            strings: BYTES_PER_ROW[..STRING_COLUMNS.len()]
                .iter()
                .map(|per_row| StringBuilder::with_capacity(rows, rows * hint(per_row)))
                .collect(),
            ints: INT_COLUMNS.iter().map(|_| Int64Builder::with_capacity(rows)).collect(),
            string_nulls: [0; STRING_COLUMNS.len()],
            int_nulls: [0; INT_COLUMNS.len()],
            sources: StringBuilder::with_capacity(
                rows,
                rows * hint(&BYTES_PER_ROW[STRING_COLUMNS.len()]).max(128),
            ),
            seqs: Int64Builder::with_capacity(rows),
            json: Vec::with_capacity(1024),
            rest: Vec::with_capacity(64),
            orders: Orders::default(),
            raw_bytes: 0,
            min_micros: i64::MAX,
            max_micros: i64::MIN,
        }
    }

    /// Appends one event as a row: typed columns from one merge over its sorted fields, the
    /// rest as a JSON object in `_source` (keys in alphabetical order).
    pub(crate) fn push(&mut self, event: &Event, seq: Option<u64>, default_micros: i64) {
        self.seqs.append_option(seq.map(|seq| i64::try_from(seq).unwrap_or(i64::MAX)));
        let micros = event_micros(event, default_micros);
        self.timestamps.append_value(micros);
        self.min_micros = self.min_micros.min(micros);
        self.max_micros = self.max_micros.max(micros);
        let mut strings: [Option<&Value>; STRING_COLUMNS.len()] = [None; STRING_COLUMNS.len()];
        let mut ints: [Option<i64>; INT_COLUMNS.len()] = [None; INT_COLUMNS.len()];
        self.rest.clear();
        // Of the names going to `_source`, to find their order among those worked out.
        let mut rest_hash = 0_u64;
        let mut typed = TYPED.iter().peekable();
        for (idx, (key, name, value)) in event.keyed_fields().enumerate() {
            let slot = column_of(&mut typed, key, name);
            let in_column = match slot {
                Some(Slot::Str(column_idx)) => {
                    strings[column_idx] = Some(value);
                    true
                }
                // A typed column that cannot hold the value (a non-numeric port, say) leaves
                // it in `_source`, so nothing is lost.
                Some(Slot::Int(column_idx)) => {
                    ints[column_idx] = int_of(value);
                    ints[column_idx].is_some()
                }
                None => false,
            };
            if !in_column {
                self.rest.push(idx);
                rest_hash = fold_key(rest_hash, key);
            }
        }
        let mut encoded_bytes = 0;
        let mut original_bytes = None;
        for (idx, ((builder, owed), value)) in
            self.strings.iter_mut().zip(&mut self.string_nulls).zip(strings).enumerate()
        {
            let Some(value) = value else {
                *owed += 1;
                continue;
            };
            if *owed > 0 {
                builder.append_nulls(std::mem::take(owed));
            }
            let bytes = append_text(builder, Some(value));
            encoded_bytes += bytes.unwrap_or(0);
            if idx == ORIGINAL {
                original_bytes = bytes;
            }
        }
        for ((builder, owed), value) in self.ints.iter_mut().zip(&mut self.int_nulls).zip(ints) {
            let Some(value) = value else {
                *owed += 1;
                continue;
            };
            if *owed > 0 {
                builder.append_nulls(std::mem::take(owed));
            }
            builder.append_value(value);
        }
        let order = self.orders.of(event, &self.rest, rest_hash);
        // The object is written from the order's keys, rendered once for all the rows that
        // share them; only the values are written for each row. The same bytes as
        // serde_json's `collect_map` gives.
        self.json.clear();
        let mut start = 0;
        for (&at, &end) in order.order.iter().zip(&order.key_ends) {
            self.json.extend_from_slice(&order.keys[start..end]);
            start = end;
            let value = event.field_at(self.rest[at]).map_or(&Value::Null, |(_, value)| value);
            // Writing plain data into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut self.json, value);
        }
        self.json.extend_from_slice(if order.order.is_empty() { b"{}" } else { b"}" });
        encoded_bytes += self.json.len();
        // serde_json writes valid UTF-8; the lossy form is only a fallback.
        match std::str::from_utf8(&self.json) {
            Ok(text) => self.sources.append_value(text),
            Err(_) => self.sources.append_value(String::from_utf8_lossy(&self.json)),
        }
        self.raw_bytes += original_bytes.unwrap_or(encoded_bytes) as u64;
    }

    pub(crate) fn finish(mut self) -> Encoded {
        // Small batches say little about the next large one.
        let rows = self.seqs.len();
        if rows >= 64 {
            let sizes = self
                .strings
                .iter()
                .chain([&self.sources])
                .map(|builder| builder.values_slice().len());
            for (per_row, size) in BYTES_PER_ROW.iter().zip(sizes) {
                per_row.store(size / rows, std::sync::atomic::Ordering::Relaxed);
            }
        }
        for (builder, owed) in self.strings.iter_mut().zip(self.string_nulls) {
            builder.append_nulls(owed);
        }
        for (builder, owed) in self.ints.iter_mut().zip(self.int_nulls) {
            builder.append_nulls(owed);
        }
        let mut columns: Vec<ArrayRef> = vec![Arc::new(self.timestamps.finish())];
        columns
            .extend(self.strings.iter_mut().map(|builder| Arc::new(builder.finish()) as ArrayRef));
        columns.extend(self.ints.iter_mut().map(|builder| Arc::new(builder.finish()) as ArrayRef));
        columns.push(Arc::new(self.sources.finish()));
        columns.push(Arc::new(self.seqs.finish()));
        #[allow(clippy::expect_used)]
        let batch = RecordBatch::try_new(schema(), columns).expect("arrays match the schema");
        Encoded {
            batch,
            raw_bytes: self.raw_bytes,
            min_micros: self.min_micros,
            max_micros: self.max_micros,
        }
    }
}

/// The typed column of a field, if it has one: advances `typed` (the columns in the event's
/// field order) past the columns before the field. Fields come in the same order, so one walk
/// serves a whole row. Names are compared only where the keys are equal, and then only past
/// what equal keys already share ([`palisade_event::same_key_order`]).
fn column_of(
    typed: &mut std::iter::Peekable<std::slice::Iter<'_, (u64, &'static str, Slot)>>,
    key: u64,
    name: &str,
) -> Option<Slot> {
    while let Some(&&(column_key, column, slot)) = typed.peek() {
        if column_key > key {
            return None;
        }
        if column_key == key {
            match palisade_event::same_key_order(column, name) {
                std::cmp::Ordering::Equal => return Some(slot),
                std::cmp::Ordering::Greater => return None,
                std::cmp::Ordering::Less => {}
            }
        }
        typed.next();
    }
    None
}

/// How many sets of `_source` names keep their alphabetical order worked out ([`Orders`]):
/// more than the parsers one stream usually mixes.
const KEPT_ORDERS: usize = 16;

/// The alphabetical orders of the `_source` names of recent rows. A stream mixes the rows of a
/// few parsers, each with mostly the same names, and sorting the names again for every row was
/// 1.6 % of the CPU of ingesting syslog. Each order also keeps its names written as JSON keys,
/// so that a row escapes only its values. An order is found by a hash of the names' field
/// keys, then checked name by name: keys alone cannot tell `abcdefg.z` from `abcdefg.a`.
#[derive(Debug, Default)]
struct Orders {
    kept: Vec<Order>,
    /// The one to replace next once `kept` is full.
    next: usize,
}

#[derive(Debug, Default)]
struct Order {
    hash: u64,
    /// The names in the event's order, one after the other, each ending at its `ends`.
    names: String,
    ends: Vec<usize>,
    /// The positions in the row's `rest` that list its names alphabetically.
    order: Vec<usize>,
    /// The names in that order as the JSON object's keys, each ending at its `key_ends`:
    /// `{"a":`, then `,"b":` and so on.
    keys: Vec<u8>,
    key_ends: Vec<usize>,
}

/// Adds a field key to a hash of a row's `_source` names.
fn fold_key(hash: u64, key: u64) -> u64 {
    (hash ^ key).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29)
}

impl Orders {
    /// The kept order of the names at `rest` (indices of fields of `event`, whose keys hash to
    /// `hash`): the positions in `rest` that list them alphabetically, and those names as JSON
    /// keys; worked out and kept first if no kept order has these names.
    fn of(&mut self, event: &Event, rest: &[usize], hash: u64) -> &Order {
        let name_at = |idx: usize| event.field_at(idx).map_or("", |(name, _)| name);
        let found = self.kept.iter().position(|kept| {
            let mut start = 0;
            kept.hash == hash
                && kept.ends.len() == rest.len()
                && rest.iter().zip(&kept.ends).all(|(&idx, &end)| {
                    let same = kept.names.get(start..end) == Some(name_at(idx));
                    start = end;
                    same
                })
        });
        let at = found.unwrap_or_else(|| {
            let at = if self.kept.len() < KEPT_ORDERS {
                self.kept.push(Order::default());
                self.kept.len() - 1
            } else {
                let at = self.next;
                self.next = (self.next + 1) % KEPT_ORDERS;
                at
            };
            let entry = &mut self.kept[at];
            entry.hash = hash;
            entry.order.clear();
            entry.order.extend(0..rest.len());
            entry
                .order
                .sort_unstable_by(|&left, &right| name_at(rest[left]).cmp(name_at(rest[right])));
            entry.names.clear();
            entry.ends.clear();
            for &idx in rest {
                entry.names.push_str(name_at(idx));
                entry.ends.push(entry.names.len());
            }
            entry.keys.clear();
            entry.key_ends.clear();
            for (position, &at) in entry.order.iter().enumerate() {
                entry.keys.push(if position == 0 { b'{' } else { b',' });
                // Writing a string into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut entry.keys, name_at(rest[at]));
                entry.keys.push(b':');
                entry.key_ends.push(entry.keys.len());
            }
            at
        });
        &self.kept[at]
    }
}

/// A builder's starting bytes per row from [`BYTES_PER_ROW`], with an eighth to spare, and
/// at most 2 KiB: a batch of huge rows must not make every later batch reserve that much.
fn hint(per_row: &std::sync::atomic::AtomicUsize) -> usize {
    let bytes = per_row.load(std::sync::atomic::Ordering::Relaxed);
    (bytes + bytes / 8).min(2048)
}

/// Encodes events as one record batch of the store schema, `_seq` left null. `default_micros`
/// is the time of events without one (their arrival).
#[must_use]
pub fn encode(events: &[Event], default_micros: i64) -> Encoded {
    let mut columns = Columns::with_capacity(events.len());
    for event in events {
        columns.push(event, None, default_micros);
    }
    columns.finish()
}

/// What the store keeps about a batch read back from the log: its time range and the raw
/// bytes of its rows (`event.original`, or the bytes of its text columns).
#[must_use]
pub fn summarize(batch: RecordBatch) -> Encoded {
    let mut min_micros = i64::MAX;
    let mut max_micros = i64::MIN;
    if let Some(times) = batch.column(0).as_any().downcast_ref::<TimestampMicrosecondArray>() {
        for micros in times.iter().flatten() {
            min_micros = min_micros.min(micros);
            max_micros = max_micros.max(micros);
        }
    }
    let text = |name: &str| {
        batch
            .schema()
            .index_of(name)
            .ok()
            .and_then(|idx| batch.column(idx).as_any().downcast_ref::<StringArray>().cloned())
    };
    let original = text("event.original");
    let others: Vec<StringArray> = STRING_COLUMNS
        .iter()
        .filter(|name| **name != "event.original")
        .chain(std::iter::once(&SOURCE))
        .filter_map(|name| text(name))
        .collect();
    let raw_bytes = (0..batch.num_rows())
        .map(|row| match &original {
            Some(original) if original.is_valid(row) => original.value(row).len(),
            _ => others
                .iter()
                .filter(|column| column.is_valid(row))
                .map(|column| column.value(row).len())
                .sum(),
        } as u64)
        .sum();
    Encoded { batch, raw_bytes, min_micros, max_micros }
}

/// Converts events, with their sequence numbers, into one record batch of the store schema.
/// `default_micros` is used for events without a timestamp.
#[must_use]
pub fn to_batch(events: &[(u64, &Event)], default_micros: i64) -> RecordBatch {
    let mut columns = Columns::with_capacity(events.len());
    for &(seq, event) in events {
        columns.push(event, Some(seq), default_micros);
    }
    columns.finish().batch
}

/// The batch with its rows numbered `first_seq`, `first_seq + 1`, ... in `_seq`.
#[must_use]
pub fn with_seq(batch: &RecordBatch, first_seq: u64) -> RecordBatch {
    let first = i64::try_from(first_seq).unwrap_or(i64::MAX);
    let rows = i64::try_from(batch.num_rows()).unwrap_or(i64::MAX);
    let seqs: ArrayRef = Arc::new(Int64Array::from_iter_values(first..first.saturating_add(rows)));
    let mut columns = batch.columns().to_vec();
    if let Ok(idx) = batch.schema().index_of(SEQ) {
        columns[idx] = seqs;
    }
    #[allow(clippy::expect_used)]
    RecordBatch::try_new(batch.schema(), columns).expect("same schema, same length")
}

/// A batch read back from an older layout, brought to the current schema: columns matched by
/// name, missing ones null. Lets a write-ahead log written before a schema change replay.
///
/// # Errors
/// A message when a column of the same name has another type.
pub fn conform(batch: &RecordBatch) -> Result<RecordBatch, String> {
    let target = schema();
    if batch.schema().fields() == target.fields() {
        return Ok(batch.clone());
    }
    let source = batch.schema();
    let columns = target
        .fields()
        .iter()
        .map(|field| match source.index_of(field.name()) {
            Ok(idx) if source.field(idx).data_type() == field.data_type() => {
                Ok(Arc::clone(batch.column(idx)))
            }
            Ok(_) => Err(format!("column {} changed type", field.name())),
            Err(_) => {
                Ok(datafusion::arrow::array::new_null_array(field.data_type(), batch.num_rows()))
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    RecordBatch::try_new(target, columns).map_err(|error| error.to_string())
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
            let mut fields: Vec<(Str, Value)> = Vec::new();
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
                        fields.push((Str::copy(name), value));
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
    fn original_is_where_the_raw_size_is_read() {
        assert_eq!(STRING_COLUMNS[ORIGINAL], "event.original");
    }

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

    /// A list in a typed text column is written item by item into the column: nulls are
    /// skipped, a list with no text is a null, and the rows after it are not shifted.
    #[test]
    fn lists_are_joined_in_their_column() {
        let row = |category: Value| {
            Event::from_fields(vec![
                ("event.category".into(), category),
                ("event.original".into(), Value::from("the line")),
                ("host.name".into(), Value::from("web-1")),
            ])
        };
        let events = [
            row(Value::List(vec![Value::from("network"), Value::Null, Value::Int(7)])),
            row(Value::List(vec![Value::Null, Value::List(vec![Value::from("nested")])])),
            row(Value::from("process")),
        ];
        let encoded = encode(&events, 0);
        let column = |name: &str| {
            let column = encoded.batch.column_by_name(name).expect("column");
            column.as_any().downcast_ref::<StringArray>().expect("text").clone()
        };
        let categories = column("event.category");
        assert_eq!(categories.value(0), "network,7");
        assert!(categories.is_null(1));
        assert_eq!(categories.value(2), "process");
        assert_eq!(column("host.name").iter().collect::<Vec<_>>(), vec![Some("web-1"); 3]);
        // The raw size is that of the lines when the events have them.
        assert_eq!(encoded.raw_bytes, 3 * "the line".len() as u64);
        let without = encode(&[Event::from_fields(vec![("host.name".into(), "web-1".into())])], 0);
        assert_eq!(without.raw_bytes, ("web-1".len() + "{}".len()) as u64);
    }

    /// `_source` lists each row's own fields, keys in alphabetical order (not the event's
    /// internal order), whatever the row before it held; a value its typed column cannot hold
    /// (a `process.pid` that is not a number) stays there too.
    #[test]
    fn source_keys_are_alphabetical_and_per_row() {
        let names = ["zeta", "a.much.longer.name", "mid", "b", "process.pid"];
        let first = Event::from_fields(
            names.iter().map(|name| (Str::copy(name), Value::from(*name))).collect(),
        );
        let second = Event::from_fields(vec![("only".into(), Value::Int(1))]);
        let batch = to_batch(&[(1, &first), (2, &second)], 0);
        let source = batch.column_by_name(SOURCE).expect("_source");
        let source = source.as_any().downcast_ref::<StringArray>().expect("text");
        assert_eq!(
            source.value(0),
            r#"{"a.much.longer.name":"a.much.longer.name","b":"b","mid":"mid","process.pid":"process.pid","zeta":"zeta"}"#
        );
        assert_eq!(source.value(1), r#"{"only":1}"#);
    }

    /// Names and values that need escaping give the bytes serde_json gives for the same map,
    /// in the first row (the keys rendered) and the next (the keys reused).
    #[test]
    fn source_escapes_names_and_values() {
        let names = ["quote\"d", "back\\slash", "new\nline", "tab\tand\u{1}", "é✓", "plain"];
        let row = |value: &str| {
            Event::from_fields(
                names.iter().map(|name| (Str::copy(name), Value::from(value))).collect(),
            )
        };
        let first = row("a \"value\" with \\ and \n");
        let second = row("\u{7f}\u{0} ✓");
        let batch = to_batch(&[(1, &first), (2, &second)], 0);
        let source = batch.column_by_name(SOURCE).expect("_source");
        let source = source.as_any().downcast_ref::<StringArray>().expect("text");
        for (row, value) in [(0, "a \"value\" with \\ and \n"), (1, "\u{7f}\u{0} ✓")] {
            let expected: std::collections::BTreeMap<&str, &str> =
                names.iter().map(|name| (*name, value)).collect();
            assert_eq!(source.value(row), serde_json::to_string(&expected).expect("json"));
        }
    }

    #[test]
    fn rows_of_more_shapes_than_are_kept_stay_alphabetical() {
        // Forty shapes of rows, twice over, interleaved: orders are reused and replaced.
        let names = |shape: usize| [format!("f{shape}.zz"), format!("f{shape}.a"), "mid".into()];
        let events: Vec<Event> = (0..80)
            .map(|row| {
                let fields = names(row % 40)
                    .iter()
                    .map(|name| (Str::copy(name), Value::Int(row as i64)))
                    .collect();
                Event::from_fields(fields)
            })
            .collect();
        let rows: Vec<(u64, &Event)> = (1..).zip(&events).collect();
        let batch = to_batch(&rows, 0);
        let source = batch.column_by_name(SOURCE).expect("_source");
        let source = source.as_any().downcast_ref::<StringArray>().expect("text");
        for row in 0..80 {
            let mut sorted = names(row % 40);
            sorted.sort();
            let expected = format!(
                "{{{}}}",
                sorted.iter().map(|name| format!("\"{name}\":{row}")).collect::<Vec<_>>().join(",")
            );
            assert_eq!(source.value(row), expected, "row {row}");
        }
    }

    #[test]
    fn rows_with_other_names_are_sorted_again() {
        // Field keys are a name's length and first seven bytes: the names of `first` and
        // `third` have the same keys, in the same places, yet sort differently.
        let row = |names: &[&str], value: i64| {
            Event::from_fields(
                names.iter().map(|name| (Str::copy(name), Value::Int(value))).collect(),
            )
        };
        let first = row(&["abcdefg.z", "abcdefg.yy"], 1);
        let second = row(&["abcdefg.z", "abcdefg.yy"], 2);
        let third = row(&["abcdefg.a", "abcdefg.yy"], 3);
        let fourth = row(&["abcdefg.z", "abcdefg.yy", "zz"], 4);
        let batch = to_batch(&[(1, &first), (2, &second), (3, &third), (4, &fourth)], 0);
        let source = batch.column_by_name(SOURCE).expect("_source");
        let source = source.as_any().downcast_ref::<StringArray>().expect("text");
        let rows: Vec<&str> = (0..4).map(|row| source.value(row)).collect();
        assert_eq!(
            rows,
            [
                r#"{"abcdefg.yy":1,"abcdefg.z":1}"#,
                r#"{"abcdefg.yy":2,"abcdefg.z":2}"#,
                r#"{"abcdefg.a":3,"abcdefg.yy":3}"#,
                r#"{"abcdefg.yy":4,"abcdefg.z":4,"zz":4}"#,
            ]
        );
    }

    /// Names that share a typed column's key (length and first seven bytes) but not its name
    /// stay in `_source`, before, between and after the typed columns of that key.
    #[test]
    fn lookalike_names_stay_in_source() {
        let event = Event::from_fields(vec![
            ("log.syslog.aaaaaaa".into(), Value::from("before")),
            ("log.syslog.appname".into(), Value::from("sshd")),
            ("log.syslog.mmmmmmm".into(), Value::from("between")),
            ("log.syslog.version".into(), Value::from("1")),
            ("log.syslog.zzzzzzz".into(), Value::from("after")),
            ("log.syslog.facility.code".into(), Value::Int(4)),
            ("log.syslog.facility.zzzz".into(), Value::Int(5)),
        ]);
        let batch = to_batch(&[(1, &event)], 0);
        let text = |name: &str| {
            let column = batch.column_by_name(name).expect("column");
            column.as_any().downcast_ref::<StringArray>().expect("text").value(0).to_owned()
        };
        assert_eq!(text("log.syslog.appname"), "sshd");
        assert_eq!(text("log.syslog.version"), "1");
        let code = batch.column_by_name("log.syslog.facility.code").expect("column");
        let code = code.as_any().downcast_ref::<Int64Array>().expect("int");
        assert_eq!(code.value(0), 4);
        assert_eq!(
            text(SOURCE),
            r#"{"log.syslog.aaaaaaa":"before","log.syslog.facility.zzzz":5,"log.syslog.mmmmmmm":"between","log.syslog.zzzzzzz":"after"}"#
        );
    }

    #[test]
    fn the_syslog_header_has_columns_and_stays_out_of_source() {
        let header = [
            ("host.hostname", Value::from("bastion")),
            ("log.source.address", Value::from("127.0.0.1:40000")),
            ("log.syslog.appname", Value::from("sshd")),
            ("log.syslog.facility.code", Value::Int(10)),
            ("log.syslog.facility.name", Value::from("authpriv")),
            ("log.syslog.hostname", Value::from("bastion")),
            ("log.syslog.msgid", Value::from("ID47")),
            ("log.syslog.priority", Value::Int(86)),
            ("log.syslog.procid", Value::from("4242")),
            ("log.syslog.severity.code", Value::Int(6)),
            ("log.syslog.severity.name", Value::from("Informational")),
            ("log.syslog.version", Value::from("1")),
        ];
        let mut fields: Vec<(Str, Value)> =
            header.iter().map(|(name, value)| (Str::literal(name), value.clone())).collect();
        fields.push(("sshd.extra".into(), Value::from("kept")));
        let mut event = Event::from_fields(fields);
        event.set_timestamp(palisade_event::Timestamp::from_second(1_800_000_000).ok());
        let batch = to_batch(&[(1, &event)], 0);
        let source = batch.column_by_name(SOURCE).expect("_source");
        let source = source.as_any().downcast_ref::<StringArray>().expect("text");
        assert_eq!(source.value(0), r#"{"sshd.extra":"kept"}"#);
        for (name, value) in &header {
            let column = batch.column_by_name(name).unwrap_or_else(|| panic!("{name}"));
            let stored = match value {
                Value::Int(_) => {
                    Value::Int(column.as_any().downcast_ref::<Int64Array>().expect("int").value(0))
                }
                _ => Value::from(
                    column.as_any().downcast_ref::<StringArray>().expect("text").value(0),
                ),
            };
            assert_eq!(&stored, value, "{name}");
        }
        assert_eq!(from_batch(&batch)[0].1, event);
    }

    proptest::proptest! {
        /// Rows that each have some of the typed columns, in runs of absent values of any
        /// length: every row comes back as the event it was, through the batch and through
        /// the log record, which leaves out the columns no row has.
        #[test]
        fn rows_with_any_typed_columns_come_back(
            rows in proptest::collection::vec(
                (
                    proptest::collection::vec(proptest::option::weighted(0.3, "[a-z]{1,6}"), STRING_COLUMNS.len()),
                    proptest::collection::vec(proptest::option::weighted(0.3, 0_i64..70_000), INT_COLUMNS.len()),
                ),
                0..40,
            )
        ) {
            let events: Vec<Event> = rows
                .iter()
                .map(|(texts, ints)| {
                    let mut fields: Vec<(Str, Value)> = STRING_COLUMNS
                        .iter()
                        .zip(texts)
                        .filter_map(|(name, text)| {
                            let value = Value::from(text.clone()?);
                            // ECS arrays come back as lists.
                            let value = if LIST_COLUMNS.contains(name) { Value::List(vec![value]) } else { value };
                            Some((Str::literal(name), value))
                        })
                        .collect();
                    fields.extend(INT_COLUMNS.iter().zip(ints).filter_map(|(name, value)| {
                        Some((Str::literal(name), Value::Int((*value)?)))
                    }));
                    let mut event = Event::from_fields(fields);
                    event.set_timestamp(palisade_event::Timestamp::from_second(1_800_000_000).ok());
                    event
                })
                .collect();
            let numbered: Vec<(u64, &Event)> = (1..).zip(&events).collect();
            let batch = to_batch(&numbered, 0);
            let logged = crate::wal::decode_batch(&crate::wal::encode_batch(&batch).expect("encode"))
                .expect("decode");
            proptest::prop_assert_eq!(&logged, &batch);
            let back: Vec<Event> = from_batch(&logged).into_iter().map(|(_, event)| event).collect();
            proptest::prop_assert_eq!(back, events);
        }
    }
}
