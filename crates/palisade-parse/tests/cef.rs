//! CEF and LEEF parsing (`palisade_parse::cef`): golden files, syslog-carried records and
//! property tests.
//!
//! Golden files: `tests/golden/cef/<case>.log` holds bare records (lines starting with `#` are
//! comments); `<case>.jsonl` holds, line for line, the fields produced with the event time as
//! `@timestamp` (`null` when the line is not a record). `PALISADE_BLESS=1 cargo test -p
//! palisade-parse --test cef golden` rewrites the expected files; read every changed line
//! before keeping it.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use palisade_event::{Event, Value};
use palisade_parse::cef::{self, CEF_DATASET, LEEF_DATASET, parse_line, parse_program};
use palisade_parse::ecs::MAX_TEXT_LEN;
use proptest::prelude::*;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/cef")
}

fn event_json(event: &Event) -> serde_json::Value {
    let mut json = event.to_json();
    if let (Some(object), Some(timestamp)) = (json.as_object_mut(), event.timestamp()) {
        object.insert("@timestamp".to_owned(), timestamp.to_string().into());
    }
    json
}

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
fn check_invariants(event: &Event, line: &str) {
    let dataset = event.get_str("event.dataset").expect("event.dataset");
    assert!(dataset == CEF_DATASET || dataset == LEEF_DATASET, "{dataset}: {line}");
    assert_eq!(event.get_str("event.kind").as_deref(), Some("event"), "{line}");
    for field in [
        "source.ip",
        "destination.ip",
        "observer.ip",
        "source.nat.ip",
        "destination.nat.ip",
        "related.ip",
    ] {
        for ip in strings(event.get(field)) {
            assert!(ip.parse::<IpAddr>().is_ok(), "{field} {ip:?} is not an IP: {line}");
        }
    }
    for field in ["source.port", "destination.port", "source.nat.port", "destination.nat.port"] {
        if let Some(value) = event.get(field) {
            assert!(matches!(value, Value::Int(0..=65535)), "{field} {value:?}: {line}");
        }
    }
    for field in ["source.mac", "destination.mac", "observer.mac"] {
        for mac in strings(event.get(field)) {
            assert_eq!(mac.len(), 17, "{field} {mac}: {line}");
            assert!(
                mac.bytes()
                    .all(|byte| byte == b'-' || byte.is_ascii_digit() || byte.is_ascii_uppercase()),
                "{field} {mac}: {line}"
            );
        }
    }
    if let Some(severity) = event.get("event.severity") {
        assert!(matches!(severity, Value::Int(0..=10)), "severity {severity:?}: {line}");
    }
    if let Some(outcome) = event.get_str("event.outcome") {
        assert!(matches!(&*outcome, "success" | "failure" | "unknown"), "{line}");
    }
    for (name, value) in event.fields() {
        if name == "event.original" {
            continue;
        }
        for text in strings(Some(value)) {
            assert!(text.len() <= MAX_TEXT_LEN, "{name} is not capped: {line}");
        }
    }
}

#[test]
fn golden() {
    let bless = std::env::var_os("PALISADE_BLESS").is_some();
    for (case, min_recognised) in [("cef", 20), ("leef", 20)] {
        let input = golden_dir().join(format!("{case}.log"));
        let text = std::fs::read_to_string(&input).expect("golden input");
        let lines: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
        let mut n_recognised = 0;
        let actual: Vec<String> = lines
            .iter()
            .map(|line| match parse_line(line) {
                Some(event) => {
                    check_invariants(&event, line);
                    n_recognised += 1;
                    event_json(&event).to_string()
                }
                None => "null".to_owned(),
            })
            .collect();
        assert!(n_recognised >= min_recognised, "{case}: {n_recognised} records recognised");
        let expected_path = input.with_extension("jsonl");
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
        let failures: Vec<String> = lines
            .iter()
            .zip(&expected)
            .zip(&actual)
            .filter(|((_, want), got)| *want != *got)
            .map(|((line, want), got)| format!("{line}\n  want {want}\n  got  {got}"))
            .collect();
        assert!(
            failures.is_empty(),
            "{} golden mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

#[test]
fn syslog_carried_records() {
    let mut event = Event::new();
    event.insert("message", Value::from("original"));
    let message = "CEF:0|Vendor|Product|1|sig|Name|5|src=192.0.2.1 rt=1714557600000 msg=hello";
    assert!(parse_program("anything", Some(1), message, &mut event));
    assert_eq!(event.get_str("message").as_deref(), Some("hello"));
    assert_eq!(event.timestamp().map(|ts| ts.to_string()).as_deref(), Some("2024-05-01T10:00:00Z"));
    // The syslog parser may take `CEF` for the tag: the record is joined back.
    let mut event = Event::new();
    assert!(parse_program("CEF", None, "0|Vendor|Product|1|sig|Name|5|src=192.0.2.1", &mut event));
    assert_eq!(event.get_str("source.ip").as_deref(), Some("192.0.2.1"));
    let mut event = Event::new();
    assert!(parse_program("LEEF", None, "1.0|V|P|1|e|src=192.0.2.2", &mut event));
    assert_eq!(event.get_str("event.dataset").as_deref(), Some(LEEF_DATASET));
    // Empty program, a leading host name.
    let mut event = Event::new();
    assert!(parse_program("", None, "host01 LEEF:1.0|V|P|1|e|src=192.0.2.3", &mut event));
    // Not a record: the event is untouched.
    let mut event = Event::new();
    assert!(!parse_program(
        "sshd",
        Some(2),
        "Accepted password for root from 192.0.2.4",
        &mut event
    ));
    assert!(!parse_program("CEF", None, "not a record", &mut event));
    assert!(event.is_empty());
}

#[test]
fn labelled_custom_fields_keep_both_names() {
    let line = "CEF:0|V|P|1|s|n|1|cs1Label=Threat ID cs1=TID 42 cn2=7 cn2Label=Risk.Score";
    let event = parse_line(line).expect("record");
    assert_eq!(event.get_str("cef.extensions.cs1").as_deref(), Some("TID 42"));
    assert_eq!(event.get_str("cef.extensions.label.Threat_ID").as_deref(), Some("TID 42"));
    assert_eq!(event.get_str("cef.extensions.label.Risk_Score").as_deref(), Some("7"));
}

#[test]
fn long_values_and_many_keys_are_bounded() {
    let extension: String = (0..5000).map(|idx| format!("k{idx}=v ")).collect();
    let line = format!("CEF:0|V|P|1|s|n|1|msg={} {extension}", "x".repeat(100_000));
    let event = parse_line(&line).expect("record");
    check_invariants(&event, "long");
    let n_extensions =
        event.fields().filter(|(name, _)| name.starts_with("cef.extensions.")).count();
    assert_eq!(n_extensions, cef::MAX_EXTENSIONS);
    assert_eq!(event.get_str("message").map(|m| m.len()), Some(MAX_TEXT_LEN));
}

static GOLDEN_LINES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut lines = Vec::new();
    for case in ["cef", "leef"] {
        let text =
            std::fs::read_to_string(golden_dir().join(format!("{case}.log"))).expect("golden");
        lines.extend(text.lines().filter(|line| !line.starts_with('#')).map(str::to_owned));
    }
    lines
});

/// Golden lines cut at a random point and with random text spliced in.
fn mutated_line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(GOLDEN_LINES.clone()),
        any::<prop::sample::Index>(),
        "[\\\\|= \t^a-z0-9é#]{0,6}",
    )
        .prop_map(|(line, index, splice)| {
            let mut at = index.index(line.len() + 1);
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            if splice.is_empty() {
                line[..at].to_owned()
            } else {
                format!("{}{}{}", &line[..at], splice, &line[at..])
            }
        })
}

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof!["\\PC{0,200}", "(CEF:|LEEF:1.0\\||LEEF:2.0\\|)[ -~\t]{0,150}", mutated_line(),]
}

proptest! {
    #[test]
    fn arbitrary_lines_never_panic(line in line_strategy(), program in "(|CEF|LEEF|sshd)") {
        if let Some(event) = parse_line(&line) {
            check_invariants(&event, &line);
        }
        let mut event = Event::new();
        if parse_program(&program, None, &line, &mut event) {
            check_invariants(&event, &line);
        } else {
            prop_assert!(event.is_empty());
        }
    }
}

/// End to end through the syslog layer, as the syslog ports and `palisade ingest` read lines.
#[test]
fn through_the_syslog_dispatcher() {
    use palisade_parse::line::syslog_event;
    use palisade_parse::syslog::SyslogContext;
    let ctx = SyslogContext::utc("2024-05-01T12:00:00Z".parse().expect("time"));
    for line in [
        "<134>May  1 10:00:00 fw01 CEF:0|Fortinet|Fortigate|v7.2.5|00013|traffic|3|src=192.0.2.10 dst=198.51.100.20 act=close",
        "<134>1 2024-05-01T10:00:00Z fw01 - - - - CEF:0|Fortinet|Fortigate|v7.2.5|00013|traffic|3|src=192.0.2.10 dst=198.51.100.20 act=close",
        "<134>May  1 10:00:00 fw01 LEEF:1.0|Fortinet|FortiGate|7.2.5|00013|src=192.0.2.10\tdst=198.51.100.20\taction=close",
        "<134>May  1 10:00:00 fw01 fortigate: CEF:0|Fortinet|Fortigate|v7.2.5|00013|traffic|3|src=192.0.2.10 dst=198.51.100.20 act=close",
    ] {
        let (event, parsed) = syslog_event(line.as_bytes(), &ctx, false);
        assert!(parsed, "{line}");
        assert_eq!(event.get_str("source.ip").as_deref(), Some("192.0.2.10"), "{line}: {event:?}");
        assert_eq!(event.get_str("event.action").as_deref(), Some("close"), "{line}");
        assert_eq!(event.get_str("observer.vendor").as_deref(), Some("Fortinet"), "{line}");
    }
}
