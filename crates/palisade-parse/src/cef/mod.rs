//! CEF (ArcSight Common Event Format) and LEEF (IBM QRadar Log Event Extended Format)
//! records, bare or as the text of a syslog message, normalised to ECS.
//!
//! A record is recognised when `CEF:` or `LEEF:` starts the text, or follows one leading token
//! (a host name or a date that a device put before it: `fw01 CEF:0|...`). In a syslog line whose
//! tag parsed as `CEF` or `LEEF` (`... host CEF:0|Vendor|...`), the program name and the message
//! are joined back. Anything else is not a record: [`parse_program`] returns false and
//! [`parse_line`] `None`.
//!
//! **CEF** (Implementing ArcSight CEF, revisions 23 and 25):
//! `CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension`.
//! Header fields unescape `\|` and `\\`. The extension is `key=value` pairs separated by
//! spaces; a value runs to the space before the next `key=` (so values hold spaces), and
//! `\=`, `\\`, `\n`, `\r` are unescaped. An `=` that follows a character other than a space
//! (`request=https://example.com/?a=b`) stays in the value. Dataset `cef.log`.
//!
//! **LEEF** 1.0: `LEEF:1.0|Vendor|Product|Version|EventID|` then TAB-separated `key=value`;
//! 2.0: `LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|` then `key=value` separated by
//! the delimiter, written as one character, `^`, or in hex (`x09`, `0x09`, `\t`). A record
//! whose tabs a relay turned into `#011` is read as if they were tabs; one with neither tabs
//! nor its delimiter is split at spaces before `key=` as in CEF. Dataset `leef.log`.
//!
//! Every key is kept as written under `cef.extensions.<key>` / `leef.extensions.<key>`, and
//! custom fields with a label (`cs1=...` `cs1Label=Threat ID`) also under
//! `cef.extensions.label.<label>` (the label with characters other than letters, digits, `_`
//! and `-` replaced by `_`). The dictionary keys are mapped to ECS; the table is in
//! `docs/parsers/cef-leef.md`. A repeated key: the last value wins. Names are capped at
//! [`crate::ecs::MAX_NAME_LEN`] bytes, values at [`crate::ecs::MAX_TEXT_LEN`], and at most
//! [`MAX_EXTENSIONS`] keys are read.
//!
//! Times: CEF `rt` (the event time), `start` and `end` in milliseconds since the epoch or
//! `MMM dd yyyy HH:mm:ss[.SSS] [zone]` (no zone means UTC); LEEF `devTime` with its
//! `devTimeFormat` (a Java `SimpleDateFormat` pattern: `docs/parsers/cef-leef.md` lists the letters
//! read). For a syslog-carried record, `rt`/`devTime` replaces the syslog header's time.
//!
//! There is no `event.action` catalogue: `act` (CEF) and `action` (LEEF) are the device's
//! own words, lower-cased into `event.action`.

mod leef;
mod time;

use palisade_event::{Event, Timestamp, Value};

use crate::ecs::{EcsFields, MAX_NAME_LEN, MAX_TEXT_LEN, cap};

/// The `event.dataset` of CEF records.
pub const CEF_DATASET: &str = "cef.log";
/// The `event.dataset` of LEEF records.
pub const LEEF_DATASET: &str = "leef.log";
/// The most extension keys read from one record.
pub const MAX_EXTENSIONS: usize = 512;

/// Parses the message of one syslog line from `program` (the APP-NAME/TAG, without pid) and
/// adds the ECS fields it finds to `event`. Returns false, leaving `event` untouched, when the
/// message is not one this module understands.
///
/// Any program may send CEF or LEEF; `program` is only used when the syslog parser took the
/// `CEF`/`LEEF` prefix itself for the tag.
pub fn parse_program(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    let _ = pid;
    let joined;
    let record = if let Some(record) = find_record(message) {
        record
    } else if (program == "CEF" || program == "LEEF")
        && message.trim_start().starts_with(|ch: char| ch.is_ascii_digit())
    {
        joined = format!("{program}:{}", message.trim_start());
        joined.as_str()
    } else {
        return false;
    };
    let Some(parsed) = parse_record(record) else { return false };
    if let Some(timestamp) = parsed.timestamp {
        event.set_timestamp(Some(timestamp));
    }
    parsed.fields.apply(event);
    true
}

/// Parses one bare CEF or LEEF record (`CEF:0|...`, `LEEF:1.0|...`, `LEEF:2.0|...`), not
/// inside a syslog header, into an event with `event.original` set. `None` when it is not one.
///
/// # Example
/// ```
/// let line = r"CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232";
/// let event = palisade_parse::cef::parse_line(line).unwrap();
/// assert_eq!(event.get_str("observer.vendor").as_deref(), Some("Security"));
/// assert_eq!(event.get_str("source.ip").as_deref(), Some("10.0.0.1"));
/// assert_eq!(event.get_str("event.dataset").as_deref(), Some("cef.log"));
/// ```
#[must_use]
pub fn parse_line(line: &str) -> Option<Event> {
    let line = line.trim_end_matches(['\n', '\r']);
    let record = find_record(line)?;
    let parsed = parse_record(record)?;
    let mut event = parsed.fields.into_event();
    event.insert("event.original", Value::from(line));
    event.set_timestamp(parsed.timestamp);
    Some(event)
}

/// The record inside `text`: at its start or after one leading token.
fn find_record(text: &str) -> Option<&str> {
    let text = text.trim_start();
    if is_record_start(text) {
        return Some(text);
    }
    let (_, rest) = text.split_once([' ', '\t'])?;
    let rest = rest.trim_start();
    is_record_start(rest).then_some(rest)
}

fn is_record_start(text: &str) -> bool {
    text.starts_with("CEF:") || text.starts_with("LEEF:")
}

/// What one record gave.
struct Parsed {
    fields: EcsFields,
    timestamp: Option<Timestamp>,
}

fn parse_record(record: &str) -> Option<Parsed> {
    if let Some(rest) = record.strip_prefix("CEF:") {
        parse_cef(rest)
    } else {
        leef::parse(record.strip_prefix("LEEF:")?)
    }
}

/// Splits `text` at unescaped `|`, at most `n` fields; the last item is the rest (unsplit).
/// Returns the fields (unescaped) and the rest, or `None` when there are fewer than `n`
/// separators.
fn header_fields(text: &str, n: usize) -> Option<(Vec<String>, &str)> {
    let mut fields = Vec::with_capacity(n);
    let mut current = String::new();
    let mut chars = text.char_indices();
    while let Some((at, ch)) = chars.next() {
        match ch {
            '\\' => match chars.next() {
                Some((_, escaped @ ('|' | '\\'))) => current.push(escaped),
                Some((_, other)) => {
                    current.push('\\');
                    current.push(other);
                }
                None => current.push('\\'),
            },
            '|' => {
                fields.push(std::mem::take(&mut current));
                if fields.len() == n {
                    return Some((fields, text.get(at + 1..).unwrap_or_default()));
                }
            }
            other => current.push(other),
        }
    }
    None
}

fn parse_cef(text: &str) -> Option<Parsed> {
    // Version|Vendor|Product|Version|ClassID|Name|Severity|Extension. A record cut before
    // the last separator still has its header: the extension is then empty.
    let (header, extension) = match header_fields(text, 7) {
        Some((fields, extension)) => (fields, extension),
        None => {
            let (mut fields, _) = header_fields(&format!("{text}|"), 7)?;
            fields.truncate(7);
            (fields, "")
        }
    };
    let [version, vendor, product, device_version, class_id, name, severity] =
        <[String; 7]>::try_from(header).ok()?;
    let version = version.trim();
    if !crate::ecs::is_digits(version) || version.len() > 3 {
        return None;
    }
    let pairs = cef_extension(extension);
    let mut fields = EcsFields::new();
    fields.categorize(CEF_DATASET, "event", &[], &[], None);
    fields.int_text("cef.version", version);
    fields.name("cef.device.vendor", &vendor);
    fields.name("cef.device.product", &product);
    fields.name("cef.device.version", &device_version);
    fields.name("cef.device.event_class_id", &class_id);
    fields.text("cef.name", &name);
    fields.name("cef.severity", severity.trim());
    fields.name("observer.vendor", &vendor);
    fields.name("observer.product", &product);
    fields.name("observer.version", &device_version);
    fields.name("event.code", &class_id);
    if let Some(severity) = severity_number(severity.trim()) {
        fields.int("event.severity", severity);
    }
    let timestamp = map_cef(&pairs, &mut fields);
    if get(&pairs, "msg").is_none_or(str::is_empty) {
        fields.text("message", &name);
    }
    for (key, value) in &pairs {
        fields.text(format!("cef.extensions.{key}"), value);
    }
    labelled_custom_fields(&pairs, "cef.extensions.label", &mut fields);
    Some(Parsed { fields, timestamp })
}

/// CEF severity: 0–10, or the words of the specification mapped to the top of their range
/// (Low 3, Medium 6, High 8, Very-High 10; Unknown gives none).
fn severity_number(text: &str) -> Option<i64> {
    if crate::ecs::is_digits(text) && text.len() <= 2 {
        return text.parse().ok().filter(|severity| *severity <= 10);
    }
    match text.to_ascii_lowercase().as_str() {
        "low" => Some(3),
        "medium" => Some(6),
        "high" => Some(8),
        "very-high" | "very high" => Some(10),
        _ => None,
    }
}

/// A character of an extension key: the dictionary's names and the vendors' (`ad.Foo`,
/// `FTNTFGTsrcintf`, `cs1Label`, `flexString1`).
fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'[' | b']')
}

/// Splits a CEF extension into `(key, unescaped value)` pairs, in one pass.
///
/// A key starts the extension or follows a space, and is followed by an `=` that no backslash
/// escapes; its value runs to the space before the next key.
fn cef_extension(extension: &str) -> Vec<(String, String)> {
    let bytes = extension.as_bytes();
    // (key start, `=` position) of every key.
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let mut idx = 0;
    let mut run_start = 0;
    let mut backslashes = 0;
    while let Some(&byte) = bytes.get(idx) {
        if byte == b'=' && backslashes % 2 == 0 && run_start < idx {
            let boundary = run_start == 0 || bytes.get(run_start - 1) == Some(&b' ');
            if boundary && keys.len() < MAX_EXTENSIONS {
                keys.push((run_start, idx));
            }
        }
        backslashes = if byte == b'\\' { backslashes + 1 } else { 0 };
        idx += 1;
        if !is_key_byte(byte) {
            run_start = idx;
        }
    }
    let mut pairs = Vec::with_capacity(keys.len());
    for (at, &(key_start, equals)) in keys.iter().enumerate() {
        let value_end = keys.get(at + 1).map_or(bytes.len(), |&(next, _)| next);
        let key = extension.get(key_start..equals).unwrap_or_default();
        let raw = extension.get(equals + 1..value_end).unwrap_or_default();
        let raw = raw.trim_end_matches(' ');
        pairs.push((cap(key, MAX_NAME_LEN).to_owned(), unescape_value(raw)));
    }
    pairs
}

/// Resolves `\=`, `\\`, `\|`, `\n`, `\r` in an extension value; other escapes stay as written.
fn unescape_value(raw: &str) -> String {
    let raw = cap(raw, MAX_TEXT_LEN + 16);
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some(escaped @ ('=' | '\\' | '|')) => out.push(escaped),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The last value of `key`.
fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(name, _)| name == key).map(|(_, value)| value.as_str())
}

fn map_cef(pairs: &[(String, String)], fields: &mut EcsFields) -> Option<Timestamp> {
    let value = |key: &str| get(pairs, key).filter(|value| !value.is_empty());
    // Addresses: src/dst, else the IPv6 custom addresses the dictionary reserves for them.
    if !value("src").is_some_and(|src| fields.ip("source.ip", src))
        && let Some(ip) = value("c6a2")
    {
        fields.ip("source.ip", ip);
    }
    if !value("dst").is_some_and(|dst| fields.ip("destination.ip", dst))
        && let Some(ip) = value("c6a3")
    {
        fields.ip("destination.ip", ip);
    }
    if !value("dvc").is_some_and(|dvc| fields.ip("observer.ip", dvc))
        && let Some(ip) = value("c6a4")
    {
        fields.ip("observer.ip", ip);
    }
    for (key, field) in [
        ("spt", "source.port"),
        ("dpt", "destination.port"),
        ("sourceTranslatedPort", "source.nat.port"),
        ("destinationTranslatedPort", "destination.nat.port"),
    ] {
        if let Some(port) = value(key) {
            fields.port(field, port);
        }
    }
    for (key, field) in [
        ("sourceTranslatedAddress", "source.nat.ip"),
        ("destinationTranslatedAddress", "destination.nat.ip"),
    ] {
        if let Some(ip) = value(key) {
            fields.ip(field, ip);
        }
    }
    for (key, field) in
        [("smac", "source.mac"), ("dmac", "destination.mac"), ("dvcmac", "observer.mac")]
    {
        if let Some(mac) = value(key).and_then(ecs_mac) {
            fields.name(field, &mac);
        }
    }
    host_or_ip(fields, value("shost"), "source.domain", "source.ip", value("src").is_some());
    host_or_ip(
        fields,
        value("dhost"),
        "destination.domain",
        "destination.ip",
        value("dst").is_some(),
    );
    if let Some(host) = value("dvchost") {
        fields.name("observer.hostname", host);
        fields.related_host(host);
    }
    if let Some(name) = value("deviceExternalId") {
        fields.name("observer.name", name);
    }
    for (key, field) in [
        ("deviceInboundInterface", "observer.ingress.interface.name"),
        ("deviceOutboundInterface", "observer.egress.interface.name"),
        ("suid", "source.user.id"),
        ("duid", "destination.user.id"),
        ("sntdom", "source.user.domain"),
        ("dntdom", "destination.user.domain"),
        ("externalId", "event.id"),
        ("fname", "file.name"),
        ("sproc", "process.name"),
        ("requestMethod", "http.request.method"),
    ] {
        if let Some(text) = value(key) {
            fields.name(field, text);
        }
    }
    if let Some(user) = value("suser") {
        fields.user("source.user.name", user);
        fields.user("user.name", user);
    }
    if let Some(user) = value("duser") {
        fields.user("destination.user.name", user);
        if value("suser").is_none() {
            fields.user("user.name", user);
        }
    }
    if let Some(proto) = value("proto") {
        transport(fields, proto);
    }
    if let Some(app) = value("app") {
        fields.name("network.protocol", &app.to_ascii_lowercase());
    }
    if let Some(action) = value("act") {
        fields.name("event.action", &action.to_lowercase());
    }
    match value("deviceDirection") {
        Some("0") => fields.name("network.direction", "inbound"),
        Some("1") => fields.name("network.direction", "outbound"),
        _ => {}
    }
    for (key, field) in [
        ("msg", "message"),
        ("reason", "event.reason"),
        ("request", "url.original"),
        ("requestClientApplication", "user_agent.original"),
        ("requestContext", "http.request.referrer"),
        ("filePath", "file.path"),
    ] {
        if let Some(text) = value(key) {
            fields.text(field, text);
        }
    }
    for (key, field) in [
        ("fsize", "file.size"),
        ("in", "source.bytes"),
        ("out", "destination.bytes"),
        ("spid", "process.pid"),
    ] {
        if let Some(number) = value(key) {
            fields.int_text(field, number);
        }
    }
    if let Some(hash) = value("fileHash") {
        file_hash(fields, hash);
    }
    if let Some(outcome) = value("outcome").and_then(outcome) {
        fields.name("event.outcome", outcome);
    }
    for (key, field) in [("start", "event.start"), ("end", "event.end")] {
        if let Some(at) = value(key).and_then(time::cef_time) {
            fields.name(field, &at.to_string());
        }
    }
    value("rt").and_then(time::cef_time)
}

/// `shost`/`dhost`: a DNS name goes to `*.domain`; an IP address (some devices put one
/// there) to `*.ip` when the record has no `src`/`dst`.
fn host_or_ip(
    fields: &mut EcsFields,
    host: Option<&str>,
    domain_field: &'static str,
    ip_field: &'static str,
    has_ip: bool,
) {
    let Some(host) = host else { return };
    if crate::ecs::ip_text(host).is_some() {
        if !has_ip {
            fields.ip(ip_field, host);
        }
    } else if !fields.host(domain_field, host) {
        fields.name(domain_field, host);
    }
}

/// `network.transport` from a name (`TCP`) or an IANA protocol number (`6`).
fn transport(fields: &mut EcsFields, proto: &str) {
    let name = match proto.trim() {
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "1" => "icmp".to_owned(),
        "58" => "ipv6-icmp".to_owned(),
        "47" => "gre".to_owned(),
        "50" => "esp".to_owned(),
        other => other.to_ascii_lowercase(),
    };
    if crate::ecs::is_digits(proto.trim()) {
        fields.int_text("network.iana_number", proto.trim());
    }
    if !crate::ecs::is_digits(&name) {
        fields.name("network.transport", &name);
    }
}

/// `event.outcome` from an outcome text that says it.
fn outcome(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("success") || lower == "succeeded" || lower == "ok" {
        Some("success")
    } else if lower.starts_with("fail") || lower == "failed" {
        Some("failure")
    } else {
        None
    }
}

/// `file.hash.*` by the length of a hex digest.
fn file_hash(fields: &mut EcsFields, hash: &str) {
    let hash = hash.trim();
    if !hash.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return;
    }
    let field = match hash.len() {
        32 => "file.hash.md5",
        40 => "file.hash.sha1",
        64 => "file.hash.sha256",
        128 => "file.hash.sha512",
        _ => return,
    };
    fields.name(field, &hash.to_ascii_lowercase());
}

/// A MAC address in ECS form (`00-11-22-33-44-55`) from `00:11:22:33:44:55`,
/// `00-11-22-33-44-55`, `0011.2233.4455` or `001122334455`; `None` when it is not one.
#[must_use]
pub fn ecs_mac(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(|ch| !matches!(ch, ':' | '-' | '.')).collect();
    if hex.len() != 12 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    let separators = text.len() - hex.len();
    if !matches!(separators, 0 | 2 | 5) {
        return None;
    }
    let upper = hex.to_ascii_uppercase();
    let octets: Vec<&str> = (0..6).filter_map(|idx| upper.get(idx * 2..idx * 2 + 2)).collect();
    Some(octets.join("-"))
}

/// The custom keys that take a label (`cs1`..`cs6`, `cn1`..`cn3`, `cfp1`..`cfp4`,
/// `c6a1`..`c6a4`, `flexString1`, `deviceCustomDate1`...): each labelled one is also kept as
/// `<prefix>.<label>`.
fn labelled_custom_fields(pairs: &[(String, String)], prefix: &str, fields: &mut EcsFields) {
    for (key, label) in pairs {
        let Some(custom) = key.strip_suffix("Label") else { continue };
        if custom.is_empty() || label.is_empty() {
            continue;
        }
        let Some(value) = get(pairs, custom) else { continue };
        let label: String = cap(label, 64)
            .chars()
            .map(|ch| if ch.is_alphanumeric() || matches!(ch, '_' | '-') { ch } else { '_' })
            .collect();
        fields.text(format!("{prefix}.{label}"), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        cef_extension(text)
    }

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_owned(), value.to_owned())
    }

    #[test]
    fn extension_values_hold_spaces_escapes_and_equals() {
        assert_eq!(
            pairs(
                r"src=10.0.0.1 msg=Detected a threat\=bad. No action\\needed request=http://x/?a=b&c=d cs1Label=Rule Name cs1=r 1"
            ),
            vec![
                pair("src", "10.0.0.1"),
                pair("msg", "Detected a threat=bad. No action\\needed"),
                pair("request", "http://x/?a=b&c=d"),
                pair("cs1Label", "Rule Name"),
                pair("cs1", "r 1"),
            ]
        );
        assert_eq!(pairs(r"a=x\nb c=\=d="), vec![pair("a", "x\nb"), pair("c", "=d=")]);
        assert_eq!(pairs("no pairs here"), vec![]);
        assert_eq!(pairs("=x a="), vec![pair("a", "")]);
    }

    #[test]
    fn header_unescapes_pipes() {
        let (fields, rest) = header_fields(r"0|a\|b|c\\|d|e|f|g|x=1|2", 7).expect("header");
        assert_eq!(fields, vec!["0", "a|b", "c\\", "d", "e", "f", "g"]);
        assert_eq!(rest, "x=1|2");
        assert!(header_fields("0|a|b", 7).is_none());
    }

    #[test]
    fn records_are_found_at_the_start_or_after_one_token() {
        assert!(find_record("CEF:0|a").is_some());
        assert!(find_record("host.example.com CEF:0|a").is_some());
        assert!(find_record("two tokens CEF:0|a").is_none());
        assert!(find_record("LEEF:1.0|a").is_some());
        assert!(find_record("CEF").is_none());
    }

    #[test]
    fn macs_and_severity() {
        assert_eq!(ecs_mac("00:0c:29:aa:bb:cc").as_deref(), Some("00-0C-29-AA-BB-CC"));
        assert_eq!(ecs_mac("000c.29aa.bbcc").as_deref(), Some("00-0C-29-AA-BB-CC"));
        assert_eq!(ecs_mac("00:0c:29:aa:bb"), None);
        assert_eq!(severity_number("Very-High"), Some(10));
        assert_eq!(severity_number("11"), None);
        assert_eq!(severity_number("7"), Some(7));
    }
}
