//! Source types and the line decoder every line-oriented input shares (HTTP ingest, `palisade
//! ingest` of text files, file tailing).
//!
//! A caller names a [`SourceType`] when it knows what it sends (`type=nginx`), or leaves it
//! on [`SourceType::Auto`]. Auto-detection only picks a parser from a shape that no other
//! format has: a JSON object (then the JSON dispatch: Suricata, Zeek, CloudTrail, Windows,
//! generic), a Zeek TSV header, an audit.log record (`type=X msg=audit(`), a CEF or LEEF
//! header, an access-log line (`HOST IDENT USER [TIME] "REQUEST" STATUS`), an Apache error-log
//! line (`[Www Mmm DD HH:MM:SS`), a BIND query-log line (`DD-Mon-YYYY HH:MM:SS.mmm`), and otherwise syslog, whose program name then picks
//! the message parser (sshd, dhcpd, named, postfix/*, kernel...). logfmt is never guessed:
//! too much prose looks like `key=value`.
//!
//! Whatever the type, a line that its parser does not understand is kept whole and tagged
//! [`TAG_UNPARSED`](crate::line::TAG_UNPARSED), never dropped.

use aho_corasick::AhoCorasick;
use palisade_event::{Event, Value};

use crate::line::{TAG_TRUNCATED, raw_event, syslog_event};
use crate::syslog::SyslogContext;
use crate::web::WebServer;
use crate::zeek::{TsvLine, TsvReader};

/// What a caller says its lines are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceType {
    /// Detect per line, where it is safe (see the module documentation).
    Auto,
    /// JSON objects (NDJSON), dispatched by shape.
    Json,
    /// Syslog (RFC 5424, BSD, or as in /var/log), then the program's message parser.
    Syslog,
    /// Keep every line whole.
    Raw,
    /// `/var/log/audit/audit.log`.
    Auditd,
    /// A BIND query-log file.
    Bind,
    /// An nginx access log.
    Nginx,
    /// An Apache httpd access log.
    Apache,
    /// An Apache httpd error log.
    ApacheError,
    /// Zeek logs, TSV with their headers or JSON.
    Zeek,
    /// Suricata EVE JSON.
    Suricata,
    /// AWS CloudTrail records (one per line, or `{"Records": [...]}` documents).
    CloudTrail,
    /// CEF or LEEF records, bare or behind a syslog header.
    Cef,
    /// logfmt (`key=value key2="quoted"`).
    Logfmt,
}

/// Every source type with its name and what it reads; the names are what `type=` accepts.
pub const SOURCE_TYPES: &[(&str, SourceType, &str)] = &[
    ("auto", SourceType::Auto, "detect per line where safe"),
    ("json", SourceType::Json, "JSON objects, one per line"),
    ("syslog", SourceType::Syslog, "syslog lines, then the program's parser"),
    ("raw", SourceType::Raw, "keep every line whole"),
    ("auditd", SourceType::Auditd, "Linux audit.log"),
    ("bind", SourceType::Bind, "BIND query log"),
    ("nginx", SourceType::Nginx, "nginx access log"),
    ("apache", SourceType::Apache, "Apache httpd access log"),
    ("apache_error", SourceType::ApacheError, "Apache httpd error log"),
    ("zeek", SourceType::Zeek, "Zeek TSV or JSON logs"),
    ("suricata", SourceType::Suricata, "Suricata EVE JSON"),
    ("cloudtrail", SourceType::CloudTrail, "AWS CloudTrail records"),
    ("cef", SourceType::Cef, "CEF or LEEF"),
    ("logfmt", SourceType::Logfmt, "logfmt key=value lines"),
];

impl SourceType {
    /// Looks a type up by name (`ndjson` is accepted for `json`, `leef` for `cef`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        let name = match name {
            "ndjson" => "json",
            "leef" => "cef",
            "aws-cloudtrail" => "cloudtrail",
            "apache2" | "httpd" => "apache",
            "named" => "bind",
            other => other,
        };
        SOURCE_TYPES.iter().find(|(known, _, _)| *known == name).map(|(_, kind, _)| *kind)
    }

    /// The names [`SourceType::from_name`] accepts, for error messages.
    #[must_use]
    pub fn names() -> String {
        SOURCE_TYPES.iter().map(|(name, _, _)| *name).collect::<Vec<_>>().join(", ")
    }
}

/// What one line gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// Events a parser understood (a CloudTrail document may give many).
    Parsed(usize),
    /// One event keeping the line whole, tagged.
    Unparsed,
    /// A line that carries no event (blank, or a Zeek header).
    Skipped,
}

/// Turns lines into events for one stream (one request body, one file), keeping the state a
/// format needs across lines (the Zeek TSV header).
#[derive(Debug)]
pub struct LineDecoder {
    source: SourceType,
    ctx: SyslogContext,
    zeek: TsvReader,
    /// Whether the stream is inside a Zeek TSV log (a `#fields` header was seen in auto mode).
    in_zeek: bool,
}

/// Keys whose presence sends a JSON line down the slower, shape-aware path.
const JSON_MARKERS: &[&[u8]] = &[
    b"\"event_type\"",
    b"\"id.orig_h\"",
    b"\"uid\"",
    b"\"fuid\"",
    b"\"_path\"",
    b"\"eventSource\"",
    b"\"Records\"",
    b"\"winlog\"",
    b"\"Event\"",
    b"\"System\"",
];

impl LineDecoder {
    /// A decoder for a stream of `source` lines; `ctx` gives the receive time and the zone of
    /// zone-less timestamps (syslog, BIND).
    #[must_use]
    pub fn new(source: SourceType, ctx: SyslogContext) -> Self {
        Self { source, ctx, zeek: TsvReader::new(), in_zeek: false }
    }

    /// Updates the receive time (a long-lived stream such as a tailed file).
    pub fn set_received(&mut self, received: palisade_event::Timestamp) {
        self.ctx.received = received;
    }

    /// Decodes one line (without its line ending) into `out`. `truncated` tags the event(s)
    /// of a line that was cut at the input's size limit.
    pub fn decode(&mut self, line: &[u8], truncated: bool, out: &mut Vec<Event>) -> Decoded {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Decoded::Skipped;
        }
        let start = out.len();
        let decoded = self.decode_line(line, out);
        if truncated {
            for event in &mut out[start..] {
                let tags = with_tag(event.get("tags"), TAG_TRUNCATED);
                event.insert("tags", tags);
            }
        }
        decoded
    }

    fn decode_line(&mut self, line: &[u8], out: &mut Vec<Event>) -> Decoded {
        let text = crate::text::utf8_lossy(line);
        let trimmed = text.trim_start();
        match self.source {
            SourceType::Raw => unparsed(&text, out),
            SourceType::Json => json_line(line, None, &text, out),
            SourceType::Suricata => json_line(line, Some(crate::suricata::from_json), &text, out),
            SourceType::CloudTrail => {
                json_line(line, Some(crate::cloudtrail::from_json), &text, out)
            }
            SourceType::Syslog => self.syslog(line, out),
            SourceType::Auditd => parsed(crate::auditd::parse_line(&text), &text, out),
            SourceType::Bind => {
                parsed(crate::dns::parse_line(&text, &self.ctx.time_zone), &text, out)
            }
            SourceType::Nginx => {
                parsed(crate::web::parse_line(&text, WebServer::Nginx), &text, out)
            }
            SourceType::Apache => {
                parsed(crate::web::parse_line(&text, WebServer::Apache), &text, out)
            }
            SourceType::ApacheError => parsed(crate::web::parse_error_line(&text), &text, out),
            SourceType::Cef => match crate::cef::parse_line(trimmed) {
                Some(event) => parsed(Some(event), &text, out),
                None => self.syslog(line, out),
            },
            SourceType::Logfmt => parsed(crate::logfmt::parse_line(&text), &text, out),
            SourceType::Zeek => {
                if trimmed.starts_with('{') {
                    json_line(line, Some(crate::zeek::from_json), &text, out)
                } else {
                    self.zeek_tsv(&text, out)
                }
            }
            SourceType::Auto => self.auto(line, &text, out),
        }
    }

    fn auto(&mut self, line: &[u8], text: &str, out: &mut Vec<Event>) -> Decoded {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            return json_line(line, None, text, out);
        }
        if trimmed.starts_with("#separator") || trimmed.starts_with("#fields") {
            self.in_zeek = true;
        }
        if self.in_zeek {
            if trimmed.starts_with('#') {
                return self.zeek_tsv(text, out);
            }
            if let TsvLine::Event(event) = self.zeek.line(text) {
                out.push(event);
                return Decoded::Parsed(1);
            }
        }
        if (trimmed.starts_with("type=") || trimmed.starts_with("node="))
            && trimmed.contains(" msg=audit(")
            && let Some(event) = crate::auditd::parse_line(text)
        {
            out.push(event);
            return Decoded::Parsed(1);
        }
        if (trimmed.starts_with("CEF:") || trimmed.starts_with("LEEF:"))
            && let Some(event) = crate::cef::parse_line(trimmed)
        {
            out.push(event);
            return Decoded::Parsed(1);
        }
        if looks_like_access_log(trimmed)
            && let Some(event) = crate::web::parse_line(text, WebServer::Unknown)
        {
            out.push(event);
            return Decoded::Parsed(1);
        }
        if looks_like_apache_error_time(trimmed)
            && let Some(event) = crate::web::parse_error_line(text)
        {
            out.push(event);
            return Decoded::Parsed(1);
        }
        if looks_like_bind_time(trimmed)
            && let Some(event) = crate::dns::parse_line(text, &self.ctx.time_zone)
        {
            out.push(event);
            return Decoded::Parsed(1);
        }
        self.syslog(line, out)
    }

    fn syslog(&mut self, line: &[u8], out: &mut Vec<Event>) -> Decoded {
        let (event, parsed) = syslog_event(line, &self.ctx, false);
        out.push(event);
        if parsed { Decoded::Parsed(1) } else { Decoded::Unparsed }
    }

    fn zeek_tsv(&mut self, text: &str, out: &mut Vec<Event>) -> Decoded {
        match self.zeek.line(text) {
            TsvLine::Header => Decoded::Skipped,
            TsvLine::Event(event) => {
                out.push(event);
                Decoded::Parsed(1)
            }
            TsvLine::Unparsed => unparsed(text, out),
        }
    }
}

fn unparsed(text: &str, out: &mut Vec<Event>) -> Decoded {
    out.push(raw_event(text));
    Decoded::Unparsed
}

fn parsed(event: Option<Event>, text: &str, out: &mut Vec<Event>) -> Decoded {
    match event {
        Some(event) => {
            out.push(event);
            Decoded::Parsed(1)
        }
        None => unparsed(text, out),
    }
}

/// One JSON line: the fast generic path unless a marker key calls for the shape dispatch (or
/// the caller forces a parser). `{"Records": [...]}` gives one event per CloudTrail record.
fn json_line(
    line: &[u8],
    forced: Option<fn(&serde_json::Value) -> Event>,
    text: &str,
    out: &mut Vec<Event>,
) -> Decoded {
    let parsed = match forced {
        None => json_line_events(line).ok(),
        Some(parse) => serde_json::from_slice::<serde_json::Value>(line)
            .ok()
            .filter(serde_json::Value::is_object)
            .map(|document| match cloudtrail_records(&document) {
                Some(records) => records.iter().map(crate::cloudtrail::from_json).collect(),
                None => vec![parse(&document)],
            }),
    };
    match parsed {
        Some(events) => {
            let count = events.len();
            out.extend(events);
            Decoded::Parsed(count)
        }
        None => unparsed(text, out),
    }
}

/// Reads one JSON line into its events: a JSON object in any shape the JSON dispatch knows
/// (Suricata EVE, Zeek, CloudTrail, Windows, generic), or a CloudTrail `{"Records": [...]}`
/// document as one event per record. Lines without a distinctive key take the fast generic
/// path.
///
/// # Errors
/// The line is not a JSON object.
pub fn json_line_events(line: &[u8]) -> Result<Vec<Event>, serde_json::Error> {
    if !has_json_marker(line) {
        return crate::format::json_fast::event_from_slice(line).map(|event| vec![event]);
    }
    let document = serde_json::from_slice::<serde_json::Value>(line)?;
    if !document.is_object() {
        return Err(serde::de::Error::custom("not a JSON object"));
    }
    Ok(match cloudtrail_records(&document) {
        Some(records) => records.iter().map(crate::cloudtrail::from_json).collect(),
        None => vec![crate::format::json::event_from_document(&document)],
    })
}

/// One JSON document that must be an object, as one event (an Elastic `_bulk` source, say):
/// the direct reader when no distinctive key is in it, otherwise the shape-recognising
/// reader. Unlike [`json_line_events`], a CloudTrail file's `Records` stay one event, since
/// the caller answers for one document.
///
/// # Errors
/// The document is not valid JSON, or not an object.
pub fn json_object_event(document: &[u8]) -> Result<Event, serde_json::Error> {
    if document.trim_ascii_start().first() != Some(&b'{') {
        return Err(serde::de::Error::custom("not a JSON object"));
    }
    if !has_json_marker(document) {
        return crate::format::json_fast::event_from_slice(document);
    }
    let value = serde_json::from_slice::<serde_json::Value>(document)?;
    Ok(crate::format::json::event_from_document(&value))
}

/// All of [`JSON_MARKERS`] searched for at once. A `memmem::find` per marker built a new
/// searcher for each marker on every document: about 7,400 instructions for a 400-byte
/// `_bulk` document, an eighth of importing it.
struct MarkerSearch {
    /// One pass of SIMD fingerprints (Teddy), where the processor has them.
    packed: Option<aho_corasick::packed::Searcher>,
    /// Otherwise an automaton over every byte. Not with its usual prefilter: every marker
    /// starts with `"`, as every key of a JSON document does, so it would stop at each key.
    automaton: AhoCorasick,
}

impl MarkerSearch {
    fn new() -> Self {
        #[allow(clippy::expect_used)]
        let automaton = AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .prefilter(false)
            .build(JSON_MARKERS)
            .expect("ten short fixed patterns always build");
        Self { packed: aho_corasick::packed::Searcher::new(JSON_MARKERS), automaton }
    }

    fn is_match(&self, document: &[u8]) -> bool {
        match &self.packed {
            Some(packed) => packed.find(document).is_some(),
            None => self.automaton.is_match(document),
        }
    }
}

static JSON_MARKER_SEARCH: std::sync::LazyLock<MarkerSearch> =
    std::sync::LazyLock::new(MarkerSearch::new);

/// True when a JSON document holds a key of a known shape ([`JSON_MARKERS`]): it then takes
/// the shape-recognising reader instead of the direct one.
fn has_json_marker(document: &[u8]) -> bool {
    JSON_MARKER_SEARCH.is_match(document)
}

/// The records of a CloudTrail log file as delivered to S3 (`{"Records": [...]}`).
#[must_use]
pub fn cloudtrail_records(document: &serde_json::Value) -> Option<&Vec<serde_json::Value>> {
    document
        .get("Records")
        .and_then(serde_json::Value::as_array)
        .filter(|records| records.iter().any(crate::cloudtrail::looks_like))
}

/// `HOST IDENT USER [TIME] "`: the common/combined access-log shape, with an optional
/// `vhost:port ` in front (vhost_combined). Syslog headers have more words before any `[`.
fn looks_like_access_log(text: &str) -> bool {
    let Some(open) = text.find(" [") else { return false };
    let words = text[..open].split(' ').count();
    let rest = &text[open + 2..];
    (3..=4).contains(&words) && rest.find("] \"").is_some_and(|close| close <= 40)
}

/// `[Www Mmm DD HH:MM:SS`: the time stamp that opens an Apache error-log line.
fn looks_like_apache_error_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() > 26
        && bytes[0] == b'['
        && bytes[1..4].iter().all(u8::is_ascii_alphabetic)
        && bytes[4] == b' '
        && bytes[5..8].iter().all(u8::is_ascii_alphabetic)
        && bytes[8] == b' '
        && bytes[14] == b':'
        && bytes[17] == b':'
}

/// `DD-Mon-YYYY HH:MM:SS`: BIND's own log-file time stamp.
fn looks_like_bind_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() > 20
        && bytes[0].is_ascii_digit()
        && bytes[1].is_ascii_digit()
        && bytes[2] == b'-'
        && bytes[3..6].iter().all(u8::is_ascii_alphabetic)
        && bytes[6] == b'-'
        && bytes[7..11].iter().all(u8::is_ascii_digit)
        && bytes[11] == b' '
}

fn with_tag(existing: Option<&Value>, tag: &str) -> Value {
    let mut tags = match existing {
        Some(Value::List(items)) => items.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    };
    tags.push(Value::from(tag));
    Value::List(tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::TAG_UNPARSED;

    fn decode_all(source: SourceType, text: &str) -> (Vec<Event>, Vec<Decoded>) {
        let ctx = SyslogContext::utc("2026-12-01T12:00:00Z".parse().expect("time"));
        let mut decoder = LineDecoder::new(source, ctx);
        let mut events = Vec::new();
        let outcomes =
            text.lines().map(|line| decoder.decode(line.as_bytes(), false, &mut events)).collect();
        (events, outcomes)
    }

    /// Each marker, wherever it is in a document, sends it down the shape-aware path; a
    /// document with none of them, or with a marker's text only as part of a longer key or
    /// a value without its quotes, does not go there.
    #[test]
    fn every_json_marker_is_found_anywhere() {
        for marker in JSON_MARKERS {
            let marker = std::str::from_utf8(marker).expect("ASCII");
            for document in [
                format!("{{{marker}:1}}"),
                format!(r#"{{"a":"{}","b":{{{marker}:[]}}}}"#, "x".repeat(300)),
                format!(r#"{{"a":1,{marker}:"last"}}"#),
            ] {
                assert!(has_json_marker(document.as_bytes()), "{document}");
                assert!(JSON_MARKER_SEARCH.automaton.is_match(document.as_bytes()), "{document}");
            }
        }
        for document in [
            r#"{"user":{"name":"Bob"},"source":{"ip":"192.0.2.1"}}"#,
            r#"{"my_event_type":1,"uids":2,"msg":"Records System uid"}"#,
            "",
        ] {
            assert!(!has_json_marker(document.as_bytes()), "{document}");
            assert!(!JSON_MARKER_SEARCH.automaton.is_match(document.as_bytes()), "{document}");
        }
    }

    #[test]
    fn a_json_object_document_is_one_event_read_by_either_path() {
        let plain = br#" {"user":{"name":"Bob"},"source":{"ip":"192.0.2.1"},"@timestamp":"2026-01-02T03:04:05Z"}"#;
        let marked = br#"{"winlog":{"channel":"Security","event_id":4625},"event_type":"x"}"#;
        let trail = br#"{"Records":[{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventTime":"2026-01-02T03:04:05Z"}]}"#;
        for document in [&plain[..], &marked[..], &trail[..]] {
            let value: serde_json::Value = serde_json::from_slice(document).expect("json");
            let expected = crate::format::json::event_from_document(&value);
            assert_eq!(json_object_event(document).expect("reads"), expected);
        }
        let plain = json_object_event(plain).expect("reads");
        assert_eq!(plain.get_str("user.name").as_deref(), Some("Bob"));
        assert!(plain.timestamp().is_some());
        for refused in [&b"[1, 2]"[..], b"\"text\"", b"42", b"", b"{\"open\": ", b"{} {}"] {
            assert!(json_object_event(refused).is_err(), "{:?}", String::from_utf8_lossy(refused));
        }
    }

    #[test]
    fn names_round_trip() {
        for (name, kind, _) in SOURCE_TYPES {
            assert_eq!(SourceType::from_name(name), Some(*kind));
        }
        assert_eq!(SourceType::from_name("ndjson"), Some(SourceType::Json));
        assert_eq!(SourceType::from_name("nope"), None);
    }

    #[test]
    fn unknown_lines_are_kept_raw_and_tagged() {
        let (events, outcomes) = decode_all(SourceType::Raw, "a b c\n\nsecond");
        assert_eq!(outcomes, [Decoded::Unparsed, Decoded::Skipped, Decoded::Unparsed]);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].get("tags"), Some(&Value::List(vec![Value::from(TAG_UNPARSED)])));
    }

    #[test]
    fn auto_reads_json_and_syslog() {
        let text = "{\"a\": 1}\n<38>Nov 30 22:00:01 bastion sshd[811]: Failed password for root from 198.51.100.4 port 2222 ssh2";
        let (events, outcomes) = decode_all(SourceType::Auto, text);
        assert_eq!(outcomes, [Decoded::Parsed(1), Decoded::Parsed(1)]);
        assert_eq!(events[1].get_str("source.ip").as_deref(), Some("198.51.100.4"));
    }

    #[test]
    fn shapes_are_recognised_strictly() {
        assert!(looks_like_access_log(
            "192.0.2.1 - - [10/Oct/2026:13:55:36 -0700] \"GET / HTTP/1.1\" 200 2326"
        ));
        assert!(looks_like_access_log(
            "www.example.com:443 2001:db8::1 - - [10/Oct/2026:13:55:36 -0700] \"GET / HTTP/1.1\" 200 2326"
        ));
        assert!(!looks_like_access_log("Nov 30 22:00:01 host app: [x] \"y\""));
        assert!(looks_like_bind_time("01-Dec-2026 10:00:00.123 client @0x1 192.0.2.7#1: query"));
        assert!(!looks_like_bind_time("2026-12-01 10:00:00"));
        assert!(looks_like_apache_error_time(
            "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok"
        ));
        assert!(!looks_like_apache_error_time("[UFW BLOCK] IN=eth0 OUT= MAC=00:11"));
    }

    #[test]
    fn truncated_lines_are_tagged() {
        let ctx = SyslogContext::utc("2026-12-01T12:00:00Z".parse().expect("time"));
        let mut decoder = LineDecoder::new(SourceType::Raw, ctx);
        let mut events = Vec::new();
        decoder.decode(b"cut here", true, &mut events);
        assert_eq!(
            events[0].get("tags"),
            Some(&Value::List(vec![Value::from(TAG_UNPARSED), Value::from(TAG_TRUNCATED)]))
        );
    }
}
