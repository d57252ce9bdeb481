//! Shippers' protocols against `palisade serve`: the official Python `elasticsearch` client's
//! bulk helper against `_bulk`, and curl against Splunk HEC. The stored events must equal what
//! was sent, field values included.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::server::{Server, query, token};
use crate::text;

/// The Python with the client libraries (`.ci/run` builds it from tools/clients); a loud skip
/// elsewhere, a failure in CI.
fn client_python() -> Option<PathBuf> {
    let python =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/pyvenv-clients/bin/python");
    let ok = python.exists()
        && Command::new(&python)
            .args(["-c", "import elasticsearch"])
            .status()
            .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} with the elasticsearch package is missing and CI=true",
        python.display()
    );
    eprintln!(
        "\n!!! SKIPPED: no client venv; run: python3 -m venv target/pyvenv-clients && target/pyvenv-clients/bin/pip install -r tools/clients/requirements.txt !!!\n"
    );
    None
}

#[test]
fn the_elasticsearch_bulk_helper_stores_every_document() {
    let Some(python) = client_python() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let shipper = token(&data, "ingest");
    let analyst = token(&data, "analyst");
    let server = Server::start(&data, None);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/clients/es_bulk.py");
    let output = Command::new(python)
        .arg(script)
        .args([&server.url, &shipper, "web-logs", "1000"])
        .output()
        .expect("run the elasticsearch client");
    assert!(output.status.success(), "{}\n{}", text(&output.stdout), text(&output.stderr));
    let reply: serde_json::Value =
        serde_json::from_slice(output.stdout.trim_ascii()).expect("client output");
    assert_eq!(reply["ok"], 1000, "{reply}");
    assert_eq!(reply["errors"], serde_json::json!([]));
    let answer = query(
        &server.url,
        &analyst,
        r#"SELECT source_field("_source", 'event.id') AS id, "user.name" AS user, "source.ip" AS ip, "source.port" AS port,
           "event.category" AS category, "event.dataset" AS dataset,
           source_field("_source", 'labels.batch') AS batch, "@timestamp" AS ts
           FROM events ORDER BY port"#,
    );
    let rows = answer["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1000, "{answer}");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["user"], format!("user{i}"));
        assert_eq!(row["ip"], format!("192.0.2.{}", i % 256));
        assert_eq!(row["port"], 1000 + i);
        assert_eq!(row["id"], format!("doc-{i}"));
        assert_eq!(row["category"], "network,web");
        assert_eq!(row["dataset"], "web-logs");
        assert_eq!(row["batch"], (i / 100).to_string());
        let ts = row["ts"].as_str().expect("time");
        assert!(ts.starts_with(&format!("2026-11-30T12:{:02}:{:02}", i / 60 % 60, i % 60)), "{ts}");
    }
    server.kill();
}

fn curl(args: &[&str]) -> (u16, String) {
    let output = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("run curl");
    let body = text(&output.stdout);
    let (body, code) = body.rsplit_once('\n').expect("status line");
    (code.trim().parse().expect("status"), body.to_owned())
}

#[test]
fn curl_against_hec_event_and_raw() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let shipper = token(&data, "ingest");
    let analyst = token(&data, "analyst");
    let server = Server::start(&data, None);
    let auth = format!("Authorization: Splunk {shipper}");
    // Concatenated objects, as the HEC protocol allows, with metadata and indexed fields.
    let events = r#"{"time": 1764504000.25, "host": "web01", "sourcetype": "access_combined", "index": "main", "event": {"user": {"name": "dave"}, "http": {"response": {"status_code": 404}}}, "fields": {"region": "eu-west"}}{"time": "1764504001", "host": "web02", "event": "a plain string event"}"#;
    let (status, body) = curl(&[
        "-H",
        &auth,
        "--data-binary",
        events,
        &format!("{}/services/collector/event", server.url),
    ]);
    assert_eq!((status, body.as_str()), (200, r#"{"text":"Success","code":0}"#));
    let (status, _) = curl(&[
        "-H",
        &auth,
        "--data-binary",
        "raw line one\nraw line two\n",
        &format!("{}/services/collector/raw?sourcetype=syslog&host=fw01", server.url),
    ]);
    assert_eq!(status, 200);
    let (status, _) = curl(&[
        "-H",
        "Authorization: Splunk wrong",
        "--data-binary",
        events,
        &format!("{}/services/collector/event", server.url),
    ]);
    assert_eq!(status, 401);
    let (status, body) = curl(&[
        "-H",
        &auth,
        "--data-binary",
        r#"{"host": "x"}"#,
        &format!("{}/services/collector/event", server.url),
    ]);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("event field is required"), "{body}");

    let answer = query(
        &server.url,
        &analyst,
        r#"SELECT "@timestamp" AS ts, "host.name" AS host, "user.name" AS user,
           "http.response.status_code" AS status, message, "event.dataset" AS dataset,
           source_field("_source", 'region') AS region, source_field("_source", 'splunk.index') AS idx
           FROM events ORDER BY ts, message"#,
    );
    let rows = answer["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4, "{answer}");
    assert_eq!(rows[0]["ts"].as_str().map(|t| &t[..22]), Some("2025-11-30T12:00:00.25"));
    assert_eq!(
        (rows[0]["host"].as_str(), rows[0]["user"].as_str(), rows[0]["status"].as_i64()),
        (Some("web01"), Some("dave"), Some(404))
    );
    assert_eq!(
        (rows[0]["dataset"].as_str(), rows[0]["region"].as_str(), rows[0]["idx"].as_str()),
        (Some("access_combined"), Some("eu-west"), Some("main"))
    );
    assert_eq!(
        (rows[1]["host"].as_str(), rows[1]["message"].as_str()),
        (Some("web02"), Some("a plain string event"))
    );
    let raw: Vec<(&str, &str, &str)> = rows[2..]
        .iter()
        .map(|row| {
            (
                row["message"].as_str().unwrap_or(""),
                row["host"].as_str().unwrap_or(""),
                row["dataset"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let mut raw = raw;
    raw.sort_unstable();
    assert_eq!(raw, [("raw line one", "fw01", "syslog"), ("raw line two", "fw01", "syslog")]);
    server.kill();
}
