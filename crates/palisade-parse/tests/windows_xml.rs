//! Windows event XML (`palisade_parse::format::windows_xml`): golden files, the EVTX corpus
//! cross-check against the JSON path, hostile input and property tests.
//!
//! Golden files: `tests/golden/windows_xml/<case>.xml` holds one or many `<Event>` elements
//! as `wevtutil qe /f:xml`, `/f:RenderedXml` and `Get-WinEvent ... ToXml()` write them;
//! `<case>.jsonl` holds, one line per `<Event>`, the fields produced (with `@timestamp`), or
//! `{"error": ...}` for an event that cannot be read. `PALISADE_BLESS=1 cargo test -p
//! palisade-parse --test windows_xml golden` rewrites the expected files; read every changed
//! line before keeping it.
//!
//! The corpus test reads `shared/corpus/evtx` next to the checkout and is skipped when it is
//! absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use evtx::{EvtxParser, ParserSettings};
use palisade_event::{Event, Value};
use palisade_parse::format::windows::from_evtx_json;
use palisade_parse::format::windows_xml::{MAX_DEPTH, read_xml};
use proptest::prelude::*;

const NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/windows_xml")
}

fn event_json(event: &Event) -> serde_json::Value {
    let mut json = event.to_json();
    if let (Some(object), Some(timestamp)) = (json.as_object_mut(), event.timestamp()) {
        object.insert("@timestamp".to_owned(), timestamp.to_string().into());
    }
    json
}

/// What every event read from XML must satisfy.
fn check_invariants(event: &Event) {
    for (name, value) in event.fields() {
        assert!(!name.is_empty(), "empty field name");
        if matches!(name, "EventID" | "EventRecordID" | "Level") {
            assert!(matches!(value, Value::Int(_) | Value::Str(_)), "{name}: {value:?}");
        }
    }
}

#[test]
fn golden() {
    let bless = std::env::var_os("PALISADE_BLESS").is_some();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "xml"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no golden inputs");
    let mut n_events = 0;
    let mut failures = Vec::new();
    for input in &inputs {
        let text = std::fs::read_to_string(input).expect("golden input");
        let actual: Vec<String> = read_xml(&text)
            .iter()
            .map(|result| match result {
                Ok(event) => {
                    check_invariants(event);
                    event_json(event).to_string()
                }
                Err(error) => serde_json::json!({ "error": error.to_string() }).to_string(),
            })
            .collect();
        n_events += actual.len();
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
        assert_eq!(expected.len(), actual.len(), "{}: event count", expected_path.display());
        for (idx, (want, got)) in expected.iter().zip(&actual).enumerate() {
            if want != got {
                failures.push(format!("{} #{idx}\n  want {want}\n  got  {got}", input.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{} golden mismatches:\n{}", failures.len(), failures.join("\n"));
    assert!(n_events >= 20, "only {n_events} golden events");
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/evtx")
}

fn evtx_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            evtx_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("evtx")) {
            out.push(path);
        }
    }
}

#[derive(Default)]
struct Agreement {
    n_records: usize,
    n_identical: usize,
    n_same_text: usize,
    n_fields: usize,
    n_fields_identical: usize,
    differences: BTreeMap<String, (usize, String)>,
}

/// Every record of the EVTX corpus, rendered as XML by the `evtx` crate and read back by
/// `read_xml`, gives the same fields as the JSON path (`from_evtx_json`).
#[test]
fn evtx_corpus_xml_matches_json_path() {
    let mut files = Vec::new();
    evtx_files(&corpus_dir(), &mut files);
    if files.is_empty() {
        eprintln!("EVTX corpus not found: skipped");
        return;
    }
    files.sort();
    let settings = ParserSettings::default().num_threads(1).separate_json_attributes(false);
    let mut report = Agreement::default();
    for path in &files {
        let bytes = std::fs::read(path).expect("evtx file");
        let Ok(parser) = EvtxParser::from_buffer(bytes.clone()) else { continue };
        let mut parser = parser.with_configuration(settings.clone());
        let xml: BTreeMap<u64, String> = parser
            .records()
            .filter_map(Result::ok)
            .map(|record| (record.event_record_id, record.data))
            .collect();
        let Ok(parser) = EvtxParser::from_buffer(bytes) else { continue };
        let mut parser = parser.with_configuration(settings.clone());
        for record in parser.records_json_value().filter_map(Result::ok) {
            let Some(text) = xml.get(&record.event_record_id) else { continue };
            let want = from_evtx_json(&record.data);
            let results = read_xml(text);
            assert_eq!(results.len(), 1, "{}: one event per record", path.display());
            let got = match &results[0] {
                Ok(event) => event,
                Err(error) => panic!("{} #{}: {error}", path.display(), record.event_record_id),
            };
            check_invariants(got);
            compare(&want, got, path, &mut report);
        }
    }
    let rate = |n: usize, d: usize| 100.0 * n as f64 / d.max(1) as f64;
    eprintln!(
        "{} files, {} records: {} identical ({:.2}%), {} equal as text ({:.2}%); fields {}/{} identical ({:.3}%)",
        files.len(),
        report.n_records,
        report.n_identical,
        rate(report.n_identical, report.n_records),
        report.n_same_text,
        rate(report.n_same_text, report.n_records),
        report.n_fields_identical,
        report.n_fields,
        rate(report.n_fields_identical, report.n_fields),
    );
    for (kind, (count, example)) in &report.differences {
        eprintln!("  {count:>6} {kind}: {example}");
    }
    assert!(report.n_records > 1000, "corpus too small: {}", report.n_records);
    // Measured on the hayabusa sample (see docs/parsers/windows-xml.md): every record has the
    // same field names, the same timestamp and the same values as text; the only differences
    // are value types the XML cannot carry (a number the EVTX template typed, written as
    // text). Keep these floors: a drop is a regression.
    assert_eq!(report.n_same_text, report.n_records, "records whose text differs");
    assert!(rate(report.n_identical, report.n_records) >= MIN_IDENTICAL_PERCENT);
}

/// The share of records whose fields are identical, types included (measured, rounded down).
const MIN_IDENTICAL_PERCENT: f64 = 55.0;

fn text_of(value: &Value) -> Vec<Option<String>> {
    match value {
        Value::List(items) => items.iter().flat_map(text_of).collect(),
        Value::Null => vec![None],
        // The evtx crate's XML writer replaces control characters (other than tab, CR, LF)
        // with `_`: XML 1.0 cannot carry them.
        other => {
            vec![other.to_text().map(|text| {
                text.chars()
                    .map(|ch| {
                        if ch.is_control() && !matches!(ch, '\t' | '\r' | '\n') { '_' } else { ch }
                    })
                    .collect()
            })]
        }
    }
}

fn compare(want: &Event, got: &Event, path: &Path, report: &mut Agreement) {
    report.n_records += 1;
    let mut identical = want.timestamp() == got.timestamp();
    let mut same_text = identical;
    let mut note = |kind: String, example: String| {
        let entry = report.differences.entry(kind).or_insert((0, example));
        entry.0 += 1;
    };
    if want.timestamp() != got.timestamp() {
        note("timestamp".to_owned(), path.display().to_string());
    }
    for (name, value) in want.fields() {
        report.n_fields += 1;
        match got.get(name) {
            None => {
                identical = false;
                same_text = false;
                note(format!("missing {name}"), format!("{}: {value:?}", path.display()));
            }
            Some(other) if other == value => report.n_fields_identical += 1,
            Some(other) => {
                identical = false;
                if text_of(other) == text_of(value) {
                    note(format!("type of {name}"), format!("json {value:?} xml {other:?}"));
                } else {
                    same_text = false;
                    note(
                        format!("value of {name}"),
                        format!("{}: json {value:?} xml {other:?}", path.display()),
                    );
                }
            }
        }
    }
    for (name, value) in got.fields() {
        if want.get(name).is_none() {
            identical = false;
            same_text = false;
            note(format!("extra {name}"), format!("{}: {value:?}", path.display()));
        }
    }
    report.n_identical += usize::from(identical);
    report.n_same_text += usize::from(same_text);
}

fn security_event(id: u32, record: u32, data: &str) -> String {
    format!(
        "<Event xmlns='{NS}'><System><Provider Name='Microsoft-Windows-Security-Auditing' \
         Guid='{{54849625-5478-4994-a5ba-3e3b0328c30d}}'/><EventID>{id}</EventID><Version>2</Version>\
         <Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords>\
         <TimeCreated SystemTime='2024-05-01T10:00:00.1234567Z'/><EventRecordID>{record}</EventRecordID>\
         <Correlation/><Execution ProcessID='636' ThreadID='700'/><Channel>Security</Channel>\
         <Computer>dc01.example.com</Computer><Security/></System><EventData>{data}</EventData></Event>"
    )
}

#[test]
fn a_bad_event_does_not_hide_the_others() {
    let good = security_event(4624, 1, "<Data Name='TargetUserName'>alice</Data>");
    let unclosed = security_event(4625, 2, "<Data Name='TargetUserName'>bob</Data><Data Name='X'>");
    let mismatched = "<Event><System><EventID>1</EventID></Sys></Event>";
    let text = format!("<Events>\n{good}\n{unclosed}\n{mismatched}\n{good}\n</Events>");
    let results = read_xml(&text);
    assert_eq!(results.len(), 4);
    assert!(results[0].is_ok());
    let error = results[1].as_ref().expect_err("unclosed").to_string();
    assert!(error.contains("line 3"), "{error}");
    let error = results[2].as_ref().expect_err("mismatched").to_string();
    assert!(error.contains("line 4"), "{error}");
    assert_eq!(
        results[3].as_ref().expect("last").get_str("TargetUserName").as_deref(),
        Some("alice")
    );
}

#[test]
fn billion_laughs_is_harmless() {
    let mut doctype =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for level in 1..10 {
        let previous = if level == 1 { "lol".to_owned() } else { format!("lol{}", level - 1) };
        doctype.push_str(&format!(
            "<!ENTITY lol{level} \"{}\">\n",
            format!("&{previous};").repeat(10)
        ));
    }
    doctype.push_str("]>\n");
    let text = format!(
        "{doctype}{}",
        security_event(
            4624,
            1,
            "<Data Name='TargetUserName'>&lol9;</Data><Data Name='A'>&amp;&#x41;</Data>"
        )
    );
    let results = read_xml(&text);
    assert_eq!(results.len(), 1);
    let event = results[0].as_ref().expect("event");
    assert_eq!(event.get_str("TargetUserName").as_deref(), Some("&lol9;"));
    assert_eq!(event.get_str("A").as_deref(), Some("&A"));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let text = format!(
        "{}{}{}\n{}",
        "<Event><UserData>",
        "<x>".repeat(depth),
        "</x>".repeat(depth),
        security_event(4624, 9, "<Data Name='TargetUserName'>alice</Data>")
    );
    let results = read_xml(&text);
    assert_eq!(results.len(), 2);
    let error = results[0].as_ref().expect_err("too deep").to_string();
    assert!(error.contains(&MAX_DEPTH.to_string()), "{error}");
    assert!(results[1].is_ok());
}

#[test]
fn huge_attribute_values_and_lossy_text() {
    let big = "A".repeat(4 << 20);
    let text = format!(
        "<Event xmlns='{NS}'><System><Provider Name='{big}'/><EventID>1</EventID></System></Event>"
    );
    let results = read_xml(&text);
    assert_eq!(
        results[0].as_ref().expect("event").get_str("Provider_Name").map(|n| n.len()),
        Some(big.len())
    );
    // The caller converts bytes lossily: invalid UTF-8 becomes U+FFFD and the event is read.
    let bytes = security_event(4624, 1, "<Data Name='TargetUserName'>al\u{0}ice</Data>")
        .replace("al\u{0}ice", "al\u{FFFD}ice");
    let results = read_xml(&String::from_utf8_lossy(bytes.as_bytes()));
    assert_eq!(
        results[0].as_ref().expect("event").get_str("TargetUserName").as_deref(),
        Some("al\u{FFFD}ice")
    );
}

#[test]
fn empty_and_foreign_inputs() {
    assert!(read_xml("").is_empty());
    assert!(read_xml("  <?xml version=\"1.0\"?>\n<Events></Events>\n").is_empty());
    assert!(read_xml("<Events/>").is_empty());
    let results = read_xml("not xml at all");
    assert_eq!(results.len(), 1);
    assert!(results[0].is_err());
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        for event in read_xml(&text).into_iter().flatten() {
            check_invariants(&event);
        }
    }

    #[test]
    fn cut_events_never_panic(cut in 0usize..2000, splice in "[<>&;'\"/a-zA-Z ]{0,8}") {
        let text = security_event(4688, 5, "<Data Name='NewProcessName'>C:\\Windows\\cmd.exe</Data><Data Name='CommandLine'>cmd /c \"echo &amp; 1\"</Data>");
        let mut at = cut.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mutated = format!("{}{}{}", &text[..at], splice, &text[at..]);
        for event in read_xml(&mutated).into_iter().flatten() {
            check_invariants(&event);
        }
        let truncated = &text[..at];
        let _ = read_xml(truncated);
    }
}
