//! One text line to one event, as every line-oriented input (syslog ports, HTTP ingest, log
//! files) needs it: syslog followed by the auth-log parsers, or the line kept whole when no
//! parser understands it.

use palisade_event::{Event, Value};

use crate::syslog::{self, SyslogContext, SyslogFormat};

/// The tag of an event that keeps a line no parser understood.
pub const TAG_UNPARSED: &str = "_unparsed";
/// The tag of a line cut at the input's size limit.
pub const TAG_TRUNCATED: &str = "_truncated";

/// An event that keeps a line no parser understood, whole and tagged, so it stays
/// searchable.
#[must_use]
pub fn raw_event(line: &str) -> Event {
    Event::from_fields(vec![
        ("message".into(), Value::from(line)),
        ("event.original".into(), Value::from(line)),
        ("tags".into(), Value::List(vec![Value::from(TAG_UNPARSED)])),
    ])
}

/// Parses one syslog line (RFC 5424, BSD, or as in /var/log) into an event, then lets the
/// auth-log parsers add what they recognise in the program's message. Returns the event and
/// whether the syslog header was understood (if not, the event keeps the line whole, tagged
/// by the syslog parser). The sender's address in `ctx`, if any, becomes
/// `log.source.address`.
#[must_use]
pub fn syslog_event(bytes: &[u8], ctx: &SyslogContext, truncated: bool) -> (Event, bool) {
    let original = crate::text::utf8_lossy(bytes);
    let original = original.trim_end_matches(['\n', '\r', '\0']);
    let mut message = syslog::parse(original.as_bytes(), ctx);
    let parsed = message.format != SyslogFormat::Unparsed;
    let program = message.app_name.clone();
    let pid = message.procid.as_deref().and_then(|pid| pid.parse().ok());
    // The text is moved, not copied: the event gets it after the program's parser has read
    // it, unless that parser set `message` itself.
    let text = std::mem::take(&mut message.message);
    let mut event = message.into_event_from(original, ctx.source_address.clone());
    if let Some(program) = program {
        parse_program(&program, pid, &text, &mut event);
    } else {
        crate::cef::parse_program("", pid, &text, &mut event);
    }
    if !text.is_empty() && event.get("message").is_none() {
        event.insert("message", Value::from(text));
    }
    if truncated {
        event.insert("tags", with_tag(event.get("tags"), TAG_TRUNCATED));
    }
    (event, parsed)
}

/// Offers the message of a syslog line to every parser of a program's messages, in turn,
/// until one recognises it. Each check is cheap on a message that is not its own (a program
/// name or a prefix), so the order only matters where two could claim one message: CEF and
/// LEEF payloads come first because any program may send them.
pub fn parse_program(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    crate::cef::parse_program(program, pid, message, event)
        || crate::linux::parse_auth(program, pid, message, event)
        || crate::auditd::parse_program(program, pid, message, event)
        || crate::firewall::parse_program(program, pid, message, event)
        || crate::dns::parse_program(program, pid, message, event)
        || crate::dhcp::parse_program(program, pid, message, event)
        || crate::postfix::parse_program(program, pid, message, event)
        || crate::web::parse_program(program, pid, message, event)
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

    /// The sender's address given in the context is the same field, in the same event, as
    /// inserting it after the event is built (which is what the server did before).
    #[test]
    fn the_source_address_from_the_context_is_placed_with_the_header() {
        let ctx = SyslogContext::utc("2026-12-01T00:00:00Z".parse().expect("time"));
        let with = ctx.clone().with_source_address(Value::from("192.0.2.44"));
        for line in [
            "<38>Dec  1 10:00:00 bastion sshd[4242]: Failed password for root from 203.0.113.9 port 2222 ssh2",
            "<4>Dec  1 10:00:00 fw kernel: [ 12.5] [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.1 DST=192.0.2.10 PROTO=TCP SPT=1 DPT=22",
            "<134>1 2026-12-01T10:00:00Z app-1 billing 77 ID1 [x@1 a=\"1\"] request done",
            "not syslog at all",
        ] {
            let (built, parsed) = syslog_event(line.as_bytes(), &with, false);
            let (mut inserted, parsed_before) = syslog_event(line.as_bytes(), &ctx, false);
            inserted.insert("log.source.address", Value::from("192.0.2.44"));
            assert_eq!(parsed, parsed_before, "{line}");
            assert_eq!(built, inserted, "{line}");
            assert_eq!(built.get_str("log.source.address").as_deref(), Some("192.0.2.44"));
        }
    }
}
