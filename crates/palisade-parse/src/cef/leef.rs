//! LEEF 1.0 and 2.0 records (IBM QRadar Log Event Extended Format).

use palisade_event::Timestamp;

use super::{
    LEEF_DATASET, MAX_EXTENSIONS, Parsed, cef_extension, ecs_mac, get, header_fields, is_key_byte,
    labelled_custom_fields, transport,
};
use crate::ecs::{EcsFields, MAX_NAME_LEN, MAX_TEXT_LEN, cap};

/// Parses what follows `LEEF:`.
pub(super) fn parse(text: &str) -> Option<Parsed> {
    let (header, rest) = header_fields(text, 5)?;
    let [version, vendor, product, device_version, event_id] =
        <[String; 5]>::try_from(header).ok()?;
    let version = version.trim();
    if !matches!(version, "1.0" | "1" | "2.0" | "2") {
        return None;
    }
    let (delimiter, attributes) =
        if version.starts_with('2') { delimiter_field(rest) } else { ('\t', rest) };
    let pairs = attributes_of(attributes, delimiter);
    let mut fields = EcsFields::new();
    fields.categorize(LEEF_DATASET, "event", &[], &[], None);
    fields.name("leef.version", version);
    fields.name("leef.device.vendor", &vendor);
    fields.name("leef.device.product", &product);
    fields.name("leef.device.version", &device_version);
    fields.name("leef.event_id", &event_id);
    if version.starts_with('2') && delimiter != '\t' {
        fields.name("leef.delimiter", delimiter.encode_utf8(&mut [0; 4]));
    }
    fields.name("observer.vendor", &vendor);
    fields.name("observer.product", &product);
    fields.name("observer.version", &device_version);
    fields.name("event.code", &event_id);
    let timestamp = map_leef(&pairs, &mut fields);
    for (key, value) in &pairs {
        fields.text(format!("leef.extensions.{key}"), value);
    }
    labelled_custom_fields(&pairs, "leef.extensions.label", &mut fields);
    Some(Parsed { fields, timestamp })
}

/// Reads the LEEF 2.0 delimiter field: one character, or its code in hex (`x5E`, `0x5E`,
/// `\t`); an empty field means TAB. A field that is none of these (a sender that left the
/// delimiter out) is taken as the start of the attributes.
fn delimiter_field(rest: &str) -> (char, &str) {
    let Some((field, attributes)) = rest.split_once('|') else { return ('\t', rest) };
    let hex = field.strip_prefix("0x").or_else(|| field.strip_prefix("x"));
    let hex = hex.or_else(|| field.strip_prefix("0X")).or_else(|| field.strip_prefix("X"));
    let mut chars = field.chars();
    match (chars.next(), chars.next()) {
        (None, _) => ('\t', attributes),
        (Some(only), None) => (only, attributes),
        _ if field == "\\t" => ('\t', attributes),
        _ => match hex
            .filter(|digits| (1..=4).contains(&digits.len()))
            .and_then(|digits| u32::from_str_radix(digits, 16).ok())
            .and_then(char::from_u32)
        {
            Some(delimiter) => (delimiter, attributes),
            // Not a delimiter: attributes when it has a `key=`, else a bad delimiter
            // field, skipped.
            None if field.contains('=') => ('\t', rest),
            None => ('\t', attributes),
        },
    }
}

/// Splits the attributes at the delimiter (or at `#011`, the syslog relays' spelling of a
/// tab); without either, at spaces before `key=` as in CEF.
fn attributes_of(attributes: &str, delimiter: char) -> Vec<(String, String)> {
    let attributes = attributes.trim_end_matches(['\n', '\r']);
    let split: Vec<&str> = if attributes.contains(delimiter) {
        attributes.split(delimiter).collect()
    } else if delimiter == '\t' && attributes.contains("#011") {
        attributes.split("#011").collect()
    } else {
        return cef_extension(attributes);
    };
    split
        .into_iter()
        .filter_map(|item| {
            let (key, value) = item.split_once('=')?;
            let key = key.trim();
            (!key.is_empty() && key.bytes().all(is_key_byte))
                .then(|| (cap(key, MAX_NAME_LEN).to_owned(), cap(value, MAX_TEXT_LEN).to_owned()))
        })
        .take(MAX_EXTENSIONS)
        .collect()
}

fn map_leef(pairs: &[(String, String)], fields: &mut EcsFields) -> Option<Timestamp> {
    let value = |key: &str| get(pairs, key).filter(|value| !value.is_empty());
    if !value("src").is_some_and(|src| fields.ip("source.ip", src))
        && let Some(ip) = value("srcPreNAT").or_else(|| value("identSrc"))
    {
        fields.ip("source.ip", ip);
    }
    if !value("dst").is_some_and(|dst| fields.ip("destination.ip", dst))
        && let Some(ip) = value("dstPreNAT")
    {
        fields.ip("destination.ip", ip);
    }
    for (key, field) in [("srcPostNAT", "source.nat.ip"), ("dstPostNAT", "destination.nat.ip")] {
        if let Some(ip) = value(key) {
            fields.ip(field, ip);
        }
    }
    for (key, field) in [
        ("srcPort", "source.port"),
        ("dstPort", "destination.port"),
        ("srcPostNATPort", "source.nat.port"),
        ("dstPostNATPort", "destination.nat.port"),
    ] {
        if let Some(port) = value(key) {
            fields.port(field, port);
        }
    }
    for (key, field) in [("srcMAC", "source.mac"), ("dstMAC", "destination.mac")] {
        if let Some(mac) = value(key).and_then(ecs_mac) {
            fields.name(field, &mac);
        }
    }
    if value("srcMAC").is_none()
        && let Some(mac) = value("identMAC").and_then(ecs_mac)
    {
        fields.name("source.mac", &mac);
    }
    if let Some(user) = value("usrName").or_else(|| value("accountName")) {
        fields.user("user.name", user);
        fields.user("source.user.name", user);
    }
    if let Some(host) = value("identHostName")
        && !fields.host("source.domain", host)
    {
        fields.name("source.domain", host);
    }
    for (key, field) in [
        ("identGrpName", "group.name"),
        ("groupID", "group.id"),
        ("domain", "user.domain"),
        ("policy", "rule.name"),
    ] {
        if let Some(text) = value(key) {
            fields.name(field, text);
        }
    }
    if let Some(proto) = value("proto") {
        transport(fields, proto);
    }
    if let Some(severity) = value("sev").and_then(super::severity_number) {
        fields.int("event.severity", severity);
    }
    if let Some(action) = value("action").or_else(|| value("act")) {
        fields.name("event.action", &action.to_lowercase());
    }
    for (key, field) in [("url", "url.original"), ("msg", "message")] {
        if let Some(text) = value(key) {
            fields.text(field, text);
        }
    }
    for (key, field) in [
        ("srcBytes", "source.bytes"),
        ("dstBytes", "destination.bytes"),
        ("srcPackets", "source.packets"),
        ("dstPackets", "destination.packets"),
    ] {
        if let Some(number) = value(key) {
            fields.int_text(field, number);
        }
    }
    value("devTime").and_then(|text| super::time::leef_time(text, value("devTimeFormat")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        assert_eq!(delimiter_field("^|a=1^b=2"), ('^', "a=1^b=2"));
        assert_eq!(delimiter_field("x5E|a=1"), ('^', "a=1"));
        assert_eq!(delimiter_field("0x09|a=1"), ('\t', "a=1"));
        assert_eq!(delimiter_field("\\t|a=1"), ('\t', "a=1"));
        assert_eq!(delimiter_field("|a=1"), ('\t', "a=1"));
        assert_eq!(delimiter_field("src=1\tdst=2"), ('\t', "src=1\tdst=2"));
    }

    #[test]
    fn attributes_split_at_tabs_relay_escapes_or_spaces() {
        let want = vec![("a".to_owned(), "1 2".to_owned()), ("b".to_owned(), "x=y".to_owned())];
        assert_eq!(attributes_of("a=1 2\tb=x=y", '\t'), want);
        assert_eq!(attributes_of("a=1 2#011b=x=y", '\t'), want);
        assert_eq!(attributes_of("a=1 2 b=x=y", '\t'), want);
    }
}
