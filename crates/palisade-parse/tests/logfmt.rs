//! logfmt parsing (`palisade_parse::logfmt`): golden files and property tests.
//!
//! Golden files: `tests/golden/logfmt/<case>.log` holds logfmt lines (lines starting with `#`
//! are comments); `<case>.jsonl` holds, line for line, the fields produced with the event time
//! as `@timestamp` (`null` when the line is not logfmt). `PALISADE_BLESS=1 cargo test -p
//! palisade-parse --test logfmt golden` rewrites the expected files; read every changed line
//! before keeping it.

use std::path::{Path, PathBuf};

use palisade_event::{Event, Value};
use palisade_parse::ecs::{MAX_NAME_LEN, MAX_TEXT_LEN};
use palisade_parse::logfmt::{MAX_PAIRS, parse_line};
use proptest::prelude::*;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/logfmt")
}

fn event_json(event: &Event) -> serde_json::Value {
    let mut json = event.to_json();
    if let (Some(object), Some(timestamp)) = (json.as_object_mut(), event.timestamp()) {
        object.insert("@timestamp".to_owned(), timestamp.to_string().into());
    }
    json
}

/// What every event must satisfy, whatever the input.
fn check_invariants(event: &Event, line: &str) {
    assert!(event.get("event.dataset").is_none(), "event.dataset is the caller's: {line}");
    assert!(event.get_str("event.original").is_some(), "{line}");
    if let Some(value) = event.get("log.origin.file.line") {
        assert!(matches!(value, Value::Int(_)), "{line}");
    }
    for (name, value) in event.fields() {
        assert!(!name.is_empty() && name.len() <= MAX_NAME_LEN, "{name}: {line}");
        if name != "event.original" {
            let texts: Vec<&Value> = match value {
                Value::List(items) => items.iter().collect(),
                other => vec![other],
            };
            for text in texts {
                if let Value::Str(text) = text {
                    assert!(text.as_str().len() <= MAX_TEXT_LEN, "{name} not capped: {line}");
                }
            }
        }
    }
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
    let mut n_lines = 0;
    let mut failures = Vec::new();
    for input in &inputs {
        let text = std::fs::read_to_string(input).expect("golden input");
        let lines: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
        n_lines += lines.len();
        let actual: Vec<String> = lines
            .iter()
            .map(|line| match parse_line(line) {
                Some(event) => {
                    check_invariants(&event, line);
                    event_json(&event).to_string()
                }
                None => "null".to_owned(),
            })
            .collect();
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
    assert!(n_lines >= 20, "only {n_lines} golden lines");
}

#[test]
fn duplicate_keys_become_lists_in_order() {
    let event = parse_line("a=1 b=2 a=3 a=\"4 5\"").expect("logfmt");
    assert_eq!(
        event.get("a"),
        Some(&Value::List(vec![Value::from("1"), Value::from("3"), Value::from("4 5")]))
    );
}

#[test]
fn ecs_names_written_by_the_source_are_kept() {
    let event = parse_line("message=original msg=other level=info").expect("logfmt");
    assert_eq!(event.get_str("message").as_deref(), Some("original"));
    assert_eq!(event.get_str("msg").as_deref(), Some("other"));
}

#[test]
fn many_pairs_and_long_values_are_bounded() {
    let line: String = (0..2000).map(|idx| format!("k{idx}=v ")).collect();
    let event = parse_line(&line).expect("logfmt");
    assert_eq!(event.get("logfmt.dropped_pairs"), Some(&Value::Int(2000 - MAX_PAIRS as i64)));
    assert!(event.get("k511").is_some() && event.get("k512").is_none());
    let long = format!("level=info msg=\"{}\" {}=x", "é".repeat(20_000), "k".repeat(1000));
    let event = parse_line(&long).expect("logfmt");
    check_invariants(&event, "long");
    assert!(event.get_str("message").is_some_and(|m| m.len() <= MAX_TEXT_LEN));
}

fn line_strategy() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "ts=2024-05-01T10:00:00Z",
        "level=info",
        "msg=\"a \\\"b\\\" c\"",
        "caller=x.go:1",
        "flag",
        "k=",
        "=",
        "\"",
        "\\",
        "t=1714557600123",
        "err=\"open",
        "é=ü",
    ]);
    prop_oneof![
        "\\PC{0,200}",
        prop::collection::vec((atoms, "[ \t]{0,2}"), 0..12).prop_map(|parts| {
            parts.into_iter().map(|(atom, space)| format!("{atom}{space}")).collect::<String>()
        }),
    ]
}

proptest! {
    #[test]
    fn arbitrary_lines_never_panic(line in line_strategy()) {
        if let Some(event) = parse_line(&line) {
            check_invariants(&event, &line);
        }
    }
}
