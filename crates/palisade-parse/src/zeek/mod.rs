//! Zeek logs, in both of Zeek's writers' formats: JSON (one object per line, flat dotted keys,
//! `LogAscii::use_json=T` or `policy/tuning/json-logs`) and the default tab-separated ASCII
//! ("TSV") format with its `#separator`/`#fields`/`#types` header.
//!
//! - [`looks_like`] / [`from_json`] / [`from_json_with_path`]: one JSON record. The log (its
//!   "path": `conn`, `dns`...) comes from `_path` when the writer includes it, else from the
//!   caller (the file name, see [`log_path_from_file_name`]), else from the record's
//!   distinctive keys (see [`infer_path`]).
//! - [`TsvReader`]: a TSV log line by line; it keeps the header it needs to name and type the
//!   columns, survives a second header block mid-stream (rotation, concatenated files), and
//!   reports a line with the wrong number of columns as [`TsvLine::Unparsed`].
//!
//! Both formats go through the same mapping, so one record gives the same fields whichever
//! writer wrote it. Every original field is kept, typed, under `zeek.<path>.<field>`; `ts`
//! becomes the event time; the seven logs `conn`, `dns`, `http`, `ssl`, `files`, `notice` and
//! `weird` are also mapped to ECS (`source.*`, `destination.*`, `network.*`, `dns.*`, `http.*`,
//! `url.*`, `tls.*`, `file.*`, `rule.name`...), with `event.dataset` `zeek.<path>`. Other logs
//! get `zeek.<path>` too, with the connection 4-tuple in `source.*`/`destination.*`.
//!
//! Values are typed as Zeek typed them: `count`/`int`/`port` give integers, `double` and
//! `interval` floats, `bool` booleans, `time` an RFC 3339 timestamp, sets and vectors lists.
//! Unset fields (`-`, or absent/`null` in JSON) are left out; `(empty)` gives an empty string or
//! list. TSV escapes (`\x09`, `\x5c`, any `\xhh`) are decoded. The full field table is in
//! `docs/parsers/zeek.md`.
//!
//! Input is untrusted: nothing here panics, every step is linear in the input, strings are
//! capped (see [`crate::ecs`]), and a header cannot make the reader keep unbounded state.

mod mapping;
mod tsv;

pub use tsv::{TsvLine, TsvReader};

use palisade_event::{Event, Str, Timestamp, Value};
use serde_json::Value as Json;

use crate::ecs::parse_int;

/// The logs mapped to ECS fields beyond the generic 4-tuple (datasets `zeek.<name>`).
pub const MAPPED_LOGS: [&str; 7] = ["conn", "dns", "http", "ssl", "files", "notice", "weird"];

/// Longest log path accepted (`conn`, `dns`, `known_services`...), in bytes.
const MAX_PATH_LEN: usize = 64;
/// The path given to a record whose log could not be determined.
pub const UNKNOWN_PATH: &str = "unknown";

/// True when `document` is a Zeek JSON record (checked on a few distinctive keys, so that
/// auto-detection is safe): an object with `ts` (a number or a string) and either a `_path`,
/// a Zeek connection uid (`uid` of the form `C` + base62), a file id (`fuid`, `F` + base62),
/// a flat `id.orig_h`, the `note` (a `Module::Name`) and `msg` of `notice.log`, or the
/// `name`/`notice`/`peer` keys of `weird.log`. Suricata EVE
/// (`event_type`), CloudTrail (`eventVersion`/`eventSource`), Winlogbeat (`winlog`) and ECS
/// documents (`@timestamp`) are never claimed.
#[must_use]
pub fn looks_like(document: &Json) -> bool {
    let Some(object) = document.as_object() else { return false };
    let ts_ok = object.get("ts").is_some_and(|ts| ts.is_number() || ts.is_string());
    if !ts_ok {
        return false;
    }
    if ["event_type", "eventVersion", "eventSource", "winlog", "@timestamp"]
        .iter()
        .any(|key| object.contains_key(*key))
    {
        return false;
    }
    let text = |key: &str| object.get(key).and_then(Json::as_str);
    if text("_path").is_some_and(|path| clean_path(path).is_some()) {
        return true;
    }
    if text("uid").is_some_and(|uid| is_zeek_id(uid, b'C'))
        || text("fuid").is_some_and(|fuid| is_zeek_id(fuid, b'F'))
    {
        return true;
    }
    if text("id.orig_h").is_some_and(|ip| crate::ecs::ip_text(ip).is_some()) {
        return true;
    }
    if text("note").is_some_and(|note| note.contains("::")) && text("msg").is_some() {
        return true;
    }
    text("name").is_some()
        && object.get("notice").is_some_and(Json::is_boolean)
        && text("peer").is_some()
}

/// Converts one Zeek JSON record into an event: every field under `zeek.<path>.<field>`, the
/// ECS fields of its log, `event.dataset` and the time from `ts`. The log is taken from
/// `_path`, or inferred from the record's keys ([`infer_path`]). A document that is not an
/// object is flattened as generic JSON.
#[must_use]
pub fn from_json(document: &Json) -> Event {
    from_json_inner(document, None)
}

/// Like [`from_json`], for callers that know the log (from the file name: see
/// [`log_path_from_file_name`]). A `_path` in the record still wins (several logs can share
/// one file); an invalid `path` (empty, over 64 bytes, characters other than ASCII letters,
/// digits, `_` and `-`) is ignored.
#[must_use]
pub fn from_json_with_path(document: &Json, path: &str) -> Event {
    from_json_inner(document, Some(path))
}

fn from_json_inner(document: &Json, path: Option<&str>) -> Event {
    if !document.is_object() {
        return crate::format::json::event_from_generic(document);
    }
    let mut flat: Vec<(Str, Value)> = Vec::with_capacity(32);
    crate::format::windows::flatten_into("", document, &mut flat);
    flat.retain(|(name, value)| !name.is_empty() && !matches!(value, Value::Null));
    let mut raw = Event::from_fields(flat);
    let path = document
        .get("_path")
        .and_then(Json::as_str)
        .and_then(clean_path)
        .or_else(|| path.and_then(clean_path))
        .unwrap_or_else(|| infer_path(&raw))
        .to_owned();
    normalize_json_types(&path, &mut raw);
    let timestamp = document.get("ts").and_then(json_time);
    mapping::build(&path, timestamp, &raw)
}

/// JSON carries no types: a `time` field is a number or an ISO 8601 text, and an `interval`
/// of whole seconds may have lost its decimals on the way (`60` for `60.0`). The fields whose
/// Zeek type is known (the `ts` and `_write_ts` of every log, and the real layouts of the
/// mapped logs) are given the type the TSV writer would give them, so that one record reads
/// the same from both formats.
fn normalize_json_types(path: &str, raw: &mut Event) {
    let mut changes: Vec<(String, Value)> = Vec::new();
    for (name, value) in raw.fields() {
        let Some(kind) = tsv::known_type(path, name) else { continue };
        let converted = match (kind.scalar(), value) {
            (tsv::Scalar::Time, Value::List(items)) => {
                Value::List(items.iter().map(json_time_value).collect())
            }
            (tsv::Scalar::Time, scalar) => json_time_value(scalar),
            (tsv::Scalar::Double | tsv::Scalar::Interval, Value::Int(int)) => {
                Value::Float(*int as f64)
            }
            (tsv::Scalar::Double | tsv::Scalar::Interval, Value::List(items)) => Value::List(
                items
                    .iter()
                    .map(|item| match item {
                        Value::Int(int) => Value::Float(*int as f64),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            _ => continue,
        };
        changes.push((name.to_owned(), converted));
    }
    for (name, value) in changes {
        raw.insert(name, value);
    }
}

/// A time value read from JSON, as the RFC 3339 text the event keeps (or the value as it was
/// when it is not a time).
fn json_time_value(value: &Value) -> Value {
    let timestamp = match value {
        Value::Str(text) => text_time(text.as_str()),
        Value::Int(int) => int_time(*int),
        Value::Float(float) => float_time(*float),
        _ => None,
    };
    timestamp.map_or_else(|| value.clone(), |timestamp| Value::from(timestamp.to_string()))
}

/// The time of a JSON `ts`: epoch seconds with decimals (Zeek's default, read from the
/// number's own digits so that no precision is lost), integer milliseconds
/// (`JSON::TS_MILLIS`) or ISO 8601 text (`JSON::TS_ISO8601`).
fn json_time(ts: &Json) -> Option<Timestamp> {
    match ts {
        Json::Number(number) => {
            if let Some(int) = number.as_i64() {
                return int_time(int);
            }
            let text = number.to_string();
            epoch_text(&text).or_else(|| number.as_f64().and_then(float_time))
        }
        Json::String(text) => text_time(text),
        _ => None,
    }
}

/// An integer time: seconds, or milliseconds when it is too large to be seconds (beyond the
/// year 5138), as `JSON::TS_MILLIS` writes.
fn int_time(int: i64) -> Option<Timestamp> {
    if int.unsigned_abs() >= 100_000_000_000 {
        Timestamp::from_millisecond(int).ok()
    } else {
        Timestamp::from_second(int).ok()
    }
}

fn float_time(float: f64) -> Option<Timestamp> {
    if !float.is_finite() || float.abs() > 1e11 {
        return None;
    }
    // Rounded to the microsecond, the precision Zeek writes.
    let micros = (float * 1e6).round() as i64;
    Timestamp::from_microsecond(micros).ok()
}

/// A time written as text: RFC 3339 / ISO 8601, or epoch seconds.
fn text_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    epoch_text(text).or_else(|| text.parse::<Timestamp>().ok())
}

/// Parses epoch seconds written in decimal (`1726201770.278903`, `-1.5`) exactly, to the
/// nanosecond (further digits are dropped).
#[must_use]
pub fn epoch_text(text: &str) -> Option<Timestamp> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty()
        || whole.len() > 12
        || !whole.bytes().all(|byte| byte.is_ascii_digit())
        || !fraction.bytes().all(|byte| byte.is_ascii_digit())
    {
        return None;
    }
    let seconds = i128::from(parse_int(whole)?);
    let mut nanos: i128 = 0;
    for position in 0..9 {
        let digit = fraction.as_bytes().get(position).map_or(0, |byte| byte - b'0');
        nanos = nanos * 10 + i128::from(digit);
    }
    let total = seconds * 1_000_000_000 + nanos;
    Timestamp::from_nanosecond(if negative { -total } else { total }).ok()
}

/// Returns `path` when it is a valid Zeek log path: 1 to 64 bytes of ASCII letters, digits,
/// `_` and `-`.
fn clean_path(path: &str) -> Option<&str> {
    let valid = !path.is_empty()
        && path.len() <= MAX_PATH_LEN
        && path.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'));
    valid.then_some(path)
}

/// A Zeek unique id: the prefix letter then 8 to 24 base62 characters.
fn is_zeek_id(text: &str, prefix: u8) -> bool {
    let bytes = text.as_bytes();
    bytes.first() == Some(&prefix)
        && (9..=25).contains(&bytes.len())
        && bytes.iter().all(u8::is_ascii_alphanumeric)
}

/// Returns the log path of a Zeek log file name, or `None` when the name is not that of a
/// Zeek log. The directory and compression suffixes are dropped, then the path is the name up
/// to its first `.`, without a rotation suffix that starts with `_` and a digit:
///
/// - `conn.log`, `/opt/zeek/logs/current/conn.log` → `conn`;
/// - `dns.20261201.log`, `conn.00:00:00-01:00:00.log.gz` (zeekctl archives),
///   `http.2024-09-13-16-38-11.log` → `dns`, `conn`, `http`;
/// - `conn_20240913_16:00:00-17:00:00+0000.log.gz` (Corelight) → `conn`;
/// - `known_services.log` → `known_services`.
///
/// The name must contain `.log` (so `notes.txt` gives `None`).
#[must_use]
pub fn log_path_from_file_name(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let has_log_suffix = base.split('.').skip(1).any(|part| part == "log");
    if !has_log_suffix {
        return None;
    }
    let stem = base.split('.').next().unwrap_or(base);
    // `conn_20240913_...`: cut at the first `_` followed by a digit.
    let bytes = stem.as_bytes();
    let cut = (0..bytes.len())
        .find(|&idx| {
            bytes.get(idx) == Some(&b'_') && bytes.get(idx + 1).is_some_and(u8::is_ascii_digit)
        })
        .unwrap_or(bytes.len());
    let path = stem.get(..cut)?;
    clean_path(path).map(str::to_owned)
}

/// Infers the log of a record without a `_path` from its distinctive keys, in this order:
///
/// | log | keys |
/// |---|---|
/// | `notice` | `note` and `msg` |
/// | `weird` | `name`, `notice` and `peer` |
/// | `files` | `fuid` with `mime_type`, `analyzers`, `seen_bytes` or `total_bytes` |
/// | `dns` | `query`, `qtype_name`, `trans_id` or `rcode_name` |
/// | `sip` | `call_id` with `method` or `request_from` (so SIP is not taken for HTTP) |
/// | `http` | `trans_depth` with `method`, `host`, `uri` or `status_code`; or `method` and `uri` |
/// | `ssl` | `server_name`, `cipher`, `established`, or `version` with `curve` |
/// | `conn` | `proto` with `conn_state`, `history`, `duration`, `orig_bytes` or `orig_pkts` |
///
/// and [`UNKNOWN_PATH`] otherwise.
#[must_use]
pub fn infer_path(raw: &Event) -> &'static str {
    let has = |key: &str| raw.get(key).is_some();
    let any = |keys: &[&str]| keys.iter().any(|key| has(key));
    if has("note") && has("msg") {
        "notice"
    } else if has("name") && has("notice") && has("peer") {
        "weird"
    } else if has("fuid") && any(&["mime_type", "analyzers", "seen_bytes", "total_bytes"]) {
        "files"
    } else if any(&["query", "qtype_name", "trans_id", "rcode_name"]) {
        "dns"
    } else if has("call_id") && any(&["method", "request_from"]) {
        "sip"
    } else if (has("trans_depth") && any(&["method", "host", "uri", "status_code"]))
        || (has("method") && has("uri"))
    {
        "http"
    } else if any(&["server_name", "cipher", "established"]) || (has("version") && has("curve")) {
        "ssl"
    } else if has("proto") && any(&["conn_state", "history", "duration", "orig_bytes", "orig_pkts"])
    {
        "conn"
    } else {
        UNKNOWN_PATH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_give_log_paths() {
        for (name, want) in [
            ("conn.log", Some("conn")),
            ("/opt/zeek/logs/current/dns.log", Some("dns")),
            ("dns.20261201.log", Some("dns")),
            ("conn.00:00:00-01:00:00.log.gz", Some("conn")),
            ("http.2024-09-13-16-38-11.log", Some("http")),
            ("conn_20240913_16:00:00-17:00:00+0000.log.gz", Some("conn")),
            ("known_services.log", Some("known_services")),
            ("C:\\zeek\\ssl.log", Some("ssl")),
            ("notes.txt", None),
            ("conn", None),
            (".log", None),
            ("c\u{f6}nn.log", None),
        ] {
            assert_eq!(log_path_from_file_name(name).as_deref(), want, "{name}");
        }
    }

    #[test]
    fn epoch_text_is_exact() {
        let ts = epoch_text("1726201770.278903").expect("time");
        assert_eq!(ts.to_string(), "2024-09-13T04:29:30.278903Z");
        assert_eq!(epoch_text("0").expect("time").to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(epoch_text("-1.5").expect("time").to_string(), "1969-12-31T23:59:58.5Z");
        assert_eq!(
            epoch_text("1.1234567891234").expect("time").to_string(),
            "1970-01-01T00:00:01.123456789Z"
        );
        for bad in ["", ".5", "1.2.3", "1e9", "abc", "99999999999999", "-", "1.-5"] {
            assert!(epoch_text(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn json_times_in_every_writer_format() {
        let parse = |text: &str| {
            json_time(&serde_json::from_str::<Json>(text).expect("json")).map(|t| t.to_string())
        };
        assert_eq!(parse("1726201775.01087").as_deref(), Some("2024-09-13T04:29:35.01087Z"));
        assert_eq!(parse("1726201775").as_deref(), Some("2024-09-13T04:29:35Z"));
        assert_eq!(parse("1726201775010").as_deref(), Some("2024-09-13T04:29:35.01Z"));
        assert_eq!(
            parse("\"2024-09-13T04:29:35.010870Z\"").as_deref(),
            Some("2024-09-13T04:29:35.01087Z")
        );
        assert_eq!(parse("1.7e9").as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(parse("\"yesterday\""), None);
        assert_eq!(parse("true"), None);
    }

    #[test]
    fn detection_needs_zeek_keys() {
        let yes = |text: &str| looks_like(&serde_json::from_str(text).expect("json"));
        assert!(yes(r#"{"ts":1.5,"uid":"CXWv6p3arKYeMETxOg","proto":"udp"}"#));
        assert!(yes(r#"{"ts":"2024-01-01T00:00:00Z","_path":"conn"}"#));
        assert!(yes(r#"{"ts":1.5,"fuid":"FQzmmA4txLAELVk6ug"}"#));
        assert!(yes(r#"{"ts":1.5,"id.orig_h":"2001:db8::1"}"#));
        assert!(yes(r#"{"ts":1.5,"name":"bad_TCP_checksum","notice":false,"peer":"zeek"}"#));
        assert!(!yes(r#"{"ts":1.5,"uid":"1000","user":"alice"}"#));
        assert!(yes(r#"{"ts":1.5,"note":"Scan::Port_Scan","msg":"scan"}"#));
        assert!(!yes(r#"{"ts":1.5,"note":"remember","msg":"hello"}"#));
        assert!(!yes(r#"{"ts":1.5,"msg":"hello"}"#));
        assert!(!yes(r#"{"uid":"CXWv6p3arKYeMETxOg"}"#));
        assert!(!yes(r#"{"ts":1.5,"uid":"CXWv6p3arKYeMETxOg","event_type":"flow"}"#));
        assert!(!yes(r#"{"ts":1.5,"_path":"conn","eventVersion":"1.08"}"#));
        assert!(!yes(r#"{"ts":1.5,"_path":"bad path"}"#));
        assert!(!yes(r#"[{"ts":1.5,"_path":"conn"}]"#));
    }
}
