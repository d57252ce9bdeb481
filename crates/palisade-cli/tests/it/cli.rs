//! Behaviour of the command line: formats, filters, exit codes, escaping, input shapes.

use std::fs;

use crate::{palisade, text};

const RULE: &str = r"
title: Whoami Execution
id: 11111111-2222-3333-4444-555555555555
status: test
level: high
tags: [attack.discovery, attack.t1033]
logsource: {category: process_creation, product: windows}
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
";

const LOW_RULE: &str = r"
title: Any Powershell
id: 11111111-2222-3333-4444-666666666666
status: experimental
level: low
logsource: {category: process_creation, product: windows}
detection:
    selection:
        CommandLine|contains: 'powershell'
    condition: selection
";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir(dir.path().join("rules")).expect("mkdir");
        fs::write(dir.path().join("rules/whoami.yml"), RULE).expect("write rule");
        fs::write(dir.path().join("rules/powershell.yml"), LOW_RULE).expect("write rule");
        // One Sysmon event in the evtx_dump shape, one Winlogbeat event, one ECS event and a
        // 4688 event (mapped through the Security renames), one per line.
        let lines = [
            r##"{"Event":{"System":{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"ws1","EventRecordID":7,"TimeCreated":{"#attributes":{"SystemTime":"2024-05-01T10:00:00Z"}}},"EventData":{"Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all"}}}"##,
            r##"{"@timestamp":"2024-05-01T10:00:05Z","winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"1","computer_name":"ws2","event_data":{"Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","CommandLine":"powershell -nop \u001b[31mred"}}}"##,
            r##"{"Event":{"System":{"Channel":"Security","EventID":4688,"Computer":"ws3","TimeCreated":{"#attributes":{"SystemTime":"2024-05-01T10:00:10Z"}}},"EventData":{"NewProcessName":"C:\\Windows\\System32\\WHOAMI.EXE","CommandLine":"whoami"}}}"##,
            r##"{"@timestamp":"2024-05-01T10:00:15Z","host":{"os":{"type":"linux"}},"process":{"executable":"/usr/bin/whoami"}}"##,
        ];
        fs::write(dir.path().join("events.jsonl"), lines.join("\n")).expect("write events");
        Self { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

#[test]
fn scan_jsonl_reports_each_detection_with_rule_and_event() {
    let fixture = Fixture::new();
    let output = palisade(&[
        "scan",
        "-q",
        "-r",
        &fixture.path("rules"),
        &fixture.path("events.jsonl"),
        "--format",
        "jsonl",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let detections: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("json line"))
        .collect();
    let summary: Vec<(String, String)> = detections
        .iter()
        .map(|d| {
            (
                d["rule"]["title"].as_str().unwrap_or_default().to_owned(),
                d["computer"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("Whoami Execution".to_owned(), "ws1".to_owned()),
            ("Any Powershell".to_owned(), "ws2".to_owned()),
            ("Whoami Execution".to_owned(), "ws3".to_owned()),
        ],
        "timeline in time order; the Linux event is outside the Windows rules' logsource"
    );
    assert_eq!(detections[0]["rule"]["attack_techniques"], serde_json::json!(["T1033"]));
    assert_eq!(detections[0]["record_id"], serde_json::json!(7));
    assert_eq!(detections[0]["event"]["CommandLine"], serde_json::json!("whoami /all"));
}

#[test]
fn filters_and_fail_on_set_the_exit_code() {
    let fixture = Fixture::new();
    let rules = fixture.path("rules");
    let events = fixture.path("events.jsonl");
    let high_only =
        palisade(&["scan", "-q", "-r", &rules, &events, "--format", "csv", "--min-level", "high"]);
    let csv = text(&high_only.stdout);
    assert!(csv.starts_with(
        "timestamp,level,rule_title,rule_id,computer,channel,event_id,record_id,file,details"
    ));
    assert_eq!(csv.lines().count(), 3, "header and two high detections: {csv}");
    assert!(!csv.contains("Any Powershell"));
    let by_tag = palisade(&[
        "scan",
        "-q",
        "-r",
        &rules,
        &events,
        "--format",
        "jsonl",
        "--tags",
        "attack.t1033",
    ]);
    assert_eq!(text(&by_tag.stdout).lines().count(), 2);
    let by_status = palisade(&[
        "scan",
        "-q",
        "-r",
        &rules,
        &events,
        "--format",
        "jsonl",
        "--status",
        "experimental",
    ]);
    assert_eq!(text(&by_status.stdout).lines().count(), 1);

    assert_eq!(
        palisade(&["scan", "-q", "-r", &rules, &events, "--fail-on", "high"]).status.code(),
        Some(1)
    );
    assert_eq!(
        palisade(&["scan", "-q", "-r", &rules, &events, "--fail-on", "critical"]).status.code(),
        Some(0)
    );
}

#[test]
fn usage_errors_exit_2_with_a_clear_message() {
    let fixture = Fixture::new();
    let missing =
        palisade(&["scan", "-r", &fixture.path("rules"), &fixture.path("no-such-file.evtx")]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no-such-file.evtx"), "{}", text(&missing.stderr));
    let no_rules =
        palisade(&["scan", "-r", &fixture.path("events.jsonl"), &fixture.path("events.jsonl")]);
    assert_eq!(no_rules.status.code(), Some(2), "{}", text(&no_rules.stderr));
    assert_eq!(palisade(&["scan", "--bogus-flag"]).status.code(), Some(2));
    let config = fixture.dir.path().join("palisade.toml");
    fs::write(&config, "colour = \"blue\"\n").expect("write config");
    let unknown_key = palisade(&[
        "--config",
        config.to_str().expect("utf-8"),
        "scan",
        "-q",
        "-r",
        &fixture.path("rules"),
        &fixture.path("events.jsonl"),
    ]);
    assert_eq!(unknown_key.status.code(), Some(2));
    assert!(
        text(&unknown_key.stderr).contains("unknown field `colour`"),
        "{}",
        text(&unknown_key.stderr)
    );
    assert_eq!(
        palisade(&[
            "scan",
            "-r",
            &fixture.path("rules"),
            &fixture.path("events.jsonl"),
            "--min-level",
            "severe"
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn table_output_escapes_terminal_control_sequences() {
    let fixture = Fixture::new();
    let output =
        palisade(&["scan", "-q", "-r", &fixture.path("rules"), &fixture.path("events.jsonl")]);
    let table = text(&output.stdout);
    assert!(table.contains("Any Powershell"), "{table}");
    assert!(!table.contains('\u{1b}'), "raw escape byte reached the terminal: {table:?}");
    assert!(table.contains("\\u{1b}[31mred"), "{table}");
}

#[test]
fn rules_lint_lists_broken_rules_with_file_line_and_code() {
    let fixture = Fixture::new();
    fs::write(
        fixture.dir.path().join("rules/broken.yml"),
        "title: Broken\nlogsource: {product: windows}\ndetection:\n    selection:\n        Image|endswithh: x\n    condition: selection\n",
    )
    .expect("write");
    fs::write(fixture.dir.path().join("rules/bad_condition.yml"), "title: Bad\nlogsource: {product: windows}\ndetection:\n    sel: {a: b}\n    condition: sel and filter\n").expect("write");
    let output = palisade(&["rules", "lint", &fixture.path("rules")]);
    assert_eq!(output.status.code(), Some(1), "lint reports findings with exit 1");
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("broken.yml:5:9: error[SIG0006]: unknown modifier `endswithh`"),
        "{stdout}"
    );
    assert!(stdout.contains("bad_condition.yml:5:16: error[SIG0005]"), "{stdout}");
    assert!(text(&output.stderr).contains("2 rules loaded"), "{}", text(&output.stderr));
    let json = palisade(&["rules", "lint", &fixture.path("rules"), "--format", "json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(parsed["stats"]["failed"], serde_json::json!(2));
}

#[test]
fn collections_and_filters_apply() {
    let fixture = Fixture::new();
    // A collection: the global document's logsource and detection part merge into each rule.
    fs::write(
        fixture.dir.path().join("rules/collection.yml"),
        "action: global\ntitle: Collection\nlogsource: {product: windows, category: process_creation}\nlevel: medium\ndetection:\n    condition: selection\n---\nid: aaaaaaaa-0000-0000-0000-000000000001\ndetection:\n    selection:\n        CommandLine|contains: '/all'\n---\naction: repeat\nid: aaaaaaaa-0000-0000-0000-000000000002\ntitle: Collection Repeat\n",
    )
    .expect("write");
    // A Sigma filter that removes ws3 from the whoami rule.
    fs::write(
        fixture.dir.path().join("rules/filter.yml"),
        "title: Not ws3\nlogsource: {product: windows, category: process_creation}\nfilter:\n    rules: [11111111-2222-3333-4444-555555555555]\n    selection:\n        Computer: ws3\n    condition: selection\n",
    )
    .expect("write");
    let output = palisade(&[
        "scan",
        "-q",
        "-r",
        &fixture.path("rules"),
        &fixture.path("events.jsonl"),
        "--format",
        "jsonl",
    ]);
    let titles: Vec<String> = text(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).expect("json")["rule"]["title"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        titles,
        ["Collection", "Collection Repeat", "Whoami Execution", "Any Powershell"],
        "{}",
        text(&output.stderr)
    );
}
