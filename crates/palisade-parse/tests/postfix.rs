//! Postfix log parsing (`palisade_parse::postfix`): golden files and property tests.
//!
//! Golden files: `tests/golden/postfix/<name>.log` holds mail.log lines (lines starting with
//! `#` are comments); `<name>.jsonl` holds, line for line, the fields produced (`null` when the
//! line is not recognised). `PALISADE_BLESS=1 cargo test -p palisade-parse --test postfix
//! golden` rewrites the expected files; read every changed line before keeping it.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use palisade_event::{Event, Value};
use palisade_parse::ecs::MAX_TEXT_LEN;
use palisade_parse::postfix::{self, parse_program};
use proptest::prelude::*;
use regex::Regex;

/// The RFC 3164 header of a mail.log line: timestamp, host, program[pid].
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\w{3} +\d+ [\d:]+ \S+ (\S+?)(?:\[(\d+)\])?: ?(.*)$").expect("valid regex")
});

/// Splits a mail.log line into program, pid and message.
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

/// What every produced event must satisfy, whatever the input.
fn check_invariants(event: &Event, line: &str) {
    assert_eq!(event.get_str("event.dataset").as_deref(), Some(postfix::DATASET), "{line}");
    assert_eq!(event.get_str("event.kind").as_deref(), Some("event"), "{line}");
    let name = event.get_str("event.action").expect("event.action is set");
    let action = postfix::actions()
        .find(|action| action.name == name)
        .unwrap_or_else(|| panic!("action {name} is not in the catalogue: {line}"));
    assert_eq!(strings(event.get("event.category")), action.category, "{line}");
    assert_eq!(strings(event.get("event.type")), action.types, "{line}");
    assert_eq!(event.get_str("event.outcome").as_deref(), action.outcome, "{line}");
    assert!(event.get_str("process.name").is_some(), "{line}");
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
    if let Some(queue_id) = event.get_str("postfix.queue_id") {
        assert!(queue_id.bytes().all(|b| b.is_ascii_alphanumeric()), "{line}");
        assert_eq!(event.get_str("email.local_id"), Some(queue_id), "{line}");
    }
    for (field, value) in event.fields() {
        for text in strings(Some(value)) {
            assert!(text.len() <= MAX_TEXT_LEN, "{field} is not capped: {line}");
        }
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/postfix")
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

fn golden_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("golden input");
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
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
        let lines = golden_lines(input);
        n_lines += lines.len();
        let mut actual = Vec::with_capacity(lines.len());
        for line in &lines {
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
    assert!(n_lines >= 20, "{n_lines} golden lines");
    assert!(failures.is_empty(), "{} golden mismatches:\n{}", failures.len(), failures.join("\n"));
    // Every documented action has at least one golden line.
    let missing: Vec<&str> = postfix::actions()
        .map(|action| action.name)
        .filter(|name| !seen_actions.contains(*name))
        .collect();
    assert!(missing.is_empty(), "actions without a golden line: {missing:?}");
}

#[test]
fn catalogue_is_unique_snake_case_and_documented() {
    let module_doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/postfix.rs"))
            .expect("postfix.rs");
    let analyst_doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/parsers/postfix.md"),
    )
    .expect("docs/parsers/postfix.md");
    let mut names = BTreeSet::new();
    for action in postfix::actions() {
        assert!(names.insert(action.name), "duplicate action {}", action.name);
        assert!(
            action.name.bytes().all(|byte| byte.is_ascii_lowercase() || byte == b'_'),
            "{} is not snake_case",
            action.name
        );
        assert!(module_doc.contains(&format!("\"{}\"", action.name)), "{}", action.name);
        let row = format!("| `{}` |", action.name);
        assert!(analyst_doc.contains(&row), "{} is missing from postfix.md", action.name);
    }
}

#[test]
fn programs_other_than_postfix_are_refused() {
    let message = "connect from mail.example.com[192.0.2.5]";
    for program in ["postfix/smtpd", "postfix/submission/smtpd", "postfix-out/smtpd"] {
        let mut event = Event::new();
        assert!(parse_program(program, None, message, &mut event), "{program}");
    }
    for program in ["smtpd", "postfix", "sendmail/smtpd", "postfixadmin/x", "postfix/", ""] {
        let mut event = Event::new();
        assert!(!parse_program(program, None, message, &mut event), "{program}");
        assert!(event.is_empty());
    }
}

#[test]
fn long_fields_are_capped() {
    let recipient = "r".repeat(100_000);
    let message = format!(
        "4F2A81C0A2B: to=<{recipient}@example.org>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred ({recipient})"
    );
    let mut event = Event::new();
    assert!(parse_program("postfix/smtp", None, &message, &mut event));
    check_invariants(&event, "long");
    assert_eq!(event.get_str("email.to.address").map(|text| text.len()), Some(256));
    assert_eq!(event.get_str("postfix.response").map(|text| text.len()), Some(MAX_TEXT_LEN));
}

/// Messages of the golden files, the seeds of the mutation strategy.
static GOLDEN_MESSAGES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut messages = Vec::new();
    for path in golden_inputs() {
        for line in golden_lines(&path) {
            if let Some((program, _, message)) = split_header(&line) {
                messages.push((program.to_owned(), message.to_owned()));
            }
        }
    }
    messages.sort();
    messages
});

fn program_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "postfix/smtpd",
            "postfix/submission/smtpd",
            "postfix-out/smtp",
            "postfix/qmgr",
            "postfix/cleanup",
            "postfix/postscreen",
            "postfix/master",
            "sshd",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,24}",
    ]
}

/// Golden messages cut at a random point and with random text spliced in.
fn mutated_message() -> impl Strategy<Value = (String, String)> {
    (prop::sample::select(GOLDEN_MESSAGES.clone()), any::<prop::sample::Index>(), "\\PC{0,12}")
        .prop_map(|((program, message), index, splice)| {
            let mut at = index.index(message.len() + 1);
            while !message.is_char_boundary(at) {
                at -= 1;
            }
            let cut = if splice.is_empty() { &message[..at] } else { &message };
            let mut mutated = cut.to_owned();
            if !splice.is_empty() {
                mutated.insert_str(at, &splice);
            }
            (program, mutated)
        })
}

fn message_strategy() -> impl Strategy<Value = String> {
    let prefixes = vec![
        "connect from ",
        "disconnect from ",
        "lost connection after ",
        "NOQUEUE: reject: RCPT from ",
        "warning: ",
        "warning: unknown[",
        "4F2A81C0A2B: to=<",
        "4F2A81C0A2B: from=<",
        "4F2A81C0A2B: client=",
        "4F2A81C0A2B: reject: header ",
        "CONNECT from [",
        "PASS NEW [",
        "statistics: ",
        "Verified TLS connection established to ",
    ];
    prop_oneof![
        "\\PC{0,120}",
        (prop::sample::select(prefixes), "[ -~]{0,80}")
            .prop_map(|(prefix, tail)| format!("{prefix}{tail}")),
    ]
}

proptest! {
    #[test]
    fn arbitrary_lines_never_panic(
        program in program_strategy(),
        pid in any::<Option<u32>>(),
        message in message_strategy(),
    ) {
        let mut event = Event::new();
        if parse_program(&program, pid, &message, &mut event) {
            check_invariants(&event, &message);
        } else {
            prop_assert!(event.is_empty());
        }
    }

    #[test]
    fn mutated_golden_lines_never_panic((program, message) in mutated_message()) {
        let mut event = Event::new();
        if parse_program(&program, Some(7), &message, &mut event) {
            check_invariants(&event, &message);
        } else {
            prop_assert!(event.is_empty());
        }
    }
}
