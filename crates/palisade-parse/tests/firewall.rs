//! Firewall log parsing (`palisade_parse::firewall`): golden files and property tests.
//!
//! Golden files: `tests/golden/firewall/<name>.log` holds kern.log lines (lines starting with
//! `#` are comments); `<name>.jsonl` holds, line for line, the fields produced (`null` when the
//! line is not recognised). `PALISADE_BLESS=1 cargo test -p palisade-parse --test firewall
//! golden` rewrites the expected files; read every changed line before keeping it.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use palisade_event::{Event, Value};
use palisade_parse::firewall::{self, parse_program};
use proptest::prelude::*;
use regex::Regex;

/// The RFC 3164 header of a kern.log line: timestamp, host, program[pid].
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\w{3} +\d+ [\d:]+ \S+ (\S+?)(?:\[(\d+)\])?: ?(.*)$").expect("valid regex")
});

fn split_header(line: &str) -> Option<(&str, Option<u32>, &str)> {
    let captures = HEADER.captures(line)?;
    let program = captures.get(1)?.as_str();
    let pid = captures.get(2).and_then(|pid| pid.as_str().parse().ok());
    Some((program, pid, captures.get(3)?.as_str()))
}

fn parse_line(line: &str) -> Option<Event> {
    let (program, pid, message) = split_header(line)?;
    let mut event = Event::new();
    if parse_program(program, pid, message, &mut event) {
        check_invariants(&event, line);
        Some(event)
    } else {
        assert!(event.is_empty(), "unrecognised line changed the event: {line}");
        None
    }
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

fn is_ecs_mac(text: &str) -> bool {
    let octets: Vec<&str> = text.split('-').collect();
    octets.len() == 6
        && octets.iter().all(|octet| {
            octet.len() == 2
                && octet.bytes().all(|byte| byte.is_ascii_digit() || (b'A'..=b'F').contains(&byte))
        })
}

/// What every produced event must satisfy, whatever the input.
fn check_invariants(event: &Event, line: &str) {
    assert_eq!(event.get_str("event.dataset").as_deref(), Some(firewall::DATASET), "{line}");
    assert_eq!(event.get_str("event.kind").as_deref(), Some("event"), "{line}");
    assert_eq!(event.get_str("observer.type").as_deref(), Some("firewall"), "{line}");
    assert_eq!(strings(event.get("event.category")), ["network"], "{line}");
    let name = event.get_str("event.action").expect("event.action is set");
    let action = firewall::ACTIONS
        .iter()
        .find(|action| action.name == name)
        .unwrap_or_else(|| panic!("action {name} is not in the catalogue: {line}"));
    assert_eq!(strings(event.get("event.type")), action.types, "{line}");
    assert_eq!(event.get_str("event.outcome").as_deref(), action.outcome, "{line}");
    for field in ["source.ip", "destination.ip", "related.ip"] {
        for ip in strings(event.get(field)) {
            assert!(ip.parse::<IpAddr>().is_ok(), "{field} {ip:?} is not an IP: {line}");
        }
    }
    for field in ["source.port", "destination.port"] {
        if let Some(value) = event.get(field) {
            assert!(
                matches!(value, Value::Int(port) if (0..=65535).contains(port)),
                "{field} {value:?}: {line}"
            );
        }
    }
    for field in ["source.mac", "destination.mac"] {
        if let Some(mac) = event.get_str(field) {
            assert!(is_ecs_mac(&mac), "{field} {mac:?} is not in ECS form: {line}");
        }
    }
    if let Some(transport) = event.get_str("network.transport") {
        assert_eq!(transport, transport.to_lowercase(), "{line}");
    }
    if let Some(kind) = event.get_str("network.type") {
        assert!(kind == "ipv4" || kind == "ipv6" || kind == "arp", "{line}");
        if let Some(source) = event.get_str("source.ip") {
            assert_eq!(source.contains(':'), kind == "ipv6", "{line}");
        }
    }
    for (field, value) in event.fields() {
        for text in strings(Some(value)) {
            assert!(text.len() <= 8192, "{field} is not capped: {line}");
        }
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/firewall")
}

fn golden_lines() -> Vec<(PathBuf, Vec<String>)> {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    inputs.sort();
    inputs
        .into_iter()
        .map(|input| {
            let text = std::fs::read_to_string(&input).expect("golden input");
            let lines = text
                .lines()
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_owned)
                .collect();
            (input, lines)
        })
        .collect()
}

#[test]
fn golden() {
    let bless = std::env::var_os("PALISADE_BLESS").is_some();
    let mut seen_actions = BTreeSet::new();
    let mut failures = Vec::new();
    let mut n_lines = 0;
    for (input, lines) in golden_lines() {
        let mut actual = Vec::with_capacity(lines.len());
        for line in &lines {
            n_lines += 1;
            assert!(split_header(line).is_some(), "{}: no syslog header: {line}", input.display());
            let json = match parse_line(line) {
                Some(event) => {
                    if let Some(action) = event.get_str("event.action") {
                        seen_actions.insert(action.into_owned());
                    }
                    event.to_json().to_string()
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
    let missing: Vec<&str> = firewall::ACTIONS
        .iter()
        .map(|action| action.name)
        .filter(|name| !seen_actions.contains(*name))
        .collect();
    assert!(missing.is_empty(), "actions without a golden line: {missing:?}");
}

#[test]
fn actions_are_documented() {
    let module_doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/firewall.rs"))
            .expect("firewall.rs");
    let analyst_doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/parsers/firewall.md"),
    )
    .expect("docs/parsers/firewall.md");
    for action in firewall::ACTIONS {
        let row = format!("| `{}` |", action.name);
        assert!(module_doc.contains(&row), "{} is missing from firewall.rs", action.name);
        assert!(analyst_doc.contains(&row), "{} is missing from firewall.md", action.name);
    }
}

#[test]
fn empty_program_needs_the_shape() {
    let message = "[ 5.5] [UFW BLOCK] IN=eth0 OUT= SRC=2001:db8::7 DST=2001:db8::1 LEN=60 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=TCP SPT=1 DPT=22 WINDOW=1 RES=0x00 SYN URGP=0";
    let mut event = Event::new();
    assert!(parse_program("", None, message, &mut event));
    assert_eq!(event.get_str("network.type").as_deref(), Some("ipv6"));
    assert_eq!(event.get_str("destination.ip").as_deref(), Some("2001:db8::1"));
    assert_eq!(event.get("destination.port"), Some(&Value::Int(22)));
    let mut event = Event::new();
    assert!(!parse_program("", None, "IN the beginning OUT= there was nothing", &mut event));
    assert!(event.is_empty());
    assert!(!parse_program("sshd", None, message, &mut event));
    assert!(event.is_empty());
}

#[test]
fn long_values_are_capped() {
    let prefix = "x".repeat(100_000);
    let message = format!(
        "{prefix}: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=1 PROTO=UDP SPT=1 DPT=2 LEN=9 {}",
        "K=V ".repeat(10_000)
    );
    let mut event = Event::new();
    assert!(parse_program("kernel", None, &message, &mut event));
    check_invariants(&event, "long");
    assert_eq!(event.get_str("rule.name").map(|name| name.len()), Some(256));
    assert!(event.len() < 100, "{} fields", event.len());
}

/// Messages of the golden files, the seeds of the mutation strategy.
static GOLDEN_MESSAGES: LazyLock<Vec<String>> = LazyLock::new(|| {
    golden_lines()
        .into_iter()
        .flat_map(|(_, lines)| lines)
        .filter_map(|line| split_header(&line).map(|(_, _, message)| message.to_owned()))
        .collect()
});

fn mutated_message() -> impl Strategy<Value = String> {
    (prop::sample::select(GOLDEN_MESSAGES.clone()), any::<prop::sample::Index>(), "\\PC{0,12}")
        .prop_map(|(message, index, splice)| {
            let mut at = index.index(message.len() + 1);
            while !message.is_char_boundary(at) {
                at -= 1;
            }
            let mut mutated = if splice.is_empty() { message[..at].to_owned() } else { message };
            if !splice.is_empty() {
                mutated.insert_str(at, &splice);
            }
            mutated
        })
}

fn message_strategy() -> impl Strategy<Value = String> {
    let words = vec![
        "IN=eth0",
        "OUT=",
        "OUT=eth1",
        "MAC=",
        "SRC=192.0.2.1",
        "DST=2001:db8::1",
        "LEN=1",
        "PROTO=TCP",
        "PROTO=ICMP",
        "PROTO=ICMPv6",
        "PROTO=UDP",
        "PROTO=255",
        "SPT=70000",
        "DPT=22",
        "TYPE=3",
        "[SRC=",
        "]",
        "[",
        "OPT",
        "(",
        ")",
        "INCOMPLETE",
        "[4",
        "bytes]",
        "FRAG:8",
        "ARP",
        "IPSRC=x",
        "[UFW",
        "BLOCK]",
        "SYN",
        "DF",
        "=",
        "==",
        "é",
    ];
    prop_oneof![
        "\\PC{0,160}",
        prop::collection::vec(prop::sample::select(words), 0..40).prop_map(|words| words.join(" ")),
    ]
}

proptest! {
    #[test]
    fn arbitrary_messages_never_panic(
        program in prop::sample::select(vec!["kernel", "", "ufw", "Kernel"]),
        message in message_strategy(),
    ) {
        let mut event = Event::new();
        if parse_program(program, None, &message, &mut event) {
            check_invariants(&event, &message);
        } else {
            prop_assert!(event.is_empty());
        }
    }

    #[test]
    fn mutated_golden_lines_never_panic(message in mutated_message()) {
        let mut event = Event::new();
        if parse_program("kernel", Some(0), &message, &mut event) {
            check_invariants(&event, &message);
        } else {
            prop_assert!(event.is_empty());
        }
    }
}
