//! RFC 3164 (BSD syslog): `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`, and what senders and
//! files really hold:
//!
//! - no PRI (`/var/log/auth.log`, `/var/log/messages`);
//! - an RFC 3339 timestamp instead of the BSD one (rsyslog's `RSYSLOG_ForwardFormat` and
//!   `RSYSLOG_FileFormat`), a day padded with a space or not at all, fractional seconds;
//! - Cisco: a sequence number before the timestamp (`<189>58: *Mar  1 00:05:25.539: %SYS-5-...`),
//!   `*` or `.` before it (clock not synchronised), a colon or a zone name (`UTC:`) after it,
//!   a year in it (ASA: `Nov 30 2026 22:00:01`), ` : ` in place of a tag (ASA with a device id);
//! - no hostname (`logger` writing to the local socket: `<13>Nov 30 22:00:01 user: msg`): when
//!   the first word after the timestamp is itself a tag (`word:`, `word[pid]:`), there is none;
//! - a TAG with a PID or not, with a `(pam_unix)` style suffix (`sshd(pam_unix)[19939]:`, kept
//!   whole in `app_name`), or without a colon: like rsyslog and syslog-ng, the first word is
//!   then the tag (`syslogd 1.4.1: restart.` is app `syslogd`), as long as it looks like a
//!   program name. A tab also ends the tag (Snare: `MSWinEventLog<TAB>1<TAB>Security...`).
//!
//! A message with a valid PRI but no timestamp keeps its PRI and, if it starts with one, its
//! tag (`<166>%ASA-6-302013: Built ...`). With neither a valid PRI nor a timestamp the line is
//! not syslog: [`parse`] returns `None`.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::priority::Pri;
use super::{
    SyslogContext, SyslogFormat, SyslogMessage, lossy, lossy_str, next_token, skip_spaces, time,
};

/// Zone names that Cisco devices print after the time (`show-timezone`). Only UTC and GMT
/// change how the time is read; the others are too ambiguous (`IST`, `CST`) and leave it in
/// the context's zone.
const ZONE_NAMES: [&[u8]; 16] = [
    b"UTC", b"GMT", b"CET", b"CEST", b"EET", b"EEST", b"WET", b"WEST", b"BST", b"EST", b"EDT",
    b"CST", b"CDT", b"MST", b"PST", b"PDT",
];

/// The longest first word taken as a tag when it has no colon (RFC 5424's APP-NAME limit).
const MAX_LOOSE_TAG: usize = 48;

/// Parses the part of a message after its PRI (if any). `None` when there is neither a valid
/// PRI nor a timestamp.
pub(super) fn parse(rest: &[u8], pri: Pri, ctx: &SyslogContext) -> Option<SyslogMessage> {
    let stamped = read_timestamp(rest, ctx);
    if stamped.is_none() && !matches!(pri, Pri::Valid(..)) {
        return None;
    }
    let mut message = SyslogMessage::empty(SyslogFormat::Rfc3164);
    message.set_pri(pri);
    let tag = match stamped {
        Some((timestamp, body)) => {
            message.timestamp = timestamp;
            let body = skip_spaces(body);
            match canonical_tag(body) {
                Some(tag) => Some(tag),
                None => {
                    let (hostname, after) = next_token(body);
                    if !hostname.is_empty() && hostname != b"-" {
                        message.hostname = Some(lossy_str(hostname));
                    }
                    let after = skip_spaces(after);
                    let after = after.strip_prefix(b": ").unwrap_or(after);
                    Some(canonical_tag(after).or_else(|| loose_tag(after)).unwrap_or(Tag {
                        app_name: b"",
                        procid: None,
                        message: after,
                    }))
                }
            }
        }
        None => canonical_tag(skip_spaces(rest)),
    };
    let body = match tag {
        Some(tag) => {
            if !tag.app_name.is_empty() {
                message.app_name = Some(lossy_str(tag.app_name));
            }
            message.procid = tag.procid.filter(|procid| !procid.is_empty()).map(lossy_str);
            tag.message
        }
        None => rest,
    };
    message.message = lossy(body);
    Some(message)
}

/// Reads the timestamp and what comes with it (Cisco sequence number, `*`, trailing colon or
/// zone name). Returns the instant (`None` if the fields name no real date, such as `Feb
/// 30`) and the rest, or `None` when there is no timestamp.
fn read_timestamp<'a>(
    bytes: &'a [u8],
    ctx: &SyslogContext,
) -> Option<(Option<Timestamp>, &'a [u8])> {
    let bytes = skip_spaces(bytes);
    if let Some(found) = read_bare_timestamp(bytes, ctx) {
        return Some(found);
    }
    // A Cisco sequence number: `58: `.
    let n_digits = bytes.iter().take(11).take_while(|byte| byte.is_ascii_digit()).count();
    let after_sequence = bytes.get(n_digits..)?.strip_prefix(b": ")?;
    if !(1..=10).contains(&n_digits) {
        return None;
    }
    read_bare_timestamp(after_sequence, ctx)
}

fn read_bare_timestamp<'a>(
    bytes: &'a [u8],
    ctx: &SyslogContext,
) -> Option<(Option<Timestamp>, &'a [u8])> {
    let unsynchronised = bytes.strip_prefix(b"*").or_else(|| bytes.strip_prefix(b"."));
    let bytes = unsynchronised.unwrap_or(bytes);
    if let Some((bsd, rest)) = time::parse_bsd(bytes) {
        let mut rest = rest;
        let mut zone = None;
        if let Some(after_colon) = rest.strip_prefix(b":") {
            rest = after_colon;
        } else if let Some(after_space) = rest.strip_prefix(b" ") {
            let (word, after_word) = next_token(after_space);
            if let Some(name) = word.strip_suffix(b":")
                && ZONE_NAMES.contains(&name)
            {
                zone = Some(name);
                rest = after_word;
            }
        }
        let timestamp = if matches!(zone, Some(b"UTC" | b"GMT")) {
            let utc = SyslogContext::new(ctx.received, TimeZone::UTC);
            time::resolve_bsd(bsd, &utc)
        } else {
            time::resolve_bsd(bsd, ctx)
        };
        return Some((timestamp, rest));
    }
    if unsynchronised.is_some() {
        return None;
    }
    let (token, rest) = next_token(bytes);
    let timestamp = time::parse_rfc3339(token.strip_suffix(b":").unwrap_or(token), ctx)?;
    Some((Some(timestamp), rest))
}

/// A TAG split into its parts, and the message after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tag<'a> {
    app_name: &'a [u8],
    procid: Option<&'a [u8]>,
    message: &'a [u8],
}

/// A tag in one of its usual forms, at the start of `bytes`: `app:`, `app[pid]:`,
/// `app(suffix)[pid]:`, `app[pid]` followed by a space. The colon must end the word (`http:`
/// in `http://...` is no tag).
fn canonical_tag(bytes: &[u8]) -> Option<Tag<'_>> {
    let ident_len = bytes.iter().position(|byte| matches!(byte, b' ' | b'\t' | b'[' | b':'))?;
    if ident_len == 0 {
        return None;
    }
    let app_name = &bytes[..ident_len];
    let rest = &bytes[ident_len..];
    match rest[0] {
        b':' => {
            let after = &rest[1..];
            match after {
                [] => Some(Tag { app_name, procid: None, message: after }),
                [b' ', message @ ..] => Some(Tag { app_name, procid: None, message }),
                _ => None,
            }
        }
        b'[' => {
            let pid_len = rest[1..].iter().take(33).position(|byte| *byte == b']')?;
            let procid = &rest[1..=pid_len];
            if procid.iter().any(|byte| matches!(byte, b' ' | b'[' | b':')) {
                return None;
            }
            let message = match &rest[pid_len + 2..] {
                [] => &[][..],
                [b' ', message @ ..] | [b':', b' ', message @ ..] => message,
                // `app[pid]:x` is a tag written without a space; `app[pid]x` is none.
                [b':', message @ ..] => message,
                _ => return None,
            };
            Some(Tag { app_name, procid: Some(procid), message })
        }
        _ => None,
    }
}

/// The first word as the tag, as rsyslog and syslog-ng take it when no colon follows, if it
/// looks like a program name.
fn loose_tag(bytes: &[u8]) -> Option<Tag<'_>> {
    let len = bytes.iter().position(|byte| matches!(byte, b' ' | b'\t')).unwrap_or(bytes.len());
    let word = &bytes[..len];
    let is_program_name = |byte: &u8| {
        byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_' | b'.' | b'/' | b'(' | b')' | b'@' | b'%')
    };
    if word.is_empty() || word.len() > MAX_LOOSE_TAG || !word.iter().all(is_program_name) {
        return None;
    }
    let message = bytes.get(len + 1..).unwrap_or_default();
    Some(Tag { app_name: word, procid: None, message })
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::super::{Facility, Severity, parse as parse_any};
    use super::*;

    fn ctx() -> SyslogContext {
        SyslogContext::new("2026-12-01T00:00:00Z".parse().unwrap(), TimeZone::UTC)
    }

    fn parse(line: &str) -> SyslogMessage {
        parse_any(line.as_bytes(), &ctx())
    }

    fn header(line: &str) -> (Option<String>, Option<String>, Option<String>, String) {
        let message = parse(line);
        assert_eq!(message.format, SyslogFormat::Rfc3164, "{line}");
        let owned = |text: Option<palisade_event::Str>| text.map(|text| text.as_str().to_owned());
        (owned(message.hostname), owned(message.app_name), owned(message.procid), message.message)
    }

    fn some(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn logger_rfc3164_over_udp() {
        let message = parse("<13>Nov 30 22:00:01 web01 alice[4242]: hello world");
        assert_eq!(message.facility, Some(Facility::User));
        assert_eq!(message.severity, Some(Severity::Notice));
        assert_eq!(message.timestamp, Some("2026-11-30T22:00:01Z".parse().unwrap()));
        assert_eq!(message.hostname.as_deref(), Some("web01"));
        assert_eq!(message.app_name.as_deref(), Some("alice"));
        assert_eq!(message.procid.as_deref(), Some("4242"));
        assert_eq!(message.message, "hello world");
        assert_eq!(message.version, None);
    }

    #[test]
    fn hostname_may_be_missing() {
        assert_eq!(
            header("<13>Nov 30 22:00:01 user: msg"),
            (None, some("user"), None, "msg".to_owned())
        );
        assert_eq!(
            header("<13>Nov 30 22:00:01 sshd[7]: msg"),
            (None, some("sshd"), some("7"), "msg".to_owned())
        );
        assert_eq!(
            header("<13>Nov 30 22:00:01 - tag: m"),
            (None, some("tag"), None, "m".to_owned())
        );
    }

    #[test]
    fn tag_forms() {
        assert_eq!(
            header("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure"),
            (some("combo"), some("sshd(pam_unix)"), some("19939"), "authentication failure".into())
        );
        assert_eq!(
            header("Jun 19 04:09:11 combo syslogd 1.4.1: restart."),
            (some("combo"), some("syslogd"), None, "1.4.1: restart.".into())
        );
        assert_eq!(
            header("Jul  7 08:06:15 combo  -- root[2421]: ROOT LOGIN ON tty2"),
            (some("combo"), some("--"), None, "root[2421]: ROOT LOGIN ON tty2".into())
        );
        assert_eq!(
            header("Jun 14 15:16:01 h app[12] no colon"),
            (some("h"), some("app"), some("12"), "no colon".into())
        );
        assert_eq!(
            header("Jun 14 15:16:01 h app[12]:tight"),
            (some("h"), some("app"), some("12"), "tight".into())
        );
        assert_eq!(
            header("Jun 14 15:16:01 h postfix/smtpd[99]: connect"),
            (some("h"), some("postfix/smtpd"), some("99"), "connect".into())
        );
        assert_eq!(
            header("Jun 14 15:16:01 h http://example.com/ x"),
            (some("h"), None, None, "http://example.com/ x".into())
        );
        assert_eq!(
            header("Jun 14 15:16:01 h kernel:"),
            (some("h"), some("kernel"), None, String::new())
        );
        assert_eq!(
            header("Jun 14 15:16:01 h MSWinEventLog\t1\tSecurity"),
            (some("h"), some("MSWinEventLog"), None, "1\tSecurity".into())
        );
        assert_eq!(header("Jun 14 15:16:01 h"), (some("h"), None, None, String::new()));
        assert_eq!(header("Jun 14 15:16:01"), (None, None, None, String::new()));
    }

    #[test]
    fn ipv6_hostnames() {
        assert_eq!(
            header("<13>Nov 30 22:00:01 2001:db8::1 sshd[1]: m"),
            (some("2001:db8::1"), some("sshd"), some("1"), "m".into())
        );
        assert_eq!(
            header("<13>Nov 30 22:00:01 fe80:: app: m"),
            (some("fe80::"), some("app"), None, "m".into())
        );
    }

    #[test]
    fn rfc3339_timestamps() {
        let message = parse("<30>2026-11-30T22:00:01.123456+01:00 web01 systemd[1]: Started.");
        assert_eq!(message.format, SyslogFormat::Rfc3164);
        assert_eq!(message.timestamp, Some("2026-11-30T21:00:01.123456Z".parse().unwrap()));
        assert_eq!(message.hostname.as_deref(), Some("web01"));
        assert_eq!(message.app_name.as_deref(), Some("systemd"));
        let message = parse("2026-11-30T22:00:01.123456+01:00 web01 cron[9]: ok");
        assert_eq!(message.format, SyslogFormat::Rfc3164);
        assert_eq!(message.facility, None);
        assert_eq!(message.procid.as_deref(), Some("9"));
    }

    #[test]
    fn cisco_variants() {
        let message =
            parse("<189>58: *Mar  1 00:05:25.539: %SYS-5-CONFIG_I: Configured from console");
        assert_eq!(message.facility, Some(Facility::Local7));
        assert_eq!(message.timestamp, Some("2026-03-01T00:05:25.539Z".parse().unwrap()));
        assert_eq!(message.hostname, None);
        assert_eq!(message.app_name.as_deref(), Some("%SYS-5-CONFIG_I"));
        assert_eq!(message.message, "Configured from console");

        let paris = SyslogContext::new(
            "2026-12-01T00:00:00Z".parse().unwrap(),
            TimeZone::get("Europe/Paris").unwrap_or(TimeZone::fixed(jiff::tz::offset(1))),
        );
        let message = parse_any(b"<189>12: Nov 30 22:00:01.002 UTC: %LINK-3-UPDOWN: down", &paris);
        assert_eq!(message.timestamp, Some("2026-11-30T22:00:01.002Z".parse().unwrap()));
        assert_eq!(message.app_name.as_deref(), Some("%LINK-3-UPDOWN"));

        let message = parse("<166>Nov 30 2026 22:00:01: %ASA-6-302013: Built outbound TCP");
        assert_eq!(message.timestamp, Some("2026-11-30T22:00:01Z".parse().unwrap()));
        assert_eq!(message.app_name.as_deref(), Some("%ASA-6-302013"));
        assert_eq!(message.message, "Built outbound TCP");

        let message = parse("<166>Nov 30 2026 22:00:01 asa01 : %ASA-4-106023: Deny tcp");
        assert_eq!(message.hostname.as_deref(), Some("asa01"));
        assert_eq!(message.app_name.as_deref(), Some("%ASA-4-106023"));
        assert_eq!(message.message, "Deny tcp");

        let message = parse("<166>%ASA-6-302013: Built outbound TCP");
        assert_eq!(message.format, SyslogFormat::Rfc3164);
        assert_eq!(message.timestamp, None);
        assert_eq!(message.app_name.as_deref(), Some("%ASA-6-302013"));
        assert_eq!(message.message, "Built outbound TCP");
    }

    #[test]
    fn pri_without_timestamp() {
        let message = parse("<189>date=2026-11-30 time=22:00:01 devname=fw01");
        assert_eq!(message.format, SyslogFormat::Rfc3164);
        assert_eq!(message.app_name, None);
        assert_eq!(message.message, "date=2026-11-30 time=22:00:01 devname=fw01");
    }

    #[test]
    fn neither_pri_nor_timestamp_is_not_syslog() {
        for line in ["", "hello", "sshd[1]: hi", "<999>hello", "Jun 99 00:00:00 x", "*Mar"] {
            let message = parse(line);
            assert_eq!(message.format, SyslogFormat::Unparsed, "{line}");
            assert_eq!(message.message, line);
        }
    }

    #[test]
    fn out_of_range_pri_with_timestamp() {
        let message = parse("<999>Nov 30 22:00:01 h a: m");
        assert_eq!(message.format, SyslogFormat::Rfc3164);
        assert!(message.invalid_priority);
        assert_eq!(message.facility, None);
        assert_eq!(message.app_name.as_deref(), Some("a"));
    }

    #[test]
    fn impossible_date_keeps_the_header() {
        let message = parse("<13>Feb 30 22:00:01 h a: m");
        assert_eq!(message.format, SyslogFormat::Rfc3164);
        assert_eq!(message.timestamp, None);
        assert_eq!(message.hostname.as_deref(), Some("h"));
    }
}
