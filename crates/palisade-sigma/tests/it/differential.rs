//! Differential test against pySigma, the reference implementation.
//!
//! `tools/differential/pysigma_cases.py` (run by `.ci/run` before the tests) converts each
//! selected rule with pySigma's SQLite backend, runs the SQL over events made for that rule,
//! and records which events SQLite returned. Here the same rule runs in raw mode (no field
//! mapping, no logsource filter) over the same events, and every verdict is compared.
//!
//! A disagreement is allowed only where the harness flagged the event as a place where the
//! SQL deviates from the Sigma specification (a note `event N: ...`); the deviations are listed
//! with the specification's text in `docs/sigma-conformance.md`.

use std::path::PathBuf;

use palisade_sigma::{Loader, Mapping};

fn cases_path() -> PathBuf {
    std::env::var_os("PALISADE_DIFFERENTIAL_CASES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/differential/cases.jsonl"),
        PathBuf::from,
    )
}

#[derive(serde::Deserialize)]
struct Case {
    path: String,
    yaml: String,
    events: Vec<serde_json::Value>,
    matches: Vec<usize>,
    notes: Vec<String>,
}

#[test]
fn engine_agrees_with_pysigma() {
    let path = cases_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "differential cases missing at {}; .ci/run generates them",
            path.display()
        );
        eprintln!(
            "\n!!! SKIPPED: no pySigma differential cases at {} (run tools/differential/pysigma_cases.py) !!!\n",
            path.display()
        );
        return;
    };
    let loader = Loader::new(Mapping::default());
    let mut rules = 0;
    let mut events = 0;
    let mut agreed = 0;
    let mut known_deviations = Vec::new();
    let mut failures = Vec::new();
    for line in text.lines() {
        let case: Case = serde_json::from_str(line).expect("valid case line");
        let set = loader.load(&[(PathBuf::from(&case.path), case.yaml.clone())]);
        if set.rules().len() != 1 {
            failures.push(format!(
                "{}: pySigma converts it but we do not load it: {:?}",
                case.path,
                set.diagnostics()
            ));
            continue;
        }
        rules += 1;
        let mut scratch = set.scratch();
        for (idx, document) in case.events.iter().enumerate() {
            events += 1;
            let event = palisade_parse::format::json::event_from_document(document);
            let ours = !set.matches(&event, &mut scratch).is_empty();
            let theirs = case.matches.contains(&idx);
            if ours == theirs {
                agreed += 1;
                continue;
            }
            let prefix = format!("event {idx}:");
            let message =
                format!("{} event {idx}: ours={ours} pysigma={theirs} {}", case.path, document);
            if case.notes.iter().any(|note| note.starts_with(&prefix)) {
                known_deviations.push(message);
            } else {
                failures.push(message);
            }
        }
    }
    eprintln!(
        "differential: {rules} rules, {events} events, {agreed} verdicts agree, {} known pySigma deviations, {} unexplained",
        known_deviations.len(),
        failures.len()
    );
    for deviation in &known_deviations {
        eprintln!("  known deviation: {deviation}");
    }
    assert!(rules >= 500, "only {rules} rules compared; the acceptance asks for at least 500");
    assert!(
        failures.is_empty(),
        "{} unexplained disagreements:\n{}",
        failures.len(),
        failures.iter().take(60).cloned().collect::<Vec<_>>().join("\n")
    );
}
