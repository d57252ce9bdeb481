//! Zeek's tab-separated ASCII format: the header, the escapes and the typed values.
//!
//! A log starts with a header block, written by Zeek's ASCII writer as (the gaps are tabs):
//!
//! ```text
//! #separator \x09
//! #set_separator  ,
//! #empty_field  (empty)
//! #unset_field  -
//! #path  conn
//! #open  2024-09-13-16-38-11
//! #fields  ts  uid  id.orig_h  id.orig_p  ...
//! #types  time  string  addr  port  ...
//! ```
//!
//! and ends with `#close`. A value equal to the unset marker is unset; one equal to the empty
//! marker is an empty string or container; a string that happens to equal either marker is
//! written with its first byte escaped (`\x2d`), so the markers are compared before
//! unescaping. Inside a value the writer escapes the separators and unprintable bytes as
//! `\xhh`, and the set separator inside a set element as well, so a set is split before its
//! elements are unescaped.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use palisade_event::{Event, Str, Value};

use super::{epoch_text, mapping};

/// Most columns a `#fields` line may declare; a longer header is ignored (and the lines after
/// it are then unparsed), so that a hostile header cannot make the reader hold huge state.
const MAX_FIELDS: usize = 1024;
/// Longest field name kept, in bytes.
const MAX_FIELD_NAME_LEN: usize = 256;
/// Longest separator or marker accepted from a header, in bytes.
const MAX_MARKER_LEN: usize = 16;

/// What one line of a Zeek TSV log gave.
#[derive(Debug)]
pub enum TsvLine {
    /// A `#` header or footer line, remembered by the reader.
    Header,
    /// A record.
    Event(Event),
    /// A line the reader could not read (no `#fields` header yet, a wrong column count, or an
    /// empty line).
    Unparsed,
}

/// Reads a Zeek TSV log line by line, keeping the header (`#separator`, `#fields`, `#types`,
/// `#path`) it needs to name the columns.
///
/// A `#separator` line starts a new header block and resets what the previous one said, so
/// concatenated or rotated files read correctly. Without a `#types` line (or with one of the
/// wrong length) the types of the known logs' fields are used, and other fields are strings.
/// Without a `#path` line the path given to [`TsvReader::with_path`] is used, else the path is
/// inferred from the field names as for JSON.
#[derive(Debug)]
pub struct TsvReader {
    separator: String,
    set_separator: String,
    empty_field: String,
    unset_field: String,
    path: Option<String>,
    path_hint: Option<String>,
    fields: Vec<String>,
    types: Vec<ZeekType>,
}

impl Default for TsvReader {
    fn default() -> Self {
        Self {
            separator: "\t".to_owned(),
            set_separator: ",".to_owned(),
            empty_field: "(empty)".to_owned(),
            unset_field: "-".to_owned(),
            path: None,
            path_hint: None,
            fields: Vec::new(),
            types: Vec::new(),
        }
    }
}

impl TsvReader {
    /// Returns a reader that has seen no header yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns a reader for a log whose path the caller knows (from the file name: see
    /// [`super::log_path_from_file_name`]); a `#path` header line still wins. An invalid path
    /// is ignored.
    #[must_use]
    pub fn with_path(path: &str) -> Self {
        Self { path_hint: super::clean_path(path).map(str::to_owned), ..Self::default() }
    }

    /// Reads one line (a trailing `\r` or `\n` is ignored).
    pub fn line(&mut self, line: &str) -> TsvLine {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.starts_with('#') {
            self.header(line);
            return TsvLine::Header;
        }
        if line.is_empty() || self.fields.is_empty() {
            return TsvLine::Unparsed;
        }
        let columns: Vec<&str> = line.split(self.separator.as_str()).collect();
        if columns.len() != self.fields.len() {
            return TsvLine::Unparsed;
        }
        let path = match self.path.as_deref().or(self.path_hint.as_deref()) {
            Some(path) => path.to_owned(),
            None => {
                let names = self.fields.iter().map(|name| (Str::copy(name), Value::Null));
                super::infer_path(&Event::from_fields(names.collect())).to_owned()
            }
        };
        let typed_columns = self.types.len() == self.fields.len();
        let mut raw_fields: Vec<(Str, Value)> = Vec::with_capacity(columns.len());
        let mut ts_text = None;
        for (idx, (name, column)) in self.fields.iter().zip(&columns).enumerate() {
            if name.is_empty() {
                continue;
            }
            let ty =
                if typed_columns { self.types.get(idx).copied() } else { known_type(&path, name) };
            let ty = ty.unwrap_or(ZeekType::Scalar(Scalar::String));
            if name == "ts" && *column != self.unset_field {
                ts_text = Some(unescape(column));
            }
            if let Some(value) = self.value(column, ty) {
                raw_fields.push((Str::copy(name), value));
            }
        }
        let raw = Event::from_fields(raw_fields);
        let timestamp = ts_text.as_deref().and_then(|text| epoch_text(text.trim()));
        let mut event = mapping::build(&path, timestamp, &raw);
        event.insert("event.original", Value::from(line));
        TsvLine::Event(event)
    }

    /// Reads a `#` line: a header field the reader needs, or anything else (`#open`,
    /// `#close`, a comment), which is ignored.
    fn header(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("#separator") {
            // `#separator \x09`: the one header line written with a space, since the
            // separator is not known yet. It starts a new header block.
            let value = unescape(rest.trim_start_matches(' '));
            let path_hint = self.path_hint.take();
            *self = Self { path_hint, ..Self::default() };
            if !value.is_empty() && value.len() <= MAX_MARKER_LEN {
                self.separator = value.into_owned();
            }
            return;
        }
        let (key, value) = match line.split_once(self.separator.as_str()) {
            Some(split) => split,
            None => line.split_once([' ', '\t']).unwrap_or((line, "")),
        };
        match key {
            "#set_separator" => {
                let value = unescape(value);
                if !value.is_empty() && value.len() <= MAX_MARKER_LEN {
                    self.set_separator = value.into_owned();
                }
            }
            "#empty_field" if value.len() <= MAX_MARKER_LEN => {
                self.empty_field = unescape(value).into_owned();
            }
            "#unset_field" if value.len() <= MAX_MARKER_LEN => {
                self.unset_field = unescape(value).into_owned();
            }
            "#path" => self.path = super::clean_path(value).map(str::to_owned),
            "#fields" => {
                let fields: Vec<&str> =
                    value.split(self.separator.as_str()).take(MAX_FIELDS + 1).collect();
                self.fields = if fields.len() > MAX_FIELDS {
                    Vec::new()
                } else {
                    fields
                        .into_iter()
                        .map(|name| crate::ecs::cap(name, MAX_FIELD_NAME_LEN).to_owned())
                        .collect()
                };
            }
            "#types" => {
                self.types = value
                    .split(self.separator.as_str())
                    .take(MAX_FIELDS + 1)
                    .map(ZeekType::parse)
                    .collect();
            }
            _ => {}
        }
    }

    /// The value of one column, or `None` when it is unset.
    fn value(&self, column: &str, ty: ZeekType) -> Option<Value> {
        if column == self.unset_field {
            return None;
        }
        match ty {
            ZeekType::List(element) => {
                if column == self.empty_field {
                    return Some(Value::List(Vec::new()));
                }
                let items = column
                    .split(self.set_separator.as_str())
                    .filter(|item| *item != self.unset_field)
                    .map(|item| typed(&unescape(item), element))
                    .collect();
                Some(Value::List(items))
            }
            ZeekType::Scalar(scalar) => {
                if column == self.empty_field {
                    return (scalar == Scalar::String).then(|| Value::from(""));
                }
                Some(typed(&unescape(column), scalar))
            }
        }
    }
}

/// The scalar types of Zeek's log columns, as far as they change the value kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    Bool,
    Int,
    Count,
    Port,
    Double,
    Interval,
    Time,
    /// `string`, `enum`, `addr`, `subnet`, `pattern` and anything unknown: kept as text.
    String,
}

/// A column type: a scalar, or a container (`set[T]`, `vector[T]`, `table[T]`) of scalars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ZeekType {
    Scalar(Scalar),
    List(Scalar),
}

impl ZeekType {
    /// Reads a `#types` entry.
    pub(crate) fn parse(text: &str) -> Self {
        let text = text.trim();
        for prefix in ["set[", "vector[", "table["] {
            if let Some(inner) = text.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(']')) {
                return ZeekType::List(scalar(inner));
            }
        }
        ZeekType::Scalar(scalar(text))
    }

    /// The scalar type, or that of the container's elements.
    pub(crate) fn scalar(self) -> Scalar {
        match self {
            ZeekType::Scalar(scalar) | ZeekType::List(scalar) => scalar,
        }
    }
}

fn scalar(name: &str) -> Scalar {
    match name.trim() {
        "bool" => Scalar::Bool,
        "int" => Scalar::Int,
        "count" | "counter" => Scalar::Count,
        "port" => Scalar::Port,
        "double" => Scalar::Double,
        "interval" => Scalar::Interval,
        "time" => Scalar::Time,
        _ => Scalar::String,
    }
}

/// A value of a scalar type, from its unescaped text; text that does not read as its type is
/// kept as text (the mapping then ignores it), so one bad value does not lose the record.
fn typed(text: &str, ty: Scalar) -> Value {
    let parsed = match ty {
        Scalar::Bool => match text {
            "T" => Some(Value::Bool(true)),
            "F" => Some(Value::Bool(false)),
            _ => None,
        },
        Scalar::Int => crate::ecs::parse_int(text).map(Value::Int),
        Scalar::Count => count(text),
        // The input framework also reads `80/tcp`.
        Scalar::Port => {
            let number = text.split_once('/').map_or(text, |(number, _)| number);
            if crate::ecs::is_digits(number) {
                number.parse::<u16>().ok().map(|port| Value::Int(i64::from(port)))
            } else {
                None
            }
        }
        Scalar::Double | Scalar::Interval => float(text).map(Value::Float),
        Scalar::Time => epoch_text(text).map(|timestamp| Value::from(timestamp.to_string())),
        Scalar::String => None,
    };
    parsed.unwrap_or_else(|| Value::from(text))
}

/// A `count`: an integer, or exact text above `i64::MAX` (as for JSON numbers).
fn count(text: &str) -> Option<Value> {
    if !crate::ecs::is_digits(text) {
        return None;
    }
    let number = text.parse::<u64>().ok()?;
    Some(i64::try_from(number).map_or_else(|_| Value::from(text), Value::Int))
}

/// A finite decimal number (`0.071811`, `-3`, `1e-3`); not `inf` or `NaN`.
fn float(text: &str) -> Option<f64> {
    let plausible = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || matches!(byte, b'.' | b'-' | b'+' | b'e' | b'E'));
    if !plausible {
        return None;
    }
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// Decodes the `\xhh` escapes of Zeek's ASCII writer; any other backslash is kept as it is.
/// Escaped bytes that do not form UTF-8 become U+FFFD.
pub(crate) fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains("\\x") {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while let Some(&byte) = bytes.get(idx) {
        if byte == b'\\'
            && bytes.get(idx + 1) == Some(&b'x')
            && let (Some(high), Some(low)) =
                (bytes.get(idx + 2).and_then(hex_digit), bytes.get(idx + 3).and_then(hex_digit))
        {
            out.push(high << 4 | low);
            idx += 4;
            continue;
        }
        out.push(byte);
        idx += 1;
    }
    match String::from_utf8(out) {
        Ok(text) => Cow::Owned(text),
        Err(error) => Cow::Owned(String::from_utf8_lossy(error.as_bytes()).into_owned()),
    }
}

fn hex_digit(byte: &u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// The types of the mapped logs' fields, from Zeek's own headers (Zeek 6 and 7, with the
/// fields of common policy scripts and packages: `community_id`, MAC logging, VLANs, JA3, the
/// older `files.log` host sets and `ssl.log` certificate fields). Used for a TSV log without a
/// `#types` line and to type JSON numbers the way the TSV writer would.
const KNOWN_TYPES: &[(&str, &str)] = &[
    (
        "",
        "ts:time _write_ts:time uid:string id.orig_h:addr id.orig_p:port id.resp_h:addr id.resp_p:port",
    ),
    (
        "conn",
        "proto:enum service:string duration:interval orig_bytes:count resp_bytes:count \
         conn_state:string local_orig:bool local_resp:bool missed_bytes:count history:string \
         orig_pkts:count orig_ip_bytes:count resp_pkts:count resp_ip_bytes:count \
         tunnel_parents:set[string] ip_proto:count community_id:string orig_l2_addr:string \
         resp_l2_addr:string vlan:int inner_vlan:int",
    ),
    (
        "dns",
        "proto:enum trans_id:count rtt:interval query:string qclass:count qclass_name:string \
         qtype:count qtype_name:string rcode:count rcode_name:string AA:bool TC:bool RD:bool \
         RA:bool Z:count answers:vector[string] TTLs:vector[interval] rejected:bool",
    ),
    (
        "http",
        "trans_depth:count method:string host:string uri:string referrer:string version:string \
         user_agent:string origin:string request_body_len:count response_body_len:count \
         status_code:count status_msg:string info_code:count info_msg:string tags:set[enum] \
         username:string password:string proxied:set[string] orig_fuids:vector[string] \
         orig_filenames:vector[string] orig_mime_types:vector[string] resp_fuids:vector[string] \
         resp_filenames:vector[string] resp_mime_types:vector[string]",
    ),
    (
        "ssl",
        "version:string cipher:string curve:string server_name:string resumed:bool \
         last_alert:string next_protocol:string established:bool ssl_history:string \
         cert_chain_fps:vector[string] client_cert_chain_fps:vector[string] \
         sni_matches_cert:bool validation_status:string ja3:string ja3s:string subject:string \
         issuer:string client_subject:string client_issuer:string not_valid_before:time \
         not_valid_after:time",
    ),
    (
        "files",
        "fuid:string tx_hosts:set[addr] rx_hosts:set[addr] conn_uids:set[string] source:string \
         depth:count analyzers:set[string] mime_type:string filename:string duration:interval \
         local_orig:bool is_orig:bool seen_bytes:count total_bytes:count missing_bytes:count \
         overflow_bytes:count timedout:bool parent_fuid:string md5:string sha1:string \
         sha256:string extracted:string extracted_cutoff:bool extracted_size:count",
    ),
    (
        "notice",
        "fuid:string file_mime_type:string file_desc:string proto:enum note:enum msg:string \
         sub:string src:addr dst:addr p:port n:count peer_descr:string actions:set[enum] \
         email_dest:set[string] suppress_for:interval remote_location.country_code:string \
         remote_location.region:string remote_location.city:string \
         remote_location.latitude:double remote_location.longitude:double",
    ),
    ("weird", "name:string addl:string notice:bool peer:string source:string"),
];

/// [`KNOWN_TYPES`] by (log, field); the fields every log shares under the log `""`.
static KNOWN_TYPE_INDEX: LazyLock<HashMap<(&'static str, &'static str), ZeekType>> =
    LazyLock::new(|| {
        let mut index = HashMap::new();
        for (log, layout) in KNOWN_TYPES {
            for entry in layout.split_ascii_whitespace() {
                if let Some((name, ty)) = entry.split_once(':') {
                    index.insert((*log, name), ZeekType::parse(ty));
                }
            }
        }
        index
    });

/// The Zeek type of a field of a known log (or of the fields every log shares).
pub(crate) fn known_type(path: &str, field: &str) -> Option<ZeekType> {
    KNOWN_TYPE_INDEX.get(&(path, field)).or_else(|| KNOWN_TYPE_INDEX.get(&("", field))).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_hex_sequences_only() {
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape("a\\x09b"), "a\tb");
        assert_eq!(unescape("C:\\x5cWindows"), "C:\\Windows");
        assert_eq!(unescape("\\x2d"), "-");
        assert_eq!(unescape("\\xZZ\\x4"), "\\xZZ\\x4");
        assert_eq!(unescape("\\x41\\x42"), "AB");
        assert_eq!(unescape("caf\\xc3\\xa9"), "café");
        assert_eq!(unescape("\\xff"), "\u{fffd}");
        assert_eq!(unescape("trailing\\"), "trailing\\");
    }

    #[test]
    fn types_read_as_zeek_writes_them() {
        assert_eq!(ZeekType::parse("set[string]"), ZeekType::List(Scalar::String));
        assert_eq!(ZeekType::parse("vector[interval]"), ZeekType::List(Scalar::Interval));
        assert_eq!(ZeekType::parse("table[string]"), ZeekType::List(Scalar::String));
        assert_eq!(ZeekType::parse("enum"), ZeekType::Scalar(Scalar::String));
        assert_eq!(typed("T", Scalar::Bool), Value::Bool(true));
        assert_eq!(typed("yes", Scalar::Bool), Value::from("yes"));
        assert_eq!(
            typed("18446744073709551615", Scalar::Count),
            Value::from("18446744073709551615")
        );
        assert_eq!(typed("443", Scalar::Port), Value::Int(443));
        assert_eq!(typed("80/tcp", Scalar::Port), Value::Int(80));
        assert_eq!(typed("70000", Scalar::Port), Value::from("70000"));
        assert_eq!(typed("0.071811", Scalar::Interval), Value::Float(0.071811));
        assert_eq!(typed("inf", Scalar::Double), Value::from("inf"));
        assert_eq!(typed("1334102677.000000", Scalar::Time), Value::from("2012-04-11T00:04:37Z"));
        assert_eq!(known_type("dns", "TTLs"), Some(ZeekType::List(Scalar::Interval)));
        assert_eq!(known_type("weird", "ts"), Some(ZeekType::Scalar(Scalar::Time)));
        assert_eq!(known_type("weird", "TTLs"), None);
    }

    #[test]
    fn markers_are_compared_before_unescaping() {
        let reader = TsvReader::new();
        let string = ZeekType::Scalar(Scalar::String);
        assert_eq!(reader.value("-", string), None);
        assert_eq!(reader.value("\\x2d", string), Some(Value::from("-")));
        assert_eq!(reader.value("(empty)", string), Some(Value::from("")));
        assert_eq!(reader.value("\\x28empty)", string), Some(Value::from("(empty)")));
        let set = ZeekType::List(Scalar::String);
        assert_eq!(reader.value("(empty)", set), Some(Value::List(Vec::new())));
        assert_eq!(
            reader.value("a\\x2cb,c", set),
            Some(Value::List(vec![Value::from("a,b"), Value::from("c")]))
        );
        assert_eq!(reader.value("(empty)", ZeekType::Scalar(Scalar::Count)), None);
    }

    #[test]
    fn a_new_header_block_resets_the_reader() {
        let mut reader = TsvReader::new();
        assert!(matches!(reader.line("1.0\tCabcdefghij"), TsvLine::Unparsed));
        for line in
            ["#separator \\x09", "#path\tweird", "#fields\tts\tname", "#types\ttime\tstring"]
        {
            assert!(matches!(reader.line(line), TsvLine::Header));
        }
        assert!(matches!(reader.line("1.0\tbad_TCP_checksum"), TsvLine::Event(_)));
        assert!(matches!(reader.line("1.0"), TsvLine::Unparsed));
        // A block with another separator.
        for line in ["#separator |", "#path|notice", "#fields|ts|note|msg"] {
            assert!(matches!(reader.line(line), TsvLine::Header));
        }
        assert!(matches!(reader.line("2.5|Scan::Port_Scan|x|y"), TsvLine::Unparsed));
        let TsvLine::Event(event) = reader.line("2.5|Scan::Port_Scan|scan") else {
            panic!("expected an event");
        };
        assert_eq!(event.get_str("event.dataset").as_deref(), Some("zeek.notice"));
        assert_eq!(event.get_str("rule.name").as_deref(), Some("Scan::Port_Scan"));
    }
}
