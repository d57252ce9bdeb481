//! `palisade ingest` of real logs with source detection per line: the loghub samples of the
//! shared corpus (Apache error log, OpenSSH, Linux syslog), a mixed file of every line-based
//! format, and `--type` for the formats that are never guessed. Counts are checked against
//! what the files contain, and every line is stored, parsed or not.

use std::fs;
use std::path::Path;

use crate::{corpus, palisade, text};

fn ingest(data: &Path, args: &[&str]) {
    let data = data.to_str().expect("utf-8");
    let mut all = vec!["--data-dir", data, "ingest", "-q"];
    all.extend(args);
    let output = palisade(&all);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

fn csv(data: &Path, sql: &str) -> String {
    let output =
        palisade(&["--data-dir", data.to_str().expect("utf-8"), "query", "--format", "csv", sql]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    text(&output.stdout)
}

#[test]
fn loghub_samples_are_detected_and_parsed() {
    let Some(corpus) = corpus() else { return };
    let loghub = corpus.join("logs/loghub");
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    for file in ["Apache/Apache_2k.log", "OpenSSH/OpenSSH_2k.log", "Linux/Linux_2k.log"] {
        ingest(&data, &[loghub.join(file).to_str().expect("utf-8")]);
    }
    let counts = csv(
        &data,
        r#"SELECT "event.dataset" AS dataset, count(*) AS n FROM events GROUP BY 1 ORDER BY 1"#,
    );
    // Every Apache error-log line and every OpenSSH line is recognised; of the Linux sample,
    // the sshd, PAM and su lines are (the rest are kernel boot messages and such, kept raw).
    assert!(counts.contains("apache.error,2000\n"), "{counts}");
    let auth: u64 = counts
        .lines()
        .find_map(|line| line.strip_prefix("system.auth,"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(auth >= 2000 + 853, "{counts}");
    assert_eq!(csv(&data, "SELECT count(*) AS n FROM events"), "n\n6000\n");
}

#[test]
fn a_mixed_file_is_read_line_by_line_and_types_force_a_parser() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let mixed = dir.path().join("mixed.log");
    fs::write(
        &mixed,
        concat!(
            "Dec  1 10:00:00 bastion sshd[811]: Failed password for root from 198.51.100.4 port 2222 ssh2\n",
            "203.0.113.7 - - [01/Dec/2026:10:00:01 +0000] \"GET /wp-login.php HTTP/1.1\" 404 162 \"-\" \"curl/8.5.0\"\n",
            "type=USER_LOGIN msg=audit(1764583202.123:456): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=198.51.100.4 terminal=ssh res=failed'\n",
            "CEF:0|Acme|Firewall|1.0|100|Blocked connection|5|src=203.0.113.9 dst=192.0.2.10 dpt=22 act=blocked\n",
            "Dec  1 10:00:04 fw kernel: [12.345678] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.5 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=49 ID=1 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0\n",
            "Dec  1 10:00:05 gw dhcpd[99]: DHCPACK on 192.0.2.50 to 00:16:3e:aa:bb:cc (laptop-7) via eth0\n",
            "{\"timestamp\":\"2026-12-01T10:00:06.000000+0000\",\"flow_id\":1,\"event_type\":\"alert\",\"src_ip\":\"203.0.113.9\",\"src_port\":4444,\"dest_ip\":\"192.0.2.10\",\"dest_port\":80,\"proto\":\"TCP\",\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":2010935,\"rev\":3,\"signature\":\"ET SCAN Suspicious inbound\",\"category\":\"Attempted Information Leak\",\"severity\":2}}\n",
            "something no parser knows\n",
        ),
    )
    .expect("write");
    ingest(&data, &[mixed.to_str().expect("utf-8")]);
    let datasets = csv(
        &data,
        r#"SELECT "event.dataset" AS dataset, "source.ip" AS ip FROM events ORDER BY "@timestamp", dataset"#,
    );
    for expected in [
        "system.auth,198.51.100.4",
        "web.access,203.0.113.7",
        "auditd.log,198.51.100.4",
        "cef.log,203.0.113.9",
        "iptables.log,203.0.113.5",
        "dhcpd.log,",
        "suricata.eve,203.0.113.9",
    ] {
        assert!(datasets.contains(expected), "{expected} missing in\n{datasets}");
    }
    let raw = csv(&data, r#"SELECT message FROM events WHERE "event.dataset" IS NULL"#);
    assert!(raw.contains("something no parser knows"), "{raw}");
    assert_eq!(csv(&data, "SELECT count(*) AS n FROM events"), "n\n8\n");

    // logfmt is only read when asked for.
    let logfmt = dir.path().join("app.txt");
    fs::write(
        &logfmt,
        "ts=2026-12-01T10:00:07Z level=warn msg=\"disk almost full\" mount=/var used=97\n",
    )
    .expect("write");
    ingest(&data, &["--type", "logfmt", logfmt.to_str().expect("utf-8")]);
    let rows = csv(
        &data,
        r#"SELECT source_field("_source", 'log.level') AS level, message FROM events
           WHERE message = 'disk almost full'"#,
    );
    assert_eq!(rows, "level,message\nwarn,disk almost full\n");
    let refused = palisade(&[
        "--data-dir",
        data.to_str().expect("utf-8"),
        "ingest",
        "--type",
        "nope",
        logfmt.to_str().expect("utf-8"),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("logfmt"), "{}", text(&refused.stderr));
}
