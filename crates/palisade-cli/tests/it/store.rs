//! `palisade ingest`, `palisade query` and `palisade store stats` on a fresh data directory.

use std::fs;

use crate::{palisade, text};

#[test]
fn ingest_then_query_then_stats() {
    let dir = tempfile::tempdir().expect("tmp");
    let events = dir.path().join("events.jsonl");
    let lines: Vec<String> = (0..30)
        .map(|n| {
            format!(
                r#"{{"@timestamp":"2026-10-01T00:{:02}:00Z","event":{{"dataset":"auth","outcome":"{}"}},"user":{{"name":"user{}"}},"source":{{"ip":"10.0.0.{}","port":{}}},"ssh":{{"method":"password"}}}}"#,
                n,
                if n % 3 == 0 { "success" } else { "failure" },
                n % 4,
                n % 5,
                40000 + n
            )
        })
        .collect();
    fs::write(&events, lines.join("\n")).expect("write");
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8");
    let ingest = palisade(&["--data-dir", data, "ingest", "-q", events.to_str().expect("utf-8")]);
    assert_eq!(ingest.status.code(), Some(0), "{}", text(&ingest.stderr));

    let query = palisade(&[
        "--data-dir",
        data,
        "query",
        "--format",
        "csv",
        r#"SELECT "event.outcome" AS outcome, count(*) AS n, count(DISTINCT "user.name") AS users FROM events GROUP BY outcome ORDER BY outcome"#,
    ]);
    assert_eq!(query.status.code(), Some(0), "{}", text(&query.stderr));
    assert_eq!(text(&query.stdout), "outcome,n,users\nfailure,20,4\nsuccess,10,4\n");

    // Fields without a typed column stay reachable through `_source`.
    let rest = palisade(&[
        "--data-dir",
        data,
        "query",
        "--format",
        "jsonl",
        r#"SELECT count(*) AS n FROM events WHERE _source LIKE '%"ssh.method":"password"%'"#,
    ]);
    assert_eq!(text(&rest.stdout).trim(), r#"{"n":30}"#);

    let refused = palisade(&["--data-dir", data, "query", "DELETE FROM events"]);
    assert_eq!(refused.status.code(), Some(2), "a write is a usage error");
    assert!(text(&refused.stderr).contains("invalid query"), "{}", text(&refused.stderr));

    let stats = palisade(&["--data-dir", data, "store", "stats", "--format", "json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&stats.stdout).expect("json stats");
    assert_eq!(parsed["events"], serde_json::json!(30));
    assert_eq!(parsed["segments"], serde_json::json!(1));
    assert_eq!(parsed["first_event"], serde_json::json!("2026-10-01T00:00:00Z"));
}

#[test]
fn ingest_keeps_what_it_cannot_parse_and_reads_auth_logs() {
    let dir = tempfile::tempdir().expect("tmp");
    let jsonl = dir.path().join("mixed.jsonl");
    fs::write(&jsonl, "{\"user\":{\"name\":\"alice\"}}\nthis line is not JSON\n{\"user\":\n")
        .expect("write");
    let auth = dir.path().join("auth.log");
    fs::write(
        &auth,
        "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n\
         Dec 10 07:02:47 LabSZ sshd[24203]: Accepted password for fztu from 119.137.62.142 port 49116 ssh2\n\
         garbage that is no syslog at all\n",
    )
    .expect("write");
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8");
    let ingest = palisade(&[
        "--data-dir",
        data,
        "ingest",
        jsonl.to_str().expect("utf-8"),
        auth.to_str().expect("utf-8"),
    ]);
    assert_eq!(ingest.status.code(), Some(0), "{}", text(&ingest.stderr));
    assert!(text(&ingest.stderr).contains("Imported 6 events"), "{}", text(&ingest.stderr));
    let query = palisade(&[
        "--data-dir",
        data,
        "query",
        "--format",
        "csv",
        r#"SELECT "user.name" AS user, "source.ip" AS ip, "event.outcome" AS outcome, message FROM events ORDER BY message NULLS FIRST"#,
    ]);
    assert_eq!(query.status.code(), Some(0), "{}", text(&query.stderr));
    assert_eq!(
        text(&query.stdout),
        "user,ip,outcome,message\n\
         alice,,,\n\
         fztu,119.137.62.142,success,Accepted password for fztu from 119.137.62.142 port 49116 ssh2\n\
         webmaster,173.234.31.186,failure,Invalid user webmaster from 173.234.31.186\n\
         ,,,garbage that is no syslog at all\n\
         ,,,this line is not JSON\n\
         ,,,\"{\"\"user\"\":\"\n"
    );
}
