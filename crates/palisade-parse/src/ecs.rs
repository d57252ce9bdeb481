//! Building ECS fields from parsed text, shared by the source parsers.
//!
//! A parser collects what it found in an [`EcsFields`] and applies it to the event only once it
//! has recognised the whole record, so an unrecognised line leaves the event untouched. The
//! builder does the chores every parser would otherwise repeat: capping attacker-controlled
//! text, accepting an `*.ip` value only when it parses as an IP address, accepting a port only
//! when it is a number in range, and collecting `related.ip`, `related.user` and
//! `related.hosts` without duplicates.

use std::net::IpAddr;

use palisade_event::{Event, Str, Text, Value};

/// Longest name kept (users, hosts, ids, interface names), in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// Longest free text kept (reasons, messages, user agents, URLs), in bytes.
pub const MAX_TEXT_LEN: usize = 8192;

/// Fields of one record that [`EcsFields::new`] makes room for: most parsers' records have
/// fewer; a firewall line or a DNS query has about this many.
const FIELDS: usize = 32;

/// The fields one parser found for one record.
#[derive(Debug, Default)]
pub struct EcsFields {
    fields: Vec<(Str, Value)>,
    /// Kept as [`Str`], inline when short (most names and addresses): a `String` per value
    /// was an allocation and a free per value and event.
    related_users: Vec<Str>,
    related_ips: Vec<Str>,
    related_hosts: Vec<Str>,
}

impl EcsFields {
    /// Returns an empty set of fields, with room for what most parsers find in one record
    /// (growing from empty took several reallocations per event).
    #[must_use]
    pub fn new() -> Self {
        Self { fields: Vec::with_capacity(FIELDS), ..Self::default() }
    }

    /// Sets `event.dataset`, `event.kind`, and the ECS categorisation: `event.category` and
    /// `event.type` (lists, skipped when empty) and `event.outcome` when known.
    pub fn categorize(
        &mut self,
        dataset: impl Into<Str>,
        kind: &'static str,
        category: &[&'static str],
        types: &[&'static str],
        outcome: Option<&'static str>,
    ) {
        self.set("event.dataset", Value::Str(Text::from(dataset.into())));
        self.set("event.kind", Value::literal(kind));
        if !category.is_empty() {
            self.set("event.category", literals(category));
        }
        if !types.is_empty() {
            self.set("event.type", literals(types));
        }
        if let Some(outcome) = outcome {
            self.set("event.outcome", Value::literal(outcome));
        }
    }

    /// Sets a field to a value as it is; for values the parser built itself.
    pub fn set(&mut self, field: impl Into<Str>, value: Value) {
        self.fields.push((field.into(), value));
    }

    /// Sets a short field (a name, an id, a code), capped at [`MAX_NAME_LEN`]; empty values
    /// are skipped.
    pub fn name(&mut self, field: impl Into<Str>, value: &str) {
        if !value.is_empty() {
            self.set(field, Value::from(cap(value, MAX_NAME_LEN)));
        }
    }

    /// Sets a free-text field, capped at [`MAX_TEXT_LEN`]; empty values are skipped.
    pub fn text(&mut self, field: impl Into<Str>, value: &str) {
        if !value.is_empty() {
            self.set(field, Value::from(cap(value, MAX_TEXT_LEN)));
        }
    }

    /// Sets an integer field.
    pub fn int(&mut self, field: impl Into<Str>, value: i64) {
        self.set(field, Value::Int(value));
    }

    /// Sets an integer field from decimal text (an optional `-` then at most 18 digits);
    /// returns false and sets nothing when the text is not such a number.
    pub fn int_text(&mut self, field: impl Into<Str>, text: &str) -> bool {
        match parse_int(text) {
            Some(value) => {
                self.int(field, value);
                true
            }
            None => false,
        }
    }

    /// Sets a boolean field.
    pub fn flag(&mut self, field: impl Into<Str>, value: bool) {
        self.set(field, Value::Bool(value));
    }

    /// Sets a list of short strings (capped like [`EcsFields::name`]); an empty list is skipped.
    pub fn names<'a>(&mut self, field: impl Into<Str>, values: impl IntoIterator<Item = &'a str>) {
        let values: Vec<Value> = values
            .into_iter()
            .filter(|value| !value.is_empty())
            .map(|value| Value::from(cap(value, MAX_NAME_LEN)))
            .collect();
        if !values.is_empty() {
            self.set(field, Value::List(values));
        }
    }

    /// Sets an `*.ip` field when `text` is an IP address (IPv4, IPv6, IPv6 with a `%zone`,
    /// which is dropped) and adds it to `related.ip`. Returns false and sets nothing otherwise.
    pub fn ip(&mut self, field: impl Into<Str>, text: &str) -> bool {
        let Some(ip) = ip_text(text.trim()) else { return false };
        self.name(field, ip);
        push_unique(&mut self.related_ips, ip);
        true
    }

    /// Sets a port field from decimal text; returns false when it is not a port number.
    pub fn port(&mut self, field: impl Into<Str>, text: &str) -> bool {
        match text.parse::<u16>() {
            Ok(port) if is_digits(text) => {
                self.int(field, i64::from(port));
                true
            }
            _ => false,
        }
    }

    /// Sets a user field (`user.name`, `destination.user.name`...) and adds the name to
    /// `related.user`. Empty names and `-` are skipped.
    pub fn user(&mut self, field: impl Into<Str>, value: &str) {
        if value.is_empty() || value == "-" {
            return;
        }
        let value = cap(value, MAX_NAME_LEN);
        self.name(field, value);
        push_unique(&mut self.related_users, value);
    }

    /// Sets a host-name field (`host.name`, `source.domain`, `dns.question.name`...) when
    /// `value` is a DNS-like name, and adds it to `related.hosts`. Returns false and sets
    /// nothing otherwise.
    pub fn host(&mut self, field: impl Into<Str>, value: &str) -> bool {
        if !is_host_name(value) {
            return false;
        }
        self.name(field, value);
        push_unique(&mut self.related_hosts, value);
        true
    }

    /// Adds a user name to `related.user` only.
    pub fn related_user(&mut self, value: &str) {
        if !value.is_empty() && value != "-" {
            push_unique(&mut self.related_users, cap(value, MAX_NAME_LEN));
        }
    }

    /// Adds an IP address to `related.ip` only (when it is one).
    pub fn related_ip(&mut self, text: &str) {
        if let Some(ip) = ip_text(text.trim()) {
            push_unique(&mut self.related_ips, ip);
        }
    }

    /// Adds a host name to `related.hosts` only (when it is one).
    pub fn related_host(&mut self, value: &str) {
        if is_host_name(value) {
            push_unique(&mut self.related_hosts, value);
        }
    }

    /// Returns true when nothing was set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.related_users.is_empty()
            && self.related_ips.is_empty()
            && self.related_hosts.is_empty()
    }

    /// Writes the fields into `event`, replacing fields of the same name, with the `related.*`
    /// lists merged with any the event or the fields already have. One [`Event::extend`]
    /// places them all.
    pub fn apply(mut self, event: &mut Event) {
        for (name, values) in [
            ("related.user", self.related_users),
            ("related.ip", self.related_ips),
            ("related.hosts", self.related_hosts),
        ] {
            if values.is_empty() {
                continue;
            }
            // A list set among the fields replaces the event's, so it is the one merged with.
            let existing = match self.fields.iter().rev().find(|(field, _)| **field == *name) {
                Some((_, value)) => Some(value),
                None => event.get(name),
            };
            let mut merged: Vec<Str> = match existing {
                // The usual case: the names found are moved in, not copied again.
                None => {
                    self.fields.push((name.into(), moved_list(values)));
                    continue;
                }
                Some(Value::List(items)) => {
                    items.iter().filter_map(|item| item.to_text().map(Str::from)).collect()
                }
                Some(other) => other.to_text().map(|t| vec![Str::from(t)]).unwrap_or_default(),
            };
            for value in &values {
                push_unique(&mut merged, value);
            }
            // Pushed last: of a name given twice, `extend` keeps the last value.
            self.fields.push((name.into(), moved_list(merged)));
        }
        event.extend(self.fields);
    }

    /// Builds a new event from the fields.
    #[must_use]
    pub fn into_event(self) -> Event {
        let mut event = Event::new();
        self.apply(&mut event);
        event
    }
}

/// A list value of strings, moved into it.
#[must_use]
pub fn moved_list(values: Vec<Str>) -> Value {
    Value::List(values.into_iter().map(|value| Value::Str(Text::from(value))).collect())
}

/// A list value of literals of the program (categories, types), not copied.
#[must_use]
pub fn literals(values: &[&'static str]) -> Value {
    Value::List(values.iter().map(|value| Value::literal(value)).collect())
}

pub(crate) fn push_unique(values: &mut Vec<Str>, value: &str) {
    if !values.iter().any(|existing| &**existing == value) {
        values.push(Str::copy(value));
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary.
#[must_use]
pub fn cap(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// True when `text` is one or more ASCII digits.
#[must_use]
pub fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// Parses decimal text with an optional leading `-` and at most 18 digits (so it fits an i64).
#[must_use]
pub fn parse_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !is_digits(digits) || digits.len() > 18 {
        return None;
    }
    text.parse().ok()
}

/// Returns the IP address in `address` as it should be stored in an `*.ip` field, or `None`
/// when it is not one. An IPv6 zone (`fe80::1%eth0`) is dropped; IPv6 in brackets
/// (`[2001:db8::1]`) is unwrapped.
#[must_use]
pub fn ip_text(address: &str) -> Option<&str> {
    let address = address.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(address);
    let ip = address.split_once('%').map_or(address, |(ip, _zone)| ip);
    ip.parse::<IpAddr>().is_ok().then_some(ip)
}

/// A DNS-like host name: labels of letters, digits, `-` and `_` joined by dots (one trailing
/// dot allowed), at most 253 bytes, the last label not all digits (so that a cut IPv4
/// address is not taken for a name).
#[must_use]
pub fn is_host_name(text: &str) -> bool {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let valid_labels = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'))
    });
    valid_labels && name.rsplit('.').next().is_some_and(|last| !is_digits(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_fields_need_an_ip_and_feed_related() {
        let mut fields = EcsFields::new();
        assert!(fields.ip("source.ip", "2001:db8::1"));
        assert!(fields.ip("destination.ip", "[fe80::1%eth0]"));
        assert!(!fields.ip("source.ip", "example.com"));
        assert!(fields.port("source.port", "443"));
        assert!(!fields.port("source.port", "70000"));
        assert!(!fields.port("source.port", "+80"));
        let event = fields.into_event();
        assert_eq!(event.get_str("destination.ip").as_deref(), Some("fe80::1"));
        assert_eq!(
            event.get("related.ip"),
            Some(&Value::List(vec![Value::from("2001:db8::1"), Value::from("fe80::1")]))
        );
    }

    #[test]
    fn related_lists_merge_with_the_event() {
        let mut event = Event::new();
        event.insert("related.user", Value::List(vec![Value::from("root")]));
        let mut fields = EcsFields::new();
        fields.user("user.name", "alice");
        fields.user("user.target.name", "root");
        fields.apply(&mut event);
        assert_eq!(
            event.get("related.user"),
            Some(&Value::List(vec![Value::from("root"), Value::from("alice")]))
        );
    }

    #[test]
    fn caps_cut_on_char_boundaries() {
        assert_eq!(cap("ééé", 3), "é");
        assert_eq!(parse_int("-12"), Some(-12));
        assert_eq!(parse_int("1234567890123456789"), None);
        assert!(!is_host_name("10.0.0."));
        assert!(is_host_name("example.com."));
    }
}
