//! DNS log parsing (`palisade_parse::dns`): golden files and property tests.
//!
//! Golden files: `tests/golden/dns/*.log` hold input lines (lines starting with `#` are
//! comments): `bind-file.log` holds BIND query-log file lines read by `dns::parse_line` (in
//! UTC), the others syslog lines whose message goes to `dns::parse_program`. `<name>.jsonl`
//! holds, line for line, the fields produced (`null` when the line is not recognised), with
//! the event time as `@timestamp` for file lines. `PALISADE_BLESS=1 cargo test -p
//! palisade-parse --test dns` rewrites the expected files; read every changed line before
//! keeping it.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use palisade_event::{Event, Value};
use palisade_parse::dns::{self, parse_line, parse_program};
use proptest::prelude::*;
use regex::Regex;

/// The RFC 3164 header of a syslog line: timestamp, host, program[pid].
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\w{3} +\d+ [\d:]+ \S+ (\S+?)(?:\[(\d+)\])?: ?(.*)$").expect("valid regex")
});

fn split_header(line: &str) -> Option<(&str, Option<u32>, &str)> {
    let captures = HEADER.captures(line)?;
    let program = captures.get(1)?.as_str();
    let pid = captures.get(2).and_then(|pid| pid.as_str().parse().ok());
    Some((program, pid, captures.get(3)?.as_str()))
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
    assert!(
        dataset == dns::DATASET_BIND || dataset == dns::DATASET_DNSMASQ,
        "dataset {dataset}: {line}"
    );
    assert_eq!(event.get_str("event.kind").as_deref(), Some("event"), "{line}");
    assert_eq!(event.get_str("network.protocol").as_deref(), Some("dns"), "{line}");
    let name = event.get_str("event.action").expect("event.action is set");
    let action = dns::actions()
        .find(|action| action.name == name)
        .unwrap_or_else(|| panic!("action {name} is not in the catalogue: {line}"));
    assert_eq!(strings(event.get("event.category")), action.category, "{line}");
    assert_eq!(strings(event.get("event.type")), action.types, "{line}");
    assert_eq!(event.get_str("event.outcome").as_deref(), action.outcome, "{line}");
    for (field, value) in event.fields() {
        if field.ends_with(".ip") || field == "dns.resolved_ip" || field.starts_with("related.ip") {
            for ip in strings(Some(value)) {
                assert!(ip.parse::<IpAddr>().is_ok(), "{field} {ip:?} is not an IP: {line}");
            }
        }
        if field.ends_with(".port") {
            assert!(
                matches!(value, Value::Int(port) if (0..=65535).contains(port)),
                "{field} {value:?}: {line}"
            );
        }
        for text in strings(Some(value)) {
            assert!(text.len() <= 8192, "{field} is not capped: {line}");
        }
    }
    if let Some(kind) = event.get_str("dns.type") {
        assert!(kind == "query" || kind == "answer", "dns.type {kind}: {line}");
    }
    for flag in strings(event.get("dns.header_flags")) {
        assert!(["AA", "TC", "RD", "RA", "AD", "CD", "DO"].contains(&flag.as_str()), "{line}");
    }
}

/// Parses one golden line: a BIND file line when `file` is set, else a syslog line.
fn parse_golden(line: &str, file: bool) -> Option<Event> {
    if file {
        let event = parse_line(line, &jiff::tz::TimeZone::UTC)?;
        check_invariants(&event, line);
        assert_eq!(event.get_str("event.original").as_deref(), Some(line));
        assert!(event.timestamp().is_some(), "no time: {line}");
        return Some(event);
    }
    let (program, pid, message) = split_header(line).expect("syslog header");
    let mut event = Event::new();
    if parse_program(program, pid, message, &mut event) {
        check_invariants(&event, line);
        Some(event)
    } else {
        assert!(event.is_empty(), "unrecognised line changed the event: {line}");
        None
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/dns")
}

fn golden_inputs() -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    inputs.sort();
    inputs
}

fn is_file_format(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name.to_string_lossy().starts_with("bind-file"))
}

fn golden_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|line| !line.is_empty() && !line.starts_with('#')).collect()
}

#[test]
fn golden() {
    let bless = std::env::var_os("PALISADE_BLESS").is_some();
    let inputs = golden_inputs();
    assert!(!inputs.is_empty(), "no golden inputs");
    let mut seen_actions = BTreeSet::new();
    let mut failures = Vec::new();
    let mut n_lines = 0;
    for input in &inputs {
        let text = std::fs::read_to_string(input).expect("golden input");
        let lines = golden_lines(&text);
        n_lines += lines.len();
        let file = is_file_format(input);
        let mut actual = Vec::with_capacity(lines.len());
        for line in &lines {
            let json = match parse_golden(line, file) {
                Some(event) => {
                    if let Some(action) = event.get_str("event.action") {
                        seen_actions.insert(action.into_owned());
                    }
                    let mut json = event.to_json();
                    if let (Some(time), Some(object)) = (event.timestamp(), json.as_object_mut()) {
                        object.insert("@timestamp".into(), time.to_string().into());
                    }
                    json.to_string()
                }
                None => "null".to_owned(),
            };
            actual.push(json);
        }
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
        for ((line, want), got) in lines.iter().zip(&expected).zip(&actual) {
            if want != got {
                failures.push(format!("{line}\n  want {want}\n  got  {got}"));
            }
        }
    }
    assert!(n_lines >= 20, "only {n_lines} golden lines");
    assert!(failures.is_empty(), "{} golden mismatches:\n{}", failures.len(), failures.join("\n"));
    let missing: Vec<&str> = dns::actions()
        .map(|action| action.name)
        .filter(|name| !seen_actions.contains(*name))
        .collect();
    assert!(missing.is_empty(), "actions without a golden line: {missing:?}");
}

#[test]
fn catalogue_is_unique_snake_case_documented_and_its_examples_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let module_doc = std::fs::read_to_string(root.join("src/dns/mod.rs")).expect("mod.rs");
    let analyst_doc =
        std::fs::read_to_string(root.join("../../docs/parsers/dns.md")).expect("dns.md");
    let mut names = BTreeSet::new();
    for action in dns::actions() {
        let (program, message) = action.example;
        let mut event = Event::new();
        assert!(parse_program(program, None, message, &mut event), "{message}");
        check_invariants(&event, message);
        if names.contains(action.name) {
            // dns_query is listed by both BIND and dnsmasq: one meaning, the same categorisation.
            let first = dns::actions().find(|a| a.name == action.name).expect("first");
            assert_eq!(
                (first.category, first.types, first.outcome),
                (action.category, action.types, action.outcome)
            );
            continue;
        }
        names.insert(action.name);
        assert!(
            action.name.bytes().all(|byte| byte.is_ascii_lowercase() || byte == b'_'),
            "{} is not snake_case",
            action.name
        );
        let row = format!("| `{}` |", action.name);
        assert!(module_doc.contains(&row), "{} is missing from the table in mod.rs", action.name);
        assert!(analyst_doc.contains(&row), "{} is missing from dns.md", action.name);
    }
}

#[test]
fn names_are_kept_exactly_and_capped() {
    let label = "a".repeat(63);
    let name = format!("{label}.{label}.{label}.example.com");
    let message = format!("query[TXT] {name} from 192.0.2.7");
    let mut event = Event::new();
    assert!(parse_program("dnsmasq", None, &message, &mut event));
    assert_eq!(event.get_str("dns.question.name").as_deref(), Some(name.as_str()));
    let huge = "\\032".repeat(10_000);
    let message = format!("client 192.0.2.7#1: query: {huge} IN A + (192.0.2.1)");
    let mut event = Event::new();
    assert!(parse_program("named", None, &message, &mut event));
    let kept = event.get_str("dns.question.name").expect("name");
    assert_eq!(kept.len(), dns::MAX_QNAME_LEN);
}

/// Messages of the golden files, the seeds of the mutation strategy.
static GOLDEN_MESSAGES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut messages = Vec::new();
    for input in golden_inputs() {
        let text = std::fs::read_to_string(&input).expect("golden input");
        for line in golden_lines(&text) {
            if is_file_format(&input) {
                messages.push((String::new(), line.to_owned()));
            } else if let Some((program, _, message)) = split_header(line) {
                messages.push((program.to_owned(), message.to_owned()));
            }
        }
    }
    messages
});

fn mutated_message() -> impl Strategy<Value = (String, String)> {
    (prop::sample::select(GOLDEN_MESSAGES.clone()), any::<prop::sample::Index>(), "\\PC{0,12}")
        .prop_map(|((program, message), index, splice)| {
            let mut at = index.index(message.len() + 1);
            while !message.is_char_boundary(at) {
                at -= 1;
            }
            let mut mutated = if splice.is_empty() { message[..at].to_owned() } else { message };
            if !splice.is_empty() {
                mutated.insert_str(at, &splice);
            }
            (program, mutated)
        })
}

fn check_any(program: &str, message: &str) {
    if let Some(event) = parse_line(message, &jiff::tz::TimeZone::UTC) {
        check_invariants(&event, message);
    }
    for program in [program, "named", "dnsmasq"] {
        let mut event = Event::new();
        if parse_program(program, Some(7), message, &mut event) {
            check_invariants(&event, message);
        } else {
            assert!(event.is_empty(), "unrecognised message changed the event: {message}");
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_messages_never_panic(
        program in prop::sample::select(vec!["named", "dnsmasq", "dnsmasq-dhcp", "sshd"]),
        message in prop_oneof![
            "\\PC{0,160}",
            (prop::sample::select(vec![
                "client @0x1 192.0.2.1#1 (x): query: ",
                "client 2001:db8::1#53: view v: ",
                "01-Dec-2026 10:00:00.123 queries: info: client ",
                "query[A] ",
                "1234 192.0.2.7/5 reply ",
                "forwarded x to ",
                "ipset add ",
            ]), "[ -~]{0,80}").prop_map(|(prefix, tail)| format!("{prefix}{tail}")),
        ],
    ) {
        check_any(program, &message);
    }

    #[test]
    fn mutated_golden_lines_never_panic((program, message) in mutated_message()) {
        check_any(&program, &message);
    }
}
