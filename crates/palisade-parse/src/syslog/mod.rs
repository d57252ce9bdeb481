//! Syslog: the framing of a TCP or TLS stream into messages, and the parsing of one message
//! in either of the two formats found on the wire and in files.
//!
//! - [`Framer`] cuts a byte stream into frames per RFC 6587: octet-counted (`<len> <msg>`) or
//!   terminated by LF (also CRLF and NUL), detected again at every frame. It is bounded:
//!   memory never grows past the configured frame size. UDP needs no framer: one datagram is
//!   one message.
//! - [`parse`] reads one message: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`)
//!   first, then the BSD format of RFC 3164 with the variants that real senders and files use
//!   (no PRI, RFC 3339 timestamps, no hostname, Cisco sequence numbers...). It never fails:
//!   input that matches neither becomes a message with no header, marked
//!   [`SyslogFormat::Unparsed`].
//! - [`SyslogMessage::into_event`] maps the result to ECS names (`log.syslog.*`, `host.name`,
//!   `process.name`, `process.pid`, `message`, `event.original`).
//!
//! BSD timestamps have neither a year nor a time zone. Both come from the [`SyslogContext`]:
//! the zone to read them in, and the time the message was received, whose year is used unless
//! that would put the message more than [`FUTURE_TOLERANCE`] after its receipt (a December
//! line read in January belongs to the previous year; see [`SyslogContext`]).
//!
//! Invariants: nothing here panics or allocates without bound on any input (a property test
//! and the `parse_syslog` and `syslog_framing` fuzz targets check it). Bytes that are not UTF-8
//! are decoded lossily, field by field.

mod event;
mod framing;
mod priority;
mod rfc3164;
mod rfc5424;
mod time;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use palisade_event::Str;

pub use event::{TAG_INVALID_PRIORITY, TAG_UNPARSED};
pub use framing::{Frame, Framer, OVERSIZE_FACTOR};
pub use priority::{Facility, Severity};

/// How far after its receipt a message may be dated before its year-less BSD timestamp is
/// read as belonging to the previous year: the widest gap between two time zones (26 hours,
/// UTC-12 to UTC+14, when the sender's zone differs from the context's) plus some clock drift.
pub const FUTURE_TOLERANCE: SignedDuration = SignedDuration::from_hours(3 * 24);

/// What a parser needs to know besides the bytes: when they arrived and which time zone a
/// timestamp without one is in.
///
/// A BSD (RFC 3164) timestamp such as `Dec 31 23:59:59` has no year. It is given the year that
/// puts it latest, but not more than [`FUTURE_TOLERANCE`] after `received`: usually the year
/// of `received` in `time_zone`, the previous year for a December message read in January,
/// the next year for a `Jan  1 00:00:01` message received a few seconds before midnight on
/// December 31, and the latest leap year for a `Feb 29` message.
#[derive(Debug, Clone)]
pub struct SyslogContext {
    /// When the message was received (for a live input) or read (for a file).
    pub received: Timestamp,
    /// The zone of timestamps that carry no offset (BSD timestamps, RFC 3339 without one).
    pub time_zone: TimeZone,
    /// The sender's address, for `log.source.address` (a live input knows it). Given here,
    /// it is placed with the header's fields as the event is built, instead of shifting the
    /// fields of every event to insert it afterwards.
    pub source_address: Option<palisade_event::Value>,
}

impl SyslogContext {
    /// Returns a context.
    #[must_use]
    pub fn new(received: Timestamp, time_zone: TimeZone) -> Self {
        Self { received, time_zone, source_address: None }
    }

    /// The context with the sender's address, which [`crate::line::syslog_event`] writes
    /// into `log.source.address`.
    #[must_use]
    pub fn with_source_address(mut self, address: palisade_event::Value) -> Self {
        self.source_address = Some(address);
        self
    }

    /// Returns a context that reads zone-less timestamps as UTC.
    #[must_use]
    pub fn utc(received: Timestamp) -> Self {
        Self::new(received, TimeZone::UTC)
    }
}

/// Which format a message was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogFormat {
    /// RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG`.
    Rfc5424,
    /// RFC 3164 (BSD) and its common variants: `<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`.
    Rfc3164,
    /// Neither: no valid PRI and no timestamp. The whole line is the message.
    Unparsed,
}

/// One RFC 5424 SD-ELEMENT: `[id name="value" ...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdElement {
    /// The SD-ID, such as `timeQuality` or `exampleSDID@32473`.
    pub id: String,
    /// The SD-PARAMs in their input order, values unescaped (`\"`, `\\`, `\]`).
    pub params: Vec<(String, String)>,
}

/// One syslog message, split into its header fields. Absent and NILVALUE (`-`) fields are
/// `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogMessage {
    /// The format the message was read as.
    pub format: SyslogFormat,
    /// The facility, when the message had a valid PRI (0 to 191).
    pub facility: Option<Facility>,
    /// The severity, when the message had a valid PRI (0 to 191).
    pub severity: Option<Severity>,
    /// True when the message started with a PRI out of range (such as `<999>`): it was read
    /// past, but gives no facility or severity.
    pub invalid_priority: bool,
    /// The RFC 5424 VERSION (1 in practice).
    pub version: Option<u16>,
    /// The time the message was written, when it had a timestamp that could be read.
    pub timestamp: Option<Timestamp>,
    /// HOSTNAME: a name, an IPv4 or IPv6 address.
    pub hostname: Option<Str>,
    /// APP-NAME, or the RFC 3164 TAG without its `[PID]` (kept whole: `sshd(pam_unix)`).
    pub app_name: Option<Str>,
    /// PROCID, or the PID in brackets after an RFC 3164 TAG.
    pub procid: Option<Str>,
    /// MSGID (RFC 5424 only).
    pub msgid: Option<Str>,
    /// STRUCTURED-DATA (RFC 5424 only).
    pub structured_data: Vec<SdElement>,
    /// The free-form message, without its UTF-8 BOM and trailing line terminators.
    pub message: String,
}

impl SyslogMessage {
    /// Returns the PRI value (facility × 8 + severity) when the message had a valid one.
    #[must_use]
    pub fn priority(&self) -> Option<u8> {
        Some(self.facility?.code() * 8 + self.severity?.code())
    }

    fn set_pri(&mut self, pri: priority::Pri) {
        match pri {
            priority::Pri::Missing => {}
            priority::Pri::Valid(facility, severity) => {
                self.facility = Some(facility);
                self.severity = Some(severity);
            }
            priority::Pri::OutOfRange => self.invalid_priority = true,
        }
    }

    fn empty(format: SyslogFormat) -> Self {
        Self {
            format,
            facility: None,
            severity: None,
            invalid_priority: false,
            version: None,
            timestamp: None,
            hostname: None,
            app_name: None,
            procid: None,
            msgid: None,
            structured_data: Vec::new(),
            message: String::new(),
        }
    }
}

/// Parses one syslog message. Never fails: RFC 5424 is tried when the message starts with a
/// version after its PRI, then RFC 3164 with its variants; when neither matches (no valid PRI
/// and no timestamp) the whole input is the message, with [`SyslogFormat::Unparsed`].
///
/// Trailing line terminators (LF, CR, NUL) are ignored. The PRI may be missing, as in files.
#[must_use]
pub fn parse(bytes: &[u8], ctx: &SyslogContext) -> SyslogMessage {
    let line = trim_terminators(bytes);
    let (pri, rest) = priority::parse_pri(line);
    if let Some(message) = rfc5424::parse(rest, pri, ctx) {
        return message;
    }
    if let Some(message) = rfc3164::parse(rest, pri, ctx) {
        return message;
    }
    let mut message = SyslogMessage::empty(SyslogFormat::Unparsed);
    message.message = lossy(line);
    message
}

/// Parses one message and maps it to an event, with the input as `event.original`.
#[must_use]
pub fn parse_event(bytes: &[u8], ctx: &SyslogContext) -> palisade_event::Event {
    let original = lossy(trim_terminators(bytes));
    parse(bytes, ctx).into_event(&original)
}

/// Removes trailing LF, CR and NUL: framing leftovers, not content.
fn trim_terminators(bytes: &[u8]) -> &[u8] {
    let end =
        bytes.iter().rposition(|byte| !matches!(byte, b'\n' | b'\r' | 0)).map_or(0, |idx| idx + 1);
    &bytes[..end]
}

/// Decodes bytes as UTF-8, replacing invalid sequences.
fn lossy(bytes: &[u8]) -> String {
    crate::text::utf8_lossy(bytes).into_owned()
}

/// [`lossy`] for a short header field (host, program, PID, MSGID): stored inline, so most
/// take no allocation.
fn lossy_str(bytes: &[u8]) -> Str {
    Str::from(crate::text::utf8_lossy(bytes))
}

/// Splits off the next token: the bytes up to the next space (or the end), and the rest after
/// that space.
fn next_token(bytes: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b' ', bytes) {
        Some(idx) => (&bytes[..idx], &bytes[idx + 1..]),
        None => (bytes, &[]),
    }
}

/// Removes leading spaces.
fn skip_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|byte| *byte != b' ').unwrap_or(bytes.len());
    &bytes[start..]
}
