//! Live detection through the real server: SSH password guessing sent as syslog lines over
//! HTTP raises the built-in correlation rule and the brute-force behaviour detector; the
//! alerts cite stored events by `_seq`; a graceful restart in the middle of the correlation
//! window still raises the alert; switching the rule off over the API silences it.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::server::{Server, agent, ingest, token};
use crate::{palisade, text};

const CORRELATION: &str =
    "Password guessing against SSH from one address, followed by a successful login";

fn line(second: u32, message: &str) -> String {
    format!(
        "<38>1 2026-11-30T10:{:02}:{:02}Z bastion sshd 811 - - {message}\n",
        second / 60,
        second % 60
    )
}

fn failures(from: &str, seconds: std::ops::Range<u32>) -> String {
    failures_of("root", from, seconds)
}

fn failures_of(user: &str, from: &str, seconds: std::ops::Range<u32>) -> String {
    seconds
        .map(|second| {
            line(
                second * 2,
                &format!("Failed password for {user} from {from} port {} ssh2", 40_000 + second),
            )
        })
        .collect()
}

fn alerts(server: &Server, token: &str) -> Vec<serde_json::Value> {
    agent()
        .get(&format!("{}/api/v1/alerts?limit=1000", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("alerts answered")
        .body_mut()
        .read_json()
        .expect("json")
}

/// Waits until an alert of `title` for `ip` is listed (alerts are written asynchronously).
fn wait_for(server: &Server, token: &str, title: &str, ip: &str) -> Option<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(alert) = alerts(server, token).into_iter().find(|alert| {
            alert["rule_title"] == title
                && alert["entities"]["ips"]
                    .as_array()
                    .is_some_and(|ips| ips.iter().any(|v| v == ip))
        }) {
            return Some(alert);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

fn terminate(server: Server) {
    let pid = server.child.id().to_string();
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(status.success());
    let mut server = server;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if server.child.try_wait().expect("wait").is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not stop on SIGTERM");
}

#[test]
fn password_guessing_then_success_raises_alerts_that_cite_stored_events() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    let admin = token(&data, "admin");
    let server = Server::start(&data, None);
    // A user who mistypes twice then logs in: nothing. The attacker: twelve failures, then in.
    let mut body = failures_of("alice", "192.0.2.33", 0..2);
    body.push_str(&line(10, "Accepted password for alice from 192.0.2.33 port 41000 ssh2"));
    body.push_str(&failures("198.51.100.4", 10..22));
    body.push_str(&line(60, "Accepted password for root from 198.51.100.4 port 50000 ssh2"));
    assert_eq!(ingest(&server.url, &admin, &body), Ok(200));

    let alert = wait_for(&server, &admin, CORRELATION, "198.51.100.4").expect("correlation alert");
    assert_eq!(alert["kind"], "correlation");
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["group"], "source.ip=198.51.100.4");
    assert!(alert["attack"].as_array().expect("attack").iter().any(|t| t == "T1110.001"));
    let evidence: Vec<u64> = alert["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .collect();
    // The event_count fires on the tenth failure, which is what the ordered rule counts: the
    // ten failures that crossed the threshold, then the success.
    assert_eq!(evidence.len(), 11, "ten failures and the success: {alert}");
    // The evidence ids are the stored events' `_seq`: all from the attacker, the last one the success.
    let ids = evidence.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    let rows = server.query(
        &admin,
        &format!(
            r#"SELECT "source.ip", "event.outcome" FROM events WHERE _seq IN ({ids}) ORDER BY _seq"#
        ),
    );
    let rows = rows["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 11, "{rows:?}");
    assert!(rows.iter().all(|row| row["source.ip"] == "198.51.100.4"), "{rows:?}");
    assert_eq!(rows.iter().filter(|row| row["event.outcome"] == "success").count(), 1);

    let behaviour =
        wait_for(&server, &admin, "Brute force followed by a successful login", "198.51.100.4");
    let all = alerts(&server, &admin);
    assert!(
        behaviour.is_some() || all.iter().any(|a| a["rule_id"] == "palisade.brute_force"),
        "the brute-force detector fires too: {all:?}"
    );
    assert!(
        all.iter().all(|alert| !alert["entities"]["ips"]
            .as_array()
            .is_some_and(|ips| ips.iter().any(|v| v == "192.0.2.33"))),
        "the user who mistyped raises nothing: {all:?}"
    );
    // The latency from ingest to committed alert is measured for every alert recorded.
    let metrics = agent()
        .get(&format!("{}/metrics", server.url))
        .header("Authorization", &format!("Bearer {admin}"))
        .call()
        .expect("metrics answered")
        .body_mut()
        .read_to_string()
        .expect("text");
    let recorded = metrics
        .lines()
        .find_map(|line| line.strip_prefix("palisade_detect_alert_latency_seconds_count "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(0);
    assert!(recorded >= 2, "{metrics}");
    assert!(metrics.contains("palisade_detect_examined_total"), "{metrics}");
    let listed =
        palisade(&["--data-dir", data.to_str().expect("utf-8"), "alerts", "--format", "json"]);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    assert!(text(&listed.stdout).contains(CORRELATION));
}

fn start(data: &Path) -> Server {
    Server::start(data, None)
}

#[test]
fn a_restart_in_the_middle_of_the_window_still_raises_the_alert_and_disabled_rules_stay_quiet() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    let admin = token(&data, "admin");
    let server = start(&data);
    assert_eq!(ingest(&server.url, &admin, &failures("203.0.113.50", 0..6)), Ok(200));
    terminate(server);
    assert!(data.join("detect/state.json").exists(), "the open window was saved");
    let server = start(&data);
    let mut body = failures("203.0.113.50", 6..12);
    body.push_str(&line(40, "Accepted password for root from 203.0.113.50 port 50000 ssh2"));
    assert_eq!(ingest(&server.url, &admin, &body), Ok(200));
    let alert =
        wait_for(&server, &admin, CORRELATION, "203.0.113.50").expect("alert after the restart");
    // Ten failures (six of them from before the restart) and the success.
    let evidence = alert["evidence"].as_array().expect("evidence");
    assert_eq!(evidence.len(), 11, "{alert}");
    assert!(
        evidence.iter().any(|id| id.as_u64() == Some(1)),
        "evidence from before the restart: {alert}"
    );

    // Switched off over the API: the same attack from another address raises no correlation.
    let id = "7d0c5f2e-4b9a-4d61-9c1e-2a7f3e8b5c01";
    agent()
        .post(&format!("{}/api/v1/rules/{id}/disable", server.url))
        .header("Authorization", &format!("Bearer {admin}"))
        .send_empty()
        .expect("disable answered");
    let mut body = failures("203.0.113.77", 0..12);
    body.push_str(&line(40, "Accepted password for root from 203.0.113.77 port 50000 ssh2"));
    assert_eq!(ingest(&server.url, &admin, &body), Ok(200));
    // The behaviour detector still fires for that address: once it has, detection has seen
    // the batch, and the disabled correlation must be absent.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = alerts(&server, &admin);
        let seen = |rule: &str| {
            all.iter().any(|alert| {
                alert["rule_id"] == rule
                    && alert["entities"]["ips"]
                        .as_array()
                        .is_some_and(|ips| ips.iter().any(|v| v == "203.0.113.77"))
            })
        };
        if seen("palisade.brute_force") {
            assert!(!seen(id), "{all:?}");
            break;
        }
        assert!(Instant::now() < deadline, "no brute-force alert: {all:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The analyst role may read alerts but not change rules.
    let analyst = token(&data, "analyst");
    let refused = agent()
        .post(&format!("{}/api/v1/rules/{id}/enable", server.url))
        .header("Authorization", &format!("Bearer {analyst}"))
        .send_empty();
    assert!(matches!(refused, Err(ureq::Error::StatusCode(403))), "{refused:?}");
}

#[test]
fn exceptions_hide_what_they_cover_and_keep_it_recorded() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    let data_arg = data.to_str().expect("utf-8");
    // Without an owner or a reason there is no exception (usage error, exit 2).
    let refused = palisade(&[
        "--data-dir",
        data_arg,
        "exceptions",
        "add",
        "--rule",
        "*",
        "--ip",
        "198.51.100.0/24",
        "--owner",
        "soc",
        "--reason",
        "",
    ]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let added = palisade(&[
        "--data-dir",
        data_arg,
        "--format",
        "json",
        "exceptions",
        "add",
        "--rule",
        "*",
        "--ip",
        "198.51.100.0/24",
        "--owner",
        "soc-lead",
        "--reason",
        "red-team exercise",
        "--expires",
        "1d",
    ]);
    assert_eq!(added.status.code(), Some(0), "{}", text(&added.stderr));
    let exception: serde_json::Value = serde_json::from_slice(&added.stdout).expect("json");
    let admin = token(&data, "admin");
    let server = Server::start(&data, None);
    // The red team (covered) and a real attacker (not covered) guess passwords.
    let mut body = failures("198.51.100.9", 0..12);
    body.push_str(&line(40, "Accepted password for root from 198.51.100.9 port 50000 ssh2"));
    body.push_str(&failures("203.0.113.200", 30..42));
    body.push_str(&line(100, "Accepted password for root from 203.0.113.200 port 50001 ssh2"));
    assert_eq!(ingest(&server.url, &admin, &body), Ok(200));
    wait_for(&server, &admin, CORRELATION, "203.0.113.200").expect("the real attack is listed");
    let listed = alerts(&server, &admin);
    let about = |alerts: &[serde_json::Value], ip: &str| {
        alerts
            .iter()
            .filter(|alert| {
                alert["entities"]["ips"].as_array().is_some_and(|ips| ips.iter().any(|v| v == ip))
            })
            .count()
    };
    assert_eq!(about(&listed, "198.51.100.9"), 0, "{listed:?}");
    let everything: Vec<serde_json::Value> = agent()
        .get(&format!("{}/api/v1/alerts?all=true", server.url))
        .header("Authorization", &format!("Bearer {admin}"))
        .call()
        .expect("alerts answered")
        .body_mut()
        .read_json()
        .expect("json");
    let covered: Vec<&serde_json::Value> =
        everything.iter().filter(|alert| alert["exception_id"] == exception["id"]).collect();
    assert!(!covered.is_empty(), "covered alerts are recorded: {everything:?}");
    assert!(covered.iter().all(|alert| about(std::slice::from_ref(alert), "198.51.100.9") == 1));
    // Revoked over the API: the audit log has it, and it cannot be revoked twice.
    let id = exception["id"].as_i64().expect("id");
    let revoke = |expect: u16| {
        let result = agent()
            .delete(&format!("{}/api/v1/exceptions/{id}", server.url))
            .header("Authorization", &format!("Bearer {admin}"))
            .call();
        match result {
            Ok(response) => assert_eq!(response.status().as_u16(), expect),
            Err(ureq::Error::StatusCode(code)) => assert_eq!(code, expect),
            Err(error) => panic!("{error}"),
        }
    };
    revoke(200);
    revoke(404);
}

#[test]
fn replay_reports_what_a_rule_would_have_raised_over_stored_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8");
    let log = dir.path().join("auth.log");
    let mut body = failures_of("alice", "192.0.2.33", 0..2);
    body.push_str(&line(10, "Accepted password for alice from 192.0.2.33 port 41000 ssh2"));
    body.push_str(&failures("198.51.100.4", 10..22));
    body.push_str(&line(60, "Accepted password for root from 198.51.100.4 port 50000 ssh2"));
    std::fs::write(&log, body).expect("write");
    let ingested =
        palisade(&["--data-dir", data_arg, "ingest", "-q", log.to_str().expect("utf-8")]);
    assert_eq!(ingested.status.code(), Some(0), "{}", text(&ingested.stderr));

    let replay = |rule: &str| {
        palisade(&[
            "--data-dir",
            data_arg,
            "--format",
            "json",
            "rules",
            "replay",
            rule,
            "--since",
            "2026-11-30T00:00:00Z",
            "--until",
            "2026-12-01T00:00:00Z",
        ])
    };
    let output = replay("7d0c5f2e-4b9a-4d61-9c1e-2a7f3e8b5c01");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["kind"], "correlation");
    assert_eq!(report["events"], 16);
    let alerts = report["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 1, "{report}");
    assert_eq!(alerts[0]["group"], "source.ip=198.51.100.4");
    assert_eq!(alerts[0]["evidence"].as_array().expect("evidence").len(), 11);

    // The inner event_count by its name: it raises its own alert when replayed alone.
    let output = replay("palisade_ssh_password_guessing");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["alerts"].as_array().expect("alerts").len(), 1, "{report}");

    let output = replay("palisade.brute_force");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let alerts = report["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 1, "{report}");
    assert_eq!(alerts[0]["rule_id"], "palisade.brute_force");

    // A range without the attack raises nothing; an unknown rule is a usage error.
    let output = palisade(&[
        "--data-dir",
        data_arg,
        "--format",
        "json",
        "rules",
        "replay",
        "palisade.brute_force",
        "--since",
        "2026-11-01T00:00:00Z",
        "--until",
        "2026-11-30T10:00:30Z",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["alerts"].as_array().expect("alerts").len(), 0, "{report}");
    let unknown = replay("no such rule");
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown.stderr));
    assert!(text(&unknown.stderr).contains("palisade rules list"), "{}", text(&unknown.stderr));
}

/// One syslog stream is read in many batches, two of which are parsed at once; the second can
/// be ready first. The behaviour detectors must still see the stream in the order it was sent:
/// each attacker's success comes thousands of lines (other batches) after its failures, and
/// read in the wrong order it would look like a login followed by failures, which is no
/// brute force. So every attacker raises exactly one alert, or the order was lost.
#[test]
fn one_syslog_stream_reaches_the_detectors_in_the_order_sent() {
    use std::io::Write as _;
    const ATTACKERS: usize = 80;
    const SPACING: usize = 200;
    const SUCCESS_AFTER: usize = 3150;
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    let admin = token(&data, "admin");
    let server = Server::start(&data, None);

    let total = (ATTACKERS - 1) * SPACING + SUCCESS_AFTER + 1;
    // Each attacker has its own address, user and host, so no alert stands for another's;
    // each attempt its own sshd process (failures of one process within seconds count once).
    let mut slots: Vec<Option<String>> = vec![None; total];
    for attacker in 0..ATTACKERS {
        let ip = format!("198.51.100.{}", 1 + attacker);
        let (host, user) = (format!("srv{attacker}"), format!("admin{attacker}"));
        for failure in 0..12 {
            let port = 40_000 + failure;
            slots[attacker * SPACING + failure * 10] = Some(format!(
                "{host} sshd {port} - - Failed password for {user} from {ip} port {port} ssh2"
            ));
        }
        slots[attacker * SPACING + SUCCESS_AFTER] = Some(format!(
            "{host} sshd 50000 - - Accepted password for {user} from {ip} port 50000 ssh2"
        ));
    }
    let mut stream = String::new();
    for (position, slot) in slots.into_iter().enumerate() {
        // Twenty lines a second: an attacker's failures span seconds, its success comes
        // under three minutes later, within the detector's defaults.
        let time =
            jiff::Timestamp::from_second(1_764_547_200 + (position / 20) as i64).expect("time");
        match slot {
            Some(message) => stream.push_str(&format!("<38>1 {time} {message}\n")),
            None => stream.push_str(&format!(
                "<134>1 {time} app-7 billing 42 - - request {position:016x} completed in 12 ms\n"
            )),
        }
    }
    let mut socket = std::net::TcpStream::connect(&server.syslog_tcp).expect("connect");
    socket.write_all(stream.as_bytes()).expect("send");
    socket.shutdown(std::net::Shutdown::Write).expect("shutdown");

    // The addresses that one rule or detector raised alerts for.
    let alerted = |all: &[serde_json::Value], rule: &dyn Fn(&serde_json::Value) -> bool| {
        let mut ips: Vec<String> = all
            .iter()
            .filter(|alert| rule(alert))
            .flat_map(|alert| alert["entities"]["ips"].as_array().cloned().unwrap_or_default())
            .filter_map(|ip| ip.as_str().map(str::to_owned))
            .collect();
        ips.sort();
        ips.dedup();
        ips
    };
    let brute_force = |alert: &serde_json::Value| alert["rule_id"] == "palisade.brute_force";
    let correlation = |alert: &serde_json::Value| alert["rule_title"] == CORRELATION;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut stored = 0;
    while Instant::now() < deadline {
        let rows = server.query(&admin, "SELECT count(*) AS n FROM events");
        stored = rows["rows"][0]["n"].as_u64().unwrap_or(0);
        let all = alerts(&server, &admin);
        if stored == total as u64
            && alerted(&all, &brute_force).len() >= ATTACKERS
            && alerted(&all, &correlation).len() >= ATTACKERS
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(stored, total as u64, "every line is stored");
    // Alerts are written a moment after the events: give stragglers a second.
    std::thread::sleep(Duration::from_secs(1));
    let mut expected: Vec<String> =
        (0..ATTACKERS).map(|attacker| format!("198.51.100.{}", 1 + attacker)).collect();
    expected.sort();
    let all = alerts(&server, &admin);
    assert_eq!(alerted(&all, &brute_force), expected, "the detector catches every attacker");
    assert_eq!(alerted(&all, &correlation), expected, "so does the Sigma correlation");
}
