//! Flattening of Windows events into Sigma's field names.
//!
//! The Sigma specification (rules, "Field Usage") names Windows fields this way: children of
//! `<System>` by their element name (`EventID`, `Channel`, `Computer`), XML attributes of those
//! children as `Element_Attribute` (`Provider_Name`, `Execution_ProcessID`), every
//! `<Data Name="X">` of `<EventData>` as `X`, and the children of the element inside
//! `<UserData>` by their names. The JSON that the `evtx` crate and `evtx_dump` produce keeps
//! attributes under `#attributes` and element text under `#text`; both are handled here.

use palisade_event::{Event, Str, Timestamp, Value};
use serde_json::Value as Json;

/// Flattens an evtx-crate/evtx_dump JSON record (`{"Event": {...}}`, or the inner object).
#[must_use]
pub fn from_evtx_json(record: &Json) -> Event {
    let root = record.get("Event").unwrap_or(record);
    let mut system_fields: Vec<(Str, Value)> = Vec::with_capacity(24);
    if let Some(system) = root.get("System").and_then(Json::as_object) {
        for (name, value) in system {
            flatten_system(name, value, &mut system_fields);
        }
    }
    let mut fields: Vec<(Str, Value)> = Vec::with_capacity(32);
    if let Some(data) = root.get("EventData") {
        flatten_data(data, &mut fields);
    }
    if let Some(user_data) = root.get("UserData").and_then(Json::as_object) {
        for (_, inner) in user_data.iter().filter(|(name, _)| name.as_str() != "#attributes") {
            flatten_data(inner, &mut fields);
        }
    }
    if let Some(object) = root.as_object() {
        for (name, value) in object {
            if !matches!(name.as_str(), "System" | "EventData" | "UserData" | "#attributes") {
                flatten_into(name, value, &mut fields);
            }
        }
    }
    // When EventData/UserData repeats a System name (event 104 "log cleared" carries the
    // cleared log's `Channel` in UserData), the data value wins: that is the value Sigma rules
    // test, and merging both into a list would make either test ambiguous.
    system_fields.retain(|(name, _)| !fields.iter().any(|(data_name, _)| data_name == name));
    fields.extend(system_fields);
    let timestamp = root
        .pointer("/System/TimeCreated/#attributes/SystemTime")
        .or_else(|| root.pointer("/System/TimeCreated_attributes/SystemTime"))
        .and_then(Json::as_str)
        .and_then(|text| text.parse::<Timestamp>().ok());
    let mut event = Event::from_fields(fields);
    event.set_timestamp(timestamp);
    event
}

fn flatten_system(name: &str, value: &Json, fields: &mut Vec<(Str, Value)>) {
    match value {
        Json::Object(object) => {
            if let Some(text) = object.get("#text") {
                push_scalar(name, text, fields);
            }
            if let Some(attributes) = object.get("#attributes").and_then(Json::as_object) {
                for (attribute, attribute_value) in attributes {
                    if attribute != "xmlns" {
                        push_scalar(&format!("{name}_{attribute}"), attribute_value, fields);
                    }
                }
            }
            for (child, child_value) in object.iter().filter(|(child, _)| !child.starts_with('#')) {
                flatten_system(&format!("{name}_{child}"), child_value, fields);
            }
        }
        other => push_scalar(name, other, fields),
    }
}

/// EventData / UserData: named data become fields; unnamed `<Data>` elements (some providers
/// write them) are kept under `Data`, so keyword rules still see them.
fn flatten_data(data: &Json, fields: &mut Vec<(Str, Value)>) {
    let Some(object) = data.as_object() else {
        if !data.is_null() {
            push_scalar("Data", data, fields);
        }
        return;
    };
    for (name, value) in object {
        if name == "#attributes" {
            continue;
        }
        if name == "Data" || name == "#text" {
            match value {
                Json::Object(inner) if inner.contains_key("#text") => {
                    push_scalar("Data", &inner["#text"], fields);
                }
                Json::Object(_) => flatten_data(value, fields),
                other => push_scalar("Data", other, fields),
            }
            continue;
        }
        match value {
            Json::Object(inner) => {
                if let Some(text) = inner.get("#text") {
                    push_scalar(name, text, fields);
                } else {
                    flatten_into(name, value, fields);
                }
            }
            other => push_scalar(name, other, fields),
        }
    }
}

fn push_scalar(name: &str, value: &Json, fields: &mut Vec<(Str, Value)>) {
    match value {
        Json::Array(items) => {
            let values: Vec<Value> = items.iter().filter_map(Value::from_json_scalar).collect();
            fields.push((Str::copy(name), Value::List(values)));
        }
        Json::Object(_) => flatten_into(name, value, fields),
        scalar => {
            if let Some(converted) = Value::from_json_scalar(scalar) {
                fields.push((Str::copy(name), converted));
            }
        }
    }
}

/// Generic flattening: nested objects become dotted names, arrays of scalars lists, arrays of
/// objects repeat their dotted names (merged into lists by [`Event::from_fields`]).
pub fn flatten_into(prefix: &str, value: &Json, fields: &mut Vec<(Str, Value)>) {
    match value {
        Json::Object(object) => {
            for (name, child) in object {
                let path =
                    if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                flatten_into(&path, child, fields);
            }
        }
        Json::Array(items) if items.iter().any(|item| item.is_object() || item.is_array()) => {
            for item in items {
                flatten_into(prefix, item, fields);
            }
        }
        Json::Array(items) => {
            fields.push((
                Str::copy(prefix),
                Value::List(items.iter().filter_map(Value::from_json_scalar).collect()),
            ));
        }
        scalar => {
            if let Some(converted) = Value::from_json_scalar(scalar) {
                fields.push((Str::copy(prefix), converted));
            }
        }
    }
}

/// Flattens a Winlogbeat/Elastic Agent document: `winlog.*` becomes the Sigma Windows names
/// (`Channel`, `EventID`, `Computer`, `Provider_Name`, `EventRecordID` and the `event_data`
/// fields), and everything else keeps its dotted ECS name.
#[must_use]
pub fn from_winlogbeat_json(document: &Json) -> Event {
    let mut fields: Vec<(Str, Value)> = Vec::with_capacity(48);
    if let Some(winlog) = document.get("winlog") {
        winlog_fields(winlog, &mut fields);
    }
    flatten_into("", document, &mut fields);
    let timestamp = document
        .get("@timestamp")
        .and_then(Json::as_str)
        .and_then(|text| text.parse::<Timestamp>().ok());
    let mut event = Event::from_fields(fields);
    event.set_timestamp(timestamp);
    event
}

/// Adds the Sigma Windows names for a Winlogbeat `winlog` object (`Channel`, `EventID`, ...,
/// and the `event_data` / `user_data` fields by their own names).
pub fn winlog_fields(winlog: &Json, fields: &mut Vec<(Str, Value)>) {
    let Some(winlog) = winlog.as_object() else { return };
    for (name, target) in [
        ("channel", "Channel"),
        ("event_id", "EventID"),
        ("computer_name", "Computer"),
        ("provider_name", "Provider_Name"),
        ("provider_guid", "Provider_Guid"),
        ("record_id", "EventRecordID"),
        ("task", "Task"),
        ("opcode", "Opcode"),
        ("version", "Version"),
    ] {
        if let Some(value) = winlog.get(name) {
            // Winlogbeat writes event_id as a string; Sigma rules compare it as a number.
            let value = match (target, value) {
                ("EventID" | "EventRecordID", Json::String(text)) => {
                    text.parse::<i64>().map_or_else(|_| Json::String(text.clone()), Json::from)
                }
                _ => value.clone(),
            };
            push_scalar(target, &value, fields);
        }
    }
    for section in ["event_data", "user_data"] {
        if let Some(data) = winlog.get(section) {
            flatten_data(data, fields);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_system_eventdata_and_attributes() {
        let record = serde_json::json!({"Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "{5770385F}"}},
                "EventID": 1,
                "TimeCreated": {"#attributes": {"SystemTime": "2019-03-19T23:34:24.975000Z"}},
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "Execution": {"#attributes": {"ProcessID": 1, "ThreadID": 2}}
            },
            "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami"}
        }});
        let event = from_evtx_json(&record);
        assert_eq!(event.get("EventID"), Some(&Value::Int(1)));
        assert_eq!(event.get_str("Provider_Name").as_deref(), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(event.get("Execution_ThreadID"), Some(&Value::Int(2)));
        assert_eq!(event.get_str("Image").as_deref(), Some("C:\\Windows\\System32\\cmd.exe"));
        assert!(event.timestamp().is_some());
        assert!(event.get("xmlns").is_none());
    }

    #[test]
    fn eventid_with_qualifiers_and_userdata() {
        let record = serde_json::json!({"Event": {
            "System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045}, "Channel": "System"},
            "UserData": {"LogFileCleared": {"#attributes": {"xmlns": "x"}, "SubjectUserName": "bob"}}
        }});
        let event = from_evtx_json(&record);
        assert_eq!(event.get("EventID"), Some(&Value::Int(7045)));
        assert_eq!(event.get("EventID_Qualifiers"), Some(&Value::Int(16384)));
        assert_eq!(event.get_str("SubjectUserName").as_deref(), Some("bob"));
    }

    #[test]
    fn winlogbeat_shape_maps_to_sigma_names() {
        let document = serde_json::json!({
            "@timestamp": "2024-01-01T00:00:00Z",
            "winlog": {"channel": "Security", "event_id": "4624", "computer_name": "dc1",
                        "event_data": {"TargetUserName": "alice", "LogonType": "3"}},
            "host": {"name": "dc1"}
        });
        let event = from_winlogbeat_json(&document);
        assert_eq!(event.get("EventID"), Some(&Value::Int(4624)));
        assert_eq!(event.get_str("Channel").as_deref(), Some("Security"));
        assert_eq!(event.get_str("TargetUserName").as_deref(), Some("alice"));
        assert_eq!(event.get_str("host.name").as_deref(), Some("dc1"));
        assert_eq!(event.get_str("winlog.event_data.LogonType").as_deref(), Some("3"));
    }
}
