//! DHCP log parsing (`palisade_parse::dhcp`): golden files and property tests.
//!
//! Golden files: `tests/golden/dhcp/*.log` hold syslog lines (lines starting with `#` are
//! comments) whose message goes to `dhcp::parse_program`; `<name>.jsonl` holds, line for
//! line, the fields produced (`null` when the line is not recognised). `PALISADE_BLESS=1
//! cargo test -p palisade-parse --test dhcp` rewrites the expected files; read every changed
//! line before keeping it.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use palisade_event::{Event, Value};
use palisade_parse::dhcp::{self, parse_program};
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
        dataset == dhcp::DATASET_DHCPD || dataset == dhcp::DATASET_DNSMASQ,
        "dataset {dataset}: {line}"
    );
    assert_eq!(event.get_str("event.kind").as_deref(), Some("event"), "{line}");
    let protocol = event.get_str("network.protocol").expect("network.protocol");
    assert!(protocol == "dhcp" || protocol == "dhcpv6", "{line}");
    let name = event.get_str("event.action").expect("event.action is set");
    let action = dhcp::actions()
        .find(|action| action.name == name)
        .unwrap_or_else(|| panic!("action {name} is not in the catalogue: {line}"));
    assert_eq!(strings(event.get("event.category")), action.category, "{line}");
    assert_eq!(strings(event.get("event.type")), action.types, "{line}");
    assert_eq!(event.get_str("event.outcome").as_deref(), action.outcome, "{line}");
    for (field, value) in event.fields() {
        if field.ends_with(".ip") || field.ends_with("_address") || field == "related.ip" {
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
    // MACs in ECS form: six or eight upper-case hex octets joined by hyphens.
    if let Some(mac) = event.get_str("client.mac") {
        let octets: Vec<&str> = mac.split('-').collect();
        assert!(octets.len() == 6 || octets.len() == 8, "client.mac {mac}: {line}");
        assert!(
            octets.iter().all(|octet| octet.len() == 2
                && octet.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))),
            "client.mac {mac}: {line}"
        );
    }
    if let Some(duid) = event.get_str("dhcp.client.duid") {
        assert!(!duid.contains(' '), "dhcp.client.duid {duid}: {line}");
    }
}

/// Parses one golden syslog line.
fn parse_golden(line: &str) -> Option<Event> {
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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/dhcp")
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
        let mut actual = Vec::with_capacity(lines.len());
        for line in &lines {
            let json = match parse_golden(line) {
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
    let missing: Vec<&str> = dhcp::actions()
        .map(|action| action.name)
        .filter(|name| !seen_actions.contains(*name))
        .collect();
    assert!(missing.is_empty(), "actions without a golden line: {missing:?}");
}

#[test]
fn catalogue_is_unique_snake_case_documented_and_its_examples_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let module_doc = std::fs::read_to_string(root.join("src/dhcp/mod.rs")).expect("mod.rs");
    let analyst_doc =
        std::fs::read_to_string(root.join("../../docs/parsers/dhcp.md")).expect("dhcp.md");
    let mut names = BTreeSet::new();
    for action in dhcp::actions() {
        let (program, message) = action.example;
        let mut event = Event::new();
        assert!(parse_program(program, None, message, &mut event), "{message}");
        check_invariants(&event, message);
        assert!(names.insert(action.name), "duplicate action {}", action.name);
        assert!(
            action
                .name
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_'),
            "{} is not snake_case",
            action.name
        );
        let row = format!("| `{}` |", action.name);
        assert!(module_doc.contains(&row), "{} is missing from the table in mod.rs", action.name);
        assert!(analyst_doc.contains(&row), "{} is missing from dhcp.md", action.name);
    }
}

#[test]
fn client_identity_is_exact() {
    let mut event = Event::new();
    let message = "DHCPACK on 192.0.2.50 to 0:c:29:AB:cd:ef (my laptop) via 198.51.100.1";
    assert!(parse_program("dhcpd", None, message, &mut event));
    assert_eq!(event.get_str("client.mac").as_deref(), Some("00-0C-29-AB-CD-EF"));
    assert_eq!(event.get_str("client.domain").as_deref(), Some("my laptop"));
    assert_eq!(event.get_str("dhcp.relay.ip").as_deref(), Some("198.51.100.1"));
    assert!(event.get("observer.ingress.interface.name").is_none());
    let host = "h".repeat(10_000);
    let message = format!("DHCPACK on 192.0.2.50 to 00:11:22:33:44:55 ({host}) via eth0");
    let mut event = Event::new();
    assert!(parse_program("dhcpd", None, &message, &mut event));
    assert_eq!(event.get_str("client.domain").map(|name| name.len()), Some(256));
}

/// Messages of the golden files, the seeds of the mutation strategy.
static GOLDEN_MESSAGES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut messages = Vec::new();
    for input in golden_inputs() {
        let text = std::fs::read_to_string(&input).expect("golden input");
        for line in golden_lines(&text) {
            if let Some((program, _, message)) = split_header(line) {
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
    for program in [program, "dhcpd", "dnsmasq-dhcp", "dnsmasq"] {
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
        program in prop::sample::select(vec!["dhcpd", "dnsmasq", "dnsmasq-dhcp", "named"]),
        message in prop_oneof![
            "\\PC{0,160}",
            (prop::sample::select(vec![
                "DHCPDISCOVER from ",
                "DHCPREQUEST for 192.0.2.1 (",
                "DHCPACK on 192.0.2.1 to 00:11:22:33:44:55 (",
                "DHCPACK to ",
                "DHCPRELEASE of 192.0.2.1 from ",
                "uid lease ",
                "Reply NA: address ",
                "Solicit message from ",
                "Sending Reply to ",
                "DHCPACK(eth0) ",
                "123 DHCPREPLY(eth0) ",
                "123 tags: ",
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
