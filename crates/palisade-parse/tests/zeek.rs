//! Zeek log parsing (`palisade_parse::zeek`): golden files in both formats, the same records
//! read from TSV and JSON, invariants and property tests.
//!
//! Golden files: `tests/golden/zeek/tsv_<log>.log` are Zeek ASCII logs (header lines
//! included: `#` lines are header or comment lines, which give no output), `json_<log>.log`
//! are JSON lines (lines starting with `#` are comments). `<name>.jsonl` holds, line for line
//! of the records, the event produced (its fields, and `@timestamp`; `event.original`, the
//! TSV line itself, is checked but not repeated), or `null` when the line is not read.
//! `PALISADE_BLESS=1 cargo test -p palisade-parse --test zeek golden` rewrites the expected
//! files; read every changed line before keeping it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use palisade_event::{Event, Value};
use palisade_parse::ecs::MAX_TEXT_LEN;
use palisade_parse::zeek::{self, TsvLine, TsvReader};
use proptest::prelude::*;
use serde_json::Value as Json;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/zeek")
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
fn check_invariants(event: &Event, input: &str) {
    let dataset = event.get_str("event.dataset").expect("event.dataset is set");
    let path = dataset.strip_prefix("zeek.").unwrap_or_else(|| panic!("dataset {dataset}"));
    assert!(
        !path.is_empty()
            && path.len() <= 64
            && path.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "dataset {dataset}: {input}"
    );
    let kind = event.get_str("event.kind").expect("event.kind is set");
    assert!(kind == "event" || kind == "alert", "kind {kind}: {input}");
    for field in ["source.ip", "destination.ip", "related.ip", "dns.resolved_ip"] {
        for ip in strings(event.get(field)) {
            assert!(ip.parse::<IpAddr>().is_ok(), "{field} {ip:?} is not an IP: {input}");
        }
    }
    for field in ["source.port", "destination.port", "url.port"] {
        if let Some(value) = event.get(field) {
            assert!(
                matches!(value, Value::Int(port) if (0..=65535).contains(port)),
                "{field} {value:?}: {input}"
            );
        }
    }
    for field in ["source.mac", "destination.mac"] {
        for mac in strings(event.get(field)) {
            assert!(
                mac.len() == 17
                    && mac.split('-').all(|octet| octet.len() == 2
                        && octet.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))),
                "{field} {mac}: {input}"
            );
        }
    }
    if let Some(duration) = event.get("event.duration") {
        assert!(matches!(duration, Value::Int(ns) if *ns >= 0), "duration {duration:?}: {input}");
    }
    if let Some(version) = event.get_str("tls.version") {
        let bytes = version.as_bytes();
        assert!(
            bytes.len() == 3
                && bytes[0].is_ascii_digit()
                && bytes[1] == b'.'
                && bytes[2].is_ascii_digit(),
            "tls.version {version}: {input}"
        );
    }
    for (field, value) in event.fields() {
        if field == "event.original" {
            continue;
        }
        for text in strings(Some(value)) {
            assert!(text.len() <= MAX_TEXT_LEN, "{field} is not capped: {input}");
        }
    }
}

/// The golden form of an event: its fields and `@timestamp`, without `event.original`.
fn render(event: &Event) -> Json {
    let mut json = event.to_json();
    if let Json::Object(map) = &mut json {
        map.remove("event.original");
        if let Some(timestamp) = event.timestamp() {
            map.insert("@timestamp".to_owned(), Json::from(timestamp.to_string()));
        }
    }
    json
}

/// The result of reading one golden input file: one entry per record line.
struct Read {
    lines: Vec<String>,
    events: Vec<Option<Event>>,
}

fn read_tsv(text: &str) -> Read {
    let mut reader = TsvReader::new();
    let mut read = Read { lines: Vec::new(), events: Vec::new() };
    for line in text.lines() {
        match reader.line(line) {
            TsvLine::Header => {}
            TsvLine::Event(event) => {
                assert_eq!(event.get_str("event.original").as_deref(), Some(line));
                check_invariants(&event, line);
                read.lines.push(line.to_owned());
                read.events.push(Some(event));
            }
            TsvLine::Unparsed => {
                read.lines.push(line.to_owned());
                read.events.push(None);
            }
        }
    }
    read
}

fn json_event(line: &str) -> Option<Event> {
    let document: Json = serde_json::from_str(line).ok()?;
    if !zeek::looks_like(&document) {
        return None;
    }
    let event = zeek::from_json(&document);
    assert!(event.get("event.original").is_none(), "from_json sets event.original: {line}");
    check_invariants(&event, line);
    Some(event)
}

fn read_json(text: &str) -> Read {
    let mut read = Read { lines: Vec::new(), events: Vec::new() };
    for line in text.lines().filter(|line| !line.trim().is_empty() && !line.starts_with('#')) {
        read.lines.push(line.to_owned());
        read.events.push(json_event(line));
    }
    read
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

fn read_golden(path: &Path) -> Read {
    let text = std::fs::read_to_string(path).expect("golden input");
    let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    if name.starts_with("tsv_") {
        read_tsv(&text)
    } else {
        assert!(name.starts_with("json_"), "golden input {name} must start with tsv_ or json_");
        read_json(&text)
    }
}

#[test]
fn golden() {
    let bless = std::env::var_os("PALISADE_BLESS").is_some();
    let inputs = golden_inputs();
    assert!(!inputs.is_empty(), "no golden inputs");
    let mut failures = Vec::new();
    for input in &inputs {
        let read = read_golden(input);
        let actual: Vec<String> = read
            .events
            .iter()
            .map(|event| {
                event.as_ref().map_or_else(|| "null".to_owned(), |e| render(e).to_string())
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
        for ((line, want), got) in read.lines.iter().zip(&expected).zip(&actual) {
            if want != got {
                failures.push(format!("{line}\n  want {want}\n  got  {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} golden mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// The key that finds one record in the other format: its log, time and id (connection uid,
/// file id, or for a record of no connection its notice or weird name).
fn record_key(event: &Event) -> Option<String> {
    let id = ["zeek.session_id", "event.id", "rule.name", "event.action"]
        .iter()
        .find_map(|field| event.get_str(field))?;
    Some(format!("{} {} {id}", event.get_str("event.dataset")?, event.timestamp()?))
}

/// The fields that must agree between formats: all but the TSV line and the JSON writer's own
/// `_write_ts`, which the TSV writer does not have.
fn comparable(event: &Event) -> Json {
    let mut json = render(event);
    if let Json::Object(map) = &mut json {
        map.retain(|name, _| !name.ends_with("._write_ts"));
    }
    json
}

#[test]
fn tsv_and_json_give_the_same_fields_for_the_same_record() {
    let mut tsv_records: BTreeMap<String, Json> = BTreeMap::new();
    let mut json_events: Vec<Event> = Vec::new();
    for input in golden_inputs() {
        let read = read_golden(&input);
        let is_tsv =
            input.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("tsv_"));
        for event in read.events.into_iter().flatten() {
            if is_tsv {
                let key = record_key(&event).expect("every golden TSV record has a key");
                // tsv_handcut.log repeats a conn.log record with fewer columns: the full
                // record (tsv_conn.log, read first) is the twin.
                tsv_records.entry(key).or_insert_with(|| comparable(&event));
            } else {
                json_events.push(event);
            }
        }
    }
    let mut n_pairs = 0;
    let mut paired_logs = std::collections::BTreeSet::new();
    for event in &json_events {
        let Some(key) = record_key(event) else { continue };
        if let Some(tsv) = tsv_records.get(&key) {
            assert_eq!(&comparable(event), tsv, "{key}: JSON and TSV differ");
            n_pairs += 1;
            paired_logs.insert(event.get_str("event.dataset").unwrap_or_default().into_owned());
        }
    }
    // Every JSON record of the golden files that has a TSV twin is counted here: a change in
    // either file that breaks a pair shows up as a smaller number.
    assert_eq!(n_pairs, 38, "pairs of identical records");
    for log in zeek::MAPPED_LOGS {
        assert!(paired_logs.contains(&format!("zeek.{log}")), "no TSV/JSON pair for {log}");
    }
}

#[test]
fn each_format_has_twenty_records_and_every_log() {
    for prefix in ["tsv_", "json_"] {
        let mut n_records = 0;
        let mut datasets = std::collections::BTreeSet::new();
        let mut n_unread = 0;
        for input in golden_inputs() {
            if !input.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix)) {
                continue;
            }
            for event in read_golden(&input).events {
                match event {
                    Some(event) => {
                        n_records += 1;
                        datasets.insert(
                            event.get_str("event.dataset").unwrap_or_default().into_owned(),
                        );
                    }
                    None => n_unread += 1,
                }
            }
        }
        assert!(n_records >= 20, "{prefix}: {n_records} records");
        assert!(n_unread >= 1, "{prefix}: no unread (truncated) line");
        for log in zeek::MAPPED_LOGS {
            assert!(datasets.contains(&format!("zeek.{log}")), "{prefix}: no {log} record");
        }
    }
}

#[test]
fn the_log_comes_from_path_then_caller_then_keys() {
    let document: Json = serde_json::from_str(
        r#"{"ts":1764583211.0,"uid":"C7y3kf3wLnGC8eMFoj","id.orig_h":"192.0.2.10","id.orig_p":37842,"id.resp_h":"192.0.2.53","id.resp_p":53,"proto":"udp","query":"example.org"}"#,
    )
    .expect("json");
    let dataset = |event: Event| event.get_str("event.dataset").map(|d| d.into_owned());
    assert_eq!(dataset(zeek::from_json(&document)).as_deref(), Some("zeek.dns"));
    assert_eq!(dataset(zeek::from_json_with_path(&document, "dns")).as_deref(), Some("zeek.dns"));
    let event = zeek::from_json_with_path(&document, "dns_red");
    assert_eq!(event.get_str("zeek.dns_red.query").as_deref(), Some("example.org"));
    assert_eq!(event.get_str("source.ip").as_deref(), Some("192.0.2.10"));
    // An invalid caller path is ignored.
    assert_eq!(dataset(zeek::from_json_with_path(&document, "../x")).as_deref(), Some("zeek.dns"));
    // `_path` in the record wins over the caller.
    let mut with_path = document.clone();
    with_path["_path"] = Json::from("dns");
    assert_eq!(dataset(zeek::from_json_with_path(&with_path, "conn")).as_deref(), Some("zeek.dns"));
    // The file name helper feeds the caller path.
    let path = zeek::log_path_from_file_name("/var/log/zeek/dns.20261201.log").expect("path");
    assert_eq!(dataset(zeek::from_json_with_path(&document, &path)).as_deref(), Some("zeek.dns"));
    // Nothing distinctive: unknown.
    let bare: Json = serde_json::from_str(r#"{"ts":1.0,"uid":"CabcdefghijK"}"#).expect("json");
    assert_eq!(dataset(zeek::from_json(&bare)).as_deref(), Some("zeek.unknown"));
}

#[test]
fn a_reader_with_a_path_reads_a_log_without_path_header() {
    let mut reader = TsvReader::with_path("weird");
    assert!(matches!(reader.line("#fields\tts\tname\tnotice\tpeer"), TsvLine::Header));
    let TsvLine::Event(event) = reader.line("1764583231.000000\tbad_IP_checksum\tF\tzeek") else {
        panic!("expected an event");
    };
    assert_eq!(event.get_str("event.dataset").as_deref(), Some("zeek.weird"));
    assert_eq!(event.get_str("event.action").as_deref(), Some("bad_IP_checksum"));
    // Without #types, the known weird.log types apply.
    assert_eq!(event.get("zeek.weird.notice"), Some(&Value::Bool(false)));
    assert_eq!(event.timestamp().map(|t| t.to_string()).as_deref(), Some("2025-12-01T10:00:31Z"));
    // A #path header wins over the caller's path.
    assert!(matches!(reader.line("#path\tnotice"), TsvLine::Header));
    assert!(matches!(reader.line("#fields\tts\tnote\tmsg"), TsvLine::Header));
    let TsvLine::Event(event) = reader.line("1.0\tScan::Port_Scan\tscan") else {
        panic!("expected an event");
    };
    assert_eq!(event.get_str("event.dataset").as_deref(), Some("zeek.notice"));
    // CRLF line ends are tolerated.
    let TsvLine::Event(event) = reader.line("1.0\tScan::Port_Scan\tscan\r") else {
        panic!("expected an event");
    };
    assert_eq!(event.get_str("message").as_deref(), Some("scan"));
}

#[test]
fn long_fields_are_capped() {
    let agent = "A".repeat(100_000);
    let document = serde_json::json!({
        "ts": 1764583201.2, "uid": "CHhAvVGS1DHFjwGM9", "id.orig_h": "192.0.2.10",
        "id.orig_p": 49812, "id.resp_h": "203.0.113.80", "id.resp_p": 80, "trans_depth": 1,
        "method": "GET", "host": "h".repeat(5000), "uri": "/", "user_agent": agent,
        "tags": vec!["x"; 5000],
    });
    let event = zeek::from_json(&document);
    check_invariants(&event, "long http record");
    assert_eq!(event.get_str("user_agent.original").map(|a| a.len()), Some(MAX_TEXT_LEN));
    assert_eq!(event.get_str("zeek.http.user_agent").map(|a| a.len()), Some(MAX_TEXT_LEN));
    assert_eq!(event.get_str("url.domain").map(|d| d.len()), Some(256));
    assert!(event.get("destination.domain").is_none(), "a 5000-byte host is not a domain");
    let Some(Value::List(tags)) = event.get("zeek.http.tags") else { panic!("tags") };
    assert_eq!(tags.len(), 1024);
}

#[test]
fn hostile_headers_are_bounded() {
    let mut reader = TsvReader::new();
    let many = format!("#fields{}", "\tf".repeat(5000));
    assert!(matches!(reader.line(&many), TsvLine::Header));
    assert!(matches!(reader.line(&"x\t".repeat(4999)), TsvLine::Unparsed));
    // An empty separator is refused: the default tab stays.
    for line in ["#separator ", "#set_separator\t", "#fields\tts\tuid", "#types\ttime\tstring"] {
        assert!(matches!(reader.line(line), TsvLine::Header));
    }
    assert!(matches!(reader.line("1.0\tCHhAvVGS1DHFjwGM9"), TsvLine::Event(_)));
    // A path outside the allowed characters is not taken.
    assert!(matches!(reader.line("#path\t../../etc"), TsvLine::Header));
    let TsvLine::Event(event) = reader.line("1.0\tCHhAvVGS1DHFjwGM9") else { panic!("event") };
    assert_eq!(event.get_str("event.dataset").as_deref(), Some("zeek.unknown"));
}

/// Golden TSV files' lines, with the header lines before each record, as seeds.
static TSV_SEEDS: LazyLock<Vec<(Vec<String>, String)>> = LazyLock::new(|| {
    let mut seeds = Vec::new();
    for input in golden_inputs() {
        if !input.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("tsv_")) {
            continue;
        }
        let text = std::fs::read_to_string(&input).expect("golden input");
        let mut header = Vec::new();
        for line in text.lines() {
            if line.starts_with("#separator") {
                header.clear();
            }
            if line.starts_with('#') {
                header.push(line.to_owned());
            } else {
                seeds.push((header.clone(), line.to_owned()));
            }
        }
    }
    seeds
});

static JSON_SEEDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut seeds = Vec::new();
    for input in golden_inputs() {
        if !input.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("json_")) {
            continue;
        }
        let text = std::fs::read_to_string(&input).expect("golden input");
        seeds.extend(text.lines().filter(|line| !line.starts_with('#')).map(str::to_owned));
    }
    seeds
});

fn splice(text: &str, index: prop::sample::Index, insert: &str) -> String {
    let mut at = index.index(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let mut out = text.to_owned();
    if insert.is_empty() {
        out.truncate(at);
    } else {
        out.insert_str(at, insert);
    }
    out
}

fn header_line() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "#separator \\x09",
            "#separator |",
            "#separator ",
            "#separator \\x",
            "#set_separator\t,",
            "#set_separator\t",
            "#empty_field\t(empty)",
            "#empty_field\t",
            "#unset_field\t-",
            "#unset_field\t",
            "#path\tconn",
            "#path\tdns",
            "#path\t",
            "#close\tx",
        ])
        .prop_map(str::to_owned),
        ("(#fields|#types)", proptest::collection::vec("[ -~]{0,12}", 0..8))
            .prop_map(|(key, items)| format!("{key}\t{}", items.join("\t"))),
        "#[ -~\t]{0,40}",
    ]
}

proptest! {
    #[test]
    fn arbitrary_tsv_never_panics(
        headers in proptest::collection::vec(header_line(), 0..10),
        lines in proptest::collection::vec("\\PC{0,80}", 0..6),
    ) {
        let mut reader = TsvReader::new();
        for line in headers.iter().chain(&lines) {
            if let TsvLine::Event(event) = reader.line(line) {
                check_invariants(&event, line);
            }
        }
    }

    #[test]
    fn mutated_golden_tsv_never_panics(
        (header, line) in prop::sample::select(TSV_SEEDS.clone()),
        index in any::<prop::sample::Index>(),
        insert in "(\\PC{0,8}|\t|,|\\\\x[0-9a-f]{0,2}|-|\\(empty\\))",
    ) {
        let mut reader = TsvReader::new();
        for header_line in &header {
            reader.line(header_line);
        }
        let mutated = splice(&line, index, &insert);
        if let TsvLine::Event(event) = reader.line(&mutated) {
            check_invariants(&event, &mutated);
        }
    }

    #[test]
    fn mutated_golden_json_never_panics(
        line in prop::sample::select(JSON_SEEDS.clone()),
        index in any::<prop::sample::Index>(),
        insert in "(\\PC{0,8}|[0-9.e-]{1,6}|null|true|\"[ -~]{0,8}\")",
    ) {
        let mutated = splice(&line, index, &insert);
        let _ = json_event(&mutated);
    }

    #[test]
    fn json_values_of_any_type_never_panic(
        line in prop::sample::select(JSON_SEEDS.clone()),
        key_index in any::<prop::sample::Index>(),
        replacement in prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            any::<i64>().prop_map(Json::from),
            any::<u64>().prop_map(Json::from),
            any::<f64>().prop_map(Json::from),
            "\\PC{0,20}".prop_map(Json::from),
            proptest::collection::vec("[ -~]{0,6}", 0..4).prop_map(Json::from),
            Just(serde_json::json!({"nested": [1, {"x": "y"}]})),
        ],
    ) {
        let Ok(Json::Object(mut map)) = serde_json::from_str::<Json>(&line) else {
            return Ok(());
        };
        if map.is_empty() {
            return Ok(());
        }
        let key = map.keys().nth(key_index.index(map.len())).cloned().unwrap_or_default();
        map.insert(key, replacement);
        let document = Json::Object(map);
        if zeek::looks_like(&document) {
            check_invariants(&zeek::from_json(&document), &document.to_string());
        }
        let _ = zeek::from_json_with_path(&document, "conn");
    }
}

#[test]
fn docs_name_every_dataset() {
    let docs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/parsers/zeek.md"),
    )
    .expect("docs/parsers/zeek.md");
    for log in zeek::MAPPED_LOGS {
        assert!(
            docs.contains(&format!("`zeek.{log}`")),
            "zeek.{log} is not in docs/parsers/zeek.md"
        );
    }
}
