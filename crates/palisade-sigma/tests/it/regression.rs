//! SigmaHQ's regression samples: for each `regression_data/**/info.yml`, the named rule must
//! fire exactly `match_count` times on its EVTX sample, and at least once on the JSON
//! rendering of the same sample.

use std::collections::HashMap;
use std::path::PathBuf;

use palisade_event::Event;
use palisade_sigma::{Loader, Mapping, Pipeline};

use crate::corpus;

/// Samples where SigmaHQ's `match_count` is lower than the number of events that satisfy the
/// rule. Each was checked by hand against the sample's JSON rendering; the figure here is the
/// number of events that really satisfy the rule's condition.
const UNDERCOUNTED: &[(&str, usize, &str)] = &[
    (
        "file_event_win_anydesk_artefact",
        3,
        "user.conf.new twice and user.conf~RF…TMP all contain \\AppData\\Roaming\\AnyDesk\\user.conf",
    ),
    (
        "file_event_win_cred_dump_tools_dropped_files",
        3,
        "procdump64.exe, procdump64a.exe and procdump.exe are each created (the :Zone.Identifier streams do not match)",
    ),
    (
        "proc_creation_win_dtrace_kernel_dump",
        2,
        "records 33630917 and 33630948 both run dtrace.exe with lkd(0)",
    ),
    (
        "proc_creation_win_github_self_hosted_runner",
        2,
        "the listener (configure) and the worker (spawnclient) both satisfy their `all of` branch",
    ),
    (
        "registry_set_change_security_zones",
        3,
        "the http, https and * values under ZoneMap\\Domains\\bad-domain.com are each set to DWORD 2",
    ),
    (
        "registry_set_disable_administrative_share",
        2,
        "AutoShareServer and AutoShareWks are both set to DWORD 0",
    ),
];

struct Case {
    info: PathBuf,
    rule_id: String,
    evtx: PathBuf,
    expected: usize,
}

fn cases(root: &std::path::Path) -> Vec<Case> {
    let mut cases = Vec::new();
    for entry in walkdir::WalkDir::new(root.join("sigma-rules/regression_data")).sort_by_file_name()
    {
        let entry = entry.expect("walk");
        if entry.file_name() != "info.yml" {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("read info.yml");
        let docs = palisade_sigma::yaml::parse_documents(&text).expect("info.yml is YAML");
        let info = &docs[0];
        let rule_id = info
            .get("rule_metadata")
            .and_then(|m| m.as_seq())
            .and_then(|items| items.first())
            .and_then(|m| m.get("id"))
            .and_then(|n| n.as_str());
        let tests = info.get("regression_tests_info").and_then(|t| t.as_seq()).unwrap_or_default();
        for test in tests {
            if test.get("type").and_then(|t| t.as_str()) != Some("evtx") {
                continue;
            }
            let Some(path) = test.get("path").and_then(|p| p.as_str()) else { continue };
            let expected = test
                .get("match_count")
                .and_then(|c| c.as_str())
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            cases.push(Case {
                info: entry.path().to_owned(),
                rule_id: rule_id.expect("info.yml names a rule").to_owned(),
                evtx: root.join("sigma-rules").join(path),
                expected,
            });
        }
    }
    cases
}

fn read_evtx(path: &std::path::Path) -> Vec<Event> {
    let bytes = std::fs::read(path).expect("read evtx");
    palisade_parse::format::evtx::read(bytes, 1)
        .expect("valid evtx")
        .map(|record| record.expect("readable record"))
        .collect()
}

#[test]
fn every_regression_sample_fires_its_rule() {
    let Some(root) = corpus::root() else { return };
    let sources = corpus::rule_sources(&corpus::rule_dirs(&root));
    let by_id: HashMap<String, (PathBuf, String)> = sources
        .into_iter()
        .filter_map(|(path, text)| {
            let id = text.lines().find_map(|line| line.strip_prefix("id: "))?.trim().to_owned();
            Some((id, (path, text)))
        })
        .collect();
    let loader = Loader::new(Mapping::new(Pipeline::builtin()));
    let cases = cases(&root);
    assert!(
        cases.len() >= 200,
        "expected the ~203 SigmaHQ regression cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let Some(source) = by_id.get(&case.rule_id) else {
            failures.push(format!(
                "{}: rule {} not in the corpus",
                case.info.display(),
                case.rule_id
            ));
            continue;
        };
        let set = loader.load(std::slice::from_ref(source));
        if set.rules().len() != 1 {
            failures.push(format!(
                "{}: rule did not load: {:?}",
                case.info.display(),
                set.diagnostics()
            ));
            continue;
        }
        let mut scratch = set.scratch();
        let evtx_matches = read_evtx(&case.evtx)
            .iter()
            .filter(|event| !set.matches(event, &mut scratch).is_empty())
            .count();
        let folder = case
            .info
            .parent()
            .and_then(|dir| dir.file_name())
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let expected = UNDERCOUNTED
            .iter()
            .find(|(name, _, _)| *name == folder)
            .map_or(case.expected, |(_, count, _)| *count);
        if evtx_matches != expected {
            failures.push(format!(
                "{}: {} matches on the EVTX sample, expected {}",
                case.info.display(),
                evtx_matches,
                expected
            ));
        }
        let json_path = case.evtx.with_extension("json");
        if json_path.is_file() {
            let bytes = std::fs::read(&json_path).expect("read json");
            let json_matches = palisade_parse::format::json::read_documents(&bytes)
                .into_iter()
                .map(|event| event.expect("valid JSON sample"))
                .filter(|event| !set.matches(event, &mut scratch).is_empty())
                .count();
            if json_matches == 0 {
                failures.push(format!("{}: no match on the JSON rendering", case.info.display()));
            }
        }
    }
    eprintln!("{} regression cases, {} failures", cases.len(), failures.len());
    assert!(failures.is_empty(), "regression failures:\n{}", failures.join("\n"));
}
