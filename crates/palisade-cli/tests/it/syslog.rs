//! Syslog into `palisade serve` from real clients: util-linux `logger` over UDP and TCP
//! (RFC 5424 and RFC 3164, LF and octet-counted framing), and rsyslog forwarding RFC 5424 with
//! octet counting over TCP. Each test checks that the stored events equal what was sent,
//! field values included.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::server::{Server, query, token};

/// Polls a query until it returns `rows` rows (syslog has no acknowledgement).
pub(crate) fn wait_for_rows(
    server: &Server,
    token: &str,
    sql: &str,
    rows: usize,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = query(&server.url, token, sql);
        let found = answer["rows"].as_array().map_or(0, Vec::len);
        if found >= rows || Instant::now() > deadline {
            assert_eq!(found, rows, "rows of {sql}: {answer}");
            return answer;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn logger(args: &[&str]) {
    let status = Command::new("logger").args(args).status().expect("run logger (util-linux)");
    assert!(status.success(), "logger {args:?}");
}

pub(crate) fn host_port(address: &str) -> (&str, &str) {
    address.rsplit_once(':').expect("host:port")
}

const FIELDS: &str = r#"SELECT message, "user.name" AS user, "source.ip" AS ip, "source.port" AS port,
    "event.action" AS action, "event.outcome" AS outcome, "process.name" AS program,
    "process.pid" AS pid, source_field("_source", 'log.syslog.hostname') AS host,
    source_field("_source", 'log.syslog.facility.name') AS facility,
    source_field("_source", 'log.syslog.severity.code') AS severity
    FROM events"#;

#[test]
fn logger_over_udp_and_tcp_is_parsed_and_stored() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let secret = token(&data, "analyst");
    let server = Server::start(&data, None);
    let (host, udp_port) = host_port(&server.syslog_udp);
    let (_, tcp_port) = host_port(&server.syslog_tcp);
    let failed = "Failed password for invalid user bob from 203.0.113.5 port 4242 ssh2";
    logger(&[
        "--server",
        host,
        "--port",
        udp_port,
        "--udp",
        "--rfc5424",
        "--tag",
        "sshd",
        "--id=1234",
        "-p",
        "authpriv.notice",
        failed,
    ]);
    logger(&[
        "--server",
        host,
        "--port",
        udp_port,
        "--udp",
        "--rfc3164",
        "--tag",
        "sshd",
        "--id=1235",
        "-p",
        "auth.info",
        "Accepted publickey for alice from 2001:db8::7 port 51000 ssh2: ED25519 SHA256:abc",
    ]);
    logger(&[
        "--server",
        host,
        "--port",
        tcp_port,
        "--tcp",
        "--octet-count",
        "--rfc5424",
        "--tag",
        "sudo",
        "-p",
        "authpriv.notice",
        "carol : TTY=pts/0 ; PWD=/home/carol ; USER=root ; COMMAND=/usr/bin/id",
    ]);
    logger(&[
        "--server",
        host,
        "--port",
        tcp_port,
        "--tcp",
        "--rfc3164",
        "--tag",
        "myapp",
        "-p",
        "local3.err",
        "plain text that no auth parser knows \"quoted\"",
    ]);

    let answer = wait_for_rows(&server, &secret, &format!("{FIELDS} ORDER BY message"), 4);
    let rows = answer["rows"].as_array().expect("rows");
    let by_message = |text: &str| {
        rows.iter()
            .find(|row| row["message"].as_str().is_some_and(|m| m.contains(text)))
            .unwrap_or_else(|| panic!("no row with {text}: {answer}"))
    };
    let row = by_message("invalid user bob");
    assert_eq!(row["message"], failed);
    assert_eq!(
        (row["user"].as_str(), row["ip"].as_str(), row["port"].as_i64()),
        (Some("bob"), Some("203.0.113.5"), Some(4242))
    );
    assert_eq!(
        (row["outcome"].as_str(), row["program"].as_str(), row["pid"].as_i64()),
        (Some("failure"), Some("sshd"), Some(1234))
    );
    assert_eq!((row["facility"].as_str(), row["severity"].as_str()), (Some("authpriv"), Some("5")));
    let hostname = row["host"].as_str().expect("hostname").to_owned();
    assert!(!hostname.is_empty());

    let row = by_message("Accepted publickey");
    assert_eq!(
        (row["user"].as_str(), row["ip"].as_str(), row["port"].as_i64()),
        (Some("alice"), Some("2001:db8::7"), Some(51000))
    );
    assert_eq!(
        (row["outcome"].as_str(), row["pid"].as_i64(), row["facility"].as_str()),
        (Some("success"), Some(1235), Some("auth"))
    );

    let row = by_message("COMMAND=/usr/bin/id");
    assert_eq!((row["user"].as_str(), row["program"].as_str()), (Some("carol"), Some("sudo")));

    let row = by_message("no auth parser");
    assert_eq!(row["message"], "plain text that no auth parser knows \"quoted\"");
    assert_eq!(
        (row["program"].as_str(), row["facility"].as_str(), row["severity"].as_str()),
        (Some("myapp"), Some("local3"), Some("3"))
    );
    assert_eq!(row["action"], serde_json::Value::Null);
    server.kill();
}

/// rsyslogd, when installed (CI installs the Debian package); a loud skip elsewhere.
fn rsyslogd() -> Option<&'static Path> {
    let path = Path::new("/usr/sbin/rsyslogd");
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "rsyslogd is missing and CI=true (apt-get install rsyslog)"
    );
    eprintln!("\n!!! SKIPPED: rsyslogd not installed (apt-get install rsyslog) !!!\n");
    None
}

#[test]
fn rsyslog_forwards_rfc5424_octet_counted_over_tcp() {
    let Some(rsyslogd) = rsyslogd() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let secret = token(&data, "analyst");
    let server = Server::start(&data, None);
    let (host, port) = host_port(&server.syslog_tcp);
    // rsyslogd chdir()s to /: every path in its configuration is absolute.
    let work = dir.path().join("rsyslog");
    std::fs::create_dir_all(&work).expect("mkdir");
    let socket = work.join("log.sock");
    let config = work.join("rsyslog.conf");
    std::fs::write(
        &config,
        format!(
            r#"global(workDirectory="{work}" maxMessageSize="64k")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{socket}" CreatePath="on" UseSpecialParser="off" ParseHostname="on")
action(type="omfwd" target="{host}" port="{port}" protocol="tcp"
       template="RSYSLOG_SyslogProtocol23Format" TCP_Framing="octet-counted"
       action.resumeRetryCount="-1" action.resumeInterval="1" queue.type="LinkedList" queue.size="10000")
"#,
            work = work.display(),
            socket = socket.display(),
        ),
    )
    .expect("config");
    let mut daemon = Command::new(rsyslogd)
        .arg("-n")
        .arg("-f")
        .arg(&config)
        .arg("-i")
        .arg(work.join("rsyslogd.pid"))
        .spawn()
        .expect("start rsyslogd");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "rsyslogd did not create its socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    let socket_text = socket.to_str().expect("utf-8");
    let sent: Vec<String> = (0..50)
        .map(|n| format!("Failed password for user{n} from 198.51.100.{n} port {} ssh2", 30000 + n))
        .collect();
    for line in &sent {
        logger(&["-u", socket_text, "--tag", "sshd", "--id=777", "-p", "authpriv.warning", line]);
    }
    // A line with a newline inside, which octet counting carries in one frame.
    logger(&["-u", socket_text, "--tag", "app", "multi-line message: first\nsecond line"]);
    let answer = wait_for_rows(
        &server,
        &secret,
        r#"SELECT message, "user.name" AS user, "source.ip" AS ip, "source.port" AS port FROM events WHERE "process.name" = 'sshd' ORDER BY port"#,
        sent.len(),
    );
    for (row, (n, line)) in
        answer["rows"].as_array().expect("rows").iter().zip(sent.iter().enumerate())
    {
        assert_eq!(row["message"].as_str(), Some(line.as_str()));
        assert_eq!(row["user"].as_str(), Some(format!("user{n}").as_str()));
        assert_eq!(row["ip"].as_str(), Some(format!("198.51.100.{n}").as_str()));
        assert_eq!(row["port"].as_i64(), Some(30000 + n as i64));
    }
    let multi = wait_for_rows(
        &server,
        &secret,
        r#"SELECT message FROM events WHERE "process.name" = 'app'"#,
        1,
    );
    let message = multi["rows"][0]["message"].as_str().expect("message");
    assert!(message.contains("first") && message.contains("second line"), "{message}");
    let _ = daemon.kill();
    let _ = daemon.wait();
    server.kill();
}
