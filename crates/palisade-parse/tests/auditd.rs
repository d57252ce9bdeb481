//! Linux audit parsing (`palisade_parse::auditd`): golden files and property tests.
//!
//! Golden files: `tests/golden/auditd/audit.log` holds native audit.log lines (read with
//! `parse_line`), `syslog.log` holds syslog lines whose message is an audit record (read with
//! `parse_program`); lines starting with `#` are comments. `<name>.jsonl` holds, line for line,
//! the fields produced (`null` when the line is not recognised), with `@timestamp` for the
//! event time. `PALISADE_BLESS=1 cargo test -p palisade-parse --test auditd golden` rewrites
//! the expected files; read every changed line before keeping it.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use palisade_event::{Event, Value};
use palisade_parse::auditd::{self, RECORD_TYPES, parse_line, parse_program};
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

fn parse_syslog(line: &str) -> Option<Event> {
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

fn parse_native(line: &str) -> Option<Event> {
    let event = parse_line(line)?;
    check_invariants(&event, line);
    assert_eq!(event.get_str("event.original").as_deref(), Some(line));
    Some(event)
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
    assert_eq!(event.get_str("event.dataset").as_deref(), Some(auditd::DATASET), "{line}");
    assert_eq!(event.get_str("event.kind").as_deref(), Some("event"), "{line}");
    let action = event.get_str("event.action").expect("event.action is set");
    assert!(
        !action.is_empty()
            && action
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_'),
        "{action:?} is not snake_case: {line}"
    );
    let record_type = event.get_str("auditd.log.record_type").expect("record type");
    assert_eq!(auditd::action_for(&record_type), action, "{line}");
    if let Some(known) = RECORD_TYPES.iter().find(|known| known.name == record_type) {
        assert_eq!(strings(event.get("event.category")), known.category, "{line}");
        let kinds = strings(event.get("event.type"));
        let overridden = known.category == ["intrusion_detection"]
            && (kinds == ["denied"] || kinds == ["allowed"]);
        assert!(overridden || kinds == known.types, "{kinds:?}: {line}");
    }
    if let Some(outcome) = event.get_str("event.outcome") {
        assert!(outcome == "success" || outcome == "failure", "{line}");
    }
    for field in ["source.ip", "related.ip"] {
        for ip in strings(event.get(field)) {
            assert!(ip.parse::<IpAddr>().is_ok(), "{field} {ip:?} is not an IP: {line}");
        }
    }
    for field in ["process.pid", "process.parent.pid", "auditd.log.sequence"] {
        if let Some(value) = event.get(field) {
            assert!(matches!(value, Value::Int(number) if *number >= 0), "{field}: {line}");
        }
    }
    if let Some(audit_id) = event.get_str("user.audit.id") {
        assert_ne!(audit_id, "4294967295", "{line}");
    }
    for (field, value) in event.fields() {
        if field == "event.original" {
            continue;
        }
        assert!(!field.contains(' '), "{field:?}: {line}");
        for text in strings(Some(value)) {
            assert!(text.len() <= 8192, "{field} is not capped: {line}");
            assert!(text != "?" && text != "(null)", "{field} keeps a null marker: {line}");
        }
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/auditd")
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

fn is_syslog_file(path: &Path) -> bool {
    path.file_stem().is_some_and(|stem| stem.to_string_lossy().starts_with("syslog"))
}

fn render(event: &Event) -> String {
    let mut json = event.to_json();
    if let (Some(object), Some(time)) = (json.as_object_mut(), event.timestamp()) {
        object.insert("@timestamp".to_owned(), serde_json::Value::from(time.to_string()));
    }
    json.to_string()
}

#[test]
fn golden() {
    let bless = std::env::var_os("PALISADE_BLESS").is_some();
    let mut seen_actions = BTreeSet::new();
    let mut failures = Vec::new();
    let mut n_lines = 0;
    for (input, lines) in golden_lines() {
        let syslog = is_syslog_file(&input);
        let mut actual = Vec::with_capacity(lines.len());
        for line in &lines {
            n_lines += 1;
            let event = if syslog { parse_syslog(line) } else { parse_native(line) };
            let json = match event {
                Some(event) => {
                    if let Some(action) = event.get_str("event.action") {
                        seen_actions.insert(action.into_owned());
                    }
                    render(&event)
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
    // The record types the brief calls common all have a golden line.
    for action in [
        "syscall",
        "execve",
        "path",
        "cwd",
        "proctitle",
        "user_auth",
        "user_acct",
        "user_login",
        "user_start",
        "user_end",
        "cred_acq",
        "cred_disp",
        "user_cmd",
        "user_chauthtok",
        "add_user",
        "del_user",
        "add_group",
        "user_mgmt",
        "avc",
        "selinux_err",
        "anom_abend",
        "anom_promiscuous",
        "service_start",
        "service_stop",
        "daemon_start",
        "config_change",
        "login",
        "seccomp",
        "netfilter_cfg",
        "bpf",
        "tty",
        "kern_module",
    ] {
        assert!(seen_actions.contains(action), "no golden line for {action}");
    }
}

#[test]
fn catalogue_is_unique_snake_case_and_documented() {
    let analyst_doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/parsers/auditd.md"),
    )
    .expect("docs/parsers/auditd.md");
    let mut names = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for known in RECORD_TYPES {
        assert!(names.insert(known.name), "duplicate type {}", known.name);
        assert!(numbers.insert(known.number), "duplicate number {}", known.number);
        assert_eq!(auditd::action_for(known.name), known.action);
        assert_eq!(known.action, known.name.to_ascii_lowercase(), "{}", known.name);
        let row = format!("| `{}` |", known.action);
        assert!(analyst_doc.contains(&row), "{} is missing from auditd.md", known.action);
    }
}

#[test]
fn unrecognised_programs_leave_the_event_alone() {
    let message = "type=USER_LOGIN msg=audit(1700000000.200:470): pid=1 res=failed";
    let mut event = Event::new();
    assert!(!parse_program("sshd", None, message, &mut event));
    assert!(!parse_program("kernel", None, message, &mut event));
    assert!(event.is_empty());
    assert!(parse_program("audisp-syslog", None, message, &mut event));
    assert_eq!(
        event.timestamp().map(|time| time.to_string()).as_deref(),
        Some("2023-11-14T22:13:20.2Z")
    );
}

#[test]
fn long_values_are_capped() {
    let arg = "A".repeat(100_000);
    let line = format!(
        "type=EXECVE msg=audit(1.000:1): argc=3 a0=\"x\" a1=\"{arg}\" a2=\"y\" {}",
        "k=v ".repeat(5_000)
    );
    let event = parse_native(&line).expect("event");
    let args = strings(event.get("process.args"));
    assert_eq!(args.len(), 3);
    assert_eq!(args.get(1).map(String::len), Some(8192));
    assert!(event.len() < 1_000, "{} fields", event.len());
    let title = format!("type=PROCTITLE msg=audit(1.000:1): proctitle={}", "41".repeat(50_000));
    let event = parse_native(&title).expect("event");
    assert_eq!(event.get_str("process.title").map(|title| title.len()), Some(8192));
}

/// Lines of the golden files, the seeds of the mutation strategy.
static GOLDEN: LazyLock<Vec<String>> =
    LazyLock::new(|| golden_lines().into_iter().flat_map(|(_, lines)| lines).collect());

fn mutated_line() -> impl Strategy<Value = String> {
    (prop::sample::select(GOLDEN.clone()), any::<prop::sample::Index>(), "\\PC{0,12}").prop_map(
        |(line, index, splice)| {
            let mut at = index.index(line.len() + 1);
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            let mut mutated = if splice.is_empty() { line[..at].to_owned() } else { line };
            if !splice.is_empty() {
                mutated.insert_str(at, &splice);
            }
            mutated
        },
    )
}

fn line_strategy() -> impl Strategy<Value = String> {
    let words = vec![
        "type=SYSCALL",
        "type=EXECVE",
        "type=1400",
        "msg=audit(1.2:3):",
        "audit(",
        "node=x",
        "msg='",
        "'",
        "\"",
        "a0=41",
        "a1[0]=",
        "a1[1]=42",
        "argc=9",
        "avc:",
        "denied",
        "{",
        "}",
        "for",
        "key=(null)",
        "?",
        "=",
        "\u{1d}",
        "UID=\"r\"",
        "ID=",
        "acct=",
        "addr=::1",
        "hostname=example.com",
        "proctitle=4100",
        "name=2F",
        "é",
        "res=failed",
        "success=yes",
    ];
    prop_oneof![
        "\\PC{0,160}",
        prop::collection::vec(prop::sample::select(words), 0..40).prop_map(|words| words.join(" ")),
        prop::collection::vec(prop::sample::select(vec!["type=X msg=audit(1.2:3): "]), 1..2)
            .prop_flat_map(
                |head| ("[ -~\u{1d}]{0,120}").prop_map(move |tail| format!("{}{tail}", head[0]))
            ),
    ]
}

proptest! {
    #[test]
    fn arbitrary_lines_never_panic(line in line_strategy()) {
        if let Some(event) = parse_line(&line) {
            check_invariants(&event, &line);
        }
        for program in ["audit", "auditd", "audisp-syslog", "kernel", "sshd"] {
            let mut event = Event::new();
            if parse_program(program, Some(1), &line, &mut event) {
                check_invariants(&event, &line);
            } else {
                prop_assert!(event.is_empty());
            }
        }
    }

    #[test]
    fn mutated_golden_lines_never_panic(line in mutated_line()) {
        if let Some(event) = parse_line(&line) {
            check_invariants(&event, &line);
        }
        let message = split_header(&line).map_or(line.as_str(), |(_, _, message)| message);
        for program in ["audit", "kernel", "audisp-syslog"] {
            let mut event = Event::new();
            if parse_program(program, None, message, &mut event) {
                check_invariants(&event, &line);
            } else {
                prop_assert!(event.is_empty());
            }
        }
    }
}
