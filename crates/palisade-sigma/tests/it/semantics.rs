//! Rule semantics, one behaviour per row: `check(detection, event, expected)`. Each row is
//! read straight from the Sigma specification (rules spec and modifiers appendix); the
//! comment on a row names the passage when it is not obvious.

use std::path::PathBuf;

use palisade_sigma::{Loader, Mapping};
use serde_json::json;

/// Compiles a rule around `detection` (raw field names, no logsource filter) and evaluates it.
fn matches(detection: &str, event: &serde_json::Value) -> bool {
    let indented: String = detection.lines().map(|line| format!("    {line}\n")).collect();
    let yaml = format!("title: t\nlogsource: {{product: test}}\ndetection:\n{indented}");
    let set = Loader::new(Mapping::default()).load(&[(PathBuf::from("t.yml"), yaml.clone())]);
    assert_eq!(set.rules().len(), 1, "rule did not load: {yaml}\n{:?}", set.diagnostics());
    let event = palisade_parse::format::json::event_from_document(event);
    let mut scratch = set.scratch();
    !set.matches(&event, &mut scratch).is_empty()
}

fn check(detection: &str, event: serde_json::Value, expected: bool) {
    assert_eq!(matches(detection, &event), expected, "detection:\n{detection}\nevent: {event}");
}

fn load_error(detection: &str) -> String {
    let indented: String = detection.lines().map(|line| format!("    {line}\n")).collect();
    let yaml = format!("title: t\nlogsource: {{product: test}}\ndetection:\n{indented}");
    let set = Loader::new(Mapping::default()).load(&[(PathBuf::from("t.yml"), yaml)]);
    assert!(set.rules().is_empty(), "expected a load error for {detection}");
    set.errors().next().map(|d| format!("{} {}", d.code.as_str(), d.message)).unwrap_or_default()
}

#[test]
fn plain_values_are_case_insensitive_and_whole() {
    let rule = "sel:\n    Image: 'C:\\Windows\\System32\\cmd.exe'\ncondition: sel";
    check(rule, json!({"Image": "c:\\windows\\system32\\CMD.EXE"}), true);
    check(rule, json!({"Image": "C:\\Windows\\System32\\cmd.exe.bak"}), false);
    check(rule, json!({"Other": "C:\\Windows\\System32\\cmd.exe"}), false);
    // Unicode case folding, not just ASCII ("All values are treated as case-insensitive strings").
    check(
        "sel:\n    User: 'АДМИНИСТРАТОР'\ncondition: sel",
        json!({"User": "администратор"}),
        true,
    );
}

#[test]
fn wildcards_and_escapes() {
    check(
        "sel:\n    Image: '*\\cmd.exe'\ncondition: sel",
        json!({"Image": "C:\\x\\CMD.exe"}),
        true,
    );
    check("sel:\n    Image: 'prog?.exe'\ncondition: sel", json!({"Image": "progA.exe"}), true);
    check("sel:\n    Image: 'prog?.exe'\ncondition: sel", json!({"Image": "progAB.exe"}), false);
    check("sel:\n    Image: 'a*b*c'\ncondition: sel", json!({"Image": "a--B--c"}), true);
    // `\*` is a literal star; `\\*` is a backslash then a wildcard.
    check("sel:\n    F: 'a\\*'\ncondition: sel", json!({"F": "a*"}), true);
    check("sel:\n    F: 'a\\*'\ncondition: sel", json!({"F": "abc"}), false);
    check("sel:\n    F: 'a\\\\*'\ncondition: sel", json!({"F": "a\\anything"}), true);
    check("sel:\n    F: '\\\\*'\ncondition: sel", json!({"F": "no backslash"}), false);
}

#[test]
fn string_modifiers() {
    check("sel:\n    F|contains: 'MiMi'\ncondition: sel", json!({"F": "x mimikatz y"}), true);
    // Text that is not all ASCII folds by Unicode's rules: a Kelvin sign (U+212A) is a `k`.
    let kelvin = "sel:\n    F|contains: 'mimikatz'\ncondition: sel";
    check(kelvin, json!({"F": "x MIMI\u{212A}ATZ y"}), true);
    check(kelvin, json!({"F": "\u{fc}ber MiMiKaTz"}), true);
    check(kelvin, json!({"F": "\u{fc}ber MiMiKaT"}), false);
    check("sel:\n    F|startswith: 'abc'\ncondition: sel", json!({"F": "ABCdef"}), true);
    check("sel:\n    F|startswith: 'abc'\ncondition: sel", json!({"F": "xabc"}), false);
    check("sel:\n    F|endswith: '.EXE'\ncondition: sel", json!({"F": "a.exe"}), true);
    check("sel:\n    F|contains|all: ['-a', '-b']\ncondition: sel", json!({"F": "x -b -a"}), true);
    check("sel:\n    F|contains|all: ['-a', '-b']\ncondition: sel", json!({"F": "x -a"}), false);
    check("sel:\n    F|contains: ['-a', '-b']\ncondition: sel", json!({"F": "x -b"}), true);
    check("sel:\n    F|cased: 'Abc'\ncondition: sel", json!({"F": "abc"}), false);
    check("sel:\n    F|cased: 'Abc'\ncondition: sel", json!({"F": "Abc"}), true);
    check("sel:\n    F|contains|cased: 'Abc'\ncondition: sel", json!({"F": "xAbcx"}), true);
}

#[test]
fn windash_accepts_every_dash_form() {
    let rule = "sel:\n    CommandLine|windash|contains: ' -enc '\ncondition: sel";
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        check(rule, json!({"CommandLine": format!("powershell {dash}enc AAAA")}), true);
    }
    check(rule, json!({"CommandLine": "powershell +enc AAAA"}), false);
}

#[test]
fn encoding_modifiers() {
    // base64("cmd") = "Y21k"
    check("sel:\n    F|base64: 'cmd'\ncondition: sel", json!({"F": "Y21k"}), true);
    // base64offset|contains finds "ping" at every alignment inside a longer base64 blob.
    let rule = "sel:\n    F|base64offset|contains: 'ping'\ncondition: sel";
    for prefix in ["", "a", "ab"] {
        use base64::Engine as _;
        let blob =
            base64::engine::general_purpose::STANDARD.encode(format!("{prefix}ping 127.0.0.1"));
        check(rule, json!({ "F": blob }), true);
    }
    check(rule, json!({"F": "cG9uZw=="}), false);
    // wide (utf16le) then base64: "cmd" → 63 00 6d 00 64 00 → "YwBtAGQA"
    check("sel:\n    F|wide|base64: 'cmd'\ncondition: sel", json!({"F": "YwBtAGQA"}), true);
    check("sel:\n    F|utf16le|base64: 'cmd'\ncondition: sel", json!({"F": "YwBtAGQA"}), true);
    // utf16be: 00 63 00 6d 00 64 → "AGMAbQBk"
    check("sel:\n    F|utf16be|base64: 'cmd'\ncondition: sel", json!({"F": "AGMAbQBk"}), true);
    // utf16 adds the FF FE byte-order mark: FF FE 63 00 6d 00 64 00 → "//5jAG0AZAA="
    check("sel:\n    F|utf16|base64: 'cmd'\ncondition: sel", json!({"F": "//5jAG0AZAA="}), true);
    assert!(load_error("sel:\n    F|base64: 'c*d'\ncondition: sel").starts_with("SIG0007"));
}

#[test]
fn regular_expressions() {
    check("sel:\n    F|re: '^a.c$'\ncondition: sel", json!({"F": "abc"}), true);
    // case-sensitive by default, `i` flag for insensitive
    check("sel:\n    F|re: '^abc$'\ncondition: sel", json!({"F": "ABC"}), false);
    check("sel:\n    F|re|i: '^abc$'\ncondition: sel", json!({"F": "ABC"}), true);
    // unanchored search
    check("sel:\n    F|re: 'b+'\ncondition: sel", json!({"F": "abbbc"}), true);
    // m: ^ and $ at line breaks; s: dot matches newline
    check("sel:\n    F|re|m: '^two$'\ncondition: sel", json!({"F": "one\ntwo\nthree"}), true);
    check("sel:\n    F|re: '^two$'\ncondition: sel", json!({"F": "one\ntwo\nthree"}), false);
    check("sel:\n    F|re|s: 'one.two'\ncondition: sel", json!({"F": "one\ntwo"}), true);
    check("sel:\n    F|re: 'one.two'\ncondition: sel", json!({"F": "one\ntwo"}), false);
    // look-ahead falls back to the backtracking engine
    check("sel:\n    F|re: 'a(?!b)'\ncondition: sel", json!({"F": "ab ac"}), true);
    assert!(load_error("sel:\n    F|re: '(unclosed'\ncondition: sel").starts_with("SIG0008"));
}

#[test]
fn numbers_cidr_and_time() {
    check("sel:\n    EventID: 4688\ncondition: sel", json!({"EventID": 4688}), true);
    check("sel:\n    EventID: 4688\ncondition: sel", json!({"EventID": "4688"}), true);
    check("sel:\n    EventID: '4688'\ncondition: sel", json!({"EventID": 4688}), true);
    check("sel:\n    N|gt: 10\ncondition: sel", json!({"N": 11}), true);
    check("sel:\n    N|gt: 10\ncondition: sel", json!({"N": 10}), false);
    check("sel:\n    N|gte: 10\ncondition: sel", json!({"N": "10"}), true);
    check("sel:\n    N|lt: 10\ncondition: sel", json!({"N": 9.5}), true);
    check("sel:\n    N|lte: 10\ncondition: sel", json!({"N": 10}), true);
    check("sel:\n    N|lt: 10\ncondition: sel", json!({"N": "ten"}), false);
    check("sel:\n    Ip|cidr: '10.0.0.0/8'\ncondition: sel", json!({"Ip": "10.200.3.4"}), true);
    check("sel:\n    Ip|cidr: '10.0.0.0/8'\ncondition: sel", json!({"Ip": "11.0.0.1"}), false);
    check("sel:\n    Ip|cidr: 'fe80::/10'\ncondition: sel", json!({"Ip": "FE80:0:0::1"}), true);
    check(
        "sel:\n    Ip|cidr: ['192.168.0.0/16', '172.16.0.0/12']\ncondition: sel",
        json!({"Ip": "172.20.1.1"}),
        true,
    );
    assert!(load_error("sel:\n    Ip|cidr: 'not-a-net'\ncondition: sel").starts_with("SIG0007"));
    check("sel:\n    T|hour: 3\ncondition: sel", json!({"T": "2024-05-01T03:15:00Z"}), true);
    check("sel:\n    T|month|gte: 6\ncondition: sel", json!({"T": "2024-05-01 03:15:00"}), false);
}

#[test]
fn null_empty_exists_and_neq() {
    let null_rule = "sel:\n    A: 'x'\nempty:\n    B: null\ncondition: sel and empty";
    check(null_rule, json!({"A": "x"}), true);
    check(null_rule, json!({"A": "x", "B": null}), true);
    check(null_rule, json!({"A": "x", "B": "v"}), false);
    check("sel:\n    B: ''\ncondition: sel", json!({"B": ""}), true);
    check("sel:\n    B: ''\ncondition: sel", json!({}), false);
    // exists checks presence only, "be it empty or null"
    check("sel:\n    B|exists: true\ncondition: sel", json!({"B": null}), true);
    check("sel:\n    B|exists: true\ncondition: sel", json!({"C": 1}), false);
    check("sel:\n    B|exists: false\ncondition: sel", json!({"C": 1}), true);
    check("sel:\n    B|neq: 'x'\ncondition: sel", json!({"B": "y"}), true);
    check("sel:\n    B|neq: ['x', 'y']\ncondition: sel", json!({"B": "Y"}), false);
}

#[test]
fn fieldref_compares_two_fields() {
    let rule = "sel:\n    ParentImage|fieldref: Image\ncondition: sel";
    check(rule, json!({"Image": "a.exe", "ParentImage": "A.EXE"}), true);
    check(rule, json!({"Image": "a.exe", "ParentImage": "b.exe"}), false);
    check(rule, json!({"ParentImage": "b.exe"}), false);
    check(
        "sel:\n    CommandLine|fieldref|contains: Image\ncondition: sel",
        json!({"Image": "x.exe", "CommandLine": "run x.exe now"}),
        true,
    );
}

#[test]
fn keywords_search_every_field() {
    let rule = "keywords:\n    - 'event::clear'\n    - 'event::drop'\ncondition: keywords";
    check(rule, json!({"msg": "mimikatz # EVENT::Clear"}), true);
    check(rule, json!({"msg": "nothing"}), false);
    check(
        "keywords:\n    '|all':\n        - 'OabVirtualDirectory'\n        - ' -ExternalUrl '\ncondition: keywords",
        json!({"a": "Set-OabVirtualDirectory", "b": "x -ExternalUrl y"}),
        true,
    );
    check(
        "keywords:\n    '|all':\n        - 'OabVirtualDirectory'\n        - ' -ExternalUrl '\ncondition: keywords",
        json!({"a": "Set-OabVirtualDirectory"}),
        false,
    );
}

#[test]
fn lists_maps_and_conditions() {
    // list of maps: OR; map: AND
    let rule =
        "sel:\n    - Image|endswith: '\\a.exe'\n    - Description|contains: 'Test'\ncondition: sel";
    check(rule, json!({"Description": "a test exe"}), true);
    check(rule, json!({"Image": "c:\\b.exe"}), false);
    let and_rule = "sel:\n    A: 1\n    B: 2\ncondition: sel";
    check(and_rule, json!({"A": 1, "B": 2}), true);
    check(and_rule, json!({"A": 1, "B": 3}), false);
    let cond = "sel_a:\n    A: 1\nsel_b:\n    B: 1\nfilter_main:\n    C: 1\n_helper:\n    D: 1\n";
    check(&format!("{cond}condition: 1 of sel_* and not 1 of filter_*"), json!({"B": 1}), true);
    check(
        &format!("{cond}condition: 1 of sel_* and not 1 of filter_*"),
        json!({"B": 1, "C": 1}),
        false,
    );
    check(&format!("{cond}condition: all of sel_*"), json!({"A": 1}), false);
    check(&format!("{cond}condition: all of sel_*"), json!({"A": 1, "B": 1}), true);
    // `them` excludes identifiers starting with an underscore
    check(&format!("{cond}condition: all of them"), json!({"A": 1, "B": 1, "C": 1}), true);
    check(&format!("{cond}condition: 1 of them"), json!({"D": 1}), false);
    check(&format!("{cond}condition: 2 of sel_*"), json!({"A": 1}), false);
    // precedence: not > and > or
    check(&format!("{cond}condition: sel_a or sel_b and filter_main"), json!({"A": 1}), true);
    check(&format!("{cond}condition: (sel_a or sel_b) and filter_main"), json!({"A": 1}), false);
    check(&format!("{cond}condition: not sel_a and sel_b"), json!({"B": 1}), true);
    // a list of conditions is ORed
    check(&format!("{cond}condition:\n    - sel_a\n    - sel_b"), json!({"B": 1}), true);
    assert!(load_error("sel:\n    A: 1\ncondition: sel and missing").starts_with("SIG0005"));
    assert!(load_error("sel:\n    A: 1\ncondition: sel | count() > 5").starts_with("SIG0010"));
    assert!(load_error("sel:\n    A|nosuch: 1\ncondition: sel").starts_with("SIG0006"));
}

#[test]
fn arrays_in_events_match_any_element_and_nested_fields_use_dots() {
    check("sel:\n    tags: 'b'\ncondition: sel", json!({"tags": ["a", "B"]}), true);
    check(
        "sel:\n    process.command_line|contains: 'whoami'\ncondition: sel",
        json!({"process": {"command_line": "whoami /all"}}),
        true,
    );
}

#[test]
fn expand_uses_configured_placeholders_or_rejects() {
    assert!(
        load_error("sel:\n    Host|expand: '%DomainControllers%'\ncondition: sel")
            .starts_with("SIG0009")
    );
    let mapping = palisade_sigma::Pipeline::parse("p", "version: 1\nlogsources:\n  - logsource: {product: test}\n    sources: [{when: {}}]\nplaceholders:\n  DomainControllers: [dc1, 'dc2*']\n").expect("mapping");
    let yaml = "title: t\nlogsource: {product: test}\ndetection:\n    sel:\n        Host|expand: '%DomainControllers%'\n    condition: sel\n";
    let set =
        Loader::new(Mapping::new(vec![mapping])).load(&[(PathBuf::from("t.yml"), yaml.to_owned())]);
    assert_eq!(set.rules().len(), 1, "{:?}", set.diagnostics());
    let mut scratch = set.scratch();
    for (host, expected) in [("DC1", true), ("dc2-east", true), ("ws1", false)] {
        let event = palisade_parse::format::json::event_from_document(&json!({ "Host": host }));
        assert_eq!(!set.matches(&event, &mut scratch).is_empty(), expected, "{host}");
    }
}
