//! RFC 5424: `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
//! STRUCTURED-DATA [SP MSG]`.
//!
//! Read leniently, the way senders really write it:
//! - the header may stop early (a truncated line): the missing fields are absent;
//! - a timestamp without an offset is read in the context's zone; a present but unreadable
//!   timestamp means the line is not RFC 5424 at all, and RFC 3164 gets its turn;
//! - STRUCTURED-DATA that is neither `-` nor well-formed SD-ELEMENTs is taken as the start of
//!   the message (some senders leave SD out), so nothing is lost;
//! - one space at the start of MSG is dropped: rsyslog's `RSYSLOG_SyslogProtocol23Format`
//!   relays a BSD message as `... - - %msg%`, and `%msg%` keeps the space that followed the
//!   BSD tag's colon;
//! - no length limit of the RFC (255 for HOSTNAME, 48 for APP-NAME...) is enforced.

use palisade_event::Str;

use super::priority::Pri;
use super::{
    SdElement, SyslogContext, SyslogFormat, SyslogMessage, lossy, lossy_str, next_token, time,
};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses the part of a message after its PRI (if any). Returns `None` when it is not RFC
/// 5424: no `VERSION SP`, an unreadable timestamp, or no PRI and no timestamp (a line of a
/// plain file that happens to start with `1 `).
pub(super) fn parse(rest: &[u8], pri: Pri, ctx: &SyslogContext) -> Option<SyslogMessage> {
    let n_digits = rest.iter().take(4).take_while(|byte| byte.is_ascii_digit()).count();
    if !(1..=3).contains(&n_digits) || rest[0] == b'0' || rest.get(n_digits) != Some(&b' ') {
        return None;
    }
    let version =
        rest[..n_digits].iter().fold(0_u16, |acc, digit| acc * 10 + u16::from(digit - b'0'));
    let (timestamp_token, rest) = next_token(&rest[n_digits + 1..]);
    let timestamp = match timestamp_token {
        b"" | b"-" => None,
        token => Some(time::parse_rfc3339(token, ctx)?),
    };
    if pri == Pri::Missing && timestamp.is_none() {
        return None;
    }
    let mut message = SyslogMessage::empty(SyslogFormat::Rfc5424);
    message.set_pri(pri);
    message.version = Some(version);
    message.timestamp = timestamp;
    let (hostname, rest) = next_token(rest);
    let (app_name, rest) = next_token(rest);
    let (procid, rest) = next_token(rest);
    let (msgid, rest) = next_token(rest);
    message.hostname = field(hostname);
    message.app_name = field(app_name);
    message.procid = field(procid);
    message.msgid = field(msgid);
    let msg = if let Some(after_nil) = rest.strip_prefix(b"-") {
        match after_nil {
            [] => after_nil,
            [b' ', msg @ ..] => msg,
            _ => rest,
        }
    } else if rest.first() == Some(&b'[') {
        match parse_structured_data(rest) {
            Some((elements, msg)) => {
                message.structured_data = elements;
                msg
            }
            None => rest,
        }
    } else {
        rest
    };
    message.message = lossy(strip_message_prefix(msg));
    Some(message)
}

/// A header field: `None` for NILVALUE or an empty token.
fn field(token: &[u8]) -> Option<Str> {
    match token {
        b"" | b"-" => None,
        token => Some(lossy_str(token)),
    }
}

/// Drops the BOM that announces UTF-8, or else one leading space (see the module doc).
fn strip_message_prefix(msg: &[u8]) -> &[u8] {
    if let Some(after_bom) = msg.strip_prefix(BOM) {
        return after_bom;
    }
    msg.strip_prefix(b" ").unwrap_or(msg)
}

/// Parses one or more SD-ELEMENTs at the start of `bytes`. Returns them and the MSG after
/// the separating space, or `None` when they are malformed.
fn parse_structured_data(mut bytes: &[u8]) -> Option<(Vec<SdElement>, &[u8])> {
    let mut elements = Vec::new();
    while let Some(rest) = bytes.strip_prefix(b"[") {
        let (id, mut rest) = sd_name(rest)?;
        let mut params = Vec::new();
        loop {
            let after_spaces = super::skip_spaces(rest);
            if let Some(after) = after_spaces.strip_prefix(b"]") {
                rest = after;
                break;
            }
            if after_spaces.len() == rest.len() {
                return None; // No space between the SD-ID or previous parameter and this one.
            }
            let (name, after_name) = sd_name(after_spaces)?;
            let after_eq = after_name.strip_prefix(b"=\"")?;
            let (value, after_value) = sd_value(after_eq)?;
            params.push((name, value));
            rest = after_value;
        }
        elements.push(SdElement { id, params });
        bytes = rest;
    }
    match bytes {
        [] => Some((elements, bytes)),
        [b' ', msg @ ..] => Some((elements, msg)),
        _ => None,
    }
}

/// An SD-NAME: printable US-ASCII except `=`, space, `]` and `"`.
fn sd_name(bytes: &[u8]) -> Option<(String, &[u8])> {
    let len = bytes
        .iter()
        .take_while(|byte| matches!(byte, 33..=126) && !matches!(byte, b'=' | b']' | b'"'))
        .count();
    if len == 0 {
        return None;
    }
    Some((lossy(&bytes[..len]), &bytes[len..]))
}

/// A PARAM-VALUE after its opening quote, up to the closing one. `\"`, `\\` and `\]` stand
/// for the character after the backslash; any other backslash is kept as written (RFC 5424
/// section 6.3.3).
fn sd_value(bytes: &[u8]) -> Option<(String, &[u8])> {
    let mut value = Vec::new();
    let mut idx = 0;
    while idx < bytes.len() {
        match bytes[idx] {
            b'"' => return Some((String::from_utf8_lossy(&value).into_owned(), &bytes[idx + 1..])),
            b'\\' if matches!(bytes.get(idx + 1), Some(b'"' | b'\\' | b']')) => {
                value.push(bytes[idx + 1]);
                idx += 2;
            }
            byte => {
                value.push(byte);
                idx += 1;
            }
        }
    }
    None
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

    #[test]
    fn rfc_example_with_structured_data() {
        let message = parse(
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 \
             [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \
             \u{feff}An application event log entry...",
        );
        assert_eq!(message.format, SyslogFormat::Rfc5424);
        assert_eq!(message.facility, Some(Facility::Local4));
        assert_eq!(message.severity, Some(Severity::Notice));
        assert_eq!(message.version, Some(1));
        assert_eq!(message.timestamp, Some("2003-10-11T22:14:15.003Z".parse().unwrap()));
        assert_eq!(message.hostname.as_deref(), Some("mymachine.example.com"));
        assert_eq!(message.app_name.as_deref(), Some("evntslog"));
        assert_eq!(message.procid, None);
        assert_eq!(message.msgid.as_deref(), Some("ID47"));
        assert_eq!(message.structured_data.len(), 1);
        assert_eq!(message.structured_data[0].id, "exampleSDID@32473");
        assert_eq!(
            message.structured_data[0].params,
            [
                ("iut".to_owned(), "3".to_owned()),
                ("eventSource".to_owned(), "Application".to_owned()),
                ("eventID".to_owned(), "1011".to_owned()),
            ]
        );
        assert_eq!(message.message, "An application event log entry...");
    }

    #[test]
    fn escapes_in_param_values() {
        let message =
            parse(r#"<13>1 - - - - - [a@1 q="say \"hi\"" b="back\\slash" c="x\]y" d="\n"]"#);
        let params = &message.structured_data[0].params;
        assert_eq!(params[0].1, r#"say "hi""#);
        assert_eq!(params[1].1, r"back\slash");
        assert_eq!(params[2].1, "x]y");
        assert_eq!(params[3].1, r"\n");
        assert_eq!(message.message, "");
    }

    #[test]
    fn several_elements_and_empty_element() {
        let message = parse(r#"<13>1 - h a - - [x@1][y@2 k="v"][meta] msg"#);
        let ids: Vec<_> = message.structured_data.iter().map(|sd| sd.id.as_str()).collect();
        assert_eq!(ids, ["x@1", "y@2", "meta"]);
        assert_eq!(message.message, "msg");
    }

    #[test]
    fn malformed_structured_data_becomes_message() {
        for (line, expected) in [
            (r#"<13>1 - h a - - [x@1 k="v" rest"#, r#"[x@1 k="v" rest"#),
            (r#"<13>1 - h a - - [x@1 k=v] m"#, r#"[x@1 k=v] m"#),
            (r#"<13>1 - h a - - [x@1]m"#, r#"[x@1]m"#),
            (r#"<13>1 - h a - - [] m"#, r#"[] m"#),
            (r#"<13>1 - h a - - [x@1 k="v"k2="w"] m"#, r#"[x@1 k="v"k2="w"] m"#),
            ("<13>1 - h a - - no sd here", "no sd here"),
            ("<13>1 - h a - - -x", "-x"),
        ] {
            let message = parse(line);
            assert_eq!(message.format, SyslogFormat::Rfc5424, "{line}");
            assert!(message.structured_data.is_empty(), "{line}");
            assert_eq!(message.message, expected, "{line}");
        }
    }

    #[test]
    fn truncated_header_keeps_what_it_has() {
        let message = parse("<13>1 2026-11-30T22:00:01Z host");
        assert_eq!(message.format, SyslogFormat::Rfc5424);
        assert_eq!(message.hostname.as_deref(), Some("host"));
        assert_eq!(message.app_name, None);
        assert_eq!(message.message, "");
        let message = parse("<13>1 ");
        assert_eq!(message.format, SyslogFormat::Rfc5424);
        assert_eq!(message.timestamp, None);
    }

    #[test]
    fn rsyslog_relay_space_is_dropped_once() {
        let message = parse("<38>1 2026-11-30T22:00:01+01:00 web sshd 42 - -  Accepted key");
        assert_eq!(message.message, "Accepted key");
        let message = parse("<38>1 2026-11-30T22:00:01+01:00 web sshd 42 - -   indented");
        assert_eq!(message.message, " indented");
    }

    #[test]
    fn not_rfc5424() {
        // An unreadable timestamp hands over to RFC 3164.
        assert_eq!(parse("<13>1 Nov 30 22:00:01 host app: m").format, SyslogFormat::Rfc3164);
        // A file line starting with `1 ` and no PRI.
        assert_eq!(parse("1 - - - - - m").format, SyslogFormat::Unparsed);
        assert_eq!(parse("<13>01 - h").format, SyslogFormat::Rfc3164);
        // With a timestamp, a PRI-less line is RFC 5424 (rsyslog can write files so).
        let message = parse("1 2026-11-30T22:00:01Z host app - - - m");
        assert_eq!(message.format, SyslogFormat::Rfc5424);
        assert_eq!(message.facility, None);
        assert_eq!(message.message, "m");
    }
}
