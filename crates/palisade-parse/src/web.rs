//! Web server logs: nginx and Apache httpd access logs (NCSA common, combined, Apache's
//! `vhost_combined`, nginx's `combined` and its common extensions) and the Apache error log
//! (2.2 and 2.4 formats), normalised to ECS.
//!
//! Entry points:
//! - [`parse_line`]: one access-log line read from a file, with the server when the caller
//!   knows it (it picks `event.dataset`: `nginx.access`, `apache.access` or `web.access`).
//! - [`parse_error_line`]: one Apache error-log line (`apache.error`).
//! - [`parse_program`]: the same lines carried by syslog from the programs `nginx`, `apache`,
//!   `apache2` and `httpd` (also with an `-access`/`-error` suffix, as `logger -t` tags are
//!   often named). An access line's own time replaces the syslog header's `@timestamp`, because
//!   it carries a UTC offset; an Apache error line sent to syslog has no time of its own.
//!
//! # Access lines
//!
//! `[%v:%p ]%h %l %u %t "%r" %>s %b[ "%{Referer}i" "%{User-Agent}i"][ extra...]`: the host,
//! ident and user fields, the time in brackets (`[10/Oct/2026:13:55:36 -0700]`, optionally
//! with fractional seconds, or an RFC 3339 time), the quoted request, status and size. Then
//! optional quoted referrer and user agent, and any further trailing fields (quoted or not,
//! e.g. nginx's `"$http_x_forwarded_for"` or a request time), kept in order under `web.extra`.
//!
//! Quoted fields are unescaped: Apache's `\"`, `\\`, `\n`, `\t`... and `\xhh`, nginx's `\xHH`
//! (`\x22`, `\x5C`) and its `escape=json` `\uXXXX`. Escaped bytes that are not UTF-8 become
//! U+FFFD. A quote ends a field only when a space or the end of the line follows, so an
//! unescaped quote inside a request (`escape=none`, old Apache) does not cut it. A line cut
//! inside its last quoted field keeps what it has.
//!
//! A request that is not `METHOD TARGET[ PROTOCOL]` (`-`, a TLS handshake sent to a plain HTTP
//! port, binary junk) sets no `http.request.*`/`url.*` field; it is kept as written (still
//! escaped, so it stays printable) under `web.request`.
//!
//! | Field | From |
//! |---|---|
//! | `source.address`, `source.ip` or `source.domain` | `%h`/`$remote_addr`: an IP address, or a host name when `HostnameLookups` is on |
//! | `user.name` | `%u`/`$remote_user` (not `-`) |
//! | `web.ident` | `%l` when not `-` (identd) |
//! | `@timestamp` | `%t`/`$time_local`, converted to UTC with its offset |
//! | `http.request.method`, `url.original`, `url.path`, `url.query`, `url.fragment`, `url.extension`, `http.version` | the request line (`url.scheme`, `url.domain`, `url.port` for an absolute-form or `CONNECT` target) |
//! | `http.response.status_code` | `%>s`/`$status` |
//! | `http.response.body.bytes` | `%b`/`%O`/`$body_bytes_sent` (not set for `-`) |
//! | `http.request.referrer`, `user_agent.original` | the quoted referrer and user agent (not `-`) |
//! | `url.domain`, `destination.domain`, `destination.port` | `%v:%p` of `vhost_combined` |
//! | `web.extra` | trailing fields after the user agent, as a list |
//! | `web.request` | a request line that could not be read as an HTTP request |
//!
//! Every access event has `event.kind: event`, `event.category: [web]`, `event.type:
//! [access]` (plus `denied` for 401, 403 and 407, `error` for 5xx) and `event.outcome`:
//! `success` below 400, `failure` from 400 to 599.
//!
//! # Error lines
//!
//! Apache 2.2 `[Sun Dec 04 04:47:44 2005] [error] [client 192.0.2.1] message` and 2.4
//! `[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] (13)Permission
//! denied: [client 192.0.2.1:58432] AH00124: message, referer: http://...`. The error log's time
//! has no zone: it is read as UTC. Fields: `log.level`, `message`, `error.code` (`AHnnnnn`),
//! `apache.error.module`, `apache.error.os_error` (`(13)Permission denied`), `process.pid`,
//! `process.thread.id`, `source.ip`/`source.port` (`[client]`, else `[remote]`),
//! `http.request.referrer`, and `user.name` for mod_auth_basic failures. `event.category` is
//! `web` (plus `authentication` for authentication failures), `event.type` is `error` for the
//! levels `emerg` to `error` and `info` below, plus `denied` (with `event.outcome: failure`)
//! when the server refused a client: access denied by configuration, a forbidden directory
//! index, an authentication or authorisation failure.
//!
//! Parsing is by hand on `&str`, linear in the line length, with no panic on any input; every
//! field is capped by [`EcsFields`].

use std::borrow::Cow;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::Offset;
use palisade_event::{Event, Value};

use crate::ecs::{EcsFields, MAX_TEXT_LEN, cap, ip_text, is_digits, is_host_name, parse_int};

/// `event.dataset` of nginx access lines.
pub const DATASET_NGINX: &str = "nginx.access";
/// `event.dataset` of Apache access lines.
pub const DATASET_APACHE: &str = "apache.access";
/// `event.dataset` of access lines from an unknown server.
pub const DATASET_UNKNOWN: &str = "web.access";
/// `event.dataset` of Apache error-log lines.
pub const DATASET_APACHE_ERROR: &str = "apache.error";
/// Most trailing fields kept under `web.extra`; more are dropped.
pub const MAX_EXTRA_FIELDS: usize = 32;
/// Most fields read before the time of an access line (vhost, host, ident, user with spaces).
const MAX_PREFIX_TOKENS: usize = 8;

/// Parses the message of one syslog line from `program` (the APP-NAME/TAG, without pid) and
/// adds the ECS fields it finds to `event`. Returns false, leaving `event` untouched, when the
/// message is not one this module understands.
///
/// `nginx`, `apache`, `apache2` and `httpd` (with an optional path, and an optional `-access`,
/// `_access`, `-error` or `_error` suffix) send access lines; the Apache names also send
/// error-log lines, which have no time when Apache writes to syslog.
///
/// # Example
/// ```
/// use palisade_event::Event;
///
/// let mut event = Event::new();
/// let line = r#"192.0.2.1 - - [10/Oct/2026:13:55:36 -0700] "GET /a.png HTTP/1.1" 200 2326 "-" "curl/8.5.0""#;
/// assert!(palisade_parse::web::parse_program("nginx", Some(812), line, &mut event));
/// assert_eq!(event.get_str("event.dataset").as_deref(), Some("nginx.access"));
/// assert_eq!(event.get_str("url.extension").as_deref(), Some("png"));
/// assert_eq!(event.timestamp(), Some("2026-10-10T20:55:36Z".parse().unwrap()));
/// ```
pub fn parse_program(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    let Some(server) = server_of_program(program) else { return false };
    let line = message.trim_end_matches(['\r', '\n']);
    if let Some(access) = Access::parse(line) {
        let timestamp = access.timestamp;
        access.into_fields(server).apply(event);
        if timestamp.is_some() {
            event.set_timestamp(timestamp);
        }
        return true;
    }
    if server == WebServer::Apache
        && let Some(error) = ErrorLine::parse(line, false)
    {
        let timestamp = error.timestamp;
        let mut fields = error.into_fields();
        if let Some(pid) = pid {
            fields.int("process.pid", i64::from(pid));
        }
        fields.apply(event);
        if timestamp.is_some() {
            event.set_timestamp(timestamp);
        }
        return true;
    }
    false
}

/// Which server wrote an access log, when the caller knows (it decides `event.dataset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebServer {
    /// nginx: `nginx.access`.
    Nginx,
    /// Apache httpd: `apache.access`.
    Apache,
    /// Not known (auto-detected): `web.access`.
    Unknown,
}

impl WebServer {
    /// The `event.dataset` of this server's access lines.
    #[must_use]
    pub fn dataset(self) -> &'static str {
        match self {
            WebServer::Nginx => DATASET_NGINX,
            WebServer::Apache => DATASET_APACHE,
            WebServer::Unknown => DATASET_UNKNOWN,
        }
    }
}

/// Parses one access-log line (combined, common, vhost_combined) into an event with
/// `event.original` and `@timestamp` set. `None` when it is not one.
///
/// # Example
/// ```
/// use palisade_parse::web::{self, WebServer};
///
/// let line = r#"www.example.com:443 2001:db8::7 - alice [10/Oct/2026:13:55:36 +0200] "POST /login?next=%2F HTTP/2.0" 302 - "-" "Mozilla/5.0""#;
/// let event = web::parse_line(line, WebServer::Apache).unwrap();
/// assert_eq!(event.get_str("source.ip").as_deref(), Some("2001:db8::7"));
/// assert_eq!(event.get_str("url.query").as_deref(), Some("next=%2F"));
/// assert_eq!(event.get_str("destination.domain").as_deref(), Some("www.example.com"));
/// ```
#[must_use]
pub fn parse_line(line: &str, server: WebServer) -> Option<Event> {
    let line = line.trim_end_matches(['\r', '\n']);
    let access = Access::parse(line)?;
    let timestamp = access.timestamp;
    let mut fields = access.into_fields(server);
    // The whole line, as `line::raw_event` keeps it: the input already bounds line length.
    fields.set("event.original", Value::from(line));
    let mut event = fields.into_event();
    event.set_timestamp(timestamp);
    Some(event)
}

/// Parses one Apache error-log line (2.2 or 2.4 format, with its time) into an event with
/// `event.original`, `message` and `@timestamp` (the line's time read as UTC) set. `None`
/// when it is not one.
///
/// # Example
/// ```
/// let line = "[Sun Dec 04 04:47:44 2005] [error] [client 192.0.2.1] Directory index forbidden by rule: /var/www/html/";
/// let event = palisade_parse::web::parse_error_line(line).unwrap();
/// assert_eq!(event.get_str("log.level").as_deref(), Some("error"));
/// assert_eq!(event.get_str("source.ip").as_deref(), Some("192.0.2.1"));
/// assert_eq!(event.timestamp(), Some("2005-12-04T04:47:44Z".parse().unwrap()));
/// ```
#[must_use]
pub fn parse_error_line(line: &str) -> Option<Event> {
    let line = line.trim_end_matches(['\r', '\n']);
    let error = ErrorLine::parse(line, true)?;
    let timestamp = error.timestamp;
    let mut fields = error.into_fields();
    // The whole line, as `line::raw_event` keeps it: the input already bounds line length.
    fields.set("event.original", Value::from(line));
    let mut event = fields.into_event();
    event.set_timestamp(timestamp);
    Some(event)
}

/// The server a syslog program name stands for, or `None` when it is not a web server's.
fn server_of_program(program: &str) -> Option<WebServer> {
    let mut name = program.trim();
    if let Some(open) = name.find('[')
        && name.ends_with(']')
    {
        name = name.get(..open)?;
    }
    if let Some(slash) = name.rfind('/') {
        name = name.get(slash + 1..)?;
    }
    for suffix in ["-access", "_access", "-error", "_error"] {
        if name.len() > suffix.len()
            && let Some(stem) = name.get(..name.len() - suffix.len())
            && name.get(name.len() - suffix.len()..).is_some_and(|s| s.eq_ignore_ascii_case(suffix))
        {
            name = stem;
            break;
        }
    }
    if name.eq_ignore_ascii_case("nginx") {
        Some(WebServer::Nginx)
    } else if ["apache", "apache2", "httpd"].iter().any(|n| name.eq_ignore_ascii_case(n)) {
        Some(WebServer::Apache)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Access lines
// ---------------------------------------------------------------------------------------------

/// One access line taken apart (quoted fields still escaped).
#[derive(Debug)]
struct Access<'a> {
    /// `%v` and `%p` (empty for vhost_common, which has no port).
    vhost: Option<(&'a str, &'a str)>,
    host: &'a str,
    ident: &'a str,
    user: &'a str,
    timestamp: Option<Timestamp>,
    request: &'a str,
    status: i64,
    bytes: Option<i64>,
    referrer: Option<&'a str>,
    agent: Option<&'a str>,
    extra: Vec<Cow<'a, str>>,
}

impl<'a> Access<'a> {
    fn parse(line: &'a str) -> Option<Self> {
        let mut cursor = Cursor { text: line, pos: 0 };
        // The fields before the time: [vhost:port] host ident user (a user may hold spaces).
        let mut prefix: Vec<(usize, usize)> = Vec::with_capacity(4);
        let timestamp = loop {
            cursor.skip_spaces();
            if cursor.at_end() || prefix.len() > MAX_PREFIX_TOKENS {
                return None;
            }
            if cursor.peek() == Some(b'[')
                && let Some((inner, after)) = cursor.bracketed()
                && let Some(timestamp) = parse_access_time(inner)
            {
                cursor.pos = after;
                break Some(timestamp);
            }
            let start = cursor.pos;
            cursor.bare();
            prefix.push((start, cursor.pos));
        };
        let token = |index: usize| prefix.get(index).and_then(|&(s, e)| line.get(s..e));
        // vhost_combined `%v:%p %h %l %u` and vhost_common `%v %h %l %u`: four fields or more,
        // the third `-` (identd is almost never on), the first a name with or without a port.
        let is_vhost = prefix.len() >= 4
            && token(2) == Some("-")
            && token(0).is_some_and(|vhost| {
                split_host_port(vhost).is_some() || (prefix.len() == 4 && is_host_name(vhost))
            })
            && token(1).is_some_and(|host| ip_text(host).is_some() || is_host_name(host));
        let first = usize::from(is_vhost);
        if prefix.len() < first + 3 {
            return None;
        }
        let vhost = match (is_vhost, token(0)) {
            (true, Some(vhost)) => Some(split_host_port(vhost).unwrap_or((vhost, ""))),
            _ => None,
        };
        let host = token(first)?;
        let ident = token(first + 1)?;
        let user_start = prefix.get(first + 2)?.0;
        let user_end = prefix.last()?.1;
        let user = line.get(user_start..user_end)?;

        cursor.skip_spaces();
        let (request, terminated) = cursor.quoted()?;
        if !terminated {
            return None;
        }
        cursor.skip_spaces();
        let status = cursor.bare();
        if !is_digits(status) || status.len() > 3 {
            return None;
        }
        let status = parse_int(status)?;
        cursor.skip_spaces();
        let mut bytes = None;
        if !cursor.at_end() {
            let text = cursor.bare();
            if text != "-" {
                bytes = Some(parse_int(text).filter(|bytes| *bytes >= 0)?);
            }
        }
        // Then the referrer and user agent when quoted, then anything else.
        let mut access = Access {
            vhost,
            host,
            ident,
            user,
            timestamp,
            request,
            status,
            bytes,
            referrer: None,
            agent: None,
            extra: Vec::new(),
        };
        let mut n_quoted = 0;
        loop {
            cursor.skip_spaces();
            if cursor.at_end() {
                break;
            }
            if cursor.peek() == Some(b'"') {
                let (value, _) = cursor.quoted()?;
                if access.extra.is_empty() && n_quoted < 2 {
                    if n_quoted == 0 {
                        access.referrer = Some(value);
                    } else {
                        access.agent = Some(value);
                    }
                    n_quoted += 1;
                } else if access.extra.len() < MAX_EXTRA_FIELDS {
                    access.extra.push(unescape(value));
                }
            } else {
                let value = cursor.bare();
                n_quoted = 2;
                if access.extra.len() < MAX_EXTRA_FIELDS {
                    access.extra.push(Cow::Borrowed(value));
                }
            }
        }
        Some(access)
    }

    fn into_fields(self, server: WebServer) -> EcsFields {
        let mut fields = EcsFields::new();
        let status = self.status;
        let mut types = vec!["access"];
        if matches!(status, 401 | 403 | 407) {
            types.push("denied");
        }
        if (500..=599).contains(&status) {
            types.push("error");
        }
        let outcome = match status {
            100..=399 => Some("success"),
            400..=599 => Some("failure"),
            _ => None,
        };
        fields.categorize(server.dataset(), "event", &["web"], &types, outcome);
        if let Some((name, port)) = self.vhost {
            if ip_text(name).is_some() {
                fields.ip("destination.ip", name);
            } else {
                fields.host("destination.domain", name);
                fields.name("url.domain", name);
            }
            if !port.is_empty() {
                fields.port("destination.port", port);
            }
        }
        source(&mut fields, self.host);
        if self.ident != "-" {
            fields.name("web.ident", self.ident);
        }
        fields.user("user.name", &unescape(self.user));
        let request = unescape(self.request);
        match split_request(&request) {
            Some((method, target, version)) => {
                fields.name("http.request.method", method);
                if let Some(version) = version {
                    fields.name("http.version", version);
                }
                url_fields(&mut fields, method, target);
            }
            None if self.request != "-" => fields.text("web.request", self.request),
            None => {}
        }
        fields.int("http.response.status_code", status);
        if let Some(bytes) = self.bytes {
            fields.int("http.response.body.bytes", bytes);
        }
        if let Some(referrer) = self.referrer.map(unescape).filter(|r| r != "-") {
            fields.text("http.request.referrer", &referrer);
        }
        if let Some(agent) = self.agent.map(unescape).filter(|a| a != "-") {
            fields.text("user_agent.original", &agent);
        }
        if !self.extra.is_empty() {
            let extra =
                self.extra.iter().map(|value| Value::from(cap(value, MAX_TEXT_LEN))).collect();
            fields.set("web.extra", Value::List(extra));
        }
        fields
    }
}

/// Sets `source.address` and `source.ip` or `source.domain` from a client address as written.
fn source(fields: &mut EcsFields, address: &str) {
    if address.is_empty() || address == "-" {
        return;
    }
    if fields.ip("source.ip", address) || fields.host("source.domain", address) {
        fields.name("source.address", address);
    }
}

/// A byte cursor over a line; every position it stops at is on an ASCII byte or the end, so
/// slicing there is always on a character boundary.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// A field up to the next space or tab.
    fn bare(&mut self) -> &'a str {
        let start = self.pos;
        let rest = self.bytes().get(start..).unwrap_or_default();
        let len = rest.iter().position(|b| matches!(b, b' ' | b'\t')).unwrap_or(rest.len());
        self.pos = start + len;
        self.text.get(start..self.pos).unwrap_or_default()
    }

    /// `[inner]` at the cursor: the inner text and the position after `]` (cursor unmoved).
    fn bracketed(&self) -> Option<(&'a str, usize)> {
        let rest = self.bytes().get(self.pos + 1..)?;
        let close = memchr::memchr(b']', rest)?;
        let inner = self.text.get(self.pos + 1..self.pos + 1 + close)?;
        Some((inner, self.pos + close + 2))
    }

    /// `"inner"` at the cursor, escapes kept. The closing quote is one not escaped by a
    /// backslash and followed by a space or the end of the line. Returns the inner text and
    /// whether the closing quote was found (if not, the inner text runs to the end).
    fn quoted(&mut self) -> Option<(&'a str, bool)> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let bytes = self.bytes();
        let start = self.pos + 1;
        let mut index = start;
        while index < bytes.len() {
            match bytes.get(index) {
                Some(b'\\') => index += 2,
                Some(b'"') if matches!(bytes.get(index + 1), None | Some(b' ' | b'\t')) => {
                    let inner = self.text.get(start..index)?;
                    self.pos = index + 1;
                    return Some((inner, true));
                }
                _ => index += 1,
            }
        }
        self.pos = bytes.len();
        Some((self.text.get(start..)?, false))
    }
}

/// Undoes the log escapes of Apache (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\v`, `\xhh`) and
/// nginx (`\xHH`, `escape=json`'s `\uXXXX`). A backslash before anything else is kept. Bytes
/// that are not UTF-8 become U+FFFD.
fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let bytes = raw.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte != b'\\' {
            out.push(byte);
            index += 1;
            continue;
        }
        let next = bytes.get(index + 1).copied();
        let simple = match next {
            Some(b'"') => Some(b'"'),
            Some(b'\\') => Some(b'\\'),
            Some(b'n') => Some(b'\n'),
            Some(b'r') => Some(b'\r'),
            Some(b't') => Some(b'\t'),
            Some(b'b') => Some(0x08),
            Some(b'v') => Some(0x0b),
            _ => None,
        };
        if let Some(simple) = simple {
            out.push(simple);
            index += 2;
        } else if next == Some(b'x')
            && let Some(value) = hex_value(bytes.get(index + 2..index + 4))
        {
            out.push(u8::try_from(value).unwrap_or(b'?'));
            index += 4;
        } else if next == Some(b'u')
            && let Some(value) = hex_value(bytes.get(index + 2..index + 6))
        {
            let ch = char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut buffer = [0; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buffer).as_bytes());
            index += 6;
        } else {
            out.push(b'\\');
            index += 1;
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex_value(digits: Option<&[u8]>) -> Option<u32> {
    let digits = digits?;
    let mut value = 0u32;
    for &digit in digits {
        value = value * 16 + char::from(digit).to_digit(16)?;
    }
    Some(value)
}

/// Splits a request line into method, target and HTTP version (`1.1` from `HTTP/1.1`). A line
/// of two words (`GET /`, HTTP/0.9 or cut) has no version. `None` when the first word is not
/// an HTTP method token (upper-case letters, digits, `-`, `_`; 1 to 32 bytes).
fn split_request(request: &str) -> Option<(&str, &str, Option<&str>)> {
    let (method, rest) = request.split_once(' ')?;
    let valid_method = !method.is_empty()
        && method.len() <= 32
        && method.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && method
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !valid_method {
        return None;
    }
    let rest = rest.trim_matches(' ');
    if let Some((target, protocol)) = rest.rsplit_once(' ')
        && let Some(version) = protocol.strip_prefix("HTTP/")
        && !version.is_empty()
        && version.len() <= 8
        && version.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        let target = target.trim_end_matches(' ');
        return (!target.is_empty()).then_some((method, target, Some(version)));
    }
    (!rest.is_empty()).then_some((method, rest, None))
}

/// Sets the `url.*` fields of a request target: origin form (`/path?query#fragment`),
/// absolute form (`http://host:port/path`, sent to proxies) or authority form (`CONNECT
/// host:port`).
fn url_fields(fields: &mut EcsFields, method: &str, target: &str) {
    fields.text("url.original", target);
    let mut path_part = None;
    if target.starts_with('/') {
        path_part = Some(target);
    } else if let Some((scheme, rest)) = target.split_once("://")
        && !scheme.is_empty()
        && scheme.len() <= 16
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        fields.name("url.scheme", scheme);
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = rest.get(..end).unwrap_or_default();
        authority_fields(fields, authority);
        path_part = Some(rest.get(end..).unwrap_or_default());
    } else if method == "CONNECT" {
        authority_fields(fields, target);
    }
    let Some(path_part) = path_part else { return };
    let (before_fragment, fragment) = match path_part.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (path_part, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (before_fragment, None),
    };
    fields.text("url.path", path);
    if let Some(query) = query {
        fields.text("url.query", query);
    }
    if let Some(fragment) = fragment {
        fields.text("url.fragment", fragment);
    }
    if let Some(extension) = extension(path) {
        fields.name("url.extension", extension);
    }
}

/// `host[:port]` (an IPv6 host in brackets) of a URL: `url.domain` and `url.port`.
fn authority_fields(fields: &mut EcsFields, authority: &str) {
    let authority = authority.rsplit_once('@').map_or(authority, |(_userinfo, host)| host);
    let (host, port) = match split_host_port(authority) {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if ip_text(host).is_some() || is_host_name(host) {
        fields.name("url.domain", host);
    }
    if let Some(port) = port {
        fields.port("url.port", port);
    }
}

/// `name:port` (or `[v6]:port`) with a decimal port; `None` otherwise (a bare IPv6 address
/// is not taken apart).
fn split_host_port(text: &str) -> Option<(&str, &str)> {
    let (host, port) = text.rsplit_once(':')?;
    if !is_digits(port) || port.len() > 5 || host.is_empty() {
        return None;
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return None;
    }
    Some((host, port))
}

/// The extension of the last path segment (`png` of `/a/b.png`), 1 to 16 letters or digits.
fn extension(path: &str) -> Option<&str> {
    let segment = path.rsplit('/').next()?;
    let (stem, extension) = segment.rsplit_once('.')?;
    let valid = !stem.is_empty()
        && !extension.is_empty()
        && extension.len() <= 16
        && extension.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then_some(extension)
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn month_number(name: &str) -> Option<i8> {
    let index = MONTHS.iter().position(|month| month.eq_ignore_ascii_case(name))?;
    i8::try_from(index + 1).ok()
}

/// `10/Oct/2026:13:55:36 -0700` (fractional seconds allowed) or an RFC 3339 time, to UTC.
fn parse_access_time(text: &str) -> Option<Timestamp> {
    if text.len() > 64 {
        return None;
    }
    if text.as_bytes().get(4) == Some(&b'-') {
        return text.parse::<Timestamp>().ok();
    }
    let (date_time, zone) = text.split_once(' ')?;
    let mut parts = date_time.splitn(3, '/');
    let day = small_number(parts.next()?, 1, 2)?;
    let month = month_number(parts.next()?)?;
    let rest = parts.next()?;
    let (year, clock) = rest.split_once(':')?;
    let year = i16::try_from(small_number(year, 4, 4)?).ok()?;
    let (hour, minute, second, nanos) = parse_clock(clock)?;
    let offset = parse_offset(zone)?;
    let datetime =
        Date::new(year, month, i8::try_from(day).ok()?).ok()?.at(hour, minute, second, nanos);
    offset.to_timestamp(datetime).ok()
}

/// `HH:MM:SS[.fraction]`, a leap second clamped to :59.
fn parse_clock(text: &str) -> Option<(i8, i8, i8, i32)> {
    let (hms, fraction) = match text.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (text, None),
    };
    let mut parts = hms.split(':');
    let hour = small_number(parts.next()?, 2, 2)?;
    let minute = small_number(parts.next()?, 2, 2)?;
    let second = small_number(parts.next()?, 2, 2)?;
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut nanos = 0i32;
    if let Some(fraction) = fraction {
        if !is_digits(fraction) || fraction.len() > 9 {
            return None;
        }
        let mut scale = 100_000_000;
        for digit in fraction.bytes() {
            nanos += i32::from(digit - b'0') * scale;
            scale /= 10;
        }
    }
    Some((
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second.min(59)).ok()?,
        nanos,
    ))
}

/// `+hhmm`/`-hhmm` (also `+hh:mm`, `Z`).
fn parse_offset(text: &str) -> Option<Offset> {
    if text == "Z" || text == "GMT" || text == "UTC" {
        return Some(Offset::UTC);
    }
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, text.get(1..)?),
        b'-' => (-1, text.get(1..)?),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 || !is_digits(&digits) {
        return None;
    }
    let hours = small_number(digits.get(..2)?, 2, 2)?;
    let minutes = small_number(digits.get(2..)?, 2, 2)?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    Offset::from_seconds(sign * seconds).ok()
}

/// A decimal number of `min..=max` digits.
fn small_number(text: &str, min: usize, max: usize) -> Option<u32> {
    if !is_digits(text) || text.len() < min || text.len() > max {
        return None;
    }
    text.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// Apache error log
// ---------------------------------------------------------------------------------------------

const LEVELS: [&str; 16] = [
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug", "trace1", "trace2",
    "trace3", "trace4", "trace5", "trace6", "trace7", "trace8",
];

/// One error-log line taken apart.
#[derive(Debug)]
struct ErrorLine<'a> {
    timestamp: Option<Timestamp>,
    module: Option<&'a str>,
    level: &'a str,
    pid: Option<i64>,
    tid: Option<i64>,
    client: Option<(&'a str, Option<&'a str>)>,
    os_error: Option<&'a str>,
    code: Option<&'a str>,
    message: &'a str,
    referrer: Option<&'a str>,
}

impl<'a> ErrorLine<'a> {
    /// Reads a line; `need_time` is false for lines sent to syslog, which have none.
    fn parse(line: &'a str, need_time: bool) -> Option<Self> {
        let mut rest = line.trim_start();
        let mut timestamp = None;
        let (first, after) = bracket(rest)?;
        let (module, level) = match parse_ctime(first) {
            Some(time) => {
                timestamp = Some(time);
                let (level_text, after_level) = bracket(after.trim_start())?;
                rest = after_level;
                split_level(level_text)?
            }
            None if !need_time => {
                rest = after;
                split_level(first)?
            }
            None => return None,
        };
        let has_port = module.is_some();
        let mut error = ErrorLine {
            timestamp,
            module,
            level,
            pid: None,
            tid: None,
            client: None,
            os_error: None,
            code: None,
            message: "",
            referrer: None,
        };
        let mut remote = None;
        for _ in 0..6 {
            rest = rest.trim_start();
            if let Some(inner) = rest.strip_prefix("[pid ") {
                let (inner, after) = inner.split_once(']')?;
                let (pid, tid) = match inner.split_once(":tid ") {
                    Some((pid, tid)) => (pid, Some(tid)),
                    None => (inner, None),
                };
                error.pid = parse_int(pid);
                error.tid = tid.and_then(parse_int);
                rest = after;
            } else if let Some(inner) = rest.strip_prefix("[client ") {
                let (inner, after) = inner.split_once(']')?;
                error.client = client_address(inner, has_port);
                rest = after;
            } else if let Some(inner) = rest.strip_prefix("[remote ") {
                let (inner, after) = inner.split_once(']')?;
                remote = client_address(inner, true);
                rest = after;
            } else if rest.starts_with('(')
                && let Some((os_error, after)) = rest.split_once(": ")
                && os_error
                    .find(')')
                    .is_some_and(|close| rest.get(1..close).is_some_and(|n| parse_int(n).is_some()))
            {
                error.os_error = Some(os_error);
                rest = after;
            } else {
                break;
            }
        }
        if error.client.is_none() {
            error.client = remote;
        }
        let mut message = rest.trim();
        if let Some(code) = message.get(..7)
            && code.starts_with("AH")
            && code.get(2..).is_some_and(is_digits)
            && let Some(after) = message.get(7..).and_then(|m| m.strip_prefix(':'))
        {
            error.code = Some(code);
            message = after.trim_start();
        }
        if let Some((text, referrer)) = message.rsplit_once(", referer: ")
            && !referrer.contains(' ')
        {
            message = text;
            error.referrer = Some(referrer);
        }
        error.message = message;
        Some(error)
    }

    fn into_fields(self) -> EcsFields {
        let mut fields = EcsFields::new();
        let severe = matches!(self.level, "emerg" | "alert" | "crit" | "error");
        let (denied, user, authentication) = refusal(self.code, self.message);
        let mut types = vec![if severe { "error" } else { "info" }];
        let mut categories = vec!["web"];
        if authentication {
            categories.push("authentication");
        }
        if denied {
            types.push("denied");
        }
        let outcome = denied.then_some("failure");
        fields.categorize(DATASET_APACHE_ERROR, "event", &categories, &types, outcome);
        fields.name("log.level", self.level);
        if let Some(module) = self.module {
            fields.name("apache.error.module", module);
        }
        if let Some(pid) = self.pid {
            fields.int("process.pid", pid);
        }
        if let Some(tid) = self.tid {
            fields.int("process.thread.id", tid);
        }
        if let Some((address, port)) = self.client {
            if fields.ip("source.ip", address) {
                fields.name("source.address", address);
            } else {
                source(&mut fields, address);
            }
            if let Some(port) = port {
                fields.port("source.port", port);
            }
        }
        if let Some(os_error) = self.os_error {
            fields.text("apache.error.os_error", os_error);
        }
        if let Some(code) = self.code {
            fields.name("error.code", code);
        }
        if let Some(user) = user {
            fields.user("user.name", user);
        }
        if let Some(referrer) = self.referrer {
            fields.text("http.request.referrer", referrer);
        }
        fields.text("message", self.message);
        fields
    }
}

/// Whether an error message says the server refused the client, the user name of an
/// authentication or authorisation failure (mod_auth_basic, mod_authz_core, 2.2 and 2.4), and
/// whether it was an authentication failure.
fn refusal<'a>(code: Option<&str>, message: &'a str) -> (bool, Option<&'a str>, bool) {
    if let Some(rest) = message.strip_prefix("user ") {
        for (marker, authentication) in [
            (": authentication failure for ", true),
            (" not found: ", true),
            (": authorization failure for ", false),
        ] {
            if let Some((user, _)) = rest.split_once(marker) {
                return (true, Some(user), authentication);
            }
        }
    }
    let denied = matches!(code, Some("AH01630" | "AH01797" | "AH01276" | "AH00035"))
        || message.starts_with("client denied by server configuration")
        || message.starts_with("Directory index forbidden by rule")
        || (message.starts_with("access to ") && message.contains(" denied"));
    (denied, None, false)
}

/// `[inner] rest`: the inner text and what follows `]`.
fn bracket(text: &str) -> Option<(&str, &str)> {
    text.strip_prefix('[')?.split_once(']')
}

/// `error` or `core:error` into (module, level); the level must be one Apache writes.
fn split_level(text: &str) -> Option<(Option<&str>, &str)> {
    let (module, level) = match text.rsplit_once(':') {
        Some((module, level)) => (Some(module), level),
        None => (None, text),
    };
    if !LEVELS.contains(&level) {
        return None;
    }
    if let Some(module) = module
        && (module.is_empty()
            || module.len() > 64
            || !module
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
    {
        return None;
    }
    Some((module, level))
}

/// A `[client ...]` address: `ip`, or `ip:port` when the format writes a port (2.4). An IPv6
/// address with a port is written without brackets (`2001:db8::1:58432`): the port is the
/// part after the last colon when what precedes it is an address.
fn client_address(text: &str, has_port: bool) -> Option<(&str, Option<&str>)> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if has_port
        && let Some((address, port)) = text.rsplit_once(':')
        && is_digits(port)
        && ip_text(address).is_some()
    {
        return Some((address, Some(port)));
    }
    if ip_text(text).is_some() || is_host_name(text) {
        return Some((text, None));
    }
    if let Some((address, port)) = text.rsplit_once(':')
        && is_digits(port)
        && (ip_text(address).is_some() || is_host_name(address))
    {
        return Some((address, Some(port)));
    }
    None
}

/// The error log's time, `Sun Dec 04 04:47:44 2005` or with microseconds
/// (`Fri Sep 09 10:42:29.902022 2011`), read as UTC (the line has no zone).
fn parse_ctime(text: &str) -> Option<Timestamp> {
    if text.len() > 48 {
        return None;
    }
    let mut parts = text.split_ascii_whitespace();
    let weekday = parts.next()?;
    if weekday.len() != 3 || !weekday.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let month = month_number(parts.next()?)?;
    let day = i8::try_from(small_number(parts.next()?, 1, 2)?).ok()?;
    let (hour, minute, second, nanos) = parse_clock(parts.next()?)?;
    let year = i16::try_from(small_number(parts.next()?, 4, 4)?).ok()?;
    if parts.next().is_some() {
        return None;
    }
    let datetime = Date::new(year, month, day).ok()?.at(hour, minute, second, nanos);
    Offset::UTC.to_timestamp(datetime).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_end_at_a_quote_before_a_space() {
        let mut cursor = Cursor { text: r#""GET /a"b HTTP/1.1" 200"#, pos: 0 };
        assert_eq!(cursor.quoted(), Some((r#"GET /a"b HTTP/1.1"#, true)));
        let mut cursor = Cursor { text: r#""a \" b\\" x"#, pos: 0 };
        assert_eq!(cursor.quoted(), Some((r#"a \" b\\"#, true)));
        let mut cursor = Cursor { text: r#""cut \"#, pos: 0 };
        assert_eq!(cursor.quoted(), Some((r#"cut \"#, false)));
        let mut cursor = Cursor { text: "\"é\\", pos: 0 };
        assert_eq!(cursor.quoted(), Some(("é\\", false)));
    }

    #[test]
    fn unescape_handles_both_servers() {
        assert_eq!(unescape(r"a\x22b\x5Cc"), "a\"b\\c");
        assert_eq!(unescape(r#"a\"b\\c\td"#), "a\"b\\c\td");
        assert_eq!(unescape(r"caf\xC3\xA9"), "café");
        assert_eq!(unescape(r"\xff!"), "\u{fffd}!");
        assert_eq!(unescape(r"\u00e9\x"), "é\\x");
        assert_eq!(unescape(r"plain"), "plain");
        assert_eq!(unescape("\\"), "\\");
    }

    #[test]
    fn requests_split_into_method_target_version() {
        assert_eq!(split_request("GET / HTTP/1.1"), Some(("GET", "/", Some("1.1"))));
        assert_eq!(split_request("GET /a b HTTP/2.0"), Some(("GET", "/a b", Some("2.0"))));
        assert_eq!(split_request("GET /"), Some(("GET", "/", None)));
        assert_eq!(split_request("-"), None);
        assert_eq!(split_request("\u{16}\u{3}\u{1} x"), None);
        assert_eq!(split_request("get / HTTP/1.1"), None);
        assert_eq!(split_request("GET  HTTP/1.1"), Some(("GET", "HTTP/1.1", None)));
    }

    #[test]
    fn times_convert_to_utc() {
        let time = parse_access_time("10/Oct/2026:13:55:36 -0700").unwrap();
        assert_eq!(time, "2026-10-10T20:55:36Z".parse().unwrap());
        let time = parse_access_time("01/Jan/2027:00:30:00.250 +0530").unwrap();
        assert_eq!(time, "2026-12-31T19:00:00.25Z".parse().unwrap());
        assert_eq!(parse_access_time("31/Feb/2026:00:00:00 +0000"), None);
        assert_eq!(parse_access_time("10/Oct/2026:13:55:36"), None);
        assert_eq!(parse_access_time("10/Oct/2026:13:55:36 +2500"), None);
        let time = parse_ctime("Fri Sep 09 10:42:29.902022 2011").unwrap();
        assert_eq!(time, "2011-09-09T10:42:29.902022Z".parse().unwrap());
        assert_eq!(parse_ctime("Fri Sep 09 10:42:29"), None);
    }

    #[test]
    fn host_ports_and_client_addresses() {
        assert_eq!(split_host_port("www.example.com:443"), Some(("www.example.com", "443")));
        assert_eq!(split_host_port("2001:db8::1"), None);
        assert_eq!(split_host_port("[2001:db8::1]:8443"), Some(("[2001:db8::1]", "8443")));
        assert_eq!(client_address("::1:58619", true), Some(("::1", Some("58619"))));
        assert_eq!(client_address("2001:db8::25", false), Some(("2001:db8::25", None)));
        assert_eq!(client_address("192.0.2.1:80", true), Some(("192.0.2.1", Some("80"))));
        assert_eq!(extension("/a/b.tar.gz"), Some("gz"));
        assert_eq!(extension("/a.b/c"), None);
        assert_eq!(extension("/.htaccess"), None);
    }

    #[test]
    fn programs() {
        assert_eq!(server_of_program("nginx"), Some(WebServer::Nginx));
        assert_eq!(server_of_program("/usr/sbin/httpd"), Some(WebServer::Apache));
        assert_eq!(server_of_program("apache2-access"), Some(WebServer::Apache));
        assert_eq!(server_of_program("sshd"), None);
        assert_eq!(server_of_program("-access"), None);
    }
}
