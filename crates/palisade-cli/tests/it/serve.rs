//! `palisade serve` as users run it: HTTP ingest, `palisade query --server`, and the data
//! directory lock that keeps a second process out.

use std::process::Command;

use crate::server::{Server, ingest, token};
use crate::text;

#[test]
fn query_with_server_reaches_the_running_server_and_the_directory_is_locked() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let secret = token(&data, "analyst");
    let shipper = token(&data, "ingest");
    let server = Server::start(&data, None);
    let body = "{\"user\":{\"name\":\"alice\"},\"event\":{\"outcome\":\"failure\"}}\n\
                {\"user\":{\"name\":\"alice\"},\"event\":{\"outcome\":\"success\"}}\n\
                <13>Nov 30 22:00:01 host sshd[1]: \u{1b}[31mnot json\n";
    assert_eq!(ingest(&server.url, &shipper, body), Ok(200));

    let run = |args: &[&str], token: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
        command.args(args).env_remove("PALISADE_DATA_DIR").env_remove("PALISADE_SERVER");
        match token {
            Some(token) => command.env("PALISADE_TOKEN", token),
            None => command.env_remove("PALISADE_TOKEN"),
        };
        command.output().expect("run palisade")
    };
    let sql = r#"SELECT "user.name" AS user, "event.outcome" AS outcome, message FROM events ORDER BY outcome"#;
    let csv = run(&["query", "--server", &server.url, "--format", "csv", sql], Some(&secret));
    assert_eq!(csv.status.code(), Some(0), "{}", text(&csv.stderr));
    assert_eq!(
        text(&csv.stdout),
        // Without a type, the third line is detected as syslog: its message is what follows
        // the header.
        "user,outcome,message\nalice,failure,\nalice,success,\n,,\u{1b}[31mnot json\n"
    );
    // The table escapes the terminal control sequence that came in with the log line.
    let table = run(&["query", "--server", &server.url, sql], Some(&secret));
    assert_eq!(table.status.code(), Some(0), "{}", text(&table.stderr));
    assert!(!text(&table.stdout).contains('\u{1b}'), "{}", text(&table.stdout));
    assert!(text(&table.stdout).contains("(3 rows)"), "{}", text(&table.stdout));

    let no_token = run(&["query", "--server", &server.url, "SELECT 1"], None);
    assert_eq!(no_token.status.code(), Some(2));
    assert!(text(&no_token.stderr).contains("PALISADE_TOKEN"), "{}", text(&no_token.stderr));
    let refused = run(&["query", "--server", &server.url, "DROP VIEW events"], Some(&secret));
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("400"), "{}", text(&refused.stderr));
    let wrong_role = run(&["query", "--server", &server.url, "SELECT 1"], Some(&shipper));
    assert_eq!(wrong_role.status.code(), Some(2));
    assert!(text(&wrong_role.stderr).contains("403"), "{}", text(&wrong_role.stderr));

    // The server holds the data directory: a local query is refused with a pointer.
    let local = run(&["--data-dir", data.to_str().expect("utf-8"), "query", "SELECT 1"], None);
    assert_eq!(local.status.code(), Some(2));
    assert!(
        text(&local.stderr).contains("in use by another Palisade process"),
        "{}",
        text(&local.stderr)
    );
    server.kill();
}
