//! Linux auth-log parsing (`palisade_parse::linux`): golden files, the loghub corpora and
//! property tests.
//!
//! Golden files: `tests/golden/linux/<program>.log` holds auth.log lines (lines starting with
//! `#` are comments); `<program>.jsonl` holds, line for line, the fields produced (`null` when
//! the line is not recognised). `PALISADE_BLESS=1 cargo test -p palisade-parse --test
//! linux_auth golden` rewrites the expected files; read every changed line before keeping it.
//!
//! The corpus tests read `shared/corpus/logs/loghub` next to the checkout and are skipped when
//! it is absent: the product never needs it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use palisade_event::{Event, Value};
use palisade_parse::linux::{self, parse_auth};
use proptest::prelude::*;
use regex::Regex;

/// The RFC 3164 header of an auth.log line: timestamp, host, program[pid].
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\w{3} +\d+ [\d:]+ \S+ (\S+?)(?:\[(\d+)\])?: ?(.*)$").expect("valid regex")
});

/// Splits an auth.log line into program, pid and message.
fn split_header(line: &str) -> Option<(&str, Option<u32>, &str)> {
    let captures = HEADER.captures(line)?;
    let program = captures.get(1)?.as_str();
    let pid = captures.get(2).and_then(|pid| pid.as_str().parse().ok());
    Some((program, pid, captures.get(3)?.as_str()))
}

fn parse_line(line: &str) -> Option<Event> {
    let (program, pid, message) = split_header(line)?;
    let mut event = Event::new();
    if parse_auth(program, pid, message, &mut event) {
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
    assert_eq!(event.get_str("event.dataset").as_deref(), Some(linux::DATASET), "{line}");
    assert_eq!(event.get_str("event.kind").as_deref(), Some("event"), "{line}");
    let name = event.get_str("event.action").expect("event.action is set");
    let action = linux::actions()
        .find(|action| action.name == name)
        .unwrap_or_else(|| panic!("action {name} is not in the catalogue: {line}"));
    assert_eq!(strings(event.get("event.category")), action.category, "{line}");
    assert_eq!(strings(event.get("event.type")), action.types, "{line}");
    assert_eq!(event.get_str("event.outcome").as_deref(), action.outcome, "{line}");
    for field in ["source.ip", "server.ip", "destination.ip", "related.ip"] {
        for ip in strings(event.get(field)) {
            assert!(ip.parse::<IpAddr>().is_ok(), "{field} {ip:?} is not an IP: {line}");
        }
    }
    for field in ["source.port", "server.port", "destination.port"] {
        if let Some(value) = event.get(field) {
            assert!(
                matches!(value, Value::Int(port) if (0..=65535).contains(port)),
                "{field} {value:?}: {line}"
            );
        }
    }
    for (field, value) in event.fields() {
        for text in strings(Some(value)) {
            assert!(text.len() <= linux::MAX_COMMAND_LEN, "{field} is not capped: {line}");
        }
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/linux")
}

#[test]
fn golden() {
    let bless = std::env::var_os("PALISADE_BLESS").is_some();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no golden inputs");
    let mut seen_actions = BTreeSet::new();
    let mut failures = Vec::new();
    for input in &inputs {
        let text = std::fs::read_to_string(input).expect("golden input");
        let lines: Vec<&str> =
            text.lines().filter(|line| !line.is_empty() && !line.starts_with('#')).collect();
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
    assert!(failures.is_empty(), "{} golden mismatches:\n{}", failures.len(), failures.join("\n"));
    // Every documented action has at least one golden line.
    let missing: Vec<&str> = linux::actions()
        .map(|action| action.name)
        .filter(|name| !seen_actions.contains(*name))
        .collect();
    assert!(missing.is_empty(), "actions without a golden line: {missing:?}");
}

#[test]
fn each_golden_file_has_twenty_lines() {
    for program in ["sshd", "pam", "sudo", "su", "cron", "logind"] {
        let path = golden_dir().join(format!("{program}.log"));
        let text = std::fs::read_to_string(&path).expect("golden input");
        let n_lines =
            text.lines().filter(|line| !line.is_empty() && !line.starts_with('#')).count();
        assert!(n_lines >= 20, "{} has {n_lines} lines", path.display());
    }
}

#[test]
fn catalogue_is_unique_snake_case_and_documented() {
    let module_doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/linux/mod.rs"))
            .expect("mod.rs");
    let analyst_doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/parsers/linux-auth.md"),
    )
    .expect("docs/parsers/linux-auth.md");
    let mut names = BTreeSet::new();
    for action in linux::actions() {
        assert!(names.insert(action.name), "duplicate action {}", action.name);
        assert!(
            action.name.bytes().all(|byte| byte.is_ascii_lowercase() || byte == b'_'),
            "{} is not snake_case",
            action.name
        );
        let row = format!("| `{}` |", action.name);
        assert!(module_doc.contains(&row), "{} is missing from the table in mod.rs", action.name);
        assert!(analyst_doc.contains(&row), "{} is missing from linux-auth.md", action.name);
    }
}

/// Reads a loghub sample next to the checkout, or `None` (the test is then skipped).
fn corpus(relative: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/logs/loghub")
        .join(relative);
    std::fs::read_to_string(path).ok()
}

/// The shape of a message for the coverage report: digits folded, cut short.
fn shape(line: &str) -> String {
    let message = split_header(line).map_or(line, |(_, _, message)| message);
    let mut shape = String::new();
    for ch in message.chars().take(70) {
        if ch.is_ascii_digit() {
            if !shape.ends_with('N') {
                shape.push('N');
            }
        } else {
            shape.push(ch);
        }
    }
    shape
}

struct Coverage {
    n_lines: usize,
    n_recognised: usize,
    actions: BTreeMap<String, usize>,
    missed: BTreeMap<String, usize>,
}

fn coverage(text: &str, only: impl Fn(&str) -> bool) -> Coverage {
    let mut report =
        Coverage { n_lines: 0, n_recognised: 0, actions: BTreeMap::new(), missed: BTreeMap::new() };
    for line in text.lines().filter(|line| only(line)) {
        report.n_lines += 1;
        match parse_line(line) {
            Some(event) => {
                report.n_recognised += 1;
                let action = event.get_str("event.action").unwrap_or_default().into_owned();
                *report.actions.entry(action).or_default() += 1;
            }
            None => *report.missed.entry(shape(line)).or_default() += 1,
        }
    }
    eprintln!(
        "recognised {}/{} ({:.1}%); actions {:?}; unrecognised shapes {:?}",
        report.n_recognised,
        report.n_lines,
        100.0 * report.n_recognised as f64 / report.n_lines.max(1) as f64,
        report.actions,
        report.missed
    );
    report
}

#[test]
fn openssh_corpus() {
    let Some(text) = corpus("OpenSSH/OpenSSH_2k.log") else {
        eprintln!("loghub OpenSSH corpus not found: skipped");
        return;
    };
    let report = coverage(&text, |_| true);
    assert_eq!(report.n_lines, 2000);
    // Measured: every line is recognised. Keep the floor at 100%: a new miss is a regression.
    assert_eq!(report.n_recognised, report.n_lines, "missed: {:?}", report.missed);
    // Cross-checks against plain substring counts of the same file.
    let count = |needle: &str| text.lines().filter(|line| line.contains(needle)).count();
    assert_eq!(report.actions["ssh_failed_password"], count("Failed password for"));
    assert_eq!(report.actions["ssh_login"], count("Accepted "));
    assert_eq!(report.actions["pam_auth_failure"], count("): authentication failure;"));
    assert_eq!(
        report.actions["ssh_invalid_user"],
        count("Invalid user ") + count("input_userauth_request: invalid user")
    );
}

#[test]
fn linux_corpus() {
    let Some(text) = corpus("Linux/Linux_2k.log") else {
        eprintln!("loghub Linux corpus not found: skipped");
        return;
    };
    // The sample mixes auth lines with ftpd, kernel, klogind (Kerberos)...: the auth lines
    // are those of PAM modules and of the programs this parser knows.
    let is_auth = |line: &str| {
        split_header(line).is_some_and(|(program, _, _)| {
            program.contains("(pam_")
                || ["sshd", "sudo", "su", "CRON", "crond", "systemd-logind"].contains(&program)
        })
    };
    let auth = coverage(&text, is_auth);
    assert_eq!(auth.n_lines, 853);
    assert_eq!(auth.n_recognised, auth.n_lines, "missed: {:?}", auth.missed);
    let all = coverage(&text, |_| true);
    assert_eq!(all.n_recognised, auth.n_recognised, "a non-auth line was recognised");
}

/// Messages of the golden files, the seeds of the mutation strategy.
static GOLDEN_MESSAGES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut messages = Vec::new();
    for entry in std::fs::read_dir(golden_dir()).expect("golden directory") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_none_or(|ext| ext != "log") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("golden input");
        for line in text.lines() {
            if let Some((program, _, message)) = split_header(line) {
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
            "sshd",
            "sshd-session",
            "sudo",
            "su",
            "CRON",
            "crond",
            "crontab",
            "systemd-logind",
            "sshd(pam_unix)",
            "su(pam_unix)",
            "login",
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
        "Accepted password for ",
        "Failed password for invalid user ",
        "Invalid user ",
        "Connection closed by ",
        "Disconnected from user ",
        "Received disconnect from ",
        "Disconnecting ",
        "pam_unix(sshd:auth): authentication failure; ",
        "pam_unix(sudo:session): session opened for user ",
        "PAM 2 more authentication failures; ",
        "message repeated 3 times: [ ",
        "alice : TTY=pts/0 ; ",
        "(root) CMD (",
        "(to root) ",
        "New session ",
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
        if parse_auth(&program, pid, &message, &mut event) {
            check_invariants(&event, &message);
        } else {
            prop_assert!(event.is_empty());
        }
    }

    #[test]
    fn mutated_golden_lines_never_panic((program, message) in mutated_message()) {
        let mut event = Event::new();
        if parse_auth(&program, Some(7), &message, &mut event) {
            check_invariants(&event, &message);
        } else {
            prop_assert!(event.is_empty());
        }
    }
}

#[test]
fn long_fields_are_capped() {
    let command = "x".repeat(100_000);
    let message = format!("alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/echo {command}");
    let mut event = Event::new();
    assert!(parse_auth("sudo", None, &message, &mut event));
    let kept = event.get_str("process.command_line").expect("command line");
    assert_eq!(kept.len(), linux::MAX_COMMAND_LEN);
    let user = "u".repeat(10_000);
    let message = format!("Invalid user {user} from 192.0.2.1 port 22");
    let mut event = Event::new();
    assert!(parse_auth("sshd", None, &message, &mut event));
    assert_eq!(event.get_str("user.name").map(|name| name.len()), Some(linux::MAX_NAME_LEN));
}

#[test]
fn spoofed_user_names_do_not_move_the_source() {
    // The user name is the client's; the address is the one at the end of the line.
    let message = "Failed password for invalid user x from 10.9.9.9 port 1 ssh2 from 192.0.2.7 port 4242 ssh2";
    let mut event = Event::new();
    assert!(parse_auth("sshd", None, message, &mut event));
    assert_eq!(event.get_str("source.ip").as_deref(), Some("192.0.2.7"));
    assert_eq!(event.get("source.port"), Some(&Value::Int(4242)));
    assert_eq!(event.get_str("user.name").as_deref(), Some("x from 10.9.9.9 port 1 ssh2"));
}
