//! A parsed syslog message as an event with ECS field names.

use palisade_event::{Event, Str, Value};

use super::{SyslogFormat, SyslogMessage};

/// Most fields the header gives an event (structured data aside).
const HEADER_FIELDS: usize = 18;
/// Fields the program's parser, the input and the enrichment usually add after the header: a
/// firewall line or a DNS query adds about twenty.
const PROGRAM_FIELDS: usize = 28;

/// The tag of a message that matched no syslog format.
pub const TAG_UNPARSED: &str = "_syslog_unparsed";
/// The tag of a message whose PRI was out of range (above 191).
pub const TAG_INVALID_PRIORITY: &str = "_syslog_invalid_priority";

impl SyslogMessage {
    /// Maps the message to an event, with `original` (the whole line as received) as
    /// `event.original`:
    ///
    /// | Field | From |
    /// |---|---|
    /// | `@timestamp` (the event time) | TIMESTAMP, when readable; else none, and the store stamps arrival |
    /// | `log.syslog.priority`, `.facility.code`, `.facility.name`, `.severity.code`, `.severity.name` | PRI (`13`, `1`, `user`, `5`, `Notice`) |
    /// | `log.syslog.version` | VERSION (`"1"`), RFC 5424 only |
    /// | `log.syslog.hostname`, `host.hostname`, `host.name` | HOSTNAME |
    /// | `log.syslog.appname`, `process.name` | APP-NAME or TAG; `process.name` without a `(pam_unix)` style suffix |
    /// | `log.syslog.procid`, `process.pid` | PROCID or `[PID]`; `process.pid` as an integer, only when numeric |
    /// | `log.syslog.msgid` | MSGID |
    /// | `log.syslog.structured_data.<SD-ID>.<PARAM>` | each SD-PARAM; a repeated one becomes a list |
    /// | `message` | MSG, when not empty |
    /// | `tags` | `["_syslog_unparsed"]` when no format matched, `["_syslog_invalid_priority"]` for a PRI above 191 |
    ///
    /// `event.dataset` and `event.module` are left to the application parsers that run next.
    #[must_use]
    pub fn into_event(self, original: &str) -> Event {
        self.into_event_from(original, None)
    }

    /// [`SyslogMessage::into_event`], with the sender's address as `log.source.address`
    /// when one is given.
    #[must_use]
    pub fn into_event_from(self, original: &str, source_address: Option<Value>) -> Event {
        let n_params: usize = self.structured_data.iter().map(|element| element.params.len()).sum();
        // Room for the header, and for what the program's parser and the enrichment add after
        // it, so that neither moves the array to grow it.
        let mut fields: Vec<(Str, Value)> =
            Vec::with_capacity(HEADER_FIELDS + n_params + PROGRAM_FIELDS);
        let mut push = |name: &'static str, value: Value| fields.push((name.into(), value));
        // Pushed in the event's field order (`palisade_event::field_order`: by length, then
        // bytes), so that `Event::from_fields` finds them sorted and skips its sort.
        if self.format == SyslogFormat::Unparsed {
            push("tags", Value::List(vec![Value::from(TAG_UNPARSED)]));
        } else if self.invalid_priority {
            push("tags", Value::List(vec![Value::from(TAG_INVALID_PRIORITY)]));
        }
        if !self.message.is_empty() {
            push("message", Value::from(self.message));
        }
        if let Some(hostname) = &self.hostname {
            push("host.name", Value::from(hostname.as_str()));
        }
        let pid =
            self.procid.as_deref().filter(|procid| procid.bytes().all(|b| b.is_ascii_digit()));
        if let Some(pid) = pid.and_then(|pid| pid.parse::<i64>().ok()) {
            push("process.pid", Value::Int(pid));
        }
        if let Some(app_name) = &self.app_name {
            push("process.name", Value::from(process_name(app_name)));
        }
        if let Some(hostname) = &self.hostname {
            push("host.hostname", Value::from(hostname.as_str()));
        }
        push("event.original", Value::from(original));
        if let Some(msgid) = &self.msgid {
            push("log.syslog.msgid", Value::from(msgid.as_str()));
        }
        if let Some(procid) = &self.procid {
            push("log.syslog.procid", Value::from(procid.as_str()));
        }
        if let Some(address) = source_address {
            push("log.source.address", address);
        }
        if let Some(app_name) = &self.app_name {
            push("log.syslog.appname", Value::from(app_name.as_str()));
        }
        if let Some(version) = self.version {
            // Version 1 is the only one RFC 5424 defines: no string to build for it.
            let version =
                if version == 1 { Value::literal("1") } else { Value::from(version.to_string()) };
            push("log.syslog.version", version);
        }
        if let Some(hostname) = &self.hostname {
            push("log.syslog.hostname", Value::from(hostname.as_str()));
        }
        if let (Some(facility), Some(severity)) = (self.facility, self.severity) {
            let priority = facility.code() * 8 + severity.code();
            push("log.syslog.priority", Value::Int(i64::from(priority)));
            push("log.syslog.facility.code", Value::Int(i64::from(facility.code())));
            push("log.syslog.facility.name", Value::literal(facility.name()));
            push("log.syslog.severity.code", Value::Int(i64::from(severity.code())));
            push("log.syslog.severity.name", Value::literal(severity.name()));
        }
        debug_assert!(
            fields
                .is_sorted_by(|left, right| palisade_event::field_order(&left.0, &right.0).is_le()),
            "syslog header fields out of the event's order"
        );
        for element in self.structured_data {
            for (name, value) in element.params {
                let field = format!("log.syslog.structured_data.{}.{name}", element.id);
                fields.push((field.into(), Value::from(value)));
            }
        }
        let mut event = Event::from_fields(fields);
        event.set_timestamp(self.timestamp);
        event
    }
}

/// The program name of a tag: `sshd(pam_unix)` is `sshd`, as old PAM modules wrote their
/// name after the program's.
fn process_name(app_name: &str) -> &str {
    match app_name.find('(') {
        Some(idx) if idx > 0 && app_name.ends_with(')') => &app_name[..idx],
        _ => app_name,
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::super::{SyslogContext, parse};
    use super::*;

    fn event(line: &str) -> Event {
        let ctx = SyslogContext::new("2026-12-01T00:00:00Z".parse().unwrap(), TimeZone::UTC);
        parse(line.as_bytes(), &ctx).into_event(line)
    }

    #[test]
    fn rfc5424_fields() {
        let line = r#"<165>1 2026-11-30T22:00:01.5+01:00 host.example app 1234 ID47 [x@1 a="1" a="2" b="3"] hi"#;
        let event = event(line);
        assert_eq!(event.timestamp(), Some("2026-11-30T21:00:01.5Z".parse().unwrap()));
        assert_eq!(event.get("log.syslog.priority"), Some(&Value::Int(165)));
        assert_eq!(event.get("log.syslog.facility.code"), Some(&Value::Int(20)));
        assert_eq!(event.get_str("log.syslog.facility.name").as_deref(), Some("local4"));
        assert_eq!(event.get("log.syslog.severity.code"), Some(&Value::Int(5)));
        assert_eq!(event.get_str("log.syslog.severity.name").as_deref(), Some("Notice"));
        assert_eq!(event.get_str("log.syslog.version").as_deref(), Some("1"));
        for name in ["log.syslog.hostname", "host.hostname", "host.name"] {
            assert_eq!(event.get_str(name).as_deref(), Some("host.example"));
        }
        assert_eq!(event.get_str("process.name").as_deref(), Some("app"));
        assert_eq!(event.get("process.pid"), Some(&Value::Int(1234)));
        assert_eq!(event.get_str("log.syslog.procid").as_deref(), Some("1234"));
        assert_eq!(event.get_str("log.syslog.msgid").as_deref(), Some("ID47"));
        assert_eq!(
            event.get("log.syslog.structured_data.x@1.a"),
            Some(&Value::List(vec![Value::from("1"), Value::from("2")]))
        );
        assert_eq!(event.get_str("log.syslog.structured_data.x@1.b").as_deref(), Some("3"));
        assert_eq!(event.get_str("message").as_deref(), Some("hi"));
        assert_eq!(event.get_str("event.original").as_deref(), Some(line));
        assert_eq!(event.get("tags"), None);
    }

    #[test]
    fn bsd_fields() {
        let event = event("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass");
        assert_eq!(event.get_str("log.syslog.appname").as_deref(), Some("sshd(pam_unix)"));
        assert_eq!(event.get_str("process.name").as_deref(), Some("sshd"));
        assert_eq!(event.get("process.pid"), Some(&Value::Int(19939)));
        assert_eq!(event.get("log.syslog.priority"), None);
        assert_eq!(event.get("log.syslog.version"), None);
    }

    #[test]
    fn non_numeric_procid_has_no_pid() {
        let event = event("<13>1 - h app worker-1 - - m");
        assert_eq!(event.get_str("log.syslog.procid").as_deref(), Some("worker-1"));
        assert_eq!(event.get("process.pid"), None);
    }

    #[test]
    fn unparsed_and_invalid_priority_are_tagged() {
        let unparsed = event("just some text");
        assert_eq!(unparsed.get("tags"), Some(&Value::List(vec![Value::from(TAG_UNPARSED)])));
        assert_eq!(unparsed.get_str("message").as_deref(), Some("just some text"));
        assert_eq!(unparsed.timestamp(), None);
        let invalid = event("<999>Nov 30 22:00:01 h a: m");
        assert_eq!(
            invalid.get("tags"),
            Some(&Value::List(vec![Value::from(TAG_INVALID_PRIORITY)]))
        );
    }

    #[test]
    fn process_name_strips_only_a_suffix() {
        assert_eq!(process_name("sshd(pam_unix)"), "sshd");
        assert_eq!(process_name("(x)"), "(x)");
        assert_eq!(process_name("a(b"), "a(b");
        assert_eq!(process_name("plain"), "plain");
    }
}
