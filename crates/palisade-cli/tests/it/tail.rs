//! File tailing in `palisade serve`: new lines of followed files are parsed and stored once
//! each, across a partial line, a rename rotation with the writer still appending to the old
//! file, a copy-and-truncate rotation, and a SIGKILL with lines written while the server was
//! down.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::server::{Server, token};
use crate::syslog::wait_for_rows;

fn auth_line(n: usize) -> String {
    format!(
        "Dec  1 10:{:02}:{:02} bastion sshd[{}]: Failed password for user{n} from 198.51.100.{} port {} ssh2\n",
        n / 60 % 60,
        n % 60,
        1000 + n,
        n % 250,
        20000 + n
    )
}

fn access_line(n: usize) -> String {
    format!(
        "203.0.113.{} - - [01/Dec/2026:10:00:{:02} +0000] \"GET /page/{n}?q=1 HTTP/1.1\" 200 {} \"-\" \"curl/8.5.0\"\n",
        n % 250,
        n % 60,
        100 + n
    )
}

fn append(path: &Path, text: &str) {
    let mut file = OpenOptions::new().create(true).append(true).open(path).expect("open");
    file.write_all(text.as_bytes()).expect("append");
}

const SSHD: &str = r#"SELECT message, "user.name" AS user, "source.ip" AS ip, "source.port" AS port
    FROM events WHERE "process.name" = 'sshd' ORDER BY port"#;

fn start(data: &Path, logs: &Path) -> Server {
    let auth = format!("syslog:{}/auth.log*", logs.display());
    let access = format!("nginx:{}/access.log", logs.display());
    Server::start_with(data, None, &["--tail", &auth, "--tail", &access])
}

/// Checks that the sshd rows are exactly lines `0..count`, each once, fields included.
fn check_sshd(server: &Server, secret: &str, count: usize) {
    let answer = wait_for_rows(server, secret, SSHD, count);
    let rows = answer["rows"].as_array().expect("rows");
    for (n, row) in rows.iter().enumerate() {
        let line = auth_line(n);
        let message = line.split_once("]: ").expect("message").1.trim_end();
        assert_eq!(row["message"].as_str(), Some(message), "row {n}");
        assert_eq!(row["user"].as_str(), Some(format!("user{n}").as_str()));
        assert_eq!(row["ip"].as_str(), Some(format!("198.51.100.{}", n % 250).as_str()));
        assert_eq!(row["port"].as_i64(), Some(20000 + n as i64));
    }
}

#[test]
fn tailed_files_survive_rotation_truncation_and_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("mkdir");
    let auth = logs.join("auth.log");
    let access = logs.join("access.log");
    let secret = token(&data, "analyst");
    // History before the server starts is read from the beginning.
    append(&auth, &(0..10).map(auth_line).collect::<String>());
    // A compressed rotation matches the pattern but is never read as text.
    std::fs::write(logs.join("auth.log.2.gz"), b"\x1f\x8b\x08\x00not text\n").expect("gz");
    let server = start(&data, &logs);
    check_sshd(&server, &secret, 10);

    // A line written in two parts is stored once it ends.
    let line = auth_line(10);
    let (first, second) = line.split_at(30);
    append(&auth, first);
    std::thread::sleep(Duration::from_millis(1200));
    check_sshd(&server, &secret, 10);
    append(&auth, second);
    check_sshd(&server, &secret, 11);

    // Rename rotation: the writer still holds the old file and appends to it after the
    // rename, and a new file takes the name.
    let mut old = OpenOptions::new().append(true).open(&auth).expect("open");
    std::fs::rename(&auth, logs.join("auth.log.1")).expect("rotate");
    old.write_all((11..14).map(auth_line).collect::<String>().as_bytes()).expect("old writer");
    drop(old);
    append(&auth, &(14..18).map(auth_line).collect::<String>());
    check_sshd(&server, &secret, 18);

    // Copy and truncate: the file shrinks and is read again from its start.
    append(&access, &(0..3).map(access_line).collect::<String>());
    let web = r#"SELECT "url.original" AS url, "http.response.status_code" AS status,
        "source.ip" AS ip, source_field("_source", 'log.file.path') AS path FROM events
        WHERE "event.dataset" = 'nginx.access' ORDER BY url"#;
    wait_for_rows(&server, &secret, web, 3);
    std::fs::write(&access, b"").expect("truncate");
    std::thread::sleep(Duration::from_millis(1200));
    append(&access, &(3..5).map(access_line).collect::<String>());
    let answer = wait_for_rows(&server, &secret, web, 5);
    for (n, row) in answer["rows"].as_array().expect("rows").iter().enumerate() {
        assert_eq!(row["url"].as_str(), Some(format!("/page/{n}?q=1").as_str()));
        assert_eq!(row["status"].as_i64(), Some(200));
        assert_eq!(row["ip"].as_str(), Some(format!("203.0.113.{n}").as_str()));
        assert_eq!(row["path"].as_str(), Some(access.to_str().expect("utf-8")));
    }

    // A crash, lines written while down, a restart: each line once.
    std::thread::sleep(Duration::from_millis(1500));
    server.kill();
    append(&auth, &(18..24).map(auth_line).collect::<String>());
    let server = start(&data, &logs);
    check_sshd(&server, &secret, 24);
    std::thread::sleep(Duration::from_millis(1500));
    check_sshd(&server, &secret, 24);
    let duplicates = server.query(
        &secret,
        "SELECT message, count(*) AS n FROM events WHERE message IS NOT NULL GROUP BY message HAVING count(*) > 1",
    );
    assert_eq!(duplicates["rows"].as_array().map(Vec::len), Some(0), "{duplicates}");
    server.kill();
}
