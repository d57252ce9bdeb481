//! AWS CloudTrail parsing (`palisade_parse::cloudtrail`): golden files and property tests.
//!
//! Golden files: `tests/golden/cloudtrail/<name>.jsonl` holds CloudTrail records, one per line
//! (lines starting with `#` are comments); `<name>.expected.jsonl` holds, line for line, the
//! event produced (`{"@timestamp": ..., "event": {...}}`), or `null` when `looks_like` refuses
//! the record. Inputs are the `*.jsonl` files whose name does not end in `.expected.jsonl`.
//! `PALISADE_BLESS=1 cargo test -p palisade-parse --test cloudtrail golden` rewrites the
//! expected files; read every changed line before keeping it.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use palisade_event::{Event, Value};
use palisade_parse::cloudtrail;
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
    assert_eq!(event.get_str("event.dataset").as_deref(), Some(cloudtrail::DATASET), "{record}");
    assert_eq!(event.get_str("event.kind").as_deref(), Some("event"), "{record}");
    assert_eq!(event.get_str("cloud.provider").as_deref(), Some("aws"), "{record}");
    let outcome = event.get_str("event.outcome").expect("event.outcome");
    assert!(["success", "failure"].contains(&outcome.as_ref()), "{record}");
    if event.get("error.code").is_some() {
        assert_eq!(outcome, "failure", "{record}");
    }
    let categories = strings(event.get("event.category"));
    let types = strings(event.get("event.type"));
    for category in &categories {
        assert!(
            ["authentication", "iam", "file", "configuration"].contains(&category.as_str()),
            "category {category}: {record}"
        );
    }
    assert_eq!(categories.is_empty(), types.is_empty(), "{record}");
    for (field, value) in event.fields() {
        if field.ends_with(".ip") || field == "related.ip" {
            for ip in strings(Some(value)) {
                assert!(ip.parse::<IpAddr>().is_ok(), "{field} {ip:?} is not an IP: {record}");
            }
        }
        let cap = match field {
            "aws.cloudtrail.request_parameters"
            | "aws.cloudtrail.response_elements"
            | "aws.cloudtrail.additional_eventdata" => cloudtrail::MAX_RAW_LEN,
            _ => cloudtrail::MAX_VALUE_LEN,
        };
        for text in strings(Some(value)) {
            assert!(text.len() <= cap, "{field} is not capped: {record}");
        }
        if !field.starts_with("aws.cloudtrail.") {
            assert!(
                KNOWN_PREFIXES.iter().any(|prefix| field.starts_with(prefix)),
                "unexpected ECS field {field}: {record}"
            );
        }
    }
}

/// The top-level ECS field sets this parser writes (anything else must be under aws.cloudtrail).
const KNOWN_PREFIXES: [&str; 9] =
    ["event.", "error.", "cloud.", "source.", "user_agent.", "user.", "tls.", "related.", "@"];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/cloudtrail")
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
    if !cloudtrail::looks_like(&document) {
        return None;
    }
    let event = cloudtrail::from_json(&document);
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
                if let Some(action) = event.as_ref().and_then(|event| event.get_str("event.action"))
                {
                    event_types.insert(action.into_owned());
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
    for action in [
        "ConsoleLogin",
        "AssumeRole",
        "GetSessionToken",
        "CreateUser",
        "CreateAccessKey",
        "AttachUserPolicy",
        "StopLogging",
        "DeleteTrail",
        "GetObject",
    ] {
        assert!(event_types.contains(action), "no golden record of {action}");
    }
}

fn golden_events() -> Vec<Event> {
    golden_records(&golden_dir().join("records.jsonl"))
        .iter()
        .filter_map(|record| parse_record(record))
        .collect()
}

fn find<'a>(events: &'a [Event], event_name: &str, nth: usize) -> &'a Event {
    events
        .iter()
        .filter(|event| event.get_str("event.action").as_deref() == Some(event_name))
        .nth(nth)
        .unwrap_or_else(|| panic!("no golden {event_name} #{nth}"))
}

#[test]
fn console_logins() {
    let events = golden_events();
    let with_mfa = find(&events, "ConsoleLogin", 0);
    assert_eq!(with_mfa.get_str("event.outcome").as_deref(), Some("success"));
    assert_eq!(with_mfa.get("aws.cloudtrail.mfa_used"), Some(&Value::Bool(true)));
    assert_eq!(strings(with_mfa.get("event.category")), ["authentication"]);
    let without_mfa = find(&events, "ConsoleLogin", 1);
    assert_eq!(without_mfa.get("aws.cloudtrail.mfa_used"), Some(&Value::Bool(false)));
    assert_eq!(without_mfa.get_str("source.ip").as_deref(), Some("2001:db8:4:2::10"));
    let failed = find(&events, "ConsoleLogin", 3);
    assert_eq!(failed.get_str("event.outcome").as_deref(), Some("failure"));
    assert_eq!(failed.get_str("error.message").as_deref(), Some("Failed authentication"));
    let root = find(&events, "ConsoleLogin", 4);
    assert_eq!(root.get_str("user.name").as_deref(), Some("root"));
    assert_eq!(root.get_str("aws.cloudtrail.user_identity.type").as_deref(), Some("Root"));
}

/// Found by the property test: an error code wins over a ConsoleLogin that says Success.
#[test]
fn an_error_code_is_a_failure_even_when_the_response_says_success() {
    let record = r#"{"eventVersion":"1.09","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2026-12-01T09:10:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","responseElements":{"ConsoleLogin":"Success"},"eventID":"0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9","eventType":"AwsConsoleSignIn","errorCode":"Root"}"#;
    let event = parse_record(record).expect("a CloudTrail record");
    check_invariants(&event, record);
    assert_eq!(event.get_str("event.outcome").as_deref(), Some("failure"));
    assert_eq!(event.get_str("error.code").as_deref(), Some("Root"));
}

#[test]
fn identities_and_targets() {
    let events = golden_events();
    let create_user = find(&events, "CreateUser", 0);
    // An assumed role acts under its session name; the role is in related.user too.
    assert_eq!(create_user.get_str("user.name").as_deref(), Some("ops-session"));
    assert_eq!(create_user.get_str("user.target.name").as_deref(), Some("backup-svc"));
    assert_eq!(strings(create_user.get("related.user")), ["ops-session", "OpsAdmin", "backup-svc"]);
    assert_eq!(strings(create_user.get("event.type")), ["creation", "user"]);
    let stop = find(&events, "StopLogging", 0);
    assert_eq!(strings(stop.get("event.category")), ["configuration"]);
    assert_eq!(strings(stop.get("event.type")), ["change"]);
    let denied = find(&events, "ListUsers", 0);
    assert_eq!(denied.get_str("error.code").as_deref(), Some("AccessDenied"));
    assert_eq!(denied.get_str("event.outcome").as_deref(), Some("failure"));
    let service = find(&events, "RunInstances", 0);
    assert_eq!(service.get_str("source.domain").as_deref(), Some("autoscaling.amazonaws.com"));
    assert_eq!(service.get("source.ip"), None);
    assert_eq!(service.get("user.name"), None);
}

#[test]
fn huge_request_parameters_are_capped() {
    let events = golden_events();
    let policy = find(&events, "PutBucketPolicy", 0);
    let flat = policy.get_str("aws.cloudtrail.requestParameters.bucketPolicy").expect("kept");
    assert_eq!(flat.len(), cloudtrail::MAX_VALUE_LEN);
    let raw = policy.get_str("aws.cloudtrail.request_parameters").expect("raw JSON");
    assert!(raw.len() > cloudtrail::MAX_VALUE_LEN && raw.len() <= cloudtrail::MAX_RAW_LEN);
    // Many keys: at most MAX_SUBTREE_FIELDS of them are flattened, and the rest are counted.
    let items: serde_json::Map<String, Json> =
        (0..1000).map(|idx| (format!("k{idx:04}"), Json::from("x".repeat(100)))).collect();
    let event = parse_value(&json!({
        "eventVersion": "1.09", "eventTime": "2026-12-01T10:00:00Z",
        "eventSource": "ec2.amazonaws.com", "eventName": "CreateTags",
        "requestParameters": Json::Object(items), "userIdentity": {"userName": "alice"}
    }));
    let n_params = event
        .fields()
        .filter(|(name, _)| name.starts_with("aws.cloudtrail.requestParameters."))
        .count();
    assert_eq!(n_params, cloudtrail::MAX_SUBTREE_FIELDS);
    assert_eq!(event.get("aws.cloudtrail.dropped_fields"), Some(&Value::Int(744)));
    assert_eq!(
        event.get_str("aws.cloudtrail.request_parameters").map(|raw| raw.len()),
        Some(cloudtrail::MAX_RAW_LEN)
    );
    // The identity (after requestParameters in key order) is still there.
    assert_eq!(event.get_str("user.name").as_deref(), Some("alice"));
}

#[test]
fn log_files_split_into_records() {
    let records: Vec<Json> = golden_records(&golden_dir().join("records.jsonl"))
        .iter()
        .map(|record| serde_json::from_str(record).expect("JSON"))
        .collect();
    let file = json!({ "Records": records });
    let split: Vec<&Json> = cloudtrail::records(&file).expect("a log file").collect();
    assert_eq!(split.len(), records.len());
    assert!(!cloudtrail::looks_like(&file), "a log file is not one record");
    for (record, original) in split.iter().zip(&records) {
        assert_eq!(*record, original);
    }
}

#[test]
fn auto_detection_is_narrow() {
    let record = json!({"eventVersion": "1.09", "eventTime": "2026-12-01T10:00:00Z",
        "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances"});
    assert!(cloudtrail::looks_like(&record));
    for key in ["eventVersion", "eventTime", "eventSource", "eventName"] {
        let mut partial = record.clone();
        partial.as_object_mut().expect("object").remove(key);
        assert!(!cloudtrail::looks_like(&partial), "without {key}");
        partial.as_object_mut().expect("object").insert(key.to_owned(), json!(1));
        assert!(!cloudtrail::looks_like(&partial), "{key} not a string");
    }
    assert!(!cloudtrail::looks_like(&json!([record])));
}

fn parse_value(document: &Json) -> Event {
    assert!(cloudtrail::looks_like(document));
    let event = cloudtrail::from_json(document);
    check_invariants(&event, &document.to_string());
    event
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
            "2026-12-01T10:00:00Z",
            "Root",
            "AssumedRole",
            "arn:aws:sts::1:assumed-role/r/",
            "TLSv1.2",
            "2001:db8::1",
            "ec2.amazonaws.com",
            "AWS Internal",
            "Success",
            "Failure",
            "Yes",
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
            "eventTime", "eventSource", "eventName", "eventID", "errorCode", "errorMessage",
            "awsRegion", "recipientAccountId", "sourceIPAddress", "userAgent", "userIdentity",
            "requestParameters", "responseElements", "additionalEventData", "tlsDetails",
            "readOnly", "eventCategory",
        ]),
        value in arbitrary_json(),
    ) {
        let mut document = seed;
        if let Some(object) = document.as_object_mut() {
            object.insert(key.to_owned(), value);
        }
        if cloudtrail::looks_like(&document) {
            let event = cloudtrail::from_json(&document);
            check_invariants(&event, &document.to_string());
        }
    }

    #[test]
    fn arbitrary_documents_never_panic(document in arbitrary_json()) {
        let _ = cloudtrail::looks_like(&document);
        let event = cloudtrail::from_json(&document);
        prop_assert!(event.get_str("event.dataset").is_some());
    }
}
