//! Known attacks in the sample EVTX corpus: for each case in `tests/golden/evtx_known_attacks.toml`
//! (checked by hand, rule against record), `palisade scan` with the whole SigmaHQ rule set must
//! report that rule on that record. Also: every EVTX file of the corpus scans without error.

use std::collections::HashSet;

use crate::{corpus, palisade, text};

#[derive(serde::Deserialize)]
struct Golden {
    case: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    file: String,
    rule_id: String,
    rule_title: String,
    record_id: i64,
}

#[test]
fn known_attacks_are_detected_and_every_file_scans() {
    let Some(root) = corpus() else { return };
    let golden: Golden = toml::from_str(include_str!("../golden/evtx_known_attacks.toml"))
        .expect("valid golden file");
    assert!(golden.case.len() >= 20, "the acceptance asks for at least 20 known-attack files");
    let rules = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .map(|dir| root.join("sigma-rules").join(dir).display().to_string())
        .join(",");
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let evtx = root.join("evtx");
    let output = palisade(&[
        "scan",
        "--no-progress",
        "-r",
        &rules,
        evtx.to_str().expect("utf-8 path"),
        "--format",
        "jsonl",
        "-o",
        out.path().to_str().expect("utf-8 path"),
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "scan failed: {stderr}");
    assert!(stderr.contains("Scanned 315 files"), "expected all 315 corpus files: {stderr}");
    assert!(stderr.contains(", 0 unreadable records"), "some records could not be read: {stderr}");
    assert!(!stderr.contains("unreadable:"), "some files could not be read: {stderr}");

    let timeline = std::fs::read_to_string(out.path()).expect("read timeline");
    let mut found: HashSet<(String, String, i64)> = HashSet::new();
    for line in timeline.lines() {
        let detection: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        let file = detection["file"].as_str().unwrap_or_default().replace('\\', "/");
        let rule_id = detection["rule"]["id"].as_str().unwrap_or_default().to_owned();
        let record = detection["record_id"].as_i64().unwrap_or(-1);
        found.insert((file, rule_id, record));
    }
    let mut missing = Vec::new();
    for case in &golden.case {
        let hit = found.iter().any(|(file, rule_id, record)| {
            file.ends_with(&case.file) && *rule_id == case.rule_id && *record == case.record_id
        });
        if !hit {
            missing.push(format!(
                "{} -> {} ({}) record {}",
                case.file, case.rule_title, case.rule_id, case.record_id
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} known attacks not detected:\n{}",
        missing.len(),
        golden.case.len(),
        missing.join("\n")
    );
}
