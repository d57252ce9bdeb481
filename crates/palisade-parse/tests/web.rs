//! Web server log parsing (`palisade_parse::web`): golden files, the loghub Apache error-log
//! corpus and property tests.
//!
//! Golden files: `tests/golden/web/<name>.log` holds log lines (lines starting with `#` are
//! comments): `nginx.log`, `apache.log` and `unknown.log` are access lines read with
//! [`web::parse_line`] and the server of their name; `error.log` holds Apache error-log lines
//! read with [`web::parse_error_line`]. `<name>.jsonl` holds, line for line, the fields
//! produced with `@timestamp` (`null` when the line is not recognised); `event.original` is
//! checked to be the line and left out. `PALISADE_BLESS=1 cargo test -p palisade-parse --test
//! web golden` rewrites the expected files; read every changed line before keeping it.
//!
//! The corpus test reads `shared/corpus/logs/loghub/Apache` next to the checkout and is
//! skipped when it is absent: the product never needs it.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use palisade_event::{Event, Value};
use palisade_parse::ecs::MAX_TEXT_LEN;
use palisade_parse::web::{self, WebServer};
use proptest::prelude::*;

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
    let dataset = event.get_str("event.dataset").expect("event.dataset");
    assert!(
        [web::DATASET_NGINX, web::DATASET_APACHE, web::DATASET_UNKNOWN, web::DATASET_APACHE_ERROR]
            .contains(&dataset.as_ref()),
        "{dataset}: {line}"
    );
    assert_eq!(event.get_str("event.kind").as_deref(), Some("event"), "{line}");
    assert!(strings(event.get("event.category")).contains(&"web".to_owned()), "{line}");
    let types = strings(event.get("event.type"));
    for kind in &types {
        assert!(["access", "error", "info", "denied"].contains(&kind.as_str()), "{kind}: {line}");
    }
    if dataset != web::DATASET_APACHE_ERROR {
        assert!(types.contains(&"access".to_owned()), "{line}");
        let status = match event.get("http.response.status_code") {
            Some(Value::Int(status)) => *status,
            other => panic!("status {other:?}: {line}"),
        };
        assert!((0..=999).contains(&status), "{line}");
        let outcome = event.get_str("event.outcome");
        match status {
            100..=399 => assert_eq!(outcome.as_deref(), Some("success"), "{line}"),
            400..=599 => assert_eq!(outcome.as_deref(), Some("failure"), "{line}"),
            _ => assert_eq!(outcome, None, "{line}"),
        }
        if let Some(bytes) = event.get("http.response.body.bytes") {
            assert!(matches!(bytes, Value::Int(n) if *n >= 0), "{line}");
        }
    } else {
        assert!(event.get_str("log.level").is_some(), "{line}");
    }
    for field in ["source.ip", "destination.ip", "related.ip"] {
        for ip in strings(event.get(field)) {
            assert!(ip.parse::<IpAddr>().is_ok(), "{field} {ip:?} is not an IP: {line}");
        }
    }
    for field in ["source.port", "destination.port", "url.port"] {
        if let Some(value) = event.get(field) {
            assert!(
                matches!(value, Value::Int(port) if (0..=65535).contains(port)),
                "{field} {value:?}: {line}"
            );
        }
    }
    for (field, value) in event.fields().filter(|(field, _)| *field != "event.original") {
        for text in strings(Some(value)) {
            assert!(text.len() <= MAX_TEXT_LEN, "{field} is not capped: {line}");
        }
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/web")
}

/// Parses one golden line with the parser its file is for.
fn parse_golden(file_stem: &str, line: &str) -> Option<Event> {
    let event = match file_stem {
        "nginx" => web::parse_line(line, WebServer::Nginx),
        "apache" => web::parse_line(line, WebServer::Apache),
        "unknown" => web::parse_line(line, WebServer::Unknown),
        "error" => web::parse_error_line(line),
        other => panic!("no parser for golden file {other}"),
    }?;
    check_invariants(&event, line);
    assert_eq!(event.get_str("event.original").as_deref(), Some(line));
    Some(event)
}

/// The golden form of an event: its fields without `event.original`, plus `@timestamp`.
fn golden_json(event: &Event) -> String {
    let mut object = serde_json::Map::new();
    if let Some(timestamp) = event.timestamp() {
        object.insert("@timestamp".into(), timestamp.to_string().into());
    }
    if let serde_json::Value::Object(fields) = event.to_json() {
        for (name, value) in fields {
            if name != "event.original" {
                object.insert(name, value);
            }
        }
    }
    serde_json::Value::Object(object).to_string()
}

fn golden_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("golden input");
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
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

#[test]
fn golden() {
    let bless = std::env::var_os("PALISADE_BLESS").is_some();
    let inputs = golden_inputs();
    assert!(!inputs.is_empty(), "no golden inputs");
    let mut failures = Vec::new();
    for input in &inputs {
        let stem = input.file_stem().and_then(|stem| stem.to_str()).expect("file name");
        let lines = golden_lines(input);
        let actual: Vec<String> = lines
            .iter()
            .map(|line| {
                parse_golden(stem, line).map_or_else(|| "null".to_owned(), |e| golden_json(&e))
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
}

#[test]
fn golden_files_have_twenty_lines() {
    let access: usize = ["nginx", "apache", "unknown"]
        .iter()
        .map(|stem| golden_lines(&golden_dir().join(format!("{stem}.log"))).len())
        .sum();
    assert!(access >= 20, "{access} access lines");
    let errors = golden_lines(&golden_dir().join("error.log")).len();
    assert!(errors >= 20, "{errors} error lines");
}

#[test]
fn syslog_carried_lines() {
    let line =
        r#"192.0.2.1 - - [10/Oct/2026:13:55:36 -0700] "GET / HTTP/1.1" 200 2326 "-" "curl/8.5.0""#;
    for (program, dataset) in [
        ("nginx", "nginx.access"),
        ("apache2", "apache.access"),
        ("/usr/sbin/httpd", "apache.access"),
        ("apache-access", "apache.access"),
    ] {
        let mut event = Event::new();
        assert!(web::parse_program(program, Some(7), line, &mut event), "{program}");
        check_invariants(&event, line);
        assert_eq!(event.get_str("event.dataset").as_deref(), Some(dataset));
        assert_eq!(event.timestamp(), Some("2026-10-10T20:55:36Z".parse().expect("time")));
        // The syslog layer owns these.
        assert_eq!(event.get("event.original"), None);
        assert_eq!(event.get("message"), None);
    }
    // Apache error lines sent to syslog have no time; nginx does not write this format.
    let error =
        "[core:error] [pid 1:tid 2] [client 192.0.2.1:5000] AH00128: File does not exist: /x";
    let mut event = Event::new();
    assert!(web::parse_program("apache2", Some(1), error, &mut event));
    check_invariants(&event, error);
    assert_eq!(event.get_str("error.code").as_deref(), Some("AH00128"));
    assert_eq!(event.get("source.port"), Some(&Value::Int(5000)));
    assert_eq!(event.timestamp(), None);
    let mut event = Event::new();
    assert!(!web::parse_program("nginx", Some(1), error, &mut event));
    assert!(event.is_empty());
    // Another program, or a message that is not an access line, leaves the event alone.
    for (program, message) in [("sshd", line), ("nginx", "worker process 12 exited"), ("httpd", "")]
    {
        let mut event = Event::new();
        assert!(!web::parse_program(program, None, message, &mut event), "{program}");
        assert!(event.is_empty());
    }
}

#[test]
fn long_fields_are_capped() {
    let path = "a".repeat(100_000);
    let agent = "b".repeat(100_000);
    let line = format!(
        r#"192.0.2.1 - {path} [10/Oct/2026:13:55:36 -0700] "GET /{path} HTTP/1.1" 200 1 "-" "{agent}" {agent}"#
    );
    let event = web::parse_line(&line, WebServer::Unknown).expect("recognised");
    check_invariants(&event, "long line");
    assert_eq!(event.get_str("user_agent.original").map(|text| text.len()), Some(MAX_TEXT_LEN));
    assert_eq!(event.get_str("user.name").map(|text| text.len()), Some(256));
    let many_extras = format!("{line} x") + &" y".repeat(1000);
    let event = web::parse_line(&many_extras, WebServer::Unknown).expect("recognised");
    match event.get("web.extra") {
        Some(Value::List(items)) => assert_eq!(items.len(), web::MAX_EXTRA_FIELDS),
        other => panic!("web.extra {other:?}"),
    }
}

/// Reads a loghub sample next to the checkout, or `None` (the test is then skipped).
fn corpus(relative: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/logs/loghub")
        .join(relative);
    std::fs::read_to_string(path).ok()
}

#[test]
fn apache_error_corpus() {
    let Some(text) = corpus("Apache/Apache_2k.log") else {
        eprintln!("loghub Apache corpus not found: skipped");
        return;
    };
    let mut n_lines = 0;
    let mut missed = Vec::new();
    let mut n_error = 0;
    let mut n_client = 0;
    let mut n_denied = 0;
    for line in text.lines() {
        n_lines += 1;
        let Some(event) = web::parse_error_line(line) else {
            missed.push(line.to_owned());
            continue;
        };
        check_invariants(&event, line);
        assert!(event.timestamp().is_some(), "{line}");
        if event.get_str("log.level").as_deref() == Some("error") {
            n_error += 1;
        }
        if event.get("source.ip").is_some() {
            n_client += 1;
        }
        if strings(event.get("event.type")).contains(&"denied".to_owned()) {
            n_denied += 1;
        }
        // An access-log parser must not claim an error line.
        assert!(web::parse_line(line, WebServer::Unknown).is_none(), "{line}");
    }
    eprintln!("recognised {}/{n_lines}", n_lines - missed.len());
    assert_eq!(n_lines, 2000);
    assert!(missed.is_empty(), "missed: {missed:?}");
    // Cross-checks against plain substring counts of the same file.
    let count = |needle: &str| text.lines().filter(|line| line.contains(needle)).count();
    assert_eq!(n_error, count("] [error] "));
    assert_eq!(n_client, count("[client "));
    assert_eq!(n_denied, count("Directory index forbidden by rule"));
}

/// Lines of the golden files, the seeds of the mutation strategy.
static GOLDEN_LINES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut lines: Vec<String> =
        golden_inputs().iter().flat_map(|path| golden_lines(path)).collect();
    lines.sort();
    lines
});

/// Golden lines cut at a random point and with random text spliced in.
fn mutated_line() -> impl Strategy<Value = String> {
    (prop::sample::select(GOLDEN_LINES.clone()), any::<prop::sample::Index>(), "\\PC{0,12}")
        .prop_map(|(line, index, splice)| {
            let mut at = index.index(line.len() + 1);
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            let mut mutated = if splice.is_empty() { line[..at].to_owned() } else { line.clone() };
            if !splice.is_empty() {
                mutated.insert_str(at, &splice);
            }
            mutated
        })
}

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,160}",
        "[ -~]{0,40} \\[[ -~]{0,30}\\] \"[ -~\\\\]{0,40}\" [0-9-]{0,4} [0-9-]{0,5}( \"[ -~]{0,20}\"){0,4}",
        "\\[[A-Za-z0-9 :.]{0,32}\\] \\[[a-z_:0-9]{0,20}\\]( \\[[a-z]{3,6} [ -~]{0,20}\\]){0,3} [ -~]{0,40}",
    ]
}

fn check_all(line: &str) -> Result<(), TestCaseError> {
    for server in [WebServer::Nginx, WebServer::Apache, WebServer::Unknown] {
        if let Some(event) = web::parse_line(line, server) {
            check_invariants(&event, line);
        }
    }
    if let Some(event) = web::parse_error_line(line) {
        check_invariants(&event, line);
    }
    for program in ["nginx", "apache2", "httpd", "sshd"] {
        let mut event = Event::new();
        if web::parse_program(program, Some(3), line, &mut event) {
            check_invariants(&event, line);
        } else {
            prop_assert!(event.is_empty());
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_lines_never_panic(line in line_strategy()) {
        check_all(&line)?;
    }

    #[test]
    fn mutated_golden_lines_never_panic(line in mutated_line()) {
        check_all(&line)?;
    }
}

/// The examples of the module's doc comments (doc tests are run by CI only).
#[test]
fn doc_examples_hold() {
    let line = r#"www.example.com:443 2001:db8::7 - alice [10/Oct/2026:13:55:36 +0200] "POST /login?next=%2F HTTP/2.0" 302 - "-" "Mozilla/5.0""#;
    let event = web::parse_line(line, WebServer::Apache).expect("recognised");
    assert_eq!(event.get_str("source.ip").as_deref(), Some("2001:db8::7"));
    assert_eq!(event.get_str("url.query").as_deref(), Some("next=%2F"));
    assert_eq!(event.get_str("destination.domain").as_deref(), Some("www.example.com"));
    assert_eq!(event.get_str("user.name").as_deref(), Some("alice"));
    let mut event = Event::new();
    let line = r#"192.0.2.1 - - [10/Oct/2026:13:55:36 -0700] "GET /a.png HTTP/1.1" 200 2326 "-" "curl/8.5.0""#;
    assert!(web::parse_program("nginx", Some(812), line, &mut event));
    assert_eq!(event.get_str("url.extension").as_deref(), Some("png"));
    let line = "[Sun Dec 04 04:47:44 2005] [error] [client 192.0.2.1] Directory index forbidden by rule: /var/www/html/";
    let event = web::parse_error_line(line).expect("recognised");
    assert_eq!(event.timestamp(), Some("2005-12-04T04:47:44Z".parse().expect("time")));
}
