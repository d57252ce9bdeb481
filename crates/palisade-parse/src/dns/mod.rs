//! DNS server logs normalised to ECS: the BIND query log (`named`, the `queries`,
//! `query-errors`, `security`, `rpz` and `xfer-out` categories) and dnsmasq's `log-queries`.
//!
//! Two entry points:
//!
//! - [`parse_program`] reads the message of a syslog-carried line: program `named` for BIND,
//!   `dnsmasq` for dnsmasq. dnsmasq DHCP lines (`DHCPACK(eth0) ...`, log-dhcp detail lines)
//!   are left to [`crate::dhcp`] (this returns false for them), as is any other program.
//! - [`parse_line`] reads one line of a BIND query-log *file*: `01-Dec-2026 10:00:00.123`
//!   (local time without a zone, read in the given time zone), then optionally the category
//!   and severity (`queries: info: `, from `print-category` and `print-severity`), then the
//!   same message as over syslog.
//!
//! Recognised BIND messages: `client [@0xOBJ ]ADDR#PORT[/key KEY][ (QNAME)]: [view V: ]` then
//! `query: NAME CLASS TYPE FLAGS (SERVER)[ [ECS ...]]`, `query (cache) 'N/T/C' denied`,
//! `zone transfer 'N/AXFR/IN' denied`, `update 'Z/C' denied` (and other `... denied`),
//! `query failed (RCODE) for N/C/T at FILE:LINE`, `rpz TYPE POLICY rewrite N/T/C via P` and
//! `transfer of 'Z/C': AXFR started`. Recognised dnsmasq messages: `query[T] N from IP`,
//! `forwarded N to IP[#PORT]`, `dnssec-query[T] N to IP`, `reply|cached|cached-stale|config|
//! auth|DHCP|/etc/hosts N is DATA`, `validation N is STATUS`, `ipset add SET IP N`,
//! `possible DNS-rebind attack detected: N`, each optionally preceded by the
//! `log-queries=extra` serial and client (`1234 192.0.2.7/53211 `).
//!
//! Names are kept exactly as the server printed them (BIND escapes odd bytes as `\DDD`), up
//! to [`MAX_QNAME_LEN`] bytes, because phishing, DGA and tunnelling detections look at every
//! label. `dns.question.registered_domain`, `top_level_domain` and `subdomain` are not set:
//! splitting them right needs the public suffix list (`example.co.uk`), which this crate does
//! not carry.
//!
//! Parsing is prefix, suffix and token matching on `&str`, linear in the line length, with no
//! regular expression and no panic on any input. The fields, the `event.action` catalogue
//! ([`actions`]) and the limits are documented in `docs/parsers/dns.md`.
//!
//! | `event.action` | Lines | Category / type / outcome |
//! |---|---|---|
//! | `dns_query` | BIND `query: N C T FLAGS (SERVER)`, dnsmasq `query[T] N from IP` | network / protocol / - |
//! | `dns_answer` | dnsmasq `reply\|cached\|cached-stale\|config\|auth\|DHCP\|/etc/hosts N is DATA` | network / protocol / - |
//! | `dns_forward` | dnsmasq `forwarded N to IP` | network / protocol / - |
//! | `dns_dnssec_query` | dnsmasq `dnssec-query[DS] N to IP` | network / protocol / - |
//! | `dns_validation` | dnsmasq `validation N is SECURE\|INSECURE\|BOGUS\|...` | network / protocol / - |
//! | `dns_ipset_add` | dnsmasq `ipset add SET IP N`, `nftset add ...` | network / info / - |
//! | `dns_rebind_blocked` | dnsmasq `possible DNS-rebind attack detected: N` | network / protocol, denied / failure |
//! | `dns_query_denied` | BIND `query 'N/T/C' denied`, `query (cache) 'N/T/C' denied` | network / protocol, denied / failure |
//! | `dns_zone_transfer_denied` | BIND `zone transfer 'N/AXFR/IN' denied` | network / protocol, denied / failure |
//! | `dns_update_denied` | BIND `update 'Z/IN' denied`, `update forwarding 'Z/IN' denied` | network / protocol, denied / failure |
//! | `dns_request_denied` | BIND any other `WHAT 'N/...' denied` (`notify`, `recursion`...) | network / protocol, denied / failure |
//! | `dns_query_failed` | BIND `query failed (SERVFAIL) for N/C/T at query.c:N` | network / protocol / failure |
//! | `dns_rpz_rewrite` | BIND `rpz QNAME NXDOMAIN rewrite N/T/C via P` | network / protocol / - |
//! | `dns_zone_transfer` | BIND `transfer of 'Z/C': AXFR started\|ended ...` | network / protocol, allowed / success |

mod bind;
mod dnsmasq;

use std::net::IpAddr;

use palisade_event::{Event, Value};

use crate::ecs::{EcsFields, MAX_NAME_LEN, cap};

/// The `event.dataset` of BIND lines.
pub const DATASET_BIND: &str = "bind.query";
/// The `event.dataset` of dnsmasq DNS lines.
pub const DATASET_DNSMASQ: &str = "dnsmasq.dns";
/// Longest DNS name kept, in bytes: a 255-octet wire name with every byte escaped as `\DDD`
/// fits; a longer one is cut on a character boundary.
pub const MAX_QNAME_LEN: usize = 1024;

/// One `event.action` value, with the categorisation every event of that action carries.
#[derive(Debug)]
pub struct Action {
    /// The `event.action` value (snake_case, stable).
    pub name: &'static str,
    /// `event.category` values.
    pub category: &'static [&'static str],
    /// `event.type` values.
    pub types: &'static [&'static str],
    /// `event.outcome`, when the line states one.
    pub outcome: Option<&'static str>,
    /// What the line means, for analysts.
    pub description: &'static str,
    /// An example line: program, then message.
    pub example: (&'static str, &'static str),
}

/// Returns every action this module produces: BIND's, then dnsmasq's.
pub fn actions() -> impl Iterator<Item = &'static Action> {
    bind::ACTIONS.iter().chain(dnsmasq::ACTIONS)
}

/// Parses the message of one syslog line from `program` (the APP-NAME/TAG, without pid) and
/// adds the ECS fields it finds to `event`. Returns false, leaving `event` untouched, when the
/// message is not one this module understands.
///
/// # Example
/// ```
/// use palisade_event::Event;
///
/// let mut event = Event::new();
/// let message = "query[A] www.example.com from 192.0.2.7";
/// assert!(palisade_parse::dns::parse_program("dnsmasq", Some(812), message, &mut event));
/// assert_eq!(event.get_str("event.action").as_deref(), Some("dns_query"));
/// assert_eq!(event.get_str("dns.question.name").as_deref(), Some("www.example.com"));
/// assert_eq!(event.get_str("source.ip").as_deref(), Some("192.0.2.7"));
/// ```
pub fn parse_program(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    let name = program_name(program);
    let fields = if name.eq_ignore_ascii_case("named") {
        bind::parse(strip_category_severity(message.trim_end()).1)
    } else if name.eq_ignore_ascii_case("dnsmasq") {
        dnsmasq::parse(message.trim_end())
    } else {
        None
    };
    let Some(mut fields) = fields else { return false };
    fields.name("process.name", name);
    if let Some(pid) = pid {
        fields.int("process.pid", i64::from(pid));
    }
    fields.apply(event);
    true
}

/// Parses one line of a BIND query log file (`DD-Mon-YYYY HH:MM:SS.mmm client ...: query: ...`),
/// whose time has no zone: it is read in `time_zone`. `None` when it is not one.
///
/// Sets `event.original` (the line), `message` (the text after the time, category and
/// severity), the event time, and the fields of [`parse_program`]; the category and severity,
/// when printed, go to `bind.category` and `log.level`.
///
/// # Example
/// ```
/// let line = "01-Dec-2026 10:00:00.123 queries: info: client @0x7f1b2c003f10 192.0.2.7#53211 (www.example.com): query: www.example.com IN A +E(0)K (192.0.2.1)";
/// let event = palisade_parse::dns::parse_line(line, &jiff::tz::TimeZone::UTC).unwrap();
/// assert_eq!(event.get_str("dns.question.type").as_deref(), Some("A"));
/// assert_eq!(event.get_str("destination.ip").as_deref(), Some("192.0.2.1"));
/// assert_eq!(event.timestamp().unwrap().to_string(), "2026-12-01T10:00:00.123Z");
/// ```
#[must_use]
pub fn parse_line(line: &str, time_zone: &jiff::tz::TimeZone) -> Option<Event> {
    let line = line.trim_end_matches(['\n', '\r']);
    let (timestamp, rest) = bind_time(line, time_zone)?;
    let ((category, severity), message) = strip_category_severity(rest.trim_end());
    let mut fields = bind::parse(message)?;
    if let Some(category) = category {
        fields.name("bind.category", category);
    }
    if let Some(severity) = severity {
        fields.name("log.level", severity);
    }
    fields.text("message", message);
    fields.text("event.original", line);
    let mut event = fields.into_event();
    event.set_timestamp(Some(timestamp));
    Some(event)
}

/// The program name without a path or a `[pid]` a caller left on it.
fn program_name(raw: &str) -> &str {
    let mut name = raw.trim();
    if let Some((head, _)) = name.split_once('[')
        && name.ends_with(']')
    {
        name = head;
    }
    match name.rsplit_once('/') {
        Some((_, base)) => base,
        None => name,
    }
}

/// Reads BIND's `DD-Mon-YYYY HH:MM:SS[.fff]` and returns the time and the text after it.
fn bind_time<'a>(
    line: &'a str,
    time_zone: &jiff::tz::TimeZone,
) -> Option<(jiff::Timestamp, &'a str)> {
    let (date, rest) = line.split_once(' ')?;
    let (clock, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let mut date_parts = date.split('-');
    let day: i8 = small_number(date_parts.next()?, 2)?.try_into().ok()?;
    let month = month_number(date_parts.next()?)?;
    let year: i16 = small_number(date_parts.next()?, 4)?.try_into().ok()?;
    if date_parts.next().is_some() {
        return None;
    }
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut clock_parts = hms.split(':');
    let hour: i8 = small_number(clock_parts.next()?, 2)?.try_into().ok()?;
    let minute: i8 = small_number(clock_parts.next()?, 2)?.try_into().ok()?;
    let second: i8 = small_number(clock_parts.next()?, 2)?.try_into().ok()?;
    if clock_parts.next().is_some() {
        return None;
    }
    let nanos: i32 = if fraction.is_empty() {
        0
    } else {
        if fraction.len() > 9 || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let digits: i32 = fraction.parse().ok()?;
        let scale = 10_i32.checked_pow(u32::try_from(9 - fraction.len()).ok()?)?;
        digits.checked_mul(scale)?
    };
    let datetime =
        jiff::civil::DateTime::new(year, month, day, hour, minute, second, nanos).ok()?;
    let timestamp = time_zone.to_ambiguous_timestamp(datetime).compatible().ok()?;
    Some((timestamp, rest))
}

/// A number of 1 to `max_digits` ASCII digits.
fn small_number(text: &str, max_digits: usize) -> Option<i32> {
    if text.is_empty() || text.len() > max_digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn month_number(name: &str) -> Option<i8> {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    MONTHS
        .iter()
        .zip(1_i8..)
        .find_map(|(month, number)| month.eq_ignore_ascii_case(name).then_some(number))
}

/// Splits the optional `CATEGORY: ` and `SEVERITY: ` BIND prints before a message
/// (`print-category yes;`, `print-severity yes;`). Returns them and the message.
fn strip_category_severity(message: &str) -> ((Option<&str>, Option<&str>), &str) {
    let mut rest = message;
    let mut category = None;
    let mut severity = None;
    // At most two words, each a lower-case name followed by `: ` ("debug 3: " has a space).
    for _ in 0..2 {
        let Some((word, tail)) = rest.split_once(": ") else { break };
        if is_severity(word) && severity.is_none() {
            severity = Some(word);
        } else if category.is_none()
            && severity.is_none()
            && !word.is_empty()
            && word.len() <= 32
            && word.bytes().all(|byte| byte.is_ascii_lowercase() || byte == b'-' || byte == b'_')
            && !matches!(word, "client" | "query" | "view")
        {
            category = Some(word);
        } else {
            break;
        }
        rest = tail;
    }
    ((category, severity), rest)
}

fn is_severity(word: &str) -> bool {
    matches!(word, "critical" | "error" | "warning" | "notice" | "info" | "dynamic")
        || word
            .strip_prefix("debug")
            .is_some_and(|level| level.is_empty() || crate::ecs::is_digits(level.trim_start()))
}

/// Sets the categorisation and `event.action` of `action`.
fn categorize(fields: &mut EcsFields, dataset: &'static str, action: &Action) {
    fields.categorize(dataset, "event", action.category, action.types, action.outcome);
    fields.name("event.action", action.name);
    fields.name("network.protocol", "dns");
}

/// Sets a DNS name field exactly as written (capped at [`MAX_QNAME_LEN`]) and adds it to
/// `related.hosts` when it is a plain host name.
fn dns_name(fields: &mut EcsFields, field: &'static str, name: &str) {
    if name.is_empty() {
        return;
    }
    fields.set(field, Value::from(cap(name, MAX_QNAME_LEN)));
    fields.related_host(name);
}

/// The ECS spelling of a query type: as written (`A`, `AAAA`, `HTTPS`), with dnsmasq's
/// `type=65` written the RFC 3597 way (`TYPE65`).
fn qtype(text: &str) -> String {
    match text.strip_prefix("type=") {
        Some(number) => format!("TYPE{}", cap(number, 8)),
        None => cap(text, 32).to_owned(),
    }
}

/// True for a DNS class mnemonic (`IN`, `CH`, `HS`, `ANY`, `NONE`, `CLASS255`).
fn is_class(text: &str) -> bool {
    matches!(text, "IN" | "CH" | "CS" | "HS" | "ANY" | "NONE")
        || text.strip_prefix("CLASS").is_some_and(crate::ecs::is_digits)
}

/// The RCODE name of a response code number (RFC 1035, 2136, 6891), as ECS writes it.
fn rcode_name(code: u16) -> Option<&'static str> {
    Some(match code {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        16 => "BADVERS",
        23 => "BADCOOKIE",
        _ => return None,
    })
}

/// True when `text` is an RCODE name.
fn is_rcode(text: &str) -> bool {
    (0..=23).filter_map(rcode_name).any(|name| name == text)
}

/// The reverse-lookup name of an address: `192.0.2.5` gives `5.2.0.192.in-addr.arpa`,
/// IPv6 gives the nibble form under `ip6.arpa`.
fn arpa_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut name = String::with_capacity(73);
            for byte in v6.octets().iter().rev() {
                for nibble in [byte & 0x0f, byte >> 4] {
                    name.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
                    name.push('.');
                }
            }
            name.push_str("ip6.arpa");
            name
        }
    }
}

/// Splits at the first space: the first word and the rest (empty when there is none).
fn word(text: &str) -> (&str, &str) {
    text.split_once(' ').unwrap_or((text, ""))
}

/// Caps a name-like value the way [`EcsFields::name`] does.
fn short(text: &str) -> &str {
    cap(text, MAX_NAME_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_time_reads_the_local_time_in_the_zone() {
        let utc = jiff::tz::TimeZone::UTC;
        let (time, rest) = bind_time("01-Dec-2026 10:00:00.123 client x", &utc).unwrap();
        assert_eq!(time.to_string(), "2026-12-01T10:00:00.123Z");
        assert_eq!(rest, "client x");
        let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        let (time, _) = bind_time("15-Jul-2026 10:00:00 x", &paris).unwrap();
        assert_eq!(time.to_string(), "2026-07-15T08:00:00Z");
        assert!(bind_time("31-Feb-2026 10:00:00.000 x", &utc).is_none());
        assert!(bind_time("01-Foo-2026 10:00:00.000 x", &utc).is_none());
        assert!(bind_time("01-Dec-2026 10:00:00.1234567890 x", &utc).is_none());
        assert!(bind_time("01-Dec-2026", &utc).is_none());
    }

    #[test]
    fn category_and_severity_are_optional() {
        assert_eq!(
            strip_category_severity("queries: info: client x"),
            ((Some("queries"), Some("info")), "client x")
        );
        assert_eq!(strip_category_severity("info: client x"), ((None, Some("info")), "client x"));
        assert_eq!(
            strip_category_severity("query-errors: debug 1: client x"),
            ((Some("query-errors"), Some("debug 1")), "client x")
        );
        assert_eq!(
            strip_category_severity("client 192.0.2.1#1: query: x"),
            ((None, None), "client 192.0.2.1#1: query: x")
        );
    }

    #[test]
    fn reverse_names() {
        assert_eq!(arpa_name("192.0.2.5".parse().unwrap()), "5.2.0.192.in-addr.arpa");
        assert_eq!(
            arpa_name("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn types_classes_and_rcodes() {
        assert_eq!(qtype("type=65"), "TYPE65");
        assert_eq!(qtype("AAAA"), "AAAA");
        assert!(is_class("IN") && is_class("CLASS3") && !is_class("A"));
        assert!(is_rcode("SERVFAIL") && !is_rcode("timed out"));
        assert_eq!(rcode_name(3), Some("NXDOMAIN"));
    }
}
