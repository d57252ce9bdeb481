//! Correlation tests: every example of the specification, plus window boundaries, out-of-order
//! and late events, missing group-by fields, upper-bounded conditions decided on close,
//! chains, aliases and a restart in the middle of a window. Time is injected: events carry
//! their own `@timestamp`, and the processing clock is an argument.

use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};
use palisade_event::{Event, Value};
use palisade_sigma::{Loader, Mapping, RuleSet};

use super::*;

/// Rule set + engine, fed with events through the real Sigma matcher.
struct Harness {
    rules: RuleSet,
    engine: CorrelationEngine,
    scratch: palisade_sigma::Scratch,
    next_id: EventId,
    alerts: Vec<Alert>,
}

fn t(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + seconds).expect("valid time")
}

fn harness(yaml: &str) -> Harness {
    harness_with(yaml, EngineConfig::default())
}

fn harness_with(yaml: &str, config: EngineConfig) -> Harness {
    let rules =
        Loader::new(Mapping::new(Vec::new())).load(&[(PathBuf::from("test.yml"), yaml.to_owned())]);
    assert_eq!(rules.errors().count(), 0, "{:?}", rules.diagnostics());
    let set = CorrelationSet::compile(&rules);
    assert!(set.problems().is_empty(), "{:?}", set.problems());
    let scratch = rules.scratch();
    Harness {
        rules,
        engine: CorrelationEngine::new(set, config),
        scratch,
        next_id: 1,
        alerts: Vec::new(),
    }
}

impl Harness {
    /// Feeds one event at event time `at` (processing clock = event time unless given).
    fn feed(&mut self, at: i64, fields: &[(&str, &str)]) {
        self.feed_at(at, at, fields);
    }

    fn feed_at(&mut self, at: i64, now: i64, fields: &[(&str, &str)]) {
        let event = Event::from_fields(
            fields
                .iter()
                .map(|(name, value)| (palisade_event::Str::copy(name), Value::from(*value)))
                .collect(),
        );
        let id = self.next_id;
        self.next_id += 1;
        let hits: Vec<u32> = self.rules.matches(&event, &mut self.scratch).to_vec();
        for rule in hits {
            let alerts = self.engine.observe(rule, &event, id, t(at), t(now));
            self.alerts.extend(alerts);
        }
    }

    fn advance(&mut self, now: i64) {
        let alerts = self.engine.advance(t(now));
        self.alerts.extend(alerts);
    }

    fn titles(&self) -> Vec<&str> {
        self.alerts.iter().map(|alert| alert.rule_title.as_str()).collect()
    }
}

const LOGINS: &str = r"
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
level: high
tags:
    - attack.t1110
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
";

#[test]
fn spec_example_failed_logins_then_success_raises_only_the_outer_rule() {
    let mut h = harness(LOGINS);
    // bob: nine failures then a success: below the threshold.
    for i in 0..9 {
        h.feed(i, &[("EventID", "4625"), ("User", "bob")]);
    }
    h.feed(20, &[("EventID", "4624"), ("User", "bob")]);
    // carol succeeds first, then fails ten times: wrong order.
    h.feed(30, &[("EventID", "4624"), ("User", "carol")]);
    for i in 0..10 {
        h.feed(31 + i, &[("EventID", "4625"), ("User", "carol")]);
    }
    assert!(h.alerts.is_empty(), "{:?}", h.titles());
    // alice: ten failures, then a success from the same user: the attack.
    for i in 0..10 {
        h.feed(100 + i * 5, &[("EventID", "4625"), ("User", "alice")]);
    }
    assert!(h.alerts.is_empty(), "the inner event_count is silent: {:?}", h.titles());
    h.feed(200, &[("EventID", "4624"), ("User", "alice")]);
    assert_eq!(h.titles(), ["Correlation - Multiple Failed Logins Followed by Successful Login"]);
    let alert = &h.alerts[0];
    assert_eq!(alert.kind, AlertKind::Correlation);
    assert_eq!(alert.severity, Severity::High);
    assert_eq!(alert.group, "User=alice");
    assert_eq!(alert.attack, ["T1110"]);
    // Evidence: the ten failures (ids 22..=31) and the success (32).
    let mut evidence = alert.evidence.clone();
    evidence.sort_unstable();
    assert_eq!(evidence, (22..=32).collect::<Vec<_>>());
    assert_eq!(alert.first_seen, t(100));
    assert_eq!(alert.last_seen, t(200));
    // A second success raises nothing more: the failures were consumed.
    h.feed(210, &[("EventID", "4624"), ("User", "alice")]);
    assert_eq!(h.alerts.len(), 1);
}

#[test]
fn success_more_than_the_timespan_after_the_failures_is_not_correlated() {
    let mut h = harness(LOGINS);
    for i in 0..10 {
        h.feed(i, &[("EventID", "4625"), ("User", "alice")]);
    }
    h.feed(9 + 601, &[("EventID", "4624"), ("User", "alice")]);
    assert!(h.alerts.is_empty(), "{:?}", h.titles());
}

fn single(title: &str, name: &str, event_id: &str) -> String {
    format!(
        "title: {title}\nname: {name}\nlogsource:\n    product: windows\ndetection:\n    selection:\n        EventID: {event_id}\n    condition: selection\n"
    )
}

#[test]
fn event_count_window_boundaries_are_inclusive_and_sliding() {
    let yaml = format!(
        "title: Many failed logins\nid: 0e95725d-7320-415d-80f7-004da920fc11\ncorrelation:\n    type: event_count\n    rules:\n        - failed\n    group-by:\n        - ComputerName\n    timespan: 1h\n    condition:\n        gte: 100\n---\n{}",
        single("failed", "failed", "4625")
    );
    let mut h = harness(&yaml);
    // 99 events in the first hour on host A: nothing.
    for i in 0..99 {
        h.feed(i * 36, &[("EventID", "4625"), ("ComputerName", "A")]);
    }
    assert!(h.alerts.is_empty());
    // The 100th at exactly start + 1h: the window [0, 3600] holds all 100 (inclusive ends).
    h.feed(3600, &[("EventID", "4625"), ("ComputerName", "A")]);
    assert_eq!(h.alerts.len(), 1, "{:?}", h.alerts);
    assert!(h.alerts[0].summary.contains("100 events >= 100 within 1h"), "{}", h.alerts[0].summary);
    assert_eq!(h.alerts[0].evidence.len(), 100);
    // Host B: 99 events, then the 100th one second too late for the first of them.
    for i in 0..99 {
        h.feed(10_000 + i, &[("EventID", "4625"), ("ComputerName", "B")]);
    }
    h.feed(10_000 + 3601, &[("EventID", "4625"), ("ComputerName", "B")]);
    assert_eq!(h.alerts.len(), 1);
    // ...but the sliding window keeps counting: one more inside [1, 3601] makes 100.
    h.feed(10_000 + 3601, &[("EventID", "4625"), ("ComputerName", "B")]);
    assert_eq!(h.alerts.len(), 2);
    assert_eq!(h.alerts[1].group, "ComputerName=B");
}

#[test]
fn value_count_counts_distinct_values_and_skips_missing_group_fields() {
    let yaml = format!(
        "title: Failed login\nid: 0e95725d-7320-415d-80f7-004da920fc12\ncorrelation:\n    type: value_count\n    rules:\n        - failed\n    group-by:\n        - ComputerName\n        - WorkstationName\n    timespan: 1d\n    condition:\n        field: User\n        gte: 100\n---\n{}",
        single("failed", "failed", "4625")
    );
    let mut h = harness(&yaml);
    for i in 0..99 {
        let user = format!("user{i}");
        // Every user twice: repeats are not new values.
        for _ in 0..2 {
            h.feed(
                i,
                &[
                    ("EventID", "4625"),
                    ("ComputerName", "DC1"),
                    ("WorkstationName", "WS1"),
                    ("User", &user),
                ],
            );
        }
        // The same users without WorkstationName: not counted at all.
        h.feed(i, &[("EventID", "4625"), ("ComputerName", "DC1"), ("User", &format!("other{i}"))]);
    }
    assert!(h.alerts.is_empty());
    assert_eq!(h.engine.stats().missing_group, 99);
    h.feed(
        500,
        &[
            ("EventID", "4625"),
            ("ComputerName", "DC1"),
            ("WorkstationName", "WS1"),
            ("User", "user99"),
        ],
    );
    assert_eq!(h.alerts.len(), 1);
    assert_eq!(h.alerts[0].group, "ComputerName=DC1, WorkstationName=WS1");
    assert!(h.alerts[0].summary.contains("100 distinct User"), "{}", h.alerts[0].summary);
}

const RECON: &str = "title: Recon\nid: 11111111-0000-0000-0000-000000000001\ncorrelation:\n    type: temporal\n    rules:\n        - recon_cmd_a\n        - recon_cmd_b\n        - recon_cmd_c\n    group-by:\n        - ComputerName\n        - User\n    timespan: 5m\n";

fn recon_rules(ordered: bool) -> String {
    let head = if ordered {
        RECON.replace("type: temporal", "type: temporal_ordered")
    } else {
        RECON.to_owned()
    };
    format!(
        "{head}---\n{}---\n{}---\n{}",
        single("a", "recon_cmd_a", "1"),
        single("b", "recon_cmd_b", "2"),
        single("c", "recon_cmd_c", "3")
    )
}

#[test]
fn temporal_fires_in_any_order_within_the_timespan_only() {
    let mut h = harness(&recon_rules(false));
    let on = |id: &'static str, user: &'static str| {
        [("EventID", id), ("ComputerName", "H1"), ("User", user)]
    };
    // u1: a, c, b within 4 minutes: fires.
    h.feed(0, &on("1", "u1"));
    h.feed(100, &on("3", "u1"));
    h.feed(240, &on("2", "u1"));
    // u2: a, b, then c six minutes after a: no window holds all three.
    h.feed(1000, &on("1", "u2"));
    h.feed(1100, &on("2", "u2"));
    h.feed(1361, &on("3", "u2"));
    // u3: the same rule three times: one event type only.
    for i in 0..3 {
        h.feed(2000 + i, &on("1", "u3"));
    }
    assert_eq!(h.alerts.len(), 1, "{:?}", h.alerts);
    assert_eq!(h.alerts[0].group, "ComputerName=H1, User=u1");
    assert_eq!(h.alerts[0].evidence.len(), 3);
}

#[test]
fn temporal_ordered_needs_the_order_given() {
    let mut h = harness(&recon_rules(true));
    let on = |id: &'static str, user: &'static str| {
        [("EventID", id), ("ComputerName", "H1"), ("User", user)]
    };
    h.feed(0, &on("1", "u1"));
    h.feed(10, &on("3", "u1"));
    h.feed(20, &on("2", "u1"));
    assert!(h.alerts.is_empty(), "a, c, b is out of order");
    h.feed(30, &on("3", "u1"));
    assert_eq!(h.alerts.len(), 1, "a, b, then c completes the order");
    assert_eq!(h.alerts[0].first_seen, t(0));
    assert_eq!(h.alerts[0].last_seen, t(30));
}

#[test]
fn out_of_order_events_within_the_lateness_still_correlate() {
    let mut h = harness(&recon_rules(true));
    let on = |id: &'static str| [("EventID", id), ("ComputerName", "H1"), ("User", "u1")];
    // c arrives first, then b, then a: event times are in order, arrival is not.
    h.feed(30, &on("3"));
    h.feed(20, &on("2"));
    assert!(h.alerts.is_empty());
    h.feed(10, &on("1"));
    assert_eq!(h.alerts.len(), 1);
}

#[test]
fn matches_later_than_the_allowed_lateness_are_not_counted() {
    let config =
        EngineConfig { allowed_lateness: SignedDuration::from_secs(30), ..EngineConfig::default() };
    let mut h = harness_with(&recon_rules(false), config);
    let on = |id: &'static str| [("EventID", id), ("ComputerName", "H1"), ("User", "u1")];
    h.feed(100, &on("1"));
    h.feed(110, &on("2"));
    // c at t=60 arrives after the watermark reached 110: 50 s late, more than 30 s allowed.
    h.feed(60, &on("3"));
    assert!(h.alerts.is_empty());
    assert_eq!(h.engine.stats().late, 1);
    // Within the lateness (20 s behind) it counts.
    h.feed(90, &on("3"));
    assert_eq!(h.alerts.len(), 1);
}

#[test]
fn value_sum_and_value_avg() {
    let website = single("website", "website_access", "5156");
    let sum = format!(
        "title: Possible Exfiltration to Website\nid: 22222222-0000-0000-0000-000000000001\ncorrelation:\n    type: value_sum\n    rules:\n        - website_access\n    group-by:\n        - SourceIP\n        - User\n    timespan: 1h\n    condition:\n        field: bytes_sent\n        gt: 1000000\n---\n{website}"
    );
    let mut h = harness(&sum);
    for i in 0..10 {
        h.feed(
            i * 60,
            &[
                ("EventID", "5156"),
                ("SourceIP", "10.0.0.5"),
                ("User", "eve"),
                ("bytes_sent", "100000"),
            ],
        );
    }
    assert!(h.alerts.is_empty(), "exactly 1,000,000 is not greater");
    h.feed(
        700,
        &[("EventID", "5156"), ("SourceIP", "10.0.0.5"), ("User", "eve"), ("bytes_sent", "1")],
    );
    assert_eq!(h.alerts.len(), 1);
    assert!(h.alerts[0].summary.contains("sum of bytes_sent 1000001"), "{}", h.alerts[0].summary);

    let avg = sum
        .replace("type: value_sum", "type: value_avg")
        .replace("field: bytes_sent\n        gt: 1000000", "field: BytesOut\n        gt: 500");
    let mut h = harness(&avg);
    for (i, bytes) in ["400", "500", "600"].iter().enumerate() {
        h.feed(
            i as i64,
            &[("EventID", "5156"), ("SourceIP", "10.0.0.6"), ("User", "u"), ("BytesOut", bytes)],
        );
    }
    assert!(h.alerts.is_empty(), "average 500 is not greater than 500");
    h.feed(
        5,
        &[
            ("EventID", "5156"),
            ("SourceIP", "10.0.0.6"),
            ("User", "u"),
            ("BytesOut", "not a number"),
        ],
    );
    assert!(h.alerts.is_empty(), "text is not a number and is ignored");
    h.feed(
        6,
        &[("EventID", "5156"), ("SourceIP", "10.0.0.6"), ("User", "u"), ("BytesOut", "1000")],
    );
    assert_eq!(h.alerts.len(), 1);
}

#[test]
fn value_percentile_flags_rare_values_when_the_window_closes() {
    let yaml = format!(
        "title: Rare process\nid: 33333333-0000-0000-0000-000000000001\ncorrelation:\n    type: value_percentile\n    rules:\n        - process_creation\n    group-by:\n        - ComputerName\n    timespan: 24h\n    condition:\n        field: image\n        lte: 1\n---\n{}",
        single("proc", "process_creation", "1")
    );
    let mut h = harness(&yaml);
    for i in 0..150 {
        let image = if i % 2 == 0 { "chrome.exe" } else { "explorer.exe" };
        h.feed(i * 10, &[("EventID", "1"), ("ComputerName", "WS1"), ("image", image)]);
    }
    h.feed(2000, &[("EventID", "1"), ("ComputerName", "WS1"), ("image", "mimikatz.exe")]);
    assert!(h.alerts.is_empty(), "decided only when the 24 h window closes");
    h.advance(3600);
    assert!(h.alerts.is_empty(), "not closed after one hour");
    // The window [0, 24h] closes once 24 h + lateness have passed on the processing clock.
    h.advance(86_400 + 61 + 2000);
    assert_eq!(h.alerts.len(), 1, "{:?}", h.alerts);
    assert!(h.alerts[0].summary.contains("mimikatz.exe"), "{}", h.alerts[0].summary);
    assert!(!h.alerts[0].summary.contains("chrome.exe"));
    assert_eq!(h.alerts[0].evidence, [151]);
}

#[test]
fn upper_bounded_conditions_wait_for_the_window_to_close() {
    let yaml = format!(
        "title: Few heartbeats\nid: 44444444-0000-0000-0000-000000000001\ncorrelation:\n    type: event_count\n    rules:\n        - heartbeat\n    group-by:\n        - host\n    timespan: 10m\n    condition:\n        lt: 3\n---\n{}",
        single("heartbeat", "heartbeat", "7")
    );
    let mut h = harness(&yaml);
    h.feed(0, &[("EventID", "7"), ("host", "quiet")]);
    h.feed(60, &[("EventID", "7"), ("host", "quiet")]);
    for i in 0..5 {
        h.feed(i * 60, &[("EventID", "7"), ("host", "busy")]);
    }
    h.advance(300);
    assert!(h.alerts.is_empty(), "the windows are still open");
    // An event 11 minutes + lateness later moves the watermark past both windows.
    h.feed(600 + 61 + 1, &[("EventID", "7"), ("host", "other")]);
    h.advance(600 + 62);
    assert_eq!(h.alerts.len(), 1, "{:?}", h.alerts);
    assert_eq!(h.alerts[0].group, "host=quiet");
}

#[test]
fn aliases_join_different_fields_of_different_rules() {
    let yaml = "title: Error then connection\nid: 55555555-0000-0000-0000-000000000001\ncorrelation:\n    type: temporal\n    rules:\n        - internal_error\n        - new_network_connection\n    group-by:\n        - internal_ip\n        - remote_ip\n    timespan: 10s\n    aliases:\n        internal_ip:\n            internal_error: destination.ip\n            new_network_connection: source.ip\n        remote_ip:\n            internal_error: source.ip\n            new_network_connection: destination.ip\n---\nname: internal_error\ntitle: Internal error\nlogsource:\n    category: webserver\ndetection:\n    selection:\n        http.response.status_code: 500\n    condition: selection\n---\nname: new_network_connection\ntitle: New connection\nlogsource:\n    category: network_connection\ndetection:\n    selection:\n        event.category: network\n        event.type: connection\n        event.outcome: success\n    condition: selection\n";
    let mut h = harness(yaml);
    h.feed(
        0,
        &[
            ("http.response.status_code", "500"),
            ("source.ip", "203.0.113.9"),
            ("destination.ip", "10.1.1.1"),
        ],
    );
    // A connection between other addresses: no.
    h.feed(
        2,
        &[
            ("event.category", "network"),
            ("event.type", "connection"),
            ("event.outcome", "success"),
            ("source.ip", "10.1.1.2"),
            ("destination.ip", "203.0.113.9"),
        ],
    );
    assert!(h.alerts.is_empty());
    // The internal host calls the remote one back: yes.
    h.feed(
        5,
        &[
            ("event.category", "network"),
            ("event.type", "connection"),
            ("event.outcome", "success"),
            ("source.ip", "10.1.1.1"),
            ("destination.ip", "203.0.113.9"),
        ],
    );
    assert_eq!(h.alerts.len(), 1);
    assert_eq!(h.alerts[0].group, "internal_ip=10.1.1.1, remote_ip=203.0.113.9");
    assert!(h.alerts[0].entities.ips.contains("203.0.113.9"));
}

#[test]
fn generate_true_lets_the_referred_rules_alert_too() {
    let yaml = format!(
        "title: Many\nid: 66666666-0000-0000-0000-000000000001\ngenerate: true\ncorrelation:\n    type: event_count\n    rules:\n        - one\n    group-by:\n        - host\n    timespan: 1m\n    condition:\n        gte: 2\n---\n{}---\n{}",
        single("one", "one", "1"),
        single("two", "two", "2")
    );
    let h = harness(&yaml);
    let set = h.engine.set();
    let one =
        h.rules.rules().iter().position(|rule| rule.meta.title == "one").expect("rule one") as u32;
    assert!(!set.is_silent(one));
    let silent = harness(&yaml.replace("generate: true\n", ""));
    assert!(silent.engine.set().is_silent(one));
}

#[test]
fn a_restart_in_the_middle_of_a_window_still_raises_the_alert() {
    let mut h = harness(LOGINS);
    for i in 0..6 {
        h.feed(i, &[("EventID", "4625"), ("User", "alice")]);
    }
    let saved = serde_json::to_string(&h.engine.save()).expect("serialises");
    // A new process: the rules are loaded again and the state read back from disk.
    let mut h2 = harness(LOGINS);
    h2.next_id = 100;
    h2.engine.restore(serde_json::from_str(&saved).expect("json")).expect("restores");
    assert_eq!(h2.engine.open_groups(), 1);
    for i in 6..10 {
        h2.feed(i, &[("EventID", "4625"), ("User", "alice")]);
    }
    h2.feed(20, &[("EventID", "4624"), ("User", "alice")]);
    assert_eq!(h2.alerts.len(), 1, "{:?}", h2.alerts);
    assert!(h2.alerts[0].evidence.contains(&1), "evidence from before the restart is kept");
    // Without the saved state, the same events after a restart do not reach ten failures.
    let mut h3 = harness(LOGINS);
    for i in 6..10 {
        h3.feed(i, &[("EventID", "4625"), ("User", "alice")]);
    }
    h3.feed(20, &[("EventID", "4624"), ("User", "alice")]);
    assert!(h3.alerts.is_empty());
}

#[test]
fn group_state_is_bounded() {
    let config =
        EngineConfig { max_groups: 100, max_matches_per_group: 5, ..EngineConfig::default() };
    let mut h = harness_with(LOGINS, config);
    for i in 0..1000 {
        h.feed(i, &[("EventID", "4625"), ("User", &format!("user{i}"))]);
    }
    assert!(h.engine.open_groups() <= 100);
    assert!(h.engine.stats().evicted >= 900);
    for i in 0..20 {
        h.feed(2000 + i, &[("EventID", "4625"), ("User", "same")]);
    }
    assert!(h.engine.groups.values().all(|group| group.hits.len() <= 5));
}

#[test]
fn bad_correlations_are_reported_and_left_out() {
    let cases = [
        ("type: sequence", "unknown type `sequence`"),
        ("timespan: 5 minutes", "timespan"),
        ("condition:\n        between: 3", "unknown condition operator `between`"),
        ("rules:\n        - nowhere", "refers to unknown rules: nowhere"),
    ];
    for (change, expected) in cases {
        let base = "title: Bad\ncorrelation:\n    type: event_count\n    rules:\n        - one\n    group-by:\n        - host\n    timespan: 5m\n    condition:\n        gte: 2\n";
        let key = change.split(':').next().expect("key");
        let mut lines: Vec<String> = Vec::new();
        let mut skipping = false;
        for line in base.lines() {
            if line.trim_start().starts_with(&format!("{key}:")) {
                lines.push(format!("    {change}"));
                skipping = true;
                continue;
            }
            if skipping && line.starts_with("        ") {
                continue;
            }
            skipping = false;
            lines.push(line.to_owned());
        }
        let yaml = format!("{}\n---\n{}", lines.join("\n"), single("one", "one", "1"));
        let rules =
            Loader::new(Mapping::new(Vec::new())).load(&[(PathBuf::from("bad.yml"), yaml.clone())]);
        let set = CorrelationSet::compile(&rules);
        assert!(set.correlations().is_empty(), "{yaml}");
        assert!(
            set.problems().iter().any(|p| p.message.contains(expected)),
            "{expected}: {:?}",
            set.problems()
        );
    }
    assert!(parse_timespan("0s").is_err());
    assert!(parse_timespan("2w").is_err());
    assert_eq!(parse_timespan("90m"), Ok(SignedDuration::from_secs(5400)));
}
