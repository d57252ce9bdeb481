//! Suricata EVE JSON parsing (`palisade_parse::suricata`): golden files and property tests.
//!
//! Golden files: `tests/golden/suricata/<name>.jsonl` holds EVE records, one per line (lines
//! starting with `#` are comments); `<name>.expected.jsonl` holds, line for line, the event
//! produced (`{"@timestamp": ..., "event": {...}}`), or `null` when `looks_like` refuses the
//! record. Inputs are the `*.jsonl` files whose name does not end in `.expected.jsonl`.
//! `PALISADE_BLESS=1 cargo test -p palisade-parse --test suricata golden` rewrites the
//! expected files; read every changed line before keeping it.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use palisade_event::{Event, Value};
use palisade_parse::suricata;
use proptest::prelude::*;
use serde_json::{Value as Json, json};

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::List(items)) => {
            items.iter().filter_map(|item| item.to_text().map(|text| text.into_owned())).collect()
        }
        Some(other) => other.to_text().map(|text| vec![text.into_owned()]).unwrap_or_default(),
        None => Vec::new(),
    }
}

/// What every produced event must satisfy, whatever the input.
fn check_invariants(event: &Event, record: &str) {
    assert_eq!(event.get_str("event.dataset").as_deref(), Some(suricata::DATASET), "{record}");
    let kind = event.get_str("event.kind").expect("event.kind");
    assert!(["alert", "event", "metric"].contains(&kind.as_ref()), "kind {kind}: {record}");
    if let Some(action) = event.get_str("event.action") {
        assert!(["allowed", "blocked"].contains(&action.as_ref()), "action {action}: {record}");
    }
    for (field, value) in event.fields() {
        if field.ends_with(".ip") || field == "related.ip" || field == "dns.resolved_ip" {
            for ip in strings(Some(value)) {
                assert!(ip.parse::<IpAddr>().is_ok(), "{field} {ip:?} is not an IP: {record}");
            }
        }
        if field.ends_with(".port") {
            assert!(
                matches!(value, Value::Int(port) if (0..=65535).contains(port)),
                "{field} {value:?}: {record}"
            );
        }
        if field.ends_with(".mac") {
            let mac = value.to_text().expect("a mac is text");
            assert!(
                mac.len() == 17
                    && mac.split('-').all(|part| part.len() == 2
                        && part.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())),
                "{field} {mac}: {record}"
            );
        }
        for text in strings(Some(value)) {
            assert!(text.len() <= suricata::MAX_VALUE_LEN, "{field} is not capped: {record}");
        }
        if !field.starts_with("suricata.eve.") {
            assert!(
                KNOWN_PREFIXES.iter().any(|prefix| field.starts_with(prefix)),
                "unexpected ECS field {field}: {record}"
            );
        }
    }
}

/// The top-level ECS field sets this parser writes (anything else must be under suricata.eve).
const KNOWN_PREFIXES: [&str; 16] = [
    "event.",
    "source.",
    "destination.",
    "network.",
    "observer.",
    "rule.",
    "threat.",
    "dns.",
    "url.",
    "http.",
    "user_agent.",
    "tls.",
    "file.",
    "email.",
    "related.",
    "error.",
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/suricata")
}

fn golden_inputs() -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            name.ends_with(".jsonl") && !name.ends_with(".expected.jsonl")
        })
        .collect();
    inputs.sort();
    inputs
}

fn golden_records(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("golden input");
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Parses one record as the JSON dispatcher would, checking the invariants.
fn parse_record(record: &str) -> Option<Event> {
    let document: Json = serde_json::from_str(record).expect("golden records are JSON");
    if !suricata::looks_like(&document) {
        return None;
    }
    let event = suricata::from_json(&document);
    check_invariants(&event, record);
    // The generic JSON dispatcher picks this parser and gives the same event.
    assert_eq!(palisade_parse::format::json::event_from_document(&document), event, "{record}");
    Some(event)
}

fn rendered(event: Option<&Event>) -> String {
    match event {
        Some(event) => json!({
            "@timestamp": event.timestamp().map(|timestamp| timestamp.to_string()),
            "event": event.to_json(),
        })
        .to_string(),
        None => "null".to_owned(),
    }
}

#[test]
fn golden() {
    let bless = std::env::var_os("PALISADE_BLESS").is_some();
    let inputs = golden_inputs();
    assert!(!inputs.is_empty(), "no golden inputs");
    let mut failures = Vec::new();
    let mut event_types = BTreeSet::new();
    let mut n_records = 0;
    for input in &inputs {
        let records = golden_records(input);
        n_records += records.len();
        let actual: Vec<String> = records
            .iter()
            .map(|record| {
                let event = parse_record(record);
                if let Some(event) = &event {
                    event_types
                        .insert(event.get_str("suricata.eve.event_type").unwrap().into_owned());
                }
                rendered(event.as_ref())
            })
            .collect();
        let expected_path = input.with_extension("expected.jsonl");
        if bless {
            let mut out = actual.join("\n");
            out.push('\n');
            std::fs::write(&expected_path, out).expect("write expected file");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!("missing {}: run with PALISADE_BLESS=1", expected_path.display())
        });
        let expected: Vec<&str> = expected.lines().collect();
        assert_eq!(expected.len(), actual.len(), "{}: line count", expected_path.display());
        for ((record, want), got) in records.iter().zip(&expected).zip(&actual) {
            if want != got {
                failures.push(format!("{record}\n  want {want}\n  got  {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} golden mismatches:\n{}", failures.len(), failures.join("\n"));
    assert!(n_records >= 20, "only {n_records} golden records");
    for event_type in
        ["alert", "dns", "http", "tls", "flow", "fileinfo", "anomaly", "ssh", "smtp", "stats"]
    {
        assert!(event_types.contains(event_type), "no golden record of type {event_type}");
    }
}

fn parse_value(document: &Json) -> Event {
    assert!(suricata::looks_like(document));
    let event = suricata::from_json(document);
    check_invariants(&event, &document.to_string());
    event
}

#[test]
fn alert_fields() {
    let record = golden_records(&golden_dir().join("alert.jsonl")).swap_remove(1);
    let event = parse_record(&record).expect("an alert");
    assert_eq!(event.get_str("event.kind").as_deref(), Some("alert"));
    assert_eq!(event.get_str("event.action").as_deref(), Some("blocked"));
    assert_eq!(strings(event.get("event.type")), ["denied"]);
    assert_eq!(event.get_str("rule.id").as_deref(), Some("2044250"));
    assert_eq!(event.get("event.severity"), Some(&Value::Int(1)));
    assert_eq!(strings(event.get("threat.technique.id")), ["T1071"]);
    assert_eq!(event.get_str("source.ip").as_deref(), Some("2001:db8:10::25"));
    assert_eq!(
        event.get_str("tls.client.ja4").as_deref(),
        Some("t13d1516h2_8daaf6152771_02713d6af862")
    );
    // 11:05:12.004211+0100 is 10:05:12.004211 UTC.
    assert_eq!(
        event.timestamp().map(|time| time.to_string()).as_deref(),
        Some("2026-12-01T10:05:12.004211Z")
    );
    // Every original field is kept.
    assert_eq!(strings(event.get("suricata.eve.alert.metadata.confidence")), ["High"]);
}

#[test]
fn flow_counters_and_duration() {
    let record = golden_records(&golden_dir().join("flow.jsonl")).swap_remove(0);
    let event = parse_record(&record).expect("a flow");
    assert_eq!(event.get("source.packets"), Some(&Value::Int(8)));
    assert_eq!(event.get("destination.bytes"), Some(&Value::Int(4360)));
    assert_eq!(event.get("network.packets"), Some(&Value::Int(14)));
    assert_eq!(event.get("network.bytes"), Some(&Value::Int(5362)));
    assert_eq!(event.get("event.duration"), Some(&Value::Int(1_500_000_000)));
    assert_eq!(strings(event.get("event.type")), ["connection", "end"]);
}

#[test]
fn dns_versions_agree() {
    let v2 = parse_value(&json!({
        "timestamp": "2026-12-01T10:00:00.000000+0000", "flow_id": 1, "event_type": "dns",
        "src_ip": "192.0.2.1", "dest_ip": "192.0.2.2", "proto": "UDP",
        "dns": {"version": 2, "type": "answer", "id": 7, "rd": true, "ra": true,
                "rrname": "example.com", "rrtype": "A", "rcode": "NOERROR",
                "answers": [{"rrname": "example.com", "rrtype": "A", "ttl": 5, "rdata": "192.0.2.9"}]}
    }));
    let v3 = parse_value(&json!({
        "timestamp": "2026-12-01T10:00:00.000000+0000", "flow_id": 1, "event_type": "dns",
        "src_ip": "192.0.2.1", "dest_ip": "192.0.2.2", "proto": "UDP",
        "dns": {"version": 3, "type": "response", "id": 7, "rd": true, "ra": true, "rcode": "NOERROR",
                "queries": [{"rrname": "example.com", "rrtype": "A"}],
                "answers": [{"rrname": "example.com", "rrtype": "A", "ttl": 5, "rdata": "192.0.2.9"}]}
    }));
    for field in [
        "dns.type",
        "dns.id",
        "dns.question.name",
        "dns.question.type",
        "dns.response_code",
        "dns.header_flags",
        "dns.answers.data",
        "dns.answers.ttl",
        "dns.resolved_ip",
        "related.ip",
    ] {
        assert_eq!(v2.get(field), v3.get(field), "{field}");
        assert!(v2.get(field).is_some(), "{field}");
    }
}

#[test]
fn long_values_are_capped() {
    let long = "x".repeat(100_000);
    let event = parse_value(&json!({
        "timestamp": "2026-12-01T10:00:00.000000+0000", "flow_id": 1, "event_type": "http",
        "src_ip": "192.0.2.1", "dest_ip": "192.0.2.2", "proto": "TCP", "payload": long,
        "http": {"hostname": long, "url": long, "http_user_agent": long}
    }));
    assert_eq!(event.get_str("suricata.eve.payload").map(|text| text.len()), Some(8192));
    assert_eq!(event.get_str("url.original").map(|text| text.len()), Some(8192));
    assert_eq!(event.get_str("url.domain").map(|text| text.len()), Some(256));
    assert_eq!(event.get("related.hosts"), None, "a 100 kB host name is not a host name");
}

#[test]
fn auto_detection_is_narrow() {
    assert!(!suricata::looks_like(&json!({"event_type": "alert", "timestamp": "x"})));
    assert!(!suricata::looks_like(&json!({"timestamp": "x", "src_ip": "192.0.2.1"})));
    assert!(!suricata::looks_like(&json!({"event_type": 1, "timestamp": "x", "flow_id": 1})));
    assert!(!suricata::looks_like(&json!([1, 2])));
    assert!(suricata::looks_like(&json!({"event_type": "stats", "timestamp": "x", "stats": {}})));
}

/// Golden records, the seeds of the mutation strategy.
static GOLDEN: LazyLock<Vec<Json>> = LazyLock::new(|| {
    golden_inputs()
        .iter()
        .flat_map(|path| golden_records(path))
        .map(|record| serde_json::from_str(&record).expect("golden JSON"))
        .collect()
});

fn arbitrary_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>().prop_map(|float| json!(float)),
        "\\PC{0,40}".prop_map(Json::from),
        prop::sample::select(vec![
            "2026-12-01T10:00:00.123456+0000",
            "2026-12-01T10:00:00+9999",
            "TLS 1.2",
            "4a:b1:c3",
            "2001:db8::1",
            "192.0.2.1",
            "<a@example.com>",
            "/p?q#f",
            "http://",
            "A",
            "AAAA",
        ])
        .prop_map(Json::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "rrname",
                    "rrtype",
                    "rdata",
                    "ttl",
                    "answers",
                    "queries",
                    "grouped",
                    "type",
                    "hash",
                    "start",
                    "end",
                    "version",
                    "sni",
                    "filename",
                    "size",
                    "md5",
                    "x",
                    "severity",
                    "signature_id",
                    "action",
                    "metadata",
                    "mitre_technique_id",
                    "url",
                    "hostname",
                    "status",
                    "src_mac",
                    "query",
                    "answer",
                ])
                .prop_map(str::to_owned),
                inner,
                0..6,
            )
            .prop_map(|map| Json::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn mutated_golden_records_never_panic(
        seed in prop::sample::select(GOLDEN.clone()),
        key in prop::sample::select(vec![
            "timestamp", "flow_id", "src_ip", "src_port", "dest_ip", "dest_port", "proto",
            "app_proto", "vlan", "ether", "alert", "dns", "http", "tls", "flow", "fileinfo",
            "ssh", "smtp", "email", "anomaly", "event_type", "in_iface", "host",
        ]),
        value in arbitrary_json(),
    ) {
        let mut document = seed;
        if let Some(object) = document.as_object_mut() {
            object.insert(key.to_owned(), value);
        }
        if suricata::looks_like(&document) {
            let event = suricata::from_json(&document);
            check_invariants(&event, &document.to_string());
        }
    }

    #[test]
    fn arbitrary_documents_never_panic(document in arbitrary_json()) {
        let _ = suricata::looks_like(&document);
        let event = suricata::from_json(&document);
        prop_assert!(event.get_str("event.dataset").is_some());
    }
}
